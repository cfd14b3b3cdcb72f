"""What staff do with the customer pool: search it, reveal a value, save and export
segments."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cunxin.audit.chain import record
from cunxin.lib import crypto, idnumber
from cunxin.lib.text import clean_typed_name
from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.pool.models import (
    AccessLog,
    ListColor,
    Person,
    PublishRun,
    SearchCount,
    Segment,
    is_tag,
)
from cunxin.pool.publish import TABLES, check_pool
from cunxin.pool.tasks import publish_pool

REVEALABLE = {"id_number": Person.id_number, "phone": Person.phone}
REVEAL_REASONS = {
    "visit": gettext_lazy("Customer visit or phone call"),
    "verify": gettext_lazy("Identity verification"),
    "contract": gettext_lazy("Contract or loan paperwork"),
    "risk": gettext_lazy("Risk investigation"),
    "customer_request": gettext_lazy("At the customer's request"),
}

# AccessLog.field: what was revealed, or "masked" for an export of masked values.
FIELD_LABELS = {
    "id_number": pgettext_lazy("access log field", "ID number"),
    "phone": pgettext_lazy("access log field", "Phone"),
    "masked": pgettext_lazy("access log field", "Masked values"),
}


def do_reveal(actor, person: Person, field: str, reason: str, note: str = "") -> str:
    """The full value of a protected field, after writing the access-log row. Refuses
    (PermissionDenied) a person outside the actor's scope, whoever calls: a view has
    already answered 404 for them, an API or a script relies on this check. One query."""
    scope = scope_for(actor)
    scope.require(scope.can_reveal)
    if not scope.persons().filter(pk=person.pk).exists():
        raise PermissionDenied
    if field not in REVEALABLE:
        raise ValidationError(_("This field cannot be revealed."))
    if reason not in REVEAL_REASONS:
        raise ValidationError(_("Choose a reason."))
    note = note.strip()[:150]
    value = REVEALABLE[field](person)
    if not value:
        raise ValidationError(_("There is no value to reveal."))
    AccessLog.objects.create(
        user=actor, kind=AccessLog.Kind.REVEAL, person=person, field=field,
        reason=str(REVEAL_REASONS[reason]) + (f"：{note}" if note else ""),
    )  # fmt: skip
    return value


# --- search ----------------------------------------------------------------------------------
# A search is an oracle if its answer depends on a hidden value: with the masked ID on the
# 360 page (first 6 + last 4) and the year of birth, about 33 dates fit the check digit,
# and a search that says which of them hits gives the whole number away (issue 11). So a
# search by a full ID number or phone is a reveal: only roles that may reveal may run it,
# every run is in the access log (the persons it found, or that it found nobody), and it
# has its own, lower rate limit. The other searches compare only what every list shows
# (a name, a masked value exactly as masked, its last four digits), so they confirm
# nothing hidden. Segment counts are counts of whole tags, which hold no part of an ID
# number or phone.
EXACT = frozenset({"id", "phone"})
SEARCH_WINDOW = dt.timedelta(hours=1)
# At most this many persons found by one full-value search are logged one by one; a
# phone or ID shared by more (a data error) is logged once more, without a person.
LOGGED_HITS = 20


@dataclass(frozen=True)
class Search:
    """What the search box was given, normalised, and how it will match: "id", "phone"
    (exact, through the blind index), "masked", "tail" (the visible digits of a masked
    value), "name", or "" (nothing to search)."""

    text: str
    how: str

    @property
    def exact(self) -> bool:
        return self.how in EXACT


class SearchRefused(Exception):
    """The search was not run; `message` says why (in the active language), `status` is
    the HTTP status a page answers with: 403 (the role may not search by a full value),
    429 (too many searches)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def parse_search(q: str) -> Search:
    """Full-width digits and letters count as ASCII, spaces are ignored; a legacy 15-digit
    ID becomes the 18-digit number the pool stores."""
    q = unicodedata.normalize("NFKC", q).strip().replace(" ", "")
    if not q:
        return Search("", "")
    digits = re.fullmatch(r"[0-9Xx*]+", q) is not None
    if digits and "*" not in q and len(q) in (15, 18):
        if len(q) == 15 and idnumber.is_valid(q):
            q = idnumber.upgrade15(q)
        return Search(q.upper(), "id")
    if digits and "*" not in q and len(q) == 11:
        return Search(q, "phone")
    if digits and "*" in q:
        return Search(q.upper(), "masked")
    if digits and len(q) == 4:
        return Search(q.upper(), "tail")
    return Search(q, "name")


