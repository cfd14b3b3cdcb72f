"""The browser's second line of defence (issue 11 §5): a Content-Security-Policy on every
HTML page that allows no inline script or style (so templates carry neither), and the
JSON API answering a CSRF failure in JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

TEMPLATES = sorted(Path(settings.BASE_DIR).rglob("templates/**/*.html"))


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 40


# Rendered when something is broken, without static files: its styles are inline, and its
# responses' policy allows that (project/security.py error_page_styles).
INLINE_STYLE_ALLOWED = {"project/templates/500.html"}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_template_has_inline_script_or_style(path):
    text = path.read_text(encoding="utf-8")
    assert "style=" not in text, "an inline style attribute: use a class of app.css"
    if str(path.relative_to(settings.BASE_DIR)) not in INLINE_STYLE_ALLOWED:
        assert "<style" not in text, "a <style> element: put it in app.css"
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script: {tag}"
    assert not re.search(r"\son[a-z]+=", text), "an inline event handler: use a static .js"
    assert "hx-on" not in text and "javascript:" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["login", "code_login"])
def test_pages_carry_a_strict_policy(client, url):
    response = client.get(reverse(url))

    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert not any("unsafe" in v for values in policy.values() for v in values)


def test_a_signed_in_page_carries_it_and_the_photo_keeps_its_own(as_user, world):
    client = as_user("cm_a")
    page = client.get(reverse("pool:person", args=["Pa11"]))
    photo = client.get(reverse("pool:photo", args=["Pa11"]))

    assert policy_of(page)["script-src"] == ["'self'"]
    assert photo["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"


def test_the_api_answers_a_csrf_failure_in_json_in_chinese(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["bm_a"])

    response = client.post(
        reverse("decisions:api_decision_action", args=[1, "approve"]),
        data=json.dumps({"reason": "同意"}), content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF" in response.json()["error"] and "令牌" in response.json()["error"]


def test_a_page_still_answers_a_csrf_failure_with_the_chinese_page(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["cm_a"])

    response = client.post(reverse("pool:village", args=["VA1"]), {"q": "张伟"})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "页面已过期" in response.content.decode()


def test_only_a_server_error_page_may_style_itself_inline(rf):
    from django.http import HttpResponse

    from cunxin.project.security import error_page_styles

    failed = error_page_styles(lambda r: HttpResponse("x", status=500))(rf.get("/"))
    fine = error_page_styles(lambda r: HttpResponse("x"))(rf.get("/"))

    assert failed._csp_replace == {"style-src": ["'self'", "'unsafe-inline'"]}
    assert not hasattr(fine, "_csp_replace")
