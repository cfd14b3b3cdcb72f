"""The scorecard (模型额度): trained on a synthetic county, evaluated on held-out borrowers,
kept as JSON, scored as SQL on DuckDB and Spark exactly as optbinning scores.

GIVEN a synthetic county at scale 0.05 (about 2,800 borrowers, 210 of them bad; at 0.01
there are only 35 bad loans, too few for any scorecard: see the too-few test)
WHEN a scorecard is trained on its pool and the pool is scored
THEN the scorecard beats the baselines on held-out borrowers, its bins are monotonic where
the direction of risk was fixed, the JSON scores like the fitted model, and the SQL
scores equal the Python scores for every adult on both engines.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from cunxin.cli import main
from cunxin.credit import modelfile, scorecard, scoring
from cunxin.credit.modelfile import ModelInputError, load_model
from cunxin.credit.report import render_report
from cunxin.credit.scorecard import train, train_pool

SCALE = 0.05
# Margin over the intercept-only baseline (AUC 0.5), on the mean holdout AUC of five seeded
# splits. Measured: full county (56,920 borrowers) holdout AUC 0.613 (95% 0.595-0.630);
# this pool's single splits range 0.54-0.62 (64 bad loans in a holdout, SD about 0.025),
# their mean about 0.59 with SD about 0.011. 0.05 leaves three to four SDs of room and
# still fails a scorecard that learned nothing (0.5) or only noise.
MARGIN = 0.05
SPLIT_SEEDS = (42, 43, 44, 45, 46)


def show(capsys, text: str) -> None:
    """Figures the issue asks to see in the test output, even when output is captured."""
    with capsys.disabled():
        print(f"\n{text}")


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    from cunxin.datapool.build import build
    from cunxin.synth import generate

    root = tmp_path_factory.mktemp("scorecard")
    generate(root / "raw", scale=SCALE, seed=7)
    build(root / "raw", root / "pool", "duckdb")
    return root / "pool"


@pytest.fixture(scope="module")
def model_input(pool) -> pa.Table:
    return scoring.read_model_input(pool)


@pytest.fixture(scope="module")
def trained(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    result, paths = train_pool(pool, out, seed=42)
    return result, paths


def pool_copy(pool: Path, dst: Path) -> Path:
    """The files scoring reads, in a folder of their own (each engine writes its output)."""
    dst.mkdir(parents=True)
    for name in ("manifest.json", "features.parquet", "profile_credit.parquet"):
        shutil.copy(pool / name, dst / name)
    return dst


# --- training and evaluation ------------------------------------------------------------


@pytest.mark.slow
def test_it_trains_on_borrowers_and_reports_holdout_metrics(trained, model_input, capsys):
    result, _ = trained
    m = result.model
    h = m["metrics"]["holdout"]
    show(capsys, "scorecard at scale 0.05: " + scorecard.summary(m).replace("\n", "\n  "))
    labelled = pc.sum(pc.is_valid(model_input["label_bad"])).as_py()
    assert m["training"]["labelled"] == labelled
    assert m["training"]["persons"] == model_input.num_rows
    assert h["n"] + m["training"]["train"]["n"] == labelled
    assert abs(h["n"] / labelled - 0.3) < 0.01
    # stratified: the holdout's bad rate is the borrowers' bad rate
    assert abs(h["bad_rate"] - m["training"]["bads"] / labelled) < 0.005
    for key in ("auc", "ks", "gini"):
        assert 0 < h[key] < 1
    assert h["gini"] == pytest.approx(2 * h["auc"] - 1, abs=1e-5)
    assert h["auc_ci95"][0] < h["auc"] < h["auc_ci95"][1]
    assert m["metrics"]["psi_train_holdout"] < 0.1  # a random split is one population
    assert m["metrics"]["baselines"]["intercept_only"]["auc"] == 0.5
    assert m["metrics"]["baselines"]["single_variable"]["variable"] in {
        c["name"] for c in m["candidates"]
    }
    bands = m["metrics"]["calibration"]
    assert sum(b["count"] for b in bands) == h["n"]
    assert sum(b["bads"] for b in bands) == h["bads"]
    assert [b["min_score"] for b in bands] == sorted(b["min_score"] for b in bands)
    # calibration in the large: predicted and observed bad rates agree overall
    predicted = sum(b["predicted_bad_rate"] * b["count"] for b in bands) / h["n"]
    assert abs(predicted - h["bad_rate"]) < 0.03


@pytest.mark.slow
def test_the_scorecard_beats_the_intercept_only_baseline_by_the_margin(model_input, capsys):
    models = [train(model_input, seed).model for seed in SPLIT_SEEDS]
    aucs = [m["metrics"]["holdout"]["auc"] for m in models]
    singles = [m["metrics"]["baselines"]["single_variable"]["auc"] for m in models]
    show(
        capsys,
        f"holdout AUC over splits {SPLIT_SEEDS}: {[round(a, 3) for a in aucs]} "
        f"(mean {np.mean(aucs):.3f}); single-variable baseline mean {np.mean(singles):.3f}; "
        f"intercept only 0.500; margin asked {MARGIN}",
    )
    assert np.mean(aucs) >= 0.5 + MARGIN
    assert min(aucs) > 0.5
    # and the seed makes the split: the same seed gives the same model
    again = train(model_input, SPLIT_SEEDS[0]).model
    for m in (again, models[0]):
        for key in ("created_at", "model_id"):
            m.pop(key)
        m["training"].pop("seconds")
    assert again == models[0]


@pytest.mark.slow
def test_bins_are_monotonic_where_the_direction_was_fixed(trained):
    result, _ = trained
    fixed = {f.name: f.trend for f in scorecard.FEATURES if f.trend in ("ascending", "descending")}
    checked = 0
    for v in result.model["variables"]:
        rates = [b["bad_rate"] for b in v["bins"]]
        points = [b["points"] for b in v["bins"]]
        if fixed.get(v["name"]) == "descending":  # more of it, less risk, more points
            assert rates == sorted(rates, reverse=True), v["name"]
            assert points == sorted(points), v["name"]
            assert points[-1] > points[0], v["name"]
            checked += 1
        elif fixed.get(v["name"]) == "ascending":
            assert rates == sorted(rates), v["name"]
            assert points == sorted(points, reverse=True), v["name"]
            checked += 1
        elif v["monotonic_trend"] == "valley":  # falls, then rises
            low = int(np.argmin(rates))
            assert rates[: low + 1] == sorted(rates[: low + 1], reverse=True), v["name"]
            assert rates[low:] == sorted(rates[low:]), v["name"]
        # every coefficient has the risk sign: points follow the WoE
        woe_order = np.argsort([b["woe"] for b in v["bins"]], kind="stable")
        assert [points[i] for i in woe_order] == sorted(points), v["name"]
    assert checked >= 2, "no feature with a fixed direction made it into the scorecard"


@pytest.mark.slow
def test_features_that_leak_the_outcome_stay_out(trained):
    result, _ = trained
    m = result.model
    leaks = {"blacklisted", "greylisted", "court_defaulter", "farmer_credit_rating",
             "household_liabilities_fen", "gender", "village_code"}  # fmt: skip
    assert not leaks & set(m["features"])
    assert not leaks & {c["name"] for c in m["candidates"]}
    assert leaks <= set(m["excluded"])
    assert all(m["excluded"][k] for k in leaks)  # each with its reason


@pytest.mark.slow
def test_grades_split_the_holdout_by_the_default_shares(trained):
    result, _ = trained
    m = result.model
    grades = m["grades"]
    assert [g["label"] for g in grades] == ["特优", "优秀", "较好", "一般", "不授信"]
    cutoffs = [g["min_score"] for g in grades[:-1]]
    assert cutoffs == sorted(set(cutoffs), reverse=True) and grades[-1]["min_score"] is None
    assert sum(g["holdout"]["count"] for g in grades) == m["metrics"]["holdout"]["n"]
    assert sum(g["population"]["count"] for g in grades) == m["training"]["persons"]
    for g in grades:  # shares near their targets (ties on whole scores move them a little)
        assert abs(g["holdout"]["count"] / m["metrics"]["holdout"]["n"] - g["target_share"]) < 0.05
    # the best grade is less risky than the declined one on held-out borrowers
    assert grades[0]["holdout"]["bad_rate"] < grades[-1]["holdout"]["bad_rate"]


# --- the artefact -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_model_round_trips_through_json_and_scores_identically(trained, model_input):
    result, paths = trained
    text = paths["model"].read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the model JSON"))
    loaded = load_model(paths["model"])
    assert loaded == json.loads(modelfile.dumps(result.model))
    everyone = scoring.score_python(loaded, model_input)
    names = loaded["features"]
    reference = result.estimator.score(scorecard.model_matrix(model_input, names))
    assert np.array_equal(everyone, np.rint(reference).astype(int))
    ref = loaded["training"]["data"]
    manifest = json.loads((Path(ref["pool_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert ref["pool_run_id"] == manifest["run_id"]
    assert set(ref["files_sha256"]) == {"features.parquet", "profile_credit.parquet"}
    assert loaded["training"]["libraries"]["optbinning"]
    assert loaded["training"]["seed"] == 42


@pytest.mark.slow
def test_the_report_shows_metrics_calibration_scorecard_and_grades(trained):
    result, paths = trained
    html = paths["report"].read_text(encoding="utf-8")
    assert html == render_report(result.model)
    for text in ("AUC", "KS", "Gini", "PSI", "校准", "评分卡", "基础分", "特优", "不授信",
                 result.model["model_id"], result.model["metrics"]["baselines"]["single_variable"]["variable"]):  # fmt: skip
        assert text in html, text
    for v in result.model["variables"]:
        assert v["name"] in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


# --- scoring as SQL ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def duck_scores(pool, trained, tmp_path_factory) -> Path:
    _, paths = trained
    folder = pool_copy(pool, tmp_path_factory.mktemp("score") / "duckdb")
    scoring.score_pool(folder, paths["model"], "duckdb")
    return folder


@pytest.mark.slow
def test_sql_scores_equal_optbinning_scores_for_every_person(duck_scores, trained, model_input):
    result, _ = trained
    m = result.model
    rows = duckdb.sql(
        f"SELECT * FROM '{duck_scores}/model_score.parquet' ORDER BY person_uid"
    ).to_arrow_table()
    assert rows.num_rows == model_input.num_rows
    table = model_input.sort_by("person_uid")
    assert rows["person_uid"].to_pylist() == table["person_uid"].to_pylist()
    reference = result.estimator.score(scorecard.model_matrix(table, m["features"]))
    assert np.array_equal(rows["score"].to_numpy(), np.rint(reference).astype(int))
    for name, points in scoring.points_python(m, table).items():
        assert np.array_equal(rows[f"points_{name}"].to_numpy(), points), name
    grades = scorecard.assign_grades(m["grades"], rows["score"].to_numpy())
    assert rows["grade"].to_pylist() == grades.tolist()
    assert set(rows["model_id"].to_pylist()) == {m["model_id"]}
    written = json.loads((duck_scores / "model_score.json").read_text(encoding="utf-8"))
    assert written["rows"] == rows.num_rows and written["model_id"] == m["model_id"]
    assert sum(written["grades"].values()) == rows.num_rows


@pytest.mark.spark
@pytest.mark.slow
def test_spark_scores_like_duckdb(spark_ok, pool, trained, duck_scores, tmp_path):
    _, paths = trained
    folder = pool_copy(pool, tmp_path / "spark")
    scoring.score_pool(folder, paths["model"], "spark")
    query = "SELECT * FROM '{}/model_score.parquet' ORDER BY person_uid"
    a = duckdb.sql(query.format(duck_scores))
    b = duckdb.sql(query.format(folder))
    assert a.types == b.types and a.columns == b.columns
    assert a.fetchall() == b.fetchall()


# --- the console command ----------------------------------------------------------------


@pytest.mark.slow
def test_the_commands_train_and_score(pool, tmp_path):
    folder = pool_copy(pool, tmp_path / "pool")
    out = tmp_path / "model"
    runner = CliRunner()
    result = runner.invoke(
        main, ["model", "train", "--pool", str(folder), "--out", str(out), "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "holdout" in result.output and "AUC" in result.output
    assert (out / "scorecard.json").exists() and (out / "report.html").exists()
    assert load_model(out / "scorecard.json")["training"]["seed"] == 7
    result = runner.invoke(
        main, ["model", "score", "--pool", str(folder), "--model", str(out / "scorecard.json")]
    )
    assert result.exit_code == 0, result.output
    rows = duckdb.sql(f"SELECT count(*) FROM '{folder}/model_score.parquet'").fetchall()[0][0]
    features = duckdb.sql(f"SELECT count(*) FROM '{folder}/features.parquet'").fetchall()[0][0]
    assert rows == features and f"scored {rows:,} adults" in result.output
    assert not (folder / "_model_work").exists()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cunxin.cli", *args], capture_output=True, text=True
    )


def test_it_reports_a_pool_without_features_in_one_line(tmp_path):
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    out = run_cli("model", "train", "--pool", str(tmp_path), "--out", str(tmp_path / "m"))
    assert out.returncode == 1
    assert "features.parquet is missing" in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_it_refuses_a_model_file_of_another_version(tmp_path):
    model = tiny_model()
    model["version"] = modelfile.VERSION + 1
    path = tmp_path / "scorecard.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ModelInputError, match=r"version 2; this cunxin reads version 1"):
        load_model(path)
    pool = tmp_path / "pool"
    tiny_pool(pool)
    out = run_cli("model", "score", "--pool", str(pool), "--model", str(path))
    assert out.returncode == 1
    assert "train it again" in out.stderr and "Traceback" not in out.stderr


def test_it_refuses_files_that_are_not_models(tmp_path):
    cases = {
        "missing.json": None,
        "text.json": "not json",
        "other.json": json.dumps({"format": "something else"}),
    }
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(ModelInputError):
            load_model(tmp_path / name)
    # a model edited by hand so that it would inject SQL is refused, not run
    model = tiny_model()
    model["variables"][2]["bins"][0]["categories"] = ["x') OR 1=1 --"]
    with pytest.raises(ModelInputError, match="damaged"):
        modelfile.check_model(model)
    model = tiny_model()
    model["variables"][0]["name"] = "age; DROP TABLE x"
    with pytest.raises(ModelInputError, match="damaged"):
        modelfile.check_model(model)


@pytest.mark.slow
def test_it_needs_borrowers_with_known_outcomes(model_input):
    nobody = model_input.set_column(
        model_input.schema.get_field_index("has_loan_history"),
        "has_loan_history",
        pa.array([False] * model_input.num_rows),
    )
    with pytest.raises(ModelInputError, match="no person in the features has a loan history"):
        train(nobody)
    # a pool at scale 0.01 has some 35 bad loans: refused rather than fitted to noise
    bads = np.flatnonzero(pc.fill_null(model_input["label_bad"], False).to_numpy())
    keep = np.ones(model_input.num_rows, bool)
    keep[bads[35:]] = False
    with pytest.raises(ModelInputError, match="too few outcomes to train on: 35 bad"):
        train(model_input.filter(pa.array(keep)))
    with pytest.raises(ModelInputError, match="lack column"):
        train(model_input.drop_columns(["label_bad"]))


# --- SQL on a model small enough to read ------------------------------------------------


def tiny_model() -> dict:
    """Three features, one of each kind, and grades; as `train` writes them."""
    model = {
        "format": modelfile.FORMAT,
        "version": modelfile.VERSION,
        "model_id": "scorecard-20260101T000000Z-abcdef12",
        "base_points": 500,
        "features": ["age", "has_spouse", "occupation"],
        "variables": [
            {
                "name": "age",
                "kind": "numeric",
                "bins": [
                    {"lower": None, "upper": 30, "points": 0},
                    {"lower": 30, "upper": 60, "points": 20},
                    {"lower": 60, "upper": None, "points": 5},
                ],
                "missing": {"points": 7},
            },
            {
                "name": "has_spouse",
                "kind": "boolean",
                "bins": [
                    {"lower": None, "upper": 1, "points": 0},
                    {"lower": 1, "upper": None, "points": 9},
                ],
                "missing": {"points": 3},
            },
            {
                "name": "occupation",
                "kind": "categorical",
                "bins": [
                    {"categories": ["教师", "村干部"], "points": 30},
                    {"categories": ["种植户"], "points": 10},
                ],
                "missing": {"points": 12},
            },
        ],
        "grades": [
            {"grade": "top", "min_score": 535},
            {"grade": "fair", "min_score": 527},
            {"grade": "decline", "min_score": None},
        ],
    }
    return modelfile.check_model(model)


TINY_ROWS = [
    # person_uid, age, has_spouse, occupation, expected score
    ("P1", 29, True, "教师", 500 + 0 + 9 + 30),
    ("P2", 30, False, "种植户", 500 + 20 + 0 + 10),
    ("P3", 59, None, None, 500 + 20 + 3 + 12),
    ("P4", 60, True, "渔民", 500 + 5 + 9 + 12),  # a category never seen: missing points
    ("P5", None, False, "村干部", 500 + 7 + 0 + 30),
]


def tiny_table() -> pa.Table:
    columns = list(zip(*TINY_ROWS, strict=True))
    return pa.table(
        {
            "person_uid": pa.array(columns[0]),
            "age": pa.array(columns[1], pa.int32()),
            "has_spouse": pa.array(columns[2], pa.bool_()),
            "occupation": pa.array(columns[3], pa.string()),
        }
    )


def tiny_pool(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"run_id": "tiny"}), encoding="utf-8")
    import pyarrow.parquet as pq

    pq.write_table(tiny_table(), folder / "features.parquet")
    pq.write_table(
        pa.table({"person_uid": ["P1"], "sunshine2017_rating": ["AA"]}),
        folder / "profile_credit.parquet",
    )
    return folder


def test_the_bins_rules_in_python_and_sql_agree():
    model = tiny_model()
    expected = [r[-1] for r in TINY_ROWS]
    assert scoring.score_python(model, tiny_table()).tolist() == expected
    con = duckdb.connect()
    con.register("model_input", tiny_table())
    rows = con.sql(scoring.score_sql(model) + " ORDER BY person_uid").fetchall()
    assert [r[2] for r in rows] == expected
    assert [r[3] for r in rows] == ["top", "fair", "top", "decline", "top"]
    assert rows[3][4:] == (5, 9, 12)  # points_age, points_has_spouse, points_occupation


def test_scoring_a_pool_writes_scores_and_a_summary(tmp_path):
    pool = tiny_pool(tmp_path / "pool")
    result = scoring.score_pool(pool, tiny_model(), "duckdb")
    assert result["rows"] == len(TINY_ROWS) and result["pool_run_id"] == "tiny"
    assert result["grades"] == {"top": 3, "fair": 1, "decline": 1}
    scores = duckdb.sql(
        f"SELECT score FROM '{pool}/model_score.parquet' ORDER BY person_uid"
    ).fetchall()
    assert [s for (s,) in scores] == [r[-1] for r in TINY_ROWS]
    model = tiny_model()
    model["variables"].append({**model["variables"][0], "name": "deposit_balance_fen"})
    model["features"].append("deposit_balance_fen")
    with pytest.raises(ModelInputError, match="lack what the model needs: deposit_balance_fen"):
        scoring.score_pool(pool, model, "duckdb")


def test_scoring_imports_neither_optbinning_nor_django():
    """Scoring a pool needs the JSON and an engine, not the training stack (a cold import
    of optbinning and scikit-learn takes seconds)."""
    code = (
        "import sys, cunxin.credit.scoring, cunxin.credit.report; "
        "print(sorted(m for m in ('optbinning', 'sklearn', 'pandas', 'django') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
