"""The monthly merge into 月报台帐 (SPEC §4.2).

``merge_files`` checks every file exactly as ``zdxm validate`` does, archives the files
that passed by content hash, replaces each unit's rows for the 报告期, logs every file in
报送记录 and writes the master once — atomically, after a dated backup, under a lock, and
never underneath an Excel that has it open. Run again, it merges nothing twice, and a file
refused before with the same content is recognised and logged no second time.

Newest wins, by time: a unit's files for a 报告期 apply in the order their versions came
in — the time the mail arrived, or the file's modification time for a file from a folder —
never by name, so the last one is the unit's current return (已合并 in 报送记录; the ones
before it 被替换, saying by which). A later run's file is newer than an earlier run's.
``reapply`` takes a file that was replaced back on purpose.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import field
from datetime import datetime
from pathlib import Path

from pydantic.dataclasses import dataclass

from .books.durable import DurableCopies, SourceChanged, remove_copies
from .books.masterio import FileStore, open_store
from .books.safety import LOCK_WAIT, checkpoint
from .checks.returns import (
    CheckContext,
    FileReport,
    begin_checking,
    check_file,
    check_files,
    collect_files,
)
from .checks.vetting import Examined
from .core.errors import Field, MasterError, UsageError
from .core.ledger import Key
from .core.master import Master, MasterStore
from .core.models import LedgerEntry, Submission, SubmissionResult, YesNo
from .core.pauses import no_collection_pauses
from .core.periods import plan_period
from .core.problems import ReturnEffect, reconcile, take_return
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
    reapplied: bool = False  # a file merged before (then replaced), taken back on purpose


@dataclass(config=RESULT)
class ReplacedFile:
    """A unit's earlier file whose rows a later file of the same 报告期 replaced."""

    file: str
    unit: str | None
    period: str | None
    by: str


@dataclass(config=RESULT)
class DuplicateFile:
    """A file whose content was received before: ``earlier`` is what became of it then
    (已合并, 被替换, or 未通过 — refused again, it is not logged a second time)."""

    file: str
    unit: str | None
    period: str | None
    earlier: SubmissionResult = SubmissionResult.MERGED


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
    problems: ReturnEffect = field(default_factory=ReturnEffect)  # what they did to 问题台帐
    reports: Hidden[list[FileReport]] = field(default_factory=list)
    # copies of the merged files for the archive (source, target, the SHA-256 checked),
    # begun by ``begin_archive`` and made by ``archive`` while the master is written,
    # before it is kept
    to_archive: Hidden[list[tuple[Path, Path, str]]] = field(default_factory=list)
    archive_root: Hidden[Path | None] = None  # 归档目录, where they go
    copying: Hidden[DurableCopies | None] = None
    written: Hidden[bool] = False
    # where the time went: read (the master), check (the files), apply (ledger and 报送记录
    # in memory), write (the master, and the archive meanwhile; of it, archive_wait: the
    # master written and read back, waiting for the archive's copies)
    seconds: Hidden[dict[str, float]] = field(default_factory=dict)

    def begin_archive(self) -> None:
        """Start the archive copies now (many are made by a helper process while the master
        is written); ``archive`` waits for them."""
        if self.to_archive and self.copying is None:
            self.copying = DurableCopies([(source, target) for source, target, _ in self.to_archive],
                                         [digest for _source, _target, digest in self.to_archive])

    def archive(self) -> None:
        """Keep a copy of each merged file in the archive — each the bytes checked — made
        durable together (one flush of the disk for the lot, not one each); the master says
        they were merged only after this. Called again, there is nothing left to do (or,
        after it failed, it tries again)."""
        self.begin_archive()
        copying, self.copying = self.copying, None
        if copying is None:
            return
        clock = time.perf_counter()
        try:
            copying.wait()
        except SourceChanged as exc:
            raise MasterError(f"“{Path(exc.filename).name}”在检查之后又被改动过（也许正被重新保存），"
                              "存入归档的就不是检查过的内容，台账没有改动。请等文件保存好后重新"
                              "合并。") from exc
        except OSError as exc:  # a file gone from 收件 meanwhile, a full or read-only disk
            where = exc.filename or (self.to_archive[0][1].parent if self.to_archive else "")
            raise MasterError(f"无法把合并的文件存入归档目录（{where}：{exc.strerror or exc}），"
                              "台账没有改动。请检查文件是否还在、归档目录能否写入、磁盘是否"
                              "已满，然后重新合并。") from exc
        finally:
            self.seconds["archive_wait"] = (self.seconds.get("archive_wait", 0.0)
                                            + time.perf_counter() - clock)
        self.to_archive = []
        checkpoint("after-archive")

    @contextlib.contextmanager
    def archiving(self) -> Iterator[Callable[[], None]]:
        """The archive copies begun now, for a save of the master meanwhile: yields
        ``archive``, the save's ``ready``. Copies begun and not waited for (the save failed
        first) are let finish, however it ends; when the save failed before they were done,
        the copies made are taken out of the archive again."""
        planned = list(self.to_archive)
        self.begin_archive()
        try:
            yield self.archive
        except BaseException:
            # Failed before its copies were done (``archive`` is the save's last step before
            # the master is kept): the master does not list them. After it, only the
            # replacing of the old file failed, or what comes after: they stay.
            if self.to_archive:
                self._end_copying()
                self._take_back(planned)
            raise
        finally:
            self._end_copying()

    def _end_copying(self) -> None:
        copying, self.copying = self.copying, None
        if copying is not None:
            copying.close()

    def _take_back(self, planned: Sequence[tuple[Path, Path, str]]) -> None:
        """Remove the copies ``planned`` and the folders made for them: none was in the
        archive before (``_archive`` plans only new ones, and one merge runs at a time).
        What cannot be removed stays: named by its content, it is the file as checked, and
        the next merge of it finds it there."""
        if self.archive_root is not None:
            remove_copies([target for _source, target, _digest in planned], self.archive_root)

    @property
    def ok(self) -> bool:
        return not self.rejected and all(d.earlier is not SubmissionResult.REFUSED
                                         for d in self.duplicates)


