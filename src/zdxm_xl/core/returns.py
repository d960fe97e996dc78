"""What is expected of the units each 报告期, and what they reported before.

The facts every operation shares about returns: which projects a 牵头单位 reports for a
报告期 (``expected_returns``), the figures of the month before that a form shows and the
checker compares with (``previous_figures``, ``last_reported``), the one rule of being
on time (``on_time``) and the one 报送状态 of a unit for a 报告期 (``submission_status``).

报送状态 (SPEC §4.3), used by status, 简报, 通报, 考核 and mail alike:

* **按时** — a file of the unit for the 报告期 passed the checks, and the first that passed
  arrived by the 截止日 (a later correction does not make it late). With 设置 “截止前报送、
  逾期更正计为按时” = 是, a unit whose file arrived by the 截止日 but failed, and whose
  correction passed after it, is 按时 too.
* **逾期** — a file passed, but the first that passed arrived after the 截止日 (and the
  setting above does not make it 按时).
* **未通过** — files arrived, none passed (also a file whose template was tampered with:
  it is logged under the unit its name or sender points to).
* **未报送** — nothing arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from datetime import time as day_time
from decimal import Decimal

from pydantic import computed_field
from pydantic.dataclasses import dataclass

from .errors import Field, UsageError
from .master import Master
from .models import LedgerEntry, Project, ReturnStatus, Submission, SubmissionResult, YesNo
from .periods import deadline, period_end, period_month, previous_period
from .results import RESULT

__all__ = ["reports_in", "expected_returns", "previous_figures", "last_reported", "on_time",
           "due_date", "COUNTED", "UnitStatus", "StatusReport", "submission_status",
           "return_status"]

# A file that is in the ledger, now or before a later one replaced it.
COUNTED = (SubmissionResult.MERGED, SubmissionResult.REPLACED)


def reports_in(project: Project, period: str) -> bool:
    """Whether a project is reported for ``period``: in the plan by the period's end (a 增补
    project reports from the period of its 批次日期 on), and not exited before the period
    began (a project exited in May still reports May, and leaves from June on)."""
    if project.batch_date is not None and project.batch_date > period_end(period):
        return False
    if project.exit_date is None:
        return project.active
    return project.exit_date >= period_month(period)


def expected_returns(master: Master, period: str,
                     units: Sequence[str] = ()) -> dict[str, list[Project]]:
    """牵头单位 → the projects it reports for ``period``, in the master's order; only
    ``units`` when given (``UsageError`` for one with nothing to report)."""
    by_unit: dict[str, list[Project]] = {}
    for project in master.projects:
        if reports_in(project, period):
            by_unit.setdefault(project.lead_unit, []).append(project)
    for name in units:
        if name not in by_unit:
            raise UsageError(f"“{name}”在 {period} 没有需要报送的项目（不是任何在库项目的牵头单位）。",
                             field=Field.UNIT, value=name)
    return {name: by_unit[name] for name in units} if units else by_unit


def previous_figures(master: Master, period: str, projects: Sequence[Project] | None = None
                     ) -> dict[str, tuple[Decimal, Decimal]]:
    """项目编号 → (上月本年累计, 上月开工以来累计) for ``period``, of ``projects`` (all the
    master's when not given: a merge asks for the few of a return).

    January: 0 and 截至上年底累计. Later months: the ledger's previous 报告期; a project not
    reported then falls back to the latest earlier month of the year, else to January's.
    Only the ledger rows taken are decoded (``core.ledger``)."""
    before = previous_period(period)
    ledger = master.ledger
    wanted = master.projects if projects is None else projects
    latest: dict[str, int] = {}  # 项目编号 → position of its latest row before ``period``
    if before is not None:
        for project in wanted:
            seen = ""
            for position in ledger.positions(project.id):
                month = ledger.key(position)[0]
                if month <= before and month[:4] == period[:4] and month > seen:
                    latest[project.id], seen = position, month
    rows = dict(zip(latest, ledger.at(latest.values()), strict=True))
    figures: dict[str, tuple[Decimal, Decimal]] = {}
    for project in wanted:
        prior = project.prior_completed or Decimal(0)
        last = rows.get(project.id)
        if last is None:
            figures[project.id] = (Decimal(0), prior)
        else:
            figures[project.id] = (last.year_completed or Decimal(0),
                                   last.total_completed if last.total_completed is not None
                                   else prior)
    return figures


def last_reported(master: Master, period: str, projects: Sequence[Project] | None = None
                  ) -> dict[str, LedgerEntry]:
    """项目编号 → its row in the previous 报告期, to pre-fill statuses that rarely change: of
    ``projects`` (any project's, when not given)."""
    before = previous_period(period)
    if before is None:
        return {}
    ledger = master.ledger
    found: dict[str, int] = {}  # 项目编号 → position of its (last) row in ``before``
    if projects is None:
        for position in range(len(ledger)):
            month, _unit, project_id = ledger.key(position)
            if month == before:
                found[project_id] = position
    else:
        for project in projects:
            for position in ledger.positions(project.id):
                if ledger.key(position)[0] == before:
                    found[project.id] = position
    return dict(zip(found, ledger.at(found.values()), strict=True))


def due_date(master: Master, period: str) -> date:
    """截止日 of ``period`` under the master's 设置."""
    return deadline(period, master.settings.deadline_day)


def on_time(received: datetime, period: str, deadline_day: int) -> bool:
    """Received by the end of the 截止日 (the whole day counts)."""
    return received <= datetime.combine(deadline(period, deadline_day), day_time.max)


# ---- 报送情况 ------------------------------------------------------------------------------

@dataclass(config=RESULT)
class UnitStatus:
    unit: str
    submitted: bool  # any file arrived (passed or not)
    on_time: bool | None  # 按时 True, 逾期 False; None when nothing passed
    valid: bool  # a file of the unit is merged for the period
    file: str | None
    received_at: datetime | None
    projects: int
    status: ReturnStatus = ReturnStatus.MISSING  # 报送状态: 按时 / 逾期 / 未通过 / 未报送


@dataclass(config=RESULT)
class StatusReport:
    period: str
    deadline: date
    units: list[UnitStatus]

    def of(self, status: ReturnStatus) -> list[str]:
        return [u.unit for u in self.units if u.status is status]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time_units(self) -> list[str]:
        return self.of(ReturnStatus.ON_TIME)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def missing(self) -> list[str]:
        return self.of(ReturnStatus.MISSING)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def late(self) -> list[str]:
        return self.of(ReturnStatus.LATE)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rejected(self) -> list[str]:
        return self.of(ReturnStatus.REFUSED)

    @property
    def on_time_rate(self) -> float | None:
        """Share of expected units whose return is 按时 (a ratio, not money)."""
        if not self.units:
            return None
        return len(self.on_time_units) / len(self.units)


def return_status(files: list[Submission], late_correction_on_time: bool = False
                  ) -> ReturnStatus:
    """报送状态 of one unit for one 报告期 from its files in 报送记录 (see the module doc)."""
    if not files:
        return ReturnStatus.MISSING
    passed = sorted((s for s in files if s.result in COUNTED), key=lambda s: s.received_at)
    if not passed:
        return ReturnStatus.REFUSED
    if passed[0].on_time == YesNo.YES:
        return ReturnStatus.ON_TIME
    if late_correction_on_time and any(s.on_time == YesNo.YES for s in files):
        return ReturnStatus.ON_TIME
    return ReturnStatus.LATE


def submission_status(master: Master, period: str) -> StatusReport:
    """For each 牵头单位 expected to report ``period``: its 报送状态, and which file."""
    expected = expected_returns(master, period)
    by_unit: dict[str | None, list[Submission]] = {}  # one pass, not one per unit
    for row in master.submissions:
        if row.period == period:
            by_unit.setdefault(row.unit, []).append(row)
    lenient = master.settings.late_correction_on_time == YesNo.YES
    units = []
    for unit, projects in expected.items():
        mine = sorted(by_unit.get(unit, ()), key=lambda s: s.received_at)
        merged = next((s for s in reversed(mine) if s.result is SubmissionResult.MERGED), None)
        shown = merged or (mine[-1] if mine else None)
        status = return_status(mine, lenient)
        timely = {ReturnStatus.ON_TIME: True, ReturnStatus.LATE: False}.get(status)
        units.append(UnitStatus(unit, bool(mine), timely, merged is not None,
                                shown.file_name if shown else None,
                                shown.received_at if shown else None, len(projects), status))
    return StatusReport(period, deadline(period, master.settings.deadline_day), units)
