"""The data-quality report: per source, what came in, what was rejected and why, how much
was linked to a person and how, and how complete each field is."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cunxin.datapool.engine.base import Engine
from cunxin.datapool.sources import SOURCES


def quality(e: Engine, landed: dict, warnings: list[str]) -> dict:
    sources = {}
    for source in SOURCES:
        name = source.name
        land = landed["sources"][name]
        std_rejected = e.count(f"std_all_{name}") - e.count(f"std_{name}")
        standardized = e.count(f"std_{name}")
        if land["rows_landed"] != standardized + std_rejected:
            raise AssertionError(f"{name}: landed rows do not add up after standardize")
        reasons = {
            f"{stage}:{code}": n
            for stage, code, n in e.fetch(
                f"SELECT stage, reason_code, count(*) FROM rejects WHERE source = '{name}' "
                "GROUP BY stage, reason_code ORDER BY stage, reason_code"
            )
        }
        kinds = dict(
            e.fetch(
                f"SELECT match_kind, count(*) FROM linked WHERE source = '{name}' "
                "GROUP BY match_kind ORDER BY match_kind"
            )
        )
        id_problems = dict(
            e.fetch(
                f"SELECT id_reason, count(*) FROM linked WHERE source = '{name}' AND id_reason <> '' "
                "GROUP BY id_reason ORDER BY id_reason"
            )
        )
        cols = [c for c in e.columns(f"std_{name}") if not c.startswith("_") and c != "source"]
        counts = e.fetch(
            f"SELECT count(*), {', '.join(f'count({c})' for c in cols)} FROM std_{name}"
        )[0]
        total = counts[0] or 1
        linked = sum(n for k, n in kinds.items() if k in ("id", "cust_no", "probabilistic"))
        sources[name] = {
            "category": source.category,
            "channel": source.channel,
            "files": land["files"],
            "rows_in": land["rows_in"],
            "rows_landed": land["rows_landed"],
            "rows_rejected_landing": land["rows_rejected"],
            "rows_rejected_standardize": std_rejected,
            "rows_accepted": standardized,
            "rejects_by_reason": reasons,
            "match_kinds": kinds,
            "match_rate": round(linked / standardized, 4) if standardized else None,
            "id_problems": id_problems,
            "completeness": {c: round(n / total, 4) for c, n in zip(cols, counts[1:], strict=True)},
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
        low = {c: v for c, v in r["completeness"].items() if v < 0.999}
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
