"""Visit tasks from a signed-off evaluation, who holds them, and recording a visit.

A task goes to the customer manager who holds the household — the CM of its grid, else
the CM of its village — and follows the household: when a branch manager opens or ends
an assignment (`org.signals.assignments_changed`) or a publish moves a household, the
open tasks move to whoever holds them now (audited, `visits.task.reassign`). A task whose
household nobody holds stays with the project's responsible CM, marked for the branch
manager (`unheld_tasks`): the household page is not in that CM's scope until the grid is
assigned. A household published after sign-off gets its task then
(`tasks_for_late_households`).

The survey amount is pre-filled per DESIGN.md §5: with min(evaluation, model amount) once
a model amount exists (the credit-decision work), until then with the evaluation amount.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.evaluation.actions import VERDICT_COLORS, store_photo
from cunxin.evaluation.models import Project, Round, RoundKind, Verdict
from cunxin.evaluation.policy import EvaluationPolicy
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.geo import distance_m
from cunxin.org.models import Assignment, Role, Staff
from cunxin.org.scope import scope_for
from cunxin.pool.models import Household, Person
from cunxin.visits.models import Mode, TaskReason, Visit, VisitMember, VisitTask


# --- tasks -------------------------------------------------------------------------------
def task_reasons(verdicts: list[Verdict], policy: EvaluationPolicy) -> list[str]:
    """Why a household must be visited, from its members' signed-off verdicts (empty: it
    goes into the random sample draw)."""
    reasons = []
    colors = {v.color for v in verdicts}
    if "grey" in colors:
        reasons.append(TaskReason.GREY)
    if "insufficient" in colors:
        reasons.append(TaskReason.INSUFFICIENT)
    if any((v.amount_yuan or 0) > policy.visit_amount_threshold_yuan for v in verdicts):
        reasons.append(TaskReason.ABOVE_THRESHOLD)
    return [str(r) for r in reasons]


def make_visit_tasks(
    project: Project, rnd: Round, policy: EvaluationPolicy, rng: random.Random | None = None
) -> int:
    """Visit tasks for the village after sign-off: every grey or insufficient household,
    every one with an amount above the threshold, and `visit_sample_share` of the other
    households with an evaluation (all-black households are refused, not visited). Each
    goes to the CM who holds the household (`holder_for`), else the project's responsible
    CM. Returns how many tasks were made."""
    rng = rng or random.SystemRandom()
    by_household: dict[str, list[Verdict]] = {}
    for v in rnd.verdicts.select_related("person"):
        if v.person.household_id:
            by_household.setdefault(v.person.household_id, []).append(v)
    chosen: dict[str, list[str]] = {}
    rest = []
    for uid, verdicts in sorted(by_household.items()):
        reasons = task_reasons(verdicts, policy)
        if reasons:
            chosen[uid] = reasons
        elif any(v.color == "white" for v in verdicts):
            rest.append(uid)
    n_sample = min(len(rest), math.ceil(policy.visit_sample_share * len(rest)))
    for uid in rng.sample(rest, n_sample):
        chosen[uid] = [str(TaskReason.SAMPLE)]
    return _create_tasks(project, rnd, chosen)


def _create_tasks(project: Project, rnd: Round, chosen: dict[str, list[str]]) -> int:
    households = Household.objects.in_bulk(list(chosen))
    holding = holdings([project.village_id])[project.village_id]
    now = timezone.now()
    VisitTask.objects.bulk_create(
        VisitTask(
            project=project, round=rnd, household_id=uid, reasons=reasons, created_at=now,
            assigned_to_id=holder_for(households[uid], holding) or project.responsible_id,
        )
        for uid, reasons in chosen.items()
    )  # fmt: skip
    return len(chosen)


# --- who holds a household ---------------------------------------------------------------
@dataclass
class Holding:
    """A village's open customer-manager assignments: who holds each grid, who holds the
    village itself (staff pks, longest-standing first)."""

    grids: dict[str, list[int]] = field(default_factory=dict)
    village: list[int] = field(default_factory=list)

    def holders(self, household: Household) -> list[int]:
        """The CMs who hold the household: those of its grid, else those of its village.
        A grid is the more specific assignment, so its CM wins over the village's."""
        return self.grids.get(household.grid_id or "", []) or self.village


