"""Alert rules and the engine that turns their findings into alert records.

Why: the Lujiazui subdistrict work plan (浦陆街办〔2024〕5号) asks for daily
maintenance and renewal so that stock "can be dispatched and works when used"
(调得出、用得上), and an alert helps only if it arrives, once, without a flood
around it.  So every rule is
a plain function of ``today`` evaluated from database state, and each
condition is one :class:`~inventory.alerts.models.Alert` row, unique per
(rule, subject): a rerun, a missed day caught up or a second scheduler creates
nothing twice (measured: docs/sources.md §9.2).

A rule is registered with :func:`rule` and yields, for ``today``, either
SQLAlchemy ``Select`` statements with the columns of :data:`FINDING_COLUMNS`
(the fast path: staged by ``INSERT … SELECT`` without loading rows into
Python) or :class:`Finding` objects (staged in chunks) — as the ``restock``
rule does with the standard-lists service and ``not_counted`` with the
stocktake service.

:func:`run_rules` stages every finding of one run in ``alert_finding`` and
merges them with set-based SQL: new conditions open alerts, vanished ones
resolve, returning ones reopen, and a staged rule reaching a more urgent stage
escalates (and reopens an acknowledged alert).  Every change is written to the
append-only ``alert_event`` history.  Runs are serialised by :func:`begin_run`.
Memory stays bounded: rows are never loaded as ORM objects.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
)
from sqlalchemy.sql import Select

from inventory.alerts.models import Alert, Inspection, InspectionResult
from inventory.core import clock, settings
from inventory.core.db import db
from inventory.core.quantities import format_quantity
from inventory.core.sql import add_days, days_between
from inventory.stock.models import Batch, Item, Location, LocationKind
from inventory.stock.services import expiry

log = logging.getLogger(__name__)



# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Finding:
    """One condition found by a rule written in Python.

    ``subject`` identifies what it is about within the rule (unique per rule
    and run), e.g. "stock:7:12"; ``location_id`` decides who sees it; ``level``
    is the stage reached (0 = no stages); ``detail`` holds rule values for the
    message (use strings for Decimals).
    """

    subject: str
    location_id: int
    batch_id: int | None = None
    item_id: int | None = None
    level: int = 0
    due_on: dt.date | None = None
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A registered alert rule.

    ``evaluate(today)`` yields Selects (columns :data:`FINDING_COLUMNS`) and/or
    :class:`Finding` objects; ``label`` names the rule in the UI; ``message``
    is formatted with the parameters of :func:`message_params`; ``order``
    sorts rules in lists and digests; ``severity`` is "danger" or "warning".
    """

    code: str
    label: object
    message: object
    evaluate: Callable[[dt.date], Iterable]
    order: int = 50
    severity: str = "warning"


#: Registered rules by code, in registration order.
RULES: dict[str, Rule] = {}


def rule(code: str, label, message, *, order: int = 50, severity: str = "warning") -> Callable:
    """Register the decorated function ``fn(today) -> Iterable[Select | Finding]`` as rule ``code``."""

    def register(fn: Callable[[dt.date], Iterable]) -> Callable:
        RULES[code] = Rule(code, label, message, fn, order, severity)
        return fn

    return register


def rules_in_order() -> list[Rule]:
    """Registered rules sorted by ``order``."""
    return sorted(RULES.values(), key=lambda r: (r.order, r.code))


# --------------------------------------------------------------------------- SQL helpers


def _subject(prefix: str, column):
    return (literal(prefix + ":") + cast(column, String)).label("subject")


def _today(today: dt.date):
    return literal(today, Date)


# --------------------------------------------------------------------------- lead times
# Lead days live with the near-expiry rule in inventory/stock/services/expiry.py (one definition for
# alerts, pages and reports); these names stay importable from here.
parse_lead_days = expiry.parse_lead_days
set_category_lead_days = expiry.set_category_lead_days
lead_days_by_category = expiry.lead_days_by_category
MAX_STAGES = expiry.MAX_STAGES
MAX_LEAD_DAYS = expiry.MAX_LEAD_DAYS


def _stage(days_left, leads: tuple[int, ...]):
    """SQL: the smallest lead in ``leads`` (ascending) that ``days_left`` is within; 0 once past."""
    whens = [(days_left < 0, literal(0))] + [(days_left <= d, literal(d)) for d in leads[:-1]]
    return case(*whens, else_=literal(leads[-1]))


# --------------------------------------------------------------------------- rules


def _batch_base():
    return (select().select_from(Batch).join(Location, Location.id == Batch.location_id)
            .where(Batch.quantity > 0, Location.active.is_(True)))


