"""Landing adapters against broken input: every bad row is rejected with a reason, none lost.

Each test writes a small raw folder with `RawKit`, lands it with `land_all`, and checks
`LANDING/<source>.parquet`, `LANDING/rejects.parquet` and the per-source counts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cunxin.datapool.landing import land_all
from cunxin.datapool.sources import SOURCES, SOURCES_BY_NAME
from rawkit import RawKit, make_id

ID_A = make_id("320723", "19800101", 1)
ID_B = make_id("320723", "19851231", 2, male=False)


@dataclass
class Landed:
    dir: Path
    sources: dict[str, dict]
    rejects: list[dict]

    def rows(self, source: str) -> list[dict]:
        return pq.read_table(self.dir / f"{source}.parquet").to_pylist()

    def rejected(self, source: str, code: str | None = None) -> list[dict]:
        return [
            r
            for r in self.rejects
            if r["source"] == source and (code is None or r["reason_code"] == code)
        ]

    def counts(self, source: str) -> tuple[int, int, int]:
        """(rows in, landed, rejected), after checking nothing was lost on the way."""
        s = self.sources[source]
        assert s["rows_in"] == s["rows_landed"] + s["rows_rejected"], s
        assert s["rows_landed"] == len(self.rows(source))
        assert s["rows_rejected"] == len(self.rejected(source))
        return s["rows_in"], s["rows_landed"], s["rows_rejected"]


def land(tmp_path: Path, kit: RawKit) -> Landed:
    raw = kit.finish()
    out = tmp_path / "landing"
    result = land_all(raw, out)
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    assert all(r["stage"] == "landing" for r in rejects)
    return Landed(out, result["sources"], rejects)


def kit_for(tmp_path: Path) -> RawKit:
    return RawKit(tmp_path / "raw")


def customer(key: str, name: str = "张三", id_number: str = ID_A, **more) -> dict:
    return {"cust_no": key, "name": name, "cert_type": "10", "id_number": id_number,
            "gender": "1", "birth_date": "19800101", "phone": "13800138000",
            "address": "伊山镇东湖村3组", "village_code": "320723100201",
            "open_date": "20100301", "update_date": "20250101", **more}  # fmt: skip


def ods_line(row: dict) -> str:
    return "|".join(row.get(c, "") for c in SOURCES_BY_NAME["customer"].column_names)


def find(rejects: list[dict], key: str | None, raw_line: str) -> dict:
    hits = [r for r in rejects if r["record_key"] == key and r["raw_line"] == raw_line]
    assert len(hits) == 1, (key, raw_line, rejects)
    return hits[0]


# --- ODS: GBK, `|`, control file ---------------------------------------------------------


def test_it_lands_a_clean_ods_file_with_every_value_as_text(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), customer("C2", "欧阳娜娜", ID_B, village_code="")])
    out = land(tmp_path, kit)
    assert out.counts("customer") == (2, 2, 0)
    rows = {r["cust_no"]: r for r in out.rows("customer")}
    assert rows["C2"]["name"] == "欧阳娜娜"
    assert rows["C1"]["birth_date"] == "19800101"  # text, not a date
    assert rows["C2"]["village_code"] == ""
    assert rows["C1"]["_file"] == "ods/CUST_INFO_20261128.dat"


def test_it_rejects_ods_lines_with_a_missing_or_an_extra_field(tmp_path):
    short = ods_line(customer("C2")).rsplit("|", 1)[0]  # 10 fields
    long = ods_line(customer("C3")) + "|多余"  # 12 fields
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1")], raw_lines=[short, long])
    out = land(tmp_path, kit)
    assert out.counts("customer") == (3, 1, 2)
    assert [r["cust_no"] for r in out.rows("customer")] == ["C1"]
    r2, r3 = find(out.rejects, "C2", short), find(out.rejects, "C3", long)
    assert (r2["reason_code"], r2["line"]) == ("field_count", 2)
    assert (r3["reason_code"], r3["line"]) == ("field_count", 3)
    assert "found 10" in r2["reason"] and "found 12" in r3["reason"]


def test_it_rejects_a_whole_ods_file_whose_control_count_is_wrong(tmp_path):
    rows = [customer("C1"), customer("C2"), customer("C3")]
    kit = kit_for(tmp_path)
    kit.write("customer", rows, ctl_count=5)
    out = land(tmp_path, kit)
    assert out.counts("customer") == (3, 0, 3)
    for n, row in enumerate(rows, start=1):
        r = find(out.rejects, row["cust_no"], ods_line(row))
        assert (r["reason_code"], r["line"]) == ("control_count", n)
    reason = out.rejected("customer")[0]["reason"]
    assert "says 5 rows" in reason and "has 3" in reason


def test_it_rejects_a_whole_ods_file_without_its_control_file(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), customer("C2")], no_ctl=True)
    out = land(tmp_path, kit)
    assert out.counts("customer") == (2, 0, 2)
    assert {r["reason_code"] for r in out.rejected("customer")} == {"control_missing"}
    find(out.rejects, "C2", ods_line(customer("C2")))
    assert "CUST_INFO_20261128.ctl" in out.rejected("customer")[0]["reason"]


def test_it_rejects_a_whole_gbk_source_file_sent_as_utf8(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), customer("C2", "王五")], encoding="utf-8")
    out = land(tmp_path, kit)
    assert out.counts("customer") == (2, 0, 2)
    assert {r["reason_code"] for r in out.rejected("customer")} == {"wrong_encoding"}
    # the raw line is kept readable (decoded as UTF-8), never garbled as GBK
    assert {r["raw_line"] for r in out.rejected("customer")} == {
        ods_line(customer("C1")),
        ods_line(customer("C2", "王五")),
    }


def test_it_rejects_only_the_lines_that_are_not_gbk(tmp_path):
    bad = b"C8|\x80\xff\xfe|10|" + ID_B.encode() + b"|2||||||"
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), customer("C2", "赵六")], raw_bytes=[bad])
    out = land(tmp_path, kit)
    assert out.counts("customer") == (3, 2, 1)
    (r,) = out.rejected("customer")
    assert (r["reason_code"], r["line"]) == ("bad_encoding", 3)
    assert r["raw_line"].startswith("C8|")
    assert {x["name"] for x in out.rows("customer")} == {"张三", "赵六"}


def test_it_rejects_the_cut_last_line_of_a_truncated_ods_file(tmp_path):
    kit = kit_for(tmp_path)
    path = kit.write("customer", [customer("C1"), customer("C2")])
    data = path.read_bytes()
    cut = data[: data.rindex(b"|320723100201|")]  # mid-record, no newline; .ctl still says 2
    path.write_bytes(cut)
    out = land(tmp_path, kit)
    assert out.counts("customer") == (2, 1, 1)
    (r,) = out.rejected("customer")
    assert (r["reason_code"], r["record_key"], r["line"]) == ("field_count", "C2", 2)
    assert r["raw_line"] == cut.decode("gbk").splitlines()[-1]


def test_it_rejects_repeated_record_keys_as_duplicate_row_or_duplicate_key(tmp_path):
    same, other = customer("C1"), customer("C1", "李四", ID_B)
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), customer("C2"), same, other])
    out = land(tmp_path, kit)
    assert out.counts("customer") == (4, 2, 2)
    assert {r["name"] for r in out.rows("customer")} == {"张三"}  # the first C1 is kept
    dup_row = find(out.rejects, "C1", ods_line(same))
    dup_key = find(out.rejects, "C1", ods_line(other))
    assert (dup_row["reason_code"], dup_row["line"]) == ("duplicate_row", 3)
    assert (dup_key["reason_code"], dup_key["line"]) == ("duplicate_key", 4)
    assert dup_key["file"] == "ods/CUST_INFO_20261128.dat"


def test_it_rejects_a_row_with_an_empty_record_key(tmp_path):
    keyless = customer("  ")
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), keyless])
    out = land(tmp_path, kit)
    assert out.counts("customer") == (2, 1, 1)
    (r,) = out.rejected("customer")
    assert (r["reason_code"], r["record_key"], r["line"]) == ("missing_key", None, 2)
    assert r["raw_line"] == ods_line(customer(""))  # the key is read trimmed


def test_it_numbers_reject_lines_as_in_the_file_past_blank_and_undecodable_lines(tmp_path):
    short = "C9|张三|10"
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1")], raw_lines=["", "   "], raw_bytes=[b"\xff\xfe", short.encode("gbk")], ctl_count=3)  # fmt: skip
    out = land(tmp_path, kit)
    assert out.counts("customer") == (3, 1, 2)
    assert out.rejected("customer", "bad_encoding")[0]["line"] == 4
    assert find(out.rejects, "C9", short)["line"] == 5


def test_it_keeps_control_characters_inside_an_ods_value(tmp_path):
    # \f, \v, \x1e are no line ends for the parser or for the control count
    odd = customer("C2", address="东湖村\x0c3组\x0b\x1e")
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), odd])
    out = land(tmp_path, kit)
    assert out.counts("customer") == (2, 2, 0)
    assert out.rows("customer")[1]["address"] == "东湖村\x0c3组\x0b\x1e"


def test_it_reads_ods_files_with_windows_line_ends(tmp_path):
    kit = kit_for(tmp_path)
    path = kit.write("customer", [customer("C1"), customer("C2")], raw_lines=["C3|short"])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    out = land(tmp_path, kit)
    assert out.counts("customer") == (3, 2, 1)
    assert {r["update_date"] for r in out.rows("customer")} == {"20250101"}  # no stray \r
    assert find(out.rejects, "C3", "C3|short")["line"] == 3


# --- CSV with Chinese headers --------------------------------------------------------------


def grid(key: str, name: str = "张三", **more) -> dict:
    return {"record_id": key, "grid_code": "G01", "household_no": "H1", "head_name": "张三",
            "name": name, "relation_to_head": "户主", "id_number": ID_A, "gender": "男",
            "phone": "13800138000", "village_code": "320723100201", **more}  # fmt: skip


def test_it_rejects_a_whole_csv_file_lacking_a_required_column(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("grid", [grid("G1"), grid("G2")], drop_columns=("phone",))
    out = land(tmp_path, kit)
    assert out.counts("grid") == (2, 0, 2)
    rejected = out.rejected("grid")
    assert {r["reason_code"] for r in rejected} == {"missing_columns"}
    assert "联系电话" in rejected[0]["reason"]
    assert sorted(r["line"] for r in rejected) == [2, 3]
    assert all(r["raw_line"].startswith(("G1,", "G2,")) for r in rejected)


def test_it_reads_the_first_header_of_a_csv_file_with_a_bom(tmp_path):
    kit = kit_for(tmp_path)
    path = kit.write("payroll", [{"record_id": "P1", "name": "李四", "amount_12m": "36000"}])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    # a BOM on a source declared plain UTF-8 is tolerated too
    kit.write("grid", [grid("G1")], encoding="utf-8-sig")
    out = land(tmp_path, kit)
    assert out.counts("payroll") == (1, 1, 0)
    assert out.counts("grid") == (1, 1, 0)
    assert [(r["record_id"], r["name"]) for r in out.rows("payroll")] == [("P1", "李四")]
    assert out.rows("grid")[0]["record_id"] == "G1"
    assert out.sources["payroll"]["warnings"] == []


def test_it_decodes_chinese_names_in_a_gbk_csv_file(tmp_path):
    names = ["张三", "欧阳娜娜", "李喆"]
    rows = [{"record_id": f"S{i}", "name": n, "insurance_type": "城乡居民养老保险"}
            for i, n in enumerate(names)]  # fmt: skip
    kit = kit_for(tmp_path)
    path = kit.write("social_security", rows)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK on disk
    out = land(tmp_path, kit)
    assert out.counts("social_security") == (3, 3, 0)
    landed = out.rows("social_security")
    assert [r["name"] for r in landed] == names
    assert {r["insurance_type"] for r in landed} == {"城乡居民养老保险"}


def test_it_rejects_csv_rows_with_the_wrong_number_of_fields(tmp_path):
    kit = kit_for(tmp_path)
    garbage, long = "@@garbage@@", "S9,甲,乙,丙,丁,戊,己,庚,辛,壬"
    kit.write("social_security", [{"record_id": "S1", "name": "张三"}], raw_lines=[garbage, long])
    out = land(tmp_path, kit)
    assert out.counts("social_security") == (3, 1, 2)
    g, x = find(out.rejects, "@@garbage@@", garbage), find(out.rejects, "S9", long)
    assert (g["reason_code"], g["line"]) == ("field_count", 3)
    assert (x["reason_code"], x["line"]) == ("field_count", 4)
    assert "expected 9 fields, found 10" in x["reason"]


def test_it_ignores_an_unknown_csv_column_with_a_warning(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("payroll", [{"record_id": "P1", "name": "李四"}], extra_columns={"备用字段": "x"})
    out = land(tmp_path, kit)
    assert out.counts("payroll") == (1, 1, 0)
    (row,) = out.rows("payroll")
    assert "备用字段" not in row and row["name"] == "李四"
    assert any("备用字段" in w for w in out.sources["payroll"]["warnings"])


def test_it_lands_a_quoted_csv_value_spanning_two_lines_as_one_row(tmp_path):
    kit = kit_for(tmp_path)
    kit.write(
        "payroll",
        [{"record_id": "P1", "employer": "甲公司\n二部", "name": "李四"},
         {"record_id": "P2", "employer": "乙公司"}],
        raw_lines=["P3,too,few"],
    )  # fmt: skip
    out = land(tmp_path, kit)
    assert out.counts("payroll") == (3, 2, 1)
    assert out.rows("payroll")[0]["employer"] == "甲公司\n二部"
    assert find(out.rejects, "P3", "P3,too,few")["line"] == 5  # header, P1 (2 lines), P2


def test_it_does_not_count_whitespace_only_csv_lines_as_rows(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("payroll", [{"record_id": "P1", "name": "李四"}], raw_lines=["   ", "\t"])
    out = land(tmp_path, kit)
    assert out.counts("payroll") == (1, 1, 0)


# --- JSONL -----------------------------------------------------------------------------


def ebank(key: str, **more) -> dict:
    return {"user_id": key, "id_no": ID_A, "name": "张三", "mobile": "13800138000",
            "channel": "手机银行", "register_date": "2020-01-02", "last_login": "2026-11-01",
            "txn_count_12m": 12, "txn_amount_12m": 3456.5, **more}  # fmt: skip


def test_it_rejects_jsonl_lines_that_are_not_json_objects(tmp_path):
    not_json, array = '{"user_id": "E9", broken', json.dumps(["E8", "张三"], ensure_ascii=False)
    kit = kit_for(tmp_path)
    kit.write("ebank", [{"user_id": "E1", "name": "张三"}], raw_lines=[not_json, array])
    out = land(tmp_path, kit)
    assert out.counts("ebank") == (3, 1, 2)
    a, b = find(out.rejects, None, not_json), find(out.rejects, None, array)
    assert (a["reason_code"], a["line"]) == ("bad_json", 2)
    assert (b["reason_code"], b["line"]) == ("bad_json", 3)


def test_it_rejects_a_jsonl_object_missing_a_key(tmp_path):
    row = ebank("E2")
    del row["mobile"]
    line = json.dumps(row, ensure_ascii=False)
    kit = kit_for(tmp_path)
    kit.write("ebank", [{"user_id": "E1"}], raw_lines=[line])
    out = land(tmp_path, kit)
    assert out.counts("ebank") == (2, 1, 1)
    r = find(out.rejects, "E2", line)
    assert (r["reason_code"], r["line"]) == ("missing_columns", 2)
    assert "mobile" in r["reason"]


def test_it_lands_jsonl_numbers_as_text_and_nulls_as_null(tmp_path):
    lines = [
        json.dumps(ebank("E1"), ensure_ascii=False),
        json.dumps(
            ebank(1002, id_no=None, txn_count_12m=3.0, txn_amount_12m=0), ensure_ascii=False
        ),
    ]
    kit = kit_for(tmp_path)
    kit.write("ebank", [], raw_lines=lines)
    out = land(tmp_path, kit)
    assert out.counts("ebank") == (2, 2, 0)
    rows = {r["user_id"]: r for r in out.rows("ebank")}
    assert (rows["E1"]["txn_count_12m"], rows["E1"]["txn_amount_12m"]) == ("12", "3456.5")
    assert rows["1002"]["id_number"] is None
    assert (rows["1002"]["txn_count_12m"], rows["1002"]["txn_amount_12m"]) == ("3", "0")


def test_it_keeps_a_unicode_line_separator_inside_a_json_string(tmp_path):
    # json.dumps leaves U+2028 and U+0085 raw: legal JSON, but str.splitlines breaks there
    odd = ebank("E1", name="王\u2028五", channel="手机\x85银行")
    lines = [json.dumps(odd, ensure_ascii=False), json.dumps(ebank("E2"), ensure_ascii=False)]
    kit = kit_for(tmp_path)
    kit.write("ebank", [], raw_lines=lines)
    out = land(tmp_path, kit)
    assert out.counts("ebank") == (2, 2, 0)
    e1 = out.rows("ebank")[0]
    assert (e1["name"], e1["channel"]) == ("王\u2028五", "手机\x85银行")


def test_it_finds_real_estate_keys_under_their_native_names(tmp_path):
    kit = kit_for(tmp_path)
    kit.write(
        "real_estate",
        [{"unit_no": "U1", "name": "张三", "appraised_value": "35万", "area_m2": 120.5},
         {"unit_no": "U1", "name": "李四"}, {"unit_no": None, "name": "王五"}],
    )  # fmt: skip
    out = land(tmp_path, kit)
    assert out.counts("real_estate") == (3, 1, 2)
    (row,) = out.rows("real_estate")
    assert (row["appraised_value"], row["area_m2"], row["id_number"]) == ("35万", "120.5", None)
    codes = {(r["record_key"], r["reason_code"], r["line"]) for r in out.rejected("real_estate")}
    assert codes == {("U1", "duplicate_key", 2), (None, "missing_key", 3)}


# --- XLSX --------------------------------------------------------------------------------


def test_it_lands_excel_dates_as_iso_text_and_whole_numbers_without_decimals(tmp_path):
    id15 = 320723800101003  # a legacy ID typed into Excel as a number
    kit = kit_for(tmp_path)
    kit.write(
        "sunshine2017",
        [{"record_id": 1.0, "name": "张三", "id_number": id15, "granted_amount": 3.0,
          "granted_date": dt.date(2017, 5, 12), "rating": "AA"},
         {"record_id": 2, "name": "李四", "id_number": "320723850203004", "granted_amount": 2.5,
          "granted_date": dt.datetime(2017, 6, 1), "remark": "2017.05.12"}],
    )  # fmt: skip
    out = land(tmp_path, kit)
    assert out.counts("sunshine2017") == (2, 2, 0)
    r1, r2 = out.rows("sunshine2017")
    assert (r1["record_id"], r1["id_number"], r1["granted_amount"]) == ("1", str(id15), "3")
    assert (r1["granted_date"], r2["granted_date"]) == ("2017-05-12", "2017-06-01")
    assert (r2["granted_amount"], r2["remark"], r2["township"]) == ("2.5", "2017.05.12", "")


def test_it_names_the_list_type_after_the_sheet_and_rejects_a_sheet_lacking_a_column(tmp_path):
    rows = [{"record_id": "B1", "name": "张三", "list_type": "黑名单"},
            {"record_id": "B2", "name": "李四", "list_type": "黑名单"},
            {"record_id": "G1", "name": "王五", "list_type": "灰名单"},
            {"record_id": "F1", "name": "赵六", "list_type": "失信被执行人"}]  # fmt: skip
    kit = kit_for(tmp_path)
    kit.write("blackgrey", rows, drop_columns={"灰名单": ("reason",)})
    out = land(tmp_path, kit)
    assert out.counts("blackgrey") == (4, 3, 1)
    assert {(r["record_id"], r["list_type"]) for r in out.rows("blackgrey")} == {
        ("B1", "黑名单"), ("B2", "黑名单"), ("F1", "失信被执行人"),
    }  # fmt: skip
    (r,) = out.rejected("blackgrey")
    assert (r["reason_code"], r["file"], r["line"]) == (
        "missing_columns", "bank/blackgrey_list.xlsx#灰名单", 2,
    )  # fmt: skip
    assert "列入原因" in r["reason"] and r["raw_line"].startswith("G1\t王五")


def test_it_rejects_duplicate_keys_across_sheets_with_their_sheet_row(tmp_path):
    rows = [{"record_id": "B1", "name": "张三", "list_type": "黑名单"},
            {"record_id": "B1", "name": "张三", "list_type": "灰名单"}]  # fmt: skip
    kit = kit_for(tmp_path)
    kit.write("blackgrey", rows)
    out = land(tmp_path, kit)
    assert out.counts("blackgrey") == (2, 1, 1)
    (r,) = out.rejected("blackgrey")
    # list_type differs, so the rows are not identical
    assert (r["reason_code"], r["record_key"], r["line"]) == ("duplicate_key", "B1", 2)


def test_it_rejects_a_corrupt_workbook_without_crashing(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1")])
    kit.finish()
    path = kit.path("sunshine2017")
    path.write_bytes(bytes(range(256)) * 8)
    out = land(tmp_path, kit)
    assert out.counts("sunshine2017") == (1, 0, 1)
    (r,) = out.rejected("sunshine2017")
    assert (r["reason_code"], r["file"]) == ("bad_workbook", "bank/sunshine_credit_2017.xlsx")
    assert any("not a readable xlsx" in w for w in out.sources["sunshine2017"]["warnings"])
    assert out.counts("customer") == (1, 1, 0)  # the rest of the pool still lands


# --- the folder as a whole -------------------------------------------------------------


def test_it_lands_a_missing_source_file_as_an_empty_source_with_a_warning(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1")])
    kit.finish()
    kit.path("payroll").unlink()
    kit.path("deposit").unlink()
    kit.path("deposit").with_suffix(".ctl").unlink()
    out = land(tmp_path, kit)
    for name in ("payroll", "deposit"):
        assert out.counts(name) == (0, 0, 0)
        assert any("no file matches" in w for w in out.sources[name]["warnings"])
        table = pq.read_table(out.dir / f"{name}.parquet")
        assert table.num_rows == 0
        assert set(SOURCES_BY_NAME[name].column_names) <= set(table.column_names)
    assert out.counts("customer") == (1, 1, 0)
    assert set(out.sources) == {s.name for s in SOURCES}


def test_it_keeps_leading_zeros_when_a_header_has_stray_spaces(tmp_path):
    kit = kit_for(tmp_path)
    path = kit.write("payroll", [])
    header = "流水号,代发单位 ,姓名,证件号码 ,卡号 ,首次代发月份,近12月代发金额,月均代发金额\n"
    path.write_bytes(
        (header + f"P1,县中学,张三,{ID_A},05180012345,202103,1200.00,100.00\n").encode("utf-8-sig")
    )
    landed = land(tmp_path, kit)
    assert landed.counts("payroll") == (1, 1, 0)
    row = landed.rows("payroll")[0]
    assert row["card_no"] == "05180012345"
    assert row["id_number"] == ID_A


def test_it_finds_an_ods_drop_of_another_date_and_says_which(tmp_path):
    kit = kit_for(tmp_path)
    path = kit.write("customer", [customer("C1")])
    newer = path.with_name(path.name.replace("20261128", "20270105"))
    path.rename(newer)
    path.with_suffix(".ctl").rename(newer.with_suffix(".ctl"))
    landed = land(tmp_path, kit)
    assert landed.counts("customer") == (1, 1, 0)
    assert any("CUST_INFO_20270105.dat" in w for w in landed.sources["customer"]["warnings"])


def test_it_warns_when_a_whole_file_is_rejected(tmp_path):
    kit = kit_for(tmp_path)
    kit.write("customer", [customer("C1"), customer("C2")], ctl_count=5)
    landed = land(tmp_path, kit)
    assert landed.counts("customer") == (2, 0, 2)
    assert any("all 2 rows rejected" in w for w in landed.sources["customer"]["warnings"])
