"""Reading the official plan tables (附表1 实施项目, 附表2 预备项目) a plan file holds.

The tables are read as offices publish them — title rows, a one- or two-row header with
merged cells, a 单位 line (万元 or 亿元), a 总计 row, category rows
(``一、新开工项目（183项）``, ``（一）基础设施项目（40项）``) that give 阶段 and 行业分类 to the
rows beneath, notes at the end. Every count and subtotal the table declares is checked
against its rows: a count must match exactly; a 小计/合计 may differ from the sum of its rows
by at most half a unit of the last digit shown, per row (an official table rounds each
figure from raw data — the seed's own 续建 sectors add to 3182.44 亿元 under a total of
3182.43), and is then accepted with a warning line (``Problems.warnings``); a larger
difference refuses the file. A plan file comes from outside the office like any return: it passes
vetting (``vetting``, with the wider ``limits.PLAN``) and its values are read by
``safe_read_sheets``, so a file built to crash the reader is refused with a finding.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..core.cells import clean_text, parse_month, parse_year_span, split_units
from ..core.findings import Finding
from ..core.master import Master
from ..core.models import IMPLEMENTATION_STAGES
from ..core.money import (
    CENT,
    WAN_PER_YI,
    AmountError,
    normalise_number_text,
    parse_amount,
    round_half_up,
    tidy_amount,
    to_yi,
    yi_to_wan,
)
from ..core.registry import IMPLEMENTATION, PREPARATORY, SECTORS
from .limits import PLAN
from .vetting import safe_read_sheets, vet_workbook

__all__ = ["IMPLEMENTATION_KIND", "PREPARATORY_KIND", "PLAN_SHEETS", "SPECS", "NOUNS", "WAN", "YI",
           "HEADER_NAMES", "MONEY_FIELDS", "PlanRow", "Problems", "read_plan_tables",
           "check_duplicates", "describe_problems", "unique_paths"]

IMPLEMENTATION_KIND = "实施"
PREPARATORY_KIND = "预备"
PLAN_SHEETS = {IMPLEMENTATION_KIND: "附表1", PREPARATORY_KIND: "附表2"}
SPECS = {IMPLEMENTATION_KIND: IMPLEMENTATION, PREPARATORY_KIND: PREPARATORY}
NOUNS = {IMPLEMENTATION_KIND: "实施项目", PREPARATORY_KIND: "预备项目"}
WAN = "万元"
YI = "亿元"
_MAX_LISTED_PROBLEMS = 10
_HEADER_SCAN_ROWS = 30  # the header is looked for among this many rows at the top
# ---- header text → field ------------------------------------------------------------------
# Header cells are compared after NFKC (full-width brackets become ASCII), with whitespace and
# a unit in brackets removed; each pattern must match the whole text.
_YEAR_WORD = r"(?:本?年度?|\d{4}年度?)"
_HEADER_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("seq", (r"序号",)),
    ("id", (r"项目编号", r"系统编号")),
    ("code", (r"项目代码", r"(?:全国)?投资项目(?:统一)?代码", r"项目统一代码")),
    ("name", (r"项目名称",)),
    ("stage", (r"(?:项目|建设)?阶段",)),
    ("sector", (r"行业分类", r"行业类别", r"所属行业", r"行业", r"项目类别")),
    ("county", (r"县区", r"所在县区", r"所属县区", r"县\(区\)", r"所在县\(区\)", r"建设地点",
                r"项目所在地")),
    ("content", (r"建设内容及规模", r"建设规模及内容", r"主要建设内容(?:及规模)?", r"建设内容",
                 r"建设规模")),
    ("years", (r"建设起止年限", r"建设年限", r"起止年限", r"建设起止年份")),
    ("total_investment", (r"(?:项目)?(?:计划)?总投资",)),
    ("prior_completed", (r"(?:截至|截止|至)?(?:上年底|上年末|\d{4}年底|\d{4}年末|\d{4}年12月底)"
                         r"累计(?:已)?完成(?:投资)?",
                         r"累计完成投资")),
    ("annual_plan", (_YEAR_WORD + r"计划(?:完成)?投资", _YEAR_WORD + r"投资计划")),
    ("annual_content", (_YEAR_WORD + r"(?:主要)?建设(?:内容|目标)(?:及形象进度)?",
                        _YEAR_WORD + r"目标")),
    ("planned_start", (r"计划开工(?:时间|年月|日期)",)),
    ("planned_end", (r"计划竣工(?:时间|年月|日期)",)),
    ("units", (r"责任单位", r"(?:牵头|责任)单位及(?:配合|责任)单位")),
    ("owner", (r"项目业主", r"业主单位", r"项目业主单位", r"业主")),
    ("agent", (r"代建单位",)),
)
_HEADER_RES = tuple((name, tuple(re.compile(p) for p in pats)) for name, pats in _HEADER_PATTERNS)
_UNIT_IN_BRACKETS = re.compile(r"\((?:单位[:：]?)?(万元|亿元)\)")
_UNIT_LINE = re.compile(r"单位[:：]?(万元|亿元)")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})年")
MONEY_FIELDS = ("total_investment", "prior_completed", "annual_plan")
_TEXT_FIELDS = ("id", "code", "county", "content", "annual_content", "owner", "agent")
HEADER_NAMES = {column.field: column.header for column in IMPLEMENTATION.columns}
HEADER_NAMES["seq"] = "序号"

# ---- row labels -----------------------------------------------------------------------------
_NUMERAL = r"[一二三四五六七八九十]+"
_COUNT = r"(?:\(?(?:共|计)?(\d+)(?:项|个)\)?)?"
_TOTAL_ROW = re.compile(rf"^(?:实施项目|预备项目)?(?:总计|合计|总合计){_COUNT}$")
_STAGE_ROW = re.compile(rf"^(?:{_NUMERAL}[、.]?)?(新开工|续建|竣工)(?:项目|类项目|类)?{_COUNT}$")
_SECTOR_ROW = re.compile(
    rf"^(?:\(?{_NUMERAL}\)?[、.]?)?(基础设施|产业发展|民生保障|生态环保)"
    rf"(?:类项目|项目|类|建设项目)?{_COUNT}$"
)
_NOTE_ROW = re.compile(r"^(?:注\d*|备注|说明|附注|填表说明|数据来源)(?:[:：]|$)")
_NONE_MARKS = {"", "—", "——", "-", "--", "/", "//", "无", "–", "―", "\\", "暂无"}
_NOT_A_DATE = {"已开工", "已竣工", "已开工建设"}
_SUFFIXES = ("类项目", "建设项目", "项目", "类")



@dataclass
class PlanRow:
    """One project row as read: its fields (``None`` where unreadable) and where it was."""

    where: str
    number: int
    data: dict[str, Any]
    ok: bool = True
    stage: str | None = None  # from the row's own 阶段 column
    sector: str | None = None
    category_stage: str | None = None  # from the category rows above it
    category_sector: str | None = None
    places: dict[str, int] = field(default_factory=dict)  # money field → decimals shown


@dataclass
class _Group:
    """A 总计 or category row and the project rows it covers."""

    kind: str  # "total", "stage" or "sector"
    value: str | None
    number: int
    label: str
    count: int | None
    amounts: dict[str, tuple[Decimal, str]]  # field → (declared figure, its unit)
    members: list[PlanRow] = field(default_factory=list)


@dataclass
class _Table:
    kind: str  # 实施 / 预备
    rows: list[PlanRow]


@dataclass
class _Column:
    position: int
    field: str
    header: str  # as shown, for messages
    unit: str


class Problems(list[str]):
    """What is wrong with the plan files, one Chinese line each, with where it is; and
    ``warnings``: what was accepted but the office should know (rounding in subtotals)."""

    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.append(f"{where}：{message}")

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{where}：{message}")


def unique_paths(files: Sequence[Path]) -> list[Path]:
    seen: set[Path] = set()
    paths: list[Path] = []
    for file in files:
        path = Path(file)
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            paths.append(path)
    return paths


def describe_problems(problems: list[str]) -> str:
    lines = [f"计划表未导入（台账未改动），发现 {len(problems)} 处问题，请改正后重新导入："]
    lines += [f"  {p}" for p in problems[:_MAX_LISTED_PROBLEMS]]
    if len(problems) > _MAX_LISTED_PROBLEMS:
        lines.append(f"  ……另有 {len(problems) - _MAX_LISTED_PROBLEMS} 处问题未列出")
    return "\n".join(lines)


def read_plan_tables(paths: Sequence[Path], year: int, problems: Problems) -> list[PlanRow]:
    """The project rows of every plan table in ``paths``; what is wrong goes to
    ``problems`` (a file that fails vetting, a count or subtotal that does not add up)."""
    rows: list[PlanRow] = []
    for path in paths:
        for table in _read_file(path, year, problems):
            rows.extend(table.rows)
    return rows


def _open_workbook(path: Path, problems: Problems) -> dict[str, list[list[Any]]] | None:
    """The values of every worksheet of a plan file, read through the gate."""
    name = f"文件“{path.name}”"
    if not path.exists():
        problems.append(f"找不到{name}（{path}）。")
        return None
    if not path.is_file():
        problems.append(f"{name}不是文件。")
        return None
    vetted = vet_workbook(path, limits=PLAN)
    refused = [f for f in vetted.findings if f.is_error]
    if refused:
        problems.append(f"{name}不能导入：{_for_import(refused[0])}")
        return None
    sheets = safe_read_sheets(vetted)
    if isinstance(sheets, Finding):
        problems.append(f"{name}不能导入：{_for_import(sheets)}")
        return None
    return sheets


def _for_import(found: Finding) -> str:
    """A vetting finding is worded for a unit sending a return; here the office imports."""
    return found.message.replace("后再报送", "后再导入").replace("再报送", "再导入") \
        .replace("重新报送", "重新导入")


def _read_file(path: Path, year: int, problems: Problems) -> list[_Table]:
    sheets = _open_workbook(path, problems)
    if sheets is None:
        return []
    tables: list[_Table] = []
    for sheet, values in sheets.items():
        table = _read_sheet(path, sheet, values, year, problems)
        if table is not None:
            tables.append(table)
    if not tables:
        problems.append(f"文件“{path.name}”中没有找到计划表：应有一行表头含“项目名称”，"
                        "标题写明（实施项目）或（预备项目），或工作表名为附表1、附表2。")
    return tables


def _text(value: Any) -> str:
    """A cell as comparable text: NFKC, no whitespace at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean_text(value)))


