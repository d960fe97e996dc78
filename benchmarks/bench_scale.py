"""How fast are ``zdxm validate`` and ``zdxm merge``, against reading the same files?

Each figure is printed beside its baselines from the same run (``common.raw_read``:
python-calamine reading every sheet of every return; ``common.naive_read``: openpyxl's
read-only mode, what a naive script does), at each number of returns, with the growth per
return from the smallest size to the largest. Then the master's own size: one return
merged into masters of more and more projects, each with two months in its ledger.

    python benchmarks/bench_scale.py                           # 100, 1000, 3000 returns
    python benchmarks/bench_scale.py --sizes 100,1000 --masters 1000,30000
    python benchmarks/bench_scale.py --workers 0               # one process only

A master of N units has 10 实施 projects per unit; each unit sends one filled return for
January. Returns are prepared once and cached (``ZDXM_BENCH_CACHE``, default
~/.cache/zdxm-bench). ``validate`` is ``validate_files`` as ``zdxm validate`` runs it (read
the master once, check every file); ``merge`` is ``merge_files`` on a fresh copy of the
master (read, check, archive, write, verify).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import CACHE, PERIOD, naive_read, prepare, prepare_history, raw_read
from zdxm_xl.books.masterio import load_master
from zdxm_xl.checks.readers import reader_count
from zdxm_xl.merge import merge_files
from zdxm_xl.validate import validate_files


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def ratio(value: float, base: float) -> str:
    return f"{value:.2f} s（{value / base:.1f}×）"


def measure(prepared, size: int, work: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    files = prepared.returns[:size]
    folder = work / f"n{size}"
    folder.mkdir()
    master_path = prepared.write_master(folder, size)
    raw_read(files[: min(size, 20)])  # the file cache is warm for every contender alike
    figures = {"raw": min(raw_read(files) for _ in range(2)), "naive": naive_read(files)}
    figures["validate_read"] = seconds(lambda: load_master(master_path))
    master = load_master(master_path)
    run = None

    def validate() -> None:
        nonlocal run
        run = validate_files(master, files, PERIOD)

    figures["validate_check"] = seconds(validate)
    assert run is not None
    figures["findings"] = sum(len(r.findings) for r in run.reports)
    figures["validate"] = figures["validate_read"] + figures["validate_check"]
    copy = folder / "merge" / "台账.xlsx"
    copy.parent.mkdir()
    shutil.copy(master_path, copy)
    result = None

    def merge() -> None:
        nonlocal result
        result = merge_files(copy, files, PERIOD)

    figures["merge"] = seconds(merge)
    assert result is not None
    figures.update({f"merge_{part}": value for part, value in result.seconds.items()})
    figures["merged"] = len(result.merged)
    return figures


def table(sizes: list[int], rows: dict[int, dict[str, float]]) -> None:
    print("| 报表数 | python-calamine 原始读取（基线） | zdxm validate | zdxm merge "
          "| openpyxl 只读读取（朴素脚本） |")
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        f = rows[size]
        print(f"| {size:,} | {f['raw']:.2f} s | {ratio(f['validate'], f['raw'])} "
              f"| {ratio(f['merge'], f['raw'])} | {ratio(f['naive'], f['raw'])} |")
    print()
    print("各部分用时（秒）：")
    print("| 报表数 | validate 读台账 | validate 校验 | merge 读台账 | merge 校验 "
          "| merge 记入台帐与归档 | merge 写台账 | 合并份数 | 发现问题 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        f = rows[size]
        print(f"| {size:,} | {f['validate_read']:.2f} | {f['validate_check']:.2f} "
              f"| {f['merge_read']:.2f} | {f['merge_check']:.2f} | {f['merge_apply']:.2f} "
              f"| {f['merge_write']:.2f} | {int(f['merged']):,} | {int(f['findings'])} |")
    if len(sizes) > 1:
        first = sizes[0]
        print()
        print(f"增长：每份报表的用时，相对 {first:,} 份时（1.0 = 线性）：")
        print("| 报表数 | 原始读取 | validate | merge | openpyxl 只读 |")
        print("|---:|---:|---:|---:|---:|")
        for size in sizes:
            cells = []
            for key in ("raw", "validate", "merge", "naive"):
                per_return = rows[size][key] / size
                cells.append(f"{per_return / (rows[first][key] / first):.2f}")
            print(f"| {size:,} | " + " | ".join(cells) + " |")


def masters(sizes: list[int], cache: Path) -> None:
    prepared = {projects: prepare_history(projects, cache=cache) for projects in sizes}
    print()
    print("台账规模：把一个单位的 3 月报表（10 个项目）合并进已有 1、2 月台帐的台账：")
    print("| 项目数 | 月报台帐行数 | 读台账 | 校验 | 写台账 | 合计 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for projects in sizes:
        master_path, filled = prepared[projects]
        with tempfile.TemporaryDirectory(prefix="zdxm-bench-master-") as temp:
            copy = Path(temp) / "台账.xlsx"
            shutil.copy(master_path, copy)
            started = time.perf_counter()
            result = merge_files(copy, [filled], "2022-03")
            total = time.perf_counter() - started
            assert len(result.merged) == 1, [r.findings for r in result.reports]
            s = result.seconds
            print(f"| {projects:,} | {projects * 2:,} | {s['read']:.2f} s "
                  f"| {s['check'] + s['apply']:.2f} s | {s['write']:.2f} s | {total:.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000", help="numbers of returns")
    parser.add_argument("--masters", default="1000,10000,30000",
                        help="projects in the masters one return is merged into ('' for none)")
    parser.add_argument("--workers", type=int, default=None,
                        help="reader processes (default: one per core beyond the first)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    if args.workers is not None:
        os.environ["ZDXM_READERS"] = str(args.workers)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    print(f"本机 {os.cpu_count()} 核；校验时另用 {reader_count(max(sizes))} 个常驻读取进程"
          "（各自安检并读取不同的文件）；基线都是单个进程。")
    prepared = prepare(max(sizes), cache=args.cache)
    rows: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="zdxm-bench-") as temp:
        for size in sizes:
            rows[size] = measure(prepared, size, Path(temp))
    print()
    table(sizes, rows)
    if args.masters:
        masters(sorted(int(s) for s in args.masters.split(",") if s), args.cache)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
