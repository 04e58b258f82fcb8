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
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date, Integer, String, and_, case, cast, delete, exists, func, insert, literal, null, or_, select, text,
    type_coerce, update,
)
from sqlalchemy.sql import Select

from inventory.core import settings
from inventory.core.db import db
from inventory.alerts.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertFinding,
    AlertState,
    Inspection,
    InspectionResult,
    JobState,
)
from inventory.stock.models import Batch, Item, Location, LocationKind
from inventory.core.policy import Role
from inventory.users.models import User, user_location
from inventory.core import clock
from inventory.stock.services import expiry
from inventory.core.errors import AlreadyDone, InvalidInput
from inventory.core.quantities import format_quantity
from inventory.core.sql import add_days, days_between, dialect_insert, is_postgresql

log = logging.getLogger(__name__)

#: Columns every rule's Select must provide (labelled), in this order.
FINDING_COLUMNS = ("subject", "location_id", "batch_id", "item_id", "level", "due_on", "detail")
#: Job id of the daily alert run in the scheduler's job table (``inventory.alerts.jobs.JOBS``).
ALERT_JOB_ID = "alerts.daily"
#: Python findings are written in chunks of this many rows.
CHUNK = 2000


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


@dataclass
class RunSummary:
    """What one rule run did: ``changes[rule][event]`` counts (opened, escalated, reopened,
    resolved) and ``active[rule]`` open + acknowledged alerts afterwards; ``run`` is its number."""

    run: int
    today: dt.date
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)

    def count(self, event: str) -> int:
        """Total of one event kind over all rules."""
        return sum(c.get(event, 0) for c in self.changes.values())


def begin_run(job_id: str, now: dt.datetime) -> int:
    """Start a run of ``job_id``: increment its counter and return the run number.

    The UPDATE holds the job row's lock (PostgreSQL) or the database write lock
    (SQLite) until the caller commits or rolls back, so concurrent runs
    serialise; call it first in the transaction.  Flushes.
    """
    db.session.execute(dialect_insert(JobState.__table__).values(
        job_id=job_id, runs=0, summary="").on_conflict_do_nothing(index_elements=["job_id"]))
    return db.session.execute(
        update(JobState).where(JobState.job_id == job_id)
        .values(runs=JobState.runs + 1, started_at=now).returning(JobState.runs)
        .execution_options(synchronize_session=False)).scalar_one()


def finish_run(job_id: str, now: dt.datetime, today: dt.date, summary: str) -> None:
    """Record that the run of ``job_id`` for ``today`` finished at ``now`` with ``summary``."""
    db.session.execute(update(JobState).where(JobState.job_id == job_id).values(
        finished_at=now, last_run_on=today, summary=summary[:2000]).execution_options(synchronize_session=False))


def _stage_findings(token: str, code: str, parts: Iterable) -> None:
    f = AlertFinding.__table__
    columns = ["run_token", "rule", *FINDING_COLUMNS]
    buffer: list[dict] = []

    def flush_buffer():
        if buffer:
            db.session.execute(insert(f), buffer)
            buffer.clear()

    for part in parts:
        if isinstance(part, Select):
            sub = part.subquery()
            db.session.execute(insert(f).from_select(
                columns, select(literal(token), literal(code), *[sub.c[name] for name in FINDING_COLUMNS])))
        elif isinstance(part, Finding):
            buffer.append(dict(run_token=token, rule=code, subject=part.subject, location_id=part.location_id,
                               batch_id=part.batch_id, item_id=part.item_id, level=part.level,
                               due_on=part.due_on, detail=canonical_json(part.detail)))
            if len(buffer) >= CHUNK:
                flush_buffer()
        else:
            raise TypeError(f"rule {code} yielded {type(part).__name__}, not a Select or Finding")
    flush_buffer()


