"""Label records + a layout -> PDF bytes.

:func:`render` prints :mod:`labels.model` records on a :class:`labels.layouts.Layout`;
the alignment sheet is :func:`labels.calibration.calibration_page`.

Each label has the QR code on the left (top-aligned, with the code text under it when
there is room) and the text on the right: the title (item or location name) then one
line per field with a caption column. Text is checked against the font first
(:func:`labels.fonts.check_text`), then set at the layout's preferred size and shrunk in
0.25 pt steps until it fits (full captions such as 有效期至 give way to short ones such
as 效期 before the size drops); only at 5 pt are over-long fields cut with "…". Nothing
is drawn outside the label's padded box.

The QR code (``qrcode`` package, error correction level Q, 2-module quiet zone) is drawn
as ONE filled path of merged horizontal runs, in a coordinate system where one module is
one unit (translate + scale), so the path has integer coordinates: the smallest and
fastest form, and the one pdfium and poppler both rasterise accurately (measured:
docs/sources.md §9.4). The module is a whole number of 203-dpi dots (0.125 mm): the layout's
preferred size, or fewer dots if the symbol would not fit, never below 5 dots (0.625 mm).
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from dataclasses import dataclass, field
from typing import Sequence

import qrcode
import qrcode.constants
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas

from .layouts import DOT_MM, MIN_MODULE_MM, Layout
from .model import BatchLabel, ItemLabel, Label, LocationLabel, validate_payload

__all__ = ["qr_matrix", "render"]

MM = 72.0 / 25.4  # points per millimetre

#: Smallest text size used before fields are cut with an ellipsis, pt.
MIN_TEXT_PT = 5.0
#: Item names stay at >= 8 pt while body text can stay >= 6 pt (docs/sources.md §9.4: 7 pt is
#: legible but tight at 203 dpi; 8 pt is the floor for item names on 50x30 mm).
TITLE_FLOOR_PT = 8.0
BODY_FLOOR_FOR_TITLE_PT = 6.0
#: Smallest code text under the QR before the code moves into the text column, pt.
MIN_CODE_PT = 6.0
SIZE_STEP_PT = 0.25
QUIET_MODULES = 2
#: Gap between the QR's quiet zone and the text column, mm (docs/sources.md §9.4: text
#: 0.5 mm beyond a 2-module quiet zone did not disturb decoding).
QR_TEXT_GAP_MM = 0.5
#: The QR may take at most this share of the padded label width.
QR_MAX_WIDTH_SHARE = 0.62

# Typographic metrics of Noto Sans SC (OS/2 typo ascender/descender, em units).
ASCENT = 0.88
DESCENT = 0.12
BODY_LEADING = 1.18
TITLE_LEADING = 1.15

ELLIPSIS = "…"
NONE_MARK = "—"
# Kinsoku: never start a line with CLOSING, never end one with OPENING.
CLOSING = set("，。、；：！？）》」』】〕〉’”…·%‰℃,.;:!?)]}°")
OPENING = set("（《「『【〔〈‘“([{")
BREAK_AFTER = set("-/_")


def _fonts():
    """labels.fonts, imported on first use rather than with this module, so that
    ``python -m labels.fonts`` can run it as ``__main__`` without the package having
    imported it already (runpy warns about that)."""
    from . import fonts

    return fonts


# =========================================================================== QR


@dataclass(frozen=True)
class _QR:
    version: int
    size: int  # modules per side, without quiet zone
    runs: tuple[tuple[int, int, int], ...]  # (row, first column, length) of dark modules
    ops: str  # the runs as PDF path operators in module units, filled: "c r n 1 re ... f"


@functools.lru_cache(maxsize=4096)
def _qr(payload: str) -> _QR:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=1, border=0)
    qr.add_data(payload)
    qr.make(fit=True)
    modules = qr.modules
    runs = []
    for r, row in enumerate(modules):
        c, n = 0, len(row)
        while c < n:
            if row[c]:
                c0 = c
                while c < n and row[c]:
                    c += 1
                runs.append((r, c0, c - c0))
            else:
                c += 1
    # Integers only, so the operators are written directly: going through reportlab's
    # path object formats every number as a float, ~40 % of the drawing time.
    ops = "\n".join(f"{c0} {r} {n} 1 re" for r, c0, n in runs) + "\nf"
    return _QR(qr.version, len(modules), tuple(runs), ops)


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR symbol this package prints for ``payload``, without quiet zone.

    Level Q, smallest version that fits, encoded with the ``qrcode`` package.

    Returns:
        ``size`` rows of ``size`` booleans (True = dark), size = 17 + 4 x version.

    Raises:
        ValueError: invalid payload (see :func:`labels.model.validate_payload`).
    """
    q = _qr(validate_payload(payload))
    m = [[False] * q.size for _ in range(q.size)]
    for r, c0, n in q.runs:
        for c in range(c0, c0 + n):
            m[r][c] = True
    return m


