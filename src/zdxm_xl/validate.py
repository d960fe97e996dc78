"""Validating returned files: check each against the master, annotate, report.

The one core operation behind ``zdxm validate`` and the ribbon's 校验 button. It reads the
master once and never writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .books.masterio import Master, MasterStore, as_store
from .checks.returns import CheckContext, FileReport, check_file
from .core.cells import parse_period
from .core.errors import UsageError
from .reports.annotated import annotate

__all__ = ["ValidationRun", "validate_files", "collect_files", "RETURN_SUFFIXES"]

RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb", ".csv")


@dataclass
class ValidationRun:
    reports: list[FileReport] = field(default_factory=list)
    annotated: list[tuple[Path, Path]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.valid for r in self.reports)

    def as_json(self) -> dict[str, Any]:
        return {"files": [r.as_json() for r in self.reports]}


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder stands for the workbook-like files in it (not below it)."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file()
                            and p.suffix.lower() in RETURN_SUFFIXES
                            and not p.name.startswith(("~$", ".~lock")))
        else:
            files.append(path)
    return files


def check_period(period: str | None) -> str | None:
    if period is None:
        return None
    try:
        return parse_period(period)
    except ValueError as exc:
        raise UsageError(f"报告期“{period}”无效，请写成 2022-03 的形式。") from exc


def validate_files(master: Master | MasterStore | Path | str, files: Sequence[Path],
                   period: str | None = None, annotate_dir: Path | None = None,
                   today: date | None = None) -> ValidationRun:
    """Check every file; with ``annotate_dir``, write an annotated copy and a 回执 for each
    (dated ``today``, default the real today)."""
    period = check_period(period)
    book = master if isinstance(master, Master) else as_store(master).load()
    paths = collect_files(files)
    if not paths:
        raise UsageError("没有找到要校验的文件。")
    run = ValidationRun()
    context = CheckContext(book)
    for path in paths:
        report = check_file(book, path, period, context)
        run.reports.append(report)
        if annotate_dir is not None:
            run.annotated.append(annotate(report, annotate_dir, book.settings.publisher, today))
    return run
