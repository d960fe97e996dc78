"""考核: assessing each 牵头单位 over a range of 报告期 (SPEC §4.5; seed 工作措施（五）).

For a 牵头单位 U and the 报告期 F…T of the plan year:

**Which projects count.** U is assessed at T on the projects it leads that are in the plan
in T — exactly those a template for T would list (``core.returns.reports_in``): a 增补 project from
the 报告期 of its 批次日期 on; an exited (已退出) project up to and including the 报告期 of
its 退出日期, and not at all when T is later (neither its 年度计划 nor its completions count:
U is assessed against the adjusted plan). A 预备 project promoted to 新开工 (转入实施)
counts as 新开工 when T is the 报告期 of its promotion or later, and as 预备 before. The
figures of the plan (年度计划投资, 计划开工/竣工时间) are those in the master now.

**Reported figures.** For each project, its latest 月报台帐 row of the year up to T (a month
it was not reported carries the last reported figures forward; no row at all: nothing
completed, not started, not finished).

**The four indicators** (each a ratio; an indicator whose denominator is 0 does not apply
to U and is shown as —):

* 投资完成率 = Σ 本年累计完成投资 ÷ Σ 年度计划投资, over U's 实施 projects (新开工, 续建,
  竣工) that count at T.
* 开工率 = started ÷ due: due are U's 新开工 projects counting at T whose 计划开工时间 is T
  or earlier (none given: December); started are those of them reported 是否开工 = 是.
* 竣工率 = finished ÷ due, likewise for U's 竣工 projects, 计划竣工时间 and 是否竣工 = 是.
* 报送及时率 = on-time returns ÷ expected returns: each 报告期 P of F…T in which U has a
  project to report (``core.returns.expected_returns``) is one expected return; it is on time when a
  file of U for P passed the checks and the first file that passed arrived by P's 截止日
  (``core.returns.submission_status``: a later correction does not make it late).

**Score and rank.** 得分 = 100 × Σ wᵢ·min(rᵢ, 1) ÷ Σ wᵢ over the indicators that apply to
U, with the weights wᵢ of 设置 (考核权重：投资完成率 / 开工率 / 竣工率 / 报送及时率): a rate
above 100 % scores as 100 %, and an indicator that does not apply leaves its weight out
rather than scoring 0. 排名: by 得分 (to 0.01), highest first; equal scores share a rank
(1, 2, 2, 4) and keep the order of the 责任单位 sheet; a unit no indicator applies to has
neither and comes last.

Every ratio is an exact ``Decimal``; each figure shown (a percentage or a score) is rounded
once, half-up, to 0.01 — no float takes part.
"""

from __future__ import annotations

from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import Field, computed_field
from pydantic.dataclasses import dataclass

from ..books.safety import atomic_write, refuse_if_open_elsewhere
from ..books.styles import header_lines, header_width, print_ready, write_text
from ..core.cells import format_date
from ..core.changelog import promotion_dates
from ..core.errors import MasterError
from ..core.master import Master
from ..core.models import IMPLEMENTATION_STAGES, LedgerEntry, Stage, YesNo
from ..core.money import CENT, round_half_up
from ..core.periods import months, period_end, period_month
from ..core.results import RESULT, Hidden
from ..core.returns import reports_in, submission_status

__all__ = ["INDICATORS", "Ratio", "InvestmentRatio", "StartRatio", "CompletionRatio",
           "TimelinessRatio", "UnitAssessment", "Assessment", "ASSESSMENT_SHEET", "weights_of",
           "assess_units", "write_assessment"]

# (key, Chinese name, the 设置 field holding its weight)
INDICATORS = (
    ("investment", "投资完成率", "weight_investment"),
    ("start", "开工率", "weight_start"),
    ("completion", "竣工率", "weight_completion"),
    ("timeliness", "报送及时率", "weight_timeliness"),
)
ASSESSMENT_SHEET = "考核结果"
_HUNDRED = Decimal(100)
_ONE = Decimal(1)


@dataclass(frozen=True, config=RESULT)
class Ratio:
    """An indicator: ``done`` of ``due`` (money in 万元, or counts)."""

    done: Hidden[Decimal]
    due: Hidden[Decimal]

    @property
    def applies(self) -> bool:
        return self.due != 0

    @property
    def rate(self) -> Decimal | None:
        """The exact ratio (not rounded), ``None`` when the indicator does not apply."""
        return self.done / self.due if self.due else None

    @property
    def percent(self) -> Decimal | None:
        """The ratio in per cent, rounded once, half-up, to 0.01."""
        rate = self.rate
        return None if rate is None else round_half_up(rate * _HUNDRED, 2)

    @computed_field(alias="percent")  # type: ignore[prop-decorator]
    @property
    def percent_shown(self) -> Decimal | None:
        return self.percent