def _header_field(text: str) -> tuple[str | None, str | None]:
    """A header cell → (field, unit written in it)."""
    unit_match = _UNIT_IN_BRACKETS.search(text)
    unit = unit_match.group(1) if unit_match else None
    bare = _UNIT_IN_BRACKETS.sub("", text).rstrip(":：")
    for name, patterns in _HEADER_RES:
        if any(p.fullmatch(bare) for p in patterns):
            return name, unit
    return None, unit


def _find_header(values: list[list[Any]]) -> int | None:
    for index, row in enumerate(values[:_HEADER_SCAN_ROWS]):
        if any(_header_field(_text(v))[0] == "name" for v in row):
            return index
    return None


def _is_blank(row: Sequence[Any]) -> bool:
    return all(_text(v) == "" for v in row)


def _table_kind(title: str, sheet: str) -> str | None:
    has_impl, has_prep = "实施项目" in title, "预备项目" in title
    if has_impl != has_prep:
        return IMPLEMENTATION_KIND if has_impl else PREPARATORY_KIND
    name = _text(sheet)
    if name.startswith("附表1") or "实施" in name:
        return IMPLEMENTATION_KIND
    if name.startswith("附表2") or "预备" in name:
        return PREPARATORY_KIND
    return None


def _read_header(values: list[list[Any]], at: int, table_unit: str | None
                 ) -> tuple[list[_Column], int]:
    """The columns found by header text, and how many header rows there are (1 or 2).

    A second header row is one under the first holding known headers (总投资 under a merged
    投资情况) while the 项目名称 cell above it is merged down (empty here)."""
    top = [_text(v) for v in values[at]]
    name_at = next(i for i, t in enumerate(top) if _header_field(t)[0] == "name")
    sub: list[str] = []
    if at + 1 < len(values):
        below = [_text(v) for v in values[at + 1]]
        if (name_at >= len(below) or below[name_at] == "") and any(
                _header_field(t)[0] is not None for t in below):
            sub = below
    header_rows = 2 if sub else 1
    width = max(len(top), len(sub))
    top += [""] * (width - len(top))
    sub += [""] * (width - len(sub))
    columns: list[_Column] = []
    taken: set[str] = set()
    group_unit: str | None = None
    for position in range(width):
        if top[position]:
            group_unit = _header_field(top[position])[1]
        text = sub[position] or top[position]
        if not text:
            continue
        name, unit = _header_field(text)
        if name is None or name in taken:
            continue
        taken.add(name)
        unit = unit or (group_unit if sub[position] else None) or table_unit or WAN
        shown = _UNIT_IN_BRACKETS.sub("", text)
        columns.append(_Column(position, name, shown, unit))
    return columns, header_rows


