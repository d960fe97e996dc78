"""Progress for a 报告期 (SPEC §4.4): the one context model the 简报 and 通报 templates read.

``compute_progress(master, period)`` returns a ``Progress``: investment completion (本年累计
against 年度计划, 投资完成率) overall and by 阶段, 行业分类, 县区 and 牵头单位; the 时序进度
and the gap to it; 开工率 and 竣工率 with the projects behind their planned months; 红黄绿
flags; lagging projects; 存在问题 and 需协调事项; 预备项目 前期 progress; 报送情况.

Exactness: amounts are summed exactly in 万元 and turned into 亿元 once (``money.to_yi``);
a rate or a gap is computed as an exact ``Decimal`` ratio and rounded once, half-up, to one
decimal (``money.round_half_up``). Flags and rankings compare the exact values, not the
rounded ones. No float is involved.

Which figures a project contributes: its row in 月报台帐 for the 报告期; a project whose unit
has not reported this month contributes its latest earlier row of the year (and counts in
``unreported``), so a missing return does not make the city's total drop. Such figures are
never passed off as current: ``freshness`` says how many projects and units are carried
over and from which month (the 简报 says it in words), each group counts its carried
projects (``carried``, ``data_note``: the 通报 marks them) and each project line names the
month its figures are from.

红黄绿 (设置 “预警方法”)::

    按比例（默认）  绿  完成率 ≥ 时序进度 × 黄色预警比例（80 %）
                    黄  时序进度 × 红色预警比例（50 %） ≤ 完成率 < 时序进度 × 黄色预警比例
                    红  完成率 < 时序进度 × 红色预警比例
    按百分点        绿  完成率 ≥ 时序进度 − 黄色预警差距（10）
                    黄  时序进度 − 红色预警差距（30） ≤ 完成率 < 时序进度 − 黄色预警差距
                    红  完成率 < 时序进度 − 红色预警差距

By ratio the bands work in every month (with 时序进度 25 % in March, 30 points below can never
happen); with 黄色预警差距 = 0 the points rule is SPEC §4.4's "green at or above the 时序进度".
A project 逾期未开工 or 逾期未竣工 is never 绿: it is at least 黄. Every field has a
description: ``zdxm bulletin --list-fields`` and ``docs/fields.md`` are generated from them.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from ..core.cells import format_date, format_month
from ..core.errors import MasterError
from ..core.master import Master
from ..core.models import AttachmentPlacement, FlagMethod, LedgerEntry, Project, ReturnStatus, UnitCategory
from ..core.money import round_half_up, to_yi
from ..core.periods import period_end, period_month, plan_period, previous_period
from ..core.problems import KEYWORDS, default_type, same_problem
from ..core.registry import IMPLEMENTATION_STAGES, PERMITS, SECTORS
from ..core.returns import reports_in, submission_status
from .supervision import (
    Context,
    ProblemFigures,
    Supervision,
    Tally,
    problem_figures,
    share,
    supervise,
    tally_text,
)

__all__ = [
    "RATE_PLACES",
    "FLAG_COLORS",
    "Flag",
    "Bands",
    "benchmark_percent",
    "flag_for",
    "parse_bulletin_log",
    "format_bulletin_log",
    "Group",
    "ProjectLine",
    "Milestones",
    "IssueItem",
    "PermitCount",
    "Preparatory",
    "UnitReturn",
    "Returns",
    "Freshness",
    "Progress",
    "compute_progress",
    "field_reference",
]

RATE_PLACES = 1  # 投资完成率、差距、开工率等百分数保留一位小数
HUNDRED = Decimal(100)
Flag = Literal["绿", "黄", "红"]
# Fills of the flags in both templates: Excel's own 好/中性/差 cell styles, legible in print.
FLAG_COLORS: dict[str, str] = {"绿": "C6EFCE", "黄": "FFEB9C", "红": "FFC7CE"}
NO_FLAG_COLOR = "FFFFFF"
NO_COUNTY = "未填县区"
NO_CATEGORY = "未分类"
NAMED_IN_BODY = 3  # 简报正文点名的项目数（本月新开工、竣工）；其余见附件或通报
TOP_UNITS = 3  # 各类单位点名的前几名、后几名
_TARGET_SEPARATORS = re.compile(r"[,，、;；\s]+")
_LOG_ITEM = re.compile(r"^(\d{4}-\d{2})=(\d+)$")


_FLAG_COLOR_HELP = ("预警底色（十六进制 RGB，如 FFC7CE）；Word 表格单元格开头写 "
                    "{% cellbg 行.flag_color %} 即按预警着色")


# ---- rules -------------------------------------------------------------------------------

def benchmark_percent(method: str, month: int, targets: str | None = None) -> Decimal:
    """时序进度 in percent (exact) for the ``month``-th month: 月数/12, 月数×10% (at most
    100), or the office's 各月目标 (twelve cumulative percentages, comma-separated)."""
    if method == "月数×10%":
        return min(Decimal(month * 10), HUNDRED)
    if method == "按月目标":
        parts = [p.rstrip("%％") for p in _TARGET_SEPARATORS.split((targets or "").strip()) if p]
        try:
            values = [Decimal(p) for p in parts]
        except ArithmeticError:
            values = []
        if len(values) != 12 or any(not v.is_finite() or not 0 <= v <= 100 for v in values):
            raise MasterError("台账“设置”中“各月目标（%）”应为 1—12 月的 12 个累计百分数（0—100），"
                              "用逗号分隔，如 5,12,20,28,36,45,54,63,72,81,90,100。")
        return values[month - 1]
    return Decimal(month * 100) / Decimal(12)


def flag_for(rate: Decimal | None, benchmark: Decimal, yellow_margin: int,
             red_margin: int) -> Flag | None:
    """红黄绿 of an exact completion rate against an exact 时序进度 (see the module doc)."""
    if rate is None:
        return None
    behind = benchmark - rate
    if behind > red_margin:
        return "红"
    if behind > yellow_margin:
        return "黄"
    return "绿"


@dataclass(frozen=True)
class Bands:
    """The office's 红黄绿 rule (设置): by ratio of the 时序进度 or by points below it."""

    method: FlagMethod = FlagMethod.RATIO
    yellow_ratio: int = 80
    red_ratio: int = 50
    yellow_margin: int = 10
    red_margin: int = 30

    def flag(self, rate: Decimal | None, benchmark: Decimal) -> Flag | None:
        """红黄绿 of an exact completion rate against an exact 时序进度."""
        if self.method is FlagMethod.POINTS:
            return flag_for(rate, benchmark, self.yellow_margin, self.red_margin)
        if rate is None:
            return None
        if benchmark <= 0:
            return "绿"  # nothing was due yet
        share = rate * HUNDRED / benchmark
        if share < self.red_ratio:
            return "红"
        if share < self.yellow_ratio:
            return "黄"
        return "绿"

    def text(self) -> str:
        """The rule in the 简报's words."""
        if self.method is FlagMethod.POINTS:
            return (f"完成率低于时序进度不超过{self.yellow_margin}个百分点为绿色，超过{self.yellow_margin}"
                    f"个百分点为黄色，超过{self.red_margin}个百分点为红色")
        return (f"完成率达到时序进度的{self.yellow_ratio}%及以上为绿色，不足{self.yellow_ratio}%为黄色，"
                f"不足{self.red_ratio}%为红色")


def parse_bulletin_log(text: str | None) -> dict[str, int]:
    """设置“已出简报” (``2022-01=1,2022-02=2``) → {报告期: 期数}; unreadable items are skipped."""
    log: dict[str, int] = {}
    for part in _TARGET_SEPARATORS.split(text or ""):
        match = _LOG_ITEM.match(part.strip())
        if match:
            log[match.group(1)] = int(match.group(2))
    return log


def format_bulletin_log(log: dict[str, int]) -> str:
    return ",".join(f"{period}={number}" for period, number in sorted(log.items()))


def _rate(done: Decimal, planned: Decimal) -> Decimal | None:
    return done * HUNDRED / planned if planned else None


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else round_half_up(value, RATE_PLACES)


