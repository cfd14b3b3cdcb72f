"""The credit policy as data (DESIGN.md §5 "Three amounts"), versioned and edited by HQ.

Conditions and formulas are CEL expressions (Common Expression Language, Google's C++
implementation through `cel-expr-python`): type-checked against the declared inputs when
a policy is loaded, without loops or side effects, and never Python `eval`. Everything
else — grade bands and caps, the preset that picks the final amount, rounding — is plain
data. `cunxin.credit.decide` evaluates a policy for one person and records the trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Preset(StrEnum):
    """How the final amount is picked from the evaluation (E), model (M) and survey (S)
    amounts; the grade cap and rounding apply after it."""

    MIN = "min"  # min(E, M, S): the DESIGN.md default
    MEDIAN = "median"  # the middle one of the three (of two: the lower)
    EVALUATION = "evaluation"  # E, what the village said
    SURVEY = "survey"  # S, what the customer manager found


@dataclass(frozen=True)
class Rule:
    """A named CEL condition: a hard stop, an approval route or a rating criterion."""

    id: str
    label: str  # plain Chinese, shown in the decision's explanation
    when: str  # CEL, bool


@dataclass(frozen=True)
class Grade:
    """A grade of the active scorecard (its score bands are the model's, see
    `cunxin.credit.scorecard.GRADES`) and the cap the policy puts on it."""

    key: str  # the model's grade key: top / excellent / good / fair / decline
    name: str  # 特优 / 优秀 / 较好 / 一般 / 不授信
    cap_yuan: int


# The inputs a policy's expressions may use, with their CEL types (see decide.INPUTS).
DEFAULT_HARD_STOPS: tuple[Rule, ...] = (
    Rule("blacklisted", "黑名单客户", "'black' in flags"),
    Rule("court_defaulter", "失信被执行人", "'court_defaulter' in flags"),
    Rule("age", "年龄不在18至65周岁之间", "age < 18 || age > 65"),
    Rule("negative_upheld", "评议认定存在不予授信情形（黑名单）", "evaluation_color == 'black'"),
    Rule("not_evaluated", "未经评议或有效评议不足", "evaluation_color in ['', 'insufficient']"),
)
DEFAULT_GRADES: tuple[Grade, ...] = (
    Grade("top", "特优", 200_000),
    Grade("excellent", "优秀", 100_000),
    Grade("good", "较好", 50_000),
    Grade("fair", "一般", 30_000),
    Grade("decline", "不授信", 0),
)
# Model amount from capacity (DESIGN.md §5): twice the household's yearly income plus a
# tenth of its assets, less its liabilities, never below 0; the grade cap applies after.
DEFAULT_CAPACITY = "math.greatest([0, income_yuan * 2 + assets_yuan / 10 - liabilities_yuan])"
DEFAULT_ROUTES: tuple[Rule, ...] = (
    Rule(
        "survey_far_from_base",
        "调查额度偏离评议额度与模型额度中较低者超过30%，需支行行长审批",
        "has_survey && base_yuan > 0 && "
        "(survey_yuan * 10 > base_yuan * 13 || survey_yuan * 10 < base_yuan * 7)",
    ),
)
DEFAULT_CREDIT_HOUSEHOLD = Rule(
    "credit_household", "信用户：额度大于0、评级较好及以上、无欠息",
    "final_yuan > 0 && grade in ['特优', '优秀', '较好'] && !has_arrears",
)  # fmt: skip


@dataclass(frozen=True)
class CreditVillageCriteria:
    """信用村 (DESIGN.md §5): shares of households and borrowers, and the NPL ratio."""

    min_credit_household_share: float = 0.70
    min_borrowers_without_arrears_share: float = 0.85
    max_npl_ratio: float = 0.05


@dataclass(frozen=True)
class CreditPolicy:
    version: str = "default-1"
    hard_stops: tuple[Rule, ...] = DEFAULT_HARD_STOPS
    grades: tuple[Grade, ...] = DEFAULT_GRADES
    capacity: str = DEFAULT_CAPACITY
    preset: Preset = Preset.MIN
    rounding_yuan: int = 1_000
    routes: tuple[Rule, ...] = DEFAULT_ROUTES
    credit_household: Rule = DEFAULT_CREDIT_HOUSEHOLD
    credit_village: CreditVillageCriteria = field(default_factory=CreditVillageCriteria)

    def grade_for(self, model_grade: str | None) -> Grade:
        """The policy's grade for the model's grade key (the last, lowest, without one)."""
        return next((g for g in self.grades if g.key == model_grade), self.grades[-1])


def to_data(policy: CreditPolicy) -> dict:
    """The policy as JSON data."""
    rule = lambda r: {"id": r.id, "label": r.label, "when": r.when}  # noqa: E731
    return {
        "version": policy.version,
        "hard_stops": [rule(r) for r in policy.hard_stops],
        "grades": [{"key": g.key, "name": g.name, "cap_yuan": g.cap_yuan} for g in policy.grades],
        "capacity": policy.capacity,
        "preset": str(policy.preset),
        "rounding_yuan": policy.rounding_yuan,
        "routes": [rule(r) for r in policy.routes],
        "credit_household": rule(policy.credit_household),
        "credit_village": {
            "min_credit_household_share": policy.credit_village.min_credit_household_share,
            "min_borrowers_without_arrears_share": policy.credit_village.min_borrowers_without_arrears_share,
            "max_npl_ratio": policy.credit_village.max_npl_ratio,
        },
    }  # fmt: skip


def from_data(data: dict) -> CreditPolicy:
    """The inverse of `to_data` (KeyError or ValueError on malformed data)."""
    return CreditPolicy(
        version=data["version"],
        hard_stops=tuple(Rule(**r) for r in data["hard_stops"]),
        grades=tuple(Grade(g["key"], g["name"], int(g["cap_yuan"])) for g in data["grades"]),
        capacity=data["capacity"],
        preset=Preset(data["preset"]),
        rounding_yuan=int(data["rounding_yuan"]),
        routes=tuple(Rule(**r) for r in data["routes"]),
        credit_household=Rule(**data["credit_household"]),
        credit_village=CreditVillageCriteria(**data["credit_village"]),
    )  # fmt: skip
