"""What staff did, across every stage: the audit trail (HQ) and the access log (who saw or
exported whose personal data). These pages name and link objects of every app, so they
sit at the top, with the project.

The audit trail: each event in words — what was done (`audit.labels.ACTION_LABELS`), on
which object (its kind and name, linked to its page), by whom and when (local time) — as
a list that fits a phone; `?verify=1` walks both hash chains. The page is HQ's, who see
everything, so every object that has a page is linked; an object gone since (a deleted
segment) is named by its kind and number.

The access log (`Scope.access_log`: HQ all, a branch manager their branch's staff, other
staff their own): reveals and full-number searches name the person, exports their file
(`pool.actions.Export`: kind, rows, what it held) linked to where it came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET

from cunxin.audit.chain import verify
from cunxin.audit.labels import action_label, model_label
from cunxin.audit.models import AuditEvent
from cunxin.org.scope import staff_view
from cunxin.pool.actions import FIELD_LABELS
from cunxin.pool.models import verify_access_log

PAGE_SIZE = 50


@dataclass(frozen=True)
class Shown:
    """How an object of one kind is named and linked, from its row."""

    name: Callable[[Any], str]
    url: Callable[[Any], str] | None = None
    related: tuple[str, ...] = ()


def _u(name: str, *args) -> str:
    return reverse(name, args=args)


SHOWN: dict[str, Shown] = {
    "org.branch": Shown(lambda o: o.name),
    "org.village": Shown(str, lambda o: _u("pool:village", o.code)),
    "org.staff": Shown(lambda o: o.display_name, lambda o: _u("org:staff", o.pk)),
    "org.assignment": Shown(
        lambda o: f"{o.staff.display_name} · {o.village or o.grid.code}",
        lambda o: _u("org:staff", o.staff_id), ("staff", "village", "grid"),
    ),
    "auth.user": Shown(lambda o: o.username),
    "pool.segment": Shown(lambda o: o.name, lambda o: _u("pool:segment", o.pk)),
    "pool.publishrun": Shown(lambda o: f"#{o.pk}", lambda o: _u("pool:publish_runs")),
    "evaluation.policyversion": Shown(lambda o: o.version, lambda o: _u("evaluation:policy", o.pk)),
    "evaluation.project": Shown(lambda o: str(o.village), lambda o: _u("evaluation:project", o.pk),
                                ("village",)),
    "evaluation.panelmember": Shown(lambda o: o.staff.display_name,
                                    lambda o: _u("evaluation:project", o.project_id), ("staff",)),
    "evaluation.round": Shown(lambda o: f"{o.project.village} · {o.get_kind_display()}",
                              lambda o: _u("evaluation:project", o.project_id), ("project__village",)),
    "evaluation.verdictchange": Shown(lambda o: o.person.name,
                                      lambda o: _u("evaluation:rereview", o.round_id), ("person",)),
    "evaluation.qacheck": Shown(lambda o: o.review.person.name,
                                lambda o: _u("evaluation:qa_check", o.pk), ("review__person",)),
    "visits.visit": Shown(lambda o: o.task.household.head_name,
                          lambda o: _u("visits:visit", o.task_id), ("task__household",)),
    "decisions.decision": Shown(lambda o: o.person.name,
                                lambda o: _u("decisions:decision", o.pk), ("person",)),
    "decisions.batchrun": Shown(lambda o: f"#{o.pk} {o.scope_name or o.get_scope_kind_display()}",
                                lambda o: _u("decisions:batch", o.pk)),
    "decisions.creditpolicyversion": Shown(lambda o: o.version,
                                           lambda o: _u("decisions:policy", o.pk)),
    "decisions.modelversion": Shown(lambda o: f"#{o.pk} · {localtime(o.created_at):%Y-%m-%d}",
                                    lambda o: _u("decisions:models")),
}  # fmt: skip


def _objects(rows: list) -> dict[tuple[str, str], Any]:
    """The objects the rows (audit events, access-log exports) name, by (type, id): one
    query per kind on the page."""
    ids: dict[str, set[str]] = defaultdict(set)
    for e in rows:
        if e.object_type in SHOWN and e.object_id:
            ids[e.object_type].add(e.object_id)
    found: dict[tuple[str, str], Any] = {}
    for object_type, pks in ids.items():
        try:
            model = apps.get_model(object_type)
        except (LookupError, ValueError):
            continue
        shown = SHOWN[object_type]
        try:
            rows = list(model._default_manager.select_related(*shown.related).filter(pk__in=pks))
        except (ValueError, TypeError):  # an id that is no key of this model
            continue
        found.update({(object_type, str(row.pk)): row for row in rows})
    return found


def _actors(events: list[AuditEvent]) -> dict[int, str]:
    """Staff display names of the events' users, by user id. One query."""
    staff = apps.get_model("org", "Staff")
    user_ids = {e.actor_id for e in events if e.actor_id}
    return dict(staff.objects.filter(user_id__in=user_ids).values_list("user_id", "display_name"))


def describe(events: list[AuditEvent]) -> None:
    """Sets `action_label`, `object_text`, `object_url` and `actor_text` on each event."""
    objects, actors = _objects(events), _actors(events)
    for e in events:
        e.action_label = action_label(e.action, e.object_type)
        e.object_text, e.object_url = "", ""
        if e.object_type:
            kind = model_label(e.object_type)
            row = objects.get((e.object_type, e.object_id))
            if row is None:
                e.object_text = f"{kind} {e.object_id}".strip()
            else:
                shown = SHOWN[e.object_type]
                e.object_text = f"{kind} {shown.name(row)}"
                e.object_url = shown.url(row) if shown.url else ""
        name = actors.get(e.actor_id)
        e.actor_text = f"{name} ({e.actor_name})" if name and name != e.actor_name else e.actor_name


@require_GET
@staff_view
def trail(request: HttpRequest) -> HttpResponse:
    """The audit trail for HQ, newest first; `?verify=1` walks both chains, the trail's and
    the access log's (one pass over each table). A few queries per page: the events, one per kind of object, the
    actors' names."""
    if not request.scope.sees_everything:
        raise Http404
    page = Paginator(AuditEvent.objects.order_by("-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    describe(page.object_list)
    checks = None
    if request.GET.get("verify") == "1":
        checks = {"trail": verify(), "access": verify_access_log()}
    return render(request, "project/audit_trail.html", {"page": page, "checks": checks})


@require_GET
@staff_view
def access_log(request: HttpRequest) -> HttpResponse:
    """Reveals, searches and exports the user may read (`Scope.access_log`), newest first.
    A few queries per page: the rows with their users and persons, one per kind of
    exported object."""
    rows = request.scope.access_log().select_related("user__staff", "person").order_by("-at", "-id")  # fmt: skip
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    exports = [r for r in page.object_list if r.export_kind]
    objects = _objects(exports)
    for r in exports:
        row = objects.get((r.object_type, r.object_id))
        shown = SHOWN.get(r.object_type)
        r.export_url = shown.url(row) if row is not None and shown and shown.url else ""
        r.export_gone = row is None
    return render(request, "project/access_log.html", {
        "page": page, "field_labels": FIELD_LABELS,
    })  # fmt: skip
