"""Benchmark: 批量授信 (batch pre-credit) of the whole county on PostgreSQL.

Every adult of the county is decided under the credit policy in force, with the active
model's scores and a signed-off evaluation for every household (simulated here: 90% white,
6% grey, 2% black, 2% too few reviews, amounts 20,000–200,000 yuan by a hash of the uid),
and the run's rows are written. The run is the app's own (`cunxin.decisions.batch`),
queued as the page queues it and run by the worker's own claim-and-run code in this
process (`cunxin.jobs.worker.drain`).

    # reset the database, publish a built pool, publish and activate its model, run
    uv run --extra spark --group bench python bench/batch_precredit.py \\
        --pool /path/to/pool --model /path/to/scorecard.json
    # run again on what the database holds
    uv run --extra spark --group bench python bench/batch_precredit.py --repeat 3

Prints each run's timings (load, decide, write, total) and counts, and saves them to
bench-out/batch_precredit-<time>.json. Budget (DESIGN.md §7, issue 5): the full county
in ≤ 30 s. The pool must have been scored with the model (`cunxin model score`).
"""

from __future__ import annotations

import os

os.environ.setdefault("CUNXIN_DEMO", "1")

import argparse
import json
import time
from pathlib import Path

import web_load
from web_load import OUT, log

STARTED = time.monotonic()


def simulate_sign_off() -> int:
    """A project with a signed-off round in every village, and a verdict for every adult
    (idempotent: villages that have one are skipped). Returns the verdicts written."""
    from django.db import connection, transaction
    from django.utils import timezone

    from cunxin.evaluation.models import Project, Round, RoundKind
    from cunxin.evaluation.versions import evaluation_policy_in_force
    from cunxin.org.models import Role, Staff, Village

    policy = evaluation_policy_in_force()
    now = timezone.now()
    written = 0
    villages = Village.objects.filter(retired_at__isnull=True).exclude(projects__isnull=False)
    for village in villages.select_related("branch"):
        cms = Staff.objects.filter(role=Role.CUSTOMER_MANAGER)
        cm = cms.filter(branch=village.branch_id).first() or cms.first()
        with transaction.atomic():
            project = Project.objects.create(village=village, policy=policy, responsible=cm,
                                             started_at=now, stage="visiting")  # fmt: skip
            rnd = Round.objects.create(project=project, kind=RoundKind.SIGN_OFF, opened_at=now,
                                       closed_at=now)  # fmt: skip
            with connection.cursor() as c:
                c.execute(
                    """
INSERT INTO evaluation_verdict (round_id, person_id, color, amount_yuan, valid_reviews, reasons, inputs)
SELECT %s, uid,
  CASE WHEN h < 90 THEN 'white' WHEN h < 96 THEN 'grey' WHEN h < 98 THEN 'black'
       ELSE 'insufficient' END,
  CASE WHEN h < 98 THEN 20000 + (abs(hashtext(uid || 'amount')) %% 181) * 1000 END,
  3, '[]', '{"simulated": true}'
FROM (SELECT uid, abs(hashtext(uid)) %% 100 AS h FROM pool_person
      WHERE village_id = %s AND retired_at IS NULL AND birth_year <= %s) p""",
                    [rnd.pk, village.code, now.year - 18],
                )
                written += c.rowcount
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=web_load.DEFAULT_URL)
    parser.add_argument("--pool", help="reset the database and publish this built pool first")
    parser.add_argument("--model", help="publish and activate this scorecard (the pool's)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.update({
        "DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "cunxin.project.settings",
    })  # fmt: skip
    env = dict(os.environ)
    if args.pool:
        web_load.reset_database(args.database_url)
        log(f"published the pool in {web_load.load_pool(Path(args.pool).resolve(), env):.1f} s")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from cunxin.decisions.actions import do_start_batch_run
    from cunxin.decisions.models import BatchRun, ModelVersion
    from cunxin.decisions.scores import publish_model
    from cunxin.jobs.worker import drain

    web_load.setup_staff(20, 42)  # branches for every village, a CM in each branch
    if args.model:
        t = time.perf_counter()
        version = publish_model(Path(args.pool or "."), Path(args.model), by="bench", activate=True)
        log(f"published model {version.model_id} ({version.scored_count:,} scores) "
            f"in {time.perf_counter() - t:.1f} s")  # fmt: skip
    if not ModelVersion.objects.filter(active=True).exists():
        raise SystemExit("no active model: give --pool and --model once")
    t = time.perf_counter()
    log(f"simulated sign-off: {simulate_sign_off():,} verdicts in {time.perf_counter() - t:.1f} s")
    from django.db import connection

    with connection.cursor() as c:  # as autovacuum would after the bulk insert
        c.execute("ANALYZE")
    admin = get_user_model().objects.get(username=web_load.ADMIN)
    runs = []
    for n in range(args.repeat):
        run = do_start_batch_run(admin, BatchRun.Purpose.PRECREDIT, "county")
        drain(beat=True)  # the worker's claim-and-run code, in this process
        run.refresh_from_db()
        if run.status != BatchRun.Status.SUCCEEDED:
            raise SystemExit(f"run {run.pk} {run.status}: {run.error}")
        c = run.counts
        log(f"run {n + 1}: {c['persons']:,} adults, {c['granted_persons']:,} granted "
            f"({c['granted_households']:,} households, {c['amount_yuan'] / 1e8:.2f} 亿元), "
            f"timings {run.timings}")  # fmt: skip
        runs.append({"run": run.pk, "timings": run.timings, "counts": c})
    OUT.mkdir(exist_ok=True)
    out = OUT / f"batch_precredit-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(runs, ensure_ascii=False, indent=2), encoding="utf-8")
    best = min(r["timings"]["total"] for r in runs)
    log(f"best total {best:.1f} s (budget 30 s); saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