def _batch_columns(level, due_on):
    return [_subject("batch", Batch.id), Batch.location_id.label("location_id"), Batch.id.label("batch_id"),
            Batch.item_id.label("item_id"), cast(level, Integer).label("level"),
            type_coerce(due_on, Date).label("due_on"),
            literal("{}").label("detail")]


@rule("expired", _l("Expired"), _l("Expired on %(due_on)s: %(quantity)s %(unit)s to dispose of or replace."),
      order=10, severity="danger")
def expired(today: dt.date) -> Iterator[Select]:
    """Batches with stock whose expiry date is before ``today`` (the expiry day itself is still usable).

    Source: expired stock does not count towards a standard and must be
    replaced (the work plan's 用得上; the 民政部 central relief-reserve rules
    scrap unusable stock after approval).
    """
    yield _batch_base().add_columns(*_batch_columns(literal(0), Batch.expires_on)).where(
        Batch.expires_on.is_not(None), Batch.expires_on < today)


@rule("expiring", _l("Near expiry"), _l("Expires on %(due_on)s, in %(days)s days: %(quantity)s %(unit)s."),
      order=20)
def expiring(today: dt.date) -> Iterator[Select]:
    """Batches with stock that are near expiry on ``today``; ``level`` is the stage reached.

    "Near expiry" and its stages are :mod:`inventory.stock.services.expiry`'s rule, the one the
    batch pages, dashboard and gap reports use: the item's category lead days (e.g.
    "90,30,7", inherited from a parent category) or, when none is set, the item's
    ``warning_days``; so a batch alerts 90 days ahead and again at 30 and 7 days.  Source:
    rotation before expiry (轮换) in the work plan's "daily maintenance and renewal".
    """
    windows = expiry.expiry_windows()
    yield (_batch_base().join(Item, Item.id == Batch.item_id)
           .add_columns(*_batch_columns(windows.stage_sql(today), Batch.expires_on))
           .where(windows.near_sql(today)))


@rule("inspection_due", _l("Inspection due"),
      _l("Inspection due since %(due_on)s (every %(interval)s days); last inspected %(last)s."), order=40)
def inspection_due(today: dt.date) -> Iterator[Select]:
    """Equipment batches whose last inspection (or receipt, if never inspected) is at least the
    item's ``inspection_interval_days`` ago.

    Source: monthly extinguisher checks (GB 50444-2008); generator test runs
    every half month (property-management practice, not a standard).
    """
    last = func.coalesce(Batch.last_inspected_on, Batch.received_on)
    yield (_batch_base().join(Item, Item.id == Batch.item_id)
           .add_columns(*_batch_columns(literal(0), add_days(last, Item.inspection_interval_days)))
           .where(Item.inspection_interval_days.is_not(None),
                  days_between(_today(today), last) >= Item.inspection_interval_days))


@rule("inspection_failed", _l("Defect found"),
      _l("The inspection on %(due_on)s found a defect: repair, replace or dispose of it, then inspect again."),
      order=35, severity="danger")
def inspection_failed(today: dt.date) -> Iterator[Select]:
    """Equipment batches with stock whose latest inspection (by date, then record) found a defect.

    Source: "用得上" — equipment must work when used (the Lujiazui subdistrict work plan).
    """
    ranked = select(
        Inspection.batch_id, Inspection.result, Inspection.inspected_on,
        func.row_number().over(partition_by=Inspection.batch_id,
                               order_by=(Inspection.inspected_on.desc(), Inspection.id.desc())).label("n"),
    ).where(Inspection.inspected_on <= today).subquery()
    yield (_batch_base().join(ranked, ranked.c.batch_id == Batch.id)
           .add_columns(*_batch_columns(literal(0), ranked.c.inspected_on))
           .where(ranked.c.n == 1, ranked.c.result == InspectionResult.DEFECT.value))


@rule("contract_ending", _l("Agreement ending"),
      _l("The agreement %(ref)s with %(party)s ends on %(due_on)s (%(days)s days)."), order=50)
def contract_ending(today: dt.date) -> Iterator[Select]:
    """Agreement reserves (协议储备) whose contract ends within ``ALERT_CONTRACT_LEAD_DAYS``
    (default 90, 30 and 7 days) or has ended; ``level`` is the stage (0 once ended).

    Source: agreement reserves (协议储备, one of the reserve modes of the 2024 national
    guidance, 国防减救办发〔2024〕13号) are held under a contract; an ended contract
    silently removes that stock.
    """
    leads = parse_lead_days(settings.current().contract_lead_days,
                            field="ALERT_CONTRACT_LEAD_DAYS")
    if not leads:
        return
    days_left = days_between(Location.contract_ends_on, _today(today))
    yield select(
        _subject("location", Location.id), Location.id.label("location_id"),
        cast(null(), Integer).label("batch_id"), cast(null(), Integer).label("item_id"),
        _stage(days_left, leads).label("level"), Location.contract_ends_on.label("due_on"),
        literal("{}").label("detail"),
    ).where(Location.kind == LocationKind.AGREEMENT, Location.active.is_(True),
            Location.contract_ends_on.is_not(None),
            Location.contract_ends_on <= today + dt.timedelta(days=leads[-1]))


