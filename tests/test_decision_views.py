"""The credit decision pages and API (decisions/views.py, decisions/api.py): the credit
section of the 360 page, proposing, the checker's approve / reject / refer back / undo,
the refusals (409 state, 400 reason, 403 who, 404 scope), the list and the JSON API.

User-visible text is compared through gettext (the catalogue grows later), never as a
literal; mostly the tests read data-testid attributes, statuses and the database.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from conftest import give_scores, sign_off
from cunxin.decisions import actions
from cunxin.decisions.explain import explain, texts
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.models import ACTION_LABELS, Decision, Status
from cunxin.org.models import Role


@pytest.fixture
def signed(village, project):
    """VA1 signed off (conftest.sign_off), an active model that grades 张伟 (Pa11) 优秀,
    and his household's income and assets: the policy gives him 100,000 yuan."""
    w = village
    sign_off(w, project)
    give_scores(w, {"a11": "excellent", "a12": "good"}, income_yuan=60_000, assets_yuan=500_000)
    return w


def propose(w, key: str = "a11") -> Decision:
    return actions.do_propose(w.users["cm_a"], w.persons[key])


def page_url(decision: Decision) -> str:
    return reverse("decisions:decision", args=[decision.pk])


def api_url(decision: Decision, action: str = "") -> str:
    if action:
        return reverse("decisions:api_decision_action", args=[decision.pk, action])
    return reverse("decisions:api_decision", args=[decision.pk])


