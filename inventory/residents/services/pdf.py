"""PDFs for residents: the printable family checklist and the A4 QR poster for notice boards.

Pure functions from a computed :class:`~inventory.residents.services.checklist.Checklist` (or the poster's
texts) to PDF bytes; no database access.  Captions are in the active Flask-Babel locale
(the caller's request); ``locale`` picks which language the checklist *data* is printed in.

Chinese is printed with the project's embedded font (:func:`inventory.core.pdf.font`,
a Noto Sans SC subset), and every string is checked first with
:func:`inventory.core.pdf.check`: a character the font lacks raises
:class:`~inventory.core.pdf.MissingGlyphError` instead of printing a blank.

The basic checklist must fit one A4 page (the issue "Residents"): it is laid out at full
size and, if it runs over, again at smaller scales (down to 70 %) until it fits.
The poster's QR code is drawn as vectors (one path of merged runs, measured in docs/sources.md §9.4) from
:func:`labels.qr_matrix` (``qrcode`` package, error correction Q).
"""
from __future__ import annotations

import io

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from inventory.core.pdf import check, font, markup
from inventory.residents.models import KitVersion
from inventory.residents.services.checklist import (
    Checklist,
    ChecklistLine,
    SourceRef,
    household_text,
    instructions,
    rule_text,
    total_text,
)
from labels import qr_matrix

GREY = colors.HexColor("#555555")
LIGHT = colors.HexColor("#f2f2f2")
RED = colors.HexColor("#b3261e")
#: Layout scales tried for the basic version until it fits one page.
SCALES = (1.0, 0.92, 0.85, 0.78, 0.7)
#: Public emergency numbers printed in the contacts box (national numbers; 12345 is the
#: Shanghai citizens' service hotline).
EMERGENCY_NUMBERS = (("110", _l("Police")), ("119", _l("Fire")), ("120", _l("Ambulance")),
                     ("12345", _l("Citizens' hotline")))


class TickBox(Flowable):
    """An empty square to tick by hand, ``size`` points wide."""

    def __init__(self, size: float):
        super().__init__()
        self.size = size

    def wrap(self, avail_width, avail_height):
        """Occupies a square of ``size`` points."""
        return self.size, self.size

    def draw(self):
        """Draw the square's outline."""
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.size, self.size, stroke=1, fill=0)


def _styles(face: str, scale: float) -> dict[str, ParagraphStyle]:
    def style(name, size, color=colors.black, leading=1.25, **kw):
        return ParagraphStyle(name, fontName=face, fontSize=size * scale, leading=size * scale * leading,
                              textColor=color, wordWrap="CJK", **kw)

    return {
        "title": style("title", 16, leading=1.2),
        "subtitle": style("subtitle", 9, GREY),
        "body": style("body", 8.5),
        "cell": style("cell", 8),
        "name": style("name", 9),
        "small": style("small", 6.5, GREY, leading=1.2),
        "head": style("head", 7.5, colors.white),
        "note": style("note", 6.8, GREY, leading=1.25),
        "boxhead": style("boxhead", 8.5),
    }


def _other(locale: str) -> str:
    return "zh" if locale.startswith("en") else "en"


def _line_row(line: ChecklistLine, checklist: Checklist, st, locale: str, box: float) -> list:
    spec = line.spec
    num = checklist.source_number
    name = [Paragraph(markup(spec.text("name", locale)), st["name"]),
            Paragraph(markup(spec.text("name", _other(locale))), st["small"])]
    purpose = Paragraph(markup(spec.text("purpose", locale)), st["cell"])
    rule = f"{rule_text(spec, locale)} [{num(spec.qty_source.key)}]"
    if line.total is not None:
        qty = [Paragraph(markup(total_text(line, locale)), st["name"]), Paragraph(markup(rule), st["small"])]
    else:
        qty = [Paragraph(markup(rule), st["cell"]), Paragraph(markup(_("Total") + ": ______"), st["small"])]
    if line.check_by is not None:
        check = [Paragraph(markup(_("Check by %(date)s", date=line.check_by.isoformat())
                              + f" [{num(spec.check_source.key)}]"), st["small"]),
                 Paragraph(markup(_("Replace by") + " ________"), st["small"])]
    else:
        check = Paragraph("", st["small"])
    source = Paragraph(markup(f"[{num(spec.source.key)}] {spec.source.text('short', locale)}"), st["small"])
    return [TickBox(box), name, purpose, qty, check, source]


