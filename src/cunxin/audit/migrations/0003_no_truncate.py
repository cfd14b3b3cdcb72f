"""PostgreSQL's TRUNCATE empties a table without firing row-level triggers, so it went
around the append-only triggers of 0002: statement-level BEFORE TRUNCATE triggers refuse
it on the audit trail, its chain head and the access log. SQLite has no TRUNCATE.

Tests whose end-of-test flush truncates every table lift these triggers for the flush
(tests/test_browser.py, tests/test_audit.py)."""

from django.db import migrations

TABLES = ("audit_auditevent", "audit_chainhead", "pool_accesslog")

# cunxin_append_only() (0002) raises "table … is append-only" for any trigger event.
POSTGRES = "".join(
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION cunxin_append_only();\n"
    for t in TABLES
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for t in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
