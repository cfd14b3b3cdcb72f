"""The pages of models, batch pre-credit runs and what-ifs (cunxin.decisions.batch_views):
who sees and starts what, a run started through the page (inline in the tests), its
progress fragment for htmx, and a what-if's changed persons. The role matrix of every URL
is in tests/test_role_matrix.py; the Excel files in tests/test_batch_sheets.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import SCORED_GRADES, give_scores, sign_off
from cunxin.audit.models import AuditEvent
from cunxin.credit.policy import Grade, from_data, to_data
from cunxin.decisions import batch
from cunxin.decisions.actions import do_start_batch_run
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.models import BatchRun, CreditPolicyVersion, ModelVersion, PreCredit
from cunxin.jobs.worker import drain
from test_browser import assert_fits_phone_width, bank, shot, sign_in  # noqa: F401


def _start(client, kind="village", **fields):
    """Start a run from the page and let the worker's code run it."""
    response = client.post(reverse("decisions:batches"), {"kind": kind, **fields})
    drain()
    return response


def _run(w, by="bm_a", kind="village", code="VA1", purpose=BatchRun.Purpose.PRECREDIT, draft=None):
    run = do_start_batch_run(w.users[by], purpose, kind, code, draft=draft)
    drain()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.SUCCEEDED, run.error
    return run


def _attr(html: str, testid: str, attr: str = "data-value") -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*?{attr}="([^"]*)"', html)
    assert match, f"{testid} not on the page"
    return match[1]


def _ids(html: str, name: str = "data-id") -> set[str]:
    return set(re.findall(rf'data-testid="run-row" {name}="([^"]+)"', html))


# --- starting a run ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_starts_a_run_from_the_page_and_shows_its_counts(scored, client):
    w = scored
    client.force_login(w.users["bm_a"])

    response = _start(client, village="VA1")

    run = BatchRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("decisions:batch", args=[run.pk])
    assert (run.purpose, run.scope_kind, run.scope_code, run.status) == (
        "precredit", "village", "VA1", "succeeded",
    )  # fmt: skip
    html = client.get(response["Location"]).content.decode()
    for key in ("persons", "households", "granted_households", "amount_yuan", "credit_households"):
        assert _attr(html, f"count-{key}") == str(run.counts[key]), key
    assert run.counts["amount_yuan"] == sum(
        PreCredit.objects.filter(run=run).values_list("final_yuan", flat=True)
    )
    va1 = re.search(r'data-testid="village-row" data-village="VA1" data-amount="(\d+)"', html)
    assert va1 and int(va1[1]) == run.summary["villages"]["VA1"]["amount_yuan"] == 230_000
    assert 'data-grade="优秀"' in html  # by grade, from the run's counts
    assert reverse("decisions:batch_whitelist", args=[run.pk]) in html
    assert reverse("decisions:batch_sheet", args=[run.pk, "VA1"]) in html
    assert 'hx-trigger="every 1s"' not in html  # finished: no polling


@pytest.mark.django_db
def test_it_shows_the_hard_stops_by_their_labels(scored, client):
    w = scored
    client.force_login(w.users["hq_admin"])
    response = _start(client, kind="branch", branch="ZHA")
    run = BatchRun.objects.get()
    html = client.get(response["Location"]).content.decode()
    labels = {r["id"]: r["label"] for r in run.policy.data["hard_stops"]}
    assert run.counts["hard_stops"] == {"not_evaluated": 2}  # VA2's two persons
    assert 'data-stop="not_evaluated"' in html and labels["not_evaluated"] in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "fields", "status"),
    [
        ("bm_a", {"kind": "village", "village": "VB1"}, 400),  # another branch's: unknown
        ("bm_a", {"kind": "branch", "branch": "ZHB"}, 400),
        ("bm_a", {"kind": "county"}, 403),
        ("bm_a", {"kind": "village", "village": "NOPE"}, 400),
        ("bm_a", {"kind": "street", "village": "VA1"}, 400),
        ("cm_a", {"kind": "village", "village": "VA1"}, 403),
        ("hq_analyst", {"kind": "village", "village": "VA1"}, 403),
    ],
)
def test_it_refuses_runs_the_user_may_not_start(scored, client, user, fields, status):
    client.force_login(scored.users[user])
    response = client.post(reverse("decisions:batches"), fields)
    assert response.status_code == status
    assert not BatchRun.objects.exists()


