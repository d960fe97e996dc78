"""The master workbook (台账): one reader and one writer used by every command.

``load_master`` reads every table once through a gateway and returns a ``Master``;
``save_master`` writes every table once and replaces the file atomically. The office's
secret key (for template fingerprints) lives on a very hidden sheet and never leaves the
master: nothing else this program writes contains it.
"""

from __future__ import annotations

import re
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from ..core.errors import MasterError
from ..core.models import Change, LedgerEntry, MailRecord, Project, Settings, Submission, Unit
from ..core.registry import (
    CHANGES,
    COUNTY_TABLE,
    IMPLEMENTATION,
    LEDGER,
    MAIL_LOG,
    MASTER_TABLES,
    PREPARATORY,
    SETTINGS,
    SETTINGS_SHEET,
    SETTINGS_TABLE,
    SUBMISSIONS,
    SUMMARY,
    SUMMARY_SHEET,
    SYSTEM_SHEET,
    UNITS,
    SheetSpec,
)
from ..core.tables import RowProblem, decode_table, decode_value, encode_table, encode_value
from .gateway import FileGateway, Gateway, Layout, write_text
from .safety import MasterLock, refuse_if_open_elsewhere

__all__ = ["FORMAT_VERSION", "Master", "new_master", "create_master", "load_master",
           "save_master", "read_master", "write_master", "MasterStore", "FileStore", "as_store"]

FORMAT_VERSION = 1
COUNTY_COLUMN = 5  # the 县区 list sits in column E of 设置, beside the settings table
COUNTY_LIST_NAME = "CountyList"
_ID_PATTERN = re.compile(r"^ZD(\d{4})-(\d{4,})$")
R = TypeVar("R", bound=BaseModel)
_SYSTEM_KEYS = {"format": "格式版本", "secret": "办公室密钥"}
_MAX_LISTED_PROBLEMS = 10


@dataclass
class Master:
    """Everything in the master workbook, as records."""

    settings: Settings
    secret: str  # hex key for template fingerprints; never written outside the master
    projects: list[Project] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    mail_log: list[MailRecord] = field(default_factory=list)  # 邮件记录
    path: Path | None = None
    ids_assigned: bool = False  # 项目编号 were generated while reading: save to keep them

    @property
    def year(self) -> int:
        return self.settings.year

    @property
    def implementation(self) -> list[Project]:
        """实施项目 (新开工, 续建, 竣工), in the order of the workbook."""
        return [p for p in self.projects if not p.is_preparatory]

    @property
    def preparatory(self) -> list[Project]:
        """预备项目."""
        return [p for p in self.projects if p.is_preparatory]

    def project(self, project_id: str) -> Project:
        for project in self.projects:
            if project.id == project_id:
                return project
        raise KeyError(project_id)

    def unit(self, name: str) -> Unit | None:
        return next((u for u in self.units if u.name == name), None)

    def next_project_id(self) -> str:
        """The next free 项目编号, ``ZD{年度}-{序号}``; numbers are never reused."""
        highest = 0
        for project in self.projects:
            match = _ID_PATTERN.match(project.id)
            if match and int(match.group(1)) == self.year:
                highest = max(highest, int(match.group(2)))
        return f"ZD{self.year}-{highest + 1:04d}"

    def ensure_units(self, names: list[str]) -> list[str]:
        """Add the units not yet in 责任单位 (by exact name); return the added names."""
        known = {u.name for u in self.units}
        added = [n for n in names if n not in known]
        for name in added:
            self.units.append(Unit(name=name))
            known.add(name)
        return added


def new_master(year: int) -> Master:
    """An empty master for ``year`` with a fresh secret key."""
    if not 2000 <= year <= 2100:
        raise MasterError(f"年度“{year}”不合理，请写四位年份，如 2022。")
    return Master(settings=Settings(year=year), secret=secrets.token_hex(32))


# ---- reading ------------------------------------------------------------------------------

