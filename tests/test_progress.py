"""Progress figures (SPEC §4.4) on a small master computed by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from conftest import project
from zdxm_xl.core.errors import Field, MasterError, UsageError
from zdxm_xl.core.master import Master, new_master
from zdxm_xl.core.models import FlagMethod, LedgerEntry, Submission, Unit
from zdxm_xl.reports.progress import (
    Bands,
    benchmark_percent,
    compute_progress,
    field_reference,
    flag_for,
    format_bulletin_log,
    parse_bulletin_log,
)

ROAD, SCHOOL, PARK = "市交通运输局", "市教育局", "柳南区人民政府"


def row(project_id: str, period: str = "2022-03", year: str = "0", month: str = "0",
        **fields: object) -> LedgerEntry:
    return LedgerEntry(period=period, project_id=project_id, month_completed=Decimal(month),
                       year_completed=Decimal(year), **fields)


def office() -> Master:
    """Five 实施 projects and one 预备 project; March figures chosen to give round rates.

    | 项目 | 阶段 | 县区 | 年度计划 | 本年累计 | 完成率 |
    | 1 | 新开工 (planned Jan, started)     | 城中区 | 400 | 49  | 12.25 → 12.3 |
    | 2 | 新开工 (planned Feb, not started) | 城中区 | 600 | 0   | 0.0 |
    | 3 | 新开工 (planned Jun, not started) | 柳南区 | 500 | 0   | 0.0 (not judged) |
    | 4 | 续建 (no March row: February's)   | 柳南区 | 1000 | 300 | 30.0 |
    | 5 | 竣工 (planned Mar, not completed) | 鱼峰区 | 300 | 100 | 33.3 |
    """
    master = new_master(2022)
    master.settings.city = "柳州市"
    master.settings.flag_method = FlagMethod.POINTS  # worked with the 10/30-point bands
    master.projects = [
        project(1, "新开工", "基础设施", "5000", "400", (ROAD,), county="城中区",
                planned_start=date(2022, 1, 1)),
        project(2, "新开工", "基础设施", "8000", "600", (ROAD,), county="城中区",
                planned_start=date(2022, 2, 1)),
        project(3, "新开工", "生态环保", "3000", "500", (PARK,), county="柳南区",
                planned_start=date(2022, 6, 1)),
        project(4, "续建", "产业发展", "9000", "1000", (PARK,), county="柳南区",
                prior_completed=Decimal(2000)),
        project(5, "竣工", "民生保障", "2000", "300", (SCHOOL,), county="鱼峰区",
                planned_end=date(2022, 3, 1), prior_completed=Decimal(1500)),
        project(6, "预备", "生态环保", "20000", None, (PARK,), county="柳南区"),
    ]
    master.units = [Unit(name=n) for n in (ROAD, SCHOOL, PARK)]
    master.ledger = [
        row("ZD2022-0001", year="49", month="20", started="是", start_date=date(2022, 1, 20),
            problems="征地拆迁滞后", coordination="请市自然资源局协调用地"),
        row("ZD2022-0002", started="否"),
        row("ZD2022-0003", started="否"),
        row("ZD2022-0004", period="2022-02", year="300", month="150", started="是"),
        row("ZD2022-0005", year="100", month="40", started="是", completed="否"),
        row("ZD2022-0006", permit_investment="已办结", permit_planning="已办结",
            permit_land="办理中", permit_environment="不涉及", permit_energy="已办结",
            permit_construction="未启动"),
    ]
    received = datetime(2022, 4, 3, 9)
    master.submissions = [
        Submission(period="2022-03", unit=ROAD, file_name="交通.xlsx", sha256="a" * 64,
                   received_at=received, processed_at=received, result="已合并", on_time="是"),
        Submission(period="2022-03", unit=SCHOOL, file_name="教育.xlsx", sha256="b" * 64,
                   received_at=datetime(2022, 4, 8), processed_at=datetime(2022, 4, 8),
                   result="已合并", on_time="否"),
    ]
    return master


@pytest.mark.parametrize(("method", "month", "targets", "expected"), [
    ("月数/12", 3, None, Decimal(25)),
    ("月数/12", 1, None, Decimal(100) / Decimal(12)),
    ("月数/12", 12, None, Decimal(100)),
    ("月数×10%", 3, None, Decimal(30)),
    ("月数×10%", 10, None, Decimal(100)),
    ("月数×10%", 11, None, Decimal(100)),  # never beyond the whole year
    ("按月目标", 3, "5,12,20,28,36,45,54,63,72,81,90,100", Decimal(20)),
    ("按月目标", 12, "5，12、20 28;36,45,54,63,72,81,90,100%", Decimal(100)),
])
def test_benchmark_methods(method: str, month: int, targets: str | None,
                           expected: Decimal) -> None:
    assert benchmark_percent(method, month, targets) == expected


@pytest.mark.parametrize("targets", [None, "", "5,12,20", "5,12,20,28,36,45,54,63,72,81,90,120",
                                     "一,二,三,四,五,六,七,八,九,十,十一,十二"])
def test_bad_monthly_targets_are_refused_in_chinese(targets: str | None) -> None:
    with pytest.raises(MasterError, match="各月目标"):
        benchmark_percent("按月目标", 3, targets)


@pytest.mark.parametrize(("rate", "yellow", "red", "flag"), [
    ("25", 10, 30, "绿"),       # at the 时序进度
    ("40", 10, 30, "绿"),       # ahead
    ("15", 10, 30, "绿"),       # exactly the yellow margin behind: not beyond it
    ("14.99", 10, 30, "黄"),
    ("-5", 10, 30, "黄"),       # exactly the red margin behind
    ("-5.01", 10, 30, "红"),
    ("24.99", 0, 30, "黄"),     # yellow margin 0: anything behind is yellow (SPEC §4.4)
    ("25", 0, 30, "绿"),
    ("19.99", 5, 5, "红"),      # equal margins: no yellow band
    ("20", 5, 5, "绿"),
])
def test_flags_at_the_margins(rate: str, yellow: int, red: int, flag: str) -> None:
    assert flag_for(Decimal(rate), Decimal(25), yellow, red) == flag


def test_no_plan_no_flag() -> None:
    assert flag_for(None, Decimal(25), 10, 30) is None


def test_totals_rates_and_gaps_by_hand() -> None:
    progress = compute_progress(office(), "2022-03", issue=3, issued=date(2022, 4, 8))
    total = progress.total
    # 2800 万元 planned, 49 + 300 + 100 = 449 done: 16.0357…% → 16.0; gap −8.96… → −9.0
    assert (total.count, total.annual_plan_yi, total.year_completed_yi) == (
        5, Decimal("0.28"), Decimal("0.04"))
    assert (total.rate, total.gap, total.flag) == (Decimal("16.0"), Decimal("-9.0"), "绿")
    # 本月 only from rows of this very period: 20 + 40 (project 4's February row is not March's)
    assert total.month_completed_yi == Decimal("0.01")
    assert (progress.benchmark, progress.period_label, progress.title_period) == (
        Decimal("25.0"), "1—3月", "2022年1—3月")
    assert (progress.issue, progress.issued_text, progress.period_end_text) == (
        3, "2022年4月8日", "2022年3月31日")
    assert progress.unreported == 1  # project 4 carried from February


def test_groups_by_stage_sector_county_and_unit() -> None:
    progress = compute_progress(office(), "2022-03")
    stages = {g.name: (g.count, g.rate, g.flag) for g in progress.stages}
    assert stages == {"新开工": (3, Decimal("3.3"), "黄"),  # 49 / 1500: 21.7 points behind
                      "续建": (1, Decimal("30.0"), "绿"),
                      "竣工": (1, Decimal("33.3"), "绿")}
    sectors = {g.name: (g.count, g.rate) for g in progress.sectors}
    assert sectors["生态环保"] == (1, Decimal("0.0"))  # the 预备 project is not 实施
    assert [(g.rank, g.name, g.rate) for g in progress.counties] == [
        (1, "鱼峰区", Decimal("33.3")), (2, "柳南区", Decimal("20.0")),  # 300 / 1500
        (3, "城中区", Decimal("4.9"))]  # 49 / 1000
    assert [(g.rank, g.name, g.count) for g in progress.units] == [
        (1, SCHOOL, 1), (2, PARK, 2), (3, ROAD, 2)]
    assert progress.counties[2].gap_text == "低于时序进度20.1个百分点"
    assert progress.counties[2].flag_color == "FFEB9C"


def test_rounding_is_half_up_once() -> None:
    progress = compute_progress(office(), "2022-03")
    first = next(g for g in progress.lagging if g.id == "ZD2022-0001")
    assert first.rate == Decimal("12.3")  # exactly 12.25 %
    assert first.gap == Decimal("-12.8")  # exactly −12.75


def test_ties_share_a_rank() -> None:
    master = office()
    master.ledger[0] = row("ZD2022-0001", year="200", started="是")  # 城中区 200 / 1000, as 柳南区
    progress = compute_progress(master, "2022-03")
    assert [(g.rank, g.name) for g in progress.counties] == [
        (1, "鱼峰区"), (2, "城中区"), (2, "柳南区")]


def test_starts_completions_and_lagging() -> None:
    progress = compute_progress(office(), "2022-03")
    starts = progress.starts
    assert (starts.planned, starts.done, starts.rate, starts.due, starts.due_done) == (
        3, 1, Decimal("33.3"), 2, 1)
    assert [o.id for o in starts.overdue] == ["ZD2022-0002"]
    assert starts.overdue[0].planned_start == "2022年2月"
    done = progress.completions
    assert (done.planned, done.done, done.rate, done.due) == (1, 0, Decimal("0.0"), 1)
    assert [o.id for o in done.overdue] == ["ZD2022-0005"]
    lagging = {g.id: g.reasons for g in progress.lagging}
    # project 3 (planned for June) is not judged on investment yet
    assert lagging == {
        "ZD2022-0002": ["投资完成率低于时序进度25.0个百分点", "逾期未开工"],
        "ZD2022-0001": ["投资完成率低于时序进度12.8个百分点"],
        "ZD2022-0005": ["逾期未竣工"],
    }
    assert [g.id for g in progress.lagging] == ["ZD2022-0002", "ZD2022-0001", "ZD2022-0005"]


def test_issues_preparatory_and_returns() -> None:
    progress = compute_progress(office(), "2022-03")
    assert [(i.project_name, i.unit, i.problems, i.coordination) for i in progress.issues] == [
        ("测试项目1", ROAD, "征地拆迁滞后", "请市自然资源局协调用地")]
    prep = progress.preparatory
    assert (prep.count, prep.permits_done, prep.permits_required, prep.permit_rate, prep.ready) == (
        1, 3, 5, Decimal("60.0"), 0)
    assert [(p.name, p.done, p.in_progress, p.not_started, p.not_applicable)
            for p in prep.permits][2] == ("用地许可", 0, 1, 0, 0)
    returns = progress.returns
    assert (returns.expected, returns.submitted, returns.on_time, returns.on_time_rate) == (
        3, 2, 1, Decimal("33.3"))
    assert (returns.missing, returns.late, returns.missing_text) == ([PARK], [SCHOOL], PARK)
    assert [(u.unit, u.submitted, u.on_time, u.passed) for u in returns.units] == [
        (ROAD, "是", "按时", "是"), (PARK, "否", "—", "—"), (SCHOOL, "是", "逾期", "是")]


def test_a_period_outside_the_year_is_refused() -> None:
    with pytest.raises(UsageError, match="不在台账的计划年度 2022 年内") as caught:
        compute_progress(office(), "2023-01")
    assert caught.value.field is Field.PERIOD


def test_bulletin_log_round_trip() -> None:
    log = parse_bulletin_log("2022-02=2, 2022-01=1，乱写")
    assert log == {"2022-01": 1, "2022-02": 2}
    assert format_bulletin_log(log) == "2022-01=1,2022-02=2"


def test_every_field_is_described() -> None:
    rows = field_reference()
    assert all(meaning for _, _, meaning in rows), [p for p, _, m in rows if not m]
    paths = {path for path, _, _ in rows}
    assert {"total.rate", "counties[].flag_color", "starts.overdue[].name",
            "returns.units[].on_time", "preparatory.permits[].done", "title_period"} <= paths


# ---- 红黄绿 by ratio of the 时序进度 (the default), and never green when overdue ----------

@pytest.mark.parametrize(("rate", "flag"), [
    ("25", "绿"), ("20", "绿"),  # at the 时序进度, and exactly 80 % of it
    ("19.99", "黄"), ("12.5", "黄"),  # below 80 %, down to exactly 50 %
    ("12.49", "红"), ("0", "红"),  # below 50 % of 25 %: red in March, too
])
def test_bands_by_ratio_work_in_march(rate: str, flag: str) -> None:
    assert Bands().flag(Decimal(rate), Decimal(25)) == flag


def test_in_march_red_appears_by_ratio_but_never_by_thirty_points() -> None:
    # 时序进度 25 %: 30 points below is −5 %, so by points nothing can ever be red.
    assert Bands(FlagMethod.POINTS).flag(Decimal(0), Decimal(25)) == "黄"
    assert Bands().flag(Decimal(0), Decimal(25)) == "红"
    assert Bands().flag(Decimal(0), Decimal(0)) == "绿"  # nothing due yet


def test_the_default_rule_is_by_ratio_and_said_in_words() -> None:
    master = office()
    master.settings.flag_method = FlagMethod.RATIO
    progress = compute_progress(master, "2022-03")
    assert progress.flag_rule_text == ("完成率达到时序进度的80%及以上为绿色，不足80%为黄色，"
                                       "不足50%为红色")
    # 16.0 % of 25 % is 64 %: yellow; 新开工 3.3 % is 13 %: red; the 县区 城中区 4.9 %: red
    assert (progress.total.flag, progress.stages[0].flag) == ("黄", "红")
    assert {c.name: c.flag for c in progress.counties}["城中区"] == "红"
    assert new_master(2022).settings.flag_method is FlagMethod.RATIO


def test_overdue_projects_are_never_green() -> None:
    # project 5 (竣工, planned March, not finished) is at 33.3 %, above the 时序进度 25 %
    for method in FlagMethod:
        master = office()
        master.settings.flag_method = method
        progress = compute_progress(master, "2022-03")
        overdue = {o.id: o.flag for o in progress.completions.overdue + progress.starts.overdue}
        assert overdue["ZD2022-0005"] == "黄"
        assert all(flag in ("黄", "红") for flag in overdue.values())
        assert {g.id: g.flag for g in progress.lagging}["ZD2022-0005"] == "黄"


# ---- freshness: carried-over figures are never passed off as current -----------------------

def test_carried_over_figures_are_counted_and_said() -> None:
    progress = compute_progress(office(), "2022-03")
    fresh = progress.freshness
    # project 4 (柳南区人民政府) has only February's row
    assert (fresh.current, fresh.carried_projects, fresh.never_reported) == (5, 1, 0)
    assert (fresh.carried_units, fresh.from_months) == ([PARK], ["2月"])
    assert fresh.text == ("3月有1个牵头单位的1个项目未报送本月数据（含未通过校验），"
                          "这些项目沿用2月数据。")
    units = {g.name: (g.carried, g.data_note) for g in progress.units}
    assert units == {SCHOOL: (0, ""), PARK: (1, "1个项目沿用2月数据"), ROAD: (0, "")}
    assert (progress.total.carried, progress.total.data_note) == (1, "1个项目沿用2月数据")


def test_projects_without_any_row_this_year_are_said_so() -> None:
    master = office()
    master.ledger = [e for e in master.ledger if e.project_id != "ZD2022-0004"]
    master.ledger.append(row("ZD2022-0002", period="2022-01", started="否"))
    master.ledger = [e for e in master.ledger if not (e.project_id == "ZD2022-0002"
                                                      and e.period == "2022-03")]
    fresh = compute_progress(master, "2022-03").freshness
    assert (fresh.carried_projects, fresh.never_reported, fresh.from_months) == (2, 1, ["1月"])
    assert "其中1个项目沿用1月数据，1个项目本年尚无报送数据，按未完成计。" in fresh.text
    assert compute_progress(master, "2022-03").units[-1].data_note  # ranked groups say it


def test_all_current_says_so() -> None:
    master = office()
    master.ledger.append(row("ZD2022-0004", year="400", month="100", started="是"))
    assert compute_progress(master, "2022-03").freshness.text == "全部项目数据均为3月报送。"
