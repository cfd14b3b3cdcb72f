"""The evaluation policy as versioned data edited by HQ (DESIGN.md §5): new versions are
validated setting by setting, never change an existing version or a project's policy,
the newest is in force; a project moves to another version only explicitly, with a
reason, audited, and never while a round is open. The pages, per role."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from cunxin.audit.models import AuditEvent
from cunxin.evaluation import actions
from cunxin.evaluation.models import PolicyVersion, RoundKind
from cunxin.evaluation.policy import DEFAULT_NEGATIVE_ITEMS, EvaluationPolicy
from cunxin.evaluation.policy_actions import (
    SETTINGS,
    do_move_project_policy,
    do_new_policy_version,
    parse_items,
)
from cunxin.evaluation.versions import (
    default_policy_version,
    evaluation_policy,
    evaluation_policy_in_force,
)

NOTE = "县联社通知：提高验收比例"


@pytest.fixture
def default(db):
    return default_policy_version()


def new_version(w, based_on, note=NOTE, **data):
    return do_new_policy_version(w.users["hq_admin"], based_on, data, note)


def refusal(w, based_on, **data) -> dict[str, list[str]]:
    """The refusal's messages, in English (the msgids) so the tests read plainly."""
    with translation.override("en"), pytest.raises(ValidationError) as e:
        new_version(w, based_on, **data)
    return e.value.message_dict


# --- validation, setting by setting --------------------------------------------------------
REFUSED = [
    ("negative_items", {}, "at least one"),
    ("negative_items", [("Idle", "游手好闲")], "not a valid key"),
    ("negative_items", [("idle", "游手好闲"), ("idle", "赌博")], "more than once"),
    ("negative_items", [("idle", "")], "no label"),
    ("negative_items", [("idle", "长" * 101)], "longer than"),
    ("graded_items", ["health", "health"], "more than once"),
    ("graded_items", ["身体"], "not a valid key"),
    ("min_valid_reviews", 0, "from 1 to 7"),
    ("min_valid_reviews", 8, "from 1 to 7"),
    ("min_valid_reviews", 2.5, "whole number"),
    ("min_valid_reviews", True, "whole number"),
    ("black_share", 0, "above 0%"),
    ("black_share", 1.01, "at most 100%"),
    ("black_share", "half", "above 0%"),
    ("amount_rule", "max", "median, mean or lowest"),
    ("amount_cap_yuan", 0, "more than 0"),
    ("amount_cap_yuan", "20万", "more than 0"),
    ("conflicting_relations", ["spouse", "neighbour"], "neighbour"),
    ("qa_share", -0.01, "from 0% to 100%"),
    ("qa_share", 1.5, "from 0% to 100%"),
    ("qa_share", float("nan"), "from 0% to 100%"),
    ("visit_amount_threshold_yuan", -1, "0 or more"),
    ("visit_sample_share", 2, "from 0% to 100%"),
]


@pytest.mark.parametrize(("name", "value", "says"), REFUSED, ids=[f"{n}={v!r}"[:40] for n, v, _s in REFUSED])  # fmt: skip
def test_it_refuses_a_wrong_setting_and_names_it(world, default, name, value, says):
    errors = refusal(world, default, **{name: value})

    assert list(errors) == [name]
    assert says in " ".join(errors[name])
    assert PolicyVersion.objects.count() == 1


def test_it_names_every_wrong_setting_at_once(world, default):
    errors = refusal(world, default, min_valid_reviews=0, qa_share=2, amount_rule="max")
    assert set(errors) == {"min_valid_reviews", "qa_share", "amount_rule"}


def test_it_refuses_unknown_settings_and_a_missing_note(world, default):
    errors = refusal(world, default, qa_share=0.1, bonus=1)
    assert "bonus" in " ".join(errors["__all__"])
    with pytest.raises(ValidationError) as e:
        new_version(world, default, note="  ", qa_share=0.1)
    assert list(e.value.message_dict) == ["note"]


