"""The customer pool as published from the data pool, and what staff do with it.

Persons and households are keyed by the pool's uids, which are stable across rebuilds,
so workflow data (reviews, visits, decisions) can refer to them and survive a new
publish. A row that disappears from a newer pool is *retired* (``retired_at`` set), not
deleted. ID numbers and phones are stored encrypted with a blind index for exact search
and a masked form for display (`cunxin.lib.crypto`, DESIGN.md §6).
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cunxin.audit.chain import ACCESS_LOG_HEAD, link, verify_chain
from cunxin.jobs.models import BackgroundRun
from cunxin.lib import crypto
from cunxin.org.models import PublishedRow


class JSONTextField(models.TextField):
    """JSON kept as text: written once per publish, read whole by a page, never queried
    inside. Text loads several times faster than jsonb in a county-sized COPY."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return (
            None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        )


class ListColor(models.TextChoices):
    WHITE = "white", _("White list")
    GREY = "grey", _("Grey list")
    BLACK = "black", _("Black list")


class PublishRun(BackgroundRun):
    """One publish of a data pool: from `cunxin pool publish` in the foreground, or queued
    (the CLI's --queue, HQ's 数据发布记录 page) and run by `cunxin worker`. What was
    loaded, by whom, how long it took; `step` says where a running one is."""

    pool_run_id = models.CharField(_("pool run"), max_length=64)
    pool_dir = models.CharField(_("pool folder"), max_length=500)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    step = models.CharField(_("step"), max_length=64, blank=True)
    published_by = models.CharField(_("by"), max_length=150)
    counts = models.JSONField(_("counts"), default=dict)
    timings = models.JSONField(_("timings (s)"), default=dict)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("publish run")
        verbose_name_plural = _("publish runs")

    def __str__(self) -> str:
        return f"{self.pool_run_id} ({self.get_status_display()})"


