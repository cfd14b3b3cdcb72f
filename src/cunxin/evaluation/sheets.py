"""Paper evaluation sheets (纸质评议表) for the roll-out, when some panel members still
review on paper: export one panel member's sheet for the open first round as Excel, and
import the filled sheet back as that member's submitted reviews (source "paper", entered
by the staff user who uploads it).

Back to back: a sheet belongs to one panel member and holds no review content at all —
neither theirs nor anyone else's; at most a note that a row is already submitted in the
app. Persons appear the way an evaluator sees them (ID first 1 + last 1).

An import is all or nothing: every row is checked first, and one invalid row stores
nothing and lists every invalid row with its sheet row number. It is idempotent: a row
already imported with the same content is reported unchanged. The rules are those of
`actions.do_save_review` (same helpers: `policy_of`, `conflict_for`, the round lock).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import openpyxl
import xlsxwriter
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cunxin.audit.chain import record
from cunxin.evaluation import actions
from cunxin.evaluation.conflict import Conflict
from cunxin.evaluation.models import (
    PanelMember,
    Project,
    Review,
    ReviewStatus,
    Round,
    RoundKind,
    Source,
)
from cunxin.evaluation.policy import EvaluationPolicy
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.excel import sheet_name
from cunxin.lib.masking import mask_id_for_evaluator
from cunxin.org.scope import Scope, scope_for
from cunxin.pool.actions import Export, do_log_export
from cunxin.pool.models import AccessLog, Person

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A 5 MB .xlsx can unpack to gigabytes (a "zip bomb"); a village's sheet unpacks to a few.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# Rows beyond the village's members (duplicates, typos) are reported; this many more is
# not a sheet of this village any more.
EXTRA_ROWS = 1000
FORMAT = "cunxin-evaluation-sheet"
FORMAT_VERSION = 1
META_SHEET = "_cunxin"
GRADES = (1, 2, 3, 4, 5)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What is written in the fill-in columns. These are the paper form's vocabulary, not
# interface text: the importer must read them whatever language the page is in.
YES, NO, TICK = "是", "否", "√"
YES_WORDS = frozenset({YES, "了解", "1", TICK, "✓", "✔", "y", "yes", "true"})
NO_WORDS = frozenset({NO, "不了解", "0", "×", "✗", "n", "no", "false"})
TICK_WORDS = frozenset({TICK, "✓", "✔", "1", YES, "y", "yes", "true"})
NO_TICK_WORDS = frozenset({"", "0", NO, "n", "no", "false"})


# --- the sheet's columns -------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str  # "uid", "knows", "neg:<item>", "grade:<item>", "amount", …
    header: str
    width: int
    fill: bool = False  # filled in by the panel member


def _graded_label(policy: EvaluationPolicy, item: str) -> str:
    return dict(policy.graded_labels()).get(item, item)


def columns(policy: EvaluationPolicy) -> list[Column]:
    """The sheet's columns for a policy: who the row is about, then what is filled in."""
    cols = [
        Column("uid", _("Row key (do not change)"), 12),
        Column("group", _("Group"), 10),
        Column("household_no", _("Household number"), 10),
        Column("head", capfirst(_("head of household")), 10),
        Column("name", pgettext("person", "Name"), 10),
        Column("relation", _("Relation to head"), 8),
        Column("id", _("ID number"), 20),
        Column("note", _("Note"), 18),
        Column("knows", f"{capfirst(_('knows the household'))}（{YES}/{NO}）", 10, True),
    ]
    for n, (item, label) in enumerate(policy.negative_items.items(), start=1):
        cols.append(Column(f"neg:{item}", f"{n}. {label}", 9, True))
    for item in policy.graded_items:
        cols.append(Column(f"grade:{item}", f"{_graded_label(policy, item)}（1–5）", 8, True))
    cols.append(
        Column(
            "amount",
            _("Suggested amount (yuan, at most %(cap)s)") % {"cap": policy.amount_cap_yuan},
            14,
            True,
        )
    )
    return cols


