"""Constants and small vectorised helpers shared by the synthetic-county modules.

The data of the synthetic county is "as of" a fixed day (2026-11-28, the ODS data date),
never the wall clock, so that a seed always gives the same files. Every stage draws from
its own PCG64 stream derived from (seed, stage name) with a stable CRC, so changing how
one source is generated does not shift the random numbers of the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np

TODAY = np.datetime64("2026-11-28", "D")
DATA_DATE = "20261128"
PROVINCE = "江苏省"
CITY = "连云港市"
COUNTY = "灌云县"
COUNTY_CODE = "320723"
DAYS_PER_YEAR = 365.2425

Progress = Callable[[str, int, int], None]


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    """An independent PCG64 generator for one stage of the generation."""
    seq = np.random.SeedSequence([seed, zlib.crc32(stage.encode("utf-8"))])
    return np.random.Generator(np.random.PCG64(seq))


def chance(rng: np.random.Generator, n: int, p: float | np.ndarray) -> np.ndarray:
    """Boolean mask: each of n rows is True with probability p (scalar or per row)."""
    return rng.random(n) < p


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn without replacement with probability ~ weights.

    Gumbel top-k: fast for large populations and independent of any hash order.
    """
    k = min(k, int(np.count_nonzero(weights > 0)))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=len(weights))
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(top)


def categorical(rng: np.random.Generator, probs: Sequence[float], n: int) -> np.ndarray:
    """n draws of category indices from one probability vector."""
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def categorical_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix (rows need not sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] > cum).sum(axis=1), probs.shape[1] - 1)


def allocate(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split an integer total over weights (largest remainder), each part >= minimum."""
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    base = np.full(n, minimum, dtype=np.int64)
    rest = total - base.sum()
    if rest < 0:
        raise ValueError(f"cannot give {minimum} to each of {n} parts out of {total}")
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(np.int64)
    left = int(rest - counts.sum())
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:left]] += 1
    return base + counts


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- dates


def random_dates(
    rng: np.random.Generator, start: str | np.ndarray, end: str | np.ndarray, n: int
) -> np.ndarray:
    """Uniform dates in [start, end] (scalars or per-row arrays), datetime64[D]."""
    lo = np.asarray(start, dtype="datetime64[D]").astype(np.int64)
    hi = np.asarray(end, dtype="datetime64[D]").astype(np.int64)
    hi = np.maximum(hi, lo)
    days = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    return days.astype("datetime64[D]")


def split_ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(dates, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def fmt_compact(dates: np.ndarray) -> list[str]:
    """YYYYMMDD."""
    y, m, d = split_ymd(dates)
    return (y * 10000 + m * 100 + d).astype(str).tolist()


def fmt_iso(dates: np.ndarray) -> list[str]:
    """YYYY-MM-DD."""
    return np.datetime_as_string(np.asarray(dates, dtype="datetime64[D]")).tolist()


def fmt_slash(dates: np.ndarray) -> list[str]:
    """YYYY/M/D without zero padding, as Excel users type it."""
    y, m, d = split_ymd(dates)
    return [f"{a}/{b}/{c}" for a, b, c in zip(y.tolist(), m.tolist(), d.tolist(), strict=True)]


def fmt_chinese(dates: np.ndarray) -> list[str]:
    """YYYY年M月D日."""
    y, m, d = split_ymd(dates)
    return [f"{a}年{b}月{c}日" for a, b, c in zip(y.tolist(), m.tolist(), d.tolist(), strict=True)]


def fmt_dotted(dates: np.ndarray) -> list[str]:
    """YYYY.MM.DD."""
    y, m, d = split_ymd(dates)
    return [
        f"{a}.{b:02d}.{c:02d}" for a, b, c in zip(y.tolist(), m.tolist(), d.tolist(), strict=True)
    ]


def fmt_month_compact(dates: np.ndarray) -> list[str]:
    """YYYYMM."""
    y, m, _ = split_ymd(dates)
    return (y * 100 + m).astype(str).tolist()


def fmt_month_dash(dates: np.ndarray) -> list[str]:
    """YYYY-MM."""
    y, m, _ = split_ymd(dates)
    return [f"{a}-{b:02d}" for a, b in zip(y.tolist(), m.tolist(), strict=True)]


DATE_FORMATTERS: dict[str, Callable[[np.ndarray], list[str]]] = {
    "compact": fmt_compact,
    "iso": fmt_iso,
    "slash": fmt_slash,
    "chinese": fmt_chinese,
    "dotted": fmt_dotted,
}


def fmt_dates_mixed(
    rng: np.random.Generator, dates: np.ndarray, shares: dict[str, float]
) -> list[str]:
    """Format each date in one of several styles, chosen per row with the given shares."""
    styles = list(shares)
    choice = categorical(rng, [shares[s] for s in styles], len(dates))
    out: list[str] = [""] * len(dates)
    for k, style in enumerate(styles):
        rows = np.flatnonzero(choice == k)
        if len(rows) == 0:
            continue
        texts = DATE_FORMATTERS[style](np.asarray(dates)[rows])
        for i, t in zip(rows.tolist(), texts, strict=True):
            out[i] = t
    return out


def years_between(born: np.ndarray, on: np.datetime64 = TODAY) -> np.ndarray:
    """Completed years of age on a day."""
    by, bm, bd = split_ymd(born)
    ty, tm, td = split_ymd(np.asarray([on]))
    before = (bm > tm[0]) | ((bm == tm[0]) & (bd > td[0]))
    return ty[0] - by - before.astype(np.int64)


def fmt_money(values: np.ndarray) -> list[str]:
    """Yuan with 2 decimals."""
    return [f"{v:.2f}" for v in np.asarray(values, dtype=float).tolist()]


def fmt_wan(values: np.ndarray) -> list[str]:
    """万元 with at most 1 decimal and no trailing zero: '8.5', '12'."""
    out = []
    for v in np.round(np.asarray(values, dtype=float), 1).tolist():
        out.append(str(int(v)) if v == int(v) else f"{v:.1f}")
    return out
