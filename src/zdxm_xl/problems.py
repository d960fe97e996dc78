"""问题台帐 as the office works it: list, 交办, 办结, each item's history, and the ribbon's
review (``zdxm problems``, the 问题台帐 button; docs/问题督办.md).

Items come from merged returns (``merge``); here the office follows them up. Every change
goes through ``core.problems`` and is kept in 问题办理记录; what the office typed into the
sheet by hand since the program last saw it is logged first (``reconcile``), so the
history stays whole however the office works.
"""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime
from pathlib import Path

from pydantic import computed_field
from pydantic.dataclasses import dataclass

from .books.masterio import open_store
from .core import problems as ledger
from .core.changelog import current_operator
from .core.errors import Field, UsageError
from .core.master import Master, MasterStore
from .core.models import (
    OPEN_PROBLEM,
    Problem,
    ProblemChange,
    ProblemStatus,
    ProblemType,
)
from .core.periods import format_period, given_day, plan_period
from .core.results import RESULT, Hidden

__all__ = ["OPEN", "ProblemLine", "ProblemList", "ProblemChangeResult", "ProblemHistory",
           "ProblemReview", "Assignment", "list_problems", "assign_problem", "assign_problems",
           "close_problem",
           "problem_history", "review_problems"]

OPEN = "未办结"  # a status filter meaning 待交办 and 办理中


@dataclass(config=RESULT)
class ProblemLine:
    """One item of 问题台帐 as listed: its fields and its warnings on the day."""

    id: str  # 问题编号
    project_id: str
    project_name: str | None
    unit: str | None  # 协调责任单位
    type: ProblemType
    status: ProblemStatus
    due: date | None  # 办理时限
    opened: str  # 提出报告期
    closed: date | None  # 办结日期
    overdue: bool  # open past its 办理时限
    due_soon: bool  # open, its 办理时限 within 设置 问题临期提醒天数
    months_open: int  # 报告期 since it was raised
    reporter: str | None  # 提出单位
    description: str
    coordination: str | None
    progress: str | None  # 最新进展
    updated: str | None  # 更新报告期

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flag(self) -> str:
        """预警: 红 past its 办理时限, 黄 near it, else empty."""
        return "红" if self.overdue else ("黄" if self.due_soon else "")


def _line(item: Problem, day: date, period: str, days: int) -> ProblemLine:
    return ProblemLine(
        item.id, item.project_id, item.project_name, item.unit, item.type,
        ledger.status_on(item, day), item.due, item.opened, item.closed,
        ledger.overdue(item, day), ledger.due_soon(item, day, days),
        ledger.months_open(item, period), item.reporter, item.description, item.coordination,
        item.progress, item.updated)


@dataclass(config=RESULT)
class ProblemList:
    """The items of 问题台帐 asked for (``--json``: ``{"items": [...]}``)."""

    items: list[ProblemLine] = field(default_factory=list)
    day: Hidden[date] = date.min  # overdue and near-due are judged on this day
    period: Hidden[str | None] = None
    status: Hidden[str | None] = None
    total: Hidden[int] = 0  # items in 问题台帐 (before the filters)


def _as_of(master: Master, day: date | str | None) -> date:
    if day is None:
        return date.today()
    return given_day(day, "日期", Field.DATE, f"{master.year}-04-08")


def _reference(master: Master, period: str | None, day: date) -> str:
    """The 报告期 an item's age is counted to: the one asked for, 设置's 当前报告期, the
    latest in 月报台帐, else the month of ``day``."""
    latest = max(master.ledger.periods(), default=None)
    return period or master.settings.current_period or latest or format_period(day)


def _status_filter(status: str | None) -> tuple[ProblemStatus, ...] | None:
    if status is None or not status.strip():
        return None
    text = status.strip()
    if text == OPEN:
        return OPEN_PROBLEM
    try:
        return (ProblemStatus(text),)
    except ValueError:
        raise UsageError(f"状态“{status}”无效，应为{'、'.join(ProblemStatus)}或{OPEN}。",
                         field=Field.STATUS, value=status) from None


def list_problems(master_store: MasterStore | Path | str, period: str | None = None,
                  status: str | None = None, day: date | str | None = None) -> ProblemList:
    """问题台帐's items: with ``period``, those raised in it or before; with ``status``
    (待交办 / 办理中 / 已办结 / 不再协调, or 未办结 for the first two), those in that state on
    ``day`` (default today), on which overdue and near-due are judged too."""
    store = open_store(master_store)
    master = store.load()
    if period is not None:
        period = plan_period(period, master.year)
    wanted = _status_filter(status)
    on = _as_of(master, day)
    # statuses as the sheet now means them, seen on the day asked for; not saved
    ledger.reconcile(master, datetime.combine(on, datetime.min.time()))
    counted = _reference(master, period, on)
    days = master.settings.problem_warning_days
    lines = [_line(item, on, counted, days) for item in master.problems
             if period is None or item.opened <= period]
    if wanted is not None:
        lines = [line for line in lines if line.status in wanted]
    return ProblemList(lines, on, period, status, len(master.problems))


