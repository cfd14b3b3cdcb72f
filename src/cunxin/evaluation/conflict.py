"""Conflict of interest: a reviewer never rates their own household or close relatives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cunxin.lib.relations import RELATION_LABELS


@dataclass(frozen=True)
class Conflict:
    reviewer_uid: str
    member_uid: str
    relation: str  # "self", "household", "spouse", "parent", "child", "sibling"

    @property
    def label(self) -> str:
        return RELATION_LABELS.get(self.relation, self.relation)


def find_conflict(
    reviewer_uid: str | None,
    reviewer_household: str | None,
    household_uid: str,
    members: Iterable[str],
    relations: Mapping[str, Iterable[tuple[str, str]]],
    conflicting: frozenset[str],
) -> Conflict | None:
    """The first reason `reviewer_uid` may not review `household_uid`, or None.

    `relations` maps a person uid to (related uid, relation) pairs, as the pool's
    relationship graph publishes them (both directions are present there; both are
    checked here anyway)."""
    if reviewer_uid is None:
        return None
    members = list(members)
    if reviewer_household == household_uid or reviewer_uid in members:
        return Conflict(reviewer_uid, reviewer_uid, "self")
    member_set = set(members)
    for related, relation in relations.get(reviewer_uid, ()):
        if related in member_set and relation in conflicting:
            return Conflict(reviewer_uid, related, relation)
    for member in members:
        for related, relation in relations.get(member, ()):
            if related == reviewer_uid and relation in conflicting:
                return Conflict(reviewer_uid, member, relation)
    return None
