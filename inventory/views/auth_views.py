"""Sign-in and sign-out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..auth import KEPT_AT_SIGN_IN, STAFF, access, start_session
from ..extensions import db, limiter
from flask_limiter.util import get_remote_address
from ..forms import LoginForm
from ..models import User
from ..services import clock
from ..services.users import end_sessions, verify_password

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _failed(response) -> bool:
    """Only failed sign-ins count against the limits."""
    return response.status_code == 401


def _address_and_username() -> str:
    username = (request.form.get("username") or "").strip().lower()[:64]
    return f"{get_remote_address()}|{username}"


@bp.route("/login", methods=["GET", "POST"])
@access(public=True)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               key_func=_address_and_username, deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"], deduct_when=_failed)
def login():
    """Sign-in page; on success go to ``?next=`` (same site only) or the dashboard.

    Failed sign-ins are rate-limited against password guessing, per client
    address and username (``LOGIN_RATE_LIMIT``, default 10 per minute and 50
    per hour) and per address (``LOGIN_ADDRESS_RATE_LIMIT``, default 200 per
    hour).  Successful sign-ins do not count, so a whole office behind one
    address is not locked out by its daily work.
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).where(User.username == form.username.data.strip()))
        if verify_password(user, form.password.data):
            start_session(user, remember=form.remember.data)
            user.last_login_at = clock.now_utc()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("main.dashboard"))
        flash(_("Wrong username or password."), "danger")
        return render_template("auth/login.html", form=form, demo=_demo_accounts()), 401
    return render_template("auth/login.html", form=form, demo=_demo_accounts())


def _demo_accounts() -> list[tuple[str, str]]:
    """(username, role) of the demo accounts, shown on the sign-in page in development only."""
    if not current_app.config.get("ALLOW_DEMO_ACCOUNTS"):
        return []
    from ..services.demo import DEMO_ACCOUNTS

    names = [a[0] for a in DEMO_ACCOUNTS]
    present = set(db.session.scalars(db.select(User.username).where(User.username.in_(names))))
    return [(a[0], a[1]) for a in DEMO_ACCOUNTS if a[0] in present]


@bp.post("/logout")
@access(*STAFF)
def logout():
    """Sign out (POST, so that a link cannot sign someone out): ends every session and
    remember cookie of the user, on every device (OWASP ASVS 3.3.1)."""
    end_sessions(current_user)
    db.session.commit()
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    logout_user()  # after clearing: it asks for the remember cookie to be deleted
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
