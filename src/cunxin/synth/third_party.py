"""Third-party data: social security, real-estate registry, enterprise registry.

Realism modelled here:
- Social security (社保) is a government extract in GBK: one row per person and
  insurance type, the person number repeated on both rows; rural residents are in the
  residents' pension scheme, teachers and officials in the employees' schemes.
- The real-estate registry (不动产登记) keys rows by the 28-character unit number
  (不动产单元号); older registrations often lack the owner's ID number and only give
  name, phone and a location text; appraised values are typed as "35万", "350000" or
  "35.5万元".
- The enterprise registry (工商) lists 个体工商户, cooperatives and small companies
  with a valid unified social credit code; the legal representative's ID is usually
  withheld (name + phone + village only), the village sometimes written with its
  township, the phone often not the one the bank has.
"""

from __future__ import annotations

import numpy as np

from cunxin.datapool.sources import SOURCES_BY_NAME

from .common import (
    COUNTY_CODE,
    TODAY,
    categorical,
    chance,
    fmt_dates_mixed,
    fmt_iso,
    random_dates,
    stage_rng,
    weighted_sample,
)
from .context import Context, native_headers, raw_path
from .idgen import messy_ids, messy_phones, uscc
from .names import BUSINESS_SCOPES, COMPANY_WORDS, INDUSTRIES, OCC
from .ods import unique_numbers
from .output import BreakPlan, Table, write_delimited, write_jsonl

ADULT_SHARE_SOCIAL = 0.45
ADULT_SHARE_ENTERPRISE = 0.03
HOUSEHOLD_SHARE_PROPERTY = 0.35


# ---------------------------------------------------------------- social security

EMPLOYEE_TYPES = ("企业职工基本养老保险", "职工基本医疗保险", "失业保险", "机关事业单位养老保险")
RESIDENT_TYPES = ("城乡居民基本养老保险", "城乡居民基本医疗保险")


