"""The alert centre (预警中心), alert settings, the digest outbox and equipment inspections.

Every signed-in role sees the alerts of the locations it may see (the same
scoping as the stock pages); everyone but the read-only viewer may
acknowledge them (叫应).  The navigation bar shows the number of open alerts,
at the cost of one small query per page.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from inventory.alerts.forms import AcknowledgeManyForm, AlertSettingsForm, InspectionForm, ResendForm
from inventory.alerts.models import Alert
from inventory.alerts.services import acknowledgement, digests
from inventory.alerts.services import export as alert_export
from inventory.alerts.services import inspections
from inventory.alerts.services import queries as alert_queries
from inventory.alerts.services import rules as alert_service
from inventory.core import clock
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, DomainError
from inventory.core.policy import STAFF, Role
from inventory.stock.access import require
from inventory.stock.permissions import COUNT, VIEW, allowed_actions
from inventory.stock.views.stock import batch_or_404
from inventory.web.access import access
from inventory.web.forms import new_token
from inventory.web.i18n import is_english
from inventory.web.nav import NavEntry
from inventory.web.once import one_time
from inventory.web.redirects import safe_next
from inventory.web.transaction import form_status, view_transaction

bp = Blueprint("alerts", __name__)
NAV = [NavEntry("alerts.index", _l("Alerts"), STAFF, 15)]

#: Roles that may acknowledge alerts and record inspections (everyone but the read-only viewer).
ACTORS = (Role.ADMIN, Role.KEEPER, Role.CIVIL_DEFENCE, Role.RESIDENTIAL)
STATES = ("active", "open", "acknowledged", "resolved", "all")
STATE_LABELS = {"active": _l("Outstanding"), "open": _l("Not acknowledged"),
                "acknowledged": _l("Acknowledged"),
                "resolved": _l("Resolved"), "all": _l("All")}
EVENT_LABELS = {"opened": _l("Opened"), "escalated": _l("More urgent"), "acknowledged": _l("Acknowledged"),
                "resolved": _l("Resolved"), "reopened": _l("Reopened")}


@bp.app_context_processor
def _alert_count():
    """``alert_count``: open alerts the signed-in user may see (navigation bar); one query."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return {}
    if current_user.role not in STAFF:
        return {}
    return {"alert_count": alert_queries.open_count(current_user)}


def _alert_or_404(alert_id: int) -> Alert:
    alert = alert_queries.alert_with_history(alert_id)
    if alert is None:
        abort(404)
    require(VIEW, alert.location)
    return alert


def _flash_refusal(err: DomainError) -> None:
    """Flash a refused change: "already done" as information, anything else as a warning."""
    flash(str(err), "info" if isinstance(err, AlreadyDone) else "warning")


def _safe_back(default: str) -> str:

    return safe_next(request.form.get("next")) or default


def _filter_from_args() -> tuple[alert_queries.AlertFilter, dict]:
    """The alert centre's filter from ``?state=`` (default active), ``?rule=``, ``?location=``;
    unknown values fall back to no filter.  Returns (filter, the query arguments without page)."""
    state = request.args.get("state", "active")
    state = state if state in STATES else "active"
    rule = request.args.get("rule")
    rule = rule if rule in alert_service.RULES else None
    location_id = request.args.get("location", type=int)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return alert_queries.AlertFilter(state=state, rule=rule, location_id=location_id), args


@bp.get("/alerts")
@access(*STAFF)
def index():
    """Alerts at the user's locations: ``?state=`` active (default), open, acknowledged, resolved,
    all; ``?rule=`` a rule code; ``?location=`` a location id; 50 a page, soonest due first.
    Those who may acknowledge tick open alerts and acknowledge them in one post."""
    flt, args = _filter_from_args()
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = alert_queries.alert_page(current_user, flt, page)
    today = clock.local_today()
    counts = alert_queries.counts_by_rule(current_user)
    can_ack = current_user.role in ACTORS
    return render_template(
        "alerts/index.html", rows=[(a, alert_service.describe(a, today)) for a in rows], has_next=has_next,
        page=page, args=args, state=flt.state, rule=flt.rule, location_id=flt.location_id, counts=counts,
        rules=alert_service.rules_in_order(), rules_by_code=alert_service.RULES, states=STATES,
        state_labels=STATE_LABELS, can_ack=can_ack,
        can_ack_many=can_ack and any(a.state.value == "open" for a in rows))


@bp.get("/alerts.xlsx")
@access(*STAFF)
def export():
    """The alert centre's list with the same filters (``state``, ``rule``, ``location``) as an
    XLSX workbook, every page (at most 20,000 alerts), soonest due first; only alerts at the
    user's locations.  Built by :func:`inventory.alerts.services.export.alerts_xlsx`."""
    flt, _args = _filter_from_args()
    today = clock.local_today()
    stmt = alert_queries.alert_query(current_user, flt).limit(alert_export.EXPORT_LIMIT)
    alerts_ = db.session.scalars(stmt).unique()
    rows = ((a, alert_service.rule_label(a.rule), alert_service.describe(a, today)) for a in alerts_)
    body = alert_export.alerts_xlsx(rows, today, english=is_english())
    name = f"alerts-{flt.state}{'-' + flt.rule if flt.rule else ''}-{today.isoformat()}.xlsx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.post("/alerts/acknowledge")
