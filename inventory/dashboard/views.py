"""Dashboard and language switch."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from inventory.core import clock
from inventory.core.policy import STAFF
from inventory.standards.services import gaps as gap_analysis
from inventory.stock.permissions import visible_location_ids
from inventory.stock.services import expiry, queries
from inventory.web.access import access
from inventory.web.nav import NavEntry
from inventory.web.redirects import safe_next

bp = Blueprint("main", __name__)
NAV = [NavEntry("main.dashboard", _l("Dashboard"), STAFF, 10)]
#: A user in charge of at most this many locations gets a link to each one's gap report.
OWN_LINKS = 5


@bp.get("/")
@access(public=True)
def index():
    """Signed-in users go to their dashboard, everyone else to the sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@access(*STAFF)
def dashboard():
    """The user's locations: lines on hand, batches expired and near expiry (inventory.stock.services.expiry),
    and conformity with the standard lists as a chart, worst first (four more queries, constant); a user
    in charge of at most OWN_LINKS locations also gets a link to each one's gap report."""
    today = clock.local_today()
    visible = visible_location_ids(current_user)
    windows = expiry.expiry_windows()
    rows = queries.location_summaries(visible, today, windows=windows)
    totals = {
        "locations": len(rows),
        "lines": sum(r.lines for r in rows),
        "expired": sum(r.expired for r in rows),
        "expiring": sum(r.expiring for r in rows),
    }
    conformity = gap_analysis.conformity_by_location(today, [r.location for r in rows], visible, windows)
    # A user in charge of a few locations (a residential manager: one point) goes straight to their reports.
    own = [r.location for r in rows] if visible is not None and len(rows) <= OWN_LINKS else []
    return render_template("dashboard/index.html", rows=rows, totals=totals, today=today, conformity=conformity,
                           own=own)


@bp.get("/lang/<code>")
@access(public=True)
def set_language(code: str):
    """Remember the chosen language in the session and go back (same site only)."""

    if code in ("zh_Hans_CN", "en"):
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
