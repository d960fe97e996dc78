"""Checking a returned template (SPEC §3). Checking never changes the master.

``check_file`` vets the file (``vetting``), establishes its identity (hidden sheet, HMAC),
finds columns by header text, and checks rows and values against the plan and the ledger's
previous 报告期. Every problem becomes a ``Finding`` with a rule code; an error blocks the
merge of the whole file, a warning does not. The rows it read come back as ledger entries,
ready for the merge.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, computed_field
from pydantic.dataclasses import dataclass as result

from ..core.cells import clean_text, parse_date, parse_month
from ..core.errors import UsageError
from ..core.findings import Finding, Severity, finding, rule
from ..core.identity import FORM_VERSION, IDENTITY_SHEET, Identity
from ..core.master import Master
from ..core.models import LedgerEntry, Project
from ..core.money import AmountError, parse_amount
from ..core.periods import period_end, plan_period
from ..core.registry import (
    FORM_CONTACTS,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    Column,
    Kind,
    SheetSpec,
)
from ..core.results import RESULT, Hidden
from ..core.returns import expected_returns, last_reported, previous_figures
from ..core.tables import header_index, is_blank_row
from .formshape import form_extents, form_values, shape_findings
from .vetting import Vetted, safe_read_sheets, vet_workbook

__all__ = ["FileReport", "CheckContext", "check_file", "collect_files", "RETURN_SUFFIXES"]

E, W = Severity.ERROR, Severity.WARNING
SUPPORTED_VERSIONS = {FORM_VERSION}
RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb", ".csv")
_HEADER_SCAN_ROWS = 15
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$")
# Plan columns a unit cannot change; a change is ignored and reported.
_PLAN_FIELDS = ("name", "stage", "sector", "total_investment", "annual_plan")

# ---- the rules --------------------------------------------------------------------------
rule("F50", E, "不是本系统的填报模板",
     "这个文件不是市重点办下发的填报模板（找不到模板信息）。请使用下发的模板填写后报送。")
rule("F51", E, "模板信息被修改",
     "模板中的单位、报告期或项目清单与下发时不一致（校验码不符）。请使用市重点办下发给本单位的原模板重新填报。")
rule("F52", E, "模板版本不符",
     "模板版本“{value}”已停用。请使用本期下发的新模板重新填报。")
rule("F53", E, "报告期不符",
     "这是 {value} 的模板，本次收取的是 {expected} 的月报。请使用 {expected} 的模板填报。")
rule("F54", E, "单位不在报送名单",
     "“{value}”不是 {period} 需要报送月报的牵头单位。请确认是否发错了文件。")
rule("F55", E, "缺少工作表",
     "文件中没有工作表“{value}”。请不要删除或重命名模板中的工作表。")
rule("F56", E, "缺少列",
     "工作表中找不到列“{value}”。请不要修改或删除模板的表头。")
rule("F57", E, "不是本年度的模板",
     "这是 {value} 的模板，不在台账的计划年度 {year} 年内。请使用市重点办本年度下发的模板填报。")
rule("R01", E, "非本单位项目",
     "项目编号“{value}”不在本单位本期的项目清单中。请删除这一行，不要自行增加项目。")
rule("R02", E, "项目重复",
     "项目“{value}”出现了不止一次。每个项目只填一行，请删除重复行。")
rule("R03", E, "项目缺失",
     "本单位的项目“{value}”（{name}）没有填报。请恢复这一行并填写。")
rule("R04", W, "计划数据被改动（已忽略）",
     "“{column}”是计划数据，原为“{expected}”，表中改成了“{value}”。"
     "修改已忽略，以计划为准；如计划确有变化请联系市重点办。")
rule("R05", E, "缺少项目编号",
     "这一行填了内容但没有项目编号。请不要修改项目编号列，也不要新增行。")
rule("V01", E, "数字无法识别",
     "“{column}”填的是“{value}”，不是数字。请只填数字（单位万元），如 500 或 500.5，不要写“约”“左右”或“/”。")
rule("V02", E, "金额为负数",
     "“{column}”为负数（{value}）。完成投资不能为负，请核实后填写不小于 0 的数。")
rule("V03", E, "小数超过两位",
     "“{column}”填的是“{value}”，小数超过两位。金额单位为万元，最多保留两位小数。")
rule("V04", E, "必填项为空",
     "“{column}”没有填写。没有发生投资请填 0。")
rule("V05", E, "本年累计与本月完成不符",
     "本年累计完成投资应为上月本年累计 {previous} + 本月完成 {month} = {expected} 万元，"
     "表中为 {value} 万元。请核对后改正。")
rule("V06", E, "开工以来累计小于本年累计",
     "开工以来累计完成投资（{value}）小于本年累计（{year}）。开工以来累计包含本年，不应更小。")
rule("V07", E, "开工以来累计小于上月",
     "开工以来累计完成投资（{value}）小于上月报送的 {previous} 万元。累计数只增不减，请核对。")
rule("V08", W, "累计完成超过总投资",
     "开工以来累计完成投资（{value}）超过项目总投资 {total} 万元，请核实。")
rule("V09", W, "金额异常偏大",
     "“{column}”为 {value}，远大于年度计划投资 {annual} 万元。金额单位应为万元，请确认没有按“元”填写。")
rule("V10", E, "应填“是”或“否”",
     "“{column}”填的是“{value}”。请从下拉列表中选择“是”或“否”。")
rule("V11", E, "已开工未填开工时间",
     "“是否开工”为“是”，但没有填写实际开工时间。请填写日期，如 2022-03-15。")
rule("V12", E, "已竣工未填竣工时间",
     "“是否竣工”为“是”，但没有填写实际竣工时间。请填写日期，如 2022-11-30。")
rule("V13", E, "日期无法识别",
     "“{column}”填的是“{value}”，不是日期。请写成 2022-03-15 或 2022年3月15日。")
rule("V14", E, "实际日期晚于报告期",
     "“{column}”为 {value}，晚于本报告期末 {end}。实际开工、竣工时间不能在未来。")
rule("V15", E, "新开工项目开工时间早于本年",
     "新开工项目的实际开工时间 {value} 早于 {year} 年。新开工项目应在本年开工；如情况特殊请联系市重点办。")
rule("V16", E, "撤回已报开工",
     "上月已报“已开工”，本月却不是“是”。开工不能撤回，如上月报错请联系市重点办。")
rule("V17", E, "撤回已报竣工",
     "上月已报“已竣工”，本月却不是“是”。竣工不能撤回，如上月报错请联系市重点办。")
rule("V18", E, "未开工先竣工",
     "“是否竣工”为“是”，但“是否开工”不是“是”。竣工项目必然已开工，请一并填写开工情况。")
rule("V19", E, "前期工作状态无效",
     "“{column}”填的是“{value}”。请从下拉列表中选择：未启动、办理中、已办结、不涉及。")
rule("V20", E, "有投资无形象进度",
     "本月完成投资 {value} 万元，但没有填写形象进度。请简要写明本月工程进展。")
rule("V21", W, "未填填报人",
     "没有填写“{column}”。请在表头右侧填写姓名，便于市重点办联系。")
rule("V22", W, "联系电话有误",
     "联系电话“{value}”不是有效的手机或座机号码。请填写 11 位手机号或带区号的座机号。")
rule("V23", W, "含不可见字符（已清除）",
     "“{column}”中含有不可见的控制字符，已自动清除。")


@result(config=RESULT)
class FileReport:
    """What checking one file found, and the rows it read."""

    path: Annotated[Path, Field(serialization_alias="file")]
    sha256: Hidden[str]
    unit: str | None = None
    period: str | None = None
    findings: list[Finding] = field(default_factory=list)
    entries: Hidden[list[LedgerEntry]] = field(default_factory=list)
    contacts: Hidden[dict[str, str]] = field(default_factory=dict)
    vetted: Hidden[Vetted | None] = None
    # The values of our form's sheets as read through the gate, cut to the form's region:
    # all an annotated copy is made of (``formshape.form_values``).
    form_values: Hidden[dict[str, list[list[Any]]]] = field(default_factory=dict)

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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class PeriodFacts:
    """What checking needs to know about one 报告期, worked out once for many files."""

    units: set[str]  # 牵头单位 expected to report
    projects: dict[str, Project]
    figures: dict[str, tuple[Decimal, Decimal]]  # 上月本年累计, 上月开工以来累计
    previous: dict[str, LedgerEntry]  # last month's rows


class CheckContext:
    """Per-period facts shared by the files of one run (validate or merge).

    A merge changes the ledger of its own 报告期 only, which later periods' month-over-month
    checks read: ``ledger_changed(period)`` forgets the facts of the periods after it.
    """

    def __init__(self, master: Master) -> None:
        self.master = master
        self._facts: dict[str, PeriodFacts] = {}

    def facts(self, period: str) -> PeriodFacts:
        if period not in self._facts:
            self._facts[period] = PeriodFacts(
                set(expected_returns(self.master, period)),
                {p.id: p for p in self.master.projects},
                previous_figures(self.master, period), last_reported(self.master, period))
        return self._facts[period]

    def ledger_changed(self, period: str) -> None:
        for later in [p for p in self._facts if p > period]:
            del self._facts[later]


def check_file(master: Master, path: Path, period: str | None = None,
               context: CheckContext | None = None) -> FileReport:
    """Check one returned file against ``master``; never raises for a problem in the file."""
    context = context if context is not None and context.master is master else CheckContext(master)
    path = Path(path)
    sha = file_sha256(path) if path.is_file() else ""
    report = FileReport(path, sha)
    vetted = vet_workbook(path)
    report.vetted = vetted
    report.findings.extend(vetted.findings)
    if not vetted.ok:
        return report
    sheets, problems = _read(vetted)
    report.findings.extend(problems)
    if sheets is None:
        return report
    identity = _identity(master, sheets, period, report, context)
    if identity is None:
        report.form_values = form_values(sheets, form_extents(), vetted.limits)
        return report
    report.unit, report.period = identity.unit, identity.period
    facts = context.facts(identity.period)
    mine = [facts.projects[i] for i in identity.projects if i in facts.projects]
    checker = _Checker(master, identity, report, facts)
    implementation = [p for p in mine if not p.is_preparatory]
    preparatory = [p for p in mine if p.is_preparatory]
    extents = form_extents(len(implementation), len(preparatory))
    report.form_values = form_values(sheets, extents, vetted.limits)
    report.findings.extend(shape_findings(sheets, vetted.hidden, extents, vetted.limits))
    for spec, group in ((FORM_IMPLEMENTATION, implementation), (FORM_PREPARATORY, preparatory)):
        if group:  # within the form's region: what lies beyond is F59's
            checker.check_sheet(spec, group, report.form_values.get(spec.sheet))
    return report


def _read(vetted: Vetted) -> tuple[dict[str, list[list[Any]]] | None, list[Finding]]:
    result = safe_read_sheets(vetted)
    if isinstance(result, Finding):
        return None, [result]
    return result, []


def _pairs(rows: list[list[Any]]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for row in rows:
        if len(row) >= 2 and clean_text(row[0]):
            pairs[clean_text(row[0])] = clean_text(row[1])
    return pairs


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
        report.findings.append(finding("F52", sheet=IDENTITY_SHEET, value=identity.version))
        return None
    if not identity.verify(master.secret):
        report.findings.append(finding("F51", sheet=IDENTITY_SHEET))
        return None
    try:  # signed with this office's key, but for another year (a master copied from last year's)
        plan_period(identity.period, master.year)
    except UsageError:
        report.findings.append(finding("F57", sheet=IDENTITY_SHEET, value=identity.period,
                                       year=master.year))
        report.unit = identity.unit
        return None
    if period is not None and identity.period != period:
        report.findings.append(finding("F53", value=identity.period, expected=period))
        report.unit, report.period = identity.unit, identity.period
        return None
    if identity.unit not in context.facts(identity.period).units:
        report.findings.append(finding("F54", value=identity.unit, period=identity.period))
        return None
    return identity


def _cell(row: int, column: int) -> str:
    """``A1`` reference of a 1-based ``row`` and 0-based ``column``."""
    letters, number = "", column + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"{letters}{row}"


class _Checker:
    """Checks the return sheets of one file; collects findings and ledger rows."""

    def __init__(self, master: Master, identity: Identity, report: FileReport,
                 facts: PeriodFacts) -> None:
        self.master = master
        self.identity = identity
        self.report = report
        self.period = identity.period
        self.figures = facts.figures
        self.previous = facts.previous
        self.end = period_end(self.period)

    def add(self, code: str, sheet: str, row: int | None = None, col: int | None = None,
            project: Project | None = None, **params: Any) -> None:
        # ``col`` is 0-based; ``column`` is left free for the rules' message templates.
        cell = _cell(row, col) if row is not None and col is not None else None
        self.report.findings.append(finding(code, sheet=sheet, cell=cell,
                                            project_id=project.id if project else None,
                                            **params))

    def check_sheet(self, spec: SheetSpec, projects: list[Project],
                    rows: list[list[Any]] | None) -> None:
        sheet = spec.sheet
        if rows is None:
            self.add("F55", sheet, value=sheet)
            return
        header_row = _find_header(rows)
        if header_row is None:
            self.add("F56", sheet, value="项目编号")
            return
        index = header_index(rows[header_row])
        missing = [c.title for c in spec.columns
                   if c.title not in index and (c.field in spec.inputs or c.field == "id")]
        if missing:
            for title in missing:
                self.add("F56", sheet, value=title)
            return
        self._contacts(sheet, rows[:header_row])
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
                self.add("R01", sheet, offset, index["项目编号"], value=project_id)
                continue
            if project_id in seen:
                self.add("R02", sheet, offset, index["项目编号"], expected[project_id],
                         value=project_id)
                continue
            seen.add(project_id)
            self._row(spec, expected[project_id], row, offset, index)
        for project in projects:
            if project.id not in seen:
                self.add("R03", sheet, project=project, value=project.id, name=project.name)

    def _contacts(self, sheet: str, rows: Sequence[list[Any]]) -> None:
        found: dict[str, tuple[str, int, int]] = {}
        labels = {label: name for name, label in FORM_CONTACTS}
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                name = labels.get(clean_text(value))
                if name is not None:
                    found[name] = (clean_text(_at(row, c + 1)), r, c + 1)
        for name, label in FORM_CONTACTS:
            value, r, c = found.get(name, ("", 3, 1))
            if name == "informant_phone":
                phone = re.sub(r"[\s()（）]", "", value)
                if not phone:
                    self.add("V21", sheet, r, c, column=label)
                elif not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
                    self.add("V22", sheet, r, c, value=value)
            elif name == "informant_name" and not value:
                self.add("V21", sheet, r, c, column=label)
            if value:
                self.report.contacts.setdefault(name, value)

    def _row(self, spec: SheetSpec, project: Project, row: list[Any], number: int,
             index: dict[str, int]) -> None:
        sheet = spec.sheet
        values: dict[str, Any] = {}
        ok = True
        for column in spec.columns:
            position = index.get(column.title)
            if position is None:
                continue
            raw = _at(row, position)
            if column.field not in spec.inputs:
                self._plan_field(sheet, project, column, raw, number, position)
                continue
            good, value = self._value(sheet, project, column, raw, number, position)
            ok = ok and good
            values[column.field] = value
        if spec is FORM_IMPLEMENTATION:
            self._implementation_rules(sheet, project, values, number, index)
        if ok:
            self.report.entries.append(LedgerEntry(
                period=self.period, project_id=project.id, project_name=project.name,
                unit=self.identity.unit, source_sha256=self.report.sha256,
                **{k: v for k, v in values.items() if v is not None}))

    def _plan_field(self, sheet: str, project: Project, column: Column, raw: Any, row: int,
                    position: int) -> None:
        if column.field not in _PLAN_FIELDS:
            return
        planned = getattr(project, column.field)
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

    def _value(self, sheet: str, project: Project, column: Column, raw: Any, row: int,
               position: int) -> tuple[bool, Any]:
        """One input cell → (readable, value); unreadable values become findings."""
        if isinstance(raw, str):
            if _CONTROL.search(raw):
                self.add("V23", sheet, row, position, project, column=column.title)
                raw = _CONTROL.sub("", raw)
            raw = raw.strip()
            if raw == "":
                raw = None
        if raw is None:
            return True, None
        kind = column.kind
        where: dict[str, Any] = {"sheet": sheet, "row": row, "col": position, "project": project}
        if kind is Kind.MONEY:
            try:
                amount = parse_amount(raw)
            except AmountError as exc:
                code = "V03" if exc.reason == "小数超过两位" else "V01"
                self.add(code, **where, value=raw, column=column.title)
                return False, None
            if amount is not None and amount < 0:
                self.add("V02", **where, value=amount, column=column.title)
                return False, None
            return True, amount
        if kind in (Kind.DATE, Kind.MONTH):
            try:
                return True, parse_month(raw) if kind is Kind.MONTH else parse_date(raw)
            except ValueError:
                self.add("V13", **where, value=raw, column=column.title)
                return False, None
        text = clean_text(raw)
        if kind is Kind.CHOICE and column.choices and text not in column.choices:
            code = "V10" if column.choices == ("是", "否") else "V19"
            self.add(code, **where, value=text, column=column.title)
            return False, None
        return True, text

    def _implementation_rules(self, sheet: str, project: Project, values: dict[str, Any],
                              row: int, index: dict[str, int]) -> None:
        def at(field: str) -> int:
            return index[FORM_IMPLEMENTATION.column(field).title]

        def where(field: str) -> dict[str, Any]:
            return {"sheet": sheet, "row": row, "col": at(field), "project": project}

        month, year = values.get("month_completed"), values.get("year_completed")
        since = values.get("total_completed")
        for name in ("month_completed", "year_completed", "total_completed"):
            if values.get(name) is None and not self._unreadable(row, at(name)):
                self.add("V04", **where(name), column=FORM_IMPLEMENTATION.column(name).title)
        previous_year, previous_since = self.figures.get(project.id, (Decimal(0), Decimal(0)))
        if month is not None and year is not None and previous_year + month != year:
            self.add("V05", **where("year_completed"), value=year, previous=previous_year,
                     month=month, expected=previous_year + month)
        if since is not None and year is not None and since < year:
            self.add("V06", **where("total_completed"), value=since, year=year)
        if since is not None and since < previous_since:
            self.add("V07", **where("total_completed"), value=since, previous=previous_since)
        if since is not None and since > project.total_investment:
            self.add("V08", **where("total_completed"), value=since,
                     total=project.total_investment)
        annual = project.annual_plan or Decimal(0)
        for name, amount, factor in (("month_completed", month, 2), ("year_completed", year, 3)):
            if amount is not None and amount > max(annual * factor, Decimal(1000)):
                self.add("V09", **where(name), value=amount, annual=annual,
                         column=FORM_IMPLEMENTATION.column(name).title)
        self._dates(sheet, project, values, row, at)
        if month and not values.get("progress"):
            self.add("V20", **where("progress"), value=month)

    def _unreadable(self, row: int, column: int) -> bool:
        cell = _cell(row, column)
        return any(f.cell == cell and f.is_error for f in self.report.findings)

    def _dates(self, sheet: str, project: Project, values: dict[str, Any], row: int,
               at: Any) -> None:
        def add(code: str, field: str, **params: Any) -> None:
            self.add(code, sheet, row, at(field), project, **params)

        started, completed = values.get("started"), values.get("completed")
        if started == "是" and values.get("start_date") is None and \
                not self._unreadable(row, at("start_date")):
            add("V11", "start_date")
        if completed == "是" and values.get("end_date") is None and \
                not self._unreadable(row, at("end_date")):
            add("V12", "end_date")
        for field_name in ("start_date", "end_date"):
            day: date | None = values.get(field_name)
            if day is not None and day > self.end:
                add("V14", field_name, value=day.isoformat(),
                    column=FORM_IMPLEMENTATION.column(field_name).title, end=self.end.isoformat())
        start_day: date | None = values.get("start_date")
        if project.stage == "新开工" and start_day is not None and \
                start_day.year < self.master.year:
            add("V15", "start_date", value=start_day.isoformat(), year=self.master.year)
        before = self.previous.get(project.id)
        if before is not None and before.started == "是" and started != "是":
            add("V16", "started")
        if before is not None and before.completed == "是" and completed != "是":
            add("V17", "completed")
        if completed == "是" and started != "是":
            add("V18", "completed")


def _find_header(rows: list[list[Any]]) -> int | None:
    for number, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        texts = {clean_text(v) for v in row}
        if "项目编号" in texts and "项目名称" in texts:
            return number
    return None


def _at(row: Sequence[Any], position: int) -> Any:
    value = row[position] if position < len(row) else None
    return None if value == "" else value