def _story(checklist: Checklist, locale: str, url: str, scale: float) -> list:
    face = font()
    st = _styles(face, scale)
    version_name = _("basic version") if checklist.version == KitVersion.BASIC else _("extended version")
    story = [
        Paragraph(markup(_("Family emergency supplies checklist") + f" · {version_name}"), st["title"]),
        Paragraph(markup(_("Lujiazui subdistrict, Pudong, Shanghai") + " · " + _("Made on %(date)s",
                                                                            date=checklist.today.isoformat())),
                  st["subtitle"]),
        Spacer(1, 2 * mm * scale),
        Paragraph(markup(household_text(checklist)), st["body"]),
        Paragraph(markup(instructions()), st["note"]),
        Spacer(1, 2 * mm * scale),
    ]
    heads = ["", _("Item"), _("What it is for"), _("Quantity"), _("Check / replace"), _("Source")]
    rows = [[Paragraph(markup(h), st["head"]) for h in heads]]
    box = 3.6 * mm * scale
    for line in checklist.lines:
        rows.append(_line_row(line, checklist, st, locale, box))
    widths = [w * mm for w in (7, 36, 57, 32, 28, 26)]
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), RED),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.6 * scale),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6 * scale),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 1), (0, -1), 3 * scale),
    ]
    for i, line in enumerate(checklist.lines, 1):
        if line.spec.special_group is not None:
            style.append(("BACKGROUND", (0, i), (-1, i), LIGHT))
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 2 * mm * scale)]

    notes = [f"{line.spec.text('name', locale)}: {line.spec.text('qty_note', locale)}"
             for line in checklist.lines if line.spec.text("qty_note", locale)]
    if notes:
        story.append(Paragraph(markup(_("Notes on quantities")) + " — " + " ".join(markup(n) for n in notes), st["note"]))
        story.append(Spacer(1, 2 * mm * scale))

    contacts = [Paragraph(markup(_("Emergency contacts")), st["boxhead"])]
    numbers = "  ".join(f"{n} {label}" for n, label in EMERGENCY_NUMBERS)
    contacts.append(Paragraph(markup(numbers), st["cell"]))
    for label in (_("Family contact 1"), _("Family contact 2"), _("Residents' committee"), _("Meeting place")):
        contacts.append(Paragraph(markup(label + ": ______________________________"), st["cell"]))
    sources = [Paragraph(markup(_("Sources")), st["boxhead"])]
    for i, src in enumerate(checklist.sources, 1):
        label = src.text("title", locale)
        if src.text("publisher", locale):
            label = f"{src.text('publisher', locale)}《{label}》" if not locale.startswith("en") else \
                f"{src.text('publisher', locale)}, {label}"
        if src.issued:
            label += f" ({src.issued})"
        label += " · " + (f"{src.confidence} " if src.official else "") + _confidence(src.confidence)
        sources.append(Paragraph(markup(f"[{i}] {label}"), st["note"]))
    bottom = Table([[contacts, sources]], colWidths=[76 * mm, 110 * mm])
    bottom.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOX", (0, 0), (0, 0), 0.6, colors.black),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    story.append(KeepTogether([bottom]))
    story.append(Spacer(1, 1.5 * mm * scale))
    story.append(Paragraph(markup(_("Online: %(url)s · No personal data is stored.", url=url)), st["note"]))
    return story


def _confidence(code: str) -> str:
    from inventory.residents.services.checklist import CONFIDENCE_LABELS

    return str(CONFIDENCE_LABELS.get(code, code))


def render_checklist_pdf(checklist: Checklist, locale: str, url: str) -> tuple[bytes, int]:
    """The printable checklist as A4 PDF bytes and its page count.

    Args:
        checklist: from :func:`inventory.residents.services.checklist.compute_checklist`.
        locale: "zh…" or "en…": the language of the checklist data (names, purposes,
            units); the other language's item name is printed under each name.
        url: the public checklist address printed in the footer.

    The basic version is shrunk (:data:`SCALES`) until it fits one page; the extended
    version flows over as many pages as it needs.

    Raises:
        inventory.core.pdf.MissingGlyphError: a text has a character the embedded font lacks.
    """
    scales = SCALES if checklist.version == KitVersion.BASIC else SCALES[:1]
    for scale in scales:
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=10 * mm,
                                bottomMargin=10 * mm, title=_("Family emergency supplies checklist"),
                                author=_("Lujiazui subdistrict"), creator="emergency-supplies")
        doc.build(_story(checklist, locale, url, scale))
        if doc.page == 1:
            break
    return buf.getvalue(), doc.page


def _qr_runs(payload: str) -> tuple[int, list[tuple[int, int, int]]]:
    matrix = qr_matrix(payload)
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), runs


