"""问题台帐 and 督办: from a unit's 存在问题 to a closed item (docs/问题督办.md).

Returns raise items when merged; the same problem reported again updates its item; the
office assigns (by command or in the sheet) and closes; forms carry the open items in a
问题跟踪 sheet, whose answers close them; every change is in 问题办理记录; overdue and
long-open items, 红 projects and overdue starts become 督办通知单."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from checking_office import UNIT, build_master, checking_master, edit
from conftest import run_zdxm
from zdxm_xl.books.masterio import load_master, save_master
from zdxm_xl.checks.returns import check_file
from zdxm_xl.core.master import MasterStore, MemoryStore
from zdxm_xl.core.models import Problem, ProblemStatus, ProblemType
from zdxm_xl.core.problems import default_type, same_problem
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.core.registry import FORM_PROBLEMS, PROBLEM_LOG, PROBLEMS
from zdxm_xl.core.results import to_json
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.plan import exit_project
from zdxm_xl.problems import assign_problem, close_problem, list_problems, problem_history
from zdxm_xl.reports.forms import form_name
from zdxm_xl.validate import validate_files

SHEET = "实施项目月报"
LAND = "用地指标尚未落实，影响开工"


def _form(master: MasterStore | Path, period: str, folder: Path) -> Path:
    make_forms(master, period, folder, issued=datetime(int(period[:4]), int(period[5:]), 25))
    return folder / form_name(period, UNIT)


def _set(path: Path, sheet: str, changes: dict[tuple[int, str], object]) -> None:
    edit(path, changes, sheet)


def _return(master: MasterStore | Path, period: str, folder: Path, problems: dict[int, str] | None = None,
            tracking: dict[int, tuple[str | None, str | None]] | None = None,
            name: str = "交通.xlsx", seed: int = 1) -> Path:
    """The unit's return for ``period``: 存在问题 only where ``problems`` says (row → text),
    and the 问题跟踪 rows as ``tracking`` says (row → (最新进展, 是否已解决))."""
    template = _form(master, period, folder / "模板" / period)
    filled = fill_form(template, folder / "收件" / period / name, seed=seed).path
    book = openpyxl.load_workbook(filled)
    for spec_sheet in (SHEET, "预备项目月报"):
        ws = book[spec_sheet]
        titles = [c.value for c in ws[HEADER_ROW]]
        for header in ("存在问题", "需协调事项"):
            for row in range(HEADER_ROW + 1, ws.max_row + 1):
                ws.cell(row=row, column=titles.index(header) + 1).value = None
    if FORM_PROBLEMS.sheet in book.sheetnames:  # the fill's own answers, cleared
        ws = book[FORM_PROBLEMS.sheet]
        titles = [c.value for c in ws[HEADER_ROW]]
        for header in ("最新进展", "是否已解决"):
            for row in range(HEADER_ROW + 1, ws.max_row + 1):
                ws.cell(row=row, column=titles.index(header) + 1).value = None
    book.save(filled)
    if problems:
        _set(filled, SHEET, {(row, "存在问题"): text for row, text in problems.items()})
    if tracking:
        _set(filled, FORM_PROBLEMS.sheet,
             {key: value for row, (words, solved) in tracking.items()
              for key, value in (((row, "最新进展"), words), ((row, "是否已解决"), solved))})
    return filled


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """The master workbook: for the command line and the workbook's own sheets."""
    return build_master(tmp_path / "台账.xlsx")


@pytest.fixture
def store(tmp_path: Path) -> MemoryStore:
    """The same master kept in memory."""
    return MemoryStore(checking_master(), tmp_path)


def _merge(master: MasterStore | Path, path: Path, period: str, day: datetime) -> None:
    result = merge_files(master, [path], period, received=day, now=day)
    assert result.merged and not result.rejected, [r.errors for r in result.reports]


# ---- from returns ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    ("征地拆迁进度滞后", "征地拆迁"), (LAND, "用地"), ("规划方案调整尚未批复", "规划"),
    ("环评批复尚未取得", "环评"), ("项目资本金未完全到位", "资金"), ("地下管线迁改协调难度大", "水电路气"),
    ("施工图审查时间较长", "审批手续"), ("业主变更", "其他"),
])
def test_a_new_item_gets_its_type_from_its_words(text: str, kind: str) -> None:
    assert default_type(text) == kind


@pytest.mark.parametrize(("a", "b", "same"), [
    (LAND, "用地指标尚未落实，影响开工。", True),  # punctuation only
    (LAND, "用地指标尚未落实", True),  # one within the other
    ("征地拆迁进度滞后，还有5户未签约", "征地拆迁进度滞后，还有3户未签约", True),
    (LAND, "项目资本金未完全到位", False),
    ("资金", "资金缺口", True),  # a short word and one more: nearly the same
    ("资金未到位", "用地未报批", False),
])
def test_the_same_problem_in_other_words(a: str, b: str, same: bool) -> None:
    assert same_problem(a, b) is same


def test_merge_on_the_command_line_tells_of_the_new_items(master: Path, tmp_path: Path) -> None:
    first = _return(master, "2022-03", tmp_path, {0: LAND, 1: "施工图审查时间较长"})
    merged = run_zdxm("merge", master, first, "--period", "2022-03", "--received", "2022-04-03")
    assert merged.code == 0 and "问题台帐：新增 2 个（zdxm problems 查看）。" in merged.stdout
    assert [p.id for p in load_master(master).problems] == ["WT2022-0001", "WT2022-0002"]


