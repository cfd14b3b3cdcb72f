"""Rows of background work: runs, worker processes, scheduled jobs."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted")


class BackgroundRun(models.Model):
    """A piece of background work as staff see it. The worker that runs it writes its id
    here when it starts; `attempt` grows each time the run is queued again, so a task of
    an earlier attempt (or a worker that was thought dead and comes back) changes
    nothing: every write of a run's result is conditional on its attempt and status."""

    Status = RunStatus

    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    task_id = models.CharField(max_length=64, blank=True)  # django_tasks_db result id
    worker_id = models.CharField(max_length=64, blank=True)  # WorkerProcess.worker_id
    attempt = models.PositiveSmallIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)  # progress: units of `total` done
    total = models.PositiveIntegerField(default=0)

    ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
    RERUNNABLE = (RunStatus.FAILED, RunStatus.INTERRUPTED)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def enqueue(self, task, *, after: dt.datetime | None = None) -> None:
        """Queue `task(pk, attempt)` for this run (not before `after`, if given) and note
        the task's id. Call inside the transaction that created or re-queued the run: both
        commit or neither."""
        result = (task.using(run_after=after) if after else task).enqueue(self.pk, self.attempt)
        type(self).objects.filter(pk=self.pk).update(task_id=str(result.id))
        self.task_id = str(result.id)

    def queue_again(self, **reset) -> bool:
        """A failed or interrupted run back to queued as its next attempt, with `reset` (the
        kind's own result fields) cleared; True if this call did it. A conditional UPDATE:
        of two people asking at once one wins, the other's call returns False."""
        queued = type(self).objects.filter(
            pk=self.pk, status__in=self.RERUNNABLE, attempt=self.attempt
        ).update(
            status=RunStatus.QUEUED, attempt=self.attempt + 1, worker_id="", task_id="",
            heartbeat_at=None, done=0, **reset,
        )  # fmt: skip
        if queued:
            self.refresh_from_db()
        return bool(queued)


class WorkerProcess(models.Model):
    """A process that runs background work: `cunxin worker`, or a foreground command
    such as `cunxin pool publish`. Its ticker thread sets `seen_at` every few seconds;
    one silent for `settings.CUNXIN_WORKER_STALE_SECONDS` has stopped."""

    class Kind(models.TextChoices):
        WORKER = "worker", _("Task worker")
        COMMAND = "command", _("Command")
        INLINE = "inline", _("In the same process")

    worker_id = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    host = models.CharField(max_length=128)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-seen_at"]
        verbose_name = _("worker process")
        verbose_name_plural = _("worker processes")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.host}:{self.pid}"


class ScheduledJob(models.Model):
    """When a periodic job (settings.CUNXIN_SCHEDULE) is due next. A worker that moves
    `next_run_at` on with a conditional UPDATE is the one that enqueues it."""

    name = models.CharField(max_length=64, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name
