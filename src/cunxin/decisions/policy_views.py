"""The credit policy's versions for HQ and the branches: which one is in force today, which
are scheduled, superseded or drafts, what each one says in words, a new version from an
existing one (HQ admins: a draft, or published at once with an effective date), and a
draft published with an effective date (HQ admins) once it has been tried with a what-if.

HQ admins, HQ analysts and branch managers read the policy (it is the bank's, not a
branch's); other bank staff get 404 (as for a page that is not theirs), and a reader who
may not write gets 403 on a POST.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cunxin.credit.decide import INPUTS, OUTPUTS
from cunxin.credit.policy import DEFAULT_HARD_STOPS, CreditPolicy, Preset, Rule
from cunxin.decisions.explain import yuan_text
from cunxin.decisions.fetch import credit_policy, credit_policy_in_force
from cunxin.decisions.forms import CreditPolicyForm, PublishPolicyForm
from cunxin.decisions.models import CreditPolicyVersion
from cunxin.decisions.policy_actions import (
    FIELD_LABELS,
    PRESET_HELP,
    PRESET_LABELS,
    SHARES,
    as_percent,
    do_create_policy_version,
    do_publish_policy_version,
    may_edit_credit_policy,
    next_version_name,
    status_of,
    whatif_passed,
)
from cunxin.evaluation.policy_views import field_errors
from cunxin.org.models import Role
from cunxin.org.scope import staff_view

READ_ROLES = frozenset({Role.HQ_ADMIN, Role.HQ_ANALYST, Role.BRANCH_MANAGER})
STATUS_LABELS = {
    "draft": gettext_lazy("draft"),
    "in_force": gettext_lazy("in force"),
    "scheduled": gettext_lazy("scheduled"),
    "superseded": gettext_lazy("superseded"),
}
WHOLE = re.compile(r"-?\d+")


def _require_reader(scope) -> None:
    if scope.role not in READ_ROLES:
        raise Http404


def _version_or_404(pk: int) -> CreditPolicyVersion:
    try:
        return CreditPolicyVersion.objects.select_related("created_by", "published_by").get(pk=pk)
    except CreditPolicyVersion.DoesNotExist:
        raise Http404 from None


# --- the form ----------------------------------------------------------------------------------
def _known_stops(policy: CreditPolicy) -> list[tuple[Rule, bool]]:
    """The version's hard stops (in use), then those of other versions and of the defaults
    that it does not use, so that a stop turned off can be turned on again. One query."""
    in_use = list(policy.hard_stops)
    seen = {r.id for r in in_use}
    others: list[Rule] = []
    stored = CreditPolicyVersion.objects.values_list("data", flat=True)  # newest first
    for rules in [*(data.get("hard_stops", []) for data in stored), DEFAULT_HARD_STOPS]:
        for r in rules:
            rule = r if isinstance(r, Rule) else Rule(r["id"], r["label"], r["when"])
            if rule.id not in seen:
                seen.add(rule.id)
                others.append(rule)
    return [(r, True) for r in in_use] + [(r, False) for r in others]


def _percent_text(share: float) -> str:
    return as_percent(share).rstrip("%")


def _form_initial(policy: CreditPolicy) -> dict[str, Any]:
    """The version's policy as the new-version form shows it."""
    ch = policy.credit_household
    return {
        "version": next_version_name(),
        "effective_from": "",  # a draft unless a date is given
        "note": "",
        "grades": [{"key": g.key, "name": g.name, "cap": g.cap_yuan} for g in policy.grades],
        "preset": str(policy.preset),
        "rounding_yuan": policy.rounding_yuan,
        "capacity": policy.capacity,
        "stops": [{"id": r.id, "label": r.label, "when": r.when, "on": on}
                  for r, on in _known_stops(policy)],
        "routes": [{"id": r.id, "label": r.label, "when": r.when} for r in policy.routes],
        "credit_household": {"id": ch.id, "label": ch.label, "when": ch.when},
        "shares": [{"name": n, "label": FIELD_LABELS[n],
                    "value": _percent_text(getattr(policy.credit_village, n))} for n in SHARES],
    }  # fmt: skip


