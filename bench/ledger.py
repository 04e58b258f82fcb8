"""Ledger throughput: movements per second for issue and receive.

Runs on SQLite and PostgreSQL at 1, 4 and 16 concurrent worker processes (a
multi-worker web deployment; ``--workers`` sets the sizes), and times the raw-SQL
equivalent in the same run, so the ratio shows what the service layer (validation,
ORM, documents) costs.  Both sides run on the same footing: spawned worker
processes started together, one operation = one transaction committed at once (as
a request would), the same driver (sqlite3 / psycopg 3) and, on SQLite, the
connection settings the app sets on every connection (WAL, synchronous=NORMAL,
foreign keys on, 5 s busy timeout).  The service side goes through the app as
deployed (Flask-SQLAlchemy session, its pool; on PostgreSQL the pool's pre-ping).

raw      — per movement: one conditional ``UPDATE batch … WHERE quantity >= :n``
           (issue) or ``UPDATE batch … + :n`` (receive), one ``INSERT INTO movement``
           against one existing document, commit.
raw+doc  — the same plus ``INSERT INTO document … RETURNING id`` and the UPDATE that
           numbers it: the least a booking with its own voucher (what the
           service writes) costs through the driver.

Usage:  python bench/ledger.py [--seconds 3] [--backends sqlite,postgresql]
                               [--workers 1,4,16] [--ops issue,receive]
PostgreSQL URL: $BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/inventory_bench;
the database is created if missing and its schema rebuilt).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._database import reset_postgres  # noqa: E402  (after the project root is on the path)

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/inventory_bench")
WORKERS = (1, 4, 16)


def _app(uri: str):
    from inventory import create_app

    return create_app("test", SQLALCHEMY_DATABASE_URI=uri)


def prepare(uri: str) -> dict:
    """Build the schema and one location, item, user, a large batch and a document."""
    from flask_migrate import upgrade

    from inventory.admin.services import create_user
    from inventory.core.db import db
    from inventory.stock.services import catalogue, ledger

    if uri.startswith("postgresql"):
        reset_postgres(uri)
    app = _app(uri)
    with app.app_context():
        upgrade()
        catalogue.ensure_top_categories()
        loc, _ = catalogue.upsert_location(catalogue.LocationData(code="B1", kind="depot", name_zh="基准库"))
        item, _ = catalogue.upsert_item(catalogue.ItemData(code="W", name_zh="水", unit="箱",
                                                           category_code="1000000"))
        user = create_user(username="bench", password="benchmark", role="admin")
        doc = ledger.receive(location_id=loc.id, user=user,
                             lines=[ledger.ReceiptLine(item.id, Decimal("90000000"))])
        db.session.commit()
        ids = dict(location=loc.id, item=item.id, user=user.id, batch=doc.movements[0].batch_id,
                   document=doc.id)
        db.engine.dispose()
    return ids


def _orm_worker(uri, ids, op, deadline, start_event, counter, ready):
    import datetime as dt

    from inventory.core.db import db
    from inventory.stock.services import ledger
    from inventory.users.models import User

    app = _app(uri)
    done = 0
    with app.app_context():
        user = db.session.get(User, ids["user"])
        today = dt.date.today()
        with ready.get_lock():
            ready.value += 1
        start_event.wait()
        while time.perf_counter() < deadline.value:
            if op == "issue":
                ledger.issue(location_id=ids["location"], item_id=ids["item"], quantity=1, user=user,
                             recipient="bench", today=today)
            else:
                ledger.receive(location_id=ids["location"], user=user,
                               lines=[ledger.ReceiptLine(ids["item"], 1)])
            db.session.commit()
            done += 1
        db.engine.dispose()
    with counter.get_lock():
        counter.value += done


def _raw_worker(uri, ids, op, deadline, start_event, counter, ready, with_document=False):
    """One conditional UPDATE + one INSERT per movement, straight through the driver; with
    ``with_document`` also a numbered document per movement (INSERT … RETURNING id, UPDATE)."""
    now = "2026-01-01 00:00:00"
    if uri.startswith("sqlite"):
        import sqlite3

        # the settings inventory._sqlite_pragmas and the busy timeout give every app connection
        con = sqlite3.connect(uri.replace("sqlite:///", ""), timeout=5)
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        mark = "?"
    else:
        import psycopg

        con = psycopg.connect(uri.replace("postgresql+psycopg://", "postgresql://"))
        mark = "%s"
    update_issue = (f"UPDATE batch SET quantity_milli = quantity_milli - 1000 "
                    f"WHERE id = {mark} AND location_id = {mark} AND quantity_milli >= 1000")
    update_receive = f"UPDATE batch SET quantity_milli = quantity_milli + 1000 WHERE id = {mark} AND location_id = {mark}"
    insert = (f"INSERT INTO movement (kind, document_id, batch_id, item_id, location_id, quantity_milli, "
              f"user_id, occurred_at, recorded_at, reason, fefo_override) "
              f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, '', {'0' if mark == '?' else 'false'})")
    insert_document = (f"INSERT INTO document (kind, location_id, user_id, occurred_at, recorded_at, counterparty, "
                       f"external_ref, reason) VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, 'bench', '', '') "
                       f"RETURNING id")
    number_document = f"UPDATE document SET number = {mark} WHERE id = {mark}"
    done = 0
    with ready.get_lock():
        ready.value += 1
    start_event.wait()
    document = ids["document"]
    while time.perf_counter() < deadline.value:
        cur = con.cursor()
        if with_document:
            cur.execute(insert_document, ("issue" if op == "issue" else "receipt", ids["location"], ids["user"],
                                          now, now))
            document = cur.fetchone()[0]
            cur.execute(number_document, (f"X-{document:06d}", document))
        if op == "issue":
            cur.execute(update_issue, (ids["batch"], ids["location"]))
            kind, qty = "issue", -1000
        else:
            cur.execute(update_receive, (ids["batch"], ids["location"]))
            kind, qty = "adjust", 1000
        assert cur.rowcount == 1
        cur.execute(insert, (kind, document, ids["batch"], ids["item"], ids["location"], qty,
                             ids["user"], now, now))
        con.commit()
        done += 1
    con.close()
    with counter.get_lock():
        counter.value += done


def _raw_document_worker(uri, ids, op, deadline, start_event, counter, ready):
    """:func:`_raw_worker` with a numbered document per movement."""
    _raw_worker(uri, ids, op, deadline, start_event, counter, ready, with_document=True)


def measure(uri, ids, op, workers, seconds, raw) -> float:
    """Movements per second with ``workers`` processes for ``seconds``; ``raw`` False (the
    service), True (raw SQL) or "document" (raw SQL with a document per movement)."""
    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    deadline = ctx.Value("d", float("inf"))
    ready = ctx.Value("i", 0)
    start = ctx.Event()
    target = {False: _orm_worker, True: _raw_worker, "document": _raw_document_worker}[raw]
    procs = [ctx.Process(target=target, args=(uri, ids, op, deadline, start, counter, ready))
             for _ in range(workers)]
    for p in procs:
        p.start()
    while ready.value < workers:  # every worker has imported, built its app and connected
        time.sleep(0.05)
    t0 = time.perf_counter()
    deadline.value = t0 + seconds
    start.set()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    return counter.value / elapsed


def main() -> None:
    """Print the throughput table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default=",".join(map(str, WORKERS)),
                        help="comma-separated numbers of worker processes (the sizes), default 1,4,16")
    parser.add_argument("--ops", default="issue,receive")
    args = parser.parse_args()
    sizes = [int(n) for n in args.workers.split(",")]
    tmp = tempfile.mkdtemp(prefix="bench-ledger-")
    urls = {"sqlite": f"sqlite:///{tmp}/bench.db",
            "postgresql": PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)}
    print(f"Ledger throughput, {args.seconds:g} s per cell, {os.cpu_count()} cores; "
          "raw = one conditional UPDATE + one INSERT per movement; raw+doc = raw plus a numbered document.\n")
    print("| backend | operation | workers | ledger service mv/s | raw SQL mv/s | service / raw "
          "| raw+doc mv/s | service / raw+doc |")
    print("|---|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        uri = urls[backend]
        ids = prepare(uri)
        for op in args.ops.split(","):
            for workers in sizes:
                service = measure(uri, ids, op, workers, args.seconds, raw=False)
                raw = measure(uri, ids, op, workers, args.seconds, raw=True)
                raw_doc = measure(uri, ids, op, workers, args.seconds, raw="document")
                print(f"| {backend} | {op} | {workers} | {service:,.0f} | {raw:,.0f} | {service / raw:.2f} "
                      f"| {raw_doc:,.0f} | {service / raw_doc:.2f} |", flush=True)
        from inventory.stock.services import ledger

        app = _app(uri)
        with app.app_context():
            problems = ledger.check_ledger()
        print(f"\n{backend}: ledger check after the run: {'OK' if not problems else problems[:3]}\n")


if __name__ == "__main__":
    main()
