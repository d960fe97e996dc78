"""问题台帐: the problems units report, followed until they are solved (SPEC §4.6).

Every change to an item goes through ``Tracker``, which writes one row of 问题办理记录 per
field changed, so the history of an item can be read back row by row. Four things change
items:

* **a merged return** (``take_return``): each non-empty 存在问题 / 需协调事项 of a project
  raises an item (状态 待交办, 问题类型 from its words); the same problem reported again —
  the same project, and words that are the same or nearly so (``same_problem``) as one of
  its open items — updates that item instead (续报). The form's 问题跟踪 sheet brings the
  unit's 最新进展 and 是否已解决: an item reported solved is 已办结 as of the 报告期's end.
  A unit's corrected return of the same month replaces what its earlier one said: an item
  only the earlier one raised, not yet touched by the office, is 不再协调.
* **the office, by command** (``assign``, ``close``): 交办 names the 协调责任单位 and the
  办理时限 (and may set the 问题类型), which makes a 待交办 item 办理中; 办结 closes it.
* **the office, in the sheet** (``reconcile``): what the office typed into 问题台帐 by hand
  differs from the last value the history holds; it is logged as 修改 when the program next
  touches the problems, and the status is made consistent (a 待交办 item given a 协调责任单位
  is 办理中; one marked 已办结 gets a 办结日期, one given a 办结日期 is 已办结).

Figures: ``closure`` counts, per 协调责任单位, the items it was given and how many it closed
(in all, and within the 办理时限); ``overdue``, ``due_soon`` and ``months_open`` are the
warnings a 督办通知 is made of.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pydantic.dataclasses import dataclass as result

from .errors import ChangeRefused, Field, UsageError
from .master import Master
from .models import (
    LedgerEntry,
    Problem,
    ProblemChange,
    ProblemEvent,
    ProblemStatus,
    ProblemType,
    YesNo,
)
from .periods import given_day, period_end, period_month
from .registry import PROBLEMS, Column, Kind
from .results import RESULT
from .tables import decode_value, encode_value

__all__ = ["PROBLEM_ID", "KEYWORDS", "TRACKED", "TrackingUpdate", "ReturnEffect", "Tracker",
           "default_type", "next_problem_id", "ProblemIndex", "same_problem", "find_problem",
           "take_return", "drop_exited",
           "closed_by_return",
           "reconcile", "assign", "close", "unit_items", "overdue", "due_soon", "months_open",
           "status_on", "Closure", "closure", "history"]

PROBLEM_ID = re.compile(r"^WT(\d{4})-(\d{4,})$")
# The words that say a problem's type, first match wins (征地拆迁 before 用地: "征地" is
# about compensation, not land quotas; 环评 before 审批手续: its 批复 is an approval).
KEYWORDS: tuple[tuple[ProblemType, tuple[str, ...]], ...] = (
    (ProblemType.DEMOLITION, ("征地", "拆迁", "征收", "搬迁", "补偿", "清表", "青苗", "迁坟")),
    (ProblemType.LAND, ("用地", "土地", "林地", "供地", "指标", "红线", "农转用", "占补平衡")),
    (ProblemType.PLANNING, ("规划", "选址", "方案审查", "控规", "总平")),
    (ProblemType.ENVIRONMENT, ("环评", "环境影响", "环保", "排污", "水保", "水土保持")),
    (ProblemType.FUNDS, ("资金", "资本金", "融资", "贷款", "拨付", "专项债", "债券", "到位")),
    (ProblemType.UTILITIES, ("管线", "迁改", "供水", "供电", "用电", "电力", "燃气", "天然气",
                             "道路", "排水", "水电", "通信")),
    (ProblemType.APPROVAL, ("审批", "审查", "手续", "许可", "批复", "立项", "核准", "备案",
                            "图审", "施工图", "报建", "能评", "节能")),
)
# The 问题台帐 columns whose changes the history keeps, in the order an item's rows are
# written (更新报告期 is logged when a return moves it, never compared with the sheet).
TRACKED = ("description", "coordination", "type", "unit", "due", "status", "closed",
           "progress")
SIMILAR = 0.6  # difflib ratio from which two wordings are the same problem
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_COLUMNS = {column.field: column for column in PROBLEMS.columns}
_BY_HEADER = {column.header: column for column in PROBLEMS.columns}
HAND_EDIT = "在问题台帐中直接修改"


def default_type(*texts: str | None) -> ProblemType:
    """The type a new item gets from its words (``KEYWORDS``), else 其他."""
    for text in texts:
        if not text:
            continue
        for kind, words in KEYWORDS:
            if any(word in text for word in words):
                return kind
    return ProblemType.OTHER


def _number(problem_id: str, year: int) -> int:
    """The 序号 of a 问题编号 of ``year``; 0 for any other."""
    match = PROBLEM_ID.match(problem_id)
    return int(match.group(2)) if match and int(match.group(1)) == year else 0


def _problem_id(year: int, number: int) -> str:
    """The 问题编号 of ``year``'s ``number``th item: ``WT{年度}-{序号}``."""
    return f"WT{year}-{number:04d}"


