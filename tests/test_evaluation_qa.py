"""验收 (QA sampling): drawing the sample when a first round closes, the pages of the
drawn reviews, recording a re-check with a photo and a signature, the images, and the
pass rate per village (cunxin.evaluation.qa_views)."""

from __future__ import annotations

import base64
import io
import math
import random
from dataclasses import replace
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from PIL import Image, ImageDraw

from cunxin.audit.models import AuditEvent
from cunxin.evaluation import actions
from cunxin.evaluation.models import (
    Photo,
    PolicyVersion,
    QaCheck,
    Review,
    ReviewStatus,
    Round,
    RoundKind,
)
from cunxin.evaluation.versions import evaluation_policy
from cunxin.org.models import Assignment, Role, Staff
from world import PASSWORD

# (evaluator, person) pairs without a conflict of interest (tests/conftest.py): seven
# submitted reviews of three households
SUBMITTED = (
    ("ev2", "a11"), ("ev4", "a11"),
    ("ev1", "a41"), ("ev3", "a41"), ("ev4", "a41"),
    ("ev2", "a51"), ("ev4", "a51"),
)  # fmt: skip


def _review(w, rnd, key, person, *, submit=True, amount=30_000):
    return actions.do_save_review(
        w.users[key], rnd, w.persons[person], knows_household=True, negative_items=["absent"],
        graded={"health": 4}, amount_yuan=amount, submit=submit,
    )  # fmt: skip


def _reviewed_round(w, project) -> Round:
    """An open first round with the seven submitted reviews and one draft."""
    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    for i, (key, person) in enumerate(SUBMITTED):
        _review(w, rnd, key, person, amount=30_000 + 1_000 * i)
    _review(w, rnd, "ev2", "a12", submit=False)
    return rnd


@pytest.fixture
def drawn(project, village):
    """The first round closed: one of its seven submitted reviews drawn (5%, at least 1)."""
    rnd = _reviewed_round(village, project)
    actions.do_close_round(village.users["cm_a"], rnd)
    return QaCheck.objects.select_related("review__person").get()


def _said(response, message: str) -> bool:
    """The page says `message` in the user's language (zh-Hans), as the code wrote it."""
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    return escape(text) in response.content.decode()


