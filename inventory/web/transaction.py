"""The transaction helpers of views and CLI commands, built on :mod:`inventory.core.transaction`.

A view parses its form, checks access, calls one service inside
:func:`view_transaction` and renders::

    form = SettingsForm()
    if form.validate_on_submit():
        with view_transaction(form) as tx:
            digests.set_preferences(current_user, ...)
        if tx.committed:
            flash(_("Settings saved."), "success")
            return redirect(url_for("alerts.settings"))
    return render_template("alerts/settings.html", form=form), form_status()

The block commits once.  A :class:`~inventory.core.errors.DomainError` rolls it
back and is *handled*: its message goes next to the form field it names (else
to the form's own errors), or is flashed when the view has no form; the view
goes on to show the page again, :func:`form_status` giving 422 for the refused
POST.  Any other exception rolls back and propagates (the error pages roll back
too).

With :func:`inventory.web.once.one_time` a refused post leaves its one-time
token unused (the decorator sees no commit and rolls the token back), so the
corrected form can be posted again.

CLI commands use :func:`command_transaction`: commit once, or roll back, print
the message on stderr and exit non-zero.  Work that no rule can refuse (sign-in
bookkeeping, the anonymous checklist counter) and scheduler jobs use
:func:`inventory.core.transaction.unit_of_work` directly.
"""
from __future__ import annotations

import sys
from typing import Callable, Mapping

import click
from flask import flash, request

from inventory.core.errors import DomainError
from inventory.core.transaction import UnitOfWork

#: Status of a form page shown again after a refused POST.
REFUSED = 422


def form_status(refused: bool = True) -> int:
    """HTTP status of a form page being rendered: 422 for a POST (its input was refused, or the
    view would have redirected), 200 for a GET.  ``refused=False`` gives 200 for a POST too
    (a page re-rendered on purpose: another blank line, a dry-run report without problems)."""
    return REFUSED if request.method == "POST" and refused else 200


def attach_error(form, err: DomainError, *, field: str | None = None,
                 field_map: Mapping[str, str | None] | None = None) -> None:
    """Show ``err`` on ``form``: beside the field it names, else among the form's own errors.

    The field is ``field`` when given, else ``err.field`` translated by
    ``field_map`` (service name → form field name; a name mapped to None goes to
    the form's errors).  An error carrying ``line`` (1-based, from a service that
    checks a form's ``lines``) goes to that line's sub-form, with its
    ``line_message`` when it has one (the line needs no "Line n:" prefix).
    """
    target = form
    line = getattr(err, "line", None)
    if field is None and line is not None and hasattr(form, "lines") and line <= len(form.lines.entries):
        target = form.lines.entries[line - 1].form
    if field is not None:
        name = field
    elif err.field:
        name = (field_map or {}).get(err.field, err.field)
    else:
        name = None
    found = getattr(target, name, None) if name else None
    if found is not None and hasattr(found, "errors"):
        message = getattr(err, "line_message", None) if target is not form else None
        found.errors = list(found.errors) + [str(message or err)]
    else:
        form.form_errors.append(str(err))


class ViewTransaction(UnitOfWork):
    """The unit of work of one view: commits once; a domain error is rolled back and reported.

    How a :class:`DomainError` is reported, first that applies:

    * ``report(err)`` when given (a view with its own way of showing it);
    * with a ``form``: :func:`attach_error` (``field``, ``field_map`` as there);
    * without: flashed with ``category``.

    Errors of the ``reraise`` types are rolled back and propagate instead (a
    view that redirects on them, e.g. :class:`~inventory.core.errors.AlreadyDone`).
    After the block: ``committed`` (True on success), ``error`` (the handled
    domain error, or None).  ``discard()`` and ``restart()`` as in
    :class:`~inventory.core.transaction.UnitOfWork`; a domain error raised by the
    commit itself (a twin post's one-time token) is handled the same way.
    """

    def __init__(self, form=None, *, field: str | None = None, field_map: Mapping[str, str | None] | None = None,
                 report: Callable[[DomainError], object] | None = None, category: str = "danger",
                 reraise: type[BaseException] | tuple[type[BaseException], ...] = ()):
        super().__init__()
        self.form = form
        self.field = field
        self.field_map = field_map
        self.report = report
        self.category = category
        self.reraise = reraise
        self.error: DomainError | None = None

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            super().__exit__(exc_type, exc, tb)  # commits, or rolls back
        except DomainError as err:  # raised by the commit
            if isinstance(err, self.reraise):
                raise
            self._refused(err)
            return False
        if isinstance(exc, DomainError) and not isinstance(exc, self.reraise):
            self._refused(exc)
            return True
        return False

    def _refused(self, err: DomainError) -> None:
        self.error = err
        if self.report is not None:
            self.report(err)
        elif self.form is not None:
            attach_error(self.form, err, field=self.field, field_map=self.field_map)
        else:
            flash(str(err), self.category)


def view_transaction(form=None, **options) -> ViewTransaction:
    """``with view_transaction(form) as tx:`` — see :class:`ViewTransaction` for ``options``
    (``field``, ``field_map``, ``report``, ``category``, ``reraise``)."""
    return ViewTransaction(form, **options)


class CommandTransaction(UnitOfWork):
    """The unit of work of one CLI command: commits once (or rolls back for ``dry_run`` /
    ``discard()``); a :class:`DomainError` rolls back, prints ``prefix`` + its message on
    stderr and exits with ``exit_code`` (:class:`SystemExit`).  Other exceptions roll back
    and propagate."""

    def __init__(self, *, prefix: str = "", exit_code: int = 1, dry_run: bool = False):
        super().__init__(dry_run=dry_run)
        self.prefix = prefix
        self.exit_code = exit_code

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            super().__exit__(exc_type, exc, tb)
        except DomainError as err:  # raised by the commit
            self._refused(err)
        if isinstance(exc, DomainError):
            self._refused(exc)
        return False

    def _refused(self, err: DomainError) -> None:
        click.echo(f"{self.prefix}{err}", err=True)
        sys.exit(self.exit_code)


def command_transaction(*, prefix: str = "", exit_code: int = 1, dry_run: bool = False) -> CommandTransaction:
    """``with command_transaction(prefix="Cannot create x: ") as tx:`` — see :class:`CommandTransaction`."""
    return CommandTransaction(prefix=prefix, exit_code=exit_code, dry_run=dry_run)


def run_file_import(path, *, dry_run: bool, run: Callable[[], object], refused: str):
    """Run one file import for a CLI command and return its report (``report.ok``, ``errors``).

    ``run()`` imports ``path`` (a :class:`pathlib.Path`) and returns the report; it commits once
    when the report is clean and it is not a ``dry_run``, else nothing is kept.  A file that
    cannot be read (a DomainError) prints "Cannot import NAME: …" and exits 2; a report with
    problems prints ``refused`` (formatted with ``n``, the number of problems) and one line per
    problem (``row N [column]: message``) on stderr and exits 1.
    """
    with command_transaction(prefix=f"Cannot import {path.name}: ", exit_code=2, dry_run=dry_run) as tx:
        report = run()
        if not report.ok:
            tx.discard()
    if not report.ok:
        click.echo(refused.format(n=len(report.errors)), err=True)
        for e in report.errors:
            click.echo(f"  row {e.row} [{e.column}]: {e.message}", err=True)
        sys.exit(1)
    return report
