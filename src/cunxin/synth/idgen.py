"""Identifiers of the synthetic county, true and messy.

True citizen IDs follow GB 11643-1999: region code of the place of first registration,
birth date, a 3-digit sequence (odd for men) unique within region+date, ISO 7064 MOD 11-2
check character. The messy variants reproduce what clerks and old systems leave behind:
a mistyped digit (which always breaks the check character), the legacy 15-digit form of
people registered before 1999, full-width digits typed with a Chinese input method, a
lowercase x, stray spaces. Also here: mobile numbers, bank card numbers with a Luhn
digit and unified social credit codes (GB 32100-2015) for enterprises.
"""

from __future__ import annotations

import numpy as np

from .common import split_ymd

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")

MOBILE_PREFIXES = np.array(
    [
        *range(130, 140),
        *(150, 151, 152, 153, 155, 156, 157, 158, 159),
        *(170, 173, 175, 176, 177, 178),
        *range(180, 190),
        *(191, 195, 198, 199),
    ],
    dtype=np.int64,
)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) matrix of the decimal digits of non-negative integers."""
    out = np.empty((len(values), width), dtype=np.int64)
    v = values.astype(np.int64).copy()
    for col in range(width - 1, -1, -1):
        v, out[:, col] = np.divmod(v, 10)
    return out


def id_check_chars(first17: np.ndarray) -> np.ndarray:
    """Check characters (as uint8 ASCII) for an (n, 17) digit matrix."""
    return ID_CHECK[(first17 * ID_WEIGHTS).sum(axis=1) % 11]


def build_citizen_ids(
    rng: np.random.Generator, region: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> list[str]:
    """Valid, unique 18-character IDs for people with the given region/birth date/sex."""
    y, m, d = split_ymd(birth)
    ymd = y * 10000 + m * 100 + d
    region = region.astype(np.int64)
    # rank people within (region, birth date, sex) so sequences never collide
    group_key = (region * 100000000 + ymd) * 2 + male.astype(np.int64)
    order = np.lexsort((rng.random(len(region)), group_key))
    sorted_key = group_key[order]
    starts = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group_id = np.cumsum(starts) - 1
    first_pos = np.flatnonzero(starts)
    rank = np.arange(len(order)) - first_pos[group_id]
    offsets = rng.integers(0, 380, size=len(first_pos))
    half = (offsets[group_id] + rank) % 500
    seq = np.empty(len(region), dtype=np.int64)
    seq[order] = half * 2 + male[order].astype(np.int64)

    body = (region * 100000000 + ymd) * 1000 + seq
    digits = _digits(body, 17)
    check = id_check_chars(digits)
    chars = np.empty((len(region), 18), dtype=np.uint8)
    chars[:, :17] = digits + 48
    chars[:, 17] = check
    return chars.view("S18").ravel().astype("U18").tolist()


def legacy15(id18: str) -> str:
    """The 15-digit form (2-digit year, no check character) of a 19xx-born person's ID."""
    return id18[:6] + id18[8:17]


def can_be_legacy(id18: str) -> bool:
    return id18[6:8] == "19"


def mistype(id18: str, rng: np.random.Generator) -> str:
    """One character changed: a wrong digit anywhere, or a wrong check character."""
    pos = int(rng.integers(0, 18))
    if pos == 17:
        choices = [c for c in "0123456789X" if c != id18[17]]
        return id18[:17] + choices[int(rng.integers(0, len(choices)))]
    old = int(id18[pos])
    new = (old + int(rng.integers(1, 10))) % 10
    return id18[:pos] + str(new) + id18[pos + 1 :]


