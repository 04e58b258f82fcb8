"""Read models of the stocktake pages: a count's lines by shelf, and when each location was last counted."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from inventory.core.db import db
from inventory.stock.models import Batch, SubLocation
from inventory.stocktake.models import Stocktake, StocktakeLine, StocktakeStatus


@dataclass
class CountView:
    """Everything a count page or sheet shows, from three queries.

    ``counted`` — lines of batches booked here (with ``difference``);
    ``unexpected`` — lines of batches booked elsewhere; ``missing`` — batches
    with stock here that have no line yet.  All sorted by shelf, item code,
    expiry.
    """

    stocktake: Stocktake
    counted: list[StocktakeLine]
    unexpected: list[StocktakeLine]
    missing: list[Batch]

    @property
    def surplus(self) -> list[StocktakeLine]:
        """Counted lines with more on the shelf than on the books (盘盈)."""
        return [line for line in self.counted if line.difference > 0]

    @property
    def shortage(self) -> list[StocktakeLine]:
        """Counted lines with less on the shelf than on the books (盘亏)."""
        return [line for line in self.counted if line.difference < 0]


def _shelf_key(shelf: SubLocation | None) -> tuple:
    return (shelf is None, shelf.code if shelf else "")


def _expiry_key(batch: Batch) -> tuple:
    return (batch.expires_on is None, batch.expires_on or dt.date.min, batch.id)


def count_view(stocktake_id: int) -> CountView | None:
    """The count with its location, lines (batch, item, shelves, booked location, document)
    and the batches still missing; None if there is no such count.  Three queries
    whatever the number of lots."""
    st = db.session.scalar(
        select(Stocktake).options(joinedload(Stocktake.location), joinedload(Stocktake.started_by),
                                  joinedload(Stocktake.closed_by))
        .where(Stocktake.id == stocktake_id))
    if st is None:
        return None
    lines = list(db.session.scalars(
        select(StocktakeLine)
        .options(joinedload(StocktakeLine.batch).joinedload(Batch.item),
                 joinedload(StocktakeLine.batch).joinedload(Batch.sub_location),
                 joinedload(StocktakeLine.sub_location), joinedload(StocktakeLine.booked_location),
                 joinedload(StocktakeLine.document), joinedload(StocktakeLine.counted_by))
        .where(StocktakeLine.stocktake_id == st.id)).unique())
    for line in lines:  # the back reference is the count loaded above: no query per line
        set_committed_value(line, "stocktake", st)
    seen = {line.batch_id for line in lines}
    missing: list[Batch] = []
    if st.is_open:
        missing = [b for b in db.session.scalars(
            select(Batch).options(joinedload(Batch.item), joinedload(Batch.sub_location))
            .where(Batch.location_id == st.location_id, Batch.quantity > 0)).unique()
            if b.id not in seen]
    else:
        # Closed: what stayed uncounted is only of interest as it was; batches are not re-read.
        missing = []

    def line_key(line: StocktakeLine):
        return (_shelf_key(line.sub_location or line.batch.sub_location), line.batch.item.code,
                _expiry_key(line.batch))

    counted = sorted((l for l in lines if l.booked_location_id == st.location_id), key=line_key)
    unexpected = sorted((l for l in lines if l.booked_location_id != st.location_id), key=line_key)
    missing.sort(key=lambda b: (_shelf_key(b.sub_location), b.item.code, _expiry_key(b)))
    return CountView(st, counted, unexpected, missing)


def last_counted(location_ids: list[int] | set[int] | None = None) -> dict[int, dt.datetime]:
    """Latest confirmed count per location: location id → ``confirmed_at`` (naive UTC).

    ``location_ids`` limits the answer (None: every location).  Locations never
    counted are absent.  One grouped query.  Used by the alerts for "location
    not counted for N days".
    """
    stmt = (select(Stocktake.location_id, func.max(Stocktake.confirmed_at))
            .where(Stocktake.status == StocktakeStatus.CONFIRMED, Stocktake.confirmed_at.is_not(None))
            .group_by(Stocktake.location_id))
    if location_ids is not None:
        stmt = stmt.where(Stocktake.location_id.in_(list(location_ids) or [-1]))
    return {loc: when for loc, when in db.session.execute(stmt)}


def recent_counts(location_ids: set[int] | None, limit: int = 50) -> list[Stocktake]:
    """Open counts first, then the latest closed ones, at the given locations (None: all)."""
    stmt = (select(Stocktake).options(joinedload(Stocktake.location), joinedload(Stocktake.started_by))
            .order_by((Stocktake.status != StocktakeStatus.OPEN), Stocktake.started_at.desc(),
                      Stocktake.id.desc())
            .limit(limit))
    if location_ids is not None:
        stmt = stmt.where(Stocktake.location_id.in_(list(location_ids) or [-1]))
    return list(db.session.scalars(stmt))


def line_counts(stocktake_ids: list[int]) -> dict[int, int]:
    """Number of lines per count (one grouped query)."""
    if not stocktake_ids:
        return {}
    rows = db.session.execute(select(StocktakeLine.stocktake_id, func.count(StocktakeLine.id))
                              .where(StocktakeLine.stocktake_id.in_(stocktake_ids))
                              .group_by(StocktakeLine.stocktake_id))
    return dict(rows.all())
