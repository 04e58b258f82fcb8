"""`flask alerts run` over a million batches on PostgreSQL: seconds and peak memory.

Builds a synthetic subdistrict with bulk SQL (``INSERT … SELECT generate_series``):
locations (depots, residential points, agreement reserves with contract end
dates), items (10 % equipment with inspection intervals; basic living supplies
with staged lead times 90/30/7), users with e-mail (one office account and
keepers over the locations) and N batches whose expiry dates run from 120 days
ago to almost six years ahead.  The batches are written directly, without
ledger movements: this database exists only to time the alert rules.

The data is built around today's date in ``TIMEZONE`` (default Asia/Shanghai), since
``alerts run`` refuses a real run for any other day: the first run and its rerun are real
(committed, digests sent), the next day and 30 days later are dry runs.

Each measurement runs ``flask --app app alerts run --date …`` as a child
process and reads its own peak RSS (``os.wait4``), beside a child that only
starts the app (``flask scheduler --list``) as the baseline of the same size, printed as
the difference (seconds, MB) and the ratio (MB).  The seconds per step that ``alerts run``
prints (each rule, the merge, digests, commit, delivery) follow the table.  Digests go to a
local SMTP server (aiosmtpd) in this process.

Usage:  python bench/alerts.py [--sizes 10000,100000,1000000] [--locations 2000] [--items 1000] [--users 40]
PostgreSQL URL: $BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/inventory_bench_alerts;
the database is created if missing and its schema rebuilt).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._database import reset_postgres  # noqa: E402  (after the project root is on the path)

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/inventory_bench_alerts")
#: The day the data is built around and the first run is for: today in the app's default time zone
#: (a real run is refused for any other day; later days are timed as dry runs).
DAY = dt.datetime.now(ZoneInfo(os.environ.get("TIMEZONE", "Asia/Shanghai"))).date()


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def rebuild(url: str) -> None:
    """Create the database if missing, drop its schema and migrate it."""
    from flask_migrate import upgrade

    from inventory import create_app
    from inventory.core.db import db

    reset_postgres(url)
    app = create_app("test", SQLALCHEMY_DATABASE_URI=_sa_url(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


GENERATE = [
    # Categories: the three GB/T 38565 classes; basic living supplies with staged lead times.
    """INSERT INTO category (code, name_zh, name_en, source, expiry_lead_days) VALUES
       ('1000000', '基本生活保障物资', 'Basic living supplies', 'bench', '90,30,7'),
       ('2000000', '应急装备及配套物资', 'Emergency equipment', 'bench', ''),
       ('3000000', '工程材料与机械加工设备', 'Engineering materials', 'bench', '')""",
    # Locations: 2 % depots, 3 % agreement reserves (contracts ending over two years), the rest residential.
    """INSERT INTO location (code, kind, name_zh, name_en, address, keeper_name, keeper_phone, contract_party,
         contract_ref, contract_ends_on, is_example, note, active, label_code, created_at)
       SELECT 'L' || g, CASE WHEN g % 50 = 0 THEN 'depot' WHEN g % 33 = 0 THEN 'agreement' ELSE 'residential' END,
              '基准库点' || g, 'Bench location ' || g, '', '', '',
              CASE WHEN g % 33 = 0 THEN '示例企业' || g ELSE '' END, CASE WHEN g % 33 = 0 THEN 'XY-' || g ELSE '' END,
              CASE WHEN g % 33 = 0 THEN CAST(:day AS DATE) + (g * 37) % 730 - 30 END,
              true, '', true, 'LC' || lpad(g::text, 10, '0'), now()
       FROM generate_series(1, :locations) g""",
    # Items: every tenth is equipment inspected every 14–90 days.
    """INSERT INTO item (code, name_zh, name_en, spec, unit, unit_precision, category_id, shelf_life_days,
         warning_days, inspection_interval_days, is_equipment, note, active, label_code)
       SELECT 'I' || g, '基准物资' || g, 'Bench item ' || g, '', '件', 0,
              (SELECT id FROM category WHERE code = CASE g % 3 WHEN 0 THEN '1000000' WHEN 1 THEN '2000000'
                                                          ELSE '3000000' END),
              730, (ARRAY[30, 60, 90])[1 + g % 3],
              CASE WHEN g % 10 = 0 THEN (ARRAY[14, 30, 90])[1 + g % 3] END, g % 10 = 0, '', true,
              'IC' || lpad(g::text, 10, '0')
       FROM generate_series(1, :items) g""",
    # Users: the office (sees everything) and keepers, each over every users-th location.
    """INSERT INTO "user" (username, display_name, password_hash, role, email, phone, locale, label_layout,
         active, created_at)
       SELECT CASE WHEN g = 0 THEN 'office' ELSE 'keeper' || g END, '', 'bench-not-a-hash',
              CASE WHEN g = 0 THEN 'admin' ELSE 'keeper' END,
              CASE WHEN g = 0 THEN 'office' ELSE 'keeper' || g END || '@example.org', '',
              CASE WHEN g % 4 = 1 THEN 'en' ELSE '' END, '', true, now()
       FROM generate_series(0, :users) g""",
    """INSERT INTO user_location (user_id, location_id)
       SELECT u.id, l.id FROM "user" u JOIN location l ON u.username = 'keeper' || (1 + l.id % :users)""",
    # Batches: expiry from 120 days ago to ~6 years ahead; equipment last inspected 0–89 days ago;
    # 1 % already empty.
    """INSERT INTO batch (item_id, location_id, lot_number, quantity_milli, produced_on, expires_on, received_on,
         source, supplier, label_code, last_inspected_on, created_at)
       SELECT 1 + (g * 7919) % :items, 1 + (g * 104729) % :locations, 'B' || g,
              CASE WHEN g % 100 = 0 THEN 0 ELSE 1000 * (1 + g % 50) END,
              CAST(:day AS DATE) - 800, CAST(:day AS DATE) + ((g * 31337) % 2190 - 120)::int, CAST(:day AS DATE) - 700,
              'purchase', '', 'BC' || lpad(g::text, 12, '0'),
              CASE WHEN (1 + (g * 7919) % :items) % 10 = 0 THEN CAST(:day AS DATE) - (g % 90)::int END, now()
       FROM generate_series(1::bigint, :batches) g""",
    "ANALYZE",
]


def generate(url: str, batches: int, locations: int, items: int, users: int) -> float:
    """Fill the database; return the seconds it took."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_sa_url(url))
    start = time.perf_counter()
    params = dict(batches=batches, locations=locations, items=items, users=users, day=DAY)
    with engine.begin() as con:
        for sql in GENERATE[:-1]:
            con.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
        con.execute(text(GENERATE[-1]))
    engine.dispose()
    return time.perf_counter() - start


