"""The visit area: a CM's tasks nearest first, recording a visit (members, survey amount,
corrections keeping both versions, photos stripped of their metadata), who may do what."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from conftest import sign_off
from cunxin.audit.models import AuditEvent
from cunxin.evaluation.models import Photo
from cunxin.pool.models import Household
from cunxin.visits import actions
from cunxin.visits.models import Visit, VisitMember, VisitTask


def jpeg_with_gps() -> bytes:
    """A phone-like JPEG whose EXIF holds a GPS position and a camera model."""
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam 9"  # Model
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get(0x0110) == "PhoneCam 9"
    return data


@pytest.fixture
def tasks(village, project):
    w = village
    sign_off(w, project)
    for uid, lat, lon in (("Ha1", "30.2500", "120.1700"), ("Ha4", "30.2000", "120.1000"),
                          ("Ha5", "30.2600", "120.1710")):  # fmt: skip
        Household.objects.filter(uid=uid).update(latitude=Decimal(lat), longitude=Decimal(lon))
    return {t.household_id: t for t in VisitTask.objects.filter(project=project)}


def visit_post(task, **extra) -> dict:
    data = {"mode": "on_site", "lat": "30.250100", "lon": "120.170200", "notes": "家中养猪20头"}
    for p in task.household.members.filter(retired_at__isnull=True):
        data[f"confirmed-{p.uid}"] = "on"
        data[f"survey-{p.uid}"] = "30000"
    return data | extra


@pytest.mark.django_db
def test_tasks_are_ordered_by_distance_from_the_manager(client, village, tasks):
    client.force_login(village.users["cm_a"])
    plain = client.get(reverse("visits:tasks")).content.decode()
    assert plain.count('data-testid="task-row"') == 3
    # standing next to 张军's house (Ha5): Ha5, then Ha1 (1 km), then Ha4 (~9 km)
    near = client.get(
        reverse("visits:tasks"), {"lat": "30.2601", "lon": "120.1711"}
    ).content.decode()
    order = [near.index(name) for name in ("张军", "张伟", "周强")]
    assert order == sorted(order)
    rows = actions.my_tasks(village.users["cm_a"].staff, (30.2601, 120.1711))
    assert [t.household_id for t, _d in rows] == ["Ha5", "Ha1", "Ha4"]
    assert rows[0][1] < 50 and 1_000 < rows[1][1] < 1_300


@pytest.mark.django_db
def test_a_visit_is_recorded_with_a_clean_photo_and_a_correction(client, village, tasks):
    w = village
    task = tasks["Ha1"]
    client.force_login(w.users["cm_a"])
    page = client.get(reverse("visits:visit", args=[task.pk])).content.decode()
    assert 'value="125000"' in page  # survey amount pre-filled with the evaluation amount
    data = visit_post(task, **{
        "survey-Pa11": "80000", "color-Pa12": "grey", "amount-Pa12": "10000",
        "reason-Pa12": "常年在外，联系不上", "photos": SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg"),
    })  # fmt: skip
    response = client.post(reverse("visits:visit", args=[task.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = Visit.objects.get(task=task)
    assert (visit.latitude, visit.longitude) == (Decimal("30.250100"), Decimal("120.170200"))
    rows = {m.person_id: m for m in visit.members.all()}
    assert rows["Pa11"].survey_amount_yuan == 80_000 and not rows["Pa11"].corrected
    assert rows["Pa12"].before["color"] == "white" and rows["Pa12"].after == {"color": "grey", "amount_yuan": 10_000}  # fmt: skip
    photo = visit.photos.get()
    data = bytes(photo.data)
    assert b"Exif" not in data and b"PhoneCam" not in data
    assert len(Image.open(io.BytesIO(data)).getexif()) == 0
    assert (photo.latitude, photo.longitude) == (visit.latitude, visit.longitude)
    task.refresh_from_db()
    assert task.done_at is not None
    assert AuditEvent.objects.filter(action="visits.visit.record").get().after["corrected"] == [
        "Pa12"
    ]
    # the recorded visit shows both versions and serves the photo
    page = client.get(reverse("visits:visit", args=[task.pk])).content.decode()
    assert 'data-testid="corrected"' in page and "常年在外" in page
    image = client.get(reverse("visits:photo", args=[task.pk, photo.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    # a second visit of the same task is refused
    again = client.post(reverse("visits:visit", args=[task.pk]), visit_post(task))
    assert again.status_code == 400 and 'data-testid="error"' in again.content.decode()
    assert Visit.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lat": "", "lon": ""}, "位置"),
        ({"mode": "fax"}, "电话"),
        ({"survey-Pa11": "12.5"}, "整数"),
        ({"survey-Pa11": "900000"}, "200,000"),
        ({"survey-Pa11": "5²"}, "整数"),
        ({"amount-Pa12": "10" * 20, "color-Pa12": "grey", "reason-Pa12": "x"}, "200,000"),
        ({"color-Pa12": "grey", "amount-Pa12": "100"}, "原因"),
        ({"color-Pa12": "white", "reason-Pa12": "核实无误"}, "评议金额"),  # no amount
        ({"photos": SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")}, "照片"),
    ],
)
def test_a_bad_visit_says_why_and_keeps_what_was_typed(client, village, tasks, change, message):
    task = tasks["Ha1"]
    client.force_login(village.users["cm_a"])
    response = client.post(reverse("visits:visit", args=[task.pk]), visit_post(task, **change))
    body = response.content.decode()
    # the message is next to the field (or above the form when it is the action's)
    error = " ".join(
        re.findall(r'class="error(?:s|list)[^"]*"[^>]*>(.*?)</(?:ul|div)>', body, re.S)
    )
    assert response.status_code == 400 and message in error, error
    assert "家中养猪20头" in body  # the notes are kept
    assert (
        not Visit.objects.exists()
        and not Photo.objects.exists()
        and not VisitMember.objects.exists()
    )


@pytest.mark.django_db
def test_a_phone_visit_needs_no_location(client, village, tasks):
    task = tasks["Ha4"]
    client.force_login(village.users["cm_a"])
    response = client.post(reverse("visits:visit", args=[task.pk]), visit_post(task, mode="phone", lat="", lon=""))  # fmt: skip
    assert response.status_code == 302
    assert Visit.objects.get().latitude is None


@pytest.mark.django_db
def test_who_sees_and_records_visits(client, village, tasks):
    w = village
    task = tasks["Ha1"]
    url = reverse("visits:visit", args=[task.pk])
    for key, status in (("cm_b", 404), ("bm_b", 404), ("evaluator", 404), ("customer", 404),
                        ("bm_a", 200), ("hq_analyst", 200), ("hq_admin", 200)):  # fmt: skip
        client.force_login(w.users[key])
        assert client.get(url).status_code == status, key
    # only the assigned CM records: the branch manager sees the task but may not
    client.force_login(w.users["bm_a"])
    assert client.post(url, visit_post(task)).status_code == 403
    assert client.get(reverse("visits:project", args=[task.project_id])).status_code == 200
    client.force_login(w.users["cm_b"])
    assert client.get(reverse("visits:project", args=[task.project_id])).status_code == 404
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_a_visit_of_a_task_moved_meanwhile_is_refused(village, tasks):
    """GIVEN the CM's visit form read before the task moved to another CM (the branch
    manager reassigned it), WHEN the CM records, THEN it is refused with the reason and
    nothing is recorded: the check is made again under the task's lock."""
    from django.core.exceptions import ValidationError

    from cunxin.evaluation.versions import evaluation_policy
    from cunxin.org.models import Role, Staff
    from cunxin.visits.forms import RecordVisitForm

    w = village
    task = tasks["Ha1"]  # read by cm_a's page
    policy = evaluation_policy(task.project.policy)
    members = list(task.household.members.filter(retired_at__isnull=True))
    form = RecordVisitForm(visit_post(task), members=members, policy=policy)
    assert form.is_valid(), form.errors
    other = Staff.objects.filter(role=Role.CUSTOMER_MANAGER).exclude(pk=task.assigned_to_id)[0]
    VisitTask.objects.filter(pk=task.pk).update(assigned_to=other)
    with pytest.raises(ValidationError, match="转给其他客户经理"):
        actions.do_record_visit(w.users["cm_a"], task, form.visit(), policy)
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("metres", "english", "chinese"),
    [
        (0, "0 m", "0 米"),
        (999, "999 m", "999 米"),
        (999.6, "1.0 km", "1.0 公里"),  # 1,000 m once rounded: kilometres
        (1_000, "1.0 km", "1.0 公里"),
        (1_055.9, "1.1 km", "1.1 公里"),  # was "1055.9 km"
        (12_300, "12.3 km", "12.3 公里"),
        (None, "—", "—"),
    ],
)
def test_distances_read_in_metres_then_kilometres(metres, english, chinese):
    from django.utils import translation

    from cunxin.project.templatetags.cunxin import distance

    with translation.override("en"):
        assert distance(metres) == english
    with translation.override("zh-hans"):
        assert distance(metres) == chinese