@pytest.mark.django_db
def test_it_offers_each_role_the_scopes_it_may_start(scored, client):
    w = scored
    client.force_login(w.users["bm_a"])
    html = client.get(reverse("decisions:batches")).content.decode()
    assert 'value="VA1"' in html and 'value="VA2"' in html and 'value="VB1"' not in html
    assert 'value="ZHA"' in html and 'value="ZHB"' not in html
    assert 'data-testid="kind-county"' not in html
    client.force_login(w.users["hq_admin"])
    html = client.get(reverse("decisions:batches")).content.decode()
    assert 'value="VB1"' in html and 'data-testid="kind-county"' in html
    for key in ("cm_a", "hq_analyst"):
        client.force_login(w.users[key])
        assert 'data-testid="start-form"' not in client.get(reverse("decisions:batches")).content.decode()  # fmt: skip


# --- who sees which run ------------------------------------------------------------------------
@pytest.mark.django_db
def test_each_role_lists_and_opens_the_runs_covering_its_villages(scored, client):
    w = scored
    va1 = _run(w, by="bm_a", code="VA1")
    branch_a = _run(w, by="bm_a", kind="branch", code="ZHA")
    county = _run(w, by="hq_admin", kind="county", code="")
    vb1 = _run(w, by="bm_b", code="VB1")
    sees = {
        "hq_admin": {va1, branch_a, county, vb1},
        "hq_analyst": {va1, branch_a, county, vb1},
        "bm_a": {va1, branch_a, county},
        "cm_a": {va1, branch_a, county},
        "bm_b": {county, vb1},
        "cm_b": {county, vb1},
    }
    for key, runs in sees.items():
        client.force_login(w.users[key])
        html = client.get(reverse("decisions:batches")).content.decode()
        assert _ids(html) == {str(r.pk) for r in runs}, key
        for r in (va1, branch_a, county, vb1):
            status = client.get(reverse("decisions:batch", args=[r.pk])).status_code
            assert status == (200 if r in runs else 404), (key, r.scope_code)


@pytest.mark.django_db
def test_a_run_wider_than_the_users_scope_shows_their_villages_only(scored, client):
    w = scored
    county = _run(w, by="hq_admin", kind="county", code="")
    client.force_login(w.users["bm_b"])
    html = client.get(reverse("decisions:batch", args=[county.pk])).content.decode()
    assert set(re.findall(r'data-testid="village-row" data-village="(\w+)"', html)) == {"VB1"}
    vb1 = county.summary["villages"]["VB1"]
    assert _attr(html, "count-persons") == str(vb1["persons"]) != str(county.counts["persons"])
    assert 'data-testid="by-grade"' not in html  # the run-wide breakdowns are not theirs
    client.force_login(w.users["hq_analyst"])
    html = client.get(reverse("decisions:batch", args=[county.pk])).content.decode()
    assert set(re.findall(r'data-testid="village-row" data-village="(\w+)"', html)) == {
        "VA1", "VA2", "VB1",
    }  # fmt: skip
    assert _attr(html, "count-persons") == str(county.counts["persons"])


@pytest.mark.django_db
def test_a_cm_holding_some_grids_of_a_village_sees_their_households_only(scored, client):
    """GIVEN a run of VA2, whose grid GA2 cm_a holds (household a2) but not GA2x (a3),
    THEN cm_a's page counts a2 only, says so, and shows no run-wide breakdown; the
    branch manager sees the whole village."""
    w = scored
    run = _run(w, code="VA2")
    whole = run.summary["villages"]["VA2"]
    assert whole["households"] == 2
    client.force_login(w.users["cm_a"])
    html = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert _attr(html, "count-households") == "1" and _attr(html, "count-persons") == "1"
    mine = PreCredit.objects.get(run=run, person_id=w.persons["a21"].uid)
    assert _attr(html, "count-amount_yuan") == str(mine.final_yuan)
    assert 'data-testid="village-part"' in html and 'data-testid="part-note"' in html
    assert 'data-testid="by-grade"' not in html and 'data-testid="hard-stops"' not in html
    client.force_login(w.users["bm_a"])
    html = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert _attr(html, "count-households") == "2" and 'data-testid="village-part"' not in html
    assert 'data-testid="by-grade"' in html


