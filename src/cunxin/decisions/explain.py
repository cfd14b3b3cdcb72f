"""为什么是这个额度: a decision's trace (`cunxin.credit.decide.Step`s) in plain words.

    for reason in explain(decision):   # a stored Decision, a computed one, or a trace
        print(reason.kind, reason.text)

One sentence per step of the trace, in the order the rules ran, then the final amount.
Rule labels (hard stops, routes, the 信用户 criterion) are the policy's own plain-Chinese
text and are shown as written; everything else goes through the translation catalogue.
Pure: no database query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Steps that carry the amount as it goes, before a hard stop sets it to 0.
_AMOUNT_STEPS = ("pick", "cap", "rounding")


@dataclass(frozen=True)
class Reason:
    kind: str  # a Step kind (hard_stop, grade, …) or "final"
    text: str


def yuan_text(amount: int | None) -> str:
    """Whole yuan with thousands separators: 50000 → "50,000 元"; None → "无". (Fen from the
    pool are the `fen_as_yuan` template filter.)"""
    if amount is None:
        return _("none")
    return _("%(amount)s yuan") % {"amount": f"{int(amount):,}"}


def explain(source) -> list[Reason]:
    """The reasons for a decision. `source`: a `decisions.models.Decision` (its stored
    trace), a `credit.decide.Decision`, or a trace itself (Steps or their dicts)."""
    trace = getattr(source, "trace", source) or []
    steps = [_as_dict(s) for s in trace]
    reasons = [Reason(s["kind"], _sentence(s)) for s in steps]
    stopped = [s for s in steps if s["kind"] == "hard_stop"]
    amounts = [s["result"] for s in steps if s["kind"] in _AMOUNT_STEPS]
    if stopped:
        before = amounts[-1] if amounts else None
        if before:
            text = _("Final amount: 0 yuan, because of the hard stop (otherwise %(amount)s).")
            reasons.append(Reason("final", text % {"amount": yuan_text(before)}))
        else:
            reasons.append(Reason("final", _("Final amount: 0 yuan, because of the hard stop.")))
    elif amounts:
        final = getattr(source, "final_yuan", None)
        text = _("Final amount: %(amount)s.") % {
            "amount": yuan_text(amounts[-1] if final is None else final)
        }
        reasons.append(Reason("final", text))
    return reasons


def _as_dict(step) -> dict:
    if isinstance(step, Mapping):
        return {"inputs": {}, "label": "", "rule": "", "result": None, **step}
    return {
        "kind": step.kind, "rule": step.rule, "label": step.label, "result": step.result,
        "inputs": dict(step.inputs or {}),
    }  # fmt: skip


def _score(value) -> str:
    value = float(value)
    return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"


def _sentence(step: dict) -> str:
    kind, inputs = step["kind"], step["inputs"] or {}
    handler = _SENTENCES.get(kind)
    if handler is None:  # a step kind this module does not know yet: its label, as written
        return str(step["label"] or step["rule"] or kind)
    return handler(step, inputs)


def _hard_stop(step: dict, inputs: dict) -> str:
    return _("Not granted: %(rule)s. Whatever the amounts below, the credit line is 0 yuan.") % {
        "rule": step["label"] or step["rule"]
    }


def _grade(step: dict, inputs: dict) -> str:
    values = {"grade": step["label"], "cap": yuan_text(step["result"])}
    if inputs.get("score") is None:
        return _("No model score: the lowest grade, %(grade)s, applies; its cap is %(cap)s.") % values  # fmt: skip
    return _("The model's score is %(score)s: grade %(grade)s, capped at %(cap)s.") % {
        **values, "score": _score(inputs["score"]),
    }  # fmt: skip


def _model_amount(step: dict, inputs: dict) -> str:
    values = {
        "model": yuan_text(step["result"]),
        "capacity": yuan_text(inputs.get("capacity_yuan")),
        "cap": yuan_text(inputs.get("grade_cap_yuan")),
        "income": yuan_text(inputs.get("income_yuan")),
        "assets": yuan_text(inputs.get("assets_yuan")),
        "liabilities": yuan_text(inputs.get("liabilities_yuan")),
    }
    return (
        _(
            "Model amount %(model)s: the lower of the household's repayment capacity, "
            "%(capacity)s (from income %(income)s, assets %(assets)s and liabilities "
            "%(liabilities)s), and the grade cap, %(cap)s."
        )
        % values
    )


def _pick(step: dict, inputs: dict) -> str:
    preset = step["rule"]
    values = {
        "evaluation": yuan_text(inputs.get("evaluation")),
        "model": yuan_text(inputs.get("model")),
        "survey": yuan_text(inputs.get("survey")),
        "amount": yuan_text(step["result"]),
    }
    if preset == "min":
        text = _(
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the lowest of them (the default), %(amount)s."
        )
    elif preset == "median":
        text = _(
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the middle one, %(amount)s."
        )
    elif preset == "evaluation" and inputs.get("evaluation") is not None:
        text = _(
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the evaluation amount, %(amount)s."
        )
    elif preset == "survey" and inputs.get("survey") is not None:
        text = _(
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy takes the survey amount, %(amount)s."
        )
    elif preset in ("evaluation", "survey"):
        text = _(
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the amount the policy takes is missing, so the lowest of the "
            "others, %(amount)s."
        )
    else:
        text = _(
            "Evaluation amount %(evaluation)s, model amount %(model)s, survey amount "
            "%(survey)s: the policy picks %(amount)s."
        )
    return text % values


def _cap(step: dict, inputs: dict) -> str:
    return _("The cap of grade %(grade)s cuts it to %(amount)s.") % {
        "grade": step["label"], "amount": yuan_text(step["result"]),
    }  # fmt: skip


def _rounding(step: dict, inputs: dict) -> str:
    try:
        unit = yuan_text(int(step["label"]))
    except (TypeError, ValueError):
        unit = str(step["label"])
    return _("Rounded down to a multiple of %(unit)s: %(before)s becomes %(after)s.") % {
        "unit": unit, "before": yuan_text(inputs.get("before")), "after": yuan_text(step["result"]),
    }  # fmt: skip


def _route(step: dict, inputs: dict) -> str:
    return _("Approval route: %(rule)s.") % {"rule": step["label"] or step["rule"]}


def _credit_household(step: dict, inputs: dict) -> str:
    criterion = step["label"] or step["rule"]
    if step["result"]:
        return _("A credit household: %(criterion)s.") % {"criterion": criterion}
    return _("Not a credit household: the criterion is %(criterion)s.") % {"criterion": criterion}


_SENTENCES = {
    "hard_stop": _hard_stop,
    "grade": _grade,
    "model_amount": _model_amount,
    "pick": _pick,
    "cap": _cap,
    "rounding": _rounding,
    "route": _route,
    "credit_household": _credit_household,
}


def texts(reasons: Iterable[Reason]) -> list[str]:
    """The sentences alone (for JSON)."""
    return [r.text for r in reasons]
