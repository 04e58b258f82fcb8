"""Test fixtures: apps on SQLite and PostgreSQL, factories, the acting user.

* ``app`` — an app on a fresh SQLite file (copied from a template built once by
  the migrations), with an app context pushed for the test.
* ``any_app`` — the same test on SQLite *and* on PostgreSQL
  (``TEST_DATABASE_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/inventory_test``).
  Without a reachable PostgreSQL the PostgreSQL variant is skipped locally and
  FAILS in CI (``CI`` set), so CI never passes by skipping.
* ``TEST_BACKENDS=sqlite`` limits ``any_app`` to SQLite for a quick local run.
* ``frozen_clock`` (autouse) — every test runs with the clock set by time-machine to
  ``TODAY`` at 10:00 Asia/Shanghai, ticking from there; the app and the test read the
  same instant.  ``TEST_TODAY=YYYY-MM-DD`` moves that day (CI runs the suite a second
  time at least 400 days ahead to prove no test depends on the day it was written).
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text

from inventory import create_app
from inventory.core.db import db

from . import factories

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/inventory_test"
).replace("postgresql://", "postgresql+psycopg://", 1)
IN_CI = bool(os.environ.get("CI"))
BACKENDS = [b.strip() for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _fixture_today() -> dt.date:
    raw = os.environ.get("TEST_TODAY", "").strip()
    if not raw:
        return dt.date(2026, 11, 29)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise pytest.UsageError(f"TEST_TODAY must be a date like 2028-01-05, not {raw!r}") from None


TODAY = _fixture_today()
#: The instant every test starts at: 10:00 in Shanghai on ``TODAY`` (02:00 UTC).
NOW = dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen_clock():
    """Set the clock of the app and the test to ``NOW`` (ticking), for every test.

    Yields the time-machine traveller, so a test can ``frozen_clock.move_to(...)`` or
    ``frozen_clock.shift(...)``.  Nothing in the suite reads the machine's real date."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def _upgrade(uri: str) -> None:
    from flask_migrate import upgrade

    app = create_app("test", SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file with the migrated schema; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _upgrade(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


_pg_state: dict = {}


def pg_url_or_skip() -> str:
    """Return the migrated PostgreSQL test URL; skip (locally) or fail (CI) when unreachable."""
    if "error" in _pg_state:
        _unavailable(_pg_state["error"])
    if not _pg_state.get("ready"):
        try:
            ensure_database(PG_URL)
            engine = create_engine(PG_URL)
            with engine.begin() as con:
                con.execute(text("DROP SCHEMA public CASCADE"))
                con.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            _upgrade(PG_URL)
        except Exception as exc:  # connection refused, missing database …
            _pg_state["error"] = f"PostgreSQL at {PG_URL} unavailable: {exc}"
            _unavailable(_pg_state["error"])
        _pg_state["ready"] = True
    return PG_URL


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when the server is up but the database is missing.

    Connects to the server's ``postgres`` maintenance database as the same role; a newcomer's
    ``make test`` then needs no manual ``createdb``.  Raises the driver's error when the server
    cannot be reached or the role may not create databases."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            exists = con.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                con.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (CI must run the PostgreSQL tests)")
    pytest.skip(message)


def _truncate_pg() -> None:
    engine = create_engine(PG_URL)
    names = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.begin() as con:
        con.execute(text("TRUNCATE TABLE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


def database_uri(backend: str, tmp_path: Path, template: Path) -> str:
    """A fresh, migrated, empty database of ``backend`` for one test."""
    if backend == "sqlite":
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url = pg_url_or_skip()
    _truncate_pg()
    return url


def build_app(backend: str, tmp_path: Path, template: Path, **overrides):
    """Create an app on a fresh database of ``backend``."""
    uri = database_uri(backend, tmp_path, template)
    return create_app("test", SQLALCHEMY_DATABASE_URI=uri, **overrides)


def _app_fixture(backend, tmp_path, template):
    app = build_app(backend, tmp_path, template)
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
        ctx.pop()


@pytest.fixture
def app(tmp_path, sqlite_template):
    """An app on a fresh SQLite database, app context pushed."""
    yield from _app_fixture("sqlite", tmp_path, sqlite_template)


def _backend_params():
    return [pytest.param(b, marks=pytest.mark.postgresql) if b == "postgresql" else b for b in BACKENDS]


@pytest.fixture(params=_backend_params())
def backend(request) -> str:
    """The database backend name of a parametrised test."""
    return request.param


@pytest.fixture
def any_app(backend, tmp_path, sqlite_template):
    """The same test on SQLite and on PostgreSQL, app context pushed."""
    yield from _app_fixture(backend, tmp_path, sqlite_template)


@pytest.fixture
def english(app_for_factories):
    """Service messages in English for the duration of the test (the default is Chinese)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def today() -> dt.date:
    """The fixed 'today' of the tests."""
    return TODAY


@pytest.fixture
def f(app_for_factories):
    """Factories bound to the test's app (see tests/factories.py)."""
    return factories.Factories(today=TODAY)


@pytest.fixture
def app_for_factories(request):
    """Whichever app fixture the test uses."""
    for name in ("any_app", "app"):
        if name in request.fixturenames:
            return request.getfixturevalue(name)
    return request.getfixturevalue("app")


# --------------------------------------------------------------------------- web

PASSWORD = "correct horse 1"


class IsolatedClient(FlaskClient):
    """A test client whose requests run in a fresh context, as in production.

    The test keeps an app context pushed for its own set-up and assertions;
    without this, Flask would reuse it for the request, and the request would
    share the test's database session and identity map (hiding missing
    eager loads and stale-object bugs).  After a request the test sees its
    effects with ``db.session.expire_all()`` or fresh queries.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    """A test client of the SQLite app (requests isolated from the test's session)."""
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def login(client):
    """``login(user)`` signs the client in as ``user`` (created with the factories' password)."""

    def do(user):
        client.post("/logout")
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.data[:500]
        return client

    return do


class QueryCounter:
    """SQL statements run on the app's engines while counting (see :func:`count_queries`).

    ``statements`` is the list of SQL strings in order; ``len(counter)`` their number;
    ``counter.selects`` only those that start with SELECT (or WITH).
    """

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]

    def _capture(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)


@pytest.fixture
def count_queries(app_for_factories):
    """``with count_queries() as q: client.get(url)`` counts the SQL the block runs.

    Listens on every engine of the test's app (SQLite or PostgreSQL), so a request made
    through the isolated test client is counted too.  Use it to prove that a page's
    query count does not grow with the data: count once, double the locations, items
    or batches, count again, assert the two are equal.
    """
    from sqlalchemy import event

    engines = list(db.engines.values())

    @contextlib.contextmanager
    def counting():
        counter = QueryCounter()
        for engine in engines:
            event.listen(engine, "before_cursor_execute", counter._capture)
        try:
            yield counter
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", counter._capture)

    return counting


@pytest.fixture
def world(app, f):
    """A small subdistrict: a depot, another depot, the civil-defence warehouse, two residential
    points; one user per role; stock of water and diesel at the depot."""
    dep = f.location("DEP", name_zh="海尚源深储备库")
    dep2 = f.location("DEP2", name_zh="恒大华府储备库")
    mf = f.location("MF", kind="civil_defence", name_zh="民防应急物资仓库")
    res = f.location("RES", kind="residential", name_zh="菊园居民区储备点", residents_served=3000)
    res2 = f.location("RES2", kind="residential", name_zh="示例居民区储备点")
    water = f.item("W1", name_zh="瓶装饮用水", unit="箱", warning_days=30)
    diesel = f.item("D1", name_zh="柴油", unit="L", unit_precision=1)
    hood = f.item("P1", name_zh="消防过滤式自救呼吸器", unit="具")
    users = {
        "admin": f.user("admin", username="admin1"),
        "keeper": f.user("keeper", [dep], username="keeper1"),
        "civil_defence": f.user("civil_defence", [mf], username="wzb1"),
        "residential": f.user("residential", [res], username="res1"),
        "viewer": f.user("viewer", username="viewer1"),
        "mf_keeper": f.user("keeper", [mf], username="mfkeeper1"),
    }
    import datetime as _dt

    batch = f.stock(dep, water, 100, expires_on=TODAY + _dt.timedelta(days=200), lot="W-2026")
    f.stock(dep, water, 20, expires_on=TODAY + _dt.timedelta(days=20), lot="W-SOON")
    old = f.stock(dep, water, 5, expires_on=TODAY - _dt.timedelta(days=3), lot="W-OLD", allow_expired=True,
                  days_ago=300)
    fuel = f.stock(dep, diesel, "50.5", lot="D-1")
    mf_batch = f.stock(mf, hood, 40, lot="H-1")
    res_batch = f.stock(res, water, 6, lot="R-1")
    res2_batch = f.stock(res2, water, 8, lot="R2-1")
    f.commit()
    return dict(dep=dep, dep2=dep2, mf=mf, res=res, res2=res2, water=water, diesel=diesel, hood=hood,
                users=users, batch=batch, old=old, fuel=fuel, mf_batch=mf_batch, res_batch=res_batch,
                res2_batch=res2_batch)


# --------------------------------------------------------------------------- browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture
def live_server(app):
    """The test database served over HTTP on a free loopback port, with CSRF on; yields the base URL."""
    import threading

    from werkzeug.serving import make_server

    served = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download).

    Skipped locally when Chromium is missing; a failure in CI."""
    if not os.path.exists(CHROMIUM):
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page (360 × 740, touch)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


# --------------------------------------------------------------------------- run summary


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """End every run by saying which day the clock was frozen at, and what was skipped and why."""
    tr = terminalreporter
    tr.section("run summary")
    tr.write_line(f"Clock frozen at {NOW.isoformat()} (TEST_TODAY={os.environ.get('TEST_TODAY') or 'default'}).")
    skipped = tr.stats.get("skipped", [])
    if not skipped:
        tr.write_line("Nothing was skipped.")
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    tr.write_line(f"{len(skipped)} test(s) skipped; CI runs them all and fails instead of skipping:")
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"  {count:4d} × {reason}")
