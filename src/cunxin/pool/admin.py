"""Django admin for the customer pool (HQ admins only).

Persons and households are the publish's, so they are read-only here, and they show masked
values only: no ciphertext, no blind index. A full value is revealed in the app, where the
reveal asks for a reason and is access-logged. The access log is append-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cunxin.audit.admin import AuditedAdmin, ReadOnlyAdmin
from cunxin.pool.actions import clean_segment
from cunxin.pool.models import AccessLog, Household, Person, PublishRun, Segment


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    # `fields` is explicit: a view-only page would otherwise show every editable field,
    # the blind indexes included.
    fields = ("uid", "name", "village", "household", "id_masked", "phone_masked", "list_color",
              "retired_at")  # fmt: skip
    list_display = ("uid", "name", "village", "id_masked", "phone_masked", "list_color")
    list_filter = ("list_color",)
    list_select_related = ("village",)
    search_fields = ("=uid",)  # names and numbers are searched in the app, in scope
    ordering = ("uid",)
    show_full_result_count = False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    fields = ("uid", "head_name", "village", "group", "grid", "member_count", "retired_at")
    list_display = ("uid", "head_name", "village", "grid", "member_count")
    list_select_related = ("village", "grid")
    search_fields = ("=uid",)
    ordering = ("uid",)
    show_full_result_count = False


@admin.register(PublishRun)
class PublishRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "pool_run_id", "status", "started_at", "finished_at", "published_by")
    list_filter = ("status",)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Append-only (database triggers refuse UPDATE and DELETE)."""

    fields = ("at", "user", "kind", "person", "field", "reason", "detail")
    list_display = ("at", "user", "kind", "person", "field", "reason")
    list_filter = ("kind", "field")
    list_select_related = ("user", "person")
    search_fields = ("=user__username", "=person__uid")
    date_hierarchy = "at"


class SegmentForm(forms.ModelForm):
    """The app's checks (`clean_segment`): a name, tags written family:tag, known colours."""

    class Meta:
        model = Segment
        fields = ("name", "tags", "colors")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # either may be empty ([]), not both: clean_segment says so
        self.fields["tags"].required = self.fields["colors"].required = False

    def clean(self) -> dict:
        data = super().clean()
        if any(name in self.errors for name in self.Meta.fields):
            return data
        tags, colors = data.get("tags") or [], data.get("colors") or []
        if not isinstance(tags, list) or not isinstance(colors, list):
            raise ValidationError(_('Tags and list colours are lists, e.g. ["age:31-45岁"].'))
        data["name"], data["tags"], data["colors"] = clean_segment(
            data.get("name", ""), [str(t) for t in tags], [str(c) for c in colors]
        )
        return data


@admin.register(Segment)
class SegmentAdmin(AuditedAdmin):
    form = SegmentForm
    list_display = ("name", "created_by", "created_at")
    list_select_related = ("created_by",)
    fields = ("name", "tags", "colors", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: Segment, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
