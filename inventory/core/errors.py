"""Domain errors: a rule refused an operation.  Messages are translatable.

Every error means *nothing was changed*: the caller must roll the session back
(the view, CLI command or job owns the transaction).  ``str(err)`` gives the
message in the active locale; ``err.field`` names the offending input when
there is one, so a form can show the message next to it.
"""
from __future__ import annotations


class DomainError(Exception):
    """Base class.  ``message`` is a (lazy) translatable string; ``field`` optional."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(DomainError):
    """The input breaks a rule: bad quantity, dates, missing reason, inactive record …"""


class NotFound(DomainError):
    """A referenced record (item, location, batch, movement) does not exist."""


class InsufficientStock(DomainError):
    """The operation would drive a batch below zero."""


class AlreadyDone(DomainError):
    """The operation was already booked: a repeated form post, or a second reversal.

    ``document_id`` names the document that was booked the first time, when
    known; ``repeated_form`` is True when the same form (its one-time token)
    was posted again, False for a second reversal of the same movement.
    """

    def __init__(self, message, *, document_id: int | None = None, field: str | None = None,
                 repeated_form: bool = False):
        super().__init__(message, field=field)
        self.document_id = document_id
        self.repeated_form = repeated_form