def _change_text(change: Decimal | None, unit: str) -> str:
    if change is None:
        return ""
    if change > 0:
        return f"提高{change}{unit}"
    if change < 0:
        return f"下降{-change}{unit}"
    return "持平"


def _named(lines: Sequence[ProjectLine]) -> str:
    names = "、".join(line.name for line in lines[:NAMED_IN_BODY])
    return f"{names}等{len(lines)}个项目" if len(lines) > NAMED_IN_BODY else names


def _gap_text(gap: Decimal | None) -> str:
    if gap is None:
        return "无年度计划投资"
    if gap > 0:
        return f"高于时序进度{gap}个百分点"
    if gap < 0:
        return f"低于时序进度{-gap}个百分点"
    return "与时序进度持平"


# ---- the context model -------------------------------------------------------------------

class Group(Context):
    """投资完成情况的一个分组（全市合计、某阶段、某行业、某县区或某牵头单位）。"""

    name: str = Field(description="分组名称：合计、阶段、行业分类、县区或牵头单位名称")
    count: int = Field(description="实施项目个数")
    total_investment_yi: Decimal = Field(description="总投资（亿元）")
    annual_plan_yi: Decimal = Field(description="年度计划投资（亿元）")
    month_completed_yi: Decimal = Field(description="本月完成投资（亿元）")
    year_completed_yi: Decimal = Field(description="本年累计完成投资（亿元）")
    rate: Decimal | None = Field(description="投资完成率（%）：本年累计完成 ÷ 年度计划投资，一位小数；"
                                             "无年度计划投资时为空")
    gap: Decimal | None = Field(description="与时序进度之差（百分点）：完成率 − 时序进度，正数为超前")
    flag: Flag | None = Field(description="预警：绿、黄或红（规则见“设置”的黄色/红色预警差距）")
    rank: int | None = Field(default=None, description="按投资完成率从高到低的排名（并列同名次）；"
                                                        "合计、阶段、行业为空")
    reported: int = Field(description="本报告期已报送的项目个数")
    # ---- 环比、同比 and 单位类别 (filled by ``compute_progress``; see ``_compare``) ----
    previous_rate: Decimal | None = Field(
        default=None, description="上一报告期的投资完成率（%）；1月或上月无此分组时为空")
    rate_change: Decimal | None = Field(
        default=None, description="完成率较上月变化（百分点，环比）：本月完成率 − 上月完成率，正数为提高")
    previous_rank: int | None = Field(default=None, description="上一报告期的排名")
    rank_change: int | None = Field(
        default=None, description="名次变化（环比）：上月名次 − 本月名次，正数为上升")
    year_ago_completed_yi: Decimal | None = Field(
        default=None, description="上年同期累计完成投资（亿元，同比；未给出上年台账时为空）")
    year_ago_rate: Decimal | None = Field(default=None, description="上年同期投资完成率（%）")
    growth: Decimal | None = Field(
        default=None, description="累计完成投资同比增长（%）：（本年累计 − 上年同期）÷ 上年同期")
    category: str | None = Field(
        default=None, description="单位类别（县区、市直部门、国有企业；未填为“未分类”），仅牵头单位")
    group_rank: int | None = Field(default=None, description="在同类单位中的排名，仅牵头单位")
    carried: int = Field(default=0, description="其中数据沿用以前月份（本月未报送或未通过校验）"
                                                "或本年尚无数据的项目个数")
    data_note: str = Field(default="", description="数据说明：全部为本月数据时为空，否则如"
                                                   "“3个项目沿用2月数据”，通报排名中标注")

    @computed_field(description=_FLAG_COLOR_HELP)  # type: ignore[prop-decorator]
    @property
    def flag_color(self) -> str:
        return FLAG_COLORS.get(self.flag or "", NO_FLAG_COLOR)

    @computed_field(description="与时序进度的比较，如“低于时序进度2.3个百分点”")  # type: ignore[prop-decorator]
    @property
    def gap_text(self) -> str:
        return _gap_text(self.gap)

    @computed_field(  # type: ignore[prop-decorator]
        description="完成率较上月的变化，如“提高2.3个百分点”“下降0.5个百分点”“持平”；无可比数据时为空")
    @property
    def rate_change_text(self) -> str:
        return _change_text(self.rate_change, "个百分点")

    @computed_field(description="名次变化的简写，如“↑2”“↓1”“—”（持平或无可比）")  # type: ignore[prop-decorator]
    @property
    def rank_change_mark(self) -> str:
        if not self.rank_change:
            return "—"
        return f"↑{self.rank_change}" if self.rank_change > 0 else f"↓{-self.rank_change}"

    @computed_field(description="累计完成投资同比，如“同比增长12.3%”“同比下降4.0%”；无上年数据时为空")  # type: ignore[prop-decorator]
    @property
    def growth_text(self) -> str:
        if self.growth is None:
            return ""
        if self.growth == 0:
            return "与上年同期持平"
        return f"同比增长{self.growth}%" if self.growth > 0 else f"同比下降{-self.growth}%"

    @computed_field(description="简称：去掉括号中的部分（图表标签用），如“阳和工业新区”")  # type: ignore[prop-decorator]
    @property
    def short_name(self) -> str:
        return re.sub(r"（[^）]*）|\([^)]*\)", "", self.name) or self.name


class ProjectLine(Context):
    """一个项目的进度（滞后项目、逾期未开工或未竣工项目的一行）；金额单位为万元。"""

    id: str = Field(description="项目编号")
    name: str = Field(description="项目名称")
    unit: str = Field(description="牵头单位")
    county: str = Field(description="县区（未填时为空）")
    stage: str = Field(description="阶段：新开工、续建或竣工")
    sector: str = Field(description="行业分类")
    annual_plan_wan: Decimal = Field(description="年度计划投资（万元）")
    year_completed_wan: Decimal = Field(description="本年累计完成投资（万元）")
    rate: Decimal | None = Field(description="投资完成率（%）")
    gap: Decimal | None = Field(description="与时序进度之差（百分点）")
    flag: Flag | None = Field(description="预警：绿、黄或红")
    planned_start: str = Field(description="计划开工时间，如“2022年3月”")
    planned_end: str = Field(description="计划竣工时间，如“2022年12月”")
    progress: str = Field(description="形象进度（最近一次报送）")
    reasons: list[str] = Field(description="滞后原因，如“投资完成率低于时序进度12.5个百分点”“逾期未开工”")
    reported: bool = Field(description="本报告期是否已报送（未报送时数据取本年最近一次报送）")
    actual_date: str = Field(default="", description="实际开工（竣工）日期，如“2022年3月15日”；"
                                                     "仅本月新开工、竣工项目")
    data_period: str = Field(default="", description="数据所属报告期，如 2022-02；本年尚无数据时为空")
    data_note: str = Field(default="", description="数据说明：本月数据为空，否则如“沿用2月数据”"
                                                   "或“本年尚无数据”")

    @computed_field(description="滞后原因，用“；”连接")  # type: ignore[prop-decorator]
    @property
    def reasons_text(self) -> str:
        return "；".join(self.reasons)

    @computed_field(description="逾期情况：“未开工”“未竣工”，没有逾期为空（表格用）")  # type: ignore[prop-decorator]
    @property
    def overdue_text(self) -> str:
        return "、".join(r.removeprefix("逾期") for r in self.reasons if r.startswith("逾期"))

    @computed_field(description="预警底色（十六进制 RGB）")  # type: ignore[prop-decorator]
    @property
    def flag_color(self) -> str:
        return FLAG_COLORS.get(self.flag or "", NO_FLAG_COLOR)


class Milestones(Context):
    """新开工项目的开工情况，或竣工项目的竣工情况。"""

    planned: int = Field(description="全年计划项目个数（新开工项目计划开工，竣工项目计划竣工）")
    done: int = Field(description="截至报告期末已开工（或已竣工）的个数")
    rate: Decimal | None = Field(description="开工率（或竣工率，%）：已开工 ÷ 全年计划，一位小数")
    due: int = Field(description="计划开工（竣工）时间在报告期末之前（含本月）的个数")
    due_done: int = Field(description="其中已开工（已竣工）的个数")
    overdue: list[ProjectLine] = Field(description="计划时间已到而尚未开工（竣工）的项目")


