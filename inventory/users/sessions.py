"""Sign-in sessions: who the request's user is, and starting and ending their session.

A session stores ``user id : session version : sign-in time``; raising the user's session
version (:func:`inventory.users.services.accounts.end_sessions`) ends every session and
remember cookie of that user at once (OWASP ASVS 3.3).
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, session
from flask_login import login_user

from inventory.core.db import db
from inventory.users.models import User
from inventory.web.extensions import login_manager

#: Session keys that survive signing in (everything else, the CSRF token included, is dropped).
KEPT_AT_SIGN_IN = ("lang",)


def parse_session_token(token: str) -> tuple[int, int, int] | None:
    """``"<user id>:<session version>:<signed in at, Unix seconds>"`` (see ``User.get_id``)
    → the three numbers, or None for anything else (e.g. a session from before versions)."""
    parts = (token or "").split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    user_id, version, signed_in = (int(p) for p in parts)
    return user_id, version, signed_in


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    """The user a session or remember cookie names, checked on every request.

    None (signed out) when the token is malformed, the user is gone or inactive,
    the user's ``session_version`` moved on since the sign-in (every session
    ended), or the sign-in is older than ``REMEMBER_COOKIE_DURATION`` (30 days:
    the longest a sign-in lasts, remembered or not; OWASP ASVS 3.3.2).
    """
    from inventory.core import clock

    parsed = parse_session_token(token)
    if parsed is None:
        return None
    user_id, version, signed_in = parsed
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    now = clock.now_utc().replace(tzinfo=dt.timezone.utc).timestamp()
    if now - signed_in > current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds():
        return None
    user._session_token = token
    return user


def clear_session() -> None:
    """Drop everything from the session (CSRF token included) but :data:`KEPT_AT_SIGN_IN`."""
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User, *, remember: bool = False) -> None:
    """Sign ``user`` in on a new session: the old session's content (CSRF token included) is
    dropped but the language choice, so nothing set before sign-in is carried into it
    (session fixation, OWASP ASVS 3.2.1).  ``remember`` sets the remember cookie."""
    clear_session()
    user._session_token = None  # a new identity with the current session version and time
    login_user(user, remember=remember)


