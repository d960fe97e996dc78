from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from checking_office import UNIT, build_master
from conftest import run_zdxm
from zdxm_xl.books.masterio import load_master
from zdxm_xl.core.results import to_json
from zdxm_xl.core.summary import summarize
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.reports.forms import form_name


def test_init_creates_an_empty_master_for_the_year(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    result = run_zdxm("init", path, "--year", "2023")
    assert result.code == 0, result.stderr
    assert "已创建台账" in result.stdout
    assert load_master(path).year == 2023


def test_summary_json_is_the_library_result(master_path: Path) -> None:
    result = run_zdxm("plan", "summary", master_path, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == to_json(summarize(load_master(master_path)))
    rows = {(r["stage"], r["sector"]): r for r in data["rows"]}
    assert len(rows) == 25
    assert rows[(None, None)] == {"stage": None, "sector": None, "count": 3,
                                  "total_investment": "1.58", "annual_plan": "0.33"}
    assert rows[("预备", None)]["annual_plan"] is None
    assert rows[("预备", "生态环保")]["total_investment"] == "1.23"


def test_summary_prints_the_plans_own_words(master_path: Path) -> None:
    result = run_zdxm("plan", "summary", master_path)
    assert result.code == 0
    words = "实施项目分为新开工、续建和竣工三类共3项，项目总投资1.58亿元，年度计划投资0.33亿元"
    assert words in result.stdout
    assert "新开工项目1项，总投资1.00亿元，年度计划投资0.20亿元。" in result.stdout
    assert "按行业分：基础设施项目1项" in result.stdout


def test_summary_write_refreshes_the_summary_sheet(master_path: Path) -> None:
    result = run_zdxm("plan", "summary", master_path, "--write")
    assert result.code == 0, result.stderr
    sheet = openpyxl.load_workbook(master_path)["汇总"]
    rows = [[c.value for c in row][:5] for row in sheet.iter_rows(min_row=1, max_row=3)]
    assert rows[0] == ["阶段", "行业分类", "项目数", "总投资（亿元）", "年度计划投资（亿元）"]
    assert rows[1][:3] == ["实施项目合计", "合计", 3]
    assert str(rows[1][3]) == "1.58"
    assert "PlanSummary" in sheet.tables
    load_master(master_path)  # still a valid master


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("plan", "summary", "不存在.xlsx"), 2, "找不到台账文件"),
        (("plan", "summary"), 2, "参数有误：缺少参数"),
        (("init", "x.xlsx", "--year", "abc"), 2, "参数有误"),
        (("plan", "nothing"), 2, "没有这个命令"),
    ],
)
def test_bad_calls_say_why_in_chinese_without_a_traceback(tmp_path: Path, monkeypatch,
                                                          args: tuple[str, ...], code: int,
                                                          message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_zdxm(*args)
    assert result.code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_file_that_is_not_a_master_exits_2_with_one_line(tmp_path: Path) -> None:
    other = tmp_path / "别的.xlsx"
    openpyxl.Workbook().save(other)
    result = run_zdxm("plan", "summary", other)
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "不是 zdxm 台账" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="找不到台账文件"):
        run_zdxm("--debug", "plan", "summary", tmp_path / "none.xlsx")


def test_help_is_chinese() -> None:
    result = run_zdxm("--help")
    assert result.code == 0
    assert "用法：" in result.stdout and "命令：" in result.stdout
    assert "Show this message" not in result.stdout


def test_version() -> None:
    from zdxm_xl import __version__

    result = run_zdxm("--version")
    assert result.code == 0 and result.stdout.strip() == f"zdxm-xl {__version__}"


# What ``zdxm`` prints for its arguments, run as the script runs, and which of the command
# line's libraries it loaded meanwhile.
_SCRIPT = """
import sys
from zdxm_xl.__main__ import main
code = main(sys.argv[1:])
loaded = [name for name in ("typer", "rich", "click", "pydantic", "openpyxl") if name in sys.modules]
print(code, loaded)
"""


@pytest.mark.parametrize("args", [["--version"], ["--debug", "--version"]])
def test_version_is_answered_without_loading_the_command_line(args: list[str]) -> None:
    from zdxm_xl import __version__

    done = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True,
                          text=True, encoding="utf-8", check=True)
    assert done.stdout.splitlines() == [f"zdxm-xl {__version__}", "0 []"]


def test_the_script_passes_any_other_command_to_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, "init", str(tmp_path / "台账.xlsx"),
                           "--year", "2023"], capture_output=True, text=True, encoding="utf-8",
                          check=True)
    assert "已创建台账" in done.stdout and done.stdout.splitlines()[-1].startswith("0 [")
    assert load_master(tmp_path / "台账.xlsx").year == 2023
    done = subprocess.run([sys.executable, "-m", "zdxm_xl", "init", "--version"],
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 2 and "参数有误" in done.stderr


@pytest.mark.parametrize("command", ["validate", "merge"])
def test_a_return_is_checked_and_merged_without_loading_openpyxl(tmp_path: Path,
                                                                  command: str) -> None:
    """openpyxl lays workbooks out; reading a master and a return, and saving the rows a
    merge changed, do without it (importing it is some 0.3 s of every such command)."""
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    filled = fill_form(tmp_path / "模板" / form_name("2022-03", UNIT), tmp_path / "收件" / "交通.xlsx",
                       seed=1).path
    done = subprocess.run([sys.executable, "-c", _SCRIPT, command, str(master), str(filled),
                           "--period", "2022-03"], capture_output=True, text=True,
                          encoding="utf-8", check=True)
    code, loaded = done.stdout.splitlines()[-1].split(" ", 1)
    assert code == "0", done.stdout + done.stderr
    assert "typer" in loaded and "pydantic" in loaded and "openpyxl" not in loaded
    march = [e for e in load_master(master).ledger if e.period == "2022-03"]
    assert len(march) == (4 if command == "merge" else 0)
