"""State changes of the organisation: each validates, changes atomically and audits."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.lib.text import clean_typed_name
from cunxin.org.models import Assignment, Branch, Grid, Role, Staff, Village
from cunxin.org.scope import scope_for
from cunxin.org.signals import assignments_changed


def _snapshot(staff: Staff) -> dict:
    return {
        "username": staff.user.username, "role": staff.role, "display_name": staff.display_name,
        "branch": staff.branch_id, "village": staff.village_id, "person": staff.person_id,
        "active": staff.user.is_active,
    }  # fmt: skip


def _check_home(role: str, branch: Branch | None, village: Village | None, person) -> None:
    if role in (Role.BRANCH_MANAGER, Role.CUSTOMER_MANAGER) and branch is None:
        raise ValidationError(_("A branch manager or customer manager needs a branch."))
    if role == Role.EVALUATOR and village is None:
        raise ValidationError(_("An evaluator needs a village."))
    if role == Role.CUSTOMER and person is None:
        raise ValidationError(_("A customer account needs the customer's person record."))


def bootstrap_hq_admin(*, username: str, password: str, display_name: str, by: str) -> Staff:
    """The first HQ admin of a new installation (`cunxin org create-admin`), who then
    creates everyone else in the app. Audited with the operating-system user as actor."""
    User = get_user_model()
    username = check_username(username)
    password_validation.validate_password(password, User(username=username))
    display_name = clean_typed_name(display_name)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This user name is taken."))
        user = User.objects.create_user(
            username=username, password=password, is_staff=True, is_superuser=True
        )
        staff = Staff.objects.create(user=user, role=Role.HQ_ADMIN, display_name=display_name)
        record(f"cli:{by}", "org.staff.create", staff, after=_snapshot(staff))
    return staff


def do_create_branch(actor, code: str, name: str) -> Branch:
    scope_for(actor).require(scope_for(actor).can_manage_staff)
    name = clean_typed_name(name)
    with transaction.atomic():
        if Branch.objects.filter(code=code).exists():
            raise ValidationError(_("A branch with this code exists."))
        branch = Branch.objects.create(code=code, name=name)
        record(actor, "org.branch.create", branch, after={"code": code, "name": name})
    return branch


def do_set_village_branch(actor, village: Village, branch: Branch | None) -> None:
    """Move a village to another branch (or to none). Customer managers of other branches
    lose their open assignments on the village and on its grids (ended, kept in the
    history): a CM serves their own branch's villages only."""
    scope_for(actor).require(scope_for(actor).can_manage_staff)
    with transaction.atomic():
        before = Village.objects.select_for_update().get(pk=village.pk).branch_id
        village.branch = branch
        village.save(update_fields=["branch"])
        # Subqueries rather than joins: PostgreSQL locks no nullable side of an outer join.
        stale = Assignment.objects.select_for_update().filter(
            Q(village=village) | Q(grid__in=Grid.objects.filter(village=village).values("pk")),
            valid_to__isnull=True,
        )
        if branch is not None:
            stale = stale.exclude(staff__in=Staff.objects.filter(branch=branch).values("pk"))
        for a in stale.order_by("pk"):
            _end(actor, a)
        record(actor, "org.village.branch", village, before={"branch": before},
               after={"branch": branch.code if branch else None})  # fmt: skip


def check_username(username: str) -> str:
    """A new user name as it will be stored (NFKC, as Django normalises it): letters of any
    script, digits and @ . + - _ only — no space, nothing invisible (a name that looks
    like another's). Raises ValidationError."""
    username = get_user_model().normalize_username(username or "")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise ValidationError(
            _("A user name has letters, digits and @ . + - _ only (no space).")
        ) from None
    return username


def do_create_staff(
    actor, *, username: str, password: str, role: str, display_name: str,
    branch: Branch | None = None, village: Village | None = None, person=None,
) -> Staff:  # fmt: skip
    """A user with a role. HQ admins become Django staff (they may use Django admin). The
    password must pass the password policy (AUTH_PASSWORD_VALIDATORS): a ValidationError
    carries what is wrong with it."""
    scope_for(actor).require(scope_for(actor).can_manage_staff)
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    _check_home(role, branch, village, person)
    display_name = clean_typed_name(display_name)  # no bidi override in a name (lib/text.py)
    User = get_user_model()
    username = check_username(username)
    password_validation.validate_password(password, User(username=username))
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This user name is taken."))
        user = User.objects.create_user(username=username, password=password)
        user.is_staff = user.is_superuser = role == Role.HQ_ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        staff = Staff.objects.create(
            user=user, role=role, display_name=display_name, branch=branch, village=village,
            person=person,
        )  # fmt: skip
        record(actor, "org.staff.create", staff, after=_snapshot(staff))
    return staff


