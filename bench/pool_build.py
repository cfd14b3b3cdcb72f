"""Benchmark: synthesise a county and build its data pool; print time and peak memory per
step, and linkage precision/recall against the synthetic truth.

    uv run python bench/pool_build.py                       # scale 1.0 on DuckDB
    uv run python bench/pool_build.py --scale 0.1
    uv run --extra spark python bench/pool_build.py --spark-scale 0.01   # + Spark vs DuckDB

Budget (DESIGN.md §7): full county (scale 1.0) on DuckDB ≤ 30 s wall and ≤ 3 GiB peak;
Spark at small scale gives results identical to DuckDB. Peak memory is the process's
resident high-water mark (VmHWM), reset between phases through /proc/self/clear_refs.
"""

from __future__ import annotations

import os

# benchmarks run on synthetic data with the demo's built-in keys and secrets
os.environ.setdefault("CUNXIN_DEMO", "1")

import argparse
import contextlib
import json
import shutil
import time
from pathlib import Path

import duckdb

from cunxin.datapool.build import build
from cunxin.datapool.evaluate import linkage_scores
from cunxin.datapool.pipeline import OUTPUT_TABLES
from cunxin.synth import generate


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_hwm() -> None:
    with contextlib.suppress(OSError):  # not Linux, or not allowed: peaks accumulate
        Path("/proc/self/clear_refs").write_text("5")


class Phases:
    """A progress callback that times phases (the first word of each label)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self.current: str | None = None
        self.started = time.perf_counter()

    def __call__(self, label: str, done: int, total: int) -> None:
        phase = label if not label.startswith(("landing ", "writing ")) else label.split()[0]
        if phase != self.current:
            self.close()
            self.current, self.started = phase, time.perf_counter()
            _reset_hwm()

    def close(self) -> None:
        if self.current is not None:
            self.rows.append((self.current, time.perf_counter() - self.started, _hwm_mib()))
        self.current = None


def timed_build(raw: Path, pool: Path, engine: str) -> tuple[dict, Phases, float, float]:
    shutil.rmtree(pool, ignore_errors=True)
    phases = Phases()
    _reset_hwm()
    started = time.perf_counter()
    result = build(raw, pool, engine, progress=phases)
    wall = time.perf_counter() - started
    phases.close()
    peak = max((p for _, _, p in phases.rows), default=_hwm_mib())
    return result, phases, wall, peak


def report(title: str, phases: Phases, wall: float, peak: float) -> None:
    print(f"\n{title}")
    print(f"  {'phase':<22}{'seconds':>9}{'peak MiB':>10}")
    for name, seconds, hwm in phases.rows:
        print(f"  {name:<22}{seconds:>9.2f}{hwm:>10.0f}")
    print(f"  {'total':<22}{wall:>9.2f}{peak:>10.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, default=Path("bench-out"))
    ap.add_argument("--reuse-raw", action="store_true", help="keep an existing synthetic county")
    ap.add_argument(
        "--spark-scale", type=float, default=0.0, help="also build on Spark at this scale"
    )
    args = ap.parse_args()

    raw = args.work / f"raw-{args.scale}"
    if not (args.reuse_raw and (raw / "_truth" / "summary.json").exists()):
        started = time.perf_counter()
        generate(raw, scale=args.scale, seed=args.seed)
        print(f"synth scale {args.scale}: {time.perf_counter() - started:.1f} s")
    result, phases, wall, peak = timed_build(raw, args.work / f"pool-{args.scale}", "duckdb")
    report(f"pool build, scale {args.scale}, DuckDB", phases, wall, peak)
    workers = [r["process_peak_mib"] for r in result["manifest"]["landing"].values()]
    print(f"  landing worker processes: {max(workers)} MiB peak (each; at most 2 run at once)")
    scores = linkage_scores(args.work / f"pool-{args.scale}", raw / "_truth")
    print("  linkage:", json.dumps(scores))
    print("  rows:", json.dumps(result["manifest"]["row_counts"]))

    if args.spark_scale:
        small = args.work / f"raw-{args.spark_scale}"
        if not (args.reuse_raw and (small / "_truth" / "summary.json").exists()):
            generate(small, scale=args.spark_scale, seed=args.seed)
        duck_pool, spark_pool = args.work / "pool-small-duckdb", args.work / "pool-small-spark"
        _, d_phases, d_wall, d_peak = timed_build(small, duck_pool, "duckdb")
        report(f"pool build, scale {args.spark_scale}, DuckDB", d_phases, d_wall, d_peak)
        _, s_phases, s_wall, s_peak = timed_build(small, spark_pool, "spark")
        report(
            f"pool build, scale {args.spark_scale}, Spark local[2] (driver RSS only)",
            s_phases,
            s_wall,
            s_peak,
        )
        differing = [
            t
            for t in OUTPUT_TABLES
            if duckdb.sql(f"SELECT * FROM '{duck_pool}/{t}.parquet' ORDER BY ALL").fetchall()
            != duckdb.sql(f"SELECT * FROM '{spark_pool}/{t}.parquet' ORDER BY ALL").fetchall()
        ]
        print(f"  Spark vs DuckDB: {len(OUTPUT_TABLES) - len(differing)}/{len(OUTPUT_TABLES)} tables identical"
              + (f"; differing: {', '.join(differing)}" if differing else ""))  # fmt: skip


if __name__ == "__main__":
    main()
