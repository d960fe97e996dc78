"""Filling a template as a unit's 信息员 would — plausibly, or with chosen mistakes.

The demo and the tests need realistic returns. ``fill_form`` reads only what the
template itself shows (plan, last month's figures), like a real 信息员, and types the
inputs into the template's own sheets (``books.formbook``): its identity, protection,
dropdowns and formulas stay as they are, as a spreadsheet program keeps them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..books.formbook import FormBook, FormSheet
from ..core.cells import clean_text
from ..core.identity import IDENTITY_KEYS, IDENTITY_SHEET
from ..core.money import parse_amount
from ..core.periods import period_end, period_month
from ..core.registry import (
    FORM_CONTACTS,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    FORM_PROBLEMS,
    PERMITS,
)
from ..core.registry import FORM_HEADER_ROW as HEADER_ROW
from ..core.tables import header_index

__all__ = ["MISTAKES", "FillResult", "FillJob", "fill_form", "fill_job"]

# Each mistake a 信息员 really makes, and the rule code the checker answers with.
MISTAKES = {
    "year_mismatch": "V05",  # 本年累计 that does not add up
    "text_amount": "V01",  # 约500 in a money cell
    "negative": "V02",
    "three_decimals": "V03",
    "blank_month": "V04",
    "below_last_month": "V07",
    "huge_amount": "V25",  # 本月完成 typed in 元 instead of 万元 (the form adds it up)
    "over_plan": "V09",  # more in one month than the year's plan, without an explanation
    "bad_yes_no": "V10",
    "start_without_date": "V11",
    "bad_date": "V13",
    "future_date": "V14",
    "bad_permit": "V19",
    "no_progress": "V20",
    "no_informant": "V21",
    "bad_phone": "V22",
    "control_chars": "V23",
    "foreign_project": "R01",
    "duplicate_row": "R02",
    "missing_project": "R03",
    "changed_plan": "R04",
    "other_unit": "F51",  # the identity rewritten to claim another unit
}
PROGRESS = ("主体结构施工中，已完成{n}%", "完成桩基{n}根", "路基土石方完成{n}%", "设备安装完成{n}%",
            "厂房钢结构吊装完成{n}%", "管网铺设完成{n}公里", "装饰装修完成{n}%", "场平工程完成{n}%")
PREPARATION = ("正在编制可行性研究报告", "已完成项目建议书批复", "正在办理用地预审", "正在开展环评",
               "初步设计已报审", "正在进行勘察设计招标")
PROBLEMS = ("征地拆迁进度滞后", "项目资本金未完全到位", "用地指标尚未落实", "施工图审查时间较长",
            "地下管线迁改协调难度大")
# A unit's word on an open problem of its form's 问题跟踪 sheet; ``SOLVED_SHARE`` of them are
# solved, and ``REPEATED_SHARE`` of the rest are written again into 存在问题 (as units do).
WORKING = ("已与{unit}对接，正在办理", "已召开现场协调会，明确了解决方案和时间节点",
           "相关材料已报送，等待批复", "已完成约{n}%，剩余部分正在推进")
SOLVED = ("已协调解决，{m}月{d}日完成", "经{unit}协调，问题已解决")
SOLVED_SHARE, REPEATED_SHARE = 0.4, 0.25
NAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "韦", "覃", "莫")
GIVEN = ("海燕", "志强", "丽华", "建军", "晓梅", "伟", "静", "明", "芳", "勇")


@dataclass
class FillResult:
    path: Path
    unit: str
    period: str
    rows: int
    mistakes: tuple[str, ...]


def fill_form(template: Path, out: Path, *, seed: int = 0,
              mistakes: tuple[str, ...] = (), formulas: bool = False) -> FillResult:
    """Fill ``template`` plausibly into ``out``; each name in ``mistakes`` (see ``MISTAKES``)
    is made once, on the first row it fits. With ``formulas`` the 本年累计 and 开工以来累计
    of 实施项目 are left to the form's formulas, as a 信息员 in Excel or WPS leaves them
    (saved uncomputed: a spreadsheet program computes them on opening); without, their
    values are typed over the formulas."""
    unknown = [m for m in mistakes if m not in MISTAKES]
    if unknown:
        raise ValueError(f"unknown mistakes: {unknown}")
    rng = random.Random(seed)
    book = FormBook(template)
    meta = book.sheet(IDENTITY_SHEET)
    identity = {clean_text(meta.value(row, 1)): clean_text(meta.value(row, 2))
                for row in range(1, meta.last_row + 1)}
    period = identity[IDENTITY_KEYS["period"]]
    todo = list(mistakes)
    rows = 0
    for spec in (FORM_IMPLEMENTATION, FORM_PREPARATORY):
        if spec.sheet in book.sheetnames:
            sheet = _Sheet(book.sheet(spec.sheet), period, rng, todo, formulas)
            rows += sheet.fill(implementation=spec is FORM_IMPLEMENTATION)
            sheet.contacts()
    if FORM_PROBLEMS.sheet in book.sheetnames:
        _track_problems(book, period, random.Random(seed * 7919 + 1))
    if "other_unit" in todo:
        for row in range(1, meta.last_row + 1):
            if clean_text(meta.value(row, 1)) == IDENTITY_KEYS["unit"]:
                meta.set(row, 2, "市重点办")
        todo.remove("other_unit")
    out.parent.mkdir(parents=True, exist_ok=True)
    # dated as the form it was filled from: the same return every run of the demo
    book.save(out)
    return FillResult(out, identity[IDENTITY_KEYS["unit"]], period, rows,
                      tuple(m for m in mistakes if m not in todo))


FillJob = tuple[Path, Path, int, tuple[str, ...]]  # template, return, seed, mistakes


def fill_job(_shared: None, job: FillJob) -> Path:
    """``fill_form`` as ``reports.writers.write_each`` calls it, for many units at once."""
    template, target, seed, mistakes = job
    return fill_form(template, target, seed=seed, mistakes=mistakes).path


def _track_problems(book: FormBook, period: str, rng: random.Random) -> None:
    """The 问题跟踪 sheet as a 信息员 fills it: a word of progress on each problem, some
    solved; some unsolved ones also written again into the return's 存在问题."""
    ws = book.sheet(FORM_PROBLEMS.sheet)
    index = {k: v + 1 for k, v in header_index(ws.row_values(HEADER_ROW)).items()}

    def column(field: str) -> int:
        return index[FORM_PROBLEMS.column(field).title]

    month = period_month(period)
    repeated: dict[str, str] = {}
    for row in range(HEADER_ROW + 1, ws.last_row + 1):
        if not ws.value(row, column("id")):
            continue
        unit = clean_text(ws.value(row, column("unit"))) or "有关部门"
        if rng.random() < SOLVED_SHARE:
            words = rng.choice(SOLVED).format(unit=unit, m=month.month, d=rng.randint(5, 28))
            solved = "是"
        else:
            words = rng.choice(WORKING).format(unit=unit, n=rng.randint(30, 80))
            solved = "否"
            if rng.random() < REPEATED_SHARE:
                project = clean_text(ws.value(row, column("project_id")))
                repeated[project] = clean_text(ws.value(row, column("description")))
        ws.set(row, column("progress"), words)
        ws.set(row, column("solved"), solved)
    for spec in (FORM_IMPLEMENTATION, FORM_PREPARATORY):
        if spec.sheet not in book.sheetnames or not repeated:
            continue
        sheet = book.sheet(spec.sheet)
        at = {k: v + 1 for k, v in header_index(sheet.row_values(HEADER_ROW)).items()}
        id_col, problem_col = at[spec.column("id").title], at[spec.column("problems").title]
        for row in range(HEADER_ROW + 1, sheet.last_row + 1):
            project = clean_text(sheet.value(row, id_col))
            if project in repeated and not sheet.value(row, problem_col):
                sheet.set(row, problem_col, repeated[project])