def reasons_on(html: str, testid: str = "why-this-amount") -> list[str]:
    """The sentences of an explanation list on a page."""
    block = re.search(rf'data-testid="{testid}">(.*?)</ol>', html, re.S)
    assert block, f"no {testid} on the page"
    return [unescape(t) for t in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


def error_on(html: str) -> str:
    found = re.search(r'data-testid="error">(.*?)</p>', html, re.S)
    assert found, "no error on the page"
    return unescape(found.group(1))


def status_of(decision: Decision) -> str:
    decision.refresh_from_db()
    return decision.status


# --- the 360 page and proposing --------------------------------------------------------------
@pytest.mark.django_db
def test_it_previews_and_proposes_from_the_360_page(client, signed):
    w = signed
    client.force_login(w.users["cm_a"])
    person_url = reverse("pool:person", args=["Pa11"])
    page = client.get(person_url).content.decode()
    assert 'data-testid="propose"' in page and 'data-testid="why-this-amount"' not in page
    preview = reasons_on(page, "why-preview")
    assert preview[-1] == gettext("Final amount: %(amount)s.") % {
        "amount": gettext("%(amount)s yuan") % {"amount": "100,000"}
    }

    response = client.post(reverse("decisions:propose", args=["Pa11"]))

    decision = Decision.objects.get(person_id="Pa11")
    assert response.status_code == 302 and response["Location"] == page_url(decision)
    assert decision.status == Status.PROPOSED and decision.proposed_by == w.users["cm_a"].staff
    assert decision.final_yuan == 100_000 and decision.grade == "优秀"
    page = client.get(person_url).content.decode()
    # the decision and why, and no second proposal while it is open
    assert reasons_on(page) == texts(explain(decision)) and reasons_on(page)[-1] == preview[-1]
    assert 'data-status="proposed"' in page and 'data-testid="propose"' not in page
    assert 'data-testid="amount-final"' in page


@pytest.mark.django_db
def test_the_360_page_explains_a_hard_stop(client, signed):
    """王强 (Pa21, cm_a's grid GA2) was never evaluated: the preview says so, amount 0."""
    client.force_login(signed.users["cm_a"])
    page = client.get(reverse("pool:person", args=["Pa21"])).content.decode()
    assert '<li data-kind="hard_stop">' in page
    assert "未经评议或有效评议不足" in page  # the policy's own label (data)
    assert reasons_on(page, "why-preview")[-1] == gettext(
        "Final amount: 0 yuan, because of the hard stop."
    )


@pytest.mark.django_db
def test_others_see_the_latest_decision_without_a_propose_button(client, signed):
    w = signed
    decision = propose(w)
    for key in ("bm_a", "hq_admin", "hq_analyst"):
        client.force_login(w.users[key])
        page = client.get(reverse("pool:person", args=["Pa11"])).content.decode()
        assert reasons_on(page) == texts(explain(decision)), key
        assert 'data-testid="propose"' not in page and 'data-testid="why-preview"' not in page
    client.force_login(w.users["bm_a"])
    page = client.get(reverse("pool:person", args=["Pa12"])).content.decode()
    assert 'data-testid="no-decision"' in page


@pytest.mark.django_db
def test_a_second_proposal_is_a_conflict(client, signed):
    w = signed
    first = propose(w)
    client.force_login(w.users["cm_a"])
    response = client.post(reverse("decisions:propose", args=["Pa11"]))
    assert response.status_code == 409
    page = response.content.decode()
    assert error_on(page) == gettext("This person already has an open decision.")
    assert f'href="{page_url(first)}"' in page
    assert Decision.objects.filter(person_id="Pa11").count() == 1


@pytest.mark.django_db
def test_only_a_customer_manager_who_sees_the_person_proposes(client, signed):
    w = signed
    url = reverse("decisions:propose", args=["Pa11"])
    for key, expected in (("bm_a", 403), ("hq_admin", 403), ("hq_analyst", 403),
                          ("cm_b", 404), ("bm_b", 404), ("evaluator", 404), ("customer", 404)):  # fmt: skip
        client.force_login(w.users[key])
        assert client.post(url).status_code == expected, key
    assert client.get(url).status_code == 405
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_referred_back_decision_is_proposed_again_from_the_360_page(client, signed):
    w = signed
    first = propose(w)
    actions.do_transition(w.users["bm_a"], first, "refer_back", "补充调查")
    client.force_login(w.users["cm_a"])
    page = client.get(reverse("pool:person", args=["Pa11"])).content.decode()
    assert 'data-status="referred_back"' in page and 'data-testid="propose"' in page
    assert client.post(reverse("decisions:propose", args=["Pa11"])).status_code == 302
    assert Decision.objects.filter(person_id="Pa11", status=Status.PROPOSED).count() == 1


# --- the checker on the decision page ----------------------------------------------------------
@pytest.mark.django_db
def test_the_branch_manager_approves_and_undoes_on_the_page(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["bm_a"])
    page = client.get(page_url(decision)).content.decode()
    for action in ("approve", "reject", "refer_back"):
        assert f'data-testid="action-{action}"' in page
    assert 'data-testid="action-undo"' not in page
    assert reasons_on(page) == texts(explain(decision))

    response = client.post(page_url(decision), {"action": "approve"})

    assert response.status_code == 302 and response["Location"] == page_url(decision)
    assert status_of(decision) == Status.APPROVED
    assert decision.decided_by == w.users["bm_a"].staff
    page = client.get(page_url(decision)).content.decode()
    assert 'data-testid="action-undo"' in page and 'data-testid="action-approve"' not in page
    assert re.findall(r'data-action="(\w+)"', page) == ["propose", "approve"]  # the history

    response = client.post(page_url(decision), {"action": "undo", "reason": "额度需复核"})
    assert response.status_code == 302 and status_of(decision) == Status.PROPOSED
    assert decision.reason == "额度需复核"
    page = client.get(page_url(decision)).content.decode()
    assert re.findall(r'data-action="(\w+)"', page) == ["propose", "approve", "undo"]
    assert "额度需复核" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "leads_to"), [
    ("reject", Status.REJECTED), ("refer_back", Status.REFERRED_BACK),
])  # fmt: skip
def test_a_rejection_or_referral_needs_a_reason(client, signed, action, leads_to):
    w = signed
    decision = propose(w)
    client.force_login(w.users["bm_a"])
    response = client.post(page_url(decision), {"action": action, "reason": "  "})
    assert response.status_code == 400
    assert error_on(response.content.decode()) == gettext("Give a reason.")
    assert status_of(decision) == Status.PROPOSED
    response = client.post(page_url(decision), {"action": action, "reason": "收入存疑"})
    assert response.status_code == 302 and status_of(decision) == leads_to
    assert decision.reason == "收入存疑"


@pytest.mark.django_db
def test_an_action_the_state_does_not_allow_is_a_conflict(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["bm_a"])
    response = client.post(page_url(decision), {"action": "undo", "reason": "不需要"})
    assert response.status_code == 409
    assert str(ACTION_LABELS["undo"]) in error_on(response.content.decode())
    actions.do_transition(w.users["bm_a"], decision, "approve")
    for action in ("approve", "reject", "refer_back"):
        response = client.post(page_url(decision), {"action": action, "reason": "理由"})
        assert response.status_code == 409, action
        page = response.content.decode()
        assert str(ACTION_LABELS[action]) in error_on(page)
        assert 'data-status="approved"' in page  # the page as the decision stands
    assert status_of(decision) == Status.APPROVED


