"""`cunxin pool publish`: load a built data pool into the operational database.

How it stays fast, idempotent and atomic:
- DuckDB reads the pool's Parquet files and shapes one row per village, group, grid,
  household, person and risk flag (profiles, provenance, relations and tags folded into
  the person row), with a keyed content hash of each row.
- The keys and hashes already in the database are read back and compared in DuckDB: only
  new or changed rows go on, and the keys that disappeared are listed for retirement.
- Python encrypts the ID numbers and phones of the changed persons (a fresh nonce each
  time: the hash, not the ciphertext, tells whether a row changed); the rows stream into
  temporary staging tables: DuckDB CSV → COPY on PostgreSQL, executemany on SQLite.
- One transaction merges staging into the real tables: insert new keys, update changed
  rows, retire (never delete) rows missing from the pool, so workflow data that refers to
  them keeps its target. Publishing the same pool again changes no row.
- A kill at any point before COMMIT leaves the previous state: the database rolls the
  transaction back. The publish run row is written first in its own transaction (status
  "running"); the next publish marks such a leftover as interrupted.
- One publish at a time per database (a PostgreSQL advisory lock, a lock file beside a
  SQLite database): a second one is refused at once (`PublishBusy`), it never marks the
  first interrupted while it runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from django.db import connection, transaction
from django.utils import timezone

from cunxin.audit.chain import record
from cunxin.datapool.errors import PoolInputError
from cunxin.jobs.sweep import interrupt
from cunxin.jobs.worker import on_beat
from cunxin.lib import crypto
from cunxin.lib.masking import mask_id_for_staff, mask_phone
from cunxin.pool.models import PublishRun
from cunxin.pool.signals import published

Progress = Callable[[str, int, int], None]
BATCH = 20_000


class PublishBusy(PoolInputError):
    """Another publish into this database is running: try again once it has finished."""


class PublishSuperseded(Exception):
    """The run stopped being this publish's while it ran (a sweep took its worker for
    stopped and someone queued it again): its transaction rolls back, the new attempt
    publishes."""


@dataclass(frozen=True)
class Table:
    """A published table: its key columns and every column staged (key columns first)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    has_run: bool = False  # carries publish_run_id (set on insert and update)


VILLAGE = Table(
    "org_village",
    ("code",),
    ("code", "name", "township_code", "township_name", "geometry", "content_hash"),
)
GROUP = Table(
    "org_villagegroup", ("code",), ("code", "name", "village_id", "geometry", "content_hash")
)
GRID = Table("org_grid", ("code",), ("code", "village_id", "content_hash"))
HOUSEHOLD = Table(
    "pool_household",
    ("uid",),
    ("uid", "household_no", "head_uid", "head_name", "village_id", "group_id", "grid_id",
     "member_count", "address", "longitude", "latitude", "industry", "content_hash"),
    has_run=True,
)  # fmt: skip
PERSON = Table(
    "pool_person",
    ("uid",),
    ("uid", "household_id", "village_id", "group_id", "name", "gender", "birth_year",
     "id_number_enc", "id_number_bidx", "id_masked", "phone_enc", "phone_bidx", "phone_masked",
     "relation_to_head", "member_index", "occupation", "list_color", "tags", "profile",
     "provenance", "relations", "household_income_fen", "household_assets_fen",
     "household_liabilities_fen", "max_overdue_days", "loans_current", "content_hash"),
    has_run=True,
)  # fmt: skip
RISK_FLAG = Table(
    "pool_riskflag",
    ("person_id", "flag", "record_key"),
    ("person_id", "flag", "record_key", "reason", "listed_date", "origin", "content_hash"),
)
TABLES = (VILLAGE, GROUP, GRID, HOUSEHOLD, PERSON, RISK_FLAG)

# Flags that put a person on the black list (refuse) or the grey list (verify first).
BLACK_FLAGS = ("black", "court_defaulter")

