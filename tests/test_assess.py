"""考核: the four indicators, the weighted score and the rank, against figures worked by hand."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from conftest import project, run_zdxm
from zdxm_xl.assess import assess
from zdxm_xl.books.masterio import create_master
from zdxm_xl.core.errors import MasterError
from zdxm_xl.core.master import Master, MemoryStore, new_master
from zdxm_xl.core.models import LedgerEntry, Submission, Unit
from zdxm_xl.core.results import to_json
from zdxm_xl.plan import promote_project

A, B, C, D_, E, F = ("市交通运输局", "市住房城乡建设局", "市教育局", "市水利局", "市林业局",
                     "市水务投资集团")


def entry(period: str, number: int, unit: str, year: int | None = None, **fields: object
          ) -> LedgerEntry:
    return LedgerEntry(period=period, project_id=f"ZD2022-{number:04d}", unit=unit,
                       year_completed=None if year is None else D(year), **fields)


def sent(period: str, unit: str, on_time: bool, result: str = "已合并") -> Submission:
    month = int(period[5:])
    day = datetime(2022, month + 1, 3 if on_time else 9, 10, 0)
    return Submission(period=period, unit=unit, file_name=f"{period}_{unit}.xlsx",
                      sha256=hashlib.sha256(f"{period}{unit}{result}".encode()).hexdigest(),
                      received_at=day, processed_at=day, result=result,
                      on_time="是" if on_time else "否")


def plan() -> Master:
    """Six 牵头单位, each showing one rule of 考核办法 (see the test for the arithmetic)."""
    master = new_master(2022)
    master.settings.city = "柳州市"
    master.projects = [
        # A: a 新开工 due in February, a 续建 not reported in March, a 竣工 due in March,
        #    a 新开工 due only in June.
        project(1, "新开工", annual="1000", units=(A,), planned_start=date(2022, 2, 1)),
        project(2, "续建", annual="3000", units=(A,)),
        project(3, "竣工", annual="500", units=(A,), planned_end=date(2022, 3, 1)),
        project(4, "新开工", annual="1000", units=(A,), planned_start=date(2022, 6, 1)),
        # B: over-completion; a project exited in February; a 增补 project of April.
        project(5, "续建", annual="2000", units=(B,)),
        project(6, "续建", annual="1000", units=(B,), status="已退出",
                exit_date=date(2022, 2, 15), exit_reason="无法实施"),
        project(7, "新开工", annual="600", units=(B,), batch="第一批增补",
                batch_date=date(2022, 4, 10), planned_start=date(2022, 3, 1)),
        # C: a 预备 project, and one promoted to 新开工 in May.
        project(8, "预备", units=(C,)),
        project(9, "预备", total="5000", units=(C,)),
        # D and F: a 竣工 project without 计划竣工时间, nothing reported.
        project(10, "竣工", annual="400", units=(D_,)),
        project(11, "竣工", annual="400", units=(F,)),
        # E: its only project exited in February.
        project(12, "续建", annual="800", units=(E,), status="已退出",
                exit_date=date(2022, 2, 15), exit_reason="无法实施"),
    ]
    master.units = [Unit(name=n, category="市直部门") for n in (A, B, C, D_, E)]
    master.units.append(Unit(name=F, category="国有企业"))
    master.ledger = [
        entry("2022-03", 1, A, 300, started="是", start_date=date(2022, 3, 5)),
        entry("2022-02", 2, A, 900),
        entry("2022-03", 3, A, 250, completed="否"),
        entry("2022-03", 4, A, 100, started="否"),
        entry("2022-03", 5, B, 2400),
        entry("2022-02", 6, B, 500),
        entry("2022-02", 12, E, 400),
    ]
    master.submissions = [
        sent("2022-01", A, True), sent("2022-02", A, False), sent("2022-03", A, True),
        sent("2022-01", B, True), sent("2022-02", B, True), sent("2022-03", B, True, "未通过"),
        sent("2022-01", C, True), sent("2022-02", C, True), sent("2022-03", C, True),
        sent("2022-01", E, True),
    ]
    return master


PROMOTION = ("ZD2022-0009", "2022-05-01", "800")  # #9 becomes 新开工 in May


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """The plan as the office's workbook, for what the command line and the file show."""
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, plan())
    promote_project(path, *PROMOTION)
    return path


@pytest.fixture
def store(tmp_path: Path) -> MemoryStore:
    """The same plan kept in memory, for the arithmetic."""
    kept = MemoryStore(plan(), tmp_path)
    promote_project(kept, *PROMOTION)
    return kept


