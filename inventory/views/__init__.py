"""Blueprints (one per audience), error pages, security headers and template helpers.

Views parse input, check access and render; services change data; the view
commits once per request (or rolls back when a service refuses).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from decimal import Decimal

from flask import Flask, render_template
from flask_babel import format_date, format_datetime, lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..auth import enforce_declared_access
from ..extensions import db, login_manager
from ..models import MovementKind, Role
from ..services.ledger import format_quantity

#: Display names of movement kinds, roles and statuses (translated).
KIND_LABELS = {
    MovementKind.RECEIVE: _l("Receipt"), MovementKind.ISSUE: _l("Issue"),
    MovementKind.TRANSFER_OUT: _l("Transfer out"), MovementKind.TRANSFER_IN: _l("Transfer in"),
    MovementKind.ADJUST: _l("Adjustment"), MovementKind.DISPOSE: _l("Disposal"),
    MovementKind.REVERSE: _l("Reversal"),
}
ROLE_LABELS = {
    Role.ADMIN: _l("Emergency office (admin)"), Role.KEEPER: _l("Warehouse keeper"),
    Role.CIVIL_DEFENCE: _l("Armed forces department"), Role.RESIDENTIAL: _l("Residential area manager"),
    Role.VIEWER: _l("Viewer (read-only)"), Role.SYSTEM: _l("System"),
}
SOURCE_LABELS = {"purchase": _l("Purchase"), "donation": _l("Donation"),
                 "allocation": _l("Allocation from above"), "opening": _l("Opening balance")}
STATUS_LABELS = {"expired": _l("Expired"), "expiring": _l("Near expiry"), "ok": _l("OK")}
#: What an import row did or would do (RowResult.action of the importers).
IMPORT_ACTIONS = {"create": _l("Create"), "update": _l("Update"), "receive": _l("Receive"),
                  "adjust": _l("Adjust"), "unchanged": _l("Unchanged"), "line": _l("Line"),
                  "new version": _l("New version"), "create list": _l("New list"), "skip": _l("Skipped")}
KIND_OF_LOCATION = {"depot": _l("Depot"), "civil_defence": _l("Civil-defence warehouse"),
                    "residential": _l("Residential storage point"), "agreement": _l("Agreement reserve")}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                                "style-src 'self'; script-src 'self'; object-src 'none'; "
                                "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
}


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation bar: shown to users whose role is in ``roles``, sorted by ``order``."""

    endpoint: str
    label: object
    roles: tuple
    order: int = 50


def _view_modules():
    """Every module of this package that defines a blueprint ``bp`` (sorted by name)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "bp"):
            yield module


def register_views(app: Flask) -> None:
    """Register every blueprint of this package, hooks, error handlers and template helpers.

    A module joins the app by defining ``bp`` (a Blueprint) and, optionally,
    ``NAV`` (a list of :class:`NavEntry`) for the navigation bar.
    """
    from flask_bootstrap import Bootstrap5

    Bootstrap5(app)
    nav: list[NavEntry] = []
    for module in _view_modules():
        app.register_blueprint(module.bp)
        nav.extend(getattr(module, "NAV", []))
    nav.sort(key=lambda e: (e.order, e.endpoint))

    def nav_entries():
        role = getattr(current_user, "role", None)
        return [e for e in nav if role in e.roles]
    app.before_request(enforce_declared_access)
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
        qty=_qty, localtime=_localtime, localdate=_localdate, name=_name, kind_label=KIND_LABELS.get,
        status_label=STATUS_LABELS.get, role_label=_role_label, location_kind=_location_kind,
        source_label=lambda source: SOURCE_LABELS.get(getattr(source, "value", source), source),
        import_action=lambda action: IMPORT_ACTIONS.get(action, action))
    from .once import one_time_token

    app.jinja_env.globals.update(Role=Role, url_exists=lambda endpoint: endpoint in app.view_functions,
                                 nav_entries=nav_entries, one_time_token=one_time_token)


def _too_many(error):
    """429 page stating how long to wait, from the breached limit's reset time."""
    import math
    import time

    from ..extensions import limiter

    db.session.rollback()
    limit = limiter.current_limit
    minutes = max(1, math.ceil((limit.reset_at - time.time()) / 60)) if limit is not None else 1
    return render_template("errors/429.html", minutes=minutes), 429


def _role_label(role):
    return ROLE_LABELS.get(Role(getattr(role, "value", role)))


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
    from ..i18n import is_english

    return obj.display_name("en" if is_english() else "zh") if obj is not None else ""


def _location_kind(kind) -> str:
    value = getattr(kind, "value", kind)
    return str(KIND_OF_LOCATION.get(value, value))
