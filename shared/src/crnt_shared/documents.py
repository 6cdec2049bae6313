"""Documents the services generate for councils and funders: one neutral description (titles,
tables, charts) written as an OpenDocument spreadsheet (odfpy), an Excel workbook (openpyxl) or
a PDF with its charts (reportlab).

French typography: amounts read ``1 234,56 €`` with no-break spaces (U+00A0) between the groups
of thousands and before the euro sign, so that an amount never breaks across lines; the
spreadsheets keep them as numbers (two decimals, euro format) so that they can be summed.
Money is integer cents here as everywhere; it becomes a decimal number only in the cell.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from crnt_shared import money
from crnt_shared.money import NBSP
from crnt_shared.money import Money as Money

#: A cell holding an amount (:class:`crnt_shared.money.Money`, in cents).
Cell = str | int | Money | None


def euros(cents: int) -> str:
    """``123456`` → ``"1 234,56 €"`` with no-break spaces (U+00A0) between thousands: the
    documents' fonts have no narrow one; ``-5`` → ``"−0,05 €"``."""
    return money.euros(cents, thousands=NBSP)


def percent(numerator: int, denominator: int) -> str:
    """``1, 3`` → ``"33,3 %"`` (one decimal, no-break space before the sign)."""
    if denominator == 0:
        return "—"
    tenths = (2000 * numerator + denominator) // (2 * denominator)
    return f"{tenths // 10},{tenths % 10}{NBSP}%"


def text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return euros(cell.cents)
    if isinstance(cell, int):
        return f"{cell:,}".replace(",", NBSP)
    return str(cell)


@dataclass(frozen=True)
class Table:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    #: A last row in bold (totals).
    total: Sequence[Cell] | None = None


@dataclass(frozen=True)
class Chart:
    """Bars by label, one series or more (estimated, actual…): amounts in cents when the unit
    is €, plain counts otherwise."""

    title: str
    labels: Sequence[str]
    series: Sequence[tuple[str, Sequence[int]]]
    unit: str = "€"


@dataclass(frozen=True)
class Document:
    title: str
    #: Lines under the title: the version, its date and cause…
    facts: Sequence[str]
    tables: Sequence[Table]
    charts: Sequence[Chart] = field(default_factory=tuple)
    notes: Sequence[str] = field(default_factory=tuple)


