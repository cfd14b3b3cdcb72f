"""The forms of the evaluation pages: every POST is validated here first (a message next to
the field, 400), then handed to the action, whose refusals go onto the same form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cunxin.evaluation.actions import VERDICT_COLORS
from cunxin.evaluation.models import PanelRole, PolicyVersion, Project, Round, RoundKind
from cunxin.evaluation.policy import AmountRule, EvaluationPolicy
from cunxin.evaluation.policy_actions import AMOUNT_RULE_LABELS, MAX_NOTE, RELATIONS
from cunxin.lib import images
from cunxin.lib.geo import parse_point
from cunxin.org.fields import (
    ChoiceField,
    MultipleChoiceField,
    ObjectField,
    TextField,
    WholeNumberField,
    WholeYuanField,
    bad_image_message,
)
from cunxin.org.models import Role, Staff
from cunxin.pool.models import Person

GRADES = ("1", "2", "3", "4", "5")
MAX_REASON = 200  # what the actions store of a reason


def reason_field(max_length: int = MAX_REASON) -> TextField:
    return TextField(
        max_length=max_length, required=True, error_messages={"required": _("Give a reason.")}
    )


# --- projects, panels and rounds ------------------------------------------------------------
class StartProjectForm(forms.Form):
    """A village in the user's scope and a customer manager the user sees."""

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"] = ObjectField(
            scope.villages(), to_field_name="code", message=_("Choose a village.")
        )
        self.fields["responsible"] = ObjectField(
            scope.staff_members().filter(role=Role.CUSTOMER_MANAGER),
            message=_("Choose a customer manager."),
        )


class AddPanelMemberForm(forms.Form):
    role = ChoiceField(
        choices=PanelRole.choices, required=False, message=_("Choose the evaluator's role.")
    )
    alternate = forms.BooleanField(required=False)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"] = ObjectField(
            Staff.objects.filter(role=Role.EVALUATOR, village_id=project.village_id),
            message=_("Choose an evaluator."),
        )

    def clean_role(self) -> str:
        return self.cleaned_data["role"] or PanelRole.REPRESENTATIVE


class RemovePanelMemberForm(forms.Form):
    reason = reason_field()


class OpenRoundForm(forms.Form):
    kind = ChoiceField(choices=RoundKind.choices, message=_("Choose a round."))


class ChangeVerdictForm(forms.Form):
    """复评: one person of the round's village, the new colour, amount and reason."""

    color = ChoiceField(
        choices=[(c, c) for c in VERDICT_COLORS], message=_("Choose white, grey or black.")
    )
    reason = reason_field()

    def __init__(self, *args, round: Round, cap_yuan: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"] = ObjectField(
            Person.objects.filter(village_id=round.project.village_id),
            to_field_name="uid", message=_("Choose a person."),
        )  # fmt: skip
        self.fields["amount"] = WholeYuanField(max_value=cap_yuan)