@pytest.mark.django_db
def test_the_maker_may_not_approve_their_own_proposal(client, signed):
    w = signed
    decision = propose(w)
    staff = w.users["cm_a"].staff
    staff.role = Role.BRANCH_MANAGER  # promoted between proposal and approval
    staff.save(update_fields=["role"])
    client.force_login(w.users["cm_a"])
    page = client.get(page_url(decision)).content.decode()
    assert 'data-testid="maker-note"' in page and 'data-testid="action-approve"' not in page
    response = client.post(page_url(decision), {"action": "approve"})
    assert response.status_code == 403
    assert error_on(response.content.decode()) == gettext(
        "A decision is approved by someone other than its maker."
    )
    response = client.post(api_url(decision, "approve"))
    assert response.status_code == 403 and response.json()["error"]
    assert status_of(decision) == Status.PROPOSED


@pytest.mark.django_db
def test_an_hq_admin_approves_and_an_unknown_action_is_refused(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["hq_admin"])
    assert client.post(page_url(decision), {"action": "grant"}).status_code == 400
    assert client.post(page_url(decision), {"action": "approve"}).status_code == 302
    assert status_of(decision) == Status.APPROVED


@pytest.mark.django_db
def test_the_read_only_role_reads_and_every_post_is_forbidden(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["hq_analyst"])
    page = client.get(page_url(decision)).content.decode()
    assert 'data-testid="checker"' not in page and reasons_on(page)
    assert client.get(reverse("decisions:list")).status_code == 200
    for data in ({"action": "approve"}, {"action": "reject", "reason": "x"}, {"action": "x"}, {}):
        assert client.post(page_url(decision), data).status_code == 403, data
    assert client.post(api_url(decision, "approve")).status_code == 403
    assert client.post(api_url(decision, "nonsense")).status_code == 403
    assert status_of(decision) == Status.PROPOSED


@pytest.mark.django_db
def test_a_customer_manager_reads_their_scope_and_may_not_decide(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["cm_a"])
    page = client.get(page_url(decision)).content.decode()
    assert 'data-testid="waiting-note"' in page and 'data-testid="checker"' not in page
    assert client.post(page_url(decision), {"action": "approve"}).status_code == 403
    assert status_of(decision) == Status.PROPOSED


@pytest.mark.django_db
def test_outside_the_scope_a_decision_does_not_exist(client, signed):
    w = signed
    decision = propose(w)
    for key in ("cm_b", "bm_b", "evaluator", "customer", "norole"):
        client.force_login(w.users[key])
        assert client.get(page_url(decision)).status_code == 404, key
        assert client.post(page_url(decision), {"action": "approve"}).status_code == 404, key
        assert client.get(api_url(decision)).status_code == 404, key
        assert client.post(api_url(decision, "approve")).status_code == 404, key
    assert status_of(decision) == Status.PROPOSED
    client.logout()
    response = client.get(page_url(decision))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(api_url(decision)).status_code == 401


@pytest.mark.django_db
def test_the_page_shows_the_inputs_but_never_the_full_id_number(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["bm_a"])
    page = client.get(page_url(decision)).content.decode()
    number, phone = w.plain["a11"]
    assert number not in page and phone not in page
    assert w.persons["a11"].id_masked in page
    assert 'data-testid="inputs"' in page
    # the model and the policy by what staff call them, not their internal ids
    assert decision.model.label in page and "test-model" not in page
    assert decision.policy.label in page and "default-1" not in page


@pytest.mark.django_db
def test_models_and_policies_are_named_with_local_times(client, signed):
    """Internal ids (default-1, scorecard-…Z-d4dcd2e4) and UTC times were shown to staff."""
    import datetime as dt

    from cunxin.decisions.models import ModelVersion

    model = ModelVersion.objects.get(active=True)
    model.data = {"grades": [], "created_at": "2026-12-04T18:31:01+00:00"}
    model.trained_on = {"pool_run_id": "20261204T183040Z-647809f4",
                        "pool_started_at": "2026-12-04T18:30:40+00:00"}  # fmt: skip
    model.scored_pool_run = "20261204T183040Z-647809f4"
    model.scored_at = dt.datetime(2026, 12, 4, 18, 40, tzinfo=dt.UTC)
    model.save()
    assert model.label == "评分卡（2026-12-05 02:31 训练）"  # Asia/Shanghai, not 18:31 UTC
    client.force_login(signed.users["hq_admin"])
    page = client.get(reverse("decisions:models")).content.decode()
    assert "评分卡（2026-12-05 02:31 训练）" in page
    shown = re.sub(r'title="[^"]*"|data-model="[^"]*"', "", page)  # the id stays out of the text
    assert "2026-12-05 02:30 构建的客户池" in shown
    assert "20261204T183040Z" not in shown and "scorecard-" not in shown
    version = credit_policy_in_force()
    assert version.effective_from == timezone.localdate()  # not 2000-01-01
    assert version.label == f"默认政策（{timezone.localdate():%Y-%m-%d} 起生效）"
    policies = client.get(reverse("decisions:policies")).content.decode()
    assert "默认政策" in policies and "2000-01-01" not in policies


