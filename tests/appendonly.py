"""The append-only tables against the test database's flush.

A test on `transactional_db` or `live_server` ends with pytest-django flushing every
table, which the append-only triggers refuse: SQLite deletes rows (row triggers of audit
migration 0002), PostgreSQL truncates (statement triggers of 0003). A fixture that
depends on `transactional_db` calls `allow_flush()` after its `yield`, so just before
the flush: the flush then runs with the triggers lifted, and they are back afterwards.
"""

from __future__ import annotations

import importlib

append_only = importlib.import_module("cunxin.audit.migrations.0002_append_only")
no_truncate = importlib.import_module("cunxin.audit.migrations.0003_no_truncate")


def allow_flush() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        _empty_sqlite_tables(connection)
    elif connection.vendor == "postgresql":
        _lift_triggers_around_next_truncate(connection)


def _empty_sqlite_tables(connection) -> None:
    """Empty the append-only tables with their triggers dropped, then put them back: the
    flush's DELETEs then have no rows left to refuse."""
    with connection.cursor() as cursor:
        try:
            for table in append_only.TABLES:
                for op in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
                cursor.execute(f"DELETE FROM {table}")
        finally:
            for sql in append_only.SQLITE:
                cursor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))


def _lift_triggers_around_next_truncate(connection) -> None:
    """The next TRUNCATE on this connection (the flush's one statement for all tables)
    runs between DISABLE and ENABLE TRIGGER USER on the protected tables. The flush runs
    in a transaction, so should it fail, the DISABLE is rolled back with it."""
    tables = sorted(set(append_only.TABLES) | set(no_truncate.TABLES))

    def around_truncate(execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith("TRUNCATE"):
            return execute(sql, params, many, context)
        connection.execute_wrappers.remove(around_truncate)
        for table in tables:
            execute(f"ALTER TABLE {table} DISABLE TRIGGER USER", None, False, context)
        result = execute(sql, params, many, context)
        for table in tables:
            execute(f"ALTER TABLE {table} ENABLE TRIGGER USER", None, False, context)
        return result

    connection.execute_wrappers.append(around_truncate)
