"""The database handle (Flask-SQLAlchemy) with one constraint-naming convention."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData


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
