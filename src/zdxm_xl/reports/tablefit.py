"""Column widths of a rendered 简报's tables, from their content and the type area.

A table in the Word template has the widths its author gave it, but what goes into it is
known only after rendering: a county called 阳和工业新区（北部生态新区）, an amount of
1,234,567.89 万元. With fixed widths a number wraps inside its cell ("14./6") and a leader
reads nonsense. ``fit_tables`` measures every cell of every table after rendering and sets
the columns so that

* a number (digits with separators, signs, %, arrows), a date or a 项目编号 / 问题编号 never
  wraps: its column is at least as wide as its widest number;
* a header wraps only where the template breaks its line (``完成率`` ⏎ ``（%）``);
* a short label (up to six characters) stays on one line; long names wrap;
* the table spans the type area, the room left over going to the text columns.

Widths are estimated from the font size and the characters (CJK and other full-width
characters one em; Latin letters and digits by their Times New Roman widths), which is
what Word and LibreOffice set them in: 公文 tables use 仿宋 and Times New Roman. When even
the narrowest layout does not fit, the table's text is set a half point smaller until it
does (never below 8 pt).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips
from docx.text.paragraph import Paragraph
from docx.text.run import Run

__all__ = ["fit_tables", "text_width", "NUMBER", "KEEP_TOGETHER_ROWS"]

NUMBER = re.compile(r"^[+\-−]?[\d,]*\.?\d+%?$|^[↑↓]\d+$|^—$")
DATE = re.compile(r"^\d{4}年\d{1,2}月(\d{1,2}日)?$")  # 2022年3月15日 stays on one line
CODE = re.compile(r"^[A-Z]{2}\d{4}-\d{4,}$")  # 项目编号 ZD2022-0001, 问题编号 WT2022-0001 too
CELL_PADDING_TWIPS = 68  # left and right inside each cell: 1.2 mm (Word's default is 1.9 mm)
CELL_MARGIN_PT = 2 * CELL_PADDING_TWIPS / 20
SHORT_LABEL = 6  # characters: a label this short stays on one line
WRAP_UNIT = 4  # a longer text may wrap, but keeps at least this many characters a line
KEEP_TOGETHER_ROWS = 10  # a table of at most this many rows is kept on one page
SMALLEST = 8.0  # pt: the least a table's text is shrunk to
SLACK, SLACK_SHARE = 2.0, 0.03  # pt and share of a line: what renderers' metrics may add
DEFAULT_SIZE = 10.5
# Times New Roman advance widths (em) of the Latin characters tables hold
_LATIN = {**dict.fromkeys("0123456789", 0.5), ".": 0.25, ",": 0.25, ":": 0.278, ";": 0.278,
          "-": 0.333, "+": 0.564, "%": 0.833, " ": 0.25, "(": 0.333, ")": 0.333, "/": 0.278,
          "&": 0.778, "<": 0.564, ">": 0.564, "=": 0.564, "'": 0.18, '"': 0.408}


def _char_width(char: str) -> float:
    if char in _LATIN:
        return _LATIN[char]
    if unicodedata.east_asian_width(char) in ("W", "F", "A"):
        return 1.0  # 仿宋/黑体 set these a full em (w:hint="eastAsia" takes the ambiguous ones)
    if char.isupper():
        return 0.72
    return 0.47


AUTOSPACE = 0.25  # em Word and LibreOffice put between Chinese and Latin letters or digits


def text_width(text: str, size: float) -> float:
    """Points ``text`` takes on one line at ``size`` pt, with the quarter-em space Word and
    LibreOffice add where Chinese meets Latin letters or digits (2022年3月 is wider than
    its characters)."""
    width = sum(_char_width(c) for c in text)
    kinds = [_kind(c) for c in text]
    width += AUTOSPACE * sum(1 for a, b in zip(kinds, kinds[1:], strict=False)
                             if {a, b} == {"cjk", "latin"})
    return width * size


def _kind(char: str) -> str:
    if char.isascii() and char.isalnum():
        return "latin"
    if unicodedata.east_asian_width(char) in ("W", "F") and unicodedata.category(char) == "Lo":
        return "cjk"
    return "other"


Sizes = dict[str | None, float]  # a document's paragraph style id → its font size

_P, _R, _T, _RPR, _SZ, _PPR, _PSTYLE, _VAL, _HYPERLINK = (
    qn(tag) for tag in ("w:p", "w:r", "w:t", "w:rPr", "w:sz", "w:pPr", "w:pStyle", "w:val",
                        "w:hyperlink"))
# what a run's text is made of, as python-docx reads it (``Run.text``)
_RUN_TEXT = tuple(qn(tag) for tag in ("w:br", "w:cr", "w:noBreakHyphen", "w:ptab", "w:t",
                                      "w:tab"))


@dataclass(frozen=True)
class _Cell:
    """A table cell as measured: its first grid column, how many it spans, and each of
    its paragraphs' text and font size (pt). Read once: a 简报's lists of a province's
    projects have tens of thousands of cells, and each layout tried measures them all."""

    column: int
    span: int
    paragraphs: tuple[tuple[str, float], ...]

    @property
    def text(self) -> str:
        return "\n".join(text for text, _size in self.paragraphs)


def _paragraph_text(p: Any) -> str:
    """A ``w:p``'s text, as python-docx's ``Paragraph.text`` gives it (its runs, and those
    of its hyperlinks), without its look-ups."""
    parts = []
    for child in p.iterchildren(_R, _HYPERLINK):
        for run in (child,) if child.tag == _R else child.iterchildren(_R):
            parts += [element.text or "" if element.tag == _T else str(element)
                      for element in run.iterchildren(*_RUN_TEXT)]
    return "".join(parts)


def _size_of(p: Any, table: Any, sizes: Sizes) -> float:
    """A ``w:p``'s font size: its first sized run's, else its style's — looked up once per
    style (python-docx's style lookup is slow, and a table has hundreds of cells)."""
    for run in p.iterchildren(_R):  # (``Paragraph.runs``: not a hyperlink's)
        rpr = run.find(_RPR)
        sz = rpr.find(_SZ) if rpr is not None else None
        if sz is None:
            continue
        value = sz.get(_VAL, "")
        if value.isdigit():  # half points, as Word writes them
            return float(Pt(int(value) / 2.0).pt)
        measure = Run(run, Paragraph(p, table)).font.size  # a measure with its unit
        if measure is not None:
            return float(measure.pt)
    ppr = p.find(_PPR)
    pstyle = ppr.find(_PSTYLE) if ppr is not None else None
    style_id = pstyle.get(_VAL) if pstyle is not None else None
    if style_id not in sizes:
        style = Paragraph(p, table).style
        size = DEFAULT_SIZE
        while style is not None:
            if style.font.size is not None:
                size = float(style.font.size.pt)
                break
            style = style.base_style
        sizes[style_id] = size
    return sizes[style_id]


def _cell_needs(cell: _Cell, header: bool, scale: float) -> tuple[float, float]:
    """(narrowest, widest) a cell can be, in points of text (margins excluded)."""
    narrowest = widest = 0.0
    for text, font_size in cell.paragraphs:
        size = font_size * scale
        for line in text.split("\n"):
            line = line.strip()
            if not line:
                continue
            width = text_width(line, size)
            widest = max(widest, width)
            if header or NUMBER.match(line) or DATE.match(line) or CODE.match(line) \
                    or len(line) <= SHORT_LABEL:
                narrowest = max(narrowest, width)
            else:
                narrowest = max(narrowest, text_width(line[:WRAP_UNIT], size))
    return narrowest, widest


def _grid(table: Any, sizes: Sizes) -> list[list[_Cell]]:
    """The table's cells, measured, as rows (merged cells once)."""
    rows = []
    for tr in table._tbl.tr_lst:
        column, cells = 0, []
        for tc in tr.tc_lst:
            span = tc.grid_span
            cells.append(_Cell(column, span, tuple(
                (_paragraph_text(p), _size_of(p, table, sizes)) for p in tc.iterchildren(_P))))
            column += span
        rows.append(cells)
    return rows


def _is_header(tr: Any) -> bool:
    trpr = tr.trPr
    return trpr is not None and trpr.find(qn("w:tblHeader")) is not None


def _widths(rows: list[list[_Cell]], headers: list[bool], columns: int, room: float,
            scale: float) -> list[float] | None:
    """Each column's width (points, margins included), or None if the narrowest layout
    does not fit ``room``. Columns that must not wrap (numbers, short labels, headers) get
    their widest line; the others share the rest in proportion to their longer lines (the
    90th percentile, so one odd name does not take the table), which makes long texts wrap
    into about the same number of lines."""
    narrowest = [0.0] * columns
    widest = [0.0] * columns
    lengths: list[list[float]] = [[] for _ in range(columns)]
    numeric = [True] * columns
    for cells, header in zip(rows, headers, strict=True):
        for cell in cells:
            if cell.span != 1:
                continue
            column = cell.column
            low, high = _cell_needs(cell, header, scale)
            narrowest[column] = max(narrowest[column], low)
            widest[column] = max(widest[column], high)
            if not header:
                lengths[column].append(high)
                text = cell.text.strip()
                if text and not NUMBER.match(text):
                    numeric[column] = False
    widths = [_with_slack(w) for w in widest]
    flexible = [c for c in range(columns) if narrowest[c] < widest[c]]
    room_left = room - columns * CELL_MARGIN_PT - sum(widths[c] for c in range(columns)
                                                       if c not in flexible)
    lowest = {c: _with_slack(narrowest[c]) for c in flexible}
    if room_left < sum(lowest.values()):
        return None
    typical = {c: max(_percentile(lengths[c]), narrowest[c]) or 1.0 for c in flexible}
    open_ = set(flexible)
    while open_:  # water-filling: proportional shares, held within [lowest, widest]
        share = room_left - sum(widths[c] for c in flexible if c not in open_)
        weight = sum(typical[c] for c in open_)
        settled = False
        for c in sorted(open_):
            proposal = share * typical[c] / weight
            if proposal < lowest[c]:
                widths[c], settled = lowest[c], True
                open_.discard(c)
            elif proposal > _with_slack(widest[c]):
                widths[c], settled = _with_slack(widest[c]), True
                open_.discard(c)
        if not settled:
            for c in open_:
                widths[c] = share * typical[c] / weight
            open_.clear()
    spare = room - columns * CELL_MARGIN_PT - sum(widths)
    if spare > 0:  # all fit at full length: the text columns take the rest (the table
        # spans the type area), else every column
        takers = flexible or [c for c in range(columns) if not numeric[c]] or list(range(columns))
        weight = sum(widths[c] for c in takers)
        for c in takers:
            widths[c] += spare * widths[c] / weight
    return [w + CELL_MARGIN_PT for w in widths]


def _with_slack(width: float) -> float:
    return width + SLACK + width * SLACK_SHARE


def _percentile(values: list[float], share: float = 0.9) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def _shrink(table: Any, rows: list[list[_Cell]], scale: float) -> None:
    """Every paragraph of the table's cells (each cell once, merged or not) set at ``scale``
    of its size, to the half point."""
    for tr, cells in zip(table._tbl.tr_lst, rows, strict=True):
        for tc, cell in zip(tr.tc_lst, cells, strict=True):
            for p, (_text, size) in zip(tc.iterchildren(_P), cell.paragraphs, strict=True):
                paragraph = Paragraph(p, table)
                for run in paragraph.runs:
                    run.font.size = Pt(round(size * scale * 2) / 2)


# w:tblPr's children in the schema's order: Word refuses a table whose properties are not
_TBLPR_ORDER = ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual",
                "w:tblStyleRowBandSize", "w:tblStyleColBandSize", "w:tblW", "w:jc",
                "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd", "w:tblLayout",
                "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")


