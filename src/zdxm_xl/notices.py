"""督办通知单: one Word notice per supervised unit (``zdxm notices``, the 督办通知 button).

What is supervised, and to whom, is ``reports.supervision.supervise`` on the 报告期's
progress as of the notices' date: problems past their 办理时限 or open for 设置 问题督办月数,
红 projects, projects 逾期未开工 or 逾期未竣工. Each notice is written from the office's
template (``templates/督办通知.docx``, ``reports.notices``); each problem supervised gets a
督办 row in 问题办理记录 naming the notice, once however often the notices are made again.
"""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime
from functools import partial
from pathlib import Path

from pydantic.dataclasses import dataclass

from .books.masterio import open_store
from .books.safety import atomic_write
from .core import problems as ledger
from .core.errors import Field, UsageError
from .core.master import Master, MasterStore
from .core.models import ProblemEvent
from .core.periods import given_day, plan_period
from .core.results import RESULT, Hidden
from .core.workspace import Workspace
from .reports.bulletins import template_bytes
from .reports.notices import NOTICE_TEMPLATE, notice_context, notice_name, render_notice
from .reports.pdf import to_pdfs
from .reports.progress import Progress, compute_progress
from .reports.supervision import SupervisedUnit, Supervision
from .reports.writers import write_each

__all__ = ["NoticeFile", "NoticesResult", "make_notices"]


@dataclass(config=RESULT)
class NoticeFile:
    """One 督办通知单 written."""

    unit: str
    number: str  # 编号
    file: Path
    problems: int  # problems supervised
    warnings: int  # problems near their 办理时限 (reminders)
    projects: int  # projects supervised
    pdf: Path | None = None


@dataclass(config=RESULT)
class NoticesResult:
    """The 督办通知单 of a 报告期."""

    period: str
    issued: date  # the notices' date: overdue is judged on it
    reply_by: date  # the units answer by this day
    folder: Path
    notices: list[NoticeFile] = field(default_factory=list)
    waiting: int = 0  # long-open problems not yet given to a unit: the office's to assign
    pdf_problem: str | None = None  # why no PDF was made, in Chinese
    supervision: Hidden[Supervision | None] = None
    written: Hidden[bool] = False  # the master was saved (督办 rows in 问题办理记录)


def make_notices(master_store: MasterStore | Path | str, period: str,
                 out_dir: Path | str | None = None, *, issued: date | str | None = None,
                 reply_by: date | str | None = None, template: Path | str | None = None,
                 pdf: bool = False, now: datetime | None = None) -> NoticesResult:
    """Write a 督办通知单 for each unit with something supervised in ``period`` into
    ``out_dir`` (default: the workspace's 输出/督办通知/报告期), dated ``issued`` (today)
    and asking for an answer by ``reply_by`` (ten days later)."""
    data, label = template_bytes(template, NOTICE_TEMPLATE, ".docx")
    store = open_store(master_store)
    when = (now or datetime.now()).replace(microsecond=0)
    with store.session():
        master = store.load()
        period = plan_period(period, master.year)
        example = f"{master.year}-04-08"
        day = when.date() if issued is None else \
            given_day(issued, "通知日期", Field.DATE, example)
        answer = None if reply_by is None else \
            given_day(reply_by, "反馈日期", Field.DUE, example)
        if answer is not None and answer < day:
            raise UsageError(f"反馈日期 {answer.isoformat()} 早于通知日期 {day.isoformat()}。",
                             field=Field.DUE, value=str(reply_by))
        edits = ledger.reconcile(master, when)
        progress = compute_progress(master, period, issued=day, compare=False, reply_by=answer)
        supervision = progress.supervision
        assert supervision is not None
        folder = Path(out_dir) if out_dir is not None else \
            Workspace(store.folder, master.settings).notices(period)
        folder.mkdir(parents=True, exist_ok=True)
        result = NoticesResult(period, day, supervision.reply_by, folder,
                               waiting=supervision.waiting_problems, supervision=supervision)
        jobs = [(unit, folder / notice_name(position, unit.unit))
                for position, unit in enumerate(supervision.units, start=1)]
        # writer processes write some, for many units
        write_each(_write, (data, label, progress, master.settings.mail_contact), jobs)
        result.notices = [NoticeFile(unit.unit, unit.number, path, unit.problem_count,
                                     unit.warning_count, len(unit.projects))
                          for unit, path in jobs]
        logged = _log_supervision(master, supervision.units, period, when)
        if logged or edits or master.ids_assigned:
            store.save(master)
            result.written = True
    if pdf:
        made, result.pdf_problem = to_pdfs([notice.file for notice in result.notices])
        for notice in result.notices:
            if notice.file.with_suffix(".pdf") in made:
                notice.pdf = notice.file.with_suffix(".pdf")
    return result


def _write(shared: tuple[bytes, str, Progress, str], job: tuple[SupervisedUnit, Path]) -> None:
    (data, label, progress, contact), (unit, path) = shared, job
    atomic_write(path, partial(render_notice, data, label, notice_context(progress, unit, contact)))


def _log_supervision(master: Master, units: list[SupervisedUnit], period: str,
                     when: datetime) -> int:
    """A 督办 row in 问题办理记录 for each problem a notice names, unless it is there."""
    tracker = ledger.Tracker(master, when, period=period)
    seen = {(c.problem_id, (c.note or "").split("：")[0]) for c in master.problem_log
            if c.event is ProblemEvent.SUPERVISED}
    items = {p.id: p for p in master.problems}
    for unit in units:
        notice = f"督办通知单 {unit.number}（{unit.unit}）"
        for entry in unit.problems:
            item = items.get(entry.problem_id)
            if item is not None and (item.id, notice) not in seen:
                tracker.log(item, ProblemEvent.SUPERVISED, note=f"{notice}：{entry.reason}")
    return len(tracker.changes)
