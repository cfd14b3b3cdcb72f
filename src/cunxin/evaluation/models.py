"""整村授信项目 and its evaluation: the project of a village, its policy version, the
panel, the rounds and the reviews (DESIGN.md §2, §5).

Back to back: a review belongs to one panel member; nothing here lets one evaluator read
another's — every query for an evaluator goes through `cunxin.evaluation.actions`, which
filters by the evaluator.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cunxin.evaluation.policy import EvaluationPolicy

# the version id of the built-in DESIGN.md §5 evaluation policy
DEFAULT_VERSION = EvaluationPolicy.version


class PolicyVersion(models.Model):
    """An evaluation policy as data (negative items, graded items, aggregation rule),
    versioned; a project keeps the version it started with unless moved on explicitly."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    data = models.JSONField(_("policy"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evaluation policy version")
        verbose_name_plural = _("evaluation policy versions")

    def __str__(self) -> str:
        return self.version

    @property
    def name(self) -> str:
        """The version as staff read it: HQ's name for it, "默认评议政策" for the built-in
        DESIGN.md §5 defaults (whose internal id is "default-1")."""
        return (
            gettext("Default evaluation policy")
            if self.version == DEFAULT_VERSION
            else self.version
        )

    @property
    def label(self) -> str:
        """Name and date: "默认评议政策（2026-12-05 创建）" (local date)."""
        return gettext("%(name)s (created %(date)s)") % {
            "name": self.name, "date": timezone.localtime(self.created_at).strftime("%Y-%m-%d"),
        }  # fmt: skip


class Stage(models.TextChoices):
    COLLECTING = "collecting", _("Collecting")
    EVALUATING = "evaluating", _("Evaluating")
    VISITING = "visiting", _("Visiting")
    GRANTING = "granting", _("Granting")
    SIGNING = "signing", _("Signing")
    USING = "using", _("Using")
    POST_LOAN = "post_loan", _("Post-loan")


class Project(models.Model):
    village = models.ForeignKey("org.Village", on_delete=models.PROTECT, related_name="projects")
    stage = models.CharField(
        _("stage"), max_length=16, choices=Stage.choices, default=Stage.COLLECTING
    )
    policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="projects")
    responsible = models.ForeignKey(
        "org.Staff",
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("responsible CM"),
    )
    started_at = models.DateTimeField(_("started"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("village project")
        verbose_name_plural = _("village projects")
        constraints = [
            models.UniqueConstraint(
                fields=["village"], condition=models.Q(closed_at__isnull=True),
                name="one_open_project_per_village",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.village} · {self.get_stage_display()}"


class PanelRole(models.TextChoices):
    COMMITTEE = "committee", _("Village committee (村两委)")
    PARTY_ELDER = "party_elder", _("Senior party member (老党员)")
    REPRESENTATIVE = "representative", _("Villagers' representative (村民代表)")
    GRID_WORKER = "grid_worker", _("Grid worker (网格员)")


class PanelMember(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="panel")
    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="panels")
    role = models.CharField(_("role"), max_length=16, choices=PanelRole.choices)
    alternate = models.BooleanField(_("alternate"), default=False)
    joined_at = models.DateTimeField(_("joined"))
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("panel member")
        verbose_name_plural = _("panel members")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "staff"], condition=models.Q(removed_at__isnull=True),
                name="one_active_seat_per_evaluator",
            )
        ]  # fmt: skip


class RoundKind(models.TextChoices):
    FIRST = "first", _("First review (初评)")
    RE_REVIEW = "re_review", _("Re-review (复评)")
    SIGN_OFF = "sign_off", _("Branch sign-off (审定)")


class Round(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="rounds")
    kind = models.CharField(_("round"), max_length=16, choices=RoundKind.choices)
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["opened_at"]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="one_round_of_each_kind")
        ]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Source(models.TextChoices):
    APP = "app", _("On the phone")
    PAPER = "paper", _("Paper sheet, entered by staff")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    VOID = "void", _("Void")


class Review(models.Model):
    """One reviewer's review of one person in one round (DESIGN.md §5)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(PanelMember, on_delete=models.PROTECT, related_name="reviews")
    person = models.ForeignKey("pool.Person", on_delete=models.PROTECT, related_name="+")
    knows_household = models.BooleanField(_("knows the household"), null=True)
    negative_items = models.JSONField(_("negative items"), default=list)
    graded = models.JSONField(_("graded items"), default=dict)
    amount_yuan = models.PositiveIntegerField(_("suggested amount (yuan)"), null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)
    # a paper sheet typed in by staff (DESIGN.md §2, during roll-out): who entered it
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.APP)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "reviewer", "person"], name="one_review_per_reviewer_person_round"
            )
        ]


class Verdict(models.Model):
    """A round's aggregated result for one person, with its inputs (stored at close)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="verdicts")
    person = models.ForeignKey("pool.Person", on_delete=models.PROTECT, related_name="+")
    color = models.CharField(max_length=16)
    amount_yuan = models.PositiveIntegerField(null=True, blank=True)
    valid_reviews = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="one_verdict_per_person_round")
        ]


class VerdictChange(models.Model):
    """复评: a customer manager's change to a first-round verdict, with the reason. The
    first round's verdict is kept; the re-review round's verdict applies the change."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="changes")
    person = models.ForeignKey("pool.Person", on_delete=models.PROTECT, related_name="+")
    before = models.JSONField(default=dict)
    color = models.CharField(max_length=16)
    amount_yuan = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="one_change_per_person_round")
        ]


class Photo(models.Model):
    """An image taken in the field (visit photo, QA photo, signature). Stored re-encoded
    without any metadata (`cunxin.lib.images`); where it was taken is a field, not EXIF."""

    kind = models.CharField(max_length=16)  # visit | qa | signature
    content_type = models.CharField(max_length=32)
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    taken_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField()


class QaCheck(models.Model):
    """验收: one submitted review drawn at random for re-check by another staff member,
    who records pass or fail, with a photo and a signature."""

    review = models.OneToOneField(Review, on_delete=models.PROTECT, related_name="qa_check")
    drawn_at = models.DateTimeField()
    checker = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    photo = models.ForeignKey(
        Photo, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signature = models.ForeignKey(
        Photo, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
