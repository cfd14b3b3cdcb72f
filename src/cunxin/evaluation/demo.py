"""Demo evaluation: the demo evaluator's village has an open first round to review on the
phone; a second village has been through a SIMULATED panel (reviews generated here, not
by people), the branch's sign-off and so has visit tasks for the demo customer manager.

Nothing here is meant for a real bank. The simulated reviewers are named 模拟评议员 so that
nobody mistakes them for villagers.
"""

from __future__ import annotations

import random
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from cunxin.evaluation import actions
from cunxin.evaluation.models import PanelRole, Project, Review, ReviewStatus, RoundKind
from cunxin.evaluation.versions import evaluation_policy
from cunxin.org import actions as org_actions
from cunxin.org.demo import SYSTEM_ADMIN
from cunxin.org.models import Role, Staff, Village
from cunxin.org.scope import scope_for
from cunxin.pool.models import Person

SIMULATED = "模拟评议员"


def _panel(admin, village: Village, n: int, prefix: str) -> list[Staff]:
    """`n` evaluator staff of the village, each a villager from a different household."""
    User = get_user_model()
    people = Person.objects.filter(
        village=village, retired_at__isnull=True, relation_to_head="户主"
    ).order_by("uid")[: n * 3 : 3]
    staff = []
    for i, person in enumerate(people, 1):
        username = f"{prefix}{village.code}-{i}"
        existing = Staff.objects.filter(user__username=username).first()
        staff.append(existing or org_actions.do_create_staff(
            admin, username=username, password=secrets.token_urlsafe(18), role=Role.EVALUATOR,
            display_name=f"{SIMULATED}{i}", village=village, person=person,
        ))  # fmt: skip
        user = User.objects.get(username=username)
        user.set_unusable_password()  # simulated: nobody signs in as them
        user.save(update_fields=["password"])
    return staff


def setup_demo_evaluation() -> list[str]:
    """For the demo users of `cunxin.org.demo`: returns what was set up, in lines."""
    cm = Staff.objects.get(user__username="cm")
    evaluator = Staff.objects.get(user__username="evaluator")
    second = (
        Village.objects.filter(branch_id=cm.branch_id, retired_at__isnull=True)
        .exclude(pk=evaluator.village_id)
        .order_by("code")
        .first()
    )
    _setup(get_user_model().objects.get(username=SYSTEM_ADMIN),
           get_user_model().objects.get(username="bm"), cm, evaluator, second)  # fmt: skip
    lines = []
    for project in Project.objects.filter(closed_at__isnull=True).select_related("village"):
        tasks = project.visit_tasks.count()
        mine = project.visit_tasks.filter(
            assigned_to=cm, household__in=scope_for(cm.user).households()
        ).count()
        lines.append(
            f"{project.village}: {project.get_stage_display()}"
            + (f", {tasks} visit tasks (SIMULATED panel reviews): {mine} on cm's grid, "
               f"{tasks - mine} waiting with cm until bm assigns their grids" if tasks else
               ", first round open for the evaluator")
        )  # fmt: skip
    return lines


@transaction.atomic
def _setup(admin, bm, cm: Staff, evaluator: Staff, second: Village | None) -> None:
    """Idempotent: villages that already have a project are left alone."""
    first = evaluator.village
    if not Project.objects.filter(village=first).exists():
        project = actions.do_start_project(bm, first, cm)
        actions.do_add_panel_member(admin, project, evaluator, PanelRole.REPRESENTATIVE)
        for s in _panel(admin, first, 2, "demo-ev-"):
            actions.do_add_panel_member(admin, project, s, PanelRole.COMMITTEE)
        actions.do_open_round(admin, project, RoundKind.FIRST)
    if second is None or Project.objects.filter(village=second).exists():
        return
    project = actions.do_start_project(bm, second, cm)
    panel = [actions.do_add_panel_member(admin, project, s, PanelRole.REPRESENTATIVE)
             for s in _panel(admin, second, 3, "demo-sim-")]  # fmt: skip
    rnd = actions.do_open_round(admin, project, RoundKind.FIRST)
    _simulate_reviews(rnd, panel, random.Random(second.code))
    actions.do_close_round(admin, rnd)
    sign = actions.do_open_round(bm, project, RoundKind.SIGN_OFF)
    actions.do_close_round(bm, sign)


def _simulate_reviews(rnd, panel, rng: random.Random) -> None:
    """Each simulated reviewer knows 90% of the adults; a household's amounts scatter
    around one level; 4% of the adults get a negative item from one reviewer."""
    policy = evaluation_policy(rnd.project.policy)
    adults = Person.objects.filter(
        village_id=rnd.project.village_id, retired_at__isnull=True, birth_year__lte=2008,
        birth_year__gte=1961,
    ).values_list("uid", "household_id")  # fmt: skip
    level = {}
    reviews = []
    for uid, household in adults:
        base = level.setdefault(household, rng.choice((20_000, 30_000, 50_000, 80_000, 120_000)))
        flagged = rng.random() < 0.04
        for i, member in enumerate(panel):
            knows = rng.random() < 0.9
            negative = ["overindebted"] if flagged and i == 0 and knows else []
            amount = min(policy.amount_cap_yuan, round(base * rng.uniform(0.8, 1.2), -3))
            reviews.append(Review(
                round=rnd, reviewer=member, person_id=uid, knows_household=knows,
                negative_items=negative, graded={}, amount_yuan=amount if knows else None,
                status=ReviewStatus.SUBMITTED, submitted_at=rnd.opened_at,
            ))  # fmt: skip
    Review.objects.bulk_create(reviews, batch_size=2000)