def figures(data: dict) -> dict[str, tuple]:
    return {u["unit"]: (u["rank"], u["investment"]["percent"], u["start"]["percent"],
                        u["completion"]["percent"], u["timeliness"]["percent"], u["score"])
            for u in data["units"]}


def test_assessment_of_the_first_quarter_matches_the_hand_computation(store: MemoryStore) -> None:
    data = to_json(assess(store, "2022-01", "2022-03"))
    assert store.saves == 1  # the promotion only: assessing writes nothing
    assert data["weights"] == {"investment": 40, "start": 20, "completion": 20, "timeliness": 20,
                               "problems": 0}  # 问题办结率: off until the office gives it a weight
    assert (data["benchmark"], data["ceiling"]) == ("25.00", 100)  # 时序进度 of March: 3/12
    # A  投资: (300 + 900 carried from Feb + 250 + 100) / (1000 + 3000 + 500 + 1000)
    #        = 1550 / 5500 = 28.1818…%, which is 112.73 % of the 时序进度 25 % → scores 100 %
    #    开工: #1 due (Feb ≤ Mar) and started; #4 due in June only → 1/1 = 100%
    #    竣工: #3 due in March, not finished → 0/1 = 0%
    #    及时: Jan 按时, Feb 逾期, Mar 按时 → 2/3 = 66.67%
    #    得分: (40 × 1 + 20 × 1 + 20 × 0 + 20 × 2/3) / 100 × 100 = 73.333… → 73.33
    # B  投资: only #5: 2400 / 2000 = 120.00% (#6 exited in Feb, #7 joins in April) → 100 %
    #    开工, 竣工: nothing due → not applicable, their weights go to the others
    #    及时: Jan, Feb on time; March's only file failed the checks (未通过) → 2/3
    #    得分: (40 × 1 + 20 × 2/3) / (40 + 20) × 100 = 53.333… / 60 × 100 → 88.89
    # C  only 预备 projects in March (#9 becomes 新开工 in May): 不参评, though 及时 3/3
    # D  投资 0 / 400 = 0%; 竣工 due in December only; 及时 0/3 → 得分 0.00
    # E  #12 exited 2022-02-15: nothing to assess in March: 不参评 (及时 1/2)
    # F  as D → 0.00, but a 国有企业: first of its own group.
    assert figures(data) == {
        B: (1, "120.00", None, None, "66.67", "88.89"),
        A: (2, "28.18", "100.00", "0.00", "66.67", "73.33"),
        D_: (3, "0.00", None, None, "0.00", "0.00"),
        F: (3, "0.00", None, None, "0.00", "0.00"),
        C: (None, None, None, None, "100.00", None),
        E: (None, None, None, None, "50.00", None),
    }
    groups = {u["unit"]: (u["category"], u["rated"], u["group_rank"]) for u in data["units"]}
    assert groups == {B: ("市直部门", True, 1), A: ("市直部门", True, 2), D_: ("市直部门", True, 3),
                      C: ("市直部门", False, None), E: ("市直部门", False, None),
                      F: ("国有企业", True, 1)}
    assert [u["unit"] for u in data["units"]] == [B, A, D_, C, E, F]
    first = next(u for u in data["units"] if u["unit"] == A)
    assert first["investment"] == {"percent": "28.18", "completed": "1550.00", "plan": "5500.00",
                                   "versus_benchmark": "112.73"}
    assert first["start"] == {"percent": "100.00", "started": 1, "due": 1}
    assert first["completion"] == {"percent": "0.00", "completed": 0, "due": 1}
    assert first["timeliness"] == {"percent": "66.67", "on_time": 2, "expected": 3}
    assert (first["projects"], first["carried"]) == (4, 1)  # #2 carries February's figures
    assert first["weights_used"] == {"investment": "40.00", "start": "20.00",
                                     "completion": "20.00", "timeliness": "20.00"}
    second = next(u for u in data["units"] if u["unit"] == B)
    assert second["weights_used"] == {"investment": "66.67", "timeliness": "33.33"}
    assert next(u for u in data["units"] if u["unit"] == E)["timeliness"]["expected"] == 2
    assert "权重按比例分给其余适用指标" in data["rule"] and "不参评" in data["rule"]


def test_assess_json_is_the_library_result(master: Path) -> None:
    result = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == to_json(assess(master, "2022-01", "2022-03"))
    assert figures(data)[A] == (2, "28.18", "100.00", "0.00", "66.67", "73.33")


