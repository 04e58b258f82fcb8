"""Business time: the subdistrict works in Asia/Shanghai; the database stores naive UTC."""
from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from inventory.core import settings


def business_tz() -> ZoneInfo:
    """The configured business time zone (``TIMEZONE`` setting, default Asia/Shanghai)."""
    return ZoneInfo(settings.current().timezone)


def now_utc() -> dt.datetime:
    """Current time as naive UTC, the form the database stores."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def to_utc_naive(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to naive UTC; a naive value is taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def to_local(value: dt.datetime) -> dt.datetime:
    """Convert a naive-UTC (or aware) datetime to aware business-local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(business_tz())


def local_today() -> dt.date:
    """Today's date in the business time zone."""
    return dt.datetime.now(business_tz()).date()


def local_date(value: dt.datetime) -> dt.date:
    """The business-local calendar date of a naive-UTC or aware datetime."""
    return to_local(value).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later, or that month's last day when it is shorter
    (2026-01-31 + 1 month → 2026-02-28; 2028-01-31 + 1 → 2028-02-29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))
