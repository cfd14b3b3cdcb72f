"""Background tasks of the customer pool, run by `cunxin worker` (cunxin.jobs)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import TaskContext, task

from cunxin.datapool.errors import PoolInputError
from cunxin.pool.models import PublishRun


@task(takes_context=True)
def publish_pool(context: TaskContext, run_pk: int, attempt: int) -> str:
    """A queued publish (`publish.publish` with the run); returns the run's status. A
    folder that is no longer a complete pool fails the run with the reason."""
    from cunxin.pool.publish import publish

    run = PublishRun.objects.get(pk=run_pk)
    if run.attempt != attempt:
        return "superseded"
    worker_id = (context.task_result.worker_ids or [""])[-1]
    try:
        run = publish(run.pool_dir, by=run.published_by, run=run, worker_id=worker_id)
    except PoolInputError as e:
        # a bad folder failed the run already; another publish running refused it unclaimed
        PublishRun.objects.filter(
            pk=run_pk, attempt=attempt, status=PublishRun.Status.QUEUED
        ).update(status=PublishRun.Status.FAILED, finished_at=timezone.now(), error=str(e))
        run.refresh_from_db()
    return run.status
