"""为什么是这个额度 (decisions/explain.py): one plain sentence per step of the trace, for
every step kind the decision engine writes, from the engine's own traces.

Expected sentences are built with gettext from the English msgids (the tests run in
zh-Hans; the catalogue grows later); policy labels are data and are matched as written.
"""

from __future__ import annotations

import dataclasses

from django.utils.translation import gettext as _

from cunxin.credit.decide import Applicant, Step, compile_policy
from cunxin.credit.policy import CreditPolicy, Preset
from cunxin.decisions.explain import explain, texts, yuan_text
from cunxin.decisions.models import Decision

WHITE = {"evaluation_color": "white", "age": 40, "person_uid": "P1"}
# 优秀 (cap 100,000); capacity 60,000 × 2 + 500,000 / 10 − 0 = 170,000
STRONG = {"score": 720, "model_grade": "excellent", "income_yuan": 60_000, "assets_yuan": 500_000}


def decide(policy: CreditPolicy | None = None, **applicant):
    return compile_policy(policy or CreditPolicy()).decide(Applicant(**{**WHITE, **applicant}))


def by_kind(reasons) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in reasons:
        out.setdefault(r.kind, []).append(r.text)
    return out


def y(n: int) -> str:
    return _("%(amount)s yuan") % {"amount": f"{n:,}"}


def pick_text(template: str, evaluation, model, survey, amount) -> str:
    return _(template) % {
        "evaluation": y(evaluation) if evaluation is not None else _("none"),
        "model": y(model) if model is not None else _("none"),
        "survey": y(survey) if survey is not None else _("none"),
        "amount": y(amount),
    }


MIN = (
    "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
    "%(survey)s: the policy takes the lowest of them (the default), %(amount)s."
)


def test_amounts_have_thousands_separators_and_the_unit():
    assert yuan_text(1_234_567) == _("%(amount)s yuan") % {"amount": "1,234,567"}
    assert "1,234,567" in yuan_text(1_234_567)
    assert yuan_text(0) == _("%(amount)s yuan") % {"amount": "0"}
    assert yuan_text(None) == _("none")


def test_it_explains_the_grade_and_its_cap():
    reasons = by_kind(explain(decide(evaluation_yuan=50_000, **STRONG)))
    assert reasons["grade"] == [
        _("The model's score is %(score)s: grade %(grade)s, capped at %(cap)s.")
        % {"score": "720", "grade": "优秀", "cap": y(100_000)}
    ]
    # without a score: the lowest grade, and it is said why
    reasons = by_kind(explain(decide(evaluation_yuan=50_000)))
    assert reasons["grade"] == [
        _("No model score: the lowest grade, %(grade)s, applies; its cap is %(cap)s.")
        % {"grade": "不授信", "cap": y(0)}
    ]


def test_it_explains_the_model_amount_from_capacity_and_cap():
    reasons = by_kind(explain(decide(evaluation_yuan=50_000, liabilities_yuan=20_000, **STRONG)))
    assert reasons["model_amount"] == [
        _(
            "Model amount %(model)s: the lower of the household's repayment capacity, "
            "%(capacity)s (from income %(income)s, assets %(assets)s and liabilities "
            "%(liabilities)s), and the grade cap, %(cap)s."
        )
        % {
            "model": y(100_000), "capacity": y(150_000), "income": y(60_000),
            "assets": y(500_000), "liabilities": y(20_000), "cap": y(100_000),
        }
    ]  # fmt: skip


def test_it_explains_the_pick_of_each_preset():
    amounts = {"evaluation_yuan": 50_000, "survey_yuan": 80_000, **STRONG}  # M = 100,000
    cases = {
        Preset.MIN: (MIN, 50_000),
        Preset.MEDIAN: (
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the middle one, %(amount)s.", 80_000,
        ),
        Preset.EVALUATION: (
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the evaluation amount, %(amount)s.", 50_000,
        ),
        Preset.SURVEY: (
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the survey amount, %(amount)s.", 80_000,
        ),
    }  # fmt: skip
    for preset, (template, amount) in cases.items():
        d = decide(CreditPolicy(preset=preset), **amounts)
        assert by_kind(explain(d))["pick"] == [
            pick_text(template, 50_000, 100_000, 80_000, amount)
        ], preset


def test_it_says_when_the_preset_amount_is_missing():
    d = decide(CreditPolicy(preset=Preset.SURVEY), evaluation_yuan=50_000, **STRONG)
    template = (
        "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
        "%(survey)s: the amount the policy takes is missing, so the lowest of the "
        "others, %(amount)s."
    )
    assert by_kind(explain(d))["pick"] == [pick_text(template, 50_000, 100_000, None, 50_000)]


