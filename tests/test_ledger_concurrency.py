"""Concurrent writers and random operation sequences: no lost update, never negative,
book stock always equal to the sum of movements.  Run on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from inventory.core.db import db
from inventory.core.errors import AlreadyDone, DomainError, InsufficientStock
from inventory.stock.models import Batch, Movement, MovementKind
from inventory.stock.services import ledger
from inventory.users.models import User

from .conftest import TODAY, build_app
from .factories import Factories

D = Decimal


def _hammer(app, threads: int, per_thread: int, fn):
    """Run ``fn()`` ``per_thread`` times in each of ``threads`` threads started together.

    Returns (successes, refusals, unexpected errors)."""
    ok, short, errors = [], [], []
    barrier = threading.Barrier(threads)

    def worker():
        with app.app_context():
            barrier.wait()
            for _ in range(per_thread):
                try:
                    fn()
                    db.session.commit()
                    ok.append(1)
                except InsufficientStock:
                    db.session.rollback()
                    short.append(1)
                except Exception as exc:  # anything else is a failure of the test
                    db.session.rollback()
                    errors.append(repr(exc))
            db.session.remove()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    return ok, short, errors


def test_sixteen_threads_issuing_from_one_batch(any_app, f):
    depot = f.location("DEP")
    water = f.item("W")
    batch = f.stock(depot, water, 50)
    keeper = f.user("keeper", [depot])
    f.commit()
    ids = dict(location_id=depot.id, item_id=water.id)
    uid = keeper.id

    def issue_one():
        ledger.issue(**ids, quantity=1, user=db.session.get(User, uid), recipient="演练", today=TODAY)

    ok, short, errors = _hammer(any_app, threads=16, per_thread=5, fn=issue_one)
    assert errors == []
    assert (len(ok), len(short)) == (50, 30)
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).quantity == 0
    assert db.session.scalar(select(func.count(Movement.id)).where(Movement.kind == MovementKind.ISSUE)) == 50
    assert ledger.check_ledger() == []


def test_sixteen_threads_fefo_across_batches_roll_back_whole_issues(any_app, f):
    depot = f.location("DEP")
    water = f.item("W")
    f.stock(depot, water, 25, expires_on=TODAY + dt.timedelta(days=10))
    f.stock(depot, water, 25, expires_on=TODAY + dt.timedelta(days=50))
    keeper = f.user("keeper", [depot])
    f.commit()
    ids = dict(location_id=depot.id, item_id=water.id)
    uid = keeper.id

    def issue_three():
        ledger.issue(**ids, quantity=3, user=db.session.get(User, uid), recipient="x", today=TODAY)

    ok, short, errors = _hammer(any_app, threads=16, per_thread=2, fn=issue_three)
    assert errors == []
    assert (len(ok), len(short)) == (16, 16)  # 16 × 3 = 48 of 50; the last 2 cannot serve a 3
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(Batch.quantity))) == 2
    assert ledger.check_ledger() == []


# --------------------------------------------------------------------------- stateful


def _machine(backend: str, tmp_path, template):
    counter = itertools.count()

    class LedgerMachine(RuleBasedStateMachine):
        """Random receive / issue / transfer / adjust / dispose / reverse sequences against a model."""

        batches = Bundle("batches")
        movements = Bundle("movements")

        def __init__(self):
            super().__init__()
            folder = tmp_path / f"ex{next(counter)}"
            folder.mkdir()
            self.app = build_app(backend, folder, template)
            self.ctx = self.app.app_context()
            self.ctx.push()
            fac = Factories(today=TODAY)
            self.locs = [fac.location(f"M{i}") for i in range(3)]
            self.items = [fac.item("BOX"), fac.item("LIT", unit="L", unit_precision=1)]
            self.user = fac.user("admin")
            db.session.commit()
            self.qty: dict[int, Decimal] = {}
            self.where: dict[int, int] = {}
            self.expiry: dict[int, dt.date | None] = {}
            self.item_of: dict[int, int] = {}
            self.reversed: set[int] = set()

        def teardown(self):
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
            self.ctx.pop()

        def _qty(self, item_index: int, n: int) -> Decimal:
            return D(n) if item_index == 0 else D(n) / 10

        def _refused(self, exc, fn, **kw):
            try:
                fn(**kw)
            except exc:
                db.session.rollback()
                return True
            raise AssertionError(f"{fn.__name__} should have been refused")

        def _learn(self, doc):
            db.session.commit()
            out = []
            for m in doc.movements:
                b = m.batch
                self.qty.setdefault(b.id, D(0))
                self.where[b.id] = b.location_id
                self.expiry[b.id] = b.expires_on
                self.item_of[b.id] = b.item_id
                out.append(m.id)
            return out

        @rule(target=batches, loc=st.integers(0, 2), item=st.integers(0, 1), n=st.integers(1, 40),
              days=st.sampled_from([None, 10, 20, 30]))
        def receive(self, loc, item, n, days):
            q = self._qty(item, n)
            doc = ledger.receive(location_id=self.locs[loc].id, user=self.user, lines=[ledger.ReceiptLine(
                self.items[item].id, q, expires_on=TODAY + dt.timedelta(days=days) if days else None)])
            self._learn(doc)
            bid = doc.movements[0].batch_id
            self.qty[bid] = q
            return bid

        @rule(loc=st.integers(0, 2), item=st.integers(0, 1), n=st.integers(1, 60))
        def issue_fefo(self, loc, item, n):
            q = self._qty(item, n)
            lid, iid = self.locs[loc].id, self.items[item].id
            mine = sorted((b for b in self.qty if self.where[b] == lid and self.item_of[b] == iid
                           and self.qty[b] > 0),
                          key=lambda b: (self.expiry[b] is None, self.expiry[b] or TODAY, b))
            if sum(self.qty[b] for b in mine) < q:
                self._refused(InsufficientStock, ledger.issue, location_id=lid, item_id=iid, quantity=q,
                              user=self.user, recipient="r", today=TODAY)
                return
            ledger.issue(location_id=lid, item_id=iid, quantity=q, user=self.user, recipient="r", today=TODAY)
            db.session.commit()
            for b in mine:
                take = min(self.qty[b], q)
                self.qty[b] -= take
                q -= take

        @rule(batch=batches, n=st.integers(1, 50), dest=st.integers(0, 2))
        def transfer(self, batch, n, dest):
            item = 0 if self.item_of[batch] == self.items[0].id else 1
            q = self._qty(item, n)
            to = self.locs[dest].id
            if to == self.where[batch]:
                self._refused(DomainError, ledger.transfer, batch_id=batch, quantity=q, to_location_id=to,
                              user=self.user)
                return
            if self.qty[batch] < q:
                self._refused(InsufficientStock, ledger.transfer, batch_id=batch, quantity=q,
                              to_location_id=to, user=self.user)
                return
            doc = ledger.transfer(batch_id=batch, quantity=q, to_location_id=to, user=self.user)
            target = doc.movements[1].batch_id
            before = self.qty.get(target, D(0)) if target != batch else D(0)
            self._learn(doc)
            if target == batch:
                self.where[batch] = to
            else:
                self.qty[batch] -= q
                self.qty[target] = before + q

        @rule(batch=batches, n=st.integers(-30, 30).filter(bool))
        def adjust(self, batch, n):
            item = 0 if self.item_of[batch] == self.items[0].id else 1
            q = self._qty(item, n)
            if self.qty[batch] + q < 0:
                self._refused(InsufficientStock, ledger.adjust, batch_id=batch, delta=q, user=self.user,
                              reason="count")
                return
            ledger.adjust(batch_id=batch, delta=q, user=self.user, reason="count")
            db.session.commit()
            self.qty[batch] += q

        @rule(batch=batches, n=st.integers(1, 30))
        def dispose(self, batch, n):
            item = 0 if self.item_of[batch] == self.items[0].id else 1
            q = self._qty(item, n)
            if self.qty[batch] < q:
                self._refused(InsufficientStock, ledger.dispose, batch_id=batch, quantity=q, user=self.user,
                              reason="bad")
                return
            ledger.dispose(batch_id=batch, quantity=q, user=self.user, reason="bad")
            db.session.commit()
            self.qty[batch] -= q

        @rule(pick=st.integers(0, 10_000))
        def reverse(self, pick):
            ids = list(db.session.scalars(select(Movement.id).where(Movement.kind != MovementKind.REVERSE)
                                          .order_by(Movement.id)))
            if not ids:
                return
            mid = ids[pick % len(ids)]
            snapshot = (dict(self.qty), dict(self.where))
            try:
                doc = ledger.reverse(movement_id=mid, user=self.user, reason="undo")
            except AlreadyDone:
                db.session.rollback()
                assert mid in self.reversed
                return
            except DomainError:
                db.session.rollback()
                assert (dict(self.qty), dict(self.where)) == snapshot
                return
            assert mid not in self.reversed
            db.session.commit()
            for m in doc.movements:
                self.reversed.add(m.reverses_id)
                self.qty[m.batch_id] += m.quantity
                self.where[m.batch_id] = db.session.get(Batch, m.batch_id).location_id

        @invariant()
        def book_equals_model_and_movements(self):
            db.session.expire_all()
            rows = {b.id: (b.quantity, b.location_id) for b in db.session.scalars(select(Batch))}
            assert rows == {b: (self.qty[b], self.where[b]) for b in self.qty}
            assert all(q >= 0 for q, _ in rows.values())
            assert ledger.check_ledger() == []

    return LedgerMachine


def test_random_operation_sequences_keep_the_books(backend, tmp_path, sqlite_template):
    machine = _machine(backend, tmp_path, sqlite_template)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
