"""Sign-in and sign-out."""
from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from inventory.core import clock
from inventory.core.db import db
from inventory.core.policy import STAFF
from inventory.core.transaction import unit_of_work
from inventory.users.forms import LoginForm
from inventory.users.models import User
from inventory.users.services import signin
from inventory.users.services.accounts import end_sessions, verify_password
from inventory.users.sessions import clear_session, start_session
from inventory.web.access import access
from inventory.web.redirects import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@access(public=True)
def login():
    """Sign-in page; on success go to ``?next=`` (same site only) or the dashboard.

    Password guessing is throttled in the database (:mod:`inventory.users.services.signin`),
    so the limits hold across every worker process: per account, whatever the
    address (``LOGIN_RATE_LIMIT``, default 10 per minute and 50 per hour), and per
    client address, whatever the account (``LOGIN_ADDRESS_RATE_LIMIT``, default
    200 per hour).  The client address is the connection's unless forwarded
    addresses are trusted (``PROXY_FIX_X_FOR``).  While locked, every attempt —
    the right password too — answers 429 without the password being checked.
    Successful sign-ins do not count, so an office behind one address is not
    locked out by its daily work.  ``LOGIN_THROTTLE_ENABLED`` turns it off (tests).
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = None
        if current_app.config.get("LOGIN_THROTTLE_ENABLED", True):
            attempt, lock = _throttle(form.username.data)
            if lock is not None:
                return _locked(lock)
        user = db.session.scalar(db.select(User).where(User.username == form.username.data.strip()))
        if verify_password(user, form.password.data):
            with unit_of_work():
                if attempt is not None:
                    signin.close_attempt(attempt, None)
                start_session(user, remember=form.remember.data)
                user.last_login_at = clock.now_utc()
            return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))
        if attempt is not None:
            with unit_of_work():
                signin.close_attempt(attempt, signin.FAILED)
        current_app.logger.info("sign-in failed: user %r from %s", signin.throttle_key(form.username.data),
                                request.remote_addr)
        flash(_("Wrong username or password."), "danger")
        return render_template("users/login.html", form=form), 401
    return render_template("users/login.html", form=form)


def _throttle(username: str):
    """Record this attempt (committed, so every worker counts it) and return
    ``(attempt, lock)``; ``lock`` is None when the attempt may be evaluated."""
    config = current_app.config
    account, address = signin.parse_limits(config["LOGIN_RATE_LIMIT"]), signin.parse_limits(
        config["LOGIN_ADDRESS_RATE_LIMIT"])
    keep = dt.timedelta(seconds=max((l.seconds for l in account + address), default=0))
    now = clock.now_utc()
    # Its own transaction, before the password is checked: a crash or a slow hash cannot lose the count.
    with unit_of_work():
        attempt = signin.open_attempt(username=username, address=request.remote_addr or "", now=now, keep=keep)
    lock = signin.lock_for(attempt, account_limits=account, address_limits=address, now=now)
    if lock is not None:
        with unit_of_work():
            signin.close_attempt(attempt, signin.REFUSED)
        current_app.logger.warning("sign-in refused, %s locked: user %r from %s", lock.scope,
                                   signin.throttle_key(username), request.remote_addr)
    return attempt, lock


def _locked(lock: signin.Lock):
    """The 429 page saying how many minutes to wait, with ``Retry-After`` in seconds."""
    response = make_response(render_template("errors/429.html", minutes=lock.minutes), 429)
    response.headers["Retry-After"] = str(lock.retry_after)
    return response


@bp.post("/logout")
@access(*STAFF)
def logout():
    """Sign out (POST, so that a link cannot sign someone out): ends every session and
    remember cookie of the user, on every device (OWASP ASVS 3.3.1)."""
    with unit_of_work():
        end_sessions(current_user._get_current_object())
    clear_session()
    logout_user()  # after clearing: it asks for the remember cookie to be deleted
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