def sheet_persons(project: Project, scope: Scope | None = None):
    """The village's living household members — of them, those in `scope` (a CM's grids)
    when given — in the sheet's order (group, household number, member). One query when
    iterated."""
    persons = Person.objects.all() if scope is None else scope.persons()
    return (
        persons.filter(
            village_id=project.village_id, retired_at__isnull=True,
            household__isnull=False, household__retired_at__isnull=True,
        )
        .select_related("household__group")
        .order_by("household__group_id", "household__household_no", "household_id",
                  "member_index", "uid")
    )  # fmt: skip


def open_first_round(project: Project) -> Round:
    """The project's first round (初评) if it is open; a clear refusal otherwise: paper
    sheets are for the first round only, while it is open."""
    rnd = project.rounds.filter(kind=RoundKind.FIRST).first()
    if rnd is None:
        raise ValidationError(_("The first review of this project has not been opened yet."))
    if not rnd.is_open:
        raise ValidationError(
            _("The first review is closed: paper sheets can no longer be exported or imported.")
        )
    return rnd


def _locked_rows(
    rnd: Round, member: PanelMember, persons: list[Person], policy: EvaluationPolicy
) -> dict[str, str]:
    """uid → why the member does not fill the row in: a conflict of interest, or a review
    already handed in on the phone (its status only, never its content). Two queries per
    household (`conflict_for`) and one for the member's own reviews."""
    locked: dict[str, str] = {}
    by_household: dict[str, str | None] = {}
    for p in persons:
        if p.household_id not in by_household:
            conflict = actions.conflict_for(member, p, policy)
            by_household[p.household_id] = (
                _("Excluded (回避): conflict of interest, %(why)s") % {"why": conflict.label}
                if conflict
                else None
            )
        if note := by_household[p.household_id]:
            locked[p.uid] = note
    done = Review.objects.filter(
        round=rnd, reviewer=member, status__in=(ReviewStatus.SUBMITTED, ReviewStatus.VOID)
    ).exclude(source=Source.PAPER)
    for uid, status in done.values_list("person_id", "status"):
        locked.setdefault(
            uid,
            _("Already submitted in the app")
            if status == ReviewStatus.SUBMITTED
            else _("Void review"),
        )
    return locked


