"""Between records and table rows, driven by the registry.

``decode_table`` turns the rows a workbook gateway read (header row + value rows, in any
column order) into pydantic records; ``encode_table`` turns records back into rows of cell
values in the registry's column order. Both front ends' gateways (an openpyxl file, a live
Excel book) exchange exactly these rows, so neither holds any business rule.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError

from .cells import clean_text, parse_date, parse_month, parse_year_span, split_units
from .money import LARGEST_FLOAT, AmountError, from_cell, parse_amount
from .periods import parse_period
from .registry import Column, Kind, SheetSpec

__all__ = ["RowProblem", "decode_value", "encode_value", "decode_table", "decode_rows",
           "encode_table", "encode_columns", "each_once", "header_index", "is_blank_row",
           "blank_row", "column_decoder"]

T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)
Cell = Any


class RowProblem(ValueError):
    """A value that cannot be read: where it is and why, in Chinese."""

    def __init__(self, sheet: str, row: int, header: str, value: object, reason: str) -> None:
        super().__init__(f"工作表“{sheet}”第{row}行“{header}”：{reason}（现为“{value}”）")
        self.sheet, self.row, self.header, self.value, self.reason = sheet, row, header, value, reason


def decode_value(column: Column, value: Cell) -> Any:
    """One cell → the Python value of the column's kind; ``ValueError`` with a Chinese reason."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if value is None:
        return None
    kind = column.kind
    if kind is Kind.MONEY:
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ValueError(exc.reason) from exc
    if kind is Kind.INT:
        amount = parse_amount(value)
        if amount is None or amount != amount.to_integral_value():
            raise ValueError("应为整数")
        return int(amount)
    if kind is Kind.DATE:
        return parse_date(value)
    if kind is Kind.MONTH:
        return parse_month(value)
    if kind is Kind.DATETIME:
        if isinstance(value, datetime):
            return value
        parsed = parse_date(value)
        return datetime(parsed.year, parsed.month, parsed.day) if parsed else None
    if kind is Kind.PERIOD:
        return parse_period(value)
    if kind is Kind.UNIT_LIST:
        return split_units(value) or None
    if kind is Kind.YEARS:
        return parse_year_span(value)
    text = clean_text(value)
    if kind is Kind.CHOICE and column.choices and text not in column.choices:
        raise ValueError("应为" + "、".join(column.choices) + "之一")
    return text or None


_PERIOD_TEXT = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])")
# A ledger repeats its amounts (plans, a month's usual figures): each is worked out once.
_cached_amount = functools.lru_cache(maxsize=8192)(from_cell)


# 0.0 and -0.0 are equal keys, but not the same amount's text: each zero made once, apart
_ZEROS = (from_cell(0.0), from_cell(-0.0))


def _amount(value: float) -> Any:
    return _cached_amount(value) if value else _ZEROS[math.copysign(1.0, value) < 0]


def column_decoder(column: Column) -> Callable[[Cell], Any]:
    """``decode_value`` for one column, with the cells a master usually holds (clean text,
    numbers, dates, 报告期 as written) read without going through every kind: the same
    results, for tables of tens of thousands of rows."""
    kind = column.kind

    def general(value: Cell) -> Any:
        return decode_value(column, value)

    if kind is Kind.MONEY:
        def money(value: Cell) -> Any:
            if type(value) is float:
                try:
                    return _amount(value)
                except AmountError as exc:
                    raise ValueError(exc.reason) from exc
            return decode_value(column, value)
        return money
    if kind is Kind.PERIOD:
        def period(value: Cell) -> Any:
            if type(value) is str and _PERIOD_TEXT.fullmatch(value):
                return value
            return decode_value(column, value)
        return period
    if kind is Kind.DATE:
        def day(value: Cell) -> Any:
            if type(value) is datetime:
                return value.date()
            return value if type(value) is date else decode_value(column, value)
        return day
    if kind is Kind.MONTH:
        def month(value: Cell) -> Any:
            if type(value) is datetime or type(value) is date:
                return date(value.year, value.month, 1)
            return decode_value(column, value)
        return month
    if kind is Kind.DATETIME:
        def moment(value: Cell) -> Any:
            return value if type(value) is datetime else decode_value(column, value)
        return moment
    if kind is Kind.INT:
        def integer(value: Cell) -> Any:
            # a whole number as a reader hands it over, below the largest amount (which
            # ``decode_value`` reads the same way); anything else is read there
            if type(value) is float and value.is_integer() \
                    and -LARGEST_FLOAT < value < LARGEST_FLOAT:
                return int(value)
            return decode_value(column, value)
        return integer
    if kind in (Kind.UNIT_LIST, Kind.YEARS):
        return general
    choices = column.choices if kind is Kind.CHOICE else None

    def text(value: Cell) -> Any:
        if type(value) is str:
            value = value.strip()
            if choices and value and value not in choices:
                return decode_value(column, value)  # says why
            return value or None
        return decode_value(column, value)
    return text


