"""What later stages add to the customer 360 page (客户360画像).

The pool comes before evaluation and credit, so it does not import them: a stage that has
something to say about a person registers a function, in its AppConfig.ready(), that
gives its part of the page's context (and the template it includes). The 360 view asks
every registered section, in the order they registered.

    sections.register("credit_decision", "decisions/_credit.html", credit_context)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    name: str  # its context variable on the page
    template: str
    context: Callable[[Any, Any], dict]  # (scope, person) → the section's context


_sections: dict[str, Section] = {}


def register(name: str, template: str, context: Callable[[Any, Any], dict]) -> None:
    _sections[name] = Section(name, template, context)


def for_person(scope, person) -> tuple[dict[str, dict], list[Section]]:
    """Every section's context for the person (by its name) and the sections in order."""
    sections = list(_sections.values())
    return {s.name: s.context(scope, person) for s in sections}, sections
