"""Who gets a visit task (issue 11): the CM who holds the household's grid (or village),
not every CM of the village; tasks follow reassignment; a household nobody holds waits
with the project's responsible CM, marked for the branch manager; a household published
after sign-off gets its task; everything a CM is sent to opens.

Village VA1 (tests/conftest.py): Ha1 = 张伟 + 李芳 (grid GA1a, above the threshold), Ha4 =
周强 (grey), Ha5 = 张军 (white: the random sample of one). `split_grids` moves Ha4 and Ha5
to grid GA1b and leaves cm_a with grid GA1a only."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from conftest import sign_off
from cunxin.audit.models import AuditEvent
from cunxin.org import actions as org_actions
from cunxin.org.models import Assignment, Role, Staff
from cunxin.pool.models import Household, Person
from cunxin.visits import actions
from cunxin.visits.models import Visit, VisitTask
from test_publish import small_pool  # noqa: F401 (the session's small built pool)
from world import PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="(/(?:pool|visits)/[^"]+)"')


def split_grids(w) -> None:
    Household.objects.filter(uid__in=["Ha4", "Ha5"]).update(grid=w.grids["GA1b"])
    Assignment.objects.filter(staff=w.users["cm_a"].staff, village=w.villages["VA1"]).update(
        valid_to=timezone.now()
    )
    Assignment.objects.create(staff=w.users["cm_a"].staff, grid=w.grids["GA1a"],
                              valid_from=timezone.now(), assigned_by=w.users["hq_admin"])  # fmt: skip


def second_cm(w) -> Staff:
    user = get_user_model().objects.create_user("cm_c", password=PASSWORD)
    w.users["cm_c"] = user
    return Staff.objects.create(user=user, role=Role.CUSTOMER_MANAGER, display_name="cm_c",
                                branch=w.villages["VA1"].branch)  # fmt: skip


def fresh(user):
    """The user as a new request sees them (the scope is cached on the user object)."""
    return get_user_model().objects.get(pk=user.pk)


def owners(project) -> dict[str, str]:
    return dict(
        VisitTask.objects.filter(project=project).values_list("household_id", "assigned_to__user__username")
    )  # fmt: skip


def assert_links_open(client, body: str) -> None:
    links = [link for link in LINK.findall(body) if not link.endswith(".jpg")]
    assert links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_each_grid_cm_gets_their_grids_tasks_only(client, village, project):
    w = village
    split_grids(w)
    cm_c = second_cm(w)
    org_actions.do_assign(fresh(w.users["bm_a"]), cm_c, grid=w.grids["GA1b"])
    sign_off(w, project)
    assert owners(project) == {"Ha1": "cm_a", "Ha4": "cm_c", "Ha5": "cm_c"}
    client.force_login(w.users["cm_a"])
    body = client.get(reverse("visits:tasks")).content.decode()
    assert body.count('data-testid="task-row"') == 1 and "周强" not in body
    assert 'data-testid="waiting"' not in body
    assert_links_open(client, body)


def test_after_a_visit_the_cm_opens_the_household_and_proposes_from_the_360(client, village, project):  # fmt: skip
    from test_visits import visit_post

    w = village
    split_grids(w)
    sign_off(w, project)
    task = VisitTask.objects.get(project=project, household_id="Ha1")
    client.force_login(w.users["cm_a"])
    assert client.post(reverse("visits:visit", args=[task.pk]), visit_post(task)).status_code == 302
    body = client.get(reverse("visits:visit", args=[task.pk])).content.decode()
    assert 'data-testid="household-link"' in body and body.count('data-testid="member-360"') == 2
    assert_links_open(client, body)  # the household page and both 360 pages


def test_a_household_nobody_holds_waits_with_the_responsible_cm_marked_for_the_branch(client, village, project):  # fmt: skip
    w = village
    split_grids(w)  # nobody holds GA1b
    sign_off(w, project)
    assert owners(project) == {"Ha1": "cm_a", "Ha4": "cm_a", "Ha5": "cm_a"}  # the responsible CM
    client.force_login(w.users["cm_a"])
    body = client.get(reverse("visits:tasks")).content.decode()
    assert body.count('data-testid="task-row"') == 1
    assert body.count('data-testid="waiting-row"') == 2 and 'data-testid="waiting"' in body
    assert_links_open(client, body)  # the waiting tasks' visit pages open too
    waiting = VisitTask.objects.get(project=project, household_id="Ha4")
    page = client.get(reverse("visits:visit", args=[waiting.pk])).content.decode()
    assert 'data-testid="not-in-scope"' in page and "/pool/households/Ha4/" not in page
    # not their household: no name, address or member, and no visit to record
    h4 = Household.objects.get(uid="Ha4")
    assert h4.household_no in page and h4.head_name not in page
    assert not h4.address or h4.address not in page
    assert 'data-testid="visit-member-form"' not in page and 'data-testid="visit-form"' not in page
    assert h4.head_name not in body
    from test_visits import visit_post

    refused = client.post(reverse("visits:visit", args=[waiting.pk]), visit_post(waiting))
    assert refused.status_code == 403 and not Visit.objects.filter(task=waiting).exists()
    assert {t.household_id for t in actions.unheld_tasks(actions.scope_for(fresh(w.users["bm_a"])))} == {"Ha4", "Ha5"}  # fmt: skip
    client.force_login(w.users["bm_a"])
    board = client.get(reverse("visits:project", args=[project.pk])).content.decode()
    assert 'data-testid="waiting"' in board and board.count('data-testid="unheld"') == 2


def test_open_tasks_follow_the_grid_to_its_new_cm_and_back(client, village, project):
    w = village
    split_grids(w)
    sign_off(w, project)
    cm_c = second_cm(w)
    bm = fresh(w.users["bm_a"])
    # the branch manager assigns GA1b: its open tasks move to cm_c, each move audited
    assignment = org_actions.do_assign(bm, cm_c, grid=w.grids["GA1b"])
    assert owners(project) == {"Ha1": "cm_a", "Ha4": "cm_c", "Ha5": "cm_c"}
    moves = AuditEvent.objects.filter(action="visits.task.reassign")
    assert moves.count() == 2
    assert {(e.before["assigned_to"], e.after["assigned_to"]) for e in moves} == {(w.users["cm_a"].staff.pk, cm_c.pk)}  # fmt: skip
    client.force_login(w.users["cm_c"])
    body = client.get(reverse("visits:tasks")).content.decode()
    assert body.count('data-testid="task-row"') == 2
    assert_links_open(client, body)
    # a done task stays with who visited; the open ones go back when the grid is given up
    VisitTask.objects.filter(project=project, household_id="Ha5").update(done_at=timezone.now())
    org_actions.do_end_assignment(bm, assignment)
    assert owners(project) == {"Ha1": "cm_a", "Ha4": "cm_a", "Ha5": "cm_c"}
    # a CM given the village as well does not take the grid CM's tasks: the grid wins
    cm_d_user = get_user_model().objects.create_user("cm_d", password=PASSWORD)
    cm_d = Staff.objects.create(user=cm_d_user, role=Role.CUSTOMER_MANAGER, display_name="cm_d", branch=cm_c.branch)  # fmt: skip
    org_actions.do_assign(bm, cm_d, village=w.villages["VA1"])
    assert owners(project) == {"Ha1": "cm_a", "Ha4": "cm_d", "Ha5": "cm_c"}


def test_a_household_published_after_sign_off_gets_its_task(village, project):
    from cunxin.pool.signals import published

    w = village
    sign_off(w, project)
    assert "Ha6" not in owners(project)
    # 周强 (grey) moves into a new household on GA1a; a newcomer without a verdict, too
    new = Household.objects.create(uid="Ha6", household_no="a6", head_uid="Pa41", head_name="周强",
                                   village=w.villages["VA1"], grid=w.grids["GA1a"],
                                   content_hash="x", publish_run=w.run)  # fmt: skip
    Person.objects.filter(uid="Pa41").update(household=new)
    Household.objects.create(uid="Ha7", household_no="a7", head_uid="Px", head_name="新户",
                             village=w.villages["VA1"], grid=w.grids["GA1a"],
                             content_hash="x", publish_run=w.run)  # fmt: skip
    Person.objects.create(uid="Px", household_id="Ha7", village=w.villages["VA1"], name="新户",
                          content_hash="x", publish_run=w.run)  # fmt: skip
    published.send(None, actor="test", run=w.run)
    task = VisitTask.objects.get(project=project, household_id="Ha6")
    assert task.reasons == ["grey"] and task.assigned_to == w.users["cm_a"].staff
    assert "Ha7" not in owners(project)  # not evaluated: no verdict, no visit yet
    published.send(None, actor="test", run=w.run)  # idempotent
    assert VisitTask.objects.filter(project=project, household_id="Ha6").count() == 1
    assert AuditEvent.objects.filter(action="visits.task.late").count() == 1


def test_a_publish_tells_the_apps(small_pool):  # noqa: F811
    from cunxin.pool.publish import publish
    from cunxin.pool.signals import published

    calls = []

    def receiver(sender, *, actor, run, **kwargs):
        calls.append((actor, run.pk))

    published.connect(receiver)
    try:
        run = publish(small_pool, by="tester")
    finally:
        published.disconnect(receiver)
    assert calls == [("tester", run.pk)]