def search_persons(actor, qs, q: str):
    """Persons of `qs` (already within the actor's scope) that match the search text, and
    how it matched. A search by a full ID number or phone needs the reveal permission
    (else SearchRefused 403, before anything is looked up) and writes access-log rows;
    every search counts against the actor's rate limits (SearchRefused 429)."""
    search = parse_search(q)
    if not search.how:
        return qs, ""
    if search.exact:
        scope = scope_for(actor)
        if not scope.can_reveal:
            raise SearchRefused(
                _(
                    "Your role may not search by a full ID number or phone: that would "
                    "confirm a number that is masked for you. Search by name or by the "
                    "visible digits of the masked value."
                ),
                403,
            )
    count_search(actor, exact=search.exact)
    if search.how == "id":
        qs = qs.filter(
            id_number_bidx__in=crypto.blind_index_candidates(search.text, purpose="id_number")
        )
    elif search.how == "phone":
        qs = qs.filter(phone_bidx__in=crypto.blind_index_candidates(search.text, purpose="phone"))
    elif search.how == "masked":
        qs = qs.filter(Q(id_masked=search.text) | Q(phone_masked=search.text))
    elif search.how == "tail":
        qs = qs.filter(Q(id_masked__endswith=search.text) | Q(phone_masked__endswith=search.text))
    else:
        qs = qs.filter(name__contains=search.text)
    if search.exact:
        _log_exact_search(actor, qs, "id_number" if search.how == "id" else "phone")
    return qs, search.how


def _log_exact_search(actor, qs, field: str) -> None:
    """One access-log row per person the full value found (it confirms whose it is), or
    one without a person if it found nobody (a run of such rows is someone trying
    numbers). Two queries and a row per person."""
    hits = list(qs.order_by("pk").values_list("pk", flat=True)[: LOGGED_HITS + 1])
    reason = _("Search by full number") if hits else _("Search by full number: nobody found")
    with transaction.atomic():
        for pk in hits[:LOGGED_HITS]:
            AccessLog.objects.create(
                user=actor, kind=AccessLog.Kind.SEARCH, person_id=pk, field=field, reason=reason
            )
        if not hits or len(hits) > LOGGED_HITS:
            AccessLog.objects.create(
                user=actor, kind=AccessLog.Kind.SEARCH, field=field, reason=reason,
                detail="more persons" if hits else "",
            )  # fmt: skip


def search_limit(exact: bool) -> int:
    return settings.CUNXIN_EXACT_SEARCHES_PER_HOUR if exact else settings.CUNXIN_SEARCHES_PER_HOUR


def count_search(actor, *, exact: bool) -> None:
    """Count one search of the actor in this clock hour, in the database (so every web
    process and server shares the count); a search by a full value counts for both
    limits. Raises SearchRefused (429) once a limit is reached: the refused search is not
    run. A few queries, one row lock."""
    now = timezone.now()
    window = now.replace(minute=0, second=0, microsecond=0)
    for kind in (False, True) if exact else (False,):
        with transaction.atomic():
            if not SearchCount.objects.filter(user=actor, exact=kind, window_start=window).update(
                count=F("count") + 1
            ):
                try:
                    with transaction.atomic():
                        SearchCount.objects.create(
                            user=actor, exact=kind, window_start=window, count=1
                        )
                except IntegrityError:  # another process made the row first
                    SearchCount.objects.filter(user=actor, exact=kind, window_start=window).update(
                        count=F("count") + 1
                    )
                SearchCount.objects.filter(user=actor, window_start__lt=window).delete()
            count = SearchCount.objects.get(user=actor, exact=kind, window_start=window).count
        if count > search_limit(kind):
            until = timezone.localtime(window + SEARCH_WINDOW)
            raise SearchRefused(
                _("Too many searches this hour; search again after %(time)s.")
                % {"time": until.strftime("%H:%M")}
                if not kind
                else _(
                    "Too many searches by a full ID number or phone this hour; search "
                    "again after %(time)s, or search by name."
                )
                % {"time": until.strftime("%H:%M")},
                429,
            )


def clean_segment(name: str, tags: list[str], colors: list[str]) -> tuple[str, list, list]:
    name = clean_typed_name(name)
    if not name:
        raise ValidationError(_("Give the segment a name."))
    tags = sorted({t.strip() for t in tags if t.strip()})
    if any(not is_tag(t) for t in tags):
        raise ValidationError(_("A tag is written family:tag."))
    colors = sorted(set(colors))
    if any(c not in ListColor.values for c in colors):
        raise ValidationError(_("Unknown list colour."))
    if not tags and not colors:
        raise ValidationError(_("A segment needs at least one tag or list colour."))
    return name[:64], tags, colors


# --- capabilities: the action refuses, its view answers 403 and the template offers the
# button by asking the same function
def may_create_segment(scope) -> bool:
    return scope.can_write


