"""Appending to and verifying the hash chain."""

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
    # no savepoint: inside the caller's transaction, a failure here must fail the change too
    with transaction.atomic(savepoint=False):
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS}
        )
        digest = event_hash(
            head.last_hash, at=at, actor_name=actor_name, action=action,
            object_type=object_type or "", object_id=object_id or "", before=before, after=after,
        )  # fmt: skip
        event = AuditEvent.objects.create(
            at=at, actor=user, actor_name=actor_name, action=action,
            object_type=object_type or "", object_id=object_id or "",
            before=before, after=after, prev_hash=head.last_hash, hash=digest,
        )  # fmt: skip
        head.last_id, head.last_hash = event.pk, digest
        head.save(update_fields=["last_id", "last_hash"])
    return event


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
}


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str = ""  # a key of PROBLEMS

    @property
    def message(self) -> str:
        """What the problem means, in the active language."""
        return str(PROBLEMS.get(self.problem, self.problem))


def verify(batch: int = 5000) -> Verification:
    """Walk the whole chain in id order; report the first event whose link or hash is
    wrong. Reads every event once, in batches."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        events = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk")[:batch])
        if not events:
            break
        for e in events:
            if e.prev_hash != prev:
                return Verification(False, checked, e.pk, "broken_link")
            expected = event_hash(
                prev, at=e.at, actor_name=e.actor_name, action=e.action,
                object_type=e.object_type, object_id=e.object_id, before=e.before, after=e.after,
            )  # fmt: skip
            if e.hash != expected:
                return Verification(False, checked, e.pk, "altered")
            prev = e.hash
            checked += 1
            last_id = e.pk
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != prev:
        return Verification(False, checked, head.last_id, "truncated")
    return Verification(True, checked)
