"""Paper evaluation sheets on the bank's side: download a panel member's sheet for the open
first round, upload it filled in (`cunxin.evaluation.sheets`). Staff who may write, with
the project's village in scope; the read-only role gets 403, anyone else 404. A sheet
holds the persons of the user's scope (a CM with grids: those grids' households), and an
upload stores reviews of those persons only."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cunxin.evaluation import sheets
from cunxin.evaluation.actions import may_manage_project
from cunxin.evaluation.forms import SheetUploadForm
from cunxin.evaluation.models import Project
from cunxin.evaluation.staff_views import project_or_404
from cunxin.org.scope import staff_view


def _writable_project(request: HttpRequest, pk: int) -> Project:
    """The project in the user's scope (404 otherwise) that the user may work on (403)."""
    scope = request.scope
    project = project_or_404(scope, pk)
    scope.require(may_manage_project(scope, project))
    return project


def _page(request: HttpRequest, project: Project, *, form=None, error: str = "", result=None, status=200):  # fmt: skip
    try:
        rnd, round_error = sheets.open_first_round(project), ""
    except ValidationError as e:
        rnd, round_error = None, " ".join(e.messages)
    panel = project.panel.filter(removed_at__isnull=True).select_related("staff")
    return render(request, "evaluation/sheet_import.html", {
        "project": project, "round": rnd, "round_error": round_error, "panel": panel,
        "error": error, "result": result, "max_mb": sheets.MAX_UPLOAD_BYTES // (1024 * 1024),
        "form": form or SheetUploadForm(project=project),
        "whole_village": request.scope.sees_whole_village(project.village_id),
    }, status=status)  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def sheets_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel's sheets to download; POST uploads one filled in (`member`, `sheet`)."""
    project = _writable_project(request, pk)
    if request.method == "GET":
        return _page(request, project)
    form = SheetUploadForm(request.POST, request.FILES, project=project)
    if not form.is_valid():
        return _page(request, project, form=form, status=400)
    member = form.cleaned_data["member"]
    try:
        rnd = sheets.open_first_round(project)
        result = sheets.import_sheet(request.user, rnd, member, form.cleaned_data["sheet"])
    except ValidationError as e:  # the round, not the form: said at the top, as on export
        return _page(request, project, form=form, error=" ".join(e.messages), status=400)
    if not result.ok:
        return _page(request, project, form=form, result=result, status=400)
    messages.success(request, _(
        "%(name)s's sheet imported: %(stored)s reviews stored (%(replaced)s of them replace "
        "unfinished drafts from the app), %(unchanged)s already imported and unchanged, "
        "%(skipped)s empty rows skipped."
    ) % {
        "name": member.staff.display_name, "stored": result.stored,
        "replaced": result.replaced_drafts, "unchanged": result.unchanged,
        "skipped": result.skipped,
    })  # fmt: skip
    return redirect("evaluation:sheets", pk=project.pk)


@require_GET
@staff_view
def sheet_export(request: HttpRequest, pk: int, member: int) -> HttpResponse:
    """One panel member's sheet as Excel, masked the evaluator's way; access-logged."""
    project = _writable_project(request, pk)
    seat = (
        project.panel.filter(pk=member, removed_at__isnull=True)
        .select_related("staff__person")
        .first()
    )
    if seat is None:
        raise Http404
    try:
        rnd = sheets.open_first_round(project)
    except ValidationError as e:
        return _page(request, project, error=" ".join(e.messages), status=400)
    content = sheets.export_sheet(project, rnd, seat, request.scope)
    sheets.log_sheet_export(request.user, project, seat)
    response = HttpResponse(content, content_type=sheets.XLSX_TYPE)
    # no personal data in the name: the village and the seat, by number
    response["Content-Disposition"] = content_disposition_header(True, _(
        "Paper evaluation sheet of %(village)s, seat %(seat)s"
    ) % {"village": project.village.name, "seat": seat.pk} + ".xlsx")  # fmt: skip
    return response