class IssueItem(Context):
    """本报告期报送的一条存在问题或需协调事项（及其在问题台帐中的办理情况）。"""

    project_id: str = Field(description="项目编号")
    project_name: str = Field(description="项目名称")
    unit: str = Field(description="牵头单位")
    county: str = Field(description="县区")
    stage: str = Field(description="阶段（含预备）")
    problems: str = Field(description="存在问题（未填为空）")
    coordination: str = Field(description="需协调事项（未填为空）")
    problem_id: str = Field(default="", description="问题台帐中的问题编号（未列入问题台帐为空）")
    problem_type: str = Field(default="", description="问题台帐中的问题类型（未列入为空）")
    status: str = Field(default="", description="问题台帐中的状态：待交办、办理中、已办结、不再协调"
                                                "（未列入为空）")
    handler: str = Field(default="", description="协调责任单位（尚未交办为空）")
    due_text: str = Field(default="", description="办理时限，如“2022年4月30日”（未定为空）")

    @computed_field(  # type: ignore[prop-decorator]
        description="问题类型：问题台帐中的类型；未列入问题台帐的，按文字中的关键词归为"
                    "用地、规划、环评、资金、征地拆迁、水电路气、审批手续或其他")
    @property
    def kind(self) -> str:
        return self.problem_type or problem_type(self.problems or self.coordination)

    @computed_field(description="存在问题和需协调事项合为一段，如“征地拆迁滞后；需协调：请市自然资源局协调用地”")  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        if self.problems and self.coordination:
            return f"{self.problems}；需协调：{self.coordination}"
        return self.problems or self.coordination

    @computed_field(  # type: ignore[prop-decorator]
        description="办理情况，如“办理中：市自然资源局，2022年4月30日前”“待交办”“已办结”；"
                    "未列入问题台帐为空")
    @property
    def handling_text(self) -> str:
        if self.status != "办理中" or not self.handler:
            return self.status
        return f"办理中：{self.handler}" + (f"，{self.due_text}前" if self.due_text else "")


class PermitCount(Context):
    """预备项目某一项前期工作的办理情况。"""

    name: str = Field(description="前期工作名称，如 投资许可、用地许可")
    done: int = Field(description="已办结的项目数")
    in_progress: int = Field(description="办理中的项目数")
    not_started: int = Field(description="未启动的项目数")
    not_applicable: int = Field(description="不涉及的项目数")
    unknown: int = Field(description="尚无报送数据的项目数")


class Preparatory(Context):
    """预备项目前期工作进展。"""

    count: int = Field(description="预备项目个数")
    total_investment_yi: Decimal = Field(description="预备项目总投资（亿元）")
    permits: list[PermitCount] = Field(description="六项前期工作逐项的办理情况")
    permits_done: int = Field(description="已办结的前期手续件数（六项合计）")
    permits_required: int = Field(description="需办理的前期手续件数（六项合计，不含“不涉及”）")
    permit_rate: Decimal | None = Field(description="前期手续办结率（%）：已办结 ÷ 需办理")
    ready: int = Field(description="六项前期工作全部办结（或不涉及）的项目数，即基本具备开工条件")
    reported: int = Field(description="本报告期已报送的预备项目数")


class UnitReturn(Context):
    """一个牵头单位本报告期的报送情况。"""

    unit: str = Field(description="牵头单位")
    projects: int = Field(description="应报送的项目个数")
    submitted: str = Field(description="是否报送：是或否（报送了但未通过校验的也为“是”）")
    on_time: str = Field(description="是否按时：按时、逾期，或“—”（没有通过校验的报表）")
    passed: str = Field(description="是否通过校验：是、否，或“—”（未报送）")
    received: str = Field(description="接收日期，如“2022年4月3日”（未报送为空）")
    status: str = Field(default="", description="报送状态：按时、逾期、未通过或未报送"
                                                "（与 zdxm status、考核一致）")


class Returns(Context):
    """报送情况（来自报送记录，与 zdxm status 一致）。"""

    deadline: str = Field(description="报送截止日，如“2022年4月5日”")
    expected: int = Field(description="应报送的牵头单位个数")
    submitted: int = Field(description="已报送的单位个数")
    on_time: int = Field(description="按时报送的单位个数")
    on_time_rate: Decimal | None = Field(description="按时报送率（%）：按时报送 ÷ 应报送")
    missing: list[str] = Field(description="未报送的单位（没有收到任何文件）")
    late: list[str] = Field(description="逾期报送的单位（截止日后才有报表通过校验）")
    rejected: list[str] = Field(description="报送了但没有报表通过校验的单位")
    units: list[UnitReturn] = Field(description="每个应报送单位一行")

    @computed_field(description="未报送单位，用“、”连接；没有时为“无”")  # type: ignore[prop-decorator]
    @property
    def missing_text(self) -> str:
        return "、".join(self.missing) or "无"

    @computed_field(description="逾期报送单位，用“、”连接；没有时为“无”")  # type: ignore[prop-decorator]
    @property
    def late_text(self) -> str:
        return "、".join(self.late) or "无"

    @computed_field(description="未通过校验的单位，用“、”连接；没有时为“无”")  # type: ignore[prop-decorator]
    @property
    def rejected_text(self) -> str:
        return "、".join(self.rejected) or "无"


class UnitGroup(Context):
    """一类牵头单位（县区、市直部门、国有企业或未分类）在类内的排名。"""

    name: str = Field(description="单位类别：县区、市直部门、国有企业，或“未分类”（责任单位未填类别）")
    total: Group = Field(description="该类单位牵头的全部实施项目合计")
    units: list[Group] = Field(description="该类各牵头单位，按完成率在类内排名（rank 为类内名次，"
                                           "rank_change 为类内名次变化）")
    green: int = Field(description="预警为绿色的单位个数")
    yellow: int = Field(description="预警为黄色的单位个数")
    red: int = Field(description="预警为红色的单位个数")

    @computed_field(description="单位个数")  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.units)

    @computed_field(description="类内完成率前三名，用“、”连接")  # type: ignore[prop-decorator]
    @property
    def top_text(self) -> str:
        return "、".join(u.name for u in self.units[:TOP_UNITS] if u.rate is not None)

    @computed_field(description="类内预警为红色或黄色、完成率最低的至多三个单位，用“、”连接；没有时为空")  # type: ignore[prop-decorator]
    @property
    def bottom_text(self) -> str:
        flagged = [u for u in self.units if u.flag in ("红", "黄")]
        return "、".join(u.name for u in flagged[-TOP_UNITS:])

    @computed_field(description="预警为红色的单位，至多点名5个（多于5个时加“等N个单位”）；没有时为空")  # type: ignore[prop-decorator]
    @property
    def red_text(self) -> str:
        return _few([u.name for u in self.units if u.flag == "红"], "单位", 5)


class UnitRanking(Context):
    """牵头单位按单位类别分组排名（通报的“牵头单位排名”按此分三类排名）。"""

    county: UnitGroup = Field(description="县区（县区人民政府、新区管委会）")
    department: UnitGroup = Field(description="市直部门")
    enterprise: UnitGroup = Field(description="国有企业")
    unclassified: UnitGroup = Field(description="未分类：“责任单位”中未填单位类别的牵头单位")

    @computed_field(description="有单位的各类（依次为县区、市直部门、国有企业、未分类）")  # type: ignore[prop-decorator]
    @property
    def groups(self) -> list[UnitGroup]:
        return [g for g in (self.county, self.department, self.enterprise, self.unclassified)
                if g.units]

    @computed_field(  # type: ignore[prop-decorator]
        description="各类中预警为红色的单位，完成率从低到高至多点名3个（多于3个时加“等N个单位”）；没有时为空")
    @property
    def red_text(self) -> str:
        red = sorted((u for g in self.groups for u in g.units if u.flag == "红"),
                     key=lambda u: (u.rate is None, u.rate or 0))
        return _few([u.name for u in red], "单位", TOP_UNITS)


