"""The gap report's overview as a phone gets it, on the Lujiazui demo data: small, worst
locations first with a summary line each, lines fetched per location on demand with the same
figures as the location's own report."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from inventory.core.db import db
from inventory.standards.services import gaps as standards

from .conftest import TODAY

SECTION = re.compile(r'<details class="mb-1 location-gap" id="gap-([^"]+)" data-short="(\d+)" '
                     r'data-expired="(\d+)"( data-src="([^"]+)")?')
LINE = re.compile(r'id="line-([^"]+)"\s+data-required="([^"]*)" data-usable="([^"]*)" data-shortfall="([^"]*)"')


@pytest.fixture
def demo_admin(app, client):
    from inventory.demo.accounts import DEMO_PASSWORD
    from inventory.demo.seed import seed_demo

    seed_demo(today=TODAY, with_accounts=True)
    db.session.commit()
    response = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def test_demo_overview_is_small_worst_first_and_fetches_each_location_on_demand(demo_admin):
    client = demo_admin
    response = client.get("/gaps")
    body = response.data.decode()
    assert len(response.data) <= 60 * 1024  # issue 14: a phone's first page
    sections = SECTION.findall(body)
    report = standards.gap_report(TODAY, agreement_ids=set(), detail=False)
    expected = [(g.location.code, g.tally.short, g.tally.expired) for g in report.most_short_first()]
    assert [(code, int(short), int(expired)) for code, short, expired, _a, _src in sections] == expected
    assert len(sections) == 39 and expected[0][1] > 0
    assert [s for _c, s, _e in expected] == sorted((s for _c, s, _e in expected), reverse=True)
    fetched = [(code, src) for code, _s, _e, _a, src in sections if src]
    in_place = {m[0].split("-")[0] for m in LINE.findall(body)}
    assert fetched and in_place  # some sections come with the page, the others on demand
    assert not in_place & {code for code, _src in fetched}
    code, src = fetched[0]
    assert src == f"/gaps/location/{code}/open"
    part = client.get(src)
    assert part.status_code == 200 and b"<html" not in part.data  # a fragment, no page frame
    lines = {m[0]: m[1:] for m in LINE.findall(part.data.decode())}
    short = {c: int(s) for c, s, _e, _a, _src in sections}
    assert len(lines) == short[code]  # its lines not met (the worst is a depot: absolute lines, none unknown)
    full = {m[0]: m[1:] for m in LINE.findall(client.get(f"/gaps/location/{code}").data.decode())}
    assert all(full[key] == figures for key, figures in lines.items())  # same figures as its own report
    assert all(Decimal(shortfall) > 0 for _req, _usable, shortfall in lines.values())


def test_demo_item_roll_up_is_fetched_with_the_report_figures(demo_admin):
    client = demo_admin
    body = client.get("/gaps").data.decode()
    assert 'id="items-section" data-src="/gaps/items"' in body and 'id="item-table"' not in body
    part = client.get("/gaps/items").data.decode()
    report = standards.gap_report(TODAY, detail=False)
    rows = re.findall(r'<tr id="item-([^"]+)">', part)
    assert rows == [r.item.code for r in report.items] and len(rows) > 20


def test_summary_line_counts_lines_short_and_lines_with_expired_stock(client, world, f, login):
    from tests.test_standards_web import _list

    _list("DEPOT", "depot", [("W1", "200", "absolute", 80), ("D1", "60.5", "absolute", 80)])
    f.commit()
    login(world["users"]["admin"])
    body = client.get("/gaps").data.decode()
    # DEP: water 120 of 200 (5 expired cases beside), diesel 50.5 of 60.5; DEP2 holds nothing.
    sections = {code: (int(short), int(expired)) for code, short, expired, _a, _s in SECTION.findall(body)}
    assert sections["DEP"] == (2, 1) and sections["DEP2"] == (2, 0)
    assert list(sections)[:2] == ["DEP", "DEP2"]  # as many short: the one with expired stock first
