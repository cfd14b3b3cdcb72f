"""Engines: `get_engine("duckdb" | "spark")`. Spark is imported only when asked for."""

from __future__ import annotations

from pathlib import Path

from cunxin.datapool.engine.base import Engine
from cunxin.datapool.errors import PoolInputError

ENGINES = ("duckdb", "spark")


def get_engine(name: str, work_dir: Path, **options) -> Engine:
    if name == "duckdb":
        from cunxin.datapool.engine.duckdb import DuckDBEngine

        return DuckDBEngine.open(work_dir, **options)
    if name == "spark":
        from cunxin.datapool.engine.spark import SparkEngine

        return SparkEngine.open(work_dir, **options)
    raise PoolInputError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "get_engine"]
