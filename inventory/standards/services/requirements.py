"""What a location must hold on a day: the list version in force, its assignment and overrides, and the required and restock quantities (the rules are in :mod:`inventory.standards.services.gaps`)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from inventory.core.db import db
from inventory.standards.models import (
    LocationStandard,
    StandardBasis,
    StandardLine,
    StandardList,
    StandardListVersion,
    StandardOverride,
)
from inventory.stock.models import Item, Location, category_level

ZERO = Decimal(0)
HUNDRED = Decimal(100)
THOUSAND = Decimal(1000)
#: Above this many ids, assignment and override rows are filtered in Python, not with SQL IN.
IN_LIMIT = 1000


def round_up(value: Decimal, item: Item) -> Decimal:
    """``value`` rounded up (进一法) to the item's unit precision: whole units for precision 0."""
    return value.quantize(item.quantum, rounding=ROUND_CEILING)


def required_quantity(basis: StandardBasis, rate: Decimal, item: Item, location: Location) -> Decimal | None:
    """The quantity ``location`` must hold for a line of ``rate`` on ``basis``, rounded up to the
    item's unit; None when the location lacks the number the basis needs
    (``residents_served`` or ``households_served``)."""
    if basis == StandardBasis.ABSOLUTE:
        return round_up(rate, item)
    if basis == StandardBasis.PER_1000_RESIDENTS:
        if location.residents_served is None:
            return None
        return round_up(rate * location.residents_served / THOUSAND, item)
    if location.households_served is None:
        return None
    return round_up(rate * location.households_served, item)


def threshold_quantity(required: Decimal, percent: int, item: Item) -> Decimal:
    """The restock threshold: ``percent`` % of ``required``, rounded up to the item's unit."""
    return round_up(required * percent / HUNDRED, item)


def category_prefix(code: str) -> str:
    """The leading digits shared by a GB/T 38565 category and everything below it
    (level 1: 1 digit; each further level: 2 more)."""
    return code[: 1 + 2 * (category_level(code) - 1)]


def effective_versions(as_of: dt.date) -> tuple[dict[int, StandardListVersion], dict[int, list[StandardLine]]]:
    """The version of every list in force on ``as_of`` and its lines, in one query.

    Returns ({list_id: version (with ``.standard_list`` loaded)}, {version_id: [lines in order, item
    and category loaded]}).  A list with no version in force is absent.
    """
    newer = aliased(StandardListVersion)
    in_force_later = exists().where(
        newer.list_id == StandardListVersion.list_id,
        newer.effective_on <= as_of,
        or_(newer.effective_on > StandardListVersion.effective_on,
            and_(newer.effective_on == StandardListVersion.effective_on,
                 newer.version > StandardListVersion.version)),
    )
    stmt = (
        select(StandardListVersion, StandardLine)
        .join(StandardList, StandardList.id == StandardListVersion.list_id)
        .outerjoin(StandardLine, StandardLine.version_id == StandardListVersion.id)
        .options(contains_eager(StandardListVersion.standard_list),
                 joinedload(StandardLine.item).joinedload(Item.category))
        .where(StandardListVersion.effective_on <= as_of, ~in_force_later)
        .order_by(StandardListVersion.list_id, StandardLine.position, StandardLine.id)
    )
    versions: dict[int, StandardListVersion] = {}
    lines: dict[int, list[StandardLine]] = {}
    for version, line in db.session.execute(stmt):
        versions[version.list_id] = version
        bucket = lines.setdefault(version.id, [])
        if line is not None:
            bucket.append(line)
    return versions, lines


def _latest(rows, key):
    out = {}
    for row in rows:  # ordered by effective_on, id: the last one wins
        out[key(row)] = row
    return out


def _in_filter(column, ids: set[int] | None):
    if ids is None or len(ids) > IN_LIMIT:
        return None
    return column.in_(ids or [-1])


def assignments(as_of: dt.date, location_ids: set[int] | None) -> dict[int, LocationStandard]:
    """The assignment in force on ``as_of`` per location id (list loaded); one query."""
    stmt = (select(LocationStandard).options(joinedload(LocationStandard.list))
            .where(LocationStandard.effective_on <= as_of)
            .order_by(LocationStandard.location_id, LocationStandard.effective_on, LocationStandard.id))
    flt = _in_filter(LocationStandard.location_id, location_ids)
    if flt is not None:
        stmt = stmt.where(flt)
    return _latest(db.session.scalars(stmt), lambda r: r.location_id)


def overrides(as_of: dt.date, location_ids: set[int] | None) -> dict[int, dict[int, StandardOverride]]:
    """The override in force on ``as_of`` per location id and item id (cleared ones dropped);
    one query."""
    stmt = (select(StandardOverride)
            .options(joinedload(StandardOverride.item).joinedload(Item.category))
            .where(StandardOverride.effective_on <= as_of)
            .order_by(StandardOverride.location_id, StandardOverride.item_id,
                      StandardOverride.effective_on, StandardOverride.id))
    flt = _in_filter(StandardOverride.location_id, location_ids)
    if flt is not None:
        stmt = stmt.where(flt)
    latest = _latest(db.session.scalars(stmt), lambda r: (r.location_id, r.item_id))
    out: dict[int, dict[int, StandardOverride]] = defaultdict(dict)
    for (loc_id, item_id), row in latest.items():
        if row.quantity is not None:
            out[loc_id][item_id] = row
    return out
