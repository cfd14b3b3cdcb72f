"""What a batch run counted, as typed values: the contract between the run that counts
(`batch.summarise`, `batch.compare`) and the pages, sheets and ratings that read the
counts. A run stores them as JSON (`BatchRun.counts`, `BatchRun.summary`) in the shape
`to_json` writes; `of_run` reads it back.

    counts = RunCounts.of_run(run)           # a pre-credit run
    counts.total.granted_households, counts.villages["V001"].amount_yuan
    WhatifCounts.of_run(run).changed_persons # a what-if
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _int(value: Any) -> int:
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts of a set of decisions: a run, a village of it, one side of a what-if.
    A person without a household is counted as a person only."""

    persons: int = 0
    households: int = 0
    granted_persons: int = 0
    granted_households: int = 0
    amount_yuan: int = 0
    credit_households: int = 0
    persons_without_household: int = 0

    @property
    def average_per_household_yuan(self) -> int:
        """Per household granted, rounded down (0 when none is)."""
        return self.amount_yuan // self.granted_households if self.granted_households else 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Tally)))

    @classmethod
    def of(cls, data: Mapping | None) -> Tally:
        data = data or {}
        return cls(**{f.name: _int(data.get(f.name)) for f in fields(cls)})

    def to_json(self) -> dict:
        return {**asdict(self), "average_per_household_yuan": self.average_per_household_yuan}


@dataclass(frozen=True, slots=True)
class GradeTally:
    persons: int = 0
    amount_yuan: int = 0


@dataclass(frozen=True)
class RunCounts:
    """A pre-credit run's counts, or one side of a what-if: the total, by grade, by hard
    stop and approval route, and by village."""

    total: Tally = field(default_factory=Tally)
    by_grade: dict[str, GradeTally] = field(default_factory=dict)
    hard_stops: dict[str, int] = field(default_factory=dict)
    routes: dict[str, int] = field(default_factory=dict)
    villages: dict[str, Tally] = field(default_factory=dict)

    def counts_json(self) -> dict:
        return {
            **self.total.to_json(),
            "by_grade": {g: asdict(t) for g, t in self.by_grade.items()},
            "hard_stops": dict(self.hard_stops), "routes": dict(self.routes),
        }  # fmt: skip

    def to_json(self) -> tuple[dict, dict]:
        """(BatchRun.counts, BatchRun.summary)."""
        return self.counts_json(), {
            "villages": {code: t.to_json() for code, t in self.villages.items()}
        }

    @classmethod
    def of(cls, counts: Mapping | None, villages: Mapping | None = None) -> RunCounts:
        counts = counts or {}
        return cls(
            total=Tally.of(counts),
            by_grade={
                g: GradeTally(_int(t.get("persons")), _int(t.get("amount_yuan")))
                for g, t in (counts.get("by_grade") or {}).items()
            },
            hard_stops={k: _int(v) for k, v in (counts.get("hard_stops") or {}).items()},
            routes={k: _int(v) for k, v in (counts.get("routes") or {}).items()},
            villages={code: Tally.of(t) for code, t in (villages or {}).items()},
        )  # fmt: skip

    @classmethod
    def of_run(cls, run) -> RunCounts:
        """A pre-credit run's counts (empty before it succeeded)."""
        return cls.of(run.counts, (run.summary or {}).get("villages"))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a person gets under one policy (one side of a what-if change)."""

    grade: str
    final_yuan: int
    hard_stops: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"grade": self.grade, "final_yuan": self.final_yuan, "hard_stops": list(self.hard_stops)}  # fmt: skip

    @classmethod
    def of(cls, data: Mapping | None) -> Outcome:
        data = data or {}
        return cls(data.get("grade", ""), _int(data.get("final_yuan")), tuple(data.get("hard_stops") or ()))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """A person whose outcome a what-if changes."""

    person: str
    household: str
    village: str
    before: Outcome
    after: Outcome


@dataclass(frozen=True)
class WhatifCounts:
    """A what-if's result: both sides' counts (each with its villages), how many persons
    and households change, and the first changes (all are counted)."""

    persons: int
    changed_persons: int
    changed_households: int
    before: RunCounts
    after: RunCounts
    changes: list[Change]

    def to_json(self) -> tuple[dict, dict]:
        """(BatchRun.counts, BatchRun.summary)."""
        counts = {
            "persons": self.persons, "changed_persons": self.changed_persons,
            "changed_households": self.changed_households,
            "before": self.before.counts_json(), "after": self.after.counts_json(),
        }  # fmt: skip
        summary = {
            "villages": {
                code: {"before": t.to_json(), "after": self.after.villages.get(code, Tally()).to_json()}
                for code, t in self.before.villages.items()
            },
            "changes": [
                {"person": c.person, "household": c.household, "village": c.village,
                 "before": c.before.to_json(), "after": c.after.to_json()}
                for c in self.changes
            ],
        }  # fmt: skip
        return counts, summary

    @classmethod
    def of_run(cls, run) -> WhatifCounts:
        counts, summary = run.counts or {}, run.summary or {}
        villages = summary.get("villages") or {}
        return cls(
            persons=_int(counts.get("persons")),
            changed_persons=_int(counts.get("changed_persons")),
            changed_households=_int(counts.get("changed_households")),
            before=RunCounts.of(counts.get("before"), {c: v.get("before") for c, v in villages.items()}),
            after=RunCounts.of(counts.get("after"), {c: v.get("after") for c, v in villages.items()}),
            changes=[
                Change(c["person"], c.get("household", ""), c.get("village", ""),
                       Outcome.of(c.get("before")), Outcome.of(c.get("after")))
                for c in summary.get("changes") or []
            ],
        )  # fmt: skip
