"""Checking returned files: one test per rule code, as the office would run it."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conftest import project, run_zdxm
from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.books.styles import write_text
from zdxm_xl.checks.returns import check_file
from zdxm_xl.core.findings import RULES
from zdxm_xl.core.identity import IDENTITY_SHEET
from zdxm_xl.core.master import new_master
from zdxm_xl.core.models import LedgerEntry, Unit
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.core.results import to_json
from zdxm_xl.demo.fill import MISTAKES, fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name
from zdxm_xl.validate import validate_files

UNIT = "市交通运输局"
SHEET = "实施项目月报"


def build_master(path: Path) -> Path:
    """A unit leading a 新开工, a 续建 and a 竣工 project and a 预备 one, with February's
    ledger, so month-over-month rules have something to compare with."""
    master = new_master(2022)
    master.settings.city = "柳州市"
    master.projects = [
        project(1, "新开工", "基础设施", "50000", "12000", (UNIT, "柳南区人民政府")),
        project(2, "续建", "基础设施", "80000", "20000", (UNIT,), prior_completed=Decimal("30000")),
        project(3, "竣工", "民生保障", "9000", "3000", (UNIT,), prior_completed=Decimal("6000")),
        project(4, "预备", "生态环保", "20000", None, (UNIT,)),
        project(5, "续建", "产业发展", "7000", "1000", ("市工业和信息化局",),
                prior_completed=Decimal("1000")),
    ]
    master.units = [Unit(name=UNIT, informant_name="李明", informant_phone="0772-2801234",
                         liaison_name="黄海"),
                    Unit(name="柳南区人民政府"), Unit(name="市工业和信息化局")]
    feb = dict(period="2022-02", unit=UNIT, source_sha256="0" * 64)
    master.ledger = [
        LedgerEntry(project_id="ZD2022-0001", month_completed=Decimal(300),
                    year_completed=Decimal(300), total_completed=Decimal(300), started="是",
                    start_date=date(2022, 2, 10), completed="否", **feb),
        LedgerEntry(project_id="ZD2022-0002", month_completed=Decimal(1000),
                    year_completed=Decimal(2500), total_completed=Decimal(32500), started="是",
                    start_date=date(2020, 5, 1), completed="否", **feb),
        LedgerEntry(project_id="ZD2022-0003", month_completed=Decimal(500),
                    year_completed=Decimal(900), total_completed=Decimal(8900), started="是",
                    start_date=date(2020, 3, 1), completed="是", end_date=date(2022, 2, 20),
                    **feb),
    ]
    create_master(path, 2022, master)
    return path


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25, 9, 0))
    return master, tmp_path / "模板" / form_name("2022-03", UNIT)


def codes_of(master: Path, path: Path, period: str | None = "2022-03") -> list[str]:
    return [f.code for f in check_file(load_master(master), path, period).findings]


def edit(path: Path, changes: dict[tuple[int, str], object], sheet: str = SHEET) -> Path:
    """Change cells of the return sheet by (project row 0-based, header text)."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    titles = [c.value for c in ws[HEADER_ROW]]
    for (row, header), value in changes.items():
        # Text stays text, as when a unit types it (a leading = typed in Excel is a formula,
        # whose cached result is what a reader sees).
        write_text(ws.cell(row=HEADER_ROW + 1 + row, column=titles.index(header) + 1), value)
    book.save(path)
    return path


def test_a_plausible_fill_passes_clean(setup, tmp_path: Path) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    report = check_file(load_master(master), filled, "2022-03")
    assert [f.message for f in report.findings] == []
    assert report.valid and report.unit == UNIT and report.period == "2022-03"
    assert sorted(e.project_id for e in report.entries) == [
        "ZD2022-0001", "ZD2022-0002", "ZD2022-0003", "ZD2022-0004"]


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_a_unit_makes_is_found(setup, tmp_path: Path, mistake: str) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / f"{mistake}.xlsx", seed=2, mistakes=(mistake,))
    assert filled.mistakes == (mistake,)
    assert MISTAKES[mistake] in codes_of(master, filled.path)