def test_a_merged_return_raises_items_and_a_repeat_updates_them(store: MemoryStore,
                                                              tmp_path: Path) -> None:
    first = _return(store, "2022-03", tmp_path, {0: LAND, 1: "施工图审查时间较长"})
    merged = merge_files(store, [first], "2022-03", received=datetime(2022, 4, 3))
    assert merged.merged and not merged.rejected, [r.errors for r in merged.reports]
    assert merged.problems.text() == "新增 2 个"
    book = store.master
    assert [(p.id, p.project_id, p.reporter, p.opened, p.type, p.status, p.description)
            for p in book.problems] == [
        ("WT2022-0001", "ZD2022-0001", UNIT, "2022-03", ProblemType.LAND, ProblemStatus.WAITING, LAND),
        ("WT2022-0002", "ZD2022-0002", UNIT, "2022-03", ProblemType.APPROVAL,
         ProblemStatus.WAITING, "施工图审查时间较长")]
    raised = [(c.problem_id, c.event, c.field, c.new, c.operator) for c in book.problem_log]
    assert raised == [("WT2022-0001", "提出", "问题描述", LAND, UNIT),
                      ("WT2022-0001", "提出", "问题类型", "用地", UNIT),
                      ("WT2022-0002", "提出", "问题描述", "施工图审查时间较长", UNIT),
                      ("WT2022-0002", "提出", "问题类型", "审批手续", UNIT)]
    # April: the land problem again in other words, and a new one on the same project
    again = _return(store, "2022-04", tmp_path, {0: "用地指标尚未落实，影响开工！！"}, seed=2)
    _merge(store, again, "2022-04", datetime(2022, 5, 3, 10))
    book = store.master
    assert len(book.problems) == 2
    assert book.problems[0].updated == "2022-04" and book.problems[0].opened == "2022-03"
    assert [c.event for c in book.problem_log[4:]] == ["续报", "续报"]  # 问题描述, 更新报告期
    third = _return(store, "2022-05", tmp_path, {0: "项目资本金未完全到位"}, seed=3)
    _merge(store, third, "2022-05", datetime(2022, 6, 3, 10))
    assert [p.description for p in store.master.problems if p.project_id == "ZD2022-0001"] \
        == ["用地指标尚未落实，影响开工！！", "项目资本金未完全到位"]


def test_a_corrected_return_takes_back_what_only_the_first_said(store: MemoryStore,
                                                               tmp_path: Path) -> None:
    first = _return(store, "2022-03", tmp_path, {0: LAND, 1: "施工图审查时间较长"})
    _merge(store, first, "2022-03", datetime(2022, 4, 3, 10))
    corrected = _return(store, "2022-03", tmp_path, {0: LAND}, name="交通（更正）.xlsx", seed=5)
    _merge(store, corrected, "2022-03", datetime(2022, 4, 4, 10))
    book = store.master
    assert [(p.id, p.status) for p in book.problems] == [
        ("WT2022-0001", ProblemStatus.WAITING), ("WT2022-0002", ProblemStatus.DROPPED)]
    assert book.problem_log[-1].note == "单位重新报送的月报中已无此问题"


# ---- the office's part -------------------------------------------------------------------------

def _raised(master: MasterStore | Path, tmp_path: Path) -> None:
    merged = _return(master, "2022-03", tmp_path, {0: LAND, 1: "施工图审查时间较长"})
    _merge(master, merged, "2022-03", datetime(2022, 4, 3, 10))


def test_assign_and_close_keep_a_history(store: MemoryStore, tmp_path: Path) -> None:
    _raised(store, tmp_path)
    assigned = assign_problem(store, "WT2022-0001", "柳南区人民政府", "2022-04-30", "征地拆迁",
                              "王五")
    assert (assigned.item.id, assigned.item.project_name) == ("WT2022-0001", "测试项目1")
    assert ("交办", "状态", "待交办", "办理中") in [
        (c.event, c.field, c.old, c.new) for c in assigned.changes]
    item = store.master.problems[0]
    assert (item.unit, item.due, item.type, item.status) == (
        "柳南区人民政府", date(2022, 4, 30), ProblemType.DEMOLITION, ProblemStatus.HANDLING)
    closed = close_problem(store, "wt2022-0001", "2022-04-20", "已完成3户签约", "王五")
    assert closed.item.status == ProblemStatus.CLOSED and closed.item.closed == date(2022, 4, 20)
    assert [c.field for c in closed.changes] == ["状态", "办结日期", "最新进展"]
    history = problem_history(store, "WT2022-0001")
    assert [c.event for c in history.changes] == [
        "提出", "提出", "交办", "交办", "交办", "交办", "办结", "办结", "办结"]
    assert ("协调责任单位", None, "柳南区人民政府", "王五") in [
        (c.field, c.old, c.new, c.operator) for c in history.changes]


def test_assign_and_close_by_command_keep_a_history(master: Path, tmp_path: Path) -> None:
    _raised(master, tmp_path)
    result = run_zdxm("problems", "assign", master, "WT2022-0001", "--to", "柳南区人民政府",
                      "--due", "2022-04-30", "--type", "征地拆迁", "--operator", "王五")
    assert result.code == 0, result.stderr
    assert "已交办：WT2022-0001 测试项目1" in result.stdout
    assert "交办 状态：待交办 → 办理中" in result.stdout
    closed = run_zdxm("problems", "close", master, "wt2022-0001", "--date", "2022-04-20",
                      "--note", "已完成3户签约", "--operator", "王五", "--json")
    assert closed.code == 0, closed.stderr
    data = json.loads(closed.stdout)
    assert data["item"]["status"] == "已办结" and data["item"]["closed"] == "2022-04-20"
    assert [c["field"] for c in data["changes"]] == ["状态", "办结日期", "最新进展"]
    history = run_zdxm("problems", "history", master, "WT2022-0001")
    assert history.code == 0
    lines = history.stdout.splitlines()[1:]
    assert [line.split("  ")[1] for line in lines] == [
        "提出", "提出", "交办", "交办", "交办", "交办", "办结", "办结", "办结"]
    assert "协调责任单位：（空） → 柳南区人民政府" in history.stdout and "操作人：王五" in history.stdout


