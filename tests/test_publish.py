"""`cunxin pool publish`: complete, encrypted, idempotent, updatable, atomic under SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conftest import need
from cunxin.datapool.errors import PoolInputError
from cunxin.lib import crypto
from cunxin.pool.models import AccessLog, Household, Person, PublishRun, RiskFlag
from cunxin.pool.publish import PublishBusy, publish


@pytest.fixture(scope="session")
def small_pool(tmp_path_factory) -> Path:
    """A synthetic county at scale 0.005, built once per session (a few seconds)."""
    from cunxin.datapool.build import build
    from cunxin.synth import generate

    root = tmp_path_factory.mktemp("publish")
    generate(root / "raw", scale=0.005, seed=7)
    build(root / "raw", root / "pool")
    return root / "pool"


def pool_rows(pool: Path, table: str) -> int:
    return duckdb.sql(f"SELECT count(*) FROM '{pool / table}.parquet'").fetchall()[0][0]


def snapshot() -> dict:
    return {
        "persons": sorted(Person.objects.values_list("uid", "content_hash", "publish_run_id", "retired_at")),
        "households": sorted(Household.objects.values_list("uid", "content_hash", "publish_run_id", "retired_at")),
        "flags": sorted(RiskFlag.objects.values_list("person_id", "flag", "record_key", "content_hash", "retired_at")),
    }  # fmt: skip


def changed_pool(src: Path, dst: Path) -> dict:
    """A copy of the pool with one phone changed, one person gone and one address moved."""
    shutil.copytree(src, dst)
    con = duckdb.connect()
    changed, gone = con.sql(
        f"SELECT person_uid FROM '{src}/person.parquet' WHERE phone IS NOT NULL "
        "AND household_uid IS NOT NULL ORDER BY person_uid LIMIT 2"
    ).fetchall()
    household = con.sql(
        f"SELECT household_uid FROM '{src}/household.parquet' ORDER BY household_uid LIMIT 1"
    ).fetchall()[0][0]
    con.sql(
        f"COPY (SELECT * REPLACE (CASE WHEN person_uid = '{changed[0]}' THEN '13912345678' ELSE phone END AS phone) "
        f"FROM '{src}/person.parquet' WHERE person_uid <> '{gone[0]}') TO '{dst}/person.parquet'"
    )
    con.sql(
        f"COPY (SELECT * REPLACE (CASE WHEN household_uid = '{household}' THEN '新地址1号' ELSE address END AS address) "
        f"FROM '{src}/household.parquet') TO '{dst}/household.parquet'"
    )
    return {"changed": changed[0], "gone": gone[0], "household": household}


@pytest.mark.django_db
def test_it_publishes_every_row_of_the_pool(small_pool):
    run = publish(small_pool, by="tester")
    assert run.status == PublishRun.Status.SUCCEEDED
    assert Person.objects.count() == pool_rows(small_pool, "person")
    assert Household.objects.count() == pool_rows(small_pool, "household")
    assert RiskFlag.objects.count() == pool_rows(small_pool, "risk_flag")
    assert run.counts["pool_person"]["inserted"] == pool_rows(small_pool, "person")
    assert run.published_by == "tester"
    assert run.timings["total"] > 0


@pytest.mark.django_db
def test_it_stores_id_numbers_and_phones_encrypted_and_searchable(small_pool):
    publish(small_pool, by="tester")
    sample = duckdb.sql(
        f"SELECT person_uid, id_number, phone FROM '{small_pool}/person.parquet' "
        "WHERE id_number IS NOT NULL AND phone IS NOT NULL ORDER BY person_uid LIMIT 40"
    ).fetchall()
    for uid, id_number, phone in sample:
        p = Person.objects.get(uid=uid)
        stored = json.dumps(
            [p.id_number_enc, p.phone_enc, p.id_masked, p.phone_masked, p.tags, p.profile,
             p.provenance, p.relations], ensure_ascii=False,
        )  # fmt: skip
        assert id_number not in stored and phone not in stored
        assert p.id_number() == id_number and p.phone() == phone
        assert p.id_masked == id_number[:6] + "*" * 8 + id_number[-4:]
        hit = Person.objects.get(id_number_bidx=crypto.blind_index(id_number, purpose="id_number"))
        assert hit.uid == uid


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_pool_is_published_again(small_pool):
    publish(small_pool, by="tester")
    before = snapshot()
    run = publish(small_pool, by="tester")
    assert snapshot() == before
    for table, c in run.counts.items():
        assert c["inserted"] == c["updated"] == c["retired"] == 0, table
        assert c["unchanged"] == c["rows"], table


@pytest.mark.django_db
def test_it_updates_changed_rows_and_keeps_workflow_data_of_retired_ones(
    small_pool, tmp_path, world
):
    # GIVEN a published pool, and an access-log row (workflow data) about one person
    publish(small_pool, by="tester")
    newer = tmp_path / "pool2"
    what = changed_pool(small_pool, newer)
    gone = Person.objects.get(uid=what["gone"])
    AccessLog.objects.create(user=world.users["cm_a"], kind="reveal", person=gone, field="phone", reason="visit")  # fmt: skip
    # WHEN a newer pool without that person, with a changed phone and address, is published
    run = publish(newer, by="tester")
    # THEN exactly those rows change (and the gone person's housemates, whose position in
    # the household moved up); the person is retired, not deleted
    updated = set(Person.objects.filter(publish_run=run).values_list("uid", flat=True))
    housemates = set(Person.objects.filter(household=gone.household).values_list("uid", flat=True))
    assert what["changed"] in updated
    assert updated <= {what["changed"]} | (housemates - {gone.uid})
    assert run.counts["pool_person"]["updated"] == len(updated)
    assert run.counts["pool_person"]["retired"] == 1
    assert run.counts["pool_household"]["updated"] == 1
    assert Person.objects.get(uid=what["changed"]).phone() == "13912345678"
    assert Household.objects.get(uid=what["household"]).address == "新地址1号"
    gone.refresh_from_db()
    assert gone.retired_at is not None
    assert AccessLog.objects.filter(person=gone).count() == 1
    # AND publishing the older pool again brings the person back
    run = publish(small_pool, by="tester")
    gone.refresh_from_db()
    assert gone.retired_at is None
    assert run.counts["pool_person"]["updated"] == len(updated) + 1


@pytest.mark.django_db
def test_it_records_the_run_in_the_audit_trail(small_pool):
    from cunxin.audit.models import AuditEvent

    run = publish(small_pool, by="tester")
    event = AuditEvent.objects.get(action="pool.publish")
    assert event.object_id == str(run.pk)
    assert event.after["counts"]["pool_person"]["inserted"] == run.counts["pool_person"]["inserted"]


@pytest.mark.django_db
def test_it_refuses_a_folder_that_is_not_a_built_pool(tmp_path):
    with pytest.raises(PoolInputError, match="not a built pool"):
        publish(tmp_path, by="tester")
    assert not PublishRun.objects.exists()


# --- a publish killed mid-way -----------------------------------------------------------------
def _db_env(tmp_path: Path, vendor: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CUNXIN_DATA_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "cunxin.project.settings"
    if vendor == "postgresql":
        import psycopg

        base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        server = base.rsplit("/", 1)[0]
        name = f"cunxin_crash_{os.getpid()}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = f"{server}/{name}"
    return env


# A publish that stops inside its transaction, right after persons were merged, so the
# test can SIGKILL it there.
PAUSING_PUBLISH = """
import pathlib, sys, time, django
django.setup()
from cunxin.pool import publish as P
merge = P._merge
def pausing_merge(cursor, staging, retiring, table, *args):
    counts = merge(cursor, staging, retiring, table, *args)
    if table is P.PERSON:
        pathlib.Path(sys.argv[2]).touch()
        time.sleep(600)
    return counts
