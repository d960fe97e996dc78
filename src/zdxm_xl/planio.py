"""The official plan tables (附表1 实施项目, 附表2 预备项目): importing and exporting them.

``import_plan`` reads the tables as offices publish them — title rows, a one- or two-row
header with merged cells, a 单位 line (万元 or 亿元), a 总计 row, category rows
(``一、新开工项目（183项）``, ``（一）基础设施项目（40项）``) that give 阶段 and 行业分类 to the
rows beneath, notes at the end — and adds the projects to the master. Every count and
subtotal the table declares is checked against its rows; one problem anywhere and nothing
is imported.

``export_plan`` writes the same tables back in the official, print-ready layout; exporting
and importing again gives back the same plan.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError
from python_calamine import CalamineWorkbook

from .books.gateway import NUMBER_FORMATS, print_ready, write_text
from .books.masterio import FileStore, Master, MasterStore, as_store
from .books.safety import atomic_write, refuse_if_open_elsewhere
from .core.cells import clean_text, parse_month, parse_year_span, split_units
from .core.errors import InputRejected, UsageError
from .core.models import Change, Project
from .core.money import (
    CENT,
    AmountError,
    normalise_number_text,
    parse_amount,
    round_half_up,
    to_yi,
    yi_to_wan,
)
from .core.registry import IMPLEMENTATION, IMPLEMENTATION_STAGES, PREPARATORY, SECTORS, Kind, SheetSpec
from .plan import INITIAL_BATCH, current_operator, plan_date

__all__ = ["ImportResult", "import_plan", "export_plan", "PLAN_SHEETS"]

IMPLEMENTATION_KIND = "实施"
PREPARATORY_KIND = "预备"
PLAN_SHEETS = {IMPLEMENTATION_KIND: "附表1", PREPARATORY_KIND: "附表2"}
_SPECS = {IMPLEMENTATION_KIND: IMPLEMENTATION, PREPARATORY_KIND: PREPARATORY}
_NOUNS = {IMPLEMENTATION_KIND: "实施项目", PREPARATORY_KIND: "预备项目"}

WAN = "万元"
YI = "亿元"
_MAX_LISTED_PROBLEMS = 10
_HEADER_SCAN_ROWS = 30  # the header is looked for among this many rows at the top
_MAX_UNPACKED_BYTES = 300 * 1024 * 1024  # an .xlsx unpacking to more than this is refused
_READABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls")

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
_MONEY_FIELDS = ("total_investment", "prior_completed", "annual_plan")
_TEXT_FIELDS = ("id", "code", "county", "content", "annual_content", "owner", "agent")
_HEADER_NAMES = {column.field: column.header for column in IMPLEMENTATION.columns}
_HEADER_NAMES["seq"] = "序号"

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


# ---- import ---------------------------------------------------------------------------------

@dataclass
class ImportResult:
    """What ``import_plan`` added to the master."""

    implementation: int  # 实施 projects added
    preparatory: int  # 预备 projects added
    new_units: list[str]  # 责任单位 names added to the 责任单位 sheet
    files: list[Path]
    batch: str = "年初"
    project_ids: list[str] = field(default_factory=list)
    batch_date: date | None = None  # 批次日期 of a 增补 batch; None for 年初

    def as_json(self) -> dict[str, object]:
        return {"implementation": self.implementation, "preparatory": self.preparatory,
                "new_units": list(self.new_units), "files": [str(f) for f in self.files],
                "batch": self.batch,
                "batch_date": self.batch_date.isoformat() if self.batch_date else None,
                "project_ids": list(self.project_ids)}


@dataclass
class _Row:
    """One project row as read: its fields (``None`` where unreadable) and where it was."""

    where: str
    number: int
    data: dict[str, Any]
    ok: bool = True
    stage: str | None = None  # from the row's own 阶段 column
    sector: str | None = None
    category_stage: str | None = None  # from the category rows above it
    category_sector: str | None = None


@dataclass
class _Group:
    """A 总计 or category row and the project rows it covers."""

    kind: str  # "total", "stage" or "sector"
    value: str | None
    number: int
    label: str
    count: int | None
    amounts: dict[str, tuple[Decimal, str]]  # field → (declared figure, its unit)
    members: list[_Row] = field(default_factory=list)


@dataclass
class _Table:
    kind: str  # 实施 / 预备
    rows: list[_Row]


@dataclass
class _Column:
    position: int
    field: str
    header: str  # as shown, for messages
    unit: str


class _Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}：{message}")


def import_plan(master_store: MasterStore | Path | str, files: Sequence[Path], *,
                batch: str | None = None, operator: str | None = None,
                batch_date: date | str | None = None) -> ImportResult:
    """Add the projects of the plan tables in ``files`` to the master.

    Without ``batch`` this is the year's opening import (批次 年初) and the master must hold
    no project yet; with ``batch`` the projects are a 增补 batch of that name, dated
    ``batch_date`` (default today, which must then lie in the plan year): each project gets
    批次 and 批次日期, and 变更记录 one 增补 row per project with the date as 生效日期. A
    project already in the plan — same 项目代码, or same 项目名称 and 牵头单位 — is refused.
    Any problem — an unreadable row, a declared count or subtotal the rows do not add up to,
    a duplicate — raises ``InputRejected`` listing the problems, and the master is not
    touched. 操作人 is ``operator``, by default the user running zdxm.
    """
    if not files:
        raise UsageError("请指定要导入的计划表文件（附表1 实施项目、附表2 预备项目）。")
    if batch is not None and not batch.strip():
        raise UsageError("增补批次名不能为空，如 --batch 第一批增补。")
    batch = batch.strip() if batch else None
    if batch == INITIAL_BATCH:
        raise UsageError(f"批次名“{INITIAL_BATCH}”留给年初计划，增补请另起批次名，如“第一批增补”。")
    if batch is None and batch_date is not None:
        raise UsageError("批次日期（--date）只用于增补批次，请同时指定 --batch 批次名。")
    store = as_store(master_store)
    with store.session():
        return _import(store, files, batch, operator or current_operator(), batch_date)


def _batch_day(master: Master, batch: str, value: date | str | None) -> date:
    if value is None:
        today = date.today()
        if today.year != master.year:
            raise UsageError(f"请用 --date 指定增补批次“{batch}”的日期（今天 {today.isoformat()} "
                             f"不在台账的计划年度 {master.year} 年内）。")
        value = today
    day = plan_date(master, value, "批次日期")
    earlier = [p for p in master.projects if p.batch == batch]
    if earlier and earlier[0].batch_date != day:
        when = earlier[0].batch_date.isoformat() if earlier[0].batch_date else "未记录日期"
        raise UsageError(f"批次“{batch}”已有 {len(earlier)} 个项目（批次日期 {when}），本次日期为 "
                         f"{day.isoformat()}。同一批次的附表请用同一日期；如是另一批增补，请换一个批次名。")
    return day


def _import(store: MasterStore, files: Sequence[Path], batch: str | None,
            operator: str | None, batch_date: date | str | None) -> ImportResult:
    master = store.load()
    day = _batch_day(master, batch, batch_date) if batch is not None else None
    if batch is None and master.projects:
        raise InputRejected(
            f"年初计划已导入 {len(master.projects)} 个项目，不能再次按年初计划导入。"
            "增补请用 --batch 批次名（如 --batch 第一批增补）。"
        )
    paths = _unique_paths(files)
    problems = _Problems()
    tables: list[_Table] = []
    for path in paths:
        tables.extend(_read_file(path, master.year, problems))
    rows = [row for table in tables for row in table.rows]
    if not problems and not rows:
        problems.append("计划表中没有找到任何项目行。")
    if not problems:
        _check_duplicates(rows, master, batch is not None, problems)
    if problems:
        raise InputRejected(_describe(problems))

    projects = _build_projects(rows, master, batch or INITIAL_BATCH, day, problems)
    if problems:
        raise InputRejected(_describe(problems))
    names = [name for project in projects for name in project.units]
    new_units = master.ensure_units(names)
    now = datetime.now().replace(microsecond=0)
    for project in projects:
        master.changes.append(Change(
            time=now, effective=day, operator=operator, kind="增补" if batch else "年初导入",
            project_id=project.id, project_name=project.name, batch=project.batch,
            reason="导入计划表" if batch is None else f"导入增补计划表（{batch}）",
        ))
    store.save(master)
    return ImportResult(
        implementation=sum(1 for p in projects if not p.is_preparatory),
        preparatory=sum(1 for p in projects if p.is_preparatory),
        new_units=new_units, files=list(paths), batch=batch or INITIAL_BATCH,
        project_ids=[p.id for p in projects], batch_date=day,
    )


def _unique_paths(files: Sequence[Path]) -> list[Path]:
    seen: set[Path] = set()
    paths: list[Path] = []
    for file in files:
        path = Path(file)
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            paths.append(path)
    return paths


def _describe(problems: list[str]) -> str:
    lines = [f"计划表未导入（台账未改动），发现 {len(problems)} 处问题，请改正后重新导入："]
    lines += [f"  {p}" for p in problems[:_MAX_LISTED_PROBLEMS]]
    if len(problems) > _MAX_LISTED_PROBLEMS:
        lines.append(f"  ……另有 {len(problems) - _MAX_LISTED_PROBLEMS} 处问题未列出")
    return "\n".join(lines)


def _open_workbook(path: Path, problems: _Problems) -> CalamineWorkbook | None:
    name = f"文件“{path.name}”"
    if not path.exists():
        problems.append(f"找不到{name}（{path}）。")
        return None
    if not path.is_file():
        problems.append(f"{name}不是文件。")
        return None
    suffix = path.suffix.lower()
    if suffix not in _READABLE_SUFFIXES:
        problems.append(f"{name}不是 Excel 工作簿（.xlsx 或 .xls），无法读取；"
                        "请在 Excel 或 WPS 中另存为 .xlsx 后再导入。")
        return None
    if suffix != ".xls":
        if not zipfile.is_zipfile(path):
            problems.append(f"{name}不是有效的 .xlsx 工作簿（文件已损坏、加密或扩展名不对），"
                            "请在 Excel 或 WPS 中另存为 .xlsx 后再导入。")
            return None
        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            unpacked = 0
        if unpacked > _MAX_UNPACKED_BYTES:
            problems.append(f"{name}解压后过大（{unpacked // 1024 // 1024} MB），不像计划表，已拒绝。")
            return None
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception:  # calamine raises several private error types
        problems.append(f"无法读取{name}：文件已损坏、加密或不是 Excel 工作簿。"
                        "请在 Excel 或 WPS 中打开并另存为 .xlsx 后再导入。")
        return None


def _read_file(path: Path, year: int, problems: _Problems) -> list[_Table]:
    book = _open_workbook(path, problems)
    if book is None:
        return []
    tables: list[_Table] = []
    for sheet in book.sheet_names:
        try:
            values = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception:  # a sheet calamine cannot read (chart sheet, damaged part)
            continue
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
                problems: _Problems) -> _Table | None:
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
    missing = [_HEADER_NAMES[f] for f in required if f not in by_field]
    if missing:
        problems.add(f"{place}第{at + 1}行（表头）", "缺少“" + "”“".join(missing) + "”列")
        return _Table(kind, [])
    allowed = set(_SPECS[kind].fields) | {"seq"}
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
               columns: list[_Column], labels: list[str], problems: _Problems) -> _Table:
    by_field = {c.field: c for c in columns}
    groups: list[_Group] = []
    totals: list[_Group] = []
    outer_kind: str | None = None
    outer: _Group | None = None
    inner: _Group | None = None
    current: dict[str, str | None] = {"stage": None, "sector": None}
    rows: list[_Row] = []
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


def _tidy(amount: Decimal) -> Decimal:
    """Whole amounts without decimals, others with two: never an exponent form."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.quantize(CENT)


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
    return _tidy(amount)


