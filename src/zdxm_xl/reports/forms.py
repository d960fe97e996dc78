"""The 填报模板 (form) of one 牵头单位 for one 报告期, as a workbook.

A form has a 填报说明 sheet, the return sheet(s) the unit needs (实施项目月报, 预备项目月报)
pre-filled with its projects — plan and reference columns locked, input columns open with
dropdowns and validation — and the hidden, signed identity (``core.identity``).

What helps a 信息员 fill it right the first time:

* 本年累计 and 开工以来累计 are formulas (上月 + 本月完成, from the locked reference columns),
  so only 本月完成 needs typing; the cells stay open, and a typed value is accepted when it
  is right. The checker re-checks them on return either way. openpyxl stores no computed
  value for a formula; Excel and WPS recompute on opening (openpyxl asks them to), and so
  does LibreOffice for a cell without one, and each saves the values it shows.
* Each input cell's prompt and its error message say the same thing, with examples from
  the report period; dates and months accept what people type (2022-03-15, 2022年3月15日,
  2023-03, 2023年3月) in Excel, WPS and LibreOffice alike, so the validation never refuses
  what the checker accepts.
* Phone cells are text, so a landline keeps its leading 0.
* 填报说明 names the real cells: the sheet, the columns to fill, where 填报人 goes.
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
from ..books.styles import NUMBER_FORMATS, print_ready, wrapped_lines, write_text
from ..core.cells import format_date
from ..core.identity import FORM_VERSION, IDENTITY_SHEET, Identity
from ..core.master import Master
from ..core.models import LedgerEntry, Problem, Project, Unit
from ..core.periods import deadline, period_end, period_month
from ..core.problems import unit_items
from ..core.registry import (
    FORM_CONTACTS,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    FORM_PROBLEMS,
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

__all__ = ["GUIDE_SHEET", "FIRST_DATA_ROW", "form_name", "write_form", "style_return", "style_guide",
           "style_problems"]

FIRST_DATA_ROW = HEADER_ROW + 1
CONTACT_ROW = 3  # 填报人, 联系电话, 审核人: labels in A, D, G and values in B, E, H
# Inputs the form adds up itself: field → the locked reference column it adds 本月完成 to.
FORMULAS = {"year_completed": "previous_year_completed",
            "total_completed": "previous_total_completed"}
_FIRST_SERIAL = (date(2000, 1, 1) - date(1899, 12, 30)).days
_LAST_SERIAL = (date(2099, 12, 31) - date(1899, 12, 30)).days

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
    here unless given — given once when many templates of one period are written. The
    open problems of the unit's projects (问题台帐) go in a 问题跟踪 sheet."""
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
    problems = unit_items(master, [p.id for p in projects])
    _write_guide(guide, master, unit, period, implementation, preparatory, len(problems))
    if implementation:
        _write_return(book.create_sheet(FORM_IMPLEMENTATION.sheet), FORM_IMPLEMENTATION, master,
                      unit, period, implementation, figures, previous)
    if preparatory:
        _write_return(book.create_sheet(FORM_PREPARATORY.sheet), FORM_PREPARATORY, master, unit,
                      period, preparatory, figures, previous)
    if problems:
        _write_problems(book.create_sheet(FORM_PROBLEMS.sheet), master, unit, period, problems,
                        issued.date())
    meta = book.create_sheet(IDENTITY_SHEET)
    for row, (key, value) in enumerate(identity.rows(), start=1):
        write_text(meta.cell(row=row, column=1), key)
        write_text(meta.cell(row=row, column=2), value)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    book.active = 1 if len(book.sheetnames) > 2 else 0
    save_workbook(book, path, issued, rewrite=_cached_blanks)  # the same form, the same bytes
    return identity


