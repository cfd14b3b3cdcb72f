"""Village projects, panels, rounds and back-to-back reviews, through the actions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cunxin.audit.models import AuditEvent
from cunxin.evaluation import actions
from cunxin.evaluation.models import PanelRole, ReviewStatus, RoundKind, Stage, Verdict


@pytest.fixture(autouse=True)
def in_chinese():
    """The messages are asserted as the villager reads them, whatever ran before."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


def test_a_branch_manager_starts_a_project_with_the_policy_in_force(village):
    w = village
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    assert project.stage == Stage.COLLECTING
    assert project.policy.version == "default-1"
    assert len(project.policy.data["negative_items"]) == 13
    with pytest.raises(ValidationError, match="进行中的整村授信项目"):
        actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)


def test_only_the_villages_branch_starts_a_project_with_its_own_cm(village):
    w = village
    with pytest.raises(PermissionDenied):
        actions.do_start_project(w.users["bm_b"], w.villages["VA1"], w.users["cm_a"].staff)
    with pytest.raises(ValidationError, match="该村所属支行的客户经理"):
        actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_b"].staff)


def test_a_first_round_needs_three_regular_members(village):
    w = village
    project = actions.do_start_project(
        w.users["hq_admin"], w.villages["VA1"], w.users["cm_a"].staff
    )
    actions.do_add_panel_member(w.users["cm_a"], project, w.users["ev2"].staff, PanelRole.COMMITTEE)
    actions.do_add_panel_member(
        w.users["cm_a"], project, w.users["ev3"].staff, PanelRole.GRID_WORKER, alternate=True
    )
    with pytest.raises(ValidationError, match="至少需要 3"):
        actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    with pytest.raises(ValidationError, match="本村的评议员"):
        actions.do_add_panel_member(
            w.users["cm_a"], project, w.users["cm_a"].staff, PanelRole.COMMITTEE
        )


def test_an_evaluator_never_reviews_their_own_or_a_close_relatives_household(project, village):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    head = w.persons["a11"]
    with pytest.raises(ValidationError, match="利益回避：本户成员"):
        actions.do_save_review(w.users["ev1"], rnd, head, knows_household=True, negative_items=[],
                               graded={}, amount_yuan=50_000, submit=True)  # fmt: skip
    with pytest.raises(ValidationError, match="利益回避：兄弟姐妹"):
        actions.do_save_review(w.users["ev3"], rnd, head, knows_household=True, negative_items=[],
                               graded={}, amount_yuan=50_000, submit=True)  # fmt: skip


def test_a_review_is_saved_resumed_and_submitted_once(project, village):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    head = w.persons["a11"]
    draft = actions.do_save_review(w.users["ev2"], rnd, head, knows_household=True,
                                   negative_items=[], graded={}, amount_yuan=30_000, submit=False)  # fmt: skip
    again = actions.do_save_review(w.users["ev2"], rnd, head, knows_household=True,
                                   negative_items=["vice"], graded={"health": 3}, amount_yuan=40_000, submit=True)  # fmt: skip
    assert again.pk == draft.pk and again.status == ReviewStatus.SUBMITTED
    assert (again.amount_yuan, again.negative_items) == (40_000, ["vice"])
    with pytest.raises(ValidationError, match="该评议已提交"):
        actions.do_save_review(w.users["ev2"], rnd, head, knows_household=True, negative_items=[],
                               graded={}, amount_yuan=1, submit=True)  # fmt: skip
    event = AuditEvent.objects.get(action="evaluation.review.submit")
    assert "vice" not in str(event.after) and "40000" not in str(event.after)


def test_evaluators_read_only_their_own_reviews(project, village):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    actions.do_save_review(w.users["ev2"], rnd, w.persons["a11"], knows_household=True,
                           negative_items=["vice"], graded={}, amount_yuan=40_000, submit=True)  # fmt: skip
    assert actions.my_reviews(w.users["ev4"], rnd).count() == 0
    assert list(actions.my_reviews(w.users["ev2"], rnd).values_list("amount_yuan", flat=True)) == [
        40_000
    ]


def test_outsiders_and_other_villages_are_refused(project, village):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    with pytest.raises(PermissionDenied):  # not on the panel
        actions.do_save_review(w.users["cm_a"], rnd, w.persons["a11"], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=1, submit=True)  # fmt: skip
    with pytest.raises(PermissionDenied):  # a person of another village
        actions.do_save_review(w.users["ev2"], rnd, w.persons["b11"], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=1, submit=True)  # fmt: skip


def test_removing_an_evaluator_voids_their_drafts_with_the_reason(project, village):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    review = actions.do_save_review(w.users["ev4"], rnd, w.persons["a11"], knows_household=True,
                                    negative_items=[], graded={}, amount_yuan=1_000, submit=False)  # fmt: skip
    member = review.reviewer
    assert actions.do_remove_panel_member(w.users["cm_a"], member, "moved away") == 1
    review.refresh_from_db()
    assert review.status == ReviewStatus.VOID and "moved away" in review.void_reason
    with pytest.raises(PermissionDenied):
        actions.do_save_review(w.users["ev4"], rnd, w.persons["a11"], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=1, submit=True)  # fmt: skip


def test_closing_a_round_stores_each_verdict_with_its_inputs(project, village):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    head = w.persons["a11"]
    for key, amount, items in (("ev2", 30_000, []), ("ev4", 50_000, ["vice"])):
        actions.do_save_review(w.users[key], rnd, head, knows_household=True,
                               negative_items=items, graded={}, amount_yuan=amount, submit=True)  # fmt: skip
    assert actions.do_close_round(w.users["cm_a"], rnd) == 1
    verdict = Verdict.objects.get(round=rnd, person=head)
    assert (verdict.color, verdict.amount_yuan, verdict.valid_reviews) == ("black", None, 2)
    assert [r["amount"] for r in verdict.inputs["reviews"]] in ([30_000, 50_000], [50_000, 30_000])
    with pytest.raises(ValidationError, match="已结束"):
        actions.do_save_review(w.users["ev2"], rnd, w.persons["a51"], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=1, submit=True)  # fmt: skip
