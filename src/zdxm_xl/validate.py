"""Validating returned files: check each against the master, annotate, report.

The office's operation behind ``zdxm validate`` and the ribbon's 校验报表. It reads the
master once and never writes it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import date, datetime
from pathlib import Path

from pydantic.dataclasses import dataclass

from .books.masterio import open_store
from .checks.returns import CheckContext, FileReport, begin_checking, check_files, collect_files
from .core.errors import Field, UsageError
from .core.master import Master, MasterStore
from .core.pauses import no_collection_pauses
from .core.periods import plan_period
from .core.problems import reconcile
from .core.results import RESULT, Hidden
from .core.workspace import Workspace
from .reports.receipts import Office, office_of
from .reports.writers import write_each

__all__ = ["ValidationRun", "validate_files"]


@dataclass(config=RESULT)
class ValidationRun:
    files: list[FileReport] = field(default_factory=list)
    annotated: Hidden[list[tuple[Path, Path]]] = field(default_factory=list)
    # where the time went (for benchmarks, as ``MergeResult.seconds``): read (the master,
    # its 问题台帐 reconciled), check (the files)
    seconds: Hidden[dict[str, float]] = field(default_factory=dict)

    @property
    def reports(self) -> list[FileReport]:
        return self.files

    @property
    def ok(self) -> bool:
        return all(r.valid for r in self.files)


def validate_files(master: Master | MasterStore | Path | str, files: Sequence[Path],
                   period: str | None = None, annotate_dir: Path | None = None, *,
                   annotate_copies: bool = False, today: date | None = None,
                   received: datetime | Mapping[Path, datetime] | None = None) -> ValidationRun:
    """Check every file; write an annotated copy and a 回执 for each into ``annotate_dir``,
    or — with ``annotate_copies`` — into the workspace's 输出/校验结果/报告期 (dated
    ``today``, default the real today). ``received`` — when the files arrived, one time for
    all or per file — lets a 回执 say that a file came after the 截止日."""
    paths = collect_files(files)
    if not paths:
        raise UsageError("没有找到要校验的文件。", field=Field.FILES)
    # the files are vetted and read (in reader processes) while the master is read
    examining = begin_checking(paths)
    try:
        # one collection pause for the read and the checks (as ``merge_files``)
        with no_collection_pauses():
            clock = time.perf_counter()
            if isinstance(master, Master):
                loaded, folder = master, None
            else:
                # the ledger rows of the files' projects are what it reads (as a merge)
                store = open_store(master, ledger_on_demand=True)
                loaded, folder = store.load(), store.folder
                # 问题台帐 as the office left it, as merge checks against it (not saved)
                reconcile(loaded, datetime.now())
            read = time.perf_counter() - clock
            if period is not None:
                period = plan_period(period, loaded.year)
            if annotate_dir is None and annotate_copies:
                if folder is None:
                    raise UsageError("没有台账所在文件夹，无法确定批注副本的位置。", field=Field.OUTPUT)
                annotate_dir = Workspace(folder, loaded.settings).annotated(period)
            run = ValidationRun()
            context = CheckContext(loaded, keep_rows=False)  # nothing is merged: no ledger rows
            clock = time.perf_counter()
            run.files = list(check_files(loaded, paths, period, context, examined=examining))
            run.seconds.update(read=read, check=time.perf_counter() - clock)
        if annotate_dir is not None:
            # the copies are written by writer processes too, for many files
            jobs = [(report, office_of(loaded, period or report.period),
                     received.get(path) if isinstance(received, Mapping) else received)
                    for path, report in zip(paths, run.files, strict=True)]
            run.annotated = write_each(_annotate, (annotate_dir, today), jobs)
        return run
    finally:
        examining.close()


def _annotate(shared: tuple[Path, date | None],
              job: tuple[FileReport, Office, datetime | None]) -> tuple[Path, Path]:
    # (openpyxl, which the copies are made with, is imported only now: a check alone does
    # without it)
    from .reports.annotated import annotate

    (folder, today), (report, office, received) = shared, job
    return annotate(report, folder, office, today, received=received)
