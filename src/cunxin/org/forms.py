"""The forms of the staff pages (HQ admins create and change users, managers assign
areas): checked here first, then by the actions in `org.actions`."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cunxin.org.actions import check_username
from cunxin.org.fields import ChoiceField, ObjectField, TextField
from cunxin.org.models import Branch, Grid, Role, Village
from cunxin.pool.models import Person

# Customer accounts belong to a person and come from the customer channel, not this form.
STAFF_FORM_ROLES = [(value, label) for value, label in Role.choices if value != Role.CUSTOMER]


def _branch() -> ObjectField:
    return ObjectField(
        Branch.objects.all(), to_field_name="code", required=False, message=_("No such branch.")
    )


def _village() -> ObjectField:
    return ObjectField(
        Village.objects.all(), to_field_name="code", required=False,
        message=_("No such village."),
    )  # fmt: skip


class CreateStaffForm(forms.Form):
    username = TextField(
        max_length=150, required=True, error_messages={"required": _("Give a user name.")}
    )
    display_name = TextField(
        max_length=64, required=True, error_messages={"required": _("Give the person's name.")}
    )
    # not stripped: a password is what was typed
    password = TextField(
        max_length=128, required=True, strip=False,
        error_messages={"required": _("Give an initial password.")},
    )  # fmt: skip
    role = ChoiceField(choices=STAFF_FORM_ROLES, message=_("Choose a role."))
    branch = _branch()
    village = _village()
    person = ObjectField(
        Person.objects.all(), to_field_name="uid", required=False,
        message=_("No such person."),
    )  # fmt: skip

    def clean_username(self) -> str:
        """The name as it will be stored, checked next to the field (the action checks
        again)."""
        return check_username(self.cleaned_data["username"])

    def clean(self):
        """The password policy's verdict next to the password (the action checks again)."""
        data = super().clean()
        if data.get("password"):
            user = get_user_model()(username=data.get("username") or "")
            try:
                password_validation.validate_password(data["password"], user)
            except ValidationError as e:
                self.add_error("password", e)
        return data


class ChangeStaffForm(forms.Form):
    role = ChoiceField(choices=Role.choices, message=_("Choose a role."))
    branch = _branch()
    village = _village()
    active = forms.BooleanField(required=False)


class AssignForm(forms.Form):
    """A village or a grid (by code). Whether the user may assign it is the view's and the
    action's question: outside their scope it is not found (404)."""

    village = _village()
    grid = ObjectField(
        Grid.objects.all(), to_field_name="code", required=False, message=_("No such grid.")
    )
