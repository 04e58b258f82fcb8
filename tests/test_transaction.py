"""The one transaction helper: views, CLI commands and jobs commit once, or roll back.

* :func:`inventory.core.transaction.unit_of_work` commits exactly once on success, rolls back on
  any exception (re-raised) and for a dry run, refuses to be nested;
* :func:`inventory.web.transaction.view_transaction` rolls a domain error back and shows it
  beside the field it names (else above the form, or flashed without a form); the page answers
  422 for the refused POST; with ``@one_time`` a refused post leaves its token unused;
* :func:`inventory.web.transaction.command_transaction` prints the message on stderr, exits 1
  and writes nothing;
* nothing under ``inventory/`` but the core helper calls ``session.commit()``.
"""
from __future__ import annotations

import ast
import contextlib
from pathlib import Path

import click
import pytest
from flask import get_flashed_messages
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from wtforms import Form, StringField

from inventory.core.db import db
from inventory.core.errors import AlreadyDone, InvalidInput
from inventory.core.transaction import NestedUnitOfWork, unit_of_work
from inventory.stock.models import Location
from inventory.stock.services.catalogue import LocationData, upsert_location
from inventory.users.models import User
from inventory.web.models import FormSubmission
from inventory.web.transaction import command_transaction, form_status, view_transaction

from .conftest import PASSWORD, IsolatedClient

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def commits():
    """Count the commits of every session (the test's and the requests') while the block runs."""
    seen: list[Session] = []

    def count(session):
        seen.append(session)

    event.listen(Session, "after_commit", count)
    try:
        yield seen
    finally:
        event.remove(Session, "after_commit", count)


def _locations() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Location.id)))


def _add_location(code: str = "TX1") -> None:
    """Write a row and flush it, as a service does (the helper must undo it on a refusal)."""
    upsert_location(LocationData(code=code, kind="depot", name_zh="事务测试库"))
    db.session.flush()


class NameForm(Form):
    """A form with one field, ``name``, for the view helper."""

    name = StringField()


# --------------------------------------------------------------------------- core


def test_unit_of_work_commits_once_and_rolls_back_on_any_error(any_app):
    with commits() as seen, unit_of_work() as uow:
        _add_location("TX1")
        _add_location("TX2")
    assert len(seen) == 1 and uow.committed and _locations() == 2

    with commits() as seen, pytest.raises(InvalidInput), unit_of_work() as uow:
        _add_location("TX3")
        raise InvalidInput("refused", field="name")
    assert seen == [] and not uow.committed and _locations() == 2

    with commits() as seen, pytest.raises(ZeroDivisionError), unit_of_work():
        _add_location("TX4")
        1 / 0
    assert seen == [] and _locations() == 2


def test_a_dry_run_or_a_discarded_unit_writes_nothing(any_app):
    with commits() as seen, unit_of_work(dry_run=True) as uow:
        _add_location("TX1")
    assert seen == [] and not uow.committed and _locations() == 0
    with unit_of_work() as uow:
        _add_location("TX2")
        uow.discard()
    assert not uow.committed and _locations() == 0


def test_a_restart_keeps_only_the_retried_work(any_app):
    with commits() as seen, unit_of_work() as uow:
        _add_location("LOST")
        uow.restart()  # the lost race: start over in the same unit
        _add_location("RETRY")
    assert len(seen) == 1
    assert set(db.session.scalars(select(Location.code))) == {"RETRY"}


def test_a_failed_commit_rolls_back_and_propagates(any_app):
    def refuse(_session):
        raise InvalidInput("refused at commit")

    session = db.session()
    event.listen(session, "before_commit", refuse)
    try:
        with pytest.raises(InvalidInput), unit_of_work():
            _add_location("TX1")
    finally:
        event.remove(session, "before_commit", refuse)
    assert _locations() == 0
    with unit_of_work():  # the session is usable again
        _add_location("TX2")
    assert _locations() == 1