def test_units_on_schedule_score_alike_whichever_indicators_apply(tmp_path: Path) -> None:
    """Two units equally on schedule score the same, whether a start is due or not; a unit
    with a start due and missed scores below one with no start due (issue: units without an
    applicable indicator outranked those with one)."""
    master = new_master(2022)
    units = ("市甲局", "市乙局", "市丙局")
    master.units = [Unit(name=n, category="市直部门") for n in units]
    master.projects = [
        project(1, "续建", annual="1200", units=(units[0],)),
        project(2, "续建", annual="1200", units=(units[1],)),
        project(3, "新开工", annual="1200", units=(units[1],), planned_start=date(2022, 2, 1)),
        project(4, "续建", annual="1200", units=(units[2],)),
        project(5, "新开工", annual="1200", units=(units[2],), planned_start=date(2022, 2, 1)),
    ]
    master.ledger = [entry("2022-03", 1, units[0], 300), entry("2022-03", 2, units[1], 300),
                     entry("2022-03", 3, units[1], 300, started="是"),
                     entry("2022-03", 4, units[2], 300), entry("2022-03", 5, units[2], 300,
                                                               started="否")]
    master.submissions = [sent(p, u, True) for p in ("2022-01", "2022-02", "2022-03")
                          for u in units]
    result = assess(MemoryStore(master, tmp_path), "2022-01", "2022-03")
    # 300 of 1200 by March is exactly the 时序进度 (25 %): on schedule
    assert result.unit(units[0]).score == result.unit(units[1]).score == D("100.00")
    # the third missed a start that was due: (40 × 1 + 20 × 0 + 20 × 1) / 80 × 100
    assert result.unit(units[2]).score == D("75.00")
    assert result.unit(units[2]).group_rank == 3


def test_a_ceiling_above_100_rewards_over_completion(store: MemoryStore) -> None:
    store.master.settings.score_ceiling = 120
    result = assess(store, "2022-01", "2022-03")
    # B: 120 % done against 25 % due is 480 %, scored 120 %: (40 × 1.2 + 20 × 2/3) / 60 × 100
    assert result.unit(B).score == D("102.22")
    assert "最高按120%计" in result.rule


def test_a_promoted_project_counts_as_a_new_start_from_its_month(store: MemoryStore) -> None:
    # C to May: #9 is 新开工 (promoted 2022-05-01, 计划开工 2022-05) with 800 planned and
    # nothing reported: 投资 0/800 = 0%, 开工 0/1 = 0%; 及时 Jan–Mar on time, Apr–May
    # missing → 3/5 = 60%. 得分 (40 × 0 + 20 × 0 + 20 × 0.6) / 80 × 100 = 15.00.
    unit = assess(store, "2022-01", "2022-05").unit(C)
    assert (unit.investment.percent, unit.start.percent, unit.completion.percent,
            unit.timeliness.percent, unit.score) == (D("0.00"), D("0.00"), None, D("60.00"),
                                                     D("15.00"))
    # B to May: #7 (增补, April) now counts: 投资 2400 / (2000 + 600) = 92.31%;
    # 开工: #7 due in March, not reported → 0/1.
    later = assess(store, "2022-04", "2022-05").unit(B)
    assert (later.investment.percent, later.start.percent) == (D("92.31"), D("0.00"))


def test_weights_come_from_the_settings(store: MemoryStore) -> None:
    store.master.settings.weight_investment, store.master.settings.weight_timeliness = 100, 0
    # A: (100 × 1 + 20 × 1 + 20 × 0) / 140 × 100 = 85.714… → 85.71
    result = assess(store, "2022-01", "2022-03")
    assert result.unit(A).score == D("85.71")
    assert (result.unit(C).score, result.unit(C).rank, result.unit(C).rated) == (None, None, False)


def test_no_performance_weight_is_refused(store: MemoryStore) -> None:
    settings = store.master.settings
    settings.weight_investment = settings.weight_start = settings.weight_completion = 0
    with pytest.raises(MasterError, match="投资完成率、开工率、竣工率、问题办结率的考核权重都为 0"):
        assess(store, "2022-01", "2022-03")


