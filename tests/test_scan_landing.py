"""Scan landing pages, the scanner page, spot counts and the decoder asset."""
from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from inventory.core.db import db
from inventory.scan.views.scan import NODE_MODULES
from inventory.stock.models import Batch, Document, Movement
from inventory.stock.services import catalogue, ledger

from .conftest import IN_CI, TODAY


@pytest.fixture
def keeper(client, world, login):
    login(world["users"]["keeper"])
    return client


def test_batch_label_opens_the_batch_with_status_and_actions(keeper, world):
    batch = world["batch"]
    response = keeper.get(f"/S/{batch.label_code}")
    assert response.status_code == 200
    body = response.data.decode()
    assert "瓶装饮用水" in body and 'id="scan-quantity">100<' in body and "海尚源深储备库" in body
    assert "scan-card-ok" in body and (TODAY + dt.timedelta(days=200)).isoformat() in body  # shown in green
    for url in (f"/batches/{batch.id}/issue", f"/batches/{batch.id}/transfer", f"/s/{batch.label_code}/count",
                f"/batches/{batch.id}/dispose", f"/labels/batches/{batch.id}"):
        assert f'href="{url}"' in body
    # Lower case, dashes and spaces (manual entry) lead to the same page.
    code = batch.label_code
    for typed in (code.lower(), f"{code[:4]}-{code[4:8]}-{code[8:]}", f"{code[:4]} {code[4:8]} {code[8:]}"):
        again = keeper.get(f"/s/{typed}")
        assert again.status_code == 200 and 'id="scan-quantity">100<' in again.data.decode()


def test_expired_and_expiring_batches_are_coloured_and_expired_cannot_be_issued(keeper, world):
    old = world["old"]
    body = keeper.get(f"/S/{old.label_code}").data.decode()
    assert "scan-card-expired" in body and f'/batches/{old.id}/issue"' not in body
    assert f'/batches/{old.id}/dispose"' in body
    soon = db.session.scalar(select(Batch).where(Batch.lot_number == "W-SOON"))
    assert "scan-card-expiring" in keeper.get(f"/S/{soon.label_code}").data.decode()


@pytest.mark.parametrize("path, text", [
    ("/S/AAAAAAAAAAAA", "AAAAAAAAAAAA"),          # well formed, unknown
    ("/s/NOTACODE", "不是标签编码"),               # malformed
    ("/s/ABCDEFGH2340", "不是标签编码"),           # 0 is not in the alphabet
])
def test_unknown_and_malformed_codes_get_a_clear_page(keeper, world, path, text):
    response = keeper.get(path)
    assert response.status_code == 404
    body = response.data.decode()
    assert 'id="unknown-label"' in body and text in body and 'name="code"' in body


def test_another_locations_keeper_learns_nothing(client, world, login, f):
    """A keeper of another location scanning a DEP label sees the same page as for an unknown code."""
    other = f.user("keeper", [world["dep2"]], username="keeper2")
    f.commit()
    login(other)
    client.get("/dashboard")  # shows (and so clears) the sign-in messages
    batch = world["batch"]
    response = client.get(f"/S/{batch.label_code}")
    assert response.status_code == 404
    body = response.data.decode()
    assert 'id="unknown-label"' in body
    for secret in ("瓶装饮用水", "W-2026", "海尚源深", ">100<", f"/batches/{batch.id}"):
        assert secret not in body
    unknown = client.get("/S/AAAAAAAAAAAA").data.decode()
    assert body.replace(batch.label_code, "X") == unknown.replace("AAAAAAAAAAAA", "X")
    assert client.get(f"/s/{batch.label_code}/count").status_code == 404
    login(world["users"]["residential"])
    assert client.get(f"/S/{world['dep'].label_code}").status_code == 404
    assert client.get(f"/S/{world['res_batch'].label_code}").status_code == 200


def test_sign_in_first_then_back_to_the_label(client, world):
    batch = world["batch"]
    response = client.get(f"/S/{batch.label_code}")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=") and batch.label_code in response.location
    signed_in = client.post(response.location, data={"username": "keeper1", "password": "correct horse 1"})
    assert signed_in.status_code == 302 and signed_in.location == f"/S/{batch.label_code}"
    assert client.get(signed_in.location).status_code == 200


def test_shelf_label_lists_the_shelf(keeper, world, f):
    shelf = catalogue.ensure_sub_location(world["dep"], "B-02", name="货架 B-02")
    f.commit()
    doc = ledger.receive(location_id=world["dep"].id, user=f.system(), lines=[ledger.ReceiptLine(
        item_id=world["hood"].id, quantity=7, lot_number="ON-SHELF", sub_location_id=shelf.id)])
    f.commit()
    body = keeper.get(f"/S/{shelf.label_code}").data.decode()
    assert "B-02" in body and "ON-SHELF" in body and "消防过滤式自救呼吸器" in body
    assert "W-2026" not in body  # not on this shelf
    assert f"/S/{doc.movements[0].batch.label_code}".lower() in body.lower()


