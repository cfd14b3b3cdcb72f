from __future__ import annotations

from django.http import HttpRequest

from cunxin.org.scope import scope_for


def staff(request: HttpRequest) -> dict:
    """The signed-in user's scope for the navigation (no query until it is used)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"scope": scope_for(user)}
