"""Background work (Django side): the task worker and what it keeps true.

Work that takes longer than a request — a batch pre-credit or what-if run, a pool
publish, and the periodic jobs (the stale-run sweep now; end of day and snapshots later)
— runs as a django-tasks task stored in the database (`django_tasks_db`) and executed by
`cunxin worker`, a process of its own, never a thread of the web process.

- `models.BackgroundRun` is the base of every run row staff can inspect (`BatchRun`,
  `PublishRun`): status, which task and which worker process, the attempt, timings.
- `models.WorkerProcess` is one row per running worker (or foreground command), whose
  ticker thread writes a heartbeat; a run whose process stopped beating is marked
  interrupted by the sweep and can be run again.
- `models.ScheduledJob` and `schedule.py`: the periodic jobs of settings.CUNXIN_SCHEDULE,
  enqueued by whichever worker claims them first (a conditional UPDATE).
- `worker.py`: `cunxin worker` (django-tasks-db's worker loop plus the ticker) and
  `drain()`, which runs the queued tasks in this process with the same code (tests, the
  demo's set-up, benchmarks).
"""
