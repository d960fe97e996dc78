"""Does a returned file keep to the shape of our form (模板的工作表与填报区域)?

A form has the sheets of ours — 填报说明, the return sheet(s), 问题跟踪 (when the unit has
open problems), the hidden signed identity —
and each holds a table of a known size. What lies outside them is never read, so it must
not pass silently: a hidden sheet that is not ours (``F58``) and content far outside the
form's tables (``F59``) refuse the file; a visible sheet of the unit's own is only noted
(``F60``). The values of our sheets, cut to the form's extent and the margin around it,
are what the annotated copy is made of (``form_values``): nothing outside that region, no
foreign sheet and no formula ever goes back to a unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core.cells import column_letter
from ..core.findings import Finding, Severity, finding, rule
from ..core.identity import IDENTITY_KEYS, IDENTITY_SHEET
from ..core.registry import (
    FORM_GUIDE_SHEET,
    FORM_HEADER_ROW,
    FORM_IMPLEMENTATION,
    FORM_PREPARATORY,
    FORM_PROBLEMS,
)
from .limits import RETURN, Limits

__all__ = ["FORM_SHEETS", "Extent", "form_extents", "form_values", "shape_findings"]

FORM_SHEETS = (FORM_GUIDE_SHEET, FORM_IMPLEMENTATION.sheet, FORM_PREPARATORY.sheet,
               FORM_PROBLEMS.sheet, IDENTITY_SHEET)
GUIDE_EXTENT = (30, 2)  # 填报说明: a title, seven facts and eleven rules in two columns
Extent = tuple[int, int]  # rows, columns a sheet of the form holds
Values = Mapping[str, Sequence[Sequence[Any]]]

E, W = Severity.ERROR, Severity.WARNING
rule("F58", E, "含有模板以外的隐藏工作表",
     "文件中有模板以外的隐藏工作表「{sheet_name}」。隐藏的内容无法核对，系统不接收带这种工作表的"
     "文件。请取消隐藏（右键工作表标签 → 取消隐藏）后删除该工作表，另存为 .xlsx 后再报送")
rule("F59", E, "填报表格以外有内容",
     "工作表「{sheet_name}」的 {value} 单元格有内容，远在填报表格之外（表格只到第 {rows} 行、"
     "第 {cols} 列）。请删除表格以外的内容（也请检查隐藏的行和列），另存为 .xlsx 后再报送")
rule("F60", W, "含有模板以外的工作表（已忽略）",
     "文件中有模板以外的工作表「{sheet_name}」，其中的内容不会读取，也不会出现在批注副本里。"
     "请只在模板原有的工作表中填写")
del E, W


def form_extents(implementation: int | None = None, preparatory: int | None = None,
                 problems: int | None = None) -> dict[str, Extent | None]:
    """How far each sheet of a form reaches, for a form of ``implementation`` and
    ``preparatory`` projects listing at most ``problems`` problems; ``None`` where the
    number is not known (no identity)."""
    def table(columns: int, projects: int | None) -> Extent | None:
        return None if projects is None else (FORM_HEADER_ROW + projects, columns)

    return {FORM_GUIDE_SHEET: GUIDE_EXTENT,
            FORM_IMPLEMENTATION.sheet: table(len(FORM_IMPLEMENTATION.columns), implementation),
            FORM_PREPARATORY.sheet: table(len(FORM_PREPARATORY.columns), preparatory),
            FORM_PROBLEMS.sheet: table(len(FORM_PROBLEMS.columns), problems),
            IDENTITY_SHEET: (len(IDENTITY_KEYS), 2)}


def _bounds(extent: Extent | None, limits: Limits) -> Extent:
    """The region of a sheet that is ever looked at again: the form's extent and the
    margin a unit may use, never more than the copy limits."""
    if extent is None:
        return limits.copy_rows, limits.copy_cols
    return (min(extent[0] + limits.form_margin_rows, limits.copy_rows),
            min(extent[1] + limits.form_margin_cols, limits.copy_cols))


def form_values(values: Values, extents: Mapping[str, Extent | None],
                limits: Limits = RETURN) -> dict[str, list[list[Any]]]:
    """Our sheets' values (``values[r-1][c-1]``), cut to the form's region: what an
    annotated copy may show. Other sheets are left out."""
    kept: dict[str, list[list[Any]]] = {}
    for name in FORM_SHEETS:
        if name not in values:
            continue
        rows, cols = _bounds(extents.get(name), limits)
        kept[name] = [list(row[:cols]) for row in values[name][:rows]]
    return kept


def shape_findings(values: Values, hidden: Sequence[str], extents: Mapping[str, Extent | None],
                   limits: Limits = RETURN) -> list[Finding]:
    """Foreign sheets (hidden: refused; visible: noted) and content far outside the form."""
    found: list[Finding] = []
    for name in values:
        if name in FORM_SHEETS:
            continue
        code = "F58" if name in hidden else "F60"
        found.append(finding(code, sheet=name, value=name, sheet_name=name))
    for name in FORM_SHEETS:
        extent = extents.get(name)
        if name not in values or extent is None:
            continue
        far = _far_cell(values[name], extent[0] + limits.form_margin_rows,
                        extent[1] + limits.form_margin_cols)
        if far is not None:
            found.append(finding("F59", sheet=name, cell=far, value=far, sheet_name=name,
                                 rows=extent[0], cols=extent[1]))
    return found


def _far_cell(rows: Sequence[Sequence[Any]], last_row: int, last_col: int) -> str | None:
    """The first cell with content beyond ``last_row`` or ``last_col`` (1-based), if any."""
    for number, row in enumerate(rows, start=1):
        start = 0 if number > last_row else last_col
        for column in range(start, len(row)):
            if row[column] not in (None, ""):
                return f"{column_letter(column + 1)}{number}"
    return None