# --- export --------------------------------------------------------------------------------
def export_sheet(
    project: Project, round: Round, member: PanelMember, scope: Scope | None = None
) -> bytes:
    """The member's paper sheet for the round as .xlsx bytes, of the persons in `scope`
    (all of the village without one). The caller has checked the user may export it and
    writes the access-log row (`log_sheet_export`)."""
    rnd = round
    policy = evaluation_policy(project.policy)
    cols = columns(policy)
    persons = list(sheet_persons(project, scope))
    locked = _locked_rows(rnd, member, persons, policy)
    buffer = io.BytesIO()
    # Cells hold data, never formulas or links: a name such as "=HYPERLINK(...)" stays text.
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False,
    })  # fmt: skip
    title = sheet_name(_("Evaluation sheet"))
    sheet = book.add_worksheet(title)
    help_sheet = book.add_worksheet(sheet_name(_("Instructions")))
    meta = book.add_worksheet(META_SHEET)

    border = {"border": 1, "border_color": "#9aa5b1", "valign": "vcenter"}
    header_fmt = book.add_format(
        {**border, "bold": True, "text_wrap": True, "bg_color": "#e8f3ee", "locked": True}
    )
    key_fmt = book.add_format({**border, "font_color": "#6b7785", "font_size": 9})
    info_fmt = book.add_format(border)
    fill_fmt = book.add_format({**border, "locked": False, "align": "center"})
    amount_fmt = book.add_format({**border, "locked": False, "num_format": "0"})
    grey_fmt = book.add_format({**border, "bg_color": "#d9d9d9", "font_color": "#6b7785"})

    for col, c in enumerate(cols):
        sheet.write_string(0, col, c.header, header_fmt)
        sheet.set_column(col, col, c.width)
    sheet.set_row(0, 64)
    for row, p in enumerate(persons, start=1):
        h = p.household
        note = locked.get(p.uid, "")
        info = {
            "uid": p.uid, "group": h.group.name if h.group else "",
            "household_no": h.household_no, "head": h.head_name, "name": p.name,
            "relation": p.relation_to_head, "id": mask_id_for_evaluator(p.id_masked),
            "note": note,
        }  # fmt: skip
        for col, c in enumerate(cols):
            if not c.fill:
                fmt = grey_fmt if note else (key_fmt if c.key == "uid" else info_fmt)
                if info[c.key]:
                    sheet.write_string(row, col, info[c.key], fmt)
                else:
                    sheet.write_blank(row, col, None, fmt)
            elif note:
                sheet.write_blank(row, col, None, grey_fmt)
            else:
                sheet.write_blank(row, col, None, amount_fmt if c.key == "amount" else fill_fmt)
    last = max(len(persons), 1)
    _validations(sheet, cols, last, policy)
    sheet.freeze_panes(1, 5)  # the header row, and who the row is about
    sheet.autofilter(0, 0, last, len(cols) - 1)
    sheet.protect("", {"format_columns": True, "format_rows": True, "autofilter": True})
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.activate()

    _write_instructions(book, help_sheet, project, rnd, member, policy)

    meta.write_row(0, 0, [FORMAT, FORMAT_VERSION])
    meta.write_row(1, 0, ["project", project.pk])
    meta.write_row(2, 0, ["round", rnd.pk])
    meta.write_row(3, 0, ["member", member.pk])
    meta.write_row(4, 0, ["policy", project.policy.version])
    meta.write_row(5, 0, ["sheet", title])
    meta.write_row(6, 0, ["columns", *[c.key for c in cols]])
    meta.write_row(7, 0, ["headers", *[c.header for c in cols]])
    meta.very_hidden()
    book.close()
    return buffer.getvalue()


def _validations(sheet, cols: list[Column], last: int, policy: EvaluationPolicy) -> None:
    """Drop-downs and range checks where Excel has them (the import checks again)."""
    for col, c in enumerate(cols):
        if c.key == "knows":
            options = {"validate": "list", "source": [YES, NO]}
        elif c.key.startswith("neg:"):
            # a warning, not a stop: "1" typed as a number is a valid tick too
            options = {"validate": "list", "source": [TICK, YES, "1"], "error_type": "warning",
                       "input_message": _("Tick (√, 1 or 是) if this applies.")}  # fmt: skip
        elif c.key.startswith("grade:"):
            options = {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 5}
        elif c.key == "amount":
            options = {"validate": "integer", "criteria": "between", "minimum": 0,
                       "maximum": policy.amount_cap_yuan}  # fmt: skip
        else:
            continue
        sheet.data_validation(1, col, last, col, options)


def _write_instructions(book, sheet, project, rnd, member, policy: EvaluationPolicy) -> None:
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 90)
    lines = [
        (_("Paper evaluation sheet (back-to-back review)"), bold),
        (_("Village: %(village)s") % {"village": project.village.name}, None),
        (_("Round: %(round)s") % {"round": rnd.get_kind_display()}, None),
        (_("Panel member: %(name)s") % {"name": member.staff.display_name}, None),
        (_("Policy version: %(version)s") % {"version": project.policy.label}, None),
        (_("Exported: %(at)s") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, None),
        ("", None),
        (_("How to fill in"), bold),
        (_("Fill in this sheet alone: do not show it to other panel members or look at theirs."), wrap),
        (_("For each person write 是 if you know the household, 否 if you do not; after 否 leave the rest of the row empty."), wrap),
        (_("Tick (√, 1 or 是) each negative item that applies to the person and leave the others empty."), wrap),
        (_("Grade each item from 1 (poor) to 5 (very good); leave it empty if you cannot judge."), wrap),
        (_("Suggested amount: a whole number of yuan, at most %(cap)s.") % {"cap": policy.amount_cap_yuan}, wrap),
        (_("Grey rows are not filled in: households you may not review (conflict of interest, 回避) or reviews already submitted in the app."), wrap),
        (_("Rows left empty are skipped. Do not change the row key, the names or the columns."), wrap),
        (_("Staff upload the filled sheet on the project's page. Invalid rows are listed with their row number, and nothing is stored until every row is valid."), wrap),
    ]  # fmt: skip
    row = 0
    for text, fmt in lines:
        # titles in the first column, text in the wide second one
        sheet.write_string(row, 0 if fmt is bold else 1, text, fmt)
        row += 1
    row += 1
    sheet.write_string(row, 0, _("Negative items"), bold)
    row += 1
    for n, label in enumerate(policy.negative_items.values(), start=1):
        sheet.write_number(row, 0, n)
        sheet.write_string(row, 1, label, wrap)
        row += 1
    row += 1
    sheet.write_string(row, 0, _("Graded items (1 poor – 5 very good)"), bold)
    row += 1
    for item in policy.graded_items:
        sheet.write_string(row, 1, _graded_label(policy, item))
        row += 1
    sheet.protect()


