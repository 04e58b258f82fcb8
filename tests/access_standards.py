"""Permission matrix rows of the standard-lists and gap-report routes (see tests/test_web_access.py).

Sample objects: the depot list (admin edits it; the civil-defence role may edit only the
civil-defence list, so it gets 403 here), the depot DEP (the keeper is assigned there) and
the kind "depot" (the civil-defence role and the residential manager see no depot: 404).
"""
from inventory.standards.models import StandardBasis
from inventory.standards.services import lists as standard_lists
from inventory.users.services.accounts import get_system_user

from .conftest import TODAY

STAFF = {"admin", "keeper", "civil_defence", "residential", "viewer"}
SEE_DEP = {"admin", "keeper", "viewer"}

EXPECTED = {
    "standards.lists": STAFF,
    "standards.list_detail": STAFF,
    "standards.list_export": STAFF,
    "standards.list_new": {"admin"},
    "standards.list_edit": {"admin"},
    "standards.list_import": {"admin", "civil_defence"},
    "standards.location_settings": {"admin"},
    "standards.gaps": STAFF,
    "standards.gaps_export": STAFF,
    "standards.gaps_kind": SEE_DEP,
    "standards.gaps_kind_export": SEE_DEP,
    "standards.gaps_location": SEE_DEP,
    "standards.gaps_location_export": SEE_DEP,
    "standards.gaps_items": STAFF,
    "standards.gaps_kind_items": SEE_DEP,
    "standards.gaps_location_open": SEE_DEP,
}


def sample_args(world) -> dict:
    """A depot list with one line; URL values for the routes above."""
    version = standard_lists.save_version(standard_lists.ListData(
        code="DEPOT-T", name_zh="储备库测试清单", effective_on=TODAY,
        authority="local", location_kind="depot",
        lines=[standard_lists.LineData(item_code=world["water"].code, quantity=200,
                                       basis=StandardBasis.ABSOLUTE)]), user=get_system_user())
    return {"list_id": version.list_id, "list_fmt": "yaml", "report_fmt": "pdf", "kind": "depot"}
