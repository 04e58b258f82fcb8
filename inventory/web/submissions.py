"""One-time form tokens: a form that changed something is not applied twice.

Every form that changes stock or state carries a ``request_token`` rendered
with the page (:func:`inventory.web.forms.new_token`).  The first post that
commits stores a :class:`~inventory.web.models.FormSubmission` in the same
transaction as its change; a repeated post of the same form (double tap, back
and resubmit, a retry after a timeout) finds it and changes nothing.  The
web layer's :func:`inventory.web.once.one_time` decides when to call these
functions; they flush and never commit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from inventory.core.db import db
from inventory.core.errors import AlreadyDone
from inventory.web.models import FormSubmission

#: Longest ``result_url`` kept (longer addresses are not stored; the form's page is used instead).
MAX_RESULT_URL = 500

if TYPE_CHECKING:  # the user model lives in a domain above the web layer
    from inventory.users.models import User


class RepeatedForm(AlreadyDone):
    """This form (its one-time token) was submitted before; ``key`` names its record.

    Raised by :func:`claim` when the key is already stored or a concurrent post
    stored it first (the session must then be rolled back).
    """

    def __init__(self, message, *, key: str):
        super().__init__(message, repeated_form=True)
        self.key = key


def submission_key(endpoint: str, token: str, subject: str | None = None) -> str:
    """The stored key of a form post: ``"<endpoint>:<sha256 of token and subject>"`` (at most 145 characters).

    ``subject`` tells apart the buttons of one form that act on different
    things with one token (e.g. "take out" on each counted batch).  The token
    itself is never stored, only its digest, so any text is accepted.
    """
    digest = hashlib.sha256(f"{token}\x00{subject or ''}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{endpoint[:80]}:{digest}"


def first_result(key: str) -> str | None:
    """Where the first post with ``key`` led (``""`` if unknown), or None when there was none."""
    return db.session.scalar(select(FormSubmission.result_url).where(FormSubmission.key == key))


def claim(key: str, *, endpoint: str, user: User | None, now: dt.datetime) -> FormSubmission:
    """Record the post with ``key`` in the current transaction (flushed, not committed).

    ``now`` — naive UTC.  On PostgreSQL a concurrent post with the same key
    waits here until the first one commits or rolls back.  Raises
    :class:`RepeatedForm` when the key is stored already (roll back then).
    """
    if first_result(key) is not None:
        raise RepeatedForm(_l("This form was already submitted; nothing was saved twice."), key=key)
    row = FormSubmission(key=key, endpoint=endpoint[:80], user_id=getattr(user, "id", None), result_url="",
                         submitted_at=now)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        # No savepoint (see stocktake.start): the caller rolls the whole transaction back.
        raise RepeatedForm(_l("This form was already submitted; nothing was saved twice."), key=key) from None
    return row


def set_result(key: str, result_url: str) -> None:
    """Remember where the post with ``key`` led (no-op when it was rolled back).  Flushes."""
    url = result_url if len(result_url) <= MAX_RESULT_URL else ""
    db.session.execute(update(FormSubmission).where(FormSubmission.key == key).values(result_url=url))
    db.session.flush()
