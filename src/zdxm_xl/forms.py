"""填报模板 (forms): one workbook per 牵头单位 per 报告期, made from the master.

The office's operation behind ``zdxm templates`` and the ribbon's 生成模板: load the master
once, write every unit's form (``reports.forms``), and return where they are.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from pathlib import Path

from pydantic.dataclasses import dataclass

from .books.masterio import open_store
from .core.master import MasterStore
from .core.periods import plan_period
from .core.problems import reconcile
from .core.results import RESULT
from .core.returns import expected_returns, last_reported, previous_figures
from .core.workspace import Workspace
from .reports.forms import form_name, write_form

__all__ = ["FormsResult", "make_forms"]


@dataclass(config=RESULT)
class FormsResult:
    """The forms written for a 报告期: files and the units they are for, in order."""

    period: str
    files: list[Path] = field(default_factory=list)
    units: list[str] = field(default_factory=list)


def make_forms(master_store: MasterStore | Path | str, period: str,
               out_dir: Path | str | None = None, unit: str | None = None,
               issued: datetime | None = None) -> FormsResult:
    """Write one form per 牵头单位 (or just ``unit``) for ``period`` into ``out_dir``
    (default: the workspace's 输出/模板/报告期)."""
    store = open_store(master_store)
    master = store.load()
    period = plan_period(period, master.year)
    issued_at = (issued or datetime.now()).replace(microsecond=0)
    # 问题台帐 as the office left it: an item closed by typing its 办结日期 is not sent out
    # as open (kept in the history when the master is saved, as here for new ids)
    reconcile(master, issued_at)
    if master.ids_assigned:
        with store.session():  # the ids in the forms must be the ones the master keeps
            store.save(master)
    expected = expected_returns(master, period, [unit] if unit is not None else [])
    workspace = Workspace(store.folder, master.settings)
    out = Path(out_dir) if out_dir is not None else workspace.forms(period)
    out.mkdir(parents=True, exist_ok=True)
    figures, previous = previous_figures(master, period), last_reported(master, period)
    result = FormsResult(period)
    for name, projects in expected.items():
        path = out / form_name(period, name)
        write_form(master, name, projects, period, path, issued_at, figures, previous)
        result.files.append(path)
        result.units.append(name)
    return result
