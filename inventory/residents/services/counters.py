"""Anonymous counters of the public checklist per residential area and day (views, downloads), and their report."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from inventory.core.db import db
from inventory.core.sql import dialect_insert
from inventory.residents.models import CounterKind, KitCounter
from inventory.stock.models import Location, LocationKind

_REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def resolve_area(ref: str | None) -> str:
    """The residential area code for a ``?ref=`` value, or ``""`` when it is missing,
    malformed or not an active residential storage point (one query at most)."""
    ref = (ref or "").strip()
    if not _REF_RE.match(ref):
        return ""
    code = db.session.scalar(select(Location.code).where(
        Location.code == ref, Location.kind == LocationKind.RESIDENTIAL, Location.active.is_(True)))
    return code or ""


def record_event(area_code: str, kind: CounterKind, day: dt.date) -> None:
    """Add one to the counter of (``area_code``, ``day``, ``kind``); create it at 1 on first use.

    One statement, ``INSERT … ON CONFLICT (area_code, day, kind) DO UPDATE SET n = n + 1``:
    atomic on SQLite (≥ 3.24) and PostgreSQL, so concurrent requests lose no count.
    Flushes nothing else; the caller commits.  Raises RuntimeError on another database.
    """
    table = KitCounter.__table__
    stmt = dialect_insert(table).values(area_code=area_code, day=day, kind=kind, n=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.area_code, table.c.day, table.c.kind],
                                      set_={"n": table.c.n + 1})
    db.session.execute(stmt)


@dataclass
class AreaCount:
    """Counts for one residential area (``code`` "" = visits without a known reference)
    over a date range: page visits, PDF downloads and print-page views."""

    code: str
    name_zh: str = ""
    name_en: str = ""
    visit: int = 0
    pdf: int = 0
    print: int = 0

    def display_name(self, locale: str = "zh") -> str:
        """The area's name in ``locale``."""
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh


def area_counts(date_from: dt.date, date_to: dt.date, location_ids: set[int] | None = None,
                include_unreferenced: bool = True) -> tuple[list[AreaCount], AreaCount]:
    """Counts per residential storage point between two dates (inclusive), and the totals.

    ``location_ids`` limits the areas (None: every residential point, plus a row for visits
    without a reference when ``include_unreferenced``).  Two queries whatever the number of
    areas or days.  Returns (rows in location-code order, totals over the rows).
    """
    stmt = select(Location).where(Location.kind == LocationKind.RESIDENTIAL).order_by(Location.code)
    if location_ids is not None:
        stmt = stmt.where(Location.id.in_(location_ids or {-1}))
    rows = {loc.code: AreaCount(loc.code, loc.name_zh, loc.name_en) for loc in db.session.scalars(stmt)}
    if location_ids is None and include_unreferenced:
        rows[""] = AreaCount("")
    sums = db.session.execute(
        select(KitCounter.area_code, KitCounter.kind, func.sum(KitCounter.n))
        .where(KitCounter.day >= date_from, KitCounter.day <= date_to,
               KitCounter.area_code.in_(list(rows) or [""]))
        .group_by(KitCounter.area_code, KitCounter.kind))
    for code, kind, n in sums:
        setattr(rows[code], CounterKind(kind).value, int(n or 0))
    ordered = sorted(rows.values(), key=lambda r: (r.code == "", r.code))
    total = AreaCount("*")
    for r in ordered:
        total.visit += r.visit
        total.pdf += r.pdf
        total.print += r.print
    return ordered, total