MEDIA = {
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def render(document: Document, fmt: str) -> bytes:
    if fmt == "ods":
        return to_ods(document)
    if fmt == "xlsx":
        return to_xlsx(document)
    if fmt == "pdf":
        return to_pdf(document)
    raise ValueError(f"unknown document format {fmt!r}: ods, xlsx or pdf")


def _sheet_name(title: str, taken: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\'")[:28].strip() or "Feuille"
    candidate, index = name, 2
    while candidate in taken:
        candidate, index = f"{name[:25]} {index}", index + 1
    taken.add(candidate)
    return candidate


# OpenDocument


def to_ods(document: Document) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TextProperties
    from odf.table import Table as OdfTable
    from odf.table import TableCell, TableRow
    from odf.text import P

    ods = OpenDocumentSpreadsheet()
    bold = Style(name="bold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    bold.addElement(TableCellProperties(backgroundcolor="#eeeeee"))
    ods.automaticstyles.addElement(bold)

    def cell(value: Cell, strong: bool = False) -> TableCell:
        style = {"stylename": bold} if strong else {}
        if isinstance(value, Money):
            amount = str(Decimal(value.cents) / 100)
            made = TableCell(valuetype="currency", currency="EUR", value=amount, **style)
        elif isinstance(value, int):
            made = TableCell(valuetype="float", value=str(value), **style)
        else:
            made = TableCell(valuetype="string", **style)
        made.addElement(P(text=text(value)))
        return made

    taken: set[str] = set()
    summary = OdfTable(name=_sheet_name("Résumé", taken))
    for index, line in enumerate([document.title, *document.facts, *document.notes]):
        row = TableRow()
        row.addElement(cell(line, strong=index == 0))
        summary.addElement(row)
    ods.spreadsheet.addElement(summary)
    for table in document.tables:
        sheet = OdfTable(name=_sheet_name(table.title, taken))
        header = TableRow()
        for title in table.header:
            header.addElement(cell(title, strong=True))
        sheet.addElement(header)
        for values in table.rows:
            row = TableRow()
            for value in values:
                row.addElement(cell(value))
            sheet.addElement(row)
        if table.total is not None:
            row = TableRow()
            for value in table.total:
                row.addElement(cell(value, strong=True))
            sheet.addElement(row)
        ods.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    ods.write(buffer)
    return buffer.getvalue()


# Excel


def to_xlsx(document: Document) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    strong, fill = Font(bold=True), PatternFill("solid", fgColor="EEEEEE")
    money_format = '#,##0.00\\ "€"'
    taken: set[str] = set()
    summary = workbook.active
    assert summary is not None
    summary.title = _sheet_name("Résumé", taken)
    for index, line in enumerate([document.title, *document.facts, *document.notes], start=1):
        summary.cell(row=index, column=1, value=line).font = Font(bold=index == 1)
    summary.column_dimensions["A"].width = 100

    for table in document.tables:
        sheet = workbook.create_sheet(_sheet_name(table.title, taken))
        rows: list[tuple[Sequence[Cell], bool]] = [(table.header, True)]
        rows += [(values, False) for values in table.rows]
        if table.total is not None:
            rows.append((table.total, True))
        for row_index, (values, bold) in enumerate(rows, start=1):
            for column, value in enumerate(values, start=1):
                if isinstance(value, Money):
                    target = sheet.cell(row_index, column, Decimal(value.cents) / 100)
                    target.number_format = money_format
                else:
                    target = sheet.cell(row_index, column, value)
                if bold:
                    target.font, target.fill = strong, fill
        for column in range(1, len(table.header) + 1):
            letter = sheet.cell(1, column).column_letter
            sheet.column_dimensions[letter].width = 40 if column == 1 else 18
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# PDF


def _fonts() -> tuple[str, str]:
    """Vera (shipped with reportlab) has the French letters, « », € and the no-break space."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "CrntSans" not in pdfmetrics.getRegisteredFontNames():
        folder = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont("CrntSans", str(folder / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("CrntSans-Bold", str(folder / "VeraBd.ttf")))
    return "CrntSans", "CrntSans-Bold"


def _chart(chart: Chart, regular: str, width: float) -> object:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    palette = [colors.HexColor("#000091"), colors.HexColor("#e1000f"), colors.HexColor("#6a6af4")]
    drawing = Drawing(width, 230)
    drawing.add(String(0, 215, chart.title, fontName=regular, fontSize=11))
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 50, 50, int(width - 170), 150
    divisor = 100 if chart.unit == "€" else 1
    bars.data = [[value / divisor for value in values] for _, values in chart.series]
    bars.categoryAxis.categoryNames = [
        label if len(label) <= 18 else f"{label[:17]}…" for label in chart.labels
    ]
    bars.categoryAxis.labels.fontName = regular
    bars.categoryAxis.labels.fontSize = 7
    bars.categoryAxis.labels.angle = 20
    bars.categoryAxis.labels.boxAnchor = "ne"
    bars.valueAxis.labels.fontName = regular
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.valueMin = 0
    bars.valueAxis.labelTextFormat = lambda value: f"{int(value):,}".replace(",", NBSP)
    for index in range(len(chart.series)):
        bars.bars[index].fillColor = palette[index % len(palette)]
    drawing.add(bars)
    legend = Legend()
    legend.x, legend.y = int(width - 110), 180
    legend.fontName, legend.fontSize = regular, 8
    legend.colorNamePairs = [
        (palette[index % len(palette)], name) for index, (name, _) in enumerate(chart.series)
    ]
    drawing.add(legend)
    return drawing


def _widths(table: Table, width: float, regular: str, bold: str) -> list[float]:
    """Each column at least as wide as its longest word (no word is cut), the room
    left shared in proportion to what the contents would take (the first column, which names
    things, may take more and wraps)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    rows = [*table.rows, *([table.total] if table.total is not None else [])]
    padding = 14.0  # the cell padding of reportlab tables, 6 pt each side, and a margin
    least, wanted = [], []
    for index, title in enumerate(table.header):
        cells = [text(row[index]) for row in rows]
        words = [stringWidth(w, bold, 8) for w in title.split()]
        words += [stringWidth(w, regular, 8) for cell in cells for w in cell.split(" ")]
        word = max(words, default=20.0) + padding
        content = max((stringWidth(cell, regular, 8) for cell in cells), default=0.0)
        cap = 170.0 if index == 0 else 90.0
        least.append(word)
        wanted.append(max(word, min(content, cap) + padding))
    if sum(wanted) <= width:
        return [w * width / sum(wanted) for w in wanted]
    room = width - sum(least)
    if room <= 0:
        return [w * width / sum(least) for w in least]
    extra = sum(w - m for w, m in zip(wanted, least, strict=True))
    return [m + room * (w - m) / extra for w, m in zip(wanted, least, strict=True)]


def to_pdf(document: Document) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )
    from reportlab.platypus import Table as PdfTable

    regular, bold = _fonts()
    title_style = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=8)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=12, leading=15, spaceBefore=10)
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    cell_style = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)
    buffer = io.BytesIO()
    # Wide tables (the EPCIs' eight columns) need the width of a landscape page.
    size = landscape(A4) if any(len(t.header) > 6 for t in document.tables) else A4
    page = SimpleDocTemplate(
        buffer,
        pagesize=size,
        title=document.title,
        author="crnt",
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
    )
    width = size[0] - 3.6 * cm
    story: list[Any] = [Paragraph(escape(document.title), title_style)]
    story += [Paragraph(escape(line), body) for line in document.facts]
    for table in document.tables:
        rows: list[list[object]] = [[Paragraph(escape(h), cell_style) for h in table.header]]
        # Amounts and numbers stay on one line (a plain string never wraps); words may wrap.
        rows += [
            [
                Paragraph(escape(v), cell_style) if isinstance(v, str) and " " in v else text(v)
                for v in values
            ]
            for values in table.rows
        ]
        if table.total is not None:
            rows.append([text(v) for v in table.total])
        made = PdfTable(rows, colWidths=_widths(table, width, regular, bold), repeatRows=1)
        style: list[Any] = [
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#929292")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ]
        if table.total is not None:
            style += [
                ("FONTNAME", (0, -1), (-1, -1), bold),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#eeeeee")),
            ]
        made.setStyle(TableStyle(style))
        story.append(KeepTogether([Paragraph(escape(table.title), heading), Spacer(1, 4), made]))
    # A chart with nothing to draw (a year with no line yet) is left out: its table says so.
    for chart in document.charts:
        if chart.labels and any(values for _, values in chart.series):
            story += [Spacer(1, 10), _chart(chart, regular, width)]
    if document.notes:
        story.append(Spacer(1, 8))
        story += [Paragraph(escape(note), body) for note in document.notes]
    page.build(story)
    return buffer.getvalue()
