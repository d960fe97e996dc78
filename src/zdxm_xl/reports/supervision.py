"""问题台帐 and 督办 as the 简报, 通报 and 督办通知单 read them (SPEC §4.6).

``problem_figures`` summarises 问题台帐 for a 报告期: items by status and type, what the
month raised and closed, and 问题办结率 per 协调责任单位 (``Closure``): closed ÷ given, and
closed within the 办理时限 ÷ given.

``supervise`` decides what is 督办 (supervised) and to whom, as of a day:

* a problem past its 办理时限 and not closed, or open ``problem_months`` 报告期 after it was
  raised (设置 问题督办月数) → its 协调责任单位;
* a project whose 投资完成率 is 红, or 逾期未开工 / 逾期未竣工 → its 牵头单位.

Each unit with something supervised gets one 督办通知单 (``SupervisedUnit``), numbered
``{字号}〔{年度}〕{月}-{n}号`` in the order of the 责任单位 sheet; a problem whose 办理时限
is near (设置 问题临期提醒天数) is added to it as a reminder (预警, 黄灯), but does not by
itself make a notice. Problems not yet given to a unit (待交办) are the office's own to
assign: they are counted, never sent.

This module does not know the progress model: the projects come in as anything with the
attributes of ``ProjectFacts`` (``progress.ProjectLine``). The other way round, ``progress``
builds its models on this module's ``Context``, ``Tally``, ``share`` and ``tally_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, computed_field

from ..core.cells import format_date
from ..core.master import Master
from ..core.models import ProblemStatus, ProblemType, UnitCategory
from ..core.money import round_half_up
from ..core.periods import period_end, period_month
from ..core.problems import closure, due_soon, months_open, overdue, status_on
from ..core.returns import reports_in

__all__ = ["NOTICE_DAYS", "Context", "ProjectFacts", "Tally", "share", "tally_text", "ClosureRate",
           "ProblemFigures", "SupervisionItem", "SupervisedUnit", "Supervision", "problem_figures",
           "supervise", "notice_number"]

NOTICE_DAYS = 10  # a 督办通知单 asks for an answer within this many days of its date
_HUNDRED = Decimal(100)
_CATEGORY_ORDER = (*(c.value for c in UnitCategory), "")


class Context(BaseModel):
    """A template context model (简报, 通报, 督办通知单): read-only once made."""

    model_config = ConfigDict(frozen=True)


class ProjectFacts(Protocol):
    """What a 督办 needs of a project's progress (``progress.ProjectLine`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def annual_plan_wan(self) -> Decimal: ...
    @property
    def year_completed_wan(self) -> Decimal: ...
    @property
    def rate(self) -> Decimal | None: ...
    @property
    def gap(self) -> Decimal | None: ...
    @property
    def flag(self) -> str | None: ...
    @property
    def planned_start(self) -> str: ...
    @property
    def planned_end(self) -> str: ...
    @property
    def reasons(self) -> list[str]: ...


class Tally(Context):
    """一个类别及其个数。"""

    name: str = Field(description="类别名称")
    count: int = Field(description="个数")


