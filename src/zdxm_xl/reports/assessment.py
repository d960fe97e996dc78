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
it was not reported carries the last reported figures forward, and the unit's ``carried``
counts it; no row at all: nothing completed, not started, not finished).

**The four indicators** (each a ratio; an indicator whose denominator is 0 does not apply
to U and is shown as —):

* 投资完成率 = Σ 本年累计完成投资 ÷ Σ 年度计划投资, over U's 实施 projects (新开工, 续建,
  竣工) that count at T.
* 开工率 = started ÷ due: due are U's 新开工 projects counting at T whose 计划开工时间 is T
  or earlier (none given: December); started are those of them reported 是否开工 = 是.
* 竣工率 = finished ÷ due, likewise for U's 竣工 projects, 计划竣工时间 and 是否竣工 = 是.
* 报送及时率 = 按时 returns ÷ expected returns: each 报告期 P of F…T in which U has a
  project to report (``core.returns.expected_returns``) is one expected return, 按时 as the
  one 报送状态 says (``core.returns.submission_status``).
* 问题办结率 = closed ÷ due, over the 问题台帐 items given to U as 协调责任单位 (raised by
  T, not 不再协调): due are those whose 办理时限 is the end of T or earlier (none given:
  December), and those closed by then whatever their 时限; closed are those of them 已办结 by
  the end of T (``on_time``: within their 时限). Its weight is 0 until the office sets one;
  then a unit that only coordinates problems (no project of its own) is assessed on it too.

**Scoring: every indicator against what was due by T.** 开工率, 竣工率 and 报送及时率
already count only what was due; 投资完成率 is scored against the 时序进度 of T (the same
method as the 简报, 设置 时序进度方法): its score is 投资完成率 ÷ 时序进度, so a unit on
schedule scores 100 % in March as in December, capped at 设置 “考核：投资完成计分上限” (100 %
by default; an office rewarding over-completion may allow up to 200 %). The other three
score min(rate, 100 %).

**Who is rated (参评).** U is rated when at least one of 投资完成率, 开工率 and 竣工率
applies to it with a weight above 0: a unit whose projects are all 预备 (no 年度计划, nothing
due to start or finish) is 不参评 — no score, no rank — rather than scoring 100 on
报送及时率 alone.

**Score.** 得分 = 100 × Σ wᵢ·sᵢ ÷ Σ wᵢ over the indicators that apply to U (sᵢ the scores
above, wᵢ the weights of 设置): an indicator that does not apply leaves its weight out, so the
weights of the others are renormalised to the same total rather than the unit scoring 0 —
and since each indicator is scored against what was due, a unit with no start due is
neither helped nor hurt by it. ``UnitAssessment.weights_used`` shows each unit's
renormalised weights.

**Rank.** Units are ranked within their group, the 单位类别 of 责任单位 (县区 / 市直部门 /
国有企业; a unit without one is 未分类), by 得分 (to 0.01), highest first; equal scores
share a rank (1, 2, 2, 4) and keep the order of the 责任单位 sheet. ``rank`` is the same over
all rated units; unrated units have neither and come last in their group.

Every ratio is an exact ``Decimal``; each figure shown (a percentage or a score) is rounded
once, half-up, to 0.01 — no float takes part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import Field, computed_field
from pydantic.dataclasses import dataclass

from ..books.safety import atomic_write, refuse_if_open_elsewhere
from ..books.styles import header_lines, header_width, print_ready, wrapped_lines, write_text
from ..core.cells import format_date
from ..core.changelog import promotion_dates
from ..core.errors import MasterError
from ..core.master import Master
from ..core.models import (
    IMPLEMENTATION_STAGES,
    LedgerEntry,
    ReturnStatus,
    Stage,
    UnitCategory,
    YesNo,
)
from ..core.money import CENT, round_half_up
from ..core.periods import months, period_end, period_month
from ..core.problems import closure
from ..core.results import RESULT, Hidden
from ..core.returns import reports_in, submission_status
from .progress import benchmark_percent

