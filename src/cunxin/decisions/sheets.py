"""The Excel files of a batch pre-credit run (批量授信): the white list (白名单, everyone
granted an amount) and a village's batch approval sheet (批量审批表: everyone decided,
the declined with their reasons, totals, and lines for the signatures of the customer
manager and the branch manager).

For sign-off a branch must know who each row is: the name in full (DESIGN.md §6 masks
ID numbers and phones, not names), the village group and the household number; the ID
number as staff see it (first 6 + last 4, `Person.id_masked`), no phone. Only the persons
in the user's scope are written (a branch manager's branch, a CM's villages and grids);
a person without a household comes after the households, marked so. The caller writes
the access-log row (`log_export`). Cells hold data, never formulas: text starting with = + - @ (or a tab or
carriage return) is written with a leading apostrophe.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import xlsxwriter
from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.decisions.models import BatchRun, PreCredit
from cunxin.decisions.tallies import RunCounts, Tally
from cunxin.lib.excel import sheet_name
from cunxin.org.models import Village
from cunxin.org.scope import Scope
from cunxin.pool.actions import Export, do_log_export
from cunxin.pool.models import AccessLog

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOOK_OPTIONS = {
    "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
    "strings_to_numbers": False,
}  # fmt: skip


def safe(value):
    """Text a spreadsheet will not run: "=1+1" → "'=1+1". Other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Row:
    """One person's pre-credit result as the sheets write it."""

    village_id: str
    household_id: str
    household_no: str  # "" for a person without a household
    group: str
    name: str
    id_masked: str
    grade: str
    score: int | None
    evaluation_yuan: int | None
    model_yuan: int
    survey_yuan: int | None
    final_yuan: int
    hard_stops: tuple[str, ...]
    route: str
    credit_household: bool


def _rows_seen(run: BatchRun, scope: Scope, village: str | None = None):
    rows = PreCredit.objects.filter(run=run)
    if village is not None:
        rows = rows.filter(village_id=village)
    if not scope.sees_everything:
        rows = rows.filter(
            village_id__in=list(scope.villages().values_list("code", flat=True)),
            person_id__in=scope.persons().values("uid"),
        )
    return rows


def tally_in_scope(run: BatchRun, scope: Scope, village: str) -> Tally:
    """What `batch.summarise` counts, over the run's rows of one village that the user may
    see: for a CM who holds some of the village's grids, whose figures are those of their
    households, not the village's. One query."""
    household = ~Q(household_id="")
    granted = Q(final_yuan__gt=0)
    data = _rows_seen(run, scope, village).aggregate(
        persons=Count("pk"),
        households=Count("household_id", distinct=True, filter=household),
        granted_persons=Count("pk", filter=granted),
        granted_households=Count("household_id", distinct=True, filter=household & granted),
        amount_yuan=Sum("final_yuan"),
        credit_households=Count(
            "household_id", distinct=True, filter=household & Q(credit_household=True)
        ),
        persons_without_household=Count("pk", filter=~household),
    )
    return Tally.of(data)


def rows_in_scope(
    run: BatchRun, scope: Scope, *, village: str | None = None, granted_only: bool = False
) -> Iterator[Row]:
    """The run's rows the user may see (HQ: all; others: persons in their scope), in
    village, household and member order. One query, read in chunks."""
    rows = _rows_seen(run, scope, village)
    if granted_only:
        rows = rows.filter(final_yuan__gt=0)
    no_household = Case(When(household_id="", then=Value(1)), default=Value(0),
                        output_field=IntegerField())  # fmt: skip
    values = rows.order_by(
        "village_id", no_household, "person__household__group_id",
        "person__household__household_no", "household_id", "person__member_index", "person_id",
    )  # fmt: skip
    for r in values.values_list(
        "village_id", "household_id", "person__household__household_no",
        "person__household__group__name", "person__group__name", "person__name",
        "person__id_masked", "grade", "score", "evaluation_yuan", "model_yuan", "survey_yuan",
        "final_yuan", "hard_stops", "route", "credit_household",
    ).iterator(chunk_size=2000):  # fmt: skip
        (village_id, household_id, household_no, household_group, own_group, name, id_masked, *rest) = r  # fmt: skip
        grade, score, evaluation, model, survey, final, stops, route, credit = rest
        yield Row(
            village_id, household_id, household_no or "", household_group or own_group or "",
            name, id_masked or "", grade, score, evaluation, model, survey, final,
            tuple(s for s in (stops or "").split(",") if s), route or "", bool(credit),
        )  # fmt: skip