@pytest.mark.parametrize(
    ("code", "changes"),
    [
        ("V06", {(1, "开工以来累计完成投资（万元）"): 100}),
        ("V08", {(1, "开工以来累计完成投资（万元）"): 90000}),
        ("V12", {(2, "是否竣工"): "是", (2, "实际竣工时间"): None}),
        ("V15", {(0, "实际开工时间"): "2021-12-31"}),
        ("V16", {(0, "是否开工"): "否", (0, "实际开工时间"): None}),
        ("V17", {(2, "是否竣工"): "否", (2, "实际竣工时间"): None}),
        ("V18", {(1, "是否开工"): "否", (1, "是否竣工"): "是", (1, "实际竣工时间"): "2022-03-01"}),
        ("R05", {(1, "项目编号"): None}),
    ],
)
def test_value_rules_on_edited_cells(setup, tmp_path: Path, code: str, changes) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3).path
    assert code in codes_of(master, edit(filled, changes))


def test_a_full_width_amount_with_separators_is_read_silently(setup, tmp_path: Path) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3).path
    book = openpyxl.load_workbook(filled)
    titles = [c.value for c in book[SHEET][HEADER_ROW]]
    row = HEADER_ROW + 2
    month = book[SHEET].cell(row=row, column=titles.index("本月完成投资（万元）") + 1).value
    text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in f"{int(month):,}")
    edit(filled, {(1, "本月完成投资（万元）"): text})
    report = check_file(load_master(master), filled, "2022-03")
    assert report.valid, [f.message for f in report.findings]
    assert next(e for e in report.entries if e.project_id == "ZD2022-0002").month_completed == \
        Decimal(int(month))


def test_a_workbook_that_is_not_a_template(setup, tmp_path: Path) -> None:
    master, _ = setup
    other = tmp_path / "别的表.xlsx"
    openpyxl.Workbook().save(other)
    assert codes_of(master, other) == ["F50"]


def test_an_outdated_template_version(setup, tmp_path: Path) -> None:
    master, template = setup
    book = openpyxl.load_workbook(template)
    for row in book[IDENTITY_SHEET].iter_rows(max_col=2):
        if row[0].value == "模板版本":
            row[1].value = "0"
    book.save(template)
    assert codes_of(master, template) == ["F52"]


def test_last_months_template(setup, tmp_path: Path) -> None:
    master, _ = setup
    make_forms(master, "2022-02", tmp_path / "二月", unit=UNIT)
    february = tmp_path / "二月" / form_name("2022-02", UNIT)
    report = check_file(load_master(master), february, "2022-03")
    assert [f.code for f in report.findings] == ["F53"]
    assert "这是 2022-02 的模板" in report.findings[0].message


def test_a_unit_no_longer_reporting(setup, tmp_path: Path) -> None:
    master, _ = setup
    make_forms(master, "2022-03", tmp_path / "工信", unit="市工业和信息化局")
    path = tmp_path / "工信" / form_name("2022-03", "市工业和信息化局")
    book = load_master(master)
    book.project("ZD2022-0005").units = ["市交通运输局"]
    assert [f.code for f in check_file(book, path, "2022-03").findings] == ["F54"]


def test_a_deleted_sheet_and_a_renamed_header(setup, tmp_path: Path) -> None:
    master, template = setup
    book = openpyxl.load_workbook(template)
    del book["预备项目月报"]
    book[SHEET].cell(row=HEADER_ROW, column=10).value = "本年累计"
    book.save(template)
    codes = codes_of(master, template)
    assert "F55" in codes and "F56" in codes


def test_every_declared_rule_has_a_test_here_or_in_vetting() -> None:
    import zdxm_xl.checks.returns  # noqa: F401 - declares the rules

    source = Path(__file__).read_text(encoding="utf-8")
    vetting = (Path(__file__).parent / "test_vetting.py").read_text(encoding="utf-8")
    covered = set(MISTAKES.values()) | {c for c in RULES if f'"{c}"' in source + vetting}
    assert set(RULES) - covered == set()


