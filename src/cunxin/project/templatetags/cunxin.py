"""Template filters for money, member colours and tags."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

# Eight colours that stay apart for colour-blind viewers too (Okabe–Ito, plus two greys
# of different lightness); a household member keeps hers wherever the household appears.
MEMBER_COLORS = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7F6A00", "#555555",
)  # fmt: skip


@register.filter
def member_color(index: int | None) -> str:
    return MEMBER_COLORS[(index or 0) % len(MEMBER_COLORS)]


@register.filter
def yuan(fen) -> str:
    """Integer fen → "12,345.67" (元); empty for unknown."""
    if fen is None or fen == "":
        return "—"
    value = (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
    return f"{value:,}"


@register.filter
def tag_label(tag: str) -> str:
    """ "deposit:存款1万以下" → "存款1万以下"."""
    return tag.split(":", 1)[-1]


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)
