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
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__
from ..core.errors import Field, Remedy, UsageError, ZdxmError

__all__ = ["app", "main"]

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
plan_app = typer.Typer(help="年度计划：汇总、导入和增补、退出、转入实施、修改、变更记录、导出附表。",
                       no_args_is_help=True)
app.add_typer(plan_app, name="plan")

MasterArg = Annotated[Path, typer.Argument(help="台账文件（.xlsx）", metavar="台账")]
JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出结果，供程序读取")]


def _print_json(data: Any) -> None:
    """A result as JSON (``core.results.to_json``, the one serialiser); plain data as is."""
    from ..core.results import to_json

    if not isinstance(data, dict | list):
        data = to_json(data)
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _show_version(value: bool) -> None:
    if value:
        out.print(f"zdxm-xl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="出错时显示程序内部的详细信息（供技术人员排查）")]
    = False,
    version: Annotated[bool, typer.Option("--version", help="显示版本号", is_eager=True,
                                          callback=_show_version)] = False,
) -> None:
    """重大项目 Excel 助手（zdxm-xl）。"""


@app.command("init")
def init_command(
    master: MasterArg,
    year: Annotated[int | None, typer.Option("--year", help="计划年度，默认今年；--sample 时为 2022")]
    = None,
    sample: Annotated[bool, typer.Option(
        "--sample", help="载入内置的柳州市 2022 年示例计划（668+287 个项目）")] = False,
) -> None:
    """创建新的台账工作簿（设置、项目表、责任单位、月报台帐等全部工作表）。"""
    from ..books.masterio import create_master

    if sample:
        from ..demo.sample import SAMPLE_YEAR, build_sample

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
    """按阶段和行业分类汇总项目数、总投资和年度计划投资（亿元），年初计划与调整后并列，列出增补和退出。"""
    from rich import box

    from ..core.summary import comparison_text, summary_text
    from ..summary import plan_summary, refresh_summary

    summary = refresh_summary(master) if write else plan_summary(master)
    if as_json:
        _print_json(summary)
        return
    out.print(summary_text(summary))
    out.print()
    out.print(comparison_text(summary))
    out.print()
    table = Table(title=f"{summary.year}年重大项目计划汇总：年初计划与调整后（亿元）",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("阶段", no_wrap=True, min_width=12)
    table.add_column("行业", no_wrap=True, min_width=8)
    for header in ("年初\n项目数", "年初\n总投资", "年初\n年度计划", "调整后\n项目数",
                   "调整后\n总投资", "调整后\n年度计划"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in summary.rows:
        before = summary.initial_row(row.stage, row.sector) if summary.initial else None
        figures = ["", "", ""] if before is None else [
            str(before.count), f"{before.total_yi:,.2f}",
            "—" if before.annual_yi is None else f"{before.annual_yi:,.2f}"]
        table.add_row("实施项目合计" if row.stage is None else row.stage, row.sector or "合计",
                      *figures, str(row.count), f"{row.total_yi:,.2f}",
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
    batch: Annotated[str | None, typer.Option(
        "--batch", help="增补批次名，如 第一批增补；不写则为年初计划", metavar="批次名")] = None,
    batch_date: Annotated[str | None, typer.Option(
        "--date", help="增补批次的日期，默认今天", metavar="年-月-日")] = None,
    operator: Annotated[str | None, typer.Option(
        "--operator", help="记入变更记录的操作人，默认为当前登录用户", metavar="姓名")] = None,
) -> None:
    """导入官方格式的年度计划表（附表1、附表2），或用 --batch 导入增补批次；任何一处不符则全部不导入。"""
    from ..plan import import_plan

    result = import_plan(master, files, batch=batch, batch_date=batch_date, operator=operator)
    if result.batch_date is not None:
        out.print(f"增补批次“{result.batch}”（{result.batch_date.isoformat()}）：")
    out.print(f"已导入实施项目 {result.implementation} 个、预备项目 {result.preparatory} 个。")
    if result.warnings:
        out.print(f"提示：{len(result.warnings)} 处小计与其下项目合计相差在四舍五入误差之内，已导入：")
        for line in result.warnings:
            out.print(f"  {line}", markup=False)
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
    from ..plan import export_plan

    written = export_plan(master, output)
    out.print(f"已导出计划附表：{written}")


PeriodOpt = Annotated[str, typer.Option("--period", help="报告期，如 2022-03", metavar="年-月")]
# validate and merge take the same returned files, and the same optional period.
ReturnsArg = Annotated[list[Path], typer.Argument(help="报送文件，或存放报送文件的文件夹",
                                                  metavar="文件...")]
AcceptPeriodOpt = Annotated[str | None, typer.Option(
    "--period", help="只接受这个报告期的模板，如 2022-03", metavar="年-月")]


@app.command("templates")
def templates_command(
    master: MasterArg,
    period: PeriodOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="模板输出文件夹", metavar="文件夹")],
    unit: Annotated[str | None, typer.Option("--unit", help="只生成这一个牵头单位的模板",
                                             metavar="单位")] = None,
) -> None:
    """为每个牵头单位生成本报告期的填报模板（.xlsx），每单位一个文件。"""
    from ..forms import make_forms

    result = make_forms(master, period, output, unit=unit)
    out.print(f"已生成 {result.period} 填报模板 {len(result.files)} 个，位于：{output}")
    for path in result.files[:5]:
        out.print(f"  {path.name}")
    if len(result.files) > 5:
        out.print(f"  ……共 {len(result.files)} 个")


