"""How the month's documents grow with the master: the 报送情况, the figures behind the 简报
and 通报, and the 简报 and 通报 themselves, for masters of more and more projects, each
beside reading the same master (``load_master``) in the same run, with the growth per
project from the smallest master to the largest (1.0 = linear).

    python benchmarks/bench_reports.py                        # 1,000 and 10,000 projects
    python benchmarks/bench_reports.py --masters 1000,10000,30000 --repeat 3

The masters are those of ``bench_scale.py`` (10 实施 projects a unit, two months in the
ledger; cached in ``ZDXM_BENCH_CACHE``); each figure is the best of ``--repeat`` runs. What
is measured is the month the ledger has last (2022-02): ``submission_status``,
``compute_progress``, each on the master just read (as in a command; the read not
timed), and ``make_bulletin`` as ``zdxm bulletin``
runs it (reads the master, writes the 简报 and 通报 and the master's 简报 number; no PDF),
on a fresh copy of the master each time. A pass over every project for each unit, or over
every cell for each row, shows here as a growth well above 1.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench_scale import best
from common import CACHE, prepare_history
from zdxm_xl.books.masterio import load_master
from zdxm_xl.bulletin import make_bulletin
from zdxm_xl.core.master import Master
from zdxm_xl.core.returns import submission_status
from zdxm_xl.reports.progress import compute_progress

PERIOD = "2022-02"  # the last month in the masters' ledgers
ISSUED = date(2022, 3, 8)
PARTS = ("read", "status", "progress", "bulletin")


def after_read(master_path: Path, part: Callable[[Master], object]) -> float:
    """How long ``part`` takes on the master as a command has it: read just before, the
    clock started after the read. (Begun as a new process is: what earlier runs left to
    the cycle collector is collected first; the read sets its records aside from the
    collector, as every ``zdxm`` read does: ``core.pauses``.)"""
    gc.unfreeze()
    gc.collect()
    master = load_master(master_path)
    started = time.perf_counter()
    part(master)
    return time.perf_counter() - started


def measure(projects: int, repeat: int, cache: Path, work: Path) -> dict[str, float]:
    """Each part's best time, in seconds, for the master of ``projects`` projects."""
    master_path, _ = prepare_history(projects, cache=cache)
    copies = []
    for run in range(repeat):  # made before any clock starts
        copy = work / f"{projects}-{run}" / "台账.xlsx"
        copy.parent.mkdir(parents=True)
        shutil.copy(master_path, copy)
        copies.append(copy)
    left = iter(copies)
    return {
        "read": best(repeat, lambda: load_master(master_path))[0],
        "status": min(after_read(master_path, lambda m: submission_status(m, PERIOD))
                      for _ in range(repeat)),
        "progress": min(after_read(master_path, lambda m: compute_progress(m, PERIOD))
                        for _ in range(repeat)),
        "bulletin": best(repeat, lambda: make_bulletin(next(left), PERIOD, issued=ISSUED))[0],
    }


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value:.3f} s"


def _ratio(value: float) -> str:
    return f"{value:.1f}×" if value >= 1 else f"{value:.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masters", default="1000,10000",
                        help="projects in the masters measured (10 a unit)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each part, best kept")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.masters.split(",") if s)
    with tempfile.TemporaryDirectory(prefix="zdxm-bench-reports-") as temp:
        figures = {size: measure(size, args.repeat, args.cache, Path(temp)) for size in sizes}
    print(f"各部分运行 {args.repeat} 次取最快的一次；台账每个单位 10 个实施项目，月报台帐已有 2 个月；"
          f"报告期 {PERIOD}。括号里是与读同一本台账（基线）之比。")
    print("| 项目数 | 读台账（基线） | 报送情况 | 简报通报所用数字 | 简报和通报（含读写台账） |")
    print("|---:|---:|---:|---:|---:|")
    for size, found in figures.items():
        base = found["read"]
        cells = [f"{_seconds(found[part])}（{_ratio(found[part] / base)}）" for part in PARTS[1:]]
        print(f"| {size:,} | {_seconds(base)} | " + " | ".join(cells) + " |")
    first = sizes[0]
    print()
    print(f"增长：每个项目的用时，相对 {first:,} 个项目时（1.0 = 线性）：")
    print("| 项目数 | 读台账 | 报送情况 | 简报通报所用数字 | 简报和通报 |")
    print("|---:|---:|---:|---:|---:|")
    for size, found in figures.items():
        growth = [(found[part] / size) / (figures[first][part] / first) for part in PARTS]
        print(f"| {size:,} | " + " | ".join(f"{g:.2f}" for g in growth) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
