"""The bank's side of evaluation: projects of the villages in scope, their panels and
rounds, and — once a round is closed — its verdicts, the panel's agreement and the
reviewers who stand out, with the evidence. While a round is open staff see progress
counts only, never what a review says."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cunxin.evaluation import actions, results
from cunxin.evaluation.aggregate import Review as RuleReview
from cunxin.evaluation.fetch import projects_with_rounds_to_act
from cunxin.evaluation.forms import (
    AddPanelMemberForm,
    ChangeVerdictForm,
    OpenRoundForm,
    RemovePanelMemberForm,
    StartProjectForm,
)
from cunxin.evaluation.labels import verdict_label
from cunxin.evaluation.models import PanelMember, PanelRole, Project, ReviewStatus, Round, RoundKind
from cunxin.evaluation.policy_actions import can_move_project_policy
from cunxin.evaluation.reliability import alpha, flag_reviewers
from cunxin.evaluation.versions import evaluation_policy
from cunxin.org.fields import refuse
from cunxin.org.models import Role, Staff
from cunxin.org.scope import staff_view

RESULTS_PER_PAGE = 30
# reliability.ReviewerFlag.kind, in words
FLAG_KINDS = {
    "inflates": gettext_lazy("suggests higher amounts than the peers"),
    "deflates": gettext_lazy("suggests lower amounts than the peers"),
    "favours_related": gettext_lazy("favours related households"),
}


def project_or_404(scope, pk: int) -> Project:
    try:
        return Project.objects.select_related("village", "policy", "responsible").get(
            pk=pk, village__in=scope.villages()
        )
    except Project.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@staff_view
def projects(request: HttpRequest) -> HttpResponse:
    """Projects of the villages in scope; POST starts one (branch manager, HQ admin)."""
    scope = request.scope
    can_start = actions.may_start_project(scope)
    form = StartProjectForm(scope=scope)
    if request.method == "POST":
        scope.require(can_start)
        form = StartProjectForm(request.POST, scope=scope)
        if form.is_valid():
            try:
                project = actions.do_start_project(
                    request.user, form.cleaned_data["village"], form.cleaned_data["responsible"]
                )
            except ValidationError as e:
                refuse(form, e)
            else:
                return redirect("evaluation:project", pk=project.pk)
    rows = Project.objects.filter(village__in=scope.villages()).select_related(
        "village", "responsible"
    )
    rounds_to_act = request.GET.get("show") == "rounds"
    if rounds_to_act:  # the home page's to-do
        rows = projects_with_rounds_to_act(scope.villages()).select_related(
            "village", "responsible"
        )
    return render(request, "evaluation/projects.html", {
        "projects": rows, "form": form, "rounds_to_act": rounds_to_act,
        "villages": scope.villages().exclude(projects__closed_at__isnull=True, projects__isnull=False),
        "managers": scope.staff_members().filter(role=Role.CUSTOMER_MANAGER),
        "can_start": can_start,
    }, status=400 if form.errors else 200)  # fmt: skip


def _project_page(request: HttpRequest, proj: Project, **forms) -> HttpResponse:
    """A project's panel and rounds, with the forms of its actions: those given (bound
    and refused: 400) or empty ones."""
    scope = request.scope
    panel = proj.panel.select_related("staff").order_by("removed_at", "joined_at")
    rounds = []
    for rnd in proj.rounds.all():
        progress = Counter(rnd.reviews.values_list("status", flat=True))
        rounds.append(
            (rnd, progress.get(ReviewStatus.SUBMITTED, 0), progress.get(ReviewStatus.DRAFT, 0))
        )
    candidates = Staff.objects.filter(role=Role.EVALUATOR, village=proj.village).exclude(
        pk__in=proj.panel.filter(removed_at__isnull=True).values("staff")
    )
    refused = any(f.errors for f in forms.values())
    remove_form = forms.get("remove")
    return render(request, "evaluation/project.html", {
        "project": proj, "panel": panel, "rounds": rounds,
        "add_form": forms.get("add") or AddPanelMemberForm(project=proj),
        "open_form": forms.get("open") or OpenRoundForm(),
        "remove_form": remove_form, "removing": getattr(remove_form, "member_pk", None),
        "round_error": forms.get("close"),
        "candidates": candidates, "roles": PanelRole.choices, "kinds": [(k, label) for k, label in RoundKind.choices if k not in {r.kind for r, *_ in rounds}],
        "can_manage": actions.may_manage_project(scope, proj),
        "round_open": any(rnd.is_open for rnd, *_counts in rounds),
        "can_move_policy": can_move_project_policy(request.user, proj),
        "can_sign_off": actions.may_sign_off(scope, proj),
        "visit_tasks": proj.visit_tasks.count(),
    }, status=400 if refused else 200)  # fmt: skip


@require_GET
@staff_view
def project(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's panel and rounds; each action has its own URL (below)."""
    return _project_page(request, project_or_404(request.scope, pk))


