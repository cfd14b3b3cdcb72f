"""Reads of the credit stage that several modules share: the credit policy in force and
a version as the rule engine reads it, the active scorecard version, a person's inputs
for a decision. No writes (those are `actions.py` and `policy_actions.py`); the bottom of
the decisions app's Django side, under the actions, the batch engine and the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.utils import timezone

from cunxin.credit.decide import Applicant
from cunxin.credit.policy import CreditPolicy, from_data, to_data
from cunxin.decisions.inputs import exact_age, load, scope_where
from cunxin.decisions.models import CreditPolicyVersion, ModelVersion
from cunxin.pool.models import Person


# --- the policy in force -------------------------------------------------------------------
def credit_policy_in_force(on: dt.date | None = None) -> CreditPolicyVersion:
    """The newest version effective on `on` (today); at first the DESIGN.md §5 defaults,
    stored on first use as in force from that day (the day the bank started with them).
    Before that day nothing else was in force either, so the defaults answer for it."""
    on = on or timezone.localdate()
    version = CreditPolicyVersion.objects.filter(effective_from__lte=on).first()
    if version is None:
        default = CreditPolicy()
        version, _created = CreditPolicyVersion.objects.get_or_create(
            version=default.version,
            defaults={"data": to_data(default), "effective_from": timezone.localdate()},
        )
    return version


# --- the inputs of a decision ----------------------------------------------------------------
def age_on(person: Person, on: dt.date) -> int | None:
    """Exact age from the ID number's date of birth (decrypted for the computation only,
    never shown); the year of birth when the number is missing."""
    return exact_age(person.id_number(), person.birth_year, on)


def active_model() -> ModelVersion | None:
    return ModelVersion.objects.filter(active=True).first()


def applicant_for(person: Person, on: dt.date | None = None) -> tuple[Applicant, dict]:
    """The person's inputs (`cunxin.decisions.inputs`) with the exact age. Returns the
    applicant and where each input came from (for the trace)."""
    on = on or timezone.localdate()
    model = active_model()
    where, params = scope_where("person", person.uid)
    (found,) = load(where, params, on, model_pk=model.pk if model else None)
    applicant = replace(found.applicant, age=age_on(person, on) or 0)
    sources = {
        **found.sources,
        "model": model.model_id if model else None,
        "model_version": model.pk if model else None,
    }
    return applicant, sources


def credit_policy(version: CreditPolicyVersion) -> CreditPolicy:
    return from_data(version.data)