def merge_files(master_store: MasterStore | Path | str, files: list[Path],
                period: str | None = None,
                received: datetime | Mapping[Path, datetime] | None = None,
                now: datetime | None = None, lock_wait: float = LOCK_WAIT, *,
                reapply: bool = False) -> MergeResult:
    """Check and merge ``files`` into the master's ledger; one atomic write at the end.

    ``received`` is when the files arrived (it decides 按时/逾期): one time for all, or per
    file (``zdxm mail fetch`` knows each message's own); missing means now. ``reapply``
    takes files that were merged and then replaced back as their unit's current return."""
    # the rows of the returns' projects are what it reads of the ledger
    store = open_store(master_store, ledger_on_demand=True)
    if isinstance(store, FileStore):
        store.lock_wait = lock_wait
    paths = collect_files(files)
    if not paths:
        raise UsageError("没有找到要合并的文件。", field=Field.FILES)
    # the files are vetted and read (in reader processes) while the master is read
    examining = begin_checking(paths)
    try:
        # No collection pauses from the read to the write: each time the collector is let
        # back on, it walks every record made since (for 1,000 returns, about 0.2 s in all
        # for the master's, the returns', the new ledger's); none of them makes a cycle.
        with no_collection_pauses(), store.session():
            clock = time.perf_counter()
            master = store.load()
            if period is not None:
                period = plan_period(period, master.year)
            result = MergeResult()
            result.seconds["read"] = time.perf_counter() - clock
            clock = time.perf_counter()
            changed = merge_into(master, Workspace(store.folder, master.settings), paths,
                                 period, received, now, result, reapply=reapply,
                                 examined=examining)
            result.seconds["apply"] = time.perf_counter() - clock - result.seconds["check"]
            clock = time.perf_counter()
            if changed:
                checkpoint("before-master-write")
                with result.archiving() as ready:  # archived while the master is written
                    store.save(master, ready)
                result.written = True
            result.seconds["write"] = time.perf_counter() - clock
            return result
    finally:
        examining.close()


