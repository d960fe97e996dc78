"""月报台帐 as the master holds it: rows decoded into records when they are first needed.

A master read from a workbook may hold tens of thousands of ledger rows (a province's
30,000 projects, a year of months). Most operations read them all — progress, the 简报,
考核 — and decode them all, once, as before. A merge of one unit's return needs only the
rows of that unit's projects: the ledger keeps each row as read, its 报告期, 牵头单位 and
项目编号 read out, and decodes the rest of a row when the row is first asked for. A row
never decoded was never changed: a save keeps it as it is in the file.

Anything built from records (``Ledger(entries)``, a test, the sample) is simply a list of
records. Rows that cannot be decoded are named, sheet, row and column, when they are first
asked for (``MasterError``, from the reader's ``decode``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from typing import Any, overload

from .models import LedgerEntry
from .pauses import collection_held
from .registry import LEDGER
from .tables import Cell, blank_row, column_decoder, header_index

__all__ = ["Ledger", "LedgerRow", "Decode", "Key", "ledger_rows", "keyed_rows", "KEY_TITLES"]

KEY_FIELDS = ("period", "project_id", "unit")  # in the order of the sheet's columns
KEY_TITLES = tuple(LEDGER.column(name).title for name in KEY_FIELDS)

Key = tuple[str, str | None, str]  # 报告期, 牵头单位, 项目编号


class LedgerRow:
    """A row as read: its number on the sheet, its cells (None: read with the record,
    when it is decoded), and its key read out; its record once decoded."""

    __slots__ = ("number", "cells", "key", "entry")

    def __init__(self, number: int, cells: Sequence[Any] | None, key: Key) -> None:
        self.number = number
        self.cells = cells
        self.key = key
        self.entry: LedgerEntry | None = None

    def __repr__(self) -> str:
        return f"LedgerRow({self.number}, {self.key})"


# Rows → their records, in order; raises ``MasterError`` naming the rows that cannot be read.
Decode = Callable[[Sequence[LedgerRow]], list[LedgerEntry]]


class Ledger(MutableSequence[LedgerEntry]):
    """月报台帐's records in order; rows read from a workbook are decoded when first asked
    for. ``key``, ``positions`` and ``marks`` answer without decoding."""

    def __init__(self, entries: Iterable[LedgerEntry] = (), *,
                 rows: Sequence[LedgerRow] = (), decode: Decode | None = None) -> None:
        if rows and decode is None:
            raise ValueError("rows read need their decode")
        self._items: list[LedgerEntry | LedgerRow] = [*rows, *entries]
        self._decode = decode
        self._by_project: dict[str, list[int]] | None = None

    # ---- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> LedgerEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[LedgerEntry]: ...

    def __getitem__(self, index: int | slice) -> LedgerEntry | list[LedgerEntry]:
        if isinstance(index, slice):
            return self._entries(self._items[index])
        item = self._items[index]
        if type(item) is LedgerRow:
            return item.entry if item.entry is not None else self._entries([item])[0]
        return item  # type: ignore[return-value]  # a record

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self._entries(self._items))

    def _entries(self, items: list[LedgerEntry | LedgerRow]) -> list[LedgerEntry]:
        """``items`` as records: the rows among them not yet decoded are, together."""
        pending = [item for item in items if type(item) is LedgerRow and item.entry is None]
        if pending:
            assert self._decode is not None  # rows come with their decode
            with collection_held():  # (the records hold no cycles: see ``core.pauses``)
                entries = self._decode(pending)
            if len(entries) != len(pending):
                raise ValueError("decode gave another number of records")
            for row, entry in zip(pending, entries, strict=True):
                row.entry = entry
        return [item.entry if type(item) is LedgerRow else item  # type: ignore[misc]
                for item in items]

    def at(self, positions: Iterable[int]) -> list[LedgerEntry]:
        """The records at ``positions``, the rows among them decoded together."""
        return self._entries([self._items[position] for position in positions])

    def key(self, position: int) -> Key:
        """(报告期, 牵头单位, 项目编号) of the row at ``position``, without decoding it."""
        item = self._items[position]
        if type(item) is LedgerRow:
            if item.entry is None:
                return item.key
            item = item.entry
        assert isinstance(item, LedgerEntry)
        return item.period, item.unit, item.project_id

    def periods(self, project_id: str | None = None) -> set[str]:
        """The 报告期 the ledger holds rows of (of project ``project_id``), decoding none."""
        where = range(len(self._items)) if project_id is None else self.positions(project_id)
        return {self.key(position)[0] for position in where}

    def positions(self, project_id: str) -> list[int]:
        """Where the rows of project ``project_id`` are, in order."""
        if self._by_project is None:
            found: dict[str, list[int]] = {}
            for position in range(len(self._items)):
                found.setdefault(self.key(position)[2], []).append(position)
            self._by_project = found
        return self._by_project.get(project_id, [])

    # ---- changing -----------------------------------------------------------------------
    @overload
    def __setitem__(self, index: int, value: LedgerEntry) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[LedgerEntry]) -> None: ...

    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            self._items[index] = [_entry(v) for v in value]
        else:
            self._items[index] = _entry(value)
        self._by_project = None

    def __delitem__(self, index: int | slice) -> None:
        del self._items[index]
        self._by_project = None

    def insert(self, index: int, value: LedgerEntry) -> None:
        at_end = index >= len(self._items)
        self._items.insert(index, _entry(value))
        if at_end and self._by_project is not None:  # the usual: a row added at the end
            self._by_project.setdefault(value.project_id, []).append(len(self._items) - 1)
        else:
            self._by_project = None

    def drop(self, positions: Iterable[int]) -> None:
        """Remove the rows at ``positions``, in one pass whatever their number."""
        gone = set(positions)
        if gone:
            self._items = [item for n, item in enumerate(self._items) if n not in gone]
            self._by_project = None

    # ---- what a save compares -----------------------------------------------------------
    def marks(self, start: int = 0) -> list[object]:
        """What the rows from ``start`` are now, to tell later whether they changed
        (``first_change``): a row read is its own mark; a record, its fields as they are."""
        return [item if type(item) is LedgerRow else item.__dict__.copy()
                for item in self._items[start:]]

    def first_change(self, marks: Sequence[object]) -> int:
        """The first position whose row is not as it was when ``marks`` were taken; the
        shorter length when none is. A row decoded since is compared with its cells decoded
        afresh (the few a merge decoded, together)."""
        limit = min(len(self._items), len(marks))
        items = self._items
        decoded = [n for n in range(limit) if type(items[n]) is LedgerRow
                   and items[n] is marks[n] and items[n].entry is not None]  # type: ignore[union-attr]
        fresh: dict[int, LedgerEntry] = {}
        if decoded:
            assert self._decode is not None
            with collection_held():
                again = self._decode([items[n] for n in decoded])  # type: ignore[misc]
            fresh = dict(zip(decoded, again, strict=True))
        for position in range(limit):
            item, mark = items[position], marks[position]
            if type(item) is LedgerRow:
                if item is not mark or (item.entry is not None
                                        and item.entry.__dict__ != fresh[position].__dict__):
                    return position
            elif type(mark) is not dict or item.__dict__ != mark:
                return position
        return limit

    # ---- as a list ------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Ledger, list)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"Ledger({len(self._items)} rows)"


def _entry(value: object) -> LedgerEntry:
    if not isinstance(value, LedgerEntry):
        raise TypeError(f"a ledger holds LedgerEntry records, not {type(value).__name__}")
    return value


def ledger_rows(header: Sequence[Cell], rows: Sequence[Sequence[Cell]], first_row: int = 2
                ) -> tuple[list[LedgerRow], list[tuple[int, Sequence[Cell]]]]:
    """The filled rows of a 月报台帐 table as read (``header`` and the rows under it, from
    row ``first_row``), each with its key read out; and, apart, the rows whose key cannot
    be read — to be decoded at once, which says why. No rows when the header lacks a key
    column: decoding any row says that."""
    index = header_index(header)
    where = [index.get(title) for title in KEY_TITLES]
    period_at, project_at, unit_at = where
    if period_at is None or project_at is None:
        return [], [(first_row + n, row) for n, row in enumerate(rows) if not blank_row(row)]
    reach = max(position for position in where if position is not None)
    found: list[LedgerRow] = []
    unreadable: list[tuple[int, Sequence[Cell]]] = []
    for offset, row in enumerate(rows):
        if blank_row(row):
            continue
        number = first_row + offset
        key = _key(row[period_at], row[project_at],
                   row[unit_at] if unit_at is not None else None) if len(row) > reach else None
        if key is None:
            unreadable.append((number, row))
        else:
            found.append(LedgerRow(number, row, key))
    return found, unreadable


def keyed_rows(numbers: Sequence[int], keys: Sequence[Sequence[Cell]]
               ) -> tuple[list[LedgerRow], list[int]]:
    """Rows known by their numbers and their key cells (报告期, 项目编号, 牵头单位) only, their
    other cells read when they are decoded; and, apart, the numbers of the rows whose key
    cannot be read (read them whole and decode them at once, which says why)."""
    found: list[LedgerRow] = []
    unreadable: list[int] = []
    for number, (period, project, unit) in zip(numbers, keys, strict=True):
        key = _key(period, project, unit)
        if key is None:
            unreadable.append(number)
        else:
            found.append(LedgerRow(number, None, key))
    return found, unreadable


_READ_KEY = tuple(column_decoder(LEDGER.column(name)) for name in KEY_FIELDS)


def _key(period: Cell, project: Cell, unit: Cell) -> Key | None:
    """A row's key as its record will hold it; None when it cannot be read."""
    read_period, read_project, read_unit = _READ_KEY
    try:
        key = (read_period(period), read_unit(unit), read_project(project))
    except ValueError:
        return None
    return key if key[0] is not None and key[2] is not None else None