def test_a_project_leaving_the_plan_takes_its_open_items_with_it(store: MemoryStore,
                                                                 tmp_path: Path) -> None:
    _raised(store, tmp_path)
    close_problem(store, "WT2022-0002", "2022-04-20")
    assign_problem(store, "WT2022-0001", "柳南区人民政府", "2022-05-31")
    done = exit_project(store, "ZD2022-0001", "2022-05-20", "受产业政策调整影响，项目无法实施")
    assert any("未办结的 1 个问题（WT2022-0001）改为“不再协调”" in note for note in done.notes)
    book = store.master
    first, second = book.problems
    assert (first.status, second.status) == (ProblemStatus.DROPPED, ProblemStatus.CLOSED)
    last = book.problem_log[-1]
    assert (last.problem_id, last.event, last.new) == ("WT2022-0001", "不再协调", "不再协调")
    assert last.note == "项目已于 2022-05-20 退出重大项目计划（受产业政策调整影响，项目无法实施）"
    assert list_problems(store, status="未办结").items == []


def test_plan_exit_on_the_command_line_tells_of_the_items_it_drops(master: Path,
                                                                   tmp_path: Path) -> None:
    _raised(master, tmp_path)
    done = run_zdxm("plan", "exit", master, "ZD2022-0001", "--date", "2022-05-20", "--reason",
                    "受产业政策调整影响，项目无法实施")
    assert done.code == 0, done.stderr
    assert "未办结的 1 个问题（WT2022-0001）改为“不再协调”" in done.stdout
    listed = json.loads(run_zdxm("problems", master, "--status", "未办结", "--json").stdout)
    assert [i["id"] for i in listed["items"]] == ["WT2022-0002"]  # another project's


@pytest.mark.parametrize(("args", "code", "words"), [
    (("assign", "WT2022-0009", "--to", UNIT, "--due", "2022-04-30"), 2,
     "问题台帐中没有问题编号“WT2022-0009”。（问题编号参数）"),
    (("assign", "WT2022-0001", "--to", "市不存在局", "--due", "2022-04-30"), 2,
     "“市不存在局”不在台账的“责任单位”工作表中"),
    (("assign", "WT2022-0001", "--to", UNIT, "--due", "四月底"), 2, "（--due）"),
    (("assign", "WT2022-0001", "--to", UNIT, "--due", "2022-02-28"), 2,
     "办理时限 2022-02-28 早于问题提出的报告期 2022-03"),
    (("assign", "WT2022-0001", "--to", UNIT, "--due", "2022-04-30", "--type", "交通"), 2,
     "问题类型“交通”无效，应为用地、规划、环评、资金、征地拆迁、水电路气、审批手续、其他之一。（--type）"),
    (("close", "WT2022-0002", "--date", "2022-02-01"), 2, "办结日期 2022-02-01 早于问题提出的报告期"),
    (("list", "--status", "已解决"), 2, "状态“已解决”无效"),
])
def test_the_office_is_told_what_is_wrong(master: Path, tmp_path: Path, args: tuple[str, ...],
                                          code: int, words: str) -> None:
    _raised(master, tmp_path)
    command, *rest = args
    place = [command, master] if command != "list" else [master]
    result = run_zdxm("problems", *place, *rest) if command == "list" else \
        run_zdxm("problems", command, master, *rest)
    assert result.code == code and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_item_cannot_be_assigned_or_closed_again(master: Path, tmp_path: Path) -> None:
    _raised(master, tmp_path)
    assert run_zdxm("problems", "close", master, "WT2022-0002", "--date", "2022-04-06").code == 0
    again = run_zdxm("problems", "close", master, "WT2022-0002", "--date", "2022-04-07")
    assert again.code == 1 and "状态已是已办结（2022-04-06），无需再办结" in again.stderr
    assign = run_zdxm("problems", "assign", master, "WT2022-0002", "--to", UNIT, "--due",
                      "2022-05-01")
    assert assign.code == 1 and "不能再交办" in assign.stderr


def test_the_list_as_json_and_as_a_table(master: Path, tmp_path: Path) -> None:
    _raised(master, tmp_path)
    run_zdxm("problems", "assign", master, "WT2022-0001", "--to", "柳南区人民政府", "--due",
             "2022-03-31")
    listed = run_zdxm("problems", master, "--date", "2022-04-08", "--json")
    assert listed.code == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert list(data) == ["items"]
    assert data == to_json(list_problems(master, day=date(2022, 4, 8)))
    first, second = data["items"]
    assert {k: first[k] for k in ("id", "project_id", "unit", "type", "status", "due", "opened",
                                  "closed", "overdue")} == {
        "id": "WT2022-0001", "project_id": "ZD2022-0001", "unit": "柳南区人民政府", "type": "用地",
        "status": "办理中", "due": "2022-03-31", "opened": "2022-03", "closed": None, "overdue": True}
    assert (second["status"], second["unit"], second["overdue"]) == ("待交办", None, False)
    handling = json.loads(run_zdxm("problems", "list", master, "--status", "办理中",
                                   "--json").stdout)
    assert [i["id"] for i in handling["items"]] == ["WT2022-0001"]
    open_ = json.loads(run_zdxm("problems", master, "--status", "未办结", "--json").stdout)
    assert len(open_["items"]) == 2
    # options before the 台账, as people type them
    assert json.loads(run_zdxm("problems", "--status", "未办结", "--json", master).stdout) == open_
    before = json.loads(run_zdxm("problems", master, "--period", "2022-02", "--json").stdout)
    assert before == {"items": []}
    table = run_zdxm("problems", master, "--date", "2022-04-08")
    assert "WT2022-0001" in table.stdout and "逾期" in table.stdout
    assert "待交办 1、办理中 1；逾期 1，临期 0。" in table.stdout