# --- images a phone would send -------------------------------------------------------------
def jpeg_with_gps() -> bytes:
    """A phone photo: a JPEG whose EXIF holds the camera make and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (34.0, 17.0, 0.0), 3: "E", 4: (119.0, 15.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (40, 120, 60)).save(out, "JPEG", exif=exif.tobytes())
    raw = out.getvalue()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the premise holds
    return raw


def signature_url(*, ink: bool = True) -> str:
    """A canvas export: a transparent PNG with (or without) a stroke, as a data URL."""
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(20, 90), (120, 30), (280, 80)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _post(client, check, **fields):
    data = {
        "result": "pass", "note": "", "signature": signature_url(),
        "photo": SimpleUploadedFile("house.jpg", jpeg_with_gps(), content_type="image/jpeg"),
        "latitude": "34.283333", "longitude": "119.250000",
    }  # fmt: skip
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("evaluation:qa_check", args=[check.pk]), data)


def _cm(w, username: str, **assignment) -> object:
    """Another customer manager of branch A, assigned a village or a grid."""
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    staff = Staff.objects.create(
        user=user, role=Role.CUSTOMER_MANAGER, display_name=username,
        branch=w.villages["VA1"].branch,
    )  # fmt: skip
    Assignment.objects.create(
        staff=staff, valid_from=timezone.now(), assigned_by=w.users["hq_admin"], **assignment
    )
    return user


# --- drawing -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_draws_five_percent_at_least_one_when_a_first_round_closes(project, village):
    w = village
    rnd = _reviewed_round(w, project)
    assert not QaCheck.objects.exists()  # nothing is drawn while the round is open

    actions.do_close_round(w.users["cm_a"], rnd)

    checks = list(QaCheck.objects.select_related("review"))
    assert len(checks) == max(1, math.ceil(0.05 * len(SUBMITTED))) == 1
    assert checks[0].review.round_id == rnd.pk
    assert checks[0].review.status == ReviewStatus.SUBMITTED  # never the draft
    assert checks[0].checked_at is None and checks[0].checker is None


@pytest.mark.django_db
def test_it_draws_the_policy_share_rounded_up(project, village):
    w = village
    data = dict(project.policy.data, qa_share=0.3)
    project.policy = PolicyVersion.objects.create(version="qa-30", data=data)
    project.save(update_fields=["policy"])
    rnd = _reviewed_round(w, project)

    actions.do_close_round(w.users["cm_a"], rnd)

    assert QaCheck.objects.count() == math.ceil(0.3 * len(SUBMITTED)) == 3


@pytest.mark.django_db
def test_it_draws_with_the_given_random_generator(project, village):
    w = village
    rnd = _reviewed_round(w, project)
    policy = replace(evaluation_policy(project.policy), qa_share=0.4)
    submitted = sorted(
        Review.objects.filter(round=rnd, status=ReviewStatus.SUBMITTED).values_list("pk", flat=True)
    )

    n = actions.draw_qa_sample(rnd, policy, rng=random.Random(20260714))

    assert n == math.ceil(0.4 * 7) == 3
    expected = random.Random(20260714).sample(submitted, 3)
    assert sorted(QaCheck.objects.values_list("review_id", flat=True)) == sorted(expected)
    assert actions.draw_qa_sample(rnd, replace(policy, qa_share=0), rng=random.Random(1)) == 0


# --- the pages -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_shows_the_drawn_review_and_the_form_to_a_branch_manager(client, drawn, village):
    client.force_login(village.users["bm_a"])
    review = drawn.review

    response = client.get(reverse("evaluation:qa_check", args=[drawn.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert str(review.amount_yuan) in body  # what the review says: the round is closed
    assert "长期外出、无法联系" in body  # its negative item, by its label
    assert review.reviewer.staff.display_name in body
    assert review.person.name in body and review.person.id_masked in body
    assert 'data-testid="qa-form"' in body and 'enctype="multipart/form-data"' in body
    assert 'accept="image/*" capture="environment"' in body
    assert "evaluation/signature.js" in body and "data-signature-pad" in body
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_lists_a_projects_drawn_reviews(client, drawn, village, project):
    client.force_login(village.users["hq_analyst"])

    response = client.get(reverse("evaluation:qa_project", args=[project.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="qa-row"') == 1
    assert reverse("evaluation:qa_check", args=[drawn.pk]) in body
    assert drawn.review.person.name in body
    project_page = client.get(reverse("evaluation:project", args=[project.pk])).content.decode()
    assert reverse("evaluation:qa_project", args=[project.pk]) in project_page


@pytest.mark.django_db
def test_it_masks_persons_the_user_does_not_see(client, drawn, village, project):
    # GIVEN a customer manager who sees village VA1 only through grid GA1b, where the
    # evaluated households are not
    cm = _cm(village, "cm_grid", grid=village.grids["GA1b"])
    client.force_login(cm)
    person = drawn.review.person

    for url in (
        reverse("evaluation:qa_project", args=[project.pk]),
        reverse("evaluation:qa_check", args=[drawn.pk]),
    ):
        body = client.get(url).content.decode()
        assert person.name not in body and person.name[0] + "*" in body
        assert person.id_masked not in body


@pytest.mark.django_db
def test_the_read_only_role_sees_the_check_but_may_not_record_it(client, drawn, village):
    client.force_login(village.users["hq_analyst"])
    url = reverse("evaluation:qa_check", args=[drawn.pk])

    page = client.get(url)

    assert page.status_code == 200 and 'data-testid="qa-form"' not in page.content.decode()
    assert _post(client, drawn).status_code == 403
    drawn.refresh_from_db()
    assert drawn.checked_at is None


@pytest.mark.django_db
def test_the_responsible_customer_manager_is_refused_with_the_actions_reason(
    client, drawn, village
):
    message = "The project's responsible customer manager may not re-check its reviews."
    client.force_login(village.users["cm_a"])

    page = client.get(reverse("evaluation:qa_check", args=[drawn.pk]))
    response = _post(client, drawn, note="我自己验")

    assert page.status_code == 200 and 'data-testid="qa-form"' not in page.content.decode()
    assert _said(page, message)
    assert response.status_code == 400 and _said(response, message)
    drawn.refresh_from_db()
    assert drawn.checked_at is None and not Photo.objects.exists()


@pytest.mark.django_db
def test_other_branches_and_evaluators_get_404(client, drawn, village, project):
    urls = [
        reverse("evaluation:qa_project", args=[project.pk]),
        reverse("evaluation:qa_check", args=[drawn.pk]),
        reverse("evaluation:qa_photo", args=[drawn.pk]),
        reverse("evaluation:qa_signature", args=[drawn.pk]),
    ]
    client.force_login(village.users["bm_a"])
    assert _post(client, drawn).status_code == 302  # recorded: the images exist
    for key in ("bm_b", "cm_b", "ev1", "ev2"):
        client.force_login(village.users[key])
        for url in urls:
            assert client.get(url).status_code == 404, (key, url)
        assert _post(client, drawn).status_code == 404
    client.force_login(village.users["bm_b"])
    body = client.get(reverse("evaluation:qa")).content.decode()
    assert village.villages["VA1"].name not in body  # VA1's rate is not branch B's business
    client.force_login(village.users["ev1"])
    assert client.get(reverse("evaluation:qa")).status_code == 404


@pytest.mark.django_db
def test_an_evaluator_never_reaches_qa_also_while_a_round_is_open(client, project, village):
    w = village
    rnd = _reviewed_round(w, project)
    # a check on a review of the still open round (as if drawn early): back to back, so
    # neither the evaluator nor staff can open it
    early = QaCheck.objects.create(
        review=Review.objects.filter(round=rnd, status=ReviewStatus.SUBMITTED).first(),
        drawn_at=timezone.now(),
    )
    urls = [
        reverse("evaluation:qa"),
        reverse("evaluation:qa_project", args=[project.pk]),
        reverse("evaluation:qa_check", args=[early.pk]),
        reverse("evaluation:qa_photo", args=[early.pk]),
    ]
    for key in ("ev1", "ev2", "ev3", "ev4"):
        client.force_login(w.users[key])
        assert client.get(reverse("evaluation:home")).status_code == 200  # their round
        for url in urls:
            assert client.get(url).status_code == 404, (key, url)
    client.force_login(w.users["bm_a"])
    assert client.get(reverse("evaluation:qa_check", args=[early.pk])).status_code == 404
    listing = client.get(reverse("evaluation:qa_project", args=[project.pk])).content.decode()
    assert 'data-testid="qa-row"' not in listing


# --- recording a re-check ------------------------------------------------------------------
@pytest.mark.django_db
def test_it_records_a_pass_with_a_clean_photo_and_the_signature(client, drawn, village):
    client.force_login(village.users["bm_a"])

    response = _post(client, drawn, note="与户主核实，情况属实")

    url = reverse("evaluation:qa_check", args=[drawn.pk])
    assert response.status_code == 302 and response.url == url
    drawn.refresh_from_db()
    assert drawn.passed is True and drawn.checker == village.users["bm_a"].staff
    assert drawn.checked_at is not None and drawn.note == "与户主核实，情况属实"
    # THEN the photo is stored without its EXIF (no GPS, no camera), the place as fields
    photo = drawn.photo
    data = bytes(photo.data)
    assert photo.kind == "qa" and photo.content_type == "image/jpeg"
    assert b"Exif" not in data and len(Image.open(io.BytesIO(data)).getexif()) == 0
    assert (photo.width, photo.height) == (120, 90)
    assert photo.latitude == Decimal("34.283333") and photo.longitude == Decimal("119.25")
    # and the signature as a PNG with its ink
    signature = drawn.signature
    image = Image.open(io.BytesIO(bytes(signature.data)))
    assert signature.kind == "signature" and signature.content_type == "image/png"
    assert image.format == "PNG" and image.convert("L").getextrema()[0] < 100
    assert AuditEvent.objects.filter(action="evaluation.qa.check", object_id=str(drawn.pk)).exists()
    # and the page shows the result with both images
    page = client.get(url).content.decode()
    assert 'data-testid="qa-result"' in page and 'data-testid="qa-form"' not in page
    assert reverse("evaluation:qa_photo", args=[drawn.pk]) in page
    assert reverse("evaluation:qa_signature", args=[drawn.pk]) in page


@pytest.mark.django_db
def test_it_serves_the_images_to_staff_in_scope_and_keeps_them_out_of_caches(
    client, drawn, village
):
    client.force_login(village.users["bm_a"])
    photo_url = reverse("evaluation:qa_photo", args=[drawn.pk])
    assert client.get(photo_url).status_code == 404  # not checked yet: no photo
    _post(client, drawn)
    drawn.refresh_from_db()
    client.force_login(village.users["hq_analyst"])

    for name, stored, content_type in (
        ("evaluation:qa_photo", drawn.photo, "image/jpeg"),
        ("evaluation:qa_signature", drawn.signature, "image/png"),
    ):
        response = client.get(reverse(name, args=[drawn.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response.content == bytes(stored.data)
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert response["Content-Security-Policy"].startswith("default-src 'none'")
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_customer_manager_other_than_the_responsible_one_records_a_fail(client, drawn, village):
    client.force_login(_cm(village, "cm_other", village=village.villages["VA1"]))

    response = _post(
        client, drawn, result="fail", note="户主说不认识评议员", latitude="", longitude=""
    )

    assert response.status_code == 302
    drawn.refresh_from_db()
    assert drawn.passed is False and drawn.note == "户主说不认识评议员"
    assert drawn.checker.display_name == "cm_other" and drawn.photo.latitude is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"signature": signature_url(ink=False)}, "The signature is empty."),
        ({"signature": ""}, "Sign in the box."),
        (
            {"photo": SimpleUploadedFile("note.txt", b"not a photo", content_type="image/jpeg")},
            "The file is not a photo (JPEG, PNG or WebP).",
        ),
        ({"photo": None}, "Take a photo."),
        ({"result": "fail", "note": "  "}, "Say what did not hold up."),
        ({"result": ""}, "Choose passed or not passed."),
    ],
    ids=["blank signature", "no signature", "not an image", "no photo", "fail without note",
         "no result"],
)  # fmt: skip
@pytest.mark.django_db
def test_it_refuses_an_incomplete_check_and_keeps_what_was_typed(
    client, drawn, village, fields, message
):
    client.force_login(village.users["bm_a"])
    if "note" not in fields:
        fields = {**fields, "note": "邻居说家里有人长期在外"}

    response = _post(client, drawn, **fields)

    assert response.status_code == 400
    assert _said(response, message)
    body = response.content.decode()
    assert 'data-testid="qa-form"' in body
    if fields["note"].strip():
        assert fields["note"] in body  # the typed note is kept
    drawn.refresh_from_db()
    assert drawn.checked_at is None and not Photo.objects.exists()


@pytest.mark.django_db
def test_it_keeps_a_good_signature_when_something_else_is_refused(client, drawn, village):
    client.force_login(village.users["bm_a"])
    good = signature_url()

    response = _post(client, drawn, photo=None, signature=good)

    assert response.status_code == 400 and f'value="{good}"' in response.content.decode()


@pytest.mark.django_db
def test_a_review_is_re_checked_once(client, drawn, village):
    client.force_login(village.users["bm_a"])
    assert _post(client, drawn).status_code == 302
    client.force_login(village.users["hq_admin"])

    response = _post(client, drawn, result="fail", note="再验一次")

    assert response.status_code == 400
    assert _said(response, "This review has already been re-checked.")
    drawn.refresh_from_db()
    assert drawn.passed is True and drawn.checker == village.users["bm_a"].staff
    assert Photo.objects.count() == 2  # the first check's photo and signature only


# --- pass rates ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_pass_rate_per_village(client, drawn, village, project):
    w = village
    others = Review.objects.filter(status=ReviewStatus.SUBMITTED).exclude(pk=drawn.review_id)
    second = QaCheck.objects.create(review=others[0], drawn_at=timezone.now())
    QaCheck.objects.create(review=others[1], drawn_at=timezone.now())  # not checked yet
    client.force_login(w.users["bm_a"])
    assert _post(client, drawn).status_code == 302
    client.force_login(w.users["hq_admin"])
    assert _post(client, second, result="fail", note="评议额度明显偏高").status_code == 302

    for key in ("hq_admin", "hq_analyst", "bm_a", "cm_a"):
        client.force_login(w.users[key])
        response = client.get(reverse("evaluation:qa"))
        assert response.status_code == 200
        body = response.content.decode()
        assert body.count('data-testid="qa-village-row"') == 1
        row = body[body.index('data-testid="qa-village-row"') :]
        row = row[: row.index("</tr>")]
        assert w.villages["VA1"].name in row
        assert "<td>3</td><td>2</td><td>1</td>" in row  # drawn, checked, passed
        assert '<td data-testid="rate">50%</td>' in row
        assert reverse("evaluation:qa_project", args=[project.pk]) in row

    listing = client.get(reverse("evaluation:qa_project", args=[project.pk])).content.decode()
    assert listing.count('data-testid="qa-row"') == 3
    assert '<dd data-testid="rate">50%</dd>' in listing
    assert actions.qa_pass_rates(w.villages["VA1"].__class__.objects.all()) == [
        {"village": "VA1", "name": w.villages["VA1"].name, "drawn": 3, "checked": 2,
         "passed": 1, "rate": 0.5}
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_overview_says_when_nothing_is_drawn(client, village):
    client.force_login(village.users["hq_analyst"])

    response = client.get(reverse("evaluation:qa"))

    assert response.status_code == 200
    assert 'data-testid="qa-village-row"' not in response.content.decode()
    assert 'data-testid="total-rate">—' in response.content.decode()


# --- on a phone ----------------------------------------------------------------------------
@pytest.fixture
def bank(transactional_db, settings):
    """The small bank of tests/world.py, committed so that the live server sees it."""
    from appendonly import allow_flush
    from world import make_world

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield make_world()
    allow_flush()  # the end-of-test flush empties the append-only audit table


def _sign(page, pad) -> None:
    """A stroke across the pad with the pointer (pointer events, as a finger makes)."""
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 25, steps=8)
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()


INKED = """() => { const c = document.querySelector('canvas[data-signature-pad]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; } return false; }"""


def test_a_branch_manager_re_checks_a_review_on_a_phone(live_server, phone_page, bank):
    """Sign with a finger on the pad (clear, sign again), a photo from the camera, the
    place from the browser; a refused save keeps the note and the signature."""
    from conftest import add_evaluation_village
    from cunxin.evaluation.models import PanelRole
    from test_browser import ARTIFACTS, assert_fits_phone_width, sign_in

    w = add_evaluation_village(bank)
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(
            w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE
        )
    rnd = _reviewed_round(w, project)
    actions.do_close_round(w.users["cm_a"], rnd)
    check = QaCheck.objects.get()
    page, base = phone_page, live_server.url
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 34.2833, "longitude": 119.25})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    sign_in(page, base, "bm_a")
    page.goto(f"{base}/evaluation/projects/{project.pk}/")
    page.get_by_test_id("qa-link").click()
    page.wait_for_url(f"{base}/evaluation/projects/{project.pk}/qa/")
    assert page.get_by_test_id("qa-row").count() == 1
    assert_fits_phone_width(page)
    page.get_by_test_id("qa-row").locator("a").click()
    page.wait_for_url(f"{base}/evaluation/qa/{check.pk}/")
    form = page.get_by_test_id("qa-form")
    page.wait_for_function("() => document.querySelector('input[name=latitude]').value !== ''")
    pad = form.locator("canvas[data-signature-pad]")
    photo = {"name": "house.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}

    # WHEN the checker signs, clears the pad and saves: refused, the note kept
    form.locator("input[name=result][value=pass]").check()
    form.locator("textarea[name=note]").fill("与户主核实")
    pad.scroll_into_view_if_needed()
    _sign(page, pad)
    assert page.evaluate(INKED)
    form.locator("[data-signature-clear]").click()
    assert not page.evaluate(INKED)
    form.locator("input[name=photo]").set_input_files(photo)
    assert_fits_phone_width(page)
    page.screenshot(path=str(ARTIFACTS / "qa01-check-form.png"), full_page=True)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("errors").is_visible()
    assert form.locator("textarea[name=note]").input_value() == "与户主核实"

    # WHEN signed, but the "photo" is not one: refused, the signature drawn again
    pad.scroll_into_view_if_needed()
    _sign(page, pad)
    form.locator("input[name=photo]").set_input_files(
        {"name": "house.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}
    )
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("errors").is_visible()
    page.wait_for_function(INKED)
    check.refresh_from_db()
    assert check.checked_at is None

    # THEN with a real photo it is recorded: signature with ink, the browser's place
    form.locator("input[name=photo]").set_input_files(photo)
    page.wait_for_function("() => document.querySelector('input[name=latitude]').value !== ''")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=qa-result]")
    check.refresh_from_db()
    assert check.passed is True and check.note == "与户主核实"
    assert (check.photo.latitude, check.photo.longitude) == (Decimal("34.2833"), Decimal("119.25"))
    assert b"Exif" not in bytes(check.photo.data)
    ink = Image.open(io.BytesIO(bytes(check.signature.data))).convert("L")
    assert ink.getextrema()[0] < 100
    page.wait_for_function(  # the photo and the signature load from their views
        "() => [...document.querySelectorAll('[data-testid=qa-result] img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert_fits_phone_width(page)
    page.screenshot(path=str(ARTIFACTS / "qa02-check-recorded.png"), full_page=True)

    # and the pass rate of the village: 1 of 1
    page.goto(f"{base}/evaluation/qa/")
    row = page.get_by_test_id("qa-village-row")
    assert row.count() == 1 and row.get_by_test_id("rate").inner_text() == "100%"
    assert_fits_phone_width(page)
    page.screenshot(path=str(ARTIFACTS / "qa03-pass-rates.png"), full_page=True)
    page.goto(f"{base}/evaluation/projects/{project.pk}/qa/")
    assert_fits_phone_width(page)
    page.screenshot(path=str(ARTIFACTS / "qa04-project-list.png"), full_page=True)
