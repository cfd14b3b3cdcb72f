"""The audit trail: a hash chain that shows tampering, on tables the database keeps
append-only (DESIGN.md §6)."""

from __future__ import annotations

import contextlib
import importlib
import itertools
import threading

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, connections, transaction

from cunxin.audit.chain import GENESIS, record, verify
from cunxin.audit.models import AuditEvent, ChainHead
from cunxin.cli import main
from cunxin.pool.models import AccessLog

append_only = importlib.import_module("cunxin.audit.migrations.0002_append_only")
no_truncate = importlib.import_module("cunxin.audit.migrations.0003_no_truncate")


@pytest.fixture
def actor(db):
    return get_user_model().objects.create_user("auditor", password="x")


@pytest.fixture
def chain(actor) -> list[AuditEvent]:
    """Five events about one branch."""
    events = []
    for i in range(5):
        before = {"step": i - 1} if i else None
        after = {"step": i, "name": "甲支行"}
        events.append(record(actor, f"test.step{i}", object_type="org.branch", object_id="ZHA",
                             before=before, after=after))  # fmt: skip
    return events


@contextlib.contextmanager
def tampering():
    """Lifts the append-only triggers on audit_auditevent, as someone with SQL access
    could, and puts them back afterwards."""
    table = "audit_auditevent"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER {table}_no_{op}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                for sql in append_only.SQLITE:
                    if f" ON {table} " in sql:
                        cursor.execute(sql)


# --- the chain -------------------------------------------------------------------------


def test_it_links_each_event_to_the_previous_one(chain, actor):
    assert chain[0].prev_hash == GENESIS
    for previous, event in itertools.pairwise(chain):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in chain}) == 5
    assert ChainHead.objects.get(pk=1).last_hash == chain[-1].hash
    assert ChainHead.objects.get(pk=1).last_id == chain[-1].pk
    stored = AuditEvent.objects.get(pk=chain[1].pk)
    assert (stored.actor, stored.actor_name, stored.action) == (actor, "auditor", "test.step1")
    assert (stored.before, stored.after) == ({"step": 0}, {"step": 1, "name": "甲支行"})


def test_it_names_the_object_and_keeps_snapshots_json_safe(actor):
    import datetime as dt
    from decimal import Decimal

    event = record(None, "test.object", actor, after={"when": dt.date(2026, 1, 2), "amount": Decimal("1.50")})  # fmt: skip
    assert (event.object_type, event.object_id) == ("auth.user", str(actor.pk))
    assert event.actor_name == "system"
    assert AuditEvent.objects.get(pk=event.pk).after == {"when": "2026-01-02", "amount": "1.50"}
    assert verify().ok


def test_an_intact_chain_verifies(chain):
    result = verify()
    assert result.ok
    assert result.checked == 5
    assert result.first_broken_id is None
    assert verify(batch=2).ok  # across batch boundaries too


def test_an_empty_trail_verifies(db):
    assert verify().ok
    assert verify().checked == 0


def test_it_finds_an_altered_event(chain):
    with tampering():
        AuditEvent.objects.filter(pk=chain[2].pk).update(after={"step": 2, "name": "乙支行"})

    result = verify(batch=2)

    assert not result.ok
    assert result.first_broken_id == chain[2].pk
    assert result.checked == 2
    assert result.problem == "altered"


def test_it_finds_an_altered_time_or_actor(chain):
    import datetime as dt

    with tampering():
        AuditEvent.objects.filter(pk=chain[1].pk).update(at=chain[1].at - dt.timedelta(days=1))
    assert verify().first_broken_id == chain[1].pk
    with tampering():
        AuditEvent.objects.filter(pk=chain[1].pk).update(at=chain[1].at, actor_name="someone")
    assert verify().first_broken_id == chain[1].pk


def test_it_finds_a_removed_event(chain):
    with tampering():
        AuditEvent.objects.filter(pk=chain[2].pk).delete()

    result = verify()

    assert not result.ok
    assert result.first_broken_id == chain[3].pk
    assert result.checked == 2
    assert result.problem == "broken_link"


