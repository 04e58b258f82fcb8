"""Expiry: the one definition of *expired* and *near expiry* (临期), and of the expiry date
derived from a shelf life (保质期).

Every page, count, report and alert asks this module, so that an alert that says 临期 and
the batch page, the dashboard count, the alert centre and the gap report agree.

**Expired.**  ``expires_on < day``: the expiry date is the last usable day (有效期至), so the
expiry day itself is still usable.  Expired stock does not count towards a standard (the
Lujiazui subdistrict work plan wants stock that works when used, 用得上) and is scrapped after
approval (the 民政部 central relief-reserve rules).

**Near expiry.**  Not expired and ``expires_on - day <= window``, where the *window* (how
many days ahead near expiry starts) is, for a batch of item *I* in category *C*:

1. the largest of *C*'s lead days (``Category.expiry_lead_days``, e.g. "90,30,7" → 90),
   or of its nearest ancestor's with a list (GB/T 38565-2020 codes: a level whose digits
   are ``00`` is the parent), when such a list exists;
2. otherwise the item's own ``Item.warning_days``.

Why the category wins: lead days are the emergency office's rotation plan (轮换, the Lujiazui
subdistrict work plan's "daily maintenance and renewal") set once per category for
every item in it, with stages (90, 30, 7 days) that alerts escalate through; an item's
``warning_days`` is the default for items whose category has no plan (30 days unless the
catalogue says otherwise).  The stage reached (the smallest lead the days left are within)
is what alerts store as their ``level``; without a category list the stage is the item's
warning days.

The same rule is offered three ways: :func:`assess` for one batch in Python, and
:meth:`ExpiryWindows.status_sql` / :meth:`ExpiryWindows.near_sql` /
:meth:`ExpiryWindows.stage_sql` as SQL expressions for grouped queries (they need
``Item`` joined).  :func:`expiry_windows` loads the category lists in one query.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, literal, select

from inventory.core.clock import add_months
from inventory.core.db import db
from inventory.core.errors import InvalidInput, NotFound
from inventory.core.sql import days_between
from inventory.stock.models import Batch, Category, Item

log = logging.getLogger(__name__)

EXPIRED = "expired"
EXPIRING = "expiring"
OK = "ok"

#: Lead-day lists: at most this many stages, each 1–3650 days.
MAX_STAGES = 6
MAX_LEAD_DAYS = 3650


# --------------------------------------------------------------------------- lead days


def parse_lead_days(text: str | None, *, field: str = "expiry_lead_days") -> tuple[int, ...]:
    """Parse lead days such as "90,30,7" (also "90/30/7", spaces, Chinese commas) into
    ascending unique ints, e.g. (7, 30, 90); "" gives ().

    Raises InvalidInput (naming ``field``) for anything that is not a list of
    at most 6 whole numbers from 1 to 3650.
    """
    raw = (text or "").replace("，", ",").replace("/", ",").replace(" ", ",")
    parts = [p for p in raw.split(",") if p.strip()]
    try:
        days = sorted({int(p) for p in parts})
    except ValueError:
        raise InvalidInput(_l("Lead days are whole numbers separated by commas, e.g. 90,30,7."),
                           field=field) from None
    if len(days) > MAX_STAGES or any(d < 1 or d > MAX_LEAD_DAYS for d in days):
        raise InvalidInput(_l("Give at most %(n)s lead times, each from 1 to %(max)s days.", n=MAX_STAGES,
                              max=MAX_LEAD_DAYS), field=field)
    return tuple(days)


def set_category_lead_days(category_code: str, text: str) -> Category:
    """Store near-expiry lead days ("90,30,7"; "" = use each item's warning days) on a category.

    Sub-categories without their own list inherit it (GB/T 38565 codes: a level
    whose digits are 00 is the parent).  Raises NotFound for an unknown code
    and InvalidInput for a bad list.  Flushes.
    """
    category = db.session.scalar(select(Category).where(Category.code == (category_code or "").strip()))
    if category is None:
        raise NotFound(_l("Unknown category code %(code)s.", code=category_code), field="category_code")
    days = parse_lead_days(text)
    category.expiry_lead_days = ",".join(str(d) for d in sorted(days, reverse=True))
    db.session.flush()
    return category


def _ancestors(code: str) -> list[str]:
    """The code itself, then its parents up to the top level (1010101 → 1010100 → 1010000 → 1000000)."""
    out = [code]
    for keep in (5, 3, 1):
        parent = code[:keep] + "0" * (7 - keep)
        if parent not in out:
            out.append(parent)
    return out


def lead_days_by_category() -> dict[int, tuple[int, ...]]:
    """Category id → ascending lead days, from the category or its nearest ancestor with a list.

    Categories with no list in their chain are left out (their items use
    ``Item.warning_days``).  A malformed stored list is logged and ignored.  One query.
    """
    rows = db.session.execute(select(Category.id, Category.code, Category.expiry_lead_days)).all()
    own: dict[str, tuple[int, ...]] = {}
    for _id, code, stored in rows:
        if stored:
            try:
                own[code] = parse_lead_days(stored)
            except InvalidInput:
                log.warning("category %s has malformed expiry_lead_days %r; ignored", code, stored)
    out = {}
    for cat_id, code, _stored in rows:
        for candidate in _ancestors(code):
            if own.get(candidate):
                out[cat_id] = own[candidate]
                break
    return out


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class Assessment:
    """Expiry of one batch on one day.

    ``status`` is "expired", "expiring" (near expiry) or "ok"; ``window_days`` how many
    days before its expiry date the batch counts as near expiry (0 = only on the expiry
    day); ``days_left`` = expires_on − day (negative once expired; None without an expiry
    date); ``stage`` the smallest lead reached while near expiry (the alert ``level``),
    else None.
    """

    status: str
    window_days: int
    days_left: int | None
    stage: int | None = None


@dataclass(frozen=True)
class ExpiryWindows:
    """The near-expiry windows in force: category id → ascending lead days (inherited lists
    included).  Build it with :func:`expiry_windows`; it is a snapshot for one request or run."""

    by_category: dict[int, tuple[int, ...]]

    def lead_days(self, item: Item) -> tuple[int, ...]:
        """Ascending lead days for ``item``: its category's list, else ``(warning_days,)``."""
        return self.by_category.get(item.category_id) or (int(item.warning_days or 0),)

    def window_days(self, item: Item) -> int:
        """Days before expiry at which ``item``'s batches become near expiry (the largest lead)."""
        return self.lead_days(item)[-1]

    def assess(self, expires_on: dt.date | None, item: Item, day: dt.date) -> Assessment:
        """:class:`Assessment` of a batch of ``item`` expiring on ``expires_on``, on ``day``."""
        leads = self.lead_days(item)
        window = leads[-1]
        if expires_on is None:
            return Assessment(OK, window, None)
        left = (expires_on - day).days
        if left < 0:
            return Assessment(EXPIRED, window, left)
        if left <= window:
            return Assessment(EXPIRING, window, left, next(d for d in leads if left <= d))
        return Assessment(OK, window, left)

    # ---------------------------------------------------------------- SQL (Item joined)

    def window_sql(self):
        """SQL: the window in days of the row's ``Item`` (integer)."""
        if not self.by_category:
            return Item.warning_days
        return case({cat_id: leads[-1] for cat_id, leads in self.by_category.items()},
                    value=Item.category_id, else_=Item.warning_days)

    def near_sql(self, day: dt.date, expires_on=Batch.expires_on):
        """SQL condition: ``expires_on`` is near expiry on ``day`` (not expired, within the window)."""
        day_lit = literal(day, Date)
        return and_(expires_on.is_not(None), expires_on >= day_lit,
                    days_between(expires_on, day_lit) <= self.window_sql())

    def expired_sql(self, day: dt.date, expires_on=Batch.expires_on):
        """SQL condition: ``expires_on`` is before ``day`` (see :func:`expired_sql`)."""
        return expired_sql(day, expires_on)

    def status_sql(self, day: dt.date, expires_on=Batch.expires_on):
        """SQL: "expired", "expiring" or "ok" on ``day``."""
        return case((expires_on.is_(None), literal(OK)), (self.expired_sql(day, expires_on), literal(EXPIRED)),
                    (self.near_sql(day, expires_on), literal(EXPIRING)), else_=literal(OK))

    def stage_sql(self, day: dt.date, expires_on=Batch.expires_on):
        """SQL: the stage reached by a near-expiry row (smallest lead ≥ days left; the item's
        warning days without a category list).  Meaningful where :meth:`near_sql` holds."""
        left = days_between(expires_on, literal(day, Date))
        groups: dict[tuple[int, ...], list[int]] = {}
        for cat_id, leads in self.by_category.items():
            groups.setdefault(leads, []).append(cat_id)
        whens = []
        for leads, cat_ids in sorted(groups.items()):
            stage = case(*[(left <= d, literal(d)) for d in leads[:-1]], else_=literal(leads[-1])) \
                if len(leads) > 1 else literal(leads[0])
            whens.append((Item.category_id.in_(cat_ids), stage))
        return case(*whens, else_=Item.warning_days) if whens else Item.warning_days


def expired_sql(day: dt.date, expires_on=Batch.expires_on):
    """SQL condition: ``expires_on`` is before ``day`` (the expiry day itself is still usable)."""
    return and_(expires_on.is_not(None), expires_on < literal(day, Date))


def expiry_windows() -> ExpiryWindows:
    """The windows in force now (one query over the categories)."""
    return ExpiryWindows(lead_days_by_category())


def assess(batch: Batch, day: dt.date, windows: ExpiryWindows | None = None) -> Assessment:
    """Expiry of ``batch`` on ``day`` (item loaded or loadable); ``windows`` from
    :func:`expiry_windows` when assessing many batches (else one query here)."""
    return (windows or expiry_windows()).assess(batch.expires_on, batch.item, day)


# --------------------------------------------------------------------------- shelf life




def expiry_from_shelf_life(produced_on: dt.date, *, days: int | None = None,
                           months: int | None = None) -> dt.date:
    """The last usable day (有效期至) of a product made on ``produced_on`` with a shelf life of
    ``days`` days or ``months`` months (exactly one of them, > 0): the production day counts
    as the first day of the shelf life, so the expiry date is the day before the date that
    corresponds to production date + shelf life.

    Examples: 2026-01-01 + 12 months → 2026-12-31; 2026-01-01 + 365 days → 2026-12-31;
    2026-01-15 + 1 month → 2026-02-14.  Where the corresponding day does not exist (2026-01-31
    + 1 month: there is no 31 February), the shelf life ends with that month: 2026-02-28
    (2028-02-29 in a leap year).

    Sources: 《药品说明书和标签管理规定》(原国家食品药品监督管理局令第24号, 2006) art. 23:
    "有效期若标注到日，应当为起算日期对应年月日的前一天" (the expiry date is the day before the
    corresponding date, counted from the production date); for a month without the
    corresponding day, 《中华人民共和国民法典》 art. 202: "没有对应日的，月末日为期间的最后一日"
    (the month's last day ends the period).  No emergency-supply rule of its own on counting a
    shelf life was found, so these general rules apply.

    Raises ValueError unless exactly one of ``days`` / ``months`` is a positive int.
    """
    if (days is None) == (months is None):
        raise ValueError("give exactly one of days or months")
    n = days if days is not None else months
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"shelf life must be a positive whole number, got {n!r}")
    if days is not None:
        return produced_on + dt.timedelta(days=days - 1)
    corresponding = add_months(produced_on, months)
    if corresponding.day != produced_on.day:  # no such day in that month: its last day is the last
        return corresponding
    return corresponding - dt.timedelta(days=1)


def shelf_life_expiry(item: Item, produced_on: dt.date) -> dt.date | None:
    """The expiry date of a batch of ``item`` made on ``produced_on``, from the item's shelf
    life (``shelf_life_days`` or ``shelf_life_months``) by :func:`expiry_from_shelf_life`;
    None when the item has no shelf life."""
    if item.shelf_life_months:
        return expiry_from_shelf_life(produced_on, months=item.shelf_life_months)
    if item.shelf_life_days:
        return expiry_from_shelf_life(produced_on, days=item.shelf_life_days)
    return None
