"""The 督办通知单 (Word, 公文 style), one per supervised unit (SPEC §4.6).

The office's template ``templates/督办通知.docx`` is built with the 简报's styles and fonts
(``tools/build_templates.py``) and rendered the same way (``bulletins.render_docx``): red
masthead, 编号, title, 主送 the unit, the 事由, the problems and projects supervised in
tables, what to do by when (时限), the office's contact, the signature and the 版记.

A template sees everything the 简报 does (``zdxm bulletin --list-fields``) and ``notice``,
the unit's ``SupervisedUnit`` (one of ``supervision.units``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.workspace import safe_name
from .bulletins import open_docx_template, render_docx
from .progress import Progress
from .supervision import SupervisedUnit

__all__ = ["NOTICE_TEMPLATE", "notice_name", "notice_context", "render_notice"]

NOTICE_TEMPLATE = "督办通知.docx"  # in templates/ (zdxm_xl.templates), beside the 简报's


def notice_name(position: int, unit: str) -> str:
    """``03_市自然资源局_督办通知单.docx``: in the order of the notices' numbers."""
    return f"{position:02d}_{safe_name(unit)}_督办通知单.docx"


def notice_context(progress: Progress, unit: SupervisedUnit, contact: str) -> dict[str, Any]:
    """What the 督办通知 template sees: the month's context, ``notice`` and ``contact``."""
    context = progress.context()
    context["notice"] = unit
    context["contact"] = contact
    return context


def render_notice(template: bytes, label: str, context: dict[str, Any], out: Path) -> None:
    render_docx(open_docx_template(template, label, "督办通知单"), context, label, "督办通知单", out)