def child(args: list[str], env: dict) -> tuple[float, float, float, str]:
    """Run ``flask --app app ARGS`` as a child; return (wall seconds, CPU seconds, peak RSS in MB, output)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{out}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def parse(out: str) -> dict:
    """Totals from the `alerts run` table: opened, escalated, reopened, resolved, active, digests, sent."""
    totals = dict.fromkeys(("opened", "escalated", "reopened", "resolved", "active"), 0)
    for line in out.splitlines():
        cells = line.split()
        if len(cells) == 6 and all(c.isdigit() for c in cells[1:]):
            for key, value in zip(totals, cells[1:]):
                totals[key] += int(value)
    m = re.search(r"written: (\d+) e-mail", out)
    totals["digests"] = int(m.group(1)) if m else 0
    m = re.search(r"Delivery: (\d+) sent", out)
    totals["sent"] = int(m.group(1)) if m else 0
    m = re.search(r"^Steps \(s\): (.*)$", out, re.M)
    totals["steps"] = [tuple(p.rsplit(" ", 1)) for p in m.group(1).split(", ")] if m else []
    m = re.search(r"Took ([\d.]+) s", out)
    totals["run_s"] = float(m.group(1)) if m else None
    return totals


class _Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def measure(url: str, batches: int, locations: int, items: int, users: int) -> list[tuple]:
    """Rebuild, fill and time the scenarios; return table rows."""
    from aiosmtpd.controller import Controller

    rebuild(url)
    gen = generate(url, batches, locations, items, users)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = dict(os.environ, DATABASE_URL=url, INVENTORY_ENV="development", ALERT_SMTP_HOST="127.0.0.1",
               ALERT_SMTP_PORT=str(port), ALERT_WEBHOOK_URL="")
    env.pop("FLASK_APP", None)
    rows = []
    try:
        base_s, base_cpu, base_mb, _ = child(["scheduler", "--list"], env)
        rows.append((batches, f"app start only (baseline); data generated in {gen:.0f} s", base_s, base_cpu,
                     base_mb, None))
        for label, args in (
                ("first run: every alert new, digests sent", ["--date", DAY.isoformat()]),
                ("same day again: nothing new", ["--date", DAY.isoformat()]),
                ("next day, dry run", ["--date", (DAY + dt.timedelta(days=1)).isoformat(), "--dry-run"]),
                ("30 days later, dry run", ["--date", (DAY + dt.timedelta(days=30)).isoformat(), "--dry-run"])):
            seconds, cpu, mb, out = child(["alerts", "run", *args], env)
            rows.append((batches, label, seconds, cpu, mb, parse(out)))
    finally:
        controller.stop()
    rows.append((batches, f"e-mails received by the SMTP server: {sink.count}", None, None, None, None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated batch counts")
    parser.add_argument("--locations", type=int, default=2000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--users", type=int, default=40, help="keepers (plus one office account)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"`alerts run` on PostgreSQL ({PG_URL.rsplit('@', 1)[-1]}), {os.cpu_count()} cores; "
          f"{args.locations} locations, {args.items} items, {args.users + 1} users with e-mail.\n")
    print("| batches | scenario | run s | process s | − baseline s | CPU s | peak RSS MB | − baseline MB |"
          " ÷ baseline | opened | escalated | reopened | resolved | active | digests | sent |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    steps = []
    for size in sizes:
        base = None
        for batches, label, seconds, cpu, mb, t in measure(PG_URL, size, args.locations, args.items, args.users):
            if seconds is None:
                print(f"| {batches:,} | {label} |" + " |" * 14)
                continue
            if base is None:
                base = (seconds, mb)
                print(f"| {batches:,} | {label} | | {seconds:.1f} | | {cpu:.1f} | {mb:.0f} | | |" + " |" * 7,
                      flush=True)
                continue
            run_s = f"{t['run_s']:.1f}" if t.get("run_s") is not None else ""
            cells = [t[k] for k in ("opened", "escalated", "reopened", "resolved", "active", "digests", "sent")]
            print(f"| {batches:,} | {label} | {run_s} | {seconds:.1f} | {seconds - base[0]:+.1f} | {cpu:.1f} | "
                  f"{mb:.0f} | {mb - base[1]:+.0f} | {mb / base[1]:.2f} | "
                  + " | ".join(f"{c:,}" for c in cells) + " |", flush=True)
            if t.get("steps"):
                steps.append((batches, label, t["steps"]))
    if steps:
        print("\nSeconds per step of `alerts run` (as it reports them):\n")
        for batches, label, step in steps:
            print(f"* {batches:,}, {label}: " + ", ".join(f"{k} {v}" for k, v in step))
    print("\n\"run s\" is the time `alerts run` reports for its work (rules, digests, delivery); \"process s\" "
          "the wall time of the whole `flask --app app alerts run` process, interpreter and app start included "
          "(see the baseline row); CPU and peak RSS are that process's own (the PostgreSQL server's work is "
          "not in its CPU).")


if __name__ == "__main__":
    main()
