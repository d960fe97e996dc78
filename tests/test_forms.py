"""Unit fill-in templates: what a unit receives."""

from __future__ import annotations

import subprocess
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conftest import run_zdxm
from zdxm_xl.core.identity import IDENTITY_SHEET, Identity
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.money import from_cell
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.core.registry import FORM_IMPLEMENTATION, FORM_PREPARATORY
from zdxm_xl.forms import make_forms
from zdxm_xl.reports.forms import form_name


def identity_of(path: Path) -> Identity:
    sheet = openpyxl.load_workbook(path)[IDENTITY_SHEET]
    return Identity.from_pairs({str(r[0].value): str(r[1].value or "")
                                for r in sheet.iter_rows(max_col=2)})


def test_one_template_per_lead_unit_with_the_sheets_it_needs(master_path: Path,
                                                             tmp_path: Path) -> None:
    result = run_zdxm("templates", master_path, "--period", "2022-03", "-o", tmp_path / "out")
    assert result.code == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(form_name("2022-03", u) for u in
                           ("城中区人民政府", "市工业和信息化局", "市教育局", "市生态环境局"))
    city = openpyxl.load_workbook(tmp_path / "out" / form_name("2022-03", "城中区人民政府"))
    assert city.sheetnames == ["填报说明", "实施项目月报", "系统信息"]
    assert city["系统信息"].sheet_state == "hidden"
    ecology = openpyxl.load_workbook(tmp_path / "out" / form_name("2022-03", "市生态环境局"))
    assert ecology.sheetnames == ["填报说明", "预备项目月报", "系统信息"]


@pytest.mark.parametrize("spec", [FORM_IMPLEMENTATION, FORM_PREPARATORY])
def test_headers_are_verbatim_and_contacts_sit_beside_their_labels(store: MemoryStore,
                                                                   tmp_path: Path, spec) -> None:
    unit = "城中区人民政府" if spec is FORM_IMPLEMENTATION else "市生态环境局"
    make_forms(store, "2022-03", tmp_path, unit=unit)
    sheet = openpyxl.load_workbook(tmp_path / form_name("2022-03", unit))[spec.sheet]
    assert tuple(c.value for c in sheet[HEADER_ROW]) == spec.titles
    labels = {c.value: sheet.cell(row=c.row, column=c.column + 1).value
              for row in sheet.iter_rows(max_row=HEADER_ROW - 1) for c in row}
    assert labels["填报人（信息员）"] == "张三"
    assert labels["联系电话"] == "13800000000"
    assert "审核人（联络员）" in labels
    # the unit is told which columns are its own: input headers green, the plan's blue,
    # each white and bold, centred and wrapped, boxed, with the column's help as a comment
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index)
        colour = "375623" if column.field in spec.inputs else "1F4E78"
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(colour)
        assert cell.font.bold and cell.font.color.rgb.endswith("FFFFFF")
        assert cell.alignment.horizontal == "center" and cell.alignment.wrap_text
        assert cell.border.left.style == cell.border.bottom.style == "thin"
        assert (cell.comment is not None) == bool(column.help)


def test_plan_cells_are_locked_inputs_open_and_validated(store: MemoryStore,
                                                         tmp_path: Path) -> None:
    make_forms(store, "2022-03", tmp_path, unit="城中区人民政府")
    path = tmp_path / form_name("2022-03", "城中区人民政府")
    sheet = openpyxl.load_workbook(path)["实施项目月报"]
    titles = [c.value for c in sheet[HEADER_ROW]]
    row = HEADER_ROW + 1
    for column in FORM_IMPLEMENTATION.columns:
        cell = sheet.cell(row=row, column=titles.index(column.title) + 1)
        assert cell.protection.locked == (column.field not in FORM_IMPLEMENTATION.inputs), column
    assert sheet.protection.sheet and not sheet.protection.password
    kinds = {(v.type, v.formula1) for v in sheet.data_validations.dataValidation}
    assert ("list", '"是,否"') in kinds
    assert ("list", '"未启动,办理中,已办结,不涉及"') in kinds
    assert ("decimal", "0") in kinds
    assert any(kind == "custom" and "DATEVALUE" in formula for kind, formula in kinds)
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<extLst" in archive.read(n) for n in sheets)
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"


def test_january_reference_figures_come_from_the_plan(store: MemoryStore, tmp_path: Path) -> None:
    make_forms(store, "2022-01", tmp_path, unit="市工业和信息化局")
    sheet = openpyxl.load_workbook(tmp_path / form_name("2022-01", "市工业和信息化局"))[
        "实施项目月报"]
    titles = [c.value for c in sheet[HEADER_ROW]]
    row = HEADER_ROW + 1
    assert sheet.cell(row=row, column=titles.index("上月本年累计（万元）") + 1).value == 0
    assert sheet.cell(row=row, column=titles.index("上月开工以来累计（万元）") + 1).value == 1500


