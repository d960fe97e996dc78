"""Unit fill-in templates (填报模板): one workbook per 牵头单位 per 报告期.

A template has a 填报说明 sheet, the return sheet(s) the unit needs (实施项目月报,
预备项目月报) pre-filled with its projects — plan and reference columns locked, input columns
open with dropdowns and validation — and a hidden identity: template version, unit, 报告期,
project list and issue time, signed with an HMAC keyed by the office's secret. A file edited
to claim another unit, period or project set no longer matches its signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .books.gateway import NUMBER_FORMATS, print_ready, write_text
from .books.masterio import Master, MasterStore, as_store
from .books.safety import atomic_write
from .core.cells import deadline, format_date, parse_period, period_end, period_month, previous_period
from .core.errors import UsageError
from .core.models import LedgerEntry, Project, Unit
from .core.registry import (
    FORM_CONTACTS,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    Column,
    Kind,
    SheetSpec,
)

__all__ = [
    "TEMPLATE_VERSION",
    "IDENTITY_SHEET",
    "HEADER_ROW",
    "Identity",
    "TemplateResult",
    "expected_returns",
    "previous_figures",
    "template_name",
    "make_templates",
    "write_template",
]

TEMPLATE_VERSION = "1"
IDENTITY_SHEET = "系统信息"  # hidden; read back by the checker
GUIDE_SHEET = "填报说明"
HEADER_ROW = 4  # title, unit line, contacts, then the header
FIRST_DATA_ROW = HEADER_ROW + 1
IDENTITY_KEYS = {"version": "模板版本", "unit": "单位", "period": "报告期", "projects": "项目编号",
                 "issued": "生成时间", "signature": "签名"}

LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
PLAN_HEADER = PatternFill("solid", fgColor="1F4E78")
INPUT_HEADER = PatternFill("solid", fgColor="375623")
WHITE = Font(name="等线", bold=True, color="FFFFFF")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True)
class Identity:
    """Who a template was issued to, for which 报告期 and projects, and its signature."""

    version: str
    unit: str
    period: str
    projects: tuple[str, ...]
    issued: str  # ISO time the template was made
    signature: str = ""

    def payload(self) -> bytes:
        # Canonical JSON: the same identity always gives the same bytes to sign.
        return json.dumps([self.version, self.unit, self.period, list(self.projects), self.issued],
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def signed(self, secret: str) -> Identity:
        digest = hmac.new(bytes.fromhex(secret), self.payload(), hashlib.sha256).hexdigest()
        return Identity(self.version, self.unit, self.period, self.projects, self.issued, digest)

    def verify(self, secret: str) -> bool:
        return hmac.compare_digest(self.signed(secret).signature, self.signature)

    def rows(self) -> list[tuple[str, str]]:
        return [(IDENTITY_KEYS["version"], self.version), (IDENTITY_KEYS["unit"], self.unit),
                (IDENTITY_KEYS["period"], self.period),
                (IDENTITY_KEYS["projects"], ",".join(self.projects)),
                (IDENTITY_KEYS["issued"], self.issued),
                (IDENTITY_KEYS["signature"], self.signature)]

    @classmethod
    def from_pairs(cls, pairs: dict[str, str]) -> Identity:
        def get(key: str) -> str:
            return str(pairs.get(IDENTITY_KEYS[key], "") or "").strip()

        projects = tuple(p for p in get("projects").split(",") if p)
        return cls(get("version"), get("unit"), get("period"), projects, get("issued"),
                   get("signature"))


@dataclass
class TemplateResult:
    period: str
    files: list[Path] = field(default_factory=list)
    units: list[str] = field(default_factory=list)


def reports_in(project: Project, period: str) -> bool:
    """Whether a project is reported for ``period``: in the plan by the period's end (a 增补
    project reports from the period of its 批次日期 on), and not exited before the period
    began (a project exited in May still reports May, and leaves from June on)."""
    if project.batch_date is not None and project.batch_date > period_end(period):
        return False
    if project.exit_date is None:
        return project.active
    return project.exit_date >= period_month(period)


def expected_returns(master: Master, period: str) -> dict[str, list[Project]]:
    """牵头单位 → the projects it reports for ``period``, in the master's order."""
    by_unit: dict[str, list[Project]] = {}
    for project in master.projects:
        if reports_in(project, period):
            by_unit.setdefault(project.lead_unit, []).append(project)
    return by_unit


