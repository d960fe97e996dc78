"""The official plan tables (附表1 实施项目, 附表2 预备项目) written in the official,
print-ready layout: A3 landscape, header rows repeated on every page, 总计 and category
rows with their counts and subtotals. Importing them again gives back the same plan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..books.safety import atomic_write, refuse_if_open_elsewhere
from ..books.styles import NUMBER_FORMATS, print_ready, write_text
from ..checks.plantables import (
    IMPLEMENTATION_KIND,
    MONEY_FIELDS,
    NOUNS,
    PLAN_SHEETS,
    PREPARATORY_KIND,
    SPECS,
)
from ..core.master import Master
from ..core.models import Project
from ..core.money import tidy_amount
from ..core.registry import IMPLEMENTATION_STAGES, SECTORS, Kind, SheetSpec

__all__ = ["write_plan_tables"]


def write_plan_tables(master: Master, out_path: Path) -> Path:
    """附表1 and 附表2 of the active (在库) projects of ``master``, to ``out_path``."""
    book = Workbook()
    book.remove(book.active)
    active = [p for p in master.projects if p.active]
    for kind in (IMPLEMENTATION_KIND, PREPARATORY_KIND):
        projects = [p for p in active if p.is_preparatory == (kind == PREPARATORY_KIND)]
        _write_plan_sheet(book.create_sheet(PLAN_SHEETS[kind]), kind, projects, master)
    refuse_if_open_elsewhere(out_path)
    atomic_write(out_path, lambda temp: book.save(temp))
    return out_path


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
    money = [f for f in MONEY_FIELDS if f in spec.fields]
    columns = [_ExportColumn("seq", "序号", 6, Kind.INT)]
    for name in order:
        if name not in spec.fields:
            continue
        column = spec.column(name)
        group = "投资情况" if name in money and len(money) > 1 else None
        width = min(column.width, 36) if column.kind is not Kind.MONEY else 15
        columns.append(_ExportColumn(name, column.header, width, column.kind, group))
    return tuple(columns)


_EXPORT_COLUMNS = {kind: _export_columns(spec) for kind, spec in SPECS.items()}
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


def _write_plan_sheet(ws: Worksheet, kind: str, projects: list[Project], master: Master) -> None:
    columns = _EXPORT_COLUMNS[kind]
    last = len(columns)
    name_at = next(i for i, c in enumerate(columns, start=1) if c.field == "name")
    write_text(ws.cell(row=1, column=1), PLAN_SHEETS[kind])
    ws.cell(row=1, column=1).font = Font(name="黑体", size=12)
    title = f"{master.settings.city}{master.year}年重大项目计划表（{NOUNS[kind]}）"
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
        if column.field in MONEY_FIELDS:
            figures = [getattr(p, column.field) for p in members]
            present = [f for f in figures if f is not None]
            if present:
                cell.value = tidy_amount(sum(present, Decimal(0)))
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
            cell.value = tidy_amount(value)
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
