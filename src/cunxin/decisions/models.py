"""Credit policy versions and decisions (DESIGN.md §5 "Three amounts", §2 授信)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cunxin.credit.policy import CreditPolicy
from cunxin.jobs.models import BackgroundRun

# the version id of the built-in DESIGN.md §5 policy
DEFAULT_VERSION = CreditPolicy.version


class CreditPolicyVersion(models.Model):
    """A credit policy as data (`cunxin.credit.policy`), in force from `effective_from`.

    Without an effective date it is a draft: in force on no day, tried with a what-if, then
    published once (`policy_actions.do_publish_policy_version`) and never changed after."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    data = models.JSONField(_("policy"))
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        # drafts first (the work in hand), then the latest effective date; explicit, since
        # PostgreSQL and SQLite put NULLs at opposite ends of a descending order
        ordering = [models.F("effective_from").desc(nulls_first=True), "-created_at"]

    @property
    def is_draft(self) -> bool:
        return self.effective_from is None

    @property
    def name(self) -> str:
        """The version as staff read it: HQ's name for it, "默认政策" for the built-in
        DESIGN.md §5 defaults (whose internal id is "default-1")."""
        return gettext("Default policy") if self.version == DEFAULT_VERSION else self.version

    @property
    def label(self) -> str:
        """Name and date: "默认政策（2026-12-05 起生效）", or "（草稿）"."""
        if self.effective_from is None:
            return gettext("%(name)s (draft)") % {"name": self.name}
        return gettext("%(name)s (effective from %(date)s)") % {
            "name": self.name, "date": self.effective_from.strftime("%Y-%m-%d"),
        }  # fmt: skip


class ModelVersion(models.Model):
    """A scorecard (`cunxin model train`'s scorecard.json) registered in the app, with its
    metrics and training-data reference. One version is active: its scores give the model
    grade of every new decision."""

    model_id = models.CharField(_("model"), max_length=64, unique=True)
    data = models.JSONField(_("scorecard"))
    metrics = models.JSONField(_("metrics"), default=dict)
    trained_on = models.JSONField(_("training data"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(_("by"), max_length=150)
    active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    # the scores loaded for this model: the pool run they were computed on, how many
    scored_pool_run = models.CharField(max_length=64, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    scored_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_model"
            )
        ]

    def __str__(self) -> str:
        return self.model_id

    @property
    def holdout_auc(self) -> float | None:
        return ((self.metrics or {}).get("holdout") or {}).get("auc")

    @property
    def baseline_auc(self) -> float:
        """The intercept-only baseline's AUC (everyone gets the training bad rate: 0.5),
        as `credit.scorecard` records it in the metrics."""
        baselines = (self.metrics or {}).get("baselines") or {}
        return (baselines.get("intercept_only") or {}).get("auc", 0.5)

    @property
    def beats_baseline(self) -> bool | None:
        """Whether the holdout AUC is above the intercept-only baseline; None without
        holdout metrics. A model that does not beat it orders persons no better than
        chance (the demo county's 0.462 ranks them slightly worse)."""
        auc = self.holdout_auc
        return None if auc is None else auc > self.baseline_auc

    @property
    def trained_at(self) -> dt.datetime:
        """When the scorecard was trained (its JSON's created_at), else registered."""
        text = (self.data or {}).get("created_at")
        try:
            return dt.datetime.fromisoformat(text) if text else self.created_at
        except ValueError:
            return self.created_at

    @property
    def label(self) -> str:
        """The model as staff name it: "评分卡 · 2026-12-05 02:31 训练" (local time), not
        its internal id."""
        at = self.trained_at
        if timezone.is_naive(at):
            at = timezone.make_aware(at, dt.UTC)
        return gettext("Scorecard trained %(at)s") % {
            "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
        }


class ModelScore(models.Model):
    """A person's score under a model version, its grade key and the points per feature
    (which explain the score). Loaded from the pool's model_score.parquet."""

    model = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("pool.Person", on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False, db_index=False)  # fmt: skip
    score = models.IntegerField()
    grade = models.CharField(max_length=16)
    points = models.TextField(default="{}")  # JSON {feature: points}, read whole

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "person"], name="one_score_per_model_person")
        ]


class Product(models.TextChoices):
    """DESIGN.md §5 "Products": whole-village credit grants a revolving line."""

    REVOLVING = "revolving", _("Revolving credit line (3 years)")


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
    model = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")  # fmt: skip
    score = models.IntegerField(null=True, blank=True)
    product = models.CharField(_("product"), max_length=16, choices=Product.choices,
                               default=Product.REVOLVING)  # fmt: skip
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


class BatchRun(BackgroundRun):
    """批量授信 or a what-if: a policy applied to every adult of a village, a branch or the
    county in one background run (a task on `cunxin worker`). Progress is written as it
    goes; counts and timings at the end. A pre-credit run keeps one `PreCredit` row per
    person (the white list is the rows with an amount); a what-if keeps its comparison in
    `summary`."""

    class Purpose(models.TextChoices):
        PRECREDIT = "precredit", _("Batch pre-credit")
        WHATIF = "whatif", _("What-if")

    class ScopeKind(models.TextChoices):
        VILLAGE = "village", _("Village")
        BRANCH = "branch", _("Branch")
        COUNTY = "county", _("County")

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    scope_kind = models.CharField(_("scope"), max_length=8, choices=ScopeKind.choices)
    scope_code = models.CharField(max_length=16, blank=True)  # village or branch code
    scope_name = models.CharField(max_length=64, blank=True)
    policy = models.ForeignKey(CreditPolicyVersion, on_delete=models.PROTECT, related_name="+")
    draft = models.JSONField(null=True, blank=True)  # the draft policy of a what-if
    model = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")  # fmt: skip
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    timings = models.JSONField(default=dict)
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]


class PreCredit(models.Model):
    """One person's result in a pre-credit run (the rule trace is rebuilt on demand)."""

    # No database constraint and only the (run, village) index: a county run COPYs 742,000
    # rows, and the per-row foreign-key trigger and a wider index doubled that time. Rows
    # are only written by `batch.write_precredit` and go with their run (ORM cascade).
    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="rows",
                            db_index=False, db_constraint=False)  # fmt: skip
    person = models.ForeignKey("pool.Person", on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False, db_index=False)  # fmt: skip
    household_id = models.CharField(max_length=24, blank=True)
    village_id = models.CharField(max_length=12, blank=True)
    score = models.IntegerField(null=True)
    grade = models.CharField(max_length=8)
    evaluation_yuan = models.PositiveIntegerField(null=True)
    model_yuan = models.PositiveIntegerField()
    survey_yuan = models.PositiveIntegerField(null=True)
    final_yuan = models.PositiveIntegerField()
    hard_stops = models.CharField(max_length=200, blank=True)  # rule ids, comma-separated
    route = models.CharField(max_length=64, blank=True)
    credit_household = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["run", "village_id"])]