def previous_figures(master: Master, period: str) -> dict[str, tuple[Decimal, Decimal]]:
    """项目编号 → (上月本年累计, 上月开工以来累计) for ``period``.

    January: 0 and 截至上年底累计. Later months: the ledger's previous 报告期; a project not
    reported then falls back to the latest earlier month of the year, else to January's."""
    before = previous_period(period)
    latest: dict[str, LedgerEntry] = {}
    if before is not None:
        for entry in master.ledger:
            if entry.period <= before and entry.period[:4] == period[:4]:
                seen = latest.get(entry.project_id)
                if seen is None or entry.period > seen.period:
                    latest[entry.project_id] = entry
    figures: dict[str, tuple[Decimal, Decimal]] = {}
    for project in master.projects:
        prior = project.prior_completed or Decimal(0)
        last = latest.get(project.id)
        if last is None:
            figures[project.id] = (Decimal(0), prior)
        else:
            figures[project.id] = (last.year_completed or Decimal(0),
                                   last.total_completed if last.total_completed is not None
                                   else prior)
    return figures


def last_reported(master: Master, period: str) -> dict[str, LedgerEntry]:
    """项目编号 → its row in the previous 报告期, to pre-fill statuses that rarely change."""
    before = previous_period(period)
    return {e.project_id: e for e in master.ledger if before is not None and e.period == before}


def template_name(period: str, unit: str) -> str:
    """``2022-03_市交通运输局_重大项目月报.xlsx``, safe as a file name everywhere."""
    return f"{period}_{_UNSAFE_IN_NAMES.sub('_', unit)}_重大项目月报.xlsx"


def make_templates(master_store: MasterStore | Path | str, period: str, out_dir: Path | str,
                   unit: str | None = None, issued: datetime | None = None) -> TemplateResult:
    """Write one template per 牵头单位 (or just ``unit``) for ``period`` into ``out_dir``."""
    try:
        period = parse_period(period)
    except ValueError as exc:
        raise UsageError(f"报告期“{period}”无效，请写成 2022-03 的形式。") from exc
    store = as_store(master_store)
    master = store.load()
    if int(period[:4]) != master.year:
        raise UsageError(f"报告期 {period} 不在台账的年度 {master.year} 内。")
    if master.ids_assigned:
        with store.session():  # the ids in the templates must be the ones the master keeps
            store.save(master)
    expected = expected_returns(master, period)
    if unit is not None:
        if unit not in expected:
            raise UsageError(f"“{unit}”在 {period} 没有需要报送的项目（不是任何在库项目的牵头单位）。")
        expected = {unit: expected[unit]}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    issued_at = (issued or datetime.now()).replace(microsecond=0)
    figures, previous = previous_figures(master, period), last_reported(master, period)
    result = TemplateResult(period)
    for name, projects in expected.items():
        path = out / template_name(period, name)
        write_template(master, name, projects, period, path, issued_at, figures, previous)
        result.files.append(path)
        result.units.append(name)
    return result


def write_template(master: Master, unit_name: str, projects: Sequence[Project], period: str,
                   path: Path, issued: datetime,
                   figures: dict[str, tuple[Decimal, Decimal]] | None = None,
                   previous: dict[str, LedgerEntry] | None = None) -> Identity:
    """Write one unit's template to ``path`` and return the identity it carries.

    ``figures`` and ``previous`` (``previous_figures``, ``last_reported``) are worked out
    here unless given — given once when many templates of one period are written."""
    unit = master.unit(unit_name) or Unit(name=unit_name)
    identity = Identity(TEMPLATE_VERSION, unit_name, period, tuple(p.id for p in projects),
                        issued.isoformat(timespec="seconds")).signed(master.secret)
    book = openpyxl.Workbook()
    guide = book.active
    guide.title = GUIDE_SHEET
    implementation = [p for p in projects if not p.is_preparatory]
    preparatory = [p for p in projects if p.is_preparatory]
    figures = previous_figures(master, period) if figures is None else figures
    previous = last_reported(master, period) if previous is None else previous
    _write_guide(guide, master, unit, period, implementation, preparatory)
    if implementation:
        _write_return(book.create_sheet(FORM_IMPLEMENTATION.sheet), FORM_IMPLEMENTATION, master,
                      unit, period, implementation, figures, previous)
    if preparatory:
        _write_return(book.create_sheet(FORM_PREPARATORY.sheet), FORM_PREPARATORY, master, unit,
                      period, preparatory, figures, previous)
    meta = book.create_sheet(IDENTITY_SHEET)
    for row, (key, value) in enumerate(identity.rows(), start=1):
        write_text(meta.cell(row=row, column=1), key)
        write_text(meta.cell(row=row, column=2), value)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    book.active = 1 if len(book.sheetnames) > 2 else 0
    atomic_write(path, lambda temp: book.save(temp))
    return identity


