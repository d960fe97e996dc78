"""A form of our own making, filled in where it stands (填写模板).

The demo's 信息员 (``demo.fill``) fill every unit's form, month after month, and the tests
and benchmarks fill hundreds more. openpyxl would lay out every part of a form again to
change a few hundred cells: reading the styles, comments and dropdowns into objects and
writing them back out took nearly all of the tenth of a second a form took to fill.
``FormBook`` reads a form's sheets' cells from their XML, changes the cells written, and
saves a file in which only the sheets written to are new: every other part — styles,
comments, dropdowns, protection, the identity's signature — is copied as it is, still
compressed, as a spreadsheet program keeps what it was not asked to change.

For forms zdxm wrote (``reports.forms``, through openpyxl): cells as openpyxl writes them —
inline text, numbers, formulas. The master's 设置 sheet, as zdxm writes it, is read and
changed the same way when a save changes a setting in place (``masterio``). A sheet laid
out otherwise is refused (``PackageLayoutError``): this is no reader of files from outside
the office (that is ``checks/``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..core.cells import column_letter, column_number
from .package import Package, PackageLayoutError, cell_xml, unescape
from .safety import atomic_write

__all__ = ["FormBook", "FormSheet"]

_ROW = re.compile(rb'<row r="([0-9]+)"([^>]*?)(?:/>|>(.*?)</row>)', re.DOTALL)
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)
_STYLE = re.compile(rb'\bs="([0-9]+)"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_FORMULA = re.compile(rb"<f>(.*?)</f>", re.DOTALL)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.DOTALL)
_INLINE = re.compile(rb"^<is><t(?: [^>]*)?>(.*?)</t></is>$|^<is><t(?: [^>]*)?/></is>$", re.DOTALL)
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3}[0-9]+)(?::([A-Z]{1,3})([0-9]+))?"/>')


def _number(raw: bytes) -> int | float:
    """A number cell's value as openpyxl gives it: an int when written without a point."""
    text = raw.decode("ascii")
    return float(text) if any(mark in text for mark in ".eE") else int(text)


class _Cell:
    """A cell: its style and value, and its XML — as it is in the sheet, or as written —
    and, for a formula, the formula as it is in the XML."""

    __slots__ = ("style", "value", "xml", "formula")

    def __init__(self, style: str | None, value: Any, xml: bytes,
                 formula: bytes | None = None) -> None:
        self.style = style
        self.value = value
        self.xml = xml
        self.formula = formula

    def uncomputed(self, reference: bytes) -> bytes:
        """A formula cell without the result it held: a spreadsheet program computes it
        on opening (as openpyxl writes every formula)."""
        style = b' s="%s"' % self.style.encode() if self.style is not None else b""
        return b'<c r="%s"%s><f>%s</f><v></v></c>' % (reference, style, self.formula)


class _Row:
    """A row: its attributes, its cells by column, and whether a cell was written to (else
    it is ``xml``, its bytes as they are in the sheet)."""

    __slots__ = ("attributes", "cells", "xml", "written")

    def __init__(self, attributes: bytes, cells: dict[int, _Cell], xml: bytes) -> None:
        self.attributes = attributes
        self.cells = cells
        self.xml = xml
        self.written = False


