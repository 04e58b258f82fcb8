"""Fonts and Chinese text for every PDF the app writes (count sheet, gap report, residents'
checklist and poster), on top of :mod:`labels.fonts`, the label renderer's embedded Noto Sans SC
subset.

Reportlab prints a character its font lacks as a blank or a box, without any error; so no PDF
module calls the font module itself.  They take the font name from :func:`font` and pass every
string through one of two policies:

* :func:`check` (and :func:`markup` for a platypus ``Paragraph``): a character the font lacks
  raises :class:`MissingGlyphError` — nothing is printed;
* :func:`printable` (and ``markup(text, lenient=True)``): such a character is printed as "?" —
  for sheets whose other format (XLSX) keeps the exact text.

Form validation asks :func:`missing_glyphs` beforehand, so that stored texts always print.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from labels import fonts
from labels.fonts import MissingGlyphError

__all__ = ["MissingGlyphError", "check", "font", "markup", "missing_glyphs", "printable"]


def font() -> str:
    """The embedded Chinese font, registered with reportlab on first use; its name for
    ``canvas.setFont`` or ``ParagraphStyle(fontName=...)`` (no bold face: emphasise with size).

    Raises FileNotFoundError / RuntimeError when the font cannot be built or registered
    (:func:`labels.fonts.register_fonts`)."""
    return fonts.register_fonts()


def missing_glyphs(text: str) -> list[str]:
    """The distinct characters of ``text`` the font cannot print (control characters
    included), in order of first appearance; empty when all print."""
    return fonts.missing_glyphs(text)


def check(text) -> str:
    """``str(text)``, unchanged; raises MissingGlyphError (with ``chars`` and ``text``) when
    the font lacks any of its characters."""
    return fonts.check_text(str(text))


def printable(text) -> str:
    """``str(text)`` with every character the font lacks replaced by "?"."""
    text = str(text)
    missing = set(fonts.missing_glyphs(text))
    return "".join("?" if ch in missing else ch for ch in text) if missing else text


def markup(text, *, lenient: bool = False) -> str:
    """``text`` escaped for a platypus ``Paragraph`` (``&``, ``<``, ``>``), after :func:`check`
    (raises MissingGlyphError) or, when ``lenient``, :func:`printable`."""
    return escape(printable(text) if lenient else check(text))
