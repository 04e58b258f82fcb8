"""Emergency-supplies inventory for a Chinese subdistrict office (街道应急物资管理).

``create_app(config)`` builds the Flask application: extensions, blueprints,
CLI commands and error handlers.  The scheduler is *not* started here: it runs
as its own process (``flask --app app scheduler``).
"""
from __future__ import annotations

import os
import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import BASE_DIR, INSTANCE_DIR, Config, get_config

from .extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: str | type[Config] | None = None, **overrides) -> Flask:
    """Build the app.

    ``config`` — a config class, or a name ("development", "test",
    "production"), default ``$INVENTORY_ENV``.  ``overrides`` — settings that
    win over the class (tests pass ``SQLALCHEMY_DATABASE_URI`` this way).
    Raises RuntimeError when the production configuration is unsafe (no SECRET_KEY).
    """
    cfg = config if isinstance(config, type) else get_config(config)
    if hasattr(cfg, "validate"):
        cfg.validate()
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(cfg)
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    _configure_database(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from .i18n import init_i18n
    from .cli import register_cli
    from .views import register_views

    init_i18n(app)
    register_views(app)
    register_cli(app)
    return app


def _configure_database(app: Flask) -> None:
    """SQLite: busy timeout (so writers wait instead of failing), set in connect_args."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", app.config.get("SQLITE_BUSY_TIMEOUT", 5))
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every SQLite connection: WAL journal (readers never wait for the writer),
    foreign keys enforced, NORMAL synchronous (safe with WAL)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