@app.command("validate")
def validate_command(
    master: MasterArg,
    files: ReturnsArg,
    period: AcceptPeriodOpt = None,
    annotate_dir: Annotated[Path | None, typer.Option(
        "--annotate", help="在此文件夹写出批注副本（…_校验结果.xlsx）和回执（…_回执.txt）",
        metavar="文件夹")] = None,
    as_json: JsonOpt = False,
) -> None:
    """校验各单位报送的月报（不改动台账）；有错误的文件退出码为 1。"""
    from ..validate import validate_files

    run = validate_files(master, files, period, annotate_dir)
    if as_json:
        _print_json(run)
    else:
        for report in run.reports:
            who = f"{report.unit} {report.period}" if report.unit else "身份无法确认" + (
                f"，文件名或发件人显示为{report.named_unit}" if report.named_unit else "")
            if report.valid:
                out.print(f"[green]通过[/green]  {report.path.name}（{who}）"
                          + (f"，警告 {report.warnings} 处" if report.warnings else ""))
            else:
                out.print(f"[red]未通过[/red] {report.path.name}（{who}）：错误 {report.errors} 处，"
                          f"警告 {report.warnings} 处")
            for item in report.findings[:20]:
                where = " ".join(p for p in (item.sheet, item.cell) if p)
                if item.project_name:
                    where += f"（{item.project_name}）"
                out.print(f"    {item.severity.label} {item.code} {where}：{item.message}",
                          markup=False)
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
    files: ReturnsArg,
    period: AcceptPeriodOpt = None,
    received: Annotated[str | None, typer.Option(
        "--received", help="文件的接收日期（判断是否按时），默认为现在", metavar="年-月-日")] = None,
    reapply: Annotated[bool, typer.Option(
        "--reapply", help="重新采用给出的文件：此前合并过、后被同单位同期的文件替换的，"
                          "重新校验后再作为当前数据")] = False,
    as_json: JsonOpt = False,
) -> None:
    """校验并把通过的月报合并进月报台帐；同一单位有多份时以最新收到的为准，同一文件不会重复合并。"""
    from ..core.periods import given_day
    from ..merge import merge_files

    when = None
    if received is not None:
        day = given_day(received, "接收日期", Field.RECEIVED, "2022-04-05")
        when = datetime.combine(day, datetime.min.time())
    result = merge_files(master, files, period, received=when, reapply=reapply)
    if as_json:
        _print_json(result)
    else:
        for merged in result.merged:
            again = "（重新采用）" if merged.reapplied else ""
            out.print(f"[green]已合并[/green] {Path(merged.file).name}{again}：{merged.unit} "
                      f"{merged.period}，{merged.rows} 个项目")
        for replaced in result.replaced:
            out.print(f"  替换了 {replaced.unit} 先前报送的《{replaced.file}》")
        for duplicate in result.duplicates:
            name = Path(duplicate.file).name
            if duplicate.earlier == "未通过":
                out.print(f"[red]重复[/red]     {name}：与此前未通过的文件内容相同，仍未通过，未再记录"
                          "（请单位按回执改正后重新报送）")
            elif duplicate.earlier == "被替换":
                out.print(f"重复     {name}：此前合并过，已被同单位较新的文件替换；如要重新采用它，"
                          "请加 --reapply")
            else:
                out.print(f"重复     {name}：与已合并的文件内容相同，未再合并")
        for rejected in result.rejected:
            out.print(f"[red]未通过[/red] {Path(rejected.file).name}：错误 {rejected.errors} 处，未合并"
                      "（用 zdxm validate --annotate 生成批注副本和回执）")
        if result.problems.text():
            out.print(f"问题台帐：{result.problems.text()}（zdxm problems 查看）。")
        out.print(f"合并 {len(result.merged)} 个，重复 {len(result.duplicates)} 个，"
                  f"未通过 {len(result.rejected)} 个。" + ("台账已更新。" if result.written else
                                                        "台账未改动。"))
    if not result.ok:
        raise typer.Exit(1)


@app.command("status")
def status_command(master: MasterArg, period: PeriodOpt, as_json: JsonOpt = False) -> None:
    """报送情况：每个牵头单位的报送状态（按时、逾期、未通过、未报送），与简报、通报、考核一致。"""
    from ..status import report_status

    report = report_status(master, period)
    if as_json:
        _print_json(report)
        return
    table = Table(title=f"{report.period} 报送情况（截止 {report.deadline.isoformat()}）")
    for header in ("牵头单位", "项目数", "报送状态", "接收时间", "文件"):
        table.add_column(header)
    colours = {"按时": "green", "逾期": "yellow", "未通过": "red", "未报送": "red"}
    for unit in report.units:
        table.add_row(escape(unit.unit), str(unit.projects),
                      f"[{colours[unit.status]}]{unit.status}[/{colours[unit.status]}]",
                      f"{unit.received_at:%Y-%m-%d %H:%M}" if unit.received_at else "",
                      escape(unit.file or ""))
    out.print(table)
    out.print(f"按时（{len(report.on_time_units)}）：通过校验且在截止日当天结束前收到")
    for label, names in (("逾期", report.late), ("未通过", report.rejected),
                         ("未报送", report.missing)):
        out.print(f"{label}（{len(names)}）：{'、'.join(names) if names else '无'}", markup=False)


# ---- dynamic management (增补 above in plan import; 退出, 转入实施, 修改, 变更记录) and 考核 ----

def _change_line(change: Any) -> str:
    what = change.field or ""
    if change.old is not None or change.new is not None:
        old = "（空）" if change.old is None else change.old
        new = "（空）" if change.new is None else change.new
        what += f"：{old} → {new}"
    parts = [change.time.strftime("%Y-%m-%d %H:%M"), change.kind,
             f"{change.project_id or ''} {change.project_name or ''}".strip()]
    if what:
        parts.append(what)
    if change.effective is not None:
        parts.append(f"生效 {change.effective.isoformat()}")
    if change.reason:
        parts.append(f"原因：{change.reason}")
    if change.batch:
        parts.append(f"批次：{change.batch}")
    if change.operator:
        parts.append(f"操作人：{change.operator}")
    return "  ".join(parts)


def _show_changes(result: Any, as_json: bool, done: str) -> None:
    if as_json:
        _print_json(result)
        return
    if result.changes:
        out.print(f"{done}：{result.project_id} {result.project_name}", markup=False)
        for change in result.changes:
            out.print(f"  {_change_line(change)}", markup=False)
    for note in result.notes:
        out.print(note, markup=False)


ProjectArg = Annotated[str, typer.Argument(help="项目编号，如 ZD2022-0001", metavar="项目编号")]
OperatorOpt = Annotated[str | None, typer.Option(
    "--operator", help="记入变更记录的操作人，默认为当前登录用户", metavar="姓名")]
