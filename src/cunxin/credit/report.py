"""The model report: one self-contained HTML page (no scripts, no external files) made
from the model JSON alone, so it can be rendered again from any stored model.

Headings are in Chinese with the English term beside them: the report goes to a bank's
risk committee and to model validators alike.
"""

from __future__ import annotations

from html import escape
from typing import Any

CSS = """
body { font: 14px/1.5 "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #1f2933; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 2px solid #d9e2ec; }
h3 { font-size: 1.05em; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #d9e2ec; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f0f4f8; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted { color: #627d98; }
.bar { display: inline-block; height: .8em; background: #d64545; vertical-align: middle; }
.ok { color: #207227; } .warn { color: #b44d12; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1.2em; }
dt { color: #627d98; } dd { margin: 0; }
"""


def render_report(model: dict) -> str:
    m, t = model["metrics"], model["training"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>评分卡模型报告 {_e(model['model_id'])}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>评分卡模型报告 <span class='muted'>Scorecard model report</span></h1>",
        f"<p class='muted'>{_e(model['model_id'])} · {_e(model['created_at'])}</p>",
        _summary(model),
        _data(model),
        "<h2>分数等级 <span class='muted'>Grades</span></h2>",
        _grades(model),
        "<h2>校准 <span class='muted'>Calibration by score band (holdout)</span></h2>",
        _calibration(m["calibration"]),
        "<h2>评分卡 <span class='muted'>Scorecard: points per bin</span></h2>",
        _scorecard(model),
        "<h2>特征筛选 <span class='muted'>Candidate features</span></h2>",
        _candidates(model),
        "<h2>排除的特征 <span class='muted'>Features left out, and why</span></h2>",
        _table(
            ["特征 feature", "原因 reason"],
            [[_e(k), _e(v)] for k, v in model["excluded"].items()],
        ),
        "<h2>版本 <span class='muted'>Libraries</span></h2>",
        _table(
            ["package", "version"],
            [[_e(k), _e(v)] for k, v in t["libraries"].items()],
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(model: dict) -> str:
    m = model["metrics"]
    h, tr = m["holdout"], m["train"]
    single = m["baselines"]["single_variable"]
    label = _variable_label(model, single["variable"])
    rows = [
        [
            "AUC",
            _f(h["auc"])
            + f" <span class='muted'>(95% {_f(h['auc_ci95'][0])}–{_f(h['auc_ci95'][1])})</span>",
            _f(tr["auc"]),
        ],
        ["KS", _f(h["ks"]), _f(tr["ks"])],
        ["Gini", _f(h["gini"]), _f(tr["gini"])],
        ["样本 persons (bad)", f"{h['n']:,} ({h['bads']:,})", f"{tr['n']:,} ({tr['bads']:,})"],
        ["不良率 bad rate", _pct(h["bad_rate"]), _pct(tr["bad_rate"])],
    ]
    psi_rows = [
        [
            "训练 vs 留出 train vs holdout",
            _f(m["psi_train_holdout"]),
            _psi_word(m["psi_train_holdout"]),
        ],
        [
            "训练 vs 全体成年人 train vs all adults scored",
            _f(m["psi_train_population"]),
            _psi_word(m["psi_train_population"]),
        ],
    ]
    baseline_rows = [
        ["截距模型 intercept only", _e(m["baselines"]["intercept_only"]["description"]), _f(0.5)],
        [
            "单变量 single variable",
            f"{_e(label)} <span class='muted'>({_e(single['variable'])})</span>: "
            + _e(single["description"]),
            _f(single["auc"]),
        ],
        ["评分卡 scorecard", f"{len(model['variables'])} features", _f(h["auc"])],
    ]
    return "\n".join(
        [
            "<h2>模型表现 <span class='muted'>Performance</span></h2>",
            _table(["指标 metric", "留出集 holdout", "训练集 train"], rows),
            "<h3>对比基准 <span class='muted'>Baselines (holdout AUC)</span></h3>",
            _table(["基准 baseline", "what", "AUC"], baseline_rows),
            f"<p>评分卡比单变量基准高 <b>{_f(m['auc_gain_over_single_variable'])}</b> AUC "
            "<span class='muted'>(scorecard minus single variable, same holdout)</span></p>",
            "<h3>稳定性 <span class='muted'>Population stability index of the score</span></h3>",
            _table(["比较 comparison", "PSI", ""], psi_rows),
            "<p class='muted'>PSI &lt; 0.1 stable, 0.1–0.25 some shift, &gt; 0.25 a different "
            "population. The scorecard is trained on borrowers and applied to every adult: "
            "the second line says how different those are.</p>",
        ]
    )


def _data(model: dict) -> str:
    t, s = model["training"], model["scaling"]
    d = t["data"]
    items = [
        ("标签 label", f"{model['label']['column']}: {model['label']['meaning']}"),
        (
            "人数 persons",
            f"{t['persons']:,} adults, {t['labelled']:,} with a loan history, {t['bads']:,} bad",
        ),
        (
            "划分 split",
            f"stratified, {t['holdout_share']:.0%} holdout, seed {t['seed']}: train {t['train']['n']:,} ({t['train']['bads']:,} bad), holdout {t['holdout']['n']:,} ({t['holdout']['bads']:,} bad)",
        ),
        ("分箱 binning", ", ".join(f"{k} {v}" for k, v in t["binning"].items())),
        ("模型 estimator", t["estimator"]),
        (
            "刻度 scaling",
            f"{s['base_score']} points at odds {s['odds']}:1 ({s['odds_meaning']}), {s['pdo']} points double the odds; base points {model['base_points']}",
        ),
        (
            "数据池 pool run",
            f"{d.get('pool_run_id', '-')} ({d.get('pool_engine', '-')}), {d.get('pool_dir', '')}",
        ),
        (
            "数据校验 checksums",
            "; ".join(f"{k} sha256 {v[:16]}…" for k, v in d.get("files_sha256", {}).items()) or "-",
        ),
        ("训练耗时 training time", f"{t.get('seconds', 0):.1f} s"),
    ]
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return f"<h2>数据与设置 <span class='muted'>Data and settings</span></h2><dl>{body}</dl>"


def _grades(model: dict) -> str:
    rows = []
    worst = max((g["holdout"]["bad_rate"] or 0 for g in model["grades"]), default=0) or 1
    for g in model["grades"]:
        lo, hi = g["min_score"], g["max_score"]
        span = f"≥ {lo}" if hi is None else (f"≤ {hi}" if lo is None else f"{lo}–{hi}")
        rate = g["holdout"]["bad_rate"]
        bar = (
            ""
            if rate is None
            else f" <span class='bar' style='width:{80 * rate / worst:.0f}px'></span>"
        )
        rows.append(
            [
                f"{_e(g['label'])} <span class='muted'>{_e(g['grade'])}</span>",
                span,
                _pct(g["target_share"]),
                f"{g['holdout']['count']:,}",
                f"{g['holdout']['bads']:,}",
                (_pct(rate) if rate is not None else "-") + bar,
                f"{g['population']['count']:,}",
                _pct(g["population"]["share"]),
                "-" if g["pd_at_min_score"] is None else _pct(g["pd_at_min_score"]),
            ]
        )
    return _table(
        [
            "等级 grade",
            "分数 score",
            "目标占比 target share",
            "留出人数 holdout",
            "不良 bads",
            "不良率 bad rate",
            "全体人数 all adults",
            "占比 share",
            "下限对应违约率 PD at cut-off",
        ],
        rows,
        numeric={1, 2, 3, 4, 6, 7, 8},
    ) + (
        "<p class='muted'>Default cut-offs split the holdout's scores by the target shares "
        "(best first); the credit policy may move them. Caps per grade belong to the policy.</p>"
    )


def _calibration(bands: list[dict]) -> str:
    rows = [
        [
            f"{b['min_score']}–{b['max_score']}",
            f"{b['count']:,}",
            f"{b['bads']:,}",
            _pct(b["observed_bad_rate"]),
            _pct(b["predicted_bad_rate"]),
        ]
        for b in bands
    ]
    return _table(
        [
            "分数段 score band",
            "人数 persons",
            "不良 bads",
            "实际不良率 observed",
            "预测不良率 predicted",
        ],
        rows,
        numeric={1, 2, 3, 4},
    )


def _scorecard(model: dict) -> str:
    rows = [["基础分 base points", "", "", "", "", f"<b>{model['base_points']}</b>"]]
    for v in model["variables"]:
        first = True
        for b in [*v["bins"], {**v["missing"], "missing": True}]:
            rows.append(
                [
                    (
                        f"<b>{_e(v['label'])}</b><br><span class='muted'>{_e(v['name'])}"
                        f"<br>IV {_f(v['iv'])}"
                        + (f", {_e(v['monotonic_trend'])}" if v["monotonic_trend"] else "")
                        + "</span>"
                    )
                    if first
                    else "",
                    _e(bin_text(v, b)),
                    f"{b['count']:,}",
                    _pct(b["bad_rate"]),
                    _f(b["woe"]),
                    str(b["points"]),
                ]
            )
            first = False
    return _table(
        ["特征 feature", "分箱 bin", "人数 count (train)", "不良率 bad rate", "WoE", "分值 points"],
        rows,
        numeric={2, 3, 4, 5},
    )


def _candidates(model: dict) -> str:
    rows = [
        [
            f"{_e(c['label'])} <span class='muted'>{_e(c['name'])}</span>",
            _e(c["kind"]),
            _e(c["monotonic_trend"] or "-"),
            _f(c["iv"]),
            "<span class='ok'>✓</span>" if c["selected"] else "<span class='warn'>✗</span>",
            "" if c["selected"] else _e(c["reason"]),
        ]
        for c in sorted(model["candidates"], key=lambda c: -c["iv"])
    ]
    return _table(
        ["特征 feature", "类型 kind", "单调 trend", "IV", "入模 in", "原因 reason"],
        rows,
        numeric={3},
    )


def bin_text(variable: dict, b: dict) -> str:
    """A bin as a bank's staff would read it (amounts in 元)."""
    if b.get("missing"):
        return "缺失或未见过 missing / unseen"
    if variable["kind"] == "categorical":
        return "、".join(b["categories"])
    if variable["kind"] == "boolean":
        return "否" if b["upper"] == 1 else "是"
    money = variable["name"].endswith("_fen")

    def v(x: int) -> str:
        return f"{x / 100:,.0f} 元" if money else f"{x:,}"

    lo, hi = b["lower"], b["upper"]
    if lo is None and hi is None:
        return "全部 all"
    if lo is None:
        return f"< {v(hi)}"
    if hi is None:
        return f"≥ {v(lo)}"
    return f"{v(lo)} ≤ x < {v(hi)}"


def _variable_label(model: dict, name: str) -> str:
    return next((c["label"] for c in model["candidates"] if c["name"] == name), name)


def _table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{c}</td>" if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _psi_word(value: float) -> str:
    if value < 0.1:
        return "<span class='ok'>稳定 stable</span>"
    if value < 0.25:
        return "<span class='warn'>轻微偏移 some shift</span>"
    return "<span class='warn'>显著偏移 different population</span>"


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
