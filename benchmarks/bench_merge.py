"""How fast is ``zdxm merge`` at scale, against python-calamine's raw read of the same files?

A master of 10 000 实施 projects led by 1 000 units; one filled return per unit; one merge
of all of them. Prints the merge's own time split (read the master / check the files /
write the master) and the ratio of the whole merge to the named baseline measured in the
same run: ``CalamineWorkbook`` reading every sheet of every return, nothing else.

    python benchmarks/bench_merge.py [UNITS] [PROJECTS_PER_UNIT]     # default 1000 10
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from common import raw_read
from zdxm_xl.books.masterio import create_master
from zdxm_xl.core.master import new_master
from zdxm_xl.core.models import IMPLEMENTATION_STAGES, Project, Unit
from zdxm_xl.core.registry import SECTORS
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files


def build(folder: Path, units: int, per_unit: int) -> tuple[Path, list[Path]]:
    master = new_master(2022)
    master.units = [Unit(name=f"单位{u:04d}", informant_name="张三", informant_phone="13800000000")
                    for u in range(units)]
    number = 0
    for u in range(units):
        for _ in range(per_unit):
            number += 1
            stage = IMPLEMENTATION_STAGES[number % 3]
            master.projects.append(Project(
                id=f"ZD2022-{number:05d}", name=f"重大项目{number}", stage=stage,
                sector=SECTORS[number % 4], total_investment=Decimal(10000 + number),
                prior_completed=Decimal(0) if stage == "新开工" else Decimal(2000),
                annual_plan=Decimal(1200 + number % 500), units=[f"单位{u:04d}"]))
    path = folder / "台账.xlsx"
    create_master(path, 2022, master)
    templates = make_forms(path, "2022-01", folder / "模板").files
    returns = [fill_form(t, folder / "收件" / t.name, seed=i).path
               for i, t in enumerate(templates)]
    return path, returns


def main() -> None:
    units = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    per_unit = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    folder = Path(tempfile.mkdtemp(prefix="zdxm-bench-merge-"))
    try:
        started = time.perf_counter()
        master, returns = build(folder, units, per_unit)
        print(f"准备：{units} 个单位、{units * per_unit} 个项目、{len(returns)} 份报表，"
              f"用时 {time.perf_counter() - started:.1f} s")
        baseline = raw_read(returns)
        started = time.perf_counter()
        result = merge_files(master, returns, "2022-01")
        total = time.perf_counter() - started
        rows = sum(item.rows for item in result.merged)
        print(f"合并 {len(result.merged)} 份、{rows} 行，未通过 {len(result.rejected)} 份")
        print(f"基线 python-calamine 原始读取全部报表：{baseline:7.2f} s")
        print(f"zdxm merge 合计：                     {total:7.2f} s")
        for part, label in (("read", "读台账"), ("check", "校验报表"), ("write", "写台账")):
            print(f"  {label}：{result.seconds[part]:7.2f} s")
        print(f"比值 合并/原始读取：{total / baseline:.1f}×")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
