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


#: ".../s/CODE" or ".../S/CODE" at the end of a scanned URL (optionally a trailing slash).
_URL_CODE_RE = re.compile(r"/[sS]/([A-Za-z2-7][A-Za-z2-7 -]{10,20})/?$")


#: Longest scanned text accepted; anything longer is not one of our labels.
MAX_SCAN_TEXT = 200


def code_from_text(text: str | None) -> str | None:
    """The label code in what a scanner or a person produced, or None.

    The one rule for every field and address that takes a label code (the
    scanner page, a label's address, the count's scan box and entry form, a
    quantity field that received a scan); ``static/js/scan.js`` ``codeFrom``
    is the same rule.  The text is first normalised by
    :func:`inventory.core.codes.normalise_scan_text` (NFKC: full-width
    characters from a Chinese input method become ASCII).  Accepts a bare code
    in any case with spaces or dashes (``abcd-efgh-2345``) and a URL whose path
    ends in ``/s/CODE`` or ``/S/CODE`` (optionally ``/``), from any scheme and
    host (a label printed by another server), with or without a query string or
    fragment — only the code is used, the host is never followed (no open
    redirect).  Anything else (another QR code, a bar code, a typo, more than
    :data:`MAX_SCAN_TEXT` characters) gives None.
    """
    text = normalise_scan_text(text)
    if not text or len(text) > MAX_SCAN_TEXT:
        return None
    path = re.split(r"[?#]", text, maxsplit=1)[0]  # "?" and "#" never occur in a code
    match = _URL_CODE_RE.search(path)
    if match:
        return normalise_code(match.group(1))
    return normalise_code(text)


#: What a typed quantity looks like once NFKC-normalised: digits, decimal points or commas,
#: spaces and a sign.  Such text is a number, never a label, even if it spells a code of 2–7s.
_NUMBER_LIKE_RE = re.compile(r"[\s+\-]*[0-9][0-9\s.,]*")


def label_in_quantity(text: str | None) -> str | None:
    """The label code when a quantity field received a label scan instead of a number, else None.

    A keeper's cursor is in the quantity box when the scanner fires: the field
    then holds a code or a label URL (in any of the forms :func:`code_from_text`
    accepts).  Number-like text (digits, ``.``, ``,``, spaces, a sign; full-width
    too) is always a quantity and gives None, as does anything that is not a
    label; the quantity parser then judges it.  Same rule as the count page in
    ``static/js/scan.js``.
    """
    normal = normalise_scan_text(text)
    if not normal or _NUMBER_LIKE_RE.fullmatch(normal):
        return None
    return code_from_text(normal)
