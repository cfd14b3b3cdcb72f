"""Citizen ID numbers (GB 11643-1999).

An 18-character number: 6-digit region code (GB/T 2260), 8-digit birth date, 3-digit
sequence (odd = male), and a check character by ISO 7064 MOD 11-2. Legacy 15-digit
numbers have a 2-digit year and no check character; they upgrade to 18 by inserting
"19" before the year and appending the check character.

The data pool applies the same rules in SQL (`cunxin.datapool.sqlfuncs`); the tests keep
both in agreement.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")
_SHAPE18 = re.compile(r"^\d{17}[\dX]$")
_SHAPE15 = re.compile(r"^\d{15}$")


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean(raw: str | None) -> str:
    """Half-width, upper-case, no spaces: the form every other function expects."""
    if raw is None:
        return ""
    return re.sub(r"\s+", "", raw.translate(_FULLWIDTH)).upper()


def upgrade15(id15: str) -> str:
    """Upgrade a legacy 15-digit number to 18 characters (no validation of the result)."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_char(first17)


def birth_date(id18: str) -> dt.date | None:
    try:
        return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Parsed:
    raw: str
    id18: str | None  # the normalised 18-character number, or None if unusable
    reason: str  # "" if valid, else why it is not usable

    @property
    def valid(self) -> bool:
        return self.id18 is not None


def parse(raw: str | None, *, today: dt.date | None = None) -> Parsed:
    """Normalise and validate an ID as found in a source.

    Reasons: empty, bad_shape, bad_region, bad_birth_date, bad_check_digit.
    """
    text = clean(raw)
    if not text:
        return Parsed(raw or "", None, "empty")
    if _SHAPE15.match(text):
        text = upgrade15(text)
    elif not _SHAPE18.match(text):
        return Parsed(raw or "", None, "bad_shape")
    if text[:2] not in _PROVINCES:
        return Parsed(raw or "", None, "bad_region")
    born = birth_date(text)
    today = today or dt.date.today()
    if born is None or born.year < 1900 or born > today:
        return Parsed(raw or "", None, "bad_birth_date")
    if check_char(text[:17]) != text[17]:
        return Parsed(raw or "", None, "bad_check_digit")
    return Parsed(raw or "", text, "")


def is_valid(raw: str | None) -> bool:
    return parse(raw).valid


def gender(id18: str) -> str:
    """'M' or 'F' from the sequence digit."""
    return "M" if int(id18[16]) % 2 else "F"


# Province-level prefixes of GB/T 2260 (plus 71/81/82 for Taiwan, Hong Kong, Macau).
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
PROVINCE_CODES = _PROVINCES
