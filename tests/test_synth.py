"""Tests of the synthetic county generator (cunxin.synth)."""

from __future__ import annotations

import collections
import csv
import io
import json
import re
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from cunxin.datapool.sources import ODS_DATA_DATE, SOURCES, SOURCES_BY_NAME
from cunxin.lib import idnumber
from cunxin.synth import generate

SCALE = 0.004
SEED = 20261128
TEXT_SOURCES = [s.name for s in SOURCES if s.fmt != "xlsx"]
FULLWIDTH_DIGITS = "０１２３４５６７８９"


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("county")
    steps: list[tuple[str, int, int]] = []
    summary = generate(out, scale=SCALE, seed=SEED, progress=lambda *a: steps.append(a))
    summary["_steps"] = steps
    return out, summary


@pytest.fixture(scope="module")
def truth(county) -> dict:
    root = county[0] / "_truth"
    return {
        name: pq.read_table(root / f"{name}.parquet")
        for name in ("persons", "households", "source_links", "loan_outcomes", "broken_rows")
    }


@pytest.fixture(scope="module")
def records(county) -> dict[str, list[tuple[str, object]]]:
    """Every physical data row of every source as (record key text, parsed row or line)."""
    return {s.name: read_rows(county[0], s.name) for s in SOURCES}


# ---------------------------------------------------------------- raw file readers


def source_files(root: Path, source: str) -> list[Path]:
    return sorted(root.glob(SOURCES_BY_NAME[source].path))


def _decode(path: Path, encoding: str) -> str:
    return path.read_bytes().decode(encoding)


JSON_KEY = re.compile(r"""^\{\s*'?"?(\w+)'?"?\s*:\s*['"]([^'"]*)['"]""")


def read_rows(root: Path, source: str) -> list[tuple[str, object]]:
    spec = SOURCES_BY_NAME[source]
    rows: list[tuple[str, object]] = []
    for path in source_files(root, source):
        if spec.fmt == "ods_pipe":
            text = _decode(path, "gbk")
            rows += [(line.split("|")[0], line.split("|")) for line in text.split("\n") if line]
        elif spec.fmt == "csv":
            text = _decode(path, spec.encoding)
            body = list(csv.reader(io.StringIO(text)))[1:]
            rows += [(r[0], r) for r in body]
        elif spec.fmt == "jsonl":
            for line in _decode(path, "utf-8").splitlines():
                try:
                    obj = json.loads(line)
                    rows.append((str(obj[spec.columns[0].native]), obj))
                except json.JSONDecodeError:
                    rows.append((JSON_KEY.match(line).group(2), line))
        else:
            wb = CalamineWorkbook.from_path(str(path))
            for sheet in wb.sheet_names:
                for r in wb.get_sheet_by_name(sheet).to_python()[1:]:
                    key = r[0]
                    if isinstance(key, float) and key.is_integer():
                        key = int(key)
                    rows.append((str(key), (sheet, r)))
    return rows


def links_of(truth: dict, source: str):
    links = truth["source_links"]
    return links.filter(pc.equal(links["source"], source))


def broken_of(truth: dict, source: str):
    broken = truth["broken_rows"]
    return broken.filter(pc.equal(broken["source"], source))


# ---------------------------------------------------------------- determinism


def test_it_is_deterministic_for_a_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    sa = generate(a, scale=0.002, seed=7)
    sb = generate(b, scale=0.002, seed=7)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        if rel.suffix != ".xlsx":
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    for name in ("persons", "source_links", "loan_outcomes", "broken_rows", "households"):
        ta = pq.read_table(a / "_truth" / f"{name}.parquet")
        tb = pq.read_table(b / "_truth" / f"{name}.parquet")
        assert ta.equals(tb), name
    sa.pop("elapsed_seconds")
    sb.pop("elapsed_seconds")
    assert sa == sb


def test_it_changes_with_the_seed(tmp_path):
    generate(tmp_path / "a", scale=0.002, seed=1)
    generate(tmp_path / "b", scale=0.002, seed=2)
    ods = SOURCES_BY_NAME["customer"].path
    assert (tmp_path / "a" / ods).read_bytes() != (tmp_path / "b" / ods).read_bytes()


# ---------------------------------------------------------------- files and counts


def test_it_writes_every_source_of_the_contract(county):
    root, _ = county
    for spec in SOURCES:
        assert source_files(root, spec.name), spec.name
    for geo in ("county", "township", "village", "group", "household"):
        assert (root / "geo" / f"{geo}.geojson").is_file()
    assert not list(root.rglob(".*.tmp"))


def test_it_writes_exactly_the_reference_number_of_customer_rows(county, records):
    _, summary = county
    assert len(records["customer"]) == round(869554 * SCALE)
    assert summary["rows"]["customer"] == round(869554 * SCALE)


