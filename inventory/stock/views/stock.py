"""Read pages: locations, items, batches, documents and the movement journal (with export)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from inventory.core import clock
from inventory.core import tabular as spreadsheet
from inventory.core.db import db
from inventory.core.policy import STAFF
from inventory.stock.access import require
from inventory.stock.forms import JournalFilterForm
from inventory.stock.labels import KIND_LABELS
from inventory.stock.models import Batch, Item, Location, LocationKind, MovementKind
from inventory.stock.permissions import (
    REVERSE,
    VIEW,
    allowed_actions,
    can_view_document,
    overview_location_ids,
    visible_location_ids,
)
from inventory.stock.services import expiry, queries
from inventory.web.access import access
from inventory.web.forms import choices
from inventory.web.i18n import is_english
from inventory.web.nav import NavEntry

bp = Blueprint("stock", __name__)
NAV = [
    NavEntry("stock.locations", _l("Locations"), STAFF, 20),
    NavEntry("stock.items", _l("Items"), STAFF, 30),
    NavEntry("stock.journal", _l("Journal"), STAFF, 40),
]

#: Rows exported at most in one CSV/XLSX file.
EXPORT_LIMIT = 100_000


def _location_or_404(code: str) -> Location:
    return db.session.scalar(select(Location).where(Location.code == code))


@bp.get("/locations")
@access(*STAFF)
def locations():
    """Visible locations with their stock summary; ``?kind=`` filters by kind."""
    kind = request.args.get("kind")
    kind_enum = LocationKind(kind) if kind in {k.value for k in LocationKind} else None
    rows = queries.location_summaries(visible_location_ids(current_user), clock.local_today(), kind_enum)
    return render_template("stock/locations/list.html", rows=rows, kind=kind_enum, kinds=list(LocationKind))


@bp.get("/locations/<loc_code>")
@access(*STAFF)
def location_detail(loc_code: str):
    """Stock at one location by item, with its batches and expiry status; 404 if not visible.

    ``?show=problems`` keeps only items with an expired or near-expiry batch.
    """
    location = require(VIEW, _location_or_404(loc_code))
    today = clock.local_today()
    stock = queries.location_stock(location.id, today, include_empty=request.args.get("empty") == "1")
    problems = request.args.get("show") == "problems"
    if problems:
        stock = [s for s in stock if s.status != "ok"]
    return render_template("stock/locations/detail.html", location=location, stock=stock, today=today,
                           problems=problems, actions=allowed_actions(current_user, location))


@bp.get("/items")
@access(*STAFF)
def items():
    """The catalogue, searchable by code, name or specification (``?q=``)."""
    q = request.args.get("q", "").strip()[:60]
    return render_template("stock/items/list.html", items=queries.search_items(q), q=q)


@bp.get("/items/<item_code>")
@access(*STAFF)
def item_detail(item_code: str):
    """An item and its stock at every location the user may overview."""
    item = db.session.scalar(select(Item).where(Item.code == item_code))
    if item is None:
        abort(404)
    rows = queries.item_by_location(item.id, overview_location_ids(current_user),
                                    visible_location_ids(current_user), clock.local_today())
    windows = expiry.expiry_windows()
    return render_template("stock/items/detail.html", item=item, rows=rows,
                           lead_days=sorted(windows.lead_days(item), reverse=True),
                           leads_from_category=item.category_id in windows.by_category)


def batch_or_404(batch_id: int, action: str = VIEW) -> Batch:
    """The batch if the current user may take ``action`` at its location (404 if not visible)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        abort(404)
    require(action, batch.location)
    return batch


@bp.get("/batches/<int:batch_id>")
@access(*STAFF)
def batch_detail(batch_id: int):
    """A batch, its label fields, expiry status and full movement history."""
    batch = batch_or_404(batch_id)
    today = clock.local_today()
    history = queries.batch_history(batch.id)
    assessment = expiry.assess(batch, today)
    return render_template("stock/batches/detail.html", batch=batch, history=history,
                           status=assessment.status, expiry=assessment,
                           reversed_ids=queries.reversed_movement_ids([m.id for m in history]),
                           visible_docs={m.document_id for m in history
                                         if can_view_document(current_user, m.document)},
                           reversible_docs={m.document_id for m in history
                                            if REVERSE in allowed_actions(current_user, m.document.location)},
                           actions=allowed_actions(current_user, batch.location))