def test_what_the_office_types_into_the_sheet_is_kept_in_the_history(master: Path,
                                                                     tmp_path: Path) -> None:
    _raised(master, tmp_path)
    book = openpyxl.load_workbook(master)
    ws = book[PROBLEMS.sheet]
    titles = [c.value for c in ws[1]]
    ws.cell(row=2, column=titles.index("协调责任单位") + 1).value = "柳南区人民政府"
    ws.cell(row=2, column=titles.index("办理时限") + 1).value = datetime(2022, 4, 15)
    ws.cell(row=3, column=titles.index("状态") + 1).value = "已办结"
    # a problem the office heard of in a meeting, typed in without a number
    row = ws.max_row + 1
    for header, value in (("项目编号", "ZD2022-0003"), ("提出报告期", "2022-03"),
                          ("问题描述", "竣工验收资料不全"), ("状态", "待交办")):
        ws.cell(row=row, column=titles.index(header) + 1).value = value
    book.save(master)
    listed = list_problems(master, day=date(2022, 4, 8))  # reading only: nothing written
    assert [i.status for i in listed.items] == ["办理中", "已办结", "待交办"]
    assert load_master(master).problem_log[-1].event == "提出"
    history = run_zdxm("problems", "history", master, "WT2022-0001")
    assert "修改  协调责任单位：（空） → 柳南区人民政府  （在问题台帐中直接修改）" in history.stdout
    assert "交办  状态：待交办 → 办理中  （已填写协调责任单位）" in history.stdout
    # the next command that writes keeps them, once
    assert run_zdxm("problems", "close", master, "WT2022-0001", "--date", "2022-04-20").code == 0
    book = load_master(master)
    assert [p.id for p in book.problems] == ["WT2022-0001", "WT2022-0002", "WT2022-0003"]
    edits = [(c.problem_id, c.field) for c in book.problem_log if c.event == "修改"]
    assert edits == [("WT2022-0001", "协调责任单位"), ("WT2022-0001", "办理时限"),
                     ("WT2022-0002", "状态")]
    assert [c.note for c in book.problem_log if c.problem_id == "WT2022-0003"][0] == \
        "在问题台帐中直接添加"
    closed = book.problems[1]
    assert closed.closed is not None  # 已办结 typed without a date: the day it was seen


def test_the_sheet_has_dropdowns_and_the_history_its_own_sheet(master: Path,
                                                              tmp_path: Path) -> None:
    _raised(master, tmp_path)
    book = openpyxl.load_workbook(master)
    ws = book[PROBLEMS.sheet]
    assert [c.value for c in ws[1]] == list(PROBLEMS.titles)
    formulas = {str(v.sqref).split(":")[0][:1]: v.formula1 for v in ws.data_validations.dataValidation}
    titles = list(PROBLEMS.titles)
    letter = {t: chr(65 + titles.index(t)) for t in ("问题类型", "协调责任单位", "状态")}
    assert formulas[letter["问题类型"]] == '"用地,规划,环评,资金,征地拆迁,水电路气,审批手续,其他"'
    assert formulas[letter["协调责任单位"]] == "UnitList"
    assert formulas[letter["状态"]] == '"待交办,办理中,已办结,不再协调"'
    assert str(book.defined_names["UnitList"].attr_text) == "'责任单位'!$A$2:$A$4"
    assert [c.value for c in book[PROBLEM_LOG.sheet][1]] == list(PROBLEM_LOG.titles)


def test_a_master_from_before_the_problem_sheets_gets_them_at_its_next_save(
        master: Path) -> None:
    book = openpyxl.load_workbook(master)
    del book[PROBLEMS.sheet]
    del book[PROBLEM_LOG.sheet]
    book.save(master)
    old = load_master(master)
    assert old.problems == [] and old.problem_log == []
    save_master(old, master)
    names = openpyxl.load_workbook(master).sheetnames
    assert names.index(PROBLEMS.sheet) + 1 == names.index(PROBLEM_LOG.sheet) < names.index("汇总")


# ---- the form's 问题跟踪 sheet ----------------------------------------------------------------

def test_forms_carry_the_open_items_locked_but_for_the_answers(store: MemoryStore,
                                                                tmp_path: Path) -> None:
    _raised(store, tmp_path)
    assert close_problem(store, "WT2022-0002", "2022-04-06").item.status == ProblemStatus.CLOSED
    template = _form(store, "2022-04", tmp_path / "四月")
    book = openpyxl.load_workbook(template)
    assert book.sheetnames == ["填报说明", SHEET, "预备项目月报", FORM_PROBLEMS.sheet, "系统信息"]
    ws = book[FORM_PROBLEMS.sheet]
    titles = [c.value for c in ws[HEADER_ROW]]
    assert titles == list(FORM_PROBLEMS.titles)
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=HEADER_ROW + 1)]
    assert [(r[0], r[1], r[5]) for r in rows] == [("WT2022-0001", "ZD2022-0001", LAND)]  # open only
    for column in FORM_PROBLEMS.columns:
        cell = ws.cell(row=HEADER_ROW + 1, column=titles.index(column.title) + 1)
        assert cell.protection.locked == (column.field not in FORM_PROBLEMS.inputs), column.field
    assert ws.protection.sheet
    solved = next(v for v in ws.data_validations.dataValidation if v.formula1 == '"是,否"')
    assert str(solved.sqref).startswith(f"{chr(65 + titles.index('是否已解决'))}{HEADER_ROW + 1}")
    guide = " ".join(str(c.value) for r in book["填报说明"].iter_rows() for c in r if c.value)
    assert "“问题跟踪”工作表列出本单位项目尚未办结的 1 个问题" in guide
    other = openpyxl.load_workbook(tmp_path / "四月" / form_name("2022-04", "市工业和信息化局"))
    assert FORM_PROBLEMS.sheet not in other.sheetnames  # no open problem of its own


def test_the_units_word_closes_an_item_as_of_the_period_end(store: MemoryStore,
                                                              tmp_path: Path) -> None:
    _raised(store, tmp_path)
    answer = _return(store, "2022-04", tmp_path, tracking={0: ("用地指标已于4月20日下达", "是")},
                     seed=2)
    report = check_file(store.load(), answer, "2022-04")
    assert report.valid and [(t.problem_id, t.solved) for t in report.tracking] == [
        ("WT2022-0001", "是")]
    merged = merge_files(store, [answer], "2022-04", received=datetime(2022, 5, 3),
                         now=datetime(2022, 5, 4))
    assert merged.problems.closed == ["WT2022-0001"] and merged.problems.progressed == ["WT2022-0001"]
    item = store.master.problems[0]
    assert (item.status, item.closed, item.progress, item.updated) == (
        ProblemStatus.CLOSED, date(2022, 4, 30), "用地指标已于4月20日下达", "2022-04")
    # the unit corrects its return the same month, in the same form: not solved after all
    corrected = answer.with_name("交通（更正）.xlsx")
    corrected.write_bytes(answer.read_bytes())
    _set(corrected, FORM_PROBLEMS.sheet, {(0, "最新进展"): "还在协调", (0, "是否已解决"): "否"})
    report = check_file(store.load(), corrected, "2022-04")
    assert report.findings == [] and [t.solved for t in report.tracking] == ["否"]
    merge_files(store, [corrected], "2022-04", received=datetime(2022, 5, 4),
                now=datetime(2022, 5, 5))
    item = store.master.problems[0]
    assert (item.status, item.closed) == (ProblemStatus.WAITING, None)
    assert store.master.problem_log[-2].event == "重新办理"


