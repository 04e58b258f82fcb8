"""Scanned codes: one normalisation (NFKC, trim, upper case) and one URL rule in every code field.

A handheld scanner behind a Chinese input method types full-width characters
("ＡＢＣＤ－ＥＦＧＨ－２３４５"); a label printed by another server carries another
host; a phone's scanner app may keep a query string or fragment.  Each gives the
12-character code, on the scanner page, on the label's own address, in the count's
scan box and in the count entry form.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.core.codes import code_from_text, label_in_quantity, normalise_code
from inventory.core.db import db
from inventory.stock.services import catalogue
from inventory.stocktake.models import StocktakeLine

CODE = "ABCDEFGH2345"


def full_width(text: str) -> str:
    """``text`` as a Chinese input method in full-width mode types it (ASCII → U+FF01…U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


#: Codes as typed or scanned (all give CODE).
TYPED = [
    CODE,
    CODE.lower(),
    "  abcd-efgh-2345 ",
    "ABCD EFGH 2345",
    full_width(CODE),                                   # ＡＢＣＤＥＦＧＨ２３４５
    full_width("ABCD-EFGH-2345"),                       # full-width hyphen-minus U+FF0D
    "ＡＢＣＤ\u3000ＥＦＧＨ\u3000２３４５",              # ideographic spaces
    "ABCD—EFGH—2345",                                   # em dashes (Chinese punctuation mode)
    "ABCD–EFGH−2345",                                   # en dash, minus sign
    "\ufeffABCDEFGH2345\u200b",                         # byte-order mark, zero-width space
    "ABCDEFGH2345\r\n",
]


@pytest.mark.parametrize("text", TYPED)
def test_typed_and_scanned_codes_give_the_code(text):
    assert normalise_code(text) == CODE
    assert code_from_text(text) == CODE


#: Label URLs as scanned (all give CODE).
URLS = [
    f"HTTPS://YJWZ.EXAMPLE.GOV.CN/S/{CODE}",
    f"https://yjwz.example.gov.cn/s/{CODE.lower()}",
    f"http://127.0.0.1:5000/S/{CODE}",
    f"HTTP://OLD-SERVER.LOCAL/inventory/S/{CODE}/",      # another host, a path prefix, a slash
    f"https://yjwz.example.gov.cn/S/{CODE}?from=singlemessage&isappinstalled=0",
    f"https://yjwz.example.gov.cn/S/{CODE}#top",
    f"https://yjwz.example.gov.cn/S/{CODE}/?a=1#b",
    f"yjwz.example.gov.cn/S/{CODE}",                    # scheme lost by the scanner app
    full_width(f"HTTPS://YJWZ.EXAMPLE.GOV.CN/S/{CODE}?X=1#Y"),
]


@pytest.mark.parametrize("text", URLS)
def test_label_urls_give_the_code_whatever_host_query_or_fragment(text):
    assert code_from_text(text) == CODE


#: Texts that hold no label code.
NOT_CODES = [
    "", "   ", "6901234567892", "ABCDEFGH234", "ABCDEFGH23456", "ABCDEFGH2340",  # 0 is not base32
    "ABCDEFGHıJKL",                          # dotless i: upper-cases to I, but is not a code character
    f"https://example.com/S/{CODE}/extra", f"https://example.com/?code={CODE}", "A" * 12 + "?" + "B" * 300,
]


@pytest.mark.parametrize("text", NOT_CODES)
def test_anything_else_is_not_a_code(text):
    assert code_from_text(text) is None


#: What a quantity box may hold → the label code it holds (None: a quantity, or not a label).
IN_QUANTITY = [
    ("12", None), ("2.5", None), ("１２", None), ("２．５", None), ("1,000", None), (" 7 ", None), ("-3", None),
    ("234567234567", None),                  # only digits: a (silly) number, although it spells a code
    ("", None), ("abc", None), ("12箱", None),
    (CODE, CODE), (CODE.lower(), CODE), (full_width(CODE), CODE), (URLS[4], CODE), (URLS[-1], CODE),
]


@pytest.mark.parametrize("text, expected", IN_QUANTITY)
def test_a_label_in_a_quantity_box_is_recognised_and_numbers_stay_numbers(text, expected):
    assert label_in_quantity(text) == expected


# --------------------------------------------------------------------------- in the pages


@pytest.fixture
def keeper(client, world, login):
    login(world["users"]["keeper"])
    return client


def test_scanner_page_and_label_address_take_full_width_and_urls_with_queries(keeper, world):
    code = world["batch"].label_code
    for text in (full_width(code), full_width(f"{code[:4]}-{code[4:8]}-{code[8:]}"),
                 f"https://other.host.example/S/{code}?from=timeline#x",
                 full_width(f"HTTPS://OTHER.HOST/S/{code}?A=1")):
        assert keeper.get("/scan", query_string={"code": text}).location == f"/S/{code}", text
    landing = keeper.get(f"/s/{full_width(code)}")
    assert landing.status_code == 200 and 'id="scan-quantity">100<' in landing.data.decode()


def test_count_scan_box_and_entry_take_full_width_and_urls_with_queries(keeper, world):
    response = keeper.post("/locations/DEP/stocktake", data={})
    st_id = int(response.location.rsplit("/", 1)[1])
    batch = world["batch"]
    shelf = catalogue.ensure_sub_location(world["dep"], "A-01")
    db.session.commit()
    scanned = keeper.post(f"/stocktakes/{st_id}/scan", data={"code": full_width(shelf.label_code)})
    assert scanned.location == f"/stocktakes/{st_id}?shelf={shelf.id}"
    scanned = keeper.post(f"/stocktakes/{st_id}/scan", data={
        "code": full_width(f"HTTPS://ELSEWHERE.EXAMPLE/S/{batch.label_code}#LABEL"), "shelf": str(shelf.id)})
    assert scanned.location == f"/stocktakes/{st_id}?shelf={shelf.id}&code={batch.label_code}"
    # The entry opened from a URL with a query (e.g. a bookmark) is the batch's.
    entry = keeper.get(f"/stocktakes/{st_id}", query_string={
        "code": f"http://old.host/S/{batch.label_code}?x=1"}).data.decode()
    assert 'id="count-entry"' in entry and "W-2026" in entry
    saved = keeper.post(f"/stocktakes/{st_id}/lines", data={
        "code": full_width(batch.label_code), "counted": "97", "shelf": str(shelf.id)})
    assert saved.status_code == 302
    line = db.session.scalar(select(StocktakeLine))
    assert (line.batch_id, line.counted) == (batch.id, 97)


def test_spot_count_address_takes_full_width(keeper, world):
    batch = world["batch"]
    page = keeper.get(f"/s/{full_width(batch.label_code)}/count")
    assert page.status_code == 200 and "瓶装饮用水" in page.data.decode()


# --------------------------------------------------------------------------- a label in a quantity field


def _entry_page(client, st_id: int, code: str) -> str:
    return client.get(f"/stocktakes/{st_id}", query_string={"code": code}).data.decode()


def test_label_scanned_into_the_count_quantity_opens_that_label(keeper, world):
    response = keeper.post("/locations/DEP/stocktake", data={})
    st_id = int(response.location.rsplit("/", 1)[1])
    batch, fuel = world["batch"], world["fuel"]
    shelf = catalogue.ensure_sub_location(world["dep"], "A-01")
    db.session.commit()
    page = _entry_page(keeper, st_id, batch.label_code)
    # The quantity box takes a whole label URL: no maxlength cuts the scan short.
    assert 'maxlength="20"' not in page and 'id="counted"' in page

    # The cursor was in the quantity box of W-2026 when the next label (D-1) was scanned.
    url = f"https://yjwz.example.gov.cn/S/{fuel.label_code}?from=scanner"
    moved = keeper.post(f"/stocktakes/{st_id}/lines", data={
        "code": batch.label_code, "counted": url, "shelf": str(shelf.id)})
    assert moved.status_code == 302
    assert moved.location == f"/stocktakes/{st_id}?shelf={shelf.id}&code={fuel.label_code}"
    assert db.session.scalar(select(StocktakeLine)) is None  # nothing counted for either batch
    body = keeper.get(moved.location).data.decode()
    assert "这是一个标签，不是数量" in body and 'id="count-entry"' in body and "D-1" in body

    # A full-width shelf label selects the shelf; an unknown label says so and keeps the entry.
    moved = keeper.post(f"/stocktakes/{st_id}/lines", data={
        "code": batch.label_code, "counted": full_width(shelf.label_code)})
    assert moved.location == f"/stocktakes/{st_id}?shelf={shelf.id}"
    moved = keeper.post(f"/stocktakes/{st_id}/lines", data={"code": batch.label_code, "counted": "QQQQQQQQQQQQ"})
    assert moved.location == f"/stocktakes/{st_id}?code={batch.label_code}"
    body = keeper.get(moved.location).data.decode()
    assert "这是一个标签，不是数量" in body and "QQQQQQQQQQQQ" in body
    assert db.session.scalar(select(StocktakeLine)) is None

    # Numbers stay numbers, full-width digits included.
    saved = keeper.post(f"/stocktakes/{st_id}/lines", data={"code": batch.label_code, "counted": "９７"})
    assert saved.status_code == 302
    assert db.session.scalar(select(StocktakeLine.counted)) == 97


def test_label_scanned_into_a_booking_quantity_is_named_as_a_label(keeper, world):
    from inventory.stock.models import Movement

    batch, fuel = world["batch"], world["fuel"]
    before = db.session.scalar(select(db.func.count(Movement.id)))
    url = f"HTTP://OTHER.HOST/S/{fuel.label_code}#x"
    issued = keeper.post(f"/batches/{batch.id}/issue", data={
        "quantity": url, "recipient": "菊园居民区", "reason": "演练", "request_token": "t-issue-label"})
    assert issued.status_code == 422
    body = issued.data.decode()
    assert "这是一个标签" in body and "不是数量" in body and fuel.label_code in body
    spot = keeper.post(f"/s/{batch.label_code}/count", data={"counted": full_width(fuel.label_code)})
    assert spot.status_code == 422 and "这是一个标签" in spot.data.decode()
    assert 'maxlength="20"' not in keeper.get(f"/s/{batch.label_code}/count").data.decode()
    assert db.session.scalar(select(db.func.count(Movement.id))) == before
