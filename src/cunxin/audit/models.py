"""The audit trail: append-only, hash-chained.

Every state change goes through an action function that calls `cunxin.audit.record`
inside its transaction. Each event's hash covers its content and the previous event's
hash, so changing, deleting or reordering any event breaks the chain from there on
(`cunxin audit verify`). Database triggers refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # the trail outlives users; the name is kept in actor_name
    )
    actor_name = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("what"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object"), max_length=64)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """One row: the last event's id and hash. Locked (SELECT … FOR UPDATE) while an event
    is appended, so concurrent writers extend the chain one after the other."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
