"""Label printing: a goods-received note's batches, chosen batches, a location's shelves.

Each page lists the labels it can print as check boxes and asks for the
layout (remembered per user), the first free position on a partly used sheet,
the printer offset (remembered per user and layout) and copies; posting
returns the PDF from the pure :mod:`labels` package.  Printing is allowed to
those who handle the goods at the location — the count right (``COUNT``):
keepers and residential managers at their locations, the armed forces
department at civil-defence locations, the office elsewhere.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import labels
from inventory.core import clock
from inventory.core.db import db
from inventory.core.quantities import format_quantity
from inventory.scan.forms import CalibrationForm, PrintForm
from inventory.scan.services import labelling
from inventory.scan.services.labelling import PrintSettings
from inventory.stock.access import require
from inventory.stock.models import Batch, Location
from inventory.stock.permissions import COUNT
from inventory.stock.services import queries
from inventory.stock.views.movements import COUNTERS
from inventory.stock.views.stock import batch_or_404
from inventory.web.access import access
from inventory.web.transaction import form_status, view_transaction

bp = Blueprint("printing", __name__, url_prefix="/labels")


@dataclass(frozen=True)
class Target:
    """A printable label: form value (``b12``, ``s3``, ``l1``, ``i4``), its caption, its group
    ("batches", "shelves", "location", "items") and how to build its record."""

    value: str
    caption: str
    group: str
    record: Callable[[str], labels.Label]


def batch_caption(batch: Batch) -> str:
    """One line describing a batch on the print page: item, lot, quantity, shelf, expiry."""
    lot, expires = _("Lot"), _("expires")  # outside the f-strings, where Babel finds them
    parts = [batch.item.name_zh, f"{lot} {batch.lot_number or '—'}",
             f"{format_quantity(batch.quantity)} {batch.item.unit}"]
    if batch.sub_location:
        parts.append(batch.sub_location.code)
    if batch.expires_on:
        parts.append(f"{expires} {batch.expires_on.isoformat()}")
    return " · ".join(parts)


def _batch_targets(batches) -> list[Target]:
    return [Target(f"b{b.id}", batch_caption(b), "batches", lambda url, b=b: labelling.batch_record(b, url))
            for b in batches]


def _pdf_response(data: bytes, name: str) -> Response:
    stamp = clock.local_today().strftime("%Y%m%d")
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}-{stamp}.pdf"',
                             "Cache-Control": "no-store"})


def _settings(form, with_copies: bool = True) -> PrintSettings:
    """Print settings from a validated form (InvalidInput for a bad offset)."""
    start = getattr(form, "start", None)
    return PrintSettings(
        layout=form.layout.data,
        start=(start.data or 1) - 1 if start is not None else 0,
        offset_x_tenths=labelling.parse_offset(form.offset_x.data, "offset_x"),
        offset_y_tenths=labelling.parse_offset(form.offset_y.data, "offset_y"),
        copies=form.copies.data if with_copies else 1,
    )


def _fill_defaults(form) -> None:
    saved = labelling.saved_settings(current_user)
    form.layout.data = saved.layout
    form.offset_x.data = f"{saved.offset_x_tenths / 10:g}"
    form.offset_y.data = f"{saved.offset_y_tenths / 10:g}"


#: Service error fields shown above the form rather than beside a field (the check boxes of "targets").
FIELD_MAP = {"targets": None}


def _remember(form, tx, settings: PrintSettings) -> None:
    """Remember the layout and offset when asked, in ``tx`` (the PDF is already made)."""
    if not form.remember.data:
        return
    try:
        labelling.remember_settings(current_user, settings)
    except IntegrityError:  # the same user's print in another tab remembered them a moment ago
        tx.discard()


def _offsets_json() -> str:
    saved = labelling.all_offsets(current_user)
    text = json.dumps({name: [x / 10, y / 10] for name, (x, y) in saved.items()})
    return text.replace("<", "\\u003c")  # safe inside <script type="application/json">


def print_page(*, title: str, name: str, targets: list[Target], back_url: str, preselect: set[str],
               intro: str = ""):
    """Show the print form for ``targets`` (GET) or return the PDF (POST).

    ``preselect`` — target values checked on GET.  A refused print (nothing
    chosen, bad offset, too many labels, a character the label font lacks)
    shows the form again with the reason (422) and remembers nothing.
    """
    form = PrintForm()
    form.targets.choices = [(t.value, t.caption) for t in targets]
    if request.method == "GET":
        _fill_defaults(form)
        form.targets.data = [t.value for t in targets if t.value in preselect]
    elif form.validate_on_submit():
        with view_transaction(form, field_map=FIELD_MAP) as tx:
            settings = _settings(form)
            if form.calibrate.data:
                data = labelling.calibration_pdf(settings)
            else:
                chosen = set(form.targets.data or [])
                base = current_app.config["EXTERNAL_URL"]
                records = [t.record(base) for t in targets if t.value in chosen]
                data = labelling.render_pdf(records, settings)
            _remember(form, tx, settings)
        if tx.error is None:
            return _pdf_response(data, "calibration" if form.calibrate.data else name)
    groups: dict[str, list[Target]] = {}
    for t in targets:
        groups.setdefault(t.group, []).append(t)
    return render_template("scan/print.html", form=form, title=title, groups=groups, back_url=back_url,
                           intro=intro, layouts=labels.LAYOUTS, offsets_json=_offsets_json(),
                           loopback_url=_loopback_base()), form_status()


def _loopback_base() -> str | None:
    """EXTERNAL_URL when its host is this machine only (localhost, 127.x, ::1), else None.  QR
    codes printed with such a base open nothing on a phone, so the print page warns."""
    base = current_app.config["EXTERNAL_URL"]
    host = (urlsplit(base).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return base
    try:
        return base if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


@bp.route("/documents/<int:document_id>", methods=["GET", "POST"])
@access(*COUNTERS)
def document_labels(document_id: int):
    """Labels for the batches a document brought in (a goods-received note, right after receipt)."""
    doc = queries.document_with_lines(document_id)
    if doc is None:
        abort(404)
    require(COUNT, doc.location)
    targets = _batch_targets(labelling.document_batches(doc.id))
    return print_page(title=_("Labels for %(number)s", number=doc.number), name=doc.number, targets=targets,
                      back_url=url_for("stock.document_detail", document_id=doc.id),
                      preselect={t.value for t in targets},
                      intro="" if targets else _("This document brought in no batches to label."))


@bp.route("/batches/<int:batch_id>", methods=["GET", "POST"])
@access(*COUNTERS)
def batch_label(batch_id: int):
    """Print or reprint the label of one batch."""
    batch = batch_or_404(batch_id, COUNT)
    batch = labelling.batches_by_id([batch.id])[0]
    targets = _batch_targets([batch])
    return print_page(title=_("Label for lot %(lot)s", lot=batch.lot_number or batch.label_code),
                      name=f"batch-{batch.label_code}", targets=targets,
                      back_url=url_for("stock.batch_detail", batch_id=batch.id),
                      preselect={targets[0].value})


@bp.route("/locations/<loc_code>", methods=["GET", "POST"])
@access(*COUNTERS)
def location_labels(loc_code: str):
    """Labels of a location: its own, its shelves, its batches with stock and its items.

    ``?select=batches`` (or ``shelves``, ``items``) checks a whole group on
    GET, so printing everything needs no script.
    """
    location = require(COUNT, db.session.scalar(select(Location).where(Location.code == loc_code)))
    batches = labelling.location_batches(location.id)
    shelves = labelling.location_shelves(location.id)
    items = labelling.items_by_id(b.item_id for b in batches)
    targets = [Target(f"l{location.id}", f"{location.name_zh} ({location.code})", "location",
                      lambda url: labelling.location_record(location, url))]
    targets += [Target(f"s{s.id}", s.name if s.code in s.name else f"{s.code} {s.name}".strip(), "shelves",
                       lambda url, s=s: labelling.shelf_record(s, url)) for s in shelves]
    targets += _batch_targets(batches)
    targets += [Target(f"i{i.id}", f"{i.code} {i.name_zh} {i.spec}".strip(), "items",
                       lambda url, i=i: labelling.item_record(i, url)) for i in items]
    group = request.args.get("select", "")
    preselect = {t.value for t in targets if t.group == group}
    return print_page(title=_("Labels for %(name)s", name=location.name_zh), name=f"labels-{location.code}",
                      targets=targets, back_url=url_for("stock.location_detail", loc_code=location.code),
                      preselect=preselect)


@bp.route("/calibration", methods=["GET", "POST"])
@access(*COUNTERS)
def calibration():
    """The alignment page of a layout: print it on a real sheet and read the offset off its scales."""
    form = CalibrationForm()
    if request.method == "GET":
        _fill_defaults(form)
    elif form.validate_on_submit():
        with view_transaction(form, field_map=FIELD_MAP) as tx:
            settings = _settings(form, with_copies=False)
            data = labelling.calibration_pdf(settings)
            _remember(form, tx, settings)
        if tx.error is None:
            return _pdf_response(data, "calibration")
    return render_template("scan/calibration.html", form=form, offsets_json=_offsets_json()), form_status()