@dataclass(config=RESULT)
class ProblemChangeResult:
    """An item after 交办 or 办结, and the rows its change added to 问题办理记录."""

    item: ProblemLine
    changes: list[ProblemChange] = field(default_factory=list)


@dataclass(config=RESULT)
class Assignment:
    """One 交办: the item, its 协调责任单位 and 办理时限 (and type, if it changes)."""

    problem_id: str
    unit: str
    due: date | str
    kind: ProblemType | str | None = None


def assign_problems(master_store: MasterStore | Path | str, assignments: list[Assignment],
                    operator: str | None = None, *, now: datetime | None = None
                    ) -> list[ProblemChangeResult]:
    """交办 several items at once (one write of the master): each ``unit`` (a registered
    责任单位) is to solve its item by ``due``; ``kind`` sets the 问题类型. A 待交办 item
    becomes 办理中. Nothing is changed when any of them cannot be."""
    store = open_store(master_store)
    when = (now or datetime.now()).replace(microsecond=0)
    who = operator or current_operator()
    with store.session():
        master = store.load()
        ledger.reconcile(master, when)
        before = len(master.problem_log)
        items = [ledger.assign(master, a.problem_id, a.unit, a.due, a.kind, when, who)
                 for a in assignments]
        store.save(master)
    return _results(master, items, before, when)


def _results(master: Master, items: list[Problem], before: int, when: datetime
             ) -> list[ProblemChangeResult]:
    period = _reference(master, None, when.date())
    days = master.settings.problem_warning_days
    added = master.problem_log[before:]
    return [ProblemChangeResult(_line(item, when.date(), period, days),
                                [c for c in added if c.problem_id == item.id]) for item in items]


def assign_problem(master_store: MasterStore | Path | str, problem_id: str, unit: str,
                   due: date | str, kind: ProblemType | str | None = None,
                   operator: str | None = None, *, now: datetime | None = None
                   ) -> ProblemChangeResult:
    """交办 one item (``assign_problems``)."""
    return assign_problems(master_store, [Assignment(problem_id, unit, due, kind)], operator,
                           now=now)[0]


def close_problem(master_store: MasterStore | Path | str, problem_id: str, day: date | str,
                  note: str | None = None, operator: str | None = None, *,
                  now: datetime | None = None) -> ProblemChangeResult:
    """办结: the item was solved on ``day``; ``note`` (how) becomes its 最新进展."""
    store = open_store(master_store)
    when = (now or datetime.now()).replace(microsecond=0)
    with store.session():
        master = store.load()
        ledger.reconcile(master, when)
        before = len(master.problem_log)
        item = ledger.close(master, problem_id, day, note, when, operator or current_operator())
        store.save(master)
    return _results(master, [item], before, when)[0]


@dataclass(config=RESULT)
class ProblemHistory:
    """问题办理记录 of one item, oldest first."""

    problem_id: str
    changes: list[ProblemChange]


def problem_history(master_store: MasterStore | Path | str, problem_id: str) -> ProblemHistory:
    store = open_store(master_store)
    master = store.load()
    ledger.reconcile(master, datetime.now())
    item = ledger.find_problem(master, problem_id)
    return ProblemHistory(item.id, ledger.history(master, item.id))


@dataclass(config=RESULT)
class ProblemReview:
    """问题台帐 at a glance (the ribbon's 问题台帐 button): what the office edited by hand is
    logged and saved, and what needs doing is counted."""

    day: date
    total: int
    by_status: dict[str, int]
    waiting: list[ProblemLine]  # 待交办: to assign
    overdue: list[ProblemLine]  # past their 办理时限
    due_soon: list[ProblemLine]
    edits: int  # rows logged for edits made in the sheet
    written: bool


def review_problems(master_store: MasterStore | Path | str, day: date | None = None,
                    now: datetime | None = None) -> ProblemReview:
    store = open_store(master_store)
    when = (now or datetime.now()).replace(microsecond=0)
    on = day or when.date()
    with store.session():
        master = store.load()
        edits = ledger.reconcile(master, when)
        written = bool(edits) or master.ids_assigned
        if written:
            store.save(master)
    period = _reference(master, None, on)
    days = master.settings.problem_warning_days
    lines = [_line(item, on, period, days) for item in master.problems]
    counts = {status.value: sum(1 for line in lines if line.status is status)
              for status in ProblemStatus}
    return ProblemReview(
        on, len(lines), counts, [line for line in lines if line.status is ProblemStatus.WAITING],
        [line for line in lines if line.overdue], [line for line in lines if line.due_soon],
        len(edits), written)
