"""What the source builders share: the county, its people, and how sources describe them.

Sources rarely agree on how to write the same fact. Addresses come in several shapes
(with or without province and county, 第三组 or 三组, with or without the door number),
and a source may hold a phone number the person no longer uses, or the family's phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cunxin.datapool.sources import SOURCES_BY_NAME

from .common import Progress, categorical, categorical_rows, chance
from .geography import Geography
from .names import chinese_number
from .output import Truth
from .population import Population


@dataclass
class CustomerBook:
    """The bank's customer numbers: one primary per customer, a second for some."""

    person: np.ndarray  # per customer row
    cust_no: list[str]
    primary: np.ndarray  # bool per row
    open_date: np.ndarray  # datetime64[D] per row
    primary_row: np.ndarray  # per person: row of the primary cust_no, -1 if not a customer
    second_row: np.ndarray  # per person: row of the second cust_no, -1 if none


@dataclass
class LoanBook:
    """Loans of the last six years with their true outcome."""

    person: np.ndarray
    contract_no: list[str]
    outcome: list[str]  # repaid / current / overdue / default
    balance: np.ndarray  # yuan outstanding on the books
    active: np.ndarray  # bool: not repaid and not written off
    p_bad: np.ndarray  # the hidden model's probability that the loan goes bad


@dataclass
class Context:
    seed: int
    raw: Path
    geo: Geography
    pop: Population
    truth: Truth
    progress: Progress
    customers: CustomerBook | None = None
    loans: LoanBook | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    _place: dict[str, list[str]] = field(default_factory=dict)

    # ------------------------------------------------------------ places of households

    def place(self, what: str) -> list[str]:
        """Per household: township / village / group / group_short / door text."""
        if not self._place:
            geo, pop = self.geo, self.pop
            town = [t.name for t in geo.townships]
            group_village = geo.group_village.tolist()
            village_of_group = [geo.village_name[v] for v in group_village]
            town_of_group = [town[geo.village_township[v]] for v in group_village]
            short = [f"{chinese_number(int(c[-3:]))}组" for c in geo.group_code]
            groups = pop.hh_group.tolist()
            self._place = {
                "township": [town_of_group[g] for g in groups],
                "village": [village_of_group[g] for g in groups],
                "group": [geo.group_name[g] for g in groups],
                "group_short": [short[g] for g in groups],
                "door": [f"{d}号" for d in pop.hh_door.tolist()],
                "village_code": [geo.village_code[v] for v in pop.hh_village.tolist()],
                "group_code": [geo.group_code[g] for g in groups],
            }
        return self._place[what]

    def addresses(
        self, rng: np.random.Generator, persons: np.ndarray, shares: np.ndarray
    ) -> list[str]:
        """Address text in one of five shapes; shares over the shapes, in this order, for
        all rows (k,) or per row (n, k):
        江苏省灌云县伊山镇东湖村第三组18号 / 灌云县伊山镇东湖村三组18号 / 伊山镇东湖村第三组 /
        江苏省连云港市灌云县伊山镇东湖村 / 伊山镇东湖村18号
        """
        t, v = self.place("township"), self.place("village")
        g, gs, d = self.place("group"), self.place("group_short"), self.place("door")
        shares = np.asarray(shares, dtype=float)
        if shares.ndim == 1:
            shape = categorical(rng, shares, len(persons)).tolist()
        else:
            shape = categorical_rows(rng, shares).tolist()
        out = []
        for h, k in zip(self.pop.household[persons].tolist(), shape, strict=True):
            if k == 0:
                out.append(f"江苏省灌云县{t[h]}{v[h]}{g[h]}{d[h]}")
            elif k == 1:
                out.append(f"灌云县{t[h]}{v[h]}{gs[h]}{d[h]}")
            elif k == 2:
                out.append(f"{t[h]}{v[h]}{g[h]}")
            elif k == 3:
                out.append(f"江苏省连云港市灌云县{t[h]}{v[h]}")
            else:
                out.append(f"{t[h]}{v[h]}{d[h]}")
        return out

    # ------------------------------------------------------------ people as sources see them

    def names(self, persons: np.ndarray) -> list[str]:
        name = self.pop.name
        return [name[p] for p in persons.tolist()]

    def ids(self, persons: np.ndarray) -> list[str]:
        id18 = self.pop.id18
        return [id18[p] for p in persons.tolist()]

    def phones(
        self,
        rng: np.random.Generator,
        persons: np.ndarray,
        *,
        conflict: float = 0.05,
        own_only: bool = False,
    ) -> list[str | None]:
        """The phone a source holds: usually the person's (or the family's), sometimes
        another number (an old one, a relative's) -- a conflicting phone."""
        base = self.pop.phone if own_only else self.pop.contact_phone
        alt = self.pop.alt_phone
        other = chance(rng, len(persons), conflict)
        return [
            alt[p] if o else base[p] for p, o in zip(persons.tolist(), other.tolist(), strict=True)
        ]

    def tick(self, step: str, done: int, total: int) -> None:
        self.progress(step, done, total)


def raw_path(ctx: Context, source: str) -> Path:
    """Where a source's file goes under RAW/ (the path of the contract in sources.py)."""
    return ctx.raw / SOURCES_BY_NAME[source].path


def native_headers(source: str) -> list[str]:
    """A source's header row as the bank's file writes it."""
    return [c.native for c in SOURCES_BY_NAME[source].columns]