def test_it_writes_control_files_that_count_the_physical_lines(county):
    root, _ = county
    for spec in SOURCES:
        if spec.fmt != "ods_pipe":
            continue
        dat = root / spec.path
        ctl = dat.with_suffix(".ctl").read_bytes().decode("gbk").strip().split("|")
        lines = dat.read_bytes().decode("gbk").split("\n")
        physical = len([line for line in lines if line])
        assert ctl == [dat.name, str(physical), ODS_DATA_DATE]


def test_it_reports_row_counts_and_progress(county, records):
    _, summary = county
    for name, rows in records.items():
        assert summary["rows"][name] == len(rows), name
    steps = summary["_steps"]
    names = [s[0] for s in steps]
    assert names[0] == "geography" and names[-1] == "done"
    assert all(0 <= done <= total for _, done, total in steps)
    assert summary["persons"] > 2.5 * summary["households"]


def test_it_scales_the_county_like_guanyun(county, truth):
    _, summary = county
    assert summary["townships"] >= 2
    assert summary["households"] == round(300000 * SCALE)
    assert summary["villages"] >= 2 and summary["groups"] >= summary["villages"]
    per_household = summary["persons"] / summary["households"]
    assert 2.6 < per_household < 3.2
    assert summary["rows"]["customer"] == round(869554 * SCALE)


def test_it_keeps_realistic_proportions(county, truth):
    _, summary = county
    persons = truth["persons"]
    adults = pc.sum(pc.greater_equal(persons["age"], 16)).as_py()
    households = summary["households"]

    def people(source: str) -> int:
        return len(set(links_of(truth, source)["person_id"].to_pylist()))

    assert (
        pc.mean(persons["is_customer"].filter(pc.greater_equal(persons["age"], 16))).as_py() > 0.93
    )
    assert 0.60 < summary["rows"]["farmer_credit"] / households < 0.72
    assert 0.14 < people("loan") / households < 0.26
    assert 0.15 < summary["rows"]["sunshine2017"] / households < 0.25
    assert len(set(links_of(truth, "grid")["person_id"].to_pylist())) / summary["persons"] > 0.94
    assert 0.38 < people("social_security") / adults < 0.52
    assert 0.02 < people("enterprise") / adults < 0.04
    assert 0.03 < people("payroll") / adults < 0.09
    assert 0.005 < people("blackgrey") / adults < 0.02
    deposits_per_customer = summary["rows"]["deposit"] / summary["rows"]["customer"]
    assert 1.0 < deposits_per_customer < 1.6


# ---------------------------------------------------------------- truth


def test_it_links_every_row_to_a_real_person(truth, records):
    person_ids = set(truth["persons"]["person_id"].to_pylist())
    for source, rows in records.items():
        links = links_of(truth, source)
        keys = links["record_key"].to_pylist()
        assert len(keys) == len(set(keys)), f"{source}: a key linked twice"
        assert set(keys) == {k for k, _ in rows}, source
        assert set(links["person_id"].to_pylist()) <= person_ids, source


def test_it_accounts_for_every_written_row(truth, records):
    for source, rows in records.items():
        duplicates = pc.sum(pc.equal(broken_of(truth, source)["kind"], "duplicate_key")).as_py()
        assert len(rows) == links_of(truth, source).num_rows + (duplicates or 0), source


def test_it_gives_true_persons_valid_unique_ids(truth):
    persons = truth["persons"]
    ids = persons["id_number"].to_pylist()
    assert len(ids) == len(set(ids))
    for id18, gender, born in zip(
        ids, persons["gender"].to_pylist(), persons["birth_date"].to_pylist(), strict=True
    ):
        assert idnumber.is_valid(id18), id18
        assert idnumber.gender(id18) == gender
        assert idnumber.birth_date(id18) == born


def test_it_builds_plausible_households(truth):
    persons = truth["persons"].to_pylist()
    by_household = collections.defaultdict(list)
    for p in persons:
        by_household[p["household_id"]].append(p)
    assert set(by_household) == set(truth["households"]["household_id"].to_pylist())
    for members in by_household.values():
        heads = [m for m in members if m["relation_to_head"] == "户主"]
        assert len(heads) == 1
        head = heads[0]
        assert 25 <= head["age"] <= 81
        spouses = [m for m in members if m["relation_to_head"] == "配偶"]
        assert len(spouses) <= 1
        for s in spouses:
            assert s["gender"] != head["gender"]
        father = head if head["gender"] == "M" else (spouses[0] if spouses else None)
        for m in members:
            rel = m["relation_to_head"]
            if rel in ("子", "孙子", "父亲", "兄弟", "女婿"):
                assert m["gender"] == "M", rel
            if rel in ("女", "孙女", "母亲", "姐妹", "儿媳"):
                assert m["gender"] == "F", rel
            if rel in ("子", "女"):
                assert head["age"] - m["age"] >= 16
                if father is not None:
                    assert m["name"][0] == father["name"][0]
            if rel in ("父亲", "母亲"):
                assert m["age"] - head["age"] >= 18


