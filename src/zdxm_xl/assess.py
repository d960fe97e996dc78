"""考核 (SPEC §4.5) as an operation: assess every 牵头单位 over a range of 报告期, and
write the print-ready 考核结果 workbook. The method is ``reports.assessment``'s."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .books.masterio import FileStore, open_store
from .core.errors import Field, UsageError
from .core.master import MasterStore
from .core.periods import plan_period
from .core.problems import reconcile
from .reports.assessment import INDICATORS, Assessment, assess_units, write_assessment

__all__ = ["INDICATORS", "Assessment", "assess"]


def assess(master_store: MasterStore | Path | str, first: str, last: str,
           output: Path | str | None = None) -> Assessment:
    """Assess every 牵头单位 over the 报告期 ``first``…``last``; with ``output`` also write
    the print-ready workbook (.xlsx) there."""
    store = open_store(master_store)
    out = _output_path(store, output)
    master = store.load()
    reconcile(master, datetime.now())  # 问题台帐 as the office left it; not saved
    start = plan_period(first, master.year, Field.FIRST_PERIOD)
    end = plan_period(last, master.year, Field.LAST_PERIOD)
    if start > end:
        raise UsageError(f"考核起始报告期 {start} 晚于截止报告期 {end}。", field=Field.FIRST_PERIOD,
                         value=first)
    result = assess_units(master, start, end)
    if out is not None:
        write_assessment(result, out)
        result.output = out
    return result


def _output_path(store: MasterStore, output: Path | str | None) -> Path | None:
    if output is None:
        return None
    out = Path(output)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"考核表“{out.name}”应为 .xlsx 文件，如 考核结果.xlsx。", field=Field.OUTPUT,
                         value=str(out))
    if not out.parent.exists():
        raise UsageError(f"文件夹“{out.parent}”不存在。", field=Field.OUTPUT, value=str(out))
    if isinstance(store, FileStore) and out.exists() and store.path.exists() \
            and out.samefile(store.path):
        raise UsageError("考核表不能与台账是同一个文件，请换一个文件名。", field=Field.OUTPUT,
                         value=str(out))
    return out
