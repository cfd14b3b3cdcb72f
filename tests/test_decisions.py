"""Decisions and their approval: the inputs from evaluation and visit, maker-checker,
the state machine, and two approvals at once (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone

from conftest import SCORED_GRADES, give_scores, sign_off
from cunxin.audit.models import AuditEvent
from cunxin.decisions import actions
from cunxin.decisions.fetch import age_on, applicant_for
from cunxin.decisions.models import Decision, Status
from cunxin.visits.models import Visit, VisitMember, VisitTask


@pytest.fixture
def signed(village, project):
    """VA1 signed off, with an active model: each proposal has an amount above 0."""
    sign_off(village, project)
    give_scores(village, SCORED_GRADES)
    return village


@pytest.mark.django_db
def test_the_inputs_come_from_the_signed_off_evaluation_and_the_visit(signed):
    w = signed
    applicant, sources = applicant_for(w.persons["a12"], dt.date(2026, 11, 29))
    # 李芳, born 1982-02-02: 44 on 2026-11-29 (from the ID number, not the year alone)
    assert applicant.age == 44
    assert (applicant.evaluation_color, applicant.evaluation_yuan) == ("white", 50_000)
    assert applicant.survey_yuan is None and sources["visit_member"] is None
    # a visit corrects the evaluation and sets a survey amount: those win
    task = VisitTask.objects.get(household_id="Ha1")
    visit = Visit.objects.create(
        task=task, by=w.users["cm_a"].staff, mode="phone", at=timezone.now()
    )
    VisitMember.objects.create(visit=visit, person=w.persons["a12"], confirmed=True,
                               survey_amount_yuan=20_000, before={"color": "white"},
                               after={"color": "grey", "amount_yuan": 15_000})  # fmt: skip
    applicant, sources = applicant_for(w.persons["a12"], dt.date(2026, 11, 29))
    assert (applicant.evaluation_color, applicant.evaluation_yuan) == ("grey", 15_000)
    assert applicant.survey_yuan == 20_000 and sources["evaluation_corrected_at_visit"]


@pytest.mark.django_db
def test_age_counts_the_birthday(signed):
    person = signed.persons["a12"]  # born 1982-02-02
    assert age_on(person, dt.date(2027, 2, 1)) == 44
    assert age_on(person, dt.date(2027, 2, 2)) == 45


@pytest.mark.django_db
def test_a_customer_manager_proposes_and_a_branch_manager_approves(signed):
    w = signed
    decision = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    assert decision.status == Status.PROPOSED and decision.trace
    assert decision.inputs["evaluation_yuan"] == 125_000
    with pytest.raises(ValidationError):  # one open decision per person
        actions.do_propose(w.users["cm_a"], w.persons["a11"])
    actions.do_transition(w.users["bm_a"], decision, "approve")
    decision.refresh_from_db()
    assert decision.status == Status.APPROVED and decision.decided_by == w.users["bm_a"].staff
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="decisions.")] == [
        "decisions.decision.propose", "decisions.decision.approve",
    ]  # fmt: skip


@pytest.mark.django_db
def test_who_may_propose_and_approve(signed):
    w = signed
    for key in ("bm_a", "hq_admin", "hq_analyst", "evaluator"):
        with pytest.raises(PermissionDenied):
            actions.do_propose(w.users[key], w.persons["a11"])
    with pytest.raises(PermissionDenied):  # not in cm_b's scope
        actions.do_propose(w.users["cm_b"], w.persons["a11"])
    decision = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    for key in ("cm_a", "cm_b", "bm_b", "hq_analyst"):
        with pytest.raises(PermissionDenied):
            actions.do_transition(w.users[key], decision, "approve")


@pytest.mark.django_db
def test_the_maker_never_approves_their_own_proposal(signed):
    w = signed
    decision = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    staff = w.users["cm_a"].staff
    staff.role = "branch_manager"  # promoted between proposal and approval
    staff.save(update_fields=["role"])
    promoted = type(w.users["cm_a"]).objects.get(pk=w.users["cm_a"].pk)  # a fresh sign-in
    with pytest.raises(PermissionDenied) as refused:
        actions.do_transition(promoted, decision, "approve")
    assert str(refused.value)  # says why, unlike a plain role refusal
    decision.refresh_from_db()
    assert decision.status == Status.PROPOSED


@pytest.mark.django_db
def test_invalid_transitions_are_refused_and_change_nothing(signed):
    w = signed
    bm = w.users["bm_a"]
    decision = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    with pytest.raises(actions.InvalidTransition):
        actions.do_transition(bm, decision, "undo", "不需要")
    with pytest.raises(ValidationError):  # a rejection says why
        actions.do_transition(bm, decision, "reject", "")
    actions.do_transition(bm, decision, "approve")
    for action in ("approve", "reject", "refer_back"):
        with pytest.raises(actions.InvalidTransition):
            actions.do_transition(bm, decision, action, "理由")
    actions.do_transition(bm, decision, "undo", "额度需复核")
    decision.refresh_from_db()
    assert decision.status == Status.PROPOSED
    actions.do_transition(bm, decision, "approve")
    Decision.objects.filter(pk=decision.pk).update(signed_at=timezone.now())
    with pytest.raises(actions.InvalidTransition):
        actions.do_transition(bm, decision, "undo", "签约后")
    decision.refresh_from_db()
    assert decision.status == Status.APPROVED


@pytest.mark.django_db
def test_a_referred_back_decision_can_be_proposed_again(signed):
    w = signed
    decision = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    actions.do_transition(w.users["bm_a"], decision, "refer_back", "补充调查")
    again = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    assert again.pk != decision.pk and again.status == Status.PROPOSED


@pytest.mark.postgres
def test_two_approvals_at_once_resolve_to_one(postgres_db, committed, village, project):
    sign_off(village, project)
    give_scores(village, SCORED_GRADES)  # an amount above 0 to approve
    decision = actions.do_propose(village.users["cm_a"], village.persons["a11"])
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def act(key: str, action: str) -> None:
        try:
            start.wait()
            actions.do_transition(village.users[key], decision, action, "理由")
            outcomes.append(f"{action}:ok")
        except actions.InvalidTransition:
            outcomes.append(f"{action}:refused")
        except BaseException as e:
            outcomes.append(f"{action}:{type(e).__name__}:{e}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=a) for a in (("bm_a", "approve"), ("hq_admin", "reject"))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.split(":")[1] for o in outcomes) == ["ok", "refused"], outcomes
    decision.refresh_from_db()
    winner = next(o.split(":")[0] for o in outcomes if o.endswith(":ok"))
    assert decision.status == {"approve": Status.APPROVED, "reject": Status.REJECTED}[winner]
    assert AuditEvent.objects.filter(action__in=["decisions.decision.approve", "decisions.decision.reject"]).count() == 1  # fmt: skip
