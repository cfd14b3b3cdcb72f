"""信用户 and 信用村 ratings (cunxin.decisions.ratings): the criteria with exact shares,
the run a village's households come from, and the borrowers read from the 360 profile."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from django.utils import timezone

from conftest import give_scores, sign_off
from cunxin.credit.policy import CreditVillageCriteria
from cunxin.decisions.actions import do_start_batch_run
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.models import BatchRun
from cunxin.decisions.ratings import (
    borrower_counts,
    criteria_for,
    latest_runs,
    percent,
    village_ratings,
)
from cunxin.jobs.worker import drain
from cunxin.org.models import Village

DEFAULT = CreditVillageCriteria()  # 70% credit households, 85% without arrears, NPL < 5%


def _met(**numbers) -> dict[str, bool]:
    counts = {"rated": True, "households": 10, "credit_households": 7, "borrowers": 20,
              "borrowers_without_arrears": 17, "bad_borrowers": 0, **numbers}  # fmt: skip
    return {c.name: c.met for c in criteria_for(DEFAULT, **counts)}


# --- the criteria, exactly ---------------------------------------------------------------------
def test_each_criterion_is_met_exactly_at_its_threshold():
    assert _met() == {
        "min_credit_household_share": True,  # 7/10 = 70%: at least 70%
        "min_borrowers_without_arrears_share": True,  # 17/20 = 85%: at least 85%
        "max_npl_ratio": True,  # 0/20: below 5%
    }
    assert not _met(credit_households=6)["min_credit_household_share"]  # 60%
    assert not _met(households=1000, credit_households=699)["min_credit_household_share"]
    assert not _met(borrowers_without_arrears=16)["min_borrowers_without_arrears_share"]
    assert not _met(bad_borrowers=1)["max_npl_ratio"]  # 1/20 = 5%: not below 5%
    assert _met(borrowers=21, borrowers_without_arrears=18, bad_borrowers=1)["max_npl_ratio"]


def test_the_values_are_exact_fractions():
    criteria = criteria_for(
        DEFAULT, rated=True, households=3, credit_households=2, borrowers=7,
        borrowers_without_arrears=6, bad_borrowers=1,
    )  # fmt: skip
    assert [c.value for c in criteria] == [Fraction(2, 3), Fraction(6, 7), Fraction(1, 7)]
    assert [c.met for c in criteria] == [False, True, False]
    assert [c.threshold for c in criteria] == [0.70, 0.85, 0.05]
    assert [percent(c.value) for c in criteria] == ["66.7%", "85.7%", "14.3%"]
    assert percent(Fraction(7, 10)) == "70.0%" and percent(None) == "—"


def test_no_borrowers_means_no_arrears_and_no_bad_loans_and_no_run_no_rating():
    no_borrowers = criteria_for(
        DEFAULT, rated=True, households=4, credit_households=3, borrowers=0,
        borrowers_without_arrears=0, bad_borrowers=0,
    )  # fmt: skip
    assert [(c.value, c.met) for c in no_borrowers] == [
        (Fraction(3, 4), True), (None, True), (None, True),
    ]  # fmt: skip
    unrated = criteria_for(
        DEFAULT, rated=False, households=0, credit_households=0, borrowers=2,
        borrowers_without_arrears=2, bad_borrowers=0,
    )  # fmt: skip
    assert (unrated[0].value, unrated[0].met) == (None, False)


def test_a_stricter_policy_changes_the_verdict():
    strict = CreditVillageCriteria(min_credit_household_share=0.8, max_npl_ratio=0.10)
    met = {
        c.name: c.met
        for c in criteria_for(strict, rated=True, households=10, credit_households=7,
                              borrowers=20, borrowers_without_arrears=17, bad_borrowers=1)
    }  # fmt: skip
    assert met == {"min_credit_household_share": False, "min_borrowers_without_arrears_share": True,
                   "max_npl_ratio": True}  # fmt: skip


# --- borrowers from the 360 profile --------------------------------------------------------------
def _credit(person, **credit) -> None:
    person.profile = {**person.profile, "credit": credit}
    person.save(update_fields=["profile"])


@pytest.mark.django_db
def test_borrowers_are_counted_from_the_profiles_of_living_persons(village):
    w = village
    _credit(w.persons["a11"], loans=1, loans_current=1, max_overdue_days=0, has_bad_loan=False)
    _credit(w.persons["a12"], loans=2, loans_current=2, max_overdue_days=12, has_bad_loan=False)
    _credit(w.persons["a41"], loans=1, loans_current=1, max_overdue_days=120, has_bad_loan=True)
    _credit(w.persons["a51"], loans=3, loans_current=0, max_overdue_days=400, has_bad_loan=True)
    _credit(w.persons["a21"], loans=1, loans_current=1, max_overdue_days=0, has_bad_loan=True)
    _credit(w.persons["a31"], loans=1, loans_current=1, max_overdue_days=0)
    w.persons["a31"].retired_at = timezone.now()
    w.persons["a31"].save(update_fields=["retired_at"])

    counts = borrower_counts(["VA1", "VA2", "VB1"])

    # VA1: 张伟 clean; 李芳 in arrears; 周强 in arrears and bad; 张军 has no current loan
    assert counts["VA1"] == (3, 1, 1)
    assert counts["VA2"] == (1, 1, 1)  # 王强 (赵敏 is retired)
    assert "VB1" not in counts  # no borrower
    assert borrower_counts([]) == {}


# --- which run a village's households come from ------------------------------------------------
def _summary_run(w, kind, code, finished, villages, status=BatchRun.Status.SUCCEEDED):
    return BatchRun.objects.create(
        purpose=BatchRun.Purpose.PRECREDIT, scope_kind=kind, scope_code=code, scope_name=code,
        policy=credit_policy_in_force(), started_by=w.users["hq_admin"], status=status,
        finished_at=finished, summary={"villages": {
            c: {"persons": h * 2, "households": h, "granted_persons": cr, "granted_households": cr,
                "amount_yuan": cr * 10_000, "credit_households": cr}
            for c, (h, cr) in villages.items()
        }},
    )  # fmt: skip


@pytest.mark.django_db
def test_the_latest_finished_run_covering_the_village_counts(world):
    w = world
    t = timezone.now() - dt.timedelta(days=10)
    village_run = _summary_run(w, "village", "VA1", t + dt.timedelta(days=3), {"VA1": (10, 8)})
    county = _summary_run(w, "county", "", t + dt.timedelta(days=2),
                          {"VA1": (10, 6), "VA2": (5, 4), "VB1": (4, 1)})  # fmt: skip
    # later, but not covering VA1: branch B's run, a run of VA2, a failed county run, a
    # what-if, and a branch A run from before VA1 was served by branch A (VA1 not in it)
    _summary_run(w, "branch", "ZHB", t + dt.timedelta(days=5), {"VB1": (4, 4)})
    va2 = _summary_run(w, "village", "VA2", t + dt.timedelta(days=6), {"VA2": (5, 5)})
    _summary_run(w, "county", "", t + dt.timedelta(days=7), {"VA1": (10, 0)},
                 status=BatchRun.Status.FAILED)  # fmt: skip
    _summary_run(w, "branch", "ZHA", t + dt.timedelta(days=8), {"VA2": (5, 3)})
    whatif = _summary_run(w, "county", "", t + dt.timedelta(days=9), {"VA1": (10, 1)})
    BatchRun.objects.filter(pk=whatif.pk).update(purpose=BatchRun.Purpose.WHATIF)

    villages = list(Village.objects.order_by("code"))
    runs = latest_runs(villages)

    assert runs["VA1"][0].pk == village_run.pk and runs["VA1"][1].credit_households == 8
    assert runs["VA2"][1].credit_households == 3  # branch A's, the latest covering VA2
    assert runs["VA2"][0].pk != va2.pk
    assert runs["VB1"][1].credit_households == 4  # branch B's run beats the county's
    assert county.pk not in {r.pk for r, _c in runs.values()}


@pytest.mark.django_db
def test_village_ratings_put_the_numbers_together(world):
    w = world
    _summary_run(w, "county", "", timezone.now(), {"VA1": (10, 7), "VA2": (4, 2)})
    for key, clean, bad in (("a11", True, False), ("a12", True, False)):
        _credit(w.persons[key], loans_current=1, max_overdue_days=0 if clean else 5,
                has_bad_loan=bad)  # fmt: skip
    _credit(w.persons["a21"], loans_current=1, max_overdue_days=30, has_bad_loan=False)

    rows = {r.village.code: r for r in village_ratings(Village.objects.order_by("code"), DEFAULT)}

    va1, va2, vb1 = rows["VA1"], rows["VA2"], rows["VB1"]
    assert (va1.households, va1.credit_households, va1.borrowers) == (10, 7, 2)
    assert va1.credit_household_share == Fraction(7, 10) and va1.npl_ratio == 0
    assert va1.credit_village is True
    assert va2.credit_household_share == Fraction(1, 2)
    assert va2.without_arrears_share == 0  # 王强 has been overdue
    assert [c.met for c in va2.criteria] == [False, False, True] and va2.credit_village is False
    assert vb1.run is None and vb1.credit_village is None  # the county run had no VB1


@pytest.mark.django_db
def test_a_real_run_rates_its_village(village, project):
    w = village
    sign_off(w, project)
    give_scores(w, {"a11": "excellent", "a12": "good", "a41": "good", "a51": "fair"})
    run = do_start_batch_run(w.users["bm_a"], BatchRun.Purpose.PRECREDIT, "village", "VA1")
    drain()
    run.refresh_from_db()
    [rating] = village_ratings([w.villages["VA1"]], DEFAULT)
    assert rating.run.pk == run.pk
    assert rating.households == run.summary["villages"]["VA1"]["households"] == 3
    # 一般 is not a 信用户 grade: 张军's household (Ha5) is granted but not a 信用户
    assert rating.credit_households == 2 and rating.credit_household_share == Fraction(2, 3)
    assert rating.credit_village is False
