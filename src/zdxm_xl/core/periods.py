"""报告期: a month of the plan year, written ``2022-03``.

``parse_period`` reads any way a month is written; ``plan_period`` is the one check every
operation makes of a 报告期 it is given: a month, and in the master's plan year. The rest
are the calendar facts of a 报告期: its first and last day, the one before, its 截止日.
``given_day`` is the like check of a day the office gives (a 日期 option or argument).
"""

from __future__ import annotations

from datetime import date, timedelta

from .cells import parse_date, parse_month
from .errors import Field, UsageError

__all__ = ["parse_period", "plan_period", "given_day", "format_period", "period_month",
           "period_end", "previous_period", "deadline", "months"]


def parse_period(value: object) -> str:
    """A 报告期 ``2022-03`` (also ``2022年3月``, ``2022/3``) → ``'2022-03'``."""
    month = parse_month(value)
    if month is None:
        raise ValueError("报告期为空")
    return format_period(month)


def format_period(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def plan_period(value: object, year: int, field: Field = Field.PERIOD) -> str:
    """A 报告期 as an operation receives it (``2022-03``, ``2022年3月``) → ``'2022-03'``;
    ``UsageError`` naming ``field`` unless it is a month of the plan ``year``."""
    try:
        period = parse_period(value)
    except ValueError:
        raise UsageError(f"报告期“{value}”无效，请写成 {year}-03 的形式。", field=field,
                         value=value) from None
    if int(period[:4]) != year:
        raise UsageError(f"报告期 {period} 不在台账的计划年度 {year} 年内。", field=field,
                         value=value)
    return period


def given_day(value: date | str, what: str, wanted: Field, example: str = "2022-04-30") -> date:
    """A day as the office gives it (2022-04-30, 2022年4月30日, a date); ``UsageError``
    naming ``wanted`` (and saying ``what`` it is) when it is not one."""
    if isinstance(value, date):
        return value
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise UsageError(f"{what}“{value}”无效，请写成 {example} 的形式。", field=wanted,
                         value=value)
    return day


def period_month(period: str) -> date:
    """``'2022-03'`` → ``date(2022, 3, 1)``."""
    return date(int(period[:4]), int(period[5:7]), 1)


def period_end(period: str) -> date:
    """The last day of the 报告期: the data are as of this day."""
    month = period_month(period)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - timedelta(days=1)


def previous_period(period: str) -> str | None:
    """The 报告期 before, within the same year (January has none: the year starts afresh)."""
    month = period_month(period)
    return None if month.month == 1 else format_period(month.replace(month=month.month - 1))


def deadline(period: str, day: int) -> date:
    """截止日: the ``day``-th of the month after the 报告期 (the office's rule in 设置)."""
    return period_end(period) + timedelta(days=day)


def months(first: str, last: str) -> list[str]:
    """Every 报告期 from ``first`` to ``last``, both included (same year)."""
    return [f"{first[:4]}-{m:02d}" for m in range(int(first[5:7]), int(last[5:7]) + 1)]
