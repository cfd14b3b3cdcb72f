"""`cunxin model publish`: a scorecard and its scores into the app, in one transaction,
idempotent, refusing scores made with another model; activation is audited."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cunxin.audit.models import AuditEvent
from cunxin.cli import main
from cunxin.credit import scoring
from cunxin.credit.modelfile import ModelInputError
from cunxin.decisions.models import ModelScore, ModelVersion
from cunxin.decisions.scores import publish_model
from test_scorecard import TINY_ROWS, tiny_model, tiny_pool


@pytest.fixture
def scored_pool(tmp_path):
    """The tiny pool of test_scorecard, scored with the tiny model (written to a file)."""
    pool = tiny_pool(tmp_path / "pool")
    model = tiny_model()
    scoring.score_pool(pool, model, "duckdb")
    path = tmp_path / "scorecard.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    return pool, path, model


@pytest.mark.django_db
def test_it_registers_the_model_and_loads_every_score_once(scored_pool):
    pool, path, model = scored_pool
    version = publish_model(pool, path, by="test")
    assert (version.model_id, version.active, version.scored_pool_run) == (model["model_id"], False, "tiny")  # fmt: skip
    scores = {s.person_id: s for s in ModelScore.objects.filter(model=version)}
    assert version.scored_count == len(scores) == len(TINY_ROWS)
    assert sorted(s.score for s in scores.values()) == sorted(r[-1] for r in TINY_ROWS)
    assert set(json.loads(next(iter(scores.values())).points)) == set(model["features"])
    # again: the same version, the same rows (replaced, not added)
    again = publish_model(pool, path, by="test", activate=True)
    assert again.pk == version.pk and again.active
    assert ModelScore.objects.filter(model=version).count() == len(TINY_ROWS)
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == [
        "decisions.model.publish", "decisions.model.publish", "decisions.model.activate",
    ]  # fmt: skip


@pytest.mark.django_db
def test_it_refuses_scores_of_another_model_and_changes_nothing(scored_pool, tmp_path):
    pool, path, model = scored_pool
    publish_model(pool, path, by="test")
    other = {**model, "model_id": "scorecard-20270101T000000Z-00000000"}
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(ModelInputError, match="scores are from model"):
        publish_model(pool, other_path, by="test")
    (pool / "model_score.json").unlink()
    with pytest.raises(ModelInputError, match="has no scores"):
        publish_model(pool, path, by="test")
    assert list(ModelVersion.objects.values_list("model_id", flat=True)) == [model["model_id"]]
    assert ModelScore.objects.count() == len(TINY_ROWS)


@pytest.mark.django_db
def test_the_command_publishes_and_activates(scored_pool):
    pool, path, model = scored_pool
    result = CliRunner().invoke(
        main, ["model", "publish", "--pool", str(pool), "--model", str(path), "--activate", "--by", "ops"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"published model {model['model_id']}: {len(TINY_ROWS)} scores, active" in result.output
    assert ModelVersion.objects.get().active
