"""Exact money: amounts are ``Decimal`` in 万元 with at most two places.

Sums are exact; a figure in 亿元 is rounded once, half-up (四舍五入), from the exact sum by
``to_yi`` — never a sum of rounded figures. No float takes part in any arithmetic here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "CENT",
    "WAN_PER_YI",
    "LARGEST",
    "LARGEST_FLOAT",
    "AmountError",
    "parse_amount",
    "from_cell",
    "round_half_up",
    "to_yi",
    "yi_to_wan",
    "format_amount",
    "tidy_amount",
    "normalise_number_text",
]

CENT = Decimal("0.01")
WAN_PER_YI = Decimal(10000)  # 1 亿元 = 10 000 万元

# Excel keeps 15 significant digits: a number with more whole digits is no amount (10^15
# 万元 is a thousand times the country's yearly output), and sums of such would no longer be
# exact in ``decimal``'s 28 digits.
LARGEST = Decimal(10) ** 15  # an amount's magnitude is below this
LARGEST_FLOAT = float(LARGEST)  # the same, for a number as a cell reader hands it over
_INFINITE = (float("inf"), float("-inf"))
_ZERO, _NEGATIVE_ZERO = Decimal(0), Decimal("-0")  # what a cell of 0 or -0 holds
# A float read from a cell differs from the two-place decimal the file holds only by
# representation noise; anything further away really has more than two places.
_FLOAT_NOISE = Decimal("0.000001")
_SEPARATORS = re.compile(r"[\s,\u00a0\u3000'’_]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class AmountError(ValueError):
    """A value that is not an amount; ``reason`` is a short Chinese explanation."""

    def __init__(self, value: object, reason: str) -> None:
        super().__init__(f"{value!r}: {reason}")
        self.value = value
        self.reason = reason


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """The one rounding function of the project: half-up (四舍五入) to ``places`` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_yi(amount_wan: Decimal) -> Decimal:
    """万元 → 亿元, rounded once, half-up, to two places."""
    return round_half_up(amount_wan / WAN_PER_YI, 2)


def yi_to_wan(amount_yi: Decimal) -> Decimal:
    """亿元 → 万元, exactly (no rounding: the result keeps every digit given)."""
    return (amount_yi * WAN_PER_YI).normalize() if amount_yi else Decimal(0)


def tidy_amount(amount: Decimal) -> Decimal:
    """Whole amounts without decimals, others with two: never an exponent form."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.quantize(CENT)


def format_amount(value: Decimal) -> str:
    """Two decimals, no exponent: ``Decimal('5.5')`` → ``'5.50'``."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}"


def normalise_number_text(text: str) -> str:
    """Full-width digits, thousands separators and spaces are what people type; drop them."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = text.replace("−", "-").replace("－", "-").replace("。", ".")
    return _SEPARATORS.sub("", text)


def parse_amount(value: object) -> Decimal | None:
    """A cell value or text → ``Decimal`` 万元 (``None`` for an empty cell).

    Accepts ints, Decimals, floats read from a workbook (see ``from_cell``) and text with
    full-width digits, thousands separators or spaces. Raises ``AmountError`` for text that
    is not a plain number (``约500``, ``500左右``, ``/``), for more than two decimals, and
    for 15 whole digits or more (``LARGEST``). Negative amounts are returned as they are:
    whether they are allowed is the caller's rule.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise AmountError(value, "不是金额")
    if isinstance(value, float):
        return from_cell(value)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = normalise_number_text(str(value))
        if text == "":
            return None
        if not _PLAIN_NUMBER.match(text):
            raise AmountError(value, "不是数字")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise AmountError(value, "不是数字") from exc
    if not amount.is_finite():
        raise AmountError(value, "不是数字")
    if abs(amount) >= LARGEST:
        raise AmountError(value, "数值过大")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise AmountError(value, "小数超过两位")
    return amount.quantize(CENT) if amount.as_tuple().exponent != 0 else amount


def from_cell(value: float) -> Decimal:
    """A float that a workbook reader produced → the decimal the file holds.

    An .xlsx stores numbers as decimal text (openpyxl writes them with 16 significant
    digits, Excel with up to 17); readers hand them over as floats. ``repr`` gives
    the shortest text that reads back as the same float, which is the stored text for any
    amount of up to 15 significant digits. Noise from Excel's own arithmetic (``0.30000000000000004``)
    is folded to two places; a value really carrying more places is refused.
    """
    if value != value or value in _INFINITE:
        raise AmountError(value, "不是数字")
    if not -LARGEST_FLOAT < value < LARGEST_FLOAT:
        raise AmountError(value, "数值过大")
    # The usual amounts, without the general path's arithmetic (same results): whole ones,
    # ones whose shortest text has at most two decimals, and zero (its sign kept: -0.0 is
    # Decimal("-0"), as the general path makes it).
    if value:
        if value.is_integer():
            return Decimal(int(value))
        text = repr(value)
        dot = text.find(".")
        if dot >= 0 and len(text) - dot <= 3 and "e" not in text:
            return Decimal(text).quantize(CENT)
    else:
        return _NEGATIVE_ZERO if math.copysign(1.0, value) < 0 else _ZERO
    exact = Decimal(repr(value))
    rounded = round_half_up(exact, 2)
    if abs(exact - rounded) > _FLOAT_NOISE:
        raise AmountError(value, "小数超过两位")
    return rounded if rounded != rounded.to_integral_value() else rounded.quantize(Decimal(1))
