"""SQL expression builders for standardisation, written once for both engines.

Only functions whose spelling and semantics agree in DuckDB and Spark SQL are used
(substr, translate, try_cast, make_date, md5, regexp_extract...); the two that differ
(replace-all and full match) come from the engine. No backslashes in patterns: Spark's
string literals would eat them.
"""

from __future__ import annotations

from cunxin.datapool.engine.base import Engine
from cunxin.lib import idnumber
from cunxin.lib.text import INVISIBLE

FULLWIDTH_FROM = "０１２３４５６７８９ｘＸ－／．："
FULLWIDTH_TO = "0123456789XX-/.:"
# dates: full-width digits to half-width, 年 月 / . ． － ／ to '-', 日 dropped
DATE_FROM = "０１２３４５６７８９年月/.．－／日"
DATE_TO = "0123456789-------"
# the same rules as cunxin.lib.idnumber, which is the reference in Python
ID_WEIGHTS = idnumber.WEIGHTS
PROVINCES = sorted(idnumber.PROVINCE_CODES)
REFERENCE_DATE = "DATE '2026-11-28'"  # the data date of the ODS feed; ages are as of it


def halfwidth(e: Engine, expr: str) -> str:
    """Full-width digits and separators to half-width, spaces (also U+3000) removed.

    `translate` over multi-byte characters is slow, so plain ASCII values skip it."""
    plain = e.matches(expr, "[0-9A-Za-z.,:/+-]*")
    return f"CASE WHEN {plain} THEN {expr} ELSE translate({expr}, '{FULLWIDTH_FROM} 　\t', '{FULLWIDTH_TO}') END"


def clean_text(expr: str) -> str:
    """Trimmed text, NULL when empty."""
    return f"nullif(trim({expr}), '')"


def clean_name(e: Engine, expr: str) -> str:
    """Names: no spaces (also U+3000), middle dots unified, no invisible formatting
    characters (bidi overrides, zero-width spaces: `cunxin.lib.text.INVISIBLE`, deleted
    by translate as they have no counterpart); NULL when empty."""
    return f"nullif(translate(trim({expr}), '·•　 \t{INVISIBLE}', '··'), '')"


def raw_if_invisible(expr: str) -> str:
    """The raw value when it holds invisible characters (what `clean_name` deleted, kept
    for the provenance), else NULL."""
    return f"CASE WHEN translate({expr}, '{INVISIBLE}', '') <> {expr} THEN {expr} END"


def id_clean(e: Engine, expr: str) -> str:
    return f"upper({halfwidth(e, f'coalesce({expr}, {chr(39)}{chr(39)})')})"


def id_upgraded(e: Engine, cleaned: str) -> str:
    """15-digit legacy numbers upgraded to 17 digits + placeholder; others unchanged."""
    first17 = f"substr({cleaned}, 1, 6) || '19' || substr({cleaned}, 7, 9)"
    return (
        f"CASE WHEN {e.matches(cleaned, '[0-9]{15}')} "
        f"THEN {first17} || {check_char(first17)} ELSE {cleaned} END"
    )


def check_char(first17: str) -> str:
    total = " + ".join(
        f"(ascii(substr({first17}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ID_WEIGHTS)
    )
    return f"substr('10X98765432', (({total}) % 11) + 1, 1)"


def id_reason(e: Engine, upgraded: str) -> str:
    """Why an ID (already cleaned and upgraded) is unusable; '' when it is valid."""
    provinces = ", ".join(f"'{p}'" for p in PROVINCES)
    return (
        f"CASE WHEN {upgraded} = '' THEN 'empty' "
        f"WHEN NOT {e.matches(upgraded, '[0-9]{17}[0-9X]')} THEN 'bad_shape' "
        f"WHEN substr({upgraded}, 1, 2) NOT IN ({provinces}) THEN 'bad_region' "
        f"WHEN coalesce({ymd_date(f'substr({upgraded}, 7, 8)')} > {REFERENCE_DATE}, true) "
        "THEN 'bad_birth_date' "
        f"WHEN {check_char(upgraded)} <> substr({upgraded}, 18, 1) THEN 'bad_check_digit' "
        f"ELSE '' END"
    )


def id_birth_date(upgraded: str) -> str:
    return ymd_date(f"substr({upgraded}, 7, 8)")


def id_gender(upgraded: str) -> str:
    return f"CASE WHEN substr({upgraded}, 17, 1) IN ('1', '3', '5', '7', '9') THEN 'M' ELSE 'F' END"


def phone(e: Engine, expr: str) -> str:
    """A mainland mobile number (11 digits), +86 / 86- prefixes dropped; NULL otherwise."""
    digits = e.regexp_replace_all(halfwidth(e, f"coalesce({expr}, '')"), "[^0-9]", "")
    local = f"CASE WHEN length({digits}) = 13 AND substr({digits}, 1, 2) = '86' THEN substr({digits}, 3) ELSE {digits} END"
    return f"CASE WHEN {e.matches(local, '1[3-9][0-9]{9}')} THEN {local} END"