def _managed_project_or_404(request: HttpRequest, pk: int) -> Project:
    """The project in scope (404 otherwise) that the user may manage (403)."""
    proj = project_or_404(request.scope, pk)
    request.scope.require(actions.may_manage_project(request.scope, proj))
    return proj


def _saved(request: HttpRequest, proj: Project, message: str | None = None) -> HttpResponse:
    messages.success(request, message or _("Saved."))
    return redirect("evaluation:project", pk=proj.pk)


@require_POST
@staff_view
def panel_add(request: HttpRequest, pk: int) -> HttpResponse:
    """An evaluator of the village joins the panel (`staff`, `role`, `alternate`)."""
    proj = _managed_project_or_404(request, pk)
    form = AddPanelMemberForm(request.POST, project=proj)
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.do_add_panel_member(
                request.user, proj, d["staff"], d["role"], alternate=d["alternate"]
            )
        except ValidationError as e:
            refuse(form, e, "staff")
        else:
            return _saved(request, proj)
    return _project_page(request, proj, add=form)


@require_POST
@staff_view
def panel_remove(request: HttpRequest, pk: int, member: int) -> HttpResponse:
    """A panel member leaves (`reason`); their unfinished reviews are voided."""
    proj = _managed_project_or_404(request, pk)
    seat = proj.panel.filter(pk=member).first()
    if seat is None:
        raise Http404
    form = RemovePanelMemberForm(request.POST)
    form.member_pk = seat.pk  # the row whose form shows the refusal
    if form.is_valid():
        try:
            voided = actions.do_remove_panel_member(request.user, seat, form.cleaned_data["reason"])
        except ValidationError as e:
            refuse(form, e, "reason")
        else:
            if voided:
                messages.info(request, _("%(n)s unfinished reviews were voided.") % {"n": voided})
            return _saved(request, proj)
    return _project_page(request, proj, remove=form)


@require_POST
@staff_view
def round_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A round of the project opens (`kind`: first, re_review, sign_off)."""
    proj = _managed_project_or_404(request, pk)
    form = OpenRoundForm(request.POST)
    if form.is_valid():
        try:
            actions.do_open_round(request.user, proj, form.cleaned_data["kind"])
        except ValidationError as e:
            refuse(form, e, "kind")
        else:
            return _saved(request, proj)
    return _project_page(request, proj, open=form)


@require_POST
@staff_view
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The round closes: verdicts, the QA draw, and at sign-off the visit tasks (a branch
    manager or an HQ admin only)."""
    scope = request.scope
    try:
        rnd = Round.objects.select_related("project__village", "project__policy", "project__responsible").get(
            pk=pk, project__village__in=scope.villages()
        )  # fmt: skip
    except Round.DoesNotExist:
        raise Http404 from None
    proj = rnd.project
    allowed = (
        actions.may_sign_off(scope, proj)
        if rnd.kind == RoundKind.SIGN_OFF
        else actions.may_manage_project(scope, proj)
    )
    scope.require(allowed)
    form = forms.Form(request.POST)  # nothing to fill in; the refusal goes on it
    try:
        actions.do_close_round(request.user, rnd)
    except ValidationError as e:
        form.is_valid()
        refuse(form, e)
        return _project_page(request, proj, close=form)
    return _saved(request, proj)


@require_http_methods(["GET", "POST"])
@staff_view
def round_results(request: HttpRequest, pk: int) -> HttpResponse:
    """A closed round: its verdicts of the persons in the user's scope, with their reasons,
    by colour, group and name (POST: the filters and the page travel in the body, names
    never in the URL; htmx gets the list fragment), the panel's agreement
    (Krippendorff's alpha) and the reviewers who stand out, with the evidence that the
    user may see (404 while the round is open: back to back)."""
    scope = request.scope
    try:
        rnd = Round.objects.select_related("project__village", "project__policy").get(
            pk=pk, project__village__in=scope.villages(), closed_at__isnull=False
        )
    except Round.DoesNotExist:
        raise Http404 from None
    policy = evaluation_policy(rnd.project.policy)
    visible = results.visible_verdicts(scope, rnd)
    form = results.FilterForm(request.POST if request.method == "POST" else None, groups=results.groups_of(visible))  # fmt: skip
    filters = form.filters()
    page = Paginator(results.apply_filters(visible, filters), RESULTS_PER_PAGE).get_page(
        form.page_number()
    )
    rows = list(page.object_list)
    reasons = results.explain(rows, policy)
    context = {
        "round": rnd, "page": page, "form": form, "filters": filters,
        "rows": [{
            "verdict": v, "reasons": reasons.get(v.pk, []),
            "amount": "" if v.amount_yuan is None else _("%(amount)s yuan") % {"amount": f"{v.amount_yuan:,}"},
        } for v in rows],
    }  # fmt: skip
    if request.htmx:
        return render(request, "evaluation/_verdicts.html", context)
    flags = _reviewer_flags(scope, rnd)
    return render(request, "evaluation/round.html", {
        **context, "colors": results.color_counts(visible),
        "color_choices": [(c, verdict_label(c)) for c in results.COLOR_ORDER],
        "whole_village": scope.sees_whole_village(rnd.project.village_id),
        "alpha_amount": flags["alpha_amount"], "alpha_negative": flags["alpha_negative"],
        "flags": flags["flags"],
    })  # fmt: skip