def next_problem_id(year: int, problems: Iterable[Problem]) -> str:
    """The next free 问题编号; numbers are never reused."""
    highest = max((_number(item.id, year) for item in problems), default=0)
    return _problem_id(year, highest + 1)


class ProblemIndex:
    """问题台帐 looked up by 问题编号, by project and by the return that raised an item, and
    the project names: one pass over the master for many returns in a row, kept current as
    they raise items (``add``). Items are listed in 问题台帐's order."""

    def __init__(self, master: Master) -> None:
        self.master = master
        self.names = {p.id: p.name for p in master.projects}
        self.by_id: dict[str, Problem] = {}
        self.by_project: dict[str, list[Problem]] = {}
        self.by_return: dict[tuple[str, str | None], list[Problem]] = {}
        self.highest = 0
        for item in master.problems:
            self._index(item)

    def _index(self, item: Problem) -> None:
        self.by_id.setdefault(item.id, item)
        self.by_project.setdefault(item.project_id, []).append(item)
        self.by_return.setdefault((item.opened, item.reporter), []).append(item)
        self.highest = max(self.highest, _number(item.id, self.master.year))

    def next_id(self) -> str:
        """``next_problem_id`` of the master as it is now."""
        return _problem_id(self.master.year, self.highest + 1)

    def add(self, item: Problem) -> None:
        """An item just appended to 问题台帐."""
        self._index(item)

    def listed(self, projects: Iterable[str]) -> int:
        """How many items the projects have (open or not)."""
        return sum(len(self.by_project.get(project, ())) for project in projects)


def _bare(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text))


def same_problem(a: str | None, b: str | None) -> bool:
    """Whether two wordings of one project's problem are the same problem: equal but for
    spaces and punctuation, one containing the other, or nearly the same words."""
    if not a or not b:
        return False
    x, y = _bare(a), _bare(b)
    if not x or not y:
        return False
    if x == y or (min(len(x), len(y)) >= 4 and (x in y or y in x)):
        return True
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio() >= SIMILAR


def find_problem(master: Master, problem_id: str) -> Problem:
    """The item ``problem_id`` (问题编号); ``UsageError`` naming it when there is none."""
    wanted = (problem_id or "").strip().upper()
    for item in master.problems:
        if item.id.upper() == wanted:
            return item
    raise UsageError(f"问题台帐中没有问题编号“{problem_id}”。", field=Field.PROBLEM,
                     value=problem_id)


def _text(column: Column, value: object) -> str | None:
    """A value as 问题办理记录 writes it: dates 2022-04-30, periods 2022-03, enums by value."""
    if value is None or value == "":
        return None
    if column.kind is Kind.DATE and isinstance(value, date):
        return value.isoformat()
    encoded = encode_value(column, value)
    return None if encoded is None else str(encoded)


def _default(name: str) -> str | None:
    """A field's value in the history before any row names it: the model's default."""
    return _text(_COLUMNS[name], Problem.model_fields[name].default)


def _value(column: Column, text: str | None) -> object:
    try:
        return decode_value(column, text)
    except ValueError:
        return text


