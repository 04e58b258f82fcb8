"""End to end in real headless Chromium on a phone-sized screen."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.alerts.services import runs as alert_runs
from inventory.core.db import db
from inventory.stock.models import Batch, Document, DocumentKind

from .conftest import TODAY

pytestmark = pytest.mark.browser


def test_keeper_receives_issues_and_finds_it_in_the_journal(live_server, phone, world):
    page = phone
    page.goto(live_server + "/")
    page.fill("#username", "keeper1")
    page.fill("#password", "correct horse 1")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("工作台")

    # Through the collapsed phone menu to the depot.
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name="库点").click()
    page.get_by_role("link", name=re.compile("海尚源深储备库")).click()

    # Receive 24 cases of water on a goods-received note.
    page.get_by_role("link", name="入库", exact=True).click()
    page.select_option("#lines-0-item_id", label="W1 瓶装饮用水（箱）")
    page.fill("#lines-0-quantity", "24")
    page.fill("#lines-0-lot_number", "PW-2026-11")
    page.fill("#lines-0-expires_on", (TODAY + dt.timedelta(days=366)).isoformat())
    page.fill("#supplier", "上海某饮用水公司")
    submit = page.get_by_role("button", name="确认入库")
    assert submit.bounding_box()["height"] >= 44  # thumb-sized on a phone
    submit.click()
    expect(page.locator(".alert-success")).to_contain_text("已记账：RK-")
    expect(page.locator("#document-lines")).to_contain_text("PW-2026-11")
    receipt_number = page.locator("h1").inner_text()

    # Issue 30: nearest expiry first takes W-SOON (20) and then 10 more.
    page.goto(live_server + "/locations/DEP/issue")
    page.select_option("#item_id", value=str(world["water"].id))
    hint = page.locator("#fefo-plan").inner_text()
    page.fill("#quantity", "1,000")  # the server refuses commas; the preview does not read it as 1
    expect(page.locator("#fefo-plan")).to_have_text(hint)
    page.fill("#quantity", "３０")  # full-width digits are a number, as on the server
    expect(page.locator("#fefo-plan")).to_contain_text("将出库 20 批号 W-SOON")
    page.fill("#quantity", "30")
    expect(page.locator("#fefo-plan")).to_contain_text("W-SOON")
    page.fill("#recipient", "菊园居民区")
    page.fill("#reason", "防台演练")
    page.get_by_role("button", name="确认出库").click()
    expect(page.locator(".alert-success")).to_contain_text("已记账：CK-")
    issue_number = page.locator("h1").inner_text()

    # Both documents are in the journal.
    page.goto(live_server + "/journal")
    journal = page.locator("#journal-table")
    expect(journal).to_contain_text(receipt_number)
    expect(journal).to_contain_text(issue_number)
    expect(journal).to_contain_text("菊园居民区")

    db.session.expire_all()
    received = db.session.scalar(select(Batch).where(Batch.lot_number == "PW-2026-11"))
    assert received.quantity == 24
    issue_doc = db.session.scalar(select(Document).where(Document.number == issue_number))
    assert issue_doc.kind == DocumentKind.ISSUE
    assert sorted((m.batch.lot_number, int(m.quantity)) for m in issue_doc.movements) == [
        ("W-2026", -10), ("W-SOON", -20)]


def test_bad_input_is_refused_in_the_browser_too(live_server, phone, world):
    page = phone
    page.goto(live_server + "/login")
    page.fill("#username", "keeper1")
    page.fill("#password", "correct horse 1")
    page.get_by_role("button", name="登录").click()
    page.goto(live_server + "/locations/DEP/issue")
    page.select_option("#item_id", value=str(world["water"].id))
    page.fill("#quantity", "9999")
    page.fill("#recipient", "x")
    page.fill("#reason", "y")
    page.get_by_role("button", name="确认出库").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("库存不足")


def test_keeper_ticks_all_open_alerts_and_acknowledges_them_in_one_post(live_server, phone, world):
    """The alert centre's "tick all" box (static/js/alerts.js) and the checkboxes outside the
    form (form="bulk-ack") work in a real browser, with CSRF on."""
    import datetime as dt

    from inventory.alerts.models import Alert, AlertState

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    alert_runs.run_rules(now.date(), run=alert_runs.begin_run(alert_runs.ALERT_JOB_ID, now), now=now)
    db.session.commit()
    page = phone
    page.goto(live_server + "/login")
    page.fill("#username", "keeper1")
    page.fill("#password", "correct horse 1")
    page.get_by_role("button", name="登录").click()
    page.goto(live_server + "/alerts")
    ticks = page.locator("input.alert-tick")
    assert ticks.count() == 2  # W-OLD expired, W-SOON near expiry
    page.locator("#tick-all").check()
    assert all(ticks.nth(i).is_checked() for i in range(ticks.count()))
    page.get_by_role("button", name="确认所勾选的预警").click()
    expect(page.locator(".alert-success")).to_contain_text("已确认 2 条预警。")
    db.session.expire_all()
    dep_alerts = db.session.scalars(select(Alert).where(Alert.location_id == world["dep"].id)).all()
    assert {a.state for a in dep_alerts} == {AlertState.ACKNOWLEDGED}
