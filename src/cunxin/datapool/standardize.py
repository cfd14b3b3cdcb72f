"""Standardize: typed, clean columns for every landed source, on the engine.

Each source becomes `std_<source>` with the shared identity columns (below) and its own
typed fields. Policy: a value that is *missing* becomes NULL (and lowers completeness in
the quality report); a value that is *present but unreadable* (an amount such as 壹万, a
date such as 20230231) rejects the row, since it signals a broken record. Invalid ID
numbers do not reject: such records go to probabilistic linkage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cunxin.datapool import sqlfuncs as f
from cunxin.datapool.engine.base import Engine

IDENTITY_COLUMNS = (
    "source",
    "record_key",
    "cust_no",
    "id_raw",
    "id_clean",
    "id18",
    "id_reason",
    "name",
    "name_raw",
    "phone",
    "birth_date",
    "gender",
    "village_code",
    "village_text",
    "group_code",
    "address",
    "as_of",
)


@dataclass(frozen=True)
class Spec:
    """How a source's landed columns map to identity columns and typed fields."""

    identity: dict[str, str]  # identity column -> landed column
    fields: dict[str, str] = field(default_factory=dict)  # landed column -> kind
    as_of: str | None = None  # landed date column that dates the record
    default_as_of: str = "2026-11-28"


# kinds: text, date, month, yuan, wan, money (yuan unless marked 万), int, double
SPECS: dict[str, Spec] = {
    "customer": Spec(
        {"cust_no": "cust_no", "id": "id_number", "name": "name", "phone": "phone",
         "birth_date": "birth_date", "gender": "gender", "village_code": "village_code",
         "address": "address"},
        {"cert_type": "text", "open_date": "date", "update_date": "date"},
        as_of="update_date",
    ),
    "deposit": Spec(
        {"cust_no": "cust_no", "id": "id_number", "name": "name"},
        {"acct_no": "text", "product": "text", "open_date": "date", "balance": "yuan",
         "avg_balance_12m": "yuan", "status": "text"},
        as_of=None,
    ),
    "loan": Spec(
        {"cust_no": "cust_no", "id": "id_number", "name": "name"},
        {"contract_no": "text", "product": "text", "amount": "yuan", "start_date": "date",
         "end_date": "date", "annual_rate": "double", "balance": "yuan", "status": "text",
         "max_overdue_days": "int"},
        as_of="start_date",
    ),
    "farmer_credit": Spec(
        {"id": "id_number", "name": "name", "village_code": "village_code"},
        {"record_id": "text", "family_size": "int", "annual_income": "wan",
         "main_industry": "text", "credit_rating": "text", "rating_date": "date",
         "assets": "wan", "liabilities": "wan"},
        as_of="rating_date",
    ),
    "ebank": Spec(
        {"id": "id_number", "name": "name", "phone": "phone"},
        {"user_id": "text", "channel": "text", "register_date": "date",
         "last_login_date": "date", "txn_count_12m": "int", "txn_amount_12m": "yuan"},
        as_of="last_login_date",
    ),
    "payroll": Spec(
        {"id": "id_number", "name": "name"},
        {"record_id": "text", "employer": "text", "card_no": "text", "first_month": "month",
         "amount_12m": "yuan", "monthly_avg": "yuan"},
    ),
    "grid": Spec(
        {"id": "id_number", "name": "name", "phone": "phone", "birth_date": "birth_date",
         "gender": "gender", "village_code": "village_code", "group_code": "group_code",
         "address": "address"},
        {"record_id": "text", "grid_code": "text", "household_no": "text", "head_name": "text",
         "relation_to_head": "text", "education": "text", "occupation": "text",
         "industry": "text", "longitude": "double", "latitude": "double",
         "registration": "text", "collected_date": "date"},
        as_of="collected_date",
    ),
    "sunshine2017": Spec(
        {"id": "id_number", "name": "name", "village_text": "village"},
        {"record_id": "text", "township": "text", "granted_amount": "wan",
         "granted_date": "date", "rating": "text", "remark": "text"},
        as_of="granted_date",
    ),
    "blackgrey": Spec(
        {"id": "id_number", "name": "name"},
        {"record_id": "text", "list_type": "text", "reason": "text", "listed_date": "date",
         "origin": "text"},
        as_of="listed_date",
    ),
    "social_security": Spec(
        {"id": "id_number", "name": "name"},
        {"record_id": "text", "person_no": "text", "insurance_type": "text", "status": "text",
         "enrol_date": "date", "contribution_base": "yuan", "months_paid": "int"},
        as_of="enrol_date",
    ),
    "real_estate": Spec(
        {"id": "id_number", "name": "name", "phone": "phone", "village_text": "location",
         "address": "location"},
        {"unit_no": "text", "area_m2": "double", "use": "text", "registered_date": "date",
         "appraised_value": "money"},
        as_of="registered_date",
    ),
    "enterprise": Spec(
        {"id": "id_number", "name": "name", "phone": "phone", "village_text": "village"},
        {"credit_code": "text", "company_name": "text", "company_type": "text",
         "registered_capital": "wan", "established_date": "date", "business_scope": "text",
         "status": "text"},
        as_of="established_date",
    ),
}  # fmt: skip

