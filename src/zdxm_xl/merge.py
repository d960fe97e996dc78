"""The monthly merge into 月报台帐 (SPEC §4.2).

``merge_files`` checks every file exactly as ``zdxm validate`` does, archives the files
that passed by content hash, replaces each unit's rows for the 报告期, logs every file in
报送记录 and writes the master once — atomically, after a dated backup, under a lock, and
never underneath an Excel that has it open. Run again, it merges nothing twice.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime
from pathlib import Path

from pydantic.dataclasses import dataclass

from .books.masterio import FileStore, open_store
from .books.safety import atomic_write, checkpoint
from .checks.returns import CheckContext, FileReport, check_file, collect_files
from .core.errors import Field, UsageError
from .core.master import Master, MasterStore
from .core.models import Submission, SubmissionResult, YesNo
from .core.periods import plan_period
from .core.results import RESULT, Hidden
from .core.returns import COUNTED, on_time
from .core.workspace import Workspace

__all__ = ["MergedFile", "ReplacedFile", "DuplicateFile", "RejectedFile", "MergeResult",
           "merge_files", "merge_into"]


@dataclass(config=RESULT)
class MergedFile:
    file: str
    unit: str
    period: str
    rows: int


@dataclass(config=RESULT)
class ReplacedFile:
    """A unit's earlier file whose rows a later file of the same 报告期 replaced."""

    file: str
    unit: str | None
    period: str | None
    by: str


@dataclass(config=RESULT)
class DuplicateFile:
    """A file whose content was merged before (its first merge's unit and period)."""

    file: str
    unit: str | None
    period: str | None


@dataclass(config=RESULT)
class RejectedFile:
    file: str
    unit: str | None
    period: str | None
    errors: int


@dataclass(config=RESULT)
class MergeResult:
    """What a merge did with each file."""

    merged: list[MergedFile] = field(default_factory=list)
    replaced: list[ReplacedFile] = field(default_factory=list)
    duplicates: list[DuplicateFile] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)
    reports: Hidden[list[FileReport]] = field(default_factory=list)
    written: Hidden[bool] = False
    seconds: Hidden[dict[str, float]] = field(default_factory=dict)  # read / check / write

    @property
    def ok(self) -> bool:
        return not self.rejected


def merge_files(master_store: MasterStore | Path | str, files: list[Path],
                period: str | None = None,
                received: datetime | Mapping[Path, datetime] | None = None,
                now: datetime | None = None, lock_wait: float = 10.0) -> MergeResult:
    """Check and merge ``files`` into the master's ledger; one atomic write at the end.

    ``received`` is when the files arrived (it decides 按时/逾期): one time for all, or per
    file (``zdxm mail fetch`` knows each message's own); missing means now."""
    store = open_store(master_store)
    if isinstance(store, FileStore):
        store.lock_wait = lock_wait
    paths = collect_files(files)
    if not paths:
        raise UsageError("没有找到要合并的文件。", field=Field.FILES)
    with store.session():
        clock = time.perf_counter()
        master = store.load()
        if period is not None:
            period = plan_period(period, master.year)
        result = MergeResult()
        result.seconds["read"] = time.perf_counter() - clock
        clock = time.perf_counter()
        changed = merge_into(master, Workspace(store.folder, master.settings), paths, period,
                             received, now, result)
        result.seconds["check"] = time.perf_counter() - clock
        clock = time.perf_counter()
        if changed:
            checkpoint("before-master-write")
            store.save(master)
            result.written = True
        result.seconds["write"] = time.perf_counter() - clock
        return result


def merge_into(master: Master, workspace: Workspace, paths: Sequence[Path],
               period: str | None = None,
               received: datetime | Mapping[Path, datetime] | None = None,
               now: datetime | None = None, result: MergeResult | None = None) -> bool:
    """The merge on a master already loaded (the caller holds the session and saves it):
    fills ``result``; returns whether the master changed."""
    result = result if result is not None else MergeResult()
    processed = (now or datetime.now()).replace(microsecond=0)
    seen = {s.sha256: s for s in master.submissions if s.result in COUNTED}
    changed = False
    context = CheckContext(master)
    for path in paths:
        when = received.get(path) if isinstance(received, Mapping) else received
        arrived = (when or processed).replace(microsecond=0)
        report = check_file(master, path, period, context)
        result.reports.append(report)
        if report.sha256 in seen:
            first = seen[report.sha256]
            result.duplicates.append(DuplicateFile(str(path), first.unit, first.period))
            continue
        changed = True
        # Logged under the period being collected: last month's template sent for this
        # month is this month's (failed) return.
        logged = period or report.period
        timely = on_time(arrived, logged, master.settings.deadline_day) if logged else None
        # A file whose identity failed is logged under the unit it seems to come from (file
        # name, sender), so 报送情况 says 未通过 rather than 未报送; it is never merged.
        row = Submission(period=logged, unit=report.unit or report.named_unit,
                         file_name=path.name, sha256=report.sha256, received_at=arrived,
                         processed_at=processed, result=SubmissionResult.REFUSED,
                         errors=report.errors, warnings=report.warnings,
                         on_time=None if timely is None else (YesNo.YES if timely else YesNo.NO))
        if not report.valid or report.period is None or report.unit is None:
            master.submissions.append(row)
            result.rejected.append(RejectedFile(str(path), report.unit, report.period,
                                                report.errors))
            continue
        _archive(workspace, report)
        replaced = _replace_rows(master, report)
        context.ledger_changed(report.period)
        row.result = SubmissionResult.MERGED
        master.submissions.append(row)
        seen[report.sha256] = row
        result.merged.append(MergedFile(str(path), report.unit, report.period,
                                        len(report.entries)))
        for earlier in replaced:
            result.replaced.append(ReplacedFile(earlier.file_name, earlier.unit, earlier.period,
                                                str(path)))
    return changed


def _archive(workspace: Workspace, report: FileReport) -> Path:
    assert report.period is not None and report.unit is not None
    target = workspace.archived(report.period, report.unit, report.sha256,
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
        if earlier.period == period and earlier.unit == unit \
                and earlier.result is SubmissionResult.MERGED:
            earlier.result = SubmissionResult.REPLACED
            replaced.append(earlier)
    return replaced