DateOpt = Annotated[str, typer.Option("--date", help="生效日期，如 2022-05-20", metavar="年-月-日")]


@plan_app.command("exit")
def plan_exit_command(
    master: MasterArg,
    project_id: ProjectArg,
    day: DateOpt,
    reason: Annotated[str, typer.Option("--reason", help="退出原因（必填）", metavar="原因")],
    operator: OperatorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """项目退出（取消重大项目资格）：标记为已退出，记录保留；从下一个报告期起不再出现在模板中。"""
    from ..plan import exit_project

    result = exit_project(master, project_id, day, reason, operator)
    _show_changes(result, as_json, "已退出")
    if not as_json:
        out.print("该项目的月报台帐记录保留；从退出日期所在报告期的下一期起，模板中不再包含该项目。")


@plan_app.command("promote")
def plan_promote_command(
    master: MasterArg,
    project_id: ProjectArg,
    day: DateOpt,
    annual_plan: Annotated[str, typer.Option("--annual-plan", help="年度计划投资（万元）",
                                             metavar="金额")],
    planned_start: Annotated[str | None, typer.Option(
        "--planned-start", help="计划开工时间，默认保留本年内的原计划，否则为转入当月",
        metavar="年-月")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="原因，默认“预备项目转入实施”",
                                               metavar="原因")] = None,
    operator: OperatorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """预备项目转入实施：阶段由预备改为新开工，并设定年度计划投资。"""
    from ..plan import promote_project

    result = promote_project(master, project_id, day, annual_plan, operator,
                             planned_start=planned_start, reason=reason)
    _show_changes(result, as_json, "已转入实施（新开工）")


@plan_app.command("edit")
def plan_edit_command(
    master: MasterArg,
    project_id: ProjectArg,
    values: Annotated[list[str], typer.Option(
        "--set", help="要修改的字段和新值，如 --set 年度计划投资=3000，可写多个", metavar="字段=值")],
    reason: Annotated[str | None, typer.Option("--reason", help="修改原因", metavar="原因")] = None,
    operator: OperatorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """修改项目的计划字段（年度计划投资、计划开工时间、责任单位等），每项修改记入变更记录。"""
    from ..plan import edit_project

    pairs: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"“{item}”应写成 字段=值 的形式，如 年度计划投资=3000。",
                             field=Field.VALUES, value=item)
        pairs[name.strip()] = value.strip()
    result = edit_project(master, project_id, pairs, reason, operator)
    _show_changes(result, as_json, "已修改")


@plan_app.command("history")
def plan_history_command(
    master: MasterArg,
    project_id: Annotated[str | None, typer.Argument(help="只看这个项目（项目编号）",
                                                     metavar="[项目编号]")] = None,
    as_json: JsonOpt = False,
) -> None:
    """变更记录：导入、增补、退出、阶段转换、修改，按时间先后列出。"""
    from ..plan import plan_history

    history = plan_history(master, project_id)
    if as_json:
        _print_json(history)
        return
    scope = f"项目 {history.project_id} 的" if history.project_id else ""
    if not history.changes:
        out.print(f"{scope}变更记录为空。")
        return
    out.print(f"{scope}变更记录（{len(history.changes)} 条）：")
    for change in history.changes:
        out.print(_change_line(change), markup=False)


@app.command("assess")
def assess_command(
    master: MasterArg,
    first: Annotated[str, typer.Option("--from", help="考核起始报告期，如 2022-01", metavar="年-月")],
    last: Annotated[str, typer.Option("--to", help="考核截止报告期，如 2022-06", metavar="年-月")],
    as_json: JsonOpt = False,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="同时写出可打印的考核表（.xlsx，A4 横向）", metavar="文件")] = None,
) -> None:
    """考核：按牵头单位计算投资完成率（对照时序进度）、开工率、竣工率、报送及时率，加权得分，按单位类别分组排名。

    算法见 docs/考核办法.md。
    """
    from rich import box

    from ..assess import assess
    from ..reports.assessment import GROUPS

    result = assess(master, first, last, output)
    if as_json:
        _print_json(result)
        return

    def shown(ratio: Any, counts: bool = True) -> str:
        if ratio.percent is None:
            return "—"
        return f"{ratio.percent}%" + (f"\n（{int(ratio.done)}/{int(ratio.due)}）" if counts else "")

    out.print(f"{result.year}年重大项目考核（{result.first} 至 {result.last}，"
              f"时序进度 {result.benchmark}%）", markup=False)
    for group in GROUPS:
        units = result.group(group)
        if not units:
            continue
        table = Table(title=f"{group}（{len(units)}个单位）", box=box.SIMPLE_HEAD, show_edge=False)
        for header in ("排名", "牵头单位", "投资\n完成率", "为时序\n进度的", "开工率", "竣工率",
                       "报送\n及时率", "得分"):
            table.add_column(header, justify="left" if header == "牵头单位" else "right",
                             overflow="fold")
        for unit in units:
            versus = unit.investment.versus_benchmark
            table.add_row("—" if unit.group_rank is None else str(unit.group_rank),
                          escape(unit.unit), shown(unit.investment, counts=False),
                          "—" if versus is None else f"{versus}%", shown(unit.start),
                          shown(unit.completion), shown(unit.timeliness),
                          "不参评" if unit.score is None else f"{unit.score}")
        out.print(table)
    out.print(result.rule, markup=False)
    out.print("“—”表示该指标不适用（分母为 0）。", markup=False)
    if result.output is not None:
        out.print(f"已写出考核表：{result.output}", markup=False)