def _declared_amounts(row: Sequence[Any], columns: list[_Column], where: str,
                      problems: _Problems) -> dict[str, tuple[Decimal, str]]:
    """The subtotals a 总计/category row declares, in the figures and unit it shows."""
    amounts: dict[str, tuple[Decimal, str]] = {}
    for column in columns:
        if column.field not in _MONEY_FIELDS or column.position >= len(row):
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
                 problems: _Problems) -> None:
    where = f"{place}第{group.number}行"
    found = len(group.members)
    if group.count is not None and group.count != found:
        problems.add(where, f"“{group.label}”写明{group.count}项，其下实际有{found}个项目")
    if not all(member.ok for member in group.members):
        return  # the unreadable rows are reported already; their sums would mislead
    for name, (figure, unit) in group.amounts.items():
        exact = sum((m.data.get(name) or Decimal(0) for m in group.members), Decimal(0))
        header = by_field[name].header
        if unit == YI and figure.as_tuple().exponent >= -2:  # type: ignore[operator]
            actual = to_yi(exact)
            if actual != figure:
                problems.add(where, f"“{group.label}”的{header}写明{figure:f}亿元，"
                             f"其下项目合计为{actual:f}亿元（四舍五入到0.01亿元）")
        else:
            declared = yi_to_wan(figure) if unit == YI else figure
            if declared != exact:
                problems.add(where, f"“{group.label}”的{header}写明{_tidy_text(declared)}万元，"
                             f"其下项目合计为{_tidy_text(exact)}万元")


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
                  kind: str, problems: _Problems) -> _Row:
    data: dict[str, Any] = {}
    project = _Row(where, number, data)

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
            if name in _MONEY_FIELDS:
                data[name] = _money(raw, column.unit)
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


