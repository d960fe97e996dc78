"""Filling the office's Excel 通报 template: cells with ``{{ 字段 }}``, rows that grow.

How a template is written (docs/简报与通报.md has the office's version):

* A cell holding exactly one ``{{ 表达式 }}`` receives the value itself — a number stays a
  number (sortable, formatted by the cell's number format, usable by charts and formulas).
  A cell with text around the placeholders receives the text.
* A row with a ``{{ 列表[].字段 }}`` placeholder (e.g. ``{{ counties[].rate }}``) is an item
  row: it is repeated once per item of that list, every copy with the item row's formatting,
  height, merged cells and formulas; ``{{ loop.index }}`` numbers the items. The paths are
  those of ``zdxm bulletin --list-fields``; an expression may use Jinja filters.

Why this approach, and not another: xltpl re-creates the workbook and so drops charts and
conditional formatting; openpyxl's ``insert_rows`` moves cell values only — not merged
ranges, conditional formats, data validations, formulas pointing below the insertion,
charts' data ranges or their anchors. So the template is loaded with openpyxl (which keeps
charts, conditional formats, validations, defined names, print settings) and rows are
inserted here with Excel's own semantics: everything below moves down, and every range that
includes the item row — a formula's ``SUM(E4:E4)``, a conditional format, a chart's series,
an Excel table — grows to cover all the items. Limits: a chart's finer styling that openpyxl
does not model (Excel 2013+ chart style parts) falls back to the defaults; shapes and
pictures other than charts and images are not kept.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from jinja2 import TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from ..books.styles import write_text
from ..core.errors import UsageError
from .numbers import FILTERS

__all__ = ["fill_workbook", "fit_row_heights", "placeholders", "shift_formula"]

PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}")
LIST_PATH = re.compile(r"([A-Za-z_][\w.]*)\[\]")
CELL_REF = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)(\d+)$")
ROW_REF = re.compile(r"^(\$?)(\d+)$")
ITEM = "__item"


@dataclass
class _Shift:
    """Rows inserted into ``sheet`` below row ``after`` (the item row): ``count`` of them."""

    sheet: str
    after: int
    count: int

    def row(self, row: int) -> int:
        return row + self.count if row > self.after else row

    def span(self, first: int, last: int) -> tuple[int, int]:
        """A range's rows: below the item row it moves; across the item row it grows."""
        if first > self.after:
            return first + self.count, last + self.count
        if last >= self.after:
            return first, last + self.count
        return first, last


def _dash_for_none(value: Any) -> Any:
    return "—" if value is None else value


def _environment() -> SandboxedEnvironment:
    # Cell text is not markup: no escaping. Sandboxed: a template is a file, not code.
    environment = SandboxedEnvironment(autoescape=False, finalize=_dash_for_none)
    environment.filters.update(FILTERS)
    return environment


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def _list_of(text: str) -> str | None:
    """The list a cell's placeholders iterate over (``counties`` for ``counties[].rate``)."""
    found = {m for expression in placeholders(text) for m in LIST_PATH.findall(expression)}
    if len(found) > 1:
        raise ValueError("同一单元格引用了多个列表：" + "、".join(sorted(found)))
    return found.pop() if found else None


