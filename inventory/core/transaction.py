"""The one transaction boundary: a unit of work commits once, or rolls back.

Services change data and flush; they never commit.  Whoever calls them — a
view, a CLI command, a scheduler job — wraps the calls in one unit of work::

    with unit_of_work():
        ledger.issue(...)

On leaving the block the session commits exactly once.  Any exception (a
:class:`~inventory.core.errors.DomainError`, a database error, an HTTP abort,
``KeyboardInterrupt`` …) rolls everything back and propagates unchanged, so
nothing half-done is ever stored.  A commit that fails rolls back too.

The web layer builds its form and CLI helpers on this
(:mod:`inventory.web.transaction`); nothing else in ``inventory/`` calls
``db.session.commit()`` (``tests/test_transaction.py`` checks it).  This module
knows no request.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from inventory.core.db import db

#: Key in ``Session.info`` marking a session that is inside a unit of work.
_ACTIVE = "inventory.unit_of_work"


class NestedUnitOfWork(RuntimeError):
    """A unit of work was opened inside another on the same session (the inner commit would
    commit the outer one's half-done work)."""


class UnitOfWork:
    """One database transaction on ``session`` (default: the app's ``db.session``).

    Use as a context manager.  On a normal exit it commits once — or rolls back
    when :meth:`discard` was called or ``dry_run`` is true; on any exception it
    rolls back and lets the exception propagate.  Afterwards ``committed``
    tells which happened.  Opening one inside another on the same session
    raises :class:`NestedUnitOfWork`.
    """

    def __init__(self, session: Session | None = None, *, dry_run: bool = False):
        self._session = session
        self.dry_run = dry_run
        self.discarded = dry_run
        self.committed = False

    @property
    def session(self) -> Session:
        """The SQLAlchemy session this unit of work commits or rolls back."""
        return self._session if self._session is not None else db.session()

    def discard(self) -> None:
        """Roll back instead of committing when the block ends (a dry run, a report with problems)."""
        self.discarded = True

    def restart(self) -> None:
        """Roll back what was done so far and go on in a fresh transaction of the same unit.

        For a retry after a lost race (e.g. another keeper created the same count
        line a moment ago): the retried work is committed when the block ends.
        """
        self.session.rollback()

    def __enter__(self) -> "UnitOfWork":
        session = self.session
        if session.info.get(_ACTIVE):
            raise NestedUnitOfWork("a unit of work is already open on this session")
        session.info[_ACTIVE] = True
        self._session = session
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        session = self.session
        try:
            if exc_type is not None or self.discarded:
                session.rollback()
                return False
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
            self.committed = True
            return False
        finally:
            session.info.pop(_ACTIVE, None)


def unit_of_work(*, dry_run: bool = False) -> UnitOfWork:
    """A :class:`UnitOfWork` on ``db.session``: ``with unit_of_work() as uow: ...``.

    ``dry_run`` — roll back at the end instead of committing (the block runs
    in full, so a report of what would change can be built).
    """
    return UnitOfWork(dry_run=dry_run)
