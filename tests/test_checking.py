"""Checking returned files: one test per rule code, as the office would run it."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from checking_office import SHEET, UNIT, build_master, checking_master, edit
from conftest import project, run_zdxm
from zdxm_xl.books.masterio import load_master
from zdxm_xl.checks.returns import check_file
from zdxm_xl.core.findings import RULES
from zdxm_xl.core.identity import IDENTITY_SHEET
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.models import PermitStatus, YesNo
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.core.registry import RULE_COLUMN
from zdxm_xl.core.results import to_json
from zdxm_xl.demo.fill import MISTAKES, fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name
from zdxm_xl.validate import validate_files


@pytest.fixture
def setup(tmp_path: Path) -> tuple[MemoryStore, Path]:
    """``checking_master`` in memory, and 市交通运输局's March form made from it."""
    store = MemoryStore(checking_master(), tmp_path)
    make_forms(store, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25, 9, 0))
    return store, tmp_path / "模板" / form_name("2022-03", UNIT)


@pytest.fixture
def on_file(tmp_path: Path) -> tuple[Path, Path]:
    """As ``setup``, with the master a workbook: for the command line and the workbook's
    own sheets."""
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25, 9, 0))
    return master, tmp_path / "模板" / form_name("2022-03", UNIT)


def codes_of(store: MemoryStore, path: Path, period: str | None = "2022-03") -> list[str]:
    return [f.code for f in check_file(store.load(), path, period).findings]


def test_a_plausible_fill_passes_clean(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    report = check_file(store.load(), filled, "2022-03")
    assert [f.message for f in report.findings] == []
    assert report.valid and report.unit == UNIT and report.period == "2022-03"
    assert sorted(e.project_id for e in report.entries) == [
        "ZD2022-0001", "ZD2022-0002", "ZD2022-0003", "ZD2022-0004"]


def test_a_returns_rows_become_ledger_rows_of_the_ledgers_own_types(setup,
                                                                   tmp_path: Path) -> None:
    """What a merge records of a return: each row's values, validated as 月报台帐 rows —
    amounts exact decimals, 是/否 and 手续 answers the ledger's own choices, dates dates.
    Validate, which merges nothing, keeps no rows."""
    store, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    report = check_file(store.load(), filled, "2022-03")
    assert len(report.rows) == len(report.entries) == 4
    kinds: dict[str, set[type]] = {}
    for entry in report.entries:
        assert (entry.period, entry.unit, entry.source_sha256) == ("2022-03", UNIT, report.sha256)
        for name, value in entry:
            kinds.setdefault(name, set()).add(type(value))
    assert kinds["month_completed"] == kinds["year_completed"] == {Decimal, type(None)}
    assert {YesNo} <= kinds["started"] <= {YesNo, type(None)}
    assert {date} <= kinds["start_date"] <= {date, type(None)}
    assert {PermitStatus} <= kinds["permit_construction"] <= {PermitStatus, type(None)}
    [looked] = validate_files(store, [filled], "2022-03").files
    assert looked.valid and looked.rows == [] and looked.entries == []


def test_a_fill_that_leaves_the_totals_to_the_formulas_passes_clean(setup,
                                                                   tmp_path: Path) -> None:
    """As a 信息员 fills it: only 本月完成 typed, 本年累计 and 开工以来累计 the form's formulas
    (saved without their results): worked out by the checker, no finding; a mistake made
    on such a form is still found."""
    store, template = setup
    filled = fill_form(template, tmp_path / "公式.xlsx", seed=1, formulas=True).path
    sheet = openpyxl.load_workbook(filled)[SHEET]
    titles = [c.value for c in sheet[HEADER_ROW]]
    assert str(sheet.cell(HEADER_ROW + 1, titles.index(YEAR) + 1).value).startswith("=IF(")
    report = check_file(store.load(), filled, "2022-03")
    assert [f.message for f in report.findings] == []
    plain = check_file(store.load(), fill_form(template, tmp_path / "值.xlsx", seed=1).path,
                       "2022-03")
    assert [(e.year_completed, e.total_completed) for e in report.entries] == [
        (e.year_completed, e.total_completed) for e in plain.entries]
    wrong = fill_form(template, tmp_path / "错.xlsx", seed=2, mistakes=("huge_amount",),
                      formulas=True)
    assert wrong.mistakes == ("huge_amount",)
    assert MISTAKES["huge_amount"] in codes_of(store, wrong.path)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_a_unit_makes_is_found(setup, tmp_path: Path, mistake: str) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / f"{mistake}.xlsx", seed=2, mistakes=(mistake,))
    assert filled.mistakes == (mistake,)
    assert MISTAKES[mistake] in codes_of(store, filled.path)


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
    store, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3).path
    assert code in codes_of(store, edit(filled, changes))


