"""The Excel add-in's Python side: one dispatcher, one handler per ribbon button (SPEC §6).

Every button of the 重大项目 tab (``ribbon.BUTTONS``) calls the same VBA callback, which
runs ``zdxm_xl.frontends.addin.handlers.dispatch(control.Id)`` through xlwings'
``RunPython``; ``HANDLERS`` maps each button to its handler.

A handler finds the master among the open workbooks (an add-in's own book is never one),
calls the same operation as the matching ``zdxm`` command with a ``BookStore`` — which
reads each table of the open book in one call and writes each changed table back in one
call — shows what it is doing in Excel's status bar, and returns the Chinese message the
office sees. Every failure becomes a message box too, never a traceback; an error's field
and remedy are worded for Excel (the place in 设置, the button), not for the command line.

This is the only module that imports xlwings, and only when a button runs.
"""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ...books.livebook import BookStore, is_master_book
from ...core.errors import Field, MasterError, Remedy, UsageError, ZdxmError
from ...core.master import Master
from ...core.workspace import Workspace
from .ribbon import BUTTONS, TITLE, button

__all__ = ["Ui", "ExcelUi", "Context", "HANDLERS", "dispatch", "find_master", "describe"]

SAVE_REMINDER = "台账已更新，请记得保存（Ctrl+S）。"
LOG_FILE = Path(tempfile.gettempdir()) / "zdxm-addin.log"
_MAX_LISTED = 15


# ---- how a handler talks to the office --------------------------------------------------------

class Ui(Protocol):
    """What a handler may ask of Excel besides the workbook itself."""

    def alert(self, text: str, *, error: bool = False) -> None: ...

    def status(self, text: str | None) -> None: ...

    def choose_files(self, title: str) -> list[Path]: ...

    def ask(self, text: str) -> bool | None:
        """是 (True), 否 (False) or 取消 (None)."""
        ...


class ExcelUi:
    """Message boxes, the status bar and the file dialog of the Excel running the add-in."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def alert(self, text: str, *, error: bool = False) -> None:
        self.app.alert(text, title=TITLE, mode="critical" if error else "info")

    def status(self, text: str | None) -> None:
        try:
            self.app.status_bar = text if text else False
        except Exception:  # an engine without a status bar: progress is optional
            pass

    def ask(self, text: str) -> bool | None:
        try:
            answer = self.app.alert(text, title=TITLE, buttons="yes_no_cancel", mode="info")
        except Exception:  # an engine without dialogs: decide nothing
            return None
        return {"yes": True, "no": False}.get(str(answer).lower())

    def choose_files(self, title: str) -> list[Path]:
        try:  # Excel's own dialog (Windows); other engines have none
            picked = self.app.api.GetOpenFilename(
                FileFilter="Excel 工作簿 (*.xlsx;*.xls;*.xlsm;*.et),*.xlsx;*.xls;*.xlsm;*.et",
                Title=title, MultiSelect=True)
        except Exception as exc:
            raise UsageError("此 Excel 不能从加载项打开文件对话框。请改用命令："
                             "zdxm plan import 台账.xlsx 计划表.xlsx") from exc
        if not picked:  # cancelled: Excel returns False
            return []
        return [Path(p) for p in (picked if isinstance(picked, list | tuple) else [picked])]


@dataclass
class Context:
    """One button press: the master workbook, its store and the office's Excel."""

    book: Any  # the master, an xlwings Book
    store: BookStore
    ui: Ui
    _master: Master | None = field(default=None, repr=False)

    def master(self) -> Master:
        """The master as read when the button was pressed (settings, for the handler)."""
        if self._master is None:
            self.progress("正在读取台账……")
            self._master = self.store.load()
        return self._master

    def progress(self, text: str) -> None:
        self.ui.status(f"重大项目：{text}")

    def workspace(self) -> Workspace:
        """The office's folders, as 设置 names them, relative to the master's folder."""
        return Workspace(self.store.folder, self.master().settings)

    def period(self) -> str:
        """设置 → 当前报告期, required by the monthly buttons."""
        period = self.master().settings.current_period
        if not period:
            raise UsageError("还没有填写当前报告期。", field=Field.PERIOD)
        return period

    def inbox(self) -> Path:
        """收件目录, or its subfolder for the current 报告期 when there is one."""
        workspace = self.workspace()
        inbox = workspace.inbox
        period = self.master().settings.current_period
        if period and workspace.inbox_for(period).is_dir():
            inbox = workspace.inbox_for(period)
        if not inbox.is_dir():
            raise UsageError(f"收件目录“{inbox}”不存在。请把各单位报送的文件放进这个文件夹，"
                             "或在“设置”工作表修改“收件目录”。", field=Field.FILES)
        return inbox

    def output(self) -> Path:
        folder = self.workspace().output
        folder.mkdir(parents=True, exist_ok=True)
        return folder


