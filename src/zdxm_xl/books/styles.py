"""How our workbooks look: number formats, header styles and page setup, shared by every
sheet zdxm writes (the master, forms, annotated copies, plan tables, 通报, 考核)."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from ..core.registry import Kind

__all__ = ["NUMBER_FORMATS", "HEADER_FILL", "HEADER_FONT", "THIN", "BORDER", "print_ready",
           "write_text", "text_units", "wrapped_lines", "header_lines", "header_width"]

NUMBER_FORMATS = {
    Kind.MONEY: "#,##0.00",
    Kind.INT: "0",
    Kind.DATE: "yyyy-mm-dd",
    Kind.MONTH: 'yyyy"年"m"月"',
    Kind.DATETIME: "yyyy-mm-dd hh:mm:ss",
    Kind.PERIOD: "@",
    Kind.TEXT: "@",
    Kind.UNIT_LIST: "@",
    Kind.CHOICE: "@",
    Kind.YEARS: "@",
}
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(name="等线", bold=True, color="FFFFFF")
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def print_ready(ws: Worksheet, *, paper: int, title_rows: str | None, area: str | None = None,
                landscape: bool = True, footer: tuple[str, str, str] | None = None) -> None:
    """Page setup shared by every printable sheet we write: fit to one page wide, header
    rows repeated, centred, narrow margins, "第 N 页，共 M 页" in the footer (or the
    footer's left, centre and right parts given)."""
    ws.page_setup.paperSize = paper
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    ws.page_margins.footer = 0.3
    left, center, right = footer or ("", "第 &P 页，共 &N 页", "")
    for part, text in ((ws.oddFooter.left, left), (ws.oddFooter.center, center),
                       (ws.oddFooter.right, right)):
        if text:
            part.text = text
            part.size = 9
    if area is not None:
        ws.print_area = area


# A character of a font of ``size`` points is about ``size`` × this many Excel width units
# (the width of "0" in Calibri 11): CJK characters a full em, Latin letters and digits half.
WIDE_PER_POINT, NARROW_PER_POINT = 0.19, 0.1
CELL_PADDING = 1.0  # width units Excel keeps free inside a cell


def text_units(text: str, size: float = 11) -> float:
    """Excel column width units ``text`` takes on one line at ``size`` points."""
    return sum((WIDE_PER_POINT if unicodedata.east_asian_width(c) in ("W", "F", "A")
                else NARROW_PER_POINT) * size for c in text)


def wrapped_lines(text: str, width: float, size: float = 11) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` units wide at ``size`` points: no
    program reading our files fits a row's height to its wrapped text, so we set it. Part
    of a unit is let go: ``text_units`` errs wide (a digit is one unit, counted as 1.1)."""
    room = max(width - CELL_PADDING, 1)
    return sum(max(1, math.ceil(int(text_units(line, size)) / room))
               for line in text.split("\n"))


def header_lines(text: str, width: float, size: float = 10) -> str:
    """A header that does not fit its column on one line breaks before its unit or
    bracket (``计划开工`` ⏎ ``（项）``), never inside a word."""
    if "\n" in text or text_units(text, size) + CELL_PADDING <= width:
        return text
    cut = max(text.rfind("（"), text.rfind("("))
    return f"{text[:cut]}\n{text[cut:]}" if cut > 0 else text


def header_width(text: str, width: float, size: float = 10) -> float:
    """The column width a header needs: at least ``width``, and its longest line."""
    return max(width, *(text_units(line, size) + CELL_PADDING for line in text.split("\n")))


def write_text(cell: Any, value: Any) -> None:
    """Put a value in an openpyxl cell; text is always text, never a formula.

    openpyxl turns any string starting with ``=`` into a formula, so text from outside the
    office (``=HYPERLINK(...)``) would become live in the office's Excel; forcing the string
    type prevents it. Characters XML cannot hold are dropped.
    """
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
