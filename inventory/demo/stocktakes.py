"""Demo stocktakes: two confirmed counts so the demo shows count history and the not-counted rule."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from inventory.core import clock
from inventory.core.db import db
from inventory.stock.models import Batch, Location
from inventory.stocktake.models import Stocktake
from inventory.stocktake.services.counts import NUMBER_PREFIX, confirm, open_count_at, record_count, start
from inventory.users.models import User

#: Demo counts (location code, days ago): already confirmed, matching the books, so that
#: "last counted" has something to show; marked by :data:`DEMO_NOTE`.
DEMO_COUNTS = (("HDHF", 20), ("MF01", 75))
DEMO_NOTE = "示例盘点（演示数据）"


def seed_demo_counts(*, today: dt.date, user: User) -> int:
    """Confirmed demo counts of :data:`DEMO_COUNTS` in which every batch matched the books.

    Books nothing (no differences).  Idempotent: does nothing when a demo count
    exists.  Locations missing from the database are skipped.  Returns how many
    counts were created; flushes.
    """
    if db.session.scalar(select(Stocktake.id).where(Stocktake.note == DEMO_NOTE).limit(1)) is not None:
        return 0
    made = 0
    for code, days in DEMO_COUNTS:
        location = db.session.scalar(select(Location).where(Location.code == code))
        if location is None or open_count_at(location.id) is not None:
            continue
        when = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(10, 0), tzinfo=clock.business_tz())
        st = start(location_id=location.id, user=user, note=DEMO_NOTE)
        for batch in db.session.scalars(select(Batch).where(Batch.location_id == location.id, Batch.quantity > 0)):
            record_count(stocktake_id=st.id, batch_id=batch.id, counted=batch.quantity, user=user,
                         sub_location_id=batch.sub_location_id)
        confirm(stocktake_id=st.id, user=user, occurred_at=when)
        db.session.expire(st)
        start_time = clock.to_utc_naive(when) - dt.timedelta(hours=2)
        st.started_at = start_time
        st.number = f"{NUMBER_PREFIX}-{clock.to_local(start_time):%Y%m%d}-{st.id:06d}"
        for line in st.lines:
            line.counted_at = start_time + dt.timedelta(hours=1)
        made += 1
    db.session.flush()
    return made
