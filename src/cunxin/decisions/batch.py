"""批量授信 and what-if: a credit policy over every adult of a village, a branch or the
county in one background run (DESIGN.md §5, §7: the full county in ≤ 30 s).

    run = start(actor, BatchRun.Purpose.PRECREDIT, "village", "V001")  # queued, audited
    # → a task (`decisions.tasks.run_batch`) that `cunxin worker` picks up and runs with
    #   `execute(run.pk, attempt, worker_id)`: progress in the row; `rerun()` queues an
    #   interrupted or failed run again

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
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cunxin.audit.chain import record
from cunxin.credit.decide import CompiledPolicy, Decision, PolicyError, compile_policy
from cunxin.credit.policy import CreditPolicy, from_data
from cunxin.decisions.inputs import Inputs, exact_age, load, scope_where
from cunxin.decisions.models import BatchRun, PreCredit
from cunxin.decisions.policy_errors import cannot_decide
from cunxin.lib import crypto
from cunxin.org.models import Branch, Role, Village
from cunxin.org.scope import scope_for

log = logging.getLogger(__name__)
ADULT_AGE = 18  # persons at least this old by year of birth are decided
PROGRESS_EVERY = 20_000
CHANGES_KEPT = 5_000  # what-if: the changed persons listed (all are counted)
Scope = tuple[str, str]  # (kind, code): ("village", "V001"), ("branch", "B01"), ("county", "")


# --- starting a run ------------------------------------------------------------------------
def scope_name(kind: str, code: str) -> str:
    if kind == BatchRun.ScopeKind.VILLAGE:
        return Village.objects.filter(code=code).values_list("name", flat=True).first() or ""
    if kind == BatchRun.ScopeKind.BRANCH:
        return Branch.objects.filter(code=code).values_list("name", flat=True).first() or ""
    return _("the whole county")


def may_run(actor, purpose: str, kind: str, code: str) -> bool:
    """Pre-credit: an HQ admin anywhere, a branch manager in their branch. What-if: HQ
    admins (the policy is theirs)."""
    scope = scope_for(actor)
    if scope.role == Role.HQ_ADMIN:
        return True
    if purpose != BatchRun.Purpose.PRECREDIT or scope.role != Role.BRANCH_MANAGER:
        return False
    if kind == BatchRun.ScopeKind.BRANCH:
        return code == scope.branch_id
    return kind == BatchRun.ScopeKind.VILLAGE and scope.villages().filter(code=code).exists()


def start(actor, purpose: str, kind: str, code: str = "", draft: CreditPolicy | None = None):
    """Queue a run (audited): the run row and its task commit together, so a run is never
    without its task nor a task without its run."""
    from cunxin.credit.policy import to_data
    from cunxin.decisions.actions import active_model, policy_in_force

    if kind not in BatchRun.ScopeKind.values:
        raise ValidationError(_("Choose a village, a branch or the county."))
    code = "" if kind == BatchRun.ScopeKind.COUNTY else code.strip()
    if kind != BatchRun.ScopeKind.COUNTY and not scope_name(kind, code):
        raise ValidationError(_("No such village or branch."))
    if not may_run(actor, purpose, kind, code):
        raise PermissionDenied
    if purpose == BatchRun.Purpose.WHATIF:
        if draft is None:
            raise ValidationError(_("A what-if needs a draft policy."))
        compile_policy(draft)  # refuses a draft that does not compile
    with transaction.atomic():
        run = BatchRun.objects.create(
            purpose=purpose, scope_kind=kind, scope_code=code, scope_name=scope_name(kind, code),
            policy=policy_in_force(), draft=to_data(draft) if draft else None,
            model=active_model(), started_by=actor,
        )  # fmt: skip
        record(actor, f"decisions.batch.{purpose}", run,
               after={"scope": [kind, code], "policy": run.policy.version,
                      "draft": draft.version if draft else None})  # fmt: skip
        _enqueue(run)
    return run


def _enqueue(run: BatchRun) -> None:
    from cunxin.decisions.tasks import run_batch

    result = run_batch.enqueue(run.pk, run.attempt)
    BatchRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    run.task_id = str(result.id)


def may_rerun(actor, run: BatchRun) -> bool:
    """Who may start the run may run it again, once it failed or was interrupted."""
    return run.status in BatchRun.RERUNNABLE and may_run(
        actor, run.purpose, run.scope_kind, run.scope_code
    )


def rerun(actor, run: BatchRun) -> BatchRun:
    """Queue a failed or interrupted run again, with the same policy, draft and model (the
    run says what it decided with), as its next attempt. Of two people asking at once one
    queues it; the other is told it is already queued (a conditional UPDATE)."""
    if not may_run(actor, run.purpose, run.scope_kind, run.scope_code):
        raise PermissionDenied
    with transaction.atomic():
        queued = BatchRun.objects.filter(
            pk=run.pk, status__in=BatchRun.RERUNNABLE, attempt=run.attempt
        ).update(
            status=BatchRun.Status.QUEUED, attempt=run.attempt + 1, worker_id="", task_id="",
            started_at=None, finished_at=None, heartbeat_at=None, done=0, total=0, counts={},
            summary={}, timings={}, error="",
        )  # fmt: skip
        if not queued:
            raise ValidationError(_("This run is not failed or interrupted: it cannot be run again."))  # fmt: skip
        run.refresh_from_db()
        PreCredit.objects.filter(run=run).delete()  # none are kept by an unfinished run
        record(actor, "decisions.batch.rerun", run, after={"attempt": run.attempt})
        _enqueue(run)
    return run


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
            counts, summary = compare(inputs, before, after)
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
    from cunxin.pool.publish import load_rows

    table = decision_table(run.pk, inputs, decisions)
    con = duckdb.connect()
    try:
        counts, summary = summarise(con, table)
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
SUMMARY_SQL = """
SELECT {by} count(*) AS persons, count(DISTINCT NULLIF(household_id, '')) AS households,
  count(*) FILTER (WHERE final_yuan > 0) AS granted_persons,
  count(DISTINCT NULLIF(household_id, '')) FILTER (WHERE final_yuan > 0) AS granted_households,
  coalesce(sum(final_yuan), 0)::BIGINT AS amount_yuan,
  count(DISTINCT NULLIF(household_id, '')) FILTER (WHERE credit_household) AS credit_households,
  count(*) FILTER (WHERE household_id = '') AS persons_without_household
