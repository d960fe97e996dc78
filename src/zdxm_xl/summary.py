"""The plan summary (SPEC §4.1): counts, 总投资 and 年度计划投资 by 阶段 × 行业分类.

Sums are exact in 万元; each figure in 亿元 is rounded once from its own exact sum, so a
total can differ by 0.01 from the sum of its printed parts — as in the office's own plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .master import Master, MasterStore, as_store
from .models import Project
from .money import format_amount, to_yi
from .registry import IMPLEMENTATION_STAGES, SECTORS

__all__ = ["SummaryRow", "PlanSummary", "summarize", "summary_text", "summary_table",
           "refresh_summary"]

ALL_IMPLEMENTATION = None  # stage None: every 实施项目


@dataclass(frozen=True)
class SummaryRow:
    """One cell group of the summary; ``stage``/``sector`` ``None`` mean "all"."""

    stage: str | None  # None = 实施项目合计; 新开工/续建/竣工/预备
    sector: str | None  # None = 合计
    count: int
    total_wan: Decimal  # exact sum, 万元
    annual_wan: Decimal | None  # exact sum, 万元; None for 预备

    @property
    def total_yi(self) -> Decimal:
        return to_yi(self.total_wan)

    @property
    def annual_yi(self) -> Decimal | None:
        return None if self.annual_wan is None else to_yi(self.annual_wan)

    def as_json(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "sector": self.sector,
            "count": self.count,
            "total_investment": format_amount(self.total_yi),
            "annual_plan": None if self.annual_yi is None else format_amount(self.annual_yi),
        }


@dataclass(frozen=True)
class PlanSummary:
    year: int
    city: str
    rows: tuple[SummaryRow, ...]

    def row(self, stage: str | None, sector: str | None = None) -> SummaryRow:
        for row in self.rows:
            if row.stage == stage and row.sector == sector:
                return row
        raise KeyError((stage, sector))

    def as_json(self) -> dict[str, object]:
        return {"year": self.year, "rows": [row.as_json() for row in self.rows]}


def _row(stage: str | None, sector: str | None, projects: Iterable[Project]) -> SummaryRow:
    chosen = [p for p in projects if sector is None or p.sector == sector]
    total = sum((p.total_investment for p in chosen), Decimal(0))
    annual = None
    if stage != "预备":
        annual = sum((p.annual_plan or Decimal(0) for p in chosen), Decimal(0))
    return SummaryRow(stage, sector, len(chosen), total, annual)


def summarize(master: Master, projects: Iterable[Project] | None = None) -> PlanSummary:
    """The summary of the active (在库) projects, or of ``projects`` if given."""
    pool = [p for p in (master.projects if projects is None else projects) if p.active]
    rows: list[SummaryRow] = []
    groups: list[tuple[str | None, list[Project]]] = [
        (ALL_IMPLEMENTATION, [p for p in pool if p.stage in IMPLEMENTATION_STAGES])
    ]
    groups += [(stage, [p for p in pool if p.stage == stage])
               for stage in (*IMPLEMENTATION_STAGES, "预备")]
    for stage, members in groups:
        for sector in (None, *SECTORS):
            rows.append(_row(stage, sector, members))
    return PlanSummary(master.year, master.settings.city, tuple(rows))


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
    for numeral, stage in zip(numerals, (*IMPLEMENTATION_STAGES, "预备"), strict=True):
        row = summary.row(stage)
        lines.append("")
        lines.append(f"（{numeral}）{stage}项目")
        lines.append(f"{stage}项目{_figures(row, '项目总投资' if stage == '预备' else '总投资')}。")
        sectors = _by_sector(summary, stage)
        if sectors:
            lines.append(sectors)
    return "\n".join(lines)


def summary_table(summary: PlanSummary) -> list[list[object]]:
    """The summary as rows of the 汇总 table (registry ``SUMMARY``), figures in 亿元."""
    rows: list[list[object]] = []
    for row in summary.rows:
        stage = "实施项目合计" if row.stage is None else row.stage
        rows.append([stage, row.sector or "合计", row.count, row.total_yi, row.annual_yi])
    return rows


def refresh_summary(master: MasterStore | Path | str) -> PlanSummary:
    """Recompute the summary and rewrite the master's 汇总 sheet (only that sheet)."""
    store = as_store(master)
    with store.session():
        summary = summarize(store.load())
        store.write_summary(summary_table(summary), summary_text(summary))
    return summary
