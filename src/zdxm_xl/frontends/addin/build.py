"""Building and installing the Excel add-in ``zdxm.xlam``: entirely in Python, on any OS.

The add-in is made from text, never edited in Excel (and never re-saved with openpyxl,
which drops the ribbon). Its sources:

- ``workbook/`` (installed with the package as ``zdxm_xl/workbook``):
  ``customUI14.xml`` — the 重大项目 tab, generated from ``ribbon.BUTTONS``
  (``python -m zdxm_xl.frontends.addin.build ribbon`` rewrites it); ``zdxm.bas`` — the one VBA callback;
  ``ThisWorkbook.cls`` and ``Sheet1.cls`` — the document modules of the add-in's workbook
  and of its one sheet (their names are the ``codeName``s in workbook.xml).
- the installed xlwings package, so the VBA always matches the Python side:
  ``xlwings_custom_addin.bas`` (RunPython for a custom add-in; its ``PROJECT_NAME`` becomes
  ``zdxm``, so the add-in reads its settings from ``%USERPROFILE%\\.zdxm\\zdxm.conf``) and
  ``addin/Dictionary.cls`` (used by that module on macOS).

The package is a plain Office Open XML zip: the workbook part typed as a macro-enabled
add-in, ``xl/vbaProject.bin`` (see ``vba``), and the ribbon part
``customUI/customUI14.xml`` related from ``_rels/.rels``. Its bytes depend only on the sources.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import locale
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from ... import __version__
from ...books.safety import atomic_write
from ...core.errors import UsageError
from .ribbon import ribbon_problems, ribbon_xml
from .vba import WORKBOOK_BASE, WORKSHEET_BASE, Module, ModuleKind, parse_module, vba_project

__all__ = ["ADDIN_FILE", "PROJECT_NAME", "BuildResult", "InstallResult", "source_dir",
           "xlwings_dir", "addin_modules", "build_addin", "install_addin", "config_path"]

ADDIN_FILE = "zdxm.xlam"
PROJECT_NAME = "zdxm"  # the VBA project, and xlwings' PROJECT_NAME: config in ~/.zdxm/zdxm.conf
SHEET_NAME = "加载项说明"
XLWINGS_MODULE = "xlwings_custom_addin.bas"
_XLWINGS_PROJECT_LINE = 'Public Const PROJECT_NAME As String = "myaddin"'
_ZIP_TIME = (2022, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same file

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
UI_RELATIONSHIP = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
VBA_RELATIONSHIP = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"


@dataclass
class BuildResult:
    path: Path
    modules: list[Module]
    xlwings_version: str


@dataclass
class InstallResult:
    addin: Path
    config: Path
    lines: list[str] = field(default_factory=list)


# ---- sources ----------------------------------------------------------------------------------

def source_dir() -> Path:
    """``workbook/``: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "workbook", here.parents[3] / "workbook"):
        if (candidate / "zdxm.bas").is_file():
            return candidate
    raise UsageError("找不到加载项的源文件（workbook 文件夹）。请重新安装 zdxm-xl。")


def xlwings_dir() -> Path:
    """The folder of the installed xlwings package (found without importing it)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("没有安装 xlwings，无法生成加载项。请运行 pip install xlwings。")
    return Path(next(iter(spec.submodule_search_locations)))


def _read(path: Path) -> str:
    if not path.is_file():
        raise UsageError(f"找不到加载项源文件“{path}”。")
    return path.read_text(encoding="utf-8")


def addin_modules() -> list[Module]:
    """Every VBA module of the add-in, as stored: ours first, then xlwings'."""
    source, xlwings = source_dir(), xlwings_dir()
    modules = [parse_module(_read(source / name), Path(name).suffix)
               for name in ("ThisWorkbook.cls", "Sheet1.cls", "zdxm.bas")]
    runner = _read(xlwings / XLWINGS_MODULE)
    if runner.count(_XLWINGS_PROJECT_LINE) != 1:
        raise UsageError(f"已安装的 xlwings 的 {XLWINGS_MODULE} 与预期不同（找不到 PROJECT_NAME），"
                         "请安装与 zdxm-xl 相配的 xlwings 版本。")
    runner = runner.replace(_XLWINGS_PROJECT_LINE,
                            f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"')
    modules.append(parse_module(runner, ".bas"))
    modules.append(parse_module(_read(xlwings / "addin" / "Dictionary.cls"), ".cls"))
    return modules


# ---- the package ------------------------------------------------------------------------------

def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body).encode("utf-8")