def _read_sheet(path: Path, sheet: str, values: list[list[Any]], year: int,
                problems: Problems) -> _Table | None:
    at = _find_header(values)
    if at is None:
        return None
    place = f"“{path.name}”工作表“{sheet}”"
    above = [_text(v) for row in values[:at] for v in row if _text(v)]
    title = "".join(t for t in above if "项目" in t or "计划" in t)
    unit_match = next((m for m in map(_UNIT_LINE.search, above) if m), None)
    table_unit = unit_match.group(1) if unit_match else None
    kind = _table_kind(title, sheet)
    year_match = _TITLE_YEAR.search(title)
    if year_match and int(year_match.group(1)) != year:
        problems.add(f"{place}标题", f"计划年度为{year_match.group(1)}年，与台账年度{year}年不一致；"
                     "请确认导入的是本年度的计划表，或使用对应年度的台账")
        return _Table(kind or IMPLEMENTATION_KIND, [])
    columns, header_rows = _read_header(values, at, table_unit)
    by_field = {c.field: c for c in columns}
    first = at + header_rows
    labels = [_label(row, by_field) for row in values[first:]]
    if kind is None:
        if "stage" in by_field or any(_STAGE_ROW.match(label) for label in labels):
            kind = IMPLEMENTATION_KIND
        else:
            problems.add(place, "无法判断是实施项目还是预备项目表：请在标题中写明（实施项目）"
                         "或（预备项目），或将工作表命名为附表1、附表2")
            return _Table(PREPARATORY_KIND, [])
    required = ["name", "units", "total_investment"]
    if kind == IMPLEMENTATION_KIND:
        required.append("annual_plan")
    missing = [HEADER_NAMES[f] for f in required if f not in by_field]
    if missing:
        problems.add(f"{place}第{at + 1}行（表头）", "缺少“" + "”“".join(missing) + "”列")
        return _Table(kind, [])
    allowed = set(SPECS[kind].fields) | {"seq"}
    columns = [c for c in columns if c.field in allowed or c.field in ("stage", "sector")]
    return _read_rows(place, kind, values, first, columns, labels, problems)


