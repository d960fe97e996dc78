"""The master as a workbook open in Excel: a gateway and a store over a live xlwings book.

The add-in never writes the ``.xlsx`` file underneath a running Excel: it reads and writes
the open book, and the office saves it as usual. ``XlwingsGateway`` reads each sheet in one
bulk call (the used range from A1) and writes each table in one bulk call after resizing
its Excel table (ListObject); ``BookStore`` is the ``MasterStore`` the core operations use.

This module does not import xlwings: it only calls methods of the book object it is given
(a ``xlwings.Book``), so the core stays importable — and testable — without Excel.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..core.cells import column_letter
from ..core.errors import MasterBusyError, MasterError
from ..core.master import Master
from ..core.registry import SUMMARY, SUMMARY_SHEET, SheetSpec
from .gateway import Layout, TableData, table_from_grid
from .masterio import read_master, write_master
from .styles import NUMBER_FORMATS

__all__ = ["XlwingsGateway", "BookStore", "excel_cell", "is_master_book"]

Cell = Any
MASTER_MARKS = ("设置", "系统")  # sheets only a master has (an add-in's own book has neither)
TABLE_STYLE = "TableStyleMedium2"
_PLAIN = Layout()
_FORMULA_STARTS = ("=", "+", "-", "@", "'", "#")


def is_master_book(book: Any) -> bool:
    names = {sheet.name for sheet in book.sheets}
    return all(mark in names for mark in MASTER_MARKS)


def excel_cell(value: Cell) -> Cell:
    """A value as Excel should receive it through xlwings.

    Excel treats a string written to a cell like typed text: ``=…`` becomes a formula,
    ``2022-03`` a date, ``001`` a number. A leading apostrophe keeps it text (Excel stores
    the apostrophe as the cell's prefix, not in its value), so strings that could be read
    as anything else get one. ``Decimal`` becomes the float Excel stores anyway — the same
    double it parses from the decimal text the file gateway writes.
    """
    if isinstance(value, str):
        if value and (value.startswith(_FORMULA_STARTS) or any(c.isdigit() for c in value)
                      or value.upper() in ("TRUE", "FALSE")):
            return "'" + value
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 \
            else float(value)
    if isinstance(value, int | float | date | datetime):
        return value
    return str(value)


class XlwingsGateway:
    """A master open in Excel. ``unchanged`` maps table names to the rows last read, so a
    table whose rows did not change is not rewritten (and formulas the office may have
    typed into it survive)."""

    def __init__(self, book: Any, unchanged: Mapping[str, list[list[Cell]]] | None = None,
                 values: dict[str, list[list[Cell]]] | None = None,
                 extent: dict[str, int] | None = None) -> None:
        self.book = book
        self.unchanged = dict(unchanged or {})
        # sheet → values read (shared with the store, so a second load reads nothing again)
        self._values = values if values is not None else {}
        # sheet → rows it had when read: rows left below a shrunken table are cleared
        self.extent = extent if extent is not None else {}
        self.written: list[str] = []  # table names, in the order written

    # ---- reading ----------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def _sheet_values(self, name: str) -> list[list[Cell]]:
        """Every value of the sheet from A1 to the end of its used range: one read."""
        if name not in self._values:
            sheet = self.book.sheets[name]
            last = sheet.used_range.last_cell
            block = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value
            self._values[name] = [list(row) for row in block or []]
            self.extent[name] = max(self.extent.get(name, 0), len(self._values[name]))
        return self._values[name]

    def read_table(self, sheet: str, first_column: int = 1) -> TableData:
        """As ``FileGateway.read_table``: the header row from ``first_column`` to the first
        empty header cell, and the rows under it up to the last non-blank one."""
        if sheet not in self.sheet_names():
            raise MasterError(f"台账“{self.book.name}”中没有工作表“{sheet}”。")
        return table_from_grid(self._sheet_values(sheet), first_column)

    def read_ahead(self, sheets: Sequence[str]) -> None:
        """Excel answers one call at a time: nothing to begin early."""

    # ---- writing ----------------------------------------------------------------------
    def _sheet(self, name: str) -> Any:
        sheets = self.book.sheets
        if name in [sheet.name for sheet in sheets]:
            return sheets[name]
        names = [sheet.name for sheet in sheets]
        if SUMMARY_SHEET in names:  # new sheets go before 汇总, which stays near the end
            return sheets.add(name, before=sheets[SUMMARY_SHEET])
        return sheets.add(name, after=sheets[len(names) - 1])

    def write_table(self, spec: SheetSpec, rows: Sequence[Sequence[Cell]],
                    layout: Layout = _PLAIN) -> None:
        """Resize the Excel table ``spec.table`` to the rows and write header and rows in
        one call; cells the table (or the data read) used to cover below or beside the new
        extent are cleared in the same call."""
        plain = [list(row) for row in rows]
        if spec.table in self.unchanged:
            # Unchanged rows are not rewritten — unless the sheet lacks columns this version
            # writes (月报台帐's plan columns in a master made before them).
            if self.unchanged[spec.table] == plain and self._header_shown(spec, layout):
                return
        elif self._holds(spec, plain, layout):
            return
        sheet = self._sheet(spec.sheet)
        col0, width = layout.first_column, len(spec.columns)
        values: list[list[Cell]] = [[excel_cell(c.title) for c in spec.columns]]
        values += [[excel_cell(v) for v in row] for row in plain] or [[None] * width]
        table = next((t for t in sheet.tables if t.name == spec.table), None)
        old_rows, old_cols = 0, 0
        if table is not None:
            old_rows, old_cols = table.range.shape
        n_rows = max(len(values), old_rows, self.extent.get(spec.sheet, 0))
        n_cols = max(width, old_cols)
        target = sheet.range((1, col0), (len(values), col0 + width - 1))
        if table is not None:
            table.resize(target)
        block = [row + [None] * (n_cols - len(row)) for row in values]
        block += [[None] * n_cols for _ in range(n_rows - len(values))]
        sheet.range((1, col0), (n_rows, col0 + n_cols - 1)).value = block
        if table is None:
            sheet.tables.add(source=target, name=spec.table, table_style_name=TABLE_STYLE)
        grown_from = max(old_rows, 1) + 1
        if len(values) >= grown_from:  # new rows take the column's number format
            for offset, column in enumerate(spec.columns):
                sheet.range((grown_from, col0 + offset), (len(values), col0 + offset)) \
                    .number_format = NUMBER_FORMATS[column.kind]
        self._values.pop(spec.sheet, None)
        self.written.append(spec.table)

    def _header_shown(self, spec: SheetSpec, layout: Layout) -> bool:
        """Whether the sheet's header row is the spec's, column for column."""
        if spec.sheet not in self.sheet_names():
            return False
        header = self.read_table(spec.sheet, layout.first_column).header
        return [str(v or "").removeprefix("'") for v in header] == list(spec.titles)

    def _holds(self, spec: SheetSpec, rows: list[list[Cell]], layout: Layout) -> bool:
        """Whether the sheet already shows exactly ``rows`` under the table's header (for
        a table not read as a record table, such as the derived 汇总)."""
        if spec.sheet not in self.sheet_names():
            return False
        current = self.read_table(spec.sheet, layout.first_column)
        wanted = [[excel_cell(v) for v in row] for row in rows]
        shown = [[excel_cell(v) for v in row] + [None] * (len(spec.columns) - len(row))
                 for row in current.rows]
        return [excel_cell(c.title) for c in spec.columns] == list(current.header) \
            and wanted == shown

    def write_note(self, sheet: str, column: int, text: str, rows: int = 1) -> None:
        """A block of text in row 1 of ``column`` (the 汇总 sheet's explanation), unless it
        is there already. The book keeps it in one cell: a file written by ``FileGateway``
        merges it down the column, and those cells are unmerged first, since a table cannot
        overlap merged cells."""
        if sheet in self.sheet_names():
            values = self._sheet_values(sheet)
            if values and len(values[0]) >= column \
                    and str(values[0][column - 1] or "").removeprefix("'") == text:
                return
        target = self._sheet(sheet)
        target.range((1, column), (max(rows, 1), column)).unmerge()
        target.range((1, column)).value = excel_cell(text)
        self._values.pop(sheet, None)

    def define_list(self, name: str, sheet: str, column: int, rows: int) -> None:
        """Point the book's name at the list (it moves when the list grows or shrinks)."""
        letter = column_letter(column)
        refers_to = f"='{sheet}'!${letter}$2:${letter}${max(rows + 1, 2)}"

        def bare(text: str) -> str:
            return text.replace(" ", "").replace("'", "").lstrip("=")

        for existing in self.book.names:
            if existing.name == name:
                if bare(str(existing.refers_to)) == bare(refers_to):
                    return
                existing.delete()
                break
        self.book.names.add(name, refers_to)

    def write_system(self, sheet: str, pairs: Sequence[tuple[str, str]]) -> None:
        """A book open in Excel was read as a master, so it holds its 系统 sheet, and the key
        never changes once made: nothing to write."""

    def arrange(self, order: Sequence[str]) -> None:
        """The office arranges the sheets of its open book as it likes: nothing to do
        (new sheets are added before 汇总, see ``_sheet``)."""


class _Recorder:
    """A gateway that only remembers what would be written: the rows of each table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[list[Cell]]] = {}

    def sheet_names(self) -> list[str]:
        return []

    def read_table(self, sheet: str, first_column: int = 1) -> TableData:
        return TableData([], [])

    def read_ahead(self, sheets: Sequence[str]) -> None:
        pass

    def write_table(self, spec: SheetSpec, rows: Sequence[Sequence[Cell]],
                    layout: Layout = _PLAIN) -> None:
        self.tables[spec.table] = [list(row) for row in rows]

    def write_note(self, sheet: str, column: int, text: str, rows: int = 1) -> None:
        pass

    def define_list(self, name: str, sheet: str, column: int, rows: int) -> None:
        pass

    def write_system(self, sheet: str, pairs: Sequence[tuple[str, str]]) -> None:
        pass

    def arrange(self, order: Sequence[str]) -> None:
        pass


class BookStore:
    """The master as the workbook open in Excel (``MasterStore``).

    Loading reads every table through ``XlwingsGateway``; saving writes back only the tables
    that changed, into the open book — Excel owns the file, so nothing is locked or written
    on disk and the office saves the book itself.
    """

    def __init__(self, book: Any) -> None:
        self.book = book
        self._read: dict[str, list[list[Cell]]] = {}
        self._values: dict[str, list[list[Cell]]] = {}
        self._extent: dict[str, int] = {}
        self.gateways: list[XlwingsGateway] = []  # every gateway used, for progress and tests

    @property
    def name(self) -> str:
        return str(self.book.name)

    @property
    def folder(self) -> Path:
        full = str(self.book.fullname)
        if "://" in full:
            raise MasterError(f"台账“{self.name}”保存在网络位置（{full}），无法确定收件、输出目录。"
                              "请把台账保存到本机或共享文件夹后再试。")
        path = Path(full)
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise MasterError(f"台账“{self.name}”还没有保存为文件。请先保存为 .xlsx，再点按钮。")
        return path.resolve().parent

    def _gateway(self) -> XlwingsGateway:
        gateway = XlwingsGateway(self.book, self._read, self._values, self._extent)
        self.gateways.append(gateway)
        return gateway

    def load(self) -> Master:
        master = read_master(self._gateway(), self.name)
        self._read = _rows_of(master)
        return master

    def save(self, master: Master, ready: Callable[[], object] | None = None) -> None:
        if ready is not None:  # nothing is written to disk here to do it beside
            ready()
        write_master(master, self._gateway())
        self._read = _rows_of(master)
        master.ids_assigned = False

    def session(self) -> contextlib.AbstractContextManager[object]:
        """Nothing to lock (Excel owns the book), but a read-only book cannot be written."""
        if _read_only(self.book):
            raise MasterBusyError(f"台账“{self.name}”以只读方式打开（可能另有人正在使用），"
                                  "本次没有写入。请以可编辑方式打开后重试。")
        return contextlib.nullcontext()


def _rows_of(master: Master) -> dict[str, list[list[Cell]]]:
    """The rows ``write_master`` would write, by table — but the 汇总: it is derived, not
    read, so it is always written (the office may have typed over it in the book)."""
    recorder = _Recorder()
    write_master(master, recorder)
    recorder.tables.pop(SUMMARY.table, None)
    return recorder.tables


def _read_only(book: Any) -> bool:
    try:  # Windows: the COM workbook says so; other engines have no such flag
        return bool(getattr(book.api, "ReadOnly", False))
    except Exception:  # an engine whose api raises on unknown attributes
        return False