class ProblemSummary(Context):
    """本报告期报送的存在问题的概况（按问题类型归类）。"""

    projects: int = Field(description="报送了存在问题或需协调事项的项目个数")
    coordination: int = Field(description="其中提出需协调事项的项目个数")
    by_type: list[Tally] = Field(description="按问题类型的项目个数，从多到少；类型为问题台帐中的类型"
                                             "（未列入问题台帐的按问题文字中的关键词归类）")

    @computed_field(description="按类型的概况，如“征地拆迁5个、资金4个”；没有时为空")  # type: ignore[prop-decorator]
    @property
    def by_type_text(self) -> str:
        return tally_text(self.by_type)


class YearAgo(Context):
    """同比的比较对象：上年台账的同一报告期。"""

    period: str = Field(description="上年同期报告期，如 2021-03")
    title_period: str = Field(description="上年同期统计区间，如“2021年1—3月”")
    source: str = Field(description="上年台账的文件名")


class Attachment(Context):
    """简报的一个附件。"""

    number: int = Field(description="附件序号（附件1、附件2……）")
    key: str = Field(description="附件内容：lagging（滞后项目）、issues（存在问题）、"
                                 "problems（问题办结情况）、units（牵头单位排名）"
                                 "或 milestones（本月新开工、竣工项目）")
    title: str = Field(description="附件名称，如“滞后项目名单”")


class Attachments(Context):
    """长名单的去处（设置“简报附件”）：附在简报正文之后，或只放通报。"""

    in_bulletin: bool = Field(description="长名单是否作为附件附在简报后（否则只放通报）")
    items: list[Attachment] = Field(description="简报的附件，依次编号；名单为空的不作附件")
    lagging: int | None = Field(description="滞后项目名单的附件序号；不作附件时为空")
    issues: int | None = Field(description="存在问题和需协调事项清单的附件序号；不作附件时为空")
    problems: int | None = Field(default=None, description="各协调责任单位问题办结情况的附件序号；"
                                                           "没有交办问题或不作附件时为空")
    units: int | None = Field(description="牵头单位排名的附件序号；不作附件时为空")
    milestones: int | None = Field(description="本月新开工、竣工项目名单的附件序号（正文点名不下时才有）；"
                                               "不作附件时为空")


class NextStep(Context):
    """下步工作的一项。"""

    number: str = Field(description="序号，如“（一）”")
    title: str = Field(description="小标题，如“加快逾期未开工项目建设”")
    text: str = Field(description="具体内容（由本月情况生成）")


_FRESHNESS_HELP = ("沿用数据的说明，如“3月有5个牵头单位的78个项目（实施项目60个、预备项目18个）未报送"
                   "本月数据（含未通过校验），这些项目沿用2月数据。”；全部为本月数据时说明这一点")


class Freshness(Context):
    """本报告期数据的新旧：哪些项目的数据是本月报送的，哪些沿用以前月份。"""

    month: int = Field(description="报告期的月份")
    current: int = Field(description="数据为本月报送的项目个数")
    carried_projects: int = Field(description="数据沿用以前月份（本月未报送或未通过校验）"
                                              "或本年尚无数据的项目个数")
    never_reported: int = Field(description="其中本年尚无任何报送数据的项目个数（按未完成计）")
    carried_implementation: int = Field(default=0, description="其中实施项目的个数（计入投资完成率的）")
    carried_units: list[str] = Field(description="有项目数据沿用以前月份的牵头单位")
    from_months: list[str] = Field(description="沿用的数据所属月份，如“2月”，近的在前")

    @computed_field(description="沿用数据的牵头单位个数")  # type: ignore[prop-decorator]
    @property
    def carried_unit_count(self) -> int:
        return len(self.carried_units)

    @computed_field(description=_FRESHNESS_HELP)  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        if not self.carried_projects:
            return f"全部项目数据均为{self.month}月报送。"
        kinds = ""
        preparatory = self.carried_projects - self.carried_implementation
        if self.carried_implementation and preparatory:
            kinds = f"（实施项目{self.carried_implementation}个、预备项目{preparatory}个）"
        sentence = (f"{self.month}月有{len(self.carried_units)}个牵头单位的{self.carried_projects}个项目"
                    f"{kinds}未报送本月数据（含未通过校验），")
        dated = self.carried_projects - self.never_reported
        if dated and self.never_reported:
            sentence += (f"其中{dated}个项目沿用{'、'.join(self.from_months)}数据，"
                         f"{self.never_reported}个项目本年尚无报送数据，按未完成计")
        elif dated:
            sentence += f"这些项目沿用{'、'.join(self.from_months)}数据"
        else:
            sentence += "这些项目本年尚无报送数据，按未完成计"
        return sentence + "。"


class Progress(Context):
    """一个报告期的重大项目推进情况：简报（Word）和通报（Excel）模板可用的全部字段。"""

    city: str = Field(description="城市名称（设置“城市名称”），如 柳州市")
    year: int = Field(description="年度，如 2022")
    period: str = Field(description="报告期，如 2022-03")
    month: int = Field(description="报告期的月份，如 3")
    period_label: str = Field(description="统计区间，如“1—3月”（1 月为“1月”）")
    period_end: date = Field(description="报告期末日期（数据截至日）")
    period_end_text: str = Field(description="报告期末日期的中文写法，如“2022年3月31日”")
    issue: int = Field(description="简报期数（第N期），由“设置”中的简报期数接续")
    issued: date = Field(description="印发日期")
    issued_text: str = Field(description="印发日期的中文写法，如“2022年4月8日”")
    publisher: str = Field(description="编印单位（设置“编印单位”）")
    benchmark_method: str = Field(description="时序进度方法：月数/12、月数×10% 或 按月目标")
    benchmark: Decimal = Field(description="时序进度（%），一位小数")
    yellow_margin: int = Field(description="黄色预警差距（百分点，预警方法为按百分点时）")
    red_margin: int = Field(description="红色预警差距（百分点，预警方法为按百分点时）")
    flag_method: str = Field(default="按比例", description="预警方法：按比例或按百分点（设置“预警方法”）")
    yellow_ratio: int = Field(default=80, description="黄色预警比例（%，预警方法为按比例时）")
    red_ratio: int = Field(default=50, description="红色预警比例（%，预警方法为按比例时）")
    flag_rule_text: str = Field(default="", description="红黄绿规则的文字说明，如“完成率达到时序进度的"
                                                        "80%及以上为绿色，不足80%为黄色，不足50%为红色”；"
                                                        "逾期未开工、逾期未竣工的项目至少为黄色")
    total: Group = Field(description="全部实施项目合计")
    stages: list[Group] = Field(description="按阶段：新开工、续建、竣工")
    sectors: list[Group] = Field(description="按行业分类：基础设施、产业发展、民生保障、生态环保")
    counties: list[Group] = Field(description="按县区（有项目的县区），按完成率排名")
    units: list[Group] = Field(description="按牵头单位，按完成率排名")
    starts: Milestones = Field(description="新开工项目的开工情况（开工率）")
    completions: Milestones = Field(description="竣工项目的竣工情况（竣工率）")
    lagging: list[ProjectLine] = Field(
        description="滞后项目：投资完成率为黄或红（未到计划开工时间的新开工项目除外），"
                    "或逾期未开工、逾期未竣工；按差距从大到小")
    issues: list[IssueItem] = Field(description="本报告期报送的存在问题和需协调事项")
    preparatory: Preparatory = Field(description="预备项目前期工作进展")
    returns: Returns = Field(description="报送情况")
    unreported: int = Field(description="本报告期未报送数据的项目个数（其数据取本年最近一次报送）")
    # ---- the briefing: comparisons, groups, this month's facts (see ``_briefing``) ----
    previous_period: str | None = Field(default=None,
                                        description="环比的比较对象：上一报告期，如 2022-02；1月为空")
    year_ago: YearAgo | None = Field(default=None,
                                     description="同比的比较对象（给出上年台账时）；否则为空")
    unit_ranking: UnitRanking | None = Field(default=None, description="牵头单位按单位类别分组排名")
    month_starts: list[ProjectLine] = Field(
        default_factory=list, description="本月新开工项目：本报告期首次报送已开工的新开工项目，"
                                          "按年度计划投资从大到小")
    month_completions: list[ProjectLine] = Field(
        default_factory=list,
        description="本月竣工项目：本报告期首次报送已竣工的实施项目，按年度计划投资从大到小")
    problems: ProblemSummary | None = Field(default=None, description="存在问题的概况（按类型）")
    problem_ledger: ProblemFigures | None = Field(
        default=None, description="问题台帐截至报告期的概况：按状态、类型，各协调责任单位的问题办结率")
    supervision: Supervision | None = Field(
        default=None, description="督办：逾期和久拖未决的问题、红灯和逾期未开工（竣工）的项目，按责任单位"
                                  "汇总（每个单位一份督办通知单）")
    next_starts: int = Field(default=0, description="计划下月开工、尚未开工的新开工项目个数")
    next_benchmark: Decimal | None = Field(default=None, description="下月时序进度（%）；12月为空")
    next_steps: list[NextStep] = Field(
        default_factory=list, description="下步工作：由本月情况（逾期未开工、红黄灯县区和单位、"
                                          "存在问题、报送情况、下月开工）生成的工作安排，每项一段，已编（一）（二）……")
    attachments: Attachments | None = Field(default=None, description="简报附件（长名单的去处）")
    freshness: Freshness = Field(description="数据新旧：沿用以前月份数据的项目、单位和月份")

    @computed_field(description="标题用的统计区间，如“2022年1—3月”")  # type: ignore[prop-decorator]
    @property
    def title_period(self) -> str:
        return f"{self.year}年{self.period_label}"

    @computed_field(description="各县区中预警为红色的个数")  # type: ignore[prop-decorator]
    @property
    def red_counties(self) -> int:
        return sum(1 for c in self.counties if c.flag == "红")

    @computed_field(description="本月新开工项目，正文点名用：至多3个项目名称，多于3个时加“等N个项目”")  # type: ignore[prop-decorator]
    @property
    def month_starts_text(self) -> str:
        return _named(self.month_starts)

    @computed_field(description="本月竣工项目，正文点名用（同上）")  # type: ignore[prop-decorator]
    @property
    def month_completions_text(self) -> str:
        return _named(self.month_completions)

    def context(self) -> dict[str, Any]:
        """The top-level names a template sees (the model's fields and computed fields)."""
        names = [*type(self).model_fields, *type(self).model_computed_fields]
        return {name: getattr(self, name) for name in names}


