"""Checking a returned template (SPEC §3). Checking never changes the master.

``check_file`` vets the file (``vetting``), establishes its identity (hidden sheet, HMAC),
finds columns by header text, and checks rows and values against the plan and the ledger's
previous 报告期. Every problem becomes a ``Finding`` with a rule code (declared in
``core.returnrules``); an error blocks the merge of the whole file, a warning does not. The
rows it read come back with the report, and a merge makes its ledger entries of them.

Three habits keep the findings trustworthy for a 信息员:

* **One mistake, one finding.** A figure that follows from another one (本年累计 and
  开工以来累计 from 本月完成, as the form's formulas compute them) is not reported again when
  the figure it follows from is already wrong, nor is a rule judged on a cell that could not
  be read (“已开工” typed for 是 is not also “开工不能撤回”).
* **Impossible and implausible money.** A figure that cannot be true (beyond the 总投资) is an
  error; one that is possible but unlikely (本月完成 above the year's plan, or many times the
  project's usual month) is an error unless the row explains it in 情况说明, and then a
  warning. Where dividing by 10 000 makes the figure sensible, the message asks “是否误填为元？”.
* **The office decides.** Each adjustable rule applies as 设置's 校验规则 table says (错误,
  警告 or 不检查).
"""

from __future__ import annotations

import contextlib
import enum
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, computed_field
from pydantic.dataclasses import dataclass as result

from ..core.cells import a1, clean_text, format_date, format_month, parse_date, parse_month
from ..core.errors import UsageError
from ..core.findings import Finding, Severity, finding, with_level
from ..core.identity import FORM_VERSION, IDENTITY_SHEET, Identity
from ..core.master import Master
from ..core.models import LedgerEntry, Project, RuleLevel, Stage, YesNo
from ..core.money import (
    WAN_PER_YI,
    AmountError,
    from_cell,
    parse_amount,
    round_half_up,
    tidy_amount,
)
from ..core.pauses import no_collection_pauses
from ..core.periods import period_end, period_month, plan_period
from ..core.problems import ProblemIndex, TrackingUpdate, closed_by_return
from ..core.registry import (
    FORM_CONTACTS,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    FORM_PROBLEMS,
    Column,
    Kind,
    SheetSpec,
)
from ..core.results import RESULT, Hidden
from ..core.returnrules import level_of, severity_for
from ..core.returns import expected_returns, last_reported, previous_figures
from ..core.tables import header_index, is_blank_row
from .batch import Examination, examine_all
from .formshape import form_extents, form_values, shape_findings
from .vetting import Examined, Vetted, examine

__all__ = ["FileReport", "CheckContext", "check_file", "check_files", "begin_checking",
           "collect_files", "find_header", "RETURN_SUFFIXES",
           "unit_in_name", "SPIKE_TIMES", "SPIKE_SHARE"]

E, W = Severity.ERROR, Severity.WARNING
SUPPORTED_VERSIONS = {FORM_VERSION}
RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb", ".csv")
_HEADER_SCAN_ROWS = 15
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$")
# Plan columns a unit cannot change; a change is ignored and reported.
_PLAN_FIELDS = ("name", "stage", "sector", "total_investment", "annual_plan")
# “Many times the project's usual month” (V26): more than SPIKE_TIMES the average month of
# the year so far, and more than SPIKE_SHARE of the year's plan in one month.
SPIKE_TIMES = 5
SPIKE_SHARE = Decimal("0.2")
_IMPLEMENTATION_TITLES = {column.field: column.title for column in FORM_IMPLEMENTATION.columns}
_ENTRIES = TypeAdapter(list[LedgerEntry])  # a file's rows validated at once
# What a spreadsheet shows in a cell whose formula failed (a 本年累计 formula over “约500”).
_EXCEL_ERRORS = {"#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "#N/A", "#NUM!", "#NULL!"}


@result(config=RESULT)
class FileReport:
    """What checking one file found, and the rows it read."""

    path: Annotated[Path, Field(serialization_alias="file")]
    sha256: Hidden[str]
    unit: str | None = None  # established by the form's signed identity
    period: str | None = None
    findings: list[Finding] = field(default_factory=list)
    # The unit the file seems to come from when its identity could not be trusted (tampered,
    # not a form, unreadable): from the sender or the file name. Only for addressing the
    # 回执 and for 报送情况 (a refused file, not “nothing sent”); never for merging.
    named_unit: str | None = None
    # Each row whose every cell could be read: its project, and its values by ledger field
    # (a merge makes its ``entries`` of them).
    rows: Hidden[list[tuple[Project, dict[str, Any]]]] = field(default_factory=list)
    # The unit's word on its open problems (the form's 问题跟踪 sheet), for 问题台帐.
    tracking: Hidden[list[TrackingUpdate]] = field(default_factory=list)
    contacts: Hidden[dict[str, str]] = field(default_factory=dict)
    vetted: Hidden[Vetted | None] = None
    # The values of our form's sheets as read through the gate, cut to the form's region:
    # all an annotated copy is made of (``formshape.form_values``).
    form_values: Hidden[dict[str, list[list[Any]]]] = field(default_factory=dict)

    @functools.cached_property
    def entries(self) -> list[LedgerEntry]:
        """The rows as 月报台帐 rows, made when a merge takes them: the values were checked
        as they were read, and are validated once more as ledger rows here (a file refused,
        or merged before, is never made into rows)."""
        source = {"period": self.period, "unit": self.unit, "source_sha256": self.sha256}
        return _ENTRIES.validate_python([
            {**values, **source, "project_id": project.id, "project_name": project.name}
            for project, values in self.rows])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return self.unit is not None and self.errors == 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.is_error)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder stands for the workbook-like files in it (not below it)."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file()
                            and p.suffix.lower() in RETURN_SUFFIXES
                            and not p.name.startswith(("~$", ".~lock")))
        else:
            files.append(path)
    return files


