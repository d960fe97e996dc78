"""What the 简报 says beyond the figures: 环比 and 同比, the unit classes, this month's new
starts and completions by name, problems by type, 下步工作 from the month's facts, 附件."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document

from conftest import project, run_zdxm, small_master
from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.bulletin import make_bulletin
from zdxm_xl.core.master import Master, MemoryStore
from zdxm_xl.core.models import (
    AttachmentPlacement,
    LedgerEntry,
    Submission,
    SubmissionResult,
    Unit,
    UnitCategory,
    YesNo,
)
from zdxm_xl.core.money import round_half_up
from zdxm_xl.reports.progress import compute_progress, problem_type

D = Decimal


def _entry(period: str, number: int, done: str, **fields: object) -> LedgerEntry:
    return LedgerEntry(period=period, project_id=f"ZD2022-{number:04d}",
                       year_completed=D(done), **fields)


def _master(year: int = 2022) -> Master:
    """Four 实施 projects of three units (a 县区, a 市直部门 and one not classified) in two
    counties, with January and February returns."""
    master = small_master()
    master.settings.year = year
    master.projects = [
        project(1, "新开工", "基础设施", "10000", "2000", ("城中区人民政府",), county="城中区",
                planned_start=date(year, 2, 1)),
        project(2, "续建", "产业发展", "5000", "1000", ("市工业和信息化局",), county="城中区"),
        project(3, "竣工", "民生保障", "800", "400", ("市工业和信息化局",), county="鱼峰区",
                planned_end=date(year, 2, 1)),
        project(5, "新开工", "生态环保", "900", "300", ("某某公司",), county="鱼峰区",
                planned_start=date(year, 6, 1)),
    ]
    master.units = [Unit(name="城中区人民政府", category=UnitCategory.COUNTY),
                    Unit(name="市工业和信息化局", category=UnitCategory.DEPARTMENT),
                    Unit(name="某某公司")]
    y = str(year)
    master.ledger = [
        _entry(f"{y}-01", 1, "0", started=YesNo.NO),
        _entry(f"{y}-01", 2, "50"),
        _entry(f"{y}-01", 3, "20", completed=YesNo.NO),
        _entry(f"{y}-01", 5, "0", started=YesNo.NO),
        _entry(f"{y}-02", 1, "100", started=YesNo.YES, start_date=date(year, 2, 10)),
        _entry(f"{y}-02", 2, "400", problems="征地拆迁进度滞后"),
        _entry(f"{y}-02", 3, "60", completed=YesNo.YES, end_date=date(year, 2, 20)),
        _entry(f"{y}-02", 5, "0", started=YesNo.NO, coordination="请市级协调资金"),
    ]
    return master


def test_month_on_month_change_of_rate_and_rank() -> None:
    progress = compute_progress(_master(), "2022-02")
    assert progress.previous_period == "2022-01"
    # 合计: 560/3700 now against 70/3700 in January, the difference rounded once
    total = progress.total
    assert total.previous_rate == round_half_up(D(70) * 100 / D(3700), 1)
    assert total.rate_change == round_half_up((D(560) - D(70)) * 100 / D(3700), 1)
    assert total.rate_change_text == f"提高{total.rate_change}个百分点"
    counties = {c.name: c for c in progress.counties}
    # 城中区 500/3000 now (50/3000 before); 鱼峰区 60/700 now (20/700 before): 城中区 overtook
    assert (counties["城中区"].rank, counties["城中区"].previous_rank) == (1, 2)
    assert (counties["城中区"].rank_change, counties["城中区"].rank_change_mark) == (1, "↑1")
    assert (counties["鱼峰区"].rank_change, counties["鱼峰区"].rank_change_mark) == (-1, "↓1")


def test_january_has_nothing_to_compare_with() -> None:
    progress = compute_progress(_master(), "2022-01")
    assert progress.previous_period is None
    assert progress.total.rate_change is None and progress.total.rate_change_text == ""
    assert all(c.rank_change_mark == "—" for c in progress.counties)


def test_year_on_year_growth_with_last_years_master() -> None:
    last_year = _master(2021)
    for entry in last_year.ledger:
        entry.year_completed = (entry.year_completed or D(0)) / 2
    progress = compute_progress(_master(), "2022-02", year_ago=last_year,
                                year_ago_source="2021年台账.xlsx")
    assert progress.year_ago is not None
    assert (progress.year_ago.period, progress.year_ago.title_period) == ("2021-02", "2021年1—2月")
    assert progress.total.year_ago_completed_yi == D("0.03")  # 280 万元
    assert progress.total.growth == D("100.0") and progress.total.growth_text == "同比增长100.0%"
    assert compute_progress(_master(), "2022-02").total.growth is None


def test_units_are_ranked_within_their_class() -> None:
    ranking = compute_progress(_master(), "2022-02").unit_ranking
    assert ranking is not None
    assert [g.name for g in ranking.groups] == ["县区", "市直部门", "未分类"]
    assert [u.name for u in ranking.department.units] == ["市工业和信息化局"]
    assert ranking.department.units[0].rank == 1 and ranking.department.total.count == 2
    assert ranking.unclassified.units[0].name == "某某公司"
    assert ranking.enterprise.units == [] and ranking.enterprise.count == 0
    units = compute_progress(_master(), "2022-02").units
    assert {u.name: (u.category, u.group_rank) for u in units} == {
        "城中区人民政府": ("县区", 1), "市工业和信息化局": ("市直部门", 1), "某某公司": ("未分类", 1)}


def test_this_months_starts_and_completions_are_named() -> None:
    february = compute_progress(_master(), "2022-02")
    assert [(p.name, p.actual_date) for p in february.month_starts] == [("测试项目1", "2022年2月10日")]
    assert [p.name for p in february.month_completions] == ["测试项目3"]
    assert february.month_starts_text == "测试项目1"
    master = _master()
    master.ledger += [_entry("2022-03", n, "300", started=YesNo.YES, completed=YesNo.YES,
                             start_date=date(2022, 2, 10)) for n in (1, 2, 3, 5)]
    march = compute_progress(master, "2022-03")  # already reported: not new again
    assert [p.name for p in march.month_starts] == ["测试项目5"]
    assert [p.name for p in march.month_completions] == ["测试项目1", "测试项目2", "测试项目5"]


@pytest.mark.parametrize(("text", "kind"), [
    ("征地拆迁进度滞后", "征地拆迁"), ("用地指标尚未落实", "用地"), ("项目资本金未完全到位", "资金"),
    ("施工图审查时间较长", "审批手续"), ("地下管线迁改协调难度大", "水电路气"), ("业主变更", "其他"),
    ("规划方案调整未批复", "规划"), ("环评批复尚未取得", "环评"),
])
def test_problems_are_summarised_by_type(text: str, kind: str) -> None:
    assert problem_type(text) == kind


def test_problem_summary_counts_projects_by_type() -> None:
    problems = compute_progress(_master(), "2022-02").problems
    assert problems is not None
    assert (problems.projects, problems.coordination) == (2, 1)
    assert problems.by_type_text == "征地拆迁1个、资金1个"


def test_next_steps_come_from_the_months_facts() -> None:
    master = _master()
    master.submissions = [Submission(
        period="2022-02", unit="城中区人民政府", file_name="a.xlsx", sha256="0" * 64,
        received_at=datetime(2022, 3, 3), processed_at=datetime(2022, 3, 3),
        result=SubmissionResult.MERGED, on_time=YesNo.YES)]
    steps = compute_progress(master, "2022-02").next_steps
    titles = [s.title for s in steps]
    assert [s.number for s in steps][:3] == ["（一）", "（二）", "（三）"]
    assert "协调解决项目建设问题" in titles and "规范项目信息报送" in titles
    reporting = next(s for s in steps if s.title == "规范项目信息报送")
    assert "2个单位未报送" in reporting.text  # of three units, one reported
    assert titles[-1] == "抓好下月投资进度" and "下月时序进度为25.0%" in steps[-1].text
    master.ledger = [e for e in master.ledger if e.period == "2022-01"]
    quiet = [s.title for s in compute_progress(master, "2022-01").next_steps]
    assert "协调解决项目建设问题" not in quiet  # no problems reported in January
    december = compute_progress(_master(), "2022-12").next_steps
    assert december[-1].title == "做好年度总结"


def test_overdue_projects_name_the_units_that_must_act() -> None:
    master = _master()
    master.ledger = [e for e in master.ledger if e.period == "2022-01"]
    master.ledger.append(_entry("2022-02", 1, "0", started=YesNo.NO))
    steps = compute_progress(master, "2022-02").next_steps
    assert steps[0].title == "加快项目开工竣工"
    assert "请城中区人民政府、市工业和信息化局对逾期未开工、未竣工的项目" in steps[0].text


def test_attachments_are_numbered_from_the_lists_that_have_items() -> None:
    master = _master()
    attachments = compute_progress(master, "2022-02").attachments
    assert attachments is not None and attachments.in_bulletin
    assert [(a.number, a.key) for a in attachments.items] == [
        (1, "lagging"), (2, "issues"), (3, "units")]
    assert (attachments.lagging, attachments.issues, attachments.units,
            attachments.milestones) == (1, 2, 3, None)
    master.settings.bulletin_attachments = AttachmentPlacement.NOTICE_ONLY
    elsewhere = compute_progress(master, "2022-02").attachments
    assert elsewhere is not None and not elsewhere.in_bulletin and elsewhere.items == []


# ---- 同比 from the command line and from 设置 --------------------------------------------------

@pytest.fixture
def last_year(tmp_path: Path) -> Path:
    """Last year's master: a workbook from outside, read only for the 同比."""
    path = tmp_path / "2021年台账.xlsx"
    create_master(path, 2021, _master(2021))
    return path