def test_identity_is_signed_with_the_office_key_which_is_not_in_the_file(
        store: MemoryStore, tmp_path: Path) -> None:
    make_forms(store, "2022-03", tmp_path, unit="城中区人民政府")
    path = tmp_path / form_name("2022-03", "城中区人民政府")
    identity = identity_of(path)
    master = store.master
    assert identity.unit == "城中区人民政府" and identity.period == "2022-03"
    assert identity.projects == ("ZD2022-0001",)
    assert identity.verify(master.secret)
    claimed = Identity(identity.version, "市教育局", identity.period, identity.projects,
                       identity.issued, identity.signature)
    assert not claimed.verify(master.secret)
    with zipfile.ZipFile(path) as archive:
        assert not any(master.secret.encode() in archive.read(n) for n in archive.namelist())


@pytest.mark.soffice
def test_identity_survives_a_libreoffice_round_trip(store: MemoryStore, tmp_path: Path) -> None:
    make_forms(store, "2022-03", tmp_path / "in", unit="城中区人民政府")
    source = tmp_path / "in" / form_name("2022-03", "城中区人民政府")
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=180)
    again = identity_of(out / source.name)
    assert again == identity_of(source)
    assert again.verify(store.master.secret)


def test_an_exited_project_leaves_from_the_next_period(store: MemoryStore, tmp_path: Path) -> None:
    master = store.master
    project = master.project("ZD2022-0002")
    project.status, project.exit_date = "已退出", date(2022, 5, 10)
    store.save(master)
    may = make_forms(store, "2022-05", tmp_path / "may")
    june = make_forms(store, "2022-06", tmp_path / "june")
    assert "市工业和信息化局" in may.units
    assert "市工业和信息化局" not in june.units


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--period", "2022-13"), "报告期“2022-13”无效"),
     (("--period", "2023-01"), "不在台账的计划年度 2022 年内。（--period）"),
     (("--period", "2022-03", "--unit", "不存在的单位"), "没有需要报送的项目")],
)
def test_template_arguments_are_checked(master_path: Path, tmp_path: Path, args, message) -> None:
    result = run_zdxm("templates", master_path, "-o", tmp_path, *args)
    assert result.code == 2
    assert message in result.stderr


def test_money_in_templates_reads_back_exactly(store: MemoryStore, tmp_path: Path) -> None:
    make_forms(store, "2022-03", tmp_path, unit="城中区人民政府")
    sheet = openpyxl.load_workbook(tmp_path / form_name("2022-03", "城中区人民政府"))[
        "实施项目月报"]
    titles = [c.value for c in sheet[HEADER_ROW]]
    cell = sheet.cell(row=HEADER_ROW + 1, column=titles.index("总投资（万元）") + 1)
    assert from_cell(cell.value) == Decimal("10000.50")
    assert cell.number_format == "#,##0.00"


# ---- a form that helps --------------------------------------------------------------------

def _form(store: MemoryStore, tmp_path: Path, period: str = "2022-07",
          unit: str = "城中区人民政府") -> openpyxl.Workbook:
    make_forms(store, period, tmp_path, unit=unit)
    return openpyxl.load_workbook(tmp_path / form_name(period, unit))


def test_cumulative_figures_are_formulas_on_open_cells(store: MemoryStore, tmp_path: Path) -> None:
    sheet = _form(store, tmp_path)["实施项目月报"]
    titles = [c.value for c in sheet[HEADER_ROW]]
    row = HEADER_ROW + 1
    letter = {t: openpyxl.utils.get_column_letter(titles.index(t) + 1) for t in titles}
    month, year, since = "本月完成投资（万元）", "本年累计完成投资（万元）", "开工以来累计完成投资（万元）"
    assert sheet.cell(row, titles.index(year) + 1).value == \
        f'=IF({letter[month]}{row}="","",{letter["上月本年累计（万元）"]}{row}+{letter[month]}{row})'
    assert sheet.cell(row, titles.index(since) + 1).value == \
        f'=IF({letter[month]}{row}="","",{letter["上月开工以来累计（万元）"]}{row}+{letter[month]}{row})'
    assert not sheet.cell(row, titles.index(year) + 1).protection.locked  # a typed value is fine
    assert titles[-1] == "情况说明"


