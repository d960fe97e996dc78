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
from dataclasses import dataclass
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
from ..core.cells import clean_text, format_date, format_month
from ..core.findings import Finding
from ..core.identity import IDENTITY_SHEET
from ..core.master import Master
from ..core.periods import deadline as deadline_of
from ..core.periods import period_month
from ..core.registry import FORM_GUIDE_SHEET, FORM_PROBLEMS, FORMS, Column, SheetSpec
from ..core.tables import header_index
from .forms import style_guide, style_problems, style_return

__all__ = ["RESULT_SHEET", "Office", "office_of", "annotate", "receipt_text", "annotated_name",
           "receipt_name"]

RESULT_SHEET = "校验结果"
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
_HEADERS = ("序号", "级别", "规则", "工作表", "单元格", "项目编号", "项目名称", "所填内容",
            "说明（请按此修改）")
_WIDTHS = (6, 6, 6, 14, 8, 13, 28, 18, 80)
_TEXT_LIMIT = 32_767  # characters Excel holds in a cell
_LISTED = 30  # findings listed in a 回执; the rest are in the annotated copy


@dataclass(frozen=True)
class Office:
    """What a 回执 says besides the findings: who answers, whom to call, by when."""

    publisher: str = "市重点办"
    contact: str = ""  # 设置 联系人及电话
    period: str | None = None  # the 报告期 being collected
    deadline: date | None = None  # its 截止日
    resubmit_days: int = 3  # after the 截止日: days to send a correction


def office_of(master: Master, period: str | None) -> Office:
    """The office's side of a 回执 for ``period`` (the 报告期 collected), from 设置."""
    settings = master.settings
    return Office(settings.publisher, settings.mail_contact, period,
                  deadline_of(period, settings.deadline_day) if period else None,
                  settings.resubmit_days)


def annotated_name(path: Path) -> str:
    return f"{path.stem}_校验结果.xlsx"


def receipt_name(path: Path) -> str:
    return f"{path.stem}_回执.txt"


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
        values = (number, item.severity.label, item.code, _shown_sheet(item), item.cell or "",
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


def _shown_sheet(item: Finding) -> str:
    """The sheet a 信息员 can see: the form's hidden identity sheet is never named."""
    return "" if item.sheet in (None, IDENTITY_SHEET) else item.sheet or ""


def _when(moment: datetime) -> str:
    return f"{format_date(moment.date())} {moment:%H:%M}"


def receipt_text(report: FileReport, office: Office, today: date | None = None, *,
                 received: datetime | None = None, unit: str | None = None,
                 signed: bool = True) -> str:
    """A short reply a staff member can paste into the answering email.

    ``office`` (``office_of``) gives the 截止日, the resubmission date and the contact line;
    ``received`` (when the file arrived) lets it say 逾期; ``unit`` names the addressee
    when the file cannot (a tampered or foreign file: the sender's unit). Unsigned, it ends
    before the contact line and the signature: the mail that carries it signs once."""
    day = today or date.today()
    addressee = report.unit or unit or report.named_unit
    period = office.period or report.period  # the month collected (a file may be another's)
    month = f"（{format_month(period_month(period))}月报）" if period else ""
    arrived = f"于 {_when(received)} " if received is not None else ""
    lines = [f"{addressee or '报送单位'}：", ""]
    late = (received is not None and period is not None and office.deadline is not None
            and received.date() > office.deadline)
    copy_name = annotated_name(report.path)
    if report.valid:
        lines.append(f"您单位报送的《{report.path.name}》{month}已{arrived}收到，校验通过，"
                     "将汇入月报台帐。")
        if late:
            lines.append(f"本期报送截止日为{format_date(office.deadline)}，本次报送晚于截止日，"
                         "按逾期报送统计（截止日前已有报表通过校验的除外）。")
        if report.warnings:
            lines.append(f"另有 {report.warnings} 处提醒请核实（不影响本次报送），位置见附件"
                         f"“{copy_name}”的“{RESULT_SHEET}”工作表：")
    else:
        lines.append(f"您单位报送的《{report.path.name}》{month}已{arrived}收到，校验未通过"
                     f"（错误 {report.errors} 处，警告 {report.warnings} 处），本次未汇入月报台帐。")
        if late:
            lines.append(f"本期报送截止日为{format_date(office.deadline)}，本次报送时已逾期。")
        lines.append("请按以下提示在原文件中修改后重新报送：")
    for number, item in enumerate(report.findings[:_LISTED], start=1):
        where = " ".join(part for part in (_shown_sheet(item), item.cell) if part)
        project = item.project_name or item.project_id
        named = f"（{project}）" if project else ""
        lead = f"{where}{named}：" if where or named else ""
        lines.append(f"{number}. 【{item.severity.label}】{lead}{item.message}")
    if len(report.findings) > _LISTED:
        lines.append(f"……其余 {len(report.findings) - _LISTED} 处见附件“{copy_name}”。")
    if not report.valid:
        lines += ["", f"每一处问题的位置见附件“{copy_name}”：首页“{RESULT_SHEET}”逐条列出，"
                      "红色单元格为错误，黄色为警告。"]
        lines.append(_resubmit(office, day))
    if not signed:
        return "\n".join(lines) + "\n"
    lines += ["", f"如有疑问，请联系：{office.contact or office.publisher}。"]
    lines += [office.publisher, format_date(day)]
    return "\n".join(lines) + "\n"


def _resubmit(office: Office, today: date) -> str:
    """By when to send the corrected file: the 截止日 while it lies ahead, else a few days."""
    if office.deadline is None:
        return "请尽快改正后重新报送。"
    if today <= office.deadline:
        return f"请于{format_date(office.deadline)}（报送截止日）前改正后重新报送。"
    by = today + timedelta(days=office.resubmit_days)
    return (f"报送截止日{format_date(office.deadline)}已过，请于{format_date(by)}前改正后重新报送，"
            "届时计为逾期报送。")