def version_time(path: Path, received: datetime | Mapping[Path, datetime] | None) -> datetime:
    """When this version of a file came in: its mail's arrival where known, else the time
    the file was last modified."""
    if isinstance(received, Mapping) and path in received:
        return received[path]
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return datetime.min


def merge_into(master: Master, workspace: Workspace, paths: Sequence[Path],
               period: str | None = None,
               received: datetime | Mapping[Path, datetime] | None = None,
               now: datetime | None = None, result: MergeResult | None = None, *,
               reapply: bool = False, examined: Iterable[Examined] | None = None) -> bool:
    """The merge on a master already loaded (the caller holds the session and saves it):
    fills ``result``; returns whether the master changed. ``examined``: the files' vetting
    and reading, begun before (``begin_checking``)."""
    result = result if result is not None else MergeResult()
    processed = (now or datetime.now()).replace(microsecond=0)
    reconcile(master, processed)  # the office's edits of 问题台帐 first, in their history
    context = CheckContext(master)
    clock = time.perf_counter()
    found: list[Examined] = []
    checked = list(zip(paths, check_files(
        master, paths, period, context,
        examined=_keeping(examined if examined is not None else begin_checking(paths), found)),
        strict=True))
    # A file of a later 报告期 than the first may be checked again once an earlier one is
    # merged (below): from its vetting and reading kept here, as the bytes were the first
    # time, not from the disk again. The others' are let go.
    first = min((r.period for _p, r in checked if r.period is not None), default="")
    again = {n: found[n] for n, (_p, r) in enumerate(checked)
             if r.period is not None and r.period > first}
    found.clear()
    result.seconds["check"] = result.seconds.get("check", 0.0) + time.perf_counter() - clock
    start = len(result.reports)
    result.reports.extend(report for _path, report in checked)
    log = _Log(master)
    ledger = _Ledger(master)
    archive: list[FileReport] = []
    changed_periods: set[str] = set()
    changed = False
    for position in _apply_order(checked, received):
        path, report = checked[position]
        if report.period is not None and any(p < report.period for p in changed_periods):
            # an earlier month changed in this run: check against it as it is now
            ledger.flush()
            report = check_file(master, path, period, context, examined=again.pop(position))
            result.reports[start + position] = report
        when = received.get(path) if isinstance(received, Mapping) else received
        arrived = (when or processed).replace(microsecond=0)
        logged = period or report.period
        earlier = log.find(report.sha256, logged)
        if earlier is not None:
            taken_back = reapply and earlier.result is SubmissionResult.REPLACED
            passes_now = earlier.result is SubmissionResult.REFUSED and report.valid
            if taken_back and not report.valid:  # asked for, but it no longer passes
                result.rejected.append(RejectedFile(str(path), report.unit, report.period,
                                                    report.errors))
                continue
            if not (taken_back or passes_now):  # nothing new: no row, no write, no backup
                result.duplicates.append(DuplicateFile(str(path), earlier.unit, earlier.period,
                                                       earlier.result))
                continue
        changed = True
        if not report.valid or report.period is None or report.unit is None:
            timely = on_time(arrived, logged, master.settings.deadline_day) if logged else None
            # A file whose identity failed is logged under the unit it seems to come from
            # (file name, sender), so 报送情况 says 未通过 rather than 未报送; never merged.
            log.add(Submission(period=logged, unit=report.unit or report.named_unit,
                               file_name=path.name,
                               sha256=report.sha256, received_at=arrived, processed_at=processed,
                               result=SubmissionResult.REFUSED, errors=report.errors,
                               warnings=report.warnings,
                               on_time=None if timely is None else _yes_no(timely)))
            result.rejected.append(RejectedFile(str(path), report.unit, report.period,
                                                report.errors))
            continue
        archive.append(report)
        if earlier is None:  # a new file
            timely = on_time(arrived, report.period, master.settings.deadline_day)
            row = log.add(Submission(period=logged, unit=report.unit, file_name=path.name,
                                     sha256=report.sha256, received_at=arrived,
                                     processed_at=processed, result=SubmissionResult.MERGED,
                                     errors=report.errors, warnings=report.warnings,
                                     on_time=_yes_no(timely)))
        else:  # the same file as before: taken back on purpose, or passing where it failed
            row = earlier
            row.note = f"{processed:%Y-%m-%d %H:%M} " + (
                "重新采用" if earlier.result is SubmissionResult.REPLACED else "重新校验后通过")
            row.unit, row.period = report.unit, logged
            row.processed_at, row.errors, row.warnings = processed, report.errors, report.warnings
            log.moved(row)
        replaced = _replace_rows(ledger, log, report, row)
        result.problems.add(take_return(master, report.period, report.unit, report.entries,
                                        report.tracking, processed, context.problems()))
        reapplied = row.result is SubmissionResult.REPLACED
        row.result = SubmissionResult.MERGED
        log.merged(row)
        context.ledger_changed(report.period)
        changed_periods.add(report.period)
        result.merged.append(MergedFile(str(path), report.unit, report.period,
                                        len(report.entries), reapplied=reapplied))
        for other in replaced:
            result.replaced.append(ReplacedFile(other.file_name, other.unit, other.period,
                                                str(path)))
    ledger.flush()
    result.to_archive += _archive(workspace, archive)
    result.archive_root = workspace.archive
    return changed