def _draw_qr(c: rl_canvas.Canvas, payload: str, x: float, y_top: float, side: float) -> None:
    """Draw the QR for ``payload`` as one vector path with its top-left corner at
    (``x``, ``y_top``) and ``side`` points wide including a 4-module quiet zone."""
    size, runs = _qr_runs(payload)
    module = side / (size + 8)
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y_top - side, side, side, stroke=0, fill=1)
    c.translate(x + 4 * module, y_top - 4 * module)
    c.scale(module, -module)
    c.setFillColor(colors.black)
    path = c.beginPath()
    for r, c0, n in runs:
        path.rect(c0, r, n, 1)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _centred(c: rl_canvas.Canvas, text: str, y: float, face: str, size: float, color=colors.black) -> None:
    c.setFillColor(color)
    c.setFont(face, size)
    c.drawCentredString(A4[0] / 2, y, check(text))


def _wrapped(c: rl_canvas.Canvas, text: str, x: float, y_top: float, width: float, style: ParagraphStyle) -> float:
    para = Paragraph(markup(text), style)
    _w, h = para.wrap(width, 1000)
    para.drawOn(c, x, y_top - h)
    return h


def _poster_title() -> str:
    return _("Family emergency supplies checklist")


def _poster_scan() -> str:
    return _("Scan to see the checklist, get quantities for your household, download and print")


def _poster_items(n: int) -> str:
    return _("Basic version, %(n)s items", n=n)


def _poster_privacy() -> str:
    return _("No account needed; no personal data is collected")


def _source_word() -> str:
    return _("Source")


def _subdistrict() -> str:
    return _("Lujiazui subdistrict")


def _both(message, *args) -> tuple[str, str]:
    """``message(*args)`` (a function returning a translated string) in Simplified Chinese
    and in English: the poster is bilingual."""
    out = []
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            out.append(message(*args))
    return out[0], out[1]


def render_poster_pdf(*, area_zh: str, area_en: str, url: str, item_names: list[str], source: SourceRef) -> bytes:
    """An A4 poster for a residential notice board, in Chinese and English: title, the QR
    code linking to ``url``, the URL in text, the area's name, the basic items and their
    source.

    Args:
        area_zh / area_en: the residential area's names.
        url: the link the QR encodes (EXTERNAL_URL + the checklist path + ``?ref=`` area
            code); printable ASCII without spaces (:func:`labels.model.validate_payload`).
        item_names: the basic version's item names (Chinese).
        source: the basic list's source, printed under the items.

    Raises:
        ValueError: ``url`` is not a valid QR payload.
        inventory.core.pdf.MissingGlyphError: a text has a character the embedded font lacks.
    """
    face = font()
    title_zh, title_en = _both(_poster_title)
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"{title_zh} · {area_zh}")
    c.setAuthor(_both(_subdistrict)[1])
    width, height = A4
    c.setFillColor(RED)
    c.rect(0, height - 52 * mm, width, 52 * mm, stroke=0, fill=1)
    _centred(c, title_zh, height - 25 * mm, face, 34, colors.white)
    _centred(c, title_en, height - 36 * mm, face, 15, colors.white)
    _centred(c, " · ".join(_both(_subdistrict)), height - 46 * mm, face, 11, colors.white)
    scan_zh, scan_en = _both(_poster_scan)
    _centred(c, scan_zh, height - 64 * mm, face, 16)
    _centred(c, scan_en, height - 71 * mm, face, 10.5, GREY)
    side = 105 * mm
    _draw_qr(c, url, (width - side) / 2, height - 76 * mm, side)
    _centred(c, url, height - 76 * mm - side - 5 * mm, face, 10, GREY)
    _centred(c, area_zh, height - 76 * mm - side - 15 * mm, face, 18)
    if area_en:
        _centred(c, area_en, height - 76 * mm - side - 21 * mm, face, 10, GREY)
    style = ParagraphStyle("poster", fontName=face, fontSize=11, leading=15, wordWrap="CJK")
    small = ParagraphStyle("poster-small", fontName=face, fontSize=8.5, leading=11, textColor=GREY,
                           wordWrap="CJK")
    y = height - 76 * mm - side - 29 * mm
    n = len(item_names)
    heading = " / ".join(_both(_poster_items, n))
    y -= _wrapped(c, f"{heading}: " + " · ".join(item_names), 20 * mm, y, width - 40 * mm, style)
    y -= 2 * mm
    label = " / ".join(_both(_source_word))
    text = f"{label}: {source.publisher_zh}《{source.title_zh}》"
    if source.issued:
        text += f"（{source.issued}）"
    text += f" · {source.title_en}"
    _wrapped(c, text, 20 * mm, y, width - 40 * mm, small)
    _centred(c, " · ".join(_both(_poster_privacy)), 14 * mm, face, 10, GREY)
    c.showPage()
    c.save()
    return buf.getvalue()


__all__ = ["EMERGENCY_NUMBERS", "render_checklist_pdf", "render_poster_pdf"]
