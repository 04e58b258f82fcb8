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

from config import BASE_DIR, INSTANCE_DIR, Config, config_name, get_config, resolve_secret_key
from inventory.core.db import db
from inventory.web.extensions import csrf, limiter, login_manager, migrate


def create_app(config: str | type[Config] | None = None, **overrides) -> Flask:
    """Build the app.

    ``config`` — a config class, or a name ("development", "test",
    "production"), default ``$INVENTORY_ENV``.  ``overrides`` — settings that
    win over the class (tests pass ``SQLALCHEMY_DATABASE_URI`` this way).
    ``SECRET_KEY`` comes from the overrides or ``$SECRET_KEY``, read now (see
    :func:`config.resolve_secret_key`).  Raises RuntimeError when the key is
    missing outside development and tests, blank or shorter than 32 characters;
    KeyError for an unknown config name.
    """
    cfg = config if isinstance(config, type) else get_config(config)
    key = resolve_secret_key(
        overrides["SECRET_KEY"] if "SECRET_KEY" in overrides else os.environ.get("SECRET_KEY"),
        fallback=cfg.SECRET_KEY_FALLBACK, key_file=overrides.get("SECRET_KEY_FILE", cfg.SECRET_KEY_FILE),
        env=cfg.__name__ if isinstance(config, type) else config_name(config))
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(cfg)
    app.config.update(overrides)
    app.config["SECRET_KEY"] = key
    from inventory.web.settings import init_settings

    init_settings(app)
    os.makedirs(app.instance_path, exist_ok=True)
    _configure_database(app)
    _configure_proxy(app)
    _check_sign_in_limits(app)
    _check_password_hashing(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from inventory.web.access import enforce_declared_access
    from inventory.web.i18n import init_i18n
    from inventory.web.setup import register_views

    init_i18n(app)
    import inventory.web.models  # noqa: F401  (the one-time token table)

    modules = domain_modules()
    register_views(app, modules["views"], {name: f for m in modules["labels"]
                                           for name, f in m.TEMPLATE_FILTERS.items()})
    app.before_request(enforce_declared_access)
    register_commands(app, modules["cli"])
    return app


#: The domain packages, each one folder: its models, services, forms, views, CLI and labels.
#: Lower ones never import higher ones (the layers contract in ``pyproject.toml``).
DOMAINS = ("users", "stock", "admin", "standards", "scan", "stocktake", "alerts", "residents", "dashboard", "demo")


def domain_modules() -> dict[str, list]:
    """Import every domain's ``models``, ``labels``, ``cli`` and view modules and return them by kind.

    A domain's views are its ``views`` module, or every module of its ``views`` package that
    defines a blueprint ``bp``; the shape is ``{"models": [...], "labels": [...], "cli": [...],
    "views": [...]}``, each list in :data:`DOMAINS` order.  Importing the models registers every
    table on the metadata before migrations or ``create_all`` read it.
    """
    import importlib
    import pkgutil

    found: dict[str, list] = {"models": [], "labels": [], "cli": [], "views": []}
    for domain in DOMAINS:
        package = importlib.import_module(f"{__name__}.{domain}")
        children = {info.name: info.ispkg for info in pkgutil.iter_modules(package.__path__)}
        for kind in ("models", "labels", "cli"):
            if kind in children:
                found[kind].append(importlib.import_module(f"{package.__name__}.{kind}"))
        if children.get("views"):
            views = importlib.import_module(f"{package.__name__}.views")
            for info in sorted(pkgutil.iter_modules(views.__path__), key=lambda m: m.name):
                module = importlib.import_module(f"{views.__name__}.{info.name}")
                if hasattr(module, "bp"):
                    found["views"].append(module)
        elif "views" in children:
            found["views"].append(importlib.import_module(f"{package.__name__}.views"))
    return found


def register_commands(app: Flask, cli_modules) -> None:
    """Add the ``COMMANDS`` of every domain's ``cli`` module, and the web layer's, to ``flask``."""
    from inventory.web import cli as web_cli

    for module in [web_cli, *cli_modules]:
        for command in module.COMMANDS:
            app.cli.add_command(command)


def _configure_proxy(app: Flask) -> None:
    """Trust ``PROXY_FIX_X_FOR`` / ``PROXY_FIX_X_PROTO`` proxies' forwarded headers (werkzeug
    ProxyFix); with both 0 (the default) nothing forwarded is trusted.  Raises RuntimeError
    for a negative count."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    x_for, x_proto = int(app.config.get("PROXY_FIX_X_FOR", 0)), int(app.config.get("PROXY_FIX_X_PROTO", 0))
    if x_for < 0 or x_proto < 0:
        raise RuntimeError("PROXY_FIX_X_FOR and PROXY_FIX_X_PROTO count trusted proxies: 0 or more.")
    if x_for or x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto, x_host=0, x_port=0, x_prefix=0)


def _check_sign_in_limits(app: Flask) -> None:
    """Refuse to start (RuntimeError) when a sign-in limit cannot be read, rather than answer
    500 at the first sign-in."""
    from inventory.users.services.signin import parse_limits

    for name in ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT"):
        try:
            parse_limits(app.config.get(name, ""))
        except ValueError:
            raise RuntimeError(f"{name}={app.config.get(name)!r} is not a limit like '10 per minute;50 per hour'."
                               ) from None


def _check_password_hashing(app: Flask) -> None:
    """Check ``PASSWORD_HASH_METHOD``, with which the accounts service makes every new password
    hash (read through :mod:`inventory.core.settings`); RuntimeError when werkzeug does not know it."""
    from inventory.users.services.accounts import check_hash_method

    try:
        check_hash_method(app.config["PASSWORD_HASH_METHOD"])
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


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
