"""Stocktake by scanning (盘点): start, scan shelves and batches, count, review, confirm, sheets.

The count page works without script: scanning (keyboard-wedge scanner, typed
code or the camera filling the field) posts the code; a shelf code selects the
shelf, a batch code opens its count entry; the quantity is saved and the page
is ready for the next scan.  Rules (one line per batch, missing and unexpected
batches, blind mode, idempotent confirmation through the ledger) are in
:mod:`inventory.stocktake.services.counts`.

Who: counting needs the ``COUNT`` right at the location (keepers and
residential managers at theirs, the armed forces department at civil-defence
locations, the office elsewhere); confirming needs ``ADJUST`` too; anyone who
may see the location may read the count and download its sheet.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory.core import clock
from inventory.core import tabular as spreadsheet
from inventory.core.codes import code_from_text, label_in_quantity
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, DomainError
from inventory.core.policy import STAFF
from inventory.core.quantities import format_quantity
from inventory.stock.access import require
from inventory.stock.models import Batch, Location
from inventory.stock.permissions import (
    ADJUST,
    COUNT,
    TRANSFER,
    VIEW,
    allowed_actions,
    bookable_locations,
    visible_location_ids,
)
from inventory.stock.services import queries
from inventory.stock.views.movements import COUNTERS
from inventory.stocktake.forms import CountActionForm, CountLineForm, CountScanForm, StartCountForm
from inventory.stocktake.models import Stocktake, StocktakeLine
from inventory.stocktake.services import count_sheet
from inventory.stocktake.services import counts as service
from inventory.stocktake.services import queries as count_queries
from inventory.web.access import access
from inventory.web.nav import NavEntry
from inventory.web.once import one_time
from inventory.web.transaction import form_status, view_transaction

#: Rows of the counted and the missing list shown on the count page unless ``?all=1``: keeps the
#: page small on a phone in a warehouse with hundreds of lots (the sheets always list everything).
LIST_LIMIT = 50

bp = Blueprint("stocktake", __name__)
NAV = [NavEntry("stocktake.index", _l("Stocktake"), STAFF, 35)]
STATUS_LABELS = {"open": _l("Open"), "confirmed": _l("Confirmed"), "cancelled": _l("Cancelled")}


@bp.app_template_filter("count_status")
def count_status(status) -> str:
    """Display name of a stocktake status (translated)."""
    return str(STATUS_LABELS.get(getattr(status, "value", status), status))


def _count_or_404(stocktake_id: int, action: str = VIEW) -> Stocktake:
    st = db.session.scalar(select(Stocktake).options(joinedload(Stocktake.location))
                           .where(Stocktake.id == stocktake_id))
    if st is None:
        abort(404)
    require(action, st.location)
    return st


def _shelf_arg(raw, location_id: int, shelves) -> int | None:
    try:
        shelf_id = int(raw)
    except (TypeError, ValueError):
        return None
    return shelf_id if any(s.id == shelf_id and s.location_id == location_id for s in shelves) else None


def _back(st: Stocktake, shelf_id: int | None = None, code: str | None = None, anchor: str | None = None):
    args = {k: v for k, v in (("shelf", shelf_id), ("code", code)) if v}
    return redirect(url_for("stocktake.detail", stocktake_id=st.id, _anchor=anchor, **args))


@bp.get("/stocktakes")
@access(*STAFF)
def index():
    """Open counts first, then recent ones, at the locations the user may see; where a count may start."""
    visible = visible_location_ids(current_user)
    counts = count_queries.recent_counts(visible)
    lines = count_queries.line_counts([c.id for c in counts])
    startable = bookable_locations(current_user, COUNT, queries.active_locations(visible))
    open_at = {c.location_id for c in counts if c.is_open}
    return render_template("stocktake/index.html", counts=counts, lines=lines, startable=startable,
                           open_at=open_at)


@bp.route("/locations/<loc_code>/stocktake", methods=["GET", "POST"])
@access(*COUNTERS)
@one_time()
def start(loc_code: str):
    """Start a count of a location, or continue the one already open there."""
    location = require(COUNT, db.session.scalar(select(Location).where(Location.code == loc_code)))
    existing = service.open_count_at(location.id)
    if existing is not None:
        flash(_("Count %(number)s is open here; continue it.", number=existing.number), "info")
        return redirect(url_for("stocktake.detail", stocktake_id=existing.id))
    form = StartCountForm()
    if form.validate_on_submit():
        with view_transaction(report=lambda err: form.form_errors.append(str(err))) as tx:
            st = service.start(location_id=location.id, user=current_user, blind=form.blind.data,
                               note=form.note.data or "")
        if isinstance(tx.error, service.CountAlreadyOpen):
            open_id = tx.error.stocktake_id or getattr(service.open_count_at(location.id), "id", None)
            if open_id is not None:
                return redirect(url_for("stocktake.detail", stocktake_id=open_id))
        if tx.committed:
            flash(_("Count %(number)s started. Scan a shelf, then each batch on it.", number=st.number),
                  "success")
            return redirect(url_for("stocktake.detail", stocktake_id=st.id))
    return render_template("stocktake/start.html", form=form, location=location), form_status()


@dataclass(frozen=True)
class Entry:
    """The batch whose count entry is open: its line so far (or None), whether it is booked at
    another location, and whether the user may see that location (else it is not named)."""

    batch: Batch
    line: StocktakeLine | None
    elsewhere: bool
    booked_visible: bool

    @property
    def hidden(self) -> bool:
        """A batch of a location the user may not see, not (yet) in this count: the page shows
        nothing of it (no item, lot, dates, unit or quantity), only that it is booked elsewhere."""
        return self.line is None and not self.booked_visible


def _entry(st: Stocktake, code: str | None, view: count_queries.CountView) -> Entry | None:
    """The count entry for a scanned label code, or None (no code, or no such batch)."""
    code = code_from_text(code or "")
    if code is None:
        return None
    for line in view.counted + view.unexpected:
        if line.batch.label_code == code:
            return Entry(line.batch, line, line.booked_location_id != st.location_id,
                         VIEW in allowed_actions(current_user, line.booked_location))
    for batch in view.missing:
        if batch.label_code == code:
            return Entry(batch, None, False, True)
    batch = db.session.scalar(select(Batch).options(joinedload(Batch.item), joinedload(Batch.location),
                                                    joinedload(Batch.sub_location))
                              .where(Batch.label_code == code))
    if batch is None:
        return None
    return Entry(batch, None, batch.location_id != st.location_id,
                 VIEW in allowed_actions(current_user, batch.location))


def _render_count(st_id: int, *, line_form: CountLineForm | None = None, status: int = 200):
    view = count_queries.count_view(st_id)
    st = view.stocktake
    actions = allowed_actions(current_user, st.location)
    may_count = st.is_open and COUNT in actions
    shelves = queries.shelves(st.location_id)
    shelf_id = _shelf_arg(request.values.get("shelf"), st.location_id, shelves)
    code = request.values.get("code") if request.method == "GET" else (line_form.code.data if line_form else None)
    entry = _entry(st, code, view) if may_count else None
    if entry is not None and line_form is None:
        line_form = CountLineForm(formdata=None, code=entry.batch.label_code, shelf=shelf_id or "")
    scan_form = CountScanForm(formdata=None, shelf=shelf_id or "")
    transfer_ok = {line.batch_id for line in view.unexpected
                   if TRANSFER in allowed_actions(current_user, line.booked_location)}
    visible_booked = {line.batch_id for line in view.unexpected
                      if VIEW in allowed_actions(current_user, line.booked_location)}
    show_all = request.args.get("all") == "1"
    if st.is_open:  # what was just counted first; the current shelf's missing batches first
        counted_rows = sorted(view.counted, key=lambda line: line.counted_at, reverse=True)
    else:  # the result: differences first
        counted_rows = sorted(view.counted, key=lambda line: line.difference == 0)
    missing_rows = sorted(view.missing, key=lambda b: b.sub_location_id != shelf_id)
    if not show_all:
        counted_rows, missing_rows = counted_rows[:LIST_LIMIT], missing_rows[:LIST_LIMIT]
    show_all_url = url_for("stocktake.detail", stocktake_id=st.id, shelf=shelf_id, all=1)
    return render_template(
        "stocktake/count.html", view=view, st=st, may_count=may_count, counted_rows=counted_rows,
        missing_rows=missing_rows, show_all_url=show_all_url,
        may_confirm=may_count and ADJUST in actions, hide_book=count_sheet.hide_book(view), shelves=shelves,
        shelf=next((s for s in shelves if s.id == shelf_id), None), entry=entry, line_form=line_form,
        scan_form=scan_form, transfer_ok=transfer_ok,
        visible_booked=visible_booked), status


@bp.get("/stocktakes/<int:stocktake_id>")
@access(*STAFF)
def detail(stocktake_id: int):
    """The count page: scan box, the batch being counted, counted, unexpected and missing batches.

    ``?shelf=`` is the shelf being counted; ``?code=`` opens the count entry of
    that batch label; ``?all=1`` lists every counted and missing batch (else at
    most :data:`LIST_LIMIT` of each).  Closed counts show what was booked.
    """
    _count_or_404(stocktake_id)
    return _render_count(stocktake_id)


@bp.post("/stocktakes/<int:stocktake_id>/scan")
@access(*COUNTERS)
def scan(stocktake_id: int):
    """A scan during the count: a shelf label selects the shelf, a batch label opens its count entry."""
    st = _count_or_404(stocktake_id, COUNT)
    form = CountScanForm()
    shelf_id = _shelf_arg(form.shelf.data, st.location_id, queries.shelves(st.location_id))
    if not st.is_open:
        flash(_("Stocktake %(number)s is closed; start a new count.", number=st.number), "danger")
        return _back(st)
    if not form.validate_on_submit():
        flash(_("Scan or type a label code."), "danger")
        return _back(st, shelf_id)
    try:
        found = service.classify_scan(st, form.code.data)
    except DomainError as err:
        flash(str(err), "danger")
        return _back(st, shelf_id)
    if found.kind == "shelf":
        flash(_("Shelf %(code)s: now scan each batch on it.", code=found.shelf.code), "info")
        return _back(st, found.shelf.id)
    return _back(st, shelf_id, found.batch.label_code)


@bp.post("/stocktakes/<int:stocktake_id>/lines")
@access(*COUNTERS)
@one_time()
def record(stocktake_id: int):
    """Save the quantity counted of one batch (named by its label code); one line per batch."""
    st = _count_or_404(stocktake_id, COUNT)
    form = CountLineForm()
    shelves = queries.shelves(st.location_id)
    shelf_id = _shelf_arg(form.shelf.data, st.location_id, shelves)
    code = code_from_text(form.code.data or "")
    batch = db.session.scalar(select(Batch).where(Batch.label_code == code)) if code else None
    if batch is None:
        flash(_("Scan the batch label again."), "danger")
        return _back(st, shelf_id)
    scanned = label_in_quantity(request.form.get("counted"))
    if scanned is not None:
        return _scanned_into_quantity(st, shelf_id, batch, scanned)
    if form.validate_on_submit():
        with view_transaction(form, field="counted") as tx:
            try:
                line = service.record_count(stocktake_id=st.id, batch_id=batch.id, counted=form.counted.data,
                                            user=current_user, sub_location_id=shelf_id, add=form.add.data)
            except service.CountedMeanwhile:
                tx.restart()  # a second keeper's first scan won: update the line it made
                line = service.record_count(stocktake_id=st.id, batch_id=batch.id, counted=form.counted.data,
                                            user=current_user, sub_location_id=shelf_id, add=form.add.data)
        if tx.committed:
            flash(_("Counted %(item)s, lot %(lot)s: %(qty)s %(unit)s. Scan the next label.",
                    item=batch.item.name_zh, lot=batch.lot_number or batch.label_code,
                    qty=format_quantity(line.counted), unit=batch.item.unit), "success")
            return _back(st, shelf_id)
    return _render_count(st.id, line_form=form, status=form_status())


def _scanned_into_quantity(st: Stocktake, shelf_id: int | None, batch: Batch, code: str):
    """The quantity box of ``batch`` received a label: nothing is saved; the label is taken as the next scan
    (a shelf selects the shelf, a batch opens its entry), or the entry stays open with the reason."""
    try:
        found = service.classify_scan(st, code)
    except DomainError as err:
        flash(_("This is a label, not a quantity: nothing was counted. %(reason)s", reason=str(err)), "danger")
        return _back(st, shelf_id, batch.label_code)
    if found.kind == "shelf":
        flash(_("This is a label, not a quantity: nothing was counted. Shelf %(code)s: now scan each batch on it.",
                code=found.shelf.code), "warning")
        return _back(st, found.shelf.id)
    flash(_("This is a label, not a quantity: nothing was counted for lot %(lot)s. Now count the scanned "
            "batch.", lot=batch.lot_number or batch.label_code), "warning")
    return _back(st, shelf_id, found.batch.label_code)


@bp.post("/stocktakes/<int:stocktake_id>/remove")
@access(*COUNTERS)
@one_time("batch_id")
def remove(stocktake_id: int):
    """Take a batch out of the count again (scanned by mistake); ``batch_id`` in the form."""
    st = _count_or_404(stocktake_id, COUNT)
    form = CountActionForm()
    with view_transaction(category="danger") as tx:
        service.remove_line(stocktake_id=st.id, batch_id=_int(form.batch_id.data), user=current_user)
    if tx.committed:
        flash(_("Taken out of the count."), "info")
    return _back(st, _int(request.form.get("shelf")))


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@bp.post("/stocktakes/<int:stocktake_id>/not-found")
@access(*COUNTERS)
@one_time("batch_id")
def not_found(stocktake_id: int):
    """Record "not found" (counted 0) for one missing batch (``batch_id``) or, without it, all of them."""
    st = _count_or_404(stocktake_id, COUNT)
    form = CountActionForm()
    batch_id = _int(form.batch_id.data)
    with view_transaction(category="danger") as tx:
        added = service.mark_not_found(stocktake_id=st.id, user=current_user,
                                       batch_ids=None if batch_id is None else [batch_id])
    if tx.committed:
        flash(_("%(n)s batch(es) recorded as not found (0).", n=added), "info")
    return _back(st, _int(request.form.get("shelf")), anchor="missing")


@bp.route("/stocktakes/<int:stocktake_id>/confirm", methods=["GET", "POST"])
@access(*COUNTERS)
@one_time()
def confirm(stocktake_id: int):
    """Review the count (GET) and confirm it (POST): every difference becomes an adjustment.

    Confirming twice books once.  A blind count shows no book quantities or
    differences until it is confirmed.
    """
    st = _count_or_404(stocktake_id, COUNT)
    if ADJUST not in allowed_actions(current_user, st.location):
        abort(403)
    errors = []
    if request.method == "POST":
        try:
            with view_transaction(report=lambda err: errors.append(str(err)), reraise=AlreadyDone) as tx:
                result = service.confirm(stocktake_id=st.id, user=current_user)
        except AlreadyDone as err:
            flash(str(err), "warning")
            return redirect(url_for("stocktake.detail", stocktake_id=st.id))
        if tx.committed:
            flash(_("Count %(number)s confirmed: %(n)s adjustment(s) booked.", number=result.stocktake.number,
                    n=len(result.documents)), "success")
            return redirect(url_for("stocktake.detail", stocktake_id=st.id))
    view = count_queries.count_view(st.id)
    if not view.stocktake.is_open:
        flash(_("Stocktake %(number)s is closed; start a new count.", number=view.stocktake.number), "info")
        return redirect(url_for("stocktake.detail", stocktake_id=st.id))
    return render_template("stocktake/confirm.html", view=view, st=view.stocktake, errors=errors,
                           hide_book=count_sheet.hide_book(view)), form_status(refused=bool(errors))


@bp.post("/stocktakes/<int:stocktake_id>/cancel")
@access(*COUNTERS)
@one_time()
def cancel(stocktake_id: int):
    """Abandon an open count; nothing is booked."""
    st = _count_or_404(stocktake_id, COUNT)
    with view_transaction(category="danger") as tx:
        service.cancel(stocktake_id=st.id, user=current_user)
    if tx.committed:
        flash(_("Count %(number)s cancelled; nothing was booked.", number=st.number), "info")
    return redirect(url_for("stocktake.detail", stocktake_id=st.id))


@bp.get("/stocktakes/<int:stocktake_id>/sheet.<sheet_format>")
@access(*STAFF)
def sheet(stocktake_id: int, sheet_format: str):
    """The count sheet as PDF or XLSX (book quantities blank while a blind count is open)."""
    fmt = sheet_format
    if fmt not in ("pdf", "xlsx"):
        abort(404)
    _count_or_404(stocktake_id)
    view = count_queries.count_view(stocktake_id)
    name = f"{view.stocktake.number}-{clock.local_today():%Y%m%d}"
    visible = visible_location_ids(current_user)
    if fmt == "pdf":
        return Response(count_sheet.pdf(view, visible), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
    return Response(count_sheet.xlsx(view, visible), mimetype=spreadsheet.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