def log_sheet_export(actor, project: Project, member: PanelMember) -> None:
    """The export in the access log (`pool.actions.do_log_export`): the village and the
    evaluator, and how many rows (those in the actor's scope). One COUNT query."""
    rows = sheet_persons(project, scope_for(actor)).count()
    subject = f"{project.village} · {member.staff.display_name}"
    do_log_export(actor, Export(
        kind=AccessLog.ExportKind.EVALUATION_SHEET, rows=rows, subject=subject, obj=project,
    ))  # fmt: skip


# --- import --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    row: int  # the row number Excel shows
    code: str  # machine reason: "unknown_key", "conflict", "grade", …
    message: str
    name: str = ""


@dataclass
class ImportResult:
    file_error: str = ""
    file_code: str = ""  # machine reason: "size", "not_xlsx", "unreadable", "not_ours", …
    errors: list[RowError] = field(default_factory=list)
    created: int = 0  # new reviews
    replaced_drafts: int = 0  # the member's unfinished app drafts, now the paper review
    unchanged: int = 0  # already imported from paper with the same content
    skipped: int = 0  # rows left empty (grey rows included)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors

    @property
    def stored(self) -> int:
        return self.created + self.replaced_drafts


@dataclass
class _Filled:
    row: int
    person: Person
    knows: bool
    negative_items: list[str]
    graded: dict[str, int]
    amount_yuan: int | None

    def same_as(self, review: Review) -> bool:
        return (
            review.knows_household is self.knows
            and sorted(review.negative_items or []) == self.negative_items
            and (review.graded or {}) == self.graded
            and review.amount_yuan == self.amount_yuan
        )


