"""The credit stage's state changes: decisions and their approval (maker-checker; the
state machine is `models.TRANSITIONS`, checked under a row lock, so two approvals at once
resolve to one) and batch pre-credit / what-if runs (queued with their task for the
worker, run again after an interruption). Every change is audited in the same
transaction; each action checks its capability function, which the views and the
templates ask too."""

from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.credit.decide import compile_policy
from cunxin.credit.policy import CreditPolicy, from_data, to_data
from cunxin.decisions import batch
from cunxin.decisions.fetch import active_model, applicant_for, credit_policy_in_force
from cunxin.decisions.models import (
    ACTION_LABELS,
    OPEN,
    TRANSITIONS,
    BatchRun,
    Decision,
    PreCredit,
)
from cunxin.decisions.tasks import run_batch
from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.pool.models import Person


class InvalidTransition(ValidationError):
    """The decision is not in a state the action starts from (HTTP 409 in the API)."""


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
    version = credit_policy_in_force()
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


# --- batch pre-credit and what-if runs (the worker runs them: decisions.tasks) ----------
def may_start_batch_run(actor, purpose: str, kind: str, code: str) -> bool:
    """Pre-credit: an HQ admin anywhere, a branch manager in their branch. What-if: HQ
    admins (the policy is theirs)."""
    scope = scope_for(actor)
    if scope.role == Role.HQ_ADMIN:
        return True
    if purpose != BatchRun.Purpose.PRECREDIT or scope.role != Role.BRANCH_MANAGER:
        return False
    if kind == BatchRun.ScopeKind.BRANCH:
        return code == scope.branch_id
    return kind == BatchRun.ScopeKind.VILLAGE and scope.villages().filter(code=code).exists()


def do_start_batch_run(
    actor, purpose: str, kind: str, code: str = "", draft: CreditPolicy | None = None
) -> BatchRun:
    """Queue a run (audited): the run row and its task commit together, so a run is never
    without its task nor a task without its run."""
    if kind not in BatchRun.ScopeKind.values:
        raise ValidationError(_("Choose a village, a branch or the county."))
    code = "" if kind == BatchRun.ScopeKind.COUNTY else code.strip()
    if kind != BatchRun.ScopeKind.COUNTY and not batch.scope_name(kind, code):
        raise ValidationError(_("No such village or branch."))
    if not may_start_batch_run(actor, purpose, kind, code):
        raise PermissionDenied
    if purpose == BatchRun.Purpose.WHATIF:
        if draft is None:
            raise ValidationError(_("A what-if needs a draft policy."))
        compile_policy(draft)  # refuses a draft that does not compile
    with transaction.atomic():
        run = BatchRun.objects.create(
            purpose=purpose, scope_kind=kind, scope_code=code, scope_name=batch.scope_name(kind, code),
            policy=credit_policy_in_force(), draft=to_data(draft) if draft else None,
            model=active_model(), started_by=actor,
        )  # fmt: skip
        record(actor, f"decisions.batch.{purpose}", run,
               after={"scope": [kind, code], "policy": run.policy.version,
                      "draft": draft.version if draft else None})  # fmt: skip
        run.enqueue(run_batch)
    return run


def may_rerun_batch_run(actor, run: BatchRun) -> bool:
    """Who may start the run may run it again, once it failed or was interrupted."""
    return run.status in BatchRun.RERUNNABLE and may_start_batch_run(
        actor, run.purpose, run.scope_kind, run.scope_code
    )


def do_rerun_batch_run(actor, run: BatchRun) -> BatchRun:
    """Queue a failed or interrupted run again, with the same policy, draft and model (the
    run says what it decided with), as its next attempt. Of two people asking at once one
    queues it; the other is told it is already queued (a conditional UPDATE)."""
    if not may_start_batch_run(actor, run.purpose, run.scope_kind, run.scope_code):
        raise PermissionDenied
    with transaction.atomic():
        if not run.queue_again(started_at=None, finished_at=None, total=0, counts={},
                               summary={}, timings={}, error=""):  # fmt: skip
            raise ValidationError(_("This run is not failed or interrupted: it cannot be run again."))  # fmt: skip
        PreCredit.objects.filter(run=run).delete()  # none are kept by an unfinished run
        record(actor, "decisions.batch.rerun", run, after={"attempt": run.attempt})
        run.enqueue(run_batch)
    return run
