"""The jobs' own tasks, run by `cunxin worker`."""

from __future__ import annotations

from django_tasks import TaskContext, task

from cunxin.jobs.sweep import sweep_runs


@task(takes_context=True)
def sweep(context: TaskContext) -> dict[str, int]:
    """The periodic sweep (settings.CUNXIN_SCHEDULE): runs of stopped workers interrupted.
    The worker running it is alive, whatever its last beat says."""
    return sweep_runs(alive=(context.task_result.worker_ids or [""])[-1])