@dataclass
class PeriodFacts:
    """What checking needs to know about one 报告期, worked out once for many files; what
    it needs of the ledger, a file's projects at a time (``learn``)."""

    master: Master
    period: str
    units: set[str]  # 牵头单位 expected to report
    projects: dict[str, Project]
    # 项目编号 → 上月本年累计, 上月开工以来累计
    figures: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    previous: dict[str, LedgerEntry] = field(default_factory=dict)  # last month's rows
    known: set[str] = field(default_factory=set)  # the projects whose figures are above

    def learn(self, projects: Sequence[Project]) -> None:
        """Work out the figures and last month's rows of ``projects``, those not known yet."""
        new = [p for p in projects if p.id not in self.known]
        if new:
            self.figures.update(previous_figures(self.master, self.period, new))
            self.previous.update(last_reported(self.master, self.period, new))
            self.known.update(p.id for p in new)


class CheckContext:
    """Per-period facts shared by the files of one run (validate or merge).

    A merge changes the ledger of its own 报告期 only, which later periods' month-over-month
    checks read: ``ledger_changed(period)`` forgets the facts of the periods after it. The
    problems a merged return raises are added to ``problems()`` by the merge (``take_return``).
    """

    def __init__(self, master: Master, *, keep_rows: bool = True) -> None:
        self.master = master
        self.keep_rows = keep_rows  # whether reports keep their rows (a merge needs them)
        self._facts: dict[str, PeriodFacts] = {}
        self._problems: ProblemIndex | None = None

    def problems(self) -> ProblemIndex:
        """问题台帐 by 问题编号 and by project, as it is now."""
        if self._problems is None:
            self._problems = ProblemIndex(self.master)
        return self._problems

    def facts(self, period: str) -> PeriodFacts:
        if period not in self._facts:
            self._facts[period] = PeriodFacts(
                self.master, period, set(expected_returns(self.master, period)),
                {p.id: p for p in self.master.projects})
        return self._facts[period]

    def ledger_changed(self, period: str) -> None:
        for later in [p for p in self._facts if p > period]:
            del self._facts[later]


def check_file(master: Master, path: Path, period: str | None = None,
               context: CheckContext | None = None, *,
               examined: Examined | None = None) -> FileReport:
    """Check one returned file against ``master``; never raises for a problem in the file.

    ``examined`` is the file already vetted and read (``check_files`` has that done for
    many files at once)."""
    context = context if context is not None and context.master is master else CheckContext(master)
    path = Path(path)
    examined = examined if examined is not None else examine(path)
    report = FileReport(path, examined.sha256)
    try:
        _check(master, examined, period, context, report)
    finally:
        _apply_levels(report, master.settings.rule_levels)
        if report.unit is None and report.named_unit is None:
            report.named_unit = unit_in_name(
                path.name, _candidates(master, context, period or report.period))
    return report


def check_files(master: Master, paths: Sequence[Path], period: str | None = None,
                context: CheckContext | None = None, *,
                examined: Iterable[Examined] | None = None) -> Iterator[FileReport]:
    """``check_file`` for each of ``paths``, in order. Vetting and reading — the part that
    needs no master — is shared with reader processes (``checks.batch``: one per core
    beyond the first) while this process checks the files against the master as they
    come; the reports are the same as one file after another. ``examined`` is that
    examination begun earlier (``begin_checking``)."""
    context = context if context is not None and context.master is master else CheckContext(master)
    found = examined if examined is not None else examine_all(paths)
    with no_collection_pauses():
        for path, one in zip(paths, found, strict=True):
            yield check_file(master, path, period, context, examined=one)


