"""Project-wide response policies."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers


def no_store_when_signed_in(get_response: Callable[[HttpRequest], HttpResponse]):
    """Every page a signed-in user gets may hold personal data: no browser or proxy may
    keep it (``Cache-Control: no-store``). htmx fragments vary on HX-Request."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
        patch_vary_headers(response, ["HX-Request"])
        return response

    return middleware
