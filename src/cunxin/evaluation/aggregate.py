"""A round's reviews of one person → verdict (white / grey / black) and evaluation amount.

DESIGN.md §5 defaults: a review is valid when the reviewer knows the household and has no
conflict of interest; at least `min_valid_reviews` valid reviews are needed; a negative
item ticked by one valid reviewer makes the person grey, by `black_share` of them or more
black; the evaluation amount is the median (mean, min) of the valid suggested amounts,
capped by the village cap. The result keeps its inputs and the reasons, in plain words.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from cunxin.evaluation.policy import AmountRule, EvaluationPolicy


@dataclass(frozen=True)
class Review:
    reviewer: str
    person_uid: str
    knows_household: bool
    negative_items: frozenset[str] = frozenset()
    graded: dict[str, int] = field(default_factory=dict)
    amount_yuan: int | None = None
    # set when the reviewer conflicts with the household (the reason, e.g. "spouse")
    conflict: str | None = None


@dataclass(frozen=True)
class Verdict:
    person_uid: str
    color: str  # "white" | "grey" | "black" | "insufficient"
    amount_yuan: int | None
    valid_reviews: int
    reasons: tuple[str, ...]
    negative_counts: dict[str, int]
    excluded: dict[str, str]  # reviewer → why the review does not count


def _validity(review: Review) -> str | None:
    if review.conflict:
        return f"conflict:{review.conflict}"
    if not review.knows_household:
        return "does_not_know"
    return None


def aggregate(person_uid: str, reviews: list[Review], policy: EvaluationPolicy) -> Verdict:
    """The verdict for one person from every review of the round (one per reviewer)."""
    reviewers = Counter(r.reviewer for r in reviews)
    if duplicated := [name for name, n in reviewers.items() if n > 1]:
        raise ValueError(f"more than one review by {', '.join(sorted(duplicated))}")
    excluded = {r.reviewer: why for r in reviews if (why := _validity(r))}
    valid = [r for r in reviews if r.reviewer not in excluded]
    unknown = {i for r in valid for i in r.negative_items} - set(policy.negative_items)
    if unknown:
        raise ValueError(f"negative items not in policy {policy.version}: {sorted(unknown)}")
    counts = Counter(i for r in valid for i in r.negative_items)
    reasons: list[str] = []
    if len(valid) < policy.min_valid_reviews:
        reasons.append(f"valid reviews {len(valid)} < {policy.min_valid_reviews}")
        return Verdict(person_uid, "insufficient", None, len(valid), tuple(reasons), dict(counts), excluded)  # fmt: skip
    flagged = sum(1 for r in valid if r.negative_items)
    if flagged and flagged >= policy.black_share * len(valid):
        color = "black"
        reasons.append(f"negative items from {flagged} of {len(valid)} valid reviewers")
    elif flagged:
        color = "grey"
        reasons.append(f"negative items from {flagged} of {len(valid)} valid reviewers")
    else:
        color = "white"
    reasons += [f"{policy.negative_items[i]} ×{n}" for i, n in sorted(counts.items())]
    amounts = [
        min(r.amount_yuan, policy.amount_cap_yuan) for r in valid if r.amount_yuan is not None
    ]
    amount = None
    if color != "black" and amounts:
        amount = _combine(amounts, policy.amount_rule)
        reasons.append(f"{policy.amount_rule} of {len(amounts)} suggested amounts")
    return Verdict(person_uid, color, amount, len(valid), tuple(reasons), dict(counts), excluded)


def _combine(amounts: list[int], rule: AmountRule) -> int:
    """Whole yuan, rounded down (a median of two, or a mean, may fall between yuan)."""
    if rule is AmountRule.MIN:
        return min(amounts)
    value = statistics.median(amounts) if rule is AmountRule.MEDIAN else statistics.fmean(amounts)
    return int(Decimal(str(value)).to_integral_value(rounding=ROUND_DOWN))