def _settle_categories(project: _Row, kind: str, problems: _Problems) -> None:
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


def _check_duplicates(rows: list[_Row], master: Master, with_batch: bool,
                      problems: _Problems) -> None:
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


def _build_projects(rows: list[_Row], master: Master, batch: str, batch_date: date | None,
                    problems: _Problems) -> list[Project]:
    built: list[Project] = []
    for row in rows:
        data = {k: v for k, v in row.data.items() if v is not None and k != "seq"}
        data.setdefault("id", "")
        data["batch"] = batch
        data["batch_date"] = batch_date
        data["status"] = "在库"
        try:
            built.append(Project.model_validate(data))
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                problems.add(row.where, f"“{_HEADER_NAMES.get(name, name)}”取值无效"
                             f"（现为“{data.get(name, '')}”）")
    if problems:
        return []
    # Numbers are handed out after the 项目编号 the file carries, so none is taken twice.
    existing = list(master.projects)
    master.projects = existing + [p for p in built if p.id]
    for project in built:
        if not project.id:
            project.id = master.next_project_id()
            master.projects.append(project)
    master.projects = existing + built
    return built


# ---- export ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _ExportColumn:
    field: str  # a Project field, or "seq"
    header: str
    width: float
    kind: Kind
    group: str | None = None  # a header merged over several columns (投资情况)