def begin_checking(paths: Sequence[Path]) -> Examination:
    """Start vetting and reading ``paths`` (the part of checking that needs no master) in
    reader processes now, for ``check_files(…, examined=…)`` later: the master is read
    meanwhile."""
    return Examination(paths)


def _check(master: Master, examined: Examined, period: str | None, context: CheckContext,
           report: FileReport) -> None:
    vetted = examined.vetted
    report.vetted = vetted
    report.findings.extend(vetted.findings)
    if not vetted.ok:
        return
    sheets, problems = _read(examined.values)
    report.findings.extend(problems)
    if sheets is None:
        return
    identity = _identity(master, sheets, period, report, context)
    if identity is None:
        report.form_values = form_values(sheets, form_extents(), vetted.limits)
        return
    report.unit, report.period = identity.unit, identity.period
    facts = context.facts(identity.period)
    mine = [facts.projects[i] for i in identity.projects if i in facts.projects]
    facts.learn(mine)
    checker = _Checker(master, identity, report, facts, context.problems(),
                       keep_rows=context.keep_rows)
    implementation = [p for p in mine if not p.is_preparatory]
    preparatory = [p for p in mine if p.is_preparatory]
    # The form lists some of the problems of the unit's projects: at most all of them.
    projects = set(identity.projects)
    listed = context.problems().listed(projects)
    extents = form_extents(len(implementation), len(preparatory), listed)
    report.form_values = form_values(sheets, extents, vetted.limits)
    report.findings.extend(shape_findings(sheets, vetted.hidden, extents, vetted.limits))
    for spec, group in ((FORM_IMPLEMENTATION, implementation), (FORM_PREPARATORY, preparatory)):
        if group:  # within the form's region: what lies beyond is F59's
            checker.check_sheet(spec, group, report.form_values.get(spec.sheet))
    tracking = report.form_values.get(FORM_PROBLEMS.sheet)
    if tracking is not None:  # a form listing open problems (older forms have none)
        checker.check_problems(tracking, projects)


def _apply_levels(report: FileReport, levels: dict[str, RuleLevel]) -> None:
    """Each finding at the level the office set for its rule (设置, 校验规则); a finding an
    explanation turned into a warning stays one."""
    kept: list[Finding] = []
    for item in report.findings:
        wanted = severity_for(level_of(item.rule, levels))
        if wanted is None:
            continue
        if item.level is Severity.WARNING or wanted is item.severity:
            kept.append(item)
        else:
            kept.append(with_level(item, wanted))
    report.findings[:] = kept


def _candidates(master: Master, context: CheckContext, period: str | None) -> list[str]:
    if period is not None:
        with contextlib.suppress(ValueError, IndexError):
            return sorted(context.facts(period).units)
    return [u.name for u in master.units] + [p.lead_unit for p in master.projects]


def unit_in_name(file_name: str, units: Iterable[str]) -> str | None:
    """The unit a file name names (``2022-03_市交通运输局_重大项目月报.xlsx``): the longest
    unit name found in it, spaces and underscores ignored; ``None`` when none is."""
    squeezed = re.sub(r"[\s_]+", "", file_name)
    found = [u for u in set(units) if u and re.sub(r"[\s_]+", "", u) in squeezed]
    return max(found, key=lambda u: (len(u), u)) if found else None


def _read(result: dict[str, list[list[Any]]] | Finding) -> tuple[dict[str, list[list[Any]]] | None,
                                                                 list[Finding]]:
    if isinstance(result, Finding):
        return None, [result]
    return result, []


