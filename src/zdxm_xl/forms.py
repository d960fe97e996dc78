"""填报模板 (forms): one workbook per 牵头单位 per 报告期, made from the master.

The office's operation behind ``zdxm templates`` and the ribbon's 生成模板: load the master
once, write every unit's form (``reports.forms``), and return where they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic.dataclasses import dataclass

from .books.masterio import open_store
from .core.master import Master, MasterStore
from .core.models import LedgerEntry, Project
from .core.periods import plan_period
from .core.problems import reconcile
from .core.results import RESULT
from .core.returns import expected_returns, last_reported, previous_figures
from .core.workspace import Workspace
from .reports.forms import form_name, write_form
from .reports.writers import write_each

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
    shared = _Shared(master, period, issued_at, previous_figures(master, period),
                     last_reported(master, period))
    jobs = [(name, projects, out / form_name(period, name)) for name, projects in expected.items()]
    write_each(_write, shared, jobs)  # writer processes write some, for many units
    return FormsResult(period, [path for _name, _projects, path in jobs], list(expected))


@dataclasses.dataclass(frozen=True)
class _Shared:
    """What every form of the period is written from."""

    master: Master
    period: str
    issued: datetime
    figures: dict[str, tuple[Decimal, Decimal]]
    previous: dict[str, LedgerEntry]


def _write(shared: _Shared, job: tuple[str, list[Project], Path]) -> None:
    name, projects, path = job
    write_form(shared.master, name, projects, shared.period, path, shared.issued, shared.figures,
               shared.previous)
