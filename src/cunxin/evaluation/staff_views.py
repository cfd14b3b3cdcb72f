"""The bank's side of evaluation: projects of the villages in scope, their panels and
rounds, and — once a round is closed — its verdicts, the panel's agreement and the
reviewers who stand out, with the evidence. While a round is open staff see progress
counts only, never what a review says."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cunxin.evaluation import actions, results
from cunxin.evaluation.aggregate import Review as RuleReview
from cunxin.evaluation.fetch import projects_with_rounds_to_act
from cunxin.evaluation.models import PanelMember, PanelRole, Project, ReviewStatus, Round, RoundKind
from cunxin.evaluation.reliability import alpha, flag_reviewers
from cunxin.org.models import Role, Staff
from cunxin.org.scope import staff_view
from cunxin.pool.models import Person
from cunxin.project.templatetags.cunxin import verdict_label

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
    policy = actions.policy_of(rnd.project.policy)
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
    policy = actions.policy_of(rnd.project.policy)
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
    rows = [(v, changes.get(v.person_id), reasons.get(v.pk, [])) for v in verdicts]
    return render(request, "evaluation/rereview.html", {
        "round": rnd, "rows": rows, "page": page, "error": error,
        "colors": actions.VERDICT_COLORS, "cap": policy.amount_cap_yuan,
        "whole_village": scope.sees_whole_village(rnd.project.village_id),
    }, status=400 if error else 200)  # fmt: skip
