"""The monthly 简报 (Word) and 通报 (Excel), and their PDF (SPEC §5), as an operation.

``make_bulletin`` computes the ``Progress`` of a 报告期 (``reports.progress``), writes the
简报 and 通报 from the office's templates (``reports.bulletins``) and, asked for, the PDF
(``reports.pdf``).

期数: the 简报's number continues from 设置 — 简报期数 holds the last number issued and
已出简报 records which 报告期 got which number. A rerun for a 报告期 that already has a
number reuses it (correcting a 简报 does not burn a number); a new 报告期 takes the next
number. The master is written once, and only when a number was newly taken — after both
files are written.

同比: last year's master (``previous``, else 设置“上年台账”) is read — never written —
through ``books.masterio.load_master``; it must be of the year before.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from pydantic import computed_field
from pydantic.dataclasses import dataclass

from .books.masterio import load_master, open_store
from .books.safety import atomic_write
from .core.errors import Field, MasterError, UsageError
from .core.master import Master, MasterStore
from .core.periods import plan_period
from .core.problems import reconcile
from .core.results import RESULT, Hidden
from .core.workspace import Workspace
from .reports.bulletins import (
    EXCEL_TEMPLATE,
    WORD_TEMPLATE,
    excel_name,
    render_excel,
    render_word,
    template_bytes,
    template_fields,
    word_name,
)
from .reports.pdf import to_pdf
from .reports.progress import Progress, compute_progress, format_bulletin_log, parse_bulletin_log
from .reports.writers import kept_writers, write_each

__all__ = ["BulletinResult", "make_bulletin", "template_fields"]


@dataclass(config=RESULT)
class BulletinResult:
    period: str
    issue: int
    new_issue: bool  # the number was newly taken (and saved in 设置)
    docx: Path
    xlsx: Path
    progress: Hidden[Progress]
    pdf: Path | None = None
    pdf_problem: str | None = None  # why no PDF was made, in Chinese
    year_ago: str | None = None  # the file of last year's master the 同比 came from

    @computed_field  # type: ignore[prop-decorator]
    @property
    def carried_over(self) -> int:
        """Projects whose figures are not this period's (carried over, or none this year)."""
        return self.progress.freshness.carried_projects

    @computed_field  # type: ignore[prop-decorator]
    @property
    def carried_units(self) -> list[str]:
        return self.progress.freshness.carried_units

    @computed_field  # type: ignore[prop-decorator]
    @property
    def carried_from(self) -> list[str]:
        return self.progress.freshness.from_months


def make_bulletin(master_store: MasterStore | Path | str, period: str,
                  out_dir: Path | str | None = None, *, word_template: Path | str | None = None,
                  excel_template: Path | str | None = None, pdf: bool = False,
                  issued: date | None = None, previous: Path | str | None = None
                  ) -> BulletinResult:
    """Write the 简报 and 通报 of ``period`` into ``out_dir`` (default: the workspace's
    输出/简报/报告期); with last year's master (``previous``, else 设置“上年台账”) the
    figures are compared with the same period last year."""
    word_bytes, word_label = template_bytes(word_template, WORD_TEMPLATE, ".docx")
    excel_bytes, excel_label = template_bytes(excel_template, EXCEL_TEMPLATE, ".xlsx")
    store = open_store(master_store)
    with store.session():
        master = store.load()
        reconcile(master, datetime.now())  # 问题台帐 as the office left it (saved with a new issue)
        period = plan_period(period, master.year)
        log = parse_bulletin_log(master.settings.bulletin_log)
        new_issue = period not in log
        issue = log.get(period, master.settings.bulletin_issue + 1)
        workspace = Workspace(store.folder, master.settings)
        year_ago_path = Path(previous) if previous is not None else workspace.previous_master
        year_ago = _year_ago(year_ago_path, master) if year_ago_path is not None else None
        progress = compute_progress(master, period, issue, issued, year_ago=year_ago,
                                    year_ago_source=year_ago_path.name if year_ago_path else "")
        folder = Path(out_dir) if out_dir is not None else workspace.bulletins(period)
        folder.mkdir(parents=True, exist_ok=True)
        docx = folder / word_name(master.year, issue)
        xlsx = folder / excel_name(period)
        # a writer kept from a batch just before (the add-in's, the demo's) writes the 简报
        # while this process writes the 通报; none is started for two documents
        write_each(_render, (progress, word_bytes, word_label, excel_bytes, excel_label),
                   [docx, xlsx], writers=min(kept_writers(), 1))
        if new_issue:
            log[period] = issue
            master.settings.bulletin_log = format_bulletin_log(log)
            master.settings.bulletin_issue = max(master.settings.bulletin_issue, issue)
            store.save(master)
    result = BulletinResult(period, issue, new_issue, docx, xlsx, progress,
                            year_ago=year_ago_path.name if year_ago_path else None)
    if pdf:
        result.pdf, result.pdf_problem = to_pdf(docx)
    return result


def _render(shared: tuple[Progress, bytes, str, bytes, str], path: Path) -> None:
    """The 简报 (a .docx ``path``) or the 通报, from the office's template."""
    progress, word_bytes, word_label, excel_bytes, excel_label = shared
    if path.suffix == ".docx":
        atomic_write(path, lambda temp: render_word(word_bytes, word_label, progress, temp))
    else:
        atomic_write(path, lambda temp: render_excel(excel_bytes, excel_label, progress, temp))


def _year_ago(path: Path, master: Master) -> Master:
    """Last year's master, read only; ``UsageError`` naming the input when it is not one."""
    if not path.is_file():
        raise UsageError(f"上年台账“{path}”不存在，无法计算同比。", field=Field.PREVIOUS,
                         value=str(path))
    try:
        previous = load_master(path)
    except MasterError as exc:
        raise UsageError(f"上年台账无法读取：{exc.message}", field=Field.PREVIOUS,
                         value=str(path)) from exc
    if previous.year != master.year - 1:
        raise UsageError(f"“{path.name}”是 {previous.year} 年的台账，同比需要上一年度"
                         f"（{master.year - 1} 年）的台账。", field=Field.PREVIOUS, value=str(path))
    return previous
