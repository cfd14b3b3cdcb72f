"""Decisions and their approval (maker-checker). Every change is audited in the same
transaction; the state machine is `models.TRANSITIONS` and is checked under a row lock,
so two approvals at once resolve to one."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.credit.decide import Applicant, compile_policy
from cunxin.credit.policy import CreditPolicy, from_data, to_data
from cunxin.decisions.models import (
    ACTION_LABELS,
    OPEN,
    TRANSITIONS,
    CreditPolicyVersion,
    Decision,
    ModelScore,
    ModelVersion,
)
from cunxin.evaluation.models import RoundKind, Verdict
from cunxin.lib.idnumber import birth_date
from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.pool.models import Person, RiskFlag
from cunxin.visits.models import VisitMember


class InvalidTransition(ValidationError):
    """The decision is not in a state the action starts from (HTTP 409 in the API)."""


# --- the policy in force -------------------------------------------------------------------
def policy_in_force(on: dt.date | None = None) -> CreditPolicyVersion:
    """The newest version effective on `on` (today); the DESIGN.md §5 defaults at first."""
    on = on or timezone.localdate()
    version = CreditPolicyVersion.objects.filter(effective_from__lte=on).first()
    if version is None:
        default = CreditPolicy()
        version, _created = CreditPolicyVersion.objects.get_or_create(
            version=default.version,
            defaults={"data": to_data(default), "effective_from": dt.date(2000, 1, 1)},
        )
    return version


# --- the inputs of a decision ----------------------------------------------------------------
def age_on(person: Person, on: dt.date) -> int | None:
    """Exact age from the ID number's date of birth (decrypted for the computation only,
    never shown); the year of birth when the number is missing."""
    number = person.id_number()
    born = birth_date(number) if number and len(number) == 18 else None
    if born is None:
        return None if person.birth_year is None else on.year - person.birth_year
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def active_model() -> ModelVersion | None:
    return ModelVersion.objects.filter(active=True).first()


def applicant_for(person: Person, on: dt.date | None = None) -> tuple[Applicant, dict]:
    """The person's inputs: age, risk flags, the signed-off evaluation (as corrected at the
    visit), the survey amount, the active model's score and grade, and the household's
    capacity from the 360 profile. Returns the applicant and where each input came from
    (for the trace)."""
    on = on or timezone.localdate()
    model = active_model()
    scored = (
        ModelScore.objects.filter(model=model, person=person).first() if model else None
    )
    verdict = (
        Verdict.objects.filter(person=person, round__kind=RoundKind.SIGN_OFF)
        .order_by("-round__closed_at")
        .first()
    )
    visit = (
        VisitMember.objects.filter(person=person).select_related("visit").order_by("-visit__at").first()
    )  # fmt: skip
    color = verdict.color if verdict else ""
    evaluation = verdict.amount_yuan if verdict else None
    if visit is not None and visit.after:
        color, evaluation = visit.after.get("color", color), visit.after.get("amount_yuan")
    profile = person.profile or {}
    assets, income = profile.get("assets", {}), profile.get("income", {})
    credit = profile.get("credit", {})
    flags = sorted(set(
        RiskFlag.objects.filter(person=person, retired_at__isnull=True).values_list("flag", flat=True)
    ))  # fmt: skip
    applicant = Applicant(
        person_uid=person.uid, age=age_on(person, on) or 0, flags=tuple(flags),
        evaluation_color=color, evaluation_yuan=evaluation,
        survey_yuan=visit.survey_amount_yuan if visit else None,
        score=scored.score if scored else None, model_grade=scored.grade if scored else None,
        income_yuan=int(income.get("household_income_fen", 0)) // 100,
        assets_yuan=int(assets.get("household_assets_fen", 0)) // 100,
        liabilities_yuan=int(assets.get("household_liabilities_fen", 0)) // 100,
        has_arrears=int(credit.get("max_overdue_days", 0) or 0) > 0 and int(credit.get("loans_current", 0) or 0) > 0,
    )  # fmt: skip
    sources = {
        "verdict": verdict.pk if verdict else None,
        "visit_member": visit.pk if visit else None,
        "evaluation_corrected_at_visit": bool(visit and visit.after),
        "model": model.model_id if model else None,
        "model_version": model.pk if model else None,
    }
    return applicant, sources


# --- maker ---------------------------------------------------------------------------------
def do_propose(actor, person: Person) -> Decision:
    """A customer manager proposes the decision the policy in force gives for the person
    in their scope. One open (proposed or approved) decision per person."""
    scope = scope_for(actor)
    if scope.role != Role.CUSTOMER_MANAGER:
        raise PermissionDenied
    if not scope.persons().filter(uid=person.uid).exists():
        raise PermissionDenied
    version = policy_in_force()
    applicant, sources = applicant_for(person)
    d = compile_policy(from_data(version.data)).decide(applicant)
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
                trace=[vars(s) for s in d.trace], inputs={**vars(applicant), **sources},
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
    person who proposed it."""
    scope = scope_for(actor)
    if action not in TRANSITIONS:
        raise ValidationError(_("Unknown action."))
    if scope.role not in (Role.BRANCH_MANAGER, Role.HQ_ADMIN):
        raise PermissionDenied
    if not scope.persons().filter(uid=decision.person_id).exists():
        raise PermissionDenied
    if action in ("reject", "refer_back", "undo") and not reason.strip():
        raise ValidationError(_("Give a reason."))
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
