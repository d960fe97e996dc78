"""变更记录 read back: the plan as it was at the start of the year, and when projects moved.

Values in 变更记录 are written as text in the registry's own forms (amounts in 万元 as
``3000.50``, dates ``2022-05-20``, months ``2022-03``, units joined by 、) by
``change_text``, so that ``from_text`` can read them back: ``initial_plan`` undoes the
logged 修改 and 阶段转换 to give the 年初计划, and ``promotion_dates`` tells when each 预备
project became 新开工.
"""

from __future__ import annotations

import getpass
from datetime import date
from decimal import Decimal

from pydantic import ValidationError

from .master import Master
from .models import ChangeKind, Project, ProjectStatus, Stage
from .periods import format_period
from .registry import IMPLEMENTATION, Column, Kind
from .tables import decode_value, encode_value

__all__ = ["INITIAL_BATCH", "EDITABLE", "plan_column", "change_text", "from_text", "initial_plan",
           "promotion_dates", "current_operator"]

INITIAL_BATCH = "年初"
# Fields a 修改 may change; 项目编号, 批次 and 状态/退出 have their own operations.
EDITABLE = ("code", "name", "stage", "sector", "county", "content", "years", "total_investment",
            "prior_completed", "annual_plan", "annual_content", "planned_start", "planned_end",
            "units", "owner", "agent")
PLAN_COLUMNS = {column.field: column for column in IMPLEMENTATION.columns}
_BY_HEADER = {column.header: column for column in IMPLEMENTATION.columns}


def plan_column(name: str) -> Column | None:
    """A plan column by field name or Chinese header (``年度计划投资``, ``年度计划投资（万元）``)."""
    name = name.strip()
    if name in PLAN_COLUMNS:
        return PLAN_COLUMNS[name]
    bare = name.replace("(", "（").split("（")[0].strip()
    return _BY_HEADER.get(bare)


def change_text(column: Column, value: object) -> str | None:
    """A plan value as 变更记录 writes it (and ``from_text`` reads it back)."""
    if value is None:
        return None
    if column.kind is Kind.MONEY and isinstance(value, Decimal):
        return f"{value:f}"
    if column.kind is Kind.MONTH and isinstance(value, date):
        return format_period(value)
    if column.kind is Kind.DATE and isinstance(value, date):
        return value.isoformat()
    encoded = encode_value(column, value)
    return None if encoded is None else str(encoded)


def from_text(column: Column, text: str | None) -> object:
    """A value as 变更记录 (or a person typing it) writes it → the plan field's value;
    ``ValueError`` with a Chinese reason."""
    if text is None or text == "":
        return None
    if column.field == "stage":  # the column's choices are the 实施 stages; the log also has 预备
        return text.strip()
    return decode_value(column, text)


def initial_plan(master: Master) -> list[Project]:
    """年初计划: the projects of batch 年初 as they were at the start of the year.

    Projects later exited are included (as 在库); the 修改 and 阶段转换 logged in 变更记录 are
    undone, newest first, so a 预备 project promoted in June is 预备 again, without its
    年度计划投资. Edits made in Excel by hand, outside zdxm, are not in the log and stay.
    A logged value that can no longer be read is left as it is.
    """
    # Copies, changed below only by setting fields (never a list in place): a shallow copy
    # of each is enough, and cheap for a plan of tens of thousands of projects.
    projects = {p.id: p.model_copy() for p in master.projects if p.batch == INITIAL_BATCH}
    for change in reversed(master.changes):
        if change.kind not in (ChangeKind.EDIT, ChangeKind.PROMOTION) \
                or change.project_id not in projects:
            continue
        column = plan_column(change.field or "")
        if column is None or column.field not in EDITABLE:
            continue
        project = projects[change.project_id]
        try:
            setattr(project, column.field, from_text(column, change.old))
        except (ValueError, ValidationError):
            continue
    for project in projects.values():
        project.status, project.exit_date, project.exit_reason = ProjectStatus.ACTIVE, None, None
    return list(projects.values())


def promotion_dates(master: Master) -> dict[str, date]:
    """项目编号 → the date each promoted project became 新开工 (转入实施), from 变更记录."""
    dates: dict[str, date] = {}
    for change in master.changes:
        if change.kind is ChangeKind.PROMOTION and change.field == PLAN_COLUMNS["stage"].header \
                and change.old == Stage.PREPARATORY and change.project_id:
            dates[change.project_id] = change.effective or change.time.date()
    return dates


def current_operator() -> str | None:
    """The user name of whoever runs zdxm (the default 操作人 of 变更记录 and 问题办理记录),
    if the system knows it."""
    try:
        return getpass.getuser() or None
    except (OSError, KeyError, ImportError):  # no user name in this environment
        return None
