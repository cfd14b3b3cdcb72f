"""The demo looks like production (settings.py): DEBUG off, so a wrong or out-of-scope URL
is the app's Chinese 404, not Django's yellow page; static files and the favicon served by
WhiteNoise without DEBUG; plain HTTP on 127.0.0.1 (no secure cookies, no SSL redirect).
Production collects static files with hashed, compressed names.

The settings are read in subprocesses, as `cunxin demo` and a production server start:
pytest's own settings (CUNXIN_DEMO=1, DEBUG forced off) would hide what they choose.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

PRODUCTION = {
    "CUNXIN_SECRET_KEY": "k3y-" + "".join(chr(33 + (i * 7) % 90) for i in range(60)),
    "CUNXIN_ALLOWED_HOSTS": "cunxin.example.com",
    "CUNXIN_FIELD_KEYS": "k1:" + base64.b64encode(b"f" * 32).decode(),
    "CUNXIN_BLIND_INDEX_KEYS": "k1:" + base64.b64encode(b"b" * 32).decode(),
}
PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.test import Client
out = {
    "DEBUG": settings.DEBUG, "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "whitenoise": "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE,
}
if settings.DEMO:
    from django.core.management import call_command
    call_command("migrate", verbosity=0)  # an anonymous page keeps its CSRF token in a session
    client = Client(HTTP_HOST="127.0.0.1")
    page = client.get("/no/such/page/")
    out["404"] = [page.status_code, page.content.decode()]
    for name in ("app.css", "favicon.svg"):
        static = client.get("/static/cunxin/" + name)
        out[name] = [static.status_code, static.get("Content-Type", "")]
    login = client.get("/login/").content.decode()
    out["icon_linked"] = '<link rel="icon" type="image/svg+xml" href="/static/cunxin/favicon.svg">' in login
print(json.dumps(out))
"""


def settings_of(tmp_path, **env) -> dict:
    """What the settings choose, and for the demo what its pages answer."""
    env = {
        "DJANGO_SETTINGS_MODULE": "cunxin.project.settings", "CUNXIN_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin", **env,
    }  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    return settings_of(tmp_path_factory.mktemp("demo"), CUNXIN_DEMO="1")


def test_the_demo_does_not_debug_and_shows_the_chinese_404(demo):
    assert demo["DEBUG"] is False
    status, html = demo["404"]
    assert status == 404
    assert "未找到" in html and 'data-testid="error-page"' in html
    assert "URLconf" not in html and "Page not found" not in html


def test_the_demo_serves_static_files_and_a_favicon_without_debug(demo):
    assert demo["whitenoise"]
    assert demo["app.css"][0] == 200 and demo["app.css"][1].startswith("text/css")
    assert demo["favicon.svg"][0] == 200 and demo["favicon.svg"][1].startswith("image/svg+xml")
    assert demo["icon_linked"]


def test_the_demo_serves_plain_http_on_its_own_address(demo):
    assert demo["SESSION_COOKIE_SECURE"] is False and demo["CSRF_COOKIE_SECURE"] is False
    assert demo["SECURE_SSL_REDIRECT"] is False and demo["SECURE_HSTS_SECONDS"] == 0
    assert demo["storage"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_production_is_https_with_collected_static_files(tmp_path):
    production = settings_of(tmp_path, **PRODUCTION)

    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_SSL_REDIRECT"] and production["SECURE_HSTS_SECONDS"] > 0
    assert production["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert production["whitenoise"]


def test_debugging_is_asked_for_explicitly(tmp_path):
    debug = settings_of(tmp_path, CUNXIN_DEMO="1", CUNXIN_DEBUG="1")

    assert debug["DEBUG"] is True and debug["SESSION_COOKIE_SECURE"] is False


def test_production_collects_static_files_with_hashed_compressed_names(tmp_path):
    env = {
        **PRODUCTION, "DJANGO_SETTINGS_MODULE": "cunxin.project.settings",
        "CUNXIN_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip

    assert out.returncode == 0, out.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["cunxin/app.css"]
    assert hashed != "cunxin/app.css" and (tmp_path / "static" / hashed).exists()
    assert (tmp_path / "static" / f"{hashed}.gz").exists()
    assert "cunxin/favicon.svg" in manifest["paths"]