def _write_guide(ws: Worksheet, master: Master, unit: Unit, period: str,
                 implementation: Sequence[Project], preparatory: Sequence[Project],
                 problems: int = 0) -> None:
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
    rules = _guide_rules(period, implementation, preparatory, problems)
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
            label.alignment = Alignment(vertical="top")
            rule = ws.cell(row=row, column=2)
            rule.alignment = Alignment(wrap_text=True, vertical="top")
            ws.row_dimensions[row].height = 16 * wrapped_lines(str(rule.value or ""), 90) + 2
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 90
    # The guide fits one A4 page wide (it was split across pages before).
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows="1:1", landscape=False)


def _letter(spec: SheetSpec, field: str) -> str:
    return str(get_column_letter(spec.fields.index(field) + 1))


def _guide_rules(period: str, implementation: Sequence[Project],
                 preparatory: Sequence[Project], problems: int = 0) -> list[str]:
    """填报要求, pointing to the sheets, columns and cells the unit really has."""
    month = period_month(period)
    day = f"{month.year}-{month.month:02d}-15"
    spec = FORM_IMPLEMENTATION
    contacts = "、".join(f"{label}（{get_column_letter(2 + i * 3)}{CONTACT_ROW}）"
                         for i, (_, label) in enumerate(FORM_CONTACTS))
    sheets = "、".join(f"“{s.sheet}”" for s, group in ((FORM_IMPLEMENTATION, implementation),
                                                      (FORM_PREPARATORY, preparatory)) if group)
    rules = [f"只在白色单元格填写（{sheets}工作表第{FIRST_DATA_ROW}行起）；灰色单元格为计划和上月数据，"
             "已锁定，无需修改。"]
    if implementation:
        first_input = _letter(spec, spec.inputs[0])
        rules += [
            f"“{spec.sheet}”：填写 {first_input}—{_letter(spec, spec.inputs[-1])} 列。金额单位为万元，"
            "最多两位小数，只填数字（不要写“约”“左右”或单位；5000万元填 5000，不要填成 50000000）。",
            f"本年累计完成投资（{_letter(spec, 'year_completed')} 列）和开工以来累计完成投资"
            f"（{_letter(spec, 'total_completed')} 列）已按公式自动计算：上月数（"
            f"{_letter(spec, 'previous_year_completed')}、{_letter(spec, 'previous_total_completed')} 列）"
            f"加本月完成投资（{first_input} 列），只需填写本月完成投资；如自行改填数值，须与此相等。",
            f"是否开工、是否竣工（{_letter(spec, 'started')}、{_letter(spec, 'completed')} 列）请从下拉中选"
            f"“是”或“否”；选“是”的须在 {_letter(spec, 'start_date')}、{_letter(spec, 'end_date')} 列"
            f"填写实际日期，如 {day} 或 {month.year}年{month.month}月15日。",
            f"本月有投资的项目须填写形象进度（{_letter(spec, 'progress')} 列）。本月完成投资超过全年计划，"
            f"或远高于以往月份的，请在“情况说明”（{_letter(spec, 'explanation')} 列）写明原因，"
            "否则不能通过校验。",
        ]
    rules += [
        "前期工作各项许可请从下拉中选：未启动、办理中、已办结、不涉及。"
        + (f"预备项目的计划开工时间填年月，如 {month.year + 1}-{month.month:02d} 或 "
           f"{month.year + 1}年{month.month}月。" if preparatory else ""),
        "存在问题和需协调事项如实填写，没有可不填；每个问题写清是什么问题、需要谁协调什么。",
        f"请在每张填报表第{CONTACT_ROW}行填写{contacts}；填报人和联系电话必填，"
        "座机请带区号，如 0772-2801234。",
    ]
    if problems:
        tracked = FORM_PROBLEMS
        rules.append(
            f"“{tracked.sheet}”工作表列出本单位项目尚未办结的 {problems} 个问题：请在“最新进展”"
            f"（{_letter(tracked, 'progress')} 列）写本月办理进展，已解决的在“是否已解决”"
            f"（{_letter(tracked, 'solved')} 列）选“是”并写明如何解决；这些问题不必再填入存在问题栏，"
            "新发现的问题才填在存在问题栏。")
    rules += [
        "不要增删行列、不要修改项目编号和工作表名称；请保存为 .xlsx 格式后发回。",
        "本文件带有校验信息，请直接在本文件中填写，不要复制到其他文件。",
    ]
    return rules


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
        write_text(ws.cell(row=CONTACT_ROW, column=1 + position * 3), label)
        write_text(ws.cell(row=CONTACT_ROW, column=2 + position * 3), values.get(field_name) or "")
    for index, column in enumerate(columns, start=1):
        write_text(ws.cell(row=HEADER_ROW, column=index), column.title)
    for offset, project in enumerate(projects):
        prefill = _prefill(project, figures.get(project.id), previous.get(project.id))
        for index, column in enumerate(columns, start=1):
            write_text(ws.cell(row=FIRST_DATA_ROW + offset, column=index), prefill.get(column.field))
    style_return(ws, spec, dict(enumerate(columns, start=1)), len(projects), period)
    _add_formulas(ws, spec, FIRST_DATA_ROW + len(projects) - 1)
    protection = ws.protection
    protection.sheet = True
    # Units may still resize columns and rows and use filters; they may not change the plan.
    protection.formatColumns = False
    protection.formatRows = False
    protection.autoFilter = False


