"""The demo's credit side: a scorecard trained on the demo county, its scores published
and active, and a batch pre-credit of the demo branch (run in the foreground)."""

from __future__ import annotations

from pathlib import Path

from cunxin.decisions.actions import do_start_batch_run

# A county at the demo's scale (0.01) has about 35 defaulted borrowers: fewer than a real
# scorecard needs (100), so the demo trains on what there is and says so.
DEMO_MIN_BADS = 20


def setup_demo_credit(pool_dir: Path, data_dir: Path) -> list[str]:
    """Idempotent; returns what was set up, in lines."""
    from cunxin.credit.modelfile import ModelInputError
    from cunxin.credit.scorecard import train_pool
    from cunxin.credit.scoring import score_pool
    from cunxin.decisions.models import BatchRun, ModelVersion
    from cunxin.decisions.scores import publish_model
    from cunxin.decisions.tallies import RunCounts
    from cunxin.jobs.worker import drain
    from cunxin.org.models import Staff

    lines = []
    if not ModelVersion.objects.filter(active=True).exists():
        out = Path(data_dir) / "model"
        try:
            trained, paths = train_pool(pool_dir, out, min_bads=DEMO_MIN_BADS)
        except ModelInputError as e:
            return [f"no model: {e}"]
        score_pool(pool_dir, paths["model"])
        version = publish_model(pool_dir, paths["model"], by="demo", activate=True)
        m = trained.model["metrics"]["holdout"]
        lines.append(
            f"model {version.model_id} trained on {trained.model['training']['bads']} "
            f"defaulted borrowers only (a real county has thousands): holdout AUC "
            f"{m['auc']:.3f}; report {paths['report']}"
        )
    bm = Staff.objects.filter(user__username="bm").select_related("user").first()
    if bm is not None and not BatchRun.objects.filter(purpose=BatchRun.Purpose.PRECREDIT).exists():
        run = do_start_batch_run(bm.user, BatchRun.Purpose.PRECREDIT, "branch", bm.branch_id)
        drain(beat=True)  # the worker's code, in this process, before the demo serves
        run.refresh_from_db()
        c = RunCounts.of_run(run).total
        lines.append(
            f"batch pre-credit of {run.scope_name}: {c.persons:,} adults, "
            f"{c.granted_households:,} households granted, "
            f"{c.amount_yuan:,} yuan, in {run.timings.get('total', 0)} s ({run.status})"
        )
    return lines
