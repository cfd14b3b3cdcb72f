"""Standardize on the engine (DuckDB): IDs, phones, dates and money as the pool outputs show them.

One small raw folder is built once for the module; each test reads the public outputs under
POOL/ (person, person_source_link, risk_flag, profile_*, rejects).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cunxin.datapool.build import build
from rawkit import RawKit, make_id

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

ID_A = make_id("320723", "19800101", 1)  # also sent as legacy 15 digits
ID15_A = ID_A[:6] + ID_A[8:17]
PHONE_IDS = {  # ID -> phone as sent in ebank; every one is 13900139001.. once cleaned
    make_id("320723", "19810202", 2): "+86 13900139001",
    make_id("320723", "19820303", 3): "86-13900139002",
    make_id("320723", "19830404", 4): "１３９００１３９００３",
    make_id("320723", "19840505", 5): "+86 139-0013-9004",
}
ID_DATES = make_id("320723", "19850606", 6, male=False)
DATES = {  # blackgrey record key -> listed_date as sent
    "BG1": "20210305",
    "BG2": "2021-03-05",
    "BG3": "2021/3/5",
    "BG4": "2021.3.5",
    "BG5": "2021年3月5日",
    "BG6": "２０２１／０３／０５",
}
ESTATE = {  # ID -> appraised value as sent, and in fen
    make_id("320723", "19700101", 7): ("35万", 35_000_000),
    make_id("320723", "19700202", 8): ("350000", 35_000_000),
    make_id("320723", "19700303", 9): ("35.5万元", 35_500_000),
}


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("std")
    kit = RawKit(root / "raw")
    kit.write("customer", [{"cust_no": "C1", "name": "张三", "cert_type": "10",
                            "id_number": ID15_A, "update_date": "20250101"}])  # fmt: skip
    kit.write("deposit", [
        {"acct_no": "D-OK", "cust_no": "C1", "id_number": ID15_A, "name": "张三",
         "balance": "12,345.60", "status": "正常"},
        {"acct_no": "D-BAD", "cust_no": "C1", "id_number": ID15_A, "name": "张三",
         "balance": "壹万", "status": "正常"},
    ])  # fmt: skip
    kit.write("loan", [
        {"contract_no": "L-OK", "id_number": ID_A, "name": "张三", "amount": "50000",
         "start_date": "20230228", "status": "正常"},
        {"contract_no": "L-BAD", "id_number": ID_A, "name": "张三", "amount": "50000",
         "start_date": "20230231", "status": "正常"},
    ])  # fmt: skip
    ebank = [{"user_id": "E-A", "id_number": ID_A.translate(FULLWIDTH), "name": "张三"}]
    ebank += [
        {"user_id": f"E{i}", "id_number": id18, "name": f"用户{i}", "phone": phone}
        for i, (id18, phone) in enumerate(PHONE_IDS.items())
    ]
    kit.write("ebank", ebank)
    kit.write("sunshine2017", [{"record_id": "S1", "name": "张三", "id_number": int(ID15_A),
                                "granted_amount": 2.5, "granted_date": dt.date(2017, 5, 12)}])  # fmt: skip
    kit.write("blackgrey", [
        {"record_id": key, "name": "李梅", "id_number": ID_DATES, "listed_date": d,
         "list_type": "黑名单", "reason": "逾期"} for key, d in DATES.items()
    ])  # fmt: skip
    kit.write("real_estate", [
        {"unit_no": f"U{i}", "name": f"业主{i}", "id_number": id18, "appraised_value": v}
        for i, (id18, (v, _)) in enumerate(ESTATE.items())
    ])  # fmt: skip
    pool_dir = root / "pool"
    build(kit.finish(), pool_dir, "duckdb")
    return pool_dir


def rows(pool: Path, table: str) -> list[dict]:
    return pq.read_table(pool / f"{table}.parquet").to_pylist()


def person_by_id(pool: Path) -> dict[str, dict]:
    return {p["id_number"]: p for p in rows(pool, "person")}


def links(pool: Path) -> dict[tuple[str, str], dict]:
    return {(r["source"], r["record_key"]): r for r in rows(pool, "person_source_link")}


def test_it_upgrades_a_15_digit_id_and_links_it_to_the_18_digit_person(pool):
    person = person_by_id(pool)[ID_A]
    link = links(pool)
    for key in (("customer", "C1"), ("sunshine2017", "S1"), ("loan", "L-OK")):
        assert link[key]["person_uid"] == person["person_uid"], key
        assert (link[key]["match_kind"], link[key]["id_problem"]) == ("id", None)
    assert (person["birth_date"], person["gender"]) == (dt.date(1980, 1, 1), "M")
    assert sum(1 for p in rows(pool, "person") if p["name"] == "张三") == 1


def test_it_reads_full_width_digits_in_an_id_number(pool):
    person = person_by_id(pool)[ID_A]
    link = links(pool)[("ebank", "E-A")]
    assert (link["person_uid"], link["match_kind"]) == (person["person_uid"], "id")


def test_it_normalises_phones_with_country_prefixes_and_full_width_digits(pool):
    people = person_by_id(pool)
    phones = {people[id18]["phone"] for id18 in PHONE_IDS}
    assert phones == {"13900139001", "13900139002", "13900139003", "13900139004"}


def test_it_reads_every_date_spelling_as_the_same_date(pool):
    flags = {r["record_key"]: r for r in rows(pool, "risk_flag")}
    assert set(flags) == set(DATES)  # none rejected
    assert {r["listed_date"] for r in flags.values()} == {dt.date(2021, 3, 5)}
    assert {r["flag"] for r in flags.values()} == {"black"}
    assert not [r for r in rows(pool, "rejects") if r["source"] == "blackgrey"]


def test_it_rejects_an_impossible_date_at_standardize(pool):
    rejects = [r for r in rows(pool, "rejects") if r["source"] == "loan"]
    assert [(r["record_key"], r["stage"], r["reason_code"]) for r in rejects] == [
        ("L-BAD", "standardize", "bad_date")
    ]
    assert "start_date" in rejects[0]["reason"]
    assert "20230231" in rejects[0]["raw_line"]
    assert ("loan", "L-BAD") not in links(pool)


def test_it_rejects_an_amount_in_chinese_numerals(pool):
    rejects = [r for r in rows(pool, "rejects") if r["source"] == "deposit"]
    assert [(r["record_key"], r["stage"], r["reason_code"]) for r in rejects] == [
        ("D-BAD", "standardize", "bad_amount")
    ]
    assert "壹万" in rejects[0]["raw_line"]
    assets = {a["person_uid"]: a for a in rows(pool, "profile_assets")}
    a = assets[person_by_id(pool)[ID_A]["person_uid"]]
    assert (a["deposit_accounts"], a["deposit_balance_fen"]) == (1, 1_234_560)


def test_it_converts_wan_yuan_to_fen(pool):
    credit = {c["person_uid"]: c for c in rows(pool, "profile_credit")}
    c = credit[person_by_id(pool)[ID_A]["person_uid"]]
    assert c["sunshine2017_granted_fen"] == 2_500_000


def test_it_reads_appraised_values_with_and_without_wan(pool):
    people = person_by_id(pool)
    assets = {a["person_uid"]: a for a in rows(pool, "profile_assets")}
    got = {id18: assets[people[id18]["person_uid"]]["property_value_fen"] for id18 in ESTATE}
    assert got == {id18: fen for id18, (_, fen) in ESTATE.items()}
    assert not [r for r in rows(pool, "rejects") if r["source"] == "real_estate"]