@dataclass(frozen=True, config=RESULT)
class InvestmentRatio(Ratio):
    """投资完成率: 本年累计完成投资 of 年度计划投资 (万元)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completed(self) -> Decimal:
        return self.done.quantize(CENT)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def plan(self) -> Decimal:
        return self.due.quantize(CENT)


@dataclass(frozen=True, config=RESULT)
class StartRatio(Ratio):
    """开工率: projects started of those due to start."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def started(self) -> int:
        return int(self.done)

    @computed_field(alias="due")  # type: ignore[prop-decorator]
    @property
    def due_count(self) -> int:
        return int(self.due)


@dataclass(frozen=True, config=RESULT)
class CompletionRatio(Ratio):
    """竣工率: projects finished of those due to finish."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completed(self) -> int:
        return int(self.done)

    @computed_field(alias="due")  # type: ignore[prop-decorator]
    @property
    def due_count(self) -> int:
        return int(self.due)


@dataclass(frozen=True, config=RESULT)
class TimelinessRatio(Ratio):
    """报送及时率: returns on time of those expected."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time(self) -> int:
        return int(self.done)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expected(self) -> int:
        return int(self.due)


@dataclass(config=RESULT)
class UnitAssessment:
    """One 牵头单位's indicators, score and rank."""

    unit: str
    projects: int  # 实施 projects assessed at --to
    investment: InvestmentRatio  # 本年累计完成投资 / 年度计划投资 (万元)
    start: StartRatio  # started / due to start
    completion: CompletionRatio  # finished / due to finish
    timeliness: TimelinessRatio  # on-time returns / expected returns
    score: Decimal | None = None  # 0–100, rounded to 0.01
    rank: int | None = None

    def indicator(self, key: str) -> Ratio:
        ratio: Ratio = getattr(self, key)
        return ratio


@dataclass(config=RESULT)
class Assessment:
    """The assessment of every 牵头单位 over ``first``…``last``, ranked."""

    year: int
    city: Hidden[str]
    first: Annotated[str, Field(serialization_alias="from")]  # first 报告期 assessed
    last: Annotated[str, Field(serialization_alias="to")]  # last 报告期 assessed
    weights: dict[str, int]
    units: list[UnitAssessment] = field(default_factory=list)
    output: Hidden[Path | None] = None

    def unit(self, name: str) -> UnitAssessment:
        for unit in self.units:
            if unit.unit == name:
                return unit
        raise KeyError(name)


def weights_of(master: Master) -> dict[str, int]:
    weights = {key: int(getattr(master.settings, setting)) for key, _, setting in INDICATORS}
    names = {key: name for key, name, _ in INDICATORS}
    negative = [names[k] for k, w in weights.items() if w < 0]
    if negative:
        raise MasterError(f"“设置”中的考核权重不能为负数（{'、'.join(negative)}）。")
    if not any(weights.values()):
        raise MasterError("“设置”中的四项考核权重都为 0，无法计算得分。请在台账“设置”工作表中填写权重。")
    return weights


def _latest_rows(master: Master, end: str) -> dict[str, LedgerEntry]:
    """项目编号 → its latest 月报台帐 row of the year up to ``end``."""
    latest: dict[str, LedgerEntry] = {}
    for entry in master.ledger:
        if entry.period[:4] != end[:4] or entry.period > end:
            continue
        seen = latest.get(entry.project_id)
        if seen is None or entry.period > seen.period:
            latest[entry.project_id] = entry
    return latest


@plain_dataclass
class _Tally:
    order: int
    projects: int = 0
    completed: Decimal = Decimal(0)
    plan: Decimal = Decimal(0)
    started: int = 0
    start_due: int = 0
    finished: int = 0
    finish_due: int = 0
    on_time: int = 0
    expected: int = 0