def _keeping(examined: Iterable[Examined], kept: list[Examined]) -> Iterator[Examined]:
    """``examined`` as it goes by, each one also put in ``kept``."""
    for one in examined:
        kept.append(one)
        yield one


def _apply_order(checked: Sequence[tuple[Path, FileReport]],
                 received: datetime | Mapping[Path, datetime] | None) -> list[int]:
    """The order to apply checked files in: 报告期 by 报告期 (a month's checks compare with
    the month before), and within one, the files as given — except that each unit's files
    for the period take their places oldest version first, so its newest is applied last
    and stays. Files of different units keep their order, so a run's result does not
    depend on when each file happened to be saved."""
    order = list(range(len(checked)))
    groups: dict[tuple[str, str], list[int]] = {}
    for position, (_path, report) in enumerate(checked):
        if report.period is not None and report.unit is not None:
            groups.setdefault((report.period, report.unit), []).append(position)
    for places in groups.values():
        if len(places) == 1:  # the unit's one file: no times to look up
            continue
        by_time = sorted(places, key=lambda i: version_time(checked[i][0], received))
        for place, position in zip(places, by_time, strict=True):
            order[place] = position
    return sorted(order, key=lambda i: checked[i][1].period or "")


def _yes_no(value: bool) -> YesNo:
    return YesNo.YES if value else YesNo.NO


class _Log:
    """报送记录 as the merge looks things up in it: by content, the row that counts; by
    报告期 and unit, the rows that may be its merged file."""

    def __init__(self, master: Master) -> None:
        self.master = master
        self.counted: dict[str, Submission] = {}
        self.refused: dict[tuple[str, str | None], Submission] = {}
        self.of_unit: dict[tuple[str | None, str | None], list[Submission]] = {}
        for row in master.submissions:
            self._index(row)

    def _index(self, row: Submission) -> None:
        if row.result in COUNTED:
            self.counted.setdefault(row.sha256, row)
        elif row.result is SubmissionResult.REFUSED:
            self.refused.setdefault((row.sha256, row.period), row)
        self.moved(row)

    def moved(self, row: Submission) -> None:
        """``row`` is (now) of its 报告期 and unit: found there too."""
        rows = self.of_unit.setdefault((row.period, row.unit), [])
        if not any(other is row for other in rows):
            rows.append(row)

    def merged_of(self, period: str, unit: str) -> list[Submission]:
        """The unit's rows for ``period`` that stand as merged, in the log's order."""
        rows = [row for row in self.of_unit.get((period, unit), [])
                if row.period == period and row.unit == unit
                and row.result is SubmissionResult.MERGED]
        order = {id(row): n for n, row in enumerate(self.master.submissions)} if len(rows) > 1 \
            else {}
        return sorted(rows, key=lambda row: order.get(id(row), 0))

    def find(self, sha256: str, period: str | None) -> Submission | None:
        """This content's row: merged (or replaced) in any period, else refused for this
        one — refused for another 报告期 it is checked as new (it may be that month's)."""
        return self.counted.get(sha256) or self.refused.get((sha256, period))

    def add(self, row: Submission) -> Submission:
        self.master.submissions.append(row)
        self._index(row)
        return row

    def merged(self, row: Submission) -> None:
        self.refused.pop((row.sha256, row.period), None)
        self.counted.setdefault(row.sha256, row)


