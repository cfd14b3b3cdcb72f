"""Benchmark: evaluators reviewing and submitting households under load, on PostgreSQL.

Villagers on phones in the first review round (初评): each virtual user is its own bench
evaluator (`bench-ev-<village>-N`, a villager on the panel of that village's project, the
round open), signs in, then works through the households of its village: opens a
household's review page, fills in every member (knows the household, negative items, the
graded items, a suggested amount) and saves a draft or submits; a draft is resumed and
submitted later. After a save or a submit the phone follows the redirect to the list of
households. 0.5–1.5 s pass between requests. The app runs under gunicorn (sync workers, one
thread each); locust (bench/locustfile_review.py) drives it headless from the same machine.

    # reset the database, migrate, publish a built pool, then load it
    uv run --group bench python bench/review_load.py --pool /path/to/pool
    # load what the database already holds (bench evaluators and rounds are reused)
    uv run --group bench python bench/review_load.py --users 50 --seconds 120

Prints client-side (locust) and server-side (gunicorn access log) p50/p95/p99 per endpoint
(review page, save, submit, the list of households, sign-in), requests/s and failures, and
saves them to bench-out/review_load-<time>.json. Budget (DESIGN.md §7): review submit p95
≤ 150 ms at full county on PostgreSQL, 50 concurrent users, 2 cores. Each user only submits
households it has not submitted before (also across runs), so a failure is a real one.
Server, database and locust helpers are bench/web_load.py's.
"""

from __future__ import annotations

import os

# benchmarks run on synthetic data with the demo's built-in keys and secrets
os.environ.setdefault("CUNXIN_DEMO", "1")

import datetime as dt
import json
import math
import random
import sys
import time
from pathlib import Path

import web_load
from web_load import OUT, PASSWORD, ROOT, summarise

LOCUSTFILE = ROOT / "bench" / "locustfile_review.py"
EV_PREFIX = "bench-ev-"
HOUSEHOLDS_PER_EVALUATOR = 300
# a save or a submit answers with a redirect to the list; sign-in with one to the home page
EXPECTED_STATUS = {"login": "302", "save": "302", "submit": "302"}
STARTED = time.monotonic()


def log(msg: str) -> None:
    print(f"[review_load {time.monotonic() - STARTED:6.1f}s] {msg}", flush=True)


# web_load's helpers read these module globals: log under this benchmark's name, print its
# endpoints and its budget, and have gunicorn log each request's name (X-Bench-Name, which
# locust sends: save and submit post to one URL).
web_load.log = log
web_load.ORDER = [
    "review page", "save", "submit", "home page", "login page", "login", "other", "all"
]  # fmt: skip
web_load.ACCESS_FORMAT += " %({x-bench-name}i)s"
web_load.BUDGET_MS = {"submit": 150}


