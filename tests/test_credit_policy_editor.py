"""The credit policy as versioned data edited by HQ (DESIGN.md §5 "Three amounts"): a new
version is validated part by part and every CEL expression compiled, it is in force from
its effective date (scheduled until then), versions never change, creation is audited.
A version without a date is a draft, in force on no day: tried with a what-if, then
published once with an effective date (audited). The pages, per role."""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cunxin.audit.models import AuditEvent
from cunxin.credit.policy import DEFAULT_HARD_STOPS, CreditPolicy, Preset, from_data, to_data
from cunxin.decisions.actions import do_start_batch_run
from cunxin.decisions.fetch import credit_policy, credit_policy_in_force
from cunxin.decisions.models import BatchRun, CreditPolicyVersion
from cunxin.decisions.policy_actions import do_create_policy_version, do_publish_policy_version
from cunxin.jobs.worker import drain

NOTE = "总行通知：调整一般级额度上限"
CAPS = {"top": 200_000, "excellent": 100_000, "good": 50_000, "fair": 30_000, "decline": 0}


@pytest.fixture
def default(world):
    return credit_policy_in_force()  # the DESIGN.md defaults, stored on first use


def today() -> dt.date:
    return timezone.localdate()


def grades(**caps: int) -> list[dict]:
    data = to_data(CreditPolicy())["grades"]
    return [{**g, "cap_yuan": caps.get(g["key"], g["cap_yuan"])} for g in data]


def create(w, base, changes=None, *, version="v2", effective_from=None, note=NOTE,
           actor="hq_admin"):  # fmt: skip
    """A version as HQ puts one in force: saved as a draft, tried with a what-if over a
    village, published (from today unless `effective_from` says otherwise)."""
    v = draft(w, base, changes, version=version, note=note, actor=actor)
    tried(w, v)
    return publish(w, v, effective_from)


def tried(w, version, village="VA1"):
    """A what-if of the version over a village, run by the worker's code in the test."""
    run = do_start_batch_run(w.users["hq_admin"], BatchRun.Purpose.WHATIF, "village", village,
                      draft=credit_policy(version))  # fmt: skip
    drain()
    run.refresh_from_db()
    return run


def draft(w, base, changes=None, *, version="v2", note=NOTE, actor="hq_admin"):
    """A version saved without an effective date."""
    return do_create_policy_version(w.users[actor], base, changes or {}, version, None, note)


def publish(w, version, effective_from=None, *, actor="hq_admin"):
    return do_publish_policy_version(w.users[actor], version, effective_from or today())


def refusal(w, base, changes=None, **kw) -> dict[str, list[str]]:
    """The refusal's messages, in English (the msgids) so the tests read plainly."""
    with translation.override("en"), pytest.raises(ValidationError) as e:
        create(w, base, changes, **kw)
    return e.value.message_dict


# --- creating versions -------------------------------------------------------------------------
def test_a_new_version_stores_the_changes_is_in_force_today_and_is_audited(world, default):
    changes = {
        "grades": grades(fair=20_000),
        "preset": "median",
        "rounding_yuan": 500,
        "credit_village": {"max_npl_ratio": 0.03},
    }

    v2 = create(world, default, changes)

    assert (v2.version, v2.created_by, v2.note, v2.effective_from) == (
        "v2", world.users["hq_admin"], NOTE, today(),
    )  # fmt: skip
    policy = credit_policy(v2)
    assert [g.cap_yuan for g in policy.grades] == [200_000, 100_000, 50_000, 20_000, 0]
    assert policy.preset is Preset.MEDIAN and policy.rounding_yuan == 500
    assert policy.credit_village.max_npl_ratio == 0.03
    assert policy.credit_village.min_credit_household_share == 0.70  # kept
    assert policy.hard_stops == CreditPolicy().hard_stops and policy.version == "v2"
    assert credit_policy_in_force() == v2
    default.refresh_from_db()
    assert default.data == to_data(CreditPolicy())  # the base never changes
    event = AuditEvent.objects.get(action="decisions.policy.create")
    assert event.object_id == str(v2.pk) and event.actor == world.users["hq_admin"]
    assert event.before["version"] == "default-1" and event.before["preset"] == "min"
    assert event.before["rounding_yuan"] == 1_000
    assert event.after["version"] == "v2" and event.after["preset"] == "median"
    assert event.after["effective_from"] is None and event.after["note"] == NOTE  # a draft
    published = AuditEvent.objects.get(action="decisions.policy.publish")
    assert published.after == {"version": "v2", "effective_from": today().isoformat()}
    assert "capacity" not in event.after  # only what changed
    assert event.after["credit_village"]["max_npl_ratio"] == 0.03