class _SheetError(Exception):
    """The file as a whole cannot be imported: a machine code and the message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def import_sheet(actor, round: Round, member: PanelMember, file) -> ImportResult:
    """Store the member's filled paper sheet as submitted reviews of `round` (source
    paper, entered by `actor`), all rows or none. Refuses (PermissionDenied) an actor who
    may not manage the project; ValidationError when the round is not the open first round
    or the member has no seat on its panel. Problems with the file or its rows come back
    in the result, with nothing stored."""
    rnd = Round.objects.select_related("project__policy", "project__village").get(pk=round.pk)
    project = rnd.project
    actions.require_manager(actor, project)
    if open_first_round(project).pk != rnd.pk:  # raises the reason when none is open
        raise ValidationError(_("Paper sheets are for the open first review only."))
    member = (
        PanelMember.objects.filter(pk=member.pk, project=project, removed_at__isnull=True)
        .select_related("staff__person")
        .first()
    )
    if member is None:
        raise ValidationError(_("Choose a panel member."))
    policy = evaluation_policy(project.policy)
    cols = columns(policy)
    result = ImportResult()
    try:
        lines = _read(file, rnd, member, cols)
        if len(lines) > sheet_persons(project, scope_for(actor)).count() + EXTRA_ROWS:
            raise _SheetError(
                "too_many_rows", _("The sheet has far more rows than the village has members.")
            )
        filled = _check_rows(lines, project, member, policy, cols, result, scope_for(actor))
        with transaction.atomic():
            _store(actor, rnd, member, filled, result)
    except _SheetError as e:
        result.file_code, result.file_error = e.code, e.message
    except IntegrityError:  # a review of the same person saved at the same moment
        result.file_code = "concurrent"
        result.file_error = _(
            "A review of one of these persons was saved at the same moment: upload the sheet again."
        )
    if not result.ok:
        result.created = result.replaced_drafts = result.unchanged = 0
    result.errors.sort(key=lambda e: e.row)
    return result


def _read(file, rnd: Round, member: PanelMember, cols: list[Column]) -> list[tuple[int, dict]]:
    """(row number, {column key: cell value}) for every non-empty data row, after checking
    that the file is this member's sheet of this round, with its columns unchanged."""
    name = getattr(file, "name", "") or ""
    if getattr(file, "size", 0) > MAX_UPLOAD_BYTES:
        raise _SheetError("size", _("The file is larger than 5 MB."))
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _SheetError("size", _("The file is larger than 5 MB."))
    if not name.lower().endswith(".xlsx") or not data.startswith(b"PK\x03\x04"):
        raise _SheetError("not_xlsx", _("This is not an Excel workbook (.xlsx)."))
    unreadable = _("The file could not be read as an Excel workbook (.xlsx): it may be damaged.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise _SheetError("size", _("The workbook is too large when unpacked."))
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _SheetError:
        raise
    except Exception as e:  # whatever a damaged or hostile file raises inside openpyxl
        raise _SheetError("unreadable", unreadable) from e
    try:
        return _read_book(book, rnd, member, cols)
    except _SheetError:
        raise
    except Exception as e:
        raise _SheetError("unreadable", unreadable) from e
    finally:
        book.close()


def _read_book(book, rnd: Round, member: PanelMember, cols: list[Column]):
    not_ours = _(
        "This is not an evaluation sheet exported from cunxin: export the panel member's "
        "sheet on this page and fill that in."
    )
    if META_SHEET not in book.sheetnames:
        raise _SheetError("not_ours", not_ours)
    meta = {
        str(row[0]): list(row[1:])
        for row in book[META_SHEET].iter_rows(max_row=20, max_col=len(cols) + 1, values_only=True)
        if row and row[0] is not None
    }
    if meta.get(FORMAT, [None])[0] != FORMAT_VERSION:
        raise _SheetError("not_ours", not_ours)
    if meta.get("round", [None])[0] != rnd.pk:
        raise _SheetError(
            "other_round",
            _("This sheet was exported for another round or project: export a fresh one."),
        )
    if (owner := meta.get("member", [None])[0]) != member.pk:
        other = PanelMember.objects.filter(pk=owner, project_id=rnd.project_id).select_related("staff").first() if isinstance(owner, int) else None  # fmt: skip
        raise _SheetError(
            "other_member",
            _("This sheet belongs to panel member %(owner)s, not to %(member)s.")
            % {"owner": other.staff.display_name, "member": member.staff.display_name}
            if other
            else _("This sheet was exported for another panel member."),
        )
    keys = [c.key for c in cols]
    if [k for k in meta.get("columns", []) if k is not None] != keys:
        raise _SheetError(
            "policy_changed",
            _(
                "The project's evaluation policy has changed since this sheet was exported: export a fresh one."
            ),
        )
    title = (meta.get("sheet") or [None])[0]
    if title not in book.sheetnames:
        raise _SheetError("not_ours", not_ours)
    headers = [h for h in meta.get("headers", []) if h is not None]
    rows = book[title].iter_rows(max_col=len(cols), values_only=True)
    first = next(rows, None) or ()
    if [("" if v is None else str(v)) for v in first] != headers:
        raise _SheetError(
            "columns_changed",
            _(
                "The sheet's columns were moved, added or renamed: export a fresh sheet and copy the answers into it."
            ),
        )
    lines = []
    for number, values in enumerate(rows, start=2):
        cells = dict(zip(keys, values, strict=False))
        if any(_text(v) for v in cells.values()):
            lines.append((number, cells))
    return lines


def _text(value) -> str:
    """A cell as text: numbers without ".0", full-width characters folded, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _word(text: str, yes: frozenset[str], no: frozenset[str]) -> bool | None:
    """True or False if `text` is one of the words for yes or no, None otherwise."""
    word = text.lower()
    return True if word in yes else False if word in no else None


def _whole_number(value) -> int | None:
    """A cell as a whole number ≥ 0 ("30,000", "30000元", 30000.0 too), None if it is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    text = _text(value).replace(",", "").replace(" ", "").removesuffix("元")
    return int(text) if re.fullmatch(r"\d{1,12}", text) else None


def _check_rows(
    lines: list[tuple[int, dict]], project: Project, member: PanelMember,
    policy: EvaluationPolicy, cols: list[Column], result: ImportResult, scope: Scope,
) -> list[_Filled]:  # fmt: skip
    """The rows a member filled in, checked cell by cell (the rules of do_save_review);
    every problem lands in `result.errors`, empty rows in `result.skipped`. A row of a
    person outside the uploader's scope (another grid) is an unknown row key: whoever
    uploads a sheet stores only reviews of persons they may see."""
    fill_keys = [c.key for c in cols if c.fill]
    headers = {c.key: c.header for c in cols}
    uids = {_text(cells.get("uid")) for _n, cells in lines}
    persons = {p.uid: p for p in Person.objects.filter(uid__in=uids).select_related("household")}
    visible = set(scope.persons().filter(uid__in=uids).values_list("uid", flat=True))
    conflicts: dict[str, Conflict | None] = {}
    seen: dict[str, int] = {}
    filled: list[_Filled] = []
    for number, cells in lines:
        uid = _text(cells.get("uid"))
        if not any(_text(cells.get(k)) for k in fill_keys):
            result.skipped += 1  # nothing filled in (grey rows too)
            continue
        person = persons.get(uid)

        def error(code: str, message: str, number=number, person=person) -> None:
            result.errors.append(RowError(number, code, message, person.name if person else ""))

        if not uid:
            error("no_key", _("The row key is missing: rows cannot be added to the sheet."))
            continue
        if person is None or (
            person.village_id == project.village_id
            and person.retired_at is None
            and uid not in visible
        ):
            error("unknown_key", _("Unknown row key %(key)s.") % {"key": uid[:24]})
            continue
        if (
            person.village_id != project.village_id
            or person.retired_at is not None
            or person.household is None
            or person.household.retired_at is not None
        ):
            error("not_in_village", _("This person is not a member of a household of this village."))  # fmt: skip
            continue
        if uid in seen:
            error("duplicate", _("This person is already on row %(row)s.") % {"row": seen[uid]})
            continue
        seen[uid] = number
        if _text(cells.get("name")) != unicodedata.normalize("NFKC", person.name).strip():
            error("name_changed", _("The name does not match the row key: was the row changed?"))
            continue
        if person.household_id not in conflicts:
            conflicts[person.household_id] = actions.conflict_for(member, person, policy)
        if conflict := conflicts[person.household_id]:
            error("conflict", _("This panel member may not review this household (conflict of interest: %(why)s).") % {"why": conflict.label})  # fmt: skip
            continue
        row_errors = len(result.errors)
        knows_text = _text(cells.get("knows"))
        knows = _word(knows_text, YES_WORDS, NO_WORDS)
        if not knows_text:
            error("knows_missing", _("Say whether the panel member knows this household (是 or 否)."))  # fmt: skip
        elif knows is None:
            error("knows_invalid", _("“%(column)s” must be 是 or 否 (not “%(value)s”).") % {"column": headers["knows"], "value": knows_text[:20]})  # fmt: skip
        negative_items: list[str] = []
        for item in policy.negative_items:
            tick = _text(cells.get(f"neg:{item}"))
            ticked = _word(tick, TICK_WORDS, NO_TICK_WORDS)
            if ticked:
                negative_items.append(item)
            elif ticked is None:
                error("tick", _("“%(column)s”: tick with √, 1 or 是, or leave empty (not “%(value)s”).") % {"column": headers[f"neg:{item}"], "value": tick[:20]})  # fmt: skip
        graded: dict[str, int] = {}
        for item in policy.graded_items:
            value = cells.get(f"grade:{item}")
            if not _text(value):
                continue
            grade = _whole_number(value)
            if grade not in GRADES:
                error("grade", _("“%(column)s”: a grade is a whole number from 1 to 5 (not “%(value)s”).") % {"column": headers[f"grade:{item}"], "value": _text(value)[:20]})  # fmt: skip
            else:
                graded[item] = grade
        amount = None
        if _text(cells.get("amount")):
            amount = _whole_number(cells.get("amount"))
            if amount is None:
                error("amount", _("The amount must be a whole number of yuan."))
            elif not 0 <= amount <= policy.amount_cap_yuan:
                error("amount_cap", _("The suggested amount must be between 0 and %(cap)s yuan.") % {"cap": policy.amount_cap_yuan})  # fmt: skip
        if knows is False and (negative_items or graded or _text(cells.get("amount"))):
            error("knows_no_with_answers", _("The panel member does not know this household (否): leave the rest of the row empty."))  # fmt: skip
        if len(result.errors) == row_errors and knows is not None:
            filled.append(_Filled(number, person, knows, sorted(negative_items), graded, amount))
    return filled


def _store(actor, rnd: Round, member: PanelMember, filled: list[_Filled], result) -> None:
    """Inside the import's transaction: compare with what the member already has in the
    round (rows locked), then store everything or — if any row is refused — nothing."""
    if not actions.round_still_open(rnd):
        raise ValidationError(_("This round is closed."))
    existing = {
        r.person_id: r
        for r in Review.objects.select_for_update().filter(
            round=rnd, reviewer=member, person_id__in=[f.person.uid for f in filled]
        )
    }
    now = timezone.now()
    create: list[Review] = []
    replace: list[Review] = []
    for f in filled:
        review = existing.get(f.person.uid)
        if review is None:
            create.append(Review(round=rnd, reviewer=member, person=f.person))
            review = create[-1]
        elif review.status == ReviewStatus.SUBMITTED and review.source == Source.PAPER:
            if f.same_as(review):
                result.unchanged += 1
            else:
                result.errors.append(RowError(f.row, "already_imported", _("This person's review was already imported from paper with other answers; a submitted review cannot be changed."), f.person.name))  # fmt: skip
            continue
        elif review.status == ReviewStatus.SUBMITTED:
            result.errors.append(RowError(f.row, "submitted_in_app", _("The panel member has already submitted this person's review in the app."), f.person.name))  # fmt: skip
            continue
        elif review.status == ReviewStatus.VOID:
            result.errors.append(RowError(f.row, "void", _("This person's review by the panel member is void."), f.person.name))  # fmt: skip
            continue
        else:
            replace.append(review)
        review.knows_household = f.knows
        review.negative_items = f.negative_items if f.knows else []
        review.graded = f.graded if f.knows else {}
        review.amount_yuan = f.amount_yuan if f.knows else None
        review.status, review.submitted_at = ReviewStatus.SUBMITTED, now
        review.source, review.entered_by = Source.PAPER, actor
        review.void_reason = ""
    if result.errors:
        return
    Review.objects.bulk_create(create)
    for review in replace:
        review.save()
    result.created, result.replaced_drafts = len(create), len(replace)
    # the audit row counts what the sheet held, never what it says (back to back)
    record(actor, "evaluation.sheet.import", rnd, after={
        "member": member.pk, "created": result.created, "replaced_drafts": result.replaced_drafts,
        "unchanged": result.unchanged, "skipped": result.skipped,
    })  # fmt: skip
