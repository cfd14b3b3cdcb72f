"""The sweep: runs whose process stopped are marked interrupted (a periodic job, and at
a worker's start)."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cunxin.audit.chain import record
from cunxin.jobs.models import BackgroundRun, RunStatus, WorkerProcess
from cunxin.jobs.processes import live_worker_ids, stale_seconds

SYSTEM = "cunxin worker"
LOST = "cunxin.jobs.WorkerStopped"


def run_models() -> list[type[BackgroundRun]]:
    """Every concrete kind of run row (batch runs, publish runs, …)."""
    return [m for m in apps.get_models() if issubclass(m, BackgroundRun)]


def interrupt(runs, now: dt.datetime | None = None) -> int:
    """Mark these runs interrupted (their process stopped), each only if it is still in
    the status and attempt it was read in (a run that finishes at the same moment keeps
    its result), with an audit event. Returns how many were marked."""
    now = now or timezone.now()
    marked = 0
    for run in runs:
        with transaction.atomic():
            stopped = (
                type(run)
                .objects.filter(pk=run.pk, status=run.status, attempt=run.attempt)
                .update(status=RunStatus.INTERRUPTED, finished_at=now)
            )
            if stopped:
                record(SYSTEM, "jobs.run.interrupt", run, after={
                    "was": run.status, "worker": run.worker_id, "attempt": run.attempt,
                })  # fmt: skip
                marked += 1
    return marked


def sweep_runs(now: dt.datetime | None = None, *, alive: str = "") -> dict[str, int]:
    """Mark interrupted every running run whose process stopped beating, and every queued
    run whose task ended without running it; fail the task rows of stopped workers; note
    the processes that stopped. Returns how many runs were interrupted, by kind. Each
    interruption is audited; one conditional UPDATE decides it, so a run that finishes
    at the same moment keeps its result. `alive` is a worker known to be alive whatever
    its last beat says (the one running this sweep). A few queries, plus two per
    interrupted run."""
    now = now or timezone.now()
    live = live_worker_ids(now) | ({alive} if alive else set())
    counts: dict[str, int] = {}
    for model in run_models():
        label = model._meta.label_lower
        stuck = model.objects.filter(status=RunStatus.RUNNING).exclude(worker_id__in=live)
        queued = list(model.objects.filter(status=RunStatus.QUEUED).exclude(task_id=""))
        ended = {
            str(i)
            for i in DBTaskResult.objects.filter(
                id__in=[r.task_id for r in queued], status__in=("FAILED", "SUCCESSFUL")
            ).values_list("id", flat=True)
        } if queued else set()  # fmt: skip
        orphans = [r for r in queued if r.task_id in ended]
        counts[label] = interrupt([*stuck, *orphans], now)
    for result in DBTaskResult.objects.filter(status="RUNNING").only("id", "worker_ids"):
        if result.worker_ids and result.worker_ids[-1] not in live:
            DBTaskResult.objects.filter(id=result.id, status="RUNNING").update(
                status="FAILED", finished_at=now, exception_class_path=LOST,
                traceback=f"worker {result.worker_ids[-1]} stopped while running this task",
            )  # fmt: skip
    cutoff = now - dt.timedelta(seconds=stale_seconds())
    WorkerProcess.objects.filter(stopped_at__isnull=True, seen_at__lt=cutoff).exclude(
        worker_id=alive
    ).update(stopped_at=F("seen_at"))
    return counts