class _Sheet:
    def __init__(self, ws: FormSheet, period: str, rng: random.Random, todo: list[str],
                 formulas: bool = False) -> None:
        self.ws = ws
        self.formulas = formulas
        self.period = period
        self.month = period_month(period)
        self.end = period_end(period)
        self.rng = rng
        self.todo = todo
        self.index = {k: v + 1 for k, v in header_index(ws.row_values(HEADER_ROW)).items()}

    def take(self, mistake: str) -> bool:
        if mistake in self.todo:
            self.todo.remove(mistake)
            return True
        return False

    def col(self, spec_field: str, spec: Any = FORM_IMPLEMENTATION) -> int:
        return self.index[spec.column(spec_field).title]

    def get(self, row: int, field: str, spec: Any = FORM_IMPLEMENTATION) -> Any:
        return self.ws.value(row, self.col(field, spec))

    def put(self, row: int, field: str, value: Any, spec: Any = FORM_IMPLEMENTATION) -> None:
        self.ws.set(row, self.col(field, spec), value)

    def day_in_year(self, first: date) -> date:
        span = (self.end - first).days
        return first + timedelta(days=self.rng.randint(0, max(span, 0)))

    def fill(self, implementation: bool) -> int:
        rows = [r for r in range(HEADER_ROW + 1, self.ws.last_row + 1) if self.ws.value(r, 1)]
        for row in rows:
            if implementation:
                self.implementation_row(row)
            else:
                self.preparatory_row(row)
        self.row_mistakes(rows)
        return len(rows)

    def implementation_row(self, row: int) -> None:
        rng = self.rng
        stage = clean_text(self.get(row, "stage"))
        annual = parse_amount(self.get(row, "annual_plan")) or Decimal(0)
        total = parse_amount(self.get(row, "total_investment")) or Decimal(0)
        year_before = parse_amount(self.get(row, "previous_year_completed")) or Decimal(0)
        since_before = parse_amount(self.get(row, "previous_total_completed")) or Decimal(0)
        started = clean_text(self.get(row, "started")) == "是"
        if not started:
            if stage == "新开工":
                started = rng.random() < self.month.month / 10
                if started:
                    self.put(row, "start_date", self.day_in_year(date(self.month.year, 1, 1)))
            else:
                started = True
                self.put(row, "start_date", date(self.month.year - rng.randint(1, 3),
                                                  rng.randint(1, 12), rng.randint(1, 28)))
        self.put(row, "started", "是" if started else "否")
        month = Decimal(0)
        if started and annual:
            share = Decimal(rng.randint(40, 160)) / Decimal(1200)
            month = min((annual * share).quantize(Decimal(1)), max(total - since_before,
                                                                    Decimal(0)))
        self.put(row, "month_completed", month)
        if not self.formulas:
            self.put(row, "year_completed", year_before + month)
            self.put(row, "total_completed", since_before + month)
        completed = clean_text(self.get(row, "completed")) == "是"
        if not completed and stage == "竣工" and started:
            completed = rng.random() < max(self.month.month - 8, 0) / 6
            if completed:
                self.put(row, "end_date", self.day_in_year(self.month))
        self.put(row, "completed", "是" if completed else "否")
        if month:
            self.put(row, "progress",
                     rng.choice(PROGRESS).format(n=rng.randint(10, 95)))
        for field, _, _ in PERMITS:
            if self.get(row, field) is None:
                self.put(row, field, "已办结" if started else rng.choice(("办理中", "已办结")))
        if rng.random() < 0.08:
            self.put(row, "problems", rng.choice(PROBLEMS))
            self.put(row, "coordination", "请市级层面协调" + rng.choice(("用地", "资金", "拆迁")))

    def preparatory_row(self, row: int) -> None:
        rng = self.rng
        for field, _, _ in PERMITS:
            if self.get(row, field, FORM_PREPARATORY) is None:
                self.put(row, field, rng.choice(("未启动", "办理中", "已办结", "不涉及")),
                         FORM_PREPARATORY)
        self.put(row, "preparation", rng.choice(PREPARATION), FORM_PREPARATORY)

    def contacts(self) -> None:
        labels = {label: name for name, label in FORM_CONTACTS}
        ws = self.ws
        for row in range(1, HEADER_ROW):
            for column in range(1, ws.last_column + 1):
                name = labels.get(clean_text(ws.value(row, column)))
                if name is None:
                    continue
                if name == "informant_name" and self.take("no_informant"):
                    ws.set(row, column + 1, None)
                elif name == "informant_phone" and self.take("bad_phone"):
                    ws.set(row, column + 1, "12345")
                elif not ws.value(row, column + 1):
                    ws.set(row, column + 1, self.rng.choice(NAMES) + self.rng.choice(GIVEN)
                           if name != "informant_phone"
                           else f"139{self.rng.randint(10**7, 10**8 - 1)}")

    def row_mistakes(self, rows: list[int]) -> None:
        implementation = self.ws.name == FORM_IMPLEMENTATION.sheet
        spec = FORM_IMPLEMENTATION if implementation else FORM_PREPARATORY
        if not rows:
            return
        first = rows[0]
        id_col = self.col("id", spec)
        if self.take("changed_plan"):
            name_col = self.col("name", spec)
            self.ws.set(first, name_col, f"{self.ws.value(first, name_col)}（改）")
        if self.take("control_chars"):
            # XML holds no control character; the file format's own escape carries one.
            self.put(first, "problems", "资金_x0007_未到位", spec)
        if self.take("bad_permit"):
            self.put(first, "permit_land", "已完成", spec)
        if len(rows) > 1 and self.take("duplicate_row"):
            self.ws.set(rows[1], id_col, self.ws.value(first, id_col))
        if self.take("foreign_project"):
            self.ws.set(rows[-1], id_col, "ZD1999-9999")
        if self.take("missing_project"):
            for column in range(1, self.ws.last_column + 1):
                self.ws.set(rows[-1], column, None)
        if implementation:
            self.money_mistakes(first)

    def figure(self, row: int, field: str, before: str) -> Decimal:
        """A 累计 as the 信息员 sees it: typed, or what the form's formula (the figure
        ``before`` this month + 本月完成) shows."""
        value = self.get(row, field)
        if isinstance(value, str) and value.startswith("="):
            return sum((parse_amount(self.get(row, name)) or Decimal(0)
                        for name in (before, "month_completed")), Decimal(0))
        return parse_amount(value) or Decimal(0)

    def money_mistakes(self, row: int) -> None:
        month = parse_amount(self.get(row, "month_completed")) or Decimal(0)
        year = self.figure(row, "year_completed", "previous_year_completed")
        if self.take("year_mismatch"):
            self.put(row, "year_completed", year + 100)
        if self.take("text_amount"):
            self.put(row, "month_completed", "约500")
        if self.take("negative"):
            self.put(row, "month_completed", Decimal("-5"))
        if self.take("three_decimals"):
            self.put(row, "month_completed", Decimal("1.234"))
        if self.take("blank_month"):
            self.put(row, "month_completed", None)
        if self.take("below_last_month"):
            self.put(row, "total_completed", Decimal(0))
            self.put(row, "year_completed", Decimal(0))
            self.put(row, "month_completed", Decimal(0))
        since = self.figure(row, "total_completed", "previous_total_completed")
        if self.take("huge_amount"):
            # The 信息员 types the month in 元 (5000 万元 as 50000000); the form's formulas
            # carry it into 本年累计 and 开工以来累计, as Excel would show them.
            annual = parse_amount(self.get(row, "annual_plan")) or Decimal(1200)
            in_wan = month or (annual / 12).quantize(Decimal(1))
            in_yuan = in_wan * 10000
            self.put(row, "month_completed", in_yuan)
            self.put(row, "year_completed", year - month + in_yuan)
            self.put(row, "total_completed", since - month + in_yuan)
            self.put(row, "progress", self.get(row, "progress") or "主体结构施工中")
        if self.take("over_plan"):
            annual = parse_amount(self.get(row, "annual_plan")) or Decimal(0)
            spike = (annual * Decimal("1.2")).quantize(Decimal(1))
            self.put(row, "month_completed", spike)
            self.put(row, "year_completed", year - month + spike)
            self.put(row, "total_completed", since - month + spike)
            self.put(row, "progress", self.get(row, "progress") or "设备集中安装")
        if self.take("bad_yes_no"):
            self.put(row, "started", "已开工")
        if self.take("start_without_date"):
            self.put(row, "started", "是")
            self.put(row, "start_date", None)
        if self.take("bad_date"):
            self.put(row, "started", "是")
            self.put(row, "start_date", "三月中旬")
        if self.take("future_date"):
            self.put(row, "started", "是")
            self.put(row, "start_date", self.end + timedelta(days=40))
        if self.take("no_progress"):
            self.put(row, "month_completed", Decimal(10))
            self.put(row, "year_completed", year - month + 10)
            self.put(row, "total_completed",
                     (parse_amount(self.get(row, "previous_total_completed")) or 0) + 10)
            self.put(row, "progress", None)