def test_a_full_width_amount_with_separators_is_read_silently(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3).path
    book = openpyxl.load_workbook(filled)
    titles = [c.value for c in book[SHEET][HEADER_ROW]]
    row = HEADER_ROW + 2
    month = book[SHEET].cell(row=row, column=titles.index("本月完成投资（万元）") + 1).value
    text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in f"{int(month):,}")
    edit(filled, {(1, "本月完成投资（万元）"): text})
    report = check_file(store.load(), filled, "2022-03")
    assert report.valid, [f.message for f in report.findings]
    assert next(e for e in report.entries if e.project_id == "ZD2022-0002").month_completed == \
        Decimal(int(month))


def test_a_workbook_that_is_not_a_template(setup, tmp_path: Path) -> None:
    store, _ = setup
    other = tmp_path / "别的表.xlsx"
    openpyxl.Workbook().save(other)
    assert codes_of(store, other) == ["F50"]


def test_an_outdated_template_version(setup, tmp_path: Path) -> None:
    store, template = setup
    book = openpyxl.load_workbook(template)
    for row in book[IDENTITY_SHEET].iter_rows(max_col=2):
        if row[0].value == "模板版本":
            row[1].value = "0"
    book.save(template)
    assert codes_of(store, template) == ["F52"]


def test_last_months_template(setup, tmp_path: Path) -> None:
    store, _ = setup
    make_forms(store, "2022-02", tmp_path / "二月", unit=UNIT)
    february = tmp_path / "二月" / form_name("2022-02", UNIT)
    report = check_file(store.load(), february, "2022-03")
    assert [f.code for f in report.findings] == ["F53"]
    assert "这是2022年2月的模板，本次收取的是2022年3月的月报" in report.findings[0].message


def test_a_unit_no_longer_reporting(setup, tmp_path: Path) -> None:
    store, _ = setup
    make_forms(store, "2022-03", tmp_path / "工信", unit="市工业和信息化局")
    path = tmp_path / "工信" / form_name("2022-03", "市工业和信息化局")
    book = store.load()
    book.project("ZD2022-0005").units = ["市交通运输局"]
    assert [f.code for f in check_file(book, path, "2022-03").findings] == ["F54"]


def test_a_deleted_sheet_and_a_renamed_header(setup, tmp_path: Path) -> None:
    store, template = setup
    book = openpyxl.load_workbook(template)
    del book["预备项目月报"]
    book[SHEET].cell(row=HEADER_ROW, column=10).value = "本年累计"
    book.save(template)
    codes = codes_of(store, template)
    assert "F55" in codes and "F56" in codes


def test_every_declared_rule_has_a_test_here_or_in_vetting() -> None:
    import zdxm_xl.checks.returns  # noqa: F401 - declares the rules

    source = Path(__file__).read_text(encoding="utf-8")
    vetting = (Path(__file__).parent / "test_vetting.py").read_text(encoding="utf-8")
    vetting += (Path(__file__).parent / "test_problems.py").read_text(encoding="utf-8")
    covered = set(MISTAKES.values()) | {c for c in RULES if f'"{c}"' in source + vetting}
    assert set(RULES) - covered == set()


