"""Writing the raw files: atomic, streaming, and deliberately imperfect.

Every file is written under a temporary name in the same folder and renamed only when
complete, so a killed run never leaves a half file under the final name.

A source is first built as a `Table` (one list of values per column, plus the person
each row is about). A `BreakPlan` then damages a few rows the way real extracts are
damaged: a lost or extra delimiter (field_count), an amount written in words
(bad_amount), an impossible date (bad_date), a line that is not JSON (bad_json), the
same record twice (duplicate_key), a last line cut off without its newline (truncated).
Every physical row written is reported to `Truth`: its record key and person, and for
damaged rows the kind of damage, so that the pool can be checked row by row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cunxin.datapool.sources import SOURCES_BY_NAME

from .common import DATA_DATE

CHUNK_ROWS = 100_000


# ---------------------------------------------------------------- atomic files


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


@contextlib.contextmanager
def atomic_text(path: Path, encoding: str, newline: str = "\n") -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "w", encoding=encoding, newline=newline, buffering=1 << 20) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write to; renamed to `path` if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- tables and damage


@dataclass
class Table:
    source: str
    columns: list[list[Any]]  # in the column order of cunxin.datapool.sources
    persons: np.ndarray  # person index of each row
    key_column: int = 0

    @property
    def n(self) -> int:
        return len(self.persons)

    def keys(self) -> list[str]:
        return list(map(str, self.columns[self.key_column]))

    def take(self, rows: np.ndarray) -> Table:
        taken = []
        for col in self.columns:
            values = np.empty(len(col), dtype=object)
            values[:] = col
            taken.append(values[rows].tolist())
        return Table(self.source, taken, self.persons[rows], self.key_column)

    def order_by_key(self) -> Table:
        keys = self.columns[self.key_column]
        order = np.array(sorted(range(self.n), key=keys.__getitem__), dtype=np.int64)
        return self.take(order)


BAD_AMOUNTS = ("壹万", "伍万元", "贰仟伍佰", "1,2000.00", "--", "待定")
BAD_COMPACT_DATES = ("20230231", "20221331", "20210230", "00000000", "20190431")
BAD_ISO_DATES = ("2023-02-31", "2022-13-01", "2021-02-30", "0000-00-00", "2019-04-31")


@dataclass
class BreakPlan:
    """Which rows of one file get which damage."""

    row_kind: dict[int, str] = field(default_factory=dict)  # row -> kind (one per row)
    duplicates: list[int] = field(default_factory=list)  # rows written twice
    truncated: bool = False  # the last row is cut off without newline

    @classmethod
    def make(
        cls,
        rng: np.random.Generator,
        table: Table,
        *,
        kinds: dict[str, str | None],
        duplicate_rate: float = 0.0,
        duplicate_count: int | None = None,
        truncate_last: bool = False,
        rate: float = 0.0003,
    ) -> BreakPlan:
        """kinds maps a damage kind to the column name it applies to (None: line damage).

        Value damage (bad_amount, bad_date) is applied to the table right away.
        """
        column_names = SOURCES_BY_NAME[table.source].column_names
        n = table.n
        reserved = {n - 1} if truncate_last and n else set()
        candidates = np.array([i for i in range(n) if i not in reserved], dtype=np.int64)
        n_each = {k: max(1, round(rate * n)) for k in kinds}
        n_dup = max(1, round(duplicate_rate * n)) if duplicate_rate > 0 else 0
        if duplicate_count is not None:
            n_dup = duplicate_count
        total = min(len(candidates), sum(n_each.values()) + n_dup)
        chosen = rng.permutation(candidates)[:total].tolist()
        plan = cls(truncated=bool(reserved))
        pos = 0
        for kind, count in n_each.items():
            for row in chosen[pos : pos + count]:
                plan.row_kind[row] = kind
            pos += count
        plan.duplicates = sorted(chosen[pos:total])
        for row, kind in plan.row_kind.items():
            column = kinds[kind]
            if column is not None:
                _damage_value(rng, table, row, kind, column_names.index(column))
        return plan


def _damage_value(rng: np.random.Generator, table: Table, row: int, kind: str, col: int) -> None:
    values = table.columns[col]
    if kind == "bad_amount":
        values[row] = BAD_AMOUNTS[int(rng.integers(0, len(BAD_AMOUNTS)))]
    elif kind == "bad_date":
        current = str(values[row])
        pool = BAD_ISO_DATES if "-" in current else BAD_COMPACT_DATES
        values[row] = pool[int(rng.integers(0, len(pool)))]
    else:
        raise ValueError(kind)


def _break_fields(rng: np.random.Generator, fields: list[str], key_column: int) -> list[str]:
    """Lose one delimiter (two fields run together) or gain one (a field split in two)."""
    fields = list(fields)
    movable = [i for i in range(len(fields) - 1) if i != key_column]
    i = movable[int(rng.integers(0, len(movable)))]
    if rng.random() < 0.5:
        fields[i : i + 2] = [fields[i] + fields[i + 1]]
    else:
        text = fields[i]
        cut = len(text) // 2
        fields[i : i + 1] = [text[:cut], text[cut:]]
    return fields


# ---------------------------------------------------------------- truth


class Truth:
    """Collects which person every written row is about, and what was broken."""

    def __init__(self) -> None:
        self._links: list[pa.Table] = []
        self._broken: list[tuple[str, str | None, str, str]] = []
        self.rows_written: dict[str, int] = {}

    def add_links(self, source: str, keys: Sequence[str], persons: np.ndarray) -> None:
        self._links.append(
            pa.table(
                {
                    "source": pa.array([source] * len(keys), pa.string()),
                    "record_key": pa.array(keys, pa.string()),
                    "person": pa.array(np.asarray(persons, dtype=np.int64)),
                }
            )
        )

    def add_broken(self, source: str, key: str | None, kind: str, file: str) -> None:
        self._broken.append((source, key, kind, file))

    def count_rows(self, source: str, physical_rows: int) -> None:
        self.rows_written[source] = self.rows_written.get(source, 0) + physical_rows

    def links_table(self) -> pa.Table:
        links = pa.concat_tables(self._links)
        pid = pc.binary_join_element_wise(
            "T", pc.utf8_lpad(pc.cast(links["person"], pa.string()), 9, "0"), ""
        )
        return pa.table(
            {
                "source": links["source"],
                "record_key": links["record_key"],
                "person_id": pid,
            }
        )

    def broken_table(self) -> pa.Table:
        cols = list(zip(*self._broken, strict=True)) if self._broken else [[], [], [], []]
        return pa.table(
            {
                "source": pa.array(cols[0], pa.string()),
                "record_key": pa.array(cols[1], pa.string()),
                "kind": pa.array(cols[2], pa.string()),
                "file": pa.array(cols[3], pa.string()),
            }
        )


def write_parquet(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


# ---------------------------------------------------------------- delimited text


def _csv_field(value: str) -> str:
    if "," in value or '"' in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _render(fields: Sequence[str], sep: str, quote_cols: frozenset[int] = frozenset()) -> str:
    if quote_cols:
        fields = [_csv_field(v) if i in quote_cols else v for i, v in enumerate(fields)]
    return sep.join(fields)


def write_delimited(
    path: Path,
    table: Table,
    plan: BreakPlan,
    truth: Truth,
    *,
    sep: str,
    encoding: str,
    file_label: str,
    header: Sequence[str] | None = None,
    quote_cols: Sequence[int] = (),
    rng: np.random.Generator,
) -> int:
    """Write a pipe or comma separated file; returns the number of physical data lines."""
    quote = frozenset(quote_cols)
    columns = table.columns
    keys = table.keys()
    dups = set(plan.duplicates)
    special = sorted(set(plan.row_kind) | dups)
    pos = 0
    written = 0
    with atomic_text(path, encoding=encoding) as fh:
        if header is not None:
            fh.write(sep.join(header) + "\n")
        for start in range(0, table.n, CHUNK_ROWS):
            end = min(table.n, start + CHUNK_ROWS)
            rows = zip(*(col[start:end] for col in columns), strict=True)
            lines = [_render(r, sep, quote) for r in rows] if quote else list(map(sep.join, rows))
            repeated: list[int] = []
            while pos < len(special) and special[pos] < end:
                i = special[pos]
                pos += 1
                kind = plan.row_kind.get(i)
                if kind == "field_count":
                    fields = [str(col[i]) for col in columns]
                    broken = _break_fields(rng, fields, table.key_column)
                    lines[i - start] = _render(broken, sep, quote)
                elif kind is not None and sep == ",":  # a damaged value may hold a comma
                    fields = [str(col[i]) for col in columns]
                    lines[i - start] = _render(fields, sep, frozenset(range(len(fields))))
                if kind is not None:
                    truth.add_broken(table.source, keys[i], kind, file_label)
                if i in dups:
                    repeated.append(i - start)
                    truth.add_broken(table.source, keys[i], "duplicate_key", file_label)
            for offset in reversed(repeated):
                lines.insert(offset + 1, lines[offset])
            written += len(lines)
            if plan.truncated and end == table.n:
                last = lines.pop()
                cut = max(len(keys[-1]) + 2, int(len(last) * 0.55))
                fh.write("\n".join(lines) + ("\n" if lines else "") + last[:cut])
                truth.add_broken(table.source, keys[-1], "truncated", file_label)
            else:
                fh.write("\n".join(lines) + "\n")
    truth.add_links(table.source, keys, table.persons)
    truth.count_rows(table.source, written)
    return written


def write_ods(
    ods_dir: Path, file_name: str, table: Table, plan: BreakPlan, truth: Truth, rng
) -> int:
    """A GBK pipe file without header plus its control file `<name>|<rows>|<date>`."""
    dat = ods_dir / file_name
    rows = write_delimited(
        dat,
        table,
        plan,
        truth,
        sep="|",
        encoding="gbk",
        file_label=f"ods/{file_name}",
        rng=rng,
    )
    ctl = dat.with_suffix(".ctl")
    with atomic_text(ctl, encoding="gbk") as fh:
        fh.write(f"{file_name}|{rows}|{DATA_DATE}\n")
    return rows


# ---------------------------------------------------------------- JSON lines


def _break_json(rng: np.random.Generator, line: str) -> str:
    r = rng.random()
    if r < 0.3:  # cut off
        return line[: max(20, int(len(line) * 0.6))]
    if r < 0.55:  # Python repr instead of JSON
        return line.replace('"', "'")
    if r < 0.8:  # trailing comma
        return line[:-1] + ", }"
    return line.replace(", ", ",\t", 1).replace('"', "", 2)  # unquoted first key


def write_jsonl(
    path: Path,
    table: Table,
    native: Sequence[str],
    plan: BreakPlan,
    truth: Truth,
    *,
    file_label: str,
    rng: np.random.Generator,
) -> int:
    keys = table.keys()
    dups = set(plan.duplicates)
    written = 0
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with atomic_text(path, encoding="utf-8") as fh:
        for start in range(0, table.n, CHUNK_ROWS):
            end = min(table.n, start + CHUNK_ROWS)
            out: list[str] = []
            for offset, values in enumerate(
                zip(*(c[start:end] for c in table.columns), strict=True)
            ):
                i = start + offset
                line = dumps(dict(zip(native, values, strict=True)))
                kind = plan.row_kind.get(i)
                if kind == "bad_json":
                    line = _break_json(rng, line)
                if kind is not None:
                    truth.add_broken(table.source, keys[i], kind, file_label)
                out.append(line)
                written += 1
                if i in dups:
                    out.append(line)
                    written += 1
                    truth.add_broken(table.source, keys[i], "duplicate_key", file_label)
            fh.write("\n".join(out) + "\n")
    truth.add_links(table.source, keys, table.persons)
    truth.count_rows(table.source, written)
    return written


# ---------------------------------------------------------------- Excel


def write_xlsx(
    path: Path,
    sheets: Sequence[tuple[str, Table]],
    header: Sequence[str],
    plans: Sequence[BreakPlan],
    truth: Truth,
    *,
    file_label: str,
    date_columns: Sequence[int] = (),
) -> int:
    """One workbook; each sheet has the header in row 1. Dates become real Excel dates."""
    import xlsxwriter

    written = 0
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False})
        wb.set_properties({"created": dt.datetime(2026, 11, 28, 9, 0, 0)})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        bold = wb.add_format({"bold": True})
        for (sheet_name, table), plan in zip(sheets, plans, strict=True):
            ws = wb.add_worksheet(sheet_name)
            ws.write_row(0, 0, list(header), bold)
            keys = table.keys()
            for i, values in enumerate(zip(*table.columns, strict=True)):
                r = i + 1
                for c, v in enumerate(values):
                    if v is None or v == "":
                        continue
                    if isinstance(v, dt.date):
                        ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_fmt)
                    elif isinstance(v, str):
                        ws.write_string(r, c, v)
                    else:
                        ws.write_number(r, c, v)
                kind = plan.row_kind.get(i)
                if kind is not None:
                    truth.add_broken(table.source, keys[i], kind, file_label)
            written += table.n
            truth.add_links(table.source, keys, table.persons)
        wb.close()
    truth.count_rows(sheets[0][1].source, written)
    return written
