"""Spark backend: local mode for tests and small pools, or a cluster via CUNXIN_SPARK_MASTER.

pyspark is an optional dependency (`uv sync --extra spark`); importing this module
without it raises a clear error. Tables are temp views over locally checkpointed frames,
so each step's result is computed once.
"""

from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cunxin.datapool.engine.base import Engine
from cunxin.datapool.errors import PoolInputError

try:
    from pyspark.sql import SparkSession
except ImportError as e:  # pragma: no cover - exercised by the no-spark import test
    raise PoolInputError(
        "the Spark engine needs pyspark: install it with `uv sync --extra spark`"
    ) from e


def spark_session(master: str | None = None) -> SparkSession:
    master = master or os.environ.get("CUNXIN_SPARK_MASTER", "local[2]")
    return (
        SparkSession.builder.master(master)
        .appName("cunxin-datapool")
        .config("spark.sql.shuffle.partitions", os.environ.get("CUNXIN_SPARK_PARTITIONS", "2"))
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("CUNXIN_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .getOrCreate()
    )


@dataclass
class SparkEngine(Engine):
    spark: Any = None

    @classmethod
    def open(cls, work_dir: Path, master: str | None = None):
        spark = spark_session(master)
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir(str(work_dir / "spark_checkpoints"))
        return cls(name="spark", spark=spark)

    def _create_table(self, table: str, sql: str) -> int:
        # A lazy local checkpoint materialised by count(): the step is computed once, in one
        # job, and later plans start from its result instead of the whole lineage (whose
        # analysis grows with every step and eventually exhausts the driver's heap).
        frame = self.spark.sql(sql).localCheckpoint(eager=False)
        rows = frame.count()
        frame.createOrReplaceTempView(table)
        return rows

    def _create_view(self, table: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(table)

    def register_secret(self, value: str) -> None:
        self.spark.createDataFrame([(value,)], "secret string").createOrReplaceTempView(
            "pool_secret"
        )

    def _drop(self, table: str) -> None:
        self.spark.catalog.dropTempView(table)

    def _register_parquet(self, table: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def _write_parquet(self, table: str, path: Path, order_by: str | None) -> None:
        frame = self.spark.table(table)
        if order_by:
            frame = self.spark.sql(f"SELECT * FROM {table} ORDER BY {order_by}")
        tmp_dir = path.with_name(path.name + ".sparktmp")
        frame.coalesce(1).write.mode("overwrite").option("compression", "snappy").parquet(
            str(tmp_dir)
        )
        parts = glob.glob(str(tmp_dir / "part-*.parquet"))
        if len(parts) != 1:
            raise RuntimeError(f"expected one part file in {tmp_dir}, found {len(parts)}")
        os.replace(parts[0], path)
        shutil.rmtree(tmp_dir)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def _describe(self, table: str) -> list[tuple[Any, ...]]:
        return [(f.name, f.dataType.simpleString()) for f in self.spark.table(table).schema.fields]

    def table_exists(self, table: str) -> bool:
        return bool(self.spark.catalog.tableExists(table))

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        return f"regexp_replace({expr}, '{pattern}', '{replacement}')"

    def matches(self, expr: str, pattern: str) -> str:
        # (?s)...(?!.) ends at the very end: Java's $ would also match before a final newline
        return f"({expr} RLIKE '(?s)^(?:{pattern})(?!.)')"

    def splink_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.spark, register_udfs_automatically=False)