# ---- computing -----------------------------------------------------------------------------

@dataclass
class _Figures:
    """One project's figures as of the 报告期 (exact, 万元)."""

    project: Project
    entry: LedgerEntry | None  # the row used (this period's, or the latest earlier one)
    reported: bool  # has a row for this very period

    @property
    def annual(self) -> Decimal:
        return self.project.annual_plan or Decimal(0)

    @property
    def year(self) -> Decimal:
        return (self.entry.year_completed if self.entry else None) or Decimal(0)

    @property
    def month(self) -> Decimal:
        if not self.reported or self.entry is None:
            return Decimal(0)
        return self.entry.month_completed or Decimal(0)

    @property
    def started(self) -> bool:
        # 续建 and 竣工 projects were started in earlier years.
        return self.project.stage != "新开工" or (self.entry is not None
                                                  and self.entry.started == "是")

    @property
    def completed(self) -> bool:
        return self.entry is not None and self.entry.completed == "是"

    @property
    def data_note(self) -> str:
        """Where the figures come from, unless this very period."""
        if self.reported:
            return ""
        if self.entry is None:
            return "本年尚无数据"
        return f"沿用{int(self.entry.period[5:7])}月数据"


def _carried_note(members: Sequence[_Figures]) -> str:
    """A group's carried projects in words: “3个项目沿用2月数据”, or by month when several."""
    counts: dict[str, int] = {}
    for member in members:
        if not member.reported:
            counts[member.data_note] = counts.get(member.data_note, 0) + 1
    if not counts:
        return ""
    if len(counts) == 1:
        (note, count), = counts.items()
        return f"{count}个项目{note}"
    return "、".join(f"{count}个项目{note}" for note, count in
                     sorted(counts.items(), key=lambda item: item[0], reverse=True))


class _Rules:
    def __init__(self, benchmark: Decimal, bands: Bands, month_start: date) -> None:
        self.benchmark, self.bands, self.month_start = benchmark, bands, month_start

    def flag(self, exact: Decimal | None) -> Flag | None:
        return self.bands.flag(exact, self.benchmark)

    def group(self, name: str, members: Sequence[_Figures]) -> tuple[Group, Decimal | None]:
        annual = sum((f.annual for f in members), Decimal(0))
        year = sum((f.year for f in members), Decimal(0))
        exact = _rate(year, annual)
        group = Group(
            name=name, count=len(members),
            total_investment_yi=to_yi(sum((f.project.total_investment for f in members),
                                          Decimal(0))),
            annual_plan_yi=to_yi(annual),
            month_completed_yi=to_yi(sum((f.month for f in members), Decimal(0))),
            year_completed_yi=to_yi(year), rate=_percent(exact),
            gap=None if exact is None else _percent(exact - self.benchmark),
            flag=self.flag(exact),
            reported=sum(1 for f in members if f.reported),
            carried=sum(1 for f in members if not f.reported), data_note=_carried_note(members))
        return group, exact

    def ranked(self, groups: Iterable[tuple[str, Sequence[_Figures]]]) -> list[Group]:
        """Groups ranked by exact rate, highest first; ties share a rank; no plan goes last."""
        built = [self.group(name, members) for name, members in groups if members]
        order = sorted(range(len(built)), key=lambda i: (built[i][1] is None,
                                                          -(built[i][1] or 0), i))
        result: list[Group] = []
        previous: Decimal | None = None
        rank = 0
        for position, index in enumerate(order, start=1):
            group, exact = built[index]
            if exact is not None and exact != previous:
                rank = position
            previous = exact
            result.append(group.model_copy(update={"rank": rank if exact is not None else None}))
        return result

    def due(self, planned: date | None) -> bool:
        """A planned month at or before the 报告期 (a project without one is never overdue)."""
        return planned is not None and planned <= self.month_start

    def line(self, figures: _Figures, reasons: list[str]) -> ProjectLine:
        project = figures.project
        exact = _rate(figures.year, figures.annual)
        flag = self.flag(exact)
        if any(reason.startswith("逾期") for reason in reasons) and flag in (None, "绿"):
            flag = "黄"  # a project past its planned start or finish is never green
        return ProjectLine(
            id=project.id, name=project.name, unit=project.lead_unit, county=project.county or "",
            stage=project.stage, sector=project.sector, annual_plan_wan=figures.annual,
            year_completed_wan=figures.year, rate=_percent(exact),
            gap=None if exact is None else _percent(exact - self.benchmark),
            flag=flag,
            planned_start=format_month(project.planned_start),
            planned_end=format_month(project.planned_end),
            progress=(figures.entry.progress or "") if figures.entry else "",
            reasons=reasons, reported=figures.reported,
            data_period=figures.entry.period if figures.entry else "",
            data_note=figures.data_note)

    def lag_reasons(self, figures: _Figures) -> list[str]:
        project = figures.project
        reasons = []
        judged = project.stage != "新开工" or figures.started or self.due(project.planned_start)
        exact = _rate(figures.year, figures.annual)
        if judged and exact is not None and self.flag(exact) in ("黄", "红"):
            reasons.append(f"投资完成率低于时序进度{_percent(self.benchmark - exact)}个百分点")
        if project.stage == "新开工" and not figures.started and self.due(project.planned_start):
            reasons.append("逾期未开工")
        if project.stage == "竣工" and not figures.completed and self.due(project.planned_end):
            reasons.append("逾期未竣工")
        return reasons


def _latest_rows(master: Master, period: str) -> dict[str, LedgerEntry]:
    """项目编号 → its row for ``period``, else its latest earlier row of the same year."""
    latest: dict[str, LedgerEntry] = {}
    for entry in master.ledger:
        if entry.period[:4] == period[:4] and entry.period <= period:
            seen = latest.get(entry.project_id)
            if seen is None or entry.period >= seen.period:
                latest[entry.project_id] = entry
    return latest