class FormSheet:
    """One sheet of a ``FormBook`` (or the master's 设置): its cells by row and column
    (both from 1)."""

    def __init__(self, name: str, xml: bytes) -> None:
        self.name = name
        start, end = xml.find(b"<sheetData>"), xml.rfind(b"</sheetData>")
        if start < 0 or end < start:
            empty = xml.find(b"<sheetData/>")
            if empty < 0:
                raise PackageLayoutError(f"{name}: no sheetData")
            self._head = xml[:empty] + b"<sheetData>"
            self._tail = b"</sheetData>" + xml[empty + len(b"<sheetData/>"):]
            body = b""
        else:
            self._head, self._tail = xml[:start + len(b"<sheetData>")], xml[end:]
            body = xml[start + len(b"<sheetData>"):end]
        self._rows: dict[int, _Row] = {}
        self.formulas = False  # whether a cell holds a formula
        at = 0
        for found in _ROW.finditer(body):
            if body[at:found.start()].strip():
                raise PackageLayoutError(f"{name}: rows not as zdxm writes them")
            at = found.end()
            number, content = int(found[1]), found[3] or b""
            self._rows[number] = _Row(found[2], self._cells(number, content), found[0])
        if body[at:].strip():
            raise PackageLayoutError(f"{name}: rows not as zdxm writes them")
        self.changed = False

    def _cells(self, number: int, content: bytes) -> dict[int, _Cell]:
        cells: dict[int, _Cell] = {}
        at = 0
        for found in _CELL.finditer(content):
            if content[at:found.start()].strip() or int(found[2]) != number:
                raise PackageLayoutError(f"{self.name}: cells of row {number} not as zdxm "
                                         "writes them")
            at = found.end()
            style, value, formula = self._read(found[3], found[4] or b"")
            cells[column_number(found[1].decode())] = _Cell(style, value, found[0],
                                                                        formula)
            self.formulas = self.formulas or formula is not None
        if content[at:].strip():
            raise PackageLayoutError(f"{self.name}: cells of row {number} not as zdxm writes them")
        return cells

    def _read(self, attributes: bytes, content: bytes) -> tuple[str | None, Any, bytes | None]:
        """A cell's style, value and — for a formula — the formula as it is in the XML."""
        style = _STYLE.search(attributes)
        kind = _TYPE.search(attributes)
        kind_name = kind[1].decode() if kind else "n"
        formula = _FORMULA.search(content) if content else None
        if not content:
            value: Any = None
        elif formula is not None:
            value = "=" + unescape(formula[1])  # as openpyxl gives a formula
        elif b"<f" in content:
            raise PackageLayoutError(f"{self.name}: a formula not as zdxm writes it")
        elif kind_name == "inlineStr":
            inline = _INLINE.match(content)
            if inline is None:
                raise PackageLayoutError(f"{self.name}: inline text not as zdxm writes it")
            value = unescape(inline[1] or b"")
        else:
            found = _VALUE.search(content)
            raw = found[1] if found is not None else b""
            if not raw:
                value = None
            elif kind_name == "n":
                value = _number(raw)
            elif kind_name == "b":
                value = raw == b"1"
            elif kind_name in ("str", "e"):
                value = unescape(raw)
            else:
                raise PackageLayoutError(f"{self.name}: a cell of type {kind_name}")
        return (style[1].decode() if style else None), value, \
            (formula[1] if formula is not None else None)

    @property
    def last_row(self) -> int:
        """The last row holding a cell (as openpyxl's ``max_row``)."""
        return max((number for number, row in self._rows.items() if row.cells), default=0)

    @property
    def last_column(self) -> int:
        """The last column holding a cell, in any row (as openpyxl's ``max_column``)."""
        return max((max(row.cells) for row in self._rows.values() if row.cells), default=0)

    def value(self, row: int, column: int) -> Any:
        """The cell's value: text, a number, ``True``/``False``, a formula as ``=…``, or
        ``None`` for an empty cell (a date is the number a date cell holds)."""
        found = self._rows.get(row)
        cell = found.cells.get(column) if found is not None else None
        return None if cell is None else cell.value

    def row_values(self, row: int) -> list[Any]:
        """The values of row ``row``, from column A to the sheet's last column."""
        return [self.value(row, column) for column in range(1, self.last_column + 1)]

    def set(self, row: int, column: int, value: Any) -> None:
        """Put ``value`` in the cell, keeping the cell's style: text is text (never a
        formula), without the characters XML cannot hold; a number, a date, or ``None``
        to empty it. A cell the sheet does not have is made, unstyled."""
        found = self._rows.get(row)
        if found is None:
            found = self._rows[row] = _Row(b"", {}, b"")
        cell = found.cells.get(column)
        style = cell.style if cell is not None else None
        xml = cell_xml(f"{column_letter(column)}{row}", style, value).encode("utf-8")
        found.cells[column] = _Cell(style, self._read(*_parts_of(xml))[1], xml)  # no formula
        found.written = self.changed = True

    def xml(self) -> bytes:
        """The sheet's XML with its cells as they are now: a row not written to is its
        bytes as they were, but that every formula's result is left out — cells it adds up
        may have been written — for a spreadsheet program to compute on opening."""
        parts = [self._dimensioned(self._head)]
        for number in sorted(self._rows):
            row = self._rows[number]
            formulas = self.formulas and any(cell.formula is not None
                                             for cell in row.cells.values())
            if not (row.written or formulas):
                parts.append(row.xml)
                continue
            parts.append(b'<row r="%d"%s>' % (number, row.attributes))
            for column in sorted(row.cells):
                cell = row.cells[column]
                parts.append(cell.xml if cell.formula is None else cell.uncomputed(
                    b"%s%d" % (column_letter(column).encode(), number)))
            parts.append(b"</row>")
        parts.append(self._tail)
        return b"".join(parts)

    def _dimensioned(self, head: bytes) -> bytes:
        """The sheet's start, its dimension reaching its last cell (one made is counted)."""
        found = _DIMENSION.search(head)
        if found is None:
            return head
        rows, columns = self.last_row, self.last_column
        if found[2] is not None:
            rows = max(rows, int(found[3]))
            columns = max(columns, column_number(found[2].decode()))
        reach = b'<dimension ref="%s:%s%d"/>' % (found[1], column_letter(columns).encode(),
                                                 rows)
        return head[:found.start()] + reach + head[found.end():]


def _parts_of(cell: bytes) -> tuple[bytes, bytes]:
    """A cell's attributes and content, from its XML as ``cell_xml`` makes it."""
    found = _CELL.fullmatch(cell)
    assert found is not None  # made by cell_xml
    return found[3], found[4] or b""


class FormBook:
    """A form file, its sheets' cells to read and write (``sheet``), saved with only the
    sheets written to made anew (``save``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._package = Package(self.path.read_bytes())
        self._parts = {name: where.sheet for name, where in self._package.sheets().items()}
        self._sheets: dict[str, FormSheet] = {}

    @property
    def sheetnames(self) -> list[str]:
        return list(self._parts)

    def sheet(self, name: str) -> FormSheet:
        found = self._sheets.get(name)
        if found is None:
            if name not in self._parts:
                raise KeyError(name)
            found = self._sheets[name] = FormSheet(name, self._package.part(self._parts[name]))
        return found

    def save(self, path: Path | str) -> None:
        """Write the form with its sheets as they are now to ``path``, atomically: each
        part dated as it was in the form (the same form, filled alike, the same bytes)."""
        replaced = {self._parts[name]: sheet.xml()
                    for name, sheet in self._sheets.items() if sheet.changed}

        def write(temp: Path) -> None:
            with open(temp, "wb") as target:
                self._package.write(target, replaced, keep_times=True)

        atomic_write(Path(path), write)
