"""Which processes run background work, and whether they still do: the bottom of
`cunxin.jobs` (the sweep, the worker and the pages that say whether work will start all
read it)."""

from __future__ import annotations

import os
import socket
import uuid

from django.conf import settings
from django.utils import timezone

from cunxin.jobs.models import WorkerProcess


def beat_seconds() -> float:
    return float(getattr(settings, "CUNXIN_WORKER_BEAT_SECONDS", 5))


def stale_seconds() -> float:
    return float(getattr(settings, "CUNXIN_WORKER_STALE_SECONDS", 60))


def live_worker_ids(now=None) -> set[str]:
    """Processes that beat within the stale window and have not stopped. One query."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=stale_seconds())
    return set(
        WorkerProcess.objects.filter(seen_at__gte=cutoff, stopped_at__isnull=True).values_list(
            "worker_id", flat=True
        )
    )


def live_workers() -> list[WorkerProcess]:
    """The task workers running now (for the pages that say whether work will start)."""
    return list(
        WorkerProcess.objects.filter(
            worker_id__in=live_worker_ids(), kind=WorkerProcess.Kind.WORKER
        )
    )


def register(kind: str) -> WorkerProcess:
    now = timezone.now()
    return WorkerProcess.objects.create(
        worker_id=f"{kind}-{uuid.uuid4().hex[:16]}", kind=kind,
        host=socket.gethostname()[:128], pid=os.getpid(), started_at=now, seen_at=now,
    )  # fmt: skip


def beat(worker_id: str) -> None:
    """The process is alive now: `seen_at`, and no longer stopped (a sweep may have
    thought so while it could not beat). One UPDATE."""
    WorkerProcess.objects.filter(worker_id=worker_id).update(
        seen_at=timezone.now(), stopped_at=None
    )
