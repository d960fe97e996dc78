from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zdxm_xl.core.cells import EXCEL_EPOCH, format_date, parse_date, parse_year_span, split_units
from zdxm_xl.core.periods import parse_period


@pytest.mark.parametrize(
    "text",
    ["2022-03-15", "2022/3/15", "2022.3.15", "2022年3月15日", "２０２２年３月１５日",
     datetime(2022, 3, 15, 9, 30), date(2022, 3, 15), 44635, 44635.0, "44635"],
)
def test_dates_in_every_form_people_write(text: object) -> None:
    assert parse_date(text) == date(2022, 3, 15)


@pytest.mark.parametrize("text", ["2022年3月", "2022-03", "2022/3", "2022.3"])
def test_a_month_alone_means_its_first_day(text: str) -> None:
    assert parse_date(text) == date(2022, 3, 1)


@pytest.mark.parametrize("text", ["2022-02-30", "2022年13月", "三月", "明年", "0"])
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_chinese_and_serial_dates_round_trip(day: date) -> None:
    assert parse_date(format_date(day)) == day
    assert parse_date(f"{day.year}.{day.month}.{day.day}") == day
    assert parse_date((day - EXCEL_EPOCH).days) == day


@pytest.mark.parametrize(
    ("text", "span"),
    [("2023-2025", (2023, 2025)), ("2023—2025", (2023, 2025)), ("2023年-2025年", (2023, 2025)),
     ("2023～2025", (2023, 2025)), ("2022", (2022, 2022)), ("2022年", (2022, 2022))],
)
def test_year_spans(text: str, span: tuple[int, int]) -> None:
    assert parse_year_span(text) == span


def test_units_keep_their_order_whatever_the_separator() -> None:
    assert split_units("市发展改革委、城中区人民政府，市交通运输局;市水利局/柳东新区管委会\n市教育局") == [
        "市发展改革委", "城中区人民政府", "市交通运输局", "市水利局", "柳东新区管委会", "市教育局"]


def test_period_forms() -> None:
    assert parse_period("2022年3月") == "2022-03"
    assert parse_period("2022-3") == "2022-03"
