"""DuckDB backend: the embedded default. Tables live in an in-memory database that spills
to WORK/duckdb_tmp under the memory limit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from cunxin.datapool.engine.base import Engine


@dataclass
class DuckDBEngine(Engine):
    con: Any = None

    @classmethod
    def open(cls, work_dir: Path, memory_limit: str = "2.5GB", threads: int | None = None):
        con = duckdb.connect(":memory:")
        tmp = work_dir / "duckdb_tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{tmp}'")
        con.execute("SET preserve_insertion_order = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        return cls(name="duckdb", con=con)

    def _create_table(self, table: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql}")
        return None

    def _create_view(self, table: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {table} AS {sql}")

    def register_secret(self, value: str) -> None:
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE pool_secret AS SELECT CAST(? AS VARCHAR) AS secret",
            [value],
        )

    def _drop(self, table: str) -> None:
        kind = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()
        if kind:
            self.con.execute(f"DROP {'VIEW' if kind[0][0] == 'VIEW' else 'TABLE'} {table}")

    def _register_parquet(self, table: str, path: Path) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{path}')")

    def _write_parquet(self, table: str, path: Path, order_by: str | None) -> None:
        tmp = path.with_name(path.name + ".tmp")
        order = f" ORDER BY {order_by}" if order_by else ""
        self.con.execute(
            f"COPY (SELECT * FROM {table}{order}) TO '{tmp}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)"
        )
        os.replace(tmp, path)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def table_exists(self, table: str) -> bool:
        rows = self.con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()
        return bool(rows)

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        return f"regexp_replace({expr}, '{pattern}', '{replacement}', 'g')"

    def matches(self, expr: str, pattern: str) -> str:
        return f"regexp_full_match({expr}, '{pattern}')"

    def splink_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def close(self) -> None:
        self.con.close()
