"""The bank's organisation and geography, staff, roles and assignments.

Bank → branches (支行) → villages (村) → groups (村民小组) → grids (网格). Villages, groups
and grids come from the data pool (`cunxin pool publish`); branches and which villages
they serve are the bank's own and are managed in the app. Codes are the primary keys, so
that a publish can write rows without looking ids up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    HQ_ADMIN = "hq_admin", _("HQ admin")
    HQ_ANALYST = "hq_analyst", _("HQ analyst")
    BRANCH_MANAGER = "branch_manager", _("Branch manager")
    CUSTOMER_MANAGER = "customer_manager", _("Customer manager")
    EVALUATOR = "evaluator", _("Evaluator")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset(
    {Role.HQ_ADMIN, Role.HQ_ANALYST, Role.BRANCH_MANAGER, Role.CUSTOMER_MANAGER}
)


class PublishedRow(models.Model):
    """A row written by `cunxin pool publish`: the keyed hash of its content tells a
    re-publish whether it changed; a row gone from a newer pool is retired, not deleted."""

    content_hash = models.CharField(max_length=32, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class Branch(models.Model):
    code = models.CharField(_("code"), max_length=16, primary_key=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name


class Village(PublishedRow):
    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    township_code = models.CharField(_("township code"), max_length=16, blank=True)
    township_name = models.CharField(_("township"), max_length=64, blank=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.SET_NULL, null=True, blank=True, related_name="villages"
    )
    geometry = models.TextField(_("boundary (GeoJSON)"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("village")
        verbose_name_plural = _("villages")

    def __str__(self) -> str:
        return f"{self.township_name}{self.name}"


class VillageGroup(PublishedRow):
    """村民小组."""

    code = models.CharField(_("code"), max_length=16, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="groups")
    geometry = models.TextField(_("boundary (GeoJSON)"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("village group")
        verbose_name_plural = _("village groups")

    def __str__(self) -> str:
        return self.name


class Grid(PublishedRow):
    """网格: the households a customer manager looks after."""

    code = models.CharField(_("code"), max_length=24, primary_key=True)
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="grids")

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self) -> str:
        return self.code


class Staff(models.Model):
    """A user's role and home in the organisation (one per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    display_name = models.CharField(_("name"), max_length=64)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    # An evaluator's village, a customer's own person (their household follows from it).
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "pool.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"

    @property
    def is_bank_staff(self) -> bool:
        return self.role in STAFF_ROLES


class Assignment(models.Model):
    """A customer manager looks after a village or a grid from `valid_from` until
    `valid_to` (open while NULL). Ended, never deleted: the history is kept."""

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="assignments")
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    valid_from = models.DateTimeField(_("from"))
    valid_to = models.DateTimeField(_("until"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(village__isnull=False, grid__isnull=True)
                    | models.Q(village__isnull=True, grid__isnull=False)
                ),
                name="assignment_village_xor_grid",
            )
        ]
        indexes = [models.Index(fields=["staff", "valid_to"])]

    def __str__(self) -> str:
        return f"{self.staff} → {self.village or self.grid}"


class LoginCode(models.Model):
    """A one-time sign-in code sent by SMS to an evaluator (villagers have no password).
    Only a keyed hash of the code is stored; it expires, allows a few attempts, and is
    used once."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="login_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["staff", "created_at"])]
