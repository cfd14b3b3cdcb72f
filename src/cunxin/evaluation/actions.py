"""Evaluation state changes and the evaluator's only ways to read (back to back).

Each action checks who acts, changes rows in one transaction and writes the audit event.
An evaluator reads reviews only through `my_reviews`, which returns their own: there is
no function here that hands an evaluator anyone else's review or an aggregate while a
round is open.
"""

from __future__ import annotations

import dataclasses
import math
import random

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.evaluation import aggregate as rules
from cunxin.evaluation.conflict import Conflict, find_conflict
from cunxin.evaluation.models import (
    PanelMember,
    Photo,
    Project,
    QaCheck,
    Review,
    ReviewStatus,
    Round,
    RoundKind,
    Stage,
    Verdict,
    VerdictChange,
)
from cunxin.evaluation.policy import MAX_PANEL, MIN_PANEL, EvaluationPolicy
from cunxin.evaluation.signals import signed_off
from cunxin.evaluation.versions import evaluation_policy, evaluation_policy_in_force
from cunxin.org.models import Role, Staff, Village
from cunxin.org.scope import Scope, scope_for
from cunxin.pool.models import Person


# --- capabilities ----------------------------------------------------------------------------
# Who may do what: the action refuses (PermissionDenied), its view answers 403 before any
# work, and the template offers the button, all by asking the same function.
def _sees_village(scope: Scope, village_id: str) -> bool:
    return scope.villages().filter(pk=village_id).exists()


def may_start_project(scope: Scope, village: Village | None = None) -> bool:
    """HQ admins and branch managers (for a village they see, when one is given)."""
    return scope.role in (Role.HQ_ADMIN, Role.BRANCH_MANAGER) and (
        village is None or _sees_village(scope, village.pk)
    )


def may_manage_project(scope: Scope, project: Project) -> bool:
    """Panel, rounds, re-review changes, paper sheets: bank staff who may write and see the
    project's village. One query."""
    return scope.can_write and _sees_village(scope, project.village_id)


def may_sign_off(scope: Scope, project: Project) -> bool:
    """审定 (closing the sign-off round): a branch manager or an HQ admin who manages it."""
    return scope.role in (Role.HQ_ADMIN, Role.BRANCH_MANAGER) and may_manage_project(scope, project)


def may_record_qa(scope: Scope, project: Project) -> bool:
    """A re-check (验收): staff who manage the project, but not its responsible customer
    manager (`qa_refusal` says why to them)."""
    return may_manage_project(scope, project) and qa_refusal(scope.staff, project) is None


# --- projects and panels -----------------------------------------------------------------
def do_start_project(actor, village: Village, responsible: Staff) -> Project:
    """A village's 整村授信 project, with the policy in force today. HQ admins and the
    branch manager of the village's branch start one."""
    if not may_start_project(scope_for(actor), village):
        raise PermissionDenied
    if responsible.role != Role.CUSTOMER_MANAGER or responsible.branch_id != village.branch_id:
        raise ValidationError(
            _("The responsible person must be a customer manager of the village's branch.")
        )

    with transaction.atomic():
        if Project.objects.filter(village=village, closed_at__isnull=True).exists():
            raise ValidationError(_("This village already has an open project."))
        project = Project.objects.create(
            village=village, policy=evaluation_policy_in_force(), responsible=responsible,
            started_at=timezone.now(),
        )  # fmt: skip
        record(actor, "evaluation.project.start", project,
               after={"village": village.code, "policy": project.policy.version, "responsible": responsible.pk})  # fmt: skip
    return project


def require_manager(actor, project: Project) -> None:
    if not may_manage_project(scope_for(actor), project):
        raise PermissionDenied


def do_add_panel_member(
    actor, project: Project, staff: Staff, role: str, *, alternate: bool = False
) -> PanelMember:
    require_manager(actor, project)
    if staff.role != Role.EVALUATOR or staff.village_id != project.village_id:
        raise ValidationError(_("Panel members are evaluators of the project's village."))
    with transaction.atomic():
        active = PanelMember.objects.select_for_update().filter(
            project=project, removed_at__isnull=True
        )
        if active.filter(staff=staff).exists():
            raise ValidationError(_("This evaluator is already on the panel."))
        if active.count() >= MAX_PANEL:
            raise ValidationError(_("A panel has at most %(n)s members.") % {"n": MAX_PANEL})
        member = PanelMember.objects.create(
            project=project, staff=staff, role=role, alternate=alternate, joined_at=timezone.now()
        )
        record(actor, "evaluation.panel.add", member,
               after={"project": project.pk, "staff": staff.pk, "role": role, "alternate": alternate})  # fmt: skip
    return member


