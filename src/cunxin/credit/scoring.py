"""Scoring with a scorecard model (the JSON from `scorecard.py`), in Python and as SQL.

The scorecard is a sum of table look-ups, so in SQL it is one CASE expression per feature
(bin → points) and a sum: the same text runs on DuckDB and on Spark through the pool's
engine interface, and `score_python` is the same rule in numpy (the tests hold the three,
and optbinning's own scores, equal for every person).

    cunxin model score --pool POOL --model scorecard.json [--engine duckdb|spark]

writes POOL/model_score.parquet — person_uid, model_id, score, grade and points_<feature>
for every adult (the points explain a score) — and POOL/model_score.json (which model,
which pool run, grade counts, timings). Rules of the bins: a number falls in the bin whose
`lower ≤ x < upper`; a missing value, or a category the model never saw, takes the
feature's `missing` points.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cunxin.credit.modelfile import ModelInputError, check_model, load_model

# What the scorecard reads: the pool's features, plus the 2017 sunshine-credit rating from
# profile_credit (a rating from before every loan in the label window).
MODEL_INPUT_SQL = """SELECT f.*, c.sunshine2017_rating
FROM features f LEFT JOIN profile_credit c ON c.person_uid = f.person_uid"""
INPUT_FILES = {"features": "features.parquet", "profile_credit": "profile_credit.parquet"}
OUTPUT = "model_score"


def require_pool(pool_dir: Path) -> None:
    """A complete pool: the folder, its manifest (written last by a build) and the inputs."""
    pool_dir = Path(pool_dir)
    if not pool_dir.is_dir():
        raise ModelInputError(f"pool folder not found: {pool_dir}")
    for name in ("manifest.json", *INPUT_FILES.values()):
        if not (pool_dir / name).is_file():
            raise ModelInputError(
                f"{pool_dir} is not a complete pool: {name} is missing "
                "(build it with `cunxin pool build`)"
            )


def read_model_input(pool_dir: Path) -> pa.Table:
    """The scorecard's input for every adult of a pool, as an Arrow table."""
    import duckdb

    pool_dir = Path(pool_dir)
    require_pool(pool_dir)
    con = duckdb.connect()
    try:
        for table, name in INPUT_FILES.items():
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{_quote(pool_dir / name)}')"
            )
        return con.sql(MODEL_INPUT_SQL).to_arrow_table()
    finally:
        con.close()


# --- Python -----------------------------------------------------------------------------


def points_python(model: dict, table: pa.Table) -> dict[str, np.ndarray]:
    """Points per feature for every row of `table` (columns named as the features)."""
    out = {}
    for v in model["variables"]:
        if v["name"] not in table.column_names:
            raise ModelInputError(f"the input lacks the model's feature {v['name']}")
        col = table[v["name"]]
        points = np.array([b["points"] for b in v["bins"]], dtype=np.int64)
        missing = v["missing"]["points"]
        if v["kind"] == "categorical":
            lookup = {c: b["points"] for b in v["bins"] for c in b["categories"]}
            values = pc.cast(col, pa.string()).to_pylist()
            out[v["name"]] = np.array([lookup.get(x, missing) for x in values], dtype=np.int64)
        else:
            x = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
            edges = np.array([b["upper"] for b in v["bins"][:-1]], dtype=np.float64)
            p = points[np.searchsorted(edges, x, side="right")]
            p[np.isnan(x)] = missing
            out[v["name"]] = p
    return out


def score_python(model: dict, table: pa.Table) -> np.ndarray:
    """The score (an integer) of every row of `table`."""
    total = np.full(table.num_rows, model["base_points"], dtype=np.int64)
    for p in points_python(model, table).values():
        total += p
    return total


# --- SQL --------------------------------------------------------------------------------


