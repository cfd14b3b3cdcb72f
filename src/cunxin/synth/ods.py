"""The province union's ODS feed: customer master, deposit accounts, farmer credit files.

Realism modelled here:
- The customer master (客户信息) holds nearly every adult and many children (savings
  accounts for school subsidies). Customers who banked at another branch before the
  core-system merger carry a second customer number with an older address text, an old
  or missing phone, and sometimes their legacy 15-digit ID. The row count is pinned to
  round(869554 * scale), the number of records Guanyun collected.
- Clerk-typed values: mistyped ID digits, full-width digits, lowercase x, spaces,
  birth dates in four formats, phones with +86 / 86- / spaces or missing, empty village
  codes.
- Deposits: 1-3 accounts for three quarters of customers, balances lognormal and tied
  to the household's hidden savings, closed and frozen accounts.
- Farmer credit files (农户信用信息): one per household for two thirds of households,
  keyed by the head's ID, with ratings that follow the hidden risk only loosely, incomes
  and assets in 万元, family size sometimes stale.
"""

from __future__ import annotations

import numpy as np

from cunxin.datapool.sources import SOURCES_BY_NAME

from .common import (
    DAYS_PER_YEAR,
    TODAY,
    categorical,
    categorical_rows,
    chance,
    fmt_compact,
    fmt_dates_mixed,
    fmt_money,
    fmt_wan,
    random_dates,
    sigmoid,
    stage_rng,
    weighted_sample,
)
from .context import Context, CustomerBook
from .idgen import can_be_legacy, legacy15, messy_ids, messy_phones, pad_spaces
from .names import INDUSTRIES
from .output import BreakPlan, Table, write_ods

REFERENCE_CUSTOMER_ROWS = 869_554
DUPLICATE_LINE_RATE = 0.001
ODS_ID_MESS = {"typo": 0.01, "legacy": 0.005, "fullwidth": 0.003, "lower_x": 0.003}
ODS_ID_MESS |= {"spaces": 0.005}


def ods_file(source: str) -> str:
    return SOURCES_BY_NAME[source].path.split("/", 1)[1]


def unique_numbers(rng: np.random.Generator, n: int, start: int, max_gap: int = 40) -> np.ndarray:
    """Increasing distinct integers with random gaps, like numbers issued over time."""
    return start + np.cumsum(rng.integers(1, max_gap + 1, size=n))


# ---------------------------------------------------------------- customers


def _choose_customers(
    rng: np.random.Generator, ctx: Context, target: int
) -> tuple[np.ndarray, np.ndarray]:
    """Persons with a primary customer number, and those who also have a second one."""
    pop = ctx.pop
    age = pop.age
    p = np.select([age >= 16, age >= 12, age >= 6], [0.96, 0.75, 0.55], default=0.3)
    is_customer = chance(rng, pop.n, p)
    primary = np.flatnonzero(is_customer)
    n_second = target - len(primary)
    if n_second < 0:  # a small county with too many: drop some at random
        primary = np.sort(rng.choice(primary, size=target, replace=False))
        n_second = 0
    older = np.clip((age[primary] - 25) / 20, 0.05, 2.5)  # old accounts: older people
    second = primary[weighted_sample(rng, older, min(n_second, len(primary)))]
    return primary, second


