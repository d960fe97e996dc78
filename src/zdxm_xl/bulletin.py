"""The monthly 简报 (Word) and 通报 (Excel), and their PDF (SPEC §5).

``make_bulletin`` computes the ``Progress`` of a 报告期, renders the office's Word template
with docxtpl (autoescape on: a project called ``A&B<C>`` comes through as written instead of
silently breaking the document) and fills the Excel template (``xltemplate``), and, asked
for, converts the 简报 to PDF with LibreOffice or Word.

期数: the 简报's number continues from 设置 — 简报期数 holds the last number issued and
已出简报 records which 报告期 got which number. A rerun for a 报告期 that already has a
number reuses it (correcting a 简报 does not burn a number); a new 报告期 takes the next
number. The master is written once, and only when a number was newly taken — after both
files are written.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

from .books.masterio import MasterStore, as_store
from .books.safety import atomic_write
from .core.cells import parse_period
from .core.errors import UsageError
from .reports.progress import (
    Progress,
    compute_progress,
    field_reference,
    format_bulletin_log,
    parse_bulletin_log,
)

__all__ = ["WORD_TEMPLATE", "EXCEL_TEMPLATE", "BulletinResult", "make_bulletin", "template_fields",
           "word_name", "excel_name", "default_template", "to_pdf", "PDF_TIMEOUT"]

WORD_TEMPLATE = "简报.docx"  # the templates' names in templates/ (zdxm_xl.templates)
EXCEL_TEMPLATE = "通报.xlsx"
PDF_TIMEOUT = 180  # seconds: a first LibreOffice start with a fresh profile takes ~10 s
TEMPLATE_PACKAGE = "zdxm_xl.templates"
CHART_WIDTH_MM = 150


@dataclass
class BulletinResult:
    period: str
    issue: int
    new_issue: bool  # the number was newly taken (and saved in 设置)
    docx: Path
    xlsx: Path
    progress: Progress
    pdf: Path | None = None
    pdf_problem: str | None = None  # why no PDF was made, in Chinese

    def as_json(self) -> dict[str, Any]:
        return {"period": self.period, "issue": self.issue, "new_issue": self.new_issue,
                "docx": str(self.docx), "xlsx": str(self.xlsx),
                "pdf": str(self.pdf) if self.pdf else None, "pdf_problem": self.pdf_problem}


def word_name(year: int, issue: int) -> str:
    return f"重大项目建设简报_{year}年第{issue}期.docx"


def excel_name(period: str) -> str:
    return f"重大项目推进情况通报_{period}.xlsx"


def template_fields() -> list[tuple[str, str, str]]:
    """Every field a template may use (path, kind, meaning), from the context model."""
    from .reports.charts import CHARTS

    rows = field_reference()
    rows += [(f"charts.{name}", "图片", meaning) for name, meaning in CHARTS.items()]
    rows.append(("loop.index", "整数",
                 "循环中的序号（1、2、3……）：Word 的 {% for %} 和 Excel 的列表行都可用"))
    return rows


def default_template(name: str) -> bytes:
    """A template shipped with the package (the repository's ``templates/`` folder)."""
    try:
        return (files(TEMPLATE_PACKAGE) / name).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise UsageError(f"找不到内置模板“{name}”，安装可能不完整，请重新安装 zdxm-xl。") from exc


def _template_bytes(given: Path | str | None, default: str, suffix: str) -> tuple[bytes, str]:
    if given is None:
        return default_template(default), default
    path = Path(given)
    if path.suffix.lower() != suffix:
        raise UsageError(f"模板“{path.name}”应为 {suffix} 文件。")
    if not path.is_file():
        raise UsageError(f"模板文件“{path}”不存在。")
    return path.read_bytes(), path.name


def make_bulletin(master_store: MasterStore | Path | str, period: str,
                  out_dir: Path | str | None = None, *, word_template: Path | str | None = None,
                  excel_template: Path | str | None = None, pdf: bool = False,
                  issued: date | None = None) -> BulletinResult:
    """Write the 简报 and 通报 of ``period`` into ``out_dir`` (default: 设置的输出目录)."""
    try:
        period = parse_period(period)
    except ValueError as exc:
        raise UsageError(f"报告期“{period}”无效，请写成 2022-03 的形式。") from exc
    word_bytes, word_label = _template_bytes(word_template, WORD_TEMPLATE, ".docx")
    excel_bytes, excel_label = _template_bytes(excel_template, EXCEL_TEMPLATE, ".xlsx")
    store = as_store(master_store)
    with store.session():
        master = store.load()
        log = parse_bulletin_log(master.settings.bulletin_log)
        new_issue = period not in log
        issue = log.get(period, master.settings.bulletin_issue + 1)
        progress = compute_progress(master, period, issue, issued)
        folder = Path(out_dir) if out_dir is not None else Path(master.settings.output_dir)
        if not folder.is_absolute() and out_dir is None:
            folder = store.folder / folder
        folder.mkdir(parents=True, exist_ok=True)
        docx = folder / word_name(master.year, issue)
        xlsx = folder / excel_name(period)
        atomic_write(docx, lambda temp: render_word(word_bytes, word_label, progress, temp))
        atomic_write(xlsx, lambda temp: render_excel(excel_bytes, excel_label, progress, temp))
        if new_issue:
            log[period] = issue
            master.settings.bulletin_log = format_bulletin_log(log)
            master.settings.bulletin_issue = max(master.settings.bulletin_issue, issue)
            store.save(master)
    result = BulletinResult(period, issue, new_issue, docx, xlsx, progress)
    if pdf:
        result.pdf, result.pdf_problem = to_pdf(docx)
    return result


def _dash_for_none(value: Any) -> Any:
    return "—" if value is None else value


def render_word(template: bytes, label: str, progress: Progress, out: Path) -> None:
    """Render the 简报 template with the progress context (and its charts) into ``out``."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import StrictUndefined, TemplateError, UndefinedError
    from jinja2.sandbox import SandboxedEnvironment

    from .reports.charts import draw_charts

    try:
        document = DocxTemplate(io.BytesIO(template))
        document.init_docx()
    except Exception as exc:  # python-docx raises many kinds for a file that is not a .docx
        raise UsageError(f"简报模板“{label}”无法打开（{type(exc).__name__}），请确认是 .docx 文件。") \
            from exc
    environment = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined,
                                       finalize=_dash_for_none)
    with tempfile.TemporaryDirectory(prefix="zdxm-charts-") as scratch:
        charts = draw_charts(progress, Path(scratch))
        context = progress.context()
        context["charts"] = {name: InlineImage(document, str(path), width=Mm(CHART_WIDTH_MM))
                             for name, path in charts.items()}
        try:
            document.render(context, jinja_env=environment, autoescape=True)
        except UndefinedError as exc:
            raise UsageError(f"简报模板“{label}”用了不存在的字段（{exc}）。"
                             "可用字段见 zdxm bulletin --list-fields。") from exc
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            raise UsageError(f"简报模板“{label}”的标记有误：{exc}"
                             + (f"（第{line}行）" if line else "")
                             + "。请检查 {{ }}、{% %} 是否成对、是否写在同一段文字中。") from exc
        document.save(str(out))


def render_excel(template: bytes, label: str, progress: Progress, out: Path) -> None:
    from .reports.xltemplate import fill_workbook

    with tempfile.TemporaryDirectory(prefix="zdxm-xl-") as scratch:
        source = Path(scratch) / label
        source.write_bytes(template)
        fill_workbook(source, progress.context(), out)


# ---- PDF -----------------------------------------------------------------------------------

def _soffice() -> str | None:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    candidates = [Path(os.environ.get(v, "")) / "LibreOffice" / "program" / "soffice.exe"
                  for v in ("ProgramFiles", "ProgramFiles(x86)") if os.environ.get(v)]
    candidates.append(Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"))
    return next((str(c) for c in candidates if c.is_file()), None)


# Where the 公文 fonts are missing (a Linux server, CI), LibreOffice would set every Chinese
# character in one sans font; the free Noto CJK fonts stand in, serif for 仿宋/楷体/宋体/小标宋.
# Installed fonts always win: these are fontconfig aliases, consulted only for missing ones.
FONT_STAND_INS = {"仿宋": "Noto Serif CJK SC", "仿宋_GB2312": "Noto Serif CJK SC",
                  "楷体": "Noto Serif CJK SC", "楷体_GB2312": "Noto Serif CJK SC",
                  "宋体": "Noto Serif CJK SC", "方正小标宋简体": "Noto Serif CJK SC",
                  "黑体": "Noto Sans CJK SC"}


def _font_config(folder: Path) -> dict[str, str]:
    """Environment for LibreOffice on Linux: the system's fontconfig plus the stand-ins."""
    if not sys.platform.startswith("linux"):
        return {}
    base = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    aliases = "".join(f"<alias binding=\"same\"><family>{font}</family><prefer><family>{stand_in}"
                      "</family></prefer></alias>" for font, stand_in in FONT_STAND_INS.items())
    config = folder / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><include ignore_missing="yes">{base}'
                      f"</include>{aliases}</fontconfig>\n", encoding="utf-8")
    return {"FONTCONFIG_FILE": str(config)}


