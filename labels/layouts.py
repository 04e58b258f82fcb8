"""Label sheet and roll geometry, in millimetres.

A :class:`Layout` says where each label sits on a page: a grid of ``columns`` x
``rows`` labels of ``label_width`` x ``label_height``, starting ``margin_left`` /
``margin_top`` from the page's top-left corner, with gaps between cells. Positions
are numbered 0.. row-major (left to right, then top to bottom).

The presets in :data:`LAYOUTS` (stable names, used by the app and stored in settings):

=================  ============================  ===============================================
name               geometry                      product it matches
=================  ============================  ===============================================
a4-3x8             A4, 3 x 8 of 70 x 37 mm       the common 24-up A4 sheet (A4 24格 70×37mm;
                                                 e.g. Avery 3474): no side margins, 0.5 mm top
a4-2x7             A4, 2 x 7 of 99.1 x 38.1 mm   the common 14-up A4 sheet (e.g. Avery L7163):
                                                 4.65 mm side margins, 15.15 mm top, 2.5 mm gap
thermal-50x30      one 50 x 30 mm label a page   203-dpi thermal transfer/direct thermal rolls
thermal-60x40      one 60 x 40 mm label a page   the same, larger
thermal-100x70     one 100 x 70 mm label a page  the same, for cartons and pallets
=================  ============================  ===============================================

No separate preset for "full-bleed" 3 x 8 sheets of 70 x 37.125 mm (8 x 37.125 = 297):
a4-3x8 places every row within 0.5 mm of theirs (its rows start 0.5 mm down, 0.125 mm
shorter each), well inside the 4 mm padding; a calibration offset absorbs the rest.

Calibration: printers shift the whole image by a millimetre or two. The keeper prints
:func:`labels.calibration.calibration_page` on a real sheet, reads the shift off its scales,
and the app stores it per printer and applies it with :meth:`Layout.with_offset`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

__all__ = [
    "DOT_MM",
    "LAYOUTS",
    "Layout",
    "MIN_MODULE_MM",
    "get_layout",
]

#: One dot of a 203-dpi (8 dots/mm) thermal printer, in mm. Module sizes are whole dots.
DOT_MM = 0.125
#: Smallest QR module drawn: 5 dots at 203 dpi (docs/sources.md §9.4: 1-bit 203-dpi renders
#: decode 100 % with zxing-cpp, which fails only below ~1.3 px/module).
MIN_MODULE_MM = 5 * DOT_MM
#: A version-3 QR (29 modules) plus a 2-module quiet zone on each side: the size an
#: upper-case URL with a 12-character code needs at error-correction level Q.
MIN_QR_MODULES = 29 + 4
#: Largest printer calibration shift accepted, mm. Bigger values are typing mistakes.
MAX_OFFSET_MM = 10.0

_EPS = 1e-6


@dataclass(frozen=True)
class Layout:
    """Geometry of a label sheet or roll, all lengths in millimetres.

    Fields:
        name: stable identifier, e.g. ``"a4-3x8"``.
        title_zh / title_en: display names for the UI.
        page_width / page_height: the PDF page size, mm.
        columns / rows: label grid (both 1 for a roll printing one label a page).
        label_width / label_height: one label, mm.
        margin_left / margin_top: page edge to the first label, mm.
        gap_x / gap_y: space between neighbouring labels, mm.
        offset_x / offset_y: printer calibration, mm; positive moves the print right /
            down. Applied to everything drawn. At most +-10 mm.
        qr_module: preferred QR module size, mm. The renderer uses the largest whole
            number of 203-dpi dots (0.125 mm) not above this that fits the label, never
            below 5 dots (0.625 mm).
        padding: blank border kept inside each label, mm. On sheets without page
            margins it also keeps print away from the ~4 mm that office printers cannot
            reach.
        text_pt: preferred body text size, pt; titles are ~1.3x. The renderer shrinks
            text to fit (down to 5 pt) and only then wraps or ellipsises.

    Raises:
        ValueError: on a non-positive size, a grid that does not fit the page, a QR
            module below 0.625 mm, an offset beyond 10 mm, or a label too small to hold
            a version-3 QR (33 modules with quiet zone) at 0.625 mm beside its padding.
    """

    name: str
    title_zh: str
    title_en: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_left: float = 0.0
    margin_top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    qr_module: float = 0.75
    padding: float = 1.5
    text_pt: float = 7.0

    def __post_init__(self) -> None:
        n = self.name or "layout"
        for f in ("page_width", "page_height", "label_width", "label_height", "qr_module", "text_pt"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{n}: {f} must be a positive number of mm, got {v!r}")
        for f in ("margin_left", "margin_top", "gap_x", "gap_y", "padding"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{n}: {f} must be >= 0 mm, got {v!r}")
        for f in ("offset_x", "offset_y"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or abs(v) > MAX_OFFSET_MM:
                raise ValueError(f"{n}: {f} must be within +-{MAX_OFFSET_MM:g} mm, got {v!r}")
        for f in ("columns", "rows"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{n}: {f} must be an integer >= 1, got {v!r}")

        need_w = self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.gap_x
        if need_w > self.page_width + _EPS:
            raise ValueError(
                f"{n}: the grid does not fit the page width: left margin {self.margin_left:g} + "
                f"{self.columns} x {self.label_width:g} mm labels + {self.columns - 1} x "
                f"{self.gap_x:g} mm gaps = {need_w:g} mm > page width {self.page_width:g} mm"
            )
        need_h = self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.gap_y
        if need_h > self.page_height + _EPS:
            raise ValueError(
                f"{n}: the grid does not fit the page height: top margin {self.margin_top:g} + "
                f"{self.rows} x {self.label_height:g} mm labels + {self.rows - 1} x "
                f"{self.gap_y:g} mm gaps = {need_h:g} mm > page height {self.page_height:g} mm"
            )
        if self.qr_module < MIN_MODULE_MM - _EPS:
            raise ValueError(
                f"{n}: qr_module {self.qr_module:g} mm is below {MIN_MODULE_MM} mm "
                "(5 dots at 203 dpi), the smallest that decodes reliably"
            )
        inner = min(self.label_width, self.label_height) - 2 * self.padding
        min_qr = MIN_QR_MODULES * MIN_MODULE_MM
        if inner < min_qr - _EPS:
            raise ValueError(
                f"{n}: a {self.label_width:g} x {self.label_height:g} mm label with "
                f"{self.padding:g} mm padding leaves {inner:g} mm, less than the {min_qr:g} mm "
                "that a version-3 QR needs at 0.625 mm/module"
            )

    # ----------------------------------------------------------------- geometry

    @property
    def per_page(self) -> int:
        """Number of label positions on one page (columns x rows)."""
        return self.columns * self.rows

    @property
    def is_single(self) -> bool:
        """True for layouts printing one label a page (rolls); ``start`` is ignored then."""
        return self.per_page == 1

    def cell(self, position: int) -> tuple[float, float, float, float]:
        """Box of the label at ``position`` on the page, calibration offset included.

        Args:
            position: 0 .. per_page - 1, row-major.

        Returns:
            ``(x, y, width, height)`` in mm, measured from the page's TOP-LEFT corner,
            y growing downwards (the way a ruler on the sheet reads).

        Raises:
            ValueError: position out of range.
        """
        if not isinstance(position, int) or not 0 <= position < self.per_page:
            raise ValueError(f"{self.name}: position must be 0..{self.per_page - 1}, got {position!r}")
        row, col = divmod(position, self.columns)
        x = self.margin_left + col * (self.label_width + self.gap_x) + self.offset_x
        y = self.margin_top + row * (self.label_height + self.gap_y) + self.offset_y
        return (x, y, self.label_width, self.label_height)

    def with_offset(self, dx: float, dy: float) -> "Layout":
        """A copy with the printer calibration offset set to ``(dx, dy)`` mm.

        Positive ``dx`` moves the print right, positive ``dy`` down.

        Raises:
            ValueError: an offset beyond +-10 mm.
        """
        return dataclasses.replace(self, offset_x=float(dx), offset_y=float(dy))


def _a4(**kw) -> Layout:
    return Layout(page_width=210.0, page_height=297.0, **kw)


def _roll(name: str, w: float, h: float, **kw) -> Layout:
    return Layout(
        name=name,
        title_zh=f"热敏标签 {w:g}×{h:g} mm（单张）",
        title_en=f"Thermal label {w:g} x {h:g} mm (one per page)",
        page_width=w, page_height=h, columns=1, rows=1, label_width=w, label_height=h,
        **kw,
    )


#: The preset layouts by stable name. Do not rename: names are stored in settings.
LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        # 3 x 70 = 210 (no side margin), 8 x 37 = 296 (0.5 mm top and bottom).
        # 4 mm padding keeps print inside what office printers reach at the sheet edge.
        _a4(
            name="a4-3x8", title_zh="A4 不干胶 3×8（24 格，70×37 mm）",
            title_en="A4 sheet 3 x 8 (24 labels, 70 x 37 mm)",
            columns=3, rows=8, label_width=70.0, label_height=37.0, margin_left=0.0, margin_top=0.5,
            qr_module=0.75, padding=4.0, text_pt=7.0,
        ),
        # 2 x 99.1 + 2.5 = 200.7, centred: 4.65 mm sides; 7 x 38.1 = 266.7, centred: 15.15 mm.
        _a4(
            name="a4-2x7", title_zh="A4 不干胶 2×7（14 格，99.1×38.1 mm）",
            title_en="A4 sheet 2 x 7 (14 labels, 99.1 x 38.1 mm)",
            columns=2, rows=7, label_width=99.1, label_height=38.1, margin_left=4.65, margin_top=15.15,
            gap_x=2.5, qr_module=0.875, padding=2.5, text_pt=8.0,
        ),
        _roll("thermal-50x30", 50.0, 30.0, qr_module=0.75, padding=1.0, text_pt=6.5),
        _roll("thermal-60x40", 60.0, 40.0, qr_module=0.875, padding=1.5, text_pt=7.5),
        _roll("thermal-100x70", 100.0, 70.0, qr_module=1.0, padding=2.5, text_pt=12.0),
    )
}


def get_layout(name: str) -> Layout:
    """Return the preset layout called ``name`` (see :data:`LAYOUTS`).

    Raises:
        KeyError: unknown name; the message lists the known names.
    """
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown label layout {name!r}; known: {', '.join(LAYOUTS)}") from None
