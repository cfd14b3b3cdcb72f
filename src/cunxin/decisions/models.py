"""Credit policy versions and decisions (DESIGN.md §5 "Three amounts", §2 授信)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CreditPolicyVersion(models.Model):
    """A credit policy as data (`cunxin.credit.policy`), in force from `effective_from`."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    data = models.JSONField(_("policy"))
    effective_from = models.DateField(_("effective from"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-effective_from", "-created_at"]


class Status(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REFERRED_BACK = "referred_back", _("Referred back")


# action → (the statuses it may start from, the status it leads to): the state machine.
# An undo takes an approval back to proposed (before the contract is signed).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({Status.PROPOSED}), Status.APPROVED),
    "reject": (frozenset({Status.PROPOSED}), Status.REJECTED),
    "refer_back": (frozenset({Status.PROPOSED}), Status.REFERRED_BACK),
    "undo": (frozenset({Status.APPROVED}), Status.PROPOSED),
}
ACTION_LABELS = {
    "approve": _("Approve"),
    "reject": _("Reject"),
    "refer_back": _("Refer back"),
    "undo": _("Undo the approval"),
}
OPEN = (Status.PROPOSED, Status.APPROVED)


class Decision(models.Model):
    """One person's credit decision: the three amounts, the final amount, the grade, the
    trace of the rules that fired, and where it stands in the approval."""

    person = models.ForeignKey("pool.Person", on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(CreditPolicyVersion, on_delete=models.PROTECT, related_name="+")
    evaluation_yuan = models.PositiveIntegerField(_("evaluation amount"), null=True)
    model_yuan = models.PositiveIntegerField(_("model amount"))
    survey_yuan = models.PositiveIntegerField(_("survey amount"), null=True)
    final_yuan = models.PositiveIntegerField(_("final amount"))
    grade = models.CharField(_("grade"), max_length=8)
    hard_stops = models.JSONField(default=list)
    route = models.CharField(max_length=64, blank=True)
    credit_household = models.BooleanField(default=False)
    trace = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)  # set by contract signing

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(status__in=OPEN),
                name="one_open_decision_per_person",
            )
        ]  # fmt: skip
