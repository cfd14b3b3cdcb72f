"""The three rounds after the panel's: 复评 (the CM changes verdicts with a reason, both
versions kept) and 审定 (the branch signs off; visit tasks are made)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from conftest import run_first_round
from cunxin.audit.models import AuditEvent
from cunxin.evaluation import actions
from cunxin.evaluation.models import QaCheck, RoundKind, Stage, Verdict
from cunxin.visits.models import VisitTask


@pytest.mark.django_db
def test_first_round_verdicts_and_qa_draw(village, project):
    w = village
    rnd = run_first_round(w, project)
    got = {v.person_id: (v.color, v.amount_yuan) for v in rnd.verdicts.all()}
    assert got == {
        "Pa11": ("white", 125_000), "Pa12": ("white", 50_000),
        "Pa41": ("grey", 30_000), "Pa51": ("white", 50_000),
    }  # fmt: skip
    # 5% of 9 submitted reviews, at least one
    assert QaCheck.objects.filter(review__round=rnd).count() == 1


@pytest.mark.django_db
def test_rounds_come_in_order(village, project):
    w = village
    with pytest.raises(ValidationError, match="初评"):
        actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)
    with pytest.raises(ValidationError, match="初评"):
        actions.do_open_round(w.users["cm_a"], project, RoundKind.SIGN_OFF)


@pytest.mark.django_db
def test_evaluators_do_not_review_in_the_re_review(village, project, client):
    w = village
    run_first_round(w, project)
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)
    with pytest.raises(PermissionDenied):
        actions.do_save_review(w.users["ev2"], rnd, w.persons["a51"], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=1, submit=True)  # fmt: skip
    client.force_login(w.users["ev2"])
    assert client.get(reverse("evaluation:home")).status_code == 404
    assert client.get(reverse("evaluation:review", args=[rnd.pk, "Ha5"])).status_code == 404


@pytest.mark.django_db
def test_a_re_review_change_keeps_the_first_verdict_and_carries_into_sign_off(village, project, client):  # fmt: skip
    w = village
    first = run_first_round(w, project)
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)
    client.force_login(w.users["cm_a"])
    url = reverse("evaluation:rereview", args=[rnd.pk])
    page = client.get(url).content.decode()
    assert page.index("周强") < page.index("张伟")  # grey before white
    # a change without a reason is refused and says so
    response = client.post(
        url, {"person": "Pa12", "color": "grey", "amount": "20000", "reason": ""}
    )
    assert response.status_code == 400 and "原因" in response.content.decode()
    response = client.post(url, {"person": "Pa12", "color": "grey", "amount": "20000", "reason": "在外务工，收入不稳"})  # fmt: skip
    assert response.status_code == 302
    with pytest.raises(ValidationError):
        actions.do_change_verdict(w.users["cm_a"], rnd, w.persons["a12"], color="white",
                                  amount_yuan=900_000, reason="x")  # fmt: skip
    actions.do_close_round(w.users["cm_a"], rnd)
    changed = Verdict.objects.get(round=rnd, person_id="Pa12")
    assert (changed.color, changed.amount_yuan) == ("grey", 20_000)
    assert changed.inputs["change"]["before"] == {"color": "white", "amount_yuan": 50_000}
    assert Verdict.objects.get(round=first, person_id="Pa12").color == "white"  # kept
    assert AuditEvent.objects.filter(action="evaluation.verdict.change").count() == 1
    # the branch signs off what the re-review left
    sign = actions.do_open_round(w.users["bm_a"], project, RoundKind.SIGN_OFF)
    with pytest.raises(PermissionDenied):
        actions.do_close_round(w.users["cm_a"], sign)  # a CM does not sign off
    actions.do_close_round(w.users["bm_a"], sign)
    assert Verdict.objects.get(round=sign, person_id="Pa12").color == "grey"
    project.refresh_from_db()
    assert project.stage == Stage.VISITING
    with pytest.raises(ValidationError):
        actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)


@pytest.mark.django_db
def test_sign_off_makes_visit_tasks_for_grey_high_and_a_sample(village, project):
    from conftest import sign_off

    w = village
    rnd = sign_off(w, project)
    tasks = {t.household_id: t for t in VisitTask.objects.filter(project=project)}
    assert set(tasks["Ha4"].reasons) == {"grey"}
    assert set(tasks["Ha1"].reasons) == {"above_threshold"}  # 张伟 125,000 > 100,000
    # the rest (Ha5) is one household: 10% of it, rounded up, is that one
    assert tasks["Ha5"].reasons == ["sample"]
    assert {t.assigned_to_id for t in tasks.values()} == {w.users["cm_a"].staff.pk}
    assert all(t.round_id == rnd.pk for t in tasks.values())
    event = AuditEvent.objects.filter(action="evaluation.round.close").latest("pk")
    assert event.after["visit_tasks"] == 3


@pytest.mark.django_db
def test_tasks_go_to_the_grid_manager(village, project, world):
    from django.utils import timezone

    from conftest import sign_off
    from cunxin.org.models import Assignment

    w = village
    # a second CM of branch A looks after grid GA1a (all of VA1's households)
    from world import PASSWORD  # noqa: F401

    other = w.users["cm_a"].staff.__class__.objects.create(
        user=w.users["norole"], role="customer_manager", display_name="cm_grid",
        branch=w.users["cm_a"].staff.branch,
    )  # fmt: skip
    Assignment.objects.create(staff=other, grid=w.grids["GA1a"], valid_from=timezone.now(),
                              assigned_by=w.users["hq_admin"])  # fmt: skip
    sign_off(w, project)
    assert set(VisitTask.objects.values_list("assigned_to", flat=True)) == {other.pk}