def assess_units(master: Master, start: str, end: str,
                  weights: dict[str, int]) -> list[UnitAssessment]:
    # Equal ranks and unranked units keep the order of the 责任单位 sheet.
    order: dict[str, int] = {}
    for name in [u.name for u in master.units] + [p.lead_unit for p in master.projects]:
        order.setdefault(name, len(order))
    tallies: dict[str, _Tally] = {}

    def tally(unit: str) -> _Tally:
        if unit not in tallies:
            tallies[unit] = _Tally(order.get(unit, len(order)))
        return tallies[unit]

    for period in months(start, end):
        for status in submission_status(master, period).units:
            counts = tally(status.unit)
            counts.expected += 1
            if status.on_time and status.valid:
                counts.on_time += 1

    promoted = promotion_dates(master)
    latest = _latest_rows(master, end)
    end_month, end_day = period_month(end), period_end(end)
    december = date(master.year, 12, 1)
    for project in master.projects:
        if not reports_in(project, end):
            continue
        stage = project.stage
        if project.id in promoted and promoted[project.id] > end_day:
            stage = Stage.PREPARATORY  # promoted after the last period: still preparatory then
        if stage not in IMPLEMENTATION_STAGES:
            continue
        counts = tally(project.lead_unit)
        row = latest.get(project.id)
        counts.projects += 1
        counts.plan += project.annual_plan or Decimal(0)
        if row is not None and row.year_completed is not None:
            counts.completed += row.year_completed
        if stage == Stage.NEW and (project.planned_start or december) <= end_month:
            counts.start_due += 1
            if row is not None and row.started == YesNo.YES:
                counts.started += 1
        if stage == Stage.COMPLETING and (project.planned_end or december) <= end_month:
            counts.finish_due += 1
            if row is not None and row.completed == YesNo.YES:
                counts.finished += 1

    units = [UnitAssessment(unit, t.projects, InvestmentRatio(t.completed, t.plan),
                            StartRatio(Decimal(t.started), Decimal(t.start_due)),
                            CompletionRatio(Decimal(t.finished), Decimal(t.finish_due)),
                            TimelinessRatio(Decimal(t.on_time), Decimal(t.expected)))
             for unit, t in tallies.items()]
    for unit in units:
        unit.score = _score(unit, weights)
    _rank(units)
    units.sort(key=lambda u: (u.rank is None, u.rank or 0, tallies[u.unit].order))
    return units


def _score(unit: UnitAssessment, weights: dict[str, int]) -> Decimal | None:
    total, weight_sum = Decimal(0), 0
    for key, _, _ in INDICATORS:
        rate = unit.indicator(key).rate
        if rate is None or weights[key] == 0:
            continue
        total += weights[key] * min(rate, _ONE)
        weight_sum += weights[key]
    if weight_sum == 0:
        return None
    return round_half_up(total * _HUNDRED / weight_sum, 2)


def _rank(units: list[UnitAssessment]) -> None:
    scored = sorted((u for u in units if u.score is not None),
                    key=lambda u: u.score or Decimal(0), reverse=True)
    for position, unit in enumerate(scored, start=1):
        before = scored[position - 2] if position > 1 else None
        unit.rank = before.rank if before is not None and before.score == unit.score else position


# ---- the print-ready workbook -----------------------------------------------------------------

_TITLE_ROW, _NOTE_ROW, _HEADER_ROW = 1, 2, 3
_SIDE = Side(style="thin", color="000000")
_BORDER = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_TITLE_FONT = Font(name="宋体", size=16, bold=True)
_HEADER_FONT = Font(name="黑体", size=10)
_BODY_FONT = Font(name="宋体", size=10)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")
PERCENT_FORMAT = "0.00%"
_MONEY_FORMAT = "#,##0.00"
# (header, width, number format); the values come from ``_values`` in this order
_COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    ("排名", 6, "0"),
    ("牵头单位", 26, None),
    ("年度计划投资（万元）", 14, _MONEY_FORMAT),
    ("本年累计完成投资（万元）", 14, _MONEY_FORMAT),
    ("投资完成率", 10, PERCENT_FORMAT),
    ("计划开工（项）", 8, "0"),
    ("已开工（项）", 8, "0"),
    ("开工率", 9, PERCENT_FORMAT),
    ("计划竣工（项）", 8, "0"),
    ("已竣工（项）", 8, "0"),
    ("竣工率", 9, PERCENT_FORMAT),
    ("应报送（次）", 8, "0"),
    ("按时报送（次）", 8, "0"),
    ("报送及时率", 10, PERCENT_FORMAT),
    ("得分", 8, "0.00"),
)


def _fraction(ratio: Ratio) -> Decimal | None:
    """The rounded percentage as the fraction Excel formats with 0.00%."""
    percent = ratio.percent
    return None if percent is None else percent / _HUNDRED


def _values(unit: UnitAssessment) -> list[object]:
    return [unit.rank, unit.unit, unit.investment.due, unit.investment.done,
            _fraction(unit.investment), int(unit.start.due), int(unit.start.done),
            _fraction(unit.start), int(unit.completion.due), int(unit.completion.done),
            _fraction(unit.completion), int(unit.timeliness.due), int(unit.timeliness.done),
            _fraction(unit.timeliness), unit.score]


def _period_words(period: str) -> str:
    month = period_month(period)
    return f"{month.year}年{month.month}月"