def _label(row: Sequence[Any], by_field: dict[str, _Column]) -> str:
    """The text of the cells left of and in the 项目名称 column: where 总计 and category
    labels stand (often merged across 序号…项目名称, so only the first cell holds it)."""
    end = by_field["name"].position if "name" in by_field else len(row) - 1
    return "".join(_text(v) for v in row[:end + 1])


def _is_column_numbers(row: Sequence[Any]) -> bool:
    """A row of 1, 2, 3 … under the header (column numbers), not data."""
    cells = [_text(v) for v in row if _text(v)]
    return len(cells) >= 3 and cells == [str(i) for i in range(1, len(cells) + 1)]


def _read_rows(place: str, kind: str, values: list[list[Any]], first: int,
               columns: list[_Column], labels: list[str], problems: Problems) -> _Table:
    by_field = {c.field: c for c in columns}
    groups: list[_Group] = []
    totals: list[_Group] = []
    outer_kind: str | None = None
    outer: _Group | None = None
    inner: _Group | None = None
    current: dict[str, str | None] = {"stage": None, "sector": None}
    rows: list[PlanRow] = []
    notes_from: int | None = None
    for offset, row in enumerate(values[first:]):
        number = first + offset + 1  # the Excel row number
        where = f"{place}第{number}行"
        if _is_blank(row):
            continue
        if offset == 0 and _is_column_numbers(row):
            continue
        cells = [_text(v) for v in row if _text(v)]
        if notes_from is not None:
            if _cell(row, by_field, "name") and _cell(row, by_field, "total_investment"):
                problems.add(where, f"第{notes_from}行的说明文字之后还有项目行；"
                             "请把说明放在表格最后，或删除说明行")
            continue
        if _NOTE_ROW.match(cells[0]):
            notes_from = number
            continue
        label = labels[offset]
        category = _category(label)
        if category is not None:
            group_kind, value, count = category
            group = _Group(group_kind, value, number, label, count,
                           _declared_amounts(row, columns, where, problems))
            if group_kind == "total":
                totals.append(group)
                continue
            if kind == PREPARATORY_KIND and group_kind == "stage":
                problems.add(where, f"预备项目表中不应有“{label}”这样的阶段分类行")
                continue
            groups.append(group)
            outer_kind = outer_kind or group_kind
            if group_kind == outer_kind:
                outer, inner = group, None
                current = {"stage": None, "sector": None, group_kind: value}
            else:
                inner = group
                current[group_kind] = value
            continue
        if _text(_cell(row, by_field, "name")) == "项目名称":
            continue  # the header repeated (a table pasted from several pages)
        project = _read_project(where, number, row, columns, kind, problems)
        project.category_stage, project.category_sector = current["stage"], current["sector"]
        rows.append(project)
        for covering in (outer, inner):
            if covering is not None:
                covering.members.append(project)
    for group in totals:
        group.members = list(rows)
    for group in (*totals, *groups):
        _check_group(place, group, by_field, problems)
    for project in rows:
        _settle_categories(project, kind, problems)
    return _Table(kind, rows)