def points_sql(variable: dict) -> str:
    """One feature's points as a CASE expression (DuckDB and Spark SQL alike)."""
    name, bins, missing = variable["name"], variable["bins"], variable["missing"]["points"]
    if variable["kind"] == "categorical":
        whens = [
            f"WHEN {name} IN ({', '.join(_string(c) for c in b['categories'])}) THEN {b['points']}"
            for b in bins
            if b["categories"]
        ]
        return f"CASE {' '.join(whens)} ELSE {missing} END" if whens else str(missing)
    expr = f"CAST({name} AS INT)" if variable["kind"] == "boolean" else name
    whens = [f"WHEN {expr} IS NULL THEN {missing}"]
    whens += [f"WHEN {expr} < {int(b['upper'])} THEN {b['points']}" for b in bins[:-1]]
    return f"CASE {' '.join(whens)} ELSE {bins[-1]['points']} END"


def score_sql(model: dict, source: str = "model_input") -> str:
    """SELECT person_uid, model_id, score, grade, points_<feature>… FROM `source`."""
    check_model(model)
    names = [v["name"] for v in model["variables"]]
    points = ",\n    ".join(
        f"CAST({points_sql(v)} AS INT) AS points_{v['name']}" for v in model["variables"]
    )
    total = " + ".join([str(model["base_points"]), *(f"points_{n}" for n in names)])
    grades = model["grades"]
    grade = " ".join(f"WHEN score >= {g['min_score']} THEN '{g['grade']}'" for g in grades[:-1])
    grade = (
        f"CASE {grade} ELSE '{grades[-1]['grade']}' END" if grade else f"'{grades[-1]['grade']}'"
    )
    point_columns = ", ".join(f"points_{n}" for n in names)
    return f"""SELECT person_uid, '{model["model_id"]}' AS model_id, score,
  {grade} AS grade,
  {point_columns}
FROM (
  SELECT person_uid, CAST({total} AS INT) AS score, {point_columns}
  FROM (
    SELECT person_uid,
    {points}
    FROM {source}
  ) p
) s"""


def score_pool(
    pool_dir: Path, model: dict | Path, engine_name: str = "duckdb", **engine_options: Any
) -> dict:
    """Score every adult of the pool on `engine_name`; write model_score.parquet and .json."""
    from cunxin.datapool.engine import get_engine

    pool_dir = Path(pool_dir)
    require_pool(pool_dir)
    model = check_model(model) if isinstance(model, dict) else load_model(model)
    started = time.perf_counter()
    work = pool_dir / "_model_work"
    engine = get_engine(engine_name, work, **engine_options)
    try:
        for table, name in INPUT_FILES.items():
            engine.register_parquet(table, pool_dir / name)
        available = set(engine.columns("features")) | {"sunshine2017_rating"}
        lacking = [n for n in model["features"] if n not in available]
        if lacking:
            raise ModelInputError(
                f"the pool's features lack what the model needs: {', '.join(lacking)}"
            )
        engine.view("model_input", MODEL_INPUT_SQL)
        rows = engine.create(OUTPUT, score_sql(model))
        counts = dict(engine.fetch(f"SELECT grade, count(*) FROM {OUTPUT} GROUP BY grade"))
        engine.write_parquet(OUTPUT, pool_dir / f"{OUTPUT}.parquet", order_by="person_uid")
    finally:
        engine.close()
        shutil.rmtree(work, ignore_errors=True)
    manifest = json.loads((pool_dir / "manifest.json").read_text(encoding="utf-8"))
    summary = {
        "model_id": model["model_id"],
        "pool_run_id": manifest.get("run_id"),
        "engine": engine_name,
        "scored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "grades": {g["grade"]: int(counts.get(g["grade"], 0)) for g in model["grades"]},
        "seconds": round(time.perf_counter() - started, 3),
        "file": f"{OUTPUT}.parquet",
    }
    tmp = pool_dir / f"{OUTPUT}.json.tmp"
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(pool_dir / f"{OUTPUT}.json")
    return summary


def _string(value: str) -> str:
    # check_model refuses quotes and backslashes, whose escaping DuckDB and Spark differ on
    return f"'{value}'"


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def summary(result: dict, pool_dir: Path) -> str:
    """What `cunxin model score` prints."""
    grades = ", ".join(f"{k} {v:,}" for k, v in result["grades"].items())
    return (
        f"scored {result['rows']:,} adults with {result['model_id']} on {result['engine']} "
        f"in {result['seconds']:.1f} s\ngrades: {grades}\n"
        f"written: {Path(pool_dir) / result['file']}"
    )
