"""A credit policy's errors in the staff's words (`cunxin.credit.decide.PolicyError`).

CEL speaks English ("undeclared reference to 'incme_yuan' (in container '')"); staff read
which rule is wrong and what is wrong with it — an unknown name, a syntax error near some
text, wrong types, a result of the wrong type, or at run time a computation CEL could not
finish — with CEL's own text kept as a detail for whoever writes the expression.

    cannot_decide(e)   # "授信政策无法作出决定：容量公式（模型额度）：计算步骤超过…。CEL 原文：…"
    does_not_compile(e)  # "…未知的名称 incme_yuan（…）。编译器原文：…"
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cunxin.credit.decide import PolicyError

# Parts of a policy that are not rules, by the name PolicyError gives them.
PART_NAMES = {
    "capacity": gettext_lazy("the capacity formula (model amount)"),
    "grades": gettext_lazy("the grade caps"),
    "rounding_yuan": gettext_lazy("the rounding"),
}
# CEL's type names, as the compiler (lowercase) and a return type (uppercase) give them.
TYPE_NAMES = {
    "int": gettext_lazy("a whole number"),
    "uint": gettext_lazy("a whole number"),
    "double": gettext_lazy("a decimal number"),
    "string": gettext_lazy("text"),
    "bool": gettext_lazy("a yes/no value"),
    "list(string)": gettext_lazy("a list of texts"),
    "list(int)": gettext_lazy("a list of whole numbers"),
    "null_type": gettext_lazy("null"),
}
RUN_TIME = {
    "budget": gettext_lazy(
        "it needs more steps than CEL allows (too many or too deeply nested list "
        "operations); make it simpler"
    ),
    "divide_by_zero": gettext_lazy("it divides by zero"),
    "overflow": gettext_lazy("a number goes out of range"),
    "conversion": gettext_lazy("a value cannot be converted to the type asked for"),
    "runtime": gettext_lazy("CEL could not compute it"),
}


def type_name(cel_type: str) -> str:
    return str(TYPE_NAMES.get(cel_type.lower(), cel_type))


def rule_name(e: PolicyError) -> str:
    """ "the rule “黑名单客户” (blacklisted)", or the part: "the capacity formula"."""
    if e.rule in PART_NAMES:
        return str(PART_NAMES[e.rule])
    if e.label:
        return _("the rule “%(label)s” (%(id)s)") % {"label": e.label, "id": e.rule}
    return _("the rule %(id)s") % {"id": e.rule}


def reason(e: PolicyError) -> str:
    """What is wrong, in words, without the rule's name and without CEL's text."""
    if e.at_run_time:
        return str(RUN_TIME.get(e.problem, RUN_TIME["runtime"]))
    if e.problem == "unknown_name":
        return _(
            "unknown name %(names)s: not one of the policy's inputs or functions (check "
            "the spelling)"
        ) % {"names": "、".join(e.names)}
    if e.problem == "syntax":
        if e.near:
            return _("a syntax error at character %(column)s, near “%(near)s”") % {
                "column": e.column, "near": e.near,
            }  # fmt: skip
        return _("a syntax error at character %(column)s") % {"column": e.column}
    if e.problem == "no_overload":
        return _("wrong types: “%(operator)s” cannot be used on %(types)s") % {
            "operator": e.operator, "types": _(" and ").join(type_name(t) for t in e.types),
        }  # fmt: skip
    if e.problem == "not_selectable":
        return _("wrong type: %(type)s has no fields or functions to call after a “.”") % {
            "type": type_name(e.types[0]) if e.types else "?"
        }
    if e.problem == "returns":
        expected, given = e.types
        return _("its result must be %(expected)s, it is %(given)s") % {
            "expected": type_name(expected), "given": type_name(given),
        }  # fmt: skip
    return e.detail


def describe(e: PolicyError) -> str:
    """Which rule and what is wrong: "the capacity formula: it divides by zero"."""
    return _("%(rule)s: %(reason)s") % {"rule": rule_name(e), "reason": reason(e)}


def cannot_decide(e: PolicyError) -> str:
    """For a decision, a batch run or a what-if the policy failed on."""
    if not e.at_run_time:
        return _("The credit policy cannot decide: %(what)s. The compiler says: %(detail)s") % {
            "what": describe(e), "detail": e.detail,
        }  # fmt: skip
    return _("The credit policy cannot decide: %(what)s. CEL says: %(detail)s") % {
        "what": describe(e), "detail": e.detail,
    }  # fmt: skip


def does_not_compile(e: PolicyError) -> str:
    """For the policy editor, where the field and the rule are named already: what is
    wrong and the compiler's text."""
    # the compiler's text on a line of its own (the editor shows errors pre-wrapped)
    return _("%(reason)s.\nThe compiler says: %(detail)s") % {
        "reason": reason(e),
        "detail": e.detail,
    }