@pytest.fixture
def two_years(tmp_path: Path, last_year: Path) -> tuple[Path, Path]:
    """This year's master as the office's workbook too, for the command line."""
    this_year = tmp_path / "2022年台账.xlsx"
    create_master(this_year, 2022, _master())
    return this_year, last_year


@pytest.fixture
def this_years_store(tmp_path: Path) -> MemoryStore:
    """This year's master kept in memory, in the folder of last year's."""
    return MemoryStore(_master(), tmp_path, name="2022年台账.xlsx")


def _said(docx: Path) -> str:
    return "\n".join(p.text for p in Document(str(docx)).paragraphs)


def test_previous_gives_the_same_period_last_year(this_years_store: MemoryStore,
                                                 last_year: Path, tmp_path: Path) -> None:
    result = make_bulletin(this_years_store, "2022-02", tmp_path / "out", issued=date(2022, 3, 8),
                           previous=last_year)
    assert result.year_ago == "2021年台账.xlsx"
    assert result.progress.total.growth_text == "与上年同期持平"
    assert "与上年同期相比，累计完成投资与上年同期持平" in _said(result.docx)
    without = make_bulletin(this_years_store, "2022-02", tmp_path / "plain")
    assert without.year_ago is None and without.progress.year_ago is None
    assert "与上年同期相比" not in _said(without.docx)


