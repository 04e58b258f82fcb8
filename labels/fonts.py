"""Embedded Chinese font for every PDF the app prints.

Why this module exists: reportlab's built-in CID font ``STSong-Light`` is not
embedded in the PDF, so Chinese text vanishes or turns into boxes on print paths
without CJK fonts (CUPS filters, poppler, pdfium without system fonts; measured in
``docs/sources.md`` §9.3). Reportlab's ``TTFont`` embeds fonts,
but only TrueType (``glyf``) outlines; every Noto / Source Han ``.otf`` has CFF
outlines and is refused.

So at set-up time we build our own TrueType font:

* source: Noto Sans SC Regular (SIL Open Font License 1.1) from the pinned PyPI
  package ``pylopdf-fonts-zh-cn==0.1.1``;
* subset to GB2312 + ASCII/Latin-1 + general punctuation + CJK punctuation +
  full-width forms + the currency (U+20A0) and letterlike (U+2100: ℃ №) blocks;
* CFF cubic outlines converted to TrueType quadratic outlines with fontTools
  (``Cu2QuPen`` into ``TTGlyphPen``), then ``glyf``/``loca``/``maxp``/``post``
  rebuilt.

The result (~2.4 MB, ~6 s on 2 cores) is written to ``instance/fonts/NotoSansSC-GB.ttf`` (in the project folder)
under the current working directory, or to ``$LABELS_FONT_PATH``. It is not kept
in git. Build it with::

    python -m labels.fonts build [--force]

Public API (kept small; report and checklist PDFs use it too):
:func:`font_path`, :func:`ensure_font`, :func:`register_fonts`,
:func:`missing_glyphs`, :func:`check_text`, :class:`MissingGlyphError`.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.resources
import os
import sys
import threading
import time
from pathlib import Path
from typing import Iterable

__all__ = [
    "FACE_NAME",
    "MissingGlyphError",
    "build_font",
    "check_text",
    "ensure_font",
    "font_path",
    "is_valid_font",
    "missing_glyphs",
    "register_fonts",
]

#: reportlab font name under which :func:`register_fonts` registers the face.
FACE_NAME = "NotoSansSC-GB"

#: PostScript name written into the built font. Deliberately different from the
#: upstream ``NotoSansSC-Regular``: reportlab keys embedded faces by this name
#: (``pdfmetrics._dynFaceNames``), so registering the full upstream font in the same
#: process would otherwise silently alias to our subset (docs/sources.md §9.3).
PS_NAME = "NotoSansSCGB-Regular"

#: Marker written into the font's version string. Bump it when the build recipe
#: changes; :func:`is_valid_font` then treats older builds as stale and rebuilds.
BUILD_STAMP = "labels-build-1"

DEFAULT_RELATIVE_PATH = Path("instance") / "fonts" / "NotoSansSC-GB.ttf"
PROJECT_DIR = Path(__file__).resolve().parent.parent
ENV_VAR = "LABELS_FONT_PATH"
SOURCE_PACKAGE = "pylopdf-fonts-zh-cn"
SOURCE_MODULE = "pylopdf_fonts_zh_cn"
SOURCE_FILE = "NotoSansSC-Regular.otf"

#: Code point ranges kept besides GB2312 (inclusive bounds).
EXTRA_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement (½ ° × ·)
    (0x2000, 0x206F),  # general punctuation (— … ‰ ‧)
    (0x20A0, 0x20CF),  # currency symbols (€)
    (0x2100, 0x214F),  # letterlike symbols (℃ №)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # half-width and full-width forms
)

# Characters that must have real (non-empty) outlines in a valid build.
_SENTINELS = "品名规格批号数量生产日期有效期至入库存放地点℃€№Aa0（）：—"

_register_lock = threading.Lock()
_build_lock = threading.Lock()
_registered: str | None = None
_registered_path: Path | None = None


class MissingGlyphError(ValueError):
    """Text contains characters that the embedded font cannot draw.

    Reportlab would print such characters as blanks or notdef boxes without any
    error, so every printed string goes through :func:`check_text` first.

    Attributes:
        chars: the distinct missing characters, in order of first appearance.
        text: the offending text.
    """

    def __init__(self, chars: Iterable[str], text: str = ""):
        self.chars = list(chars)
        self.text = text
        listed = " ".join(f"{c!r} (U+{ord(c):04X})" for c in self.chars)
        super().__init__(
            f"the label font has no glyph for {listed}"
            + (f" in {text!r}" if text else "")
            + "; use another character or extend the font subset in labels/fonts.py"
        )


# --------------------------------------------------------------------------- paths


def font_path() -> Path:
    """Return where the built font lives (the file may not exist yet).

    ``$LABELS_FONT_PATH`` if set, else ``instance/fonts/NotoSansSC-GB.ttf`` in the
    project folder (the parent of this package), so that the web server, the CLI
    and the tests find the same file whatever their working directory. The path
    is absolute. Never raises.
    """
    env = os.environ.get(ENV_VAR)
    path = Path(env) if env else PROJECT_DIR / DEFAULT_RELATIVE_PATH
    return path.expanduser().resolve()


def _source_otf() -> Path:
    """Path of the upstream Noto Sans SC ``.otf`` inside the installed package.

    Raises:
        FileNotFoundError: the package ``pylopdf-fonts-zh-cn`` is not installed.
    """
    try:
        ref = importlib.resources.files(SOURCE_MODULE) / SOURCE_FILE
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(
            f"{SOURCE_PACKAGE} is not installed; run: pip install -r requirements.txt"
        ) from exc
    path = Path(str(ref))
    if not path.is_file():
        raise FileNotFoundError(f"{SOURCE_FILE} not found in {SOURCE_PACKAGE} at {path}")
    return path


def _licence_text() -> str:
    """The OFL text shipped in the source package's metadata, or a short note."""
    try:
        dist = importlib.metadata.distribution(SOURCE_PACKAGE)
        for f in dist.files or ():
            if f.name.upper().startswith(("LICENSE", "LICENCE", "OFL")):
                text = Path(str(dist.locate_file(f))).read_text(encoding="utf-8")
                if "Open Font License" in text:
                    return text
    except (importlib.metadata.PackageNotFoundError, OSError, UnicodeDecodeError):
        pass
    return (
        "NotoSansSC-GB.ttf is a subset of Noto Sans SC (Copyright 2014-2021 Adobe,\n"
        "with Reserved Font Name 'Source'), converted to TrueType outlines.\n"
        "Licensed under the SIL Open Font License, Version 1.1: https://openfontlicense.org\n"
        f"Source: PyPI package {SOURCE_PACKAGE}, file {SOURCE_FILE}.\n"
    )