def test_it_explains_the_grade_cap_when_it_cuts():
    d = decide(CreditPolicy(preset=Preset.SURVEY), evaluation_yuan=40_000, survey_yuan=150_000,
               score=650, model_grade="good", income_yuan=60_000)  # fmt: skip
    reasons = by_kind(explain(d))
    assert reasons["cap"] == [
        _("The cap of grade %(grade)s cuts it to %(amount)s.")
        % {"grade": "较好", "amount": y(50_000)}
    ]
    assert reasons["final"] == [_("Final amount: %(amount)s.") % {"amount": y(50_000)}]
    # no cut, no sentence
    assert "cap" not in by_kind(explain(decide(evaluation_yuan=40_000, **STRONG)))


def test_it_explains_the_rounding_down_to_a_thousand():
    d = decide(evaluation_yuan=53_500, **STRONG)
    reasons = by_kind(explain(d))
    assert reasons["rounding"] == [
        _("Rounded down to a multiple of %(unit)s: %(before)s becomes %(after)s.")
        % {"unit": y(1_000), "before": y(53_500), "after": y(53_000)}
    ]
    assert reasons["final"] == [_("Final amount: %(amount)s.") % {"amount": y(53_000)}]
    assert "rounding" not in by_kind(explain(decide(evaluation_yuan=53_000, **STRONG)))


def test_it_explains_a_hard_stop_and_the_amount_it_stops():
    d = decide(evaluation_yuan=50_000, flags=("black",), **{**STRONG})
    reasons = by_kind(explain(d))
    assert reasons["hard_stop"] == [
        _("Not granted: %(rule)s. Whatever the amounts below, the credit line is 0 yuan.")
        % {"rule": "黑名单客户"}
    ]
    assert reasons["final"] == [
        _("Final amount: 0 yuan, because of the hard stop (otherwise %(amount)s).")
        % {"amount": y(50_000)}
    ]
    # two stops, each said; the hard stops come first, the final amount last
    d = decide(age=70, flags=("court_defaulter",))
    reasons = explain(d)
    assert [r.kind for r in reasons[:2]] == ["hard_stop", "hard_stop"]
    assert "失信被执行人" in reasons[0].text and "年龄不在18至65周岁之间" in reasons[1].text
    assert reasons[-1].text == _("Final amount: 0 yuan, because of the hard stop.")


def test_it_explains_the_approval_route():
    d = decide(evaluation_yuan=50_000, survey_yuan=80_000, **STRONG)
    assert d.route == "survey_far_from_base"
    assert by_kind(explain(d))["route"] == [
        _("Approval route: %(rule)s.")
        % {"rule": "调查额度偏离评议额度与模型额度中较低者超过30%，需支行行长审批"}
    ]
    assert "route" not in by_kind(explain(decide(evaluation_yuan=50_000, **STRONG)))


def test_it_says_whether_the_household_is_a_credit_household():
    label = "信用户：额度大于0、评级较好及以上、无欠息"
    yes = by_kind(explain(decide(evaluation_yuan=50_000, **STRONG)))
    assert yes["credit_household"] == [
        _("A credit household: %(criterion)s.") % {"criterion": label}
    ]
    no = by_kind(explain(decide(evaluation_yuan=50_000, has_arrears=True, **STRONG)))
    assert no["credit_household"] == [
        _("Not a credit household: the criterion is %(criterion)s.") % {"criterion": label}
    ]


def test_a_stored_trace_reads_as_the_computed_one():
    """A Decision row stores the trace as dicts (vars of each Step); the same sentences."""
    d = decide(evaluation_yuan=53_500, survey_yuan=80_000, **STRONG)
    stored = Decision(trace=[dataclasses.asdict(s) for s in d.trace], final_yuan=d.final_yuan)
    assert texts(explain(stored)) == texts(explain(d)) == texts(explain(list(d.trace)))
    assert [r.kind for r in explain(stored)] == [
        "grade", "model_amount", "pick", "rounding", "route", "credit_household", "final",
    ]  # fmt: skip


def test_an_unknown_step_kind_shows_its_label_and_an_empty_trace_nothing():
    trace = [Step("appraisal", "rule-x", "房产评估完成", True)]
    assert texts(explain(trace)) == ["房产评估完成"]
    assert explain([]) == [] and explain(Decision(trace=[], final_yuan=0)) == []