__all__ = ["INDICATORS", "PERFORMANCE", "GROUPS", "UNCATEGORISED", "Ratio", "InvestmentRatio",
           "StartRatio", "CompletionRatio", "TimelinessRatio", "ProblemRatio", "UnitAssessment",
           "Assessment",
           "ASSESSMENT_SHEET", "weights_of", "assess_units", "method_text", "write_assessment"]

# (key, Chinese name, the 设置 field holding its weight)
INDICATORS = (
    ("investment", "投资完成率", "weight_investment"),
    ("start", "开工率", "weight_start"),
    ("completion", "竣工率", "weight_completion"),
    ("timeliness", "报送及时率", "weight_timeliness"),
    ("problems", "问题办结率", "weight_problems"),
)
# The indicators that make a unit rated (参评): 报送及时率 alone does not.
PERFORMANCE = ("investment", "start", "completion", "problems")
UNCATEGORISED = "未分类"
GROUPS = (*(c.value for c in UnitCategory), UNCATEGORISED)  # ranking groups, in this order
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
    """投资完成率: 本年累计完成投资 of 年度计划投资 (万元), scored against the 时序进度."""

    benchmark: Hidden[Decimal] = Decimal(0)  # 时序进度 at the end of the range, a fraction
    ceiling: Hidden[Decimal] = _ONE  # the score is capped here (1 = 100 %)

    @property
    def score(self) -> Decimal | None:
        """投资完成率 ÷ 时序进度, capped at the ceiling (exact); full marks when nothing was
        due yet."""
        rate = self.rate
        if rate is None:
            return None
        if self.benchmark <= 0:
            return self.ceiling
        return min(rate / self.benchmark, self.ceiling)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def versus_benchmark(self) -> Decimal | None:
        """投资完成率 as a percentage of the 时序进度, rounded once (not capped)."""
        rate = self.rate
        if rate is None or self.benchmark <= 0:
            return None
        return round_half_up(rate / self.benchmark * _HUNDRED, 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completed(self) -> Decimal:
        return self.done.quantize(CENT)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def plan(self) -> Decimal:
        return self.due.quantize(CENT)


@dataclass(frozen=True, config=RESULT)
class CountRatio(Ratio):
    """A ratio of project counts: how many are due, as ``due`` in the JSON."""

    @computed_field(alias="due")  # type: ignore[prop-decorator]
    @property
    def due_count(self) -> int:
        return int(self.due)


@dataclass(frozen=True, config=RESULT)
class StartRatio(CountRatio):
    """开工率: projects started of those due to start."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def started(self) -> int:
        return int(self.done)


@dataclass(frozen=True, config=RESULT)
class CompletionRatio(CountRatio):
    """竣工率: projects finished of those due to finish."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completed(self) -> int:
        return int(self.done)


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


@dataclass(frozen=True, config=RESULT)
class ProblemRatio(Ratio):
    """问题办结率: problems closed of those due (given to the unit as 协调责任单位)."""

    in_time: Hidden[int] = 0  # of the closed, closed within their 办理时限

    @computed_field  # type: ignore[prop-decorator]
    @property
    def closed(self) -> int:
        return int(self.done)

    @computed_field(alias="due")  # type: ignore[prop-decorator]
    @property
    def due_count(self) -> int:
        return int(self.due)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time(self) -> int:
        return self.in_time


def _no_problems() -> ProblemRatio:
    return ProblemRatio(Decimal(0), Decimal(0))


@dataclass(config=RESULT)
class UnitAssessment:
    """One 牵头单位's indicators, score and rank."""

    unit: str
    projects: int  # 实施 projects assessed at --to
    investment: InvestmentRatio  # 本年累计完成投资 / 年度计划投资 (万元)
    start: StartRatio  # started / due to start
    completion: CompletionRatio  # finished / due to finish
    timeliness: TimelinessRatio  # on-time returns / expected returns
    category: str = UNCATEGORISED  # 单位类别: the group it is ranked in
    carried: int = 0  # projects whose figures at --to are not that month's
    rated: bool = False  # 参评: an investment, start or completion indicator applies
    score: Decimal | None = None  # 0–100 (up to the ceiling), rounded to 0.01; None: 不参评
    rank: int | None = None  # over every rated unit
    group_rank: int | None = None  # within its 单位类别
    weights_used: dict[str, Decimal] = field(default_factory=dict)  # renormalised, sum 100
    problems: ProblemRatio = field(default_factory=_no_problems)  # closed / due (协调责任单位)

    def indicator(self, key: str) -> Ratio:
        ratio: Ratio = getattr(self, key)
        return ratio

    def indicator_score(self, key: str) -> Decimal | None:
        """The indicator's score (exact): investment against the 时序进度, the others
        capped at 100 %; ``None`` when it does not apply."""
        if key == "investment":
            return self.investment.score
        rate = self.indicator(key).rate
        return None if rate is None else min(rate, _ONE)


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
    benchmark: Decimal = Decimal(0)  # 时序进度 at --to, per cent, rounded to 0.01
    ceiling: int = 100  # 投资完成计分上限, per cent

    def unit(self, name: str) -> UnitAssessment:
        for unit in self.units:
            if unit.unit == name:
                return unit
        raise KeyError(name)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rule(self) -> str:
        """How the score is made, in the words the 考核表 and the command print."""
        return method_text(self.weights, self.benchmark, self.ceiling, int(self.last[5:7]))

    def group(self, name: str) -> list[UnitAssessment]:
        return [u for u in self.units if u.category == name]


def weights_of(master: Master) -> dict[str, int]:
    weights = {key: int(getattr(master.settings, setting)) for key, _, setting in INDICATORS}
    names = {key: name for key, name, _ in INDICATORS}
    negative = [names[k] for k, w in weights.items() if w < 0]
    if negative:
        raise MasterError(f"“设置”中的考核权重不能为负数（{'、'.join(negative)}）。")
    if not any(weights.values()):
        raise MasterError("“设置”中的各项考核权重都为 0，无法计算得分。请在台账“设置”工作表中填写权重。")
    if not any(weights[k] for k in PERFORMANCE):
        raise MasterError("“设置”中投资完成率、开工率、竣工率、问题办结率的考核权重都为 0，没有单位可以"
                          "参评。请在台账“设置”工作表中填写权重。")
    return weights


def method_text(weights: dict[str, int], benchmark: Decimal, ceiling: int, month: int) -> str:
    """The scoring rule in plain Chinese, with this assessment's figures."""
    names = {key: name for key, name, _ in INDICATORS}
    # An indicator the office has not turned on (问题办结率 until it has a weight) is not named.
    shown = "、".join(f"{names[k]}{w}" for k, w in weights.items() if w or k != "problems")
    return (f"得分＝100×Σ（权重×指标得分）÷适用指标的权重之和，权重为{shown}。"
            f"投资完成率按与时序进度之比计分（考核期末{month}月时序进度{benchmark}%），"
            f"达到时序进度即得满分，最高按{ceiling}%计；开工率、竣工率、报送及时率"
            + ("、问题办结率" if weights.get("problems") else "") + "超过100%的"
            "按100%计。分母为0的指标不适用，不计分，其权重按比例分给其余适用指标。"
            "投资完成率、开工率、竣工率" + ("、问题办结率" if weights.get("problems") else "")
            + "都不适用的单位（如只有预备项目）不参评，不计得分和排名。"
            "按单位类别（县区、市直部门、国有企业）分组排名。")


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
    carried: int = 0


def assess_units(master: Master, start: str, end: str) -> Assessment:
    """Every 牵头单位 (and, once 问题办结率 has a weight, 协调责任单位) assessed over the
    报告期 ``start``…``end`` with the weights of 设置, ranked (see the module)."""
    weights = weights_of(master)
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
            if status.status is ReturnStatus.ON_TIME:
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
        if row is None or row.period != end:
            counts.carried += 1
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

    # 问题办结率: of the items given to the unit, those due (or closed) by the end of ``end``
    problem_counts = {c.unit: ProblemRatio(Decimal(c.closed), Decimal(c.total), c.on_time)
                      for c in closure(master, end, end_day, due_only=True)}
    if weights.get("problems"):  # a unit that only coordinates problems is assessed on them
        for unit in problem_counts:
            tally(unit)
    settings = master.settings
    exact_benchmark = benchmark_percent(settings.benchmark_method, int(end[5:7]),
                                        settings.monthly_targets)
    result = Assessment(master.year, settings.city, start, end, weights,
                        benchmark=round_half_up(exact_benchmark, 2),
                        ceiling=settings.score_ceiling)
    benchmark = exact_benchmark / _HUNDRED
    ceiling = Decimal(settings.score_ceiling) / _HUNDRED
    units = []
    for name, t in tallies.items():
        known = master.unit(name)
        category = known.category.value if known is not None and known.category else UNCATEGORISED
        units.append(UnitAssessment(
            name, t.projects, InvestmentRatio(t.completed, t.plan, benchmark, ceiling),
            StartRatio(Decimal(t.started), Decimal(t.start_due)),
            CompletionRatio(Decimal(t.finished), Decimal(t.finish_due)),
            TimelinessRatio(Decimal(t.on_time), Decimal(t.expected)), category, t.carried,
            problems=problem_counts.get(name, _no_problems())))
    for assessed in units:
        _score(assessed, weights)
    _rank(units, lambda u: u.rank, "rank")
    for group in GROUPS:
        _rank([u for u in units if u.category == group], lambda u: u.group_rank, "group_rank")
    units.sort(key=lambda u: (GROUPS.index(u.category), not u.rated, u.group_rank or 0,
                              tallies[u.unit].order))
    result.units = units
    return result


def _score(unit: UnitAssessment, weights: dict[str, int]) -> None:
    """Rated or not, and the score over the indicators that apply (renormalised weights)."""
    applying = {key: weights[key] for key, _, _ in INDICATORS
                if weights[key] and unit.indicator(key).applies}
    unit.rated = any(key in applying for key in PERFORMANCE)
    if not unit.rated:
        return
    weight_sum = sum(applying.values())
    total = sum((w * (unit.indicator_score(k) or Decimal(0)) for k, w in applying.items()),
                Decimal(0))
    unit.score = round_half_up(total * _HUNDRED / weight_sum, 2)
    unit.weights_used = {k: round_half_up(Decimal(w) * _HUNDRED / weight_sum, 2)
                         for k, w in applying.items()}


def _rank(units: list[UnitAssessment], get: Callable[[UnitAssessment], int | None],
          name: str) -> None:
    scored = sorted((u for u in units if u.score is not None),
                    key=lambda u: u.score or Decimal(0), reverse=True)
    for position, unit in enumerate(scored, start=1):
        before = scored[position - 2] if position > 1 else None
        if before is not None and before.score == unit.score:
            setattr(unit, name, get(before))
        else:
            setattr(unit, name, position)


# ---- the print-ready workbook -----------------------------------------------------------------

_TITLE_ROW, _NOTE_ROW, _HEADER_ROW = 1, 2, 3
_SIDE = Side(style="thin", color="000000")
_BORDER = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_TITLE_FONT = Font(name="宋体", size=16, bold=True)
_HEADER_FONT = Font(name="黑体", size=10)
_GROUP_FONT = Font(name="黑体", size=11)
_BODY_FONT = Font(name="宋体", size=10)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")
_GROUP_FILL = PatternFill("solid", fgColor="D9E1F2")
PERCENT_FORMAT = "0.00%"
_MONEY_FORMAT = "#,##0.00"
_NUMERALS = "一二三四五六七八九十"
# (header, width, number format); the values come from ``_values`` in this order
_COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    ("组内排名", 7, "0"),
    ("牵头单位", 28, None),
    ("年度计划投资（万元）", 13, _MONEY_FORMAT),
    ("本年累计完成投资（万元）", 13, _MONEY_FORMAT),
    ("投资完成率", 9, PERCENT_FORMAT),
    ("为时序进度的", 9, PERCENT_FORMAT),
    ("计划开工（项）", 7, "0"),
    ("已开工（项）", 7, "0"),
    ("开工率", 8, PERCENT_FORMAT),
    ("计划竣工（项）", 7, "0"),
    ("已竣工（项）", 7, "0"),
    ("竣工率", 8, PERCENT_FORMAT),
    ("应报送（次）", 7, "0"),
    ("按时报送（次）", 7, "0"),
    ("报送及时率", 9, PERCENT_FORMAT),
    ("得分", 8, "0.00"),
    ("备注", 24, None),
)
# 问题办结率's columns, before 得分, once the office has given it a weight.
_PROBLEM_COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    ("应办结问题（个）", 7, "0"),
    ("已办结问题（个）", 7, "0"),
    ("问题办结率", 9, PERCENT_FORMAT),
)
_SCORE_AT = 15  # where 得分 stands in ``_COLUMNS``