def canonical_json(detail: dict | None) -> str:
    """``detail`` as compact JSON with sorted keys (so equal details compare equal in SQL)."""
    return json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def run_rules(today: dt.date, *, run: int, now: dt.datetime, codes: Iterable[str] | None = None) -> RunSummary:
    """Evaluate rules ``codes`` (default: all registered) for ``today`` and merge their findings
    into the alert table as run number ``run`` (from :func:`begin_run`, same transaction).

    Opens new alerts, resolves alerts whose condition cleared, reopens resolved
    ones whose condition returned and escalates open or acknowledged ones that
    reached a more urgent stage (setting them open again); records every change
    in ``alert_event``.  Alerts of rules not evaluated are left alone.  Flushes;
    the caller commits (or rolls back for a dry run).
    """
    selected = [RULES[c] for c in codes] if codes is not None else rules_in_order()
    token = uuid.uuid4().hex
    for r in selected:
        _stage_findings(token, r.code, r.evaluate(today))
    _merge(token, [r.code for r in selected], run, now)
    db.session.execute(delete(AlertFinding.__table__).where(AlertFinding.__table__.c.run_token == token))
    summary = RunSummary(run=run, today=today)
    a = Alert.__table__
    for code, kind, n in db.session.execute(
            select(a.c.rule, a.c.last_event, func.count()).where(a.c.changed_run == run)
            .group_by(a.c.rule, a.c.last_event)):
        summary.changes.setdefault(code, {})[getattr(kind, "value", kind)] = n
    for code, n in db.session.execute(
            select(a.c.rule, func.count()).where(a.c.state != AlertState.RESOLVED).group_by(a.c.rule)):
        summary.active[code] = n
    return summary


def _merge(token: str, codes: list[str], run: int, now: dt.datetime) -> None:
    a, f = Alert.__table__, AlertFinding.__table__
    if is_postgresql():
        # The scratch table is empty between runs, so its statistics say "no rows"; give the planner
        # the real numbers (ANALYZE counts this transaction's own rows; it may run in a transaction).
        db.session.execute(text("ANALYZE alert_finding"))
    found = and_(f.c.run_token == token, f.c.rule == a.c.rule, f.c.subject == a.c.subject)
    fields = dict(location_id=f.c.location_id, batch_id=f.c.batch_id, item_id=f.c.item_id,
                  due_on=f.c.due_on, detail=f.c.detail, level=f.c.level)
    raised = dict(state=AlertState.OPEN, raised_run=run, raised_at=now, changed_run=run)
    # A resolved alert whose condition is back: reopen it.
    db.session.execute(update(a).where(found, a.c.state == AlertState.RESOLVED).values(
        **fields, **raised, last_event=AlertEventKind.REOPENED, times_opened=a.c.times_opened + 1,
        resolved_at=None))
    # A more urgent stage (90 → 30 → 7 days): raise it again, even if it was acknowledged.
    db.session.execute(update(a).where(
        found, a.c.state != AlertState.RESOLVED, a.c.changed_run != run, f.c.level < a.c.level).values(
        **fields, **raised, last_event=AlertEventKind.ESCALATED))
    # Same condition, other details (quantity moved, date corrected to later): refresh quietly.
    db.session.execute(update(a).where(
        found, a.c.state != AlertState.RESOLVED, a.c.changed_run != run, f.c.level >= a.c.level,
        or_(a.c.level != f.c.level, a.c.location_id != f.c.location_id,
            a.c.batch_id.is_distinct_from(f.c.batch_id), a.c.item_id.is_distinct_from(f.c.item_id),
            a.c.due_on.is_distinct_from(f.c.due_on), a.c.detail != f.c.detail)).values(**fields))
    # New conditions: flagged first, then inserted.  Anti-joining the INSERT against its own target
    # lets PostgreSQL plan a nested loop over a table that grows while the statement runs (quadratic:
    # minutes for 10^5 alerts on a fresh table, bench/alerts.py).  The unique key (rule, subject) is
    # the backstop against a concurrent run.
    db.session.execute(update(f).where(
        f.c.run_token == token, ~exists().where(a.c.rule == f.c.rule, a.c.subject == f.c.subject),
    ).values(is_new=True))
    new = select(
        f.c.rule, f.c.subject, f.c.location_id, f.c.batch_id, f.c.item_id, f.c.level, f.c.due_on, f.c.detail,
        literal(AlertState.OPEN.value), literal(now), literal(now), literal(run), literal(run),
        literal(AlertEventKind.OPENED.value), literal(1),
    ).where(f.c.run_token == token, f.c.is_new.is_(True))
    db.session.execute(dialect_insert(a).from_select(
        ["rule", "subject", "location_id", "batch_id", "item_id", "level", "due_on", "detail", "state",
         "opened_at", "raised_at", "raised_run", "changed_run", "last_event", "times_opened"], new,
    ).on_conflict_do_nothing(index_elements=["rule", "subject"]))
    # Conditions that cleared.
    db.session.execute(update(a).where(
        a.c.rule.in_(codes), a.c.state != AlertState.RESOLVED,
        ~exists().where(f.c.run_token == token, f.c.rule == a.c.rule, f.c.subject == a.c.subject),
    ).values(state=AlertState.RESOLVED, resolved_at=now, changed_run=run, last_event=AlertEventKind.RESOLVED))
    if is_postgresql():
        db.session.execute(text("ANALYZE alert"))  # digests query it next, in this transaction
    e = AlertEvent.__table__
    db.session.execute(insert(e).from_select(
        ["alert_id", "kind", "at", "user_id", "level", "run"],
        select(a.c.id, a.c.last_event, literal(now), cast(null(), Integer), a.c.level, literal(run))
        .where(a.c.changed_run == run)))