def _with_libreoffice(soffice: str, docx: Path, target: Path, timeout: int) -> str | None:
    """Convert with a private profile folder (a running LibreOffice, or another conversion,
    cannot block this one); the process group is killed on timeout."""
    with tempfile.TemporaryDirectory(prefix="zdxm-lo-") as scratch:
        profile = Path(scratch) / "profile"
        outdir = Path(scratch) / "out"
        command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                   "--norestore", "--nologo", "--convert-to", "pdf", "--outdir", str(outdir),
                   str(docx)]
        kwargs: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE,
                                  "env": {**os.environ, **_font_config(Path(scratch))}}
        if sys.platform != "win32":
            kwargs["start_new_session"] = True
        process = subprocess.Popen(command, **kwargs)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            if sys.platform != "win32":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.communicate()
            return f"LibreOffice 转换超过 {timeout} 秒未完成，已中止"
        produced = outdir / f"{docx.stem}.pdf"
        if process.returncode != 0 or not produced.is_file():
            detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return f"LibreOffice 转换失败（退出码 {process.returncode}）{detail[0]}"
        atomic_write(target, lambda temp: shutil.copyfile(produced, temp))
    return None


def _with_word(docx: Path, target: Path) -> str | None:
    try:
        from docx2pdf import convert  # Windows and macOS, through Microsoft Word
    except ImportError:
        return "未安装 docx2pdf"
    try:
        convert(str(docx), str(target))
    except Exception as exc:  # Word automation fails in many ways (not installed, dialogs)
        return f"Word 转换失败（{type(exc).__name__}）"
    return None if target.is_file() else "Word 未生成 PDF"


def to_pdf(docx: Path, timeout: int = PDF_TIMEOUT) -> tuple[Path | None, str | None]:
    """``docx`` → a PDF beside it, through Word (Windows/macOS) or LibreOffice.
    Returns (pdf, None), or (None, why not) in Chinese."""
    target = docx.with_suffix(".pdf")
    problems = []
    if sys.platform in ("win32", "darwin"):
        problem = _with_word(docx, target)
        if problem is None:
            return target, None
        problems.append(problem)
    soffice = _soffice()
    if soffice is not None:
        problem = _with_libreoffice(soffice, docx, target, timeout)
        if problem is None:
            return target, None
        problems.append(problem)
    else:
        problems.append("未找到 LibreOffice")
    return None, ("未能生成 PDF：" + "；".join(problems) + "。请安装 LibreOffice（免费）或在装有 "
                  "Microsoft Word 的电脑上运行，也可以用 Word/WPS 打开简报后“另存为 PDF”。")
