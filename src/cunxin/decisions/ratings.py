"""信用户 and 信用村 (DESIGN.md §5): a village's rating from its latest batch pre-credit run
and its borrowers' loan records, judged against the policy in force.

    rows = village_ratings(villages, from_data(policy_in_force().data).credit_village)

For each village:
- households and 信用户 households come from the latest succeeded pre-credit run that
  covers the village — a run of the village, of its branch or of the county, whichever
  finished last (and that decided someone there: a branch run from before the village
  moved to the branch does not count);
- borrowers are the village's persons with a current loan (`loans_current` > 0 in the
  360 profile's `credit`); without arrears: `max_overdue_days` == 0; non-performing:
  `has_bad_loan`;
- 信用村: every criterion of `CreditVillageCriteria` met — 信用户 share of households at
  least `min_credit_household_share`, share of borrowers without arrears at least
  `min_borrowers_without_arrears_share`, NPL ratio below `max_npl_ratio`. A village
  without borrowers meets the two borrower criteria (it has no arrears and no bad loan);
  a village without a run is not rated.

Shares are exact fractions, so 7 of 10 meets 70% whatever floats would say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db import connection
from django.db.models import Q

from cunxin.credit.policy import CreditVillageCriteria
from cunxin.decisions.models import BatchRun
from cunxin.decisions.tallies import RunCounts, Tally
from cunxin.org.models import Village

CRITERIA = ("min_credit_household_share", "min_borrowers_without_arrears_share", "max_npl_ratio")


@dataclass(frozen=True)
class Criterion:
    """One 信用村 criterion: the policy's field name and threshold, the village's value
    (None when it cannot be computed) and whether it is met."""

    name: str
    threshold: float
    value: Fraction | None
    met: bool


@dataclass(frozen=True)
class RunRef:
    pk: int
    scope_kind: str
    scope_code: str
    scope_name: str
    finished_at: dt.datetime | None


@dataclass
class VillageRating:
    village: Village
    run: RunRef | None
    households: int = 0
    credit_households: int = 0
    borrowers: int = 0
    borrowers_without_arrears: int = 0
    bad_borrowers: int = 0
    criteria: list[Criterion] = field(default_factory=list)

    @property
    def credit_household_share(self) -> Fraction | None:
        return share(self.credit_households, self.households)

    @property
    def without_arrears_share(self) -> Fraction | None:
        return share(self.borrowers_without_arrears, self.borrowers)

    @property
    def npl_ratio(self) -> Fraction | None:
        return share(self.bad_borrowers, self.borrowers)

    @property
    def credit_village(self) -> bool | None:
        """信用村 or not; None without a run (the households are not rated yet)."""
        if self.run is None:
            return None
        return all(c.met for c in self.criteria)


def share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def percent(value: Fraction | None, places: int = 1) -> str:
    """Fraction(7, 10) → "70.0%"; None → "—"."""
    if value is None:
        return "—"
    exact = Decimal(value.numerator) * 100 / Decimal(value.denominator)
    return f"{exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}%"


def criteria_for(
    policy: CreditVillageCriteria,
    *,
    rated: bool,
    households: int,
    credit_households: int,
    borrowers: int,
    borrowers_without_arrears: int,
    bad_borrowers: int,
) -> list[Criterion]:
    """The three criteria of `policy` for a village's counts (in `CRITERIA` order)."""
    limit = {name: Fraction(str(getattr(policy, name))) for name in CRITERIA}
    households_share = share(credit_households, households) if rated else None
    clean = share(borrowers_without_arrears, borrowers)
    npl = share(bad_borrowers, borrowers)
    return [
        Criterion(
            "min_credit_household_share",
            policy.min_credit_household_share,
            households_share,
            households_share is not None
            and households_share >= limit["min_credit_household_share"],
        ),
        Criterion(
            "min_borrowers_without_arrears_share",
            policy.min_borrowers_without_arrears_share,
            clean,
            clean is None or clean >= limit["min_borrowers_without_arrears_share"],
        ),
        Criterion(
            "max_npl_ratio", policy.max_npl_ratio, npl, npl is None or npl < limit["max_npl_ratio"]
        ),
    ]