# one test per rule of the 问题跟踪 sheet
def _tracked(master: MasterStore | Path, tmp_path: Path) -> Path:
    _raised(master, tmp_path)
    return _return(master, "2022-04", tmp_path, seed=2)


def _codes(store: MemoryStore, path: Path) -> list[str]:
    return [f.code for f in check_file(store.load(), path, "2022-04").findings]


def test_q01_a_problem_not_the_units(store: MemoryStore, tmp_path: Path) -> None:
    path = _tracked(store, tmp_path)
    book = store.load()
    book.problems.append(Problem(id="WT2022-0099", project_id="ZD2022-0005", opened="2022-03",
                                 description="别的单位的问题"))
    store.save(book)
    _set(path, FORM_PROBLEMS.sheet, {(0, "问题编号"): "WT2022-0099", (0, "是否已解决"): "是"})
    assert _codes(store, path) == ["Q01"]


def test_q02_a_row_without_its_number(store: MemoryStore, tmp_path: Path) -> None:
    path = _tracked(store, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(0, "问题编号"): None, (0, "最新进展"): "正在办理"})
    assert _codes(store, path) == ["Q02"]


def test_q03_an_item_closed_since_the_form_was_made(store: MemoryStore, tmp_path: Path) -> None:
    path = _tracked(store, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(0, "最新进展"): "已解决", (0, "是否已解决"): "是"})
    assert close_problem(store, "WT2022-0001", "2022-04-06").item.status == ProblemStatus.CLOSED
    report = check_file(store.load(), path, "2022-04")
    assert [f.code for f in report.findings] == ["Q03"] and report.valid
    assert "状态为“已办结”（2022年4月6日）" in report.findings[0].message and report.tracking == []


def _closed_in_the_sheet(store: MemoryStore, problem_id: str, day: date) -> None:
    """The office closes an item by typing its 办结日期 into 问题台帐, 状态 left as it was."""
    book = store.load()
    next(p for p in book.problems if p.id == problem_id).closed = day
    store.save(book)


def test_an_item_the_office_closed_in_the_sheet_is_not_sent_out_as_open(
        store: MemoryStore, tmp_path: Path) -> None:
    _raised(store, tmp_path)
    _closed_in_the_sheet(store, "WT2022-0001", date(2022, 4, 20))
    template = _form(store, "2022-04", tmp_path / "四月")
    ws = openpyxl.load_workbook(template)[FORM_PROBLEMS.sheet]
    assert [r[0].value for r in ws.iter_rows(min_row=HEADER_ROW + 1) if r[0].value] == [
        "WT2022-0002"]


def test_validate_and_merge_agree_on_an_item_closed_in_the_sheet(store: MemoryStore,
                                                                 tmp_path: Path) -> None:
    """The unit answers an item the office has since closed by typing its 办结日期: checking
    the file says Q03, as merging it does."""
    path = _tracked(store, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(0, "最新进展"): "已解决", (0, "是否已解决"): "是"})
    _closed_in_the_sheet(store, "WT2022-0001", date(2022, 4, 6))
    checked = validate_files(store, [path], "2022-04").files[0]
    assert [f.code for f in checked.findings] == ["Q03"] and checked.valid
    merged = merge_files(store, [path], "2022-04", now=datetime(2022, 4, 8, 9))
    assert [f.code for f in merged.reports[0].findings] == ["Q03"]


def test_q04_a_problem_twice(store: MemoryStore, tmp_path: Path) -> None:
    path = _tracked(store, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(1, "问题编号"): "WT2022-0001"})
    assert "Q04" in _codes(store, path)


def test_q05_solved_without_a_word_how(store: MemoryStore, tmp_path: Path) -> None:
    path = _tracked(store, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(0, "是否已解决"): "是"})
    report = check_file(store.load(), path, "2022-04")
    assert [f.code for f in report.findings] == ["Q05"] and report.valid


def test_validate_on_the_command_line_shows_a_bad_answer(master: Path, tmp_path: Path) -> None:
    path = _tracked(master, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(0, "是否已解决"): "基本解决"})
    result = run_zdxm("validate", master, path, "--period", "2022-04", "--annotate",
                      tmp_path / "批注")
    assert result.code == 1 and "V10" in result.stdout
    assert (tmp_path / "批注" / f"{path.stem}_校验结果.xlsx").is_file()


def test_a_bad_answer_is_a_value_finding_and_marked_in_the_annotated_copy(
        store: MemoryStore, tmp_path: Path) -> None:
    path = _tracked(store, tmp_path)
    _set(path, FORM_PROBLEMS.sheet, {(0, "是否已解决"): "基本解决"})
    run = validate_files(store, [path], "2022-04", tmp_path / "批注")
    assert not run.ok and "V10" in [f.code for f in run.reports[0].findings]
    copy = openpyxl.load_workbook(tmp_path / "批注" / f"{path.stem}_校验结果.xlsx")
    ws = copy[FORM_PROBLEMS.sheet]
    titles = [c.value for c in ws[HEADER_ROW]]
    cell = ws.cell(row=HEADER_ROW + 1, column=titles.index("是否已解决") + 1)
    assert cell.value == "基本解决" and cell.comment is not None and "V10" in cell.comment.text
    assert ws.cell(row=HEADER_ROW + 1, column=1).value == "WT2022-0001"


