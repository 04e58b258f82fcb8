"""The calibration page: where a layout prints, for lining up a printer (a pure function).

:func:`calibration_plan` lays the page out as plain geometry (strokes, circles and text
boxes in millimetres from the page's top-left corner, calibration offset included) and
:func:`calibration_page` draws that plan as PDF bytes.  No text ever touches a line:

* label outlines, crosshairs, centre circles and the +-3 mm edge scales are fixed (they
  are what the keeper reads);
* every text is placed at the first of its candidate positions (and sizes) whose box,
  with :data:`CLEARANCE` around it, stays on the page (and in its label), clear of those
  fixed lines and of text already placed; the position numbers and the instructions
  first, then the scale numbers, then the ruler numbers.  A scale or ruler number that
  fits nowhere is left out (its ticks still read); the instructions shrink to
  :data:`MIN_INFO_PT`, then lose their last lines;
* the millimetre rulers along the page edges give way: a tick that would cross a placed
  text is not drawn (labels sitting on the page edge put their scales and numbers in
  the ruler band of sheets without margins and of rolls).

``tests/labels/test_labels_render.py`` checks the drawn PDF: no character box of the page
intersects any stroke.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.pdfbase import pdfmetrics

from .layouts import Layout

__all__ = ["CalibrationPlan", "Stroke", "TextBox", "calibration_page", "calibration_plan"]

MM = 72.0 / 25.4  # points per millimetre
PT = 1 / MM  # millimetres per point
#: Space kept free around every text, mm.
CLEARANCE = 0.3
#: Distance from a line's end to a text placed beside it (clearance, line width and a margin).
GAP = CLEARANCE + 0.15
#: Typographic metrics of Noto Sans SC (em units), as labels.render uses them.
ASCENT = 0.88
DESCENT = 0.12
RULER_PT = 4.5
SCALE_PT = 3.5
MIN_NUMBER_PT = 6.0
MIN_INFO_PT = 4.0
STEP_PT = 0.25
LINE_PT = 0.25  # outlines, crosshairs, rulers
SCALE_LINE_PT = 0.15


@dataclass(frozen=True)
class Stroke:
    """A straight line from (x1, y1) to (x2, y2), mm from the top-left, ``width`` in mm;
    ``kind`` is "ruler", "outline", "cross" or "scale"."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    kind: str

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in mm, the line width included."""
        h = self.width / 2
        return (min(self.x1, self.x2) - h, min(self.y1, self.y2) - h,
                max(self.x1, self.x2) + h, max(self.y1, self.y2) + h)


@dataclass(frozen=True)
class Circle:
    """A circle around (cx, cy) of radius ``r`` (mm), stroked ``width`` mm."""

    cx: float
    cy: float
    r: float
    width: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in mm."""
        e = self.r + self.width / 2
        return (self.cx - e, self.cy - e, self.cx + e, self.cy + e)


@dataclass(frozen=True)
class TextBox:
    """One string drawn from baseline point (x, y) (its left end), ``size`` pt; ``box`` is
    (left, top, right, bottom) in mm: advance width x ascent + descent; ``kind`` is
    "number", "info", "scale" or "ruler"."""

    x: float
    y: float
    text: str
    size: float
    kind: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class CalibrationPlan:
    """Everything a calibration page draws: ``strokes``, ``circles`` and ``texts`` (mm)."""

    page_width: float
    page_height: float
    strokes: tuple[Stroke, ...]
    circles: tuple[Circle, ...]
    texts: tuple[TextBox, ...]


def _fonts():
    from . import fonts

    return fonts


def _hit(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _grow(box, d: float):
    return (box[0] - d, box[1] - d, box[2] + d, box[3] + d)


def _inside(box, frame) -> bool:
    return box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]


