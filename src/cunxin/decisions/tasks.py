"""Background tasks of the credit stage, run by `cunxin worker` (cunxin.jobs)."""

from __future__ import annotations

from django_tasks import TaskContext, task

from cunxin.decisions import batch


@task(takes_context=True)
def run_batch(context: TaskContext, run_pk: int, attempt: int) -> str:
    """A batch pre-credit or what-if run (`batch.execute`); returns the run's status."""
    worker_id = (context.task_result.worker_ids or [""])[-1]
    return batch.execute(run_pk, attempt, worker_id).status
