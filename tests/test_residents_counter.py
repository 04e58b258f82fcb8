"""Checklist visit counters under concurrent requests lose no count, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

from sqlalchemy import select

from inventory.core.db import db
from inventory.residents.models import CounterKind, KitCounter
from inventory.residents.services import counters

from .conftest import TODAY


def test_concurrent_first_use_and_increments_lose_no_count(any_app):
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[str] = []

    def worker(i: int):
        with any_app.app_context():
            barrier.wait()  # every thread meets the empty table at once: the insert race
            for j in range(per_thread):
                kind = CounterKind.PDF if (i + j) % 5 == 0 else CounterKind.VISIT
                try:
                    counters.record_event("R02", kind, TODAY)
                    db.session.commit()
                except Exception as exc:  # any failure is a failure of the test
                    db.session.rollback()
                    errors.append(repr(exc))
            db.session.remove()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert errors == []
    expected_pdf = sum(1 for i in range(threads) for j in range(per_thread) if (i + j) % 5 == 0)
    db.session.expire_all()
    rows = dict(db.session.execute(select(KitCounter.kind, KitCounter.n).where(KitCounter.area_code == "R02")).all())
    assert rows == {CounterKind.PDF: expected_pdf, CounterKind.VISIT: threads * per_thread - expected_pdf}
