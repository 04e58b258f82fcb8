"""Permission rows of the scan area (labels, scanning, stocktakes) for tests/test_web_access.py.

Sample objects are at the depot DEP, where the keeper is assigned: the office
and the keeper may count and print there; the viewer may read; the armed forces
department and the residential manager may not even see DEP (404).
"""
from __future__ import annotations

ROLES = {"admin", "keeper", "civil_defence", "residential", "viewer"}
PUBLIC = {"anonymous"} | ROLES
SEE_DEP = {"admin", "keeper", "viewer"}
COUNT_DEP = {"admin", "keeper"}
COUNTERS = {"admin", "keeper", "civil_defence", "residential"}

EXPECTED = {
    "scan.asset": PUBLIC,
    "scan.scanner": ROLES,
    "scan.landing": SEE_DEP,
    "scan.spot_count": COUNT_DEP,
    "printing.document_labels": COUNT_DEP,
    "printing.batch_label": COUNT_DEP,
    "printing.location_labels": COUNT_DEP,
    "printing.calibration": COUNTERS,
    "stocktake.index": ROLES,
    "stocktake.start": COUNT_DEP,
    "stocktake.detail": SEE_DEP,
    "stocktake.scan": COUNT_DEP,
    "stocktake.record": COUNT_DEP,
    "stocktake.remove": COUNT_DEP,
    "stocktake.not_found": COUNT_DEP,
    "stocktake.confirm": COUNT_DEP,
    "stocktake.cancel": COUNT_DEP,
    "stocktake.sheet": SEE_DEP,
}


def sample_args(world) -> dict:
    """A batch label code at DEP, an open count of DEP with one line, the decoder asset, PDF sheets."""
    from inventory.stocktake.services import counts as stocktake

    keeper = world["users"]["keeper"]
    count = stocktake.start(location_id=world["dep"].id, user=keeper)
    stocktake.record_count(stocktake_id=count.id, batch_id=world["batch"].id, counted="100", user=keeper)
    return {
        "label_code": world["batch"].label_code,
        "asset": "zxing-browser.min.js",
        "stocktake_id": count.id,
        "sheet_format": "pdf",
    }
