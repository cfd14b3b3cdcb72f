"""The bank's own systems: e-banking, payroll, the grid survey, the 2017 list, black/grey.

Realism modelled here:
- E-banking users are the phone-owning working-age; the registration date comes out
  of three generations of systems in three formats; a few users never gave an ID.
- Payroll (代发) covers teachers, town and village staff and factory workers; the export
  is a UTF-8 CSV with BOM and Chinese headers, months as 202103 or 2021-03.
- The grid survey (网格化) is the backbone of households: every member of ~97% of
  households, with the relation to the head, GPS of the house, 户籍 type; one CSV per
  township as the grid officers hand them in; children and the very old sometimes
  without ID, family phones for those without their own.
- The 2017 sunshine-credit list (阳光信贷) is a hand-kept Excel sheet: heads of
  households, mostly legacy 15-digit IDs, amounts in 万元, dates as real Excel dates
  or typed text, township and village by name.
- Black/grey lists and the court's defaulter list select people with high hidden risk:
  gamblers, defaulters, people in lawsuits over informal loans.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from cunxin.datapool.sources import SOURCES_BY_NAME

from .common import (
    TODAY,
    categorical,
    chance,
    fmt_dates_mixed,
    fmt_iso,
    fmt_month_compact,
    fmt_month_dash,
    random_dates,
    split_ymd,
    stage_rng,
    weighted_sample,
)
from .context import Context, native_headers, raw_path
from .idgen import build_card_numbers, messy_ids, messy_phones
from .names import (
    COMPANY_WORDS,
    EDUCATIONS,
    INDUSTRIES,
    OCC,
    OCCUPATIONS,
    RELATIONS,
)
from .ods import unique_numbers
from .output import BreakPlan, Table, write_delimited, write_jsonl, write_xlsx

# ---------------------------------------------------------------- e-banking


def build_ebank(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "ebank")
    pop = ctx.pop
    has_phone = np.array([p is not None for p in pop.phone])
    age = pop.age
    p = np.select([(age >= 18) & (age <= 60), (age > 60) & (age <= 72)], [0.37, 0.06], 0.0)
    persons = np.flatnonzero(chance(rng, pop.n, p) & has_phone)
    n = len(persons)
    user_id = rng.permutation(unique_numbers(rng, n, 6_200_000_000, 25))
    ids = messy_ids(rng, ctx.ids(persons), typo=0.003, fullwidth=0.002, missing=0.02)
    for i in np.flatnonzero(np.array([x == "" for x in ids]) & chance(rng, n, 0.5)).tolist():
        ids[i] = None  # JSON null rather than ""
    registered = np.maximum(
        random_dates(rng, "2014-01-01", "2026-11-20", n),
        pop.birth[persons] + np.timedelta64(18 * 366, "D"),
    )
    registered = np.minimum(registered, TODAY - 1)
    last_login = random_dates(rng, registered, TODAY, n)
    last_text: list[str | None] = fmt_iso(last_login)
    for i in np.flatnonzero(chance(rng, n, 0.05)).tolist():
        last_text[i] = None
    txn_count = np.round(rng.lognormal(3.0, 1.0, n)).astype(int)
    txn_amount = np.round(txn_count * rng.lognormal(6.5, 0.9, n), 2)
    channel = np.array(["手机银行", "网上银行", "微信银行"])[categorical(rng, [0.75, 0.1, 0.15], n)]
    table = Table(
        "ebank",
        [
            [f"EB{u}" for u in user_id.tolist()],
            ids,
            ctx.names(persons),
            ctx.phones(rng, persons, own_only=True),
            channel.tolist(),
            fmt_dates_mixed(rng, registered, {"iso": 0.5, "slash": 0.25, "compact": 0.25}),
            last_text,
            txn_count.tolist(),
            txn_amount.tolist(),
        ],
        persons,
    )
    plan = BreakPlan.make(rng, table, kinds={"bad_json": None, "bad_date": "register_date"})
    ctx.row_counts["ebank"] = write_jsonl(
        raw_path(ctx, "ebank"),
        table,
        native_headers("ebank"),
        plan,
        ctx.truth,
        file_label=SOURCES_BY_NAME["ebank"].path,
        rng=rng,
    )


# ---------------------------------------------------------------- payroll


def _employers(ctx: Context, rng: np.random.Generator, persons: np.ndarray) -> list[str]:
    pop = ctx.pop
    town = ctx.place("township")
    village = ctx.place("village")
    hh = pop.household[persons].tolist()
    occ = pop.occupation[persons].tolist()
    trades = ["食品", "纺织", "服饰", "机械", "电子", "木业", "新材料", "紫菜加工"]
    out = []
    for h, o in zip(hh, occ, strict=True):
        t = town[h]
        r = rng.random()
        if o == OCC["教师"]:
            out.append(
                f"灌云县{t}中心小学"
                if r < 0.5
                else f"灌云县{t}初级中学"
                if r < 0.8
                else "灌云县第一中学"
            )
        elif o == OCC["公职人员"]:
            out.append(
                f"灌云县{t}人民政府"
                if r < 0.6
                else f"灌云县{t}卫生院"
                if r < 0.8
                else "灌云县人民医院"
            )
        elif o == OCC["村干部"]:
            out.append(f"灌云县{t}{village[h]}村民委员会")
        else:
            word = COMPANY_WORDS[int(rng.integers(0, len(COMPANY_WORDS)))]
            trade = trades[int(rng.integers(0, len(trades)))]
            place = ("连云港", "江苏", "灌云县")[int(rng.integers(0, 3))]
            out.append(f"{place}{word}{trade}有限公司")
    return out


def build_payroll(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "payroll")
    pop = ctx.pop
    occ = pop.occupation
    p = np.zeros(pop.n)
    for name, share in (("教师", 0.95), ("公职人员", 0.95), ("村干部", 0.9), ("务工人员", 0.26)):
        p[occ == OCC[name]] = share
    p[(pop.age < 18) | (pop.age > 62)] = 0
    persons = np.flatnonzero(chance(rng, pop.n, p))
    n = len(persons)
    monthly = np.round(pop.income[persons] / 12 * rng.lognormal(0, 0.1, n), 2)
    first = random_dates(rng, "2012-01-01", "2026-10-01", n)
    first = np.maximum(first, pop.birth[persons] + np.timedelta64(18 * 366, "D"))
    first = np.minimum(first, np.datetime64("2026-10-01"))
    months = np.minimum(12, ((TODAY - first).astype(np.int64) // 30)).clip(1, 12)
    amount = np.round(monthly * months, 2)
    first_text = fmt_month_compact(first)
    dashed = np.flatnonzero(chance(rng, n, 0.4))
    dashed_text = fmt_month_dash(first[dashed])
    for i, t in zip(dashed.tolist(), dashed_text, strict=True):
        first_text[i] = t
    record = rng.permutation(unique_numbers(rng, n, 0, 15))
    table = Table(
        "payroll",
        [
            [f"DF2026{r:08d}" for r in record.tolist()],
            _employers(ctx, rng, persons),
            ctx.names(persons),
            messy_ids(rng, ctx.ids(persons), typo=0.005, fullwidth=0.002, spaces=0.01),
            build_card_numbers(rng, n),
            first_text,
            [f"{a:.2f}" for a in amount.tolist()],
            [f"{m:.2f}" for m in monthly.tolist()],
        ],
        persons,
    ).order_by_key()
    plan = BreakPlan.make(rng, table, kinds={"field_count": None, "bad_amount": "amount_12m"})
    ctx.row_counts["payroll"] = write_delimited(
        raw_path(ctx, "payroll"),
        table,
        plan,
        ctx.truth,
        sep=",",
        encoding="utf-8-sig",
        file_label=SOURCES_BY_NAME["payroll"].path,
        header=native_headers("payroll"),
        quote_cols=(1,),
        rng=rng,
    )


# ---------------------------------------------------------------- grid survey


def _deg_text(micro: np.ndarray) -> list[str]:
    return [f"{v // 1_000_000}.{v % 1_000_000:06d}" for v in micro.tolist()]


def build_grid(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "grid")
    pop, geo = ctx.pop, ctx.geo
    surveyed = chance(rng, pop.hh_count, 0.97)
    collected = random_dates(rng, "2026-03-01", "2026-10-31", pop.hh_count)
    grid_dir = ctx.raw / "bank" / "grid"
    village_codes, group_codes = ctx.place("village_code"), ctx.place("group_code")
    written_files = []
    total = 0
    for t, town in enumerate(geo.townships):
        hh_rows = np.flatnonzero(surveyed & (pop.hh_township == t))
        persons = np.flatnonzero(np.isin(pop.household, hh_rows))
        n = len(persons)
        hh = pop.household[persons]
        age = pop.age[persons]
        missing = np.where((age < 16) | (age >= 75), 0.05, 0.002)
        ids = messy_ids(rng, ctx.ids(persons), typo=0.005, fullwidth=0.001, spaces=0.003)
        for i in np.flatnonzero(chance(rng, n, missing)).tolist():
            ids[i] = ""
        phones = messy_phones(rng, ctx.phones(rng, persons), spaced=0.01, prefixed=0.003)
        hh_list = hh.tolist()
        head_name = [pop.name[p] for p in pop.hh_first[hh].tolist()]
        town_, village_, group_, door_ = (
            ctx.place(k) for k in ("township", "village", "group", "door")
        )
        address = [f"{town_[h]}{village_[h]}{group_[h]}{door_[h]}" for h in hh_list]
        lon = _deg_text(pop.hh_lon[hh])
        lat = _deg_text(pop.hh_lat[hh])
        record = unique_numbers(rng, n, 0, 3)
        industry = np.array(INDUSTRIES, dtype=object)[pop.hh_industry[hh]]
        table = Table(
            "grid",
            [
                [f"G{town.code}{r:08d}" for r in record.tolist()],
                [pop.hh_grid[h] for h in hh_list],
                [pop.hh_no[h] for h in hh_list],
                head_name,
                ctx.names(persons),
                [RELATIONS[r] for r in pop.relation[persons].tolist()],
                ids,
                np.where(pop.male[persons], "男", "女").tolist(),
                fmt_dates_mixed(
                    rng, pop.birth[persons], {"iso": 0.9, "compact": 0.06, "slash": 0.04}
                ),
                phones,
                [village_codes[h] for h in hh_list],
                [group_codes[h] for h in hh_list],
                address,
                [EDUCATIONS[e] for e in pop.education[persons].tolist()],
                [OCCUPATIONS[o] for o in pop.occupation[persons].tolist()],
                industry.tolist(),
                lon,
                lat,
                np.where(pop.local_registration[persons], "本地", "外来").tolist(),
                fmt_iso(collected[hh]),
            ],
            persons,
        )
        plan = BreakPlan.make(rng, table, kinds={"field_count": None}, duplicate_rate=0.001)
        name = f"grid_{town.code}.csv"
        total += write_delimited(
            grid_dir / name,
            table,
            plan,
            ctx.truth,
            sep=",",
            encoding="utf-8",
            file_label=f"bank/grid/{name}",
            header=native_headers("grid"),
            rng=rng,
        )
        written_files.append(name)
        ctx.tick("grid", t + 1, len(geo.townships))
    for stale in sorted(grid_dir.glob("grid_*.csv")):  # from an earlier, larger run
        if stale.name not in written_files:
            stale.unlink()
    ctx.row_counts["grid"] = total


# ---------------------------------------------------------------- 2017 sunshine credit


def build_sunshine(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "sunshine2017")
    pop, geo = ctx.pop, ctx.geo
    head = pop.hh_first
    eligible = pop.age[head] >= 27  # 18 or older in 2017
    hh = np.flatnonzero(eligible & chance(rng, pop.hh_count, 0.2 / max(eligible.mean(), 0.01)))
    persons = head[hh]
    n = len(hh)
    ids = messy_ids(rng, ctx.ids(persons), legacy=0.8, typo=0.01, spaces=0.01)
    income = pop.hh_income[hh]
    amounts = np.array([1, 2, 2.5, 3, 5, 8, 10, 15, 20])
    level = np.clip(
        np.searchsorted([25e3, 40e3, 55e3, 70e3, 100e3, 140e3, 200e3, 300e3], income), 0, 8
    )
    level = np.clip(level + rng.integers(-1, 2, n), 0, 8)
    granted = amounts[level]
    day = random_dates(rng, "2017-03-01", "2017-11-30", n)
    y, m, d = split_ymd(day)
    text_style = categorical(rng, [0.6, 0.2, 0.12, 0.08], n)
    dates: list[object] = []
    for k, (a, b, c) in enumerate(zip(y.tolist(), m.tolist(), d.tolist(), strict=True)):
        style = text_style[k]
        if style == 0:
            dates.append(dt.date(a, b, c))
        elif style == 1:
            dates.append(f"{a}.{b:02d}.{c:02d}")
        elif style == 2:
            dates.append(f"{a}年{b}月{c}日")
        else:
            dates.append(f"{a}-{b}-{c}")
    score = -pop.risk[persons] + 0.6 * np.log(income / 60_000) + rng.normal(0, 0.6, n)
    rating = np.array(["B", "A", "AA", "AAA"])[np.searchsorted([-1.0, 0.0, 1.0], score)]
    remarks = np.array(["", "", "", "已签约", "已用信", "户主外出务工", "未签约", "待核实"])
    remark = remarks[categorical(rng, [0.45, 0.1, 0.05, 0.15, 0.12, 0.06, 0.05, 0.02], n)]
    town_names = [t.name for t in geo.townships]
    table = Table(
        "sunshine2017",
        [
            list(range(1, n + 1)),
            [town_names[pop.hh_township[h]] for h in hh.tolist()],
            [geo.village_name[pop.hh_village[h]] for h in hh.tolist()],
            ctx.names(persons),
            ids,
            [float(g) if g != int(g) else int(g) for g in granted.tolist()],
            dates,
            rating.tolist(),
            remark.tolist(),
        ],
        persons,
    )
    plan = BreakPlan.make(rng, table, kinds={"bad_amount": "granted_amount"})
    src = SOURCES_BY_NAME["sunshine2017"]
    ctx.row_counts["sunshine2017"] = write_xlsx(
        raw_path(ctx, "sunshine2017"),
        [("2017年阳光信贷授信清单", table)],
        native_headers("sunshine2017"),
        [plan],
        ctx.truth,
        file_label=src.path,
    )


# ---------------------------------------------------------------- black / grey lists

LIST_SPECS = (
    # sheet, share of adults, risk weight, id prefix, reasons, origins
    (
        "黑名单",
        0.003,
        1.6,
        "B",
        ("恶意逃废债务", "贷款核销", "赌博", "吸毒", "骗取贷款", "涉黑涉恶"),
        ("本行", "本行", "公安机关", "村委会"),
    ),
    (
        "灰名单",
        0.008,
        1.2,
        "G",
        ("民间借贷纠纷", "涉诉", "赌博", "负债过多", "长期外出无法联系", "家庭不和睦"),
        ("本行", "网格员", "村委会", "征信系统"),
    ),
    (
        "失信被执行人",
        0.002,
        1.5,
        "S",
        ("被列为失信被执行人",),
        ("人民法院", "最高人民法院失信被执行人名单"),
    ),
)


def _list_reason(ctx: Context, person: int, sheet: str, defaulted: np.ndarray, rng) -> str:
    pop = ctx.pop
    if sheet == "失信被执行人":
        return "被列为失信被执行人"
    if sheet == "黑名单":
        if defaulted[person]:
            return "恶意逃废债务" if rng.random() < 0.6 else "贷款核销"
        if pop.gambling[person]:
            return "赌博"
        if pop.other_vice[person]:
            return "吸毒"
        return ("骗取贷款", "涉黑涉恶")[int(rng.integers(0, 2))]
    if pop.informal_debt[person]:
        return "民间借贷纠纷" if rng.random() < 0.7 else "负债过多"
    if pop.gambling[person]:
        return "赌博"
    return ("涉诉", "长期外出无法联系", "家庭不和睦", "负债过多")[int(rng.integers(0, 4))]


def build_blackgrey(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "blackgrey")
    pop = ctx.pop
    adults = pop.adults(18)
    defaulted = np.zeros(pop.n, bool)
    overdue = np.zeros(pop.n, bool)
    if ctx.loans is not None:
        outcome = np.array(ctx.loans.outcome)
        defaulted[ctx.loans.person[outcome == "default"]] = True
        overdue[ctx.loans.person[outcome == "overdue"]] = True
    sheets, plans = [], []
    for sheet, share, k, prefix, _reasons, origins in LIST_SPECS:
        weight = np.exp(k * pop.risk[adults])
        weight *= 1 + 2 * pop.gambling[adults] + pop.other_vice[adults]
        weight *= 1 + 2 * pop.informal_debt[adults]
        weight *= 1 + 25 * defaulted[adults] + 4 * overdue[adults]
        persons = adults[weighted_sample(rng, weight, max(1, round(share * len(adults))))]
        persons = rng.permutation(persons)
        n = len(persons)
        adult_since = pop.birth[persons] + np.timedelta64(18 * 366, "D")
        listed = random_dates(
            rng, np.maximum(np.datetime64("2016-01-01"), adult_since), TODAY - 8, n
        )
        listed_values: list[object] = [
            dt.date(a, b, c)
            for a, b, c in zip(*(x.tolist() for x in split_ymd(listed)), strict=True)
        ]
        as_text = fmt_iso(listed)
        for i in np.flatnonzero(chance(rng, n, 0.3)).tolist():
            listed_values[i] = as_text[i]
        year = split_ymd(listed)[0]
        record = unique_numbers(rng, n, 0, 9)
        table = Table(
            "blackgrey",
            [
                [
                    f"{prefix}{y}{r:06d}"
                    for y, r in zip(year.tolist(), record.tolist(), strict=True)
                ],
                ctx.names(persons),
                messy_ids(
                    rng, ctx.ids(persons), typo=0.005, legacy=0.03, fullwidth=0.005, spaces=0.01
                ),
                [_list_reason(ctx, p, sheet, defaulted, rng) for p in persons.tolist()],
                listed_values,
                [origins[int(i)] for i in rng.integers(0, len(origins), n).tolist()],
            ],
            persons,
        )
        sheets.append((sheet, table))
        plans.append(BreakPlan())
    ctx.row_counts["blackgrey"] = write_xlsx(
        raw_path(ctx, "blackgrey"),
        sheets,
        native_headers("blackgrey"),
        plans,
        ctx.truth,
        file_label=SOURCES_BY_NAME["blackgrey"].path,
    )
