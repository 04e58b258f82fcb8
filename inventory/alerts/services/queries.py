"""Read models of the alert centre: what a user may see, filtered, paged and counted."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    case,
    func,
    literal,
    select,
)

from inventory.alerts.models import Alert, AlertEvent, AlertState
from inventory.alerts.services.rules import RULES
from inventory.core.db import db
from inventory.core.policy import Role
from inventory.stock.models import Location, LocationKind
from inventory.users.models import User, user_location


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