def test_validate_cli_json_annotates_and_exits_1(on_file, tmp_path: Path) -> None:
    master, template = on_file
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
                   "project_id": "ZD2022-0001", "project_name": "测试项目1", "value": "约500",
                   "message": v01["message"]}
    assert "不是数字" in v01["message"]
    copy = openpyxl.load_workbook(tmp_path / "批注" / "坏_校验结果.xlsx")
    assert copy.sheetnames[0] == "校验结果"
    cell = copy[SHEET][v01["cell"]]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "V01" in cell.comment.text
    phone = next(f for f in files["坏.xlsx"]["findings"] if f["code"] == "V22")
    assert phone["severity"] == "error"  # a malformed phone stops the merge by default
    assert copy[SHEET][phone["cell"]].fill.fgColor.rgb.endswith("FFC7CE")
    receipt = (tmp_path / "批注" / "坏_回执.txt").read_text(encoding="utf-8")
    assert receipt.startswith(f"{UNIT}：") and "校验未通过" in receipt
    assert "校验通过" in (tmp_path / "批注" / "好_回执.txt").read_text(encoding="utf-8")
    assert load_master(master).ledger  # validate never changes the master
    assert len(load_master(master).ledger) == 3


def test_validate_never_changes_the_master(on_file, tmp_path: Path) -> None:
    master, template = on_file
    before = master.read_bytes()
    filled = fill_form(template, tmp_path / "f.xlsx", seed=5).path
    assert run_zdxm("validate", master, filled).code == 0
    assert master.read_bytes() == before


@pytest.mark.soffice
@pytest.mark.parametrize("target", ["xls", "xlsx"])
def test_a_return_saved_again_by_another_program_still_passes(setup, tmp_path: Path,
                                                             target: str) -> None:
    """A 信息员 who opens the file in WPS/LibreOffice and saves it (even as .xls)."""
    store, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    out = tmp_path / "另存"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", target, "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    again = check_file(store.load(), out / f"填好.{target}", "2022-03")
    assert [f.message for f in again.findings if f.is_error] == []
    original = check_file(store.load(), filled, "2022-03")
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


def test_a_form_of_another_year_signed_with_the_same_key(on_file, tmp_path: Path) -> None:
    master, template = on_file
    old = resign(fill_form(template, tmp_path / "去年.xlsx", seed=1).path, master,
                 period="2021-12")
    for period in (None, "2022-03"):  # with or without the period of this collection
        report = check_file(load_master(master), old, period)
        assert [f.code for f in report.findings] == ["F57"]
        assert "这是2021年12月的模板，不在台账的计划年度 2022 年内" in report.findings[0].message
        assert (report.unit, report.period, report.valid) == (UNIT, None, False)
    result = run_zdxm("merge", master, old, "--json")
    assert result.code == 1
    assert json.loads(result.stdout)["rejected"] == [
        {"file": str(old), "unit": UNIT, "period": None, "errors": 1}]
    assert [e for e in load_master(master).ledger if e.period != "2022-02"] == []


