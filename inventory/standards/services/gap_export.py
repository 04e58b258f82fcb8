"""Gap reports as files: XLSX (written by :mod:`inventory.core.tabular`, the one safe writer) and
PDF (reportlab with the embedded Chinese font).

Both take a built :class:`~inventory.standards.services.gaps.GapReport` and a title, and return
bytes.  Captions are the active locale's (Simplified Chinese by default; XLSX headers are
bilingual, like the journal export).  The PDF embeds the Noto Sans SC subset through
:func:`inventory.core.pdf.font`; every string goes through :func:`inventory.core.pdf.check`
first, so a character the font lacks raises :class:`~inventory.core.pdf.MissingGlyphError`
instead of printing a blank.
"""
from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from flask_babel import gettext as _

from inventory.core import tabular as spreadsheet
from inventory.core.pdf import check, font
from inventory.core.quantities import format_quantity
from inventory.standards.models import ListAuthority, StandardBasis
from inventory.standards.services.gaps import GapLine, GapReport, LocationGap
from inventory.stock.models import LocationKind

KIND_CAPTIONS = {
    LocationKind.DEPOT: "综合应急物资储备库 Depot",
    LocationKind.CIVIL_DEFENCE: "民防应急物资仓库 Civil-defence warehouse",
    LocationKind.RESIDENTIAL: "居民区物资储备点 Residential storage point",
    LocationKind.AGREEMENT: "协议储备 Agreement reserve",
}
BASIS_CAPTIONS = {
    StandardBasis.ABSOLUTE: "固定数量 absolute",
    StandardBasis.PER_1000_RESIDENTS: "每千名居民 per 1,000 residents",
    StandardBasis.PER_HOUSEHOLD: "每户 per household",
}
STATUS_CAPTIONS = {"met": "达标 met", "short": "不足 short", "restock": "需补货 restock",
                   "unknown": "无法计算 unknown", "none": "不需配备 none"}
AUTHORITY_CAPTIONS = {
    ListAuthority.OFFICIAL: "官方清单 official",
    ListAuthority.LOCAL: "本级标准 local",
    ListAuthority.ILLUSTRATIVE: "示例清单：由街道设定，非官方标准 illustrative, set by the subdistrict, not official",
}


def _num(value: Decimal | None):
    return None if value is None else value


def _name(obj, english: bool) -> str:
    return obj.display_name("en" if english else "zh") if obj is not None else ""


# --------------------------------------------------------------------------- XLSX

LINE_HEADERS = ["库点编码 Location code", "库点 Location", "类型 Kind", "物资编码 Item code", "品名 Item",
                "规格 Spec", "单位 Unit", "依据 Basis", "标准数 Rate", "应配 Required", "可用 Usable",
                "其中临期 Near expiry", "过期（不计）Expired (not counted)",
                "缺口 Shortfall", "符合率% Conformity %", "补货阈值 Restock threshold", "状态 Status",
                "来源 From", "备注 Note"]


def _line_row(gap: LocationGap, line: GapLine, english: bool) -> list:
    return [gap.location.code, _name(gap.location, english), KIND_CAPTIONS[gap.location.kind], line.item.code,
            _name(line.item, english), line.item.spec, line.item.unit, BASIS_CAPTIONS[line.basis], line.rate,
            _num(line.required), line.usable, line.expiring, line.expired,
            _num(line.shortfall), _num(line.conformity),
            _num(line.threshold), STATUS_CAPTIONS[line.status],
            "单独调整 override" if line.origin == "override" else "清单 list", line.note]