def holdings(village_ids) -> dict[str, Holding]:
    """village code → its Holding, counting the CMs of the village's branch only (a CM
    serves their own branch, `org.actions.do_assign`). One query."""
    village_ids = list(village_ids)
    out = {code: Holding() for code in village_ids}
    rows = (
        Assignment.objects.filter(valid_to__isnull=True, staff__role=Role.CUSTOMER_MANAGER)
        .filter(Q(village_id__in=village_ids) | Q(grid__village_id__in=village_ids))
        .select_related("grid__village", "village", "staff")
        .order_by("valid_from", "pk")
    )
    for a in rows:
        village = a.village or a.grid.village
        if a.staff.branch_id != village.branch_id:
            continue
        if a.grid_id:
            out[village.code].grids.setdefault(a.grid_id, []).append(a.staff_id)
        else:
            out[village.code].village.append(a.staff_id)
    return out


def holder_for(household: Household, holding: Holding, current: int | None = None) -> int | None:
    """Who should have the household's task: `current` if they still hold it (a task does
    not hop between two CMs of one grid), else the longest-standing holder; None when
    nobody holds the household."""
    holders = holding.holders(household)
    if current in holders:
        return current
    return holders[0] if holders else None


def held_q() -> Q:
    """Tasks whose household some customer manager holds (its grid, or its village)."""
    open_ = Assignment.objects.filter(valid_to__isnull=True, staff__role=Role.CUSTOMER_MANAGER)
    return Q(household__grid_id__in=open_.filter(grid__isnull=False).values("grid_id")) | Q(
        household__village_id__in=open_.filter(village__isnull=False).values("village_id")
    )


def unheld_tasks(scope) -> QuerySet[VisitTask]:
    """Open tasks in the user's villages whose household nobody holds: they wait with the
    project's responsible CM until the branch manager assigns the grid (for a branch
    manager's to-dos)."""
    return VisitTask.objects.filter(
        done_at__isnull=True, project__village__in=scope.villages()
    ).exclude(held_q())


def reassign_open_tasks(actor, village_ids) -> int:
    """Move the open tasks of the villages to the CM who now holds each household (or,
    when nobody does, to the project's responsible CM), each move audited. Runs in the
    caller's transaction (an assignment opened or ended, a publish). Returns how many
    moved."""
    village_ids = list(village_ids)
    tasks = list(
        VisitTask.objects.select_for_update(of=("self",))
        .filter(done_at__isnull=True, project__village_id__in=village_ids)
        .select_related("household", "project")
        .order_by("pk")
    )
    if not tasks:
        return 0
    holding = holdings(village_ids)
    moved = 0
    for task in tasks:
        h = task.household
        wanted = holder_for(h, holding[task.project.village_id], task.assigned_to_id)
        wanted = wanted or task.project.responsible_id
        if wanted == task.assigned_to_id:
            continue
        before = task.assigned_to_id
        task.assigned_to_id = wanted
        task.save(update_fields=["assigned_to"])
        record(actor, "visits.task.reassign", task,
               before={"assigned_to": before},
               after={"assigned_to": wanted, "held": bool(holding[task.project.village_id].holders(h))})  # fmt: skip
        moved += 1
    return moved


def on_assignments_changed(sender, *, actor, villages, **kwargs) -> None:
    """`org.signals.assignments_changed`: the open tasks follow the households."""
    reassign_open_tasks(actor, villages)


def tasks_for_late_households(actor) -> int:
    """After a publish: a household that appeared in a village after its evaluation was
    signed off (a family split, a move) and whose members have signed-off verdicts gets
    the task sign-off would have given it — for a grey or insufficient member or an
    amount above the threshold; the random sample is not drawn again. A household
    without any signed-off verdict gets none: its members were not evaluated and need an
    evaluation first. Then the open tasks of those villages follow the households (a
    household moved to another grid). Returns how many tasks were made."""
    made = 0
    signed = (
        Round.objects.filter(kind=RoundKind.SIGN_OFF, closed_at__isnull=False,
                             project__closed_at__isnull=True)
        .select_related("project__policy", "project__village")
    )  # fmt: skip
    villages = []
    for rnd in signed:
        project = rnd.project
        villages.append(project.village_id)
        tasked = VisitTask.objects.filter(project=project).values("household_id")
        by_household: dict[str, list[Verdict]] = {}
        for v in rnd.verdicts.filter(
            person__household__isnull=False, person__household__retired_at__isnull=True,
            person__retired_at__isnull=True, person__household__village_id=project.village_id,
        ).exclude(person__household_id__in=tasked).select_related("person"):  # fmt: skip
            by_household.setdefault(v.person.household_id, []).append(v)
        policy = evaluation_policy(project.policy)
        chosen = {
            uid: reasons
            for uid, verdicts in sorted(by_household.items())
            if (reasons := task_reasons(verdicts, policy))
        }
        if chosen:
            made += _create_tasks(project, rnd, chosen)
            record(actor, "visits.task.late", project, after={"round": rnd.pk, "households": sorted(chosen)})  # fmt: skip
    if villages:
        reassign_open_tasks(actor, villages)
    return made


