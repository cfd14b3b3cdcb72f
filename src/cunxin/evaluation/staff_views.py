"""The bank's side of evaluation: projects of the villages in scope, their panels and
rounds, and — once a round is closed — its verdicts, the panel's agreement and the
reviewers who stand out, with the evidence. While a round is open staff see progress
counts only, never what a review says."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cunxin.evaluation import actions
from cunxin.evaluation.aggregate import Review as RuleReview
from cunxin.evaluation.fetch import projects_with_rounds_to_act
from cunxin.evaluation.models import PanelMember, PanelRole, Project, ReviewStatus, Round, RoundKind
from cunxin.evaluation.reliability import alpha, flag_reviewers
from cunxin.org.models import Role, Staff
from cunxin.org.scope import staff_view
from cunxin.pool.models import Person


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
    error = ""
    if request.method == "POST":
        scope.require(scope.role in (Role.HQ_ADMIN, Role.BRANCH_MANAGER))
        village = scope.villages().filter(pk=request.POST.get("village", "")).first()
        responsible = Staff.objects.filter(pk=request.POST.get("responsible") or 0).first()
        if village is None or responsible is None:
            error = _("Choose a village and a customer manager.")
        else:
            try:
                project = actions.do_start_project(request.user, village, responsible)
            except ValidationError as e:
                error = " ".join(e.messages)
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
        "projects": rows, "error": error, "rounds_to_act": rounds_to_act,
        "villages": scope.villages().exclude(projects__closed_at__isnull=True, projects__isnull=False),
        "managers": scope.staff_members().filter(role=Role.CUSTOMER_MANAGER),
        "can_start": scope.role in (Role.HQ_ADMIN, Role.BRANCH_MANAGER),
    }, status=400 if error else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def project(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's panel and rounds. POST `op`: add or remove (a panel member), open,
    close (a round)."""
    scope = request.scope
    proj = project_or_404(scope, pk)
    error = ""
    if request.method == "POST":
        scope.require(scope.can_write)
        op = request.POST.get("op")
        try:
            if op == "add":
                staff = Staff.objects.filter(
                    pk=request.POST.get("staff") or 0, role=Role.EVALUATOR
                ).first()
                if staff is None:
                    raise ValidationError(_("Choose an evaluator."))
                actions.do_add_panel_member(
                    request.user, proj, staff, request.POST.get("role", PanelRole.REPRESENTATIVE),
                    alternate=request.POST.get("alternate") == "on",
                )  # fmt: skip
            elif op == "remove":
                member = proj.panel.filter(pk=request.POST.get("member") or 0).first()
                if member is None:
                    raise ValidationError(_("Choose a panel member."))
                voided = actions.do_remove_panel_member(
                    request.user, member, request.POST.get("reason", "")
                )
                if voided:
                    messages.info(
                        request, _("%(n)s unfinished reviews were voided.") % {"n": voided}
                    )
            elif op == "open":
                actions.do_open_round(request.user, proj, request.POST.get("kind", ""))
            elif op == "close":
                rnd = proj.rounds.filter(closed_at__isnull=True).first()
                if rnd is None:
                    raise ValidationError(_("No round is open."))
                actions.do_close_round(request.user, rnd)
            else:
                raise ValidationError(_("Unknown operation."))
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            messages.success(request, _("Saved."))
            return redirect("evaluation:project", pk=proj.pk)
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
    return render(request, "evaluation/project.html", {
        "project": proj, "panel": panel, "rounds": rounds, "error": error,
        "candidates": candidates, "roles": PanelRole.choices, "kinds": [(k, label) for k, label in RoundKind.choices if k not in {r.kind for r, *_ in rounds}],
        "can_sign_off": scope.role in (Role.HQ_ADMIN, Role.BRANCH_MANAGER),
        "visit_tasks": proj.visit_tasks.count(),
    }, status=400 if error else 200)  # fmt: skip


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
    error = ""
    if request.method == "POST":
        scope.require(scope.can_write)
        person = Person.objects.filter(
            uid=request.POST.get("person", ""), village_id=rnd.project.village_id
        ).first()
        amount_text = request.POST.get("amount", "").strip()
        try:
            if person is None:
                raise ValidationError(_("Choose a person."))
            if amount_text and not amount_text.isdigit():
                raise ValidationError(_("The amount must be a whole number of yuan."))
            actions.do_change_verdict(
                request.user, rnd, person, color=request.POST.get("color", ""),
                amount_yuan=int(amount_text) if amount_text else None,
                reason=request.POST.get("reason", ""),
            )  # fmt: skip
        except ValidationError as e:
            error = " ".join(e.messages)
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
    rows = [(v, changes.get(v.person_id)) for v in verdicts]
    return render(request, "evaluation/rereview.html", {
        "round": rnd, "rows": rows, "error": error, "colors": actions.VERDICT_COLORS,
        "cap": actions.policy_of(rnd.project.policy).amount_cap_yuan,
    }, status=400 if error else 200)  # fmt: skip
