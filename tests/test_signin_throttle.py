"""The sign-in throttle counts in the database: per account and per client address, across
worker processes; while locked even the right password is refused; forwarded addresses are
trusted only when configured (OWASP ASVS 2.2.1)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from inventory import create_app
from inventory.admin.services import create_user
from inventory.core.db import db
from inventory.users.models import SignInAttempt
from inventory.users.services import accounts as users_service

from . import clocked
from .conftest import PASSWORD, database_uri

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def shared_db(tmp_path, sqlite_template) -> str:
    """A database file with the users ``kp`` and ``other``, as every worker of one site sees it."""
    uri = database_uri("sqlite", tmp_path, sqlite_template)
    setup = create_app("test", SQLALCHEMY_DATABASE_URI=uri)
    with setup.app_context():
        create_user(username="kp", password=PASSWORD, role="admin")
        create_user(username="other", password=PASSWORD, role="viewer")
        db.session.commit()
        db.engine.dispose()
    return uri


@pytest.fixture
def worker(shared_db):
    """``worker(**settings)`` — an app (one web worker) on the shared database, throttle on."""
    apps = []

    def make(**settings):
        app = create_app("test", SQLALCHEMY_DATABASE_URI=shared_db, LOGIN_THROTTLE_ENABLED=True, **settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def hash_checks(monkeypatch):
    """How many password hash checks ran (the real check still runs)."""
    seen: list[str] = []
    real = users_service.check_password_hash

    def spy(pwhash, password):
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(users_service, "check_password_hash", spy)
    return seen


def _post(client, username, password, address="127.0.0.1", **headers):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _other_process(uri: str, username: str, password: str, count: int, limit: str) -> list[int]:
    out = subprocess.run(clocked.command("tests.signin_worker", uri, username, password, str(count), limit),
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_lock_holds_across_worker_processes(shared_db):
    """Three wrong passwords in one process lock the account for the next process too, and the
    right password is refused there (gunicorn -w 4 let 761 guesses through a limit of 200)."""
    assert _other_process(shared_db, "kp", "wrong", 3, "3 per hour") == [401, 401, 401]
    assert _other_process(shared_db, "kp", "wrong", 1, "3 per hour") == [429]
    assert _other_process(shared_db, "kp", PASSWORD, 1, "3 per hour") == [429]


def test_the_account_lock_holds_from_every_address_and_refuses_the_right_password(
        worker, hash_checks, frozen_clock):
    one, two = (worker(LOGIN_RATE_LIMIT="3 per hour").test_client() for _ in range(2))  # two workers
    assert [_post(c, "kp", "wrong", address=a).status_code
            for c, a in ((one, "10.0.0.1"), (two, "10.0.0.2"), (one, "10.0.0.3"))] == [401, 401, 401]
    checks = len(hash_checks)
    locked = _post(two, "KP ", PASSWORD, address="10.0.0.4")  # the name as typed, in any case
    assert locked.status_code == 429 and "请等待 60 分钟后再试" in locked.data.decode()
    assert 3590 <= int(locked.headers["Retry-After"]) <= 3600
    assert len(hash_checks) == checks  # the password was not even checked
    assert two.get("/dashboard").status_code == 302  # not signed in
    assert _post(one, "other", "wrong", address="10.0.0.1").status_code == 401  # other accounts: unaffected
    frozen_clock.shift(dt.timedelta(hours=1, seconds=1))
    assert _post(two, "kp", PASSWORD, address="10.0.0.4").status_code == 302


def test_the_address_lock_holds_for_every_account(worker):
    client = worker(LOGIN_ADDRESS_RATE_LIMIT="3 per hour", LOGIN_RATE_LIMIT="100 per hour").test_client()
    assert [_post(client, f"guess-{i}", "wrong", address="10.0.0.9").status_code for i in range(3)] == [401] * 3
    assert _post(client, "kp", PASSWORD, address="10.0.0.9").status_code == 429
    assert _post(client, "kp", PASSWORD, address="10.0.0.8").status_code == 302


def test_refused_attempts_do_not_prolong_the_lock(worker, frozen_clock):
    client = worker(LOGIN_RATE_LIMIT="3 per minute").test_client()
    assert [_post(client, "kp", "wrong").status_code for _ in range(3)] == [401] * 3
    for _ in range(5):
        frozen_clock.shift(dt.timedelta(seconds=10))
        assert _post(client, "kp", "wrong").status_code == 429
    frozen_clock.shift(dt.timedelta(seconds=11))  # a minute after the three failures
    assert _post(client, "kp", PASSWORD).status_code == 302


def test_forwarded_addresses_count_only_when_the_proxy_is_trusted(worker):
    untrusted = worker(LOGIN_ADDRESS_RATE_LIMIT="2 per hour", LOGIN_RATE_LIMIT="100 per hour").test_client()
    codes = [_post(untrusted, f"g{i}", "x", **{"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(3)]
    assert codes == [401, 401, 429]  # a client cannot pick a new address per guess
    behind_proxy = worker(LOGIN_ADDRESS_RATE_LIMIT="2 per hour", LOGIN_RATE_LIMIT="100 per hour",
                          PROXY_FIX_X_FOR=1).test_client()
    codes = [_post(behind_proxy, f"h{i}", "x", address="10.1.1.1", **{"X-Forwarded-For": f"198.51.100.{i}"}
                   ).status_code for i in range(3)]
    assert codes == [401, 401, 401]  # three clients behind one proxy
    codes = [_post(behind_proxy, f"j{i}", "x", address="10.1.1.1", **{"X-Forwarded-For": "198.51.100.7"}
                   ).status_code for i in range(3)]
    assert codes == [401, 401, 429]
    with behind_proxy.application.app_context():
        addresses = set(db.session.scalars(select(SignInAttempt.address).where(
            SignInAttempt.username.like("j%"))))
    assert addresses == {"198.51.100.7"}


def test_attempt_rows_successes_removed_old_rows_pruned(worker, frozen_clock):
    app = worker(LOGIN_RATE_LIMIT="50 per hour")
    client = app.test_client()
    _post(client, "Kp", "wrong", address="10.0.0.5")
    _post(client, "kp", PASSWORD, address="10.0.0.5")

    def rows():
        with app.app_context():
            return [(a.username, a.address, a.outcome) for a in db.session.scalars(
                select(SignInAttempt).order_by(SignInAttempt.id))]

    assert rows() == [("kp", "10.0.0.5", "failed")]
    frozen_clock.shift(dt.timedelta(days=1, minutes=1))
    _post(app.test_client(), "other", "wrong", address="10.0.0.6")
    assert rows() == [("other", "10.0.0.6", "failed")]


@pytest.mark.parametrize("setting, value", [("LOGIN_RATE_LIMIT", "lots"), ("PROXY_FIX_X_FOR", -1)])
def test_unreadable_throttle_settings_refuse_to_start(setting, value):
    with pytest.raises(RuntimeError, match=setting):
        create_app("test", **{setting: value})