def date_text(e: Engine, expr: str) -> str:
    """First layer of date parsing: separators unified to '-', time part dropped.

    ASCII text takes cheap `replace`s; only text with full-width digits or 年月日 goes
    through `translate`, which is slow over multi-byte characters."""
    ascii_only = e.matches(expr, "[0-9 :T/.-]*")
    fast = f"replace(replace(trim({expr}), '/', '-'), '.', '-')"
    slow = f"translate(trim(coalesce({expr}, '')), '{DATE_FROM}', '{DATE_TO}')"
    t = f"CASE WHEN {ascii_only} THEN {fast} ELSE {slow} END"
    return f"split_part(trim(split_part({t}, ' ', 1)), 'T', 1)"


def date_ymd(e: Engine, t: str, *, month_only: bool = False) -> str:
    """Second layer: the text column `t` (from `date_text`) as 'YYYYMMDD', or NULL.

    Accepts 20210305, 2021-3-5 (from 2021/3/5, 2021.3.5, 2021年3月5日) and, with
    `month_only`, 202103 and 2021-3 (day 01)."""
    if month_only:
        compact, dashed = e.matches(t, "[0-9]{6}"), e.matches(t, "[0-9]{4}-[0-9]{1,2}-?")
        return (
            f"CASE WHEN {compact} THEN {t} || '01' WHEN {dashed} THEN split_part({t}, '-', 1) "
            f"|| lpad(split_part({t}, '-', 2), 2, '0') || '01' END"
        )
    compact = e.matches(t, "[0-9]{8}")
    dashed = e.matches(t, "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}-?")
    return (
        f"CASE WHEN {compact} THEN {t} WHEN {dashed} THEN split_part({t}, '-', 1) "
        f"|| lpad(split_part({t}, '-', 2), 2, '0') || lpad(split_part({t}, '-', 3), 2, '0') END"
    )


def ymd_date(ymd: str) -> str:
    """Last layer: a real calendar date (1900-2100) from the 'YYYYMMDD' text `ymd`, else
    NULL. Both engines' casts reject impossible days such as 2023-02-31."""
    iso = f"substr({ymd}, 1, 4) || '-' || substr({ymd}, 5, 2) || '-' || substr({ymd}, 7, 2)"
    return (
        f"CASE WHEN substr({ymd}, 1, 4) BETWEEN '1900' AND '2100' THEN try_cast({iso} AS DATE) END"
    )


def _number(e: Engine, expr: str) -> str:
    """A decimal number; thousands separators only where they group by three ('1,2000' is
    a typo, not twelve thousand)."""
    t = f"replace(replace({halfwidth(e, f'coalesce({expr}, {chr(39)}{chr(39)})')}, '元', ''), '万', '')"
    plain = e.matches(t, "-?[0-9]+([.][0-9]+)?")
    grouped = e.matches(t, "-?[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?")
    return (
        f"CASE WHEN {plain} OR {grouped} THEN try_cast(replace({t}, ',', '') AS DECIMAL(26, 6)) END"
    )


def fen_from_yuan(e: Engine, expr: str) -> str:
    """Money in yuan ('12,345.60', '12345.6元') to integer fen. 万 marks 10,000 yuan."""
    wan = f"coalesce({expr}, '') LIKE '%万%'"
    return (
        f"CAST(round({_number(e, expr)} * CASE WHEN {wan} THEN 1000000 ELSE 100 END, 0) AS BIGINT)"
    )


def fen_from_wan(e: Engine, expr: str) -> str:
    """Money in 万元 (the unit of the column) to integer fen."""
    return f"CAST(round({_number(e, expr)} * 1000000, 0) AS BIGINT)"


def integer(e: Engine, expr: str) -> str:
    """Whole numbers only: '3.5' is NULL on every engine (casts would round or truncate)."""
    t = f"trim({halfwidth(e, f'coalesce({expr}, {chr(39)}{chr(39)})')})"
    return f"CASE WHEN {e.matches(t, '-?[0-9]{1,18}')} THEN try_cast({t} AS BIGINT) END"


def decimal(e: Engine, expr: str) -> str:
    """A plain decimal number (no exponents, underscores or hex, which engines read
    differently), as DECIMAL(20, 6)."""
    t = f"trim({halfwidth(e, f'coalesce({expr}, {chr(39)}{chr(39)})')})"
    return (
        f"CASE WHEN {e.matches(t, '-?[0-9]+([.][0-9]+)?')} THEN try_cast({t} AS DECIMAL(20, 6)) END"
    )


def stable_uid(prefix: str, *parts: str) -> str:
    """A stable 17-character key from business keys (keyed by the pool secret in `parts`)."""
    joined = " || '|' || ".join(f"coalesce(CAST({p} AS STRING), '')" for p in parts)
    return f"'{prefix}' || substr(md5({joined}), 1, 16)"
