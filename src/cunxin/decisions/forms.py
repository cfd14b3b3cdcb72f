"""The forms of the credit pages and of the decisions' JSON API (a form over the JSON
body): each field checked here first, with its own message (400); the actions then judge
what the values mean, naming the part of the policy or the decision they refuse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cunxin.credit.policy import CreditPolicy, Preset
from cunxin.decisions.models import TRANSITIONS, BatchRun, CreditPolicyVersion, ModelVersion
from cunxin.decisions.policy_actions import PRESET_LABELS, SHARES
from cunxin.org.fields import ChoiceField, ObjectField, TextField

MAX_REASON = 200  # what a decision keeps of a reason
# Guards against absurd input only: the policy's own limits (100 characters a label, 2,000
# an expression) are the action's, whose message names the rule.
MAX_TEXT = 10_000


class DecisionActionForm(forms.Form):
    """The checker's decision on the page: `action` (a transition of the state machine)
    and `reason` (required for all but approve: the action says so)."""

    action = ChoiceField(
        choices=[(a, a) for a in TRANSITIONS], message=_("Unknown action."),
        required_message=_("Choose what to do."),
    )  # fmt: skip
    reason = TextField(max_length=MAX_REASON)


class ReasonForm(forms.Form):
    """The JSON API's body (or form body): the reason, text of at most 200 characters."""

    reason = TextField(max_length=MAX_REASON, error_messages={"invalid": _("Give a reason.")})


class ActivateModelForm(forms.Form):
    model = ObjectField(ModelVersion.objects.all(), message=_("Choose a model version."))


class RunScopeForm(forms.Form):
    """Where a batch run applies: `kind` and the village's or the branch's code. Whether
    the user may start it there is the view's and `batch.start`'s question."""

    kind = ChoiceField(
        choices=BatchRun.ScopeKind.choices, message=_("Choose a village, a branch or the county.")
    )
    village = TextField(max_length=12)
    branch = TextField(max_length=16)

    def scope_code(self) -> tuple[str, str]:
        """(kind, code): the village or branch chosen for the kind ("" for the county)."""
        d = self.cleaned_data
        return d["kind"], {"village": d["village"], "branch": d["branch"]}.get(d["kind"], "")


class WhatifForm(RunScopeForm):
    policy = ObjectField(
        CreditPolicyVersion.objects.all(), message=_("Choose a policy version to try.")
    )


class PublishPolicyForm(forms.Form):
    effective_from = TextField(
        max_length=32, required=True,
        error_messages={"required": _("Give the date it is in force from.")},
    )  # fmt: skip


class CreditPolicyForm(forms.Form):
    """A new credit policy version as typed: every field text of a sensible length (the
    numbers, dates and CEL expressions are parsed and judged by the action, which names
    each part it refuses, all at once). Rule fields are the version's rules, by id."""

    version = TextField(max_length=64)
    effective_from = TextField(max_length=32)
    note = TextField(max_length=MAX_TEXT)
    preset = ChoiceField(
        choices=[(str(p), PRESET_LABELS[p]) for p in Preset],
        message=_("Choose how the final amount is picked."),
    )
    rounding_yuan = TextField(max_length=32)
    capacity = TextField(max_length=MAX_TEXT)

    def __init__(self, *args, policy: CreditPolicy, stop_ids: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.parts: dict[str, str] = {}  # field → the part of the policy it belongs to
        for suffix in ("label", "when"):
            self._add(f"credit_household-{suffix}", TextField(max_length=MAX_TEXT), "credit_household")  # fmt: skip
        for g in policy.grades:
            self._add(f"cap-{g.key}", TextField(max_length=32), "grades")
        for rid in stop_ids:
            self._add(f"stop-{rid}-on", forms.BooleanField(required=False), "hard_stops")
            self._add(f"stop-{rid}-label", TextField(max_length=MAX_TEXT), "hard_stops")
            self._add(f"stop-{rid}-when", TextField(max_length=MAX_TEXT), "hard_stops")
        for r in policy.routes:
            self._add(f"route-{r.id}-label", TextField(max_length=MAX_TEXT), "routes")
            self._add(f"route-{r.id}-when", TextField(max_length=MAX_TEXT), "routes")
        for name in SHARES:
            self._add(name, TextField(max_length=32), name)

    def _add(self, name: str, field: forms.Field, part: str) -> None:
        self.fields[name] = field
        self.parts[name] = part

    def part_errors(self) -> dict[str, list[str]]:
        """The refused fields' messages by the part of the policy the page shows them
        under ("general" for the rest)."""
        errors: dict[str, list[str]] = {}
        for name, messages in self.errors.items():
            part = "general" if name == "__all__" else self.parts.get(name, name)
            errors.setdefault(part, []).extend(str(m) for m in messages)
        return errors