def _write_guide(ws: Worksheet, master: Master, unit: Unit, period: str,
                 implementation: Sequence[Project], preparatory: Sequence[Project]) -> None:
    settings = master.settings
    due = deadline(period, settings.deadline_day)
    title = f"{settings.city}{master.year}年重大项目月报填报说明"
    lines: list[tuple[str, str]] = [
        ("填报单位", unit.name),
        ("报告期", f"{period}（数据截至{format_date(period_end(period))}）"),
        ("报送截止", f"{format_date(due)}前，逾期将在通报中列为逾期报送"),
        ("本单位项目",
         f"实施项目 {len(implementation)} 个，预备项目 {len(preparatory)} 个（本单位为牵头单位）"),
        ("信息员", _person(unit.informant_name, unit.informant_phone, unit.informant_email)),
        ("联络员", _person(unit.liaison_name, unit.liaison_phone, unit.liaison_email)),
        ("收件单位", settings.publisher),
    ]
    rules = [
        "只在白色单元格填写；灰色单元格为计划和上月数据，已锁定，无需修改。",
        "金额单位为万元，最多两位小数，只填数字（不要写“约”“左右”或单位）。",
        "本年累计完成投资 = 上月本年累计 + 本月完成投资（1月份等于本月完成投资）。",
        "开工以来累计完成投资不应小于本年累计，也不应小于上月开工以来累计。",
        "是否开工、是否竣工请从下拉中选“是”或“否”；选“是”的须填写实际日期，如 2022-03-15。",
        "前期工作各项许可请从下拉中选：未启动、办理中、已办结、不涉及。",
        "本月有投资的项目须填写形象进度；存在问题和需协调事项如实填写，没有可不填。",
        "请填写表头右侧的填报人、联系电话和审核人。",
        "不要增删行列、不要修改项目编号和工作表名称；请保存为 .xlsx 格式后发回。",
        "本文件带有校验信息，请直接在本文件中填写，不要复制到其他文件。",
    ]
    write_text(ws["A1"], title)
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws.merge_cells("A1:B1")
    row = 3
    for label, value in lines:
        write_text(ws.cell(row=row, column=1), label)
        write_text(ws.cell(row=row, column=2), value)
        ws.cell(row=row, column=1).font = Font(name="等线", bold=True)
        row += 1
    row += 1
    write_text(ws.cell(row=row, column=1), "填报要求")
    ws.cell(row=row, column=1).font = Font(name="等线", bold=True, size=12)
    for number, text in enumerate(rules, start=1):
        row += 1
        write_text(ws.cell(row=row, column=1), f"{number}.")
        write_text(ws.cell(row=row, column=2), text)
        ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 90
    # The guide fits one A4 page wide (it was split across pages before).
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows="1:1", landscape=False)
    ws.protection.sheet = True


def _person(name: str | None, phone: str | None, email: str | None) -> str:
    parts = [p for p in (name, phone, email) if p]
    return "，".join(parts) if parts else "（未登记，请联系市重点办补充）"