def build_social_security(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "social_security")
    pop = ctx.pop
    adults = pop.adults(16)
    occ = pop.occupation[adults]
    raw = np.full(len(adults), 0.4)
    for name, p in (("教师", 2.4), ("公职人员", 2.4), ("村干部", 2.2), ("务工人员", 1.5)):
        raw[occ == OCC[name]] = p
    raw[occ == OCC["外出务工"]] = 0.7
    raw[occ == OCC["学生"]] = 0.3
    raw[pop.age[adults] >= 60] = 1.2
    p = np.clip(raw * ADULT_SHARE_SOCIAL / raw.mean(), 0, 0.98)
    persons = adults[chance(rng, len(adults), p)]
    n_people = len(persons)
    employee = np.isin(pop.occupation[persons], [OCC["教师"], OCC["公职人员"], OCC["村干部"]]) | (
        (pop.occupation[persons] == OCC["务工人员"]) & chance(rng, n_people, 0.5)
    )
    two = chance(rng, n_people, 0.3)
    person_no = rng.permutation(unique_numbers(rng, n_people, 32_072_300_000_000, 40))
    person_no_text = person_no.astype(str).tolist()

    rows_person = np.repeat(np.arange(n_people), 1 + two)
    second = np.r_[False, rows_person[1:] == rows_person[:-1]]
    shuffle = rng.permutation(len(rows_person))  # the extract is in record-number order
    rows_person, second = rows_person[shuffle], second[shuffle]
    emp = employee[rows_person]
    official = np.isin(pop.occupation[persons[rows_person]], [OCC["教师"], OCC["公职人员"]])
    kind = np.where(
        emp,
        np.where(
            second,
            "职工基本医疗保险",
            np.where(official, "机关事业单位养老保险", "企业职工基本养老保险"),
        ),
        np.where(second, "城乡居民基本医疗保险", "城乡居民基本养老保险"),
    )
    n = len(rows_person)
    who = persons[rows_person]
    earliest = np.maximum(
        np.datetime64("2009-10-01"), pop.birth[who] + np.timedelta64(16 * 366, "D")
    )
    enrol = random_dates(rng, earliest, TODAY - 30, n)
    months = np.maximum(1, (TODAY - enrol).astype(np.int64) // 30 - rng.integers(0, 24, n))
    base = np.where(
        emp,
        np.round(rng.uniform(4000, 9000, n), 2),
        np.array([200, 300, 500, 1000, 2000])[categorical(rng, [0.45, 0.2, 0.2, 0.1, 0.05], n)],
    )
    base_text = [
        f"{b:.2f}" if e else str(int(b)) for b, e in zip(base.tolist(), emp.tolist(), strict=True)
    ]
    status = np.array(["正常参保", "暂停", "终止"])[categorical(rng, [0.85, 0.1, 0.05], n)]
    record = unique_numbers(rng, n, 0, 20)
    ids = messy_ids(rng, ctx.ids(persons), typo=0.002, legacy=0.003, spaces=0.005)
    table = Table(
        "social_security",
        [
            [f"SB{r:010d}" for r in record.tolist()],
            [person_no_text[k] for k in rows_person.tolist()],
            [pop.name[p] for p in who.tolist()],
            [ids[k] for k in rows_person.tolist()],
            kind.tolist(),
            status.tolist(),
            fmt_dates_mixed(rng, enrol, {"iso": 0.8, "compact": 0.2}),
            base_text,
            months.astype(str).tolist(),
        ],
        who,
    )
    plan = BreakPlan.make(
        rng,
        table,
        kinds={"field_count": None, "bad_date": "enrol_date"},
        duplicate_rate=0.001,
    )
    ctx.row_counts["social_security"] = write_delimited(
        raw_path(ctx, "social_security"),
        table,
        plan,
        ctx.truth,
        sep=",",
        encoding="gbk",
        file_label=SOURCES_BY_NAME["social_security"].path,
        header=native_headers("social_security"),
        rng=rng,
    )


# ---------------------------------------------------------------- real estate

USES_FIRST = ("住宅", "宅基地")
USES_SECOND = ("商业", "农业设施", "工业")
AREA = {"住宅": (80, 260), "宅基地": (150, 400), "商业": (40, 300), "农业设施": (200, 3000)}
AREA |= {"工业": (300, 2000)}
PRICE = {"住宅": (1500, 3800), "宅基地": (600, 1600), "商业": (2500, 6000), "农业设施": (150, 500)}
PRICE |= {"工业": (600, 1500)}


def _appraised_text(rng: np.random.Generator, yuan: float) -> str:
    wan = yuan / 10_000
    r = rng.random()
    if r < 0.4:
        return f"{round(wan)}万"
    if r < 0.7:
        return str(int(round(yuan, -2)))
    return f"{wan:.1f}万元"


def build_real_estate(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "real_estate")
    pop = ctx.pop
    weight = pop.hh_assets_wan + 5
    hh = weighted_sample(rng, weight, round(HOUSEHOLD_SHARE_PROPERTY * pop.hh_count))
    owner = pop.hh_first[hh].copy()
    spouse = pop.hh_spouse[hh]
    by_spouse = (spouse >= 0) & chance(rng, len(hh), 0.25)
    owner[by_spouse] = spouse[by_spouse]
    units = 1 + chance(rng, len(hh), 0.15)
    row_hh = np.repeat(hh, units)
    who = np.repeat(owner, units)
    second = np.r_[False, row_hh[1:] == row_hh[:-1]]
    n = len(row_hh)

    # 不动产单元号: region(6) + 地籍区(3) + 地籍子区(3) + JC + 宗地(5) + F + 定着物(8)
    village_start = np.r_[0, np.flatnonzero(np.diff(pop.hh_village)) + 1]
    first_of_village = np.zeros(pop.hh_count, dtype=np.int64)
    first_of_village[village_start] = village_start
    first_of_village = np.maximum.accumulate(first_of_village)
    parcel = row_hh - first_of_village[row_hh] + 1
    village_code = ctx.place("village_code")
    unit_no = [
        f"{village_code[h]}JC{p:05d}F{1 + s:04d}0001"
        for h, p, s in zip(row_hh.tolist(), parcel.tolist(), second.tolist(), strict=True)
    ]

    use = np.where(
        second,
        np.array(USES_SECOND)[categorical(rng, [0.4, 0.45, 0.15], n)],
        np.array(USES_FIRST)[categorical(rng, [0.55, 0.45], n)],
    )
    area = np.array([rng.uniform(*AREA[u]) for u in use.tolist()])
    price = np.array([rng.uniform(*PRICE[u]) for u in use.tolist()])
    value = [
        _appraised_text(rng, a * p) for a, p in zip(area.tolist(), price.tolist(), strict=True)
    ]

    ids = messy_ids(rng, ctx.ids(who), typo=0.005, legacy=0.05, spaces=0.01, missing=0.2)
    for i in np.flatnonzero(np.array([x == "" for x in ids]) & chance(rng, n, 0.5)).tolist():
        ids[i] = None
    phones = ctx.phones(rng, who)
    for i in np.flatnonzero(chance(rng, n, 0.3)).tolist():
        phones[i] = None
    t, v, g, gs, d = (ctx.place(k) for k in ("township", "village", "group", "group_short", "door"))
    shape = categorical(rng, [0.4, 0.35, 0.25], n).tolist()
    location = []
    for h, k in zip(row_hh.tolist(), shape, strict=True):
        if k == 0:
            location.append(f"灌云县{t[h]}{v[h]}{g[h]}{d[h]}")
        elif k == 1:
            location.append(f"{t[h]}{v[h]}{gs[h]}")
        else:
            location.append(f"江苏省灌云县{t[h]}{v[h]}{d[h]}")
    adult_since = pop.birth[who] + np.timedelta64(18 * 366, "D")
    registered = random_dates(
        rng, np.maximum(np.datetime64("2008-01-01"), adult_since), "2026-10-31", n
    )
    table = Table(
        "real_estate",
        [
            unit_no,
            ctx.names(who),
            ids,
            phones,
            location,
            [round(a, 2) for a in area.tolist()],
            use.tolist(),
            fmt_dates_mixed(rng, registered, {"iso": 0.6, "slash": 0.2, "compact": 0.2}),
            value,
        ],
        who,
    )
    plan = BreakPlan.make(rng, table, kinds={"bad_json": None}, duplicate_rate=0.001)
    ctx.row_counts["real_estate"] = write_jsonl(
        raw_path(ctx, "real_estate"),
        table,
        native_headers("real_estate"),
        plan,
        ctx.truth,
        file_label=SOURCES_BY_NAME["real_estate"].path,
        rng=rng,
    )


# ---------------------------------------------------------------- enterprise

SOLE_TRADES = {
    "紫菜养殖": ("紫菜养殖场", "紫菜加工厂"),
    "设施蔬菜": ("蔬菜种植园", "家庭农场"),
    "稻麦种植": ("家庭农场", "农机服务部"),
    "水产养殖": ("水产养殖场", "水产品经营部"),
    "畜禽养殖": ("养殖场", "生猪养殖场"),
    "电商": ("网店", "电子商务商行"),
    "食用菌": ("食用菌种植场", "菌菇园"),
    "无": ("百货店", "五金店", "农资店", "小吃店", "超市", "理发店"),
}
COOP_WORDS = {
    "紫菜养殖": "紫菜养殖", "设施蔬菜": "蔬菜种植", "稻麦种植": "粮食种植", "水产养殖": "水产养殖",
    "畜禽养殖": "畜禽养殖", "电商": "农产品电商", "食用菌": "食用菌种植", "无": "农机服务",
}  # fmt: skip
COOP_SCOPE = "农业机械化作业服务,农资购销"


def build_enterprise(ctx: Context) -> None:
    rng = stage_rng(ctx.seed, "enterprise")
    pop = ctx.pop
    adults = np.flatnonzero((pop.age >= 20) & (pop.age <= 70))
    occ = pop.occupation[adults]
    weight = np.full(len(adults), 0.3)
    for name, w in (("个体工商户", 20), ("电商", 10), ("村干部", 4), ("养殖户", 3), ("渔民", 2)):
        weight[occ == OCC[name]] = w
    weight[occ == OCC["种植户"]] = 1.5
    persons = rng.permutation(
        adults[weighted_sample(rng, weight, round(ADULT_SHARE_ENTERPRISE * len(pop.adults(16))))]
    )
    n = len(persons)
    hh = pop.household[persons]
    industry = [INDUSTRIES[i] for i in pop.hh_industry[hh].tolist()]
    kind = categorical(rng, [0.72, 0.18, 0.1], n)
    town = ctx.place("township")
    village = ctx.place("village")
    names = ctx.names(persons)

    codes: list[str] = []
    seen: set[str] = set()
    company, capital = [], []
    for i, (h, ind, k) in enumerate(zip(hh.tolist(), industry, kind.tolist(), strict=True)):
        code = uscc(("92", "93", "91")[k], COUNTY_CODE, rng)
        while code in seen:
            code = uscc(("92", "93", "91")[k], COUNTY_CODE, rng)
        seen.add(code)
        codes.append(code)
        word = COMPANY_WORDS[int(rng.integers(0, len(COMPANY_WORDS)))]
        if k == 0:
            trades = SOLE_TRADES[ind]
            trade = trades[int(rng.integers(0, len(trades)))]
            owner = names[i] if rng.random() < 0.6 else word
            company.append(f"灌云县{town[h]}{owner}{trade}")
            capital.append(("3", "5", "10", "20")[int(rng.integers(0, 4))])
        elif k == 1:
            company.append(f"灌云县{village[h][:-1]}{COOP_WORDS[ind]}专业合作社")
            capital.append(("50", "100", "200", "300")[int(rng.integers(0, 4))])
        else:
            company.append(
                f"连云港{word}农业科技有限公司"
                if rng.random() < 0.5
                else f"灌云县{word}商贸有限公司"
            )
            capital.append(("50", "100", "200", "500")[int(rng.integers(0, 4))])

    ids = messy_ids(rng, ctx.ids(persons), typo=0.005, legacy=0.02, missing=0.6)
    phones = messy_phones(rng, ctx.phones(rng, persons, conflict=0.15), missing=0.05, spaced=0.02)
    with_town = chance(rng, n, 0.5)
    village_text = [
        (town[h] + village[h]) if w else village[h]
        for h, w in zip(hh.tolist(), with_town.tolist(), strict=True)
    ]
    adult_since = pop.birth[persons] + np.timedelta64(18 * 366, "D")
    established = random_dates(
        rng, np.maximum(np.datetime64("2008-01-01"), adult_since), "2026-10-31", n
    )
    status = np.array(["存续", "注销", "吊销"])[categorical(rng, [0.85, 0.1, 0.05], n)]
    types = np.array(["个体工商户", "农民专业合作社", "有限责任公司"])[kind]
    table = Table(
        "enterprise",
        [
            codes,
            company,
            types.tolist(),
            names,
            ids,
            phones,
            village_text,
            capital,
            fmt_iso(established),
            [
                COOP_SCOPE if k == 1 and ind == "无" else BUSINESS_SCOPES[ind]
                for ind, k in zip(industry, kind.tolist(), strict=True)
            ],
            status.tolist(),
        ],
        persons,
    ).order_by_key()
    plan = BreakPlan.make(rng, table, kinds={"field_count": None, "bad_date": "established_date"})
    ctx.row_counts["enterprise"] = write_delimited(
        raw_path(ctx, "enterprise"),
        table,
        plan,
        ctx.truth,
        sep=",",
        encoding="utf-8-sig",
        file_label=SOURCES_BY_NAME["enterprise"].path,
        header=native_headers("enterprise"),
        quote_cols=(1, 9),
        rng=rng,
    )