def _export_columns(spec: SheetSpec) -> tuple[_ExportColumn, ...]:
    """The official column order; headers, kinds and widths come from the registry."""
    order = ("id", "code", "name", "content", "years", "total_investment", "prior_completed",
             "annual_plan", "annual_content", "planned_start", "planned_end", "county", "units",
             "owner", "agent")
    money = [f for f in _MONEY_FIELDS if f in spec.fields]
    columns = [_ExportColumn("seq", "序号", 6, Kind.INT)]
    for name in order:
        if name not in spec.fields:
            continue
        column = spec.column(name)
        group = "投资情况" if name in money and len(money) > 1 else None
        width = min(column.width, 36) if column.kind is not Kind.MONEY else 15
        columns.append(_ExportColumn(name, column.header, width, column.kind, group))
    return tuple(columns)


_EXPORT_COLUMNS = {kind: _export_columns(spec) for kind, spec in _SPECS.items()}
_HEADER_TOP = 4  # rows: 1 附表N, 2 title, 3 单位, 4-5 header
_BODY_FONT = Font(name="宋体", size=10)
_BOLD_FONT = Font(name="宋体", size=10, bold=True)
_HEADER_FONT = Font(name="黑体", size=10)
_TITLE_FONT = Font(name="宋体", size=18, bold=True)
_SIDE = Side(style="thin", color="000000")
_BORDER = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center", wrap_text=True)
_STAGE_NUMERALS = "一二三四五六七八九十"