class _Filler:
    def __init__(self, book: Workbook, context: dict[str, Any], name: str) -> None:
        self.book, self.context, self.name = book, context, name
        self.env = _environment()
        self.cache: dict[str, tuple[bool, Any, frozenset[str]]] = {}

    def fail(self, ws: Worksheet, coordinate: str, message: str) -> UsageError:
        return UsageError(f"通报模板“{self.name}”工作表“{ws.title}”单元格 {coordinate}：{message}。"
                          "可用字段见 zdxm bulletin --list-fields。")

    def evaluate(self, ws: Worksheet, coordinate: str, text: str,
                 scope: Mapping[str, Any]) -> Any:
        """A cell's new value: typed for a lone placeholder, text otherwise."""
        try:
            lone, compiled, names = self.compiled(text)
            # only the names the cell uses: jinja copies what it is given, for every cell
            given = {name: scope[name] for name in names if name in scope}
            return _cell_value(compiled(**given)) if lone else compiled.render(**given)
        except TemplateError as exc:
            raise self.fail(ws, coordinate, f"“{text}”无法计算（{exc}）") from exc

    def compiled(self, text: str) -> tuple[bool, Any, frozenset[str]]:
        """A cell's text compiled once (an item row repeats the same cells): whether it is
        a lone placeholder (compiled as an expression, its value typed), what to call, and
        the names it takes from the context."""
        if text not in self.cache:
            lone = PLACEHOLDER.fullmatch(text.strip())
            source = f"{{{{ {lone.group(1)} }}}}" if lone else text
            compiled = (self.env.compile_expression(lone.group(1), undefined_to_none=False)
                        if lone else self.env.from_string(text))
            names = frozenset(meta.find_undeclared_variables(self.env.parse(source)))
            self.cache[text] = (lone is not None, compiled, names)
        return self.cache[text]

    def fill(self) -> None:
        for ws in self.book.worksheets:
            row = 1
            while row <= ws.max_row:
                row = self.fill_row(ws, row)
            self.fill_scalars(ws)
            self.fill_header_footer(ws)
            fit_row_heights(ws)

    def fill_header_footer(self, ws: Worksheet) -> None:
        """Placeholders in the page header and footer (编印单位, 印发日期); a value's ``&``
        is doubled, since a single ``&`` starts a code there (``&P`` is the page)."""
        environment = _environment()
        environment.finalize = lambda value: str(_dash_for_none(value)).replace("&", "&&")
        for header_footer in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter,
                              ws.firstHeader, ws.firstFooter):
            for part in (header_footer.left, header_footer.center, header_footer.right):
                if part.text and "{{" in part.text:
                    try:
                        part.text = environment.from_string(part.text).render(**self.context)
                    except TemplateError as exc:
                        raise self.fail(ws, "页眉页脚", f"“{part.text}”无法计算（{exc}）") from exc

    def fill_row(self, ws: Worksheet, row: int) -> int:
        """Expand ``row`` if it is an item row; return the next row to look at."""
        lists = set()
        for cell in ws[row]:
            if isinstance(cell.value, str) and "{{" in cell.value:
                try:
                    found = _list_of(cell.value)
                except ValueError as exc:
                    raise self.fail(ws, cell.coordinate, str(exc)) from exc
                if found:
                    lists.add(found)
        if not lists:
            return row + 1
        if len(lists) > 1:
            raise self.fail(ws, f"第{row}行", "同一行引用了多个列表：" + "、".join(sorted(lists)))
        path = lists.pop()
        items = self.resolve(ws, row, path)
        if len(items) > 1:
            insert_rows(self.book, ws, row, len(items) - 1)
        templates = {cell.column: cell.value for cell in ws[row]
                     if isinstance(cell.value, str) and "{{" in cell.value}
        pattern = re.compile(re.escape(path) + r"\[\]")
        if not items:
            for column in templates:
                ws.cell(row=row, column=column).value = "无" if column == min(templates) else None
            return row + 1
        texts = {column: pattern.sub(ITEM, text) for column, text in templates.items()}
        for index, item in enumerate(items):
            scope = {**self.context, ITEM: item, "loop": {
                "index": index + 1, "index0": index, "first": index == 0,
                "last": index == len(items) - 1, "length": len(items)}}
            for column, text in texts.items():
                cell = ws.cell(row=row + index, column=column)
                _put(cell, self.evaluate(ws, cell.coordinate, text, scope))
        return row + len(items)

    def resolve(self, ws: Worksheet, row: int, path: str) -> list[Any]:
        try:
            value = self.env.compile_expression(path, undefined_to_none=False)(**self.context)
        except TemplateError as exc:
            raise self.fail(ws, f"第{row}行", f"列表“{path}”不存在（{exc}）") from exc
        if not isinstance(value, list | tuple):
            raise self.fail(ws, f"第{row}行", f"“{path}”不是列表")
        return list(value)

    def fill_scalars(self, ws: Worksheet) -> None:
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str) and "{{" in cell.value:
                    _put(cell, self.evaluate(ws, cell.coordinate, cell.value, self.context))


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, int | Decimal | date | datetime):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def _put(cell: Any, value: Any) -> None:
    if isinstance(value, bool):
        value = "是" if value else "否"
    write_text(cell, value)  # text is text, never a formula, whatever a project is called