def test_a_hidden_sheet_of_the_units_own_is_refused(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "藏表.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    extra = book.create_sheet("Sheet9")
    extra["A1"] = "另一套数字"
    extra.sheet_state = "hidden"
    book.create_sheet("草稿")["A1"] = "自己算的"
    book.save(filled)
    report = check_file(store.load(), filled, "2022-03")
    assert [(f.code, f.sheet) for f in report.findings] == [("F58", "Sheet9"), ("F60", "草稿")]
    assert not report.valid
    assert "隐藏工作表「Sheet9」" in report.findings[0].message
    assert report.findings[1].severity == "warning"


def test_content_far_outside_the_form_is_refused(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "远处.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    book[SHEET]["B2000"] = "藏在下面的数字"
    book.save(filled)
    report = check_file(store.load(), filled, "2022-03")
    assert [(f.code, f.sheet, f.cell) for f in report.findings] == [("F59", SHEET, "B2000")]
    assert "远在填报表格之外（表格只到第 7 行、第 25 列）" in report.findings[0].message
    # a note or a sum beside the table is the unit's to write
    book[SHEET]["B2000"] = None
    book[SHEET]["Z5"] = "备注：本月停工三天"
    book[SHEET]["AF6"] = 123
    book.save(filled)
    assert codes_of(store, filled) == []


def test_a_workbook_is_read_by_what_it_is_not_by_its_name(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    renamed = tmp_path / "收件" / "填好.xls"
    renamed.parent.mkdir()
    renamed.write_bytes(filled.read_bytes())
    report = check_file(store.load(), renamed, "2022-03")
    assert (report.vetted.kind, report.valid, report.findings) == ("xlsx", True, [])
    result = merge_files(store, [renamed], "2022-03")
    assert result.ok and result.merged
    archived = store.folder / "归档" / "2022-03" / UNIT / f"{report.sha256}.xlsx"
    assert archived.read_bytes() == filled.read_bytes()


@pytest.mark.soffice
def test_an_xls_named_xlsx_is_read_as_the_xls_it_is(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "填好.xlsx", seed=1).path
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xls", "--outdir", str(tmp_path / "xls"),
                    str(filled)], check=True, capture_output=True, timeout=180)
    disguised = tmp_path / "填好（另存）.xlsx"
    (tmp_path / "xls" / "填好.xls").rename(disguised)
    report = check_file(store.load(), disguised, "2022-03")
    assert report.vetted.kind == "xls"
    assert [f.message for f in report.findings if f.is_error] == []
    assert len(report.entries) == 4


# ---- money that cannot be true, or is unlikely: one finding each, “是否误填为元？” ------------

MONTH, YEAR, SINCE = "本月完成投资（万元）", "本年累计完成投资（万元）", "开工以来累计完成投资（万元）"


def filled_with(setup, tmp_path: Path, changes: dict, explanation: str | None = None):
    """A plausible return with ``changes`` (row, header) → value; 本年累计 and 开工以来累计
    left blank where the change says None, as the form's formulas leave them for a program
    that does not compute (the checker works them out)."""
    store, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3).path
    if explanation is not None:
        changes = {**changes, (next(iter(changes))[0], "情况说明"): explanation}
    edit(filled, changes)
    return check_file(store.load(), filled, "2022-03")


def test_a_month_typed_in_yuan_is_one_error_that_asks_about_yuan(setup, tmp_path: Path) -> None:
    # 续建 project 2: total 80000, 32500 done by February. 5000 万元 typed as 50000000 元,
    # and the form's formulas carry it into both cumulative figures.
    report = filled_with(setup, tmp_path, {(1, MONTH): 50000000, (1, YEAR): None,
                                           (1, SINCE): None})
    assert [f.code for f in report.findings] == ["V25"]
    found = report.findings[0]
    assert found.is_error and not report.valid
    assert "是否误填为元？按万元填写应为 5000 万元" in found.message
    assert (found.project_id, found.project_name, found.cell) == ("ZD2022-0002", "测试项目2", "I6")


@pytest.mark.parametrize("year", ["typed as the form shows it", "typed right in 万元"])
def test_the_yuan_month_is_the_only_finding_whatever_the_unit_typed_beside_it(
        setup, tmp_path: Path, year: str) -> None:
    added = 50000000 if year == "typed as the form shows it" else 5000
    report = filled_with(setup, tmp_path, {(1, MONTH): 50000000, (1, YEAR): 2500 + added,
                                           (1, SINCE): 32500 + added})
    assert [f.code for f in report.findings] == ["V25"]