# --- the list --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_list_shows_the_scope_with_proposed_first_for_checkers(client, signed):
    w = signed
    approved = propose(w, "a12")
    actions.do_transition(w.users["bm_a"], approved, "approve")
    waiting = propose(w, "a11")  # newer; and an older one waiting would still come first
    client.force_login(w.users["bm_a"])
    page = client.get(reverse("decisions:list")).content.decode()
    assert re.findall(r'data-testid="decision-row" data-status="(\w+)"', page) == [
        "proposed", "approved",
    ]  # fmt: skip
    page = client.get(reverse("decisions:list"), {"status": "approved"}).content.decode()
    assert re.findall(r'data-id="(\d+)"', page) == [str(approved.pk)]
    assert f'href="{page_url(waiting)}"' not in page
    for key in ("cm_b", "bm_b"):
        client.force_login(w.users[key])
        page = client.get(reverse("decisions:list")).content.decode()
        assert 'data-testid="decision-row"' not in page, key
    client.force_login(w.users["evaluator"])
    assert client.get(reverse("decisions:list")).status_code == 404


@pytest.mark.django_db
def test_the_list_pages(client, signed, monkeypatch):
    from cunxin.decisions import views

    w = signed
    propose(w, "a11")
    propose(w, "a12")
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client.force_login(w.users["bm_a"])
    first = client.get(reverse("decisions:list")).content.decode()
    second = client.get(reverse("decisions:list"), {"page": "2"}).content.decode()
    ids = re.findall(r'data-id="(\d+)"', first) + re.findall(r'data-id="(\d+)"', second)
    assert sorted(ids) == sorted(str(d.pk) for d in Decision.objects.all())


