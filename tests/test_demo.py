"""``zdxm demo`` from start to end: every output exists and agrees with the ledger."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from conftest import run_zdxm
from zdxm_xl.books.masterio import load_master
from zdxm_xl.core.money import to_yi
from zdxm_xl.core.results import to_json
from zdxm_xl.core.returns import submission_status
from zdxm_xl.reports.progress import compute_progress

pytestmark = pytest.mark.slow  # the whole demo: about 30 s


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "演示"
    result = run_zdxm("demo", folder)
    assert result.code == 0, result.stderr
    return folder, result.stdout


def test_the_demo_reports_what_happened_and_where(demo) -> None:
    folder, stdout = demo
    for step in ("建立台账", "1月月报", "2月月报", "问题交办", "3月模板", "3月校验", "3月合并",
                 "3月简报", "3月督办", "3月报送情况"):
        assert step in stdout
    # the unit that tampered with its template sent a file: 未通过, not 未报送
    assert "应报 56 个单位；未报送 1、逾期 1、未通过 5" in stdout
    assert (folder / "重大项目台账.xlsx").is_file()


def test_every_output_exists(demo) -> None:
    folder, _ = demo
    assert len(list((folder / "输出" / "模板" / "2022-03").glob("*.xlsx"))) == 56
    annotated = folder / "输出" / "校验结果" / "2022-03"
    assert len(list(annotated.glob("*_校验结果.xlsx"))) == 55
    assert len(list(annotated.glob("*_回执.txt"))) == 55
    bulletins = folder / "输出" / "简报" / "2022-03"
    assert (bulletins / "重大项目建设简报_2022年第1期.docx").is_file()
    assert (bulletins / "重大项目推进情况通报_2022-03.xlsx").is_file()
    if shutil.which("soffice"):
        assert (bulletins / "重大项目建设简报_2022年第1期.pdf").is_file()
    assert any((folder / "归档" / "2022-03").iterdir())


def test_the_mistakes_are_caught_as_planned(demo) -> None:
    folder, _ = demo
    receipts = {p.name: p.read_text(encoding="utf-8")
                for p in (folder / "输出" / "校验结果" / "2022-03").glob("*_回执.txt")}
    failed = [text for text in receipts.values() if "校验未通过" in text]
    assert len(failed) == 6
    joined = "\n".join(failed)
    for words in ("本年累计完成投资应为", "不是数字", "没有填写实际开工时间",
                  "这是2022年2月的模板", "这份文件不是我办发出的原模板，或被改动过",
                  "是否误填为元？"):
        assert words in joined
    assert "校验码" not in joined and "系统信息" not in joined
    # one mistake, one finding: each failed file has exactly one error
    assert all("错误 1 处" in text for text in failed)
    # the tampered file's 回执 is addressed to the unit its name gives
    tampered = next(t for t in failed if "被改动过" in t)
    assert not tampered.startswith("报送单位") and tampered.split("：")[0].endswith("有限公司")


def test_the_bulletin_agrees_with_the_ledger(demo) -> None:
    folder, _ = demo
    master = load_master(folder / "重大项目台账.xlsx")
    march = [e for e in master.ledger if e.period == "2022-03"]
    assert len({e.unit for e in march}) == 50
    progress = compute_progress(master, "2022-03")
    text = "\n".join(p.text for p in docx.Document(
        folder / "输出" / "简报" / "2022-03" / "重大项目建设简报_2022年第1期.docx").paragraphs)
    assert f"累计完成投资{progress.total.year_completed_yi}亿元" in text
    assert f"的{progress.total.rate}%" in text
    # figures carried over from February are said to be so
    assert progress.freshness.carried_projects > 0 and progress.freshness.text in text
    assert "沿用2月数据" in progress.freshness.text
    # The figure in the 简报 is the exact sum of the latest reported rows, rounded once.
    latest: dict[str, Decimal] = {}
    for entry in sorted(master.ledger, key=lambda e: e.period):
        if entry.year_completed is not None:
            latest[entry.project_id] = entry.year_completed
    active = {p.id for p in master.implementation}
    assert to_yi(sum((v for k, v in latest.items() if k in active), Decimal(0))) == \
        progress.total.year_completed_yi
    status = submission_status(master, "2022-03")
    assert (len(status.missing), len(status.late), len(status.rejected)) == (1, 1, 5)
    # the 元-in-万元 return was refused: no 5144亿, no 600 %
    assert progress.total.rate is not None and progress.total.rate < 100
    book = openpyxl.load_workbook(folder / "输出" / "简报" / "2022-03" /
                                  "重大项目推进情况通报_2022-03.xlsx")
    assert book.sheetnames


def test_problems_travel_from_returns_to_notices(demo) -> None:
    """February's returns raise problems, the office assigns them, March's forms carry them,
    some close, and one past its 时限 is in a 督办通知单."""
    folder, stdout = demo
    master = load_master(folder / "重大项目台账.xlsx")
    raised = {p.opened for p in master.problems}
    assert raised == {"2022-01", "2022-02", "2022-03"}
    february = [p for p in master.problems if p.opened == "2022-02"]
    assert february and all(p.unit and p.due for p in february)  # assigned by the office
    assert {p.status for p in master.problems if p.opened == "2022-03"} == {"待交办"}
    closed = [p for p in master.problems if p.status == "已办结"]
    events = {c.event for c in master.problem_log}
    assert {"提出", "续报", "进展", "交办", "办结", "督办"} <= events
    by_unit = [c for c in master.problem_log if c.event == "办结" and c.field == "状态"
               and c.period == "2022-03"]
    assert by_unit and closed  # March's forms closed some: as of 3月31日
    assert all(p.closed is not None for p in closed)
    office = [c for c in master.problem_log if c.event == "办结" and c.operator == "项目科 韦工"]
    assert [c.field for c in office] == ["状态", "办结日期", "最新进展"]  # closed by the office
    carried = [p for p in (folder / "输出" / "模板" / "2022-03").glob("*.xlsx")
               if "问题跟踪" in openpyxl.load_workbook(p, read_only=True).sheetnames]
    assert len(carried) >= 10
    notices = sorted((folder / "输出" / "督办通知" / "2022-03").glob("*_督办通知单.docx"))
    assert notices and "督办通知：" in stdout
    overdue = next(p for p in master.problems if p.status == "办理中" and p.due is not None
                   and p.due.isoformat() == "2022-03-31")
    holder = next(n for n in notices if overdue.unit and overdue.unit in n.name)
    cells = {c.text for t in docx.Document(str(holder)).tables for r in t.rows for c in r.cells}
    assert overdue.id in cells and "逾期8天" in cells


def test_the_demo_never_overwrites(demo) -> None:
    folder, _ = demo
    again = run_zdxm("demo", folder)
    assert again.code == 2 and "已存在且不为空" in again.stderr


def test_two_runs_give_the_same_ledger_and_figures(demo, tmp_path: Path) -> None:
    """Everything in the story is seeded and dated: a second run, elsewhere, gives the same
    ledger, the same 报送记录 and the same figures, line by line, and the same templates
    and returns, byte for byte."""
    folder, stdout = demo
    second = tmp_path / "又一次"
    again = run_zdxm("demo", second)
    assert again.code == 0, again.stderr
    assert again.stdout.replace(str(second), "X") == stdout.replace(str(folder), "X")
    first, other = load_master(folder / "重大项目台账.xlsx"), load_master(second / "重大项目台账.xlsx")
    assert first.ledger == other.ledger and len(first.ledger) > 2000
    assert first.submissions == other.submissions and first.changes == other.changes
    assert first.problems == other.problems and first.problem_log == other.problem_log
    assert first.projects == other.projects and first.units == other.units
    assert to_json(compute_progress(first, "2022-03")) == to_json(compute_progress(other, "2022-03"))
    receipts = sorted(p.name for p in (folder / "输出" / "校验结果" / "2022-03").iterdir())
    assert receipts == sorted(p.name for p in (second / "输出" / "校验结果" / "2022-03").iterdir())
    for name in (n for n in receipts if n.endswith("_回执.txt")):
        assert (folder / "输出" / "校验结果" / "2022-03" / name).read_text(encoding="utf-8") == \
            (second / "输出" / "校验结果" / "2022-03" / name).read_text(encoding="utf-8")
    for place in ("输出/模板/2022-01", "输出/模板/2022-03", "收件/2022-02", "收件/2022-03"):
        names = sorted(p.name for p in (folder / place).iterdir())  # the same bytes
        assert len(names) > 40
        assert all((folder / place / n).read_bytes() == (second / place / n).read_bytes()
                   for n in names), place


def test_receipts_are_dated_in_the_story_not_today(demo) -> None:
    folder, _ = demo
    receipts = {p.name: p.read_text(encoding="utf-8").rstrip()
                for p in (folder / "输出" / "校验结果" / "2022-03").glob("*_回执.txt")}
    dates = sorted(text.splitlines()[-1] for text in receipts.values())
    assert set(dates) == {"2022年4月4日", "2022年4月8日"}  # the late file is checked on arrival
    late = [t for t in receipts.values() if t.endswith("2022年4月8日")]
    assert len(late) == 1 and "晚于截止日" in late[0]
    assert all("如有疑问，请联系：项目科" in t for t in receipts.values())


@pytest.mark.soffice
def test_the_march_bulletin_is_read_in_four_pages(demo) -> None:
    """The sample's March 简报 (26 pages before): the body in at most four pages, then the
    附件 from new pages, numbers whole in every table, the 版记 at the foot of the last page."""
    from rendering import (
        TYPE_AREA_BOTTOM_PT,
        body_pages,
        pages,
        split_numbers,
        table_numbers,
        words,
    )

    folder, _ = demo
    bulletins = folder / "输出" / "简报" / "2022-03"
    pdf = bulletins / "重大项目建设简报_2022年第1期.pdf"
    texts = pages(pdf)
    assert body_pages(texts) <= 4
    assert "".join(texts[body_pages(texts)].split()).startswith("附件1")
    assert split_numbers(table_numbers(bulletins / "重大项目建设简报_2022年第1期.docx"), pdf) == []
    closing = [w for w in words(pdf) if "印发" in w.text]
    assert [w.page for w in closing] == [len(texts)]
    assert closing[0].bottom > TYPE_AREA_BOTTOM_PT - 15
