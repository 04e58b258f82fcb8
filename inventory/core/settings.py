"""The one settings object services read: a typed, read-only view of the app's configuration.

``create_app`` makes one :class:`Settings` over ``app.config`` at start-up; the web layer makes
it :func:`current` while that app's context is active (Flask's app-context signals push and pop
it), so a service, a CLI command and a scheduler job all see the settings of the app they run
in, without importing Flask.  Outside any app (a unit test of a pure function) :data:`DEFAULTS`
applies.  Properties read the mapping on each access, so a setting changed on a running app
(tests do this) is seen at once.  The defaults here equal those of ``config.Config``.
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Mapping

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_LOCALE = "zh_Hans_CN"


class Settings:
    """Typed access to the settings services use; ``config`` is the app's config mapping."""

    def __init__(self, config: Mapping[str, Any]):
        self._config = config

    def _get(self, name: str, default: Any) -> Any:
        return self._config.get(name, default)

    @property
    def timezone(self) -> str:
        """Business time zone name (``TIMEZONE``), default Asia/Shanghai."""
        return self._get("TIMEZONE", DEFAULT_TZ)

    @property
    def default_locale(self) -> str:
        """Locale of texts written for nobody in particular (``BABEL_DEFAULT_LOCALE``)."""
        return self._get("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)

    @property
    def languages(self) -> Mapping[str, str]:
        """Offered UI languages, locale → name (``LANGUAGES``)."""
        return self._get("LANGUAGES", {DEFAULT_LOCALE: "简体中文", "en": "English"})

    def locale_or_default(self, value: str | None) -> str:
        """``value`` when it is an offered language, else :attr:`default_locale`."""
        return value if value in self.languages else self.default_locale

    @property
    def password_hash_method(self) -> str:
        """werkzeug method for new password hashes (``PASSWORD_HASH_METHOD``), default scrypt."""
        return self._get("PASSWORD_HASH_METHOD", "scrypt")

    @property
    def external_url(self) -> str:
        """Base URL the app is reached at (``EXTERNAL_URL``), used in QR codes and digests."""
        return str(self._get("EXTERNAL_URL", "http://127.0.0.1:5000")).rstrip("/")

    @property
    def contract_lead_days(self) -> str:
        """Days before an agreement ends at which it is flagged, e.g. "90,30,7" (``ALERT_CONTRACT_LEAD_DAYS``)."""
        return self._get("ALERT_CONTRACT_LEAD_DAYS", "90,30,7")

    @property
    def not_counted_days(self) -> int:
        """A location not counted for this many days is flagged; 0 turns the rule off (``ALERT_NOT_COUNTED_DAYS``)."""
        return int(self._get("ALERT_NOT_COUNTED_DAYS", 31))

    @property
    def digest_roles(self) -> str:
        """Comma-separated roles that get the e-mail digest by default (``ALERT_DIGEST_ROLES``)."""
        return str(self._get("ALERT_DIGEST_ROLES", ""))

    @property
    def digest_max_lines(self) -> int:
        """Most alert lines one digest lists (``ALERT_DIGEST_MAX_LINES``)."""
        return int(self._get("ALERT_DIGEST_MAX_LINES", 40))

    @property
    def smtp_host(self) -> str:
        """SMTP relay host; empty = no e-mail channel (``ALERT_SMTP_HOST``)."""
        return str(self._get("ALERT_SMTP_HOST", "") or "")

    @property
    def webhook_url(self) -> str:
        """Group-robot webhook URL; empty = no webhook channel (``ALERT_WEBHOOK_URL``)."""
        return str(self._get("ALERT_WEBHOOK_URL", "") or "")

    @property
    def webhook_locale(self) -> str:
        """Language of the webhook digest (``ALERT_WEBHOOK_LOCALE``), an offered one or the default."""
        return self.locale_or_default(self._get("ALERT_WEBHOOK_LOCALE", None))

    @property
    def webhook_format(self) -> str:
        """Webhook payload format, "wecom" or "json" (``ALERT_WEBHOOK_FORMAT``)."""
        return self._get("ALERT_WEBHOOK_FORMAT", "wecom")

    @property
    def send_max_attempts(self) -> int:
        """Delivery attempts before a message is given up (``ALERT_SEND_MAX_ATTEMPTS``)."""
        return int(self._get("ALERT_SEND_MAX_ATTEMPTS", 12))

    @property
    def retry_minutes(self) -> int:
        """First retry delay in minutes, doubled per attempt (``ALERT_RETRY_MINUTES``)."""
        return int(self._get("ALERT_RETRY_MINUTES", 5))


#: Settings outside any app: the defaults above.
DEFAULTS = Settings({})

_active: ContextVar[tuple[Settings, ...]] = ContextVar("inventory_settings", default=())


def current() -> Settings:
    """The settings of the app whose context is active, or :data:`DEFAULTS` outside any app."""
    stack = _active.get()
    return stack[-1] if stack else DEFAULTS


def push(settings: Settings) -> None:
    """Make ``settings`` current (called when an app context is pushed)."""
    _active.set(_active.get() + (settings,))


def pop() -> None:
    """Undo the last :func:`push` (called when an app context is popped); no-op when none."""
    stack = _active.get()
    if stack:
        _active.set(stack[:-1])