@dataclass
class TrackingUpdate:
    """A row of a returned form's 问题跟踪 sheet: the unit's word on one open item."""

    problem_id: str
    progress: str | None = None  # 最新进展
    solved: YesNo | None = None  # 是否已解决


@result(config=RESULT)
class ReturnEffect:
    """What merged returns did to 问题台帐 (问题编号 in each list)."""

    raised: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)  # the same problem reported again
    progressed: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def add(self, other: ReturnEffect) -> None:
        for name in ("raised", "reported", "progressed", "closed", "reopened", "dropped"):
            getattr(self, name).extend(getattr(other, name))

    def text(self) -> str:
        """``新增 3 个、续报 1 个、办结 2 个``; empty when nothing changed."""
        words = (("新增", self.raised), ("续报", self.reported), ("报告进展", self.progressed),
                 ("办结", self.closed), ("重新办理", self.reopened), ("不再协调", self.dropped))
        return "、".join(f"{word} {len(ids)} 个" for word, ids in words if ids)


class Tracker:
    """Changes to 问题台帐 items, each field written to 问题办理记录 as it changes."""

    def __init__(self, master: Master, when: datetime, *, operator: str | None = None,
                 period: str | None = None) -> None:
        self.master = master
        self.when = when.replace(microsecond=0)
        self.operator = operator
        self.period = period
        self.changes: list[ProblemChange] = []

    def log(self, item: Problem, event: ProblemEvent, name: str | None = None,
            old: object = None, new: object = None, note: str | None = None) -> None:
        column = _COLUMNS[name] if name else None
        row = ProblemChange(
            time=self.when, problem_id=item.id, project_name=item.project_name, event=event,
            period=self.period, field=column.header if column else None,
            old=_text(column, old) if column else None, new=_text(column, new) if column else None,
            note=note, operator=self.operator)
        self.master.problem_log.append(row)
        self.changes.append(row)

    def set(self, item: Problem, name: str, value: object, event: ProblemEvent,
            note: str | None = None) -> bool:
        """Set one field; logged when it changes. Whether it changed."""
        old = getattr(item, name)
        if old == value:
            return False
        setattr(item, name, value)
        self.log(item, event, name, old, value, note)
        return True

    def log_raised(self, item: Problem, note: str | None = None) -> None:
        """Log the fields an item starts with (提出), but those every new item has."""
        for name in TRACKED:
            value = getattr(item, name)
            if _text(_COLUMNS[name], value) != _default(name):
                self.log(item, ProblemEvent.RAISED, name, None, value, note)
                note = None  # said once, on the item's first row

    def raise_item(self, item: Problem, note: str | None = None) -> Problem:
        """A new item, kept and logged (提出)."""
        self.master.problems.append(item)
        self.log_raised(item, note)
        return item


# ---- a merged return -------------------------------------------------------------------------

def take_return(master: Master, period: str, unit: str, entries: Sequence[LedgerEntry],
                tracking: Sequence[TrackingUpdate], when: datetime,
                index: ProblemIndex | None = None) -> ReturnEffect:
    """What a merged return of ``unit`` for ``period`` says about problems: its rows'
    存在问题 and 需协调事项 (``entries``) and its 问题跟踪 sheet (``tracking``). ``index``:
    the master's, when many returns are taken in a row."""
    index = index if index is not None and index.master is master else ProblemIndex(master)
    tracker = Tracker(master, when, operator=unit, period=period)
    effect = ReturnEffect()
    projects = {entry.project_id for entry in entries}
    matched: set[str] = set()
    for entry in entries:
        text = (entry.problems or "").strip() or (entry.coordination or "").strip()
        if not text:
            continue
        coordination = (entry.coordination or "").strip() or None
        item = _match(index, entry.project_id, text, coordination, matched)
        if item is None:
            item = tracker.raise_item(Problem(
                id=index.next_id(), project_id=entry.project_id,
                project_name=index.names.get(entry.project_id, entry.project_name),
                reporter=unit, opened=period,
                type=default_type(entry.problems, entry.coordination),
                description=text, coordination=coordination, updated=period))
            index.add(item)
            effect.raised.append(item.id)
        else:
            changed = tracker.set(item, "description", text, ProblemEvent.REPORTED)
            changed |= tracker.set(item, "coordination", coordination, ProblemEvent.REPORTED)
            if item.updated is None or item.updated < period:
                changed |= tracker.set(item, "updated", period, ProblemEvent.REPORTED)
            if changed:
                effect.reported.append(item.id)
        matched.add(item.id)
    # A corrected return replaces the month's earlier one: what only that one raised, and
    # the office has not touched yet, is no longer the unit's word.
    for item in index.by_return.get((period, unit), ()):
        if item.project_id in projects \
                and item.id not in matched and item.status is ProblemStatus.WAITING \
                and item.unit is None and item.due is None:
            tracker.set(item, "status", ProblemStatus.DROPPED, ProblemEvent.DROPPED,
                        "单位重新报送的月报中已无此问题")
            effect.dropped.append(item.id)
    for update in tracking:
        _track(master, index, tracker, update, period, unit, effect)
    return effect


