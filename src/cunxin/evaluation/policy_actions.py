"""HQ's changes to the evaluation policy (DESIGN.md §5: data, versioned, editable by HQ).

A stored version is never changed: HQ creates a new version from an existing one, and the
newest version created is the one *in force* — the one new projects start with. A project
keeps the version it started with until an HQ admin or its branch manager moves it to
another one, explicitly, with a reason, and never while one of its rounds is open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cunxin.audit.chain import record
from cunxin.evaluation.models import PolicyVersion, Project
from cunxin.evaluation.policy import MAX_PANEL, AmountRule
from cunxin.evaluation.versions import evaluation_policy, evaluation_policy_in_force, policy_data
from cunxin.lib.text import clean_typed_name
from cunxin.org.models import Role
from cunxin.org.scope import scope_for

# The settings of a version, in the order the pages show them, with their names.
FIELD_LABELS = {
    "negative_items": gettext_lazy("Negative items"),
    "graded_items": gettext_lazy("Graded items"),
    "min_valid_reviews": gettext_lazy("Minimum valid reviews"),
    "black_share": gettext_lazy("Share of valid reviewers for the black list"),
    "amount_rule": gettext_lazy("Evaluation amount rule"),
    "amount_cap_yuan": gettext_lazy("Cap on a suggested amount (yuan)"),
    "conflicting_relations": gettext_lazy("Relations that exclude a reviewer"),
    "qa_share": gettext_lazy("QA sampling share"),
    "visit_amount_threshold_yuan": gettext_lazy("Visit every household above (yuan)"),
    "visit_sample_share": gettext_lazy("Visit sample share of the other households"),
}
SETTINGS = tuple(FIELD_LABELS)  # every field of EvaluationPolicy but its version (tested)

AMOUNT_RULE_LABELS = {
    AmountRule.MEDIAN: gettext_lazy("Median of the valid suggested amounts"),
    AmountRule.MEAN: gettext_lazy("Mean of the valid suggested amounts"),
    AmountRule.MIN: gettext_lazy("Lowest of the valid suggested amounts"),
}
# Relations in the relationship graph that may exclude a reviewer (DESIGN.md §5).
RELATIONS = ("household", "spouse", "parent", "child", "sibling")
KEY = re.compile(r"[a-z0-9_]{1,40}")
MAX_LABEL = 100
MAX_NOTE = 500


# --- reading ---------------------------------------------------------------------------
def parse_items(text: str) -> list[tuple[str, str]]:
    """Lines of `key: label` (an ASCII or a full-width colon) as (key, label) pairs; blank
    lines are skipped, a line without a colon is a key without a label."""
    pairs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _sep, label = line.replace("：", ":").partition(":")
        pairs.append((key.strip(), label.strip()))
    return pairs


def parse_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- validating ------------------------------------------------------------------------
def _label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def as_percent(value: float | Decimal) -> str:
    """0.05 → "5%"; 0.125 → "12.5%"."""
    d = (Decimal(str(value)) * 100).quantize(Decimal("0.01")).normalize()
    return f"{d:f}%"


def _check_keys(name: str, keys: list[str], errors: dict[str, list[str]]) -> None:
    field = _label(name)
    for key in keys:
        if not KEY.fullmatch(key):
            errors.setdefault(name, []).append(
                _(
                    "%(field)s: “%(key)s” is not a valid key (lowercase letters a–z, digits "
                    "and _, at most 40)."
                )
                % {"field": field, "key": key}
            )
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        errors.setdefault(name, []).append(
            _("%(field)s: each key may appear once (%(keys)s appears more than once).")
            % {"field": field, "keys": ", ".join(duplicates)}
        )


def _number(value: Any, *, integer: bool) -> Decimal | None:
    """The value as a Decimal if it is a (whole, with `integer`) finite number."""
    if isinstance(value, bool):
        return None
    if integer:
        return Decimal(value) if isinstance(value, int) else None
    if isinstance(value, int | float | Decimal):
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return d if d.is_finite() else None
    return None


def validate_policy(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting of a complete policy checked; the stored form (without the version)
    returned. Raises a ValidationError mapping each wrong setting to messages that name
    it."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message % {"field": _label(name)})

    unknown = sorted(set(data) - set(SETTINGS) - {"version"})
    if unknown:
        errors[NON_FIELD_ERRORS] = [
            _("Unknown settings: %(names)s.") % {"names": ", ".join(unknown)}
        ]
    clean: dict[str, Any] = {}

    raw_items = data.get("negative_items")
    pairs = list(raw_items.items()) if isinstance(raw_items, Mapping) else list(raw_items or [])
    if not all(isinstance(p, tuple | list) and len(p) == 2 for p in pairs):
        fail("negative_items", _("%(field)s: give each item as key: label."))
    else:
        pairs = [(str(k).strip(), clean_typed_name(str(v))) for k, v in pairs]  # labels
        if not pairs:
            fail("negative_items", _("%(field)s: at least one item is needed."))
        _check_keys("negative_items", [k for k, _v in pairs], errors)
        for key, label in pairs:
            if not label:
                errors.setdefault("negative_items", []).append(
                    _("%(field)s: “%(key)s” has no label (write key: label).")
                    % {"field": _label("negative_items"), "key": key}
                )
            elif len(label) > MAX_LABEL:
                errors.setdefault("negative_items", []).append(
                    _("%(field)s: the label of “%(key)s” is longer than %(n)s characters.")
                    % {"field": _label("negative_items"), "key": key, "n": MAX_LABEL}
                )
        clean["negative_items"] = [[k, v] for k, v in pairs]

    graded = data.get("graded_items")
    if isinstance(graded, str) or not isinstance(graded, Iterable):
        fail("graded_items", _("%(field)s: give one key per line."))
    else:
        graded = [str(g).strip() for g in graded]
        _check_keys("graded_items", graded, errors)
        clean["graded_items"] = graded

    n = _number(data.get("min_valid_reviews"), integer=True)
    if n is None or not 1 <= n <= MAX_PANEL:
        errors.setdefault("min_valid_reviews", []).append(
            _("%(field)s: a whole number from 1 to %(max)s (the largest panel).")
            % {"field": _label("min_valid_reviews"), "max": MAX_PANEL}
        )
    else:
        clean["min_valid_reviews"] = int(n)

    rule = data.get("amount_rule")
    if rule not in {r.value for r in AmountRule}:
        fail("amount_rule", _("%(field)s: choose median, mean or lowest."))
    else:
        clean["amount_rule"] = str(rule)

    for name, low, low_inclusive in (
        ("amount_cap_yuan", 0, False),
        ("visit_amount_threshold_yuan", 0, True),
    ):
        n = _number(data.get(name), integer=True)
        if n is None or n < low or (n == low and not low_inclusive):
            if low_inclusive:
                fail(name, _("%(field)s: a whole number of yuan, 0 or more."))
            else:
                fail(name, _("%(field)s: a whole number of yuan, more than 0."))
        else:
            clean[name] = int(n)

    for name, zero_allowed in (("black_share", False), ("qa_share", True),
                               ("visit_sample_share", True)):  # fmt: skip
        d = _number(data.get(name), integer=False)
        if d is None or d > 1 or d < 0 or (d == 0 and not zero_allowed):
            message = (
                _("%(field)s: a share from %(low)s to %(high)s.")
                if zero_allowed
                else _("%(field)s: a share above %(low)s and at most %(high)s.")
            )
            errors.setdefault(name, []).append(
                message % {"field": _label(name), "low": "0%", "high": "100%"}
            )
        else:
            clean[name] = float(d)

    relations = data.get("conflicting_relations")
    if isinstance(relations, str) or not isinstance(relations, Iterable):
        fail("conflicting_relations", _("%(field)s: choose from the list."))
    else:
        relations = [str(r) for r in relations]
        wrong = sorted(set(relations) - set(RELATIONS))
        if wrong:
            errors.setdefault("conflicting_relations", []).append(
                _("%(field)s: unknown relations %(names)s (choose from %(known)s).")
                % {"field": _label("conflicting_relations"), "names": ", ".join(wrong),
                   "known": ", ".join(RELATIONS)}
            )  # fmt: skip
        clean["conflicting_relations"] = sorted(set(relations))

    if errors:
        raise ValidationError(errors)
    return {name: clean[name] for name in SETTINGS}


def _next_version_name() -> str:
    """`v<N>`: one more than the number of versions and than any `v<N>` there is."""
    names = PolicyVersion.objects.values_list("version", flat=True)
    numbers = [int(m.group(1)) for v in names if (m := re.fullmatch(r"v(\d+)", v))]
    return f"v{max([PolicyVersion.objects.count(), *numbers]) + 1}"


# --- changing ---------------------------------------------------------------------------
def may_create_policy_version(scope) -> bool:
    """New versions of the evaluation policy are HQ admins' (the action refuses others,
    the page answers them 403 and shows them no form)."""
    return scope.role == Role.HQ_ADMIN


def do_new_policy_version(
    actor, based_on: PolicyVersion, data: Mapping[str, Any], note: str
) -> PolicyVersion:
    """A new version from `based_on` with the settings in `data` changed (settings not in
    `data` are kept); it is in force from now on. HQ admins only. Existing versions, and so
    the projects using them, are not touched. `note` says what changes and why."""
    if not may_create_policy_version(scope_for(actor)):
        raise PermissionDenied
    base = policy_data(evaluation_policy(based_on))
    try:
        clean = validate_policy({**base, **data, "version": ""})
    except ValidationError as e:
        errors = e.message_dict
    else:
        errors = {}
    note = (note or "").strip()
    if not note:
        errors.setdefault("note", []).append(_("Say what changes and why."))
    elif len(note) > MAX_NOTE:
        errors.setdefault("note", []).append(
            _("The note is longer than %(n)s characters.") % {"n": MAX_NOTE}
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        in_force = evaluation_policy_in_force()
        current = policy_data(evaluation_policy(in_force))
        if all(clean[k] == current[k] for k in SETTINGS):
            raise ValidationError(
                _("These settings are those of %(version)s, the version in force.")
                % {"version": in_force.version}
            )
        for _attempt in range(3):  # another admin may take the same name at the same time
            name = _next_version_name()
            try:
                with transaction.atomic():
                    version = PolicyVersion.objects.create(
                        version=name, data={"version": name, **clean}, created_by=actor
                    )
                break
            except IntegrityError:
                continue
        else:
            raise ValidationError(_("Another version was being created: try again."))
        changed = [k for k in SETTINGS if clean[k] != base[k]]
        record(actor, "evaluation.policy.create", version,
               before={"version": based_on.version, **{k: base[k] for k in changed}},
               after={"version": name, **{k: clean[k] for k in changed}, "note": note})  # fmt: skip
    return version


def can_move_project_policy(actor, project: Project) -> bool:
    """HQ admins, and the branch manager of the project's branch. One query."""
    scope = scope_for(actor)
    return (
        scope.role in (Role.HQ_ADMIN, Role.BRANCH_MANAGER)
        and scope.villages().filter(pk=project.village_id).exists()
    )


def do_move_project_policy(actor, project: Project, version: PolicyVersion, reason: str) -> Project:
    """Move a project to another policy version, with a reason; refused while one of its
    rounds is open (its reviews are being given under the version it has)."""
    if not can_move_project_policy(actor, project):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason."))
    if len(reason) > MAX_NOTE:
        raise ValidationError(_("The reason is longer than %(n)s characters.") % {"n": MAX_NOTE})
    with transaction.atomic():
        project = Project.objects.select_for_update().select_related("policy").get(pk=project.pk)
        if project.closed_at is not None:
            raise ValidationError(_("This project is closed."))
        if project.policy_id == version.pk:
            raise ValidationError(
                _("The project already uses policy %(version)s.") % {"version": version.version}
            )
        if project.rounds.filter(closed_at__isnull=True).exists():
            raise ValidationError(
                _("A round of this project is open: change the policy once it is closed.")
            )
        before = project.policy.version
        project.policy = version
        project.save(update_fields=["policy"])
        record(actor, "evaluation.project.policy", project, before={"policy": before},
               after={"policy": version.version, "reason": reason})  # fmt: skip
    return project
