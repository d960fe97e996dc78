"""zdxm-xl（重大项目 Excel 助手）: the major-projects office's plan, monthly returns, ledger and
bulletins, from Excel's ribbon or the ``zdxm`` command.

The public API is the core: every operation is one function taking paths, tables and
settings and returning a result object; the command line and the add-in only call them.
"""

from .books.masterio import Master, create_master, load_master, save_master
from .core.errors import (
    ChangeRefused,
    InputRejected,
    MasterBusyError,
    MasterError,
    UsageError,
    ZdxmError,
)
from .core.models import Change, LedgerEntry, Project, Settings, Submission, Unit

__version__ = "0.1.0"

# The operations, one core function each (what `zdxm` and the ribbon call). They are
# imported on first use, so that `zdxm --help` does not load matplotlib or docx.
_OPERATIONS = {
    "summarize": "summary", "refresh_summary": "summary",
    "import_plan": "planio", "export_plan": "planio",
    "exit_project": "plan", "promote_project": "plan", "edit_project": "plan",
    "plan_history": "plan",
    "make_templates": "forms", "fill_template": "demo.fill",
    "check_file": "checks.returns", "validate_files": "validate",
    "merge_files": "merge", "submission_status": "merge",
    "compute_progress": "reports.progress", "make_bulletin": "bulletin",
    "assess": "assess",
    "send_templates": "mail.service", "fetch_returns": "mail.service",
    "run_demo": "demo.run",
}


def __getattr__(name: str) -> object:
    module = _OPERATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'zdxm_xl' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)

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
    *_OPERATIONS,
]