def read_master(gateway: Gateway, name: str = "台账") -> Master:
    """Every table of the master through ``gateway``; ``MasterError`` if it is not one."""
    sheets = gateway.sheet_names()
    missing = [s for s in (SETTINGS_SHEET, SYSTEM_SHEET, IMPLEMENTATION.sheet, PREPARATORY.sheet)
               if s not in sheets]
    if missing:
        raise MasterError(f"“{name}”不是 zdxm 台账（缺少工作表“{missing[0]}”）。"
                          "请打开正确的台账，或先用 zdxm init 创建。")
    problems: list[RowProblem] = []
    system = _read_pairs(gateway, SYSTEM_SHEET)
    secret = system.get(_SYSTEM_KEYS["secret"], "")
    if not re.fullmatch(r"[0-9a-f]{64}", secret):
        raise MasterError(f"“{name}”的系统信息已损坏（缺少办公室密钥），无法继续。请用备份恢复台账。")
    version = system.get(_SYSTEM_KEYS["format"], "")
    if version != str(FORMAT_VERSION):
        raise MasterError(f"“{name}”的格式版本为“{version}”，本程序只支持版本 {FORMAT_VERSION}。"
                          "请升级 zdxm 后再试。")
    settings = _read_settings(gateway, problems)

    def table(spec: SheetSpec, model: type[R]) -> list[R]:
        if spec.sheet not in sheets:
            problems.append(RowProblem(spec.sheet, 1, "", "", "缺少这个工作表"))
            return []
        data = gateway.read_table(spec.sheet)
        records, found = decode_table(spec, model, data.header, data.rows)
        problems.extend(found)
        return records

    implementation = table(IMPLEMENTATION, _ImplementationRow)
    preparatory = table(PREPARATORY, _PreparatoryRow)
    units = table(UNITS, Unit)
    ledger = table(LEDGER, LedgerEntry)
    submissions = table(SUBMISSIONS, Submission)
    changes = table(CHANGES, Change)
    # 邮件记录 came with the mail feature: a master made before it gets the sheet when saved.
    mail_log = table(MAIL_LOG, MailRecord) if MAIL_LOG.sheet in sheets else []
    if problems or settings is None:
        raise MasterError(_describe_problems(name, problems))
    master = Master(settings=settings, secret=secret, units=units, ledger=ledger,
                    submissions=submissions, changes=changes, mail_log=mail_log)
    master.projects = [row.to_project() for row in implementation]
    master.projects += [row.to_project() for row in preparatory]
    _check_ids(master, name)
    return master


def load_master(path: Path | str) -> Master:
    """Read the master workbook file at ``path``."""
    path = Path(path)
    master = read_master(FileGateway(path), path.name)
    master.path = path
    return master


def _describe_problems(name: str, problems: list[RowProblem]) -> str:
    lines = [f"台账“{name}”中有 {len(problems)} 处内容无法读取，请改正后重试："]
    lines += [f"  {p}" for p in problems[:_MAX_LISTED_PROBLEMS]]
    if len(problems) > _MAX_LISTED_PROBLEMS:
        lines.append(f"  ……另有 {len(problems) - _MAX_LISTED_PROBLEMS} 处")
    return "\n".join(lines)


def _read_pairs(gateway: Gateway, sheet: str) -> dict[str, str]:
    data = gateway.read_table(sheet)
    pairs = {}
    for row in [data.header, *data.rows]:
        if len(row) >= 2 and row[0] not in ("", None):
            pairs[str(row[0]).strip()] = "" if row[1] is None else str(row[1]).strip()
    return pairs


def _read_settings(gateway: Gateway, problems: list[RowProblem]) -> Settings | None:
    data = gateway.read_table(SETTINGS_SHEET)
    by_label = {column.header: column for column in SETTINGS}
    values: dict[str, object] = {}
    for number, row in enumerate(data.rows, start=2):
        if not row or row[0] in ("", None):
            continue
        column = by_label.get(str(row[0]).strip())
        if column is None:
            continue  # a note the office added; settings of later versions
        raw = row[1] if len(row) > 1 else None
        try:
            value = decode_value(column, raw)
        except ValueError as exc:
            problems.append(RowProblem(SETTINGS_SHEET, number, column.header, raw, str(exc)))
            continue
        if value is not None:
            values[column.field] = value
    counties = gateway.read_table(SETTINGS_SHEET, first_column=COUNTY_COLUMN)
    values["counties"] = [str(r[0]).strip() for r in counties.rows if r and r[0] not in ("", None)]
    if "year" not in values:
        problems.append(RowProblem(SETTINGS_SHEET, 2, "年度", "", "不能为空"))
        return None
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            label = next((c.header for c in SETTINGS if c.field == error["loc"][0]), "")
            problems.append(RowProblem(SETTINGS_SHEET, 0, label, values.get(str(error["loc"][0])),
                                       "取值无效"))
        return None


