from __future__ import annotations

from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from cunxin.audit.chain import verify
from cunxin.audit.models import AuditEvent
from cunxin.org.scope import staff_view

# The actions the code records (grep `record(`); the code stays in the page's title.
ACTION_LABELS = {
    "org.branch.create": pgettext_lazy("audit action", "Branch created"),
    "org.village.branch": pgettext_lazy("audit action", "Village moved to a branch"),
    "org.staff.create": pgettext_lazy("audit action", "Staff member created"),
    "org.staff.change": pgettext_lazy("audit action", "Staff member changed"),
    "org.assignment.open": pgettext_lazy("audit action", "Village or grid assigned"),
    "org.assignment.end": pgettext_lazy("audit action", "Assignment ended"),
    "pool.segment.create": pgettext_lazy("audit action", "Segment created"),
    "pool.segment.delete": pgettext_lazy("audit action", "Segment deleted"),
    "pool.publish": pgettext_lazy("audit action", "Data pool published"),
    "admin.user.password": pgettext_lazy("audit action", "Password set in admin"),
    "auth.password.change": pgettext_lazy("audit action", "Own password changed"),
}
# `admin.<model>.<op>`, written by AuditedAdmin for any model.
ADMIN_ACTION_LABELS = {
    "create": pgettext_lazy("audit action", "%(model)s created in admin"),
    "change": pgettext_lazy("audit action", "%(model)s changed in admin"),
    "delete": pgettext_lazy("audit action", "%(model)s deleted in admin"),
}


def model_label(object_type: str) -> str:
    """ "org.staff" → the model's verbose name ("员工"); the code if there is no such model."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def action_label(action: str, object_type: str = "") -> str:
    """A readable name for an audit action code; an unknown code as it is."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "admin" and parts[2] in ADMIN_ACTION_LABELS:
        model = model_label(object_type) if object_type else parts[1]
        return capfirst(str(ADMIN_ACTION_LABELS[parts[2]]) % {"model": model})
    return action


@require_GET
@staff_view
def trail(request: HttpRequest) -> HttpResponse:
    """The audit trail for HQ; `?verify=1` walks the whole chain (one pass over the table)."""
    if not request.scope.sees_everything:
        raise Http404
    page = Paginator(AuditEvent.objects.order_by("-id"), 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.action_label = action_label(event.action, event.object_type)
        event.object_label = model_label(event.object_type) if event.object_type else ""
    result = verify() if request.GET.get("verify") == "1" else None
    return render(request, "audit/trail.html", {"page": page, "verification": result})
