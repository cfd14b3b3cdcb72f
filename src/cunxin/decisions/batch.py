"""批量授信 and what-if: a credit policy over every adult of a village, a branch or the
county in one background run (DESIGN.md §5, §7: the full county in ≤ 30 s).

    run = actions.do_start_batch_run(actor, BatchRun.Purpose.PRECREDIT, "village", "V001")
    # → queued and audited with its task (`decisions.tasks.run_batch`), which `cunxin
    #   worker` picks up and runs with `execute(run.pk, attempt, worker_id)` here:
    #   progress in the row; `actions.do_rerun_batch_run` queues a stopped run again

A pre-credit run writes one `PreCredit` row per adult (the white list is the rows with an
amount) and per-village counts in `summary["villages"]`. A what-if evaluates the policy in
force and a draft over the same inputs and keeps the comparison in `summary`: households
granted, total and average amount, by grade and by village, and the persons whose outcome
changes. Nothing else is written by a what-if.

Speed: the inputs come in a few queries (`cunxin.decisions.inputs.load`); CEL results are
memoised by the inputs each expression names (`cunxin.credit.decide`); results are written
with COPY on PostgreSQL. The age comes from the year of birth; where the exact age (from
the encrypted ID) could change the outcome — a person whose year of birth makes them 18 or
66 this year, under the default policy — the ID is decrypted and the person decided again.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

import duckdb
import pyarrow as pa
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.credit.decide import CompiledPolicy, Decision, PolicyError, compile_policy
from cunxin.credit.policy import from_data
from cunxin.decisions.inputs import Inputs, exact_age, load, scope_where
from cunxin.decisions.models import BatchRun, PreCredit
from cunxin.decisions.policy_errors import cannot_decide
from cunxin.decisions.tallies import Change, GradeTally, Outcome, RunCounts, Tally, WhatifCounts
from cunxin.lib import crypto
from cunxin.org.models import Branch, Village
from cunxin.pool.publish import load_rows

log = logging.getLogger(__name__)
ADULT_AGE = 18  # persons at least this old by year of birth are decided
PROGRESS_EVERY = 20_000
CHANGES_KEPT = 5_000  # what-if: the changed persons listed (all are counted)
Scope = tuple[str, str]  # (kind, code): ("village", "V001"), ("branch", "B01"), ("county", "")


# --- what a run covers ----------------------------------------------------------------------
def scope_name(kind: str, code: str) -> str:
    if kind == BatchRun.ScopeKind.VILLAGE:  # as everywhere else: 伊山镇王庄村
        village = Village.objects.filter(code=code).first()
        return str(village) if village else ""
    if kind == BatchRun.ScopeKind.BRANCH:
        return Branch.objects.filter(code=code).values_list("name", flat=True).first() or ""
    return _("the whole county")


# --- running it ----------------------------------------------------------------------------
class Superseded(Exception):
    """The run was queued again (or marked interrupted) while this attempt ran."""


def _mine(pk: int, attempt: int):
    return BatchRun.objects.filter(pk=pk, attempt=attempt, status=BatchRun.Status.RUNNING)


def _progress(pk: int, attempt: int, **fields) -> None:
    if not _mine(pk, attempt).update(heartbeat_at=timezone.now(), **fields):
        raise Superseded


def execute(pk: int, attempt: int = 1, worker_id: str = "") -> BatchRun:
    """Run a queued run to the end (the worker's task); a failure is recorded on the run,
    never raised. A task of an earlier attempt, or for a run no longer queued, does
    nothing; every write is conditional on the attempt, and the results, the counts and
    the status commit in one transaction."""
    claimed = BatchRun.objects.filter(
        pk=pk, attempt=attempt, status=BatchRun.Status.QUEUED
    ).update(
        status=BatchRun.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(),
        worker_id=worker_id,
    )  # fmt: skip
    run = BatchRun.objects.select_related("policy", "model").get(pk=pk)
    if not claimed:
        return run
    timings: dict[str, float] = {}
    try:
        on = timezone.localdate()
        t0 = time.perf_counter()
        inputs = load_scope(run.scope_kind, run.scope_code, on, run.model_id)
        timings["load"] = round(time.perf_counter() - t0, 3)
        _progress(pk, attempt, total=len(inputs))
        in_force = compile_policy(from_data(run.policy.data))
        t1 = time.perf_counter()
        report = lambda done: _progress(pk, attempt, done=done)  # noqa: E731
        if run.purpose == BatchRun.Purpose.PRECREDIT:
            decisions = decide_all(in_force, inputs, on, report)
            timings["decide"] = round(time.perf_counter() - t1, 3)
            t2 = time.perf_counter()
            write_precredit(run, attempt, inputs, decisions, timings, t0, t2)
        else:
            draft = compile_policy(from_data(run.draft))
            before = decide_all(in_force, inputs, on, lambda done: report(done // 2))
            after = decide_all(draft, inputs, on, lambda done: report((len(inputs) + done) // 2))
            timings["decide"] = round(time.perf_counter() - t1, 3)
            counts, summary = compare(inputs, before, after).to_json()
            timings["total"] = round(time.perf_counter() - t0, 3)
            _progress(pk, attempt, status=BatchRun.Status.SUCCEEDED, finished_at=timezone.now(),
                      done=len(inputs), counts=counts, summary=summary, timings=timings)  # fmt: skip
    except Superseded:
        log.warning("batch run %s: attempt %s was superseded; its results are dropped", pk, attempt)
    except Exception as e:  # recorded on the run for the page; the traceback goes to the log
        log.exception("batch run %s failed", pk)
        # a rule that fails on someone's inputs, in words (a what-if that fails so keeps
        # its draft from being published: policy_actions.whatif_passed)
        error = cannot_decide(e) if isinstance(e, PolicyError) else repr(e)
        _mine(pk, attempt).update(status=BatchRun.Status.FAILED, finished_at=timezone.now(),
                                  error=error[:2000], timings=timings)  # fmt: skip
    run.refresh_from_db()
    return run


def load_scope(kind: str, code: str, on: dt.date, model_pk: int | None) -> list[Inputs]:
    where, params = scope_where(kind, code)
    return load(where, params, on, model_pk=model_pk, min_year_age=ADULT_AGE)


def _result(d: Decision) -> tuple:
    """What a what-if compares: what the customer gets and who approves it (a model amount
    that moves without moving the final amount is not a change for the customer)."""
    return (d.grade, d.final_yuan, d.hard_stops, d.route, d.credit_household)


def decide_all(
    policy: CompiledPolicy, inputs: list[Inputs], on: dt.date, progress=None
) -> list[Decision]:
    """The policy's decision for everyone. Ages are by year of birth: a person is decided
    with both candidate ages, and where the outcomes differ the ID is decrypted."""
    out: list[Decision] = []
    ambiguous: list[int] = []
    for n, row in enumerate(inputs):
        a = row.applicant
        if row.birth_year is None:
            d = policy.decide(a, trace=False)
        else:
            d, differs = policy.decide_by_year_of_birth(a)
            if differs:
                ambiguous.append(n)
        out.append(d)
        if progress and (n + 1) % PROGRESS_EVERY == 0:
            progress(n + 1)
    if ambiguous:
        uids = [inputs[n].person_uid for n in ambiguous]
        sql = "SELECT uid, id_number_enc FROM pool_person WHERE uid IN (%s)"
        encrypted = dict(_fetch(sql, uids))
        for n in ambiguous:
            row = inputs[n]
            number = crypto.decrypt(encrypted.get(row.person_uid), purpose="id_number", owner=row.person_uid)  # fmt: skip
            age = exact_age(number, row.birth_year, on)
            if age is not None and age != row.applicant.age:
                out[n] = policy.decide(replace(row.applicant, age=age), trace=False)
    return out


def _fetch(sql: str, values: list, chunk: int = 900):
    with connection.cursor() as cursor:
        for i in range(0, len(values), chunk):
            part = values[i : i + chunk]
            cursor.execute(sql % ", ".join(["%s"] * len(part)), part)
            yield from cursor.fetchall()


# --- what a run leaves ---------------------------------------------------------------------
PRECREDIT_COLUMNS = (
    "run_id", "person_id", "household_id", "village_id", "score", "grade", "evaluation_yuan",
    "model_yuan", "survey_yuan", "final_yuan", "hard_stops", "route", "credit_household",
)  # fmt: skip


def decision_table(run_pk: int, inputs: list[Inputs], decisions: list[Decision]) -> pa.Table:
    """A run's decisions as columns (`PRECREDIT_COLUMNS`)."""
    return pa.table({
        "run_id": pa.array([run_pk] * len(inputs), pa.int64()),
        "person_id": [i.person_uid for i in inputs],
        "household_id": [i.household_id for i in inputs],
        "village_id": [i.village_id for i in inputs],
        "score": pa.array([i.applicant.score for i in inputs], pa.int64()),
        "grade": [d.grade for d in decisions],
        "evaluation_yuan": pa.array([d.evaluation_yuan for d in decisions], pa.int64()),
        "model_yuan": pa.array([d.model_yuan for d in decisions], pa.int64()),
        "survey_yuan": pa.array([d.survey_yuan for d in decisions], pa.int64()),
        "final_yuan": pa.array([d.final_yuan for d in decisions], pa.int64()),
        "hard_stops": [",".join(d.hard_stops) for d in decisions],
        "route": [d.route for d in decisions],
        "credit_household": pa.array([d.credit_household for d in decisions], pa.bool_()),
    })  # fmt: skip


def write_precredit(
    run: BatchRun,
    attempt: int,
    inputs: list[Inputs],
    decisions: list[Decision],
    timings: dict[str, float],
    t0: float,
    t_write: float,
) -> None:
    """The run's rows (COPY on PostgreSQL), its counts and its success, in one transaction
    under the run's row lock: a run marked interrupted or queued again meanwhile keeps
    none of this attempt's rows (`Superseded`)."""
    table = decision_table(run.pk, inputs, decisions)
    con = duckdb.connect()
    try:
        counts, summary = summarise(con, table).to_json()
        with (
            tempfile.TemporaryDirectory(prefix="cunxin-batch-") as tmp,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            if not _mine(run.pk, attempt).select_for_update().exists():
                raise Superseded
            rows = con.from_arrow(table)
            load_rows(cursor, PreCredit._meta.db_table, PRECREDIT_COLUMNS, rows, Path(tmp))
            timings["write"] = round(time.perf_counter() - t_write, 3)
            timings["total"] = round(time.perf_counter() - t0, 3)
            _progress(run.pk, attempt, status=BatchRun.Status.SUCCEEDED,
                      finished_at=timezone.now(), done=len(inputs), counts=counts,
                      summary=summary, timings=timings)  # fmt: skip
    finally:
        con.close()


# A person without a household has household_id '' (not NULL): counted as a person, never
# as a household ('' once counted as one more household than the pool has).
SUMMARY_COLUMNS = (
    "persons", "households", "granted_persons", "granted_households", "amount_yuan",
    "credit_households", "persons_without_household",
)  # fmt: skip
SUMMARY_SQL = """
SELECT {by} count(*) AS persons, count(DISTINCT NULLIF(household_id, '')) AS households,
  count(*) FILTER (WHERE final_yuan > 0) AS granted_persons,
  count(DISTINCT NULLIF(household_id, '')) FILTER (WHERE final_yuan > 0) AS granted_households,
  coalesce(sum(final_yuan), 0)::BIGINT AS amount_yuan,
  count(DISTINCT NULLIF(household_id, '')) FILTER (WHERE credit_household) AS credit_households,
  count(*) FILTER (WHERE household_id = '') AS persons_without_household
FROM decisions {group}"""


def summarise(con, table: pa.Table) -> RunCounts:
    """Counts of a run's decisions (`decision_table`), overall and by village: persons,
    households (of the persons with one), granted households, amount, 信用户 households,
    persons without a household, by grade, hard stops and routes. DuckDB counts them (a
    Python loop over a county takes seconds)."""
    con.register("decisions", table)
    try:
        names = [f.name for f in fields(Tally)]
        total = Tally(*con.execute(SUMMARY_SQL.format(by="", group="")).fetchone())
        villages = {
            code: Tally(*values)
            for code, *values in con.execute(SUMMARY_SQL.format(
                by="village_id,", group="GROUP BY village_id ORDER BY village_id")).fetchall()
        }  # fmt: skip
        by_grade = {
            grade: GradeTally(persons, amount)
            for grade, persons, amount in con.execute(
                "SELECT grade, count(*), coalesce(sum(final_yuan), 0)::BIGINT FROM decisions "
                "GROUP BY grade ORDER BY grade"
            ).fetchall()
        }
        stops = dict(con.execute(
            "SELECT stop, count(*) AS n FROM (SELECT unnest(string_split(hard_stops, ',')) AS stop "
            "FROM decisions WHERE hard_stops <> '') GROUP BY stop ORDER BY n DESC, stop"
        ).fetchall())  # fmt: skip
        routes = dict(con.execute(
            "SELECT route, count(*) FROM decisions WHERE route <> '' GROUP BY route ORDER BY route"
        ).fetchall())  # fmt: skip
    finally:
        con.unregister("decisions")
    assert names == list(SUMMARY_COLUMNS), names  # the SQL's columns are Tally's fields
    return RunCounts(total, by_grade, stops, routes, villages)


def compare(inputs: list[Inputs], before: list[Decision], after: list[Decision]) -> WhatifCounts:
    """A what-if's result: both sides' counts, and who changes."""
    con = duckdb.connect()
    try:
        counts_before = summarise(con, decision_table(0, inputs, before))
        counts_after = summarise(con, decision_table(0, inputs, after))
    finally:
        con.close()
    changed = [
        (row, b, a)
        for row, b, a in zip(inputs, before, after, strict=True)
        if _result(b) != _result(a)
    ]
    outcome = lambda d: Outcome(d.grade, d.final_yuan, tuple(d.hard_stops))  # noqa: E731
    return WhatifCounts(
        persons=len(inputs),
        changed_persons=len(changed),
        changed_households=len({row.household_id for row, _b, _a in changed} - {""}),
        before=counts_before,
        after=counts_after,
        changes=[
            Change(row.person_uid, row.household_id, row.village_id, outcome(b), outcome(a))
            for row, b, a in changed[:CHANGES_KEPT]
        ],
    )