def style_return(ws: Worksheet, spec: SheetSpec, positions: dict[int, Column], rows: int,
                 period: str | None = None) -> None:
    """The look of a return sheet holding its values: title rows, contact labels, the
    header and ``rows`` project rows, each cell styled by its column in the registry
    (``positions``: sheet column number → registry column; number formats, widths, help,
    locked plan columns, dropdowns on the input columns), frozen panes and page setup. The
    form uses it, and so does the annotated copy of a returned form, whose columns a unit
    may have moved. Prompts and error messages give examples from ``period``."""
    inputs = set(spec.inputs)
    last = get_column_letter(max(positions, default=len(spec.columns)))
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    for position in range(len(FORM_CONTACTS)):
        ws.cell(row=CONTACT_ROW, column=1 + position * 3).font = Font(name="等线", bold=True)
        value_cell = ws.cell(row=CONTACT_ROW, column=2 + position * 3)
        value_cell.number_format = "@"  # text: a landline keeps its leading 0
        value_cell.protection = Protection(locked=False)
        value_cell.border = BORDER
    _style_header(ws, positions, inputs, period, 42)
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
    _add_input_validations(ws, spec, positions, FIRST_DATA_ROW + rows - 1, period)
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
    print_ready(ws, paper=ws.PAPERSIZE_A3, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")


def _write_problems(ws: Worksheet, master: Master, unit: Unit, period: str,
                    problems: Sequence[Problem], issued: date) -> None:
    """The 问题跟踪 sheet: the unit's open problems, locked but for 最新进展 and 是否已解决."""
    spec = FORM_PROBLEMS
    write_text(ws["A1"], f"{master.settings.city}{master.year}年重大项目问题跟踪表")
    late = sum(1 for p in problems if p.due is not None and p.due < issued)
    write_text(ws["A2"], f"填报单位：{unit.name}    报告期：{period}    本单位项目尚未办结的问题 "
                         f"{len(problems)} 个" + (f"，其中 {late} 个已超过办理时限" if late else "")
                         + "    请填写最新进展；已解决的在“是否已解决”选“是”")
    write_text(ws["A3"], "新发现的问题请填在月报的“存在问题”栏，不要加在本表中；本表只读取问题编号、"
                         "最新进展和是否已解决")
    for index, column in enumerate(spec.columns, start=1):
        write_text(ws.cell(row=HEADER_ROW, column=index), column.title)
    for offset, item in enumerate(problems):
        values = item.model_dump()
        values["previous_progress"] = item.progress
        values["progress"] = values["solved"] = None
        for index, column in enumerate(spec.columns, start=1):
            write_text(ws.cell(row=FIRST_DATA_ROW + offset, column=index), values.get(column.field))
    style_problems(ws, dict(enumerate(spec.columns, start=1)), len(problems), period, issued)
    protection = ws.protection
    protection.sheet = True
    protection.formatColumns = False
    protection.formatRows = False
    protection.autoFilter = False


def style_problems(ws: Worksheet, positions: dict[int, Column], rows: int,
                   period: str | None = None, issued: date | None = None) -> None:
    """The look of a 问题跟踪 sheet holding its values (the form, and the annotated copy):
    title and notes, the header, locked columns grey and inputs white with dropdowns, long
    words wrapped in rows tall enough for them; a 办理时限 already past in red."""
    spec = FORM_PROBLEMS
    inputs = set(spec.inputs)
    last = get_column_letter(max(positions, default=len(spec.columns)))
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    for row in (1, 2, 3):
        ws.merge_cells(f"A{row}:{last}{row}")
    ws["A3"].font = Font(name="等线", color="C00000")
    _style_header(ws, positions, inputs, period, 30)
    wrapped = Alignment(wrap_text=True, vertical="center")
    for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + rows):
        lines = 1
        for index, column in positions.items():
            cell = ws.cell(row=row, column=index)
            cell.number_format = NUMBER_FORMATS[column.kind]
            cell.border = BORDER
            cell.alignment = wrapped
            if column.field in inputs:
                cell.protection = Protection(locked=False)
            else:
                cell.fill = LOCKED_FILL
            if isinstance(cell.value, str):
                lines = max(lines, wrapped_lines(cell.value, column.width))
            if column.field == "due" and isinstance(cell.value, date) and issued is not None \
                    and cell.value < issued:
                cell.font = Font(name="等线", bold=True, color="C00000")
        ws.row_dimensions[row].height = 15 * min(lines, 6) + 3
    _add_input_validations(ws, spec, positions, FIRST_DATA_ROW + rows - 1, period)
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=2)
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")


