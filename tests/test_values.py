from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import to_excel

from zdxm_xl.core.cells import (
    EXCEL_EPOCH,
    a1,
    column_letter,
    column_number,
    excel_serial,
    format_date,
    parse_date,
    parse_year_span,
    split_units,
)
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


# A1 references and Excel's date numbers, as zdxm writes them without openpyxl: the same as
# openpyxl makes them (a master's rows written by either read back alike).
def test_column_letters_are_openpyxls_for_every_column() -> None:
    for number in range(1, 26 + 26**2 + 26**3 + 1):
        letters = get_column_letter(number)
        assert column_letter(number) == letters
        assert column_number(letters) == number == column_number(letters.lower())
    assert a1(5, 2) == "B5" and a1(1, 27) == "AA1"


@pytest.mark.parametrize("letters", ["", "AAAA", "A1", "1", "Ä", "A B"])
def test_what_names_no_column_is_refused_as_openpyxl_refuses_it(letters: str) -> None:
    with pytest.raises(ValueError):
        column_index_from_string(letters)
    with pytest.raises(ValueError):
        column_number(letters)


@pytest.mark.parametrize("number", [0, -1, 26 + 26**2 + 26**3 + 1])
def test_a_column_beyond_the_letters_is_refused(number: int) -> None:
    with pytest.raises(ValueError):
        column_letter(number)


@given(st.datetimes(min_value=datetime(1899, 1, 1), max_value=datetime(9999, 12, 31)))
def test_a_moment_is_the_number_openpyxl_writes_for_it(moment: datetime) -> None:
    assert excel_serial(moment) == to_excel(moment)
    assert excel_serial(moment.date()) == to_excel(moment.date())


@pytest.mark.parametrize(("day", "serial"), [
    (date(1900, 1, 1), 1), (date(1900, 2, 28), 59), (date(1900, 3, 1), 61),
    (date(2022, 3, 15), 44635), (EXCEL_EPOCH, 0)])
def test_excels_day_numbers_and_its_leap_day_of_1900(day: date, serial: int) -> None:
    assert excel_serial(day) == serial