# --- evaluators, projects, panels, rounds ------------------------------------------------------
def setup_evaluators(n_users: int, per_village: int, seed: int) -> tuple[list[dict], dict]:
    """Idempotent: web_load's bench admin, branches and customer managers (one village each);
    then, in the first ceil(n_users / per_village) of those villages, a project (its CM
    responsible), per_village evaluators on its panel — each a villager, from a different
    household — and the first round open. Returns the load generator's users (evaluators in
    village order, so n users take whole panels) and the database size."""
    n_villages = math.ceil(n_users / per_village)
    _cms, size = web_load.setup_staff(max(50, n_villages), seed)

    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connections, transaction
    from django.test.utils import override_settings

    from cunxin.evaluation import actions
    from cunxin.evaluation.conflict import find_conflict
    from cunxin.evaluation.models import PanelRole, Project, Review, ReviewStatus, RoundKind
    from cunxin.evaluation.versions import default_policy_version, evaluation_policy
    from cunxin.org import actions as org_actions
    from cunxin.org.models import Role, Staff, Village
    from cunxin.pool.models import Person

    User = get_user_model()
    admin = User.objects.get(username=web_load.ADMIN)
    cms = list(
        Staff.objects.filter(
            role=Role.CUSTOMER_MANAGER, user__username__startswith=web_load.CM_PREFIX,
            assignments__valid_to__isnull=True, assignments__village__isnull=False,
        )
        .order_by("user__username")
        .values_list("assignments__village", "pk")
    )  # fmt: skip
    responsible = {}
    for village_code, staff_pk in cms:
        responsible.setdefault(village_code, staff_pk)
    villages = sorted(responsible)[:n_villages]
    policy = evaluation_policy(default_policy_version())

    users, rounds = [], {}
    for village_code in villages:
        rng = random.Random(f"{seed}:{village_code}")
        persons = list(
            Person.objects.filter(village_id=village_code, retired_at__isnull=True)
            .order_by("household_id", "member_index", "uid")
            .values_list("uid", "household_id", "birth_year", "relations")
        )
        members: dict[str, list[str]] = {}
        for uid, household, _born, _relations in persons:
            if household:
                members.setdefault(household, []).append(uid)
        relations = {
            uid: [(other, rel) for other, rel, *_ in (json.loads(r) if isinstance(r, str) else r or [])]
            for uid, _h, _b, r in persons
        }  # fmt: skip
        # evaluators: adults (30–60 this year) of different households
        year = dt.date.today().year
        adults = {}
        for uid, household, born, _relations in persons:
            if household and born and 30 <= year - born <= 60:
                adults.setdefault(household, uid)
        chosen = rng.sample(sorted(adults.values()), per_village)

        with transaction.atomic():
            project = (
                Project.objects.filter(village_id=village_code, closed_at__isnull=True)
                .select_related("village")
                .first()
            )
            if project is None:
                project = actions.do_start_project(
                    admin, Village.objects.get(pk=village_code),
                    Staff.objects.get(pk=responsible[village_code]),
                )  # fmt: skip
            seats = set(
                project.panel.filter(removed_at__isnull=True).values_list("staff__user__username", flat=True)
            )  # fmt: skip
            evaluators = []
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                for n, person_uid in enumerate(chosen, start=1):
                    username = f"{EV_PREFIX}{village_code}-{n}"
                    staff = Staff.objects.filter(user__username=username).first()
                    if staff is None:
                        staff = org_actions.do_create_staff(
                            admin, username=username, password=PASSWORD, role=Role.EVALUATOR,
                            display_name=f"压测评议员{village_code[-4:]}-{n}",
                            village=project.village, person=Person.objects.get(pk=person_uid),
                        )  # fmt: skip
                    elif staff.role != Role.EVALUATOR or staff.village_id != village_code:
                        raise SystemExit(f"{username} is not an evaluator of {village_code}")
                    if username not in seats:
                        actions.do_add_panel_member(admin, project, staff, PanelRole.REPRESENTATIVE)
                    evaluators.append(staff)
            rnd = project.rounds.filter(kind=RoundKind.FIRST).first()
            if rnd is None:
                rnd = actions.do_open_round(admin, project, RoundKind.FIRST)
            elif not rnd.is_open:
                raise SystemExit(
                    f"the first round of {village_code} is closed: pass --pool to start again"
                )
        rounds[village_code] = rnd.pk

        for staff in evaluators:
            done = set(
                Review.objects.filter(
                    round=rnd, reviewer__staff=staff, status=ReviewStatus.SUBMITTED
                ).values_list("person__household_id", flat=True)
            )
            reviewer, own = staff.person_id, staff.person.household_id
            households = [
                [household, uids]
                for household, uids in sorted(members.items())
                if household not in done
                and find_conflict(reviewer, own, household, uids, relations,
                                  policy.conflicting_relations) is None
            ]  # fmt: skip
            rng.shuffle(households)
            users.append({
                "username": staff.user.username, "password": PASSWORD, "village": village_code,
                "round": rnd.pk, "households": households[:HOUSEHOLDS_PER_EVALUATOR],
                "negative_items": sorted(policy.negative_items),
                "graded_items": list(policy.graded_items), "amount_cap": policy.amount_cap_yuan,
            })  # fmt: skip

    usernames = [u["username"] for u in users]
    User.objects.filter(username__in=usernames).update(password=make_password(PASSWORD))
    AccessAttempt.objects.filter(username__in=usernames).delete()
    size["villages_used"] = len(villages)
    size["evaluators"] = len(users)
    size["reviews_before"] = Review.objects.filter(round_id__in=rounds.values()).count()
    size["submitted_before"] = Review.objects.filter(
        round_id__in=rounds.values(), status=ReviewStatus.SUBMITTED
    ).count()
    connections.close_all()
    return users, size