def _style_header(ws: Worksheet, positions: dict[int, Column], inputs: set[str],
                  period: str | None, height: float) -> None:
    """The header row: inputs green, the rest blue, each with its help as a comment."""
    styled: dict[bool, Any] = {}  # an input's header style and a plan column's, made once
    for index, column in positions.items():
        cell = ws.cell(row=HEADER_ROW, column=index)
        given = column.field in inputs
        if given in styled:  # as the data rows' cells (``style_return``)
            cell._style = copy(styled[given])
        else:
            cell.font = WHITE
            cell.fill = INPUT_HEADER if given else PLAN_HEADER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = BORDER
            styled[given] = cell._style
        if column.help:
            cell.comment = Comment(_prompt(column, period), "市重点办")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[HEADER_ROW].height = height


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


def _add_formulas(ws: Worksheet, spec: SheetSpec, last_row: int) -> None:
    """本年累计 = 上月本年累计 + 本月完成, 开工以来累计 likewise; blank while 本月 is blank."""
    if not set(FORMULAS) <= set(spec.fields):
        return
    month = _letter(spec, "month_completed")
    for field_name, reference in FORMULAS.items():
        target, base = spec.fields.index(field_name) + 1, _letter(spec, reference)
        for row in range(FIRST_DATA_ROW, last_row + 1):
            ws.cell(row=row, column=target).value = \
                f'=IF({month}{row}="","",{base}{row}+{month}{row})'


# openpyxl writes a formula with an empty numeric result: a reader that does not recompute
# would take it as a formula never computed. Until 本月完成 is typed, our formulas show "",
# so that is their stored result (as Excel itself would write it).
_QUOTE = rb'(?:"|&quot;)'
_UNCOMPUTED = re.compile(rb'<c ([^>]*?)><f>(IF\([A-Z]+\d+=' + _QUOTE * 2 + b"," + _QUOTE * 2
                         + rb',[A-Z]+\d+\+[A-Z]+\d+\))</f><v\s*/?>(?:</v>)?</c>')


def _cached_blanks(name: str, data: bytes) -> bytes:
    if not name.startswith("xl/worksheets/"):
        return data
    return _UNCOMPUTED.sub(rb'<c \1 t="str"><f>\2</f><v></v></c>', data)


