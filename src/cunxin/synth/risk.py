"""Loans of the last six years and the hidden model that decides how they ended.

About a fifth of households borrowed (the head, sometimes the spouse), some several
times in a row: 农户小额信用贷款, 联保贷款, 个人经营贷款, 个人消费贷款 of 10,000 to
300,000 yuan over 1-3 years. Whether a loan goes bad is drawn from a logistic model over
the borrower's TRUE attributes -- latent risk propensity, gambling and other vices,
informal debts, household income and savings, age, family size, the household's trade
(laver and livestock are volatile), and the size of the loan -- calibrated to a bad rate
of about 6.5%. A bad loan is overdue (1-90 days) or in default (more than 90 days, or
written off, 核销); after a bad loan the bank lends no more. Status, balance and maximum
days overdue in the ODS file follow from the outcome; the outcome itself is ground
truth, so a scorecard built on the pooled features can be scored honestly.
"""

from __future__ import annotations

import numpy as np

from .common import (
    DAYS_PER_YEAR,
    TODAY,
    categorical,
    chance,
    fmt_compact,
    fmt_money,
    sigmoid,
    stage_rng,
    weighted_sample,
)
from .context import Context, LoanBook
from .idgen import messy_ids
from .names import INDUSTRIES
from .ods import ODS_ID_MESS, ods_file, unique_numbers
from .output import BreakPlan, Table, write_ods

TARGET_BAD_RATE = 0.065
BORROWING_SHARE = 0.20
FIRST_DAY = np.datetime64("2020-12-01")

# product, amount range (yuan), median amount, terms (months), annual rate range
PRODUCTS = (
    ("农户小额信用贷款", (10_000, 100_000), 50_000, (12, 24, 36), (0.0435, 0.0620)),
    ("农户联保贷款", (30_000, 150_000), 80_000, (12, 24), (0.0500, 0.0680)),
    ("个人经营贷款", (50_000, 300_000), 150_000, (12, 24, 36), (0.0450, 0.0750)),
    ("个人消费贷款", (10_000, 100_000), 30_000, (12, 24, 36), (0.0520, 0.0750)),
)
INDUSTRY_RISK = {
    "紫菜养殖": 0.25, "设施蔬菜": 0.0, "稻麦种植": -0.1, "水产养殖": 0.15,
    "畜禽养殖": 0.2, "电商": 0.1, "食用菌": 0.05, "无": 0.2,
}  # fmt: skip


def _borrowers(rng: np.random.Generator, ctx: Context) -> np.ndarray:
    """One borrowing person per borrowing household (head, or spouse), all customers."""
    pop, book = ctx.pop, ctx.customers
    assert book is not None
    head = pop.hh_first
    head_age = pop.age[head]
    weight = np.where((head_age >= 25) & (head_age <= 68), 1.0, 0.25)
    weight *= np.where(pop.hh_industry == INDUSTRIES.index("无"), 1.0, 2.0)
    debt_hh = np.bincount(pop.household, weights=pop.informal_debt, minlength=pop.hh_count) > 0
    weight *= np.where(debt_hh, 1.5, 1.0)
    hh = weighted_sample(rng, weight, round(BORROWING_SHARE * pop.hh_count))
    person = pop.hh_first[hh].copy()
    spouse = pop.hh_spouse[hh]
    use_spouse = (spouse >= 0) & chance(rng, len(hh), 0.2)
    person[use_spouse] = spouse[use_spouse]
    not_customer = book.primary_row[person] < 0
    person[not_customer] = spouse[not_customer]  # fall back to the other one
    ok = (person >= 0) & (book.primary_row[np.maximum(person, 0)] >= 0)
    return person[ok]