def test_figures_are_exact() -> None:
    """问题办结率 per 协调责任单位: closed of given, and within the 办理时限."""
    from zdxm_xl.core.master import new_master
    from zdxm_xl.reports.supervision import problem_figures

    book = new_master(2022)

    def item(n: int, unit: str | None, due: date | None, closed: date | None,
             status: ProblemStatus) -> Problem:
        return Problem(id=f"WT2022-{n:04d}", project_id="ZD2022-0001", opened="2022-02",
                       description=f"问题{n}", unit=unit, due=due, closed=closed, status=status)

    book.problems = [
        item(1, "甲", date(2022, 3, 31), date(2022, 3, 20), ProblemStatus.CLOSED),  # in time
        item(2, "甲", date(2022, 3, 31), date(2022, 4, 2), ProblemStatus.CLOSED),  # late
        item(3, "甲", date(2022, 3, 31), None, ProblemStatus.HANDLING),  # overdue on 4/8
        item(4, "乙", date(2022, 4, 30), date(2022, 4, 20), ProblemStatus.CLOSED),  # after the day
        item(5, "乙", None, None, ProblemStatus.DROPPED),  # not counted
        item(6, None, None, None, ProblemStatus.WAITING),
    ]
    figures = problem_figures(book, "2022-03", date(2022, 4, 8))
    assert [(c.unit, c.total, c.closed, c.on_time, c.open, c.overdue, c.rate, c.on_time_rate)
            for c in figures.closure] == [
        ("乙", 1, 0, 0, 1, 0, Decimal("0.0"), Decimal("0.0")),
        ("甲", 3, 2, 1, 1, 1, Decimal("66.7"), Decimal("33.3"))]
    assert (figures.total, figures.open, figures.waiting, figures.overdue) == (5, 3, 1, 1)
    assert figures.by_status_text == "待交办1个、办理中2个、已办结2个、不再协调1个"


def test_the_assessment_counts_the_problems_due_or_closed_by_its_day() -> None:
    """考核 (``due_only``): an item not yet due, and not closed, is not yet judged."""
    from zdxm_xl.core.master import new_master
    from zdxm_xl.core.problems import closure

    book = new_master(2022)

    def item(n: int, unit: str, due: date | None, closed: date | None = None) -> Problem:
        return Problem(id=f"WT2022-{n:04d}", project_id="ZD2022-0001", opened="2022-02",
                       description=f"问题{n}", unit=unit, due=due, closed=closed,
                       status=ProblemStatus.CLOSED if closed else ProblemStatus.HANDLING)

    book.problems = [
        item(1, "甲", date(2022, 3, 31), date(2022, 3, 20)),  # closed in time
        item(2, "甲", date(2022, 3, 31), date(2022, 4, 2)),  # still open on 3/31: due, open
        item(3, "甲", date(2022, 5, 31), date(2022, 3, 25)),  # closed early: counted
        item(4, "乙", date(2022, 4, 30)),  # not due yet
        item(5, "乙", None),  # no 时限: due at the end of the year
    ]
    day = date(2022, 3, 31)
    assert [(c.unit, c.total, c.closed, c.on_time) for c in closure(book, "2022-03", day)] == [
        ("乙", 2, 0, 0), ("甲", 3, 2, 2)]
    assert [(c.unit, c.total, c.closed, c.on_time)
            for c in closure(book, "2022-03", day, due_only=True)] == [("甲", 3, 2, 2)]


# ---- 督办: who is supervised for what -----------------------------------------------------------

def _supervised_master() -> Any:
    """The small master in March: project 1 (城中区) past its planned start and 红, project 2
    (工信局) 红; problems overdue (教育局), open since January (工信局), near its 时限
    (生态环境局), not yet given to anyone, and closed in time."""
    from conftest import small_master
    from zdxm_xl.core.models import LedgerEntry

    book = small_master()
    book.projects[0].planned_start = date(2022, 2, 1)
    book.ledger = [
        LedgerEntry(period="2022-03", project_id="ZD2022-0001", unit="城中区人民政府",
                    month_completed=Decimal(0), year_completed=Decimal(0),
                    total_completed=Decimal(0), started="否"),
        LedgerEntry(period="2022-03", project_id="ZD2022-0002", unit="市工业和信息化局",
                    month_completed=Decimal(50), year_completed=Decimal(50),
                    total_completed=Decimal(1550), started="是", start_date=date(2021, 3, 1)),
        LedgerEntry(period="2022-03", project_id="ZD2022-0003", unit="市教育局",
                    month_completed=Decimal(100), year_completed=Decimal(200),
                    total_completed=Decimal(700), started="是", start_date=date(2021, 3, 1)),
    ]

    def item(n: int, project: int, opened: str, unit: str | None, due: date | None,
             status: ProblemStatus = ProblemStatus.HANDLING, closed: date | None = None) -> Problem:
        return Problem(id=f"WT2022-{n:04d}", project_id=f"ZD2022-{project:04d}",
                       project_name=f"测试项目{project}", opened=opened, description=f"问题{n}",
                       unit=unit, due=due, status=status, closed=closed,
                       type=ProblemType.LAND)

    book.problems = [
        item(1, 3, "2022-03", "市教育局", date(2022, 3, 31)),  # 8 days late on 4/8
        item(2, 2, "2022-01", "市工业和信息化局", date(2022, 5, 31)),  # open since January
        item(3, 4, "2022-03", "市生态环境局", date(2022, 4, 10)),  # due in 2 days: a reminder
        item(4, 1, "2022-01", None, None, ProblemStatus.WAITING),  # the office's to assign
        item(5, 3, "2022-02", "市教育局", date(2022, 3, 31), ProblemStatus.CLOSED, date(2022, 3, 20)),
    ]
    return book