FROM decisions {group}"""


def summarise(con, table: pa.Table) -> tuple[dict, dict]:
    """Counts of a run's decisions (`decision_table`), overall and by village: persons,
    households (of the persons with one), granted households, amount, 信用户 households,
    persons without a household, by grade, hard stops and routes. DuckDB counts them (a Python loop over a county takes seconds)."""
    con.register("decisions", table)
    try:
        names = ("persons", "households", "granted_persons", "granted_households",
                 "amount_yuan", "credit_households", "persons_without_household")  # fmt: skip
        total = dict(zip(names, con.execute(SUMMARY_SQL.format(by="", group="")).fetchone(), strict=True))  # fmt: skip
        villages = {
            code: dict(zip(names, values, strict=True))
            for code, *values in con.execute(SUMMARY_SQL.format(
                by="village_id,", group="GROUP BY village_id ORDER BY village_id")).fetchall()
        }  # fmt: skip
        by_grade = {
            grade: {"persons": persons, "amount_yuan": amount}
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
    granted = total["granted_households"]
    counts = {
        **total,
        "average_per_household_yuan": total["amount_yuan"] // granted if granted else 0,
        "by_grade": by_grade, "hard_stops": stops, "routes": routes,
    }  # fmt: skip
    return counts, {"villages": villages}


def compare(
    inputs: list[Inputs], before: list[Decision], after: list[Decision]
) -> tuple[dict, dict]:
    """A what-if's result: both sides' counts, and who changes."""
    con = duckdb.connect()
    try:
        counts_before, by_village_before = summarise(con, decision_table(0, inputs, before))
        counts_after, by_village_after = summarise(con, decision_table(0, inputs, after))
    finally:
        con.close()
    changed = [
        (row, b, a)
        for row, b, a in zip(inputs, before, after, strict=True)
        if _result(b) != _result(a)
    ]
    changes = [
        {
            "person": row.person_uid, "household": row.household_id, "village": row.village_id,
            "before": {"grade": b.grade, "final_yuan": b.final_yuan, "hard_stops": list(b.hard_stops)},
            "after": {"grade": a.grade, "final_yuan": a.final_yuan, "hard_stops": list(a.hard_stops)},
        }
        for row, b, a in changed[:CHANGES_KEPT]
    ]  # fmt: skip
    counts = {
        "persons": len(inputs),
        "changed_persons": len(changed),
        "changed_households": len({row.household_id for row, _b, _a in changed} - {""}),
        "before": counts_before,
        "after": counts_after,
    }
    summary = {
        "villages": {
            code: {"before": v, "after": by_village_after["villages"][code]}
            for code, v in by_village_before["villages"].items()
        },
        "changes": changes,
    }
    return counts, summary