def on_signed_off(sender, *, project, round, policy, **kwargs) -> dict[str, int]:
    """`evaluation.signals.signed_off`: the village's visit tasks (counted in the round's
    audit event)."""
    return {"visit_tasks": make_visit_tasks(project, round, policy)}


def on_publish(sender, *, actor, run, **kwargs) -> None:
    """`pool.signals.published`: tasks for households published after sign-off."""
    tasks_for_late_households(actor)


def my_tasks(staff: Staff, here: tuple[float, float] | None = None, *, done: bool = False):
    """The CM's open (or done) tasks; with `here` (lat, lon) nearest first, each with its
    distance in metres (None for a household without a location, listed last). Each
    task has `held` set: whether some CM holds its household (False: it waits with the
    project's responsible CM for the branch manager to assign the grid)."""
    tasks = list(
        VisitTask.objects.filter(assigned_to=staff, done_at__isnull=not done)
        .annotate(held=ExpressionWrapper(held_q(), output_field=BooleanField()))
        .select_related("household__group", "project__village")
        .order_by("project__village_id", "household__group_id", "household__household_no")
    )
    rows = []
    for task in tasks:
        h = task.household
        d = None
        if here and h.latitude is not None and h.longitude is not None:
            d = distance_m(here[0], here[1], float(h.latitude), float(h.longitude))
        rows.append((task, d))
    if here:
        rows.sort(key=lambda row: (row[1] is None, row[1] or 0))
    return rows


# --- the visit ---------------------------------------------------------------------------
@dataclass
class MemberFinding:
    """What the CM found for one member. `color`/`negative_items`/`amount_yuan` are the
    corrected evaluation; None keeps the signed-off one."""

    person_uid: str
    confirmed: bool
    survey_amount_yuan: int | None
    color: str | None = None
    amount_yuan: int | None = None
    correction_reason: str = ""


@dataclass
class VisitForm:
    mode: str
    notes: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    members: list[MemberFinding] = field(default_factory=list)
    photos: list = field(default_factory=list)  # cleaned images (cunxin.lib.images)


def signed_off(task: VisitTask) -> dict[str, Verdict]:
    """person uid → the signed-off verdict the visit confirms or corrects."""
    return {
        v.person_id: v for v in task.round.verdicts.filter(person__household_id=task.household_id)
    }


def survey_prefill(verdict: Verdict | None) -> int | None:
    """DESIGN.md §5: min(E, M); there is no model amount M yet, so E."""
    return verdict.amount_yuan if verdict is not None else None


ADULT_AGE = 18


def is_minor(person: Person) -> bool:
    """Under 18 by year of birth (`Person.age`): a minor is recorded as a member of the
    household but is not asked about (no survey amount, no confirmation): credit is for
    adults."""
    age = person.age()
    return age is not None and age < ADULT_AGE


def task_for(user, pk: int) -> VisitTask:
    """A visit task the user may see: their own, or any in scope for a branch manager,
    HQ or an analyst (404-like refusal otherwise)."""
    scope = scope_for(user)
    tasks = VisitTask.objects.select_related("household", "project__village", "round")
    if scope.role == Role.CUSTOMER_MANAGER:
        tasks = tasks.filter(assigned_to=scope.staff)
    elif scope.is_bank_staff:
        tasks = tasks.filter(project__village__in=scope.villages())
    else:
        tasks = tasks.none()
    return tasks.filter(pk=pk).first()


def holds_household(scope, task: VisitTask) -> bool:
    """Whether the task's household is in the user's scope (a CM: in a village or grid
    they hold). One query."""
    return scope.households().filter(uid=task.household_id).exists()


def may_record_visit(scope, task: VisitTask) -> bool:
    """The customer manager the task is assigned to, and nobody else, once the household
    is theirs: a task nobody's household waits with the project's responsible CM, who
    does not see that household, until the branch manager assigns its grid. One query."""
    return (
        scope.staff is not None
        and scope.staff.pk == task.assigned_to_id
        and holds_household(scope, task)
    )


