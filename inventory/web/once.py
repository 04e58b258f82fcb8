"""One-time form tokens in the web layer: ``@one_time()`` on every view whose POST changes state.

Every form that changes stock or state renders a hidden ``request_token``
(WTForms: :class:`inventory.web.forms.OneTimeForm`; plain HTML forms:
the template global ``one_time_token()``).  For a POST with a token the
decorator

1. answers a repeated post at once — "already submitted" and a redirect to
   where the first post led — without calling the view;
2. otherwise records the token (:func:`inventory.web.submissions.claim`)
   in the transaction the view is about to commit, so that the change and the
   token are stored together or not at all.  On PostgreSQL a concurrent twin
   waits on the unique key and is then answered as a repeat;
3. after the view: if the view committed, stores where it led (its redirect,
   or the form's own page) and commits; if it did not (refused input, 422), rolls
   back, so the same form can be corrected and posted again.

A view that rolls back and retries (a lost race) gets the token re-recorded
before its next commit.  Posts without a token (scripts, pages cached before
tokens existed) are processed as before.  Views whose service checks the token
itself (movements: ``Document.request_token``; standard list versions) do not
need the decorator.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import event
from sqlalchemy.orm import Session

from inventory.core import clock
from inventory.core.db import db
from inventory.core.transaction import unit_of_work
from inventory.web import submissions
from inventory.web.forms import TOKEN_FIELD, new_token


def one_time_token() -> Markup:
    """Template global: a hidden ``request_token`` input with a fresh token, for plain HTML forms."""
    return Markup(f'<input type="hidden" name="{TOKEN_FIELD}" value="{escape(new_token())}">')


def posted_token() -> str | None:
    """The form's one-time token: the field ``request_token`` or ``<prefix>-request_token``; None if absent."""
    for name in request.form:
        if name == TOKEN_FIELD or name.endswith("-" + TOKEN_FIELD):
            value = (request.form.get(name) or "").strip()
            if value:
                return value
    return None


def _replayed(result_url: str | None):
    flash(_("This form was already submitted; nothing was saved twice."), "warning")
    return redirect(result_url or request.path)


@dataclass
class _Claim:
    """The token of the current post and whether the view's transaction carrying it committed."""

    key: str
    committed: bool = False
    lost: bool = False

    def watch(self, session: Session) -> None:
        """Follow ``session``'s commits and rollbacks while the view runs."""
        event.listen(session, "after_commit", self._after_commit)
        event.listen(session, "after_rollback", self._after_rollback)
        event.listen(session, "before_commit", self._before_commit)

    def unwatch(self, session: Session) -> None:
        """Stop following ``session``."""
        event.remove(session, "after_commit", self._after_commit)
        event.remove(session, "after_rollback", self._after_rollback)
        event.remove(session, "before_commit", self._before_commit)

    def _after_commit(self, _session) -> None:
        self.committed, self.lost = True, False

    def _after_rollback(self, _session) -> None:
        if not self.committed:
            self.lost = True

    def _before_commit(self, _session) -> None:
        # The view rolled back (e.g. to retry after a lost race) and commits again: record the
        # token in this transaction too.  A twin that got in meanwhile makes commit() raise
        # RepeatedForm, a DomainError the view reports and rolls back.
        if self.lost and not self.committed:
            self.lost = False
            _claim(self.key)


def _claim(key: str) -> None:
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    submissions.claim(key, endpoint=request.endpoint or "", user=user, now=clock.now_utc())


def _result_url(response) -> str:
    if 300 <= response.status_code < 400 and response.location:
        return response.location
    return request.path  # the form's own page (e.g. an import: its report is not kept)


def one_time(*subject_fields: str) -> Callable:
    """Decorate a view whose POST changes state so that a repeated post changes nothing.

    ``subject_fields`` — names of posted fields that tell apart the buttons of
    one form acting on different things (``"batch_id"``): each value is its own
    submission.  Put it below ``@access`` (the caller's role is checked first).
    The wrapped view is marked ``one_time = True`` (tests/test_one_time.py).
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            token = posted_token() if request.method == "POST" else None
            if token is None:
                return view(*args, **kwargs)
            subject = "/".join(request.form.get(name, "") for name in subject_fields)
            key = submissions.submission_key(request.endpoint or "", token, subject)
            first = submissions.first_result(key)
            if first is not None:
                return _replayed(first)
            try:
                _claim(key)
            except submissions.RepeatedForm:
                db.session.rollback()
                return _replayed(submissions.first_result(key))
            claim = _Claim(key)
            session = db.session()
            claim.watch(session)
            try:
                response = current_app.make_response(view(*args, **kwargs))
            finally:
                claim.unwatch(session)
            if claim.committed:
                with unit_of_work():  # a second, small transaction: where the committed post led
                    submissions.set_result(key, _result_url(response))
            else:
                db.session.rollback()
            return response

        wrapper.one_time = True
        return wrapper

    return decorate