def do_change_staff(
    actor, staff: Staff, *, role: str, branch: Branch | None, active: bool,
    village: Village | None = None, person=None,
) -> Staff:  # fmt: skip
    """Change a user's role, branch or status. A CM who leaves the role or the branch
    loses their open assignments (ended, kept in the history)."""
    scope_for(actor).require(scope_for(actor).can_manage_staff)
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    _check_home(role, branch, village, person)
    with transaction.atomic():
        staff = Staff.objects.select_for_update().select_related("user").get(pk=staff.pk)
        before = _snapshot(staff)
        if staff.user == actor and (role != Role.HQ_ADMIN or not active):
            raise ValidationError(_("You cannot remove your own administrator access."))
        left = staff.role == Role.CUSTOMER_MANAGER and (
            role != Role.CUSTOMER_MANAGER or branch != staff.branch or not active
        )
        staff.role, staff.branch, staff.village, staff.person = role, branch, village, person
        staff.save(update_fields=["role", "branch", "village", "person"])
        staff.user.is_active = active
        staff.user.is_staff = staff.user.is_superuser = role == Role.HQ_ADMIN
        staff.user.save(update_fields=["is_active", "is_staff", "is_superuser"])
        if left:
            for a in staff.assignments.filter(valid_to__isnull=True):
                _end(actor, a)
        record(actor, "org.staff.change", staff, before=before, after=_snapshot(staff))
    return staff


def do_assign(
    actor, staff: Staff, *, village: Village | None = None, grid: Grid | None = None
) -> Assignment:
    """Give a customer manager a village or a grid. A branch manager may assign within
    their own branch only."""
    scope = scope_for(actor)
    scope.require(scope.can_assign)
    if scope.role == Role.BRANCH_MANAGER and scope.branch_id is None:
        raise PermissionDenied
    if (village is None) == (grid is None):
        raise ValidationError(_("Assign either a village or a grid."))
    if staff.role != Role.CUSTOMER_MANAGER:
        raise ValidationError(_("Only customer managers are assigned villages or grids."))
    area_village = village or grid.village
    if scope.role == Role.BRANCH_MANAGER and (
        area_village.branch_id != scope.staff.branch_id or staff.branch_id != scope.staff.branch_id
    ):
        raise PermissionDenied
    if area_village.branch_id != staff.branch_id:
        raise ValidationError(_("This village is not served by the customer manager's branch."))
    with transaction.atomic():
        open_ = Assignment.objects.select_for_update().filter(
            staff=staff, village=village, grid=grid, valid_to__isnull=True
        )
        if open_.exists():
            raise ValidationError(_("This assignment is already open."))
        a = Assignment.objects.create(
            staff=staff, village=village, grid=grid, valid_from=timezone.now(), assigned_by=actor
        )
        record(actor, "org.assignment.open", a,
               after={"staff": staff.user.username, "village": a.village_id, "grid": a.grid_id})  # fmt: skip
        assignments_changed.send(Assignment, actor=actor, villages=[area_village.code])
    return a


def do_end_assignment(actor, assignment: Assignment) -> Assignment:
    scope = scope_for(actor)
    scope.require(scope.can_assign)
    if scope.role == Role.BRANCH_MANAGER and (
        scope.branch_id is None or assignment.staff.branch_id != scope.branch_id
    ):
        raise PermissionDenied
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.valid_to is not None:
            raise ValidationError(_("This assignment has already ended."))
        _end(actor, assignment)
    return assignment


def _end(actor, assignment: Assignment) -> None:
    """End an open assignment (in the caller's transaction); the apps that follow who
    holds what (visit tasks) are told."""
    assignment.valid_to, assignment.ended_by = timezone.now(), actor
    assignment.save(update_fields=["valid_to", "ended_by"])
    record(actor, "org.assignment.end", assignment,
           before={"valid_to": None}, after={"valid_to": assignment.valid_to})  # fmt: skip
    village = assignment.village_id or Grid.objects.get(pk=assignment.grid_id).village_id
    assignments_changed.send(Assignment, actor=actor, villages=[village])


def do_change_password(user, form) -> None:
    """A user's own new password (a valid `PasswordChangeForm`: the old one checked, the
    password policy applied) and its audit event, in one transaction. The event names the
    user and carries no password or hash."""
    with transaction.atomic():
        form.save()
        record(user, "auth.password.change", user)
