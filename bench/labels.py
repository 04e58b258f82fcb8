"""Benchmark: 1,000 batch labels per layout, against a bare qrcode + reportlab loop.

Prints a table of seconds and PDF bytes for ``labels.render`` and, timed in the same
run, for the simplest possible generator: the ``qrcode`` matrix drawn as one canvas
rectangle per dark module, one label per cell (or page), no text and no font. The
ratio shows what the real labels cost on top of bare QR drawing. QR encoding alone
(1,000 payloads) is timed too, since it dominates both.

Usage (from the repository root)::

    python bench/labels.py [--n 1000] [--repeat 3] [--layout a4-3x8 ...] [--verify] [--out bench/out]

``--verify`` also rasterises every PDF at 203 dpi, 1-bit, and decodes every label with
zxing-cpp (pypdfium2 and zxing-cpp come from requirements-dev.txt). It prints figures;
it is not a test.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import importlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

# This file is bench/labels.py: drop its folder from the path so that `import labels`
# finds the package at the repository root, not this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import qrcode  # noqa: E402
import qrcode.constants  # noqa: E402
from reportlab.pdfgen import canvas as rl_canvas  # noqa: E402

from labels import LAYOUTS, BatchLabel, Layout, ensure_font, get_layout, register_fonts, render  # noqa: E402

render_mod = importlib.import_module("labels.render")

MM = 72 / 25.4
URL = "HTTPS://YJWZ.LUJIAZUI.EXAMPLE/S/"
NAMES = ["医用外科口罩", "折叠床", "棉帐篷", "手电筒", "矿泉水", "压缩饼干", "救生衣", "灭火毯",
         "睡袋(-5℃)", "应急逃生绳", "碘伏棉棒", "纱布绷带", "毛巾被", "雨衣", "防潮垫", "呼吸面罩",
         "应急灯", "救生哨", "方便食品", "体温计", "急救毯", "多功能组合刀具", "蚊帐", "脸盆", "折叠式救灾单帐篷（12平方米）"]
PLACES = ["海尚源深储备库 / A-01", "恒大华府储备库 / B-03", "民防应急物资仓库 / 2号架", "梅园一村居民区储备点"]


def sample(n: int) -> list[BatchLabel]:
    out = []
    for i in range(n):
        code = base64.b32encode(hashlib.sha256(f"bench-{i}".encode()).digest()).decode()[:12]
        out.append(BatchLabel(
            item_name=NAMES[i % len(NAMES)], spec=f"{10 + i % 90}×{20 + i % 70}cm 50只/盒",
            lot_number=f"L2024{i:05d}", quantity=str(i % 500 + 1), unit="箱",
            produced_on=dt.date(2024, 1 + i % 12, 1 + i % 28), expires_on=dt.date(2027, 1 + i % 12, 1 + i % 28),
            received_on=dt.date(2024, 6, 1 + i % 28), location=PLACES[i % len(PLACES)],
            code=code, payload=URL + code,
        ))
    return out


def bare(payloads: list[str], layout: Layout) -> bytes:
    """The simplest generator: qrcode matrix -> one canvas.rect per dark module."""
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=(layout.page_width * MM, layout.page_height * MM))
    side = min(layout.label_width, layout.label_height) - 2 * layout.padding
    for i, payload in enumerate(payloads):
        page, pos = divmod(i, layout.per_page)
        if pos == 0 and i:
            c.showPage()
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=2)
        qr.add_data(payload)
        qr.make(fit=True)
        m = qr.get_matrix()
        mod = side / len(m)
        x0, y0, _, _ = layout.cell(pos)
        x0 += layout.padding
        y0 += layout.padding
        for r, row in enumerate(m):
            for col, dark in enumerate(row):
                if dark:
                    c.rect((x0 + col * mod) * MM, (layout.page_height - y0 - (r + 1) * mod) * MM,
                           mod * MM, mod * MM, stroke=0, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def encode_only(payloads: list[str]) -> None:
    for p in payloads:
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0)
        qr.add_data(p)
        qr.make(fit=True)


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        render_mod._qr.cache_clear()  # every run encodes every payload afresh
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def verify(pdf: bytes, labels: list[BatchLabel], layout: Layout) -> str:
    import pypdfium2 as pdfium
    import zxingcpp

    doc = pdfium.PdfDocument(pdf)
    expected = [lbl.payload for lbl in labels]
    got: list[str] = []
    t = time.perf_counter()
    for page in doc:
        img = page.render(scale=203 / 72, grayscale=True, no_smoothtext=True, no_smoothpath=True,
                          no_smoothimage=True).to_pil().convert("L").point(lambda v: 255 if v >= 128 else 0)
        found = []
        for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode):
            if r.text.startswith(URL):  # zxing-cpp 3.x may add a bogus short code (zxing-cpp issue #1162)
                p = r.position
                cx = (p.top_left.x + p.bottom_right.x) / 2 / 203 * 25.4
                cy = (p.top_left.y + p.bottom_right.y) / 2 / 203 * 25.4
                pos = min(range(layout.per_page), key=lambda k: (
                    (layout.cell(k)[0] + layout.cell(k)[2] / 2 - cx) ** 2
                    + (layout.cell(k)[1] + layout.cell(k)[3] / 2 - cy) ** 2))
                found.append((pos, r.text))
        got.extend(text for _, text in sorted(found))
        page.close()
    doc.close()
    ok = sum(a == b for a, b in zip(got, expected))
    return f"{ok}/{len(expected)} decoded in order ({time.perf_counter() - t:.1f} s)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is shown")
    ap.add_argument("--layout", action="append", choices=list(LAYOUTS))
    ap.add_argument("--verify", action="store_true", help="decode every label of every PDF")
    ap.add_argument("--out", type=Path, help="write the PDFs into this folder")
    args = ap.parse_args(argv)

    ensure_font()
    register_fonts()
    labels = sample(args.n)
    payloads = [lbl.payload for lbl in labels]
    render([labels[0]], get_layout("a4-3x8"))  # warm-up: font parsing, imports

    enc, _ = timed(lambda: encode_only(payloads), args.repeat)
    print(f"{args.n} labels, median of {args.repeat}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print(f"QR encoding alone (qrcode, level Q): {enc:.2f} s\n")
    head = f"{'layout':<16}{'pages':>6}{'labels s':>10}{'labels bytes':>14}{'bare s':>9}{'bare bytes':>13}{'time x':>8}{'size x':>8}"
    print(head)
    print("-" * len(head))
    for name in args.layout or list(LAYOUTS):
        layout = get_layout(name)
        t_l, pdf = timed(lambda: render(labels, layout), args.repeat)
        t_b, raw = timed(lambda: bare(payloads, layout), args.repeat)
        pages = -(-args.n // layout.per_page)
        print(f"{name:<16}{pages:>6}{t_l:>10.2f}{len(pdf):>14,}{t_b:>9.2f}{len(raw):>13,}"
              f"{t_l / t_b:>8.2f}{len(pdf) / len(raw):>8.2f}")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"labels-{name}.pdf").write_bytes(pdf)
            (args.out / f"bare-{name}.pdf").write_bytes(raw)
        if args.verify:
            print(f"{'':<16}verify labels: {verify(pdf, labels, layout)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