def test_validate_cli_json_annotates_and_exits_1(setup, tmp_path: Path) -> None:
    master, template = setup
    fill_form(template, tmp_path / "in" / "好.xlsx", seed=4)
    fill_form(template, tmp_path / "in" / "坏.xlsx", seed=4,
                  mistakes=("text_amount", "bad_phone"))
    result = run_zdxm("validate", master, tmp_path / "in", "--period", "2022-03",
                      "--annotate", tmp_path / "批注", "--json")
    assert result.code == 1, result.stderr
    data = json.loads(result.stdout)
    expected = to_json(validate_files(master, [tmp_path / "in"], "2022-03"))
    assert data == expected
    files = {Path(f["file"]).name: f for f in data["files"]}
    assert files["好.xlsx"]["valid"] and files["好.xlsx"]["errors"] == 0
    assert not files["坏.xlsx"]["valid"]
    v01 = next(f for f in files["坏.xlsx"]["findings"] if f["code"] == "V01")
    assert v01 == {"code": "V01", "severity": "error", "sheet": SHEET, "cell": v01["cell"],
                   "project_id": "ZD2022-0001", "value": "约500", "message": v01["message"]}
    assert "不是数字" in v01["message"]
    copy = openpyxl.load_workbook(tmp_path / "批注" / "坏_校验结果.xlsx")
    assert copy.sheetnames[0] == "校验结果"
    cell = copy[SHEET][v01["cell"]]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "V01" in cell.comment.text
    phone = next(f for f in files["坏.xlsx"]["findings"] if f["code"] == "V22")
    assert copy[SHEET][phone["cell"]].fill.fgColor.rgb.endswith("FFEB9C")
    receipt = (tmp_path / "批注" / "坏_回执.txt").read_text(encoding="utf-8")
    assert receipt.startswith(f"{UNIT}：") and "校验未通过" in receipt
    assert "校验通过" in (tmp_path / "批注" / "好_回执.txt").read_text(encoding="utf-8")
    assert load_master(master).ledger  # validate never changes the master
    assert len(load_master(master).ledger) == 3


def test_validate_never_changes_the_master(setup, tmp_path: Path) -> None:
    master, template = setup
    before = master.read_bytes()
    filled = fill_form(template, tmp_path / "f.xlsx", seed=5).path
    assert run_zdxm("validate", master, filled).code == 0
    assert master.read_bytes() == before


@pytest.mark.soffice
@pytest.mark.parametrize("target", ["xls", "xlsx"])
def test_a_return_saved_again_by_another_program_still_passes(setup, tmp_path: Path,
                                                             target: str) -> None:
    """A 信息员 who opens the file in WPS/LibreOffice and saves it (even as .xls)."""
    master, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    out = tmp_path / "另存"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", target, "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    again = check_file(load_master(master), out / f"填好.{target}", "2022-03")
    assert [f.message for f in again.findings if f.is_error] == []
    original = check_file(load_master(master), filled, "2022-03")
    assert sorted((e.project_id, e.year_completed, e.total_completed, e.started)
                  for e in again.entries) == \
        sorted((e.project_id, e.year_completed, e.total_completed, e.started)
               for e in original.entries)


# ---- the file keeps to our form: its year, its sheets, its region ------------------------

def resign(path: Path, master: Path, **changes: str) -> Path:
    """Change the form's identity and sign it again with the office's own key, as a form
    made by the same office (a master copied from last year's) would be."""
    from zdxm_xl.core.identity import IDENTITY_KEYS, Identity

    book = openpyxl.load_workbook(path)
    sheet = book[IDENTITY_SHEET]
    pairs = {row[0].value: row[1] for row in sheet.iter_rows(max_col=2)}
    identity = Identity.from_pairs({k: v.value for k, v in pairs.items()})
    fields = {name: getattr(identity, name) for name in ("version", "unit", "period",
                                                         "projects", "issued")}
    signed = Identity(**{**fields, **changes}).signed(load_master(master).secret)
    for key, value in signed.rows():
        pairs[key].value = value
    assert set(pairs) == set(IDENTITY_KEYS.values())
    book.save(path)
    return path