@rule("restock", _l("Restock"),
      _l("Usable %(usable)s of %(required)s %(unit)s required (restock below %(threshold)s): %(shortfall)s short."),
      order=30)
def restock(today: dt.date) -> Iterator[Finding]:
    """Standard-list lines whose usable stock is below the line's restock threshold
    (补充更新: percent of the required quantity), at every active location including
    agreement reserves with a contract list.  One alert per (location, item).

    Source: the location's standard list (inventory/standards/services/gaps.py); the
    work plan's "配齐配全" and daily renewal so that stock is "用得上".
    """
    from inventory.standards.services.gaps import restock_needs

    for need in restock_needs(today):
        yield Finding(
            subject=f"stock:{need.location_id}:{need.item_id}", location_id=need.location_id,
            item_id=need.item_id,
            detail={key: format_quantity(getattr(need, key))
                    for key in ("required", "usable", "threshold", "shortfall")})


@rule("not_counted", _l("Not counted"),
      _l("Last counted %(last)s; a count is due every %(every)s days."), order=60)
def not_counted(today: dt.date) -> Iterator[Finding]:
    """Depots, civil-defence warehouses and residential points whose last confirmed stocktake
    (盘点) is ``ALERT_NOT_COUNTED_DAYS`` (default 31) or more days ago, or that were never
    counted.  Agreement reserves are counted by their enterprise, not here.

    Source: the 民政部 central relief-reserve rules ask for regular counts (定期盘库) so
    that goods, labels and books agree (实物、标签、账目相符), without an interval; local
    flood-control depots count monthly.
    """
    from inventory.stocktake.services.queries import last_counted

    every = settings.current().not_counted_days
    if every <= 0:
        return
    last = last_counted()
    locations = db.session.execute(select(Location.id).where(
        Location.active.is_(True), Location.kind != LocationKind.AGREEMENT)).scalars()
    for location_id in locations:
        seen = clock.local_date(last[location_id]) if location_id in last else None
        if seen is None or (today - seen).days >= every:
            yield Finding(
                subject=f"location:{location_id}", location_id=location_id,
                due_on=seen + dt.timedelta(days=every) if seen else None,
                detail={"last": seen.isoformat() if seen else "—", "every": str(every)})


# --------------------------------------------------------------------------- runs
















# --------------------------------------------------------------------------- acknowledgement












# --------------------------------------------------------------------------- reads


















def message_params(alert: Alert, today: dt.date) -> dict:
    """Values for a rule's message: due_on (formatted), days (to due_on, negative once past),
    level, quantity and unit (batch rules), interval and last (inspections), party and ref
    (agreements), plus the alert's ``detail``.  Needs location, item and batch loaded."""
    params = {"due_on": format_date(alert.due_on, "yyyy-MM-dd") if alert.due_on else "—",
              "days": (alert.due_on - today).days if alert.due_on else "", "level": alert.level,
              "quantity": "", "unit": "", "interval": "", "last": "—", "party": "", "ref": ""}
    if alert.batch is not None:
        params["quantity"] = format_quantity(alert.batch.quantity)
        params["last"] = (format_date(alert.batch.last_inspected_on, "yyyy-MM-dd")
                          if alert.batch.last_inspected_on else gettext("never"))
    if alert.item is not None:
        params["unit"] = alert.item.unit
        params["interval"] = alert.item.inspection_interval_days or ""
    if alert.location is not None:
        params["party"] = alert.location.contract_party or alert.location.name_zh
        params["ref"] = alert.location.contract_ref or "—"
    params.update(alert.params)
    return params


def describe(alert: Alert, today: dt.date) -> str:
    """The alert's message in the active language, e.g. "Expires on 2026-12-19, in 20 days: 20 箱."."""
    r = RULES.get(alert.rule)
    if r is None:
        return alert.subject
    return str(r.message) % message_params(alert, today)


def rule_label(code: str) -> str:
    """The translated name of rule ``code`` (the code itself for an unknown rule)."""
    r = RULES.get(code)
    return str(r.label) if r else code
