"""The 重大项目 ribbon tab: its groups and buttons, as data.

``BUTTONS`` is the one table of buttons. The ribbon XML (``workbook/customUI14.xml``) is
generated from it and checked against it, the add-in's handlers (``handlers.HANDLERS``)
are keyed by its ids, and the help text and docs list it — so adding a button is one entry
here plus its handler. This module holds no handler and imports nothing of the runtime, so
building the add-in (``build``) does not load it.

Every button's ``image`` is a built-in Excel icon (``imageMso``): an id that Excel 2016 and
Microsoft 365 know, from the list in ``workbook/excel-control-ids.txt`` (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

__all__ = ["Button", "Group", "BUTTONS", "GROUPS", "PLAN", "MONTHLY", "PROBLEMS", "BULLETIN", "HELP",
           "CALLBACK", "TITLE", "NO_WORKBOOK_MESSAGE", "CUSTOMUI_NS", "ribbon_xml",
           "ribbon_problems", "button"]

TITLE = "重大项目"
CALLBACK = "ZdxmRibbon.OnButton"  # the one VBA callback (workbook/zdxm.bas)
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
# Shown by the VBA callback itself when no workbook is open (Python needs one to start).
NO_WORKBOOK_MESSAGE = "请先打开台账工作簿，再点击“重大项目”选项卡上的按钮。"


@dataclass(frozen=True)
class Group:
    """A group of the ribbon tab. Ribbon ids are unique across tab, groups and buttons."""

    id: str
    label: str


@dataclass(frozen=True)
class Button:
    """One ribbon button: what the office sees, and the command that does the same."""

    id: str
    label: str
    screentip: str
    supertip: str  # what it does, in a sentence (also the help text and the docs)
    image: str  # a built-in Excel icon (imageMso)
    group: Group
    command: str  # the zdxm command that does the same, for WPS users
    needs_master: bool = True


PLAN, MONTHLY, BULLETIN, HELP = (Group("zdxmPlanGroup", "计划"), Group("zdxmMonthlyGroup", "月报"),
                                 Group("zdxmBulletinGroup", "简报"), Group("zdxmHelpGroup", "帮助"))
PROBLEMS = Group("zdxmProblemGroup", "问题督办")
GROUPS = (PLAN, MONTHLY, PROBLEMS, BULLETIN, HELP)  # a group shows once it has a button

BUTTONS: tuple[Button, ...] = (
    Button("zdxmImportPlan", "导入计划表", "导入年度计划表",
           "选择官方格式的附表1、附表2，把年度计划导入台账；任何一处项数或小计不符都不导入。",
           "XmlImport", PLAN, "zdxm plan import 台账.xlsx 计划表.xlsx"),
    Button("zdxmExportPlan", "导出附表", "导出计划附表",
           "按官方版式把在库项目导出为附表1、附表2（A3 横向），保存到输出目录。",
           "XmlExport", PLAN, "zdxm plan export 台账.xlsx -o 附表.xlsx"),
    Button("zdxmRefreshSummary", "刷新汇总", "刷新计划汇总",
           "按阶段和行业重新计算项目数、总投资和年度计划投资，写入“汇总”工作表。",
           "RefreshAll", PLAN, "zdxm plan summary 台账.xlsx --write"),
    Button("zdxmTemplates", "生成模板", "生成填报模板",
           "为当前报告期的每个牵头单位生成一份填报模板，保存到输出目录的“模板”文件夹。",
           "FileNew", MONTHLY, "zdxm templates 台账.xlsx --period 年-月 -o 文件夹"),
    Button("zdxmSendTemplates", "发送模板", "邮件发送填报模板",
           "生成当前报告期的填报模板，并用邮件发给各牵头单位的信息员（抄送联络员）。",
           "FileSendAsAttachment", MONTHLY, "zdxm mail send-templates 台账.xlsx --period 年-月"),
    Button("zdxmFetch", "收取报送", "从邮箱收取报送",
           "从设置中的邮箱收取各单位报送的月报附件，按报告期存入收件目录，记下收到时间，"
           "并给登记的发件人回复回执；登记邮箱以外发来的列为待确认。",
           "GetExternalDataFromText", MONTHLY, "zdxm mail fetch 台账.xlsx --period 年-月 --reply"),
    Button("zdxmMailPending", "待确认邮件", "确认或不予受理待确认的邮件",
           "逐封显示未登记发件人（或发来别的单位报表、自动发送）的待确认邮件：选“是”确认并处理"
           "（保存、校验、回复回执），选“否”不予受理，选“取消”暂不处理。",
           "ReviewAcceptOrRejectChangeDialog", MONTHLY,
           "zdxm mail pending 台账.xlsx；zdxm mail confirm（或 reject）台账.xlsx 编号"),
    Button("zdxmValidate", "校验报表", "校验收到的月报",
           "校验收件目录中各单位报送的文件，写出批注副本和回执；不改动台账。",
           "DataValidation", MONTHLY, "zdxm validate 台账.xlsx 收件目录 --annotate 文件夹"),
    Button("zdxmMerge", "合并入台帐", "合并月报入台帐",
           "校验收件目录中的文件，把通过的月报合并进“月报台帐”，并记入“报送记录”。",
           "Consolidate", MONTHLY, "zdxm merge 台账.xlsx 收件目录"),
    Button("zdxmStatus", "报送情况", "查看报送情况",
           "列出当前报告期未报送、逾期和未通过的牵头单位。",
           "ReviewHighlightChanges", MONTHLY, "zdxm status 台账.xlsx --period 年-月"),
    Button("zdxmProblems", "问题台帐", "查看和整理问题台帐",
           "打开“问题台帐”工作表，把在表中直接改动的内容记入“问题办理记录”（填了协调责任单位的问题改为"
           "办理中），列出待交办、已超过办理时限和临期的问题；问题类型、协调责任单位、办理时限在表中填写。",
           "TraceError", PROBLEMS,
           "zdxm problems 台账.xlsx；zdxm problems assign（或 close）台账.xlsx 问题编号 …"),
    Button("zdxmNotices", "督办通知", "生成督办通知单",
           "按当前报告期，对超过办理时限和久拖未决的问题、红灯和逾期未开工（竣工）的项目，给每个责任单位"
           "生成一份督办通知单（Word，公文格式），保存到输出目录的“督办通知”文件夹。",
           "ReviewSendForReview", PROBLEMS, "zdxm notices 台账.xlsx --period 年-月 -o 文件夹"),
    Button("zdxmBulletin", "生成简报", "生成简报和通报",
           "按当前报告期的台帐数据生成 Word 简报和 Excel 通报（有 Word 或 LibreOffice 时另出 PDF）。",
           "FileSaveAsPdfOrXps", BULLETIN, "zdxm bulletin 台账.xlsx --period 年-月 -o 文件夹 --pdf"),
    Button("zdxmAssess", "单位考核", "责任单位考核",
           "计算各牵头单位自 1 月至当前报告期的投资完成率、开工率、竣工率、报送及时率和加权得分。",
           "SortDescendingExcel", BULLETIN,
           "zdxm assess 台账.xlsx --from 年-01 --to 年-月 -o 考核.xlsx"),
    Button("zdxmSettings", "设置", "查看和修改设置",
           "打开“设置”工作表，显示当前报告期和收件、输出、归档目录。",
           "ControlProperties", HELP, "在台账的“设置”工作表中修改"),
    Button("zdxmHelp", "帮助", "按钮说明",
           "列出每个按钮的作用和对应的 zdxm 命令。",
           "Help", HELP, "zdxm --help", needs_master=False),
)


def button(button_id: str) -> Button | None:
    return next((b for b in BUTTONS if b.id == button_id), None)


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
    generic callback, a button not in ``BUTTONS``, a button of ``BUTTONS`` missing."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(xml.encode("utf-8"))
    except ElementTree.ParseError as exc:
        return [f"customUI14.xml 不是合格的 XML：{exc}"]
    problems = []
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        problems.append(f"根元素应为 {CUSTOMUI_NS} 的 customUI")
    declared = {b.id for b in BUTTONS}
    seen = set()
    for element in root.findall(f".//{{{CUSTOMUI_NS}}}button"):
        button_id = element.get("id", "")
        seen.add(button_id)
        if element.get("onAction") != CALLBACK:
            problems.append(f"按钮 {button_id} 的 onAction 应为 {CALLBACK}")
        if button_id not in declared:
            problems.append(f"按钮 {button_id} 不在按钮表中")
    problems += [f"按钮表中的 {b} 不在功能区中" for b in sorted(declared - seen)]
    return problems
