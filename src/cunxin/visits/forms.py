"""The visit form: how (on site / by phone), where, notes, photos, and per member of the
household whether the details are right, the survey amount and, if the evaluation is
corrected, the new colour, amount and reason (`<field>-<person uid>`)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cunxin.evaluation.actions import VERDICT_COLORS
from cunxin.evaluation.policy import EvaluationPolicy
from cunxin.lib import images
from cunxin.lib.geo import parse_point
from cunxin.org.fields import ChoiceField, TextField, WholeYuanField, bad_image_message
from cunxin.pool.models import Person
from cunxin.visits import actions
from cunxin.visits.models import Mode

MAX_PHOTOS = 6


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS photos, each cleaned of its metadata (`cunxin.lib.images`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.error_messages.update({"invalid": _("The file is not a photo (JPEG, PNG or WebP).")})

    def clean(self, data, initial=None) -> list[images.CleanImage]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if len(uploads) > MAX_PHOTOS:
            raise ValidationError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS})
        cleaned = []
        for upload in uploads:
            upload = super().clean(upload, initial)
            if upload.size > images.MAX_BYTES:  # before reading it into memory
                raise ValidationError(_("The file is larger than 15 MB."))
            try:
                cleaned.append(images.clean_photo(upload.read()))
            except images.BadImage as e:
                raise ValidationError(bad_image_message(e)) from None
        return cleaned


class RecordVisitForm(forms.Form):
    mode = ChoiceField(choices=Mode.choices, message=_("Choose on site or by phone."))
    notes = TextField(max_length=2000)
    lat = TextField(max_length=32)
    lon = TextField(max_length=32)
    photos = PhotosField()

    def __init__(self, *args, members: list[Person], policy: EvaluationPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = members
        cap = policy.amount_cap_yuan
        colors = [(c, c) for c in VERDICT_COLORS]
        for p in members:
            self.fields[f"confirmed-{p.uid}"] = forms.BooleanField(required=False)
            self.fields[f"survey-{p.uid}"] = WholeYuanField(max_value=cap)
            self.fields[f"color-{p.uid}"] = ChoiceField(
                choices=colors, required=False, message=_("Choose white, grey or black.")
            )
            self.fields[f"amount-{p.uid}"] = WholeYuanField(max_value=cap)
            self.fields[f"reason-{p.uid}"] = TextField(max_length=200)

    def clean(self):
        d = super().clean()
        for p in self.members:
            color, amount = d.get(f"color-{p.uid}"), d.get(f"amount-{p.uid}")
            if (
                color in ("white", "grey")
                and amount is None
                and f"amount-{p.uid}" not in self.errors
            ):
                self.add_error(f"amount-{p.uid}", _("A white or grey list entry needs its evaluation amount."))  # fmt: skip
        return d

    def visit(self) -> actions.VisitForm:
        """The cleaned form as the action takes it."""
        d = self.cleaned_data
        latitude, longitude = parse_point(d["lat"], d["lon"])
        return actions.VisitForm(
            mode=d["mode"], notes=d["notes"], latitude=latitude, longitude=longitude,
            photos=d["photos"],
            members=[
                actions.MemberFinding(
                    person_uid=p.uid, confirmed=d[f"confirmed-{p.uid}"],
                    survey_amount_yuan=d[f"survey-{p.uid}"], color=d[f"color-{p.uid}"] or None,
                    amount_yuan=d[f"amount-{p.uid}"] if d[f"color-{p.uid}"] else None,
                    correction_reason=d[f"reason-{p.uid}"],
                )
                for p in self.members
            ],
        )  # fmt: skip
