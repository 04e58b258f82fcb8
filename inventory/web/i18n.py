"""Language selection: Simplified Chinese by default, English on request.

Order: the ``lang`` query parameter (remembered in the session), the signed-in
user's preference, then Simplified Chinese — the app's users are Chinese
street offices, so the browser's Accept-Language does not override it.
"""
from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from inventory.web.extensions import babel


def select_locale() -> str:
    """Return the locale code for this request ("zh_Hans_CN" or "en")."""
    languages = current_app.config["LANGUAGES"]
    try:
        wanted = request.args.get("lang")
    except RuntimeError:  # no request: CLI, jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    user_locale = getattr(current_user, "locale", "") if current_user else ""
    if user_locale in languages:
        return user_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def is_english() -> bool:
    """True when the active locale is English (used to pick name_zh or name_en)."""
    return str(get_locale() or "").startswith("en")


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with :func:`select_locale` and expose helpers to templates."""
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _i18n_context():
        return {"is_english": is_english(), "current_locale": str(get_locale() or "")}
