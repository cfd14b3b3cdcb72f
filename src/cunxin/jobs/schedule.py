"""Periodic jobs (settings.CUNXIN_SCHEDULE), enqueued by the worker that claims them.

    CUNXIN_SCHEDULE = {
        "sweep": {"task": "cunxin.jobs.tasks.sweep", "every": 60},        # seconds
        "eod":   {"task": "cunxin.loans.tasks.end_of_day", "at": "22:30"},  # daily, local time
    }

Each job has a `ScheduledJob` row holding when it is due next. A worker's ticker moves a
due job's `next_run_at` on with a conditional UPDATE (`WHERE next_run_at = <what it
read>`): of several workers exactly one succeeds, and that one enqueues the task in the
same transaction. A job whose previous task has not run yet (the workers are busy) is not
enqueued twice; its next time still moves on.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from cunxin.jobs.models import ScheduledJob

PENDING = ("READY", "RUNNING")


@dataclass(frozen=True)
class Job:
    name: str
    task: str  # dotted path of a django-tasks Task
    every: dt.timedelta | None = None
    at: dt.time | None = None  # daily, in settings.TIME_ZONE

    def next_after(self, now: dt.datetime) -> dt.datetime:
        """The first time after `now` the job is due."""
        if self.every is not None:
            return now + self.every
        local = timezone.localtime(now)
        due = local.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
        if due <= local:
            due = (local + dt.timedelta(days=1)).replace(
                hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0
            )
        return due

    def first(self, now: dt.datetime) -> dt.datetime:
        """When a job never run before is due: an interval job at once, a daily one at
        its next time of day."""
        return now if self.every is not None else self.next_after(now)


def parse(schedule: dict) -> list[Job]:
    """The jobs of a CUNXIN_SCHEDULE dict; a mistake raises ImproperlyConfigured."""
    jobs = []
    for name, spec in schedule.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("task"), str):
            raise ImproperlyConfigured(f"CUNXIN_SCHEDULE[{name!r}] needs a 'task' path")
        every, at = spec.get("every"), spec.get("at")
        if (every is None) == (at is None):
            raise ImproperlyConfigured(f"CUNXIN_SCHEDULE[{name!r}]: give 'every' or 'at'")
        if every is not None:
            if not isinstance(every, int) or every < 1:
                raise ImproperlyConfigured(f"CUNXIN_SCHEDULE[{name!r}]['every'] is seconds ≥ 1")
            jobs.append(Job(name, spec["task"], every=dt.timedelta(seconds=every)))
            continue
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", str(at))
        if not match:
            raise ImproperlyConfigured(f"CUNXIN_SCHEDULE[{name!r}]['at'] is HH:MM")
        jobs.append(Job(name, spec["task"], at=dt.time(int(match[1]), int(match[2]))))
    return jobs


def configured() -> list[Job]:
    return parse(getattr(settings, "CUNXIN_SCHEDULE", {}))


def enqueue_due(now: dt.datetime | None = None, jobs: list[Job] | None = None) -> list[str]:
    """Enqueue the jobs that are due and that this caller claims; their names. A few
    queries per job."""
    now = now or timezone.now()
    enqueued = []
    for job in configured() if jobs is None else jobs:
        row = ScheduledJob.objects.filter(name=job.name).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = ScheduledJob.objects.create(name=job.name, next_run_at=job.first(now))
            except IntegrityError:  # another worker created it first
                row = ScheduledJob.objects.get(name=job.name)
        if row.next_run_at > now:
            continue
        with transaction.atomic():
            claimed = ScheduledJob.objects.filter(name=job.name, next_run_at=row.next_run_at)
            if not claimed.update(next_run_at=job.next_after(now)):
                continue  # another worker claimed it
            if (
                row.last_task_id
                and DBTaskResult.objects.filter(id=row.last_task_id, status__in=PENDING).exists()
            ):
                continue  # the previous one has not run yet
            result = import_string(job.task).enqueue()
            ScheduledJob.objects.filter(name=job.name).update(
                last_enqueued_at=now, last_task_id=str(result.id)
            )
        enqueued.append(job.name)
    return enqueued
