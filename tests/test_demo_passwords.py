"""The demo's passwords (org/demo.py): made once per demo folder, kept in a file only its
owner reads, the same on the next `cunxin demo` over that folder."""

from __future__ import annotations

import json
import os
import stat

import pytest

from cunxin.org.demo import kept_passwords


def test_demo_passwords_are_made_once_and_kept_owner_only(tmp_path):
    path = tmp_path / "demo" / "demo-passwords.json"

    first = kept_passwords(path, ["cm", "bm"])
    again = kept_passwords(path, ["cm", "bm"])

    assert first == again and len(set(first.values())) == 2
    assert all(len(p) >= 12 for p in first.values())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == first


def test_a_new_demo_user_gets_a_password_and_the_others_keep_theirs(tmp_path):
    path = tmp_path / "demo-passwords.json"
    path.write_text(json.dumps({"cm": "kept-password-123"}))
    os.chmod(path, 0o644)  # written by hand: made owner-only when it is rewritten

    passwords = kept_passwords(path, ["cm", "bm"])

    assert passwords["cm"] == "kept-password-123" and passwords["bm"]
    assert json.loads(path.read_text()) == passwords
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_unreadable_password_file_is_replaced(tmp_path):
    path = tmp_path / "demo-passwords.json"
    path.write_text("not json")

    passwords = kept_passwords(path, ["cm"])

    assert json.loads(path.read_text()) == passwords


@pytest.mark.django_db
def test_running_the_demo_setup_twice_keeps_the_passwords(world, tmp_path, fast_passwords):
    from django.contrib.auth import get_user_model

    from cunxin.org.demo import PASSWORDS_FILE, setup_demo_org

    path = tmp_path / PASSWORDS_FILE
    first = {u.username: u.password for u in setup_demo_org(path)}
    second = {u.username: u.password for u in setup_demo_org(path)}

    assert first == second
    assert {"hq-admin", "hq-analyst", "bm", "cm", "evaluator", "customer"} <= set(first)
    assert get_user_model().objects.get(username="cm").check_password(first["cm"])
