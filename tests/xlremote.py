"""A workbook file as xlwings' remote engine receives it, for testing the add-in on Linux.

``book_payload`` builds the JSON that xlwings' VBA client (``Remote.bas`` of the xlwings
add-in) posts for the active workbook: every worksheet (hidden ones too) with its values
from A1 to the end of the used range (dates as ISO text, empty cells as null), its Excel
tables with their absolute addresses, and the workbook's defined names. ``xw.Book(json=…)``
turns it into a book whose writes are recorded as actions (``book.json()``).

The remote engine is xlwings PRO code (PolyForm Noncommercial): tests enable it through
the ``remote_book`` fixture with ``XLWINGS_LICENSE_KEY=noncommercial``; the add-in itself
uses only xlwings' open-source API.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries


def _absolute(ref: str) -> str:
    first_col, first_row, last_col, last_row = range_boundaries(ref)
    start = f"${get_column_letter(first_col)}${first_row}"
    end = f"${get_column_letter(last_col)}${last_row}"
    return start if start == end else f"{start}:{end}"


def _value(value: Any) -> Any:
    """A cell as VBA's JSON converter writes it (WebHelpers.ConvertToJson)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return datetime.combine(value, time()).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, str) and value.startswith("="):
        return None  # a formula's cached value is not in the file openpyxl reads
    return value


def book_payload(path: Path, active_sheet: int = 0) -> dict[str, Any]:
    """The remote-engine JSON for the workbook file at ``path``."""
    import xlwings

    book = openpyxl.load_workbook(path)
    sheets = []
    for ws in book.worksheets:
        rows = [[_value(cell.value) for cell in row]
                for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)]
        tables = []
        for table in ws.tables.values():
            first_col, first_row, last_col, last_row = range_boundaries(table.ref)
            head = f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{first_row}"
            body = (f"{get_column_letter(first_col)}{first_row + 1}:"
                    f"{get_column_letter(last_col)}{last_row}") if last_row > first_row else None
            style = table.tableStyleInfo.name if table.tableStyleInfo is not None else ""
            tables.append({
                "name": table.displayName, "range_address": _absolute(table.ref),
                "header_row_range_address": _absolute(head),
                "data_body_range_address": _absolute(body) if body else None,
                "total_row_range_address": None, "show_headers": True, "show_totals": False,
                "table_style": style, "show_autofilter": True,
            })
        sheets.append({"name": ws.title, "pictures": [], "tables": tables,
                       "values": rows if rows and rows[0] else [[]]})
    names = []
    for name, defined in book.defined_names.items():
        for sheet_name, ref in defined.destinations:
            names.append({"name": name, "sheet_index": book.sheetnames.index(sheet_name),
                          "address": ref.replace("$", ""), "book_scope": True,
                          "scope_sheet_name": None, "scope_sheet_index": None})
    return {
        "client": "VBA",
        "version": xlwings.__version__,
        "book": {"name": path.name, "active_sheet_index": active_sheet, "selection": "A1"},
        "names": names,
        "sheets": sheets,
    }


def actions(book: Any, func: str | None = None) -> list[dict[str, Any]]:
    """The actions a remote book recorded, optionally only those of one kind."""
    recorded: list[dict[str, Any]] = book.json()["actions"]
    return [a for a in recorded if func is None or a["func"] == func]


def written_tables(book: Any) -> list[list[Any]]:
    """The first row (header) of every value write, in order."""
    return [a["values"][0] for a in actions(book, "setValues")]


def _as_cell(value: Any) -> Any:
    """What a cell holds after Excel received ``value`` as the remote client writes it."""
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:]  # the apostrophe keeps text text; it is not part of the value
        for pattern in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
            try:
                return _value(datetime.strptime(value, pattern))
            except ValueError:
                pass
        return value if value != "" else None
    return value


def apply_actions(payload: dict[str, Any], recorded: list[dict[str, Any]]) -> dict[str, Any]:
    """The payload as the workbook would look after Excel ran the value and table actions."""
    import copy

    result = copy.deepcopy(payload)
    for action in recorded:
        sheet = result["sheets"][action["sheet_position"]] if action["sheet_position"] is not None \
            else None
        if action["func"] == "setValues":
            assert sheet is not None
            grid = sheet["values"]
            top, left = action["start_row"], action["start_column"]
            for r, row in enumerate(action["values"]):
                while len(grid) <= top + r:
                    grid.append([])
                for c, value in enumerate(row):
                    line = grid[top + r]
                    while len(line) <= left + c:
                        line.append(None)
                    line[left + c] = _as_cell(value)
            width = max(len(line) for line in grid)
            for line in grid:
                line.extend([None] * (width - len(line)))
        elif action["func"] in ("resizeTable", "addTable"):
            assert sheet is not None
            if action["func"] == "resizeTable":
                table = sheet["tables"][action["args"][0]]
                address = action["args"][1]
            else:
                address, name = action["args"][0], action["args"][3]
                table = {"name": name, "total_row_range_address": None, "show_headers": True,
                         "show_totals": False, "table_style": action["args"][2],
                         "show_autofilter": True}
                sheet["tables"].append(table)
            ref = address.replace("$", "")
            first_col, first_row, last_col, last_row = range_boundaries(ref)
            table["range_address"] = _absolute(ref)
            table["header_row_range_address"] = _absolute(
                f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{first_row}")
            table["data_body_range_address"] = _absolute(
                f"{get_column_letter(first_col)}{first_row + 1}:{get_column_letter(last_col)}{last_row}")
        elif action["func"] == "addSheet":
            position, name = action["args"]
            result["sheets"].insert(position, {"name": name, "pictures": [], "tables": [],
                                               "values": [[]]})
    return result
