"""The jobs' own tasks, run by `cunxin worker`."""

from __future__ import annotations

from django_tasks import task

from cunxin.jobs.sweep import sweep_runs


@task()
def sweep() -> dict[str, int]:
    """The periodic sweep (settings.CUNXIN_SCHEDULE): runs of stopped workers interrupted."""
    return sweep_runs()
