"""Form fields and helpers that every app's forms use (`org` is the app the others build
on). Every POST of the app goes through a Django form: a mistake is a message next to its
field and a 400, never a 500.

Why not Django's own fields as they are:
- `forms.IntegerField` takes whatever Python's `int()` takes: "٥" (Arabic-Indic five) and
  "1_000" pass, and a 100,000-digit number raises inside `int()`. `WholeYuanField` takes
  ASCII and full-width digits (a Chinese keyboard types "５") with thousands separators,
  up to a maximum, and nothing else: "5²" is refused, not turned into 52.
- `forms.CharField` turns a JSON list into its text "['a']"; `TextField` refuses a value
  that is not text (the JSON API's bodies are validated by the same forms as the pages).
- `forms.ChoiceField` puts the refused value into its message: a 100,000-character value
  would come back in the page. The choice fields here say what to choose instead.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Full-width digits and commas (a Chinese input method types them) → ASCII.
FULLWIDTH = str.maketrans("０１２３４５６７８９，", "0123456789,")
WHOLE = re.compile(r"[0-9]{1,30}", re.ASCII)
MAX_YUAN = 1_000_000_000  # a sanity bound where no policy gives one (fits a 32-bit column)
TOO_LONG = _("At most %(limit_value)d characters.")


class TextField(forms.CharField):
    """Text (stripped), at most `max_length` characters; a value that is not text (a list
    or a number in a JSON body) is refused."""

    default_error_messages = {
        "invalid": _("Enter text."),
        "max_length": TOO_LONG,
    }

    def __init__(self, *, max_length: int, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(max_length=max_length, **kwargs)
        self.error_messages.setdefault("max_length", TOO_LONG)

    def to_python(self, value):
        if value is not None and not isinstance(value, str):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class WholeYuanField(forms.Field):
    """A whole number of yuan from 0 to `max_value`: ASCII or full-width digits, with or
    without thousands separators. None when nothing is typed (unless required)."""

    default_error_messages = {
        "invalid": _("Enter a whole number of yuan, in digits."),
        "max_value": _("At most %(limit)s yuan."),
        "required": _("Enter an amount."),
    }

    def __init__(self, *, max_value: int = MAX_YUAN, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.max_value = max_value

    def to_python(self, value) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        text = str(value).strip().translate(FULLWIDTH).replace(",", "").replace(" ", "")
        if not text:
            return None
        if not WHOLE.fullmatch(text):
            if re.fullmatch(r"[0-9]+", text, re.ASCII):  # longer than any amount
                raise self._too_large()
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        amount = int(text)
        if amount > self.max_value:
            raise self._too_large()
        return amount

    def _too_large(self) -> ValidationError:
        return ValidationError(
            self.error_messages["max_value"], code="max_value",
            params={"limit": f"{self.max_value:,}"},
        )  # fmt: skip

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "inputmode": "numeric"}


class WholeNumberField(WholeYuanField):
    """A whole number (a count, not money) from 0 to `max_value`, typed the same way."""

    default_error_messages = {
        "invalid": _("Enter a whole number, in digits."),
        "max_value": _("At most %(limit)s."),
        "required": _("Enter a number."),
    }


class ChoiceField(forms.ChoiceField):
    """A choice whose refusal says what to choose (`message`), never echoing the value."""

    def __init__(self, *, message, required_message=None, **kwargs):
        super().__init__(**kwargs)
        self.error_messages.update(
            {"invalid_choice": message, "required": required_message or message}
        )


class MultipleChoiceField(forms.MultipleChoiceField):
    """Several choices (checkboxes); a refusal says what to choose, without the value."""

    def __init__(self, *, message, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.error_messages.update(
            {"invalid_choice": message, "invalid_list": message, "required": message}
        )


class ObjectField(forms.ModelChoiceField):
    """A database object by its key ("abc", "5²" or 10**30 simply match nothing): `message`
    when nothing in `queryset` has it. `queryset` is what the user may choose from, so an
    object outside their scope is refused like one that does not exist."""

    def __init__(self, queryset, *, message, **kwargs):
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset, **kwargs)
        self.error_messages.update({"invalid_choice": message, "required": message})

    def to_python(self, value):
        if isinstance(value, bool) or not isinstance(value, str | int | None):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        if isinstance(value, str) and len(value) > 64:  # no key is this long
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


def refuse(form: forms.Form, error: ValidationError, field: str | None = None) -> None:
    """An action's refusal on the form: messages keyed by a field of the form go next to
    it, the others (and a plain refusal, unless `field` names where it belongs) above the
    form. The action's keys that the form does not have must not raise."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(field, error)


def error_text(form: forms.Form) -> str:
    """Every message of a refused form as one line (the JSON API's "error")."""
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


# Why an uploaded photo or a drawn signature is refused (`cunxin.lib.images.BadImage`).
BAD_IMAGE_MESSAGES = {
    "no_signature": _("Sign in the box."),
    "unreadable_signature": _("The signature could not be read."),
    "empty_signature": _("The signature is empty."),
    "empty_file": _("The file is empty."),
    "too_large": _("The file is larger than 15 MB."),
    "too_many_pixels": _("The image has too many pixels."),
    "not_a_photo": _("The file is not a photo (JPEG, PNG or WebP)."),
}


def bad_image_message(error) -> str:
    """A refused image (`BadImage`) said in the user's language."""
    return str(BAD_IMAGE_MESSAGES.get(getattr(error, "code", ""), error))