def test_it_refuses_a_copy_of_the_version_in_force(world, default):
    with pytest.raises(ValidationError, match="default-1"):
        new_version(world, default)
    v2 = new_version(world, default, qa_share=0.1)
    # an older version issued again is a new version, in force
    v3 = new_version(world, v2, qa_share=0.05)
    assert v3.version == "v3" and evaluation_policy_in_force() == v3
    assert evaluation_policy(v3) == dataclasses.replace(evaluation_policy(default), version="v3")


def test_only_hq_admins_create_versions(world, default):
    for key in ("hq_analyst", "bm_a", "cm_a", "evaluator", "customer"):
        with pytest.raises(PermissionDenied):
            do_new_policy_version(world.users[key], default, {"qa_share": 0.1}, NOTE)
    assert PolicyVersion.objects.count() == 1


def test_the_editor_covers_every_setting_of_the_policy():
    fields = {f.name for f in dataclasses.fields(EvaluationPolicy)} - {"version"}
    assert set(SETTINGS) == fields


def test_parse_items_reads_key_label_lines_with_either_colon():
    text = "idle: 游手好闲\n\n vice：赌博、吸毒 \nno_label\n"
    assert parse_items(text) == [("idle", "游手好闲"), ("vice", "赌博、吸毒"), ("no_label", "")]


# --- versions ------------------------------------------------------------------------------
def test_a_new_version_is_in_force_stores_every_setting_and_is_audited(world, default):
    assert evaluation_policy_in_force() == default
    items = [("idle", "游手好闲"), ("usury", "放高利贷")]

    v2 = new_version(world, default, negative_items=items, qa_share=0.1, amount_rule="min")

    assert (v2.version, v2.created_by) == ("v2", world.users["hq_admin"])
    assert evaluation_policy_in_force() == v2
    policy = evaluation_policy(v2)
    assert policy.negative_items == dict(items) and policy.qa_share == 0.1
    assert policy.amount_rule == "min" and policy.graded_items == EvaluationPolicy().graded_items
    event = AuditEvent.objects.get(action="evaluation.policy.create")
    assert event.object_id == str(v2.pk)
    assert event.before["version"] == "default-1" and event.before["qa_share"] == 0.05
    assert event.after == {"version": "v2", "negative_items": [list(i) for i in items], "qa_share": 0.1,
                           "amount_rule": "min", "note": NOTE}  # fmt: skip
    assert new_version(world, v2, qa_share=0.2).version == "v3"


def test_the_order_of_the_negative_items_is_kept(world, default):
    """jsonb (PostgreSQL) does not keep an object's key order: items are stored as pairs."""
    items = [("zz_last_key_first", "甲"), ("a", "乙"), ("mid", "丙")]
    v2 = new_version(world, default, negative_items=items)
    v2.refresh_from_db()
    assert list(evaluation_policy(v2).negative_items) == ["zz_last_key_first", "a", "mid"]
    # a version that only reorders the items is a change
    v3 = new_version(world, v2, negative_items=list(reversed(items)))
    assert next(iter(evaluation_policy(v3).negative_items)) == "mid"


def test_a_new_version_changes_no_version_and_no_project(world, project):
    started_with = project.policy
    data_before = dict(started_with.data)

    new_version(world, started_with, min_valid_reviews=3, black_share=0.3)

    project.refresh_from_db()
    started_with.refresh_from_db()
    assert project.policy == started_with and started_with.data == data_before
    assert evaluation_policy(project.policy).min_valid_reviews == 2


# --- moving a project ------------------------------------------------------------------------
def test_moving_a_project_is_audited_with_before_after_and_reason(world, project):
    v2 = new_version(world, project.policy, qa_share=0.1)

    do_move_project_policy(world.users["bm_a"], project, v2, "按总行通知调整")

    project.refresh_from_db()
    assert project.policy == v2
    event = AuditEvent.objects.get(action="evaluation.project.policy")
    assert event.object_id == str(project.pk)
    assert event.before == {"policy": "default-1"}
    assert event.after == {"policy": "v2", "reason": "按总行通知调整"}


