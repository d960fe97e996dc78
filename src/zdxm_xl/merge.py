"""The monthly merge into 月报台帐, and who reported (报送情况). SPEC §4.2–4.3.

``merge_files`` checks every file exactly as ``zdxm validate`` does, archives the files
that passed by content hash, replaces each unit's rows for the 报告期, logs every file in
报送记录 and writes the master once — atomically, after a dated backup, under a lock, and
never underneath an Excel that has it open. Run again, it merges nothing twice.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any

from .books.masterio import FileStore, Master, MasterStore, as_store
from .books.safety import atomic_write, checkpoint
from .checks.returns import CheckContext, FileReport, check_file
from .core.cells import deadline
from .core.errors import UsageError
from .core.models import Submission
from .forms import expected_returns
from .validate import check_period, collect_files

__all__ = ["MergeResult", "merge_files", "merge_into", "archive_path", "UnitStatus", "StatusReport",
           "submission_status", "on_time"]

_COUNTED = ("已合并", "被替换")  # a file already in the ledger (now or before)


@dataclass
class MergeResult:
    """What a merge did with each file."""

    merged: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    reports: list[FileReport] = field(default_factory=list)
    written: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # read / check / write

    @property
    def ok(self) -> bool:
        return not self.rejected

    def as_json(self) -> dict[str, Any]:
        return {"merged": self.merged, "replaced": self.replaced, "duplicates": self.duplicates,
                "rejected": self.rejected}


def on_time(received: datetime, period: str, deadline_day: int) -> bool:
    """Received by the end of the 截止日 (the whole day counts)."""
    return received <= datetime.combine(deadline(period, deadline_day), day_time.max)


def archive_path(master: Master, folder: Path, period: str, unit: str, sha256: str,
                 suffix: str) -> Path:
    """归档目录/报告期/单位/sha256.xlsx — named by content, so a file is stored once;
    a relative 归档目录 is relative to ``folder``, the master's folder."""
    root = Path(master.settings.archive_dir)
    if not root.is_absolute():
        root = folder / root
    safe_unit = "".join("_" if c in '\\/:*?"<>|' else c for c in unit)
    return root / period / safe_unit / f"{sha256}{suffix.lower()}"


def merge_files(master_store: MasterStore | Path | str, files: list[Path],
                period: str | None = None,
                received: datetime | Mapping[Path, datetime] | None = None,
                now: datetime | None = None, lock_wait: float = 10.0) -> MergeResult:
    """Check and merge ``files`` into the master's ledger; one atomic write at the end.

    ``received`` is when the files arrived (it decides 按时/逾期): one time for all, or per
    file (``zdxm mail fetch`` knows each message's own); missing means now."""
    store = as_store(master_store)
    if isinstance(store, FileStore):
        store.lock_wait = lock_wait
    period = check_period(period)
    paths = collect_files(files)
    if not paths:
        raise UsageError("没有找到要合并的文件。")
    with store.session():
        clock = time.perf_counter()
        master = store.load()
        result = MergeResult()
        result.seconds["read"] = time.perf_counter() - clock
        clock = time.perf_counter()
        changed = merge_into(master, store.folder, paths, period, received, now, result)
        result.seconds["check"] = time.perf_counter() - clock
        clock = time.perf_counter()
        if changed:
            checkpoint("before-master-write")
            store.save(master)
            result.written = True
        result.seconds["write"] = time.perf_counter() - clock
        return result