def _match(index: ProblemIndex, project_id: str, text: str, coordination: str | None,
           taken: set[str]) -> Problem | None:
    """The open item of the project that ``text`` reports again, if any."""
    for item in index.by_project.get(project_id, ()):
        if not item.open or item.id in taken:
            continue
        if same_problem(text, item.description) or (
                coordination and same_problem(coordination, item.coordination)):
            return item
    return None


def _track(master: Master, index: ProblemIndex, tracker: Tracker, update: TrackingUpdate,
           period: str, unit: str, effect: ReturnEffect) -> None:
    item = index.by_id.get(update.problem_id)
    if item is None:
        return  # the checker refused such a file (Q01)
    progress = (update.progress or "").strip() or None
    if item.open:
        if progress is not None and tracker.set(item, "progress", progress, ProblemEvent.PROGRESS):
            effect.progressed.append(item.id)
            if item.updated is None or item.updated < period:
                tracker.set(item, "updated", period, ProblemEvent.PROGRESS)
        if update.solved is YesNo.YES:
            tracker.set(item, "status", ProblemStatus.CLOSED, ProblemEvent.CLOSED, "单位报告已解决")
            tracker.set(item, "closed", period_end(period), ProblemEvent.CLOSED)
            effect.closed.append(item.id)
    elif update.solved is YesNo.NO and item.status is ProblemStatus.CLOSED \
            and closed_by_return(master, item, period, unit):
        # The unit's corrected return of the same month takes its 已解决 back.
        tracker.set(item, "status", ProblemStatus.HANDLING if item.unit else ProblemStatus.WAITING,
                    ProblemEvent.REOPENED, "单位更正：问题尚未解决")
        tracker.set(item, "closed", None, ProblemEvent.REOPENED)
        effect.reopened.append(item.id)


def closed_by_return(master: Master, item: Problem, period: str, unit: str) -> bool:
    """Whether ``unit``'s return of ``period`` closed the item (its corrected return of the
    same month may take that back)."""
    closing = [c for c in master.problem_log if c.problem_id == item.id
               and c.event is ProblemEvent.CLOSED and c.field == _COLUMNS["status"].header]
    return bool(closing) and closing[-1].period == period and closing[-1].operator == unit


# ---- the office: in the sheet, or by command ---------------------------------------------------

def _last_known(master: Master) -> dict[str, dict[str, str | None]]:
    """问题编号 → field → its value as the history last recorded it."""
    known: dict[str, dict[str, str | None]] = {}
    for change in master.problem_log:
        column = _BY_HEADER.get(change.field or "")
        fields = known.setdefault(change.problem_id, {})
        if column is not None:
            fields[column.field] = change.new
    return known


def reconcile(master: Master, when: datetime) -> list[ProblemChange]:
    """Log what the office changed in 问题台帐 by hand since the history last saw it, and make
    each item's status agree with its other fields. Returns the rows logged."""
    tracker = Tracker(master, when)
    known = _last_known(master)
    for item in master.problems:
        if item.id not in known:  # a row the office added itself
            tracker.log_raised(item, "在问题台帐中直接添加")
            edited = {"unit", "status", "closed"}
        else:
            fields = known[item.id]
            edited = set()
            for name in TRACKED:
                column = _COLUMNS[name]
                now = _text(column, getattr(item, name))
                before = fields.get(name, _default(name))
                if now != before:
                    tracker.log(item, ProblemEvent.EDITED, name, _value(column, before),
                                getattr(item, name), HAND_EDIT)
                    edited.add(name)
        _consistent(tracker, item, edited, when.date())
    return tracker.changes


