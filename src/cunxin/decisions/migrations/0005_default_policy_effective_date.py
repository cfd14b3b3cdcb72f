"""The built-in credit policy was stored as in force from 2000-01-01, a date that meant
nothing to anyone reading "自 2000-01-01 起生效". It is in force from the day it was
stored (installed), as `policy_in_force` now stores it."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

PLACEHOLDER = dt.date(2000, 1, 1)


def forward(apps, schema_editor):
    Version = apps.get_model("decisions", "CreditPolicyVersion")
    for v in Version.objects.filter(version="default-1", effective_from=PLACEHOLDER):
        v.effective_from = timezone.localtime(v.created_at).date()
        v.save(update_fields=["effective_from"])


def backward(apps, schema_editor):
    """Nothing to undo: the installed day is as good a start as the placeholder."""


class Migration(migrations.Migration):
    dependencies = [("decisions", "0004_policy_drafts")]

    operations = [migrations.RunPython(forward, backward)]
