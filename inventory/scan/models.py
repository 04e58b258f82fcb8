"""Per-user label printer calibration: one offset per user and label layout."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from inventory.core.db import db
from inventory.core.types import utcnow


class LabelSetting(db.Model):
    """A user's printer calibration for one label layout, in tenths of a millimetre.

    ``offset_x_tenths`` / ``offset_y_tenths``: positive moves the print right /
    down (the sign convention of :meth:`labels.Layout.with_offset`); stored as
    integers so that no float reaches the database.  The layout the user chose
    last is ``User.label_layout``.
    """

    __tablename__ = "label_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    layout: Mapped[str] = mapped_column(String(32))
    offset_x_tenths: Mapped[int] = mapped_column(Integer, default=0)
    offset_y_tenths: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "layout", name="uq_label_setting_user_layout"),
        CheckConstraint("offset_x_tenths BETWEEN -100 AND 100", name="offset_x"),
        CheckConstraint("offset_y_tenths BETWEEN -100 AND 100", name="offset_y"),
    )
