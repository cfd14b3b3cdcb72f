"""The evaluation policy's versions for HQ and the branches: which one is in force, what
each one says, a new version from an existing one (HQ admins), and moving a project to
another version (HQ admins, the project's branch manager).

HQ admins, HQ analysts and branch managers read the policies; other bank staff get 404
(as for a page that is not theirs), and a reader who may not write gets 403 on a POST.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import Template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from cunxin.audit.models import AuditEvent
from cunxin.evaluation import policy_actions
from cunxin.evaluation.forms import EvaluationPolicyForm, MoveProjectPolicyForm
from cunxin.evaluation.models import PolicyVersion, Project
from cunxin.evaluation.policy import GRADED_ITEM_LABELS
from cunxin.evaluation.policy_actions import AMOUNT_RULE_LABELS, FIELD_LABELS, RELATIONS, as_percent
from cunxin.evaluation.staff_views import project_or_404
from cunxin.evaluation.versions import evaluation_policy, evaluation_policy_in_force, policy_data
from cunxin.lib.relations import RELATION_LABELS
from cunxin.org.fields import refuse
from cunxin.org.models import Role
from cunxin.org.scope import staff_view

READ_ROLES = frozenset({Role.HQ_ADMIN, Role.HQ_ANALYST, Role.BRANCH_MANAGER})
# The parent of a page rendered as an htmx fragment: its content block only.
FRAGMENT = Template("{% block content %}{% endblock %}")


def _require_reader(scope) -> None:
    if scope.role not in READ_ROLES:
        raise Http404


def _version_or_404(pk: int) -> PolicyVersion:
    try:
        return PolicyVersion.objects.select_related("created_by").get(pk=pk)
    except PolicyVersion.DoesNotExist:
        raise Http404 from None


def _with_notes(versions: list[PolicyVersion]) -> list[PolicyVersion]:
    """Sets `.note` on each version: the note it was created with, which the audit trail
    keeps (the default version has none). One query."""
    events = AuditEvent.objects.filter(
        action="evaluation.policy.create", object_type="evaluation.policyversion",
        object_id__in=[str(v.pk) for v in versions],
    ).values_list("object_id", "after")  # fmt: skip
    notes = {object_id: (after or {}).get("note", "") for object_id, after in events}
    for v in versions:
        v.note = notes.get(str(v.pk), "")
    return versions


def _versions(scope) -> list[PolicyVersion]:
    """Every version, newest first, with how many projects in scope use it and its note.
    Two queries."""
    in_scope = Q() if scope.sees_everything else Q(projects__village__in=scope.villages())
    open_ = in_scope & Q(projects__closed_at__isnull=True)
    versions = (
        PolicyVersion.objects.select_related("created_by")
        .annotate(
            n_projects=Count("projects", filter=in_scope, distinct=True),
            n_open=Count("projects", filter=open_, distinct=True),
        )
        .order_by("-created_at", "-pk")
    )
    return _with_notes(list(versions))


def _settings(policy) -> list[tuple[str, str]]:
    """The numbers and choices of a policy as (label, value in words)."""
    relations = [RELATION_LABELS.get(r, r) for r in RELATIONS if r in policy.conflicting_relations]
    return [
        (FIELD_LABELS["min_valid_reviews"], str(policy.min_valid_reviews)),
        (FIELD_LABELS["black_share"], as_percent(policy.black_share)),
        (FIELD_LABELS["amount_rule"], AMOUNT_RULE_LABELS[policy.amount_rule]),
        (FIELD_LABELS["amount_cap_yuan"], f"{policy.amount_cap_yuan:,}"),
        (FIELD_LABELS["conflicting_relations"], "、".join(relations) or _("none")),
        (FIELD_LABELS["qa_share"], as_percent(policy.qa_share)),
        (FIELD_LABELS["visit_amount_threshold_yuan"], f"{policy.visit_amount_threshold_yuan:,}"),
        (FIELD_LABELS["visit_sample_share"], as_percent(policy.visit_sample_share)),
    ]


def _form_initial(policy) -> dict:
    """The version's settings as the new-version form shows them."""
    return {
        "negative_items": "\n".join(f"{k}: {v}" for k, v in policy.negative_items.items()),
        "graded_items": "\n".join(policy.graded_items),
        "min_valid_reviews": policy.min_valid_reviews,
        "black_share": as_percent(policy.black_share).rstrip("%"),
        "amount_rule": str(policy.amount_rule),
        "amount_cap_yuan": policy.amount_cap_yuan,
        "conflicting_relations": set(policy.conflicting_relations),
        "qa_share": as_percent(policy.qa_share).rstrip("%"),
        "visit_amount_threshold_yuan": policy.visit_amount_threshold_yuan,
        "visit_sample_share": as_percent(policy.visit_sample_share).rstrip("%"),
        "note": "",
    }


