"""Django admin for HQ admins: the audited base classes, and the audit trail (read-only).

Django admin is a second way to change state, beside the action functions, so it is held
to the same rule: every change it makes is written to the audit trail, in the transaction
that makes it, with before/after snapshots (`AuditedAdmin`). Models that have action
functions (staff, assignments) route their admin changes through them instead, so the
same rules apply whichever screen is used.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest

from cunxin.audit.chain import record
from cunxin.audit.models import AuditEvent

# Never in a snapshot: ciphertexts, blind indexes (a keyed hash still identifies a value)
# and password hashes.
SECRET_SUFFIXES = ("_enc", "_bidx")
SECRET_NAMES = frozenset({"password"})


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, exclude: tuple[str, ...] = ()) -> dict:
    """The editable fields of `obj` as plain values (foreign keys as ids), without
    encrypted fields, blind indexes or password hashes."""
    secret = [
        f.name
        for f in obj._meta.get_fields()
        if f.name in SECRET_NAMES or f.name.endswith(SECRET_SUFFIXES)
    ]
    data = model_to_dict(obj, exclude=[*secret, *exclude])
    return {name: _plain(value) for name, value in data.items()}


class AuditedAdmin(admin.ModelAdmin):
    """Records `admin.<model>.create|change|delete` for every save and delete made
    through Django admin, bulk deletes included (one event per object)."""

    audit_exclude: tuple[str, ...] = ()  # large or derived fields kept out of snapshots

    def audit_snapshot(self, obj: models.Model) -> dict:
        return snapshot(obj, self.audit_exclude)

    def audit_action(self, op: str) -> str:
        return f"admin.{self.opts.model_name}.{op}"

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        with transaction.atomic():
            before = None
            if change:
                current = self.model._default_manager.select_for_update().get(pk=obj.pk)
                before = self.audit_snapshot(current)
            super().save_model(request, obj, form, change)
            record(request.user, self.audit_action("change" if change else "create"), obj,
                   before=before, after=self.audit_snapshot(obj))  # fmt: skip

    def delete_model(self, request: HttpRequest, obj) -> None:
        with transaction.atomic():
            before, pk = self.audit_snapshot(obj), obj.pk
            super().delete_model(request, obj)
            record(request.user, self.audit_action("delete"),
                   object_type=f"{self.opts.app_label}.{self.opts.model_name}",
                   object_id=str(pk), before=before)  # fmt: skip

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        # The "delete selected" action would otherwise delete in bulk, unaudited.
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that only the data pool, the publish or the audit code write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Append-only (database triggers refuse UPDATE and DELETE); `cunxin audit verify`
    or the app's audit page checks the hash chain."""

    list_display = ("id", "at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("=object_id", "=actor_name", "action")
    fields = ("id", "at", "actor_name", "action", "object_type", "object_id", "before",
              "after", "prev_hash", "hash")  # fmt: skip
    readonly_fields = fields
    date_hierarchy = "at"


def _audit_axes_unlocks() -> None:
    """Deleting a django-axes access attempt unlocks an account: audit it like any change."""
    try:
        from axes.admin import AccessAttemptAdmin
        from axes.models import AccessAttempt
    except ImportError:  # pragma: no cover - axes is a dependency
        return
    if not admin.site.is_registered(AccessAttempt):
        return

    class AuditedAccessAttemptAdmin(AuditedAdmin, AccessAttemptAdmin):
        audit_exclude = ("get_data", "post_data", "http_accept", "user_agent")

    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AuditedAccessAttemptAdmin)


_audit_axes_unlocks()