Handler = Callable[[Context], str | None]

# Where the add-in takes each input from, to point the office at it when it is wrong.
_PLACES = {
    Field.PERIOD: "请在“设置”工作表填写“当前报告期”（如 2022-03），再点此按钮。",
    Field.FIRST_PERIOD: "考核从本年 1 月起算；请在“设置”工作表检查“当前报告期”。",
    Field.LAST_PERIOD: "请在“设置”工作表填写“当前报告期”（如 2022-03），再点此按钮。",
    Field.FILES: "请检查所选文件，或“设置”工作表中的“收件目录”。",
    Field.OUTPUT: "请在“设置”工作表检查“输出目录”。",
    Field.MESSAGE: "请再点“待确认邮件”，按显示的邮件逐封选择。",
    Field.PREVIOUS: "请在“设置”工作表检查“上年台账”（上一年度台账文件的位置），或清空它。",
    Field.PROBLEM: "请在“问题台帐”工作表核对问题编号。",
    Field.HANDLER: "协调责任单位请从下拉列表（“责任单位”工作表中的单位）中选择。",
    Field.DUE: "请在“问题台帐”工作表检查“办理时限”（如 2022-04-30）。",
    Field.PROBLEM_TYPE: "问题类型请从下拉列表中选择。",
    Field.STATUS: "状态请从下拉列表中选择。",
}
_REMEDIES = {
    Remedy.CREATE_MASTER: "请打开台账工作簿后再点按钮。",
    Remedy.MAIL_LOGIN: "邮箱密码须在命令行保存一次：zdxm mail login 台账.xlsx（加载项不保存密码）。",
    Remedy.EXIT_PROJECT: "项目退出请用命令 zdxm plan exit。",
    Remedy.PROMOTE_PROJECT: "转入实施请用命令 zdxm plan promote。",
    Remedy.LIST_FIELDS: "模板可用的字段见 zdxm-xl 文档 docs/fields.md。",
    Remedy.IMPORT_BATCH: "增补批次请用命令 zdxm plan import 台账.xlsx 增补表.xlsx --batch 批次名。",
}


def describe(error: ZdxmError) -> str:
    """An error as the message box shows it: the message, then where to fix it in Excel."""
    lines = [error.message]
    if error.field is not None and error.field in _PLACES:
        lines.append(_PLACES[error.field])
    if error.remedy is not None:
        lines.append(_REMEDIES[error.remedy])
    return "\n".join(lines)


# ---- handlers ---------------------------------------------------------------------------------

def _names(names: list[str]) -> str:
    shown = "、".join(names[:_MAX_LISTED])
    return shown + (f" 等 {len(names)} 个" if len(names) > _MAX_LISTED else "") if names else "无"


def import_plan_button(ctx: Context) -> str | None:
    from ...plan import import_plan

    files = ctx.ui.choose_files("选择年度计划表（附表1 实施项目、附表2 预备项目）")
    if not files:
        return None
    ctx.progress(f"正在导入 {len(files)} 个计划表文件……")
    result = import_plan(ctx.store, files)
    lines = [f"已导入实施项目 {result.implementation} 个、预备项目 {result.preparatory} 个。"]
    if result.warnings:
        lines.append(f"提示：{len(result.warnings)} 处小计与其下项目合计相差在四舍五入误差之内，已导入："
                     + "；".join(result.warnings[:3]) + ("……" if len(result.warnings) > 3 else ""))
    if result.new_units:
        lines.append(f"新增责任单位 {len(result.new_units)} 个：{_names(result.new_units)}。"
                     "请在“责任单位”工作表补全联络员、信息员的联系方式。")
    lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def export_plan_button(ctx: Context) -> str | None:
    from ...plan import export_plan

    master = ctx.master()
    out = ctx.output() / f"{master.year}年重大项目计划附表.xlsx"
    ctx.progress("正在导出计划附表……")
    written = export_plan(ctx.store, out)
    return f"已导出计划附表（附表1、附表2，A3 横向）：\n{written}"


