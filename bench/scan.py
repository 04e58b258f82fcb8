"""Benchmark: scan pages and the count screen as the number of lots at a location grows.

For 100, 500 and 1,000 lots at one depot (half of them counted in an open
stocktake) it prints the server-side time (median of ``--repeat`` requests
through Flask's test client, so no network) and the number of SQL statements
for: the label landing page ``/S/<code>``, the count page, the review page and
the count sheet as PDF and XLSX; and the time to print 1,000 batch labels from
the database (read, build records, render A4 3×8).  The SQL count must not grow
with the lots.  SQLite in a temporary folder by default; ``--database-url``
for PostgreSQL (its tables are dropped and recreated).

Usage (from the repository root)::

    python bench/scan.py [--lots 100 500 1000] [--repeat 5] [--database-url postgresql://…]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text  # noqa: E402

from inventory import create_app
from inventory.admin.services import create_user
from inventory.core.db import db
from inventory.scan.services import labelling
from inventory.stock.models import Batch
from inventory.stock.services import catalogue, ledger
from inventory.stocktake.services import counts as stocktakes
from inventory.users.services.accounts import get_system_user

PASSWORD = "bench-password-1"


def build(app, lots: int):
    """A depot with ``lots`` batches of 20 items and an open count with half of them counted."""
    with app.app_context():
        catalogue.ensure_top_categories()
        dep, _ = catalogue.upsert_location(catalogue.LocationData(code="DEP", kind="depot", name_zh="海尚源深储备库"))
        items = [catalogue.upsert_item(catalogue.ItemData(code=f"I{i:03d}", name_zh=f"物资{i}", unit="箱",
                                                          category_code="1000000"))[0] for i in range(20)]
        keeper = create_user(username="keeper", password=PASSWORD, role="keeper", location_codes=["DEP"])
        system = get_system_user()
        lines = [ledger.ReceiptLine(item_id=items[i % 20].id, quantity=Decimal(10 + i % 7), lot_number=f"L{i:05d}")
                 for i in range(lots)]
        for start in range(0, lots, 50):
            ledger.receive(location_id=dep.id, user=system, lines=lines[start:start + 50])
        db.session.commit()
        st = stocktakes.start(location_id=dep.id, user=keeper)
        batches = list(db.session.scalars(db.select(Batch).order_by(Batch.id)))
        for b in batches[: lots // 2]:
            stocktakes.record_count(stocktake_id=st.id, batch_id=b.id, counted=b.quantity - (1 if b.id % 3 == 0 else 0),
                                    user=keeper)
        db.session.commit()
        return st.id, batches[0].label_code, [b.id for b in batches]


def measure(app, client, url: str, repeat: int) -> tuple[float, int, int]:
    """(median ms, SQL statements of the last request, response bytes)."""
    times, statements, size = [], 0, 0
    with app.app_context():
        engine = db.engine
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


def print_labels(app, batch_ids: list[int], repeat: int) -> tuple[float, int]:
    """Seconds and bytes for 1,000 batch labels read from the database and rendered on A4 3×8."""
    ids = (batch_ids * (1000 // len(batch_ids) + 1))[:1000]
    times, size = [], 0
    with app.app_context():
        for _ in range(repeat):
            db.session.expire_all()
            t = time.perf_counter()
            batches = {b.id: b for b in labelling.batches_by_id(ids)}
            records = [labelling.batch_record(batches[i], "https://yjwz.lujiazui.example") for i in ids]
            pdf = labelling.render_pdf(records, labelling.PrintSettings(layout="a4-3x8"))
            times.append(time.perf_counter() - t)
            size = len(pdf)
    return statistics.median(times), size


def fresh_app(url: str | None, folder: Path):
    """An app on an empty, migrated database: SQLite in ``folder``, or PostgreSQL at ``url`` (wiped)."""
    from flask_migrate import upgrade

    uri = url or f"sqlite:///{folder / 'bench.db'}"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=uri.replace("postgresql://", "postgresql+psycopg://", 1))
    with app.app_context():
        if uri.startswith("postgresql"):
            with db.engine.begin() as con:
                con.execute(text("DROP SCHEMA public CASCADE"))
                con.execute(text("CREATE SCHEMA public"))
        with contextlib.redirect_stderr(io.StringIO()):  # alembic's INFO lines
            upgrade()
    return app


def main(argv=None) -> int:
    """Print the table; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lots", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args(argv)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}; server-side ms (median of {args.repeat}) / SQL statements / KB per page")
    head = (f"{'lots':>5} {'landing':>16} {'count page':>18} {'review':>16} {'sheet PDF':>18} "
            f"{'sheet XLSX':>18}")
    print(head)
    print("-" * len(head))
    label_figures = None
    for lots in args.lots:
        with tempfile.TemporaryDirectory() as tmp:
            app = fresh_app(args.database_url, Path(tmp))
            st_id, code, batch_ids = build(app, lots)
            client = app.test_client()
            client.post("/login", data={"username": "keeper", "password": PASSWORD})
            cells = []
            for url in (f"/S/{code}", f"/stocktakes/{st_id}", f"/stocktakes/{st_id}/confirm",
                        f"/stocktakes/{st_id}/sheet.pdf", f"/stocktakes/{st_id}/sheet.xlsx"):
                ms, sql, size = measure(app, client, url, args.repeat)
                cells.append(f"{ms:7.1f} /{sql:3d} /{size / 1024:5.0f}")
            print(f"{lots:>5} " + " ".join(f"{c:>17}" for c in cells))
            if lots == max(args.lots):
                label_figures = print_labels(app, batch_ids, max(1, min(args.repeat, 3)))
            with app.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
    if label_figures:
        seconds, size = label_figures
        print(f"\n1,000 batch labels from the database (read + records + A4 3x8 PDF): "
              f"{seconds:.2f} s, {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
