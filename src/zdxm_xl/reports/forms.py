"""The 填报模板 (form) of one 牵头单位 for one 报告期, as a workbook.

A form has a 填报说明 sheet, the return sheet(s) the unit needs (实施项目月报, 预备项目月报)
pre-filled with its projects — plan and reference columns locked, input columns open with
dropdowns and validation — and the hidden, signed identity (``core.identity``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from copy import copy
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

from ..books.safety import save_workbook
from ..books.styles import NUMBER_FORMATS, print_ready, write_text
from ..core.cells import format_date
from ..core.identity import FORM_VERSION, IDENTITY_SHEET, Identity
from ..core.master import Master
from ..core.models import LedgerEntry, Project, Unit
from ..core.periods import deadline, period_end
from ..core.registry import (
    FORM_CONTACTS,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    Column,
    Kind,
    SheetSpec,
)
from ..core.registry import (
    FORM_GUIDE_SHEET as GUIDE_SHEET,
)
from ..core.registry import (
    FORM_HEADER_ROW as HEADER_ROW,
)
from ..core.returns import last_reported, previous_figures

__all__ = ["GUIDE_SHEET", "FIRST_DATA_ROW", "form_name", "write_form", "style_return", "style_guide"]

FIRST_DATA_ROW = HEADER_ROW + 1

LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
PLAN_HEADER = PatternFill("solid", fgColor="1F4E78")
INPUT_HEADER = PatternFill("solid", fgColor="375623")
WHITE = Font(name="等线", bold=True, color="FFFFFF")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\s]+')


def form_name(period: str, unit: str) -> str:
    """``2022-03_市交通运输局_重大项目月报.xlsx``, safe as a file name everywhere."""
    return f"{period}_{_UNSAFE_IN_NAMES.sub('_', unit)}_重大项目月报.xlsx"


def write_form(master: Master, unit_name: str, projects: Sequence[Project], period: str,
                   path: Path, issued: datetime,
                   figures: dict[str, tuple[Decimal, Decimal]] | None = None,
                   previous: dict[str, LedgerEntry] | None = None) -> Identity:
    """Write one unit's form to ``path`` and return the identity it carries.

    ``figures`` and ``previous`` (``previous_figures``, ``last_reported``) are worked out
    here unless given — given once when many templates of one period are written."""
    unit = master.unit(unit_name) or Unit(name=unit_name)
    identity = Identity(FORM_VERSION, unit_name, period, tuple(p.id for p in projects),
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
    save_workbook(book, path, issued)  # the same form, the same bytes
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
    row = 3
    for label, value in lines:
        write_text(ws.cell(row=row, column=1), label)
        write_text(ws.cell(row=row, column=2), value)
        row += 1
    row += 1
    write_text(ws.cell(row=row, column=1), "填报要求")
    for number, text in enumerate(rules, start=1):
        row += 1
        write_text(ws.cell(row=row, column=1), f"{number}.")
        write_text(ws.cell(row=row, column=2), text)
    style_guide(ws)
    ws.protection.sheet = True


def style_guide(ws: Worksheet) -> None:
    """The look of a 填报说明 sheet holding its texts: the title, bold labels, wrapped rules
    (the form, and the annotated copy of a returned form)."""
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws.merge_cells("A1:B1")
    # Only the cells there are: looking at an empty one would add it to the sheet.
    labels = sorted((row, cell) for (row, column), cell in ws._cells.items()
                    if column == 1 and row >= 3 and isinstance(cell.value, str))
    for row, label in labels:
        if label.value == "填报要求":
            label.font = Font(name="等线", bold=True, size=12)
        elif not label.value.endswith("."):  # a fact's label; "1." numbers a rule
            label.font = Font(name="等线", bold=True)
        elif (row, 2) in ws._cells:
            ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 90
    # The guide fits one A4 page wide (it was split across pages before).
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows="1:1", landscape=False)


def _person(name: str | None, phone: str | None, email: str | None) -> str:
    parts = [p for p in (name, phone, email) if p]
    return "，".join(parts) if parts else "（未登记，请联系市重点办补充）"


def _write_return(ws: Worksheet, spec: SheetSpec, master: Master, unit: Unit, period: str,
                  projects: Sequence[Project], figures: dict[str, tuple[Decimal, Decimal]],
                  previous: dict[str, LedgerEntry]) -> None:
    columns = spec.columns
    kind = "实施项目" if spec is FORM_IMPLEMENTATION else "预备项目"
    write_text(ws["A1"], f"{master.settings.city}{master.year}年重大项目月报（{kind}）")
    due = deadline(period, master.settings.deadline_day)
    write_text(ws["A2"], f"填报单位：{unit.name}    报告期：{period}    截止日期：{format_date(due)}    "
                         "金额单位：万元    灰色为计划与上月数据（已锁定），白色为填报栏")
    values = unit.model_dump()
    for position, (field_name, label) in enumerate(FORM_CONTACTS):
        write_text(ws.cell(row=3, column=1 + position * 3), label)
        write_text(ws.cell(row=3, column=2 + position * 3), values.get(field_name) or "")
    for index, column in enumerate(columns, start=1):
        write_text(ws.cell(row=HEADER_ROW, column=index), column.title)
    for offset, project in enumerate(projects):
        prefill = _prefill(project, figures.get(project.id), previous.get(project.id))
        for index, column in enumerate(columns, start=1):
            write_text(ws.cell(row=FIRST_DATA_ROW + offset, column=index), prefill.get(column.field))
    style_return(ws, spec, dict(enumerate(columns, start=1)), len(projects))
    protection = ws.protection
    protection.sheet = True
    # Units may still resize columns and rows and use filters; they may not change the plan.
    protection.formatColumns = False
    protection.formatRows = False
    protection.autoFilter = False


def style_return(ws: Worksheet, spec: SheetSpec, positions: dict[int, Column], rows: int) -> None:
    """The look of a return sheet holding its values: title rows, contact labels, the
    header and ``rows`` project rows, each cell styled by its column in the registry
    (``positions``: sheet column number → registry column; number formats, widths, help,
    locked plan columns, dropdowns on the input columns), frozen panes and page setup. The
    form uses it, and so does the annotated copy of a returned form, whose columns a unit
    may have moved."""
    inputs = set(spec.inputs)
    last = get_column_letter(max(positions, default=len(spec.columns)))
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    for position in range(len(FORM_CONTACTS)):
        ws.cell(row=3, column=1 + position * 3).font = Font(name="等线", bold=True)
        value_cell = ws.cell(row=3, column=2 + position * 3)
        value_cell.protection = Protection(locked=False)
        value_cell.border = BORDER
    for index, column in positions.items():
        cell = ws.cell(row=HEADER_ROW, column=index)
        cell.font = WHITE
        cell.fill = INPUT_HEADER if column.field in inputs else PLAN_HEADER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        if column.help:
            cell.comment = Comment(column.help, "市重点办")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[HEADER_ROW].height = 42
    styled: dict[int, Any] = {}  # each column's style, set on the first row and copied below
    for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + rows):
        for index, column in positions.items():
            cell = ws.cell(row=row, column=index)
            if index in styled:
                # Copying the style array skips openpyxl's per-assignment style lookups,
                # most of the cost of writing a template.
                cell._style = copy(styled[index])
                continue
            cell.number_format = NUMBER_FORMATS[column.kind]
            cell.border = BORDER
            if column.field in inputs:
                cell.protection = Protection(locked=False)
            else:
                cell.fill = LOCKED_FILL
            if column.field == "name":
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            styled[index] = cell._style
    _add_input_validations(ws, spec, positions, FIRST_DATA_ROW + rows - 1)
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
    print_ready(ws, paper=ws.PAPERSIZE_A3, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")


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


def _add_input_validations(ws: Worksheet, spec: SheetSpec, positions: dict[int, Column],
                           last_row: int) -> None:
    for index, column in positions.items():
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


