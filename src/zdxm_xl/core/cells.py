"""Reading the values people type: dates, months, lists of units, plain text.

Each parser takes what a cell reader hands over (``datetime``, number, text) and returns a
plain Python value, or raises ``ValueError`` with a short Chinese reason. ``parse_date`` is
the one date parser; money lives in ``money``, 报告期 in ``periods``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta

__all__ = [
    "EXCEL_EPOCH",
    "a1",
    "clean_text",
    "column_letter",
    "column_number",
    "excel_serial",
    "format_date",
    "format_month",
    "parse_date",
    "parse_month",
    "parse_year_span",
    "split_units",
]

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, with Excel's 1900 leap-year bug

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(?:份)?$"),
)
_YEAR_SPAN = re.compile(r"^(\d{4})\s*年?\s*(?:[-－—–~～至到]+\s*(\d{4})\s*年?)?$")
_UNIT_SEPARATORS = re.compile(r"[、，,；;/／\n\r]+")


def clean_text(value: object) -> str:
    """A cell as text: trimmed, ``None`` → ``''``, numbers without a trailing ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_COLUMNS = 26 + 26**2 + 26**3  # A … ZZZ: the columns a reference can name in three letters


def column_letter(number: int) -> str:
    """A column's letters in an A1 reference: 1 → ``A``, 27 → ``AA``; ``ValueError``
    beyond ``ZZZ``."""
    if not 1 <= number <= _COLUMNS:
        raise ValueError(f"没有第 {number} 列")
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_number(letters: str) -> int:
    """The column an A1 reference's letters name (either case): ``A`` → 1, ``AA`` → 27;
    ``ValueError`` for anything but one to three Latin letters."""
    if not 1 <= len(letters) <= 3 or not (letters.isascii() and letters.isalpha()):
        raise ValueError(f"“{letters}”不是列号")
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def a1(row: int, column: int) -> str:
    """The A1 reference of 1-based ``row`` and ``column``: (5, 2) → ``B5``."""
    return f"{column_letter(column)}{row}"


_EPOCH_MOMENT = datetime.combine(EXCEL_EPOCH, time())


def excel_serial(value: date | datetime) -> float:
    """A date or a moment as the number a workbook stores for it: days since
    ``EXCEL_EPOCH`` and the fraction of the day — counted as Excel does, its 1900 leap-year
    bug and all (serial 60 is a 29 February 1900 that never was: a day before March 1900
    is one fewer)."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    days = (moment - _EPOCH_MOMENT).days
    if 0 < days <= 60:
        days -= 1
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 10**6
    return days + seconds / 86400


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 2958466:  # 9999-12-31
        raise ValueError("不是有效的日期")
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: object) -> date | None:
    """Excel dates and serials, ``2022-03-15``, ``2022/3/15``, ``2022.3.15``,
    ``2022年3月15日``; a month alone (``2022年3月``, ``2022-03``) means its first day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("不是日期")
    if isinstance(value, int | float):
        return _from_serial(float(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise ValueError("日期不存在") from exc
    month_value = _match_month(text)
    if month_value is not None:
        return month_value
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_serial(float(text))
    raise ValueError("不是日期")


def _match_month(text: str) -> date | None:
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month = (int(g) for g in match.groups())
            if not 1 <= month <= 12:
                raise ValueError("月份不存在")
            return date(year, month, 1)
    return None


def parse_month(value: object) -> date | None:
    """A month such as 计划开工时间: any date form; the day is dropped (first of month)."""
    parsed = parse_date(value)
    return parsed.replace(day=1) if parsed else None


def format_date(value: date | None) -> str:
    """``date(2022, 3, 31)`` → ``'2022年3月31日'``, as 公文 write dates."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def format_month(value: date | None) -> str:
    return f"{value.year}年{value.month}月" if value else ""


def parse_year_span(value: object) -> tuple[int, int] | None:
    """建设起止年限: ``2023-2025``, ``2023—2025``, ``2023年-2025年``, ``2023～2025``, ``2022``."""
    text = unicodedata.normalize("NFKC", clean_text(value))
    if not text:
        return None
    match = _YEAR_SPAN.match(text)
    if not match:
        raise ValueError("建设起止年限应写成“2022-2024”")
    start = int(match.group(1))
    end = int(match.group(2) or start)
    if end < start:
        raise ValueError("建设起止年限的结束年早于开始年")
    return start, end


def split_units(value: object) -> list[str]:
    """责任单位 as written in one cell, separated by 、，,；;/ or line breaks, order kept."""
    names = [part.strip() for part in _UNIT_SEPARATORS.split(clean_text(value))]
    seen: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return seen
