"""A credit policy that compiles but fails at run time, and CEL errors in words (issue 11
§5): a capacity formula beyond CEL's iteration budget, once in force, made the 360 page
and propose answer 500. Now every run-time rule error is a PolicyError that the pages, the
batch runs and the what-if say in Chinese, naming the rule; a version is published only
after a what-if has run on it without errors; compiler errors are explained in words, with
the compiler's text as a detail."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import give_scores, sign_off
from cunxin.credit.decide import Applicant, PolicyError, compile_policy
from cunxin.credit.policy import CreditPolicy, Rule, to_data
from cunxin.decisions import policy_errors
from cunxin.decisions.actions import do_start_batch_run
from cunxin.decisions.fetch import credit_policy_in_force
from cunxin.decisions.models import BatchRun, CreditPolicyVersion, Decision
from cunxin.decisions.policy_actions import (
    do_create_policy_version,
    do_publish_policy_version,
    whatif_passed,
)
from cunxin.jobs.worker import drain
from cunxin.org.models import Village

DIGITS = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
# 10^5 iterations of nested comprehensions: type-checks as an int, then exceeds CEL's
# iteration budget when evaluated (cel-expr-python raises RuntimeError).
BUDGET = (
    f"size({DIGITS}.map(a, {DIGITS}.map(b, {DIGITS}.map(c, {DIGITS}.map(d, "
    f"{DIGITS}.map(e, a)))))) + income_yuan"
)
CANNOT_DECIDE = "授信政策无法作出决定"


def applicant(**kw) -> Applicant:
    return Applicant("P1", age=40, evaluation_color="white", income_yuan=50_000, **kw)


def in_force(policy: CreditPolicy) -> CreditPolicyVersion:
    """A version in force today, stored as it would have been before run-time checks."""
    return CreditPolicyVersion.objects.create(
        version=policy.version, data=to_data(policy), effective_from=timezone.localdate()
    )


@pytest.fixture
def signed(village, project):
    """VA1 signed off with 张伟 (Pa11) graded: he may be proposed (tests/test_decision_views)."""
    sign_off(village, project)
    give_scores(village, {"a11": "excellent"}, income_yuan=60_000)
    return village


# --- the rule engine ---------------------------------------------------------------------------
def test_an_expression_beyond_the_iteration_budget_compiles_and_fails_as_a_policy_error():
    compiled = compile_policy(CreditPolicy(capacity=BUDGET))  # it compiles

    with pytest.raises(PolicyError) as e:
        compiled.decide(applicant())

    assert e.value.rule == "capacity" and e.value.at_run_time
    assert e.value.problem == "budget"
    assert "Iteration budget exceeded" in e.value.detail


def test_a_failing_hard_stop_is_named_by_its_label():
    rule = Rule("debt_ratio", "负债收入比过高", "liabilities_yuan / (income_yuan - 50000) > 3")

    with pytest.raises(PolicyError) as e:
        compile_policy(CreditPolicy(hard_stops=(rule,))).decide(applicant())

    assert (e.value.rule, e.value.label, e.value.problem) == ("debt_ratio", "负债收入比过高", "divide_by_zero")  # fmt: skip
    assert policy_errors.cannot_decide(e.value) == (
        "授信政策无法作出决定：规则“负债收入比过高”（debt_ratio）：除数为零。"
        "CEL 原文：INVALID_ARGUMENT: divide by zero"
    )


@pytest.mark.parametrize(
    ("capacity", "says"),
    [
        ("incme_yuan * 2", "未知的名称 incme_yuan：不是本政策的输入或函数（请检查拼写）"),
        ("income_yuan * 2 +", "第 18 个字符附近有语法错误：“yuan * 2 +”"),
        ("income_yuan * 2 + 'a'", "类型不符：“+”不能用于整数和文本"),
        ("income_yuan * 2 + score", "类型不符：“+”不能用于整数和小数"),
        ("income_yuan.size", "类型不符：整数没有可用“.”取用的字段或函数"),
        ("income_yuan > 2", "结果应为整数，实际为是/否值"),
    ],
)
def test_a_compile_error_is_explained_in_chinese_with_the_compilers_text(capacity, says):
    with pytest.raises(PolicyError) as e:
        compile_policy(CreditPolicy(capacity=capacity))

    assert policy_errors.describe(e.value) == f"还款能力公式（模型额度）：{says}"
    assert policy_errors.does_not_compile(e.value).endswith(f"编译器原文：{e.value.detail}")


# --- the 360 page and proposing ----------------------------------------------------------------
@pytest.mark.django_db
def test_the_360_page_says_the_policy_cannot_decide_instead_of_failing(client, signed):
    in_force(CreditPolicy(version="budget", capacity=BUDGET))
    client.force_login(signed.users["cm_a"])

    response = client.get(reverse("pool:person", args=["Pa11"]))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'data-testid="preview-error"' in page
    assert f"{CANNOT_DECIDE}：还款能力公式（模型额度）：" in page
    assert "Iteration budget exceeded" in page  # CEL's text, as a detail
    assert 'data-testid="propose"' not in page


@pytest.mark.django_db
def test_proposing_under_a_failing_policy_is_refused_with_the_page_not_a_500(client, signed):
    in_force(CreditPolicy(version="budget", capacity=BUDGET))
    client.force_login(signed.users["cm_a"])

    response = client.post(reverse("decisions:propose", args=["Pa11"]))

    assert response.status_code == 422
    page = html.unescape(response.content.decode())
    assert 'data-testid="error-page"' in page and f"{CANNOT_DECIDE}：" in page
    assert not Decision.objects.exists()


# --- batch runs and the what-if ------------------------------------------------------------------
@pytest.mark.django_db
def test_a_batch_under_a_failing_policy_fails_with_the_reason_in_words(signed):
    in_force(CreditPolicy(version="budget", capacity=BUDGET))

    run = do_start_batch_run(signed.users["hq_admin"], BatchRun.Purpose.PRECREDIT, "village", "VA1")
    drain()

    run.refresh_from_db()
    assert run.status == BatchRun.Status.FAILED
    assert run.error.startswith(f"{CANNOT_DECIDE}：还款能力公式（模型额度）：")


def draft_of(w, policy: CreditPolicy, name: str = "v2") -> CreditPolicyVersion:
    data = to_data(policy)
    changes = {k: v for k, v in data.items() if k != "version"}
    return do_create_policy_version(
        w.users["hq_admin"], credit_policy_in_force(), changes, name, None, "试算后发布"
    )


def whatif(w, version: CreditPolicyVersion, village: str = "VA1") -> BatchRun:
    from cunxin.credit.policy import from_data

    run = do_start_batch_run(w.users["hq_admin"], BatchRun.Purpose.WHATIF, "village", village,
                      draft=from_data(version.data))  # fmt: skip
    drain()
    run.refresh_from_db()
    return run


def refused_publish(w, version) -> str:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as e:
        do_publish_policy_version(w.users["hq_admin"], version, timezone.localdate())
    return " ".join(e.value.messages)


@pytest.mark.django_db
def test_a_draft_is_published_only_after_a_whatif_without_errors(signed):
    w = signed
    v2 = draft_of(w, CreditPolicy(rounding_yuan=500))
    assert not whatif_passed(v2)
    assert "先用试算" in refused_publish(w, v2)

    # a what-if over a village without persons decides nobody: it proves nothing
    Village.objects.create(code="VEMPTY", name="空村", branch_id="ZHA", content_hash="x")
    assert whatif(w, v2, "VEMPTY").status == BatchRun.Status.SUCCEEDED
    assert not whatif_passed(v2)

    # a what-if of another draft does not count for this one
    other = draft_of(w, CreditPolicy(rounding_yuan=100), "v3")
    assert whatif(w, other).status == BatchRun.Status.SUCCEEDED
    assert not whatif_passed(v2)

    assert whatif(w, v2).status == BatchRun.Status.SUCCEEDED
    assert whatif_passed(v2)
    do_publish_policy_version(w.users["hq_admin"], v2, timezone.localdate())
    assert credit_policy_in_force() == v2


@pytest.mark.django_db
def test_a_draft_that_fails_at_run_time_cannot_be_published(signed):
    w = signed
    v2 = draft_of(w, CreditPolicy(capacity=BUDGET))  # it compiles, so it is saved

    run = whatif(w, v2)

    assert run.status == BatchRun.Status.FAILED
    assert run.error.startswith(f"{CANNOT_DECIDE}：还款能力公式（模型额度）：")
    assert not whatif_passed(v2)
    refused_publish(w, v2)
    v2.refresh_from_db()
    assert v2.effective_from is None


@pytest.mark.django_db
def test_a_new_version_with_a_date_is_refused_it_is_saved_as_a_draft_first(signed):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as e:
        do_create_policy_version(
            signed.users["hq_admin"], credit_policy_in_force(), {"rounding_yuan": 500}, "v2",
            timezone.localdate() + dt.timedelta(days=1), "明天起",
        )  # fmt: skip

    assert list(e.value.message_dict) == ["effective_from"]
    assert not CreditPolicyVersion.objects.filter(version="v2").exists()


@pytest.mark.django_db
def test_the_editor_explains_a_typo_in_chinese_with_the_compilers_text(client, signed):
    w = signed
    client.force_login(w.users["hq_admin"])
    base = credit_policy_in_force()
    url = reverse("decisions:policy", args=[base.pk])
    form = client.get(url).context["form"]
    from test_credit_policy_editor import form_post

    post = form_post(form, capacity="incme_yuan * 2", note="改公式")
    response = client.post(url, post)

    assert response.status_code == 400
    (message,) = response.context["errors"]["capacity"]
    assert "公式无法编译" in message and "未知的名称 incme_yuan" in message
    assert "编译器原文：" in message and "undeclared reference to 'incme_yuan'" in message