def test_units_of_work_do_not_nest(any_app):
    with pytest.raises(NestedUnitOfWork), unit_of_work():
        _add_location("TX1")
        with unit_of_work():
            pass
    assert _locations() == 0
    with unit_of_work():  # the outer one's end cleared the mark
        _add_location("TX2")
    assert _locations() == 1


# --------------------------------------------------------------------------- view helper


def test_a_refusal_goes_beside_the_field_it_names_and_nothing_is_written(any_app):
    with any_app.test_request_context("/x", method="POST"):
        form = NameForm()
        with commits() as seen, view_transaction(form) as tx:
            _add_location("TX1")
            raise InvalidInput("Name this thing.", field="name")
        assert seen == [] and not tx.committed and str(tx.error) == "Name this thing."
        assert form.name.errors == ["Name this thing."] and form.form_errors == []
        assert form_status() == 422
        assert get_flashed_messages() == []
    assert _locations() == 0


def test_a_refusal_without_such_a_field_goes_above_the_form(any_app):
    with any_app.test_request_context("/x", method="POST"):
        form = NameForm()
        with view_transaction(form):
            _add_location("TX1")
            raise InvalidInput("Not here.", field="no_such_field")
        with view_transaction(form, field_map={"name": None}):
            raise InvalidInput("Above the form.", field="name")
        with view_transaction(form, field="name"):
            raise InvalidInput("Always beside the name.", field="other")
        assert form.form_errors == ["Not here.", "Above the form."]
        assert form.name.errors == ["Always beside the name."]
    assert _locations() == 0


def test_a_refusal_without_a_form_is_flashed(any_app):
    with any_app.test_request_context("/x", method="POST"):
        with view_transaction(category="warning") as tx:
            _add_location("TX1")
            raise InvalidInput("Nothing to do.")
        assert not tx.committed
        assert get_flashed_messages(with_categories=True) == [("warning", "Nothing to do.")]
    assert _locations() == 0


def test_the_view_helper_commits_once_and_a_get_answers_200(any_app):
    with any_app.test_request_context("/x", method="GET"):
        form = NameForm()
        with commits() as seen, view_transaction(form) as tx:
            _add_location("TX1")
        assert len(seen) == 1 and tx.committed and tx.error is None
        assert form_status() == 200
    with any_app.test_request_context("/x", method="POST"):
        assert form_status(refused=False) == 200
    assert _locations() == 1


def test_reraised_and_other_errors_roll_back_and_propagate(any_app):
    with any_app.test_request_context("/x", method="POST"):
        form = NameForm()
        with pytest.raises(AlreadyDone), view_transaction(form, reraise=AlreadyDone):
            _add_location("TX1")
            raise AlreadyDone("Booked before.")
        with pytest.raises(KeyError), view_transaction(form):
            _add_location("TX2")
            raise KeyError("bug")
        assert form.form_errors == [] and form.name.errors == ()
    assert _locations() == 0


def test_a_refusal_at_commit_is_shown_like_any_other(any_app):
    """The one-time token of a twin post can make the commit itself refuse (RepeatedForm)."""
    def refuse(_session):
        raise InvalidInput("Refused at commit.", field="name")

    with any_app.test_request_context("/x", method="POST"):
        form = NameForm()
        session = db.session()
        event.listen(session, "before_commit", refuse)
        try:
            with view_transaction(form) as tx:
                _add_location("TX1")
        finally:
            event.remove(session, "before_commit", refuse)
        assert not tx.committed and form.name.errors == ["Refused at commit."]
    assert _locations() == 0


@pytest.fixture
def admin_client(any_app, f):
    """A signed-in admin's client on ``any_app``, and a depot."""
    dep = f.location("DEP")
    f.user("admin", username="admin1")
    f.commit()
    any_app.test_client_class = IsolatedClient
    client = any_app.test_client()
    assert client.post("/login", data={"username": "admin1", "password": PASSWORD}).status_code == 302
    return client, dep


