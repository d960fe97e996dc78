"""Generated references in ``docs/``: they come from the code, so they cannot drift.

``python tools/docgen.py`` rewrites them; a test fails when a committed page differs
from what the code would generate now.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from zdxm_xl.core.registry import (
    ALLOWED_SENDERS,
    MASTER_TABLES,
    RULE_COLUMN,
    RULE_TABLE,
    SETTINGS,
    SUMMARY,
    SheetSpec,
)

__all__ = ["PAGES", "commands", "cli_reference", "column_reference", "rule_catalogue",
           "field_reference_page", "write_all"]

GENERATED = "<!-- 本页由 python tools/docgen.py 根据代码生成，请勿手工修改。 -->\n\n"


def commands() -> list[list[str]]:
    """Every command path of ``zdxm``, e.g. ``[]``, ``["plan"]``, ``["plan", "summary"]``."""
    import typer.main

    from zdxm_xl.frontends.cli import app

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def cli_reference() -> str:
    from zdxm_xl.frontends.cli import help_text

    parts = [GENERATED, "# 命令行参考（zdxm）\n\n",
             "每个 Excel 按钮都有对应的 zdxm 命令，WPS 用户和计划任务使用命令行。\n",
             "退出码：0 成功；1 有输入文件被拒绝；2 命令无法执行（参数有误、台账打不开等）。\n"]
    for path in commands():
        title = " ".join(["zdxm", *path])
        parts.append(f"\n## {title}\n\n```text\n{help_text(path).rstrip()}\n```\n")
    return "".join(parts)


def _table(spec: SheetSpec) -> str:
    lines = [f"\n## {spec.sheet}（表名 {spec.table}）\n\n{spec.help}\n\n",
             "| 列标题 | 类型 | 必填 | 可选值 | 说明 |\n|---|---|---|---|---|\n"]
    for column in spec.columns:
        choices = "、".join(column.choices or ()) or (
            f"取自“{column.choices_from}”列表" if column.choices_from else "")
        lines.append(f"| {column.title} | {column.kind.value} | {'是' if column.required else ''} "
                     f"| {choices} | {column.help} |\n")
    return "".join(lines)


def column_reference() -> str:
    parts = [GENERATED, "# 台账工作表与列\n\n",
             "台账是普通的 .xlsx 工作簿，下列工作表都是带标题行的 Excel 表格。",
             "列按标题文字识别，可以调整顺序，但请不要改标题文字。\n"]
    parts += [_table(spec) for spec in MASTER_TABLES]
    parts.append(_table(SUMMARY))
    parts.append("\n## 设置\n\n“设置”工作表左侧为设置项（项目、值、说明），右侧为县区列表和"
                 "允许发件人表。\n\n| 项目 | 类型 | 说明 |\n|---|---|---|\n")
    parts += [f"| {c.header} | {c.kind.value} | {c.help} |\n" for c in SETTINGS]
    parts.append(_table(ALLOWED_SENDERS))
    letter = chr(64 + RULE_COLUMN)
    parts.append(f"\n### 校验规则（设置工作表 {letter} 列起，表名 {RULE_TABLE.table}）\n\n{RULE_TABLE.help}。"
                 "每条可调整的规则一行，新建台账时按默认值生成；旧台账没有此表时全部按默认值。"
                 "规则目录见 [校验规则目录](rules.md)。\n\n"
                 "| 列标题 | 类型 | 可选值 | 说明 |\n|---|---|---|---|\n")
    parts += [f"| {c.title} | {c.kind.value} | {'、'.join(c.choices or ())} | {c.help} |\n"
              for c in RULE_TABLE.columns]
    return "".join(parts)


def rule_catalogue() -> str:
    from zdxm_xl.core.rules import RULES

    _load_checks()
    parts = [GENERATED, "# 校验规则目录\n\n",
             "“错误”使整个文件不能合并；“警告”不影响合并，但请核实。\n\n",
             "“可调整”的规则由办公室在台账“设置”工作表的“校验规则”表中决定按错误、警告处理或不检查；"
             "其余规则（文件安全、模板身份、无法识别的数值）始终为错误。\n\n",
             "“需说明”的规则针对可能但少见的金额（本月完成超过全年计划、远高于以往月份）：该行在"
             "“情况说明”栏写明原因的，只作为警告，否则按所设级别（默认错误）处理。"
             "提示中的“是否误填为元？”在金额除以一万后合理时出现。\n\n",
             "| 代码 | 默认级别 | 可调整 | 规则 | 提示信息 |\n|---|---|---|---|---|\n"]
    for code in sorted(RULES):
        rule = RULES[code]
        adjustable = "可调整，需说明" if rule.explainable else ("可调整" if rule.adjustable else "")
        parts.append(f"| {code} | {rule.severity.label} | {adjustable} | {rule.title} "
                     f"| {rule.template} |\n")
    return "".join(parts)


def _load_checks() -> None:
    # Rules are declared by the modules that check them; import each one that exists.
    import importlib

    for name in ("checks.vetting", "checks.returns"):
        importlib.import_module(f"zdxm_xl.{name}")


def field_reference_page() -> str:
    """The fields a 简报/通报 template may use, from the progress context model."""
    from zdxm_xl.reports.bulletins import template_fields

    parts = [GENERATED, "# 简报和通报模板字段\n\n",
             "Word 简报模板写 `{{ 字段 }}`，如 `{{ total.rate }}`；列表（标“列表”的字段）用 "
             "`{% for c in counties %}…{{ c.name }}…{% endfor %}` 循环，表格中一行一项用 "
             "`{%tr for c in counties %}`。Excel 通报模板的单元格写 `{{ 字段 }}`，"
             "列表行写 `{{ counties[].name }}`（每项一行）。编辑方法见 [简报与通报](简报与通报.md)；"
             "`zdxm bulletin --list-fields` 列出同样的内容。\n\n",
             "百分数保留一位小数（四舍五入一次）；“亿元”由万元精确合计后四舍五入到 0.01 亿元。"
             "没有值时（如没有年度计划投资的完成率）显示为“—”。\n\n",
             "| 字段 | 类型 | 含义 |\n|---|---|---|\n"]
    for path, kind, meaning in template_fields():
        cell = meaning.replace("|", "\\|").replace("{%", "`{%").replace("%}", "%}`")
        parts.append(f"| `{path}` | {kind} | {cell} |\n")
    return "".join(parts)


PAGES: dict[str, Callable[[], str]] = {
    "cli.md": cli_reference,
    "columns.md": column_reference,
    "rules.md": rule_catalogue,
    "fields.md": field_reference_page,
}


def write_all(folder: Path) -> list[Path]:
    written = []
    for name, build in PAGES.items():
        path = folder / name
        path.write_text(build(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs")
    for page in write_all(target):
        print(page)
