"""The database handle (Flask-SQLAlchemy) with one constraint-naming convention."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

from inventory.core.errors import NotFound

#: Constraint names follow one convention so that migrations are stable on
#: SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def get_or_not_found(model, record_id, message, *, field: str):
    """The ``model`` row whose primary key is ``record_id``.

    Raises NotFound(``message``, field=``field``) when ``record_id`` is None or no such row exists."""
    row = db.session.get(model, record_id) if record_id is not None else None
    if row is None:
        raise NotFound(message, field=field)
    return row
