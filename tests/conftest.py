"""Test fixtures: apps on SQLite and PostgreSQL, factories, the acting user.

* ``app`` — an app on a fresh SQLite file (copied from a template built once by
  the migrations), with an app context pushed for the test.
* ``any_app`` — the same test on SQLite *and* on PostgreSQL
  (``TEST_DATABASE_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/inventory_test``).
  Without a reachable PostgreSQL the PostgreSQL variant is skipped locally and
  FAILS in CI (``CI`` set), so CI never passes by skipping.
* ``TEST_BACKENDS=sqlite`` limits ``any_app`` to SQLite for a quick local run.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from inventory import create_app
from inventory.extensions import db

from . import factories

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/inventory_test"
).replace("postgresql://", "postgresql+psycopg://", 1)
IN_CI = bool(os.environ.get("CI"))
BACKENDS = [b.strip() for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
TODAY = dt.date(2026, 11, 29)


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
