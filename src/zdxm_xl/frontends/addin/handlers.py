"""The Excel add-in's Python side: one dispatcher, one handler per ribbon button (SPEC §6).

Every button of the 重大项目 tab calls the same VBA callback, which runs
``zdxm_xl.frontends.addin.handlers.dispatch(control.Id)`` through xlwings' ``RunPython``. ``BUTTONS`` is the
one table of buttons: the ribbon (``workbook/customUI14.xml``) is generated from it and
checked against it, ``dispatch`` finds handlers in it, and the help text and docs list it —
so adding a button is one entry here plus its handler.

A handler finds the master among the open workbooks (an add-in's own book is never one),
calls the same core function as the matching ``zdxm`` command with a ``BookStore`` — which
reads each table of the open book in one call and writes each changed table back in one
call — shows what it is doing in Excel's status bar, and returns the Chinese message the
office sees. Every failure becomes a message box too, never a traceback.

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
from xml.sax.saxutils import quoteattr

from ...books.livebook import BookStore, is_master_book
from ...books.masterio import Master
from ...core.errors import MasterError, UsageError, ZdxmError

__all__ = ["Button", "Group", "BUTTONS", "GROUPS", "PLAN", "MONTHLY", "BULLETIN", "HELP", "CALLBACK",
           "TITLE", "NO_WORKBOOK_MESSAGE", "Ui", "ExcelUi", "Context", "dispatch", "find_master",
           "ribbon_xml", "ribbon_problems"]

TITLE = "重大项目"
CALLBACK = "ZdxmRibbon.OnButton"  # the one VBA callback (workbook/zdxm.bas)
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
# Shown by the VBA callback itself when no workbook is open (Python needs one to start).
NO_WORKBOOK_MESSAGE = "请先打开台账工作簿，再点击“重大项目”选项卡上的按钮。"
SAVE_REMINDER = "台账已更新，请记得保存（Ctrl+S）。"
LOG_FILE = Path(tempfile.gettempdir()) / "zdxm-addin.log"
_MAX_LISTED = 15


# ---- how a handler talks to the office --------------------------------------------------------

class Ui(Protocol):
    """What a handler may ask of Excel besides the workbook itself."""

    def alert(self, text: str, *, error: bool = False) -> None: ...

    def status(self, text: str | None) -> None: ...

    def choose_files(self, title: str) -> list[Path]: ...


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

    def directory(self, value: str) -> Path:
        """A folder from 设置: relative to the master's folder unless absolute."""
        path = Path(value)
        return path if path.is_absolute() else self.store.folder / path

    def period(self) -> str:
        """设置 → 当前报告期, required by the monthly buttons."""
        period = self.master().settings.current_period
        if not period:
            raise UsageError("请先在“设置”工作表填写“当前报告期”（如 2022-03），再点此按钮。")
        return period

    def inbox(self) -> Path:
        """收件目录, or its subfolder for the current 报告期 when there is one."""
        inbox = self.directory(self.master().settings.inbox_dir)
        period = self.master().settings.current_period
        if period and (inbox / period).is_dir():
            inbox = inbox / period
        if not inbox.is_dir():
            raise UsageError(f"收件目录“{inbox}”不存在。请把各单位报送的文件放进这个文件夹，"
                             "或在“设置”工作表修改“收件目录”。")
        return inbox

    def output(self, *parts: str) -> Path:
        folder = self.directory(self.master().settings.output_dir).joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


Handler = Callable[[Context], str | None]


@dataclass(frozen=True)
class Group:
    """A group of the ribbon tab. Ribbon ids are unique across tab, groups and buttons."""

    id: str
    label: str


@dataclass(frozen=True)
class Button:
    """One ribbon button: what the office sees, and what runs."""

    id: str
    label: str
    screentip: str
    supertip: str  # what it does, in a sentence (also the help text and the docs)
    image: str  # a built-in Office icon (imageMso)
    group: Group
    handler: Handler
    command: str  # the zdxm command that does the same, for WPS users
    needs_master: bool = True