@app.command("bulletin")
def bulletin_command(
    master: Annotated[Path | None, typer.Argument(help="台账文件（.xlsx）；--list-fields 时可省略",
                                                  metavar="台账")] = None,
    period: Annotated[str | None, typer.Option("--period", help="报告期，如 2022-03",
                                               metavar="年-月")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="输出文件夹，默认为台账“设置”中的输出目录", metavar="文件夹")] = None,
    word: Annotated[Path | None, typer.Option(
        "--word", help="简报模板（.docx），默认用内置模板 templates/简报.docx", metavar="模板")] = None,
    excel: Annotated[Path | None, typer.Option(
        "--excel", help="通报模板（.xlsx），默认用内置模板 templates/通报.xlsx", metavar="模板")] = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="同时把简报转为 PDF（用 LibreOffice 或 Word）；无法转换时退出码为 1")] = False,
    list_fields: Annotated[bool, typer.Option(
        "--list-fields", help="列出模板中可用的全部字段及含义，不生成文件")] = False,
    issued: Annotated[str | None, typer.Option(
        "--date", help="印发日期，默认今天", metavar="年-月-日")] = None,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="上年台账（.xlsx），用于同比；默认取台账“设置”中的“上年台账”",
        metavar="台账")] = None,
    as_json: JsonOpt = False,
) -> None:
    """生成本报告期的重大项目建设简报（Word）和推进情况通报（Excel），期数接续“设置”中的简报期数。"""
    from ..bulletin import make_bulletin, template_fields

    if list_fields:
        fields = template_fields()
        if as_json:
            _print_json([{"field": f, "type": t, "meaning": m} for f, t, m in fields])
            return
        out.print("模板可用字段（Word 模板写 {{ 字段 }}，列表用 {% for 项 in 列表 %} 循环；"
                  "Excel 模板的列表行写 {{ 列表[].字段 }}）：", markup=False)
        for field, kind, meaning in fields:
            out.print(f"  {field}  〔{kind}〕 {meaning}", markup=False)
        return
    if master is None or period is None:
        raise UsageError("请给出台账文件和报告期，如：zdxm bulletin 台账.xlsx --period 2022-03 -o 输出")
    from ..core.periods import given_day

    day = None if issued is None else given_day(issued, "印发日期", Field.DATE, "2022-04-08")
    result = make_bulletin(master, period, output, word_template=word, excel_template=excel,
                           pdf=pdf, issued=day, previous=previous)
    if as_json:
        _print_json(result)
    else:
        issue = (f"第{result.issue}期（简报期数已记入台账“设置”）" if result.new_issue
                 else f"第{result.issue}期（该报告期已出过简报，沿用原期数）")
        out.print(f"已生成 {result.period} 简报，{issue}：")
        out.print(f"  简报：{result.docx}", markup=False)
        out.print(f"  通报：{result.xlsx}", markup=False)
        if result.pdf is not None:
            out.print(f"  PDF：{result.pdf}", markup=False)
        total = result.progress.total
        out.print(f"实施项目 {total.count} 个，本年累计完成投资 {total.year_completed_yi} 亿元，"
                  f"完成率 {total.rate}%，{total.gap_text}；滞后项目 {len(result.progress.lagging)} 个。")
        out.print(result.progress.freshness.text, markup=False)
        if result.year_ago is not None:
            out.print(f"同比：与上年台账“{result.year_ago}”的同期相比，{total.growth_text or '无可比数据'}。",
                      markup=False)
    if result.pdf_problem:
        err.print(f"[red]{result.pdf_problem}[/red]")
        raise typer.Exit(1)


# ---- 邮件: send the templates, fetch the returns, reply with the 回执 (docs/邮件.md) ----------

mail_app = typer.Typer(help="邮件：给各单位发送填报模板，收取报送并回复回执。", no_args_is_help=True)
app.add_typer(mail_app, name="mail")


@mail_app.command("login")
def mail_login_command(
    master: MasterArg,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="从标准输入读取密码（供脚本使用），不提示")] = False,
    check: Annotated[bool, typer.Option(
        "--check/--no-check", help="保存前先用这个密码登录收件、发件服务器试一试")] = True,
) -> None:
    """把邮箱密码保存到系统密码库（不写入台账）。

    台账“设置”中须已填写邮箱账号和服务器；默认先登录服务器试一试，密码正确才保存。
    """
    from ..mail.service import save_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("邮箱密码（输入时不显示）", hide_input=True, prompt_suffix="：")
    result = save_password(master, password, check=check)
    for label in result.checked:
        out.print(f"已连接{label}")
    out.print(f"已把邮箱“{result.account}”的密码保存到系统密码库。")


def _progress(text: str) -> None:
    """A progress line of a long mail run, on stderr (stdout stays the result)."""
    err.print(f"[dim]{escape(text)}[/dim]")


@mail_app.command("send-templates")
def mail_send_command(
    master: MasterArg,
    period: PeriodOpt,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="不发送，在 输出目录/邮件预览/报告期 中写出模板和 .eml 文件供查看")] = False,
    unit: Annotated[str | None, typer.Option("--unit", help="只发给这一个牵头单位（已发过的不重发）",
                                             metavar="单位")] = None,
    resend: Annotated[list[str] | None, typer.Option(
        "--resend", help="给这个单位重新发送（即使本期已发过）；可写多次", metavar="单位")] = None,
    as_json: JsonOpt = False,
) -> None:
    """给每个牵头单位的信息员发送本期填报模板（抄送联络员），每个单位每期只发一次。

    邮件先存入台账的“发件箱”再发送，发出后记入“邮件记录”；发送失败的留在发件箱，下次收发时
    自动重试。本期已发过的单位不再发送（要重发用 --resend）。有单位没有登记邮箱或发送失败时
    退出码为 1。
    """
    from ..mail.service import send_forms

    result = send_forms(master, period, dry_run=dry_run, unit=unit, resend=resend or [],
                        progress=None if as_json else _progress)
    if as_json:
        _print_json(result)
    else:
        for mail in result.mails:
            if mail.eml is not None:
                out.print(f"[green]已写出[/green] {escape(mail.eml.name)}")
            elif mail.state == "已发送":
                copy = f"（抄送 {'，'.join(mail.cc)}）" if mail.cc else ""
                out.print(f"[green]已发送[/green] {escape(mail.unit)}：{'，'.join(mail.to)}{copy}")
            elif mail.state == "发送失败":
                out.print(f"[red]发送失败[/red] {escape(mail.unit)}：{escape(mail.error or '')}"
                          "（已留在发件箱，下次自动重试）")
            for note in mail.notes:
                out.print(f"    {escape(note)}")
        for name, when in result.already.items():
            out.print(f"已发送过 {escape(name)}（{when:%Y-%m-%d %H:%M}），未重发；"
                      f"如需重发：--resend {escape(name)}")
        for name, why in result.no_address.items():
            out.print(f"[red]未发送[/red] {escape(name)}：{escape('；'.join(why))}"
                      "（请在“责任单位”表中登记信息员或联络员邮箱）")
        _print_outbox(result.outbox, {m.message_id for m in result.mails})
        done = "写出邮件" if result.dry_run else "发送"
        sent = [m for m in result.mails if m.state in ("已发送", "已写出")]
        out.print(f"{result.period} 填报模板：{done} {len(sent)} 封，失败 {len(result.failed)} 封，"
                  f"已发送过 {len(result.already)} 个单位，无邮箱 {len(result.no_address)} 个单位；"
                  f"截止日 {result.deadline.isoformat()}。")
        if result.dry_run and result.mails and result.mails[0].eml is not None:
            out.print(f"邮件预览位于：{result.mails[0].eml.parent}")
    if not result.ok:
        raise typer.Exit(1)