def do_remove_panel_member(actor, member: PanelMember, reason: str) -> int:
    """Take an evaluator off the panel; their unfinished (draft) reviews in open rounds are
    voided with the reason. Returns how many were voided."""
    require_manager(actor, member.project)
    if not reason.strip():
        raise ValidationError(_("Give a reason."))
    with transaction.atomic():
        member = PanelMember.objects.select_for_update().get(pk=member.pk)
        if member.removed_at is not None:
            raise ValidationError(_("This evaluator has already left the panel."))
        member.removed_at, member.removed_reason = timezone.now(), reason.strip()[:200]
        member.save(update_fields=["removed_at", "removed_reason"])
        voided = Review.objects.filter(
            reviewer=member, status=ReviewStatus.DRAFT, round__closed_at__isnull=True
        ).update(
            status=ReviewStatus.VOID,
            void_reason=_("Evaluator removed from the panel: %(r)s") % {"r": reason},
        )
        record(actor, "evaluation.panel.remove", member,
               after={"reason": member.removed_reason, "voided_drafts": voided})  # fmt: skip
    return voided


# --- rounds ------------------------------------------------------------------------------
def do_open_round(actor, project: Project, kind: str) -> Round:
    require_manager(actor, project)
    if kind not in RoundKind.values:
        raise ValidationError(_("Unknown round."))
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.rounds.filter(closed_at__isnull=True).exists():
            raise ValidationError(_("Another round of this project is open."))
        regular = project.panel.filter(removed_at__isnull=True, alternate=False).count()
        if kind == RoundKind.FIRST and regular < MIN_PANEL:
            raise ValidationError(
                _("A first review needs at least %(n)s regular panel members.") % {"n": MIN_PANEL}
            )
        if project.rounds.filter(kind=kind).exists():
            raise ValidationError(_("This round has already been held."))
        if (
            kind != RoundKind.FIRST
            and not project.rounds.filter(kind=RoundKind.FIRST, closed_at__isnull=False).exists()
        ):
            raise ValidationError(_("Close the first review before this round."))
        if kind == RoundKind.RE_REVIEW and project.rounds.filter(kind=RoundKind.SIGN_OFF).exists():
            raise ValidationError(_("The evaluation has already been signed off."))
        rnd = Round.objects.create(project=project, kind=kind, opened_at=timezone.now())
        if project.stage == Stage.COLLECTING:
            project.stage = Stage.EVALUATING
            project.save(update_fields=["stage"])
        record(actor, "evaluation.round.open", rnd, after={"project": project.pk, "kind": kind})
    return rnd


# --- reviewing (the evaluator) -------------------------------------------------------------
def _seat(user, rnd: Round) -> PanelMember:
    """The evaluator's active seat on the round's panel; 404-like refusal otherwise."""
    member = (
        PanelMember.objects.filter(
            project_id=rnd.project_id, staff__user=user, removed_at__isnull=True
        )
        .select_related("staff__person")
        .first()
    )
    if member is None:
        raise PermissionDenied
    return member


def conflict_for(member: PanelMember, person: Person, policy: EvaluationPolicy) -> Conflict | None:
    """Whether the panel member may not review `person`'s household. Two queries."""
    reviewer = member.staff.person
    if reviewer is None:
        return None
    members = list(
        Person.objects.filter(household_id=person.household_id, retired_at__isnull=True)
        .only("uid", "relations")
    ) if person.household_id else [person]  # fmt: skip
    relations = {
        p.uid: [(uid, rel) for uid, rel, *_ in (p.relations or [])] for p in [*members, reviewer]
    }
    return find_conflict(
        reviewer.uid, reviewer.household_id, person.household_id or person.uid,
        [p.uid for p in members], relations, policy.conflicting_relations,
    )  # fmt: skip


