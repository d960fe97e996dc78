"""The master as a .xlsx file: python-calamine reads (fast, values only), openpyxl writes
(formats, tables, dropdowns), and ``safety.atomic_write`` puts the result in place after a
dated backup — the file is never left half-written.

openpyxl (with ``styles``) is imported where a workbook is laid out with it, not before: a
read, and a save of only what changed (``commit_changes``), never need it, and importing it
costs some 0.3 s of every ``zdxm`` command that reads or merges."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_calamine import CalamineWorkbook

from ..core.cells import column_letter
from ..core.errors import MasterError, Remedy
from ..core.registry import SUMMARY_SHEET, Column, Kind, SheetSpec
from ..core.tables import is_blank_row
from ..core.workspace import file_state
from .gateway import PLAIN, Cell, Layout, TableData, table_from_grid
from .package import (
    Copied,
    NewRows,
    Package,
    PackageLayoutError,
    key_cells,
    rows_renumbered,
    sheet_with_new_rows,
    sheet_with_rows,
    with_table_rows,
    workbook_of_rows,
)
from .safety import atomic_write, backup, refuse_if_open_elsewhere

if TYPE_CHECKING:
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["FileGateway", "LAST_ROW", "file_state", "KeyedRows", "SheetRows"]

LAST_ROW = 1048576
SUMMARY_NOTE_WIDTH = 90  # the 汇总's words beside its table


class FileGateway:
    """A master workbook file: calamine reads, openpyxl writes, atomic replace commits."""

    def __init__(self, path: Path, *, create: bool = False,
                 keyed: Mapping[str, Sequence[str]] | None = None) -> None:
        self.path = Path(path)
        # Sheets read for some columns first (``read_keys``): sheet → the header titles.
        self.keyed = dict(keyed or {})
        # The file's package as read for them (the file this gateway opened): a save of
        # the same file starts from it, its parts inflated already.
        self.keyed_package: Package | None = None
        self._reader: CalamineWorkbook | None = None
        self._opened: tuple[int, int, int] | None = None  # the file the reader opened
        self._book: openpyxl.Workbook | None = None
        # Tables whose rows are written into the sheet's XML after openpyxl has laid the
        # sheet out with the first row: sheet → (rows, columns).
        self._rows: dict[str, tuple[Sequence[Sequence[Cell]], int]] = {}
        # Each sheet read from column A, as read: (header, body rows, widest row) — what
        # tells whether a table's rows can later be rewritten in place (``commit_changes``).
        self.shapes: dict[str, tuple[list[Cell], int, int]] = {}
        # Sheets being read beside this thread (``read_ahead``): sheet → its values to come.
        self._ahead: dict[str, Future[list[list[Cell]]]] = {}
        self._ahead_keys: dict[str, Future[KeyedRows | None]] = {}
        if create:
            import openpyxl

            self._book = openpyxl.Workbook()
            self._book.remove(self._book.active)

    # ---- reading ----------------------------------------------------------------------
    def _open_reader(self) -> CalamineWorkbook:
        if self._reader is None:
            if not self.path.exists():
                raise MasterError(f"找不到台账文件“{self.path}”。请检查路径。",
                                  remedy=Remedy.CREATE_MASTER)
            if not zipfile.is_zipfile(self.path):
                raise MasterError(f"“{self.path.name}”不是 Excel 工作簿（.xlsx），无法作为台账打开。")
            try:
                self._opened = file_state(self.path)
                self._reader = CalamineWorkbook.from_path(str(self.path))
            except Exception as exc:  # calamine raises several private error types
                raise MasterError(f"无法读取台账“{self.path.name}”：文件已损坏或不是 .xlsx 工作簿。") from exc
        return self._reader

    @property
    def opened(self) -> tuple[int, int, int]:
        """Which file this gateway reads: its ``file_state`` as the reader opened it (a file
        saved over it since has another)."""
        self._open_reader()
        assert self._opened is not None  # taken with the reader
        return self._opened

    def sheet_names(self) -> list[str]:
        return list(self._open_reader().sheet_names)

    def read_table(self, sheet: str, first_column: int = 1) -> TableData:
        """The header row and rows under it, starting at ``first_column``; the table ends at
        the first empty header cell, so rows typed below an Excel table are not missed."""
        reader = self._open_reader()
        if sheet not in reader.sheet_names:
            raise MasterError(f"台账“{self.path.name}”中没有工作表“{sheet}”。")
        grid = self._read_ahead_grid(sheet)
        if grid is None:
            grid = reader.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        data = table_from_grid(grid, first_column)
        if first_column == 1:
            self.shapes[sheet] = (list(grid[0]) if grid else [], len(data.rows),
                                  max((len(row) for row in grid), default=0))
        return data

    def read_ahead(self, sheets: Sequence[str]) -> None:
        """Read ``sheets`` in a thread of their own, with a reader of their own (of the same
        file): python-calamine parses a sheet without holding the interpreter, so a large
        table (the ledger) is read while the ones before it are decoded into records."""
        reader = self._open_reader()
        wanted = [s for s in sheets if s in reader.sheet_names
                  and s not in self._ahead and s not in self._ahead_keys]
        if not wanted:
            return
        path, opened = self.path, self._opened
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zdxm-read-ahead")

        def read(sheet: str) -> list[list[Cell]]:
            # the file this gateway opened, not one that has replaced it since: what was
            # read is only taken when the file was the same before and after
            if file_state(path) != opened:
                raise _Replaced
            grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(
                skip_empty_area=False)
            if file_state(path) != opened:
                raise _Replaced
            return grid

        for sheet in wanted:
            if sheet in self.keyed:
                self._ahead_keys[sheet] = pool.submit(self._read_keys, sheet)
            else:
                self._ahead[sheet] = pool.submit(read, sheet)
        pool.shutdown(wait=False)

    def read_keys(self, sheet: str) -> KeyedRows | None:
        """A sheet given in ``keyed``, read for its keys first (``KeyedRows``): read ahead
        if it was; ``None`` when it was not given, or it is not as zdxm writes it (read it
        with ``read_table`` then)."""
        if sheet not in self.keyed:
            return None
        future = self._ahead_keys.pop(sheet, None)
        try:
            keyed = future.result() if future is not None else self._read_keys(sheet)
        except (_Replaced, OSError):  # read in turn then, which says what is wrong
            return None
        if keyed is not None:
            self.shapes[sheet] = (keyed.header, keyed.body_rows, len(keyed.header))
            self.keyed_package = keyed.package
        return keyed

    def _read_keys(self, sheet: str) -> KeyedRows | None:
        """``read_keys`` of the file this gateway opened, not one that has replaced it
        since (``_Replaced``): what was read is only taken when the file was the same
        before and after."""
        opened = self.opened
        if file_state(self.path) != opened:
            raise _Replaced
        data = self.path.read_bytes()
        if file_state(self.path) != opened:
            raise _Replaced
        return _read_keys(data, sheet, self.keyed[sheet])

    def _read_ahead_grid(self, sheet: str) -> list[list[Cell]] | None:
        """The values of ``sheet`` read ahead, if it was; ``None`` when it was not, or the
        reading failed (read it here then, which says what is wrong)."""
        future = self._ahead.pop(sheet, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # calamine raises several private error types
            return None

    # ---- writing ----------------------------------------------------------------------
    def _open_writer(self) -> openpyxl.Workbook:
        if self._book is None:
            import openpyxl

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
        self._rows.pop(name, None)
        if name in book.sheetnames:
            old = book[name]
            position = book.sheetnames.index(name)
            book.remove(old)
            return book.create_sheet(name, position)
        return book.create_sheet(name, index)

    def sheet(self, name: str) -> Worksheet:
        from .styles import write_text

        book = self._open_writer()
        if name in book.sheetnames:
            ws = book[name]
            if name in self._rows:  # the sheet holds more than that table: rows through openpyxl
                rows, width = self._rows.pop(name)
                for r, row in enumerate(rows[1:], start=3):
                    for column, value in enumerate(row, start=1):
                        cell = ws.cell(row=r, column=column)
                        write_text(cell, _plain(value))
                        cell._style = copy(ws.cell(row=2, column=column)._style)
            return ws
        return book.create_sheet(name)

    def write_table(self, spec: SheetSpec, rows: Sequence[Sequence[Cell]],
                    layout: Layout = PLAIN) -> None:
        """Lay ``rows`` out as an Excel table with formats, widths and dropdowns.

        A sheet holding only this table is rebuilt from scratch; a table sharing its sheet
        (设置) is written in place.
        """
        from openpyxl.styles import Alignment
        from openpyxl.worksheet.table import Table, TableStyleInfo

        from .styles import HEADER_FILL, HEADER_FONT, NUMBER_FORMATS, write_text

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
            ws.column_dimensions[column_letter(col0 + offset)].width = column.width
        formats = [NUMBER_FORMATS[column.kind] for column in spec.columns]
        styles: list[Any] = []  # each column's style, set once and copied (see forms)
        alone = col0 == 1  # the sheet holds only this table
        # A table alone on its sheet gets its first row (or an empty one) from openpyxl,
        # which gives each column its style; the rest are written by ``commit`` straight
        # into the sheet's XML in those styles (``package.sheet_with_rows``).
        written = (list(rows[:1]) or [[None] * len(spec.columns)]) if alone else rows
        for r, row in enumerate(written, start=2):
            for offset, value in enumerate(row):
                cell = ws.cell(row=r, column=col0 + offset)
                write_text(cell, _plain(value))
                if r == 2:
                    cell.number_format = formats[offset]
                    styles.append(cell._style)
                else:
                    cell._style = copy(styles[offset])
        if alone:
            self._rows[spec.sheet] = (rows, len(spec.columns))
        last_row = max(len(rows) + 1, 2)  # an Excel table needs one body row, even empty
        first = column_letter(col0)
        last = column_letter(col0 + len(spec.columns) - 1)
        table = Table(displayName=spec.table, ref=f"{first}1:{last}{last_row}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        # The columns' names are the header cells' text; named here, openpyxl does not make
        # a cell object for every cell of the table's range to find them when it saves.
        table._initialise_columns()
        for table_column, column in zip(table.tableColumns, spec.columns, strict=True):
            table_column.name = column.title
        ws.add_table(table)
        if col0 == 1:
            ws.freeze_panes = _freeze_at(spec)
            ws.row_dimensions[1].height = 30
            _group_technical(ws, spec)
            _print_setup(ws, spec)
        self._add_validations(ws, spec, layout)

    def _add_validations(self, ws: Worksheet, spec: SheetSpec, layout: Layout) -> None:
        for offset, column in enumerate(spec.columns):
            letter = column_letter(layout.first_column + offset)
            sqref = f"{letter}2:{letter}{LAST_ROW}"
            validation = _validation_for(column, layout)
            if validation is not None:
                validation.add(sqref)
                ws.add_data_validation(validation)

    def write_note(self, sheet: str, column: int, text: str, rows: int = 1) -> None:
        """A block of wrapped text at row 1 of ``column``, merged down ``rows`` rows."""
        from openpyxl.styles import Alignment

        from .styles import write_text

        ws = self.sheet(sheet)
        cell = ws.cell(row=1, column=column)
        write_text(cell, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[column_letter(column)].width = SUMMARY_NOTE_WIDTH
        if rows > 1:
            ws.merge_cells(start_row=1, start_column=column, end_row=rows, end_column=column)

    def write_system(self, sheet: str, pairs: Sequence[tuple[str, str]]) -> None:
        from .styles import write_text

        ws = self.fresh_sheet(sheet)
        for r, (key, value) in enumerate(pairs, start=1):
            write_text(ws.cell(row=r, column=1), key)
            write_text(ws.cell(row=r, column=2), value)
        ws.sheet_state = "veryHidden"

    def arrange(self, order: Sequence[str]) -> None:
        book = self._open_writer()
        position = {name: i for i, name in enumerate(order)}
        ours = sorted((ws for ws in book.worksheets if ws.title in position),
                      key=lambda ws: position[ws.title])
        theirs = [ws for ws in book.worksheets if ws.title not in position]
        book._sheets = ours[:-2] + theirs + ours[-2:] if len(ours) > 2 else ours + theirs
        book.active = 0

    def define_list(self, name: str, sheet: str, column: int, rows: int) -> None:
        """A workbook-level name for a list kept on a sheet (e.g. 县区 for the dropdowns)."""
        from openpyxl.workbook.defined_name import DefinedName

        book = self._open_writer()
        letter = column_letter(column)
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
        book, tables = self._book, self._rows

        def write(temp: Path) -> None:
            laid_out = io.BytesIO()
            book.save(laid_out)
            package = Package(laid_out.getvalue())
            parts = package.sheets()
            with open(temp, "wb") as target:
                package.write(target, {parts[sheet].sheet: sheet_with_rows(
                    package.part(parts[sheet].sheet), rows, width)
                    for sheet, (rows, width) in tables.items()})

        atomic_write(self.path, write, verify)
        self._reader = None

    @staticmethod
    def rewritten_parts(package: Package, tables: Mapping[str, tuple[NewRows, int]],
                        copied: dict[str, Copied] | None = None
                        ) -> tuple[dict[str, bytes], dict[str, list[tuple[Any, ...]]]]:
        """The parts of ``package`` (the file as it is) that hold the rows of ``tables``
        (sheet → its rows from the first that changed, and its columns), made anew: each
        sheet with its rows rewritten, and its table's range. For ``commit_changes``; with
        each sheet's new rows as python-calamine reads them back (``sheet_with_new_rows``).
        Where each new sheet part holds its old bytes is put in ``copied``."""
        parts = package.sheets()
        replaced: dict[str, bytes] = {}
        reading: dict[str, list[tuple[Any, ...]]] = {}
        for sheet, (rows, width) in tables.items():
            where = parts.get(sheet)
            if where is None or where.table is None:
                raise PackageLayoutError(f"no table on sheet {sheet}")
            replaced[where.sheet], reading[sheet], kept = sheet_with_new_rows(
                package.part(where.sheet), rows, width)
            if copied is not None:
                copied[where.sheet] = kept
            replaced[where.table] = with_table_rows(package.part(where.table), rows.count)
        return replaced, reading

    def commit_changes(self, package: Package, replaced: dict[str, bytes],
                       verify: Callable[[Path], None] | None = None,
                       copied: Mapping[str, Copied] | None = None) -> None:
        """Save over ``path`` the workbook ``package`` (the file as it is) with the parts in
        ``replaced`` new (``rewritten_parts``) and every other part as it is: a save costs
        what changed (``copied``: see ``Package.write``). Atomic, after a backup, and
        verified, as ``commit``."""
        refuse_if_open_elsewhere(self.path)
        backup(self.path)

        def write(temp: Path) -> None:
            with open(temp, "wb") as target:
                package.write(target, replaced, copied=copied)

        atomic_write(self.path, write, verify)
        self._reader = None


@dataclass(frozen=True)
class KeyedRows:
    """A table read for some columns first: its header, each filled row's number and its
    cells under the key titles, and ``whole``, which reads rows whole when asked for."""

    header: list[Cell]
    numbers: list[int]
    keys: list[tuple[str, ...]]  # each row's key cells' text, "" where empty
    whole: SheetRows
    package: Package  # the file's, as read
    # the table's body rows, as ``read_table`` counts them: empty rows at its end are not
    # (the one empty row a table without records keeps)
    body_rows: int


class SheetRows:
    """Rows of a sheet as zdxm writes it, read whole by number when asked for — as
    python-calamine reads the sheet, from the sheet's XML kept from reading its keys."""

    def __init__(self, sheet_xml: bytes, styles: bytes, width: int) -> None:
        self.sheet_xml, self.styles, self.width = sheet_xml, styles, width

    def __call__(self, numbers: Sequence[int]) -> list[list[Cell]]:
        if not numbers:
            return []
        try:
            book = workbook_of_rows(rows_renumbered(self.sheet_xml, numbers), self.styles)
            reader = CalamineWorkbook.from_filelike(io.BytesIO(book))
            grid = reader.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises several private error types
            raise MasterError("台账的月报台帐无法读取：文件已损坏。请用备份恢复台账。") from exc
        rows = [list(row[:self.width]) + [""] * (self.width - len(row)) for row in grid]
        rows += [[""] * self.width for _ in range(len(numbers) - len(rows))]
        if len(rows) != len(numbers):
            raise MasterError("台账的月报台帐无法读取：文件已损坏。请用备份恢复台账。")
        return rows


