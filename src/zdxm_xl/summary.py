"""The plan summary (SPEC §4.1) as an operation: compute it, and refresh the 汇总 sheet.

The figures and words are ``core.summary``'s; the 汇总 sheet is derived from the plan and
every save of the master rewrites it, so refreshing it is loading the master and saving it
as it is — through whichever store holds it (file or the book open in Excel).
"""

from __future__ import annotations

from pathlib import Path

from .books.masterio import open_store
from .core.master import MasterStore
from .core.summary import PlanSummary, summarize

__all__ = ["PlanSummary", "plan_summary", "refresh_summary"]


def plan_summary(master_store: MasterStore | Path | str) -> PlanSummary:
    """The summary of the master's plan: 调整后 beside 年初计划, with 增补, 退出, 转入实施."""
    return summarize(open_store(master_store).load())


def refresh_summary(master_store: MasterStore | Path | str) -> PlanSummary:
    """Recompute the summary and rewrite the master's 汇总 sheet."""
    store = open_store(master_store)
    with store.session():
        master = store.load()
        store.save(master)
    return summarize(master)
