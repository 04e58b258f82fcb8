"""Migrations build the same schema as the models, on SQLite and PostgreSQL, and run down and up."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from inventory.core.db import db


def test_upgrade_matches_models_and_downgrade_round_trips(any_app, backend):
    with db.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con, opts={"compare_type": True}), db.metadata)
    assert diff == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"location", "item", "batch", "movement", "document", "user", "category"} <= tables
    db.session.remove()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert {"movement", "batch"} <= set(inspect(db.engine).get_table_names())
