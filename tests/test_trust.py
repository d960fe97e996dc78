"""Figures a leader can trust (issue 13), as the office meets them: a return in 元, a month
with missing returns, one 报送状态 everywhere. (考核, 红黄绿, plan import and contacts have
their cases in test_assess, test_progress, test_planio and test_checking.)"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from checking_office import UNIT, build_master, checking_master
from conftest import run_zdxm
from zdxm_xl.assess import assess
from zdxm_xl.books.masterio import load_master, save_master
from zdxm_xl.bulletin import make_bulletin
from zdxm_xl.core.identity import IDENTITY_SHEET
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.results import to_json
from zdxm_xl.core.returns import submission_status
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name
from zdxm_xl.reports.progress import compute_progress

OTHER = "市工业和信息化局"
ON_TIME, LATE = datetime(2022, 4, 3, 10, 0), datetime(2022, 4, 7, 10, 0)


@pytest.fixture
def office(tmp_path: Path) -> tuple[MemoryStore, Path, Path]:
    """The master of test_checking (市交通运输局 and 市工业和信息化局 report March), in
    memory, and both units' March forms."""
    store = MemoryStore(checking_master(), tmp_path)
    make_forms(store, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25, 9, 0))
    return (store, tmp_path / "模板" / form_name("2022-03", UNIT),
            tmp_path / "模板" / form_name("2022-03", OTHER))


@pytest.fixture
def office_on_file(tmp_path: Path) -> tuple[Path, Path, Path]:
    """As ``office``, with the master a workbook: for the ``zdxm`` command line."""
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25, 9, 0))
    return (master, tmp_path / "模板" / form_name("2022-03", UNIT),
            tmp_path / "模板" / form_name("2022-03", OTHER))


# ---- 1. 50,000,000 typed in a 万元 column ---------------------------------------------------

def test_a_return_in_yuan_is_refused_and_never_reaches_the_bulletin(office_on_file,
                                                                    tmp_path: Path) -> None:
    master, form, other = office_on_file
    good = fill_form(other, tmp_path / "收件" / "工信.xlsx", seed=1).path
    assert merge_files(master, [good], "2022-03", received=ON_TIME).ok
    before = compute_progress(load_master(master), "2022-03").total
    wrong = fill_form(form, tmp_path / "收件" / "交通.xlsx", seed=1, mistakes=("huge_amount",)).path
    checked = run_zdxm("validate", master, wrong, "--period", "2022-03")
    assert checked.code == 1
    assert "V25" in checked.stdout and "是否误填为元？" in checked.stdout
    assert "错误 1 处，警告 0 处" in checked.stdout  # one mistake, one finding
    merged = run_zdxm("merge", master, wrong, "--period", "2022-03", "--received", "2022-04-03")
    assert merged.code == 1 and "未通过" in merged.stdout
    after = compute_progress(load_master(master), "2022-03").total
    assert after == before and after.rate is not None and after.rate < 100


# ---- 2. missing returns: figures carried from February, and said to be -----------------------