def pad_spaces(text: str, rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.4:
        return " " + text
    if r < 0.8:
        return text + " "
    return " " + text + "  "


def messy_ids(
    rng: np.random.Generator,
    ids: list[str],
    *,
    typo: float = 0.0,
    legacy: float = 0.0,
    fullwidth: float = 0.0,
    lower_x: float = 0.0,
    spaces: float = 0.0,
    missing: float = 0.0,
    missing_value: str | None = "",
) -> list[str | None]:
    """A copy of true 18-character IDs with the given rates of each kind of mess.

    Kinds are exclusive per row except spaces, which may wrap any non-missing value.
    `legacy` applies only to people born in the 1900s; `lower_x` is a share of all rows,
    realised on the IDs that end in X.
    """
    n = len(ids)
    out: list[str | None] = list(ids)
    u = rng.random(n)
    edges = np.cumsum([missing, typo, legacy, fullwidth])
    for i in np.flatnonzero(u < edges[-1]).tolist():
        x = u[i]
        if x < edges[0]:
            out[i] = missing_value
        elif x < edges[1]:
            out[i] = mistype(ids[i], rng)
        elif x < edges[2]:
            out[i] = legacy15(ids[i]) if can_be_legacy(ids[i]) else ids[i]
        else:
            out[i] = ids[i].translate(FULLWIDTH)
    if lower_x > 0:  # one ID in eleven ends in X
        for i in np.flatnonzero(rng.random(n) < min(1.0, lower_x * 11)).tolist():
            value = out[i]
            if value is not None and value.endswith("X"):
                out[i] = value[:-1] + "x"
    if spaces > 0:
        for i in np.flatnonzero(rng.random(n) < spaces).tolist():
            if out[i]:
                out[i] = pad_spaces(out[i], rng)
    return out


# ---------------------------------------------------------------- phones


def build_mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct mobile numbers 1[3-9]x xxxx xxxx."""
    prefix = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), size=n)]
    numbers = prefix * 100000000 + rng.integers(0, 100000000, size=n)
    while True:
        _, first = np.unique(numbers, return_index=True)
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        dup = np.flatnonzero(~keep)
        if len(dup) == 0:
            break
        numbers[dup] = prefix[dup] * 100000000 + rng.integers(0, 100000000, size=len(dup))
    return numbers.astype(str).tolist()


def messy_phones(
    rng: np.random.Generator,
    phones: list[str | None],
    *,
    missing: float = 0.0,
    prefixed: float = 0.0,
    spaced: float = 0.0,
    fullwidth: float = 0.0,
) -> list[str]:
    """Phones as typed into a system: missing, '+86' / '86-' prefixes, spaces, full-width."""
    out = ["" if p is None else p for p in phones]
    n = len(out)
    u = rng.random(n)
    edges = np.cumsum([missing, prefixed, spaced, fullwidth])
    for i in np.flatnonzero(u < edges[-1]).tolist():
        p = out[i]
        if not p:
            continue
        x = u[i]
        if x < edges[0]:
            out[i] = ""
        elif x < edges[1]:
            out[i] = ("+86" if rng.random() < 0.5 else "86-") + p
        elif x < edges[2]:
            out[i] = f"{p[:3]} {p[3:7]} {p[7:]}" if rng.random() < 0.7 else f" {p}"
        else:
            out[i] = p.translate(FULLWIDTH)
    return out


# ---------------------------------------------------------------- cards and codes


def luhn_digit(body: str) -> str:
    total = 0
    for k, ch in enumerate(reversed(body)):
        d = int(ch)
        if k % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def build_card_numbers(rng: np.random.Generator, n: int, bin6: str = "623105") -> list[str]:
    """19-digit debit card numbers with a Luhn check digit, distinct."""
    bodies = np.unique(rng.integers(10**11, 10**12, size=int(n * 1.1) + 10))
    rng.shuffle(bodies)
    return [f"{bin6}{b}" + luhn_digit(f"{bin6}{b}") for b in bodies[:n].tolist()]


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_code(body8: str) -> str:
    """GB 11714 organisation code: 8 characters + MOD 11 check."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return body8 + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc(kind: str, region: str, rng: np.random.Generator) -> str:
    """Unified social credit code: kind is 2 chars (92 个体, 93 合作社, 91 企业)."""
    body8 = "".join(ORG_BODY_CHARS[k] for k in rng.integers(0, 31, size=8).tolist())
    first17 = kind + region + org_code(body8)
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]
