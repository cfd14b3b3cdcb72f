"""验收 (QA sampling) for bank staff: the pass rate per village, a project's drawn
reviews, one re-check with its photo and signature, and those two images.

Checks are drawn when a first round closes, so every review shown here belongs to a
closed round: staff may read what it says (back to back holds only while a round is
open). Objects come through `request.scope`: outside it → 404; a role that may read but
not record (HQ analyst) → 403; the project's responsible customer manager is refused by
`actions.do_record_qa`, whose message the page shows.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cunxin.evaluation import actions
from cunxin.evaluation.forms import QaCheckForm
from cunxin.evaluation.models import Photo, Project, QaCheck, Verdict
from cunxin.evaluation.staff_views import project_or_404
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.masking import mask_name
from cunxin.org.fields import refuse
from cunxin.org.scope import staff_view


def _percent(passed: int, checked: int) -> float | None:
    """The pass rate in percent, one decimal (None when nothing is checked yet)."""
    return round(100 * passed / checked, 1) if checked else None


def _checks(scope):
    """QA checks of closed rounds in villages the user sees, with what their rows show."""
    return QaCheck.objects.filter(
        review__round__project__village__in=scope.villages(),
        review__round__closed_at__isnull=False,
    ).select_related(
        "review__round__project__village", "review__person__household",
        "review__reviewer__staff", "checker",
    )  # fmt: skip


def _person_rows(scope, checks) -> None:
    """Name the drawn person as the user sees them: in full within their scope, masked
    (name only, no ID) outside it — a customer manager may see a village through one
    grid. One query."""
    uids = {c.review.person_id for c in checks}
    visible = set(scope.persons().filter(uid__in=uids).values_list("uid", flat=True))
    for c in checks:
        person = c.review.person
        c.visible = person.uid in visible
        c.person_label = person.name if c.visible else mask_name(person.name)
        c.household_label = ""
        if person.household is not None:
            head = person.household.head_name
            c.household_label = head if c.visible else mask_name(head)


@require_GET
@staff_view
def qa(request: HttpRequest) -> HttpResponse:
    """验收 overview: drawn, checked, passed and the pass rate per village in scope, with
    links to the projects whose reviews were drawn."""
    scope = request.scope
    rows = actions.qa_pass_rates(scope.villages())
    projects: dict[str, list[Project]] = {}
    for p in Project.objects.filter(
        village__in=scope.villages(), rounds__reviews__qa_check__isnull=False
    ).distinct():
        projects.setdefault(p.village_id, []).append(p)
    for r in rows:
        r["percent"] = _percent(r["passed"], r["checked"])
        r["projects"] = projects.get(r["village"], [])
    totals = {k: sum(r[k] for r in rows) for k in ("drawn", "checked", "passed")}
    totals["percent"] = _percent(totals["passed"], totals["checked"])
    return render(request, "evaluation/qa_overview.html", {"rows": rows, "totals": totals})


@require_GET
@staff_view
def project_qa(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's drawn reviews: person, round, reviewer, checked or not, by whom, result."""
    scope = request.scope
    proj = project_or_404(scope, pk)
    checks = list(
        _checks(scope)
        .filter(review__round__project=proj)
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
    )
    _person_rows(scope, checks)
    checked = [c for c in checks if c.checked_at is not None]
    passed = sum(1 for c in checked if c.passed)
    return render(request, "evaluation/qa_project.html", {
        "project": proj, "checks": checks, "drawn": len(checks), "checked": len(checked),
        "passed": passed, "percent": _percent(passed, len(checked)),
    })  # fmt: skip


def _check_or_404(scope, pk: int) -> QaCheck:
    """The check, if its village is in scope; its photo's place, not the image bytes."""
    try:
        return (
            _checks(scope)
            .select_related("review__round__project__policy", "photo")
            .defer("photo__data")
            .get(pk=pk)
        )
    except QaCheck.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@staff_view
def check(request: HttpRequest, pk: int) -> HttpResponse:
    """One drawn review and its re-check. POST records it (`QaCheckForm`): result (pass /
    fail), note (required on fail), photo (upload) and signature (PNG data URL), place
    (optional)."""
    scope = request.scope
    qa_check = _check_or_404(scope, pk)
    _person_rows(scope, [qa_check])
    project = qa_check.review.round.project
    responsible = scope.staff.pk == project.responsible_id
    form = QaCheckForm()
    if request.method == "POST":
        # the responsible customer manager is refused by the action, with its message
        scope.require(actions.may_manage_project(scope, project))
        form = QaCheckForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            latitude, longitude = d["point"]
            try:
                actions.do_record_qa(
                    request.user, qa_check, passed=d["result"] == "pass", note=d["note"],
                    photo=d["photo"], signature=d["signature"], latitude=latitude,
                    longitude=longitude,
                )  # fmt: skip
            except ValidationError as e:
                refuse(form, e)
            else:
                messages.success(request, _("Saved."))
                return redirect("evaluation:qa_check", pk=qa_check.pk)
    review = qa_check.review
    policy = evaluation_policy(project.policy)
    verdict = Verdict.objects.filter(round=review.round, person_id=review.person_id).first()
    # a good signature is kept, and drawn again on the pad after a refusal
    kept = (
        form.data.get("signature", "") if form.is_bound and "signature" not in form.errors else ""
    )
    return render(request, "evaluation/qa_check.html", {
        "check": qa_check, "review": review, "project": project, "verdict": verdict,
        "negative_items": [policy.negative_items.get(code, code) for code in review.negative_items],
        "graded": [(label, review.graded[item]) for item, label in policy.graded_labels()
                   if item in review.graded],
        "can_record": actions.may_record_qa(scope, project) and qa_check.checked_at is None,
        "responsible": responsible and qa_check.checked_at is None,
        # the action's own refusal, shown before the responsible CM fills in anything
        "responsible_message": actions.qa_refusal(scope.staff, project),
        "form": form, "kept_signature": kept,
    }, status=400 if form.errors else 200)  # fmt: skip


def _image_response(photo_id: int | None) -> HttpResponse:
    photo = Photo.objects.filter(pk=photo_id).first() if photo_id else None
    if photo is None:
        raise Http404
    return stored_image_response(photo)


def stored_image_response(photo: Photo) -> HttpResponse:
    """A stored image (visit or QA photo, signature) as itself, unable to run script, kept
    by no cache."""
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


@require_GET
@staff_view
def check_photo(request: HttpRequest, pk: int) -> HttpResponse:
    return _image_response(_check_or_404(request.scope, pk).photo_id)


@require_GET
@staff_view
def check_signature(request: HttpRequest, pk: int) -> HttpResponse:
    return _image_response(_check_or_404(request.scope, pk).signature_id)
