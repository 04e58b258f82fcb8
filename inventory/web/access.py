"""Route-level access: every view declares its audience; deny by default."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, current_app, request
from flask_login import current_user

from inventory.core.policy import Role
from inventory.web.extensions import login_manager

PUBLIC_ENDPOINTS = {"static", "bootstrap.static"}


def access(*roles: Role, public: bool = False) -> Callable:
    """Declare who may call a view: ``@access(Role.ADMIN, Role.KEEPER)`` or ``@access(public=True)``.

    Anonymous users are sent to the sign-in page; a signed-in user without one
    of ``roles`` gets 403.  The declaration is kept on the function as
    ``_access`` so the deny-by-default hook and the permission tests can read it.
    """
    allowed = "public" if public else frozenset(roles)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if allowed != "public":
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if current_user.role not in allowed:
                    abort(403)
            return view(*args, **kwargs)

        wrapper._access = allowed
        return wrapper

    return decorate


def enforce_declared_access() -> None:
    """``before_request`` hook: refuse (403) any endpoint that did not declare its audience."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "_access", None) is None:
        current_app.logger.error("endpoint %s has no @access declaration; refused", endpoint)
        abort(403)
