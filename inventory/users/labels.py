"""Display names of the roles and the template filter that shows them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from inventory.core.policy import Role

ROLE_LABELS = {
    Role.ADMIN: _l("Emergency office (admin)"), Role.KEEPER: _l("Warehouse keeper"),
    Role.CIVIL_DEFENCE: _l("Armed forces department"), Role.RESIDENTIAL: _l("Residential area manager"),
    Role.VIEWER: _l("Viewer (read-only)"), Role.SYSTEM: _l("System"),
}


def role_label(role) -> object:
    """A role (enum or its value) → its display name; raises ValueError for an unknown role."""
    return ROLE_LABELS.get(Role(getattr(role, "value", role)))


#: Template filters of this domain, registered by the users blueprints.
TEMPLATE_FILTERS = {"role_label": role_label}