PLAN, MONTHLY, BULLETIN, HELP = (Group("zdxmPlanGroup", "计划"), Group("zdxmMonthlyGroup", "月报"),
                                 Group("zdxmBulletinGroup", "简报"), Group("zdxmHelpGroup", "帮助"))
GROUPS = (PLAN, MONTHLY, BULLETIN, HELP)  # a group shows once it has a button


# ---- handlers ---------------------------------------------------------------------------------

def _names(names: list[str]) -> str:
    shown = "、".join(names[:_MAX_LISTED])
    return shown + (f" 等 {len(names)} 个" if len(names) > _MAX_LISTED else "") if names else "无"


def import_plan_button(ctx: Context) -> str | None:
    from ...planio import import_plan

    files = ctx.ui.choose_files("选择年度计划表（附表1 实施项目、附表2 预备项目）")
    if not files:
        return None
    ctx.progress(f"正在导入 {len(files)} 个计划表文件……")
    result = import_plan(ctx.store, files)
    lines = [f"已导入实施项目 {result.implementation} 个、预备项目 {result.preparatory} 个。"]
    if result.new_units:
        lines.append(f"新增责任单位 {len(result.new_units)} 个：{_names(result.new_units)}。"
                     "请在“责任单位”工作表补全联络员、信息员的联系方式。")
    lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def export_plan_button(ctx: Context) -> str | None:
    from ...planio import export_plan

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
    from ...forms import make_templates

    period = ctx.period()
    out = ctx.output("模板", period)
    ctx.progress(f"正在生成 {period} 填报模板……")
    result = make_templates(ctx.store, period, out)
    return f"已生成 {result.period} 填报模板 {len(result.files)} 个，位于：\n{out}"


def validate_button(ctx: Context) -> str | None:
    from ...validate import validate_files

    inbox = ctx.inbox()
    period = ctx.master().settings.current_period
    annotated = ctx.output("校验结果", period or "未指定报告期")
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
        lines.append("已合并：" + _names([f"{m['unit']}（{m['rows']} 个项目）" for m in result.merged]))
    if result.rejected:
        lines.append("未通过（未合并，可点“校验报表”生成批注副本）："
                     + _names([Path(r["file"]).name for r in result.rejected]))
    lines.append(SAVE_REMINDER if result.written else "台账未改动。")
    return "\n".join(lines)


def status_button(ctx: Context) -> str | None:
    from ...merge import submission_status

    period = ctx.period()
    ctx.progress(f"正在统计 {period} 报送情况……")
    report = submission_status(ctx.master(), period)
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
    from ...mail.service import send_templates

    period = ctx.period()
    ctx.progress(f"正在给各牵头单位发送 {period} 填报模板……")
    result = send_templates(ctx.store, period, progress=ctx.progress)
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
    result = fetch_returns(ctx.store, period, progress=ctx.progress)
    saved = [f for f in result.files if f.saved is not None]
    lines = [f"收到新邮件 {len(result.mails)} 封，保存报表 {len(saved)} 个"
             f"（已处理过的邮件 {result.already} 封）。"]
    refused = [f.name for f in result.files if f.result == "已拒收"]
    if refused:
        lines.append("拒收的附件：" + _names(refused))
    lines += result.notes[:5]
    lines.append("下一步：点“校验报表”生成批注副本和回执，点“合并入台帐”合并。")
    lines.append(SAVE_REMINDER)
    return "\n".join(lines)


def bulletin_button(ctx: Context) -> str | None:
    from ...bulletin import make_bulletin

    period = ctx.period()
    out = ctx.output("简报", period)
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
    out = ctx.output("考核") / f"{master.year}年重大项目考核_{first}至{last}.xlsx"
    ctx.progress(f"正在计算 {first} 至 {last} 的单位考核……")
    result = assess(ctx.store, first, last, out)
    top = [f"{u.unit}" for u in result.units[:5]]
    return (f"已计算 {len(result.units)} 个牵头单位 {first} 至 {last} 的考核得分和排名，"
            f"前五名：{_names(top)}。\n考核表：{out}")


