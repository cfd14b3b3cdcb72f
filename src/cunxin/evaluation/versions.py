"""Evaluation policy versions as stored and as the rules read them: the version in force
for new projects, the built-in defaults, and the conversions between a `PolicyVersion`
row and an `EvaluationPolicy`. Reads only (HQ's new versions are `policy_actions`); the
bottom of the evaluation app's Django side, under `actions` and `policy_actions`."""

from __future__ import annotations

import dataclasses

from cunxin.evaluation.models import PolicyVersion
from cunxin.evaluation.policy import AmountRule, EvaluationPolicy


def evaluation_policy(version: PolicyVersion) -> EvaluationPolicy:
    """The stored version as the rules read it (`cunxin.evaluation.policy`)."""
    data = dict(version.data)
    # stored as [key, label] pairs: PostgreSQL's jsonb does not keep an object's key order
    data["negative_items"] = {k: v for k, v in _pairs(data.get("negative_items", ()))}
    data["conflicting_relations"] = frozenset(data.get("conflicting_relations", ()))
    data["graded_items"] = tuple(data.get("graded_items", ()))
    data["amount_rule"] = AmountRule(data.get("amount_rule", "median"))
    return EvaluationPolicy(
        version=version.version, **{k: v for k, v in data.items() if k != "version"}
    )


def _pairs(items) -> list[tuple[str, str]]:
    return list(items.items()) if isinstance(items, dict) else [(k, v) for k, v in items]


def policy_data(policy: EvaluationPolicy) -> dict:
    """A policy as stored in `PolicyVersion.data` (JSON: lists and plain values)."""
    data = dataclasses.asdict(policy)
    data["negative_items"] = [[k, v] for k, v in policy.negative_items.items()]
    data["conflicting_relations"] = sorted(policy.conflicting_relations)
    data["graded_items"] = list(policy.graded_items)
    data["amount_rule"] = str(policy.amount_rule)
    return data


def default_policy_version() -> PolicyVersion:
    """The DESIGN.md §5 defaults as a stored version (created on first use)."""
    policy = EvaluationPolicy()
    version, _created = PolicyVersion.objects.get_or_create(
        version=policy.version, defaults={"data": policy_data(policy)}
    )
    return version


def evaluation_policy_in_force() -> PolicyVersion:
    """The version new projects start with: the newest one created (the DESIGN.md §5
    defaults until HQ creates another). One query; two the very first time."""
    newest = PolicyVersion.objects.order_by("-created_at", "-pk").first()
    return newest or default_policy_version()
