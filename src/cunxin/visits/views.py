"""The visit area (走访区): a customer manager's tasks, nearest first from where they stand,
the visit form (per member: confirmed, survey amount, corrections keeping both versions;
photos without their metadata; the GPS point as a field), and the visit progress of a
project for the branch."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cunxin.evaluation.models import Photo
from cunxin.evaluation.qa_views import stored_image_response
from cunxin.evaluation.staff_views import project_or_404
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.geo import parse_point
from cunxin.org.fields import refuse
from cunxin.org.models import Role
from cunxin.org.scope import staff_view
from cunxin.pool.models import Person
from cunxin.visits import actions
from cunxin.visits.forms import RecordVisitForm
from cunxin.visits.models import Mode, Visit, VisitTask


@require_GET
@staff_view
def tasks(request: HttpRequest) -> HttpResponse:
    """The signed-in customer manager's open visit tasks; with ?lat=&lon= (the browser's
    location) nearest first, with the distance."""
    scope = request.scope
    lat, lon = parse_point(request.GET.get("lat"), request.GET.get("lon"))
    here = (float(lat), float(lon)) if lat is not None and lon is not None else None
    rows = actions.my_tasks(scope.staff, here) if scope.role == Role.CUSTOMER_MANAGER else []
    done = (
        actions.my_tasks(scope.staff, done=True)[:20] if scope.role == Role.CUSTOMER_MANAGER else []
    )
    # tasks whose household nobody holds wait with the responsible CM, listed apart
    return render(request, "visits/tasks.html", {
        "rows": [r for r in rows if r[0].held], "waiting": [r for r in rows if not r[0].held],
        "here": here, "done": done,
    })  # fmt: skip


def _task_or_404(request: HttpRequest, pk: int) -> VisitTask:
    task = actions.task_for(request.user, pk)
    if task is None:
        raise Http404
    return task


@require_http_methods(["GET", "POST"])
@staff_view
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    """A task: the household's members with their signed-off evaluation and the visit form
    (the assigned CM), or the recorded visit."""
    task = _task_or_404(request, pk)
    policy = evaluation_policy(task.project.policy)
    recorded = Visit.objects.filter(task=task).prefetch_related("members__person", "photos").first()
    in_scope = actions.holds_household(request.scope, task)
    # a task waiting with the responsible CM for the grid to be assigned: its household is
    # not theirs to see (its number and village only)
    waiting = not in_scope and recorded is None
    members = [] if waiting else list(
        Person.objects.filter(household_id=task.household_id, retired_at__isnull=True).order_by(
            "member_index"
        )
    )  # fmt: skip
    verdicts = {} if waiting else actions.signed_off(task)
    may_record = actions.may_record_visit(request.scope, task)
    form = None
    if request.method == "POST":
        request.scope.require(may_record)
        form = RecordVisitForm(request.POST, request.FILES, members=members, policy=policy)
        if form.is_valid():
            try:
                actions.do_record_visit(request.user, task, form.visit(), policy)
            except ValidationError as e:
                refuse(form, e)
            else:
                messages.success(request, _("The visit is recorded."))
                return redirect("visits:tasks")
    if form is not None:  # (recorded by this POST's loser meanwhile)
        recorded = (
            Visit.objects.filter(task=task).prefetch_related("members__person", "photos").first()
        )
    for p in members + ([m.person for m in recorded.members.all()] if recorded else []):
        p.minor = actions.is_minor(p)
    # where the user goes next (the household, each member's 360 to propose credit): only
    # links that open for them (in_scope)
    rows = [
        (p, verdicts.get(p.uid), actions.survey_prefill(verdicts.get(p.uid)), _typed(form, p))
        for p in members
    ]
    return render(request, "visits/visit.html", {
        "task": task, "rows": rows, "recorded": recorded, "form": form, "policy": policy,
        "modes": Mode.choices, "can_record": may_record,
        "typed_mode": form.data.get("mode", "") if form else "",
        "typed_notes": form.data.get("notes", "") if form else "",
        "in_scope": in_scope, "members": members, "waiting": waiting,
    }, status=400 if form is not None and form.errors else 200)  # fmt: skip


def _typed(form: RecordVisitForm | None, person: Person) -> dict:
    """What was typed for a member, to show again after a refusal, with the messages of
    the member's fields (`errors`: field → messages)."""
    if form is None:
        return {}
    uid = person.uid
    typed = {k: form.data.get(f"{k}-{uid}", "") for k in ("survey", "color", "amount", "reason")}
    errors = {k: form.errors.get(f"{k}-{uid}", []) for k in ("survey", "color", "amount", "reason")}
    return typed | {"confirmed": form.data.get(f"confirmed-{uid}") == "on", "errors": errors}


@require_GET
@staff_view
def photo(request: HttpRequest, pk: int, photo_id: int) -> HttpResponse:
    """A visit photo (stored without metadata), for those who may see the task."""
    task = _task_or_404(request, pk)
    try:
        image = Photo.objects.get(pk=photo_id, kind="visit", pk__in=task.visit.photos.values("pk"))
    except (Photo.DoesNotExist, Visit.DoesNotExist):
        raise Http404 from None
    return stored_image_response(image)


@require_GET
@staff_view
def project_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's visit tasks with who does them and how far they are; the open tasks
    whose household nobody holds are marked (the branch manager assigns the grid)."""
    scope = request.scope
    project = project_or_404(scope, pk)
    rows = (
        project.visit_tasks.select_related("household", "assigned_to")
        .annotate(held=ExpressionWrapper(actions.held_q(), output_field=BooleanField()))
        .order_by("done_at", "household__group_id", "household__household_no")
    )
    done = sum(1 for t in rows if t.done_at)
    waiting = sum(1 for t in rows if not t.done_at and not t.held)
    return render(request, "visits/project.html", {
        "project": project, "rows": rows, "done": done, "waiting": waiting,
        "can_assign": scope.can_assign,
    })  # fmt: skip