def _household_no(r: Row) -> str:
    return r.household_no if r.household_id else _("no household")


def rule_labels(data: dict | None, part: str) -> dict[str, str]:
    """Rule id → label of a policy's hard stops or routes (`part`), from its data."""
    return {r["id"]: r["label"] for r in (data or {}).get(part, [])}


def _village_names(codes) -> dict[str, str]:
    return dict(Village.objects.filter(code__in=list(codes)).values_list("code", "name"))


def _yes(value: bool) -> str:
    return _("yes") if value else ""


def _number(sheet, row: int, col: int, value, fmt) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_number(row, col, value, fmt)


def _who_cells(r: Row) -> tuple[str, ...]:
    """Who a row is, in both sheets after their first column (village, or row number):
    group, household number, name, ID number (masked), grade."""
    return (r.group, _household_no(r), r.name, r.id_masked, r.grade)


DECISION_START = 6  # score, the four amounts, 信用户, approval route from this column


def _decision_cells(sheet, row: int, r: Row, routes: dict[str, str], text, money) -> None:
    """Columns DECISION_START… of both sheets: score, the four amounts, 信用户, route."""
    col = DECISION_START
    _number(sheet, row, col, r.score, text)
    for n, value in enumerate(
        (r.evaluation_yuan, r.model_yuan, r.survey_yuan, r.final_yuan), start=col + 1
    ):
        _number(sheet, row, n, value, money)
    sheet.write_string(row, col + 5, _yes(r.credit_household), text)
    sheet.write_string(row, col + 6, safe(routes.get(r.route, r.route)), text)


def _headers(book, sheet, row: int, columns: list[tuple[str, int]]) -> None:
    header = book.add_format(
        {"bold": True, "text_wrap": True, "bg_color": "#e8f3ee", "border": 1, "valign": "vcenter"}
    )
    for col, (title, width) in enumerate(columns):
        sheet.write_string(row, col, title, header)
        sheet.set_column(col, col, width)


# --- 白名单 ----------------------------------------------------------------------------------
def whitelist(run: BatchRun, scope: Scope) -> tuple[bytes, int]:
    """Everyone of the run granted an amount, in the user's scope: (.xlsx bytes, rows)."""
    columns = [
        (_("Village"), 12), (_("Group"), 10), (_("Household number"), 20), (_("Name"), 10),
        (_("ID number"), 20), (_("Grade"), 8), (_("Score"), 7), (_("Evaluation amount"), 11),
        (_("Model amount"), 11), (_("Survey amount"), 11), (_("Final amount"), 11),
        (_("Credit household"), 8), (_("Approval route"), 28),
    ]  # fmt: skip
    routes = rule_labels(run.policy.data, "routes")
    villages = _village_names(RunCounts.of_run(run).villages)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {**BOOK_OPTIONS, "constant_memory": True})
    sheet = book.add_worksheet(sheet_name(_("White list")))
    _headers(book, sheet, 0, columns)
    money = book.add_format({"num_format": "#,##0"})
    text = book.add_format({})
    n = 0
    for n, r in enumerate(rows_in_scope(run, scope, granted_only=True), start=1):
        cells = (villages.get(r.village_id, r.village_id), *_who_cells(r))
        for col, value in enumerate(cells):
            sheet.write_string(n, col, safe(value), text)
        _decision_cells(sheet, n, r, routes, text, money)
    sheet.freeze_panes(1, 4)
    sheet.autofilter(0, 0, max(n, 1), len(columns) - 1)
    book.close()
    return buffer.getvalue(), n


# --- 批量审批表 --------------------------------------------------------------------------------
def _reason(r: Row, stops: dict[str, str]) -> str:
    if r.hard_stops:
        return "；".join(stops.get(s, s) for s in r.hard_stops)
    if r.final_yuan == 0:
        # which of the three amounts was nothing (the lowest decides by default)
        zero = [label for label, amount in (
            (_("evaluation amount"), r.evaluation_yuan), (_("model amount (repayment capacity and grade cap)"), r.model_yuan),
            (_("survey amount"), r.survey_yuan),
        ) if amount == 0]  # fmt: skip
        if zero:
            return _("No amount: %(which)s is 0 (grade %(grade)s)") % {
                "which": "、".join(str(z) for z in zero), "grade": r.grade,
            }  # fmt: skip
        return _("No amount under the policy (grade %(grade)s)") % {"grade": r.grade}
    return ""


