"""Typed records of the office's world: projects, units, settings, ledger rows.

Field names are English; each model's fields map one-to-one to the registry's columns
(``registry``), which give the Chinese headers. Money fields are ``Money``: a ``Decimal``
that refuses floats, so a float can never slip into money arithmetic.

The values a field allows are enums here, each member spelt once in Chinese (the value the
office reads and types); the registry's dropdowns are derived from them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "Money",
    "Stage",
    "IMPLEMENTATION_STAGES",
    "Sector",
    "PermitStatus",
    "YesNo",
    "ProjectStatus",
    "UnitCategory",
    "SubmissionResult",
    "ChangeKind",
    "MailDirection",
    "MailResult",
    "OutboxKind",
    "OutboxState",
    "Security",
    "BenchmarkMethod",
    "AttachmentPlacement",
    "FlagMethod",
    "ReturnStatus",
    "RuleLevel",
    "ProblemType",
    "ProblemStatus",
    "OPEN_PROBLEM",
    "ProblemEvent",
    "DEFAULT_COUNTIES",
    "Project",
    "Unit",
    "Settings",
    "LedgerEntry",
    "Submission",
    "Change",
    "MailRecord",
    "OutboxEntry",
    "AllowedSender",
    "Problem",
    "ProblemChange",
]


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("金额不能用浮点数表示（请用 Decimal）")
    return value


Money = Annotated[Decimal, BeforeValidator(_no_float)]


class Stage(StrEnum):
    """阶段: 实施项目 are 新开工, 续建 or 竣工; 预备项目 are 预备."""

    NEW = "新开工"  # starts this year
    CONTINUING = "续建"  # started in an earlier year
    COMPLETING = "竣工"  # to be finished this year
    PREPARATORY = "预备"  # 前期工作 only


IMPLEMENTATION_STAGES = (Stage.NEW, Stage.CONTINUING, Stage.COMPLETING)


class Sector(StrEnum):
    """行业分类: exactly these four."""

    INFRASTRUCTURE = "基础设施"
    INDUSTRY = "产业发展"
    LIVELIHOOD = "民生保障"
    ECOLOGY = "生态环保"


class PermitStatus(StrEnum):
    """The state of one of the six 前期工作 permits."""

    NOT_STARTED = "未启动"
    IN_PROGRESS = "办理中"
    DONE = "已办结"
    NOT_NEEDED = "不涉及"


class YesNo(StrEnum):
    YES = "是"
    NO = "否"


class UnitCategory(StrEnum):
    """单位类别: units are ranked against their peers (考核, 通报)."""

    COUNTY = "县区"  # 县区人民政府、新区管委会
    DEPARTMENT = "市直部门"
    ENTERPRISE = "国有企业"


class ProjectStatus(StrEnum):
    """状态: a project is never deleted; 退出 marks it."""

    ACTIVE = "在库"
    EXITED = "已退出"


class SubmissionResult(StrEnum):
    """结果 of a received file in 报送记录."""

    MERGED = "已合并"
    REPLACED = "被替换"  # merged once, then replaced by the unit's later file
    REFUSED = "未通过"
    DUPLICATE = "重复"


class ChangeKind(StrEnum):
    """变更类型 in 变更记录."""

    INITIAL = "年初导入"
    ADDITION = "增补"
    EXIT = "退出"
    PROMOTION = "阶段转换"  # 预备 → 新开工
    EDIT = "修改"


class MailDirection(StrEnum):
    SENT = "发送"  # a form to a unit
    RECEIVED = "接收"  # a unit's mail
    REPLY = "回复"  # the 回执


class MailResult(StrEnum):
    """What became of a mail: 已发送/发送失败 a form; 已保存 … 无附件 a received attachment
    (or a message without one); 已回复/回复失败 the answer with the 回执."""

    SENT = "已发送"
    SEND_FAILED = "发送失败"
    SAVED = "已保存"
    DUPLICATE = "重复"
    REFUSED = "已拒收"
    IGNORED = "已忽略"
    NO_ATTACHMENT = "无附件"
    REPLIED = "已回复"
    REPLY_FAILED = "回复失败"
    # A received message not processed automatically (docs/邮件.md, 发件人规则):
    PENDING = "待确认"  # its sender is not registered for the unit: waits for the office
    DECLINED = "不予受理"  # the office declined a 待确认 message
    HELD = "暂存"  # a return for a later 报告期, kept until that period is collected


class OutboxKind(StrEnum):
    """What a message waiting in the outbox (发件箱) is."""

    FORM = "填报模板"
    RECEIPT = "回执"


class OutboxState(StrEnum):
    """A message of the outbox: waiting, or tried and failed (tried again on every run).
    Sent and cancelled messages leave the outbox; 邮件记录 keeps the sent ones."""

    QUEUED = "待发送"
    FAILED = "发送失败"
    SENT = "已发送"
    CANCELLED = "已取消"


class Security(StrEnum):
    """How a mail server connection is encrypted."""

    SSL = "SSL"
    STARTTLS = "STARTTLS"
    NONE = "无"  # loopback only


class BenchmarkMethod(StrEnum):
    """时序进度: how the share of the year due by a month is worked out."""

    MONTHS = "月数/12"
    TEN_PERCENT = "月数×10%"
    TARGETS = "按月目标"


class AttachmentPlacement(StrEnum):
    """简报附件: where the 简报's long lists (滞后项目, 存在问题, 牵头单位排名) go."""

    BULLETIN = "附在简报后"  # 附件1, 附件2 … after the body, each on a new page
    NOTICE_ONLY = "只放通报"  # the body says they are in the same month's 通报 (Excel)