def _print_outbox(drained: Any, shown: set[str]) -> None:
    """Mail of the outbox sent or failed by this run, besides what the command listed."""
    if drained is None:
        return
    for mail in drained.sent:
        if mail.message_id not in shown:
            out.print(f"[green]已发送[/green] 发件箱中的{mail.kind} {escape(mail.unit or '')}"
                      f"（{escape(mail.to)}）")
    for mail in drained.failed:
        if mail.message_id not in shown:
            out.print(f"[red]发送失败[/red] 发件箱中的{mail.kind} {escape(mail.unit or '')}"
                      f"（{escape(mail.to)}）：{escape(mail.error or '')}")


@mail_app.command("fetch")
def mail_fetch_command(
    master: MasterArg,
    period: Annotated[str | None, typer.Option(
        "--period", help="只读本月以来的邮件；以后报告期的报送暂存到收取该期时处理，如 2022-03",
        metavar="年-月")] = None,
    reply: Annotated[bool, typer.Option(
        "--reply", help="发出回执（附批注副本）和发件箱中其他待发的邮件")] = False,
    merge: Annotated[bool, typer.Option(
        "--merge", help="把收到的报送合并进月报台帐（按邮件收到的时间判断是否按时）")] = False,
    as_json: JsonOpt = False,
) -> None:
    """收取邮箱中的新邮件，把 Excel 附件按报告期保存到收件目录，为每封邮件生成回执。

    只有各单位登记的信息员、联络员、责任专员邮箱（和“设置”中的允许发件人）发来的本单位报表
    会自动处理；其他邮件列为“待确认”（zdxm mail pending），不合并、不回复。回执先存入台账的
    “发件箱”，加 --reply 时发出（不加则留到下次加 --reply 时发）。同一封邮件、同一个附件不会
    处理两次，邮件从不删除。有附件被拒收、未通过校验或有邮件发送失败时退出码为 1，邮件服务器
    中途出错时为 2（已处理的邮件都已记录）。
    """
    from ..mail.service import fetch_returns

    result = fetch_returns(master, period, reply=reply, merge=merge,
                           progress=None if as_json else _progress)
    if as_json:
        _print_json(result)
    else:
        _print_fetch(result)
    if result.failure is not None:
        err.print(f"[red]{escape(describe(result.failure))}[/red]")
        raise typer.Exit(2)
    if not result.ok:
        raise typer.Exit(1)


def _print_fetch(result: Any) -> None:
    for mail in result.mails:
        out.print(f"{mail.received:%Y-%m-%d %H:%M}  {escape(mail.sender or '（无发件人）')}"
                  f"《{escape(mail.subject)}》" + ("（此前暂存）" if mail.released else ""))
        if mail.state == "待确认":
            out.print(f"    [yellow]待确认 #{mail.ticket}[/yellow]：{escape(mail.reason)}；未处理、未回复。"
                      f"确认：zdxm mail confirm 台账 {mail.ticket}")
            continue
        if mail.state == "暂存":
            out.print(f"    [yellow]暂存[/yellow]：{escape(mail.reason)}")
            continue
        for item in mail.files:
            if item.result == "已保存" and item.saved is not None:
                verdict = ("[green]通过[/green]" if item.valid else
                           f"[red]未通过[/red]（错误 {item.errors} 处）")
                who = f"{item.unit} {item.period}" if item.unit else "身份无法确认"
                late = "，逾期" if item.late else ""
                out.print(f"    已保存 {escape(item.saved.name)}（{escape(who)}{late}）{verdict}")
            else:
                out.print(f"    {item.result} {escape(item.name)}：{escape(item.reason)}")
        if not mail.files:
            out.print("    无附件")
        for warning in mail.warnings:
            out.print(f"    [yellow]提醒[/yellow] {escape(warning)}")
        if mail.reply:
            out.print(f"    {escape(mail.reply)}")
    if result.merge is not None:
        out.print(f"合并 {len(result.merge.merged)} 个，重复 {len(result.merge.duplicates)} 个，"
                  f"未通过 {len(result.merge.rejected)} 个。")
    _print_outbox(result.outbox, {m.reply_id for m in result.mails if m.reply_id})
    for note in result.notes:
        out.print(f"[yellow]{escape(note)}[/yellow]")
    files = result.files
    saved = [f for f in files if f.result == "已保存"]
    out.print(f"新邮件 {len(result.mails)} 封：保存附件 {len(saved)} 个"
              f"（通过 {sum(1 for f in saved if f.valid)} 个），"
              f"重复 {sum(1 for f in files if f.result == '重复')} 个，"
              f"拒收 {sum(1 for f in files if f.result == '已拒收')} 个；"
              f"此前已处理 {result.already} 封。")
    if result.waiting:
        failed = len(result.failed)
        out.print(("[red]" if failed else "") + f"发件箱中还有 {len(result.waiting)} 封邮件未发出"
                  + (f"（发送失败 {failed} 封）" if failed else "")
                  + "：加 --reply 收取时发送，zdxm mail status 查看。" + ("[/red]" if failed else ""))
    if result.pending:
        out.print(f"[yellow]有 {result.pending} 封邮件待确认：zdxm mail pending 查看，"
                  "zdxm mail confirm / reject 处理。[/yellow]")