def gap_xlsx(report: GapReport, title: str, *, english: bool = False) -> bytes:
    """The report as a workbook: 汇总 Summary (lists, warnings, kinds, locations worst first),
    明细 Lines (every line), 物资 Items (per-item roll-up) and, for the subdistrict, 协议储备
    Agreement (agreement reserves' own lines).  Quantities are numbers in the item's unit."""
    wb = spreadsheet.XlsxBook()
    ws = wb.sheet("汇总 Summary")
    ws.append([title])
    ws.append(["截至 As of", report.as_of.isoformat(), "生成 Generated", report.today.isoformat()])
    if report.category is not None:
        ws.append(["类别 Category", f"{report.category.code} {_name(report.category, english)}"])
    ws.append([])
    ws.append(["清单 List", "版本 Version", "生效 Effective", "性质 Authority", "来源 Source", "出处说明 Provenance"])
    for lst, version in report.lists:
        ws.append([_name(lst, english), version.version, version.effective_on.isoformat(),
                   AUTHORITY_CAPTIONS[lst.authority], version.source, version.provenance])
    if report.warnings:
        ws.append([])
        ws.append(["提示 Warnings"])
        for w in report.warnings:
            ws.append([str(w)])
    ws.append([])
    ws.append(["符合率% Conformity % (实物储备 physical stock)", _num(report.total.conformity),
               "应配行 Required lines", report.total.lines, "达标 Met", report.total.met,
               "需补货 Restock", report.total.restock, "无法计算 Unknown", report.total.unknown])
    if len(report.kinds) > 1:
        ws.append([])
        ws.append(["类型 Kind", "符合率% Conformity %", "应配行 Lines", "达标 Met", "不足 Short",
                   "需补货 Restock", "无法计算 Unknown"])
        for kind, tally in report.kinds.items():
            ws.append([KIND_CAPTIONS[kind], _num(tally.conformity), tally.lines, tally.met, tally.short,
                       tally.restock, tally.unknown])
    ws.append([])
    ws.append(["库点编码 Location code", "库点 Location", "类型 Kind", "清单 List", "符合率% Conformity %",
               "应配行 Lines", "达标 Met", "不足 Short", "需补货 Restock", "无法计算 Unknown"])
    for gap in report.worst_first():
        ws.append([gap.location.code, _name(gap.location, english), KIND_CAPTIONS[gap.location.kind],
                   f"{_name(gap.standard_list, english)} v{gap.version.version}" if gap.version else "",
                   _num(gap.conformity), gap.tally.lines, gap.tally.met, gap.tally.short, gap.tally.restock,
                   gap.tally.unknown])

    lines = wb.sheet("明细 Lines")
    lines.append(LINE_HEADERS)
    for gap in report.locations:
        for line in gap.lines:
            lines.append(_line_row(gap, line, english))

    items = wb.sheet("物资 Items")
    items.append(["物资编码 Item code", "品名 Item", "单位 Unit", "应配库点数 Locations requiring",
                  "应配合计 Required", "可用合计 Usable", "其中临期 Near expiry", "缺口合计 Shortfall",
                  "不足库点数 Locations short", "协议储备 Held under agreement"])
    for roll in report.items:
        items.append([roll.item.code, _name(roll.item, english), roll.item.unit, roll.locations, roll.required,
                      roll.usable, roll.expiring, roll.shortfall, roll.locations_short,
                      roll.agreement if report.agreement_shown else None])

    if report.agreement_locations:
        agr = wb.sheet("协议储备 Agreement")
        agr.append(LINE_HEADERS)
        for gap in report.agreement_locations:
            for line in gap.lines:
                agr.append(_line_row(gap, line, english))
            if not gap.lines:
                agr.append([gap.location.code, _name(gap.location, english), KIND_CAPTIONS[gap.location.kind],
                            "", "（无协议清单）no contract list"])
    return wb.to_bytes()


# --------------------------------------------------------------------------- PDF