def _form_posted(post: Mapping[str, Any], policy: CreditPolicy) -> dict[str, Any]:
    """The form as typed (the request's POST) or as checked (`CreditPolicyForm`'s cleaned
    data). The rules are the version's (and the known hard stops): their ids come from
    the version, never from the request."""
    form = _form_initial(policy)
    for name in ("version", "effective_from", "note", "preset", "rounding_yuan", "capacity"):
        form[name] = post.get(name, "")
    for g in form["grades"]:
        g["cap"] = post.get(f"cap-{g['key']}", "")
    for r in form["stops"]:
        r["on"] = bool(post.get(f"stop-{r['id']}-on"))
        r["label"] = post.get(f"stop-{r['id']}-label", "")
        r["when"] = post.get(f"stop-{r['id']}-when", "")
    for r in form["routes"]:
        r["label"] = post.get(f"route-{r['id']}-label", "")
        r["when"] = post.get(f"route-{r['id']}-when", "")
    form["credit_household"]["label"] = post.get("credit_household-label", "")
    form["credit_household"]["when"] = post.get("credit_household-when", "")
    for s in form["shares"]:
        s["value"] = post.get(s["name"], "")
    return form


def _whole(text: Any) -> int | str:
    """ "200,000" → 200000; what is not a whole number is passed on as typed, for the
    action to refuse with the setting's name."""
    cleaned = str(text).strip().replace(",", "").replace("，", "")
    return int(cleaned) if WHOLE.fullmatch(cleaned) else str(text)


def _share(text: Any) -> Decimal | str:
    """ "70" or "70%" → 0.70; what does not parse is passed on as typed."""
    cleaned = str(text).strip().rstrip("%％").strip()
    try:
        return Decimal(cleaned) / 100
    except InvalidOperation:
        return str(text)


def _date(text: str) -> dt.date | str | None:
    """The typed date; None if nothing is typed (a draft); what does not parse as typed."""
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return text


def _changes(form: dict[str, Any]) -> dict[str, Any]:
    """The typed form as changes to the policy (`to_data`'s shape)."""
    rule = lambda r: {"id": r["id"], "label": r["label"], "when": r["when"]}  # noqa: E731
    return {
        "hard_stops": [rule(r) for r in form["stops"] if r["on"]],
        "grades": [{"key": g["key"], "name": g["name"], "cap_yuan": _whole(g["cap"])}
                   for g in form["grades"]],
        "capacity": form["capacity"],
        "preset": form["preset"],
        "rounding_yuan": _whole(form["rounding_yuan"]),
        "routes": [rule(r) for r in form["routes"]],
        "credit_household": rule(form["credit_household"]),
        "credit_village": {s["name"]: _share(s["value"]) for s in form["shares"]},
    }  # fmt: skip


# --- pages -------------------------------------------------------------------------------------
@require_http_methods(["GET"])
@staff_view
def policies(request: HttpRequest) -> HttpResponse:
    """Every version, the drafts first, then the latest effective date: in force today,
    scheduled or superseded; who created it and why. Two queries (one more on the very
    first use)."""
    _require_reader(request.scope)
    in_force = credit_policy_in_force()  # first: it stores the default version on first use
    today = timezone.localdate()
    versions = list(CreditPolicyVersion.objects.select_related("created_by"))
    for v in versions:
        v.status = status_of(v, in_force, today)
        v.status_label = STATUS_LABELS[v.status]
    return render(request, "decisions/policies.html", {
        "versions": versions, "in_force": in_force, "today": today,
    })  # fmt: skip


