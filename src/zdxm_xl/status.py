"""报送情况 (SPEC §4.3): which 牵头单位 reported a 报告期, on time, and passed.

The office's operation behind ``zdxm status`` and the ribbon's 报送情况: load the master
once and work out the one submission status (``core.returns.submission_status``) that the
简报, 通报, 考核 and mail use too.
"""

from __future__ import annotations

from pathlib import Path

from .books.masterio import open_store
from .core.master import MasterStore
from .core.periods import plan_period
from .core.returns import StatusReport, submission_status

__all__ = ["StatusReport", "report_status"]


def report_status(master_store: MasterStore | Path | str, period: str) -> StatusReport:
    """报送情况 of ``period`` for every 牵头单位 expected to report it."""
    master = open_store(master_store).load()
    return submission_status(master, plan_period(period, master.year))
