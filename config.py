"""Application configuration, read from the environment.

Pick a class with ``INVENTORY_ENV`` (``development`` — the default, ``test`` or
``production``).  Every setting can be overridden by an environment variable of
the same name.  ``DATABASE_URL`` selects PostgreSQL (``postgresql://…`` is
rewritten to use the psycopg 3 driver); without it the app uses SQLite at
``instance/inventory.db``.

``SECRET_KEY`` signs sessions, remember cookies and CSRF tokens; no key is ever
taken from the source.  It is read when the app is built
(:func:`resolve_secret_key`): development without it generates a random key
once and keeps it in ``instance/secret_key`` (mode 600), the test config uses a
random key per process, and every other environment refuses to start.  A key
shorter than 32 characters is refused everywhere.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

#: Shortest SECRET_KEY accepted (32 characters: 128 bits as hex, OWASP ASVS 2.9 / 3.5).
MIN_SECRET_KEY_LENGTH = 32
_KEY_HINT = "for example: python -c 'import secrets; print(secrets.token_hex(32))'"


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

    #: Filled in by create_app from $SECRET_KEY (or the fallback below); see resolve_secret_key.
    SECRET_KEY: str | None = None
    #: Without $SECRET_KEY: "refuse" to start, use the "instance-file" or an "ephemeral" random key.
    SECRET_KEY_FALLBACK = "refuse"
    #: Where development keeps its generated key.
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE", str(INSTANCE_DIR / "secret_key"))
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL"), f"sqlite:///{INSTANCE_DIR / 'inventory.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    #: SQLite busy timeout in seconds: a writer waits this long for the lock
    #: instead of failing with "database is locked" (measured: docs/sources.md §9.1).
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
    #: "Keep me signed in" lasts 30 days; no sign-in, remembered or not, is accepted longer
    #: (checked by the user loader, OWASP ASVS 3.3.2).
    REMEMBER_COOKIE_DURATION = dt.timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: Flask-Limiter (not used by sign-in, whose throttle counts in the database).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: Failed sign-ins allowed per account (the name typed, from any address) …
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    #: … and per client address (any names); counted in the database by every worker.
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "200 per hour")
    LOGIN_THROTTLE_ENABLED = _bool("LOGIN_THROTTLE_ENABLED", True)
    #: How new password hashes are made (a werkzeug method string; stored hashes of any method
    #: still verify).  Not read from the environment, so that a cheap method cannot reach a
    #: deployment by a stray variable; only TestConfig changes it.
    PASSWORD_HASH_METHOD = "scrypt"
    #: Behind a reverse proxy: how many proxies' X-Forwarded-For (and -Proto) entries to
    #: trust (werkzeug ProxyFix).  0, the default, trusts none: the client address is the
    #: connection's, so a client cannot pick its own address to dodge the throttle.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
    PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO", "0"))
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    TESTING = False
    DEBUG = False
    #: Demo accounts and their passwords may be printed by seed-demo.
    ALLOW_DEMO_ACCOUNTS = True

    # ----------------------------------------------------------------- alerts
    #: Local time (TIMEZONE) of the daily alert run and digests, "HH:MM".
    ALERT_DAILY_AT = os.environ.get("ALERT_DAILY_AT", "06:30")
    #: Minutes between attempts to deliver digests that are waiting (a channel was down).
    ALERT_DELIVER_EVERY_MINUTES = int(os.environ.get("ALERT_DELIVER_EVERY_MINUTES", "10"))
    #: Give up on a digest after this many failed attempts (it stays listed as failed).
    ALERT_SEND_MAX_ATTEMPTS = int(os.environ.get("ALERT_SEND_MAX_ATTEMPTS", "12"))
    #: First retry delay in minutes; it doubles per attempt, up to 6 hours.
    ALERT_RETRY_MINUTES = int(os.environ.get("ALERT_RETRY_MINUTES", "5"))
    #: Roles that get the daily e-mail digest unless they turn it off ("viewer" may opt in).
    ALERT_DIGEST_ROLES = os.environ.get("ALERT_DIGEST_ROLES", "admin,keeper,civil_defence,residential")
    #: Alerts listed one by one in a digest; the rest are counted.
    ALERT_DIGEST_MAX_LINES = int(os.environ.get("ALERT_DIGEST_MAX_LINES", "40"))
    #: Lead days before an agreement reserve's contract ends, e.g. "90,30,7".
    ALERT_CONTRACT_LEAD_DAYS = os.environ.get("ALERT_CONTRACT_LEAD_DAYS", "90,30,7")
    #: A location not counted (盘点) for this many days raises an alert: the 民政部 central
    #: relief-reserve rules ask for regular counts, and local depots count monthly. 0 turns it off.
    ALERT_NOT_COUNTED_DAYS = int(os.environ.get("ALERT_NOT_COUNTED_DAYS", "31"))
    #: E-mail over SMTP; an empty host turns the e-mail channel off.
    ALERT_SMTP_HOST = os.environ.get("ALERT_SMTP_HOST", "")
    ALERT_SMTP_PORT = int(os.environ.get("ALERT_SMTP_PORT", "25"))
    ALERT_SMTP_USER = os.environ.get("ALERT_SMTP_USER", "")
    ALERT_SMTP_PASSWORD = os.environ.get("ALERT_SMTP_PASSWORD", "")
    #: "none", "starttls" or "ssl".
    ALERT_SMTP_SECURITY = os.environ.get("ALERT_SMTP_SECURITY", "none")
    ALERT_SMTP_TIMEOUT = float(os.environ.get("ALERT_SMTP_TIMEOUT", "20"))
    ALERT_MAIL_FROM = os.environ.get("ALERT_MAIL_FROM", "")
    #: A webhook that gets the office-wide daily digest as a JSON POST (empty: off), e.g. a
    #: WeCom group robot https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
    ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL", "")
    #: "wecom" (group-robot markdown message) or "json" (the digest as plain JSON).
    ALERT_WEBHOOK_FORMAT = os.environ.get("ALERT_WEBHOOK_FORMAT", "wecom")
    ALERT_WEBHOOK_LOCALE = os.environ.get("ALERT_WEBHOOK_LOCALE", "zh_Hans_CN")
    ALERT_WEBHOOK_TIMEOUT = float(os.environ.get("ALERT_WEBHOOK_TIMEOUT", "10"))


class DevelopmentConfig(Config):
    """Local use: SQLite by default, demo accounts allowed; without SECRET_KEY a random key
    is generated once into ``instance/secret_key``."""

    SECRET_KEY_FALLBACK = "instance-file"


class TestConfig(Config):
    """Settings for the test suite; the database URL is set by the fixtures."""

    TESTING = True
    SECRET_KEY_FALLBACK = "ephemeral"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    #: Off in tests (fixtures sign in often); the throttle's own tests turn it on.
    LOGIN_THROTTLE_ENABLED = False
    #: One PBKDF2 round instead of scrypt: fixtures hash a password for every user they make,
    #: and scrypt's ~0.09 s each added most of a second to each test that builds the world.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    #: Tests start their own SMTP and HTTP servers and pass these settings explicitly.
    ALERT_SMTP_HOST = ""
    ALERT_WEBHOOK_URL = ""
    #: Off in tests, whose fixtures have never-counted locations; its own test turns it on.
    ALERT_NOT_COUNTED_DAYS = 0


class ProductionConfig(Config):
    """Multi-user deployment: refuses to start without a SECRET_KEY of at least 32 characters."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    ALLOW_DEMO_ACCOUNTS = False


