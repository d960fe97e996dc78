"""Workbook gateways: where table rows come from and go to.

The core reads and writes the master as tables of cell values (``core.tables``). A gateway
moves those tables in and out of a workbook in bulk — one read and one write per table.
There are two: ``filebook.FileGateway`` over a .xlsx file (the command line) and
``livebook.XlwingsGateway`` over a book open in Excel (the add-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from ..core.registry import SheetSpec

__all__ = ["Cell", "TableData", "Gateway", "Layout", "PLAIN", "table_from_grid"]

Cell = Any


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

    def read_ahead(self, sheets: Sequence[str]) -> None:
        """A hint: these sheets will be read next-but-one; a gateway may begin reading them
        now, beside the work done on what was read before (or do nothing)."""
        ...

    def write_table(self, spec: SheetSpec, rows: Sequence[Sequence[Cell]],
                    layout: Layout = ...) -> None: ...

    def write_note(self, sheet: str, column: int, text: str, rows: int = 1) -> None:
        """A block of text at row 1 of ``column`` beside a table (the 汇总 sheet's words),
        spanning ``rows`` rows."""
        ...

    def define_list(self, name: str, sheet: str, column: int, rows: int) -> None:
        """A workbook-level name for a list kept on a sheet (the 县区 of the dropdowns)."""
        ...

    def write_system(self, sheet: str, pairs: Sequence[tuple[str, str]]) -> None:
        """The very hidden sheet of pairs only zdxm reads (format version, secret key)."""
        ...

    def arrange(self, order: Sequence[str]) -> None:
        """Put our sheets in ``order``; sheets the office added stay, before the last two."""
        ...


PLAIN = Layout()  # a table from column A, with no lists


def table_from_grid(values: Sequence[Sequence[Cell]], first_column: int = 1) -> TableData:
    """A sheet's values from A1 → the table whose header starts at ``first_column`` of row 1;
    the table ends at the first empty header cell, and trailing empty rows are dropped."""
    if not values:
        return TableData([], [])
    start = first_column - 1
    header = list(values[0][start:])
    width = next((i for i, v in enumerate(header) if v in ("", None)), len(header))
    header = header[:width]
    if start == 0 and all(len(row) == width for row in values):  # the usual table: as read
        rows = cast(list[list[Cell]], list(values[1:]))
    else:
        rows = [list(row[start:start + width]) for row in values[1:]]
    while rows and all(v in ("", None) for v in rows[-1]):
        rows.pop()
    return TableData(header, rows)