@mail_app.command("status")
def mail_status_command(master: MasterArg, as_json: JsonOpt = False) -> None:
    """列出尚未发出的邮件（发件箱，含发送失败的）、待确认和暂存的邮件。

    发件箱中有发送失败的邮件时退出码为 1。
    """
    from ..mail.service import mail_status

    status = mail_status(master)
    if as_json:
        _print_json(status)
    else:
        out.print(f"发件箱：{len(status.outbox)} 封未发出（发送失败 {len(status.failed)} 封）")
        for mail in status.outbox:
            tried = f"，已尝试 {mail.attempts} 次" if mail.attempts else ""
            line = f"  {mail.state} {mail.kind} {escape(mail.unit or '')} → {escape(mail.to)}{tried}"
            out.print(("[red]" if mail.error else "") + line + ("[/red]" if mail.error else ""))
            if mail.error:
                out.print(f"      {escape(mail.error)}")
        out.print(f"待确认：{len(status.pending)} 封")
        for pending in status.pending:
            out.print(f"  #{pending.ticket} {pending.received:%Y-%m-%d %H:%M} "
                      f"{escape(pending.sender or '（发件人不明）')}：{escape(pending.reason)}")
        out.print(f"暂存：{len(status.held)} 封")
        for held in status.held:
            out.print(f"  {held.received:%Y-%m-%d %H:%M} {escape(held.sender or '')}："
                      f"{held.period} 报告期，收取该期时处理")
    if not status.ok:
        raise typer.Exit(1)


@mail_app.command("pending")
def mail_pending_command(master: MasterArg, as_json: JsonOpt = False) -> None:
    """列出待确认的邮件：发件人未登记、发来的是别的单位的报表、或自动发送的邮件。

    这些邮件没有处理、没有合并、没有回复。确认后处理：zdxm mail confirm 台账 编号；
    不予受理：zdxm mail reject 台账 编号。原邮件（.eml）在 收件目录/待确认 中，可双击查看。
    """
    from ..mail.service import pending_mail

    listed = pending_mail(master)
    if as_json:
        _print_json(listed)
        return
    if not listed.mails:
        out.print("没有待确认的邮件。")
    for mail in listed.mails:
        out.print(f"#{mail.ticket}  {mail.received:%Y-%m-%d %H:%M}  {escape(mail.sender or '（发件人不明）')}"
                  f"《{escape(mail.subject or '')}》")
        out.print(f"    原因：{escape(mail.reason)}")
        for name in mail.files:
            out.print(f"    附件：{escape(name)}")
        out.print(f"    原邮件：{mail.eml}")


TicketArg = Annotated[int, typer.Argument(help="待确认邮件的编号（zdxm mail pending 列出）",
                                          metavar="编号")]


@mail_app.command("confirm")
def mail_confirm_command(
    master: MasterArg,
    ticket: TicketArg,
    reply: Annotated[bool, typer.Option(
        "--reply/--no-reply", help="处理后发出回执（默认发出）")] = True,
    as_json: JsonOpt = False,
) -> None:
    """确认一封待确认的邮件：像登记的联系人发来的一样保存、校验它的报表，并回复回执。

    合并与其他报送相同（zdxm mail fetch --merge 或 zdxm merge）。
    """
    from ..mail.service import confirm_mail

    result = confirm_mail(master, ticket, reply=reply, progress=None if as_json else _progress)
    if as_json:
        _print_json(result)
    else:
        mail = result.mail
        assert mail is not None
        out.print(f"已确认 #{ticket}：{escape(mail.sender or '')}《{escape(mail.subject)}》")
        for item in mail.files:
            if item.result == "已保存" and item.saved is not None:
                verdict = "通过" if item.valid else f"未通过（错误 {item.errors} 处）"
                out.print(f"    已保存 {escape(item.saved.name)}（{escape(str(item.unit))} "
                          f"{item.period}）{verdict}")
            else:
                out.print(f"    {item.result} {escape(item.name)}：{escape(item.reason)}")
        _print_outbox(result.outbox, set())
        if result.waiting:
            out.print(f"发件箱中还有 {len(result.waiting)} 封邮件未发出：zdxm mail status 查看。")
    if not result.ok:
        raise typer.Exit(1)


@mail_app.command("reject")
def mail_reject_command(
    master: MasterArg,
    ticket: TicketArg,
    reason: Annotated[str | None, typer.Option("--reason", help="不予受理的原因，记入邮件记录",
                                               metavar="原因")] = None,
) -> None:
    """不予受理一封待确认的邮件：记入邮件记录，不处理、不回复；原邮件移到 收件目录/待确认/不予受理。"""
    from ..mail.service import decline_mail

    decline_mail(master, ticket, reason)
    out.print(f"已不予受理 #{ticket}。")


# ---- 问题台帐 and 督办 (docs/问题督办.md) ---------------------------------------------------------

