"""The year's plan: importing and exporting the official plan tables, and its dynamic
management (SPEC §1 增补/退出; seed 工作措施（七）强化动态管理).

During the year the plan changes: projects are added in named batches (增补,
``import_plan`` with a batch), removed (退出: 取消重大项目资格 — never deleted, the ledger
keeps their history), 预备 projects move into implementation (转入实施: 阶段转换 预备 →
新开工), and plan fields are corrected (修改). Each operation here is one function that
loads the master once, changes it, writes one 变更记录 row per changed field (when, who,
what, old → new, reason, batch, and the date it takes effect) and saves once — the save
rewrites the derived 汇总 too. ``core.changelog`` reads the log back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from pydantic.dataclasses import dataclass

from .books.masterio import FileStore, open_store
from .checks.plantables import (
    HEADER_NAMES,
    PlanRow,
    Problems,
    check_duplicates,
    describe_problems,
    read_plan_tables,
    unique_paths,
)
from .core.cells import parse_month
from .core.changelog import (
    EDITABLE,
    INITIAL_BATCH,
    PLAN_COLUMNS,
    change_text,
    current_operator,
    from_text,
    plan_column,
)
from .core.errors import ChangeRefused, Field, InputRejected, Remedy, UsageError
from .core.master import Master, MasterStore
from .core.models import (
    IMPLEMENTATION_STAGES,
    Change,
    ChangeKind,
    Project,
    ProjectStatus,
    Stage,
)
from .core.money import AmountError, parse_amount
from .core.periods import format_period, given_day, period_month
from .core.problems import drop_exited, reconcile
from .core.registry import PREPARATORY, Column, Kind
from .core.results import RESULT
from .reports.plantables import write_plan_tables

__all__ = [
    "ImportResult",
    "ChangeResult",
    "History",
    "current_operator",
    "import_plan",
    "export_plan",
    "exit_project",
    "promote_project",
    "edit_project",
    "plan_history",
    "plan_date",
]

_REQUIRED = ("name", "sector", "total_investment", "units")


@dataclass(config=RESULT)
class ChangeResult:
    """What a plan operation changed: the project and the 变更记录 rows written."""

    project_id: str
    project_name: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things the office should know (Chinese)


@dataclass(config=RESULT)
class History:
    """变更记录, all of it or one project's, oldest first."""

    project_id: str | None
    changes: list[Change]


# ---- shared checks --------------------------------------------------------------------------

def _project(master: Master, project_id: str) -> Project:
    wanted = (project_id or "").strip()
    try:
        return master.project(wanted)
    except KeyError:
        raise UsageError(f"台账中没有项目编号为“{wanted}”的项目。请在台账“实施项目”“预备项目”"
                         "工作表中核对项目编号（如 ZD2022-0001）。") from None


