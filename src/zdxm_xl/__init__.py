"""zdxm-xl（重大项目 Excel 助手）: the major-projects office's plan, monthly returns, ledger and
bulletins, from Excel's ribbon or the ``zdxm`` command.

The public API is the core: every operation is one function taking paths, tables and
settings and returning a result object; the command line and the add-in only call them.
"""

from .errors import (
    ChangeRefused,
    InputRejected,
    MasterBusyError,
    MasterError,
    UsageError,
    ZdxmError,
)
from .master import Master, create_master, load_master, save_master
from .models import Change, LedgerEntry, Project, Settings, Submission, Unit

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "ZdxmError",
    "UsageError",
    "MasterError",
    "MasterBusyError",
    "InputRejected",
    "ChangeRefused",
    "Master",
    "create_master",
    "load_master",
    "save_master",
    "Project",
    "Unit",
    "Settings",
    "LedgerEntry",
    "Submission",
    "Change",
]