def test_it_finds_a_removed_last_event(chain):
    with tampering():
        AuditEvent.objects.filter(pk=chain[4].pk).delete()

    result = verify()

    assert not result.ok
    assert result.first_broken_id == chain[4].pk
    assert result.checked == 4
    assert result.problem == "truncated"


def test_events_recorded_while_it_verifies_are_not_taken_for_tampering(chain, actor, monkeypatch):
    """GIVEN events recorded while the chain is being checked — one just before it reads
    the chain's head, one while it reads the rows — THEN the check follows them to the new
    head and passes (an event between its last read of the rows and its read of the head
    used to be reported as "truncated")."""
    from cunxin.audit import chain as audit_chain

    appended: list = []

    recording = []

    def meanwhile() -> None:
        if recording:  # record reads the head and hashes too
            return
        recording.append(True)
        appended.append(record(actor, "test.meanwhile", object_type="org.branch", object_id="ZHA"))
        recording.clear()

    heads, digest = ChainHead.objects.filter, audit_chain._digest

    def head_read(*args, **kwargs):
        if not appended:
            meanwhile()
        return heads(*args, **kwargs)

    def row_read(*args):
        if len(appended) == 1:
            meanwhile()
        return digest(*args)

    monkeypatch.setattr(ChainHead.objects, "filter", head_read)
    monkeypatch.setattr(audit_chain, "_digest", row_read)
    result = verify(batch=2)
    assert result.ok, result.problem
    assert result.checked == 7 and result.head_id == appended[-1].pk


def test_it_finds_an_event_added_past_the_head(chain):
    """An event inserted after the last one, without moving the chain's head (SQL access,
    not `record`), is reported, even with a hash that links."""
    last = chain[-1]
    AuditEvent.objects.create(
        at=last.at, actor_name="someone", action="test.forged", object_type="org.branch",
        object_id="ZHA", prev_hash=last.hash, hash=last.hash[::-1],
    )  # fmt: skip
    result = verify()
    assert not result.ok and result.problem == "unrecorded"
    assert result.first_broken_id == AuditEvent.objects.get(action="test.forged").pk


def test_it_finds_swapped_events(chain):
    first, second = chain[1], chain[2]
    with tampering():
        for event, other in ((first, second), (second, first)):
            AuditEvent.objects.filter(pk=event.pk).update(
                action=other.action, before=other.before, after=other.after,
                prev_hash=other.prev_hash, hash=f"tmp{other.hash[3:]}",
            )  # fmt: skip
        for event, other in ((first, second), (second, first)):
            AuditEvent.objects.filter(pk=event.pk).update(hash=other.hash)

    assert verify().first_broken_id == first.pk


# --- append-only in the database -------------------------------------------------------


def refused(run) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run()


