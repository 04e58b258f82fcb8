"""The daily run: evaluate the rules for ``today`` and merge their findings into alert records."""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql import Select

from inventory.alerts.models import Alert, AlertEvent, AlertEventKind, AlertFinding, AlertState, JobState
from inventory.alerts.services.rules import RULES, Finding, rules_in_order
from inventory.core.db import db
from inventory.core.sql import dialect_insert, is_postgresql

#: Columns every rule's Select must provide (labelled), in this order.
FINDING_COLUMNS = ("subject", "location_id", "batch_id", "item_id", "level", "due_on", "detail")


#: Job id of the daily alert run in the scheduler's job table (``inventory.alerts.jobs.JOBS``).
ALERT_JOB_ID = "alerts.daily"


#: Python findings are written in chunks of this many rows.
CHUNK = 2000


@dataclass
class RunSummary:
    """What one rule run did: ``changes[rule][event]`` counts (opened, escalated, reopened,
    resolved) and ``active[rule]`` open + acknowledged alerts afterwards; ``run`` is its number.
    ``seconds`` is wall time by step: each rule's code (evaluated and staged), then "merge"."""

    run: int
    today: dt.date
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

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


def _stage_findings(token: str, code: str, parts: Iterable) -> bool:
    """Stage rule ``code``'s findings for run ``token``; True when some came as Python
    :class:`Finding` objects (their ``is_new`` flag is left to the merge).  Findings of a
    Select are flagged ``is_new`` (no alert yet) in the same INSERT … SELECT, by an anti-join
    on the alert table's unique key (rule, subject), which staging does not change."""
    f, a = AlertFinding.__table__, Alert.__table__
    columns = ["run_token", "rule", *FINDING_COLUMNS, "is_new"]
    buffer: list[dict] = []
    python = False

    def flush_buffer():
        if buffer:
            db.session.execute(insert(f), buffer)
            buffer.clear()

    for part in parts:
        if isinstance(part, Select):
            sub = part.subquery()
            is_new = ~exists().where(a.c.rule == code, a.c.subject == sub.c.subject)
            db.session.execute(insert(f).from_select(
                columns, select(literal(token), literal(code), *[sub.c[name] for name in FINDING_COLUMNS],
                                is_new)))
        elif isinstance(part, Finding):
            python = True
            buffer.append(dict(run_token=token, rule=code, subject=part.subject, location_id=part.location_id,
                               batch_id=part.batch_id, item_id=part.item_id, level=part.level,
                               due_on=part.due_on, detail=canonical_json(part.detail)))
            if len(buffer) >= CHUNK:
                flush_buffer()
        else:
            raise TypeError(f"rule {code} yielded {type(part).__name__}, not a Select or Finding")
    flush_buffer()
    return python


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
    summary = RunSummary(run=run, today=today)
    unflagged = []
    for r in selected:
        started = time.perf_counter()
        if _stage_findings(token, r.code, r.evaluate(today)):
            unflagged.append(r.code)
        summary.seconds[r.code] = time.perf_counter() - started
    started = time.perf_counter()
    _merge(token, [r.code for r in selected], run, now, unflagged)
    db.session.execute(delete(AlertFinding.__table__).where(AlertFinding.__table__.c.run_token == token))
    a = Alert.__table__
    for code, kind, n in db.session.execute(
            select(a.c.rule, a.c.last_event, func.count()).where(a.c.changed_run == run)
            .group_by(a.c.rule, a.c.last_event)):
        summary.changes.setdefault(code, {})[getattr(kind, "value", kind)] = n
    for code, n in db.session.execute(
            select(a.c.rule, func.count()).where(a.c.state != AlertState.RESOLVED).group_by(a.c.rule)):
        summary.active[code] = n
    summary.seconds["merge"] = time.perf_counter() - started
    return summary


def _merge(token: str, codes: list[str], run: int, now: dt.datetime, unflagged: list[str]) -> None:
    """Merge run ``token``'s staged findings of rules ``codes`` into the alerts (see
    :func:`run_rules`); ``unflagged``: rules whose findings still need their ``is_new`` flag."""
    a, f = Alert.__table__, AlertFinding.__table__
    if is_postgresql():
        # The scratch table is empty between runs, so its statistics say "no rows"; give the planner
        # the real numbers (ANALYZE counts this transaction's own rows; it may run in a transaction).
        db.session.execute(text("ANALYZE alert_finding"))
    found = and_(f.c.run_token == token, f.c.rule == a.c.rule, f.c.subject == a.c.subject)
    fields = dict(location_id=f.c.location_id, batch_id=f.c.batch_id, item_id=f.c.item_id,
                  due_on=f.c.due_on, detail=f.c.detail, level=f.c.level)
    # Every finding that has an alert, in one join (the alert table is read once per run, not three
    # times): a resolved alert whose condition is back reopens; a more urgent stage (90 → 30 → 7
    # days) raises it again, even if it was acknowledged; other details (quantity moved, date
    # corrected to later) refresh quietly.  SET expressions read the row as it was before.
    back = a.c.state == AlertState.RESOLVED
    reraise = or_(back, f.c.level < a.c.level)
    differs = or_(a.c.level != f.c.level, a.c.location_id != f.c.location_id,
                  a.c.batch_id.is_distinct_from(f.c.batch_id), a.c.item_id.is_distinct_from(f.c.item_id),
                  a.c.due_on.is_distinct_from(f.c.due_on), a.c.detail != f.c.detail)
    db.session.execute(update(a).where(found, or_(back, differs)).values(
        **fields,
        state=case((reraise, literal(AlertState.OPEN, a.c.state.type)), else_=a.c.state),
        raised_run=case((reraise, literal(run)), else_=a.c.raised_run),
        raised_at=case((reraise, literal(now, a.c.raised_at.type)), else_=a.c.raised_at),
        changed_run=case((reraise, literal(run)), else_=a.c.changed_run),
        last_event=case((back, literal(AlertEventKind.REOPENED, a.c.last_event.type)),
                        (f.c.level < a.c.level, literal(AlertEventKind.ESCALATED, a.c.last_event.type)),
                        else_=a.c.last_event),
        times_opened=a.c.times_opened + case((back, 1), else_=0),
        resolved_at=case((back, null()), else_=a.c.resolved_at)))
    # New conditions: flagged first (SQL rules while staging, Python rules here), then inserted.
    # Anti-joining the INSERT against its own target lets PostgreSQL plan a nested loop over a table
    # that grows while the statement runs (quadratic: minutes for 10^5 alerts on a fresh table,
    # bench/alerts.py).  The unique key (rule, subject) is the backstop against a concurrent run.
    if unflagged:
        db.session.execute(update(f).where(
            f.c.run_token == token, f.c.rule.in_(unflagged),
            ~exists().where(a.c.rule == f.c.rule, a.c.subject == f.c.subject),
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
