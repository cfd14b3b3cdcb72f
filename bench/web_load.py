"""Benchmark: the household page and the village pool search under load, on PostgreSQL.

Customer managers on phones: each virtual user is its own bench CM (`bench-cm-NN`, one
village each), signs in, then opens household pages (3 of 4 requests) and searches its
village's pool (1 of 4; by name prefix or the last 4 digits of a phone), waiting 0.5–1.5 s
between requests. The app runs under gunicorn (sync workers, one thread each); locust
(bench/locustfile_web.py) drives it headless from the same machine.

    # reset the database, migrate, publish a built pool, then load it
    uv run --group bench python bench/web_load.py --pool /path/to/pool
    # load what the database already holds
    uv run --group bench python bench/web_load.py --users 50 --seconds 60 --workers 2

Prints client-side (locust) and server-side (gunicorn access log, request time in µs)
p50/p95/p99 per endpoint, requests/s, failures and the database size, and saves them to
bench-out/web_load-<time>.json. Budget (DESIGN.md §7): household page p95 ≤ 100 ms at full
county on PostgreSQL, 50 concurrent users, 2 cores. Locust shares the cores with the server,
so client-side figures include its own scheduling delay; the server-side ones do not
include queueing in the listen backlog either: read both.
"""

from __future__ import annotations

import os

# benchmarks run on synthetic data with the demo's built-in keys and secrets
os.environ.setdefault("CUNXIN_DEMO", "1")

import argparse
import contextlib
import datetime as dt
import json
import math
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"
LOCUSTFILE = ROOT / "bench" / "locustfile_web.py"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cunxin_bench"
# The bench CMs' password (a bench database only); the password policy refuses one that
# looks like the user names (bench-cm-01, ...).
PASSWORD = "lantern-Plum-2026!"
ADMIN = "bench-admin"
CM_PREFIX = "bench-cm-"
HOUSEHOLDS_PER_CM = 200
BUDGET_MS = {"household page": 100}
# gunicorn access log: method, path, status, request time in µs, when locust sent it
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s %({x-bench-t0}i)s"
PERCENTILES = (50, 95, 99)


STARTED = time.monotonic()


def log(msg: str) -> None:
    print(f"[web_load {time.monotonic() - STARTED:6.1f}s] {msg}", flush=True)


def run(cmd: list[str], env: dict[str, str]) -> None:
    log("$ " + " ".join(cmd[1:] if cmd[0] == sys.executable else cmd))
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)