@access(*ACTORS)
@one_time()
def acknowledge_many():
    """Acknowledge (叫应) every ticked open alert (``alert_ids``) the user may see, in one post;
    the others are skipped and counted.  Nothing ticked or a malformed id: a message, nothing
    changes.  Goes back to the list (``next``, same site only)."""
    form = AcknowledgeManyForm()
    back = _safe_back(url_for("alerts.index"))
    if not form.validate_on_submit():
        flash(_("Tick the alerts to acknowledge first."), "warning")
        return redirect(back)
    with view_transaction(category="warning") as tx:
        done = acknowledgement.acknowledge_many(form.alert_ids.data or [], current_user, clock.now_utc())
    if not tx.committed:
        return redirect(back)
    if done.acknowledged:
        flash(_("%(n)s alerts acknowledged.", n=len(done.acknowledged)), "success")
    if done.skipped:
        flash(_("%(n)s were left as they are: already acknowledged, resolved or not yours.", n=done.skipped),
              "info")
    return redirect(back)


@bp.get("/alerts/<int:alert_id>")
@access(*STAFF)
def detail(alert_id: int):
    """One alert with its history (opened, acknowledged by whom and when, resolved, reopened); 404 if
    its location is not visible."""
    alert = _alert_or_404(alert_id)
    today = clock.local_today()
    return render_template("alerts/detail.html", alert=alert, text=alert_service.describe(alert, today),
                           rule=alert_service.RULES.get(alert.rule), event_labels=EVENT_LABELS,
                           state_labels=STATE_LABELS, can_ack=current_user.role in ACTORS,
                           can_inspect=COUNT in allowed_actions(current_user, alert.location))


@bp.post("/alerts/<int:alert_id>/acknowledge")
@access(*ACTORS)
@one_time()
def acknowledge(alert_id: int):
    """Acknowledge (叫应) an open alert: who and when are kept.  404 if not visible; an alert
    already acknowledged or resolved is left as it is, with a message."""
    alert = _alert_or_404(alert_id)
    with view_transaction(report=_flash_refusal) as tx:
        acknowledgement.acknowledge(alert, current_user, clock.now_utc())
    if tx.committed:
        flash(_("Alert acknowledged."), "success")
    return redirect(_safe_back(url_for("alerts.detail", alert_id=alert_id)))


@bp.route("/alerts/settings", methods=["GET", "POST"])
@access(*STAFF)
@one_time()
def settings():
    """The user's digest settings: daily e-mail digest on or off, and its language."""
    form = AlertSettingsForm()
    wants, _explicit = digests.preference_for(current_user)
    if request.method == "GET":
        form.email_digest.data = wants
        form.locale.data = current_user.locale or "zh_Hans_CN"
    if form.validate_on_submit():
        with view_transaction(form) as tx:
            digests.set_preferences(current_user, email_digest=form.email_digest.data, locale=form.locale.data,
                                    now=clock.now_utc())
        if tx.committed:
            flash(_("Settings saved."), "success")
            return redirect(url_for("alerts.settings"))
    return render_template("alerts/settings.html", form=form, email_on=digests.email_enabled()), form_status()


@bp.get("/alerts/messages")
@access(Role.ADMIN)
def messages():
    """The digest outbox (admin): every message with its status, attempts and last error; a
    failed one can be sent again (one-time form token per button)."""
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = digests.outbox_page(page)
    return render_template("alerts/messages.html", rows=rows, page=page, has_next=has_next,
                           counts=digests.outbox_counts(), status_labels=digests.NOTIFICATION_STATUS_LABELS,
                           channel_labels=digests.CHANNEL_LABELS, new_token=new_token)


@bp.post("/alerts/messages/<int:notification_id>/resend")
@access(Role.ADMIN)
def resend(notification_id: int):
    """Send a failed digest again: it goes back to the outbox, due at once, and the next delivery
    pass (every ALERT_DELIVER_EVERY_MINUTES) sends it.  CSRF and a one-time token: a repeated
    post resends once.  A message that has not failed, or an unknown one, is left alone with a
    message."""
    form = ResendForm()
    if not form.validate_on_submit():
        flash(_("The form is incomplete; reload the page and try again."), "warning")
        return redirect(url_for("alerts.messages"))
    with view_transaction(report=_flash_refusal) as tx:
        digests.resend(notification_id, user=current_user, request_token=form.request_token.data,
                       now=clock.now_utc())
    if tx.committed:
        flash(_("The digest is back in the outbox; it is sent within %(n)s minutes.",
                n=current_app.config.get("ALERT_DELIVER_EVERY_MINUTES", 10)), "success")
    return redirect(url_for("alerts.messages"))


@bp.get("/batches/<int:batch_id>/inspections")
@access(*STAFF)
def inspections_page(batch_id: int):
    """A batch's inspection history and, for those who may, the form to record one."""
    batch = batch_or_404(batch_id)
    form = InspectionForm()
    return _inspections(batch, form, 200)


def _inspections(batch, form, status: int):
    return render_template("alerts/inspections.html", batch=batch, form=form,
                           history=inspections.inspections_of(batch.id),
                           can_record=COUNT in allowed_actions(current_user, batch.location)), status


@bp.post("/batches/<int:batch_id>/inspections")
@access(*ACTORS)
@one_time()
def record_inspection(batch_id: int):
    """Record an inspection of this batch (date, result, note); never changes quantities.
    404 if the batch is not visible, 403 if the user may not count there; bad input answers 422."""
    batch = batch_or_404(batch_id, COUNT)
    form = InspectionForm()
    if form.validate_on_submit():
        with view_transaction(form) as tx:
            inspections.record_inspection(batch_id=batch.id, user=current_user, inspected_on=form.inspected_on.data,
                                          result=form.result.data, note=form.note.data or "",
                                          today=clock.local_today(), now=clock.now_utc())
        if tx.committed:
            flash(_("Inspection recorded."), "success")
            return redirect(url_for("alerts.inspections_page", batch_id=batch.id))
    return _inspections(batch, form, form_status())
