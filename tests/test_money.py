from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from zdxm_xl.core.models import Project
from zdxm_xl.core.money import AmountError, format_amount, from_cell, parse_amount, to_yi, yi_to_wan
from zdxm_xl.core.registry import IMPLEMENTATION, SUBMISSIONS
from zdxm_xl.core.tables import column_decoder, decode_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500", Decimal("500")),
        ("１２３４．５", Decimal("1234.50")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("1 234", Decimal("1234")),
        ("  12\u3000", Decimal("12")),
        ("1，000", Decimal("1000")),
        ("-3.5", Decimal("-3.50")),
        ("", None),
        (None, None),
        (7, Decimal(7)),
    ],
)
def test_parse_amount_normalises_what_people_type(text: object, expected: Decimal | None) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["约500", "500左右", "/", "—", "1.2.3", "abc", "1e5", "NaN"])
def test_parse_amount_refuses_text_that_is_not_a_number(text: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.reason == "不是数字"


@pytest.mark.parametrize("value", [1e15, -1e26, float(2**80), 10**15, -(10**30),
                                   "1" + "0" * 30, "１,０００,０００,０００,０００,０００",
                                   Decimal("1E+15"), Decimal("-1E+40")])
def test_more_whole_digits_than_excel_keeps_is_no_amount(value: object) -> None:
    with pytest.raises(AmountError) as raised:
        parse_amount(value)
    assert raised.value.reason == "数值过大"


@pytest.mark.parametrize(("value", "expected"), [
    (999_999_999_999_999.0, Decimal("999999999999999")),
    ("999999999999999.99", Decimal("999999999999999.99")),
    (-(10**15 - 1), Decimal(-(10**15 - 1))),
])
def test_the_largest_amounts_are_read_exactly(value: object, expected: Decimal) -> None:
    assert parse_amount(value) == expected


def test_more_than_two_decimals_is_refused() -> None:
    with pytest.raises(AmountError, match="小数超过两位"):
        parse_amount("1.234")


def test_float_noise_from_excel_is_folded_but_real_places_are_not() -> None:
    assert from_cell(0.1 + 0.2) == Decimal("0.30")
    assert from_cell(1407.7400000000001) == Decimal("1407.74")
    with pytest.raises(AmountError):
        from_cell(1.005001)


@pytest.mark.parametrize(
    ("wan", "yi"),
    [("50000", "5.00"), ("12345", "1.23"), ("12350", "1.24"), ("12349.99", "1.23"),
     ("-12350", "-1.24")],
)
def test_to_yi_rounds_half_up_once(wan: str, yi: str) -> None:
    assert to_yi(Decimal(wan)) == Decimal(yi)


def test_the_seeds_rounding_comes_from_rounding_the_exact_sum_once() -> None:
    # Four parts that each round up by 0.004 亿 print as 0.01 more than their exact total.
    parts = [Decimal("13823460"), Decimal("9238560"), Decimal("7716960"), Decimal("1045260")]
    assert sum(to_yi(p) for p in parts) == Decimal("3182.44")
    assert to_yi(sum(parts, Decimal(0))) == Decimal("3182.42")


def test_yi_to_wan_is_exact() -> None:
    assert yi_to_wan(Decimal("707.89")) == Decimal("7078900")
    assert yi_to_wan(Decimal("0.000123")) == Decimal("1.23")
    assert format_amount(Decimal("5.5")) == "5.50"


def test_a_float_cannot_become_a_money_field() -> None:
    with pytest.raises(ValidationError, match="浮点数"):
        Project(id="ZD2022-0001", name="x", stage="新开工", sector="基础设施",
                total_investment=1.5, units=["甲"])  # type: ignore[arg-type]


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2))
def test_every_two_place_amount_survives_a_float_reader(amount: Decimal) -> None:
    # A reader hands a number cell over as a float; openpyxl writes numbers as "%.16g".
    assert from_cell(float(str(amount))) == amount
    assert from_cell(float("%.16g" % amount)) == amount


@given(st.integers(min_value=0, max_value=10**9).map(str).map(
    lambda digits: "".join(chr(ord(c) + 0xFEE0) for c in digits)))
def test_full_width_digits_read_as_their_value(text: str) -> None:
    plain = "".join(chr(ord(c) - 0xFEE0) for c in text)
    assert parse_amount(text) == Decimal(plain)


@pytest.mark.parametrize("cell", [0.0, -0.0, 1.5, 1200.0, 0.30000000000000004, 1e-9])
def test_a_tables_money_column_reads_each_amount_as_a_cell_reader_would(cell: float) -> None:
    # Its decoder keeps the amounts a table repeats, zero among them: kept or not, each is
    # the same amount as ``from_cell`` makes, with the same text (-0 stays -0).
    decode = column_decoder(IMPLEMENTATION.column("total_investment"))
    try:
        expected = from_cell(cell)
    except AmountError:
        with pytest.raises(ValueError):
            decode(cell)
        return
    for _ in range(2):  # made, then kept
        got = decode(cell)
        assert (got, str(got)) == (expected, str(expected))


@given(st.floats() | st.integers(min_value=-10**16, max_value=10**16)
       | st.sampled_from(["12", " 3 ", "2.50", "约3", True, None]))
def test_a_tables_count_column_reads_each_cell_as_the_general_reading_does(cell: object) -> None:
    # 报送记录's 错误数 and 警告数 are read a column at a time, whole numbers at once
    column = SUBMISSIONS.column("errors")

    def read(decode: Callable[[], object]) -> tuple[str, object]:
        try:
            value = decode()
        except ValueError as exc:
            return "refused", str(exc)
        return type(value).__name__, value

    assert read(lambda: column_decoder(column)(cell)) == read(lambda: decode_value(column, cell))
