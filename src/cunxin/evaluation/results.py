"""A closed round's verdicts as staff read them: only the persons the viewer's scope
holds (`org.scope.Scope.persons`), filtered and paged, each with its reasons in words.

The reasons come from what the verdict stored at close (`Verdict.inputs`), not from its
`reasons` strings (machine text): for a first-round verdict, the valid reviews, the
negative items ticked and by how many valid reviewers, the reviews that did not count
and why; for a re-review or sign-off verdict, the first round's reasons followed through
`inputs["from_verdict"]`, plus the re-review change with its reason. Reviewers are never
named (back to back): only counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django import forms
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from cunxin.evaluation.labels import verdict_label
from cunxin.evaluation.models import PolicyVersion, Round, Verdict
from cunxin.evaluation.policy import EvaluationPolicy
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.relations import RELATION_LABELS
from cunxin.org.models import VillageGroup
from cunxin.org.scope import Scope

# Verdict colours in the order a branch reads them: the ones to look at first.
COLOR_ORDER = ("black", "grey", "insufficient", "white")
NAME_MAX = 64  # a person's name is at most this long (pool.Person.name)


def visible_verdicts(scope: Scope, rnd: Round) -> QuerySet[Verdict]:
    """The round's verdicts of the persons in the user's scope, black first, then by
    group, household and member."""
    order = Case(
        *[When(color=c, then=Value(n)) for n, c in enumerate(COLOR_ORDER)],
        default=Value(len(COLOR_ORDER)),
        output_field=IntegerField(),
    )
    return (
        rnd.verdicts.filter(person__in=scope.persons().values("uid"))
        .select_related("person__household", "person__group")
        .order_by(
            order, "person__group_id", "person__household__household_no",
            "person__household_id", "person__member_index", "person_id",
        )
    )  # fmt: skip


@dataclass(frozen=True)
class Filters:
    color: str = ""
    group: str = ""
    name: str = ""

    @property
    def active(self) -> bool:
        return bool(self.color or self.group or self.name)


class FilterForm(forms.Form):
    """The results page's filters, posted (a name never goes into a URL). A field that
    does not validate filters nothing and says why."""

    color = forms.ChoiceField(label=gettext_lazy("List"), required=False)
    group = forms.ChoiceField(label=gettext_lazy("Group"), required=False)
    name = forms.CharField(
        label=pgettext_lazy("person", "Name"), required=False, max_length=NAME_MAX, strip=True
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data=None, *, groups: QuerySet[VillageGroup]) -> None:
        super().__init__(data)
        self.fields["color"].choices = [("", gettext_lazy("Any list"))] + [
            (c, verdict_label(c)) for c in COLOR_ORDER
        ]
        self.fields["group"].choices = [("", gettext_lazy("Any group"))] + [
            (g.code, g.name) for g in groups
        ]

    def _clean(self, name: str, default):
        if not self.is_bound:
            return default
        self.is_valid()  # cleaned_data then holds the fields that validated
        return self.cleaned_data.get(name) or default

    def filters(self) -> Filters:
        return Filters(
            color=self._clean("color", ""), group=self._clean("group", ""),
            name=self._clean("name", ""),
        )  # fmt: skip

    def page_number(self) -> int:
        return self._clean("page", 1)


def apply_filters(verdicts: QuerySet[Verdict], f: Filters) -> QuerySet[Verdict]:
    if f.color in COLOR_ORDER:
        verdicts = verdicts.filter(color=f.color)
    if f.group:
        verdicts = verdicts.filter(person__group_id=f.group)
    if f.name:
        verdicts = verdicts.filter(person__name__contains=f.name[:NAME_MAX])
    return verdicts


def groups_of(verdicts: QuerySet[Verdict]) -> QuerySet[VillageGroup]:
    """The village groups the visible verdicts' persons live in (for the group filter)."""
    return VillageGroup.objects.filter(
        pk__in=verdicts.order_by().values("person__group_id")
    ).order_by("code")


def color_counts(verdicts: QuerySet[Verdict]) -> Counter:
    """Verdicts by colour (one GROUP BY)."""
    return Counter(dict(verdicts.order_by().values_list("color").annotate(n=Count("pk"))))


# --- reasons -----------------------------------------------------------------------------------
def _excluded_text(why: str) -> str:
    if why == "does_not_know":
        return _("does not know the household")
    if why.startswith("conflict:"):
        relation = why.split(":", 1)[1]
        return _("conflict of interest (%(relation)s)") % {
            "relation": RELATION_LABELS.get(relation, relation)
        }
    return why


