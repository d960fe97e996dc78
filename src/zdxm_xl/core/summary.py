"""The plan summary (SPEC §4.1): counts, 总投资 and 年度计划投资 by 阶段 × 行业分类.

Sums are exact in 万元; each figure in 亿元 is rounded once from its own exact sum, so a
total can differ by 0.01 from the sum of its printed parts — as in the office's own plan.

The summary of the whole master also knows how the plan changed during the year: the same
rows for the 年初计划 (``changelog.initial_plan``: batch 年初 as it stood at the start of
the year, including projects exited since) beside the 调整后 plan (the projects 在库 now),
and the 增补 batches, 退出 projects and 转入实施 promotions in between.

The 汇总 sheet of the master is this summary — a view derived from the plan, so it lives
with the Master: every store writes it (``summary_sheet``) whenever it saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, computed_field
from pydantic.dataclasses import dataclass

from .cells import format_date
from .changelog import INITIAL_BATCH, initial_plan, promotion_dates
from .master import Master
from .models import IMPLEMENTATION_STAGES, Project, Sector, Stage
from .money import format_amount, to_yi
from .results import RESULT, Hidden

__all__ = ["SummaryRow", "PlanSummary", "BatchInfo", "ExitInfo", "PromotionInfo", "summarize",
           "summary_text", "comparison_text", "summary_table", "summary_sheet"]

ALL_IMPLEMENTATION = None  # stage None: every 实施项目


@dataclass(frozen=True, config=RESULT)
class SummaryRow:
    """One cell group of the summary; ``stage``/``sector`` ``None`` mean "all"."""

    stage: Stage | None  # None = 实施项目合计; 新开工/续建/竣工/预备
    sector: Sector | None  # None = 合计
    count: int
    total_wan: Hidden[Decimal]  # exact sum, 万元
    annual_wan: Hidden[Decimal | None]  # exact sum, 万元; None for 预备

    @property
    def total_yi(self) -> Decimal:
        return to_yi(self.total_wan)

    @property
    def annual_yi(self) -> Decimal | None:
        return None if self.annual_wan is None else to_yi(self.annual_wan)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_investment(self) -> Decimal:
        """总投资, 亿元."""
        return self.total_yi

    @computed_field  # type: ignore[prop-decorator]
    @property
    def annual_plan(self) -> Decimal | None:
        """年度计划投资, 亿元."""
        return self.annual_yi


def _yi_text(amount_wan: Decimal | None) -> str | None:
    return None if amount_wan is None else format_amount(to_yi(amount_wan))


def _yi(amount_wan: Decimal | None) -> Decimal | None:
    return None if amount_wan is None else to_yi(amount_wan)


class _InYi:
    """总投资 and 年度计划投资 in the JSON in 亿元, from the figures kept in 万元."""

    total_wan: Decimal
    annual_wan: Decimal | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_investment(self) -> Decimal | None:
        return _yi(self.total_wan)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def annual_plan(self) -> Decimal | None:
        return _yi(self.annual_wan)


@dataclass(frozen=True, config=RESULT)
class BatchInfo(_InYi):
    """A 增补 batch: its name, date and what it added (figures as added, 万元)."""

    name: Annotated[str, Field(serialization_alias="batch")]
    day: Annotated[date | None, Field(serialization_alias="date")]  # 批次日期
    implementation: int
    preparatory: int
    total_wan: Hidden[Decimal]
    annual_wan: Hidden[Decimal]
    project_ids: tuple[str, ...]


@dataclass(frozen=True, config=RESULT)
class ExitInfo(_InYi):
    """A project taken out of the plan (退出)."""

    project_id: str
    name: str
    stage: Stage
    lead_unit: str
    batch: str
    day: Annotated[date | None, Field(serialization_alias="date")]  # 退出日期
    reason: str | None
    total_wan: Hidden[Decimal]
    annual_wan: Hidden[Decimal | None]


@dataclass(frozen=True, config=RESULT)
class PromotionInfo:
    """A 预备 project moved into implementation (转入实施, 新开工)."""

    project_id: str
    name: str
    day: Annotated[date, Field(serialization_alias="date")]
    annual_wan: Hidden[Decimal | None]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def annual_plan(self) -> Decimal | None:
        return _yi(self.annual_wan)


@dataclass(frozen=True, config=RESULT)
class PlanSummary:
    """``rows`` are the summary of the projects summarised (the 调整后 plan for a master).

    For a whole master ``initial`` holds the same rows for the 年初计划, with the batches,
    exits and promotions that lead from one to the other; for a chosen set of projects it
    is ``None``."""

    year: int
    city: str
    rows: tuple[SummaryRow, ...]
    initial: tuple[SummaryRow, ...] | None = None
    batches: tuple[BatchInfo, ...] = ()
    exits: tuple[ExitInfo, ...] = ()
    promotions: tuple[PromotionInfo, ...] = ()

    def row(self, stage: str | None, sector: str | None = None) -> SummaryRow:
        return _find(self.rows, stage, sector)

    def initial_row(self, stage: str | None, sector: str | None = None) -> SummaryRow:
        if self.initial is None:
            raise KeyError((stage, sector))
        return _find(self.initial, stage, sector)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def adjusted(self) -> tuple[SummaryRow, ...]:
        """调整后: the plan as it is now (the same rows as ``rows``)."""
        return self.rows


def _find(rows: tuple[SummaryRow, ...], stage: str | None, sector: str | None) -> SummaryRow:
    for row in rows:
        if row.stage == stage and row.sector == sector:
            return row
    raise KeyError((stage, sector))


def _row(stage: Stage | None, sector: Sector | None, projects: Iterable[Project]) -> SummaryRow:
    chosen = [p for p in projects if sector is None or p.sector == sector]
    total = sum((p.total_investment for p in chosen), Decimal(0))
    annual = None
    if stage != Stage.PREPARATORY:
        annual = sum((p.annual_plan or Decimal(0) for p in chosen), Decimal(0))
    return SummaryRow(stage, sector, len(chosen), total, annual)


def _rows(projects: Iterable[Project]) -> tuple[SummaryRow, ...]:
    pool = [p for p in projects if p.active]
    rows: list[SummaryRow] = []
    groups: list[tuple[Stage | None, list[Project]]] = [
        (ALL_IMPLEMENTATION, [p for p in pool if p.stage in IMPLEMENTATION_STAGES])
    ]
    groups += [(stage, [p for p in pool if p.stage == stage])
               for stage in Stage]
    for stage, members in groups:
        for sector in (None, *Sector):
            rows.append(_row(stage, sector, members))
    return tuple(rows)


def summarize(master: Master, projects: Iterable[Project] | None = None) -> PlanSummary:
    """The summary of the active (在库) projects, or of ``projects`` if given.

    For the whole master (no ``projects``) it also holds the 年初计划 rows, the 增补 batches,
    the exits and the promotions (see ``PlanSummary``)."""
    if projects is not None:
        return PlanSummary(master.year, master.settings.city, _rows(projects))
    return PlanSummary(master.year, master.settings.city, _rows(master.projects),
                       initial=_rows(initial_plan(master)), batches=_batches(master),
                       exits=_exits(master), promotions=_promotions(master))


def _batches(master: Master) -> tuple[BatchInfo, ...]:
    names: dict[str, list[Project]] = {}
    for project in master.projects:
        if project.batch != INITIAL_BATCH:
            names.setdefault(project.batch, []).append(project)
    batches = []
    for name, members in names.items():
        days = [p.batch_date for p in members if p.batch_date is not None]
        batches.append(BatchInfo(
            name, min(days) if days else None,
            sum(1 for p in members if not p.is_preparatory),
            sum(1 for p in members if p.is_preparatory),
            sum((p.total_investment for p in members), Decimal(0)),
            sum((p.annual_plan or Decimal(0) for p in members), Decimal(0)),
            tuple(p.id for p in members)))
    return tuple(sorted(batches, key=lambda b: (b.day or date.max, b.name)))


def _exits(master: Master) -> tuple[ExitInfo, ...]:
    exits = [ExitInfo(p.id, p.name, p.stage, p.lead_unit, p.batch, p.exit_date, p.exit_reason,
                      p.total_investment, None if p.is_preparatory else p.annual_plan)
             for p in master.projects if not p.active]
    return tuple(sorted(exits, key=lambda e: (e.day or date.max, e.project_id)))


def _promotions(master: Master) -> tuple[PromotionInfo, ...]:
    known = {p.id: p for p in master.projects}
    found = [PromotionInfo(pid, known[pid].name, day, known[pid].annual_plan)
             for pid, day in promotion_dates(master).items() if pid in known]
    return tuple(sorted(found, key=lambda p: (p.day, p.project_id)))


def _amounts(row: SummaryRow, noun: str = "总投资") -> str:
    text = f"{noun}{format_amount(row.total_yi)}亿元"
    if row.annual_yi is not None:
        text += f"，年度计划投资{format_amount(row.annual_yi)}亿元"
    return text


def _figures(row: SummaryRow, noun: str = "总投资") -> str:
    return f"{row.count}项，{_amounts(row, noun)}"


def _by_sector(summary: PlanSummary, stage: str) -> str:
    parts = [f"{row.sector}项目{_figures(row)}" for row in summary.rows
             if row.stage == stage and row.sector is not None and row.count]
    return "按行业分：" + "；".join(parts) + "。" if parts else ""


def summary_text(summary: PlanSummary) -> str:
    """The summary in the words of the office's plan (工作任务 section)."""
    whole = summary.row(ALL_IMPLEMENTATION)
    prep = summary.row("预备")
    lines = [
        f"{summary.city}{summary.year}年重大项目包括实施项目和预备项目，实施项目分为新开工、续建和竣工"
        f"三类共{whole.count}项，{_amounts(whole, '项目总投资')}。重点推进预备项目{prep.count}项，"
        f"项目总投资{format_amount(prep.total_yi)}亿元。"
    ]
    numerals = ("一", "二", "三", "四")
    for numeral, stage in zip(numerals, Stage, strict=True):
        row = summary.row(stage)
        lines.append("")
        lines.append(f"（{numeral}）{stage}项目")
        lines.append(f"{stage}项目{_figures(row, '项目总投资' if stage == '预备' else '总投资')}。")
        sectors = _by_sector(summary, stage)
        if sectors:
            lines.append(sectors)
    return "\n".join(lines)