def plan_date(master: Master, value: date | str | None, label: str,
              field: Field = Field.DATE) -> date:
    """A date of the plan year; ``UsageError`` naming ``field`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError(f"请指定{label}，如 {master.year}-05-20。", field=field)
    day = given_day(value, label, field, f"{master.year}-05-20")
    if day.year != master.year:
        raise UsageError(f"{label} {day.isoformat()} 不在台账的计划年度 {master.year} 年内。",
                         field=field, value=value)
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
    store = open_store(master_store)
    with store.session():
        master = store.load()
        project = _project(master, project_id)
        if not reason:
            raise UsageError("请写明退出原因，如“受产业政策调整影响，项目无法实施”。",
                             field=Field.REASON)
        when = plan_date(master, day, "退出日期")
        if not project.active:
            since = f"已于 {project.exit_date.isoformat()} " if project.exit_date else "已"
            raise ChangeRefused(f"项目{project.id}“{project.name}”{since}退出"
                                f"（{project.exit_reason or '原因未记录'}），不能再次退出。")
        _not_before_batch(project, when, "退出日期")
        operator = operator or current_operator()
        result = ChangeResult(project.id, project.name)
        _record(master, result, project, ChangeKind.EXIT, PLAN_COLUMNS["status"],
                ProjectStatus.ACTIVE, ProjectStatus.EXITED,
                when=_now(now), operator=operator, reason=reason, effective=when)
        project.status = ProjectStatus.EXITED
        project.exit_date = when
        project.exit_reason = reason
        reconcile(master, _now(now))  # the office's edits of 问题台帐 first, in their history
        dropped = drop_exited(master, project.id, when, reason, _now(now), operator)
        if dropped:
            result.notes.append(f"该项目未办结的 {len(dropped)} 个问题（"
                                f"{'、'.join(item.id for item in dropped)}）改为“不再协调”，"
                                "记入问题办理记录；不再列入督办通知。")
        later = sorted(p for p in master.ledger.periods(project.id) if period_month(p) > when)
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
    store = open_store(master_store)
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
        _record(master, result, project, ChangeKind.PROMOTION, PLAN_COLUMNS["stage"],
                Stage.PREPARATORY, Stage.NEW,
                when=stamp, operator=operator, reason=reason, effective=when)
        _record(master, result, project, ChangeKind.PROMOTION, PLAN_COLUMNS["annual_plan"],
                project.annual_plan,
                amount, when=stamp, operator=operator, reason=reason, effective=when)
        if start != project.planned_start:
            _record(master, result, project, ChangeKind.PROMOTION, PLAN_COLUMNS["planned_start"],
                    project.planned_start, start, when=stamp, operator=operator, reason=reason,
                    effective=when)
        project.stage = Stage.NEW
        project.annual_plan = amount
        project.planned_start = start
        store.save(master)
    return result


def _annual_amount(value: Decimal | int | str | None) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError("请指定年度计划投资（单位万元），如 3000。", field=Field.ANNUAL_PLAN)
    try:
        amount = parse_amount(value)
    except AmountError as exc:
        raise UsageError(f"年度计划投资“{value}”无效：{exc.reason}。"
                         "请写万元金额，如 3000 或 3000.50。") from None
    if amount is None:
        raise UsageError("请指定年度计划投资（单位万元），如 3000。", field=Field.ANNUAL_PLAN)
    if amount < 0:
        raise UsageError(f"年度计划投资不能为负数（现为 {amount:f}）。", field=Field.ANNUAL_PLAN,
                         value=value)
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
            raise UsageError(f"计划开工时间“{planned_start}”无效，请写成 {master.year}-07 的形式。",
                             field=Field.PLANNED_START, value=planned_start)
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
        raise UsageError("请指定要修改的字段和新值，如 年度计划投资=3000。", field=Field.VALUES)
    store = open_store(master_store)
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
            _record(master, result, updated, ChangeKind.EDIT, column, old, new, when=stamp,
                    operator=operator, reason=text)
        master.projects[master.projects.index(project)] = updated
        master.ensure_units(updated.units)
        result.project_name = updated.name
        store.save(master)
    return result


def _editable_column(project: Project, name: str) -> Column:
    column = plan_column(str(name))
    if column is None:
        raise UsageError(f"没有名为“{name}”的计划字段。可修改：" + "、".join(
            PLAN_COLUMNS[f].header for f in EDITABLE) + "。", field=Field.VALUES, value=name)
    if column.field not in EDITABLE:
        if column.field in ("status", "exit_date", "exit_reason"):
            raise UsageError(f"“{column.header}”不能直接修改：项目退出另有操作。",
                             field=Field.VALUES, value=name, remedy=Remedy.EXIT_PROJECT)
        raise UsageError(f"“{column.header}”不能直接修改：该字段由系统维护。", field=Field.VALUES,
                         value=name)
    if project.is_preparatory and column.field not in PREPARATORY.fields:
        if column.field in ("stage", "annual_plan"):
            raise UsageError(f"预备项目没有“{column.header}”：预备项目转入实施另有操作。",
                             field=Field.VALUES, value=name, remedy=Remedy.PROMOTE_PROJECT)
        raise UsageError(f"预备项目没有“{column.header}”。", field=Field.VALUES, value=name)
    return column


def _edit_value(column: Column, raw: object) -> object:
    if isinstance(raw, str):
        try:
            return from_text(column, raw)
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
    master = open_store(master_store).load()
    if project_id is None:
        return History(None, list(master.changes))
    wanted = project_id.strip()
    changes = [c for c in master.changes if c.project_id == wanted]
    if not changes:
        _project(master, wanted)  # an unknown 项目编号 is a usage error
    return History(wanted, changes)


# ---- importing and exporting the plan tables -------------------------------------------

@dataclass(config=RESULT)
class ImportResult:
    """What ``import_plan`` added to the master."""

    implementation: int  # 实施 projects added
    preparatory: int  # 预备 projects added
    new_units: list[str]  # 责任单位 names added to the 责任单位 sheet
    files: list[Path]
    batch: str = INITIAL_BATCH
    project_ids: list[str] = field(default_factory=list)
    batch_date: date | None = None  # 批次日期 of a 增补 batch; None for 年初
    # Accepted, but worth knowing: 小计 that differ from their rows within rounding.
    warnings: list[str] = field(default_factory=list)


def import_plan(master_store: MasterStore | Path | str, files: Sequence[Path], *,
                batch: str | None = None, operator: str | None = None,
                batch_date: date | str | None = None) -> ImportResult:
    """Add the projects of the plan tables in ``files`` to the master.

    Without ``batch`` this is the year's opening import (批次 年初) and the master must hold
    no project yet; with ``batch`` the projects are a 增补 batch of that name, dated
    ``batch_date`` (default today, which must then lie in the plan year): each project gets
    批次 and 批次日期, and 变更记录 one 增补 row per project with the date as 生效日期. A
    project already in the plan — same 项目代码, or same 项目名称 and 牵头单位 — is refused.
    Any problem — an unreadable row, a declared count or subtotal the rows do not add up to,
    a duplicate — raises ``InputRejected`` listing the problems, and the master is not
    touched. 操作人 is ``operator``, by default the user running zdxm.
    """
    if not files:
        raise UsageError("请指定要导入的计划表文件（附表1 实施项目、附表2 预备项目）。",
                         field=Field.FILES)
    if batch is not None and not batch.strip():
        raise UsageError("增补批次名不能为空，如“第一批增补”。", field=Field.BATCH, value=batch)
    batch = batch.strip() if batch else None
    if batch == INITIAL_BATCH:
        raise UsageError(f"批次名“{INITIAL_BATCH}”留给年初计划，增补请另起批次名，如“第一批增补”。",
                         field=Field.BATCH, value=batch)
    if batch is None and batch_date is not None:
        raise UsageError("批次日期只用于增补批次，请同时指定增补批次名。", field=Field.BATCH)
    store = open_store(master_store)
    with store.session():
        return _import(store, files, batch, operator or current_operator(), batch_date)


def _batch_day(master: Master, batch: str, value: date | str | None) -> date:
    if value is None:
        today = date.today()
        if today.year != master.year:
            raise UsageError(f"请指定增补批次“{batch}”的日期（今天 {today.isoformat()} "
                             f"不在台账的计划年度 {master.year} 年内）。", field=Field.DATE)
        value = today
    day = plan_date(master, value, "批次日期")
    earlier = [p for p in master.projects if p.batch == batch]
    if earlier and earlier[0].batch_date != day:
        when = earlier[0].batch_date.isoformat() if earlier[0].batch_date else "未记录日期"
        raise UsageError(f"批次“{batch}”已有 {len(earlier)} 个项目（批次日期 {when}），本次日期为 "
                         f"{day.isoformat()}。同一批次的附表请用同一日期；如是另一批增补，请换一个批次名。",
                         field=Field.DATE, value=value)
    return day


def _import(store: MasterStore, files: Sequence[Path], batch: str | None,
            operator: str | None, batch_date: date | str | None) -> ImportResult:
    master = store.load()
    day = _batch_day(master, batch, batch_date) if batch is not None else None
    if batch is None and master.projects:
        raise InputRejected(
            f"年初计划已导入 {len(master.projects)} 个项目，不能再次按年初计划导入；增补请给出批次名"
            "（如“第一批增补”）。", field=Field.BATCH, remedy=Remedy.IMPORT_BATCH)
    paths = unique_paths(files)
    problems = Problems()
    rows = read_plan_tables(paths, master.year, problems)
    if not problems and not rows:
        problems.append("计划表中没有找到任何项目行。")
    if not problems:
        check_duplicates(rows, master, batch is not None, problems)
    if problems:
        raise InputRejected(describe_problems(problems), field=Field.FILES)

    projects = _build_projects(rows, master, batch or INITIAL_BATCH, day, problems)
    if problems:
        raise InputRejected(describe_problems(problems), field=Field.FILES)
    names = [name for project in projects for name in project.units]
    new_units = master.ensure_units(names)
    now = datetime.now().replace(microsecond=0)
    for project in projects:
        master.changes.append(Change(
            time=now, effective=day, operator=operator,
            kind=ChangeKind.ADDITION if batch else ChangeKind.INITIAL,
            project_id=project.id, project_name=project.name, batch=project.batch,
            reason="导入计划表" if batch is None else f"导入增补计划表（{batch}）",
        ))
    store.save(master)
    return ImportResult(
        implementation=sum(1 for p in projects if not p.is_preparatory),
        preparatory=sum(1 for p in projects if p.is_preparatory),
        new_units=new_units, files=list(paths), batch=batch or INITIAL_BATCH,
        project_ids=[p.id for p in projects], batch_date=day, warnings=list(problems.warnings),
    )


def _build_projects(rows: list[PlanRow], master: Master, batch: str, batch_date: date | None,
                    problems: Problems) -> list[Project]:
    built: list[Project] = []
    for row in rows:
        data = {k: v for k, v in row.data.items() if v is not None and k != "seq"}
        data.setdefault("id", "")
        data["batch"] = batch
        data["batch_date"] = batch_date
        data["status"] = ProjectStatus.ACTIVE
        try:
            built.append(Project.model_validate(data))
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                problems.add(row.where, f"“{HEADER_NAMES.get(name, name)}”取值无效"
                             f"（现为“{data.get(name, '')}”）")
    if problems:
        return []
    # Numbers are handed out after the 项目编号 the file carries, so none is taken twice.
    existing = list(master.projects)
    master.projects = existing + [p for p in built if p.id]
    free_ids = master.free_project_ids()
    for project in built:
        if not project.id:
            project.id = next(free_ids)
    master.projects = existing + built
    return built



def export_plan(master_store: MasterStore | Path | str, out_path: Path) -> Path:
    """Write 附表1 (实施项目) and 附表2 (预备项目) of the active projects, in the official
    print-ready layout (A3 landscape, header rows repeated on every page)."""
    store, out_path = open_store(master_store), Path(out_path)
    if out_path.suffix.lower() != ".xlsx":
        raise UsageError(f"导出文件“{out_path.name}”应为 .xlsx 文件，如 计划附表.xlsx。",
                         field=Field.OUTPUT, value=str(out_path))
    if not out_path.parent.exists():
        raise UsageError(f"文件夹“{out_path.parent}”不存在。", field=Field.OUTPUT,
                         value=str(out_path))
    if isinstance(store, FileStore) and out_path.exists() and store.path.exists() \
            and out_path.samefile(store.path):
        raise UsageError("导出文件不能与台账是同一个文件，请换一个文件名。", field=Field.OUTPUT,
                         value=str(out_path))
    return write_plan_tables(store.load(), out_path)
