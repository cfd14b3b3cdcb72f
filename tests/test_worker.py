"""The task worker (cunxin.jobs): batch runs and publishes are tasks that `cunxin worker`
runs, a killed worker's run is marked interrupted and can be run again, a task of an
earlier attempt changes nothing, and periodic jobs are enqueued once however many
workers there are."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conftest import start_worker, stop_worker, wait_for, worker_env
from cunxin.audit.models import AuditEvent
from cunxin.decisions import batch
from cunxin.decisions.actions import do_rerun_batch_run, do_start_batch_run
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.models import BatchRun, PreCredit
from cunxin.jobs import processes, schedule
from cunxin.jobs.models import ScheduledJob, WorkerProcess
from cunxin.jobs.processes import live_worker_ids, register
from cunxin.jobs.sweep import sweep_runs
from cunxin.jobs.worker import drain

TESTS = Path(__file__).resolve().parent


def _start(w, by="bm_a"):
    return do_start_batch_run(w.users[by], BatchRun.Purpose.PRECREDIT, "village", "VA1")


def _stale(worker: WorkerProcess) -> None:
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    WorkerProcess.objects.filter(pk=worker.pk).update(seen_at=long_ago)


# --- a run is a task --------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_queues_the_run_with_its_task_and_the_worker_runs_it(scored, client):
    run = _start(scored)
    assert run.status == BatchRun.Status.QUEUED and run.task_id
    task = DBTaskResult.objects.get(id=run.task_id)
    assert task.task_path == "cunxin.decisions.tasks.run_batch"
    assert task.args_kwargs["args"] == [run.pk, 1]
    client.force_login(scored.users["bm_a"])
    waiting = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert 'data-testid="no-worker"' in waiting  # nobody would pick it up: the page says so

    assert drain() == 1

    run.refresh_from_db()
    task.refresh_from_db()
    assert run.status == BatchRun.Status.SUCCEEDED, run.error
    assert run.worker_id == task.worker_ids[-1] and run.worker_id.startswith("inline-")
    assert task.status == "SUCCESSFUL" and task.return_value == "succeeded"
    assert PreCredit.objects.filter(run=run).count() == run.total == run.counts["persons"] > 0


@pytest.mark.django_db
def test_a_task_of_an_earlier_attempt_changes_nothing(scored):
    w = scored
    run = _start(w)
    BatchRun.objects.filter(pk=run.pk).update(status=BatchRun.Status.INTERRUPTED)
    run.refresh_from_db()
    do_rerun_batch_run(w.users["bm_a"], run)
    assert DBTaskResult.objects.filter(status="READY").count() == 2  # attempt 1's and 2's

    assert drain() == 2

    run.refresh_from_db()
    assert (run.status, run.attempt) == (BatchRun.Status.SUCCEEDED, 2)
    assert PreCredit.objects.filter(run=run).count() == run.total > 0  # written once
    assert (
        sorted(DBTaskResult.objects.values_list("return_value", flat=True))
        == [
            "queued",  # attempt 1's task found the run queued for attempt 2 and left it
            "succeeded",
        ]
        or sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["succeeded"] * 2
    )


@pytest.mark.django_db
def test_a_run_queued_again_while_it_runs_keeps_none_of_the_old_attempts_rows(scored, monkeypatch):
    w = scored
    run = _start(w)
    decide = batch.decide_all

    def requeued_meanwhile(*args, **kwargs):
        # the worker was thought dead: the sweep interrupted the run and a manager reran it
        BatchRun.objects.filter(pk=run.pk).update(status=BatchRun.Status.QUEUED, attempt=2)
        return decide(*args, **kwargs)

    monkeypatch.setattr(batch, "decide_all", requeued_meanwhile)
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempt) == (BatchRun.Status.QUEUED, 2)
    assert not PreCredit.objects.filter(run=run).exists()
    assert run.counts == {}


# --- the sweep ---------------------------------------------------------------------------------
def _running(w, worker: WorkerProcess | None, **fields) -> BatchRun:
    return BatchRun.objects.create(
        purpose=BatchRun.Purpose.PRECREDIT, scope_kind="village", scope_code="VA1",
        scope_name="东湖村", policy=credit_policy_in_force(), started_by=w.users["bm_a"],
        status=BatchRun.Status.RUNNING, started_at=timezone.now(),
        worker_id=worker.worker_id if worker else "", **fields,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_sweep_interrupts_the_runs_of_stopped_workers_only(world):
    alive, dead = register(WorkerProcess.Kind.WORKER), register(WorkerProcess.Kind.WORKER)
    _stale(dead)
    mine, orphaned, legacy = _running(world, alive), _running(world, dead), _running(world, None)
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}}, task_path="cunxin.jobs.tasks.sweep",
        backend_name="default", run_after=timezone.now(), status="RUNNING",
        worker_ids=[dead.worker_id],
    )  # fmt: skip

    counts = sweep_runs()

    statuses = dict(BatchRun.objects.values_list("pk", "status"))
    assert statuses == {mine.pk: "running", orphaned.pk: "interrupted", legacy.pk: "interrupted"}
    assert counts["decisions.batchrun"] == 2
    events = AuditEvent.objects.filter(action="jobs.run.interrupt")
    assert {e.object_id for e in events} == {str(orphaned.pk), str(legacy.pk)}
    assert events.get(object_id=str(orphaned.pk)).after["worker"] == dead.worker_id
    task.refresh_from_db()
    assert task.status == "FAILED" and task.exception_class_path == "cunxin.jobs.WorkerStopped"
    dead.refresh_from_db()
    assert dead.stopped_at is not None
    assert sweep_runs()["decisions.batchrun"] == 0  # nothing twice


@pytest.mark.django_db
def test_the_worker_running_the_sweep_is_alive_whatever_its_last_beat(world):
    """GIVEN a worker whose beats were held up (a long transaction held the row) and that
    now runs the sweep, THEN neither it nor its run is taken for stopped; WHEN it beats
    again after a sweep did take it for stopped, THEN it is alive again."""
    late = register(WorkerProcess.Kind.WORKER)
    _stale(late)
    run = _running(world, late)

    assert sweep_runs(alive=late.worker_id)["decisions.batchrun"] == 0
    run.refresh_from_db()
    late.refresh_from_db()
    assert run.status == "running" and late.stopped_at is None

    sweep_runs()  # another worker's sweep: it is stale, so stopped
    late.refresh_from_db()
    assert late.stopped_at is not None
    processes.beat(late.worker_id)
    late.refresh_from_db()
    assert late.stopped_at is None and late.worker_id in live_worker_ids()


@pytest.mark.django_db
def test_a_queued_run_whose_task_ended_without_it_is_interrupted(scored):
    run = _start(scored)
    DBTaskResult.objects.filter(id=run.task_id).update(status="FAILED")
    sweep_runs()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.INTERRUPTED


# --- running it again ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_interrupted_run_can_be_run_again_once_by_who_may_start_it(scored, client):
    w = scored
    run = _start(w)
    BatchRun.objects.filter(pk=run.pk).update(status=BatchRun.Status.INTERRUPTED)
    url = reverse("decisions:batch_rerun", args=[run.pk])
    client.force_login(w.users["cm_a"])  # sees the run, may not start runs
    assert client.post(url).status_code == 403
    client.force_login(w.users["bm_b"])
    assert client.post(url).status_code == 404
    client.force_login(w.users["bm_a"])
    page = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert 'data-testid="rerun"' in page

    assert client.post(url).status_code == 302
    second = client.post(url, follow=True).content.decode()  # a second click, or a colleague

    run.refresh_from_db()
    assert (run.status, run.attempt) == (BatchRun.Status.QUEUED, 2)
    assert "不能再次运行" in second  # the second click is told, not queued twice
    assert AuditEvent.objects.filter(action="decisions.batch.rerun").count() == 1
    drain()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_succeeded_run_cannot_be_run_again(scored):
    run = _start(scored)
    drain()
    run.refresh_from_db()
    with pytest.raises(ValidationError):
        do_rerun_batch_run(scored.users["bm_a"], run)
    with pytest.raises(PermissionDenied):
        do_rerun_batch_run(scored.users["cm_a"], run)


# --- periodic jobs -----------------------------------------------------------------------------
SWEEP = schedule.Job("sweep", "cunxin.jobs.tasks.sweep", every=dt.timedelta(seconds=60))


@pytest.mark.parametrize(
    "spec",
    [{"x": {"every": 60}}, {"x": {"task": "a.b"}}, {"x": {"task": "a.b", "every": 0}},
     {"x": {"task": "a.b", "at": "25:00"}}, {"x": {"task": "a.b", "every": 60, "at": "01:00"}}],
)  # fmt: skip
def test_a_bad_schedule_is_refused_with_its_name(spec):
    with pytest.raises(ImproperlyConfigured, match=r"\['x'\]"):
        schedule.parse(spec)


def test_a_daily_job_is_due_at_its_local_time():
    job = schedule.parse({"eod": {"task": "a.b", "at": "22:30"}})[0]
    tz = timezone.get_current_timezone()
    before = dt.datetime(2026, 12, 4, 21, 0, tzinfo=tz)
    after = dt.datetime(2026, 12, 4, 23, 0, tzinfo=tz)
    assert job.next_after(before) == dt.datetime(2026, 12, 4, 22, 30, tzinfo=tz)
    assert job.next_after(after) == dt.datetime(2026, 12, 5, 22, 30, tzinfo=tz)
    assert job.first(before) == job.next_after(before)


@pytest.mark.django_db
def test_a_due_job_is_enqueued_once_and_not_again_while_it_waits():
    now = timezone.now()
    assert schedule.enqueue_due(now, [SWEEP]) == ["sweep"]
    assert schedule.enqueue_due(now, [SWEEP]) == []  # another worker, the same moment
    later = now + dt.timedelta(seconds=61)
    assert schedule.enqueue_due(later, [SWEEP]) == []  # the first has not run yet
    assert DBTaskResult.objects.filter(task_path=SWEEP.task).count() == 1
    assert ScheduledJob.objects.get().next_run_at == later + SWEEP.every

    drain()
    assert schedule.enqueue_due(later + dt.timedelta(seconds=61), [SWEEP]) == ["sweep"]
    assert DBTaskResult.objects.filter(task_path=SWEEP.task).count() == 2


# --- the worker process ------------------------------------------------------------------------
@pytest.mark.slow
def test_a_killed_workers_run_is_interrupted_by_the_next_worker_and_runs_again(
    committed, scored, tmp_path, settings
):
    """GIVEN a worker process running a batch run, WHEN it is killed (SIGKILL) mid-run,
    THEN the next worker marks the run interrupted, a branch manager runs it again and
    that worker completes it; the periodic sweep was scheduled meanwhile."""
    from slow_tasks import stalled_batch

    settings.CUNXIN_WORKER_STALE_SECONDS = 3
    w = scored
    marker = tmp_path / "deciding"
    env = worker_env(marker)
    run = _start(w)
    DBTaskResult.objects.filter(id=run.task_id).delete()  # run it with the stalling task
    BatchRun.objects.filter(pk=run.pk).update(task_id=str(stalled_batch.enqueue(run.pk, 1).id))
    first = start_worker(env)
    try:
        wait_for(marker.exists, first, "the run to start deciding")
        run.refresh_from_db()
        assert run.status == BatchRun.Status.RUNNING and run.worker_id.startswith("worker-")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    second = start_worker(env)
    try:
        run_row = BatchRun.objects.filter(pk=run.pk)
        wait_for(lambda: run_row.get().status == BatchRun.Status.INTERRUPTED, second, "the sweep")
        assert AuditEvent.objects.filter(
            action="jobs.run.interrupt", object_id=str(run.pk)
        ).exists()
        stalled = DBTaskResult.objects.filter(id=run.task_id)
        wait_for(lambda: stalled.get().status == "FAILED", second, "the killed task to be failed")
        do_rerun_batch_run(w.users["bm_a"], run_row.get())
        wait_for(lambda: run_row.get().status == BatchRun.Status.SUCCEEDED, second, "the rerun")
        done = run_row.get()
        assert done.attempt == 2 and done.worker_id != run.worker_id
        assert PreCredit.objects.filter(run=run).count() == done.total > 0
        assert DBTaskResult.objects.filter(task_path="cunxin.jobs.tasks.sweep").exists()
        assert WorkerProcess.objects.filter(
            worker_id=run.worker_id, stopped_at__isnull=False
        ).exists()
    finally:
        stop_worker(second)
    assert WorkerProcess.objects.get(worker_id=done.worker_id).stopped_at is not None


def _alive(pid: int) -> bool:
    """Running (an ended process whose new parent has not reaped it yet is a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_the_demos_worker_stops_when_the_demo_is_killed(committed, tmp_path):
    """The demo starts `cunxin worker --stop-with-parent`; killed (SIGKILL, no clean-up),
    the demo leaves no worker behind: the worker sees its parent gone and stops."""
    import json

    from conftest import worker_env

    env = worker_env()
    pid_file = tmp_path / "worker.pid"
    parent = subprocess.Popen(
        [sys.executable, "-c", (
            "import json, subprocess, sys, time; "
            "w = subprocess.Popen([sys.executable, '-m', 'cunxin.cli', 'worker', "
            "'--stop-with-parent', '--interval', '0.2']); "
            f"open({json.dumps(str(pid_file))}, 'w').write(str(w.pid)); time.sleep(600)"
        )], env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker_pid = int(pid_file.read_text())
        while (
            time.monotonic() < deadline
            and not WorkerProcess.objects.filter(pid=worker_pid).exists()
        ):
            time.sleep(0.1)  # registered: it runs
        assert WorkerProcess.objects.filter(pid=worker_pid, stopped_at__isnull=True).exists()
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 60  # a bound on waiting, not a speed check
    while time.monotonic() < deadline and _alive(worker_pid):
        time.sleep(0.2)
    if _alive(worker_pid):
        os.kill(worker_pid, signal.SIGKILL)
        pytest.fail("the worker outlived the demo that started it")
    assert WorkerProcess.objects.get(pid=worker_pid).stopped_at is not None  # a clean stop