def _reviewer_flags(scope, rnd: Round) -> dict:
    """Krippendorff's alpha over every submitted review of the first round (the panel's
    agreement, no person named: a re-review or sign-off carries the first round's
    verdicts, so its agreement is the first round's) and the flagged reviewers; a flag's
    evidence lists the persons the user sees, by name, and counts the others."""
    reviewed = rnd if rnd.kind == RoundKind.FIRST else rnd.project.rounds.filter(kind=RoundKind.FIRST).first()  # fmt: skip
    submitted = list(reviewed.reviews.filter(status=ReviewStatus.SUBMITTED)) if reviewed else []
    rule_reviews = [
        RuleReview(
            str(r.reviewer_id), r.person_id, bool(r.knows_household),
            frozenset(r.negative_items), r.graded, r.amount_yuan,
        )
        for r in submitted
    ]  # fmt: skip
    names = {str(m.pk): m.staff.display_name for m in PanelMember.objects.filter(project=rnd.project).select_related("staff")}  # fmt: skip
    found = flag_reviewers(rule_reviews)
    uids = {uid for f in found for uid, _own, _median in f.evidence}
    persons = {p.uid: p for p in scope.persons().filter(uid__in=uids).only("uid", "name")}
    flags = []
    for f in found:
        shown = [(persons[uid], own, median) for uid, own, median in f.evidence if uid in persons]
        flags.append({
            "name": names.get(f.reviewer, f.reviewer), "flag": f, "evidence": shown,
            "hidden": len(f.evidence) - len(shown), "kind": FLAG_KINDS.get(f.kind, f.kind),
            "deviation": f"{f.mean_relative_deviation:+.0%}",
        })  # fmt: skip
    return {
        "alpha_amount": alpha(rule_reviews),
        "alpha_negative": alpha(rule_reviews, "nominal"),
        "flags": flags,
    }


@require_http_methods(["GET", "POST"])
@staff_view
def rereview(request: HttpRequest, pk: int) -> HttpResponse:
    """复评: the first round's verdicts of the persons in the user's scope (black, grey and
    too-few-reviews first, with their reasons, a page at a time: ?page=) with the customer
    manager's changes; POST changes one person's verdict, with a reason."""
    scope = request.scope
    try:
        rnd = Round.objects.select_related("project__village", "project__policy").get(
            pk=pk, kind=RoundKind.RE_REVIEW, project__village__in=scope.villages()
        )
    except Round.DoesNotExist:
        raise Http404 from None
    cap = evaluation_policy(rnd.project.policy).amount_cap_yuan
    can_change = actions.may_manage_project(scope, rnd.project)
    form = None
    if request.method == "POST":
        scope.require(can_change)
        form = ChangeVerdictForm(request.POST, round=rnd, cap_yuan=cap)
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.do_change_verdict(
                    request.user, rnd, d["person"], color=d["color"], amount_yuan=d["amount"],
                    reason=d["reason"],
                )  # fmt: skip
            except ValidationError as e:
                refuse(form, e)
            else:
                messages.success(request, _("Saved."))
                return redirect("evaluation:rereview", pk=rnd.pk)
    first = rnd.project.rounds.get(kind=RoundKind.FIRST)
    policy = evaluation_policy(rnd.project.policy)
    # the first round's verdicts of the persons in scope, grey, black and too few first
    page = Paginator(results.visible_verdicts(scope, first), RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    verdicts = list(page.object_list)
    reasons = results.explain(verdicts, policy)
    changes = {
        c.person_id: c
        for c in rnd.changes.filter(person_id__in=[v.person_id for v in verdicts]).select_related("by")
    }  # fmt: skip
    typed_for = form.data.get("person") if form is not None else None
    rows = [
        (v, changes.get(v.person_id), reasons.get(v.pk, []),
         form if v.person_id == typed_for else None)
        for v in verdicts
    ]  # fmt: skip
    shown = any(typed is not None for *_rest, typed in rows)
    return render(request, "evaluation/rereview.html", {
        "round": rnd, "rows": rows, "page": page, "colors": actions.VERDICT_COLORS,
        "unplaced": form if form is not None and not shown else None,
        "cap": cap, "can_change": can_change,
        "whole_village": scope.sees_whole_village(rnd.project.village_id),
    }, status=400 if form is not None and form.errors else 200)  # fmt: skip