# DuckDB SQL shaping each table from the pool files; {salt} is a bound parameter ($salt).
SHAPES = {
    "org_village": """
WITH v AS (
  SELECT village_code AS code, village_name AS name, township_code, township_name,
         coalesce(geometry, '') AS geometry
  FROM read_parquet($ref_village)
  UNION ALL BY NAME
  SELECT DISTINCT village_code AS code, village_code AS name, '' AS township_code,
         '' AS township_name, '' AS geometry
  FROM read_parquet($person) WHERE village_code IS NOT NULL
    AND village_code NOT IN (SELECT village_code FROM read_parquet($ref_village))
)
SELECT *, md5($salt || to_json(v)) AS content_hash FROM v ORDER BY code""",
    "org_villagegroup": """
WITH g AS (
  SELECT group_code AS code, group_name AS name, village_code AS village_id,
         coalesce(geometry, '') AS geometry
  FROM read_parquet($ref_group)
  UNION ALL BY NAME
  SELECT DISTINCT group_code AS code, group_code AS name, village_code AS village_id,
         '' AS geometry
  FROM read_parquet($household) WHERE group_code IS NOT NULL
    AND group_code NOT IN (SELECT group_code FROM read_parquet($ref_group))
)
SELECT *, md5($salt || to_json(g)) AS content_hash FROM g ORDER BY code""",
    "org_grid": """
WITH g AS (
  SELECT grid_code AS code, min(village_code) AS village_id
  FROM read_parquet($household) WHERE grid_code IS NOT NULL GROUP BY grid_code
)
SELECT *, md5($salt || to_json(g)) AS content_hash FROM g ORDER BY code""",
    "pool_household": """
WITH h AS (
  SELECT household_uid AS uid, coalesce(household_no, '') AS household_no,
         coalesce(head_person_uid, '') AS head_uid, coalesce(head_name, '') AS head_name,
         village_code AS village_id, group_code AS group_id, grid_code AS grid_id,
         member_count::INTEGER AS member_count, coalesce(address, '') AS address,
         longitude::DECIMAL(10,6) AS longitude, latitude::DECIMAL(10,6) AS latitude,
         coalesce(industry, '') AS industry
  FROM read_parquet($household)
)
SELECT *, md5($salt || to_json(h)) AS content_hash FROM h ORDER BY uid""",
    # Persons: one row with everything the pages show, still holding id_number and phone
    # in clear (inside this process only): the changed rows are encrypted before staging.
    # provenance and relations are built as compact JSON text (sorted, so the content
    # hash is stable); their parts are codes and dates, nothing that needs escaping.
    "pool_person": """
WITH hh AS (SELECT household_uid, head_person_uid FROM read_parquet($household)),
shaped AS (
  SELECT p.person_uid AS uid, p.household_uid AS household_id, p.village_code AS village_id,
         p.group_code AS group_id, p.name, coalesce(p.gender, '') AS gender,
         year(p.birth_date)::SMALLINT AS birth_year,
         coalesce(p.relation_to_head, '') AS relation_to_head,
         (row_number() OVER (PARTITION BY p.household_uid
            ORDER BY (p.person_uid = hh.head_person_uid) DESC, p.birth_date, p.person_uid) - 1
         )::SMALLINT AS member_index,
         coalesce(b.occupation, '') AS occupation,
         coalesce(flags.list_color, 'white') AS list_color,
         coalesce(' ' || tags.tags || ' ', '') AS tags,
         json_strip_nulls(to_json(struct_pack(
           basic := struct_pack(education := b.education, occupation := b.occupation,
                                industry := b.industry, registration := b.registration,
                                household_size := b.household_size, has_spouse := b.has_spouse,
                                children := b.children, address := p.address),
           assets := struct_pack(__ASSETS__), income := struct_pack(__INCOME__),
           credit := struct_pack(__CREDIT__)
         )))::VARCHAR AS profile,
         coalesce(prov.provenance, '{}') AS provenance,
         coalesce(rel.relations, '[]') AS relations,
         -- what a credit decision reads, also as columns (a batch reads a county's)
         coalesce(i.household_income_fen, 0)::BIGINT AS household_income_fen,
         coalesce(a.household_assets_fen, 0)::BIGINT AS household_assets_fen,
         coalesce(a.household_liabilities_fen, 0)::BIGINT AS household_liabilities_fen,
         coalesce(c.max_overdue_days, 0)::INTEGER AS max_overdue_days,
         coalesce(c.loans_current, 0)::INTEGER AS loans_current
  FROM read_parquet($person) p
  LEFT JOIN hh USING (household_uid)
  LEFT JOIN read_parquet($profile_basic) b USING (person_uid)
  LEFT JOIN read_parquet($profile_assets) a ON a.person_uid = p.person_uid
  LEFT JOIN read_parquet($profile_income) i ON i.person_uid = p.person_uid
  LEFT JOIN read_parquet($profile_credit) c ON c.person_uid = p.person_uid
  LEFT JOIN person_tags tags USING (person_uid)
  LEFT JOIN person_flags flags USING (person_uid)
  LEFT JOIN person_prov prov USING (person_uid)
  LEFT JOIN person_rel rel USING (person_uid)
)
-- keyed hash of the row, ID number, phone and full birth date included (none of which
-- is kept here in clear: the changed rows' are read again when they are encrypted)
SELECT s.*, md5(to_json(list_value(
         $salt, s.uid, s.household_id, s.village_id, s.group_id, s.name, s.gender,
         p.birth_date::VARCHAR, p.id_number, p.phone, s.relation_to_head,
         s.member_index::VARCHAR, s.occupation, s.list_color, s.tags, s.profile, s.provenance,
         s.relations))) AS content_hash
FROM shaped s JOIN read_parquet($person) p ON p.person_uid = s.uid""",
    "pool_riskflag": """
WITH f AS (
  SELECT person_uid AS person_id, flag, coalesce(record_key, '') AS record_key,
         coalesce(reason, '') AS reason, listed_date, coalesce(origin, '') AS origin
  FROM read_parquet($risk_flag)
)
SELECT *, md5($salt || to_json(f)) AS content_hash FROM f ORDER BY person_id, flag, record_key""",
}

