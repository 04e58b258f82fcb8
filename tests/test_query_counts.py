"""Pages and reports run a constant number of queries, whatever the amount of data.

Each test counts the SQL of one page with the ``count_queries`` fixture, doubles the
data the page lists, and counts again.
"""
from __future__ import annotations

from sqlalchemy import text

from inventory.core.db import db


def test_count_queries_counts_each_statement_and_only_inside_the_block(app, count_queries):
    db.session.execute(text("SELECT 1"))
    with count_queries() as q:
        db.session.execute(text("SELECT 2"))
        db.session.execute(text("SELECT 3"))
    db.session.execute(text("SELECT 4"))
    assert len(q) == 2
    assert q.statements == ["SELECT 2", "SELECT 3"]
    assert q.selects == q.statements
