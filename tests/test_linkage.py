"""Identity linkage on hand-made tricky cases, on every engine.

GIVEN two different men named 王伟 in the same village, born the same day, and 李芳 known
under a valid ID, a typo'd ID, a legacy 15-digit ID and no ID at all,
WHEN the pool is built,
THEN the 王伟s stay two people, every 李芳 record is one person, and a record that could be
either 王伟 is left unlinked rather than guessed.
"""

from __future__ import annotations

import duckdb
import pytest

from cunxin.datapool.build import build
from rawkit import RawKit, make_id

WANG_1 = make_id("320723", "19800101", 1)
WANG_2 = make_id("320723", "19800101", 2)
LI = make_id("320723", "19750505", 3, male=False)
LI_15 = LI[:6] + LI[8:17]
LI_TYPO = LI[:14] + str((int(LI[14]) + 1) % 10) + LI[15:]
VILLAGE = "320723100201"


def county(root):
    kit = RawKit(root)
    kit.write(
        "customer",
        [
            {"cust_no": "C1", "name": "王伟", "cert_type": "10", "id_number": WANG_1, "gender": "1",
             "birth_date": "19800101", "phone": "13800000001", "village_code": VILLAGE},
            {"cust_no": "C2", "name": "王伟", "cert_type": "10", "id_number": WANG_2, "gender": "1",
             "birth_date": "1980-01-01", "phone": "13800000002", "village_code": VILLAGE},
            {"cust_no": "C3", "name": "李芳", "cert_type": "10", "id_number": LI, "gender": "2",
             "birth_date": "1975年5月5日", "phone": "+86 139 0000 0003", "village_code": VILLAGE},
            {"cust_no": "C4", "name": "李芳", "cert_type": "10", "id_number": LI_TYPO, "gender": "2",
             "birth_date": "19750505", "phone": "13900000003", "village_code": VILLAGE},
        ],
    )  # fmt: skip
    kit.write(
        "deposit",
        [
            {
                "acct_no": "D1",
                "cust_no": "C1",
                "id_number": WANG_1,
                "name": "王伟",
                "balance": "100",
            },
            {"acct_no": "D2", "cust_no": "C2", "id_number": "", "name": "王伟", "balance": "100"},
        ],
    )
    kit.write(
        "sunshine2017",
        [{"record_id": "1", "township": "伊山镇", "village": "东湖村", "name": "李芳",
          "id_number": LI_15, "granted_amount": "3", "granted_date": "2017.05.12"}],
    )  # fmt: skip
    kit.write(
        "enterprise",
        [
            # no ID: name + phone + village (with township) identify 李芳
            {"credit_code": "E1", "company_name": "东湖紫菜合作社", "name": "李芳",
             "phone": "13900000003", "village": "伊山镇东湖村", "registered_capital": "50",
             "status": "存续"},
            # no ID, no phone: could be either 王伟 of 东湖村 — must stay unlinked
            {"credit_code": "E2", "company_name": "王伟小卖部", "name": "王伟", "phone": "",
             "village": "伊山镇东湖村", "registered_capital": "5", "status": "存续"},
            # no ID but the second 王伟's phone: him, not the first
            {"credit_code": "E3", "company_name": "王伟农机", "name": "王伟", "phone": "13800000002",
             "village": "伊山镇东湖村", "registered_capital": "20", "status": "存续"},
        ],
    )  # fmt: skip
    # a black-list entry whose typo'd ID is as close to one 王伟 as to the other
    kit.write(
        "blackgrey",
        [{"record_id": "B1", "name": "王伟", "id_number": WANG_1[:17] + "8", "reason": "赌博",
          "listed_date": "2024-01-01", "origin": "村委会", "list_type": "黑名单"}],
    )  # fmt: skip
    return kit.finish()


ENGINES = [pytest.param("duckdb"), pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="module", params=ENGINES)
def pool(request, tmp_path_factory):
    if request.param == "spark":
        request.getfixturevalue("spark_ok")
    root = tmp_path_factory.mktemp(f"linkage-{request.param}")
    build(county(root / "raw"), root / "pool", request.param)
    return root / "pool"


def links(pool) -> dict[tuple[str, str], tuple[str | None, str]]:
    rows = duckdb.sql(
        f"SELECT source, record_key, person_uid, match_kind FROM '{pool}/person_source_link.parquet'"
    ).fetchall()
    return {(s, k): (p, kind) for s, k, p, kind in rows}


def test_it_keeps_two_people_of_the_same_name_apart(pool):
    got = links(pool)
    assert got[("customer", "C1")][0] != got[("customer", "C2")][0]
    persons = duckdb.sql(
        f"SELECT count(*) FROM '{pool}/person.parquet' WHERE name = '王伟'"
    ).fetchall()
    assert persons == [(2,)]


def test_it_links_one_person_under_a_typo_a_15_digit_id_and_no_id(pool):
    got = links(pool)
    li = got[("customer", "C3")][0]
    assert li is not None
    assert got[("customer", "C4")] == (li, "probabilistic")  # typo'd ID
    assert got[("sunshine2017", "1")] == (li, "id")  # 15-digit ID, upgraded
    assert got[("enterprise", "E1")] == (li, "probabilistic")  # no ID


def test_it_links_by_customer_number_when_the_id_is_missing(pool):
    got = links(pool)
    assert got[("deposit", "D2")] == (got[("customer", "C2")][0], "cust_no")


def test_it_leaves_an_undecidable_homonym_unlinked(pool):
    person, kind = links(pool)[("enterprise", "E2")]
    assert person is None
    assert kind in ("ambiguous", "unmatched")


def test_it_tells_homonyms_apart_by_phone(pool):
    got = links(pool)
    assert got[("enterprise", "E3")] == (got[("customer", "C2")][0], "probabilistic")


def test_it_takes_birth_date_and_gender_from_the_id_number(pool):
    row = duckdb.sql(
        f"SELECT gender, CAST(birth_date AS VARCHAR) FROM '{pool}/person.parquet' WHERE id_number = '{LI}'"
    ).fetchall()
    assert row == [("F", "1975-05-05")]


def test_the_uid_secret_changes_uids_and_never_reaches_outputs(tmp_path, monkeypatch):
    raw = county(tmp_path / "raw")
    build(raw, tmp_path / "demo", "duckdb")
    secret = "s3cr3t'-with a quote"
    monkeypatch.setenv("CUNXIN_POOL_SECRET", secret)
    result = build(raw, tmp_path / "keyed", "duckdb")
    assert result["manifest"]["uid_secret"] == "environment"
    demo = duckdb.sql(
        f"SELECT person_uid FROM '{tmp_path}/demo/person.parquet' ORDER BY 1"
    ).fetchall()
    keyed = duckdb.sql(
        f"SELECT person_uid FROM '{tmp_path}/keyed/person.parquet' ORDER BY 1"
    ).fetchall()
    assert len(demo) == len(keyed) == 3
    assert not set(demo) & set(keyed)
    for path in (tmp_path / "keyed").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_an_unresolvable_list_entry_flags_every_plausible_person(pool):
    got = links(pool)
    assert got[("blackgrey", "B1")][0] is None
    flags = duckdb.sql(
        f"SELECT person_uid, flag FROM '{pool}/risk_flag.parquet' ORDER BY 1"
    ).fetchall()
    wangs = sorted([got[("customer", "C1")][0], got[("customer", "C2")][0]])
    assert flags == [(wangs[0], "possible_black"), (wangs[1], "possible_black")]