# --- progress ------------------------------------------------------------------------------------
def _running(w, **fields) -> BatchRun:
    return BatchRun.objects.create(
        purpose=BatchRun.Purpose.PRECREDIT, scope_kind="village", scope_code="VA1",
        scope_name="东湖村", policy=credit_policy_in_force(), started_by=w.users["bm_a"],
        status=BatchRun.Status.RUNNING, started_at=timezone.now(),
        heartbeat_at=timezone.now(), done=40_000, total=100_000, **fields,
    )  # fmt: skip


HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "batch-progress"}


@pytest.mark.django_db
def test_a_running_run_polls_its_progress_fragment_every_second(world, client):
    run = _running(world)
    client.force_login(world.users["cm_a"])
    url = reverse("decisions:batch", args=[run.pk])

    page = client.get(url).content.decode()
    fragment = client.get(url, **HX)

    assert 'hx-trigger="every 1s"' in page and f'hx-get="{url}"' in page
    assert fragment.status_code == 200
    assert [t.name for t in fragment.templates] == ["decisions/batch_progress.html"]
    html = fragment.content.decode()
    assert "<html" not in html and 'hx-trigger="every 1s"' in html
    assert 'data-done="40000" data-total="100000"' in html and "40%" in html
    assert "HX-Request" in fragment["Vary"]


@pytest.mark.django_db
def test_the_fragment_of_a_finished_run_reloads_the_page_and_stops_polling(scored, client):
    run = _run(scored)
    client.force_login(scored.users["bm_a"])
    response = client.get(reverse("decisions:batch", args=[run.pk]), **HX)
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    assert b"every 1s" not in response.content


@pytest.mark.django_db
def test_an_interrupted_run_says_so_and_offers_to_run_it_again(world, client):
    run = _running(world)
    BatchRun.objects.filter(pk=run.pk).update(status=BatchRun.Status.INTERRUPTED)
    client.force_login(world.users["bm_a"])
    html = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert 'data-testid="run-error"' in html and "every 1s" not in html
    assert 'data-testid="rerun"' in html
    client.force_login(world.users["cm_a"])  # sees the run, may not start one
    html = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert 'data-testid="run-error"' in html and 'data-testid="rerun"' not in html


@pytest.mark.django_db
def test_a_failed_run_shows_its_error(scored, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "write_precredit", broken)
    client.force_login(scored.users["bm_a"])
    response = _start(client, village="VA1")
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="run-error"' in html and "disk full" in html
    assert 'data-testid="counts"' not in html
    assert "whitelist.xlsx" not in html


# --- what-if -----------------------------------------------------------------------------------
def _draft_version(cap=40_000, name="draft-good-40k") -> CreditPolicyVersion:
    in_force = from_data(credit_policy_in_force().data)
    draft = dataclasses.replace(
        in_force, version=name,
        grades=tuple(Grade(g.key, g.name, cap) if g.key == "good" else g for g in in_force.grades),
    )  # fmt: skip
    return CreditPolicyVersion.objects.create(
        version=name, data=to_data(draft),
        effective_from=timezone.localdate() + dt.timedelta(days=30),
    )  # fmt: skip


@pytest.mark.django_db
def test_a_whatif_started_from_the_page_lists_the_persons_who_change(scored, client):
    w = scored
    version = _draft_version()
    client.force_login(w.users["hq_admin"])
    form = client.get(reverse("decisions:whatif") + f"?policy={version.pk}").content.decode()
    assert f'<option value="{version.pk}" selected>' in form

    response = client.post(reverse("decisions:whatif"), {
        "policy": str(version.pk), "kind": "village", "village": "VA1",
    })  # fmt: skip
    drain()

    run = BatchRun.objects.get(purpose=BatchRun.Purpose.WHATIF)
    assert response.status_code == 302 and response["Location"].endswith(f"/batches/{run.pk}/")
    assert run.draft["version"] == "draft-good-40k"
    html = client.get(response["Location"]).content.decode()
    # 李芳 (Pa12) is 较好 at 50,000: capped at 40,000; 周强 (Pa41, 30,000) does not change
    assert set(re.findall(r'data-testid="change-row" data-person="(\w+)"', html)) == {"Pa12"}
    assert _attr(html, "changed", "data-persons") == "1"
    assert "李芳" in html  # staff in scope read names in full (DESIGN.md §6 masks IDs, phones)
    assert "50,000" in html and "40,000" in html
    assert 'data-testid="not-listed"' not in html
    before, after = run.counts["before"], run.counts["after"]
    assert before["amount_yuan"] - after["amount_yuan"] == 10_000
    assert 'data-key="amount_yuan" class="changed"' in html


