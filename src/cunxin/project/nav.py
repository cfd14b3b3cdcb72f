"""The navigation of bank staff: a short bar of the pages a role uses most, and a "more"
menu of every page the role may open, grouped by workflow stage (客户 / 评议 / 授信 / 管理).

The menu is a `<details>` element: it opens and closes without script. A page is listed
for a role only if the role can open it (tests/test_nav.py opens every link as every
role), so the rules below mirror the views' own checks (tests/test_role_matrix.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cunxin.org.models import Role
from cunxin.org.scope import Scope

HQ = frozenset({Role.HQ_ADMIN, Role.HQ_ANALYST})
HQ_AND_BRANCH = HQ | {Role.BRANCH_MANAGER}


def everyone(scope: Scope) -> bool:
    return scope.is_bank_staff


def roles(*allowed: str) -> Callable[[Scope], bool]:
    def check(scope: Scope) -> bool:
        return scope.role in allowed

    return check


@dataclass(frozen=True)
class Page:
    name: str  # URL name
    label: Promise
    may_open: Callable[[Scope], bool]
    testid: str
    short: Promise | None = None  # a shorter label for the bar
    # other path prefixes that belong to this page (its detail pages)
    also: tuple[str, ...] = ()


GROUPS: list[tuple[Promise, list[Page]]] = [
    (pgettext_lazy("nav group", "Customers"), [
        Page("pool:villages", _("Customer pool"), everyone, "nav-pool",
             also=("/pool/households/", "/pool/persons/")),
        Page("pool:segments", _("Segments"), everyone, "nav-segments"),
        Page("visits:tasks", _("My visits"), roles(Role.CUSTOMER_MANAGER), "nav-visits"),
    ]),
    (pgettext_lazy("nav group", "Evaluation"), [
        Page("evaluation:projects", _("Village projects"), everyone, "nav-projects",
             short=pgettext_lazy("nav short", "Projects"), also=("/evaluation/rounds/",)),
        Page("evaluation:qa", _("QA sampling (验收)"), everyone, "nav-qa"),
        Page("evaluation:policies", _("Evaluation policy"), roles(*HQ_AND_BRANCH),
             "nav-evaluation-policy"),
    ]),
    (pgettext_lazy("nav group", "Credit"), [
        Page("decisions:list", _("Credit decisions"), everyone, "nav-decisions"),
        Page("decisions:batches", _("Batch pre-credit"), everyone, "nav-batches"),
        Page("decisions:whatif", _("What-if"), roles(*HQ), "nav-whatif"),
        Page("decisions:ratings", _("Credit ratings"), everyone, "nav-ratings"),
        Page("decisions:policies", _("Credit policy"), roles(*HQ_AND_BRANCH), "nav-credit-policy"),
        Page("decisions:models", _("Scorecard models"), roles(*HQ_AND_BRANCH), "nav-models"),
    ]),
    (pgettext_lazy("nav group", "Administration"), [
        Page("access_log", _("Access log"), everyone, "nav-access-log"),
        Page("org:staff_list", _("Staff"), roles(*HQ_AND_BRANCH), "nav-staff"),
        Page("pool:publish_runs", _("Publish runs"), roles(*HQ), "nav-publish-runs"),
        Page("audit", _("Audit trail"), roles(*HQ), "nav-audit"),
    ]),
]  # fmt: skip
HOME = Page("home", _("Home"), everyone, "nav-home")

# The bar: what each role opens most, after 首页 (the rest is under 更多).
BAR = {
    Role.CUSTOMER_MANAGER: ("visits:tasks", "pool:villages", "decisions:list"),
    Role.BRANCH_MANAGER: ("decisions:list", "evaluation:projects", "pool:villages"),
    Role.HQ_ADMIN: ("pool:villages", "decisions:list", "decisions:batches"),
    Role.HQ_ANALYST: ("pool:villages", "decisions:list", "decisions:ratings"),
}


@dataclass(frozen=True)
class Link:
    url: str
    label: str
    testid: str
    on: bool  # the page being shown (or one of its detail pages)


@dataclass(frozen=True)
class Nav:
    bar: list[Link]
    groups: list[tuple[str, list[Link]]]  # the "more" menu

    @property
    def more_on(self) -> bool:
        """The page shown is in the menu but not on the bar."""
        return any(link.on for _, links in self.groups for link in links) and not any(
            link.on for link in self.bar
        )


def _link(page: Page, path: str, *, short: bool = False) -> Link:
    url = reverse(page.name)
    on = path == url if url == "/" else path.startswith((url, *page.also))
    label = page.short if short and page.short else page.label
    return Link(url, str(label), page.testid, on)


def nav_for(scope: Scope, path: str) -> Nav | None:
    """The bar and the menu for the user's role; None for anyone but bank staff. No query."""
    if not scope.is_bank_staff:
        return None
    pages = {p.name: p for _, group in GROUPS for p in group}
    bar = [_link(HOME, path)] + [
        _link(pages[name], path, short=True)
        for name in BAR.get(scope.role, ())
        if pages[name].may_open(scope)
    ]
    groups = []
    for title, group in GROUPS:
        links = [_link(p, path) for p in group if p.may_open(scope)]
        if links:
            groups.append((str(title), links))
    return Nav(bar=bar, groups=groups)


def all_pages() -> list[Page]:
    return [HOME] + [p for _, group in GROUPS for p in group]