_REASONS = {
    "date": ("bad_date", "unreadable date in {col}"),
    "month": ("bad_date", "unreadable month in {col}"),
    "yuan": ("bad_amount", "unreadable amount in {col}"),
    "wan": ("bad_amount", "unreadable amount in {col}"),
    "money": ("bad_amount", "unreadable amount in {col}"),
    "int": ("bad_number", "unreadable number in {col}"),
    "double": ("bad_number", "unreadable number in {col}"),
}
NULL_TEXT = "CAST(NULL AS STRING)"


def typed(e: Engine, kind: str, col: str) -> str:
    """The typed value of landed column `col`; dates read the `_ymd_<col>` helper column."""
    if kind == "text":
        return f.clean_text(col)
    if kind in ("date", "month"):
        return f.ymd_date(f"_ymd_{col}")
    if kind in ("yuan", "money"):
        return f.fen_from_yuan(e, col)
    if kind == "wan":
        return f.fen_from_wan(e, col)
    if kind == "int":
        return f.integer(e, col)
    if kind == "double":
        return f.decimal(e, col)
    raise ValueError(kind)


def typed_name(col: str, kind: str) -> str:
    return f"{col}_fen" if kind in ("yuan", "wan", "money") else col


def standardize_sql(e: Engine, source: str, key: str, landed_columns: list[str]) -> str:
    """SELECT producing the standardized rows, `_reject_code`, `_reject_reason`, `_raw_line`.

    Built in layers so that each costly expression (ID check, date parsing) is written
    once and referred to by name: engines compile a long CASE per row otherwise.
    """
    spec = SPECS[source]
    ident = spec.identity
    dates = {col: kind for col, kind in spec.fields.items() if kind in ("date", "month")}
    if "birth_date" in ident:
        dates[ident["birth_date"]] = "date"
    raw_id = ident.get("id")

    # layer 1: cleaned ID text, date text
    l1 = [f"{f.id_clean(e, raw_id) if raw_id else chr(39) * 2} AS _id_clean"]
    l1 += [f"{f.date_text(e, col)} AS _t_{col}" for col in dates]
    # layer 2: upgraded ID, dates as YYYYMMDD
    l2 = [f"{f.id_upgraded(e, '_id_clean')} AS _id_up"]
    l2 += [
        f"{f.date_ymd(e, f'_t_{c}', month_only=k == 'month')} AS _ymd_{c}" for c, k in dates.items()
    ]
    # layer 3: ID verdict
    l3 = [f"{f.id_reason(e, '_id_up')} AS _id_reason"]

    def gender(col: str) -> str:
        return (
            f"CASE WHEN trim({col}) IN ('1', '男', 'M') THEN 'M' "
            f"WHEN trim({col}) IN ('2', '女', 'F') THEN 'F' END"
        )

    def code(col: str, digits: int) -> str:
        return f"CASE WHEN {e.matches(f.halfwidth(e, col), f'[0-9]{{{digits}}}')} THEN {f.halfwidth(e, col)} END"

    def opt(name: str, build) -> str:
        return build(ident[name]) if name in ident else NULL_TEXT

    cols: dict[str, str] = {
        "source": f"'{source}'",
        "record_key": key,
        "_file": "_file",
        "cust_no": opt("cust_no", f.clean_text),
        "id_raw": raw_id or NULL_TEXT,
        "id_clean": "_id_clean",
        "id18": "CASE WHEN _id_reason = '' THEN _id_up END",
        "id_reason": "_id_reason",
        "name": f.clean_name(e, ident["name"]),
        "name_raw": f.raw_if_invisible(ident["name"]),
        "phone": opt("phone", lambda c: f.phone(e, c)),
        "birth_date": f.ymd_date(f"_ymd_{ident['birth_date']}")
        if "birth_date" in ident
        else "CAST(NULL AS DATE)",
        "gender": opt("gender", gender),
        "village_code": opt("village_code", lambda c: code(c, 12)),
        "village_text": opt("village_text", f.clean_text),
        "group_code": opt("group_code", lambda c: code(c, 15)),
        "address": opt("address", f.clean_text),
    }
    for col, kind in spec.fields.items():
        cols[typed_name(col, kind)] = typed(e, kind, col)
    as_of = f.ymd_date(f"_ymd_{spec.as_of}") if spec.as_of else "CAST(NULL AS DATE)"
    cols["as_of"] = f"coalesce({as_of}, DATE '{spec.default_as_of}')"
    # presence of each checked raw value, for the reject rules in the last layer
    checked = {col: kind for col, kind in spec.fields.items() if kind in _REASONS}
    if "birth_date" in ident:
        checked[ident["birth_date"]] = "date"
    for col in checked:
        cols[f"_p_{col}"] = f"nullif(trim(coalesce({col}, '')), '') IS NOT NULL"
    passthrough = ", ".join(f"{c} AS _l_{c}" for c in landed_columns)
    raw_line = "concat_ws('|', " + ", ".join(f"coalesce(_l_{c}, '')" for c in landed_columns) + ")"

    rules: list[tuple[str, str, str]] = [
        ("name IS NULL AND id18 IS NULL", "no_identity", "neither a valid ID number nor a name")
    ]
    for col, kind in checked.items():
        code_, reason = _REASONS[kind]
        out = "birth_date" if col == ident.get("birth_date") else typed_name(col, kind)
        rules.append((f"_p_{col} AND {out} IS NULL", code_, reason.format(col=col)))
    reject_code = "CASE " + " ".join(f"WHEN {c} THEN '{k}'" for c, k, _ in rules) + " ELSE '' END"
    reject_reason = "CASE " + " ".join(f"WHEN {c} THEN '{r}'" for c, _, r in rules) + " ELSE '' END"

    select = ",\n    ".join(f"{expr} AS {name}" for name, expr in cols.items())
    # the raw line is only assembled for rejected rows
    return f"""
SELECT {", ".join(cols)}, _reject_code, _reject_reason,
  CASE WHEN _reject_code <> '' THEN {raw_line} END AS _raw_line
FROM (
  SELECT t.*, {reject_code} AS _reject_code, {reject_reason} AS _reject_reason
  FROM (
    SELECT {select}, {passthrough}
    FROM (SELECT *, {", ".join(l3)} FROM (
          SELECT *, {", ".join(l2)} FROM (
            SELECT *, {", ".join(l1)} FROM land_{source}) l1) l2) l3
  ) t
) u"""