def conflicting_households(member: PanelMember, village_id: str, policy: EvaluationPolicy) -> dict[str, Conflict]:  # fmt: skip
    """The households of the village the panel member may not review, with the reason: their
    own, and those of close relatives by the relationship graph (either direction)."""
    reviewer = member.staff.person
    if reviewer is None:
        return {}
    related = [
        uid for uid, rel, *_ in (reviewer.relations or []) if rel in policy.conflicting_relations
    ]
    persons = Person.objects.filter(village_id=village_id, retired_at__isnull=True)
    candidates = set(
        persons.filter(Q(uid__in=related) | Q(relations__contains=reviewer.uid))
        .exclude(household_id=None)
        .values_list("household_id", flat=True)
    )  # fmt: skip
    if reviewer.household_id:
        candidates.add(reviewer.household_id)
    found = {}
    for household in sorted(candidates):
        person = persons.filter(household_id=household).first()
        if person is not None and (conflict := conflict_for(member, person, policy)):
            found[household] = conflict
    return found


@dataclasses.dataclass(frozen=True)
class ReviewInput:
    """What an evaluator answered for one person."""

    knows_household: bool | None
    negative_items: list[str] = dataclasses.field(default_factory=list)
    graded: dict[str, int] = dataclasses.field(default_factory=dict)
    amount_yuan: int | None = None


def _content_errors(answer: ReviewInput, policy: EvaluationPolicy, submit: bool) -> list[str]:
    errors = []
    if unknown := set(answer.negative_items) - set(policy.negative_items):
        errors.append(
            _("Unknown negative items: %(items)s") % {"items": ", ".join(sorted(unknown))}
        )
    if set(answer.graded) - set(policy.graded_items) or any(
        not isinstance(g, int) or not 1 <= g <= 5 for g in answer.graded.values()
    ):
        errors.append(_("A graded item is one of the policy's, graded 1 to 5."))
    if answer.amount_yuan is not None and not 0 <= answer.amount_yuan <= policy.amount_cap_yuan:
        errors.append(_("The suggested amount must be between 0 and %(cap)s yuan.")
                      % {"cap": policy.amount_cap_yuan})  # fmt: skip
    if submit and answer.knows_household is None:
        errors.append(_("Say whether you know this household."))
    return errors


def do_save_reviews(
    user, rnd: Round, answers: dict[Person, ReviewInput], *, submit: bool
) -> list[Review]:
    """Save (and with `submit`, hand in) the evaluator's reviews of members of one
    household, all or none. A draft can be changed and resumed; a submitted review cannot.
    One review per reviewer, person and round, also under concurrent submits (row locks +
    unique constraint). Refusals: ValidationError with a message list per person uid."""
    rnd = Round.objects.select_related("project__policy").get(pk=rnd.pk)  # not a stale copy
    member = _seat(user, rnd)
    policy = evaluation_policy(rnd.project.policy)
    if not rnd.is_open:
        raise ValidationError(_("This round is closed."))
    if rnd.kind != RoundKind.FIRST:
        raise PermissionDenied  # villagers review in the first round only
    persons = list(answers)
    if (
        not persons
        or len({p.household_id or p.uid for p in persons}) != 1
        or any(p.village_id != rnd.project.village_id or p.retired_at is not None for p in persons)
    ):
        raise PermissionDenied
    if conflict := conflict_for(member, persons[0], policy):
        raise ValidationError(
            _("You may not review this household (conflict of interest: %(why)s).")
            % {"why": conflict.label}
        )
    errors = {p.uid: e for p in persons if (e := _content_errors(answers[p], policy, submit))}
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if not round_still_open(rnd):
                raise ValidationError(_("This round is closed."))
            existing = {
                r.person_id: r
                for r in Review.objects.select_for_update().filter(
                    round=rnd, reviewer=member, person__in=persons
                )
            }
            if done := [p for p in persons if p.uid in existing and existing[p.uid].status != ReviewStatus.DRAFT]:  # fmt: skip
                raise ValidationError(
                    {p.uid: [_("This review has already been submitted.")] for p in done}
                )
            now = timezone.now()
            reviews, new = [], []
            for person in persons:
                answer = answers[person]
                review = existing.get(person.uid)
                if review is None:
                    review = Review(round=rnd, reviewer=member, person=person)
                    new.append(review)
                knows = answer.knows_household
                review.knows_household = knows
                review.negative_items = sorted(set(answer.negative_items)) if knows else []
                review.graded = answer.graded if knows else {}
                review.amount_yuan = answer.amount_yuan if knows else None
                review.updated_at = now
                if submit:
                    review.status, review.submitted_at = ReviewStatus.SUBMITTED, now
                reviews.append(review)
            Review.objects.bulk_create(new)
            Review.objects.bulk_update(
                [r for r in reviews if r not in new],
                ["knows_household", "negative_items", "graded", "amount_yuan", "status",
                 "submitted_at", "updated_at"],
            )  # fmt: skip
            if submit:
                # one event per household handed in: which reviews, not what they say (back to back)
                record(user, "evaluation.review.submit", rnd, after={
                    "status": ReviewStatus.SUBMITTED, "reviews": sorted(r.pk for r in reviews),
                    "household": persons[0].household_id,
                })  # fmt: skip
    except IntegrityError:  # the same evaluator's other submit got there first
        raise ValidationError(_("This review has already been submitted.")) from None
    return reviews


