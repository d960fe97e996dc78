"""Typed records of the office's world: projects, units, settings, ledger rows.

Field names are English; each model's fields map one-to-one to the registry's columns
(``registry``), which give the Chinese headers. Money fields are ``Money``: a ``Decimal``
that refuses floats, so a float can never slip into money arithmetic.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .registry import DEFAULT_COUNTIES

__all__ = [
    "Money",
    "Stage",
    "Sector",
    "Project",
    "Unit",
    "Settings",
    "LedgerEntry",
    "Submission",
    "Change",
    "MailRecord",
]


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("金额不能用浮点数表示（请用 Decimal）")
    return value


Money = Annotated[Decimal, BeforeValidator(_no_float)]
Stage = Literal["新开工", "续建", "竣工", "预备"]
Sector = Literal["基础设施", "产业发展", "民生保障", "生态环保"]
PermitStatus = Literal["未启动", "办理中", "已办结", "不涉及"]
YesNo = Literal["是", "否"]


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
    status: Literal["在库", "已退出"] = "在库"  # 状态
    exit_date: date | None = None  # 退出日期
    exit_reason: str | None = None  # 退出原因

    @property
    def lead_unit(self) -> str:
        """牵头单位: the first 责任单位, who reports the project every month."""
        return self.units[0]

    @property
    def is_preparatory(self) -> bool:
        return self.stage == "预备"

    @property
    def active(self) -> bool:
        return self.status == "在库"


class Unit(_Record):
    """A 责任单位 with its 责任专员, 联络员 and 信息员."""

    name: str
    code: str | None = None
    commissioner_name: str | None = None
    commissioner_title: str | None = None
    commissioner_phone: str | None = None
    liaison_name: str | None = None
    liaison_title: str | None = None
    liaison_phone: str | None = None
    liaison_email: str | None = None
    informant_name: str | None = None
    informant_title: str | None = None
    informant_phone: str | None = None
    informant_email: str | None = None


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
    benchmark_method: Literal["月数/12", "月数×10%", "按月目标"] = "月数/12"
    monthly_targets: str | None = None
    yellow_margin: int = Field(default=10, ge=0)
    red_margin: int = Field(default=30, ge=0)
    weight_investment: int = 40
    weight_start: int = 20
    weight_completion: int = 20
    weight_timeliness: int = 20
    mail_imap_host: str = ""  # 收件服务器（IMAP）
    mail_imap_port: int | None = Field(default=None, ge=1, le=65535)
    mail_imap_security: Literal["SSL", "STARTTLS", "无"] = "SSL"
    mail_smtp_host: str = ""  # 发件服务器（SMTP）
    mail_smtp_port: int | None = Field(default=None, ge=1, le=65535)
    mail_smtp_security: Literal["SSL", "STARTTLS", "无"] = "SSL"
    mail_account: str = ""  # 邮箱账号 (the password lives in the keyring, never here)
    mail_address: str = ""  # 发件地址; "" = the account
    mail_sender_name: str = ""  # 发件人名称; "" = 编印单位
    mail_folder: str = "INBOX"  # 收件文件夹
    mail_done_folder: str = ""  # 已处理文件夹; "" = leave processed mail where it is
    mail_contact: str = ""  # 联系人及电话
    counties: list[str] = Field(default_factory=lambda: list(DEFAULT_COUNTIES))


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
    source_sha256: str | None = None


class Submission(_Record):
    """One row of 报送记录: a file received from a unit."""

    period: str | None = None  # None: the file's identity could not be established
    unit: str | None = None
    file_name: str
    sha256: str
    received_at: datetime
    processed_at: datetime
    result: Literal["已合并", "被替换", "未通过", "重复"]
    errors: int = 0
    warnings: int = 0
    on_time: YesNo | None = None


class Change(_Record):
    """One row of 变更记录."""

    time: datetime  # when the change was recorded
    effective: date | None = None  # 生效日期: 增补 batch date, 退出 date, 转入实施 date
    operator: str | None = None
    kind: Literal["年初导入", "增补", "退出", "阶段转换", "修改"]
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
    direction: Literal["发送", "接收", "回复"]
    period: str | None = None
    unit: str | None = None
    address: str | None = None  # the other side: sender (接收) or recipients (发送, 回复)
    cc: str | None = None
    subject: str | None = None
    message_id: str
    attachment: str | None = None
    sha256: str | None = None
    saved_as: str | None = None  # relative to 收件目录
    result: Literal["已发送", "发送失败", "已保存", "重复", "已拒收", "已忽略", "无附件", "已回复",
                    "回复失败"]
    note: str | None = None
    processed_at: datetime | None = None
