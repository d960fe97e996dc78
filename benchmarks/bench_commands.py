"""How long the office waits for the commands it runs most, as it runs them (``zdxm`` in a
new process, wall-clock time), beside the time each should stay under:

* ``zdxm --version`` — a command that does nothing loads nothing (< 0.3 s);
* ``zdxm templates`` for every unit of the embedded sample (56 units, < 5 s);
* ``zdxm validate`` and ``zdxm merge`` of one unit's return — as returns come in, a few at
  a time, through the month (no target: the time a reply takes, printed to be watched);
* ``zdxm demo`` — the whole month on the sample (< 30 s).

    python benchmarks/bench_commands.py [--skip-demo]

Each command is timed as an installed zdxm runs: the package's bytecode is written first,
as pip writes it when it installs zdxm. From an editable checkout under
PYTHONDONTWRITEBYTECODE (set on some build machines), every new process would otherwise
compile each module it imports again — 0.1 s more for ``--version`` on a machine where it
takes 0.2 s, and again in every reader process.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zdxm_xl
from zdxm_xl.books.masterio import create_master
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.demo.sample import build_sample

ZDXM = [sys.executable, "-m", "zdxm_xl"]


def wall(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    if not compileall.compile_dir(Path(zdxm_xl.__file__).parent, quiet=1):
        raise SystemExit("zdxm_xl could not be compiled to bytecode")
    with tempfile.TemporaryDirectory(prefix="zdxm-bench-commands-") as temp:
        folder = Path(temp)
        master = folder / "台账.xlsx"
        create_master(master, 2022, build_sample())
        rows: list[tuple[str, float, float | None]] = [
            ("zdxm --version", min(wall([*ZDXM, "--version"], folder) for _ in range(3)), 0.3)]
        rows.append(("zdxm templates（示例 56 个单位）",
                     wall([*ZDXM, "templates", str(master), "--period", "2022-03", "-o",
                           str(folder / "模板")], folder), 5.0))
        # one unit's return, filled as a 信息员 fills it: checked, then merged (each of
        # three merges into a copy of the master as it was)
        template = min((folder / "模板").glob("*.xlsx"))
        filled = fill_form(template, folder / "收件" / template.name, seed=1).path
        check = [*ZDXM, "validate", str(master), str(filled), "--period", "2022-03"]
        rows.append(("zdxm validate（一个单位的报表）",
                     min(wall(check, folder) for _ in range(3)), None))
        merges = []
        for run in range(3):
            copy = folder / f"合并{run}" / "台账.xlsx"
            copy.parent.mkdir()
            shutil.copy(master, copy)
            merges.append(wall([*ZDXM, "merge", str(copy), str(filled), "--period", "2022-03"],
                               folder))
        rows.append(("zdxm merge（同一份报表合并进台账）", min(merges), None))
        if not args.skip_demo:
            rows.append(("zdxm demo", wall([*ZDXM, "demo", str(folder / "演示")], folder), 30.0))
    print(f"本机 {os.cpu_count()} 核；每条命令在新进程中运行，计墙上时间"
          "（先把 zdxm_xl 编译成字节码，如 pip 安装时所做）。")
    print("| 命令 | 用时 | 目标 |")
    print("|---|---:|---:|")
    for name, seconds, target in rows:
        if target is None:
            print(f"| {name} | {seconds:.2f} s | — |")
            continue
        mark = "✓" if seconds < target else "✗"
        print(f"| {name} | {seconds:.2f} s | < {target:g} s {mark} |")


if __name__ == "__main__":
    main()
