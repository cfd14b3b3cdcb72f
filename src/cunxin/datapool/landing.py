"""Landing: one adapter per source turns the native files into Parquet with canonical columns.

Values stay text (typing is the standardize step's job, on the engine), but everything a
file format can get wrong is caught here: encoding, control-file row counts, field counts,
missing columns, unparseable JSON, missing or duplicate record keys. Each rejected row is
written to the rejects table with the source, the record key (if it can be read), the raw
line and a reason, and for every source ``rows_in == rows_landed + rows_rejected``.
"""

from __future__ import annotations

import datetime as dt
import glob
import io
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cunxin.datapool.errors import PoolInputError
from cunxin.datapool.sources import SOURCES, SOURCES_BY_NAME, Source

REJECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("record_key", pa.string()),
        ("raw_line", pa.string()),
        ("stage", pa.string()),
        ("reason_code", pa.string()),
        ("reason", pa.string()),
    ]
)


@dataclass
class Rejects:
    rows: list[dict] = field(default_factory=list)

    def add(
        self,
        source: str,
        file: str,
        line: int | None,
        record_key: str | None,
        raw_line: str,
        reason_code: str,
        reason: str,
    ) -> None:
        self.rows.append(
            {
                "source": source,
                "file": file,
                "line": line,
                "record_key": record_key,
                "raw_line": raw_line,
                "stage": "landing",
                "reason_code": reason_code,
                "reason": reason,
            }
        )

    def count(self, source: str) -> int:
        return sum(1 for r in self.rows if r["source"] == source)

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=REJECT_SCHEMA)


@dataclass
class SourceLanding:
    source: str
    files: list[str]
    rows_in: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    process_peak_mib: int = 0

    def check(self) -> None:
        if self.rows_in != self.rows_landed + self.rows_rejected:
            raise AssertionError(
                f"{self.source}: {self.rows_in} rows in but {self.rows_landed} landed "
                f"+ {self.rows_rejected} rejected"
            )


@dataclass
class _Batch:
    """Rows of one file that parsed: canonical column name -> list of text values."""

    file: str
    columns: dict[str, list[str | None]]
    lines: list[int | None]  # line (xlsx: row) of each row in its file, None if unknown


Progress = Callable[[str, int, int], None]
_LINE_END = re.compile("\r\n|\r|\n")


def land_all(
    raw_dir: Path, landing_dir: Path, progress: Progress | None = None, workers: int | None = None
) -> dict:
    """Land every source under RAW into LANDING/<source>.parquet and LANDING/rejects.parquet.

    Sources are independent, so they land in parallel worker processes (largest first;
    `workers` or CUNXIN_LANDING_WORKERS, default one per core up to 4). Returns
    ``{"sources": {name: SourceLanding as dict}}`` (input checksums are the build's job).
    """
    if not raw_dir.is_dir():
        raise PoolInputError(f"raw folder not found: {raw_dir}")
    landing_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or int(os.environ.get("CUNXIN_LANDING_WORKERS", min(4, os.cpu_count() or 1)))
    sizes = {s.name: _input_bytes(raw_dir, s) for s in SOURCES}
    by_size = sorted(SOURCES, key=lambda s: -sizes[s.name])
    outcomes: dict[str, tuple[dict, list[dict]]] = {}
    if workers <= 1 or sum(sizes.values()) < 32 << 20:  # small inputs: not worth a process
        for i, source in enumerate(by_size):
            if progress:
                progress(f"landing {source.name}", i, len(SOURCES))
            outcomes[source.name] = _land_one(source.name, raw_dir, landing_dir)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # forkserver/spawn, not fork: the parent may hold threads (DuckDB, a Spark gateway)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {
                pool.submit(_land_one, s.name, raw_dir, landing_dir): s.name for s in by_size
            }
            for i, future in enumerate(as_completed(futures)):
                outcomes[futures[future]] = future.result()
                if progress:
                    progress(f"landing {futures[future]}", i + 1, len(SOURCES))
    if progress:
        progress("landing", len(SOURCES), len(SOURCES))
    rejects = Rejects()
    results: dict[str, dict] = {}
    for source in SOURCES:  # contract order, whatever order the workers finished in
        result, rows = outcomes[source.name]
        results[source.name] = result
        rejects.rows.extend(rows)
    _write_atomic(rejects.table(), landing_dir / "rejects.parquet")
    return {"sources": results}