def _qty(value: Decimal | None) -> str:
    return "—" if value is None else format_quantity(value)


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def gap_pdf(report: GapReport, title: str, *, english: bool = False) -> bytes:
    """The report as an A4 landscape PDF with the Chinese font embedded.

    Raises inventory.core.pdf.MissingGlyphError when a name or note has a character the embedded
    font lacks (nothing is returned then)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    face = font()
    styles = {
        "title": ParagraphStyle("title", fontName=face, fontSize=15, leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=face, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=face, fontSize=8.5, leading=11),
        "cell": ParagraphStyle("cell", fontName=face, fontSize=7.5, leading=9.5),
        "warn": ParagraphStyle("warn", fontName=face, fontSize=8.5, leading=11, textColor=colors.HexColor("#8a4b00")),
    }

    def text(value) -> str:
        plain = " ".join(str(value if value is not None else "").split())
        return check(plain)

    def para(value, style="body") -> Paragraph:
        return Paragraph(escape(text(value)), styles[style])

    def table(header: list, rows: list[list], widths: list[float], *, numeric_from: int) -> Table:
        data = [[para(h, "cell") for h in header]]
        for row in rows:
            data.append([para(c, "cell") for c in row])
        t = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), face),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]))
        return t

    kind_label = {LocationKind.DEPOT: _("Depot"), LocationKind.CIVIL_DEFENCE: _("Civil-defence warehouse"),
                  LocationKind.RESIDENTIAL: _("Residential storage point"),
                  LocationKind.AGREEMENT: _("Agreement reserve")}
    basis_label = {StandardBasis.ABSOLUTE: _("absolute"), StandardBasis.PER_1000_RESIDENTS: _("per 1,000 residents"),
                   StandardBasis.PER_HOUSEHOLD: _("per household")}
    status_label = {"met": _("Met"), "short": _("Short"), "restock": _("Restock"), "unknown": _("Unknown"),
                    "none": _("Not required")}
    authority_label = {ListAuthority.OFFICIAL: _("Official list"), ListAuthority.LOCAL: _("Local standard"),
                       ListAuthority.ILLUSTRATIVE: _("Illustrative list set by the subdistrict, not an official standard")}

    story = [para(title, "title"),
             para(_("As of %(date)s · generated %(today)s", date=report.as_of.isoformat(),
                    today=report.today.isoformat()))]
    if report.category is not None:
        category = report.category.code + " " + _name(report.category, english)
        story.append(para(_("Category: %(name)s", name=category)))
    story.append(para(_("Conformity %(pct)s (physical stock only) · %(met)s of %(lines)s required lines met · "
                        "%(restock)s below the restock threshold · %(unknown)s cannot be computed",
                        pct=_pct(report.total.conformity), met=report.total.met, lines=report.total.lines,
                        restock=report.total.restock, unknown=report.total.unknown)))
    for lst, version in report.lists:
        story.append(para(_("List: %(name)s, version %(v)s, effective %(date)s — %(authority)s. Source: %(source)s",
                            name=_name(lst, english), v=version.version, date=version.effective_on.isoformat(),
                            authority=authority_label[lst.authority], source=version.source or "—")))
    for w in report.warnings:
        story.append(para(w, "warn"))

    agreement = report.agreement_shown
    if len(report.locations) > 1:
        if len(report.kinds) > 1:
            story.append(para(_("By kind of location"), "h2"))
            story.append(table(
                [_("Kind"), _("Conformity"), _("Required lines"), _("Met"), _("Short"), _("Restock"), _("Unknown")],
                [[kind_label[k], _pct(t.conformity), t.lines, t.met, t.short, t.restock, t.unknown]
                 for k, t in report.kinds.items()], [70, 25, 25, 20, 20, 20, 20], numeric_from=1))
        story.append(para(_("Locations, worst conformity first"), "h2"))
        story.append(table(
            [_("Code"), _("Location"), _("Kind"), _("Conformity"), _("Required lines"), _("Met"), _("Short"),
             _("Restock"), _("Unknown")],
            [[g.location.code, _name(g.location, english), kind_label[g.location.kind], _pct(g.conformity),
              g.tally.lines, g.tally.met, g.tally.short, g.tally.restock, g.tally.unknown]
             for g in report.worst_first()], [16, 80, 45, 22, 22, 16, 16, 18, 18], numeric_from=3))
        story.append(para(_("Items over all locations"), "h2"))
        header = [_("Item"), _("Unit"), _("Locations"), _("Required"), _("Usable"), _("Near expiry"),
                  _("Shortfall"), _("Locations short")]
        widths = [70, 18, 20, 25, 25, 25, 25, 22]
        if agreement:
            header.append(_("Held under agreement"))
            widths.append(28)
        rows = []
        for r in report.items:
            row = [f"{r.item.code} {_name(r.item, english)}", r.item.unit, r.locations, _qty(r.required),
                   _qty(r.usable), _qty(r.expiring), _qty(r.shortfall), r.locations_short]
            if agreement:
                row.append(_qty(r.agreement))
            rows.append(row)
        story.append(table(header, rows, widths, numeric_from=2))

    def line_table(gap: LocationGap, with_agreement: bool) -> Table:
        header = [_("Item"), _("Spec"), _("Unit"), _("Basis"), _("Required"), _("Usable"), _("Near expiry"),
                  _("Expired (not counted)")]
        widths = [48, 30, 10, 30, 18, 18, 18, 20]
        if with_agreement:
            header.append(_("Held under agreement"))
            widths.append(20)
        header += [_("Shortfall"), _("Conformity"), _("Status")]
        widths += [18, 18, 20]
        rows = []
        for line in gap.lines:
            basis = basis_label[line.basis]
            if line.basis != StandardBasis.ABSOLUTE:
                basis = f"{format_quantity(line.rate)} {basis}"
            name = f"{line.item.code} {_name(line.item, english)}"
            if line.origin == "override":
                name += " " + _("(override)")
            row = [name, line.item.spec, line.item.unit, basis, _qty(line.required), _qty(line.usable),
                   _qty(line.expiring), _qty(line.expired)]
            if with_agreement:
                row.append(_qty(line.agreement))
            row += [_qty(line.shortfall), _pct(line.conformity), status_label[line.status]]
            rows.append(row)
        return table(header, rows, widths, numeric_from=4)

    for gap in report.locations:
        heading = f"{gap.location.code} {_name(gap.location, english)} · {kind_label[gap.location.kind]} · " \
                  + _("conformity %(pct)s", pct=_pct(gap.conformity))
        story.append(para(heading, "h2"))
        if gap.version is not None:
            story.append(para(_("List: %(name)s, version %(v)s", name=_name(gap.standard_list, english),
                                v=gap.version.version)
                              + (" · " + _("%(n)s line(s) overridden here", n=gap.overrides) if gap.overrides else "")))
        if gap.lines:
            story.append(line_table(gap, False))  # the agreement pool is shown once per item above
        else:
            story.append(para(_("No required lines.")))
    if report.agreement_locations:
        story.append(para(_("Agreement reserves (held by enterprises under contract; not counted as physical stock)"),
                          "h2"))
        for gap in report.agreement_locations:
            story.append(para(f"{gap.location.code} {_name(gap.location, english)} · "
                              + (gap.location.contract_party or "") + " · "
                              + _("conformity %(pct)s", pct=_pct(gap.conformity))))
            if gap.lines:
                story.append(line_table(gap, False))
    story.append(Spacer(1, 4 * mm))

    out = io.BytesIO()
    page = landscape(A4)

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(face, 7.5)
        canvas.drawRightString(page[0] - 12 * mm, 7 * mm, text(f"{title} · {doc.page}"))
        canvas.restoreState()

    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=text(title), author="emergency supplies inventory")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
