"""Pages and booking forms: real values shown, bad input refused with nothing changed,
double submits booked once, names escaped, and query counts that do not grow with data."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from inventory.core.db import db
from inventory.stock.models import Batch, Document, Movement, MovementKind

from .conftest import TODAY


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Batch, Movement, Document))


@pytest.fixture
def keeper(client, world, login):
    login(world["users"]["keeper"])
    return client


def test_dashboard_counts_expired_and_expiring(keeper, world):
    body = keeper.get("/dashboard").data.decode()
    # DEP: water 100 (ok), 20 (expires in 20 days, warning 30 → expiring), 5 expired; diesel (no expiry).
    assert 'id="total-locations">1<' in body
    assert 'id="total-lines">2<' in body
    assert 'id="total-expired">1<' in body
    assert 'id="total-expiring">1<' in body


def test_location_page_shows_usable_stock_without_expired(keeper, world):
    body = keeper.get("/locations/DEP").data.decode()
    assert "瓶装饮用水" in body and "120" in body and "50.5" in body
    assert "W-OLD" in body and "status-row-expired" in body and "status-row-expiring" in body


def test_batch_page_shows_history(keeper, world):
    body = keeper.get(f"/batches/{world['batch'].id}").data.decode()
    assert "W-2026" in body and world["batch"].label_code in body and "RK-" in body


def test_receive_form_books_several_lines(keeper, world):
    data = {
        "request_token": "t-rcv-1", "source": "purchase", "supplier": "供应商甲", "external_ref": "SH-001",
        "lines-0-item_id": str(world["water"].id), "lines-0-quantity": "24", "lines-0-lot_number": "NEW-1",
        "lines-0-expires_on": (TODAY + dt.timedelta(days=337)).isoformat(),
        "lines-1-item_id": str(world["diesel"].id), "lines-1-quantity": "12.5", "lines-1-lot_number": "NEW-2",
    }
    response = keeper.post("/locations/DEP/receive", data=data)
    assert response.status_code == 302
    doc = db.session.scalar(select(Document).where(Document.request_token == "t-rcv-1"))
    assert [(m.batch.lot_number, m.quantity) for m in doc.movements] == [("NEW-1", 24), ("NEW-2", Decimal("12.5"))]
    assert doc.counterparty == "供应商甲" and doc.external_ref == "SH-001"
    page = keeper.get(response.location).data.decode()
    assert doc.number in page and "NEW-2" in page
    # The same post again (double tap, reload) books nothing and leads to the same document.
    before = counts()
    again = keeper.post("/locations/DEP/receive", data=data)
    assert again.status_code == 302 and again.location == response.location
    assert counts() == before


def test_receive_add_line_button_adds_a_line(keeper, world):
    response = keeper.post("/locations/DEP/receive", data={"request_token": "x", "add_line": "1",
                                                           "lines-0-quantity": ""})
    assert response.status_code == 200
    assert 'name="lines-1-quantity"' in response.data.decode()


@pytest.mark.parametrize("line, message", [
    ({"lines-0-quantity": "0"}, "数量必须大于零"),
    ({"lines-0-quantity": "abc"}, "请输入数字"),
    ({"lines-0-quantity": "1.5"}, "只能按整数计量"),
    ({"lines-0-quantity": "3", "lines-0-produced_on": "2026-05-01", "lines-0-expires_on": "2026-04-01"},
     "有效期早于生产日期"),
    ({"lines-0-quantity": "3", "lines-0-expires_on": "2025-01-01"}, "已于 2025-01-01 过期"),
    ({"lines-0-quantity": "3", "lines-0-item_id": "999999"}, "不是有效的选择"),
])
def test_receive_form_rejects_bad_input(keeper, world, line, message):
    before = counts()
    data = {"request_token": "bad", "source": "purchase", "lines-0-item_id": str(world["water"].id)}
    data.update(line)
    response = keeper.post("/locations/DEP/receive", data=data)
    assert response.status_code == 422
    assert message in response.data.decode()
    assert counts() == before


def test_issue_form_fefo_and_override(keeper, world):
    page = keeper.get("/locations/DEP/issue").data.decode()
    assert "近效期先出（推荐）" in page and 'data-item="' in page and "W-OLD" not in page
    response = keeper.post("/locations/DEP/issue", data={
        "request_token": "iss-0", "item_id": str(world["water"].id), "quantity": "1",
        "batch_id": str(world["batch"].id), "recipient": "x", "reason": "y"})
    assert response.status_code == 302
    doc = db.session.scalar(select(Document).where(Document.request_token == "iss-0"))
    assert [(m.batch.lot_number, m.fefo_override) for m in doc.movements] == [("W-2026", True)]
    response = keeper.post("/locations/DEP/issue", data={
        "request_token": "iss-1", "item_id": str(world["water"].id), "quantity": "25",
        "recipient": "菊园居民区", "reason": "防汛演练"})
    assert response.status_code == 302
    doc = db.session.scalar(select(Document).where(Document.request_token == "iss-1"))
    assert [(m.batch.lot_number, m.quantity, m.fefo_override) for m in doc.movements] == [
        ("W-SOON", -20, False), ("W-2026", -5, False)]
    assert doc.counterparty == "菊园居民区" and doc.reason == "防汛演练"


@pytest.mark.parametrize("data, message", [
    ({"quantity": "500", "recipient": "x", "reason": "y"}, "库存不足"),
    ({"quantity": "1", "recipient": "", "reason": "y"}, "该字段是必填字段"),
    ({"quantity": "-1", "recipient": "x", "reason": "y"}, "数量必须大于零"),
])
def test_issue_form_rejects_bad_input(keeper, world, data, message):
    before = counts()
    response = keeper.post("/locations/DEP/issue", data={"request_token": "i", "item_id": str(world["water"].id),
                                                         **data})
    assert response.status_code == 422 and message in response.data.decode()
    assert counts() == before


def test_expired_batch_cannot_be_issued_through_the_batch_form(keeper, world):
    before = counts()
    response = keeper.post(f"/batches/{world['old'].id}/issue",
                           data={"request_token": "o", "quantity": "1", "recipient": "x", "reason": "y"})
    assert response.status_code == 422 and "不能出库，请办理报废" in response.data.decode()
    assert counts() == before


def test_transfer_adjust_dispose_reverse_forms(keeper, world):
    batch = world["batch"]
    r = keeper.post(f"/batches/{batch.id}/transfer", data={
        "request_token": "tr", "to_location_id": str(world["dep2"].id), "quantity": "10", "reason": "补库"})
    assert r.status_code == 302
    r = keeper.post(f"/batches/{batch.id}/adjust", data={
        "request_token": "ad", "direction": "shortage", "quantity": "2", "reason": "盘亏"})
    assert r.status_code == 302
    r = keeper.post(f"/batches/{world['old'].id}/dispose", data={
        "request_token": "ds", "quantity": "5", "reason": "过期报废，已审批"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (batch.quantity, world["old"].quantity) == (88, 0)
    adjust = db.session.scalar(select(Movement).where(Movement.kind == MovementKind.ADJUST))
    assert adjust.quantity == -2
    r = keeper.post(f"/movements/{adjust.id}/reverse", data={"request_token": "rv", "reason": "点错了"})
    assert r.status_code == 302
    db.session.expire_all()
    assert batch.quantity == 90
    before = counts()
    r = keeper.post(f"/movements/{adjust.id}/reverse", data={"request_token": "rv2", "reason": "again"})
    assert r.status_code == 422 and "已冲销过" in r.data.decode()
    assert counts() == before


@pytest.mark.parametrize("url, data, message", [
    ("transfer", {"to_location_id": "", "quantity": "1"}, "该字段是必填字段"),
    ("transfer", {"to_location_id": "DEP", "quantity": "1"}, "不是有效的选择"),
    ("transfer", {"to_location_id": "DEP2", "quantity": "1000"}, "库存不足"),
    ("adjust", {"direction": "surplus", "quantity": "1", "reason": ""}, "该字段是必填字段"),
    ("adjust", {"direction": "shortage", "quantity": "101", "reason": "x"}, "库存不足"),
    ("dispose", {"quantity": "1", "reason": ""}, "该字段是必填字段"),
    ("dispose", {"quantity": "0.5", "reason": "x"}, "只能按整数计量"),
])
def test_batch_forms_reject_bad_input(keeper, world, url, data, message):
    ids = {"DEP": str(world["dep"].id), "DEP2": str(world["dep2"].id)}
    if "to_location_id" in data:
        data["to_location_id"] = ids.get(data["to_location_id"], data["to_location_id"])
    before = counts()
    response = keeper.post(f"/batches/{world['batch'].id}/{url}", data={"request_token": "b", **data})
    assert response.status_code == 422 and message in response.data.decode()
    assert counts() == before


def test_reverse_document_requires_reason(keeper, world):
    doc_id = db.session.scalar(select(Movement.document_id).where(Movement.batch_id == world["fuel"].id))
    before = counts()
    assert keeper.post(f"/documents/{doc_id}/reverse", data={"request_token": "r", "reason": ""}).status_code == 422
    assert counts() == before


def test_names_with_html_are_escaped(keeper, world, f):
    evil = f.item("EVIL", name_zh="<script>alert('x')</script>", spec="<img src=x onerror=alert(1)>")
    f.stock(world["dep"], evil, 3, lot="<b>lot</b>")
    f.commit()
    for url in ("/locations/DEP", f"/items/{evil.code}", "/items?q=EVIL", "/journal", "/locations/DEP/issue"):
        body = keeper.get(url).data.decode()
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>lot</b>" not in body, url
        assert "&lt;script&gt;" in body or "&lt;b&gt;" in body or "&#39;" in body, url


def test_journal_filters_and_exports(keeper, world):
    body = keeper.get(f"/journal?item={world['diesel'].id}").data.decode()
    assert "D-1" in body and "W-2026" not in body
    assert "No movements match" not in body
    assert "没有符合条件的记录" in keeper.get("/journal?date_from=2000-01-01&date_to=2000-01-02").data.decode()
    assert keeper.get("/journal?date_from=2026-02-01&date_to=2026-01-01").status_code == 200
    csv_text = keeper.get(f"/journal.csv?item={world['diesel'].id}").data.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("时间 Time") and len(lines) == 2 and "50.5" in lines[1]
    xlsx = keeper.get("/journal.xlsx").data
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 4  # header + the four receipts at DEP
    assert {r[9] for r in rows[1:]} == {100, 20, 5, 50.5}


def test_login_failures_and_safe_redirects(client, world):
    response = client.post("/login", data={"username": "keeper1", "password": "wrong"})
    assert response.status_code == 401 and "用户名或密码错误" in response.data.decode()
    response = client.post("/login?next=https://evil.example/x",
                           data={"username": "keeper1", "password": "correct horse 1"})
    assert response.location == "/dashboard"
    client.post("/logout")
    response = client.post("/login?next=/journal", data={"username": "keeper1", "password": "correct horse 1"})
    assert response.location == "/journal"


def test_inactive_user_cannot_sign_in(client, world):
    world["users"]["viewer"].active = False
    db.session.commit()
    assert client.post("/login", data={"username": "viewer1", "password": "correct horse 1"}).status_code == 401


def test_security_headers_and_error_pages(keeper):
    response = keeper.get("/dashboard")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    forbidden = keeper.get("/admin/users")
    assert forbidden.status_code == 403 and "无权操作" in forbidden.data.decode()
    assert "未找到" in keeper.get("/batches/424242").data.decode()


def test_csrf_is_enforced_when_enabled(tmp_path, sqlite_template):
    from .conftest import build_app

    (tmp_path / "csrf").mkdir()
    app = build_app("sqlite", tmp_path / "csrf", sqlite_template, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"username": "keeper1", "password": "correct horse 1"})
    assert response.status_code == 400 and "表单已过期" in response.data.decode()


def test_sign_in_is_rate_limited(tmp_path, sqlite_template):
    from .conftest import build_app

    (tmp_path / "rl").mkdir()
    app = build_app("sqlite", tmp_path / "rl", sqlite_template, LOGIN_THROTTLE_ENABLED=True,
                    LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/login", data={"username": "nobody", "password": "x"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert client.get("/login").status_code == 200  # reading the page is not limited


def test_admin_creates_a_keeper_and_rejects_bad_input(client, world, login):
    login(world["users"]["admin"])
    bad = client.post("/admin/users/new", data={"username": "k2", "password": "short", "role": "keeper"})
    assert bad.status_code == 422
    bad = client.post("/admin/users/new", data={"username": "k2", "password": "long enough 1", "role": "keeper"})
    assert bad.status_code == 422 and "至少需要分配一个库点" in bad.data.decode()
    ok = client.post("/admin/users/new", data={"username": "k2", "password": "long enough 1", "role": "keeper",
                                               "locations": [str(world["dep2"].id)]})
    assert ok.status_code == 302
    me = world["users"]["admin"]
    selfdemote = client.post(f"/admin/users/{me.id}", data={"role": "viewer", "active": "y"})
    assert selfdemote.status_code == 422 and "不能取消自己的管理员权限" in selfdemote.data.decode()


def test_admin_import_checks_then_imports(client, world, login):
    login(world["users"]["admin"])
    csv_bytes = "物资编码,品名,计量单位,分类编码\nNEW1,新物资,个,1000000\nBAD,,个,1000000\n".encode()
    r = client.post("/admin/import", data={"kind": "items", "file": (io.BytesIO(csv_bytes), "items.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "未导入任何数据" in r.data.decode()
    good = "物资编码,品名,计量单位,分类编码\nNEW1,新物资,个,1000000\n".encode()
    r = client.post("/admin/import", data={"kind": "items", "file": (io.BytesIO(good), "items.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "校验通过" in r.data.decode()
    r = client.post("/admin/import", data={"kind": "items", "confirm": "y",
                                           "file": (io.BytesIO(good), "items.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "已导入" in r.data.decode()


# --------------------------------------------------------------------------- query counts


@pytest.fixture
def query_counter(app):
    """``with query_counter() as n: ...`` counts SQL statements; read ``n[0]``."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        box = [0]

        def count(*_args):
            box[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            yield box
        finally:
            event.remove(db.engine, "before_cursor_execute", count)

    return counting


_grown = iter(range(1, 10_000))


def _grow(f, world, locations: int, per_location: int):
    items = [world["water"], world["diesel"], world["hood"]]
    made = []
    for _ in range(locations):
        loc = f.location(f"G{next(_grown):04d}")
        for j in range(per_location):
            f.stock(loc, items[j % 3], 5 + j, expires_on=TODAY + dt.timedelta(days=10 * j - 5), allow_expired=True,
                    days_ago=30)
        made.append(loc)
    f.commit()
    return made


def test_dashboard_and_location_pages_use_constant_queries(client, world, login, f, query_counter):
    login(world["users"]["admin"])
    _grow(f, world, 10, 3)
    with query_counter() as small_dash:
        client.get("/dashboard")
    with query_counter() as small_list:
        client.get("/locations")
    small_url = f"/locations/{_grow(f, world, 1, 3)[0].code}"
    with query_counter() as small_detail:
        assert client.get(small_url).status_code == 200
    _grow(f, world, 90, 3)
    big_url = f"/locations/{_grow(f, world, 1, 30)[0].code}"
    with query_counter() as big_dash:
        body = client.get("/dashboard").data.decode()
    assert body.count("/locations/G") >= 100
    with query_counter() as big_list:
        client.get("/locations")
    with query_counter() as big_detail:
        body = client.get(big_url).data.decode()
    assert body.count("batch-row") == 30
    assert small_dash[0] == big_dash[0]
    assert small_list[0] == big_list[0]
    assert small_detail[0] == big_detail[0]
    # user, locations, near-expiry lead days, stock summary, conformity chart (4), open-alert count
    assert big_dash[0] <= 9


def test_location_page_can_show_only_problems(keeper, world):
    body = keeper.get("/locations/DEP?show=problems").data.decode()
    assert "瓶装饮用水" in body and "柴油" not in body
    assert 'data-filter=".stock-item"' in body
    assert "无有效期" in keeper.get("/locations/DEP").data.decode()


# --------------------------------------------------------------------------- findings of the newcomer walkthrough


def test_no_one_moves_stock_into_civil_defence_without_the_right(client, world, login):
    before = counts()
    for who in ("admin", "keeper"):
        login(world["users"][who])
        page = client.get(f"/batches/{world['batch'].id}/transfer").data.decode()
        assert "民防应急物资仓库" not in page
        r = client.post(f"/batches/{world['batch'].id}/transfer", data={
            "request_token": f"mf-{who}", "to_location_id": str(world["mf"].id), "quantity": "1"})
        assert r.status_code == 422 and "不是有效的选择" in r.data.decode()
    assert counts() == before
    # The warehouse's own keeper may send stock out of it; reversing that transfer changes
    # civil-defence stock, so the office may not reverse it.
    login(world["users"]["mf_keeper"])
    r = client.post(f"/batches/{world['mf_batch'].id}/transfer", data={
        "request_token": "mf-out", "to_location_id": str(world["dep"].id), "quantity": "2"})
    assert r.status_code == 302
    doc_id = int(r.location.rsplit("/", 1)[1])
    login(world["users"]["admin"])
    assert client.get(f"/documents/{doc_id}/reverse").status_code == 403
    login(world["users"]["mf_keeper"])
    assert client.get(f"/documents/{doc_id}/reverse").status_code == 200


def test_transfer_order_is_visible_at_the_receiving_point_without_dead_links(client, world, login):
    login(world["users"]["keeper"])
    r = client.post(f"/batches/{world['batch'].id}/transfer", data={
        "request_token": "to-res", "to_location_id": str(world["res"].id), "quantity": "3"})
    doc_id = int(r.location.rsplit("/", 1)[1])
    login(world["users"]["residential"])
    assert client.get(f"/documents/{doc_id}").status_code == 200
    split = db.session.scalar(select(Batch).where(Batch.location_id == world["res"].id,
                                                  Batch.lot_number == "W-2026"))
    page = client.get(f"/batches/{split.id}").data.decode()
    assert f"/documents/{doc_id}" in page and "/reverse" not in page  # reversal belongs to the sender
    assert client.get(f"/documents/{doc_id}/reverse").status_code == 404


def test_spreadsheet_exports_neutralise_formulas(keeper, world):
    keeper.post("/locations/DEP/receive", data={
        "request_token": "f1", "source": "purchase", "supplier": '=HYPERLINK("http://evil.example","x")',
        "reason": "+1+1", "lines-0-item_id": str(world["hood"].id), "lines-0-quantity": "2",
        "lines-0-lot_number": "@lot"})
    csv_text = keeper.get("/journal.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "'+1+1" in csv_text and "'@lot" in csv_text
    xlsx = keeper.get("/journal.xlsx").data
    cells = [c for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert keeper.get("/journal.csv").headers["Content-Type"] == "text/csv; charset=utf-8"


def test_form_refuses_a_decimal_comma_and_summarises_errors(keeper, world):
    before = counts()
    r = keeper.post("/locations/DEP/receive", data={
        "request_token": "c1", "source": "purchase", "lines-0-item_id": str(world["water"].id),
        "lines-0-quantity": "1,00"})
    body = r.data.decode()
    assert r.status_code == 422 and "逗号只能用作千位分隔" in body
    assert body.index('id="form-error-summary"') < body.index('name="lines-0-quantity"')
    summary = body.split('id="form-error-summary"')[1].split("</div>\n</div>")[0]
    assert '<a class="alert-link" href="#lines-0-quantity">数量 (第 1 行)</a>：' in summary, summary
    assert counts() == before


@pytest.mark.parametrize("typed, expected", [("1,000", 1000), ("１，２００箱", 1200), ("300 箱", 300)])
def test_receipt_form_reads_thousands_full_width_and_the_unit(keeper, world, typed, expected):
    r = keeper.post("/locations/DEP/receive", data={
        "request_token": f"q-{expected}", "source": "purchase", "lines-0-item_id": str(world["water"].id),
        "lines-0-quantity": typed, "lines-0-lot_number": "NEW"})
    assert r.status_code == 302, r.data.decode()[:600]
    db.session.expire_all()
    batch = db.session.scalar(select(Batch).where(Batch.lot_number == "NEW"))
    assert batch.quantity == expected


def test_a_refused_receipt_line_is_named_once(keeper, world):
    before = counts()
    r = keeper.post("/locations/DEP/receive", data={
        "request_token": "c2", "source": "purchase",
        "lines-0-item_id": str(world["water"].id), "lines-0-quantity": "3",
        "lines-1-item_id": str(world["water"].id), "lines-1-quantity": "2",
        "lines-1-expires_on": "2020-01-01"})
    body = r.data.decode()
    assert r.status_code == 422 and counts() == before
    summary = body.split('id="form-error-summary"')[1].split("</div>\n</div>")[0]
    assert '有效期至 (第 2 行)</a>：该批次已于 2020-01-01 过期。' in summary, summary
    assert "第 2 行：" not in body  # the line is named by the summary, not repeated in the message


def test_already_reversed_movement_shows_no_form(keeper, world):
    mv = db.session.scalar(select(Movement).where(Movement.batch_id == world["fuel"].id))
    assert keeper.post(f"/movements/{mv.id}/reverse", data={"request_token": "r1", "reason": "x"}).status_code == 302
    page = keeper.get(f"/movements/{mv.id}/reverse").data.decode()
    assert "该记录已冲销过" in page and 'name="reason"' not in page
    r = keeper.post(f"/movements/{mv.id}/reverse", data={"request_token": "r2", "reason": "again"})
    body = r.data.decode()
    assert r.status_code == 422 and "该记录已冲销过" in body and "该表单已提交过" not in body


def test_adjust_direction_must_be_chosen(keeper, world):
    before = counts()
    r = keeper.post(f"/batches/{world['batch'].id}/adjust", data={"request_token": "a", "quantity": "1",
                                                                   "reason": "count"})
    assert r.status_code == 422 and counts() == before


def test_batch_page_speaks_chinese(keeper, world):
    body = keeper.get(f"/batches/{world['batch'].id}").data.decode()
    assert "采购" in body and ">purchase<" not in body


def test_successful_sign_ins_do_not_use_up_the_limit(tmp_path, sqlite_template):
    from inventory.admin.services import create_user

    from .conftest import build_app

    (tmp_path / "rl2").mkdir()
    app = build_app("sqlite", tmp_path / "rl2", sqlite_template, LOGIN_THROTTLE_ENABLED=True,
                    LOGIN_RATE_LIMIT="3 per hour")
    with app.app_context():
        create_user(username="kp", password="correct horse 1", role="admin")
        db.session.commit()
    client = app.test_client()
    for _ in range(6):
        assert client.post("/login", data={"username": "kp", "password": "correct horse 1"}).status_code == 302
        client.post("/logout")
    codes = [client.post("/login", data={"username": "kp", "password": "bad"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    page = client.post("/login", data={"username": "kp", "password": "bad"}).data.decode()
    assert "请等待" in page and "分钟后再试" in page
    # Another user at the same address is not locked out by kp's failures.
    assert client.post("/login", data={"username": "other", "password": "bad"}).status_code == 401


def test_roles_are_only_assigned_to_locations_they_work_at(client, world, login):
    login(world["users"]["admin"])
    r = client.post("/admin/users/new", data={"username": "wz2", "password": "long enough 1",
                                              "role": "civil_defence", "locations": [str(world["dep"].id)]})
    assert r.status_code == 422 and "不能分配到 DEP" in r.data.decode()
    r = client.post("/admin/users/new", data={"username": "rs2", "password": "long enough 1",
                                              "role": "residential", "locations": [str(world["mf"].id)]})
    assert r.status_code == 422
    r = client.post("/admin/users/new", data={"username": "wz3", "password": "long enough 1",
                                              "role": "civil_defence", "locations": [str(world["mf"].id)]})
    assert r.status_code == 302