def approval_sheet(run: BatchRun, village: Village, scope: Scope) -> tuple[bytes, int]:
    """One village's rows of the run in the user's scope, the declined ones with their
    reasons, totals, and signature lines: (.xlsx bytes, rows)."""
    rows = list(rows_in_scope(run, scope, village=village.code))
    stops = rule_labels(run.policy.data, "hard_stops")
    routes = rule_labels(run.policy.data, "routes")
    columns = [
        (_("No."), 5), (_("Group"), 10), (_("Household number"), 20), (_("Name"), 10),
        (_("ID number"), 20), (_("Grade"), 8), (_("Score"), 7), (_("Evaluation amount"), 11),
        (_("Model amount"), 11), (_("Survey amount"), 11), (_("Final amount"), 11),
        (_("Credit household"), 8), (_("Approval route"), 24), (_("Reason for no amount"), 30),
    ]  # fmt: skip
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, BOOK_OPTIONS)
    sheet = book.add_worksheet(sheet_name(_("Batch approval sheet")))
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    border = {"border": 1, "valign": "top"}
    cell = book.add_format({**border, "text_wrap": True})
    money = book.add_format({**border, "num_format": "#,##0"})
    bold = book.add_format({**border, "bold": True})
    bold_money = book.add_format({**border, "bold": True, "num_format": "#,##0"})
    declined = book.add_format({**border, "text_wrap": True, "font_color": "#b3261e"})
    last_col = len(columns) - 1

    heading = _("Batch approval sheet: %(village)s") % {"village": f"{village.township_name}{village.name}"}  # fmt: skip
    sheet.merge_range(0, 0, 0, last_col, safe(heading), title)
    finished = timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M") if run.finished_at else ""  # fmt: skip
    facts = _("Branch: %(branch)s · Batch run #%(run)s of %(finished)s · Policy %(policy)s · Model %(model)s") % {
        "branch": village.branch.name if village.branch else "—", "run": run.pk,
        "finished": finished, "policy": run.policy.label,
        "model": run.model.label if run.model else "—",
    }  # fmt: skip
    sheet.merge_range(1, 0, 1, last_col, safe(facts), book.add_format({"align": "left"}))
    _headers(book, sheet, 3, columns)
    row = 3
    for n, r in enumerate(rows, start=1):
        row = 3 + n
        fmt = cell if r.final_yuan > 0 else declined
        sheet.write_number(row, 0, n, cell)
        for col, value in enumerate(_who_cells(r), start=1):
            sheet.write_string(row, col, safe(value), fmt)
        _decision_cells(sheet, row, r, routes, cell, money)
        sheet.write_string(row, last_col, safe(_reason(r, stops)), fmt)

    # totals
    granted = [r for r in rows if r.final_yuan > 0]
    totals = [
        (_("Persons"), len(rows)),
        (_("Persons granted"), len(granted)),
        (_("Households granted"), len({r.household_id for r in granted} - {""})),
        (_("Credit households"), len({r.household_id for r in rows if r.credit_household} - {""})),
        (_("Total final amount (yuan)"), sum(r.final_yuan for r in granted)),
    ]
    row += 2
    sheet.write_string(row, 0, _("Total"), book.add_format({"bold": True}))
    for label, value in totals:
        row += 1
        sheet.merge_range(row, 0, row, 3, label, bold)
        sheet.write_number(row, 4, value, bold_money)

    # signatures: a label and an empty underlined space
    line = book.add_format({"bottom": 1})
    row += 2
    for label in (
        _("Customer manager (signature)"), _("Branch manager (signature)"), _("Date"),
    ):  # fmt: skip
        row += 2
        sheet.merge_range(row, 0, row, 2, label, book.add_format({"bold": True}))
        for col in range(3, 7):
            sheet.write_blank(row, col, None, line)
    sheet.freeze_panes(4, 4)
    sheet.repeat_rows(3)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    book.close()
    return buffer.getvalue(), len(rows)


# --- the access log ----------------------------------------------------------------------------
def log_export(actor, run: BatchRun, rows: int, *, village: Village | None = None) -> AccessLog:
    """The export in the access log (`pool.actions.do_log_export`): the white list of the
    run, or the approval sheet of one of its villages, with its rows."""
    subject = _("Run #%(run)s") % {"run": run.pk}
    if village is not None:
        subject = f"{subject} · {village}"
    kind = AccessLog.ExportKind.APPROVAL_SHEET if village else AccessLog.ExportKind.WHITELIST
    return do_log_export(actor, Export(kind=kind, rows=rows, subject=subject, obj=run))
