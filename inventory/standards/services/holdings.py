"""What locations hold against a standard: usable, near-expiry and expired stock per location and item in one grouped query, and agreement reserves beside them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, cast, func, literal, select, type_coerce, union_all

from inventory.core import clock
from inventory.core.types import QUANTITY_SCALE
from inventory.standards.services.requirements import ZERO
from inventory.stock.models import Batch, Item, Location, LocationKind, Movement
from inventory.stock.services.expiry import ExpiryWindows, expiry_windows


def _milli(column):
    return type_coerce(column, BigInteger)


def stock_statement(as_of: dt.date, today: dt.date, location_predicate, agreement_predicate=None, *,
                    collapse_agreement: bool = False, windows: ExpiryWindows | None = None):
    """The one grouped stock query of a report: rows of (location_id, item_id, usable,
    near-expiry, expired) in milli-units, for locations matching ``location_predicate`` (a SQL
    condition on Location, or a set of location ids, which lets the database use the stock
    table's location index), and —
    in the same statement, ``UNION ALL`` — for agreement reserves matching
    ``agreement_predicate``; with ``collapse_agreement`` their rows are summed per item under
    location id -1 (only the "held under agreement" column needs them).

    On or after ``today`` it reads book stock (``Batch.quantity``); for a past date it sums
    the movements that occurred up to the end of that day (business time zone) at the
    location where each movement happened.  Expiry status is judged on ``as_of`` by
    :mod:`inventory.stock.services.expiry` (``windows`` from :func:`~.expiry.expiry_windows`, loaded
    here when not given).
    """
    windows = windows or expiry_windows()
    expired = windows.expired_sql(as_of)
    expiring = windows.near_sql(as_of)
    if as_of >= today:
        qty = _milli(Batch.quantity)
        loc_col, item_col = Batch.location_id, Batch.item_id
        base = (select().select_from(Batch)
                .join(Item, Item.id == Batch.item_id)
                .join(Location, Location.id == Batch.location_id)
                .where(Batch.quantity > 0))
    else:
        cutoff = clock.to_utc_naive(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(),
                                                        tzinfo=clock.business_tz()))
        qty = _milli(Movement.quantity)
        loc_col, item_col = Movement.location_id, Movement.item_id
        base = (select().select_from(Movement)
                .join(Batch, Batch.id == Movement.batch_id)
                .join(Item, Item.id == Movement.item_id)
                .join(Location, Location.id == Movement.location_id)
                .where(Movement.occurred_at < cutoff))
    # CAST: PostgreSQL sums BIGINT as NUMERIC, which the driver would turn into Decimal objects (slow).
    sums = tuple(cast(func.sum(expr), BigInteger) for expr in (
        case((expired, 0), else_=qty), case((expiring, qty), else_=0), case((expired, qty), else_=0)))

    def part(predicate, loc_key, keys):
        if isinstance(predicate, (set, frozenset)):  # location ids: filter the stock rows' own column (index)
            predicate = loc_col.in_(predicate or [-1])
        return base.add_columns(loc_key, item_col, *sums).where(predicate).group_by(*keys)

    main = part(location_predicate, loc_col, (loc_col, item_col))
    if agreement_predicate is None:
        return main
    if collapse_agreement:
        return union_all(main, part(agreement_predicate, literal(-1), (item_col,)))
    return union_all(main, part(agreement_predicate, loc_col, (loc_col, item_col)))


def from_milli(value) -> Decimal:
    """A summed milli-unit column of :func:`stock_statement` as a Decimal (None or 0 → 0)."""
    return Decimal(int(value)).scaleb(-QUANTITY_SCALE) if value else ZERO


def scope_predicates(*, visible_ids, location, kind, agreement_ids, every_kind=False):
    """(predicate on Location for the report's own locations, predicate for the agreement
    reserves whose stock fills the "held under agreement" column, or None); see
    :func:`~inventory.standards.services.gaps.gap_report`
    for the arguments.  bench/gaps.py times :func:`stock_statement` with these."""
    main = [Location.active.is_(True)]
    if location is not None:
        main.append(Location.id == location.id)
    elif kind is not None:
        main.append(Location.kind == kind)
    elif not every_kind:
        main.append(Location.kind != LocationKind.AGREEMENT)
    if visible_ids is not None:
        main.append(Location.id.in_(visible_ids or [-1]))
    scope_kind = location.kind if location is not None else kind
    agreement = None
    if not every_kind and scope_kind != LocationKind.AGREEMENT and agreement_ids != set():
        parts = [Location.active.is_(True), Location.kind == LocationKind.AGREEMENT]
        if agreement_ids is not None:
            parts.append(Location.id.in_(agreement_ids))
        agreement = and_(*parts)
    return and_(*main), agreement