def fill_workbook(template: Path, context: dict[str, Any], out: Path) -> None:
    """Fill ``template`` with ``context`` and save the result to ``out``."""
    try:
        book = openpyxl.load_workbook(template)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UsageError(f"通报模板“{template.name}”无法打开（{type(exc).__name__}），"
                         "请确认是 .xlsx 文件。") from exc
    _Filler(book, context, template.name).fill()
    book.save(str(out))


# ---- row heights -------------------------------------------------------------------------

# Excel measures a column in widths of "0" in the default font (Calibri 11, 7 pixels); a
# character of a font of ``size`` points takes about ``size`` × this many of those units.
WIDE_PER_POINT, NARROW_PER_POINT = 0.19, 0.1
LINE_HEIGHT = 1.4  # a line of CJK text in points per point of font size (Noto CJK: 1.45)
DEFAULT_WIDTH = 8.43


def _units(text: str, size: float) -> float:
    return sum((WIDE_PER_POINT if unicodedata.east_asian_width(c) in ("W", "F", "A")
                else NARROW_PER_POINT) * size for c in text)


def fit_row_heights(ws: Worksheet, first_row: int = 2) -> None:
    """Give every row holding wrapped text the height its lines need (LibreOffice and
    Excel keep a row's stored height, so text that wraps in a row of default height
    overlaps the next row). A merged cell over one row counts its columns' widths."""
    widths = {}
    spans: dict[tuple[int, int], int] = {}
    skip: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        if merged.min_row == merged.max_row:
            spans[(merged.min_row, merged.min_col)] = merged.max_col
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                if (row, column) != (merged.min_row, merged.min_col) or merged.min_row != \
                        merged.max_row:
                    skip.add((row, column))

    def width(column: int) -> float:
        if column not in widths:
            letter = get_column_letter(column)
            dimension = ws.column_dimensions[letter] if letter in ws.column_dimensions else None
            hidden = dimension is not None and dimension.hidden
            value = dimension.width if dimension is not None and dimension.width else DEFAULT_WIDTH
            widths[column] = 0.0 if hidden else float(value)
        return widths[column]

    # one pass over the rows: ``ws[row]`` would look for the sheet's last column over all
    # its cells, row after row (a list of a few thousand rows took seconds)
    for row, cells in enumerate(ws.iter_rows(min_row=first_row), start=first_row):
        needed = 0.0
        for cell in cells:
            if not isinstance(cell.value, str) or (row, cell.column) in skip:
                continue
            if cell.alignment is None or not cell.alignment.wrap_text:
                continue
            last = spans.get((row, cell.column), cell.column)
            room = sum(width(c) for c in range(cell.column, last + 1)) - 0.6
            if room <= 0:
                continue
            size = float(cell.font.sz or 11) if cell.font is not None else 11.0
            lines = sum(max(1, math.ceil(_units(line, size) / room))
                        for line in cell.value.split("\n"))
            needed = max(needed, lines * size * LINE_HEIGHT + 4)
        if needed:
            current = ws.row_dimensions[row].height if row in ws.row_dimensions else None
            ws.row_dimensions[row].height = max(needed, current or 0, 15.0)


# ---- inserting rows the way Excel does -----------------------------------------------------

