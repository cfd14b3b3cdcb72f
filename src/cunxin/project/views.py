from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.pool.models import PublishRun


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers. One trivial SQL query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok", "database": connection.vendor})


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What this person should do next, by role."""
    scope = scope_for(request.user)
    context: dict = {"role": scope.role}
    if scope.is_bank_staff:
        villages = scope.villages().select_related("branch")
        counts = dict(
            scope.households().values_list("village_id").annotate(n=Count("uid")).order_by()
        )
        context["villages"] = [(v, counts.get(v.code, 0)) for v in villages[:20]]
        context["village_count"] = villages.count()
        context["household_count"] = sum(counts.values())
    if scope.role == Role.CUSTOMER_MANAGER:
        context["assignments"] = scope.staff.assignments.filter(
            valid_to__isnull=True
        ).select_related("village", "grid__village")
    if scope.role in (Role.HQ_ADMIN, Role.HQ_ANALYST):
        context["last_publish"] = PublishRun.objects.first()
    if scope.role == Role.CUSTOMER and scope.staff.person_id:
        context["own_household"] = scope.households().first()
    return render(request, "project/home.html", context)
