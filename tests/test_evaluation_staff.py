"""The bank's side of evaluation: projects, panels, rounds and results, in the browser's
place (Django test client)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cunxin.evaluation import actions
from cunxin.evaluation.models import Project, Round, RoundKind


@pytest.mark.django_db
def test_a_branch_manager_runs_a_round_from_start_to_results(client, village):
    w = village
    client.force_login(w.users["bm_a"])
    # GIVEN a project started from the page, with a panel of three
    response = client.post(reverse("evaluation:projects"), {"village": "VA1", "responsible": w.users["cm_a"].staff.pk})  # fmt: skip
    project = Project.objects.get(village_id="VA1")
    assert response.status_code == 302 and response.url == reverse(
        "evaluation:project", args=[project.pk]
    )
    for key in ("ev2", "ev3", "ev4"):
        client.post(reverse("evaluation:panel_add", args=[project.pk]), {"staff": w.users[key].staff.pk, "role": "representative"})  # fmt: skip
    assert project.panel.count() == 3
    # WHEN a first round is opened, reviewed and closed
    client.post(reverse("evaluation:round_open", args=[project.pk]), {"kind": RoundKind.FIRST})
    rnd = Round.objects.get(project=project)
    for key, amount in (("ev2", 30_000), ("ev4", 50_000)):
        actions.do_save_review(w.users[key], rnd, w.persons["a11"], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=amount, submit=True)  # fmt: skip
    page = client.get(reverse("evaluation:project", args=[project.pk])).content.decode()
    assert "30000" not in page and "50000" not in page  # while open: counts only
    assert client.get(reverse("evaluation:round_results", args=[rnd.pk])).status_code == 404
    client.post(reverse("evaluation:round_close", args=[rnd.pk]))
    # THEN the results show the verdict and the agreement
    results = client.get(reverse("evaluation:round_results", args=[rnd.pk]))
    assert results.status_code == 200
    body = results.content.decode()
    assert body.count('data-testid="verdict-row"') == 1 and "40,000" in body  # median of 30k, 50k


@pytest.mark.django_db
def test_other_branches_and_read_only_roles_cannot_run_a_project(client, village):
    w = village
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    url = reverse("evaluation:project", args=[project.pk])
    open_url = reverse("evaluation:round_open", args=[project.pk])
    client.force_login(w.users["bm_b"])
    assert client.get(url).status_code == 404
    assert client.post(open_url, {"kind": RoundKind.FIRST}).status_code == 404
    client.force_login(w.users["hq_analyst"])
    assert client.get(url).status_code == 200
    assert client.post(open_url, {"kind": RoundKind.FIRST}).status_code == 403
    client.force_login(w.users["cm_a"])
    assert client.post(reverse("evaluation:projects"), {"village": "VA2", "responsible": w.users["cm_a"].staff.pk}).status_code == 403  # fmt: skip


@pytest.mark.django_db
def test_a_bad_operation_says_why(client, village):
    w = village
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    client.force_login(w.users["cm_a"])
    response = client.post(reverse("evaluation:round_open", args=[project.pk]), {"kind": RoundKind.FIRST})  # fmt: skip
    assert response.status_code == 400  # no panel yet
    assert "至少" in response.content.decode()  # the action's refusal, on the page


@pytest.mark.django_db
def test_removing_a_panel_member_on_the_page_voids_their_drafts(client, project, village):
    from cunxin.evaluation.models import ReviewStatus

    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    draft = actions.do_save_review(w.users["ev4"], rnd, w.persons["a11"], knows_household=True,
                                   negative_items=[], graded={}, amount_yuan=1_000, submit=False)  # fmt: skip
    client.force_login(w.users["cm_a"])
    url = reverse("evaluation:panel_remove", args=[project.pk, draft.reviewer_id])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "搬走了"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.VOID and "搬走了" in draft.void_reason


@pytest.mark.django_db
def test_a_form_that_cannot_work_is_not_offered_and_the_page_says_why(client, project, village):
    """Starting a project where every village has one, or opening a round while one is
    open, was offered and then refused; now the page says why instead."""
    w = village
    client.force_login(w.users["bm_a"])
    actions.do_start_project(w.users["bm_a"], w.villages["VA2"], w.users["cm_a"].staff)
    page = client.get(reverse("evaluation:projects")).content.decode()
    assert 'data-testid="no-village-to-start"' in page and 'name="village"' not in page
    detail = reverse("evaluation:project", args=[project.pk])
    assert 'data-testid="round-open"' in client.get(detail).content.decode()
    actions.do_open_round(w.users["bm_a"], project, RoundKind.FIRST)
    page = client.get(detail).content.decode()
    assert 'data-testid="round-under-way"' in page and 'data-testid="round-open"' not in page