# --- the JSON API ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_api_reads_a_decision_masked_with_its_explanation(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["bm_a"])
    response = client.get(api_url(decision))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["person"] == {"uid": "Pa11", "name": "张*", "village": str(w.villages["VA1"])}
    assert (body["status"], body["final_yuan"], body["grade"]) == ("proposed", 100_000, "优秀")
    assert body["explanation"] == texts(explain(decision))
    assert body["actions"] == ["approve", "reject", "refer_back"]
    raw = response.content.decode()
    assert w.plain["a11"][0] not in raw and "张伟" not in raw and "张*" in raw
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_api_takes_actions_and_answers_refusals_with_their_status(client, signed):
    w = signed
    decision = propose(w)
    client.force_login(w.users["bm_a"])
    response = client.post(api_url(decision, "reject"))  # no reason
    assert response.status_code == 400
    assert response.json() == {"error": gettext("Give a reason.")}
    response = client.post(api_url(decision, "approve"))
    assert response.status_code == 200
    assert response.json()["status"] == "approved" and response.json()["actions"] == ["undo"]
    response = client.post(api_url(decision, "approve"))
    assert response.status_code == 409
    assert str(ACTION_LABELS["approve"]) in response.json()["error"]
    response = client.post(
        api_url(decision, "undo"), json.dumps({"reason": "额度需复核"}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("proposed", "额度需复核")
    response = client.post(api_url(decision, "refer_back"), {"reason": "补充调查"})
    assert response.status_code == 200 and response.json()["status"] == "referred_back"
    response = client.post(api_url(decision, "reject"), "{not json", content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    assert client.post(api_url(decision, "grant"), {"reason": "x"}).status_code == 400
    assert client.get(api_url(decision, "approve")).status_code == 405
    assert status_of(decision) == Status.REFERRED_BACK


@pytest.mark.django_db
def test_the_api_needs_the_csrf_token_like_the_pages(signed):
    w = signed
    decision = propose(w)
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.users["bm_a"])
    page = client.get(page_url(decision)).content.decode()
    token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page).group(1)
    assert client.post(api_url(decision, "approve")).status_code == 403
    assert status_of(decision) == Status.PROPOSED
    response = client.post(api_url(decision, "approve"), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and status_of(decision) == Status.APPROVED


def test_the_pager_keeps_the_filter_in_its_links():
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    page = Paginator(range(60), 25).page(2)
    html = render_to_string("decisions/_pager.html", {"page": page, "query": "status=proposed&"})
    assert 'href="?status=proposed&amp;page=1"' in html
    assert 'href="?status=proposed&amp;page=3"' in html
    assert (
        render_to_string("decisions/_pager.html", {"page": Paginator(range(5), 25).page(1)}).strip()
        == ""
    )


# --- a final amount of 0 (issue 11: a 0-yuan decision was proposed and approved) -------------
@pytest.mark.django_db
def test_a_final_amount_of_0_is_not_offered_nor_proposed(client, signed):
    """王强 (Pa21) was never evaluated: the policy gives 0 — a refusal, not a grant."""
    w = signed
    client.force_login(w.users["cm_a"])
    page = client.get(reverse("pool:person", args=["Pa21"])).content.decode()
    assert 'data-testid="propose"' not in page
    message = re.search(r'data-testid="zero-amount">(.*?)</p>', page, re.S).group(1)
    assert unescape(message).startswith("最终额度为 0，无需提交审批")
    response = client.post(reverse("decisions:propose", args=["Pa21"]))
    assert response.status_code == 409 and "最终额度为 0，无需提交审批" in response.content.decode()
    assert not Decision.objects.filter(person_id="Pa21").exists()
    with pytest.raises(actions.ValidationError):
        actions.do_propose(w.users["cm_a"], w.persons["a21"])


@pytest.mark.django_db
def test_a_0_yuan_decision_from_before_is_never_approved(client, signed):
    w = signed
    decision = propose(w)
    Decision.objects.filter(pk=decision.pk).update(final_yuan=0)  # as proposed before the fix
    client.force_login(w.users["bm_a"])
    page = client.get(page_url(decision)).content.decode()
    assert 'data-testid="action-approve"' not in page and 'data-testid="action-reject"' in page
    refused = client.post(page_url(decision), {"action": "approve"})
    assert refused.status_code == 409 and status_of(decision) == Status.PROPOSED
    api = client.post(api_url(decision, "approve"))
    assert api.status_code == 409 and status_of(decision) == Status.PROPOSED
    # it is rejected instead: the record of a refusal
    assert client.post(page_url(decision), {"action": "reject", "reason": "不予授信"}).status_code == 302  # fmt: skip
    assert status_of(decision) == Status.REJECTED


@pytest.mark.django_db
def test_a_model_no_better_than_chance_is_flagged_where_it_is_used(client, signed):
    """The models page showed a model with holdout AUC 0.462 as 启用 without a word."""
    from cunxin.decisions.models import ModelVersion

    weak = ModelVersion.objects.get(active=True)
    weak.metrics = {"holdout": {"auc": 0.462, "n": 168}, "baselines": {"intercept_only": {"auc": 0.5}}}  # fmt: skip
    weak.save(update_fields=["metrics"])
    good = ModelVersion.objects.create(model_id="good", data={}, created_by="t",
                                       metrics={"holdout": {"auc": 0.71}, "baselines": {"intercept_only": {"auc": 0.5}}})  # fmt: skip
    assert weak.beats_baseline is False and good.beats_baseline is True
    client.force_login(signed.users["hq_admin"])
    page = client.get(reverse("decisions:models")).content.decode()
    rows = {m: r for m, r in re.findall(r'data-model="([^"]+)"(.*?)</li>', page, re.S)}
    assert 'data-testid="weak-model"' in rows[weak.model_id] and "0.462" in rows[weak.model_id]
    assert 'data-testid="weak-model"' not in rows["good"]
    client.force_login(signed.users["cm_a"])
    person = client.get(reverse("pool:person", args=["Pa11"])).content.decode()
    assert 'data-testid="weak-model"' in person
    ModelVersion.objects.filter(pk=weak.pk).update(active=False)
    ModelVersion.objects.filter(pk=good.pk).update(active=True)
    assert 'data-testid="weak-model"' not in client.get(reverse("pool:person", args=["Pa11"])).content.decode()  # fmt: skip


@pytest.mark.django_db
def test_the_360_shows_the_apps_evaluation_not_the_pools_stale_tag(client, signed):
    """评议：未评议 (the pool's tag from its build) was shown next to 评议额度 30,000."""
    from cunxin.pool.models import Person

    Person.objects.filter(uid__in=["Pa11", "Pa21"]).update(tags=" age:31-45岁 evaluation:未评议 ")
    client.force_login(signed.users["cm_a"])
    page = client.get(reverse("pool:person", args=["Pa11"])).content.decode()
    tag = re.search(r'data-testid="evaluation-tag">(.*?)</div>', page, re.S).group(1)
    assert "白名单" in tag and "125,000" in tag
    assert "未评议" not in page
    # a village not signed off keeps the pool's tag
    other = client.get(reverse("pool:person", args=["Pa21"])).content.decode()
    assert "未评议" in other and 'data-testid="evaluation-tag"' not in other