# --------------------------------------------------------------------------- acknowledgement


def acknowledge(alert: Alert, user: User, now: dt.datetime) -> Alert:
    """Acknowledge (叫应) an open alert: keep who and when, and write the event.

    Raises AlreadyDone when it is already acknowledged and InvalidInput when it
    is resolved (nothing to acknowledge).  Access is the caller's check.  Flushes.
    """
    if alert.state == AlertState.ACKNOWLEDGED:
        raise AlreadyDone(_l("This alert was already acknowledged."), field="alert")
    if alert.state == AlertState.RESOLVED:
        raise InvalidInput(_l("This alert is resolved; there is nothing to acknowledge."), field="alert")
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by_id = user.id
    db.session.add(AlertEvent(alert_id=alert.id, kind=AlertEventKind.ACKNOWLEDGED, at=now, user_id=user.id,
                              level=alert.level))
    db.session.flush()
    return alert


#: Most alerts one "acknowledge selected" may name (the alert centre shows 50 a page).
MAX_BULK = 500


@dataclass
class BulkAcknowledgement:
    """What :func:`acknowledge_many` did: ``acknowledged`` alert ids, and how many of the
    requested ones were ``skipped`` (already acknowledged, resolved, or not visible)."""

    acknowledged: list[int] = field(default_factory=list)
    skipped: int = 0


def acknowledge_many(alert_ids: Iterable[int], user: User, now: dt.datetime) -> BulkAcknowledgement:
    """Acknowledge (叫应) at once every open alert among ``alert_ids`` that ``user`` may see
    (:func:`visible_clause`): who and when, and one event each, as :func:`acknowledge` does.
    Alerts already acknowledged or resolved, and ids of alerts the user may not see or that do
    not exist, are skipped and counted, never revealed; so a repeated post acknowledges nothing
    twice.  Two queries whatever the number.  Raises InvalidInput (field ``alert_ids``) for
    no ids or more than :data:`MAX_BULK`.  Role checks are the caller's.  Flushes.
    """
    wanted = sorted({int(i) for i in alert_ids})
    if not wanted:
        raise InvalidInput(_l("Tick the alerts to acknowledge first."), field="alert_ids")
    if len(wanted) > MAX_BULK:
        raise InvalidInput(_l("Acknowledge at most %(n)s alerts at once.", n=MAX_BULK), field="alert_ids")
    stmt = (select(Alert).where(Alert.id.in_(wanted), Alert.state == AlertState.OPEN)
            .order_by(Alert.id).with_for_update())
    clause = visible_clause(user)
    if clause is not None:
        stmt = stmt.where(clause)
    done = BulkAcknowledgement()
    for alert in db.session.scalars(stmt):
        alert.state = AlertState.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by_id = user.id
        db.session.add(AlertEvent(alert_id=alert.id, kind=AlertEventKind.ACKNOWLEDGED, at=now, user_id=user.id,
                                  level=alert.level))
        done.acknowledged.append(alert.id)
    done.skipped = len(wanted) - len(done.acknowledged)
    db.session.flush()
    return done


def resolve_for(rule_code: str, subject: str, user: User | None, now: dt.datetime) -> bool:
    """Resolve the active alert (``rule_code``, ``subject``) at once, e.g. after an inspection was
    recorded; the next run would otherwise do it.  Returns True when one was resolved.  Flushes."""
    alert = db.session.scalar(select(Alert).where(Alert.rule == rule_code, Alert.subject == subject,
                                                  Alert.state != AlertState.RESOLVED))
    if alert is None:
        return False
    alert.state = AlertState.RESOLVED
    alert.resolved_at = now
    alert.last_event = AlertEventKind.RESOLVED
    db.session.add(AlertEvent(alert_id=alert.id, kind=AlertEventKind.RESOLVED, at=now,
                              user_id=user.id if user else None, level=alert.level))
    db.session.flush()
    return True


# --------------------------------------------------------------------------- reads


