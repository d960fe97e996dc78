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
"""

from __future__ import annotations

__all__ = ["ZdxmError", "UsageError", "MasterError", "MasterBusyError", "MailError", "InputRejected",
           "ChangeRefused"]


class ZdxmError(Exception):
    """Base of every error that stops an operation; ``str(err)`` is the Chinese message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ZdxmError):
    """The command was called with arguments that cannot work."""


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
