"""Random label codes: 12 upper-case base32 characters (A–Z, 2–7), 60 random bits.

Upper-case base32 keeps a QR URL in alphanumeric mode, which gives a smaller
symbol for the same error-correction level (ISO/IEC 18004; measured in
docs/sources.md §9.5), and the
alphabet has no 0/1/8/9 to confuse with O/I/B/g when typed by hand.

Every code that reaches the server (scanned, typed, in a URL) goes through
:func:`normalise_scan_text` and :func:`normalise_code`: a handheld scanner on
a Chinese input method in full-width mode types "ＡＢＣＤ－ＥＦＧＨ－２３４５",
which Unicode compatibility normalisation (NFKC, Unicode Standard Annex #15)
turns into "ABCD-EFGH-2345".  ``static/js/scan.js`` applies the same rule.
"""
from __future__ import annotations

import base64
import re
import secrets
import unicodedata

CODE_LENGTH = 12
CODE_RE = re.compile(r"^[A-Z2-7]{12}$")
#: A code before upper-casing: ASCII letters of either case and 2–7 only (no "ı", "ſ" … that
#: upper-case to ASCII letters).
_RAW_CODE_RE = re.compile(r"[A-Za-z2-7]{12}")
#: Characters with no meaning that scanners and input methods put into text: zero-width space,
#: non-joiner and joiner, word joiner, byte-order mark, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
#: Separators people type between the groups of a code: white space and hyphen-like dashes
#: (hyphen … horizontal bar U+2010–U+2015, minus sign U+2212).  After NFKC the full-width
#: hyphen-minus and the ideographic space are already "-" and " ".
_SEPARATORS_RE = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def new_label_code() -> str:
    """Return a fresh random 12-character code; uniqueness is enforced by the database."""
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:CODE_LENGTH]


def normalise_scan_text(raw: str | None) -> str:
    """What a scanner or a person produced, as plain text: NFKC, invisible characters removed, trimmed.

    NFKC maps full-width letters, digits and punctuation (U+FF01–U+FF5E) and the
    ideographic space U+3000 to ASCII, so ``"ＨＴＴＰＳ：／／Ｈ／Ｓ／ＡＢＣ…"`` becomes
    ``"HTTPS://H/S/ABC…"``.  ``None`` gives ``""``.  Never raises.
    """
    return unicodedata.normalize("NFKC", raw or "").translate(_INVISIBLE).strip()


def normalise_code(raw: str | None) -> str | None:
    """The label code in ``raw`` in its stored form (12 upper-case characters), or None.

    ``raw`` is a code as typed or scanned: any case, full-width or not, with
    spaces or dashes between the groups (``abcd-efgh-2345``, ``ＡＢＣＤ　ＥＦＧＨ　２３４５``).
    Codes are stored in upper case (:func:`new_label_code`), so the result is
    upper-cased.  Returns None for anything that is not 12 characters of A–Z and 2–7.
    """
    code = _SEPARATORS_RE.sub("", normalise_scan_text(raw))
    return code.upper() if _RAW_CODE_RE.fullmatch(code) else None