def _columns(result: Assessment) -> tuple[tuple[str, float, str | None], ...]:
    if not result.weights.get("problems"):
        return _COLUMNS
    return _COLUMNS[:_SCORE_AT] + _PROBLEM_COLUMNS + _COLUMNS[_SCORE_AT:]


def _fraction(percent: Decimal | None) -> Decimal | None:
    """A rounded percentage as the fraction Excel formats with 0.00%."""
    return None if percent is None else percent / _HUNDRED


def _remark(unit: UnitAssessment, problems: bool = False) -> str:
    notes = []
    if not unit.rated:
        notes.append("不参评（无投资、开工、竣工" + ("、问题办结" if problems else "") + "考核任务）")
    if unit.carried:
        notes.append(f"{unit.carried}个项目数据沿用以前月份")
    return "；".join(notes)


def _values(unit: UnitAssessment, problems: bool = False) -> list[object]:
    values: list[object] = [
        unit.group_rank if unit.rated else "不参评", unit.unit, unit.investment.due,
        unit.investment.done, _fraction(unit.investment.percent),
        _fraction(unit.investment.versus_benchmark), int(unit.start.due),
        int(unit.start.done), _fraction(unit.start.percent), int(unit.completion.due),
        int(unit.completion.done), _fraction(unit.completion.percent),
        int(unit.timeliness.due), int(unit.timeliness.done),
        _fraction(unit.timeliness.percent)]
    if problems:
        values += [int(unit.problems.due), int(unit.problems.done),
                   _fraction(unit.problems.percent)]
    return values + [unit.score, _remark(unit, problems)]