@pytest.mark.parametrize(("code", "changes", "words"), [
    # 开工以来累计 beyond 总投资 (project 2: 80000), the month fine: impossible, an error
    ("V08", {(1, SINCE): 335000000}, "是否误填为元？按万元填写应为 33500 万元"),
    ("V08", {(1, SINCE): 90000}, "超过项目总投资 80000 万元"),
    # 本年累计 beyond 总投资 with no month to follow from (project 3: 9000)
    ("V24", {(2, MONTH): None, (2, YEAR): 9500, (2, SINCE): None}, "超过项目总投资 9000 万元"),
    # 本月完成 beyond what remains (project 3: 9000 − 8900 done = 100)
    ("V25", {(2, MONTH): 500, (2, YEAR): None, (2, SINCE): None}, "尚未完成的投资 100 万元"),
])
def test_impossible_figures_are_errors(setup, tmp_path: Path, code: str, changes,
                                       words: str) -> None:
    report = filled_with(setup, tmp_path, changes)
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1 and found[0].is_error and words in found[0].message
    assert not report.valid


@pytest.mark.parametrize(("code", "row", "month"), [
    ("V09", 0, 15000),  # project 1: more than its year's plan of 12000 in one month
    ("V26", 1, 7000),  # project 2: 2500 in Jan–Feb, 1250 a month; 7000 > 5 × and > 20 % of plan
])
def test_unlikely_months_need_an_explanation(setup, tmp_path: Path, code: str, row: int,
                                             month: int) -> None:
    changes = {(row, MONTH): month, (row, YEAR): None, (row, SINCE): None}
    bare = filled_with(setup, tmp_path, changes)
    assert [f.code for f in bare.findings] == [code]
    assert bare.findings[0].is_error and "请在本行“情况说明”栏写明原因" in bare.findings[0].message
    explained = filled_with(setup, tmp_path, changes, explanation="设备集中到货付款")
    assert [(f.code, f.severity) for f in explained.findings] == [(code, "warning")]
    assert "本行情况说明为“设备集中到货付款”" in explained.findings[0].message
    assert explained.valid
    entry = next(e for e in explained.entries if e.project_id == f"ZD2022-000{row + 1}")
    assert entry.explanation == "设备集中到货付款" and entry.month_completed == month


def test_a_total_already_reached_blames_the_cumulative_figure_not_the_month(
        setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3).path
    book = store.load()
    book.project("ZD2022-0003").total_investment = Decimal(8900)  # all done by February
    report = check_file(book, filled, "2022-03")
    # (R04: the form still shows the old 总投资.) Not also V25 on the month.
    assert [f.code for f in report.findings if f.code != "R04"] == ["V08"]


def test_an_ordinary_busy_month_is_not_questioned(setup, tmp_path: Path) -> None:
    # project 2: 4000 is 3.2 times its usual month — a busy month, not a suspicious one
    report = filled_with(setup, tmp_path, {(1, MONTH): 4000, (1, YEAR): None, (1, SINCE): None})
    assert report.findings == [] and report.valid
    entry = next(e for e in report.entries if e.project_id == "ZD2022-0002")
    assert (entry.year_completed, entry.total_completed) == (Decimal(6500), Decimal(36500))


# ---- one mistake, one finding -------------------------------------------------------------

@pytest.mark.parametrize(("changes", "expected"), [
    # “已开工” for 是 on a project started last month: not also “开工不能撤回”
    ({(0, "是否开工"): "已开工"}, ["V10"]),
    # 本月 left blank: its formulas leave both cumulative figures blank too
    ({(1, MONTH): None, (1, YEAR): None, (1, SINCE): None}, ["V04"]),
    # 约500 for 本月: a spreadsheet shows #VALUE! in both formulas
    ({(1, MONTH): "约500", (1, YEAR): "#VALUE!", (1, SINCE): "#VALUE!"}, ["V01"]),
    # 本年累计 typed wrong: not also “开工以来累计小于本年累计”
    ({(0, YEAR): 90000}, ["V05"]),
    # more digits than Excel keeps (15): no amount, typed as a number or as text
    ({(1, MONTH): 1e26, (1, YEAR): None, (1, SINCE): None}, ["V01"]),
    ({(1, MONTH): "1" + "0" * 30, (1, YEAR): None, (1, SINCE): None}, ["V01"]),
])
def test_one_mistake_gives_one_finding(setup, tmp_path: Path, changes, expected) -> None:
    report = filled_with(setup, tmp_path, changes)
    assert [f.code for f in report.findings] == expected