def do_save_review(
    user, rnd: Round, person: Person, *, knows_household: bool | None, negative_items: list[str],
    graded: dict[str, int], amount_yuan: int | None, submit: bool,
) -> Review:  # fmt: skip
    """One person's review (`do_save_reviews` for a household of one answer)."""
    answer = ReviewInput(knows_household, negative_items, graded, amount_yuan)
    try:
        return do_save_reviews(user, rnd, {person: answer}, submit=submit)[0]
    except ValidationError as e:
        raise ValidationError(e.messages) from None


def round_still_open(rnd: Round) -> bool:
    """Read the round under a shared lock: submissions do not wait for each other, but a
    close (which takes the row exclusively) waits for them, and they for it."""
    with connection.cursor() as cursor:
        lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
        cursor.execute(f"SELECT closed_at FROM evaluation_round WHERE id = %s{lock}", [rnd.pk])
        row = cursor.fetchone()
    return row is not None and row[0] is None


def my_reviews(user, rnd: Round):
    """The evaluator's own reviews in the round: the only reviews an evaluator can read."""
    return Review.objects.filter(round=rnd, reviewer__staff__user=user).exclude(
        status=ReviewStatus.VOID
    )


# --- closing -----------------------------------------------------------------------------
def do_close_round(actor, rnd: Round) -> int:
    """Close the round and store a verdict (with its inputs) per person. Returns how many.

    初评: the panel's reviews are aggregated and a QA sample is drawn (验收).
    复评: the first round's verdicts with the customer manager's changes applied.
    审定: the branch signs off the latest verdicts; the project moves on to visits and the
    visit tasks are made. Only a branch manager or an HQ admin signs off."""
    require_manager(actor, rnd.project)
    if rnd.kind == RoundKind.SIGN_OFF and not may_sign_off(scope_for(actor), rnd.project):
        raise PermissionDenied
    policy = evaluation_policy(rnd.project.policy)
    extra: dict = {}
    with transaction.atomic():
        rnd = Round.objects.select_for_update().select_related("project").get(pk=rnd.pk)
        if not rnd.is_open:
            raise ValidationError(_("This round is already closed."))
        rnd.closed_at = timezone.now()
        rnd.save(update_fields=["closed_at"])
        if rnd.kind == RoundKind.FIRST:
            verdicts = _aggregate_round(rnd, policy)
            extra["qa_drawn"] = draw_qa_sample(rnd, policy)
        else:
            previous = (
                rnd.project.rounds.filter(closed_at__isnull=False)
                .exclude(pk=rnd.pk)
                .order_by("-closed_at")
                .first()
            )
            verdicts = _carry_verdicts(rnd, previous)
        Verdict.objects.bulk_create(verdicts)
        if rnd.kind == RoundKind.SIGN_OFF:
            project = rnd.project
            project.stage = Stage.VISITING
            project.save(update_fields=["stage"])
            # the visits (and what else builds on a signed-off evaluation) start here
            for _receiver, counts in signed_off.send(
                Round, project=project, round=rnd, policy=policy
            ):
                extra.update(counts or {})
        record(
            actor,
            "evaluation.round.close",
            rnd,
            after={"kind": rnd.kind, "verdicts": len(verdicts), **extra},
        )
    return len(verdicts)


