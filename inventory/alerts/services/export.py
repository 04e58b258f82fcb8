"""The alert centre's list as a workbook (XLSX), for the office's records and the city's checks.

Written by the app's one CSV/XLSX writer (:class:`inventory.core.tabular.XlsxBook`):
text that Excel/WPS would run as a formula stays text, numbers and dates keep their types.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from flask_babel import lazy_gettext as _l

from inventory.alerts.models import Alert, AlertState
from inventory.core import clock
from inventory.core.tabular import XlsxBook

#: Alerts per export at most (the alert centre's filters narrow it).
EXPORT_LIMIT = 20_000
#: Column headings, Chinese and English as in the app's other exports.
COLUMNS = ["预警 Alert", "状态 State", "到期/截止 Due", "剩余天数 Days left", "库点代码 Location code",
           "库点 Location", "物资编码 Item code", "物资 Item", "批号 Lot", "数量 Quantity", "单位 Unit",
           "说明 Message", "发出 Raised", "叫应人 Acknowledged by", "叫应时间 Acknowledged at", "编号 Id"]
STATE_CAPTIONS = {AlertState.OPEN: _l("Not acknowledged"), AlertState.ACKNOWLEDGED: _l("Acknowledged"),
                  AlertState.RESOLVED: _l("Resolved")}


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return clock.to_local(value).replace(tzinfo=None) if value is not None else None


def alerts_xlsx(rows: Iterable[tuple[Alert, str, str]], today: dt.date, *, english: bool = False) -> bytes:
    """A workbook with one sheet, one row per alert in the given order.

    ``rows``: (alert with location, item, batch and acknowledging user loaded, its rule label,
    its message), both in the user's language.  Dates and times are real cells (business
    time zone, no zone), days left and quantities numbers; text from users (names, lots) is
    neutralised.  Returns the XLSX bytes.
    """
    lang = "en" if english else "zh"
    book = XlsxBook()
    ws = book.sheet("预警 Alerts")
    ws.append(COLUMNS, bold=True)
    for alert, label, message in rows:
        item, batch, loc = alert.item, alert.batch, alert.location
        ws.append([
            label, str(STATE_CAPTIONS.get(alert.state, alert.state.value)), alert.due_on,
            (alert.due_on - today).days if alert.due_on else None,
            loc.code if loc else "", loc.display_name(lang) if loc else "",
            item.code if item else "", item.display_name(lang) if item else "",
            (batch.lot_number or batch.label_code) if batch else "",
            batch.quantity if batch else None, item.unit if item else "",
            message, _local(alert.raised_at),
            alert.acknowledged_by.name if alert.acknowledged_by else "",
            _local(alert.acknowledged_at), alert.id,
        ])
    return book.to_bytes()
