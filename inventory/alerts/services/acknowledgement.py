"""Acknowledging and resolving alerts, one at a time or many at once; every change is an event."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    select,
)

from inventory.alerts.models import Alert, AlertEvent, AlertEventKind, AlertState
from inventory.alerts.services.queries import visible_clause
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, InvalidInput
from inventory.users.models import User


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
