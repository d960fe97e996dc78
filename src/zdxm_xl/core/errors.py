"""The one error tree of zdxm-xl.

Findings about a returned file are data (see ``findings``), not exceptions: an exception
here means an operation could not run at all. Every message is Chinese and meant for the
office staff; the CLI prints it on one line, the add-in shows it in a message box.

    ZdxmError                 基类：exit_code 决定命令的退出码
    ├── UsageError            参数有误（2）
    ├── MasterError           台账打不开、不是台账、结构被改坏（2）
    │   └── MasterBusyError   台账正被 Excel/WPS 打开或被另一个命令占用（2）
    ├── MailError             邮箱设置不全、连不上邮件服务器、登录失败（2）
    └── InputRejected         输入文件（如计划表）被拒绝，台账未改动（1）
        └── ChangeRefused     计划变更不符合规则（如项目已退出），台账未改动（1）

The message says what is wrong in words that suit every front end. Where the user must
give or fix an input, ``field`` names it (``Field``), and where another action helps,
``remedy`` names that (``Remedy``); each front end words those its own way — the command
line names its option (``--period``), the add-in the place in 设置 or the button — so no
option name reaches a message box and no button name reaches the command line.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Field", "Remedy", "ZdxmError", "UsageError", "MasterError", "MasterBusyError",
           "MailError", "InputRejected", "ChangeRefused"]


class Field(StrEnum):
    """An input an operation takes, whatever front end supplies it."""

    PERIOD = "period"  # 报告期
    FIRST_PERIOD = "first_period"  # 考核起始报告期
    LAST_PERIOD = "last_period"  # 考核截止报告期
    DATE = "date"  # 生效日期 / 批次日期 / 印发日期
    RECEIVED = "received"  # 接收日期
    REASON = "reason"  # 退出原因
    ANNUAL_PLAN = "annual_plan"  # 年度计划投资
    PLANNED_START = "planned_start"  # 计划开工时间
    BATCH = "batch"  # 增补批次名
    VALUES = "values"  # 要修改的字段
    PROJECT = "project"  # 项目编号
    UNIT = "unit"  # 单位
    FILES = "files"  # 报送文件或计划表
    OUTPUT = "output"  # 输出文件或文件夹
    TEMPLATE = "template"  # 简报/通报模板
    YEAR = "year"  # 计划年度
    MESSAGE = "message"  # 待确认邮件的编号
    PREVIOUS = "previous"  # 上年台账（同比）
    PROBLEM = "problem"  # 问题编号
    DUE = "due"  # 办理时限
    PROBLEM_TYPE = "problem_type"  # 问题类型
    STATUS = "status"  # 问题状态（列出问题时）
    HANDLER = "handler"  # 协调责任单位


class Remedy(StrEnum):
    """Something the user can do that helps, named by the front end in its own terms."""

    CREATE_MASTER = "create_master"  # 新建台账
    MAIL_LOGIN = "mail_login"  # 保存邮箱密码
    EXIT_PROJECT = "exit_project"  # 项目退出
    PROMOTE_PROJECT = "promote_project"  # 预备项目转入实施
    LIST_FIELDS = "list_fields"  # 查看模板字段
    IMPORT_BATCH = "import_batch"  # 以增补批次导入


class ZdxmError(Exception):
    """Base of every error that stops an operation; ``str(err)`` is the Chinese message."""

    exit_code = 2

    def __init__(self, message: str, *, field: Field | None = None, value: object = None,
                 remedy: Remedy | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.remedy = remedy

    def __str__(self) -> str:
        return self.message


class UsageError(ZdxmError):
    """The operation was asked for something that cannot work (a bad period, a missing
    reason); ``field`` names the input at fault."""


class MasterError(ZdxmError):
    """The master workbook (台账) is missing, unreadable or not a zdxm master."""


class MasterBusyError(MasterError):
    """The master is open in Excel/WPS/LibreOffice, or another zdxm command holds it."""


class MailError(ZdxmError):
    """Mail could not be sent or fetched at all: settings incomplete, server unreachable,
    login refused. (One odd message is never an error: it is logged and reported.)"""


class InputRejected(ZdxmError):
    """An input file was read but refused as a whole; nothing was changed."""

    exit_code = 1


class ChangeRefused(InputRejected):
    """A change of the plan that its rules do not allow (a project already exited, a project
    that is not 预备 promoted); nothing was changed."""
