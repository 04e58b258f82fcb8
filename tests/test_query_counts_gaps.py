"""The gap report, its exports and the dashboard run a constant number of queries.

Each test counts the SQL of a page with the ``count_queries`` fixture, then doubles the
locations (every kind, agreement reserves included), the items (and so the standard lists'
lines) and the batches, and counts again: the two counts must be equal.  Each round also adds
an assignment and an override, so the queries that read them have rows to return.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from inventory.standards.services import lists as standard_lists
from inventory.standards.services.lists import LineData, ListData
from inventory.users.services.accounts import get_system_user

from .conftest import TODAY

KINDS = ("depot", "residential", "civil_defence", "agreement")


class Growing:
    """Test data that doubles: each :meth:`round` adds one location of every kind, two items,
    a new version of each kind's list with every item so far, three batches per new location
    and item (fine, near expiry, expired), an assignment and an override."""

    def __init__(self, f):
        self.f, self.items, self.locations, self.lists, self.rounds = f, [], [], {}, 0

    def round(self, locations_per_kind: int, items: int) -> None:
        """Add ``locations_per_kind`` locations of each kind and ``items`` items (see the class)."""
        f, n = self.f, self.rounds
        self.rounds += 1
        new_items = [f.item(f"G{n}I{i}", name_zh=f"物资{n}-{i}", unit_precision=i % 2) for i in range(items)]
        self.items += new_items
        new_locs = [f.location(f"G{n}{kind[:3].upper()}{i}", kind=kind, name_zh=f"库点{n}{kind}{i}",
                               residents_served=2000 + i if kind == "residential" else None,
                               households_served=700 + i if kind == "residential" else None)
                    for kind in KINDS for i in range(locations_per_kind)]
        self.locations += new_locs
        bases = ("absolute", "per_1000_residents", "per_household")
        for kind in ("depot", "residential", "civil_defence"):
            lines = [LineData(item.code, Decimal(3 + k % 4), bases[k % 3] if kind == "residential" else "absolute", 80)
                     for k, item in enumerate(self.items)]
            version = standard_lists.save_version(ListData(
                code=f"G-{kind}", name_zh=f"{kind}清单", effective_on=TODAY - dt.timedelta(days=40 - n),
                authority="local", location_kind=kind, lines=lines), user=get_system_user(),
                existing=self.lists.get(kind))
            self.lists[kind] = version.standard_list
        for loc in new_locs:
            for k, item in enumerate(new_items):
                f.stock(loc, item, 2 + k, expires_on=TODAY + dt.timedelta(days=300), lot=f"A{k}")
                f.stock(loc, item, 1, expires_on=TODAY + dt.timedelta(days=5), lot=f"B{k}")
                f.stock(loc, item, 4, expires_on=TODAY - dt.timedelta(days=2), lot=f"C{k}", allow_expired=True,
                        days_ago=200)
        admin = get_system_user()
        residential = [loc for loc in new_locs if loc.kind.value == "residential"]
        standard_lists.assign_list(residential[0], self.lists["depot"], user=admin, effective_on=TODAY - dt.timedelta(days=3))
        depot = next(loc for loc in new_locs if loc.kind.value == "depot")
        standard_lists.set_override(depot, LineData(new_items[0].code, Decimal(50), "absolute", 90),
                                    user=admin, effective_on=TODAY - dt.timedelta(days=2))
        f.commit()


@pytest.fixture
def growing(app, f):
    return Growing(f)


def _count(client, count_queries, url: str) -> tuple[int, bytes]:
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(q), response.data


def _doubled(client, count_queries, growing, urls, seen=(b"G0RES1", b"G1RES1")) -> dict[str, tuple[int, int]]:
    """{url: (statements before, after doubling)}; checks that the overview and the dashboard show
    ``seen`` (a location of each round) after doubling."""
    growing.round(2, 3)
    before = {url: _count(client, count_queries, url)[0] for url in urls}
    growing.round(2, 3)  # twice the locations, items, lines and batches
    after = {}
    for url in urls:
        after[url], body = _count(client, count_queries, url)
        if url in ("/gaps", "/dashboard"):
            assert all(code in body for code in seen), url  # both rounds are on the page
    return {url: (before[url], after[url]) for url in urls}


GAP_URLS = ["/gaps", "/gaps.xlsx", "/gaps.pdf", "/gaps/items", "/gaps/kind/residential",
            "/gaps/kind/residential.xlsx", "/gaps/kind/residential/items", "/gaps/location/G0DEP0",
            "/gaps/location/G0DEP0/open", "/gaps/location/G0DEP0.xlsx", "/gaps?category=1000000"]


def test_gap_pages_and_exports_run_the_same_queries_with_twice_the_data(client, app, f, growing, login,
                                                                       count_queries):
    admin = f.user("admin")
    f.commit()
    login(admin)
    counts = _doubled(client, count_queries, growing, GAP_URLS)
    assert {url: before for url, (before, _after) in counts.items()} == {
        url: after for url, (_before, after) in counts.items()}
    # The overview: user, categories (filter), agreement reserves, locations, list versions with
    # lines, assignments, overrides, near-expiry lead days, the one grouped stock query, open alerts.
    assert counts["/gaps"][0] == 10
    assert counts["/gaps.xlsx"][0] == 9  # no page frame: no open-alert count


def test_grouped_stock_query_is_one_statement_grouped_by_location_and_item(client, f, growing, login,
                                                                          count_queries):
    admin = f.user("admin")
    f.commit()
    login(admin)
    growing.round(2, 3)
    with count_queries() as q:
        assert client.get("/gaps").status_code == 200
    stock = [s for s in q.statements if "FROM batch" in s]
    assert len(stock) == 1
    assert "GROUP BY batch.location_id, batch.item_id" in " ".join(stock[0].split())
    assert "sum(" in stock[0].lower()


def test_gap_pages_of_a_keeper_run_the_same_queries_with_twice_the_data(client, f, growing, login,
                                                                       count_queries):
    growing.round(1, 2)
    keeper = f.user("keeper", growing.locations[:2])
    f.commit()
    login(keeper)
    counts = _doubled(client, count_queries, growing, ["/gaps", "/gaps.xlsx", "/gaps/items", "/dashboard"], seen=())
    assert all(before == after for before, after in counts.values()), counts


def test_dashboard_runs_the_same_queries_with_twice_the_data(client, f, growing, login, count_queries):
    admin = f.user("admin")
    f.commit()
    login(admin)
    counts = _doubled(client, count_queries, growing, ["/dashboard"])
    before, after = counts["/dashboard"]
    assert before == after == 9