def _consistent(tracker: Tracker, item: Problem, edited: set[str], today: date) -> None:
    if item.status is ProblemStatus.WAITING and item.unit:
        tracker.set(item, "status", ProblemStatus.HANDLING, ProblemEvent.ASSIGNED, "已填写协调责任单位")
    if item.status is ProblemStatus.CLOSED and item.closed is None:
        tracker.set(item, "closed", today, ProblemEvent.CLOSED, "办结日期按记录之日填写")
    elif item.open and item.closed is not None:
        if "status" in edited and "closed" not in edited:  # reopened by hand
            tracker.set(item, "closed", None, ProblemEvent.REOPENED, "状态改为未办结")
        else:  # a 办结日期 typed in: closed
            tracker.set(item, "status", ProblemStatus.CLOSED, ProblemEvent.CLOSED, "已填写办结日期")


def assign(master: Master, problem_id: str, unit: str, due: date | str,
           kind: ProblemType | str | None, when: datetime, operator: str | None) -> Problem:
    """交办: ``unit`` is to solve the item by ``due`` (and its type is ``kind``, if given)."""
    item = find_problem(master, problem_id)
    if not item.open:
        raise ChangeRefused(f"问题 {item.id} 的状态为{item.status}"
                            + (f"（{item.closed.isoformat()}）" if item.closed else "")
                            + "，不能再交办。", field=Field.PROBLEM, value=problem_id)
    name = (unit or "").strip()
    if master.unit(name) is None:
        raise UsageError(f"“{name}”不在台账的“责任单位”工作表中。协调责任单位须是登记的单位"
                         "（督办通知要用它的联系人），请先在该表登记。", field=Field.HANDLER,
                         value=unit)
    day = given_day(due, "办理时限", Field.DUE)
    if day < period_month(item.opened):
        raise UsageError(f"办理时限 {day.isoformat()} 早于问题提出的报告期 {item.opened}。",
                         field=Field.DUE, value=due)
    problem_type = None
    if kind is not None:
        try:
            problem_type = ProblemType(str(kind).strip())
        except ValueError:
            raise UsageError(f"问题类型“{kind}”无效，应为{'、'.join(ProblemType)}之一。",
                             field=Field.PROBLEM_TYPE, value=kind) from None
    tracker = Tracker(master, when, operator=operator)
    tracker.set(item, "unit", name, ProblemEvent.ASSIGNED)
    tracker.set(item, "due", day, ProblemEvent.ASSIGNED)
    if problem_type is not None:
        tracker.set(item, "type", problem_type, ProblemEvent.ASSIGNED)
    tracker.set(item, "status", ProblemStatus.HANDLING, ProblemEvent.ASSIGNED)
    return item


def close(master: Master, problem_id: str, day: date | str, note: str | None, when: datetime,
          operator: str | None) -> Problem:
    """办结: the item was solved on ``day``; ``note`` says how (最新进展)."""
    item = find_problem(master, problem_id)
    if not item.open:
        raise ChangeRefused(f"问题 {item.id} 的状态已是{item.status}"
                            + (f"（{item.closed.isoformat()}）" if item.closed else "")
                            + "，无需再办结。", field=Field.PROBLEM, value=problem_id)
    closed = given_day(day, "办结日期", Field.DATE)
    if closed < period_month(item.opened):
        raise UsageError(f"办结日期 {closed.isoformat()} 早于问题提出的报告期 {item.opened}。",
                         field=Field.DATE, value=day)
    tracker = Tracker(master, when, operator=operator)
    text = (note or "").strip() or None
    tracker.set(item, "status", ProblemStatus.CLOSED, ProblemEvent.CLOSED, text)
    tracker.set(item, "closed", closed, ProblemEvent.CLOSED)
    if text is not None:
        tracker.set(item, "progress", text, ProblemEvent.CLOSED)
    return item


