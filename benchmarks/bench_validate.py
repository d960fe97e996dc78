"""How fast is ``zdxm validate``, against python-calamine's raw read of the same files?

Baseline (named, measured in the same run): ``CalamineWorkbook.from_path`` + ``to_python``
of every sheet of every file — the least any checker that reads the values must do.
Measured: ``validate_files`` (vetting, identity, every rule) over the same files, with the
master already loaded (a command reads it once, whatever the number of files).

    python benchmarks/bench_validate.py [N]      # N filled returns, default 200 (up to 1000)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import raw_read
from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.demo.sample import build_sample
from zdxm_xl.forms import make_forms
from zdxm_xl.validate import validate_files


def prepare(folder: Path, count: int) -> tuple[Path, list[Path]]:
    master_path = folder / "台账.xlsx"
    create_master(master_path, 2022, build_sample())
    templates = make_forms(master_path, "2022-01", folder / "模板").files
    files = []
    for number in range(count):
        template = templates[number % len(templates)]
        files.append(fill_form(template, folder / "收件" / f"{number:04d}.xlsx",
                                   seed=number).path)
    return master_path, files


def validate(master_path: Path, files: list[Path]) -> tuple[float, int]:
    master = load_master(master_path)  # read once per command, not per file: not timed
    start = time.perf_counter()
    run = validate_files(master, files, "2022-01")
    return time.perf_counter() - start, sum(len(r.findings) for r in run.reports)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    folder = Path(tempfile.mkdtemp(prefix="zdxm-bench-"))
    try:
        master_path, files = prepare(folder, count)
        rows = sum(1 for _ in files)
        raw_read(files[:5])  # warm the file cache for both contenders alike
        baseline = min(raw_read(files) for _ in range(3))
        measured, findings = min((validate(master_path, files) for _ in range(3)),
                                 key=lambda r: r[0])
        print(f"文件数 {rows}，发现问题 {findings} 处（应为 0）")
        print(f"基线 python-calamine 原始读取：{baseline / rows * 1000:8.2f} ms/文件")
        print(f"zdxm 校验（validate_files）：  {measured / rows * 1000:8.2f} ms/文件")
        print(f"比值 校验/原始读取：{measured / baseline:.2f}×（目标 ≤ 3×）")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
