"""Real-browser tests at phone size of what a first user tripped over (issue 11): a CM
holding one grid gets that grid's visits, with distances in 米/公里, and after a visit
opens the household and the 360; a round's results in the viewer's scope, in words,
filtered and paged; the 360's credit section without the pool's stale evaluation tag,
with a warning for a model no better than chance and no proposal of 0 yuan.
Elements by data-testid; the fixtures and helpers are tests/test_browser.py's."""

# ruff: noqa: F811 (the fixtures imported from test_browser are the tests' arguments)
from __future__ import annotations

import re
from decimal import Decimal

from test_browser import HAN, assert_fits_phone_width, bank, shot, sign_in  # noqa: F401


def _signed_off_village(bank, *, grid_cm: bool):
    """VA1 signed off (conftest); with `grid_cm`, cm_a holds grid GA1a only (household
    Ha1), Ha4 and Ha5 are on grid GA1b, which nobody holds."""
    from django.utils import timezone

    from conftest import add_evaluation_village, sign_off
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole
    from cunxin.org.models import Assignment
    from cunxin.pool.models import Household

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    if grid_cm:
        Household.objects.filter(uid__in=["Ha4", "Ha5"]).update(grid=w.grids["GA1b"])
        Assignment.objects.filter(staff=w.users["cm_a"].staff, village=w.villages["VA1"]).update(valid_to=timezone.now())  # fmt: skip
        Assignment.objects.create(staff=w.users["cm_a"].staff, grid=w.grids["GA1a"],
                                  valid_from=timezone.now(), assigned_by=w.users["hq_admin"])  # fmt: skip
    rnd = sign_off(w, project)
    return w, project, rnd


def test_a_grid_cm_visits_their_grid_and_goes_on_to_the_credit(live_server, phone_page, bank, shot):  # fmt: skip
    from cunxin.pool.models import Household
    from cunxin.visits.models import VisitTask

    _w, _project, _rnd = _signed_off_village(bank, grid_cm=True)
    Household.objects.filter(uid="Ha1").update(latitude=Decimal("30.2500"), longitude=Decimal("120.1700"))  # fmt: skip
    page, base = phone_page, live_server.url
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 30.2595, "longitude": 120.1700})  # ~1,055 m north

    sign_in(page, base, "cm_a")
    page.goto(f"{base}/visits/")
    page.get_by_test_id("sort-by-distance").click()
    page.wait_for_selector("[data-testid=sorted]")
    rows = page.get_by_test_id("task-row")
    assert rows.count() == 1 and "张伟" in rows.first.inner_text()  # their grid only
    distance = rows.first.get_by_test_id("distance").inner_text()
    assert re.fullmatch(r"1\.\d 公里", distance), distance  # was "1055.9 km"
    # the two households of the grid nobody holds wait apart, folded
    waiting = page.get_by_test_id("waiting")
    assert waiting.get_by_test_id("waiting-row").count() == 2
    assert_fits_phone_width(page)
    shot(page, "f01-visits-grid-cm.png")

    rows.first.locator("a").click()
    page.wait_for_selector("[data-testid=visit-form]")
    page.wait_for_function("() => document.querySelector('input[name=lat]').value !== ''")
    page.locator("[data-testid=visit-form] button[type=submit]").click()
    page.wait_for_url(f"{base}/visits/")
    task = VisitTask.objects.get(household_id="Ha1")
    assert task.done_at is not None
    page.goto(f"{base}/visits/tasks/{task.pk}/")  # the recorded visit
    after = page.get_by_test_id("after-visit")
    after.wait_for()
    assert after.get_by_test_id("member-360").count() == 2
    assert_fits_phone_width(page)
    shot(page, "f02-visit-then-credit.png")
    after.get_by_test_id("household-link").click()
    page.wait_for_url(f"{base}/pool/households/Ha1/")
    page.go_back()
    after.get_by_test_id("member-360").first.click()
    page.wait_for_url(re.compile(r".*/pool/persons/Pa1[12]/$"))
    assert page.get_by_test_id("credit-section").is_visible()