def _write_return(ws: Worksheet, spec: SheetSpec, master: Master, unit: Unit, period: str,
                  projects: Sequence[Project], figures: dict[str, tuple[Decimal, Decimal]],
                  previous: dict[str, LedgerEntry]) -> None:
    columns = spec.columns
    inputs = set(spec.inputs)
    last = get_column_letter(len(columns))
    kind = "实施项目" if spec is FORM_IMPLEMENTATION else "预备项目"
    write_text(ws["A1"], f"{master.settings.city}{master.year}年重大项目月报（{kind}）")
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A1:{last}1")
    due = deadline(period, master.settings.deadline_day)
    write_text(ws["A2"], f"填报单位：{unit.name}    报告期：{period}    截止日期：{format_date(due)}    "
                         "金额单位：万元    灰色为计划与上月数据（已锁定），白色为填报栏")
    ws.merge_cells(f"A2:{last}2")
    values = unit.model_dump()
    for position, (field_name, label) in enumerate(FORM_CONTACTS):
        label_cell = ws.cell(row=3, column=1 + position * 3)
        value_cell = ws.cell(row=3, column=2 + position * 3)
        write_text(label_cell, label)
        label_cell.font = Font(name="等线", bold=True)
        write_text(value_cell, values.get(field_name) or "")
        value_cell.protection = Protection(locked=False)
        value_cell.border = BORDER
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=index)
        write_text(cell, column.title)
        cell.font = WHITE
        cell.fill = INPUT_HEADER if column.field in inputs else PLAN_HEADER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        if column.help:
            cell.comment = Comment(column.help, "市重点办")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[HEADER_ROW].height = 42
    styled: list[Any] = []  # each column's style, set on the first row and copied below
    for offset, project in enumerate(projects):
        row = FIRST_DATA_ROW + offset
        prefill = _prefill(project, figures.get(project.id), previous.get(project.id))
        for index, column in enumerate(columns, start=1):
            cell = ws.cell(row=row, column=index)
            write_text(cell, prefill.get(column.field))
            if offset:
                # Copying the style array skips openpyxl's per-assignment style lookups,
                # most of the cost of writing a template.
                cell._style = copy(styled[index - 1])
                continue
            cell.number_format = NUMBER_FORMATS[column.kind]
            cell.border = BORDER
            if column.field in inputs:
                cell.protection = Protection(locked=False)
            else:
                cell.fill = LOCKED_FILL
            if column.field == "name":
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            styled.append(cell._style)
    last_row = FIRST_DATA_ROW + len(projects) - 1
    _add_input_validations(ws, spec, last_row)
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
    print_ready(ws, paper=ws.PAPERSIZE_A3, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    protection = ws.protection
    protection.sheet = True
    # Units may still resize columns and rows and use filters; they may not change the plan.
    protection.formatColumns = False
    protection.formatRows = False
    protection.autoFilter = False


def _prefill(project: Project, figures: tuple[Decimal, Decimal] | None,
             previous: LedgerEntry | None) -> dict[str, object]:
    values: dict[str, object] = project.model_dump()
    year, since_start = figures or (Decimal(0), project.prior_completed or Decimal(0))
    values["previous_year_completed"] = year
    values["previous_total_completed"] = since_start
    # Money and words are this month's; statuses carry over from last month.
    for name in ("month_completed", "year_completed", "total_completed", "progress",
                 "preparation", "problems", "coordination"):
        values[name] = None
    carried = ("started", "start_date", "completed", "end_date", "permit_investment",
               "permit_planning", "permit_land", "permit_environment", "permit_energy",
               "permit_construction")
    reported = previous.model_dump() if previous else {}
    for name in carried:
        values[name] = reported.get(name)
    if project.is_preparatory:
        values["planned_start"] = reported.get("planned_start") or project.planned_start
    return values


def _add_input_validations(ws: Worksheet, spec: SheetSpec, last_row: int) -> None:
    for index, column in enumerate(spec.columns, start=1):
        if column.field not in spec.inputs:
            continue
        letter = get_column_letter(index)
        validation = _input_validation(column)
        if validation is None:
            continue
        validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{max(last_row, FIRST_DATA_ROW)}")
        ws.add_data_validation(validation)


def _input_validation(column: Column) -> DataValidation | None:
    prompt = column.help[:255] if column.help else None
    common = {"allow_blank": True, "showErrorMessage": True, "showInputMessage": bool(prompt),
              "promptTitle": column.header[:32], "prompt": prompt}
    if column.kind is Kind.CHOICE and column.choices:
        return DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"',
                              errorTitle="请从下拉列表选择",
                              error=f"{column.header}只能填：{'、'.join(column.choices)}。", **common)
    if column.kind is Kind.MONEY:
        return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                              errorTitle="金额有误",
                              error=f"{column.header}请填写不小于 0 的数字，单位万元，最多两位小数。",
                              **common)
    if column.kind in (Kind.DATE, Kind.MONTH):
        low = (date(2000, 1, 1) - date(1899, 12, 30)).days
        high = (date(2099, 12, 31) - date(1899, 12, 30)).days
        return DataValidation(type="date", operator="between", formula1=str(low),
                              formula2=str(high), errorTitle="日期有误",
                              error=f"{column.header}请填写日期，如 2022-03-15。", **common)
    return None


