"""Django admin for the organisation: branches, villages, staff, assignments, users.

Only HQ admins reach it (they are the users with `is_staff`). Branches are saved through
`AuditedAdmin`; a village's branch, staff and assignments go through the action functions
(`cunxin.org.actions`), so that the app's rules and audit events apply here too.
Villages, groups and grids come from the data pool and are read-only except a village's
branch.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cunxin.audit.admin import AuditedAdmin, ReadOnlyAdmin
from cunxin.audit.chain import record
from cunxin.lib.text import clean_typed_name
from cunxin.org import actions
from cunxin.org.models import Assignment, Branch, Grid, Role, Staff, Village, VillageGroup
from cunxin.org.scope import scope_for

User = get_user_model()


@admin.register(Branch)
class BranchAdmin(AuditedAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # The code is the primary key: changing it in the form would save a copy.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Deleting a branch would silently detach its villages (SET_NULL).
        if obj is not None and obj.villages.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest):
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found


@admin.register(Village)
class VillageAdmin(AuditedAdmin):
    """Published from the data pool; the bank sets which branch serves it."""

    list_display = ("code", "name", "township_name", "branch", "retired_at")
    list_filter = ("branch",)
    list_select_related = ("branch",)
    search_fields = ("code", "name", "township_name")
    fields = ("code", "name", "township_code", "township_name", "branch", "geometry", "retired_at")
    readonly_fields = ("code", "name", "township_code", "township_name", "geometry", "retired_at")
    audit_exclude = ("geometry",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Village, form, change: bool) -> None:
        # The branch is the only editable field; the action also ends the assignments of
        # customer managers of the old branch and writes the audit events.
        if "branch" in form.changed_data:
            actions.do_set_village_branch(request.user, obj, obj.branch)


@admin.register(VillageGroup)
class VillageGroupAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "village", "retired_at")
    list_select_related = ("village",)
    search_fields = ("=code", "=village__code")
    fields = ("code", "name", "village", "retired_at")


@admin.register(Grid)
class GridAdmin(ReadOnlyAdmin):
    list_display = ("code", "village", "retired_at")
    list_select_related = ("village",)
    search_fields = ("=code", "=village__code")
    fields = ("code", "village", "retired_at")


# --- staff -----------------------------------------------------------------------------


class StaffForm(forms.ModelForm):
    """Checks what the actions check, so that a mistake is shown on the form; the action
    checks again when saving."""

    actor = None  # the signed-in admin, set per request by StaffAdmin.get_form

    class Meta:
        model = Staff
        fields = ("display_name", "role", "branch", "village", "person")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("role"):
            actions._check_home(data["role"], data.get("branch"), data.get("village"), data.get("person"))  # fmt: skip
        return data


class StaffAddForm(StaffForm):
    username = forms.CharField(label=_("user name"), max_length=150)
    password = forms.CharField(label=_("password"), strip=False, widget=forms.PasswordInput)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User._meta.get_field("username").run_validators(username)
        if User.objects.filter(username=username).exists():
            raise ValidationError(_("This user name is taken."))
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        username = self.cleaned_data.get("username", "")
        password_validation.validate_password(password, User(username=username))
        return password


class StaffChangeForm(StaffForm):
    active = forms.BooleanField(label=_("active"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["active"].initial = self.instance.user.is_active

    def clean(self) -> dict:
        data = super().clean()
        if (
            self.actor is not None
            and self.instance.user_id == self.actor.pk
            and (data.get("role") != Role.HQ_ADMIN or not data.get("active"))
        ):
            raise ValidationError(_("You cannot remove your own administrator access."))
        return data


@admin.register(Staff)
class StaffAdmin(AuditedAdmin):
    """Creating and changing staff runs `do_create_staff` / `do_change_staff`: the role
    decides `is_staff`, a customer manager who leaves their branch loses their open
    assignments, and the action writes the audit event. Staff are deactivated, never
    deleted (their history refers to them)."""

    form = StaffChangeForm
    add_form = StaffAddForm
    list_display = ("display_name", "user", "role", "branch", "village", "is_active")
    list_filter = ("role", "branch")
    list_select_related = ("user", "branch", "village")
    search_fields = ("display_name", "user__username")
    raw_id_fields = ("person",)

    @admin.display(boolean=True, description=_("active"))
    def is_active(self, obj: Staff) -> bool:
        return obj.user.is_active

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ("username", "password", "display_name", "role", "branch", "village", "person")
        return ("user", "display_name", "role", "branch", "village", "person", "active")

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("user",) if obj is not None else ()

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and scope_for(request.user).can_manage_staff

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            super().has_change_permission(request, obj) and scope_for(request.user).can_manage_staff
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Staff, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            staff = actions.do_create_staff(
                request.user, username=data["username"], password=data["password"],
                role=obj.role, display_name=obj.display_name, branch=obj.branch,
                village=obj.village, person=obj.person,
            )  # fmt: skip
            obj.pk, obj.user = staff.pk, staff.user
            obj._state.adding, obj._state.db = False, staff._state.db
            return
        obj.display_name = clean_typed_name(obj.display_name)
        with transaction.atomic():
            current = Staff.objects.select_for_update().select_related("user").get(pk=obj.pk)
            if current.display_name != obj.display_name:
                Staff.objects.filter(pk=obj.pk).update(display_name=obj.display_name)
                record(request.user, self.audit_action("change"), obj,
                       before={"display_name": current.display_name},
                       after={"display_name": obj.display_name})  # fmt: skip
            was = (current.role, current.branch_id, current.village_id, current.person_id,
                   current.user.is_active)  # fmt: skip
            now = (obj.role, obj.branch_id, obj.village_id, obj.person_id, data["active"])
            if was != now:
                actions.do_change_staff(
                    request.user, current, role=obj.role, branch=obj.branch,
                    active=data["active"], village=obj.village, person=obj.person,
                )  # fmt: skip


# --- assignments -----------------------------------------------------------------------


class AssignmentForm(forms.ModelForm):
    """The checks of `do_assign`, as form errors."""

    class Meta:
        model = Assignment
        fields = ("staff", "village", "grid")

    def clean(self) -> dict:
        data = super().clean()
        staff, village, grid = data.get("staff"), data.get("village"), data.get("grid")
        if staff is None:
            return data
        if (village is None) == (grid is None):
            raise ValidationError(_("Assign either a village or a grid."))
        if staff.role != Role.CUSTOMER_MANAGER:
            raise ValidationError(_("Only customer managers are assigned villages or grids."))
        if (village or grid.village).branch_id != staff.branch_id:
            raise ValidationError(_("This village is not served by the customer manager's branch."))  # fmt: skip
        if Assignment.objects.filter(
            staff=staff, village=village, grid=grid, valid_to__isnull=True
        ).exists():
            raise ValidationError(_("This assignment is already open."))
        return data


@admin.register(Assignment)
class AssignmentAdmin(AuditedAdmin):
    """Opened with `do_assign`, ended with `do_end_assignment` (the list's action), never
    edited or deleted: the history of who looked after which village is kept."""

    form = AssignmentForm
    list_display = ("staff", "village", "grid", "valid_from", "valid_to", "assigned_by", "ended_by")  # fmt: skip
    list_filter = (("valid_to", admin.EmptyFieldListFilter), "staff__branch")
    list_select_related = ("staff", "village", "grid", "assigned_by", "ended_by")
    search_fields = ("staff__display_name", "staff__user__username", "=village__code", "=grid__code")  # fmt: skip
    raw_id_fields = ("grid",)
    actions = ("end_assignments",)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ("staff", "village", "grid")
        return ("staff", "village", "grid", "valid_from", "valid_to", "assigned_by", "ended_by")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = Staff.objects.filter(role=Role.CUSTOMER_MANAGER).select_related("user")  # fmt: skip
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and scope_for(request.user).can_assign

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # True for the list (its "end" action), False for one assignment (view only).
        return (
            obj is None
            and super().has_change_permission(request)
            and scope_for(request.user).can_assign
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Assignment, form, change: bool) -> None:
        assignment = actions.do_assign(request.user, obj.staff, village=obj.village, grid=obj.grid)
        obj.pk, obj.valid_from, obj.assigned_by = assignment.pk, assignment.valid_from, request.user
        obj._state.adding, obj._state.db = False, assignment._state.db

    @admin.action(description=_("End the selected assignments"), permissions=["change"])
    def end_assignments(self, request: HttpRequest, queryset) -> None:
        ended = 0
        with transaction.atomic():
            for assignment in queryset.filter(valid_to__isnull=True).select_related("staff"):
                actions.do_end_assignment(request.user, assignment)
                ended += 1
        self.message_user(
            request,
            ngettext("%(n)d assignment ended.", "%(n)d assignments ended.", ended) % {"n": ended},
        )


# --- users -----------------------------------------------------------------------------


class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    """Users are created, given a role and deactivated on the Staff page (the app's
    rules); here an HQ admin corrects a name or an e-mail address or sets a password."""

    readonly_fields = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions",
                       "last_login", "date_joined")  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def user_change_password(self, request: HttpRequest, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            done = (
                request.method == "POST"
                and response.status_code == 302
                and response.url != request.get_full_path()
            )
            if done:
                user = self.get_object(request, unquote(id))
                record(request.user, "admin.user.password", user)
        return response


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)
# Roles live on Staff; Django's groups and permissions are not used.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
