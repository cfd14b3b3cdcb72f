"""`cunxin worker`: the process that runs background work, and `drain()`.

    cunxin worker [--queue default] [--interval 1]      # until SIGTERM / Ctrl-C

The worker loop is django-tasks-db's (`db_worker`): it claims one ready task at a time
under a row lock (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, an exclusive
transaction on SQLite), runs it, and stores its result. Around it this module adds:

- a `WorkerProcess` row and a ticker thread that sets its `seen_at` every
  `CUNXIN_WORKER_BEAT_SECONDS` (5) — a run whose process has been silent for
  `CUNXIN_WORKER_STALE_SECONDS` (60) is marked interrupted by the sweep
  (`cunxin.jobs.tasks.sweep`), which the ticker schedules like every periodic job;
- callbacks a running task registers with `on_beat()`: the ticker calls them from its own
  database connection, so a task inside a long transaction (a publish) still reports
  progress that others can read.

`drain()` runs every queued task in this process with the same claim-and-run code, no
thread: the tests (whose database is one open transaction), the demo's set-up and the
benchmarks use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator

from django.db import OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from cunxin.jobs import processes
from cunxin.jobs.models import WorkerProcess
from cunxin.jobs.processes import beat_seconds, register
from cunxin.jobs.schedule import enqueue_due
from cunxin.jobs.sweep import sweep_runs

log = logging.getLogger(__name__)
BACKEND = "default"


# --- the ticker --------------------------------------------------------------------------
_callbacks: dict[int, Callable[[], None]] = {}
_callbacks_lock = threading.Lock()


@contextlib.contextmanager
def on_beat(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` on every beat of this process's ticker (from the ticker's thread
    and database connection) while the block runs. Without a ticker, never."""
    key = id(callback)
    with _callbacks_lock:
        _callbacks[key] = callback
    try:
        yield
    finally:
        with _callbacks_lock:
            _callbacks.pop(key, None)


class Ticker(threading.Thread):
    """Beats for a process: `seen_at`, the callbacks of running tasks, and (in a task
    worker) the periodic jobs that are due. A database error (a locked SQLite file, a
    dropped connection) is logged and tried again on the next beat."""

    def __init__(self, worker_id: str, *, schedule: bool, parent_pid: int | None = None):
        super().__init__(name=f"ticker-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.schedule = schedule
        self.parent_pid = parent_pid
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(beat_seconds()):
                if self.parent_pid and os.getppid() != self.parent_pid:
                    # the process that started us is gone (the demo was killed): stop as
                    # SIGTERM stops a worker, after the task at hand
                    log.warning("worker %s: its parent process ended; stopping", self.worker_id)
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        """One beat: alive (again, if a sweep had thought us stopped), then each running
        task's callback and the due periodic jobs, each on its own so that one blocked
        (a row a long transaction holds) does not silence the beat itself."""
        close_old_connections()
        if connection.vendor == "sqlite":
            # wait a little for another writer, not the pages' full timeout: the next beat
            # tries again
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 2000")
        steps = [lambda: processes.beat(self.worker_id)]
        with _callbacks_lock:
            steps += list(_callbacks.values())
        if self.schedule:
            steps.append(enqueue_due)
        for step in steps:
            try:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL lock_timeout = '2s'")
                    step()
            except OperationalError as e:
                log.warning("worker %s: beat step failed (%s); trying again", self.worker_id, e)
            except Exception:
                log.exception("worker %s: beat step failed", self.worker_id)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=beat_seconds() + 5)


@contextlib.contextmanager
def process(
    kind: str, *, schedule: bool = False, parent_pid: int | None = None
) -> Iterator[WorkerProcess]:
    """This process as a `WorkerProcess`, beating until the block ends (and, with
    `parent_pid`, stopping itself once that process is gone)."""
    worker = register(kind)
    ticker = Ticker(worker.worker_id, schedule=schedule, parent_pid=parent_pid)
    ticker.start()
    try:
        yield worker
    finally:
        ticker.stop()
        WorkerProcess.objects.filter(worker_id=worker.worker_id).update(
            stopped_at=timezone.now(), seen_at=timezone.now()
        )


class BeatingWorker(Worker):
    """django-tasks-db's worker loop, beating before each task: a worker that could not
    beat during a long one (its ticker blocked by a lock) is alive again before the next
    task, a sweep among them."""

    def run_task(self, db_task_result) -> None:
        processes.beat(self.worker_id)
        super().run_task(db_task_result)


def run(
    *,
    queues: list[str],
    interval: float,
    max_tasks: int | None = None,
    stop_with_parent: bool = False,
) -> None:
    """`cunxin worker`: run tasks until a signal stops it (the current task finishes
    first; a second Ctrl-C ends it at once, and the sweep marks its run interrupted). With
    `stop_with_parent` (the demo's worker) it also stops once the process that started it
    is gone, even killed."""
    parent = os.getppid() if stop_with_parent else None
    with process(WorkerProcess.Kind.WORKER, schedule=True, parent_pid=parent) as worker:
        log.info("cunxin worker %s started (queues %s)", worker.worker_id, ",".join(queues))
        sweep_runs()  # what a killed predecessor left is marked as soon as it is stale
        loop = BeatingWorker(
            queue_names=queues, interval=interval, batch=False, backend_name=BACKEND,
            startup_delay=False, max_tasks=max_tasks, worker_id=worker.worker_id,
            excluded_queue_names=[],
        )  # fmt: skip
        loop.configure_signals()
        try:
            loop.run()
        except SystemExit:
            pass
        finally:
            loop.reset_signals()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def drain(*, queues: list[str] | None = None, beat: bool = False) -> int:
    """Run every ready task in this process, in order, with the worker's own claim and
    run code; returns how many ran. With `beat`, a ticker keeps this process alive in
    the others' eyes (the demo's set-up, benchmarks); without it (the tests, whose
    database is one open transaction that no other connection may write), none."""
    if beat:
        with process(WorkerProcess.Kind.INLINE) as worker:
            return _run_ready(worker, queues)
    worker = register(WorkerProcess.Kind.INLINE)
    try:
        return _run_ready(worker, queues)
    finally:
        WorkerProcess.objects.filter(pk=worker.pk).update(
            seen_at=timezone.now(), stopped_at=timezone.now()
        )


def _run_ready(worker: WorkerProcess, queues: list[str] | None) -> int:
    loop = Worker(
        queue_names=queues or ["*"], interval=0, batch=True, backend_name=BACKEND,
        startup_delay=False, max_tasks=None, worker_id=worker.worker_id,
        excluded_queue_names=[],
    )  # fmt: skip
    ran = 0
    while True:
        tasks = DBTaskResult.objects.ready().filter(backend_name=BACKEND)
        if queues:
            tasks = tasks.filter(queue_name__in=queues)
        with exclusive_transaction(tasks.db):
            result = tasks.get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        processes.beat(worker.worker_id)
        loop.run_task(result)
        ran += 1
