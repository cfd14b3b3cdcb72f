"""A credit decision for one person: three amounts, the rules of the policy, the final
amount, the approval route and the trace of every rule that fired, with its inputs.

    compiled = compile_policy(policy)      # once per policy version: type-checks every CEL
    decision = compiled.decide(applicant)  # ~10 µs per expression

The trace is data (`Step`s): the app renders it in plain Chinese ("为什么是这个额度").
"""

from __future__ import annotations

import operator
import re
import statistics
from dataclasses import dataclass, field, replace
from functools import cached_property

from cel_expr_python import cel
from cel_expr_python.ext import ext_math

from cunxin.credit.policy import CreditPolicy, Grade, Preset

# What a policy's expressions may read. Amounts in whole yuan; 0 with has_x false when
# the amount is missing (CEL has no null arithmetic).
INPUTS: dict[str, object] = {
    "age": cel.Type.INT,
    "flags": cel.Type.List(cel.Type.STRING),  # black, grey, court_defaulter
    "evaluation_color": cel.Type.STRING,  # white / grey / black / insufficient / ''
    "evaluation_yuan": cel.Type.INT, "has_evaluation": cel.Type.BOOL,
    "survey_yuan": cel.Type.INT, "has_survey": cel.Type.BOOL,
    "score": cel.Type.DOUBLE, "has_score": cel.Type.BOOL,
    "income_yuan": cel.Type.INT, "assets_yuan": cel.Type.INT, "liabilities_yuan": cel.Type.INT,
    "has_arrears": cel.Type.BOOL,
    "grade": cel.Type.STRING, "grade_cap_yuan": cel.Type.INT,
}  # fmt: skip
# ...and after the amounts are known (routes and the 信用户 criterion)
OUTPUTS: dict[str, object] = {
    "model_yuan": cel.Type.INT, "base_yuan": cel.Type.INT, "final_yuan": cel.Type.INT,
    "hard_stopped": cel.Type.BOOL,
}  # fmt: skip