def _check_ids(master: Master, name: str) -> None:
    seen: set[str] = set()
    for project in master.projects:
        if project.id in seen:
            raise MasterError(f"台账“{name}”中项目编号“{project.id}”重复，请改正后重试。")
        seen.add(project.id)
    for project in master.projects:
        if project.id == "":
            project.id = master.next_project_id()
            master.ids_assigned = True


class _PlanRow(Project):
    """A project row as read: 项目编号 may be blank (assigned after reading)."""

    id: str = ""

    def to_project(self) -> Project:
        return Project.model_validate(self.model_dump())


class _ImplementationRow(_PlanRow):
    pass


class _PreparatoryRow(_PlanRow):
    stage: str = "预备"  # type: ignore[assignment]  # the 预备项目 sheet has no 阶段 column


# ---- writing ------------------------------------------------------------------------------

def write_master(master: Master, gateway: Gateway) -> None:
    """Write every table of ``master`` through ``gateway``, one bulk write per table.

    A file (``FileGateway``) also gets its layout — sheet order, the 县区 list name, the 汇总
    table and the very hidden 系统 sheet; a book open in Excel already has them.
    """
    file = gateway if isinstance(gateway, FileGateway) else None
    _write_settings(master, gateway, file)
    lists = Layout(list_names={"县区": COUNTY_LIST_NAME})
    gateway.write_table(IMPLEMENTATION, encode_table(IMPLEMENTATION, master.implementation), lists)
    gateway.write_table(PREPARATORY, encode_table(PREPARATORY, master.preparatory), lists)
    gateway.write_table(UNITS, encode_table(UNITS, master.units))
    gateway.write_table(LEDGER, encode_table(LEDGER, master.ledger))
    gateway.write_table(SUBMISSIONS, encode_table(SUBMISSIONS, master.submissions))
    gateway.write_table(CHANGES, encode_table(CHANGES, master.changes))
    if file is not None:
        names = file.sheet_names_for_write()
        if MAIL_LOG.sheet not in names and SUMMARY_SHEET in names:
            file.fresh_sheet(MAIL_LOG.sheet, names.index(SUMMARY_SHEET))  # keep 汇总, 系统 last
    gateway.write_table(MAIL_LOG, encode_table(MAIL_LOG, master.mail_log))
    if file is not None:
        if SUMMARY_SHEET not in file.sheet_names_for_write():
            # A new (or rebuilt) file: the summary of the plan as it is being written.
            from ..summary import summarize, summary_table, summary_text

            summary = summarize(master)
            rows = summary_table(summary)
            file.write_table(SUMMARY, rows)
            file.write_note(SUMMARY_SHEET, len(SUMMARY.columns) + 2, summary_text(summary),
                            len(rows) + 1)
        _write_system(master, file)


def save_master(master: Master, path: Path | str | None = None) -> Path:
    """Write ``master`` to ``path`` (default: where it was read from), atomically.

    A dated copy of the old file goes to 备份/ first (see ``FileGateway.commit``); the new
    file is read back and compared before it replaces the old one.
    """
    target = Path(path) if path is not None else master.path
    if target is None:
        raise MasterError("没有指定台账文件的保存位置。")
    refuse_if_open_elsewhere(target)
    # A master holding only our sheets is written afresh: every one of them is rebuilt from
    # the records anyway, and not parsing the old file with openpyxl saves most of the time
    # of a write. Sheets the office added itself are kept by loading the old file.
    gateway = FileGateway(target, create=not target.exists() or _only_our_sheets(target))
    write_master(master, gateway)

    def verify(temp: Path) -> None:
        again = read_master(FileGateway(temp), target.name)
        if (len(again.projects), len(again.units), len(again.ledger), len(again.submissions),
                len(again.changes), len(again.mail_log)) != (
                len(master.projects), len(master.units), len(master.ledger),
                len(master.submissions), len(master.changes), len(master.mail_log)):
            raise MasterError("写入台账后复核不一致，已放弃本次写入，原台账未改动。")

    gateway.commit(verify)
    master.path = target
    master.ids_assigned = False
    return target