def test_a_form_of_another_year_signed_with_the_same_key(setup, tmp_path: Path) -> None:
    master, template = setup
    old = resign(fill_form(template, tmp_path / "去年.xlsx", seed=1).path, master,
                 period="2021-12")
    for period in (None, "2022-03"):  # with or without the period of this collection
        report = check_file(load_master(master), old, period)
        assert [f.code for f in report.findings] == ["F57"]
        assert "这是 2021-12 的模板，不在台账的计划年度 2022 年内" in report.findings[0].message
        assert (report.unit, report.period, report.valid) == (UNIT, None, False)
    result = run_zdxm("merge", master, old, "--json")
    assert result.code == 1
    assert json.loads(result.stdout)["rejected"] == [
        {"file": str(old), "unit": UNIT, "period": None, "errors": 1}]
    assert [e for e in load_master(master).ledger if e.period != "2022-02"] == []


def test_a_hidden_sheet_of_the_units_own_is_refused(setup, tmp_path: Path) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "藏表.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    extra = book.create_sheet("Sheet9")
    extra["A1"] = "另一套数字"
    extra.sheet_state = "hidden"
    book.create_sheet("草稿")["A1"] = "自己算的"
    book.save(filled)
    report = check_file(load_master(master), filled, "2022-03")
    assert [(f.code, f.sheet) for f in report.findings] == [("F58", "Sheet9"), ("F60", "草稿")]
    assert not report.valid
    assert "隐藏工作表「Sheet9」" in report.findings[0].message
    assert report.findings[1].severity == "warning"


def test_content_far_outside_the_form_is_refused(setup, tmp_path: Path) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "远处.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    book[SHEET]["B2000"] = "藏在下面的数字"
    book.save(filled)
    report = check_file(load_master(master), filled, "2022-03")
    assert [(f.code, f.sheet, f.cell) for f in report.findings] == [("F59", SHEET, "B2000")]
    assert "远在填报表格之外（表格只到第 7 行、第 24 列）" in report.findings[0].message
    # a note or a sum beside the table is the unit's to write
    book[SHEET]["B2000"] = None
    book[SHEET]["Z5"] = "备注：本月停工三天"
    book[SHEET]["AF6"] = 123
    book.save(filled)
    assert codes_of(master, filled) == []


def test_a_workbook_is_read_by_what_it_is_not_by_its_name(setup, tmp_path: Path) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    renamed = tmp_path / "收件" / "填好.xls"
    renamed.parent.mkdir()
    renamed.write_bytes(filled.read_bytes())
    report = check_file(load_master(master), renamed, "2022-03")
    assert (report.vetted.kind, report.valid, report.findings) == ("xlsx", True, [])
    result = merge_files(master, [renamed], "2022-03")
    assert result.ok and result.merged
    archived = master.parent / "归档" / "2022-03" / UNIT / f"{report.sha256}.xlsx"
    assert archived.read_bytes() == filled.read_bytes()


@pytest.mark.soffice
def test_an_xls_named_xlsx_is_read_as_the_xls_it_is(setup, tmp_path: Path) -> None:
    master, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xls", "--outdir", str(tmp_path / "xls"),
                    str(filled)], check=True, capture_output=True, timeout=180)
    disguised = tmp_path / "填好（另存）.xlsx"
    (tmp_path / "xls" / "填好.xls").rename(disguised)
    report = check_file(load_master(master), disguised, "2022-03")
    assert report.vetted.kind == "xls"
    assert [f.message for f in report.findings if f.is_error] == []
    assert len(report.entries) == 4
