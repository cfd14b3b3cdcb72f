"""Background tasks of the customer pool, run by `cunxin worker` (cunxin.jobs)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskContext, task

from cunxin.datapool.errors import PoolInputError
from cunxin.pool.models import PublishRun
from cunxin.pool.publish import PublishBusy, PublishSuperseded, publish

BUSY_RETRY_SECONDS = 60


@task(takes_context=True)
def publish_pool(context: TaskContext, run_pk: int, attempt: int) -> str:
    """A queued publish (`publish.publish` with the run); returns the run's status. A
    folder that is no longer a complete pool fails the run with the reason; another
    publish running (the command line's, say) leaves it queued, to be tried again in a
    minute."""
    run = PublishRun.objects.get(pk=run_pk)
    if run.attempt != attempt:
        return "superseded"
    worker_id = (context.task_result.worker_ids or [""])[-1]
    try:
        run = publish(run.pool_dir, by=run.published_by, run=run, worker_id=worker_id)
    except PublishBusy:
        with transaction.atomic():
            run = PublishRun.objects.select_for_update().get(pk=run_pk)
            if run.status == PublishRun.Status.QUEUED and run.attempt == attempt:
                after = timezone.now() + dt.timedelta(seconds=BUSY_RETRY_SECONDS)
                run.enqueue(publish_pool, after=after)
                return "waiting"
        return run.status
    except PublishSuperseded:
        return "superseded"
    except PoolInputError as e:
        # a bad folder failed the run already (claimed); this marks it if it was not
        PublishRun.objects.filter(
            pk=run_pk, attempt=attempt, status=PublishRun.Status.QUEUED
        ).update(status=PublishRun.Status.FAILED, finished_at=timezone.now(), error=str(e))
        run.refresh_from_db()
    return run.status
