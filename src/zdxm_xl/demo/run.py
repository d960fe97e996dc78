"""``zdxm demo``: a whole month of the office's work on the embedded Liuzhou sample.

The demo creates a master from the sample, builds January and February in the ledger from
plausible returns (so March's month-over-month checks are real), then runs March as the
office would: templates for every 牵头单位; returns from most units, realistic mistakes in
a few, one unit late and one never reporting; checking with annotated copies and 回执; a
corrected resubmission; the merge; 报送情况; and the bulletins where they are available.

Problems travel through it as they do in an office (docs/问题督办.md): January's and
February's returns raise them into 问题台帐; after February the office gives each to a
协调责任单位 with a 办理时限 (January's by the end of March, February's by the end of
April); March's forms carry the open ones in their 问题跟踪 sheet, where units report
progress and solve some; the office closes one itself; and on 4月8日 the items still open
past their 时限 — with the 红 and overdue projects — become 督办通知单.
Everything is deterministic: the same templates (byte for byte), returns, ledger, findings
and documents every run; only the times files were written differ (the master's and a
document's own, and the backups named by them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..books.masterio import FileStore, create_master
from ..checks.returns import collect_files
from ..core.errors import Field, UsageError
from ..core.returns import StatusReport
from ..core.workspace import Workspace
from ..forms import make_forms
from ..merge import merge_files
from ..notices import make_notices
from ..problems import Assignment, assign_problems, close_problem, list_problems
from ..reports.forms import form_name
from ..reports.pdf import to_pdf
from ..reports.writers import write_each
from ..status import report_status
from ..validate import ValidationRun, validate_files
from .fill import FillJob, fill_form, fill_job
from .sample import SAMPLE_SEED, SAMPLE_YEAR, build_sample

__all__ = ["DemoResult", "run_demo", "MARCH_MISTAKES"]

MASTER_NAME = "重大项目台账.xlsx"
# March's units, by position in the list of 牵头单位: what each one does wrong.
MARCH_MISTAKES: dict[int, tuple[str, str]] = {
    0: ("year_mismatch", "本年累计与上月累计加本月完成对不上（之后改正重报）"),
    1: ("text_amount", "在金额栏里写了“约500”"),
    2: ("start_without_date", "填了已开工却没填开工时间"),
    3: ("last_month", "用上个月的模板填报"),
    4: ("other_unit", "改动了模板中的单位信息"),
    7: ("huge_amount", "本月完成投资按“元”填写（5000万元填成了50000000）"),
}
LATE_UNIT = 5  # reports on 4月8日, after the 截止日 (4月5日)
SILENT_UNIT = 6  # never reports
Progress = Callable[[str, int, int], None]


@dataclass
class DemoResult:
    folder: Path
    master: Path
    workspace: Workspace  # where the office's folders are: the demo uses them as the office does
    steps: list[tuple[str, str, Path]] = field(default_factory=list)  # 步骤, 结果, 位置
    validation: ValidationRun | None = None
    status: StatusReport | None = None
    outputs: dict[str, Path] = field(default_factory=dict)


def _quiet(_: str, __: int, ___: int) -> None:
    return None


def run_demo(folder: Path | str, progress: Progress = _quiet) -> DemoResult:
    """Build the demo workspace in ``folder`` (new or empty) and run January to March."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"文件夹“{folder}”已存在且不为空。请指定一个新的文件夹，以免覆盖其中的文件。",
                         field=Field.OUTPUT, value=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    master_path = folder / MASTER_NAME
    progress("建立台账（内置柳州市2022年计划）", 0, 1)
    sample = build_sample()
    # The demo's office key is fixed, so that every run signs the same forms and gives the
    # same files, ledger and figures. A real master gets a random key (zdxm init).
    sample.secret = hashlib.sha256(f"zdxm-demo-{SAMPLE_SEED}".encode()).hexdigest()
    sample.settings.mail_contact = "项目科 韦工，0772-2809000"  # in every 回执 (a made-up number)
    master = create_master(master_path, SAMPLE_YEAR, sample)
    result = DemoResult(folder, master_path, Workspace(folder, master.settings))
    result.steps.append(("建立台账", "实施项目 668 个、预备项目 287 个、责任单位 56 个", master_path))
    for month, label in (("2022-01", "1月"), ("2022-02", "2月")):
        _ordinary_month(result, month, label, progress)
    _assign_problems(result, progress)
    _march(result, progress)
    return result