def resolve_secret_key(value: str | None, *, fallback: str, key_file: str | Path, env: str = "") -> str:
    """The SECRET_KEY to sign with.

    ``value`` — the configured key ($SECRET_KEY or an override), None when not set.
    ``fallback`` — what to do without one: ``"instance-file"`` (development: read
    ``key_file``, creating it with a random key, mode 600, the first time),
    ``"ephemeral"`` (tests: a new random key) or ``"refuse"``.  ``env`` names the
    environment in the error message.

    Raises RuntimeError for a blank key, a key shorter than
    :data:`MIN_SECRET_KEY_LENGTH` characters (also in ``key_file``), or no key
    where the fallback is ``"refuse"``.
    """
    if value is not None:
        if len(value.strip()) < MIN_SECRET_KEY_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY is {'blank' if not value.strip() else 'too short'}: set it to a random value "
                f"of at least {MIN_SECRET_KEY_LENGTH} characters ({_KEY_HINT}).")
        return value
    if fallback == "instance-file":
        return load_or_create_key_file(Path(key_file))
    if fallback == "ephemeral":
        return secrets.token_hex(32)
    raise RuntimeError(
        f"SECRET_KEY is not set. INVENTORY_ENV={env or '?'} refuses to start without a random key of "
        f"at least {MIN_SECRET_KEY_LENGTH} characters ({_KEY_HINT}); only development generates its own.")


def load_or_create_key_file(path: Path) -> str:
    """The key kept in ``path``; the first call writes a random one (64 hex digits, mode 600).

    Several processes starting at once (gunicorn workers) agree on one key: the
    file is written under a temporary name and linked into place, which fails
    for all but the first.  Raises RuntimeError when the file holds fewer than
    :data:`MIN_SECRET_KEY_LENGTH` characters.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")  # created mode 600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process was first: use its key
        finally:
            os.unlink(temporary)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(f"{path} holds no key of at least {MIN_SECRET_KEY_LENGTH} characters; "
                           "delete it to have a new one generated, or set SECRET_KEY.")
    return key


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_name(name: str | None = None) -> str:
    """``name`` or ``$INVENTORY_ENV`` (default development), stripped and lower-case."""
    return (name or os.environ.get("INVENTORY_ENV") or "development").strip().lower()


def get_config(name: str | None = None) -> type[Config]:
    """Return the config class for ``name`` or ``$INVENTORY_ENV`` (default development).

    Raises KeyError for an unknown name.
    """
    name = config_name(name)
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"Unknown INVENTORY_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
