from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cunxin.audit.chain import verify
from cunxin.audit.models import AuditEvent
from cunxin.org.scope import staff_view


@require_GET
@staff_view
def trail(request: HttpRequest) -> HttpResponse:
    """The audit trail for HQ; `?verify=1` walks the whole chain (one pass over the table)."""
    if not request.scope.sees_everything:
        raise Http404
    page = Paginator(AuditEvent.objects.order_by("-id"), 50).get_page(request.GET.get("page"))
    result = verify() if request.GET.get("verify") == "1" else None
    return render(request, "audit/trail.html", {"page": page, "verification": result})
