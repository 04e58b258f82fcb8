"""Residents' pages: the public checklist (no sign-in, no stock data, personalised, PDF and
print), the poster's QR, per-area counts, privacy, and the office's editing pages."""
from __future__ import annotations

import io
import logging
import re

import pypdfium2 as pdfium
import pytest
import yaml
import zxingcpp
from sqlalchemy import event, func, select

from inventory.core import clock
from inventory.core.db import db
from inventory.residents.models import KitCounter, KitItem
from inventory.residents.services import checklist as kit
from inventory.residents.services import checklist_file
from inventory.residents.services import household as kit_household

from .conftest import TODAY

FAMILY = {"people": "5", "infants": "1", "pets": "1", "days": "3", "version": "basic"}
#: Every group present: the longest basic checklist (11 + 8 special-need lines).
EVERYONE = {"people": "6", "older": "2", "infants": "1", "chronic": "2", "pets": "2", "days": "3",
            "version": "basic"}


@pytest.fixture
def checklist(app):
    """The shipped checklist in the test database."""
    checklist_file.ensure_default_checklist()
    db.session.commit()


def pdf_pages(data: bytes) -> list[str]:
    """Text of every page of a PDF, as pdfium extracts it."""
    doc = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def squash(text: str) -> str:
    """Text without whitespace (pdfium may break a cell's text over lines)."""
    return re.sub(r"\s+", "", text)


def counts() -> dict[tuple[str, str], int]:
    db.session.expire_all()
    return {(r.area_code, r.kind.value): r.n for r in db.session.scalars(select(KitCounter))}


