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
from zdxm_xl.books.masterio import create_master, load_master, save_master
from zdxm_xl.core.errors import MasterError
from zdxm_xl.core.master import new_master
from zdxm_xl.core.models import LedgerEntry, Submission, Unit
from zdxm_xl.core.results import to_json
from zdxm_xl.plan import promote_project

A, B, C, D_, E, F = ("市交通运输局", "市住房城乡建设局", "市教育局", "市水利局", "市林业局", "市水务局")


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


def build(path: Path) -> Path:
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
    master.units = [Unit(name=n) for n in (A, B, C, D_, E, F)]
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
    create_master(path, 2022, master)
    promote_project(path, "ZD2022-0009", "2022-05-01", "800")
    return path


@pytest.fixture
def master(tmp_path: Path) -> Path:
    return build(tmp_path / "台账.xlsx")


def figures(data: dict) -> dict[str, tuple]:
    return {u["unit"]: (u["rank"], u["investment"]["percent"], u["start"]["percent"],
                        u["completion"]["percent"], u["timeliness"]["percent"], u["score"])
            for u in data["units"]}


def test_assessment_of_the_first_quarter_matches_the_hand_computation(master: Path) -> None:
    result = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == to_json(assess(master, "2022-01", "2022-03"))
    assert data["weights"] == {"investment": 40, "start": 20, "completion": 20, "timeliness": 20}
    # A  投资: (300 + 900 carried from Feb + 250 + 100) / (1000 + 3000 + 500 + 1000)
    #        = 1550 / 5500 = 28.1818…% → 28.18
    #    开工: #1 due (Feb ≤ Mar) and started; #4 due in June only → 1/1 = 100%
    #    竣工: #3 due in March, not finished → 0/1 = 0%
    #    及时: Jan on time, Feb late, Mar on time → 2/3 = 66.67%
    #    得分: (40 × 1550/5500 + 20 × 1 + 20 × 0 + 20 × 2/3) / 100 × 100
    #        = 11.2727… + 20 + 0 + 13.3333… = 44.6060… → 44.61
    # B  投资: only #5: 2400 / 2000 = 120.00% (#6 exited in Feb, #7 joins in April)
    #    开工, 竣工: nothing due → not applicable
    #    及时: Jan, Feb on time; March's only file failed the checks → 2/3 = 66.67%
    #    得分: (40 × min(1.2, 1) + 20 × 2/3) / (40 + 20) × 100 = 53.3333… / 60 × 100 → 88.89
    # C  no 实施 project in March (#9 becomes 新开工 in May); 及时 3/3 = 100% → 得分 100.00
    # D  投资 0 / 400 = 0%; 竣工 due in December only; 及时 0/3 → 得分 0.00
    # E  #12 exited 2022-02-15: nothing to assess in March; reports Jan and Feb only,
    #    Jan on time → 及时 1/2 = 50% → 得分 50.00
    # F  as D → 0.00, sharing D's rank.
    assert figures(data) == {
        C: (1, None, None, None, "100.00", "100.00"),
        B: (2, "120.00", None, None, "66.67", "88.89"),
        E: (3, None, None, None, "50.00", "50.00"),
        A: (4, "28.18", "100.00", "0.00", "66.67", "44.61"),
        D_: (5, "0.00", None, None, "0.00", "0.00"),
        F: (5, "0.00", None, None, "0.00", "0.00"),
    }
    assert [u["unit"] for u in data["units"]] == [C, B, E, A, D_, F]
    first = next(u for u in data["units"] if u["unit"] == A)
    assert first["investment"] == {"percent": "28.18", "completed": "1550.00", "plan": "5500.00"}
    assert first["start"] == {"percent": "100.00", "started": 1, "due": 1}
    assert first["completion"] == {"percent": "0.00", "completed": 0, "due": 1}
    assert first["timeliness"] == {"percent": "66.67", "on_time": 2, "expected": 3}
    assert first["projects"] == 4
    assert next(u for u in data["units"] if u["unit"] == E)["timeliness"]["expected"] == 2