def visible_clause(user: User):
    """SQL condition on ``Alert.location_id`` for the alerts ``user`` may see, or None (all).

    The same rule as :func:`inventory.stock.permissions.visible_location_ids` (tested to
    agree), written as a subquery so that the navigation-bar count costs one
    query: admin and viewer see all; the armed forces department the
    civil-defence locations; keepers and residential managers their assigned ones.
    """
    if user.role in (Role.ADMIN, Role.VIEWER):
        return None
    if user.role == Role.CIVIL_DEFENCE:
        return Alert.location_id.in_(select(Location.id).where(Location.kind == LocationKind.CIVIL_DEFENCE))
    if user.role in (Role.KEEPER, Role.RESIDENTIAL):
        return Alert.location_id.in_(
            select(user_location.c.location_id).where(user_location.c.user_id == user.id))
    return literal(False)


def open_count(user: User) -> int:
    """Open (not yet acknowledged) alerts ``user`` may see; one query (navigation bar)."""
    stmt = select(func.count(Alert.id)).where(Alert.state == AlertState.OPEN)
    clause = visible_clause(user)
    if clause is not None:
        stmt = stmt.where(clause)
    return db.session.scalar(stmt) or 0


@dataclass
class AlertFilter:
    """Filters of the alert centre: ``state`` "open", "acknowledged", "resolved", "active"
    (open + acknowledged) or "all"; ``rule`` a rule code; ``location_id``."""

    state: str = "active"
    rule: str | None = None
    location_id: int | None = None


def due_order() -> tuple:
    """ORDER BY terms for alert lists (alert centre, digests, export): by due date, soonest
    first — overdue ones (expired, inspection overdue) before those still ahead — then alerts
    without a date (restock, never counted); ties by rule order, then stage, then id.

    Why: a keeper works down the list; a batch 5 days from expiry must not come after
    batches with months left because of their rule or stage (issue 12, item 8)."""
    rule_order = case({r.code: r.order for r in RULES.values()}, value=Alert.rule, else_=99)
    return (Alert.due_on.is_(None), Alert.due_on, rule_order, Alert.level, Alert.id)


def alert_query(user: User, flt: AlertFilter):
    """The filtered alert list for ``user`` in :func:`due_order` (soonest due first), with
    location, item, batch and acknowledging user eager-loaded."""
    from sqlalchemy.orm import joinedload

    stmt = (select(Alert).options(joinedload(Alert.location), joinedload(Alert.item),
                                  joinedload(Alert.batch), joinedload(Alert.acknowledged_by))
            .order_by(*due_order()))
    clause = visible_clause(user)
    if clause is not None:
        stmt = stmt.where(clause)
    states = {"open": [AlertState.OPEN], "acknowledged": [AlertState.ACKNOWLEDGED],
              "resolved": [AlertState.RESOLVED], "active": [AlertState.OPEN, AlertState.ACKNOWLEDGED]}
    if flt.state in states:
        stmt = stmt.where(Alert.state.in_(states[flt.state]))
    if flt.rule:
        stmt = stmt.where(Alert.rule == flt.rule)
    if flt.location_id:
        stmt = stmt.where(Alert.location_id == flt.location_id)
    return stmt


def alert_page(user: User, flt: AlertFilter, page: int, per_page: int = 50) -> tuple[list[Alert], bool]:
    """(alerts on ``page`` (1-based), whether a next page exists)."""
    rows = list(db.session.scalars(alert_query(user, flt).limit(per_page + 1).offset((page - 1) * per_page))
                .unique())
    return rows[:per_page], len(rows) > per_page


def counts_by_rule(user: User) -> dict[str, dict[str, int]]:
    """``{rule: {"open": n, "acknowledged": m}}`` over the alerts ``user`` may see; one grouped query."""
    stmt = (select(Alert.rule, Alert.state, func.count(Alert.id))
            .where(Alert.state != AlertState.RESOLVED).group_by(Alert.rule, Alert.state))
    clause = visible_clause(user)
    if clause is not None:
        stmt = stmt.where(clause)
    out: dict[str, dict[str, int]] = {}
    for code, state, n in db.session.execute(stmt):
        out.setdefault(code, {})[state.value] = n
    return out


def alert_with_history(alert_id: int) -> Alert | None:
    """An alert with its location, item, batch and event history (with users) loaded."""
    from sqlalchemy.orm import joinedload, selectinload

    return db.session.scalar(
        select(Alert).where(Alert.id == alert_id)
        .options(joinedload(Alert.location), joinedload(Alert.item), joinedload(Alert.batch),
                 joinedload(Alert.acknowledged_by), selectinload(Alert.events).joinedload(AlertEvent.user)))


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