def export_plan(master_store: MasterStore | Path | str, out_path: Path) -> Path:
    """Write 附表1 (实施项目) and 附表2 (预备项目) of the active projects, in the official
    print-ready layout (A3 landscape, header rows repeated on every page)."""
    store, out_path = as_store(master_store), Path(out_path)
    if out_path.suffix.lower() != ".xlsx":
        raise UsageError(f"导出文件“{out_path.name}”应为 .xlsx 文件，如 计划附表.xlsx。")
    if not out_path.parent.exists():
        raise UsageError(f"文件夹“{out_path.parent}”不存在。")
    if isinstance(store, FileStore) and out_path.exists() and store.path.exists() \
            and out_path.samefile(store.path):
        raise UsageError("导出文件不能与台账是同一个文件，请换一个文件名。")
    master = store.load()
    book = Workbook()
    book.remove(book.active)
    active = [p for p in master.projects if p.active]
    for kind in (IMPLEMENTATION_KIND, PREPARATORY_KIND):
        projects = [p for p in active if p.is_preparatory == (kind == PREPARATORY_KIND)]
        _write_plan_sheet(book.create_sheet(PLAN_SHEETS[kind]), kind, projects, master)
    refuse_if_open_elsewhere(out_path)
    atomic_write(out_path, lambda temp: book.save(temp))
    return out_path


def _write_plan_sheet(ws: Worksheet, kind: str, projects: list[Project], master: Master) -> None:
    columns = _EXPORT_COLUMNS[kind]
    last = len(columns)
    name_at = next(i for i, c in enumerate(columns, start=1) if c.field == "name")
    write_text(ws.cell(row=1, column=1), PLAN_SHEETS[kind])
    ws.cell(row=1, column=1).font = Font(name="黑体", size=12)
    title = f"{master.settings.city}{master.year}年重大项目计划表（{_NOUNS[kind]}）"
    write_text(ws.cell(row=2, column=1), title)
    ws.cell(row=2, column=1).font = _TITLE_FONT
    ws.cell(row=2, column=1).alignment = _CENTER
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    ws.row_dimensions[2].height = 36
    write_text(ws.cell(row=3, column=last - 1), "单位：万元")
    ws.cell(row=3, column=last - 1).alignment = _RIGHT
    ws.cell(row=3, column=last - 1).font = _BODY_FONT
    ws.merge_cells(start_row=3, start_column=last - 1, end_row=3, end_column=last)
    _write_header(ws, columns)
    row = _HEADER_TOP + 2
    row = _write_group(ws, row, columns, name_at, f"总计（{len(projects)}项）", projects)
    if kind == IMPLEMENTATION_KIND:
        stages = [(s, [p for p in projects if p.stage == s]) for s in IMPLEMENTATION_STAGES]
        stages = [(s, members) for s, members in stages if members]
        for numeral, (stage, members) in zip(_STAGE_NUMERALS, stages, strict=False):
            label = f"{numeral}、{stage}项目（{len(members)}项）"
            row = _write_group(ws, row, columns, name_at, label, members)
            row = _write_sectors(ws, row, columns, name_at, members, nested=True)
    else:
        row = _write_sectors(ws, row, columns, name_at, projects, nested=False)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = ws.cell(row=_HEADER_TOP + 2, column=name_at + 1)
    _print_setup(ws, row - 1)


