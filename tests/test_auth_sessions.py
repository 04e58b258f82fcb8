"""Sign-in and sessions (OWASP ASVS L2, V2 and V3): no user enumeration by timing, every
session of a user ends on logout, password, role or location change and deactivation, cookie
attributes, and a new session at sign-in."""
from __future__ import annotations

import pytest

from inventory.extensions import db
from inventory.services import users as users_service

from .conftest import PASSWORD


@pytest.fixture
def hash_checks(monkeypatch):
    """Record the password hash every sign-in checks (the real check still runs)."""
    seen: list[str] = []
    real = users_service.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(users_service, "check_password_hash", spy)
    return seen


def test_an_unknown_user_costs_one_hash_check_like_a_wrong_password(client, world, hash_checks):
    """An unknown name, an inactive account and a wrong password all run exactly one password
    hash check of the same kind, so the answer time does not tell which names exist."""
    keeper = world["users"]["keeper"]
    assert client.post("/login", data={"username": keeper.username, "password": "wrong"}).status_code == 401
    assert hash_checks == [keeper.password_hash]
    assert client.post("/login", data={"username": "no-such-user", "password": "wrong"}).status_code == 401
    world["users"]["viewer"].active = False
    db.session.commit()
    assert client.post("/login", data={"username": "viewer1", "password": PASSWORD}).status_code == 401
    assert client.post("/login", data={"username": "system", "password": "x"}).status_code == 401
    assert len(hash_checks) == 4
    method = keeper.password_hash.split("$")[0]  # e.g. scrypt:32768:8:1
    assert [h.split("$")[0] for h in hash_checks[1:]] == [method] * 3
    assert keeper.password_hash not in hash_checks[1:]
