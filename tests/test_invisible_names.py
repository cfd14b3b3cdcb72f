"""Bidi overrides and zero-width characters in names (issue 11 §5): a name sent with a
right-to-left override (U+202E) or a zero-width space reached the pages as sent. The
standardize step now deletes them on both engines alike, keeping the raw value in the
provenance; names typed into the app's forms lose them too (cunxin.lib.text)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cunxin.datapool.build import build
from cunxin.lib.text import INVISIBLE, clean_typed_name, strip_invisible
from rawkit import RawKit, make_id

RLO, ZWSP, ZWJ, BOM, LRI, PDI = "\u202e", "\u200b", "\u200d", "\ufeff", "\u2066", "\u2069"
ID_WANG = make_id("320723", "19800101", 1)
ID_LI = make_id("320723", "19810202", 2)
ID_ZHAO = make_id("320723", "19820303", 3)
SENT = {  # ID -> the name as the customer file sends it
    ID_WANG: f"王{RLO}五",
    ID_LI: f"{ZWSP}李{ZWJ}四{BOM}",
    ID_ZHAO: f"赵{LRI}六{PDI}",
}
CLEAN = {ID_WANG: "王五", ID_LI: "李四", ID_ZHAO: "赵六"}


def raw_folder(root: Path) -> Path:
    """The names in the e-banking feed (JSON lines, UTF-8: GBK files cannot carry them)."""
    kit = RawKit(root / "raw")
    kit.write("ebank", [
        {"user_id": f"E{i}", "id_number": id18, "name": name}
        for i, (id18, name) in enumerate(SENT.items())
    ])  # fmt: skip
    return kit.finish()


def outputs(pool: Path) -> tuple[dict, dict]:
    people = {p["id_number"]: p for p in pq.read_table(pool / "person.parquet").to_pylist()}
    provenance = {
        (r["person_uid"], r["field"]): r
        for r in pq.read_table(pool / "person_field_provenance.parquet").to_pylist()
    }
    return people, provenance


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    return raw_folder(tmp_path_factory.mktemp("invisible"))


@pytest.fixture(scope="module")
def duck(raw, tmp_path_factory) -> Path:
    pool = tmp_path_factory.mktemp("invisible-duck") / "pool"
    build(raw, pool, "duckdb")
    return pool


def test_standardize_deletes_invisible_characters_from_names_and_keeps_the_raw_value(duck):
    people, provenance = outputs(duck)

    for id18, clean in CLEAN.items():
        person = people[id18]
        assert person["name"] == clean
        name = provenance[(person["person_uid"], "name")]
        assert (name["value"], name["source"]) == (clean, "ebank")
        assert name["raw_value"] == SENT[id18]  # what the source sent
    assert not any(c in p["name"] for p in people.values() for c in INVISIBLE)


def test_a_name_without_invisible_characters_keeps_no_raw_value(tmp_path):
    kit = RawKit(tmp_path / "raw")
    kit.write("ebank", [{"user_id": "E1", "id_number": ID_WANG, "name": " 张 三 "}])
    build(kit.finish(), tmp_path / "pool", "duckdb")

    people, provenance = outputs(tmp_path / "pool")

    person = people[ID_WANG]
    assert person["name"] == "张三"
    assert provenance[(person["person_uid"], "name")]["raw_value"] is None


@pytest.mark.spark
def test_spark_cleans_names_exactly_as_duckdb(spark_ok, raw, duck, tmp_path):
    spark = tmp_path / "spark"
    build(raw, spark, "spark")

    for table in ("person", "person_field_provenance", "household"):
        a = sorted(map(repr, pq.read_table(duck / f"{table}.parquet").to_pylist()))
        b = sorted(map(repr, pq.read_table(spark / f"{table}.parquet").to_pylist()))
        assert a == b, table


@pytest.mark.parametrize("typed", [f"王{RLO}五 ", f"{ZWSP}王五", f"王{BOM}五{ZWJ}"])
def test_names_typed_into_forms_lose_invisible_characters(typed):
    assert clean_typed_name(typed) == "王五"
    assert strip_invisible("a\u00adb") == "ab"


@pytest.mark.django_db
def test_a_segment_or_a_staff_name_typed_with_an_override_is_stored_clean(world):
    from cunxin.org.actions import do_create_staff
    from cunxin.org.models import Role
    from cunxin.pool.actions import do_create_segment
    from world import PASSWORD

    admin = world.users["hq_admin"]
    segment = do_create_segment(admin, f"{RLO}高价值客户{ZWSP}", ["deposit:存款20万以上"], [])
    staff = do_create_staff(admin, username="cm9", password=PASSWORD, role=Role.HQ_ANALYST,
                            display_name=f"王{RLO}五")  # fmt: skip

    assert segment.name == "高价值客户"
    assert staff.display_name == "王五"
