"""Ground truth of the synthetic county, for tests and benchmarks (never read by the pool).

`_truth/` holds who everybody really is (persons.parquet), the true households
(households.parquet), which person every written row is about (source_links.parquet:
one row per distinct record key written; a duplicated line adds no link), how every
loan really ended (loan_outcomes.parquet), which rows were damaged on purpose
(broken_rows.parquet) and the summary counts (summary.json).

Accounting rule: for each source, physical data rows written = links of the source +
its broken rows of kind duplicate_key.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .common import COUNTY_CODE
from .context import Context
from .names import EDUCATIONS, INDUSTRIES, OCCUPATIONS, RELATIONS
from .output import atomic_text, write_parquet


def _pid(rows: np.ndarray) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(rows, pa.int64()), pa.string()), 9, "0")
    return pc.binary_join_element_wise("T", digits, "")


def _dict(values: list[str], codes: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array(values, pa.string())
    ).cast(pa.string())


def persons_table(ctx: Context) -> pa.Table:
    pop, geo = ctx.pop, ctx.geo
    hh = pop.household
    return pa.table(
        {
            "person_id": _pid(np.arange(pop.n)),
            "name": pa.array(pop.name, pa.string()),
            "id_number": pa.array(pop.id18, pa.string()),
            "gender": pa.array(np.where(pop.male, "M", "F").tolist(), pa.string()),
            "birth_date": pa.array(pop.birth.astype("datetime64[D]"), pa.date32()),
            "age": pa.array(pop.age.astype(np.int16)),
            "household_id": pa.array(pop.hh_no, pa.string()).take(hh),
            "relation_to_head": _dict(list(RELATIONS), pop.relation),
            "township_code": pa.array([t.code for t in geo.townships], pa.string()).take(
                pop.hh_township[hh]
            ),
            "village_code": pa.array(ctx.place("village_code"), pa.string()).take(hh),
            "group_code": pa.array(ctx.place("group_code"), pa.string()).take(hh),
            "id_region": pa.array(pop.region.astype(str).tolist(), pa.string()),
            "born_in_county": pa.array(pop.region == int(COUNTY_CODE)),
            "local_registration": pa.array(pop.local_registration),
            "phone": pa.array(pop.phone, pa.string()),
            "education": _dict(list(EDUCATIONS), pop.education),
            "occupation": _dict(list(OCCUPATIONS), pop.occupation),
            "is_customer": pa.array(
                ctx.customers.primary_row >= 0 if ctx.customers else np.zeros(pop.n, bool)
            ),
            "hidden_risk_propensity": pa.array(np.round(pop.risk, 4)),
            "hidden_gambling": pa.array(pop.gambling),
            "hidden_other_vice": pa.array(pop.other_vice),
            "hidden_informal_debt": pa.array(pop.informal_debt),
            "hidden_income": pa.array(pop.income),
            "hidden_alt_phone": pa.array(pop.alt_phone, pa.string()),
        }
    )


def households_table(ctx: Context) -> pa.Table:
    pop = ctx.pop
    return pa.table(
        {
            "household_id": pa.array(pop.hh_no, pa.string()),
            "head_person_id": _pid(pop.hh_first),
            "size": pa.array(pop.hh_size.astype(np.int16)),
            "village_code": pa.array(ctx.place("village_code"), pa.string()),
            "group_code": pa.array(ctx.place("group_code"), pa.string()),
            "grid_code": pa.array(pop.hh_grid, pa.string()),
            "longitude": pa.array(pop.hh_lon / 1e6),
            "latitude": pa.array(pop.hh_lat / 1e6),
            "industry": _dict(list(INDUSTRIES), pop.hh_industry),
            "hidden_income": pa.array(pop.hh_income),
            "hidden_deposits": pa.array(pop.hh_deposits),
            "hidden_assets_wan": pa.array(pop.hh_assets_wan),
            "hidden_informal_liabilities_wan": pa.array(pop.hh_liabilities_wan),
            "hidden_risk": pa.array(np.round(pop.hh_risk, 4)),
        }
    )


def loans_table(ctx: Context) -> pa.Table:
    loans = ctx.loans
    assert loans is not None
    outcome = np.array(loans.outcome)
    return pa.table(
        {
            "contract_no": pa.array(loans.contract_no, pa.string()),
            "person_id": _pid(loans.person),
            "outcome": pa.array(loans.outcome, pa.string()),
            "bad": pa.array(np.isin(outcome, ["overdue", "default"])),
            "hidden_p_bad": pa.array(np.round(loans.p_bad, 5)),
        }
    )


def write_truth(ctx: Context, summary: dict) -> None:
    out: Path = ctx.raw / "_truth"
    write_parquet(out / "persons.parquet", persons_table(ctx))
    write_parquet(out / "households.parquet", households_table(ctx))
    write_parquet(out / "source_links.parquet", ctx.truth.links_table())
    write_parquet(out / "loan_outcomes.parquet", loans_table(ctx))
    write_parquet(out / "broken_rows.parquet", ctx.truth.broken_table())
    with atomic_text(out / "summary.json", encoding="utf-8") as fh:
        json.dump(summary, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
