"""The engine interface: the same pipeline SQL runs on DuckDB and on Spark.

Like Splink's `DatabaseAPI`, a backend implements a handful of primitives (run a query
into a named table, register and write Parquet, fetch rows, and the two SQL functions
whose spelling differs); orchestration — timing, row counts, error context — lives here
and is the same for every backend.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from cunxin.datapool.errors import PoolSQLError
from cunxin.datapool.files import FILE_MODE


@dataclass
class StepTiming:
    table: str
    rows: int
    seconds: float


@dataclass
class Engine(ABC):
    """A SQL engine holding named tables for one pipeline run."""

    name: str = "abstract"
    timings: list[StepTiming] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    # --- what a backend implements ------------------------------------------------------

    @abstractmethod
    def _create_table(self, table: str, sql: str) -> int | None:
        """Materialise the result of SELECT `sql` as `table`, replacing any earlier one.

        Returns the row count if computing it came for free, else None."""

    @abstractmethod
    def _create_view(self, table: str, sql: str) -> None:
        """Name the query `sql` without computing it (for cheap filters of a table)."""

    @abstractmethod
    def register_secret(self, value: str) -> None:
        """Make the one-row table `pool_secret(secret)` from data, never from SQL text, so
        that the secret appears in no query, plan, log or error message."""

    @abstractmethod
    def _drop(self, table: str) -> None:
        """Forget `table` (or view) and free what it holds."""

    @abstractmethod
    def _register_parquet(self, table: str, path: Path) -> None: ...

    @abstractmethod
    def _write_parquet(self, table: str, path: Path, order_by: str | None) -> None:
        """Write `table` to the single file `path` (atomically: temp name, then rename)."""

    @abstractmethod
    def _fetch(self, sql: str) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    @abstractmethod
    def regexp_replace_all(self, expr: str, pattern: str, replacement: str) -> str:
        """SQL replacing every match (DuckDB needs the 'g' flag, Spark always does)."""

    @abstractmethod
    def matches(self, expr: str, pattern: str) -> str:
        """SQL boolean: `expr` matches the regular expression `pattern`."""

    @abstractmethod
    def splink_api(self) -> Any:
        """The Splink database API object for this engine."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    # --- orchestration, the same for every backend --------------------------------------

    @final
    def create(self, table: str, sql: str) -> int:
        """Build `table` from `sql`, record rows and time, and re-raise errors with context."""
        started = time.perf_counter()
        try:
            rows = self._create_table(table, sql)
            if rows is None:
                rows = self.count(table)
        except Exception as e:
            raise PoolSQLError(self.name, table, sql, e) from e
        self.timings.append(StepTiming(table, rows, round(time.perf_counter() - started, 3)))
        self.created.append(table)
        return rows

    @final
    def view(self, table: str, sql: str) -> None:
        try:
            self._create_view(table, sql)
        except Exception as e:
            raise PoolSQLError(self.name, table, sql, e) from e
        self.created.append(table)

    @final
    def release(self, keep: set[str]) -> None:
        """Drop every table and view this run created except `keep` (frees memory before
        the outputs are written)."""
        for table in reversed(self.created):
            if table not in keep:
                self._drop(table)
        self.created = [t for t in self.created if t in keep]

    @final
    def register_parquet(self, table: str, path: Path) -> None:
        try:
            self._register_parquet(table, path)
        except Exception as e:
            raise PoolSQLError(self.name, table, f"-- read {path}", e) from e

    @final
    def write_parquet(self, table: str, path: Path, order_by: str | None = None) -> None:
        """Write `table` to `path`, readable by its owner only (0600: pool files hold
        personal data, `cunxin.datapool.files`)."""
        try:
            self._write_parquet(table, path, order_by)
            os.chmod(path, FILE_MODE)
        except Exception as e:
            raise PoolSQLError(self.name, table, f"-- write {path}", e) from e

    @final
    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self._fetch(sql)
        except Exception as e:
            raise PoolSQLError(self.name, "(query)", sql, e) from e

    @final
    def count(self, table: str) -> int:
        return int(self._fetch(f"SELECT count(*) FROM {table}")[0][0])

    @final
    def columns(self, table: str) -> list[str]:
        return [r[0] for r in self._describe(table)]

    def _describe(self, table: str) -> list[tuple[Any, ...]]:
        return self._fetch(f"DESCRIBE {table}")