class Household(PublishedRow):
    uid = models.CharField(_("household"), max_length=24, primary_key=True)
    household_no = models.CharField(_("household number"), max_length=32, blank=True)
    head_uid = models.CharField(max_length=24, blank=True)
    head_name = models.CharField(_("head of household"), max_length=64, blank=True)
    village = models.ForeignKey("org.Village", on_delete=models.PROTECT, related_name="households")
    group = models.ForeignKey(
        "org.VillageGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    grid = models.ForeignKey(
        "org.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="households"
    )
    member_count = models.IntegerField(_("members"), default=0)
    address = models.CharField(_("address"), max_length=200, blank=True)
    longitude = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=32, blank=True)
    # which publish last wrote the row (no index: runs are never deleted)
    publish_run = models.ForeignKey(
        PublishRun, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [models.Index(fields=["village", "head_name"])]

    def __str__(self) -> str:
        return f"{self.head_name}户"


class Person(PublishedRow):
    uid = models.CharField(_("person"), max_length=24, primary_key=True)
    household = models.ForeignKey(  # indexed by (household, member_index)
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        db_index=False,
    )
    # NULL for the few persons no source places in a village (only HQ sees them)
    village = models.ForeignKey(  # indexed by (village, name)
        "org.Village",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="persons",
        db_index=False,
    )
    group = models.ForeignKey(
        "org.VillageGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(_("gender"), max_length=1, blank=True)
    # Only the year: the full date is the hidden middle of the masked ID number, so with it
    # in clear the mask would give the whole number away. The full date stays in the ID.
    birth_year = models.SmallIntegerField(_("year of birth"), null=True, blank=True)
    id_number_enc = models.TextField(null=True, blank=True, editable=False)
    id_number_bidx = models.CharField(max_length=32, null=True, blank=True, db_index=True)
    id_masked = models.CharField(_("ID number"), max_length=18, blank=True)
    phone_enc = models.TextField(null=True, blank=True, editable=False)
    phone_bidx = models.CharField(max_length=32, null=True, blank=True, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True)
    relation_to_head = models.CharField(_("relation to head"), max_length=16, blank=True)
    # Position in the household (head first, then by age): picks the member's colour, the
    # same wherever the household appears.
    member_index = models.SmallIntegerField(default=0)
    occupation = models.CharField(_("occupation"), max_length=32, blank=True)
    list_color = models.CharField(
        _("list"), max_length=8, choices=ListColor.choices, default=ListColor.WHITE
    )
    # " family:tag family:tag " — one column instead of ~100 rows per person keeps the
    # publish of a county fast; filters run inside a village, where a LIKE is cheap.
    tags = models.TextField(_("tags"), blank=True)
    # {"basic": {...}, "assets": {...}, "income": {...}, "credit": {...}}
    profile = JSONTextField(_("360 profile"), default=dict)
    # What a credit decision reads from the profile, also as columns: a batch over the
    # county reads them for 742,000 persons, which parsing the JSON would take 15 s for.
    household_income_fen = models.BigIntegerField(default=0, editable=False)
    household_assets_fen = models.BigIntegerField(default=0, editable=False)
    household_liabilities_fen = models.BigIntegerField(default=0, editable=False)
    max_overdue_days = models.IntegerField(default=0, editable=False)
    loans_current = models.IntegerField(default=0, editable=False)
    # {"name": ["grid", "2026-07-10"], ...}: the source and date of each chosen value
    provenance = JSONTextField(_("field provenance"), default=dict)
    # [["P…", "spouse", "grid"], ...]: related person, relation, source
    relations = JSONTextField(_("relations"), default=list)
    # which publish last wrote the row (no index: runs are never deleted)
    publish_run = models.ForeignKey(
        PublishRun, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["village", "name"]),
            models.Index(fields=["household", "member_index"]),
        ]

    def __str__(self) -> str:
        return self.name

    def id_number(self) -> str | None:
        """The full ID number (decrypts; callers log the reveal)."""
        return crypto.decrypt(self.id_number_enc, purpose="id_number", owner=self.uid)

    def phone(self) -> str | None:
        return crypto.decrypt(self.phone_enc, purpose="phone", owner=self.uid)

    def age(self, on: dt.date | None = None) -> int | None:
        """Age by year of birth (may be one more than the exact age before the birthday)."""
        if self.birth_year is None:
            return None
        return (on or dt.date.today()).year - self.birth_year

    def tag_list(self) -> list[tuple[str, str]]:
        return [tuple(t.split(":", 1)) for t in self.tags.split()]  # type: ignore[misc]


class RiskFlag(PublishedRow):
    """Black/grey list entries and court defaulters from the pool (possible_* included)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="risk_flags")
    flag = models.CharField(_("flag"), max_length=32)
    record_key = models.CharField(max_length=64)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    listed_date = models.DateField(_("listed"), null=True, blank=True)
    origin = models.CharField(_("origin"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "flag", "record_key"], name="riskflag_natural_key"
            )
        ]


# The families of the pool's person tags (`cunxin.datapool.pipeline.tags`) and the shape of
# a tag, "family:value": what a filter or a segment may ask for. A tag outside this shape
# matches no person (and is never put into a LIKE pattern).
TAG_FAMILIES = frozenset({
    "gender", "age", "education", "occupation", "industry", "address", "registration",
    "related_persons", "contact", "deposit", "loan", "ebank", "payroll", "evaluation",
    "social_security", "real_estate", "risk",
})  # fmt: skip
MAX_TAG_VALUE = 32


def is_tag(text: str) -> bool:
    """Whether `text` has a tag's shape: a known family, a colon, 1 to 32 characters
    without spaces or colons."""
    family, sep, value = text.partition(":")
    return (
        bool(sep) and family in TAG_FAMILIES and 0 < len(value) <= MAX_TAG_VALUE
        and ":" not in value and not any(c.isspace() for c in value)
    )  # fmt: skip


class Segment(models.Model):
    """分层分群: a saved tag filter. Its members are computed when asked, within the
    viewer's scope."""

    name = models.CharField(_("name"), max_length=64)
    tags = models.JSONField(_("tags (all of)"), default=list)
    colors = models.JSONField(_("list colours (any of)"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class AccessLog(models.Model):
    """Who saw or exported whose personal data, and why. Append-only (database triggers)
    and hash-chained like the audit trail (`cunxin.audit.chain.link`, head row 2): a row
    removed or changed by someone who lifted the triggers breaks the chain, which
    `cunxin audit verify` checks (`verify_access_log`)."""

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("Reveal")
        EXPORT = "export", _("Export")
        # a search by a full ID number or phone: it confirms whose the value is
        SEARCH = "search", pgettext_lazy("access log kind", "Search")

    class ExportKind(models.TextChoices):
        """What an export row's file was (`pool.actions.Export`)."""

        SEGMENT = "segment", _("Segment export")
        EVALUATION_SHEET = "evaluation_sheet", _("Paper evaluation sheet")
        WHITELIST = "whitelist", _("Batch pre-credit white list")
        APPROVAL_SHEET = "approval_sheet", _("Batch approval sheet")

    at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    field = models.CharField(_("field"), max_length=32)
    reason = models.CharField(_("reason"), max_length=200)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    # an export's file, typed (`pool.actions.Export`): which kind, how many rows, what it
    # held in words when it was made, and the object it came from (linked by the page)
    export_kind = models.CharField(max_length=16, choices=ExportKind.choices, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def chain_payload(self) -> list:
        """What the row's hash covers: everything it says (an export's typed fields too;
        rows from before they existed keep the payload they were chained with)."""
        payload = [
            self.at.astimezone(dt.UTC).isoformat(), self.user_id, self.kind,
            self.person_id or "", self.field, self.reason, self.detail,
        ]  # fmt: skip
        if self.export_kind:
            payload += [self.export_kind, self.row_count, self.subject, self.object_type,
                        self.object_id]  # fmt: skip
        return payload

    def save(self, *args, **kwargs) -> None:
        """A new row is linked into the chain in the same transaction; an existing one is
        never saved again (the database refuses the UPDATE)."""
        if not self._state.adding:
            return super().save(*args, **kwargs)
        link(ACCESS_LOG_HEAD, self, self.chain_payload(), lambda: super(AccessLog, self).save(*args, **kwargs))  # fmt: skip
        return None


def verify_access_log(batch: int = 5000, *, head: str | None = None):
    """The access log's chain walked like the audit trail's (`cunxin.audit.chain.verify`)."""
    return verify_chain(
        AccessLog.objects.all(), AccessLog.chain_payload, ACCESS_LOG_HEAD, batch, head
    )


class SearchCount(models.Model):
    """How many pool searches a user ran in one window (`pool.actions.count_search`): the
    search rate limit, counted in the database so that it holds across the web server's
    processes and machines. `exact` counts the searches by a full ID number or phone apart.
    Rows of past windows are deleted as new ones are made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    exact = models.BooleanField(default=False)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("search count")
        verbose_name_plural = _("search counts")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "exact", "window_start"], name="searchcount_user_window"
            )
        ]