# --- where the numbers come from ---------------------------------------------------------------
def latest_runs(villages: list[Village]) -> dict[str, tuple[RunRef, Tally]]:
    """village code → (the latest succeeded pre-credit run covering it, its counts for
    the village from `summary["villages"]`). Two queries, plus one per run whose summary
    is read (usually one or two)."""
    codes = [v.code for v in villages]
    branches = sorted({v.branch_id for v in villages if v.branch_id})
    if not codes:
        return {}
    candidates = [
        RunRef(*row)
        for row in BatchRun.objects.filter(
            Q(scope_kind=BatchRun.ScopeKind.VILLAGE, scope_code__in=codes)
            | Q(scope_kind=BatchRun.ScopeKind.BRANCH, scope_code__in=branches)
            | Q(scope_kind=BatchRun.ScopeKind.COUNTY),
            purpose=BatchRun.Purpose.PRECREDIT,
            status=BatchRun.Status.SUCCEEDED,
        )
        .order_by("-finished_at", "-pk")
        .values_list("pk", "scope_kind", "scope_code", "scope_name", "finished_at")
    ]
    summaries: dict[int, dict[str, Tally]] = {}

    def village_counts(run: RunRef, code: str) -> Tally | None:
        if run.pk not in summaries:
            summary = BatchRun.objects.filter(pk=run.pk).values_list("summary", flat=True).first()
            summaries[run.pk] = RunCounts.of({}, (summary or {}).get("villages")).villages
        return summaries[run.pk].get(code)

    out: dict[str, tuple[RunRef, Tally]] = {}
    for v in villages:
        for run in candidates:
            covers = (
                run.scope_kind == BatchRun.ScopeKind.COUNTY
                or (run.scope_kind == BatchRun.ScopeKind.VILLAGE and run.scope_code == v.code)
                or (run.scope_kind == BatchRun.ScopeKind.BRANCH and run.scope_code == v.branch_id)
            )
            if covers and (counts := village_counts(run, v.code)) is not None:
                out[v.code] = (run, counts)
                break
    return out


def _credit_fields() -> tuple[str, str]:
    """The profile's credit figures as SQL columns lc, od, bad (see `inputs._profile_sql`:
    the profile is JSON text, parsed once per person)."""
    if connection.vendor == "postgresql":
        return (
            "(j.doc #>> '{credit,loans_current}')::bigint AS lc, "
            "(j.doc #>> '{credit,max_overdue_days}')::bigint AS od, "
            "COALESCE((j.doc #>> '{credit,has_bad_loan}') IN ('true', '1'), FALSE) AS bad",
            "CROSS JOIN LATERAL (SELECT p.profile::jsonb AS doc OFFSET 0) j",
        )
    return (
        "CAST(json_extract(p.profile, '$.credit.loans_current') AS INTEGER) AS lc, "
        "CAST(json_extract(p.profile, '$.credit.max_overdue_days') AS INTEGER) AS od, "
        "COALESCE(json_extract(p.profile, '$.credit.has_bad_loan') IN (1, 'true', '1'), 0) AS bad",
        "",
    )


def borrower_counts(codes: list[str]) -> dict[str, tuple[int, int, int]]:
    """village code → (borrowers, borrowers without arrears, borrowers with a bad loan),
    over the village's living persons. One query (a scan of the villages' persons)."""
    if not codes:
        return {}
    fields, join = _credit_fields()
    marks = ", ".join(["%s"] * len(codes))
    sql = (
        "SELECT village_id, COUNT(*), "
        "SUM(CASE WHEN COALESCE(od, 0) = 0 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN bad THEN 1 ELSE 0 END) "
        f"FROM (SELECT p.village_id, {fields} FROM pool_person p {join} "
        f"WHERE p.retired_at IS NULL AND p.village_id IN ({marks})) t "
        "WHERE lc > 0 GROUP BY village_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, codes)
        return {code: (int(n), int(clean or 0), int(bad or 0)) for code, n, clean, bad in cursor}


def village_ratings(villages, policy: CreditVillageCriteria) -> list[VillageRating]:
    """The rating of each village (in the given order)."""
    villages = list(villages)
    runs = latest_runs(villages)
    loans = borrower_counts([v.code for v in villages])
    out = []
    for v in villages:
        run, counts = runs.get(v.code, (None, Tally()))
        borrowers, clean, bad = loans.get(v.code, (0, 0, 0))
        numbers = {
            "households": counts.households,
            "credit_households": counts.credit_households,
            "borrowers": borrowers,
            "borrowers_without_arrears": clean,
            "bad_borrowers": bad,
        }
        criteria = criteria_for(policy, rated=run is not None, **numbers)
        out.append(VillageRating(village=v, run=run, criteria=criteria, **numbers))
    return out
