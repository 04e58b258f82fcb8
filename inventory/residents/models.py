"""The family emergency supplies checklist (家庭应急物资储备清单) for residents, and its visit counters.

The checklist is data, edited by the emergency office like a standard list:

* :class:`KitSource` — where a line comes from: an official list or standard (with the
  confidence label of ``docs/sources.md``: V, S, R) or the subdistrict's own
  suggestion (``official`` false, shown as 街道建议).
* :class:`KitItem` — one line: names and purpose in Chinese and English, the version it
  belongs to (basic / extended), an optional special group (older people, infants,
  chronic illness, pets), the quantity rule (amount per person / household / group member,
  optionally per day) with the source of that rule, and an optional check interval for
  perishables with its source.
* :class:`KitCounter` — anonymous counts of checklist visits and downloads per
  residential area (the ``?ref=`` code printed in the poster's QR), day and kind.
  Nothing else about a visitor is stored: no IP address, no user agent, no household data.
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.db import db
from inventory.core.types import Quantity, _enum


class Bilingual:
    """Mixin for records holding each printed text twice, as ``<field>_zh`` and ``<field>_en``."""

    def text(self, field: str, locale: str = "zh") -> str:
        """``field`` in ``locale`` ("zh…" or "en…"), falling back to Chinese when the English is empty.

        Raises AttributeError when the record has no ``field``."""
        if locale.startswith("en"):
            value = getattr(self, f"{field}_en")
            if value:
                return value
        return getattr(self, f"{field}_zh")


class KitVersion(str, enum.Enum):
    """Checklist version: the national basic list (基础版) or the extended list (扩展版)."""

    BASIC = "basic"
    EXTENDED = "extended"


class KitGroup(str, enum.Enum):
    """Household members with special needs; a line for a group appears only when the
    household has at least one such member."""

    OLDER = "older"
    INFANT = "infant"
    CHRONIC = "chronic"
    PET = "pet"


class KitPer(str, enum.Enum):
    """What a quantity rule counts: each person, the household as a whole, or each member
    of a special group."""

    PERSON = "person"
    HOUSEHOLD = "household"
    OLDER = "older"
    INFANT = "infant"
    CHRONIC = "chronic"
    PET = "pet"


class KitConfidence(str, enum.Enum):
    """Confidence label of a source (docs/sources.md): V full list read in a copy
    of the official text; S news report or repost; R assembled from fragments; N not
    applicable (the subdistrict's own suggestion)."""

    V = "V"
    S = "S"
    R = "R"
    N = "N"


class CounterKind(str, enum.Enum):
    """What a counter counts: a checklist page view, a PDF download, a print-page view."""

    VISIT = "visit"
    PDF = "pdf"
    PRINT = "print"


class KitSource(Bilingual, db.Model):
    """A source of checklist lines or quantity rules (a list, a standard, a report or the
    subdistrict's own suggestion).  ``key`` is the stable reference used by the data file;
    ``text()`` gives "short", "title", "publisher" and "note" in a locale."""

    __tablename__ = "kit_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    official: Mapped[bool] = mapped_column(Boolean, default=True)
    confidence: Mapped[KitConfidence] = mapped_column(_enum(KitConfidence, "kit_confidence"))
    short_zh: Mapped[str] = mapped_column(String(40))
    short_en: Mapped[str] = mapped_column(String(60))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(240))
    publisher_zh: Mapped[str] = mapped_column(String(120), default="")
    publisher_en: Mapped[str] = mapped_column(String(160), default="")
    issued: Mapped[str] = mapped_column(String(20), default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    note_zh: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<KitSource {self.key}>"


class KitItem(Bilingual, db.Model):
    """One line of the family checklist; ``text()`` gives "name", "purpose", "category",
    "qty_unit" and "qty_note" in a locale.

    Quantity rule: ``qty_amount`` (a Decimal in ``qty_unit_*``) for each unit counted by
    ``qty_per`` (each person, the household, or each member of a group), multiplied by the
    number of days to cover when ``qty_per_day``; ``qty_source`` says where the rule comes
    from and ``qty_note_*`` shows its wording or reading.  ``qty_unit_en`` may give the
    English singular and plural as ``"pc|pcs"``.  ``check_months`` (perishables
    only) is how often to check the item, from ``check_source``.
    """

    __tablename__ = "kit_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    version: Mapped[KitVersion] = mapped_column(_enum(KitVersion, "kit_version"))
    special_group: Mapped[KitGroup | None] = mapped_column(_enum(KitGroup, "kit_group"))
    category_zh: Mapped[str] = mapped_column(String(60))
    category_en: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(120))
    purpose_zh: Mapped[str] = mapped_column(Text)
    purpose_en: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("kit_source.id"), index=True)
    qty_per: Mapped[KitPer] = mapped_column(_enum(KitPer, "kit_per"))
    qty_per_day: Mapped[bool] = mapped_column(Boolean, default=False)
    qty_amount: Mapped[Decimal] = mapped_column("qty_amount_milli", Quantity)
    qty_unit_zh: Mapped[str] = mapped_column(String(16))
    qty_unit_en: Mapped[str] = mapped_column(String(40))
    qty_source_id: Mapped[int] = mapped_column(ForeignKey("kit_source.id"))
    qty_note_zh: Mapped[str] = mapped_column(Text, default="")
    qty_note_en: Mapped[str] = mapped_column(Text, default="")
    check_months: Mapped[int | None] = mapped_column(Integer)
    check_source_id: Mapped[int | None] = mapped_column(ForeignKey("kit_source.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    source: Mapped[KitSource] = relationship(foreign_keys=[source_id])
    qty_source: Mapped[KitSource] = relationship(foreign_keys=[qty_source_id])
    check_source: Mapped[KitSource | None] = relationship(foreign_keys=[check_source_id])

    __table_args__ = (
        CheckConstraint("qty_amount_milli > 0", name="qty_amount_pos"),
        CheckConstraint("check_months IS NULL OR (check_months BETWEEN 1 AND 60)", name="check_months"),
        CheckConstraint("check_months IS NULL OR check_source_id IS NOT NULL", name="check_source"),
    )

    def __repr__(self) -> str:
        return f"<KitItem {self.code}>"


class KitCounter(db.Model):
    """Anonymous count of one kind of event for one residential area on one day.

    ``area_code`` is the code of the residential storage point whose poster was scanned
    (``?ref=``), or ``""`` when the visit carried no known reference.  Incremented
    atomically by :func:`inventory.residents.services.counters.record_event` (one upsert statement).
    """

    __tablename__ = "kit_counter"

    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[CounterKind] = mapped_column(_enum(CounterKind, "kit_counter_kind"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("n >= 0", name="n_nonneg"),)
