"""``seed-demo``, ``ledger check`` and the configuration rules."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from config import database_url
from inventory.core import clock
from inventory.core.db import db
from inventory.stock.models import Batch, Category, Document, Item, Location, LocationKind, Movement


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_is_realistic_and_idempotent(any_app):
    runner = any_app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "42 locations and 82 items created" in first.output
    counts = tuple(_count(m) for m in (Location, Item, Batch, Movement, Document, Category))
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "0 locations and 0 items created; 0 batches" in again.output
    assert tuple(_count(m) for m in (Location, Item, Batch, Movement, Document, Category)) == counts

    kinds = dict(db.session.execute(select(Location.kind, func.count()).group_by(Location.kind)).all())
    assert kinds == {LocationKind.DEPOT: 2, LocationKind.CIVIL_DEFENCE: 1, LocationKind.RESIDENTIAL: 36,
                     LocationKind.AGREEMENT: 3}
    names = set(db.session.scalars(select(Location.name_zh).where(Location.is_example.is_(False))))
    for compound in ("仁恒滨江园", "菊园", "江临天下", "汇豪天下", "浦江茗园", "滨江茗园"):
        assert f"{compound}居民区储备点" in names
    examples = list(db.session.scalars(select(Location).where(Location.is_example.is_(True))))
    assert len(examples) == 33 and all("示例" in l.name_zh for l in examples)
    assert {c.code for c in db.session.scalars(select(Category))} == {"1000000", "2000000", "3000000"}
    assert _count(Item) >= 60
    today = clock.local_today()  # the frozen fixture day, as the demo seeder sees it
    expiries = list(db.session.scalars(select(Batch.expires_on).where(Batch.expires_on.is_not(None))))
    assert any(e < today for e in expiries), "some stock is already expired"
    assert any(today <= e <= today + dt.timedelta(days=60) for e in expiries), "some is near expiry"
    assert any(e > today + dt.timedelta(days=730) for e in expiries), "some runs years ahead"
    kinds_booked = set(db.session.scalars(select(Movement.kind).distinct()))
    assert {k.value for k in kinds_booked} == {"receive", "issue", "transfer_out", "transfer_in", "dispose",
                                               "adjust"}
    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0 and "Ledger OK" in check.output


@pytest.mark.parametrize("hour", [0, 3, 9])
def test_seed_demo_works_early_in_the_morning(app, frozen_clock, hour):
    """A fresh install before 10:00 in Shanghai used to stop at "the time of a movement cannot be
    in the future": batches received today were booked at 10:00."""
    from .conftest import SHANGHAI, TODAY

    frozen_clock.move_to(dt.datetime.combine(TODAY, dt.time(hour, 5), tzinfo=SHANGHAI))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert _count(Batch) > 0
    latest = db.session.scalar(select(func.max(Movement.occurred_at)))
    assert latest <= clock.now_utc()


def test_seed_demo_if_empty_leaves_a_database_with_data_alone(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    movements = _count(Movement)
    out = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "skipped" in out.output and _count(Movement) == movements


def test_ledger_check_exits_non_zero_and_lists_offending_batches(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    victim = db.session.scalar(select(Batch).order_by(Batch.id).limit(1))
    db.session.execute(text("UPDATE batch SET quantity_milli = quantity_milli + 1000 WHERE id = :id"),
                       {"id": victim.id})
    db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert f"batch {victim.id} ({victim.label_code})" in result.output
    assert "FAILED: 1 problem" in result.output


def test_database_url_selects_psycopg3():
    assert database_url("postgresql://u@h/db", "sqlite://") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db", "sqlite://") == "postgresql+psycopg://u@h/db"
    assert database_url("", "sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app):
    with db.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert con.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert con.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_users_cli_creates_lists_and_resets(app, english):
    from inventory.stock.services.catalogue import LocationData, upsert_location
    from inventory.users.models import User

    upsert_location(LocationData(code="HS", kind="depot", name_zh="海尚源深"))
    db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["users", "create", "zhang", "--role", "keeper", "--location", "HS",
                              "--password", "long enough 1"])
    assert out.exit_code == 0 and "Created zhang (keeper) for HS" in out.output
    bad = runner.invoke(args=["users", "create", "li", "--role", "keeper", "--password", "long enough 1"])
    assert bad.exit_code == 1 and "at least one assigned location" in bad.output
    bad = runner.invoke(args=["users", "create", "wang", "--role", "viewer", "--password", "short"])
    assert bad.exit_code == 1 and "at least 8" in bad.output
    listing = runner.invoke(args=["users", "list"])
    assert "zhang" in listing.output and "HS" in listing.output and "wang" not in listing.output
    out = runner.invoke(args=["users", "set-password", "zhang", "--password", "another one 2"])
    assert out.exit_code == 0
    db.session.expire_all()
    from inventory.users.services.accounts import verify_password

    user = db.session.scalar(select(User).where(User.username == "zhang"))
    assert verify_password(user, "another one 2") and not verify_password(user, "long enough 1")


def test_seed_demo_prints_demo_accounts_but_not_in_production(tmp_path, sqlite_template):
    from .conftest import build_app

    (tmp_path / "dev").mkdir()
    app = build_app("sqlite", tmp_path / "dev", sqlite_template, ALLOW_DEMO_ACCOUNTS=True)
    with app.app_context():
        out = app.test_cli_runner().invoke(args=["seed-demo"])
        assert "keeper     lujiazui-demo    keeper" in out.output
    (tmp_path / "prod").mkdir()
    app = build_app("sqlite", tmp_path / "prod", sqlite_template, ALLOW_DEMO_ACCOUNTS=False)
    with app.app_context():
        from inventory.users.models import User

        out = app.test_cli_runner().invoke(args=["seed-demo"])
        assert "no demo accounts" in out.output and "lujiazui-demo" not in out.output
        assert db.session.scalar(select(func.count(User.id)).where(User.username != "system")) == 0
