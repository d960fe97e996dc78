"""The ``zdxm`` command: every ribbon operation, for WPS users and scheduled runs.

Each command parses its arguments, makes one call into the core, and presents the result.
Exit codes: 0 success, 1 some input was rejected, 2 the command could not run.
Errors are one red Chinese line; a traceback only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import UsageError, ZdxmError

__all__ = ["app", "main", "run"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    name="zdxm",
    help="重大项目 Excel 助手：年度计划台账、月报模板、校验合并、简报通报。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # A fixed width keeps help (and the generated CLI reference) the same on every terminal.
    context_settings={"help_option_names": ["-h", "--help"], "terminal_width": 100,
                      "max_content_width": 100},
    rich_markup_mode=None,
)
plan_app = typer.Typer(help="年度计划：汇总、导入官方计划表、导出附表。", no_args_is_help=True)
app.add_typer(plan_app, name="plan")

MasterArg = Annotated[Path, typer.Argument(help="台账文件（.xlsx）", metavar="台账")]
JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出结果，供程序读取")]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="出错时显示程序内部的详细信息（供技术人员排查）")]
    = False,
    version: Annotated[bool, typer.Option("--version", help="显示版本号")] = False,
) -> None:
    """重大项目 Excel 助手（zdxm-xl）。"""
    if version:
        out.print(f"zdxm-xl {__version__}")
        raise typer.Exit()


@app.command("init")
def init_command(
    master: MasterArg,
    year: Annotated[int | None, typer.Option("--year", help="计划年度，默认今年；--sample 时为 2022")]
    = None,
    sample: Annotated[bool, typer.Option(
        "--sample", help="载入内置的柳州市 2022 年示例计划（668+287 个项目）")] = False,
) -> None:
    """创建新的台账工作簿（设置、项目表、责任单位、月报台帐等全部工作表）。"""
    from .master import create_master

    if sample:
        from .sample import SAMPLE_YEAR, build_sample

        if year is not None and year != SAMPLE_YEAR:
            raise UsageError(f"内置示例是 {SAMPLE_YEAR} 年的计划，不能与 --year {year} 同用。")
        created = create_master(master, SAMPLE_YEAR, build_sample())
    else:
        created = create_master(master, year or date.today().year)
    out.print(f"已创建台账：{master}")
    out.print(f"  年度 {created.year}；实施项目 {len(created.implementation)} 个，"
              f"预备项目 {len(created.preparatory)} 个，责任单位 {len(created.units)} 个。")
    if not created.projects:
        out.print("  下一步：用 zdxm plan import 导入年度计划表。")


@plan_app.command("summary")
def plan_summary_command(
    master: MasterArg,
    as_json: JsonOpt = False,
    write: Annotated[bool, typer.Option("--write", help="同时刷新台账的“汇总”工作表")] = False,
) -> None:
    """按阶段和行业分类汇总项目数、总投资和年度计划投资（亿元）。"""
    from .master import load_master
    from .summary import refresh_summary, summarize, summary_text

    summary = refresh_summary(master) if write else summarize(load_master(master))
    if as_json:
        _print_json(summary.as_json())
        return
    out.print(summary_text(summary))
    out.print()
    table = Table(title=f"{summary.year}年重大项目计划汇总（亿元）")
    for header in ("阶段", "行业分类", "项目数", "总投资", "年度计划投资"):
        table.add_column(header, justify="right" if header in ("项目数", "总投资", "年度计划投资")
                         else "left")
    for row in summary.rows:
        table.add_row("实施项目合计" if row.stage is None else row.stage, row.sector or "合计",
                      str(row.count), f"{row.total_yi:,.2f}",
                      "—" if row.annual_yi is None else f"{row.annual_yi:,.2f}")
    out.print(table)
    if write:
        out.print(f"已刷新“汇总”工作表：{master}")


@plan_app.command("import")
def plan_import_command(
    master: MasterArg,
    files: Annotated[list[Path], typer.Argument(help="计划表文件（附表1 实施项目、附表2 预备项目，"
                                                     "可在同一工作簿或两个工作簿中）",
                                                metavar="计划表...")],
) -> None:
    """导入官方格式的年度计划表（附表1、附表2）；任何一处不符则全部不导入。"""
    from .planio import import_plan

    result = import_plan(master, files)
    out.print(f"已导入实施项目 {result.implementation} 个、预备项目 {result.preparatory} 个。")
    if result.new_units:
        out.print(f"新增责任单位 {len(result.new_units)} 个：{'、'.join(result.new_units)}")
        out.print("请在台账“责任单位”工作表中补全这些单位的联络员、信息员联系方式。")


@plan_app.command("export")
def plan_export_command(
    master: MasterArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="导出的附表文件（.xlsx）",
                                         metavar="文件")],
) -> None:
    """按官方格式导出附表1（实施项目）和附表2（预备项目），可直接打印（A3 横向）。"""
    from .planio import export_plan

    written = export_plan(master, output)
    out.print(f"已导出计划附表：{written}")


PeriodOpt = Annotated[str, typer.Option("--period", help="报告期，如 2022-03", metavar="年-月")]


@app.command("templates")
def templates_command(
    master: MasterArg,
    period: PeriodOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="模板输出文件夹", metavar="文件夹")],
    unit: Annotated[str | None, typer.Option("--unit", help="只生成这一个牵头单位的模板",
                                             metavar="单位")] = None,
) -> None:
    """为每个牵头单位生成本报告期的填报模板（.xlsx），每单位一个文件。"""
    from .forms import make_templates

    result = make_templates(master, period, output, unit=unit)
    out.print(f"已生成 {result.period} 填报模板 {len(result.files)} 个，位于：{output}")
    for path in result.files[:5]:
        out.print(f"  {path.name}")
    if len(result.files) > 5:
        out.print(f"  ……共 {len(result.files)} 个")


@app.command("validate")
def validate_command(
    master: MasterArg,
    files: Annotated[list[Path], typer.Argument(help="报送文件，或存放报送文件的文件夹",
                                                metavar="文件...")],
    period: Annotated[str | None, typer.Option("--period", help="只接受这个报告期的模板，如 2022-03",
                                               metavar="年-月")] = None,
    annotate_dir: Annotated[Path | None, typer.Option(
        "--annotate", help="在此文件夹写出批注副本（…_校验结果.xlsx）和回执（…_回执.txt）",
        metavar="文件夹")] = None,
    as_json: JsonOpt = False,
) -> None:
    """校验各单位报送的月报（不改动台账）；有错误的文件退出码为 1。"""
    from .validate import validate_files

    run = validate_files(master, files, period, annotate_dir)
    if as_json:
        _print_json(run.as_json())
    else:
        for report in run.reports:
            who = f"{report.unit} {report.period}" if report.unit else "身份无法确认"
            if report.valid:
                out.print(f"[green]通过[/green]  {report.path.name}（{who}）"
                          + (f"，警告 {report.warnings} 处" if report.warnings else ""))
            else:
                out.print(f"[red]未通过[/red] {report.path.name}（{who}）：错误 {report.errors} 处，"
                          f"警告 {report.warnings} 处")
            for item in report.findings[:20]:
                where = " ".join(p for p in (item.sheet, item.cell) if p)
                out.print(f"    {item.severity.label} {item.code} {where}：{item.message}")
            if len(report.findings) > 20:
                out.print(f"    ……另有 {len(report.findings) - 20} 处，见批注副本")
        passed = sum(1 for r in run.reports if r.valid)
        out.print(f"共 {len(run.reports)} 个文件：通过 {passed} 个，未通过 {len(run.reports) - passed} 个。")
        if annotate_dir is not None:
            out.print(f"批注副本和回执已写入：{annotate_dir}")
    if not run.ok:
        raise typer.Exit(1)


@app.command("merge")
def merge_command(
    master: MasterArg,
    files: Annotated[list[Path], typer.Argument(help="报送文件，或存放报送文件的文件夹",
                                                metavar="文件...")],
    period: Annotated[str | None, typer.Option("--period", help="只接受这个报告期的模板，如 2022-03",
                                               metavar="年-月")] = None,
    received: Annotated[str | None, typer.Option(
        "--received", help="文件的接收日期（判断是否按时），默认为现在", metavar="年-月-日")] = None,
    as_json: JsonOpt = False,
) -> None:
    """校验并把通过的月报合并进月报台帐；同一单位重报时替换旧数据，同一文件不会重复合并。"""
    from .ledger import merge_files
    from .values import parse_date

    when = None
    if received is not None:
        try:
            day = parse_date(received)
        except ValueError:
            day = None
        if day is None:
            raise UsageError(f"接收日期“{received}”无效，请写成 2022-04-05 的形式。")
        when = datetime.combine(day, datetime.min.time())
    result = merge_files(master, files, period, received=when)
    if as_json:
        _print_json(result.as_json())
    else:
        for item in result.merged:
            out.print(f"[green]已合并[/green] {Path(item['file']).name}：{item['unit']} "
                      f"{item['period']}，{item['rows']} 个项目")
        for item in result.replaced:
            out.print(f"  替换了 {item['unit']} 先前报送的《{item['file']}》")
        for item in result.duplicates:
            out.print(f"重复     {Path(item['file']).name}：与已合并的文件内容相同，未再合并")
        for item in result.rejected:
            out.print(f"[red]未通过[/red] {Path(item['file']).name}：错误 {item['errors']} 处，未合并"
                      "（用 zdxm validate --annotate 生成批注副本和回执）")
        out.print(f"合并 {len(result.merged)} 个，重复 {len(result.duplicates)} 个，"
                  f"未通过 {len(result.rejected)} 个。" + ("台账已更新。" if result.written else
                                                        "台账未改动。"))
    if not result.ok:
        raise typer.Exit(1)


@app.command("status")
def status_command(master: MasterArg, period: PeriodOpt, as_json: JsonOpt = False) -> None:
    """报送情况：每个牵头单位是否报送、是否按时、是否通过；列出未报送、逾期、未通过的单位。"""
    from .ledger import submission_status
    from .master import load_master
    from .validate import check_period

    report = submission_status(load_master(master), check_period(period) or period)
    if as_json:
        _print_json(report.as_json())
        return
    table = Table(title=f"{report.period} 报送情况（截止 {report.deadline.isoformat()}）")
    for header in ("牵头单位", "项目数", "是否报送", "是否按时", "是否通过", "文件"):
        table.add_column(header)
    for unit in report.units:
        table.add_row(unit.unit, str(unit.projects), "是" if unit.submitted else "[red]否[/red]",
                      "—" if unit.on_time is None else ("是" if unit.on_time else "[red]逾期[/red]"),
                      "是" if unit.valid else ("[red]否[/red]" if unit.submitted else "—"),
                      unit.file or "")
    out.print(table)
    for label, names in (("未报送", report.missing), ("逾期", report.late),
                         ("未通过", report.rejected)):
        out.print(f"{label}（{len(names)}）：{'、'.join(names) if names else '无'}")


# ---- running ------------------------------------------------------------------------------

_CLICK_MESSAGES = (
    ("Missing argument", "缺少参数"),
    ("Missing option", "缺少选项"),
    ("No such option", "没有这个选项"),
    ("No such command", "没有这个命令"),
    ("Invalid value for", "取值无效："),
    ("Got unexpected extra argument", "多余的参数"),
    ("Got unexpected extra arguments", "多余的参数"),
    ("requires an argument", "需要一个值"),
    ("is not a valid integer", "不是有效的整数"),
    ("does not exist", "不存在"),
    ("Did you mean", "您是否想用"),
)


def _chinese_usage(message: str) -> str:
    for english, chinese in _CLICK_MESSAGES:
        message = message.replace(english, chinese)
    return message


_HELP_WORDS = (
    ("Usage:", "用法："),
    ("Options:", "选项："),
    ("Commands:", "命令："),
    ("Arguments:", "参数："),
    ("Show this message and exit.", "显示本帮助并退出。"),
    ("[OPTIONS]", "[选项]"),
    ("COMMAND [ARGS]...", "命令 [参数]..."),
    ("[default: ", "[默认："),
    ("[required]", "[必填]"),
    ("<path>", "<路径>"),
    ("<int>", "<整数>"),
    ("<text>", "<文本>"),
)


def help_text(args: list[str]) -> str:
    """The help of ``zdxm ARGS --help``, in Chinese (typer's own words are English)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            app(args=[*args, "--help"], prog_name="zdxm", standalone_mode=False)
        except typer.Exit:
            pass
    text = buffer.getvalue()
    for english, chinese in _HELP_WORDS:
        text = text.replace(english, chinese)
    return text


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zdxm`` script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        if not args or "-h" in args or "--help" in args:
            sys.stdout.write(help_text([a for a in args if a not in ("-h", "--help")]))
            return 0
        result = app(args=args, prog_name="zdxm", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        err.print("[red]已取消。[/red]")
        return 2
    except typer.TyperException as exc:  # typer's usage errors
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            sys.stdout.write(help_text(args))
            return 0
        if debug:
            raise
        err.print(f"[red]参数有误：{_chinese_usage(exc.format_message())}[/red]")
        err.print("用 zdxm --help 或 zdxm 命令 --help 查看用法。")
        return UsageError.exit_code
    except ZdxmError as exc:
        if debug:
            raise
        err.print(f"[red]{exc.message}[/red]")
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("[red]已中断。[/red]")
        return 2
    except Exception as exc:  # the last guard: no traceback reaches a user
        if debug:
            raise
        err.print(f"[red]程序内部错误：{type(exc).__name__}：{exc}。"
                  "请加 --debug 重新运行，并把输出发给技术支持。[/red]")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """Console-script wrapper: ``sys.exit`` with ``main``'s code."""
    sys.exit(main())
