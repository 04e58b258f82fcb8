"""Label printing through the app: payloads, PDFs read back by pdfium + zxing-cpp, settings, refusals."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from inventory.core.codes import code_from_text
from inventory.core.db import db
from inventory.scan.models import LabelSetting
from inventory.scan.services.landing import label_url
from inventory.stock.models import Document
from inventory.stock.services import catalogue, ledger
from inventory.users.models import User

from . import scan_pdf
from .conftest import TODAY

BASE = "https://yjwz.lujiazui.example"


@pytest.mark.parametrize("base, expected", [
    ("https://yjwz.lujiazui.example", "HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/ABCDEFGH2345"),
    ("https://yjwz.lujiazui.example/", "HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/ABCDEFGH2345"),
    ("http://10.0.0.5:8080", "HTTP://10.0.0.5:8080/S/ABCDEFGH2345"),
    ("https://gov.example/Inventory/", "HTTPS://GOV.EXAMPLE/Inventory/S/ABCDEFGH2345"),
])
def test_label_url_is_upper_case_except_a_path_prefix(base, expected):
    assert label_url("ABCDEFGH2345", base) == expected


@pytest.mark.parametrize("base, code", [
    ("yjwz.example", "ABCDEFGH2345"), ("ftp://x.example", "ABCDEFGH2345"),
    ("https://x.example/?a=1", "ABCDEFGH2345"), ("https://x.example", "abcdefgh2345"),
    ("https://x.example", "ABCDEFGH234"), ("https://x.example", "ABCDEFGH2340"),
])
def test_label_url_refuses_bad_input(base, code):
    with pytest.raises(ValueError):
        label_url(code, base)


@pytest.mark.parametrize("text, code", [
    ("ABCDEFGH2345", "ABCDEFGH2345"),
    ("abcd-efgh-2345", "ABCDEFGH2345"),
    (" abcd efgh 2345 ", "ABCDEFGH2345"),
    ("HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/ABCDEFGH2345", "ABCDEFGH2345"),
    ("https://other.example/prefix/s/abcdefgh2345/", "ABCDEFGH2345"),
    ("ABCDEFGH234", None), ("ABCDEFGH23450", None), ("ABCDEFGH2340", None), ("", None),
    ("https://x.example/items/ABCDEFGH2345", None), ("6901234567892", None), ("X" * 500, None),
])
def test_code_from_scanned_text(text, code):
    assert code_from_text(text) == code


@pytest.fixture
def keeper(client, world, login, app):
    app.config["EXTERNAL_URL"] = BASE
    login(world["users"]["keeper"])
    return client


def _receipt(world, f, lines):
    doc = ledger.receive(location_id=world["dep"].id, user=world["users"]["keeper"],
                         lines=[ledger.ReceiptLine(item_id=item.id, quantity=qty, lot_number=lot,
                                                   expires_on=TODAY + dt.timedelta(days=300))
                                for item, qty, lot in lines])
    f.commit()
    return doc


def test_goods_received_note_prints_labels_that_open_their_batches(keeper, world, f):
    doc = _receipt(world, f, [(world["water"], 24, "PW-1"), (world["diesel"], "12.5", "PD-1")])
    batches = [m.batch for m in doc.movements]
    page = keeper.get(f"/documents/{doc.id}").data.decode()
    assert f'href="/labels/documents/{doc.id}"' in page  # offered right after the receipt
    form = keeper.get(f"/labels/documents/{doc.id}").data.decode()
    assert form.count('name="targets"') == 2 and form.count("checked") >= 2

    response = keeper.post(f"/labels/documents/{doc.id}", data={
        "targets": [f"b{b.id}" for b in batches], "layout": "a4-3x8", "start": "1", "copies": "1",
        "offset_x": "0", "offset_y": "0"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    assert scan_pdf.pages(pdf) == 1
    payloads = scan_pdf.qr_payloads(pdf)[0]
    assert payloads == [f"HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/{b.label_code}" for b in batches]
    text = scan_pdf.text(pdf)
    assert "瓶装饮用水" in text and "柴油" in text and "海尚源深储备库" in text and "12.5" in text
    # The printed QR, read by a phone, opens the batch's page with its actions.
    landing = keeper.get(urlsplit(payloads[0]).path)
    body = landing.data.decode()
    assert landing.status_code == 200 and "瓶装饮用水" in body and "24" in body
    for url in (f"/batches/{batches[0].id}/issue", f"/batches/{batches[0].id}/transfer",
                f"/s/{batches[0].label_code}/count", f"/batches/{batches[0].id}/dispose"):
        assert f'href="{url}"' in body


def test_thermal_label_start_position_copies_and_remembered_settings(keeper, world):
    batch = world["batch"]
    response = keeper.post(f"/labels/batches/{batch.id}", data={
        "targets": [f"b{batch.id}"], "layout": "thermal-50x30", "copies": "2", "offset_x": "-1.5",
        "offset_y": "0,5", "remember": "y"})
    assert response.status_code == 200, response.data[:300]
    assert scan_pdf.pages(response.data) == 2
    want = f"HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/{batch.label_code}"
    assert scan_pdf.qr_payloads(response.data, dpi=203, thermal=True) == [[want], [want]]
    db.session.expire_all()
    user = db.session.get(User, world["users"]["keeper"].id)
    assert user.label_layout == "thermal-50x30"
    setting = db.session.scalar(select(LabelSetting).where(LabelSetting.user_id == user.id))
    assert (setting.layout, setting.offset_x_tenths, setting.offset_y_tenths) == ("thermal-50x30", -15, 5)
    # The next print form comes with the remembered layout and offset.
    form = keeper.get(f"/labels/batches/{batch.id}").data.decode()
    assert '<option selected value="thermal-50x30">' in form
    assert 'name="offset_x" type="text" value="-1.5"' in form and 'value="0.5"' in form

    # A4 sheet starting at position 5 of 24: the label sits in the second row, middle column.
    sheet = keeper.post(f"/labels/batches/{batch.id}", data={
        "targets": [f"b{batch.id}"], "layout": "a4-3x8", "start": "5", "copies": "1"})
    assert scan_pdf.qr_payloads(sheet.data) == [[want]]
    import pypdfium2 as pdfium
    import zxingcpp

    doc = pdfium.PdfDocument(sheet.data)
    img = doc[0].render(scale=200 / 72, grayscale=True).to_pil()
    hit = [r for r in zxingcpp.read_barcodes(img) if r.text == want][0]
    x_mm, y_mm = hit.position.top_left.x / 200 * 25.4, hit.position.top_left.y / 200 * 25.4
    assert 70 <= x_mm < 140 and 37.5 <= y_mm < 74.5  # cell (row 1, column 1) of 70 × 37 mm
    doc.close()


def test_location_labels_for_shelves_batches_items(keeper, world):
    dep = world["dep"]
    shelf = catalogue.ensure_sub_location(dep, "A-01", name="货架 A-01")
    db.session.commit()
    form = keeper.get("/labels/locations/DEP?select=shelves").data.decode()
    assert f'value="s{shelf.id}" id="t-s{shelf.id}" checked' in form
    assert f'value="b{world["batch"].id}"' in form and f'value="i{world["water"].id}"' in form
    response = keeper.post("/labels/locations/DEP", data={
        "targets": [f"l{dep.id}", f"s{shelf.id}", f"i{world['water'].id}"], "layout": "a4-2x7", "copies": "1"})
    assert response.status_code == 200
    assert scan_pdf.qr_payloads(response.data) == [[
        f"HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/{code}"
        for code in (dep.label_code, shelf.label_code, world["water"].label_code)]]
    assert "货架 A-01" in scan_pdf.text(response.data)
    # The shelf label leads to the shelf's batches; the location and item labels to their pages.
    assert keeper.get(f"/S/{dep.label_code}").location.endswith("/locations/DEP")
    assert keeper.get(f"/S/{world['water'].label_code}").location.endswith(f"/items/{world['water'].code}")


@pytest.mark.parametrize("data, message", [
    ({"targets": [], "layout": "a4-3x8", "copies": "1"}, "至少选择一个标签"),
    ({"layout": "a4-3x8", "copies": "1", "offset_x": "12"}, "-10 到 10 毫米"),
    ({"layout": "a4-3x8", "copies": "1", "offset_y": "abc"}, "请以毫米输入偏移"),
    ({"layout": "a4-3x8", "copies": "1", "start": "25"}, "1 到 24"),
    ({"layout": "a4-2x7", "copies": "1", "start": "100"}, "1 到 14"),  # the sheet's own bound, not a form cap
    ({"layout": "a4-2x7", "copies": "1", "start": "0"}, "不能小于 1"),
    ({"layout": "a4-3x8", "copies": "51"}, "50"),
    ({"layout": "a4-9x9", "copies": "1"}, "不是有效的选择"),
])
def test_bad_print_requests_are_refused_and_nothing_is_remembered(keeper, world, data, message):
    batch = world["batch"]
    data = {"targets": [f"b{batch.id}"], "remember": "y", **data}
    response = keeper.post(f"/labels/batches/{batch.id}", data=data)
    assert response.status_code == 422
    assert message in response.data.decode()
    assert db.session.scalar(select(LabelSetting)) is None
    db.session.expire_all()
    assert db.session.get(User, world["users"]["keeper"].id).label_layout == ""


def test_a_name_the_label_font_cannot_print_is_caught(keeper, world, f):
    odd = f.item("ODD1", name_zh="折叠床（堃）", unit="张")
    batch = f.stock(world["dep"], odd, 3, lot="ODD")
    f.commit()
    response = keeper.post(f"/labels/batches/{batch.id}", data={
        "targets": [f"b{batch.id}"], "layout": "a4-3x8", "copies": "1"})
    assert response.status_code == 422
    body = response.data.decode()
    assert "堃" in body and "折叠床（堃）" in body and "application/pdf" not in response.mimetype


def test_calibration_page_and_foreign_targets(keeper, world):
    response = keeper.post("/labels/calibration", data={"layout": "thermal-60x40", "offset_x": "1",
                                                        "offset_y": "-2"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "偏移 dx +1.0 mm，dy -2.0 mm" in scan_pdf.text(response.data)
    # A target that is not offered on this page (another location's batch) is refused, not printed.
    other = world["res_batch"]
    refused = keeper.post(f"/labels/batches/{world['batch'].id}", data={
        "targets": [f"b{other.id}"], "layout": "a4-3x8", "copies": "1"})
    assert refused.status_code == 422 and "不在本页可选范围内" in refused.data.decode()


def test_who_may_print(client, world, login, app):
    app.config["EXTERNAL_URL"] = BASE
    mf_batch = world["mf_batch"]
    login(world["users"]["civil_defence"])  # counts the civil-defence warehouse, so labels it too
    ok = client.post(f"/labels/batches/{mf_batch.id}", data={"targets": [f"b{mf_batch.id}"],
                                                              "layout": "thermal-100x70", "copies": "1"})
    assert ok.status_code == 200
    assert scan_pdf.qr_payloads(ok.data) == [[f"HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/{mf_batch.label_code}"]]
    assert client.get(f"/labels/batches/{world['batch'].id}").status_code == 404
    login(world["users"]["viewer"])
    assert client.get(f"/labels/batches/{world['batch'].id}").status_code == 403
    login(world["users"]["admin"])  # sees the civil-defence warehouse but does not handle its goods
    assert client.get(f"/labels/batches/{mf_batch.id}").status_code == 403
    receipt = db.session.scalar(select(Document).where(Document.location_id == world["mf"].id))
    assert 'id="print-labels"' not in client.get(f"/documents/{receipt.id}").data.decode()


@pytest.mark.parametrize("base, warned", [
    ("http://127.0.0.1:5000", True), ("http://localhost:8000", True), ("http://[::1]:5000", True),
    ("http://192.168.1.20:5000", False), ("https://yjwz.lujiazui.example", False)])
def test_print_page_warns_when_qr_codes_would_hold_a_loopback_address(client, world, login, app, base, warned):
    app.config["EXTERNAL_URL"] = base
    login(world["users"]["keeper"])
    body = client.get(f"/labels/batches/{world['batch'].id}").data.decode()
    assert ('id="loopback-warning"' in body) is warned
    if warned:
        assert base in body and "EXTERNAL_URL" in body
