"""The scorecard behind the model amount (模型额度): training, holdout evaluation, grades and
the model as data.

The scorecard learns from the persons with a loan history, whose outcome is known
(`label_bad`: any loan written off or more than 90 days overdue). With optbinning each
candidate feature is cut into bins — with a fixed direction of risk where the business
knows it (more savings, less risk), merging bins that hold under 5% of the persons or
whose bad rates do not differ significantly (p < 0.05) — features with an information
value under 0.02 are left out, and a logistic regression on the bins' weights of
evidence (WoE) gives each bin its points. Scaling: 600 points at odds of 50 good to 1
bad, 20 more points double the odds; points are whole numbers, so a score is an exact
integer: base points + the points of the person's bin in each feature.

The model is kept as data (`model` below, JSON): per feature its bins (integer edges or
category sets, and a bin for missing values) with their points, plus grades, metrics and
where the training data came from (its format and checks: `modelfile.py`).
`scoring.py` scores from that JSON alone, in Python and as SQL on DuckDB or Spark;
nothing is pickled.

Which features go in (and which stay out, `EXCLUDED`) is a decision about target
leakage: the pool's features are today's values, measured after the loans they are
trained against, so a feature is admitted only when a bad loan cannot have produced it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cunxin.credit.modelfile import (
    FORMAT,
    VERSION,
    ModelInputError,
    dumps,
)
from cunxin.credit.scoring import read_model_input, require_pool, score_python

LABEL = "label_bad"
LABEL_MEANING = "any loan written off or more than 90 days overdue"

# Scaling (pdo_odds): score = 600 + 20 / ln 2 * ln(odds / 50), odds = good:bad.
SCALING = {"method": "pdo_odds", "pdo": 20, "odds": 50, "base_score": 600}
# Per feature; small pools merge more (p-value), so noise does not become bins.
BINNING = {"max_n_bins": 6, "min_bin_size": 0.05, "max_pvalue": 0.05}
MIN_IV = 0.02  # below this a feature is "not predictive" (Siddiqi's rule of thumb)
MIN_BADS = 100  # fewer bad (or good) persons than this and a scorecard is noise
HOLDOUT_SHARE = 0.3


@dataclass(frozen=True)
class Feature:
    """A candidate input. `trend` is optbinning's `monotonic_trend` of the bad rate as the
    value grows ("descending": more of it, less risk); None lets the data decide freely."""

    name: str
    kind: str  # "numeric" (whole numbers: fen, counts, years), "boolean" or "categorical"
    label: str  # 中文 name for the report and for explanations
    trend: str | None = None
    optional: bool = False  # used when the input has the column, skipped otherwise


FEATURES: tuple[Feature, ...] = (
    # young borrowers and old ones repay worse than the middle years
    Feature("age", "numeric", "年龄", "valley"),
    Feature("household_size", "numeric", "家庭人口", "auto_asc_desc"),
    Feature("has_spouse", "boolean", "有配偶"),
    Feature("children", "numeric", "子女数", "auto_asc_desc"),
    Feature("education", "categorical", "文化程度"),
    Feature("occupation", "categorical", "职业"),
    Feature("industry", "categorical", "从事产业"),
    Feature("registration", "categorical", "户籍类型"),
    # savings, property, income: the more, the less risk
    Feature("deposit_balance_fen", "numeric", "存款余额", "descending"),
    Feature("deposit_avg_12m_fen", "numeric", "存款年日均", "descending"),
    Feature("property_count", "numeric", "房产数", "descending"),
    Feature("property_value_fen", "numeric", "房产评估值", "descending"),
    Feature("household_assets_fen", "numeric", "家庭资产", "descending"),
    Feature("payroll_12m_fen", "numeric", "近12月代发工资", "descending"),
    Feature("household_income_fen", "numeric", "家庭年收入", "descending"),
    Feature("ebank_txn_count_12m", "numeric", "近12月电子银行交易笔数", "auto_asc_desc"),
    Feature("enterprises", "numeric", "名下企业数", "auto_asc_desc"),
    Feature("has_social_security", "boolean", "有社保"),
    # the 2017 sunshine credit grant, sized to the household's income at the time
    Feature("sunshine2017_granted_fen", "numeric", "2017年阳光信贷授信额", "descending"),
    # the 2017 rating predates every loan in the label window (they start in 2020)
    Feature("sunshine2017_rating", "categorical", "2017年阳光信贷评级", optional=True),
)

EXCLUDED: dict[str, str] = {
    "person_uid": "an identifier",
    "household_uid": "an identifier",
    "village_code": "where someone lives is no credit reason on its own (it would mark "
    "whole villages); the village's view comes in through the evaluation amount",
    "gender": "a person's sex must not change their credit line",
    "blacklisted": "partly a consequence of bad loans (defaulters are put on the lists): "
    "it leaks the label; a hard stop in the credit policy instead",
    "greylisted": "partly a consequence of bad loans (defaulters are put on the lists): "
    "it leaks the label; a grey-listed person is visited instead",
    "court_defaulter": "a consequence of unpaid debts, possibly the bank's own: it leaks "
    "the label; a hard stop in the credit policy instead",
    "farmer_credit_rating": "re-rated 2024-2026, after most loans of the label window "
    "began; a bank marks down households with bad loans (不良信用记录), so for past "
    "borrowers the rating is partly their outcome. Admit it once the pool keeps the "
    "rating as of each loan's start",
    "household_liabilities_fen": "includes the outstanding balance of the bank's own "
    "loans, so an unpaid bad loan raises it: a direct leak. Liabilities enter the model "
    "amount through the household's capacity instead",
    "has_loan_history": "the same for everyone the scorecard is trained on",
    "label_bad": "the label",
}

GRADES: tuple[tuple[str, str, float], ...] = (
    # key, label, share of the holdout (best scores first) that sets the default cut-off
    ("top", "特优", 0.10),
    ("excellent", "优秀", 0.25),
    ("good", "较好", 0.35),
    ("fair", "一般", 0.20),
    ("decline", "不授信", 0.10),
)


def pd_of_score(score: np.ndarray | float) -> np.ndarray | float:
    """The probability of a bad loan that a score stands for, under `SCALING`."""
    odds = SCALING["odds"] * np.power(
        2.0, (np.asarray(score, float) - SCALING["base_score"]) / SCALING["pdo"]
    )
    return 1.0 / (1.0 + odds)


@dataclass
class TrainedScorecard:
    """`model` is the artefact (JSON-ready dict) and all that is kept; `estimator` (the
    fitted optbinning `Scorecard`) and `holdout` live only in memory, for tests."""

    model: dict
    estimator: Any = field(repr=False)
    holdout: Any = field(repr=False)  # pandas: person_uid, label_bad, score

    def write(self, out_dir: Path) -> dict[str, Path]:
        """Write `scorecard.json` and `report.html` into `out_dir`."""
        from cunxin.credit.report import render_report

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"model": out_dir / "scorecard.json", "report": out_dir / "report.html"}
        _write_text(paths["model"], dumps(self.model))
        _write_text(paths["report"], render_report(self.model))
        return paths


# --- training ---------------------------------------------------------------------------


def train(
    features: Any,
    seed: int = 42,
    *,
    holdout_share: float = HOLDOUT_SHARE,
    min_bads: int = MIN_BADS,
    feature_names: list[str] | None = None,
    training_data: dict | None = None,
) -> TrainedScorecard:
    """Train and evaluate a scorecard on `features` (a pyarrow Table or pandas DataFrame
    with the pool's `features` columns; see `scoring.read_model_input`).

    Only persons with a loan history count; a stratified `holdout_share` of them (drawn
    with `seed` after sorting by person_uid, so the file's row order does not matter) is
    kept out of training and gives the metrics. `feature_names` narrows or widens the
    candidates (any name in `FEATURES`, or an excluded one on purpose).
    """
    import pandas as pd
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    started = time.perf_counter()
    table = _as_arrow(features)
    candidates = _candidates(table, feature_names)
    _require_columns(table, ["person_uid", "has_loan_history", LABEL], "features")
    table = table.sort_by("person_uid")
    labelled = table.filter(
        pc.and_(pc.fill_null(table["has_loan_history"], False), pc.is_valid(table[LABEL]))
    )
    y = np.asarray(pc.cast(labelled[LABEL], pa.int8()).to_numpy(zero_copy_only=False), int)
    n_bad = int(y.sum())
    if len(y) == 0:
        raise ModelInputError(
            "no person in the features has a loan history with a known outcome (label_bad): "
            "a scorecard needs past loans to learn from"
        )
    if min(n_bad, len(y) - n_bad) < min_bads:
        raise ModelInputError(
            f"too few outcomes to train on: {n_bad:,} bad and {len(y) - n_bad:,} good loans "
            f"among {len(y):,} borrowers; at least {min_bads} of each are needed"
        )

    X = _design(labelled, candidates)
    names = [f.name for f in candidates]
    index = np.arange(len(y))
    train_idx, hold_idx = train_test_split(
        index, test_size=holdout_share, stratify=y, random_state=seed
    )
    train_idx, hold_idx = np.sort(train_idx), np.sort(hold_idx)
    X_train, y_train = X.iloc[train_idx], y[train_idx]
    X_hold, y_hold = X.iloc[hold_idx], y[hold_idx]

    def binning(variables: list[str], select: bool) -> BinningProcess:
        by_name = {f.name: f for f in candidates}
        params = {}
        for v in variables:
            p = dict(BINNING)
            if by_name[v].trend:
                p["monotonic_trend"] = by_name[v].trend
            params[v] = p
        return BinningProcess(
            variable_names=list(variables),
            categorical_variables=[v for v in variables if by_name[v].kind == "categorical"],
            binning_fit_params=params,
            selection_criteria={"iv": {"min": MIN_IV}} if select else None,
        )

    # 1. screen every candidate: bins and information value
    screen = binning(names, select=True)
    screen.fit(X_train, y_train)
    screened = screen.summary().set_index("name")
    iv = {n: float(screened.loc[n, "iv"]) for n in names}
    selected = [n for n in names if n in set(screen.get_support(names=True))]
    dropped = {
        n: f"information value {iv[n]:.4f} below {MIN_IV}" for n in names if n not in selected
    }

    # 2. fit; a feature whose coefficient came out with the wrong sign (it happens next to
    # a correlated feature, e.g. balance and 12-month average) would turn its bins' order
    # upside down in points: leave it out and fit again
    while True:
        if not selected:
            raise ModelInputError(
                f"no feature separates good from bad loans (information value ≥ {MIN_IV}) "
                f"among {len(y):,} borrowers"
            )
        estimator = Scorecard(
            binning_process=binning(selected, select=False),
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": SCALING["pdo"],
                "odds": SCALING["odds"],
                "scorecard_points": SCALING["base_score"],
            },
            rounding=True,
            intercept_based=True,
        )
        estimator.fit(X_train[selected], y_train)
        coefficients = dict(
            zip(
                estimator.binning_process_.get_support(names=True),
                estimator.estimator_.coef_.ravel().tolist(),
                strict=True,
            )
        )
        # optbinning's WoE grows with the share of good loans: a risk coefficient is < 0
        wrong = {v: c for v, c in coefficients.items() if c >= 0}
        if not wrong:
            break
        worst = max(wrong, key=lambda v: wrong[v])
        dropped[worst] = (
            f"coefficient {wrong[worst]:+.3f} has the wrong sign next to correlated features"
        )
        selected.remove(worst)

    variables = _export_variables(estimator, selected, candidates, coefficients, iv)
    model: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model_id": "",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "label": {"column": LABEL, "meaning": LABEL_MEANING},
        "scaling": {
            **SCALING,
            "odds_meaning": "good:bad",
            "rule": "score = 600 + 20/ln2 * ln(odds/50); points per bin rounded to integers",
        },
        "base_points": round(float(estimator.intercept_)),
        "features": [v["name"] for v in variables],
        "variables": variables,
        "grades": [],
        "candidates": [
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "monotonic_trend": f.trend,
                "iv": round(iv[f.name], 6),
                "selected": f.name in selected,
                "reason": dropped.get(f.name, "selected"),
            }
            for f in candidates
        ],
        "excluded": {
            **EXCLUDED,
            **{
                f.name: "not in the input (optional)"
                for f in FEATURES
                if f.optional and f not in candidates and f.name not in (feature_names or [])
            },
        },
        "training": {
            "seed": seed,
            "holdout_share": holdout_share,
            "binning": {**BINNING, "min_iv": MIN_IV},
            "estimator": "sklearn LogisticRegression(max_iter=1000) on WoE, via optbinning Scorecard",
            "persons": table.num_rows,
            "labelled": len(y),
            "bads": n_bad,
            "train": {"n": len(train_idx), "bads": int(y_train.sum())},
            "holdout": {"n": len(hold_idx), "bads": int(y_hold.sum())},
            "data": training_data or {},
            "libraries": _library_versions(),
        },
        "metrics": {},
    }

    # the artefact must score exactly as optbinning does, or it is not this model
    scores = score_python(model, labelled)
    reference = np.rint(estimator.score(X)).astype(int)
    if not np.array_equal(scores, reference):
        bad = int(np.flatnonzero(scores != reference)[0])
        raise RuntimeError(
            f"the exported scorecard disagrees with optbinning for person "
            f"{labelled['person_uid'][bad].as_py()}: {scores[bad]} != {reference[bad]}"
        )
    s_train, s_hold = scores[train_idx], scores[hold_idx]
    population = score_python(model, table)

    model["grades"] = _grades(s_hold, y_hold, population)
    model["metrics"] = _metrics(
        s_train, y_train, s_hold, y_hold, population, screen, X_hold, iv, selected
    )
    model["training"]["seconds"] = round(time.perf_counter() - started, 2)
    model["model_id"] = _model_id(model)
    holdout = pd.DataFrame(
        {
            "person_uid": labelled["person_uid"].to_numpy(zero_copy_only=False)[hold_idx],
            LABEL: y_hold,
            "score": s_hold,
        }
    )
    return TrainedScorecard(model=model, estimator=estimator, holdout=holdout)


def train_pool(
    pool_dir: Path, out_dir: Path, seed: int = 42, *, min_bads: int = MIN_BADS
) -> tuple[TrainedScorecard, dict]:
    """`cunxin model train`: read a built pool, train, write the model and its report.
    (`min_bads` below the default only for the small demo county.)"""

    pool_dir = Path(pool_dir)
    require_pool(pool_dir)
    trained = train(
        read_model_input(pool_dir), seed, min_bads=min_bads,
        training_data=training_data_reference(pool_dir),
    )  # fmt: skip
    return trained, trained.write(out_dir)


def training_data_reference(pool_dir: Path) -> dict:
    """Where the training data came from: the pool run (from its manifest) and the
    SHA-256 of the files read, so a model can be traced to the exact pool it saw."""
    pool_dir = Path(pool_dir)
    manifest = json.loads((pool_dir / "manifest.json").read_text(encoding="utf-8"))
    inputs = manifest.get("input_checksums", {})
    return {
        "pool_dir": str(pool_dir.resolve()),
        "pool_run_id": manifest.get("run_id"),
        "pool_engine": manifest.get("engine"),
        "pool_started_at": manifest.get("started_at"),
        "raw_inputs": len(inputs),
        # one digest over the raw inputs' checksums: equal digests, equal raw data
        "raw_inputs_sha256": hashlib.sha256(
            json.dumps(sorted(inputs.items())).encode()
        ).hexdigest(),
        "files_sha256": {
            name: _sha256(pool_dir / name)
            for name in ("features.parquet", "profile_credit.parquet")
            if (pool_dir / name).exists()
        },
    }


# --- helpers ----------------------------------------------------------------------------


def _as_arrow(features: Any) -> pa.Table:
    if isinstance(features, pa.Table):
        return features
    if hasattr(features, "to_arrow"):  # polars, duckdb relations
        return features.to_arrow()
    try:
        return pa.Table.from_pandas(features, preserve_index=False)
    except (TypeError, pa.ArrowException) as e:
        raise ModelInputError(f"features must be a table (pyarrow or pandas): {e}") from None


def _candidates(table: pa.Table, names: list[str] | None) -> list[Feature]:
    known = {f.name: f for f in FEATURES}
    if names is None:
        chosen = [f for f in FEATURES if not f.optional or f.name in table.column_names]
    else:
        unknown = [n for n in names if n not in known and n not in EXCLUDED]
        if unknown:
            raise ModelInputError(f"unknown features: {', '.join(unknown)}")
        chosen = [known.get(n) or _excluded_feature(table, n) for n in names]
    _require_columns(table, [f.name for f in chosen], "features")
    return chosen


def _excluded_feature(table: pa.Table, name: str) -> Feature:
    """An excluded column asked for on purpose (say, to measure what it would add)."""
    _require_columns(table, [name], "features")
    t = table.schema.field(name).type
    kind = (
        "boolean"
        if pa.types.is_boolean(t)
        else "numeric"
        if pa.types.is_integer(t)
        else "categorical"
    )
    return Feature(name, kind, name)


def _require_columns(table: pa.Table, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ModelInputError(f"the {what} lack column(s): {', '.join(missing)}")


def _design(table: pa.Table, candidates: list[Feature]) -> Any:
    """The model matrix for optbinning: numbers as float64 with NaN for missing (every
    numeric feature is a whole number, so integer bin edges are exact), categories as
    Python strings with None for missing."""
    import pandas as pd

    columns = {}
    for f in candidates:
        col = table[f.name]
        if f.kind == "categorical":
            columns[f.name] = pd.Series(pc.cast(col, pa.string()).to_pylist(), dtype=object)
        else:
            if not (pa.types.is_integer(col.type) or pa.types.is_boolean(col.type)):
                raise ModelInputError(
                    f"feature {f.name} must hold whole numbers or booleans, not {col.type}"
                )
            columns[f.name] = pd.Series(
                pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64"
            )
    return pd.DataFrame(columns)


def model_matrix(table: pa.Table, names: list[str]) -> Any:
    """The frame optbinning sees for the features `names` (to score with the fitted
    estimator, e.g. when checking an exported model against it)."""
    known = {f.name: f for f in FEATURES}
    return _design(table, [known.get(n) or _excluded_feature(table, n) for n in names])


def _export_variables(
    estimator: Any,
    selected: list[str],
    candidates: list[Feature],
    coefficients: dict[str, float],
    iv: dict[str, float],
) -> list[dict]:
    """optbinning's fitted scorecard as plain data: bins with edges or categories, their
    training counts, bad rate, WoE and points."""
    table = estimator.table(style="detailed")
    by_name = {f.name: f for f in candidates}
    out = []
    for name in selected:
        f = by_name[name]
        rows = table[table["Variable"] == name].reset_index(drop=True)
        optb = estimator.binning_process_.get_binned_variable(name)
        n_bins = len(rows) - 2  # then one row for special values (unused), one for missing

        def stats(r: Any) -> dict:
            return {
                "count": int(r["Count"]),
                "bads": int(r["Event"]),
                "bad_rate": round(float(r["Event rate"]), 6),
                "woe": round(float(r["WoE"]), 6),
                "points": round(float(r["Points"])),
            }

        bins = []
        if f.kind == "categorical":
            for i in range(n_bins):
                categories = sorted(str(c) for c in optb.splits[i])
                bins.append({"bin": i, "categories": categories, **stats(rows.iloc[i])})
        else:
            # x < s  ⇔  x < ceil(s) for whole numbers: integer edges, exact in any engine
            edges = [math.ceil(float(s)) for s in optb.splits]
            if edges != sorted(set(edges)):
                raise RuntimeError(f"{name}: bin edges {list(optb.splits)} collapse as integers")
            bounds = [None, *edges, None]
            for i in range(n_bins):
                bins.append(
                    {"bin": i, "lower": bounds[i], "upper": bounds[i + 1], **stats(rows.iloc[i])}
                )
        out.append(
            {
                "name": name,
                "label": f.label,
                "kind": f.kind,
                "monotonic_trend": f.trend,
                "iv": round(iv[name], 6),
                "coefficient": round(coefficients[name], 6),
                "bins": bins,
                # missing values, and categories never seen in training, score here
                "missing": stats(rows.iloc[n_bins + 1]),
            }
        )
    return out


def _grades(s_hold: np.ndarray, y_hold: np.ndarray, population: np.ndarray) -> list[dict]:
    """Default cut-offs from the holdout's score distribution: the best 10% 特优, the
    next 25% 优秀, 35% 较好, 20% 一般 and the riskiest 10% 不授信. Shares rather than
    bad-rate targets, because a scorecard on this data separates risk only moderately:
    cut-offs at fixed bad rates would put nearly everyone into one or two grades."""
    grades, cumulative, previous = [], 0.0, None
    for key, label, share in GRADES:
        cumulative += share
        if key == GRADES[-1][0]:
            cutoff = None
        else:
            cutoff = int(np.quantile(s_hold, 1.0 - cumulative, method="higher"))
            if previous is not None and cutoff >= previous:
                cutoff = previous - 1  # keep every grade a real band
            previous = cutoff
        grades.append({"grade": key, "label": label, "target_share": share, "min_score": cutoff})
    bands_hold = assign_grades(grades, s_hold)
    bands_pop = assign_grades(grades, population)
    upper = None
    for g in grades:
        mask = bands_hold == g["grade"]
        n, bads = int(mask.sum()), int(y_hold[mask].sum())
        g["max_score"] = None if upper is None else upper - 1
        g["pd_at_min_score"] = (
            None if g["min_score"] is None else round(float(pd_of_score(g["min_score"])), 6)
        )
        g["holdout"] = {"count": n, "bads": bads, "bad_rate": round(bads / n, 6) if n else None}
        g["population"] = {
            "count": int((bands_pop == g["grade"]).sum()),
            "share": round(float((bands_pop == g["grade"]).mean()), 6) if len(population) else None,
        }
        upper = g["min_score"]
    return grades


def assign_grades(grades: list[dict], scores: np.ndarray) -> np.ndarray:
    """The grade key of each score (the first grade whose min_score it reaches)."""
    out = np.full(len(scores), grades[-1]["grade"], dtype=object)
    for g in reversed(grades[:-1]):
        out[np.asarray(scores) >= g["min_score"]] = g["grade"]
    return out


def _metrics(
    s_train: np.ndarray,
    y_train: np.ndarray,
    s_hold: np.ndarray,
    y_hold: np.ndarray,
    population: np.ndarray,
    screen: Any,
    X_hold: Any,
    iv: dict[str, float],
    selected: list[str],
) -> dict:
    from sklearn.metrics import roc_auc_score

    best = max(iv, key=lambda n: iv[n])
    woe = screen.get_binned_variable(best).transform(X_hold[best].values, metric="woe")
    single_auc = float(roc_auc_score(y_hold, -np.asarray(woe, float)))
    holdout = _discrimination(s_hold, y_hold)
    return {
        "holdout": holdout,
        "train": _discrimination(s_train, y_train),
        "psi_train_holdout": round(psi(s_train, s_hold), 6),
        # borrowers are not everyone: how far the scored population is from the training one
        "psi_train_population": round(psi(s_train, population), 6),
        "calibration": calibration(s_hold, y_hold),
        "baselines": {
            "intercept_only": {
                "description": "every person gets the training bad rate",
                "auc": 0.5,
            },
            "single_variable": {
                "description": "the one candidate with the highest training information "
                "value, by its bins' WoE",
                "variable": best,
                "in_scorecard": best in selected,
                "auc": round(single_auc, 6),
            },
        },
        "auc_gain_over_single_variable": round(holdout["auc"] - single_auc, 6),
    }


def _discrimination(scores: np.ndarray, y: np.ndarray) -> dict:
    """AUC (with a 95% interval, Hanley & McNeil), KS and Gini; low scores are risky."""
    from sklearn.metrics import roc_auc_score, roc_curve

    auc = float(roc_auc_score(y, -scores))
    fpr, tpr, _ = roc_curve(y, -scores)
    n_bad, n_good = int(y.sum()), int(len(y) - y.sum())
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(
        (auc * (1 - auc) + (n_bad - 1) * (q1 - auc**2) + (n_good - 1) * (q2 - auc**2))
        / (n_bad * n_good)
    )
    return {
        "n": len(y),
        "bads": n_bad,
        "bad_rate": round(n_bad / len(y), 6),
        "auc": round(auc, 6),
        "auc_ci95": [round(auc - 1.96 * se, 4), round(auc + 1.96 * se, 4)],
        "ks": round(float(np.max(tpr - fpr)), 6),
        "gini": round(2 * auc - 1, 6),
    }


def calibration(scores: np.ndarray, y: np.ndarray, bands: int = 10) -> list[dict]:
    """Predicted (from the score) against observed bad rate in score bands of about equal
    size, riskiest first."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, bands + 1)[1:-1], method="higher"))
    band = np.searchsorted(edges, scores, side="right")
    predicted = pd_of_score(scores)
    out = []
    for b in range(len(edges) + 1):
        mask = band == b
        if not mask.any():
            continue
        n = int(mask.sum())
        out.append(
            {
                "min_score": int(scores[mask].min()),
                "max_score": int(scores[mask].max()),
                "count": n,
                "bads": int(y[mask].sum()),
                "observed_bad_rate": round(float(y[mask].mean()), 6),
                "predicted_bad_rate": round(float(predicted[mask].mean()), 6),
            }
        )
    return out


def psi(expected: np.ndarray, actual: np.ndarray, bands: int = 10) -> float:
    """Population stability index of `actual` against `expected`, in `expected`'s deciles."""
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bands + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1)
    e = np.maximum(e / e.sum(), 1e-4)
    a = np.maximum(a / a.sum(), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def _model_id(model: dict) -> str:
    """Time plus a digest of what scores (variables, base points, grades)."""
    scoring = {k: model[k] for k in ("scaling", "base_points", "variables", "grades")}
    digest = hashlib.sha256(dumps(scoring).encode()).hexdigest()[:8]
    created = dt.datetime.fromisoformat(model["created_at"])
    return f"scorecard-{created:%Y%m%dT%H%M%SZ}-{digest}"


def _library_versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in ("cunxin", "optbinning", "scikit-learn", "numpy", "pandas", "pyarrow", "duckdb"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover
            versions[package] = None
    return versions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def summary(model: dict, paths: dict[str, Path] | None = None) -> str:
    """What `cunxin model train` prints."""
    m, t = model["metrics"], model["training"]
    h, single = m["holdout"], m["baselines"]["single_variable"]
    lines = [
        f"scorecard {model['model_id']} trained in {t['seconds']:.1f} s "
        f"on {t['labelled']:,} borrowers ({t['bads']:,} bad) of {t['persons']:,} adults",
        f"features ({len(model['features'])}): {', '.join(model['features'])}",
        f"holdout ({h['n']:,}, {h['bads']:,} bad): AUC {h['auc']:.3f} "
        f"(95% {h['auc_ci95'][0]:.3f}-{h['auc_ci95'][1]:.3f}), KS {h['ks']:.3f}, Gini {h['gini']:.3f}",
        f"baselines: intercept only AUC 0.500, single variable ({single['variable']}) "
        f"AUC {single['auc']:.3f}",
        f"PSI train/holdout {m['psi_train_holdout']:.3f}, "
        f"train/all adults {m['psi_train_population']:.3f}",
        "grades: "
        + ", ".join(
            f"{g['label']} {'≥ ' + str(g['min_score']) if g['min_score'] is not None else 'below'}"
            f" ({g['population']['share']:.0%})"
            for g in model["grades"]
        ),
    ]
    if paths:
        lines += [f"model:  {paths['model']}", f"report: {paths['report']}"]
    return "\n".join(lines)