def _aggregate_round(rnd: Round, policy: EvaluationPolicy) -> list[Verdict]:
    submitted = list(
        rnd.reviews.filter(status=ReviewStatus.SUBMITTED).select_related(
            "reviewer__staff__person", "person"
        )
    )
    by_person: dict[str, list] = {}
    for r in submitted:
        by_person.setdefault(r.person_id, []).append(r)
    verdicts = []
    for uid, reviews in by_person.items():
        person = reviews[0].person
        inputs = []
        for r in reviews:
            conflict = conflict_for(r.reviewer, person, policy)
            inputs.append(rules.Review(
                reviewer=str(r.reviewer_id), person_uid=uid, knows_household=bool(r.knows_household),
                negative_items=frozenset(r.negative_items), graded=r.graded,
                amount_yuan=r.amount_yuan, conflict=conflict.relation if conflict else None,
            ))  # fmt: skip
        v = rules.aggregate(uid, inputs, policy)
        verdicts.append(Verdict(
            round=rnd, person_id=uid, color=v.color, amount_yuan=v.amount_yuan,
            valid_reviews=v.valid_reviews, reasons=list(v.reasons),
            inputs={"policy": policy.version, "reviews": [
                {"reviewer": i.reviewer, "knows": i.knows_household, "items": sorted(i.negative_items),
                 "amount": i.amount_yuan, "excluded": v.excluded.get(i.reviewer)} for i in inputs]},
        ))  # fmt: skip
    return verdicts


def _carry_verdicts(rnd: Round, previous: Round) -> list[Verdict]:
    """The previous round's verdicts, with this round's changes (复评) applied; each keeps
    where it came from and, when changed, the change."""
    changes = {c.person_id: c for c in rnd.changes.select_related("by")}
    verdicts = []
    for v in previous.verdicts.all():
        change = changes.get(v.person_id)
        inputs = {"from_round": previous.pk, "from_verdict": v.pk}
        color, amount, reasons = v.color, v.amount_yuan, list(v.reasons)
        if change is not None:
            color, amount = change.color, change.amount_yuan
            reasons.append(f"re-review: {change.reason}")
            inputs["change"] = {
                "by": change.by_id,
                "before": change.before,
                "reason": change.reason,
            }
        verdicts.append(Verdict(
            round=rnd, person_id=v.person_id, color=color, amount_yuan=amount,
            valid_reviews=v.valid_reviews, reasons=reasons, inputs=inputs,
        ))  # fmt: skip
    return verdicts


VERDICT_COLORS = ("white", "grey", "black")


def do_change_verdict(
    actor, rnd: Round, person: Person, *, color: str, amount_yuan: int | None, reason: str
) -> VerdictChange:
    """复评: change one person's first-round verdict in the open re-review round, with a
    reason. Changing it again replaces the change (the audit trail keeps each one). A
    person outside the actor's scope (a CM's grids) is as unknown as one that does not
    exist."""
    require_manager(actor, rnd.project)
    scope = scope_for(actor)
    staff = scope.staff
    if not scope.persons().filter(uid=person.uid).exists():
        raise ValidationError(_("Choose a person."))
    policy = evaluation_policy(rnd.project.policy)
    if rnd.kind != RoundKind.RE_REVIEW:
        raise ValidationError(_("Verdicts are changed in the re-review round."))
    if color not in VERDICT_COLORS:
        raise ValidationError(_("Choose white, grey or black."))
    if color == "black":
        amount_yuan = None
    elif amount_yuan is None or not 0 <= amount_yuan <= policy.amount_cap_yuan:
        raise ValidationError(
            _("The amount must be between 0 and %(cap)s yuan.") % {"cap": policy.amount_cap_yuan}
        )
    if not reason.strip():
        raise ValidationError(_("Give a reason."))
    with transaction.atomic():
        rnd = Round.objects.select_for_update().get(pk=rnd.pk)
        if not rnd.is_open:
            raise ValidationError(_("This round is closed."))
        first = Verdict.objects.filter(
            round__project_id=rnd.project_id, round__kind=RoundKind.FIRST, person=person
        ).first()
        if first is None:
            raise ValidationError(_("This person has no first-round verdict."))
        before = {"color": first.color, "amount_yuan": first.amount_yuan}
        change, _created = VerdictChange.objects.update_or_create(
            round=rnd, person=person,
            defaults={"before": before, "color": color, "amount_yuan": amount_yuan,
                      "reason": reason.strip()[:200], "by": staff, "at": timezone.now()},
        )  # fmt: skip
        record(actor, "evaluation.verdict.change", change, before=before,
               after={"color": color, "amount_yuan": amount_yuan, "reason": change.reason})  # fmt: skip
    return change