def test_round_results_in_scope_in_words_filtered_and_paged(live_server, phone_page, bank, shot):
    from cunxin.evaluation.models import Verdict
    from cunxin.pool.models import Person

    w, _project, rnd = _signed_off_village(bank, grid_cm=True)
    household = w.persons["a11"].household
    persons = Person.objects.bulk_create(
        Person(uid=f"Pm{n:02d}", household=household, village=w.villages["VA1"],
               name=f"村民{n:02d}", member_index=2 + n, content_hash="x", publish_run=w.run)
        for n in range(40)
    )  # fmt: skip
    Verdict.objects.bulk_create(
        Verdict(round=rnd, person=p, color="white", amount_yuan=10_000, valid_reviews=2,
                inputs={"from_round": None})
        for p in persons
    )  # fmt: skip
    page, base = phone_page, live_server.url
    url = f"{base}/evaluation/rounds/{rnd.pk}/results/"

    sign_in(page, base, "bm_a")
    page.goto(url)
    rows = page.get_by_test_id("verdict-row")
    assert rows.count() == 30 and page.get_by_test_id("results-pager").is_visible()
    grey = page.locator("[data-testid=verdict-row][data-color=grey]")
    assert grey.count() == 1 and "周强" in grey.inner_text()
    assert "灰名单" in grey.get_by_test_id("verdict-color").inner_text()
    assert "赌博、吸毒等不良嗜好" in grey.get_by_test_id("verdict-reasons").inner_text()
    assert_fits_phone_width(page)
    shot(page, "f03-results-branch.png")
    # the next page and a name search come back as htmx fragments, the URL unchanged
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == url) as answer:
        page.get_by_test_id("page-next").click()
    assert answer.value.request.headers.get("hx-request") == "true"
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=verdict-row]').length === 14"
    )
    page.get_by_test_id("results-name").fill("周强")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == url):
        page.get_by_test_id("results-submit").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=verdict-row]').length === 1"
    )
    assert page.url == url and "周强" not in page.url
    shot(page, "f04-results-search.png")
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))

    # the CM of grid GA1a: 张伟, 李芳 and the 40 villagers of their household, not 周强
    sign_in(page, base, "cm_a")
    page.goto(url)
    assert page.get_by_test_id("part-of-village").is_visible()
    assert page.locator("[data-testid=verdict-row][data-color=grey]").count() == 0
    assert page.get_by_test_id("count-grey").inner_text() == "0"
    for href in page.locator("[data-testid=verdict-person]").evaluate_all("els => els.map(e => e.href)")[:5]:  # fmt: skip
        assert page.request.get(href).status == 200, href
    assert_fits_phone_width(page)
    shot(page, "f05-results-grid-cm.png")


def test_the_credit_section_on_a_phone(live_server, phone_page, bank, shot):
    from conftest import give_scores
    from cunxin.decisions.models import ModelVersion
    from cunxin.pool.models import Person

    w, _project, _rnd = _signed_off_village(bank, grid_cm=False)
    model = give_scores(w, {"a12": "good"})
    model.metrics = {"holdout": {"auc": 0.462}, "baselines": {"intercept_only": {"auc": 0.5}}}
    model.save(update_fields=["metrics"])
    Person.objects.filter(uid__in=["Pa11", "Pa12"]).update(tags=" age:31-45岁 evaluation:未评议 ")
    page, base = phone_page, live_server.url

    sign_in(page, base, "cm_a")
    page.goto(f"{base}/pool/persons/Pa11/")  # 张伟: no model score, 0 yuan
    section = page.get_by_test_id("credit-section")
    section.scroll_into_view_if_needed()
    assert section.get_by_test_id("weak-model").is_visible()
    assert section.get_by_test_id("propose").count() == 0
    assert (
        section.get_by_test_id("zero-amount").inner_text().startswith("最终额度为 0，无需提交审批")
    )
    tag = page.get_by_test_id("evaluation-tag")
    assert "白名单" in tag.inner_text() and "125,000" in tag.inner_text()
    assert "未评议" not in page.locator("main").inner_text()
    assert_fits_phone_width(page)
    shot(page, "f06-credit-zero-weak-model.png")
    page.goto(f"{base}/pool/persons/Pa12/")  # 李芳: an amount, and the button
    page.get_by_test_id("credit-section").scroll_into_view_if_needed()
    assert page.get_by_test_id("propose").is_visible()
    shot(page, "f07-credit-propose.png")
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))

    sign_in(page, base, "hq_admin")
    page.goto(f"{base}/credit/models/")
    row = page.locator(f"[data-testid=model-row][data-model='{model.model_id}']")
    assert row.get_by_test_id("weak-model").is_visible()
    assert ModelVersion.objects.get(pk=model.pk).label in row.get_by_test_id("model-label").inner_text()  # fmt: skip
    assert HAN.search(page.locator("main").inner_text())
    assert_fits_phone_width(page)
    shot(page, "f08-models-weak.png")


def test_a_visit_without_the_phones_location_says_so(live_server, phone_page, bank, shot):
    """Location refused: the visit form says it is not available and what to do (it
    waited forever, saying 正在获取手机位置…)."""
    from cunxin.visits.models import VisitTask

    _signed_off_village(bank, grid_cm=False)
    page, base = phone_page, live_server.url
    page.context.clear_permissions()  # the browser refuses the location
    sign_in(page, base, "cm_a")
    task = VisitTask.objects.filter(assigned_to=bank.users["cm_a"].staff).first()
    page.goto(f"{base}/visits/tasks/{task.pk}/")
    shown = page.locator("[data-geo-shown]")
    page.wait_for_function(
        "() => document.querySelector('[data-geo-shown]').classList.contains('errors')"
    )
    assert "不可用" in shown.inner_text() and "电话" in shown.inner_text()
    assert_fits_phone_width(page)
    shot(page, "f09-visit-no-location.png")
