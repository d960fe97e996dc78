"""The 回执: the short reply that tells a unit what became of its file, and the names of
the files that go back with it.

Plain text, no workbook: a fetch that answers mail composes its replies from this alone,
and the annotated copy the 回执 points to (``reports.annotated``, which lays a workbook out
with openpyxl) is loaded only when there is a return to copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from ..checks.returns import FileReport
from ..core.cells import format_date, format_month
from ..core.findings import Finding
from ..core.identity import IDENTITY_SHEET
from ..core.master import Master
from ..core.periods import deadline as deadline_of
from ..core.periods import period_month

__all__ = ["RESULT_SHEET", "Office", "office_of", "receipt_text", "annotated_name",
           "receipt_name", "shown_sheet"]

RESULT_SHEET = "校验结果"  # the annotated copy's first sheet, listing every finding
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


def shown_sheet(item: Finding) -> str:
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
        where = " ".join(part for part in (shown_sheet(item), item.cell) if part)
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