def _land_one(name: str, raw_dir: Path, landing_dir: Path) -> tuple[dict, list[dict]]:
    """Land one source; returns its accounting and its rejected rows (picklable)."""
    rejects = Rejects()
    started = _now()
    result = land_source(SOURCES_BY_NAME[name], raw_dir, landing_dir, rejects)
    result.seconds = round(_now() - started, 3)
    result.check()
    import resource

    # peak memory of the process that landed this source (a worker, or the build itself)
    result.process_peak_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result.__dict__, rejects.rows


def _input_bytes(raw_dir: Path, source: Source) -> int:
    return sum(os.path.getsize(p) for p in glob.glob(str(raw_dir / source.path)))


def land_source(
    source: Source, raw_dir: Path, landing_dir: Path, rejects: Rejects
) -> SourceLanding:
    paths, warnings = _source_files(source, raw_dir)
    files = [os.path.relpath(p, raw_dir) for p in paths]
    result = SourceLanding(source.name, files, warnings=warnings)
    if not paths:
        result.warnings.append(f"no file matches {source.path}: source treated as empty")
    reader = _READERS[source.fmt]
    batches: list[_Batch] = []
    before = len(rejects.rows)
    for path, rel in zip(paths, files, strict=True):
        rows_in, batch = reader(source, Path(path), rel, rejects, result)
        result.rows_in += rows_in
        if batch is not None:
            batches.append(batch)
    for rel in files:
        landed_from_file = sum(_rows(b) for b in batches if b.file == rel)
        rejected_here = sum(1 for r in rejects.rows[before:] if r["file"].split("#")[0] == rel)
        if rejected_here and not landed_from_file:
            result.warnings.append(f"{rel}: all {rejected_here:,} rows rejected (see rejects)")
    table = _dedupe_keys(source, _concat(source, batches), rejects)
    result.rows_landed = table.num_rows
    result.rows_rejected = len(rejects.rows) - before
    _write_atomic(table, landing_dir / f"{source.name}.parquet")
    return result


def _rows(batch: _Batch) -> int:
    return len(next(iter(batch.columns.values()))) if batch.columns else 0


def _source_files(source: Source, raw_dir: Path) -> tuple[list[str], list[str]]:
    """The files of a source. An ODS drop is dated in its name (CUST_INFO_20261128.dat):
    take the newest one present and say so if there are older ones beside it."""
    paths = sorted(glob.glob(str(raw_dir / source.path)))
    if source.fmt != "ods_pipe" or paths:
        return paths, []
    dated = sorted(glob.glob(str(raw_dir / re.sub(r"_[0-9]{8}[.]dat$", "_*.dat", source.path))))
    if not dated:
        return [], []
    warnings = [f"using the newest drop {os.path.basename(dated[-1])}"]
    if len(dated) > 1:
        warnings.append(
            f"older drops ignored: {', '.join(os.path.basename(p) for p in dated[:-1])}"
        )
    return [dated[-1]], warnings


# --- readers: (source, path, relpath, rejects, result) -> (rows_in, batch | None) -------


