"""PDF of a Word document, through Microsoft Word (Windows, macOS) or LibreOffice.

Where the 公文 fonts are missing (a Linux server, CI), LibreOffice is given a fontconfig
chain for each (``FONT_CHAINS``): the Windows names, then the free Noto CJK SC fonts;
installed fonts always win.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..books.safety import atomic_write

__all__ = ["PDF_TIMEOUT", "FONT_CHAINS", "FONT_STAND_INS", "font_config", "to_pdf", "to_pdfs"]

PDF_TIMEOUT = 180  # seconds: a first LibreOffice start with a fresh profile takes ~10 s
_SECONDS_PER_MORE = 30  # and each further document of the same run


def _soffice() -> str | None:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    candidates = [Path(os.environ.get(v, "")) / "LibreOffice" / "program" / "soffice.exe"
                  for v in ("ProgramFiles", "ProgramFiles(x86)") if os.environ.get(v)]
    candidates.append(Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"))
    return next((str(c) for c in candidates if c.is_file()), None)


# The 公文 fonts, each with what stands in where it is missing: the other common names of
# the same face (Windows has 仿宋 rather than 仿宋_GB2312), then the free Noto CJK fonts —
# the Simplified Chinese faces, serif for 仿宋/楷体/宋体/小标宋 and sans for 黑体 — and
# Liberation Serif (metric-compatible) for Times New Roman. These are fontconfig <accept>
# aliases: the named font first, so an installed font always wins over its stand-ins.
FONT_CHAINS: dict[str, tuple[str, ...]] = {
    "方正小标宋简体": ("方正小标宋_GBK", "华文中宋", "宋体", "SimSun", "Noto Serif CJK SC"),
    "方正小标宋_GBK": ("方正小标宋简体", "华文中宋", "宋体", "SimSun", "Noto Serif CJK SC"),
    "仿宋_GB2312": ("仿宋", "FangSong", "Noto Serif CJK SC"),
    "仿宋": ("仿宋_GB2312", "FangSong", "Noto Serif CJK SC"),
    "楷体_GB2312": ("楷体", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"),
    "楷体": ("楷体_GB2312", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"),
    "黑体": ("SimHei", "Noto Sans CJK SC"),
    "宋体": ("SimSun", "Noto Serif CJK SC"),
    "Times New Roman": ("Liberation Serif",),
}
FONT_STAND_INS = {font: chain[-1] for font, chain in FONT_CHAINS.items()}  # the last resort


def font_config(folder: Path) -> dict[str, str]:
    """Environment for LibreOffice on Linux: the system's fontconfig plus the chains."""
    if not sys.platform.startswith("linux"):
        return {}
    base = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    aliases = "".join(
        f'<alias binding="same"><family>{font}</family><accept>'
        + "".join(f"<family>{name}</family>" for name in chain)
        + "</accept></alias>" for font, chain in FONT_CHAINS.items())
    config = folder / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><include ignore_missing="yes">{base}'
                      f"</include>{aliases}</fontconfig>\n", encoding="utf-8")
    return {"FONTCONFIG_FILE": str(config)}


def _with_libreoffice(soffice: str, docxs: Sequence[Path], timeout: int
                      ) -> tuple[list[Path], str | None]:
    """Convert ``docxs`` in one LibreOffice run (starting it is most of what a conversion
    costs), with a private profile folder (a running LibreOffice, or another conversion,
    cannot block this one); the process group is killed on timeout. The PDFs made (beside
    their documents), and why any is missing."""
    with tempfile.TemporaryDirectory(prefix="zdxm-lo-") as scratch:
        profile = Path(scratch) / "profile"
        outdir = Path(scratch) / "out"
        command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                   "--norestore", "--nologo", "--convert-to", "pdf", "--outdir", str(outdir),
                   *(str(docx) for docx in docxs)]
        kwargs: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE,
                                  "env": {**os.environ, **font_config(Path(scratch))}}
        if sys.platform != "win32":
            kwargs["start_new_session"] = True
        else:  # started from Excel: no console window flashes up
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        process = subprocess.Popen(command, **kwargs)
        limit = timeout + _SECONDS_PER_MORE * (len(docxs) - 1)
        try:
            _, stderr = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            if sys.platform != "win32":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.communicate()
            return [], f"LibreOffice 转换超过 {limit} 秒未完成，已中止"
        made = []
        for docx in docxs:
            produced = outdir / f"{docx.stem}.pdf"
            if produced.is_file():
                target = docx.with_suffix(".pdf")
                atomic_write(target, partial(shutil.copyfile, produced))
                made.append(target)
        if len(made) == len(docxs):
            return made, None
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        missing = len(docxs) - len(made)
        which = "" if len(docxs) == 1 else f"{missing} 个文件"
        return made, f"LibreOffice 转换{which}失败（退出码 {process.returncode}）{detail[0]}"


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
    made, problem = to_pdfs([docx], timeout)
    return (made[0] if made else None), problem


def to_pdfs(docxs: Sequence[Path], timeout: int = PDF_TIMEOUT) -> tuple[list[Path], str | None]:
    """Each of ``docxs`` → a PDF beside it: through Word one by one (Windows/macOS), and
    what Word did not convert all in one LibreOffice run. Returns the PDFs made, and — when
    any is missing — why, in Chinese."""
    left = list(docxs)
    made: list[Path] = []
    problems = []
    if left and sys.platform in ("win32", "darwin"):
        while left:
            target = left[0].with_suffix(".pdf")
            problem = _with_word(left[0], target)
            if problem is not None:
                problems.append(problem)
                break
            made.append(target)
            left.pop(0)
    if not left:
        return made, None
    soffice = _soffice()
    if soffice is not None:
        converted, problem = _with_libreoffice(soffice, left, timeout)
        made += converted
        if problem is None:
            return made, None
        problems.append(problem)
    else:
        problems.append("未找到 LibreOffice")
    return made, ("未能生成 PDF：" + "；".join(problems) + "。请安装 LibreOffice（免费）或在装有 "
                  "Microsoft Word 的电脑上运行，也可以用 Word/WPS 打开文件后“另存为 PDF”。")
