"""Display names of the stock domain's codes (movement kinds, batch sources, expiry status,
import actions, location kinds) and the template filters that show them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from inventory.stock.models import MovementKind

#: Display names of movement kinds (translated).
KIND_LABELS = {
    MovementKind.RECEIVE: _l("Receipt"), MovementKind.ISSUE: _l("Issue"),
    MovementKind.TRANSFER_OUT: _l("Transfer out"), MovementKind.TRANSFER_IN: _l("Transfer in"),
    MovementKind.ADJUST: _l("Adjustment"), MovementKind.DISPOSE: _l("Disposal"),
    MovementKind.REVERSE: _l("Reversal"),
}
SOURCE_LABELS = {"purchase": _l("Purchase"), "donation": _l("Donation"),
                 "allocation": _l("Allocation from above"), "opening": _l("Opening balance")}
STATUS_LABELS = {"expired": _l("Expired"), "expiring": _l("Near expiry"), "ok": _l("OK")}
#: What an import row did or would do (RowResult.action of the importers).
IMPORT_ACTIONS = {"create": _l("Create"), "update": _l("Update"), "receive": _l("Receive"),
                  "adjust": _l("Adjust"), "unchanged": _l("Unchanged"), "line": _l("Line"),
                  "new version": _l("New version"), "create list": _l("New list"), "skip": _l("Skipped")}
KIND_OF_LOCATION = {"depot": _l("Depot"), "civil_defence": _l("Civil-defence warehouse"),
                    "residential": _l("Residential storage point"), "agreement": _l("Agreement reserve")}


def source_label(source) -> object:
    """A batch source (enum or its value) → its display name; unknown values unchanged."""
    return SOURCE_LABELS.get(getattr(source, "value", source), source)


def location_kind_label(kind) -> str:
    """A location kind (enum or its value) → its display name; unknown values unchanged."""
    value = getattr(kind, "value", kind)
    return str(KIND_OF_LOCATION.get(value, value))


def import_action_label(action: str) -> object:
    """What an import row did ("create", "update" …) → its display name."""
    return IMPORT_ACTIONS.get(action, action)


#: Template filters of this domain, registered by the stock blueprint.
TEMPLATE_FILTERS = {
    "kind_label": KIND_LABELS.get, "status_label": STATUS_LABELS.get, "location_kind": location_kind_label,
    "source_label": source_label, "import_action": import_action_label,
}
