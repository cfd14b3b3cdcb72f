"""The home page's to-dos: per role, what waits for the user, counted, each with a link to
the list that shows exactly those items (tests/test_home_todo.py opens every link and
counts its rows).

Every count is one query over the user's scope (`org.scope`); the evaluator's adds the
conflict lookup its list makes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cunxin.decisions.api import decisions_in
from cunxin.decisions.batch_views import runs_needing_attention, runs_visible
from cunxin.decisions.models import BatchRun, Status
from cunxin.evaluation.fetch import households_left, open_round_for, projects_with_rounds_to_act
from cunxin.org.models import Role
from cunxin.org.scope import Scope
from cunxin.pool.models import PublishRun
from cunxin.visits.models import VisitTask


@dataclass(frozen=True)
class Todo:
    key: str  # data-testid="todo-<key>"
    label: Promise
    count: int
    url: str
    to_act: bool = True  # False for a figure to know, not an item to deal with

    @property
    def waiting(self) -> bool:
        return self.to_act and self.count > 0


def _decisions(scope: Scope, status: str) -> int:
    return decisions_in(scope).filter(status=status).count()


def _url(name: str, query: str = "") -> str:
    return reverse(name) + (f"?{query}" if query else "")


def todos_for(scope: Scope) -> list[Todo]:
    """The user's to-dos, most urgent first; none for a role without any."""
    role = scope.role
    if role == Role.CUSTOMER_MANAGER:
        return [
            Todo("visits", _("Visits to make"),
                 VisitTask.objects.filter(assigned_to=scope.staff, done_at__isnull=True).count(),
                 _url("visits:tasks")),
            Todo("referred-back", _("Decisions referred back"),
                 _decisions(scope, Status.REFERRED_BACK),
                 _url("decisions:list", f"status={Status.REFERRED_BACK}")),
            Todo("villages", _("My villages"), scope.villages().count(), _url("pool:villages"),
                 to_act=False),
        ]  # fmt: skip
    if role == Role.BRANCH_MANAGER:
        return [
            Todo("approvals", _("Decisions waiting for approval"),
                 _decisions(scope, Status.PROPOSED),
                 _url("decisions:list", f"status={Status.PROPOSED}")),
            Todo("rounds", _("Rounds to close or sign off"),
                 projects_with_rounds_to_act(scope.villages()).count(),
                 _url("evaluation:projects", "show=rounds")),
            Todo("without-cm", _("Villages without a customer manager"),
                 scope.villages_without_cm().count(), _url("pool:villages", "show=without_cm")),
        ]  # fmt: skip
    if role in (Role.HQ_ADMIN, Role.HQ_ANALYST):
        runs = runs_visible(scope).filter(purpose=BatchRun.Purpose.PRECREDIT)
        return [
            Todo("runs", _("Batch runs failed or interrupted"),
                 runs_needing_attention(runs).count(), _url("decisions:batches", "show=attention")),
            Todo("approvals", _("Decisions waiting for approval"),
                 _decisions(scope, Status.PROPOSED),
                 _url("decisions:list", f"status={Status.PROPOSED}")),
        ]  # fmt: skip
    if role == Role.EVALUATOR:
        found = open_round_for(scope.user)
        if found is None:
            return []
        rnd, seat = found
        return [
            Todo("households", _("Households left to review"),
                 households_left(scope.user, rnd, seat), _url("evaluation:home")),
        ]  # fmt: skip
    return []


def last_publish() -> PublishRun | None:
    """The newest publish run, queued ones too (HQ's home page). One query."""
    return PublishRun.objects.order_by("-created_at", "-pk").first()