def _risk_logit(
    ctx: Context, person: np.ndarray, amount: np.ndarray, age_at_start: np.ndarray
) -> np.ndarray:
    pop = ctx.pop
    hh = pop.household[person]
    industry = np.array([INDUSTRY_RISK[x] for x in INDUSTRIES])[pop.hh_industry[hh]]
    return (
        1.0 * pop.risk[person]
        + 1.5 * pop.gambling[person]
        + 0.8 * pop.other_vice[person]
        + 0.9 * pop.informal_debt[person]
        - 0.6 * np.log(pop.hh_income[hh] / 60_000)
        - 0.25 * (pop.hh_deposits[hh] >= 50_000)
        + 0.35 * (age_at_start >= 60)
        + 0.25 * (age_at_start < 30)
        + 0.2 * (pop.hh_size[hh] >= 6)
        + industry
        + 0.3 * np.log(amount / 50_000)
    )


def _calibrate(logit: np.ndarray, target: float) -> float:
    lo, hi = -15.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(logit + mid).mean() > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Same day of the month, `months` later (the month's last day if it is shorter)."""
    month = days.astype("datetime64[M]")
    offset = days - month.astype("datetime64[D]")
    target = month + months.astype("timedelta64[M]")
    last_day = (target + 1).astype("datetime64[D]") - 1
    return np.minimum(target.astype("datetime64[D]") + offset, last_day)


def build_loans(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "loan")
    pop, book = ctx.pop, ctx.customers
    assert book is not None
    borrowers = _borrowers(rng, ctx)
    n_loans = categorical(rng, [0, 0.6, 0.28, 0.12], len(borrowers))
    person = np.repeat(borrowers, n_loans)
    seq_in_borrower = np.arange(len(person)) - np.repeat(np.cumsum(n_loans) - n_loans, n_loans)
    n = len(person)
    hh = pop.household[person]

    business = pop.hh_industry[hh] != INDUSTRIES.index("无")
    product = np.where(
        business,
        categorical(rng, [0.45, 0.15, 0.3, 0.1], n),
        categorical(rng, [0.5, 0.15, 0.1, 0.25], n),
    )
    lo = np.array([p[1][0] for p in PRODUCTS])[product]
    hi = np.array([p[1][1] for p in PRODUCTS])[product]
    median = np.array([p[2] for p in PRODUCTS])[product]
    amount = median * np.sqrt(pop.hh_income[hh] / 80_000) * rng.lognormal(0, 0.4, n)
    amount = np.clip(np.round(amount, -3), lo, hi)
    rate_lo = np.array([p[4][0] for p in PRODUCTS])[product]
    rate_hi = np.array([p[4][1] for p in PRODUCTS])[product]
    rate = np.round(rate_lo + rng.random(n) * (rate_hi - rate_lo), 4)
    term = np.array(
        [PRODUCTS[k][3][int(rng.integers(0, len(PRODUCTS[k][3])))] for k in product.tolist()]
    )

    # dates: consecutive loans of one borrower follow each other
    borrower = np.repeat(np.arange(len(borrowers)), n_loans)
    spread = np.where(n_loans == 1, 2150, 900)
    cursor = FIRST_DAY + rng.integers(0, spread).astype("timedelta64[D]")
    customer_since = book.open_date[book.primary_row[borrowers]]  # no loan before that
    cursor = np.maximum(cursor, customer_since + rng.integers(0, 90, len(borrowers)))
    start = np.empty(n, dtype="datetime64[D]")
    end = np.empty(n, dtype="datetime64[D]")
    for k in range(int(n_loans.max(initial=0))):
        rows = np.flatnonzero(seq_in_borrower == k)
        b = borrower[rows]
        start[rows] = cursor[b] + rng.integers(0, 200, len(rows)).astype("timedelta64[D]")
        end[rows] = add_months(start[rows], term[rows])
        renew_early = chance(rng, len(rows), 0.3)
        cursor[b] = np.where(
            renew_early, add_months(start[rows], np.full(len(rows), 12)), end[rows]
        )
    started = start <= TODAY - 20

    age_at_start = np.floor((start - pop.birth[person]).astype(np.int64) / DAYS_PER_YEAR)
    logit = _risk_logit(ctx, person, amount, age_at_start)
    p_bad = sigmoid(logit + _calibrate(logit[started], TARGET_BAD_RATE))
    bad = chance(rng, n, p_bad)

    # no new loan after a bad one
    keep = started.copy()
    stopped = False
    for i in range(n):
        if seq_in_borrower[i] == 0:
            stopped = False
        if stopped:
            keep[i] = False
        elif keep[i] and bad[i]:
            stopped = True
    rows = np.flatnonzero(keep)
    person, product, amount, rate = person[rows], product[rows], amount[rows], rate[rows]
    start, end, bad, p_bad = start[rows], end[rows], bad[rows], p_bad[rows]
    n = len(rows)

    outcome, status, balance, days = _outcomes(rng, start, end, amount, bad)

    order = np.lexsort((np.arange(n), start))
    numbers = np.empty(n, dtype=np.int64)
    numbers[order] = unique_numbers(rng, n, 0, 9)
    year = start.astype("datetime64[Y]").astype(np.int64) + 1970
    contract_no = [f"DK{y}{k:08d}" for y, k in zip(year.tolist(), numbers.tolist(), strict=True)]

    second = book.second_row[person]
    use_second = (second >= 0) & (start < np.datetime64("2022-01-01")) & chance(rng, n, 0.3)
    cust_row = np.where(use_second, second, book.primary_row[person])
    table = Table(
        "loan",
        [
            contract_no,
            [book.cust_no[r] for r in cust_row.tolist()],
            messy_ids(rng, ctx.ids(person), **ODS_ID_MESS),
            ctx.names(person),
            [PRODUCTS[k][0] for k in product.tolist()],
            fmt_money(amount),
            fmt_compact(start),
            fmt_compact(end),
            [f"{r:.4f}" for r in rate.tolist()],
            fmt_money(balance),
            status,
            days.astype(str).tolist(),
        ],
        person,
    )
    active = np.isin(np.array(status), ["正常", "逾期"])
    ctx.loans = LoanBook(person, contract_no, outcome, balance * active, active, p_bad)
    table = table.order_by_key()
    plan = BreakPlan.make(
        rng,
        table,
        kinds={"field_count": None, "bad_amount": "amount", "bad_date": "start_date"},
    )
    ctx.row_counts["loan"] = write_ods(
        ctx.raw / "ods", ods_file("loan"), table, plan, ctx.truth, rng
    )


def _outcomes(
    rng: np.random.Generator,
    start: np.ndarray,
    end: np.ndarray,
    amount: np.ndarray,
    bad: np.ndarray,
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """True outcome, ODS status, outstanding balance and maximum days overdue."""
    n = len(start)
    matured = end < TODAY
    since_start = (TODAY - start).astype(np.int64)
    since_end = (TODAY - end).astype(np.int64)
    severe = chance(rng, n, 0.45)
    active_days = np.where(severe, rng.integers(91, 541, n), rng.integers(1, 91, n))
    active_days = np.clip(active_days, 1, np.maximum(1, since_start - 30))
    bad_days = np.where(matured, since_end + rng.integers(0, 60, n), active_days)
    early = chance(rng, n, 0.12)
    remaining = np.clip(
        (end - TODAY).astype(np.int64) / np.maximum(1, (end - start).astype(np.int64)), 0, 1
    )

    outcome: list[str] = []
    status: list[str] = []
    balance = np.zeros(n)
    days = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    share = rng.uniform(0.3, 1.0, n)
    minor = rng.integers(1, 30, n)
    for i in range(n):
        if bad[i]:
            d = int(bad_days[i])
            days[i] = d
            balance[i] = round(amount[i] * share[i], 2)
            if d > 90:
                outcome.append("default")
                status.append("核销" if d > 360 and u[i] < 0.6 else "逾期")
            else:
                outcome.append("overdue")
                status.append("逾期")
        elif matured[i] or early[i]:
            outcome.append("repaid")
            status.append("结清")
            days[i] = minor[i] if u[i] < 0.08 else 0
        else:
            outcome.append("current")
            status.append("正常")
            balance[i] = round(amount[i] * (0.5 + 0.5 * remaining[i]) * share[i] ** 0.2, 2)
            days[i] = min(15, minor[i]) if u[i] < 0.05 else 0
    return outcome, status, balance, days