# Who the office gives each type of problem to (a 征地拆迁 problem goes to the project's 县区).
HANDLERS = {"用地": "市自然资源和规划局", "规划": "市自然资源和规划局", "环评": "市生态环境局",
            "资金": "市发展改革委", "水电路气": "市住房城乡建设局", "审批手续": "市住房城乡建设局",
            "其他": "市发展改革委"}
ASSIGNED_ON = datetime(2022, 3, 10, 9, 0)
DUE = {"2022-01": date(2022, 3, 31), "2022-02": date(2022, 4, 30)}
OFFICE = "项目科 韦工"


def _assign_problems(result: DemoResult, progress: Progress) -> None:
    """After February's merge the office gives every open problem to a 协调责任单位, with a
    办理时限 by the month it was raised."""
    progress("问题台帐：交办", 0, 1)
    master = FileStore(result.master).load()
    counties = {p.id: p.county or "" for p in master.projects}
    units = [u.name for u in master.units]
    waiting = list_problems(result.master, "2022-02", "待交办", ASSIGNED_ON.date()).items
    assignments = []
    for item in waiting:
        handler = HANDLERS.get(item.type.value, "市自然资源和规划局")
        if item.type == "征地拆迁":
            county = counties.get(item.project_id, "")
            handler = next((u for u in units if county and u.startswith(county[:3])), handler)
        assignments.append(Assignment(item.id, handler, DUE[item.opened]))
    assign_problems(result.master, assignments, OFFICE, now=ASSIGNED_ON)
    result.steps.append(("问题交办", f"1—2月报送的 {len(waiting)} 个问题明确了协调责任单位和办理时限",
                         result.master))


def _templates(result: DemoResult, period: str) -> list[Path]:
    return make_forms(result.master, period, issued=datetime(int(period[:4]),
                                                             int(period[5:]), 25)).files


def _ordinary_month(result: DemoResult, period: str, label: str, progress: Progress) -> None:
    templates = _templates(result, period)
    inbox = result.workspace.inbox_for(period)
    _fill_all([(template, inbox / template.name, hash_seed(period, number), ())
               for number, template in enumerate(templates)], f"{label}：各单位填报", progress)
    progress(f"{label}：校验并合并", 0, 1)
    month = int(period[5:])
    merged = merge_files(result.master, [inbox], period,
                         received=datetime(SAMPLE_YEAR, month + 1, 3, 10, 0),
                         now=datetime(SAMPLE_YEAR, month + 1, 6, 9, 0))
    result.steps.append((f"{label}月报", f"{len(merged.merged)} 个单位报送并合并", inbox))


def _fill_all(jobs: list[FillJob], label: str, progress: Progress) -> None:
    """The units fill their templates at once — this process and the writers kept from
    writing the templates (``reports.writers``): each return depends on its own template
    and seed only, so the result is the same as one after another."""
    progress(label, 0, len(jobs))
    write_each(fill_job, None, jobs)


def hash_seed(period: str, number: int) -> int:
    """A fixed seed per (period, unit position): the same returns every run."""
    return int(period.replace("-", "")) * 1000 + number


