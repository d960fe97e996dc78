"""The benchmarks run, at a small size, and print their tables (no timing is asserted:
how fast a machine is, is not a test's business)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_scale_benchmark_prints_its_tables(tmp_path: Path) -> None:
    env = dict(os.environ, ZDXM_BENCH_CACHE=str(tmp_path / "cache"))
    # one reader process, even for so few returns: its CPU time is counted too
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_scale.py"), "--sizes", "3,6",
                           "--masters", "20,40", "--resaved", "", "--workers", "1"],
                          cwd=BENCHMARKS, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("| 报表数 | python-calamine 原始读取（基线） | zdxm validate | zdxm merge")
               for line in lines)
    rows = [line for line in lines if line.startswith(("| 3 |", "| 6 |"))]
    # each size: the ratios, the parts, the CPU time, a return's parts, the growth
    assert len(rows) == 10
    first = rows[0].split("|")
    assert "×" in first[3] and "×" in first[4] and "×" in first[5]
    # how far each contender's runs lay apart: baseline, validate, merge (1.00 = not at all)
    spreads = [float(x) for x in first[6].split("/")]
    assert len(spreads) == 3 and all(spread >= 1 for spread in spreads)
    assert "| 合并份数 | 发现问题 |" in done.stdout
    parts = [line for line in lines if line.startswith("| 3 | ") and line.count("|") == 13
             and "×" not in line]
    # the write, and of it the wait for the archive's copies (made in this process for so few)
    assert 0 <= float(parts[0].split("|")[8]) <= float(parts[0].split("|")[7])
    # what a new file cost in the work folder, in milliseconds (the archive makes one a return)
    assert "| 其中等归档 | 新建文件（毫秒/个） |" in done.stdout
    assert 0 < float(parts[0].split("|")[9]) < 1000
    assert parts and parts[0].split("|")[10].strip() == "3"  # all three returns merged
    assert parts[0].split("|")[11].strip() == "0"  # and none had a finding
    # merge's check against validate's, each timed in its own run of the command
    assert float(parts[0].split("|")[12]) > 0
    # the CPU time of each one's fastest run, here and in the reader it started (none is
    # kept from the run before: each run's reader starts, and ends, with it)
    assert "| 报表数 | 基线 | validate 本进程 | validate 读取进程 | validate 合计 |" in done.stdout
    [cpu] = [line for line in lines if line.startswith("| 6 | ") and "核）" in line]
    cells = [cell.strip() for cell in cpu.split("|")[1:-1]]
    assert len(cells) == 8 and float(cells[1]) >= 0  # the baseline's (one process)
    for here, others, both in (cells[2:5], cells[5:8]):
        assert float(here) > 0 and float(others) > 0  # a reader's start is not free
        total, cores = both.split("（")
        assert abs(float(total) - float(here) - float(others)) <= 0.011
        assert 0 < float(cores.removesuffix(" 核）")) <= (os.cpu_count() or 1) + 0.5
    # where a return's time goes, part by part, beside the raw read of the same file; and
    # the least validate and merge could take, that work shared by this process and its
    # reader without loss
    assert "| 报表数 | 原始读取（基线） | 安检 | 读取 | 核对（validate） |" in done.stdout
    [profile] = [line for line in lines if line.startswith("| 6 | ") and line.count("|") == 12
                 and "×）" in line]
    cells = [cell.strip() for cell in profile.split("|")[1:-1]]
    raw = float(cells[1])
    parts = [float(cell.split("（")[0]) for cell in cells[2:8]]
    assert raw > 0 and all(part > 0 for part in parts)
    assert abs(parts[4] - (parts[0] + parts[1] + parts[3])) <= 0.011  # 安检 + 读取 + 核对
    # (the ratio printed to a tenth, worked out from the seconds, not the printed milliseconds)
    assert abs(float(cells[6].split("（")[1].removesuffix("×）")) - parts[4] / raw) <= 0.1
    # the ledger rows a merge makes of a return as it records it, apart from its check
    assert "| merge 三者合计 | 台帐行（merge 记入时） |" in done.stdout
    assert cells[8] == "2"  # this process and its one reader
    least_validate, least_merge = (float(cell.split(" s")[0]) for cell in cells[9:11])
    assert 0 < least_validate < least_merge
    sizes = [line for line in lines if line.startswith(("| 20 |", "| 40 |"))]
    assert len(sizes) == 4  # one return merged into masters of 20 and 40 projects, 0 and 2 months


def test_the_reports_benchmark_prints_each_part_beside_the_read_and_its_growth(
        tmp_path: Path) -> None:
    env = dict(os.environ, ZDXM_BENCH_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_reports.py"), "--masters",
                           "20,40"], cwd=BENCHMARKS, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith(("| 20 |", "| 40 |"))]
    assert len(rows) == 4  # each size: the times beside the read, and the growth
    assert rows[0].count("×") == 3 and rows[1].count("×") == 3
    first, second = rows[2].split("|")[2:-1], rows[3].split("|")[2:-1]
    assert [float(x) for x in first] == [1.0] * 4  # the smallest master is the reference
    assert len(second) == 4 and all(float(x) > 0 for x in second)
    # a master of each size, prepared once (in the cache)
    assert len(list((tmp_path / "cache").glob("*/台账.xlsx"))) == 2


@pytest.mark.soffice
def test_the_scale_benchmark_also_measures_returns_saved_by_a_spreadsheet_program(
        tmp_path: Path) -> None:
    env = dict(os.environ, ZDXM_BENCH_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_scale.py"), "--sizes", "2",
                           "--masters", "", "--resaved", "3", "--repeat", "1"], cwd=BENCHMARKS,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "经 LibreOffice 保存（公式连同算出的值" in text
    after = text.split("经 LibreOffice 保存（公式连同算出的值")[1].splitlines()
    ratios, profile = [line for line in after if line.startswith("| 3 |") and "×" in line]
    assert ratios.count("×") == 3
    assert profile.count("×") == 8  # a return's parts; the least validate and merge could take
    [parts] = [line for line in after if line.startswith("| 3 |") and line.count("|") == 13
               and "×" not in line]
    assert parts.split("|")[10].strip() == "3"  # all three saved returns merged
    assert parts.split("|")[11].strip() == "0"  # and none had a finding
    saved = list((tmp_path / "cache").glob("*/表格软件另存/*.xlsx"))
    assert len(saved) == 3
    for path in saved:  # as a spreadsheet program saves it: its text in shared strings, the
        with zipfile.ZipFile(path) as archive:  # form's formulas with their values
            assert "xl/sharedStrings.xml" in archive.namelist()
            sheets = [archive.read(name) for name in archive.namelist()
                      if name.startswith("xl/worksheets/sheet")]
            assert any(re.search(rb"</f><v>[0-9.]+</v>", sheet) for sheet in sheets)


def test_the_commands_benchmark_times_the_commands_as_installed(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_commands.py"), "--skip-demo"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert done.returncode == 0, done.stderr
    assert "先把 zdxm_xl 编译成字节码" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("| zdxm ")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "zdxm --version", "zdxm templates（示例 56 个单位）", "zdxm validate（一个单位的报表）",
        "zdxm merge（同一份报表合并进台账）"]
    assert all(re.search(r"\| [0-9.]+ s \| < [0-9.]+ s [✓✗] \|$", row) for row in rows[:2])
    # one return checked and merged: timed, with no target of their own
    assert all(re.search(r"\| [0-9.]+ s \| — \|$", row) for row in rows[2:])
    # the bytecode each new process loads, there although this environment says not to write it
    import importlib.util

    import zdxm_xl.frontends.cli

    assert Path(importlib.util.cache_from_source(zdxm_xl.frontends.cli.__file__)).is_file()
