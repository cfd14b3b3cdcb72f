"""批量授信 and what-if (cunxin.decisions.batch): a run decides everyone of its scope as a
single decision would, writes its rows and counts, and a what-if changes exactly the
persons a policy change should."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cunxin.credit.decide import compile_policy
from cunxin.credit.policy import CreditPolicy, Grade, from_data
from cunxin.decisions import batch
from cunxin.decisions.actions import do_start_batch_run
from cunxin.decisions.fetch import applicant_for, credit_policy_in_force
from cunxin.decisions.models import BatchRun, PreCredit
from cunxin.jobs.worker import drain


def _run(w, purpose=BatchRun.Purpose.PRECREDIT, kind="village", code="VA1", draft=None, by="bm_a"):
    run = do_start_batch_run(w.users[by], purpose, kind, code, draft=draft)
    drain()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.SUCCEEDED, run.error
    return run


@pytest.mark.django_db
def test_a_precredit_run_decides_every_adult_as_a_single_decision_would(scored):
    w = scored
    run = _run(w)
    rows = {r.person_id: r for r in PreCredit.objects.filter(run=run)}
    compiled = compile_policy(from_data(credit_policy_in_force().data))
    adults = [p for p in w.persons.values() if p.village_id == "VA1" and p.birth_year <= 2008]
    assert set(rows) == {p.uid for p in adults}
    for person in adults:
        single = compiled.decide(applicant_for(person)[0])
        row = rows[person.uid]
        assert (row.grade, row.model_yuan, row.final_yuan, row.route, row.credit_household) == (
            single.grade, single.model_yuan, single.final_yuan, single.route,
            single.credit_household,
        ), person.uid  # fmt: skip
        assert row.hard_stops == ",".join(single.hard_stops)
    # 张伟: white 125,000, 优秀 (cap 100,000), capacity 120,000 → 100,000
    assert rows["Pa11"].final_yuan == 100_000 and rows["Pa11"].grade == "优秀"
    # 周强: grey (one reviewer's negative item) is visited, not stopped: min(E, M) = 30,000
    assert rows["Pa41"].final_yuan == 30_000 and not rows["Pa41"].hard_stops
    assert run.counts["persons"] == len(adults) and run.done == len(adults)
    assert run.counts["granted_persons"] == sum(1 for r in rows.values() if r.final_yuan > 0)
    assert run.summary["villages"]["VA1"]["amount_yuan"] == sum(r.final_yuan for r in rows.values())
    assert set(run.timings) >= {"load", "decide", "write", "total"}


@pytest.mark.django_db
def test_who_may_start_a_run(scored):
    w = scored
    for key in ("cm_a", "hq_analyst", "bm_b", "evaluator"):
        with pytest.raises(PermissionDenied):
            do_start_batch_run(w.users[key], BatchRun.Purpose.PRECREDIT, "village", "VA1")
    with pytest.raises(PermissionDenied):  # a what-if is HQ's
        do_start_batch_run(
            w.users["bm_a"], BatchRun.Purpose.WHATIF, "village", "VA1", draft=CreditPolicy()
        )
    with pytest.raises(ValidationError):
        do_start_batch_run(w.users["hq_admin"], BatchRun.Purpose.PRECREDIT, "village", "NOPE")
    assert _run(w, kind="county", code="", by="hq_admin").counts["persons"] > 0


@pytest.mark.django_db
def test_changing_one_cap_changes_exactly_the_households_it_should(scored):
    w = scored
    in_force = from_data(credit_policy_in_force().data)
    cap = 40_000
    draft = dataclasses.replace(
        in_force, version="draft-good-40k",
        grades=tuple(Grade(g.key, g.name, cap) if g.key == "good" else g for g in in_force.grades),
    )  # fmt: skip
    before = {r.person_id: r for r in PreCredit.objects.filter(run=_run(w))}
    run = _run(w, BatchRun.Purpose.WHATIF, draft=draft, by="hq_admin")
    changed = {c["person"] for c in run.summary["changes"]}
    # exactly the 较好 persons whose amount was above the new cap
    expected = {uid for uid, r in before.items() if r.grade == "较好" and r.final_yuan > cap}
    assert expected and changed == expected
    for c in run.summary["changes"]:
        assert c["before"]["final_yuan"] > cap and c["after"]["final_yuan"] == cap
    assert run.counts["changed_persons"] == len(expected)
    before_total, after_total = (
        run.counts["before"]["amount_yuan"],
        run.counts["after"]["amount_yuan"],
    )
    assert before_total - after_total == sum(before[u].final_yuan - cap for u in expected)
    assert not PreCredit.objects.filter(run=run).exists()  # a what-if writes no rows


@pytest.mark.django_db
def test_a_failing_run_is_recorded_not_raised(scored, monkeypatch):
    w = scored

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "write_precredit", broken)
    run = do_start_batch_run(w.users["bm_a"], BatchRun.Purpose.PRECREDIT, "village", "VA1")
    drain()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.FAILED and "disk full" in run.error
    assert not PreCredit.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_the_exact_age_decides_where_the_year_of_birth_cannot(scored):
    """Born in 2008: 18 this year by the year of birth, but 17 until the birthday. The
    run decrypts those two IDs (the only ones where a year changes the outcome)."""
    from world import make_person

    w = scored
    h = w.persons["a11"].household
    today = timezone.localdate()
    for key, birth in (("a18", f"{today.year - 18}0101"), ("a19", f"{today.year - 18}1231")):
        make_person(w, key, h, name="小" + key, birth=birth, seq=70 + int(key[-1]),
                    phone=None, relation="子", index=5, village=w.villages["VA1"])  # fmt: skip
    rows = {r.person_id: r for r in PreCredit.objects.filter(run=_run(w))}
    assert "age" not in rows["Pa18"].hard_stops.split(",")
    born_31_dec_is_18 = (today.month, today.day) >= (12, 31)
    assert ("age" in rows["Pa19"].hard_stops.split(",")) is not born_31_dec_is_18
