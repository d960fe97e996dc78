"""Workbook gateways: where table rows come from and go to.

The core reads and writes the master as tables of cell values (``tables``). A gateway moves
those tables in and out of a workbook in bulk — one read and one write per table. This
module holds the file gateway used by the ``zdxm`` command: python-calamine reads (fast,
values only), openpyxl writes (formats, tables, dropdowns), and ``storage.atomic_write``
puts the result in place. The add-in has a second gateway over a live Excel book.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from ..core.errors import MasterError
from ..core.registry import Column, Kind, SheetSpec
from .safety import atomic_write, backup, refuse_if_open_elsewhere

__all__ = ["TableData", "Gateway", "FileGateway", "Layout", "NUMBER_FORMATS", "write_text",
           "table_from_grid", "print_ready"]

Cell = Any

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
LAST_ROW = 1048576


@dataclass
class TableData:
    """A table as read: its header row and its value rows (cells as the reader gives them)."""

    header: list[Cell]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Layout:
    """Where a table sits on its sheet and what its lists refer to."""

    first_column: int = 1  # 1 = column A
    list_names: dict[str, str] | None = None  # choices_from → a defined name


class Gateway(Protocol):
    """What the core needs from a workbook, whatever holds it."""

    def sheet_names(self) -> list[str]: ...

    def read_table(self, sheet: str, first_column: int = 1) -> TableData: ...

    def write_table(self, spec: SheetSpec, rows: Sequence[Sequence[Cell]],
                    layout: Layout = Layout()) -> None: ...


def table_from_grid(values: Sequence[Sequence[Cell]], first_column: int = 1) -> TableData:
    """A sheet's values from A1 → the table whose header starts at ``first_column`` of row 1;
    the table ends at the first empty header cell, and trailing empty rows are dropped."""
    if not values:
        return TableData([], [])
    start = first_column - 1
    header = list(values[0][start:])
    width = next((i for i, v in enumerate(header) if v in ("", None)), len(header))
    header = header[:width]
    rows = [list(row[start:start + width]) for row in values[1:]]
    while rows and all(v in ("", None) for v in rows[-1]):
        rows.pop()
    return TableData(header, rows)


def print_ready(ws: Worksheet, *, paper: int, title_rows: str, area: str | None = None,
                landscape: bool = True) -> None:
    """Page setup shared by every printable sheet we write: fit to one page wide, header
    rows repeated, centred, narrow margins, "第 N 页，共 M 页" in the footer."""
    ws.page_setup.paperSize = paper
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if area is not None:
        ws.print_area = area


def write_text(cell: Any, value: Cell) -> None:
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


class FileGateway:
    """A master workbook file: calamine reads, openpyxl writes, atomic replace commits."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self._reader: CalamineWorkbook | None = None
        self._book: openpyxl.Workbook | None = None
        if create:
            self._book = openpyxl.Workbook()
            self._book.remove(self._book.active)

    # ---- reading ----------------------------------------------------------------------
    def _open_reader(self) -> CalamineWorkbook:
        if self._reader is None:
            if not self.path.exists():
                raise MasterError(f"找不到台账文件“{self.path}”。请检查路径，或先用 zdxm init 创建台账。")
            if not zipfile.is_zipfile(self.path):
                raise MasterError(f"“{self.path.name}”不是 Excel 工作簿（.xlsx），无法作为台账打开。")
            try:
                self._reader = CalamineWorkbook.from_path(str(self.path))
            except Exception as exc:  # calamine raises several private error types
                raise MasterError(f"无法读取台账“{self.path.name}”：文件已损坏或不是 .xlsx 工作簿。") from exc
        return self._reader

    def sheet_names(self) -> list[str]:
        return list(self._open_reader().sheet_names)

    def read_table(self, sheet: str, first_column: int = 1) -> TableData:
        """The header row and rows under it, starting at ``first_column``; the table ends at
        the first empty header cell, so rows typed below an Excel table are not missed."""
        reader = self._open_reader()
        if sheet not in reader.sheet_names:
            raise MasterError(f"台账“{self.path.name}”中没有工作表“{sheet}”。")
        return table_from_grid(reader.get_sheet_by_name(sheet).to_python(skip_empty_area=False),
                               first_column)

    # ---- writing ----------------------------------------------------------------------
    def _open_writer(self) -> openpyxl.Workbook:
        if self._book is None:
            try:
                self._book = openpyxl.load_workbook(self.path)
            except Exception as exc:
                raise MasterError(f"无法打开台账“{self.path.name}”进行写入：{exc}") from exc
        return self._book

    def sheet_names_for_write(self) -> list[str]:
        return list(self._open_writer().sheetnames)

    def fresh_sheet(self, name: str, index: int | None = None) -> Worksheet:
        """An empty sheet called ``name`` in place of any old one (same position)."""
        book = self._open_writer()
        if name in book.sheetnames:
            old = book[name]
            position = book.sheetnames.index(name)
            book.remove(old)
            return book.create_sheet(name, position)
        return book.create_sheet(name, index)

    def sheet(self, name: str) -> Worksheet:
        book = self._open_writer()
        return book[name] if name in book.sheetnames else book.create_sheet(name)

    def write_table(self, spec: SheetSpec, rows: Sequence[Sequence[Cell]],
                    layout: Layout = Layout()) -> None:
        """Lay ``rows`` out as an Excel table with formats, widths and dropdowns.

        A sheet holding only this table is rebuilt from scratch; a table sharing its sheet
        (设置) is written in place.
        """
        if layout.first_column == 1:
            ws = self.fresh_sheet(spec.sheet)
        else:
            ws = self.sheet(spec.sheet)
        for name in list(ws.tables):
            if name == spec.table:
                del ws.tables[name]
        col0 = layout.first_column
        for offset, column in enumerate(spec.columns):
            cell = ws.cell(row=1, column=col0 + offset)
            write_text(cell, column.title)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            ws.column_dimensions[get_column_letter(col0 + offset)].width = column.width
        formats = [NUMBER_FORMATS[column.kind] for column in spec.columns]
        styles: list[Any] = []  # each column's style, set once and copied (see forms)
        for r, row in enumerate(rows, start=2):
            for offset, value in enumerate(row):
                cell = ws.cell(row=r, column=col0 + offset)
                write_text(cell, _plain(value))
                if r == 2:
                    cell.number_format = formats[offset]
                    styles.append(cell._style)
                else:
                    cell._style = copy(styles[offset])
        last_row = max(len(rows) + 1, 2)  # an Excel table needs one body row, even empty
        first = get_column_letter(col0)
        last = get_column_letter(col0 + len(spec.columns) - 1)
        table = Table(displayName=spec.table, ref=f"{first}1:{last}{last_row}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
        if col0 == 1:
            ws.freeze_panes = "B2" if len(spec.columns) > 4 else "A2"
            ws.row_dimensions[1].height = 30
        self._add_validations(ws, spec, layout)

    def _add_validations(self, ws: Worksheet, spec: SheetSpec, layout: Layout) -> None:
        for offset, column in enumerate(spec.columns):
            letter = get_column_letter(layout.first_column + offset)
            sqref = f"{letter}2:{letter}{LAST_ROW}"
            validation = _validation_for(column, layout)
            if validation is not None:
                validation.add(sqref)
                ws.add_data_validation(validation)

    def write_note(self, sheet: str, column: int, text: str, rows: int = 1) -> None:
        """A block of wrapped text at row 1 of ``column``, merged down ``rows`` rows."""
        ws = self.sheet(sheet)
        cell = ws.cell(row=1, column=column)
        write_text(cell, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(column)].width = 90
        if rows > 1:
            ws.merge_cells(start_row=1, start_column=column, end_row=rows, end_column=column)

    def define_list(self, name: str, sheet: str, column: int, rows: int) -> None:
        """A workbook-level name for a list kept on a sheet (e.g. 县区 for the dropdowns)."""
        book = self._open_writer()
        letter = get_column_letter(column)
        ref = f"'{sheet}'!${letter}$2:${letter}${max(rows + 1, 2)}"
        if name in book.defined_names:
            del book.defined_names[name]
        book.defined_names[name] = DefinedName(name, attr_text=ref)

    def commit(self, verify: Callable[[Path], None] | None = None) -> None:
        """Save atomically over ``path`` (refusing if the file is open in Excel/WPS), after a
        dated backup of the old file in 备份/ (the newest 30 are kept)."""
        if self._book is None:
            return
        refuse_if_open_elsewhere(self.path)
        backup(self.path)
        book = self._book
        atomic_write(self.path, lambda temp: book.save(temp), verify)
        self._reader = None


def _plain(value: Cell) -> Cell:
    # openpyxl writes Decimal exactly (as its decimal text); dates stay dates.
    if isinstance(value, Decimal | int | str | date | datetime) or value is None:
        return value
    return str(value)


def _validation_for(column: Column, layout: Layout) -> DataValidation | None:
    if column.kind is Kind.CHOICE and column.choices:
        formula = '"' + ",".join(column.choices) + '"'
    elif column.choices_from and layout.list_names and column.choices_from in layout.list_names:
        formula = layout.list_names[column.choices_from]
    elif column.kind is Kind.MONEY:
        return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                              allow_blank=True, showErrorMessage=True, errorTitle="金额有误",
                              error=f"{column.title}应填写不小于 0 的数字，单位万元。",
                              promptTitle=column.header, prompt=column.help[:250] or None,
                              showInputMessage=bool(column.help))
    else:
        return None
    return DataValidation(type="list", formula1=formula, allow_blank=True,
                          showErrorMessage=True, errorTitle="请从下拉列表选择",
                          error=f"{column.title}请从下拉列表中选择。")
