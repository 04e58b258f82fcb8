"""Portable SQL: the helpers whose SQL differs between SQLite and PostgreSQL, the two databases
the app runs on.

* :class:`days_between` and :class:`add_days` — date arithmetic as SQL functions;
* :func:`dialect_insert` — an INSERT with ``ON CONFLICT`` (the idempotent insert and upsert);
* :func:`is_postgresql` — for the few statements only PostgreSQL needs (``ANALYZE``).
"""
from __future__ import annotations

from sqlalchemy import Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from inventory.core.db import db

#: Databases the app supports.
DIALECTS = ("postgresql", "sqlite")


class days_between(FunctionElement):
    """``days_between(later, earlier)`` → whole days from ``earlier`` to ``later`` (dates).

    PostgreSQL: ``later - earlier`` (date minus date is an integer);
    SQLite: ``julianday(later) - julianday(earlier)`` cast to integer.
    """

    type = Integer()
    inherit_cache = True
    name = "days_between"


class add_days(FunctionElement):
    """``add_days(date, n)`` → the date ``n`` days later (PostgreSQL ``date + n``; SQLite ``date(d, '+n days')``)."""

    type = Date()
    inherit_cache = True
    name = "add_days"


def _compile_as(function: type[FunctionElement], template: str, dialect: str | None = None) -> None:
    """Compile ``function(a, b, …)`` as ``template.format(a, b, …)`` (the compiled arguments) on
    ``dialect``; ``None`` is every other database (here: SQLite)."""

    def compile_(element, compiler, **kw):
        return template.format(*(compiler.process(arg, **kw) for arg in element.clauses))

    compiles(function, *([dialect] if dialect else []))(compile_)


_compile_as(days_between, "(CAST({0} AS DATE) - CAST({1} AS DATE))", "postgresql")
_compile_as(days_between, "CAST(julianday({0}) - julianday({1}) AS INTEGER)")
_compile_as(add_days, "(CAST({0} AS DATE) + CAST({1} AS INTEGER))", "postgresql")
_compile_as(add_days, "date({0}, '+' || ({1}) || ' days')")


def dialect_name() -> str:
    """The name of the session's database dialect, one of :data:`DIALECTS`.

    Raises RuntimeError on any other database."""
    name = db.session.get_bind().dialect.name
    if name not in DIALECTS:
        raise RuntimeError(f"the app supports SQLite and PostgreSQL, not {name}")
    return name


def is_postgresql() -> bool:
    """True when the session runs on PostgreSQL (False: SQLite)."""
    return dialect_name() == "postgresql"


def dialect_insert(table):
    """An INSERT construct for the session's database (PostgreSQL or SQLite) that offers
    ``on_conflict_do_nothing`` and ``on_conflict_do_update``: the idempotent insert behind
    the unique keys, and the atomic upsert of counters.  Raises RuntimeError on another database."""
    if is_postgresql():
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