def test_it_makes_homonyms_in_every_village(truth):
    persons = truth["persons"]
    seen = collections.defaultdict(set)
    for p in persons.select(["village_code", "name", "birth_date", "household_id"]).to_pylist():
        seen[(p["village_code"], p["name"], p["birth_date"].year)].add(p["household_id"])
    villages = set(persons["village_code"].to_pylist())
    with_same_year_homonyms = {v for (v, _, _), hh in seen.items() if len(hh) >= 2}
    assert with_same_year_homonyms == villages


def test_it_concentrates_clan_surnames_in_villages(truth):
    persons = truth["persons"].to_pylist()
    surnames = collections.defaultdict(collections.Counter)
    for p in persons:
        surnames[p["village_code"]][p["name"][0]] += 1
    for counts in surnames.values():
        top = sum(n for _, n in counts.most_common(6))
        assert top / sum(counts.values()) > 0.6


def test_it_records_loan_outcomes_that_match_the_ods_status(truth, records):
    outcomes = {r["contract_no"]: r for r in truth["loan_outcomes"].to_pylist()}
    loans = {key: row for key, row in records["loan"] if len(row) == 12}
    assert set(outcomes) >= set(loans)
    bad = sum(1 for o in outcomes.values() if o["bad"])
    assert 0.02 < bad / len(outcomes) < 0.12
    expected = {
        "repaid": {"结清"},
        "current": {"正常"},
        "overdue": {"逾期"},
        "default": {"逾期", "核销"},
    }
    for contract, row in loans.items():
        outcome = outcomes[contract]["outcome"]
        assert row[10] in expected[outcome], (contract, row)
        days = int(row[11])
        if outcome == "overdue":
            assert 1 <= days <= 90
        if outcome == "default" and row[10] == "逾期":
            assert days > 90


def test_it_puts_risky_people_on_the_black_and_grey_lists(truth):
    persons = truth["persons"]
    listed = set(links_of(truth, "blackgrey")["person_id"].to_pylist())
    risk = dict(
        zip(
            persons["person_id"].to_pylist(),
            persons["hidden_risk_propensity"].to_pylist(),
            strict=True,
        )
    )
    mean_listed = sum(risk[p] for p in listed) / len(listed)
    assert mean_listed > 0.5


# ---------------------------------------------------------------- geography


def _features(root: Path, name: str) -> list[dict]:
    return json.loads((root / "geo" / f"{name}.geojson").read_text("utf-8"))["features"]


