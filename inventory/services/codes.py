"""Random label codes: 12 upper-case base32 characters (A–Z, 2–7), 60 random bits.

Upper-case base32 keeps a QR URL in alphanumeric mode, which gives a smaller
symbol for the same error-correction level (reference/labels.md §4), and the
alphabet has no 0/1/8/9 to confuse with O/I/B/g when typed by hand.
"""
from __future__ import annotations

import base64
import re
import secrets

CODE_LENGTH = 12
CODE_RE = re.compile(r"^[A-Z2-7]{12}$")


def new_label_code() -> str:
    """Return a fresh random 12-character code; uniqueness is enforced by the database."""
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:CODE_LENGTH]


def normalise_code(raw: str) -> str | None:
    """Upper-case and strip ``raw``; return it if it is a well-formed code, else None."""
    code = (raw or "").strip().upper().replace("-", "").replace(" ", "")
    return code if CODE_RE.match(code) else None