def _read_keys(data: bytes, sheet: str, titles: Sequence[str]) -> KeyedRows | None:
    """``sheet`` of the workbook ``data`` read for the columns under ``titles`` first
    (``package.key_cells``); ``None`` when it is not as zdxm writes it."""
    try:
        package = Package(data)
        if any(name.endswith("sharedStrings.xml") for name in package.infos):
            return None  # saved by a spreadsheet program: text is not where zdxm puts it
        parts = package.sheets().get(sheet)
        if parts is None:
            return None
        sheet_xml = package.part(parts.sheet)
        found = key_cells(sheet_xml, titles)
        if found is None:
            return None
        header, numbers, keys = found
        whole = SheetRows(sheet_xml, package.styles(), len(header))
        body = len(numbers)
        while body and not any(keys[body - 1]) and is_blank_row(whole([numbers[body - 1]])[0]):
            body -= 1
        return KeyedRows(list(header), numbers, keys, whole, package, body)
    except (PackageLayoutError, ValueError, MasterError):  # read whole: that says what is wrong
        return None


class _Replaced(Exception):
    """The file was replaced while a sheet was read ahead: read it in turn instead."""


# The name columns kept in view when scrolling right: the frozen panes end after them.
NAME_FIELDS = ("name", "project_name")
A4_LANDSCAPE_WIDTH = 150  # column width units that print legibly on A4 landscape; wider: A3
FOOTER = ("重大项目台账 · &A", "第 &P 页，共 &N 页", "打印日期 &D")


