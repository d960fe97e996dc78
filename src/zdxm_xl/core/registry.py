"""The column registry: the one place that says what every column is.

Header text, model field, kind of value, unit, whether it is required, dropdown values and
help text live here. The master workbook, the official plan tables, the unit templates, the
checker, the ledger and the generated docs all read these definitions; adding a column is
one edit in this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .models import (
    DEFAULT_COUNTIES,
    IMPLEMENTATION_STAGES,
    AttachmentPlacement,
    BenchmarkMethod,
    ChangeKind,
    FlagMethod,
    MailDirection,
    MailResult,
    OutboxKind,
    OutboxState,
    PermitStatus,
    ProblemEvent,
    ProblemStatus,
    ProblemType,
    ProjectStatus,
    RuleLevel,
    Sector,
    Security,
    Stage,
    SubmissionResult,
    UnitCategory,
    YesNo,
)

__all__ = [
    "STAGES",
    "IMPLEMENTATION_STAGES",
    "SECTORS",
    "STATUSES",
    "UNIT_CATEGORIES",
    "PERMIT_STATUSES",
    "YES_NO",
    "SUBMISSION_RESULTS",
    "CHANGE_KINDS",
    "DEFAULT_COUNTIES",
    "Kind",
    "Column",
    "SheetSpec",
    "IMPLEMENTATION",
    "PREPARATORY",
    "UNITS",
    "LEDGER",
    "SUBMISSIONS",
    "CHANGES",
    "SUMMARY_SHEET",
    "SUMMARY",
    "SETTINGS_SHEET",
    "SYSTEM_SHEET",
    "COUNTY_TABLE",
    "MASTER_TABLES",
    "PERMITS",
    "FORM_IMPLEMENTATION",
    "FORM_PREPARATORY",
    "FORMS",
    "FORM_CONTACTS",
    "FORM_HEADER_ROW",
    "FORM_GUIDE_SHEET",
    "MAIL_DIRECTIONS",
    "MAIL_RESULTS",
    "MAIL_SECURITY",
    "MAIL_LOG",
    "OUTBOX",
    "OUTBOX_KINDS",
    "OUTBOX_STATES",
    "ALLOWED_SENDERS",
    "PROBLEM_TYPES",
    "PROBLEM_STATUSES",
    "PROBLEM_EVENTS",
    "PROBLEMS",
    "PROBLEM_LOG",
    "FORM_PROBLEMS",
    "UNIT_LIST_NAME",
]

# Dropdown values, derived from the enums of ``models``: each value is spelt in one place.
STAGES = tuple(Stage)
SECTORS = tuple(Sector)
STATUSES = tuple(ProjectStatus)
UNIT_CATEGORIES = tuple(UnitCategory)
PERMIT_STATUSES = tuple(PermitStatus)
YES_NO = tuple(YesNo)
SUBMISSION_RESULTS = tuple(SubmissionResult)
CHANGE_KINDS = tuple(ChangeKind)
MAIL_DIRECTIONS = tuple(MailDirection)
MAIL_RESULTS = tuple(MailResult)
MAIL_SECURITY = tuple(Security)
OUTBOX_KINDS = tuple(OutboxKind)
OUTBOX_STATES = (OutboxState.QUEUED, OutboxState.FAILED)  # what the 发件箱 sheet holds
BENCHMARK_METHODS = tuple(BenchmarkMethod)
ATTACHMENT_PLACEMENTS = tuple(AttachmentPlacement)
FLAG_METHODS = tuple(FlagMethod)
RULE_LEVELS = tuple(RuleLevel)
PROBLEM_TYPES = tuple(ProblemType)
PROBLEM_STATUSES = tuple(ProblemStatus)
PROBLEM_EVENTS = tuple(ProblemEvent)
UNIT_LIST_NAME = "UnitList"  # the names of 责任单位, for dropdowns (协调责任单位)


class Kind(StrEnum):
    """What a column holds, and so how it is read, written, formatted and validated."""

    TEXT = "文本"
    MONEY = "金额"  # Decimal 万元, at most two places
    INT = "整数"
    DATE = "日期"
    MONTH = "年月"
    DATETIME = "日期时间"
    CHOICE = "选项"  # one of ``choices`` (or of a list kept in the workbook)
    UNIT_LIST = "单位列表"  # ordered names joined by 、
    YEARS = "起止年限"  # 2022-2024
    PERIOD = "报告期"  # 2022-03


@dataclass(frozen=True)
class Column:
    """One column: the Chinese header people see and the English field code uses."""

    field: str
    header: str
    kind: Kind = Kind.TEXT
    unit: str | None = None
    required: bool = False
    choices: tuple[str, ...] | None = None
    choices_from: str | None = None  # a list kept in the workbook, e.g. "县区"
    help: str = ""
    width: int = 12
    derived: bool = False  # written from the plan on every save, never read back
    technical: bool = False  # for zdxm, not for reading: grouped and collapsed in the sheet

    @property
    def title(self) -> str:
        """The header cell text: ``总投资（万元）`` for money, the bare header otherwise."""
        return f"{self.header}（{self.unit}）" if self.unit else self.header


@dataclass(frozen=True)
class SheetSpec:
    """A sheet holding one Excel table whose header row is ``columns``."""

    sheet: str  # Chinese sheet name, fixed
    table: str  # Excel table name (ASCII: some editors mishandle others)
    columns: tuple[Column, ...]
    help: str = ""
    inputs: tuple[str, ...] = ()  # fields a unit fills in (templates); the rest are locked
    optional: tuple[str, ...] = ()  # input columns a returned form may lack (older forms)

    def column(self, field: str) -> Column:
        for col in self.columns:
            if col.field == field:
                return col
        raise KeyError(field)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(col.field for col in self.columns)

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(col.title for col in self.columns)


def _money(field: str, header: str, help: str, required: bool = False, width: int = 14) -> Column:
    return Column(field, header, Kind.MONEY, unit="万元", required=required, help=help,
                  width=width)


# ---- plan columns shared by 实施项目 and 预备项目 -------------------------------------------
_ID = Column("id", "项目编号", width=13,
             help="系统内项目的固定编号，如 ZD2022-0001；留空时由系统生成，之后不再改变")
_CODE = Column("code", "项目代码", width=26,
               help="全国投资项目在线审批监管平台赋予的代码，如 2021-450200-48-01-012345，可空")
_NAME = Column("name", "项目名称", required=True, width=40, help="项目全称")
_STAGE = Column("stage", "阶段", Kind.CHOICE, required=True, choices=IMPLEMENTATION_STAGES,
                width=8, help="新开工：今年开工；续建：往年已开工；竣工：今年建成")
_SECTOR = Column("sector", "行业分类", Kind.CHOICE, required=True, choices=SECTORS, width=10,
                 help="基础设施、产业发展、民生保障、生态环保四类之一")
_COUNTY = Column("county", "县区", Kind.CHOICE, choices_from="县区", width=14,
                 help="项目所在县区，取自“设置”工作表的县区列表")
_CONTENT = Column("content", "建设内容及规模", width=50, help="主要建设内容和规模")
_YEARS = Column("years", "建设起止年限", Kind.YEARS, width=12, help="如 2022-2024")
_TOTAL = _money("total_investment", "总投资", "项目总投资", required=True)
_PRIOR = _money("prior_completed", "截至上年底累计完成投资",
                "截至上年12月底累计完成的投资，新开工项目为 0", width=16)
_ANNUAL = _money("annual_plan", "年度计划投资", "本年度计划完成的投资", required=True)
_ANNUAL_CONTENT = Column("annual_content", "年度建设内容", width=40, help="本年度计划完成的建设内容")
_PLANNED_START = Column("planned_start", "计划开工时间", Kind.MONTH, width=12,
                        help="计划开工的年月")
_PLANNED_END = Column("planned_end", "计划竣工时间", Kind.MONTH, width=12, help="计划竣工的年月")
_UNITS = Column("units", "责任单位", Kind.UNIT_LIST, required=True, width=30,
                help="一个或多个单位，用“、”分隔；排第一的为牵头单位，负责每月报送")
_OWNER = Column("owner", "项目业主", width=24, help="项目业主单位")
_AGENT = Column("agent", "代建单位", width=20, help="代建单位，可空")
_BATCH = Column("batch", "批次", width=10, help="“年初”或增补批次名称")
_BATCH_DATE = Column("batch_date", "批次日期", Kind.DATE, width=12,
                     help="增补批次列入计划的日期，项目从该日所在报告期起报送；年初计划为空")
_STATUS = Column("status", "状态", Kind.CHOICE, choices=STATUSES, width=8,
                 help="在库，或已退出（取消重大项目资格，记录保留）")
_EXIT_DATE = Column("exit_date", "退出日期", Kind.DATE, width=12, help="取消资格的日期")
_EXIT_REASON = Column("exit_reason", "退出原因", width=24, help="取消资格的原因")

IMPLEMENTATION = SheetSpec(
    "实施项目", "ImplementationProjects",
    (_ID, _CODE, _NAME, _STAGE, _SECTOR, _COUNTY, _CONTENT, _YEARS, _TOTAL, _PRIOR, _ANNUAL,
     _ANNUAL_CONTENT, _PLANNED_START, _PLANNED_END, _UNITS, _OWNER, _AGENT, _BATCH, _BATCH_DATE,
     _STATUS, _EXIT_DATE, _EXIT_REASON),
    help="今年在建的重大项目（新开工、续建、竣工），一行一个项目",
)
PREPARATORY = SheetSpec(
    "预备项目", "PreparatoryProjects",
    (_ID, _CODE, _NAME, _SECTOR, _COUNTY, _CONTENT, _YEARS, _TOTAL, _PLANNED_START, _UNITS,
     _OWNER, _AGENT, _BATCH, _BATCH_DATE, _STATUS, _EXIT_DATE, _EXIT_REASON),
    help="尚未开工、重点推进前期工作的项目，一行一个项目",
)


def _contact(role: str, field: str, email: bool) -> tuple[Column, ...]:
    cols: tuple[Column, ...] = (
        Column(f"{field}_name", role, width=10, help=f"{role}姓名"),
        Column(f"{field}_title", f"{role}职务", width=16, help=f"{role}职务"),
        Column(f"{field}_phone", f"{role}电话", width=16, help=f"{role}联系电话（手机或座机）"),
    )
    if email:
        cols += (Column(f"{field}_email", f"{role}邮箱", width=24, help=f"{role}电子邮箱"),)
    return cols


UNITS = SheetSpec(
    "责任单位", "Units",
    (Column("name", "单位名称", required=True, width=30, help="与项目表“责任单位”中写法一致"),
     Column("code", "单位代码", width=10, help="单位简码，可空"),
     Column("category", "单位类别", Kind.CHOICE, choices=UNIT_CATEGORIES, width=10,
            help="县区、市直部门或国有企业：考核和通报在同类单位中排名"),
     *_contact("责任专员", "commissioner", email=True),
     *_contact("联络员", "liaison", email=True),
     *_contact("信息员", "informant", email=True)),
    help="每个责任单位一行：责任专员、联络员、信息员的联系方式；只有这里登记的邮箱（和“设置”中的"
         "允许发件人）发来的报送会自动处理，其他发件人的邮件待办公室确认",
)

PERMITS = (
    ("permit_investment", "投资许可", "立项审批、核准或备案"),
    ("permit_planning", "规划许可", "建设用地/工程规划许可"),
    ("permit_land", "用地许可", "用地预审、供地"),
    ("permit_environment", "环境许可", "环境影响评价批复"),
    ("permit_energy", "节能许可", "节能审查意见"),
    ("permit_construction", "施工许可", "施工许可证"),
)
_PERMIT_COLUMNS = tuple(
    Column(field, header, Kind.CHOICE, choices=PERMIT_STATUSES, width=9,
           help=f"{header}（{detail}）：未启动、办理中、已办结或不涉及")
    for field, header, detail in PERMITS
)

# ---- what units report each month: the ledger's columns, also the templates' inputs -------
_MONTH = _money("month_completed", "本月完成投资", "本报告期当月完成的投资")
_YEAR = _money("year_completed", "本年累计完成投资",
               "1月至本报告期累计完成的投资，应等于上月本年累计加本月完成", width=16)
_SINCE_START = _money("total_completed", "开工以来累计完成投资",
                      "项目开工以来累计完成的投资，不小于本年累计", width=18)
_STARTED = Column("started", "是否开工", Kind.CHOICE, choices=YES_NO, width=8,
                  help="项目是否已开工：是或否")
_START_DATE = Column("start_date", "实际开工时间", Kind.DATE, width=12,
                     help="已开工的填写实际开工日期，如 2022-03-15")
_COMPLETED = Column("completed", "是否竣工", Kind.CHOICE, choices=YES_NO, width=8,
                    help="项目是否已竣工：是或否")
_END_DATE = Column("end_date", "实际竣工时间", Kind.DATE, width=12,
                   help="已竣工的填写实际竣工日期，如 2022-11-30")
_PROGRESS = Column("progress", "形象进度", width=36,
                   help="本月工程形象进度，如“主体结构完成至12层”；有投资时必填")
_REPORTED_START = Column("planned_start", "计划开工时间", Kind.MONTH, width=12,
                         help="预备项目预计开工的年月，如 2023-03")
_PREPARATION = Column("preparation", "前期工作进展", width=36, help="预备项目前期工作的进展情况")
_PROBLEMS = Column("problems", "存在问题", width=30, help="项目推进中存在的问题，没有可不填")
_COORDINATION = Column("coordination", "需协调事项", width=30,
                       help="需要市级层面协调解决的事项，没有可不填")
_EXPLANATION = Column("explanation", "情况说明", width=30,
                      help="本月完成投资明显偏大等需要说明的情况，如“设备集中到货付款”；没有可不填")

LEDGER = SheetSpec(
    "月报台帐", "Ledger",
    (Column("period", "报告期", Kind.PERIOD, required=True, width=9, help="如 2022-03"),
     Column("project_id", "项目编号", required=True, width=13, help="对应项目表的项目编号"),
     Column("project_name", "项目名称", width=36, help="报送时的项目名称（便于阅读）"),
     Column("unit", "牵头单位", width=24, help="报送该行的牵头单位"),
     _MONTH, _YEAR, _SINCE_START, _STARTED, _START_DATE, _COMPLETED, _END_DATE, _PROGRESS,
     *_PERMIT_COLUMNS, _REPORTED_START, _PREPARATION, _PROBLEMS, _COORDINATION, _EXPLANATION,
     Column("source_sha256", "来源文件sha256", width=20, help="该行数据来源文件的内容指纹",
            technical=True),
     # From the plan, so a PivotTable needs no lookups: rewritten on every save.
     Column("stage", "阶段", width=8, derived=True,
            help="项目的阶段（新开工、续建、竣工或预备），取自项目表，保存时自动填写"),
     Column("sector", "行业分类", width=10, derived=True, help="取自项目表，保存时自动填写"),
     Column("county", "县区", width=14, derived=True, help="取自项目表，保存时自动填写"),
     Column("annual_plan", "年度计划投资", Kind.MONEY, unit="万元", width=14, derived=True,
            help="项目的年度计划投资（预备项目为空），取自项目表，保存时自动填写")),
    help="每个报告期每个项目一行，来自各单位报送并已通过校验的月报；最后几列（阶段、行业分类、"
         "县区、年度计划投资）由程序按项目表填写，可直接用于数据透视表",
)

# ---- the unit templates (填报模板): plan and reference columns locked, inputs open ---------
_PREVIOUS_YEAR = _money("previous_year_completed", "上月本年累计",
                        "上月报送的本年累计完成投资（1月为 0），供核对", width=14)
_PREVIOUS_SINCE_START = _money("previous_total_completed", "上月开工以来累计",
                               "上月报送的开工以来累计完成投资（1月为截至上年底累计），供核对",
                               width=16)
FORM_IMPLEMENTATION = SheetSpec(
    "实施项目月报", "ImplementationReturn",
    (_ID, _NAME, _STAGE, _SECTOR, _TOTAL, _ANNUAL, _PREVIOUS_YEAR, _PREVIOUS_SINCE_START,
     _MONTH, _YEAR, _SINCE_START, _STARTED, _START_DATE, _COMPLETED, _END_DATE, _PROGRESS,
     *_PERMIT_COLUMNS, _PROBLEMS, _COORDINATION, _EXPLANATION),
    help="实施项目（新开工、续建、竣工）每月填报",
    inputs=("month_completed", "year_completed", "total_completed", "started", "start_date",
            "completed", "end_date", "progress", *(f for f, _, _ in PERMITS), "problems",
            "coordination", "explanation"),
    optional=("explanation",),
)
FORM_PREPARATORY = SheetSpec(
    "预备项目月报", "PreparatoryReturn",
    (_ID, _NAME, _SECTOR, _TOTAL, *_PERMIT_COLUMNS, _REPORTED_START, _PREPARATION, _PROBLEMS,
     _COORDINATION),
    help="预备项目每月填报前期工作进展",
    inputs=(*(f for f, _, _ in PERMITS), "planned_start", "preparation", "problems",
            "coordination"),
)
FORMS = (FORM_IMPLEMENTATION, FORM_PREPARATORY)
FORM_HEADER_ROW = 4  # on each return sheet: title, unit line, contacts, then the header
FORM_GUIDE_SHEET = "填报说明"  # the form's first sheet: deadline, contacts, rules
# Labels on each return sheet with the person's value in the cell to the right.
FORM_CONTACTS = (
    ("informant_name", "填报人（信息员）"),
    ("informant_phone", "联系电话"),
    ("liaison_name", "审核人（联络员）"),
)

SUBMISSIONS = SheetSpec(
    "报送记录", "Submissions",
    (Column("period", "报告期", Kind.PERIOD, width=9,
            help="文件所属的报告期；无法识别的文件为空"),
     Column("unit", "单位", width=24, help="报送单位；无法识别的文件为空"),
     Column("file_name", "文件名", width=36),
     Column("sha256", "sha256", width=20, help="文件内容指纹，用于识别重复报送和归档",
            technical=True),
     Column("received_at", "接收时间", Kind.DATETIME, width=18),
     Column("processed_at", "处理时间", Kind.DATETIME, width=18),
     Column("result", "结果", Kind.CHOICE, choices=SUBMISSION_RESULTS, width=8),
     Column("errors", "错误数", Kind.INT, width=7),
     Column("warnings", "警告数", Kind.INT, width=7),
     Column("on_time", "是否按时", Kind.CHOICE, choices=YES_NO, width=8),
     Column("note", "说明", width=36,
            help="同一单位同一报告期只有一个文件“已合并”，即当前采用的文件；这里写明被哪个文件替换、"
                 "何时重新采用")),
    help="每收到一个报送文件一行",
)

CHANGES = SheetSpec(
    "变更记录", "Changes",
    (Column("time", "时间", Kind.DATETIME, required=True, width=18, help="记录这次变更的时间"),
     Column("effective", "生效日期", Kind.DATE, width=12,
            help="变更生效的日期：增补的批次日期、退出日期、转入实施日期；修改为空"),
     Column("operator", "操作人", width=12),
     Column("kind", "变更类型", Kind.CHOICE, choices=CHANGE_KINDS, width=10),
     Column("project_id", "项目编号", width=13),
     Column("project_name", "项目名称", width=36),
     Column("field", "字段", width=14),
     Column("old", "原值", width=20),
     Column("new", "新值", width=20),
     Column("reason", "原因", width=30),
     Column("batch", "批次", width=12)),
    help="计划的每一次变动：导入、增补、退出、阶段转换、字段修改",
)

MAIL_LOG = SheetSpec(
    "邮件记录", "MailLog",
    (Column("time", "时间", Kind.DATETIME, required=True, width=18,
            help="收到的邮件为服务器收到它的时间（决定是否按时），发出的邮件为发送时间；北京时间"),
     Column("direction", "方向", Kind.CHOICE, required=True, choices=MAIL_DIRECTIONS, width=6,
            help="发送（填报模板）、接收（单位报送）或回复（回执）"),
     Column("period", "报告期", Kind.PERIOD, width=9, help="邮件或附件所属的报告期；无法识别的为空"),
     Column("unit", "单位", width=24, help="收件或报送的单位；接收的附件以模板中的单位为准"),
     Column("address", "对方地址", width=28, help="发件人（接收）或收件人（发送、回复）的邮箱"),
     Column("cc", "抄送", width=24, help="抄送的邮箱"),
     Column("subject", "主题", width=36),
     Column("message_id", "Message-ID", required=True, width=30, technical=True,
            help="邮件的唯一标识；同一封邮件不会被处理两次"),
     Column("attachment", "附件", width=36, help="附件文件名"),
     Column("sha256", "sha256", width=20, help="附件内容指纹；内容相同的附件只保存一次",
            technical=True),
     Column("saved_as", "保存位置", width=36, help="附件保存在收件目录中的位置"),
     Column("result", "结果", Kind.CHOICE, required=True, choices=MAIL_RESULTS, width=8),
     Column("note", "说明", width=40, help="拒收、忽略、待确认、暂存的原因，校验结论等"),
     Column("processed_at", "处理时间", Kind.DATETIME, width=18),
     Column("digest", "邮件指纹", width=20, technical=True,
            help="整封邮件内容的 sha256：沿用旧 Message-ID 重发的邮件内容不同，仍会被处理"),
     Column("ticket", "编号", Kind.INT, width=6,
            help="待确认邮件的编号，用于 zdxm mail confirm / reject")),
    help="每封发出的模板邮件、每个收到的附件（或没有附件的邮件）、每封回执一行；邮件密码不记录",
)

OUTBOX = SheetSpec(
    "发件箱", "Outbox",
    (Column("message_id", "Message-ID", required=True, width=30,
            help="这封待发邮件的 Message-ID；重试时不变，对方邮箱据此认出是同一封"),
     Column("kind", "类别", Kind.CHOICE, required=True, choices=OUTBOX_KINDS, width=8,
            help="填报模板或回执"),
     Column("created", "生成时间", Kind.DATETIME, required=True, width=18),
     Column("period", "报告期", Kind.PERIOD, width=9),
     Column("unit", "单位", width=24),
     Column("to", "收件人", required=True, width=28),
     Column("cc", "抄送", width=24),
     Column("subject", "主题", required=True, width=36),
     Column("replying_to", "回复的邮件", width=30, technical=True,
            help="回执所答复的来信的 Message-ID"),
     Column("attachment", "附件", width=30),
     Column("sha256", "sha256", width=20, help="所附填报模板的内容指纹", technical=True),
     Column("file", "邮件文件", required=True, width=30,
            help="邮件全文（.eml）在“输出目录/发件箱”中的文件名，发送成功后删除"),
     Column("state", "状态", Kind.CHOICE, required=True, choices=OUTBOX_STATES, width=8,
            help="待发送，或发送失败（每次收发时自动重试）"),
     Column("attempts", "尝试次数", Kind.INT, width=8),
     Column("last_attempt", "最近尝试", Kind.DATETIME, width=18),
     Column("error", "失败原因", width=40),
     Column("note", "说明", width=30)),
    help="已生成、尚未发出的邮件（回执和填报模板）：先记在这里再发送，发出后移入“邮件记录”；"
         "发送失败的每次收发时自动重试，zdxm mail status 列出",
)

# ---- 问题台帐: the problems units report, followed to their end (docs/问题督办.md) ---------
_PROBLEM_ID = Column("id", "问题编号", width=13,
                     help="问题的固定编号，如 WT2022-0001；在本表直接添加问题时可留空，由系统生成")
_PROBLEM_TYPE = Column("type", "问题类型", Kind.CHOICE, choices=PROBLEM_TYPES, width=10,
                       help="用地、规划、环评、资金、征地拆迁、水电路气、审批手续或其他；新问题按文字中的"
                            "关键词预填，办公室可改")
_PROBLEM_TEXT = Column("description", "问题描述", required=True, width=40,
                       help="单位报送的存在问题（没有填存在问题的，为需协调事项）")
_PROBLEM_COORDINATION = Column("coordination", "需协调事项", width=30,
                               help="单位提出需要市级层面协调解决的事项")
_PROBLEM_UNIT = Column("unit", "协调责任单位", choices_from="责任单位", width=24,
                       help="负责协调解决的单位，从“责任单位”工作表的单位中选择；督办通知发给它")
_PROBLEM_DUE = Column("due", "办理时限", Kind.DATE, width=12,
                      help="应办结的日期，如 2022-04-30；过了时限仍未办结的列入督办")
_PROBLEM_STATUS = Column("status", "状态", Kind.CHOICE, choices=PROBLEM_STATUSES, width=9,
                         help="待交办（尚未明确协调责任单位）、办理中、已办结或不再协调；填了协调责任单位的"
                              "待交办问题，保存时改为办理中")
_PROBLEM_CLOSED = Column("closed", "办结日期", Kind.DATE, width=12,
                         help="问题解决的日期；单位在月报中报告已解决的，为该报告期末")
_PROBLEM_PROGRESS = Column("progress", "最新进展", width=36,
                           help="最近一次报告的办理进展（单位在月报“问题跟踪”表填写，或办结时的说明）")
PROBLEMS = SheetSpec(
    "问题台帐", "Problems",
    (_PROBLEM_ID,
     Column("project_id", "项目编号", required=True, width=13, help="问题所属项目的项目编号"),
     Column("project_name", "项目名称", width=32, help="问题所属项目的名称（便于阅读）"),
     Column("reporter", "提出单位", width=22, help="报送这个问题的牵头单位"),
     Column("opened", "提出报告期", Kind.PERIOD, required=True, width=10,
            help="首次报送这个问题的报告期，如 2022-02"),
     _PROBLEM_TYPE, _PROBLEM_TEXT, _PROBLEM_COORDINATION, _PROBLEM_UNIT, _PROBLEM_DUE,
     _PROBLEM_STATUS, _PROBLEM_CLOSED, _PROBLEM_PROGRESS,
     Column("updated", "更新报告期", Kind.PERIOD, width=10,
            help="最近一次报送这个问题（或其进展）的报告期")),
    help="每个问题一行：各单位月报中的存在问题和需协调事项合并后自动列入，同一问题再次报送时更新这一行；"
         "办公室在本表或用 zdxm problems assign 填写问题类型、协调责任单位和办理时限。每一次变化都记入"
         "“问题办理记录”",
)
PROBLEM_LOG = SheetSpec(
    "问题办理记录", "ProblemLog",
    (Column("time", "时间", Kind.DATETIME, required=True, width=18),
     Column("problem_id", "问题编号", required=True, width=13),
     Column("project_name", "项目名称", width=32),
     Column("event", "事项", Kind.CHOICE, required=True, choices=PROBLEM_EVENTS, width=8,
            help="提出、续报、进展、交办、办结、重新办理、不再协调、督办（列入督办通知单），"
                 "或在问题台帐中直接修改"),
     Column("period", "报告期", Kind.PERIOD, width=9, help="带来这次变化的月报的报告期"),
     Column("field", "字段", width=12, help="变化的是问题台帐的哪一列"),
     Column("old", "原值", width=24),
     Column("new", "新值", width=30),
     Column("note", "说明", width=30),
     Column("operator", "操作人", width=16,
            help="报送月报的单位，或运行 zdxm 的人；在台账中直接修改的为空")),
    help="问题台帐每一次变化一行（按时间先后）：提出、续报、进展、交办、办结……可按问题编号筛选查看一个问题的经过",
)
# The form's 问题跟踪 sheet: the unit's open items, to report progress on (inputs: 最新进展,
# 是否已解决). Only 问题编号 and the inputs are read back; the rest comes from 问题台帐.
FORM_PROBLEMS = SheetSpec(
    "问题跟踪", "ProblemReturn",
    (_PROBLEM_ID,
     Column("project_id", "项目编号", width=13),
     Column("project_name", "项目名称", width=28),
     Column("opened", "提出报告期", Kind.PERIOD, width=10),
     _PROBLEM_TYPE, _PROBLEM_TEXT,
     Column("unit", "协调责任单位", width=18, help="负责协调解决的单位"),
     _PROBLEM_DUE, _PROBLEM_STATUS,
     Column("previous_progress", "上次进展", width=28, help="上次报告的办理进展"),
     Column("progress", "最新进展", width=36,
            help="本月这个问题的办理进展，如“已完成3户签约，剩余2户”；没有变化可不填"),
     Column("solved", "是否已解决", Kind.CHOICE, choices=YES_NO, width=9,
            help="问题已经解决的选“是”（请在最新进展中写明如何解决），尚未解决的选“否”")),
    help="本单位项目尚未办结的问题：每月填写最新进展，已解决的选“是”",
    inputs=("progress", "solved"),
)

SUMMARY_SHEET = "汇总"
SUMMARY = SheetSpec(
    SUMMARY_SHEET, "PlanSummary",
    (Column("stage", "阶段", width=10, help="实施项目合计、新开工、续建、竣工或预备"),
     Column("sector", "行业分类", width=10, help="合计或四类行业之一"),
     Column("count", "项目数", Kind.INT, width=8, help="在库项目个数"),
     Column("total_investment", "总投资", Kind.MONEY, unit="亿元", width=14,
            help="总投资之和，由万元精确求和后四舍五入到 0.01 亿元"),
     Column("annual_plan", "年度计划投资", Kind.MONEY, unit="亿元", width=16,
            help="年度计划投资之和（预备项目无），同样只舍入一次"),
     Column("initial_count", "年初项目数", Kind.INT, width=10,
            help="年初计划的项目数：年初批次的项目，按年初时的阶段，含其后退出的"),
     Column("initial_total_investment", "年初总投资", Kind.MONEY, unit="亿元", width=14,
            help="年初计划的总投资之和"),
     Column("initial_annual_plan", "年初年度计划投资", Kind.MONEY, unit="亿元", width=18,
            help="年初计划的年度计划投资之和")),
    help="计划汇总：按阶段和行业分类的项目数、总投资、年度计划投资（调整后，即当前在库项目），"
         "右侧为年初计划的同口径数字",
)
SETTINGS_SHEET = "设置"
SYSTEM_SHEET = "系统"  # very hidden: format version and the office's secret key
COUNTY_TABLE = SheetSpec(
    SETTINGS_SHEET, "Counties",
    (Column("county", "县区", required=True, width=28, help="本市县区（含新区），项目表下拉取自此表"),),
)

# Sheets whose whole content is one table, in the order they appear in the workbook.
MASTER_TABLES = (IMPLEMENTATION, PREPARATORY, UNITS, LEDGER, SUBMISSIONS, CHANGES, MAIL_LOG,
                 OUTBOX, PROBLEMS, PROBLEM_LOG)

# ---- 设置: one row per setting (项目 | 值 | 说明); defaults live on ``models.Settings`` ----
SETTINGS = (
    Column("year", "年度", Kind.INT, required=True, help="计划年度，如 2022"),
    Column("city", "城市名称", help="写入汇总、简报的城市名称，如 柳州市"),
    Column("current_period", "当前报告期", Kind.PERIOD, help="正在收集的报告期，如 2022-03"),
    Column("deadline_day", "截止日（次月几日）", Kind.INT,
           help="报告期次月的第几日为报送截止日，默认 5 日"),
    Column("inbox_dir", "收件目录", help="各单位报送文件的存放目录（相对台账所在目录或绝对路径）"),
    Column("output_dir", "输出目录", help="模板、简报、通报的输出目录"),
    Column("archive_dir", "归档目录", help="已处理报送文件按内容指纹归档的目录"),
    Column("bulletin_issue", "简报期数", Kind.INT, help="上一期简报的期数，下一期自动加 1"),
    Column("bulletin_log", "已出简报", help="已出简报的报告期及期数，如 2022-01=1,2022-02=2；"
           "重出同一报告期的简报沿用原期数。由程序维护"),
    Column("publisher", "编印单位", help="简报落款的编印单位，如 柳州市重大项目建设推进办公室"),
    Column("bulletin_attachments", "简报附件", Kind.CHOICE, choices=ATTACHMENT_PLACEMENTS,
           help="滞后项目名单、存在问题清单、牵头单位排名等长名单：“附在简报后”（默认，"
                "正文之后作为附件1、附件2……，每个附件另起一页），或“只放通报”（简报正文只写"
                "见同期通报）"),
    Column("previous_master", "上年台账",
           help="上一年度的台账文件（相对本台账所在目录或绝对路径）；填写后简报和通报给出"
                "同比（与上年同期比较），留空则只有环比（与上月比较）"),
    Column("benchmark_method", "时序进度方法", Kind.CHOICE,
           choices=BENCHMARK_METHODS,
           help="时序进度的算法：月数/12（默认）、月数×10%，或按“各月目标”"),
    Column("monthly_targets", "各月目标（%）", help="按月目标时，1—12 月的累计目标，用逗号分隔"),
    Column("flag_method", "预警方法", Kind.CHOICE, choices=FLAG_METHODS,
           help="红黄绿的判定：按比例（默认，完成率与时序进度之比）或按百分点（低于时序进度的百分点）"),
    Column("yellow_ratio", "黄色预警比例（%）", Kind.INT,
           help="按比例时：完成率不足时序进度的此比例为黄色，默认 80"),
    Column("red_ratio", "红色预警比例（%）", Kind.INT,
           help="按比例时：完成率不足时序进度的此比例为红色，默认 50"),
    Column("yellow_margin", "黄色预警差距（百分点）", Kind.INT,
           help="按百分点时：完成率低于时序进度超过此差距为黄色，不超过的为绿色；默认 10，"
                "填 0 则凡低于时序进度即为黄色"),
    Column("red_margin", "红色预警差距（百分点）", Kind.INT,
           help="按百分点时：完成率低于时序进度超过此差距为红色，默认 30"),
    Column("weight_investment", "考核权重：投资完成率", Kind.INT, help="考核得分中投资完成率的权重"),
    Column("weight_start", "考核权重：开工率", Kind.INT, help="考核得分中新开工项目开工率的权重"),
    Column("weight_completion", "考核权重：竣工率", Kind.INT, help="考核得分中竣工项目竣工率的权重"),
    Column("weight_timeliness", "考核权重：报送及时率", Kind.INT, help="考核得分中按时报送率的权重"),
    Column("weight_problems", "考核权重：问题办结率", Kind.INT,
           help="考核得分中问题办结率（协调责任单位办结交办问题的比例）的权重；默认 0，即不考核，"
                "填大于 0 的数后计入"),
    Column("score_ceiling", "考核：投资完成计分上限（%）", Kind.INT,
           help="投资完成率按与时序进度之比计分，最高按此比例计；默认 100（达到时序进度即得满分），"
                "可设为 100—200 以奖励超额完成"),
    Column("late_correction_on_time", "截止前报送、逾期更正计为按时", Kind.CHOICE, choices=YES_NO,
           help="截止日前报送但未通过校验、截止日后才更正通过的，是否计为按时；默认 否（计为逾期）"),
    Column("resubmit_days", "更正期限（天）", Kind.INT,
           help="截止日后才退回更正的报表，回执中要求在几天内重新报送；默认 3"),
    Column("problem_months", "问题督办月数", Kind.INT,
           help="问题提出后经过这么多个报告期仍未办结的，列入督办通知；默认 2（如 1 月提出、3 月仍未办结）"),
    Column("problem_warning_days", "问题临期提醒天数", Kind.INT,
           help="离办理时限不到这么多天、仍未办结的问题在问题台帐和督办通知中提醒（黄灯）；默认 7"),
    Column("notice_prefix", "督办通知字号",
           help="督办通知单编号的字号，如 重点办督（编号为 重点办督〔2022〕3-1号）"),
    # ---- 邮件 (docs/邮件.md); the password is never kept here: system keyring or ZDXM_MAIL_PASSWORD
    Column("mail_imap_host", "收件服务器（IMAP）", help="如 imap.example.gov.cn；须在邮箱设置中开启 IMAP"),
    Column("mail_imap_port", "收件端口", Kind.INT, help="留空按加密方式取默认值：SSL 993，STARTTLS 或无 143"),
    Column("mail_imap_security", "收件加密方式", Kind.CHOICE, choices=MAIL_SECURITY,
           help="SSL（默认）、STARTTLS 或 无；“无”只允许连接本机（密码不能明文经过网络）"),
    Column("mail_smtp_host", "发件服务器（SMTP）", help="如 smtp.example.gov.cn"),
    Column("mail_smtp_port", "发件端口", Kind.INT,
           help="留空按加密方式取默认值：SSL 465，STARTTLS 587，无 25"),
    Column("mail_smtp_security", "发件加密方式", Kind.CHOICE, choices=MAIL_SECURITY,
           help="SSL（默认）、STARTTLS 或 无；“无”只允许连接本机"),
    Column("mail_account", "邮箱账号",
           help="登录收发件服务器的账号，通常是完整邮箱地址；密码用 zdxm mail login 保存"),
    Column("mail_address", "发件地址", help="发出邮件的地址，留空时用邮箱账号"),
    Column("mail_sender_name", "发件人名称", help="收件人看到的发件人名称，留空时用编印单位"),
    Column("mail_folder", "收件文件夹", help="读取报送邮件的文件夹，默认 INBOX（收件箱）"),
    Column("mail_done_folder", "已处理文件夹",
           help="处理过的邮件移到此文件夹（不存在时自动创建）；留空则留在原处。邮件从不删除"),
    Column("mail_contact", "联系人及电话", help="写进邮件正文的联系方式，如 王五 0772-1234567"),
)
# 允许发件人: a table on 设置, right of the 县区 list (docs/邮件.md, 发件人规则).
ALLOWED_SENDERS = SheetSpec(
    SETTINGS_SHEET, "AllowedSenders",
    (Column("address", "允许发件人邮箱", required=True, width=28,
            help="除各单位登记的信息员、联络员、责任专员以外，可以自动处理其报送的邮箱"),
     Column("units", "可报送单位", Kind.UNIT_LIST, width=30,
            help="这个邮箱可以代为报送的单位，用“、”分隔；留空表示全部单位"),
     Column("note", "说明", width=24, help="这是谁，为什么允许，如“城中区重点办汇总转发”")),
    help="办公室认可的其他发件人",
)
SETTINGS_TABLE = SheetSpec(
    SETTINGS_SHEET, "Settings",
    (Column("label", "项目", required=True, width=24),
     Column("value", "值", width=36),
     Column("help", "说明", width=60)),
)
# The 校验规则 table sits in column K of 设置: A–C hold the settings, E the 县区 list, G–I
# the mail's 允许发件人 (issue 14); a blank column stands between tables.
RULE_COLUMN = 11
RULE_TABLE = SheetSpec(
    SETTINGS_SHEET, "CheckRules",
    (Column("code", "规则代码", required=True, width=9, help="校验规则的代码，见 docs/rules.md"),
     Column("title", "校验规则", width=24, help="规则的名称"),
     Column("level", "处理", Kind.CHOICE, choices=RULE_LEVELS, width=8,
            help="错误：不能合并，须改正后重报；警告：可以合并，提醒核实；不检查"),
     Column("default", "默认", width=8, help="系统的默认处理"),
     Column("help", "说明", width=40, help="规则的作用")),
    help="报送校验规则的处理方式，由办公室决定；文件安全、模板身份和无法识别的数值始终为错误，不在此表中",
)
__all__ += ["SETTINGS", "SETTINGS_TABLE", "RULE_TABLE", "RULE_COLUMN", "RULE_LEVELS",
            "FLAG_METHODS"]
