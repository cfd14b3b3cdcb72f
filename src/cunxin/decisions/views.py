"""授信 pages: the credit section of the customer 360 page (the latest decision and why,
or what the policy in force would give, with the customer manager's proposal), the
decisions in scope, and a decision with its inputs, its explanation, its audit history
and the checker's approve / reject / refer back / undo (maker-checker, DESIGN.md §1).

Refusals keep the page and say why: 409 when the decision's state does not allow the
action, 400 when a reason is missing, 403 when the user may not act. The JSON API and the
helpers both use are in `api.py`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cunxin.audit.models import AuditEvent
from cunxin.credit.decide import PolicyError, compile_policy
from cunxin.credit.policy import from_data
from cunxin.decisions import api
from cunxin.decisions.actions import do_propose, may_check, may_propose, zero_amount_refusal
from cunxin.decisions.explain import explain, yuan_text
from cunxin.decisions.fetch import applicant_for, credit_policy_in_force
from cunxin.decisions.forms import DecisionActionForm
from cunxin.decisions.models import OPEN, Decision, ModelVersion, Status
from cunxin.decisions.policy_errors import cannot_decide
from cunxin.evaluation.labels import verdict_label
from cunxin.evaluation.models import RoundKind, Verdict
from cunxin.org.fields import error_text
from cunxin.org.models import Staff
from cunxin.org.scope import Scope, staff_view
from cunxin.pool.labels import flag_label
from cunxin.pool.models import Person
from cunxin.visits.models import VisitMember

PAGE_SIZE = 25
# The audit actions of a decision (decisions/actions.py), as its history shows them.
HISTORY_LABELS = {
    "decisions.decision.propose": gettext_lazy("Proposed"),
    "decisions.decision.approve": gettext_lazy("Approved"),
    "decisions.decision.reject": gettext_lazy("Rejected"),
    "decisions.decision.refer_back": gettext_lazy("Referred back"),
    "decisions.decision.undo": gettext_lazy("Approval undone"),
}


# --- the credit section of the customer 360 page -------------------------------------------
def credit_context(scope: Scope, person: Person) -> dict:
    """For `pool/person.html` (as `credit_decision`): the person's latest decision and its
    reasons; for a customer manager (who sees the person) without an open decision, what
    the policy in force would give now and the propose button. A few queries; the preview
    compiles the policy (milliseconds)."""
    latest = (
        Decision.objects.filter(person=person)
        .select_related("proposed_by", "decided_by")
        .order_by("-proposed_at", "-pk")
        .first()
    )
    can_propose = may_propose(scope) and not (latest and latest.status in OPEN)
    preview, preview_error, version = None, "", None
    if can_propose:
        version = credit_policy_in_force()
        try:
            preview = compile_policy(from_data(version.data)).decide(applicant_for(person)[0])
        except PolicyError as e:  # a rule that fails on this person's inputs: said, never a 500
            preview_error = cannot_decide(e)
    return {
        "latest": latest, "amounts": _amounts(latest) if latest else [],
        "why": explain(latest) if latest else [], "can_propose": can_propose,
        "preview": preview, "preview_amounts": _amounts(preview) if preview else [],
        "preview_why": explain(preview) if preview else [], "preview_error": preview_error,
        "policy": version, "zero_amount": zero_amount_refusal(),
        "evaluation": app_evaluation(person), "weak_model": _weak_active_model(),
    }  # fmt: skip


def app_evaluation(person: Person) -> dict | None:
    """The app's own evaluation of the person — the latest signed-off verdict, as the
    latest visit corrected it (what a decision reads, `inputs.load`) — or None before
    sign-off. It replaces the pool's `evaluation:` tags on the 360 page, which were
    computed when the pool was built and say 未评议 whatever the app did since. Two
    queries."""
    verdict = (
        Verdict.objects.filter(person=person, round__kind=RoundKind.SIGN_OFF,
                               round__closed_at__isnull=False)
        .select_related("round")
        .order_by("-round__closed_at", "-pk")
        .first()
    )  # fmt: skip
    if verdict is None:
        return None
    color, amount, corrected = verdict.color, verdict.amount_yuan, False
    visited = VisitMember.objects.filter(person=person).order_by("-visit__at", "-pk").first()
    if visited is not None and visited.after:
        color, amount, corrected = visited.after.get("color", color), visited.after.get("amount_yuan"), True  # fmt: skip
    return {
        "color": color, "label": verdict_label(color), "amount": yuan_text(amount) if amount is not None else "",
        "corrected": corrected, "signed_off_at": verdict.round.closed_at,
    }  # fmt: skip


def _amounts(d) -> list[tuple[str, str, str]]:
    """(label, amount, testid) of the three amounts and the final one."""
    return [
        (_("Evaluation amount"), yuan_text(d.evaluation_yuan), "amount-evaluation"),
        (_("Model amount"), yuan_text(d.model_yuan), "amount-model"),
        (_("Survey amount"), yuan_text(d.survey_yuan), "amount-survey"),
        (_("Final amount"), yuan_text(d.final_yuan), "amount-final"),
    ]


def _weak_active_model() -> ModelVersion | None:
    """The active model, when its holdout AUC is not above the intercept-only baseline
    (it ranks no better than chance): the credit section says so."""
    model = ModelVersion.objects.filter(active=True).first()
    return model if model is not None and model.beats_baseline is False else None


@require_POST
@staff_view
def propose(request: HttpRequest, uid: str) -> HttpResponse:
    """A customer manager proposes the decision the policy in force gives (the maker).
    Refused: 409 (an open decision exists), 422 (the policy cannot decide for the person:
    a rule fails on their inputs), both with a page that says why."""
    scope = request.scope
    person = scope.person_or_404(uid)
    scope.require(may_propose(scope, person))
    try:
        decision = do_propose(request.user, person)
    except ValidationError as e:
        existing = Decision.objects.filter(person=person, status__in=OPEN).first()
        return render(request, "decisions/refused.html", {
            "person": person, "error": " ".join(e.messages), "existing": existing,
        }, status=409)  # fmt: skip
    except PolicyError as e:  # the policy, not the request, is wrong: 422, with the page
        return render(request, "decisions/refused.html", {
            "person": person, "error": cannot_decide(e),
        }, status=422)  # fmt: skip
    messages.success(request, _("Proposed: the branch manager decides next."))
    return redirect("decisions:decision", pk=decision.pk)


# --- the decisions in scope ----------------------------------------------------------------
@require_GET
@staff_view
def decision_list(request: HttpRequest) -> HttpResponse:
    """Decisions of the persons in scope, by status; checkers see the proposed ones (those
    waiting for them) first. One COUNT per status, one query per page."""
    scope = request.scope
    rows = api.decisions_in(scope)
    counts = dict(rows.values_list("status").annotate(n=Count("pk")).order_by())
    status = request.GET.get("status", "")
    if status in Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    if may_check(scope):
        waiting = Case(When(status=Status.PROPOSED, then=Value(0)), default=Value(1),
                       output_field=IntegerField())  # fmt: skip
        rows = rows.order_by(waiting, "-proposed_at", "-pk")
    else:
        rows = rows.order_by("-proposed_at", "-pk")
    rows = rows.select_related("person__village", "proposed_by", "decided_by")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for d in page.object_list:
        d.final_text = yuan_text(d.final_yuan)
    filters = [("", _("All"), sum(counts.values()))] + [
        (value, label, counts.get(value, 0)) for value, label in Status.choices
    ]
    return render(request, "decisions/list.html", {
        "page": page, "status": status, "filters": filters,
    })  # fmt: skip


# --- one decision --------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_view
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    """A decision: amounts, why, inputs, history. POST `action` (approve, reject,
    refer_back, undo) and `reason`: the checker's decision."""
    scope = request.scope
    d = api.decision_or_404(scope, pk)
    error, status = "", 200
    form = DecisionActionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        scope.require(may_check(scope))  # the read-only role, a CM: 403 whatever they ask
        if not form.is_valid():
            error, status = error_text(form), 400
        else:
            outcome = api.run_action(
                request.user, d, form.cleaned_data["action"], form.cleaned_data["reason"]
            )
            if outcome.decision is not None:
                messages.success(request, _("Done: the decision is %(status)s.") % {
                    "status": outcome.decision.get_status_display()
                })  # fmt: skip
                return redirect("decisions:decision", pk=d.pk)
            error, status = outcome.error, outcome.status
            d = api.decision_or_404(scope, pk)  # as it stands now
    return render(request, "decisions/decision.html", {
        "d": d, "amounts": _amounts(d), "why": explain(d), "inputs": _inputs(d),
        "history": _history(d), "actions": api.allowed_actions(scope, d),
        "is_maker": scope.staff.pk == d.proposed_by_id,
        "is_checker": may_check(scope),
        "error": error, "form": form, "typed_reason": form.data.get("reason", ""),
        "typed_action": form.data.get("action", ""),
    }, status=status)  # fmt: skip


