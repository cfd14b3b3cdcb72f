"""Reviews submitted at the same moment (PostgreSQL, real concurrent transactions)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from cunxin.evaluation import actions
from cunxin.evaluation.models import Review, ReviewStatus, RoundKind


@pytest.mark.postgres
def test_simultaneous_submissions_leave_one_review_each_and_lose_nothing(postgres_db, committed, project, village):  # fmt: skip
    # GIVEN an open round
    rnd = actions.do_open_round(village.users["cm_a"], project, RoundKind.FIRST)
    head = village.persons["a11"]
    start = threading.Barrier(3)
    outcomes: list[str] = []

    def submit(key: str, amount: int) -> None:
        try:
            start.wait()
            actions.do_save_review(village.users[key], rnd, head, knows_household=True,
                                   negative_items=[], graded={}, amount_yuan=amount, submit=True)  # fmt: skip
            outcomes.append(f"{key}:ok")
        except ValidationError:
            outcomes.append(f"{key}:refused")
        except BaseException as e:  # anything else is a failure of the test
            outcomes.append(f"{key}:{type(e).__name__}:{e}")
        finally:
            connections.close_all()

    # WHEN two evaluators submit at once, and one of them twice
    threads = [threading.Thread(target=submit, args=args) for args in (("ev2", 30_000), ("ev2", 31_000), ("ev4", 50_000))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # THEN each has exactly one submitted review; the duplicate was refused, not lost silently
    assert sorted(outcomes) == ["ev2:ok", "ev2:refused", "ev4:ok"], outcomes
    reviews = Review.objects.filter(round=rnd, person=head)
    assert reviews.count() == 2
    assert set(reviews.values_list("status", flat=True)) == {ReviewStatus.SUBMITTED}
    assert reviews.get(reviewer__staff__user=village.users["ev2"]).amount_yuan in (30_000, 31_000)
