"""Benchmark: list and report pages as the data grows, against a bare page in the same run.

For each size N it builds a fresh database with N items (each in its own category), N/10
locations, two batches of every item at the depot and one at another location, N issues
and N transfers from the depot (each by its own keeper account), a count at every
location and one open count at the depot with every batch counted, and the day's alerts.
Then, signed in as the administrator, it requests every page of :data:`PAGES` through
Flask's test client (no network) and prints for each: the server-side time (median of
``--repeat`` requests), the SQL statements of one request, the response size, and the
ratio of the bare page's time to the page's (1.0 = as fast as a page that reads nothing
but the signed-in user; 0.03 = 33 times slower).  The SQL count must not grow with N.

SQLite in a temporary folder by default; ``--database-url`` for PostgreSQL (its tables
are dropped and recreated).

Usage (from the repository root)::

    python bench/pages.py [--sizes 100 300 1000] [--repeat 5] [--database-url postgresql://…]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select  # noqa: E402

from bench.scan import fresh_app  # noqa: E402
from inventory.admin.services import create_user  # noqa: E402
from inventory.alerts.services import runs as alert_runs  # noqa: E402
from inventory.core import clock  # noqa: E402
from inventory.core.db import db  # noqa: E402
from inventory.stock.models import Batch, Category, Document  # noqa: E402
from inventory.stock.services import catalogue, ledger  # noqa: E402
from inventory.stocktake.services import counts as stocktakes  # noqa: E402
from inventory.users.services.accounts import get_system_user  # noqa: E402

PASSWORD = "bench-password-1"

#: (label, URL template); ``{batch}``, ``{doc}``, ``{count}`` and ``{item}`` are filled in by :func:`build`.
PAGES = [
    ("bare (/scan)", "/scan"),
    ("locations", "/locations"),
    ("location DEP", "/locations/DEP"),
    ("items", "/items"),
    ("item", "/items/{item}"),
    ("batch", "/batches/{batch}"),
    ("document", "/documents/{doc}"),
    ("journal", "/journal"),
    ("journal p.20", "/journal?page=20"),
    ("journal.csv", "/journal.csv"),
    ("journal.xlsx", "/journal.xlsx"),
    ("receive form", "/locations/DEP/receive"),
    ("issue form", "/locations/DEP/issue"),
    ("transfer form", "/batches/{batch}/transfer"),
    ("labels DEP", "/labels/locations/DEP"),
    ("stocktakes", "/stocktakes"),
    ("count DEP", "/stocktakes/{count}"),
    ("count review", "/stocktakes/{count}/confirm"),
    ("count sheet", "/stocktakes/{count}/sheet.xlsx"),
    ("alerts", "/alerts"),
    ("alerts.xlsx", "/alerts.xlsx"),
    ("users", "/admin/users"),
    ("new user", "/admin/users/new"),
    ("kit areas", "/kit/areas"),
]


def build(app, n: int) -> dict:
    """The data set of size ``n`` (see the module docstring); returns the URL arguments."""
    with app.app_context():
        today = clock.local_today()
        catalogue.ensure_top_categories()
        system = get_system_user()
        create_user(username="admin", password=PASSWORD, role="admin")
        locations = [catalogue.upsert_location(catalogue.LocationData(
            code="DEP" if i == 0 else f"L{i:04d}", kind="residential" if i % 3 == 2 else "depot",
            name_zh=f"库点{i}"))[0] for i in range(max(5, n // 10))]
        dep = locations[0]
        items = []
        for i in range(n):
            code = f"{1 + i % 3}{i // 100 % 90 + 10:02d}{i % 100:02d}00"
            db.session.add(Category(code=code, name_zh=f"类别{i}", expiry_lead_days="60,14" if i % 2 else ""))
            db.session.flush()
            items.append(catalogue.upsert_item(catalogue.ItemData(
                code=f"I{i:05d}", name_zh=f"物资{i}", unit="箱", category_code=code))[0])
        when = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(2, 0))
        lines = [ledger.ReceiptLine(item_id=it.id, quantity=Decimal(50), lot_number=f"A{i:05d}",
                                    expires_on=today + dt.timedelta(days=5 + i % 400)) for i, it in enumerate(items)]
        lines += [ledger.ReceiptLine(item_id=it.id, quantity=Decimal(20), lot_number=f"B{i:05d}",
                                     expires_on=today - dt.timedelta(days=1) if i % 7 == 0 else None,
                                     allow_expired=True) for i, it in enumerate(items)]
        docs = [ledger.receive(location_id=dep.id, user=system, lines=lines[s:s + 50], occurred_at=when)
                for s in range(0, len(lines), 50)]
        for i, it in enumerate(items):
            loc = locations[1 + i % (len(locations) - 1)]
            ledger.receive(location_id=loc.id, user=system, occurred_at=when,
                           lines=[ledger.ReceiptLine(item_id=it.id, quantity=Decimal(5), lot_number=f"C{i:05d}")])
        keepers = [create_user(username=f"keeper{i}", password=PASSWORD, role="keeper", location_codes=["DEP"])
                   for i in range(max(5, n // 10))]
        batches = list(db.session.scalars(select(Batch).where(Batch.location_id == dep.id,
                                                              Batch.lot_number.like("A%")).order_by(Batch.id)))
        for i, b in enumerate(batches):
            user = keepers[i % len(keepers)]
            ledger.issue(location_id=dep.id, item_id=b.item_id, batch_id=b.id, quantity=1, user=user,
                         recipient=f"R{i}", today=today, occurred_at=when + dt.timedelta(hours=1, seconds=i))
            ledger.transfer(batch_id=b.id, quantity=1, to_location_id=locations[1 + i % (len(locations) - 1)].id,
                            user=user, occurred_at=when + dt.timedelta(hours=2, seconds=i), today=today)
        db.session.commit()
        for loc in locations[1:]:
            st = stocktakes.start(location_id=loc.id, user=system)
            for b in db.session.scalars(select(Batch).where(Batch.location_id == loc.id).limit(20)):
                stocktakes.record_count(stocktake_id=st.id, batch_id=b.id, counted=b.quantity, user=system)
            stocktakes.confirm(stocktake_id=st.id, user=system)
        count = stocktakes.start(location_id=dep.id, user=system)
        for b in db.session.scalars(select(Batch).where(Batch.location_id == dep.id, Batch.quantity > 0)):
            stocktakes.record_count(stocktake_id=count.id, batch_id=b.id, counted=b.quantity, user=system)
        now = clock.to_utc_naive(dt.datetime.now(dt.timezone.utc))
        alert_runs.run_rules(today, run=alert_runs.begin_run(alert_runs.ALERT_JOB_ID, now), now=now)
        db.session.commit()
        return dict(batch=batches[0].id, doc=db.session.scalar(select(Document.id).where(Document.id == docs[0].id)),
                    count=count.id, item=items[0].code)


def measure(app, client, url: str, repeat: int) -> tuple[float, int, int]:
    """(median ms, SQL statements of the last request, response bytes)."""
    times, statements, size = [], 0, 0
    with app.app_context():
        engine = db.engine
    client.get(url)  # warm up: templates compiled, caches filled
    for _ in range(repeat):
        box = [0]

        def count(*_a):
            box[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
        statements, size = box[0], len(response.data)
    return statistics.median(times), statements, size


def main(argv=None) -> int:
    """Print one table per size; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args(argv)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    results: dict[str, list[tuple[float, int, int, float]]] = {label: [] for label, _ in PAGES}
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            app = fresh_app(args.database_url, Path(tmp))
            t = time.perf_counter()
            ids = build(app, n)
            print(f"size {n}: built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
            client = app.test_client()
            client.post("/login", data={"username": "admin", "password": PASSWORD})
            bare = None
            for label, url in PAGES:
                ms, sql, size = measure(app, client, url.format(**ids), args.repeat)
                bare = bare or ms
                results[label].append((ms, sql, size, bare / ms))
            with app.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
    print(f"{backend}; per page and size N: server-side ms (median of {args.repeat}) / SQL statements / KB"
          f" / bare page's time ÷ page's time")
    head = f"{'page':<14}" + "".join(f"{'N=' + str(n):>34}" for n in args.sizes)
    print(head)
    print("-" * len(head))
    for label, cells in results.items():
        print(f"{label:<14}" + "".join(f"{ms:9.1f} /{sql:3d} /{size / 1024:6.0f} /{ratio:6.3f}×"
                                       for ms, sql, size, ratio in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
