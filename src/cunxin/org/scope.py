"""Who may see and do what: the one place scope is decided (DESIGN.md §1).

It spans the bank's organisation (villages, grids, staff: `org`) and its customers
(households, persons, the access log: `pool`), which is why the import contracts treat
`org` and `pool` as one layer: the stages above ask this module, the two below it meet
in it.

Every view, export and API call gets its objects through `Scope`: an object outside the
user's scope is a 404 (its existence is not confirmed), an action the role may not take
is a 403. The role matrix is tested view by view in tests/test_role_matrix.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, wraps

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from cunxin.org.models import STAFF_ROLES, Assignment, Grid, Role, Staff, Village
from cunxin.pool.models import AccessLog, Household, Person

# What each role may do beyond reading what it can see.
WRITE_ROLES = frozenset({Role.HQ_ADMIN, Role.BRANCH_MANAGER, Role.CUSTOMER_MANAGER})
REVEAL_ROLES = frozenset({Role.HQ_ADMIN, Role.BRANCH_MANAGER, Role.CUSTOMER_MANAGER})
MANAGE_STAFF_ROLES = frozenset({Role.HQ_ADMIN})
ASSIGN_ROLES = frozenset({Role.HQ_ADMIN, Role.BRANCH_MANAGER})


@dataclass
class Scope:
    """A user's view of the bank. Cheap to build; querysets are lazy."""

    user: object
    staff: Staff | None

    @property
    def role(self) -> str | None:
        return self.staff.role if self.staff else None

    @property
    def is_bank_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.HQ_ADMIN, Role.HQ_ANALYST)

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def can_reveal(self) -> bool:
        return self.role in REVEAL_ROLES

    @property
    def can_manage_staff(self) -> bool:
        return self.role in MANAGE_STAFF_ROLES

    @property
    def can_assign(self) -> bool:
        return self.role in ASSIGN_ROLES

    @property
    def branch_id(self) -> str | None:
        """The user's own branch. A branch manager without one sees nothing: filtering on
        `branch_id=None` would match everything that has no branch (IS NULL)."""
        return self.staff.branch_id if self.staff else None

    # --- what the user can see -----------------------------------------------------------
    @cached_property
    def _assigned(self) -> tuple[list[str], list[str]]:
        """(village codes, grid codes) of a CM's open assignments. One query."""
        if self.role != Role.CUSTOMER_MANAGER:
            return [], []
        rows = self.staff.assignments.filter(valid_to__isnull=True).values_list(
            "village_id", "grid_id"
        )
        villages = sorted({v for v, _ in rows if v})
        grids = sorted({g for _, g in rows if g})
        return villages, grids

    def villages(self) -> QuerySet[Village]:
        """Villages the user sees at least part of."""
        qs = Village.objects.filter(retired_at__isnull=True)
        if self.sees_everything:
            return qs
        if self.role == Role.BRANCH_MANAGER:
            return qs.filter(branch_id=self.branch_id) if self.branch_id else qs.none()
        if self.role == Role.CUSTOMER_MANAGER:
            villages, grids = self._assigned
            return qs.filter(
                Q(code__in=villages)
                | Q(code__in=Grid.objects.filter(code__in=grids).values("village_id"))
            )
        return qs.none()

    def sees_whole_village(self, village_id: str) -> bool:
        """Whether every household of the village is in scope (HQ, the branch's manager, a
        CM assigned the village), not only some of its grids. At most one query."""
        if self.role == Role.CUSTOMER_MANAGER:
            return village_id in self._assigned[0]
        return self.villages().filter(pk=village_id).exists()

    def villages_without_cm(self) -> QuerySet[Village]:
        """Villages in scope that no customer manager looks after: no open assignment of an
        active CM to the village itself or to any of its grids (a village one of whose
        grids is assigned has a CM). One query with two subqueries."""
        held = Assignment.objects.filter(
            valid_to__isnull=True, staff__role=Role.CUSTOMER_MANAGER, staff__user__is_active=True
        )
        return (
            self.villages()
            .exclude(code__in=held.filter(village__isnull=False).values("village_id"))
            .exclude(code__in=held.filter(grid__isnull=False).values("grid__village_id"))
        )

    def grids(self) -> QuerySet[Grid]:
        qs = Grid.objects.filter(retired_at__isnull=True)
        if self.role == Role.CUSTOMER_MANAGER:
            villages, grids = self._assigned
            return qs.filter(Q(village_id__in=villages) | Q(code__in=grids))
        return qs.filter(village__in=self.villages())

    def _area_q(self, village_field: str, grid_field: str) -> Q:
        if self.sees_everything:
            return Q()
        if self.role == Role.BRANCH_MANAGER and self.branch_id:
            return Q(**{f"{village_field}__branch_id": self.branch_id})
        if self.role == Role.CUSTOMER_MANAGER:
            villages, grids = self._assigned
            return Q(**{f"{village_field}_id__in": villages}) | Q(**{f"{grid_field}_id__in": grids})
        return Q(pk__in=[])

    def households(self) -> QuerySet:
        qs = Household.objects.filter(retired_at__isnull=True)
        if self.role == Role.CUSTOMER and self.staff.person_id:
            return qs.filter(members__uid=self.staff.person_id)
        return qs.filter(self._area_q("village", "grid"))

    def persons(self) -> QuerySet:
        qs = Person.objects.filter(retired_at__isnull=True)
        if self.role == Role.CUSTOMER and self.staff.person_id:
            return qs.filter(household__members__uid=self.staff.person_id)
        return qs.filter(self._area_q("village", "household__grid"))

    def staff_members(self) -> QuerySet[Staff]:
        """Staff whose assignments the user may see or change."""
        if self.sees_everything:
            return Staff.objects.all()
        if self.role == Role.BRANCH_MANAGER:
            if not self.branch_id:
                return Staff.objects.none()
            return Staff.objects.filter(branch_id=self.branch_id)
        return Staff.objects.filter(pk=self.staff.pk) if self.staff else Staff.objects.none()

    def access_log(self) -> QuerySet:
        """Reveals and exports the user may read: HQ all, a branch manager those of their
        branch's staff, other bank staff their own, anyone else none."""
        rows = AccessLog.objects.all()
        if self.sees_everything:
            return rows
        if self.role == Role.BRANCH_MANAGER:
            if not self.branch_id:
                return rows.none()
            return rows.filter(user__staff__branch_id=self.branch_id)
        if self.is_bank_staff:
            return rows.filter(user=self.user)
        return rows.none()

    # --- lookups that raise ----------------------------------------------------------------
    def village_or_404(self, code: str) -> Village:
        return _one_or_404(self.villages(), code=code)

    def household_or_404(self, uid: str):
        return _one_or_404(self.households().select_related("village", "group"), uid=uid)

    def person_or_404(self, uid: str):
        return _one_or_404(self.persons().select_related("household", "village", "group"), uid=uid)

    def require(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied


def _one_or_404(qs: QuerySet, **lookup):
    try:
        return qs.get(**lookup)
    except qs.model.DoesNotExist:
        raise Http404 from None


def scope_for(user) -> Scope:
    """The user's scope; cached on the user object for the request. One query (staff)."""
    cached = getattr(user, "_cunxin_scope", None)
    if cached is not None:
        return cached
    staff = None
    if user.is_authenticated:
        staff = Staff.objects.filter(user=user).select_related("branch").first()
    scope = Scope(user=user, staff=staff)
    user._cunxin_scope = scope
    return scope


def staff_view(view):
    """For pages of bank staff: sign-in required; anyone else (evaluator, customer, a user
    without a role) gets 404, as for an object outside their scope."""
    from django.contrib.auth.views import redirect_to_login

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = scope_for(request.user)
        if not scope.is_bank_staff:
            raise Http404
        request.scope = scope
        return view(request, *args, **kwargs)

    return wrapper
