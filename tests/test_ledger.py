"""Ledger operations and their refusals, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from inventory.core import quantities
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, InsufficientStock, InvalidInput, NotFound
from inventory.stock.models import AppendOnlyError, Batch, Document, Movement, MovementKind
from inventory.stock.services import ledger

from .conftest import TODAY

pytestmark = pytest.mark.usefixtures("english")

D = Decimal


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Batch, Movement, Document))


@pytest.fixture
def setup(any_app, f):
    depot = f.location("DEP1", name_zh="海尚源深")
    other = f.location("DEP2", name_zh="恒大华府")
    water = f.item("W1", name_zh="瓶装水", unit="箱")
    diesel = f.item("D1", name_zh="柴油", unit="L", unit_precision=1)
    keeper = f.user("keeper", [depot, other])
    f.commit()
    return dict(depot=depot, other=other, water=water, diesel=diesel, keeper=keeper, f=f)


def refused(exc_type, fn, **kwargs):
    """Call ``fn``; assert it raises ``exc_type`` and that nothing was written after rollback."""
    before = counts()
    with pytest.raises(exc_type) as info:
        fn(**kwargs)
    db.session.rollback()
    assert counts() == before
    return info.value


# ----------------------------------------------------------------- receive


def test_receive_creates_batches_movements_and_numbered_document(setup, today):
    s = setup
    doc = ledger.receive(
        location_id=s["depot"].id, user=s["keeper"], supplier="供应商甲", external_ref="PO-7",
        occurred_at=dt.datetime(2026, 11, 28, 2, 0),
        lines=[
            ledger.ReceiptLine(s["water"].id, 120, lot_number="L1", produced_on=dt.date(2026, 10, 1),
                               expires_on=dt.date(2027, 10, 1)),
            ledger.ReceiptLine(s["diesel"].id, "200.5", lot_number="D-9"),
        ],
    )
    db.session.commit()
    assert doc.number == f"RK-20261128-{doc.id:06d}"
    assert [m.kind for m in doc.movements] == [MovementKind.RECEIVE, MovementKind.RECEIVE]
    water_batch, diesel_batch = (m.batch for m in doc.movements)
    assert water_batch.quantity == D("120")
    assert diesel_batch.quantity == D("200.5")
    assert water_batch.received_on == dt.date(2026, 11, 28)  # 10:00 in Shanghai
    assert water_batch.supplier == "供应商甲"
    assert len(water_batch.label_code) == 12 and water_batch.label_code != diesel_batch.label_code
    assert [m.quantity for m in doc.movements] == [D("120"), D("200.5")]
    assert ledger.check_ledger() == []


@pytest.mark.parametrize("quantity, message", [
    (0, "greater than zero"), (-3, "greater than zero"), ("1.5", "whole units"), ("abc", "number"),
    ("1000000000000", "too large"),
])
def test_receive_refuses_bad_quantities(setup, quantity, message):
    s = setup
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["water"].id, quantity)])
    assert message in str(err)
    assert str(err).startswith("Line 1:")


def test_receive_refuses_finer_than_unit_precision(setup):
    s = setup
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["water"].id, 5),
                         ledger.ReceiptLine(s["diesel"].id, "10.25")])
    assert str(err) == "Line 2: L allows at most 1 decimal places."


def test_receive_refuses_float(setup):
    s = setup
    refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
            lines=[ledger.ReceiptLine(s["diesel"].id, 10.5)])


def test_receive_refuses_bad_dates(setup):
    s = setup
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["water"].id, 5, produced_on=dt.date(2026, 5, 1),
                                            expires_on=dt.date(2026, 4, 1))])
    assert "expiry date is before the production date" in str(err)
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  occurred_at=dt.datetime(2026, 11, 1, 4),
                  lines=[ledger.ReceiptLine(s["water"].id, 5, produced_on=dt.date(2026, 11, 20))])
    assert "production date is after" in str(err)
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  occurred_at=dt.datetime.now() + dt.timedelta(days=2),
                  lines=[ledger.ReceiptLine(s["water"].id, 5)])
    assert "future" in str(err)


def test_receive_expired_batch_needs_explicit_override(setup):
    s = setup
    line = dict(item_id=s["water"].id, quantity=5, expires_on=dt.date(2026, 1, 1))
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(**line)])
    assert "expired on 2026-01-01" in str(err)
    doc = ledger.receive(location_id=s["depot"].id, user=s["keeper"],
                         lines=[ledger.ReceiptLine(**line, allow_expired=True)])
    db.session.commit()
    assert doc.movements[0].batch.quantity == 5


def test_receive_refuses_unknown_or_inactive_item_and_location(setup):
    s = setup
    refused(NotFound, ledger.receive, location_id=99999, user=s["keeper"],
            lines=[ledger.ReceiptLine(s["water"].id, 1)])
    refused(NotFound, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
            lines=[ledger.ReceiptLine(99999, 1)])
    s["water"].active = False
    s["other"].active = False
    db.session.commit()
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["water"].id, 1)])
    assert "inactive" in str(err)
    err = refused(InvalidInput, ledger.receive, location_id=s["other"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["diesel"].id, 1)])
    assert "inactive" in str(err)


def test_receive_refuses_empty_note_and_foreign_shelf(setup):
    s = setup
    refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"], lines=[])
    from inventory.stock.services.catalogue import ensure_sub_location

    shelf = ensure_sub_location(s["other"], "X-01")
    db.session.commit()
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["water"].id, 1, sub_location_id=shelf.id)])
    assert "does not belong" in str(err)


def test_repeated_request_token_books_once(setup):
    s = setup
    kwargs = dict(location_id=s["depot"].id, user=s["keeper"], request_token="tok-1",
                  lines=[ledger.ReceiptLine(s["water"].id, 3)])
    first = ledger.receive(**kwargs)
    db.session.commit()
    err = refused(AlreadyDone, ledger.receive, **kwargs)
    assert err.document_id == first.id
    assert db.session.scalar(select(func.sum(Batch.quantity))) == D(3)


# ----------------------------------------------------------------- issue


def test_issue_takes_nearest_expiry_first_across_batches(setup, today):
    s, f = setup, setup["f"]
    late = f.stock(s["depot"], s["water"], 10, expires_on=today + dt.timedelta(days=300), lot="late")
    never = f.stock(s["depot"], s["water"], 10, lot="no-expiry")
    soon = f.stock(s["depot"], s["water"], 4, expires_on=today + dt.timedelta(days=20), lot="soon")
    expired = f.stock(s["depot"], s["water"], 50, expires_on=today - dt.timedelta(days=1), lot="old",
                      allow_expired=True, days_ago=400)
    f.commit()
    plan = ledger.fefo_plan(s["depot"].id, s["water"].id, D(12), today)
    assert [(a.batch.lot_number, a.quantity) for a in plan] == [("soon", 4), ("late", 8)]
    doc = ledger.issue(location_id=s["depot"].id, item_id=s["water"].id, quantity=12, user=s["keeper"],
                       recipient="菊园居民区", reason="演练", today=today)
    db.session.commit()
    assert [(m.batch.lot_number, m.quantity) for m in doc.movements] == [("soon", D(-4)), ("late", D(-8))]
    assert not any(m.fefo_override for m in doc.movements)
    assert (soon.quantity, late.quantity, never.quantity, expired.quantity) == (0, 2, 10, 50)
    assert doc.counterparty == "菊园居民区" and doc.number.startswith("CK-")


def test_issue_never_counts_expired_stock(setup, today):
    s, f = setup, setup["f"]
    f.stock(s["depot"], s["water"], 5, expires_on=today + dt.timedelta(days=5))
    f.stock(s["depot"], s["water"], 50, expires_on=today - dt.timedelta(days=1), allow_expired=True,
            days_ago=30)
    f.commit()
    err = refused(InsufficientStock, ledger.issue, location_id=s["depot"].id, item_id=s["water"].id,
                  quantity=6, user=s["keeper"], recipient="x", today=today)
    assert "6 箱 requested, 5 箱 usable" in str(err)


def test_issue_from_named_batch_records_the_override(setup, today):
    s, f = setup, setup["f"]
    first = f.stock(s["depot"], s["water"], 10, expires_on=today + dt.timedelta(days=10))
    second = f.stock(s["depot"], s["water"], 10, expires_on=today + dt.timedelta(days=90))
    f.commit()
    doc = ledger.issue(location_id=s["depot"].id, item_id=s["water"].id, quantity=3, user=s["keeper"],
                       recipient="x", today=today, batch_id=second.id)
    assert doc.movements[0].batch_id == second.id and doc.movements[0].fefo_override is True
    doc = ledger.issue(location_id=s["depot"].id, item_id=s["water"].id, quantity=3, user=s["keeper"],
                       recipient="x", today=today, batch_id=first.id)
    assert doc.movements[0].fefo_override is False
    db.session.commit()
    assert (first.quantity, second.quantity) == (7, 7)


def test_issue_refusals(setup, today):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10, expires_on=today + dt.timedelta(days=10))
    old = f.stock(s["depot"], s["water"], 10, expires_on=today - dt.timedelta(days=2), allow_expired=True)
    elsewhere = f.stock(s["other"], s["water"], 10)
    f.commit()
    base = dict(location_id=s["depot"].id, item_id=s["water"].id, user=s["keeper"], today=today)
    assert "recipient" in str(refused(InvalidInput, ledger.issue, **base, quantity=1, recipient=" "))
    refused(InsufficientStock, ledger.issue, **base, quantity=11, recipient="x")
    refused(InsufficientStock, ledger.issue, **base, quantity=11, recipient="x", batch_id=batch.id)
    err = refused(InvalidInput, ledger.issue, **base, quantity=1, recipient="x", batch_id=old.id)
    assert "dispose" in str(err)
    refused(InvalidInput, ledger.issue, **base, quantity=1, recipient="x", batch_id=elsewhere.id)
    refused(InvalidInput, ledger.issue, **base, quantity="0.5", recipient="x")


def test_decimal_quantities_stay_exact(setup, today):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["diesel"], "0.3")
    for _ in range(3):
        ledger.issue(location_id=s["depot"].id, item_id=s["diesel"].id, quantity="0.1", user=s["keeper"],
                     recipient="发电机", today=today)
    db.session.commit()
    assert batch.quantity == D("0.0")
    assert ledger.check_ledger() == []


# ----------------------------------------------------------------- transfer


def test_transfer_whole_batch_keeps_identity_dates_and_label(setup, today):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10, lot="L7", produced_on=today - dt.timedelta(days=330),
                    expires_on=today + dt.timedelta(days=33))
    f.commit()
    code, received = batch.label_code, batch.received_on
    doc = ledger.transfer(batch_id=batch.id, quantity=10, to_location_id=s["other"].id, user=s["keeper"],
                          reason="调拨")
    db.session.commit()
    assert doc.number.startswith("DB-") and doc.counterparty_location_id == s["other"].id
    assert batch.location_id == s["other"].id
    assert (batch.label_code, batch.lot_number, batch.received_on, batch.quantity) == (code, "L7", received, 10)
    assert [(m.kind, m.location_id, m.quantity) for m in doc.movements] == [
        (MovementKind.TRANSFER_OUT, s["depot"].id, D(-10)), (MovementKind.TRANSFER_IN, s["other"].id, D(10))]
    assert ledger.check_ledger() == []


def test_partial_transfer_splits_and_a_second_one_merges(setup):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10, lot="L8", expires_on=TODAY + dt.timedelta(days=153))
    f.commit()
    doc = ledger.transfer(batch_id=batch.id, quantity=4, to_location_id=s["other"].id, user=s["keeper"])
    db.session.commit()
    split = doc.movements[1].batch
    assert split.id != batch.id and split.split_from_id == batch.id
    assert (split.lot_number, split.expires_on, split.received_on) == ("L8", batch.expires_on, batch.received_on)
    assert split.label_code != batch.label_code
    ledger.transfer(batch_id=batch.id, quantity=2, to_location_id=s["other"].id, user=s["keeper"])
    db.session.commit()
    assert (batch.quantity, split.quantity) == (4, 6)
    assert db.session.scalar(select(func.count(Batch.id))) == 2
    assert ledger.check_ledger() == []


def test_transfer_refusals(setup):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10)
    f.commit()
    base = dict(batch_id=batch.id, user=s["keeper"])
    assert "different destination" in str(refused(InvalidInput, ledger.transfer, **base, quantity=1,
                                                  to_location_id=s["depot"].id))
    refused(InsufficientStock, ledger.transfer, **base, quantity=11, to_location_id=s["other"].id)
    refused(NotFound, ledger.transfer, **base, quantity=1, to_location_id=424242)
    refused(NotFound, ledger.transfer, batch_id=424242, user=s["keeper"], quantity=1,
            to_location_id=s["other"].id)
    s["other"].active = False
    db.session.commit()
    refused(InvalidInput, ledger.transfer, **base, quantity=1, to_location_id=s["other"].id)


# ----------------------------------------------------------------- adjust / dispose


def test_adjust_and_dispose(setup):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["diesel"], "100.0")
    f.commit()
    up = ledger.adjust(batch_id=batch.id, delta="2.5", user=s["keeper"], reason="盘盈")
    down = ledger.adjust(batch_id=batch.id, delta="-0.5", user=s["keeper"], reason="盘亏")
    gone = ledger.dispose(batch_id=batch.id, quantity="12", user=s["keeper"], reason="变质")
    db.session.commit()
    assert batch.quantity == D("90.0")
    assert (up.number[:2], down.number[:2], gone.number[:2]) == ("TZ", "TZ", "BF")
    assert [m.kind for m in gone.movements] == [MovementKind.DISPOSE]
    refused(InvalidInput, ledger.adjust, batch_id=batch.id, delta="1", user=s["keeper"], reason="")
    refused(InvalidInput, ledger.adjust, batch_id=batch.id, delta="0", user=s["keeper"], reason="x")
    refused(InsufficientStock, ledger.adjust, batch_id=batch.id, delta="-90.1", user=s["keeper"], reason="x")
    refused(InvalidInput, ledger.dispose, batch_id=batch.id, quantity="1", user=s["keeper"], reason=" ")
    refused(InsufficientStock, ledger.dispose, batch_id=batch.id, quantity="90.1", user=s["keeper"],
            reason="x")
    assert ledger.check_ledger() == []


# ----------------------------------------------------------------- reverse


def test_reverse_points_at_the_original_and_only_once(setup):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10)
    f.commit()
    receipt = db.session.scalar(select(Movement).where(Movement.batch_id == batch.id))
    doc = ledger.reverse(movement_id=receipt.id, user=s["keeper"], reason="录入错误")
    db.session.commit()
    rev = doc.movements[0]
    assert (rev.kind, rev.quantity, rev.reverses_id) == (MovementKind.REVERSE, D(-10), receipt.id)
    assert batch.quantity == 0 and doc.number.startswith("CX-")
    assert doc.external_ref == receipt.document.number
    refused(AlreadyDone, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="again")
    err = refused(InvalidInput, ledger.reverse, movement_id=rev.id, user=s["keeper"], reason="x")
    assert "cannot itself be reversed" in str(err)
    refused(InvalidInput, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="")
    refused(NotFound, ledger.reverse, movement_id=987654, user=s["keeper"], reason="x")
    assert ledger.check_ledger() == []


def test_reverse_refuses_when_stock_already_used(setup, today):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10)
    ledger.issue(location_id=s["depot"].id, item_id=s["water"].id, quantity=8, user=s["keeper"],
                 recipient="x", today=today)
    f.commit()
    receipt = db.session.scalar(select(Movement).where(Movement.batch_id == batch.id,
                                                       Movement.kind == MovementKind.RECEIVE))
    err = refused(InsufficientStock, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="x")
    assert "already been used" in str(err)


def test_reverse_issue_document_across_batches(setup, today):
    s, f = setup, setup["f"]
    a = f.stock(s["depot"], s["water"], 3, expires_on=today + dt.timedelta(days=3))
    b = f.stock(s["depot"], s["water"], 9, expires_on=today + dt.timedelta(days=30))
    doc = ledger.issue(location_id=s["depot"].id, item_id=s["water"].id, quantity=5, user=s["keeper"],
                       recipient="x", today=today)
    f.commit()
    ledger.reverse_document(document_id=doc.id, user=s["keeper"], reason="领错了")
    db.session.commit()
    assert (a.quantity, b.quantity) == (3, 9)
    refused(AlreadyDone, ledger.reverse_document, document_id=doc.id, user=s["keeper"], reason="x")
    assert ledger.check_ledger() == []


def test_reverse_whole_transfer_returns_the_batch(setup):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10)
    doc = ledger.transfer(batch_id=batch.id, quantity=10, to_location_id=s["other"].id, user=s["keeper"])
    f.commit()
    rev = ledger.reverse(movement_id=doc.movements[1].id, user=s["keeper"], reason="调错库")
    db.session.commit()
    assert batch.location_id == s["depot"].id and batch.quantity == 10
    assert sorted(m.reverses_id for m in rev.movements) == sorted(m.id for m in doc.movements)
    assert ledger.check_ledger() == []


def test_reverse_partial_transfer_and_moved_batch_guard(setup):
    s, f = setup, setup["f"]
    third = f.location("DEP3")
    batch = f.stock(s["depot"], s["water"], 10)
    doc = ledger.transfer(batch_id=batch.id, quantity=4, to_location_id=s["other"].id, user=s["keeper"])
    f.commit()
    split = doc.movements[1].batch
    ledger.reverse(movement_id=doc.movements[0].id, user=s["keeper"], reason="x")
    db.session.commit()
    assert (batch.quantity, split.quantity) == (10, 0)
    # A receipt whose batch has since moved elsewhere whole cannot be reversed in place.
    moved = f.stock(s["depot"], s["water"], 5)
    ledger.transfer(batch_id=moved.id, quantity=5, to_location_id=third.id, user=s["keeper"])
    f.commit()
    receipt = db.session.scalar(select(Movement).where(Movement.batch_id == moved.id,
                                                       Movement.kind == MovementKind.RECEIVE))
    err = refused(InvalidInput, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="x")
    assert "moved" in str(err)
    assert ledger.check_ledger() == []


# ----------------------------------------------------------------- append-only and check


def test_movements_are_append_only(setup, backend):
    s, f = setup, setup["f"]
    f.stock(s["depot"], s["water"], 10)
    f.commit()
    mv = db.session.scalar(select(Movement))
    mv.reason = "edited"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(Movement)))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    for sql in ("UPDATE movement SET reason = 'x'", "DELETE FROM movement"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
    assert db.session.scalar(select(func.count(Movement.id))) == 1


def test_check_ledger_finds_a_tampered_batch(setup):
    s, f = setup, setup["f"]
    good = f.stock(s["depot"], s["water"], 10)
    bad = f.stock(s["depot"], s["water"], 7)
    f.commit()
    assert ledger.check_ledger() == []
    db.session.execute(text("UPDATE batch SET quantity_milli = 9000 WHERE id = :id"), {"id": bad.id})
    db.session.execute(text("UPDATE batch SET location_id = :loc WHERE id = :id"),
                       {"loc": s["other"].id, "id": good.id})
    db.session.commit()
    problems = ledger.check_ledger()
    assert {(p.batch_id, p.book, p.movements) for p in problems if "differs" in p.detail} == {(bad.id, D(9), D(7))}
    assert any(p.batch_id == good.id and "location" in p.detail for p in problems)


def test_messages_are_chinese_by_default(any_app, f):
    from flask_babel import force_locale

    depot = f.location("DEPZ")
    item = f.item("ZH1", unit="瓶")
    user = f.user("admin")
    f.commit()
    with force_locale("zh_Hans_CN"):
        err = refused(InvalidInput, ledger.receive, location_id=depot.id, user=user,
                      lines=[ledger.ReceiptLine(item.id, "1.5")])
        assert str(err) == "第 1 行：“瓶”只能按整数计量。"


# ----------------------------------------------------------------- rules found by the newcomer walkthrough


@pytest.mark.parametrize("text, message", [
    ("12，5", "1,000"), ("1,00", "1,000"), ("1e3", "only the number of 箱"), ("0x10", "only the number of 箱"),
    ("", "Enter a quantity"), ("12 5", "without spaces"), ("3袋", "only the number of 箱"),
])
def test_typed_quantities_are_refused_with_what_to_type(setup, text, message):
    s = setup
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(s["water"].id, text)])
    assert message in str(err)


def test_receipt_reads_thousands_full_width_and_the_item_unit(setup):
    s = setup
    doc = ledger.receive(location_id=s["depot"].id, user=s["keeper"], lines=[
        ledger.ReceiptLine(s["water"].id, "1,000", lot_number="T1"),
        ledger.ReceiptLine(s["water"].id, "３００箱", lot_number="T2"),
        ledger.ReceiptLine(s["diesel"].id, "１２，３４５．５ L", lot_number="T3")])
    assert [m.quantity for m in doc.movements] == [D(1000), D(300), D("12345.5")]
    assert quantities.parse_decimal_text("１２．５") == D("12.5")


def test_shelf_life_item_needs_expiry_or_production_date(setup, f):
    s = setup
    milk = f.item("MILK", name_zh="奶粉", unit="罐", shelf_life_days=540)
    f.commit()
    err = refused(InvalidInput, ledger.receive, location_id=s["depot"].id, user=s["keeper"],
                  lines=[ledger.ReceiptLine(milk.id, 3)])
    assert "shelf life" in str(err) and err.field == "expires_on"
    doc = ledger.receive(location_id=s["depot"].id, user=s["keeper"], occurred_at=dt.datetime(2026, 11, 20, 2),
                         lines=[ledger.ReceiptLine(milk.id, 3, produced_on=dt.date(2026, 6, 1))])
    # The production day is the shelf life's first day: 540 days end on day 540 (services/expiry.py).
    assert doc.movements[0].batch.expires_on == dt.date(2026, 6, 1) + dt.timedelta(days=539)


def test_movements_cannot_predate_the_batch(setup, today):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10, days_ago=5)
    f.commit()
    early = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(4))
    for fn, kw in [
        (ledger.issue, dict(location_id=s["depot"].id, item_id=s["water"].id, quantity=1, recipient="x",
                            today=today, batch_id=batch.id)),
        (ledger.transfer, dict(batch_id=batch.id, quantity=1, to_location_id=s["other"].id)),
        (ledger.adjust, dict(batch_id=batch.id, delta=1, reason="x")),
        (ledger.dispose, dict(batch_id=batch.id, quantity=1, reason="x")),
    ]:
        err = refused(InvalidInput, fn, user=s["keeper"], occurred_at=early, **kw)
        assert "before this batch was received" in str(err)
    # A back-dated FEFO issue only sees stock that had arrived by then.
    refused(InsufficientStock, ledger.issue, location_id=s["depot"].id, item_id=s["water"].id, quantity=1,
            user=s["keeper"], recipient="x", today=today, occurred_at=early)
    receipt = db.session.scalar(select(Movement).where(Movement.batch_id == batch.id))
    err = refused(InvalidInput, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="x",
                  occurred_at=early)
    assert "before the movement it reverses" in str(err)


def test_expired_stock_moves_only_with_confirmation(setup, today):
    s, f = setup, setup["f"]
    old = f.stock(s["depot"], s["water"], 10, expires_on=today - dt.timedelta(days=1), allow_expired=True,
                  days_ago=40)
    f.commit()
    err = refused(InvalidInput, ledger.transfer, batch_id=old.id, quantity=10, to_location_id=s["other"].id,
                  user=s["keeper"], today=today)
    assert err.field == "allow_expired"
    ledger.transfer(batch_id=old.id, quantity=10, to_location_id=s["other"].id, user=s["keeper"], today=today,
                    allow_expired=True)
    db.session.commit()
    assert old.location_id == s["other"].id


def test_second_reversal_is_not_a_repeated_form(setup):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10)
    f.commit()
    receipt = db.session.scalar(select(Movement).where(Movement.batch_id == batch.id))
    ledger.reverse(movement_id=receipt.id, user=s["keeper"], reason="x", request_token="a")
    db.session.commit()
    err = refused(AlreadyDone, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="x",
                  request_token="b")
    assert err.repeated_form is False
    err = refused(AlreadyDone, ledger.reverse, movement_id=receipt.id, user=s["keeper"], reason="x",
                  request_token="a")
    assert err.repeated_form is True and err.document_id is not None


# ----------------------------------------------------------------- what a booking costs


def _issue_one(s, today, ids=None):
    ids = ids or dict(location_id=s["depot"].id, item_id=s["water"].id)
    return ledger.issue(**ids, quantity=1, user=s["keeper"], recipient="x", today=today)


def _kinds(statements):
    return [" ".join(st.split()[:3]).upper() for st in statements]


def test_an_issue_runs_a_constant_minimum_of_statements(setup, today, count_queries, backend):
    """One read (location, item and usable batches together), then the numbered voucher, the
    conditional UPDATE and the movement — three statements on SQLite, one on PostgreSQL — and
    the acting user, expired by the last commit, is not read again.  The count stays the same
    with more batches, items and locations."""
    s, f = setup, setup["f"]
    f.stock(s["depot"], s["water"], 10, expires_on=today + dt.timedelta(days=30))
    f.commit()
    expected = ["SELECT LOCATION.ACTIVE AS"] + (
        ["WITH DOC AS"] if backend == "postgresql"
        else ["INSERT INTO DOCUMENT", "UPDATE BATCH SET", "INSERT INTO MOVEMENT"])
    ids = dict(location_id=s["depot"].id, item_id=s["water"].id)
    db.session.commit()  # expires the keeper as a request's commit would
    with count_queries() as first:
        _issue_one(s, today, ids)
    db.session.commit()
    assert _kinds(first.statements) == expected
    for n in range(3):  # more batches of the item here, and stock elsewhere
        f.stock(s["depot"], s["water"], 10, expires_on=today + dt.timedelta(days=60 + n))
        f.stock(s["other"], f.item(), 5)
    f.commit()
    with count_queries() as second:
        _issue_one(s, today, ids)
    db.session.commit()
    assert _kinds(second.statements) == expected
    assert ledger.check_ledger() == []


def test_an_issue_keeps_the_session_copy_of_the_batch_current(setup, today):
    s, f = setup, setup["f"]
    batch = f.stock(s["depot"], s["water"], 10)
    f.commit()
    assert batch.quantity == 10  # loaded into the session
    doc = _issue_one(s, today)
    assert batch.quantity == 9  # before the commit: the Core UPDATE expired the loaded copy
    assert [(m.batch_id, m.quantity, m.kind) for m in doc.movements] == [(batch.id, D(-1), MovementKind.ISSUE)]
    assert doc.user_id == s["keeper"].id and doc.location_id == s["depot"].id
    db.session.commit()
    assert db.session.get(Document, doc.id).movements[0].document_id == doc.id


def test_document_numbers_are_the_local_date_and_the_id_of_at_least_six_digits(setup, today, backend):
    s, f = setup, setup["f"]
    f.stock(s["depot"], s["water"], 10)
    f.commit()
    doc = _issue_one(s, today)
    db.session.commit()
    assert doc.number == f"CK-{today:%Y%m%d}-{doc.id:06d}"
    assert len(doc.number) == len("CK-20261129-000001")
    # past a million documents the id is written whole, never cut to six digits
    if backend == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('document', 'id'), 1234566)"))
    else:
        db.session.add(Document(id=1234566, kind="issue", location_id=s["depot"].id, user_id=s["keeper"].id,
                                occurred_at=dt.datetime(2026, 11, 29, 1, 0), number="CK-manual"))
    db.session.commit()
    doc = _issue_one(s, today)
    db.session.commit()
    assert (doc.id, doc.number) == (1234567, f"CK-{today:%Y%m%d}-1234567")
    assert db.session.scalar(select(Document.number).where(Document.id == 1234567)) == doc.number


def test_an_issue_whose_first_batch_was_emptied_meanwhile_takes_the_next(setup, today, monkeypatch):
    """The take written with the voucher fails when a concurrent issue emptied the batch after
    our read: the issue goes on with the next batch in FEFO order, or refuses as a whole."""
    s, f = setup, setup["f"]
    soon = f.stock(s["depot"], s["water"], 5, expires_on=today + dt.timedelta(days=5), lot="soon")
    late = f.stock(s["depot"], s["water"], 5, expires_on=today + dt.timedelta(days=50), lot="late")
    f.commit()
    ids = dict(location_id=s["depot"].id, item_id=s["water"].id)
    soon_id = soon.id
    real = ledger._new_document

    def empty_soon_then_new_document(*args, **kwargs):  # runs between the read and the writes
        db.session.connection().execute(text("UPDATE batch SET quantity_milli = 0 WHERE id = :id"),
                                        {"id": soon_id})
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "_new_document", empty_soon_then_new_document)
    doc = ledger.issue(**ids, quantity=3, user=s["keeper"], recipient="x", today=today)
    assert [(m.batch_id, m.quantity) for m in doc.movements] == [(late.id, D(-3))]
    db.session.rollback()
    err = refused(InsufficientStock, ledger.issue, **ids, quantity=8, user=s["keeper"], recipient="x",
                  today=today)
    assert "8 箱 requested, 5 箱 usable" in str(err)


def test_a_voucher_rolled_back_leaves_the_session_and_its_id_can_be_used_again(setup, today):
    """Vouchers are written by Core statements and attached to the session; a rolled-back
    savepoint or transaction takes them out of it again, as it would ORM-inserted ones."""
    s, f = setup, setup["f"]
    f.stock(s["depot"], s["water"], 10)
    f.commit()
    savepoint = db.session.begin_nested()
    dropped = _issue_one(s, today)
    savepoint.rollback()
    assert dropped not in db.session
    kept = _issue_one(s, today)
    db.session.rollback()
    assert kept not in db.session
    doc = _issue_one(s, today)
    db.session.commit()
    assert doc in db.session and doc.number.endswith(f"{doc.id:06d}")
    assert db.session.scalar(select(func.count()).select_from(Document).where(Document.kind == "issue")) == 1
    assert ledger.check_ledger() == []