def refresh_summary_button(ctx: Context) -> str | None:
    from ...summary import refresh_summary

    ctx.progress("正在计算计划汇总……")
    summary = refresh_summary(ctx.store)
    whole, prep = summary.row(None), summary.row("预备")
    return (f"已刷新“汇总”工作表：实施项目 {whole.count} 项，总投资 {whole.total_yi} 亿元；"
            f"预备项目 {prep.count} 项，总投资 {prep.total_yi} 亿元。\n{SAVE_REMINDER}")


def templates_button(ctx: Context) -> str | None:
    from ...forms import make_forms

    period = ctx.period()
    out = ctx.workspace().forms(period)
    ctx.progress(f"正在生成 {period} 填报模板……")
    result = make_forms(ctx.store, period, out)
    return f"已生成 {result.period} 填报模板 {len(result.files)} 个，位于：\n{out}"


def validate_button(ctx: Context) -> str | None:
    from ...validate import validate_files

    inbox = ctx.inbox()
    period = ctx.master().settings.current_period
    annotated = ctx.workspace().annotated(period)
    ctx.progress(f"正在校验“{inbox.name}”中的报送文件……")
    run = validate_files(ctx.store, [inbox], period, annotated)
    failed = [r for r in run.reports if not r.valid]
    lines = [f"收件目录 {inbox} 中共 {len(run.reports)} 个文件：通过 {len(run.reports) - len(failed)} 个，"
             f"未通过 {len(failed)} 个。"]
    if failed:
        lines.append("未通过：" + _names([f"{r.path.name}（错误 {r.errors} 处）" for r in failed]))
    lines.append(f"批注副本和回执已写入：{annotated}")
    return "\n".join(lines)


def merge_button(ctx: Context) -> str | None:
    from ...merge import merge_files

    inbox = ctx.inbox()
    period = ctx.master().settings.current_period
    ctx.progress(f"正在校验并合并“{inbox.name}”中的报送文件……")
    result = merge_files(ctx.store, [inbox], period)
    lines = [f"合并 {len(result.merged)} 个，重复 {len(result.duplicates)} 个，"
             f"未通过 {len(result.rejected)} 个。"]
    if result.merged:
        lines.append("已合并：" + _names([f"{m.unit}（{m.rows} 个项目）" for m in result.merged]))
    if result.rejected:
        lines.append("未通过（未合并，可点“校验报表”生成批注副本）："
                     + _names([Path(r.file).name for r in result.rejected]))
    if result.problems.text():
        lines.append(f"问题台帐：{result.problems.text()}（点“问题台帐”查看）。")
    lines.append(SAVE_REMINDER if result.written else "台账未改动。")
    return "\n".join(lines)


def status_button(ctx: Context) -> str | None:
    from ...status import report_status

    period = ctx.period()
    ctx.progress(f"正在统计 {period} 报送情况……")
    report = report_status(ctx.store, period)
    on_time = sum(1 for u in report.units if u.on_time)
    submitted = sum(1 for u in report.units if u.submitted)
    return "\n".join([
        f"{report.period} 报送情况（截止 {report.deadline.isoformat()}）：应报 {len(report.units)} 个单位，"
        f"已报 {submitted} 个，按时 {on_time} 个。",
        f"未报送（{len(report.missing)}）：{_names(report.missing)}",
        f"逾期（{len(report.late)}）：{_names(report.late)}",
        f"未通过（{len(report.rejected)}）：{_names(report.rejected)}",
    ])