def _add_input_validations(ws: Worksheet, spec: SheetSpec, positions: dict[int, Column],
                           last_row: int, period: str | None) -> None:
    for index, column in positions.items():
        if column.field not in spec.inputs:
            continue
        letter = get_column_letter(index)
        validation = _input_validation(column, period, f"{letter}{FIRST_DATA_ROW}")
        if validation is None:
            continue
        validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{max(last_row, FIRST_DATA_ROW)}")
        ws.add_data_validation(validation)


def _examples(column: Column, period: str | None) -> str:
    """Examples from the report period: 2022-03-15 / 2022年3月15日 for a date; a month of
    the next year for a planned start; amounts in 万元."""
    month = period_month(period) if period else date.today().replace(day=1)
    if column.kind is Kind.DATE:
        return f"{month.year}-{month.month:02d}-15 或 {month.year}年{month.month}月15日"
    if column.kind is Kind.MONTH:
        return f"{month.year + 1}-{month.month:02d} 或 {month.year + 1}年{month.month}月"
    return "500 或 500.25"


def _prompt(column: Column, period: str | None) -> str:
    """The input message of a column: what to write, with the same rule its error states."""
    base = column.help.split("，如")[0].rstrip("。")
    if column.field in FORMULAS:
        return (f"{base}。已按公式自动计算（上月数＋本月完成投资），一般无需填写；"
                "如改填，须为不小于 0 的数字，单位万元，最多两位小数")[:255]
    if column.kind is Kind.MONEY:
        return f"{base}。填不小于 0 的数字，单位万元，最多两位小数，如 {_examples(column, period)}"
    if column.kind in (Kind.DATE, Kind.MONTH):
        return f"{base}，如 {_examples(column, period)}"
    if column.kind is Kind.CHOICE and column.choices:
        return f"{base.split('：')[0]}：请从下拉列表选择{'、'.join(column.choices)}"
    return column.help[:255]


def _error(column: Column, period: str | None) -> str:
    if column.kind is Kind.MONEY:
        return (f"{column.header}应填不小于 0 的数字，单位万元，最多两位小数，"
                f"如 {_examples(column, period)}。")
    if column.kind is Kind.DATE:
        return f"{column.header}应填日期，如 {_examples(column, period)}。"
    if column.kind is Kind.MONTH:
        return f"{column.header}应填年月，如 {_examples(column, period)}。"
    assert column.choices
    return f"{column.header}只能填：{'、'.join(column.choices)}。"


def _input_validation(column: Column, period: str | None, first: str) -> DataValidation | None:
    prompt = _prompt(column, period)[:255] if column.help else None
    common = {"allow_blank": True, "showErrorMessage": True, "showInputMessage": bool(prompt),
              "promptTitle": column.header[:32], "prompt": prompt}
    if column.kind is Kind.CHOICE and column.choices:
        return DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"',
                              errorTitle="请从下拉列表选择", error=_error(column, period), **common)
    if column.kind is Kind.MONEY:
        return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                              errorTitle="金额有误", error=_error(column, period), **common)
    if column.kind in (Kind.DATE, Kind.MONTH):
        # Excel and WPS turn 2022-03-15 or 2023-03 into dates as they are typed; other
        # programs and locales may keep 2023-03 or 2022年3月15日 as text. Both are fine (the
        # checker reads them), so the rule accepts a date in range, or text that reads as
        # one once 年/月/日 are written as dashes — and never fails on the test itself.
        after_month = '""' if column.kind is Kind.MONTH else '"-"'
        dashed = f'SUBSTITUTE(SUBSTITUTE({first},"年","-"),"月",{after_month})'
        text = (f'DATEVALUE({dashed}&"-01")' if column.kind is Kind.MONTH
                else f'DATEVALUE(SUBSTITUTE({dashed},"日",""))')
        formula = (f"OR(AND(ISNUMBER({first}),{first}>={_FIRST_SERIAL},{first}<={_LAST_SERIAL}),"
                   f"ISNUMBER({text}))")
        return DataValidation(type="custom", formula1=formula, errorTitle="日期有误",
                              error=_error(column, period), **common)
    return None
