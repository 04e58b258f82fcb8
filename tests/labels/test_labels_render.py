"""Round trips: render -> rasterise (thermal 203 dpi 1-bit, and 300 dpi) -> decode.

Every label on every page must decode to its exact payload, in the cell it belongs to.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import zlib

import pytest

from labels import (
    LAYOUTS,
    MissingGlyphError,
    calibration_page,
    fonts,
    get_layout,
    qr_matrix,
    render,
)

# The package exports the function ``render``, which shadows the submodule attribute.
render_mod = importlib.import_module("labels.render")

MODES = [(203, True), (300, False)]  # (dpi, thermal 1-bit without anti-aliasing)


def _expected(labels, layout, start=0):
    """Per page: {position: [payload]} as render() must place them."""
    pages: list[dict[int, list[str]]] = []
    for i, lbl in enumerate(labels):
        page, pos = divmod((0 if layout.is_single else start) + i, layout.per_page)
        while len(pages) <= page:
            pages.append({})
        pages[page][pos] = [lbl.payload]
    return pages


def _sample(layout, batches, location_label, item_label, pdftools):
    if layout.name == "a4-3x8":
        labels = batches(30)  # a full sheet of 24 and 6 on the next
    elif layout.name == "a4-2x7":
        labels = batches(14) + [location_label, item_label]
    else:
        labels = batches(2) + [location_label, item_label]
    # A lower-case URL encodes in byte mode: version 4 instead of 3 at level Q.
    code = pdftools.code_for(999)
    labels.append(pdftools.make_batch(999, payload=f"https://yjwz.lujiazui.example/s/{code}"))
    return labels


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_layout_decodes_to_exact_payloads_in_the_right_cells(
    name, batches, location_label, item_label, pdftools
):
    layout = get_layout(name)
    labels = _sample(layout, batches, location_label, item_label, pdftools)
    pdf = render(labels, layout)
    expected = _expected(labels, layout)
    for dpi, thermal in MODES:
        got = pdftools.decoded_by_cell(pdf, layout, dpi, thermal)
        assert got == expected, f"{name} at {dpi} dpi thermal={thermal}"


def test_full_a4_sheet_of_24(batches, pdftools):
    layout = get_layout("a4-3x8")
    labels = batches(24)
    pdf = render(labels, layout)
    for dpi, thermal in MODES:
        got = pdftools.decoded_by_cell(pdf, layout, dpi, thermal)
        assert len(got) == 1
        assert got[0] == {pos: [labels[pos].payload] for pos in range(24)}
    # Error correction level Q, as printed.
    import zxingcpp

    img = pdftools.rasterise(pdf, 203, True)[0]
    levels = {r.ec_level for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
              if r.text.startswith("HTTPS://")}
    assert levels == {"Q"}
    flat = re.sub(r"\s+", "", pdftools.page_text(pdf)[0])
    for lbl in labels:
        assert re.sub(r"\s+", "", lbl.item_name) in flat
        assert re.sub(r"\s+", "", lbl.location) in flat
        assert lbl.code in flat


def test_half_used_sheet_starts_at_position_5(batches, pdftools):
    layout = get_layout("a4-3x8")
    labels = batches(19)
    pdf = render(labels, layout, start=5)
    for dpi, thermal in MODES:
        pages = pdftools.decoded_by_cell(pdf, layout, dpi, thermal)
        assert len(pages) == 1
        assert pages[0] == {5 + i: [lbl.payload] for i, lbl in enumerate(labels)}
    # Positions 0-4 are blank paper: not one dark pixel in those cells.
    img = pdftools.rasterise(pdf, 203, True)[0]
    for pos in range(5):
        x, y, w, h = layout.cell(pos)
        box = tuple(round(v / 25.4 * 203) for v in (x, y, x + w, y + h))
        assert img.crop(box).getextrema() == (255, 255), f"position {pos} is not blank"
    x, y, w, h = layout.cell(5)
    box = tuple(round(v / 25.4 * 203) for v in (x, y, x + w, y + h))
    assert img.crop(box).getextrema()[0] == 0


def test_start_spills_onto_a_second_page(batches, pdftools):
    layout = get_layout("a4-3x8")
    labels = batches(24)
    pdf = render(labels, layout, start=20)
    pages = pdftools.decoded_by_cell(pdf, layout, 203, True)
    assert pages == _expected(labels, layout, start=20)
    assert sorted(pages[0]) == [20, 21, 22, 23]
    assert sorted(pages[1]) == list(range(20))


def test_start_is_ignored_on_single_label_layouts(batches):
    layout = get_layout("thermal-50x30")
    assert render(batches(2), layout, start=7) == render(batches(2), layout)


@pytest.mark.parametrize("start", [-1, 24, 100, 1.5, True, "3"])
def test_bad_start_raises(start, batches):
    with pytest.raises(ValueError, match="start"):
        render(batches(1), get_layout("a4-3x8"), start=start)


def test_no_labels_raises():
    with pytest.raises(ValueError, match="no labels"):
        render([], get_layout("a4-3x8"))


def test_wrong_record_type_raises():
    with pytest.raises(TypeError):
        render(["医用外科口罩"], get_layout("a4-3x8"))


def test_output_is_deterministic(batches):
    layout = get_layout("a4-2x7")
    assert render(batches(3), layout) == render(batches(3), layout)


def test_offset_moves_the_print(batches, pdftools):
    base = get_layout("thermal-60x40")
    moved = base.with_offset(2.0, -1.5)
    a = pdftools.decode(pdftools.rasterise(render(batches(1), base), 300, False)[0], 300)
    b = pdftools.decode(pdftools.rasterise(render(batches(1), moved), 300, False)[0], 300)
    assert [d.text for d in a] == [d.text for d in b]
    assert b[0].x_mm - a[0].x_mm == pytest.approx(2.0, abs=0.15)
    assert b[0].y_mm - a[0].y_mm == pytest.approx(-1.5, abs=0.15)


# ----------------------------------------------------------------------------- text


def test_batch_label_text_carries_every_required_field(pdftools):
    lbl = pdftools.make_batch(
        3, item_name="医用外科口罩", spec="17.5×9.5cm 50只/盒", lot_number="20240301A", quantity="12.5",
        unit="箱", produced_on=dt.date(2024, 3, 1), expires_on=dt.date(2027, 2, 28),
        received_on=dt.date(2024, 4, 10), location="海尚源深储备库 / A-01",
    )
    for name in LAYOUTS:
        text = pdftools.page_text(render([lbl], get_layout(name)))[0]
        flat = re.sub(r"\s+", "", text)
        for needle in ("医用外科口罩", "17.5×9.5cm50只/盒", "20240301A", "12.5箱", "2024-03-01",
                       "2027-02-28", "2024-04-10", "海尚源深储备库/A-01", lbl.code, "规格", "批号", "数量"):
            assert needle in flat, f"{needle!r} missing on {name}: {text!r}"
        # Captions: full ones where there is room, short ones otherwise.
        assert ("有效期至" in flat) or ("效期" in flat)
        assert ("存放地点" in flat) or ("存放" in flat)


def test_optional_origin_and_quality_are_printed_when_given(pdftools):
    lbl = pdftools.make_batch(1, origin="江苏南通", quality="合格")
    flat = re.sub(r"\s+", "", pdftools.page_text(render([lbl], get_layout("a4-2x7")))[0])
    assert "产地江苏南通" in flat and "质量合格" in flat
    flat = re.sub(r"\s+", "", pdftools.page_text(render([pdftools.make_batch(1)], get_layout("a4-2x7")))[0])
    assert "产地" not in flat and "质量" not in flat


def test_missing_dates_print_a_dash(pdftools):
    lbl = pdftools.make_batch(1, produced_on=None, expires_on=None, received_on=None)
    text = pdftools.page_text(render([lbl], get_layout("a4-2x7")))[0]
    assert text.count("—") >= 3


def test_location_and_item_labels_text(location_label, item_label, pdftools):
    text = pdftools.page_text(render([location_label, item_label], get_layout("thermal-60x40")))
    flat = [re.sub(r"\s+", "", t) for t in text]
    assert "A-01货架" in flat[0] and "海尚源深储备库" in flat[0] and "LOCA01" in flat[0]
    assert "睡袋(-5℃)" in flat[1] and "成人210×80cm" in flat[1] and "1030201睡袋" in flat[1]
    assert "ITEM0042" in flat[1]


def test_font_is_embedded_truetype_and_nothing_else(batches):
    pdf = render(batches(3), get_layout("a4-3x8"))
    assert b"/FontFile2" in pdf
    assert b"STSong" not in pdf
    base_fonts = set(re.findall(rb"/BaseFont\s*/([^\s/>]+)", pdf))
    assert base_fonts, "no fonts in the PDF"
    assert all(f.endswith(b"+NotoSansSCGB-Regular") for f in base_fonts), base_fonts
    # One FontFile2 (embedded TrueType) per font descriptor: every font is embedded.
    assert pdf.count(b"/FontFile2") == pdf.count(b"/Type /FontDescriptor")


def test_missing_glyph_raises_and_produces_no_pdf(pdftools):
    bad = pdftools.make_batch(1, item_name="堃牌应急灯")  # 堃 is GBK, not GB 2312
    with pytest.raises(MissingGlyphError) as exc:
        render([pdftools.make_batch(0), bad], get_layout("a4-3x8"))
    assert exc.value.chars == ["堃"]
    assert isinstance(exc.value, ValueError)
    assert "U+5803" in str(exc.value)
    with pytest.raises(MissingGlyphError):
        render([pdftools.make_batch(1, location="𠀀号库")], get_layout("thermal-50x30"))


# ----------------------------------------------------------------------------- fit


LONG = dict(
    item_name="折叠式救灾专用单帐篷（十二平方米，含地布、防雨外罩、支撑杆及地钉全套配件）特别加长名称测试",
    spec="12m² 3×4m 棉帐篷 含地布 防雨罩 钢管支架 Φ25mm×1.2mm 全套配件 " * 2,
    lot_number="LOT-2023-11-05-0032-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789",
    location="恒大华府综合应急物资储备库 / B区-03架-2层-左侧第四格 / 临时存放区（待入账）",
)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_long_text_stays_inside_its_label(name, pdftools):
    layout = get_layout(name)
    labels = [pdftools.make_batch(i, **LONG) for i in range(min(layout.per_page, 3) + 1)]
    pdf = render(labels, layout)
    pages = pdftools.char_boxes(pdf)
    slot = 0
    for chars in pages:
        assert chars
        for ch, (l, t, r, b) in chars:
            pos = pdftools.cell_of(layout, (l + r) / 2, (t + b) / 2)
            assert pos is not None, f"{ch!r} outside every label on {name}"
            x, y, w, h = layout.cell(pos)
            pad = layout.padding - 0.05  # inside the padded box (0.05 mm tolerance)
            assert x + pad <= l and r <= x + w - pad, f"{ch!r} overflows horizontally on {name}"
            assert y + pad <= t and b <= y + h - pad, f"{ch!r} overflows vertically on {name}"
        slot += 1
    # The QR still decodes next to all that text.
    got = pdftools.decoded_by_cell(pdf, layout, 203, True)
    assert got == _expected(labels, layout)


def test_text_never_overlaps_the_qr(pdftools):
    for name in LAYOUTS:
        layout = get_layout(name)
        lbl = pdftools.make_batch(5, **LONG)
        plan = render_mod._plan(lbl, layout, fonts.register_fonts())
        assert plan.text_x >= plan.qr_x + plan.qr_side
        for ln in plan.text.lines:
            assert plan.text_x + ln.x + ln.width <= layout.label_width - layout.padding + 1e-6


def test_smallest_label_keeps_item_name_at_8pt_and_qr_at_6_dots(pdftools):
    layout = get_layout("thermal-50x30")
    face = fonts.register_fonts()
    for i in range(24):
        plan = render_mod._plan(pdftools.make_batch(i), layout, face)
        assert plan.text.title_pt >= 8.0
        assert plan.text.body_pt >= 6.0
        assert not plan.text.truncated
        assert plan.module == 0.75  # 6 dots at 203 dpi: v3 upper-case URL
        assert plan.code_pt >= 6.0  # the code fits under the QR


def test_long_text_is_ellipsised_not_dropped(pdftools):
    pdf = render([pdftools.make_batch(1, **LONG)], get_layout("thermal-50x30"))
    text = pdftools.page_text(pdf)[0]
    assert "…" in text
    flat = re.sub(r"\s+", "", text)
    for caption in ("规格", "批号", "数量", "生产", "效期", "入库", "存放"):
        assert caption in flat


def test_module_sizes_are_whole_printer_dots(pdftools):
    face = fonts.register_fonts()
    for name, layout in LAYOUTS.items():
        lower = "https://yjwz.lujiazui.example/s/" + pdftools.code_for(2).lower()  # version 4
        for lbl in (pdftools.make_batch(1), pdftools.make_batch(2, payload=lower)):
            plan = render_mod._plan(lbl, layout, face)
            dots = plan.module / 0.125
            assert dots == int(dots) and dots >= 5, (name, plan.module)


def test_payload_too_big_for_the_label_raises(pdftools):
    payload = "https://yjwz.lujiazui.example/s/" + "x" * 48  # 80 chars, byte mode: version 6
    with pytest.raises(ValueError, match="version"):
        render([pdftools.make_batch(1, payload=payload)], get_layout("thermal-50x30"))
    # ... while a larger label takes it.
    pdf = render([pdftools.make_batch(1, payload=payload)], get_layout("thermal-100x70"))
    assert pdftools.decoded_by_cell(pdf, get_layout("thermal-100x70"), 203, True) == [{0: [payload]}]


def _content_streams(pdf: bytes) -> list[bytes]:
    out = []
    for m in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m))
        except zlib.error:
            pass
    return out


def test_qr_is_one_path_in_module_units(pdftools):
    lbl = pdftools.make_batch(1)
    pdf = render([lbl], get_layout("thermal-50x30"))
    content = next(s for s in _content_streams(pdf) if b" 1 re" in s)
    # One path: "<scale> 0 0 -<scale> x y cm", then integer rects, one fill.
    m = re.search(rb"2\.125984 0 0 -2\.125984 [\d.]+ [\d.]+ cm\s+((?:\d+ \d+ \d+ 1 re\s+)+)f\b", content)
    assert m, content[:300]
    rects = re.findall(rb"(\d+) (\d+) (\d+) 1 re", m.group(1))
    assert len(re.findall(rb" re\b", content)) == len(rects)  # no other rectangles anywhere
    matrix = qr_matrix(lbl.payload)
    runs = {
        (r, c0, n)
        for r, row in enumerate(matrix)
        for c0 in range(len(row))
        if row[c0] and (c0 == 0 or not row[c0 - 1])
        for n in [next((k for k in range(c0, len(row)) if not row[k]), len(row)) - c0]
    }
    assert {(int(r), int(c), int(n)) for c, r, n in rects} == runs
    assert len(matrix) == 29  # version 3 for an upper-case URL at level Q (docs/sources.md §9.5)


# ----------------------------------------------------------------------------- calibration


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_calibration_page_renders(name, pdftools):
    layout = get_layout(name)
    pdf = calibration_page(layout)
    imgs = pdftools.rasterise(pdf, 203, True)
    assert len(imgs) == 1
    w, h = imgs[0].size  # pdfium rounds the bitmap size up
    assert abs(w - layout.page_width / 25.4 * 203) <= 1 and abs(h - layout.page_height / 25.4 * 203) <= 1
    text = pdftools.page_text(pdf)[0]
    assert layout.title_zh in text
    words = set(text.split())
    for n in range(1, layout.per_page + 1):
        assert str(n) in words
    assert b"/FontFile2" in pdf and b"STSong" not in pdf


def test_calibration_page_outlines_follow_the_offset(pdftools):
    """The label outline of a shifted layout is printed shifted: the first dark column
    of the left outline moves by the offset (ruler ticks are shifted too)."""
    base = get_layout("thermal-60x40")
    moved = base.with_offset(3.0, 0.0)
    dpi = 203

    def dark_columns(pdf):
        img = pdftools.rasterise(pdf, dpi, True)[0]
        row = round(20 / 25.4 * dpi)  # mid-height, through the outline
        return [x for x in range(img.width) if img.getpixel((x, row)) == 0]

    a, b = dark_columns(calibration_page(base)), dark_columns(calibration_page(moved))
    shift = round(3.0 / 25.4 * dpi)
    assert any(x + shift in b or x + shift + 1 in b or x + shift - 1 in b for x in a if x > 30)


def _stroke_boxes(pdf: bytes) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) in mm from the top-left of every stroked line segment on
    the page, read back from the PDF with pdfium (curves: their path's whole box)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    k = 25.4 / 72
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        h_pt = page.get_height()
        boxes = []
        x, y, w = ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
        for obj in page.get_objects():
            if obj.type != raw.FPDF_PAGEOBJ_PATH:
                continue
            a, b, c, d, e, f = obj.get_matrix().get()
            raw.FPDFPageObj_GetStrokeWidth(obj.raw, ctypes.byref(w))
            half = w.value / 2
            points, curved = [], False
            for i in range(raw.FPDFPath_CountSegments(obj.raw)):
                seg = raw.FPDFPath_GetPathSegment(obj.raw, i)
                raw.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y))
                curved |= raw.FPDFPathSegment_GetType(seg) == raw.FPDF_SEGMENT_BEZIERTO
                points.append((a * x.value + c * y.value + e, b * x.value + d * y.value + f))
            pairs = [points] if curved else list(zip(points, points[1:]))
            for pts in pairs:
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                boxes.append(((min(xs) - half) * k, (h_pt - max(ys) - half) * k,
                              (max(xs) + half) * k, (h_pt - min(ys) + half) * k))
        return boxes
    finally:
        doc.close()


def _overlap(a, b, eps=0.02) -> bool:
    return a[0] + eps < b[2] and b[0] + eps < a[2] and a[1] + eps < b[3] and b[1] + eps < a[3]


@pytest.mark.parametrize("offset", [(0.0, 0.0), (2.5, -1.5), (-3.0, 2.0)])
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_calibration_page_text_never_touches_a_line(name, offset, pdftools):
    """Geometry of the drawn page, read back from the PDF: no character box intersects a
    ruler tick, scale tick, outline or crosshair, and every character is on the page."""
    layout = get_layout(name).with_offset(*offset)
    pdf = calibration_page(layout)
    strokes = _stroke_boxes(pdf)
    chars = pdftools.char_boxes(pdf)[0]
    assert len(strokes) > 100 and len(chars) > 20
    hits = [(ch, [round(v, 2) for v in box]) for ch, box in chars if any(_overlap(box, s) for s in strokes)]
    assert hits == []
    assert all(box[0] >= 0 and box[1] >= 0 and box[2] <= layout.page_width and box[3] <= layout.page_height
               for _ch, box in chars)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_calibration_plan_keeps_texts_apart_and_reads_complete(name):
    """The plan behind the page: texts never overlap each other; every label keeps its
    position number, the first one the four lines of instructions; the rulers keep their
    numbers where there is room and give way to text only in small gaps."""
    from labels import calibration_plan

    layout = get_layout(name)
    plan = calibration_plan(layout)
    boxes = [t.box for t in plan.texts]
    assert not any(_overlap(a, b, 0) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    numbers = sorted(int(t.text) for t in plan.texts if t.kind == "number")
    assert numbers == list(range(1, layout.per_page + 1))
    assert [t.text for t in plan.texts if t.kind == "info"][0] == layout.title_zh
    assert len([t for t in plan.texts if t.kind == "info"]) == 4
    assert len({t.text for t in plan.texts if t.kind == "scale"}) == 2  # "+2" and "-2" are read somewhere
    ruler_numbers = {int(t.text) for t in plan.texts if t.kind == "ruler"}
    assert {10, 20} <= ruler_numbers
    ticks = [s for s in plan.strokes if s.kind == "ruler"]
    full = 2 * (int(layout.page_width) + 1) + 2 * (int(layout.page_height) + 1)
    assert full * 0.9 < len(ticks) <= full