def _period_words(period: str) -> str:
    month = period_month(period)
    return f"{month.year}年{month.month}月"


def write_assessment(result: Assessment, path: Path) -> None:
    """The print-ready 考核结果 workbook (A4 landscape) of ``result``: one block per 单位类别,
    ranked within it, and the scoring rule under the table."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = ASSESSMENT_SHEET
    columns = _columns(result)
    problems = columns is not _COLUMNS
    last_column = len(columns)
    title = f"{result.city}{result.year}年重大项目责任单位考核结果"
    _banner(ws, _TITLE_ROW, title, _TITLE_FONT, _CENTER, last_column, 32)
    note = (f"考核期：{_period_words(result.first)}至{_period_words(result.last)}"
            f"（数据截至{format_date(period_end(result.last))}）；时序进度{result.benchmark}%；"
            "按单位类别分组排名，满分100分")
    _banner(ws, _NOTE_ROW, note, _BODY_FONT, _LEFT, last_column, 20)
    lines = 1
    for index, (header, width, _) in enumerate(columns, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=index)
        text = header_lines(header, width, _HEADER_FONT.sz)  # 计划开工 ⏎ （项）, not （ ⏎ 项）
        write_text(cell, text)
        cell.font, cell.alignment, cell.border = _HEADER_FONT, _CENTER, _BORDER
        ws.column_dimensions[get_column_letter(index)].width = header_width(
            text, width, _HEADER_FONT.sz)
        lines = max(lines, text.count("\n") + 1)
    ws.row_dimensions[_HEADER_ROW].height = 16 * lines + 10
    row = _HEADER_ROW + 1
    shown = [g for g in GROUPS if result.group(g)]
    for number, group in enumerate(shown):
        if number:  # each group starts a page: it is read, and handed on, on its own
            ws.row_breaks.append(Break(id=row - 1))
        units = result.group(group)
        rated = sum(1 for u in units if u.rated)
        label = f"{_NUMERALS[number]}、{group}（{len(units)}个单位，参评{rated}个）"
        if group == UNCATEGORISED:
            label += "：请在台账“责任单位”工作表填写单位类别"
        _banner(ws, row, label, _GROUP_FONT, _LEFT, last_column, 20, fill=True)
        row += 1
        for unit in units:
            values = _values(unit, problems)
            for index, value in enumerate(values, start=1):
                _body_cell(ws.cell(row=row, column=index), value, columns[index - 1][2])
            lines = max((wrapped_lines(value, width, _BODY_FONT.sz) for value, (_, width, _)
                         in zip(values, columns, strict=True) if isinstance(value, str)),
                        default=1)
            ws.row_dimensions[row].height = 14 * lines + 4
            row += 1
    notes = _notes(result)
    _write_notes(ws, row + 1, last_column, notes)
    ws.freeze_panes = f"C{_HEADER_ROW + 1}"
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{_HEADER_ROW}:{_HEADER_ROW}",
                area=f"A1:{get_column_letter(last_column)}{row + len(notes)}")
    refuse_if_open_elsewhere(path)
    atomic_write(path, lambda temp: book.save(temp))


def _banner(ws: Worksheet, row: int, text: str, font: Font, alignment: Alignment,
            last_column: int, height: float, fill: bool = False) -> None:
    cell = ws.cell(row=row, column=1)
    write_text(cell, text)
    cell.font, cell.alignment = font, alignment
    if fill:
        for column in range(1, last_column + 1):
            ws.cell(row=row, column=column).fill = _GROUP_FILL
            ws.cell(row=row, column=column).border = _BORDER
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_column)
    ws.row_dimensions[row].height = height


def _body_cell(cell: Any, value: object, number_format: str | None) -> None:
    cell.border, cell.font = _BORDER, _BODY_FONT
    if value is None:
        write_text(cell, "—")
        cell.alignment = _CENTER
        return
    if isinstance(value, str):
        write_text(cell, value)
        cell.alignment = _CENTER if number_format == "0" else _LEFT
        return
    cell.value = value
    cell.alignment = _CENTER if number_format == "0" else _RIGHT  # ranks and counts centred
    if number_format is not None:
        cell.number_format = number_format


def _notes(result: Assessment) -> list[str]:
    notes = [
        "说明：1. 投资完成率＝本年累计完成投资÷年度计划投资（该单位牵头的实施项目）；“为时序进度的”"
        "＝投资完成率÷时序进度，投资完成率按此计分。",
        "2. 开工率＝已开工项目数÷计划在考核期末前开工的新开工项目数；竣工率＝已竣工项目数÷计划在考核期末前"
        "竣工的竣工项目数（未填计划时间的按12月计）。",
        "3. 报送及时率＝按时报送次数÷应报送次数（考核期内每个有项目需报送的报告期计一次；按时＝在截止日前"
        "收到且通过校验的报表）。",
        f"4. {result.rule}",
        "5. 退出项目只计至退出日期所在的报告期，增补项目自批次日期所在的报告期起计；"
        "预备项目自转入实施日期所在的报告期起按新开工项目计；某月未报送的项目沿用最近一次报送的数据。",
    ]
    if result.weights.get("problems"):
        notes.insert(3, "4. 问题办结率＝已办结问题数÷应办结问题数：该单位作为协调责任单位交办的问题中，"
                        "办理时限"
                        "在考核期末前的（未定时限的按12月底计）和考核期末前已办结的；不再协调的问题不计。")
        notes[4] = notes[4].replace("4. ", "5. ", 1)
        notes[5] = notes[5].replace("5. ", "6. ", 1)
    return notes


def _write_notes(ws: Worksheet, row: int, last_column: int, notes: list[str]) -> None:
    for offset, text in enumerate(notes):
        cell = ws.cell(row=row + offset, column=1)
        write_text(cell, text)
        cell.font, cell.alignment = _BODY_FONT, _LEFT
        ws.merge_cells(start_row=row + offset, start_column=1, end_row=row + offset,
                       end_column=last_column)
        ws.row_dimensions[row + offset].height = 42 if len(text) > 110 else 28
