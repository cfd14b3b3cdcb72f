"""Tampering that `cunxin audit verify` missed (issue 11 §5): the access log was not
chained, so rows deleted with the trigger dropped went unseen; and deleting the last audit
events and rewinding the chain head read "intact". Now the access log is hash-chained too,
and `--head` checks against a head kept outside the database."""

from __future__ import annotations

import contextlib
import importlib
import itertools
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from django.db import connection

from cunxin.audit.chain import ACCESS_LOG_HEAD, AUDIT_HEAD, GENESIS, record, verify
from cunxin.audit.models import AuditEvent, ChainHead
from cunxin.cli import main
from cunxin.pool.models import AccessLog, verify_access_log

append_only = importlib.import_module("cunxin.audit.migrations.0002_append_only")


@contextlib.contextmanager
def triggers_lifted(table: str):
    """As someone with SQL access could: the append-only triggers off, then back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks on ALTER
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER {table}_no_{op}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                for sql in append_only.SQLITE:
                    if f" ON {table} " in sql:
                        cursor.execute(sql)


@pytest.fixture
def actor(db):
    return get_user_model().objects.create_user("auditor", password="x")


@pytest.fixture
def log(actor) -> list[AccessLog]:
    """Five access-log rows: reveals and an export."""
    rows = [
        AccessLog.objects.create(user=actor, kind="reveal", field="phone", reason=f"走访 {i}")
        for i in range(4)
    ]
    rows.append(AccessLog.objects.create(user=actor, kind="export", field="masked",
                                         reason="分群导出", detail="segment=1 rows=9"))  # fmt: skip
    return rows


@pytest.fixture
def trail(actor) -> list[AuditEvent]:
    return [record(actor, f"test.step{i}", object_type="org.branch", object_id="ZHA",
                   after={"step": i}) for i in range(5)]  # fmt: skip


def cli(*args: str):
    return CliRunner().invoke(main, ["audit", "verify", *args])


def kept_head(output: str) -> str:
    found = re.search(r"keep outside the database: --head (\S+)", output)
    assert found, output
    return found[1]


# --- the access log's chain ---------------------------------------------------------------------
def test_access_log_rows_are_linked_like_audit_events(log):
    assert log[0].prev_hash == GENESIS
    for previous, row in itertools.pairwise(log):
        assert row.prev_hash == previous.hash
    assert len({r.hash for r in log}) == 5
    head = ChainHead.objects.get(pk=ACCESS_LOG_HEAD)
    assert (head.last_id, head.last_hash) == (log[-1].pk, log[-1].hash)
    result = verify_access_log(batch=2)
    assert result.ok and result.checked == 5 and result.head_hash == log[-1].hash


def test_a_reveal_writes_a_chained_row(world):
    from cunxin.pool.actions import do_reveal

    do_reveal(world.users["cm_a"], world.persons["a11"], "phone", "visit")

    row = AccessLog.objects.get()
    assert row.hash and row.prev_hash == GENESIS
    assert verify_access_log().ok


def test_a_row_deleted_with_the_trigger_dropped_breaks_the_chain(log):
    with triggers_lifted("pool_accesslog"):
        AccessLog.objects.filter(pk=log[2].pk).delete()

    result = verify_access_log()

    assert (result.ok, result.problem, result.first_broken_id, result.checked) == (
        False, "broken_link", log[3].pk, 2,
    )  # fmt: skip
    out = cli()
    assert out.exit_code == 1
    assert f"access log chain BROKEN at entry {log[3].pk}:" in out.stderr


def test_a_last_row_deleted_or_a_row_altered_is_found(log):
    with triggers_lifted("pool_accesslog"):
        AccessLog.objects.filter(pk=log[1].pk).update(reason="无事")
    assert (verify_access_log().problem, verify_access_log().first_broken_id) == ("altered", log[1].pk)  # fmt: skip
    with triggers_lifted("pool_accesslog"):
        AccessLog.objects.filter(pk=log[1].pk).update(reason="走访 1")
        AccessLog.objects.filter(pk=log[4].pk).delete()
    assert verify_access_log().problem == "truncated"


# --- a head kept outside the database ----------------------------------------------------------
def test_the_cli_prints_both_heads_to_keep(trail, log):
    out = cli()

    assert out.exit_code == 0, out.output
    assert "audit chain intact: 5 events verified" in out.stdout
    assert "access log chain intact: 5 entries verified" in out.stdout
    assert f"chain head: event {trail[-1].pk} {trail[-1].hash}" in out.stdout
    assert f"access log head: entry {log[-1].pk} {log[-1].hash}" in out.stdout
    assert kept_head(out.stdout) == f"{trail[-1].hash}:{log[-1].hash}"


def test_removing_the_last_events_and_rewinding_the_head_is_caught_by_the_kept_head(trail, log):
    old = kept_head(cli().stdout)
    # GIVEN someone removes the last two events and rewinds the head to the third
    with triggers_lifted("audit_auditevent"):
        AuditEvent.objects.filter(pk__in=[trail[3].pk, trail[4].pk]).delete()
    ChainHead.objects.filter(pk=AUDIT_HEAD).update(last_id=trail[2].pk, last_hash=trail[2].hash)

    # THEN the chain alone reads intact…
    assert verify().ok and cli().exit_code == 0
    # …but not against the head kept since
    out = cli("--head", old)
    assert out.exit_code == 1
    assert (
        "audit chain BROKEN: the head kept outside the database is not in the chain" in out.stderr
    )
    assert "access log chain intact" in out.stderr  # the other chain is still reported
    assert out.stdout == ""


def test_removing_the_last_access_log_rows_and_rewinding_its_head_is_caught(trail, log):
    old = kept_head(cli().stdout)
    with triggers_lifted("pool_accesslog"):
        AccessLog.objects.filter(pk=log[-1].pk).delete()
    ChainHead.objects.filter(pk=ACCESS_LOG_HEAD).update(last_id=log[-2].pk, last_hash=log[-2].hash)

    assert verify_access_log().ok
    out = cli("--head", old)
    assert out.exit_code == 1
    assert "access log chain BROKEN: the head kept outside the database" in out.stderr


def test_a_kept_head_stays_valid_as_the_chains_grow(trail, log, actor):
    old = kept_head(cli().stdout)
    record(actor, "test.later")
    AccessLog.objects.create(user=actor, kind="reveal", field="id_number", reason="核实身份")

    out = cli("--head", old)

    assert out.exit_code == 0, out.output
    assert "6 events verified" in out.stdout and "6 entries verified" in out.stdout
    assert cli("--head", old.split(":")[0]).exit_code == 0  # the audit trail's alone
    assert cli("--head", "f" * 64).exit_code == 1  # a head that never was


# --- rows written before the chain ------------------------------------------------------------
MIGRATE_WITH_OLD_ROWS = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", "auth", verbosity=0)
call_command("migrate", "pool", "0005", verbosity=0)
call_command("migrate", "audit", verbosity=0)
from django.contrib.auth import get_user_model
user = get_user_model().objects.create_user("old", password="x")
with connection.cursor() as c:
    for i in range(3):
        c.execute("INSERT INTO pool_accesslog (at, user_id, kind, field, reason, detail) "
                  "VALUES (%s, %s, 'reveal', 'phone', %s, '')",
                  [f"2026-01-0{i + 1} 08:00:00", user.pk, f"旧记录{i}"])
call_command("migrate", verbosity=0)
"""


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_the_migration_chains_the_rows_written_before(vendor, tmp_path):
    import os

    from conftest import need
    from test_publish import _cli, _db_env

    if vendor == "postgresql":
        ok = os.environ.get("DATABASE_URL", "").startswith("postgres")
        need("postgres", ok, "set DATABASE_URL=postgres://... to run it on PostgreSQL")
    env = _db_env(tmp_path, vendor)
    try:
        subprocess.run([sys.executable, "-c", MIGRATE_WITH_OLD_ROWS], env=env, check=True)

        out = _cli(env, "audit", "verify")

        assert "access log chain intact: 3 entries verified" in out.stdout
        # and the table is append-only again
        refused = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); "
             "from django.db import connection; "
             "connection.cursor().execute('DELETE FROM pool_accesslog')"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert refused.returncode != 0 and "append-only" in refused.stderr
    finally:
        if vendor == "postgresql":
            import psycopg

            server, name = env["DATABASE_URL"].rsplit("/", 1)
            with psycopg.connect(f"{server}/postgres", autocommit=True) as c:
                c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- two chains, one lock order --------------------------------------------------------------
