"""What goes back to the unit: an annotated copy of its file and a short 回执.

The copy keeps the unit's file as it was (identity included, so the unit can correct and
resend the same file), puts a first sheet 校验结果 listing every finding, fills error cells
red and warning cells yellow, and comments each with the message. Macros are never copied:
the copy is always a plain .xlsx.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from ..books.safety import atomic_write
from ..books.styles import HEADER_FILL, HEADER_FONT, write_text
from ..checks.returns import FileReport, open_copy
from ..core.cells import format_date
from ..core.findings import Finding

__all__ = ["RESULT_SHEET", "annotate", "receipt_text", "annotated_name", "receipt_name"]

RESULT_SHEET = "校验结果"
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
_HEADERS = ("序号", "级别", "规则", "工作表", "单元格", "项目编号", "所填内容", "说明（请按此修改）")
_WIDTHS = (6, 6, 6, 14, 8, 13, 18, 90)


def annotated_name(path: Path) -> str:
    return f"{path.stem}_校验结果.xlsx"


def receipt_name(path: Path) -> str:
    return f"{path.stem}_回执.txt"


def annotate(report: FileReport, out_dir: Path, publisher: str = "市重点办",
             today: date | None = None) -> tuple[Path, Path]:
    """Write the annotated copy and the 回执 for ``report`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / annotated_name(report.path)
    book = open_copy(report)
    _mark_cells(book, report.findings)
    _result_sheet(book, report)
    atomic_write(copy, lambda temp: book.save(temp))
    receipt = out_dir / receipt_name(report.path)
    receipt.write_text(receipt_text(report, publisher, today), encoding="utf-8")
    return copy, receipt


def _mark_cells(book: openpyxl.Workbook, findings: list[Finding]) -> None:
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for item in findings:
        if item.sheet and item.cell and item.sheet in book.sheetnames:
            by_cell[(item.sheet, item.cell)].append(item)
    for (sheet, ref), items in by_cell.items():
        cell = book[sheet][ref]
        cell.fill = ERROR_FILL if any(i.is_error for i in items) else WARNING_FILL
        text = "\n".join(f"【{i.severity.label} {i.code}】{i.message}" for i in items)
        comment = Comment(text, "市重点办校验")
        comment.width, comment.height = 320, 40 + 20 * len(text) // 18
        cell.comment = comment


def _result_sheet(book: openpyxl.Workbook, report: FileReport) -> None:
    if RESULT_SHEET in book.sheetnames:
        book.remove(book[RESULT_SHEET])
    ws = book.create_sheet(RESULT_SHEET, 0)
    verdict = "通过" if report.valid else "未通过"
    write_text(ws["A1"], f"校验结果：{verdict}（错误 {report.errors} 处，警告 {report.warnings} 处）")
    ws["A1"].font = Font(name="黑体", size=14, bold=True, color="C00000" if report.errors else "375623")
    write_text(ws["A2"], "错误必须改正后重新报送；警告请核实。红色单元格为错误，黄色为警告，"
                         "鼠标移到单元格上可看到说明。请在原文件中修改后重新发送。")
    for column, (title, width) in enumerate(zip(_HEADERS, _WIDTHS, strict=True), start=1):
        cell = ws.cell(row=4, column=column)
        write_text(cell, title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[openpyxl.utils.get_column_letter(column)].width = width
    for number, item in enumerate(report.findings, start=1):
        row = 4 + number
        values = (number, item.severity.label, item.code, item.sheet or "", item.cell or "",
                  item.project_id or "", item.value or "", item.message)
        for column, value in enumerate(values, start=1):
            write_text(ws.cell(row=row, column=column), value)
        ws.cell(row=row, column=8).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=row, column=2).fill = ERROR_FILL if item.is_error else WARNING_FILL
    ws.freeze_panes = "A5"
    book.active = 0
    for sheet in book.worksheets:
        sheet.sheet_view.tabSelected = sheet is ws


def receipt_text(report: FileReport, publisher: str = "市重点办", today: date | None = None) -> str:
    """A short reply a staff member can paste into the answering email."""
    unit = report.unit or "报送单位"
    period = f"（报告期 {report.period}）" if report.period else ""
    lines = [f"{unit}：", ""]
    if report.valid:
        lines.append(f"您单位报送的《{report.path.name}》{period}已收到，校验通过，将汇入月报台帐。")
        if report.warnings:
            lines.append(f"另有 {report.warnings} 处提醒请核实（不影响本次报送）：")
    else:
        lines.append(f"您单位报送的《{report.path.name}》{period}已收到，校验未通过"
                     f"（错误 {report.errors} 处，警告 {report.warnings} 处），本次未汇入台帐。")
        lines.append("请按以下提示在原文件中修改后重新报送：")
    for number, item in enumerate(report.findings[:30], start=1):
        where = "".join(f"{part} " for part in (item.sheet, item.cell) if part)
        project = f"（项目 {item.project_id}）" if item.project_id else ""
        lines.append(f"{number}. 【{item.severity.label}】{where}{project}{item.message}")
    if len(report.findings) > 30:
        lines.append(f"……其余 {len(report.findings) - 30} 处见附件“{annotated_name(report.path)}”。")
    lines += ["", "详细位置见附件中的“校验结果”工作表。", "",
              f"{publisher}", format_date(today or date.today())]
    return "\n".join(lines) + "\n"
