"""Users, roles and assignments, in the app (HQ admins also have Django admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cunxin.org import actions
from cunxin.org.models import Assignment, Branch, Grid, Role, Staff, Village
from cunxin.org.scope import staff_view
from cunxin.pool.models import Person

# Customer accounts belong to a person and come from the customer channel, not this form.
STAFF_FORM_ROLES = [(value, label) for value, label in Role.choices if value != Role.CUSTOMER]


def _staff_or_404(scope, pk: int) -> Staff:
    try:
        return scope.staff_members().select_related("user", "branch").get(pk=pk)
    except Staff.DoesNotExist:
        raise Http404 from None


def _get(model, pk):
    if not pk:
        return None
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise ValidationError(_("%(model)s %(pk)s does not exist.") % {"model": model._meta.verbose_name, "pk": pk}) from None  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def staff_list(request: HttpRequest) -> HttpResponse:
    """Staff the user may see; HQ admins create users here (POST)."""
    scope = request.scope
    if not (scope.can_manage_staff or scope.can_assign or scope.sees_everything):
        raise Http404
    error = ""
    if request.method == "POST":
        scope.require(scope.can_manage_staff)
        p = request.POST
        try:
            staff = actions.do_create_staff(
                request.user, username=p.get("username", "").strip(),
                password=p.get("password", ""), role=p.get("role", ""),
                display_name=p.get("display_name", "").strip(),
                branch=_get(Branch, p.get("branch")), village=_get(Village, p.get("village")),
                person=_get(Person, p.get("person")),
            )  # fmt: skip
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": staff.user.username})
            return redirect("org:staff", pk=staff.pk)
    return render(request, "org/staff_list.html", {
        "staff": scope.staff_members().select_related("user", "branch").order_by("role", "user__username"),
        "roles": STAFF_FORM_ROLES, "branches": Branch.objects.all(), "error": error,
    }, status=400 if error else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A user's role and assignments (with history). POST `op`: change, assign."""
    scope = request.scope
    staff = _staff_or_404(scope, pk)
    error = ""
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("op") == "change":
                scope.require(scope.can_manage_staff)
                actions.do_change_staff(
                    request.user, staff, role=p.get("role", ""),
                    branch=_get(Branch, p.get("branch")), active=p.get("active") == "on",
                    village=_get(Village, p.get("village")) or staff.village,
                    person=staff.person,
                )  # fmt: skip
            elif p.get("op") == "assign":
                scope.require(scope.can_assign)
                village = _get(Village, p.get("village"))
                grid = _get(Grid, p.get("grid"))
                if village and not scope.villages().filter(pk=village.pk).exists():
                    raise Http404
                if grid and not scope.grids().filter(pk=grid.pk).exists():
                    raise Http404
                actions.do_assign(request.user, staff, village=village, grid=grid)
            else:
                raise ValidationError(_("Unknown operation."))
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:staff", pk=staff.pk)
    return render(request, "org/staff_detail.html", {
        "member": staff, "roles": Role.choices if staff.role == Role.CUSTOMER else STAFF_FORM_ROLES,
        "branches": Branch.objects.all(),
        "assignments": staff.assignments.select_related("village", "grid", "assigned_by", "ended_by"),
        "villages": scope.villages().filter(branch_id=staff.branch_id) if staff.branch_id else [],
        "error": error,
    }, status=400 if error else 200)  # fmt: skip


@require_POST
@staff_view
def assignment_end(request: HttpRequest, pk: int) -> HttpResponse:
    scope = request.scope
    try:
        assignment = Assignment.objects.select_related("staff").get(
            pk=pk, staff__in=scope.staff_members()
        )
    except Assignment.DoesNotExist:
        raise Http404 from None
    try:
        actions.do_end_assignment(request.user, assignment)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    return redirect("org:staff", pk=assignment.staff_id)
