"""Masking of personal data for display and export (DESIGN.md §6).

Staff see a phone as first 3 + last 4, an ID as first 6 + last 4, a bank card as last 4;
evaluators (villagers) see an ID as first 1 + last 1. Masks keep the length, so a masked
value still looks like what it is.
"""

from __future__ import annotations


def _mask(value: str | None, head: int, tail: int) -> str:
    if not value:
        return ""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_phone(phone: str | None) -> str:
    return _mask(phone, 3, 4)


def mask_id_for_staff(id_number: str | None) -> str:
    return _mask(id_number, 6, 4)


def mask_id_for_evaluator(id_number: str | None) -> str:
    return _mask(id_number, 1, 1)


def mask_card(card: str | None) -> str:
    return _mask(card, 0, 4)


def mask_name(name: str | None) -> str:
    """张三丰 → 张*丰, 张三 → 张*: for pages that show people outside the viewer's scope."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