def test_a_future_version_is_scheduled_and_in_force_from_its_date(world, default):
    start = today() + dt.timedelta(days=10)

    v2 = create(world, default, {"rounding_yuan": 100}, effective_from=start)

    assert credit_policy_in_force() == default
    assert credit_policy_in_force(on=start - dt.timedelta(days=1)) == default
    assert credit_policy_in_force(on=start) == v2
    assert credit_policy_in_force(on=start + dt.timedelta(days=365)) == v2


def test_today_is_a_valid_effective_date_and_the_newest_version_wins_the_day(world, default):
    v2 = create(world, default, {"rounding_yuan": 100})
    v3 = create(world, v2, {"rounding_yuan": 10}, version="v3")
    assert credit_policy_in_force() == v3
    assert credit_policy(v3).rounding_yuan == 10


def test_a_decline_cap_of_zero_and_equal_caps_are_allowed(world, default):
    v2 = create(world, default, {"grades": grades(top=50_000, excellent=50_000, good=50_000)})
    assert [g.cap_yuan for g in credit_policy(v2).grades] == [50_000, 50_000, 50_000, 30_000, 0]


def test_a_hard_stop_can_be_turned_off_and_its_label_and_condition_edited(world, default):
    stops = [{"id": r.id, "label": r.label, "when": r.when} for r in DEFAULT_HARD_STOPS]
    stops = [s for s in stops if s["id"] != "age"]
    stops[0] |= {"label": "黑名单或灰名单客户", "when": "'black' in flags || 'grey' in flags"}

    v2 = create(world, default, {"hard_stops": stops})

    policy = credit_policy(v2)
    assert "age" not in [r.id for r in policy.hard_stops]
    assert policy.hard_stops[0].label == "黑名单或灰名单客户"
    assert policy.hard_stops[0].when == "'black' in flags || 'grey' in flags"


# --- validation ----------------------------------------------------------------------------------
def stop(**kw) -> list[dict]:
    """The default hard stops with the first one changed."""
    stops = [{"id": r.id, "label": r.label, "when": r.when} for r in DEFAULT_HARD_STOPS]
    stops[0] = {**stops[0], **kw}
    return stops


def route(**kw) -> list[dict]:
    r = to_data(CreditPolicy())["routes"][0]
    return [{**r, **kw}]


def household(**kw) -> dict:
    return {**to_data(CreditPolicy())["credit_household"], **kw}


REFUSED = [
    ("grades", {"grades": grades(good=-1)}, "from 0 to"),
    ("grades", {"grades": grades(good="5万")}, "whole number"),
    ("grades", {"grades": grades(good=50_000.5)}, "whole number"),
    ("grades", {"grades": grades(top=100_000_001)}, "from 0 to"),
    ("grades", {"grades": grades(fair=60_000)}, "may not increase"),
    ("grades", {"grades": grades(decline=40_000)}, "may not increase"),
    ("grades", {"grades": grades()[:4]}, "scorecard"),
    ("grades", {"grades": "200000"}, "scorecard"),
    ("rounding_yuan", {"rounding_yuan": 0}, "from 1 to"),
    ("rounding_yuan", {"rounding_yuan": 1.5}, "from 1 to"),
    ("rounding_yuan", {"rounding_yuan": True}, "from 1 to"),
    ("preset", {"preset": "max"}, "choose one of"),
    ("min_credit_household_share", {"credit_village": {"min_credit_household_share": 1.01}},
     "from 0% to 100%"),
    ("min_borrowers_without_arrears_share",
     {"credit_village": {"min_borrowers_without_arrears_share": -0.1}}, "from 0% to 100%"),
    ("max_npl_ratio", {"credit_village": {"max_npl_ratio": "5%"}}, "from 0% to 100%"),
    ("max_npl_ratio", {"credit_village": {"max_npl_ratio": float("nan")}}, "from 0% to 100%"),
    ("capacity", {"capacity": "income_yuan *"}, "Syntax error"),
    ("capacity", {"capacity": "foo + 1"}, "undeclared reference to 'foo'"),
    ("capacity", {"capacity": "income_yuan > 2"}, "must give INT"),
    ("capacity", {"capacity": "  "}, "formula is needed"),
    ("hard_stops", {"hard_stops": stop(when="age")}, "must give BOOL"),
    # the amounts are not known yet when the hard stops are evaluated
    ("hard_stops", {"hard_stops": stop(when="final_yuan > 0")}, "undeclared reference"),
    ("hard_stops", {"hard_stops": stop(label="")}, "needs a label"),
    ("hard_stops", {"hard_stops": stop(label="长" * 101)}, "longer than 100"),
    ("hard_stops", {"hard_stops": stop(when="")}, "needs a condition"),
    ("hard_stops", {"hard_stops": stop(id="Black List")}, "not a valid id"),
    ("hard_stops", {"hard_stops": stop(id="age")}, "more than once"),
    ("hard_stops", {"hard_stops": "'black' in flags"}, "id, a label and a condition"),
    ("routes", {"routes": route(when="survey_yuan >")}, "Syntax error"),
    ("credit_household", {"credit_household": household(when="final_yuan")}, "must give BOOL"),
    ("credit_household", {"credit_household": household(label=" ")}, "needs a label"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "changes", "says"), REFUSED, ids=[f"{n}:{s}" for n, _c, s in REFUSED])  # fmt: skip