def send_templates_button(ctx: Context) -> str | None:
    from ...mail.service import send_forms

    period = ctx.period()
    ctx.progress(f"正在给各牵头单位发送 {period} 填报模板……")
    result = send_forms(ctx.store, period, progress=ctx.progress)
    lines = [f"已发送 {result.period} 填报模板 {len(result.mails)} 封"
             f"（截止 {result.deadline.isoformat()}）。"]
    if result.failed:
        lines.append("发送失败：" + _names([m.unit for m in result.failed]))
    if result.no_address:
        lines.append("没有可用邮箱、未发送：" + _names(list(result.no_address))
                     + "。请在“责任单位”工作表补全信息员或联络员的邮箱。")
    lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def fetch_button(ctx: Context) -> str | None:
    from ...mail.service import fetch_returns

    period = ctx.master().settings.current_period
    ctx.progress("正在收取各单位的报送邮件……")
    # The office that works in Excel only has no other way to send the 回执: answer here.
    result = fetch_returns(ctx.store, period, reply=True, progress=ctx.progress)
    saved = [f for f in result.files if f.saved is not None]
    lines = [f"收到新邮件 {len(result.mails)} 封，保存报表 {len(saved)} 个"
             f"（已处理过的邮件 {result.already} 封）。"]
    refused = [f.name for f in result.files if f.result == "已拒收"]
    if refused:
        lines.append("拒收的附件：" + _names(refused))
    held = [m for m in result.mails if m.state == "暂存"]
    if held:
        lines.append(f"以后报告期的报送 {len(held)} 封已暂存，收取该报告期时处理。")
    if result.pending:
        lines.append(f"待确认的邮件 {result.pending} 封（发件人未登记等），未处理、未回复；"
                     "请点“待确认邮件”逐封确认。")
    if result.waiting:
        lines.append(f"回执等邮件 {len(result.waiting)} 封未能发出，留在台账的“发件箱”中，"
                     "下次点“收取报送”时重发。")
    lines += result.notes[:5]
    if result.failure is not None:
        lines.append(f"收取中途出错：{describe(result.failure)}")
    lines.append("下一步：点“校验报表”生成批注副本和回执，点“合并入台帐”合并。")
    lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def mail_pending_button(ctx: Context) -> str | None:
    from ...mail.service import confirm_mail, decline_mail, pending_mail

    ctx.progress("正在读取待确认的邮件……")
    waiting = pending_mail(ctx.store).mails
    if not waiting:
        return "没有待确认的邮件。"
    confirmed, declined, skipped = [], [], []
    for number, mail in enumerate(waiting, start=1):
        files = "\n".join(f"  {name}" for name in mail.files[:5]) or "  （无）"
        answer = ctx.ui.ask(
            f"待确认邮件 {number}/{len(waiting)}（编号 {mail.ticket}）\n"
            f"收到时间：{mail.received:%Y-%m-%d %H:%M}\n发件人：{mail.sender or '（不明）'}\n"
            f"主题：{mail.subject or '（无）'}\n附件：\n{files}\n原因：{mail.reason}\n"
            f"原邮件：{mail.eml}\n\n"
            "选“是”：确认，像登记的联系人发来的一样处理并回复回执；\n"
            "选“否”：不予受理（不处理、不回复）；\n选“取消”：暂不处理。")
        if answer is None or mail.ticket is None:
            skipped.append(mail)
            continue
        ctx.progress(f"正在处理编号 {mail.ticket} 的邮件……")
        if answer:
            result = confirm_mail(ctx.store, mail.ticket, progress=ctx.progress)
            confirmed.append(result)
        else:
            decline_mail(ctx.store, mail.ticket)
            declined.append(mail)
    lines = [f"待确认邮件 {len(waiting)} 封：确认 {len(confirmed)} 封，不予受理 {len(declined)} 封，"
             f"暂不处理 {len(skipped)} 封。"]
    for result in confirmed:
        assert result.mail is not None
        saved = [f for f in result.mail.files if f.saved is not None]
        lines.append(f"编号 {result.ticket}：保存报表 {len(saved)} 个" + "".join(
            f"，{f.unit or f.name}{'通过' if f.valid else '未通过'}" for f in saved))
        if result.outbox is not None and result.outbox.failed:
            lines.append(f"编号 {result.ticket} 的回执发送失败，已留在发件箱，下次收取时自动重试。")
    if confirmed:
        lines.append("确认的报表已存入收件目录，点“合并入台帐”合并。")
    if confirmed or declined:
        lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def problems_button(ctx: Context) -> str | None:
    from ...core.registry import PROBLEMS as PROBLEM_SHEET
    from ...problems import review_problems

    ctx.progress("正在整理问题台帐……")
    review = review_problems(ctx.store)
    if PROBLEM_SHEET.sheet in [sheet.name for sheet in ctx.book.sheets]:
        ctx.book.sheets[PROBLEM_SHEET.sheet].activate()
    if not review.total:
        return ("问题台帐中还没有问题：合并各单位月报后，存在问题和需协调事项会自动列入。"
                + (f"\n{SAVE_REMINDER}" if review.written else ""))
    counts = "、".join(f"{status} {n} 个" for status, n in review.by_status.items() if n)
    lines = [f"问题台帐共 {review.total} 个问题：{counts}（逾期和临期按 {review.day.isoformat()} 判断）。"]
    if review.edits:
        lines.append(f"已把表中直接改动的内容记入“问题办理记录”（{review.edits} 处）。")
    if review.waiting:
        lines.append(f"待交办 {len(review.waiting)} 个：请在表中填写“协调责任单位”和“办理时限”，"
                     "可改“问题类型”。")
    if review.overdue:
        lines.append(f"已超过办理时限 {len(review.overdue)} 个：" + _names(
            [f"{i.id}（{i.unit}，{i.due.isoformat() if i.due else ''}）" for i in review.overdue]))
    if review.due_soon:
        lines.append(f"办理时限将至 {len(review.due_soon)} 个：" + _names(
            [f"{i.id}（{i.unit}）" for i in review.due_soon]))
    if review.overdue:
        lines.append("点“督办通知”为逾期的问题生成督办通知单。")
    if review.written:
        lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def notices_button(ctx: Context) -> str | None:
    from ...notices import make_notices

    period = ctx.period()
    out = ctx.workspace().notices(period)
    ctx.progress(f"正在生成 {period} 督办通知单……")
    result = make_notices(ctx.store, period, out)
    supervision = result.supervision
    if not result.notices:
        lines = [f"{period} 没有需要督办的事项（按 {result.issued.isoformat()} 判断），未生成督办通知单。"]
    else:
        lines = [f"已生成 {period} 督办通知单 {len(result.notices)} 份（请各单位于 "
                 f"{result.reply_by.isoformat()} 前反馈），位于：\n{out}"]
        lines.append("收到通知的单位：" + _names([n.unit for n in result.notices]))
    if supervision is not None:
        lines.append(f"督办的问题 {supervision.problem_count} 个（逾期 {supervision.overdue_problems} 个），"
                     f"项目 {supervision.project_count} 个（红灯 {supervision.red_projects} 个、逾期未开工 "
                     f"{supervision.late_starts} 个、逾期未竣工 {supervision.late_ends} 个）。")
    if result.waiting:
        lines.append(f"另有 {result.waiting} 个问题提出已久仍待交办，未发通知：请点“问题台帐”交办。")
    if result.notices:
        lines.append("需要 PDF 时，用 Word 打开后另存为 PDF，或用命令 zdxm notices … --pdf。")
    if result.written:  # each problem supervised is written in 问题办理记录
        lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def bulletin_button(ctx: Context) -> str | None:
    from ...bulletin import make_bulletin

    period = ctx.period()
    out = ctx.workspace().bulletins(period)
    ctx.progress(f"正在生成 {period} 简报和通报……")
    result = make_bulletin(ctx.store, period, out, pdf=True)
    lines = [f"已生成第 {result.issue} 期简报和 {period} 通报：", str(result.docx), str(result.xlsx)]
    if result.pdf is not None:
        lines.append(str(result.pdf))
    elif result.pdf_problem:
        lines.append(f"未生成 PDF：{result.pdf_problem}")
    if result.new_issue:
        lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def assess_button(ctx: Context) -> str | None:
    from ...assess import assess

    master = ctx.master()
    last = ctx.period()
    first = f"{master.year}-01"
    folder = ctx.workspace().assessments()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{master.year}年重大项目考核_{first}至{last}.xlsx"
    ctx.progress(f"正在计算 {first} 至 {last} 的单位考核……")
    result = assess(ctx.store, first, last, out)
    firsts = [f"{u.category}：{u.unit}" for u in result.units if u.group_rank == 1]
    unrated = sum(1 for u in result.units if not u.rated)
    return (f"已计算 {len(result.units)} 个牵头单位 {first} 至 {last} 的考核得分，按单位类别分组排名"
            f"（不参评 {unrated} 个）。各组第一名：{_names(firsts)}。\n考核表：{out}")


