"""Label printing for batches, locations, shelves and items: records, settings, PDF.

Turns database rows into the plain records of the pure :mod:`labels` package
(which knows nothing of the database) and renders them with the user's layout,
start position and printer calibration.  The user's last layout is
``User.label_layout``; the calibration offset is remembered per user *and*
layout in :class:`~inventory.scan.models.LabelSetting` (each layout is usually a
different printer: the office laser for A4 sheets, a thermal printer for rolls).

Every batch label carries item name, specification, lot, quantity and unit,
production, expiry and received dates and the storage location (the central
relief-reserve rules, see ``labels.model.BatchLabel``) plus its QR code, whose
payload is :func:`inventory.scan.services.landing.label_url`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

import labels
from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.core.quantities import format_quantity
from inventory.scan.models import LabelSetting
from inventory.scan.services.landing import label_url
from inventory.stock.models import Batch, Item, Location, Movement, SubLocation
from inventory.users.models import User
from labels.layouts import MAX_OFFSET_MM

#: The layout used before a user has chosen one.
DEFAULT_LAYOUT = "a4-3x8"
#: Most labels one print job may produce (about 4 s of rendering; a depot's full
#: relabelling is split into several jobs).
MAX_LABELS = 1200
#: Most copies of each label in one job.
MAX_COPIES = 50


@dataclass(frozen=True)
class PrintSettings:
    """How to print: ``layout`` name (labels.LAYOUTS), ``start`` (0-based first free
    position on a partly used sheet), printer offset in tenths of a millimetre
    (positive = right / down) and ``copies`` of each label."""

    layout: str = DEFAULT_LAYOUT
    start: int = 0
    offset_x_tenths: int = 0
    offset_y_tenths: int = 0
    copies: int = 1

    def layout_object(self) -> labels.Layout:
        """The preset layout with the calibration offset applied.

        Raises InvalidInput for an unknown layout or an offset beyond ±10 mm.
        """
        if self.layout not in labels.LAYOUTS:
            raise InvalidInput(_l("Unknown label layout."), field="layout")
        for name, tenths in (("offset_x", self.offset_x_tenths), ("offset_y", self.offset_y_tenths)):
            if abs(tenths) > MAX_OFFSET_MM * 10:
                raise InvalidInput(_l("The printer offset must be between -10 and 10 mm."), field=name)
        return labels.get_layout(self.layout).with_offset(self.offset_x_tenths / 10, self.offset_y_tenths / 10)


def parse_offset(raw: str | Decimal | None, field: str) -> int:
    """A typed offset in millimetres (``"-1.5"``, ``"0,5"``) → tenths of a millimetre.

    Empty means 0.  Raises InvalidInput when it is not a number, has more than
    one decimal place or lies beyond ±10 mm.
    """
    text = str(raw if raw is not None else "").strip().replace("，", ".").replace(",", ".")
    if not text:
        return 0
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(_l("Enter the offset in millimetres, e.g. -1.5."), field=field) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.1")):
        raise InvalidInput(_l("Enter the offset in millimetres, e.g. -1.5."), field=field)
    if abs(value) > Decimal(str(MAX_OFFSET_MM)):
        raise InvalidInput(_l("The printer offset must be between -10 and 10 mm."), field=field)
    return int(value * 10)


def saved_settings(user: User) -> PrintSettings:
    """The user's remembered layout and that layout's calibration offset (defaults if none)."""
    layout = user.label_layout if user.label_layout in labels.LAYOUTS else DEFAULT_LAYOUT
    return PrintSettings(layout=layout, **offsets_for(user, layout))


def offsets_for(user: User, layout: str) -> dict[str, int]:
    """``{"offset_x_tenths": …, "offset_y_tenths": …}`` remembered for ``user`` and ``layout``."""
    row = db.session.scalar(select(LabelSetting).where(LabelSetting.user_id == user.id,
                                                       LabelSetting.layout == layout))
    if row is None:
        return {"offset_x_tenths": 0, "offset_y_tenths": 0}
    return {"offset_x_tenths": row.offset_x_tenths, "offset_y_tenths": row.offset_y_tenths}


def all_offsets(user: User) -> dict[str, tuple[int, int]]:
    """Every remembered calibration of ``user``: layout name → (x, y) tenths of a mm (one query)."""
    rows = db.session.execute(select(LabelSetting.layout, LabelSetting.offset_x_tenths,
                                     LabelSetting.offset_y_tenths).where(LabelSetting.user_id == user.id))
    return {layout: (x, y) for layout, x, y in rows}


def remember_settings(user: User, settings: PrintSettings) -> None:
    """Remember ``settings.layout`` as the user's layout and its offset for that layout.

    Validates first (InvalidInput as :meth:`PrintSettings.layout_object`); flushes.
    """
    settings.layout_object()
    user.label_layout = settings.layout
    row = db.session.scalar(select(LabelSetting).where(LabelSetting.user_id == user.id,
                                                       LabelSetting.layout == settings.layout))
    if row is None:
        row = LabelSetting(user_id=user.id, layout=settings.layout)
        db.session.add(row)
    row.offset_x_tenths = settings.offset_x_tenths
    row.offset_y_tenths = settings.offset_y_tenths
    db.session.flush()


# --------------------------------------------------------------------------- records


def _place(location: Location, sub: SubLocation | None) -> str:
    return f"{location.name_zh} / {sub.code}" if sub is not None else location.name_zh


def batch_record(batch: Batch, base_url: str) -> labels.BatchLabel:
    """The label record of a batch (item, location and shelf must be loaded)."""
    item = batch.item
    return labels.BatchLabel(
        item_name=item.name_zh, spec=item.spec or "", lot_number=batch.lot_number or "",
        quantity=format_quantity(batch.quantity), unit=item.unit, produced_on=batch.produced_on,
        expires_on=batch.expires_on, received_on=batch.received_on,
        location=_place(batch.location, batch.sub_location), code=batch.label_code,
        payload=label_url(batch.label_code, base_url),
    )


def location_record(location: Location, base_url: str) -> labels.LocationLabel:
    """The label of a location itself (fixed at its door)."""
    return labels.LocationLabel(code=location.label_code, name=location.name_zh, parent=None,
                                payload=label_url(location.label_code, base_url))


def shelf_record(sub: SubLocation, base_url: str) -> labels.LocationLabel:
    """The label of a shelf or bin, naming its location."""
    name = sub.name.strip() or sub.code
    if sub.code not in name:
        name = f"{sub.code} {name}"
    return labels.LocationLabel(code=sub.label_code, name=name, parent=sub.location.name_zh,
                                payload=label_url(sub.label_code, base_url))


def item_record(item: Item, base_url: str) -> labels.ItemLabel:
    """The label of a kind of supply (shelf edge), with its GB/T 38565 category."""
    category = f"{item.category.code} {item.category.name_zh}" if item.category else ""
    return labels.ItemLabel(code=item.label_code, item_name=item.name_zh, spec=item.spec or "",
                            unit=item.unit, category=category, payload=label_url(item.label_code, base_url))


def render_pdf(records: Sequence[labels.Label], settings: PrintSettings) -> bytes:
    """Print ``records`` (each ``settings.copies`` times, copies side by side) as a PDF.

    Raises InvalidInput: nothing to print, too many labels (:data:`MAX_LABELS`),
    bad copies, layout, offset or start position, or a name with a character
    the label font lacks (the message names the text and the characters).
    """
    layout = settings.layout_object()
    if not records:
        raise InvalidInput(_l("Choose at least one label to print."), field="targets")
    if not 1 <= settings.copies <= MAX_COPIES:
        raise InvalidInput(_l("Copies must be between 1 and %(n)s.", n=MAX_COPIES), field="copies")
    total = len(records) * settings.copies
    if total > MAX_LABELS:
        raise InvalidInput(_l("%(total)s labels are too many for one print job; at most %(max)s.",
                              total=total, max=MAX_LABELS), field="targets")
    if not layout.is_single and not 0 <= settings.start < layout.per_page:
        raise InvalidInput(_l("The start position must be between 1 and %(n)s on this sheet.",
                              n=layout.per_page), field="start")
    ordered = [r for r in records for _ in range(settings.copies)]
    try:
        return labels.render(ordered, layout, start=0 if layout.is_single else settings.start)
    except labels.MissingGlyphError as err:
        raise InvalidInput(_l("Cannot print “%(text)s”: the label font has no %(chars)s. "
                              "Correct the name and print again.",
                              text=err.text, chars=" ".join(err.chars)), field="targets") from None
    except ValueError as err:
        raise InvalidInput(_l("These labels do not fit the chosen layout: %(detail)s",
                              detail=str(err)), field="layout") from None


def calibration_pdf(settings: PrintSettings) -> bytes:
    """The alignment page of ``settings.layout`` with its offset (see labels.calibration_page)."""
    return labels.calibration_page(settings.layout_object())


# --------------------------------------------------------------------------- reads


def _batch_query():
    return select(Batch).options(joinedload(Batch.item), joinedload(Batch.location),
                                 joinedload(Batch.sub_location))


def batches_by_id(ids: Iterable[int]) -> list[Batch]:
    """Batches with item, location and shelf loaded, in the order of ``ids`` (one query)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = {b.id: b for b in db.session.scalars(_batch_query().where(Batch.id.in_(ids))).unique()}
    return [found[i] for i in ids if i in found]