def test_it_refuses_a_wrong_part_and_names_it(world, default, name, changes, says):
    errors = refusal(world, default, changes)

    assert list(errors) == [name]
    assert says in " ".join(errors[name])
    assert CreditPolicyVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(action="decisions.policy.create").exists()


def test_a_wrong_expression_is_refused_with_the_compilers_message(world, default):
    errors = refusal(world, default, {"hard_stops": stop(when="'black' in flag")})

    [message] = errors["hard_stops"]
    assert "黑名单客户" in message  # the rule's label
    assert "undeclared reference to 'flag'" in message  # compile_policy's PolicyError


def test_every_wrong_expression_and_part_is_named_at_once(world, default):
    with translation.override("en"), pytest.raises(ValidationError) as e:
        do_create_policy_version(world.users["hq_admin"], default, {
            "capacity": "foo", "hard_stops": stop(when="1"), "routes": route(when="x"),
            "rounding_yuan": 0, "preset": "max",
        }, "bad name", today() - dt.timedelta(days=1), "")  # fmt: skip
    errors = e.value.message_dict

    assert set(errors) == {"capacity", "hard_stops", "routes", "rounding_yuan", "preset",
                           "version", "effective_from", "note"}  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "name", "says"),
    [
        ({"version": "v 2"}, "version", "letters, digits"),
        ({"version": "版本2"}, "version", "letters, digits"),
        ({"version": "v" * 33}, "version", "1 to 32"),
        ({"version": "default-1"}, "version", "exists already"),
        ({"version": "DEFAULT-1"}, "version", "exists already"),
        ({"effective_from": dt.date(2000, 1, 2)}, "effective_from", "not in the past"),
        ({"effective_from": "2025-13-01"}, "effective_from", "a date"),
        ({"note": "  "}, "note", "what changes and why"),
        ({"note": "长" * 501}, "note", "longer than 500"),
    ],
)
def test_it_refuses_a_wrong_name_date_or_note(world, default, kw, name, says):
    errors = refusal(world, default, {"rounding_yuan": 100}, **kw)
    assert list(errors) == [name]
    assert says.lower() in " ".join(errors[name]).lower()


def test_it_refuses_unknown_parts(world, default):
    errors = refusal(world, default, {"bonus": 1, "credit_village": {"max_npl": 0.1}})
    assert "bonus" in " ".join(errors["__all__"]) and "max_npl" in " ".join(errors["__all__"])


@pytest.mark.parametrize("key", ["hq_analyst", "bm_a", "cm_a", "evaluator", "customer", "norole"])
def test_only_hq_admins_create_versions(world, default, key):
    with pytest.raises(PermissionDenied):
        create(world, default, {"rounding_yuan": 100}, actor=key)
    assert CreditPolicyVersion.objects.count() == 1


# --- pages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "status"),
    [("hq_admin", 200), ("hq_analyst", 200), ("bm_a", 200), ("bm_b", 200), ("cm_a", 404),
     ("cm_b", 404), ("evaluator", 404), ("customer", 404), ("norole", 404)],
)  # fmt: skip
def test_it_shows_the_policy_to_hq_and_branch_managers(client, world, default, key, status):
    client.force_login(world.users[key])
    assert client.get(reverse("decisions:policies")).status_code == status
    assert client.get(reverse("decisions:policy", args=[default.pk])).status_code == status


