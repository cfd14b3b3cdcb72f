"""A scorecard and its scores in the app (DESIGN.md §5 "Three amounts": the model amount).

    cunxin model train   --pool POOL --out DIR          # scorecard.json + report.html
    cunxin model score   --pool POOL --model FILE       # POOL/model_score.parquet (+ .json)
    cunxin model publish --pool POOL --model FILE [--activate]

`publish_model` registers the scorecard as a `ModelVersion` (its metrics and the training
data's reference with it) and loads its scores for every adult, replacing that version's
earlier scores, in one transaction: a failure leaves the previous scores, and publishing
the same files again changes nothing but the load time. Only the active version's scores
reach decisions; activating one is audited and deactivates the other.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from cunxin.audit.chain import record
from cunxin.credit.modelfile import ModelInputError, load_model
from cunxin.credit.scoring import OUTPUT
from cunxin.decisions.models import ModelScore, ModelVersion
from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.pool.publish import load_rows

COLUMNS = ("model_id", "person_id", "score", "grade", "points")


def _scores(pool_dir: Path, model: dict) -> tuple[dict, Path]:
    """The pool's score summary and file, checked against the model."""
    summary_path, parquet = pool_dir / f"{OUTPUT}.json", pool_dir / f"{OUTPUT}.parquet"
    if not summary_path.is_file() or not parquet.is_file():
        raise ModelInputError(
            f"{pool_dir} has no scores: run `cunxin model score --pool {pool_dir} --model …` first"
        )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if summary.get("model_id") != model["model_id"]:
        raise ModelInputError(
            f"the pool's scores are from model {summary.get('model_id')}, not "
            f"{model['model_id']}: score the pool with this model first"
        )
    return summary, parquet


def publish_model(
    pool_dir: Path, model_path: Path, *, by: str, activate: bool = False
) -> ModelVersion:
    """Register the model and load its scores (see the module's docstring)."""
    pool_dir = Path(pool_dir)
    model = load_model(Path(model_path))
    summary, parquet = _scores(pool_dir, model)
    points = ", ".join(f"{f} := points_{f}" for f in model["features"])
    with tempfile.TemporaryDirectory(prefix="cunxin-scores-") as tmp:
        con = duckdb.connect()
        try:
            version = _load_in_one_transaction(con, parquet, points, model, summary, by, Path(tmp))
        finally:
            con.close()
    if activate:
        activate_model(version, by=by)
        version.refresh_from_db()
    return version


def _load_in_one_transaction(con, parquet, points, model, summary, by, work) -> ModelVersion:
    with transaction.atomic(), connection.cursor() as cursor:
        version, created = ModelVersion.objects.get_or_create(
            model_id=model["model_id"],
            defaults={
                "data": model, "metrics": model.get("metrics", {}),
                "trained_on": model.get("training", {}).get("data", {}), "created_by": by,
            },
        )  # fmt: skip
        ModelScore.objects.filter(model=version).delete()
        rows = con.sql(
            f"SELECT {version.pk} AS model_id, person_uid AS person_id, score, grade, "
            f"CAST(to_json(struct_pack({points})) AS VARCHAR) AS points "
            f"FROM read_parquet(?)",
            params=[str(parquet)],
        )
        loaded = load_rows(cursor, ModelScore._meta.db_table, COLUMNS, rows, work)
        version.scored_pool_run = summary.get("pool_run_id") or ""
        version.scored_at, version.scored_count = timezone.now(), loaded
        version.save(update_fields=["scored_pool_run", "scored_at", "scored_count"])
        record(by, "decisions.model.publish", version, after={
            "model_id": version.model_id, "new": created, "scores": loaded,
            "pool_run_id": version.scored_pool_run,
        })  # fmt: skip
    return version


def activate_model(version: ModelVersion, *, by) -> None:
    """Make `version` the one active model (audited)."""
    with transaction.atomic():
        before = ModelVersion.objects.filter(active=True).values_list("model_id", flat=True).first()
        ModelVersion.objects.filter(active=True).exclude(pk=version.pk).update(active=False)
        ModelVersion.objects.filter(pk=version.pk).update(active=True, activated_at=timezone.now())
        record(by, "decisions.model.activate", version,
               before={"active": before}, after={"active": version.model_id})  # fmt: skip


def may_activate_model(scope) -> bool:
    """Which scorecard version is active is an HQ admin's choice (the action, its page's
    403 and its button ask this)."""
    return scope.role == Role.HQ_ADMIN


def do_activate_model(actor, version: ModelVersion) -> None:
    """An HQ admin activates a model version from the models page."""
    if not may_activate_model(scope_for(actor)):
        raise PermissionDenied
    activate_model(version, by=actor)
