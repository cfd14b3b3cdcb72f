"""The credit policy engine (cunxin.credit.decide): presets, hard stops, caps, rounding,
routing and 信用户, with property tests of the DESIGN.md §5 guarantees."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cunxin.credit.decide import Applicant, PolicyError, compile_policy
from cunxin.credit.policy import CreditPolicy, Preset, Rule

DEFAULT = compile_policy(CreditPolicy())


def person(**kw) -> Applicant:
    base = dict(person_uid="P1", age=40, evaluation_color="white", evaluation_yuan=60_000,
                survey_yuan=55_500, score=570.0, model_grade="excellent", income_yuan=40_000, assets_yuan=200_000,
                liabilities_yuan=10_000)  # fmt: skip
    return Applicant(**{**base, **kw})


def test_the_default_picks_the_lowest_rounds_down_and_explains():
    d = DEFAULT.decide(person())
    # grade 优秀 (the model's "excellent"): cap 100,000; capacity 40,000×2 + 20,000 − 10,000 = 90,000
    assert (d.grade, d.model_yuan) == ("优秀", 90_000)
    assert d.final_yuan == 55_000  # min(60,000, 90,000, 55,500) rounded down to 1,000
    kinds = [s.kind for s in d.trace]
    assert kinds == ["grade", "model_amount", "pick", "rounding", "credit_household"]
    assert d.trace[2].inputs == {"evaluation": 60_000, "model": 90_000, "survey": 55_500}
    assert d.route == "" and d.hard_stops == () and d.credit_household


@pytest.mark.parametrize(
    ("preset", "final"),
    [
        (Preset.MIN, 55_000),
        (Preset.MEDIAN, 60_000),
        (Preset.EVALUATION, 60_000),
        (Preset.SURVEY, 55_000),
    ],
)
def test_each_preset(preset, final):
    compiled = compile_policy(CreditPolicy(preset=preset))
    assert compiled.decide(person()).final_yuan == final


def test_the_grade_cap_applies_after_the_preset():
    d = DEFAULT.decide(person(model_grade="fair", evaluation_yuan=150_000, survey_yuan=150_000,
                              income_yuan=500_000))  # fmt: skip
    assert d.grade == "一般" and d.final_yuan == 30_000
    assert d.model_yuan == 30_000  # capacity is capped by the grade too


@pytest.mark.parametrize(
    ("change", "stop"),
    [
        ({"flags": ("black",)}, "blacklisted"),
        ({"flags": ("court_defaulter", "grey")}, "court_defaulter"),
        ({"age": 17}, "age"),
        ({"age": 66}, "age"),
        ({"evaluation_color": "black", "evaluation_yuan": None}, "negative_upheld"),
        ({"evaluation_color": "insufficient", "evaluation_yuan": None}, "not_evaluated"),
    ],
)
def test_a_hard_stop_gives_zero_and_says_which(change, stop):
    d = DEFAULT.decide(person(**change))
    assert d.final_yuan == 0 and stop in d.hard_stops
    assert any(s.kind == "hard_stop" and s.rule == stop for s in d.trace)
    assert not d.credit_household


def test_a_grey_flag_alone_is_no_hard_stop():
    assert DEFAULT.decide(person(flags=("grey",))).final_yuan == 55_000


def test_a_survey_far_from_the_base_goes_to_the_branch_manager():
    # base = min(E 60,000, M 90,000) = 60,000; 30% either side is 42,000–78,000
    assert DEFAULT.decide(person(survey_yuan=78_000)).route == ""
    assert DEFAULT.decide(person(survey_yuan=78_001)).route == "survey_far_from_base"
    assert DEFAULT.decide(person(survey_yuan=41_999)).route == "survey_far_from_base"
    assert DEFAULT.decide(person(survey_yuan=None)).route == ""  # no visit, no survey


def test_no_score_is_the_lowest_grade():
    d = DEFAULT.decide(person(score=None, model_grade=None))
    assert d.grade == "不授信" and d.final_yuan == 0


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("capacity", "income_yuan * 2 + nonsense", "undeclared"),
        ("capacity", "income_yuan > 2", "must give INT"),
        ("capacity", "__import__('os').system('true')", "capacity"),
        ("hard_stops", (Rule("x", "x", "age + 1"),), "must give BOOL"),
        ("hard_stops", (Rule("x", "x", "[1, 2].map(x, x)"),), "must give BOOL"),
    ],
)
def test_a_bad_policy_is_refused_when_loaded(field, value, says):
    with pytest.raises(PolicyError, match=says):
        compile_policy(dataclasses.replace(CreditPolicy(), **{field: value}))


def test_an_expression_failing_on_an_input_names_the_rule():
    policy = dataclasses.replace(CreditPolicy(), capacity="income_yuan / (age - 40)")
    with pytest.raises(PolicyError, match=r"capacity: .*divide by zero"):
        compile_policy(policy).decide(person(age=40))


amounts = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000_000))
applicants = st.builds(
    Applicant,
    person_uid=st.just("P"),
    age=st.integers(min_value=0, max_value=110),
    flags=st.lists(st.sampled_from(["black", "grey", "court_defaulter"]), max_size=3).map(tuple),
    evaluation_color=st.sampled_from(["white", "grey", "black", "insufficient", ""]),
    evaluation_yuan=amounts,
    survey_yuan=amounts,
    score=st.one_of(st.none(), st.floats(min_value=300, max_value=900)),
    model_grade=st.one_of(
        st.none(), st.sampled_from(["top", "excellent", "good", "fair", "decline", "x"])
    ),
    income_yuan=st.integers(min_value=0, max_value=2_000_000),
    assets_yuan=st.integers(min_value=0, max_value=20_000_000),
    liabilities_yuan=st.integers(min_value=0, max_value=5_000_000),
    has_arrears=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(applicants)
def test_under_min_the_final_never_exceeds_a_cap_or_an_amount(a):
    d = DEFAULT.decide(a)
    cap = CreditPolicy().grade_for(a.model_grade).cap_yuan
    assert 0 <= d.final_yuan <= cap
    assert d.final_yuan <= d.model_yuan
    for amount in (a.evaluation_yuan, a.survey_yuan):
        if amount is not None:
            assert d.final_yuan <= amount
    assert d.final_yuan % 1_000 == 0
    if d.hard_stops:
        assert d.final_yuan == 0


@settings(max_examples=200, deadline=None)
@given(applicants)
def test_any_hard_stop_gives_zero_under_every_preset(a):
    for preset in Preset:
        d = compile_policy(CreditPolicy(preset=preset)).decide(a)
        stopped = bool({"black", "court_defaulter"} & set(a.flags)) or not 18 <= a.age <= 65 or a.evaluation_color in {"black", "insufficient", ""}  # fmt: skip
        assert bool(d.hard_stops) == stopped
        if stopped:
            assert d.final_yuan == 0


def test_a_policy_round_trips_through_json_data():
    import json

    from cunxin.credit.policy import from_data, to_data

    policy = dataclasses.replace(CreditPolicy(), version="v7", preset=Preset.MEDIAN)
    data = json.loads(json.dumps(to_data(policy), allow_nan=False))
    assert from_data(data) == policy