@bp.get("/documents/<int:document_id>")
@access(*STAFF)
def document_detail(document_id: int):
    """A document (入库单, 出库单 …) with its lines; printable.

    Visible to whoever may view its location or its counterparty location
    (the receiving point of a transfer sees the transfer order); 404 otherwise.
    """
    doc = queries.document_with_lines(document_id)
    if doc is None or not can_view_document(current_user, doc):
        abort(404)
    ids = [m.id for m in doc.movements]
    return render_template("stock/documents/detail.html", doc=doc,
                           reversed_ids=queries.reversed_movement_ids(ids),
                           can_reverse=REVERSE in allowed_actions(current_user, doc.location))


def _journal_filter(form: JournalFilterForm) -> queries.JournalFilter:
    tz = clock.business_tz()

    def utc(day: dt.date | None, plus: int = 0):
        if day is None:
            return None
        return clock.to_utc_naive(dt.datetime.combine(day + dt.timedelta(days=plus), dt.time(), tzinfo=tz))

    kind = form.kind.data if form.kind.data in {k.value for k in MovementKind} else None
    return queries.JournalFilter(
        location_id=form.location.data, item_id=form.item.data,
        kind=MovementKind(kind) if kind else None, user_id=form.user.data,
        date_from=utc(form.date_from.data), date_to=utc(form.date_to.data, plus=1))


def _journal_form() -> JournalFilterForm:
    form = JournalFilterForm(request.args)
    visible = visible_location_ids(current_user)
    form.location.choices = choices([(None, _("All locations"))] + [
        (l.id, f"{l.code} {l.display_name('en' if is_english() else 'zh')}")
        for l in queries.active_location_names(visible)])
    form.item.choices = choices([(None, _("All items"))] + [
        (i.id, f"{i.code} {i.display_name('en' if is_english() else 'zh')}") for i in queries.active_item_names()])
    form.kind.choices = choices([(None, _("All kinds"))] + [(k.value, KIND_LABELS[k]) for k in MovementKind])
    form.user.choices = choices([(None, _("All users"))] + [
        (u.id, u.name) for u in queries.journal_users(visible)])
    return form


@bp.get("/journal")
@access(*STAFF)
def journal():
    """The movement journal (台账) of visible locations, filterable, 50 rows a page."""
    form = _journal_form()
    valid = form.validate()
    flt = _journal_filter(form) if valid else queries.JournalFilter()
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = queries.journal_page(visible_location_ids(current_user), flt, page)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("stock/journal.html", form=form, rows=rows, page=page, has_next=has_next, args=args)


EXPORT_COLUMNS = ["时间 Time", "单据号 Document", "类型 Kind", "库点 Location", "物资编码 Item code",
                  "品名 Item", "规格 Spec", "批号 Lot", "标签码 Label code", "数量 Quantity", "单位 Unit",
                  "对方 Counterparty", "事由 Reason", "经办人 User", "冲销单据 Reverses document"]


def _export_rows(movements):
    """One row per movement in :data:`EXPORT_COLUMNS` order; the quantity is a Decimal (a
    number in both formats), every other cell text that the spreadsheet writer neutralises."""
    for m in movements:
        yield [
            clock.to_local(m.occurred_at).strftime("%Y-%m-%d %H:%M"), m.document.number or "",
            str(KIND_LABELS[m.kind]), f"{m.location.code} {m.location.name_zh}", m.item.code,
            m.item.name_zh, m.item.spec, m.batch.lot_number, m.batch.label_code,
            m.quantity, m.item.unit, m.document.counterparty, m.reason, m.user.name,
            m.reverses.document.number if m.reverses else "",
        ]


@bp.get("/journal.<fmt>")
@access(*STAFF)
def journal_export(fmt: str):
    """The filtered journal as CSV (UTF-8 with BOM, opens in Excel) or XLSX; at most 100,000 rows."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    form = _journal_form()
    if not form.validate():
        abort(400)
    stmt = queries.journal_query(visible_location_ids(current_user), _journal_filter(form)).limit(EXPORT_LIMIT)
    movements = db.session.scalars(stmt).unique()
    stamp = clock.local_today().isoformat()
    if fmt == "csv":
        body = spreadsheet.csv_text([EXPORT_COLUMNS, *_export_rows(movements)])
        return Response(body, mimetype=spreadsheet.CSV_MIMETYPE,
                        headers={"Content-Disposition": f"attachment; filename=journal-{stamp}.csv"})
    book = spreadsheet.XlsxBook()
    ws = book.sheet("台账 journal")
    ws.append(EXPORT_COLUMNS)
    for row in _export_rows(movements):
        ws.append(row)
    return Response(book.to_bytes(), mimetype=spreadsheet.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename=journal-{stamp}.xlsx"})
