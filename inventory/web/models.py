"""Submitted forms: one row per one-time form token that changed something.

Every form that changes stock or state carries a one-time ``request_token``
(rendered with the form).  The first post that commits records its token
here, in the same transaction as the change; a repeated post of the same form
(a double tap, back and resubmit, a retry after a timeout) finds the row and
changes nothing (:mod:`inventory.web.once`).  Movements keep their own token
on :class:`~inventory.stock.models.Document` (the ledger checks it); this table
covers everything else (stocktake lines and actions, alerts, admin forms …).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory.core.db import db


class FormSubmission(db.Model):
    """A form post that committed: ``key`` is the endpoint and a digest of its token (and subject).

    ``key`` — ``"<endpoint>:<sha256 hex>"``, unique: the database refuses a
    second row for the same form even when two posts race.  ``result_url`` —
    where the first post led (its redirect, or the form's page), shown again
    to a repeated post.  ``user_id`` — who posted (NULL when signed out).
    """

    __tablename__ = "form_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    endpoint: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    result_url: Mapped[str] = mapped_column(String(500), default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)

    def __repr__(self) -> str:
        return f"<FormSubmission {self.key}>"
