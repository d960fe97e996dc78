"""The annotated copy (批注副本) that goes back to a unit: made from the values read through
the gate, shaped like our form, bounded like the reading, values only."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from checking_office import SHEET, UNIT, build_master, checking_master
from conftest import run_zdxm
from zdxm_xl.books.styles import write_text
from zdxm_xl.checks.returns import FileReport, check_file
from zdxm_xl.core.findings import finding
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.reports.annotated import annotate
from zdxm_xl.reports.forms import form_name
from zdxm_xl.reports.receipts import Office

FORM_SHEETS = ["校验结果", "填报说明", "实施项目月报", "预备项目月报", "系统信息"]


@pytest.fixture
def office(tmp_path: Path) -> tuple[MemoryStore, Path]:
    """The office's master in memory, and 市交通运输局's March form made from it."""
    store = MemoryStore(checking_master(), tmp_path)
    make_forms(store, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    return store, tmp_path / "模板" / form_name("2022-03", UNIT)


@pytest.fixture
def office_file(tmp_path: Path) -> tuple[Path, Path]:
    """As ``office``, with the master a workbook: for the ``zdxm`` command line."""
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    return master, tmp_path / "模板" / form_name("2022-03", UNIT)


def annotated(store: MemoryStore, path: Path, out: Path) -> tuple[FileReport, Path]:
    report = check_file(store.load(), path, "2022-03")
    copy, _receipt = annotate(report, out, Office())
    return report, copy


def column_of(ws: openpyxl.worksheet.worksheet.Worksheet, title: str) -> int:
    return [c.value for c in ws[HEADER_ROW]].index(title) + 1


def test_the_copy_holds_values_never_formulas_links_or_sheets_of_the_units(
        office_file, tmp_path: Path) -> None:
    master, template = office_file
    filled = fill_form(template, tmp_path / "坏.xlsx", seed=1, mistakes=("text_amount",)).path
    book = openpyxl.load_workbook(filled)
    ws = book[SHEET]
    problems = column_of(ws, "存在问题")
    ws.cell(HEADER_ROW + 1, problems).value = "=cmd|' /C calc'!A0"  # DDE, as a formula
    ws.cell(HEADER_ROW + 2, problems).value = '=HYPERLINK("http://example.com/x","点此")'
    write_text(ws.cell(HEADER_ROW + 3, problems), "=1+1 是文字")  # typed text stays text
    ws.cell(HEADER_ROW + 1, 2).hyperlink = "http://example.com/phish"
    book.create_sheet("草稿")["A1"] = "=SUM(1,2)"
    book.save(filled)
    result = run_zdxm("validate", master, filled, "--period", "2022-03", "--annotate",
                      tmp_path / "批注")
    assert result.code == 1, result.stderr
    copy = tmp_path / "批注" / "坏_校验结果.xlsx"
    with zipfile.ZipFile(copy) as archive:
        names = archive.namelist()
        xml = b"".join(archive.read(n) for n in names if n.endswith((".xml", ".rels")))
    assert not any("externalLink" in n or "vbaProject" in n for n in names)
    assert b"<f>" not in xml and b"<f " not in xml  # no formula anywhere
    assert b"<hyperlink " not in xml and b"/hyperlink" not in xml  # no link, no link target
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames == FORM_SHEETS
    for name in ("实施项目月报", "预备项目月报"):  # the formulas' texts are in 校验结果 only
        assert not any(isinstance(v, str) and ("example.com" in v or "cmd|" in v)
                       for row in book[name].iter_rows(values_only=True) for v in row)
    assert book["系统信息"].sheet_state == "hidden"
    ws = book[SHEET]
    kept = ws.cell(HEADER_ROW + 3, column_of(ws, "存在问题"))
    assert (kept.value, kept.data_type) == ("=1+1 是文字", "s")
    assert ws.cell(HEADER_ROW + 1, 2).hyperlink is None


def test_the_copy_looks_like_the_form_and_can_be_sent_again(office, tmp_path: Path) -> None:
    store, template = office
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=2, mistakes=("bad_phone",)).path
    report, copy = annotated(store, filled, tmp_path / "批注")
    form = openpyxl.load_workbook(template)
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames == FORM_SHEETS
    for name in ("实施项目月报", "预备项目月报"):
        mine, ours = book[name], form[name]
        assert [c.value for c in mine[HEADER_ROW]] == [c.value for c in ours[HEADER_ROW]]
        for cell, original in zip(mine[HEADER_ROW], ours[HEADER_ROW], strict=True):
            assert cell.fill.fgColor.rgb == original.fill.fgColor.rgb
            assert mine.column_dimensions[cell.column_letter].width == \
                ours.column_dimensions[original.column_letter].width
        for cell, original in zip(mine[HEADER_ROW + 1], ours[HEADER_ROW + 1], strict=True):
            assert cell.number_format == original.number_format
            assert cell.fill.fgColor.rgb == original.fill.fgColor.rgb
        assert mine.freeze_panes == ours.freeze_panes
        assert [str(r) for r in mine.merged_cells.ranges] == [str(r) for r in ours.merged_cells.ranges]
    money = book[SHEET].cell(HEADER_ROW + 1, column_of(book[SHEET], "本月完成投资（万元）"))
    assert money.number_format == "#,##0.00" and isinstance(money.value, int | float)
    assert book["填报说明"]["A1"].font.name == "黑体"
    [phone] = [f for f in report.findings if f.code == "V22"]
    assert book[SHEET][phone.cell].fill.fgColor.rgb.endswith("FFC7CE")  # an error since issue 13
    # the copy carries the signed identity: corrected, it is a return like the original
    again = check_file(store.load(), copy, "2022-03")
    assert [f.code for f in again.findings] == ["F60", "V22"]  # its 校验结果 sheet, the phone
    assert sorted((e.project_id, e.year_completed) for e in again.entries) == \
        sorted((e.project_id, e.year_completed) for e in report.entries)


def test_a_finding_under_a_merged_cell_is_marked(office, tmp_path: Path) -> None:
    """A unit that merges two cells of a row empties the second; the checker's finding
    there crashed the copy (a merged cell takes no fill)."""
    store, template = office
    filled = fill_form(template, tmp_path / "合并.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    ws = book[SHEET]
    # (本年累计 left blank beside 本月完成 is taken as its formula gives it since issue 13:
    # merge 是否开工 with the date beside it instead, for a project reported started.)
    started, day = column_of(ws, "是否开工"), column_of(ws, "实际开工时间")
    assert day == started + 1
    ws.merge_cells(start_row=HEADER_ROW + 2, start_column=started, end_row=HEADER_ROW + 2,
                   end_column=day)
    book.save(filled)
    report, copy = annotated(store, filled, tmp_path / "批注")
    [empty] = [f for f in report.findings if f.code == "V11"]
    marked = openpyxl.load_workbook(copy)[SHEET][empty.cell]
    assert marked.fill.fgColor.rgb.endswith("FFC7CE") and "V11" in marked.comment.text
    # a finding placed on the form's own merged title is shown on its first cell
    report.findings.append(finding("V21", sheet=SHEET, cell="C1", column="填报人",
                                   sheet_name=SHEET, place="C1"))
    copy, _ = annotate(report, tmp_path / "又一次", Office())
    title = openpyxl.load_workbook(copy)[SHEET]["A1"]
    assert "V21" in title.comment.text


def test_the_copy_holds_only_the_forms_region(office, tmp_path: Path) -> None:
    store, template = office
    filled = fill_form(template, tmp_path / "远处.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    book[SHEET]["AZ5"] = "表格右边很远"
    book[SHEET]["C9000"] = "表格下面很远"
    book.save(filled)
    report, copy = annotated(store, filled, tmp_path / "批注")
    assert [f.code for f in report.findings] == ["F59"]
    ws = openpyxl.load_workbook(copy)[SHEET]
    assert ws.max_row <= HEADER_ROW + 3 + 50 and ws.max_column <= 24 + 10
    assert not any(v in ("表格右边很远", "表格下面很远") for row in ws.iter_rows(values_only=True)
                   for v in row)


@pytest.mark.slow
def test_a_return_padded_with_millions_of_hidden_cells_is_refused_and_annotated_fast(
        office_file, tmp_path: Path) -> None:
    """The red team's 15 MB return: 2 million cells on a hidden sheet. It passed checking
    and took minutes and gigabytes to annotate; now vetting refuses it and the copy is the
    findings alone."""
    master, template = office_file
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    padding = book.create_sheet("数据")
    padding["A1"] = 0
    padding.sheet_state = "hidden"
    book.save(filled)
    padded = tmp_path / "收件" / "填好.xlsx"
    padded.parent.mkdir()
    with zipfile.ZipFile(filled) as source, zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED,
                                                          compresslevel=1) as target:
        last = max((n for n in source.namelist() if n.startswith("xl/worksheets/sheet")),
                   key=lambda n: int(re.sub(r"\D", "", n)))
        for info in source.infolist():
            if info.filename != last:
                target.writestr(info.filename, source.read(info.filename))
        letters = [openpyxl.utils.get_column_letter(c) for c in range(1, 201)]
        with target.open(last, "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                       b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            for row in range(1, 10_001):
                part.write((f'<row r="{row}">' + "".join(
                    f'<c r="{letter}{row}"><v>{(row * 7919 + n) % 999983}</v></c>'
                    for n, letter in enumerate(letters)) + "</row>").encode())
            part.write(b"</sheetData></worksheet>")
    result = run_zdxm("validate", master, padded, "--period", "2022-03", "--annotate",
                      tmp_path / "批注", "--json")
    assert result.code == 1
    assert '"code": "F17"' in result.stdout
    copy = openpyxl.load_workbook(tmp_path / "批注" / "填好_校验结果.xlsx")
    assert copy.sheetnames == ["校验结果"]


@pytest.mark.soffice
def test_an_xls_return_gets_a_copy_with_its_values(office, tmp_path: Path) -> None:
    store, template = office
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1, mistakes=("text_amount",)).path
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xls", "--outdir", str(tmp_path / "xls"),
                    str(filled)], check=True, capture_output=True, timeout=180)
    report, copy = annotated(store, tmp_path / "xls" / "填好.xls", tmp_path / "批注")
    assert report.vetted is not None and report.vetted.kind == "xls"
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames == FORM_SHEETS
    ids = [book[SHEET].cell(r, 1).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)]
    assert sorted(ids) == ["ZD2022-0001", "ZD2022-0002", "ZD2022-0003"]
    [error] = [f for f in report.findings if f.code == "V01"]
    assert book[SHEET][error.cell].fill.fgColor.rgb.endswith("FFC7CE")


@pytest.mark.soffice
def test_the_copy_opens_in_libreoffice_as_a_form_with_its_findings(office,
                                                                    tmp_path: Path) -> None:
    store, template = office
    filled = fill_form(template, tmp_path / "交通.xlsx", seed=1,
                       mistakes=("text_amount", "bad_phone")).path
    _report, copy = annotated(store, filled, tmp_path / "批注")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"),
                    str(copy)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "pdf" / f"{copy.stem}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    for words in ("校验结果：未通过", "不是数字", "填报说明", "重大项目月报（实施项目）",
                  "本月完成投资", "测试项目2", "约500"):
        assert words in text, words
    assert shutil.which("pdftoppm")
