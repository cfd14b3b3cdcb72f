"""Visit tasks and visits (DESIGN.md §2 走访, §5 survey amount).

A task is made per household when the branch signs off a village's evaluation: every grey
or insufficient household, every household with an evaluation amount above the policy's
threshold, and a random share of the rest. It is assigned to the customer manager of the
household's grid. A visit records, per member, whether the CM confirmed them, the survey
amount, and any correction of the evaluation — the signed-off verdict is never changed:
the correction keeps both versions (`before`, `after`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskReason(models.TextChoices):
    GREY = "grey", _("Grey list")
    INSUFFICIENT = "insufficient", _("Too few valid reviews")
    ABOVE_THRESHOLD = "above_threshold", _("Amount above the visit threshold")
    SAMPLE = "sample", _("Random sample")


class VisitTask(models.Model):
    project = models.ForeignKey(
        "evaluation.Project", on_delete=models.PROTECT, related_name="visit_tasks"
    )
    # the signed-off round whose verdicts the visit confirms
    round = models.ForeignKey("evaluation.Round", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("pool.Household", on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(default=list)
    assigned_to = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="visit_tasks"
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "household"], name="one_visit_task_per_household_project"
            )
        ]
        indexes = [models.Index(fields=["assigned_to", "done_at"])]


class Mode(models.TextChoices):
    ON_SITE = "on_site", _("On site (实地)")
    PHONE = "phone", _("By phone (电话)")


class Visit(models.Model):
    task = models.OneToOneField(VisitTask, on_delete=models.PROTECT, related_name="visit")
    by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(_("visit"), max_length=8, choices=Mode.choices)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    photos = models.ManyToManyField("evaluation.Photo", related_name="+", blank=True)
    at = models.DateTimeField()


class VisitMember(models.Model):
    """One member as the CM found them: confirmed or not, survey amount, and the
    evaluation as signed off (`before`) and as corrected (`after`, empty when confirmed)."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey("pool.Person", on_delete=models.PROTECT, related_name="+")
    confirmed = models.BooleanField(_("member confirmed"))
    survey_amount_yuan = models.PositiveIntegerField(_("survey amount (yuan)"), null=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict, blank=True)
    correction_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "person"], name="one_row_per_member_visit")
        ]

    @property
    def corrected(self) -> bool:
        return bool(self.after)
