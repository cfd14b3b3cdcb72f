"""A verdict's colour in words, as staff see it (the `verdict_label` template filter)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

VERDICT_LABELS = {
    "white": gettext_lazy("White list"),
    "grey": gettext_lazy("Grey list"),
    "black": gettext_lazy("Black list"),
    "insufficient": gettext_lazy("Too few reviews"),
}


def verdict_label(color: str | None) -> str:
    """A verdict's colour in words (白名单 / 灰名单 / 黑名单 / 评议不足)."""
    return VERDICT_LABELS.get(color or "", color or "—")