def test_scanner_page_takes_codes_and_urls(keeper, world):
    code = world["batch"].label_code
    page = keeper.get("/scan")
    assert page.status_code == 200 and 'data-scan-input' in page.data.decode()
    assert keeper.get(f"/scan?code={code.lower()}").location == f"/S/{code}"
    url = f"HTTPS://ANY.HOST.EXAMPLE/S/{code}"
    assert keeper.get("/scan", query_string={"code": url}).location == f"/S/{code}"
    bad = keeper.get("/scan?code=6901234567892")
    assert bad.status_code == 422 and "12 个字符" in bad.data.decode()


def test_spot_count_books_the_difference_once(keeper, world):
    batch = world["batch"]
    url = f"/s/{batch.label_code}/count"
    form = keeper.get(url).data.decode()
    assert "瓶装饮用水" in form
    same = keeper.post(url, data={"counted": "100", "request_token": "spot-0"})
    assert same.status_code == 302
    assert db.session.scalar(select(func.count(Movement.id)).where(Movement.batch_id == batch.id)) == 1
    response = keeper.post(url, data={"counted": "97", "request_token": "spot-1"})
    assert response.status_code == 302 and response.location == f"/S/{batch.label_code}"
    again = keeper.post(url, data={"counted": "97", "request_token": "spot-1"})
    assert again.status_code == 302
    db.session.expire_all()
    assert batch.quantity == 97
    adjust = db.session.scalar(select(Movement).where(Movement.batch_id == batch.id, Movement.kind == "adjust"))
    assert adjust.quantity == -3 and "实盘 97" in adjust.reason and "账面 100" in adjust.reason
    assert db.session.scalar(select(func.count(Document.id)).where(Document.request_token == "spot-1")) == 1
    bad = keeper.post(url, data={"counted": "-1", "request_token": "spot-2"})
    assert bad.status_code == 422 and "不能为负数" in bad.data.decode()
    assert ledger.check_ledger() == []


def test_landing_uses_constant_queries(client, world, login, f):
    login(world["users"]["admin"])
    batch = world["batch"]
    counts = []
    for extra in (0, 40):
        for _ in range(extra):
            f.stock(world["dep"], world["water"], 1, lot="MORE")
        f.commit()

        box = [0]

        def count(*_args):
            box[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/S/{batch.label_code}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(box[0])
    assert counts[0] == counts[1] and counts[0] <= 8


def test_decoder_asset_is_served_from_node_modules(client, world):
    target = NODE_MODULES / "@zxing/browser/umd/zxing-browser.min.js"
    if not target.is_file():
        message = f"{target} missing: run `npm ci`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    plain = client.get("/scan/assets/zxing-browser.min.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.data == target.read_bytes()
    assert plain.mimetype == "text/javascript" and "max-age" in plain.headers["Cache-Control"]
    packed = client.get("/scan/assets/zxing-browser.min.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.data) == target.read_bytes()
    assert client.get("/scan/assets/package.json").status_code == 404
    assert client.get("/scan/assets/..%2Fpackage.json").status_code == 404


@pytest.mark.parametrize("typed, expected", [("1,000", 1000), ("１，０００", 1000), ("1000箱", 1000)])
def test_spot_count_reads_thousands_full_width_and_the_unit(keeper, world, f, typed, expected):
    """A spot count of a 1,000-unit batch typed "1,000" books nothing (it used to read 1 and book −999)."""
    batch = f.stock(world["dep"], world["water"], 1000, lot="BIG", expires_on=TODAY + dt.timedelta(days=300))
    f.commit()
    response = keeper.post(f"/s/{batch.label_code}/count", data={"counted": typed, "request_token": "big-1"})
    assert response.status_code == 302, response.data[:400]
    db.session.expire_all()
    assert batch.quantity == expected
    assert db.session.scalar(select(func.count(Movement.id)).where(
        Movement.batch_id == batch.id, Movement.kind == "adjust")) == 0


def test_spot_count_refuses_a_decimal_comma_and_says_what_to_type(keeper, world):
    batch = world["fuel"]
    response = keeper.post(f"/s/{batch.label_code}/count", data={"counted": "50,5", "request_token": "c-1"})
    assert response.status_code == 422 and "1,000" in response.data.decode()
    db.session.expire_all()
    assert batch.quantity == Decimal("50.5")


def test_spot_count_accepts_full_width_decimals(keeper, world):
    batch = world["fuel"]
    response = keeper.post(f"/s/{batch.label_code}/count", data={"counted": "５０．５", "request_token": "c-2"})
    assert response.status_code == 302
    db.session.expire_all()
    assert batch.quantity == Decimal("50.5") and ledger.check_ledger() == []
