"""The navigation (cunxin.project.nav, project/_nav.html): a short bar and a 更多 menu
grouped by workflow stage; every link a role is shown opens for it, and a page the role
may open is in its menu. How it looks at 390 px is in tests/test_browser_phone.py."""

from __future__ import annotations

import re

import pytest

from cunxin.project.nav import BAR, GROUPS, all_pages

STAFF = ("hq_admin", "hq_analyst", "bm_a", "bm_b", "cm_a", "cm_b")
# Pages every staff role can open but only one role has any use for: listed for it only.
FOR_ONE_ROLE = {"/visits/": "cm"}


def nav_of(html: str) -> tuple[list[str], list[str]]:
    """(the bar's links, the menu's links) of a page."""
    nav = re.search(r'<nav class="main">(.*?)</nav>', html, re.S)
    assert nav, "no navigation"
    bar_part, _, menu_part = nav.group(1).partition('<details class="more"')
    return re.findall(r'href="([^"]+)"', bar_part), re.findall(r'href="([^"]+)"', menu_part)


@pytest.mark.parametrize("role", STAFF)
def test_every_link_of_a_roles_navigation_opens_for_it(as_user, role):
    client = as_user(role)
    bar, menu = nav_of(client.get("/").content.decode())

    assert len(bar) <= 4, bar  # 首页 and three more; the rest is under 更多
    assert set(bar) <= set(menu) | {"/"}
    for url in menu:
        assert client.get(url).status_code == 200, f"{role}: {url}"


@pytest.mark.parametrize("role", STAFF)
def test_every_page_a_role_can_open_is_in_its_menu(as_user, role):
    client = as_user(role)
    _, menu = nav_of(client.get("/").content.decode())

    for page in all_pages():
        url = "/" if page.name == "home" else _url(page.name)
        if url == "/" or url in menu:
            continue
        if FOR_ONE_ROLE.get(url) and not role.startswith(FOR_ONE_ROLE[url]):
            continue
        assert client.get(url).status_code != 200, f"{role} can open {url}: list it"


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


def test_the_menu_is_grouped_by_workflow_stage_in_chinese(as_user):
    html = as_user("hq_admin").get("/").content.decode()

    assert re.findall(r"<section><h2>(.*?)</h2>", html) == ["客户", "评议", "授信", "管理"]
    assert len(GROUPS) == 4


def test_a_customer_manager_has_their_visits_on_the_bar(as_user):
    html = as_user("cm_a").get("/").content.decode()

    bar, menu = nav_of(html)
    assert bar == ["/", "/visits/", "/pool/villages/", "/credit/decisions/"]
    assert "/audit/" not in menu and "/org/staff/" not in menu  # not theirs to open


def test_the_page_shown_is_marked_in_the_bar_or_on_more(as_user):
    client = as_user("bm_a")

    html = client.get("/credit/decisions/").content.decode()
    assert re.search(r'href="/credit/decisions/" class="on" aria-current="page"', html)
    assert "<summary>" in html  # 更多 is not marked: the page is on the bar

    html = client.get("/access-log/").content.decode()  # in the menu only
    assert '<summary class="on">' in html


def test_outsiders_have_no_navigation(as_user):
    for role in ("evaluator", "customer", "norole"):
        assert '<nav class="main">' not in as_user(role).get("/").content.decode()


def test_every_role_has_a_bar():
    assert set(BAR) == {"customer_manager", "branch_manager", "hq_admin", "hq_analyst"}
