"""Evaluators sign in with their phone and a one-time code (SMS simulator in tests)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from cunxin.audit.models import AuditEvent
from cunxin.org import codelogin
from cunxin.org.models import LoginCode
from cunxin.providers.sms import GatewaySms, SimulatedSms, get_sms_provider

PHONE = "13800000012"  # the world's evaluator (李芳, Pa12)


def ask_code(client, phone=PHONE):
    response = client.post(reverse("code_login"), {"phone": phone})
    assert response.status_code == 302 and response.url == reverse("code_verify")
    page = client.get(reverse("code_verify")).content.decode()
    found = re.search(r"验证码为 (\d{6})", page)
    return found.group(1) if found else None


@pytest.mark.django_db
def test_an_evaluator_signs_in_with_the_code_the_simulator_shows(client, world):
    code = ask_code(client)
    assert code is not None
    assert not LoginCode.objects.filter(code_hash__contains=code).exists()  # only a hash is kept
    response = client.post(reverse("code_verify"), {"code": code})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).context["user"] == world.users["evaluator"]
    assert AuditEvent.objects.filter(
        action="auth.code_login", actor=world.users["evaluator"]
    ).exists()


@pytest.mark.django_db
def test_the_page_says_it_is_a_simulator(client, world):
    ask_code(client)
    page = client.get(reverse("code_verify")).content.decode()
    assert 'data-testid="simulated-sms"' in page and "模拟" in page


@pytest.mark.django_db
def test_an_unknown_number_gets_the_same_answer_and_no_code(client, world):
    assert ask_code(client, "13912345678") is None
    response = client.post(reverse("code_verify"), {"code": "123456"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_staff_numbers_do_not_get_codes(client, world):
    # cm_a's phone is nowhere in the pool; Pa11 (张伟) is a villager but not an evaluator
    assert ask_code(client, "13800000011") is None


@pytest.mark.django_db
def test_a_code_works_once(client, world):
    code = ask_code(client)
    assert client.post(reverse("code_verify"), {"code": code}).status_code == 302
    assert codelogin.verify_code(world.users["evaluator"].staff.pk, code) is None


@pytest.mark.django_db
def test_five_wrong_codes_burn_the_code(client, world):
    code = ask_code(client)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(codelogin.MAX_ATTEMPTS):
        assert client.post(reverse("code_verify"), {"code": wrong}).status_code == 400
    assert client.post(reverse("code_verify"), {"code": code}).status_code == 400


@pytest.mark.django_db
def test_an_expired_code_is_refused(client, world):
    code = ask_code(client)
    LoginCode.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert client.post(reverse("code_verify"), {"code": code}).status_code == 400


@pytest.mark.django_db
def test_at_most_three_codes_in_ten_minutes(client, world):
    codes = [ask_code(client) for _ in range(4)]
    assert all(codes[:3]) and codes[3] is None
    assert LoginCode.objects.count() == 3


def test_the_sms_provider_is_chosen_by_setting():
    assert isinstance(get_sms_provider("simulator"), SimulatedSms)
    gateway = get_sms_provider("gateway:https://sms.example")
    assert isinstance(gateway, GatewaySms) and not gateway.is_simulator
    with pytest.raises(NotImplementedError, match="SMS gateway"):
        gateway.send("13800000000", "x")
    with pytest.raises(ValueError, match="CUNXIN_SMS"):
        get_sms_provider("carrier-pigeon")
