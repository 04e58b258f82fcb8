"""The gap report on a 360 px phone, with the Lujiazui demo data: no sideways scrolling, and
every line not met shows its shortfall and status on screen (stacked cells, no hidden column),
also in a section whose lines are fetched when it is opened."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inventory.core.db import db

from .conftest import TODAY

pytestmark = pytest.mark.browser
WIDTH = 360


@pytest.fixture
def demo(app):
    from inventory.demo.seed import seed_demo

    seed_demo(today=TODAY, with_accounts=True)
    db.session.commit()


def _sign_in(page, live_server, username):
    from inventory.demo.accounts import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH + 1, page.url


def _on_screen(locator):
    """The element is visible and lies within the 360 px width (not clipped off to the right)."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5, box


def _lines_on_screen(page, table_id: str) -> int:
    rows = page.locator(f"#{table_id} tr.gap-line")
    count = rows.count()
    for i in range(count):
        row = rows.nth(i)
        row.scroll_into_view_if_needed()
        _on_screen(row.locator("td.gap-shortfall"))
        _on_screen(row.locator("td.gap-status .badge"))
    return count


def test_admin_opens_the_worst_location_on_a_phone_and_sees_shortfall_and_status(live_server, phone, demo):
    page = phone
    _sign_in(page, live_server, "admin")
    page.goto(live_server + "/gaps")
    _no_sideways_scroll(page)
    sections = page.locator("#location-sections > details.location-gap")
    assert sections.count() == 39  # every physical demo location; the 3 agreement reserves apart
    # Worst first: most lines short, then most lines with expired stock.
    shorts = [int(s.get_attribute("data-short")) for s in sections.element_handles()]
    assert shorts == sorted(shorts, reverse=True) and shorts[0] > 0
    first = sections.first
    code = first.get_attribute("id").removeprefix("gap-")
    assert first.get_attribute("data-src") == f"/gaps/location/{code}/open"  # fetched on demand
    expect(page.locator(f"#lines-{code}")).to_have_count(0)
    _on_screen(first.locator("summary .gap-short"))
    first.locator("summary").click()
    expect(page.locator(f"#lines-{code} tr.gap-line").first).to_be_visible()
    shown = _lines_on_screen(page, f"lines-{code}")
    assert shown == int(first.get_attribute("data-short"))  # only unknown lines would add to it; none here
    _no_sideways_scroll(page)
    # A section whose lines came with the page shows them the same way.
    inline = page.locator("#location-sections > details.location-gap:not([data-src])").filter(
        has=page.locator("tr.gap-line")).first
    inline_code = inline.get_attribute("id").removeprefix("gap-")
    inline.locator("summary").click()
    assert _lines_on_screen(page, f"lines-{inline_code}") >= 1
    # The item roll-up is fetched too and stacks on the phone.
    page.locator("#items-section > summary").click()
    expect(page.locator("#item-table tbody tr").first).to_be_visible()
    _no_sideways_scroll(page)
    # One location's full report: every line, shortfall and status on screen.
    page.goto(live_server + f"/gaps/location/{code}")
    assert _lines_on_screen(page, f"lines-{code}") > shown  # met lines too
    _no_sideways_scroll(page)


def test_residential_manager_goes_from_the_dashboard_straight_to_their_point(live_server, phone, demo):
    page = phone
    _sign_in(page, live_server, "juyuan")
    page.goto(live_server + "/dashboard")
    link = page.locator("#own-gap-links a.own-location")
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(lambda url: url.endswith("/gaps/location/R02"))
    expect(page.locator("#report-title")).to_contain_text("菊园")
    assert _lines_on_screen(page, "lines-R02") >= 1
    _no_sideways_scroll(page)
    page.goto(live_server + "/gaps")
    expect(page.locator("a.own-location")).to_have_attribute("href", "/gaps/location/R02")