def _archive(workspace: Workspace, reports: Sequence[FileReport]
             ) -> list[tuple[Path, Path, str]]:
    """Where each merged file is to be kept in the archive (source, target, its SHA-256),
    named by its content; one kept before is not copied again. Copied by
    ``MergeResult.archive``."""
    copies: dict[Path, FileReport] = {}
    # 报告期 → whether its folder is there: in a month's first merge it is not, and then
    # no file is kept in it yet (one look, not one per file)
    begun: dict[str, bool] = {}
    for report in reports:
        assert report.period is not None and report.unit is not None
        # Named by what the file is, not what it was called: a .xls sent as “….xlsx” is a .xls.
        kind = report.vetted.kind if report.vetted is not None else None
        target = workspace.archived(report.period, report.unit, report.sha256,
                                    f".{kind}" if kind else report.path.suffix or ".xlsx")
        if report.period not in begun:
            begun[report.period] = workspace.archived_period(report.period).is_dir()
        if not (begun[report.period] and target.exists()):  # its folder is made with the copy
            copies[target] = report
    return [(report.path, target, report.sha256) for target, report in copies.items()]


class _Ledger:
    """月报台帐 as the merge changes it: a unit's rows for a 报告期 dropped and its new rows
    added, found by key rather than by a pass over the whole ledger per file, and without
    decoding the rows (``Ledger.key``); the rows dropped go (``flush``) before anything
    reads the ledger again."""

    def __init__(self, master: Master) -> None:
        self.ledger = master.ledger
        self.keyed: dict[tuple[str, str], list[int]] = {}  # (报告期, unit or project) → rows
        self.periods: set[str] = set()  # the 报告期 whose rows are keyed (those merged into)
        self.dropped: set[int] = set()

    def _key_period(self, period: str) -> None:
        """Key the rows of ``period``, once: a merge touches one month or a few of a
        ledger that holds the whole year."""
        if period in self.periods:
            return
        self.periods.add(period)
        for position in range(len(self.ledger)):
            if position not in self.dropped:
                key = self.ledger.key(position)
                if key[0] == period:
                    self._key(key, position)

    def _key(self, key: Key, position: int) -> None:
        period, unit, project_id = key
        self.keyed.setdefault((period, "u:" + (unit or "")), []).append(position)
        self.keyed.setdefault((period, "p:" + project_id), []).append(position)

    def replace(self, period: str, unit: str, entries: Sequence[LedgerEntry]) -> None:
        """Drop the rows of ``period`` that are ``unit``'s or of the same projects as
        ``entries``; add ``entries`` at the end."""
        self._key_period(period)
        keys = [(period, "u:" + unit)] + [(period, "p:" + e.project_id) for e in entries]
        for key in keys:
            self.dropped.update(self.keyed.pop(key, []))
        for entry in entries:  # rows of ``period``, keyed above
            self.ledger.append(entry)
            self._key((entry.period, entry.unit, entry.project_id), len(self.ledger) - 1)

    def flush(self) -> None:
        if self.dropped:
            self.ledger.drop(self.dropped)
            self.dropped = set()
            self.keyed.clear()  # the rows have moved: keyed again when next asked
            self.periods.clear()


def _replace_rows(ledger: _Ledger, log: _Log, report: FileReport,
                  current: Submission) -> list[Submission]:
    """Drop the unit's earlier rows for the period (and any rows of the same projects),
    mark its other merged file 被替换 (saying by which), add the new rows."""
    period, unit = report.period, report.unit
    assert period is not None and unit is not None
    ledger.replace(period, unit, report.entries)
    replaced = []
    for earlier in log.merged_of(period, unit):
        if earlier is not current:
            earlier.result = SubmissionResult.REPLACED
            earlier.note = f"由《{current.file_name}》替换"
            replaced.append(earlier)
    return replaced
