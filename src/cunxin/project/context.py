from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cunxin.org.scope import scope_for
from cunxin.project.nav import nav_for


def staff(request: HttpRequest) -> dict:
    """The signed-in user's scope (one query, cached for the request) and navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    return {"scope": scope, "nav": SimpleLazyObject(lambda: nav_for(scope, request.path))}