# --------------------------------------------------------------------------- build


def subset_codepoints() -> set[int]:
    """Unicode code points kept in the built font.

    All characters of GB 2312 (decoded through Python's ``gb2312`` codec: rows
    0xA1-0xF7, cells 0xA1-0xFE) plus :data:`EXTRA_RANGES`. About 8,700 code points.
    """
    cps: set[int] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            cps.add(ord(ch))
    for lo, hi in EXTRA_RANGES:
        cps.update(range(lo, hi + 1))
    return cps


def build_font(dest: Path, *, codepoints: Iterable[int] | None = None) -> Path:
    """Build the TrueType font from the Noto Sans SC OTF and write it to ``dest``.

    Args:
        dest: output ``.ttf`` path; parent folders are created. Written atomically
            (temporary file then rename), so a concurrent reader never sees half a file.
        codepoints: code points to keep; default :func:`subset_codepoints`. Tests pass
            a handful to build a tiny font quickly.

    Returns:
        ``dest``.

    Raises:
        FileNotFoundError: the source package is missing.
        OSError: ``dest`` cannot be written.
    """
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    dest = Path(dest)
    wanted = sorted(codepoints if codepoints is not None else subset_codepoints())
    font = TTFont(str(_source_otf()))
    for tag in ("BASE", "DSIG", "GDEF", "GPOS", "GSUB", "VORG", "vhea", "vmtx"):
        if tag in font:  # not needed by reportlab; dropping them early skips parsing
            del font[tag]
    order = font.getGlyphOrder()
    cmap = font.getBestCmap()
    keep = {".notdef"} | {cmap[cp] for cp in wanted if cp in cmap}

    # CFF (cubic) -> glyf (quadratic), only for the glyphs we keep; the others get
    # empty outlines and are dropped by the subsetter below. Converting first and
    # subsetting the TrueType font afterwards is about twice as fast as subsetting the
    # CFF (its closure and subroutine pruning re-execute every charstring).
    # CFF contours run counter-clockwise, TrueType clockwise, hence reverse_direction.
    # max_err is in font units (1/1000 em).
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    empty = TTGlyphPen(None).glyph()
    for name in order:
        if name in keep:
            pen = TTGlyphPen(None)
            glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        else:
            glyf.glyphs[name] = empty

    del font["CFF "]
    font.sfntVersion = "\x00\x01\x00\x00"
    font["glyf"] = glyf
    font["loca"] = newTable("loca")

    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr, value in dict(
        maxZones=1, maxTwilightPoints=0, maxStorage=0, maxFunctionDefs=0,
        maxInstructionDefs=0, maxStackElements=0, maxSizeOfInstructions=0,
        maxComponentElements=0, maxComponentDepth=0, maxPoints=0, maxContours=0,
        maxCompositePoints=0, maxCompositeContours=0,
    ).items():
        setattr(maxp, attr, value)

    post = font["post"]
    post.formatType = 3.0  # no glyph names: smaller, and reportlab does not need them
    for attr in ("extraNames", "mapping", "glyphOrder"):
        if hasattr(post, attr):
            delattr(post, attr)

    font["head"].glyphDataFormat = 0

    options = subset.Options()
    options.layout_features = []  # reportlab does no shaping
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    options.hinting = False
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)

    # TrueType wants hmtx left side bearings equal to each glyph's xMin.
    hmtx = font["hmtx"]
    glyf = font["glyf"]
    for name in font.getGlyphOrder():
        g = glyf[name]
        g.recalcBounds(glyf)
        advance, _ = hmtx.metrics[name]
        hmtx.metrics[name] = (advance, getattr(g, "xMin", 0))

    name = font["name"]
    version = f"Version 2.004; {BUILD_STAMP}; GB2312 TrueType subset of Noto Sans SC"
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 5, 6, 16, 17):
            name.removeNames(nameID=rec.nameID)
    for plat, enc, lang in ((3, 1, 0x409), (1, 0, 0)):
        name.setName("Noto Sans SC GB", 1, plat, enc, lang)
        name.setName("Regular", 2, plat, enc, lang)
        name.setName(f"{PS_NAME};{BUILD_STAMP}", 3, plat, enc, lang)
        name.setName("Noto Sans SC GB Regular", 4, plat, enc, lang)
        name.setName(version, 5, plat, enc, lang)
        name.setName(PS_NAME, 6, plat, enc, lang)

    # Reproducible output: keep the source's head.created/modified timestamps.
    font.recalcTimestamp = False

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        font.save(str(tmp))
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def is_valid_font(path: Path) -> bool:
    """True if ``path`` is a complete build of the current recipe.

    Checks: the file opens with fontTools, has ``glyf`` outlines and no CFF, carries
    :data:`BUILD_STAMP` in its version string, and the sentinel characters
    (captions, ℃, €, №) have non-empty outlines. Never raises.
    """
    from fontTools.ttLib import TTFont

    path = Path(path)
    if not path.is_file() or path.stat().st_size < 1000:
        return False
    try:
        with TTFont(str(path), lazy=True) as font:
            if "glyf" not in font or "CFF " in font:
                return False
            version = font["name"].getDebugName(5) or ""
            if BUILD_STAMP not in version:
                return False
            cmap = font.getBestCmap()
            glyf = font["glyf"]
            for ch in _SENTINELS:
                gname = cmap.get(ord(ch))
                if gname is None or glyf[gname].numberOfContours == 0:
                    return False
    except Exception:  # noqa: BLE001 - any parse failure means "rebuild"
        return False
    return True