def _only_our_sheets(path: Path) -> bool:
    ours = {spec.sheet for spec in MASTER_TABLES} | {SETTINGS_SHEET, SUMMARY_SHEET, SYSTEM_SHEET}
    try:
        return set(FileGateway(path).sheet_names()) <= ours
    except MasterError:
        return False  # let the full load say what is wrong


def create_master(path: Path | str, year: int, master: Master | None = None) -> Master:
    """A new master file at ``path``; refuses to overwrite an existing file."""
    path = Path(path)
    if path.exists():
        raise MasterError(f"“{path}”已存在，未覆盖。请换一个文件名，或先移走原文件。")
    if path.suffix.lower() != ".xlsx":
        raise MasterError("台账应保存为 .xlsx 文件，如 重大项目台账.xlsx。")
    if not path.parent.exists():
        raise MasterError(f"文件夹“{path.parent}”不存在。")
    master = master or new_master(year)
    save_master(master, path)
    return master


def _write_settings(master: Master, gateway: Gateway, file: FileGateway | None) -> None:
    values = master.settings.model_dump()
    rows = []
    for column in SETTINGS:
        rows.append([column.header, encode_value(column, values.get(column.field)), column.help])
    if file is not None:
        if SETTINGS_SHEET in file.sheet_names_for_write():
            file.fresh_sheet(SETTINGS_SHEET)
        else:
            file.fresh_sheet(SETTINGS_SHEET, 0)
    gateway.write_table(SETTINGS_TABLE, rows)
    gateway.write_table(COUNTY_TABLE, [[c] for c in master.settings.counties],
                        Layout(first_column=COUNTY_COLUMN))
    if file is not None:
        ws = file.sheet(SETTINGS_SHEET)
        ws.freeze_panes = "A2"
        file.define_list(COUNTY_LIST_NAME, SETTINGS_SHEET, COUNTY_COLUMN,
                         len(master.settings.counties))


def _write_system(master: Master, gateway: FileGateway) -> None:
    ws = gateway.fresh_sheet(SYSTEM_SHEET)
    rows = [("项目", "值"), (_SYSTEM_KEYS["format"], str(FORMAT_VERSION)),
            (_SYSTEM_KEYS["secret"], master.secret),
            ("说明", "此工作表由 zdxm 使用，请勿修改或删除；密钥只保存在台账中，不会写入任何模板或报表。")]
    for r, (key, value) in enumerate(rows, start=1):
        write_text(ws.cell(row=r, column=1), key)
        write_text(ws.cell(row=r, column=2), value)
    ws.sheet_state = "veryHidden"


# ---- where a master lives: a file (CLI) or a live Excel book (add-in) ----------------------

class MasterStore(Protocol):
    """Where the master is kept. Core operations take a store (or a path, for a file) and
    call ``load`` once and ``save`` at most once, inside ``session`` when they write."""

    @property
    def name(self) -> str: ...

    @property
    def folder(self) -> Path:
        """The folder that relative directories in 设置 (收件, 归档, 输出) are relative to."""
        ...

    def load(self) -> Master: ...

    def save(self, master: Master) -> None: ...

    def write_summary(self, rows: list[list[object]], text: str) -> None:
        """Rewrite only the 汇总 sheet."""
        ...

    def session(self) -> AbstractContextManager[object]:
        """Exclusive use for a command that writes (lock, not open elsewhere)."""
        ...


@dataclass
class FileStore:
    """The master as a .xlsx file: locked while written, replaced atomically, backed up."""

    path: Path
    lock_wait: float = 10.0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def folder(self) -> Path:
        return self.path.parent

    def load(self) -> Master:
        return load_master(self.path)

    def save(self, master: Master) -> None:
        save_master(master, self.path)

    def write_summary(self, rows: list[list[object]], text: str) -> None:
        gateway = FileGateway(self.path)
        gateway.write_table(SUMMARY, rows)
        gateway.write_note(SUMMARY.sheet, len(SUMMARY.columns) + 2, text, len(rows) + 1)
        gateway.commit()

    def session(self) -> AbstractContextManager[object]:
        refuse_if_open_elsewhere(self.path)
        return MasterLock(self.path, wait=self.lock_wait)


def as_store(master: MasterStore | Path | str) -> MasterStore:
    """A path means the file store; a store is used as it is."""
    return FileStore(Path(master)) if isinstance(master, str | Path) else master