def test_a_promoted_project_counts_as_a_new_start_from_its_month(master: Path) -> None:
    # C to May: #9 is 新开工 (promoted 2022-05-01, 计划开工 2022-05) with 800 planned and
    # nothing reported: 投资 0/800 = 0%, 开工 0/1 = 0%; 及时 Jan–Mar on time, Apr–May
    # missing → 3/5 = 60%. 得分 (40 × 0 + 20 × 0 + 20 × 0.6) / 80 × 100 = 15.00.
    unit = assess(master, "2022-01", "2022-05").unit(C)
    assert (unit.investment.percent, unit.start.percent, unit.completion.percent,
            unit.timeliness.percent, unit.score) == (D("0.00"), D("0.00"), None, D("60.00"),
                                                     D("15.00"))
    # B to May: #7 (增补, April) now counts: 投资 2400 / (2000 + 600) = 92.31%;
    # 开工: #7 due in March, not reported → 0/1.
    later = assess(master, "2022-04", "2022-05").unit(B)
    assert (later.investment.percent, later.start.percent) == (D("92.31"), D("0.00"))


def test_weights_come_from_the_settings(master: Path) -> None:
    book = load_master(master)
    book.settings.weight_investment, book.settings.weight_timeliness = 100, 0
    save_master(book, master)
    # Only 投资 and the two rates weigh now; C has none of them and is unranked.
    # A: (100 × 1550/5500 + 20 × 1 + 20 × 0) / 140 × 100 = 48.1818… / 1.4 = 34.4155… → 34.42
    result = assess(master, "2022-01", "2022-03")
    assert result.unit(A).score == D("34.42")
    assert (result.unit(C).score, result.unit(C).rank) == (None, None)
    assert [u.unit for u in result.units[-2:]] == [C, E]


def test_the_workbook_is_print_ready(master: Path, tmp_path: Path) -> None:
    out = tmp_path / "考核结果.xlsx"
    result = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03", "-o", out)
    assert result.code == 0, result.stderr
    assert f"已写出考核表：{out}" in result.stdout
    ws = openpyxl.load_workbook(out)["考核结果"]
    assert ws["A1"].value == "柳州市2022年重大项目责任单位考核结果"
    assert "2022年1月至2022年3月" in ws["A2"].value and "投资完成率40" in ws["A2"].value
    assert [c.value.replace("\n", "") for c in ws[3]] == [  # headers break before （
        "排名", "牵头单位", "年度计划投资（万元）", "本年累计完成投资（万元）", "投资完成率",
        "计划开工（项）", "已开工（项）", "开工率", "计划竣工（项）", "已竣工（项）", "竣工率",
        "应报送（次）", "按时报送（次）", "报送及时率", "得分"]
    rows = {ws.cell(r, 2).value: [c.value for c in ws[r]] for r in range(4, 10)}
    a = rows[A]
    assert a[0] == 4 and a[2] == 5500 and a[3] == 1550
    assert a[4] == pytest.approx(0.2818) and ws.cell(7, 5).number_format == "0.00%"
    assert a[14] == pytest.approx(44.61)
    assert rows[C][4] == "—" and rows[C][14] == 100
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$3:$3"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert {"A1:O1", "A2:O2"} <= {str(r) for r in ws.merged_cells.ranges}
    assert any("得分＝100×" in str(ws.cell(r, 1).value) for r in range(10, 20))


def test_assess_prints_a_ranked_table(master: Path) -> None:
    result = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03")
    assert result.code == 0, result.stderr
    assert "2022年重大项目考核（2022-01 至 2022-03）" in result.stdout
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["4", A, "28.18%", "100.00%", "0.00%", "66.67%", "44.61"] in lines
    assert "权重：投资完成率40、开工率20、竣工率20、报送及时率20" in result.stdout


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


def test_weights_that_cannot_score(master: Path) -> None:
    book = load_master(master)
    for name in ("weight_investment", "weight_start", "weight_completion", "weight_timeliness"):
        setattr(book.settings, name, 0)
    save_master(book, master)
    with pytest.raises(MasterError, match="四项考核权重都为 0"):
        assess(master, "2022-01", "2022-03")


def test_the_method_is_documented_in_chinese() -> None:
    from zdxm_xl.core.registry import SETTINGS
    from zdxm_xl.reports.assessment import INDICATORS

    page = (Path(__file__).resolve().parents[1] / "docs" / "考核办法.md").read_text(encoding="utf-8")
    headers = {c.field: c.header for c in SETTINGS}
    for _, name, setting in INDICATORS:
        assert f"**{name}**" in page
        assert headers[setting] in page
    assert "44.61" in page  # the worked example is the one the tests check
