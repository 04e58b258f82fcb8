"""No key from the source ever signs a session.

Development without ``SECRET_KEY`` generates a random key once and keeps it in
``instance/`` (mode 600); any other environment refuses to start without one;
a blank or short key is refused everywhere.
"""
from __future__ import annotations

import os
import shutil
import stat

import pytest
from flask import Flask

from inventory import create_app
from inventory.core.db import db

from .conftest import PASSWORD

#: The development key the source used to carry; a cookie signed with it must not work.
OLD_PUBLIC_KEY = "dev-only-not-secret"


@pytest.fixture
def no_secret_key(monkeypatch):
    """Run the test as if ``SECRET_KEY`` were not in the environment."""
    monkeypatch.delenv("SECRET_KEY", raising=False)


@pytest.mark.parametrize("env", ["production", "staging-typo"])
def test_an_environment_other_than_development_refuses_to_start_without_a_key(no_secret_key, env):
    with pytest.raises((RuntimeError, KeyError)) as caught:
        create_app(env, SQLALCHEMY_DATABASE_URI="sqlite://")
    message = str(caught.value)
    assert ("SECRET_KEY" in message) if env == "production" else ("INVENTORY_ENV" in message)


@pytest.mark.parametrize("env", ["development", "production", "test"])
@pytest.mark.parametrize("key", ["", "   ", "x" * 31, OLD_PUBLIC_KEY])
def test_a_blank_or_short_key_is_refused(monkeypatch, tmp_path, env, key):
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        create_app(env, SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY_FILE=str(tmp_path / "k"))
    assert not (tmp_path / "k").exists()


def test_a_long_enough_key_is_used_as_given(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://").config["SECRET_KEY"] == "k" * 32


def test_development_generates_a_private_key_file_once_and_reuses_it(no_secret_key, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY_FILE=str(key_file))
    key = first.config["SECRET_KEY"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().strip() == key and len(key) >= 32 and key != OLD_PUBLIC_KEY
    again = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY_FILE=str(key_file))
    assert again.config["SECRET_KEY"] == key
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no temporary file left


def test_the_test_config_gets_a_random_key(no_secret_key):
    keys = {create_app("test").config["SECRET_KEY"] for _ in range(2)}
    assert OLD_PUBLIC_KEY not in keys and all(len(k) >= 32 for k in keys)


def test_a_cookie_signed_with_the_old_public_key_signs_nobody_in(no_secret_key, tmp_path, sqlite_template):
    """`gunicorn app:app` without INVENTORY_ENV runs the development config: a session cookie
    forged with the key once printed in config.py must not make anyone an administrator."""
    from inventory.admin.services import create_user

    shutil.copyfile(sqlite_template, tmp_path / "dev.db")
    served = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.db'}",
                        SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    with served.app_context():
        identity = create_user(username="boss", password=PASSWORD, role="admin").get_id()
        db.session.commit()
        db.session.remove()

    def cookie_signed_with(key: str) -> str:
        signer = Flask("signer")
        signer.secret_key = key
        return served.session_interface.get_signing_serializer(signer).dumps(
            {"_user_id": identity, "_fresh": True})

    client = served.test_client()
    client.set_cookie("session", cookie_signed_with(OLD_PUBLIC_KEY))
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.location
    # The same cookie signed with the app's real key works: the refusal above is the key's doing.
    client.set_cookie("session", cookie_signed_with(served.config["SECRET_KEY"]))
    assert client.get("/admin/users").status_code == 200
