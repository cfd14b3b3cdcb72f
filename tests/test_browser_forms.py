"""Refused forms in a real browser at phone size (headless Chromium against a live server):
the messages are seen where the form is, also when htmx sent it. Screenshots go to
$CUNXIN_TEST_ARTIFACTS/browser/."""

from __future__ import annotations

import pytest

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def bank(transactional_db, settings):
    from appendonly import allow_flush
    from world import make_world

    settings.PASSWORD_HASHERS = FAST_HASHER
    yield make_world()
    allow_flush()


def test_a_refused_search_shows_its_message_on_a_phone(live_server, bank, phone_page):
    """htmx leaves a 4xx answer unswapped by default: base.html's htmx-config swaps a 400
    (a refused form) into its target, so the message is seen where the results go."""
    from pathlib import Path

    from test_browser import ARTIFACTS, assert_fits_phone_width, sign_in

    page, base = phone_page, live_server.url
    sign_in(page, base, "cm_a")
    page.goto(f"{base}/pool/villages/VA1/")
    page.evaluate("document.getElementById('q').removeAttribute('maxlength')")  # as a script could
    box = page.get_by_test_id("search")
    box.fill("张" * 200)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        box.press("Enter")
    assert answer.value.status == 400
    page.get_by_test_id("search-error").wait_for()
    assert "40" in page.get_by_test_id("search-error").inner_text()
    assert page.get_by_test_id("search").is_visible()  # the page is still the page
    assert_fits_phone_width(page)
    Path(ARTIFACTS).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "f01-search-too-long.png"), full_page=True)


def test_a_refused_visit_says_why_next_to_the_amount_on_a_phone(live_server, bank, phone_page):
    """GIVEN a customer manager's visit task WHEN "5²" is typed as a survey amount (a 500
    before) THEN the page comes back (400) with the message under that amount, and what
    was typed is kept."""
    from conftest import add_evaluation_village, sign_off
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole
    from cunxin.visits.models import VisitTask
    from test_browser import ARTIFACTS, assert_fits_phone_width, sign_in

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    sign_off(w, project)
    task = VisitTask.objects.filter(assigned_to=w.users["cm_a"].staff).order_by("pk").first()
    page, base = phone_page, live_server.url
    sign_in(page, base, "cm_a")
    page.goto(f"{base}/visits/tasks/{task.pk}/")
    survey = page.locator("input[name^=survey-]").first
    survey.fill("5²")
    page.locator("input[name=mode][value=phone]").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_test_id("visit-form").locator("button[type=submit]").click()
    assert answer.value.status == 400
    page.wait_for_load_state()
    error = page.get_by_test_id("field-error").first
    assert error.is_visible()
    assert page.locator("input[name^=survey-]").first.input_value() == "5²"
    assert_fits_phone_width(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "f02-visit-refused.png"), full_page=True)