def share(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in per cent, one decimal; ``None`` of nothing."""
    return round_half_up(Decimal(part) * _HUNDRED / whole, 1) if whole else None


def tally_text(tallies: Sequence[Tally]) -> str:
    """``征地拆迁6个、用地4个``: the tallies that count something."""
    return "、".join(f"{t.name}{t.count}个" for t in tallies if t.count)


class ClosureRate(Context):
    """一个协调责任单位（或全部）交办问题的办结情况。"""

    unit: str = Field(description="协调责任单位（合计为“合计”）")
    total: int = Field(description="交办的问题个数（截至报告期提出、已明确协调责任单位的，不含不再协调）")
    closed: int = Field(description="已办结的个数")
    on_time: int = Field(description="其中在办理时限内办结的个数")
    open: int = Field(description="尚未办结的个数")
    overdue: int = Field(description="尚未办结且已超过办理时限的个数")
    rate: Decimal | None = Field(description="问题办结率（%）：已办结 ÷ 交办，一位小数")
    on_time_rate: Decimal | None = Field(description="按时办结率（%）：时限内办结 ÷ 交办，一位小数")


class ProblemFigures(Context):
    """问题台帐截至报告期的概况（按状态、类型）和各协调责任单位的问题办结率。"""

    as_of: date = Field(description="状态和逾期的判断日（简报为印发日期）")
    as_of_text: str = Field(description="判断日的中文写法，如“2022年4月8日”")
    total: int = Field(description="问题台帐中截至报告期提出的问题个数（不含不再协调）")
    raised: int = Field(description="本报告期新提出的问题个数")
    closed_in_month: int = Field(description="本报告期办结的问题个数（办结日期在本报告期内）")
    open: int = Field(description="尚未办结的问题个数（待交办和办理中）")
    waiting: int = Field(description="待交办（尚未明确协调责任单位）的问题个数")
    overdue: int = Field(description="超过办理时限仍未办结的问题个数")
    due_soon: int = Field(description="办理时限将至（设置“问题临期提醒天数”内）、尚未办结的问题个数")
    by_status: list[Tally] = Field(description="按状态（待交办、办理中、已办结、不再协调）的问题个数")
    open_by_type: list[Tally] = Field(description="尚未办结的问题按类型的个数，从多到少")
    closure: list[ClosureRate] = Field(description="各协调责任单位的问题办结情况，按办结率从低到高")
    closure_total: ClosureRate = Field(description="全部交办问题的办结情况")

    @computed_field(description="按状态的概况，如“已办结5个、办理中12个、待交办3个”")  # type: ignore[prop-decorator]
    @property
    def by_status_text(self) -> str:
        return tally_text(self.by_status)

    @computed_field(description="未办结问题按类型的概况，如“征地拆迁6个、用地4个”")  # type: ignore[prop-decorator]
    @property
    def open_by_type_text(self) -> str:
        return tally_text(self.open_by_type)

    @computed_field(description="未办结问题最多的至多三类，如“征地拆迁6个、用地4个、资金3个”")  # type: ignore[prop-decorator]
    @property
    def open_top_text(self) -> str:
        return tally_text(self.open_by_type[:3])

    @computed_field(description="未办结问题最多的至多三类的名称，如“征地拆迁、用地、资金”")  # type: ignore[prop-decorator]
    @property
    def open_top_names(self) -> str:
        return "、".join(t.name for t in self.open_by_type[:3])

    @computed_field(description="办结率最低、尚有未办结问题的至多三个协调责任单位，如“市自然资源局（25.0%）”")  # type: ignore[prop-decorator]
    @property
    def lowest_text(self) -> str:
        low = [c for c in self.closure if c.open and c.rate is not None][:3]
        return "、".join(f"{c.unit}（{c.rate}%）" for c in low)


def _rate(unit: str, total: int, closed: int, on_time: int, overdue_count: int) -> ClosureRate:
    return ClosureRate(unit=unit, total=total, closed=closed, on_time=on_time,
                       open=total - closed, overdue=overdue_count,
                       rate=share(closed, total), on_time_rate=share(on_time, total))


def problem_figures(master: Master, period: str, as_of: date) -> ProblemFigures:
    """问题台帐 for ``period`` (items raised up to it), their state on ``as_of``."""
    items = [p for p in master.problems if p.opened <= period]
    live = [p for p in items if p.status is not ProblemStatus.DROPPED]
    states = {p.id: status_on(p, as_of) for p in items}
    open_items = [p for p in live if states[p.id] in (ProblemStatus.WAITING, ProblemStatus.HANDLING)]
    first, last = period_month(period), period_end(period)
    by_status = [Tally(name=s.value, count=sum(1 for p in items if states[p.id] is s))
                 for s in ProblemStatus]
    types = {t.value: 0 for t in ProblemType}
    for item in open_items:
        types[item.type.value] += 1
    order = list(types)
    open_by_type = sorted((Tally(name=n, count=c) for n, c in types.items() if c),
                          key=lambda t: (-t.count, order.index(t.name)))
    counts = closure(master, period, as_of)
    rates = [_rate(c.unit, c.total, c.closed, c.on_time, c.overdue) for c in counts]
    rates.sort(key=lambda r: (r.rate is None, r.rate or 0, -r.open, r.unit))
    total = _rate("合计", sum(c.total for c in counts), sum(c.closed for c in counts),
                  sum(c.on_time for c in counts), sum(c.overdue for c in counts))
    settings = master.settings
    return ProblemFigures(
        as_of=as_of, as_of_text=format_date(as_of), total=len(live),
        raised=sum(1 for p in live if p.opened == period),
        closed_in_month=sum(1 for p in live if states[p.id] is ProblemStatus.CLOSED
                            and p.closed is not None and first <= p.closed <= last),
        open=len(open_items),
        waiting=sum(1 for p in open_items if states[p.id] is ProblemStatus.WAITING),
        overdue=sum(1 for p in open_items if overdue(p, as_of)),
        due_soon=sum(1 for p in open_items if due_soon(p, as_of, settings.problem_warning_days)),
        by_status=by_status, open_by_type=open_by_type, closure=rates, closure_total=total)


class SupervisionItem(Context):
    """督办的一个事项：一个问题，或一个项目。"""

    kind: str = Field(description="类别：问题或项目")
    reason: str = Field(description="督办原因，如“逾期12天”（超过办理时限12天未办结）、“提出已满2个月”"
                                    "（仍未办结）、“投资完成率红灯”“逾期未开工”；临期提醒为“办理时限将至”")
    warning: bool = Field(description="是否只是临期提醒（黄灯），不是督办")
    project_id: str = Field(description="项目编号")
    project_name: str = Field(description="项目名称")
    problem_id: str = Field(description="问题编号（项目事项为空）")
    problem_type: str = Field(description="问题类型（项目事项为空）")
    detail: str = Field(description="事项内容：问题描述，或项目的完成情况")
    progress: str = Field(description="问题的最新进展（项目为形象进度之外的说明，可空）")
    due: date | None = Field(description="办理时限（问题），或计划开工、竣工时间（项目）")
    due_text: str = Field(description="时限的中文写法，如“2022年3月31日”“计划2022年2月开工”")
    reporter: str = Field(description="提出问题的单位（项目事项为牵头单位）")

    @computed_field(description="预警：督办为红，临期提醒为黄")  # type: ignore[prop-decorator]
    @property
    def flag(self) -> str:
        return "黄" if self.warning else "红"


class SupervisionRow(SupervisionItem):
    """通报“督办”表的一行：督办事项和它的督办对象。"""

    unit: str = Field(description="督办对象")
    number: str = Field(description="督办通知单编号")


class SupervisedUnit(Context):
    """一个责任单位的督办事项：一份督办通知单。"""

    unit: str = Field(description="督办对象：问题的协调责任单位，或项目的牵头单位")
    category: str = Field(description="单位类别（县区、市直部门、国有企业，未填为空）")
    number: str = Field(description="督办通知单编号，如“重点办督〔2022〕3-1号”")
    commissioner: str = Field(description="该单位的责任专员（姓名，未登记为空）")
    problems: list[SupervisionItem] = Field(description="督办的问题（含临期提醒）")
    projects: list[SupervisionItem] = Field(description="督办的项目（红灯、逾期未开工、逾期未竣工）")

    @computed_field(description="督办的问题个数（不含临期提醒）")  # type: ignore[prop-decorator]
    @property
    def problem_count(self) -> int:
        return sum(1 for i in self.problems if not i.warning)

    @computed_field(description="临期提醒的问题个数")  # type: ignore[prop-decorator]
    @property
    def warning_count(self) -> int:
        return sum(1 for i in self.problems if i.warning)

    @computed_field(  # type: ignore[prop-decorator]
        description="督办事由，如“你单位负责协调的问题中有2个超过办理时限仍未办结；"
                    "你单位牵头的项目中有3个投资完成率为红灯、1个逾期未开工”")
    @property
    def reason_text(self) -> str:
        parts = []
        late = sum(1 for i in self.problems if i.reason.startswith("逾期"))
        stale = sum(1 for i in self.problems if not i.warning and not i.reason.startswith("逾期"))
        said = [f"{late}个超过办理时限仍未办结" if late else "",
                f"{stale}个提出后长期未办结" if stale else ""]
        if any(said):
            parts.append("你单位负责协调的重大项目问题中，有" + "、".join(s for s in said if s))
        red = sum(1 for i in self.projects if "红灯" in i.reason)
        starts = sum(1 for i in self.projects if "逾期未开工" in i.reason)
        ends = sum(1 for i in self.projects if "逾期未竣工" in i.reason)
        said = [f"{red}个投资完成率为红灯" if red else "", f"{starts}个逾期未开工" if starts else "",
                f"{ends}个逾期未竣工" if ends else ""]
        if any(said):
            parts.append("你单位牵头的重大项目中，有" + "、".join(s for s in said if s))
        return "；".join(parts)


class Supervision(Context):
    """督办：逾期和久拖未决的问题、红灯和逾期未开工（竣工）的项目，按责任单位汇总。"""

    as_of: date = Field(description="督办的判断日（通报、简报为印发日期）")
    as_of_text: str = Field(description="判断日的中文写法，如“2022年4月8日”")
    reply_by: date = Field(description="要求反馈办理情况的日期（判断日后10天）")
    reply_by_text: str = Field(description="反馈日期的中文写法")
    problem_months: int = Field(
        description="问题督办月数（设置）：提出后经过这么多个报告期仍未办结的列入督办")
    units: list[SupervisedUnit] = Field(
        description="每个有督办事项的单位一份督办通知单，按单位类别和责任单位表的顺序")
    overdue_problems: int = Field(description="超过办理时限未办结的问题个数")
    stale_problems: int = Field(description="提出已满问题督办月数、未超时限但仍未办结的问题个数")
    warning_problems: int = Field(description="办理时限将至的问题个数（临期提醒）")
    waiting_problems: int = Field(
        description="提出已满问题督办月数、尚未交办的问题个数（由市重点办交办，不发通知）")
    red_projects: int = Field(description="投资完成率为红灯的项目个数")
    late_starts: int = Field(description="逾期未开工的项目个数")
    late_ends: int = Field(description="逾期未竣工的项目个数")

    @computed_field(description="收到督办通知单的单位个数")  # type: ignore[prop-decorator]
    @property
    def unit_count(self) -> int:
        return len(self.units)

    @computed_field(description="督办的问题个数（超过办理时限的和久拖未决的，不含临期提醒）")  # type: ignore[prop-decorator]
    @property
    def problem_count(self) -> int:
        return self.overdue_problems + self.stale_problems

    @computed_field(description="督办的项目个数（红灯、逾期未开工、逾期未竣工，一个项目计一次）")  # type: ignore[prop-decorator]
    @property
    def project_count(self) -> int:
        return sum(len(u.projects) for u in self.units)

    @computed_field(description="督办的全部事项，一行一个（通报“督办”表用）：单位在前")  # type: ignore[prop-decorator]
    @property
    def rows(self) -> list[SupervisionRow]:
        return [SupervisionRow(unit=u.unit, number=u.number, **item.model_dump())
                for u in self.units for item in (*u.problems, *u.projects)]


def notice_number(prefix: str, period: str, position: int) -> str:
    """``重点办督〔2022〕3-1号``: the 报告期's year and month, and the notice's place."""
    return f"{prefix}〔{period[:4]}〕{int(period[5:7])}-{position}号"


def _days(day: date, since: date) -> int:
    return (day - since).days


def supervise(master: Master, period: str, as_of: date, lagging: Sequence[ProjectFacts],
              reply_by: date | None = None) -> Supervision:
    """What is 督办 for ``period`` on ``as_of``, per responsible unit (see the module); the
    notices ask an answer by ``reply_by`` (default: ``NOTICE_DAYS`` after ``as_of``)."""
    settings = master.settings
    active = {p.id for p in master.projects if reports_in(p, period)}
    problems: dict[str, list[SupervisionItem]] = {}
    counts = {"overdue": 0, "stale": 0, "warning": 0, "waiting": 0}
    for item in master.problems:
        if item.opened > period or not item.open or status_on(item, as_of) not in (
                ProblemStatus.WAITING, ProblemStatus.HANDLING):
            continue
        age = months_open(item, period)
        late = overdue(item, as_of)
        stale = age >= settings.problem_months
        soon = due_soon(item, as_of, settings.problem_warning_days)
        if item.unit is None:
            counts["waiting"] += int(stale)
            continue
        # One reason, the most pressing: past its 时限, else open too long, else near it.
        if late and item.due is not None:
            reason = f"逾期{_days(as_of, item.due)}天"
            counts["overdue"] += 1
        elif stale:
            reason = f"提出已满{age}个月"
            counts["stale"] += 1
        elif soon:
            reason = "办理时限将至"
            counts["warning"] += 1
        else:
            continue
        problems.setdefault(item.unit, []).append(SupervisionItem(
            kind="问题", reason=reason, warning=not (late or stale),
            project_id=item.project_id, project_name=item.project_name or item.project_id,
            problem_id=item.id, problem_type=item.type.value, detail=item.description,
            progress=item.progress or "", due=item.due,
            due_text=format_date(item.due) if item.due else "未定", reporter=item.reporter or ""))
    projects: dict[str, list[SupervisionItem]] = {}
    red = starts = ends = 0
    for line in lagging:
        late_words = [r for r in line.reasons if r.startswith("逾期")]
        if line.flag != "红" and not late_words or line.id not in active:
            continue
        reasons = list(late_words)
        if line.flag == "红":
            reasons.append("投资完成率红灯")
            red += 1
        starts += int("逾期未开工" in late_words)
        ends += int("逾期未竣工" in late_words)
        rate = "—" if line.rate is None else f"{line.rate}%"
        detail = (f"年度计划投资{line.annual_plan_wan:,.2f}万元，本年累计完成{line.year_completed_wan:,.2f}"
                  f"万元，投资完成率{rate}")
        if line.gap is not None and line.gap < 0:
            detail += f"，低于时序进度{-line.gap}个百分点"
        when = ""
        if "逾期未开工" in late_words:
            when = f"计划{line.planned_start}开工"
        elif "逾期未竣工" in late_words:
            when = f"计划{line.planned_end}竣工"
        projects.setdefault(line.unit, []).append(SupervisionItem(
            kind="项目", reason="、".join(reasons), warning=False, project_id=line.id,
            project_name=line.name, problem_id="", problem_type="", detail=detail, progress="",
            due=None, due_text=when, reporter=line.unit))
    supervised = [u for u in set(problems) | set(projects)
                  if any(not i.warning for i in problems.get(u, [])) or projects.get(u)]
    order = {u.name: n for n, u in enumerate(master.units)}
    categories = {u.name: u.category.value if u.category else "" for u in master.units}
    supervised.sort(key=lambda u: (_CATEGORY_ORDER.index(categories.get(u, "")),
                                   order.get(u, len(order)), u))
    units = []
    for position, name in enumerate(supervised, start=1):
        known = master.unit(name)
        units.append(SupervisedUnit(
            unit=name, category=categories.get(name, ""),
            number=notice_number(settings.notice_prefix, period, position),
            commissioner=(known.commissioner_name or "") if known else "",
            problems=sorted(problems.get(name, []), key=lambda i: (i.warning, i.due or as_of,
                                                                    i.problem_id)),
            projects=projects.get(name, [])))
    reply = reply_by or as_of + timedelta(days=NOTICE_DAYS)
    return Supervision(
        as_of=as_of, as_of_text=format_date(as_of), reply_by=reply,
        reply_by_text=format_date(reply), problem_months=settings.problem_months, units=units,
        overdue_problems=counts["overdue"], stale_problems=counts["stale"],
        warning_problems=counts["warning"], waiting_problems=counts["waiting"],
        red_projects=red, late_starts=starts, late_ends=ends)