def _by_lead_unit(members: Iterable[_Figures]) -> dict[str, list[_Figures]]:
    """Each 牵头单位's projects, in one pass (units in the order they first appear, each
    one's projects in order): a pass over every project for each unit grew with units times
    projects, over three minutes for a province's 3,000 units."""
    groups: dict[str, list[_Figures]] = {}
    for figures in members:
        groups.setdefault(figures.project.lead_unit, []).append(figures)
    return groups


def _milestones(rules: _Rules, members: list[_Figures], start: bool) -> Milestones:
    done = [f for f in members if (f.started if start else f.completed)]
    due = [f for f in members
           if rules.due(f.project.planned_start if start else f.project.planned_end)]
    overdue = [rules.line(f, ["逾期未开工" if start else "逾期未竣工"]) for f in due
               if not (f.started if start else f.completed)]
    return Milestones(planned=len(members), done=len(done), rate=share(len(done), len(members)),
                      due=len(due), due_done=len(due) - len(overdue), overdue=overdue)


def _preparatory(projects: list[Project], rows: dict[str, LedgerEntry], period: str
                 ) -> Preparatory:
    counts = []
    done_total = required = 0
    ready = 0
    statuses: dict[str, list[str | None]] = {
        p.id: [getattr(rows[p.id], field) if p.id in rows else None for field, _, _ in PERMITS]
        for p in projects}
    for index, (_, name, _) in enumerate(PERMITS):
        column = [statuses[p.id][index] for p in projects]
        counts.append(PermitCount(
            name=name, done=column.count("已办结"), in_progress=column.count("办理中"),
            not_started=column.count("未启动"), not_applicable=column.count("不涉及"),
            unknown=column.count(None)))
        done_total += column.count("已办结")
        required += len(column) - column.count("不涉及")
    for project in projects:
        values = statuses[project.id]
        if all(v in ("已办结", "不涉及") for v in values):
            ready += 1
    return Preparatory(
        count=len(projects),
        total_investment_yi=to_yi(sum((p.total_investment for p in projects), Decimal(0))),
        permits=counts, permits_done=done_total, permits_required=required,
        permit_rate=share(done_total, required), ready=ready,
        reported=sum(1 for p in projects if p.id in rows and rows[p.id].period == period))


def _returns(master: Master, period: str) -> Returns:
    status = submission_status(master, period)
    units = [UnitReturn(
        unit=u.unit, projects=u.projects, submitted="是" if u.submitted else "否",
        on_time="—" if u.on_time is None else ("按时" if u.on_time else "逾期"),
        passed="—" if not u.submitted else ("是" if u.valid else "否"),
        received=format_date(u.received_at.date()) if u.received_at else "",
        status=u.status.value)
        for u in status.units]
    on_time = len(status.of(ReturnStatus.ON_TIME))
    return Returns(deadline=format_date(status.deadline), expected=len(status.units),
                   submitted=sum(1 for u in status.units if u.submitted), on_time=on_time,
                   on_time_rate=share(on_time, len(status.units)), missing=status.missing,
                   late=status.late, rejected=status.rejected, units=units)


def compute_progress(master: Master, period: str, issue: int = 0,
                     issued: date | None = None, *, year_ago: Master | None = None,
                     year_ago_source: str = "", compare: bool = True,
                     reply_by: date | None = None) -> Progress:
    """The progress of ``period`` from the master's plan, 月报台帐 and 报送记录; with
    ``compare``, 环比 against the 报告期 before and, given last year's master ``year_ago``,
    同比 against the same 报告期 of last year. ``reply_by`` is the day the 督办 asks an
    answer by (default: ten days after ``issued``)."""
    period = plan_period(period, master.year)
    settings = master.settings
    month = int(period[5:7])
    exact_benchmark = benchmark_percent(settings.benchmark_method, month, settings.monthly_targets)
    bands = Bands(settings.flag_method, settings.yellow_ratio, settings.red_ratio,
                  settings.yellow_margin, settings.red_margin)
    rules = _Rules(exact_benchmark, bands, period_month(period))
    rows = _latest_rows(master, period)
    active = [p for p in master.projects if reports_in(p, period)]

    def figures(project: Project) -> _Figures:
        entry = rows.get(project.id)
        return _Figures(project, entry, entry is not None and entry.period == period)

    built = [figures(p) for p in active if not p.is_preparatory]
    total, _ = rules.group("合计", built)
    stages = [rules.group(s, [f for f in built if f.project.stage == s])[0]
              for s in IMPLEMENTATION_STAGES]
    sectors = [rules.group(s, [f for f in built if f.project.sector == s])[0] for s in SECTORS]
    county_names = list(settings.counties)
    county_names += sorted({f.project.county for f in built if f.project.county}
                           - set(county_names))
    counties = rules.ranked(
        [(c, [f for f in built if f.project.county == c]) for c in county_names]
        + [(NO_COUNTY, [f for f in built if not f.project.county])])
    units = rules.ranked(_by_lead_unit(built).items())
    lagging = []
    for item in built:
        reasons = rules.lag_reasons(item)
        if reasons:
            lagging.append(rules.line(item, reasons))
    lagging.sort(key=lambda line: (line.gap is None, line.gap or 0, line.id))
    issues = []
    for project in active:
        entry = rows.get(project.id)
        if entry is None or entry.period != period or not (entry.problems or entry.coordination):
            continue
        issues.append(IssueItem(project_id=project.id, project_name=project.name,
                                unit=project.lead_unit, county=project.county or "",
                                stage=project.stage, problems=entry.problems or "",
                                coordination=entry.coordination or "",
                                **_tracked(master, period, project.id,
                                           entry.problems or entry.coordination or "")))
    issued_on = issued or date.today()
    everything = [figures(p) for p in active]
    progress = Progress(
        city=settings.city, year=master.year, period=period, month=month,
        period_label=f"1—{month}月" if month > 1 else "1月", period_end=period_end(period),
        period_end_text=format_date(period_end(period)), issue=issue, issued=issued_on,
        issued_text=format_date(issued_on), publisher=settings.publisher,
        benchmark_method=settings.benchmark_method,
        benchmark=round_half_up(exact_benchmark, RATE_PLACES),
        yellow_margin=settings.yellow_margin, red_margin=settings.red_margin,
        flag_method=settings.flag_method, yellow_ratio=settings.yellow_ratio,
        red_ratio=settings.red_ratio, flag_rule_text=bands.text(),
        total=total, stages=stages, sectors=sectors, counties=counties, units=units,
        starts=_milestones(rules, [f for f in built if f.project.stage == "新开工"], start=True),
        completions=_milestones(rules, [f for f in built if f.project.stage == "竣工"],
                                start=False),
        lagging=lagging, issues=issues,
        preparatory=_preparatory([p for p in active if p.is_preparatory], rows, period),
        returns=_returns(master, period),
        unreported=sum(1 for f in everything if not f.reported),
        freshness=_freshness(everything, month))
    return _briefing(progress, master, rules, built, compare, year_ago, year_ago_source,
                     reply_by)


# ---- the briefing: unit groups, this month's facts, comparisons, 下步工作, 附件 ------------

# 存在问题 are free text: 问题台帐 carries each item's type (the office may change it); a row
# not in 问题台帐 is typed by its words (``core.problems.KEYWORDS``, the first that matches).
PROBLEM_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (kind.value, words) for kind, words in KEYWORDS)
OTHER_PROBLEMS = "其他"
_NUMERALS = "一二三四五六七八九十"