@pytest.mark.django_db
def test_a_whatif_says_how_many_changes_it_does_not_list(scored, client, monkeypatch):
    monkeypatch.setattr(batch, "CHANGES_KEPT", 1)
    version = _draft_version(cap=10_000, name="draft-good-10k")
    run = _run(scored, by="hq_admin", purpose=BatchRun.Purpose.WHATIF,
               draft=from_data(version.data))  # fmt: skip
    assert run.counts["changed_persons"] == 2  # Pa12 and Pa41 (较好 above 10,000)
    client.force_login(scored.users["hq_analyst"])  # reads results
    html = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert len(re.findall(r'data-testid="change-row"', html)) == 1
    assert _attr(html, "not-listed", "data-n") == "1"


@pytest.mark.django_db
def test_whatif_is_hqs(scored, client):
    w = scored
    version = _draft_version()
    run = _run(w, by="hq_admin", purpose=BatchRun.Purpose.WHATIF, draft=from_data(version.data))
    post = {"policy": str(version.pk), "kind": "village", "village": "VA1"}
    client.force_login(w.users["hq_analyst"])
    assert client.get(reverse("decisions:whatif")).status_code == 200
    assert client.post(reverse("decisions:whatif"), post).status_code == 403
    for key in ("bm_a", "cm_a"):
        client.force_login(w.users[key])
        assert client.get(reverse("decisions:whatif")).status_code == 404
        assert client.post(reverse("decisions:whatif"), post).status_code == 404
        assert client.get(reverse("decisions:batch", args=[run.pk])).status_code == 404
        assert str(run.pk) not in _ids(client.get(reverse("decisions:batches")).content.decode())
    assert BatchRun.objects.filter(purpose=BatchRun.Purpose.WHATIF).count() == 1


@pytest.mark.django_db
def test_a_whatif_without_a_version_is_refused(scored, client):
    client.force_login(scored.users["hq_admin"])
    response = client.post(reverse("decisions:whatif"), {"policy": "999", "kind": "county"})
    assert response.status_code == 400 and 'data-testid="error"' in response.content.decode()
    assert not BatchRun.objects.exists()


# --- models ------------------------------------------------------------------------------------
def _trained_model() -> ModelVersion:
    return ModelVersion.objects.create(
        model_id="sc-2026-07", created_by="cli",
        data={"grades": [
            {"grade": "top", "label": "特优", "min_score": 640},
            {"grade": "excellent", "label": "优秀", "min_score": 610},
            {"grade": "decline", "label": "不授信", "min_score": None},
        ]},
        metrics={"holdout": {"n": 1200, "auc": 0.7412, "ks": 0.3561, "gini": 0.4824,
                             "auc_ci95": [0.71, 0.77]}, "train": {"auc": 0.75}},
        trained_on={"pool_run_id": "run-20260701", "pool_engine": "duckdb", "raw_inputs": 11,
                    "raw_inputs_sha256": "ab" * 32},
        scored_pool_run="run-20260701", scored_count=5000, scored_at=timezone.now(),
    )  # fmt: skip


@pytest.mark.django_db
def test_the_models_page_shows_metrics_data_and_cut_offs(scored, client):
    trained = _trained_model()
    client.force_login(scored.users["bm_a"])
    html = client.get(reverse("decisions:models")).content.decode()
    row = html[html.index('data-model="sc-2026-07"') :]
    assert 'data-active="0"' in row[:40]
    assert "0.741" in row and "0.356" in row and "0.482" in row
    assert "run-20260701" in row and "特优 ≥ 640" in row and "不授信 &lt; 610" in row
    assert 'data-testid="activate"' not in html  # read only
    active = html[html.index('data-model="test-model"') :]
    assert 'data-active="1"' in active[:40]
    assert trained.pk != ModelVersion.objects.get(active=True).pk