def settings_button(ctx: Context) -> str | None:
    settings = ctx.master().settings
    ctx.book.sheets["设置"].activate()
    return "\n".join([
        "已打开“设置”工作表，按钮按这里的设置工作：",
        f"当前报告期：{settings.current_period or '（未填写）'}",
        f"收件目录：{ctx.directory(settings.inbox_dir)}",
        f"输出目录：{ctx.directory(settings.output_dir)}",
        f"归档目录：{ctx.directory(settings.archive_dir)}",
        "相对路径以台账所在文件夹为准。修改后保存台账即可生效。",
    ])


def help_button(ctx: Context) -> str | None:
    lines = ["“重大项目”选项卡的按钮（每个按钮都有同样功能的 zdxm 命令，WPS 用户请使用命令）："]
    lines += [f"【{b.label}】{b.supertip}（命令：{b.command}）" for b in BUTTONS if b.id != "zdxmHelp"]
    lines.append("按钮作用于当前打开的台账；完整说明见 zdxm-xl 的 docs/addin.md。")
    return "\n".join(lines)


BUTTONS: tuple[Button, ...] = (
    Button("zdxmImportPlan", "导入计划表", "导入年度计划表",
           "选择官方格式的附表1、附表2，把年度计划导入台账；任何一处项数或小计不符都不导入。",
           "ImportExcel", PLAN, import_plan_button, "zdxm plan import 台账.xlsx 计划表.xlsx"),
    Button("zdxmExportPlan", "导出附表", "导出计划附表",
           "按官方版式把在库项目导出为附表1、附表2（A3 横向），保存到输出目录。",
           "ExportExcel", PLAN, export_plan_button, "zdxm plan export 台账.xlsx -o 附表.xlsx"),
    Button("zdxmRefreshSummary", "刷新汇总", "刷新计划汇总",
           "按阶段和行业重新计算项目数、总投资和年度计划投资，写入“汇总”工作表。",
           "RefreshAll", PLAN, refresh_summary_button, "zdxm plan summary 台账.xlsx --write"),
    Button("zdxmTemplates", "生成模板", "生成填报模板",
           "为当前报告期的每个牵头单位生成一份填报模板，保存到输出目录的“模板”文件夹。",
           "FileNew", MONTHLY, templates_button,
           "zdxm templates 台账.xlsx --period 年-月 -o 文件夹"),
    Button("zdxmSendTemplates", "发送模板", "邮件发送填报模板",
           "生成当前报告期的填报模板，并用邮件发给各牵头单位的信息员（抄送联络员）。",
           "FileSendAsAttachment", MONTHLY, send_templates_button,
           "zdxm mail send-templates 台账.xlsx --period 年-月"),
    Button("zdxmFetch", "收取报送", "从邮箱收取报送",
           "从设置中的邮箱收取各单位报送的月报附件，按报告期存入收件目录，记下收到时间。",
           "GetExternalDataFromText", MONTHLY, fetch_button,
           "zdxm mail fetch 台账.xlsx --period 年-月"),
    Button("zdxmValidate", "校验报表", "校验收到的月报",
           "校验收件目录中各单位报送的文件，写出批注副本和回执；不改动台账。",
           "AcceptInvitation", MONTHLY, validate_button,
           "zdxm validate 台账.xlsx 收件目录 --annotate 文件夹"),
    Button("zdxmMerge", "合并入台帐", "合并月报入台帐",
           "校验收件目录中的文件，把通过的月报合并进“月报台帐”，并记入“报送记录”。",
           "TableInsert", MONTHLY, merge_button, "zdxm merge 台账.xlsx 收件目录"),
    Button("zdxmStatus", "报送情况", "查看报送情况",
           "列出当前报告期未报送、逾期和未通过的牵头单位。",
           "ReviewTrackChanges", MONTHLY, status_button,
           "zdxm status 台账.xlsx --period 年-月"),
    Button("zdxmBulletin", "生成简报", "生成简报和通报",
           "按当前报告期的台帐数据生成 Word 简报和 Excel 通报（有 Word 或 LibreOffice 时另出 PDF）。",
           "FileSaveAsPdfOrXps", BULLETIN, bulletin_button,
           "zdxm bulletin 台账.xlsx --period 年-月 -o 文件夹 --pdf"),
    Button("zdxmAssess", "单位考核", "责任单位考核",
           "计算各牵头单位自 1 月至当前报告期的投资完成率、开工率、竣工率、报送及时率和加权得分。",
           "ChartTypeBarInsertGallery", BULLETIN, assess_button,
           "zdxm assess 台账.xlsx --from 年-01 --to 年-月 -o 考核.xlsx"),
    Button("zdxmSettings", "设置", "查看和修改设置",
           "打开“设置”工作表，显示当前报告期和收件、输出、归档目录。",
           "ControlProperties", HELP, settings_button, "在台账的“设置”工作表中修改"),
    Button("zdxmHelp", "帮助", "按钮说明",
           "列出每个按钮的作用和对应的 zdxm 命令。",
           "Help", HELP, help_button, "zdxm --help", needs_master=False),
)


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
        button = next((b for b in BUTTONS if b.id == button_id), None)
        if button is None:
            raise UsageError(f"未知的按钮“{button_id}”：加载项与已安装的 zdxm 版本不一致，"
                             "请运行 zdxm addin install 重新安装加载项。")
        master_book = find_master(book) if button.needs_master else book
        context = Context(master_book, BookStore(master_book), ui)
        message = button.handler(context)
        ui.status(None)
        if message:
            ui.alert(message)
    except ZdxmError as exc:
        message = exc.message
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


