"""How consistent a panel is, and which reviewer stands out.

Inter-rater reliability is Krippendorff's alpha (the `krippendorff` package): interval
level for suggested amounts, nominal for "any negative item". A reviewer is flagged when
their amounts deviate from their peers' in one direction, household after household:
everywhere (an inflator or a deflator), or only on households related to them (favouritism
— which the conflict rule should already have excluded, so a flag here means the
relationship graph missed a tie). The evidence is kept for the branch manager.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import krippendorff
import numpy as np

from cunxin.evaluation.aggregate import Review


def alpha(reviews: Iterable[Review], level: str = "interval") -> float | None:
    """Krippendorff's alpha over the valid reviews (reviewers × persons); None when there
    is too little to say (fewer than two reviewers or no person reviewed twice)."""
    reviews = [r for r in reviews if r.knows_household and not r.conflict]
    reviewers = sorted({r.reviewer for r in reviews})
    persons = sorted({r.person_uid for r in reviews})
    if len(reviewers) < 2 or not persons:
        return None
    data = np.full((len(reviewers), len(persons)), np.nan)
    row = {name: i for i, name in enumerate(reviewers)}
    col = {uid: j for j, uid in enumerate(persons)}
    for r in reviews:
        value = (
            float(bool(r.negative_items)) if level == "nominal"
            else (np.nan if r.amount_yuan is None else float(r.amount_yuan))
        )  # fmt: skip
        data[row[r.reviewer], col[r.person_uid]] = value
    if not (np.sum(~np.isnan(data), axis=0) >= 2).any():
        return None
    try:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except ValueError:  # one value only: agreement is undefined
        return None


@dataclass(frozen=True)
class ReviewerFlag:
    reviewer: str
    kind: str  # "inflates" | "deflates" | "favours_related"
    households: int
    mean_relative_deviation: float
    z: float
    evidence: tuple[tuple[str, int, float], ...]  # (person, own amount, peers' median)


def deviations(reviews: Iterable[Review]) -> dict[str, list[tuple[str, int, float, float]]]:
    """Per reviewer: (person, own amount, peers' median, relative deviation) wherever at
    least two peers suggested an amount for the same person."""
    by_person: dict[str, list[Review]] = defaultdict(list)
    for r in reviews:
        if r.knows_household and not r.conflict and r.amount_yuan is not None:
            by_person[r.person_uid].append(r)
    out: dict[str, list[tuple[str, int, float, float]]] = defaultdict(list)
    for uid, group in by_person.items():
        for r in group:
            peers = [p.amount_yuan for p in group if p.reviewer != r.reviewer]
            if len(peers) < 2:
                continue
            median = statistics.median(peers)
            scale = max(median, 1.0)
            out[r.reviewer].append((uid, r.amount_yuan, median, (r.amount_yuan - median) / scale))
    return out


def flag_reviewers(
    reviews: list[Review],
    related: dict[str, set[str]] | None = None,
    *,
    min_households: int = 8,
    z_threshold: float = 3.0,
    min_effect: float = 0.15,
) -> list[ReviewerFlag]:
    """Reviewers whose relative deviation from their peers is systematic: the mean is
    `z_threshold` standard errors away from 0 and at least `min_effect` (15 %) in size.
    `related` maps a reviewer to the persons related to them (checked separately: a
    reviewer can be fair in general and generous to kin)."""
    related = related or {}
    flags = []
    for reviewer, rows in sorted(deviations(reviews).items()):
        kin = related.get(reviewer, set())
        groups = [("all", rows)]
        if kin:
            groups = [
                ("related", [r for r in rows if r[0] in kin]),
                ("all", [r for r in rows if r[0] not in kin]),
            ]
        for scope, group in groups:
            if len(group) < (2 if scope == "related" else min_households):
                continue
            values = [d for *_, d in group]
            mean = statistics.fmean(values)
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            z = (
                math.inf
                if sd == 0 and mean != 0
                else (0.0 if sd == 0 else mean / (sd / math.sqrt(len(values))))
            )
            if abs(z) >= z_threshold and abs(mean) >= min_effect:
                kind = (
                    "favours_related"
                    if scope == "related" and mean > 0
                    else ("inflates" if mean > 0 else "deflates")
                )
                evidence = tuple((uid, own, median) for uid, own, median, _ in group[:20])
                flags.append(
                    ReviewerFlag(reviewer, kind, len(group), round(mean, 4), round(z, 2), evidence)
                )
    return flags
