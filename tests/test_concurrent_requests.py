"""Two requests writing at once, on SQLite and PostgreSQL (issue 11 §5): a double-tapped propose, household
submit or visit used to give [302, 500] ("database is locked"). With BEGIN IMMEDIATE and a
busy timeout (project/settings.py) the second waits for the first and is refused with the
same message as on PostgreSQL. Real concurrent requests: one thread and one database
connection each, on the test database file."""

from __future__ import annotations

import threading
from html import unescape

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from conftest import give_scores, sign_off
from cunxin.decisions.models import Decision
from cunxin.evaluation import actions as evaluation
from cunxin.evaluation.models import Review, ReviewStatus, RoundKind
from cunxin.visits.models import Visit, VisitTask


@pytest.fixture
def sqlite_file(committed):
    """Committed rows; on SQLite a file database in IMMEDIATE mode. The same tests run on
    PostgreSQL, where row locks and unique constraints decide: the loser's answer must be
    the same on both."""
    if connection.vendor == "sqlite":
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        name = connection.settings_dict["NAME"]
        assert name and "memory" not in str(name), "a file database: threads share it for real"


def at_once(user, url: str, data: dict, n: int = 2) -> list:
    """`n` POSTs of `data` to `url` by `user`, released together; their responses."""
    start = threading.Barrier(n)
    responses: list = [None] * n

    def post(i: int) -> None:
        try:
            client = Client(raise_request_exception=False)
            client.force_login(user)
            start.wait()
            responses[i] = client.post(url, data)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in responses), "a request did not finish"
    return responses


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


def loser(responses):
    (refused,) = [r for r in responses if r.status_code != 302]
    return refused, unescape(refused.content.decode())


def test_two_proposals_at_once_give_one_decision_and_a_conflict_page(sqlite_file, village, project):  # fmt: skip
    w = village
    sign_off(w, project)
    give_scores(w, {"a11": "excellent"})

    responses = at_once(w.users["cm_a"], reverse("decisions:propose", args=["Pa11"]), {})

    assert statuses(responses) == [302, 409]
    _refused, page = loser(responses)
    assert "此人已有进行中的授信决策" in page
    assert 'data-testid="open-decision"' in page
    assert Decision.objects.filter(person_id="Pa11").count() == 1


def test_a_household_submitted_twice_at_once_keeps_one_review_each(sqlite_file, village, project):  # fmt: skip
    w = village
    rnd = evaluation.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    data = {"action": "submit"}
    for uid in ("Pa11", "Pa12"):
        data |= {f"knows-{uid}": "yes", f"grade-{uid}-health": "4", f"amount-{uid}": "50000"}

    responses = at_once(w.users["ev2"], reverse("evaluation:review", args=[rnd.pk, "Ha1"]), data)

    assert statuses(responses) == [302, 400]
    _refused, page = loser(responses)
    assert "该评议已提交" in page
    reviews = Review.objects.filter(round=rnd, reviewer__staff__user=w.users["ev2"])
    assert reviews.count() == 2
    assert set(reviews.values_list("status", flat=True)) == {ReviewStatus.SUBMITTED}


def test_a_visit_recorded_twice_at_once_is_recorded_once(sqlite_file, village, project):
    w = village
    sign_off(w, project)
    task = VisitTask.objects.get(project=project, household_id="Ha1")
    data = {"mode": "phone", "notes": "电话回访"}
    for uid in ("Pa11", "Pa12"):
        data |= {f"confirmed-{uid}": "on", f"survey-{uid}": "30000"}

    responses = at_once(w.users["cm_a"], reverse("visits:visit", args=[task.pk]), data)

    assert statuses(responses) == [302, 400]
    _refused, page = loser(responses)
    assert "该户已走访" in page
    assert Visit.objects.filter(task=task).count() == 1


def test_a_page_opens_while_a_long_write_holds_the_lock(sqlite_file, world):
    """GIVEN a writer holding the database's write lock (a publish, a batch run's rows),
    WHEN a signed-in user opens a page, THEN it answers at once: reads go on beside a
    writer (SQLite's write-ahead log) and a page that only reads writes no session row
    (it used to wait out the lock timeout and answer 400 on SQLite)."""
    from django.db import transaction

    from cunxin.pool.models import Segment

    client = Client(raise_request_exception=False)
    client.force_login(world.users["bm_a"])  # signed in before the lock is taken
    assert (
        client.get(reverse("home")).status_code == 200
    )  # (as after a real sign-in: the CSRF secret is in the session)
    holding, done = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                Segment.objects.create(
                    name="写入中", colors=["grey"], created_by=world.users["bm_a"]
                )
                holding.set()
                done.wait(timeout=60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        response = client.get(reverse("home"))
        # a page that waited for the lock would have timed out (503) while it is held
        assert response.status_code == 200
        assert thread.is_alive(), "the writer let go before the page answered"
    finally:
        done.set()
        thread.join(timeout=60)