# Per-person aggregates, each materialised on its own before the person query joins them
# (list aggregates cannot spill; one at a time they stay within the memory limit).
PERSON_PARTS = {
    "person_tags": """
SELECT person_uid,
       array_to_string(list_sort(list(family || ':' || replace(tag, ' ', '_'))), ' ') AS tags
FROM read_parquet($person_tag) WHERE family <> 'address' GROUP BY person_uid""",
    "person_flags": """
SELECT person_uid,
       CASE WHEN bool_or(flag IN ('black', 'court_defaulter')) THEN 'black' ELSE 'grey' END AS list_color
FROM read_parquet($risk_flag) GROUP BY person_uid""",
    "person_prov": """
SELECT person_uid,
       '{' || array_to_string(list_sort(list(
         '"' || field || '":["' || source || '","' || coalesce(as_of::VARCHAR, '') || '"]'
       )), ',') || '}' AS provenance
FROM read_parquet($provenance) GROUP BY person_uid""",
    "person_rel": """
SELECT person_uid,
       '[' || array_to_string(list_sort(list(
         '["' || related_person_uid || '","' || relation || '","' || source || '"]'
       )), ',') || ']' AS relations
FROM read_parquet($relationship_edge) GROUP BY person_uid""",
}


POOL_FILES = (
    "person", "household", "person_tag", "risk_flag", "person_field_provenance",
    "relationship_edge", "profile_basic", "profile_assets", "profile_income", "profile_credit",
)  # fmt: skip


def _salt() -> str:
    """Keys the content hashes: without it a hash would let anyone test a guessed ID."""
    ring = crypto.blind_index_keys()
    return hmac.new(ring.keys[ring.current], b"content-hash", hashlib.sha256).hexdigest()