def _form_data(form: EvaluationPolicyForm) -> dict:
    """The form as policy data: each setting as cleaned, or, where the form refused it, as
    typed (for `validate_policy` to check the rest, so that all that is wrong is said at
    once). Shares are fractions."""
    typed = {name: form.data.get(name, "") for name in form.fields}
    data = {**typed, **getattr(form, "cleaned_data", {})}
    data.pop("note", None)
    data["negative_items"] = policy_actions.parse_items(str(data["negative_items"]))
    data["graded_items"] = policy_actions.parse_lines(str(data["graded_items"]))
    data["conflicting_relations"] = list(data.get("conflicting_relations") or [])
    return data


def form_errors(form) -> dict[str, list[str]]:
    """A refused form's messages by field ("general" for the rest), as `field_errors`."""
    return {("general" if k == NON_FIELD_ERRORS else k): [str(m) for m in v]
            for k, v in form.errors.items()}  # fmt: skip


def field_errors(e: ValidationError) -> dict[str, list[str]]:
    """A refusal's messages by form field ("general" for the rest); the credit policy
    editor shows its refusals the same way."""
    if not hasattr(e, "error_dict"):
        return {"general": e.messages}
    return {("general" if k == NON_FIELD_ERRORS else k): v for k, v in e.message_dict.items()}


@require_http_methods(["GET"])
@staff_view
def policies(request: HttpRequest) -> HttpResponse:
    """Every version, newest first: which one is in force, how many projects use each."""
    scope = request.scope
    _require_reader(scope)
    in_force = evaluation_policy_in_force()  # first: it stores the default version on first use
    return render(request, "evaluation/policies.html", {
        "versions": _versions(scope), "in_force": in_force, "base": "project/base.html",
    })  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    """One version, every setting in words; for HQ admins a form whose POST creates a new
    version from this one (the version itself never changes)."""
    scope = request.scope
    _require_reader(scope)
    version = _version_or_404(pk)
    settings = evaluation_policy(version)
    can_create = policy_actions.may_create_policy_version(scope)
    form = _form_initial(settings)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        scope.require(can_create)
        posted = EvaluationPolicyForm(request.POST)
        # what was typed is shown again, whatever is refused
        form = {**{k: posted.data.get(k, "") for k in posted.fields}, "note": posted.data.get("note", ""),
                "conflicting_relations": set(posted.data.getlist("conflicting_relations"))}  # fmt: skip
        created = None
        if not posted.is_valid():
            errors = form_errors(posted)
            try:  # what the form let through is checked as well
                policy_actions.validate_policy(
                    {**policy_data(settings), **_form_data(posted), "version": ""}
                )
            except ValidationError as e:
                errors = {**field_errors(e), **errors}
        else:
            try:
                created = policy_actions.do_new_policy_version(
                    request.user, version, _form_data(posted), posted.cleaned_data["note"]
                )
            except ValidationError as e:
                errors = field_errors(e)
        if created is not None:
            messages.success(
                request,
                _("Version %(version)s is in force: new projects start with it.")
                % {"version": created.version},
            )
            return redirect("evaluation:policy", pk=created.pk)
    projects = (
        Project.objects.filter(policy=version, village__in=scope.villages())
        .select_related("village")
        .order_by("closed_at", "village__name")
    )
    return render(request, "evaluation/policy.html", {
        "version": version, "policy": settings, "in_force": evaluation_policy_in_force().pk == version.pk,
        "note": _with_notes([version])[0].note, "settings": _settings(settings),
        "graded": [(k, GRADED_ITEM_LABELS.get(k, k)) for k in settings.graded_items],
        "projects": projects, "can_create": can_create, "form": form, "errors": errors,
        "labels": FIELD_LABELS, "rules": list(AMOUNT_RULE_LABELS.items()),
        "relations": [(r, RELATION_LABELS.get(r, r)) for r in RELATIONS],
        "known_graded": GRADED_ITEM_LABELS.items(),
    }, status=400 if errors else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
@vary_on_headers("HX-Request")
def project_policy(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a project to another policy version. GET: the form (only the form for htmx,
    which the project page loads into itself); POST: the move, back to the project."""
    scope = request.scope
    project = project_or_404(scope, pk)
    scope.require(policy_actions.can_move_project_policy(request.user, project))
    form = MoveProjectPolicyForm()
    if request.method == "POST":
        form = MoveProjectPolicyForm(request.POST)
        if form.is_valid():
            target = form.cleaned_data["version"]
            try:
                policy_actions.do_move_project_policy(
                    request.user, project, target, form.cleaned_data["reason"]
                )
            except ValidationError as e:
                refuse(form, e)
            else:
                messages.success(
                    request,
                    _("The project now uses policy %(version)s.") % {"version": target.version},
                )
                return redirect("evaluation:project", pk=project.pk)
    fragment = bool(request.htmx) and not form.errors
    in_force = evaluation_policy_in_force()
    return render(request, "evaluation/policies.html", {
        "versions": _versions(scope), "in_force": in_force,
        "project": project, "form": form, "fragment": fragment,
        "base": FRAGMENT if fragment else "project/base.html",
    }, status=400 if form.errors else 200)  # fmt: skip