def _bbox(feature: dict) -> tuple[float, float, float, float]:
    ring = feature["geometry"]["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(inner, outer) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_it_nests_the_geography(county, truth):
    root, _ = county
    county_box = _bbox(_features(root, "county")[0])
    towns = {f["properties"]["township_code"]: _bbox(f) for f in _features(root, "township")}
    villages = {f["properties"]["village_code"]: f for f in _features(root, "village")}
    groups = {f["properties"]["group_code"]: f for f in _features(root, "group")}
    assert 118.9 < county_box[0] < 119.4 < county_box[2] < 119.8
    for box in towns.values():
        assert _inside(box, county_box)
    for code, f in villages.items():
        assert len(code) == 12 and code.startswith("320723")
        assert code[6:9] == f["properties"]["township_code"]
        assert _inside(_bbox(f), towns[code[6:9]])
    for code, f in groups.items():
        assert len(code) == 15 and code[:12] == f["properties"]["village_code"]
        assert _inside(_bbox(f), _bbox(villages[code[:12]]))
    boxes = [_bbox(f) for f in groups.values()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b)
    households = _features(root, "household")
    assert len(households) == truth["households"].num_rows
    for f in households:
        props = f["properties"]
        x, y = f["geometry"]["coordinates"]
        box = _bbox(groups[props["group_code"]])
        assert box[0] < x < box[2] and box[1] < y < box[3]
        assert props["household_no"].startswith(props["group_code"])
        assert props["village_code"] == props["group_code"][:12]


def test_it_places_grid_members_at_their_household(records, truth):
    homes = {r["household_id"]: r for r in truth["households"].to_pylist()}
    for _, row in records["grid"]:
        if len(row) != 20:
            continue
        home = homes[row[2]]
        assert row[10] == home["village_code"] and row[11] == home["group_code"]
        assert abs(float(row[16]) - home["longitude"]) < 1e-6
        assert row[1] == home["grid_code"]


# ---------------------------------------------------------------- messiness


def test_it_encodes_files_as_the_contract_says(county):
    root, _ = county
    for spec in SOURCES:
        for path in source_files(root, spec.name):
            raw = path.read_bytes()
            if spec.encoding == "gbk":
                raw.decode("gbk")
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
            elif spec.encoding == "utf-8-sig":
                assert raw.startswith(b"\xef\xbb\xbf")
            elif spec.encoding == "utf-8":
                assert not raw.startswith(b"\xef\xbb\xbf")
                raw.decode("utf-8")


def _ids(records, source: str, column: int) -> list[str]:
    out = []
    for _, row in records[source]:
        if isinstance(row, list) and len(row) > column:
            out.append(row[column])
    return out


def test_it_messes_up_customer_ids_and_phones(records):
    ids = _ids(records, "customer", 3)
    phones = _ids(records, "customer", 6)
    plain = [i.strip() for i in ids]
    assert any(len(i) == 15 and i.isdigit() for i in plain)
    assert any(c in FULLWIDTH_DIGITS for i in ids + phones for c in i)
    assert any(i != i.strip() for i in ids)
    bad_check = [i for i in plain if len(i) == 18 and i.isascii() and not idnumber.is_valid(i)]
    assert 0.003 < len(bad_check) / len(ids) < 0.03
    assert any(p == "" for p in phones)
    assert any(p.startswith(("+86", "86-")) for p in phones)
    birth = _ids(records, "customer", 5)
    assert any("-" in b for b in birth) and any("年" in b for b in birth)
    assert any(b.isdigit() and len(b) == 8 for b in birth)


def test_it_uses_mostly_legacy_ids_in_the_2017_list(records):
    ids = [row[1][4] for _, row in records["sunshine2017"]]
    legacy = sum(1 for i in ids if len(i.strip()) == 15)
    assert 0.65 < legacy / len(ids) < 0.92
    dates = [row[1][6] for _, row in records["sunshine2017"]]
    assert any(not isinstance(d, str) for d in dates) and any(isinstance(d, str) for d in dates)


def test_it_leaves_ids_out_of_third_party_data(records):
    estate = [row.get("zjhm") for _, row in records["real_estate"] if isinstance(row, dict)]
    missing = sum(1 for i in estate if not i)
    assert 0.12 < missing / len(estate) < 0.3
    enterprise = _ids(records, "enterprise", 4)
    assert 0.4 < sum(1 for i in enterprise if not i) / len(enterprise) < 0.8
    ebank = [row.get("id_no") for _, row in records["ebank"] if isinstance(row, dict)]
    assert any(i is None for i in ebank) and any(i == "" for i in ebank)


def test_it_writes_the_sheets_of_the_contract(county):
    root, _ = county
    for source in ("sunshine2017", "blackgrey"):
        spec = SOURCES_BY_NAME[source]
        wb = CalamineWorkbook.from_path(str(root / spec.path))
        expected = list(spec.sheets) if spec.sheets else ["2017年阳光信贷授信清单"]
        assert wb.sheet_names == expected
        for sheet in wb.sheet_names:
            header = wb.get_sheet_by_name(sheet).to_python()[0]
            assert header == [c.native for c in spec.columns]


def test_it_breaks_some_rows_of_every_text_source(county, truth, records):
    root, _ = county
    kinds = collections.defaultdict(set)
    for row in truth["broken_rows"].to_pylist():
        kinds[row["source"]].add(row["kind"])
    for source in TEXT_SOURCES:
        assert kinds[source] - {"duplicate_key"}, source
    width = {s.name: len(s.columns) for s in SOURCES}
    for row in truth["broken_rows"].to_pylist():
        source, key, kind = row["source"], row["record_key"], row["kind"]
        found = [r for k, r in records[source] if k == key]
        if kind == "duplicate_key":
            assert len(found) == 2 and found[0] == found[1]
        elif kind in ("field_count", "truncated"):
            assert len(found) == 1 and len(found[0]) != width[source]
        elif kind == "bad_json":
            assert len(found) == 1 and isinstance(found[0], str)
        elif kind in ("bad_amount", "bad_date") and SOURCES_BY_NAME[source].fmt != "jsonl":
            row_values = found[0][1] if isinstance(found[0], tuple) else found[0]
            assert len(found) == 1 and len(row_values) == width[source]
    deposit = (root / SOURCES_BY_NAME["deposit"].path).read_bytes()
    assert not deposit.endswith(b"\n") and "truncated" in kinds["deposit"]