@pytest.mark.django_db
def test_the_task_list_shows_a_kilometre_distance_in_kilometres(client, village, tasks):
    """1,055.9 m away was shown as "1055.9 km"."""
    client.force_login(village.users["cm_a"])
    page = client.get(reverse("visits:tasks"), {"lat": "30.2601", "lon": "120.1711"})
    cells = re.findall(r'data-testid="distance">([^<]*)<', page.content.decode())
    near, ha1, far = cells
    assert near.endswith("米") and ha1.endswith("公里") and far.endswith("公里")
    assert 1.0 <= float(ha1.split()[0]) <= 1.3
    assert "km" not in page.content.decode()


@pytest.mark.django_db
def test_a_minor_is_recorded_without_a_survey_amount_or_a_confirmation(client, village, tasks):
    """A 3-year-old was asked for a survey amount and whether the CM met them."""
    import datetime as dt

    from world import make_person

    w = village
    task = tasks["Ha1"]
    born = dt.date.today().year - 3
    make_person(w, "a13", task.household, name="张小宝", birth=f"{born}0101", seq=13,
                phone=None, relation="子", index=2, village=w.villages["VA1"])  # fmt: skip
    client.force_login(w.users["cm_a"])
    url = reverse("visits:visit", args=[task.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="minor"' in page
    assert 'name="survey-Pa13"' not in page and 'name="confirmed-Pa13"' not in page
    data = visit_post(task)
    data.pop("survey-Pa13"), data.pop("confirmed-Pa13")  # visit_post fills every member
    # a survey amount for the minor is refused, whatever the form sends
    refused = client.post(url, data | {"survey-Pa13": "10000"})
    assert refused.status_code == 400 and "未成年" in refused.content.decode()
    assert client.post(url, data).status_code == 302
    row = VisitMember.objects.get(person_id="Pa13")
    assert row.survey_amount_yuan is None and row.confirmed is False
    event = AuditEvent.objects.get(action="visits.visit.record")
    assert event.after["minors"] == ["Pa13"] and "Pa13" not in event.after["unconfirmed"]
    shown = client.get(url).content.decode()
    minor_row = next(r for r in shown.split('data-testid="visit-member"')[1:] if "张小宝" in r)
    assert "未成年" in minor_row