# --- the evaluator's review of a household --------------------------------------------------
class ReviewHouseholdForm(forms.Form):
    """One review per member of the household, as `<field>-<person uid>`: knows the
    household (yes / no), negative items, a grade per graded item, the suggested amount.
    `action` submits (or saves a draft)."""

    action = ChoiceField(
        choices=[("draft", "draft"), ("submit", "submit")], required=False,
        message=_("Save or submit."),
    )  # fmt: skip

    def __init__(self, *args, members: list[Person], policy: EvaluationPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.members, self.policy = members, policy
        negative = list(policy.negative_items.items())
        for p in members:
            self.fields[f"knows-{p.uid}"] = ChoiceField(
                choices=[("yes", "yes"), ("no", "no")], required=False,
                message=_("Answer yes or no."),
            )  # fmt: skip
            self.fields[f"neg-{p.uid}"] = MultipleChoiceField(
                choices=negative, message=_("Tick the items of the list.")
            )
            for item in policy.graded_items:
                self.fields[f"grade-{p.uid}-{item}"] = ChoiceField(
                    choices=[(g, g) for g in GRADES], required=False,
                    message=_("Give a grade from 1 to 5."),
                )  # fmt: skip
            self.fields[f"amount-{p.uid}"] = WholeYuanField(max_value=policy.amount_cap_yuan)

    @property
    def submit(self) -> bool:
        return self.cleaned_data.get("action") == "submit"

    def answer(self, person: Person) -> dict:
        """The member's cleaned answers (for `actions.ReviewInput`)."""
        d, uid = self.cleaned_data, person.uid
        return {
            "knows_household": {"yes": True, "no": False}.get(d[f"knows-{uid}"]),
            "negative_items": list(d[f"neg-{uid}"]),
            "graded": {
                item: int(d[f"grade-{uid}-{item}"])
                for item in self.policy.graded_items
                if d[f"grade-{uid}-{item}"]
            },
            "amount_yuan": d[f"amount-{uid}"],
        }

    def member_errors(self, person: Person) -> dict[str, list[str]]:
        """The messages of the member's fields: "amount" (shown under the amount) and
        "other" (knows, negative items, grades: shown at the top of their card)."""
        uid = person.uid
        other = [
            str(m)
            for name, errors in self.errors.items()
            if name in (f"knows-{uid}", f"neg-{uid}") or name.startswith(f"grade-{uid}-")
            for m in errors
        ]
        return {"amount": [str(m) for m in self.errors.get(f"amount-{uid}", [])], "other": other}


# --- 验收 ------------------------------------------------------------------------------------
class QaCheckForm(forms.Form):
    """A re-check: passed or not, a note (required when not), the photo taken there, the
    checker's signature drawn on the pad (a PNG data URL) and, optionally, the place."""

    result = ChoiceField(
        choices=[("pass", "pass"), ("fail", "fail")], message=_("Choose passed or not passed.")
    )
    note = TextField(max_length=500)
    photo = forms.FileField(
        error_messages={
            "required": _("Take a photo."), "invalid": _("Take a photo."),
            "empty": _("The photo is empty."), "max_length": _("The file name is too long."),
        },
    )  # fmt: skip
    # a signature is a few kilobytes; the request's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is
    # the upper bound
    signature = TextField(
        max_length=3_000_000, required=True,
        error_messages={"required": _("Sign in the box.")},
    )  # fmt: skip
    latitude = TextField(max_length=32)
    longitude = TextField(max_length=32)

    def clean_photo(self) -> images.CleanImage:
        upload = self.cleaned_data["photo"]
        if upload.size > images.MAX_BYTES:  # before reading it into memory
            raise ValidationError(_("The file is larger than 15 MB."))
        try:
            return images.clean_photo(upload.read())
        except images.BadImage as e:
            raise ValidationError(bad_image_message(e)) from None

    def clean_signature(self) -> images.CleanImage:
        try:
            return images.clean_signature(self.cleaned_data["signature"])
        except images.BadImage as e:
            raise ValidationError(bad_image_message(e)) from None

    def clean(self):
        data = super().clean()
        if data.get("result") == "fail" and not data.get("note"):
            self.add_error("note", _("Say what did not hold up."))
        # a place the browser sent that is not one is left out, as before
        data["point"] = parse_point(data.get("latitude"), data.get("longitude"))
        return data


# --- policy versions -------------------------------------------------------------------------
class PercentField(forms.DecimalField):
    """A share typed as a percentage ("5", "12.5%", "５"); the share (0.05) when cleaned."""

    default_error_messages = {
        "required": _("Enter a percentage."),
        "invalid": _("Enter a percentage, e.g. 5 or 12.5."),
        "max_value": _("At most 100%%."),
        "min_value": _("At least 0%%."),
        "max_digits": _("Enter a percentage, e.g. 5 or 12.5."),
        "max_decimal_places": _("At most two decimal places."),
        "max_whole_digits": _("At most 100%%."),
    }
    DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=100, max_digits=6, decimal_places=2, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().rstrip("%％").strip().translate(self.DIGITS)
            if len(value) > 20:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        elif (value is not None and not isinstance(value, int | float)) or isinstance(value, bool):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def clean(self, value):
        percent = super().clean(value)
        return None if percent is None else percent / 100


class EvaluationPolicyForm(forms.Form):
    """A new evaluation policy version: the settings as typed. Types and ranges of numbers
    here; what the settings mean together is `policy_actions.validate_policy`'s."""

    negative_items = TextField(
        max_length=10_000, required=True,
        error_messages={"required": _("List the negative items.")},
    )  # fmt: skip
    graded_items = TextField(max_length=5_000)
    min_valid_reviews = WholeNumberField(max_value=100, required=True)
    black_share = PercentField()
    amount_rule = ChoiceField(
        choices=[(str(k), v) for k, v in AMOUNT_RULE_LABELS.items()],
        message=_("Choose how the amount is found."),
    )
    amount_cap_yuan = WholeYuanField(required=True)
    conflicting_relations = MultipleChoiceField(
        choices=[(r, r) for r in RELATIONS], message=_("Choose relations of the list.")
    )
    qa_share = PercentField()
    visit_amount_threshold_yuan = WholeYuanField(required=True)
    visit_sample_share = PercentField()
    note = TextField(max_length=MAX_NOTE)

    def clean_amount_rule(self) -> AmountRule:
        return AmountRule(self.cleaned_data["amount_rule"])


class MoveProjectPolicyForm(forms.Form):
    version = ObjectField(PolicyVersion.objects.all(), message=_("Choose a version."))
    reason = reason_field(MAX_NOTE)


# --- paper sheets ----------------------------------------------------------------------------
class SheetUploadForm(forms.Form):
    """A panel member of the project and their filled sheet (its size and content are
    checked by `sheets.import_sheet`, which names what is wrong with the file)."""

    sheet = forms.FileField(
        error_messages={
            "required": _("Choose the filled sheet (.xlsx) to upload."),
            "invalid": _("Choose the filled sheet (.xlsx) to upload."),
            "empty": _("The file is empty."), "max_length": _("The file name is too long."),
        },
        max_length=200,
    )  # fmt: skip

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"] = ObjectField(
            project.panel.filter(removed_at__isnull=True), message=_("Choose a panel member.")
        )
