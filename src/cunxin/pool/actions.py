"""What staff do with the customer pool: reveal a value, save and export segments."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cunxin.audit.chain import record
from cunxin.org.scope import scope_for
from cunxin.pool.models import AccessLog, ListColor, Person, Segment, is_tag

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


def clean_segment(name: str, tags: list[str], colors: list[str]) -> tuple[str, list, list]:
    name = name.strip()
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


def log_export(actor, segment: Segment, rows: int, reason: str) -> None:
    """An export of masked values. `detail` is machine text, "segment=<pk> rows=<n>"
    (`export_detail` reads it back); the page renders a sentence from it."""
    AccessLog.objects.create(
        user=actor, kind=AccessLog.Kind.EXPORT, field="masked", reason=reason[:200],
        detail=f"segment={segment.pk} rows={rows}",
    )  # fmt: skip


def export_detail(detail: str) -> dict[str, int] | None:
    """ "segment=12 rows=345" → {"segment": 12, "rows": 345}; an evaluation sheet's
    "evaluation-sheet project=3 member=7 rows=40" → {"project": 3, "member": 7, "rows":
    40}; a batch run's white list "batch-whitelist run=5 rows=9" → {"batch": 5, "rows": 9}
    and a village's approval sheet "batch-approval run=5 village=V1 rows=9" → {"batch": 5,
    "village_code": "V1", "rows": 9}; None for anything else."""
    if match := re.fullmatch(r"segment=(\d+) rows=(\d+)", detail):
        return {"segment": int(match[1]), "rows": int(match[2])}
    if match := re.fullmatch(r"evaluation-sheet project=(\d+) member=(\d+) rows=(\d+)", detail):
        return {"project": int(match[1]), "member": int(match[2]), "rows": int(match[3])}
    if match := re.fullmatch(r"batch-whitelist run=(\d+) rows=(\d+)", detail):
        return {"batch": int(match[1]), "rows": int(match[2])}
    if match := re.fullmatch(r"batch-approval run=(\d+) village=(\w+) rows=(\d+)", detail):
        return {"batch": int(match[1]), "village_code": match[2], "rows": int(match[3])}
    return None


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
