"""Real-browser tests: headless Chromium at phone size against a live server.

Elements are found by data-testid, role, id or URL, never by UI wording (which is being
translated); only data (names such as 张伟, numbers) is matched as text. Full-page
screenshots of each step go to $CUNXIN_TEST_ARTIFACTS/browser/.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cunxin.lib.masking import mask_id_for_staff, mask_phone

ARTIFACTS = Path(os.environ.get("CUNXIN_TEST_ARTIFACTS", "test-artifacts")) / "browser"
PHONE_WIDTH = 390
ID_MASK = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")  # first 6 + last 4 of 18
PHONE_MASK = re.compile(r"^1\d{2}\*{4}\d{4}$")  # first 3 + last 4 of 11
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def bank(transactional_db, settings):
    """The small bank of tests/world.py, committed so that the live server sees it."""
    from appendonly import allow_flush
    from world import make_world

    # Nine users: a fast hasher saves seconds per test (the login form still checks it).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    yield make_world()
    # The end-of-test flush empties every table, which the append-only triggers refuse.
    allow_flush()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    return take


def sign_in(page, base: str, username: str, shot=None, name: str = "", password: str = "") -> None:  # fmt: skip
    from world import PASSWORD

    page.goto(f"{base}/login/")
    if shot:
        shot(page, name)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password or PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")


def search(page, base: str, village: str, text: str):
    """Type into the pool's search box and submit; return the htmx POST's response."""
    box = page.get_by_test_id("search")
    box.fill(text)
    with page.expect_response(
        lambda r: r.url == f"{base}/pool/villages/{village}/" and r.request.method == "POST"
    ) as answer:
        box.press("Enter")
    response = answer.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    return response


def assert_fits_phone_width(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"horizontal scrolling at {PHONE_WIDTH} px: {width} px"


def test_customer_manager_walks_from_login_to_the_access_log(live_server, bank, phone_page, shot):
    page, base = phone_page, live_server.url
    ida11 = bank.plain["a11"][0]

    # Sign in through the real form; the home page lists the CM's villages only.
    sign_in(page, base, "cm_a", shot, "01-login.png")
    assert page.get_by_test_id("who").inner_text().startswith("cm_a")
    main = page.locator("main")
    assert main.locator('a[href="/pool/villages/VA1/"]').first.is_visible()
    assert "东湖村" in main.inner_text()
    assert main.locator('a[href="/pool/villages/VB1/"]').count() == 0
    assert "南山村" not in main.inner_text()
    shot(page, "02-home.png")

    # The customer pool of VA1; search for a name (htmx POST, the URL does not change).
    main.locator('a[href="/pool/villages/VA1/"]').first.click()
    page.wait_for_url(f"{base}/pool/villages/VA1/")
    shot(page, "03-pool.png")
    search(page, base, "VA1", "张伟")
    results = page.locator("#results")
    assert re.search(r"\b1\b", page.get_by_test_id("result-count").inner_text())
    assert "张伟" in results.inner_text()
    assert page.url == f"{base}/pool/villages/VA1/"
    shot(page, "04-search.png")

    # The household: every member, masked ID and phone, simulated identity photos.
    results.locator('a[href="/pool/households/Ha1/"]').click()
    page.wait_for_url(f"{base}/pool/households/Ha1/")
    members = page.get_by_test_id("member")
    assert members.count() == 2
    for i, key in enumerate(("a11", "a12")):
        member = members.nth(i)
        number, phone = bank.plain[key]
        assert bank.persons[key].name in member.inner_text()
        id_shown, phone_shown = (m.inner_text().strip() for m in member.locator(".masked").all())
        assert ID_MASK.match(id_shown) and id_shown == mask_id_for_staff(number)
        assert id_shown.startswith("320723")
        assert PHONE_MASK.match(phone_shown) and phone_shown == mask_phone(phone)
        photo = member.locator("img.photo")
        photo.scroll_into_view_if_needed()
        assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    assert [m.inner_text().strip() for m in members.nth(0).locator(".masked").all()] == [
        "320723" + "*" * 8 + ida11[-4:],
        "138****0011",
    ]
    assert page.get_by_test_id("photo-simulator").is_visible()
    html = page.content()
    for number, phone in bank.plain.values():
        assert number not in html and phone not in html
    assert HAN.search(page.locator("body").inner_text())
    assert_fits_phone_width(page)
    shot(page, "05-household.png")

    # The 360 page of 张伟: ID masked; reveal the phone with a reason.
    members.nth(0).locator('a[href="/pool/persons/Pa11/"]').click()
    page.wait_for_url(f"{base}/pool/persons/Pa11/")
    assert page.get_by_test_id("id-masked").inner_text().strip() == mask_id_for_staff(ida11)
    assert page.get_by_test_id("phone-masked").inner_text().strip() == "138****0011"
    assert ida11 not in page.content() and "13800000011" not in page.content()
    assert_fits_phone_width(page)
    shot(page, "06-person.png")
    page.get_by_test_id("reveal-phone").click()
    form = page.get_by_test_id("reveal-form")
    form.wait_for()
    reason = form.locator("select[name=reason]")
    reason.select_option("visit")
    reason_label = reason.locator("option[value=visit]").inner_text().strip()
    form.locator("input[name=note]").fill("上门走访核实")
    shot(page, "07-reveal-form.png")
    with page.expect_response(lambda r: r.url == f"{base}/pool/persons/Pa11/reveal/phone/"):
        form.locator("button[type=submit]").click()
    revealed = page.get_by_test_id("revealed")
    revealed.wait_for()
    assert revealed.inner_text().strip() == "13800000011"
    assert page.get_by_test_id("id-masked").inner_text().strip() == mask_id_for_staff(ida11)
    shot(page, "08-revealed.png")

    # The access log has the row: who, whose, why (the page is under 更多 in the navigation).
    page.get_by_test_id("nav-more").locator("summary").click()
    page.locator('nav a[href="/access-log/"]').click()
    page.wait_for_url(f"{base}/access-log/")
    rows = page.get_by_test_id("access-row").filter(has_text="张伟")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "cm_a" in row
    assert reason_label in row and "上门走访核实" in row
    assert "13800000011" not in page.content()
    shot(page, "09-access-log.png")

    # Sign out; a CM of the other branch gets a 404 for the household.
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))
    sign_in(page, base, "cm_b")
    response = page.goto(f"{base}/pool/households/Ha1/")
    assert response.status == 404
    assert "张伟" not in page.content()
    shot(page, "10-other-branch-404.png")


def test_search_text_stays_out_of_urls_and_pages_are_not_stored(
    live_server, bank, phone_page, shot
):
    page, base = phone_page, live_server.url
    sign_in(page, base, "cm_a")
    requests, responses = [], []
    page.on("request", lambda r: requests.append(r))
    page.on("response", lambda r: responses.append(r))

    page.goto(f"{base}/pool/villages/VA1/")
    search(page, base, "VA1", "13800000011")
    results = page.locator("#results")
    assert results.locator('a[href="/pool/households/Ha1/"]').count() == 1
    shot(page, "11-search-by-phone.png")
    search(page, base, "VA1", "13900000000")  # nobody: the search does filter
    assert results.locator('a[href^="/pool/households/"]').count() == 0
    search(page, base, "VA1", "13800000011")
    results.locator('a[href="/pool/households/Ha1/"]').click()
    page.wait_for_url(f"{base}/pool/households/Ha1/")
    page.goto(f"{base}/pool/persons/Pa11/")

    # The number went in a POST body, and in no URL the browser asked for.
    assert any("13800000011" in (r.post_data or "") for r in requests)
    leaked = [r.url for r in requests if "13800000011" in r.url]
    assert not leaked, leaked
    assert all("13800000011" not in url for url in (page.url, *(f.url for f in page.frames)))
    # Nor is it kept in the browser's storage (htmx's history cache lives there).
    storage = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert "13800000011" not in storage and "张伟" not in storage, json.loads(storage)

    # Every page, htmx fragment and identity photo says no-store (static files need not).
    pages = [r for r in responses if r.url.startswith(base) and "/static/" not in r.url]
    assert {r.url for r in pages} >= {
        f"{base}/pool/villages/VA1/",
        f"{base}/pool/households/Ha1/",
        f"{base}/pool/persons/Pa11/",
        f"{base}/pool/persons/Pa11/photo.svg",
        f"{base}/pool/persons/Pa12/photo.svg",
    }
    assert any(r.request.method == "POST" for r in pages)
    for r in pages:
        assert "no-store" in (r.headers.get("cache-control") or ""), (r.url, r.headers)


def test_a_villager_changes_their_password_on_a_phone(live_server, bank, phone_page, shot):
    from cunxin.audit.models import AuditEvent
    from world import PASSWORD

    page, base = phone_page, live_server.url
    new = "plum-river-lantern-42"
    sign_in(page, base, "evaluator")

    # Every page's header links to the form; the policy is shown beside the new password.
    page.get_by_test_id("password-link").click()
    page.wait_for_url(f"{base}/password/")
    form = page.get_by_test_id("password-form")
    assert "12" in form.locator("#password-rules").inner_text()
    assert HAN.search(form.inner_text())
    assert_fits_phone_width(page)
    shot(page, "12-password.png")
    form.locator("#id_old_password").fill(PASSWORD)
    form.locator("#id_new_password1").fill(new)
    form.locator("#id_new_password2").fill(new)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/password/done/")
    assert page.get_by_test_id("password-changed").is_visible()
    assert_fits_phone_width(page)
    shot(page, "13-password-changed.png")
    assert AuditEvent.objects.filter(action="auth.password.change", actor=bank.users["evaluator"]).count() == 1  # fmt: skip

    # The new password signs in; the old one no longer does.
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))
    sign_in(page, base, "evaluator", password=new)
    assert page.get_by_test_id("who").inner_text().startswith("evaluator")
    page.locator("header form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/login/.*"))
    page.locator("#id_username").fill("evaluator")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{base}/login/")


def test_an_evaluator_signs_in_with_a_code_reviews_resumes_and_submits(
    live_server, phone_page, bank, shot
):
    """Issue 4: a villager on a phone, back to back, with the SMS simulator's code."""
    from conftest import add_evaluation_village
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole, Review, ReviewStatus, RoundKind

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(
            w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE
        )
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    page, base = phone_page, live_server.url

    # sign in with the phone and the code the simulator shows (and says it is one)
    page.goto(f"{base}/code-login/")
    page.get_by_test_id("phone").fill("13800000051")
    shot(page, "e01-code-login.png")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/code-login/verify/")
    sms = page.get_by_test_id("simulated-sms").inner_text()
    code = re.search(r"(\d{6})", sms).group(1)
    shot(page, "e02-code-shown-by-simulator.png")
    page.get_by_test_id("code").fill(code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    # the open round's households; open 张伟's
    page.goto(f"{base}/evaluation/")
    assert page.get_by_test_id("household-row").count() == 3
    shot(page, "e03-households.png")
    page.locator(f"a[href='/evaluation/rounds/{rnd.pk}/households/Ha1/']").click()
    assert page.get_by_test_id("review-member").count() == 2
    assert_fits_phone_width(page)
    page.locator("input[name='knows-Pa11'][value='yes']").check()
    page.locator("#amount-Pa11").fill("30000")
    graded = page.get_by_test_id("review-member").first.locator("details").nth(1)
    graded.locator("summary").click()
    graded.locator("input[name='grade-Pa11-health'][value='4']").check()
    assert_fits_phone_width(page)
    shot(page, "e04-review.png")
    page.locator("button[name=action][value=draft]").click()
    page.wait_for_url(f"{base}/evaluation/")

    # resume: the draft is there; change it and submit
    page.locator(f"a[href='/evaluation/rounds/{rnd.pk}/households/Ha1/']").click()
    assert page.locator("#amount-Pa11").input_value() == "30000"
    page.locator("#amount-Pa11").fill("35000")
    page.locator("input[name='knows-Pa12'][value='no']").check()
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url(f"{base}/evaluation/")
    shot(page, "e05-submitted.png")
    mine = {r.person_id: r for r in Review.objects.filter(reviewer__staff__user=w.users["ev2"])}
    assert mine["Pa11"].status == ReviewStatus.SUBMITTED and mine["Pa11"].amount_yuan == 35_000
    assert mine["Pa11"].graded == {"health": 4}
    assert mine["Pa12"].knows_household is False


def test_a_customer_manager_visits_the_nearest_household_with_a_photo(
    live_server, phone_page, bank, shot
):
    """Issue 4: after sign-off, the CM's tasks nearest first; a visit with a photo taken on
    the phone (its EXIF location is not stored; the browser's location is)."""
    import io
    from decimal import Decimal

    from PIL import Image

    from conftest import add_evaluation_village, sign_off
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole
    from cunxin.pool.models import Household
    from cunxin.visits.models import Visit

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    sign_off(w, project)
    for uid, lat, lon in (("Ha1", "30.2500", "120.1700"), ("Ha4", "30.2000", "120.1000"),
                          ("Ha5", "30.2600", "120.1710")):  # fmt: skip
        Household.objects.filter(uid=uid).update(latitude=Decimal(lat), longitude=Decimal(lon))
    page, base = phone_page, live_server.url
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 30.2499, "longitude": 120.1701})

    sign_in(page, base, "cm_a")
    page.get_by_test_id("nav-visits").click()
    page.wait_for_url(f"{base}/visits/")
    assert page.get_by_test_id("task-row").count() == 3
    page.get_by_test_id("sort-by-distance").click()
    page.wait_for_url(re.compile(r".*/visits/\?lat=30\.2499\d*&lon=120\.1701\d*$"))
    first = page.get_by_test_id("task-row").first
    assert "张伟" in first.inner_text()  # Ha1 is next door
    assert_fits_phone_width(page)
    shot(page, "v01-tasks-nearest-first.png")

    first.locator("a").click()
    page.wait_for_selector("[data-testid=visit-form]")
    # the location arrives from the browser into the form
    page.wait_for_function("() => document.querySelector('input[name=lat]').value !== ''")
    assert page.locator("#survey-Pa11").input_value() == "125000"  # pre-filled
    page.locator("#survey-Pa11").fill("90000")
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 0.0, 0.0), 3: "E", 4: (121.0, 0.0, 0.0)}
    Image.new("RGB", (800, 600), (90, 140, 60)).save(buf, "JPEG", exif=exif)
    page.locator("#photos").set_input_files(
        {"name": "house.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}
    )
    assert_fits_phone_width(page)
    shot(page, "v02-visit-form.png")
    page.locator("[data-testid=visit-form] button[type=submit]").click()
    page.wait_for_url(f"{base}/visits/")
    assert page.get_by_test_id("task-row").count() == 2
    visit = Visit.objects.get(task__household_id="Ha1")
    assert (float(visit.latitude), float(visit.longitude)) == (30.2499, 120.1701)
    assert visit.members.get(person_id="Pa11").survey_amount_yuan == 90_000
    photo = visit.photos.get()
    assert b"Exif" not in bytes(photo.data)

    page.goto(f"{base}/visits/tasks/{visit.task_id}/")
    assert page.get_by_test_id("visit-photo").count() == 1
    assert page.evaluate("document.querySelector('[data-testid=visit-photo]').naturalWidth") == 800
    shot(page, "v03-visit-recorded.png")


def test_the_bank_side_of_evaluation_fits_a_phone(live_server, phone_page, bank, shot):
    """Issue 4: a branch manager on a phone: the project, the re-review, the results, the
    visits and the QA pages, none scrolling sideways; the re-review change is saved."""
    from conftest import add_evaluation_village, run_first_round
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole, RoundKind, VerdictChange

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE)  # fmt: skip
    first = run_first_round(w, project)
    rereview = actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)
    page, base = phone_page, live_server.url
    sign_in(page, base, "bm_a")
    for name, path in (
        ("b01-project.png", f"/evaluation/projects/{project.pk}/"),
        ("b02-results.png", f"/evaluation/rounds/{first.pk}/results/"),
        ("b03-rereview.png", f"/evaluation/rounds/{rereview.pk}/rereview/"),
        ("b04-qa.png", "/evaluation/qa/"),
        ("b05-policies.png", "/evaluation/policies/"),
        ("b06-sheets.png", f"/evaluation/projects/{project.pk}/sheets/"),
    ):
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert HAN.search(page.locator("main").inner_text()), path  # Chinese on the page
        assert_fits_phone_width(page)
        shot(page, name)
    # a re-review change from the phone: 李芳 white → grey, with a reason
    page.goto(f"{base}/evaluation/rounds/{rereview.pk}/rereview/")
    row = page.get_by_test_id("rereview-row").filter(has_text="李芳")
    row.locator("summary").click()
    row.locator("select[name=color]").select_option("grey")
    row.locator("input[name=amount]").fill("20000")
    row.locator("input[name=reason]").fill("常年在外")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=change]")
    assert_fits_phone_width(page)
    shot(page, "b07-rereview-changed.png")
    change = VerdictChange.objects.get(round=rereview)
    assert (change.person_id, change.color, change.amount_yuan) == ("Pa12", "grey", 20_000)