def settings_button(ctx: Context) -> str | None:
    settings = ctx.master().settings
    workspace = ctx.workspace()
    ctx.book.sheets["设置"].activate()
    return "\n".join([
        "已打开“设置”工作表，按钮按这里的设置工作：",
        f"当前报告期：{settings.current_period or '（未填写）'}",
        f"收件目录：{workspace.inbox}",
        f"输出目录：{workspace.output}",
        f"归档目录：{workspace.archive}",
        "相对路径以台账所在文件夹为准。修改后保存台账即可生效。",
    ])


def help_button(ctx: Context) -> str | None:
    lines = ["“重大项目”选项卡的按钮（每个按钮都有同样功能的 zdxm 命令，WPS 用户请使用命令）："]
    lines += [f"【{b.label}】{b.supertip}（命令：{b.command}）" for b in BUTTONS if b.id != "zdxmHelp"]
    lines.append("按钮作用于当前打开的台账；完整说明见 zdxm-xl 的 docs/addin.md。")
    return "\n".join(lines)


HANDLERS: dict[str, Handler] = {
    "zdxmImportPlan": import_plan_button,
    "zdxmExportPlan": export_plan_button,
    "zdxmRefreshSummary": refresh_summary_button,
    "zdxmTemplates": templates_button,
    "zdxmSendTemplates": send_templates_button,
    "zdxmFetch": fetch_button,
    "zdxmMailPending": mail_pending_button,
    "zdxmValidate": validate_button,
    "zdxmMerge": merge_button,
    "zdxmStatus": status_button,
    "zdxmProblems": problems_button,
    "zdxmNotices": notices_button,
    "zdxmBulletin": bulletin_button,
    "zdxmAssess": assess_button,
    "zdxmSettings": settings_button,
    "zdxmHelp": help_button,
}


