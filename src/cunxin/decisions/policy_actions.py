"""HQ's changes to the credit policy (DESIGN.md §5 "Three amounts": data, versioned,
editable by HQ).

A stored version's policy is never changed: an HQ admin creates a new version from an
existing one, with a name and a note. It is a *draft*, in force on no day: HQ tries it with
a what-if (`decisions:whatif`) and then publishes it, once, with an effective date
(`do_publish_policy_version`), which needs a what-if that ran on it without errors. The version in force on a day is the newest one effective on or before it
(`cunxin.decisions.actions.policy_in_force`); a version effective later is *scheduled*, and
one no longer in force is *superseded*.

Every CEL expression of a new version is compiled (type-checked against the policy's
inputs) by `cunxin.credit.decide.compile_policy` before it is stored: never Python `eval`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cunxin.audit.chain import record
from cunxin.credit.decide import PolicyError, compile_policy
from cunxin.credit.policy import CreditPolicy, Grade, Preset, Rule, from_data, to_data
from cunxin.decisions.fetch import credit_policy
from cunxin.decisions.models import BatchRun, CreditPolicyVersion
from cunxin.decisions.policy_errors import describe, does_not_compile
from cunxin.decisions.tallies import WhatifCounts
from cunxin.lib.text import clean_typed_name
from cunxin.org.models import Role
from cunxin.org.scope import scope_for

# The parts of a policy a new version may change (the keys of `to_data`), in page order.
PARTS = (
    "hard_stops", "grades", "capacity", "preset", "rounding_yuan", "routes",
    "credit_household", "credit_village",
)  # fmt: skip
RULE_PARTS = ("hard_stops", "routes", "credit_household")
SHARES = ("min_credit_household_share", "min_borrowers_without_arrears_share", "max_npl_ratio")
FIELD_LABELS = {
    "version": gettext_lazy("Version name"),
    "effective_from": gettext_lazy("Effective from"),
    "note": gettext_lazy("Note"),
    "hard_stops": gettext_lazy("Hard stops"),
    "grades": gettext_lazy("Grade caps"),
    "capacity": gettext_lazy("Capacity formula (model amount)"),
    "preset": gettext_lazy("Final amount rule"),
    "rounding_yuan": gettext_lazy("Rounding down to (yuan)"),
    "routes": gettext_lazy("Approval routes"),
    "credit_household": gettext_lazy("Credit household criterion"),
    "min_credit_household_share": gettext_lazy("Credit households among households, at least"),
    "min_borrowers_without_arrears_share": gettext_lazy("Borrowers without arrears, at least"),
    "max_npl_ratio": gettext_lazy("Non-performing loan ratio, below"),
}
PRESET_LABELS = {
    Preset.MIN: gettext_lazy("The lowest of the three amounts"),
    Preset.MEDIAN: gettext_lazy("The middle one of the three amounts"),
    Preset.EVALUATION: gettext_lazy("The evaluation amount"),
    Preset.SURVEY: gettext_lazy("The survey amount"),
}
PRESET_HELP = {
    Preset.MIN: gettext_lazy(
        "The lowest of the evaluation, model and survey amounts (of those known)."
    ),
    Preset.MEDIAN: gettext_lazy(
        "The middle one of the evaluation, model and survey amounts; of two known, the lower."
    ),
    Preset.EVALUATION: gettext_lazy(
        "What the village's evaluation said; without one, the lowest of the other amounts."
    ),
    Preset.SURVEY: gettext_lazy(
        "What the customer manager found at the visit; without a survey amount, the lowest "
        "of the other amounts."
    ),
}
VERSION_NAME = re.compile(r"[A-Za-z0-9.-]{1,32}")
RULE_ID = re.compile(r"[a-z0-9_]{1,40}")
MAX_YUAN = 100_000_000  # a cap or a rounding above 1亿 yuan is a typo
MAX_LABEL = 100
MAX_EXPRESSION = 2_000
MAX_NOTE = 500


def as_percent(value: float | Decimal) -> str:
    """0.05 → "5%"; 0.125 → "12.5%"."""
    d = (Decimal(str(value)) * 100).quantize(Decimal("0.01")).normalize()
    return f"{d:f}%"


def status_of(version: CreditPolicyVersion, in_force: CreditPolicyVersion, today: dt.date) -> str:
    """The version's status on `today`: "draft" (not published), "in_force", "scheduled"
    (effective later) or "superseded" (effective earlier, and another one is in force)."""
    if version.effective_from is None:
        return "draft"
    if version.pk == in_force.pk:
        return "in_force"
    return "scheduled" if version.effective_from > today else "superseded"


def next_version_name() -> str:
    """`v<N>`: one more than the number of versions and than any `v<N>` there is."""
    names = list(CreditPolicyVersion.objects.values_list("version", flat=True))
    numbers = [int(m.group(1)) for v in names if (m := re.fullmatch(r"v(\d+)", v))]
    return f"v{max([len(names), *numbers]) + 1}"


# --- validating ------------------------------------------------------------------------------
def _label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _whole(value: Any) -> int | None:
    """The value if it is a whole number (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _share(value: Any) -> float | None:
    """The value as a float if it is a finite number from 0 to 1, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    share = float(value)
    return share if math.isfinite(share) and 0 <= share <= 1 else None


def _compile_alone(
    rules: dict[str, list[Rule]], capacity: str | None, errors: dict[str, list[str]]
) -> None:
    """Each expression compiled alone, in the defaults of every other part, so that every
    wrong one is named at once: a PolicyError's text, under its part, naming the rule. A
    policy costs ~10 ms to compile: this runs only when something is wrong."""
    alone: list[tuple[str, str, CreditPolicy]] = [
        *[("hard_stops", r.label, CreditPolicy(hard_stops=(r,))) for r in rules["hard_stops"]],
        *[("routes", r.label, CreditPolicy(routes=(r,))) for r in rules["routes"]],
        *[("credit_household", r.label, CreditPolicy(credit_household=r))
          for r in rules["credit_household"]],
    ]  # fmt: skip
    if capacity is not None:
        alone.append(("capacity", "", CreditPolicy(capacity=capacity)))
    for name, shown, policy in alone:
        try:
            compile_policy(policy)
        except PolicyError as e:
            message = (
                _("%(field)s: “%(rule)s” does not compile: %(error)s")
                if shown
                else _("%(field)s: the formula does not compile: %(error)s")
            )
            errors.setdefault(name, []).append(
                message % {"field": _label(name), "rule": shown, "error": does_not_compile(e)}
            )


def _rules(name: str, raw: Any, errors: dict[str, list[str]]) -> list[Rule]:
    """A list of rules (mappings of id, label and when), each checked; the valid ones."""
    single = name == "credit_household"  # one rule, not a list
    items = [raw] if single else raw
    if not (isinstance(raw, Mapping) if single else isinstance(raw, list | tuple)):
        errors.setdefault(name, []).append(
            _("%(field)s: give each rule an id, a label and a condition.") % {"field": _label(name)}
        )
        return []
    rules: list[Rule] = []
    ids: list[str] = []
    for item in items:
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(k), str) for k in ("id", "label", "when")
        ):
            errors.setdefault(name, []).append(
                _("%(field)s: give each rule an id, a label and a condition.")
                % {"field": _label(name)}
            )
            continue
        rule_id, when = item["id"].strip(), item["when"].strip()
        label = clean_typed_name(item["label"])  # shown in every explanation
        ids.append(rule_id)
        shown = label or rule_id
        problems = []
        if not RULE_ID.fullmatch(rule_id):
            problems.append(
                _("%(field)s: “%(id)s” is not a valid id (lowercase letters a–z, digits and _, "
                  "at most 40).") % {"field": _label(name), "id": rule_id}
            )  # fmt: skip
        if not label:
            problems.append(
                _("%(field)s: “%(id)s” needs a label.") % {"field": _label(name), "id": rule_id}
            )
        elif len(label) > MAX_LABEL:
            problems.append(
                _("%(field)s: the label of “%(rule)s” is longer than %(n)s characters.")
                % {"field": _label(name), "rule": shown, "n": MAX_LABEL}
            )
        if not when:
            problems.append(
                _("%(field)s: “%(rule)s” needs a condition.")
                % {"field": _label(name), "rule": shown}
            )
        elif len(when) > MAX_EXPRESSION:
            problems.append(
                _("%(field)s: the condition of “%(rule)s” is longer than %(n)s characters.")
                % {"field": _label(name), "rule": shown, "n": MAX_EXPRESSION}
            )
        if problems:
            errors.setdefault(name, []).extend(problems)
            continue
        rules.append(Rule(rule_id, label, when))
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        errors.setdefault(name, []).append(
            _("%(field)s: each id may appear once (%(ids)s appears more than once).")
            % {"field": _label(name), "ids": ", ".join(duplicates)}
        )
    return rules


def validate_policy(base: CreditPolicy, changes: Mapping[str, Any]) -> CreditPolicy:
    """`base` with `changes` (parts of `to_data`'s shape; `credit_village` may give only
    some of its shares) applied, every part checked and every CEL expression compiled.
    Raises a ValidationError mapping each wrong part to messages that name it."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str, **more: Any) -> None:
        errors.setdefault(name, []).append(message % {"field": _label(name), **more})

    unknown = sorted(set(changes) - set(PARTS))
    if unknown:
        errors[NON_FIELD_ERRORS] = [
            _("Unknown parts of a policy: %(names)s.") % {"names": ", ".join(unknown)}
        ]
    data = {**to_data(base), **{k: v for k, v in changes.items() if k in PARTS}}
    if isinstance(changes.get("credit_village"), Mapping):
        data["credit_village"] = {**to_data(base)["credit_village"], **changes["credit_village"]}

    rules = {name: _rules(name, data[name], errors) for name in RULE_PARTS}

    # grades: the scorecard's, in its order; only their caps change
    grades = []
    raw = data["grades"]
    listed = raw if isinstance(raw, list | tuple) else []
    keys = [g.get("key") if isinstance(g, Mapping) else None for g in listed]
    if keys != [g.key for g in base.grades]:
        fail("grades", _("%(field)s: the grades are the scorecard's (%(keys)s), in its order; "
                         "only their caps change."), keys=", ".join(g.key for g in base.grades))  # fmt: skip
    else:
        for grade, item in zip(base.grades, raw, strict=True):
            cap = _whole(item.get("cap_yuan"))
            if cap is None or not 0 <= cap <= MAX_YUAN:
                fail("grades", _("%(field)s: %(grade)s: a whole number of yuan from 0 to "
                                 "%(max)s."), grade=grade.name, max=f"{MAX_YUAN:,}")  # fmt: skip
            else:
                grades.append(Grade(grade.key, grade.name, cap))
        complete = len(grades) == len(base.grades)
        for higher, lower in itertools.pairwise(grades):
            if complete and lower.cap_yuan > higher.cap_yuan:
                fail("grades", _("%(field)s: the cap of %(lower)s (%(low)s) is above that of "
                                 "%(higher)s (%(high)s): caps may not increase from %(first)s "
                                 "to %(last)s."),
                     lower=lower.name, low=f"{lower.cap_yuan:,}", higher=higher.name,
                     high=f"{higher.cap_yuan:,}", first=grades[0].name,
                     last=grades[-1].name)  # fmt: skip

    capacity = data["capacity"]
    if not isinstance(capacity, str) or not capacity.strip():
        fail("capacity", _("%(field)s: a formula is needed."))
        capacity = None
    elif len(capacity) > MAX_EXPRESSION:
        fail("capacity", _("%(field)s: longer than %(n)s characters."), n=MAX_EXPRESSION)
        capacity = None
    else:
        capacity = capacity.strip()

    preset = data["preset"]
    if preset not in {p.value for p in Preset}:
        fail("preset", _("%(field)s: choose one of %(choices)s."),
             choices=", ".join(str(label) for label in PRESET_LABELS.values()))  # fmt: skip

    rounding = _whole(data["rounding_yuan"])
    if rounding is None or not 1 <= rounding <= MAX_YUAN:
        fail("rounding_yuan", _("%(field)s: a whole number of yuan from 1 to %(max)s."),
             max=f"{MAX_YUAN:,}")  # fmt: skip

    shares: dict[str, float] = {}
    village = data["credit_village"]
    if not isinstance(village, Mapping):
        village = {}
    for name in SHARES:
        share = _share(village.get(name))
        if share is None:
            fail(name, _("%(field)s: a share from %(low)s to %(high)s."), low="0%", high="100%")
        else:
            shares[name] = share
    extra = sorted(set(village) - set(SHARES))
    if extra:
        errors.setdefault(NON_FIELD_ERRORS, []).append(
            _("Unknown parts of a policy: %(names)s.") % {"names": ", ".join(extra)}
        )

    whole_error = ""
    if not errors:
        policy = from_data({
            "version": base.version,
            "hard_stops": [dataclasses.asdict(r) for r in rules["hard_stops"]],
            "grades": [dataclasses.asdict(g) for g in grades], "capacity": capacity,
            "preset": preset, "rounding_yuan": rounding,
            "routes": [dataclasses.asdict(r) for r in rules["routes"]],
            "credit_household": dataclasses.asdict(rules["credit_household"][0]),
            "credit_village": shares,
        })  # fmt: skip
        try:  # the whole policy, as a decision compiles it
            compile_policy(policy)
        except PolicyError as e:
            whole_error = _("%(what)s.\nThe compiler says: %(detail)s") % {
                "what": describe(e), "detail": e.detail,
            }  # fmt: skip
        else:
            return policy
    _compile_alone(rules, capacity, errors)
    if not errors:  # (each expression compiles alone, the policy does not)
        errors[NON_FIELD_ERRORS] = [whole_error]
    raise ValidationError(errors)


def _check_date(effective_from: Any, errors: dict[str, list[str]]) -> dt.date | None:
    """A date today or later, or None (with a message under "effective_from")."""
    today = timezone.localdate()
    if isinstance(effective_from, dt.datetime) or not isinstance(effective_from, dt.date):
        errors.setdefault("effective_from", []).append(
            _("%(field)s: a date (YYYY-MM-DD).") % {"field": _label("effective_from")}
        )
        return None
    if effective_from < today:
        errors.setdefault("effective_from", []).append(
            _("%(field)s: today (%(today)s) or later, not in the past.")
            % {"field": _label("effective_from"), "today": today.isoformat()}
        )
    return effective_from


def _check_version(
    name: Any, effective_from: Any, note: Any, errors: dict[str, list[str]]
) -> tuple[str, dt.date | None, str]:
    """The name, the date (None: a draft) and the note, checked."""
    name = name.strip() if isinstance(name, str) else ""
    if not VERSION_NAME.fullmatch(name):
        errors.setdefault("version", []).append(
            _("%(field)s: 1 to 32 letters, digits, - or . (for example v3 or 2025.1).")
            % {"field": _label("version")}
        )
    elif CreditPolicyVersion.objects.filter(version__iexact=name).exists():
        errors.setdefault("version", []).append(
            _("%(field)s: %(name)s exists already.") % {"field": _label("version"), "name": name}
        )
    if effective_from is not None:
        effective_from = _check_date(effective_from, errors)
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        errors.setdefault("note", []).append(_("Say what changes and why."))
    elif len(note) > MAX_NOTE:
        errors.setdefault("note", []).append(
            _("The note is longer than %(n)s characters.") % {"n": MAX_NOTE}
        )
    return name, effective_from, note


def whatif_passed(version: CreditPolicyVersion) -> bool:
    """Whether a what-if has tried this version's policy, as it is, over at least one
    village's persons and finished without an error: a compiled policy can still fail on
    some inputs at run time (a division by zero, CEL's iteration budget), which only
    running it shows. Reads the runs' rows only (status, counts, error), however they were
    started. One query over the version's what-ifs."""
    runs = BatchRun.objects.filter(
        purpose=BatchRun.Purpose.WHATIF, status=BatchRun.Status.SUCCEEDED, error="",
        draft__version=version.version,
    ).only("draft", "counts", "summary")  # fmt: skip
    return any(run.draft == version.data and WhatifCounts.of_run(run).persons > 0 for run in runs)


# --- changing --------------------------------------------------------------------------------
def may_edit_credit_policy(scope) -> bool:
    """New versions and publishing drafts: HQ admins (the policy is the bank's). The
    actions refuse others, their views answer 403 and the page offers the forms by it."""
    return scope.role == Role.HQ_ADMIN


def do_create_policy_version(
    actor,
    base: CreditPolicyVersion,
    changes: Mapping[str, Any],
    version: str,
    effective_from: dt.date | None,
    note: str,
) -> CreditPolicyVersion:
    """A new version named `version`: `base`'s policy with `changes` (parts of `to_data`'s
    shape) applied, saved as a draft. HQ admins only. Every part is checked and every CEL
    expression compiled; all that is wrong is refused at once, in a ValidationError whose
    keys are the parts (and version, effective_from, note). `base` is not changed. Audited
    in the same transaction.

    An `effective_from` is refused: a version that compiles can still fail at run time on
    some inputs, so it is published only after a what-if has run on it
    (`do_publish_policy_version`)."""
    if not may_edit_credit_policy(scope_for(actor)):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    policy = None
    try:
        policy = validate_policy(credit_policy(base), changes)
    except ValidationError as e:
        errors = dict(e.message_dict)
    if effective_from is not None:
        errors.setdefault("effective_from", []).append(_(
            "A new version is saved as a draft: try it with a what-if over at least one "
            "village, then publish it with its effective date."
        ))  # fmt: skip
        effective_from = None
    name, effective_from, note = _check_version(version, effective_from, note, errors)
    if errors:
        raise ValidationError(errors)
    assert policy is not None
    data = to_data(dataclasses.replace(policy, version=name))
    before_data = to_data(credit_policy(base))
    changed = [k for k in PARTS if data[k] != before_data[k]]
    with transaction.atomic():
        try:
            with transaction.atomic():  # another admin may take the same name at the same time
                created = CreditPolicyVersion.objects.create(
                    version=name, data=data, effective_from=None, note=note, created_by=actor
                )
        except IntegrityError:
            raise ValidationError(
                {"version": [_("%(field)s: %(name)s exists already.")
                             % {"field": _label("version"), "name": name}]}
            ) from None  # fmt: skip
        record(actor, "decisions.policy.create", created,
               before={"version": base.version, **{k: before_data[k] for k in changed}},
               after={"version": name, "effective_from": None,
                      **{k: data[k] for k in changed}, "note": note})  # fmt: skip
    return created


def do_publish_policy_version(
    actor, version: CreditPolicyVersion, effective_from: dt.date
) -> CreditPolicyVersion:
    """Publish the draft `version`: in force from `effective_from` (today or later), its
    policy unchanged. HQ admins only; a version already published is refused (a published
    version never changes), and so is a policy that no longer compiles (the inputs may
    have changed since the draft was saved) or that no what-if has run on without errors
    (`whatif_passed`). Audited in the same transaction. The draft
    is claimed by a conditional UPDATE, so of two admins publishing at once one wins and
    the other is refused."""
    if not may_edit_credit_policy(scope_for(actor)):
        raise PermissionDenied
    already = _("Version %(version)s is published already: a published version never changes.")
    if version.effective_from is not None:
        raise ValidationError({NON_FIELD_ERRORS: [already % {"version": version.version}]})
    errors: dict[str, list[str]] = {}
    effective_from = _check_date(effective_from, errors)
    if errors:
        raise ValidationError(errors)
    assert effective_from is not None
    try:  # ~10 ms: the same check as at creation
        compile_policy(credit_policy(version))
    except PolicyError as e:
        raise ValidationError({NON_FIELD_ERRORS: [
            _("This policy version does not compile: %(error)s") % {"error": describe(e)}
            + " " + _("The compiler says: %(detail)s") % {"detail": e.detail}
        ]}) from None  # fmt: skip
    if not whatif_passed(version):
        raise ValidationError({NON_FIELD_ERRORS: [_(
            "Try this version with a what-if over at least one village first: it can be "
            "published once a what-if has run on it without errors."
        )]})  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        claimed = CreditPolicyVersion.objects.filter(
            pk=version.pk, effective_from__isnull=True
        ).update(effective_from=effective_from, published_at=now, published_by=actor)
        if not claimed:
            raise ValidationError({NON_FIELD_ERRORS: [already % {"version": version.version}]})
        record(actor, "decisions.policy.publish", version,
               before={"version": version.version, "effective_from": None},
               after={"version": version.version,
                      "effective_from": effective_from.isoformat()})  # fmt: skip
    version.effective_from, version.published_at = effective_from, now
    version.published_by = actor
    return version