def _write_licence(font_file: Path) -> Path:
    target = font_file.with_name("OFL.txt")
    target.write_text(_licence_text(), encoding="utf-8")
    return target


def build(force: bool = False, *, log=None) -> tuple[Path, bool]:
    """Build the font at :func:`font_path` unless a valid build is already there.

    Args:
        force: rebuild even if a valid build exists.
        log: optional ``callable(str)`` for progress messages.

    Returns:
        ``(path, built)`` where ``built`` is False if the existing file was kept.
        The OFL licence text is (re)written next to the font either way.
    """
    path = font_path()
    with _build_lock:
        if not force and is_valid_font(path):
            built = False
        else:
            if log:
                log(f"building {path} from {SOURCE_PACKAGE} ({SOURCE_FILE}) ...")
            t0 = time.perf_counter()
            build_font(path)
            if not is_valid_font(path):
                raise RuntimeError(f"font build produced an invalid file: {path}")
            if log:
                log(f"built {path}: {path.stat().st_size:,} bytes in {time.perf_counter() - t0:.1f} s")
            built = True
            _cmap.cache_clear()
        _write_licence(path)
    return path, built


_ensured: dict[tuple[str | None, str], Path] = {}


def ensure_font() -> Path:
    """Return :func:`font_path`, building the font first if it is missing or stale.

    The first call in a process (per ``$LABELS_FONT_PATH`` / working directory) validates
    the file (a few ms) and remembers the answer; a missing file costs one build
    (~7 s). So tests and a fresh checkout work even if the set-up step was skipped.

    Raises:
        FileNotFoundError: the font is missing and the source package is not installed.
        OSError: the font is missing and its folder is not writable.
        RuntimeError: the build produced an invalid file.
    """
    env = os.environ.get(ENV_VAR)
    key = env or ""
    path = _ensured.get(key)
    if path is not None:
        return path
    path = font_path()
    if not is_valid_font(path):
        build(force=True)
    _ensured[key] = path
    return path