def test_the_database_refuses_to_change_or_delete_audit_events(chain):
    event = chain[2]
    refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(after={"step": 99}))
    refused(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    refused(lambda: connection.cursor().execute("DELETE FROM audit_auditevent"))
    event.after = {"step": 99}
    refused(lambda: event.save())
    assert AuditEvent.objects.count() == 5
    assert verify().ok
    record(None, "test.after")  # appending still works
    assert verify().checked == 6


@pytest.mark.postgres
@pytest.mark.parametrize("table", no_truncate.TABLES)
def test_postgresql_refuses_to_truncate_the_append_only_tables(postgres_db, chain, table):
    # TRUNCATE fires no row trigger: without 0003 it would empty the table silently
    refused(lambda: connection.cursor().execute(f"TRUNCATE {table}"))
    assert AuditEvent.objects.count() == 5
    assert ChainHead.objects.get(pk=1).last_id == chain[-1].pk
    assert verify().ok


def test_the_database_refuses_to_change_or_delete_access_log_rows(actor):
    row = AccessLog.objects.create(user=actor, kind="reveal", field="phone", reason="visit")
    refused(lambda: AccessLog.objects.filter(pk=row.pk).update(reason="nothing to see"))
    refused(lambda: AccessLog.objects.filter(pk=row.pk).delete())
    refused(lambda: connection.cursor().execute("UPDATE pool_accesslog SET reason = 'x'"))
    assert AccessLog.objects.get(pk=row.pk).reason == "visit"
    AccessLog.objects.create(user=actor, kind="export", field="segment", reason="report")
    assert AccessLog.objects.count() == 2


# --- the console command ---------------------------------------------------------------


def test_the_cli_says_an_intact_chain_is_intact(chain):
    result = CliRunner().invoke(main, ["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert "audit chain intact: 5 events verified" in result.output


def test_the_cli_names_the_broken_event(chain):
    with tampering():
        AuditEvent.objects.filter(pk=chain[3].pk).update(object_id="ZHB")

    result = CliRunner().invoke(main, ["audit", "verify"])

    assert result.exit_code == 1
    assert f"audit chain BROKEN at event {chain[3].pk}:" in result.stderr
    assert "3 events before it are intact" in result.stderr
    assert result.stdout == ""


# --- the audit pages -------------------------------------------------------------------


def test_hq_sees_the_trail_and_its_verification(as_user, chain):
    response = as_user("hq_admin").get("/audit/?verify=1")
    assert response.status_code == 200
    checks = response.context["checks"]
    assert checks["trail"].ok and checks["access"].ok  # both chains are walked
    html = response.content.decode()
    assert 'data-testid="access-verification"' in html
    assert f"{checks['trail'].head_hash}:{checks['access'].head_hash}" in html  # to keep outside


def test_the_trail_says_in_chinese_what_is_broken(as_user, chain):
    with tampering():
        AuditEvent.objects.filter(pk=chain[2].pk).update(after={"step": 2, "name": "乙支行"})

    html = as_user("hq_admin").get("/audit/?verify=1").content.decode()

    assert (
        f"哈希链在第 {chain[2].pk} 号事件处断裂：事件内容与其哈希值不符（该事件被篡改）。" in html
    )


def test_django_admin_shows_the_trail_read_only(as_user, chain):
    client = as_user("hq_admin")
    event = chain[1]
    assert client.get("/admin/audit/auditevent/").status_code == 200
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert event.hash in page.content.decode()
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "x"}).status_code == 403  # fmt: skip
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403  # fmt: skip
    bulk = client.post("/admin/audit/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk]})  # fmt: skip
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert verify().ok


def test_django_admin_shows_the_access_log_read_only(as_user, world):
    row = AccessLog.objects.create(user=world.users["cm_a"], kind="reveal", person=world.persons["a11"], field="phone", reason="visit")  # fmt: skip
    client = as_user("hq_admin")
    assert client.get("/admin/pool/accesslog/").status_code == 200
    assert client.get(f"/admin/pool/accesslog/{row.pk}/change/").status_code == 200
    assert client.get("/admin/pool/accesslog/add/").status_code == 403
    assert client.post(f"/admin/pool/accesslog/{row.pk}/delete/", {"post": "yes"}).status_code == 403  # fmt: skip


# --- concurrency (PostgreSQL) ----------------------------------------------------------


@pytest.fixture
def flushable(transactional_db):
    """Committed data, flushed at the end with the append-only triggers lifted."""
    from appendonly import allow_flush

    yield
    allow_flush()


@pytest.mark.postgres
def test_concurrent_appends_keep_one_chain(postgres_db, flushable):
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def append(name: str) -> None:
        try:
            start.wait()
            for i in range(20):
                record(name, "test.concurrent", object_type="test", object_id=f"{name}-{i}")
        except BaseException as e:  # reported by the main thread
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(f"writer{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors
    assert AuditEvent.objects.count() == 40
    assert set(AuditEvent.objects.values_list("actor_name", flat=True)) == {"writer1", "writer2"}
    result = verify()
    assert result.ok, result
    assert result.checked == 40