def build_customers(ctx: Context, scale: float) -> None:
    rng = stage_rng(ctx.seed, "customer")
    pop = ctx.pop
    # the file holds exactly round(869554 * scale) lines, exact duplicate lines included
    target_lines = round(REFERENCE_CUSTOMER_ROWS * scale)
    duplicate_lines = max(1, round(DUPLICATE_LINE_RATE * target_lines))
    primary, second = _choose_customers(rng, ctx, target_lines - duplicate_lines)
    n1, n2 = len(primary), len(second)
    persons = np.r_[primary, second]
    is_primary = np.r_[np.ones(n1, bool), np.zeros(n2, bool)]

    # opening dates: old branch accounts before 2012, current ones after
    birth = pop.birth[persons]
    grown = birth + np.round(16 * DAYS_PER_YEAR).astype("timedelta64[D]")
    earliest = np.maximum(
        np.datetime64("1996-01-01"), np.where(pop.age[persons] < 16, birth, grown)
    )
    since = np.maximum(earliest[:n1], np.datetime64("2004-01-01"))
    span = (TODAY - since).astype(np.int64)
    open_1 = since + np.floor(span * rng.random(n1) ** 1.6).astype("timedelta64[D]")
    open_2 = random_dates(rng, earliest[n1:], np.datetime64("2012-12-31"), n2)
    open_date = np.minimum(np.r_[open_1, open_2], TODAY - 1)
    update = random_dates(rng, open_date, TODAY - 1, len(persons))

    # customer numbers are issued in opening order; the extract is sorted by them
    order = np.lexsort((np.arange(len(persons)), open_date))
    persons, is_primary = persons[order], is_primary[order]
    birth, open_date, update = birth[order], open_date[order], update[order]
    cust_no = unique_numbers(rng, len(persons), 100_003_200_000, 12).astype(str).tolist()

    primary_row = np.full(pop.n, -1)
    primary_row[persons[is_primary]] = np.flatnonzero(is_primary)
    second_row = np.full(pop.n, -1)
    second_row[persons[~is_primary]] = np.flatnonzero(~is_primary)
    ctx.customers = CustomerBook(persons, cust_no, is_primary, open_date, primary_row, second_row)

    ids = messy_ids(rng, ctx.ids(persons), **ODS_ID_MESS)
    for i in np.flatnonzero(~is_primary & chance(rng, len(persons), 0.25)).tolist():
        true = pop.id18[persons[i]]
        if open_date[i] < np.datetime64("2005-01-01") and can_be_legacy(true):
            ids[i] = legacy15(true)  # opened with the first-generation ID card
    phones = ctx.phones(rng, persons)
    old_phone = np.flatnonzero(~is_primary)
    lost = chance(rng, len(old_phone), 0.3)
    for i, gone in zip(old_phone.tolist(), lost.tolist(), strict=True):
        phones[i] = None if gone else pop.alt_phone[persons[i]]
    phones = messy_phones(rng, phones, missing=0.02, prefixed=0.012, spaced=0.01, fullwidth=0.002)
    names = ctx.names(persons)
    for i in np.flatnonzero(chance(rng, len(persons), 0.003)).tolist():
        names[i] = pad_spaces(names[i], rng)
    address_shares = np.where(
        is_primary[:, None], [[0.35, 0.25, 0.2, 0.1, 0.1]], [[0.05, 0.1, 0.35, 0.3, 0.2]]
    )
    address = ctx.addresses(rng, persons, address_shares)
    village = ctx.place("village_code")
    hh = pop.household[persons]
    empty_village = chance(rng, len(persons), np.where(is_primary, 0.03, 0.2))
    village_codes = [
        "" if e else village[h] for h, e in zip(hh.tolist(), empty_village.tolist(), strict=True)
    ]
    gender = np.where(pop.male[persons], "1", "2")
    gender[chance(rng, len(persons), 0.002)] = "9"
    birth_text = fmt_dates_mixed(
        rng, birth, {"compact": 0.9, "iso": 0.05, "slash": 0.03, "chinese": 0.02}
    )

    table = Table(
        "customer",
        [
            cust_no,
            names,
            ["10"] * len(persons),
            ids,
            gender.tolist(),
            birth_text,
            phones,
            address,
            village_codes,
            fmt_compact(open_date),
            fmt_compact(update),
        ],
        persons,
    )
    plan = BreakPlan.make(
        rng,
        table,
        kinds={"field_count": None, "bad_date": "open_date"},
        duplicate_count=duplicate_lines,
    )
    ctx.row_counts["customer"] = write_ods(
        ctx.raw / "ods", ods_file("customer"), table, plan, ctx.truth, rng
    )


# ---------------------------------------------------------------- deposits


