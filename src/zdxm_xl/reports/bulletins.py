"""The 简报 (Word) and 通报 (Excel) written from the office's templates (SPEC §5).

The Word template is rendered with docxtpl (autoescape on: a project called ``A&B<C>``
comes through as written instead of silently breaking the document) with the charts of the
month; the Excel template is filled by ``xltemplate``. Templates live in the repository's
``templates/`` folder, installed as ``zdxm_xl.templates``; the office may give its own.
"""

from __future__ import annotations

import functools
import io
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..core.errors import Field, Remedy, UsageError
from .numbers import FILTER_HELP, FILTERS
from .progress import Progress, field_reference

__all__ = ["WORD_TEMPLATE", "EXCEL_TEMPLATE", "TEMPLATE_PACKAGE", "word_name", "excel_name",
           "template_fields", "default_template", "template_bytes", "render_word", "render_excel",
           "open_docx_template", "render_docx"]

WORD_TEMPLATE = "简报.docx"  # the templates' names in templates/ (zdxm_xl.templates)
EXCEL_TEMPLATE = "通报.xlsx"
TEMPLATE_PACKAGE = "zdxm_xl.templates"
CHART_WIDTH_MM = 150


def word_name(year: int, issue: int) -> str:
    return f"重大项目建设简报_{year}年第{issue}期.docx"


def excel_name(period: str) -> str:
    return f"重大项目推进情况通报_{period}.xlsx"


def template_fields() -> list[tuple[str, str, str]]:
    """Every field a template may use (path, kind, meaning), from the context model."""
    from .charts import CHARTS

    rows = field_reference()
    rows += [(f"charts.{name}", "图片", meaning) for name, meaning in CHARTS.items()]
    rows.append(("loop.index", "整数",
                 "循环中的序号（1、2、3……）：Word 的 {% for %} 和 Excel 的列表行都可用"))
    rows += [(f"|{name}", "格式", meaning) for name, meaning in FILTER_HELP]
    return rows


def default_template(name: str) -> bytes:
    """A template shipped with the package (the repository's ``templates/`` folder)."""
    try:
        return (files(TEMPLATE_PACKAGE) / name).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise UsageError(f"找不到内置模板“{name}”，安装可能不完整，请重新安装 zdxm-xl。",
                         field=Field.TEMPLATE, value=name) from exc


def template_bytes(given: Path | str | None, default: str, suffix: str) -> tuple[bytes, str]:
    if given is None:
        return default_template(default), default
    path = Path(given)
    if path.suffix.lower() != suffix:
        raise UsageError(f"模板“{path.name}”应为 {suffix} 文件。", field=Field.TEMPLATE,
                         value=str(path))
    if not path.is_file():
        raise UsageError(f"模板文件“{path}”不存在。", field=Field.TEMPLATE, value=str(path))
    return path.read_bytes(), path.name


def _dash_for_none(value: Any) -> Any:
    return "—" if value is None else value


def render_word(template: bytes, label: str, progress: Progress, out: Path) -> None:
    """Render the 简报 template with the progress context (and its charts) into ``out``;
    then every table's columns are set from what went into it (``tablefit``)."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    from .charts import CHARTS, draw_charts

    document = open_docx_template(template, label, "简报")
    with tempfile.TemporaryDirectory(prefix="zdxm-charts-") as scratch:
        # Only the charts the template shows are drawn (drawing takes most of a second).
        xml = document.get_xml()
        used = [name for name in CHARTS if f"charts.{name}" in xml]
        if "charts" in xml.replace("charts.", "") and not used:
            used = list(CHARTS)  # the template reaches the charts some other way
        charts = draw_charts(progress, Path(scratch), used)
        context = progress.context()
        context["charts"] = {name: InlineImage(document, str(path), width=Mm(CHART_WIDTH_MM))
                             for name, path in charts.items()}
        render_docx(document, context, label, "简报", out)


def open_docx_template(template: bytes, label: str, what: str) -> Any:
    """A Word template (docxtpl) from its bytes; ``UsageError`` naming it when it is not a
    .docx. ``what`` is the document's name in messages (简报, 督办通知单)."""
    from docxtpl import DocxTemplate

    try:
        document = DocxTemplate(io.BytesIO(template))
        document.init_docx()
    except Exception as exc:  # python-docx raises many kinds for a file that is not a .docx
        raise UsageError(f"{what}模板“{label}”无法打开（{type(exc).__name__}），请确认是 .docx 文件。",
                         field=Field.TEMPLATE, value=label) from exc
    return document


def render_docx(document: Any, context: dict[str, Any], label: str, what: str, out: Path) -> None:
    """Render an opened Word template with ``context`` (sandboxed, autoescaped, the number
    filters, ``—`` for a missing value) into ``out``, then fit its tables (``tablefit``).
    A template that names a field the context lacks, or whose tags are broken, is a
    ``UsageError`` saying so."""
    from jinja2 import TemplateError, UndefinedError

    from .tablefit import fit_tables

    try:
        document.render(context, jinja_env=_environment(), autoescape=True)
    except UndefinedError as exc:
        raise UsageError(f"{what}模板“{label}”用了不存在的字段（{exc}）。", field=Field.TEMPLATE,
                         value=label, remedy=Remedy.LIST_FIELDS) from exc
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise UsageError(f"{what}模板“{label}”的标记有误：{exc}"
                         + (f"（第{line}行）" if line else "")
                         + "。请检查 {{ }}、{% %} 是否成对、是否写在同一段文字中。",
                         field=Field.TEMPLATE, value=label) from exc
    fit_tables(document.docx)
    document.save(str(out))


@functools.cache
def _environment() -> Any:
    """The sandbox Word templates are rendered in (autoescaped, strict, the number
    filters), one per process: each part of a template is compiled once however often it
    is rendered (a batch of 督办通知单 renders one template for tens of units)."""
    from jinja2 import StrictUndefined, Template
    from jinja2.sandbox import SandboxedEnvironment

    class Compiling(SandboxedEnvironment):
        """Compiles a source it compiled before no second time (the source is the
        template: the same text, the same compiled template)."""

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self.compiled: dict[str, Template] = {}

        def from_string(self, source: Any, globals: Any = None,  # noqa: A002 (jinja2's name)
                        template_class: Any = None) -> Template:
            if globals is not None or template_class is not None or not isinstance(source, str):
                return super().from_string(source, globals, template_class)
            found = self.compiled.get(source)
            if found is None:
                if len(self.compiled) >= _MOST_COMPILED:
                    self.compiled.clear()
                found = self.compiled[source] = super().from_string(source)
            return found

    environment = Compiling(autoescape=True, undefined=StrictUndefined, finalize=_dash_for_none)
    environment.filters.update(FILTERS)
    return environment


_MOST_COMPILED = 64  # template parts kept compiled (a template has a few: body, header …)


def render_excel(template: bytes, label: str, progress: Progress, out: Path) -> None:
    """Fill the 通报 template with the progress context into ``out``."""
    from .xltemplate import fill_workbook

    with tempfile.TemporaryDirectory(prefix="zdxm-xl-") as scratch:
        source = Path(scratch) / label
        source.write_bytes(template)
        fill_workbook(source, progress.context(), out)


