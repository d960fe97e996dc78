"""zdxm-xl（重大项目 Excel 助手）: the major-projects office's plan, monthly returns, ledger and
bulletins, from Excel's ribbon or the ``zdxm`` command.

The public API is the operations: each is one function taking a master store (or the path
of a master file) and plain inputs and returning a typed result; the command line and the
add-in only call them. Everything is imported on first use, so that ``zdxm --version``
loads nothing and ``zdxm --help`` does not load openpyxl, matplotlib or docx.

The package is layered (docs/架构.md): ``core`` (records, rules, money, periods — no file
formats), ``books`` (the gateway to workbooks), ``checks`` (the one gate for files from
outside), ``reports`` (computed views and the writers of documents), ``mail``, the
operation modules (``plan``, ``forms``, ``validate``, ``merge``, ``status``, ``summary``,
``bulletin``, ``assess``), and the front ends (``frontends.cli``, ``frontends.addin``).
"""

from __future__ import annotations

__version__ = "0.1.0"

# Public name → the module that defines it.
_EXPORTS = {
    "ZdxmError": "core.errors", "UsageError": "core.errors", "MasterError": "core.errors",
    "MasterBusyError": "core.errors", "MailError": "core.errors", "InputRejected": "core.errors",
    "ChangeRefused": "core.errors",
    "Master": "core.master", "MasterStore": "core.master", "MemoryStore": "core.master",
    "Project": "core.models", "Unit": "core.models", "Settings": "core.models",
    "LedgerEntry": "core.models", "Submission": "core.models", "Change": "core.models",
    "Workspace": "core.workspace", "to_json": "core.results",
    "create_master": "books.masterio", "load_master": "books.masterio",
    "save_master": "books.masterio", "FileStore": "books.masterio", "open_store": "books.masterio",
    # the operations (what `zdxm` and the ribbon call)
    "summarize": "core.summary", "plan_summary": "summary", "refresh_summary": "summary",
    "import_plan": "plan", "export_plan": "plan", "exit_project": "plan",
    "promote_project": "plan", "edit_project": "plan", "plan_history": "plan",
    "make_forms": "forms", "validate_files": "validate", "check_file": "checks.returns",
    "merge_files": "merge", "report_status": "status", "compute_progress": "reports.progress",
    "make_bulletin": "bulletin", "assess": "assess",
    "send_forms": "mail.service", "fetch_returns": "mail.service",
    "fill_form": "demo.fill", "run_demo": "demo.run",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zdxm_xl' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = ["__version__", *_EXPORTS]
