"""Shared test set-up.

Optional components (Spark, PostgreSQL, Chromium) make their tests skip when absent,
except when CUNXIN_REQUIRE names them (CI sets CUNXIN_REQUIRE=spark,postgres): then an
absent component fails the test instead of skipping it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REQUIRED = {c.strip() for c in os.environ.get("CUNXIN_REQUIRE", "").split(",") if c.strip()}


def need(component: str, available: bool, why: str) -> None:
    """Skip (or, if CUNXIN_REQUIRE names `component`, fail) when it is not available."""
    if available:
        return
    if component in REQUIRED:
        pytest.fail(f"{component} is required (CUNXIN_REQUIRE) but {why}", pytrace=False)
    pytest.skip(why)


def spark_available() -> tuple[bool, str]:
    if importlib.util.find_spec("pyspark") is None:
        return False, "pyspark is not installed (uv sync --extra spark)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return False, "no Java runtime for Spark"
    return True, ""


@pytest.fixture(scope="session")
def spark_ok() -> None:
    ok, why = spark_available()
    need("spark", ok, why)


@pytest.fixture
def postgres_db(db) -> None:
    from django.db import connection

    need("postgres", connection.vendor == "postgresql", f"tests run on {connection.vendor}, "
         "set DATABASE_URL=postgres://... to run them on PostgreSQL")  # fmt: skip


@pytest.fixture
def world(db):
    """A small bank (tests/world.py): branches, villages, households, a user per role."""
    from world import make_world

    return make_world()


@pytest.fixture
def as_user(client, world):
    """Sign the test client in as one of the world's users: `as_user("cm_a")`."""

    def sign_in(key: str):
        client.force_login(world.users[key])
        return client

    return sign_in