def _child(tblpr: Any, tag: str) -> Any:
    """``tblpr``'s child ``tag``, made and put in its place if missing."""
    found = tblpr.find(qn(tag))
    if found is not None:
        return found
    element = OxmlElement(tag)
    later = _TBLPR_ORDER[_TBLPR_ORDER.index(tag) + 1:]
    for sibling in tblpr:
        if any(sibling.tag == qn(name) for name in later):
            sibling.addprevious(element)
            return element
    tblpr.append(element)
    return element


def _apply(table: Any, rows: list[list[_Cell]], widths: list[float]) -> None:
    tbl = table._tbl
    twips = [round(w * 20) for w in widths]
    tblpr = tbl.tblPr
    width = _child(tblpr, "w:tblW")
    width.set(qn("w:w"), str(sum(twips)))
    width.set(qn("w:type"), "dxa")
    _child(tblpr, "w:tblLayout").set(qn("w:type"), "fixed")
    margins = _child(tblpr, "w:tblCellMar")
    for side in ("left", "right"):
        element = margins.find(qn(f"w:{side}"))
        if element is None:
            element = OxmlElement(f"w:{side}")
            margins.append(element)
        element.set(qn("w:w"), str(CELL_PADDING_TWIPS))
        element.set(qn("w:type"), "dxa")
    grid = tbl.tblGrid
    for column, col in enumerate(grid.gridCol_lst):
        if column < len(twips):
            col.w = Twips(twips[column])
    width_tag, w, kind = qn("w:tcW"), qn("w:w"), qn("w:type")
    for tr, cells in zip(tbl.tr_lst, rows, strict=True):
        for tc, cell in zip(tr.tc_lst, cells, strict=True):
            tcpr = tc.get_or_add_tcPr()
            tcw = tcpr.find(width_tag)
            if tcw is None:
                tcw = OxmlElement("w:tcW")
                tcpr.insert(0, tcw)
            tcw.set(w, str(sum(twips[cell.column:cell.column + cell.span])))
            tcw.set(kind, "dxa")


