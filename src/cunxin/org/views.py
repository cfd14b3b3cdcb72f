"""Users, roles and assignments, in the app (HQ admins also have Django admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cunxin.org import actions
from cunxin.org.fields import refuse
from cunxin.org.forms import STAFF_FORM_ROLES, AssignForm, ChangeStaffForm, CreateStaffForm
from cunxin.org.models import Assignment, Branch, Role, Staff
from cunxin.org.scope import staff_view


def _staff_or_404(scope, pk: int) -> Staff:
    try:
        return scope.staff_members().select_related("user", "branch").get(pk=pk)
    except Staff.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@staff_view
def staff_list(request: HttpRequest) -> HttpResponse:
    """Staff the user may see; HQ admins create users here (POST)."""
    scope = request.scope
    if not (scope.can_manage_staff or scope.can_assign or scope.sees_everything):
        raise Http404
    form = CreateStaffForm()
    if request.method == "POST":
        scope.require(scope.can_manage_staff)
        form = CreateStaffForm(request.POST)
        if form.is_valid():
            try:
                staff = actions.do_create_staff(request.user, **form.cleaned_data)
            except ValidationError as e:
                refuse(form, e)
            else:
                messages.success(
                    request, _("User %(name)s created.") % {"name": staff.user.username}
                )
                return redirect("org:staff", pk=staff.pk)
    return render(request, "org/staff_list.html", {
        "staff": scope.staff_members().select_related("user", "branch").order_by("role", "user__username"),
        "roles": STAFF_FORM_ROLES, "branches": Branch.objects.all(), "form": form,
    }, status=400 if form.errors else 200)  # fmt: skip


def _staff_page(request: HttpRequest, staff: Staff, *, change=None, assign=None) -> HttpResponse:
    """A user's role and assignments (with history), with the forms of the two actions:
    the one given (refused: 400) or empty ones."""
    scope = request.scope
    refused = bool((change and change.errors) or (assign and assign.errors))
    return render(request, "org/staff_detail.html", {
        "member": staff, "roles": Role.choices if staff.role == Role.CUSTOMER else STAFF_FORM_ROLES,
        "branches": Branch.objects.all(),
        "assignments": staff.assignments.select_related("village", "grid", "assigned_by", "ended_by"),
        "villages": scope.villages().filter(branch_id=staff.branch_id) if staff.branch_id else [],
        "change_form": change or ChangeStaffForm(), "assign_form": assign or AssignForm(),
    }, status=400 if refused else 200)  # fmt: skip


@require_GET
@staff_view
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A user's role and assignments; changing them and assigning are their own URLs."""
    return _staff_page(request, _staff_or_404(request.scope, pk))


@require_POST
@staff_view
def staff_change(request: HttpRequest, pk: int) -> HttpResponse:
    """An HQ admin changes a user's role, branch or status (`role`, `branch`, `active`)."""
    scope = request.scope
    staff = _staff_or_404(scope, pk)
    scope.require(scope.can_manage_staff)
    form = ChangeStaffForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.do_change_staff(
                request.user, staff, role=d["role"], branch=d["branch"], active=d["active"],
                village=d["village"] or staff.village, person=staff.person,
            )  # fmt: skip
        except ValidationError as e:
            refuse(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:staff", pk=staff.pk)
    return _staff_page(request, staff, change=form)


@require_POST
@staff_view
def staff_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager gives a customer manager a village or a grid (`village` or `grid`, by
    code); an area outside the manager's scope is not found (404)."""
    scope = request.scope
    staff = _staff_or_404(scope, pk)
    scope.require(scope.can_assign)
    form = AssignForm(request.POST)
    if form.is_valid():
        village, grid = form.cleaned_data["village"], form.cleaned_data["grid"]
        if village and not scope.villages().filter(pk=village.pk).exists():
            raise Http404
        if grid and not scope.grids().filter(pk=grid.pk).exists():
            raise Http404
        try:
            actions.do_assign(request.user, staff, village=village, grid=grid)
        except ValidationError as e:
            refuse(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:staff", pk=staff.pk)
    return _staff_page(request, staff, assign=form)


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
