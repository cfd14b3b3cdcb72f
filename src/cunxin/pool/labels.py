"""The customer pool's words and colours as staff see them: a household member's colour,
the data sources, risk flags, tag families and list colours in Chinese. The template
filters of `project.templatetags.cunxin` are these functions; code of any stage above the
pool uses them directly."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from cunxin.pool.models import ListColor

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


def member_color(index: int | None) -> str:
    return MEMBER_COLORS[(index or 0) % len(MEMBER_COLORS)]


def member_class(index: int | None) -> int:
    """The member's colour as the number of a `.mc<N>` class of app.css (the same colours
    as `member_color`): pages carry no inline style (Content-Security-Policy)."""
    return (index or 0) % len(MEMBER_COLORS)


def source_label(code: str | None) -> str:
    """A data source code ("grid") → its name ("网格化"); an unknown code as it is."""
    return str(SOURCE_LABELS.get(code, code or "—"))


def flag_label(code: str | None) -> str:
    """A risk flag code ("court_defaulter") → its name ("失信被执行人")."""
    return str(FLAG_LABELS.get(code, code or "—"))


def family_label(code: str | None) -> str:
    """A tag family ("deposit") → its name ("存款")."""
    return str(FAMILY_LABELS.get(code, code or "—"))


def color_label(code: str | None) -> str:
    """A list colour ("grey") → its ListColor label ("灰名单")."""
    return str(dict(ListColor.choices).get(code, code or "—"))