# --------------------------------------------------------------------------- use


def register_fonts() -> str:
    """Register the embedded Chinese font with reportlab; return its font name.

    Idempotent and thread-safe: the font is registered once per process (also as
    a font family, so platypus ``<b>``/``<i>`` map to the same regular face), from the
    file :func:`ensure_font` gives at that first call; later changes of
    ``$LABELS_FONT_PATH`` or of the working directory do not re-register, and
    :func:`missing_glyphs` keeps checking against that same file. Use the returned name
    with ``canvas.setFont(name, size)`` or ``ParagraphStyle(fontName=name)``. There is no
    bold face: emphasise with size (faux bold by stroking blurs dense characters at
    203 dpi in poppler).

    Returns:
        ``"NotoSansSC-GB"``.

    Raises:
        RuntimeError: the name ``NotoSansSC-GB`` or our internal face name was already
            registered from a different file (reportlab would silently alias the two).
        FileNotFoundError / RuntimeError: from :func:`ensure_font`.
    """
    global _registered, _registered_path
    if _registered is not None:
        return _registered
    with _register_lock:
        if _registered is not None:
            return _registered
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        path = ensure_font()

        def source(f) -> Path | None:
            name = getattr(getattr(f, "face", None), "filename", None)
            return Path(name).resolve() if isinstance(name, str) else None

        # reportlab offers no lookup that does not raise, hence its private dicts.
        existing = pdfmetrics._fonts.get(FACE_NAME)  # noqa: SLF001
        if existing is not None:
            if source(existing) != path:
                raise RuntimeError(f"reportlab font {FACE_NAME!r} is already registered from {source(existing)}")
        else:
            font = TTFont(FACE_NAME, str(path))
            other = pdfmetrics._dynFaceNames.get(font.face.name)  # noqa: SLF001
            if other is not None and source(other) != path:
                raise RuntimeError(
                    f"reportlab already has a face {font.face.name!r} from {source(other)}; "
                    f"registering {path} would silently alias to it"
                )
            pdfmetrics.registerFont(font)
        pdfmetrics.registerFontFamily(
            FACE_NAME, normal=FACE_NAME, bold=FACE_NAME, italic=FACE_NAME, boldItalic=FACE_NAME
        )
        _registered_path = path
        _registered = FACE_NAME
        return _registered


@functools.lru_cache(maxsize=4)
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that the embedded font cannot draw.

    Args:
        text: any string. Control characters (newline, tab ...) count as missing:
            a label cannot print them.

    Returns:
        Distinct missing characters in order of first appearance; empty if all
        are printable.

    Raises:
        FileNotFoundError / RuntimeError: from :func:`ensure_font`.
    """
    # Once registered, check against the very file reportlab prints with.
    cmap = _cmap(_registered_path or ensure_font())
    seen: dict[str, None] = {}
    for ch in text:
        if ord(ch) not in cmap or (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0):
            seen.setdefault(ch, None)
    return list(seen)


def check_text(text: str) -> str:
    """Return ``text`` unchanged if the font can draw every character.

    Raises:
        MissingGlyphError: listing the characters the font lacks (e.g. a GBK-only
            character such as 堃 outside GB 2312). Nothing should be printed then.
    """
    missing = missing_glyphs(text)
    if missing:
        raise MissingGlyphError(missing, text)
    return text


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m labels.fonts build [--force]`` (see module docstring). Returns an exit code."""
    parser = argparse.ArgumentParser(prog="python -m labels.fonts", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build the embedded font (skipped if a valid one exists)")
    p_build.add_argument("--force", action="store_true", help="rebuild even if a valid font exists")
    sub.add_parser("path", help="print where the font is (or will be) and whether it is valid")
    args = parser.parse_args(argv)

    if args.command == "path":
        path = font_path()
        print(f"{path} ({'valid' if is_valid_font(path) else 'missing or stale'})")
        return 0
    try:
        path, built = build(force=args.force, log=print)
    except (FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not built:
        print(f"font already built and valid: {path} (use --force to rebuild)")
    print(f"licence: {path.with_name('OFL.txt')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