def test_every_row_finding_names_the_project(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=2,
                       mistakes=("text_amount", "bad_permit", "foreign_project",
                                 "changed_plan")).path
    findings = check_file(store.load(), filled, "2022-03").findings
    rows = [f for f in findings if f.cell and f.sheet in (SHEET, "预备项目月报") and
            int(f.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) > HEADER_ROW]
    assert {f.code for f in rows} >= {"V01", "V19", "R01", "R04"}
    assert all(f.project_name for f in rows), [(f.code, f.cell) for f in rows]
    foreign = next(f for f in findings if f.code == "R01")
    assert foreign.project_name and f"（{foreign.project_name}）" in foreign.message
    missing = fill_form(template, tmp_path / "g.xlsx", seed=2, mistakes=("missing_project",))
    lost = next(f for f in check_file(store.load(), missing.path).findings
                if f.code == "R03")
    assert lost.project_name == "测试项目3"


# ---- who filled it in --------------------------------------------------------------------

@pytest.mark.parametrize(("mistake", "code"), [("no_informant", "V21"), ("bad_phone", "V22")])
def test_missing_or_malformed_contacts_are_errors(setup, tmp_path: Path, mistake: str,
                                                 code: str) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "f.xlsx", seed=2, mistakes=(mistake,)).path
    report = check_file(store.load(), filled, "2022-03")
    found = [f for f in report.findings if f.code == code]
    assert found and all(f.is_error for f in found) and not report.valid


def test_a_landline_that_lost_its_zero_is_explained(setup, tmp_path: Path) -> None:
    store, template = setup
    book = openpyxl.load_workbook(template)
    assert book[SHEET]["E3"].number_format == "@"  # the form keeps phones as text
    filled = fill_form(template, tmp_path / "f.xlsx", seed=2).path
    book = openpyxl.load_workbook(filled)
    book[SHEET]["E3"].value = 7722801234  # 07722801234 typed into a General cell
    book[SHEET]["E3"].number_format = "General"
    book.save(filled)
    phone = next(f for f in check_file(store.load(), filled, "2022-03").findings
                 if f.code == "V22")
    assert "开头的 0 可能被表格去掉了" in phone.message and "0772-2801234" in phone.message


# ---- the office decides how strictly (设置, 校验规则) ---------------------------------------

def test_the_office_sets_how_each_rule_applies(on_file, tmp_path: Path) -> None:
    master, template = on_file
    sheet = openpyxl.load_workbook(master)["设置"]
    code, level = RULE_COLUMN, RULE_COLUMN + 2
    rules = {sheet.cell(r, code).value: r for r in range(2, sheet.max_row + 1)
             if sheet.cell(r, code).value}
    assert [sheet.cell(1, c).value for c in range(code, code + 5)] == [
        "规则代码", "校验规则", "处理", "默认", "说明"]
    assert sheet.cell(rules["V21"], level).value == "错误"
    assert sheet.cell(rules["V09"], level).value == "错误"
    assert "V01" not in rules and "F51" not in rules  # unreadable values, identity: always errors
    filled = fill_form(template, tmp_path / "f.xlsx", seed=3, mistakes=("over_plan",)).path
    edit(filled, {(0, "形象进度"): None})
    assert {f.code: f.severity for f in check_file(load_master(master), filled).findings} == {
        "V09": "error", "V20": "error"}
    # In Excel: 处理 of V09 → 警告, of V20 → 不检查.
    book = openpyxl.load_workbook(master)
    book["设置"].cell(rules["V09"], level).value = "警告"
    book["设置"].cell(rules["V20"], level).value = "不检查"
    book.save(master)
    again = load_master(master)
    assert again.settings.rule_levels == {"V09": "警告", "V20": "不检查"}
    report = check_file(again, filled)
    assert [(f.code, f.severity) for f in report.findings] == [("V09", "warning")]
    assert report.valid


