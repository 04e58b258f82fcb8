"""Permission matrix rows of the residents' area (family emergency supplies checklist).

Public checklist pages are open to everybody, signed in or not.  Visit and download counts:
the office (admin), viewers and residential managers (their own point).  QR posters: the
office and the residential manager of the sample point RES (their own).  Checklist content:
admin only.
"""
from __future__ import annotations

EVERYBODY = {"anonymous", "admin", "keeper", "civil_defence", "residential", "viewer"}

EXPECTED = {
    "public.kit": EVERYBODY,
    "public.kit_pdf": EVERYBODY,
    "public.kit_print": EVERYBODY,
    "kit_admin.areas": {"admin", "viewer", "residential"},
    "kit_admin.poster": {"admin", "residential"},
    "kit_admin.content": {"admin"},
    "kit_admin.item_new": {"admin"},
    "kit_admin.item_edit": {"admin"},
    "kit_admin.source_new": {"admin"},
    "kit_admin.source_edit": {"admin"},
    "kit_admin.export": {"admin"},
    "kit_admin.import_yaml": {"admin"},
}


def sample_args(world) -> dict:
    """The shipped checklist loaded; its first line and source; the residential point RES."""
    from sqlalchemy import select

    from inventory.core.db import db
    from inventory.residents.models import KitItem, KitSource
    from inventory.residents.services.checklist_file import ensure_default_checklist

    ensure_default_checklist()
    item = db.session.scalar(select(KitItem).order_by(KitItem.id).limit(1))
    source = db.session.scalar(select(KitSource).order_by(KitSource.id).limit(1))
    return {"point_code": world["res"].code, "kit_item_id": item.id, "kit_source_id": source.id}
