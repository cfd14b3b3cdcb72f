"""Write small raw folders by hand, in each source's native format, for focused tests.

`RawKit(tmp_path).write("customer", rows)` writes the source's file with rows given as
dicts of canonical column -> value; missing columns are written empty. Every source not
written gets an empty (but well-formed) file, so a build sees a complete folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from cunxin.datapool.sources import SOURCES, SOURCES_BY_NAME, Source
from cunxin.lib import idnumber


def make_id(region: str, birth: str, seq: int, *, male: bool = True) -> str:
    """A valid 18-character ID: region 6 digits, birth YYYYMMDD, seq 0..99."""
    third = (seq * 2 + (1 if male else 0)) % 1000
    first17 = f"{region}{birth}{third:03d}"
    return first17 + idnumber.check_char(first17)


class RawKit:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.written: set[str] = set()

    def write(self, name: str, rows: list[dict], **overrides) -> Path:
        source = SOURCES_BY_NAME[name]
        self.written.add(name)
        return _WRITERS[source.fmt](self, source, rows, **overrides)

    def finish(self) -> Path:
        for source in SOURCES:
            if source.name not in self.written:
                self.write(source.name, [])
        geo = self.root / "geo"
        geo.mkdir(parents=True, exist_ok=True)
        villages = [
            ("320723100201", "东湖村", "100", "伊山镇"),
            ("320723100202", "王庄村", "100", "伊山镇"),
            ("320723101201", "东湖村", "101", "杨集镇"),
            ("320723101202", "前进村", "101", "杨集镇"),
        ]
        (geo / "village.geojson").write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {
                                "village_code": c,
                                "village_name": n,
                                "township_code": tc,
                                "township_name": tn,
                            },
                            "geometry": None,
                        }
                        for c, n, tc, tn in villages
                    ],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        return self.root

    def path(self, name: str) -> Path:
        return self.root / SOURCES_BY_NAME[name].path.replace("*", "100")


def _line(source: Source, row: dict, sep: str) -> str:
    return sep.join(str(row.get(c, "") or "") for c in source.column_names)


def _ods(kit: RawKit, source: Source, rows: list[dict], *, ctl_count: int | None = None,
         encoding: str = "gbk", raw_lines: list[str] = (), no_ctl: bool = False,
         raw_bytes: list[bytes] = ()) -> Path:  # fmt: skip
    """`raw_lines` are written after the rows, then `raw_bytes` as they are (one a line)."""
    path = kit.path(source.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_line(source, r, "|") for r in rows] + list(raw_lines)
    data = b"".join((line + "\n").encode(encoding) for line in lines)
    data += b"".join(b + b"\n" for b in raw_bytes)
    path.write_bytes(data)
    if not no_ctl:
        count = len(lines) + len(raw_bytes) if ctl_count is None else ctl_count
        path.with_suffix(".ctl").write_text(f"{path.name}|{count}|20261128\n", encoding="ascii")
    return path


def _csv(kit: RawKit, source: Source, rows: list[dict], *, encoding: str | None = None,
         drop_columns: tuple[str, ...] = (), raw_lines: list[str] = (),
         extra_columns: dict[str, str] | None = None) -> Path:  # fmt: skip
    """`extra_columns`: native header -> value, appended to the header and every row."""
    import csv
    import io

    path = kit.path(source.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [c for c in source.columns if c.name not in drop_columns]
    extra = extra_columns or {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.native for c in cols] + list(extra))
    for r in rows:
        w.writerow([r.get(c.name, "") or "" for c in cols] + list(extra.values()))
    text = buf.getvalue() + "".join(line + "\n" for line in raw_lines)
    path.write_bytes(text.encode(encoding or source.encoding))
    return path


def _jsonl(kit: RawKit, source: Source, rows: list[dict], *, raw_lines: list[str] = ()) -> Path:
    path = kit.path(source.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({c.native: r.get(c.name) for c in source.columns}, ensure_ascii=False)
        for r in rows
    ] + list(raw_lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _xlsx(kit: RawKit, source: Source, rows: list[dict], *,
          drop_columns: dict[str, tuple[str, ...]] | None = None) -> Path:  # fmt: skip
    """Rows go to the sheet named by their `list_type` (default: the first sheet); cell
    values are written as given (a `datetime.date` becomes a date cell, a float a number).
    `drop_columns`: sheet -> canonical columns that sheet lacks."""
    from openpyxl import Workbook

    path = kit.path(source.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    sheets = source.sheets or ("Sheet1",)
    for sheet in sheets:
        ws = book.create_sheet(sheet)
        dropped = (drop_columns or {}).get(sheet, ())
        cols = [c for c in source.columns if c.name not in dropped]
        ws.append([c.native for c in cols])
        for r in rows:
            if r.get("list_type", sheets[0]) == sheet:
                ws.append([r.get(c.name, "") for c in cols])
    book.save(path)
    return path


_WRITERS = {"ods_pipe": _ods, "csv": _csv, "jsonl": _jsonl, "xlsx": _xlsx}