def test_a_master_from_before_the_rule_table_keeps_the_defaults(on_file,
                                                                tmp_path: Path) -> None:
    master, _ = on_file
    book = openpyxl.load_workbook(master)
    sheet = book["设置"]
    del sheet.tables["CheckRules"]
    sheet.delete_cols(RULE_COLUMN, 5)
    book.save(master)
    assert load_master(master).settings.rule_levels == {}
    result = run_zdxm("status", master, "--period", "2022-03")
    assert result.code == 0, result.stderr


def test_a_level_the_office_mistyped_is_named(on_file) -> None:
    master, _ = on_file
    book = openpyxl.load_workbook(master)
    sheet = book["设置"]
    sheet.cell(2, RULE_COLUMN + 2).value = "严重"
    book.save(master)
    result = run_zdxm("status", master, "--period", "2022-03")
    assert result.code == 2 and "处理" in result.stderr and "错误、警告、不检查" in result.stderr


def test_a_rule_row_left_without_its_code_is_passed_over(on_file) -> None:
    """A 校验规则 row whose 规则代码 the office cleared says nothing about any rule: the
    master still opens, and the rule keeps its default."""
    master, _ = on_file
    book = openpyxl.load_workbook(master)
    sheet = book["设置"]
    sheet.cell(2, RULE_COLUMN).value = None
    sheet.cell(2, RULE_COLUMN + 2).value = "不检查"
    book.save(master)
    result = run_zdxm("status", master, "--period", "2022-03")
    assert result.code == 0, result.stderr
    assert load_master(master).settings.rule_levels == {}


@pytest.mark.soffice
def test_a_form_filled_in_libreoffice_computes_its_own_totals(setup, tmp_path: Path) -> None:
    """Only 本月完成 typed; the formulas (stored without results by openpyxl) are computed
    by LibreOffice on opening and saved with their results — as Excel and WPS do."""
    store, template = setup
    book = openpyxl.load_workbook(template)
    ws = book[SHEET]
    titles = [c.value for c in ws[HEADER_ROW]]
    assert ws.cell(HEADER_ROW + 1, titles.index(YEAR) + 1).value == '=IF(I5="","",G5+I5)'
    for row, month in zip(range(HEADER_ROW + 1, HEADER_ROW + 4), (500, 1000, 100), strict=True):
        ws.cell(row, titles.index(MONTH) + 1).value = month
        ws.cell(row, titles.index("形象进度") + 1).value = "主体施工"
    ws.cell(HEADER_ROW + 1, titles.index("实际开工时间") + 1).value = date(2022, 2, 10)
    book.save(tmp_path / "填好.xlsx")
    out = tmp_path / "另存"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(out),
                    str(tmp_path / "填好.xlsx")], check=True, capture_output=True, timeout=180)
    report = check_file(store.load(), out / "填好.xlsx", "2022-03")
    assert [f.message for f in report.findings] == []
    figures = {e.project_id: (e.year_completed, e.total_completed) for e in report.entries}
    assert figures["ZD2022-0001"] == (Decimal(800), Decimal(800))
    assert figures["ZD2022-0002"] == (Decimal(3500), Decimal(33500))
    assert figures["ZD2022-0003"] == (Decimal(1000), Decimal(9000))