def _inputs(d: Decision) -> list[tuple[str, str]]:
    """What the rules read, in words (never an ID number: the inputs hold none)."""
    i = d.inputs or {}
    yes, no = _("yes"), _("no")
    evaluation = str(verdict_label(i.get("evaluation_color"))) if i.get("evaluation_color") else "—"
    if i.get("evaluation_corrected_at_visit"):
        evaluation = _("%(evaluation)s (corrected at the visit)") % {"evaluation": evaluation}
    score = i.get("score")
    return [
        (_("Age"), str(i["age"]) if i.get("age") else "—"),
        (_("Lists"), " · ".join(flag_label(f) for f in i.get("flags") or []) or _("none")),
        (_("Evaluation"), evaluation),
        (_("Evaluation amount"), yuan_text(i.get("evaluation_yuan"))),
        (_("Survey amount"), yuan_text(i.get("survey_yuan"))),
        (_("Model score"), "—" if score is None else f"{score:g}"),
        (_("Model"), d.model.label if d.model_id else "—"),
        (_("Household income"), yuan_text(i.get("income_yuan"))),
        (_("Household assets"), yuan_text(i.get("assets_yuan"))),
        (_("Household liabilities"), yuan_text(i.get("liabilities_yuan"))),
        (_("Arrears"), yes if i.get("has_arrears") else no),
    ]


def _history(d: Decision) -> list[dict]:
    """The decision's audit events, oldest first, with the staff member's name. Two queries."""
    events = list(
        AuditEvent.objects.filter(object_type="decisions.decision", object_id=str(d.pk)).order_by("id")
    )  # fmt: skip
    names = dict(
        Staff.objects.filter(user_id__in={e.actor_id for e in events if e.actor_id})
        .values_list("user_id", "display_name")
    )  # fmt: skip
    return [{
        "at": e.at, "who": names.get(e.actor_id, e.actor_name),
        "what": str(HISTORY_LABELS.get(e.action, e.action)),
        "reason": (e.after or {}).get("reason", ""),
        "final": yuan_text(e.after["final_yuan"]) if "final_yuan" in (e.after or {}) else "",
        "action": e.action.rsplit(".", 1)[-1],
    } for e in events]  # fmt: skip


urls = [
    path("decisions/", decision_list, name="list"),
    path("decisions/<int:pk>/", decision, name="decision"),
    path("persons/<str:uid>/propose/", propose, name="propose"),
    path("api/decisions/<int:pk>/", api.decision, name="api_decision"),
    path("api/decisions/<int:pk>/<str:action>/", api.decision_action, name="api_decision_action"),
]
