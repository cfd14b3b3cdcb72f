"""The project's error pages (src/cunxin/project/templates/4xx.html, 500.html): in Chinese,
readable on a phone (a viewport meta), for signed-in and anonymous users alike.

Django shows its technical 404 page (English, no viewport) whenever DEBUG is on, and
CUNXIN_DEBUG defaults to on; pytest-django turns DEBUG off, and every test here says so
explicitly (`production`), so that what is tested is what a production user gets.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.utils import translation
from django.views import defaults

from cunxin.pool.models import AccessLog

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def page(response) -> str:
    html = response.content.decode()
    assert VIEWPORT in html
    assert 'data-testid="error-page"' in html
    assert '<html lang="zh-hans">' in html
    return html


def test_it_shows_a_chinese_404_to_a_signed_in_customer_manager(as_user):
    response = as_user("cm_a").get("/pool/households/nope/")

    assert response.status_code == 404
    html = page(response)
    assert "未找到" in html
    assert "不在您的负责范围内" in html
    assert "Not Found" not in html
    assert '<nav class="main">' in html  # the base layout, with the signed-in navigation
    assert "cm_a" in html


def test_it_shows_the_same_404_for_a_household_outside_the_area(as_user):
    response = as_user("cm_a").get("/pool/households/Hb1/")  # branch B's household

    assert response.status_code == 404
    assert "未找到" in page(response)
    assert "张伟" not in response.content.decode()


def test_it_shows_a_chinese_404_to_an_anonymous_user(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = page(response)
    assert "未找到" in html
    assert '<nav class="main">' not in html
    assert "退出" not in html  # no sign-out button for nobody


def test_it_shows_a_chinese_403_when_the_role_may_not_reveal(as_user):
    response = as_user("hq_analyst").post("/pool/persons/Pa11/reveal/phone/", {"reason": "visit"})

    assert response.status_code == 403
    html = page(response)
    assert "无权操作" in html
    assert "您的角色不能执行此操作" in html
    assert "403 Forbidden" not in html
    assert not AccessLog.objects.exists()


def test_it_shows_a_chinese_400_for_a_bad_request(client, db):
    response = client.get("/login/", HTTP_HOST="evil.example")  # not in ALLOWED_HOSTS

    assert response.status_code == 400
    assert "请求无效" in page(response)


def test_it_shows_a_chinese_page_when_the_form_has_expired(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    html = page(response)
    assert "页面已过期" in html
    assert "CSRF verification failed" not in html  # Django's own page


def test_it_shows_a_chinese_500_without_the_request_context():
    request = RequestFactory().get("/pool/villages/")  # no user: bare
    request.session = SessionStore()  # the CSRF token lives in the session

    with translation.override("zh-hans"):  # as LocaleMiddleware left it
        response = defaults.server_error(request)

    assert response.status_code == 500
    html = page(response)
    assert "服务器出错" in html
    assert "<nav" not in html


def test_it_speaks_english_to_an_english_browser(client, db):
    response = client.get("/no-such-page/", **ENGLISH)

    assert response.status_code == 404
    assert "not in your area" in response.content.decode()


def test_a_write_that_waited_out_the_lock_is_a_chinese_busy_page_not_a_500(as_user, monkeypatch):
    """SQLite lets one writer at a time; a request that waited CUNXIN_SQLITE_TIMEOUT for the
    lock gets "busy, send it again" (503, Retry-After), and any other database error stays
    the 500 it is."""
    from django.db import OperationalError

    from cunxin.project import views

    client = as_user("cm_a")
    client.raise_request_exception = False
    original = views.todos_for

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(views, "todos_for", locked)
    response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    html = page(response)
    assert "系统繁忙" in html and "database" not in html

    def broken(*args, **kwargs):
        raise OperationalError("no such table: pool_person")

    monkeypatch.setattr(views, "todos_for", broken)
    assert client.get("/").status_code == 500
    monkeypatch.setattr(views, "todos_for", original)