def _cell(row: Sequence[Any], by_field: dict[str, _Column], name: str) -> Any:
    column = by_field.get(name)
    if column is None or column.position >= len(row):
        return None
    value = row[column.position]
    return None if isinstance(value, str) and not value.strip() else value


def _category(label: str) -> tuple[str, str | None, int | None] | None:
    """A 总计 / stage / sector row label → (kind, value, declared count)."""
    for kind, pattern in (("total", _TOTAL_ROW), ("stage", _STAGE_ROW), ("sector", _SECTOR_ROW)):
        match = pattern.match(label)
        if match is None:
            continue
        if kind == "total":
            value, count = None, match.group(1)
        else:
            value, count = match.group(1), match.group(2)
        return kind, value, int(count) if count is not None else None
    return None


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and _text(value) in _NONE_MARKS)


def _parse_yi(value: Any) -> Decimal:
    """An amount in 亿元, exactly as written (any number of decimals)."""
    if isinstance(value, bool):
        raise ValueError("不是金额")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("不是数字")
        exact = Decimal(repr(value))
        if exact.as_tuple().exponent < -8:  # type: ignore[operator]
            # Noise of Excel's own float arithmetic (0.30000000000000004) is folded away;
            # the exponent of what remains must still show the places really written.
            folded = round_half_up(exact, 8)
            if abs(exact - folded) < Decimal("1e-10"):
                exact = folded.normalize()
        return exact
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = normalise_number_text(str(value))
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise ValueError("不是数字")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError("不是数字") from exc


def _money(value: Any, unit: str) -> Decimal | None:
    """A money cell in ``unit`` → exact 万元 (``None`` for blank, —, /, 无)."""
    if _is_none(value):
        return None
    if unit == WAN:
        try:
            amount = parse_amount(value)
        except AmountError as exc:
            raise ValueError(exc.reason) from exc
        if amount is None:
            return None
    else:
        amount = yi_to_wan(_parse_yi(value))
        if amount != amount.quantize(CENT):
            raise ValueError("以亿元填写，换算为万元后小数超过两位")
    if amount < 0:
        raise ValueError("金额不能为负数")
    return tidy_amount(amount)


def _declared_amounts(row: Sequence[Any], columns: list[_Column], where: str,
                      problems: Problems) -> dict[str, tuple[Decimal, str]]:
    """The subtotals a 总计/category row declares, in the figures and unit it shows."""
    amounts: dict[str, tuple[Decimal, str]] = {}
    for column in columns:
        if column.field not in MONEY_FIELDS or column.position >= len(row):
            continue
        raw = row[column.position]
        if _is_none(raw):
            continue
        try:
            if column.unit == WAN:
                figure = parse_amount(raw)
            else:
                figure = _parse_yi(raw)
        except (AmountError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, AmountError) else str(exc)
            problems.add(where, f"“{column.header}”的小计{reason}（现为“{clean_text(raw)}”）")
            continue
        if figure is not None:
            amounts[column.field] = (figure, column.unit)
    return amounts


