"""Database set-up shared by the benchmark scripts."""
from __future__ import annotations


def sqlalchemy_url(url: str) -> str:
    """``url`` with the psycopg (3) driver named: ``postgresql://…`` → ``postgresql+psycopg://…``;
    any other URL unchanged."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def reset_postgres(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it is missing, then empty it (drop and
    recreate the ``public`` schema), ready for the migrations."""
    from sqlalchemy import create_engine, text

    url = sqlalchemy_url(url)
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as con:
        if not con.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            con.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("DROP SCHEMA public CASCADE"))
        con.execute(text("CREATE SCHEMA public"))
    engine.dispose()
