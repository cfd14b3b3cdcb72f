"""数据发布记录: the publish runs (HQ), and — for HQ admins — publishing the configured pool
folder (settings.CUNXIN_POOL_DIR) or a failed or interrupted publish again, as tasks for
`cunxin worker`. A running publish shows its step; the page says when no worker runs."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cunxin.datapool.errors import PoolInputError
from cunxin.jobs import processes
from cunxin.org.scope import Scope, staff_view
from cunxin.pool import actions
from cunxin.pool.actions import may_publish
from cunxin.pool.models import PublishRun

TABLE_LABELS = {
    "org_village": gettext_lazy("Villages"),
    "org_villagegroup": gettext_lazy("Village groups"),
    "org_grid": gettext_lazy("Grids"),
    "pool_household": gettext_lazy("Households"),
    "pool_person": gettext_lazy("Persons"),
    "pool_riskflag": gettext_lazy("Risk list records"),
}


def _run_or_404(scope: Scope, pk: int) -> PublishRun:
    if not scope.sees_everything:
        raise Http404
    run = PublishRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def _row(run: PublishRun) -> dict:
    counts = [(str(TABLE_LABELS.get(name, name)), c) for name, c in (run.counts or {}).items()]
    return {"run": run, "counts": counts, "step": str(TABLE_LABELS.get(run.step, run.step))}


@require_GET
@staff_view
def publish_runs(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    if not scope.sees_everything:
        raise Http404
    runs = list(PublishRun.objects.all()[:50])
    return render(request, "pool/publish_runs.html", {
        "rows": [_row(r) for r in runs], "can_publish": may_publish(scope),
        "pool_dir": settings.CUNXIN_POOL_DIR, "workers": processes.live_workers(),
        "active": any(r.is_active for r in runs),
    })  # fmt: skip


@require_POST
@staff_view
def publish_start(request: HttpRequest) -> HttpResponse:
    """Queue a publish of the configured pool folder (an HQ admin)."""
    scope = request.scope
    if not scope.sees_everything:
        raise Http404
    scope.require(may_publish(scope))
    if not settings.CUNXIN_POOL_DIR:
        messages.error(request, _("No pool folder is configured (CUNXIN_POOL_DIR): publish with the command line."))  # fmt: skip
        return redirect("pool:publish_runs")
    try:
        actions.do_queue_publish(
            settings.CUNXIN_POOL_DIR, by=request.user.username, actor=request.user
        )
    except PoolInputError:
        messages.error(request, _("The configured pool folder does not hold a built pool: build it first."))  # fmt: skip
    else:
        messages.success(request, _("The publish is queued: the background worker runs it."))
    return redirect("pool:publish_runs")


@require_POST
@staff_view
def publish_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed or interrupted publish again (an HQ admin)."""
    scope = request.scope
    run = _run_or_404(scope, pk)
    scope.require(may_publish(scope))
    try:
        actions.do_publish_again(request.user, run)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The publish is queued again."))
    return redirect("pool:publish_runs")