def _params(pool_dir: Path) -> dict[str, str]:
    params = {name: str(pool_dir / f"{name}.parquet") for name in POOL_FILES}
    params["provenance"] = params.pop("person_field_provenance")
    params["ref_village"] = str(pool_dir / "landing" / "ref_village.parquet")
    params["ref_group"] = str(pool_dir / "landing" / "ref_group.parquet")
    params["salt"] = _salt()
    return params


def _struct_fields(con: duckdb.DuckDBPyConnection, path: str, alias: str) -> str:
    """`col := alias.col, …` for every column of a profile file but its key."""
    names = con.sql("SELECT * FROM read_parquet($p) LIMIT 0", params={"p": path}).columns
    return ", ".join(f"{n} := {alias}.{n}" for n in names if n != "person_uid")


def _shape_sql(con: duckdb.DuckDBPyConnection, table: Table, params: dict) -> tuple[str, dict]:
    sql = SHAPES[table.name]
    if table is PERSON:
        for name, part in PERSON_PARTS.items():
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {part}", _used(part, params))
        for marker, name, alias in (("__ASSETS__", "profile_assets", "a"),
                                    ("__INCOME__", "profile_income", "i"),
                                    ("__CREDIT__", "profile_credit", "c")):  # fmt: skip
            sql = sql.replace(marker, _struct_fields(con, params[name], alias))
    return sql, _used(sql, params)


def _used(sql: str, params: dict) -> dict:
    """The parameters a statement names ($person, $person_tag, …): DuckDB refuses extras."""
    names = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in params.items() if k in names}


def check_pool(pool_dir: Path) -> dict:
    manifest_path = pool_dir / "manifest.json"
    if not manifest_path.exists():
        raise PoolInputError(
            f"{pool_dir} is not a built pool (no manifest.json): run `cunxin pool build` first"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    missing = [f for f in POOL_FILES if not (pool_dir / f"{f}.parquet").exists()]
    missing += [
        f"landing/{f}" for f in ("ref_village", "ref_group")
        if not (pool_dir / "landing" / f"{f}.parquet").exists()
    ]  # fmt: skip
    if missing:
        raise PoolInputError(f"{pool_dir} lacks {', '.join(missing)}: rebuild the pool")
    return manifest


def _encrypt_changed_persons(
    con: duckdb.DuckDBPyConnection, params: dict
) -> duckdb.DuckDBPyRelation:
    """Read the ID numbers and phones of the changed persons, encrypt them (bound to the
    person), index and mask them — the only per-row Python work — and return the changed
    rows in PERSON's column order. No plaintext is written anywhere."""
    data = con.sql(
        "SELECT c.uid, p.id_number, p.phone FROM changed c "
        "JOIN read_parquet($person) p ON p.person_uid = c.uid",
        params={"person": params["person"]},
    ).to_arrow_table()
    uids = data.column("uid").to_pylist()
    jobs = [(purpose, data.column(purpose).to_pylist(), uids) for purpose in ("id_number", "phone")]
    if len(uids) < 50_000:
        results = [crypto.protect_column(job) for job in jobs]
    else:  # a county: one fresh process per column (spawned: no inherited DB connection)
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(crypto.protect_column, jobs))
    (_, ids, _), (_, phones, _) = jobs
    columns = {
        "uid": uids,
        "id_number_enc": results[0][0], "id_number_bidx": results[0][1],
        "id_masked": [mask_id_for_staff(v) for v in ids],
        "phone_enc": results[1][0], "phone_bidx": results[1][1],
        "phone_masked": [mask_phone(v) for v in phones],
    }  # fmt: skip
    con.register("person_secrets", pa.table(columns))
    return con.sql(
        f"SELECT {', '.join(PERSON.columns)} FROM changed JOIN person_secrets USING (uid)"
    )