def _freeze_at(spec: SheetSpec) -> str:
    """The header row always; and the columns up to the project's (or unit's) name, so 项目
    编号 and 项目名称 stay in view."""
    fields = spec.fields[:4]
    named = [fields.index(f) for f in NAME_FIELDS if f in fields]
    if named:
        return f"{column_letter(named[0] + 2)}2"
    return "B2" if len(spec.columns) > 4 else "A2"


def _group_technical(ws: Worksheet, spec: SheetSpec) -> None:
    """Columns only zdxm reads (file fingerprints, message ids) are grouped and collapsed:
    out of the way, out of print, one click on the outline's + away."""
    for offset, column in enumerate(spec.columns, start=1):
        if column.technical:
            letter = column_letter(offset)
            ws.column_dimensions.group(letter, letter, outline_level=1, hidden=True)


def _print_setup(ws: Worksheet, spec: SheetSpec) -> None:
    """Landscape, one page wide (A3 for the wide plan and ledger sheets), the header row on
    every page, the sheet's name, page and date in the footer; 汇总 on one page."""
    from .styles import print_ready

    width = sum(c.width for c in spec.columns if not c.technical)
    if spec.sheet == SUMMARY_SHEET:
        width += SUMMARY_NOTE_WIDTH
    paper = ws.PAPERSIZE_A4 if width <= A4_LANDSCAPE_WIDTH or spec.sheet == SUMMARY_SHEET \
        else ws.PAPERSIZE_A3
    print_ready(ws, paper=paper, title_rows="1:1", footer=FOOTER)
    if spec.sheet == SUMMARY_SHEET:
        ws.page_setup.fitToHeight = 1


def _plain(value: Cell) -> Cell:
    # openpyxl writes Decimal exactly (as its decimal text); dates stay dates.
    if isinstance(value, Decimal | int | str | date | datetime) or value is None:
        return value
    return str(value)


def _validation_for(column: Column, layout: Layout) -> DataValidation | None:
    from openpyxl.worksheet.datavalidation import DataValidation

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
