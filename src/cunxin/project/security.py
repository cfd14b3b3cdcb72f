"""Browser-side protections the settings wire in.

`csrf_failure` (CSRF_FAILURE_VIEW): the JSON API (`/credit/api/`, decisions/api.py)
answers a failed CSRF check in JSON, as its other errors do (`{"error": "…"}`), so that a
client reads why; every other path gets the Chinese page `403_csrf.html`.

`error_page_styles` (middleware, inside django-csp's): the 500 page is rendered without
static files, so its styles are inline; only that page may use inline styles."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

JSON_PREFIXES = ("/credit/api/",)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403, in JSON for the API, else the page. `reason` (Django's English text) is not
    shown: it says nothing a user can act on."""
    if request.path_info.startswith(JSON_PREFIXES):
        return JsonResponse({"error": _(
            "The request was refused: its CSRF token is missing or wrong. Send the page's "
            "token in the X-CSRFToken header (reload the page for a new one)."
        )}, status=403)  # fmt: skip
    return render(request, "403_csrf.html", status=403)


def error_page_styles(get_response):
    """A server error's page (500.html, which must render with nothing else working)
    carries its styles inline: its policy allows inline styles, still no script."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if response.status_code >= 500:
            response._csp_replace = {"style-src": [SELF, UNSAFE_INLINE]}
        return response

    return middleware
