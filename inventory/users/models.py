"""Users, their role and the locations they are assigned to."""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.db import db
from inventory.core.policy import Role
from inventory.core.types import _enum, utcnow

user_location = Table(
    "user_location",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("location.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A person who signs in.  ``password_hash`` is a werkzeug scrypt/pbkdf2 hash;
    a user without one (the system account) cannot sign in.  ``locations`` are
    the locations a keeper, residential manager or civil-defence user works at.

    ``session_version`` is part of every session's identity (see :meth:`get_id`):
    raising it ends every session and remember cookie of the user at once
    (logout, password, role or location change, deactivation — OWASP ASVS 3.3.1,
    3.3.3)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    email: Mapped[str] = mapped_column(String(160), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    locale: Mapped[str] = mapped_column(String(16), default="")
    label_layout: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    locations: Mapped[list["Location"]] = relationship(  # noqa: F821
        secondary=user_location, order_by="Location.code"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return bool(self.active) and self.password_hash is not None

    def get_id(self) -> str:
        """Flask-Login identity kept in the session and the remember cookie:
        ``"<id>:<session_version>:<signed in at, Unix seconds>"``.

        A user loaded from a session keeps that session's identity (set by the
        user loader as ``_session_token``); otherwise a new one stamped now is made
        (what :func:`flask_login.login_user` stores at sign-in)."""
        token = getattr(self, "_session_token", None)
        if token is None:
            signed_in = int(utcnow().replace(tzinfo=dt.timezone.utc).timestamp())
            token = f"{self.id}:{self.session_version or 1}:{signed_in}"
        return token

    @property
    def name(self) -> str:
        """Display name, falling back to the username."""
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class SignInAttempt(db.Model):
    """A sign-in attempt that counts against the throttle, shared by every web worker.

    ``username`` is the name typed (stripped, lower-case, whether or not such a
    user exists), ``address`` the client address (``request.remote_addr``, after
    ProxyFix when configured).  ``outcome``: ``pending`` while the password is
    being checked (it already counts, so parallel guesses cannot slip past the
    limit), ``failed`` (wrong password: counts) or ``refused`` (locked, the
    password not checked: does not count, so waiting out the lock works).  A
    successful attempt's row is deleted.  Rows older than the longest limit
    window are pruned.
    """

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        CheckConstraint("outcome IN ('pending', 'failed', 'refused')", name="outcome"),
        Index("ix_sign_in_attempt_username_at", "username", "occurred_at"),
        Index("ix_sign_in_attempt_address_at", "address", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
