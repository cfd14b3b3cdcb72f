"""The evaluation policy's versions for HQ and the branches: which one is in force, what
each one says, a new version from an existing one (HQ admins), and moving a project to
another version (HQ admins, the project's branch manager).

HQ admins, HQ analysts and branch managers read the policies; other bank staff get 404
(as for a page that is not theirs), and a reader who may not write gets 403 on a POST.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template import Template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from cunxin.audit.models import AuditEvent
from cunxin.evaluation import policy_actions
from cunxin.evaluation.actions import policy_of
from cunxin.evaluation.models import PolicyVersion, Project
from cunxin.evaluation.policy import GRADED_ITEM_LABELS
from cunxin.evaluation.policy_actions import (
    AMOUNT_RULE_LABELS,
    FIELD_LABELS,
    RELATIONS,
    as_percent,
    policy_in_force,
)
from cunxin.evaluation.staff_views import project_or_404
from cunxin.lib.relations import RELATION_LABELS
from cunxin.org.models import Role
from cunxin.org.scope import staff_view

READ_ROLES = frozenset({Role.HQ_ADMIN, Role.HQ_ANALYST, Role.BRANCH_MANAGER})
SHARES = ("black_share", "qa_share", "visit_sample_share")
WHOLE_NUMBERS = ("min_valid_reviews", "amount_cap_yuan", "visit_amount_threshold_yuan")
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


def _form_data(post: QueryDict) -> dict:
    """The submitted form as policy data. What does not parse is passed on as typed, for
    `validate_policy` to refuse with the setting's name."""
    data: dict = {
        "negative_items": policy_actions.parse_items(post.get("negative_items", "")),
        "graded_items": policy_actions.parse_lines(post.get("graded_items", "")),
        "amount_rule": post.get("amount_rule", ""),
        "conflicting_relations": post.getlist("conflicting_relations"),
    }
    for name in WHOLE_NUMBERS:
        text = post.get(name, "").strip().replace(",", "")
        try:
            data[name] = int(text)
        except ValueError:
            data[name] = text
    for name in SHARES:  # typed as percentages
        text = post.get(name, "").strip().rstrip("%").strip()
        try:
            data[name] = Decimal(text) / 100
        except InvalidOperation:
            data[name] = text
    return data


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
    in_force = policy_in_force()  # first: it stores the default version on first use
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
    settings = policy_of(version)
    can_create = scope.role == Role.HQ_ADMIN
    form = _form_initial(settings)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        scope.require(can_create)
        data = _form_data(request.POST)
        note = request.POST.get("note", "")
        try:
            created = policy_actions.do_new_policy_version(request.user, version, data, note)
        except ValidationError as e:
            errors = field_errors(e)
            form = {**request.POST.dict(), "note": note,
                    "conflicting_relations": set(request.POST.getlist("conflicting_relations"))}  # fmt: skip
        else:
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
        "version": version, "policy": settings, "in_force": policy_in_force().pk == version.pk,
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
    error = ""
    if request.method == "POST":
        target = PolicyVersion.objects.filter(pk=request.POST.get("version") or 0).first()
        try:
            if target is None:
                raise ValidationError(_("Choose a version."))
            policy_actions.do_move_project_policy(
                request.user, project, target, request.POST.get("reason", "")
            )
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            messages.success(
                request,
                _("The project now uses policy %(version)s.") % {"version": target.version},
            )
            return redirect("evaluation:project", pk=project.pk)
    fragment = bool(request.htmx) and not error
    in_force = policy_in_force()
    return render(request, "evaluation/policies.html", {
        "versions": _versions(scope), "in_force": in_force,
        "project": project, "error": error, "reason": request.POST.get("reason", ""),
        "chosen": request.POST.get("version", ""), "fragment": fragment,
        "base": FRAGMENT if fragment else "project/base.html",
    }, status=400 if error else 200)  # fmt: skip