def test_bulletin_previous_prints_the_year_on_year_line(two_years: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    this_year, last_year = two_years
    result = run_zdxm("bulletin", this_year, "--period", "2022-02", "-o", tmp_path / "out",
                      "--previous", last_year, "--date", "2022-03-08")
    assert result.code == 0, result.stderr
    assert "同比：与上年台账“2021年台账.xlsx”的同期相比，与上年同期持平。" in result.stdout
    assert "与上年同期相比" in _said(next((tmp_path / "out").glob("*.docx")))
    without = run_zdxm("bulletin", this_year, "--period", "2022-02", "-o", tmp_path / "plain")
    assert without.code == 0 and "同比" not in without.stdout


def test_last_years_master_can_be_named_in_settings(this_years_store: MemoryStore,
                                                    last_year: Path, tmp_path: Path) -> None:
    # 上年台账 is named relative to the master's folder
    this_years_store.master.settings.previous_master = last_year.name
    result = make_bulletin(this_years_store, "2022-02", tmp_path / "out", issued=date(2022, 3, 8))
    assert result.year_ago == "2021年台账.xlsx"
    assert result.progress.year_ago is not None


@pytest.mark.parametrize(("which", "message"), [
    ("missing", "上年台账“{path}”不存在，无法计算同比。（--previous）"),
    ("same year", "是 2022 年的台账，同比需要上一年度（2021 年）的台账。（--previous）"),
    ("not a master", "上年台账无法读取："),
])
def test_a_wrong_previous_master_is_refused_in_chinese(two_years: tuple[Path, Path],
                                                       tmp_path: Path, which: str,
                                                       message: str) -> None:
    this_year, _ = two_years
    path = {"missing": tmp_path / "无此文件.xlsx", "same year": this_year,
            "not a master": tmp_path / "随便.xlsx"}[which]
    if which == "not a master":
        path.write_bytes(b"not a workbook")
    result = run_zdxm("bulletin", this_year, "--period", "2022-02", "-o", tmp_path / "o",
                      "--previous", path)
    assert result.code == 2
    assert message.format(path=path) in result.stderr
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_the_addin_points_at_the_setting(two_years: tuple[Path, Path]) -> None:
    from zdxm_xl.core.errors import Field, UsageError
    from zdxm_xl.frontends.addin.handlers import describe

    text = describe(UsageError("上年台账“x”不存在，无法计算同比。", field=Field.PREVIOUS))
    assert "“设置”工作表检查“上年台账”" in text and "--previous" not in text


def test_the_memory_store_bulletin_matches_the_file_one(two_years: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    this_year, _ = two_years
    from_file = make_bulletin(this_year, "2022-02", tmp_path / "a", issued=date(2022, 3, 8))
    in_memory = make_bulletin(MemoryStore(load_master(this_year), tmp_path), "2022-02",
                              tmp_path / "b", issued=date(2022, 3, 8))
    assert from_file.progress.next_steps == in_memory.progress.next_steps