def _relationships(*links: tuple[str, str, str]) -> bytes:
    items = "".join(f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'
                    for rid, kind, target in links)
    return _xml(f'<Relationships xmlns="{_PKG_REL}">{items}</Relationships>')


def _inline_row(number: int, text: str) -> str:
    return (f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{escape(text)}</t></is>'
            "</c></row>")


def package_parts(ribbon: str, vba: bytes, modules: list[Module], xlwings_version: str
                  ) -> dict[str, bytes]:
    """Every part of the .xlam zip, by name."""
    books = [m for m in modules if m.kind is ModuleKind.DOCUMENT and m.base == WORKBOOK_BASE]
    sheets = [m for m in modules if m.kind is ModuleKind.DOCUMENT and m.base == WORKSHEET_BASE]
    others = [m for m in modules if m.kind is ModuleKind.DOCUMENT and m not in books + sheets]
    if len(books) != 1 or len(sheets) != 1 or others:
        raise UsageError("加载项需要且只需要两个文档模块：工作簿（ThisWorkbook）和一张工作表（Sheet1）。")
    notes = [f"重大项目 Excel 助手（zdxm-xl {__version__}）的 Excel 加载项，xlwings {xlwings_version}。",
             "由 zdxm addin build 根据源文件生成；请勿在 Excel 中修改后保存，改动请改源文件后重新生成。"]
    sheet = (f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetPr codeName="{sheets[0].name}"/>'
             f'<dimension ref="A1:A{len(notes)}"/><sheetData>'
             + "".join(_inline_row(i, text) for i, text in enumerate(notes, start=1))
             + "</sheetData></worksheet>")
    workbook = (f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr codeName="{books[0].name}"/>'
                f'<bookViews><workbookView/></bookViews><sheets><sheet name="{SHEET_NAME}" sheetId="1"'
                ' r:id="rId1"/></sheets></workbook>')
    styles = (f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><name val="等线"/>'
              '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
              '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
              '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf '
              'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
              '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles '
              'count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
    overrides = {
        "/xl/workbook.xml": ADDIN_CONTENT_TYPE,
        "/xl/worksheets/sheet1.xml":
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        "/xl/styles.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
        "/xl/vbaProject.bin": VBA_CONTENT_TYPE,
        "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
        "/docProps/app.xml": "application/vnd.openxmlformats-officedocument.extended-properties+xml",
    }
    content_types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
        + "</Types>")
    core = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>重大项目 Excel 助手'
            f'</dc:title><dc:creator>zdxm-xl {__version__}</dc:creator></cp:coreProperties>')
    app = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           "<Application>Microsoft Excel</Application></Properties>")
    return {
        "[Content_Types].xml": _xml(content_types),
        "_rels/.rels": _relationships(
            ("rId1", f"{_REL}/officeDocument", "xl/workbook.xml"),
            ("rId2", f"{_PKG_REL}/metadata/core-properties", "docProps/core.xml"),
            ("rId3", f"{_REL}/extended-properties", "docProps/app.xml"),
            ("rId4", UI_RELATIONSHIP, "customUI/customUI14.xml"),
        ),
        "docProps/core.xml": _xml(core),
        "docProps/app.xml": _xml(app),
        "customUI/customUI14.xml": ribbon.encode("utf-8"),
        "xl/workbook.xml": _xml(workbook),
        "xl/_rels/workbook.xml.rels": _relationships(
            ("rId1", f"{_REL}/worksheet", "worksheets/sheet1.xml"),
            ("rId2", f"{_REL}/styles", "styles.xml"),
            ("rId3", VBA_RELATIONSHIP, "vbaProject.bin"),
        ),
        "xl/worksheets/sheet1.xml": _xml(sheet),
        "xl/styles.xml": _xml(styles),
        "xl/vbaProject.bin": vba,
    }