def _briefing(progress: Progress, master: Master, rules: _Rules, built: list[_Figures],
              compare: bool, year_ago: Master | None, year_ago_source: str,
              reply_by: date | None) -> Progress:
    """The fields the 简报 reads beyond the figures: unit groups, this month's new starts and
    completions, the problems by type, 环比 and 同比, 下步工作 and the 附件."""
    period = progress.period
    categories = {unit.name: unit.category.value for unit in master.units if unit.category}
    ranking = _unit_ranking(rules, built, categories)
    overall = {g.name: g for g in progress.units}
    units = [overall[g.name].model_copy(update={"category": group.name, "group_rank": g.rank})
             for group in ranking.groups for g in group.units]
    place = {g.name: position for position, g in enumerate(progress.units)}
    units.sort(key=lambda g: (g.rank is None, g.rank or 0, place[g.name]))
    starts, completions = _month_milestones(master, period, rules, built)
    month = progress.month
    next_month = period_month(period).replace(month=month + 1) if month < 12 else None
    settings = master.settings
    update: dict[str, Any] = {
        "units": units, "unit_ranking": ranking, "month_starts": starts,
        "month_completions": completions, "problems": _problem_summary(progress.issues),
        "problem_ledger": problem_figures(master, period, progress.issued),
        "supervision": supervise(master, period, progress.issued, progress.lagging, reply_by),
        "next_starts": sum(1 for f in built if f.project.stage == "新开工" and not f.started
                           and f.project.planned_start == next_month),
        "next_benchmark": None if next_month is None else round_half_up(
            benchmark_percent(settings.benchmark_method, month + 1, settings.monthly_targets),
            RATE_PLACES)}
    result = progress.model_copy(update=update)
    if compare:
        result = _compare(result, master, year_ago, year_ago_source)
    return result.model_copy(update={
        "next_steps": _next_steps(result, settings.deadline_day),
        "attachments": _attachments(result, settings.bulletin_attachments)})


def _unit_ranking(rules: _Rules, built: list[_Figures], categories: dict[str, str]
                  ) -> UnitRanking:
    slots = {"county": UnitCategory.COUNTY.value, "department": UnitCategory.DEPARTMENT.value,
             "enterprise": UnitCategory.ENTERPRISE.value, "unclassified": NO_CATEGORY}
    groups = {}
    for slot, category in slots.items():
        members = [f for f in built if categories.get(f.project.lead_unit, NO_CATEGORY) == category]
        ranked = [g.model_copy(update={"category": category, "group_rank": g.rank})
                  for g in rules.ranked(_by_lead_unit(members).items())]
        groups[slot] = UnitGroup(
            name=category, total=rules.group(category, members)[0], units=ranked,
            green=sum(1 for g in ranked if g.flag == "绿"),
            yellow=sum(1 for g in ranked if g.flag == "黄"),
            red=sum(1 for g in ranked if g.flag == "红"))
    return UnitRanking(**groups)


def _month_milestones(master: Master, period: str, rules: _Rules, built: list[_Figures]
                      ) -> tuple[list[ProjectLine], list[ProjectLine]]:
    """Projects first reported started (新开工) or completed (any stage) in ``period``."""
    earlier = [e for e in master.ledger if e.period[:4] == period[:4] and e.period < period]
    started_before = {e.project_id for e in earlier if e.started == "是"}
    completed_before = {e.project_id for e in earlier if e.completed == "是"}
    starts, completions = [], []
    for item in built:
        entry = item.entry
        if not item.reported or entry is None:
            continue
        project = item.project
        if project.stage == "新开工" and entry.started == "是" \
                and project.id not in started_before:
            line = rules.line(item, [])
            starts.append(line.model_copy(update={"actual_date": format_date(entry.start_date)}))
        if entry.completed == "是" and project.id not in completed_before:
            line = rules.line(item, [])
            completions.append(line.model_copy(update={"actual_date": format_date(entry.end_date)}))
    def order(line: ProjectLine) -> tuple[Decimal, str]:
        return -line.annual_plan_wan, line.id

    return sorted(starts, key=order), sorted(completions, key=order)


def problem_type(text: str) -> str:
    """The type of a 存在问题 by its words (``PROBLEM_TYPES``), else 其他."""
    return default_type(text).value


def _tracked(master: Master, period: str, project_id: str, text: str) -> dict[str, str]:
    """The 问题台帐 item a row of ``period`` raised or reported again: its number, type,
    status, 协调责任单位 and 办理时限 (nothing when there is none)."""
    mine = [p for p in master.problems if p.project_id == project_id
            and period in (p.opened, p.updated)]
    item = next((p for p in mine if same_problem(text, p.description)), mine[0] if mine else None)
    if item is None:
        return {}
    return {"problem_id": item.id, "problem_type": item.type.value, "status": item.status.value,
            "handler": item.unit or "", "due_text": format_date(item.due) if item.due else ""}


def _problem_summary(issues: Sequence[IssueItem]) -> ProblemSummary:
    counts: dict[str, int] = {}
    for item in issues:
        kind = item.kind
        counts[kind] = counts.get(kind, 0) + 1
    names = [name for name, _ in PROBLEM_TYPES] + [OTHER_PROBLEMS]
    by_type = sorted((Tally(name=n, count=c) for n, c in counts.items()),
                     key=lambda t: (-t.count, names.index(t.name)))
    return ProblemSummary(projects=len(issues),
                          coordination=sum(1 for i in issues if i.coordination),
                          by_type=by_type)


# ---- 环比 and 同比 --------------------------------------------------------------------------

_Sums = dict[tuple[str, str], tuple[Decimal, Decimal]]  # (kind, name) → (本年累计, 年度计划)


def _exact_sums(master: Master, period: str) -> _Sums:
    """本年累计 and 年度计划 (万元, exact) of the 实施项目 reporting in ``period``, by the same
    groups as ``compute_progress`` (rows carried over from earlier months as there)."""
    rows = _latest_rows(master, period)
    categories = {unit.name: unit.category.value for unit in master.units if unit.category}
    sums: dict[tuple[str, str], list[Decimal]] = {}
    for project in master.projects:
        if project.is_preparatory or not reports_in(project, period):
            continue
        entry = rows.get(project.id)
        done = (entry.year_completed if entry else None) or Decimal(0)
        annual = project.annual_plan or Decimal(0)
        unit = project.lead_unit
        for key in (("total", "合计"), ("stage", project.stage), ("sector", project.sector),
                    ("county", project.county or NO_COUNTY), ("unit", unit),
                    ("category", categories.get(unit, NO_CATEGORY))):
            pair = sums.setdefault(key, [Decimal(0), Decimal(0)])
            pair[0] += done
            pair[1] += annual
    return {key: (pair[0], pair[1]) for key, pair in sums.items()}


def _compare(progress: Progress, master: Master, year_ago: Master | None, source: str
             ) -> Progress:
    """环比 (rate change and rank change since the 报告期 before) and, with last year's
    master, 同比 (the same 报告期 last year) on every group; changes are exact differences
    of exact rates, rounded once."""
    before_period = previous_period(progress.period)
    now = _exact_sums(master, progress.period)
    before: Progress | None = None
    before_sums: _Sums = {}
    if before_period is not None:
        before = compute_progress(master, before_period, compare=False)
        before_sums = _exact_sums(master, before_period)
    ago_period = f"{progress.year - 1}{progress.period[4:]}"
    ago_sums = _exact_sums(year_ago, ago_period) if year_ago is not None else {}

    def ranks(groups: Sequence[Group] | None) -> dict[str, int | None]:
        return {g.name: g.rank for g in groups or ()}

    def compared(kind: str, group: Group, previous_ranks: dict[str, int | None]) -> Group:
        key = (kind, group.name)
        update: dict[str, Any] = {}
        exact = _exact_rate(now.get(key))
        if key in before_sums:
            previous = _exact_rate(before_sums[key])
            update["previous_rate"] = _percent(previous)
            if exact is not None and previous is not None:
                update["rate_change"] = _percent(exact - previous)
        rank, previous_rank = group.rank, previous_ranks.get(group.name)
        update["previous_rank"] = previous_rank
        if rank is not None and previous_rank is not None:
            update["rank_change"] = previous_rank - rank
        if key in ago_sums:
            done, _ = now.get(key, (Decimal(0), Decimal(0)))
            ago_done = ago_sums[key][0]
            update["year_ago_completed_yi"] = to_yi(ago_done)
            update["year_ago_rate"] = _percent(_exact_rate(ago_sums[key]))
            update["growth"] = _percent((done - ago_done) * HUNDRED / ago_done) \
                if ago_done else None
        return group.model_copy(update=update)

    def each(kind: str, groups: Sequence[Group], previous: Sequence[Group] | None) -> list[Group]:
        previous_ranks = ranks(previous)
        return [compared(kind, g, previous_ranks) for g in groups]

    def in_group(group: UnitGroup, previous: UnitGroup | None) -> UnitGroup:
        return group.model_copy(update={
            "total": compared("category", group.total, {}),
            "units": each("unit", group.units, previous.units if previous else None)})

    ranking = progress.unit_ranking
    assert ranking is not None
    was = before.unit_ranking if before else None
    update: dict[str, Any] = {
        "previous_period": before_period,
        "total": compared("total", progress.total, {}),
        "stages": each("stage", progress.stages, None),
        "sectors": each("sector", progress.sectors, None),
        "counties": each("county", progress.counties, before.counties if before else None),
        "units": each("unit", progress.units, before.units if before else None),
        "unit_ranking": UnitRanking(**{
            slot: in_group(getattr(ranking, slot), getattr(was, slot) if was else None)
            for slot in ("county", "department", "enterprise", "unclassified")})}
    if year_ago is not None:
        update["year_ago"] = YearAgo(period=ago_period, source=source,
                                     title_period=f"{progress.year - 1}年{progress.period_label}")
    return progress.model_copy(update=update)


