"""What goes back to the unit: an annotated copy of its file and a short 回执.

The copy is made afresh, never opened from the unit's file: it holds the values the checker
read through the gate (``FileReport.form_values``: our form's sheets only, cut to the form's
region, so it is as bounded as the reading was), laid out and styled like our form — headers,
widths, number formats and locked columns from the registry, through ``reports.forms`` — so a
信息员 recognises it. Values only: no formula, link, macro or sheet of the unit's own ever goes
back out. A first sheet 校验结果 lists every finding; error cells are red, warning cells
yellow, each with the message as a comment. The signed identity goes along (hidden), so the
copy, corrected, can be sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.worksheet import Worksheet

from ..books.safety import atomic_write
from ..books.styles import HEADER_FILL, HEADER_FONT, print_ready, write_text
from ..checks.returns import FileReport, find_header
from ..core.cells import clean_text
from ..core.findings import Finding
from ..core.identity import IDENTITY_SHEET
from ..core.registry import FORM_GUIDE_SHEET, FORM_PROBLEMS, FORMS, Column, SheetSpec
from ..core.tables import header_index
from .forms import style_guide, style_problems, style_return
from .receipts import RESULT_SHEET, Office, annotated_name, receipt_name, receipt_text, shown_sheet

__all__ = ["annotate"]

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
_HEADERS = ("序号", "级别", "规则", "工作表", "单元格", "项目编号", "项目名称", "所填内容",
            "说明（请按此修改）")
_WIDTHS = (6, 6, 6, 14, 8, 13, 28, 18, 80)
_TEXT_LIMIT = 32_767  # characters Excel holds in a cell


def annotate(report: FileReport, out_dir: Path, office: Office, today: date | None = None, *,
             received: datetime | None = None, unit: str | None = None) -> tuple[Path, Path]:
    """Write the annotated copy and the 回执 for ``report`` into ``out_dir`` (the 回执 as
    ``receipt_text`` writes it, signed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / annotated_name(report.path)
    book = _copy_of_form(report.form_values, report.period)
    _mark_cells(book, report.findings, report.form_values)
    _result_sheet(book, report)
    atomic_write(copy, lambda temp: book.save(temp))
    receipt = out_dir / receipt_name(report.path)
    receipt.write_text(receipt_text(report, office, today, received=received, unit=unit),
                       encoding="utf-8")
    return copy, receipt


def _copy_of_form(values: dict[str, list[list[Any]]], period: str | None = None
                  ) -> openpyxl.Workbook:
    """A new workbook of our form's sheets holding ``values``, in the form's order and look."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    specs = {spec.sheet: spec for spec in FORMS}
    for name in (FORM_GUIDE_SHEET, *specs, FORM_PROBLEMS.sheet, IDENTITY_SHEET):
        if name not in values:
            continue
        ws = book.create_sheet(name)
        rows = values[name]
        _put_values(ws, rows)
        if name == FORM_GUIDE_SHEET:
            style_guide(ws)
        elif name == IDENTITY_SHEET:
            ws.sheet_state = "hidden"
            ws.protection.sheet = True
        else:
            _style_table(ws, specs.get(name, FORM_PROBLEMS), rows, period)
    return book


def _put_values(ws: Worksheet, rows: Sequence[Sequence[Any]]) -> None:
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            # Text stays text (a leading "=" never becomes a formula); numbers, dates and
            # times are written as the values they are.
            if isinstance(value, str):
                value = value[:_TEXT_LIMIT]
            elif not isinstance(value, int | float | date | time | timedelta):
                value = clean_text(value)
            write_text(ws.cell(row=r, column=c), value)


def _style_table(ws: Worksheet, spec: SheetSpec, rows: Sequence[Sequence[Any]],
                 period: str | None = None) -> None:
    """Style a return (or 问题跟踪) sheet by its header row, wherever the unit has put the
    columns."""
    header = find_header(rows)
    if header is None:
        return  # not our table any more: the values are shown as they are
    by_title: dict[str, Column] = {column.title: column for column in spec.columns}
    positions = {position + 1: by_title[title]
                 for title, position in header_index(rows[header]).items() if title in by_title}
    projects = 0
    for row in rows[header + 1:]:
        if all(v in (None, "") for v in row):
            break
        projects += 1
    if spec is FORM_PROBLEMS:
        style_problems(ws, positions, projects, period)
    else:
        style_return(ws, spec, positions, projects, period)


def _target(ws: Worksheet, ref: str, rows: Sequence[Sequence[Any]]) -> str | None:
    """The cell a finding at ``ref`` is shown on: the first cell of a merged range holding
    it (a merged cell cannot take a fill or comment); ``None`` outside the region copied
    (``rows``: the values the copy holds) — such a finding is listed in 校验结果 only."""
    try:
        letters, row = coordinate_from_string(ref)
        column = column_index_from_string(letters)
    except ValueError:
        return None
    if row > len(rows) or column > max((len(r) for r in rows), default=0):
        return None
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= column <= merged.max_col:
            return f"{get_column_letter(merged.min_col)}{merged.min_row}"
    return ref


def _mark_cells(book: openpyxl.Workbook, findings: list[Finding],
                values: dict[str, list[list[Any]]]) -> None:
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for item in findings:
        if item.sheet and item.cell and item.sheet in book.sheetnames:
            target = _target(book[item.sheet], item.cell, values.get(item.sheet, []))
            if target is not None:
                by_cell[(item.sheet, target)].append(item)
    for (sheet, ref), items in by_cell.items():
        cell = book[sheet][ref]
        cell.fill = ERROR_FILL if any(i.is_error for i in items) else WARNING_FILL
        text = "\n".join(f"【{i.severity.label} {i.code}】{i.message}" for i in items)
        comment = Comment(text, "市重点办校验")
        comment.width, comment.height = 320, 40 + 20 * len(text) // 18
        cell.comment = comment


def _result_sheet(book: openpyxl.Workbook, report: FileReport) -> None:
    ws = book.create_sheet(RESULT_SHEET, 0)
    verdict = "通过" if report.valid else "未通过"
    write_text(ws["A1"], f"校验结果：{verdict}（错误 {report.errors} 处，警告 {report.warnings} 处）")
    ws["A1"].font = Font(name="黑体", size=14, bold=True, color="C00000" if report.errors else "375623")
    if not report.findings:
        advice = "没有发现问题，不需要修改。"
    elif report.valid:
        advice = ("下列警告不影响本次报送，请核实；黄色单元格为警告，鼠标移到单元格上可看到说明。"
                  "如有填错，请在原文件中修改后重新发送。")
    else:
        advice = ("错误必须改正后重新报送；警告请核实。红色单元格为错误，黄色为警告，"
                  "鼠标移到单元格上可看到说明。请在原文件中修改后重新发送。")
    write_text(ws["A2"], advice)
    for column, (title, width) in enumerate(zip(_HEADERS, _WIDTHS, strict=True), start=1):
        cell = ws.cell(row=4, column=column)
        write_text(cell, title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(column)].width = width
    for number, item in enumerate(report.findings, start=1):
        row = 4 + number
        values = (number, item.severity.label, item.code, shown_sheet(item), item.cell or "",
                  item.project_id or "", item.project_name or "", item.value or "", item.message)
        for column, value in enumerate(values, start=1):
            write_text(ws.cell(row=row, column=column), value)
            ws.cell(row=row, column=column).alignment = Alignment(wrap_text=column in (7, 9),
                                                                  vertical="top")
        ws.cell(row=row, column=2).fill = ERROR_FILL if item.is_error else WARNING_FILL
        # Not every program fits a row to wrapped text: give it the lines the message needs
        # (a Chinese character is two columns wide).
        wide = sum(2 if ord(char) > 0x2E7F else 1 for char in item.message)
        ws.row_dimensions[row].height = 15 * max(1, -(-wide // (_WIDTHS[-1] - 2)))
    ws.freeze_panes = "A5"
    # printed for the 信息员 who corrects the file: one page wide, the header on every page
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows="4:4")
    book.active = 0
    for sheet in book.worksheets:
        sheet.sheet_view.tabSelected = sheet is ws
