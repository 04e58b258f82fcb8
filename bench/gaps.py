"""Gap report and dashboard: page cost on the demo data, and report time at 200 subdistricts.

Default run (pages): the Lujiazui demo (``seed_demo``, 42 locations) at ``--factors`` sizes
(default 1, 2, 4: every location copied with its batches, so locations and batches double
and quadruple).  Signed in as the demo admin (``--user``), it requests through Flask's test
client (server side, no network) the gap page ``/gaps``, its XLSX export and the dashboard,
and prints for each the median ms of ``--repeat`` requests, the response KB and the SQL
statement count, beside two baselines measured in the same run: a bare signed-in route that
renders nothing (``/_bench/bare``, added by the bench: access check and user load) and the
gap report's grouped stock statement alone.  SQLite in a temporary folder, or
``--database-url`` (PostgreSQL, wiped)::

    python bench/gaps.py [--factors 1 2 4] [--repeat 15] [--database-url postgresql://…]

``--service`` runs the older service-level bench below instead.

Service run (``--service``): gap report time at Lujiazui scale and at 200 subdistricts,
beside the bare grouped stock query.

Data per subdistrict (Lujiazui scale): 40 locations (2 depots, 1 civil-defence warehouse,
34 residential storage points, 3 agreement reserves) × 300 items × 5 batches = 60,000 batches;
one standard list per kind with all 300 items (depot: absolute quantities; residential: a
third each per 1,000 residents, per household and absolute; civil defence: absolute).  Batch
expiry dates mix expired, near-expiry, no-expiry and fine stock.  Stock rows are inserted in
bulk (SQLite: executemany; PostgreSQL: INSERT … SELECT over generate_series), not through the
ledger: the report reads book stock (``Batch.quantity``) and never the movements.

"200 subdistricts": the data model has no subdistrict entity, so this is ONE PostgreSQL
database holding 200 × 40 = 8,000 locations and 12,000,000 batches.  It times (a) the
all-locations roll-up (every physical location, agreement reserves apart; per-line rows not
kept: ``detail=False``), (b) one kind's report (the 400 depots, with every line) and (c) one
location's report.

Every row also times the bare grouped query the report is built on
(:func:`inventory.standards.services.holdings.stock_statement`, same predicate, rows fetched), so the
ratio shows what the rest costs: list, assignment and override queries and the Python that
computes required quantities, shortfalls and roll-ups.  Times are the best of ``--repeat`` runs.

Usage:  python bench/gaps.py --service [--backends sqlite,postgresql] [--subdistricts 200] [--repeat 3]
PostgreSQL URL: $BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/inventory_bench;
the database is created if missing and its schema rebuilt).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._database import reset_postgres  # noqa: E402  (after the project root is on the path)

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/inventory_bench")
ITEMS = 300
BATCHES_PER_LINE = 5
LAYOUT = [("depot", 2), ("civil_defence", 1), ("residential", 34), ("agreement", 3)]  # 40 locations
LOCATIONS_PER_SUBDISTRICT = sum(n for _k, n in LAYOUT)


def _url(raw: str) -> str:
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def _master_data(today: dt.date, subdistricts: int) -> None:
    """Items, locations and the three standard lists (bulk inserts; lists through the service)."""
    from sqlalchemy import insert

    from inventory.core.db import db
    from inventory.standards.services import lists as standard_lists
    from inventory.stock.models import Item, Location
    from inventory.stock.services import catalogue
    from inventory.users.services.accounts import get_system_user

    cats = catalogue.ensure_top_categories()
    cat_ids = [cats[c].id for c in sorted(cats)]
    db.session.execute(insert(Item.__table__), [
        dict(code=f"I{n:03d}", name_zh=f"物资{n:03d}", name_en="", spec="", unit="kg" if n % 10 == 0 else "箱",
             unit_precision=1 if n % 10 == 0 else 0, category_id=cat_ids[n % 3], warning_days=30, note="",
             is_equipment=False, active=True, label_code=f"IT{n:010d}") for n in range(1, ITEMS + 1)])
    rows = []
    for s in range(subdistricts):
        i = 0
        for kind, count in LAYOUT:
            for _ in range(count):
                i += 1
                rows.append(dict(code=f"S{s:03d}-{i:02d}", kind=kind, name_zh=f"街道{s:03d}库点{i:02d}", name_en="",
                                 address="", keeper_name="", keeper_phone="",
                                 residents_served=2000 + 100 * i if kind == "residential" else None,
                                 households_served=800 + 37 * i if kind == "residential" else None,
                                 contract_party="", contract_ref="", is_example=True, note="", active=True,
                                 label_code=f"LC{s:04d}{i:06d}"))
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(Location.__table__), rows[start:start + 2000])
    system = get_system_user()
    bases = ["per_1000_residents", "per_household", "absolute"]
    for kind, lines in (
        ("depot", [(f"I{n:03d}", Decimal(50 + (n % 7) * 50), "absolute") for n in range(1, ITEMS + 1)]),
        ("civil_defence", [(f"I{n:03d}", Decimal(20), "absolute") for n in range(1, ITEMS + 1)]),
        ("residential", [(f"I{n:03d}", Decimal("0.01") if n % 3 == 1 else Decimal(5), bases[n % 3])
                         for n in range(1, ITEMS + 1)]),
    ):
        standard_lists.save_version(standard_lists.ListData(
            code=f"BENCH-{kind}", name_zh=f"基准清单 {kind}", effective_on=today - dt.timedelta(days=365),
            authority="illustrative", location_kind=kind,
            lines=[standard_lists.LineData(code, qty, basis, 80) for code, qty, basis in lines]), user=system)
    db.session.commit()


def _batches_sqlite(today: dt.date) -> int:
    from inventory.core.db import db

    con = db.session.connection().connection.driver_connection
    locs = [r[0] for r in con.execute("SELECT id FROM location ORDER BY id")]
    items = [r[0] for r in con.execute("SELECT id FROM item ORDER BY id")]

    def rows():
        for l in locs:
            for i in items:
                for b in range(1, BATCHES_PER_LINE + 1):
                    k = (i + l + b) % 10
                    expires = (today - dt.timedelta(days=5) if k == 0 else today + dt.timedelta(days=10) if k == 1
                               else None if k == 2 else today + dt.timedelta(days=200 + b))
                    yield (i, l, f"L{b}", ((l * 7 + i * 13 + b * 31) % 400 + 1) * 1000,
                           (today - dt.timedelta(days=400)).isoformat(), expires.isoformat() if expires else None,
                           (today - dt.timedelta(days=30)).isoformat(), "purchase", "", f"B{l}-{i}-{b}",
                           dt.datetime(2026, 1, 1).isoformat(" "))
    con.executemany(
        "INSERT INTO batch (item_id, location_id, lot_number, quantity_milli, produced_on, expires_on, received_on, "
        "source, supplier, label_code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
    db.session.commit()
    return len(locs) * len(items) * BATCHES_PER_LINE


PG_BATCH_INDEXES = {
    "ix_batch_expires_on": "CREATE INDEX ix_batch_expires_on ON batch (expires_on)",
    "ix_batch_item_id": "CREATE INDEX ix_batch_item_id ON batch (item_id)",
    "ix_batch_location_id": "CREATE INDEX ix_batch_location_id ON batch (location_id)",
    "ix_batch_location_item": "CREATE INDEX ix_batch_location_item ON batch (location_id, item_id)",
}


def _batches_pg(today: dt.date, subdistricts: int, log) -> int:
    """INSERT … SELECT location × item × generate_series(1, 5), one subdistrict chunk at a time, with
    foreign-key triggers off for the load and the secondary indexes built afterwards."""
    from sqlalchemy import text

    from inventory.core.db import db

    con = db.session.connection()
    con.execute(text("SET session_replication_role = replica"))  # skip FK trigger checks for the bulk load
    for name in PG_BATCH_INDEXES:
        con.execute(text(f"DROP INDEX IF EXISTS {name}"))
    con.execute(text("ALTER TABLE batch DROP CONSTRAINT IF EXISTS uq_batch_label_code"))
    db.session.commit()
    chunk = 20
    for first in range(0, subdistricts, chunk):
        con = db.session.connection()
        con.execute(text("SET session_replication_role = replica"))
        con.execute(text("""
            INSERT INTO batch (item_id, location_id, lot_number, quantity_milli, produced_on, expires_on,
                               received_on, source, supplier, label_code, created_at)
            SELECT i.id, l.id, 'L' || b, ((l.id * 7 + i.id * 13 + b * 31) % 400 + 1) * 1000,
                   CAST(:today AS date) - 400,
                   CASE (i.id + l.id + b) % 10 WHEN 0 THEN CAST(:today AS date) - 5
                        WHEN 1 THEN CAST(:today AS date) + 10 WHEN 2 THEN NULL
                        ELSE CAST(:today AS date) + 200 + b END,
                   CAST(:today AS date) - 30, 'purchase', '', 'B' || l.id || '-' || i.id || '-' || b,
                   TIMESTAMP '2026-01-01 00:00:00'
            FROM location l CROSS JOIN item i CROSS JOIN generate_series(1, :per) AS b
            WHERE l.code >= :lo AND l.code < :hi
        """), {"today": today, "per": BATCHES_PER_LINE, "lo": f"S{first:03d}", "hi": f"S{first + chunk:03d}"})
        db.session.commit()
        log(f"  batches for subdistricts {first}–{min(first + chunk, subdistricts) - 1} inserted")
    con = db.session.connection()
    con.execute(text("SET maintenance_work_mem = '512MB'"))
    con.execute(text("ALTER TABLE batch ADD CONSTRAINT uq_batch_label_code UNIQUE (label_code)"))
    for sql in PG_BATCH_INDEXES.values():
        con.execute(text(sql))
    db.session.commit()
    con = db.session.connection()
    con.execute(text("ANALYZE"))
    db.session.commit()
    return db.session.scalar(text("SELECT count(*) FROM batch"))


def prepare(backend: str, uri: str, subdistricts: int, today: dt.date, log):
    """A migrated database with the benchmark data; returns (app, batch count)."""
    from flask_migrate import upgrade

    from inventory import create_app

    if backend == "postgresql":
        reset_postgres(uri)
    app = create_app("test", SQLALCHEMY_DATABASE_URI=_url(uri))
    with app.app_context():
        upgrade()
        _master_data(today, subdistricts)
        t = time.perf_counter()
        count = _batches_sqlite(today) if backend == "sqlite" else _batches_pg(today, subdistricts, log)
        log(f"  {count:,} batches in {time.perf_counter() - t:.1f} s")
    return app, count


def best(fn, repeat: int) -> tuple[float, object]:
    """(best wall time in seconds over ``repeat`` runs, the last result)."""
    from inventory.core.db import db

    times, result = [], None
    for _ in range(repeat):
        db.session.expire_all()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        db.session.rollback()
    return min(times), result


def measure(app, today: dt.date, scope: dict, repeat: int) -> tuple[float, float, int, int]:
    """(report seconds, bare query seconds, locations in the report, lines computed)."""
    from inventory.core.db import db
    from inventory.standards.services import gaps as standards

    with app.app_context():
        report_s, report = best(lambda: standards.gap_report(today, **scope), repeat)
        stmt = report.statement  # the very grouped statement the report ran
        bare_s, _rows = best(lambda: db.session.execute(stmt).all(), repeat)
        lines = sum(g.tally.lines + g.tally.unknown for g in report.locations + report.agreement_locations)
        return report_s, bare_s, len(report.locations), lines


def service_main(argv=None) -> None:
    """The service-level run (``--service``): gap_report() beside its bare grouped query."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", action="store_true")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--subdistricts", type=int, default=200, help="size of the large PostgreSQL run (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    today = dt.date.today()
    rows = []

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    from inventory.stock.models import Location, LocationKind

    runs = []
    if "sqlite" in backends:
        runs.append(("sqlite", 1))
    if "postgresql" in backends:
        runs.append(("postgresql", 1))
        if args.subdistricts > 1:
            runs.append(("postgresql", args.subdistricts))
    with tempfile.TemporaryDirectory() as tmp:
        for backend, size in runs:
            uri = f"sqlite:///{tmp}/bench-{size}.db" if backend == "sqlite" else PG_URL
            log(f"{backend}: preparing {size} subdistrict(s) …")
            app, batches = prepare(backend, uri, size, today, log)
            with app.app_context():
                from inventory.core.db import db

                one = db.session.scalar(db.select(Location).where(Location.code == "S000-05"))
                db.session.expunge(one)
            scale = "Lujiazui (1 subdistrict)" if size == 1 else f"{size} subdistricts, one database"
            scopes = [("subdistrict roll-up, every line", {})] if size == 1 else [
                ("all-locations roll-up (detail=False)", {"detail": False}),
                ("one kind: depots, every line", {"kind": LocationKind.DEPOT})]
            scopes.append(("one location", {"location": one}))
            for label, scope in scopes:
                log(f"  timing {label} …")
                # The 200-subdistrict roll-up computes millions of lines: one run keeps the benchmark bounded.
                repeat = 1 if size > 1 and scope.get("detail") is False else args.repeat
                report_s, bare_s, locs, lines = measure(app, today, scope, repeat)
                rows.append((backend, scale, label, locs, batches, lines, report_s, bare_s))
            with app.app_context():
                from inventory.core.db import db

                db.engine.dispose()

    head = ("backend", "scale", "report", "locations", "batches", "lines", "report s", "bare query s", "ratio")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for backend, scale, label, locs, batches, lines, report_s, bare_s in rows:
        print(f"| {backend} | {scale} | {label} | {locs:,} | {batches:,} | {lines:,} | {report_s:.3f} | "
              f"{bare_s:.3f} | {report_s / bare_s:.1f} |")


# --------------------------------------------------------------------------- pages on the demo data

PAGE_URLS = (("gap page /gaps", "/gaps"), ("gap export /gaps.xlsx", "/gaps.xlsx"), ("dashboard", "/dashboard"))
BARE_URL = "/_bench/bare"


def _scale_demo(factor: int) -> None:
    """Copy every demo location (code + "-K<n>", same kind, served numbers and standard list)
    with all its batches ``factor - 1`` times, so locations and batches grow ``factor``-fold.
    Book stock only (``Batch.quantity``): the pages read it, never the movements."""
    from sqlalchemy import text

    from inventory.core.db import db

    con = db.session.connection()
    for n in range(1, factor):
        con.execute(text(f"""
            INSERT INTO location (code, kind, name_zh, name_en, address, keeper_name, keeper_phone,
                                  residents_served, households_served, contract_party, contract_ref,
                                  contract_ends_on, is_example, note, active, label_code, created_at)
            SELECT code || '-K{n}', kind, name_zh || ' {n}', name_en, address, keeper_name, keeper_phone,
                   residents_served, households_served, contract_party, contract_ref, contract_ends_on,
                   is_example, note, active, label_code || 'K{n}', created_at
            FROM location WHERE code NOT LIKE '%-K%'"""))
        con.execute(text(f"""
            INSERT INTO batch (item_id, location_id, lot_number, quantity_milli, produced_on, expires_on,
                               received_on, source, supplier, label_code, last_inspected_on, created_at)
            SELECT b.item_id, c.id, b.lot_number, b.quantity_milli, b.produced_on, b.expires_on, b.received_on,
                   b.source, b.supplier, b.label_code || 'K{n}', b.last_inspected_on, b.created_at
            FROM batch b JOIN location o ON o.id = b.location_id
                         JOIN location c ON c.code = o.code || '-K{n}'"""))
    db.session.commit()


def _demo_app(url: str | None, folder: Path, factor: int, today: dt.date):
    """A migrated database with the demo data (``seed_demo``, demo accounts) scaled ``factor``-fold,
    and a bare signed-in route (``/_bench/bare``: access check and user load, no query of its own)
    as the baseline; returns (app, locations, batches)."""
    import contextlib
    import io

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from inventory import create_app
    from inventory.core.db import db
    from inventory.core.policy import STAFF
    from inventory.demo.seed import seed_demo
    from inventory.stock.models import Batch, Location
    from inventory.web.access import access

    if url:
        reset_postgres(url)
    uri = _url(url) if url else f"sqlite:///{folder / f'demo-{factor}.db'}"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=uri)

    @access(*STAFF)
    def bare():
        return "ok"

    app.add_url_rule(BARE_URL, "bench_bare", bare)
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # alembic's INFO lines
            upgrade()
        seed_demo(today=today, with_accounts=True)
        db.session.commit()
        _scale_demo(factor)
        locations = db.session.scalar(select(func.count(Location.id)))
        batches = db.session.scalar(select(func.count(Batch.id)).where(Batch.quantity > 0))
    return app, locations, batches