def test_moving_is_refused_while_a_round_is_open(world, project):
    v2 = new_version(world, project.policy, qa_share=0.1)
    actions.do_open_round(world.users["cm_a"], project, RoundKind.FIRST)

    with translation.override("en"), pytest.raises(ValidationError, match="round"):
        do_move_project_policy(world.users["hq_admin"], project, v2, "调整")

    project.refresh_from_db()
    assert project.policy.version == "default-1"
    assert not AuditEvent.objects.filter(action="evaluation.project.policy").exists()


def test_moving_needs_a_reason_and_another_version(world, project):
    v2 = new_version(world, project.policy, qa_share=0.1)
    with pytest.raises(ValidationError):
        do_move_project_policy(world.users["hq_admin"], project, v2, "  ")
    with pytest.raises(ValidationError):
        do_move_project_policy(world.users["hq_admin"], project, project.policy, "调整")


@pytest.mark.parametrize("key", ["hq_analyst", "bm_b", "cm_a", "evaluator", "customer"])
def test_only_hq_admins_and_the_branch_manager_move_a_project(world, project, key):
    v2 = new_version(world, project.policy, qa_share=0.1)
    with pytest.raises(PermissionDenied):
        do_move_project_policy(world.users[key], project, v2, "调整")


# --- pages -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "status"),
    [("hq_admin", 200), ("hq_analyst", 200), ("bm_a", 200), ("bm_b", 200), ("cm_a", 404),
     ("evaluator", 404), ("customer", 404), ("norole", 404)],
)  # fmt: skip
def test_it_shows_the_policies_to_hq_and_branch_managers(client, world, default, key, status):
    client.force_login(world.users[key])
    assert client.get(reverse("evaluation:policies")).status_code == status
    assert client.get(reverse("evaluation:policy", args=[default.pk])).status_code == status


def test_the_list_says_which_version_is_in_force_and_how_many_projects_use_it(
    client, world, project
):
    new_version(world, project.policy, qa_share=0.1)
    client.force_login(world.users["hq_admin"])

    page = client.get(reverse("evaluation:policies")).content.decode()

    rows = page.split('data-testid="policy-row"')[1:]
    assert len(rows) == 2
    assert "v2" in rows[0] and 'data-testid="in-force"' in rows[0] and NOTE in rows[0]
    assert 'data-testid="in-force"' not in rows[1]
    assert '<td data-testid="policy-projects">0' in rows[0]
    assert '<td data-testid="policy-projects">1' in rows[1]


def test_a_branch_manager_counts_only_the_projects_of_their_branch(client, world, project):
    client.force_login(world.users["bm_b"])
    page = client.get(reverse("evaluation:policies")).content.decode()
    assert '<td data-testid="policy-projects">0' in page


def test_a_version_page_shows_every_setting(client, world, default):
    client.force_login(world.users["hq_analyst"])

    page = client.get(reverse("evaluation:policy", args=[default.pk])).content.decode()

    negative = page.split('data-testid="negative-items"')[1].split("</ol>")[0]
    assert negative.count("<li>") == 13
    assert all(label in negative for label in DEFAULT_NEGATIVE_ITEMS.values())
    graded = page.split('data-testid="graded-items"')[1].split("</ol>")[0]
    assert graded.count("<li>") == 11 and "身体健康状况" in graded
    settings = page.split('data-testid="settings"')[1].split("</dl>")[0]
    assert settings.count("<dt>") == 8
    for shown in ("50%", "5%", "10%", "200,000", "100,000", "配偶", "兄弟姐妹"):
        assert shown in settings
    assert 'data-testid="policy-form"' not in page  # read only