# --- figures ------------------------------------------------------------------------------
def server_figures(access_log: Path, steady_from: float | None) -> tuple[dict, list]:
    """The access log → {"whole", "steady"} figures per request name (X-Bench-Name, which
    locust sends), and the slowest requests; steady: requests that left locust at or after
    steady_from (X-Bench-T0), the client's window."""
    whole, steady, slowest, sent = [], [], [], []
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) != 6 or not parts[3].isdigit():
            continue
        method, path, status, micros, t0, name = parts
        if name == "-" or path == "/healthz":
            continue
        ms = int(micros) / 1000
        record = (name, ms, status == EXPECTED_STATUS.get(name, "200"))
        whole.append(record)
        slowest.append((ms, f"{name}: {method} {path} {status}"))
        if t0 != "-":
            sent.append(float(t0))
            if steady_from is not None and float(t0) >= steady_from:
                steady.append(record)
    slowest.sort(reverse=True)
    span = max(sent) - min(sent) if len(sent) > 1 else None
    steady_span = max(sent) - steady_from if sent and steady_from is not None else None
    return {"whole": summarise(whole, span), "steady": summarise(steady, steady_span)}, slowest[:8]


def report(result: dict) -> None:
    """web_load's report (its budget lines are this benchmark's), then the reviews."""
    web_load.report(result)
    size = result["database"]
    print(
        f"\nevaluators: {size['evaluators']} on {size['villages_used']} village panels "
        f"({result['per_village']} each); save and submit are the POST alone, not the list "
        f"of households the redirect leads to (home page). Reviews in the bench rounds: "
        f"{size['reviews_before']:,} before ({size['submitted_before']:,} submitted), "
        f"{result['reviews_after']:,} after ({result['submitted_after']:,} submitted). Load "
        f"average (1 min) before the run: {result['load_before']}."
    )


def review_counts(rounds: set[int]) -> tuple[int, int]:
    """Reviews and submitted reviews in the bench rounds (a fresh Django connection)."""
    from django.db import connections

    from cunxin.evaluation.models import Review, ReviewStatus

    reviews = Review.objects.filter(round_id__in=rounds)
    counts = reviews.count(), reviews.filter(status=ReviewStatus.SUBMITTED).count()
    connections.close_all()
    return counts


# --- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = web_load.arguments(port=8124, doc=__doc__)
    parser.add_argument(
        "--per-village", type=int, default=5, choices=range(3, 8), metavar="3..7",
        help="evaluators on each village's panel (a first round needs 3, a panel holds 7)",
    )  # fmt: skip
    args = parser.parse_args()
    env, stamp, publish_s = web_load.prepare(args)
    log(f"setting up {args.users} bench evaluators, {args.per_village} per village panel")
    users, size = setup_evaluators(args.users, args.per_village, args.seed)
    users = users[: args.users]
    users_file = OUT / "review_load_users.json"
    users_file.write_text(json.dumps(users, ensure_ascii=False, indent=1), encoding="utf-8")
    short = min(len(u["households"]) for u in users)
    log(f"{len(users)} evaluators, at least {short} households each; users file {users_file}")
    load_before = os.getloadavg()[0]  # other work on the machine skews the figures
    access_log, prefix, samples_file = web_load.run_load(
        args, env, "review_load", stamp, LOCUSTFILE, users_file
    )
    client, failures, steady_from, steady_s = web_load.client_figures(samples_file)
    server_stats, slowest = server_figures(access_log, steady_from)
    reviews_after, submitted_after = review_counts({u["round"] for u in users})
    result = {
        "at": stamp, "database_url": args.database_url, "pool": str(args.pool or ""),
        "publish_s": round(publish_s, 1) if publish_s else None, "users": args.users,
        "per_village": args.per_village, "seconds": args.seconds, "workers": args.workers,
        "spawn_rate": args.spawn_rate, "cpus": os.cpu_count(), "database": size,
        "reviews_after": reviews_after, "submitted_after": submitted_after,
        "load_before": round(load_before, 2),
        "steady_s": steady_s, "client": client, "server": server_stats, "failures": failures,
        "slowest": slowest, "access_log": str(access_log), "locust_csv": f"{prefix}_stats.csv",
    }  # fmt: skip
    report(result)
    out = OUT / f"review_load-{stamp}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server is already stopped (main's finally)
        log("interrupted")
        sys.exit(130)
