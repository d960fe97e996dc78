"""The master workbook (台账) as tables: one reader and one writer, for both stores.

``read_master`` reads every table once through a gateway and returns a ``Master``;
``write_master`` writes every table once — and the derived 汇总 (``core.summary``), so no
path can save a master with a stale summary. ``FileStore`` keeps the master in a .xlsx
file (the command line): it is locked while written, backed up and replaced atomically;
``livebook.BookStore`` keeps it in the book open in Excel (the add-in). The office's secret
key (for form fingerprints) lives on a very hidden sheet and never leaves the master.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from python_calamine import CalamineWorkbook

from ..core.errors import Field, MasterError, Remedy
from ..core.ledger import KEY_TITLES, Ledger, LedgerRow, keyed_rows, ledger_rows
from ..core.master import Master, MasterStore, new_master
from ..core.models import (
    AllowedSender,
    Change,
    LedgerEntry,
    MailRecord,
    OutboxEntry,
    Problem,
    ProblemChange,
    Project,
    RuleLevel,
    Settings,
    Stage,
    Submission,
    Unit,
)
from ..core.pauses import no_collection_pauses
from ..core.problems import next_problem_id
from ..core.registry import (
    ALLOWED_SENDERS,
    CHANGES,
    COUNTY_TABLE,
    IMPLEMENTATION,
    LEDGER,
    MAIL_LOG,
    MASTER_TABLES,
    OUTBOX,
    PREPARATORY,
    PROBLEM_LOG,
    PROBLEMS,
    RULE_COLUMN,
    RULE_TABLE,
    SETTINGS,
    SETTINGS_SHEET,
    SETTINGS_TABLE,
    SUBMISSIONS,
    SUMMARY,
    SUMMARY_SHEET,
    SYSTEM_SHEET,
    UNIT_LIST_NAME,
    UNITS,
    SheetSpec,
)
from ..core.returnrules import ADJUSTABLE, default_level
from ..core.summary import summary_sheet
from ..core.tables import (
    RowProblem,
    decode_rows,
    decode_table,
    decode_value,
    encode_columns,
    encode_table,
    encode_value,
    header_index,
)
from .filebook import FileGateway, SheetRows, file_state
from .formbook import FormSheet
from .gateway import Gateway, Layout
from .package import (
    Copied,
    NewRows,
    Package,
    PackageLayoutError,
    header_row,
    row_count,
    row_pieces,
    table_rows,
    workbook_of_rows,
)
from .safety import LOCK_WAIT, MasterLock, refuse_if_open_elsewhere

__all__ = ["FORMAT_VERSION", "SHEET_ORDER", "read_master", "write_master", "load_master",
           "save_master", "create_master", "FileStore", "open_store"]

FORMAT_VERSION = 1
COUNTY_COLUMN = 5  # the 县区 list sits in column E of 设置, beside the settings table
ALLOWED_COLUMN = 7  # the 允许发件人 table in columns G–I, right of the 县区
COUNTY_LIST_NAME = "CountyList"
R = TypeVar("R", bound=BaseModel)
_SYSTEM_KEYS = {"format": "格式版本", "secret": "办公室密钥"}
_SYSTEM_NOTE = "此工作表由 zdxm 使用，请勿修改或删除；密钥只保存在台账中，不会写入任何模板或报表。"
_MAX_LISTED_PROBLEMS = 10
# Our sheets, in the order a master shows them; sheets the office adds go before 汇总.
SHEET_ORDER = (SETTINGS_SHEET, *(spec.sheet for spec in MASTER_TABLES), SUMMARY_SHEET,
               SYSTEM_SHEET)
OUR_SHEETS = frozenset(SHEET_ORDER)


# ---- reading ------------------------------------------------------------------------------

def read_master(gateway: Gateway, name: str = "台账") -> Master:
    """Every table of the master through ``gateway``; ``MasterError`` if it is not one."""
    sheets = gateway.sheet_names()
    missing = [s for s in (SETTINGS_SHEET, SYSTEM_SHEET, IMPLEMENTATION.sheet, PREPARATORY.sheet)
               if s not in sheets]
    if missing:
        raise MasterError(f"“{name}”不是 zdxm 台账（缺少工作表“{missing[0]}”）。请打开正确的台账。",
                          remedy=Remedy.CREATE_MASTER)
    # the ledger, the largest table, is read while the plan is decoded
    gateway.read_ahead([s for s in (LEDGER.sheet, SUBMISSIONS.sheet) if s in sheets])
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

    def table(spec: SheetSpec, model: type[R], defaults: dict[str, Any] | None = None) -> list[R]:
        if spec.sheet not in sheets:
            problems.append(RowProblem(spec.sheet, 1, "", "", "缺少这个工作表"))
            return []
        data = gateway.read_table(spec.sheet)
        records, found = decode_table(spec, model, data.header, data.rows, defaults=defaults)
        problems.extend(found)
        return records

    # 项目编号 may be blank (assigned below); the 预备项目 sheet has no 阶段 column
    implementation = table(IMPLEMENTATION, Project, {"id": ""})
    preparatory = table(PREPARATORY, Project, {"id": "", "stage": Stage.PREPARATORY})
    units = table(UNITS, Unit)
    ledger = _read_ledger(gateway, name, problems) if LEDGER.sheet in sheets \
        else Ledger(table(LEDGER, LedgerEntry))  # (says the sheet is missing)
    submissions = table(SUBMISSIONS, Submission)
    changes = table(CHANGES, Change)
    # 邮件记录 came with the mail feature: a master made before it gets the sheet when saved.
    mail_log = table(MAIL_LOG, MailRecord) if MAIL_LOG.sheet in sheets else []
    outbox = table(OUTBOX, OutboxEntry) if OUTBOX.sheet in sheets else []  # likewise
    # 问题台帐 and its 问题办理记录 came with 问题督办 (docs/问题督办.md): likewise.
    problem_rows = table(PROBLEMS, _ProblemRow) if PROBLEMS.sheet in sheets else []
    problem_log = table(PROBLEM_LOG, ProblemChange) if PROBLEM_LOG.sheet in sheets else []
    if problems or settings is None:
        raise MasterError(_describe_problems(name, problems))
    master = Master(settings=settings, secret=secret, units=units, ledger=ledger,
                    submissions=submissions, changes=changes, mail_log=mail_log, outbox=outbox)
    master.projects = implementation + preparatory
    _check_ids(master, name)
    master.problems = _problem_ids(master, problem_rows, name)
    master.problem_log = problem_log
    return master


def _read_ledger(gateway: Gateway, name: str, problems: list[RowProblem]) -> Ledger:
    """月报台帐, its rows decoded when first needed (``core.ledger``): a row whose key
    (报告期, 项目编号) cannot be read, or a header without them, is a problem now, as in any
    other table; a row that cannot be decoded otherwise is named when it is asked for."""
    keyed = gateway.read_keys(LEDGER.sheet) if isinstance(gateway, FileGateway) else None
    unreadable: Sequence[tuple[int, Sequence[object]]]
    if keyed is not None:  # the keys now, the other cells of a row when it is decoded
        rows, numbers = keyed_rows(keyed.numbers, keyed.keys)
        unreadable = list(zip(numbers, keyed.whole(numbers), strict=True))
        header = keyed.header
    else:
        data = gateway.read_table(LEDGER.sheet)
        rows, unreadable = ledger_rows(data.header, data.rows)
        header = data.header
    # every problem of the header, and of the rows without a key
    problems.extend(decode_rows(LEDGER, LedgerEntry, header, unreadable)[1])
    return Ledger(rows=rows, decode=_LedgerDecode(header, name,
                                                  keyed.whole if keyed is not None else None))


@dataclass(frozen=True)
class _LedgerDecode:
    """Decodes rows of the 月报台帐 read under ``header`` from the master ``name``, reading
    their cells first when only their keys were (``whole``); a class, not a closure, so
    that a master travels to the writers (pickled) with its ledger."""

    header: list[object]
    name: str
    whole: SheetRows | None = None

    def __call__(self, rows: Sequence[LedgerRow]) -> list[LedgerEntry]:
        unread = [row for row in rows if row.cells is None]
        if unread:
            assert self.whole is not None  # rows without cells come with their reader
            for row, cells in zip(unread, self.whole([row.number for row in unread]),
                                  strict=True):
                row.cells = cells
        records, found = decode_rows(LEDGER, LedgerEntry, self.header,
                                     [(row.number, row.cells or ()) for row in rows])
        if found:
            raise MasterError(_describe_problems(self.name, found))
        return records


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
    values["rule_levels"] = _read_rule_levels(gateway, problems)
    values["mail_allowed"] = _read_allowed(gateway, problems)
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


def _read_rule_levels(gateway: Gateway, problems: list[RowProblem]) -> dict[str, RuleLevel]:
    """The office's 校验规则 (code → 错误/警告/不检查) beside the settings; a master made
    before the table existed has none, and every rule keeps its default."""
    data = gateway.read_table(SETTINGS_SHEET, first_column=RULE_COLUMN)
    # a row the office left without a code is passed over, as it always was
    columns = (replace(RULE_TABLE.column("code"), required=False),
               RULE_TABLE.column("level"))
    if any(column.title not in header_index(data.header) for column in columns):
        return {}
    rows, found = decode_table(RULE_TABLE, _RuleRow, data.header, data.rows, columns=columns)
    problems.extend(found)
    defaults = {r.code: default_level(r) for r in ADJUSTABLE}
    levels = {row.code.upper(): row.level for row in rows if row.code and row.level is not None}
    # kept: only what differs from the default
    return {code: level for code, level in levels.items() if defaults.get(code, level) is not level}


class _RuleRow(BaseModel):
    """A 校验规则 row as read: the rule, and how the office wants it applied (if said)."""

    code: str = ""
    level: RuleLevel | None = None


def _rule_rows(settings: Settings) -> list[list[object]]:
    rows: list[list[object]] = []
    for declared in ADJUSTABLE:
        default = default_level(declared)
        note = "填了“情况说明”的按警告处理" if declared.explainable else ""
        rows.append([declared.code, declared.title,
                     settings.rule_levels.get(declared.code, default).value, default.value, note])
    return rows


def _read_allowed(gateway: Gateway, problems: list[RowProblem]) -> list[AllowedSender]:
    """The 允许发件人 table of 设置 (absent in a master made before it: none)."""
    data = gateway.read_table(SETTINGS_SHEET, first_column=ALLOWED_COLUMN)
    if not data.header or ALLOWED_SENDERS.columns[0].title not in [str(h) for h in data.header]:
        return []
    records, found = decode_table(ALLOWED_SENDERS, AllowedSender, data.header, data.rows)
    problems.extend(found)
    return records


def _check_ids(master: Master, name: str) -> None:
    seen: set[str] = set()
    for project in master.projects:
        if project.id in seen and project.id:  # rows added without one are numbered below
            raise MasterError(f"台账“{name}”中项目编号“{project.id}”重复，请改正后重试。")
        seen.add(project.id)
    free_ids = master.free_project_ids()
    for project in master.projects:
        if project.id == "":
            project.id = next(free_ids)
            master.ids_assigned = True


def _problem_ids(master: Master, rows: list[_ProblemRow], name: str) -> list[Problem]:
    """问题台帐 as read: a 问题编号 appears once; a row the office added without one gets
    the next free number (saved with the master, like 项目编号)."""
    seen: set[str] = set()
    for row in rows:
        if row.id and row.id in seen:
            raise MasterError(f"台账“{name}”的问题台帐中问题编号“{row.id}”重复，请改正后重试。")
        seen.add(row.id)
    problems = [row.to_problem() for row in rows if row.id]
    for row in rows:
        if not row.id:
            row.id = next_problem_id(master.year, problems)
            problems.append(row.to_problem())
            master.ids_assigned = True
    return problems


class _ProblemRow(Problem):
    """A 问题台帐 row as read: 问题编号 may be blank (a row the office added by hand)."""

    id: str = ""

    def to_problem(self) -> Problem:
        return Problem.model_validate(self.model_dump())


# ---- writing ------------------------------------------------------------------------------

def write_master(master: Master, gateway: Gateway) -> None:
    """Write every table of ``master`` through ``gateway``, one bulk write per table, then
    the 汇总 derived from it and the 系统 sheet, and put the sheets in their order."""
    values = master.settings.model_dump()
    gateway.write_table(SETTINGS_TABLE, [
        [column.header, encode_value(column, values.get(column.field)), column.help]
        for column in SETTINGS])
    counties = master.settings.counties
    gateway.write_table(COUNTY_TABLE, [[c] for c in counties], Layout(first_column=COUNTY_COLUMN))
    gateway.define_list(COUNTY_LIST_NAME, SETTINGS_SHEET, COUNTY_COLUMN, len(counties))
    gateway.write_table(RULE_TABLE, _rule_rows(master.settings), Layout(first_column=RULE_COLUMN))


    gateway.write_table(ALLOWED_SENDERS, encode_table(ALLOWED_SENDERS, master.settings.mail_allowed),
                        Layout(first_column=ALLOWED_COLUMN))
    lists = Layout(list_names={"县区": COUNTY_LIST_NAME})
    gateway.write_table(IMPLEMENTATION, encode_table(IMPLEMENTATION, master.implementation), lists)
    gateway.write_table(PREPARATORY, encode_table(PREPARATORY, master.preparatory), lists)
    gateway.write_table(UNITS, encode_table(UNITS, master.units))
    gateway.define_list(UNIT_LIST_NAME, UNITS.sheet, 1, len(master.units))
    gateway.write_table(LEDGER, encode_table(LEDGER, master.ledger, _from_plan(master)))
    gateway.write_table(SUBMISSIONS, encode_table(SUBMISSIONS, master.submissions))
    gateway.write_table(CHANGES, encode_table(CHANGES, master.changes))
    gateway.write_table(MAIL_LOG, encode_table(MAIL_LOG, master.mail_log))
    gateway.write_table(OUTBOX, encode_table(OUTBOX, master.outbox))
    gateway.write_table(PROBLEMS, encode_table(PROBLEMS, master.problems),
                        Layout(list_names={"责任单位": UNIT_LIST_NAME}))
    gateway.write_table(PROBLEM_LOG, encode_table(PROBLEM_LOG, master.problem_log))
    rows, text = summary_sheet(master)
    gateway.write_table(SUMMARY, rows)
    gateway.write_note(SUMMARY_SHEET, len(SUMMARY.columns) + 2, text, len(rows) + 1)
    gateway.write_system(SYSTEM_SHEET, [("项目", "值"), (_SYSTEM_KEYS["format"], str(FORMAT_VERSION)),
                                        (_SYSTEM_KEYS["secret"], master.secret),
                                        ("说明", _SYSTEM_NOTE)])
    gateway.arrange(SHEET_ORDER)


_PLAN_COLUMNS = ("stage", "sector", "county", "annual_plan")


def _from_plan(master: Master) -> Callable[[Sequence[LedgerEntry]], dict[str, list[object]]]:
    """月报台帐 rows' plan columns (阶段, 行业分类, 县区, 年度计划投资), so the sheet can be
    pivoted as it is: a column each, empty for a row whose project is not in the plan."""
    plan = {project.id: project for project in master.projects}

    def derive(entries: Sequence[LedgerEntry]) -> dict[str, list[object]]:
        projects = [plan.get(entry.project_id) for entry in entries]
        return {field: [None if project is None else getattr(project, field)
                        for project in projects] for field in _PLAN_COLUMNS}

    return derive


def load_master(path: Path | str) -> Master:
    """Read the master workbook file at ``path``."""
    path = Path(path)
    with no_collection_pauses():
        return read_master(FileGateway(path), path.name)


# ---- saving what changed ------------------------------------------------------------------
#
# Most saves change a few tables: a merge adds rows to 月报台帐 and 报送记录, mail adds to
# 邮件记录 and 发件箱. A master loaded for writing (``FileStore.session``) keeps a snapshot
# of what it held; its save then rewrites only those tables' rows that changed — from the
# first row that differs — and copies every other part of the file as it is; a setting
# changed (a 简报's 期数) is written in its cell of 设置. Anything else changed (the plan,
# units, 年度 or 城市名称, a table added by a later version …), or a file that does not look
# as zdxm wrote it, and the whole master is written as before.

# Tables whose rows a save may rewrite alone, and the record model each is read as. None of
# them feeds the derived 汇总 (the plan does) or another table's derived columns.
_ALONE: dict[str, tuple[SheetSpec, type[BaseModel]]] = {
    "ledger": (LEDGER, LedgerEntry), "submissions": (SUBMISSIONS, Submission),
    "mail_log": (MAIL_LOG, MailRecord), "outbox": (OUTBOX, OutboxEntry),
    "problems": (PROBLEMS, _ProblemRow), "problem_log": (PROBLEM_LOG, ProblemChange)}


# Settings a save may change in place, in 设置's 值 column (a 简报's 期数, the mail's
# settings): every one of the settings table but those 汇总 shows (年度, 城市名称). The
# 县区, 校验规则 and 允许发件人 beside them are tables that change in size: a master with
# them changed is written whole.
_SUMMARY_SETTINGS = frozenset({"year", "city"})
_IN_PLACE_SETTINGS = {column.field: column for column in SETTINGS
                      if column.field not in _SUMMARY_SETTINGS}


@dataclass
class _Changes:
    """What a save rewrites in place: each table from its first row that changed, and the
    settings changed (field → value)."""

    tables: dict[str, int]
    settings: dict[str, Any]


Records = list[BaseModel] | Ledger


def _records(master: Master) -> dict[str, Records]:
    """Every list of records the master holds, by attribute (whatever tables it has)."""
    return {f.name: value for f in dataclass_fields(master)
            if isinstance(value := getattr(master, f.name), (list, Ledger))}


def _others(master: Master) -> dict[str, object]:
    """Everything else the master holds (settings, key …), comparable."""
    return {f.name: value.model_dump() if isinstance(value, BaseModel) else value
            for f in dataclass_fields(master)
            if not isinstance(value := getattr(master, f.name), (list, Ledger))}


def _states(records: Records, start: int = 0) -> list[object]:
    """What the records from ``start`` are now: their field values (lists copied: they can
    change in place); the ledger's marks (``Ledger.marks``: its rows not decoded are not)."""
    if isinstance(records, Ledger):
        return records.marks(start)
    states = [record.__dict__.copy() for record in records[start:]]
    lists = _list_fields(type(records[0])) if records else ()
    for state in states if lists else ():
        for name in lists:
            value = state[name]
            if type(value) is list:
                state[name] = list(value)
    return states  # type: ignore[return-value]  # (a list is invariant: dicts are objects)


