"""Who may do what with a location's stock: object-level checks on locations, batches, movements
and documents, checked on the server for every one of them.

Route-level roles are declared with :func:`inventory.web.access.access` (deny by default);
:func:`inventory.stock.access.require` applies :func:`allowed_actions` in a view (404 or 403).

Rules (the roles by their field names; duties from the Lujiazui subdistrict work plan,
浦陆街办〔2024〕5号):

* ``admin`` (应急办) — sees everything and manages users and configuration; may
  book at every location except civil-defence ones unless assigned to them,
  because the work plan gives the civil-defence warehouse to the armed forces
  department (武装部), and nobody else changes its stock.
* ``keeper`` — books receive, issue, transfer, adjust, dispose and reversals at
  assigned locations; may see item totals at other non-civil-defence locations
  when arranging a transfer.
* ``civil_defence`` (武装部) — reads and counts civil-defence locations, nothing else.
* ``residential`` — a residential manager: their own storage point(s).
* ``viewer`` — read-only everywhere (auditors, leaders).
"""
from __future__ import annotations

from typing import Iterable

from inventory.core.db import db
from inventory.core.policy import Role
from inventory.stock.models import Location, LocationKind
from inventory.users.models import User

#: Actions on a location's stock.
VIEW, RECEIVE, ISSUE, TRANSFER, ADJUST, DISPOSE, REVERSE, COUNT = (
    "view", "receive", "issue", "transfer", "adjust", "dispose", "reverse", "count")


BOOKING = frozenset({RECEIVE, ISSUE, TRANSFER, ADJUST, DISPOSE, REVERSE, COUNT})


def _assigned(user: User) -> set[int]:
    cache = getattr(user, "_assigned_ids", None)
    if cache is None:
        cache = {loc.id for loc in user.locations}
        user._assigned_ids = cache
    return cache


def allowed_actions(user: User, location: Location) -> frozenset[str]:
    """The actions ``user`` may take on ``location``'s stock (empty: not even view)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    role = user.role
    assigned = location.id in _assigned(user)
    civil = location.kind == LocationKind.CIVIL_DEFENCE
    if role == Role.ADMIN:
        return frozenset({VIEW} | (BOOKING if (assigned or not civil) else set()))
    if role == Role.VIEWER:
        return frozenset({VIEW})
    if role == Role.CIVIL_DEFENCE:
        return frozenset({VIEW, COUNT, ADJUST}) if civil else frozenset()
    if role in (Role.KEEPER, Role.RESIDENTIAL):
        return frozenset({VIEW} | BOOKING) if assigned and location.active else (
            frozenset({VIEW}) if assigned else frozenset())
    return frozenset()


def can(user: User, action: str, location: Location) -> bool:
    """True when ``user`` may take ``action`` on ``location``."""
    return action in allowed_actions(user, location)




def may_change_stock_at(user: User, location: Location) -> bool:
    """Whether a booking by ``user`` may change stock at ``location`` as a side effect
    (the destination of a transfer, the legs of a reversal).

    Civil-defence stock is changed only by those who may book there — the
    Lujiazui subdistrict work plan gives the civil-defence warehouse to the
    armed forces department (武装部); any other location may receive transfers
    from any booker.
    """
    if location.kind != LocationKind.CIVIL_DEFENCE:
        return True
    return can(user, RECEIVE, location)


def can_view_document(user: User, document) -> bool:
    """A document is visible to whoever may view its location or its counterparty
    location (so the receiving point of a transfer sees the transfer order)."""
    if can(user, VIEW, document.location):
        return True
    other = document.counterparty_location
    return other is not None and can(user, VIEW, other)


def visible_location_ids(user: User) -> set[int] | None:
    """Ids of the locations ``user`` may view; None means all of them."""
    if user.role in (Role.ADMIN, Role.VIEWER):
        return None
    if user.role == Role.CIVIL_DEFENCE:
        return set(db.session.scalars(
            db.select(Location.id).where(Location.kind == LocationKind.CIVIL_DEFENCE)))
    return set(_assigned(user))


def overview_location_ids(user: User) -> set[int] | None:
    """Locations whose per-item *totals* ``user`` may see (item pages, transfer planning).

    Keepers also see totals at every non-civil-defence location, to arrange
    transfers; batch detail stays limited to :func:`visible_location_ids`.
    """
    if user.role == Role.KEEPER:
        others = set(db.session.scalars(
            db.select(Location.id).where(Location.kind != LocationKind.CIVIL_DEFENCE)))
        return others | _assigned(user)
    return visible_location_ids(user)


def bookable_locations(user: User, action: str, locations: Iterable[Location]) -> list[Location]:
    """The subset of ``locations`` where ``user`` may take ``action``."""
    return [loc for loc in locations if can(user, action, loc)]