def drop_exited(master: Master, project_id: str, day: date, reason: str, when: datetime,
                operator: str | None) -> list[Problem]:
    """The project left the plan on ``day`` (退出): its open items are 不再协调, saying why.
    The items dropped."""
    tracker = Tracker(master, when, operator=operator)
    dropped = [item for item in master.problems if item.project_id == project_id and item.open]
    for item in dropped:
        tracker.set(item, "status", ProblemStatus.DROPPED, ProblemEvent.DROPPED,
                    f"项目已于 {day.isoformat()} 退出重大项目计划（{reason}）")
    return dropped


# ---- questions asked of the items ------------------------------------------------------------

def unit_items(master: Master, project_ids: Iterable[str]) -> list[Problem]:
    """The open items of these projects (a form's 问题跟踪 sheet), oldest first."""
    wanted = set(project_ids)
    return [p for p in master.problems if p.project_id in wanted and p.open]


def status_on(item: Problem, day: date) -> ProblemStatus:
    """The item's status as of ``day``: one closed after it was still open then."""
    if item.status is ProblemStatus.CLOSED and item.closed is not None and item.closed > day:
        return ProblemStatus.HANDLING if item.unit else ProblemStatus.WAITING
    return item.status


def overdue(item: Problem, day: date) -> bool:
    """Open on ``day`` although its 办理时限 lies before it."""
    return status_on(item, day) in (ProblemStatus.WAITING, ProblemStatus.HANDLING) \
        and item.due is not None and item.due < day


def due_soon(item: Problem, day: date, days: int) -> bool:
    """Open, and its 办理时限 falls within ``days`` days from ``day`` (黄灯)."""
    return status_on(item, day) in (ProblemStatus.WAITING, ProblemStatus.HANDLING) \
        and item.due is not None and day <= item.due <= day + timedelta(days=days)


def months_open(item: Problem, period: str) -> int:
    """报告期 from the one it was raised in to ``period`` (raised in January, March: 2)."""
    start, end = period_month(item.opened), period_month(period)
    return (end.year - start.year) * 12 + end.month - start.month


@dataclass
class Closure:
    """问题办结率 of one 协调责任单位: the items it was given, and what became of them."""

    unit: str
    total: int = 0  # items given to it (raised by the 报告期; 不再协调 left out)
    closed: int = 0  # 已办结 by the day
    on_time: int = 0  # of them, closed within the 办理时限 (none set: any day is in time)
    overdue: int = 0  # open on the day, past the 办理时限

    @property
    def open(self) -> int:
        return self.total - self.closed


def closure(master: Master, period: str, day: date, *, due_only: bool = False) -> list[Closure]:
    """Per 协调责任单位, the items raised up to ``period`` and their state on ``day``, in
    the order of the 责任单位 sheet. With ``due_only`` (考核) only the items to be judged on
    ``day``: those due by then (no 办理时限: the end of the year) and those closed by then."""
    order = {u.name: n for n, u in enumerate(master.units)}
    year_end = date(master.year, 12, 31)
    units: dict[str, Closure] = {}
    for item in master.problems:
        if item.unit is None or item.opened > period or item.status is ProblemStatus.DROPPED:
            continue
        closed = status_on(item, day) is ProblemStatus.CLOSED
        if due_only and not closed and (item.due or year_end) > day:
            continue  # not due yet, and not closed early: not yet to be judged
        tally = units.setdefault(item.unit, Closure(item.unit))
        tally.total += 1
        if closed:
            tally.closed += 1
            if item.due is None or (item.closed is not None and item.closed <= item.due):
                tally.on_time += 1
        elif overdue(item, day):
            tally.overdue += 1
    return sorted(units.values(), key=lambda c: (order.get(c.unit, len(order)), c.unit))


def history(master: Master, problem_id: str) -> list[ProblemChange]:
    """问题办理记录 of one item, oldest first."""
    item = find_problem(master, problem_id)
    return [c for c in master.problem_log if c.problem_id == item.id]