def _check_group(place: str, group: _Group, by_field: dict[str, _Column],
                 problems: Problems) -> None:
    where = f"{place}第{group.number}行"
    found = len(group.members)
    if group.count is not None and group.count != found:
        problems.add(where, f"“{group.label}”写明{group.count}项，其下实际有{found}个项目")
    if not all(member.ok for member in group.members):
        return  # the unreadable rows are reported already; their sums would mislead
    for name, (figure, unit) in group.amounts.items():
        exact = sum((m.data.get(name) or Decimal(0) for m in group.members), Decimal(0))
        header = by_field[name].header
        declared = yi_to_wan(figure) if unit == YI else figure
        if unit == YI and figure.as_tuple().exponent >= -2:  # type: ignore[operator]
            actual = to_yi(exact)
            if actual == figure:
                continue
            stated = (f"“{group.label}”的{header}写明{figure:f}亿元，"
                      f"其下项目合计为{actual:f}亿元（四舍五入到0.01亿元）")
        else:
            if declared == exact:
                continue
            stated = (f"“{group.label}”的{header}写明{_tidy_text(declared)}万元，"
                      f"其下项目合计为{_tidy_text(exact)}万元")
        shown = max([_places(figure), *(m.places.get(name, 0) for m in group.members)])
        half = Decimal(1).scaleb(-shown) / 2 * (WAN_PER_YI if unit == YI else 1)
        tolerance = half * found
        difference = abs(declared - exact)
        if difference <= tolerance:
            problems.warn(where, f"{stated}，相差{difference.normalize():f}万元，不超过各项目末位"
                          f"四舍五入的误差（{found}个项目×{half.normalize():f}万元），已按各项目的数导入")
        else:
            problems.add(where, stated)


def _places(figure: Decimal) -> int:
    exponent = figure.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def _shown_places(raw: Any) -> int:
    """How many decimals a money cell shows as written (a float as its shortest text)."""
    if isinstance(raw, bool) or raw is None:
        return 0
    if isinstance(raw, float):
        text = repr(raw)
    elif isinstance(raw, int | Decimal):
        return _places(Decimal(raw))
    else:
        text = normalise_number_text(str(raw))
    _, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0") if isinstance(raw, float) else decimals
    return len(decimals) if decimals.isdigit() else 0


def _tidy_text(amount: Decimal) -> str:
    return f"{amount.normalize():f}" if amount == amount.to_integral_value() else f"{amount:f}"


def _plan_month(value: Any) -> date | None:
    """计划开工/竣工时间; a number such as 2022.03 is a year and month, not a date serial."""
    if _is_none(value) or (isinstance(value, str) and _text(value) in _NOT_A_DATE):
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}年?", _text(value)):
        raise ValueError(f"只写了年份，请写明月份，如“{_text(value)[:4]}年3月”")
    if isinstance(value, int | float) and not isinstance(value, bool) and 1900 <= value < 2101:
        whole, _, fraction = repr(float(value)).partition(".")
        if fraction in ("", "0"):
            raise ValueError(f"只写了年份，请写明月份，如“{whole}年3月”")
        if fraction == "1":
            raise ValueError("“" + whole + ".1”可能是1月也可能是10月，请写成“" + whole
                             + "年1月”或“" + whole + "年10月”")
        month = int(fraction) if len(fraction) <= 2 else 0
        if not 1 <= month <= 12:
            raise ValueError("不是有效的年月")
        return date(int(whole), month, 1)
    return parse_month(value)


def _stage_word(text: str) -> str:
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and text != suffix:
            text = text[: -len(suffix)]
            break
    return text