class _Placer:
    """Places texts clear of fixed lines, of each other and (first try) of the ruler ticks."""

    def __init__(self, face: str, page, fixed: list, rulers: list[Stroke]):
        self.face = face
        self.page = page
        self.fixed = [o.box for o in fixed]
        self.rulers = rulers
        self.placed: list[TextBox] = []

    def box(self, text: str, size: float, x: float, y: float, anchor: str) -> TextBox:
        w = pdfmetrics.stringWidth(text, self.face, size) * PT
        left = {"left": x, "centre": x - w / 2, "right": x - w}[anchor]
        return TextBox(left, y, text, size, "", (left, y - ASCENT * size * PT, left + w, y + DESCENT * size * PT))

    def fits(self, t: TextBox, frame, *, rulers_too: bool) -> bool:
        if not _inside(t.box, frame):
            return False
        zone = _grow(t.box, CLEARANCE)
        if any(_hit(zone, b) for b in self.fixed) or any(_hit(zone, p.box) for p in self.placed):
            return False
        return not rulers_too or not any(_hit(zone, r.box) for r in self.rulers)

    def place(self, kind: str, candidates, frame, *, may_cut_rulers: bool) -> list[TextBox] | None:
        """Place the first candidate (a list of TextBox making one block) that fits; rulers are
        obstacles first, then (``may_cut_rulers``) they give way.  Returns what was placed."""
        candidates = list(candidates)
        for rulers_too in ((True, False) if may_cut_rulers else (True,)):
            for block in candidates:
                if all(self.fits(t, frame, rulers_too=rulers_too) for t in block) and not _self_overlap(block):
                    done = [TextBox(t.x, t.y, t.text, t.size, kind, t.box) for t in block]
                    self.placed.extend(done)
                    return done
        return None


def _self_overlap(block: list[TextBox]) -> bool:
    return any(_hit(a.box, b.box) for i, a in enumerate(block) for b in block[i + 1:])


def _sizes(start: float, stop: float):
    size = start
    while size >= stop - 1e-9:
        yield round(size, 2)
        size -= STEP_PT