def may_delete_segment(scope, segment: Segment) -> bool:
    """Its creator, or an HQ admin (staff who may write and see everything)."""
    return scope.can_write and (segment.created_by_id == scope.user.pk or scope.sees_everything)


def do_create_segment(actor, name: str, tags: list[str], colors: list[str]) -> Segment:
    scope = scope_for(actor)
    scope.require(may_create_segment(scope))
    name, tags, colors = clean_segment(name, tags, colors)
    with transaction.atomic():
        segment = Segment.objects.create(name=name, tags=tags, colors=colors, created_by=actor)
        record(actor, "pool.segment.create", segment,
               after={"name": name, "tags": tags, "colors": colors})  # fmt: skip
    return segment


def do_delete_segment(actor, segment: Segment) -> None:
    scope = scope_for(actor)
    scope.require(may_delete_segment(scope, segment))
    with transaction.atomic():
        before = {"name": segment.name, "tags": segment.tags, "colors": segment.colors}
        pk = segment.pk
        segment.delete()
        record(actor, "pool.segment.delete", object_type="pool.segment", object_id=str(pk),
               before=before)  # fmt: skip


@dataclass(frozen=True)
class Export:
    """An export of masked personal data, as its access-log row says it: the kind of file,
    how many rows it held, what it was in words at the time (a segment's name, a village
    and an evaluator, a batch run and a village) and the object it came from (linked on
    the access log page). The apps that export build one; `do_log_export` writes it."""

    kind: str  # AccessLog.ExportKind
    rows: int
    subject: str
    obj: models.Model


def do_log_export(actor, export: Export) -> AccessLog:
    """The access-log row of an export of masked values (one per file), in the caller's
    transaction if there is one. The caller has checked the actor may export it."""
    if export.kind not in AccessLog.ExportKind.values:
        raise ValueError(f"unknown export kind {export.kind!r}")
    obj = export.obj
    return AccessLog.objects.create(
        user=actor, kind=AccessLog.Kind.EXPORT, field="masked",
        reason=str(AccessLog.ExportKind(export.kind).label)[:200],
        export_kind=export.kind, row_count=export.rows, subject=export.subject[:200],
        object_type=f"{obj._meta.app_label}.{obj._meta.model_name}", object_id=str(obj.pk),
    )  # fmt: skip


def segment_filter(qs, segment: Segment):
    """Persons matching all of the segment's tags and any of its colours. A tag stored
    without a tag's shape (before tags were checked) matches nobody: it never reaches a
    LIKE pattern, which SQLite refuses beyond 50,000 bytes."""
    if any(not isinstance(t, str) or not is_tag(t) for t in segment.tags):
        return qs.none()
    for tag in segment.tags:
        qs = qs.filter(tags__contains=f" {tag} ")
    if segment.colors:
        qs = qs.filter(list_color__in=segment.colors)
    return qs


# --- publishing from the app (the worker runs it: cunxin.pool.tasks) -----------------------
def may_publish(scope) -> bool:
    """Publishing from the page, or queuing a publish again: HQ admins (the CLI is the
    operators')."""
    return scope.role == Role.HQ_ADMIN


def do_queue_publish(pool_dir: Path, *, by: str, actor=None) -> PublishRun:
    """Queue a publish of `pool_dir` for `cunxin worker` (audited): the run row and its
    task commit together. The folder is checked now, so a mistake is said at once
    (PoolInputError). `actor`, when a user asks from the page, must be an HQ admin; the
    command line (`cunxin pool publish --queue`) passes none."""
    if actor is not None and not may_publish(scope_for(actor)):
        raise PermissionDenied
    pool_dir = Path(pool_dir).resolve()
    manifest = check_pool(pool_dir)
    with transaction.atomic():
        run = PublishRun.objects.create(
            pool_run_id=manifest.get("run_id", ""), pool_dir=str(pool_dir),
            status=PublishRun.Status.QUEUED, published_by=by, total=len(TABLES),
        )  # fmt: skip
        record(actor or by, "pool.publish.queue", run, after={"pool_dir": str(pool_dir)})
        run.enqueue(publish_pool)
    return run


def do_publish_again(actor, run: PublishRun) -> PublishRun:
    """Queue a failed or interrupted publish again, as its next attempt (audited). Of two
    people asking at once, one queues it; the other gets a ValidationError."""
    if not may_publish(scope_for(actor)):
        raise PermissionDenied
    with transaction.atomic():
        if not run.queue_again(started_at=None, finished_at=None, step="", error=""):
            raise ValidationError(_("This publish is not failed or interrupted: it cannot be run again."))  # fmt: skip
        record(actor, "pool.publish.rerun", run, after={"attempt": run.attempt})
        run.enqueue(publish_pool)
    return run
