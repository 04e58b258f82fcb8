"""Booking forms: receive, issue, transfer, adjust, dispose and reverse.

Each view checks the user's right at the location on the server, parses the
form and calls the ledger service in one transaction
(:func:`inventory.web.transaction.view_transaction`).  A refused booking rolls
back, shows the service's message next to the field and answers 422.  A
repeated post of the same form (its one-time token) books nothing twice and
leads to the document booked the first time.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from inventory.core import clock
from inventory.core.db import db
from inventory.core.errors import AlreadyDone
from inventory.core.policy import BOOKERS, Role
from inventory.core.quantities import format_quantity
from inventory.stock.access import require
from inventory.stock.forms import (
    AdjustForm,
    BatchIssueForm,
    DisposeForm,
    IssueForm,
    ReceiptForm,
    ReverseForm,
    TransferForm,
)
from inventory.stock.models import Document, Location, Movement
from inventory.stock.permissions import (
    ADJUST,
    DISPOSE,
    ISSUE,
    RECEIVE,
    REVERSE,
    TRANSFER,
    may_change_stock_at,
)
from inventory.stock.services import ledger, queries
from inventory.stock.views.stock import batch_or_404
from inventory.web.access import access
from inventory.web.forms import choice, choices, local_datetime_or_none
from inventory.web.i18n import is_english
from inventory.web.transaction import attach_error, form_status, view_transaction

bp = Blueprint("movements", __name__)

#: Service error fields → form field names.
FIELD_MAP = {"batch": "batch_id", "to_location": "to_location_id", "delta": "quantity", "item": "item_id",
             "sub_location": "sub_location_id", "movement": None, "document": None, "user": None,
             "lines": None, "source": "source"}
#: Roles that may count (adjust) — the civil-defence department counts its own warehouse.
COUNTERS = (Role.ADMIN, Role.KEEPER, Role.RESIDENTIAL, Role.CIVIL_DEFENCE)


def _name(obj) -> str:
    return obj.display_name("en" if is_english() else "zh")


def _when(form):
    return local_datetime_or_none(form.occurred_at.data, clock.business_tz())


def book(form, call: Callable[[], Document]):
    """Run a ledger ``call`` in one transaction; redirect to its document, or return None after a refusal
    (the message is on ``form``).  A repeated post of the same form leads to the document booked the
    first time."""
    try:
        with view_transaction(form, field_map=FIELD_MAP, reraise=AlreadyDone) as tx:
            doc = call()
    except AlreadyDone as err:
        if not err.repeated_form:  # e.g. a second reversal of the same movement
            attach_error(form, err, field_map=FIELD_MAP)
            return None
        doc_id = err.document_id or db.session.scalar(
            select(Document.id).where(Document.request_token == form.request_token.data))
        flash(_("This form was already submitted; nothing was booked twice."), "warning")
        if doc_id:
            return redirect(url_for("stock.document_detail", document_id=doc_id))
        form.form_errors.append(str(err))
        return None
    if not tx.committed:
        return None
    flash(_("Booked: %(number)s", number=doc.number), "success")
    return redirect(url_for("stock.document_detail", document_id=doc.id))


def _location(code: str, action: str) -> Location:
    return require(action, db.session.scalar(select(Location).where(Location.code == code)))


def _item_choices():
    return choices([(None, "—")] + [(i.id, f"{i.code} {_name(i)}（{i.unit}）") for i in queries.active_item_names()])


# --------------------------------------------------------------------------- receive


@bp.route("/locations/<loc_code>/receive", methods=["GET", "POST"])
@access(*BOOKERS)
def receive(loc_code: str):
    """Goods-received note (入库单) with several lines, at a location the user may book at."""
    location = _location(loc_code, RECEIVE)
    form = ReceiptForm()
    items = _item_choices()
    shelves = choices([(None, "—")] + [(s.id, s.code) for s in queries.shelves(location.id)])
    for entry in form.lines.entries:
        entry.form.item_id.choices = items
        entry.form.sub_location_id.choices = shelves
    if form.add_line.data:
        form.lines.append_entry()
        form.lines.entries[-1].form.item_id.choices = items
        form.lines.entries[-1].form.sub_location_id.choices = shelves
        return render_template("stock/movements/receive.html", form=form, location=location)
    if form.validate_on_submit():
        lines = [ledger.ReceiptLine(
            item_id=e.form.item_id.data, quantity=e.form.quantity.data, lot_number=e.form.lot_number.data or "",
            produced_on=e.form.produced_on.data, expires_on=e.form.expires_on.data,
            sub_location_id=e.form.sub_location_id.data, allow_expired=e.form.allow_expired.data,
        ) for e in form.lines.entries]
        done = book(form, lambda: ledger.receive(
            location_id=location.id, lines=lines, user=current_user, source=form.source.data,
            supplier=form.supplier.data or "", external_ref=form.external_ref.data or "",
            reason=form.reason.data or "", occurred_at=_when(form), request_token=form.request_token.data))
        if done:
            return done
    return render_template("stock/movements/receive.html", form=form, location=location), form_status()


# --------------------------------------------------------------------------- issue


@bp.route("/locations/<loc_code>/issue", methods=["GET", "POST"])
@access(*BOOKERS)
def issue(loc_code: str):
    """Issue note (出库单): nearest expiry first unless the keeper picks a batch (recorded)."""
    location = _location(loc_code, ISSUE)
    today = clock.local_today()
    stock = queries.location_stock(location.id, today)
    form = IssueForm()
    usable_word, lot_word, expires_word = _("usable"), _("lot"), _("expires")
    form.item_id.choices = choices([(None, "—")] + [
        (s.item.id, f"{s.item.code} {_name(s.item)}（{usable_word} {format_quantity(s.usable)} {s.item.unit}）")
        for s in stock if s.usable > 0])
    batch_choices = [choice(None, _("Nearest expiry first (recommended)"))]
    plan_data = {}
    for s in stock:
        usable = [b for b in s.batches if b.status != "expired"]
        plan_data[s.item.id] = [{"id": b.batch.id, "lot": b.batch.lot_number or b.batch.label_code,
                                 "qty": str(b.batch.quantity), "expires": str(b.batch.expires_on or "")}
                                for b in usable]
        for b in usable:
            label = (f"{s.item.code} · {lot_word} {b.batch.lot_number or '—'} · "
                     f"{expires_word} {b.batch.expires_on or '—'} · {format_quantity(b.batch.quantity)} {s.item.unit}")
            batch_choices.append(choice(b.batch.id, label, **{"data-item": str(s.item.id)}))
    form.batch_id.choices = batch_choices
    if request.method == "GET" and request.args.get("item", type=int):
        form.item_id.data = request.args.get("item", type=int)
    if form.validate_on_submit():
        done = book(form, lambda: ledger.issue(
            location_id=location.id, item_id=form.item_id.data, quantity=form.quantity.data,
            user=current_user, recipient=form.recipient.data, reason=form.reason.data, today=today,
            batch_id=form.batch_id.data, occurred_at=_when(form), request_token=form.request_token.data))
        if done:
            return done
    return render_template("stock/movements/issue.html", form=form, location=location,
                           plan=plan_data), form_status()


def _batch_form_page(batch_id: int, action: str, form_cls, template: str, call, prepare=None):
    batch = batch_or_404(batch_id, action)
    form = form_cls()
    if prepare:
        prepare(form, batch)
    if form.validate_on_submit():
        done = book(form, lambda: call(form, batch))
        if done:
            return done
    return render_template(template, form=form, batch=batch, today=clock.local_today()), form_status()


@bp.route("/batches/<int:batch_id>/issue", methods=["GET", "POST"])
@access(*BOOKERS)
def batch_issue(batch_id: int):
    """Issue from this batch (after scanning its label); the choice is recorded against FEFO."""
    return _batch_form_page(batch_id, ISSUE, BatchIssueForm, "stock/movements/batch_issue.html",
                            lambda form, batch: ledger.issue(
                                location_id=batch.location_id, item_id=batch.item_id,
                                quantity=form.quantity.data, user=current_user, recipient=form.recipient.data,
                                reason=form.reason.data, today=clock.local_today(), batch_id=batch.id,
                                occurred_at=_when(form), request_token=form.request_token.data))


@bp.route("/batches/<int:batch_id>/transfer", methods=["GET", "POST"])
@access(*BOOKERS)
def transfer(batch_id: int):
    """Transfer order (调拨单) for part or all of a batch to another active location.

    Destinations exclude civil-defence warehouses the user may not book at
    (:func:`inventory.stock.permissions.may_change_stock_at`).
    """

    def prepare(form, batch):
        form.to_location_id.choices = choices([(None, "—")] + [
            (l.id, f"{l.code} {_name(l)}") for l in queries.active_locations()
            if l.id != batch.location_id and may_change_stock_at(current_user, l)])

    return _batch_form_page(batch_id, TRANSFER, TransferForm, "stock/movements/transfer.html",
                            lambda form, batch: ledger.transfer(
                                batch_id=batch.id, quantity=form.quantity.data,
                                to_location_id=form.to_location_id.data, user=current_user,
                                reason=form.reason.data or "", occurred_at=_when(form),
                                request_token=form.request_token.data, today=clock.local_today(),
                                allow_expired=form.allow_expired.data), prepare)


@bp.route("/batches/<int:batch_id>/adjust", methods=["GET", "POST"])
@access(*COUNTERS)
def adjust(batch_id: int):
    """Count surplus or shortage on a batch (盘盈/盘亏); a reason is required."""
    return _batch_form_page(batch_id, ADJUST, AdjustForm, "stock/movements/adjust.html",
                            lambda form, batch: ledger.adjust(
                                batch_id=batch.id, delta=form.signed_quantity(), user=current_user,
                                reason=form.reason.data, occurred_at=_when(form),
                                request_token=form.request_token.data))


@bp.route("/batches/<int:batch_id>/dispose", methods=["GET", "POST"])
@access(*BOOKERS)
def dispose(batch_id: int):
    """Disposal (报废) of damaged or expired stock; reason and approval required."""
    return _batch_form_page(batch_id, DISPOSE, DisposeForm, "stock/movements/dispose.html",
                            lambda form, batch: ledger.dispose(
                                batch_id=batch.id, quantity=form.quantity.data, user=current_user,
                                reason=form.reason.data, occurred_at=_when(form),
                                request_token=form.request_token.data))


# --------------------------------------------------------------------------- reverse


def _require_all_legs(movements) -> None:
    """A reversal changes stock wherever the original did: refuse (403) when one of
    those places is a civil-defence warehouse the user may not book at."""
    for location in {m.location for m in movements}:
        if not may_change_stock_at(current_user, location):
            abort(403)


@bp.route("/movements/<int:movement_id>/reverse", methods=["GET", "POST"])
@access(*BOOKERS)
def reverse_movement(movement_id: int):
    """Reverse one movement (a transfer: both legs) with a reason."""
    movement = db.session.get(Movement, movement_id)
    if movement is None:
        abort(404)
    require(REVERSE, movement.document.location)
    _require_all_legs(movement.document.movements)
    form = ReverseForm()
    already = bool(queries.reversed_movement_ids([movement.id]))
    if already and request.method == "GET":
        return render_template("stock/movements/reverse.html", form=None, movement=movement, doc=movement.document,
                               already=True)
    if form.validate_on_submit():
        done = book(form, lambda: ledger.reverse(
            movement_id=movement.id, user=current_user, reason=form.reason.data,
            occurred_at=_when(form), request_token=form.request_token.data))
        if done:
            return done
    return render_template("stock/movements/reverse.html", form=form, movement=movement, doc=movement.document,
                           already=already), form_status()


@bp.route("/documents/<int:document_id>/reverse", methods=["GET", "POST"])
@access(*BOOKERS)
def reverse_document(document_id: int):
    """Reverse every movement of a document (e.g. an issue taken from several batches)."""
    doc = queries.document_with_lines(document_id)
    if doc is None:
        abort(404)
    require(REVERSE, doc.location)
    _require_all_legs(doc.movements)
    form = ReverseForm()
    if form.validate_on_submit():
        done = book(form, lambda: ledger.reverse_document(
            document_id=doc.id, user=current_user, reason=form.reason.data,
            occurred_at=_when(form), request_token=form.request_token.data))
        if done:
            return done
    return render_template("stock/movements/reverse.html", form=form, movement=None, doc=doc,
                           already=False), form_status()
