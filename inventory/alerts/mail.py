"""How a digest becomes a message: absolute links and the text, HTML and WeCom markdown
rendered from the ``alerts/digest.*`` templates.  This is the alerts domain's presentation for
jobs (no request is needed); services call it through :class:`~inventory.alerts.services.digests.DigestRenderer`.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from inventory.alerts.services.digests import Digest, fit_markdown
from inventory.core import settings


class TemplateRenderer:
    """The digest renderer of the running app (see :class:`~inventory.alerts.services.digests.DigestRenderer`)."""

    def link(self, endpoint: str, **values) -> str:
        """An absolute URL of ``endpoint`` under ``EXTERNAL_URL`` (works without a request)."""
        base = urlsplit(settings.current().external_url)
        adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                           url_scheme=base.scheme or "http")
        return adapter.build(endpoint, values, force_external=True)

    def content(self, digest: Digest, locale: str, channel: str = "email") -> dict:
        """The message of ``digest`` in ``locale`` for ``channel``: subject, text and HTML for
        "email"; subject, text and WeCom markdown for "webhook", the markdown shortened to
        :data:`~inventory.alerts.services.digests.WECOM_MAX_BYTES` by
        :func:`~inventory.alerts.services.digests.fit_markdown`.  Only what the channel sends is
        rendered (fitting the markdown may render it a dozen times)."""
        with force_locale(locale):
            english = locale.startswith("en")
            subject = _("Emergency supplies alerts %(day)s: %(new)s new, %(active)s outstanding",
                        day=format_date(digest.day, "yyyy-MM-dd"), new=digest.new_total, active=digest.active_total)
            ctx = dict(d=digest, subject=subject, english=english)
            out = dict(subject=subject, text=render_template("alerts/digest.txt", **ctx))
            if channel == "webhook":
                out["markdown"] = fit_markdown(digest, lambda d: render_template("alerts/digest.md",
                                                                                 **{**ctx, "d": d}))
            else:
                out["html"] = render_template("alerts/digest.html", **ctx)
            return out


#: The one renderer jobs pass to the digest service.
RENDERER = TemplateRenderer()
