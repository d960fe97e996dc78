"""Dynamic management: 增补, 退出, 转入实施, 修改, 变更记录, and a summary that knows them."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from conftest import project, run_zdxm, small_master
from test_forms import identity_of
from test_planio import SINGLE_HEADER, plan_sheet, write_book
from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.core.changelog import initial_plan
from zdxm_xl.core.errors import ChangeRefused, Field, Remedy, UsageError
from zdxm_xl.core.master import Master, MasterStore, MemoryStore
from zdxm_xl.core.models import LedgerEntry
from zdxm_xl.core.results import to_json
from zdxm_xl.core.summary import summarize
from zdxm_xl.forms import make_forms
from zdxm_xl.plan import edit_project, exit_project, import_plan, plan_history, promote_project
from zdxm_xl.reports.forms import form_name
from zdxm_xl.summary import plan_summary

CULTURE = "市文化广电旅游局"


def batch_file(tmp_path: Path, rows: list[list], name: str = "增补.xlsx") -> Path:
    """A 增补 table in the official single-header layout (amounts in 亿元)."""
    total = sum((r[7] for r in rows), D(0))
    annual = sum((r[9] for r in rows), D(0))
    body = [*rows, [f"合计（{len(rows)}项）", None, None, None, None, None, None, total, 0, annual]]
    return write_book(tmp_path / name, {"附表1": plan_sheet(SINGLE_HEADER, body, unit_line=None,
                                                            notes=[])})


def library_row(number: int, name: str, lead: str, code: str | None = None,
                stage: str = "新开工", sector: str = "民生保障", total: str = "0.8",
                annual: str = "0.2") -> list:
    return [number, None, code, name, stage, sector, "柳南区", D(total), 0, D(annual), lead, "业主公司"]


def unchanged(path: Path, *args: object) -> tuple[int, str]:
    """Run a command that must be refused; the master must not change. (code, stderr)."""
    before = path.read_bytes()
    result = run_zdxm(*args)
    assert path.read_bytes() == before
    assert "Traceback" not in result.stderr
    return result.code, result.stderr


# ---- 增补 ------------------------------------------------------------------------------------

def test_a_batch_is_appended_with_its_name_and_date(store: MemoryStore, tmp_path: Path) -> None:
    plan = batch_file(tmp_path, [library_row(1, "辛馆", CULTURE, "2206-450200-04-01-000010")])
    result = import_plan(store, [plan], batch="第一批增补", batch_date="2022-06-15",
                         operator="李四")
    assert (result.batch, result.batch_date) == ("第一批增补", date(2022, 6, 15))
    assert (result.implementation, result.preparatory) == (1, 0)
    assert result.new_units == [CULTURE]
    assert store.saves == 1
    master = store.master
    added = master.project("ZD2022-0005")
    assert (added.name, added.stage, added.batch, added.batch_date, added.annual_plan) \
        == ("辛馆", "新开工", "第一批增补", date(2022, 6, 15), D(2000))
    assert len(master.projects) == 5
    change = master.changes[-1]
    assert (change.kind, change.project_id, change.batch, change.effective, change.operator) == (
        "增补", "ZD2022-0005", "第一批增补", date(2022, 6, 15), "李四")
    assert master.unit(CULTURE) is not None


def test_plan_import_of_a_batch_says_what_it_added(master_path: Path, tmp_path: Path) -> None:
    plan = batch_file(tmp_path, [library_row(1, "辛馆", CULTURE, "2206-450200-04-01-000010")])
    result = run_zdxm("plan", "import", master_path, plan, "--batch", "第一批增补",
                      "--date", "2022-06-15", "--operator", "李四")
    assert result.code == 0, result.stderr
    assert "增补批次“第一批增补”（2022-06-15）" in result.stdout
    assert "已导入实施项目 1 个、预备项目 0 个" in result.stdout
    assert f"新增责任单位 1 个：{CULTURE}" in result.stdout
    assert load_master(master_path).project("ZD2022-0005").batch == "第一批增补"


@pytest.mark.parametrize(("row", "words"), [
    (library_row(1, "测试项目2", "市工业和信息化局"),
     "项目“测试项目2”与台账中已有项目（ZD2022-0002，年初）重复：项目名称和牵头单位（市工业和信息化局）都相同"),
    (library_row(1, "壬园", CULTURE, "2206-450200-04-01-000010"),
     "项目“壬园”与台账中已有项目“辛馆”（ZD2022-0005，第一批增补）重复：项目代码相同"),
])
def test_a_batch_duplicating_projects_of_the_plan_is_refused(master_path: Path, tmp_path: Path,
                                                             row: list, words: str) -> None:
    first = batch_file(tmp_path, [library_row(1, "辛馆", CULTURE, "2206-450200-04-01-000010")])
    assert run_zdxm("plan", "import", master_path, first, "--batch", "第一批增补",
                    "--date", "2022-06-15").code == 0
    again = batch_file(tmp_path, [library_row(1, "癸路", "市交通运输局"), row], "第二批.xlsx")
    code, stderr = unchanged(master_path, "plan", "import", master_path, again,
                             "--batch", "第二批增补", "--date", "2022-09-01")
    assert code == 1
    assert "计划表未导入（台账未改动）" in stderr and words in stderr
    assert "请从增补表中删去这一行" in stderr


def test_a_batch_project_reports_from_the_month_of_its_batch(store: MemoryStore,
                                                             tmp_path: Path) -> None:
    plan = batch_file(tmp_path, [library_row(1, "辛馆", CULTURE)])
    import_plan(store, [plan], batch="第一批增补", batch_date="2022-06-15")
    may = make_forms(store, "2022-05", tmp_path / "五月")
    june = make_forms(store, "2022-06", tmp_path / "六月")
    assert CULTURE not in may.units
    assert CULTURE in june.units
    assert identity_of(tmp_path / "六月" / form_name("2022-06", CULTURE)).projects == (
        "ZD2022-0005",)


# ---- 退出 ------------------------------------------------------------------------------------

TWO = "城中区人民政府"


def with_two_projects() -> Master:
    """城中区人民政府 leads two projects, with January–May reported for the second."""
    master = small_master()
    master.projects.append(project(5, "续建", "基础设施", "6000", "1200", (TWO,),
                                   prior_completed=D(2000)))
    master.ledger = [
        LedgerEntry(period=f"2022-{m:02d}", project_id="ZD2022-0005", unit=TWO,
                    month_completed=D(100), year_completed=D(100 * m),
                    total_completed=D(2000 + 100 * m), started="是", start_date=date(2021, 3, 1),
                    completed="否")
        for m in range(1, 6)
    ]
    return master


@pytest.fixture
def two_project_master(tmp_path: Path) -> Path:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, with_two_projects())
    return path


@pytest.fixture
def two_projects(tmp_path: Path) -> MemoryStore:
    return MemoryStore(with_two_projects(), tmp_path)


def test_exit_keeps_the_project_and_its_ledger(two_projects: MemoryStore) -> None:
    result = exit_project(two_projects, "ZD2022-0005", "2022-05-20",
                          "受规划调整影响，项目无法实施[见批复]", operator="王五")
    master = two_projects.master
    gone = master.project("ZD2022-0005")
    assert (gone.status, gone.exit_date, gone.exit_reason) == (
        "已退出", date(2022, 5, 20), "受规划调整影响，项目无法实施[见批复]")
    assert len(master.projects) == 5
    assert [e.period for e in master.ledger] == [f"2022-0{m}" for m in range(1, 6)]
    change = master.changes[-1]
    assert (change.kind, change.field, change.old, change.new, change.effective, change.operator,
            change.batch) == ("退出", "状态", "在库", "已退出", date(2022, 5, 20), "王五", "年初")
    assert (result.project_id, result.project_name, result.changes, result.notes) == (
        "ZD2022-0005", "测试项目5", [change], [])
    assert plan_history(two_projects, "ZD2022-0005").changes == [change]


def test_plan_exit_prints_the_change_and_history_shows_it(two_project_master: Path) -> None:
    path = two_project_master
    result = run_zdxm("plan", "exit", path, "ZD2022-0005", "--date", "2022-05-20",
                      "--reason", "受规划调整影响，项目无法实施[见批复]", "--operator", "王五", "--json")
    assert result.code == 0, result.stderr
    change = load_master(path).changes[-1]
    assert json.loads(result.stdout) == {
        "project_id": "ZD2022-0005", "project_name": "测试项目5",
        "changes": [change.model_dump(mode="json")], "notes": []}
    text = run_zdxm("plan", "history", path, "ZD2022-0005")
    assert "退出  ZD2022-0005 测试项目5  状态：在库 → 已退出  生效 2022-05-20  " \
        "原因：受规划调整影响，项目无法实施[见批复]" in text.stdout


def test_a_project_exited_mid_month_leaves_the_next_months_templates(
        two_projects: MemoryStore, tmp_path: Path) -> None:
    exit_project(two_projects, "ZD2022-0005", "2022-05-20", "无法实施", operator="王五")
    make_forms(two_projects, "2022-05", tmp_path / "五月", unit=TWO)
    make_forms(two_projects, "2022-06", tmp_path / "六月", unit=TWO)
    assert identity_of(tmp_path / "五月" / form_name("2022-05", TWO)).projects == (
        "ZD2022-0001", "ZD2022-0005")
    assert identity_of(tmp_path / "六月" / form_name("2022-06", TWO)).projects == (
        "ZD2022-0001",)
    sheet = openpyxl.load_workbook(tmp_path / "六月" / form_name("2022-06", TWO))["实施项目月报"]
    assert "ZD2022-0005" not in [c.value for c in sheet["A"]]


def test_an_exit_dated_before_reported_months_says_so(two_projects: MemoryStore) -> None:
    result = exit_project(two_projects, "ZD2022-0005", date(2022, 3, 31), "无法实施")
    assert result.notes and "2022-04、2022-05" in result.notes[0]
    assert two_projects.master.project("ZD2022-0005").exit_date == date(2022, 3, 31)


@pytest.mark.parametrize(("args", "code", "words"), [
    (("ZD2022-0003", "--date", "2022-07-01", "--reason", "再退"), 1,
     "已于 2022-05-20 退出（无法实施），不能再次退出"),
    (("ZD2022-0099", "--date", "2022-07-01", "--reason", "x"), 2,
     "台账中没有项目编号为“ZD2022-0099”的项目"),
    (("ZD2022-0002", "--date", "2023-01-05", "--reason", "x"), 2,
     "退出日期 2023-01-05 不在台账的计划年度 2022 年内"),
    (("ZD2022-0002", "--date", "2022-02-30", "--reason", "x"), 2, "退出日期“2022-02-30”无效"),
    (("ZD2022-0002", "--date", "2022-07-01", "--reason", "  "), 2, "请写明退出原因"),
    (("ZD2022-0002", "--date", "2022-07-01"), 2, "缺少选项"),
])
def test_exit_refusals(master_path: Path, args: tuple[str, ...], code: int, words: str) -> None:
    exit_project(master_path, "ZD2022-0003", "2022-05-20", "无法实施")
    got, stderr = unchanged(master_path, "plan", "exit", master_path, *args)
    assert (got, words in stderr) == (code, True), stderr


# ---- 转入实施 --------------------------------------------------------------------------------

def test_promote_makes_a_preparatory_project_a_new_start(store: MemoryStore) -> None:
    result = promote_project(store, "ZD2022-0004", "2022-06-10", "3,000.50", operator="赵六")
    master = store.master
    moved = master.project("ZD2022-0004")
    assert (moved.stage, moved.annual_plan, moved.planned_start) == (
        "新开工", D("3000.50"), date(2022, 6, 1))
    assert [p.id for p in master.preparatory] == []
    assert "ZD2022-0004" in [p.id for p in master.implementation]
    assert [(c.kind, c.field, c.old, c.new, c.effective, c.operator) for c in master.changes] == [
        ("阶段转换", "阶段", "预备", "新开工", date(2022, 6, 10), "赵六"),
        ("阶段转换", "年度计划投资", None, "3000.50", date(2022, 6, 10), "赵六"),
        ("阶段转换", "计划开工时间", None, "2022-06", date(2022, 6, 10), "赵六"),
    ]
    assert result.changes == master.changes
    # …and it is counted with the 新开工 projects of the summary.
    rows = {(r["stage"], r["sector"]): r for r in to_json(plan_summary(store))["rows"]}
    # 新开工: 10000.50 + 12345.67 = 22346.17 万元 → 2.23 亿元; 2000.25 + 3000.50 = 5000.75 → 0.50
    assert rows[("新开工", None)] == {"stage": "新开工", "sector": None, "count": 2,
                                      "total_investment": "2.23", "annual_plan": "0.50"}
    assert rows[("新开工", "生态环保")]["count"] == 1
    assert rows[("预备", None)]["count"] == 0


def test_plan_promote_moves_the_row_to_the_implementation_sheet(master_path: Path) -> None:
    result = run_zdxm("plan", "promote", master_path, "ZD2022-0004", "--date", "2022-06-10",
                      "--annual-plan", "3,000.50", "--operator", "赵六", "--json")
    assert result.code == 0, result.stderr
    master = load_master(master_path)
    assert master.project("ZD2022-0004").annual_plan == D("3000.50")
    book = openpyxl.load_workbook(master_path)
    assert "ZD2022-0004" in [c.value for c in book["实施项目"]["A"]]
    assert "ZD2022-0004" not in [c.value for c in book["预备项目"]["A"]]
    assert json.loads(result.stdout)["changes"] == [c.model_dump(mode="json")
                                                     for c in master.changes]


def test_promote_keeps_a_planned_start_of_this_year(store: MemoryStore) -> None:
    promote_project(store, "ZD2022-0004", "2022-06-10", "3000", planned_start="2022-08")
    assert store.master.project("ZD2022-0004").planned_start == date(2022, 8, 1)


@pytest.mark.parametrize(("args", "code", "words"), [
    (("ZD2022-0001", "--annual-plan", "3000"), 1, "是新开工项目，只有预备项目才能转入实施"),
    (("ZD2022-0003", "--annual-plan", "3000"), 1, "已退出，不能转入实施"),
    (("ZD2022-0004", "--annual-plan", "约3000"), 2, "年度计划投资“约3000”无效：不是数字"),
    (("ZD2022-0004", "--annual-plan", "3000.123"), 2, "小数超过两位"),
    (("ZD2022-0004", "--annual-plan", "-5"), 2, "不能为负数"),
    (("ZD2022-0004", "--annual-plan", "20000"), 2, "大于项目总投资 12345.67 万元"),
    (("ZD2022-0004", "--annual-plan", "3000", "--planned-start", "2023-03"), 2, "不在 2022 年内"),
    (("ZD2022-0099", "--annual-plan", "3000"), 2, "没有项目编号"),
])
def test_promote_refusals(master_path: Path, args: tuple[str, ...], code: int, words: str) -> None:
    exit_project(master_path, "ZD2022-0003", "2022-05-20", "无法实施")
    got, stderr = unchanged(master_path, "plan", "promote", master_path, "--date", "2022-06-10",
                            *args)
    assert (got, words in stderr) == (code, True), stderr


def test_promote_date_must_be_in_the_plan_year(store: MemoryStore) -> None:
    with pytest.raises(UsageError, match="转入实施日期 2021-12-01 不在台账的计划年度") as caught:
        promote_project(store, "ZD2022-0004", "2021-12-01", "3000")
    assert caught.value.field is Field.DATE
    with pytest.raises(ChangeRefused):
        promote_project(store, "ZD2022-0002", "2022-06-01", "3000")
    assert store.saves == 0


# ---- 修改 ------------------------------------------------------------------------------------

def test_edits_are_logged_field_by_field(store: MemoryStore) -> None:
    result = edit_project(store, "ZD2022-0002", {
        "年度计划投资": "1200", "计划竣工时间": "2022年10月",
        "责任单位": "市工业和信息化局、柳江区人民政府"}, "市政府审定调整", "钱七")
    master = store.master
    edited = master.project("ZD2022-0002")
    assert (edited.annual_plan, edited.planned_end, edited.units) == (
        D(1200), date(2022, 10, 1), ["市工业和信息化局", "柳江区人民政府"])
    assert master.unit("柳江区人民政府") is not None
    assert [(c.kind, c.field, c.old, c.new, c.reason) for c in master.changes] == [
        ("修改", "年度计划投资", "1000", "1200", "市政府审定调整"),
        ("修改", "计划竣工时间", None, "2022-10", "市政府审定调整"),
        ("修改", "责任单位", "市工业和信息化局", "市工业和信息化局、柳江区人民政府", "市政府审定调整"),
    ]
    assert result.changes == master.changes
    # 年初计划 undoes the edits.
    before = next(p for p in initial_plan(master) if p.id == "ZD2022-0002")
    assert (before.annual_plan, before.planned_end, before.units) == (
        D(1000), None, ["市工业和信息化局"])


def test_plan_edit_prints_each_change(master_path: Path) -> None:
    result = run_zdxm("plan", "edit", master_path, "ZD2022-0002", "--set", "年度计划投资=1200",
                      "--set", "计划竣工时间=2022年10月",
                      "--set", "责任单位=市工业和信息化局、柳江区人民政府",
                      "--reason", "市政府审定调整", "--operator", "钱七")
    assert result.code == 0, result.stderr
    assert "已修改：ZD2022-0002 测试项目2" in result.stdout
    assert "年度计划投资：1000 → 1200" in result.stdout
    assert "计划竣工时间：（空） → 2022-10" in result.stdout
    assert load_master(master_path).project("ZD2022-0002").annual_plan == D(1200)


def test_an_edit_that_changes_nothing_writes_nothing(store: MemoryStore) -> None:
    result = edit_project(store, "ZD2022-0002", {"annual_plan": D(1000)})
    assert result.changes == [] and "未作修改" in result.notes[0]
    assert store.saves == 0


@pytest.mark.parametrize(("assignment", "words"), [
    ("规模=大", "没有名为“规模”的计划字段"),
    ("状态=已退出", "项目退出另有操作。（--set）项目退出：zdxm plan exit。"),
    ("项目编号=ZD2022-0100", "该字段由系统维护"),
    ("项目名称=", "“项目名称”不能为空"),
    ("总投资=很多", "“总投资”的值“很多”无效：不是数字"),
    ("阶段=预备", "阶段只能改为新开工、续建、竣工之一"),
    ("行业分类=商业", "应为基础设施、产业发展、民生保障、生态环保之一"),
    ("年度计划投资-5", "应写成 字段=值 的形式"),
])
def test_edit_refusals(master_path: Path, assignment: str, words: str) -> None:
    code, stderr = unchanged(master_path, "plan", "edit", master_path, "ZD2022-0002",
                             "--set", assignment)
    assert code == 2 and words in stderr, stderr


def test_a_preparatory_project_has_no_annual_plan_to_edit(store: MemoryStore) -> None:
    with pytest.raises(UsageError,
                       match="预备项目没有“年度计划投资”：预备项目转入实施另有操作") as caught:
        edit_project(store, "ZD2022-0004", {"年度计划投资": "100"})
    assert caught.value.remedy is Remedy.PROMOTE_PROJECT and caught.value.field is Field.VALUES


# ---- 变更记录 --------------------------------------------------------------------------------

def test_history_prints_every_change_and_json_is_the_library_result(master_path: Path) -> None:
    exit_project(master_path, "ZD2022-0003", "2022-05-20", "无法实施", operator="王五",
                 now=datetime(2022, 5, 21, 9, 30))
    promote_project(master_path, "ZD2022-0004", "2022-06-10", "3000", operator="赵六",
                    now=datetime(2022, 6, 11, 10, 0))
    text = run_zdxm("plan", "history", master_path)
    assert text.code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "变更记录（4 条）："
    assert lines[1] == ("2022-05-21 09:30  退出  ZD2022-0003 测试项目3  状态：在库 → 已退出  "
                        "生效 2022-05-20  原因：无法实施  批次：年初  操作人：王五")
    assert lines[3] == ("2022-06-11 10:00  阶段转换  ZD2022-0004 测试项目4  年度计划投资：（空） → 3000  "
                        "生效 2022-06-10  原因：预备项目转入实施  批次：年初  操作人：赵六")
    one = run_zdxm("plan", "history", master_path, "ZD2022-0004", "--json")
    data = json.loads(one.stdout)
    assert data == to_json(plan_history(master_path, "ZD2022-0004"))
    assert data["project_id"] == "ZD2022-0004"
    assert [c["field"] for c in data["changes"]] == ["阶段", "年度计划投资", "计划开工时间"]
    assert data["changes"][0]["effective"] == "2022-06-10"
    assert data["changes"][0]["time"] == "2022-06-11T10:00:00"


def test_history_lists_the_changes_oldest_first(store: MemoryStore) -> None:
    exit_project(store, "ZD2022-0003", "2022-05-20", "无法实施", operator="王五",
                 now=datetime(2022, 5, 21, 9, 30))
    promote_project(store, "ZD2022-0004", "2022-06-10", "3000", operator="赵六",
                    now=datetime(2022, 6, 11, 10, 0))
    everything = plan_history(store)
    assert everything.project_id is None
    assert [(c.kind, c.project_id, c.field) for c in everything.changes] == [
        ("退出", "ZD2022-0003", "状态"), ("阶段转换", "ZD2022-0004", "阶段"),
        ("阶段转换", "ZD2022-0004", "年度计划投资"), ("阶段转换", "ZD2022-0004", "计划开工时间")]
    one = plan_history(store, " ZD2022-0004 ")
    assert one.project_id == "ZD2022-0004" and one.changes == everything.changes[1:]
    assert one.changes[0].effective == date(2022, 6, 10)
    assert one.changes[0].time == datetime(2022, 6, 11, 10, 0)
    assert plan_history(store, "ZD2022-0001").changes == []
    with pytest.raises(UsageError, match="没有项目编号为“ZD2022-0404”"):
        plan_history(store, "ZD2022-0404")
    assert store.saves == 2


def test_history_of_a_project_without_changes_and_of_an_unknown_one(master_path: Path) -> None:
    quiet = run_zdxm("plan", "history", master_path, "ZD2022-0001")
    assert quiet.code == 0 and "项目 ZD2022-0001 的变更记录为空" in quiet.stdout
    unknown = run_zdxm("plan", "history", master_path, "ZD2022-0404")
    assert unknown.code == 2 and "没有项目编号为“ZD2022-0404”" in unknown.stderr


# ---- the summary: 年初计划 and 调整后 ---------------------------------------------------------

def adjusted_during_the_year(where: MasterStore | Path, tmp_path: Path) -> None:
    """增补 one project, exit one, promote one, edit one."""
    plan = batch_file(tmp_path, [library_row(1, "辛馆", CULTURE)])
    import_plan(where, [plan], batch="第一批增补", batch_date="2022-06-15")
    exit_project(where, "ZD2022-0003", "2022-05-20", "无法实施")
    promote_project(where, "ZD2022-0004", "2022-06-10", "3000")
    edit_project(where, "ZD2022-0002", {"年度计划投资": "1200"}, "调整")


def test_summary_sets_the_initial_plan_beside_the_adjusted_one(store: MemoryStore,
                                                               tmp_path: Path) -> None:
    adjusted_during_the_year(store, tmp_path)
    data = to_json(plan_summary(store))
    assert data == to_json(summarize(store.master))
    # 年初计划 is the plan as imported at the start of the year: the small master untouched.
    assert data["initial"] == to_json(summarize(small_master(), small_master().projects))["rows"]
    assert data["adjusted"] == data["rows"]
    adjusted = {(r["stage"], r["sector"]): r for r in data["adjusted"]}
    # 实施 now: #1 10000.50/2000.25, #2 5000/1200 (edited), #4 12345.67/3000 (promoted),
    # #5 8000/2000 (增补; 0.8 亿元 and 0.2 亿元 in the table) — #3 exited.
    # 总投资 35346.17 万元 → 3.53 亿元; 年度计划 8200.25 万元 → 0.82 亿元.
    assert adjusted[(None, None)] == {"stage": None, "sector": None, "count": 4,
                                      "total_investment": "3.53", "annual_plan": "0.82"}
    assert adjusted[("竣工", None)]["count"] == 0
    assert data["batches"] == [{"batch": "第一批增补", "date": "2022-06-15", "implementation": 1,
                                "preparatory": 0, "total_investment": "0.80",
                                "annual_plan": "0.20", "project_ids": ["ZD2022-0005"]}]
    assert data["exits"] == [{"project_id": "ZD2022-0003", "name": "测试项目3", "stage": "竣工",
                              "lead_unit": "市教育局", "batch": "年初", "date": "2022-05-20",
                              "reason": "无法实施", "total_investment": "0.08",
                              "annual_plan": "0.03"}]
    assert data["promotions"] == [{"project_id": "ZD2022-0004", "name": "测试项目4",
                                   "date": "2022-06-10", "annual_plan": "0.30"}]


def test_plan_summary_json_is_the_library_result(master_path: Path, tmp_path: Path) -> None:
    adjusted_during_the_year(master_path, tmp_path)
    result = run_zdxm("plan", "summary", master_path, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == to_json(summarize(load_master(master_path)))
    assert [b["project_ids"] for b in data["batches"]] == [["ZD2022-0005"]]


def test_summary_text_and_table_show_both_plans(master_path: Path, tmp_path: Path) -> None:
    adjusted_during_the_year(master_path, tmp_path)
    result = run_zdxm("plan", "summary", master_path, "--write")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert ("实施项目：年初计划3项，总投资1.58亿元，年度计划投资0.33亿元；"
            "调整后4项，总投资3.53亿元，年度计划投资0.82亿元。") in out
    assert "预备项目：年初计划1项，总投资1.23亿元；调整后0项，总投资0.00亿元。" in out
    assert ("第一批增补（2022年6月15日）：实施项目1项、预备项目0项，"
            "总投资0.80亿元，年度计划投资0.20亿元。") in out
    assert "ZD2022-0003 测试项目3（竣工，市教育局）：2022年5月20日退出，原因：无法实施。" in out
    assert "ZD2022-0004 测试项目4：2022年6月10日由预备项目转为新开工项目，年度计划投资0.30亿元。" in out
    table = [line.split() for line in out.splitlines() if line.startswith("实施项目合计  合计")]
    assert table == [["实施项目合计", "合计", "3", "1.58", "0.33", "4", "3.53", "0.82"]]
    sheet = openpyxl.load_workbook(master_path)["汇总"]
    header = [c.value for c in sheet[1]][:8]
    assert header == ["阶段", "行业分类", "项目数", "总投资（亿元）", "年度计划投资（亿元）", "年初项目数",
                      "年初总投资（亿元）", "年初年度计划投资（亿元）"]
    first = [c.value for c in sheet[2]][:8]
    assert first[:3] == ["实施项目合计", "合计", 4] and first[5] == 3
    assert [str(v) for v in (first[3], first[4], first[6], first[7])] == ["3.53", "0.82", "1.58",
                                                                          "0.33"]
    assert "退出项目（1项）" in str(sheet.cell(row=1, column=10).value)


def test_a_plan_never_changed_says_so(master_path: Path) -> None:
    out = run_zdxm("plan", "summary", master_path).stdout
    assert "年初以来没有增补、退出或转入实施的项目。" in out
    assert "实施项目：年初计划3项，总投资1.58亿元，年度计划投资0.33亿元；调整后3项" in out