def _read_delimited(
    source: Source, path: Path, rel: str, rejects: Rejects, result: SourceLanding
) -> tuple[int, _Batch | None]:
    data = path.read_bytes()
    is_ods = source.fmt == "ods_pipe"
    text, bad_lines = _decode(source, data, rel, rejects)
    # whitespace-only lines are no rows: blank them so that the parser skips them too
    lines = [line if line.strip() else "" for line in _split_lines(text)]
    rows_in = sum(1 for line in lines if line) + bad_lines
    header: list[str] | None = None
    if not is_ods:
        # the header line is not a row
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            return rows_in, None
        rows_in -= 1
        raw_header = _split_csv_line(lines[first])
        header = [h.strip() for h in raw_header]
        missing = [c.native for c in source.columns if c.native not in header]
        if missing:
            reason = f"file lacks required column(s) {', '.join(missing)}: whole file rejected"
            for n, line in enumerate(lines[first + 1 :], start=first + 2):
                if line.strip():
                    rejects.add(source.name, rel, n, None, line, "missing_columns", reason)
            return rows_in, None
        extra = [h for h in header if h not in {c.native for c in source.columns}]
        if extra:
            result.warnings.append(f"{rel}: extra column(s) ignored: {', '.join(extra)}")
    else:
        expected = _control_count(source, path, rel, rejects, lines)
        if expected is not None and expected != rows_in:
            reason = (
                f"control file says {expected} rows but {rel} has {rows_in}: "
                "whole file rejected (incomplete or wrong transfer)"
            )
            for n, line in enumerate(lines, start=1):
                if line.strip():
                    rejects.add(
                        source.name, rel, n, _first_field(line), line, "control_count", reason
                    )
            return rows_in, None
        if expected is None:
            for n, line in enumerate(lines, start=1):
                if line.strip():
                    rejects.add(
                        source.name,
                        rel,
                        n,
                        _first_field(line),
                        line,
                        "control_missing",
                        f"control file {Path(rel).with_suffix('.ctl').name} missing or "
                        "unreadable: whole file rejected",
                    )
            return rows_in, None
    names = header if header is not None else source.column_names
    ncols = len(names)
    key_pos = names.index(_native_key(source)) if header is not None else names.index(source.key)
    # the parser numbers records (header included), skipping empty lines: map to file lines
    starts = _record_lines(lines, quoted=not is_ods and '"' in text)
    invalid: set[int] = set()

    def line_of(number: int) -> int | None:
        return starts[number - 1] if starts is not None and 0 < number <= len(starts) else None

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.add(row.number)
        rejects.add(
            source.name,
            rel,
            line_of(row.number),
            _nth_field(row.text, key_pos, "|" if is_ods else ","),
            row.text,
            "field_count",
            f"expected {ncols} fields, found {row.actual_columns}",
        )
        return "skip"

    body = "\n".join(lines).encode("utf-8")
    if not body.strip() or rows_in == 0:
        return rows_in, None
    table = pacsv.read_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(
            use_threads=False,
            column_names=names if is_ods else None,
            autogenerate_column_names=False,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter="|" if is_ods else ",",
            quote_char=False if is_ods else '"',
            newlines_in_values=not is_ods,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            # keyed by the header exactly as written: pyarrow does not strip names
            column_types={n: pa.string() for n in (names if is_ods else raw_header)},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    records = table.num_rows + len(invalid)
    if not is_ods:
        # a quoted value may span lines: count the records the parser saw, not lines
        rows_in = bad_lines + records
    first = 1 if is_ods else 2  # the header is record 1 of a CSV file
    if starts is None or len(starts) != records + first - 1:
        starts = None  # our line scan disagrees with the parser: line numbers unknown
    if starts is not None and not invalid:  # the common case, without a Python loop per row
        row_lines = starts[first - 1 : first - 1 + records]
    else:
        row_lines = [line_of(k) for k in range(first, first + records) if k not in invalid]
    native_to_canonical = {c.native: c.name for c in source.columns}
    columns: dict[str, list[str | None]] = {}
    for name in table.column_names:
        canonical = name if is_ods else native_to_canonical.get(name.strip())
        if canonical:
            columns[canonical] = table.column(name)
    return rows_in, _Batch(rel, columns, row_lines)


def _read_jsonl(
    source: Source, path: Path, rel: str, rejects: Rejects, result: SourceLanding
) -> tuple[int, _Batch | None]:
    text, bad_lines = _decode(source, path.read_bytes(), rel, rejects)
    rows_in = bad_lines
    columns: dict[str, list[str | None]] = {c.name: [] for c in source.columns}
    lines: list[int] = []
    native_key = _native_key(source)
    for n, line in enumerate(_split_lines(text), start=1):
        if not line.strip():
            continue
        rows_in += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            rejects.add(source.name, rel, n, None, line, "bad_json", f"not valid JSON: {e.msg}")
            continue
        if not isinstance(obj, dict):
            rejects.add(source.name, rel, n, None, line, "bad_json", "a line must be a JSON object")
            continue
        missing = [c.native for c in source.columns if c.native not in obj]
        if missing:
            rejects.add(
                source.name,
                rel,
                n,
                _text(obj.get(native_key)),
                line,
                "missing_columns",
                f"object lacks key(s) {', '.join(missing)}",
            )
            continue
        for c in source.columns:
            columns[c.name].append(_text(obj[c.native]))
        lines.append(n)
    return rows_in, _Batch(rel, columns, lines)


def _read_xlsx(
    source: Source, path: Path, rel: str, rejects: Rejects, result: SourceLanding
) -> tuple[int, _Batch | None]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for broken workbooks
        result.warnings.append(f"{rel}: not a readable xlsx workbook ({e}): whole file rejected")
        rejects.add(source.name, rel, None, None, "", "bad_workbook", f"unreadable workbook: {e}")
        return 1, None
    wanted = list(source.sheets) or list(book.sheet_names)
    columns: dict[str, list[str | None]] = {c.name: [] for c in source.columns}
    if source.sheets:
        columns["list_type"] = []
    rows_in = 0
    row_lines: list[int | None] = []
    for sheet in wanted:
        if sheet not in book.sheet_names:
            result.warnings.append(f"{rel}: sheet {sheet} missing")
            continue
        sh = book.get_sheet_by_name(sheet)
        rows = sh.to_python(skip_empty_area=True)
        if not rows:
            continue
        top = (sh.start or (0, 0))[0]  # 0-based index of the first row returned
        header = [_cell(h).strip() for h in rows[0]]
        # (sheet row number, cells) of the non-empty rows under the header
        body = [
            (top + i + 1, r)
            for i, r in enumerate(rows)
            if i > 0 and any(_cell(v).strip() for v in r)
        ]
        rows_in += len(body)
        missing = [c.native for c in source.columns if c.native not in header]
        if missing:
            reason = f"sheet {sheet} lacks column(s) {', '.join(missing)}: whole sheet rejected"
            for n, r in body:
                rejects.add(
                    source.name, f"{rel}#{sheet}", n, None, _raw(r), "missing_columns", reason
                )
            continue
        positions = [header.index(c.native) for c in source.columns]
        for n, r in body:
            values = [_cell(r[p]).strip() if p < len(r) else "" for p in positions]
            for c, v in zip(source.columns, values, strict=True):
                columns[c.name].append(v)
            if source.sheets:
                columns["list_type"].append(sheet)
            row_lines.append(n)
    return rows_in, _Batch(rel, columns, row_lines)


_READERS = {
    "ods_pipe": _read_delimited,
    "csv": _read_delimited,
    "jsonl": _read_jsonl,
    "xlsx": _read_xlsx,
}


# --- helpers ------------------------------------------------------------------------------


def _decode(source: Source, data: bytes, rel: str, rejects: Rejects) -> tuple[str, int]:
    """Decode a whole file, or line by line when some lines are not in the declared encoding.

    Returns the decoded text (bad lines left out) and how many lines were rejected.
    A file declared GBK that is valid UTF-8 with non-ASCII text was sent in the wrong
    encoding: every line is rejected, since decoding it as GBK would silently garble names.
    """
    encoding = source.encoding
    if encoding == "gbk" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            lines = _split_lines(data.decode("utf-8"))
            reason = f"{rel} is UTF-8 but this source must be GBK: whole file rejected"
            count = 0
            for n, line in enumerate(lines, start=1):
                if line.strip():
                    rejects.add(source.name, rel, n, None, line, "wrong_encoding", reason)
                    count += 1
            return "", count
    if encoding in ("utf-8", "utf-8-sig") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        return data.decode(codec), 0
    except UnicodeDecodeError:
        pass
    good: list[str] = []
    bad = 0
    for n, raw in enumerate(data.splitlines(), start=1):
        try:
            good.append(raw.decode(codec))
        except UnicodeDecodeError:
            if raw.strip():
                rejects.add(
                    source.name,
                    rel,
                    n,
                    None,
                    raw.decode(codec, errors="replace"),
                    "bad_encoding",
                    f"line is not valid {encoding}",
                )
                bad += 1
            good.append("")  # keep line numbers aligned
    return "\n".join(good), bad


def _control_count(
    source: Source, path: Path, rel: str, rejects: Rejects, lines: list[str]
) -> int | None:
    ctl = path.with_suffix(".ctl")
    try:
        fields = ctl.read_text(encoding="ascii").strip().split("|")
        return int(fields[1])
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None


def _concat(source: Source, batches: list[_Batch]) -> pa.Table:
    names = source.column_names + (["list_type"] if source.sheets else [])
    tables = []
    for b in batches:
        n_rows = len(next(iter(b.columns.values()))) if b.columns else 0
        cols: dict[str, pa.Array | pa.ChunkedArray] = {}
        for n in names:
            values = b.columns.get(n)
            if values is None:
                cols[n] = pa.nulls(n_rows, pa.string())
            elif isinstance(values, pa.Array | pa.ChunkedArray):
                cols[n] = values
            else:
                cols[n] = pa.array(values, type=pa.string())
        cols["_file"] = pa.array([b.file] * n_rows, type=pa.string())
        lines = b.lines if len(b.lines) == n_rows else [None] * n_rows
        cols["_line"] = pa.array(lines, type=pa.int64())
        tables.append(pa.table(cols))
    if not tables:
        schema = pa.schema([(n, pa.string()) for n in [*names, "_file"]] + [("_line", pa.int64())])
        return schema.empty_table()
    return pa.concat_tables(tables)


def _dedupe_keys(source: Source, table: pa.Table, rejects: Rejects) -> pa.Table:
    """Reject rows without a record key, and every repeat of a key after its first row.

    Returns the kept rows without the helper column `_line`. Vectorised: only the
    rejected rows are visited in Python."""
    keys = pc.utf8_trim_whitespace(table.column(source.key).fill_null(""))
    table = table.set_column(table.column_names.index(source.key), source.key, keys)
    n = table.num_rows
    index = pa.array(np.arange(n, dtype=np.int64))
    firsts = (
        pa.table({"k": keys, "i": index}).group_by("k", use_threads=False).aggregate([("i", "min")])
    )
    keep = np.zeros(n, dtype=bool)
    keep[firsts.column("i_min").to_numpy()] = True
    keep[pc.equal(keys, "").to_numpy(zero_copy_only=False)] = False
    dropped = np.flatnonzero(~keep)
    if len(dropped):
        first_of = dict(
            zip(firsts.column("k").to_pylist(), firsts.column("i_min").to_pylist(), strict=True)
        )
        files, lines = table.column("_file"), table.column("_line")
        for i in dropped.tolist():
            key = keys[i].as_py()
            text = _row_text(table, i)
            if not key:
                code, reason, key = "missing_key", f"record key {source.key} is empty", None
            elif text == _row_text(table, first_of[key]):
                code, reason = "duplicate_row", "exact duplicate of an earlier row"
            else:
                code = "duplicate_key"
                reason = f"record key {key} already used by an earlier row with other values"
            rejects.add(source.name, files[i].as_py(), lines[i].as_py(), key, text, code, reason)
    return table.filter(pa.array(keep)).drop_columns(["_line"])


def _row_text(table: pa.Table, i: int) -> str:
    return "|".join(
        "" if (v := table.column(n)[i].as_py()) is None else v
        for n in table.column_names
        if n not in ("_file", "_line")
    )


def _split_lines(text: str) -> list[str]:
    """Lines as the CSV parser sees them: ends at \\r\\n, \\r or \\n only.

    Not `str.splitlines`, which also breaks at \\f, \\v, \\x1c-\\x1e, \\x85 and U+2028,
    characters that may well sit inside a value (and are legal inside JSON strings)."""
    lines = text.split("\n") if "\r" not in text else _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _record_lines(lines: list[str], *, quoted: bool) -> list[int] | None:
    """The line number at which each record starts; empty lines hold no record.

    Without quoting a record is a line. With quoting (CSV) a quoted value may span lines;
    None if the lines cannot be read as CSV."""
    if not quoted:
        return [n for n, line in enumerate(lines, start=1) if line]
    import csv

    starts: list[int] = []
    reader = csv.reader(lines)
    before = 0
    try:
        for record in reader:
            if record:
                starts.append(before + 1)
            before = reader.line_num
    except csv.Error:
        return None
    return starts


def _native_key(source: Source) -> str:
    return next(c.native or c.name for c in source.columns if c.name == source.key)


def _split_csv_line(line: str) -> list[str]:
    import csv

    return next(csv.reader([line]))


def _first_field(line: str) -> str:
    return line.split("|", 1)[0].strip()


def _nth_field(text: str, n: int, delimiter: str) -> str | None:
    parts = text.split(delimiter)
    return parts[n].strip() if n < len(parts) and parts[n].strip() else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(value) or ""


def _raw(row: Iterable[object]) -> str:
    return "\t".join(_cell(v) for v in row)


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    # row groups of ~128k rows let the engines read a source in parallel
    pq.write_table(table, tmp, compression="snappy", row_group_size=131_072)
    os.replace(tmp, path)


def _now() -> float:
    import time

    return time.perf_counter()


REF_SCHEMAS = {
    "ref_village": pa.schema(
        [("village_code", pa.string()), ("village_name", pa.string()),
         ("township_code", pa.string()), ("township_name", pa.string()),
         ("geometry", pa.string())]
    ),
    "ref_group": pa.schema(
        [("group_code", pa.string()), ("group_name", pa.string()), ("village_code", pa.string()),
         ("geometry", pa.string())]
    ),
}  # fmt: skip


def land_geo_refs(raw_dir: Path, landing_dir: Path) -> list[str]:
    """Village and group reference tables from RAW/geo/*.geojson: names for codes, and the
    GeoJSON geometry as text (published to the app for maps).

    Returns warnings (a missing geo file leaves an empty reference table)."""
    warnings = []
    for table, filename in (("ref_village", "village.geojson"), ("ref_group", "group.geojson")):
        schema = REF_SCHEMAS[table]
        path = raw_dir / "geo" / filename
        rows: list[dict] = []
        if path.exists():
            features = json.loads(path.read_text(encoding="utf-8")).get("features", [])
            rows = [
                {k: _text(ft["properties"].get(k)) for k in schema.names if k != "geometry"}
                | {"geometry": json.dumps(ft.get("geometry"), separators=(",", ":"))}
                for ft in features
            ]
        else:
            warnings.append(
                f"geo/{filename} missing: village names in third-party data stay unresolved"
            )
        _write_atomic(pa.Table.from_pylist(rows, schema=schema), landing_dir / f"{table}.parquet")
    return warnings
