"""Who may do what: route-level roles and object-level checks on locations.

Deny by default: every route must declare its audience with :func:`access`
(``public=True`` for residents' pages); :func:`enforce_declared_access` refuses
any endpoint that did not.  Object-level rules live in :func:`allowed_actions`
and are checked on the server for every location, batch, movement and document.

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

import datetime as dt
from typing import Iterable

from flask import abort, current_app, session
from flask_login import current_user, login_user

from inventory.core.db import db
from inventory.web.extensions import login_manager
from inventory.stock.models import Location, LocationKind
from inventory.core.policy import Role
from inventory.users.models import User


#: Actions on a location's stock.
VIEW, RECEIVE, ISSUE, TRANSFER, ADJUST, DISPOSE, REVERSE, COUNT = (
    "view", "receive", "issue", "transfer", "adjust", "dispose", "reverse", "count")
BOOKING = frozenset({RECEIVE, ISSUE, TRANSFER, ADJUST, DISPOSE, REVERSE, COUNT})






#: Session keys that survive signing in (everything else, the CSRF token included, is dropped).
KEPT_AT_SIGN_IN = ("lang",)


def parse_session_token(token: str) -> tuple[int, int, int] | None:
    """``"<user id>:<session version>:<signed in at, Unix seconds>"`` (see ``User.get_id``)
    → the three numbers, or None for anything else (e.g. a session from before versions)."""
    parts = (token or "").split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    user_id, version, signed_in = (int(p) for p in parts)
    return user_id, version, signed_in


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    """The user a session or remember cookie names, checked on every request.

    None (signed out) when the token is malformed, the user is gone or inactive,
    the user's ``session_version`` moved on since the sign-in (every session
    ended), or the sign-in is older than ``REMEMBER_COOKIE_DURATION`` (30 days:
    the longest a sign-in lasts, remembered or not; OWASP ASVS 3.3.2).
    """
    from inventory.core import clock

    parsed = parse_session_token(token)
    if parsed is None:
        return None
    user_id, version, signed_in = parsed
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    now = clock.now_utc().replace(tzinfo=dt.timezone.utc).timestamp()
    if now - signed_in > current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds():
        return None
    user._session_token = token
    return user


def clear_session() -> None:
    """Drop everything from the session (CSRF token included) but :data:`KEPT_AT_SIGN_IN`."""
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User, *, remember: bool = False) -> None:
    """Sign ``user`` in on a new session: the old session's content (CSRF token included) is
    dropped but the language choice, so nothing set before sign-in is carried into it
    (session fixation, OWASP ASVS 3.2.1).  ``remember`` sets the remember cookie."""
    clear_session()
    user._session_token = None  # a new identity with the current session version and time
    login_user(user, remember=remember)


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


def require(action: str, location: Location | None) -> Location:
    """Abort unless the current user may take ``action`` on ``location``.

    A location the user may not even view answers 404, so that guessing codes
    or ids reveals nothing (not even that it exists); a visible location
    where the action is not allowed answers 403.
    """
    if location is None:
        abort(404)
    actions = allowed_actions(current_user, location)
    if VIEW not in actions:
        abort(404)
    if action not in actions:
        abort(403)
    return location


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