def insert_rows(book: Workbook, ws: Worksheet, after: int, count: int) -> None:
    """Insert ``count`` copies of row ``after`` below it; move and grow everything else."""
    shift = _Shift(ws.title, after, count)
    last_column = get_column_letter(max(ws.max_column, 1))
    if ws.max_row > after:
        ws.move_range(f"A{after + 1}:{last_column}{ws.max_row}", rows=count)
    _shift_row_dimensions(ws, shift)
    _shift_merged(ws, shift)
    _shift_conditional_formats(ws, shift)
    _shift_validations(ws, shift)
    for table in ws.tables.values():
        table.ref = _shift_ranges(table.ref, shift)
        if table.autoFilter is not None and table.autoFilter.ref:
            table.autoFilter.ref = table.ref
    if ws.auto_filter.ref:
        ws.auto_filter.ref = _shift_ranges(ws.auto_filter.ref, shift)
    if ws.print_area:
        ws.print_area = [_shift_ranges(a.split("!")[-1].replace("'", ""), shift)
                         for a in str(ws.print_area).split(",")]
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.value = shift_formula(cell.value, sheet.title, shift)
        for chart in getattr(sheet, "_charts", []):
            _shift_chart(chart, sheet.title, shift)
    for names in [book.defined_names, *(s.defined_names for s in book.worksheets)]:
        for name in names.values():
            if name.attr_text:
                name.attr_text = shift_formula("=" + name.attr_text, "", shift,
                                               home_is_target=False)[1:]
    for anchored in [*getattr(ws, "_charts", []), *getattr(ws, "_images", [])]:
        _shift_anchor(anchored, shift)
    # Last: the copies' formulas are the item row's, already pointing at the moved cells.
    _copy_item_row(ws, shift)


def _shift_row_dimensions(ws: Worksheet, shift: _Shift) -> None:
    moved = {r: ws.row_dimensions[r] for r in list(ws.row_dimensions) if r > shift.after}
    for r in moved:
        del ws.row_dimensions[r]
    for r, dimension in sorted(moved.items()):
        dimension.index = r + shift.count
        ws.row_dimensions[r + shift.count] = dimension


def _copy_item_row(ws: Worksheet, shift: _Shift) -> None:
    source = ws.row_dimensions[shift.after] if shift.after in ws.row_dimensions else None
    # the item row's cells, taken once: ``ws[row]`` looks for the sheet's last column over
    # all its cells, which for each of a few thousand copies took tens of seconds
    cells = [cell for cell in ws[shift.after] if type(cell).__name__ != "MergedCell"]
    for offset in range(1, shift.count + 1):
        target = shift.after + offset
        if source is not None and source.height is not None:
            ws.row_dimensions[target].height = source.height
        for cell in cells:
            new = ws.cell(row=target, column=cell.column)
            if cell.has_style:
                new._style = copy(cell._style)
            if cell.data_type == "f" and isinstance(cell.value, str):
                new.value = Translator(cell.value, origin=cell.coordinate).translate_formula(
                    new.coordinate)
            else:
                new.value = cell.value


def _shift_merged(ws: Worksheet, shift: _Shift) -> None:
    repeated = []
    for merged in list(ws.merged_cells.ranges):
        if merged.min_row > shift.after:
            merged.shift(row_shift=shift.count)
        elif merged.min_row == merged.max_row == shift.after:
            repeated.append(merged.coord)
        elif merged.min_row <= shift.after <= merged.max_row:
            ws.merged_cells.remove(merged)
            ws.merge_cells(start_row=merged.min_row, start_column=merged.min_col,
                           end_row=merged.max_row + shift.count, end_column=merged.max_col)
    for coord in repeated:
        cells = CellRange(coord)
        for offset in range(1, shift.count + 1):
            ws.merge_cells(start_row=cells.min_row + offset, start_column=cells.min_col,
                           end_row=cells.max_row + offset, end_column=cells.max_col)


def _shift_one(coord: str, shift: _Shift) -> str:
    cells = CellRange(coord)
    first, last = shift.span(cells.min_row, cells.max_row)
    moved: str = CellRange(min_col=cells.min_col, min_row=first, max_col=cells.max_col,
                           max_row=last).coord
    return moved


def _shift_ranges(ranges: str, shift: _Shift) -> str:
    return " ".join(_shift_one(part, shift) for part in str(ranges).split())


def _shift_conditional_formats(ws: Worksheet, shift: _Shift) -> None:
    from openpyxl.formatting.formatting import ConditionalFormattingList

    old = ws.conditional_formatting
    new = ConditionalFormattingList()
    for formatting in old:
        sqref = _shift_ranges(str(formatting.sqref), shift)
        for rule in formatting.rules:
            new.add(sqref, rule)
    ws.conditional_formatting = new


