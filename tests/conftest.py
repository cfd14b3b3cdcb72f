"""Shared test set-up.

Optional components (Spark, PostgreSQL, Chromium) make their tests skip when absent,
except when CUNXIN_REQUIRE names them (CI sets CUNXIN_REQUIRE=spark,postgres,chromium):
then an absent component fails the test instead of skipping it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The tests run on the demo's built-in keys and secrets (and subprocesses inherit this).
os.environ.setdefault("CUNXIN_DEMO", "1")

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


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Tests create many users: the fast MD5 hasher keeps set-up short (tests only)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


CHROMIUM = os.environ.get("CUNXIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


def chromium_available() -> tuple[bool, str]:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (
            False,
            f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CUNXIN_CHROMIUM)",
        )
    if importlib.util.find_spec("playwright") is None:
        return False, "the playwright package is not installed (uv sync)"
    return True, ""


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's, not a Playwright download) driven by Playwright."""
    ok, why = chromium_available()
    need("chromium", ok, why)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps its event loop registered as running on this thread,
    # which trips Django's async-safety check on ORM calls made by the test (and by the
    # transactional_db flush); the calls are in fact synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone_page(browser):
    """A page in a fresh context (own cookies) the size of a phone, in Chinese."""
    context = browser.new_context(**PHONE)
    # The app has no favicon: answer Chromium's automatic request here, so that it neither
    # logs a 404 nor reaches the live server while the test database is being flushed.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, single-threaded when the test database is in-memory
    SQLite. There every server thread shares the test's one connection, so two requests
    at once (a household page loads its members' photos together) fail with "database
    table is locked". On PostgreSQL it stays threaded, as pytest-django makes it."""
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
    from pytest_django.live_server_helper import LiveServer

    class SingleThreadedLiveServerThread(LiveServerThread):
        def _create_server(self, connections_override=None):
            return WSGIServer(
                (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
            )

    addr = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    if server.thread.connections_override:
        server.thread.__class__ = SingleThreadedLiveServerThread
    server.start()
    yield server
    server.stop()


# --- an evaluation in village VA1 (tests/test_evaluation_*.py) ----------------------------
def make_evaluator(world, username, person):
    from django.contrib.auth import get_user_model

    from cunxin.org.models import Role, Staff
    from world import PASSWORD

    user = get_user_model().objects.create_user(username, password=PASSWORD)
    Staff.objects.create(user=user, role=Role.EVALUATOR, display_name=username,
                         village=world.villages["VA1"], person=person)  # fmt: skip
    return user


def add_evaluation_village(world):
    """VA1 gains two households; evaluators: ev1 (李芳, of household Ha1), ev2 (Ha4),
    ev3 (Ha5, sibling of 张伟 of Ha1) and ev4 (no person record)."""
    from cunxin.pool.models import Household
    from world import make_person

    va1 = world.villages["VA1"]
    for key, head, birth, seq, phone in (
        ("a4", "周强", "19790606", 51, "13800000051"),
        ("a5", "张军", "19780707", 61, None),
    ):
        h = Household.objects.create(
            uid=f"H{key}", household_no=key, head_uid=f"P{key}1", head_name=head, village=va1,
            grid=world.grids["GA1a"], member_count=1, content_hash="x", publish_run=world.run,
        )  # fmt: skip
        make_person(world, f"{key}1", h, name=head, birth=birth, seq=seq, phone=phone,
                    relation="户主", index=0, village=va1)  # fmt: skip
    p = world.persons["a51"]
    p.relations = [["Pa11", "sibling", "grid"]]
    p.save(update_fields=["relations"])
    world.users["ev1"] = world.users["evaluator"]
    world.users["ev2"] = make_evaluator(world, "ev2", world.persons["a41"])
    world.users["ev3"] = make_evaluator(world, "ev3", world.persons["a51"])
    world.users["ev4"] = make_evaluator(world, "ev4", None)
    return world


@pytest.fixture
def village(world):
    return add_evaluation_village(world)


@pytest.fixture
def project(village):
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole

    w = village
    project = actions.do_start_project(w.users["bm_a"], w.villages["VA1"], w.users["cm_a"].staff)
    for key in ("ev1", "ev2", "ev3", "ev4"):
        actions.do_add_panel_member(
            w.users["cm_a"], project, w.users[key].staff, PanelRole.REPRESENTATIVE
        )
    return project


def run_first_round(w, project):
    """Open and close a first round in VA1 with reviews that give: 张伟 (Pa11) white
    125,000 (above the visit threshold), 李芳 (Pa12) white 50,000, 周强 (Pa41) grey (one
    negative item of three), 张军 (Pa51) white 50,000. Returns the closed round."""
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import RoundKind

    rnd = actions.do_open_round(w.users["cm_a"], project, RoundKind.FIRST)
    reviews = {
        "a11": {"ev2": 120_000, "ev4": 130_000},
        "a12": {"ev2": 40_000, "ev4": 60_000},
        "a41": {"ev1": 30_000, "ev3": 30_000, "ev4": 30_000},
        "a51": {"ev1": 50_000, "ev2": 50_000},
    }
    for person, by in reviews.items():
        for ev, amount in by.items():
            negative = ["vice"] if (person, ev) == ("a41", "ev1") else []
            actions.do_save_review(w.users[ev], rnd, w.persons[person], knows_household=True,
                                   negative_items=negative, graded={"health": 4},
                                   amount_yuan=amount, submit=True)  # fmt: skip
    actions.do_close_round(w.users["cm_a"], rnd)
    return rnd


def sign_off(w, project):
    """First round (run_first_round), no re-review, the branch manager's sign-off."""
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import RoundKind

    run_first_round(w, project)
    rnd = actions.do_open_round(w.users["bm_a"], project, RoundKind.SIGN_OFF)
    actions.do_close_round(w.users["bm_a"], rnd)
    return rnd


@pytest.fixture(autouse=True)
def bank_language():
    """Every test starts in the app's language (zh-Hans, as a user's request would): a
    message a test reads outside a request must not depend on which test ran before."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def committed(transactional_db):
    """Rows committed for real (concurrency tests on PostgreSQL); the end-of-test flush
    lifts the append-only triggers (tests/appendonly.py)."""
    from appendonly import allow_flush

    yield
    allow_flush()


def give_scores(
    w, grades: dict[str, str], income_yuan: int = 60_000, assets_yuan: int = 0
) -> object:
    """An active model version scoring the given persons (key → model grade key), and a
    household income (and assets) in their 360 profiles: capacity = 2 × income + assets /
    10 = 120,000 yuan by default."""
    from cunxin.decisions.models import ModelScore, ModelVersion

    model = ModelVersion.objects.create(model_id="test-model", data={"grades": []},
                                        created_by="test", active=True)  # fmt: skip
    scores = {"top": 620, "excellent": 590, "good": 570, "fair": 560, "decline": 500}
    for key, grade in grades.items():
        person = w.persons[key]
        person.profile = {
            **person.profile, "income": {"household_income_fen": income_yuan * 100},
            "assets": {"household_assets_fen": assets_yuan * 100},
        }  # fmt: skip
        # published as columns too (what a decision reads)
        person.household_income_fen, person.household_assets_fen = income_yuan * 100, assets_yuan * 100  # fmt: skip
        person.save(update_fields=["profile", "household_income_fen", "household_assets_fen"])
        ModelScore.objects.create(model=model, person=person, score=scores[grade], grade=grade)
    return model


SCORED_GRADES = {"a11": "excellent", "a12": "good", "a41": "good", "a51": "top"}


@pytest.fixture
def scored(village, project):
    """VA1 signed off, with an active model grading four of its persons (SCORED_GRADES)."""
    sign_off(village, project)
    give_scores(village, SCORED_GRADES)
    return village


# --- the task worker as a process of its own (cunxin.jobs) -------------------------------
def worker_env(marker=None) -> dict:
    """Environment for a `cunxin worker` subprocess on this test's (committed) database,
    beating every second, stale after three."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{s['NAME']}"
    else:
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    tests = os.path.dirname(os.path.abspath(__file__))
    return {
        **os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cunxin.project.settings",
        "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")]),
        "CUNXIN_WORKER_BEAT_SECONDS": "1", "CUNXIN_WORKER_STALE_SECONDS": "3",
        "CUNXIN_TEST_MARKER": str(marker or ""),
    }  # fmt: skip


def start_worker(env: dict):
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "cunxin.cli", "worker", "--interval", "0.2"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def stop_worker(proc) -> None:
    """SIGTERM (the worker finishes its task and stops), SIGKILL if it does not."""
    import signal
    import subprocess

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(predicate, proc, what: str, seconds: float = 120) -> None:
    """Wait for `predicate()` while the worker `proc` lives (a bound on waiting, not a
    speed check)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the worker ended while waiting for {what}: {proc.stderr.read().decode()}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def task_worker(transactional_db):
    """A `cunxin worker` process on the test database while the test runs (browser tests
    whose pages start background runs)."""
    proc = start_worker(worker_env())
    yield proc
    stop_worker(proc)