def fit_tables(document: Any) -> None:
    """Set the column widths of every table of a python-docx ``document`` from its content
    (see the module doc); the room is the type area of the document's first section."""
    sizes: Sizes = {}
    section = document.sections[0]
    room = (section.page_width - section.left_margin - section.right_margin) / 12700  # pt
    for table in document.tables:  # a table inside a cell keeps its author's widths
        rows = _grid(table, sizes)
        headers = [_is_header(tr) for tr in table._tbl.tr_lst]
        columns = len(table._tbl.tblGrid.gridCol_lst)
        if not rows or columns == 0:
            continue
        scale = 1.0
        widths = _widths(rows, headers, columns, room, scale)
        smallest = min((size for cells in rows for cell in cells
                        for _text, size in cell.paragraphs), default=DEFAULT_SIZE)
        while widths is None and smallest * scale > SMALLEST:
            scale -= 0.5 / smallest
            widths = _widths(rows, headers, columns, room, scale)
        if widths is None:
            continue  # not even at 8 pt: leave the author's widths
        if scale < 1.0:
            _shrink(table, rows, scale)
        _apply(table, rows, widths)
        _keep(table)


def _keep(table: Any) -> None:
    """A short table stays on one page (every row kept with the next, as Word does it);
    a long one may break between rows, its header row kept with the first body row."""
    trs = table._tbl.tr_lst
    short = len(trs) <= KEEP_TOGETHER_ROWS
    for number, tr in enumerate(trs):
        keep = number < len(trs) - 1 and (short or _is_header(tr))
        for p in tr.iter(qn("w:p")):
            ppr = p.get_or_add_pPr()
            ppr.keepNext_val = keep or None

