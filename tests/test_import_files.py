"""Imports of real, hand-kept files: the morning of the day of receipt, dry runs that meet the
real checks, headers with byte-order marks, spaces and full-width brackets, title rows above
the header, blank, total and subtotal rows, dates as Excel serials or Chinese text, and bad
files refused with their row number, never with a server error."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from flask import current_app
from openpyxl import Workbook
from sqlalchemy import func, select

from inventory.core import clock
from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.stock.models import Batch, Item, Movement
from inventory.stock.services import imports as importer
from inventory.stock.services import ledger

from .conftest import SHANGHAI, TODAY

EXCEL_EPOCH = dt.date(1899, 12, 30)


def _xlsx(rows, merge: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Item, Batch, Movement))


@pytest.fixture
def stock_world(any_app, f):
    """Depot HS; items W1 (箱, whole units), D1 (L, one decimal) and B1 (瓶)."""
    f.location("HS")
    f.item("W1", name_zh="瓶装饮用水", unit="箱")
    f.item("D1", name_zh="柴油", unit="L", unit_precision=1)
    f.item("B1", name_zh="矿泉水", unit="瓶")
    f.commit()
    return f


# --------------------------------------------------------------------------- received today, dry run


def test_lot_received_today_imports_in_the_morning(stock_world, frozen_clock):
    """At 08:00 a new lot received today is booked now, not at 12:00 (in the future); the dry
    run and the real import agree."""
    frozen_clock.move_to(dt.datetime.combine(TODAY, dt.time(8, 0), tzinfo=SHANGHAI))
    body = ("库点编码,物资编码,批号,数量,入库日期\n"
            f"HS,W1,T1,10,{TODAY.isoformat()}\n"
            "HS,W1,T2,5,\n"                                        # no date: received today
            f"HS,W1,P1,3,{(TODAY - dt.timedelta(days=2)).isoformat()}\n").encode()
    user = stock_world.system()
    dry = importer.import_stock("s.csv", body, user=user, today=TODAY, dry_run=True)
    assert dry.ok and [r.action for r in dry.results] == ["receive"] * 3
    db.session.commit()  # even a commit after the dry run keeps nothing
    assert _counts()[1:] == (0, 0)
    report = importer.import_stock("s.csv", body, user=user, today=TODAY, dry_run=False)
    assert report.ok and report.applied, report.errors
    db.session.commit()
    booked = {b.lot_number: b for b in db.session.scalars(select(Batch))}
    assert {lot: b.received_on for lot, b in booked.items()} == {
        "T1": TODAY, "T2": TODAY, "P1": TODAY - dt.timedelta(days=2)}
    times = {m.batch.lot_number: clock.to_local(m.occurred_at) for m in db.session.scalars(select(Movement))}
    assert times["T1"].date() == TODAY and times["T1"].hour == 8
    assert times["P1"].time() == dt.time(12, 0)  # an earlier day keeps its noon stamp


def test_received_at_is_noon_or_now_whichever_is_earlier(app, frozen_clock):
    frozen_clock.move_to(dt.datetime.combine(TODAY, dt.time(8, 0), tzinfo=SHANGHAI))
    assert clock.to_local(importer.received_at(TODAY)).time().hour == 8
    assert clock.to_local(importer.received_at(TODAY - dt.timedelta(days=1))).time() == dt.time(12, 0)
    frozen_clock.move_to(dt.datetime.combine(TODAY, dt.time(15, 0), tzinfo=SHANGHAI))
    assert clock.to_local(importer.received_at(TODAY)).time() == dt.time(12, 0)


def test_dry_run_meets_the_ledgers_own_checks(stock_world, monkeypatch):
    """The dry run books for real inside a savepoint: a refusal that only the ledger makes
    shows in the dry run with its row, and nothing is kept."""
    body = "库点编码,物资编码,批号,数量\nHS,W1,A,10\nHS,W1,B,10\n".encode()
    real_receive = ledger.receive

    def picky_receive(**kw):
        if kw["lines"][0].lot_number == "B":
            raise InvalidInput("refused by the ledger", field="occurred_at")
        return real_receive(**kw)

    monkeypatch.setattr(ledger, "receive", picky_receive)
    dry = importer.import_stock("s.csv", body, user=stock_world.system(), today=TODAY, dry_run=True)
    assert [(e.row, e.column, e.message) for e in dry.errors] == [(3, "occurred_at", "refused by the ledger")]
    assert not dry.applied and dry.results == []
    db.session.commit()
    assert _counts()[1:] == (0, 0)


def test_dry_run_of_items_changes_nothing_even_if_committed(any_app, f):
    f.commit()
    body = "物资编码,品名,计量单位,分类编码\nN1,新物资,个,1000000\n".encode()
    report = importer.import_items("i.csv", body, dry_run=True)
    assert report.ok and report.counts() == {"create": 1} and not report.applied
    db.session.commit()
    assert db.session.scalar(select(func.count(Item.id))) == 0


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("captions", [
    ["\ufeff库点编码", " 物资编码 ", "\u3000批号\u3000", "数量（箱）"],
    ["库点编码", "物资编码", "批号", "数量(箱)"],
    ["\ufeffLocation_Code", "ITEM_CODE", "lot_number", " 数 量 "],
])
def test_headers_with_bom_spaces_and_full_width_brackets_are_found(stock_world, captions):
    for name, body in (("s.xlsx", _xlsx([captions, ["HS", "W1", "L1", 4]])),
                       ("s.csv", (",".join(captions) + "\nHS,W1,L1,4\n").encode("utf-8-sig"))):
        report = importer.import_stock(name, body, user=stock_world.system(), today=TODAY, dry_run=True)
        assert report.ok, (name, report.errors)
        assert [(r.row, r.action, r.detail) for r in report.results] == [(2, "receive", "HS W1 +4")]


def test_a_unit_in_the_quantity_header_must_be_the_items(stock_world):
    body = _xlsx([["库点编码", "物资编码", "批号", "数量（瓶）"], ["HS", "B1", "b", 6], ["HS", "W1", "w", 2]])
    report = importer.import_stock("s.xlsx", body, user=stock_world.system(), today=TODAY, dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(3, "quantity")]
    assert report.errors[0].message == "数量列的单位是瓶，但 W1 的计量单位是箱。"


def test_missing_column_is_still_named(stock_world):
    with pytest.raises(importer.ImportFileError, match="缺少列：数量"):
        importer.import_stock("s.xlsx", _xlsx([["标题"], ["库点编码", "物资编码", "批号"], ["HS", "W1", "x"]]),
                              user=stock_world.system(), today=TODAY, dry_run=True)


# --------------------------------------------------------------------------- hand-kept workbooks


def _ledger_workbook(received: dt.date) -> bytes:
    """A keeper's own workbook: a merged title, a date line, a blank row, the header in row 4,
    blank rows, a subtotal and a total; dates in five spellings."""
    expires = received + dt.timedelta(days=700)
    serial = (received - EXCEL_EPOCH).days
    return _xlsx([
        ["陆家嘴街道应急物资台账", None, None, None, None, None, None, None],
        [f"制表日期：{received.year}年{received.month}月"],
        [],
        ["序号", "库点编码", "物资编码", "批号", "数量（箱）", "生产日期", "有效期至", "入库日期"],
        [1, "HS", "W1", "L1", 100, serial, f"{expires.year}/{expires.month}/{expires.day}",
         f"{received.year}年{received.month}月{received.day}日"],
        [],
        [2, "HS", "W1", "L2", 50, received.strftime("%Y%m%d"), expires, str(serial)],
        ["小计", None, None, None, 150],
        [None, None, None, None, None, None, None, None],
        [3, "HS", "W1", "L3", 20, None, None, received.isoformat()],
        ["合 计", None, None, None, 170],
        ["制表人：张三"],
    ], merge="A1:H1")


def test_hand_kept_workbook_imports_each_row_or_says_why_not(stock_world):
    received = TODAY - dt.timedelta(days=200)
    body = _ledger_workbook(received)
    user = stock_world.system()
    dry = importer.import_stock("台账.xlsx", body, user=user, today=TODAY, dry_run=True)
    assert dry.ok, dry.errors
    assert dry.header_row == 4
    assert [(r.row, r.action) for r in dry.results] == [
        (5, "receive"), (7, "receive"), (8, "skip"), (10, "receive"), (11, "skip"), (12, "skip")]
    assert dry.results[2].detail == "合计或小计行：不导入。" and dry.results[5].detail == "导入的各列均为空。"
    report = importer.import_stock("台账.xlsx", body, user=user, today=TODAY, dry_run=False)
    assert report.ok and report.applied
    db.session.commit()
    batches = {b.lot_number: (b.quantity, b.produced_on, b.expires_on, b.received_on)
               for b in db.session.scalars(select(Batch))}
    expires = received + dt.timedelta(days=700)
    assert batches == {"L1": (Decimal(100), received, expires, received),
                       "L2": (Decimal(50), received, expires, received),
                       "L3": (Decimal(20), None, None, received)}


def test_bad_row_in_a_titled_workbook_is_refused_by_its_own_row_number(stock_world):
    rows = [["陆家嘴街道应急物资台账"], [], ["库点编码", "物资编码", "批号", "数量", "生产日期"],
            ["HS", "W1", "ok", 1, TODAY - dt.timedelta(days=30)],
            ["HS", "W1", "bad", 1, f"{TODAY.year}-02-30"],
            ["HS", "W1", "bad2", 1, "2026"]]
    report = importer.import_stock("s.xlsx", _xlsx(rows), user=stock_world.system(), today=TODAY, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(5, "produced_on"), (6, "produced_on")]
    assert not report.applied
    db.session.rollback()
    assert _counts()[1] == 0


def test_leading_blank_rows_keep_excel_row_numbers(stock_world):
    """A sheet whose first cells start in row 3 (openpyxl's read-only mode would begin there)."""
    wb = Workbook()
    ws = wb.active
    for col, caption in enumerate(["库点编码", "物资编码", "批号", "数量"], start=2):
        ws.cell(row=3, column=col, value=caption)
    for col, value in enumerate(["XX", "W1", "a", 1], start=2):
        ws.cell(row=5, column=col, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    report = importer.import_stock("s.xlsx", buf.getvalue(), user=stock_world.system(), today=TODAY, dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(5, "location_code")]


@pytest.mark.parametrize("value, expected", [
    (46086, dt.date(2026, 3, 5)), (46086.0, dt.date(2026, 3, 5)), ("46086", dt.date(2026, 3, 5)),
    ("2026/3/5", dt.date(2026, 3, 5)), ("2026年3月5日", dt.date(2026, 3, 5)), ("20260305", dt.date(2026, 3, 5)),
    ("2026-03-05", dt.date(2026, 3, 5)), ("2026.3.5", dt.date(2026, 3, 5)), ("２０２６年３月５日", dt.date(2026, 3, 5)),
    ("2026-03-05 00:00:00", dt.date(2026, 3, 5)), (dt.datetime(2026, 3, 5, 0, 0), dt.date(2026, 3, 5)),
    (None, None), ("  ", None),
])
def test_date_cells(app, value, expected):
    assert importer._date(value, "produced_on") == expected


@pytest.mark.parametrize("value", ["2026", "2026-02-30", "20261305", "3/5/2026", "soon", 12, "99999999999"])
def test_impossible_dates_are_refused(app, value):
    with pytest.raises(InvalidInput) as err:
        importer._date(value, "produced_on")
    assert err.value.field == "produced_on"


# --------------------------------------------------------------------------- never a 500


@pytest.fixture
def admin(client, app, f, login):
    f.location("HS")
    f.item("W1", unit="箱")
    user = f.user("admin", username="office1")
    f.commit()
    login(user)
    return client


def _post(client, name: str, body: bytes, kind: str = "items", confirm: bool = False):
    data = {"kind": kind, "file": (io.BytesIO(body), name)}
    if confirm:
        data["confirm"] = "y"
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("name, body, message", [
    ("x.csv", "code,name_zh,unit\nA,B,C\n".encode("utf-16-le"), "无法读取该 CSV 文件。"),  # NUL bytes
    ("x.csv", ("物资编码,品名\n\"" + "x" * 200_000 + "\"\n").encode(), "无法读取该 CSV 文件。"),
    ("x.xlsx", b"PK\x03\x04 broken", "无法读取该 XLSX 工作簿。"),
    ("x.csv", "标题\n\n".encode(), "缺少列"),
])
def test_unreadable_files_get_a_message_not_a_server_error(admin, name, body, message):
    before = _counts()
    response = _post(admin, name, body, confirm=True)
    assert response.status_code == 422 and message in response.data.decode()
    db.session.expire_all()
    assert _counts() == before


def test_rows_the_database_would_refuse_are_reported_by_row(admin):
    head = "物资编码,品名,计量单位,分类编码,保质期天数,检查周期天数\n"
    body = (head + "N1,好物资,个,1000000,365,\n"
            + "N2,太大,个,1000000,inf,\n"
            + "N3,太大,个,1000000,99999999999,\n"
            + f"N4,{'长' * 121},个,1000000,,\n"
            + "N5,十进制,个,1000000,1e3,\n").encode()
    before = _counts()
    response = _post(admin, "items.csv", body, confirm=True)
    page = response.data.decode()
    assert response.status_code == 422 and "4 行有误" in page
    for text in ("inf 不是整数", "99999999999 太大", "过长：最多 120 个字符", "1e3 不是整数"):
        assert text in page, text
    db.session.expire_all()
    assert _counts() == before


def test_preview_lists_skipped_rows_with_their_reason(admin):
    body = _xlsx([["陆家嘴街道应急物资台账"], ["库点编码", "物资编码", "批号", "数量"], ["HS", "W1", "a", 3],
                  ["合计", None, None, 3]], merge="A1:D1")
    response = _post(admin, "s.xlsx", body, kind="stock")
    page = response.data.decode()
    assert response.status_code == 200, page[:2000]
    assert "跳过" in page and "合计或小计行：不导入。" in page
    assert "表头在第 2 行" in page


def test_cli_dry_run_names_the_header_and_skipped_rows(stock_world, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_ledger_workbook(TODAY - dt.timedelta(days=200)))
    out = current_app.test_cli_runner().invoke(args=["import", "stock", str(path), "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "Header in row 4" in out.output
    assert "row 8 skipped: 合计或小计行：不导入。" in out.output and "row 11 skipped" in out.output
    assert "Dry run OK (receive 3, skip 3)" in out.output
    assert _counts()[1] == 0
