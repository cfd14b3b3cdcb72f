"""The access log hash-chained like the audit trail (`AccessLog.save` links each new row;
head row 2 of `audit.ChainHead`). Rows written before are chained here, in id order, with
the append-only triggers lifted for the UPDATE and put back (on SQLite, adding a column
rebuilds the table, which drops its triggers: they are created again)."""

import datetime as dt
import importlib

import django.utils.timezone
from django.db import migrations, models

from cunxin.audit.chain import ACCESS_LOG_HEAD, GENESIS, linked_hash

append_only = importlib.import_module("cunxin.audit.migrations.0002_append_only")
TABLE = "pool_accesslog"


def chain_existing(apps, schema_editor):
    AccessLog = apps.get_model("pool", "AccessLog")
    ChainHead = apps.get_model("audit", "ChainHead")
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER refuses pending FK checks
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op}")
    prev, last = GENESIS, 0
    for row in AccessLog.objects.order_by("pk").iterator(chunk_size=2000):
        # as AccessLog.chain_payload
        payload = [
            row.at.astimezone(dt.UTC).isoformat(), row.user_id, row.kind, row.person_id or "",
            row.field, row.reason, row.detail,
        ]  # fmt: skip
        digest = linked_hash(prev, payload)
        AccessLog.objects.filter(pk=row.pk).update(prev_hash=prev, hash=digest)
        prev, last = digest, row.pk
    if last:
        ChainHead.objects.update_or_create(
            pk=ACCESS_LOG_HEAD, defaults={"last_id": last, "last_hash": prev}
        )
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
        elif vendor == "sqlite":
            for sql in append_only.SQLITE:
                if f" ON {TABLE} " in sql:
                    cursor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))


class Migration(migrations.Migration):
    dependencies = [("pool", "0005_search_rate_limit"), ("audit", "0003_no_truncate")]

    operations = [
        migrations.AlterField(
            model_name="accesslog",
            name="at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="when"
            ),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
