"""Alerts: the rule-run scratch table ``alert_finding`` is UNLOGGED on PostgreSQL.

Its rows live only inside one run's transaction (staged, merged, deleted before the commit),
so writing them to the write-ahead log bought nothing: a crash loses an uncommitted run
anyway.  Without the log, staging the 140,000 findings of a first run over a million batches
writes no WAL (bench/alerts.py).  PostgreSQL empties an unlogged table after a crash, which
is this table's normal state between runs.  SQLite has no such mode; nothing changes there.

Revision ID: 0010_alert_finding_unlogged
Revises: 0009_resend_months
Create Date: 2026-12-04 23:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_alert_finding_unlogged'
down_revision = '0009_resend_months'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE alert_finding SET UNLOGGED")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE alert_finding SET LOGGED")