def test_an_hq_admin_creates_a_version_from_the_form(client, world, default):
    client.force_login(world.users["hq_admin"])
    url = reverse("evaluation:policy", args=[default.pk])
    form = client.get(url).context["form"]
    post = {**form, "conflicting_relations": sorted(form["conflicting_relations"])}
    post["negative_items"] += "\nusury：放高利贷"
    post |= {"qa_share": "8", "note": NOTE}

    response = client.post(url, post)

    v2 = PolicyVersion.objects.get(version="v2")
    assert response.status_code == 302 and response.url == reverse(
        "evaluation:policy", args=[v2.pk]
    )
    policy = evaluation_policy(v2)
    assert len(policy.negative_items) == 14 and policy.negative_items["usury"] == "放高利贷"
    assert policy.qa_share == 0.08 and policy.black_share == 0.5
    assert policy.conflicting_relations == EvaluationPolicy().conflicting_relations


def test_the_form_says_what_is_wrong_next_to_the_setting(client, world, default):
    client.force_login(world.users["hq_admin"])
    url = reverse("evaluation:policy", args=[default.pk])
    post = {**client.get(url).context["form"], "note": NOTE, "black_share": "abc",
            "negative_items": "游手好闲"}  # fmt: skip
    post.pop("conflicting_relations")

    response = client.post(url, post)

    assert response.status_code == 400
    assert set(response.context["errors"]) == {"black_share", "negative_items"}
    assert "游手好闲" in response.content.decode()  # what was typed is kept
    assert PolicyVersion.objects.count() == 1


@pytest.mark.parametrize("key", ["hq_analyst", "bm_a"])
def test_readers_may_not_create_a_version(client, world, default, key):
    client.force_login(world.users[key])
    response = client.post(reverse("evaluation:policy", args=[default.pk]), {"note": NOTE})
    assert response.status_code == 403
    assert PolicyVersion.objects.count() == 1


def test_a_branch_manager_moves_a_project_from_the_project_page(client, world, project):
    v2 = new_version(world, project.policy, qa_share=0.1)
    client.force_login(world.users["bm_a"])
    page = client.get(reverse("evaluation:project", args=[project.pk])).content.decode()
    move_url = reverse("evaluation:project_policy", args=[project.pk])
    assert 'data-testid="policy-move"' in page and move_url in page

    fragment = client.get(move_url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert f'value="{v2.pk}"' in fragment.content.decode()
    assert client.get(move_url).content.decode().count("<html") == 1

    assert client.post(move_url, {"version": v2.pk, "reason": ""}).status_code == 400
    response = client.post(move_url, {"version": v2.pk, "reason": "按总行通知调整"})

    assert response.status_code == 302
    assert response.url == reverse("evaluation:project", args=[project.pk])
    project.refresh_from_db()
    assert project.policy == v2


def test_the_move_page_says_why_it_is_refused_while_a_round_is_open(client, world, project):
    v2 = new_version(world, project.policy, qa_share=0.1)
    actions.do_open_round(world.users["cm_a"], project, RoundKind.FIRST)
    client.force_login(world.users["hq_admin"])

    response = client.post(
        reverse("evaluation:project_policy", args=[project.pk]),
        {"version": v2.pk, "reason": "调整"},
    )

    assert response.status_code == 400
    assert 'data-testid="policy-move-error"' in response.content.decode()
    project.refresh_from_db()
    assert project.policy.version == "default-1"


@pytest.mark.parametrize(
    ("key", "status"),
    [("hq_admin", 200), ("bm_a", 200), ("hq_analyst", 403), ("cm_a", 403), ("bm_b", 404),
     ("cm_b", 404), ("evaluator", 404), ("customer", 404), ("norole", 404)],
)  # fmt: skip
def test_who_may_move_a_project(client, world, project, key, status):
    client.force_login(world.users[key])
    url = reverse("evaluation:project_policy", args=[project.pk])
    assert client.get(url).status_code == status
    page = client.get(reverse("evaluation:project", args=[project.pk])).content.decode()
    if status == 200:
        assert 'data-testid="policy-move"' in page
    else:
        assert 'data-testid="policy-move"' not in page


def test_a_new_project_starts_with_the_version_in_force(world, default):
    v2 = new_version(world, default, qa_share=0.2)
    project = actions.do_start_project(world.users["bm_a"], world.villages["VA1"], world.users["cm_a"].staff)  # fmt: skip
    assert project.policy == v2