P._merge = pausing_merge
P.publish(sys.argv[1], by="crash-test")
"""

SNAPSHOT = """
import django, json
django.setup()
from cunxin.pool.models import Person, Household, PublishRun
print(json.dumps({
    "persons": sorted([p[0], p[1], str(p[2])] for p in Person.objects.values_list("uid", "content_hash", "retired_at")),
    "households": sorted([h[0], h[1]] for h in Household.objects.values_list("uid", "content_hash")),
    "runs": sorted(PublishRun.objects.values_list("status", flat=True)),
}))
"""


def _cli(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "-m", "cunxin.cli", *args], env=env, capture_output=True, text=True,
        check=check,
    )  # fmt: skip


def _snapshot(env) -> dict:
    out = subprocess.run([sys.executable, "-c", SNAPSHOT], env=env, capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_a_publish_killed_mid_way_leaves_the_previous_state(vendor, small_pool, tmp_path):
    if vendor == "postgresql":
        ok = os.environ.get("DATABASE_URL", "").startswith("postgres")
        need("postgres", ok, "set DATABASE_URL=postgres://... to run the crash test on PostgreSQL")
    env = _db_env(tmp_path, vendor)
    try:
        # GIVEN a database holding the published pool
        _cli(env, "manage", "migrate", "-v0")
        _cli(env, "pool", "publish", "--pool", str(small_pool))
        before = _snapshot(env)
        assert before["runs"] == ["succeeded"]
        # WHEN a publish of a newer pool is killed after persons were merged, before COMMIT
        newer = tmp_path / "pool2"
        changed_pool(small_pool, newer)
        marker = tmp_path / "paused"
        proc = subprocess.Popen(
            [sys.executable, "-c", PAUSING_PUBLISH, str(newer), str(marker)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(600):
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), (
            proc.stderr.read().decode() if proc.poll() is not None else "no pause"
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # THEN the data is exactly as before; the run is left "running"
        after = _snapshot(env)
        assert after["persons"] == before["persons"]
        assert after["households"] == before["households"]
        assert after["runs"] == ["running", "succeeded"]
        # AND the next publish marks the leftover run interrupted and applies the newer pool
        _cli(env, "pool", "publish", "--pool", str(newer))
        final = _snapshot(env)
        assert final["runs"] == ["interrupted", "succeeded", "succeeded"]
        assert final["persons"] != before["persons"]
    finally:
        if vendor == "postgresql":
            import psycopg

            url = env["DATABASE_URL"]
            server, name = url.rsplit("/", 1)
            with psycopg.connect(f"{server}/postgres", autocommit=True) as c:
                c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_cli_reports_a_missing_pool_in_one_line(tmp_path):
    env = _db_env(tmp_path, "sqlite")
    _cli(env, "manage", "migrate", "-v0")
    out = _cli(env, "pool", "publish", "--pool", str(tmp_path / "nope"), check=False)
    assert out.returncode != 0
    assert "not a built pool" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_cli_asks_for_migrations_first(tmp_path):
    env = _db_env(tmp_path, "sqlite")
    out = _cli(env, "pool", "publish", "--pool", str(tmp_path), check=False)
    assert out.returncode != 0
    assert "cunxin manage migrate" in out.stderr


@pytest.mark.django_db
def test_it_keeps_no_clear_birth_date_that_would_unmask_an_id(small_pool):
    # The masked ID hides exactly the birth date: stored in clear, it would give the ID away.
    publish(small_pool, by="tester")
    assert "birth_date" not in {f.name for f in Person._meta.get_fields()}
    p = Person.objects.exclude(id_masked="").exclude(birth_year=None).first()
    assert p.birth_year == int(p.id_number()[6:10])


@pytest.mark.django_db
def test_a_ciphertext_copied_to_another_person_does_not_decrypt(small_pool):
    from cryptography.exceptions import InvalidTag

    publish(small_pool, by="tester")
    a, b = Person.objects.exclude(id_number_enc=None).order_by("uid")[:2]
    b.id_number_enc = a.id_number_enc
    with pytest.raises(InvalidTag):
        b.id_number()


@contextlib.contextmanager
def another_publish_running():
    """Hold the publish lock as another process's publish would: PostgreSQL's advisory lock
    from another connection, the flock of the file beside a SQLite database."""
    import fcntl

    import psycopg
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":
        other = psycopg.connect(
            host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"], dbname=s["NAME"],
            autocommit=True,
        )  # fmt: skip
        try:
            other.execute("SELECT pg_advisory_lock(hashtext('cunxin.pool.publish'))")
            yield
        finally:
            other.close()
        return
    assert not connection.is_in_memory_db(), "a file database: the lock file is beside it"
    with open(f"{Path(s['NAME']).resolve()}.publish-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.mark.django_db
def test_a_second_publish_at_the_same_time_is_refused(small_pool):
    with another_publish_running(), pytest.raises(PublishBusy, match="another"):
        publish(small_pool, by="tester")
    assert not PublishRun.objects.exists()
    publish(small_pool, by="tester")  # once it has finished
    assert PublishRun.objects.get().status == PublishRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_queued_publish_waits_while_another_runs(small_pool):
    from cunxin.jobs.worker import drain
    from cunxin.pool.actions import do_queue_publish

    run = do_queue_publish(small_pool, by="ops")
    first_task = run.task_id
    with another_publish_running():
        assert drain() == 1
    run.refresh_from_db()
    assert run.status == PublishRun.Status.QUEUED and run.task_id != first_task
    task = DBTaskResult.objects.get(id=run.task_id)
    assert task.status == "READY" and task.run_after > timezone.now()
    assert drain() == 0  # not before its time
    DBTaskResult.objects.filter(id=run.task_id).update(run_after=timezone.now())
    assert drain() == 1
    run.refresh_from_db()
    assert run.status == PublishRun.Status.SUCCEEDED, run.error


@pytest.mark.django_db
def test_a_publish_queued_again_while_it_ran_keeps_nothing(small_pool, monkeypatch):
    """GIVEN a publish whose worker was taken for stopped (its run interrupted and queued
    again as attempt 2) while it went on, WHEN it comes to commit, THEN it keeps nothing
    and attempt 2 is left to publish."""
    from cunxin.jobs.worker import drain
    from cunxin.pool import publish as P
    from cunxin.pool.actions import do_queue_publish

    run = do_queue_publish(small_pool, by="ops")
    check = P.check_pool

    def queued_again_meanwhile(*args, **kwargs):
        # after the claim, before the publish's transaction (on SQLite nothing else writes
        # while it runs)
        PublishRun.objects.filter(pk=run.pk).update(status=PublishRun.Status.QUEUED, attempt=2)
        return check(*args, **kwargs)

    monkeypatch.setattr(P, "check_pool", queued_again_meanwhile)
    assert drain() == 1
    run.refresh_from_db()
    assert (run.status, run.attempt) == (PublishRun.Status.QUEUED, 2)
    assert not Person.objects.exists() and not Household.objects.exists()


@pytest.mark.postgres
def test_the_first_publish_restores_every_index_and_foreign_key(postgres_db, small_pool):
    from django.db import connection

    def schema():
        with connection.cursor() as c:
            c.execute(
                "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname LIKE 'pool_%' OR t.relname LIKE 'org_%'"
            )
            indexes = sorted(c.fetchall())
            c.execute(
                "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE t.relname LIKE 'pool_%' OR t.relname LIKE 'org_%'"
            )
            return indexes, sorted(c.fetchall())

    before = schema()
    assert not Person.objects.exists()  # the empty-table path
    publish(small_pool, by="tester")
    assert schema() == before


# --- a publish queued for the task worker (cunxin.jobs) ------------------------------------------
@pytest.mark.django_db
def test_a_queued_publish_is_run_by_the_worker(small_pool):
    from cunxin.jobs.worker import drain
    from cunxin.pool.actions import do_queue_publish
    from cunxin.pool.publish import TABLES

    run = do_queue_publish(small_pool, by="ops")
    assert run.status == PublishRun.Status.QUEUED and run.task_id and run.started_at is None
    assert drain() == 1
    run.refresh_from_db()
    assert run.status == PublishRun.Status.SUCCEEDED, run.error
    assert run.worker_id.startswith("inline-") and run.done == run.total == len(TABLES)
    assert run.counts["pool_person"]["rows"] == pool_rows(small_pool, "person")
    assert Person.objects.count() == pool_rows(small_pool, "person")


@pytest.mark.django_db
def test_a_queued_publish_of_a_folder_gone_meanwhile_fails_with_the_reason(
    small_pool, tmp_path, world, client
):
    from cunxin.jobs.worker import drain
    from cunxin.pool.actions import do_queue_publish

    persons = Person.objects.count()
    copy = tmp_path / "pool"
    shutil.copytree(small_pool, copy)
    run = do_queue_publish(copy, by="ops")
    (copy / "manifest.json").unlink()
    drain()
    run.refresh_from_db()
    assert run.status == PublishRun.Status.FAILED and "not a built pool" in run.error
    assert Person.objects.count() == persons
    # HQ reads what happened in Chinese, the technical detail folded under it
    client.force_login(world.users["hq_admin"])
    page = client.get(reverse("pool:publish_runs")).content.decode()
    assert "发布失败，数据库保持原状" in page
    assert "<summary>技术详情</summary>" in page and "not a built pool" in page


@pytest.mark.django_db
def test_a_running_publish_reports_its_step_through_the_workers_beat(small_pool):
    from cunxin.jobs import worker
    from cunxin.pool import publish as P

    run = PublishRun.objects.create(
        pool_dir=str(small_pool), status=PublishRun.Status.RUNNING, published_by="ops",
        started_at=timezone.now(),
    )  # fmt: skip
    with P._reporting(run) as report:
        report("publish pool_household", 4, 6)
        for beat in list(worker._callbacks.values()):  # what the ticker does every beat
            beat()
    assert not worker._callbacks  # gone with the publish
    run.refresh_from_db()
    assert (run.step, run.done, run.total) == ("pool_household", 4, 6)
    assert run.heartbeat_at is not None


@pytest.mark.django_db
def test_hq_admins_publish_the_configured_folder_from_the_page(small_pool, world, client, settings):
    from cunxin.audit.models import AuditEvent
    from cunxin.jobs.worker import drain

    settings.CUNXIN_POOL_DIR = str(small_pool)
    start = reverse("pool:publish_start")
    for user, status in (("hq_analyst", 403), ("bm_a", 404), ("cm_a", 404)):
        client.force_login(world.users[user])
        assert client.post(start).status_code == status
    assert PublishRun.objects.count() == 1  # the world's own
    client.force_login(world.users["hq_admin"])
    page = client.get(reverse("pool:publish_runs")).content.decode()
    assert 'data-testid="publish-start"' in page and 'data-testid="no-worker"' in page
    assert client.post(start).status_code == 302
    run = PublishRun.objects.get(status=PublishRun.Status.QUEUED)
    assert AuditEvent.objects.filter(action="pool.publish.queue", object_id=str(run.pk)).exists()
    drain()
    run.refresh_from_db()
    assert run.status == PublishRun.Status.SUCCEEDED, run.error
    # an interrupted one is published again, once
    PublishRun.objects.filter(pk=run.pk).update(status=PublishRun.Status.INTERRUPTED)
    rerun = reverse("pool:publish_rerun", args=[run.pk])
    assert (
        'data-testid="publish-rerun"' in client.get(reverse("pool:publish_runs")).content.decode()
    )
    assert client.post(rerun).status_code == 302
    again = client.post(rerun, follow=True).content.decode()
    run.refresh_from_db()
    assert (run.status, run.attempt) == (PublishRun.Status.QUEUED, 2)
    assert "不能再次发布" in again  # the second click is told, not queued twice


@pytest.mark.django_db
def test_without_a_configured_folder_the_page_says_to_use_the_cli(world, client, settings):
    settings.CUNXIN_POOL_DIR = ""
    client.force_login(world.users["hq_admin"])
    page = client.get(reverse("pool:publish_runs")).content.decode()
    assert 'data-testid="publish-start"' not in page and "CUNXIN_POOL_DIR" in page
    client.post(reverse("pool:publish_start"))
    assert PublishRun.objects.count() == 1  # the world's own; nothing queued


@pytest.mark.django_db
def test_runs_from_before_the_queue_count_as_queued_when_they_started():
    """Migration 0009: a run made before publish runs were queued got the migration's time
    as its queue time; it takes its start instead. A queued run (no start) keeps its own."""
    import importlib
    from datetime import timedelta

    from django.apps import apps

    migration = importlib.import_module(
        "cunxin.pool.migrations.0009_publish_runs_queued_when_started"
    )
    t = timezone.now()
    old = PublishRun.objects.create(
        pool_dir="/p", published_by="ops", status=PublishRun.Status.SUCCEEDED,
        created_at=t, started_at=t - timedelta(days=30),
    )  # fmt: skip
    queued = PublishRun.objects.create(pool_dir="/p", published_by="ops", created_at=t)
    migration.queued_when_started(apps, None)
    old.refresh_from_db()
    queued.refresh_from_db()
    assert old.created_at == old.started_at and queued.created_at == t