class _ListByDefault(typer.core.TyperGroup):
    """``zdxm problems 台账`` lists: arguments that do not start with a sub-command (the
    master, or ``list``'s options in any order) are handed to ``list``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["list", *args]
        return super().parse_args(ctx, args)


problems_app = typer.Typer(
    cls=_ListByDefault, no_args_is_help=True,
    help="问题台帐：列出问题（zdxm problems 台账），交办、办结，查看一个问题的办理记录。")
app.add_typer(problems_app, name="problems")
ProblemArg = Annotated[str, typer.Argument(help="问题编号，如 WT2022-0001", metavar="问题编号")]


def _problem_row(item: Any) -> list[str]:
    return [item.id, escape(item.project_name or item.project_id), item.type, item.status,
            escape(item.unit or ""), item.due.isoformat() if item.due else "",
            {"红": "[red]逾期[/red]", "黄": "[yellow]临期[/yellow]"}.get(item.flag, "")]


@problems_app.command("list")
def problems_list_command(
    master: MasterArg,
    period: Annotated[str | None, typer.Option(
        "--period", help="只列这个报告期及以前提出的问题，如 2022-03", metavar="年-月")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", help="只列这个状态的问题：待交办、办理中、已办结、不再协调，或 未办结（前两种）",
        metavar="状态")] = None,
    day: Annotated[str | None, typer.Option(
        "--date", help="按这一天判断逾期和临期，默认今天", metavar="年-月-日")] = None,
    as_json: JsonOpt = False,
) -> None:
    """列出问题台帐中的问题：问题类型、状态、协调责任单位、办理时限，逾期和临期的标出。"""
    from ..problems import list_problems

    listed = list_problems(master, period, status, day)
    if as_json:
        _print_json(listed)
        return
    if not listed.items:
        out.print("没有符合条件的问题。" if listed.total else
                  "问题台帐中还没有问题：合并各单位月报后，存在问题和需协调事项会自动列入。")
        return
    table = Table(title=f"问题台帐（{len(listed.items)} 个，逾期与临期按 {listed.day.isoformat()} 判断）")
    for header in ("问题编号", "项目名称", "类型", "状态", "协调责任单位", "办理时限", "预警"):
        table.add_column(header, overflow="fold")
    for item in listed.items:
        table.add_row(*_problem_row(item))
    out.print(table)
    counts = {s: sum(1 for i in listed.items if i.status == s)
              for s in ("待交办", "办理中", "已办结", "不再协调")}
    out.print("、".join(f"{s} {n}" for s, n in counts.items() if n)
              + f"；逾期 {sum(1 for i in listed.items if i.overdue)}，"
                f"临期 {sum(1 for i in listed.items if i.due_soon)}。")


def _show_problem_change(result: Any, as_json: bool, done: str) -> None:
    if as_json:
        _print_json(result)
        return
    item = result.item
    out.print(f"{done}：{item.id} {item.project_name or item.project_id}", markup=False)
    for change in result.changes:
        what = change.field or ""
        if change.old is not None or change.new is not None:
            what += f"：{change.old or '（空）'} → {change.new or '（空）'}"
        out.print(f"  {change.event} {what}" + (f"（{change.note}）" if change.note else ""),
                  markup=False)


@problems_app.command("assign")
def problems_assign_command(
    master: MasterArg,
    problem_id: ProblemArg,
    unit: Annotated[str, typer.Option("--to", help="协调责任单位（须在“责任单位”工作表中登记）",
                                      metavar="单位")],
    due: Annotated[str, typer.Option("--due", help="办理时限，如 2022-04-30", metavar="年-月-日")],
    kind: Annotated[str | None, typer.Option(
        "--type", help="问题类型：用地、规划、环评、资金、征地拆迁、水电路气、审批手续或其他",
        metavar="类型")] = None,
    operator: OperatorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """交办一个问题：明确协调责任单位和办理时限（可同时改问题类型），待交办的改为办理中。"""
    from ..problems import assign_problem

    result = assign_problem(master, problem_id, unit, due, kind, operator)
    _show_problem_change(result, as_json, "已交办")


@problems_app.command("close")
def problems_close_command(
    master: MasterArg,
    problem_id: ProblemArg,
    day: Annotated[str, typer.Option("--date", help="办结日期，如 2022-04-06", metavar="年-月-日")],
    note: Annotated[str | None, typer.Option("--note", help="办结情况，记为最新进展",
                                             metavar="说明")] = None,
    operator: OperatorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """办结一个问题：状态改为已办结，记下办结日期和办结情况。"""
    from ..problems import close_problem

    result = close_problem(master, problem_id, day, note, operator)
    _show_problem_change(result, as_json, "已办结")


@problems_app.command("history")
def problems_history_command(master: MasterArg, problem_id: ProblemArg,
                             as_json: JsonOpt = False) -> None:
    """一个问题的办理记录：提出、续报、进展、交办、督办、办结……按时间先后列出。"""
    from ..problems import problem_history

    history = problem_history(master, problem_id)
    if as_json:
        _print_json(history)
        return
    out.print(f"问题 {history.problem_id} 的办理记录（{len(history.changes)} 条）：", markup=False)
    for change in history.changes:
        what = change.field or ""
        if change.old is not None or change.new is not None:
            what += f"：{change.old or '（空）'} → {change.new or '（空）'}"
        parts = [change.time.strftime("%Y-%m-%d %H:%M"), change.event, what,
                 f"（{change.note}）" if change.note else "",
                 f"报告期 {change.period}" if change.period else "",
                 f"操作人：{change.operator}" if change.operator else ""]
        out.print("  ".join(p for p in parts if p), markup=False)


@app.command("notices")
def notices_command(
    master: MasterArg,
    period: PeriodOpt,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="输出文件夹，默认为输出目录下的 督办通知/报告期", metavar="文件夹")] = None,
    day: Annotated[str | None, typer.Option(
        "--date", help="通知日期（按这一天判断逾期），默认今天", metavar="年-月-日")] = None,
    reply_by: Annotated[str | None, typer.Option(
        "--due", help="要求各单位反馈办理情况的日期，默认通知日期后10天", metavar="年-月-日")] = None,
    word: Annotated[Path | None, typer.Option(
        "--word", help="督办通知单模板（.docx），默认用内置模板 templates/督办通知.docx",
        metavar="模板")] = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="同时转为 PDF（用 LibreOffice 或 Word）；无法转换时退出码为 1")] = False,
    as_json: JsonOpt = False,
) -> None:
    """督办通知单：逾期和久拖未决的问题、红灯和逾期未开工（竣工）的项目，每个责任单位一份（Word，公文格式）。"""
    from ..notices import make_notices

    result = make_notices(master, period, output, issued=day, reply_by=reply_by, template=word,
                          pdf=pdf)
    if as_json:
        _print_json(result)
    else:
        supervision = result.supervision
        if not result.notices:
            out.print(f"{result.period} 没有需要督办的事项（按 {result.issued.isoformat()} 判断），"
                      "未写出督办通知单。")
        else:
            out.print(f"已写出 {result.period} 督办通知单 {len(result.notices)} 份"
                      f"（{result.issued.isoformat()}，"
                      f"请各单位于 {result.reply_by.isoformat()} 前反馈），位于：{result.folder}",
                      markup=False)
            for notice in result.notices:
                counts = [f"问题 {notice.problems} 个" if notice.problems else "",
                          f"临期提醒 {notice.warnings} 个" if notice.warnings else "",
                          f"项目 {notice.projects} 个" if notice.projects else ""]
                out.print(f"  {notice.number} {notice.unit}：{'，'.join(c for c in counts if c)}",
                          markup=False)
        if supervision is not None:
            out.print(f"督办事项：问题超过办理时限 {supervision.overdue_problems} 个、提出已满"
                      f"{supervision.problem_months}个月未办结 {supervision.stale_problems} 个；项目红灯 "
                      f"{supervision.red_projects} 个、逾期未开工 {supervision.late_starts} 个、逾期未竣工 "
                      f"{supervision.late_ends} 个。")
        if result.waiting:
            out.print(f"[yellow]另有 {result.waiting} 个问题提出已久仍待交办，未发通知：请先交办"
                      "（zdxm problems assign）。[/yellow]")
        if result.pdf_problem:
            err.print(f"[red]未生成 PDF：{escape(result.pdf_problem)}[/red]")
    if pdf and result.pdf_problem:
        raise typer.Exit(1)


# ---- Excel add-in ---------------------------------------------------------------------------

addin_app = typer.Typer(help="Excel 加载项：生成 zdxm.xlam（“重大项目”选项卡），安装到 Excel。",
                        no_args_is_help=True)
app.add_typer(addin_app, name="addin")


@addin_app.command("build")
def addin_build_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="zdxm.xlam 的输出文件夹，默认为当前文件夹",
                                         metavar="文件夹")] = Path("."),
) -> None:
    """用加载项源文件和已安装的 xlwings 生成 Excel 加载项 zdxm.xlam（在任何系统上都可运行）。"""
    from .addin.build import build_addin

    result = build_addin(output)
    out.print(f"已生成加载项：{result.path}")
    out.print(f"  VBA 模块 {len(result.modules)} 个（{'、'.join(m.name for m in result.modules)}），"
              f"xlwings {result.xlwings_version}。")


@addin_app.command("install")
def addin_install_command() -> None:
    """在 Windows 上把加载项装入 Excel 的启动文件夹（XLSTART）并配置 Python 解释器；其他系统给出安装说明。"""
    from .addin.build import install_addin

    for line in install_addin().lines:
        out.print(line)


@app.command("demo")
def demo_command(
    folder: Annotated[Path, typer.Argument(help="演示文件夹（新建或空文件夹）", metavar="文件夹")]
    = Path("zdxm-demo"),
) -> None:
    """用内置的柳州市2022年示例走一遍：建台账、1—2月报送、3月模板、报送（含常见错误）、校验、合并、简报。"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..demo.run import run_demo

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("准备", total=1)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=max(total, 1))

        result = run_demo(folder, progress)
    out.print("[bold]演示完成：柳州市2022年1—3月重大项目月报[/bold]")
    for step, note, where in result.steps:
        out.print(f"[green]✓[/green] {step}：{note}")
        out.print(f"    位置：{where}")
    out.print()
    for label, path in result.outputs.items():
        out.print(f"{label}：{path}")
    out.print(f"台账：{result.master}（可用 Excel 或 WPS 打开）")
    out.print("下一步：打开“输出/校验结果/2022-03”里的批注副本和回执，看看各单位的错误是怎样标出的。")