@pytest.mark.postgres
def test_appending_to_both_chains_in_either_order_does_not_deadlock(postgres_db, committed):
    """GIVEN two transactions that each append to both chains, in opposite orders, and
    wait for each other between the two appends, THEN both commit: the heads are always
    locked audit first (a lock order), where opposite orders would deadlock."""
    import threading

    from django.db import connections, transaction

    user = get_user_model().objects.create_user("locker", password="x")
    ChainHead.objects.get_or_create(pk=AUDIT_HEAD, defaults={"last_hash": GENESIS})
    ChainHead.objects.get_or_create(pk=ACCESS_LOG_HEAD, defaults={"last_hash": GENESIS})
    first_done = threading.Barrier(2, timeout=5)
    errors: list[BaseException] = []

    def access_log_row():
        AccessLog.objects.create(user=user, kind="reveal", field="phone", reason="测试")

    def audit_event():
        record(user, "keys.rotate", object_type="keys", object_id="1")

    def run(first, second):
        try:
            with transaction.atomic():
                first()
                with contextlib.suppress(threading.BrokenBarrierError):
                    first_done.wait()  # the other holds its first lock now (or waits for ours)
                second()
        except BaseException as e:  # a deadlock would be raised here
            errors.append(e)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(access_log_row, audit_event)),
        threading.Thread(target=run, args=(audit_event, access_log_row)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert AccessLog.objects.count() == 2 and AuditEvent.objects.count() == 2
    assert verify().ok and verify_access_log().ok