def _pairs(rows: list[list[Any]]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for row in rows:
        if len(row) >= 2 and clean_text(row[0]):
            pairs[clean_text(row[0])] = clean_text(row[1])
    return pairs


def _month_words(period: str) -> str:
    return format_month(period_month(period))


def _identity(master: Master, sheets: dict[str, list[list[Any]]], period: str | None,
              report: FileReport, context: CheckContext) -> Identity | None:
    if IDENTITY_SHEET not in sheets:
        report.findings.append(finding("F50"))
        return None
    identity = Identity.from_pairs(_pairs(sheets[IDENTITY_SHEET]))
    if not identity.signature:
        report.findings.append(finding("F50"))
        return None
    if identity.version not in SUPPORTED_VERSIONS:
        report.findings.append(finding("F52", value=identity.version))
        return None
    if not identity.verify(master.secret):
        report.findings.append(finding("F51"))
        return None
    try:  # signed with this office's key, but for another year (a master copied from last year's)
        plan_period(identity.period, master.year)
    except UsageError:
        report.findings.append(finding("F57", value=identity.period,
                                       month=_month_words(identity.period), year=master.year))
        report.unit = identity.unit
        return None
    if period is not None and identity.period != period:
        report.findings.append(finding("F53", value=identity.period,
                                       month=_month_words(identity.period),
                                       expected=period, expected_month=_month_words(period)))
        report.unit, report.period = identity.unit, identity.period
        return None
    if identity.unit not in context.facts(identity.period).units:
        report.findings.append(finding("F54", value=identity.unit,
                                       month=_month_words(identity.period)))
        report.named_unit = identity.unit  # signed by the office: it is who sent it
        return None
    return identity


def _cell(row: int, column: int) -> str:
    """``A1`` reference of a 1-based ``row`` and 0-based ``column``."""
    return a1(row, column + 1)


def _examples(period: str) -> dict[str, str]:
    """Dates from the report period itself, for messages: 2022-03-15 / 2022年3月15日."""
    month = period_month(period)
    return {"example": f"{month.year}-{month.month:02d}-15",
            "example_words": f"{month.year}年{month.month}月15日"}


def _amount_text(amount: Decimal) -> str:
    exact = tidy_amount(amount) if amount == round_half_up(amount, 2) else None
    return f"{exact:f}" if exact is not None else f"约 {round_half_up(amount, 2):f}"


def _yuan_hint(amount: Decimal, high: Decimal, low: Decimal = Decimal(0)) -> str:
    """“是否误填为元？” when the figure read in 元 (divided by 10 000) would be a sensible
    amount in 万元, between ``low`` and ``high``."""
    if amount < WAN_PER_YI:
        return ""
    in_wan = amount / WAN_PER_YI
    if not low <= in_wan <= high:
        return ""
    return f"是否误填为元？按万元填写应为 {_amount_text(in_wan)} 万元。"


@dataclass
class _Money:
    """One row's three figures, what they follow from, and what was found about them."""

    month: Decimal | None
    year: Decimal | None
    since: Decimal | None
    previous_year: Decimal
    previous_since: Decimal
    month_wrong: bool = False  # 本月完成 was reported as impossible or implausible
    year_wrong: bool = False  # 本年累计 was reported as not adding up

    def year_follows_month(self) -> bool:
        """本年累计 is 上月 + 本月 as read (the form's formula did it), or as the month
        would be in 万元: either way the mistake is the month's."""
        if self.month is None or self.year is None:
            return False
        added = self.year - self.previous_year
        return added == self.month or added * WAN_PER_YI == self.month

    def since_follows_month(self) -> bool:
        if self.month is None or self.since is None:
            return False
        added = self.since - self.previous_since
        return added == self.month or added * WAN_PER_YI == self.month


class _Checker:
    """Checks the return sheets of one file; collects findings and the rows read whole
    (``FileReport.rows``)."""

    def __init__(self, master: Master, identity: Identity, report: FileReport,
                 facts: PeriodFacts, problems: ProblemIndex, *, keep_rows: bool = True) -> None:
        self.master = master
        self.problems = problems
        self.keep_rows = keep_rows
        self.identity = identity
        self.report = report
        self.period = identity.period
        self.figures = facts.figures
        self.previous = facts.previous
        self.facts_projects = facts.projects
        self.end = period_end(self.period)
        self.examples = _examples(self.period)
        self.unreadable: set[str] = set()  # cells whose value could not be read
        self.failed_formulas: dict[str, str] = {}  # cell → the error its formula shows

    def add(self, code: str, sheet: str, row: int | None = None, col: int | None = None,
            project: Project | None = None, *, explained: str | None = None,
            **params: Any) -> None:
        # ``col`` is 0-based; ``column`` is left free for the rules' message templates.
        cell = _cell(row, col) if row is not None and col is not None else None
        if explained is not None:  # an explainable rule: advice depends on the 情况说明
            params["advice"] = (f"本行情况说明为“{explained[:60]}”，请再核实。" if explained else
                                "如确为实际完成，请在本行“情况说明”栏写明原因（如“设备集中到货付款”），"
                                "写明后不影响报送。")
        params.setdefault("project_name", project.name if project else None)
        item = finding(code, sheet=sheet, cell=cell,
                       project_id=project.id if project else None, **params)
        if explained:
            item = with_level(item, Severity.WARNING)
        self.report.findings.append(item)

    def _header(self, spec: SheetSpec, rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
        """The sheet's header row and where each title is in it; ``None`` (said as F56) when
        there is no header or it lacks a column that is read."""
        header_row = find_header(rows)
        if header_row is None:
            self.add("F56", spec.sheet, value=spec.column("id").title)
            return None
        index = header_index(rows[header_row])
        missing = [c.title for c in spec.columns
                   if c.title not in index and c.field not in spec.optional
                   and (c.field in spec.inputs or c.field == "id")]
        for title in missing:
            self.add("F56", spec.sheet, value=title)
        return None if missing else (header_row, index)

    def check_sheet(self, spec: SheetSpec, projects: list[Project],
                    rows: list[list[Any]] | None) -> None:
        sheet = spec.sheet
        if rows is None:
            self.add("F55", sheet, value=sheet)
            return
        header = self._header(spec, rows)
        if header is None:
            return
        header_row, index = header
        self._contacts(sheet, rows[:header_row])
        # The sheet's columns as found, worked out once for all its rows: (column, position,
        # field, how a cell of it is read — ``_Reading``). A column neither filled in nor
        # planned (项目编号, last month's figures) is not read.
        plan = [(column, index[column.title], column.field, _reading(spec, column))
                for column in spec.columns
                if column.title in index
                and (column.field in spec.inputs or column.field in _PLAN_FIELDS)]
        expected = {p.id: p for p in projects}
        seen: set[str] = set()
        for offset, row in enumerate(rows[header_row + 1:], start=header_row + 2):
            if is_blank_row(row):
                continue
            project_id = clean_text(_at(row, index["项目编号"]))
            if not project_id:
                self.add("R05", sheet, offset, index["项目编号"])
                continue
            if project_id not in expected:
                name = clean_text(_at(row, index["项目名称"])) if "项目名称" in index else ""
                self.add("R01", sheet, offset, index["项目编号"], value=project_id,
                         name=f"（{name}）" if name else "", project_name=name or None)
                continue
            if project_id in seen:
                self.add("R02", sheet, offset, index["项目编号"], expected[project_id],
                         value=project_id)
                continue
            seen.add(project_id)
            self._row(spec, expected[project_id], row, offset, index, plan)
        for project in projects:
            if project.id not in seen:
                self.add("R03", sheet, project=project, value=project.id, name=project.name)

    def check_problems(self, rows: list[list[Any]], projects: set[str]) -> None:
        """The 问题跟踪 sheet: only 问题编号 and the inputs (最新进展, 是否已解决) are read;
        an item must be one of the unit's projects' (their list is signed in the form's
        identity), so a unit can speak only for its own problems."""
        spec, sheet = FORM_PROBLEMS, FORM_PROBLEMS.sheet
        header = self._header(spec, rows)
        if header is None:
            return
        header_row, index = header
        items = self.problems.by_id
        id_at = index[spec.column("id").title]
        seen: set[str] = set()
        for offset, row in enumerate(rows[header_row + 1:], start=header_row + 2):
            if is_blank_row(row):
                continue
            problem_id = clean_text(_at(row, id_at)).upper()
            item = items.get(problem_id)
            project = self.facts_projects.get(item.project_id) if item is not None else None
            values: dict[str, Any] = {}
            readable = True
            for name in spec.inputs:
                column = spec.column(name)
                position = index[column.title]
                good, values[name] = self._value(sheet, project, column, _at(row, position),
                                                 offset, position)
                readable = readable and good
            if not problem_id:
                self.add("Q02", sheet, offset, id_at)
                continue
            if item is None or item.project_id not in projects or project is None:
                self.add("Q01", sheet, offset, id_at, value=problem_id)
                continue
            if problem_id in seen:
                self.add("Q04", sheet, offset, id_at, project, value=problem_id)
                continue
            seen.add(problem_id)
            progress, solved = values.get("progress"), values.get("solved")
            if not item.open:
                if closed_by_return(self.master, item, self.period, self.identity.unit):
                    # closed by this unit's earlier return of the month: its word again
                    if readable and (progress or solved):
                        self.report.tracking.append(TrackingUpdate(
                            problem_id, progress, YesNo(solved) if solved else None))
                elif progress or solved:
                    when = f"（{format_date(item.closed)}）" if item.closed else ""
                    self.add("Q03", sheet, offset, id_at, project, value=problem_id,
                             description=item.description[:30], status=item.status.value,
                             when=when)
                continue
            if solved == YesNo.YES and not progress:
                self.add("Q05", sheet, offset, index[spec.column("progress").title], project,
                         value=problem_id)
            if readable and (progress or solved):
                self.report.tracking.append(TrackingUpdate(
                    problem_id, progress, YesNo(solved) if solved else None))

    def _contacts(self, sheet: str, rows: Sequence[list[Any]]) -> None:
        found: dict[str, tuple[Any, int, int]] = {}
        labels = {label: name for name, label in FORM_CONTACTS}
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if not isinstance(value, str) or not value:  # labels are text
                    continue
                name = labels.get(clean_text(value))
                if name is not None:
                    found[name] = (_at(row, c + 1), r, c + 1)
        for position, (name, label) in enumerate(FORM_CONTACTS):
            raw, r, c = found.get(name, (None, 3, 1 + position * 3))
            value = clean_text(raw)
            if name == "informant_phone":
                phone = re.sub(r"[\s()（）]", "", value)
                if not phone:
                    self.add("V21", sheet, r, c, column=label, sheet_name=sheet, place=_cell(r, c))
                elif not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
                    self.add("V22", sheet, r, c, value=value, hint=_phone_hint(phone))
            elif name == "informant_name" and not value:
                self.add("V21", sheet, r, c, column=label, sheet_name=sheet, place=_cell(r, c))
            if value:
                self.report.contacts.setdefault(name, value)

    def _row(self, spec: SheetSpec, project: Project, row: list[Any], number: int,
             index: dict[str, int], plan: Sequence[tuple[Column, int, str, _Reading]]) -> None:
        sheet = spec.sheet
        values: dict[str, Any] = {}
        ok = True
        width = len(row)
        for column, position, name, reading in plan:
            raw = row[position] if position < width else None
            if raw == "":
                raw = None
            if reading is _PLANNED:
                # unchanged, as nearly every cell is (``_plan_field`` tells the rest): the
                # planned value itself, a text without spaces to trim
                if raw is not None and type(raw) is not bool and raw == getattr(project, name) \
                        and (type(raw) is not str or raw == raw.strip()):
                    continue
                self._plan_field(sheet, project, column, raw, number, position)
                continue
            if raw is None:  # an empty cell: readable, nothing in it
                values[name] = None
                continue
            # the usual cells, read as ``_value`` reads them, without its general path: an
            # amount of at most two places, and clean text (a listed choice where one is due)
            if reading is _MONEY:
                if type(raw) is float and raw >= 0:
                    try:
                        values[name] = from_cell(raw)
                        continue
                    except AmountError:
                        pass
            elif reading is not _OTHER and type(raw) is str and not _CONTROL.search(raw):
                text = raw.strip()
                if not text or reading is _TEXT or text in (column.choices or ()):
                    values[name] = text or None
                    continue
            good, value = self._value(sheet, project, column, raw, number, position)
            ok = ok and good
            values[name] = value
        if spec is FORM_IMPLEMENTATION:
            self._implementation_rules(sheet, project, values, number, index)
        if ok and self.keep_rows:
            self.report.rows.append((project, values))

    def _plan_field(self, sheet: str, project: Project, column: Column, raw: Any, row: int,
                    position: int) -> None:
        if column.field not in _PLAN_FIELDS:
            return
        planned = getattr(project, column.field)
        if raw is not None and not isinstance(raw, bool) and (
                raw == planned or (isinstance(raw, float) and column.kind is Kind.MONEY
                                   and planned is not None and abs(raw) < 1e13
                                   and raw == float(planned))):
            # unchanged, as nearly every cell is: a text the same without trimming, or a
            # number that is the planned amount (a decimal of at most 15 digits, which a
            # float gives back exactly)
            if not isinstance(raw, str) or raw == raw.strip():
                return
        if column.kind is Kind.MONEY:
            try:
                seen: Any = parse_amount(raw)
            except AmountError:
                seen = clean_text(raw)
        else:
            seen = clean_text(raw) or None
        if seen != planned and not (seen is None and planned in (None, "")):
            self.add("R04", sheet, row, position, project, value=clean_text(raw),
                     column=column.title, expected="" if planned is None else planned)

    def _value(self, sheet: str, project: Project | None, column: Column, raw: Any, row: int,
               position: int) -> tuple[bool, Any]:
        """One input cell → (readable, value); unreadable values become findings."""
        kind = column.kind
        if isinstance(raw, str):
            if _CONTROL.search(raw):
                self.add("V23", sheet, row, position, project, column=column.title)
                raw = _CONTROL.sub("", raw)
            raw = raw.strip()
            if raw == "":
                raw = None
            elif kind is Kind.TEXT or (kind is Kind.CHOICE and column.choices
                                       and raw in column.choices):
                return True, raw  # text as typed (what the general path below makes of it)
        if raw is None:
            return True, None
        if kind is Kind.MONEY and type(raw) is float:  # the usual amount: no text to look at
            try:
                usual = from_cell(raw)
            except AmountError:
                pass  # said below, as for any other unreadable amount
            else:
                if usual >= 0:
                    return True, usual
        where: dict[str, Any] = {"sheet": sheet, "row": row, "col": position, "project": project}
        if kind is Kind.MONEY:
            if isinstance(raw, str) and raw.upper() in _EXCEL_ERRORS:
                # A formula that failed because a cell it adds up failed: the mistake is
                # there and is reported there (see _implementation_rules).
                self.unreadable.add(_cell(row, position))
                self.failed_formulas[_cell(row, position)] = clean_text(raw)
                return False, None
            try:
                amount = parse_amount(raw)
            except AmountError as exc:
                code = "V03" if exc.reason == "小数超过两位" else "V01"
                self._unreadable(code, where, value=raw, column=column.title)
                return False, None
            if amount is not None and amount < 0:
                self._unreadable("V02", where, value=amount, column=column.title)
                return False, None
            return True, amount
        if kind in (Kind.DATE, Kind.MONTH):
            try:
                return True, parse_month(raw) if kind is Kind.MONTH else parse_date(raw)
            except ValueError:
                self._unreadable("V13", where, value=raw, column=column.title, **self.examples)
                return False, None
        text = clean_text(raw)
        if kind is Kind.CHOICE and column.choices and text not in column.choices:
            code = "V10" if column.choices == ("是", "否") else "V19"
            self._unreadable(code, where, value=text, column=column.title)
            return False, None
        return True, text

    def _unreadable(self, code: str, where: dict[str, Any], **params: Any) -> None:
        self.unreadable.add(_cell(where["row"], where["col"]))
        self.add(code, where["sheet"], where["row"], where["col"], where["project"], **params)

    def _implementation_rules(self, sheet: str, project: Project, values: dict[str, Any],
                              row: int, index: dict[str, int]) -> None:
        def at(field: str) -> int:
            return index[_IMPLEMENTATION_TITLES[field]]

        def unread(field: str) -> bool:
            return bool(self.unreadable) and _cell(row, at(field)) in self.unreadable

        def where(field: str) -> dict[str, Any]:
            return {"sheet": sheet, "row": row, "col": at(field), "project": project}

        previous_year, previous_since = self.figures.get(project.id, (Decimal(0), Decimal(0)))
        money = _Money(values.get("month_completed"), values.get("year_completed"),
                       values.get("total_completed"), previous_year, previous_since)
        explanation = values.get("explanation") if "情况说明" in index else None
        self._derived(values, money, unread)
        # 本年累计 and 开工以来累计 follow from 本月完成 (the form computes them): when the
        # month is missing or unreadable, so are they, and only the month is reported.
        month_missing = money.month is None
        if month_missing and not unread("month_completed"):
            self.add("V04", **where("month_completed"),
                     column=FORM_IMPLEMENTATION.column("month_completed").title)
        for name in ("year_completed", "total_completed"):
            if values.get(name) is None and not unread(name) and not month_missing:
                self.add("V04", **where(name), column=FORM_IMPLEMENTATION.column(name).title)
            elif unread(name) and not month_missing and \
                    _cell(row, at(name)) in self.failed_formulas:
                self._unreadable("V01", where(name),
                                 value=self.failed_formulas[_cell(row, at(name))],
                                 column=FORM_IMPLEMENTATION.column(name).title)
        self._month_plausibility(project, money, explanation or "", where("month_completed"))
        self._year_and_since(project, money, where)
        self._dates(sheet, project, values, row, at, unread)
        if money.month and not values.get("progress"):
            self.add("V20", **where("progress"), value=money.month)

    @staticmethod
    def _derived(values: dict[str, Any], money: _Money, unread: Any) -> None:
        """本年累计 and 开工以来累计 left blank beside a 本月完成 are what the form's formulas
        make of it (a program that does not compute formulas leaves them blank)."""
        if money.month is None:
            return
        if money.year is None and not unread("year_completed"):
            money.year = values["year_completed"] = money.previous_year + money.month
        if money.since is None and not unread("total_completed"):
            money.since = values["total_completed"] = money.previous_since + money.month

    def _month_plausibility(self, project: Project, money: _Money, explanation: str,
                            where: dict[str, Any]) -> None:
        """本月完成: impossible beyond what remains of the 总投资 (V25); unlikely above the
        year's plan (V09) or many times the usual month (V26) unless explained. When the
        figures before already reach the 总投资, the month is not to blame: 开工以来累计
        beyond it says so (V08)."""
        month = money.month
        if month is None or month <= 0:
            return
        total = project.total_investment
        remaining = max(total - money.previous_since, Decimal(0))
        annual = project.annual_plan or Decimal(0)
        fits = min(remaining, annual) if annual else remaining
        if remaining > 0 and month > remaining:
            self.add("V25", **where, value=month, remaining=remaining, total=total,
                     done=money.previous_since, hint=_yuan_hint(month, fits))
        elif annual and month > annual:
            self.add("V09", **where, value=month, annual=annual,
                     hint=_yuan_hint(month, fits), explained=explanation)
        else:
            usual = self._usual_month(money)
            if usual is None or month <= usual * SPIKE_TIMES or \
                    (annual and month <= annual * SPIKE_SHARE):
                return
            times = round_half_up(month / usual, 0) if month / usual < 1000 else "上千"
            self.add("V26", **where, value=month, usual=round_half_up(usual, 2), times=times,
                     hint=_yuan_hint(month, fits), explained=explanation)
        money.month_wrong = True

    def _usual_month(self, money: _Money) -> Decimal | None:
        """The project's average month of the year before this one (none in January, or
        when nothing was completed yet: a project just starting has no usual month)."""
        before = self.end.month - 1  # (the 报告期's last day)
        if before < 1 or money.previous_year <= 0:
            return None
        return money.previous_year / before

    def _year_and_since(self, project: Project, money: _Money,
                        where: Any) -> None:
        month, year, since = money.month, money.year, money.since
        total = project.total_investment
        if month is not None and year is not None and money.previous_year + month != year \
                and not (money.month_wrong and money.year_follows_month()):
            self.add("V05", **where("year_completed"), value=year, previous=money.previous_year,
                     month=month, expected=money.previous_year + month)
            money.year_wrong = True
        year_dependent = money.year_wrong or (money.month_wrong and money.year_follows_month())
        since_dependent = money.month_wrong and money.since_follows_month()
        if year is not None and year > total and not year_dependent:
            self.add("V24", **where("year_completed"), value=year, total=total,
                     hint=_yuan_hint(year, total, money.previous_year))
            money.year_wrong = True
        if since is not None and year is not None and since < year and not money.year_wrong \
                and not (money.month_wrong and money.year_follows_month()):
            self.add("V06", **where("total_completed"), value=since, year=year)
        if since is not None and since < money.previous_since:
            self.add("V07", **where("total_completed"), value=since,
                     previous=money.previous_since)
        elif since is not None and since > total and not since_dependent:
            self.add("V08", **where("total_completed"), value=since, total=total,
                     hint=_yuan_hint(since, total, money.previous_since))

    def _dates(self, sheet: str, project: Project, values: dict[str, Any], row: int,
               at: Any, unread: Any) -> None:
        def add(code: str, field: str, **params: Any) -> None:
            self.add(code, sheet, row, at(field), project, **params)

        started, completed = values.get("started"), values.get("completed")
        if started == "是" and values.get("start_date") is None and not unread("start_date"):
            add("V11", "start_date", **self.examples)
        if completed == "是" and values.get("end_date") is None and not unread("end_date"):
            add("V12", "end_date",
                example=f"{self.end.year}-{self.end.month:02d}-{self.end.day:02d}")
        for field_name in ("start_date", "end_date"):
            day: date | None = values.get(field_name)
            if day is not None and day > self.end:
                add("V14", field_name, value=day.isoformat(),
                    column=FORM_IMPLEMENTATION.column(field_name).title, end=self.end.isoformat())
        start_day: date | None = values.get("start_date")
        if project.stage == Stage.NEW and start_day is not None and \
                start_day.year < self.master.year:
            add("V15", "start_date", value=start_day.isoformat(), year=self.master.year)
        before = self.previous.get(project.id)
        # A status that could not be read (“已开工” for 是) is reported once, as unreadable.
        if before is not None and before.started == "是" and started != "是" \
                and not unread("started"):
            add("V16", "started")
        if before is not None and before.completed == "是" and completed != "是" \
                and not unread("completed"):
            add("V17", "completed")
        if completed == "是" and started != "是" and not unread("started"):
            add("V18", "completed")


class _Reading(enum.Enum):
    """How ``_Checker._row`` reads a cell of a column: compared with the plan (a column the
    unit does not fill in), or read as an amount, a text, a listed choice, or otherwise
    (dates, months, choices without a list: ``_value``'s general path)."""

    PLANNED = "planned"
    MONEY = "money"
    TEXT = "text"
    CHOICE = "choice"
    OTHER = "other"


# The readings by name, for ``_Checker._row``'s loop over every cell: a member looked up on
# its class costs several times a name of the module (Python 3.11), in each of the
# comparisons a cell takes.
_PLANNED, _MONEY, _TEXT, _OTHER = _Reading.PLANNED, _Reading.MONEY, _Reading.TEXT, _Reading.OTHER


def _reading(spec: SheetSpec, column: Column) -> _Reading:
    if column.field not in spec.inputs:
        return _Reading.PLANNED
    if column.kind is Kind.MONEY:
        return _Reading.MONEY
    if column.kind is Kind.TEXT:
        return _Reading.TEXT
    return _Reading.CHOICE if column.kind is Kind.CHOICE and column.choices else _Reading.OTHER


def _phone_hint(phone: str) -> str:
    if phone.isdigit() and not phone.startswith("0") and _LANDLINE.match("0" + phone) \
            and len(phone) >= 9:
        return "号码开头的 0 可能被表格去掉了（单元格不是文本格式）。"
    return ""


def find_header(rows: Sequence[Sequence[Any]]) -> int | None:
    """The index of a return sheet's header row (项目编号 and 项目名称 among its texts), if
    it is among the first rows."""
    for number, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        texts = {clean_text(v) for v in row if isinstance(v, str) and v}  # headers are text
        if "项目编号" in texts and "项目名称" in texts:
            return number
    return None


def _at(row: Sequence[Any], position: int) -> Any:
    value = row[position] if position < len(row) else None
    return None if value == "" else value