def write_assessment(result: Assessment, path: Path) -> None:
    """The print-ready 考核结果 workbook (A4 landscape) of ``result``."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = ASSESSMENT_SHEET
    last_column = len(_COLUMNS)
    title = f"{result.city}{result.year}年重大项目责任单位考核结果"
    write_text(ws.cell(row=_TITLE_ROW, column=1), title)
    ws.cell(row=_TITLE_ROW, column=1).font = _TITLE_FONT
    ws.cell(row=_TITLE_ROW, column=1).alignment = _CENTER
    ws.merge_cells(start_row=_TITLE_ROW, start_column=1, end_row=_TITLE_ROW, end_column=last_column)
    ws.row_dimensions[_TITLE_ROW].height = 32
    names = {key: name for key, name, _ in INDICATORS}
    weights = "、".join(f"{names[k]}{w}" for k, w in result.weights.items())
    note = (f"考核期：{_period_words(result.first)}至{_period_words(result.last)}"
            f"（数据截至{format_date(period_end(result.last))}）；权重：{weights}；满分100分")
    write_text(ws.cell(row=_NOTE_ROW, column=1), note)
    ws.cell(row=_NOTE_ROW, column=1).font = _BODY_FONT
    ws.cell(row=_NOTE_ROW, column=1).alignment = _LEFT
    ws.merge_cells(start_row=_NOTE_ROW, start_column=1, end_row=_NOTE_ROW, end_column=last_column)
    lines = 1
    for index, (header, width, _) in enumerate(_COLUMNS, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=index)
        text = header_lines(header, width, _HEADER_FONT.sz)  # 计划开工 ⏎ （项）, not （ ⏎ 项）
        write_text(cell, text)
        cell.font, cell.alignment, cell.border = _HEADER_FONT, _CENTER, _BORDER
        ws.column_dimensions[get_column_letter(index)].width = header_width(
            text, width, _HEADER_FONT.sz)
        lines = max(lines, text.count("\n") + 1)
    ws.row_dimensions[_HEADER_ROW].height = 16 * lines + 10
    row = _HEADER_ROW + 1
    for unit in result.units:
        for index, value in enumerate(_values(unit), start=1):
            _body_cell(ws.cell(row=row, column=index), value, _COLUMNS[index - 1][2])
        row += 1
    _write_notes(ws, row + 1, last_column)
    ws.freeze_panes = ws.cell(row=_HEADER_ROW + 1, column=3)
    _print_setup(ws, row + 1, last_column)
    refuse_if_open_elsewhere(path)
    atomic_write(path, lambda temp: book.save(temp))


def _body_cell(cell: Any, value: object, number_format: str | None) -> None:
    cell.border, cell.font = _BORDER, _BODY_FONT
    if value is None:
        write_text(cell, "—")
        cell.alignment = _CENTER
        return
    if isinstance(value, str):
        write_text(cell, value)
        cell.alignment = _LEFT
        return
    cell.value = value
    cell.alignment = _CENTER if number_format == "0" else _RIGHT  # ranks and counts centred
    if number_format is not None:
        cell.number_format = number_format


_NOTES = (
    "说明：1. 投资完成率＝本年累计完成投资÷年度计划投资（该单位牵头的实施项目）。",
    "2. 开工率＝已开工项目数÷计划在考核期末前开工的新开工项目数；竣工率＝已竣工项目数÷计划在考核期末前"
    "竣工的竣工项目数（未填计划时间的按12月计）。",
    "3. 报送及时率＝按时报送且通过校验的次数÷应报送次数（考核期内每个有项目需报送的报告期计一次）。",
    "4. 得分＝100×Σ（权重×指标）÷适用指标的权重之和；指标超过100%的按100%计；分母为0的指标不适用，"
    "显示“—”，不计入得分。",
    "5. 退出项目只计至退出日期所在的报告期，增补项目自批次日期所在的报告期起计；"
    "预备项目自转入实施日期所在的报告期起按新开工项目计。",
)


def _write_notes(ws: Worksheet, row: int, last_column: int) -> None:
    for offset, text in enumerate(_NOTES):
        cell = ws.cell(row=row + offset, column=1)
        write_text(cell, text)
        cell.font, cell.alignment = _BODY_FONT, _LEFT
        ws.merge_cells(start_row=row + offset, start_column=1, end_row=row + offset,
                       end_column=last_column)
        ws.row_dimensions[row + offset].height = 28


def _print_setup(ws: Worksheet, notes_row: int, last_column: int) -> None:
    last_row = notes_row + len(_NOTES) - 1
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{_HEADER_ROW}:{_HEADER_ROW}",
                area=f"A1:{get_column_letter(last_column)}{last_row}")
