"""Filling a form where it stands (``books.formbook``), as the demo's 信息员 fill theirs:
only the sheets written to are new, everything else is the template's own bytes, and the
filled return reads back — in openpyxl, in LibreOffice, in the checker — as typed."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from checking_office import UNIT, checking_master
from zdxm_xl.books.formbook import FormBook
from zdxm_xl.books.package import PackageLayoutError
from zdxm_xl.checks.returns import check_file
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.core.registry import FORM_IMPLEMENTATION
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.reports.forms import form_name

SHEET = FORM_IMPLEMENTATION.sheet


@pytest.fixture
def form(tmp_path: Path) -> tuple[MemoryStore, Path]:
    store = MemoryStore(checking_master(), tmp_path)
    make_forms(store, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25, 9, 0))
    return store, tmp_path / "模板" / form_name("2022-03", UNIT)


def column_of(field: str) -> int:
    return FORM_IMPLEMENTATION.fields.index(field) + 1


def test_a_filled_form_is_the_template_but_for_the_sheets_written_to(form, tmp_path: Path) -> None:
    _store, template = form
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=3).path
    with zipfile.ZipFile(template) as before, zipfile.ZipFile(filled) as after:
        assert [i.filename for i in before.infolist()] == [i.filename for i in after.infolist()]
        sheets = {"xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"}  # 实施, 问题跟踪
        for info in before.infolist():
            kept = after.getinfo(info.filename)
            assert kept.date_time == info.date_time  # dated as the form
            if info.filename in sheets:
                assert after.read(info.filename) != before.read(info.filename)
            else:
                assert (kept.CRC, kept.compress_size) == (info.CRC, info.compress_size), \
                    info.filename
    # openpyxl reads it as a workbook with the template's dropdowns, protection and identity
    book = openpyxl.load_workbook(filled)
    ws = book[SHEET]
    assert ws.protection.sheet
    assert len(ws.data_validations.dataValidation) == len(
        openpyxl.load_workbook(template)[SHEET].data_validations.dataValidation) > 0
    row = HEADER_ROW + 1
    assert ws.cell(row, column_of("started")).value == "是"
    assert isinstance(ws.cell(row, column_of("month_completed")).value, int)
    assert ws.cell(row, column_of("year_completed")).value == \
        ws.cell(row, column_of("previous_year_completed")).value \
        + ws.cell(row, column_of("month_completed")).value


def test_the_same_form_filled_alike_is_the_same_file(form, tmp_path: Path) -> None:
    _store, template = form
    digests = {hashlib.sha256(fill_form(template, tmp_path / f"{n}.xlsx", seed=5,
                                        mistakes=("bad_phone",)).path.read_bytes()).hexdigest()
               for n in range(2)}
    assert len(digests) == 1


def test_cells_written_read_back_as_written(form, tmp_path: Path) -> None:
    """Text is text (an ``=`` too, and without control characters), a number a number, a
    date the number of a date, ``None`` an empty cell; a cell or a row the sheet lacks is
    made; the template's formulas are kept, without a result."""
    _store, template = form
    book = FormBook(template)
    sheet = book.sheet(SHEET)
    row = HEADER_ROW + 1
    month = column_of("month_completed")
    assert sheet.value(row, column_of("year_completed")).startswith("=IF(")
    sheet.set(row, month, Decimal("12.5"))
    sheet.set(row, column_of("start_date"), date(2022, 3, 1))
    sheet.set(row, column_of("progress"), "=SUM(1,2) & <b>&#38;lt;\x07")
    sheet.set(row, column_of("started"), None)
    sheet.set(60, 40, "新行")
    assert sheet.value(row, month) == 12.5 and sheet.value(60, 40) == "新行"
    book.save(tmp_path / "写.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "写.xlsx")[SHEET]
    assert ws.cell(row, month).value == 12.5
    assert ws.cell(row, column_of("start_date")).value == datetime(2022, 3, 1)
    assert ws.cell(row, column_of("progress")).value == "=SUM(1,2) & <b>&#38;lt;"
    assert ws.cell(row, column_of("progress")).data_type == "s"
    assert ws.cell(row, column_of("started")).value is None
    assert ws.cell(60, 40).value == "新行"
    assert ws.cell(row, column_of("year_completed")).value == \
        f'=IF(I{row}="","",G{row}+I{row})'
    with zipfile.ZipFile(tmp_path / "写.xlsx") as written:  # its dimension reaches it
        assert b'<dimension ref="A1:AN60"/>' in written.read("xl/worksheets/sheet2.xml")
    again = FormBook(tmp_path / "写.xlsx").sheet(SHEET)
    assert again.value(row, column_of("progress")) == "=SUM(1,2) & <b>&#38;lt;"
    assert again.last_row == 60 and again.last_column == 40


@pytest.mark.parametrize(("found", "made"), [
    (b"</sheetData>", b"<extra/></sheetData>"),  # something between the rows
    (b'<c r="A5" s="10" t="inlineStr"><is><t>', b'<c r="A5" s="10" t="s"><v>0</v></c><c r="Z5"><is><t>'),
    (b'<f>IF(I5=', b'<f t="shared" ref="J5:J6" si="0">IF(I5='),  # a shared formula
    (b"<is><t>", b"<is><r><t>"),  # rich text
])
def test_a_sheet_not_laid_out_as_zdxm_writes_it_is_refused(form, tmp_path: Path, found: bytes,
                                                           made: bytes) -> None:
    """Shared text, shared formulas, rich text, anything but rows of cells: not a form as
    zdxm writes one, and not read as if it were."""
    _store, template = form
    with zipfile.ZipFile(template) as source, \
            zipfile.ZipFile(tmp_path / "改.xlsx", "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                assert found in data
                data = data.replace(found, made, 1)
            target.writestr(info, data)
    book = FormBook(tmp_path / "改.xlsx")
    with pytest.raises(PackageLayoutError):
        book.sheet(SHEET)


@pytest.mark.soffice
def test_libreoffice_computes_the_totals_of_a_form_filled_in_place(form, tmp_path: Path) -> None:
    """The formulas of a filled form are saved without a result, as a spreadsheet program
    computes them on opening: LibreOffice saves them with the totals the checker expects."""
    store, template = form
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1, formulas=True).path
    out = tmp_path / "另存"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    computed = openpyxl.load_workbook(out / "填好.xlsx", data_only=True)[SHEET]
    row = HEADER_ROW + 1
    assert computed.cell(row, column_of("year_completed")).value == \
        computed.cell(row, column_of("previous_year_completed")).value \
        + computed.cell(row, column_of("month_completed")).value
    report = check_file(store.load(), out / "填好.xlsx", "2022-03")
    plain = check_file(store.load(), fill_form(template, tmp_path / "值.xlsx", seed=1).path,
                       "2022-03")
    assert [f.message for f in report.findings] == []
    assert [(e.year_completed, e.total_completed) for e in report.entries] == [
        (e.year_completed, e.total_completed) for e in plain.entries]
