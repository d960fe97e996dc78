"""The 简报's charts, drawn with matplotlib in a CJK font that comes with the package.

The font is Noto Sans CJK SC from the ``mplfonts`` wheel on PyPI (SIL Open Font License),
loaded from the installed package by file, so no system font is needed and the charts look
the same on the office's Windows PC, a Linux server and CI. Figures are drawn with the
object-oriented API (no pyplot state), so drawing is safe inside the Excel add-in.

Values are turned into floats only as plot coordinates; no sum or rounding happens here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..core.errors import ZdxmError
from .progress import Group, Progress

__all__ = ["CHARTS", "cjk_font_file", "draw_charts"]

FONT_PACKAGE, FONT_FILE = "mplfonts", "NotoSansCJKsc-Regular.otf"
# chart name in the template (charts.NAME) → what it shows, for the field reference
CHARTS = {
    "counties": "图片（仅 Word）：各县区投资完成率柱状图（按预警着色）与时序进度线",
    "sectors": "图片（仅 Word）：分行业年度计划投资与本年累计完成投资对比柱状图（亿元）",
}
BAR_COLORS = {"绿": "#5B9B45", "黄": "#E6A817", "红": "#D9342B", None: "#7F7F7F"}
PLAN_COLOR, DONE_COLOR, LINE_COLOR = "#9DC3E6", "#2E75B6", "#C00000"
DPI = 200
_family: str | None = None


def cjk_font_file() -> Path:
    try:
        path = Path(str(files(FONT_PACKAGE) / "fonts" / FONT_FILE))
    except ModuleNotFoundError as exc:
        raise ZdxmError("缺少图表用的中文字体包 mplfonts，请重新安装 zdxm-xl（pip install zdxm-xl）。") \
            from exc
    if not path.is_file():
        raise ZdxmError(f"中文字体文件 {FONT_FILE} 不在 mplfonts 包中，请重新安装 mplfonts。")
    return path


def _font() -> str:
    """Register the packaged font with matplotlib once; return its family name."""
    global _family
    if _family is None:
        from matplotlib import font_manager

        path = cjk_font_file()
        font_manager.fontManager.addfont(str(path))
        _family = font_manager.FontProperties(fname=str(path)).get_name()
    return _family


def _figure(width_mm: float, height_mm: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=DPI)
    axes = figure.subplots()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#D9D9D9", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _label(name: str, width: int = 4) -> str:
    """A short axis label: without a parenthetical (阳和工业新区（北部生态新区） → 阳和工业新区),
    wrapped every ``width`` characters so neighbouring labels do not overlap."""
    name = re.sub(r"（[^）]*）|\([^)]*\)", "", name) or name
    return "\n".join(name[i:i + width] for i in range(0, len(name), width))


def _counties(progress: Progress, path: Path) -> Path:
    groups: list[Group] = progress.counties
    figure, axes = _figure(160, 42)
    positions = range(len(groups))
    rates = [float(g.rate) if g.rate is not None else 0.0 for g in groups]
    bars = axes.bar(positions, rates, width=0.62, color=[BAR_COLORS[g.flag] for g in groups])
    for bar, group in zip(bars, groups, strict=True):
        axes.annotate("—" if group.rate is None else f"{group.rate}", (bar.get_x() + bar.get_width() / 2,
                      bar.get_height()), ha="center", va="bottom", fontsize=6.5,
                      xytext=(0, 1.5), textcoords="offset points")
    benchmark = float(progress.benchmark)
    axes.axhline(benchmark, color=LINE_COLOR, linewidth=1.2, linestyle="--",
                 label=f"时序进度 {progress.benchmark}%")
    axes.set_xticks(list(positions), [_label(g.name) for g in groups], fontsize=6.5)
    axes.set_ylabel("投资完成率（%）", fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_ylim(0, max([benchmark, *rates, 1.0]) * 1.18)
    axes.set_xlim(-0.6, max(len(groups), 1) - 0.4)
    axes.legend(fontsize=7, frameon=False, loc="upper right")
    figure.tight_layout(pad=0.4)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def _sectors(progress: Progress, path: Path) -> Path:
    groups: list[Group] = progress.sectors
    figure, axes = _figure(160, 68)
    width = 0.36
    planned = [float(g.annual_plan_yi) for g in groups]
    done = [float(g.year_completed_yi) for g in groups]
    left = [i - width / 2 for i in range(len(groups))]
    right = [i + width / 2 for i in range(len(groups))]
    for xs, values, color, label, figures in (
            (left, planned, PLAN_COLOR, "年度计划投资", [g.annual_plan_yi for g in groups]),
            (right, done, DONE_COLOR, "本年累计完成投资", [g.year_completed_yi for g in groups])):
        bars = axes.bar(xs, values, width=width, color=color, label=label)
        for bar, figure_text in zip(bars, figures, strict=True):
            axes.annotate(f"{figure_text}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          ha="center", va="bottom", fontsize=7, xytext=(0, 1.5),
                          textcoords="offset points")
    axes.set_xticks(list(range(len(groups))), [g.name for g in groups], fontsize=8.5)
    axes.set_ylabel("亿元", fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_ylim(0, max([*planned, *done, 1.0]) * 1.15)
    axes.legend(fontsize=7.5, frameon=False, loc="upper right")
    figure.tight_layout(pad=0.4)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def draw_charts(progress: Progress, folder: Path,
                names: Iterable[str] | None = None) -> dict[str, Path]:
    """Draw the charts ``names`` (default: every chart of ``CHARTS``) into ``folder``;
    name → PNG file."""
    from matplotlib import rc_context

    wanted = set(CHARTS if names is None else names) & set(CHARTS)
    if not wanted:
        return {}
    family = _font()
    folder.mkdir(parents=True, exist_ok=True)
    drawers = {"counties": _counties, "sectors": _sectors}
    with rc_context({"font.family": family, "axes.unicode_minus": False}):
        return {name: drawers[name](progress, folder / f"{name}.png") for name in sorted(wanted)}