def _read_project(where: str, number: int, row: Sequence[Any], columns: list[_Column],
                  kind: str, problems: Problems) -> PlanRow:
    data: dict[str, Any] = {}
    project = PlanRow(where, number, data)

    def fail(column: _Column, raw: Any, reason: str) -> None:
        shown = clean_text(raw)
        problems.add(where, f"“{column.header}”{reason}" + (f"（现为“{shown}”）" if shown else ""))
        project.ok = False

    for column in columns:
        raw = row[column.position] if column.position < len(row) else None
        name = column.field
        try:
            if name == "seq":
                continue
            if name in MONEY_FIELDS:
                data[name] = _money(raw, column.unit)
                project.places[name] = _shown_places(raw)
            elif name == "name":
                data[name] = clean_text(raw) or None
            elif name in _TEXT_FIELDS:
                data[name] = None if _is_none(raw) else clean_text(raw)
            elif name == "units":
                data[name] = [] if _is_none(raw) else split_units(raw)
            elif name == "years":
                data[name] = None if _is_none(raw) else parse_year_span(raw)
            elif name in ("planned_start", "planned_end"):
                data[name] = _plan_month(raw)
            elif name == "stage":
                text = _stage_word(_text(raw))
                if text and kind == IMPLEMENTATION_KIND:
                    if text not in IMPLEMENTATION_STAGES:
                        fail(column, raw, "应为新开工、续建、竣工之一")
                    project.stage = text
            elif name == "sector":
                text = _stage_word(_text(raw))
                if text:
                    if text not in SECTORS:
                        fail(column, raw, "应为" + "、".join(SECTORS) + "之一")
                    project.sector = text
        except ValueError as exc:
            fail(column, raw, str(exc))
    for name, why in (("name", "不能为空"), ("units", "不能为空"),
                      ("total_investment", "不能为空（须填写金额）"),
                      ("annual_plan", "不能为空（须填写金额，没有计划投资请填 0）")):
        needed = next((c for c in columns if c.field == name), None)
        if needed is None or name not in data:  # no such column, or already reported
            continue
        if data[name] is None or data[name] == []:
            fail(needed, row[needed.position] if needed.position < len(row) else None, why)
    return project


def _settle_categories(project: PlanRow, kind: str, problems: Problems) -> None:
    """阶段 and 行业分类 from the row's own columns or else from the category rows above."""
    if kind == PREPARATORY_KIND:
        project.data["stage"] = "预备"
    for name, own, inherited, choices in (
        ("stage", project.stage, project.category_stage, IMPLEMENTATION_STAGES),
        ("sector", project.sector, project.category_sector, SECTORS),
    ):
        if name == "stage" and kind == PREPARATORY_KIND:
            continue
        noun = "阶段" if name == "stage" else "行业分类"
        if own is not None and inherited is not None and own != inherited:
            problems.add(project.where, f"“{noun}”为“{own}”，但所在分类行是“{inherited}”")
            project.ok = False
        value = own or inherited
        if value is None and project.ok:
            problems.add(project.where, f"无法确定{noun}（{'、'.join(choices)}）：表中没有“{noun}”"
                         "列，上方也没有分类行")
            project.ok = False
        project.data[name] = value


def _key_code(code: str | None) -> str | None:
    return unicodedata.normalize("NFKC", code).strip().upper() if code else None


def check_duplicates(rows: list[PlanRow], master: Master, with_batch: bool,
                      problems: Problems) -> None:
    by_code: dict[str, str] = {}
    by_name: dict[tuple[str, str], str] = {}
    by_id: dict[str, str] = {}
    used_ids = {p.id for p in master.projects}
    active = [p for p in master.projects if p.active]
    master_codes = {_key_code(p.code): p for p in active if p.code}
    master_names = {(p.name, p.lead_unit): p for p in active}
    for row in rows:
        data = row.data
        name, units = data.get("name"), data.get("units") or []
        code = _key_code(data.get("code"))
        project_id = data.get("id")
        if project_id:
            if project_id in used_ids:
                problems.add(row.where, f"项目编号“{project_id}”在台账中已被其他项目使用")
            elif project_id in by_id:
                problems.add(row.where, f"项目编号“{project_id}”与{by_id[project_id]}重复")
            by_id.setdefault(project_id, row.where)
        if code:
            if code in by_code:
                problems.add(row.where, f"项目“{name}”与{by_code[code]}的项目代码相同（{code}），重复")
            elif with_batch and code in master_codes:
                existing = master_codes[code]
                problems.add(row.where, f"项目“{name}”与台账中已有项目“{existing.name}”"
                             f"（{existing.id}，{existing.batch}）重复：项目代码相同（{code}）。"
                             "已在计划中的项目不能再增补，请从增补表中删去这一行")
            by_code.setdefault(code, row.where)
        if name and units:
            key = (name, units[0])
            if key in by_name:
                problems.add(row.where, f"项目“{name}”（牵头单位{units[0]}）与{by_name[key]}重复")
            elif with_batch and key in master_names:
                existing = master_names[key]
                problems.add(row.where, f"项目“{name}”与台账中已有项目（{existing.id}，"
                             f"{existing.batch}）重复：项目名称和牵头单位（{units[0]}）都相同。"
                             "已在计划中的项目不能再增补，请从增补表中删去这一行")
            by_name.setdefault(key, row.where)


