"""Template filters for money, member colours, tags and the codes the pool carries
(data sources, risk flags, tag families, list colours), shown as translated labels."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cunxin.pool.models import ListColor

register = template.Library()

# Eight colours that stay apart for colour-blind viewers too (Okabe–Ito, plus two greys
# of different lightness); a household member keeps hers wherever the household appears.
MEMBER_COLORS = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7F6A00", "#555555",
)  # fmt: skip

# The data pool's sources (cunxin.datapool.sources.SOURCES, DESIGN.md §3).
SOURCE_LABELS = {
    "customer": pgettext_lazy("data source", "Customer information"),
    "deposit": pgettext_lazy("data source", "Deposits"),
    "loan": pgettext_lazy("data source", "Loans"),
    "farmer_credit": pgettext_lazy("data source", "Farmer credit information"),
    "ebank": pgettext_lazy("data source", "E-banking"),
    "payroll": pgettext_lazy("data source", "Payroll"),
    "grid": pgettext_lazy("data source", "Grid data"),
    "sunshine2017": pgettext_lazy("data source", "2017 sunshine credit"),
    "blackgrey": pgettext_lazy("data source", "Black and grey lists"),
    "social_security": pgettext_lazy("data source", "Social security"),
    "real_estate": pgettext_lazy("data source", "Real estate"),
    "enterprise": pgettext_lazy("data source", "Enterprise information"),
}

# RiskFlag.flag: list entries tied to the person, and "possible_…" ones that could not be
# tied to one person and flag every plausible candidate.
FLAG_LABELS = {
    "black": pgettext_lazy("risk flag", "Black list"),
    "grey": pgettext_lazy("risk flag", "Grey list"),
    "court_defaulter": pgettext_lazy("risk flag", "Court defaulter"),
    "other": pgettext_lazy("risk flag", "Other list"),
    "possible_black": pgettext_lazy("risk flag", "Possibly on the black list"),
    "possible_grey": pgettext_lazy("risk flag", "Possibly on the grey list"),
    "possible_court_defaulter": pgettext_lazy("risk flag", "Possibly a court defaulter"),
    "possible_other": pgettext_lazy("risk flag", "Possibly on another list"),
}

# Tag families of the pool's person tags (datapool.pipeline.tags).
FAMILY_LABELS = {
    "risk": pgettext_lazy("tag family", "Risk lists"),
    "loan": pgettext_lazy("tag family", "Loans"),
    "deposit": pgettext_lazy("tag family", "Deposits"),
    "real_estate": pgettext_lazy("tag family", "Real estate"),
    "industry": pgettext_lazy("tag family", "Industry"),
    "occupation": pgettext_lazy("tag family", "Occupation"),
    "age": pgettext_lazy("tag family", "Age"),
    "gender": pgettext_lazy("tag family", "Gender"),
    "social_security": pgettext_lazy("tag family", "Social security"),
    "ebank": pgettext_lazy("tag family", "E-banking"),
    "payroll": pgettext_lazy("tag family", "Payroll"),
    "evaluation": pgettext_lazy("tag family", "Evaluation"),
    "related_persons": pgettext_lazy("tag family", "Family"),
    "education": pgettext_lazy("tag family", "Education"),
    "registration": pgettext_lazy("tag family", "Registration"),
    "contact": pgettext_lazy("tag family", "Contact"),
    "address": pgettext_lazy("tag family", "Address"),
}


@register.filter
def member_color(index: int | None) -> str:
    return MEMBER_COLORS[(index or 0) % len(MEMBER_COLORS)]


@register.filter
def member_class(index: int | None) -> int:
    """The member's colour as the number of a `.mc<N>` class of app.css (the same colours
    as `member_color`): pages carry no inline style (Content-Security-Policy)."""
    return (index or 0) % len(MEMBER_COLORS)


@register.filter
def fen_as_yuan(fen) -> str:
    """Integer fen (the pool's money) → "12,345.67 元" (the unit translated); "—" alone for
    unknown. (Whole yuan, as decisions hold them, are `decisions.explain.yuan_text`.)"""
    if fen is None or fen == "":
        return "—"
    value = (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
    return _("%(amount)s yuan") % {"amount": f"{value:,}"}


@register.filter
def tag_label(tag: str) -> str:
    """ "deposit:存款1万以下" → "存款1万以下"."""
    return tag.split(":", 1)[-1]


@register.filter
def tag_text(tag: str) -> str:
    """ "risk:黑名单" → "风险名单：黑名单": the tag with its family's name, for lists of
    tags from several families (where "黑名单" alone could be the list colour)."""
    family, _sep, value = tag.rpartition(":")
    if not family:
        return value
    return _("%(family)s: %(tag)s") % {"family": family_label(family), "tag": value}


@register.filter
def source_label(code: str | None) -> str:
    """A data source code ("grid") → its name ("网格化"); an unknown code as it is."""
    return str(SOURCE_LABELS.get(code, code or "—"))


@register.filter
def flag_label(code: str | None) -> str:
    """A risk flag code ("court_defaulter") → its name ("失信被执行人")."""
    return str(FLAG_LABELS.get(code, code or "—"))


@register.filter
def family_label(code: str | None) -> str:
    """A tag family ("deposit") → its name ("存款")."""
    return str(FAMILY_LABELS.get(code, code or "—"))


@register.filter
def color_label(code: str | None) -> str:
    """A list colour ("grey") → its ListColor label ("灰名单")."""
    return str(dict(ListColor.choices).get(code, code or "—"))


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def get_item(mapping, key):
    """`mapping[key]` in a template (None when absent or not a mapping)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


VERDICT_LABELS = {
    "white": gettext_lazy("White list"),
    "grey": gettext_lazy("Grey list"),
    "black": gettext_lazy("Black list"),
    "insufficient": gettext_lazy("Too few reviews"),
}


@register.filter
def verdict_label(color: str | None) -> str:
    """A verdict's colour in words (白名单 / 灰名单 / 黑名单 / 评议不足)."""
    return VERDICT_LABELS.get(color or "", color or "—")


@register.filter
def task_reason(reason: str) -> str:
    """Why a household is visited, in words."""
    from cunxin.visits.models import TaskReason

    try:
        return TaskReason(reason).label
    except ValueError:
        return reason


@register.filter
def distance(metres) -> str:
    """A distance in metres as people read it: "999 米" below one kilometre (after
    rounding to the metre), then kilometres with one decimal ("1.1 公里", "12.3 公里");
    "—" when unknown."""
    if metres is None or metres == "":
        return "—"
    whole = round(float(metres))
    if whole < 1000:
        return _("%(n)s m") % {"n": whole}
    return _("%(n)s km") % {"n": f"{float(metres) / 1000:,.1f}"}


@register.filter
def split(text: str) -> list[str]:
    return text.split()
