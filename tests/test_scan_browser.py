"""Scanning end to end in headless Chromium on a phone-sized screen.

* a keyboard-wedge scanner (characters typed fast, then Enter) → batch page → issue;
* the camera path: Chromium's fake camera plays a video of a printed label
  (docs/sources.md §9.6); BarcodeDetector is absent on desktop Linux, so the
  ZXing decoder served from node_modules reads it;
* a stocktake with one missing and one unexpected batch, confirmed through the ledger.
"""
from __future__ import annotations

import os
import re
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

import labels
from inventory.core.db import db
from inventory.scan.services import labelling
from inventory.scan.views.scan import NODE_MODULES
from inventory.stock.models import Batch, Movement, MovementKind
from inventory.stock.services import catalogue, ledger
from inventory.stocktake.models import Stocktake, StocktakeStatus
from inventory.stocktake.services import counts as stocktakes

from .conftest import CHROMIUM, CHROMIUM_ARGS, IN_CI, _unavailable

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str = "keeper1") -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse 1")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("工作台")


def wedge(page, text: str) -> None:
    """What a keyboard-wedge scanner does: the characters in quick succession, then Enter."""
    page.keyboard.type(text, delay=8)
    page.keyboard.press("Enter")


def test_wedge_scan_then_issue(live_server, phone, world):
    page = phone
    sign_in(page, live_server)
    batch, soon = world["batch"], db.session.scalar(select(Batch).where(Batch.lot_number == "W-SOON"))
    page.goto(live_server + "/scan")
    expect(page.locator("#scan-code")).to_be_focused()
    wedge(page, f"HTTP://127.0.0.1:5000/S/{batch.label_code}")  # the label's URL, as a scanner reads it
    expect(page).to_have_url(re.compile(f"/s/{batch.label_code}$", re.I))
    expect(page.locator("#scan-quantity")).to_have_text("100")
    expect(page.locator("#scan-batch")).to_contain_text("海尚源深储备库")
    issue = page.get_by_role("link", name="出库", exact=True)
    assert issue.bounding_box()["height"] >= 56  # thumb-sized
    issue.click()
    page.fill("#quantity", "12")
    page.fill("#recipient", "菊园居民区")
    page.fill("#reason", "防台演练")
    page.get_by_role("button", name="确认出库").click()
    expect(page.locator(".alert-success")).to_contain_text("已记账：CK-")

    # Back on a label page nothing has the focus: a wedge scan anywhere opens the next label.
    page.goto(live_server + f"/S/{batch.label_code}")
    expect(page.locator("#scan-quantity")).to_have_text("88")
    page.locator("h1").click()
    wedge(page, soon.label_code.lower())
    expect(page).to_have_url(re.compile(f"/s/{soon.label_code}$", re.I))
    expect(page.locator("#scan-batch")).to_have_class(re.compile("scan-card-expiring"))

    db.session.expire_all()
    assert batch.quantity == 88
    mv = db.session.scalar(select(Movement).where(Movement.batch_id == batch.id,
                                                  Movement.kind == MovementKind.ISSUE))
    assert mv.quantity == -12 and mv.fefo_override  # W-SOON expires first: the keeper's choice is recorded