def _existing(cursor, table: Table) -> pa.Table:
    """Keys and content hashes already in the database (one read of the table)."""
    cursor.execute(
        f"SELECT {', '.join(table.key)}, content_hash, retired_at IS NOT NULL FROM {table.name}"
    )
    rows = cursor.fetchall()
    names = [*table.key, "content_hash", "retired"]
    if not rows:
        return pa.table({n: pa.array([], pa.bool_() if n == "retired" else pa.string()) for n in names})  # fmt: skip
    return pa.table(dict(zip(names, (list(c) for c in zip(*rows, strict=True)), strict=True)))


def _diff(
    con: duckdb.DuckDBPyConnection, cursor, table: Table, params: dict
) -> tuple[int, duckdb.DuckDBPyRelation, duckdb.DuckDBPyRelation]:
    """Shape the table, compare with the database: (rows in the pool, changed or new rows
    to stage, keys to retire)."""
    sql, used = _shape_sql(con, table, params)
    con.execute(f"CREATE OR REPLACE TABLE shaped AS {sql}", used)
    con.register("existing", _existing(cursor, table))
    same_key = " AND ".join(f"e.{k} IS NOT DISTINCT FROM s.{k}" for k in table.key)
    con.execute(
        "CREATE OR REPLACE VIEW changed AS SELECT s.* FROM shaped s WHERE NOT EXISTS ("
        f"SELECT 1 FROM existing e WHERE {same_key} AND e.content_hash = s.content_hash "
        "AND NOT e.retired)"
    )
    retire = con.sql(
        f"SELECT {', '.join('e.' + k for k in table.key)} FROM existing e WHERE NOT e.retired "
        f"AND NOT EXISTS (SELECT 1 FROM shaped s WHERE {same_key})"
    )
    rows = con.sql("SELECT count(*) FROM shaped").fetchall()[0][0]
    staged = (
        _encrypt_changed_persons(con, params) if table is PERSON
        else con.sql(f"SELECT {', '.join(table.columns)} FROM changed")
    )  # fmt: skip
    return rows, staged, retire


# --- staging and merging -------------------------------------------------------------------
def _create_staging(cursor, table: Table, columns: tuple[str, ...], suffix: str = "") -> str:
    staging = f"stg_{table.name}{suffix}"
    cursor.execute(f"DROP TABLE IF EXISTS {staging}")
    cols = ", ".join(columns)
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {cols} FROM {table.name} WITH NO DATA"
        )
    else:
        cursor.execute(f"CREATE TEMP TABLE {staging} AS SELECT {cols} FROM {table.name} WHERE 0")
    return staging


def load_rows(
    cursor, staging: str, columns: tuple[str, ...], rel: duckdb.DuckDBPyRelation, work: Path
) -> int:
    """Stream rows into a staging table; returns the row count.

    PostgreSQL: DuckDB writes CSV, COPY reads it (no Python per row). SQLite: batches of
    rows through executemany."""
    cols = ", ".join(columns)
    if connection.vendor == "postgresql":
        path = work / f"{staging}.csv"
        rel.write_csv(str(path), header=False)
        with (
            path.open("rb") as f,
            cursor.cursor.copy(f"COPY {staging} ({cols}) FROM STDIN (FORMAT csv)") as copy,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        path.unlink()
        return cursor.cursor.rowcount
    marks = ", ".join(["%s"] * len(columns))
    staged = 0
    for batch in rel.to_arrow_reader(BATCH):
        rows = list(zip(*(c.to_pylist() for c in batch.columns), strict=True))
        cursor.executemany(f"INSERT INTO {staging} ({cols}) VALUES ({marks})", rows)
        staged += len(rows)
    return staged


def _merge(cursor, staging: str, retiring: str, table: Table, run_id: int, now) -> dict[str, int]:
    """Insert new keys and update changed (or returning) rows from `staging`; retire the
    keys in `retiring`."""
    keys = ", ".join(table.key)
    cursor.execute(f"CREATE UNIQUE INDEX {staging}_key ON {staging} ({keys})")
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {staging}")
    on = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
    cols = list(table.columns)
    insert_cols = cols + ["retired_at"] + (["publish_run_id"] if table.has_run else [])
    select_cols = (
        [f"s.{c}" for c in cols] + ["NULL"] + ([str(int(run_id))] if table.has_run else [])
    )
    cursor.execute(
        f"INSERT INTO {table.name} ({', '.join(insert_cols)}) "
        f"SELECT {', '.join(select_cols)} FROM {staging} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {on})"
    )
    inserted = cursor.rowcount
    sets = [f"{c} = s.{c}" for c in cols if c not in table.key] + ["retired_at = NULL"]
    if table.has_run:
        sets.append(f"publish_run_id = {int(run_id)}")
    cursor.execute(
        f"UPDATE {table.name} AS t SET {', '.join(sets)} FROM {staging} AS s "
        f"WHERE {on} AND (t.content_hash <> s.content_hash OR t.retired_at IS NOT NULL)"
    )
    updated = cursor.rowcount
    cursor.execute(
        f"UPDATE {table.name} AS t SET retired_at = %s FROM {retiring} AS s "
        f"WHERE {on} AND t.retired_at IS NULL",
        [now],
    )
    retired = cursor.rowcount
    return {"inserted": inserted, "updated": updated, "retired": retired}


def _is_empty(cursor, table: Table) -> bool:
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table.name})")
    return cursor.fetchone()[0]


