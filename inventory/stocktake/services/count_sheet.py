"""The count sheet (盘点表) of a stocktake as PDF (A4 landscape) and XLSX.

Rows: every counted batch of the location, every unexpected batch (found here,
booked elsewhere) and, while the count is open, every batch not counted yet —
so an open blind count prints as the paper sheet to count on.  Book
quantities and differences are left blank while a blind count is open.
Chinese text in the PDF uses the embedded label font
(:mod:`inventory.core.pdf`); a character the font lacks is printed as
"?" (the XLSX keeps the exact text), never as a silent blank.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from flask_babel import gettext as _

from inventory.core import clock
from inventory.core import tabular as spreadsheet
from inventory.core.pdf import font, markup, printable
from inventory.core.quantities import format_quantity
from inventory.stock.models import Batch
from inventory.stocktake.models import StocktakeLine
from inventory.stocktake.services.queries import CountView


@dataclass
class SheetRow:
    """One row of the sheet; quantities are Decimal or None (blank)."""

    shelf: str
    item_code: str
    item_name: str
    spec: str
    lot: str
    expires: str
    label_code: str
    unit: str
    book: Decimal | None
    counted: Decimal | None
    difference: Decimal | None
    note: str


def hide_book(view: CountView) -> bool:
    """True while a blind count is open: book quantities stay hidden."""
    return view.stocktake.blind and view.stocktake.is_open


def _row(batch: Batch, line: StocktakeLine | None, hidden: bool, note: str) -> SheetRow:
    shelf = (line.sub_location if line is not None and line.sub_location else batch.sub_location)
    book = line.book_quantity if line is not None else batch.quantity
    counted = line.counted if line is not None else None
    diff = (counted - book) if counted is not None else None
    return SheetRow(
        shelf=shelf.code if shelf else "", item_code=batch.item.code, item_name=batch.item.name_zh,
        spec=batch.item.spec or "", lot=batch.lot_number or "",
        expires=batch.expires_on.isoformat() if batch.expires_on else "", label_code=batch.label_code,
        unit=batch.item.unit, book=None if hidden else book, counted=counted,
        difference=None if hidden else diff, note=note)


def sheet_rows(view: CountView, visible_ids: set[int] | None) -> list[SheetRow]:
    """The rows in sheet order: counted, unexpected, then not yet counted.

    ``visible_ids`` — locations the reader may see (None: all); an unexpected
    batch booked elsewhere names its location only to those who may see it.
    """
    hidden = hide_book(view)
    rows = []
    for line in view.counted:
        note = _("Not found") if line.counted == 0 else ""
        rows.append(_row(line.batch, line, hidden, note))
    for line in view.unexpected:
        seen = visible_ids is None or line.booked_location_id in visible_ids
        place = line.booked_location.name_zh if seen else _("another location")
        rows.append(_row(line.batch, line, True,
                         _("Unexpected: booked at %(location)s; nothing booked", location=place)))
    for batch in view.missing:
        rows.append(_row(batch, None, hidden, _("Not counted yet")))
    return rows


def _headers() -> list[str]:
    return [_("No."), _("Shelf"), _("Item code"), _("Item"), _("Specification"), _("Lot"), _("Expiry date"),
            _("Label code"), _("Unit"), _("Book"), _("Counted"), _("Difference"), _("Note")]


def _title(view: CountView) -> list[str]:
    """Two header lines: number and location; status, start, confirmation and blind mode."""
    st = view.stocktake
    status = {"open": _("open"), "confirmed": _("confirmed"), "cancelled": _("cancelled")}[st.status.value]
    # gettext calls stay outside f-strings: Babel's extractor does not look inside them.
    sheet, status_word, started = _("Count sheet"), _("Status"), _("Started")
    meta = (f"{status_word}: {status} · {started}: {clock.to_local(st.started_at):%Y-%m-%d %H:%M} "
            f"{st.started_by.name}")
    if st.confirmed_at:
        confirmed = _("Confirmed")
        meta += f" · {confirmed}: {clock.to_local(st.confirmed_at):%Y-%m-%d %H:%M}"
    if hide_book(view):
        meta += " · " + _("Blind count: book quantities hidden")
    return [f"{sheet} {st.number} · {st.location.name_zh} ({st.location.code})", meta]


def _fmt(value: Decimal | None, signed: bool = False) -> str:
    if value is None:
        return ""
    text = format_quantity(value)
    return f"+{text}" if signed and value > 0 else text


def xlsx(view: CountView, visible_ids: set[int] | None) -> bytes:
    """The sheet as an XLSX workbook: title lines, a header row, one row per batch; quantities numeric,
    text kept as text (never a formula) by :mod:`inventory.core.tabular`.

    ``visible_ids`` as in :func:`sheet_rows`.
    """
    book = spreadsheet.XlsxBook()
    ws = book.sheet(view.stocktake.number or "count",
                    widths=(5, 8, 10, 24, 22, 14, 11, 15, 6, 9, 9, 9, 30))
    for text in _title(view):
        ws.append([text])
    ws.append([])
    ws.append(_headers(), bold=True)
    for n, r in enumerate(sheet_rows(view, visible_ids), start=1):
        ws.append([n, r.shelf, r.item_code, r.item_name, r.spec, r.lot, r.expires, r.label_code, r.unit,
                   r.book, r.counted, r.difference, r.note])
    return book.to_bytes()


def pdf(view: CountView, visible_ids: set[int] | None) -> bytes:
    """The sheet as an A4 landscape PDF with the Chinese font embedded; header repeated on each page.

    ``visible_ids`` as in :func:`sheet_rows`.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    face = font()
    body = ParagraphStyle("cell", fontName=face, fontSize=8, leading=10, wordWrap="CJK")
    head = ParagraphStyle("title", fontName=face, fontSize=13, leading=17, wordWrap="CJK")
    small = ParagraphStyle("meta", fontName=face, fontSize=9, leading=12, wordWrap="CJK")

    def cell(text: str, style=body) -> Paragraph:
        return Paragraph(markup(text, lenient=True), style)

    widths = [9, 14, 16, 40, 34, 22, 19, 25, 10, 15, 15, 15, 43]  # mm, 277 = A4 landscape − margins
    room = [w * mm - 4 for w in widths]  # minus 2 pt padding on each side

    def fit(text: str, column: int):
        """A plain string when it fits on one line (ten times cheaper to lay out), else a wrapping Paragraph."""
        text = printable(text)
        if pdfmetrics.stringWidth(text, face, 8) <= room[column]:
            return text
        return Paragraph(escape(text), body)

    title = _title(view)
    story = [cell(title[0], head), cell(title[1], small), Spacer(1, 4 * mm)]
    data = [[cell(h) for h in _headers()]]
    for n, r in enumerate(sheet_rows(view, visible_ids), start=1):
        values = (str(n), r.shelf, r.item_code, r.item_name, r.spec, r.lot, r.expires, r.label_code, r.unit,
                  _fmt(r.book), _fmt(r.counted), _fmt(r.difference, signed=True), r.note)
        data.append([fit(v, i) for i, v in enumerate(values)])
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), face), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LEADING", (0, 0), (-1, -1), 10),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    story.append(table)
    story.append(Spacer(1, 8 * mm))
    blank = "______________"
    signatures = (_("Counted by"), _("Checked by"), _("Date"))
    story.append(cell("    ".join(f"{word}: {blank}" for word in signatures), small))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title=title[0], invariant=1)
    doc.build(story)
    return out.getvalue()
