"""Decisions and their approval (maker-checker). Every change is audited in the same
transaction; the state machine is `models.TRANSITIONS` and is checked under a row lock,
so two approvals at once resolve to one."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.credit.decide import Applicant, compile_policy
from cunxin.credit.policy import CreditPolicy, from_data, to_data
from cunxin.decisions.inputs import exact_age, load, scope_where
from cunxin.decisions.models import (
    ACTION_LABELS,
    OPEN,
    TRANSITIONS,
    CreditPolicyVersion,
    Decision,
    ModelVersion,
)
from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.pool.models import Person


class InvalidTransition(ValidationError):
    """The decision is not in a state the action starts from (HTTP 409 in the API)."""


# --- the policy in force -------------------------------------------------------------------
def policy_in_force(on: dt.date | None = None) -> CreditPolicyVersion:
    """The newest version effective on `on` (today); at first the DESIGN.md §5 defaults,
    stored on first use as in force from that day (the day the bank started with them).
    Before that day nothing else was in force either, so the defaults answer for it."""
    on = on or timezone.localdate()
    version = CreditPolicyVersion.objects.filter(effective_from__lte=on).first()
    if version is None:
        default = CreditPolicy()
        version, _created = CreditPolicyVersion.objects.get_or_create(
            version=default.version,
            defaults={"data": to_data(default), "effective_from": timezone.localdate()},
        )
    return version


# --- the inputs of a decision ----------------------------------------------------------------
def age_on(person: Person, on: dt.date) -> int | None:
    """Exact age from the ID number's date of birth (decrypted for the computation only,
    never shown); the year of birth when the number is missing."""
    return exact_age(person.id_number(), person.birth_year, on)


def active_model() -> ModelVersion | None:
    return ModelVersion.objects.filter(active=True).first()


def applicant_for(person: Person, on: dt.date | None = None) -> tuple[Applicant, dict]:
    """The person's inputs (`cunxin.decisions.inputs`) with the exact age. Returns the
    applicant and where each input came from (for the trace)."""
    on = on or timezone.localdate()
    model = active_model()
    where, params = scope_where("person", person.uid)
    (found,) = load(where, params, on, model_pk=model.pk if model else None)
    applicant = replace(found.applicant, age=age_on(person, on) or 0)
    sources = {
        **found.sources,
        "model": model.model_id if model else None,
        "model_version": model.pk if model else None,
    }
    return applicant, sources


# --- capabilities: maker and checker (DESIGN.md §1) -----------------------------------------
# The actions refuse (PermissionDenied), their views answer 403 before any work and the
# pages offer the buttons, all by asking these functions.
CHECKER_ROLES = frozenset({Role.BRANCH_MANAGER, Role.HQ_ADMIN})


def may_propose(scope, person: Person | None = None) -> bool:
    """The maker: a customer manager (who sees the person, when one is given; one query)."""
    return scope.role == Role.CUSTOMER_MANAGER and (
        person is None or scope.persons().filter(uid=person.uid).exists()
    )


def may_check(scope) -> bool:
    """A checker: a branch manager or an HQ admin (of a decision they see)."""
    return scope.role in CHECKER_ROLES


def may_decide(scope, decision: Decision) -> bool:
    """A checker other than the decision's maker."""
    return may_check(scope) and decision.proposed_by_id != scope.staff.pk


# --- maker ---------------------------------------------------------------------------------
def zero_amount_refusal() -> str:
    """Why a 0-yuan outcome is not proposed: it is a refusal (不予授信), not a grant for a
    checker to approve. The reasons stay on the 360 page ("why this amount"), and the
    batch pre-credit's approval sheet lists the declined with theirs."""
    return _(
        "The final amount is 0: there is nothing to submit for approval. The person is "
        "not granted credit; the reasons are under “Why this amount”."
    )


def do_propose(actor, person: Person) -> Decision:
    """A customer manager proposes the decision the policy in force gives for the person
    in their scope. One open (proposed or approved) decision per person; a final amount
    of 0 is refused (`zero_amount_refusal`). Raises PolicyError, before anything is
    written, when a rule of the policy fails on the person's inputs
    (`policy_errors.cannot_decide` says it in words)."""
    scope = scope_for(actor)
    if not may_propose(scope, person):
        raise PermissionDenied
    version = policy_in_force()
    applicant, sources = applicant_for(person)
    d = compile_policy(from_data(version.data)).decide(applicant)
    if d.final_yuan <= 0:
        raise ValidationError(zero_amount_refusal())
    try:
        with transaction.atomic():
            if Decision.objects.filter(person=person, status__in=OPEN).exists():
                raise ValidationError(_("This person already has an open decision."))
            decision = Decision.objects.create(
                person=person, policy=version, score=applicant.score,
                model_id=sources["model_version"],
                evaluation_yuan=d.evaluation_yuan,
                model_yuan=d.model_yuan, survey_yuan=d.survey_yuan, final_yuan=d.final_yuan,
                grade=d.grade, hard_stops=list(d.hard_stops), route=d.route,
                credit_household=d.credit_household,
                trace=[vars(s) for s in d.trace], inputs={**asdict(applicant), **sources},
                proposed_by=scope.staff, proposed_at=timezone.now(),
            )  # fmt: skip
            record(actor, "decisions.decision.propose", decision,
                   after={"person": person.uid, "final_yuan": d.final_yuan, "policy": version.version})  # fmt: skip
    except IntegrityError:
        # a proposal made at the same moment won the one open decision (unique constraint)
        if Decision.objects.filter(person=person, status__in=OPEN).exists():
            raise ValidationError(_("This person already has an open decision.")) from None
        raise
    return decision


# --- checker -------------------------------------------------------------------------------
def do_transition(actor, decision: Decision, action: str, reason: str = "") -> Decision:
    """approve, reject (reason required), refer_back (reason required) or undo (an approval,
    before signing). By a branch manager of the person's branch or an HQ admin, never the
    person who proposed it. A decision of 0 yuan is never approved."""
    scope = scope_for(actor)
    if action not in TRANSITIONS:
        raise ValidationError(_("Unknown action."))
    if not may_check(scope):
        raise PermissionDenied
    if not scope.persons().filter(uid=decision.person_id).exists():
        raise PermissionDenied
    if not may_decide(scope, decision):  # the maker (checked again under the lock)
        raise PermissionDenied(_("A decision is approved by someone other than its maker."))
    if action in ("reject", "refer_back", "undo") and not reason.strip():
        raise ValidationError(_("Give a reason."))
    if action == "approve" and decision.final_yuan <= 0:
        # a 0-yuan decision (from before proposals of 0 were refused) grants nothing
        raise InvalidTransition(
            _(
                "A decision of 0 yuan grants nothing and is not approved: reject it (the person is not granted credit) or refer it back."
            )
        )
    starts, leads_to = TRANSITIONS[action]
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.proposed_by_id == scope.staff.pk:
            raise PermissionDenied(_("A decision is approved by someone other than its maker."))
        if decision.status not in starts:
            raise InvalidTransition(
                _("This decision is %(status)s: “%(action)s” is not possible.")
                % {"status": decision.get_status_display(), "action": ACTION_LABELS[action]}
            )
        if action == "undo" and decision.signed_at is not None:
            raise InvalidTransition(_("The contract is signed: the approval cannot be undone."))
        before = {"status": decision.status}
        decision.status = leads_to
        decision.decided_by, decision.decided_at = scope.staff, timezone.now()
        decision.reason = reason.strip()[:200]
        decision.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        record(actor, f"decisions.decision.{action}", decision, before=before,
               after={"status": leads_to, "reason": decision.reason})  # fmt: skip
    return decision