def test_a_month_with_a_missing_unit_says_what_is_carried_over(office_on_file,
                                                              tmp_path: Path) -> None:
    master, _, other = office_on_file
    good = fill_form(other, tmp_path / "收件" / "工信.xlsx", seed=1).path
    assert merge_files(master, [good], "2022-03", received=ON_TIME).ok
    result = run_zdxm("bulletin", master, "--period", "2022-03", "-o", tmp_path / "简报",
                      "--date", "2022-04-08", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    # 市交通运输局 sent nothing: its four projects carry February's rows (one has none)
    assert (data["carried_over"], data["carried_units"], data["carried_from"]) == (
        4, [UNIT], ["2月"])
    text = "\n".join(p.text for p in docx.Document(data["docx"]).paragraphs)
    assert ("3月有1个牵头单位的4个项目（实施项目3个、预备项目1个）未报送本月数据（含未通过校验），"
            "其中3个项目沿用2月数据，1个项目本年尚无报送数据，按未完成计。") in text
    book = openpyxl.load_workbook(data["xlsx"])
    units = book["牵头单位排名"]
    header = [c.value for c in units[3]]
    notes = {r[1]: r[header.index("数据说明")] for r in units.iter_rows(min_row=4, values_only=True)
             if r[1]}
    assert notes[UNIT] == "3个项目沿用2月数据" and not notes[OTHER]  # its 3 实施 projects
    assert "沿用2月数据" in units["A2"].value
    shown = run_zdxm("bulletin", master, "--period", "2022-03", "-o", tmp_path / "简报",
                     "--date", "2022-04-08")
    assert "未报送本月数据" in shown.stdout


# ---- 3. one 报送状态 for status, 简报/通报, 考核 ------------------------------------------------

def _tamper(path: Path) -> Path:
    book = openpyxl.load_workbook(path)
    for row in book[IDENTITY_SHEET].iter_rows(max_col=2):
        if row[0].value == "单位":
            row[1].value = "市重点办"
    book.save(path)
    return path


def test_a_tampered_file_is_refused_not_missing(office, tmp_path: Path) -> None:
    store, form, other = office
    tampered = _tamper(fill_form(form, tmp_path / "收件" / form.name, seed=1).path)
    merge_files(store, [tampered], "2022-03", received=ON_TIME)
    status = submission_status(store.load(), "2022-03")
    assert (status.rejected, status.missing) == ([UNIT], [OTHER])
    progress = compute_progress(store.load(), "2022-03")
    assert (progress.returns.rejected, progress.returns.missing) == ([UNIT], [OTHER])
    assert progress.returns.on_time == 0


@pytest.mark.parametrize(("lenient", "status"), [("否", "逾期"), ("是", "按时")])
def test_a_failed_file_corrected_after_the_deadline(office_on_file, tmp_path: Path,
                                                    lenient: str, status: str) -> None:
    master, form, other = office_on_file
    book = load_master(master)
    book.settings.late_correction_on_time = lenient
    save_master(book, master)
    failed = fill_form(form, tmp_path / "a" / form.name, seed=1, mistakes=("text_amount",)).path
    fixed = fill_form(form, tmp_path / "b" / form.name, seed=1).path
    on_time = fill_form(other, tmp_path / "a" / other.name, seed=2).path
    merge_files(master, [failed, fixed, on_time], "2022-03",
                received={failed: ON_TIME, fixed: LATE, on_time: ON_TIME})
    data = json.loads(run_zdxm("status", master, "--period", "2022-03", "--json").stdout)
    assert {u["unit"]: u["status"] for u in data["units"]} == {UNIT: status, OTHER: "按时"}
    # the 简报/通报 and the 考核 count exactly the same 按时
    progress = compute_progress(load_master(master), "2022-03")
    assert {u.unit: u.status for u in progress.returns.units} == {UNIT: status, OTHER: "按时"}
    assert progress.returns.on_time == (2 if status == "按时" else 1)
    timeliness = assess(master, "2022-03", "2022-03").unit(UNIT).timeliness
    assert (int(timeliness.done), int(timeliness.due)) == (int(status == "按时"), 1)


def test_status_shows_one_column_of_states(office_on_file, tmp_path: Path) -> None:
    master, form, _ = office_on_file
    failed = fill_form(form, tmp_path / "a" / form.name, seed=1, mistakes=("negative",)).path
    merge_files(master, [failed], "2022-03", received=ON_TIME)
    shown = run_zdxm("status", master, "--period", "2022-03")
    assert shown.code == 0, shown.stderr
    assert "报送状态" in shown.stdout
    assert f"未通过（1）：{UNIT}" in shown.stdout and f"未报送（1）：{OTHER}" in shown.stdout
    assert "逾期（0）：无" in shown.stdout
    data = json.loads(run_zdxm("status", master, "--period", "2022-03", "--json").stdout)
    assert data == to_json(submission_status(load_master(master), "2022-03"))


def test_the_bulletin_counts_no_failed_file_as_on_time(office, tmp_path: Path) -> None:
    """Issue case 3: 简报/通报 counted a unit whose file failed as 按时."""
    store, form, other = office
    failed = fill_form(form, tmp_path / "a" / form.name, seed=1, mistakes=("negative",)).path
    good = fill_form(other, tmp_path / "a" / other.name, seed=2).path
    merge_files(store, [failed, good], "2022-03", received=ON_TIME)
    result = make_bulletin(store, "2022-03", tmp_path / "out")
    returns = result.progress.returns
    assert (returns.on_time, returns.on_time_rate) == (1, Decimal("50.0"))
    assert {u.unit: (u.on_time, u.passed, u.status) for u in returns.units} == {
        UNIT: ("—", "否", "未通过"), OTHER: ("按时", "是", "按时")}
