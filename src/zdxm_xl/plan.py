"""Dynamic management of the plan (SPEC §1 增补/退出; seed 工作措施（七）强化动态管理).

During the year the plan changes: projects are added in named batches (增补, see
``planio.import_plan``), removed (退出: 取消重大项目资格 — never deleted, the ledger keeps
their history), 预备 projects move into implementation (转入实施: 阶段转换 预备 → 新开工), and
plan fields are corrected (修改). Each operation here is one function that loads the master
once, changes it, writes one 变更记录 row per changed field (when, who, what, old → new,
reason, batch, and the date it takes effect) and saves once.

Values in 变更记录 are written as text in the registry's own forms (amounts in 万元 as
``3000.50``, dates ``2022-05-20``, months ``2022-03``, units joined by 、), so the log can be
read back: ``initial_plan`` undoes the logged 修改 and 阶段转换 to give the plan as it was at
the start of the year (年初计划).
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from .books.masterio import Master, MasterStore, as_store
from .core.cells import format_period, parse_date, parse_month, period_month
from .core.errors import ChangeRefused, UsageError
from .core.models import Change, Project
from .core.money import AmountError, parse_amount
from .core.registry import IMPLEMENTATION, IMPLEMENTATION_STAGES, PREPARATORY, Column, Kind
from .core.tables import decode_value, encode_value

__all__ = [
    "INITIAL_BATCH",
    "ChangeResult",
    "History",
    "current_operator",
    "exit_project",
    "promote_project",
    "edit_project",
    "plan_history",
    "initial_plan",
    "promotion_dates",
    "change_text",
    "plan_date",
]

INITIAL_BATCH = "年初"
# Fields ``edit_project`` may change; 项目编号, 批次 and 状态/退出 have their own operations.
EDITABLE = ("code", "name", "stage", "sector", "county", "content", "years", "total_investment",
            "prior_completed", "annual_plan", "annual_content", "planned_start", "planned_end",
            "units", "owner", "agent")
_COLUMNS = {column.field: column for column in IMPLEMENTATION.columns}
_BY_HEADER = {column.header: column for column in IMPLEMENTATION.columns}
_REQUIRED = ("name", "sector", "total_investment", "units")
ChangeKind = Literal["年初导入", "增补", "退出", "阶段转换", "修改"]


@dataclass
class ChangeResult:
    """What a plan operation changed: the project and the 变更记录 rows written."""

    project_id: str
    project_name: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things the office should know (Chinese)

    def as_json(self) -> dict[str, Any]:
        return {"project_id": self.project_id, "project_name": self.project_name,
                "changes": [c.model_dump(mode="json") for c in self.changes],
                "notes": list(self.notes)}


@dataclass
class History:
    """变更记录, all of it or one project's, oldest first."""

    project_id: str | None
    changes: list[Change]

    def as_json(self) -> dict[str, Any]:
        return {"project_id": self.project_id,
                "changes": [c.model_dump(mode="json") for c in self.changes]}


def current_operator() -> str | None:
    """The user name of whoever runs zdxm (the default 操作人), if the system knows it."""
    try:
        return getpass.getuser() or None
    except (OSError, KeyError, ImportError):  # no user name in this environment
        return None


# ---- values as the log writes them ----------------------------------------------------------

def _column(name: str) -> Column | None:
    """A plan column by field name or Chinese header (``年度计划投资``, ``年度计划投资（万元）``)."""
    name = name.strip()
    if name in _COLUMNS:
        return _COLUMNS[name]
    bare = name.replace("(", "（").split("（")[0].strip()
    return _BY_HEADER.get(bare)


def change_text(column: Column, value: object) -> str | None:
    """A plan value as 变更记录 writes it (and ``_from_text`` reads it back)."""
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


def _from_text(column: Column, text: str | None) -> object:
    if text is None or text == "":
        return None
    if column.field == "stage":  # the column's choices are the 实施 stages; the log also has 预备
        return text.strip()
    return decode_value(column, text)


# ---- shared checks --------------------------------------------------------------------------

def _project(master: Master, project_id: str) -> Project:
    wanted = (project_id or "").strip()
    try:
        return master.project(wanted)
    except KeyError:
        raise UsageError(f"台账中没有项目编号为“{wanted}”的项目。请在台账“实施项目”“预备项目”"
                         "工作表中核对项目编号（如 ZD2022-0001）。") from None