class PolicyError(ValueError):
    """A policy that does not compile, or an expression that fails on an input.

    `rule` names the expression (a rule id, "capacity") or the part ("grades"), `label` is
    the rule's label (shown to staff), `detail` is CEL's own text. `problem` says what is
    wrong, for a message in the staff's words (`cunxin.decisions.policy_errors`):
    at compile time "unknown_name" (`names`), "syntax" (`line`, `column`, `near`),
    "no_overload" (`operator`, `types`), "not_selectable" (`types`), "returns" (`types`:
    expected, given) or "invalid"; at run time (`at_run_time`) "budget" (CEL's iteration
    budget), "divide_by_zero", "overflow", "conversion" or "runtime". `str()` is
    "rule: detail"."""

    def __init__(
        self,
        rule: str,
        detail: str,
        *,
        label: str = "",
        source: str = "",
        at_run_time: bool = False,
        problem: str | None = None,
        types: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule, self.detail, self.label, self.source = rule, detail, label, source
        self.at_run_time = at_run_time
        self.names: tuple[str, ...] = ()
        self.operator = self.near = ""
        self.line = self.column = 0
        self.types = types
        self.problem = problem or (_run_problem(detail) if at_run_time else self._classify())

    def _classify(self) -> str:
        """What CEL's compiler message says, from its text (the library gives no codes)."""
        text = self.detail
        if names := re.findall(r"undeclared reference to '([^']+)'", text):
            self.names = tuple(dict.fromkeys(names))
            return "unknown_name"
        if at := re.search(r"<input>:(\d+):(\d+): Syntax error", text):
            self.line, self.column = int(at[1]), int(at[2])
            lines = self.source.splitlines() or [""]
            line = lines[min(self.line, len(lines)) - 1]
            start = max(0, self.column - 1 - 10)
            self.near = line[start : self.column - 1 + 10].strip()
            return "syntax"
        if m := re.search(r"no matching overload for '([^']+)' applied to '\(([^)]*)\)'", text):
            self.operator = m[1].strip("_") if m[1].startswith("_") else m[1]
            self.types = tuple(t.strip() for t in m[2].split(",") if t.strip())
            return "no_overload"
        if m := re.search(r"expression of type '([^']+)' cannot be the operand of a select", text):
            self.types = (m[1],)
            return "not_selectable"
        return "invalid"


def _run_problem(text: str) -> str:
    lowered = text.lower()
    for needle, problem in (
        ("iteration budget", "budget"), ("divide by zero", "divide_by_zero"),
        ("modulus by zero", "divide_by_zero"), ("overflow", "overflow"),
        ("out_of_range", "overflow"), ("cannot convert", "conversion"),
    ):  # fmt: skip
        if needle in lowered:
            return problem
    return "runtime"


@dataclass(slots=True)  # not frozen: a batch makes 742,000 (frozen init is 3× slower)
class Applicant:
    person_uid: str
    age: int
    flags: tuple[str, ...] = ()
    evaluation_color: str = ""
    evaluation_yuan: int | None = None
    survey_yuan: int | None = None
    score: float | None = None
    model_grade: str | None = None  # the scorecard's grade key for the score
    income_yuan: int = 0
    assets_yuan: int = 0
    liabilities_yuan: int = 0
    has_arrears: bool = False


@dataclass(frozen=True)
class Step:
    """One entry of the trace: what was decided, from what."""

    kind: str  # hard_stop | grade | model_amount | pick | cap | rounding | route | credit_household
    rule: str
    label: str
    result: object
    inputs: dict = field(default_factory=dict)


@dataclass(slots=True)  # not frozen: a batch makes 742,000 (frozen init is 3× slower)
class Decision:
    person_uid: str
    policy: str
    grade: str
    evaluation_yuan: int | None
    model_yuan: int
    survey_yuan: int | None
    final_yuan: int
    hard_stops: tuple[str, ...]
    route: str  # "" (the customer manager's proposal goes the normal way) or a route id
    credit_household: bool
    trace: tuple[Step, ...]

    def outcome(self) -> tuple:
        """Everything decided, without the trace."""
        return (self.grade, self.model_yuan, self.final_yuan, self.hard_stops, self.route,
                self.credit_household)  # fmt: skip


@dataclass
class CompiledPolicy:
    policy: CreditPolicy

    @cached_property
    def _env(self):
        return cel.NewEnv(variables=INPUTS, extensions=[ext_math.ExtMath()])

    @cached_property
    def _env_out(self):
        return cel.NewEnv(variables={**INPUTS, **OUTPUTS}, extensions=[ext_math.ExtMath()])

    def __post_init__(self) -> None:
        p = self.policy
        self._stops = [(r, self._compile(self._env, r.when, r.id, "BOOL", r.label)) for r in p.hard_stops]  # fmt: skip
        self._capacity = self._compile(self._env, p.capacity, "capacity", "INT")
        self._routes = [(r, self._compile(self._env_out, r.when, r.id, "BOOL", r.label)) for r in p.routes]  # fmt: skip
        r = p.credit_household
        self._credit_household = (r, self._compile(self._env_out, r.when, r.id, "BOOL", r.label))
        if not p.grades or len({g.key for g in p.grades}) != len(p.grades):
            raise PolicyError("grades", "at least one, each of the model's grades once")
        if p.rounding_yuan < 1:
            raise PolicyError("rounding_yuan", "at least 1")
        self._grades = {g.key: g for g in p.grades}
        self._stop_key = _key(tuple(sorted({n for _r, e in self._stops for n in e.names})))
        self._stop_memo: dict = {}
        others = [self._capacity, *(e for _r, e in self._routes), self._credit_household[1]]
        self._age_elsewhere = any("age" in e.names for e in others)

    @staticmethod
    def _compile(env, source: str, name: str, returns: str, label: str = "") -> _Expression:
        try:
            expression = env.compile(source)
        except RuntimeError as e:
            raise PolicyError(name, str(e), label=label, source=source) from None
        gives = expression.return_type().name()
        if gives != returns:
            raise PolicyError(
                name, f"must give {returns}, gives {gives}", label=label, source=source,
                problem="returns", types=(returns, gives),
            )  # fmt: skip
        return _Expression(name, expression, _names(source), label)

    def decide(self, a: Applicant, *, trace: bool = True) -> Decision:
        """The decision for one applicant; without `trace` (a batch) the steps are not
        recorded, and everything else is the same."""
        return self._decide(a, trace, None)[0]

    def decide_by_year_of_birth(self, a: Applicant) -> tuple[Decision, bool]:
        """A batch's decision (no trace) with `a.age` from the year of birth, and whether
        the exact age — that or a year less — could give another outcome."""
        if self._age_elsewhere:
            d = self._decide(a, False, None)[0]
            return d, self._decide(replace(a, age=a.age - 1), False, None)[
                0
            ].outcome() != d.outcome()
        return self._decide(a, False, a.age - 1)

    def _decide(self, a: Applicant, trace: bool, younger: int | None) -> tuple[Decision, bool]:
        """`younger`: an age to compare the hard stops under (the only expressions that
        read the age, when `_age_elsewhere` is false)."""
        p = self.policy
        grade: Grade = self._grades.get(a.model_grade, p.grades[-1])
        data = self._data(a, grade)
        differs = False
        if younger is not None:
            data["age"] = younger
            differs = self._fired_stops(data)
            data["age"] = a.age
        steps: list[Step] | None = [] if trace else None
        stops = self._fired_stops(data)
        if younger is not None:
            differs = differs != stops
        if steps is not None:
            for rule, expression in self._stops:
                if rule.id in stops:
                    steps.append(Step("hard_stop", rule.id, rule.label, True, expression.used(data)))  # fmt: skip
            steps.append(Step("grade", "grade", grade.name, grade.cap_yuan,
                              {"score": a.score, "model_grade": a.model_grade}))  # fmt: skip
        capacity = max(0, int(self._capacity(data)))
        model = min(capacity, grade.cap_yuan)
        if steps is not None:
            steps.append(Step("model_amount", "capacity", p.capacity, model,
                              {"capacity_yuan": capacity, "grade_cap_yuan": grade.cap_yuan,
                               "income_yuan": a.income_yuan, "assets_yuan": a.assets_yuan,
                               "liabilities_yuan": a.liabilities_yuan}))  # fmt: skip
        known = {"model": model}
        if a.evaluation_yuan is not None:
            known["evaluation"] = a.evaluation_yuan
        base = min(known.values())
        if a.survey_yuan is not None:
            known["survey"] = a.survey_yuan
        picked = _pick(p.preset, known)
        capped = min(picked, grade.cap_yuan)
        final = capped // p.rounding_yuan * p.rounding_yuan
        if steps is not None:
            steps.append(Step("pick", str(p.preset), str(p.preset), picked, dict(known)))
            if capped != picked:
                steps.append(Step("cap", "grade_cap", grade.name, capped, {"grade_cap_yuan": grade.cap_yuan}))  # fmt: skip
            if final != capped:
                steps.append(Step("rounding", "rounding", str(p.rounding_yuan), final, {"before": capped}))  # fmt: skip
        if stops:
            final = 0
        data.update(model_yuan=model, base_yuan=base, final_yuan=final, hard_stopped=bool(stops))
        route = ""
        if not stops:
            for rule, expression in self._routes:
                if expression(data):
                    route = rule.id
                    if steps is not None:
                        steps.append(Step("route", rule.id, rule.label, True, expression.used(data)))  # fmt: skip
                    break
        rule, expression = self._credit_household
        credit_household = bool(expression(data))
        if steps is not None:
            steps.append(Step("credit_household", rule.id, rule.label, credit_household, expression.used(data)))  # fmt: skip
        return Decision(
            person_uid=a.person_uid, policy=p.version, grade=grade.name,
            evaluation_yuan=a.evaluation_yuan, model_yuan=model, survey_yuan=a.survey_yuan,
            final_yuan=final, hard_stops=stops, route=route,
            credit_household=credit_household, trace=tuple(steps or ()),
        ), differs  # fmt: skip

    @staticmethod
    def _data(a: Applicant, grade: Grade) -> dict:
        """The applicant as the expressions' inputs (`INPUTS`)."""
        return {
            "age": a.age, "flags": a.flags, "evaluation_color": a.evaluation_color,
            "evaluation_yuan": a.evaluation_yuan or 0, "has_evaluation": a.evaluation_yuan is not None,
            "survey_yuan": a.survey_yuan or 0, "has_survey": a.survey_yuan is not None,
            "score": float(a.score or 0.0), "has_score": a.score is not None,
            "income_yuan": a.income_yuan, "assets_yuan": a.assets_yuan,
            "liabilities_yuan": a.liabilities_yuan, "has_arrears": a.has_arrears,
            "grade": grade.name, "grade_cap_yuan": grade.cap_yuan,
        }  # fmt: skip

    def _fired_stops(self, data: dict) -> tuple[str, ...]:
        """The ids of the hard stops that fire, memoised on the inputs they name together."""
        key = self._stop_key(data)
        fired = self._stop_memo.get(key)
        if fired is None:
            fired = self._stop_memo[key] = tuple(r.id for r, e in self._stops if e(data))
        return fired


class _Expression:
    """A compiled CEL expression with a memo of its results by the values of the inputs it
    names: a county has a few hundred distinct (age, flags, colour) and one capacity per
    household, so a batch evaluates each once (a CEL call costs about 10 µs)."""

    def __init__(self, name: str, compiled, names: tuple[str, ...], label: str = "") -> None:
        self.name, self.compiled, self.names, self.label = name, compiled, names, label
        self.key = _key(names)
        self.memo: dict = {}

    def __call__(self, data: dict):
        """The expression's value on the inputs; PolicyError (at run time) if CEL cannot
        compute it: an error value (divide by zero, overflow) or an exception (the
        iteration budget of a comprehension, which cel-expr-python raises as
        RuntimeError)."""
        key = self.key(data)
        try:
            return self.memo[key]
        except KeyError:
            pass
        # CEL takes lists; the applicant's are tuples (hashable, for the memo)
        try:
            value = self.compiled.eval(data=self.used(data))
        except RuntimeError as e:
            raise PolicyError(self.name, str(e), label=self.label, at_run_time=True) from None
        if value.type().name() == "ERROR":
            raise PolicyError(self.name, str(value.value()), label=self.label, at_run_time=True)
        result = self.memo[key] = value.value()
        return result

    def used(self, data: dict) -> dict:
        """The inputs the expression names, with their values (for the trace)."""
        return {n: list(data[n]) if isinstance(data[n], tuple) else data[n] for n in self.names}


def _key(names: tuple[str, ...]):
    """The memo key of an expression: the values of the inputs it names."""
    return operator.itemgetter(*names) if names else (lambda data: ())


def _names(source: str) -> tuple[str, ...]:
    """The inputs an expression names: every declared variable whose name appears in it
    as a word. Reading a variable needs its name, so none is missed (a name inside a
    string literal only costs memo hits)."""
    return tuple(n for n in (*INPUTS, *OUTPUTS) if re.search(rf"\b{n}\b", source))


def compile_policy(policy: CreditPolicy) -> CompiledPolicy:
    return CompiledPolicy(policy)


def _pick(preset: Preset, known: dict[str, int]) -> int:
    if preset is Preset.MIN:
        return min(known.values())
    if preset is Preset.MEDIAN:
        return int(statistics.median_low(known.values()))
    key = "evaluation" if preset is Preset.EVALUATION else "survey"
    # without that amount, the lowest of the others (never more than was asked for)
    return known.get(key, min(known.values()))
