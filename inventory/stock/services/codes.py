"""Which stock object a label code names: batches, shelves, locations and items, looked up in one query."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import literal, select, union_all

from inventory.core.db import db
from inventory.stock.models import Batch, Item, Location, SubLocation

#: Kinds of object a label code can point at.
BATCH, SUB_LOCATION, LOCATION, ITEM = "batch", "sub_location", "location", "item"


@dataclass(frozen=True)
class ScanTarget:
    """What a label code points at: ``kind`` (batch, sub_location, location, item) and ``id``."""

    kind: str
    id: int


def resolve_code(code: str) -> ScanTarget | None:
    """Look a well-formed code up in batches, shelves, locations and items (one query).

    Returns the first match in that order, or None when nothing carries the code.
    """
    stmt = union_all(
        select(literal(0).label("rank"), literal(BATCH).label("kind"), Batch.id).where(Batch.label_code == code),
        select(literal(1), literal(SUB_LOCATION), SubLocation.id).where(SubLocation.label_code == code),
        select(literal(2), literal(LOCATION), Location.id).where(Location.label_code == code),
        select(literal(3), literal(ITEM), Item.id).where(Item.label_code == code),
    )
    rows = sorted(db.session.execute(stmt).all())
    if not rows:
        return None
    _rank, kind, ident = rows[0]
    return ScanTarget(kind, ident)
