"""Application configuration, read from the environment.

Pick a class with ``INVENTORY_ENV`` (``development`` — the default, ``test`` or
``production``).  Every setting can be overridden by an environment variable of
the same name.  ``DATABASE_URL`` selects PostgreSQL (``postgresql://…`` is
rewritten to use the psycopg 3 driver); without it the app uses SQLite at
``instance/inventory.db``.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

#: Marker value for the development secret.  ProductionConfig refuses it.
DEV_SECRET_KEY = "dev-only-not-secret"


def database_url(raw: str | None, default: str) -> str:
    """Return a SQLAlchemy URL for ``raw`` (an env value) or ``default``.

    ``postgres://`` and ``postgresql://`` URLs are rewritten to
    ``postgresql+psycopg://`` so that psycopg 3 is used.
    """
    url = (raw or "").strip() or default
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL"), f"sqlite:///{INSTANCE_DIR / 'inventory.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    #: SQLite busy timeout in seconds: a writer waits this long for the lock
    #: instead of failing with "database is locked" (reference/web.md §2).
    SQLITE_BUSY_TIMEOUT = float(os.environ.get("SQLITE_BUSY_TIMEOUT", "5"))
    #: Absolute base URL printed into QR codes, e.g. https://yjwz.example.gov.cn
    EXTERNAL_URL = os.environ.get("EXTERNAL_URL", "http://127.0.0.1:5000").rstrip("/")
    #: Business time zone: "today" and every displayed time use it.
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    #: Each area of the app keeps its own catalogue in translations/<area>/; all are merged.
    BABEL_TRANSLATION_DIRECTORIES = ";".join(
        str(p) for p in sorted((BASE_DIR / "translations").glob("*")) if (p / "zh_Hans_CN").is_dir()
    )
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    BOOTSTRAP_SERVE_LOCAL = True  # intranets have no internet: never a CDN
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "200 per hour")
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    TESTING = False
    DEBUG = False
    #: Demo accounts and their passwords may be printed by seed-demo.
    ALLOW_DEMO_ACCOUNTS = True


class DevelopmentConfig(Config):
    """Local use: SQLite by default, demo accounts allowed."""


class TestConfig(Config):
    """Settings for the test suite; the database URL is set by the fixtures."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class ProductionConfig(Config):
    """Multi-user deployment: refuses a default or short SECRET_KEY."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    ALLOW_DEMO_ACCOUNTS = False

    @classmethod
    def validate(cls) -> None:
        """Raise RuntimeError when the configuration is unsafe for production."""
        key = os.environ.get("SECRET_KEY", "")
        if not key or key == DEV_SECRET_KEY or len(key) < 32:
            raise RuntimeError(
                "Production needs SECRET_KEY set to a random value of at least 32 characters "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    """Return the config class for ``name`` or ``$INVENTORY_ENV`` (default development).

    Raises KeyError for an unknown name.
    """
    name = (name or os.environ.get("INVENTORY_ENV") or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"Unknown INVENTORY_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