def test_public_pages_need_no_sign_in_and_show_no_stock(client, world, checklist):
    stock_words = ["瓶装饮用水", "柴油", "W-2026", "R-1", "50.5", "海尚源深", "恒大华府", "民防应急物资仓库",
                   world["batch"].label_code]
    pages = {
        "/kit": client.get("/kit"),
        "/kit?ref=RES": client.get("/kit?ref=RES"),
        "/kit/print": client.get("/kit/print"),
        "POST /kit": client.post("/kit?ref=RES", data=FAMILY),
        "POST /kit/print": client.post("/kit/print", data=FAMILY),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        body = response.data.decode()
        assert "饮用水" in body and "医用外科口罩" in body, name
        for word in stock_words:
            assert word not in body, (name, word)
        assert "/login?next" not in body
    pdf = client.get("/kit/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = squash("".join(pdf_pages(pdf.data)))
    assert all(word not in text for word in stock_words)


def test_sign_in_page_links_to_the_checklist(client):
    assert 'href="/kit"' in client.get("/login").data.decode()


@pytest.mark.parametrize("url", ["/kit", "/kit/print", "/login"])
def test_every_page_frame_names_its_icon_so_no_favicon_request_404s(client, checklist, url):
    """Both page frames (the residents' and the staff's) declare an inline icon, so a browser
    never asks for /favicon.ico, which the app does not serve (the CSP allows data: images)."""
    response = client.get(url)
    assert response.status_code == 200
    assert '<link rel="icon" href="data:,">' in response.data.decode()
    assert client.get("/favicon.ico").status_code == 404


def test_checklist_page_shows_sources_and_marks_suggestions(client, checklist):
    body = client.get("/kit").data.decode()
    assert "基础版（11 项）" in body
    assert "应急管理部" in body and "全国基础版家庭应急物资储备建议清单" in body and "2020-11-29" in body
    assert "已按官方原文副本核对" in body
    assert "街道建议" in body and "不是官方扩展版清单" in body
    # The water quantity: the source's wording and our reading.
    assert "每人至少3升" in body and "每人每天3升" in body
    assert body.count('class="kit-line"') == 36  # 11 basic + 17 extended + 8 special needs
    assert "bootstrap.bundle" not in body and "<script>" not in body  # light page, no inline script
    assert len(body.encode()) < 80_000
    english = client.get("/kit?lang=en").data.decode()
    assert "Drinking water" in english and "Basic version (11 items)" in english and "Subdistrict suggestion" in english


def test_personalised_quantities_on_the_page(client, checklist):
    response = client.post("/kit", data=FAMILY)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.data.decode()
    mine = body[body.index('id="my-checklist"'):body.index('id="basic"')]
    lines = dict(re.findall(r'data-code="(\w+)".*?kit-total text-nowrap">([^<]*)<', mine, re.S))
    assert lines["B01"] == "45 升" and lines["B02"] == "15 日份" and lines["B11"] == "15 只"
    assert lines["B04"] == "5 个" and lines["B03"] == "1 套"
    assert lines["G01"] == "3 日用量" and lines["G07"] == "3 日用量" and lines["G08"] == "1 个"
    assert "G03" not in lines and "E01" not in lines
    assert len(lines) == 15


@pytest.mark.parametrize("url", ["/kit", "/kit/pdf", "/kit/print"])
@pytest.mark.parametrize("data, message", [
    ({"people": "0"}, "家庭人数须在 1 至 20 人之间。"),
    ({"people": "500"}, "家庭人数须在 1 至 20 人之间。"),
    ({"people": "-3"}, "家庭人数须在 1 至 20 人之间。"),
    ({"people": "4", "days": "90"}, "准备天数须在 1 至 14 天之间。"),
    ({"people": "2", "older": "3"}, "老人人数不能超过家庭人数。"),
    ({"people": "abc"}, "请输入整数。"),
    ({"people": ""}, "请填写家庭同住人数。"),
])
def test_bad_input_gets_a_clear_message_and_no_pdf(client, checklist, url, data, message):
    response = client.post(url + "?ref=RES", data={"version": "basic", **data})
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert message in response.data.decode()
    assert 'class="invalid-feedback d-block"' in response.data.decode()
    assert "/kit/pdf?lang=" not in response.data.decode()  # switching language opens a page, not a download
    assert counts() == {}


def test_pdf_basic_fits_one_page_and_shows_every_item(client, checklist):
    response = client.post("/kit/pdf", data=EVERYONE)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    pages = pdf_pages(response.data)
    assert len(pages) == 1
    text = squash(pages[0])
    specs = kit.line_specs()
    household = kit_household.validate_household(**{k: v for k, v in EVERYONE.items() if k != "version"})
    expected = kit.compute_checklist(specs, household, kit.KitVersion.BASIC, TODAY)
    assert len(expected.lines) == 19
    for line in expected.lines:
        assert squash(line.spec.name_zh) in text, line.spec.name_zh
    assert "54升" in text and "18只" in text and "6日用量" in text  # water 3×6×3, masks 6×3, soft food 2×3
    assert "110报警" in text and "集合地点" in text and "更换日期" in text
    # Chinese is embedded (a TrueType subset), so it shows on any viewer.
    assert b"/FontFile2" in response.data and b"NotoSansSCGB" in response.data


def test_general_pdfs_and_english(client, checklist):
    basic = client.get("/kit/pdf?version=basic")
    pages = pdf_pages(basic.data)
    assert len(pages) == 1
    text = squash(pages[0])
    for name in ["饮用水", "方便食品", "灭火器和灭火毯", "呼吸面罩", "手电筒", "多功能小刀", "收音机", "救生哨子",
                 "外用药品", "消毒湿纸巾", "医用外科口罩"]:
        assert name in text
    assert "婴幼儿奶粉" not in text
    extended = client.get("/kit/pdf?version=extended")
    text = squash("".join(pdf_pages(extended.data)))
    for spec in kit.line_specs():
        assert squash(spec.name_zh) in text, spec.name_zh
    english = client.post("/kit/pdf?lang=en", data=FAMILY)
    text = " ".join(pdf_pages(english.data))
    assert len(pdf_pages(english.data)) == 1
    assert "Drinking water" in text and "45 L" in text and "Emergency contacts" in text


def test_print_page_has_tick_boxes_dates_and_contacts(client, checklist):
    body = client.post("/kit/print?ref=RES", data=FAMILY).data.decode()
    assert body.count('class="kit-box"') == 15
    in_six_months = clock.add_months(clock.local_today(), 6).isoformat()
    assert f"{in_six_months} 前检查" in body and "更换日期" in body
    assert "紧急联系方式" in body and "110 报警" in body and "集合地点" in body
    assert "data-print" in body and "js/residents.js" in body
    assert "按 5 人计算（其中老人 0、婴幼儿 1、慢性病患者 0），宠物 1 只，准备 3 天。" in body


def _decode_qr(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        img = doc[0].render(scale=150 / 72, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
            if r.text.startswith("http")]


def test_poster_qr_links_to_the_checklist_with_the_area(app, client, world, login, checklist):
    login(world["users"]["admin"])
    response = client.get("/kit/areas/RES/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert _decode_qr(response.data) == [app.config["EXTERNAL_URL"] + "/kit?ref=RES"]
    pages = pdf_pages(response.data)
    assert len(pages) == 1 and "菊园居民区储备点" in pages[0] and "家庭应急物资储备清单" in pages[0]
    assert "Family emergency supplies checklist" in pages[0]
    assert client.get("/kit/areas/DEP/poster.pdf").status_code == 404  # a depot has no poster
    login(world["users"]["residential"])
    assert client.get("/kit/areas/RES/poster.pdf").status_code == 200
    assert client.get("/kit/areas/RES2/poster.pdf").status_code == 404  # not their point
    login(world["users"]["viewer"])
    assert client.get("/kit/areas/RES/poster.pdf").status_code == 403


def test_visits_and_downloads_are_counted_per_area(client, world, login, checklist):
    client.get("/kit?ref=RES")
    client.get("/kit?ref=RES")
    client.get("/kit/pdf?ref=RES")
    client.post("/kit/pdf?ref=RES", data=FAMILY)
    client.post("/kit/print?ref=RES2", data=FAMILY)
    client.post("/kit?ref=RES", data=FAMILY)        # seeing one's own list is not a download
    client.get("/kit?ref=DEP")                       # not a residential point
    client.get("/kit?ref=NO-SUCH")
    client.get("/kit?ref=' OR 1=1 --")
    assert counts() == {("RES", "visit"): 2, ("RES", "pdf"): 2, ("RES2", "print"): 1, ("", "visit"): 3}

    login(world["users"]["admin"])
    body = client.get("/kit/areas").data.decode()
    res_row = re.search(r'data-area="RES">(.*?)</tr>', body, re.S).group(1)
    assert re.findall(r'data-kind="(\w+)">(\d+)<', res_row) == [("visit", "2"), ("pdf", "2"), ("print", "0")]
    assert "/kit/areas/RES/poster.pdf" in body
    assert re.search(r'data-area="-">.*?data-kind="visit">3<', body, re.S)
    total = re.search(r'id="area-total">(.*?)</tr>', body, re.S).group(1)
    assert re.findall(r'>(\d+)<', total) == ["5", "2", "1"]
    # Outside the period: nothing.
    assert 'data-kind="visit">2<' not in client.get("/kit/areas?date_from=2000-01-01&date_to=2000-01-31").data.decode()

    login(world["users"]["viewer"])
    body = client.get("/kit/areas").data.decode()
    assert 'data-area="RES"' in body and "poster.pdf" not in body

    login(world["users"]["residential"])
    body = client.get("/kit/areas").data.decode()
    assert 'data-area="RES"' in body and 'data-area="RES2"' not in body and 'data-area="-"' not in body
    assert "/kit/areas/RES/poster.pdf" in body


class _Collect(logging.Handler):
    """Keeps every log record (the suite may run with pytest's logging plugin disabled)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def all_logs(app):
    """Every record logged at any level by the app's loggers (root, the app's, werkzeug).
    SQLAlchemy keeps its configured level: the SQL parameters are checked separately."""
    handler = _Collect()
    root = logging.getLogger()
    loggers = [root, app.logger, logging.getLogger("werkzeug"), logging.getLogger("inventory")]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        if lg is not root:
            lg.propagate = True
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        for lg, level, propagate in saved:
            lg.setLevel(level)
            lg.propagate = propagate


def test_household_numbers_never_reach_the_database_or_the_logs(app, client, checklist, all_logs):
    household = {"people": "19", "older": "17", "infants": "1", "chronic": "13", "pets": "9", "days": "11"}
    secret = {19, 17, 13, 9, 11}  # (1 is also the counter's increment)
    seen: list = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        for url in ("/kit?ref=RES", "/kit/pdf?ref=RES", "/kit/print?ref=RES"):
            for version in ("basic", "extended"):
                assert client.post(url, data={**household, "version": version}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert seen, "the requests ran SQL"
    for statement, parameters in seen:
        values = parameters.values() if isinstance(parameters, dict) else (parameters or ())
        for value in values:
            assert not (isinstance(value, (int, str)) and str(value) in {str(s) for s in secret}), (statement, value)
    app.logger.debug("probe")
    assert [r.getMessage() for r in all_logs][-1] == "probe", "the log capture works"
    messages = "\n".join(r.getMessage() for r in all_logs)
    for number in secret:
        assert not re.search(rf"(?<!\d){number}(?!\d)", messages), number
    # The only rows written are counts.
    assert counts() == {("", "pdf"): 2, ("", "print"): 2}


def test_office_edits_a_line_and_residents_see_it(client, world, login, checklist):
    login(world["users"]["admin"])
    water = db.session.scalar(select(KitItem).where(KitItem.code == "B01"))
    page = client.get(f"/admin/kit/items/{water.id}").data.decode()
    assert 'value="饮用水"' in page and 'value="3"' in page
    form = {"code": "B01", "version": "basic", "special_group": "", "category_zh": "应急食品",
            "category_en": "Food and water", "name_zh": "饮用水", "name_en": "Drinking water",
            "purpose_zh": water.purpose_zh, "purpose_en": water.purpose_en, "source": "mem-2020",
            "qty_amount": "4", "qty_unit_zh": "升", "qty_unit_en": "L", "qty_per": "person", "qty_per_day": "y",
            "qty_source": "subdistrict", "qty_note_zh": "", "qty_note_en": "", "check_months": "6",
            "check_source": "subdistrict", "sort_order": "10", "active": "y"}
    bad = client.post(f"/admin/kit/items/{water.id}", data={**form, "qty_amount": "0", "name_zh": ""})
    assert bad.status_code == 422
    assert "数量须大于 0 且不超过 1000。" in bad.data.decode() and "该字段是必填字段。" in bad.data.decode()
    db.session.expire_all()
    assert db.session.get(KitItem, water.id).qty_amount == 3
    assert client.post(f"/admin/kit/items/{water.id}", data=form).status_code == 302
    body = client.post("/kit", data=FAMILY).data.decode()
    assert re.search(r'data-code="B01".*?kit-total text-nowrap">60 升<', body, re.S)
    # Hide a line: residents no longer see it.
    torch = db.session.scalar(select(KitItem).where(KitItem.code == "B05"))
    export = yaml.safe_load(client.get("/admin/kit/export.yaml").data)
    entry = next(i for i in export["items"] if i["code"] == "B05")
    hidden = {"code": "B05", "version": "basic", "special_group": "", "category_zh": entry["category_zh"],
              "category_en": entry["category_en"], "name_zh": entry["name_zh"], "name_en": entry["name_en"],
              "purpose_zh": entry["purpose_zh"], "purpose_en": entry["purpose_en"], "source": entry["source"],
              "qty_amount": "1", "qty_unit_zh": "个", "qty_unit_en": "pc|pcs", "qty_per": "household",
              "qty_source": "subdistrict", "check_months": "6", "check_source": "subdistrict",
              "sort_order": "50"}  # "active" unticked
    assert client.post(f"/admin/kit/items/{torch.id}", data=hidden).status_code == 302
    assert 'data-code="B05"' not in client.get("/kit").data.decode()


def test_office_exports_and_imports_the_checklist(client, world, login, checklist):
    login(world["users"]["admin"])
    page = client.get("/admin/kit").data.decode()
    assert page.count("<tr class=") == 36 and 'data-key="subdistrict"' in page
    exported = client.get("/admin/kit/export.yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    doc = yaml.safe_load(exported.data)
    doc["items"][0]["quantity"]["amount"] = "2.5"
    good = yaml.safe_dump(doc, allow_unicode=True).encode()
    check = client.post("/admin/kit/import", data={"file": (io.BytesIO(good), "kit.yaml")},
                        content_type="multipart/form-data")
    assert check.status_code == 200 and "校验通过" in check.data.decode()
    assert db.session.scalar(select(KitItem.qty_amount).where(KitItem.code == "B01")) == 3
    done = client.post("/admin/kit/import", data={"file": (io.BytesIO(good), "kit.yaml"), "confirm": "y"},
                       content_type="multipart/form-data")
    assert done.status_code == 200 and "已导入" in done.data.decode()
    db.session.expire_all()
    assert str(db.session.scalar(select(KitItem.qty_amount).where(KitItem.code == "B01"))) == "2.500"
    doc["items"][1]["source"] = "nowhere"
    bad = client.post("/admin/kit/import", data={"file": (io.BytesIO(yaml.safe_dump(doc).encode()), "kit.yaml"),
                                                 "confirm": "y"}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "未导入任何数据" in bad.data.decode() and "B02 source" in bad.data.decode()
    assert db.session.scalar(select(func.count(KitItem.id)).where(KitItem.active.is_(True))) == 36


def test_office_adds_a_source(client, world, login, checklist):
    login(world["users"]["admin"])
    bad = client.post("/admin/kit/sources/new", data={"key": "Bad Key", "confidence": "N", "official": "y",
                                                      "short_zh": "", "short_en": "x", "title_zh": "x",
                                                      "title_en": "x"})
    assert bad.status_code == 422 and "该字段是必填字段。" in bad.data.decode()
    ok = client.post("/admin/kit/sources/new", data={"key": "pudong-2026", "confidence": "S", "official": "y",
                                                     "short_zh": "浦东清单", "short_en": "Pudong list",
                                                     "title_zh": "浦东新区家庭应急物资清单", "title_en": "Pudong list"})
    assert ok.status_code == 302
    assert "pudong-2026" in client.get("/admin/kit").data.decode()


def test_checklist_page_reads_a_constant_number_of_queries(client, checklist):
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert client.get("/kit?ref=RES").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3  # the area reference, the sources, the lines
