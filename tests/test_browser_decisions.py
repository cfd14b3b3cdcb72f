"""Real-browser test of 授信 at phone size: a customer manager proposes from the customer
360 page of a signed-off village, the branch manager approves on the decision page, and
the explanation (为什么是这个额度) stays visible. Elements by data-testid, never by wording.
The fixtures and helpers are tests/test_browser.py's."""

from __future__ import annotations

import re

from test_browser import assert_fits_phone_width, bank, shot, sign_in  # noqa: F401


def strong_household(w) -> None:
    """An active model that grades 张伟 (Pa11) 优秀 and his household's income and assets:
    the policy in force gives him min(125,000 evaluated, 100,000 model) = 100,000 yuan."""
    from conftest import give_scores

    give_scores(w, {"a11": "excellent"}, income_yuan=60_000, assets_yuan=500_000)


def test_a_customer_manager_proposes_and_the_branch_manager_approves_on_a_phone(
    live_server,
    phone_page,
    bank,  # noqa: F811 (test_browser's fixture, imported above)
    shot,  # noqa: F811
):
    from conftest import add_evaluation_village, sign_off
    from cunxin.decisions.models import Decision
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    sign_off(w, project)
    strong_household(w)
    page, base = phone_page, live_server.url

    # The customer manager: the 360 page previews what the policy gives, and why.
    sign_in(page, base, "cm_a")
    page.goto(f"{base}/pool/persons/Pa11/")
    preview = page.get_by_test_id("credit-preview")
    preview.scroll_into_view_if_needed()
    assert preview.get_by_test_id("amount-final").inner_text().startswith("100,000")
    assert page.get_by_test_id("why-preview").locator("li").count() >= 4
    assert_fits_phone_width(page)
    shot(page, "d01-360-preview.png")
    page.get_by_test_id("propose").click()
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/credit/decisions/\d+/$"))
    decision = Decision.objects.get(person_id="Pa11")
    assert page.url == f"{base}/credit/decisions/{decision.pk}/"
    assert page.get_by_test_id("decision-status").get_attribute("data-status") == "proposed"
    assert page.get_by_test_id("why-this-amount").is_visible()
    assert page.get_by_test_id("checker").count() == 0  # the maker does not decide
    assert_fits_phone_width(page)
    shot(page, "d02-proposed.png")
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))

    # The branch manager: the list (waiting ones first), the decision, approve.
    sign_in(page, base, "bm_a")
    page.get_by_test_id("nav-decisions").click()
    page.wait_for_url(f"{base}/credit/decisions/")
    row = page.get_by_test_id("decision-row").first
    assert row.get_attribute("data-status") == "proposed" and "张伟" in row.inner_text()
    assert_fits_phone_width(page)
    shot(page, "d03-list.png")
    row.locator("a").first.click()
    page.wait_for_url(f"{base}/credit/decisions/{decision.pk}/")
    why = page.get_by_test_id("why-this-amount")
    assert why.is_visible() and why.locator("li[data-kind=final]").count() == 1
    assert "100,000" in why.locator("li[data-kind=final]").inner_text()
    assert page.get_by_test_id("action-approve").is_visible()
    assert_fits_phone_width(page)
    shot(page, "d04-decision.png")
    page.get_by_test_id("action-approve").click()
    page.wait_for_selector("[data-testid=decision-status][data-status=approved]")
    assert page.get_by_test_id("action-undo").is_visible()
    assert page.get_by_test_id("why-this-amount").is_visible()
    assert page.locator("[data-testid=history] li").count() == 2
    assert_fits_phone_width(page)
    shot(page, "d05-approved.png")
    decision.refresh_from_db()
    assert decision.status == "approved" and decision.decided_by == w.users["bm_a"].staff

    # Back on the 360 page: the approved decision and why.
    page.goto(f"{base}/pool/persons/Pa11/")
    section = page.get_by_test_id("credit-section")
    section.scroll_into_view_if_needed()
    assert section.get_by_test_id("decision-status").get_attribute("data-status") == "approved"
    assert section.get_by_test_id("why-this-amount").is_visible()
    assert bank.plain["a11"][0] not in page.content()
    assert_fits_phone_width(page)
    shot(page, "d06-360-approved.png")
