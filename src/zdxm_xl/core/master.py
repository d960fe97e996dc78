"""The Master aggregate — everything the master workbook (台账) holds, as records — and the
``MasterStore`` protocol: where a master is kept.

A store is a file (``books.FileStore``, for the command line), the workbook open in Excel
(``books.BookStore``, for the add-in) or memory (``MemoryStore``, for tests and tools). An
operation takes a store, calls ``load`` once, changes the master, and ``save``s it at most
once, inside ``session`` when it writes. Whatever the store, a save also rewrites the
derived 汇总 sheet (``summary``), so the summary is never stale.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .errors import Field, MasterError
from .ledger import Ledger
from .models import (
    Change,
    MailRecord,
    OutboxEntry,
    Problem,
    ProblemChange,
    Project,
    Settings,
    Submission,
    Unit,
)

__all__ = ["Master", "new_master", "MasterStore", "MemoryStore", "PROJECT_ID"]

PROJECT_ID = re.compile(r"^ZD(\d{4})-(\d{4,})$")


@dataclass
class Master:
    """Everything in the master workbook, as records."""

    settings: Settings
    secret: str  # hex key for form fingerprints; never written outside the master
    projects: list[Project] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)  # 月报台帐 (a list of records is made one)
    submissions: list[Submission] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    mail_log: list[MailRecord] = field(default_factory=list)  # 邮件记录
    outbox: list[OutboxEntry] = field(default_factory=list)  # 发件箱: mail not yet sent
    problems: list[Problem] = field(default_factory=list)  # 问题台帐
    problem_log: list[ProblemChange] = field(default_factory=list)  # 问题办理记录
    ids_assigned: bool = False  # 项目编号 were generated while reading: save to keep them

    def __setattr__(self, name: str, value: object) -> None:
        if name == "ledger" and not isinstance(value, Ledger):
            value = Ledger(value)  # type: ignore[arg-type]  # records, whatever holds them
        super().__setattr__(name, value)

    @property
    def year(self) -> int:
        return self.settings.year

    @property
    def implementation(self) -> list[Project]:
        """实施项目 (新开工, 续建, 竣工), in the order of the workbook."""
        return [p for p in self.projects if not p.is_preparatory]

    @property
    def preparatory(self) -> list[Project]:
        """预备项目."""
        return [p for p in self.projects if p.is_preparatory]

    def project(self, project_id: str) -> Project:
        for project in self.projects:
            if project.id == project_id:
                return project
        raise KeyError(project_id)

    def unit(self, name: str) -> Unit | None:
        return next((u for u in self.units if u.name == name), None)

    def next_project_id(self) -> str:
        """The next free 项目编号, ``ZD{年度}-{序号}``; numbers are never reused."""
        return next(self.free_project_ids())

    def free_project_ids(self) -> Iterator[str]:
        """The free 项目编号 in turn, after the highest taken this year: for numbering
        many new projects with one look through the master (projects numbered meanwhile
        must take theirs from here)."""
        highest = 0
        for project in self.projects:
            match = PROJECT_ID.match(project.id)
            if match and int(match.group(1)) == self.year:
                highest = max(highest, int(match.group(2)))
        for number in itertools.count(highest + 1):
            yield f"ZD{self.year}-{number:04d}"

    def ensure_units(self, names: Iterable[str]) -> list[str]:
        """Add the units not yet in 责任单位 (by exact name), each once however often it is
        named; return the added names in the order first named."""
        known = {u.name for u in self.units}
        added: list[str] = []
        for name in names:
            if name not in known:
                self.units.append(Unit(name=name))
                known.add(name)
                added.append(name)
        return added


def new_master(year: int) -> Master:
    """An empty master for ``year`` with a fresh secret key."""
    if not 2000 <= year <= 2100:
        raise MasterError(f"年度“{year}”不合理，请写四位年份，如 2022。", field=Field.YEAR,
                          value=year)
    return Master(settings=Settings(year=year), secret=secrets.token_hex(32))


class MasterStore(Protocol):
    """Where the master is kept. Operations call ``load`` once and ``save`` at most once,
    inside ``session`` when they write."""

    @property
    def name(self) -> str: ...

    @property
    def folder(self) -> Path:
        """The folder that relative directories in 设置 (收件, 归档, 输出) are relative to."""
        ...

    def load(self) -> Master: ...

    def save(self, master: Master, ready: Callable[[], object] | None = None) -> None:
        """Keep ``master`` — every table, and the 汇总 derived from it. ``ready`` is called
        once the new master is written and found good, just before it is kept: what the
        master will say is done (the merge's archive copies, begun beside the writing) is
        done by then, and the master is not kept if it raises. It may be called again after
        a write that could not be finished is made anew: it returns at once then."""
        ...

    def session(self) -> AbstractContextManager[object]:
        """Exclusive use for an operation that writes (lock, not open elsewhere)."""
        ...


class MemoryStore:
    """A master kept in memory (``MasterStore``): ``load`` hands out a copy and ``save``
    keeps a copy, so an operation that fails half-way leaves ``master`` as it was."""

    def __init__(self, master: Master, folder: Path | str = ".", name: str = "台账.xlsx") -> None:
        self.master = copy.deepcopy(master)  # as last saved
        self._folder = Path(folder)
        self._name = name
        self.saves = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def folder(self) -> Path:
        return self._folder

    def load(self) -> Master:
        return copy.deepcopy(self.master)

    def save(self, master: Master, ready: Callable[[], object] | None = None) -> None:
        if ready is not None:
            ready()
        master.ids_assigned = False
        self.master = copy.deepcopy(master)
        self.saves += 1

    def session(self) -> AbstractContextManager[object]:
        return contextlib.nullcontext()
