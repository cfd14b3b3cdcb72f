"""Database triggers that make the audit trail and the access log append-only: an UPDATE
or DELETE fails in the database itself, whatever code (or person with SQL) tries it."""

from django.db import migrations

TABLES = ("audit_auditevent", "pool_accesslog")

POSTGRES = """
CREATE OR REPLACE FUNCTION cunxin_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'table %% is append-only', TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
    f"FOR EACH ROW EXECUTE FUNCTION cunxin_append_only();\n"
    for t in TABLES
)

SQLITE = [
    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'table {t} is append-only'); END;"
    for t in TABLES
    for op in ("UPDATE", "DELETE")
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    for t in TABLES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
        else:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_no_{op}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("pool", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