def _module_mm(q: _QR, layout: Layout, max_side: float) -> float:
    """Largest whole-dot module <= layout.qr_module whose symbol fits ``max_side`` mm."""
    total = q.size + 2 * QUIET_MODULES
    dots = int(layout.qr_module / DOT_MM + 1e-9)
    while dots * DOT_MM >= MIN_MODULE_MM - 1e-9:
        if total * dots * DOT_MM <= max_side + 1e-9:
            return dots * DOT_MM
        dots -= 1
    raise ValueError(
        f"layout {layout.name!r}: the QR for this payload is version {q.version} "
        f"({q.size} modules + quiet zone = {total}); even at {MIN_MODULE_MM} mm/module it "
        f"needs {total * MIN_MODULE_MM:g} mm but the label has {max_side:.2f} mm. "
        "Shorten the payload (an all-upper-case URL encodes one version smaller) "
        "or use a larger layout."
    )


def _draw_qr(c: rl_canvas.Canvas, q: _QR, x_pt: float, y_top_pt: float, module_pt: float) -> None:
    """Draw the symbol's dark modules as one filled path, its top-left module corner at
    (x, y_top), in a coordinate system where 1 unit = 1 module (rows grow downwards)."""
    c.saveState()
    c.translate(x_pt, y_top_pt)
    c.scale(module_pt, -module_pt)
    c.addLiteral(q.ops)
    c.restoreState()


# =========================================================================== text


@functools.lru_cache(maxsize=None)
def _char_w(face: str, ch: str) -> float:
    return pdfmetrics.stringWidth(ch, face, 1000.0) / 1000.0


def _width(face: str, text: str, size: float) -> float:
    return sum(_char_w(face, ch) for ch in text) * size


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x3000 <= o <= 0x303F
    )


def _tokens(text: str) -> list[str]:
    """Split into unbreakable pieces: CJK characters, Latin words, single spaces.

    Latin words are also split after "-", "/" and "_".

    Closing punctuation is glued to the piece before it and opening punctuation to the
    piece after it, so no line starts with ）or ，and none ends with （.
    """
    toks: list[str] = []
    word = ""
    for ch in text:
        if ch == " ":
            if word:
                toks.append(word)
                word = ""
            toks.append(" ")
        elif _is_cjk(ch) or ch in CLOSING or ch in OPENING:
            if word:
                toks.append(word)
                word = ""
            toks.append(ch)
        else:
            word += ch
            if ch in BREAK_AFTER:  # "L2023-11-05" may break after a hyphen or slash
                toks.append(word)
                word = ""
    if word:
        toks.append(word)
    merged: list[str] = []
    glue_next = False
    for t in toks:
        if merged and (glue_next or (t[0] in CLOSING and merged[-1] != " ")):
            merged[-1] += t
        else:
            merged.append(t)
        glue_next = len(t) == 1 and t in OPENING
    return merged