def test_prompts_and_error_messages_say_the_same_with_examples_of_the_period(
        store: MemoryStore, tmp_path: Path) -> None:
    sheet = _form(store, tmp_path)["实施项目月报"]
    titles = [c.value for c in sheet[HEADER_ROW]]
    by_column = {}
    for validation in sheet.data_validations.dataValidation:
        for ref in str(validation.sqref).split():
            by_column[titles[openpyxl.utils.column_index_from_string(ref.rstrip(":0123456789")
                                                                     .split(":")[0]) - 1]] = validation
    start = by_column["实际开工时间"]
    assert "2022-07-15 或 2022年7月15日" in start.prompt and "2022-07-15 或 2022年7月15日" in start.error
    month = by_column["本月完成投资（万元）"]
    for words in ("不小于 0", "单位万元", "最多两位小数", "500 或 500.25"):
        assert words in month.prompt and words in month.error
    yes_no = by_column["是否开工"]
    assert "是、否" in yes_no.prompt and "是、否" in yes_no.error
    for validation in by_column.values():
        assert validation.showInputMessage and validation.showErrorMessage


def test_month_fields_accept_what_people_type(store: MemoryStore, tmp_path: Path) -> None:
    sheet = _form(store, tmp_path, unit="市生态环境局")["预备项目月报"]
    planned = next(v for v in sheet.data_validations.dataValidation
                   if "计划开工时间" in (v.promptTitle or ""))
    # not a date-only rule: text such as 2023-03 (kept as text by some programs) or 2023年3月
    assert planned.type == "custom"
    assert 'DATEVALUE(' in planned.formula1 and '&"-01"' in planned.formula1
    assert 'SUBSTITUTE(' in planned.formula1 and '"年"' in planned.formula1
    assert "2023-07 或 2023年7月" in planned.prompt and "2023-07 或 2023年7月" in planned.error


def test_the_guide_points_to_the_real_cells(store: MemoryStore, tmp_path: Path) -> None:
    book = _form(store, tmp_path)
    guide = "\n".join(str(c.value) for row in book["填报说明"].iter_rows() for c in row if c.value)
    sheet = book["实施项目月报"]
    titles = [c.value for c in sheet[HEADER_ROW]]

    def letter(title: str) -> str:
        return openpyxl.utils.get_column_letter(titles.index(title) + 1)

    assert f"填写 {letter('本月完成投资（万元）')}—{letter('情况说明')} 列" in guide
    assert f"本年累计完成投资（{letter('本年累计完成投资（万元）')} 列）" in guide
    assert f"“情况说明”（{letter('情况说明')} 列）" in guide
    for label, cell in (("填报人（信息员）", "B3"), ("联系电话", "E3"), ("审核人（联络员）", "H3")):
        assert f"{label}（{cell}）" in guide
        assert sheet[cell].offset(column=-1).value == label
        assert sheet[cell].number_format == "@"
    assert "2022-07-15" in guide


@pytest.mark.soffice
def test_the_date_rules_accept_dates_and_date_text_in_libreoffice(store: MemoryStore,
                                                                  tmp_path: Path) -> None:
    """Whatever a program makes of what is typed — a date, or text it did not recognise —
    the validation formulas of the form accept it; nonsense they refuse. LibreOffice
    computes each rule over such values."""
    book = _form(store, tmp_path)
    start = next(v for v in book["实施项目月报"].data_validations.dataValidation
                 if v.promptTitle == "实际开工时间")
    prep = _form(store, tmp_path, unit="市生态环境局")
    month = next(v for v in prep["预备项目月报"].data_validations.dataValidation
                 if v.promptTitle == "计划开工时间")
    cases = [(start, date(2022, 7, 15), True), (start, "2022-07-15", True),
             (start, "2022年7月15日", True), (start, "七月中旬", False), (start, 5, False),
             (month, date(2023, 7, 1), True), (month, "2023-07", True), (month, "2023年7月", True),
             (month, "明年", False)]
    sheet = openpyxl.Workbook()
    ws = sheet.active
    for row, (rule, value, _) in enumerate(cases, start=1):
        ws.cell(row, 1).value = value
        first = str(rule.sqref).split(":")[0]
        ws.cell(row, 2).value = "=" + rule.formula1.replace(first, f"A{row}")
    sheet.save(tmp_path / "rules.xlsx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"),
                    str(tmp_path / "rules.xlsx")], check=True, capture_output=True, timeout=180)
    computed = openpyxl.load_workbook(tmp_path / "out" / "rules.xlsx", data_only=True).active
    assert [bool(computed.cell(r, 2).value) for r in range(1, len(cases) + 1)] == \
        [ok for _, _, ok in cases]