def _exact_rate(pair: tuple[Decimal, Decimal] | None) -> Decimal | None:
    return None if pair is None else _rate(pair[0], pair[1])


# ---- 下步工作 and 附件 ----------------------------------------------------------------------

def _few(names: Sequence[str], what: str, limit: int = 3) -> str:
    """``A、B、C等5个单位``: at most ``limit`` names, then how many in all."""
    shown = "、".join(names[:limit])
    return f"{shown}等{len(names)}个{what}" if len(names) > limit else shown


def _next_steps(p: Progress, deadline_day: int) -> list[NextStep]:
    """下步工作 drawn from the month's facts, most pressing first; the last one always looks
    at next month (its 时序进度 and planned starts)."""
    steps: list[tuple[str, str]] = []
    late_starts, late_ends = p.starts.overdue, p.completions.overdue
    if late_starts or late_ends:
        words = "、".join(word for lines, word in ((late_starts, "未开工"), (late_ends, "未竣工"))
                         if lines)
        leads = list(dict.fromkeys(o.unit for o in [*late_starts, *late_ends]))
        steps.append(("加快项目开工竣工", f"请{_few(leads, '单位', 2)}对逾期{words}的项目逐个"
                                          "分析原因，明确时间节点，力促尽快开工、竣工。"))
    for flag, word in (("红", "红灯"), ("黄", "黄灯")):
        counties = [c.name for c in p.counties if c.flag == flag]
        units = [u.name for u in p.units if u.flag == flag]
        if counties or units:
            named = [_few(names, what, 2) for names, what in ((counties, "县区"), (units, "单位"))
                     if names]
            steps.append((f"加强{word}县区和单位督导",
                          f"亮{word}的{'和'.join(named)}要分析滞后原因，制定赶超措施；"
                          "市重点办将跟踪调度，对进度仍无起色的开展专项督导。"))
            break
    problems, ledger = p.problems, p.problem_ledger
    if ledger is not None and ledger.open:
        text = f"尚有{ledger.open}个问题未办结" + (f"（逾期{ledger.overdue}个）" if ledger.overdue else "")
        steps.append(("协调解决项目建设问题", text + "，请各协调责任单位按时限办结。"))
    elif problems is not None and problems.projects:
        main = "、".join(t.name for t in problems.by_type[:3])
        text = f"本月{problems.projects}个项目报送问题，主要涉及{main}"
        if problems.coordination:
            text += f"，{problems.coordination}个项目需市级协调"
        steps.append(("协调解决项目建设问题",
                      text + "；市重点办将逐项明确协调责任单位和办理时限，跟踪督办。"))
    r = p.returns
    facts = [f"{len(names)}个单位{word}" for names, word in
             ((r.missing, "未报送"), (r.late, "逾期报送"), (r.rejected, "报送未通过校验")) if names]
    if facts:
        steps.append(("规范项目信息报送", f"本月{'、'.join(facts)}，请各单位于每月{deadline_day}日前"
                                          "按时、准确报送。"))
    if p.next_benchmark is not None:
        text = f"下月时序进度为{p.next_benchmark}%"
        if p.next_starts:
            text += f"，{p.next_starts}个项目计划下月开工"
        steps.append(("抓好下月投资进度", text + "，请各县区和单位倒排节点，确保投资进度不低于"
                                               "时序进度。"))
    else:
        steps.append(("做好年度总结", "请各县区和单位全面总结全年重大项目建设情况，谋划储备下一年度项目。"))
    return [NextStep(number=f"（{_chinese_number(n)}）", title=title, text=text)
            for n, (title, text) in enumerate(steps, start=1)]


def _chinese_number(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (_NUMERALS[ones - 1] if ones else "")


def _attachments(p: Progress, placement: AttachmentPlacement) -> Attachments:
    """The 附件, numbered in this order, of the lists that have items (设置“简报附件”)."""
    if placement is not AttachmentPlacement.BULLETIN:
        return Attachments(in_bulletin=False, items=[], lagging=None, issues=None, units=None,
                           milestones=None)
    long_milestones = len(p.month_starts) > NAMED_IN_BODY \
        or len(p.month_completions) > NAMED_IN_BODY
    wanted = [("lagging", "滞后项目名单", bool(p.lagging)),
              ("issues", "存在问题和需协调事项清单", bool(p.issues)),
              ("problems", "各协调责任单位问题办结情况",
               p.problem_ledger is not None and bool(p.problem_ledger.closure)),
              ("units", "各牵头单位投资完成情况排名", bool(p.units)),
              ("milestones", "本月新开工、竣工项目名单", long_milestones)]
    items = [Attachment(number=n, key=key, title=title) for n, (key, title) in
             enumerate([(k, t) for k, t, present in wanted if present], start=1)]
    numbers = {item.key: item.number for item in items}
    return Attachments(in_bulletin=True, items=items, lagging=numbers.get("lagging"),
                       issues=numbers.get("issues"), problems=numbers.get("problems"),
                       units=numbers.get("units"), milestones=numbers.get("milestones"))


def _freshness(everything: Sequence[_Figures], month: int) -> Freshness:
    carried = [f for f in everything if not f.reported]
    periods = sorted({f.entry.period for f in carried if f.entry is not None}, reverse=True)
    return Freshness(
        month=month, current=len(everything) - len(carried), carried_projects=len(carried),
        never_reported=sum(1 for f in carried if f.entry is None),
        carried_implementation=sum(1 for f in carried if not f.project.is_preparatory),
        carried_units=list(dict.fromkeys(f.project.lead_unit for f in carried)),
        from_months=[f"{int(p[5:7])}月" for p in periods])


# ---- the field reference -----------------------------------------------------------------

def field_reference(model: type[BaseModel] = Progress, prefix: str = "") -> list[tuple[str, str, str]]:
    """Every field a template may use: (path, type, meaning). Lists are written ``name[]``;
    in a Word loop ``{% for c in counties %}`` the item's fields are ``c.name``, ``c.rate``."""
    rows: list[tuple[str, str, str]] = []
    items: list[tuple[str, Any, str]] = [
        (name, info.annotation, info.description or "") for name, info in model.model_fields.items()]
    items += [(name, info.return_type, info.description or "")
              for name, info in model.model_computed_fields.items()]
    for name, annotation, description in items:
        path = f"{prefix}{name}"
        nested, is_list = _nested_model(annotation)
        if nested is not None:
            rows.append((f"{path}[]" if is_list else path, "列表" if is_list else "分组",
                         description))
            rows += field_reference(nested, f"{path}[]." if is_list else f"{path}.")
        else:
            rows.append((path, _type_name(annotation), description))
    return rows


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    optional = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    if isinstance(annotation, types.UnionType) and len(optional) == 1:
        annotation = optional[0]  # ``YearAgo | None`` documents YearAgo's fields
    origin = getattr(annotation, "__origin__", None)
    if origin is list:
        inner = annotation.__args__[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, True
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    if "list" in text:
        return "文字列表"
    if "Decimal" in text:
        return "数值"
    if "int" in text:
        return "整数"
    if "bool" in text:
        return "是/否"
    if "date" in text:
        return "日期"
    return "文字"
