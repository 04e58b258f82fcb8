"""Layouts: presets, geometry, validation; label records: validation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from labels import LAYOUTS, BatchLabel, ItemLabel, Layout, LocationLabel, get_layout


def test_preset_names_are_stable():
    assert list(LAYOUTS) == ["a4-3x8", "a4-2x7", "thermal-50x30", "thermal-60x40", "thermal-100x70"]
    for name, layout in LAYOUTS.items():
        assert layout.name == name
        assert layout.title_zh and layout.title_en
        assert get_layout(name) is layout


@pytest.mark.parametrize(
    "name, per_page, page, label",
    [
        ("a4-3x8", 24, (210, 297), (70, 37)),
        ("a4-2x7", 14, (210, 297), (99.1, 38.1)),
        ("thermal-50x30", 1, (50, 30), (50, 30)),
        ("thermal-60x40", 1, (60, 40), (60, 40)),
        ("thermal-100x70", 1, (100, 70), (100, 70)),
    ],
)
def test_preset_geometry(name, per_page, page, label):
    layout = get_layout(name)
    assert layout.per_page == per_page
    assert (layout.page_width, layout.page_height) == page
    assert (layout.label_width, layout.label_height) == label
    assert layout.is_single == (per_page == 1)
    last = layout.cell(per_page - 1)
    assert last[0] + last[2] <= layout.page_width + 1e-9
    assert last[1] + last[3] <= layout.page_height + 1e-9


def test_a4_sheets_are_centred_where_the_products_are():
    a = get_layout("a4-3x8")
    assert a.cell(0) == (0.0, 0.5, 70.0, 37.0)
    assert a.cell(23)[1] + 37.0 == pytest.approx(296.5)
    b = get_layout("a4-2x7")
    assert b.cell(1)[0] == pytest.approx(4.65 + 99.1 + 2.5)
    assert b.cell(13)[0] + 99.1 == pytest.approx(210 - 4.65)
    assert b.cell(13)[1] + 38.1 == pytest.approx(297 - 15.15)


def test_cells_are_row_major_and_offset_applies():
    a = get_layout("a4-3x8")
    assert a.cell(1)[:2] == (70.0, 0.5)
    assert a.cell(3)[:2] == (0.0, 37.5)
    moved = a.with_offset(1.5, -0.5)
    assert moved.cell(4)[:2] == pytest.approx((71.5, 37.0))
    assert moved.name == a.name and a.offset_x == 0  # the preset itself is unchanged
    with pytest.raises(ValueError, match="position"):
        a.cell(24)


def test_unknown_layout():
    with pytest.raises(KeyError, match="a4-3x8"):
        get_layout("a4-4x10")


def _base(**kw):
    d = dict(name="custom", title_zh="自定义", title_en="custom", page_width=210, page_height=297,
             columns=3, rows=8, label_width=70, label_height=37)
    d.update(kw)
    return d


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(columns=3, label_width=71), "page width"),
        (dict(margin_left=1.0), "page width"),
        (dict(gap_x=2.0), "page width"),
        (dict(rows=9), "page height"),
        (dict(margin_top=2.0), "page height"),
        (dict(label_height=0), "label_height"),
        (dict(columns=0), "columns"),
        (dict(rows=2.5), "rows"),
        (dict(gap_y=-1), "gap_y"),
        (dict(qr_module=0.5), "qr_module"),
        (dict(offset_x=12), "offset_x"),
        (dict(label_width=25, label_height=20, columns=1, rows=1), "version-3 QR"),
        (dict(padding=9), "version-3 QR"),
        (dict(page_width=float("nan")), "page_width"),
    ],
)
def test_bad_layouts_raise_value_error(changes, message):
    with pytest.raises(ValueError, match=message):
        Layout(**_base(**changes))


def test_with_offset_validates():
    with pytest.raises(ValueError, match="offset_y"):
        get_layout("thermal-50x30").with_offset(0, -10.5)


def test_layout_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_layout("a4-3x8").columns = 4


# ----------------------------------------------------------------------------- records


def _batch(**kw):
    d = dict(item_name="折叠床", spec="190×70cm", lot_number="L1", quantity="20", unit="张",
             produced_on=dt.date(2024, 1, 2), expires_on=None, received_on=None,
             location="海尚源深储备库 / A-01", code="ABCDEFGH2345",
             payload="HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/ABCDEFGH2345")
    d.update(kw)
    return BatchLabel(**d)


def test_batch_label_validation():
    assert _batch().code == "ABCDEFGH2345"
    for code in ("abcdefgh2345", "ABCDEFGH234", "ABCDEFGH2340", "ABCDEFGH23451"):
        with pytest.raises(ValueError, match="base32"):
            _batch(code=code)
    with pytest.raises(ValueError, match="ASCII"):
        _batch(payload="https://例子.中国/s/ABCDEFGH2345")
    with pytest.raises(ValueError, match="ASCII"):
        _batch(payload="HTTPS://X.EXAMPLE/S/A B")
    with pytest.raises(ValueError, match="at most"):
        _batch(payload="HTTPS://X.EXAMPLE/" + "A" * 100)
    with pytest.raises(TypeError, match="produced_on"):
        _batch(produced_on="2024-01-02")
    with pytest.raises(TypeError, match="produced_on"):
        _batch(produced_on=dt.datetime(2024, 1, 2))
    with pytest.raises(TypeError, match="quantity"):
        _batch(quantity=20)
    with pytest.raises(ValueError, match="item_name"):
        _batch(item_name="  ")


def test_location_and_item_label_validation():
    LocationLabel("A01", "A-01 货架", None, "HTTPS://X.EXAMPLE/L/A01")
    ItemLabel("I1", "口罩", "", "个", "", "HTTPS://X.EXAMPLE/I/I1")
    with pytest.raises(ValueError, match="code"):
        LocationLabel("", "A-01", None, "HTTPS://X.EXAMPLE/L/A01")
    with pytest.raises(ValueError, match="code"):
        ItemLabel("货架1", "口罩", "", "个", "", "HTTPS://X.EXAMPLE/I/I1")
    with pytest.raises(TypeError, match="parent"):
        LocationLabel("A01", "A-01", 3, "HTTPS://X.EXAMPLE/L/A01")