def document_batches(document_id: int) -> list[Batch]:
    """The batches a document's movements touched, in line order, each once (for a goods-received
    note: the batches it created).  Two queries."""
    ids = db.session.scalars(select(Movement.batch_id).where(Movement.document_id == document_id,
                                                              Movement.quantity > 0)
                             .order_by(Movement.id))
    return batches_by_id(ids)


def location_batches(location_id: int) -> list[Batch]:
    """Batches with stock at a location, by shelf, item code and expiry (one query)."""
    return list(db.session.scalars(
        _batch_query().join(Item, Item.id == Batch.item_id)
        .outerjoin(SubLocation, SubLocation.id == Batch.sub_location_id)
        .where(Batch.location_id == location_id, Batch.quantity > 0)
        .order_by(SubLocation.code.is_(None), SubLocation.code, Item.code, Batch.expires_on, Batch.id)
    ).unique())


def location_shelves(location_id: int) -> list[SubLocation]:
    """Active shelves and bins of a location with the location loaded, by code."""
    return list(db.session.scalars(
        select(SubLocation).options(joinedload(SubLocation.location))
        .where(SubLocation.location_id == location_id, SubLocation.active.is_(True))
        .order_by(SubLocation.code)))


def items_by_id(ids: Iterable[int]) -> list[Item]:
    """Items with their category, in the order of ``ids``."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = {i.id: i for i in db.session.scalars(
        select(Item).options(joinedload(Item.category)).where(Item.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


__all__ = [
    "DEFAULT_LAYOUT", "MAX_COPIES", "MAX_LABELS", "PrintSettings", "all_offsets", "batch_record",
    "batches_by_id", "calibration_pdf", "document_batches", "item_record", "items_by_id",
    "location_batches", "location_record", "location_shelves", "offsets_for", "parse_offset",
    "remember_settings", "render_pdf", "saved_settings", "shelf_record",
]