def _write_header(ws: Worksheet, columns: tuple[_ExportColumn, ...]) -> None:
    top, sub = _HEADER_TOP, _HEADER_TOP + 1
    index = 1
    while index <= len(columns):
        column = columns[index - 1]
        if column.group is None:
            write_text(ws.cell(row=top, column=index), column.header)
            ws.merge_cells(start_row=top, start_column=index, end_row=sub, end_column=index)
            index += 1
            continue
        span = [c for c in columns[index - 1:] if c.group == column.group]
        write_text(ws.cell(row=top, column=index), column.group)
        ws.merge_cells(start_row=top, start_column=index, end_row=top,
                       end_column=index + len(span) - 1)
        for offset, member in enumerate(span):
            write_text(ws.cell(row=sub, column=index + offset), member.header)
        index += len(span)
    for r in (top, sub):
        ws.row_dimensions[r].height = 30 if r == top else 42
        for c in range(1, len(columns) + 1):
            cell = ws.cell(row=r, column=c)
            cell.font, cell.alignment, cell.border = _HEADER_FONT, _CENTER, _BORDER


def _write_sectors(ws: Worksheet, row: int, columns: tuple[_ExportColumn, ...], name_at: int,
                   projects: list[Project], *, nested: bool) -> int:
    groups = [(s, [p for p in projects if p.sector == s]) for s in SECTORS]
    groups = [(s, members) for s, members in groups if members]
    for numeral, (sector, members) in zip(_STAGE_NUMERALS, groups, strict=False):
        mark = f"（{numeral}）" if nested else f"{numeral}、"
        row = _write_group(ws, row, columns, name_at, f"{mark}{sector}项目（{len(members)}项）",
                           members)
        for seq, project in enumerate(members, start=1):
            _write_project(ws, row, columns, seq, project)
            row += 1
    return row


def _write_group(ws: Worksheet, row: int, columns: tuple[_ExportColumn, ...], name_at: int,
                 label: str, members: list[Project]) -> int:
    """A 总计 or category row: the label over 序号…项目名称, subtotals in the money columns."""
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=index)
        cell.border, cell.font = _BORDER, _BOLD_FONT
        cell.alignment = _LEFT
        if column.field in _MONEY_FIELDS:
            figures = [getattr(p, column.field) for p in members]
            present = [f for f in figures if f is not None]
            if present:
                cell.value = _tidy(sum(present, Decimal(0)))
            cell.number_format = NUMBER_FORMATS[Kind.MONEY]
            cell.alignment = _RIGHT
    write_text(ws.cell(row=row, column=1), label)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=name_at)
    return row + 1


def _write_project(ws: Worksheet, row: int, columns: tuple[_ExportColumn, ...], seq: int,
                   project: Project) -> None:
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=index)
        cell.border, cell.font, cell.alignment = _BORDER, _BODY_FONT, _LEFT
        if column.field == "seq":
            cell.value = seq
            cell.alignment = _CENTER
            continue
        value = getattr(project, column.field)
        if value is None:
            continue
        if column.kind is Kind.MONEY:
            cell.value = _tidy(value)
            cell.number_format = NUMBER_FORMATS[Kind.MONEY]
            cell.alignment = _RIGHT
        elif column.kind is Kind.MONTH:
            cell.value = value
            cell.number_format = NUMBER_FORMATS[Kind.MONTH]
            cell.alignment = _CENTER
        elif column.kind is Kind.YEARS:
            start, end = value
            write_text(cell, f"{start}-{end}" if end != start else str(start))
            cell.alignment = _CENTER
        elif column.kind is Kind.UNIT_LIST:
            write_text(cell, "、".join(value))
        else:
            write_text(cell, str(value))


def _print_setup(ws: Worksheet, last_row: int) -> None:
    print_ready(ws, paper=ws.PAPERSIZE_A3, title_rows=f"{_HEADER_TOP}:{_HEADER_TOP + 1}",
                area=f"A1:{get_column_letter(ws.max_column)}{max(last_row, _HEADER_TOP + 2)}")
