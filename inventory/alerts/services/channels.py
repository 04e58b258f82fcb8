"""Delivery channels for digests: e-mail over SMTP and a webhook (JSON POST).

No database access here: :func:`send` takes a stored
:class:`~inventory.alerts.models.Notification` and the app config and either returns
or raises :class:`ChannelError` with a short reason, which the caller records
on the message for the retry (``inventory.alerts.jobs.deliver_due``).  Settings come
from the environment through config.py (``ALERT_SMTP_*``, ``ALERT_MAIL_FROM``,
``ALERT_WEBHOOK_*``); nothing secret is hard-coded.

The webhook speaks the WeCom (企业微信) group-robot protocol by default: POST
``{"msgtype": "markdown", "markdown": {"content": …}}``; the robot answers
HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``, and any other errcode is a
failure.
"""
from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Mapping

from inventory.alerts.models import Notification


class ChannelError(Exception):
    """Sending failed; ``str(err)`` says why (connection refused, SMTP reply, HTTP status …)."""


def send(message: Notification, config: Mapping) -> None:
    """Send ``message`` over its channel ("email" or "webhook"); raises ChannelError on failure."""
    if message.channel == "email":
        send_email(message, config)
    elif message.channel == "webhook":
        post_webhook(message, config)
    else:
        raise ChannelError(f"unknown channel {message.channel!r}")


def build_email(message: Notification, config: Mapping) -> EmailMessage:
    """The MIME message: UTF-8 plain text with an HTML alternative."""
    mail = EmailMessage()
    sender = config.get("ALERT_MAIL_FROM") or "alerts@localhost"
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=f"digest{message.id}", domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body_text, charset="utf-8")
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html", charset="utf-8")
    return mail


def send_email(message: Notification, config: Mapping) -> None:
    """Deliver an e-mail digest to ``ALERT_SMTP_HOST``:``ALERT_SMTP_PORT`` (security "none",
    "starttls" or "ssl"; login when ``ALERT_SMTP_USER`` is set).  Raises ChannelError."""
    host = config.get("ALERT_SMTP_HOST")
    if not host:
        raise ChannelError("ALERT_SMTP_HOST is not set")
    port = int(config.get("ALERT_SMTP_PORT", 25))
    timeout = float(config.get("ALERT_SMTP_TIMEOUT", 20))
    security = str(config.get("ALERT_SMTP_SECURITY", "none")).lower()
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.get("ALERT_SMTP_USER"):
                smtp.login(config["ALERT_SMTP_USER"], config.get("ALERT_SMTP_PASSWORD", ""))
            refused = smtp.send_message(build_email(message, config))
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}") from exc
    if refused:
        raise ChannelError(f"SMTP {host}:{port} refused {', '.join(refused)}")


def post_webhook(message: Notification, config: Mapping) -> None:
    """POST the stored JSON payload to ``ALERT_WEBHOOK_URL``; a non-2xx answer, or a WeCom
    answer whose errcode is not 0, raises ChannelError."""
    url = config.get("ALERT_WEBHOOK_URL")
    if not url:
        raise ChannelError("ALERT_WEBHOOK_URL is not set")
    if not url.startswith(("http://", "https://")):
        raise ChannelError("ALERT_WEBHOOK_URL must start with http:// or https://")
    request = urllib.request.Request(url, data=message.payload.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    where = url.split("?", 1)[0]  # the query carries the robot's key: keep it out of logs
    try:
        with urllib.request.urlopen(request, timeout=float(config.get("ALERT_WEBHOOK_TIMEOUT", 10))) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"webhook {where}: HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise ChannelError(f"webhook {where}: {type(exc).__name__}: {exc}") from exc
    if config.get("ALERT_WEBHOOK_FORMAT", "wecom") == "wecom":
        try:
            answer = json.loads(body.decode("utf-8") or "{}")
        except ValueError:
            raise ChannelError(f"webhook {where}: answer is not JSON") from None
        if answer.get("errcode", 0) != 0:
            raise ChannelError(f"webhook {where}: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")
