from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from cunxin.org.actions import do_change_password
from cunxin.org.codelogin import request_code, verify_code
from cunxin.org.models import Role
from cunxin.org.scope import scope_for
from cunxin.project.forms import CodeLoginForm, CodeVerifyForm
from cunxin.project.todo import last_publish, todos_for
from cunxin.providers.sms import get_sms_provider


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
    """What this person should do next, by role: their to-dos with counts (`todo.py`),
    then their villages."""
    scope = scope_for(request.user)
    context: dict = {"role": scope.role, "todos": todos_for(scope)}
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
        context["last_publish"] = last_publish()
    if scope.role == Role.CUSTOMER and scope.staff.person_id:
        context["own_household"] = scope.households().first()
    return render(request, "project/home.html", context)


# Django 5.2 changed this message of MinimumLengthValidator (its placeholder is now %d)
# and its zh_Hans catalogue did not follow: named here, makemessages keeps our translation.
PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    12,
)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any signed-in user changes their own password (old password, new one twice; the
    password policy applies). The change and its audit event commit together; the event
    names the user and carries no password or hash. The session stays signed in."""

    http_method_names = ["get", "post", "head", "options"]
    template_name = "project/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        do_change_password(self.request.user, form)
        update_session_auth_hash(self.request, form.user)  # the session stays signed in
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400  # as every form of the app answers a mistake
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "project/password_change_done.html"


CODE_SESSION_KEY = "code_login_staff"


@require_http_methods(["GET", "POST"])
def code_login(request: HttpRequest) -> HttpResponse:
    """Evaluators sign in with their phone and a one-time code (step 1: the phone)."""
    form = CodeLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        staff, sent = request_code(form.cleaned_data["phone"])
        # the same answer whether or not the number is known (no way to test numbers)
        request.session[CODE_SESSION_KEY] = staff.pk if staff else 0
        request.session.pop("code_login_simulated_text", None)
        if sent is not None and sent.is_simulated:
            request.session["code_login_simulated_text"] = sent.shown_text
        return redirect("code_verify")
    provider = get_sms_provider(settings.CUNXIN_SMS)
    return render(
        request, "project/code_login.html", {"provider": provider, "form": form},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def code_verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the code. The simulator's message is shown here, labelled as such."""
    staff_id = request.session.get(CODE_SESSION_KEY)
    if staff_id is None:
        return redirect("code_login")
    error = False
    if request.method == "POST":
        form = CodeVerifyForm(request.POST)
        code = form.cleaned_data["code"] if form.is_valid() else None
        staff = verify_code(staff_id, code) if staff_id and code else None
        if staff is not None:
            request.session.pop("code_login_simulated_text", None)
            login(request, staff.user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
        error = True
    simulated = request.session.get("code_login_simulated_text")
    return render(
        request, "project/code_verify.html", {"error": error, "simulated_text": simulated},
        status=400 if error else 200,
    )  # fmt: skip