def test_signed_out_users_are_sent_to_sign_in(client, default):
    response = client.get(reverse("decisions:policy", args=[default.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def rows(page: str) -> dict[str, str]:
    """The list's rows by version name: their status."""
    out = {}
    for row in page.split('data-testid="policy-row"')[1:]:
        version = row.split('data-version="')[1].split('"')[0]
        out[version] = row.split('data-status="')[1].split('"')[0]
    return out


def test_the_list_says_which_version_is_in_force_scheduled_or_superseded(client, world, default):
    later = today() + dt.timedelta(days=30)
    create(world, default, {"rounding_yuan": 100}, version="v2")
    create(world, default, {"rounding_yuan": 10}, version="v3", effective_from=later,
           note="下月起执行")  # fmt: skip
    client.force_login(world.users["bm_a"])

    page = client.get(reverse("decisions:policies")).content.decode()

    assert rows(page) == {"v3": "scheduled", "v2": "in_force", "default-1": "superseded"}
    assert list(rows(page)) == ["v3", "v2", "default-1"]  # the latest effective date first
    v3_row = page.split('data-version="v3"')[1].split("</tr>")[0]
    assert "下月起执行" in v3_row and later.isoformat() in v3_row and "hq_admin" in v3_row


def test_a_version_page_shows_everything_it_says(client, world, default):
    client.force_login(world.users["hq_analyst"])

    response = client.get(reverse("decisions:policy", args=[default.pk]))

    page = response.content.decode()
    assert response.context["status"] == "in_force"
    stops = page.split('data-testid="hard-stops"')[1].split("</ol>")[0]
    assert stops.count("<li>") == 5
    for r in DEFAULT_HARD_STOPS:
        assert r.label in stops and html.escape(r.when) in stops
    grades_table = page.split('data-testid="grades"')[1].split("</table>")[0]
    assert grades_table.count("<tr>") == 6  # the header and five grades
    for name, cap in (("特优", "200,000"), ("一般", "30,000"), ("不授信", "0")):
        assert name in grades_table and cap in grades_table
    assert html.escape(CreditPolicy().capacity) in page.split('data-testid="capacity"')[1]
    assert 'data-preset="min"' in page
    assert "1,000" in page.split('data-testid="rounding"')[1].split("</p>")[0]
    routes = page.split('data-testid="routes"')[1].split("</ol>")[0]
    assert "需支行行长审批" in routes
    assert "信用户：" in page.split('data-testid="credit-household"')[1]
    village = page.split('data-testid="credit-village"')[1].split("</dl>")[0]
    assert [v for v in ("70%", "85%", "5%") if f"<dd>{v}</dd>" in village] == ["70%", "85%", "5%"]
    assert 'data-testid="policy-form"' not in page  # read only


def test_the_what_if_link_appears_once_there_is_a_what_if_page(client, world, default):
    client.force_login(world.users["hq_analyst"])
    page = client.get(reverse("decisions:policy", args=[default.pk])).content.decode()
    try:
        whatif = reverse("decisions:whatif")
    except NoReverseMatch:
        assert 'data-testid="whatif-link"' not in page
    else:
        assert f'href="{whatif}?policy={default.pk}" data-testid="whatif-link"' in page


def form_post(form: dict, **fields) -> dict:
    """The new-version form as the browser posts it (`form` from the page's context)."""
    post = {k: form[k] for k in ("version", "effective_from", "note", "preset",
                                 "rounding_yuan", "capacity")}  # fmt: skip
    for g in form["grades"]:
        post[f"cap-{g['key']}"] = g["cap"]
    for r in form["stops"]:
        if r["on"]:
            post[f"stop-{r['id']}-on"] = "on"
        post[f"stop-{r['id']}-label"], post[f"stop-{r['id']}-when"] = r["label"], r["when"]
    for r in form["routes"]:
        post[f"route-{r['id']}-label"], post[f"route-{r['id']}-when"] = r["label"], r["when"]
    post["credit_household-label"] = form["credit_household"]["label"]
    post["credit_household-when"] = form["credit_household"]["when"]
    for s in form["shares"]:
        post[s["name"]] = s["value"]
    return {**post, "note": NOTE, **fields}


def test_an_hq_admin_creates_a_version_from_the_form(client, world, default):
    client.force_login(world.users["hq_admin"])
    url = reverse("decisions:policy", args=[default.pk])
    form = client.get(url).context["form"]
    assert form["version"] == "v2" and form["effective_from"] == ""  # always a draft
    start = today() + dt.timedelta(days=7)
    post = form_post(form, **{
        "cap-fair": "20,000", "preset": "survey", "rounding_yuan": "500",
        "min_credit_household_share": "75%",
        "route-survey_far_from_base-label": "调查额度偏离超过20%",
        "route-survey_far_from_base-when":
            "has_survey && (survey_yuan * 10 > base_yuan * 12 || survey_yuan * 10 < base_yuan * 8)",
    })  # fmt: skip
    del post["stop-age-on"]

    response = client.post(url, post)

    v2 = CreditPolicyVersion.objects.get(version="v2")
    assert response.status_code == 302
    assert response.url == reverse("decisions:policy", args=[v2.pk])
    policy = credit_policy(v2)
    assert [g.cap_yuan for g in policy.grades] == [200_000, 100_000, 50_000, 20_000, 0]
    assert policy.preset is Preset.SURVEY and policy.rounding_yuan == 500
    assert policy.credit_village.min_credit_household_share == 0.75
    assert [r.id for r in policy.hard_stops] == [
        "blacklisted", "court_defaulter", "negative_upheld", "not_evaluated",
    ]  # fmt: skip
    assert (
        policy.routes[0].label == "调查额度偏离超过20%"
        and "base_yuan * 12" in policy.routes[0].when
    )
    assert v2.effective_from is None and v2.note == NOTE  # a draft
    tried(world, v2)
    published = client.post(reverse("decisions:policy_publish", args=[v2.pk]),
                            {"effective_from": start.isoformat()})  # fmt: skip
    assert published.status_code == 302
    v2.refresh_from_db()
    assert v2.effective_from == start
    assert v2.published_by == world.users["hq_admin"] and v2.published_at is not None
    assert credit_policy_in_force() == default  # scheduled
    page = client.get(response.url)
    assert page.context["status"] == "scheduled"


def test_a_hard_stop_turned_off_can_be_turned_on_again_from_the_form(client, world, default):
    stops = [s for s in stop() if s["id"] != "age"]
    v2 = create(world, default, {"hard_stops": stops})
    client.force_login(world.users["hq_admin"])
    url = reverse("decisions:policy", args=[v2.pk])
    form = client.get(url).context["form"]
    age = next(r for r in form["stops"] if r["id"] == "age")
    assert not age["on"] and age["when"] == "age < 18 || age > 65"

    response = client.post(
        url, form_post(form, **{"stop-age-on": "on", "stop-age-when": "age < 20"})
    )

    assert response.status_code == 302
    v3 = CreditPolicyVersion.objects.get(version="v3")
    assert credit_policy(v3).hard_stops[-1].when == "age < 20"


def test_the_form_is_shown_again_with_what_was_typed_and_the_messages(client, world, default):
    client.force_login(world.users["hq_admin"])
    url = reverse("decisions:policy", args=[default.pk])
    post = form_post(client.get(url).context["form"], **{
        "capacity": "income_yuan * 3 + bonus_yuan", "cap-good": "五万",
        "max_npl_ratio": "120", "version": "default-1",
    })  # fmt: skip

    response = client.post(url, post)

    assert response.status_code == 400
    errors = response.context["errors"]
    assert set(errors) == {"capacity", "grades", "max_npl_ratio", "version"}
    page = response.content.decode()
    for name in errors:
        assert f'data-testid="error-{name}"' in page
    assert "undeclared reference to &#x27;bonus_yuan&#x27;" in page  # the compiler's message
    assert "income_yuan * 3 + bonus_yuan" in page and 'value="五万"' in page  # as typed
    assert 'value="120"' in page and '<details class="card policy-new" open>' in page
    assert CreditPolicyVersion.objects.count() == 1


def test_the_form_messages_are_translated(client, world, default):
    client.force_login(world.users["hq_admin"])
    url = reverse("decisions:policy", args=[default.pk])
    post = form_post(client.get(url).context["form"], note="")

    response = client.post(url, post)

    assert response.status_code == 400
    assert response.context["errors"]["note"] == [gettext("Say what changes and why.")]


@pytest.mark.parametrize("key", ["hq_analyst", "bm_a", "bm_b"])
def test_readers_may_not_create_a_version(client, world, default, key):
    client.force_login(world.users["hq_admin"])
    post = form_post(client.get(reverse("decisions:policy", args=[default.pk])).context["form"])
    client.force_login(world.users[key])

    response = client.post(reverse("decisions:policy", args=[default.pk]), post)

    assert response.status_code == 403
    assert CreditPolicyVersion.objects.count() == 1


def test_a_customer_manager_cannot_post_either(client, world, default):
    client.force_login(world.users["cm_a"])
    response = client.post(reverse("decisions:policy", args=[default.pk]), {"note": NOTE})
    assert response.status_code == 404


def test_the_list_accepts_only_get(client, world, default):
    client.force_login(world.users["hq_admin"])
    assert client.post(reverse("decisions:policies")).status_code == 405
    assert client.put(reverse("decisions:policy", args=[default.pk])).status_code == 405


# --- drafts: tried with a what-if, then published -----------------------------------------------
def test_a_version_without_a_date_is_a_draft_in_force_on_no_day(world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})

    assert v2.effective_from is None and v2.published_at is None and v2.published_by is None
    assert credit_policy(v2).rounding_yuan == 100
    assert credit_policy_in_force() == default
    assert credit_policy_in_force(on=today() + dt.timedelta(days=10_000)) == default
    event = AuditEvent.objects.get(action="decisions.policy.create")
    assert event.object_id == str(v2.pk) and event.after["effective_from"] is None


def test_drafts_come_first_in_the_default_order(world, default):
    v2 = create(world, default, {"rounding_yuan": 100})
    v3 = draft(world, v2, {"rounding_yuan": 10}, version="v3")
    assert list(CreditPolicyVersion.objects.all()) == [v3, v2, default]


def test_publishing_a_draft_sets_its_date_and_is_audited(world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)

    publish(world, v2)

    v2.refresh_from_db()
    assert v2.effective_from == today() and v2.published_by == world.users["hq_admin"]
    assert v2.published_at is not None and credit_policy_in_force() == v2
    assert credit_policy(v2).rounding_yuan == 100  # the policy is the draft's, unchanged
    event = AuditEvent.objects.get(action="decisions.policy.publish")
    assert event.object_id == str(v2.pk) and event.actor == world.users["hq_admin"]
    assert event.before == {"version": "v2", "effective_from": None}
    assert event.after == {"version": "v2", "effective_from": today().isoformat()}


def test_a_draft_published_for_a_later_day_is_scheduled(world, default):
    start = today() + dt.timedelta(days=10)
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)

    publish(world, v2, start)

    assert credit_policy_in_force() == default and credit_policy_in_force(on=start) == v2


def test_a_version_is_published_once(world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)
    publish(world, v2)
    stale = CreditPolicyVersion.objects.get(pk=v2.pk)
    stale.effective_from = None  # as another admin's page still shows it

    for version in (v2, stale, default):
        with pytest.raises(ValidationError) as e:
            publish(world, version, today() + dt.timedelta(days=5))
        assert list(e.value.message_dict) == ["__all__"]

    v2.refresh_from_db()
    assert v2.effective_from == today()
    assert AuditEvent.objects.filter(action="decisions.policy.publish").count() == 1


@pytest.mark.parametrize(
    ("effective_from", "says"),
    [(dt.date(2000, 1, 2), "not in the past"), ("2025-13-01", "a date"), ("", "a date")],
)
def test_publishing_refuses_a_past_or_wrong_date(world, default, effective_from, says):
    v2 = draft(world, default, {"rounding_yuan": 100})

    with translation.override("en"), pytest.raises(ValidationError) as e:
        do_publish_policy_version(world.users["hq_admin"], v2, effective_from)

    assert list(e.value.message_dict) == ["effective_from"]
    assert says in " ".join(e.value.message_dict["effective_from"]).lower()
    v2.refresh_from_db()
    assert v2.effective_from is None
    assert not AuditEvent.objects.filter(action="decisions.policy.publish").exists()


def test_publishing_compiles_the_policy_again(world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    CreditPolicyVersion.objects.filter(pk=v2.pk).update(data={**v2.data, "capacity": "foo + 1"})
    v2.refresh_from_db()

    with translation.override("en"), pytest.raises(ValidationError) as e:
        publish(world, v2)

    assert "undeclared reference to 'foo'" in " ".join(e.value.message_dict["__all__"])
    v2.refresh_from_db()
    assert v2.effective_from is None and credit_policy_in_force() == default


@pytest.mark.parametrize("key", ["hq_analyst", "bm_a", "cm_a", "evaluator", "customer", "norole"])
def test_only_hq_admins_publish(world, default, key):
    v2 = draft(world, default, {"rounding_yuan": 100})
    with pytest.raises(PermissionDenied):
        publish(world, v2, actor=key)
    v2.refresh_from_db()
    assert v2.effective_from is None


def test_a_whatif_over_a_draft_compares_it_and_leaves_the_policy_in_force(scored, default):
    """GIVEN a draft lowering the 较好 cap to 40,000, WHEN HQ runs it over VA1, THEN 李芳
    (较好, 50,000) is capped and the draft is still a draft, in force on no day."""
    w = scored
    v2 = draft(w, default, {"grades": grades(good=40_000)})

    run = do_start_batch_run(w.users["hq_admin"], BatchRun.Purpose.WHATIF, "village", "VA1",
                      draft=from_data(v2.data))  # fmt: skip
    drain()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.SUCCEEDED, run.error
    assert run.draft["version"] == "v2" and run.policy == default
    assert run.counts["before"]["amount_yuan"] - run.counts["after"]["amount_yuan"] == 10_000
    assert credit_policy_in_force() == default
    v2.refresh_from_db()
    assert v2.effective_from is None


def test_a_whatif_over_a_draft_starts_from_the_page(client, scored, default):
    w = scored
    v2 = draft(w, default, {"grades": grades(good=40_000)})
    client.force_login(w.users["hq_admin"])

    response = client.post(reverse("decisions:whatif"), {
        "policy": str(v2.pk), "kind": "village", "village": "VA1",
    })  # fmt: skip

    run = BatchRun.objects.get(purpose=BatchRun.Purpose.WHATIF)
    assert response.status_code == 302 and run.draft["version"] == "v2"
    assert credit_policy_in_force() == default
    assert CreditPolicyVersion.objects.get(pk=v2.pk).effective_from is None


def test_the_list_shows_drafts_first(client, world, default):
    create(world, default, {"rounding_yuan": 100}, version="v2")
    draft(world, default, {"rounding_yuan": 10}, version="v3")
    client.force_login(world.users["bm_a"])

    page = client.get(reverse("decisions:policies")).content.decode()

    assert rows(page) == {"v3": "draft", "v2": "in_force", "default-1": "superseded"}
    assert list(rows(page)) == ["v3", "v2", "default-1"]
    v3_row = page.split('data-version="v3"')[1].split("</li>")[0]
    assert gettext("draft") in v3_row and gettext("not published") in v3_row


def test_a_drafts_page_offers_the_whatif_and_to_hq_admins_the_publish_form(client, world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)
    url = reverse("decisions:policy", args=[v2.pk])
    whatif = f'href="{reverse("decisions:whatif")}?policy={v2.pk}" data-testid="whatif-link"'
    publish_url = reverse("decisions:policy_publish", args=[v2.pk])

    seen = {}
    for key in ("hq_admin", "hq_analyst", "bm_a"):
        client.force_login(world.users[key])
        response = client.get(url)
        page = response.content.decode()
        assert response.context["status"] == "draft"
        assert 'data-testid="draft-box"' in page
        seen[key] = (whatif in page, f'action="{publish_url}"' in page)

    # the what-if page is HQ's: a branch manager would get a 404 there
    assert seen == {"hq_admin": (True, True), "hq_analyst": (True, False), "bm_a": (False, False)}


def test_a_published_versions_page_has_no_publish_form(client, world, default):
    client.force_login(world.users["hq_admin"])
    page = client.get(reverse("decisions:policy", args=[default.pk])).content.decode()
    assert 'data-testid="publish-form"' not in page and 'data-testid="draft-box"' not in page


def test_an_hq_admin_saves_a_draft_from_the_form(client, world, default):
    client.force_login(world.users["hq_admin"])
    url = reverse("decisions:policy", args=[default.pk])
    post = form_post(client.get(url).context["form"], **{"rounding_yuan": "500"})
    assert post["effective_from"] == ""

    response = client.post(url, post)

    v2 = CreditPolicyVersion.objects.get(version="v2")
    assert response.status_code == 302
    assert response.url == reverse("decisions:policy", args=[v2.pk])
    assert v2.effective_from is None and credit_policy(v2).rounding_yuan == 500
    assert credit_policy_in_force() == default


def test_an_hq_admin_publishes_a_draft_from_its_page(client, world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)
    client.force_login(world.users["hq_admin"])
    start = today() + dt.timedelta(days=3)

    response = client.post(
        reverse("decisions:policy_publish", args=[v2.pk]), {"effective_from": start.isoformat()}
    )

    assert response.status_code == 302
    assert response.url == reverse("decisions:policy", args=[v2.pk])
    v2.refresh_from_db()
    assert v2.effective_from == start and v2.published_by == world.users["hq_admin"]
    page = client.get(response.url)
    assert page.context["status"] == "scheduled"
    assert 'data-testid="published"' in page.content.decode()


def test_a_past_date_is_refused_on_the_page_with_the_message(client, world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)
    client.force_login(world.users["hq_admin"])
    yesterday = today() - dt.timedelta(days=1)

    response = client.post(
        reverse("decisions:policy_publish", args=[v2.pk]),
        {"effective_from": yesterday.isoformat()},
    )

    assert response.status_code == 400
    message = gettext("%(field)s: today (%(today)s) or later, not in the past.") % {
        "field": gettext("Effective from"), "today": today().isoformat(),
    }  # fmt: skip
    assert response.context["publish_errors"] == {"effective_from": [message]}
    page = response.content.decode()
    assert 'data-testid="error-publish-effective_from"' in page and html.escape(message) in page
    assert f'value="{yesterday.isoformat()}"' in page  # as typed
    v2.refresh_from_db()
    assert v2.effective_from is None


def test_publishing_twice_from_the_page_is_refused(client, world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    tried(world, v2)
    publish(world, v2)
    client.force_login(world.users["hq_admin"])

    response = client.post(
        reverse("decisions:policy_publish", args=[v2.pk]), {"effective_from": today().isoformat()}
    )

    assert response.status_code == 400
    assert 'data-testid="error-publish"' in response.content.decode()
    assert AuditEvent.objects.filter(action="decisions.policy.publish").count() == 1


@pytest.mark.parametrize(
    ("key", "status"),
    [("hq_analyst", 403), ("bm_a", 403), ("bm_b", 403), ("cm_a", 404), ("evaluator", 404),
     ("customer", 404), ("norole", 404)],
)  # fmt: skip
def test_only_hq_admins_publish_from_the_page(client, world, default, key, status):
    v2 = draft(world, default, {"rounding_yuan": 100})
    client.force_login(world.users[key])

    response = client.post(
        reverse("decisions:policy_publish", args=[v2.pk]), {"effective_from": today().isoformat()}
    )

    assert response.status_code == status
    v2.refresh_from_db()
    assert v2.effective_from is None


def test_the_publish_url_accepts_only_post(client, world, default):
    v2 = draft(world, default, {"rounding_yuan": 100})
    client.force_login(world.users["hq_admin"])
    assert client.get(reverse("decisions:policy_publish", args=[v2.pk])).status_code == 405


# --- on a phone ----------------------------------------------------------------------------------
@pytest.fixture
def bank(transactional_db, settings):
    """The small bank of tests/world.py, committed so that the live server sees it."""
    from appendonly import allow_flush
    from world import make_world

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield make_world()
    allow_flush()  # the audit trail is append-only: lift its triggers for the flush


def test_the_policy_pages_and_the_editor_fit_a_phone(live_server, phone_page, bank):
    """390 px wide, no sideways scrolling: the list, a version, the open form, the form
    refused with a compiler message (long, in a monospace font), and a draft's page with
    its what-if link and publish form."""
    page, base = phone_page, live_server.url

    artifacts = Path(os.environ.get("CUNXIN_TEST_ARTIFACTS", "test-artifacts")) / "browser"
    artifacts.mkdir(parents=True, exist_ok=True)
    shots = iter(["p01-credit-policies.png", "p02-credit-policy-form.png",
                  "p03-credit-policy-refused.png", "p04-credit-policy-draft-untried.png",
                  "p05-credit-policy-draft.png"])  # fmt: skip

    def fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 391, f"horizontal scrolling at 390 px: {width} px"
        page.screenshot(path=str(artifacts / next(shots)), full_page=True)

    page.context.add_cookies(
        [{"name": "sessionid", "value": session_of(bank.users["hq_admin"]), "url": base}]
    )
    create(bank, credit_policy_in_force(), {"rounding_yuan": 100},
           effective_from=today() + dt.timedelta(days=3), note="下月起执行" * 20)  # fmt: skip
    assert page.goto(f"{base}{reverse('decisions:policies')}").status == 200
    assert page.get_by_test_id("policy-row").count() == 2
    fits()
    page.locator("[data-testid=policy-row] a").first.click()
    page.locator("details.policy-new > summary").click()
    fits()
    page.locator("#f-capacity").fill("income_yuan * 2 + assets_yuan / 10 - liabilities_yuan + x")
    page.locator("#f-version").fill("v3")
    page.locator("#f-note").fill(NOTE)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("[data-testid=policy-form] button[type=submit]").click()
    assert answer.value.status == 400
    assert page.get_by_test_id("error-capacity").is_visible()
    fits()
    v3 = draft(
        bank, credit_policy_in_force(), {"rounding_yuan": 10}, version="v3", note="试算后再发布"
    )
    assert page.goto(f"{base}{reverse('decisions:policy', args=[v3.pk])}").status == 200
    assert page.get_by_test_id("whatif-link").is_visible()
    assert page.get_by_test_id("whatif-needed").is_visible()  # no what-if yet: no publishing
    assert page.get_by_test_id("publish-button").count() == 0
    fits()
    tried(bank, v3)
    assert page.goto(f"{base}{reverse('decisions:policy', args=[v3.pk])}").status == 200
    assert page.get_by_test_id("publish-button").is_visible()
    fits()


def session_of(user) -> str:
    """A signed-in session for `user` (no sign-in page: this test is about the editor)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