# ---- dispatch ---------------------------------------------------------------------------------

def find_master(book: Any) -> Any:
    """The master to work on: the active book if it is one, else the one master open."""
    if is_master_book(book):
        return book
    masters = [other for other in book.app.books if is_master_book(other)]
    if len(masters) == 1:
        return masters[0]
    if not masters:
        raise MasterError(f"当前工作簿“{book.name}”不是台账（台账有“设置”等工作表）。"
                          "请打开台账并切换到它，再点按钮。")
    raise MasterError(f"打开了 {len(masters)} 个台账，请切换到要处理的那个台账，再点按钮。")


def _caller_book() -> Any:
    import xlwings as xw  # the only place xlwings is imported

    try:
        return xw.Book.caller()
    except Exception:  # started outside RunPython (e.g. from a console): the active book
        return xw.books.active


def dispatch(button_id: str, book: Any = None, ui: Ui | None = None) -> str | None:
    """Run the handler of the ribbon button ``button_id`` on the master workbook.

    ``book`` is the calling workbook (default: the one RunPython was called from); the
    outcome, or any failure, is shown in a message box and returned.
    """
    message: str | None = None
    try:
        if book is None:
            book = _caller_book()
        if ui is None:
            ui = ExcelUi(book.app)
    except Exception as exc:  # no Excel to talk to: nothing can be shown
        raise SystemExit(f"无法连接 Excel：{exc}") from exc
    try:
        pressed = button(button_id)
        handler = HANDLERS.get(button_id)
        if pressed is None or handler is None:
            raise UsageError(f"未知的按钮“{button_id}”：加载项与已安装的 zdxm 版本不一致，"
                             "请运行 zdxm addin install 重新安装加载项。")
        master_book = find_master(book) if pressed.needs_master else book
        context = Context(master_book, BookStore(master_book), ui)
        message = handler(context)
        ui.status(None)
        if message:
            ui.alert(message)
    except ZdxmError as exc:
        message = describe(exc)
        ui.status(None)
        ui.alert(message, error=True)
    except Exception as exc:  # the last guard: no traceback reaches the office
        log = _log_failure(button_id)
        message = (f"程序内部错误：{type(exc).__name__}：{exc}\n"
                   f"详细信息已记录在 {log}，请发给技术支持。")
        ui.status(None)
        ui.alert(message, error=True)
    return message


def _log_failure(button_id: str) -> Path:
    try:
        with LOG_FILE.open("a", encoding="utf-8") as handle:
            handle.write(f"---- {datetime.now().isoformat(timespec='seconds')} {button_id}\n")
            handle.write(traceback.format_exc())
    except OSError:
        pass
    return LOG_FILE
