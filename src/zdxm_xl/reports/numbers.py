"""How the bulletins write numbers: the template filters ``money``, ``rate`` and ``signed``.

Amounts and rates reach the templates as exact ``Decimal`` values already rounded once
(``core.money``); these filters only lay them out in fixed formats, so a column of figures
lines up: ``{{ g.annual_plan_wan|money }}`` → ``17,999.00``, ``{{ c.rate|rate }}`` → ``12.0``,
``{{ c.rate_change|signed }}`` → ``+2.3``. A missing value is written ``—``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..core.money import round_half_up

__all__ = ["FILTERS", "FILTER_HELP", "money", "rate", "signed"]

DASH = "—"


def money(value: Any) -> str:
    """Two decimals with thousands separators: ``17999`` → ``17,999.00``."""
    if value is None or value == "":
        return DASH
    return f"{round_half_up(Decimal(value), 2):,.2f}"


def rate(value: Any) -> str:
    """One decimal: ``12`` → ``12.0``."""
    if value is None or value == "":
        return DASH
    return f"{round_half_up(Decimal(value), 1):.1f}"


def signed(value: Any) -> str:
    """One decimal with its sign: ``2.3`` → ``+2.3``, ``-1`` → ``-1.0``, ``0`` → ``0.0``."""
    if value is None or value == "":
        return DASH
    number = round_half_up(Decimal(value), 1)
    return f"+{number:.1f}" if number > 0 else f"{number:.1f}"


FILTERS = {"money": money, "rate": rate, "signed": signed}
FILTER_HELP = (
    ("money", "金额：两位小数、千位分隔，如 {{ g.annual_plan_wan|money }} → 17,999.00；空值为“—”"),
    ("rate", "百分数：一位小数，如 {{ c.rate|rate }} → 12.0；空值为“—”"),
    ("signed", "变化值：带正负号、一位小数，如 {{ c.rate_change|signed }} → +2.3；空值为“—”"),
)
