"""Helpers for files that people open in Excel or WPS (CSV and XLSX exports)."""
from __future__ import annotations


def neutralise(text: str) -> str:
    """Make typed text safe in a spreadsheet: a cell starting with = + - @ (or a tab or
    carriage return) would run as a formula in Excel/WPS, so it gets a leading quote.
    Numbers such as ``-5`` are left alone."""
    text = text or ""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text