def _march(result: DemoResult, progress: Progress) -> None:
    period, label = "2022-03", "3月"
    templates = _templates(result, period)
    result.steps.append(("3月模板", f"为 {len(templates)} 个牵头单位生成填报模板",
                         templates[0].parent))
    inbox = result.workspace.inbox_for(period)
    late_inbox = result.workspace.inbox / f"{period}（逾期）"
    february = result.workspace.forms("2022-02")
    jobs: list[FillJob] = []
    for number, template in enumerate(templates):
        if number == SILENT_UNIT:
            continue
        target = (late_inbox if number == LATE_UNIT else inbox) / template.name
        mistake = MARCH_MISTAKES.get(number, ("", ""))[0]
        seed = hash_seed(period, number)
        if mistake == "last_month":
            unit = template.name.split("_")[1]
            jobs.append((february / form_name("2022-02", unit), target, seed, ()))
        else:
            jobs.append((template, target, seed, (mistake,) if mistake else ()))
    _fill_all(jobs, f"{label}：各单位填报", progress)
    progress(f"{label}：校验", 0, 1)
    annotated = result.workspace.annotated(period)
    # Most returns arrive on 4月3日 and are checked the next day, so a unit with errors can
    # still correct them by the 截止日 (4月5日); the late unit's file comes on 4月8日.
    on_time, late = datetime(2022, 4, 3, 16, 30), datetime(2022, 4, 8, 9, 0)
    result.validation = validate_files(result.master, [inbox], period, annotate_copies=True,
                                       today=date(2022, 4, 4), received=on_time)
    result.validation.files += validate_files(result.master, [late_inbox], period,
                                              annotate_copies=True, today=date(2022, 4, 8),
                                              received=late).files
    failed = [r for r in result.validation.reports if not r.valid]
    result.steps.append(("3月校验", f"收到 {len(result.validation.reports)} 份，"
                                   f"{len(failed)} 份有错误，已写出批注副本和回执", annotated))
    progress(f"{label}：合并", 0, 1)
    # The unit whose 本年累计 did not add up reads its 回执 and sends a corrected file.
    corrected_unit = templates[0]
    corrected = fill_form(corrected_unit, result.workspace.inbox / f"{period}（更正）"
                          / corrected_unit.name, seed=hash_seed(period, 0)).path
    files = collect_files([inbox]) + [corrected] + collect_files([late_inbox])
    arrived = {path: on_time for path in files}
    arrived[corrected] = datetime(2022, 4, 5, 11, 0)
    arrived.update({path: late for path in collect_files([late_inbox])})
    merged = merge_files(result.master, files, period, received=arrived,
                         now=datetime(2022, 4, 8, 10, 0))
    result.steps.append(("3月合并", f"合并 {len(merged.merged)} 份（含 1 份更正重报、1 份逾期），"
                                   f"{len(merged.rejected)} 份未通过未合并", result.master))
    _close_one(result)
    # LibreOffice makes the 简报's PDF (in a process of its own) while the notices and the
    # 报送情况 are made
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zdxm-demo-pdf") as pdf:
        bulletin = _bulletin(result, period, progress, pdf)
        _notices(result, period, progress)
        result.status = status = report_status(FileStore(result.master), period)
        result.steps.append(("3月报送情况", f"应报 {len(status.units)} 个单位；未报送 {len(status.missing)}、"
                                         f"逾期 {len(status.late)}、未通过 {len(status.rejected)}",
                             result.master))
        bulletin()  # the PDF, if LibreOffice is still at it


def _close_one(result: DemoResult) -> None:
    """The office closes one overdue problem itself, on hearing it was solved."""
    listed = list_problems(result.master, "2022-03", "办理中", date(2022, 4, 6)).items
    overdue = [item for item in listed if item.overdue]
    if overdue:
        close_problem(result.master, overdue[0].id, date(2022, 4, 6),
                      "协调会后已解决，责任单位电话报告", OFFICE, now=datetime(2022, 4, 6, 15, 0))


def _notices(result: DemoResult, period: str, progress: Progress) -> None:
    """督办通知单 of 4月8日: problems past their 时限 or open since January, 红 and overdue
    projects, one notice per responsible unit."""
    progress("3月：督办通知单", 0, 1)
    made = make_notices(result.master, period, issued=date(2022, 4, 8),
                        now=datetime(2022, 4, 8, 11, 0))
    supervision = made.supervision
    assert supervision is not None
    result.outputs["督办通知"] = made.folder
    late = [n for n in made.notices if n.problems]
    result.steps.append(("3月督办", f"{len(made.notices)} 个单位各一份督办通知单（其中 {len(late)} 个单位有"
                                   f"逾期或久拖未决的问题 {supervision.problem_count} 个）",
                         made.folder))


def _bulletin(result: DemoResult, period: str, progress: Progress,
              pdf: ThreadPoolExecutor) -> Callable[[], None]:
    """The 简报 and 通报 of the month; their PDF (where LibreOffice or Word is present) is
    made by ``pdf`` meanwhile: the step is noted by the function returned, once it is."""
    from ..bulletin import make_bulletin

    progress("3月：生成简报和通报", 0, 1)
    made = make_bulletin(result.master, period, issued=date(2022, 4, 8))
    converting = pdf.submit(to_pdf, made.docx)
    result.outputs.update({"简报": made.docx, "通报": made.xlsx})
    place = len(result.steps)

    def noted() -> None:
        made.pdf, made.pdf_problem = converting.result()
        note = f"第 {made.issue} 期简报和通报"
        if made.pdf is not None:  # listed after the 通报, as the steps are
            listed = list(result.outputs.items())
            at = list(result.outputs).index("通报") + 1
            result.outputs = dict([*listed[:at], ("简报PDF", made.pdf), *listed[at:]])
            note += "（含 PDF）"
        elif made.pdf_problem:
            note += f"（未生成 PDF：{made.pdf_problem}）"
        result.steps.insert(place, ("3月简报", note, made.docx.parent))

    return noted
