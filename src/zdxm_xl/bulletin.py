"""The monthly 简报 (Word) and 通报 (Excel), and their PDF (SPEC §5), as an operation.

``make_bulletin`` computes the ``Progress`` of a 报告期 (``reports.progress``), writes the
简报 and 通报 from the office's templates (``reports.bulletins``) and, asked for, the PDF
(``reports.pdf``).

期数: the 简报's number continues from 设置 — 简报期数 holds the last number issued and
已出简报 records which 报告期 got which number. A rerun for a 报告期 that already has a
number reuses it (correcting a 简报 does not burn a number); a new 报告期 takes the next
number. The master is written once, and only when a number was newly taken — after both
files are written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import computed_field
from pydantic.dataclasses import dataclass

from .books.masterio import open_store
from .books.safety import atomic_write
from .core.master import MasterStore
from .core.periods import plan_period
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
                  issued: date | None = None) -> BulletinResult:
    """Write the 简报 and 通报 of ``period`` into ``out_dir`` (default: the workspace's
    输出/简报/报告期)."""
    word_bytes, word_label = template_bytes(word_template, WORD_TEMPLATE, ".docx")
    excel_bytes, excel_label = template_bytes(excel_template, EXCEL_TEMPLATE, ".xlsx")
    store = open_store(master_store)
    with store.session():
        master = store.load()
        period = plan_period(period, master.year)
        log = parse_bulletin_log(master.settings.bulletin_log)
        new_issue = period not in log
        issue = log.get(period, master.settings.bulletin_issue + 1)
        progress = compute_progress(master, period, issue, issued)
        workspace = Workspace(store.folder, master.settings)
        folder = Path(out_dir) if out_dir is not None else workspace.bulletins(period)
        folder.mkdir(parents=True, exist_ok=True)
        docx = folder / word_name(master.year, issue)
        xlsx = folder / excel_name(period)
        atomic_write(docx, lambda temp: render_word(word_bytes, word_label, progress, temp))
        atomic_write(xlsx, lambda temp: render_excel(excel_bytes, excel_label, progress, temp))
        if new_issue:
            log[period] = issue
            master.settings.bulletin_log = format_bulletin_log(log)
            master.settings.bulletin_issue = max(master.settings.bulletin_issue, issue)
            store.save(master)
    result = BulletinResult(period, issue, new_issue, docx, xlsx, progress)
    if pdf:
        result.pdf, result.pdf_problem = to_pdf(docx)
    return result
