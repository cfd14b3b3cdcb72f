"""The data-quality report: per source, what came in, what was rejected and why, how much
was linked to a person and how, and how complete each field is."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cunxin.datapool.engine.base import Engine
from cunxin.datapool.sources import SOURCES


def quality(e: Engine, landed: dict, warnings: list[str]) -> dict:
    """Gather the report with a handful of queries (each is a job on Spark)."""
    names = [s.name for s in SOURCES]
    counts = {
        (src, kind): n
        for src, kind, n in e.fetch(
            " UNION ALL ".join(
                f"SELECT '{n}', 'all', count(*) FROM std_all_{n} UNION ALL "
                f"SELECT '{n}', 'accepted', count(*) FROM std_{n}"
                for n in names
            )
        )
    }
    reasons = _grouped(
        e, "SELECT source, stage || ':' || reason_code, count(*) FROM rejects GROUP BY 1, 2"
    )
    kinds = _grouped(e, "SELECT source, match_kind, count(*) FROM linked GROUP BY 1, 2")
    id_problems = _grouped(
        e, "SELECT source, id_reason, count(*) FROM linked WHERE id_reason <> '' GROUP BY 1, 2"
    )
    columns = {
        n: [c for c in e.columns(f"std_{n}") if not c.startswith("_") and c != "source"]
        for n in names
    }
    filled: dict[tuple[str, str], int] = {}
    for n in names:  # one scan per source
        row = e.fetch(f"SELECT {', '.join(f'count({c})' for c in columns[n])} FROM std_{n}")[0]
        filled.update({(n, c): v for c, v in zip(columns[n], row, strict=True)})
    sources = {}
    for source in SOURCES:
        name = source.name
        land = landed["sources"][name]
        accepted = counts[(name, "accepted")]
        std_rejected = counts[(name, "all")] - accepted
        if land["rows_landed"] != accepted + std_rejected:
            raise AssertionError(f"{name}: landed rows do not add up after standardize")
        k = kinds.get(name, {})
        linked = sum(
            n
            for kind, n in k.items()
            if kind in ("id", "cust_no", "probabilistic", "grid_without_id")
        )
        sources[name] = {
            "category": source.category,
            "channel": source.channel,
            "files": land["files"],
            "rows_in": land["rows_in"],
            "rows_landed": land["rows_landed"],
            "rows_rejected_landing": land["rows_rejected"],
            "rows_rejected_standardize": std_rejected,
            "rows_accepted": accepted,
            "rejects_by_reason": dict(sorted(reasons.get(name, {}).items())),
            "match_kinds": dict(sorted(k.items())),
            "match_rate": round(linked / accepted, 4) if accepted else None,
            "id_problems": dict(sorted(id_problems.get(name, {}).items())),
            "completeness": {
                c: round(filled[(name, c)] / accepted, 4) if accepted else None
                for c in columns[name]
            },
            "warnings": land["warnings"],
        }
    summary = dict(
        zip(
            ("persons", "with_household", "with_phone", "households", "tags", "edges", "flags"),
            e.fetch(
                "SELECT (SELECT count(*) FROM person), "
                "(SELECT count(*) FROM person WHERE household_uid IS NOT NULL), "
                "(SELECT count(*) FROM person WHERE phone IS NOT NULL), "
                "(SELECT count(*) FROM household), (SELECT count(*) FROM person_tag), "
                "(SELECT count(*) FROM relationship_edge), (SELECT count(*) FROM risk_flag)"
            )[0],
            strict=True,
        )
    )
    return {"sources": sources, "summary": summary, "warnings": warnings}


def _grouped(e: Engine, sql: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for source, key, n in e.fetch(sql):
        out.setdefault(source, {})[key] = n
    return out


def write(q: dict, pool_dir: Path) -> None:
    _atomic(pool_dir / "quality_report.json", json.dumps(q, ensure_ascii=False, indent=2))
    _atomic(pool_dir / "quality_report.md", markdown(q))


def markdown(q: dict) -> str:
    s = q["summary"]
    lines = [
        "# Data-quality report",
        "",
        f"Run `{q.get('run_id', '')}`: {s['persons']:,} persons "
        f"({s['with_household']:,} in {s['households']:,} households, {s['with_phone']:,} "
        f"with a phone), {s['tags']:,} tags, {s['edges']:,} relationship edges, "
        f"{s['flags']:,} black/grey/court flags.",
        "",
        "| source | 类别 | rows in | rejected | accepted | linked | by ID | by cust no | probabilistic | ambiguous | unmatched |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in q["sources"].items():
        k = r["match_kinds"]
        rate = "" if r["match_rate"] is None else f"{r['match_rate']:.1%}"
        rejected = r["rows_rejected_landing"] + r["rows_rejected_standardize"]
        lines.append(
            f"| {name} | {r['category']} | {r['rows_in']:,} | {rejected:,} | {r['rows_accepted']:,} "
            f"| {rate} | {k.get('id', 0):,} | {k.get('cust_no', 0):,} | {k.get('probabilistic', 0):,} "
            f"| {k.get('ambiguous', 0):,} | {k.get('unmatched', 0):,} |"
        )
    lines += ["", "## Rejects by reason", ""]
    for name, r in q["sources"].items():
        if r["rejects_by_reason"]:
            reasons = ", ".join(f"{k} {n:,}" for k, n in r["rejects_by_reason"].items())
            lines.append(f"- **{name}**: {reasons}")
    lines += ["", "## Unusable ID numbers (records still kept, linked probabilistically)", ""]
    for name, r in q["sources"].items():
        if r["id_problems"]:
            lines.append(
                f"- **{name}**: " + ", ".join(f"{k} {n:,}" for k, n in r["id_problems"].items())
            )
    lines += ["", "## Field completeness (share of accepted rows with a value)", ""]
    for name, r in q["sources"].items():
        low = {c: v for c, v in r["completeness"].items() if v is not None and v < 0.999}
        shown = ", ".join(f"{c} {v:.1%}" for c, v in low.items()) or "all fields complete"
        lines.append(f"- **{name}**: {shown}")
    warnings = q["warnings"] + [w for r in q["sources"].values() for w in r["warnings"]]
    if warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings]
    return "\n".join(lines) + "\n"


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
