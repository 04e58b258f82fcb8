"""Sign-in throttle: failed attempts counted in the database, per account and per address.

Limits are written as Flask-Limiter writes them ("10 per minute;50 per hour",
parsed by the ``limits`` library) and apply as sliding windows over the
``sign_in_attempt`` rows, so every web worker process sees the same counts
(OWASP ASVS 2.2.1: anti-automation that holds; an in-memory limiter counted
per process).  An attempt is recorded as *pending* and committed **before** its
password is checked, and then counts itself and every other pending or failed
attempt in the window: so guesses fired in parallel at several workers cannot
slip past the limit, and while an account or address is locked even the right
password is refused without being checked.

The caller (the sign-in view) owns the transaction: it commits after
:func:`open_attempt`, then calls :func:`lock_for`, then :func:`close_attempt`
and commits again.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from limits import parse_many
from sqlalchemy import delete, select

from inventory.core.db import db
from inventory.users.models import SignInAttempt

PENDING, FAILED, REFUSED = "pending", "failed", "refused"
#: Outcomes that count against the limits.
COUNTED = (PENDING, FAILED)
#: Rows are kept at least this long (they also serve as a record of recent guessing).
MIN_KEEP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most ``amount`` counted attempts in any window of ``seconds``."""

    amount: int
    seconds: int


@dataclass(frozen=True)
class Lock:
    """Why an attempt was refused: ``scope`` "account" or "address", and ``retry_after``
    (whole seconds until the attempt would be evaluated again, at least 1)."""

    scope: str
    retry_after: int

    @property
    def minutes(self) -> int:
        """``retry_after`` rounded up to whole minutes (at least 1), for the page."""
        return max(1, math.ceil(self.retry_after / 60))


def parse_limits(text: str) -> list[Limit]:
    """``"10 per minute;50 per hour"`` → ``[Limit(10, 60), Limit(50, 3600)]``; "" → [].

    Raises ValueError for text the ``limits`` library cannot parse.
    """
    if not (text or "").strip():
        return []
    return [Limit(item.amount, item.get_expiry()) for item in parse_many(text)]


def throttle_key(username: str) -> str:
    """The account key of a typed user name: stripped, lower-case, at most 64 characters."""
    return (username or "").strip().lower()[:64]


def open_attempt(*, username: str, address: str, now: dt.datetime, keep: dt.timedelta = MIN_KEEP
                 ) -> SignInAttempt:
    """Record a pending attempt by ``username`` (as typed) from ``address`` at ``now`` (naive
    UTC) and prune attempts older than ``keep``.  Flushes; the caller commits before
    :func:`lock_for` so that other workers count this attempt too."""
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.occurred_at < now - max(keep, MIN_KEEP)))
    attempt = SignInAttempt(occurred_at=now, username=throttle_key(username), address=(address or "")[:64],
                            outcome=PENDING)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def lock_for(attempt: SignInAttempt, *, account_limits: list[Limit], address_limits: list[Limit],
             now: dt.datetime) -> Lock | None:
    """The lock that refuses ``attempt``, or None when it may be evaluated.

    For each limit, the other counted attempts (pending or failed) of the same
    account — any address — or of the same address — any account — within the
    window are counted; ``amount`` of them or more locks.  When several limits
    are breached, the longest wait is given.
    """
    worst: Lock | None = None
    for scope, column, value, limits in (
            ("account", SignInAttempt.username, attempt.username, account_limits),
            ("address", SignInAttempt.address, attempt.address, address_limits)):
        for limit in limits:
            window_start = now - dt.timedelta(seconds=limit.seconds)
            times = list(db.session.scalars(
                select(SignInAttempt.occurred_at)
                .where(column == value, SignInAttempt.outcome.in_(COUNTED), SignInAttempt.id != attempt.id,
                       SignInAttempt.occurred_at > window_start)
                .order_by(SignInAttempt.occurred_at)))
            if len(times) < limit.amount:
                continue
            # Open again once all but amount - 1 of them have left the window.
            frees_at = times[len(times) - limit.amount] + dt.timedelta(seconds=limit.seconds)
            wait = max(1, math.ceil((frees_at - now).total_seconds()))
            if worst is None or wait > worst.retry_after:
                worst = Lock(scope, wait)
    return worst


def close_attempt(attempt: SignInAttempt, outcome: str | None) -> None:
    """Settle ``attempt``: ``FAILED`` (wrong password, keeps counting), ``REFUSED`` (locked,
    stops counting) or None (signed in: the row is deleted).  Flushes."""
    if outcome is None:
        db.session.delete(attempt)
    else:
        if outcome not in (FAILED, REFUSED):
            raise ValueError(f"unknown outcome {outcome!r}")
        attempt.outcome = outcome
    db.session.flush()
