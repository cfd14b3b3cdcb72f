"""Reads about evaluation that several pages share (the evaluator's screens, the home
page's to-dos). No writes: those are in `actions.py`."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from cunxin.evaluation import actions
from cunxin.evaluation.models import PanelMember, Project, ReviewStatus, Round, RoundKind
from cunxin.evaluation.versions import evaluation_policy
from cunxin.pool.models import Household


def open_round_for(user, round_id: int | None = None) -> tuple[Round, PanelMember] | None:
    """The open first round the user holds an active seat in (the given one), and the seat.
    Two small queries: a single join over seat, project and round plans slowly."""
    rounds = Round.objects.filter(
        closed_at__isnull=True, kind=RoundKind.FIRST, project__closed_at__isnull=True,
        project__panel__staff__user=user, project__panel__removed_at__isnull=True,
    )  # fmt: skip
    if round_id is not None:
        rounds = rounds.filter(pk=round_id)
    rnd = rounds.select_related("project__village", "project__policy").first()
    if rnd is None:
        return None
    seat = (
        PanelMember.objects.filter(project_id=rnd.project_id, staff__user=user, removed_at__isnull=True)
        .select_related("staff__person")
        .first()
    )  # fmt: skip
    return (rnd, seat) if seat is not None else None


def households_left(user, rnd: Round, seat: PanelMember) -> int:
    """How many households of the round's village the evaluator has still to review: not
    submitted in full (no review, or a draft left), less those they may not review (their
    own, close relatives'). As the evaluator's list marks them: one COUNT, plus the
    conflict lookup of the list."""
    mine = actions.my_reviews(user, rnd)
    households = Household.objects.filter(
        village_id=rnd.project.village_id, retired_at__isnull=True
    )
    done = households.filter(
        uid__in=mine.filter(status=ReviewStatus.SUBMITTED).values("person__household_id")
    ).exclude(uid__in=mine.filter(status=ReviewStatus.DRAFT).values("person__household_id"))
    conflicts = actions.conflicting_households(
        seat, rnd.project.village_id, evaluation_policy(rnd.project.policy)
    )
    return households.exclude(uid__in=done.values("uid")).exclude(uid__in=list(conflicts)).count()


def projects_with_rounds_to_act(villages: QuerySet) -> QuerySet[Project]:
    """Open projects of the villages with a round to close, or whose first review (and
    re-review, if any) is closed and waits for the branch's sign-off (审定). One query."""
    rounds = Round.objects.filter(project=OuterRef("pk"))
    open_round = Exists(rounds.filter(closed_at__isnull=True))
    first_closed = Exists(rounds.filter(kind=RoundKind.FIRST, closed_at__isnull=False))
    signed_off = Exists(rounds.filter(kind=RoundKind.SIGN_OFF))
    return Project.objects.filter(village__in=villages, closed_at__isnull=True).filter(
        open_round | (first_closed & ~signed_off)
    )