def _change_words(before: SummaryRow, after: SummaryRow) -> str:
    words = f"年初计划{_figures(before)}；调整后{_figures(after)}"
    if before.count == after.count and before.total_wan == after.total_wan \
            and before.annual_wan == after.annual_wan:
        words += "（无变化）"
    return words + "。"


def comparison_text(summary: PlanSummary) -> str:
    """年初计划 against 调整后, and each 增补 batch, exit and promotion, in plain Chinese."""
    if summary.initial is None:
        return ""
    lines = ["年初计划与调整后对比："]
    for stage, noun in ((ALL_IMPLEMENTATION, "实施项目"), ("新开工", "新开工项目"),
                        ("续建", "续建项目"), ("竣工", "竣工项目"), ("预备", "预备项目")):
        lines.append(f"{noun}：{_change_words(summary.initial_row(stage), summary.row(stage))}")
    if summary.batches:
        lines.append(f"增补批次（{len(summary.batches)}批）：")
        for batch in summary.batches:
            when = f"（{format_date(batch.day)}）" if batch.day else ""
            lines.append(f"  {batch.name}{when}：实施项目{batch.implementation}项、预备项目"
                         f"{batch.preparatory}项，总投资{_yi_text(batch.total_wan)}亿元，"
                         f"年度计划投资{_yi_text(batch.annual_wan)}亿元。")
    if summary.exits:
        lines.append(f"退出项目（{len(summary.exits)}项）：")
        for gone in summary.exits:
            when = format_date(gone.day) if gone.day else "日期未记录"
            lines.append(f"  {gone.project_id} {gone.name}（{gone.stage}，{gone.lead_unit}）："
                         f"{when}退出，原因：{gone.reason or '未记录'}。")
    if summary.promotions:
        lines.append(f"转入实施（{len(summary.promotions)}项）：")
        for moved in summary.promotions:
            annual = _yi_text(moved.annual_wan)
            lines.append(f"  {moved.project_id} {moved.name}：{format_date(moved.day)}由预备项目转为"
                         f"新开工项目" + (f"，年度计划投资{annual}亿元。" if annual else "。"))
    if not (summary.batches or summary.exits or summary.promotions):
        lines.append("年初以来没有增补、退出或转入实施的项目。")
    return "\n".join(lines)


def summary_table(summary: PlanSummary) -> list[list[object]]:
    """The summary as rows of the 汇总 table (registry ``SUMMARY``), figures in 亿元: the
    调整后 figures, then the 年初计划 ones beside them (empty without ``initial``)."""
    rows: list[list[object]] = []
    for row in summary.rows:
        stage = "实施项目合计" if row.stage is None else row.stage
        first: list[object] = [None, None, None]
        if summary.initial is not None:
            before = summary.initial_row(row.stage, row.sector)
            first = [before.count, before.total_yi, before.annual_yi]
        rows.append([stage, row.sector or "合计", row.count, row.total_yi, row.annual_yi, *first])
    return rows


def summary_sheet(master: Master) -> tuple[list[list[object]], str]:
    """The 汇总 sheet of ``master``: the table's rows and the text beside them (the summary
    in the plan's words, then 年初计划 against 调整后). Every store writes exactly this."""
    summary = summarize(master)
    return summary_table(summary), summary_text(summary) + "\n\n" + comparison_text(summary)