def _shift_validations(ws: Worksheet, shift: _Shift) -> None:
    for validation in ws.data_validations.dataValidation:
        validation.sqref = MultiCellRange(_shift_ranges(str(validation.sqref), shift))


def _shift_anchor(item: Any, shift: _Shift) -> None:
    anchor = getattr(item, "anchor", None)
    if isinstance(anchor, str):
        match = CELL_REF.match(anchor)
        if match and int(match.group(4)) > shift.after:
            item.anchor = f"{match.group(2)}{int(match.group(4)) + shift.count}"
        return
    start = getattr(anchor, "_from", None)
    if start is None:
        return
    end = getattr(anchor, "to", None)
    first = start.row + 1  # anchors count rows from 0
    if first > shift.after:
        start.row += shift.count
        if end is not None:
            end.row += shift.count
    elif end is not None and end.row + 1 > shift.after:
        end.row += shift.count


def _shift_chart(chart: Any, sheet: str, shift: _Shift) -> None:
    # A combined chart lists itself among its parts: each series is shifted once.
    parts = {id(part): part for part in [chart, *getattr(chart, "_charts", [])]}
    series = {id(s): s for part in parts.values() for s in getattr(part, "series", []) or []}
    for one in series.values():
        for reference in _series_references(one):
            # A series of one item row (openpyxl writes $F$4, not $F$4:$F$4) grows too.
            reference.f = shift_formula("=" + reference.f, sheet, shift, home_is_target=False,
                                        grow_cells=True)[1:]


def _series_references(series: Any) -> Iterator[Any]:
    for holder in (getattr(series, "tx", None), getattr(series, "cat", None),
                   getattr(series, "val", None), getattr(series, "xVal", None),
                   getattr(series, "yVal", None), getattr(series, "bubbleSize", None)):
        if holder is None:
            continue
        for kind in ("strRef", "numRef", "multiLvlStrRef"):
            reference = getattr(holder, kind, None)
            if reference is not None and getattr(reference, "f", None):
                yield reference


def shift_formula(formula: str, home: str, shift: _Shift, home_is_target: bool = True,
                  grow_cells: bool = False) -> str:
    """``formula`` (in sheet ``home``) with its references into the shifted sheet moved or
    grown as Excel would after inserting the rows; with ``grow_cells`` a single cell on the
    item row becomes the range of all items (a chart series)."""
    if not formula.startswith("="):
        return formula
    tokens = Tokenizer(formula).items
    changed = False
    for token in tokens:
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            new = _shift_reference(token.value, home, shift, home_is_target, grow_cells)
            if new != token.value:
                token.value, changed = new, True
    if not changed:
        return formula
    return "=" + "".join(token.value for token in tokens)


def _shift_reference(text: str, home: str, shift: _Shift, home_is_target: bool,
                     grow_cells: bool = False) -> str:
    sheet, bang, address = text.rpartition("!")
    target = sheet.strip("'").replace("''", "'") if bang else home
    if not bang and not home_is_target:
        return text
    if target != shift.sheet:
        return text
    ends = address.split(":")
    if len(ends) > 2:
        return text
    rows = []
    for end in ends:
        match = CELL_REF.match(end) or ROW_REF.match(end)
        if match is None:
            return text  # a whole column, a name, an error value: nothing to move
        rows.append(int(match.groups()[-1]))
    if len(rows) == 1 and grow_cells and rows[0] == shift.after:
        ends, rows = [ends[0], ends[0]], [rows[0], rows[0]]
    if len(rows) == 1:
        first = last = shift.row(rows[0])
    else:
        first, last = shift.span(min(rows), max(rows))
    new_rows = [first, last] if len(rows) == 2 else [first]
    parts = []
    for end, row in zip(ends, new_rows, strict=True):
        match = CELL_REF.match(end)
        if match:
            parts.append(f"{match.group(1)}{match.group(2)}{match.group(3)}{row}")
        else:
            dollar = ROW_REF.match(end)
            parts.append(f"{dollar.group(1) if dollar else ''}{row}")
    return f"{sheet}{bang}{':'.join(parts)}"