def _users(username: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(User.id)).where(User.username == username))


def test_a_view_refusal_answers_422_beside_its_field_and_commits_nothing(admin_client):
    client, dep = admin_client
    form = {"username": "k1", "password": "long enough 1", "role": "keeper"}
    with commits() as seen:
        refused = client.post("/admin/users/new", data=form)
    assert refused.status_code == 422 and seen == [] and _users("k1") == 0
    page = refused.data.decode()
    # beside the locations field (the service names it ``locations``), the form shown again
    assert '<div class="invalid-feedback d-block">该角色至少需要分配一个库点。</div>' in page
    assert 'name="locations"' in page and 'name="username"' in page
    with commits() as seen:
        saved = client.post("/admin/users/new", data=dict(form, locations=[str(dep.id)]))
    assert saved.status_code == 302 and len(seen) == 1 and _users("k1") == 1


def test_a_refused_post_leaves_its_one_time_token_for_the_corrected_post(admin_client):
    client, dep = admin_client
    form = {"username": "k2", "password": "long enough 1", "role": "keeper", "request_token": "tx-1"}
    assert client.post("/admin/users/new", data=form).status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(func.count(FormSubmission.id))) == 0
    with commits() as seen:
        saved = client.post("/admin/users/new", data=dict(form, locations=[str(dep.id)]))
    # the view's one commit (user and token together), then the decorator's (where it led)
    assert saved.status_code == 302 and len(seen) == 2 and _users("k2") == 1
    again = client.post("/admin/users/new", data=dict(form, locations=[str(dep.id)]))
    assert again.status_code == 302 and again.location == saved.location and _users("k2") == 1


# --------------------------------------------------------------------------- CLI helper


@click.command("tx-demo")
@click.option("--refuse", is_flag=True)
def tx_demo(refuse: bool) -> None:
    """Write a location; with --refuse, the service refuses after it flushed."""
    with command_transaction(prefix="Cannot save: "):
        _add_location("CLI1")
        if refuse:
            raise InvalidInput("the code is taken")
    click.echo("saved")


def test_the_cli_helper_exits_1_with_the_message_and_writes_nothing(any_app):
    runner = any_app.test_cli_runner()
    with commits() as seen:
        refused = runner.invoke(tx_demo, ["--refuse"])
    assert refused.exit_code == 1 and seen == [] and _locations() == 0
    assert refused.stderr == "Cannot save: the code is taken\n" and "saved" not in refused.stdout
    with commits() as seen:
        ok = runner.invoke(tx_demo, [])
    assert ok.exit_code == 0 and ok.stdout == "saved\n" and len(seen) == 1 and _locations() == 1


def test_a_refused_command_writes_nothing(any_app, english):
    upsert_location(LocationData(code="HS", kind="depot", name_zh="海尚源深"))
    db.session.commit()
    runner = any_app.test_cli_runner()
    with commits() as seen:
        bad = runner.invoke(args=["users", "create", "li", "--role", "keeper", "--password", "long enough 1"])
    assert bad.exit_code == 1 and seen == [] and _users("li") == 0
    assert bad.stderr == "Cannot create li: This role needs at least one assigned location.\n"


# --------------------------------------------------------------------------- guards


def _modules():
    return sorted((ROOT / "inventory").rglob("*.py"))


def test_only_the_core_helper_commits():
    """No module under inventory/ but inventory/core/transaction.py calls ``<session>.commit()``:
    views, CLI commands and jobs commit through the helpers."""
    allowed = {ROOT / "inventory" / "core" / "transaction.py"}
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert [f for f in found if ROOT / f.split(":")[0] not in allowed] == []
    assert found, "the helper itself commits"


def test_no_view_computes_the_refused_status_itself():
    """The "422 if POST" status of a form page shown again comes from ``form_status()``."""
    copies = [f"{path.relative_to(ROOT)}:{n}" for path in _modules()
              for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if "422 if" in line]
    assert copies == []