def merge_into(master: Master, folder: Path, paths: Sequence[Path], period: str | None = None,
               received: datetime | Mapping[Path, datetime] | None = None,
               now: datetime | None = None, result: MergeResult | None = None) -> bool:
    """The merge on a master already loaded (the caller holds the session and saves it):
    fills ``result``; returns whether the master changed. ``folder`` is the master's."""
    result = result if result is not None else MergeResult()
    processed = (now or datetime.now()).replace(microsecond=0)
    seen = {s.sha256: s for s in master.submissions if s.result in _COUNTED}
    changed = False
    context = CheckContext(master)
    for path in paths:
        when = received.get(path) if isinstance(received, Mapping) else received
        arrived = (when or processed).replace(microsecond=0)
        report = check_file(master, path, period, context)
        result.reports.append(report)
        if report.sha256 in seen:
            first = seen[report.sha256]
            result.duplicates.append({"file": str(path), "unit": first.unit,
                                      "period": first.period})
            continue
        changed = True
        # Logged under the period being collected: last month's template sent for this
        # month is this month's (failed) return.
        logged = period or report.period
        timely = on_time(arrived, logged, master.settings.deadline_day) if logged else None
        row = Submission(period=logged, unit=report.unit,
                         file_name=path.name, sha256=report.sha256, received_at=arrived,
                         processed_at=processed, result="未通过", errors=report.errors,
                         warnings=report.warnings,
                         on_time=None if timely is None else ("是" if timely else "否"))
        if not report.valid or report.period is None or report.unit is None:
            master.submissions.append(row)
            result.rejected.append({"file": str(path), "unit": report.unit,
                                    "period": report.period, "errors": report.errors})
            continue
        _archive(master, folder, report)
        replaced = _replace_rows(master, report)
        context.ledger_changed(report.period)
        row.result = "已合并"
        master.submissions.append(row)
        seen[report.sha256] = row
        entry = {"file": str(path), "unit": report.unit, "period": report.period,
                 "rows": len(report.entries)}
        result.merged.append(entry)
        for earlier in replaced:
            result.replaced.append({"file": earlier.file_name, "unit": earlier.unit,
                                    "period": earlier.period, "by": str(path)})
    return changed


def _archive(master: Master, folder: Path, report: FileReport) -> Path:
    assert report.period is not None and report.unit is not None
    target = archive_path(master, folder, report.period, report.unit, report.sha256,
                          report.path.suffix or ".xlsx")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda temp: shutil.copyfile(report.path, temp))
    checkpoint("after-archive")
    return target


def _replace_rows(master: Master, report: FileReport) -> list[Submission]:
    """Drop the unit's earlier rows for the period (and any rows of the same projects),
    mark its earlier merged submission 被替换, add the new rows."""
    period, unit = report.period, report.unit
    projects = {e.project_id for e in report.entries}
    master.ledger = [e for e in master.ledger
                     if not (e.period == period and (e.unit == unit or e.project_id in projects))]
    master.ledger.extend(report.entries)
    replaced = []
    for earlier in master.submissions:
        if earlier.period == period and earlier.unit == unit and earlier.result == "已合并":
            earlier.result = "被替换"
            replaced.append(earlier)
    return replaced


# ---- 报送情况 ------------------------------------------------------------------------------

@dataclass
class UnitStatus:
    unit: str
    submitted: bool
    on_time: bool | None  # of the first file that passed, else of the first file received
    valid: bool
    file: str | None
    received_at: datetime | None
    projects: int

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "submitted": self.submitted, "on_time": self.on_time,
                "valid": self.valid, "file": self.file,
                "received_at": self.received_at.isoformat() if self.received_at else None,
                "projects": self.projects}


@dataclass
class StatusReport:
    period: str
    deadline: date
    units: list[UnitStatus]

    @property
    def missing(self) -> list[str]:
        return [u.unit for u in self.units if not u.submitted]

    @property
    def late(self) -> list[str]:
        return [u.unit for u in self.units if u.submitted and u.on_time is False]

    @property
    def rejected(self) -> list[str]:
        return [u.unit for u in self.units if u.submitted and not u.valid]

    @property
    def on_time_rate(self) -> float | None:
        """Share of expected units whose return arrived on time (a ratio, not money)."""
        if not self.units:
            return None
        return sum(1 for u in self.units if u.on_time) / len(self.units)

    def as_json(self) -> dict[str, Any]:
        return {"period": self.period, "deadline": self.deadline.isoformat(),
                "units": [u.as_json() for u in self.units], "missing": self.missing,
                "late": self.late, "rejected": self.rejected}


def submission_status(master: Master, period: str) -> StatusReport:
    """For each 牵头单位 expected to report ``period``: submitted, on time, passed, which file."""
    expected = expected_returns(master, period)
    rows = [s for s in master.submissions if s.period == period]
    units = []
    for unit, projects in expected.items():
        mine = sorted((s for s in rows if s.unit == unit), key=lambda s: s.received_at)
        merged = next((s for s in reversed(mine) if s.result == "已合并"), None)
        shown = merged or (mine[-1] if mine else None)
        # A correction sent after the deadline does not make an on-time return late.
        passed = [s for s in mine if s.result in _COUNTED]
        decisive = passed[0] if passed else (mine[0] if mine else None)
        timely = None if decisive is None else decisive.on_time == "是"
        units.append(UnitStatus(unit, bool(mine), timely, merged is not None,
                                shown.file_name if shown else None,
                                shown.received_at if shown else None, len(projects)))
    return StatusReport(period, deadline(period, master.settings.deadline_day), units)
