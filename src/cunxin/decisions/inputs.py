"""What a credit decision reads, for one person or a whole county in a few queries.

For each person: age, risk flags, the signed-off evaluation (as corrected at the visit),
the survey amount, the active model's score and grade, and the household's capacity
(income, assets, liabilities, arrears: the 360 profile's figures, published as columns). A decision for one person and a
batch over 742,000 read the same rows the same way: `load` is the one reader.

Age: the exact age needs the date of birth, which is inside the encrypted ID number. A
single decision decrypts it (never shown). A batch takes the age from the year of birth,
which is the exact age or one more, and `cunxin.decisions.batch` decrypts only where the
two candidate ages would decide differently.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection

from cunxin.credit.decide import Applicant
from cunxin.evaluation.models import RoundKind
from cunxin.lib.idnumber import birth_date


@dataclass(slots=True)
class Inputs:
    """One person's inputs: who, where, the applicant, and where each input came from."""

    person_uid: str
    household_id: str
    village_id: str
    birth_year: int | None
    applicant: Applicant
    sources: dict


def scope_where(kind: str, code: str = "") -> tuple[str, list]:
    """SQL on `pool_person p` for the persons of a village, a branch, the county or one
    person (kind "person"), not retired."""
    where = {
        "person": "p.uid = %s",
        "village": "p.village_id = %s",
        "branch": "p.village_id IN (SELECT code FROM org_village WHERE branch_id = %s)",
        "county": "p.village_id IS NOT NULL",
    }[kind]
    return f"p.retired_at IS NULL AND {where}", ([] if kind == "county" else [code])


def _rows(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            yield from batch


def _json(value) -> dict:
    if value is None or isinstance(value, dict):
        return value or {}
    return json.loads(value)


def load(
    where: str, params: list, on: dt.date, *, model_pk: int | None, min_year_age: int | None = None
) -> list[Inputs]:
    """Everyone matching `where` (see `scope_where`), with `min_year_age` keeping those
    at least that old by year of birth. Ages are by year of birth (see the module's
    docstring); `exact_age` gives the exact one."""
    persons = f"SELECT p.uid FROM pool_person p WHERE {where}"
    flagged: dict[str, set[str]] = {}
    for uid, flag in _rows(
        f"SELECT person_id, flag FROM pool_riskflag WHERE retired_at IS NULL "
        f"AND person_id IN ({persons})",
        params,
    ):
        flagged.setdefault(uid, set()).add(flag)
    flags = {uid: tuple(sorted(f)) for uid, f in flagged.items()}
    # the latest visit's correction and survey amount (few: only visited households)
    visits = {
        uid: (pk, _json(after), survey)
        for pk, uid, after, survey in _rows(
            f"SELECT m.id, m.person_id, m.after, m.survey_amount_yuan FROM visits_visitmember m "
            f"JOIN visits_visit v ON v.id = m.visit_id WHERE m.person_id IN ({persons}) "
            f"ORDER BY v.at, m.id",
            params,
        )
    }
    adults, adult_params = "", []
    if min_year_age is not None:
        adults, adult_params = " AND p.birth_year <= %s", [on.year - min_year_age]
    out = []
    # the person, the active model's score and the latest signed-off verdict, in one query
    for (uid, household, village, born, income, assets, liabilities, overdue, current,
         score, grade, verdict_pk, color, evaluation) in _rows(
        "SELECT p.uid, p.household_id, p.village_id, p.birth_year, p.household_income_fen, "
        "p.household_assets_fen, p.household_liabilities_fen, p.max_overdue_days, "
        "p.loans_current, s.score, s.grade, v.id, v.color, v.amount_yuan FROM pool_person p "
        "LEFT JOIN decisions_modelscore s ON s.person_id = p.uid AND s.model_id = %s "
        "LEFT JOIN (SELECT v.id, v.person_id, v.color, v.amount_yuan, row_number() OVER "
        "  (PARTITION BY v.person_id ORDER BY r.closed_at DESC, v.id DESC) AS latest "
        "  FROM evaluation_verdict v JOIN evaluation_round r ON r.id = v.round_id "
        "  WHERE r.kind = %s) v ON v.person_id = p.uid AND v.latest = 1 "
        f"WHERE {where}{adults}",
        [model_pk, RoundKind.SIGN_OFF, *params, *adult_params],
    ):  # fmt: skip
        color = color or ""
        visit_pk, after, survey = visits.get(uid, (None, {}, None))
        if after:
            color, evaluation = after.get("color", color), after.get("amount_yuan")
        applicant = Applicant(
            person_uid=uid, age=0 if born is None else on.year - born,
            flags=flags.get(uid, ()), evaluation_color=color,
            evaluation_yuan=evaluation, survey_yuan=survey, score=score, model_grade=grade,
            income_yuan=income // 100, assets_yuan=assets // 100,
            liabilities_yuan=liabilities // 100, has_arrears=overdue > 0 and current > 0,
        )  # fmt: skip
        sources = {
            "verdict": verdict_pk, "visit_member": visit_pk,
            "evaluation_corrected_at_visit": bool(after),
        }  # fmt: skip
        out.append(Inputs(uid, household or "", village or "", born, applicant, sources))
    return out


def exact_age(id_number: str | None, birth_year: int | None, on: dt.date) -> int | None:
    """Exact age from the ID number's date of birth; by the year of birth without one."""
    born = birth_date(id_number) if id_number and len(id_number) == 18 else None
    if born is None:
        return None if birth_year is None else on.year - birth_year
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