# ---- the ribbon -------------------------------------------------------------------------------

def ribbon_xml() -> str:
    """customUI14.xml for ``BUTTONS``: groups without buttons yet are left out."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             "<!-- 由 python -m zdxm_xl.frontends.addin.build ribbon 根据按钮表生成，请勿手工修改。 -->",
             f'<customUI xmlns="{CUSTOMUI_NS}">',
             "  <ribbon>",
             "    <tabs>",
             f'      <tab id="zdxmTab" label={quoteattr(TITLE)}>']
    for group in GROUPS:
        members = [b for b in BUTTONS if b.group == group]
        if not members:
            continue
        lines.append(f"        <group id={quoteattr(group.id)} label={quoteattr(group.label)}>")
        for b in members:
            lines.append(
                f"          <button id={quoteattr(b.id)} label={quoteattr(b.label)} size=\"large\""
                f" imageMso={quoteattr(b.image)} screentip={quoteattr(b.screentip)}"
                f" supertip={quoteattr(b.supertip)} onAction={quoteattr(CALLBACK)}/>")
        lines.append("        </group>")
    lines += ["      </tab>", "    </tabs>", "  </ribbon>", "</customUI>", ""]
    return "\n".join(lines)


def ribbon_problems(xml: str) -> list[str]:
    """What is wrong with a ribbon XML: not well-formed, a button whose onAction is not the
    generic callback, a button without a handler, a handler without a button."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(xml.encode("utf-8"))
    except ElementTree.ParseError as exc:
        return [f"customUI14.xml 不是合格的 XML：{exc}"]
    problems = []
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        problems.append(f"根元素应为 {CUSTOMUI_NS} 的 customUI")
    buttons = root.findall(f".//{{{CUSTOMUI_NS}}}button")
    handlers = {b.id for b in BUTTONS}
    seen = set()
    for element in buttons:
        button_id = element.get("id", "")
        seen.add(button_id)
        if element.get("onAction") != CALLBACK:
            problems.append(f"按钮 {button_id} 的 onAction 应为 {CALLBACK}")
        if button_id not in handlers:
            problems.append(f"按钮 {button_id} 没有处理函数")
    problems += [f"处理函数 {h} 没有按钮" for h in sorted(handlers - seen)]
    return problems
