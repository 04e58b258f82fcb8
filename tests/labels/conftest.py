"""Fixtures for the labels package tests: sample records, rasterising and decoding.

No Flask, no database: labels is a pure function from records to PDF bytes. The font
is built on first use (``labels.fonts.ensure_font``), ~10 s once, then reused from
``instance/fonts/`` (or ``$LABELS_FONT_PATH``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # let plain `pytest` find the package too
    sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image  # noqa: E402

from labels import BatchLabel, ItemLabel, Layout, LocationLabel, fonts  # noqa: E402

URL = "HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/"

ITEM_NAMES = [
    "医用外科口罩", "折叠床", "棉帐篷", "手电筒", "矿泉水", "压缩饼干", "救生衣", "灭火毯",
    "睡袋(-5℃)", "应急逃生绳", "碘伏棉棒", "纱布绷带", "毛巾被", "雨衣", "防潮垫", "呼吸面罩",
    "应急灯", "救生哨", "方便食品", "体温计", "急救毯", "多功能组合刀具", "蚊帐", "脸盆",
]
LOCATIONS = ["海尚源深储备库 / A-01", "恒大华府储备库 / B-03", "民防应急物资仓库 / 2号架", "梅园一村居民区储备点"]


def code_for(i: int) -> str:
    """A deterministic 12-character upper-case base32 code."""
    return base64.b32encode(hashlib.sha256(f"batch-{i}".encode()).digest()).decode()[:12]


def make_batch(i: int, **overrides) -> BatchLabel:
    code = code_for(i)
    fields = dict(
        item_name=ITEM_NAMES[i % len(ITEM_NAMES)],
        spec=f"{10 + i}×{20 + i}cm 50只/盒",
        lot_number=f"L2024{i:04d}",
        quantity=f"{(i * 7) % 500 + 1}",
        unit="箱",
        produced_on=dt.date(2024, 1 + i % 12, 1 + i % 28),
        expires_on=dt.date(2027, 1 + i % 12, 1 + i % 28),
        received_on=dt.date(2024, 6, 1 + i % 28),
        location=LOCATIONS[i % len(LOCATIONS)],
        code=code,
        payload=URL + code,
    )
    fields.update(overrides)
    return BatchLabel(**fields)


@pytest.fixture(scope="session", autouse=True)
def built_font() -> Path:
    """Build (or reuse) the embedded font once per test session."""
    return fonts.ensure_font()


@pytest.fixture
def batches():
    """``batches(n, start=0)`` -> n distinct BatchLabel records."""
    return lambda n, start=0: [make_batch(i) for i in range(start, start + n)]


@pytest.fixture
def location_label() -> LocationLabel:
    return LocationLabel("LOCA01", "A-01 货架", "海尚源深储备库", "HTTPS://YJWZ.LUJIAZUI.EXAMPLE/L/LOCA01")


@pytest.fixture
def item_label() -> ItemLabel:
    return ItemLabel("ITEM0042", "睡袋(-5℃)", "成人 210×80cm", "条", "1030201 睡袋", "HTTPS://YJWZ.LUJIAZUI.EXAMPLE/I/ITEM0042")


# ----------------------------------------------------------------------------- raster


@dataclass
class Decoded:
    text: str
    x_mm: float  # centre of the symbol, from the page's top-left
    y_mm: float


def rasterise(pdf: bytes, dpi: int, thermal: bool) -> list[Image.Image]:
    """Render every page to a grayscale image.

    ``thermal=True`` simulates a 203-dpi thermal head: no anti-aliasing of text, paths
    or images, then a hard threshold to 1-bit (returned as mode "L" with 0/255 only).
    """
    doc = pdfium.PdfDocument(pdf)
    out = []
    try:
        for page in doc:
            kw = dict(no_smoothtext=True, no_smoothimage=True, no_smoothpath=True) if thermal else {}
            img = page.render(scale=dpi / 72, grayscale=True, **kw).to_pil().convert("L")
            if thermal:
                img = img.point(lambda v: 255 if v >= 128 else 0).convert("1").convert("L")
            out.append(img)
            page.close()
    finally:
        doc.close()
    return out


def decode(img: Image.Image, dpi: int) -> list[Decoded]:
    """All QR codes zxing-cpp finds in ``img``, with centres in mm."""
    found = []
    for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode):
        p = r.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
        found.append(Decoded(r.text, sum(xs) / 4 / dpi * 25.4, sum(ys) / 4 / dpi * 25.4))
    return found


def cell_of(layout: Layout, x_mm: float, y_mm: float) -> int | None:
    """Position whose label box contains the point, or None."""
    for pos in range(layout.per_page):
        x, y, w, h = layout.cell(pos)
        if x <= x_mm <= x + w and y <= y_mm <= y + h:
            return pos
    return None


def decoded_by_cell(pdf: bytes, layout: Layout, dpi: int, thermal: bool) -> list[dict[int, list[str]]]:
    """Per page: {position: [decoded payloads]} for every QR found.

    Only texts starting with the app's URL scheme count: zxing-cpp 3.x can report a
    bogus extra code read from inside a finder pattern (zxing-cpp issue
    #1162; docs/sources.md §9.4), which never looks like one of our URLs.
    """
    pages = []
    for img in rasterise(pdf, dpi, thermal):
        cells: dict[int, list[str]] = {}
        for d in decode(img, dpi):
            if not d.text.upper().startswith("HTTPS://"):
                continue
            pos = cell_of(layout, d.x_mm, d.y_mm)
            cells.setdefault(-1 if pos is None else pos, []).append(d.text)
        pages.append(cells)
    return pages


def page_text(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def char_boxes(pdf: bytes) -> list[list[tuple[str, tuple[float, float, float, float]]]]:
    """Per page: (character, (left, top, right, bottom) in mm from the top-left) for
    every non-space character pdfium extracts."""
    doc = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for page in doc:
            h_pt = page.get_height()
            tp = page.get_textpage()
            chars = []
            for i in range(tp.count_chars()):
                ch = tp.get_text_range(i, 1)
                if not ch.strip():
                    continue
                l, b, r, t = tp.get_charbox(i)
                k = 25.4 / 72
                chars.append((ch, (l * k, (h_pt - t) * k, r * k, (h_pt - b) * k)))
            pages.append(chars)
    finally:
        doc.close()
    return pages


@pytest.fixture
def pdftools():
    """The helpers above, as a namespace fixture (tests import nothing from conftest)."""

    class _T:
        rasterise = staticmethod(rasterise)
        decode = staticmethod(decode)
        decoded_by_cell = staticmethod(decoded_by_cell)
        page_text = staticmethod(page_text)
        char_boxes = staticmethod(char_boxes)
        cell_of = staticmethod(cell_of)
        make_batch = staticmethod(make_batch)
        code_for = staticmethod(code_for)

    return _T