def _time_get(app, client, url: str, repeat: int) -> tuple[float, float, int, int]:
    """(median wall ms and median CPU ms of this process over ``repeat`` requests after one warm-up,
    SQL statements of the last, bytes).  CPU time is what the request itself cost (SQLite runs in
    this process): unlike wall time it hardly moves when other programs load the machine."""
    import statistics

    from sqlalchemy import event

    from inventory.core.db import db

    with app.app_context():
        engine = db.engine
    client.get(url)  # warm-up: templates compiled, caches filled
    times, cpu, statements, size = [], [], 0, 0
    for _ in range(repeat):
        box = [0]

        def count(*_a):
            box[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        t, c = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
        statements, size = box[0], len(response.data)
    return statistics.median(times), statistics.median(cpu), statements, size


def _time_query(app, today: dt.date, repeat: int) -> float:
    """Median CPU ms of the admin gap report's grouped stock statement alone (rows fetched)."""
    import statistics

    from inventory.core.db import db
    from inventory.standards.services import gaps as standards

    with app.app_context():
        stmt = standards.gap_report(today, detail=False).statement
        times = []
        for _ in range(repeat):
            c = time.process_time()
            db.session.execute(stmt).all()
            times.append((time.process_time() - c) * 1000)
        db.session.rollback()
    return statistics.median(times)


def pages_main(argv=None) -> int:
    """The page run (default): the gap page, its XLSX export and the dashboard as the demo admin,
    at the demo size and ``--factors`` times its locations and batches; prints a Markdown table."""
    from inventory.core import clock
    from inventory.core.db import db

    parser = argparse.ArgumentParser(description="Gap page and dashboard on the demo data, scaled")
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (wiped); default: SQLite in a temporary folder")
    parser.add_argument("--user", default="admin", help="demo account to sign in as")
    args = parser.parse_args(argv)
    from inventory.demo.accounts import DEMO_PASSWORD

    today = clock.local_today()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}; demo user {args.user}; median of {args.repeat} requests through the test client "
          f"(server side, no network): wall ms, and CPU ms of this process (steady on a loaded machine; "
          f"with SQLite it includes the queries). Baselines measured in the same run, as CPU ms: "
          f"'bare' = a signed-in route that renders nothing ({BARE_URL}); 'query' = the gap report's "
          f"grouped stock statement alone. Ratios are CPU ms / baseline CPU ms.")
    head = ("size", "locations", "batches", "page", "wall ms", "CPU ms", "KB", "SQL", "bare CPU ms", "× bare",
            "query CPU ms", "× query")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for factor in args.factors:
            app, locations, batches = _demo_app(args.database_url, Path(tmp), factor, today)
            client = app.test_client()
            response = client.post("/login", data={"username": args.user, "password": DEMO_PASSWORD})
            assert response.status_code == 302, "sign-in failed"
            _wall, bare_ms, _sql, _size = _time_get(app, client, BARE_URL, args.repeat)
            query_ms = _time_query(app, today, args.repeat)
            for label, url in PAGE_URLS:
                wall, ms, sql, size = _time_get(app, client, url, args.repeat)
                print(f"| {factor}× demo | {locations} | {batches:,} | {label} | {wall:.1f} | {ms:.1f} | "
                      f"{size / 1024:.1f} | {sql} | {bare_ms:.2f} | {ms / bare_ms:.1f} | {query_ms:.2f} | "
                      f"{ms / query_ms:.1f} |", flush=True)
            with app.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
    return 0


if __name__ == "__main__":
    if "--service" in sys.argv[1:]:
        service_main(sys.argv[1:])
    else:
        raise SystemExit(pages_main(sys.argv[1:]))
