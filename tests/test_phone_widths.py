"""Every main page, with the Lujiazui demo data and for each kind of user, fits a 360 px phone
screen without sideways scrolling (keepers work on phones; long names, URLs and tables must wrap
or scroll inside their own box)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.core.db import db
from inventory.standards.models import StandardList

from .conftest import TODAY

PAGES = ["/", "/dashboard", "/gaps", "/gaps/kind/depot", "/gaps/kind/residential", "/gaps/location/HSYS",
         "/standards", "/standards/new", "/standards/import", "/alerts", "/alerts/messages", "/scan", "/stocktakes",
         "/locations",
         "/items", "/movements"]


@pytest.mark.browser
def test_main_pages_fit_a_phone_for_every_demo_role(app, live_server, phone):
    from inventory.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
    from inventory.demo.seed import seed_demo

    seed_demo(today=TODAY, with_accounts=True)
    db.session.commit()
    # A GS1-style lot of the longest allowed length must wrap, not widen the page.
    from inventory.stock.models import Batch, Item, Location
    from inventory.stock.services import ledger
    from inventory.users.services.accounts import get_system_user

    depot = db.session.scalar(select(Location).where(Location.code == "HSYS"))
    item = db.session.scalars(select(Item).where(Item.active.is_(True)).order_by(Item.code)).first()
    long_lot = ("(10)HZ20261129A0001(21)SN000123" * 3)[:64]
    ledger.receive(location_id=depot.id, user=get_system_user(), source="purchase", reason="长批号",
                   lines=[ledger.ReceiptLine(item_id=item.id, quantity=1, lot_number=long_lot)])
    db.session.commit()
    long_batch = db.session.scalar(select(Batch).where(Batch.lot_number == long_lot))
    list_ids = list(db.session.scalars(select(StandardList.id)))
    assert len(list_ids) == 4
    paths = PAGES + [f"/standards/{i}" for i in list_ids] + [f"/standards/{i}/edit" for i in list_ids]
    paths += [f"/batches/{long_batch.id}", "/locations/HSYS", f"/s/{long_batch.label_code}"]
    page = phone
    wide = []
    for username in ("admin", "keeper", "wuzhuang", "juyuan"):
        assert username in {a[0] for a in DEMO_ACCOUNTS}
        page.context.clear_cookies()
        page.goto(live_server + "/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/login" not in url)
        for path in paths:
            page.goto(live_server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 361:
                wide.append((username, path, width))
    assert wide == []