def build_deposits(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "deposit")
    pop, book = ctx.pop, ctx.customers
    assert book is not None
    n_cust = len(book.person)
    has = chance(rng, n_cust, np.where(book.primary, 0.78, 0.6))
    count = np.where(book.primary, categorical(rng, [0, 0.5, 0.33, 0.17], n_cust), 1) * has
    row = rng.permutation(np.repeat(np.arange(n_cust), count))
    persons = book.person[row]
    n = len(row)

    closed = chance(rng, n, np.where(book.primary[row], 0.06, 0.5))
    frozen = ~closed & chance(rng, n, sigmoid(-6.5 + 1.2 * pop.risk[persons]))
    adult = pop.age[persons] >= 18
    weight = rng.lognormal(0, 1.0, n) * np.where(adult, 1.0, 0.15) * ~closed
    hh = pop.household[persons]
    hh_weight = np.bincount(hh, weights=weight, minlength=pop.hh_count)
    share_here = 0.65
    balance = pop.hh_deposits[hh] * share_here * weight / np.maximum(hh_weight[hh], 1e-9)
    balance = np.round(balance, 2)
    avg = np.round(balance * rng.lognormal(0, 0.25, n), 2)
    avg[closed] = 0.0

    product_p = np.where(balance[:, None] >= 200_000, [[0.4, 0.3, 0.3, 0]], [[0.62, 0.33, 0, 0.05]])
    product = np.array(["活期", "定期", "大额存单", "教育储蓄"])[categorical_rows(rng, product_p)]
    status = np.where(closed, "销户", np.where(frozen, "冻结", "正常"))
    open_date = random_dates(rng, book.open_date[row], TODAY - 1, n)
    acct_no = unique_numbers(rng, n, 32_072_301_000_000_000, 30).astype(str).tolist()

    table = Table(
        "deposit",
        [
            acct_no,
            [book.cust_no[r] for r in row.tolist()],
            messy_ids(rng, ctx.ids(persons), **ODS_ID_MESS),
            ctx.names(persons),
            product.tolist(),
            fmt_compact(open_date),
            fmt_money(balance),
            fmt_money(avg),
            status.tolist(),
        ],
        persons,
    )
    plan = BreakPlan.make(
        rng,
        table,
        kinds={"field_count": None, "bad_amount": "balance"},
        duplicate_rate=0.001,
        truncate_last=True,
    )
    ctx.row_counts["deposit"] = write_ods(
        ctx.raw / "ods", ods_file("deposit"), table, plan, ctx.truth, rng
    )


# ---------------------------------------------------------------- farmer credit files


def credit_rating_score(ctx: Context, rng: np.random.Generator) -> np.ndarray:
    """The bank's view of a household: income and savings up, (noisily seen) risk down."""
    pop = ctx.pop
    head = pop.hh_first
    seen_risk = 0.6 * pop.risk[head] + 0.5 * rng.normal(0, 1, pop.hh_count)
    return (
        0.8 * np.log(pop.hh_income / 60_000)
        + 0.3 * np.log1p(pop.hh_deposits / 50_000)
        - 0.9 * seen_risk
        - 0.8 * pop.gambling[head]
    )


def build_farmer_credit(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "farmer_credit")
    pop = ctx.pop
    loans = ctx.loans
    borrower_hh = np.zeros(pop.hh_count, bool)
    if loans is not None:
        borrower_hh[pop.household[loans.person]] = True
    filed = chance(rng, pop.hh_count, np.where(borrower_hh, 0.92, 0.6))
    hh = rng.permutation(np.flatnonzero(filed))
    n = len(hh)
    head = pop.hh_first[hh]

    score = credit_rating_score(ctx, rng)[hh]
    rating = np.array(["B", "A", "AA", "AAA"])[np.searchsorted([-1.2, -0.2, 0.8], score)]
    rating[chance(rng, n, 0.05)] = "未评级"
    size = pop.hh_size[hh] + np.where(chance(rng, n, 0.1), rng.choice([-1, 1], n), 0)
    size = np.maximum(size, 1)
    income_wan = pop.hh_income[hh] / 10_000 * rng.lognormal(0, 0.15, n)
    industry = np.array(INDUSTRIES, dtype=object)[pop.hh_industry[hh]]
    industry[industry == "无"] = "务工"
    debts = pop.hh_liabilities_wan.copy()
    if loans is not None:
        np.add.at(debts, pop.household[loans.person], loans.balance / 10_000)
    liabilities = debts[hh] * rng.lognormal(0, 0.1, n)
    record_id = unique_numbers(rng, n, 3_207_230_000, 20)
    table = Table(
        "farmer_credit",
        [
            [f"NH{x}" for x in record_id.tolist()],
            messy_ids(rng, ctx.ids(head), **ODS_ID_MESS),
            ctx.names(head),
            [ctx.place("village_code")[h] for h in hh.tolist()],
            size.astype(str).tolist(),
            fmt_wan(np.maximum(income_wan, 0.3)),
            industry.tolist(),
            rating.tolist(),
            fmt_compact(random_dates(rng, "2024-03-01", "2026-10-31", n)),
            fmt_wan(pop.hh_assets_wan[hh] * rng.lognormal(0, 0.2, n)),
            fmt_wan(liabilities),
        ],
        head,
    )
    plan = BreakPlan.make(rng, table, kinds={"field_count": None, "bad_amount": "annual_income"})
    ctx.row_counts["farmer_credit"] = write_ods(
        ctx.raw / "ods", ods_file("farmer_credit"), table, plan, ctx.truth, rng
    )