def _policy_page(
    request: HttpRequest,
    version: CreditPolicyVersion,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    publish_date: str = "",
    publish_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The version's page: 400 if the new-version form or the publish form was refused."""
    scope = request.scope
    current = credit_policy(version)
    can_create = may_edit_credit_policy(scope)
    if form is None:
        form = _form_initial(current) if can_create else {}
    errors, publish_errors = errors or {}, publish_errors or {}
    in_force = credit_policy_in_force()
    today = timezone.localdate()
    status = status_of(version, in_force, today)
    return render(request, "decisions/policy.html", {
        "version": version, "policy": current, "status": status,
        "status_label": STATUS_LABELS[status], "in_force": in_force,
        "grades": [(g.name, yuan_text(g.cap_yuan)) for g in current.grades],
        "preset_label": PRESET_LABELS[current.preset], "preset_help": PRESET_HELP[current.preset],
        "rounding": yuan_text(current.rounding_yuan),
        "village": [(FIELD_LABELS[n], as_percent(getattr(current.credit_village, n)))
                    for n in SHARES],
        "can_create": can_create, "form": form, "errors": errors, "labels": FIELD_LABELS,
        "presets": [(str(p), PRESET_LABELS[p]) for p in Preset],
        "inputs": list(INPUTS), "outputs": list(OUTPUTS),
        # the what-if page is HQ's (others would get a 404)
        "can_whatif": scope.sees_everything,
        "can_publish": can_create and status == "draft",
        "whatif_passed": status == "draft" and whatif_passed(version),
        "publish_date": publish_date or today.isoformat(), "publish_errors": publish_errors,
    }, status=400 if errors or publish_errors else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    """One version, everything it says in words; for HQ admins a form whose POST creates a
    new version from this one (the version itself never changes), and on a draft the way
    to try it (a what-if) and to publish it."""
    scope = request.scope
    _require_reader(scope)
    version = _version_or_404(pk)
    form = None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        scope.require(may_edit_credit_policy(scope))
        current = credit_policy(version)
        form = _form_posted(request.POST, current)  # as typed, shown again if refused
        checked = CreditPolicyForm(
            request.POST, policy=current, stop_ids=[r["id"] for r in form["stops"]]
        )
        created = None
        if not checked.is_valid():
            errors = checked.part_errors()
        else:
            form = _form_posted(checked.cleaned_data, current)
            try:
                created = do_create_policy_version(
                    request.user, version, _changes(form), form["version"],
                    _date(form["effective_from"]), form["note"],
                )  # fmt: skip
            except ValidationError as e:
                errors = field_errors(e)
        for s in form["shares"]:
            s["errors"] = errors.get(s["name"], [])
        if created is not None:
            if created.effective_from is None:
                message = _(
                    "Version %(version)s is saved as a draft: try it with a what-if, then "
                    "publish it with an effective date."
                )
            elif created.effective_from <= timezone.localdate():
                message = _("Version %(version)s is in force from today.")
            else:
                message = _("Version %(version)s is scheduled: in force from %(date)s.")
            messages.success(request, message % {
                "version": created.version,
                "date": created.effective_from.isoformat() if created.effective_from else "",
            })  # fmt: skip
            return redirect("decisions:policy", pk=created.pk)
    return _policy_page(request, version, form=form, errors=errors)


@require_http_methods(["POST"])
@staff_view
def policy_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """POST `effective_from` (an HQ admin): the draft is published, in force from that
    date. Readers who may not publish get 403; a wrong date, or a version published
    already, shows the version's page again with the message (400)."""
    scope = request.scope
    _require_reader(scope)
    version = _version_or_404(pk)
    scope.require(may_edit_credit_policy(scope))
    form = PublishPolicyForm(request.POST)
    typed = form.data.get("effective_from", "")
    if not form.is_valid():
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
        return _policy_page(request, version, publish_date=typed, publish_errors=errors)
    typed = form.cleaned_data["effective_from"]
    try:
        # nothing typed is not a draft here: it is a missing date
        do_publish_policy_version(request.user, version, _date(typed) or typed)
    except ValidationError as e:
        return _policy_page(request, version, publish_date=typed, publish_errors=field_errors(e))
    if version.effective_from <= timezone.localdate():
        message = _("Version %(version)s is published: in force from today.")
    else:
        message = _("Version %(version)s is published: in force from %(date)s.")
    messages.success(request, message % {
        "version": version.version, "date": version.effective_from.isoformat(),
    })  # fmt: skip
    return redirect("decisions:policy", pk=version.pk)


urls = [
    path("policies/", policies, name="policies"),
    path("policies/<int:pk>/", policy, name="policy"),
    path("policies/<int:pk>/publish/", policy_publish, name="policy_publish"),
]
