"""Helpers for the scan area's tests: read PDFs back as a printer and a phone would.

Pages are rasterised with pypdfium2 and every QR code is decoded with
zxing-cpp; only texts that look like our label URLs count (zxing-cpp 3.x may
report a bogus extra symbol read inside a finder pattern, zxing-cpp issue #1162;
docs/sources.md §9.4).
"""
from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp

from inventory.core.codes import code_from_text


def pages(pdf: bytes) -> int:
    """Number of pages."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def qr_payloads(pdf: bytes, dpi: int = 200, thermal: bool = False) -> list[list[str]]:
    """Per page, the label URLs decoded from its QR codes, sorted by position (top to bottom,
    left to right).  ``thermal`` renders without anti-aliasing and thresholds to 1 bit, as a
    203-dpi thermal head prints."""
    out = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for page in doc:
            kw = dict(no_smoothtext=True, no_smoothimage=True, no_smoothpath=True) if thermal else {}
            img = page.render(scale=dpi / 72, grayscale=True, **kw).to_pil().convert("L")
            if thermal:
                img = img.point(lambda v: 255 if v >= 128 else 0)
            found = []
            for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode):
                if code_from_text(r.text) is None:
                    continue
                p = r.position
                found.append((round(p.top_left.y / 20), p.top_left.x, r.text))
            out.append([text for _y, _x, text in sorted(found)])
            page.close()
    finally:
        doc.close()
    return out


def text(pdf: bytes) -> str:
    """All text pdfium extracts, pages joined by newlines."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()
