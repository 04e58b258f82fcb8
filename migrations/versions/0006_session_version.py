"""Users: a session version that is part of every session's identity; raising it ends
every session and remember cookie of the user (logout, password, role or location change,
deactivation).

Revision ID: 0006_session_version
Revises: 0005_alerts
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_session_version"
down_revision = "0005_alerts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
