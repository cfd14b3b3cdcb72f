"""Project-wide response policies."""

from __future__ import annotations

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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


class DatabaseBusy:
    """A write that waited the whole lock timeout (SQLite, one writer at a time: see
    CUNXIN_SQLITE_TIMEOUT) is answered 503 "busy, try again" with Retry-After, not a 500:
    nothing was written, and the user's request may simply be sent again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, OperationalError) and "database is locked" in str(exception):
            response = render(request, "503.html", status=503)
            response["Retry-After"] = "5"
            return response
        return None
