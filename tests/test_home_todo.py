"""Each role's home page: its to-dos with counts (cunxin.project.todo), each linking to
the list that shows exactly those items, which the user can open.

Every world here holds items that a wrong count would take in: the same items of
another user or branch, done or closed ones, other statuses. The lists are counted by
their rows (data-testid), never by their wording.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from conftest import SCORED_GRADES, give_scores, run_first_round, sign_off
from cunxin.decisions import actions as decision_actions
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.models import BatchRun, Decision, Status
from cunxin.evaluation import actions
from cunxin.evaluation.models import Round, RoundKind
from cunxin.org.models import Assignment
from cunxin.visits.models import VisitTask

ROWS = {  # the list behind each to-do, and what marks one of its items
    "visits": 'data-testid="task-row"',
    "referred-back": 'data-testid="decision-row"',
    "approvals": 'data-testid="decision-row"',
    "villages": "/pool/villages/V",
    "without-cm": "/pool/villages/V",
    "rounds": 'data-testid="project-row"',
    "runs": 'data-testid="run-row"',
}


def home_for(client: Client, user) -> dict[str, tuple[int, str]]:
    """The to-dos on the user's home page: key → (count, link)."""
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    found = re.findall(
        r'<a href="([^"]+)" class="todo[^"]*" data-testid="todo-([a-z-]+)">.*?'
        r'data-testid="count">(\d+)</strong>',
        html,
    )
    return {key: (int(n), url.replace("&amp;", "&")) for url, key, n in found}


