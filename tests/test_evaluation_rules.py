"""The evaluation rules (DESIGN.md §5) as plain functions, and a simulated village panel."""

from __future__ import annotations

import math
import random

import pytest

from cunxin.evaluation.aggregate import Review, aggregate
from cunxin.evaluation.conflict import find_conflict
from cunxin.evaluation.policy import AmountRule, EvaluationPolicy
from cunxin.evaluation.reliability import alpha, flag_reviewers

POLICY = EvaluationPolicy()


def review(reviewer, amount=50_000, items=(), knows=True, conflict=None, person="P1"):
    return Review(reviewer, person, knows, frozenset(items), {}, amount, conflict)


def test_it_needs_two_valid_reviews():
    v = aggregate("P1", [review("a"), review("b", knows=False)], POLICY)
    assert v.color == "insufficient" and v.amount_yuan is None
    assert v.excluded == {"b": "does_not_know"}


def test_it_takes_the_median_of_valid_amounts():
    v = aggregate("P1", [review("a", 30_000), review("b", 50_000), review("c", 90_000)], POLICY)
    assert (v.color, v.amount_yuan, v.valid_reviews) == ("white", 50_000, 3)


@pytest.mark.parametrize(
    ("rule", "expected"), [(AmountRule.MEAN, 56_666), (AmountRule.MIN, 30_000)]
)
def test_it_can_take_the_mean_or_the_minimum(rule, expected):
    policy = EvaluationPolicy(amount_rule=rule)
    v = aggregate("P1", [review("a", 30_000), review("b", 50_000), review("c", 90_000)], policy)
    assert v.amount_yuan == expected


def test_it_caps_each_suggested_amount_at_the_village_cap():
    policy = EvaluationPolicy(amount_cap_yuan=60_000)
    v = aggregate("P1", [review("a", 500_000), review("b", 900_000)], policy)
    assert v.amount_yuan == 60_000


def test_one_negative_item_greys_and_half_or_more_blacken():
    grey = aggregate("P1", [review("a", items=["vice"]), review("b"), review("c")], POLICY)
    assert grey.color == "grey" and grey.negative_counts == {"vice": 1}
    assert any("赌博" in r for r in grey.reasons)
    black = aggregate("P1", [review("a", items=["vice"]), review("b", items=["idle"]), review("c"), review("d")], POLICY)  # fmt: skip
    assert black.color == "black" and black.amount_yuan is None


def test_a_conflicted_review_does_not_count():
    v = aggregate("P1", [review("a", items=["vice"], conflict="spouse"), review("b"), review("c")], POLICY)  # fmt: skip
    assert v.color == "white" and v.excluded == {"a": "conflict:spouse"}


def test_it_refuses_two_reviews_by_one_reviewer_and_unknown_items():
    with pytest.raises(ValueError, match="more than one review by a"):
        aggregate("P1", [review("a"), review("a")], POLICY)
    with pytest.raises(ValueError, match="not in policy"):
        aggregate("P1", [review("a", items=["made_up"]), review("b")], POLICY)


def test_it_finds_conflicts_of_interest_in_the_relationship_graph():
    relations = {"R": [("M2", "sibling")], "M1": [("R2", "parent")], "X": [("M1", "grandparent")]}
    close = POLICY.conflicting_relations
    assert find_conflict("R", "H9", "H1", ["M1", "M2"], relations, close).relation == "sibling"
    assert find_conflict("R2", "H9", "H1", ["M1", "M2"], relations, close).relation == "parent"
    assert find_conflict("M1", "H1", "H1", ["M1", "M2"], relations, close).relation == "self"
    assert find_conflict("X", "H9", "H1", ["M1", "M2"], relations, close) is None  # not close
    assert find_conflict(None, None, "H1", ["M1"], relations, close) is None


def test_alpha_is_one_for_perfect_agreement_and_undefined_for_a_lone_reviewer():
    same = [review(r, 10_000 * p, person=f"P{p}") for r in "abc" for p in range(1, 6)]
    assert alpha(same) == pytest.approx(1.0)
    assert alpha([review("a", person=f"P{p}") for p in range(5)]) is None


def simulated_village(seed: int = 7):
    """60 households; 3 honest reviewers with noise; B biased towards 12 related households
    (6 close relatives the graph knows → conflict, 6 cousins → not excluded); I inflates
    every amount by half."""
    rng = random.Random(seed)
    households = [f"H{i:02d}" for i in range(60)]
    truth = {h: rng.choice([20_000, 30_000, 50_000, 80_000, 100_000]) for h in households}
    bad = {h for h in households if rng.random() < 0.1}
    close_kin, cousins = set(households[:6]), set(households[6:12])
    reviews = []
    for h in households:
        for reviewer in ("A", "C", "D", "B", "I"):
            amount = truth[h] * math.exp(rng.gauss(0, 0.12))
            items = ["vice"] if h in bad and rng.random() < 0.8 else []
            conflict = None
            if reviewer == "B" and h in close_kin | cousins:
                amount, items = amount * 1.6, []
                conflict = "sibling" if h in close_kin else None
            if reviewer == "I":
                amount *= 1.5
            reviews.append(Review(reviewer, h, True, frozenset(items), {}, int(amount), conflict))
    return reviews, bad, close_kin, cousins


def test_a_simulated_panel_excludes_or_flags_the_biased_and_flags_the_inflator():
    # GIVEN a village reviewed by honest, biased and inflating reviewers
    reviews, bad, close_kin, cousins = simulated_village()
    # WHEN the round is aggregated and the panel checked
    verdicts = {
        h: aggregate(h, [r for r in reviews if r.person_uid == h], POLICY)
        for h in {r.person_uid for r in reviews}
    }
    flags = {
        (f.reviewer, f.kind) for f in flag_reviewers(reviews, related={"B": close_kin | cousins})
    }
    # THEN B's reviews of close relatives do not count, and B is flagged for the cousins
    assert all(verdicts[h].excluded.get("B") == "conflict:sibling" for h in close_kin)
    assert ("B", "favours_related") in flags
    # AND the inflator is flagged, the honest reviewers are not
    assert ("I", "inflates") in flags
    assert not {r for r, _ in flags} & {"A", "C", "D"}
    # AND households with a real problem are mostly grey or black, the others mostly white
    assert sum(verdicts[h].color in ("grey", "black") for h in bad) >= 0.8 * len(bad)
    clean = [h for h in verdicts if h not in bad]
    assert sum(verdicts[h].color == "white" for h in clean) >= 0.9 * len(clean)
    # AND the panel agrees less with the inflator than without
    with_inflator = alpha(reviews)
    without = alpha([r for r in reviews if r.reviewer != "I"])
    assert 0 < with_inflator < without <= 1