def calibration_plan(layout: Layout) -> CalibrationPlan:
    """The geometry of :func:`calibration_page` for ``layout`` (see the module docstring).

    Returns a :class:`CalibrationPlan` in mm, offsets applied.  Raises TypeError when
    ``layout`` is not a :class:`Layout` and labels.fonts.MissingGlyphError when the font
    lacks a character of the texts.
    """
    if not isinstance(layout, Layout):
        raise TypeError(f"layout must be a labels.Layout, got {type(layout).__name__}")
    face = _fonts().register_fonts()
    W, H = layout.page_width, layout.page_height
    dx, dy = layout.offset_x, layout.offset_y
    line_w, scale_w = LINE_PT * PT, SCALE_LINE_PT * PT

    # Rulers along the page edges, in page mm + offset (what the printer really does).
    rulers: list[Stroke] = []
    top_numbers, left_numbers = [], []
    for k in range(0, int(W) + 1):
        t = 3.0 if k % 10 == 0 else (2.0 if k % 5 == 0 else 1.0)
        rulers.append(Stroke(k + dx, dy, k + dx, t + dy, line_w, "ruler"))
        rulers.append(Stroke(k + dx, H + dy, k + dx, H - t + dy, line_w, "ruler"))
        if k % 10 == 0 and 0 < k < W:
            top_numbers.append(k)
    for k in range(0, int(H) + 1):
        t = 3.0 if k % 10 == 0 else (2.0 if k % 5 == 0 else 1.0)
        rulers.append(Stroke(dx, k + dy, t + dx, k + dy, line_w, "ruler"))
        rulers.append(Stroke(W + dx, k + dy, W - t + dx, k + dy, line_w, "ruler"))
        if k % 10 == 0 and 0 < k < H:
            left_numbers.append(k)

    fixed: list = []
    seen: set = set()

    def add(stroke: Stroke) -> None:  # neighbouring labels share edges: draw each line once
        key = (stroke.kind, *(round(v, 3) for v in (stroke.x1, stroke.y1, stroke.x2, stroke.y2)))
        if key not in seen:
            seen.add(key)
            fixed.append(stroke)

    circles: list[Circle] = []
    small = min(layout.label_width, layout.label_height)
    arm = min(3.0, small / 8)
    cells = [layout.cell(pos) for pos in range(layout.per_page)]
    scales = []  # (edge, number value, tick point x, y, scale's half length)
    for x, y, w, h in cells:
        for x1, y1, x2, y2 in ((x, y, x + w, y), (x + w, y, x + w, y + h), (x, y + h, x + w, y + h),
                               (x, y, x, y + h)):
            add(Stroke(x1, y1, x2, y2, line_w, "outline"))
        for cx, cy in ((x, y), (x + w, y), (x, y + h), (x + w, y + h), (x + w / 2, y + h / 2)):
            add(Stroke(cx - arm, cy, cx + arm, cy, line_w, "cross"))
            add(Stroke(cx, cy - arm, cx, cy + arm, line_w, "cross"))
        circles.append(Circle(x + w / 2, y + h / 2, arm / 2, line_w))
        # +-3 mm scales across each edge. Tick v sits at (edge + offset + v); if the printer
        # shifts by s, the die-cut edge meets tick v = -(offset + s), and the offset that
        # cancels s is offset + v: "add the number you read".
        mx, my = x + w * 0.12, y + h / 4  # clear of the crosshairs and the centred text
        for k2 in range(-6, 7):
            v = k2 / 2
            t = 1.6 if k2 % 2 == 0 else 0.9
            add(Stroke(x + v, my - t / 2, x + v, my + t / 2, scale_w, "scale"))
            add(Stroke(x + w + v, my - t / 2, x + w + v, my + t / 2, scale_w, "scale"))
            add(Stroke(mx - t / 2, y + v, mx + t / 2, y + v, scale_w, "scale"))
            add(Stroke(mx - t / 2, y + h + v, mx + t / 2, y + h + v, scale_w, "scale"))
        for v in (-2, 2):
            for scale in (("v", v, x + v, my), ("v", v, x + w + v, my), ("h", v, mx, y + v),
                          ("h", v, mx, y + h + v)):
                key = (scale[0], scale[1], round(scale[2], 3), round(scale[3], 3))
                if key not in seen:
                    seen.add(key)
                    scales.append(scale)

    placer = _Placer(face, (0.0, 0.0, W, H), fixed + circles, rulers)
    page = (0.0, 0.0, W, H)

    def asc(size):
        return ASCENT * size * PT

    def desc(size):
        return DESCENT * size * PT

    # 1. Position numbers above the centre cross, the instructions below it (first label).
    for pos, (x, y, w, h) in enumerate(cells):
        frame = (max(x, 0.0), max(y, 0.0), min(x + w, W), min(y + h, H))
        cx, cy = x + w / 2, y + h / 2
        num = str(pos + 1)
        placer.place("number", ([placer.box(num, s, cx, cy - arm - GAP - desc(s), "centre")]
                                for s in _sizes(min(14.0, h * MM / 3), MIN_NUMBER_PT)),
                     frame, may_cut_rulers=True)
        if pos == 0 or layout.is_single:
            info = [layout.title_zh, f"偏移 dx {dx:+.1f} mm，dy {dy:+.1f} mm",
                    "裁切线所在刻度 + 当前偏移 = 新偏移", "dx 向右为正，dy 向下为正"]
            for s_ in info:
                _fonts().check_text(s_)

            def blocks(lines=info):
                for n in range(len(lines), 0, -1):
                    for s in _sizes(min(6.0, w * MM / 26), MIN_INFO_PT):
                        top = cy + arm + GAP
                        yield [placer.box(line, s, cx, top + asc(s) + i * s * PT * 1.25, "centre")
                               for i, line in enumerate(lines[:n])]

            placer.place("info", blocks(), frame, may_cut_rulers=True)

    # 2. Scale numbers beside their ticks (left out where they fit nowhere).
    for edge, v, px, py in scales:
        s = SCALE_PT
        lab = f"{v:+d}"
        if edge == "v":  # a horizontal scale across a vertical edge: number above or below it
            cands = [[placer.box(lab, s, px, py + 0.8 + GAP + asc(s), "centre")],
                     [placer.box(lab, s, px, py - 0.8 - GAP - desc(s), "centre")]]
        else:  # a vertical scale across a horizontal edge: number right or left of it
            base = py + (asc(s) - desc(s)) / 2
            cands = [[placer.box(lab, s, px + 0.8 + GAP, base, "left")],
                     [placer.box(lab, s, px - 0.8 - GAP, base, "right")]]
        placer.place("scale", cands, page, may_cut_rulers=True)

    # 3. Ruler numbers in the ruler band, where they are clear of everything.
    s = RULER_PT
    for k in top_numbers:
        base = 3.0 + GAP + asc(s) + dy
        placer.place("ruler", ([placer.box(str(k), s, k + dx, base, "centre")],
                               [placer.box(str(k), s, k + dx + GAP, base, "left")],
                               [placer.box(str(k), s, k + dx - GAP, base, "right")]), page, may_cut_rulers=False)
    for k in left_numbers:
        x0 = 3.0 + GAP + dx
        placer.place("ruler", ([placer.box(str(k), s, x0, k + dy + (asc(s) - desc(s)) / 2, "left")],
                               [placer.box(str(k), s, x0, k + dy + GAP + asc(s), "left")],
                               [placer.box(str(k), s, x0, k + dy - GAP - desc(s), "left")]), page,
                     may_cut_rulers=False)

    texts = tuple(placer.placed)
    kept = [r for r in rulers if not any(_hit(_grow(t.box, CLEARANCE), r.box) for t in texts)]
    strokes = tuple(kept) + tuple(o for o in fixed if isinstance(o, Stroke))
    return CalibrationPlan(W, H, strokes, tuple(circles), texts)


