"""Generated references in ``docs/``: they come from the code, so they cannot drift.

``python -m zdxm_xl.docgen`` rewrites them; a test fails when a committed page differs
from what the code would generate now.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .registry import MASTER_TABLES, SETTINGS, SUMMARY, SheetSpec

__all__ = ["PAGES", "commands", "cli_reference", "column_reference", "rule_catalogue", "write_all"]

GENERATED = "<!-- 本页由 python -m zdxm_xl.docgen 根据代码生成，请勿手工修改。 -->\n\n"


def commands() -> list[list[str]]:
    """Every command path of ``zdxm``, e.g. ``[]``, ``["plan"]``, ``["plan", "summary"]``."""
    import typer.main

    from .cli import app

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def cli_reference() -> str:
    from .cli import help_text

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
    parts.append("\n## 设置\n\n“设置”工作表左侧为设置项（项目、值、说明），右侧为县区列表。\n\n"
                 "| 项目 | 类型 | 说明 |\n|---|---|---|\n")
    parts += [f"| {c.header} | {c.kind.value} | {c.help} |\n" for c in SETTINGS]
    return "".join(parts)


def rule_catalogue() -> str:
    from .findings import RULES

    _load_checks()
    parts = [GENERATED, "# 校验规则目录\n\n",
             "“错误”使整个文件不能合并；“警告”不影响合并，但请核实。\n\n",
             "| 代码 | 级别 | 规则 | 提示信息 |\n|---|---|---|---|\n"]
    for code in sorted(RULES):
        rule = RULES[code]
        parts.append(f"| {code} | {rule.severity.label} | {rule.title} | {rule.template} |\n")
    return "".join(parts)


def _load_checks() -> None:
    # Rules are declared by the modules that check them; import each one that exists.
    import importlib

    for name in ("vetting", "checking"):
        try:
            importlib.import_module(f"zdxm_xl.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"zdxm_xl.{name}":
                raise


PAGES: dict[str, Callable[[], str]] = {
    "cli.md": cli_reference,
    "columns.md": column_reference,
    "rules.md": rule_catalogue,
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