class FlagMethod(StrEnum):
    """红黄绿: how far behind the 时序进度 a completion rate may fall before it turns 黄 or 红."""

    RATIO = "按比例"  # 完成率 as a share of the 时序进度 (黄 below 80 %, 红 below 50 %)
    POINTS = "按百分点"  # percentage points below the 时序进度 (黄 beyond 10, 红 beyond 30)


class ReturnStatus(StrEnum):
    """报送状态 of a 牵头单位 for a 报告期: the one definition status, 简报, 通报, 考核 and mail use."""

    ON_TIME = "按时"  # a return that passed the checks, received by the 截止日
    LATE = "逾期"  # a return that passed, received after the 截止日
    REFUSED = "未通过"  # files received, none passed
    MISSING = "未报送"  # nothing received


class RuleLevel(StrEnum):
    """How the office wants a checking rule applied (设置, 校验规则)."""

    ERROR = "错误"  # the file is not merged
    WARNING = "警告"  # merged, the unit is asked to check
    OFF = "不检查"


class ProblemType(StrEnum):
    """问题类型 of a 问题台帐 item: the 要素 the seed's 工作措施（三） asks departments to
    solve first (审批, 资金, 用地, 征地拆迁, 水电) and what is left."""

    LAND = "用地"
    PLANNING = "规划"
    ENVIRONMENT = "环评"
    FUNDS = "资金"
    DEMOLITION = "征地拆迁"
    UTILITIES = "水电路气"
    APPROVAL = "审批手续"
    OTHER = "其他"


class ProblemStatus(StrEnum):
    """状态 of a 问题台帐 item."""

    WAITING = "待交办"  # raised by a unit; the office has not named a 协调责任单位 yet
    HANDLING = "办理中"  # with its 协调责任单位, until its 办理时限
    CLOSED = "已办结"  # solved (办结日期)
    DROPPED = "不再协调"  # no longer followed (the project left the plan, a duplicate …)


OPEN_PROBLEM = (ProblemStatus.WAITING, ProblemStatus.HANDLING)


