"""Where a form may send the user next: same-site relative paths only (no open redirect)."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a same-site relative path such as ``/alerts?page=2``; otherwise None.

    Absolute URLs, scheme-relative ``//host`` paths and paths not starting with ``/`` are refused
    (OWASP: unvalidated redirects), so ``?next=`` can never send a user to another site.
    """
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
