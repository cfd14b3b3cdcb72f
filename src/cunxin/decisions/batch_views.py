"""Models, batch pre-credit runs (批量授信), what-ifs and 信用村 ratings.

- Models: the scorecard versions with their metrics, training data and grade cut-offs;
  HQ admins activate one. HQ and branch managers read; others 404; a POST by a reader
  who is not an HQ admin is 403.
- Batch runs: the pre-credit runs the user sees — HQ all; other staff the runs covering
  one of their villages (a run of the village, of its branch or of the county) — and a
  form to start one (HQ admins anywhere, branch managers in their branch). A run's page
  shows its progress while it runs (htmx polls a fragment every second), then its
  counts. Figures for the whole run are shown to those who see all of it (HQ, or a run of
  a village, or a branch manager's own branch); others see their villages' figures.
- The white list and a village's batch approval sheet as Excel (`decisions.sheets`):
  in the user's scope, names in full, ID numbers masked, access-logged.
- What-if: an HQ admin runs another policy version over a village, a branch or the
  county and compares it with the policy in force; HQ analysts read the results.
- Ratings: 信用户 and 信用村 per village in scope (`decisions.ratings`).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from cunxin.credit.decide import PolicyError
from cunxin.credit.policy import from_data
from cunxin.decisions import ratings, sheets
from cunxin.decisions.actions import do_rerun_batch_run, do_start_batch_run, may_rerun_batch_run
from cunxin.decisions.explain import yuan_text
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.forms import ActivateModelForm, RunScopeForm, WhatifForm
from cunxin.decisions.models import BatchRun, CreditPolicyVersion, ModelVersion
from cunxin.decisions.policy_actions import FIELD_LABELS, as_percent
from cunxin.decisions.policy_errors import describe
from cunxin.decisions.scores import do_activate_model, may_activate_model
from cunxin.decisions.tallies import GradeTally, RunCounts, Tally, WhatifCounts
from cunxin.jobs import processes
from cunxin.org.fields import error_text
from cunxin.org.models import Branch, Role, Village
from cunxin.org.scope import Scope, staff_view
from cunxin.pool.models import Household, Person

MODEL_READERS = frozenset({Role.HQ_ADMIN, Role.HQ_ANALYST, Role.BRANCH_MANAGER})
RUN_STARTERS = frozenset({Role.HQ_ADMIN, Role.BRANCH_MANAGER})
ACTIVE = (BatchRun.Status.QUEUED, BatchRun.Status.RUNNING)
PROGRESS_TARGET = "batch-progress"  # the id of the element the run page polls
RUNS_PER_PAGE = 25
CHANGES_PER_PAGE = 50
VILLAGES_PER_PAGE = 50
ENGINE_LABELS = {  # the data pool's engines (datapool.engine)
    "duckdb": gettext_lazy("on one machine"),
    "spark": gettext_lazy("on the Spark cluster"),
}
TIMING_LABELS = {
    "load": gettext_lazy("Loading the inputs"),
    "decide": gettext_lazy("Deciding"),
    "write": gettext_lazy("Writing the results"),
    "total": gettext_lazy("Total"),
}


def _n(value) -> str:
    return "—" if value is None else f"{int(value):,}"


def _pk(value) -> int:
    """A queried primary key (the what-if's preselected version); 0 (matches nothing) for
    anything else ("5²" passes `isdigit()` but not `int()`)."""
    ok = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12
    return int(value) if ok else 0


# --- models ------------------------------------------------------------------------------------
def _grades_text(data: dict) -> list[tuple[str, str]]:
    """(label, cut-off) of a scorecard's grades: "≥ 620", the last one "< 560"."""
    grades = data.get("grades") or []
    out = []
    for n, g in enumerate(grades):
        if g.get("min_score") is not None:
            cut = f"≥ {g['min_score']}"
        elif n > 0 and grades[n - 1].get("min_score") is not None:
            cut = f"< {grades[n - 1]['min_score']}"
        else:
            cut = "—"
        out.append((g.get("label") or g.get("grade", ""), cut))
    return out


def _metric(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _when(text: str | None):
    """An ISO time from a model's JSON as an aware datetime (shown in local time), or None."""
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if timezone.is_aware(at) else timezone.make_aware(at, dt.UTC)


def _pool_built(run_id: str):
    """When a pool run was built, from its id ("20261204T183040Z-647809f4": UTC), as an
    aware datetime (shown in local time); None for an id of another shape."""
    try:
        return dt.datetime.strptime(run_id.split("-", 1)[0], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=dt.UTC
        )
    except (ValueError, AttributeError):
        return None


def _model_row(v: ModelVersion) -> dict:
    holdout = (v.metrics or {}).get("holdout") or {}
    train = (v.metrics or {}).get("train") or {}
    ci = holdout.get("auc_ci95") or []
    trained = v.trained_on or {}
    digest = trained.get("raw_inputs_sha256") or ""
    return {
        "v": v,
        "auc": _metric(holdout.get("auc")),
        "auc_ci": f"{ci[0]:.3f}–{ci[1]:.3f}" if len(ci) == 2 else "",
        "ks": _metric(holdout.get("ks")),
        "gini": _metric(holdout.get("gini")),
        "train_auc": _metric(train.get("auc")),
        "holdout_n": _n(holdout.get("n")) if holdout.get("n") else "",
        "scored": _n(v.scored_count),
        "pool_run": trained.get("pool_run_id") or "",
        "pool_started": _when(trained.get("pool_started_at"))
        or _pool_built(trained.get("pool_run_id")),
        "scored_built": _pool_built(v.scored_pool_run),
        "baseline": _metric(v.baseline_auc),
        "engine": str(
            ENGINE_LABELS.get(trained.get("pool_engine"), trained.get("pool_engine") or "")
        ),
        "raw_inputs": trained.get("raw_inputs"),
        "digest": digest[:12],
        "grades": _grades_text(v.data or {}),
    }


@require_http_methods(["GET", "POST"])
@staff_view
def models(request: HttpRequest) -> HttpResponse:
    """Scorecard versions; POST `model` (an HQ admin) makes that version the active one."""
    scope = request.scope
    if scope.role not in MODEL_READERS:
        raise Http404
    form = ActivateModelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        scope.require(may_activate_model(scope))
        if form.is_valid():
            version = form.cleaned_data["model"]
            do_activate_model(request.user, version)
            messages.success(
                request, _("Model %(model)s is now active.") % {"model": version.label}
            )
            return redirect("decisions:models")
    rows = [_model_row(v) for v in ModelVersion.objects.all()]
    return render(request, "decisions/models.html", {
        "rows": rows, "can_activate": may_activate_model(scope), "form": form,
    }, status=400 if form.errors else 200)  # fmt: skip


# --- which runs a user sees ------------------------------------------------------------------
def runs_visible(scope: Scope) -> QuerySet[BatchRun]:
    """HQ: every run. Other staff: the pre-credit runs covering one of their villages."""
    runs = BatchRun.objects.select_related("policy", "model", "started_by__staff")
    if scope.sees_everything:
        return runs
    villages = scope.villages()
    covering = (
        Q(scope_kind=BatchRun.ScopeKind.VILLAGE, scope_code__in=villages.values("code"))
        | Q(scope_kind=BatchRun.ScopeKind.BRANCH, scope_code__in=villages.values("branch_id"))
        | Q(scope_kind=BatchRun.ScopeKind.COUNTY)
    )
    if not villages.exists():
        return runs.none()
    return runs.filter(covering, purpose=BatchRun.Purpose.PRECREDIT)


def runs_needing_attention(runs: QuerySet[BatchRun]) -> QuerySet[BatchRun]:
    """Of `runs`, those that failed or were interrupted and have not been run again with
    success since (same purpose, same village, branch or county): the home page's to-do
    and the list's `?show=attention`. One query."""
    redone = BatchRun.objects.filter(
        purpose=OuterRef("purpose"), scope_kind=OuterRef("scope_kind"),
        scope_code=OuterRef("scope_code"), status=BatchRun.Status.SUCCEEDED,
        created_at__gt=OuterRef("created_at"),
    )  # fmt: skip
    return runs.filter(status__in=(BatchRun.Status.FAILED, BatchRun.Status.INTERRUPTED)).exclude(
        Exists(redone)
    )


def run_or_404(scope: Scope, pk: int) -> BatchRun:
    run = runs_visible(scope).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def _sees_whole_run(scope: Scope, run: BatchRun) -> bool:
    """Whether the user sees every row of the run: HQ; a branch manager, their branch's
    run; whoever sees the whole village (not only some of its grids), a village's run."""
    if scope.sees_everything:
        return True
    if run.scope_kind == BatchRun.ScopeKind.VILLAGE:
        return scope.sees_whole_village(run.scope_code)
    return (
        scope.role == Role.BRANCH_MANAGER
        and run.scope_kind == BatchRun.ScopeKind.BRANCH
        and run.scope_code == scope.branch_id
    )


def _visible_villages(scope: Scope, codes) -> dict[str, Village]:
    """Of the villages `codes`, those the user sees, wholly or some of their grids (code →
    village). One query."""
    qs = Village.objects.all() if scope.sees_everything else scope.villages()
    return {v.code: v for v in qs.filter(code__in=list(codes)).select_related("branch")}


def _partly_seen(scope: Scope, codes) -> set[str]:
    """Of the visible villages `codes`, those the user sees only some grids of (a CM
    assigned grids, not the village): their figures are counted over the user's rows."""
    if scope.role != Role.CUSTOMER_MANAGER:
        return set()
    return {code for code in codes if not scope.sees_whole_village(code)}


# --- starting runs -----------------------------------------------------------------------------
def _scope_choices(scope: Scope, *, county: bool) -> dict:
    """What the start forms offer the user: villages, branches, the county."""
    if scope.role == Role.HQ_ADMIN:
        villages = Village.objects.filter(retired_at__isnull=True)
        branches = Branch.objects.all()
    else:
        villages = scope.villages()
        branches = Branch.objects.filter(code=scope.branch_id or "")
    return {
        "villages": villages.order_by("code"), "branches": branches,
        "county": county and scope.role == Role.HQ_ADMIN,
    }  # fmt: skip


def _check_in_scope(scope: Scope, kind: str, code: str) -> None:
    """Outside HQ, a village or branch the user does not see is as unknown as one that
    does not exist (its existence is not confirmed)."""
    if scope.role == Role.HQ_ADMIN:
        return
    known = (
        (kind == BatchRun.ScopeKind.VILLAGE and scope.villages().filter(code=code).exists())
        or (kind == BatchRun.ScopeKind.BRANCH and code == scope.branch_id)
        or kind == BatchRun.ScopeKind.COUNTY
    )
    if not known:
        raise ValidationError(_("No such village or branch."))


@require_http_methods(["GET", "POST"])
@staff_view
def batches(request: HttpRequest) -> HttpResponse:
    """The pre-credit runs the user sees, newest first; POST starts one (`kind`: village,
    branch or county; `village` or `branch`: its code) and shows its page."""
    scope = request.scope
    can_start = scope.role in RUN_STARTERS
    error = ""
    if request.method == "POST":
        scope.require(can_start)
        form = RunScopeForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(error_text(form))
            kind, code = form.scope_code()
            _check_in_scope(scope, kind, code)
            run = do_start_batch_run(request.user, BatchRun.Purpose.PRECREDIT, kind, code)
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            return redirect("decisions:batch", pk=run.pk)
    runs = runs_visible(scope).filter(purpose=BatchRun.Purpose.PRECREDIT)
    attention = request.GET.get("show") == "attention"
    if attention:
        runs = runs_needing_attention(runs)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "decisions/batches.html", {
        "page": page, "can_start": can_start, "error": error, "attention": attention,
        "query": "show=attention&" if attention else "",
        "posted": request.POST if error else {}, **_scope_choices(scope, county=True),
    }, status=400 if error else 200)  # fmt: skip


# --- a run's page --------------------------------------------------------------------------------
def _labels(data: dict | None, part: str) -> dict[str, str]:
    return sheets.rule_labels(data, part)


def _grade_order(data: dict | None, *counts: RunCounts) -> list[str]:
    """The policy's grade names best first, then any other grade the counts name."""
    order = [g["name"] for g in (data or {}).get("grades", [])]
    for c in counts:
        order += [g for g in c.by_grade if g not in order]
    return order


def _count_rows(c: Tally) -> list[tuple[str, str, int, str]]:
    """(key, label, value, text) of a run's headline counts."""
    rows = [
        ("persons", _("Persons decided"), c.persons),
        ("households", _("Households"), c.households),
        ("granted_persons", _("Persons granted"), c.granted_persons),
        ("granted_households", _("Households granted"), c.granted_households),
        ("amount_yuan", _("Total amount"), c.amount_yuan),
        ("average_per_household_yuan", _("Average per household granted"),
         c.average_per_household_yuan),
        ("credit_households", _("Credit households (信用户)"), c.credit_households),
    ]  # fmt: skip
    if c.persons_without_household:
        # decided one by one; not a household, so not in the households counted above
        rows.append(("persons_without_household", _("Persons without a household"),
                     c.persons_without_household))  # fmt: skip
    return [
        (key, label, value, yuan_text(value) if key.endswith("_yuan") else _n(value))
        for key, label, value in rows
    ]


def _precredit_context(scope: Scope, run: BatchRun) -> dict:
    counts = RunCounts.of_run(run)
    visible = _visible_villages(scope, counts.villages)
    whole = _sees_whole_run(scope, run)
    partly = _partly_seen(scope, visible) if run.status == BatchRun.Status.SUCCEEDED else set()
    by_village = {
        code: sheets.tally_in_scope(run, scope, code) if code in partly else v
        for code, v in counts.villages.items()
        if code in visible
    }  # fmt: skip
    shown = counts.total if whole else sum(by_village.values(), Tally())
    stops = _labels(run.policy.data, "hard_stops")
    routes = _labels(run.policy.data, "routes")
    village_rows = [
        {
            "code": code, "name": visible[code].name, "persons": _n(v.persons),
            "households": _n(v.households), "granted_households": _n(v.granted_households),
            "amount": _n(v.amount_yuan), "amount_yuan": v.amount_yuan,
            "credit_households": _n(v.credit_households), "partly": code in partly,
        }
        for code, v in by_village.items()
    ]  # fmt: skip
    return {
        "whole": whole, "partly": bool(partly),
        "counts": _count_rows(shown) if run.status == BatchRun.Status.SUCCEEDED else [],
        "by_grade": [
            (g, _n(counts.by_grade[g].persons), _n(counts.by_grade[g].amount_yuan))
            for g in _grade_order(run.policy.data, counts) if g in counts.by_grade
        ] if whole else [],
        "stops": [(sid, stops.get(sid, sid), _n(n)) for sid, n in counts.hard_stops.items()] if whole else [],
        "routes": [(rid, routes.get(rid, rid), _n(n)) for rid, n in counts.routes.items()] if whole else [],
        "village_rows": village_rows,
    }  # fmt: skip


def _side_by_side(before: Tally, after: Tally) -> list[tuple[str, str, str, str, bool]]:
    """(key, label, before, after, changed) of a what-if's headline counts."""
    after_rows = {key: (value, text) for key, _label, value, text in _count_rows(after)}
    return [
        (key, label, text, after_rows[key][1], value != after_rows[key][0])
        for key, label, value, text in _count_rows(before)
        if key not in ("persons", "households", "persons_without_household") and key in after_rows
    ]


def _whatif_context(request: HttpRequest, run: BatchRun) -> dict:
    result = WhatifCounts.of_run(run)
    before, after = result.before, result.after
    grades = _grade_order(run.policy.data, before, after)
    grades += [g for g in _grade_order(run.draft) if g not in grades]
    zero = GradeTally()
    grade_rows = [
        (g, _n(before.by_grade.get(g, zero).persons), _n(before.by_grade.get(g, zero).amount_yuan),
         _n(after.by_grade.get(g, zero).persons), _n(after.by_grade.get(g, zero).amount_yuan))
        for g in grades if g in before.by_grade or g in after.by_grade
    ]  # fmt: skip
    stop_labels = {**_labels(run.policy.data, "hard_stops"), **_labels(run.draft, "hard_stops")}
    sb, sa = before.hard_stops, after.hard_stops
    stop_rows = [
        (sid, stop_labels.get(sid, sid), _n(sb.get(sid, 0)), _n(sa.get(sid, 0)))
        for sid in [*sb, *(s for s in sa if s not in sb)]
    ]
    names = dict(
        Village.objects.filter(code__in=list(before.villages)).values_list("code", "name")
    )  # fmt: skip
    village_rows = [
        {
            "code": code, "name": names.get(code, code),
            "before_households": _n(v.granted_households), "before_amount": _n(v.amount_yuan),
            "after_households": _n(after.villages.get(code, Tally()).granted_households),
            "after_amount": _n(after.villages.get(code, Tally()).amount_yuan),
            "changed": v != after.villages.get(code, Tally()),
        }
        for code, v in before.villages.items()
    ]  # fmt: skip
    page = Paginator(result.changes, CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    uids = [c.person for c in page.object_list]
    persons = dict(Person.objects.filter(uid__in=uids).values_list("uid", "name"))
    households = dict(
        Household.objects.filter(uid__in={c.household for c in page.object_list})
        .values_list("uid", "household_no")
    )  # fmt: skip
    change_rows = [
        {
            "person": c.person, "village": names.get(c.village, c.village),
            "household": households.get(c.household, ""), "name": persons.get(c.person, ""),
            "before_grade": c.before.grade, "after_grade": c.after.grade,
            "before_amount": _n(c.before.final_yuan), "after_amount": _n(c.after.final_yuan),
            "after_stops": "；".join(stop_labels.get(s, s) for s in c.after.hard_stops),
        }
        for c in page.object_list
    ]  # fmt: skip
    return {
        "side_by_side": _side_by_side(before.total, after.total),
        "grade_rows": grade_rows, "stop_rows": stop_rows, "village_rows": village_rows,
        "changes_page": page, "change_rows": change_rows,
        "changed_persons": result.changed_persons,
        "changed_households": result.changed_households,
        "not_listed": max(0, result.changed_persons - len(result.changes)),
        "draft_version": (run.draft or {}).get("version", ""),
    }  # fmt: skip


def _timing_rows(run: BatchRun) -> list[tuple[str, str]]:
    return [
        (str(TIMING_LABELS.get(key, key)), f"{seconds:.2f}")
        for key, seconds in (run.timings or {}).items()
    ]


def _progress_context(run: BatchRun) -> dict:
    percent = int(run.done * 100 / run.total) if run.total else 0
    active = run.status in ACTIVE
    return {"run": run, "percent": min(percent, 100), "active": active,
            "target": PROGRESS_TARGET,
            "no_worker": active and not processes.live_workers()}  # fmt: skip


@require_GET
@staff_view
def run_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A run: status and progress (the progress fragment for htmx's polling, which a
    finished run ends by reloading the page), then its results and downloads."""
    scope = request.scope
    run = run_or_404(scope, pk)
    if request.htmx and request.htmx.target == PROGRESS_TARGET:
        if run.status in ACTIVE:
            return render(request, "decisions/batch_progress.html", _progress_context(run))
        return HttpResponseClientRefresh()  # finished: the full page shows the results
    context = {
        **_progress_context(run), "timings": _timing_rows(run),
        "is_whatif": run.purpose == BatchRun.Purpose.WHATIF,
        "succeeded": run.status == BatchRun.Status.SUCCEEDED,
        "failed": run.status in (BatchRun.Status.FAILED, BatchRun.Status.INTERRUPTED),
        "can_rerun": may_rerun_batch_run(request.user, run),
    }  # fmt: skip
    if run.status == BatchRun.Status.SUCCEEDED:
        if run.purpose == BatchRun.Purpose.WHATIF:
            context.update(_whatif_context(request, run))
        else:
            context.update(_precredit_context(scope, run))
    return render(request, "decisions/batch.html", context)


@require_POST
@staff_view
def rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed or interrupted run again (who may start it)."""
    run = run_or_404(request.scope, pk)
    try:
        do_rerun_batch_run(request.user, run)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The run is queued again."))
    return redirect("decisions:batch", pk=run.pk)


# --- the Excel files ---------------------------------------------------------------------------
def _finished_precredit_or_404(scope: Scope, pk: int) -> BatchRun:
    run = run_or_404(scope, pk)
    if run.purpose != BatchRun.Purpose.PRECREDIT or run.status != BatchRun.Status.SUCCEEDED:
        raise Http404
    return run


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=sheets.XLSX_TYPE)
    # no personal data in the name: the run and the village by code
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
@staff_view
def whitelist(request: HttpRequest, pk: int) -> HttpResponse:
    """白名单 of a run: everyone granted, in the user's scope, masked; access-logged."""
    scope = request.scope
    run = _finished_precredit_or_404(scope, pk)
    content, rows = sheets.whitelist(run, scope)
    sheets.log_export(request.user, run, rows)
    return _xlsx(content, _("White list of run %(run)s") % {"run": run.pk} + ".xlsx")


@require_GET
@staff_view
def approval_sheet(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """批量审批表 of one village of a run (a village the user sees and the run decided)."""
    scope = request.scope
    run = _finished_precredit_or_404(scope, pk)
    village = _visible_villages(scope, [code]).get(code)
    if village is None or code not in RunCounts.of_run(run).villages:
        raise Http404
    content, rows = sheets.approval_sheet(run, village, scope)
    sheets.log_export(request.user, run, rows, village=village)
    return _xlsx(content, _("Batch approval sheet of run %(run)s, %(village)s") % {
        "run": run.pk, "village": village.name,
    } + ".xlsx")  # fmt: skip


# --- what-if -----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_view
def whatif(request: HttpRequest) -> HttpResponse:
    """What-if runs (HQ); POST (an HQ admin): `policy` (a version's pk) as the draft over
    `kind` and `village` / `branch`, compared with the policy in force."""
    scope = request.scope
    if not scope.sees_everything:
        raise Http404
    can_start = scope.role == Role.HQ_ADMIN
    error = ""
    chosen = _pk(request.POST.get("policy") if request.method == "POST" else request.GET.get("policy"))  # fmt: skip
    if request.method == "POST":
        scope.require(can_start)
        form = WhatifForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(error_text(form))
            kind, code = form.scope_code()
            version = form.cleaned_data["policy"]
            draft = from_data(version.data)
            run = do_start_batch_run(request.user, BatchRun.Purpose.WHATIF, kind, code, draft=draft)
        except ValidationError as e:
            error = " ".join(e.messages)
        except PolicyError as e:
            error = _("This policy version does not compile: %(error)s") % {"error": describe(e)}
            error += " " + _("The compiler says: %(detail)s") % {"detail": e.detail}
        else:
            return redirect("decisions:batch", pk=run.pk)
    in_force = credit_policy_in_force()
    runs = BatchRun.objects.filter(purpose=BatchRun.Purpose.WHATIF).select_related(
        "policy", "started_by__staff"
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "decisions/whatif.html", {
        "page": page, "can_start": can_start, "error": error,
        "versions": CreditPolicyVersion.objects.all(), "in_force": in_force,
        "chosen": chosen or in_force.pk, "posted": request.POST if error else {},
        **_scope_choices(scope, county=True),
    }, status=400 if error else 200)  # fmt: skip


# --- ratings -----------------------------------------------------------------------------------
@require_GET
@staff_view
def ratings_page(request: HttpRequest) -> HttpResponse:
    """信用户 and 信用村 per village in scope, against the policy in force."""
    scope = request.scope
    version = credit_policy_in_force()
    policy = from_data(version.data).credit_village
    villages = scope.villages().select_related("branch").order_by("code")
    page = Paginator(villages, VILLAGES_PER_PAGE).get_page(request.GET.get("page"))
    rows = ratings.village_ratings(page.object_list, policy)
    return render(request, "decisions/ratings.html", {
        "page": page, "version": version,
        "rows": [_rating_row(r) for r in rows],
        "thresholds": [(str(FIELD_LABELS[name]), as_percent(getattr(policy, name)))
                       for name in ratings.CRITERIA],
    })  # fmt: skip


def _rating_row(r: ratings.VillageRating) -> dict:
    return {
        "r": r,
        "finished_at": r.run.finished_at if r.run else None,
        "credit_share": ratings.percent(r.credit_household_share),
        "clean_share": ratings.percent(r.without_arrears_share),
        "npl": ratings.percent(r.npl_ratio),
        "criteria": [
            (c.name, str(FIELD_LABELS[c.name]), as_percent(c.threshold),
             ratings.percent(c.value), c.met)
            for c in r.criteria
        ],
    }  # fmt: skip


urls = [
    path("models/", models, name="models"),
    path("batches/", batches, name="batches"),
    path("batches/<int:pk>/", run_page, name="batch"),
    path("batches/<int:pk>/rerun/", rerun, name="batch_rerun"),
    path("batches/<int:pk>/whitelist.xlsx", whitelist, name="batch_whitelist"),
    path("batches/<int:pk>/villages/<str:code>/approval.xlsx", approval_sheet, name="batch_sheet"),
    path("whatif/", whatif, name="whatif"),
    path("ratings/", ratings_page, name="ratings"),
]
