"""One definition of near expiry (inventory/stock/services/expiry.py): the batch page, the scan page,
the location page, the dashboard count, the alert centre and the gap report agree for the same
batches; and the expiry date derived from a shelf life."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.alerts.models import Alert
from inventory.alerts.services import rules as alerts
from inventory.alerts.services import runs as alert_runs
from inventory.core.db import db
from inventory.standards.services import gaps as standards
from inventory.standards.services import lists as standard_lists
from inventory.standards.services.lists import LineData, ListData
from inventory.stock.services import expiry
from inventory.users.services.accounts import get_system_user
from inventory.web.i18n_catalog import compile_catalogues

from .conftest import TODAY

D = Decimal


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def shelf(app, f):
    """A depot with four batches of three items:

    * FOOD (category 1010000, inherits 90/30/7 from 1000000; item warning 30 days): 85 days
      left → near expiry (the category's 90 days win), and 95 days left → fine;
    * TOOL (category 2000000, no list; item warning 20 days): 25 days left → fine;
    * MASK (category 2000000; item warning 30 days): 25 days left → near expiry.
    """
    compile_catalogues()
    alerts.set_category_lead_days("1000000", "90,30,7")
    from inventory.stock.models import Category

    db.session.add(Category(code="1010000", name_zh="食品类"))
    db.session.flush()
    food = f.item("FOOD", name_zh="压缩饼干", category_code="1010000", warning_days=30)
    tool = f.item("TOOL", name_zh="应急灯", category_code="2000000", warning_days=20)
    mask = f.item("MASK", name_zh="医用外科口罩", category_code="2000000", warning_days=30)
    dep = f.location("DEP", name_zh="海尚源深储备库")
    b = dict(food85=f.stock(dep, food, 10, expires_on=days(85), lot="F-85"),
             food95=f.stock(dep, food, 11, expires_on=days(95), lot="F-95"),
             tool25=f.stock(dep, tool, 12, expires_on=days(25), lot="T-25"),
             mask25=f.stock(dep, mask, 13, expires_on=days(25), lot="M-25"))
    standard_lists.save_version(ListData(
        code="DEP-LIST", name_zh="库点清单", effective_on=days(-10), authority="local", location_kind="depot",
        lines=[LineData("FOOD", D(10), "absolute", 80), LineData("TOOL", D(1), "absolute", 80),
               LineData("MASK", D(1), "absolute", 80)]), user=get_system_user())
    admin = f.user("admin", username="office1")
    f.commit()
    return dict(dep=dep, food=food, tool=tool, mask=mask, admin=admin, **b)


NEAR = {"food85", "mask25"}
FINE = {"food95", "tool25"}


def test_the_rule_category_lead_days_first_then_the_item(shelf):
    windows = expiry.expiry_windows()
    got = {k: expiry.assess(shelf[k], TODAY, windows) for k in NEAR | FINE}
    assert {k: a.status for k, a in got.items()} == {
        "food85": "expiring", "food95": "ok", "tool25": "ok", "mask25": "expiring"}
    assert {k: a.window_days for k, a in got.items()} == {"food85": 90, "food95": 90, "tool25": 20, "mask25": 30}
    assert (got["food85"].days_left, got["food85"].stage, got["mask25"].stage) == (85, 90, 30)
    # The expiry day itself is still usable; the day after, expired.
    assert windows.assess(TODAY, shelf["tool"], TODAY).status == "expiring"
    assert windows.assess(days(-1), shelf["tool"], TODAY).status == "expired"
    assert windows.assess(None, shelf["tool"], TODAY).status == "ok"


def test_every_page_count_alert_and_report_agrees(shelf, client, login):
    login(shelf["admin"])
    # Batch pages and the scan landing page of each batch.
    for key in NEAR | FINE:
        batch = shelf[key]
        page = client.get(f"/batches/{batch.id}").data.decode()
        scan = client.get(f"/s/{batch.label_code}").data.decode()
        for body in (page, scan):
            expected = "status-expiring" if key in NEAR else "status-ok"
            assert expected in body, (key, expected)
    # The batch page says where the window starts.
    page = client.get(f"/batches/{shelf['food85'].id}").data.decode()
    assert re.search(r'id="near-expiry-window">[^<]*90', page)
    # Dashboard count and the location page's near-expiry batch rows.
    dash = client.get("/dashboard").data.decode()
    assert re.search(r'id="total-expiring">\s*2\s*<', dash)
    detail = client.get("/locations/DEP").data.decode()
    assert detail.count("batch-row status-row-expiring") == 2
    # The alert centre after the daily run: exactly the same batches.
    number = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, dt.datetime.combine(TODAY, dt.time(1)))
    alert_runs.run_rules(TODAY, run=number, now=dt.datetime.combine(TODAY, dt.time(1)))
    db.session.commit()
    alerted = {a.batch_id: a.level for a in db.session.scalars(select(Alert).where(Alert.rule == "expiring"))}
    assert alerted == {shelf["food85"].id: 90, shelf["mask25"].id: 30}
    centre = client.get("/alerts?rule=expiring").data.decode()
    assert {lot for lot in ("F-85", "F-95", "T-25", "M-25") if lot in centre} == {"F-85", "M-25"}
    assert re.search(r'id="count-expiring">[^<]*<span[^>]*>2<', centre)
    # The gap report's near-expiry column.
    report = standards.gap_report(TODAY, location=shelf["dep"])
    lines = {line.item.code: line for line in report.locations[0].lines}
    assert {code: line.expiring for code, line in lines.items()} == {"FOOD": D(10), "TOOL": D(0), "MASK": D(13)}
    assert {code: line.usable for code, line in lines.items()} == {"FOOD": D(21), "TOOL": D(12), "MASK": D(13)}


def test_the_item_page_shows_the_lead_days_in_force(shelf, client, login):
    login(shelf["admin"])
    food = client.get("/items/FOOD").data.decode()
    assert re.search(r'id="near-expiry-leads">90、30、7 ', food)
    tool = client.get("/items/TOOL").data.decode()
    assert re.search(r'id="near-expiry-leads">20 ', tool)


# --------------------------------------------------------------------------- shelf life


@pytest.mark.parametrize("produced, kwargs, expected", [
    (dt.date(2026, 1, 1), dict(months=12), dt.date(2026, 12, 31)),    # the tester's case
    (dt.date(2026, 1, 1), dict(days=365), dt.date(2026, 12, 31)),
    (dt.date(2026, 1, 15), dict(months=1), dt.date(2026, 2, 14)),
    (dt.date(2026, 1, 28), dict(months=1), dt.date(2026, 2, 27)),
    (dt.date(2026, 1, 29), dict(months=1), dt.date(2026, 2, 28)),   # no 29 February in 2026
    (dt.date(2026, 1, 31), dict(months=1), dt.date(2026, 2, 28)),
    (dt.date(2028, 1, 31), dict(months=1), dt.date(2028, 2, 29)),   # leap year
    (dt.date(2028, 1, 29), dict(months=1), dt.date(2028, 2, 28)),
    (dt.date(2028, 2, 29), dict(months=12), dt.date(2029, 2, 28)),  # leap day + a year
    (dt.date(2028, 2, 28), dict(months=12), dt.date(2029, 2, 27)),
    (dt.date(2026, 3, 31), dict(months=1), dt.date(2026, 4, 30)),
    (dt.date(2026, 11, 30), dict(months=3), dt.date(2027, 2, 28)),   # no 30 February
    (dt.date(2026, 12, 31), dict(months=2), dt.date(2027, 2, 28)),
    (dt.date(2027, 12, 31), dict(months=2), dt.date(2028, 2, 29)),
    (dt.date(2026, 5, 10), dict(days=1), dt.date(2026, 5, 10)),     # one day: usable on that day only
    (dt.date(2028, 2, 1), dict(days=29), dt.date(2028, 2, 29)),
    (dt.date(2027, 2, 1), dict(days=29), dt.date(2027, 3, 1)),
    (dt.date(2026, 1, 1), dict(months=36), dt.date(2028, 12, 31)),
])
def test_expiry_from_shelf_life(produced, kwargs, expected):
    assert expiry.expiry_from_shelf_life(produced, **kwargs) == expected


@pytest.mark.parametrize("kwargs", [dict(), dict(days=3, months=1), dict(days=0), dict(months=-1),
                                    dict(days=True)])
def test_expiry_from_shelf_life_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        expiry.expiry_from_shelf_life(dt.date(2026, 1, 1), **kwargs)


@pytest.mark.parametrize("shelf, produced, expected", [
    (dict(shelf_life_months=12), dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dict(shelf_life_days=365), dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dict(shelf_life_months=1), dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
    (dict(shelf_life_months=12), dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
    (dict(shelf_life_days=30), dt.date(2024, 2, 1), dt.date(2024, 3, 1)),
])
def test_a_receipt_without_expiry_date_gets_the_last_day_of_the_shelf_life(app, f, shelf, produced, expected):
    """Through the ledger, as a keeper's receipt and an opening-stock import book it: the
    production day is the first day of the shelf life (the batch was one day late before)."""
    item = f.item("SL", name_zh="压缩饼干", **shelf)
    dep = f.location("DEP")
    batch = f.stock(dep, item, 10, produced_on=produced, allow_expired=True, days_ago=1)
    assert batch.expires_on == expected


def test_items_import_takes_a_shelf_life_in_months(app, f, english):
    from inventory.stock.models import Item
    from inventory.stock.services import imports as importer

    f.commit()
    csv = ("物资编码,品名,计量单位,分类编码,保质期天数,保质期月数\n"
           "M1,压缩饼干,箱,1000000,,36\nD1,瓶装水,箱,1000000,365,\n")
    report = importer.import_items("items.csv", csv.encode(), dry_run=False)
    assert report.ok, report.errors
    db.session.commit()
    got = {i.code: (i.shelf_life_days, i.shelf_life_months) for i in db.session.scalars(select(Item))}
    assert got == {"M1": (None, 36), "D1": (365, None)}
    both = "物资编码,品名,计量单位,分类编码,保质期天数,保质期月数\nX1,饼干,箱,1000000,365,12\n"
    refused = importer.import_items("items.csv", both.encode(), dry_run=False)
    assert not refused.ok
    assert [(e.row, e.column, str(e.message)) for e in refused.errors] == [
        (2, "shelf_life_months", "Give the shelf life in days or in months, not both.")]
    db.session.rollback()
    assert db.session.scalar(select(Item).where(Item.code == "X1")) is None


def test_the_item_page_shows_a_shelf_life_in_months(app, f, client, login):
    f.item("M1", name_zh="压缩饼干", shelf_life_months=36)
    admin = f.user("admin", username="office2")
    f.commit()
    compile_catalogues()
    login(admin)
    assert re.search(r'id="shelf-life">36 个月<', client.get("/items/M1").data.decode())