@pytest.mark.django_db
def test_an_hq_admin_activates_a_model_and_it_is_audited(scored, client):
    trained = _trained_model()
    for key in ("hq_analyst", "bm_a"):
        client.force_login(scored.users[key])
        assert client.post(reverse("decisions:models"), {"model": trained.pk}).status_code == 403
    client.force_login(scored.users["cm_a"])
    assert client.get(reverse("decisions:models")).status_code == 404
    client.force_login(scored.users["hq_admin"])
    for unknown in ("999", "5²", "abc"):  # a mistake, said on the page
        refused = client.post(reverse("decisions:models"), {"model": unknown})
        assert refused.status_code == 400 and 'data-testid="error"' in refused.content.decode()

    response = client.post(reverse("decisions:models"), {"model": trained.pk})

    assert response.status_code == 302
    assert list(ModelVersion.objects.filter(active=True).values_list("model_id", flat=True)) == [
        "sc-2026-07"
    ]
    event = AuditEvent.objects.filter(action="decisions.model.activate").get()
    assert event.after == {"active": "sc-2026-07"} and event.before == {"active": "test-model"}


# --- ratings page --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_ratings_page_rates_the_villages_in_scope(scored, client):
    w = scored
    run = _run(w, code="VA1")
    client.force_login(w.users["cm_a"])
    html = client.get(reverse("decisions:ratings")).content.decode()
    rows = dict(re.findall(r'data-testid="rating-row" data-village="(\w+)" data-credit-village="(\w+)"', html))  # fmt: skip
    assert rows == {"VA1": "yes", "VA2": "unrated"}  # cm_a: VA1, and VA2 through grid GA2
    assert reverse("decisions:batch", args=[run.pk]) in html
    assert 'data-households="3" data-credit-households="3"' in html


# --- on a phone ----------------------------------------------------------------------------------
def test_a_branch_manager_runs_a_batch_on_a_phone(
    live_server,
    task_worker,
    phone_page,
    bank,  # noqa: F811 (test_browser's fixture, imported above)
    shot,  # noqa: F811
):
    """Real browser, 390 px wide: start a run, read its counts, the ratings and a what-if's
    changes without scrolling sideways. Elements by data-testid, never by wording."""
    from conftest import add_evaluation_village
    from cunxin.evaluation import actions as evaluation
    from cunxin.evaluation.models import PanelRole

    w = add_evaluation_village(bank)
    project = evaluation.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)  # fmt: skip
    for key in ("ev1", "ev2", "ev3", "ev4"):
        evaluation.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    sign_off(w, project)
    give_scores(w, SCORED_GRADES)
    _trained_model()
    version = _draft_version()
    page, base = phone_page, live_server.url

    sign_in(page, base, "bm_a")
    page.goto(f"{base}/credit/batches/")
    page.get_by_test_id("start").locator("summary").click()
    page.get_by_test_id("village").select_option("VA1")
    page.get_by_test_id("start-button").click()
    page.wait_for_selector("[data-testid=counts]")
    run = BatchRun.objects.get()
    assert page.url == f"{base}/credit/batches/{run.pk}/"
    assert page.get_by_test_id("count-amount_yuan").get_attribute("data-value") == "230000"
    assert page.get_by_test_id("batch-progress").get_attribute("data-status") == "succeeded"
    assert_fits_phone_width(page)
    shot(page, "batch-01-run.png")
    pages = (
        ("/credit/ratings/", "batch-02-ratings.png"), ("/credit/models/", "batch-03-models.png"),
        ("/credit/batches/", "batch-05-runs.png"),
    )  # fmt: skip
    for url, name in pages:
        page.goto(f"{base}{url}")
        assert_fits_phone_width(page)
        shot(page, name)
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))

    sign_in(page, base, "hq_admin")
    page.goto(f"{base}/credit/whatif/?policy={version.pk}")
    page.get_by_test_id("kind-county").check()
    page.get_by_test_id("start-button").click()
    page.wait_for_selector("[data-testid=changes]")
    assert page.get_by_test_id("change-row").count() == 1
    assert_fits_phone_width(page)
    shot(page, "batch-04-whatif.png")