# --- database ------------------------------------------------------------------------------
def reset_database(url: str) -> None:
    """Drop and create the database named by url (PostgreSQL only)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        raise SystemExit(f"--pool resets the database, which needs PostgreSQL: {url}")
    name = cfg["NAME"]
    log(f"resetting database {name}")
    with psycopg.connect(
        dbname="postgres", user=cfg.get("USER") or None, password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None, port=cfg.get("PORT") or None, autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def load_pool(pool: Path, env: dict[str, str]) -> float:
    cli = [sys.executable, "-m", "cunxin.cli"]
    run([*cli, "manage", "migrate", "--verbosity", "0"], env)
    started = time.perf_counter()
    run([*cli, "pool", "publish", "--pool", str(pool), "--by", "bench"], env)
    return time.perf_counter() - started


def setup_staff(n_cms: int, seed: int) -> tuple[list[dict], dict]:
    """Idempotent: bench admin, a branch per township, n_cms CMs with one village each and
    the known password. Returns the load generator's users and the database size."""
    import django

    django.setup()
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, connections, transaction
    from django.db.models import Count, Q
    from django.test.utils import override_settings

    from cunxin.org import actions
    from cunxin.org.models import Branch, Role, Staff, Village
    from cunxin.pool.models import Household, Person

    User = get_user_model()
    with transaction.atomic():
        admin = User.objects.filter(username=ADMIN).first()
        if admin is None:
            admin = User.objects.create_user(ADMIN, is_staff=True, is_superuser=True)
            admin.set_unusable_password()
            admin.save(update_fields=["password"])
            Staff.objects.create(user=admin, role=Role.HQ_ADMIN, display_name="压测管理员")
        for v in Village.objects.filter(branch__isnull=True, retired_at__isnull=True):
            code = f"ZH{v.township_code or '000'}"
            branch = Branch.objects.filter(code=code).first() or actions.do_create_branch(
                admin, code, f"{v.township_name or '县城'}支行"
            )
            actions.do_set_village_branch(admin, v, branch)

        villages = list(
            Village.objects.filter(retired_at__isnull=True)
            .annotate(n=Count("households", filter=Q(households__retired_at__isnull=True)))
            .filter(n__gt=0)
            .select_related("branch")
            .order_by("code")
        )
        if not villages:
            raise SystemExit("the database holds no households: pass --pool DIR to publish one")

        usernames = [f"{CM_PREFIX}{i:02d}" for i in range(1, n_cms + 1)]
        # Creating users hashes their passwords; a cheap hasher here, the real hash below.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            for i, username in enumerate(usernames):
                village = villages[i % len(villages)]
                staff = Staff.objects.filter(user__username=username).select_related("user").first()
                if staff is None:
                    staff = actions.do_create_staff(
                        admin, username=username, password=PASSWORD, role=Role.CUSTOMER_MANAGER,
                        display_name=f"压测客户经理{i + 1:02d}", branch=village.branch,
                    )  # fmt: skip
                elif (
                    staff.role != Role.CUSTOMER_MANAGER
                    or staff.branch_id != village.branch_id
                    or not staff.user.is_active
                ):
                    staff = actions.do_change_staff(
                        admin, staff, role=Role.CUSTOMER_MANAGER, branch=village.branch, active=True
                    )
                for a in staff.assignments.filter(valid_to__isnull=True):
                    if a.village_id != village.code:
                        actions.do_end_assignment(admin, a)
                if not staff.assignments.filter(valid_to__isnull=True, village=village).exists():
                    actions.do_assign(admin, staff, village=village)
        User.objects.filter(username__in=usernames).update(password=make_password(PASSWORD))
        AccessAttempt.objects.filter(username__in=usernames).delete()

    users, samples = [], {}
    for i, username in enumerate(usernames):
        village = villages[i % len(villages)]
        if village.code not in samples:
            samples[village.code] = (
                list(
                    Household.objects.filter(village=village, retired_at__isnull=True)
                    .order_by("uid")
                    .values_list("uid", "head_name")
                ),
                list(
                    Person.objects.filter(village=village, retired_at__isnull=True)
                    .order_by("uid")
                    .values_list("name", "phone_masked")
                ),
            )
        households, persons = samples[village.code]
        rng = random.Random(f"{seed}:{username}")
        names = [n for n, _ in persons if len(n) >= 2]
        tails = [p[-4:] for _, p in persons if len(p) >= 4 and p[-4:].isdigit()]
        # a surname + the start of the given name ("王小" of 王小明), and a phone's last 4
        searches = sorted({n[:2] for n in rng.sample(names, min(3, len(names)))})
        searches += sorted(set(rng.sample(tails, min(2, len(tails)))))
        users.append({
            "username": username, "password": PASSWORD, "village": village.code,
            "households": rng.sample(households, min(HOUSEHOLDS_PER_CM, len(households))),
            "searches": searches or [persons[0][0][:1]],
        })  # fmt: skip

    size = {
        "persons": Person.objects.filter(retired_at__isnull=True).count(),
        "households": Household.objects.filter(retired_at__isnull=True).count(),
        "villages": Village.objects.filter(retired_at__isnull=True).count(),
        "villages_used": len({u["village"] for u in users}),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size["database_mib"] = round(cursor.fetchone()[0] / 2**20, 1)
    connections.close_all()
    return users, size


# --- server --------------------------------------------------------------------------------
def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_gunicorn(args, env: dict[str, str], access_log: Path, error_log: Path):
    if port_in_use(args.port):
        raise SystemExit(f"something already listens on 127.0.0.1:{args.port}: pick --port")
    cmd = [
        sys.executable, "-m", "gunicorn", "cunxin.project.wsgi:application",
        "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--threads", "1",
        "--worker-class", "sync", "--timeout", "120", "--graceful-timeout", "5",
        "--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT,
        "--error-logfile", str(error_log),
    ]  # fmt: skip
    log(f"starting gunicorn on 127.0.0.1:{args.port} ({args.workers} workers, 1 thread each)")
    with error_log.open("ab") as err:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=err, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    url = f"http://127.0.0.1:{args.port}/healthz"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {error_log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    log(f"healthy: {r.read().decode()}")
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not answer {url} within 60 s; see {error_log}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen | None, what: str) -> None:
    """Stop a process we started in its own session (its workers with it)."""
    if proc is None or proc.poll() is not None:
        return
    log(f"stopping {what} (pid {proc.pid})")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- figures -------------------------------------------------------------------------------
def endpoint(method: str, path: str) -> str | None:
    if path.startswith("/pool/households/"):
        return "household page"
    if path.startswith("/pool/villages/") and path.count("/") == 4:
        return "pool search" if method == "POST" else "village page"
    if path == "/login/":
        return "login" if method == "POST" else "login page"
    if path == "/healthz":
        return None
    return "other"


def pct(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def summarise(records: list[tuple[str, float, bool]], span_s: float | None) -> dict:
    """records: (endpoint, ms, ok) → per endpoint and "all": count, failures, rates, ms."""
    by_name: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for name, ms, ok in records:
        by_name[name].append((ms, ok))
        by_name["all"].append((ms, ok))
    figures = {}
    for name, rows in sorted(by_name.items()):
        values = sorted(ms for ms, _ in rows)
        figures[name] = {
            "requests": len(values), "failures": sum(1 for _, ok in rows if not ok),
            "requests_per_s": round(len(values) / span_s, 2) if span_s else None,
            "mean_ms": round(sum(values) / len(values), 1),
            **{f"p{p}_ms": round(pct(values, p), 1) for p in PERCENTILES},
            "max_ms": round(values[-1], 1),
        }  # fmt: skip
    return figures


def client_figures(samples_file: Path) -> tuple[dict, list[dict], float | None, float | None]:
    """Locust's samples → {"whole", "steady"} figures, failures, and the steady window's
    start (the end of the last login: until then, logins' password hashing queues pages)."""
    samples = json.loads(samples_file.read_text(encoding="utf-8"))
    if not samples:
        return {"whole": {}, "steady": {}}, [], None, None
    end = max(start + ms / 1000 for _, start, ms, _ in samples)
    first = min(start for _, start, _, _ in samples)
    logins = [start + ms / 1000 for name, start, ms, _ in samples if name == "login"]
    steady_from = max(logins) if logins else first
    whole = [(name, ms, err is None) for name, _, ms, err in samples]
    steady = [(name, ms, err is None) for name, start, ms, err in samples if start >= steady_from]
    errors: dict[tuple[str, str], int] = defaultdict(int)
    for name, _, _, err in samples:
        if err:
            errors[name, err] += 1
    failures = [
        {"name": name, "error": err, "count": n}
        for (name, err), n in sorted(errors.items(), key=lambda kv: -kv[1])
    ]
    figures = {
        "whole": summarise(whole, end - first),
        "steady": summarise(steady, end - steady_from),
    }
    return figures, failures, steady_from, end - steady_from


def server_figures(access_log: Path, steady_from: float | None) -> tuple[dict, list]:
    """The access log → {"whole", "steady"} figures; steady: requests that left locust
    (X-Bench-T0) at or after steady_from, the same window as the client's."""
    records, slowest = [], []
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) != 5 or not parts[3].isdigit():
            continue
        method, path, status, micros, t0 = parts
        name = endpoint(method, path)
        if name is None:
            continue
        ms = int(micros) / 1000
        sent = float(t0) if t0 != "-" else None
        ok = status == ("302" if name == "login" else "200")
        records.append((name, ms, ok, sent))
        slowest.append((ms, f"{method} {path} {status}"))
    slowest.sort(reverse=True)
    times = [t for *_, t in records if t is not None]
    span = max(times) - min(times) if len(times) > 1 else None
    steady = [
        r for r in records if r[3] is not None and steady_from is not None and r[3] >= steady_from
    ]
    steady_times = [t for *_, t in steady]
    steady_span = max(steady_times) - steady_from if steady_times else None
    figures = {
        "whole": summarise([r[:3] for r in records], span),
        "steady": summarise([r[:3] for r in steady], steady_span),
    }
    return figures, slowest[:8]


def fmt(v) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


ORDER = ["household page", "pool search", "village page", "login page", "login", "other", "all"]


def table(title: str, client: dict, server: dict) -> None:
    print(f"\n{title}")
    print(f"{'endpoint':<16}{'side':<8}{'requests':>9}{'req/s':>8}{'fail':>6}"
          f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")  # fmt: skip
    for name in [n for n in ORDER if n in client or n in server]:
        label = name
        for side, f in (("client", client.get(name)), ("server", server.get(name))):
            if f:
                rate = fmt(f["requests_per_s"]) if f["requests_per_s"] else ""
                print(f"{label:<16}{side:<8}{f['requests']:>9,}{rate:>8}{f['failures']:>6,}"
                      f"{fmt(f['p50_ms']):>9}{fmt(f['p95_ms']):>9}{fmt(f['p99_ms']):>9}"
                      f"{fmt(f['max_ms']):>9}")  # fmt: skip
                label = ""


def report(result: dict) -> None:
    size = result["database"]
    print()
    print(
        f"database: {size['persons']:,} persons, {size['households']:,} households, "
        f"{size['villages']:,} villages"
        + (f", {size['database_mib']:,} MiB" if "database_mib" in size else "")
        + f"; {result['users']} users on {size['villages_used']} villages, "
        f"{result['seconds']} s, {result['workers']} gunicorn workers, {result['cpus']} CPUs"
    )
    client, server = result["client"], result["server"]
    steady = result["steady_s"]
    table(
        f"steady state (after the last login, {steady:.0f} s)" if steady else "steady state",
        client["steady"], server["steady"],
    )  # fmt: skip
    table("whole run (with the sign-in ramp)", client["whole"], server["whole"])
    print("\nclient: locust, on the same cores, so it includes queueing for a worker and")
    print("locust's own scheduling; server: gunicorn's request time in the worker. fail: failed")
    print("checks (client), unexpected status (server).")
    for name, budget in BUDGET_MS.items():
        for side in ("server", "client"):
            p95 = result[side]["steady"].get(name, {}).get("p95_ms")
            if p95 is not None:
                verdict = "within" if p95 <= budget else "OVER"
                print(
                    f"budget: {name} p95 ≤ {budget} ms ({side}, steady): {fmt(p95)} ms, {verdict}"
                )
    if result["failures"]:
        print("\nfailures:")
        for f in result["failures"][:10]:
            print(f"  {f['count']:>6} × {f['name']}: {f['error']}")
    print("\nslowest server requests:")
    for ms, what in result["slowest"]:
        print(f"  {ms:>9.1f} ms  {what}")


# --- main ----------------------------------------------------------------------------------
def arguments(port: int, doc: str = __doc__) -> argparse.ArgumentParser:
    """The options every load benchmark takes (this one's and bench/review_load.py's)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--pool", type=Path,
        help="reset the database, migrate and publish this built pool into it first",
    )  # fmt: skip
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--seed", type=int, default=42)
    return parser


def prepare(args) -> tuple[dict, str, float | None]:
    """The server's environment, the run's time stamp and — with --pool — the database
    reset and the pool published (its time in seconds)."""
    # Ctrl-C and SIGTERM both unwind through `finally`, which stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    OUT.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    os.environ.update({
        "DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "cunxin.project.settings",
        "CUNXIN_DEBUG": "1", "CUNXIN_DB_CONN_MAX_AGE": "600",
    })  # fmt: skip
    env = dict(os.environ)
    publish_s = None
    if args.pool:
        reset_database(args.database_url)
        publish_s = load_pool(args.pool.resolve(), env)
        log(f"published in {publish_s:.1f} s")
    return env, stamp, publish_s


def run_load(args, env: dict, name: str, stamp: str, locustfile: Path, users_file: Path):
    """gunicorn, then locust headless against it; returns (access log, locust CSV prefix,
    samples file)."""
    access_log = OUT / f"{name}-{stamp}-access.log"
    error_log = OUT / f"{name}-{stamp}-gunicorn.log"
    samples_file = OUT / f"{name}-{stamp}-samples.json"
    prefix = OUT / f"{name}-{stamp}"
    server = None
    try:
        server = start_gunicorn(args, env, access_log, error_log)
        host = f"http://127.0.0.1:{args.port}"
        cmd = [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.seconds}s",
            "--host", host, "--csv", str(prefix), "--only-summary",
        ]  # fmt: skip
        log(f"locust: {args.users} users for {args.seconds} s against {host}")
        locust_env = {
            **env, "CUNXIN_BENCH_USERS": str(users_file), "CUNXIN_BENCH_SAMPLES": str(samples_file)
        }  # fmt: skip
        locust = subprocess.run(cmd, env=locust_env, cwd=ROOT, timeout=args.seconds + 180)
        if locust.returncode not in (0, 1):  # 1: some requests failed (reported below)
            raise SystemExit(f"locust exited with {locust.returncode}")
    finally:
        stop(server, "gunicorn")
    if not samples_file.exists():
        raise SystemExit(f"locust saved no samples ({samples_file})")
    return access_log, prefix, samples_file


def main() -> int:
    args = arguments(port=8123).parse_args()
    env, stamp, publish_s = prepare(args)
    n_cms = max(50, args.users)
    log(f"setting up {n_cms} bench customer managers")
    users, size = setup_staff(n_cms, args.seed)
    users_file = OUT / "web_load_users.json"
    users_file.write_text(json.dumps(users, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"{size['persons']:,} persons, {size['households']:,} households; users file {users_file}")
    access_log, prefix, samples_file = run_load(
        args, env, "web_load", stamp, LOCUSTFILE, users_file
    )
    client, failures, steady_from, steady_s = client_figures(samples_file)
    server_stats, slowest = server_figures(access_log, steady_from)
    result = {
        "at": stamp, "database_url": args.database_url, "pool": str(args.pool or ""),
        "publish_s": round(publish_s, 1) if publish_s else None, "users": args.users,
        "seconds": args.seconds, "workers": args.workers, "spawn_rate": args.spawn_rate,
        "cpus": os.cpu_count(), "database": size, "steady_s": steady_s, "client": client,
        "server": server_stats, "failures": failures, "slowest": slowest,
        "access_log": str(access_log), "locust_csv": f"{prefix}_stats.csv",
    }  # fmt: skip
    report(result)
    out = OUT / f"web_load-{stamp}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server is already stopped (main's finally)
        log("interrupted")
        sys.exit(130)