def _label_video(path, pdf: bytes, frames: int = 10) -> None:
    """A Y4M video (640 × 480, 10 fps, grey) of the first page of ``pdf``, as a camera would see it."""
    doc = pdfium.PdfDocument(pdf)
    label = doc[0].render(scale=8 / 72 * 25.4, grayscale=True).to_pil().convert("L")  # 8 px per mm
    doc.close()
    frame = Image.new("L", (640, 480), 205)  # a grey desk around the white label
    frame.paste(label, ((640 - label.width) // 2, (480 - label.height) // 2))
    y = frame.tobytes()
    chroma = bytes([128]) * (320 * 240)
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            fh.write(b"FRAME\n" + y + chroma + chroma)


def test_camera_scan_opens_the_batch(live_server, world, tmp_path, app):
    if not os.path.exists(CHROMIUM):
        _unavailable(f"Chromium not found at {CHROMIUM}")
    if not (NODE_MODULES / "@zxing/browser/umd/zxing-browser.min.js").is_file():
        message = "node_modules/@zxing/browser missing: run `npm ci`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    batch = labelling.batches_by_id([world["batch"].id])[0]
    pdf = labels.render([labelling.batch_record(batch, "https://yjwz.lujiazui.example")],
                        labels.get_layout("thermal-50x30"))
    video = tmp_path / "label.y4m"
    _label_video(video, pdf)

    from playwright.sync_api import sync_playwright

    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-video-capture={video}"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                          locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(20000)
            sign_in(page, live_server)
            page.goto(live_server + "/scan")
            assert page.evaluate("'BarcodeDetector' in window") is False  # so the ZXing path is taken
            page.get_by_role("button", name="用摄像头扫码").click()
            expect(page).to_have_url(re.compile(f"/s/{batch.label_code}$", re.I))
            expect(page.locator("#scan-quantity")).to_have_text("100")
            expect(page.locator("#scan-actions")).to_contain_text("出库")
            expect(page.locator("#scan-actions")).to_contain_text("盘点")

            # During a count the camera fills the scan field; after each saved quantity it comes back on.
            count = stocktakes.start(location_id=world["dep"].id, user=world["users"]["keeper"])
            db.session.commit()
            page.goto(live_server + f"/stocktakes/{count.id}")
            page.get_by_role("button", name="用摄像头扫码").click()
            expect(page.locator("#count-entry")).to_contain_text("W-2026")
            page.fill("#counted", "99")
            page.keyboard.press("Enter")
            expect(page.locator("#entry-counted")).to_contain_text("99")  # decoded again, unprompted
        finally:
            browser.close()


def test_stocktake_with_a_missing_and_an_unexpected_batch(live_server, phone, world):
    page = phone
    shelf = catalogue.ensure_sub_location(world["dep"], "A-01", name="货架 A-01")
    db.session.commit()
    batch, old, fuel, stray = world["batch"], world["old"], world["fuel"], world["res_batch"]
    soon = db.session.scalar(select(Batch).where(Batch.lot_number == "W-SOON"))
    sign_in(page, live_server)
    page.goto(live_server + "/locations/DEP")
    page.get_by_role("link", name="盘点", exact=True).click()
    page.get_by_role("button", name="开始盘点").click()
    expect(page.locator(".alert-success")).to_contain_text("PD-")

    expect(page.locator("#scan-code")).to_be_focused()
    wedge(page, shelf.label_code)
    expect(page.locator("label[for='scan-code']")).to_contain_text("A-01")
    for scanned, counted in ((batch, "98"), (soon, "20"), (fuel, "50.5"), (stray, "6")):
        expect(page.locator("#scan-code")).to_be_focused()  # the page is ready for the next scan
        wedge(page, scanned.label_code)
        if scanned is stray:  # another location's batch: only its code, nothing of its contents
            expect(page.locator("#count-entry")).to_contain_text(scanned.label_code)
            expect(page.locator("#count-entry")).not_to_contain_text(scanned.lot_number)
        else:
            expect(page.locator("#count-entry")).to_contain_text(scanned.lot_number)
        expect(page.locator("#counted")).to_be_focused()
        wedge(page, counted)
        expect(page.locator(".alert-success")).to_contain_text(scanned.lot_number)
    expect(page.locator("#count-missing")).to_contain_text("W-OLD")
    expect(page.locator("#count-missing li")).to_have_count(1)
    expect(page.locator("#count-unexpected")).to_contain_text("R-1")
    expect(page.locator("#count-unexpected")).not_to_contain_text("菊园居民区储备点")  # not the keeper's

    page.get_by_role("link", name="核对并确认").click()
    expect(page.locator("#n-missing")).to_have_text("1")
    expect(page.locator("#n-unexpected")).to_have_text("1")
    expect(page.locator("#n-shortage")).to_have_text("1")
    expect(page.locator("#confirm-differences")).to_contain_text("-2")
    page.get_by_role("button", name="确认并记账差异").click()
    expect(page.locator(".alert-success")).to_contain_text("记账盘点调整 1 笔")
    expect(page.locator("#count-lines")).to_contain_text("TZ-")

    db.session.expire_all()
    st = db.session.scalar(select(Stocktake))
    assert st.status == StocktakeStatus.CONFIRMED
    assert (batch.quantity, soon.quantity, fuel.quantity, old.quantity) == (98, 20, Decimal("50.5"), 5)
    assert (stray.quantity, stray.location_id) == (6, world["res"].id)  # nothing moved silently
    assert ledger.check_ledger() == []


def test_scan_rules_in_the_browser_are_the_servers(live_server, phone, world):
    """static/js/scan.js codeFrom gives what code_from_text gives (a label in a quantity box is
    recognised by the server alone: label_in_quantity)."""
    from inventory.core.codes import code_from_text

    from .test_scan_codes import IN_QUANTITY, NOT_CODES, TYPED, URLS

    page = phone
    sign_in(page, live_server)
    page.goto(live_server + "/scan")
    texts = TYPED + URLS + NOT_CODES + [text for text, _expected in IN_QUANTITY]
    in_browser = page.evaluate("texts => texts.map(t => window.inventoryScan.codeFrom(t))", texts)
    assert in_browser == [code_from_text(t) for t in texts]


def test_full_width_url_scans_and_a_label_in_the_count_quantity(live_server, phone, world):
    from .test_scan_codes import full_width

    page = phone
    batch, fuel = world["batch"], world["fuel"]
    sign_in(page, live_server)
    # A scanner behind a Chinese input method in full-width mode, reading a label printed elsewhere.
    page.goto(live_server + "/scan")
    expect(page.locator("#scan-code")).to_be_focused()
    wedge(page, full_width(f"HTTPS://OLD.HOST.EXAMPLE/S/{batch.label_code}?FROM=1#TOP"))
    expect(page).to_have_url(re.compile(f"/s/{batch.label_code}$", re.I))

    page.goto(live_server + "/locations/DEP/stocktake")
    page.get_by_role("button", name="开始盘点").click()
    expect(page.locator("#scan-code")).to_be_focused()
    wedge(page, batch.label_code)
    expect(page.locator("#counted")).to_be_focused()
    # The cursor is in the quantity box when the next label is scanned: that label's entry opens.
    wedge(page, f"https://yjwz.example.gov.cn/S/{fuel.label_code}?from=scanner")
    expect(page.locator("#count-entry")).to_contain_text("D-1")
    # … and the keeper is told that the first batch was not counted.
    expect(page.locator(".alert-warning")).to_contain_text(f"不是数量：批号 {batch.lot_number} 未记录盘点数量")
    expect(page.locator("#counted")).to_be_focused()
    wedge(page, "50.5")
    expect(page.locator(".alert-success")).to_contain_text("D-1")
    db.session.expire_all()
    st = db.session.scalar(select(Stocktake))
    assert [(line.batch_id, line.counted) for line in st.lines] == [(fuel.id, Decimal("50.5"))]
