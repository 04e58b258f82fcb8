"""Translation catalogues: find UI strings without a Chinese translation, and compile.

UI strings are written in English in the code and templates and translated to
Simplified Chinese in ``translations/<area>/zh_Hans_CN/LC_MESSAGES/messages.po``
(one catalogue per area of the app, merged at run time).  Commands:

* ``flask --app app i18n check`` — exit 1 listing strings with no translation;
* ``flask --app app i18n add AREA`` — append the missing strings to AREA's
  catalogue with empty translations, ready to fill in;
* ``flask --app app i18n compile`` — build the ``.mo`` files (``make`` runs it).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask.cli import AppGroup

from config import BASE_DIR

LOCALE = "zh_Hans_CN"
TRANSLATIONS = BASE_DIR / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
SOURCES = [
    (BASE_DIR / "inventory", [("**.py", "python")]),
    (BASE_DIR / "templates", [("**.html", "jinja2")]),
    (BASE_DIR / "labels", [("**.py", "python")]),
]


def source_messages() -> dict[str, str]:
    """Every translatable string in the code and templates → the first file it appears in."""
    found: dict[str, str] = {}
    for root, method_map in SOURCES:
        if not root.is_dir():
            continue
        for filename, _lineno, message, _comments, _context in extract_from_dir(
                str(root), method_map, keywords=KEYWORDS,
                options_map={"**.html": {"extensions": "jinja2.ext.i18n,jinja2.ext.do"}}):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{root.name}/{filename}")
    return found


def catalogue_paths() -> list[Path]:
    """The .po files of every area, sorted."""
    return sorted(TRANSLATIONS.glob(f"*/{LOCALE}/LC_MESSAGES/messages.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=LOCALE)


def translated_messages() -> tuple[dict[str, str], list[str]]:
    """(msgid → translation over all areas, msgids present but untranslated or fuzzy)."""
    done: dict[str, str] = {}
    empty: list[str] = []
    for path in catalogue_paths():
        for msg in _read(path):
            if not msg.id:
                continue
            if msg.string and not msg.fuzzy:
                done[msg.id] = msg.string
            else:
                empty.append(msg.id)
    return done, [m for m in empty if m not in done]


def missing_messages() -> list[str]:
    """Strings used in the source with no translation in any catalogue."""
    done, _ = translated_messages()
    return sorted(m for m in source_messages() if m not in done)


i18n_cli = AppGroup("i18n", help="Check, extend and compile the Chinese translations.")


@i18n_cli.command("check")
def check_command() -> None:
    """Exit 1 and list every UI string that has no Chinese translation."""
    missing = missing_messages()
    _, empty = translated_messages()
    for msgid in missing:
        click.echo(f"missing: {msgid!r}")
    for msgid in empty:
        click.echo(f"untranslated: {msgid!r}")
    if missing or empty:
        sys.exit(1)
    click.echo("All UI strings have a Chinese translation.")


@i18n_cli.command("add")
@click.argument("area")
def add_command(area: str) -> None:
    """Append the missing strings to translations/AREA with empty translations."""
    path = TRANSLATIONS / area / LOCALE / "LC_MESSAGES" / "messages.po"
    catalog = _read(path) if path.exists() else Catalog(locale=LOCALE, project="emergency-supplies")
    where = source_messages()
    added = 0
    for msgid in missing_messages():
        if msgid not in catalog:
            catalog.add(msgid, "", locations=[(where[msgid], 0)])
            added += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, include_lineno=False)
    click.echo(f"{added} string(s) added to {path.relative_to(BASE_DIR)}; fill in their msgstr.")


def compile_catalogues() -> int:
    """Write a .mo beside every .po; return how many were compiled."""
    count = 0
    for path in catalogue_paths():
        catalog = _read(path)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)
        count += 1
    return count


@i18n_cli.command("compile")
def compile_command() -> None:
    """Compile every area's catalogue to .mo."""
    click.echo(f"compiled {compile_catalogues()} catalogue(s)")
