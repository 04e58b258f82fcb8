"""Office administration of accounts: creating users and assigning them to locations."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.core.policy import Role
from inventory.stock.models import Location, LocationKind
from inventory.users.models import User
from inventory.users.services.accounts import end_sessions, set_password

#: Location kinds each location-scoped role may be assigned to.
ROLE_LOCATION_KINDS = {
    Role.CIVIL_DEFENCE: {LocationKind.CIVIL_DEFENCE},
    Role.RESIDENTIAL: {LocationKind.RESIDENTIAL},
}


def _assignable_role(role: Role | str) -> Role:
    """``role`` as a Role a person may have; InvalidInput for an unknown one or the internal ``system``."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(_l("Unknown role."), field="role") from None
    if role == Role.SYSTEM:
        raise InvalidInput(_l("Unknown role."), field="role")
    return role


def _check_role_locations(role: Role, locations: list[Location]) -> None:
    """Refuse a location-scoped role without locations, and assignments the role would ignore
    (e.g. 武装部 at a depot)."""
    if role in (Role.KEEPER, Role.RESIDENTIAL, Role.CIVIL_DEFENCE) and not locations:
        raise InvalidInput(_l("This role needs at least one assigned location."), field="locations")
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
    role = _assignable_role(role)
    locations = []
    for code in location_codes:
        loc = db.session.scalar(db.select(Location).where(Location.code == code))
        if loc is None:
            raise InvalidInput(_l("Unknown location code %(code)s.", code=code), field="locations")
        locations.append(loc)
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
    role = _assignable_role(role)
    if acting is not None and acting.id == user.id and (role != Role.ADMIN or not active):
        raise InvalidInput(_l("You cannot remove your own administrator rights or deactivate yourself."),
                           field="role")
    locations = list(db.session.scalars(db.select(Location).where(Location.id.in_(location_ids or [-1]))))
    if len(locations) != len(set(location_ids or [])):
        raise InvalidInput(_l("Unknown location."), field="locations")
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



def users_with_locations() -> list[User]:
    """Every user but the system account, with assigned locations loaded."""
    return list(db.session.scalars(
        select(User).where(User.username != "system").options(selectinload(User.locations))
        .order_by(User.role, User.username)))
