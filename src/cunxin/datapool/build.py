"""`cunxin pool build`: landing → pipeline on an engine → Parquet outputs, manifest, report.

Layout of POOL/:
  landing/<source>.parquet, landing/rejects.parquet, landing/ref_*.parquet
  <table>.parquet for every table in `pipeline.OUTPUT_TABLES`
  quality_report.json, quality_report.md
  manifest.json   (written last: a pool whose manifest lists a file is complete)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from cunxin.datapool import landing, pipeline, report
from cunxin.datapool.engine import get_engine
from cunxin.datapool.errors import PoolInputError
from cunxin.datapool.files import lock_down, private_dir
from cunxin.datapool.sources import SOURCES

Progress = Callable[[str, int, int], None]
DEMO_SECRET = "cunxin-demo-pool-secret"


def pool_secret() -> tuple[str, str]:
    """The key that makes person/household uids unguessable from ID numbers.

    From CUNXIN_POOL_SECRET or the file named by CUNXIN_POOL_SECRET_FILE; the demo default
    only with CUNXIN_DEMO=1 (recorded as such in the manifest). Changing it changes every
    uid.
    """
    if os.environ.get("CUNXIN_POOL_SECRET"):
        return os.environ["CUNXIN_POOL_SECRET"], "environment"
    if os.environ.get("CUNXIN_POOL_SECRET_FILE"):
        path = Path(os.environ["CUNXIN_POOL_SECRET_FILE"])
        try:
            return path.read_text(encoding="utf-8").strip(), "file"
        except OSError as e:
            raise PoolInputError(f"cannot read CUNXIN_POOL_SECRET_FILE {path}: {e.strerror}") from e
    if os.environ.get("CUNXIN_DEMO", "") in ("1", "true", "yes"):
        return DEMO_SECRET, "demo default (set CUNXIN_POOL_SECRET in production)"
    raise PoolInputError(
        "CUNXIN_POOL_SECRET (or CUNXIN_POOL_SECRET_FILE) is not set; CUNXIN_DEMO=1 uses "
        "the demo secret"
    )


def build(
    raw_dir: Path,
    pool_dir: Path,
    engine_name: str = "duckdb",
    progress: Progress | None = None,
    **engine_options,
) -> dict:
    raw_dir, pool_dir = Path(raw_dir), Path(pool_dir)
    if not raw_dir.is_dir():
        raise PoolInputError(f"raw folder not found: {raw_dir}")
    if not any((raw_dir / s.path.split("/")[0]).exists() for s in SOURCES):
        raise PoolInputError(
            f"{raw_dir} holds none of the expected source folders (ods/, bank/, third_party/)"
        )
    secret, secret_origin = pool_secret()
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    private_dir(pool_dir)  # personal data: the owner's only (files.py)
    (pool_dir / "manifest.json").unlink(missing_ok=True)  # incomplete until rewritten
    landing_dir = pool_dir / "landing"
    steps: list[dict] = []

    t = time.perf_counter()
    checksums = _checksums(raw_dir)
    steps.append({"step": "checksums", "seconds": round(time.perf_counter() - t, 3)})

    t = time.perf_counter()
    landed = landing.land_all(raw_dir, landing_dir, progress)
    geo_warnings = landing.land_geo_refs(raw_dir, landing_dir)
    steps.append({"step": "landing", "seconds": round(time.perf_counter() - t, 3)})

    engine = get_engine(engine_name, pool_dir / "_work", **engine_options)
    try:
        for source in SOURCES:
            engine.register_parquet(f"land_{source.name}", landing_dir / f"{source.name}.parquet")
        engine.register_parquet("land_rejects", landing_dir / "rejects.parquet")
        for ref in landing.REF_SCHEMAS:
            engine.register_parquet(ref, landing_dir / f"{ref}.parquet")

        t = time.perf_counter()
        pipeline.run(engine, secret, progress)
        steps.append({"step": "pipeline", "seconds": round(time.perf_counter() - t, 3)})

        t = time.perf_counter()
        if progress:
            progress("quality report", 0, 1)
        quality = report.quality(engine, landed, geo_warnings)
        steps.append({"step": "quality report", "seconds": round(time.perf_counter() - t, 3)})
        engine.release(keep=set(pipeline.OUTPUT_TABLES))

        t = time.perf_counter()
        row_counts = {}
        for i, table in enumerate(pipeline.OUTPUT_TABLES):
            if progress:
                progress(f"writing {table}", i, len(pipeline.OUTPUT_TABLES))
            engine.write_parquet(table, pool_dir / f"{table}.parquet")
            row_counts[table] = engine.count(table)
        steps.append({"step": "write", "seconds": round(time.perf_counter() - t, 3)})
        step_tables = [timing.__dict__ for timing in engine.timings]
    finally:
        engine.close()
        shutil.rmtree(pool_dir / "_work", ignore_errors=True)  # spill files, checkpoints

    manifest = {
        "run_id": f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        "engine": engine_name,
        "started_at": started_at.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
        "raw_dir": str(raw_dir.resolve()),
        "uid_secret": secret_origin,
        "input_checksums": checksums,
        "row_counts": row_counts,
        "landing": {
            name: {
                k: r[k]
                for k in ("rows_in", "rows_landed", "rows_rejected", "seconds", "process_peak_mib")
            }
            for name, r in landed["sources"].items()
        },
        "steps": steps,
        "tables": step_tables,
    }
    quality["run_id"] = manifest["run_id"]
    report.write(quality, pool_dir)
    _write_json(pool_dir / "manifest.json", manifest)
    lock_down(pool_dir)  # what landing and the engines wrote: 0600 files, 0700 folders
    return {"manifest": manifest, "quality": quality}


def _checksums(raw_dir: Path) -> dict[str, str]:
    sums = {}
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir).as_posix()
        if not path.is_file() or rel.startswith("_truth/"):
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        sums[rel] = digest.hexdigest()
    return sums


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