def encode_value(column: Column, value: Any) -> Cell:
    """A Python value → what a cell should hold (text stays text; see the gateways)."""
    if value is None:
        return None
    kind = column.kind
    if kind is Kind.UNIT_LIST:
        return "、".join(value)
    if kind is Kind.YEARS:
        start, end = value
        return f"{start}-{end}" if end != start else str(start)
    if kind in (Kind.DATE, Kind.MONTH):
        return value if isinstance(value, date) else parse_date(value)
    if isinstance(value, Decimal | int | datetime | date):
        return value
    return str(value)


def header_index(header: Sequence[Cell]) -> dict[str, int]:
    """Header text → column position; columns are found by their text, so order is free."""
    index: dict[str, int] = {}
    for position, title in enumerate(header):
        text = clean_text(title).replace("(", "（").replace(")", "）").replace(" ", "")
        if text and text not in index:
            index[text] = position
    return index


def is_blank_row(row: Sequence[Cell]) -> bool:
    for value in row:  # (a loop, not all() of a generator: most rows end at the first cell)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return False
    return True


def decode_table(
    spec: SheetSpec,
    model: type[R],
    header: Sequence[Cell],
    rows: Iterable[Sequence[Cell]],
    first_row: int = 2,
    columns: Sequence[Column] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> tuple[list[R], list[RowProblem]]:
    """Rows of a table → records, plus every problem found (nothing is silently dropped).

    A missing required column is reported once as a problem on the header row. ``defaults``
    are the values of fields a row leaves empty, or the table has no column for.
    """
    return decode_rows(spec, model, header,
                       [(first_row + offset, row) for offset, row in enumerate(rows)],
                       first_row - 1, columns, defaults)


def decode_rows(
    spec: SheetSpec,
    model: type[R],
    header: Sequence[Cell],
    rows: Iterable[tuple[int, Sequence[Cell]]],
    header_row: int = 1,
    columns: Sequence[Column] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> tuple[list[R], list[RowProblem]]:
    """``decode_table`` for rows given with their row numbers: any rows of a table, not only
    a run of them (a ledger decoded a project at a time, ``core.ledger``)."""
    columns = tuple(columns or spec.columns)
    index = header_index(header)
    problems: list[RowProblem] = []
    present: list[tuple[Column, int, Callable[[Cell], Any]]] = []
    for column in columns:
        if column.derived:
            continue  # written from the plan, never read back
        if column.title in index:
            present.append((column, index[column.title], column_decoder(column)))
        elif column.required:
            problems.append(RowProblem(spec.sheet, header_row, column.title, "", "缺少这一列"))
    if problems:
        return [], problems
    records: list[R] = []
    validate = model.model_validate
    body = [(number, row) for number, row in rows if not blank_row(row)]
    fast = _by_columns(present, body)
    if fast is not None:  # every cell read: records straight from the columns
        fields = [column.field for column, _position, _decode in present]
        given = [{field: value for field, value in zip(fields, values, strict=True)
                  if value is not None} for _row_number, values in fast]
        if defaults:
            given = [{**defaults, **filled} for filled in given]
        try:  # all at once; a record that fails is looked for one by one
            return _all_of(model).validate_python(given), problems
        except ValidationError:
            pass
        for (row_number, _values), filled in zip(fast, given, strict=True):
            try:
                records.append(validate(filled))
            except ValidationError as exc:
                problems.extend(_invalid(spec, columns, row_number, filled, exc))
        return records, problems
    for row_number, row in body:
        data: dict[str, Any] = dict(defaults or {})
        row_problems: list[RowProblem] = []
        width = len(row)
        for column, position, decode in present:
            raw = row[position] if position < width else None
            try:
                value = None if raw is None or raw == "" else decode(raw)
            except ValueError as exc:
                row_problems.append(RowProblem(spec.sheet, row_number, column.title, raw, str(exc)))
                continue
            if value is None and column.required:
                row_problems.append(RowProblem(spec.sheet, row_number, column.title, "", "不能为空"))
            elif value is not None:
                data[column.field] = value
        if not row_problems:
            try:
                records.append(validate(data))
            except ValidationError as exc:
                row_problems.extend(_invalid(spec, columns, row_number, data, exc))
        problems.extend(row_problems)
    return records, problems


@functools.cache
def _all_of(model: type[R]) -> TypeAdapter[list[R]]:
    """Validates a list of ``model`` records in one call."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _invalid(spec: SheetSpec, columns: Sequence[Column], row_number: int, data: dict[str, Any],
             exc: ValidationError) -> list[RowProblem]:
    found = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        title = next((c.title for c in columns if c.field == field), field)
        found.append(RowProblem(spec.sheet, row_number, title, data.get(field, ""), "取值无效"))
    return found


def blank_row(row: Sequence[Cell]) -> bool:
    """``is_blank_row``, answered at once for the usual row (its first cell filled)."""
    if row:
        first = row[0]
        if first is not None and not (type(first) is str and not first.strip()):
            return False
    return is_blank_row(row)


class _Unreadable(Exception):
    """A cell the column-by-column reading leaves to the row-by-row one, which says why."""


def _by_columns(present: Sequence[tuple[Column, int, Callable[[Cell], Any]]],
                body: list[tuple[int, Sequence[Cell]]]
                ) -> list[tuple[int, tuple[Any, ...]]] | None:
    """(row number, each present column's value) of the (non-blank) rows, read a column at
    a time — as the row-by-row reading would, for a table where every cell can be read and
    every required cell is filled; ``None`` otherwise (the row-by-row reading then tells
    what is wrong, where)."""
    if not present:
        return None
    reach = max(position for _column, position, _decode in present)
    if any(len(row) <= reach for _number, row in body):
        return None
    columns: list[list[Any]] = []
    try:
        for column, position, decode in present:
            cells = [row[position] for _number, row in body]
            if column.kind is Kind.TEXT:
                values = [(v.strip() or None) if type(v) is str
                          else None if v is None else decode(v) for v in cells]
            else:  # 责任单位, choices, dates recur: each decoded once (records copy lists)
                values = each_once(cells, functools.partial(_filled, decode))
            if column.required and None in values:
                raise _Unreadable
            columns.append(values)
    except (ValueError, _Unreadable):
        return None
    return [(number, values)
            for (number, _row), values in zip(body, zip(*columns, strict=True), strict=True)]


def _filled(decode: Callable[[Cell], Any], value: Cell) -> Any:
    return None if value is None or value == "" else decode(value)


@functools.cache
def _flat(model: type[BaseModel]) -> bool:
    """Whether no field of ``model`` holds another model (nor a computed field exists)."""
    def holds_model(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return True
        return any(holds_model(arg) for arg in get_args(annotation))

    return not model.model_computed_fields and not any(
        holds_model(info.annotation) for info in model.model_fields.values())


def encode_table(spec: SheetSpec, records: Iterable[R],
                 derive: Callable[[Sequence[R]], Mapping[str, Sequence[Any]]] | None = None
                 ) -> list[list[Cell]]:
    """Records → rows of cell values in the registry's column order (header not included);
    ``derive`` gives the records' values of the spec's derived columns (``encode_columns``)."""
    records = list(records)
    columns = encode_columns(spec, records, derive)
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in records]


def encode_columns(spec: SheetSpec, records: Iterable[R],
                   derive: Callable[[Sequence[R]], Mapping[str, Sequence[Any]]] | None = None
                   ) -> list[list[Cell]]:
    """``encode_table``'s cells a column at a time — as the sheet's XML is made: the
    registry's columns in order, each holding one cell per record. ``derive`` gives the
    records' values of the spec's derived columns, a column at a time (one value for each
    record, by field name): they stand for the records' own values of those names."""
    records = list(records)
    # a flat record's own field values are what model_dump would give, without a new dict
    # of copies of them
    values = [record.__dict__ if _flat(type(record)) else record.model_dump()
              for record in records]
    derived = derive(records) if derive is not None else {}
    own = _own_columns(values, [column.field for column in spec.columns
                                if column.field not in derived])
    # a column at a time: what it needs is decided once, and each value not written as it
    # is (a choice, a list of units, a span of years) is encoded once per column
    return [_encode_column(column, list(derived[field]) if (field := column.field) in derived
                           else own[field])
            for column in spec.columns]


def _own_columns(values: Sequence[Mapping[str, Any]], fields: Sequence[str]
                 ) -> dict[str, list[Any]]:
    """Each of ``fields`` over ``values`` (the records' own values, by name), a column at a
    time: all the fields of a record taken at once, not a lookup for each cell (a month's
    ledger rows are some 250,000 cells); a field a record lacks is ``None``."""
    if not fields or not values:
        return {field: [None] * len(values) for field in fields}
    try:
        rows = list(map(operator.itemgetter(*fields), values))
    except KeyError:  # not every record has every field: each looked up alone
        return {field: [one.get(field) for one in values] for field in fields}
    if len(fields) == 1:  # (itemgetter of one name gives the value itself)
        return {fields[0]: rows}
    return dict(zip(fields, map(list, zip(*rows, strict=True)), strict=True))


def _encode_column(column: Column, values: list[Any]) -> list[Cell]:
    """One column's values → its cells (``encode_value``)."""
    plain = () if column.kind in _SPELLED_OUT else _AS_THEY_ARE
    if plain and set(map(type, values)) <= _AS_THEY_ARE_OR_NONE:
        return values  # every cell as it is: nothing to encode (most columns)

    def encode(value: Any) -> Cell:
        return value if value is None or type(value) in plain else encode_value(column, value)

    return each_once(values, encode)


def each_once(values: Sequence[Any], make: Callable[[Any], T]) -> list[T]:
    """``make(value)`` for each of a column's values, made once for each distinct value
    when they are all of one kind and not numbers (texts, choices, dates recur: a period,
    a unit, 是/否); a number is made each time (-0 and 0 are equal, and differ), and so is
    every value of a column of mixed kinds (1 and True are equal, and differ)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) > 1 or kinds & _NUMBERS:
        return [make(value) for value in values]
    try:
        made = {value: make(value) for value in set(values)}
    except TypeError:  # unhashable: lists of units
        return [make(value) for value in values]
    return list(map(made.__getitem__, values))


_NUMBERS = {int, float, Decimal, bool}


_SPELLED_OUT = (Kind.UNIT_LIST, Kind.YEARS, Kind.DATE, Kind.MONTH)  # always through encode_value


_AS_THEY_ARE = {str, Decimal, int, datetime, date}  # exactly these types: cells as they are
_AS_THEY_ARE_OR_NONE = {*_AS_THEY_ARE, type(None)}