def build_addin(out_dir: Path | str = ".") -> BuildResult:
    """Write ``zdxm.xlam`` into ``out_dir`` from the sources and the installed xlwings."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UsageError(f"文件夹“{out_dir}”不存在。")
    ribbon = _read(source_dir() / "customUI14.xml")
    problems = ribbon_problems(ribbon)
    if problems:
        raise UsageError("功能区定义 customUI14.xml 有误：" + "；".join(problems))
    modules = addin_modules()
    version = importlib.metadata.version("xlwings")
    parts = package_parts(ribbon, vba_project(PROJECT_NAME, modules), modules, version)
    target = out_dir / ADDIN_FILE

    def write(temp: Path) -> None:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as package:
            for name, data in parts.items():
                package.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data,
                                 compress_type=zipfile.ZIP_DEFLATED)

    try:
        atomic_write(target, write)
    except PermissionError as exc:
        raise UsageError(f"无法写入“{target}”：文件可能正被 Excel 使用。请关闭 Excel 后重试。") from exc
    return BuildResult(target, modules, version)


# ---- installing -------------------------------------------------------------------------------

def config_path(home: Path | None = None) -> Path:
    """Where the add-in's xlwings reads its settings (its PROJECT_NAME is ``zdxm``)."""
    return (home or Path.home()) / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf"


def _write_config(path: Path, settings: dict[str, str]) -> None:
    """Set ``settings`` in an xlwings config file (lines ``"KEY","value"``), keeping others.

    VBA reads the file in the system's ANSI code page, as xlwings' own ``config create``
    writes it, so a Chinese user folder in the interpreter's path stays readable."""
    encoding = locale.getpreferredencoding(False)
    lines: list[str] = []
    if path.is_file():
        lines = path.read_text(encoding=encoding, errors="replace").splitlines()
    kept = [line for line in lines
            if line.split(",", 1)[0].strip().strip('"').upper() not in settings]
    kept += [f'"{key}","{value}"' for key, value in settings.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    # CRLF: VBA's ``Input #`` reads the file line by line the Windows way.
    atomic_write(path, lambda temp: temp.write_text("\n".join(kept) + "\n", encoding=encoding,
                                                    newline="\r\n"))


def install_addin(xlstart: Path | None = None, home: Path | None = None,
                  platform: str = sys.platform, python: str = sys.executable) -> InstallResult:
    """Windows: build the add-in into Excel's startup folder (XLSTART, a trusted location
    Excel loads add-ins from at start) and point it at this Python. Elsewhere: explain."""
    if not platform.startswith("win"):
        raise UsageError(
            "Excel 加载项只能安装在 Windows 版 Excel 中，本机无法安装。请在办公电脑（Windows）上：\n"
            "  1. 安装 Python 3.11 及以上版本和 zdxm-xl（步骤见 docs/addin.md）；\n"
            "  2. 关闭所有 Excel 窗口后运行 zdxm addin install；\n"
            "  3. 重新打开 Excel，打开台账，即可看到“重大项目”选项卡。\n"
            "也可以运行 zdxm addin build 生成 zdxm.xlam，拷到办公电脑后在 Excel 的"
            "“开发工具 → Excel 加载项 → 浏览”中加载。WPS 不支持本加载项，请使用 zdxm 命令。")
    if xlstart is None:
        appdata = os.environ.get("APPDATA")
        if not appdata:
            raise UsageError("找不到 Excel 的启动文件夹（环境变量 APPDATA 未设置）。")
        xlstart = Path(appdata) / "Microsoft" / "Excel" / "XLSTART"
    xlstart.mkdir(parents=True, exist_ok=True)
    built = build_addin(xlstart)
    config = config_path(home)
    _write_config(config, {"INTERPRETER_WIN": python, "ADD_WORKBOOK_TO_PYTHONPATH": "False"})
    result = InstallResult(built.path, config)
    result.lines += [f"已安装加载项：{built.path}",
                     f"已配置 Python 解释器：{python}（设置文件 {config}）",
                     "请重新启动 Excel，打开台账，点击“重大项目”选项卡上的按钮。"]
    dll = f"xlwings{'64' if sys.maxsize > 2**32 else '32'}-{built.xlwings_version}.dll"
    folder = Path(python).parent
    if not any((place / dll).is_file() for place in (folder, folder.parent)):
        result.lines.append(f"注意：在 {folder} 及其上一级没有找到 {dll}，Excel 可能无法调用 Python。"
                            "请运行 pip install --force-reinstall xlwings 后再安装一次。")
    return result


def write_ribbon() -> Path:
    """Regenerate ``workbook/customUI14.xml`` from ``addin.BUTTONS`` (for developers)."""
    path = source_dir() / "customUI14.xml"
    path.write_text(ribbon_xml(), encoding="utf-8")
    return path


if __name__ == "__main__":  # python -m zdxm_xl.frontends.addin.build ribbon
    if sys.argv[1:] == ["ribbon"]:
        print(f"已更新 {write_ribbon()}")
    else:
        sys.exit("用法：python -m zdxm_xl.frontends.addin.build ribbon")
