"""The bank's side of evaluation: projects of the villages in scope, their panels and
rounds, and — once a round is closed — its verdicts, the panel's agreement and the
reviewers who stand out, with the evidence. While a round is open staff see progress
counts only, never what a review says."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cunxin.evaluation import actions
from cunxin.evaluation.aggregate import Review as RuleReview
from cunxin.evaluation.forms import (
    AddPanelMemberForm,
    ChangeVerdictForm,
    OpenRoundForm,
    RemovePanelMemberForm,
    StartProjectForm,
)
from cunxin.evaluation.models import PanelMember, PanelRole, Project, ReviewStatus, Round, RoundKind
from cunxin.evaluation.policy_actions import can_move_project_policy
from cunxin.evaluation.reliability import alpha, flag_reviewers
from cunxin.org.fields import refuse
from cunxin.org.models import Role, Staff
from cunxin.org.scope import staff_view


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
    return render(request, "evaluation/projects.html", {
        "projects": rows, "form": form,
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


@require_GET
@staff_view
def round_results(request: HttpRequest, pk: int) -> HttpResponse:
    """A closed round: verdicts by colour, Krippendorff's alpha, flagged reviewers with
    their evidence (404 while the round is open: back to back)."""
    scope = request.scope
    try:
        rnd = Round.objects.select_related("project__village").get(
            pk=pk, project__village__in=scope.villages(), closed_at__isnull=False
        )
    except Round.DoesNotExist:
        raise Http404 from None
    verdicts = rnd.verdicts.select_related("person").order_by("color", "person__name")
    submitted = list(rnd.reviews.filter(status=ReviewStatus.SUBMITTED))
    rule_reviews = [
        RuleReview(
            str(r.reviewer_id),
            r.person_id,
            bool(r.knows_household),
            frozenset(r.negative_items),
            r.graded,
            r.amount_yuan,
        )
        for r in submitted
    ]
    names = {str(m.pk): m.staff.display_name for m in PanelMember.objects.filter(project=rnd.project).select_related("staff")}  # fmt: skip
    flags = [(names.get(f.reviewer, f.reviewer), f) for f in flag_reviewers(rule_reviews)]
    return render(request, "evaluation/round.html", {
        "round": rnd, "verdicts": verdicts, "colors": Counter(v.color for v in verdicts),
        "alpha_amount": alpha(rule_reviews), "alpha_negative": alpha(rule_reviews, "nominal"),
        "flags": flags,
    })  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def rereview(request: HttpRequest, pk: int) -> HttpResponse:
    """复评: the first round's verdicts (grey, black and too-few-reviews first) with the
    customer manager's changes; POST changes one person's verdict, with a reason."""
    scope = request.scope
    try:
        rnd = Round.objects.select_related("project__village", "project__policy").get(
            pk=pk, kind=RoundKind.RE_REVIEW, project__village__in=scope.villages()
        )
    except Round.DoesNotExist:
        raise Http404 from None
    cap = actions.policy_of(rnd.project.policy).amount_cap_yuan
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
    order = {"black": 0, "grey": 1, "insufficient": 2, "white": 3}
    verdicts = sorted(
        first.verdicts.select_related("person"),
        key=lambda v: (order.get(v.color, 9), v.person.household_id or "", v.person.member_index),
    )
    changes = {c.person_id: c for c in rnd.changes.select_related("by")}
    typed_for = form.data.get("person") if form is not None else None
    rows = [(v, changes.get(v.person_id), form if v.person_id == typed_for else None)
            for v in verdicts]  # fmt: skip
    shown = any(typed is not None for _v, _c, typed in rows)
    return render(request, "evaluation/rereview.html", {
        "round": rnd, "rows": rows, "colors": actions.VERDICT_COLORS,
        "unplaced": form if form is not None and not shown else None,
        "cap": cap, "can_change": can_change,
    }, status=400 if form is not None and form.errors else 200)  # fmt: skip
