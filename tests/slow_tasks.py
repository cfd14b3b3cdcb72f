"""A task for tests/test_worker.py that a test can kill mid-way: it runs a batch run the
way `decisions.tasks.run_batch` does, but its deciding step waits (touching a marker file
first), so that the worker process running it can be killed while the run is running."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import TaskContext, task

from cunxin.decisions import batch


@task(takes_context=True)
def stalled_batch(context: TaskContext, run_pk: int, attempt: int) -> str:
    def stalled(*args, **kwargs):
        Path(os.environ["CUNXIN_TEST_MARKER"]).touch()
        time.sleep(600)

    batch.decide_all = stalled
    worker_id = context.task_result.worker_ids[-1]
    return batch.execute(run_pk, attempt, worker_id).status
