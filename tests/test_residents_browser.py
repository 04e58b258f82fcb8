"""A resident on a phone-sized screen personalises the checklist and downloads a one-page PDF."""
from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.core.db import db
from inventory.residents.models import KitCounter
from inventory.residents.services import checklist_file

pytestmark = pytest.mark.browser


def test_resident_personalises_and_downloads_a_one_page_pdf(live_server, phone, world):
    checklist_file.ensure_default_checklist()
    db.session.commit()
    page = phone
    page.goto(live_server + "/kit?ref=RES")
    expect(page.locator("h1")).to_have_text("家庭应急物资储备清单")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone

    page.fill("#people", "5")
    page.fill("#infants", "1")
    page.fill("#pets", "1")
    show = page.get_by_role("button", name="生成我家的清单")
    assert show.bounding_box()["height"] >= 44  # thumb-sized
    show.click()
    mine = page.locator("#my-checklist")
    expect(mine).to_contain_text("45 升")
    expect(mine.locator('[data-code="B01"] .kit-total')).to_have_text("45 升")
    expect(mine.locator('[data-code="G01"] .kit-total')).to_have_text("3 日用量")
    expect(mine.locator('[data-code="G07"]')).to_be_visible()
    expect(mine.locator('[data-code="G03"]')).to_have_count(0)
    shown = [re.sub(r"\s+", "", n) for n in mine.locator(".kit-line .kit-name").evaluate_all(
        "els => els.map(e => e.firstChild.textContent)")]
    assert len(shown) == 15

    download_button = mine.get_by_role("button", name="下载 PDF")
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename == "family-emergency-checklist-basic.pdf"
    data = Path(download.path()).read_bytes()
    doc = pdfium.PdfDocument(data)
    try:
        assert len(doc) == 1
        text = re.sub(r"\s+", "", doc[0].get_textpage().get_text_range())
    finally:
        doc.close()
    for name in shown:
        assert name in text, name
    assert "45升" in text and "按5人计算" in text

    # Bad input in the browser: a clear message, no download.
    page.fill("#people", "500")
    page.evaluate("document.getElementById('household').noValidate = true")
    page.get_by_role("button", name="生成我家的清单").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("家庭人数须在 1 至 20 人之间")

    db.session.expire_all()
    counted = {(r.kind.value, r.n) for r in db.session.scalars(
        select(KitCounter).where(KitCounter.area_code == "RES"))}
    assert ("pdf", 1) in counted and ("visit", 1) in counted


def test_checklist_pages_fit_a_phone_in_english_too(live_server, phone, world):
    checklist_file.ensure_default_checklist()
    db.session.commit()
    page = phone
    page.goto(live_server + "/lang/en")
    for path in ("/kit", "/kit?extended=y", "/kit/print", "/kit/print?people=4&extended=y"):
        page.goto(live_server + path)
        # Long English headings and source URLs wrap or scroll in their own box, not the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