def calibration_page(layout: Layout) -> bytes:
    """One page that shows where this layout prints, for lining up a printer.

    Print it on a real label sheet (or roll) with the layout's current offset. It draws,
    all shifted by that offset:

    * every label outline, with crosshairs at its four corners and its centre, and its
      position number (1-based: the number a keeper sees; ``start`` = number - 1);
    * millimetre rulers along the four page edges (a tick per mm, numbers every 10 mm),
      which leave a gap where a text sits;
    * on each label edge, a +-3 mm scale across the edge. Where the die-cut edge of the
      real label crosses the scale, read the number and ADD it to the current offset
      (left/right edges give dx, top/bottom edges give dy; positive = move right/down).

    No text touches a line (:func:`calibration_plan`).

    Returns:
        PDF bytes, one page of the layout's page size, font embedded.

    Raises:
        TypeError: ``layout`` is not a :class:`Layout`.
    """
    from .render import _binary_streams, _new_canvas

    plan = calibration_plan(layout)
    face = _fonts().register_fonts()
    H = plan.page_height
    with _binary_streams():
        buf = io.BytesIO()
        c = _new_canvas(buf, layout, face, "标签校准页")
        c.setStrokeGray(0)
        for s in plan.strokes:
            c.setLineWidth(s.width * MM)
            c.line(s.x1 * MM, (H - s.y1) * MM, s.x2 * MM, (H - s.y2) * MM)
        for o in plan.circles:
            c.setLineWidth(o.width * MM)
            c.circle(o.cx * MM, (H - o.cy) * MM, o.r * MM, stroke=1, fill=0)
        for t in plan.texts:
            c.setFont(face, t.size)
            c.drawString(t.x * MM, (H - t.y) * MM, t.text)
        c.showPage()
        c.save()
        return buf.getvalue()
