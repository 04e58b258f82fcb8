"""Printable labels for emergency supplies: label records + a layout -> PDF bytes.

A pure package: it knows reportlab, qrcode, fontTools and plain dataclasses, and
nothing about the database or Flask. The app fills :class:`BatchLabel`,
:class:`LocationLabel` or :class:`ItemLabel` records (display strings, dates, and the
absolute URL to put in the QR code), picks a :class:`Layout` (:data:`LAYOUTS`,
:func:`get_layout`, with the printer's calibration offset via ``with_offset``), and
calls :func:`render`; :func:`calibration_page` prints the alignment sheet.

Chinese text is printed with an embedded TrueType subset of Noto Sans SC (OFL) built
once by ``python -m labels.fonts build`` (or on first use). Other PDFs of the app use
:func:`register_fonts` and :func:`check_text` from here to print Chinese safely.

Example::

    from labels import BatchLabel, get_layout, render
    pdf = render([BatchLabel(...)], get_layout("thermal-50x30"))
"""

from .layouts import LAYOUTS, Layout, get_layout
from .model import BatchLabel, ItemLabel, Label, LocationLabel
from .calibration import calibration_page, calibration_plan
from .render import qr_matrix, render

# The font API is loaded lazily (PEP 562) so that `python -m labels.fonts build` runs
# the module as __main__ without it having been imported by the package first.
_FONT_API = ("MissingGlyphError", "check_text", "ensure_font", "font_path", "missing_glyphs", "register_fonts")


def __getattr__(name: str):
    if name in _FONT_API:
        from . import fonts

        return getattr(fonts, name)
    raise AttributeError(f"module 'labels' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FONT_API))


__all__ = [
    "LAYOUTS",
    "BatchLabel",
    "ItemLabel",
    "Label",
    "Layout",
    "LocationLabel",
    "MissingGlyphError",
    "calibration_page",
    "calibration_plan",
    "check_text",
    "ensure_font",
    "font_path",
    "get_layout",
    "missing_glyphs",
    "qr_matrix",
    "register_fonts",
    "render",
]