# --- QA sampling (验收) ---------------------------------------------------------------------
def draw_qa_sample(rnd: Round, policy: EvaluationPolicy, rng: random.Random | None = None) -> int:
    """Draw `qa_share` of the round's submitted reviews (at least one when there are any
    and the share is not 0) for re-check. Called in the transaction that closes the round."""
    rng = rng or random.SystemRandom()
    ids = sorted(rnd.reviews.filter(status=ReviewStatus.SUBMITTED).values_list("pk", flat=True))
    if not ids or policy.qa_share <= 0:
        return 0
    n = min(len(ids), max(1, math.ceil(policy.qa_share * len(ids))))
    now = timezone.now()
    QaCheck.objects.bulk_create(QaCheck(review_id=pk, drawn_at=now) for pk in rng.sample(ids, n))
    return n


def store_photo(staff: Staff, kind: str, image, latitude=None, longitude=None) -> Photo:
    """A cleaned image (`cunxin.lib.images`) as a Photo row; the place is a field."""
    return Photo.objects.create(
        kind=kind, content_type=image.content_type, data=image.data, width=image.width,
        height=image.height, latitude=latitude, longitude=longitude, taken_by=staff,
        taken_at=timezone.now(),
    )  # fmt: skip


def qa_refusal(staff: Staff, project: Project) -> str | None:
    """Why `staff` may not re-check the project's reviews (None: they may): a re-check is
    by someone other than the customer manager responsible for the project."""
    if staff.pk == project.responsible_id:
        return _("The project's responsible customer manager may not re-check its reviews.")
    return None


def do_record_qa(
    actor, check: QaCheck, *, passed: bool, note: str, photo, signature,
    latitude=None, longitude=None,
) -> QaCheck:  # fmt: skip
    """Record a re-check: pass or fail, a note (required on fail), a photo and the
    checker's signature (both cleaned images). The checker is bank staff in scope other
    than the project's responsible customer manager, and a check is recorded once."""
    project = check.review.round.project
    scope = scope_for(actor)
    if not may_record_qa(scope, project):
        if refusal := qa_refusal(scope.staff, project):
            raise ValidationError(refusal)
        raise PermissionDenied
    staff = scope.staff
    if not passed and not note.strip():
        raise ValidationError(_("Say what did not hold up."))
    if photo is None or signature is None:
        raise ValidationError(_("A photo and a signature are required."))
    with transaction.atomic():
        check = QaCheck.objects.select_for_update().get(pk=check.pk)
        if check.checked_at is not None:
            raise ValidationError(_("This review has already been re-checked."))
        check.checker, check.checked_at = staff, timezone.now()
        check.passed, check.note = passed, note.strip()[:500]
        check.photo = store_photo(staff, "qa", photo, latitude, longitude)
        check.signature = store_photo(staff, "signature", signature)
        check.save()
        record(actor, "evaluation.qa.check", check,
               after={"review": check.review_id, "passed": passed, "photo": check.photo_id})  # fmt: skip
    return check


def qa_pass_rates(villages) -> list[dict]:
    """Per village in `villages`: drawn, checked, passed and the pass rate (None when
    nothing is checked yet)."""
    rows = (
        QaCheck.objects.filter(review__round__project__village__in=villages)
        .values("review__round__project__village_id", "review__round__project__village__name")
        .annotate(
            drawn=Count("pk"),
            checked=Count("pk", filter=Q(checked_at__isnull=False)),
            passed=Count("pk", filter=Q(passed=True)),
        )
        .order_by("review__round__project__village_id")
    )
    return [
        {
            "village": r["review__round__project__village_id"],
            "name": r["review__round__project__village__name"],
            "drawn": r["drawn"], "checked": r["checked"], "passed": r["passed"],
            "rate": (r["passed"] / r["checked"]) if r["checked"] else None,
        }
        for r in rows
    ]  # fmt: skip
