"""The sign-in forms: user name and password (Django's, with the lengths checked before
anything is looked up), and the evaluators' phone and one-time code."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from cunxin.org.fields import FULLWIDTH, TextField

MAX_PASSWORD = 4096  # longer is no password a person types; hashing it would only cost time


class LoginForm(AuthenticationForm):
    """Django's sign-in form, which sets the user name's maximum only on the widget: a
    100,000-character name would reach `authenticate` and the failed-login record
    (django-axes stores it in a 255-character column: a 500 on PostgreSQL)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(
            MaxLengthValidator(self.fields["username"].max_length or 150)
        )
        self.fields["password"].validators.append(MaxLengthValidator(MAX_PASSWORD))


class CodeLoginForm(forms.Form):
    """A mobile number: 11 digits (full-width ones count), spaces and dashes ignored."""

    phone = TextField(
        max_length=32, required=True, error_messages={"required": _("Enter your mobile number.")}
    )

    def clean_phone(self) -> str:
        phone = re.sub(r"[\s\-]", "", self.cleaned_data["phone"].translate(FULLWIDTH))
        if not re.fullmatch(r"1[0-9]{10}", phone, re.ASCII):
            raise ValidationError(_("Enter the 11 digits of your mobile number."))
        return phone


class CodeVerifyForm(forms.Form):
    code = TextField(max_length=16, required=True)

    def clean_code(self) -> str:
        return self.cleaned_data["code"].translate(FULLWIDTH)
