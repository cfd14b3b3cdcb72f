"""The pages used on phones, at 390 px in headless Chromium: touch targets of 44 px and
more, no sideways scrolling, the navigation's bar and 更多 menu, each role's home page,
the audit trail and an error page. Screenshots go to $CUNXIN_TEST_ARTIFACTS/browser/
(p*.png).

A target's size is that of what a finger can hit: a checkbox or radio wrapped in its
label (or named by one) is as big as the label.
"""

from __future__ import annotations

import pytest

from test_browser import HAN, PHONE_WIDTH, assert_fits_phone_width, bank, shot, sign_in  # noqa: F401

MIN_TARGET = 44
TARGETS = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    let r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) r = label.getBoundingClientRect();
    }
    out.push({what: (el.tagName + ' ' + (el.name || el.innerText || '')).trim().slice(0, 40),
              width: r.width, height: r.height, right: r.right});
  }
  return out;
}"""


def small_targets(page, selector: str) -> list[dict]:
    found = page.evaluate(TARGETS, selector)
    assert found, f"nothing matches {selector}"
    return [t for t in found if min(t["width"], t["height"]) < MIN_TARGET]


def assert_no_small_targets(page, selector: str) -> None:
    small = small_targets(page, selector)
    assert not small, small[:5]


# --- the evaluator's review page ------------------------------------------------------------
def test_the_evaluators_review_page_has_big_targets(live_server, phone_page, bank, shot):  # noqa: F811 (test_browser's fixtures)
    from conftest import add_evaluation_village
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole, RoundKind

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    page, base = phone_page, live_server.url
    sign_in(page, base, "ev2")
    shot(page, "p01-evaluator-home.png")
    assert page.get_by_test_id("todo-households").is_visible()

    page.goto(f"{base}/evaluation/rounds/{rnd.pk}/households/Ha1/")
    page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
    choices = page.locator("main input[type=checkbox], main input[type=radio]")
    assert choices.count() > 100  # two members: knows?, 13 negative items, 11 graded × 5
    assert_no_small_targets(page, "main input, main button, main a[href], main summary")
    assert_fits_phone_width(page)
    shot(page, "p02-evaluator-review.png")
    # the whole label is the target: a tap on its text ticks the box
    label = page.locator("main label:has(input[type=checkbox])").first
    label.click(position={"x": 200, "y": 20})  # beside the text, inside the label
    assert label.locator("input").is_checked()


# --- the pool's person list -----------------------------------------------------------------
def test_the_pool_person_list_keeps_names_readable(live_server, phone_page, bank, shot):  # noqa: F811 (test_browser's fixtures)
    page, base = phone_page, live_server.url
    sign_in(page, base, "cm_a")
    page.goto(f"{base}/pool/villages/VA1/")
    page.locator("select[name=show]").select_option("persons")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.locator("main form button[type=submit]").click()
    page.get_by_test_id("person-table").wait_for()

    names = page.locator("[data-testid=person-table] a[href^='/pool/persons/']")
    assert names.count() == 2
    for i in range(names.count()):
        lines = names.nth(i).evaluate("a => a.getClientRects().length")
        width = names.nth(i).evaluate("a => a.getBoundingClientRect().width")
        assert lines == 1 and width >= 2 * 16, (lines, width)  # a name on one line
    assert_no_small_targets(page, "#results a[href], #results button")
    assert_fits_phone_width(page)
    shot(page, "p03-pool-persons.png")


# --- the customer manager's visit list ------------------------------------------------------
def test_the_customer_managers_visit_list_has_big_targets(live_server, phone_page, bank, shot):  # noqa: F811 (test_browser's fixtures)
    from conftest import add_evaluation_village, sign_off
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    sign_off(w, project)
    page, base = phone_page, live_server.url
    sign_in(page, base, "cm_a")
    assert page.get_by_test_id("todo-visits").locator("[data-testid=count]").inner_text() == "3"
    shot(page, "p04-cm-home.png")

    page.get_by_test_id("todo-visits").click()
    page.wait_for_url(f"{base}/visits/")
    assert page.get_by_test_id("task-row").count() == 3
    assert_no_small_targets(page, "main a[href], main button, nav.main > a, nav.main summary")
    assert_fits_phone_width(page)
    shot(page, "p05-cm-visits.png")


# --- the navigation and the home page of each role ------------------------------------------
@pytest.mark.parametrize("role", ["cm_a", "bm_a", "hq_admin", "hq_analyst"])
def test_each_roles_navigation_and_home_fit_a_phone(live_server, phone_page, bank, shot, role):  # noqa: F811 (test_browser's fixtures)
    page, base = phone_page, live_server.url
    sign_in(page, base, role)

    bar = page.locator("nav.main > a, nav.main summary")
    assert 3 <= bar.count() <= 5
    for i in range(bar.count()):
        box = bar.nth(i).bounding_box()
        assert box["x"] + box["width"] <= PHONE_WIDTH and box["height"] >= MIN_TARGET
    assert_no_small_targets(page, "header a[href], header button, main a[href]")
    assert page.get_by_test_id("todos").is_visible()
    assert_fits_phone_width(page)
    shot(page, f"p10-{role}-home.png")

    page.locator("nav.main summary").click()
    menu = page.locator("nav.main .menu a")
    assert menu.count() >= 8
    assert menu.first.is_visible()
    assert_no_small_targets(page, "nav.main .menu a")
    for i in range(menu.count()):
        box = menu.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    assert HAN.search(page.locator("nav.main .menu").inner_text())
    assert_fits_phone_width(page)
    shot(page, f"p11-{role}-menu.png")

    # a page of the menu opens and is marked as the page shown
    target = page.get_by_test_id("more-access-log")
    target.click()
    page.wait_for_url(f"{base}/access-log/")
    assert page.locator("nav.main summary.on").count() == 1


# --- the audit trail and an error page ------------------------------------------------------
def test_the_audit_trail_fits_a_phone(live_server, phone_page, bank, shot):  # noqa: F811 (test_browser's fixtures)
    from cunxin.audit.chain import record
    from cunxin.pool.models import Segment

    cm = bank.users["cm_a"]
    segment = Segment.objects.create(name="黑名单户", colors=["black"], created_by=cm)
    record(cm, "pool.segment.create", segment)
    record(bank.users["bm_a"], "org.assignment.open", cm.staff.assignments.first())
    record(bank.users["hq_admin"], "keys.rotate", object_type="keys", object_id="k2")
    page, base = phone_page, live_server.url
    sign_in(page, base, "hq_admin")

    page.goto(f"{base}/audit/")
    assert page.get_by_test_id("event").count() == 3
    text = page.locator("main").inner_text()
    assert "pool.segment" not in text and "keys" not in text
    assert_no_small_targets(page, "main ol a[href]")
    assert_fits_phone_width(page)
    shot(page, "p20-audit.png")
    page.get_by_test_id("event").last.locator("a").click()
    page.wait_for_url(f"{base}/pool/segments/{segment.pk}/")


def test_an_address_outside_the_area_is_the_chinese_404(live_server, phone_page, bank, shot):  # noqa: F811 (test_browser's fixtures)
    page, base = phone_page, live_server.url
    sign_in(page, base, "cm_a")

    response = page.goto(f"{base}/pool/households/Hb1/")

    assert response.status == 404
    assert page.get_by_test_id("error-page").is_visible()
    assert "Page not found" not in page.content()
    assert_fits_phone_width(page)
    shot(page, "p30-404.png")