def test_the_workbook_is_print_ready(store: MemoryStore, tmp_path: Path) -> None:
    out = tmp_path / "考核结果.xlsx"
    assert assess(store, "2022-01", "2022-03", out).output == out
    ws = openpyxl.load_workbook(out)["考核结果"]
    assert ws["A1"].value == "柳州市2022年重大项目责任单位考核结果"
    assert "2022年1月至2022年3月" in ws["A2"].value and "时序进度25.00%" in ws["A2"].value
    assert [c.value.replace("\n", "") for c in ws[3]] == [  # headers break before （
        "组内排名", "牵头单位", "年度计划投资（万元）", "本年累计完成投资（万元）", "投资完成率",
        "为时序进度的", "计划开工（项）", "已开工（项）", "开工率", "计划竣工（项）", "已竣工（项）",
        "竣工率", "应报送（次）", "按时报送（次）", "报送及时率", "得分", "备注"]
    column_a = [ws.cell(r, 1).value for r in range(4, 13)]
    assert column_a == ["一、市直部门（5个单位，参评3个）", 1, 2, 3, "不参评", "不参评",
                        "二、国有企业（1个单位，参评1个）", 1, None]
    rows = {ws.cell(r, 2).value: [c.value for c in ws[r]] for r in range(5, 12)}
    a = rows[A]
    assert a[0] == 2 and a[2] == 5500 and a[3] == 1550
    assert a[4] == pytest.approx(0.2818) and a[5] == pytest.approx(1.1273)
    assert ws.cell(6, 5).number_format == "0.00%"
    assert a[15] == pytest.approx(73.33) and a[16] == "1个项目数据沿用以前月份"
    assert rows[C][15] == "—" and rows[C][16].startswith("不参评")
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$3:$3"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert {"A1:Q1", "A2:Q2", "A4:Q4"} <= {str(r) for r in ws.merged_cells.ranges}
    notes = " ".join(str(ws.cell(r, 1).value) for r in range(12, 20))
    assert "得分＝100×" in notes and "不参评" in notes and "按单位类别" in notes


def test_assess_writes_the_workbook_it_names(master: Path, tmp_path: Path) -> None:
    out = tmp_path / "考核结果.xlsx"
    result = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03", "-o", out)
    assert result.code == 0, result.stderr
    assert f"已写出考核表：{out}" in result.stdout
    ws = openpyxl.load_workbook(out)["考核结果"]
    assert ws["A1"].value == "柳州市2022年重大项目责任单位考核结果"


def test_assess_prints_a_table_per_group(master: Path) -> None:
    result = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03")
    assert result.code == 0, result.stderr
    assert "2022年重大项目考核（2022-01 至 2022-03，时序进度 25.00%）" in result.stdout
    assert "市直部门（5个单位）" in result.stdout and "国有企业（1个单位）" in result.stdout
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["2", A, "28.18%", "112.73%", "100.00%", "0.00%", "66.67%", "73.33"] in lines
    assert ["—", C, "—", "—", "—", "—", "100.00%", "不参评"] in lines
    assert "权重为投资完成率40、开工率20、竣工率20、报送及时率20" in result.stdout


@pytest.mark.parametrize(("args", "words"), [
    (("--from", "2022-04", "--to", "2022-03"), "考核起始报告期 2022-04 晚于截止报告期 2022-03"),
    (("--from", "2022-01", "--to", "2023-03"), "报告期 2023-03 不在台账的计划年度 2022 年内。（--to）"),
    (("--from", "2022-1x", "--to", "2022-03"), "报告期“2022-1x”无效，请写成 2022-03 的形式。（--from）"),
    (("--from", "2022-01", "--to", "2022-03", "-o", "考核.xls"), "应为 .xlsx 文件"),
    (("--from", "2022-01"), "缺少选项"),
])
def test_assess_arguments_are_checked(master: Path, args: tuple[str, ...], words: str) -> None:
    result = run_zdxm("assess", master, *args)
    assert result.code == 2 and words in result.stderr, result.stderr


def test_weights_that_cannot_score(store: MemoryStore) -> None:
    for name in ("weight_investment", "weight_start", "weight_completion", "weight_timeliness"):
        setattr(store.master.settings, name, 0)
    with pytest.raises(MasterError, match="各项考核权重都为 0"):
        assess(store, "2022-01", "2022-03")


def test_the_method_is_documented_in_chinese() -> None:
    from zdxm_xl.core.registry import SETTINGS
    from zdxm_xl.reports.assessment import INDICATORS

    page = (Path(__file__).resolve().parents[1] / "docs" / "考核办法.md").read_text(encoding="utf-8")
    headers = {c.field: c.header for c in SETTINGS}
    for _, name, setting in INDICATORS:
        assert f"**{name}**" in page
        assert headers[setting] in page
    assert "73.33" in page  # the worked example is the one the tests check
    for words in ("不参评", "时序进度", "单位类别", "按比例分给其余适用指标"):
        assert words in page
