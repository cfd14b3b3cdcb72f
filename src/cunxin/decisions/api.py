"""The decisions' JSON API, and the lookups and the action call the pages share with it.

    GET  /credit/api/decisions/<id>/           the decision (masked name, amounts, grade,
                                               status, the explanation, what you may do)
    POST /credit/api/decisions/<id>/<action>/  approve | reject | refer_back | undo, with
                                               "reason" in a form or JSON body

Session sign-in and CSRF as the pages (the token in an X-CSRFToken header). Answers:
200 the decision's new state; 400 {"error"} (no reason, unknown action, bad body); 401
signed out; 403 not allowed (the read-only role, a customer manager, the maker); 404
outside the user's scope or not bank staff; 409 the state does not allow the action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cunxin.decisions.actions import InvalidTransition, do_transition, may_check, may_decide
from cunxin.decisions.explain import explain, texts
from cunxin.decisions.forms import ReasonForm
from cunxin.decisions.models import ACTION_LABELS, TRANSITIONS, Decision
from cunxin.lib.masking import mask_name
from cunxin.org.fields import error_text
from cunxin.org.scope import Scope, scope_for

# The actions that need a reason (do_transition refuses them without one).
REASON_REQUIRED = frozenset({"reject", "refer_back", "undo"})


# --- shared with the pages -----------------------------------------------------------------
def decisions_in(scope: Scope) -> QuerySet[Decision]:
    """Decisions of the persons the user sees (a subquery on the scope's persons)."""
    return Decision.objects.filter(person__in=scope.persons())


def decision_or_404(scope: Scope, pk: int) -> Decision:
    """The decision with its person, village and staff (one query), or 404 outside scope."""
    try:
        return (
            decisions_in(scope)
            .select_related(
                "person__village",
                "person__household",
                "proposed_by",
                "decided_by",
                "policy",
                "model",
            )
            .get(pk=pk)
        )
    except Decision.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class Allowed:
    action: str
    label: str
    needs_reason: bool


def allowed_actions(scope: Scope, decision: Decision) -> list[Allowed]:
    """What the user may do with the decision now: a checker (branch manager, HQ admin)
    other than its maker, the actions the state allows (an undo only before signing, an
    approval only of an amount above 0).
    For the buttons; `do_transition` checks again under a row lock."""
    if not may_decide(scope, decision):
        return []
    return [
        Allowed(action, str(ACTION_LABELS[action]), action in REASON_REQUIRED)
        for action, (starts, _leads_to) in TRANSITIONS.items()
        if decision.status in starts
        and not (action == "undo" and decision.signed_at)
        and not (action == "approve" and decision.final_yuan <= 0)
    ]


@dataclass(frozen=True)
class Outcome:
    decision: Decision | None
    status: int  # 200, or the HTTP status of the refusal
    error: str = ""


def run_action(user, decision: Decision, action: str, reason: str) -> Outcome:
    """`do_transition`, with its refusals as HTTP statuses: 409 the state machine, 400 the
    input (no reason, unknown action), 403 the person (role, scope, the maker)."""
    try:
        return Outcome(do_transition(user, decision, action, reason), 200)
    except InvalidTransition as e:
        return Outcome(None, 409, " ".join(e.messages))
    except ValidationError as e:
        return Outcome(None, 400, " ".join(e.messages))
    except PermissionDenied as e:
        return Outcome(None, 403, str(e) or _("Your role may not do this."))


# --- JSON ----------------------------------------------------------------------------------
def _json(data: dict, status: int = 200) -> JsonResponse:
    # Chinese as it is, not \u escapes: the mini-program and people reading logs alike
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(message: str, status: int) -> JsonResponse:
    return _json({"error": str(message)}, status)


def api_view(view):
    """Like `staff_view`, with JSON answers: 401 signed out, 404 for anyone but bank staff
    and for objects outside scope, 403 for what the user may not do."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error(_("Sign in first."), 401)
        scope = scope_for(request.user)
        if not scope.is_bank_staff:
            return _error(_("Not found."), 404)
        request.scope = scope
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return _error(_("Not found."), 404)
        except PermissionDenied as e:
            return _error(str(e) or _("Your role may not do this."), 403)

    return wrapper


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def decision_json(scope: Scope, decision: Decision) -> dict:
    """What the API says about a decision. The name is masked; no ID number or phone."""
    person = decision.person
    return {
        "id": decision.pk,
        "person": {
            "uid": person.uid,
            "name": mask_name(person.name),
            "village": str(person.village) if person.village_id else None,
        },
        "product": decision.product,
        "status": decision.status,
        "status_label": str(decision.get_status_display()),
        "grade": decision.grade,
        "score": decision.score,
        "evaluation_yuan": decision.evaluation_yuan,
        "model_yuan": decision.model_yuan,
        "survey_yuan": decision.survey_yuan,
        "final_yuan": decision.final_yuan,
        "hard_stops": list(decision.hard_stops),
        "route": decision.route,
        "credit_household": decision.credit_household,
        "policy": decision.policy.version,
        "model": decision.model.model_id if decision.model_id else None,
        "proposed_by": decision.proposed_by.display_name,
        "proposed_at": _iso(decision.proposed_at),
        "decided_by": decision.decided_by.display_name if decision.decided_by_id else None,
        "decided_at": _iso(decision.decided_at),
        "reason": decision.reason,
        "signed_at": _iso(decision.signed_at),
        "explanation": texts(explain(decision)),
        "actions": [a.action for a in allowed_actions(scope, decision)],
    }


@require_GET
@api_view
def decision(request: HttpRequest, pk: int) -> JsonResponse:
    scope = request.scope
    return _json(decision_json(scope, decision_or_404(scope, pk)))


@require_POST
@api_view
def decision_action(request: HttpRequest, pk: int, action: str) -> JsonResponse:
    scope = request.scope
    found = decision_or_404(scope, pk)
    scope.require(may_check(scope))  # the read-only role, a CM: 403 whatever they ask
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _error(_("The body is not valid JSON."), 400)
        if not isinstance(body, dict):
            return _error(_("The body is not valid JSON."), 400)
        form = ReasonForm(body)  # a form over the JSON object: types and length checked
    else:
        form = ReasonForm(request.POST)
    if not form.is_valid():
        return _error(error_text(form), 400)
    outcome = run_action(request.user, found, action, form.cleaned_data["reason"])
    if outcome.decision is None:
        return _error(outcome.error, outcome.status)
    return _json(decision_json(scope, decision_or_404(scope, pk)))
