"""Portable SQL helpers for date arithmetic that differs between SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class days_between(FunctionElement):
    """``days_between(later, earlier)`` → whole days from ``earlier`` to ``later`` (dates).

    PostgreSQL: ``later - earlier`` (date minus date is an integer);
    SQLite: ``julianday(later) - julianday(earlier)`` cast to integer.
    """

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(CAST({compiler.process(later, **kw)} AS DATE) - CAST({compiler.process(earlier, **kw)} AS DATE))"


@compiles(days_between)
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"CAST(julianday({compiler.process(later, **kw)}) - "
            f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)")
