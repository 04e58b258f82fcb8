"""Password hashing: scrypt wherever people sign in, a cheap method only in the test config,
and a stored hash of any method keeps verifying."""
from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from config import DevelopmentConfig, ProductionConfig, TestConfig, get_config
from inventory import create_app
from inventory.core import settings
from inventory.users.services import accounts

from .conftest import PASSWORD


@pytest.mark.parametrize("config", [DevelopmentConfig, ProductionConfig, get_config("development"),
                                    get_config("production")])
def test_production_and_development_hash_with_scrypt(config):
    assert config.PASSWORD_HASH_METHOD == "scrypt"


def test_the_test_config_hashes_cheaply():
    method, _, iterations = TestConfig.PASSWORD_HASH_METHOD.rpartition(":")
    assert method == "pbkdf2:sha256" and int(iterations) <= 1000


@pytest.mark.parametrize("env", ["production", "development"])
def test_an_app_of_production_or_development_makes_scrypt_hashes(env, monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    other = create_app(env, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}",
                       SECRET_KEY_FILE=str(tmp_path / "key"))
    with other.app_context():
        assert settings.current().password_hash_method == "scrypt"
        assert accounts.hash_password(PASSWORD).startswith("scrypt:32768:8:1$")


def test_users_made_by_the_tests_get_the_cheap_hash(app, f):
    user = f.user("admin", username="cheap1")
    assert user.password_hash.startswith("pbkdf2:sha256:1$")
    assert accounts.verify_password(user, PASSWORD)


@pytest.mark.parametrize("method", ["scrypt", "scrypt:16384:8:1", "pbkdf2:sha256:600000", "pbkdf2:sha256:1"])
def test_a_stored_hash_of_any_method_still_verifies(app, f, method):
    user = f.user("admin", username="old1")
    user.password_hash = generate_password_hash(PASSWORD, method=method)
    assert accounts.verify_password(user, PASSWORD)
    assert not accounts.verify_password(user, PASSWORD + "x")


def test_a_user_with_a_scrypt_hash_signs_in_under_the_test_config(app, f, client):
    user = f.user("admin", username="scrypt1")
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    f.commit()
    assert client.post("/login", data={"username": "scrypt1", "password": "wrong password"}).status_code == 401
    assert client.post("/login", data={"username": "scrypt1", "password": PASSWORD}).status_code == 302


def test_the_method_can_be_passed_explicitly(app):
    assert accounts.hash_password(PASSWORD, "pbkdf2:sha256:2").startswith("pbkdf2:sha256:2$")


@pytest.mark.parametrize("method", ["md5", "pbkdf2:sha256:many", "scrypt:3:8:1"])
def test_an_unknown_method_stops_the_app_at_start_up(method):
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_METHOD"):
        create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://", PASSWORD_HASH_METHOD=method)