def items_behind(client: Client, key: str, url: str) -> int:
    """Opens the to-do's list as the same user; how many items it shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    if key in ("villages", "without-cm"):
        main = html.split("<main>", 1)[1]
        return len(set(re.findall(r'href="/pool/villages/(V[A-Z0-9]+)/"', main)))
    if key == "households":
        return len(re.findall(r'data-testid="household-row" data-progress="(?:todo|draft)"', html))
    return html.count(ROWS[key])


def assert_counts(client: Client, user, expected: dict[str, int]) -> None:
    todos = home_for(client, user)
    assert {k: n for k, (n, _url) in todos.items()} == expected
    for key, (n, url) in todos.items():
        assert items_behind(client, key, url) == n, f"{key}: {url}"


# --- customer manager -----------------------------------------------------------------------
@pytest.fixture
def signed(village, project):
    """VA1 signed off (visit tasks for cm_a, who holds VA1), with model grades, so that
    proposals have an amount (a 0-yuan result is a refusal, never proposed)."""
    sign_off(village, project)
    give_scores(village, SCORED_GRADES)
    return village


def _clone(decision: Decision, person, status: str) -> Decision:
    decision.pk, decision.person, decision.status = None, person, status
    decision.save()
    return decision


def test_a_customer_managers_to_dos_count_only_their_own(signed, client):
    w = signed
    tasks = list(VisitTask.objects.filter(assigned_to=w.users["cm_a"].staff).order_by("pk"))
    assert len(tasks) >= 2
    VisitTask.objects.filter(pk=tasks[0].pk).update(done_at=timezone.now())  # visited
    other = VisitTask.objects.get(pk=tasks[1].pk)  # cm_b's task: not cm_a's to do
    other.pk, other.household, other.assigned_to = None, w.households["b1"], w.users["cm_b"].staff
    other.save()
    first = decision_actions.do_propose(w.users["cm_a"], w.persons["a11"])
    decision_actions.do_transition(w.users["bm_a"], first, "refer_back", "补充调查")
    _clone(Decision.objects.get(pk=first.pk), w.persons["b11"], Status.REFERRED_BACK)  # branch B
    decision_actions.do_propose(w.users["cm_a"], w.persons["a12"])  # proposed: waits for bm_a

    assert_counts(client, w.users["cm_a"], {
        "visits": len(tasks) - 1, "referred-back": 1, "villages": 2,  # VA1, and VA2 by grid GA2
    })  # fmt: skip
    assert_counts(client, w.users["cm_b"], {"visits": 1, "referred-back": 1, "villages": 1})


# --- branch manager --------------------------------------------------------------------------
def test_a_branch_managers_approvals_and_villages_without_a_cm(signed, client):
    w = signed
    a11 = decision_actions.do_propose(w.users["cm_a"], w.persons["a11"])
    decision_actions.do_propose(w.users["cm_a"], w.persons["a12"])
    approved = decision_actions.do_propose(w.users["cm_a"], w.persons["a41"])
    decision_actions.do_transition(w.users["bm_a"], approved, "approve")
    _clone(Decision.objects.get(pk=a11.pk), w.persons["b11"], Status.PROPOSED)  # bm_b's

    assert_counts(client, w.users["bm_a"], {"approvals": 2, "rounds": 0, "without-cm": 0})
    assert_counts(client, w.users["bm_b"], {"approvals": 1, "rounds": 0, "without-cm": 0})

    # VA2 is held through one grid only: ending it leaves VA2 without a customer manager;
    # an inactive CM's assignment does not count either
    Assignment.objects.filter(grid_id="GA2").update(valid_to=timezone.now())
    w.users["cm_b"].is_active = False
    w.users["cm_b"].save(update_fields=["is_active"])
    assert_counts(client, w.users["bm_a"], {"approvals": 2, "rounds": 0, "without-cm": 1})
    assert_counts(client, w.users["bm_b"], {"approvals": 1, "rounds": 0, "without-cm": 1})


def test_a_branch_manager_sees_rounds_to_close_and_to_sign_off(village, project, client):
    w = village
    other = actions.do_start_project(w.users["bm_b"], w.villages["VB1"], w.users["cm_b"].staff)
    Round.objects.create(project=other, kind=RoundKind.FIRST, opened_at=timezone.now())  # bm_b's
    va2 = actions.do_start_project(w.users["bm_a"], w.villages["VA2"], w.users["cm_a"].staff)
    assert_counts(client, w.users["bm_a"], {"approvals": 0, "rounds": 0, "without-cm": 0})
    assert_counts(client, w.users["bm_b"], {"approvals": 0, "rounds": 1, "without-cm": 0})

    Round.objects.create(project=va2, kind=RoundKind.FIRST, opened_at=timezone.now())  # to close
    assert_counts(client, w.users["bm_a"], {"approvals": 0, "rounds": 1, "without-cm": 0})
    run_first_round(w, project)  # VA1's first review closed: waits for the branch's sign-off
    assert_counts(client, w.users["bm_a"], {"approvals": 0, "rounds": 2, "without-cm": 0})
    sign = actions.do_open_round(w.users["bm_a"], project, RoundKind.SIGN_OFF)  # to close
    assert_counts(client, w.users["bm_a"], {"approvals": 0, "rounds": 2, "without-cm": 0})
    actions.do_close_round(w.users["bm_a"], sign)  # signed off: nothing left in VA1
    assert_counts(client, w.users["bm_a"], {"approvals": 0, "rounds": 1, "without-cm": 0})


# --- head office -----------------------------------------------------------------------------
def _run(w, status, kind="village", code="VA1", purpose=BatchRun.Purpose.PRECREDIT, minutes=0):
    run = BatchRun.objects.create(
        purpose=purpose, scope_kind=kind, scope_code=code, scope_name=code,
        policy=credit_policy_in_force(), started_by=w.users["hq_admin"], status=status,
    )  # fmt: skip
    BatchRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=60 - minutes)
    )
    return run


def test_head_office_sees_failed_runs_until_they_are_run_again(signed, client):
    w = signed
    S = BatchRun.Status
    _run(w, S.FAILED, code="VA1", minutes=1)  # run again with success later: done
    _run(w, S.SUCCEEDED, code="VA1", minutes=2)
    _run(w, S.SUCCEEDED, code="VA2", minutes=1)  # succeeded before it failed: still to do
    _run(w, S.FAILED, code="VA2", minutes=2)
    _run(w, S.INTERRUPTED, kind="branch", code="ZHB", minutes=3)
    _run(w, S.FAILED, purpose=BatchRun.Purpose.WHATIF, kind="county", code="", minutes=4)
    _run(w, S.RUNNING, code="VB1", minutes=60)  # running now, not stale
    a11 = decision_actions.do_propose(w.users["cm_a"], w.persons["a11"])
    _clone(Decision.objects.get(pk=a11.pk), w.persons["b11"], Status.PROPOSED)  # branch B's

    for hq in ("hq_admin", "hq_analyst"):
        assert_counts(client, w.users[hq], {"runs": 2, "approvals": 2})
        html = client.get("/").content.decode()
        assert 'data-testid="todo-publish"' in html
        assert client.get("/pool/publish-runs/").status_code == 200


def test_hq_sees_the_newest_publish_queued_ones_too(village, client):
    """A queued publish has no start yet: it is still the newest (on PostgreSQL a descending
    order put it first by chance, on SQLite last)."""
    from cunxin.pool.models import PublishRun

    w = village
    t = timezone.now()
    PublishRun.objects.create(
        pool_dir="/p", published_by="ops", status=PublishRun.Status.SUCCEEDED,
        created_at=t - dt.timedelta(hours=2), started_at=t - dt.timedelta(hours=2),
    )  # fmt: skip
    queued = PublishRun.objects.create(
        pool_dir="/p", published_by="ops", status=PublishRun.Status.QUEUED,
        created_at=t + dt.timedelta(minutes=1),  # after the world's own
    )  # fmt: skip
    client.force_login(w.users["hq_admin"])
    html = client.get("/").content.decode()
    tile = re.search(r'data-testid="todo-publish".*?</a>', html, re.S).group(0)
    assert str(queued.get_status_display()) in tile
    assert timezone.localtime(queued.created_at).strftime("%m-%d %H:%M") in tile


# --- evaluator -------------------------------------------------------------------------------
def test_an_evaluator_counts_the_households_left_in_the_open_round(village, project, client):
    w = village
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)

    def review(ev, key, submit=True):
        actions.do_save_review(w.users[ev], rnd, w.persons[key], knows_household=True,
                               negative_items=[], graded={}, amount_yuan=10_000, submit=submit)  # fmt: skip

    # ev2 (of Ha4, which is not theirs to review): Ha1 submitted, Ha5 a draft
    review("ev2", "a11")
    review("ev2", "a12")
    review("ev2", "a51", submit=False)
    review("ev3", "a41")  # another evaluator's review changes nothing for ev2

    assert_counts(client, w.users["ev2"], {"households": 1})  # Ha5, the draft
    assert_counts(client, w.users["ev4"], {"households": 3})  # no person: no conflict
    assert_counts(client, w.users["ev3"], {"households": 0})  # Ha4 done; Ha1, Ha5 theirs


def test_an_evaluator_without_an_open_first_round_gets_no_link_to_a_404(village, project, client):
    w = village
    run_first_round(w, project)
    actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)  # the CM's round
    client.force_login(w.users["ev2"])

    html = client.get("/").content.decode()

    assert 'href="/evaluation/"' not in html
    assert client.get("/evaluation/").status_code == 404
