"""The one settings object: services see the settings of the app they run in, without Flask."""
from __future__ import annotations

import datetime as dt

from inventory import create_app
from inventory.core import clock, settings


def _app(**overrides):
    return create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://", **overrides)


def test_outside_any_app_the_defaults_apply():
    assert settings.current() is settings.DEFAULTS
    assert settings.current().timezone == "Asia/Shanghai"
    assert settings.current().default_locale == "zh_Hans_CN"
    assert settings.current().not_counted_days == 31
    assert str(clock.business_tz()) == "Asia/Shanghai"


def test_each_app_context_sees_its_own_app_and_the_outer_one_comes_back():
    tokyo, london = _app(TIMEZONE="Asia/Tokyo"), _app(TIMEZONE="Europe/London", ALERT_NOT_COUNTED_DAYS=7)
    with tokyo.app_context():
        assert str(clock.business_tz()) == "Asia/Tokyo"
        with london.app_context():
            assert settings.current().timezone == "Europe/London"
            assert settings.current().not_counted_days == 7
        assert str(clock.business_tz()) == "Asia/Tokyo"
        assert settings.current().not_counted_days == 0  # the test config's
    assert settings.current() is settings.DEFAULTS


def test_a_setting_changed_on_a_running_app_is_seen_at_once():
    app = _app()
    with app.app_context():
        assert settings.current().digest_max_lines == 40
        app.config["ALERT_DIGEST_MAX_LINES"] = 2
        assert settings.current().digest_max_lines == 2


def test_locales_fall_back_to_the_default_and_the_webhook_locale_is_checked():
    app = _app(ALERT_WEBHOOK_LOCALE="fr")
    with app.app_context():
        cfg = settings.current()
        assert cfg.locale_or_default("en") == "en"
        assert cfg.locale_or_default("de") == "zh_Hans_CN"
        assert cfg.locale_or_default(None) == "zh_Hans_CN"
        assert cfg.webhook_locale == "zh_Hans_CN"


def test_a_request_sees_its_app_settings():
    app = _app(TIMEZONE="America/New_York")
    with app.test_request_context("/"):
        assert str(clock.business_tz()) == "America/New_York"
        # 12:00 UTC is 07:00 in New York in winter
        assert clock.to_local(dt.datetime(2026, 1, 5, 12, 0)).hour == 7
