"""The true people of the synthetic county: households, members, and hidden traits.

Realism modelled here:
- Household composition of a northern Jiangsu village: a head aged 25-80 (mostly men,
  widows more often among the old), a spouse, children, the head's parents, a married
  son's wife (儿媳) and grandchildren, sometimes a son-in-law who married in (女婿),
  an unmarried sibling, rarely someone else. Gender follows the relation, children are
  20-38 years younger than their mother, children carry their father's surname.
- Clan villages: each village has 3-6 dominant surnames carried by ~70% of the
  villagers; wives marry in from the village's other clans or from elsewhere. With
  era-fashioned given names from small pools this makes homonyms (重名) common; a few
  same-name, same-birth-year pairs are guaranteed in every village.
- IDs registered in the county (320723) except for people born elsewhere (wives from
  neighbouring counties, Shandong, Anhui), who also sometimes keep an outside 户籍.
- Phones (the old and children often have none, and are reached on the head's phone),
  education by birth cohort, occupation by age and the household's specialty industry
  (紫菜 on the coast, 设施蔬菜, 稻麦 ...), incomes, deposits, assets.
- Hidden traits no source shows directly: a latent risk propensity shared in part by
  the household, gambling and other vices, informal debts. They drive the hidden loan
  outcome model (`risk`), the black/grey lists and the bank's ratings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import (
    COUNTY_CODE,
    DAYS_PER_YEAR,
    TODAY,
    categorical,
    categorical_rows,
    chance,
    sigmoid,
    split_ymd,
    weighted_sample,
    years_between,
)
from .geography import Geography, grid_codes, place_households
from .idgen import build_citizen_ids, build_mobiles
from .names import (
    EDU,
    INDUSTRIES,
    INDUSTRY_INCOME,
    INDUSTRY_OCCUPATION,
    OCC,
    OCCUPATION_INCOME,
    OCCUPATIONS,
    OTHER_REGIONS,
    REL,
    RELATIONS,
    SURNAMES,
    given_pools,
    zipf_weights,
)

CLAN_SHARE = 0.82  # of people born in the village
LOCAL_MARRIAGE_SHARE = 0.45  # of spouses marrying in
HOUSEHOLD_ORDER = {  # listing order of members in a household register
    "户主": 0, "配偶": 1, "子": 2, "女": 2, "儿媳": 3, "女婿": 3, "孙子": 4, "孙女": 4,
    "父亲": 5, "母亲": 5, "兄弟": 6, "姐妹": 6, "其他": 7,
}  # fmt: skip


@dataclass
class Population:
    # households (index h), ordered by township, village, group, door number
    hh_count: int
    hh_no: list[str]
    hh_group: np.ndarray
    hh_village: np.ndarray
    hh_township: np.ndarray
    hh_door: np.ndarray
    hh_lon: np.ndarray  # micro-degrees
    hh_lat: np.ndarray
    hh_grid: list[str]
    hh_industry: np.ndarray  # index into names.INDUSTRIES
    hh_first: np.ndarray  # first person index (the head)
    hh_size: np.ndarray
    hh_spouse: np.ndarray  # person index of the head's spouse, -1 if none
    hh_income: np.ndarray  # yuan a year, all sources
    hh_deposits: np.ndarray  # yuan, all banks
    hh_assets_wan: np.ndarray
    hh_liabilities_wan: np.ndarray  # informal debts; bank loans are added by `risk`
    hh_risk: np.ndarray
    # persons (index p), members of a household contiguous, head first
    n: int
    household: np.ndarray
    relation: np.ndarray  # index into names.RELATIONS
    male: np.ndarray
    birth: np.ndarray  # datetime64[D]
    age: np.ndarray  # completed years on TODAY
    surname: list[str]
    name: list[str]
    id18: list[str]
    region: np.ndarray  # region code of the ID (int)
    local_registration: np.ndarray  # 户籍 in the county
    phone: list[str | None]
    alt_phone: list[str]  # an old or second number, for conflicting sources
    contact_phone: list[str | None]  # own phone, else often the family's
    education: np.ndarray
    occupation: np.ndarray
    income: np.ndarray  # personal yuan a year
    risk: np.ndarray  # latent risk propensity, ~N(0, 1)
    gambling: np.ndarray
    other_vice: np.ndarray
    informal_debt: np.ndarray

    @property
    def head(self) -> np.ndarray:
        return self.hh_first

    def person_ids(self, rows: np.ndarray | None = None) -> list[str]:
        idx = np.arange(self.n) if rows is None else rows
        return [f"T{i:09d}" for i in idx.tolist()]

    def adults(self, min_age: int = 16) -> np.ndarray:
        return np.flatnonzero(self.age >= min_age)


# ---------------------------------------------------------------- composition


@dataclass
class _Block:
    """Members of one kind, for many households at once."""

    hh: np.ndarray
    relation: np.ndarray
    male: np.ndarray
    age_days: np.ndarray
    surname: np.ndarray


def _years(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return rng.uniform(lo, hi, n) * DAYS_PER_YEAR


class _Surnames:
    """Surname draws: clan surnames of a village, or the general distribution."""

    def __init__(self, rng: np.random.Generator, n_villages: int) -> None:
        self.rng = rng
        weights = np.array([w for _, w in SURNAMES], dtype=float)
        self.national = weights / weights.sum()
        self.clans = np.zeros((n_villages, 6), dtype=np.int64)
        self.clan_p = np.zeros((n_villages, 6))
        for v in range(n_villages):
            k = int(rng.integers(3, 7))
            self.clans[v, :k] = weighted_sample(rng, weights**0.7, k)
            self.clan_p[v, :k] = rng.dirichlet(np.full(k, 1.6))

    def married_in(self, village: np.ndarray) -> np.ndarray:
        """Spouses often come from the other clans of the same village."""
        return self.native(village, LOCAL_MARRIAGE_SHARE)

    def native(self, village: np.ndarray, clan_share: float = CLAN_SHARE) -> np.ndarray:
        n = len(village)
        out = categorical(self.rng, self.national, n)
        clan = chance(self.rng, n, clan_share)
        rows = np.flatnonzero(clan)
        col = categorical_rows(self.rng, self.clan_p[village[rows]])
        out[rows] = self.clans[village[rows], col]
        return out


def _band(age_years: np.ndarray, edges: list[int]) -> np.ndarray:
    return np.searchsorted(np.asarray(edges), age_years, side="right")


def _compose(rng: np.random.Generator, hh_village: np.ndarray, surnames: _Surnames) -> list[_Block]:
    """All members of all households, as blocks by kind of member."""
    n_hh = len(hh_village)
    hh = np.arange(n_hh)
    ages = np.arange(25, 81)
    age_w = np.exp(-(((ages - 55) / 15.0) ** 2)) + 0.22
    head_years = rng.choice(ages, size=n_hh, p=age_w / age_w.sum())
    head_days = head_years * DAYS_PER_YEAR + rng.uniform(0, 365, n_hh)
    head_male = chance(rng, n_hh, np.where(head_years >= 62, 0.74, 0.9))
    family_sn = surnames.native(hh_village)
    head_sn = np.where(head_male, family_sn, surnames.married_in(hh_village))
    blocks = [_Block(hh, np.full(n_hh, REL["户主"]), head_male, head_days, head_sn)]

    # spouse
    band = _band(head_years, [30, 60, 70])
    p_spouse = np.array([0.55, 0.9, 0.8, 0.58])[band] * np.where(head_male, 1.0, 0.45)
    has_spouse = chance(rng, n_hh, p_spouse)
    s = np.flatnonzero(has_spouse)
    spouse_days = head_days[s] + rng.normal(0, 3, len(s)) * DAYS_PER_YEAR
    spouse_days += np.where(head_male[s], -2.0, 2.0) * DAYS_PER_YEAR
    spouse_days = np.clip(spouse_days, 20 * DAYS_PER_YEAR, 92 * DAYS_PER_YEAR)
    spouse_male = ~head_male[s]
    spouse_sn = np.where(spouse_male, family_sn[s], surnames.married_in(hh_village[s]))
    blocks.append(_Block(s, np.full(len(s), REL["配偶"]), spouse_male, spouse_days, spouse_sn))

    # the younger parent's age decides the children's ages
    mother_days = head_days.copy()
    mother_days[s] = np.minimum(head_days[s], spouse_days)

    # children
    child_p = np.array(
        [
            [0.50, 0.38, 0.12, 0.00],
            [0.20, 0.43, 0.33, 0.04],
            [0.28, 0.42, 0.26, 0.04],
            [0.52, 0.34, 0.12, 0.02],
            [0.66, 0.28, 0.06, 0.00],
            [0.75, 0.22, 0.03, 0.00],
        ]
    )
    n_children = categorical_rows(rng, child_p[_band(head_years, [30, 40, 50, 60, 70])])
    c_hh = np.repeat(hh, n_children)
    gap = _years(rng, 20, 37, len(c_hh))
    c_days = mother_days[c_hh] - gap
    young = c_days < 30
    c_days[young] = rng.uniform(0.05, 1.0, young.sum()) * np.maximum(
        mother_days[c_hh[young]] - 19 * DAYS_PER_YEAR, 60
    )
    c_male = chance(rng, len(c_hh), np.where(c_days > 25 * DAYS_PER_YEAR, 0.72, 0.53))
    c_rel = np.where(c_male, REL["子"], REL["女"])
    blocks.append(_Block(c_hh, c_rel, c_male, c_days, family_sn[c_hh]))

    # a married son brings his wife and children; without a son, sometimes a 女婿
    eldest_son = np.full(n_hh, -1.0)
    np.maximum.at(eldest_son, c_hh[c_male], c_days[c_male])
    eldest_daughter = np.full(n_hh, -1.0)
    np.maximum.at(eldest_daughter, c_hh[~c_male], c_days[~c_male])
    son_years = eldest_son / DAYS_PER_YEAR
    p_dil = np.clip((son_years - 22) / 8, 0, 0.7)
    dil_hh = np.flatnonzero(chance(rng, n_hh, p_dil) & (eldest_son > 0))
    dil_days = eldest_son[dil_hh] - rng.normal(1.5, 2.0, len(dil_hh)) * DAYS_PER_YEAR
    dil_days = np.maximum(dil_days, 20 * DAYS_PER_YEAR)
    blocks.append(
        _Block(
            dil_hh,
            np.full(len(dil_hh), REL["儿媳"]),
            np.zeros(len(dil_hh), bool),
            dil_days,
            surnames.married_in(hh_village[dil_hh]),
        )
    )
    daughter_years = eldest_daughter / DAYS_PER_YEAR
    p_sil = np.where((eldest_son < 0) & (daughter_years >= 24), 0.2, 0.0)
    sil_hh = np.flatnonzero(chance(rng, n_hh, p_sil))
    sil_days = eldest_daughter[sil_hh] + rng.normal(1.5, 2.0, len(sil_hh)) * DAYS_PER_YEAR
    sil_days = np.maximum(sil_days, 21 * DAYS_PER_YEAR)
    blocks.append(
        _Block(
            sil_hh,
            np.full(len(sil_hh), REL["女婿"]),
            np.ones(len(sil_hh), bool),
            sil_days,
            surnames.married_in(hh_village[sil_hh]),
        )
    )

    # grandchildren: children of the son and his wife, or of the daughter and the 女婿
    parent_hh = np.r_[dil_hh, sil_hh]
    young_mother_days = np.r_[dil_days, eldest_daughter[sil_hh]]
    mother_years = young_mother_days / DAYS_PER_YEAR
    gk_p = np.where((mother_years >= 26)[:, None], [[0.22, 0.5, 0.28]], [[0.6, 0.35, 0.05]])
    n_gk = categorical_rows(rng, gk_p)
    g_idx = np.repeat(np.arange(len(parent_hh)), n_gk)
    g_hh = parent_hh[g_idx]
    g_days = young_mother_days[g_idx] - _years(rng, 20, 34, len(g_hh))
    too_young = g_days < 30
    g_days[too_young] = rng.uniform(0.05, 1.0, too_young.sum()) * np.maximum(
        young_mother_days[g_idx[too_young]] - 19 * DAYS_PER_YEAR, 60
    )
    g_male = chance(rng, len(g_hh), 0.53)
    g_rel = np.where(g_male, REL["孙子"], REL["孙女"])
    blocks.append(_Block(g_hh, g_rel, g_male, g_days, family_sn[g_hh]))

    # the head's parents
    pb = _band(head_years, [40, 50, 60])
    for rel, male, probs, gap_lo, gap_hi in (
        ("父亲", True, [0.25, 0.12, 0.04, 0.01], 22, 36),
        ("母亲", False, [0.35, 0.22, 0.09, 0.02], 20, 32),
    ):
        p_hh = np.flatnonzero(chance(rng, n_hh, np.array(probs)[pb]))
        p_days = head_days[p_hh] + _years(rng, gap_lo, gap_hi, len(p_hh))
        alive = p_days < 97 * DAYS_PER_YEAR
        p_hh, p_days = p_hh[alive], p_days[alive]
        sn = head_sn[p_hh] if male else surnames.married_in(hh_village[p_hh])
        blocks.append(
            _Block(p_hh, np.full(len(p_hh), REL[rel]), np.full(len(p_hh), male), p_days, sn)
        )

    # an unmarried brother or sister, rarely someone else (a nephew, a cousin)
    sib_hh = np.flatnonzero(chance(rng, n_hh, np.where(head_years < 60, 0.03, 0.0)))
    sib_male = chance(rng, len(sib_hh), 0.6)
    sib_days = head_days[sib_hh] + rng.uniform(-10, 10, len(sib_hh)) * DAYS_PER_YEAR
    sib_days = np.maximum(sib_days, 16.2 * DAYS_PER_YEAR)
    blocks.append(
        _Block(
            sib_hh,
            np.where(sib_male, REL["兄弟"], REL["姐妹"]),
            sib_male,
            sib_days,
            head_sn[sib_hh],
        )
    )
    oth_hh = np.flatnonzero(chance(rng, n_hh, 0.005))
    blocks.append(
        _Block(
            oth_hh,
            np.full(len(oth_hh), REL["其他"]),
            chance(rng, len(oth_hh), 0.55),
            _years(rng, 5, 80, len(oth_hh)),
            surnames.native(hh_village[oth_hh]),
        )
    )
    return blocks


# ---------------------------------------------------------------- names


def _era(birth_year: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array([1960, 1985, 2005]), birth_year, side="right")


def _given_names(
    rng: np.random.Generator, male: np.ndarray, era: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """A given-name code per person, and the text of each code."""
    male_pools, female_pools = given_pools()
    pools = male_pools + female_pools  # pool index = (0 if male else 4) + era
    flat: list[str] = []
    offsets = []
    for pool in pools:
        offsets.append(len(flat))
        flat.extend(pool)
    code = np.zeros(len(male), dtype=np.int64)
    pool_of = np.where(male, 0, 4) + era
    for k, pool in enumerate(pools):
        rows = np.flatnonzero(pool_of == k)
        code[rows] = offsets[k] + rng.choice(
            len(pool), size=len(rows), p=zipf_weights(len(pool), 0.55)
        )
    return code, flat


def _dedupe_in_household(
    rng: np.random.Generator,
    household: np.ndarray,
    surname: np.ndarray,
    given: np.ndarray,
    male: np.ndarray,
    era: np.ndarray,
) -> None:
    """Two members of one household never share a full name: redraw the later one."""
    male_pools, female_pools = given_pools()
    sizes = [len(p) for p in male_pools + female_pools]
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    for _ in range(6):
        key = (household * 1000 + surname) * 1000 + given
        _, first = np.unique(key, return_index=True)
        later = np.ones(len(key), dtype=bool)
        later[first] = False
        rows = np.flatnonzero(later)
        if len(rows) == 0:
            return
        pool = np.where(male[rows], 0, 4) + era[rows]
        size = np.array(sizes)[pool]
        given[rows] = offsets[pool] + (rng.random(len(rows)) * size).astype(np.int64)


def _force_homonyms(
    rng: np.random.Generator,
    village: np.ndarray,
    household: np.ndarray,
    surname: np.ndarray,
    given: np.ndarray,
    male: np.ndarray,
    birth_year: np.ndarray,
    pairs_per_village: int = 2,
) -> None:
    """Make sure every village has same-name, same-birth-year pairs (different households)."""
    key = ((village * 1000 + surname) * 2 + male) * 3000 + birth_year
    order = np.lexsort((household, key))
    k = key[order]
    same_next = (k[1:] == k[:-1]) & (household[order][1:] != household[order][:-1])
    first, second = order[:-1][same_next], order[1:][same_next]
    pair_village = village[first]  # sorted: the key starts with the village
    bounds = np.searchsorted(pair_village, np.arange(village.max(initial=0) + 2))
    for v in range(len(bounds) - 1):
        lo, hi = bounds[v], bounds[v + 1]
        if hi > lo:
            take = lo + rng.permutation(hi - lo)[:pairs_per_village]
            given[second[take]] = given[first[take]]


# ---------------------------------------------------------------- traits


def _education(rng: np.random.Generator, age: np.ndarray, male: np.ndarray) -> np.ndarray:
    labels = ["文盲", "小学", "初中", "高中", "中专", "大专", "本科及以上"]
    bands = [
        [0, 1, 0, 0, 0, 0, 0],  # 7-12 at school
        [0, 0, 1, 0, 0, 0, 0],  # 13-15
        [0, 0, 0.15, 0.55, 0.30, 0, 0],  # 16-18
        [0, 0, 0.10, 0.25, 0.15, 0.25, 0.25],  # 19-22
        [0.01, 0.07, 0.35, 0.20, 0.12, 0.15, 0.10],  # 23-46
        [0.03, 0.30, 0.45, 0.14, 0.05, 0.02, 0.01],  # 47-66
        [0.35, 0.45, 0.15, 0.05, 0, 0, 0],  # 67+
    ]
    band = _band(age, [13, 16, 19, 23, 47, 67]).clip(0, 6)
    probs = np.array(bands, dtype=float)[band]
    old_women = (age >= 67) & ~male
    probs[old_women] = [0.55, 0.35, 0.08, 0.02, 0, 0, 0]
    pick = categorical_rows(rng, probs)
    out = np.array([EDU[x] for x in labels])[pick]
    out[age < 7] = EDU["学龄前"]
    return out


def _occupation(
    rng: np.random.Generator, age: np.ndarray, industry_of_person: np.ndarray
) -> np.ndarray:
    n = len(age)
    occ = np.full(n, OCC["无业"])
    occ[age < 7] = OCC["学龄前"]
    occ[(age >= 7) & (age <= 18)] = OCC["学生"]
    young = np.flatnonzero((age >= 19) & (age <= 22))
    occ[young] = np.array([OCC[x] for x in ("学生", "外出务工", "务工人员", "无业")])[
        categorical(rng, [0.5, 0.25, 0.15, 0.1], len(young))
    ]
    working = np.flatnonzero((age >= 23) & (age <= 59))
    general = ["外出务工", "务工人员", "种植户", "个体工商户", "电商", "无业", "教师", "公职人员"]
    general += ["村干部", "养殖户"]
    occ[working] = np.array([OCC[x] for x in general])[
        categorical(rng, [0.27, 0.24, 0.14, 0.08, 0.03, 0.12, 0.02, 0.02, 0.01, 0.07], len(working))
    ]
    aligned = working[chance(rng, len(working), 0.38)]
    for k, industry in enumerate(INDUSTRIES):
        rows = aligned[industry_of_person[aligned] == k]
        choices = INDUSTRY_OCCUPATION[industry]
        occ[rows] = np.array([OCC[x] for x in choices])[rng.integers(0, len(choices), len(rows))]
    old = np.flatnonzero(age >= 60)
    occ[old] = np.array([OCC[x] for x in ("种植户", "退休", "无业", "养殖户")])[
        categorical(rng, [0.45, 0.12, 0.35, 0.08], len(old))
    ]
    return occ


def _phones(
    rng: np.random.Generator, age: np.ndarray, household: np.ndarray, hh_first: np.ndarray
) -> tuple[list[str | None], list[str], list[str | None]]:
    n = len(age)
    band = _band(age, [10, 14, 16, 18, 60, 70, 80])
    p_own = np.array([0.0, 0.15, 0.55, 0.88, 0.98, 0.92, 0.75, 0.5])[band]
    owns = chance(rng, n, p_own)
    numbers = build_mobiles(rng, 2 * n)
    phone: list[str | None] = [numbers[i] if owns[i] else None for i in range(n)]
    alt = numbers[n:]
    head_phone = [phone[h] for h in hh_first.tolist()]
    # reach people without a phone on the head's (or the first member with one)
    for h, first in enumerate(hh_first.tolist()):
        if head_phone[h] is None and first + 1 < n and household[first + 1] == h:
            head_phone[h] = phone[first + 1]
    via_family = chance(rng, n, 0.7)
    contact = [
        p if p is not None else (head_phone[h] if via_family[i] else None)
        for i, (p, h) in enumerate(zip(phone, household.tolist(), strict=True))
    ]
    return phone, alt, contact


def _industries(rng: np.random.Generator, geo: Geography, hh_village: np.ndarray) -> np.ndarray:
    """Villages specialise: each village's mix is its township's, sharpened at random."""
    base = np.array([t.industries for t in geo.townships], dtype=float)
    village_mix = base[geo.village_township] * rng.gamma(0.8, 1.0, (len(geo.village_code), 8))
    village_mix[:, -1] += 0.08  # some households without a specialty everywhere
    return categorical_rows(rng, village_mix[hh_village])


# ---------------------------------------------------------------- assembly


def build_population(rng: np.random.Generator, geo: Geography) -> Population:
    hh_group, hh_lon, hh_lat = place_households(rng, geo)
    n_hh = len(hh_group)
    hh_village = geo.group_village[hh_group]
    hh_township = geo.village_township[hh_village]
    group_start = np.r_[0, np.cumsum(geo.group_households)[:-1]]
    hh_door = np.arange(n_hh) - group_start[hh_group] + 1
    hh_no = [
        f"{geo.group_code[g]}{d:04d}"
        for g, d in zip(hh_group.tolist(), hh_door.tolist(), strict=True)
    ]
    surnames = _Surnames(rng, len(geo.village_code))

    blocks = _compose(rng, hh_village, surnames)
    household = np.concatenate([b.hh for b in blocks])
    relation = np.concatenate([b.relation for b in blocks])
    male = np.concatenate([b.male for b in blocks]).astype(bool)
    age_days = np.concatenate([b.age_days for b in blocks])
    surname = np.concatenate([b.surname for b in blocks])
    rank = np.array([HOUSEHOLD_ORDER[r] for r in RELATIONS])[relation]
    order = np.lexsort((-age_days, rank, household))
    household, relation, male = household[order], relation[order], male[order]
    age_days, surname = age_days[order], surname[order]
    n = len(household)

    birth = TODAY - np.round(age_days).astype("timedelta64[D]")
    age = years_between(birth)
    birth_year = split_ymd(birth)[0]
    hh_size = np.bincount(household, minlength=n_hh)
    hh_first = np.r_[0, np.cumsum(hh_size)[:-1]]
    spouse_rows = np.flatnonzero(relation == REL["配偶"])
    hh_spouse = np.full(n_hh, -1)
    hh_spouse[household[spouse_rows]] = spouse_rows
    village = hh_village[household]

    era = _era(birth_year)
    given, given_text = _given_names(rng, male, era)
    _force_homonyms(rng, village, household, surname, given, male, birth_year)
    _dedupe_in_household(rng, household, surname, given, male, era)
    surname_text = [s for s, _ in SURNAMES]
    surname_list = [surname_text[s] for s in surname.tolist()]
    name = [s + given_text[g] for s, g in zip(surname_list, given.tolist(), strict=True)]

    # where people were born decides the region code of the ID
    married_in = np.isin(relation, [REL["儿媳"], REL["母亲"]]) | ((relation == REL["配偶"]) & ~male)
    p_outside = np.where(married_in, 0.22, np.where(relation == REL["女婿"], 0.5, 0.03))
    outside = chance(rng, n, p_outside)
    region = np.full(n, int(COUNTY_CODE), dtype=np.int64)
    other_codes = np.array([int(c) for c, _ in OTHER_REGIONS])
    other_w = np.array([w for _, w in OTHER_REGIONS], dtype=float)
    region[outside] = other_codes[categorical(rng, other_w, int(outside.sum()))]
    local_registration = ~(outside & chance(rng, n, 0.35))
    id18 = build_citizen_ids(rng, region, birth, male)

    phone, alt_phone, contact_phone = _phones(rng, age, household, hh_first)

    hh_industry = _industries(rng, geo, hh_village)
    education = _education(rng, age, male)
    occupation = _occupation(rng, age, hh_industry[household])
    base_income = np.array([OCCUPATION_INCOME[o] for o in OCCUPATIONS], dtype=float)
    income = np.round(base_income[occupation] * rng.lognormal(0, 0.45, n), -2)

    # hidden risk: a household share and a personal share
    hh_risk = rng.normal(0, 1, n_hh)
    risk = 0.55 * hh_risk[household] + 0.835 * rng.normal(0, 1, n)
    adult = age >= 18
    gamble_logit = np.where(male, -4.0, -6.0) + 1.3 * risk
    gambling = adult & (age <= 68) & chance(rng, n, sigmoid(gamble_logit))
    vice_logit = np.where(male, -4.6, -6.8) + 1.2 * risk
    other_vice = adult & chance(rng, n, sigmoid(vice_logit))
    debt_logit = -3.9 + 0.9 * risk + 1.2 * gambling
    informal_debt = (age >= 25) & (age <= 72) & chance(rng, n, sigmoid(debt_logit))

    industry_income = np.array([INDUSTRY_INCOME[x] for x in INDUSTRIES], dtype=float)
    hh_income = np.bincount(household, weights=income, minlength=n_hh)
    hh_income += industry_income[hh_industry] * rng.lognormal(0, 0.5, n_hh)
    hh_income = np.round(np.maximum(hh_income, 3000), -2)
    head_age = age[hh_first]
    saving = rng.lognormal(-1.1, 0.9, n_hh) * (1 + np.maximum(0, head_age - 40) / 25)
    hh_deposits = np.round(hh_income * saving * np.exp(-0.25 * hh_risk), 2)
    house = rng.uniform(8, 45, n_hh) * np.where(hh_industry == INDUSTRIES.index("无"), 0.8, 1.0)
    equipment = industry_income[hh_industry] / 10000 * rng.uniform(0.3, 1.5, n_hh)
    hh_assets_wan = np.round(house + equipment + hh_deposits / 10000, 1)
    debt_hh = np.bincount(household, weights=informal_debt, minlength=n_hh) > 0
    hh_liabilities_wan = np.round(np.where(debt_hh, rng.uniform(2, 25, n_hh), 0.0), 1)

    return Population(
        hh_count=n_hh,
        hh_no=hh_no,
        hh_group=hh_group,
        hh_village=hh_village,
        hh_township=hh_township,
        hh_door=hh_door,
        hh_lon=hh_lon,
        hh_lat=hh_lat,
        hh_grid=grid_codes(geo, hh_group),
        hh_industry=hh_industry,
        hh_first=hh_first,
        hh_size=hh_size,
        hh_spouse=hh_spouse,
        hh_income=hh_income,
        hh_deposits=hh_deposits,
        hh_assets_wan=hh_assets_wan,
        hh_liabilities_wan=hh_liabilities_wan,
        hh_risk=hh_risk,
        n=n,
        household=household,
        relation=relation,
        male=male,
        birth=birth,
        age=age,
        surname=surname_list,
        name=name,
        id18=id18,
        region=region,
        local_registration=local_registration,
        phone=phone,
        alt_phone=alt_phone,
        contact_phone=contact_phone,
        education=education,
        occupation=occupation,
        income=income,
        risk=risk,
        gambling=gambling,
        other_vice=other_vice,
        informal_debt=informal_debt,
    )