def _first_change(records: Records, states: list[object]) -> int:
    """The first record not as ``states`` (``_states``) say it was; the shorter length
    when none is."""
    if isinstance(records, Ledger):
        return records.first_change(states)
    return next((i for i, (record, state) in enumerate(zip(records, states, strict=False))
                 if record.__dict__ != state), min(len(records), len(states)))


@functools.cache
def _list_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` that may hold a list."""
    return tuple(name for name, info in model.model_fields.items()
                 if "list" in str(info.annotation).lower() or "dict" in str(info.annotation).lower())


@dataclass
class _Snapshot:
    """A master as it was loaded for writing, and the file it was loaded from."""

    master: Master
    file: tuple[int, int, int]  # size, modification time (ns), inode
    others: dict[str, object]
    records: dict[str, list[object]]
    in_place: set[str]  # the tables whose rows in the file match the records one to one
    package: Package | None = None  # the file's package, when the load read one (its keys)

    @classmethod
    def of(cls, master: Master, path: Path, gateway: FileGateway | None = None) -> _Snapshot:
        """The master as loaded through ``gateway``, or — without one — as just saved
        (every table's rows then match its records one to one)."""
        in_place = set()
        for name, (spec, _model) in _ALONE.items():
            if gateway is None:
                in_place.add(name)
                continue
            shape = gateway.shapes.get(spec.sheet)
            if shape is not None:
                header, rows, width = shape
                if [str(v).strip() if v is not None else "" for v in header] == list(spec.titles) \
                        and width == len(spec.columns) and rows == len(getattr(master, name)):
                    in_place.add(name)
        # the file read, not the one at ``path`` now: another may have been saved over it
        # during a long load
        file = file_state(path) if gateway is None else gateway.opened
        keyed = gateway.keyed_package if gateway is not None else None
        return cls(master, file, _others(master),
                   {name: _states(records) for name, records in _records(master).items()},
                   in_place, keyed)

    def saved(self, path: Path, changed: _Changes) -> None:
        """The master was just saved with ``changed`` rewritten: this is what it holds now."""
        self.file = file_state(path)
        for name, first in changed.tables.items():
            records = getattr(self.master, name)
            self.records[name][first:] = _states(records, first)
        self.in_place |= set(changed.tables)
        self.others = _others(self.master)

    def first_changes(self, master: Master) -> _Changes | None:
        """What changed: each table's first row that changed, for the tables that did, and
        the settings that can be changed in place; ``None`` when anything else changed."""
        if master is not self.master or master.ids_assigned:
            return None
        settings = _changed_settings(self.others, _others(master))
        if settings is None:
            return None
        now = _records(master)
        if now.keys() != self.records.keys():
            return None
        changed: dict[str, int] = {}
        for name, records in now.items():
            before = self.records[name]
            first = _first_change(records, before)
            if first == len(records) == len(before):
                continue
            if name not in self.in_place:
                return None
            changed[name] = first
        return _Changes(changed, settings)


def _changed_settings(before: dict[str, Any], now: dict[str, Any]) -> dict[str, Any] | None:
    """The settings changed between ``before`` and ``now`` (``_others``), field → value,
    when nothing else changed and each can be changed in place: a value the 值 cell gives
    back as it is (not emptied, which reads as the default; not text with spaces at its
    ends, which a read trims). ``None`` otherwise."""
    if now.keys() != before.keys() or any(now[key] != before[key]
                                          for key in now if key != "settings"):
        return None
    old, new = before["settings"], now["settings"]
    changed = {name: value for name, value in new.items() if value != old.get(name)}
    for name, value in changed.items():
        column = _IN_PLACE_SETTINGS.get(name)
        if column is None or value is None:
            return None
        try:
            if decode_value(column, encode_value(column, value)) != value:
                return None
        except ValueError:
            return None
    return changed


def _with_settings(sheet_xml: bytes, settings: dict[str, Any]) -> bytes:
    """设置's part with the 值 of ``settings`` (field → value) written in place, each in its
    cell's style, as a whole write would encode it; every other cell as it is.
    ``PackageLayoutError`` when the sheet is not as zdxm writes it, or a setting's 项目 is
    not found in column A exactly once (write the master whole then)."""
    sheet = FormSheet(SETTINGS_SHEET, sheet_xml)
    rows: dict[str, list[int]] = {}
    for number in range(2, sheet.last_row + 1):
        label = sheet.value(number, 1)
        if isinstance(label, str):
            rows.setdefault(label.strip(), []).append(number)
    for name, value in settings.items():
        column = _IN_PLACE_SETTINGS[name]
        found = rows.get(column.header, [])
        if len(found) != 1:
            raise PackageLayoutError(f"{SETTINGS_SHEET}: {column.header} in {len(found)} rows")
        sheet.set(found[0], 2, encode_value(column, value))
    return sheet.xml()


# A table's new rows are read back in pieces of at least this many rows, one per core (at
# most ``_MOST_PIECES``): each piece is read in a thread of its own.
_PIECE_ROWS = 4000
_MOST_PIECES = 4

_NOT_AS_WRITTEN = "写入台账后复核不一致，已放弃本次写入，原台账未改动。"


def _save_changes(master: Master, target: Path, snapshot: _Snapshot,
                  ready: Callable[[], object] | None = None) -> _Changes | None:
    """Save ``master`` over ``target`` rewriting only what changed since ``snapshot``: the
    tables rewritten, from which row, and the settings written in place; ``None`` when that
    cannot be done (nothing was written: the caller writes it whole, passing ``ready`` on —
    if it was called here already, it has nothing left to do). ``ready``: as
    ``MasterStore.save``, called once the new file has been read back and found good."""
    changes = snapshot.first_changes(master)
    if changes is None or not (changes.tables or changes.settings):
        return None  # something else changed, or nothing did (a save still rewrites 汇总)
    changed = changes.tables
    refuse_if_open_elsewhere(target)
    try:
        if file_state(target) != snapshot.file:  # changed under us: write it whole
            return None
        # the file as the load read it (its ledger inflated already), or as it is now
        package = snapshot.package or Package(target.read_bytes())
        snapshot.package = None  # used once: a write leaves its record in it
    except (OSError, PackageLayoutError):
        return None
    try:
        sheets = package.sheets()
        names = list(sheets)
        headers = {name: header_row(package.part(sheets[_ALONE[name][0].sheet].sheet))
                   for name in changed}
        styles = package.styles()
        replaced: dict[str, bytes] = {}  # the parts made anew
        if changes.settings:
            part = sheets[SETTINGS_SHEET].sheet
            replaced[part] = _with_settings(package.part(part), changes.settings)
    except (KeyError, PackageLayoutError):
        return None
    copied: dict[str, Copied] = {}  # where they hold the old parts' bytes
    made: dict[str, bytes] = {}  # table → its sheet part as made
    # python-calamine reads a table's new rows, as a load will, without holding the
    # interpreter: while the other tables are made and the file written (the ledger's many
    # rows in pieces, one per core, and the small tables beside them). Comparing them holds
    # it: that waits until the file is written (``settled``).
    settled = threading.Event()
    pieces = min(os.cpu_count() or 1, _MOST_PIECES)
    # (set however this ends, before the pool waits for its threads)
    with ThreadPoolExecutor(max_workers=pieces + 1, thread_name_prefix="zdxm-verify") as pool, \
            _set_on_exit(settled):
        reading: dict[str, list[Future[None]]] = {}
        # table → its new rows as python-calamine reads back what was written for them
        meant: dict[str, list[tuple[object, ...]]] = {}

        def read_back(name: str, first: int, xml: bytes) -> list[Future[None]]:
            """Read back the new rows of table ``name`` (from record ``first`` on) in
            ``xml``, its sheet part, a piece at a time; compared once ``settled``."""
            count = len(meant[name])
            return [pool.submit(_read_back, meant[name][at - first - 2:at - first - 2 + size],
                                at - 2, workbook_of_rows(rows, styles), settled)
                    for at, size, rows in row_pieces(xml, first + 2, count,
                                                     min(pieces, count // _PIECE_ROWS))]

        try:
            # the table with the most new rows first: its reading takes the longest
            for name, first in sorted(changed.items(),
                                      key=lambda item: item[1] - len(getattr(master, item[0]))):
                spec = _ALONE[name][0]
                records = getattr(master, name)
                derive = _from_plan(master) if spec is LEDGER else None
                rows = NewRows(first, encode_columns(spec, records[first:], derive))
                parts, read = FileGateway.rewritten_parts(
                    package, {spec.sheet: (rows, len(spec.columns))}, copied)
                replaced.update(parts)
                made[name] = parts[sheets[spec.sheet].sheet]
                if len(records) != first:
                    meant[name] = read[spec.sheet]
                    reading[name] = read_back(name, first, made[name])
        except PackageLayoutError:
            return None

        def verify(temp: Path) -> None:
            """Read the new file back: it opens as a workbook with the same sheets and
            styles; each rewritten table has its header as it was, one row per record (and
            its table's range says so), and its rewritten rows read back — with
            python-calamine, as a load reads them — into as many records, without a
            problem; the settings read back as the master holds them. The rows kept are
            the bytes they were, which the load read. A rewritten part the file holds
            exactly as it was compressed (``Package.read_back``) is the part as made,
            whose rows were being read since it was made; one that is not is read from
            the file."""
            again = package.read_back(temp.read_bytes())
            found = again.sheets()
            if list(found) != names or FileGateway(temp).sheet_names() != names \
                    or again.styles() != styles:
                raise MasterError(_NOT_AS_WRITTEN)
            for name, first in changed.items():
                spec = _ALONE[name][0]
                xml = again.part(found[spec.sheet].sheet)
                expected = len(getattr(master, name))
                if header_row(xml) != headers[name] or row_count(xml) != max(expected, 1) + 1 \
                        or table_rows(again, spec.sheet) != max(expected, 1):
                    raise MasterError(_NOT_AS_WRITTEN)
                if name in reading and xml is not made[name]:
                    reading[name] = read_back(name, first, xml)
            if changes.settings:
                problems: list[RowProblem] = []
                if _read_settings(FileGateway(temp), problems) != master.settings or problems:
                    raise MasterError(_NOT_AS_WRITTEN)
            settled.set()
            for read in reading.values():
                for piece in read:
                    piece.result()
            if ready is not None:  # last: the new file is good, only its replacing is left
                ready()

        try:
            FileGateway(target).commit_changes(package, replaced, verify, copied)
        except PackageLayoutError:
            return None
    return changes


@contextlib.contextmanager
def _set_on_exit(event: threading.Event) -> Iterator[None]:
    try:
        yield
    finally:
        event.set()


def _read_back(meant: list[tuple[object, ...]], first: int, book: bytes,
               settled: threading.Event) -> None:
    """Read ``book`` (a workbook of a table's rows from row ``first + 2`` on, as written)
    as a load reads it — python-calamine — and, once ``settled``, compare it with what was
    meant to be there: ``meant``, each new row's cells as python-calamine reads what was
    written for them (``package.sheet_with_new_rows``); ``MasterError`` when anything
    differs. (Run beside the rest of the save: the reading holds no interpreter.)"""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(book))
    sheet = workbook.get_sheet_by_name(workbook.sheet_names[0])
    settled.wait()
    if sheet.start is None or sheet.start[0] != first + 1:
        raise MasterError(_NOT_AS_WRITTEN)
    left = sheet.start[1]
    grid = sheet.to_python(skip_empty_area=True)
    if len(grid) != len(meant):
        raise MasterError(_NOT_AS_WRITTEN)
    got = [("",) * left + tuple(row) for row in grid] if left else list(map(tuple, grid))
    # the columns after the last with a value are not read: empty in every row meant
    width = len(got[0]) if got else 0
    if meant and len(meant[0]) > width and {row[width:] for row in meant} == {
            ("",) * (len(meant[0]) - width)}:
        meant = [row[:width] for row in meant]
    if meant == got:
        return
    for one, other in zip(meant, got, strict=True):
        if one != other and not _same_cells(one, other):
            raise MasterError(_NOT_AS_WRITTEN)


def _same_cells(meant: Sequence[object], got: Sequence[object]) -> bool:
    """The cells of a row as meant and as read are the same, a time within a millisecond (a
    date-time cell holds a day number, good to about a microsecond), an empty cell at the
    end the same as none."""
    width = max(len(meant), len(got))
    for one, other in zip([*meant, *[""] * (width - len(meant))],
                          [*got, *[""] * (width - len(got))], strict=True):
        if one == other:
            continue
        if isinstance(one, date) and isinstance(other, date):
            first, second = (value if isinstance(value, datetime)
                             else datetime.combine(value, datetime.min.time())
                             for value in (one, other))
            if abs(first - second) < timedelta(milliseconds=1):
                continue
        return False
    return True


def save_master(master: Master, path: Path | str,
                ready: Callable[[], object] | None = None) -> Path:
    """Write ``master`` to the file ``path``, atomically.

    A dated copy of the old file goes to 备份/ first (see ``FileGateway.commit``); the new
    file is read back and compared, and ``ready`` (as ``MasterStore.save``) called, before
    it replaces the old one.
    """
    target = Path(path)
    refuse_if_open_elsewhere(target)
    # A master holding only our sheets is written afresh: every one of them is rebuilt from
    # the records anyway, and not parsing the old file with openpyxl saves most of the time
    # of a write. Sheets the office added itself are kept by loading the old file.
    gateway = FileGateway(target, create=not target.exists() or _only_our_sheets(target))
    write_master(master, gateway)

    def verify(temp: Path) -> None:
        again = read_master(FileGateway(temp), target.name)
        if (len(again.projects), len(again.units), len(again.ledger), len(again.submissions),
                len(again.changes), len(again.mail_log), len(again.outbox),
                len(again.problems), len(again.problem_log)) != (
                len(master.projects), len(master.units), len(master.ledger),
                len(master.submissions), len(master.changes), len(master.mail_log),
                len(master.outbox), len(master.problems), len(master.problem_log)):
            raise MasterError("写入台账后复核不一致，已放弃本次写入，原台账未改动。")
        if ready is not None:
            ready()

    gateway.commit(verify)
    master.ids_assigned = False
    return target


def _only_our_sheets(path: Path) -> bool:
    try:
        return set(FileGateway(path).sheet_names()) <= OUR_SHEETS
    except MasterError:
        return False  # let the full load say what is wrong


def create_master(path: Path | str, year: int, master: Master | None = None) -> Master:
    """A new master file at ``path``; refuses to overwrite an existing file."""
    path = Path(path)
    if path.exists():
        raise MasterError(f"“{path}”已存在，未覆盖。请换一个文件名，或先移走原文件。",
                          field=Field.OUTPUT, value=str(path))
    if path.suffix.lower() != ".xlsx":
        raise MasterError("台账应保存为 .xlsx 文件，如 重大项目台账.xlsx。", field=Field.OUTPUT,
                          value=str(path))
    if not path.parent.exists():
        raise MasterError(f"文件夹“{path.parent}”不存在。", field=Field.OUTPUT, value=str(path))
    master = master or new_master(year)
    save_master(master, path)
    return master


@dataclass
class FileStore:
    """The master as a .xlsx file (``MasterStore``): locked while written, replaced
    atomically, backed up."""

    path: Path
    lock_wait: float = LOCK_WAIT
    # 月报台帐's rows read from the file when first needed, their keys only with the
    # master: for an operation that needs few of them (checking or merging some returns
    # against a year's ledger, by hand or by mail). A report needs them all: read with the
    # master, beside the plan.
    ledger_on_demand: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def folder(self) -> Path:
        return self.path.parent

    _writing: bool = field(default=False, init=False, repr=False, compare=False)
    _snapshot: _Snapshot | None = field(default=None, init=False, repr=False, compare=False)

    def load(self) -> Master:
        gateway = FileGateway(self.path, keyed={LEDGER.sheet: KEY_TITLES}
                              if self.ledger_on_demand else None)
        with no_collection_pauses():
            master = read_master(gateway, self.path.name)
            # loaded to be changed and saved: remember what it held, so the save writes
            # only what changed
            self._snapshot = _Snapshot.of(master, self.path, gateway) if self._writing else None
        return master

    def save(self, master: Master, ready: Callable[[], object] | None = None) -> None:
        with no_collection_pauses():
            snapshot = self._snapshot
            changed = _save_changes(master, self.path, snapshot, ready) \
                if snapshot is not None else None
            if changed is not None and snapshot is not None:
                snapshot.saved(self.path, changed)  # a second save compares with this one
                return
            save_master(master, self.path, ready)
            self._snapshot = _Snapshot.of(master, self.path) if self._writing else None

    @contextlib.contextmanager
    def session(self) -> Iterator[object]:
        refuse_if_open_elsewhere(self.path)
        with MasterLock(self.path, wait=self.lock_wait) as lock:
            self._writing = True
            try:
                yield lock
            finally:
                self._writing, self._snapshot = False, None


def open_store(master: MasterStore | Path | str, *, ledger_on_demand: bool = False
               ) -> MasterStore:
    """A path means the file store — reading the ledger's rows when first needed with
    ``ledger_on_demand``, for an operation that needs those of a few projects
    (``FileStore``); a store is used as it is, as its maker set it up."""
    if isinstance(master, str | Path):
        return FileStore(Path(master), ledger_on_demand=ledger_on_demand)
    return master
