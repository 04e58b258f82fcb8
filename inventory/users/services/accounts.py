"""User accounts: creation, passwords and the internal system account."""
from __future__ import annotations

import functools
import secrets

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from inventory.core import settings
from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.core.policy import Role
from inventory.users.models import User

SYSTEM_USERNAME = "system"
MIN_PASSWORD_LENGTH = 8
#: werkzeug's scrypt (N=2**15, r=8, p=1): memory-hard, about 0.09 s per hash on a 2-core
#: machine.  Production and development use it; only the test config picks a cheaper method.
DEFAULT_HASH_METHOD = "scrypt"


def check_hash_method(method: str) -> str:
    """Return ``method`` when werkzeug can hash with it ("scrypt", "scrypt:N:R:P",
    "pbkdf2:sha256:ITERATIONS"); ValueError otherwise (e.g. "md5", "pbkdf2:sha256:x"), so that
    ``create_app`` stops at start-up rather than at the first sign-in."""
    try:
        generate_password_hash("probe", method=method)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"PASSWORD_HASH_METHOD={method!r} is not a werkzeug hash method "
                         f"such as 'scrypt' or 'pbkdf2:sha256:600000' ({exc}).") from None
    return method


def hash_password(password: str, method: str | None = None) -> str:
    """Return a salted hash of ``password`` as werkzeug writes it (``method$salt$hash``).

    ``method`` defaults to the app's ``PASSWORD_HASH_METHOD`` (:mod:`inventory.core.settings`).
    Every password hash of the app, including the dummy one checked for unknown users, is made
    here.  Checking never reads the setting: a stored hash names its own method, so hashes made
    with any method keep verifying.
    """
    return generate_password_hash(password, method=method or settings.current().password_hash_method)


def get_system_user() -> User:
    """Return the internal ``system`` account (created if missing) that CLI imports and
    the demo seed book movements under.  It has no password and cannot sign in."""
    user = db.session.scalar(db.select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        user = User(username=SYSTEM_USERNAME, display_name="系统", role=Role.SYSTEM,
                    password_hash=None, active=False)
        db.session.add(user)
        db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """End every session and remember cookie of ``user`` by raising its session version
    (checked on each request by the user loader in :mod:`inventory.users.sessions`).  Flushes."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """Hash and store ``password``; a changed password ends every session of the user.

    Raises InvalidInput if shorter than 8 characters.
    """
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_l("A password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
                           field="password")
    had_password = user.password_hash is not None
    user.password_hash = hash_password(password)
    if had_password:
        end_sessions(user)


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password made with ``method``, like new real ones, checked when
    there is no real one (one per method, made once)."""
    return hash_password(secrets.token_urlsafe(16), method)


def verify_password(user: User | None, password: str) -> bool:
    """True when ``user`` may sign in with ``password`` (active and hash matches).

    Exactly one hash check runs in every case: for an unknown user (None), an
    inactive one or one without a password, a dummy hash of the configured method
    is checked, so the answer time does not reveal which user names exist (OWASP
    ASVS 2.2 / Authentication Cheat Sheet, "authentication responses").
    """
    usable = user is not None and bool(user.password_hash) and bool(user.active)
    stored = user.password_hash if usable else _dummy_hash(settings.current().password_hash_method)
    matches = check_password_hash(stored, password or "")
    return usable and matches


