"""Appending to and verifying the hash chains: the audit trail (`AuditEvent`, head row 1)
and the access log (`pool.AccessLog`, head row 2, linked by `link`).

Each row's SHA-256 covers its content and the previous row's hash, and a head row keeps
the last one, so an altered, removed or reordered row breaks the chain. Someone with full
database access can still remove the last rows and rewind the head, or rebuild a chain:
the head printed by `cunxin audit verify`, kept outside the database, catches that
(`verify(head=…)`: a kept head must still be a row of the chain).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cunxin.audit.models import AuditEvent, ChainHead

GENESIS = "0" * 64
AUDIT_HEAD = 1  # ChainHead rows
ACCESS_LOG_HEAD = 2


def _canonical(value: Any) -> Any:
    """JSON-safe, stable form of before/after snapshots (dates and decimals as text)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True, ensure_ascii=False))


def event_hash(prev_hash: str, *, at: dt.datetime, actor_name: str, action: str,
               object_type: str, object_id: str, before: Any, after: Any) -> str:  # fmt: skip
    payload = json.dumps(
        [prev_hash, at.astimezone(dt.UTC).isoformat(), actor_name, action, object_type,
         object_id, before, after],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    actor,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event. Call inside the transaction that makes the change, so the change
    and its audit row commit (or roll back) together. Costs two queries and a row lock."""
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or str(obj.pk)
    actor_name = getattr(actor, "username", None) or str(actor or "system")
    user = actor if getattr(actor, "pk", None) else None
    before, after = _canonical(before), _canonical(after)
    at = timezone.now()
    event = AuditEvent(
        at=at, actor=user, actor_name=actor_name, action=action,
        object_type=object_type or "", object_id=object_id or "", before=before, after=after,
    )  # fmt: skip
    link(AUDIT_HEAD, event, _event_payload(event), event.save)
    return event


def linked_hash(prev_hash: str, payload: list) -> str:
    """A row's hash in a chain other than the audit trail's (whose `event_hash` is older)."""
    text = json.dumps([prev_hash, *payload], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


def _event_payload(e: AuditEvent) -> list:
    return [e.at, e.actor_name, e.action, e.object_type, e.object_id, e.before, e.after]


def _digest(head_pk: int, prev_hash: str, payload: list) -> str:
    if head_pk == AUDIT_HEAD:
        at, actor_name, action, object_type, object_id, before, after = payload
        return event_hash(
            prev_hash, at=at, actor_name=actor_name, action=action, object_type=object_type,
            object_id=object_id, before=before, after=after,
        )  # fmt: skip
    return linked_hash(prev_hash, payload)


def link(head_pk: int, row, payload: list, save) -> None:
    """Append `row` to the chain of head `head_pk`: set its `prev_hash` and `hash` (over
    `payload`, its content) and call `save()`, under the head's row lock, so concurrent
    writers extend the chain one after the other. Call inside the transaction that makes
    the change. Two queries and a row lock besides the save."""
    # no savepoint: inside the caller's transaction, a failure here must fail the change too
    with transaction.atomic(savepoint=False):
        # Heads are locked in one order (the audit trail's, then the access log's): a
        # transaction that appends to both chains, in either order, cannot deadlock with
        # another one doing the same.
        for lower in range(AUDIT_HEAD, head_pk):
            ChainHead.objects.select_for_update().get_or_create(
                pk=lower, defaults={"last_hash": GENESIS}
            )
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            pk=head_pk, defaults={"last_hash": GENESIS}
        )
        row.prev_hash = head.last_hash
        row.hash = _digest(head_pk, head.last_hash, payload)
        save()
        head.last_id, head.last_hash = row.pk, row.hash
        head.save(update_fields=["last_id", "last_hash"])


# What `verify` can find wrong: a code, and what it means for the page and the console.
PROBLEMS = {
    "broken_link": gettext_lazy(
        "its link to the previous event does not match (an event was removed, inserted or "
        "reordered)"
    ),
    "altered": gettext_lazy("its content does not match its hash (the event was altered)"),
    "truncated": gettext_lazy(
        "the chain ends before its recorded head (events at the end were removed)"
    ),
    "unrecorded": gettext_lazy(
        "there are events after the chain's recorded head (added without going through it)"
    ),
    "head_missing": gettext_lazy(
        "the head kept outside the database is not in the chain (events at the end were "
        "removed, or the chain was rebuilt)"
    ),
}


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str = ""  # a key of PROBLEMS
    # the last row's id and hash (what to keep outside the database), when ok
    head_id: int | None = None
    head_hash: str = ""

    @property
    def message(self) -> str:
        """What the problem means, in the active language."""
        return str(PROBLEMS.get(self.problem, self.problem))


def verify(batch: int = 5000, *, head: str | None = None) -> Verification:
    """Walk the whole audit chain in id order; report the first event whose link or hash
    is wrong. With `head` (a hash printed by an earlier check and kept outside the
    database), that event must still be in the chain. Reads every event once, in
    batches."""
    return verify_chain(AuditEvent.objects.all(), _event_payload, AUDIT_HEAD, batch, head)


def verify_chain(rows, payload, head_pk: int, batch: int = 5000, head: str | None = None):
    """`verify` for any chained table: `rows` a queryset of it, `payload(row)` the content
    its hash covers (as given to `link`).

    It checks the rows up to the recorded head, then reads the head again: rows appended
    meanwhile (under the head's lock, so with higher ids) are checked on to the new head,
    and the chain must end exactly there: a head the rows do not reach is "truncated", a
    row past the head "unrecorded"."""
    prev = GENESIS
    checked = 0
    last_id = 0
    seen_head = head is None or head == GENESIS
    while True:
        recorded = ChainHead.objects.filter(pk=head_pk).first()
        upto = rows if recorded is None else rows.filter(pk__lte=recorded.last_id)
        while chunk := list(upto.filter(pk__gt=last_id).order_by("pk")[:batch]):
            for r in chunk:
                if r.prev_hash != prev:
                    return Verification(False, checked, r.pk, "broken_link")
                if r.hash != _digest(head_pk, prev, payload(r)):
                    return Verification(False, checked, r.pk, "altered")
                seen_head = seen_head or r.hash == head
                prev = r.hash
                checked += 1
                last_id = r.pk
        if recorded is None:
            break
        if recorded.last_hash != prev:
            return Verification(False, checked, recorded.last_id, "truncated")
        # rows past the head, then the head: a row and its head commit together, so a row
        # seen here whose head has not moved was added without it
        extra = rows.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True).first()
        again = ChainHead.objects.filter(pk=head_pk).values_list("last_id", flat=True).first()
        if again == recorded.last_id:
            if extra is not None:
                return Verification(False, checked, extra, "unrecorded")
            break
    if not seen_head:
        return Verification(False, checked, None, "head_missing")
    return Verification(True, checked, head_id=last_id or None, head_hash=prev if last_id else "")
