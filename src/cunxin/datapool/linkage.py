"""Identity linkage: every standardized record to one golden person, or to none.

1. Exact: a record with a valid (or upgraded 15-digit) ID number is that person's.
2. Customer number: a deposit or loan row without a usable ID, whose customer number
   belongs to a customer-master row with a valid ID.
3. Probabilistic (Splink, link-only): the remaining records against the persons found in
   1, comparing name, phone, the unusable ID's digits (a typo is one or two edits away),
   birth date, village and gender. A record is linked to its best candidate only when
   that candidate is clearly better than any other: two people of the same name in the
   same village (重名) with nothing else to tell them apart leave the record unlinked
   (`ambiguous`), never merged with the wrong person.

The model's m/u probabilities are fixed in `MODEL` (not estimated per run) so that DuckDB
and Spark produce the same scores for the same input, and so that a small pool does not
learn a worse model than a large one. They were set from the synthetic county's error
rates; `docs/datapool.md` says how to re-estimate them for a bank's own data.
"""

from __future__ import annotations

import logging
from typing import Any

from cunxin.datapool.engine.base import Engine

MATCH_THRESHOLD = 0.95  # link only above this probability
AMBIGUITY_WEIGHT_GAP = 6.0  # best must beat the runner-up by this many bits (64x) ...
RUNNER_UP_FLOOR = 0.5  # ... whenever the runner-up itself has at least this probability

# (m, u) per comparison level, highest level first; the last pair is the "else" level.
MODEL: dict[str, Any] = {
    "prior": 1 / 850_000,
    "name": [(0.90, 0.002), (0.07, 0.02), (0.03, 0.978)],  # exact, 1 edit, else
    "phone": [(0.80, 0.00001), (0.20, 0.99999)],  # any known phone equal, else
    "id_digits": [(0.90, 0.00001), (0.10, 0.99999)],  # ≤ 2 edits, else
    "birth_date": [(0.95, 0.0001), (0.05, 0.9999)],
    "village_code": [(0.95, 0.005), (0.05, 0.995)],
    "gender": [(0.99, 0.5), (0.01, 0.5)],
}

CANDIDATE_COLUMNS = (
    "unique_id",
    "name",
    "phone",
    "phone_alt",
    "id_digits",
    "birth_date",
    "village_code",
    "gender",
)


def _levels(cll: Any, kind: str, col: str) -> list[Any]:
    if kind == "name":
        return [
            cll.NullLevel(col),
            cll.ExactMatchLevel(col),
            cll.LevenshteinLevel(col, 1),
            cll.ElseLevel(),
        ]
    if kind == "phone":
        any_equal = (
            "(phone_l = phone_r OR phone_l = phone_alt_r OR phone_alt_l = phone_r "
            "OR phone_alt_l = phone_alt_r)"
        )
        return [
            cll.CustomLevel(
                "(phone_l IS NULL AND phone_alt_l IS NULL) OR (phone_r IS NULL AND phone_alt_r IS NULL)",
                "phone missing",
            ).configure(is_null_level=True),
            cll.CustomLevel(any_equal, "a phone in common"),
            cll.ElseLevel(),
        ]
    if kind == "id_digits":
        return [cll.NullLevel(col), cll.LevenshteinLevel(col, 2), cll.ElseLevel()]
    return [cll.NullLevel(col), cll.ExactMatchLevel(col), cll.ElseLevel()]


def settings() -> Any:
    import splink.comparison_level_library as cll
    from splink import SettingsCreator, block_on
    from splink.comparison_library import CustomComparison

    comparisons = []
    for kind, col in (
        ("name", "name"),
        ("phone", "phone"),
        ("id_digits", "id_digits"),
        ("birth_date", "birth_date"),
        ("village_code", "village_code"),
        ("gender", "gender"),
    ):
        params = MODEL[kind]
        comparisons.append(
            CustomComparison(
                comparison_levels=_levels(cll, kind, col),
                output_column_name=kind,
            ).configure(
                m_probabilities=[m for m, _ in params],
                u_probabilities=[u for _, u in params],
            )
        )
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("name", "village_code"),
            block_on("phone"),
            "l.phone = r.phone_alt",
            "l.phone_alt = r.phone",  # Splink may put either table on the left
            block_on("name", "birth_date"),
            block_on("name", "substr(id_digits, 1, 10)"),
            block_on("name", "substr(id_digits, 11, 8)"),
        ],
        probability_two_random_records_match=MODEL["prior"],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        unique_id_column_name="unique_id",
    )


def predict(e: Engine, records_table: str, persons_table: str, into: str) -> None:
    """Score `records_table` against `persons_table` into table `into` with columns
    record_uid, person_uid, match_weight, match_probability (pairs above 0.01)."""
    from splink import Linker

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)
    db_api = e.splink_api()
    left = db_api.register(records_table, table_name=f"{records_table}_splink")
    right = db_api.register(persons_table, table_name=f"{persons_table}_splink")
    linker = Linker([left, right], settings(), log_level=logging.WARNING)
    scored = linker.inference.predict(threshold_match_probability=0.01)
    e.create(
        into,
        f"""
SELECT CASE WHEN unique_id_l LIKE 'R|%' THEN unique_id_l ELSE unique_id_r END AS record_uid,
  CASE WHEN unique_id_l LIKE 'R|%' THEN unique_id_r ELSE unique_id_l END AS person_uid,
  match_weight, match_probability
FROM {scored.physical_name}""",
    )
    db_api.delete_tables_created_by_splink_from_db()