def _wrap(face: str, text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking of ``text`` into lines no wider than ``width`` (pt)."""
    lines: list[str] = []
    cur = ""
    for tok in _tokens(text):
        if tok == " ":
            if cur:
                cur += " "
            continue
        trial = cur + tok
        if _width(face, trial.rstrip(), size) <= width:
            cur = trial
            continue
        if cur.strip():
            lines.append(cur.rstrip())
            cur = ""
        if _width(face, tok, size) <= width:
            cur = tok
            continue
        for ch in tok:  # a piece longer than the line: break it anywhere
            if cur and _width(face, cur + ch, size) > width:
                lines.append(cur)
                cur = ""
            cur += ch
    if cur.strip():
        lines.append(cur.rstrip())
    return lines or [""]


def _ellipsize(face: str, line: str, size: float, width: float) -> str:
    while line and _width(face, line + ELLIPSIS, size) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


@dataclass
class _Field:
    caption: str  # full caption, e.g. 有效期至
    short: str  # short caption for narrow labels, e.g. 效期
    value: str
    grouped: bool = False  # the code: drawn in groups of four


@dataclass
class _Content:
    title: str
    fields: list[_Field]
    code: str
    title_ratio: float  # title size / body size


@dataclass
class _Line:
    kind: str  # "title", "caption", "value", "code"
    text: str
    x: float  # mm from the text box's left
    baseline: float  # mm from the text box's top
    size: float  # pt
    width: float  # mm


@dataclass
class _TextPlan:
    lines: list[_Line] = field(default_factory=list)
    height: float = 0.0  # mm
    body_pt: float = 0.0
    title_pt: float = 0.0
    short_captions: bool = False
    truncated: bool = False


def _clean(text: str) -> str:
    """Collapse whitespace (newlines, tabs) into single spaces and check the glyphs."""
    return _fonts().check_text(" ".join(text.split()))


def _fmt_date(d) -> str:
    return d.isoformat() if d is not None else NONE_MARK


def _content(label: Label) -> _Content:
    if isinstance(label, BatchLabel):
        f = [
            _Field("规格", "规格", label.spec or NONE_MARK),
            _Field("批号", "批号", label.lot_number or NONE_MARK),
            _Field("数量", "数量", f"{label.quantity} {label.unit}".strip() or NONE_MARK),
            _Field("生产日期", "生产", _fmt_date(label.produced_on)),
            _Field("有效期至", "效期", _fmt_date(label.expires_on)),
            _Field("入库日期", "入库", _fmt_date(label.received_on)),
        ]
        if label.origin is not None:
            f.append(_Field("产地", "产地", label.origin or NONE_MARK))
        if label.quality is not None:
            f.append(_Field("质量", "质量", label.quality or NONE_MARK))
        f.append(_Field("存放地点", "存放", label.location or NONE_MARK))
        return _Content(label.item_name, f, label.code, 1.3)
    if isinstance(label, LocationLabel):
        f = []
        if label.parent:
            f.append(_Field("所属", "所属", label.parent))
        return _Content(label.name, f, label.code, 2.0)
    if isinstance(label, ItemLabel):
        f = [
            _Field("规格", "规格", label.spec or NONE_MARK),
            _Field("单位", "单位", label.unit or NONE_MARK),
        ]
        if label.category:
            f.append(_Field("分类", "分类", label.category))
        return _Content(label.item_name, f, label.code, 1.5)
    raise TypeError(f"expected BatchLabel, LocationLabel or ItemLabel, got {type(label).__name__}")


def _code_groups(code: str) -> list[str]:
    """A 12-character batch code reads as three groups of four; other codes as one."""
    if len(code) != 12:
        return [code]
    return [code[i : i + 4] for i in range(0, len(code), 4)]


def _code_width(face: str, code: str, size: float) -> float:
    """Width in pt of the code drawn in groups of four with 0.4 em between groups."""
    groups = _code_groups(code)
    return sum(_width(face, g, size) for g in groups) + 0.4 * size * (len(groups) - 1)


def _layout_text(face: str, content: _Content, code_in_column: bool, w_mm: float, h_mm: float,
                 body: float, title: float, short: bool, truncate: bool) -> _TextPlan | None:
    """Place the text at the given sizes; None if it does not fit (unless truncating)."""
    w = w_mm * MM
    fields = list(content.fields)
    if code_in_column:
        fields.append(_Field("编码", "编码", content.code, grouped=True))

    @dataclass
    class Block:
        field: _Field | None  # None for the title
        lines: list[str]
        size: float
        lead: float

    blocks = [Block(None, _wrap(face, content.title, title, w), title, title * TITLE_LEADING)]
    cap_w = max((_width(face, f.short if short else f.caption, body) for f in fields), default=0.0)
    gap = 0.5 * body
    val_w = w - cap_w - gap
    if fields and val_w < 3 * body:
        return None
    for f in fields:
        if f.grouped:
            if _code_width(face, f.value, body) > val_w:
                return None
            lines = [f.value]
        else:
            lines = _wrap(face, f.value, body, val_w)
        blocks.append(Block(f, lines, body, body * BODY_LEADING))

    def total() -> float:
        return sum(len(b.lines) * b.lead for b in blocks)

    limit = h_mm * MM + 1e-6
    truncated = False
    if total() > limit:
        if not truncate:
            return None
        # Cut the block with the most lines by one line (ellipsis on its new last line)
        # until the text fits; no field is ever dropped entirely.
        while total() > limit:
            b = max(reversed(blocks), key=lambda blk: len(blk.lines))
            if len(b.lines) <= 1:
                return None
            b.lines = b.lines[:-1]
            b.lines[-1] = _ellipsize(face, b.lines[-1], b.size, w if b.field is None else val_w)
            truncated = True

    plan = _TextPlan(body_pt=body, title_pt=title, short_captions=short, truncated=truncated)
    y = 0.0
    for b in blocks:
        for li, text in enumerate(b.lines):
            baseline = (y + (b.lead - b.size) / 2 + ASCENT * b.size) / MM
            if b.field is None:
                plan.lines.append(_Line("title", text, 0.0, baseline, b.size, _width(face, text, b.size) / MM))
            else:
                if li == 0:
                    cap = b.field.short if short else b.field.caption
                    plan.lines.append(_Line("caption", cap, 0.0, baseline, b.size, _width(face, cap, b.size) / MM))
                x = (cap_w + gap) / MM
                if b.field.grouped:
                    plan.lines.append(_Line("code", text, x, baseline, b.size, _code_width(face, text, b.size) / MM))
                else:
                    plan.lines.append(_Line("value", text, x, baseline, b.size, _width(face, text, b.size) / MM))
            y += b.lead
    plan.height = y / MM
    return plan


def _fit_text(face: str, content: _Content, code_in_column: bool, w_mm: float, h_mm: float,
              pref_pt: float) -> _TextPlan:
    """Largest text that fits the box: shrink, prefer full captions, ellipsise last.

    Raises:
        ValueError: the box cannot hold even one line per field at 5 pt.
    """
    title_pref = pref_pt * content.title_ratio
    body = pref_pt
    while body >= MIN_TEXT_PT - 1e-9:
        floor = TITLE_FLOOR_PT if body >= BODY_FLOOR_FOR_TITLE_PT - 1e-9 else 0.0
        title = min(title_pref, max(body * content.title_ratio, floor))
        for short in (False, True):
            plan = _layout_text(face, content, code_in_column, w_mm, h_mm, body, title, short, False)
            if plan is not None:
                return plan
        body = round(body - SIZE_STEP_PT, 4)
    body = MIN_TEXT_PT
    title = min(title_pref, body * content.title_ratio)
    plan = _layout_text(face, content, code_in_column, w_mm, h_mm, body, title, True, True)
    if plan is None:
        raise ValueError(
            f"the text of label {content.code!r} does not fit a {w_mm:.1f} x {h_mm:.1f} mm "
            f"text area even at {MIN_TEXT_PT:g} pt"
        )
    return plan


# =========================================================================== plans


@dataclass
class _Plan:
    """Everything needed to draw one label, in mm relative to the label's top-left."""

    qr: _QR
    module: float  # mm
    qr_x: float
    qr_y: float
    qr_side: float  # with quiet zone
    text_x: float
    text_y: float
    text: _TextPlan
    code: str
    code_pt: float  # 0 if the code is in the text column
    code_baseline: float


def _plan(label: Label, layout: Layout, face: str) -> _Plan:
    content = _content(label)
    content.title = _clean(content.title)
    for f in content.fields:
        f.value = _clean(f.value)
        _fonts().check_text(f.caption + f.short)
    _fonts().check_text(content.code)
    q = _qr(label.payload)

    pad = layout.padding
    cw, ch = layout.label_width - 2 * pad, layout.label_height - 2 * pad
    module = _module_mm(q, layout, min(ch, cw * QR_MAX_WIDTH_SHARE))
    side = (q.size + 2 * QUIET_MODULES) * module

    # Code text under the QR if a >= 6 pt line fits there, else in the text column.
    below = ch - side
    symbol = q.size * module  # keep the code within the symbol's width, off the text
    code_pt = min(layout.text_pt * 1.2, below * MM / 1.1, symbol * MM / (_code_width(face, content.code, 1.0)))
    code_pt = int(code_pt / SIZE_STEP_PT) * SIZE_STEP_PT
    in_column = code_pt < MIN_CODE_PT
    qr_y = pad if not in_column else pad + (ch - side) / 2
    # Just under the quiet zone, so the code reads as the QR's caption.
    code_baseline = pad + side + 0.05 * code_pt / MM + ASCENT * code_pt / MM if not in_column else 0.0

    text_x = pad + side + QR_TEXT_GAP_MM
    text_w = layout.label_width - pad - text_x
    plan_t = _fit_text(face, content, in_column, text_w, ch, layout.text_pt)
    return _Plan(q, module, pad, qr_y, side, text_x, pad, plan_t, content.code,
                 0.0 if in_column else code_pt, code_baseline)


def _draw_code(c: rl_canvas.Canvas, face: str, code: str, x_pt: float, y_pt: float, size: float) -> None:
    c.setFont(face, size)
    for g in _code_groups(code):
        c.drawString(x_pt, y_pt, g)
        x_pt += _width(face, g, size) + 0.4 * size


def _draw_label(c: rl_canvas.Canvas, face: str, plan: _Plan, layout: Layout, x0: float, y0: float) -> None:
    """Draw ``plan`` with the label's top-left corner at (x0, y0) mm from the page's top-left."""
    H = layout.page_height

    def px(x_mm: float) -> float:
        return (x0 + x_mm) * MM

    def py(y_mm: float) -> float:
        return (H - (y0 + y_mm)) * MM

    m = plan.module
    _draw_qr(c, plan.qr, px(plan.qr_x + QUIET_MODULES * m), py(plan.qr_y + QUIET_MODULES * m), m * MM)
    if plan.code_pt:
        w = _code_width(face, plan.code, plan.code_pt) / MM
        _draw_code(c, face, plan.code, px(plan.qr_x + (plan.qr_side - w) / 2), py(plan.code_baseline), plan.code_pt)

    for ln in plan.text.lines:
        x, y = px(plan.text_x + ln.x), py(plan.text_y + ln.baseline)
        if ln.kind == "code":
            _draw_code(c, face, ln.text, x, y, ln.size)
            continue
        # No faux bold for the title (fill + stroke): poppler at 203 dpi 1-bit widens
        # the stroke to whole dots and dense characters such as 罩 turn into blobs.
        c.setFont(face, ln.size)
        c.drawString(x, y, ln.text)


_a85_lock = threading.Lock()
_a85_users = 0
_a85_saved = None


@contextlib.contextmanager
def _binary_streams():
    """Write Flate-only (binary) streams instead of ASCII85 + Flate.

    reportlab reads the process-wide ``rl_config.useA85`` (default on) when it formats
    streams; ASCII85 makes the QR paths and the embedded font 25 % larger for no gain.
    The flag is switched off while any render runs and restored after the last one.
    A PDF written elsewhere meanwhile just gets binary streams, which is equally valid.
    """
    global _a85_users, _a85_saved
    with _a85_lock:
        if _a85_users == 0:
            _a85_saved = rl_config.useA85
            rl_config.useA85 = 0
        _a85_users += 1
    try:
        yield
    finally:
        with _a85_lock:
            _a85_users -= 1
            if _a85_users == 0:
                rl_config.useA85 = _a85_saved


def _new_canvas(buf: io.BytesIO, layout: Layout, face: str, title: str) -> rl_canvas.Canvas:
    c = rl_canvas.Canvas(
        buf, pagesize=(layout.page_width * MM, layout.page_height * MM),
        invariant=1, pageCompression=1, initialFontName=face, initialFontSize=8,
    )
    c.setTitle(title)
    c.setCreator("labels (reportlab)")
    c.setSubject(f"{layout.name} {layout.page_width:g}x{layout.page_height:g} mm")
    return c


def render(labels: Sequence[Label], layout: Layout, *, start: int = 0) -> bytes:
    """Print label records on a layout and return the PDF.

    Args:
        labels: :class:`BatchLabel`, :class:`LocationLabel` and/or :class:`ItemLabel`
            records, in print order. At least one.
        layout: a :class:`Layout` (e.g. ``get_layout("a4-3x8").with_offset(dx, dy)``).
        start: index of the first free position on a partly used sheet, 0-based,
            row-major: positions ``0 .. start-1`` of the first page stay blank. Must be
            ``0 <= start < layout.per_page``; ignored on one-label-a-page layouts.

    Returns:
        PDF bytes: pages of ``layout.page_width`` x ``layout.page_height`` mm, as many as
        needed; the Chinese font is embedded (subset). The output is deterministic.

    Each batch label carries item name, specification, lot number, quantity + unit,
    production date, expiry date, received date, storage location and the code as
    text, plus the QR code of ``payload`` (the central relief-reserve rules' label
    fields; see :class:`labels.model.BatchLabel`).

    Raises:
        ValueError: no labels; bad ``start``; a payload whose QR does not fit the
            layout; text that cannot fit even at 5 pt.
        labels.fonts.MissingGlyphError: a text has a character the font lacks
            (a ValueError; raised before anything is drawn).
        TypeError: a record of an unknown type.
    """
    if not isinstance(layout, Layout):
        raise TypeError(f"layout must be a labels.Layout, got {type(layout).__name__}")
    labels = list(labels)
    if not labels:
        raise ValueError("no labels to render")
    if layout.is_single:
        start = 0
    elif not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < layout.per_page:
        raise ValueError(
            f"start must be a position 0..{layout.per_page - 1} on a {layout.name} sheet, got {start!r}"
        )
    face = _fonts().register_fonts()
    plans = [_plan(lbl, layout, face) for lbl in labels]  # all checks before drawing

    buf = io.BytesIO()
    with _binary_streams():
        c = _new_canvas(buf, layout, face, "标签")
        page = 0
        for i, plan in enumerate(plans):
            slot = start + i
            p, pos = divmod(slot, layout.per_page)
            if p != page:
                c.showPage()
                page = p
            x, y, _, _ = layout.cell(pos)
            _draw_label(c, face, plan, layout, x, y)
        c.showPage()
        c.save()
    return buf.getvalue()