def test_a_formula_of_the_units_own_is_noted_after_any_number_of_the_forms(tmp_path: Path) -> None:
    """Saved without results (as a program that does not compute formulas saves them), the
    form's own 本年累计 and 开工以来累计 formulas are no problem of the unit's; a formula of
    the unit's own after more than 20 of them is still noted (F13)."""
    book = checking_master()
    book.projects += [project(n, "续建", "基础设施", "8000", "2000", (UNIT,),
                              prior_completed=Decimal("1000")) for n in range(6, 17)]
    store = MemoryStore(book, tmp_path)
    make_forms(store, "2022-03", tmp_path / "模板", unit=UNIT)
    workbook = openpyxl.load_workbook(tmp_path / "模板" / form_name("2022-03", UNIT))
    ws = workbook[SHEET]
    titles = [c.value for c in ws[HEADER_ROW]]
    last = HEADER_ROW + 14  # 14 实施项目: 28 of the form's formulas before its last cell
    assert ws.cell(last, titles.index(YEAR) + 1).value == \
        f'=IF(I{last}="","",G{last}+I{last})'
    own = ws.cell(last, titles.index("情况说明") + 1)
    own.value = '="设备"&"集中到货"'
    workbook.save(tmp_path / "填好.xlsx")  # openpyxl keeps no formula's result
    report = check_file(store.load(), tmp_path / "填好.xlsx", "2022-03")
    assert [(f.code, f.cell, f.value) for f in report.findings if f.code == "F13"] == [
        ("F13", own.coordinate, '="设备"&"集中到货"')]


# ---- 回执 a unit can act on ----------------------------------------------------------------

def receipt_of(store: MemoryStore, path: Path, folder: Path, **options) -> str:
    validate_files(store, [path], "2022-03", folder, **options)
    return (folder / f"{path.stem}_回执.txt").read_text(encoding="utf-8")


def test_a_clean_receipt_says_so_and_points_to_nothing(setup, tmp_path: Path) -> None:
    store, template = setup
    store.master.settings.mail_contact = "项目科 王五 0772-2809000"
    book = store.master
    filled = fill_form(template, tmp_path / "in" / "好.xlsx", seed=1).path
    text = receipt_of(store, filled, tmp_path / "out", today=date(2022, 4, 4),
                      received=datetime(2022, 4, 3, 16, 30))
    assert text.startswith(f"{UNIT}：")
    assert "（2022年3月月报）已于 2022年4月3日 16:30 收到，校验通过" in text
    assert "校验结果" not in text and "逾期" not in text and "重新报送" not in text
    assert text.rstrip().splitlines()[-3:] == [
        "如有疑问，请联系：项目科 王五 0772-2809000。", book.settings.publisher, "2022年4月4日"]


def test_a_tampered_file_gets_a_plain_receipt_addressed_to_its_unit(setup, tmp_path: Path
                                                                  ) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "in" / template.name, seed=1,
                       mistakes=("other_unit",)).path
    text = receipt_of(store, filled, tmp_path / "out", today=date(2022, 4, 4))
    assert text.startswith(f"{UNIT}：")  # from the file name: the file's own claim is forged
    assert "这份文件不是我办发出的原模板，或被改动过，请用我办发送的模板重新填写。" in text
    for jargon in ("系统信息", "校验码", "隐藏"):
        assert jargon not in text
    assert "请于2022年4月5日（报送截止日）前改正后重新报送。" in text
    assert "如有疑问，请联系：" in text


def test_a_late_receipt_says_it_and_gives_a_new_date(setup, tmp_path: Path) -> None:
    store, template = setup
    filled = fill_form(template, tmp_path / "in" / "晚.xlsx", seed=1,
                       mistakes=("text_amount",)).path
    text = receipt_of(store, filled, tmp_path / "out", today=date(2022, 4, 8),
                      received=datetime(2022, 4, 7, 9, 15))
    assert "已于 2022年4月7日 09:15 收到，校验未通过" in text
    assert "本期报送截止日为2022年4月5日，本次报送时已逾期。" in text
    # 更正期限 (设置, default 3 days) from the day of the 回执
    assert "报送截止日2022年4月5日已过，请于2022年4月11日前改正后重新报送，届时计为逾期报送。" in text
    assert "（测试项目1）" in text  # the project by name, not only its number
