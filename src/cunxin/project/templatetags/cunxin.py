"""Template filters for money, member colours, tags and the codes the pool carries
(data sources, risk flags, tag families, list colours), shown as translated labels."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from cunxin.evaluation.labels import verdict_label
from cunxin.pool.labels import (
    color_label,
    family_label,
    flag_label,
    member_class,
    member_color,
    source_label,
)
from cunxin.visits.models import TaskReason

register = template.Library()
# the words and colours of the stages, as filters (defined where the stage is)
for _filter in (color_label, family_label, flag_label, member_class, member_color,
                source_label, verdict_label):  # fmt: skip
    register.filter(_filter.__name__, _filter)


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
def get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def get_item(mapping, key):
    """`mapping[key]` in a template (None when absent or not a mapping)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def task_reason(reason: str) -> str:
    """Why a household is visited, in words."""
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
