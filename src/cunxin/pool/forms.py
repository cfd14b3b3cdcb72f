"""The forms of the customer pool's pages: the village pool's search and filters, a
reveal's reason, a new segment."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cunxin.org.fields import ChoiceField, MultipleChoiceField, TextField
from cunxin.pool.actions import REVEAL_REASONS
from cunxin.pool.models import ListColor, is_tag

# Longer than any name, ID number, phone or masked value: a search is never a 100,000-
# character LIKE pattern (SQLite refuses those, "LIKE or GLOB pattern too complex").
MAX_SEARCH = 40


class TagField(TextField):
    """A tag, "family:value", of a known family."""

    def __init__(self, **kwargs):
        super().__init__(max_length=64, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not is_tag(value):
            raise ValidationError(_("Choose a tag of the list."), code="invalid")


class PoolSearchForm(forms.Form):
    """The village pool's search text (POST) and filters (query or POST); `page` is left
    to the paginator, which takes anything. A refused search lists nothing."""

    q = TextField(max_length=MAX_SEARCH)
    show = ChoiceField(
        choices=[("households", "households"), ("persons", "persons")], required=False,
        message=_("Show households or persons."),
    )  # fmt: skip
    color = ChoiceField(
        choices=ListColor.choices, required=False, message=_("Choose a list colour.")
    )
    tag = TagField()

    def clean_show(self) -> str:
        return self.cleaned_data["show"] or "households"


class RevealForm(forms.Form):
    reason = ChoiceField(choices=list(REVEAL_REASONS.items()), message=_("Choose a reason."))
    note = TextField(max_length=150)


class SegmentForm(forms.Form):
    name = TextField(
        max_length=64, required=True, error_messages={"required": _("Give the segment a name.")}
    )
    tags = forms.Field(required=False)  # a list of tags, each checked below
    colors = MultipleChoiceField(choices=ListColor.choices, message=_("Unknown list colour."))

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.fields["tags"].widget = forms.SelectMultiple()

    def clean_tags(self) -> list[str]:
        tags = self.cleaned_data["tags"] or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValidationError(_("A tag is written family:tag."))
        if len(tags) > 20 or any(t.strip() and not is_tag(t.strip()) for t in tags):
            raise ValidationError(_("A tag is written family:tag."))
        return tags
