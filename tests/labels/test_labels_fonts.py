"""The embedded font: built, TrueType, complete for labels, checked before printing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.pens.areaPen import AreaPen
from fontTools.ttLib import TTFont
from reportlab.pdfbase import pdfmetrics

from labels import MissingGlyphError, check_text, font_path, fonts, missing_glyphs, register_fonts


def test_built_font_is_a_valid_truetype_gb2312_subset(built_font):
    assert built_font == font_path()
    assert fonts.is_valid_font(built_font)
    with TTFont(str(built_font)) as f:
        assert "glyf" in f and "CFF " not in f
        assert f["name"].getDebugName(6) == fonts.PS_NAME
        cmap = f.getBestCmap()
    wanted = fonts.subset_codepoints()
    hanzi = [cp for cp in wanted if 0x4E00 <= cp <= 0x9FFF]
    assert len(hanzi) == 6763  # GB 2312 level 1 + level 2 hanzi
    assert all(cp in cmap for cp in hanzi)
    for ch in "℃€№½°×—…（）：、。“”ＡＺ０９":
        assert ord(ch) in cmap, ch
    assert 1_500_000 < built_font.stat().st_size < 3_000_000
    assert (built_font.parent / "OFL.txt").read_text(encoding="utf-8").count("Open Font License") >= 1


def test_converted_outlines_match_the_source(built_font):
    """TrueType (quadratic) outlines stay within 1 % of the CFF (cubic) source area."""
    src = TTFont(str(fonts._source_otf()))
    dst = TTFont(str(built_font))
    s_cmap, d_cmap = src.getBestCmap(), dst.getBestCmap()
    s_set, d_set = src.getGlyphSet(), dst.getGlyphSet()
    for ch in "品名规格批号数量℃€应急物资储备库鬣A8":
        a, b = AreaPen(s_set), AreaPen(d_set)
        s_set[s_cmap[ord(ch)]].draw(a)
        d_set[d_cmap[ord(ch)]].draw(b)
        assert a.value != 0
        # CFF winds counter-clockwise, TrueType clockwise: same magnitude, opposite sign.
        assert b.value == pytest.approx(-a.value, rel=0.01), ch
        assert dst["hmtx"][d_cmap[ord(ch)]][0] == src["hmtx"][s_cmap[ord(ch)]][0]


def test_build_font_small_subset(tmp_path):
    out = fonts.build_font(tmp_path / "sub" / "tiny.ttf", codepoints=[ord(c) for c in "品名A℃"])
    with TTFont(str(out)) as f:
        assert set(f.getBestCmap()) == {ord(c) for c in "品名A℃"}
        assert "glyf" in f and "CFF " not in f
        assert f["glyf"][f.getBestCmap()[ord("品")]].numberOfContours > 0
    assert not list(out.parent.glob("*.tmp"))


def test_is_valid_font_rejects_missing_truncated_and_foreign(tmp_path):
    assert not fonts.is_valid_font(tmp_path / "nope.ttf")
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(font_path().read_bytes()[:50_000])
    assert not fonts.is_valid_font(broken)
    # A TrueType build without our stamp (e.g. an older recipe) is stale.
    tiny = fonts.build_font(tmp_path / "tiny.ttf", codepoints=[ord("A")])
    assert not fonts.is_valid_font(tiny)  # lacks the sentinel characters


def test_font_path_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("LABELS_FONT_PATH", str(tmp_path / "x.ttf"))
    assert font_path() == tmp_path / "x.ttf"
    monkeypatch.delenv("LABELS_FONT_PATH")
    monkeypatch.chdir(tmp_path)  # the working directory does not matter
    project = Path(__file__).resolve().parents[2]
    assert font_path() == project / "instance" / "fonts" / "NotoSansSC-GB.ttf"


def test_cli_build_is_idempotent(built_font):
    env = dict(os.environ, LABELS_FONT_PATH=str(built_font))
    before = built_font.stat().st_mtime_ns
    r = subprocess.run([sys.executable, "-m", "labels.fonts", "build"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "already built and valid" in r.stdout
    assert built_font.stat().st_mtime_ns == before


def test_register_fonts_once(built_font):
    name = register_fonts()
    assert name == "NotoSansSC-GB"
    assert register_fonts() == name
    font = pdfmetrics.getFont(name)
    assert font.face.name == fonts.PS_NAME.encode()
    assert pdfmetrics.stringWidth("品名", name, 10) == pytest.approx(20.0)


def test_missing_glyphs_and_check_text():
    assert missing_glyphs("医用外科口罩 睡袋(-5℃) €12 №3") == []
    assert missing_glyphs("堃牌𠀀堃\n") == ["堃", "𠀀", "\n"]
    assert check_text("海尚源深储备库 / A-01") == "海尚源深储备库 / A-01"
    with pytest.raises(MissingGlyphError) as exc:
        check_text("喆牌手电筒")
    assert exc.value.chars == ["喆"]
    assert exc.value.text == "喆牌手电筒"
    assert isinstance(exc.value, ValueError)
    assert "U+5586" in str(exc.value)


def test_register_fonts_refuses_to_alias_another_file(tmp_path, built_font):
    """A different file with our PostScript name registered first would make reportlab
    print with it silently (docs/sources.md §9.3, _dynFaceNames); register_fonts must refuse.
    Run in a fresh interpreter: registration is process-wide."""
    tiny = fonts.build_font(tmp_path / "other.ttf", codepoints=[ord(c) for c in "AB"])
    script = (
        "from reportlab.pdfbase import pdfmetrics\n"
        "from reportlab.pdfbase.ttfonts import TTFont\n"
        f"pdfmetrics.registerFont(TTFont('Other', {str(tiny)!r}))\n"
        "from labels.fonts import register_fonts\n"
        "try:\n"
        "    register_fonts()\n"
        "except RuntimeError as e:\n"
        "    print('refused:', e)\n"
    )
    env = dict(os.environ, LABELS_FONT_PATH=str(built_font))
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                       timeout=120, cwd=str(fonts.Path(__file__).resolve().parents[2]))
    assert r.returncode == 0, r.stderr
    assert "refused:" in r.stdout and "alias" in r.stdout