# ---- errors, worded for the command line ---------------------------------------------------

# The option (or argument) that gives each input an operation may refuse.
_OPTIONS = {
    Field.PERIOD: "--period", Field.FIRST_PERIOD: "--from", Field.LAST_PERIOD: "--to",
    Field.DATE: "--date", Field.RECEIVED: "--received", Field.REASON: "--reason",
    Field.ANNUAL_PLAN: "--annual-plan", Field.PLANNED_START: "--planned-start",
    Field.BATCH: "--batch", Field.VALUES: "--set", Field.PROJECT: "项目编号", Field.UNIT: "--unit",
    Field.FILES: "文件参数", Field.OUTPUT: "-o/--output", Field.TEMPLATE: "--word/--excel",
    Field.YEAR: "--year", Field.MESSAGE: "编号参数", Field.PREVIOUS: "--previous",
    Field.PROBLEM: "问题编号参数", Field.DUE: "--due", Field.PROBLEM_TYPE: "--type",
    Field.STATUS: "--status", Field.HANDLER: "--to",
}
_REMEDIES = {
    Remedy.CREATE_MASTER: "新建台账：zdxm init 台账.xlsx --year 年度。",
    Remedy.MAIL_LOGIN: "保存邮箱密码：zdxm mail login 台账.xlsx。",
    Remedy.EXIT_PROJECT: "项目退出：zdxm plan exit。",
    Remedy.PROMOTE_PROJECT: "预备项目转入实施：zdxm plan promote。",
    Remedy.LIST_FIELDS: "可用字段：zdxm bulletin --list-fields。",
    Remedy.IMPORT_BATCH: "增补请加 --batch 批次名，如 --batch 第一批增补。",
}


def describe(error: ZdxmError) -> str:
    """An error as the command line shows it: the message, the option to fix, the command
    that helps."""
    text = error.message
    option = _OPTIONS.get(error.field) if error.field is not None else None
    if option is not None:
        text += f"（{option}）"
    if error.remedy is not None:
        text += _REMEDIES[error.remedy]
    return text


# ---- running ------------------------------------------------------------------------------

_CLICK_MESSAGES = (
    ("Missing argument", "缺少参数"),
    ("Missing option", "缺少选项"),
    ("Missing command", "缺少命令"),
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
        err.print(f"[red]{escape(describe(exc))}[/red]")
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
