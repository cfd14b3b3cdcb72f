"""Benchmark: publish a built pool into PostgreSQL (or SQLite); print time per table and
the peak memory of the publishing process.

    uv run python bench/pool_build.py --scale 1.0 --work /tmp/b   # once: a full-county pool
    uv run python bench/publish.py --pool /tmp/b/pool              # PostgreSQL, fresh database
    uv run python bench/publish.py --pool /tmp/b/pool --database-url sqlite:////tmp/b/x.sqlite3

Runs three publishes: into an empty database, the same pool again (nothing changes), and
once more after touching every 100th person (an update). Budget (DESIGN.md §7): full
county into PostgreSQL ≤ 60 s.
"""

from __future__ import annotations

import os

# benchmarks run on synthetic data with the demo's built-in keys and secrets
os.environ.setdefault("CUNXIN_DEMO", "1")

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path


def _fresh_postgres(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {name}")


def _touched_pool(pool: Path, out: Path) -> Path:
    """A copy of the pool (symlinks) whose person.parquet changes every 100th phone."""
    import duckdb

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for item in pool.iterdir():
        if item.name != "person.parquet":
            (out / item.name).symlink_to(item.resolve())
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CASE WHEN hash(person_uid) % 100 = 0 AND phone IS NOT NULL "
        f"THEN '139' || right(phone, 8) ELSE phone END AS phone) FROM '{pool}/person.parquet') "
        f"TO '{out}/person.parquet'"
    )
    return out


def _publish(env: dict, pool: Path) -> dict:
    code = (
        "import django, json, resource, time\n"
        "django.setup()\n"
        "from cunxin.pool.publish import publish\n"
        f"t = time.perf_counter(); run = publish({str(pool)!r}, by='bench')\n"
        "print(json.dumps({'wall': time.perf_counter() - t, 'timings': run.timings, 'counts': run.counts,\n"
        "  'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--pool", type=Path, required=True)
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cunxin_bench")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    args = ap.parse_args()
    env = dict(os.environ, DATABASE_URL=args.database_url,
               DJANGO_SETTINGS_MODULE="cunxin.project.settings",
               CUNXIN_DATA_DIR=str(args.out))  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    if args.database_url.startswith("postgres"):
        _fresh_postgres(args.database_url)
    elif args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "cunxin.cli", "manage", "migrate", "-v0"], env=env, check=True)  # fmt: skip
    results = {}
    for label, pool in (
        ("first publish (empty database)", args.pool),
        ("same pool again (no change)", args.pool),
        ("every 100th phone changed", _touched_pool(args.pool, args.out / "touched-pool")),
    ):
        r = _publish(env, pool)
        results[label] = r
        person = r["counts"]["pool_person"]
        print(f"{label:<34} {r['wall']:7.1f} s   peak {r['peak_mib']:7.0f} MiB   persons: "
              f"{person['rows']:,} rows, {person['inserted']:,} inserted, {person['updated']:,} updated", flush=True)  # fmt: skip
        slow = sorted(((v, k) for k, v in r["timings"].items() if k != "total"), reverse=True)[:4]
        print("    slowest steps: " + ", ".join(f"{k} {v:.1f} s" for v, k in slow))
    (args.out / "publish.json").write_text(json.dumps(results, indent=2))
    first = results["first publish (empty database)"]["wall"]
    vendor = args.database_url.split(":", 1)[0]
    print(f"\n{vendor}: first publish took {first:.1f} s; budget (PostgreSQL, full county) ≤ 60 s")


if __name__ == "__main__":
    main()
