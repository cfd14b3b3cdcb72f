"""The audit trail page (audit/views.py, audit/labels.py): every action the code records
in Chinese, objects by their kind and name with a link to their page, who in words, times
in local time, a card per event. The chain itself is tested in tests/test_audit.py; the
page at 390 px in tests/test_browser_phone.py."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.utils import translation

from cunxin.audit.admin import AuditedAdmin
from cunxin.audit.chain import record
from cunxin.audit.labels import ACTION_LABELS, ADMIN_ACTION_LABELS, action_label, model_label
from cunxin.decisions.models import TRANSITIONS, BatchRun
from cunxin.pool.models import Segment

SRC = Path(__file__).resolve().parent.parent / "src" / "cunxin"
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# The f-string action codes of the code, and the values their placeholder takes.
EXPANSIONS = {
    "decisions.decision.{}": list(TRANSITIONS),
    "decisions.batch.{}": list(BatchRun.Purpose.values),
}


def recorded_actions() -> tuple[set[str], set[str], list[str]]:
    """(literal codes, admin operations, calls this test cannot read) of every
    `record(actor, action, …)` under src/."""
    codes, admin_ops, unread = set(), set(), []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record"):
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            action = node.args[1] if len(node.args) > 1 else None
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                codes.add(action.value)
            elif isinstance(action, ast.JoinedStr):
                template = "".join(
                    v.value if isinstance(v, ast.Constant) else "{}" for v in action.values
                )
                if template in EXPANSIONS:
                    codes |= {template.format(value) for value in EXPANSIONS[template]}
                else:
                    unread.append(f"{where}: f-string {template!r} (add it to EXPANSIONS)")
            elif (
                isinstance(action, ast.Call)
                and getattr(action.func, "attr", None) == "audit_action"
            ):
                # AuditedAdmin's `admin.<model>.<op>`: the operations it passes
                admin_ops |= {
                    n.value for n in ast.walk(action.args[0])
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }  # fmt: skip
            else:
                unread.append(f"{where}: {ast.unparse(action) if action else 'no action'}")
    return codes, admin_ops, unread


def chinese(text: str) -> bool:
    return bool(HAN.search(text)) and not LATIN_WORD.search(text)


def test_every_action_the_code_records_has_a_chinese_label():
    codes, admin_ops, unread = recorded_actions()

    assert not unread
    assert len(codes) > 30  # the scan found the code's calls
    assert sorted(codes - set(ACTION_LABELS)) == []  # a new action: label it in labels.py
    assert admin_ops <= set(ADMIN_ACTION_LABELS)
    with translation.override("zh-hans"):
        for code in codes:
            assert chinese(action_label(code)), f"{code}: {action_label(code)}"


def test_every_action_of_django_admin_reads_in_chinese():
    audited = [m for m, a in admin.site._registry.items() if isinstance(a, AuditedAdmin)]
    assert audited
    with translation.override("zh-hans"):
        for model in audited:
            object_type = f"{model._meta.app_label}.{model._meta.model_name}"
            for op in ADMIN_ACTION_LABELS:
                label = action_label(f"admin.{model._meta.model_name}.{op}", object_type)
                assert chinese(label), f"{object_type} {op}: {label}"


def test_every_kind_of_object_has_a_chinese_name():
    models = [m for m in apps.get_models() if m.__module__.startswith("cunxin.")]
    with translation.override("zh-hans"):
        for object_type in [f"{m._meta.app_label}.{m._meta.model_name}" for m in models] + [
            "auth.user", "keys",
        ]:  # fmt: skip
            assert chinese(model_label(object_type)), object_type


def events(html: str) -> list[dict[str, str]]:
    """The trail's events, newest first: action (and its code), object (and its link),
    who and when."""
    out = []
    for li in re.findall(r'<li class="card" data-testid="event".*?</li>', html, re.S):
        action = re.search(r'<strong title="([^"]+)" data-testid="action">([^<]*)</strong>', li)
        obj = re.search(r'(?:<a href="([^"]+)"|<span) data-testid="object">([^<]*)<', li)
        out.append({
            "code": action[1], "action": action[2],
            "object": obj[2] if obj else "", "link": (obj[1] or "") if obj else "",
            "actor": re.search(r'data-testid="actor">([^<]*)<', li)[1],
            "at": re.search(r'data-testid="at">([^<]*)<', li)[1],
        })  # fmt: skip
    return out


def test_the_trail_names_actions_objects_and_actors_in_chinese(as_user, world):
    cm = world.users["cm_a"]
    segment = Segment.objects.create(name="黑名单户", colors=["black"], created_by=cm)
    record(cm, "pool.segment.create", segment)
    record(cm, "pool.segment.delete", object_type="pool.segment", object_id="999")  # gone
    record(world.users["hq_admin"], "admin.branch.change", object_type="org.branch",
           object_id="ZHA")  # fmt: skip
    record(world.users["bm_a"], "org.staff.change", cm.staff)

    html = as_user("hq_admin").get("/audit/").content.decode()

    assert events(html) == [
        {"code": "org.staff.change", "action": "修改员工", "object": "员工 cm_a",
         "link": f"/org/staff/{cm.staff.pk}/", "actor": "bm_a", "at": events(html)[0]["at"]},
        {"code": "admin.branch.change", "action": "后台修改支行", "object": "支行 甲支行",
         "link": "", "actor": "总行管理员 (hq_admin)", "at": events(html)[1]["at"]},
        {"code": "pool.segment.delete", "action": "删除分群", "object": "分群 999",
         "link": "", "actor": "cm_a", "at": events(html)[2]["at"]},
        {"code": "pool.segment.create", "action": "新建分群", "object": "分群 黑名单户",
         "link": f"/pool/segments/{segment.pk}/", "actor": "cm_a", "at": events(html)[3]["at"]},
    ]  # fmt: skip
    assert "<table" not in html.split("<main>", 1)[1]  # cards: no wide table on a phone


def test_a_decision_referred_back_reads_in_chinese_and_links_to_the_decision(scored, as_user):
    from cunxin.decisions import actions

    w = scored
    decision = actions.do_propose(w.users["cm_a"], w.persons["a11"])
    actions.do_transition(w.users["bm_a"], decision, "refer_back", "补充调查")

    html = as_user("hq_analyst").get("/audit/").content.decode()

    newest = events(html)[0]
    assert newest["code"] == "decisions.decision.refer_back"
    assert chinese(newest["action"])
    assert newest["object"].endswith(" 张伟") and chinese(newest["object"])
    for e in events(html):
        assert chinese(e["action"]) and chinese(e["object"].split(" ")[0]), e
    assert newest["link"] == f"/credit/decisions/{decision.pk}/"
    assert as_user("hq_analyst").get(newest["link"]).status_code == 200


def test_times_are_shown_in_local_time(as_user, world, monkeypatch):
    at = dt.datetime(2026, 3, 1, 23, 30, 5, tzinfo=dt.UTC)  # 07:30:05 the next day in Shanghai
    monkeypatch.setattr("cunxin.audit.chain.timezone.now", lambda: at)
    record(world.users["cm_a"], "org.branch.create", object_type="org.branch", object_id="ZHA")

    html = as_user("hq_admin").get("/audit/").content.decode()

    assert events(html)[0]["at"] == "2026-03-02 07:30:05"
    assert 'datetime="2026-03-02T07:30:05+08:00"' in html


@pytest.mark.parametrize("role", ["bm_a", "cm_a"])
def test_the_trail_stays_heads_office(as_user, role):
    assert as_user(role).get("/audit/").status_code == 404


def test_a_models_date_is_its_local_date(as_user, world, monkeypatch):
    from cunxin.decisions.models import ModelVersion

    model = ModelVersion.objects.create(model_id="m", data={}, created_by="test")
    late = dt.datetime(2026, 12, 4, 18, 30, tzinfo=dt.UTC)  # 12-05 02:30 in Shanghai
    ModelVersion.objects.filter(pk=model.pk).update(created_at=late)
    record(None, "decisions.model.publish", model)

    html = as_user("hq_admin").get("/audit/").content.decode()

    assert events(html)[0]["object"] == f"评分模型 #{model.pk} · 2026-12-05"