def first_round_reasons(verdict: Verdict, policy: EvaluationPolicy) -> list[str]:
    """A first-round verdict's reasons from its stored inputs (see the module docstring)."""
    reviews = (verdict.inputs or {}).get("reviews") or []
    valid = [r for r in reviews if not r.get("excluded")]
    reasons = []
    if verdict.color == "insufficient":
        reasons.append(
            _("Too few valid reviews: %(n)s, at least %(min)s needed.")
            % {"n": len(valid), "min": policy.min_valid_reviews}
        )
    counts = Counter(item for r in valid for item in r.get("items") or [])
    flagged = sum(1 for r in valid if r.get("items"))
    if flagged:
        reasons.append(
            ngettext(
                "Negative items from %(flagged)s of %(n)s valid reviewer.",
                "Negative items from %(flagged)s of %(n)s valid reviewers.",
                len(valid),
            )
            % {"flagged": flagged, "n": len(valid)}
        )
        for item, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            reasons.append(
                ngettext(
                    "%(item)s: ticked by %(n)s reviewer", "%(item)s: ticked by %(n)s reviewers", n
                )
                % {"item": policy.negative_items.get(item, item), "n": n}
            )
    elif verdict.color == "white":
        reasons.append(
            ngettext(
                "No negative item from %(n)s valid reviewer.",
                "No negative item from %(n)s valid reviewers.",
                len(valid),
            )
            % {"n": len(valid)}
        )
    amounts = [r["amount"] for r in valid if r.get("amount") is not None]
    if verdict.amount_yuan is not None and amounts:
        reasons.append(
            ngettext(
                "Amount: the %(rule)s of %(n)s suggested amount.",
                "Amount: the %(rule)s of %(n)s suggested amounts.",
                len(amounts),
            )
            % {"rule": _rule_label(policy), "n": len(amounts)}
        )
    excluded = Counter(_excluded_text(r["excluded"]) for r in reviews if r.get("excluded"))
    if excluded:
        reasons.append(
            _("Not counted: %(why)s.")
            % {"why": "；".join(f"{why} ×{n}" for why, n in sorted(excluded.items()))}
        )
    return reasons


def _rule_label(policy: EvaluationPolicy) -> str:
    return {"median": _("median"), "mean": _("mean"), "min": _("lowest")}.get(
        str(policy.amount_rule), str(policy.amount_rule)
    )


def explain(verdicts: list[Verdict], default: EvaluationPolicy) -> dict[int, list[str]]:
    """Verdict pk → its reasons, for a page of verdicts of one round. A verdict carried
    from an earlier round takes that round's reasons (one query per hop: at most two),
    then the re-review change, if any. Each first-round verdict is read with the policy
    its inputs name (one query), `default` when that version is gone."""
    origin: dict[int, Verdict] = {v.pk: v for v in verdicts}
    changes: dict[int, list[dict]] = {v.pk: [] for v in verdicts}  # newest first
    pending = dict(origin)
    for _hop in range(3):
        carried = {pk: v for pk, v in pending.items() if (v.inputs or {}).get("from_verdict")}
        if not carried:
            break
        for pk, v in carried.items():
            if change := v.inputs.get("change"):
                changes[pk].append(change)
        earlier = Verdict.objects.in_bulk([v.inputs["from_verdict"] for v in carried.values()])
        pending = {}
        for pk, v in carried.items():
            if (source := earlier.get(v.inputs["from_verdict"])) is not None:
                origin[pk] = pending[pk] = source
    versions = {(v.inputs or {}).get("policy") for v in origin.values()} - {None}
    policies = {pv.version: evaluation_policy(pv) for pv in PolicyVersion.objects.filter(version__in=versions)}  # fmt: skip
    out = {}
    for v in verdicts:
        source = origin[v.pk]
        inputs = source.inputs or {}
        policy = policies.get(inputs.get("policy", ""), default)
        reasons = first_round_reasons(source, policy) if "reviews" in inputs else []
        for change in reversed(changes[v.pk]):
            reasons.append(
                _("Re-review: changed from %(before)s, because: %(reason)s")
                % {"before": _color_text(change.get("before") or {}), "reason": change.get("reason", "")}
            )  # fmt: skip
        out[v.pk] = reasons
    return out


def _color_text(before: dict) -> str:
    text = str(verdict_label(before.get("color")))
    if before.get("amount_yuan") is not None:
        text += " " + _("%(amount)s yuan") % {"amount": f"{before['amount_yuan']:,}"}
    return text