class ProblemEvent(StrEnum):
    """事项 of a row of 问题办理记录: what happened to a 问题台帐 item."""

    RAISED = "提出"  # from a unit's 存在问题 / 需协调事项 (or added in the sheet)
    REPORTED = "续报"  # the unit reported the same problem again, in other words
    PROGRESS = "进展"  # the unit's 最新进展 in its form's 问题跟踪 sheet
    ASSIGNED = "交办"  # the office named the 协调责任单位, 办理时限 or 问题类型
    CLOSED = "办结"
    REOPENED = "重新办理"
    DROPPED = "不再协调"
    EDITED = "修改"  # changed by hand in the 问题台帐 sheet
    SUPERVISED = "督办"  # named in a 督办通知单


# Liuzhou's 县区, written into a new master's 设置 sheet; the office keeps the list there.
DEFAULT_COUNTIES = (
    "城中区", "鱼峰区", "柳南区", "柳北区", "柳江区", "柳城县", "鹿寨县", "融安县",
    "融水苗族自治县", "三江侗族自治县", "柳东新区", "阳和工业新区（北部生态新区）",
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Project(_Record):
    """A 重大项目 of the year's plan: 实施 (新开工/续建/竣工) or 预备."""

    id: str  # 项目编号: stable key
    code: str | None = None  # 项目代码 (national code)
    name: str  # 项目名称
    stage: Stage  # 阶段
    sector: Sector  # 行业分类
    county: str | None = None  # 县区
    content: str | None = None  # 建设内容及规模
    years: tuple[int, int] | None = None  # 建设起止年限
    total_investment: Money  # 总投资 (万元)
    prior_completed: Money | None = None  # 截至上年底累计完成投资 (万元)
    annual_plan: Money | None = None  # 年度计划投资 (万元), 实施 only
    annual_content: str | None = None  # 年度建设内容
    planned_start: date | None = None  # 计划开工时间 (month)
    planned_end: date | None = None  # 计划竣工时间 (month)
    units: list[str] = Field(min_length=1)  # 责任单位, the first is the 牵头单位
    owner: str | None = None  # 项目业主
    agent: str | None = None  # 代建单位
    batch: str = "年初"  # 批次
    batch_date: date | None = None  # 批次日期: when a 增补 batch joined the plan
    status: ProjectStatus = ProjectStatus.ACTIVE  # 状态
    exit_date: date | None = None  # 退出日期
    exit_reason: str | None = None  # 退出原因

    @property
    def lead_unit(self) -> str:
        """牵头单位: the first 责任单位, who reports the project every month."""
        return self.units[0]

    @property
    def is_preparatory(self) -> bool:
        return self.stage is Stage.PREPARATORY

    @property
    def active(self) -> bool:
        return self.status is ProjectStatus.ACTIVE


class Unit(_Record):
    """A 责任单位 with its 责任专员, 联络员 and 信息员."""

    name: str
    code: str | None = None
    category: UnitCategory | None = None  # 单位类别
    commissioner_name: str | None = None
    commissioner_title: str | None = None
    commissioner_phone: str | None = None
    commissioner_email: str | None = None
    liaison_name: str | None = None
    liaison_title: str | None = None
    liaison_phone: str | None = None
    liaison_email: str | None = None
    informant_name: str | None = None
    informant_title: str | None = None
    informant_phone: str | None = None
    informant_email: str | None = None


class AllowedSender(_Record):
    """One row of the 允许发件人 table on 设置: an address the office trusts to send returns
    for ``units`` (all units when empty), e.g. a 县区重点办 that forwards its units' forms."""

    address: str
    units: list[str] = Field(default_factory=list)
    note: str | None = None


class Settings(_Record):
    """设置: what the office may change without touching code."""

    year: int
    city: str = ""
    current_period: str | None = None
    deadline_day: int = Field(default=5, ge=1, le=28)
    inbox_dir: str = "收件"
    output_dir: str = "输出"
    archive_dir: str = "归档"
    bulletin_issue: int = 0
    bulletin_log: str | None = None  # 已出简报: 2022-01=1,2022-02=2
    publisher: str = "市重大项目建设推进办公室"
    bulletin_attachments: AttachmentPlacement = AttachmentPlacement.BULLETIN  # 简报附件
    previous_master: str = ""  # 上年台账: last year's master, for 同比; "" = none
    benchmark_method: BenchmarkMethod = BenchmarkMethod.MONTHS
    monthly_targets: str | None = None
    flag_method: FlagMethod = FlagMethod.RATIO
    yellow_ratio: int = Field(default=80, ge=0, le=100)  # 黄 below this % of the 时序进度
    red_ratio: int = Field(default=50, ge=0, le=100)  # 红 below this % of the 时序进度
    yellow_margin: int = Field(default=10, ge=0)
    red_margin: int = Field(default=30, ge=0)
    weight_investment: int = 40
    weight_start: int = 20
    weight_completion: int = 20
    weight_timeliness: int = 20
    weight_problems: int = 0  # 问题办结率: 0 until the office turns it on
    problem_months: int = Field(default=2, ge=1, le=12)  # 问题督办月数: open this long → 督办
    problem_warning_days: int = Field(default=7, ge=0, le=60)  # 问题临期提醒天数
    notice_prefix: str = "重点办督"  # 督办通知字号: 重点办督〔2022〕3-1号
    score_ceiling: int = Field(default=100, ge=100, le=200)  # 投资完成率 vs 时序进度 scored up to
    late_correction_on_time: YesNo = YesNo.NO  # a failed file corrected after the 截止日: 按时?
    resubmit_days: int = Field(default=3, ge=1, le=30)  # after the 截止日: days to correct
    mail_imap_host: str = ""  # 收件服务器（IMAP）
    mail_imap_port: int | None = Field(default=None, ge=1, le=65535)
    mail_imap_security: Security = Security.SSL
    mail_smtp_host: str = ""  # 发件服务器（SMTP）
    mail_smtp_port: int | None = Field(default=None, ge=1, le=65535)
    mail_smtp_security: Security = Security.SSL
    mail_account: str = ""  # 邮箱账号 (the password lives in the keyring, never here)
    mail_address: str = ""  # 发件地址; "" = the account
    mail_sender_name: str = ""  # 发件人名称; "" = 编印单位
    mail_folder: str = "INBOX"  # 收件文件夹
    mail_done_folder: str = ""  # 已处理文件夹; "" = leave processed mail where it is
    mail_contact: str = ""  # 联系人及电话
    # 允许发件人: addresses besides the units' own contacts whose mail is processed without
    # the office confirming it (kept in a table on 设置, beside the 县区)
    mail_allowed: list[AllowedSender] = Field(default_factory=list)
    counties: list[str] = Field(default_factory=lambda: list(DEFAULT_COUNTIES))
    # 校验规则: code → how the office applies it; a code not listed keeps its default.
    rule_levels: dict[str, RuleLevel] = Field(default_factory=dict)


class LedgerEntry(_Record):
    """One row of 月报台帐: what a unit reported for one project in one 报告期."""

    period: str
    project_id: str
    project_name: str | None = None
    unit: str | None = None
    month_completed: Money | None = None
    year_completed: Money | None = None
    total_completed: Money | None = None
    started: YesNo | None = None
    start_date: date | None = None
    completed: YesNo | None = None
    end_date: date | None = None
    progress: str | None = None
    permit_investment: PermitStatus | None = None
    permit_planning: PermitStatus | None = None
    permit_land: PermitStatus | None = None
    permit_environment: PermitStatus | None = None
    permit_energy: PermitStatus | None = None
    permit_construction: PermitStatus | None = None
    planned_start: date | None = None
    preparation: str | None = None
    problems: str | None = None
    coordination: str | None = None
    explanation: str | None = None  # 情况说明 of an unusual figure
    source_sha256: str | None = None


class Submission(_Record):
    """One row of 报送记录: a file received from a unit."""

    period: str | None = None  # None: the file's identity could not be established
    unit: str | None = None
    file_name: str
    sha256: str
    received_at: datetime
    processed_at: datetime
    result: SubmissionResult
    errors: int = 0
    warnings: int = 0
    on_time: YesNo | None = None
    note: str | None = None  # 说明: which file replaced this one, or that it was taken again


class Change(_Record):
    """One row of 变更记录."""

    time: datetime  # when the change was recorded
    effective: date | None = None  # 生效日期: 增补 batch date, 退出 date, 转入实施 date
    operator: str | None = None
    kind: ChangeKind
    project_id: str | None = None
    project_name: str | None = None
    field: str | None = None
    old: str | None = None
    new: str | None = None
    reason: str | None = None
    batch: str | None = None


class MailRecord(_Record):
    """One row of 邮件记录: a template sent, an attachment received (or a message without
    one), or a 回执 sent back."""

    time: datetime  # received (the server's INTERNALDATE) or sent; 北京时间
    direction: MailDirection
    period: str | None = None
    unit: str | None = None
    address: str | None = None  # the other side: sender (接收) or recipients (发送, 回复)
    cc: str | None = None
    subject: str | None = None
    message_id: str
    attachment: str | None = None
    sha256: str | None = None
    saved_as: str | None = None  # relative to 收件目录
    result: MailResult
    note: str | None = None
    processed_at: datetime | None = None
    digest: str | None = None  # 邮件指纹: sha256 of the whole received message
    ticket: int | None = None  # 编号 of a 待确认 message (zdxm mail confirm/reject 编号)


class OutboxEntry(_Record):
    """One row of 发件箱: a message composed and kept (as an .eml file in the outbox folder)
    until it is sent. Composing it and recording it come before the mail it answers counts
    as processed, so no receipt is lost whatever stops a run."""

    message_id: str  # the outgoing message's Message-ID: the entry's key
    kind: OutboxKind
    created: datetime
    period: str | None = None
    unit: str | None = None
    to: str
    cc: str | None = None
    subject: str
    replying_to: str | None = None  # Message-ID of the received mail a 回执 answers
    attachment: str | None = None
    sha256: str | None = None  # of the attached template (填报模板)
    file: str  # the .eml in the outbox folder
    state: OutboxState = OutboxState.QUEUED
    attempts: int = 0
    last_attempt: datetime | None = None
    error: str | None = None
    note: str | None = None


class Problem(_Record):
    """One row of 问题台帐: a problem a unit reported, followed until it is solved."""

    id: str  # 问题编号: stable key, WT2022-0001
    project_id: str  # 项目编号
    project_name: str | None = None  # 项目名称
    reporter: str | None = None  # 提出单位: the 牵头单位 that reported it
    opened: str  # 提出报告期
    type: ProblemType = ProblemType.OTHER  # 问题类型
    description: str  # 问题描述
    coordination: str | None = None  # 需协调事项
    unit: str | None = None  # 协调责任单位: who is to solve it (the office names it)
    due: date | None = None  # 办理时限
    status: ProblemStatus = ProblemStatus.WAITING  # 状态
    closed: date | None = None  # 办结日期
    progress: str | None = None  # 最新进展
    updated: str | None = None  # 更新报告期: the 报告期 of the last report on it

    @property
    def open(self) -> bool:
        return self.status in OPEN_PROBLEM


class ProblemChange(_Record):
    """One row of 问题办理记录: one field of one 问题台帐 item changed (or the item raised)."""

    time: datetime
    problem_id: str  # 问题编号
    project_name: str | None = None
    event: ProblemEvent  # 事项
    period: str | None = None  # 报告期 of the return that brought the change
    field: str | None = None  # 字段 (the 问题台帐 header)
    old: str | None = None  # 原值
    new: str | None = None  # 新值
    note: str | None = None  # 说明
    operator: str | None = None  # 操作人: a unit (its return), or who ran zdxm
