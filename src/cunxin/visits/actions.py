"""Visit tasks from a signed-off evaluation, and recording a visit.

The survey amount is pre-filled per DESIGN.md §5: with min(evaluation, model amount) once
a model amount exists (the credit-decision work), until then with the evaluation amount.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.evaluation.actions import VERDICT_COLORS, store_photo
from cunxin.evaluation.models import Project, Round, Verdict
from cunxin.evaluation.policy import EvaluationPolicy
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
    households with an evaluation (all-black households are refused, not visited).
    Returns how many tasks were made."""
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
    households = Household.objects.in_bulk(list(chosen))
    grids, fallback = _grid_managers(project)
    now = timezone.now()
    VisitTask.objects.bulk_create(
        VisitTask(
            project=project, round=rnd, household_id=uid, reasons=reasons, created_at=now,
            assigned_to_id=grids.get(households[uid].grid_id, fallback),
        )
        for uid, reasons in chosen.items()
    )  # fmt: skip
    return len(chosen)


def _grid_managers(project: Project) -> tuple[dict[str, int], int]:
    """(grid code → the customer manager assigned to it, the CM for households on grids
    with nobody: the village's CM, else the project's responsible CM)."""
    open_ = Assignment.objects.filter(
        valid_to__isnull=True, staff__role=Role.CUSTOMER_MANAGER,
        staff__branch_id=project.village.branch_id,
    ).order_by("valid_from")  # fmt: skip
    village_cm = (
        open_.filter(village_id=project.village_id).values_list("staff_id", flat=True).first()
    )
    grids = dict(
        open_.filter(grid__village_id=project.village_id).values_list("grid_id", "staff_id")
    )
    return grids, village_cm or project.responsible_id


def my_tasks(staff: Staff, here: tuple[float, float] | None = None, *, done: bool = False):
    """The CM's open (or done) tasks; with `here` (lat, lon) nearest first, each with its
    distance in metres (None for a household without a location, listed last)."""
    tasks = list(
        VisitTask.objects.filter(assigned_to=staff, done_at__isnull=not done)
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


def may_record_visit(scope, task: VisitTask) -> bool:
    """The customer manager the task is assigned to, and nobody else."""
    return scope.staff is not None and scope.staff.pk == task.assigned_to_id


def do_record_visit(actor, task: VisitTask, form: VisitForm, policy: EvaluationPolicy) -> Visit:
    """Record the visit of the task's household: all members, each confirmed or not, with
    a survey amount; corrections keep the signed-off verdict next to the new one. Only
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
    for uid, person in members.items():
        m = found[uid]
        verdict = verdicts.get(uid)
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
            "unconfirmed": [r.person_id for r in rows if not r.confirmed],
        })  # fmt: skip
    return visit
