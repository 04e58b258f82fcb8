"""Sign-in and sessions (OWASP ASVS L2, V2 and V3): no user enumeration by timing, every
session of a user ends on logout, password, role or location change and deactivation, cookie
attributes, and a new session at sign-in."""
from __future__ import annotations

import pytest

from inventory.core.db import db
from inventory.users.services import accounts as users_service

from .conftest import NOW, PASSWORD


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
    method = keeper.password_hash.split("$")[0]  # the configured method, e.g. pbkdf2:sha256:1 in tests
    assert [h.split("$")[0] for h in hash_checks[1:]] == [method] * 3
    assert keeper.password_hash not in hash_checks[1:]


# --------------------------------------------------------------------------- every session ends


def _device(app):
    """Another browser (phone, office PC): its own cookies, requests isolated like ``client``."""
    from .conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    return app.test_client()


def _sign_in(device, user, remember: bool = False):
    data = {"username": user.username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = device.post("/login", data=data)
    assert response.status_code == 302, response.data[:300]
    return device


def _signed_in(device) -> bool:
    return device.get("/dashboard").status_code == 200


def _remembered_only(device):
    """The browser was closed: the session cookie is gone, the remember cookie stays."""
    device.delete_cookie("session")
    return device


def _keeper_form(world, **changes) -> dict:
    data = {"display_name": "", "email": "", "role": "keeper", "locations": [str(world["dep"].id)],
            "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_logout_ends_every_session_and_remember_cookie_of_the_user(app, world):
    keeper = world["users"]["keeper"]
    phone, office, remembered = (_sign_in(_device(app), keeper, remember=(i == 2)) for i in range(3))
    other = _sign_in(_device(app), world["users"]["viewer"])
    assert _signed_in(phone) and _signed_in(office) and _signed_in(_remembered_only(remembered))
    assert phone.post("/logout").status_code == 302
    assert not _signed_in(phone) and not _signed_in(office) and not _signed_in(remembered)
    assert _signed_in(other)  # another user's session is untouched
    assert _signed_in(_sign_in(office, keeper))  # signing in again works


@pytest.mark.parametrize("change", [
    {"password": "a new password 2"},
    {"role": "viewer", "locations": None},
    {"locations": "dep2"},
    {"active": None},  # the box unticked: deactivated
])
def test_the_office_changing_a_user_ends_their_sessions(app, world, change):
    keeper = world["users"]["keeper"]
    phone = _sign_in(_device(app), keeper)
    remembered = _remembered_only(_sign_in(_device(app), keeper, remember=True))
    admin = _sign_in(_device(app), world["users"]["admin"])
    if change.get("locations") == "dep2":
        change = {"locations": [str(world["dep2"].id)]}
    response = admin.post(f"/admin/users/{keeper.id}", data=_keeper_form(world, **change))
    assert response.status_code == 302, response.data[:500]
    assert not _signed_in(phone) and not _signed_in(remembered)
    assert _signed_in(admin)


def test_saving_a_user_unchanged_but_for_the_name_keeps_their_sessions(app, world):
    keeper = world["users"]["keeper"]
    phone = _sign_in(_device(app), keeper)
    admin = _sign_in(_device(app), world["users"]["admin"])
    assert admin.post(f"/admin/users/{keeper.id}", data=_keeper_form(world, display_name="王")).status_code == 302
    assert _signed_in(phone)


def test_an_admin_changing_their_own_password_stays_signed_in_here_only(app, world):
    me = world["users"]["admin"]
    here, elsewhere = _sign_in(_device(app), me), _sign_in(_device(app), me)
    response = here.post(f"/admin/users/{me.id}", data={"role": "admin", "active": "y",
                                                        "password": "a new password 2"})
    assert response.status_code == 302, response.data[:500]
    assert _signed_in(here) and not _signed_in(elsewhere)


def test_the_cli_password_reset_ends_the_users_sessions(app, world):
    keeper = world["users"]["keeper"]
    phone = _sign_in(_device(app), keeper)
    result = app.test_cli_runner().invoke(args=["users", "set-password", keeper.username,
                                                "--password", "a new password 2"])
    assert result.exit_code == 0, result.output
    assert not _signed_in(phone)


def test_a_sign_in_lasts_at_most_30_days_even_when_remembered(app, world, frozen_clock):
    import datetime as dt

    keeper = world["users"]["keeper"]
    device = _sign_in(_device(app), keeper, remember=True)
    frozen_clock.shift(dt.timedelta(days=29))
    assert _signed_in(device)
    frozen_clock.shift(dt.timedelta(days=2))
    assert not _signed_in(device) and not _signed_in(_remembered_only(device))


# --------------------------------------------------------------------------- cookies and rotation


def test_remember_cookie_is_httponly_lax_and_kept_30_days(client, world):
    import datetime as dt
    from email.utils import parsedate_to_datetime

    response = client.post("/login", data={"username": "keeper1", "password": PASSWORD, "remember": "y"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    attributes = {part.strip().split("=")[0].lower(): part.strip().partition("=")[2]
                  for part in cookie.split(";")[1:]}
    assert "httponly" in attributes and attributes["samesite"] == "Lax"
    lifetime = parsedate_to_datetime(attributes["expires"]) - NOW  # the clock ticks from NOW
    assert dt.timedelta(days=30) <= lifetime < dt.timedelta(days=30, minutes=5)


def test_production_cookies_are_secure(monkeypatch):
    from inventory import create_app

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    config = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://").config
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True and config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sign_in_starts_a_new_session_with_a_new_csrf_token(tmp_path, sqlite_template, world):
    """Session fixation (ASVS 3.2.1): what was in the session before sign-in is gone, the CSRF
    token is new; only the language choice is kept."""
    import re

    from .conftest import build_app

    (tmp_path / "csrf").mkdir()
    served = build_app("sqlite", tmp_path / "csrf", sqlite_template, WTF_CSRF_ENABLED=True)
    with served.app_context():
        from inventory.admin.services import create_user

        create_user(username="kp", password=PASSWORD, role="admin")
        db.session.commit()
    device = _device(served)
    device.get("/lang/en")
    page = device.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with device.session_transaction() as sess:
        before = dict(sess)
        sess["planted"] = "by an attacker"
    response = device.post("/login", data={"username": "kp", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    with device.session_transaction() as sess:
        after = dict(sess)
    assert "planted" not in after and after.get("lang") == "en"
    assert before["csrf_token"] and after.get("csrf_token") != before["csrf_token"]
    page = device.get("/dashboard").data.decode()
    assert "Dashboard" in page
    # The token of the signed-out page no longer passes.
    response = device.post("/logout", data={"csrf_token": token})
    assert response.status_code == 400
