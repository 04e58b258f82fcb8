"""CSV/XLSX import: dry runs, row-level errors, all-or-nothing, set semantics for stock."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.stock.models import Batch, Item, Location, Movement, MovementKind
from inventory.stock.services import imports as importer

pytestmark = pytest.mark.usefixtures("english")

ITEMS_CSV = """物资编码,品名,规格型号,计量单位,小数位数,分类编码,保质期天数,临期预警天数,检查周期天数
W1,瓶装水,550 mL×24,箱,0,1000000,365,60,
D1,柴油,0 号,L,1,2000000,365,30,
EX1,灭火器,MFZ/ABC4,具,0,2000000,3650,180,30
"""


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _items(f):
    f.commit()
    report = importer.import_items("items.csv", ITEMS_CSV.encode(), dry_run=False)
    assert report.ok, report.errors
    db.session.commit()


def test_items_import_creates_then_updates(app, f):
    f.commit()
    report = importer.import_items("items.csv", ITEMS_CSV.encode("utf-8-sig"), dry_run=True)
    assert report.ok and report.counts() == {"create": 3} and not report.applied
    db.session.rollback()
    assert db.session.scalar(select(func.count(Item.id))) == 0
    _items(f)
    ex = db.session.scalar(select(Item).where(Item.code == "EX1"))
    assert (ex.unit, ex.inspection_interval_days, ex.is_equipment) == ("具", 30, True)
    again = importer.import_items("items.csv", ITEMS_CSV.replace("瓶装水", "饮用水").encode(), dry_run=False)
    db.session.commit()
    assert again.counts() == {"update": 3}
    assert db.session.scalar(select(Item.name_zh).where(Item.code == "W1")) == "饮用水"


def test_bad_rows_are_all_reported_and_nothing_is_imported(app, f):
    f.commit()
    bad = (ITEMS_CSV
           + "W2,,1L,瓶,0,1000000,,,\n"              # row 5: no name
           + "W3,水,1L,瓶,5,1000000,,,\n"            # row 6: precision
           + "W4,水,1L,瓶,0,4000000,,,\n"            # row 7: category code
           + "W1,重复,1L,瓶,0,1000000,,,\n"          # row 8: duplicate of row 2
           + "W5,水,1L,瓶,0,1000000,abc,,\n")        # row 9: not a number
    report = importer.import_items("items.csv", bad.encode(), dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [
        (5, "name_zh"), (6, "unit_precision"), (7, "category_code"), (8, "code"), (9, "shelf_life_days")]
    assert "Duplicate of row 2" in report.errors[3].message
    assert not report.applied and report.results == []
    db.session.rollback()
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_xlsx_locations_with_chinese_kinds(app, f):
    f.commit()
    data = _xlsx([
        ["库点编码", "类型", "名称", "服务居民数", "协议到期日"],
        ["HS", "储备库", "海尚源深", None, None],
        ["R1", "居民区储备点", "菊园居民区储备点", 3200, None],
        ["A1", "协议储备", "某超市", None, "2027-01-31"],
        ["BAD", "仓库", "未知类型", None, None],
        ["R2", "residential", "某居民区", -5, None],
    ])
    report = importer.import_locations("loc.xlsx", data, dry_run=False)
    assert [(e.row, e.column) for e in report.errors] == [(5, "kind"), (6, "residents_served")]
    db.session.rollback()
    good = importer.import_locations("loc.xlsx", _xlsx([
        ["库点编码", "类型", "名称", "服务居民数", "协议到期日"],
        ["R1", "居民区储备点", "菊园居民区储备点", 3200, None],
        ["A1", "协议储备", "某超市", None, "2027/1/31"]]), dry_run=False)
    db.session.commit()
    assert good.counts() == {"create": 2}
    a1 = db.session.scalar(select(Location).where(Location.code == "A1"))
    assert a1.kind.value == "agreement" and str(a1.contract_ends_on) == "2027-01-31"


def test_stock_import_sets_quantities_instead_of_adding(app, f, today):
    _items(f)
    f.location("HS")
    f.commit()
    user = f.system()
    csv1 = ("库点编码,物资编码,批号,数量,生产日期,有效期至,入库日期\n"
            "HS,W1,L1,100,2026-01-01,2027-01-01,2026-02-01\n"
            "HS,D1,D-1,250.5,2026-01-10,,\n"
            "HS,W1,OLD,3,2024-01-01,2025-01-01,2024-02-01\n")
    r1 = importer.import_stock("s.csv", csv1.encode(), user=user, today=today, dry_run=False)
    db.session.commit()
    assert r1.counts() == {"receive": 3}
    csv2 = ("库点编码,物资编码,批号,数量\n"
            "HS,W1,L1,80\n"       # set 100 -> 80
            "HS,D1,D-1,250.5\n"   # unchanged
            "HS,W1,OLD,0\n")      # all gone
    dry = importer.import_stock("s.csv", csv2.encode(), user=user, today=today, dry_run=True)
    assert [(r.action, r.detail) for r in dry.results] == [
        ("adjust", "HS W1 -20"), ("unchanged", "HS D1"), ("adjust", "HS W1 -3")]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Movement.id))) == 3
    r2 = importer.import_stock("s.csv", csv2.encode(), user=user, today=today, dry_run=False)
    db.session.commit()
    assert r2.counts() == {"adjust": 2, "unchanged": 1}
    quantities = dict(db.session.execute(select(Batch.lot_number, Batch.quantity)).all())
    assert quantities == {"L1": Decimal(80), "D-1": Decimal("250.5"), "OLD": Decimal(0)}
    kinds = [k for k in db.session.scalars(select(Movement.kind).order_by(Movement.id))]
    assert kinds == [MovementKind.RECEIVE] * 3 + [MovementKind.ADJUST] * 2


def test_stock_import_rejects_bad_rows_whole(app, f, today):
    _items(f)
    f.location("HS")
    f.commit()
    bad = ("库点编码,物资编码,批号,数量,生产日期,有效期至,入库日期\n"
           "HS,W1,L1,10,2026-01-01,,\n"
           "XX,W1,L2,10,,,\n"                        # unknown location
           "HS,W1,L3,1.5,,,\n"                       # precision
           "HS,D1,L4,-2,,,\n"                        # negative
           "HS,W1,L5,10,2026-05-01,2026-04-01,\n"    # expiry before production
           "HS,W1,L1,4,,,\n"                         # same lot twice
           "HS,W1,L6,10,,,2099-01-01\n"              # future receipt
           "HS,W1,L7,0,,,\n"                         # zero for a new lot
           "HS,D1,L8,5,,,\n")                        # shelf life but no dates
    report = importer.import_stock("s.csv", bad.encode(), user=f.system(), today=today, dry_run=False)
    assert [e.row for e in report.errors] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert report.errors[-1].column == "expires_on" and "shelf life" in report.errors[-1].message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_file_level_errors(app, f):
    f.commit()
    with pytest.raises(importer.ImportFileError, match="Missing column"):
        importer.import_items("x.csv", "物资编码,品名\nA,B\n".encode(), dry_run=True)
    with pytest.raises(InvalidInput, match="Unsupported file type"):
        importer.import_items("x.txt", b"a", dry_run=True)
    with pytest.raises(InvalidInput, match="not a readable XLSX"):
        importer.import_items("x.xlsx", b"not a zip", dry_run=True)
    gbk = ITEMS_CSV.encode("gb18030")
    assert importer.import_items("x.csv", gbk, dry_run=True).counts() == {"create": 3}


def test_import_cli(app, f, tmp_path):
    f.commit()
    good = tmp_path / "items.csv"
    good.write_text(ITEMS_CSV, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(ITEMS_CSV + "W9,,x,瓶,0,1000000,,,\n", encoding="utf-8")
    runner = app.test_cli_runner()
    out = runner.invoke(args=["import", "items", str(bad)])
    assert out.exit_code == 1 and "row 5 [name_zh]" in out.output
    out = runner.invoke(args=["import", "items", str(good), "--dry-run"])
    assert out.exit_code == 0 and "Dry run OK (create 3)" in out.output
    assert db.session.scalar(select(func.count(Item.id))) == 0
    out = runner.invoke(args=["import", "items", str(good)])
    assert out.exit_code == 0 and "create 3" in out.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Item.id))) == 3