def test_what_is_supervised_and_to_whom() -> None:
    from zdxm_xl.reports.progress import compute_progress

    supervision = compute_progress(_supervised_master(), "2022-03", issued=date(2022, 4, 8),
                                   compare=False).supervision
    assert supervision is not None
    assert [(u.number, u.unit, [i.reason for i in u.problems], [i.reason for i in u.projects])
            for u in supervision.units] == [
        ("重点办督〔2022〕3-1号", "城中区人民政府", [], ["逾期未开工、投资完成率红灯"]),
        ("重点办督〔2022〕3-2号", "市工业和信息化局", ["提出已满2个月"], ["投资完成率红灯"]),
        ("重点办督〔2022〕3-3号", "市教育局", ["逾期8天"], []),
    ]  # 市生态环境局's problem is only near its 时限: no notice of its own
    assert (supervision.overdue_problems, supervision.stale_problems, supervision.warning_problems,
            supervision.waiting_problems, supervision.red_projects, supervision.late_starts) == (
        1, 1, 1, 1, 2, 1)
    assert supervision.reply_by == date(2022, 4, 18)
    first = supervision.units[0]
    assert first.reason_text == "你单位牵头的重大项目中，有1个投资完成率为红灯、1个逾期未开工"
    assert supervision.units[2].reason_text == "你单位负责协调的重大项目问题中，有1个超过办理时限仍未办结"
    project = supervision.units[1].projects[0]
    assert project.detail == ("年度计划投资1,000.00万元，本年累计完成50.00万元，投资完成率5.0%，"
                              "低于时序进度20.0个百分点")
    # the day decides: on 3/30 nothing is late yet, and the 生态环境局 problem is not near
    earlier = compute_progress(_supervised_master(), "2022-03", issued=date(2022, 3, 30),
                               compare=False).supervision
    assert earlier is not None and earlier.overdue_problems == 0
    assert [u.unit for u in earlier.units] == ["城中区人民政府", "市工业和信息化局"]


def test_notices_are_written_one_per_unit_and_logged_once(tmp_path: Path) -> None:
    from zdxm_xl.notices import make_notices

    book = _supervised_master()
    book.settings.mail_contact = "项目科 韦工，0772-2809000"
    store = MemoryStore(book, tmp_path)
    result = make_notices(store, "2022-03", tmp_path / "督办", issued=date(2022, 4, 8),
                          now=datetime(2022, 4, 8, 11))
    assert [(n.number, n.unit, n.problems, n.warnings, n.projects, n.file.name)
            for n in result.notices] == [
        ("重点办督〔2022〕3-1号", "城中区人民政府", 0, 0, 1, "01_城中区人民政府_督办通知单.docx"),
        ("重点办督〔2022〕3-2号", "市工业和信息化局", 1, 0, 1, "02_市工业和信息化局_督办通知单.docx"),
        ("重点办督〔2022〕3-3号", "市教育局", 1, 0, 0, "03_市教育局_督办通知单.docx")]
    assert result.waiting == 1 and result.written
    document = docx.Document(str(result.notices[2].file))
    text = "\n".join(p.text for p in document.paragraphs)
    for words in ("重大项目督办通知单", "重点办督〔2022〕3-3号", "市教育局：",
                  "你单位负责协调的重大项目问题中，有1个超过办理时限仍未办结",
                  "于2022年4月18日前将办理情况书面反馈", "联系人：项目科 韦工，0772-2809000",
                  "一、督办问题", "二、办理要求"):
        assert words in text, words
    assert "督办项目" not in text  # the 教育局 leads no supervised project
    cells = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert cells[0] == ["问题编号", "项目名称", "问题及最新进展", "办理时限", "督办原因"]
    assert cells[1] == ["WT2022-0001", "测试项目3", "问题1", "2022年3月31日", "逾期8天"]
    logged = [(c.problem_id, c.note) for c in store.master.problem_log if c.event == "督办"]
    assert logged == [("WT2022-0002", "督办通知单 重点办督〔2022〕3-2号（市工业和信息化局）：提出已满2个月"),
                      ("WT2022-0001", "督办通知单 重点办督〔2022〕3-3号（市教育局）：逾期8天")]
    again = make_notices(store, "2022-03", tmp_path / "督办", issued=date(2022, 4, 9))
    assert len(again.notices) == 3 and not again.written  # the same notices: not logged twice
    assert len([c for c in store.master.problem_log if c.event == "督办"]) == 2


def test_the_notices_ask_for_an_answer_by_the_day_given(tmp_path: Path) -> None:
    from zdxm_xl.notices import make_notices

    result = make_notices(MemoryStore(_supervised_master(), tmp_path), "2022-03",
                          tmp_path / "督办", issued=date(2022, 4, 8), reply_by="2022-04-20")
    assert result.reply_by == date(2022, 4, 20)
    assert result.supervision is not None and result.supervision.reply_by_text == "2022年4月20日"
    text = "\n".join(p.text for p in docx.Document(str(result.notices[0].file)).paragraphs)
    assert "于2022年4月20日前将办理情况书面反馈" in text


