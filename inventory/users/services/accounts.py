"""User accounts: creation, passwords and the internal system account."""
from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from inventory.core.db import db
from inventory.stock.models import Location, LocationKind
from inventory.core.policy import Role
from inventory.users.models import User
from inventory.core.errors import InvalidInput

SYSTEM_USERNAME = "system"
MIN_PASSWORD_LENGTH = 8
#: werkzeug's scrypt (N=2**15, r=8, p=1): memory-hard, about 0.09 s per hash on a 2-core
#: machine.  Production and development use it; only the test config picks a cheaper method.
DEFAULT_HASH_METHOD = "scrypt"


@dataclass
class PasswordHashing:
    """How new password hashes are made: ``method`` is a werkzeug
    :func:`~werkzeug.security.generate_password_hash` method string ("scrypt",
    "scrypt:N:R:P", "pbkdf2:sha256:ITERATIONS").  Checking never reads it: a stored hash
    names its own method, so hashes made with any method keep verifying."""

    method: str = DEFAULT_HASH_METHOD


#: The one settings object of password hashing, set once by :func:`configure_password_hashing`
#: (``create_app`` passes ``PASSWORD_HASH_METHOD``); until then the default above.  It is one per
#: process: a deployment builds one app, and in the tests the app built last decides.
HASHING = PasswordHashing()


def configure_password_hashing(method: str) -> None:
    """Make new password hashes with ``method`` from now on (called by ``create_app`` at start-up).

    Raises ValueError when werkzeug does not know ``method`` (e.g. "md5", "pbkdf2:sha256:x"),
    so a typo stops the app at start-up rather than at the first sign-in.
    """
    try:
        generate_password_hash("probe", method=method)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"PASSWORD_HASH_METHOD={method!r} is not a werkzeug hash method "
                         f"such as 'scrypt' or 'pbkdf2:sha256:600000' ({exc}).") from None
    HASHING.method = method


def hash_password(password: str, method: str | None = None) -> str:
    """Return a salted hash of ``password`` as werkzeug writes it (``method$salt$hash``).

    ``method`` defaults to the configured one (:data:`HASHING`).  Every password hash of the app,
    including the dummy one checked for unknown users, is made here.
    """
    return generate_password_hash(password, method=method or HASHING.method)


#: Location kinds each location-scoped role may be assigned to.
ROLE_LOCATION_KINDS = {
    Role.CIVIL_DEFENCE: {LocationKind.CIVIL_DEFENCE},
    Role.RESIDENTIAL: {LocationKind.RESIDENTIAL},
}


def _check_role_locations(role: Role, locations: list[Location]) -> None:
    """Refuse assignments the role would ignore (e.g. 武装部 at a depot)."""
    kinds = ROLE_LOCATION_KINDS.get(role)
    if kinds is None:
        return
    wrong = [l.code for l in locations if l.kind not in kinds]
    if wrong:
        raise InvalidInput(
            _l("This role cannot be assigned to %(codes)s: %(role)s users work only at locations of kind %(kinds)s.",
               codes=", ".join(wrong), role=role.value, kinds=", ".join(sorted(k.value for k in kinds))),
            field="locations",
        )


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
    (checked on each request by the user loader in :mod:`inventory.users.permissions`).  Flushes."""
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
    matches = check_password_hash(user.password_hash if usable else _dummy_hash(HASHING.method), password or "")
    return usable and matches


def create_user(*, username: str, password: str, role: Role | str, display_name: str = "",
                location_codes: list[str] | tuple[str, ...] = (), email: str = "") -> User:
    """Create a user with ``role`` assigned to the locations with ``location_codes``.

    Raises InvalidInput for a taken or malformed username, a short password, an
    unknown role or location code, a location-scoped role without locations, or
    locations of a kind the role cannot work at (civil_defence → civil-defence
    warehouses, residential → residential storage points).
    """
    username = (username or "").strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput(_l("A username is 1–64 characters without spaces."), field="username")
    if db.session.scalar(db.select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(_l("The username %(name)s is taken.", name=username), field="username")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(_l("Unknown role."), field="role") from None
    if role == Role.SYSTEM:
        raise InvalidInput(_l("Unknown role."), field="role")
    locations = []
    for code in location_codes:
        loc = db.session.scalar(db.select(Location).where(Location.code == code))
        if loc is None:
            raise InvalidInput(_l("Unknown location code %(code)s.", code=code), field="locations")
        locations.append(loc)
    if role in (Role.KEEPER, Role.RESIDENTIAL, Role.CIVIL_DEFENCE) and not locations:
        raise InvalidInput(_l("This role needs at least one assigned location."), field="locations")
    _check_role_locations(role, locations)
    user = User(username=username, display_name=display_name.strip(), role=role, email=email.strip())
    set_password(user, password)
    user.locations = locations
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, display_name: str, email: str, role: Role | str, location_ids: list[int],
                active: bool, acting: User) -> User:
    """Change a user's profile, role, locations and active flag.

    A change of role, locations or the active flag ends every session of the
    user (:func:`end_sessions`): what they may see changed.  Raises InvalidInput for an unknown role or location, a location-scoped role
    without locations, or an administrator removing their own admin rights or
    deactivating themselves (which could lock the office out).
    """
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(_l("Unknown role."), field="role") from None
    if role == Role.SYSTEM:
        raise InvalidInput(_l("Unknown role."), field="role")
    if acting is not None and acting.id == user.id and (role != Role.ADMIN or not active):
        raise InvalidInput(_l("You cannot remove your own administrator rights or deactivate yourself."),
                           field="role")
    locations = list(db.session.scalars(db.select(Location).where(Location.id.in_(location_ids or [-1]))))
    if len(locations) != len(set(location_ids or [])):
        raise InvalidInput(_l("Unknown location."), field="locations")
    if role in (Role.KEEPER, Role.RESIDENTIAL, Role.CIVIL_DEFENCE) and not locations:
        raise InvalidInput(_l("This role needs at least one assigned location."), field="locations")
    _check_role_locations(role, locations)
    rights_changed = (role != user.role or {l.id for l in locations} != {l.id for l in user.locations}
                      or bool(active) != bool(user.active))
    user.display_name = display_name.strip()
    user.email = email.strip()
    user.role = role
    user.locations = locations
    user.active = active
    db.session.flush()
    if rights_changed:
        end_sessions(user)
    return user
