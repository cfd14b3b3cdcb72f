"""No input gives a 5xx (issue 11 §2): every POST URL of the app, every field it reads,
malformed values, every role of the world.

The URL patterns come from the URLconf (but admin/): every name is either a POST target
below, with the fields its view reads and the objects its URL needs, or in GET_ONLY; a
URL added later fails `test_every_url_of_the_app_is_listed` until it is listed here. A
GET_ONLY URL must answer a POST with 405.

For every POST target, each role of the world posts every field malformed at once, and
the role that may act (`actor`) posts each field malformed alone, the others valid (so
that a value the form lets through reaches the action): non-ASCII digits ("５", "5²"), a
huge number, nothing, "abc" where an id goes, a NUL character, 100,000
characters, a list where one value goes (and each field left out). The JSON API gets wrong types in its body as
well. The world holds objects of every kind the views act on: an open first round (VA1),
a signed-off project with visit tasks, QA checks and a proposed decision (VA2), an open
re-review (VB1), draft policy versions, a segment, a model.

Each URL is one test in a savepoint of a world built once for the module; the client
answers a view's exception as a 500 (`raise_request_exception=False`) instead of raising
it, so the status is what is asserted. Several hundred requests, run on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import get_resolver, reverse

from cunxin.evaluation.versions import evaluation_policy_in_force
from cunxin.org.models import Role, Staff
from cunxin.pool.models import Segment

ROLES = (
    "hq_admin", "hq_analyst", "bm_a", "bm_b", "cm_a", "cm_b",
    "evaluator", "customer", "norole", "anonymous",
)  # fmt: skip
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUGE = str(10**30)
LONG = "x" * 100_000
# what a form post may carry where the view expects one value
BAD = ["５", "5²", HUGE, "", "abc", "a\x00b", LONG, ["1", "abc"]]
# what a JSON body may carry
BAD_JSON = [None, 5, 10**30, 1.5, True, [], ["a"], {}, {"a": 1}, LONG, "a\x00b", "５"]


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def signature() -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (60, 30), (255, 255, 255, 0))
    ImageDraw.Draw(image).line((2, 2, 58, 28), fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def upload(name: str = "photo.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png() if content is None else content)


# files a form may get instead of what it wants
BAD_FILES = [b"", b"not an image at all", b"PK\x03\x04 not a zip"]


@dataclass(frozen=True)
class Target:
    """A POST URL: its arguments (literals or keys of `world.refs`), the fields its view
    reads with a valid value each (callables are called per request: files are read once),
    the role that may act, and which fields are files."""

    args: tuple[str, ...]
    fields: dict
    actor: str
    files: frozenset[str] = field(default_factory=frozenset)
    json: bool = False


TARGETS: dict[str, Target] = {
    # --- sign-in and the user's own account -------------------------------------------
    "login": Target((), {"username": "cm_a", "password": "not-the-password"}, "anonymous"),
    "logout": Target((), {}, "cm_a"),
    "code_login": Target((), {"phone": "13800000012"}, "anonymous"),
    "code_verify": Target((), {"code": "123456"}, "anonymous"),
    "password_change": Target(
        (),
        {
            "old_password": "wrong",
            "new_password1": "x",
            "new_password2": "y",
        },
        "cm_a",
    ),
    # --- evaluation ---------------------------------------------------------------------
    "evaluation:round_results": Target(
        ("round:VA2-first",), {"color": "grey", "group": "VA2G1", "name": "王", "page": "1"}, "bm_a"
    ),
    "evaluation:review": Target(
        ("round:first", "Ha4"),
        {
            "action": "draft",
            "knows-Pa41": "yes",
            "neg-Pa41": "vice",
            "grade-Pa41-health": "4",
            "amount-Pa41": "30000",
        },
        "evaluator",
    ),
    "evaluation:projects": Target((), {"village": "VA1", "responsible": "staff:cm_a"}, "bm_a"),
    "evaluation:panel_add": Target(
        ("project:VA1",),
        {
            "staff": "staff:ev5",
            "role": "representative",
            "alternate": "on",
        },
        "cm_a",
    ),
    "evaluation:panel_remove": Target(("project:VA1", "member:ev4"), {"reason": "搬走了"}, "cm_a"),
    "evaluation:round_open": Target(("project:VB1",), {"kind": "sign_off"}, "cm_b"),
    "evaluation:round_close": Target(("round:rereview",), {}, "cm_b"),
    "evaluation:rereview": Target(
        ("round:rereview",),
        {
            "person": "Pb11",
            "color": "grey",
            "amount": "20000",
            "reason": "常年在外",
        },
        "cm_b",
    ),
    "evaluation:qa_check": Target(
        ("qa:VA2",),
        {
            "result": "fail",
            "note": "不符",
            "photo": upload,
            "signature": signature,
            "latitude": "34.5",
            "longitude": "119.2",
        },
        "bm_a",
        files=frozenset({"photo"}),
    ),
    "evaluation:policy": Target(
        ("evaluation_policy",),
        {
            "negative_items": "vice: 赌博\nidle: 游手好闲",
            "graded_items": "health",
            "min_valid_reviews": "2",
            "black_share": "50",
            "amount_rule": "median",
            "amount_cap_yuan": "200000",
            "conflicting_relations": "spouse",
            "qa_share": "5",
            "visit_amount_threshold_yuan": "100000",
            "visit_sample_share": "10",
            "note": "试",
        },
        "hq_admin",
    ),
    "evaluation:project_policy": Target(
        ("project:VB1",),
        {
            "version": "evaluation_policy_2",
            "reason": "试行",
        },
        "hq_admin",
    ),
    "evaluation:sheets": Target(
        ("project:VA1",),
        {
            "member": "member:ev2",
            "sheet": lambda: upload("sheet.xlsx", b"PK\x03\x04"),
        },
        "cm_a",
        files=frozenset({"sheet"}),
    ),
    # --- the customer pool --------------------------------------------------------------
    "pool:village": Target(
        ("VA1",),
        {
            "q": "张伟",
            "show": "persons",
            "color": "white",
            "tag": "age:31-45岁",
            "page": "1",
        },
        "cm_a",
    ),
    "pool:reveal": Target(("Pa11", "phone"), {"reason": "visit", "note": "走访"}, "cm_a"),
    "pool:segments": Target(
        (),
        {
            "name": "灰名单户",
            "tags": "age:31-45岁",
            "colors": "grey",
        },
        "cm_a",
    ),
    "pool:segment_delete": Target(("segment",), {}, "cm_a"),
    # --- staff --------------------------------------------------------------------------
    "org:staff_list": Target(
        (),
        {
            "username": "cm_new",
            "password": "another-horse-77",
            "role": "customer_manager",
            "display_name": "新客户经理",
            "branch": "ZHA",
            "village": "",
            "person": "",
        },
        "hq_admin",
    ),
    "org:staff_change": Target(
        ("staff:cm_a",),
        {
            "role": "customer_manager",
            "branch": "ZHA",
            "active": "on",
            "village": "",
        },
        "hq_admin",
    ),
    "org:staff_assign": Target(("staff:cm_a",), {"village": "VA2", "grid": ""}, "bm_a"),
    "org:assignment_end": Target(("assignment:cm_a@VA1",), {}, "bm_a"),
    # --- visits -------------------------------------------------------------------------
    "visits:visit": Target(
        ("task:Ha2",),
        {
            "mode": "phone",
            "notes": "在家",
            "lat": "34.5",
            "lon": "119.2",
            "photos": upload,
            "confirmed-Pa21": "on",
            "survey-Pa21": "50000",
            "color-Pa21": "grey",
            "amount-Pa21": "20000",
            "reason-Pa21": "负债",
        },
        "cm_a",
        files=frozenset({"photos"}),
    ),
    # --- credit -------------------------------------------------------------------------
    "decisions:decision": Target(("decision",), {"action": "reject", "reason": "收入存疑"}, "bm_a"),
    "decisions:propose": Target(("Pa21",), {}, "cm_a"),
    "decisions:api_decision_action": Target(
        ("decision", "reject"), {"reason": "收入存疑"}, "bm_a", json=True
    ),
    "decisions:policy": Target(
        ("credit_policy",),
        {
            "version": "v9",
            "effective_from": "",
            "note": "试",
            "preset": "min",
            "rounding_yuan": "1000",
            "capacity": "income_yuan * 2",
            "cap-top": "200000",
            "stop-blacklisted-on": "on",
            "stop-blacklisted-label": "黑名单客户",
            "stop-blacklisted-when": "'black' in flags",
            "route-survey_far_from_base-label": "偏离",
            "route-survey_far_from_base-when": "false",
            "credit_household-label": "信用户",
            "credit_household-when": "final_yuan > 0",
            "min_credit_household_share": "70",
        },
        "hq_admin",
    ),
    "decisions:policy_publish": Target(
        ("credit_draft",), {"effective_from": "2030-01-01"}, "hq_admin"
    ),
    "decisions:models": Target((), {"model": "model"}, "hq_admin"),
    "decisions:batch_rerun": Target(("batch:interrupted",), {}, "bm_a"),
    "decisions:batches": Target((), {"kind": "village", "village": "VA1", "branch": "ZHA"}, "bm_a"),
    "decisions:whatif": Target(
        (),
        {
            "policy": "credit_draft",
            "kind": "village",
            "village": "VA1",
            "branch": "ZHA",
        },
        "hq_admin",
    ),
}

TARGETS |= {
    # --- publishing from the page, and running a background run again (cunxin.jobs) ------
    "pool:publish_start": Target((), {}, "hq_admin"),
    "pool:publish_rerun": Target(("publish:interrupted",), {}, "hq_admin"),
}

# URLs that take no POST (405); their arguments, to reverse them
GET_ONLY: dict[str, tuple[str, ...]] = {
    "home": (), "evaluation:home": (), "evaluation:photo": ("round:first", "Pa41"),
    "evaluation:project": ("project:VA1",), "evaluation:sheet_export": ("project:VA1", "member:ev2"),
    "evaluation:policies": (),
    "evaluation:qa": (), "evaluation:qa_project": ("project:VA2",),
    "evaluation:qa_photo": ("qa:VA2",), "evaluation:qa_signature": ("qa:VA2",),
    "password_change_done": (), "pool:villages": (), "pool:household": ("Ha1",),
    "pool:person": ("Pa11",), "pool:photo": ("Pa11",), "pool:segment": ("segment",),
    "pool:segment_export": ("segment",), "access_log": (), "pool:publish_runs": (),
    "audit": (), "org:staff": ("staff:cm_a",), "visits:tasks": (),
    "visits:photo": ("task:Ha2", "1"),
    "visits:project": ("project:VA2",), "decisions:list": (), "decisions:api_decision": ("decision",),
    "decisions:policies": (), "decisions:batch": ("999",), "decisions:batch_whitelist": ("999",),
    "decisions:batch_sheet": ("999", "VA1"), "decisions:ratings": (),
}  # fmt: skip
NOT_ATTACKED = {"healthz"}  # no input at all


def url_names(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if hasattr(p, "url_patterns"):
            if p.namespace != "admin":
                yield from url_names(p, f"{prefix}{p.namespace}:" if p.namespace else prefix)
        elif p.name:
            yield prefix + p.name


# --- the world ---------------------------------------------------------------------------------
def _evaluators(w, village: str, n: int, *, start: int) -> list:
    from conftest import make_evaluator

    users = []
    for i in range(start, start + n):
        user = make_evaluator(w, f"ev{i}", None)
        user.staff.village = w.villages[village]
        user.staff.save(update_fields=["village"])
        w.users[f"ev{i}"] = user
        users.append(user)
    return users


def _project(w, village: str, actor: str, responsible: str, panel: list):
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import PanelRole

    project = actions.do_start_project(
        w.users[actor], w.villages[village], w.users[responsible].staff
    )
    for user in panel:
        actions.do_add_panel_member(w.users[actor], project, user.staff, PanelRole.REPRESENTATIVE)
    return project


def _review_and_close(w, project, persons: list[str], evaluators: list, actor: str):
    from cunxin.evaluation import actions
    from cunxin.evaluation.models import RoundKind

    rnd = actions.do_open_round(w.users[actor], project, RoundKind.FIRST)
    for key in persons:
        for user in evaluators:
            actions.do_save_review(user, rnd, w.persons[key], knows_household=True,
                                   negative_items=[], graded={"health": 4},
                                   amount_yuan=150_000, submit=True)  # fmt: skip
    actions.do_close_round(w.users[actor], rnd)
    return rnd


def build(w) -> None:
    """VA1: an open first round (the world's evaluator on its panel). VA2: signed off, with
    a visit task for cm_a (Ha2, grid GA2), QA checks and a proposed decision for Pa21.
    VB1: its first round closed, the re-review open. Policy versions to choose from."""
    from conftest import add_evaluation_village, give_scores
    from cunxin.credit.policy import from_data
    from cunxin.decisions.actions import do_propose
    from cunxin.decisions.fetch import credit_policy_in_force
    from cunxin.decisions.policy_actions import do_create_policy_version
    from cunxin.evaluation import actions, policy_actions
    from cunxin.evaluation.models import QaCheck, RoundKind
    from cunxin.visits.models import VisitTask

    add_evaluation_village(w)
    refs = w.refs
    # VA1: the first round is open
    va1 = _project(w, "VA1", "bm_a", "cm_a", [w.users[k] for k in ("ev1", "ev2", "ev3", "ev4")])
    refs["round:first"] = str(actions.do_open_round(w.users["cm_a"], va1, RoundKind.FIRST).pk)
    _evaluators(w, "VA1", 1, start=5)  # ev5: not on the panel yet
    # VA2: signed off, with its tasks, its QA sample and a decision
    va2_panel = _evaluators(w, "VA2", 3, start=10)
    va2 = _project(w, "VA2", "bm_a", "cm_a", va2_panel)
    first = _review_and_close(w, va2, ["a21", "a31"], va2_panel, "bm_a")
    refs["round:VA2-first"] = str(first.pk)
    sign = actions.do_open_round(w.users["bm_a"], va2, RoundKind.SIGN_OFF)
    actions.do_close_round(w.users["bm_a"], sign)
    refs["task:Ha2"] = str(VisitTask.objects.get(household_id="Ha2").pk)
    refs["qa:VA2"] = str(QaCheck.objects.filter(review__round=first).first().pk)
    give_scores(w, {"a21": "good", "a31": "good", "a11": "good"})
    decision = do_propose(w.users["cm_a"], w.persons["a21"])
    refs["decision"] = str(decision.pk)
    # VB1: the re-review is open
    vb1_panel = _evaluators(w, "VB1", 3, start=20)
    vb1 = _project(w, "VB1", "bm_b", "cm_b", vb1_panel)
    _review_and_close(w, vb1, ["b11"], vb1_panel, "bm_b")
    refs["round:rereview"] = str(actions.do_open_round(w.users["bm_b"], vb1, RoundKind.RE_REVIEW).pk)  # fmt: skip
    for key, project in (("VA1", va1), ("VA2", va2), ("VB1", vb1)):
        refs[f"project:{key}"] = str(project.pk)
    for member in va1.panel.select_related("staff__user"):
        refs[f"member:{member.staff.user.username}"] = str(member.pk)
    # policy versions: the evaluation's in force and a second one; a credit draft
    in_force = evaluation_policy_in_force()
    refs["evaluation_policy"] = str(in_force.pk)
    second = policy_actions.do_new_policy_version(
        w.users["hq_admin"], in_force, {"min_valid_reviews": 3}, "第二版"
    )
    refs["evaluation_policy_2"] = str(second.pk)
    credit = credit_policy_in_force()
    refs["credit_policy"] = str(credit.pk)
    draft = do_create_policy_version(w.users["hq_admin"], credit, {}, "v2", None, "草稿")
    assert from_data(draft.data)
    refs["credit_draft"] = str(draft.pk)
    from cunxin.decisions.models import ModelVersion

    refs["model"] = str(ModelVersion.objects.get().pk)
    # runs of the task worker that stopped: to be run again
    from cunxin.decisions.models import BatchRun
    from cunxin.pool.models import PublishRun

    refs["batch:interrupted"] = str(BatchRun.objects.create(
        purpose=BatchRun.Purpose.PRECREDIT, scope_kind="village", scope_code="VA1",
        scope_name="东湖村", policy=credit, started_by=w.users["bm_a"],
        status=BatchRun.Status.INTERRUPTED,
    ).pk)  # fmt: skip
    refs["publish:interrupted"] = str(PublishRun.objects.create(
        pool_dir="/nonexistent", published_by="ops", status=PublishRun.Status.INTERRUPTED,
    ).pk)  # fmt: skip
    segment = Segment.objects.create(
        name="灰名单", tags=["age:31-45岁"], colors=["grey"], created_by=w.users["cm_a"]
    )
    refs["segment"] = str(segment.pk)
    for member in Staff.objects.select_related("user"):
        refs[f"staff:{member.user.username}"] = str(member.pk)
    from cunxin.org.models import Assignment

    for a in Assignment.objects.filter(village__isnull=False).select_related("staff__user"):
        refs[f"assignment:{a.staff.user.username}@{a.village_id}"] = str(a.pk)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world (tests/world.py) with the objects of `build`, once for the module, in a
    transaction rolled back at the end; a signed-in session per role."""
    from world import make_world

    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        make_password("warm-up")
        with transaction.atomic():
            w = make_world()
            w.refs = {}
            build(w)
            w.sessions = {}
            for key in ROLES:
                if key == "anonymous":
                    continue
                client = Client()
                client.force_login(w.users[key])
                w.sessions[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield w
            transaction.set_rollback(True)


def client_as(world, role: str) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def resolve(world, value):
    """A field's value for one request: a reference to a world object as its key, a
    callable called (a fresh upload), anything else as it is."""
    if callable(value):
        return value()
    if isinstance(value, str):
        return world.refs.get(value, value)
    return value


def post(client: Client, url: str, target: Target, data: dict):
    if target.json:
        return client.post(url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


def check(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


def malformed(target: Target, bad, world) -> dict:
    """Every field of the target set to `bad` (a file field gets a bad file)."""
    data = {}
    for name in target.fields:
        if name in target.files:
            data[name] = upload("bad.png", BAD_FILES[len(str(bad)) % len(BAD_FILES)])
        else:
            data[name] = bad
    return data


# --- the tests ----------------------------------------------------------------------------------
def test_every_url_of_the_app_is_listed():
    """A new URL joins TARGETS (it takes a POST) or GET_ONLY (admin/ aside)."""
    names = set(url_names())
    listed = set(TARGETS) | set(GET_ONLY) | NOT_ATTACKED
    assert names - listed == set(), "not listed here"
    assert listed - names == set(), "listed but not in the URLconf"
    assert not set(TARGETS) & set(GET_ONLY)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_input_gives_a_server_error(name, world, db):
    target = TARGETS[name]
    url = reverse(name, args=[resolve(world, a) for a in target.args])
    # every role, with every field malformed at once (a different kind of bad per role)
    for n, role in enumerate(ROLES):
        bad = BAD[n % len(BAD)] if not target.json else BAD_JSON[n % len(BAD_JSON)]
        response = post(client_as(world, role), url, target, malformed(target, bad, world))
        check(response, f"{name} as {role}, every field {str(bad)[:20]!r}")
    # the role that may act: each field malformed alone, the others valid
    client = client_as(world, target.actor)
    valid = {k: resolve(world, v) for k, v in target.fields.items()}
    response = post(client, url, target, valid)
    check(response, f"{name} as {target.actor}, valid")
    for field_name in target.fields:
        values = BAD_FILES if field_name in target.files else (BAD_JSON if target.json else BAD)
        for bad in values:
            data = {k: resolve(world, v) for k, v in target.fields.items()}
            data[field_name] = upload("bad.png", bad) if field_name in target.files else bad
            check(post(client, url, target, data), f"{name}: {field_name}={str(bad)[:20]!r}")
        # a field left out
        data = {k: resolve(world, v) for k, v in target.fields.items() if k != field_name}
        check(post(client, url, target, data), f"{name}: without {field_name}")


def test_the_json_api_refuses_bodies_that_are_not_an_object(world, db):
    url = reverse("decisions:api_decision_action", args=[world.refs["decision"], "reject"])
    client = client_as(world, "bm_a")
    for body in ("[]", '"reason"', "5", "null", "{", "\xff", json.dumps({"reason": LONG})):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, body[:20]
        assert "error" in response.json()


@pytest.mark.parametrize("name", sorted(GET_ONLY))
def test_a_get_only_url_answers_a_post_with_405(name, world, db):
    url = reverse(name, args=[resolve(world, a) for a in GET_ONLY[name]])
    response = client_as(world, "hq_admin").post(url, {"x": LONG})
    assert response.status_code == 405


# What the pages read from their query string, every one of them malformed at once.
QUERY = ("page", "status", "show", "color", "tag", "q", "lat", "lon", "policy", "kind")


@pytest.mark.parametrize("role", ["hq_admin", "cm_a"])
def test_no_query_string_gives_a_server_error(role, world, db):
    """Every page that takes a GET, with each of the query parameters the views read set
    to a malformed value (one kind of bad a request)."""
    client = client_as(world, role)
    for name, args in sorted({**GET_ONLY, **{n: t.args for n, t in TARGETS.items()}}.items()):
        if name in ("logout",) or (TARGETS.get(name) and TARGETS[name].json):
            continue
        url = reverse(name, args=[resolve(world, a) for a in args])
        for bad in (LONG, "5²"):
            response = client.get(url, dict.fromkeys(QUERY, bad))
            check(response, f"GET {name} as {role} with {bad[:20]!r}")


REF_PREFIXES = ("round:", "project:", "member:", "qa:", "task:", "staff:", "assignment:")


def test_the_world_has_what_the_targets_need(world, db):
    """Every reference the targets use names a world object (a typo would attack a 404)."""
    used = {a for t in TARGETS.values() for a in t.args} | set().union(*GET_ONLY.values())
    used |= {v for t in TARGETS.values() for v in t.fields.values() if isinstance(v, str)}
    refs = {u for u in used if u.startswith(REF_PREFIXES)} | {
        "decision", "segment", "evaluation_policy", "evaluation_policy_2", "credit_policy",
        "credit_draft", "model",
    }  # fmt: skip
    assert refs - set(world.refs) == set()
    assert get_user_model().objects.filter(username="ev5").exists()
    assert Staff.objects.filter(role=Role.EVALUATOR, village_id="VA2").count() == 3


# --- what the attack run found (issue 11 §5, "Malformed or huge input gives 500") ----------
def errors_on(response) -> str:
    """The text of the page's error lists (next to the fields, or above the form)."""
    import re
    from html import unescape

    html = response.content.decode()
    found = re.findall(r'class="error(?:s|list)[^"]*"[^>]*>(.*?)</(?:ul|div|p)>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", " ".join(found)))


def test_malformed_ids_on_the_project_and_sheet_pages_are_refused_with_a_message(world, db):
    """GIVEN responsible=abc, staff=abc, member=abc (500s before) WHEN posted THEN 400,
    each with its field's message on the page."""
    from django.utils.translation import gettext

    bm, cm = client_as(world, "bm_a"), client_as(world, "cm_a")
    response = bm.post(reverse("evaluation:projects"), {"village": "VA1", "responsible": "abc"})
    assert response.status_code == 400
    assert gettext("Choose a customer manager.") in errors_on(response)
    project = world.refs["project:VA1"]
    response = cm.post(reverse("evaluation:panel_add", args=[project]), {"staff": "abc"})
    assert response.status_code == 400 and gettext("Choose an evaluator.") in errors_on(response)
    response = cm.post(
        reverse("evaluation:sheets", args=[project]),
        {"member": "abc", "sheet": upload("sheet.xlsx", b"PK\x03\x04")},
    )
    assert response.status_code == 400
    assert gettext("Choose a panel member.") in errors_on(response)


def test_a_superscript_amount_is_refused_next_to_the_amount_and_kept(world, db):
    """GIVEN "5²" (str.isdigit() is True, int() fails: a 500 before) as a re-review amount
    THEN a 400 whose message is under the amount, and the typed value is shown again."""
    from django.utils.translation import gettext

    url = reverse("evaluation:rereview", args=[world.refs["round:rereview"]])
    response = client_as(world, "cm_b").post(
        url, {"person": "Pb11", "color": "grey", "amount": "5²", "reason": "常年在外"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert gettext("Enter a whole number of yuan, in digits.") in errors_on(response)
    assert 'value="5²"' in html and 'value="常年在外"' in html
    full_width = client_as(world, "cm_b").post(
        url, {"person": "Pb11", "color": "grey", "amount": "２００００", "reason": "常年在外"}
    )
    assert full_width.status_code == 302  # what a Chinese keyboard types is 20000


def test_a_huge_search_is_refused_instead_of_a_huge_like_pattern(world, db):
    """GIVEN a 100,000-character search (SQLite: "LIKE or GLOB pattern too complex") or
    tag filter THEN a 400 that says how long a search may be."""
    from cunxin.pool.forms import MAX_SEARCH

    url = reverse("pool:village", args=["VA1"])
    client = client_as(world, "cm_a")
    response = client.post(url, {"q": LONG})
    assert response.status_code == 400 and str(MAX_SEARCH) in errors_on(response)
    assert client.get(url, {"tag": LONG}).status_code == 400
    assert client.post(url, {"q": "张伟"}).status_code == 200


def test_a_huge_segment_tag_is_refused_and_one_stored_before_breaks_no_page(world, db):
    """GIVEN a 100,000-character tag (accepted before; then every page of the segment was a
    500) THEN the segment is refused; and a segment stored with such a tag shows 0 persons."""
    client = client_as(world, "cm_a")
    count = Segment.objects.count()
    response = client.post(reverse("pool:segments"), {"name": "长标签", "tags": f"age:{LONG}"})
    assert response.status_code == 400 and Segment.objects.count() == count
    stored = Segment.objects.create(name="旧", tags=[f"age:{LONG}"], created_by=world.users["cm_a"])
    for name in ("pool:segment", "pool:segment_export"):
        assert client.get(reverse(name, args=[stored.pk])).status_code == 200, name
    assert client.get(reverse("pool:segments")).status_code == 200