def plan_date(master: Master, value: date | str | None, label: str) -> date:
    """A date of the plan year; ``UsageError`` in Chinese otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError(f"请指定{label}（--date），如 {master.year}-05-20。")
    if isinstance(value, date):
        day = value
    else:
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise UsageError(f"{label}“{value}”无效，请写成 {master.year}-05-20 的形式。")
        day = parsed
    if day.year != master.year:
        raise UsageError(f"{label} {day.isoformat()} 不在台账的计划年度 {master.year} 年内。")
    return day


def _not_before_batch(project: Project, day: date, label: str) -> None:
    if project.batch_date is not None and day < project.batch_date:
        raise UsageError(f"{label} {day.isoformat()} 早于项目{project.id}列入计划的日期 "
                         f"{project.batch_date.isoformat()}（{project.batch}）。")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now()).replace(microsecond=0)


def _record(master: Master, result: ChangeResult, project: Project, kind: ChangeKind,
            column: Column, old: object, new: object, *, when: datetime, operator: str | None,
            reason: str | None, effective: date | None = None) -> None:
    change = Change(time=when, effective=effective, operator=operator, kind=kind,
                    project_id=project.id, project_name=project.name, field=column.header,
                    old=change_text(column, old), new=change_text(column, new), reason=reason,
                    batch=project.batch)
    master.changes.append(change)
    result.changes.append(change)


# ---- 退出 ---------------------------------------------------------------------------------

def exit_project(master_store: MasterStore | Path | str, project_id: str, day: date | str,
                 reason: str, operator: str | None = None, *,
                 now: datetime | None = None) -> ChangeResult:
    """退出: mark a project 已退出 on ``day`` for ``reason`` (取消重大项目资格).

    Nothing is deleted: the project row stays (状态 已退出, 退出日期, 退出原因) and so do its
    月报台帐 rows. It is still reported for the 报告期 containing ``day`` and leaves the
    templates from the next one on (``forms.reports_in``). Refused: an unknown 项目编号, a date
    outside the plan year or before the project joined the plan, an empty reason (all
    ``UsageError``), a project already exited (``ChangeRefused``).
    """
    reason = (reason or "").strip()
    store = as_store(master_store)
    with store.session():
        master = store.load()
        project = _project(master, project_id)
        if not reason:
            raise UsageError("请写明退出原因（--reason），如“受产业政策调整影响，项目无法实施”。")
        when = plan_date(master, day, "退出日期")
        if not project.active:
            since = f"已于 {project.exit_date.isoformat()} " if project.exit_date else "已"
            raise ChangeRefused(f"项目{project.id}“{project.name}”{since}退出"
                                f"（{project.exit_reason or '原因未记录'}），不能再次退出。")
        _not_before_batch(project, when, "退出日期")
        operator = operator or current_operator()
        result = ChangeResult(project.id, project.name)
        _record(master, result, project, "退出", _COLUMNS["status"], "在库", "已退出",
                when=_now(now), operator=operator, reason=reason, effective=when)
        project.status = "已退出"
        project.exit_date = when
        project.exit_reason = reason
        later = sorted({e.period for e in master.ledger
                        if e.project_id == project.id and period_month(e.period) > when})
        if later:
            result.notes.append(f"该项目在退出日期之后的报告期（{'、'.join(later)}）已有月报数据，"
                                "数据保留在月报台帐中，但以后的模板不再包含该项目。")
        store.save(master)
    return result


# ---- 转入实施 -------------------------------------------------------------------------------

def promote_project(master_store: MasterStore | Path | str, project_id: str, day: date | str,
                    annual_plan: Decimal | int | str | None, operator: str | None = None, *,
                    planned_start: date | str | None = None, reason: str | None = None,
                    now: datetime | None = None) -> ChangeResult:
    """转入实施: a 预备 project becomes a 新开工 project with ``annual_plan`` (万元) on ``day``.

    The project moves from the 预备项目 sheet to 实施项目. 变更记录 gets 阶段 预备 → 新开工
    and 年度计划投资 (empty → the amount), both 阶段转换 with ``day`` as 生效日期, and
    计划开工时间 when it changes: ``planned_start`` if given, else the project's own when it
    lies in the plan year, else the month of ``day`` — a 新开工 project starts this year.
    """
    store = as_store(master_store)
    with store.session():
        master = store.load()
        project = _project(master, project_id)
        when = plan_date(master, day, "转入实施日期")
        amount = _annual_amount(annual_plan)
        if not project.active:
            raise ChangeRefused(f"项目{project.id}“{project.name}”已退出，不能转入实施。")
        if not project.is_preparatory:
            raise ChangeRefused(f"项目{project.id}“{project.name}”是{project.stage}项目，"
                                "只有预备项目才能转入实施。")
        _not_before_batch(project, when, "转入实施日期")
        if amount > project.total_investment:
            raise UsageError(f"年度计划投资 {amount:f} 万元大于项目总投资 "
                             f"{project.total_investment:f} 万元。请核对金额（单位为万元）。")
        start = _start_month(master, project, when, planned_start)
        operator = operator or current_operator()
        reason = (reason or "").strip() or "预备项目转入实施"
        result = ChangeResult(project.id, project.name)
        stamp = _now(now)
        _record(master, result, project, "阶段转换", _COLUMNS["stage"], "预备", "新开工",
                when=stamp, operator=operator, reason=reason, effective=when)
        _record(master, result, project, "阶段转换", _COLUMNS["annual_plan"], project.annual_plan,
                amount, when=stamp, operator=operator, reason=reason, effective=when)
        if start != project.planned_start:
            _record(master, result, project, "阶段转换", _COLUMNS["planned_start"],
                    project.planned_start, start, when=stamp, operator=operator, reason=reason,
                    effective=when)
        project.stage = "新开工"
        project.annual_plan = amount
        project.planned_start = start
        store.save(master)
    return result


def _annual_amount(value: Decimal | int | str | None) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError("请指定年度计划投资（--annual-plan，单位万元），如 3000。")
    try:
        amount = parse_amount(value)
    except AmountError as exc:
        raise UsageError(f"年度计划投资“{value}”无效：{exc.reason}。"
                         "请写万元金额，如 3000 或 3000.50。") from None
    if amount is None:
        raise UsageError("请指定年度计划投资（--annual-plan，单位万元），如 3000。")
    if amount < 0:
        raise UsageError(f"年度计划投资不能为负数（现为 {amount:f}）。")
    return amount


def _start_month(master: Master, project: Project, when: date,
                 planned_start: date | str | None) -> date:
    if planned_start is not None and not (isinstance(planned_start, str)
                                          and not planned_start.strip()):
        try:
            month = parse_month(planned_start)
        except ValueError:
            month = None
        if month is None:
            raise UsageError(f"计划开工时间“{planned_start}”无效，请写成 {master.year}-07 的形式。")
        if month.year != master.year:
            raise UsageError(f"新开工项目应在本年度开工：计划开工时间 {format_period(month)} "
                             f"不在 {master.year} 年内。")
        return month
    if project.planned_start is not None and project.planned_start.year == master.year:
        return project.planned_start
    return when.replace(day=1)


# ---- 修改 -----------------------------------------------------------------------------------

def edit_project(master_store: MasterStore | Path | str, project_id: str,
                 values: Mapping[str, object], reason: str | None = None,
                 operator: str | None = None, *, now: datetime | None = None) -> ChangeResult:
    """修改: change plan fields of a project; one 变更记录 row (修改) per field that changed.

    ``values`` maps a field (``annual_plan``) or its Chinese header (``年度计划投资``) to the
    new value, as typed (text is read like a cell of the master: ``3000.5``, ``2022-07``,
    ``市住建局、市交通局``) or already typed (``Decimal``, ``date``); an empty text clears an
    optional field. 阶段 may move between 新开工, 续建 and 竣工; a 预备 project becomes 实施
    only through ``promote_project``. Nothing is saved unless every value is acceptable.
    """
    if not values:
        raise UsageError("请指定要修改的字段，如 --set 年度计划投资=3000。")
    store = as_store(master_store)
    with store.session():
        master = store.load()
        project = _project(master, project_id)
        if not project.active:
            raise ChangeRefused(f"项目{project.id}“{project.name}”已退出，不能再修改计划。")
        updated = project.model_copy(deep=True)
        changed: list[tuple[Column, object, object]] = []
        for name, raw in values.items():
            column = _editable_column(project, name)
            new = _edit_value(column, raw)
            if column.field == "stage" and new not in IMPLEMENTATION_STAGES:
                raise UsageError(f"阶段只能改为{'、'.join(IMPLEMENTATION_STAGES)}之一（现写“{raw}”）。")
            if new is None and (column.field in _REQUIRED or column.field == "annual_plan"):
                raise UsageError(f"“{column.header}”不能为空。")
            if isinstance(new, Decimal) and new < 0:
                raise UsageError(f"“{column.header}”不能为负数（现为 {new:f}）。")
            old = getattr(updated, column.field)
            if new == old:
                continue
            try:
                setattr(updated, column.field, new)
            except ValidationError:
                raise UsageError(f"“{column.header}”的值“{raw}”无效。") from None
            changed.append((column, old, new))
        result = ChangeResult(project.id, project.name)
        if not changed:
            result.notes.append("所给的值与台账现有值相同，未作修改。")
            return result
        operator = operator or current_operator()
        stamp = _now(now)
        text = (reason or "").strip() or "修改计划"
        for column, old, new in changed:
            _record(master, result, updated, "修改", column, old, new, when=stamp,
                    operator=operator, reason=text)
        master.projects[master.projects.index(project)] = updated
        master.ensure_units(updated.units)
        result.project_name = updated.name
        store.save(master)
    return result


def _editable_column(project: Project, name: str) -> Column:
    column = _column(str(name))
    if column is None:
        raise UsageError(f"没有名为“{name}”的计划字段。可修改：" + "、".join(
            _COLUMNS[f].header for f in EDITABLE) + "。")
    if column.field not in EDITABLE:
        hint = {"status": "退出请用 zdxm plan exit", "exit_date": "退出请用 zdxm plan exit",
                "exit_reason": "退出请用 zdxm plan exit"}.get(column.field, "该字段由系统维护")
        raise UsageError(f"“{column.header}”不能直接修改：{hint}。")
    if project.is_preparatory and column.field not in PREPARATORY.fields:
        hint = "；预备项目转入实施请用 zdxm plan promote" if column.field in (
            "stage", "annual_plan") else ""
        raise UsageError(f"预备项目没有“{column.header}”{hint}。")
    return column


def _edit_value(column: Column, raw: object) -> object:
    if isinstance(raw, str):
        try:
            return _from_text(column, raw)
        except ValueError as exc:
            raise UsageError(f"“{column.header}”的值“{raw}”无效：{exc}。") from None
    if column.kind is Kind.MONEY and raw is not None:
        try:
            return parse_amount(raw)
        except AmountError as exc:
            raise UsageError(f"“{column.header}”的值“{raw}”无效：{exc.reason}。") from None
    return raw


# ---- 变更记录 -------------------------------------------------------------------------------

def plan_history(master_store: MasterStore | Path | str,
                 project_id: str | None = None) -> History:
    """变更记录 of the whole plan, or of one project (which must exist), oldest first."""
    master = as_store(master_store).load()
    if project_id is None:
        return History(None, list(master.changes))
    wanted = project_id.strip()
    changes = [c for c in master.changes if c.project_id == wanted]
    if not changes:
        _project(master, wanted)  # an unknown 项目编号 is a usage error
    return History(wanted, changes)


# ---- the plan as it was ---------------------------------------------------------------------

def initial_plan(master: Master) -> list[Project]:
    """年初计划: the projects of batch 年初 as they were at the start of the year.

    Projects later exited are included (as 在库); the 修改 and 阶段转换 logged in 变更记录 are
    undone, newest first, so a 预备 project promoted in June is 预备 again, without its
    年度计划投资. Edits made in Excel by hand, outside zdxm, are not in the log and stay.
    A logged value that can no longer be read is left as it is.
    """
    projects = {p.id: p.model_copy(deep=True) for p in master.projects
                if p.batch == INITIAL_BATCH}
    for change in reversed(master.changes):
        if change.kind not in ("修改", "阶段转换") or change.project_id not in projects:
            continue
        column = _column(change.field or "")
        if column is None or column.field not in EDITABLE:
            continue
        project = projects[change.project_id]
        try:
            setattr(project, column.field, _from_text(column, change.old))
        except (ValueError, ValidationError):
            continue
    for project in projects.values():
        project.status, project.exit_date, project.exit_reason = "在库", None, None
    return list(projects.values())


def promotion_dates(master: Master) -> dict[str, date]:
    """项目编号 → the date each promoted project became 新开工 (转入实施), from 变更记录."""
    dates: dict[str, date] = {}
    for change in master.changes:
        if change.kind == "阶段转换" and change.field == _COLUMNS["stage"].header \
                and change.old == "预备" and change.project_id:
            dates[change.project_id] = change.effective or change.time.date()
    return dates
