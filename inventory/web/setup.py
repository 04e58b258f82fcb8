"""Blueprints (one per audience), error pages, security headers and template helpers.

Views parse input, check access and render; services change data; the view
commits once per request, or rolls back when a service refuses
(:func:`inventory.web.transaction.view_transaction`).  The error pages roll
back whatever an aborted request left.
"""
from __future__ import annotations

from decimal import Decimal
from types import ModuleType
from typing import Callable, Iterable, Mapping

from flask import Flask, render_template
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from inventory.core.db import db
from inventory.core.policy import Role
from inventory.core.quantities import format_quantity
from inventory.web.extensions import login_manager
from inventory.web.nav import NavEntry

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                                "style-src 'self'; script-src 'self'; object-src 'none'; "
                                "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
}


def register_views(app: Flask, view_modules: Iterable[ModuleType], filters: Mapping[str, Callable]) -> None:
    """Register the blueprints of ``view_modules``, the hooks, error handlers and template helpers.

    A view module joins the app by defining ``bp`` (a Blueprint) and, optionally, ``NAV`` (a
    list of :class:`~inventory.web.nav.NavEntry`) for the navigation bar; ``filters`` are the
    domains' template filters (name → function), added beside the generic ones here.
    """
    from flask_bootstrap import Bootstrap5

    Bootstrap5(app)
    nav: list[NavEntry] = []
    for module in view_modules:
        app.register_blueprint(module.bp)
        nav.extend(getattr(module, "NAV", []))
    nav.sort(key=lambda e: (e.order, e.endpoint))

    def nav_entries():
        role = getattr(current_user, "role", None)
        return [e for e in nav if role in e.roles]
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    def _error(status: int, template: str):
        def handler(error):
            db.session.rollback()
            return render_template(template, error=error), status
        return handler

    app.register_error_handler(403, _error(403, "errors/403.html"))
    app.register_error_handler(404, _error(404, "errors/404.html"))
    app.register_error_handler(405, _error(405, "errors/400.html"))
    app.register_error_handler(400, _error(400, "errors/400.html"))
    app.register_error_handler(CSRFError, _error(400, "errors/csrf.html"))
    app.register_error_handler(413, _error(413, "errors/400.html"))
    app.register_error_handler(429, _too_many)
    app.register_error_handler(500, _error(500, "errors/500.html"))

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        qty=_qty, localtime=_localtime, localdate=_localdate, name=_name, **filters)
    from inventory.web.once import one_time_token

    app.jinja_env.globals.update(Role=Role, url_exists=lambda endpoint: endpoint in app.view_functions,
                                 nav_entries=nav_entries, one_time_token=one_time_token)


def _too_many(error):
    """429 page stating how long to wait, from the breached limit's reset time."""
    import math
    import time

    from inventory.web.extensions import limiter

    db.session.rollback()
    limit = limiter.current_limit
    minutes = max(1, math.ceil((limit.reset_at - time.time()) / 60)) if limit is not None else 1
    return render_template("errors/429.html", minutes=minutes), 429



def _qty(value) -> str:
    if value is None:
        return ""
    return format_quantity(Decimal(value))


def _localtime(value) -> str:
    if value is None:
        return ""
    return format_datetime(value, "yyyy-MM-dd HH:mm")  # naive UTC → business time zone


def _localdate(value) -> str:
    return "" if value is None else format_date(value, "yyyy-MM-dd")


def _name(obj) -> str:
    from inventory.web.i18n import is_english

    return obj.display_name("en" if is_english() else "zh") if obj is not None else ""