def do_record_visit(actor, task: VisitTask, form: VisitForm, policy: EvaluationPolicy) -> Visit:
    """Record the visit of the task's household: all members, each confirmed or not, with
    a survey amount; corrections keep the signed-off verdict next to the new one. A minor
    (`is_minor`) is recorded unconfirmed (not asked) and without a survey amount. Only
    the assigned customer manager records it, once."""
    scope = scope_for(actor)
    if not may_record_visit(scope, task):
        raise PermissionDenied
    staff = scope.staff
    if form.mode not in Mode.values:
        raise ValidationError(_("Choose on site or by phone."))
    if form.mode == Mode.ON_SITE and (form.latitude is None or form.longitude is None):
        raise ValidationError(_("An on-site visit needs the location (allow it on the phone)."))
    members = {
        p.uid: p
        for p in Person.objects.filter(household_id=task.household_id, retired_at__isnull=True)
    }
    found = {m.person_uid: m for m in form.members}
    if set(found) != set(members):
        raise ValidationError(_("Record every member of the household."))
    verdicts = signed_off(task)
    errors = []
    rows = []
    minors = {uid for uid, person in members.items() if is_minor(person)}
    for uid, person in members.items():
        m = found[uid]
        verdict = verdicts.get(uid)
        if uid in minors:
            if m.survey_amount_yuan is not None:
                errors.append(_("%(name)s is a minor: no survey amount.") % {"name": person.name})
            m = replace(m, confirmed=False)  # not asked
        if m.survey_amount_yuan is not None and not (
            0 <= m.survey_amount_yuan <= policy.amount_cap_yuan
        ):
            errors.append(_("%(name)s: the survey amount must be between 0 and %(cap)s yuan.")
                          % {"name": person.name, "cap": policy.amount_cap_yuan})  # fmt: skip
        before = (
            {"color": verdict.color, "amount_yuan": verdict.amount_yuan, "verdict": verdict.pk}
            if verdict else {}
        )  # fmt: skip
        after = {}
        if m.color is not None and (
            m.color != before.get("color") or m.amount_yuan != before.get("amount_yuan")
        ):
            if m.color not in VERDICT_COLORS:
                errors.append(_("%(name)s: choose white, grey or black.") % {"name": person.name})
            elif m.color != "black" and not (
                m.amount_yuan is not None and 0 <= m.amount_yuan <= policy.amount_cap_yuan
            ):
                errors.append(_("%(name)s: a white or grey list entry needs its evaluation amount, between 0 and %(cap)s yuan.")
                              % {"name": person.name, "cap": policy.amount_cap_yuan})  # fmt: skip
            if not m.correction_reason.strip():
                errors.append(_("%(name)s: say why the evaluation is corrected.") % {"name": person.name})  # fmt: skip
            after = {"color": m.color, "amount_yuan": None if m.color == "black" else m.amount_yuan}
        rows.append(VisitMember(
            person=person, confirmed=m.confirmed, survey_amount_yuan=m.survey_amount_yuan,
            before=before, after=after, correction_reason=m.correction_reason.strip()[:200],
        ))  # fmt: skip
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = VisitTask.objects.select_for_update().get(pk=task.pk)
        if task.done_at is not None:
            raise ValidationError(_("This household has already been visited."))
        if task.assigned_to_id != staff.pk:  # its grid went to another CM meanwhile
            raise ValidationError(
                _("This household's visit has moved to another customer manager.")
            )
        now = timezone.now()
        visit = Visit.objects.create(
            task=task, by=staff, mode=form.mode, latitude=form.latitude,
            longitude=form.longitude, notes=form.notes.strip(), at=now,
        )  # fmt: skip
        for row in rows:
            row.visit = visit
        VisitMember.objects.bulk_create(rows)
        visit.photos.set(
            [store_photo(staff, "visit", img, form.latitude, form.longitude) for img in form.photos]
        )
        task.done_at = now
        task.save(update_fields=["done_at"])
        record(actor, "visits.visit.record", visit, after={
            "task": task.pk, "mode": form.mode, "photos": len(form.photos),
            "corrected": [r.person_id for r in rows if r.after],
            "unconfirmed": [r.person_id for r in rows if not r.confirmed and r.person_id not in minors],
            "minors": sorted(minors),
        })  # fmt: skip
    return visit