@pytest.mark.soffice
def test_every_notice_gets_its_pdf_from_one_conversion(tmp_path: Path) -> None:
    from zdxm_xl.notices import make_notices

    result = make_notices(MemoryStore(_supervised_master(), tmp_path), "2022-03",
                          tmp_path / "督办", issued=date(2022, 4, 8), pdf=True)
    assert result.pdf_problem is None and len(result.notices) == 3
    for notice in result.notices:
        assert notice.pdf == notice.file.with_suffix(".pdf") and notice.pdf.is_file()
        text = subprocess.run(["pdftotext", str(notice.pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert notice.unit in "".join(text.split())


def test_notices_from_the_command_line(master: Path, tmp_path: Path) -> None:
    _raised(master, tmp_path)
    run_zdxm("problems", "assign", master, "WT2022-0001", "--to", "柳南区人民政府", "--due",
             "2022-03-31")
    out = tmp_path / "通知"
    result = run_zdxm("notices", master, "--period", "2022-03", "--date", "2022-04-08", "-o", out)
    assert result.code == 0, result.stderr
    assert "已写出 2022-03 督办通知单" in result.stdout
    assert "重点办督〔2022〕3-" in result.stdout and "柳南区人民政府：问题 1 个" in result.stdout
    assert (out / next(p.name for p in out.iterdir() if "柳南区" in p.name)).is_file()
    data = json.loads(run_zdxm("notices", master, "--period", "2022-03", "--date", "2022-04-08",
                               "-o", out, "--json").stdout)
    assert set(data) == {"period", "issued", "reply_by", "folder", "notices", "waiting",
                         "pdf_problem"}
    assert data["reply_by"] == "2022-04-18"
    assert "柳南区人民政府" in [n["unit"] for n in data["notices"]]
    early = run_zdxm("notices", master, "--period", "2022-03", "--date", "2022-04-08",
                     "--due", "2022-04-01")
    assert early.code == 2 and "反馈日期 2022-04-01 早于通知日期 2022-04-08。（--due）" in early.stderr
    default = run_zdxm("notices", master, "--period", "2022-03", "--date", "2022-04-08")
    assert default.code == 0 and (tmp_path / "输出" / "督办通知" / "2022-03").is_dir()


def test_the_bulletin_and_the_notice_sheet_read_the_ledger(tmp_path: Path) -> None:
    from zdxm_xl.bulletin import make_bulletin

    store = MemoryStore(_supervised_master(), tmp_path)
    made = make_bulletin(store, "2022-03", tmp_path / "简报", issued=date(2022, 4, 8))
    ledger = made.progress.problem_ledger
    assert ledger is not None
    assert (ledger.total, ledger.raised, ledger.open, ledger.waiting, ledger.overdue) == (
        5, 2, 4, 1, 1)
    text = "\n".join(p.text for p in docx.Document(str(made.docx)).paragraphs)
    assert "本月各单位没有报送新的存在问题。问题台帐共5个问题：待交办1个、办理中3个、已办结1个，" \
           "未办结的以用地为主。" in text
    assert "交办问题办结率25.0%（按时25.0%），逾期1个（各单位见附件2）。" in text
    assert "尚有4个问题未办结（逾期1个），请各协调责任单位按时限办结。" in text
    book = openpyxl.load_workbook(made.xlsx)
    supervised = [r for r in book["督办"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert [(r[1], r[2], r[3], r[5], r[8], r[9]) for r in supervised] == [
        ("城中区人民政府", "重点办督〔2022〕3-1号", "项目", None, "逾期未开工、投资完成率红灯", "红"),
        ("市工业和信息化局", "重点办督〔2022〕3-2号", "问题", "WT2022-0002", "提出已满2个月", "红"),
        ("市工业和信息化局", "重点办督〔2022〕3-2号", "项目", None, "投资完成率红灯", "红"),
        ("市教育局", "重点办督〔2022〕3-3号", "问题", "WT2022-0001", "逾期8天", "红")]
    closure = [r for r in book["问题办结"].iter_rows(min_row=4, values_only=True) if r[1]]
    assert [(r[1], r[2], r[3], r[7]) for r in closure] == [
        ("市工业和信息化局", 1, 0, Decimal("0.0")), ("市生态环境局", 1, 0, Decimal("0.0")),
        ("市教育局", 2, 1, Decimal("50.0")), ("合计", 4, 1, Decimal("25.0"))]


def test_the_problem_weight_turns_the_indicator_on(tmp_path: Path) -> None:
    from zdxm_xl.assess import assess

    off = assess(MemoryStore(_supervised_master(), tmp_path), "2022-01", "2022-03")
    education = off.unit("市教育局")
    # 应办结 at the end of March: #1 (时限 3/31, open) and #5 (closed 3/20): 1 of 2
    assert (education.problems.due_count, education.problems.closed, education.problems.on_time,
            education.problems.percent) == (2, 1, 1, Decimal("50.00"))
    assert "problems" not in education.weights_used and "问题办结率" not in off.rule
    assert [u.unit for u in off.units if u.unit == "市生态环境局"] == ["市生态环境局"]
    book = _supervised_master()
    book.settings.weight_problems = 20
    on = assess(MemoryStore(book, tmp_path), "2022-01", "2022-03", tmp_path / "考核.xlsx")
    education = on.unit("市教育局")
    # 投资 40 (66.6 % of its plan: full marks), 及时 20 (nothing received: 0), 问题 20 (1 of 2);
    # 开工 and 竣工 do not apply: (40 × 1 + 20 × 0 + 20 × 0.5) ÷ 80 × 100
    assert education.weights_used["problems"] == Decimal("25.00")
    assert education.score == Decimal("62.50")
    assert "问题办结率20" in on.rule
    ws = openpyxl.load_workbook(tmp_path / "考核.xlsx")["考核结果"]
    headers = [str(c.value).replace("\n", "") for c in ws[3]]
    assert headers[15:18] == ["应办结问题（个）", "已办结问题（个）", "问题办结率"]


@pytest.mark.soffice
def test_a_notice_prints_as_a_notice(tmp_path: Path) -> None:
    """The 督办通知单 as LibreOffice prints it: red masthead, number, 主送, the list with
    every 问题编号 whole on one line, the answer date, the signature, on at most two pages
    for a unit with a few items."""
    from rendering import pages, render
    from zdxm_xl.notices import make_notices

    book = _supervised_master()
    book.settings.mail_contact = "项目科 韦工，0772-2809000"
    made = make_notices(MemoryStore(book, tmp_path), "2022-03", tmp_path / "督办",
                        issued=date(2022, 4, 8))
    pdf = render(made.notices[1].file, tmp_path)  # 工信局: a problem and a project
    printed = pages(pdf)
    assert len(printed) <= 2
    text = "\n".join(printed)
    squeezed = text.replace(" ", "")
    for words in ("重大项目督办通知单", "重点办督〔2022〕3-2号", "市工业和信息化局：",
                  "一、督办问题", "二、督办项目", "三、办理要求", "WT2022-0002", "ZD2022-0002",
                  "提出已满2个月", "红灯", "2022年4月18日前", "联系人：项目科韦工",
                  "抄送：市委市政府重点工作督查办公室。"):
        assert words.replace(" ", "") in squeezed, words
    assert "WT2022-0002" in text  # the number on one line, not broken in its cell
