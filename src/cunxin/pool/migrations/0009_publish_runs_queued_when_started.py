"""Publish runs made before 0004 got the migration's time as `created_at` (when queued):
they were never queued, they started at `started_at`. Ordered by `created_at`, they would
otherwise all read as newer than the runs queued since."""

from django.db import migrations
from django.db.models import F


def queued_when_started(apps, schema_editor):
    PublishRun = apps.get_model("pool", "PublishRun")
    PublishRun.objects.filter(started_at__lt=F("created_at")).update(created_at=F("started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("pool", "0008_search_count_names"),
    ]

    operations = [
        migrations.RunPython(queued_when_started, migrations.RunPython.noop, elidable=True),
    ]