def _bulk_load_empty(
    cursor, con, rows: duckdb.DuckDBPyRelation, table: Table, run_id: int, work: Path
) -> dict[str, int]:
    """First publish into an empty PostgreSQL table: COPY straight into it with its
    secondary indexes and foreign keys dropped, then build each index once and check each
    foreign key with one join (instead of updating five indexes and firing four key checks
    row by row). Same transaction, same result."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = i.oid "
        "WHERE t.relname = %s AND c.oid IS NULL",
        [table.name],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = %s AND c.contype = 'f'",
        [table.name],
    )
    foreign_keys = cursor.fetchall()
    # run the checks still deferred in this transaction: no ALTER TABLE while they pend
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    for name, _definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    columns = table.columns + (("publish_run_id",) if table.has_run else ())
    if table.has_run:
        rows = rows.project(f"*, {int(run_id)} AS publish_run_id")
    loaded = load_rows(cursor, table.name, columns, rows, work)
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}')
    return {"inserted": loaded, "updated": 0, "retired": 0, "unchanged": 0, "rows": loaded}


def publish(
    pool_dir: Path,
    *,
    by: str | None = None,
    progress: Progress | None = None,
    run: PublishRun | None = None,
    worker_id: str = "",
) -> PublishRun:
    """Publish the pool at `pool_dir`; returns the run. In the foreground (the CLI) a run
    row is created, and a folder that is not a complete pool raises PoolInputError before
    anything is written. With `run` (a queued run, from `cunxin worker`), that run is
    claimed (a run no longer queued, or of another attempt, is returned untouched) and a
    bad folder fails it with the reason. `worker_id` is the process doing it
    (cunxin.jobs), so that the sweep knows when it stopped."""
    pool_dir = Path(pool_dir).resolve()
    manifest = check_pool(pool_dir) if run is None else None
    by = by or getpass.getuser()
    with _one_publish_at_a_time():
        _sweep_work_dirs()
        # only one publish runs at a time here: a run still "running" was killed
        interrupt(PublishRun.objects.filter(status=PublishRun.Status.RUNNING))
        now = timezone.now()
        if run is None:
            run = PublishRun.objects.create(
                pool_run_id=manifest.get("run_id", ""), pool_dir=str(pool_dir), created_at=now,
                started_at=now, status=PublishRun.Status.RUNNING, published_by=by,
                worker_id=worker_id, heartbeat_at=now, total=len(TABLES),
            )  # fmt: skip
        elif not PublishRun.objects.filter(
            pk=run.pk, status=PublishRun.Status.QUEUED, attempt=run.attempt
        ).update(
            status=PublishRun.Status.RUNNING, started_at=now, worker_id=worker_id,
            heartbeat_at=now, total=len(TABLES), done=0,
        ):  # fmt: skip
            run.refresh_from_db()
            return run
        try:
            if manifest is None:
                manifest = check_pool(pool_dir)
                PublishRun.objects.filter(pk=run.pk).update(pool_run_id=manifest.get("run_id", ""))
            with _reporting(run) as report:
                _publish_in_one_transaction(pool_dir, run, _both(progress, report))
        except BaseException as e:
            PublishRun.objects.filter(
                pk=run.pk, status=PublishRun.Status.RUNNING, attempt=run.attempt
            ).update(
                status=PublishRun.Status.FAILED, finished_at=timezone.now(),
                error=error_text(e)[:2000],
            )  # fmt: skip
            raise
    run.refresh_from_db()
    return run


def error_text(e: BaseException) -> str:
    """What a failed run keeps of its error (shown to HQ as the technical detail under a
    Chinese summary): the message of an input error, the kind and message otherwise."""
    if isinstance(e, PoolInputError):
        return str(e)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


@contextlib.contextmanager
def _reporting(run: PublishRun):
    """A progress callback whose latest step the worker's ticker writes to the run row
    (from its own connection: the publish itself is one long transaction)."""
    latest: dict[str, object] = {}

    def report(label: str, done: int, total: int) -> None:
        latest.update(step=label.removeprefix("publish ")[:64], done=done, total=total)

    def write() -> None:
        PublishRun.objects.filter(pk=run.pk, status=PublishRun.Status.RUNNING).update(
            heartbeat_at=timezone.now(), **latest
        )

    with on_beat(write):
        yield report


def _both(*callbacks: Progress | None) -> Progress:
    def call(label: str, done: int, total: int) -> None:
        for callback in callbacks:
            if callback:
                callback(label, done, total)

    return call


WORK_PREFIX = "cunxin-publish-"
WORK_LOCK = "publish.lock"


def work_prefix(vendor: str, db: dict) -> str:
    """ "cunxin-publish-<key>-": the work folders of the publishes into the database `db`
    (a Django DATABASES entry). Other installations on the machine (another database,
    SQLite beside PostgreSQL) have their own key, and their folders are never swept here."""
    name = str(db.get("NAME") or "")
    if vendor == "sqlite":
        name = str(Path(name).resolve())
    key = f"{vendor}:{db.get('HOST') or ''}:{db.get('PORT') or ''}:{name}"
    return f"{WORK_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:12]}-"


def _work_prefix() -> str:
    return work_prefix(connection.vendor, connection.settings_dict)


@contextlib.contextmanager
def _work_dir():
    """A work folder (mode 0700, as mkdtemp makes it) whose lock file this process holds
    (flock) while the publish runs: a sweep never removes a folder in use, and the kernel
    releases the lock of a killed publish, so its folder can go."""
    with (
        tempfile.TemporaryDirectory(prefix=_work_prefix()) as tmp,
        open(Path(tmp) / f".{WORK_LOCK}.new", "w") as lock,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        # the lock file appears under its name already locked: a sweep that finds it
        # cannot take it in between
        os.rename(Path(tmp) / f".{WORK_LOCK}.new", Path(tmp) / WORK_LOCK)
        yield tmp


@contextlib.contextmanager
def _one_publish_at_a_time():
    """One publish into this database at a time; a second is refused at once
    (PublishBusy) instead of marking the first one interrupted and colliding with it. On
    PostgreSQL a session advisory lock; on SQLite an exclusive flock on a file beside the
    database (the kernel lets go of it when a publish is killed). An in-memory SQLite
    database has one process: no lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext('cunxin.pool.publish'))")
            if not cursor.fetchone()[0]:
                raise PublishBusy("another `cunxin pool publish` is running on this database")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext('cunxin.pool.publish'))")
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or connection.is_in_memory_db():
        yield
        return
    fd = os.open(f"{Path(name).resolve()}.publish-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishBusy("another `cunxin pool publish` is running on this database") from None
        yield
    finally:
        os.close(fd)


def _sweep_work_dirs() -> None:
    """Remove the work folders that killed publishes of this database left (they hold pool
    data, though never an ID number or phone in clear): folders with this database's
    prefix, of this user, whose lock no process holds. A folder without its lock file yet
    (a publish between making it and locking it) is left for a day."""
    for path in Path(tempfile.gettempdir()).glob(f"{_work_prefix()}*"):
        with contextlib.suppress(OSError):
            info = path.lstat()
            if not path.is_dir() or path.is_symlink() or info.st_uid != os.getuid():
                continue
            lock_path = path / WORK_LOCK
            if not lock_path.exists():
                if info.st_mtime < time.time() - 86_400:
                    shutil.rmtree(path, ignore_errors=True)
                continue
            with open(lock_path, "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a publish is running in it
                shutil.rmtree(path, ignore_errors=True)


def _publish_in_one_transaction(pool_dir: Path, run: PublishRun, progress: Progress | None) -> None:
    params = _params(pool_dir)
    counts: dict[str, dict[str, int]] = {}
    timings: dict[str, float] = {}
    now = timezone.now()
    with (
        _work_dir() as tmp,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        work = Path(tmp)
        # A database file, not memory: a county's shaped person rows (about 1 GB of JSON
        # profiles) then live on disk behind a bounded buffer pool.
        con = duckdb.connect(str(work / "publish.duckdb"))
        con.execute(f"SET memory_limit = '{os.environ.get('CUNXIN_PUBLISH_MEMORY', '2GB')}'")
        con.execute(f"SET temp_directory = '{work}'")
        con.execute("SET preserve_insertion_order = false")
        for n, table in enumerate(TABLES):
            t0 = time.perf_counter()
            rows, changed, retire = _diff(con, cursor, table, params)
            t1 = time.perf_counter()
            if connection.vendor == "postgresql" and _is_empty(cursor, table):
                counts[table.name] = _bulk_load_empty(cursor, con, changed, table, run.pk, work)
                timings[f"{table.name}.shape"] = round(t1 - t0, 3)
                timings[f"{table.name}.load"] = round(time.perf_counter() - t1, 3)
                continue
            staging = _create_staging(cursor, table, table.columns)
            retiring = _create_staging(cursor, table, table.key, "_retire")
            load_rows(cursor, staging, table.columns, changed, work)
            load_rows(cursor, retiring, table.key, retire, work)
            t2 = time.perf_counter()
            merged = _merge(cursor, staging, retiring, table, run.pk, now)
            merged["unchanged"] = rows - merged["inserted"] - merged["updated"]
            merged["rows"] = rows
            counts[table.name] = merged
            timings[f"{table.name}.shape"] = round(t1 - t0, 3)
            timings[f"{table.name}.stage"] = round(t2 - t1, 3)
            timings[f"{table.name}.merge"] = round(time.perf_counter() - t2, 3)
            cursor.execute(f"DROP TABLE IF EXISTS {staging}")
            cursor.execute(f"DROP TABLE IF EXISTS {retiring}")
            if progress:
                progress(f"publish {table.name}", n + 1, len(TABLES))
        con.close()
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(t.name for t in TABLES)}")
        timings["total"] = round(sum(timings.values()), 3)
        if not PublishRun.objects.filter(
            pk=run.pk, attempt=run.attempt, status=PublishRun.Status.RUNNING
        ).update(
            status=PublishRun.Status.SUCCEEDED, finished_at=timezone.now(), counts=counts,
            timings=timings, done=len(TABLES), step="",
        ):  # fmt: skip
            raise PublishSuperseded(
                f"publish run {run.pk} attempt {run.attempt} is no longer running"
            )
        record(
            run.published_by, "pool.publish", run,
            after={"pool_run_id": run.pool_run_id, "counts": counts},
        )  # fmt: skip
        published.send(PublishRun, actor=run.published_by, run=run)
    if progress:
        progress("publish", len(TABLES), len(TABLES))
