"""The Excel add-in: the built zdxm.xlam read back by independent readers, the ribbon checked
against the button table, and every handler run through xlwings' remote engine on Linux."""

from __future__ import annotations

import ast
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import olefile
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checking_office import UNIT, build_master
from conftest import run_zdxm, small_master
from xlremote import actions, apply_actions, book_payload, written_tables
from zdxm_xl.books.livebook import BookStore, excel_cell
from zdxm_xl.books.masterio import create_master, load_master, save_master
from zdxm_xl.core.errors import MasterBusyError
from zdxm_xl.core.master import new_master
from zdxm_xl.core.registry import LEDGER, SUBMISSIONS, SUMMARY, UNITS
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.frontends.addin import handlers as addin
from zdxm_xl.frontends.addin.build import (
    ADDIN_CONTENT_TYPE,
    PROJECT_NAME,
    UI_RELATIONSHIP,
    addin_modules,
    build_addin,
    config_path,
    install_addin,
    source_dir,
    xlwings_dir,
)
from zdxm_xl.frontends.addin.handlers import dispatch
from zdxm_xl.frontends.addin.ribbon import (
    BUTTONS,
    CALLBACK,
    GROUPS,
    NO_WORKBOOK_MESSAGE,
    TITLE,
    ribbon_problems,
    ribbon_xml,
)
from zdxm_xl.frontends.addin.vba import CLASS_BASE, ModuleKind, compress, parse_module
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name

with warnings.catch_warnings():  # oletools calls pyparsing names that now warn on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Project, decompress_stream

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "zdxm_xl"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


# ---- the built add-in --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("addin")).path


def vba_bin(xlam: Path) -> bytes:
    with zipfile.ZipFile(xlam) as package:
        return package.read("xl/vbaProject.bin")


def read_back(xlam: Path) -> tuple[VBA_Project, dict[str, str]]:
    """The VBA project parsed by olevba in strict mode (any unexpected value raises)."""
    ole = olefile.OleFileIO(vba_bin(xlam), raise_defects=olefile.DEFECT_UNSURE)
    project = VBA_Project(ole, "", "PROJECT", "VBA/dir", relaxed=False)
    project.parse_project_stream()
    sources = {Path(name).stem: code for _, name, code in project.parse_modules()}
    return project, sources


def test_the_package_is_a_macro_enabled_addin_with_its_ribbon(built: Path) -> None:
    with zipfile.ZipFile(built) as package:
        names = package.namelist()
        types = ElementTree.fromstring(package.read("[Content_Types].xml"))
        rels = ElementTree.fromstring(package.read("_rels/.rels"))
        book_rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
        workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
        sheet = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))
        ribbon = package.read("customUI/customUI14.xml").decode("utf-8")
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT}Override")}
    assert overrides["/xl/workbook.xml"] == ADDIN_CONTENT_TYPE
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    ui = [r for r in rels.iter(f"{RELS}Relationship") if r.get("Type") == UI_RELATIONSHIP]
    assert [r.get("Target") for r in ui] == ["customUI/customUI14.xml"]
    assert "customUI/customUI14.xml" in names
    assert ribbon == (source_dir() / "customUI14.xml").read_text(encoding="utf-8")
    assert any(r.get("Target") == "vbaProject.bin" for r in book_rels.iter(f"{RELS}Relationship"))
    # The document modules are the codeNames of the workbook and of its one sheet.
    documents = {m.name for m in addin_modules() if m.kind is ModuleKind.DOCUMENT}
    codenames = {workbook.find(f"{MAIN}workbookPr").get("codeName"),
                 sheet.find(f"{MAIN}sheetPr").get("codeName")}
    assert codenames == documents == {"ThisWorkbook", "Sheet1"}


def test_olefile_reads_the_vba_project_without_complaint(built: Path) -> None:
    ole = olefile.OleFileIO(vba_bin(built), raise_defects=olefile.DEFECT_UNSURE)
    assert ole.parsing_issues == []
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
    streams = {"/".join(entry) for entry in ole.listdir()}
    expected = {f"VBA/{m.name}" for m in addin_modules()}
    assert streams == expected | {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"}


def test_every_module_reads_back_exactly_as_it_went_in(built: Path) -> None:
    project, sources = read_back(built)
    modules = addin_modules()
    assert sources == {m.name: m.source for m in modules}
    assert all(module.textoffset == 0 for module in project.modules)  # source only, no p-code
    assert project.codepage == 1252 and project.syskind == 3
    assert [(r, project.module_ext[r.lower()]) for r in sources] == [
        ("ThisWorkbook", "cls"), ("Sheet1", "cls"), ("ZdxmRibbon", "bas"), ("xlwings", "bas"),
        ("Dictionary", "cls")]
    # What went in: our callback as written, and xlwings' own module with our project name.
    ours = (source_dir() / "zdxm.bas").read_text(encoding="utf-8")
    assert sources["ZdxmRibbon"] == ours.replace("\r\n", "\n").replace("\n", "\r\n")
    theirs = (xlwings_dir() / "xlwings_custom_addin.bas").read_text(encoding="utf-8")
    assert sources["xlwings"] == theirs.replace(
        'PROJECT_NAME As String = "myaddin"', f'PROJECT_NAME As String = "{PROJECT_NAME}"'
    ).replace("\n", "\r\n")
    assert len(sources["xlwings"]) > 40_000  # many compressed chunks
    # A class module keeps its code; the .cls export header gives way to stored attributes.
    exported = (xlwings_dir() / "addin" / "Dictionary.cls").read_text(encoding="utf-8")
    assert "VERSION 1.0 CLASS" not in sources["Dictionary"]
    assert f'Attribute VB_Base = "{CLASS_BASE}"' in sources["Dictionary"]
    code = exported.split('Attribute VB_Description', 1)[1]
    assert sources["Dictionary"].endswith(code.replace("\r\n", "\n").replace("\n", "\r\n"))


def decrypt(hex_text: str, project_id: str) -> bytes:
    """MS-OVBA 2.4.3.3, written independently of the encoder."""
    raw = bytes.fromhex(hex_text)
    seed, version, key = raw[0], raw[1] ^ raw[0], raw[2] ^ raw[0]
    assert version == 2 and key == sum(project_id.encode()) & 0xFF
    plain, last_plain, enc1, enc2 = [], key, raw[2], raw[1]
    for byte in raw[3:]:
        value = byte ^ ((enc2 + last_plain) & 0xFF)
        plain.append(value)
        enc2, enc1, last_plain = enc1, byte, value
    ignored = (seed & 6) // 2
    length = struct.unpack("<I", bytes(plain[ignored:ignored + 4]))[0]
    data = bytes(plain[ignored + 4:])
    assert len(data) == length
    return data


def test_the_project_is_unprotected_visible_and_named(built: Path) -> None:
    ole = olefile.OleFileIO(vba_bin(built))
    text = ole.openstream("PROJECT").read().decode("cp1252")
    values = dict(re.findall(r'^(\w+)="?([^"\r\n]*)"?\r$', text, re.M))
    assert values["Name"] == PROJECT_NAME
    assert decrypt(values["CMG"], values["ID"]) == bytes(4)  # not protected
    assert decrypt(values["DPB"], values["ID"]) == b"\x00"  # no password
    assert decrypt(values["GC"], values["ID"]) == b"\xff"  # visible
    assert "Document=ThisWorkbook/&H00000000" in text and "Class=Dictionary" in text


def test_building_twice_gives_the_same_bytes(built: Path, tmp_path: Path) -> None:
    assert build_addin(tmp_path).path.read_bytes() == built.read_bytes()


@pytest.mark.soffice
def test_libreoffice_sees_the_basic_modules(built: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "ods", "--outdir", str(tmp_path),
         str(built)], capture_output=True, text=True, timeout=240)
    converted = tmp_path / "zdxm.ods"
    assert converted.exists(), result.stdout + result.stderr
    with zipfile.ZipFile(converted) as ods:
        basic = {name for name in ods.namelist() if name.startswith("Basic/")}
        module = ods.read(f"Basic/{PROJECT_NAME}/ZdxmRibbon.xml").decode("utf-8")
    assert {f"Basic/{PROJECT_NAME}/{m.name}.xml" for m in addin_modules()} <= basic
    assert "Public Sub OnButton(control As IRibbonControl)" in module


# ---- compression --------------------------------------------------------------------------------

def _text(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = [b"Dim ", b"As String", b"\r\n", b"    ", b"End If", b"RunPython ", b"x", b"=", b"1",
             b"If ", b"Then", b"'comment ", b"ChrW(&H8BF7)"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words)
    return bytes(out[:size])


@pytest.mark.parametrize("size", [0, 1, 2, 3, 16, 17, 4095, 4096, 4097, 8192, 8193, 40_000, 123_457])
def test_compression_round_trips_through_oletools(size: int) -> None:
    data = _text(size, size)
    assert bytes(decompress_stream(bytearray(compress(data)))) == data


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="Dim x=1'\r\n ()&\"", max_size=13_000))
def test_compression_round_trips_any_source_text(text: str) -> None:
    data = text.encode("ascii")
    assert bytes(decompress_stream(bytearray(compress(data)))) == data


@pytest.mark.parametrize("name", ["xlwings_custom_addin.bas", "addin/WebHelpers.bas", "addin/Remote.bas"])
def test_xlwings_sources_round_trip(name: str) -> None:
    data = (xlwings_dir() / name).read_bytes()
    packed = compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert len(packed) < len(data) / 2


def test_incompressible_chunks_are_stored_raw() -> None:
    data = random.Random(7).randbytes(8192)
    packed = compress(data)
    assert struct.unpack("<H", packed[1:3])[0] == 0x3FFF  # flag 0: a raw 4096-byte chunk
    assert bytes(decompress_stream(bytearray(packed))) == data


def test_long_runs_use_long_copy_tokens() -> None:
    data = b"'" + b"-" * 4095 + b"\r\n" * 2000
    packed = compress(data)
    assert len(packed) < 60
    assert bytes(decompress_stream(bytearray(packed))) == data


# ---- module sources ----------------------------------------------------------------------------

def test_cls_header_becomes_stored_attributes() -> None:
    text = ("VERSION 1.0 CLASS\nBEGIN\n  MultiUse = -1  'True\nEND\nAttribute VB_Name = \"Thing\"\n"
            "Attribute VB_Exposed = True\nOption Explicit\n")
    module = parse_module(text, ".cls")
    assert module.kind is ModuleKind.CLASS and module.name == "Thing"
    assert module.source.split("\r\n")[:9] == [
        'Attribute VB_Name = "Thing"', f'Attribute VB_Base = "{CLASS_BASE}"',
        "Attribute VB_GlobalNameSpace = False", "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = False", "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False", "Option Explicit"]
    with pytest.raises(ValueError):
        parse_module("Option Explicit\n", ".bas")


def test_the_callback_module_is_ascii_and_its_message_is_the_pythons() -> None:
    text = (source_dir() / "zdxm.bas").read_text(encoding="utf-8")
    assert text.isascii()
    assert 'Attribute VB_Name = "ZdxmRibbon"' in text
    assert "Public Sub OnButton(control As IRibbonControl)" in text
    assert CALLBACK == "ZdxmRibbon.OnButton"
    assert ("""RunPython "import zdxm_xl.frontends.addin.handlers as a; """
            """a.dispatch('" & control.Id & "')\"""") in text
    encoded = re.findall(r'U\(("[0-9A-F ]+"(?:\s*&\s*_\s*"[0-9A-F ]+")*)\)', text)
    decoded = ["".join(chr(int(code, 16)) for part in re.findall(r'"([0-9A-F ]+)"', group)
                       for code in part.split()) for group in encoded]
    assert decoded == [NO_WORKBOOK_MESSAGE, TITLE]


# ---- the ribbon ---------------------------------------------------------------------------------

def test_the_committed_ribbon_is_generated_from_the_button_table() -> None:
    committed = (ROOT / "workbook" / "customUI14.xml").read_text(encoding="utf-8")
    assert committed == ribbon_xml(), \
        "运行 python -m zdxm_xl.frontends.addin.build ribbon 更新 customUI14.xml"


def test_ribbon_lint() -> None:
    text = (ROOT / "workbook" / "customUI14.xml").read_text(encoding="utf-8")
    root = ElementTree.fromstring(text.encode("utf-8"))  # well-formed
    tabs = root.findall(f".//{UI}tab")
    assert [t.get("label") for t in tabs] == ["重大项目"]
    groups = root.findall(f".//{UI}group")
    assert [g.get("label") for g in groups] == ["计划", "月报", "问题督办", "简报", "帮助"]
    buttons = root.findall(f".//{UI}button")
    assert {b.get("onAction") for b in buttons} == {CALLBACK}
    assert {b.get("id") for b in buttons} == {b.id for b in BUTTONS}  # button ↔ handler
    for element in buttons:
        assert re.search(r"[\u4e00-\u9fff]", element.get("label", "")), element.get("id")
        assert element.get("screentip") and element.get("supertip") and element.get("imageMso")
    assert ribbon_problems(text) == []
    assert {g.label for g in GROUPS} == {"计划", "月报", "问题督办", "简报", "帮助"}
    assert len({b.id for b in BUTTONS}) == len(BUTTONS)
    assert all(b.group in GROUPS for b in BUTTONS)
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids)), ids  # Office refuses a ribbon with a repeated id


def test_ribbon_problems_are_found() -> None:
    bad = ribbon_xml().replace(f'onAction="{CALLBACK}"', 'onAction="Other"', 1)
    bad = bad.replace('id="zdxmHelp" label="帮助" size', 'id="zdxmNobody" label="帮助" size')
    problems = ribbon_problems(bad)
    assert "按钮 zdxmImportPlan 的 onAction 应为 ZdxmRibbon.OnButton" in problems
    assert "按钮 zdxmNobody 不在按钮表中" in problems
    assert "按钮表中的 zdxmHelp 不在功能区中" in problems
    assert ribbon_problems("<customUI")[0].startswith("customUI14.xml 不是合格的 XML")


def excel_control_ids() -> set[str]:
    text = (ROOT / "workbook" / "excel-control-ids.txt").read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def test_every_icon_is_an_excel_control() -> None:
    known = excel_control_ids()
    assert len(known) > 1500 and {"FileSaveAsPdfOrXps", "RefreshAll", "DataValidation"} <= known
    assert [b.image for b in BUTTONS if b.image not in known] == []
    # ids of other Office programs that once stood here are not Excel's
    assert not {"ImportExcel", "ExportExcel", "AcceptInvitation", "TableInsert",
                "ReviewTrackChanges"} & known


def test_the_docs_describe_every_button() -> None:
    page = (ROOT / "docs" / "addin.md").read_text(encoding="utf-8")
    for button in BUTTONS:
        assert f"| {button.label} | {button.supertip} |" in page, button.id
    assert "WPS" in page and "zdxm addin install" in page


# ---- the command --------------------------------------------------------------------------------

def test_addin_build_command(tmp_path: Path) -> None:
    result = run_zdxm("addin", "build", "-o", tmp_path)
    assert result.code == 0, result.stderr
    assert "已生成加载项" in result.stdout and (tmp_path / "zdxm.xlam").is_file()
    missing = run_zdxm("addin", "build", "-o", tmp_path / "没有这个文件夹")
    assert missing.code == 2 and "不存在" in missing.stderr


@pytest.mark.skipif(sys.platform.startswith("win"), reason="explains only where Excel add-ins do not run")
def test_addin_install_elsewhere_explains_what_to_do() -> None:
    result = run_zdxm("addin", "install")
    assert result.code == 2
    assert "Windows" in result.stderr and "zdxm addin install" in result.stderr and "WPS" in result.stderr


def test_install_on_windows_puts_the_addin_in_xlstart_and_configures_python(tmp_path: Path) -> None:
    home, xlstart = tmp_path / "home", tmp_path / "XLSTART"
    config = config_path(home)
    config.parent.mkdir(parents=True)
    config.write_text('"SHOW CONSOLE","True"\n"INTERPRETER_WIN","C:\\old\\python.exe"\n')
    python = str(tmp_path / "venv" / "Scripts" / "python.exe")
    result = install_addin(xlstart, home, platform="win32", python=python)
    assert result.addin == xlstart / "zdxm.xlam" and result.addin.is_file()
    assert config.read_text().splitlines() == [
        '"SHOW CONSOLE","True"', f'"INTERPRETER_WIN","{python}"', '"ADD_WORKBOOK_TO_PYTHONPATH","False"']
    assert config.read_bytes().count(b"\r\n") == 3  # VBA reads it line by line, Windows-style
    assert any("没有找到 xlwings" in line for line in result.lines)  # no DLL beside that python


# ---- xlwings stays out of the core -------------------------------------------------------------

def test_only_the_addin_module_imports_xlwings() -> None:
    importers = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "xlwings" or n.startswith("xlwings.") for n in names):
                importers.append(path.relative_to(SRC).as_posix())
    assert set(importers) == {"frontends/addin/handlers.py"}


def test_every_module_imports_without_xlwings() -> None:
    script = (
        "import importlib, pkgutil, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'xlwings' or name.startswith('xlwings.'):\n"
        "            raise ImportError('xlwings is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import zdxm_xl\n"
        "names = [m.name for m in pkgutil.walk_packages(zdxm_xl.__path__, 'zdxm_xl.')\n"
        "         if not m.name.endswith('__main__')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "assert 'xlwings' not in sys.modules\n"
        "print(len(names))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 20


# ---- handlers, through xlwings' remote engine ----------------------------------------------------

@pytest.fixture
def xw(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """xlwings with its remote engine (PolyForm Noncommercial, for these tests only); the
    working folder is tmp_path, where the payload's workbook file lives."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(addin, "LOG_FILE", tmp_path / "zdxm-addin.log")
    import xlwings

    if "remote" not in [engine.name for engine in xlwings.engines]:
        from xlwings.pro import _xlremote

        xlwings.engines.add(xlwings.Engine(impl=_xlremote.engine))
    yield xlwings
    books = xlwings.engines["remote"].apps.active.books
    for book in list(books):
        book.close()


def open_book(xw: Any, path: Path) -> Any:
    return xw.Book(json=book_payload(path))


@dataclass
class FakeUi:
    """Stands in for Excel's dialogs where the remote engine has none."""

    files: list[Path] = field(default_factory=list)
    alerts: list[tuple[str, bool]] = field(default_factory=list)
    statuses: list[str | None] = field(default_factory=list)

    def alert(self, text: str, *, error: bool = False) -> None:
        self.alerts.append((text, error))

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def choose_files(self, title: str) -> list[Path]:
        return self.files


def alerts(book: Any) -> list[tuple[str, str]]:
    """(text, mode) of every message box the handler asked Excel to show."""
    return [(a["args"][0], a["args"][3]) for a in actions(book, "alert")]


def with_period(path: Path, period: str | None = "2022-03") -> Path:
    master = load_master(path)
    master.settings.current_period = period
    save_master(master, path)
    return path


def test_refresh_summary_rewrites_a_stale_summary_once(xw: Any, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    payload = book_payload(path)
    summary = next(s for s in payload["sheets"] if s["name"] == SUMMARY.sheet)
    summary["values"][1][2] = 99  # someone typed over the count of 实施项目合计
    book = xw.Book(json=payload)
    message = dispatch("zdxmRefreshSummary", book)
    assert message is not None and message.startswith("已刷新“汇总”工作表：实施项目 3 项，总投资 1.58 亿元")
    header = [excel_cell(title) for title in SUMMARY.titles]
    assert written_tables(book) == [header]  # the 汇总 table only; its words were current
    tables = [a for a in actions(book, "setValues") if a["values"][0] == header]
    assert len(tables) == 1 and len(tables[0]["values"]) == 1 + 25
    assert tables[0]["values"][1][2] == 3
    assert actions(book, "addTable") == []  # a new master has its 汇总 table already
    assert alerts(book) == [(message, "info")]


def test_a_current_summary_is_not_rewritten(xw: Any, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    assert run_zdxm("plan", "summary", path, "--write").code == 0  # table + a merged note
    book = open_book(xw, path)
    dispatch("zdxmRefreshSummary", book)
    assert [a["func"] for a in actions(book)] == ["alert"]


def test_stale_summary_words_are_rewritten_in_one_unmerged_cell(xw: Any, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    payload = book_payload(path)
    summary = next(s for s in payload["sheets"] if s["name"] == SUMMARY.sheet)
    summary["values"][0][len(SUMMARY.columns) + 1] = "旧的说明"
    book = xw.Book(json=payload)
    dispatch("zdxmRefreshSummary", book)
    assert [a["func"] for a in actions(book)] == ["rangeUnmerge", "setValues", "alert"]


def test_merge_writes_each_changed_table_once_and_matches_the_command(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    template = make_forms(path, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25)).files[0]
    fill_form(template, tmp_path / "收件" / "2022-03" / "交通.xlsx", seed=1)
    twin = tmp_path / "twin" / "台账.xlsx"  # the same master, merged by the command
    twin.parent.mkdir()
    shutil.copy(path, twin)
    payload = book_payload(path)
    book = xw.Book(json=payload)
    message = dispatch("zdxmMerge", book)
    assert message == "\n".join(["合并 1 个，重复 0 个，未通过 0 个。", f"已合并：{UNIT}（4 个项目）",
                                 addin.SAVE_REMINDER])
    assert alerts(book) == [(message, "info")]
    written = [a["values"][0] for a in actions(book, "setValues")]
    assert written == [[excel_cell(t) for t in spec.titles] for spec in (LEDGER, SUBMISSIONS)]
    assert len(actions(book, "resizeTable")) == 2
    assert (tmp_path / "归档" / "2022-03" / UNIT).is_dir()
    assert load_master(path).ledger == load_master(twin).ledger  # the file was not touched
    # The book, after Excel applied those writes, holds what the command writes to a file.
    merge_files(twin, [tmp_path / "收件" / "2022-03"], "2022-03")
    after = BookStore(xw.Book(json=apply_actions(payload, actions(book)))).load()
    expected = load_master(twin)
    assert after.ledger == expected.ledger
    keep = {"received_at", "processed_at"}
    assert [s.model_dump(exclude=keep) for s in after.submissions] == \
        [s.model_dump(exclude=keep) for s in expected.submissions]
    assert after.projects == expected.projects


def test_validate_writes_annotated_copies_and_never_the_book(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    template = make_forms(path, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25)).files[0]
    fill_form(template, tmp_path / "收件" / "好.xlsx", seed=1)
    fill_form(template, tmp_path / "收件" / "坏.xlsx", seed=2, mistakes=("negative",))
    book = open_book(xw, path)
    message = dispatch("zdxmValidate", book)
    assert message is not None and "共 2 个文件：通过 1 个，未通过 1 个" in message
    assert "坏.xlsx" in message
    assert actions(book, "setValues") == []
    annotated = tmp_path / "输出" / "校验结果" / "2022-03"
    assert len(list(annotated.glob("*_校验结果.xlsx"))) == 2


def test_templates_for_the_current_period(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    book = open_book(xw, path)
    message = dispatch("zdxmTemplates", book)
    out = tmp_path / "输出" / "模板" / "2022-03"
    assert (out / form_name("2022-03", UNIT)).is_file()
    assert message == f"已生成 2022-03 填报模板 2 个，位于：\n{out}"
    assert actions(book, "setValues") == []


def test_status_lists_who_has_not_reported(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    book = open_book(xw, path)
    message = dispatch("zdxmStatus", book)
    assert message is not None and message.startswith("2022-03 报送情况（截止 2022-04-05）：应报 2 个单位")
    assert f"未报送（2）：{UNIT}、市工业和信息化局" in message


def test_import_plan_through_the_file_dialog(xw: Any, tmp_path: Path) -> None:
    source = tmp_path / "源" / "台账.xlsx"
    source.parent.mkdir()
    create_master(source, 2022, small_master())
    plan = tmp_path / "计划表.xlsx"
    run = run_zdxm("plan", "export", source, "-o", plan)
    assert run.code == 0, run.stderr
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, new_master(2022))
    book = open_book(xw, path)
    ui = FakeUi(files=[plan])
    message = dispatch("zdxmImportPlan", book, ui)
    assert message is not None and message.startswith("已导入实施项目 3 个、预备项目 1 个。")
    assert ui.alerts == [(message, False)]
    assert ui.statuses[-1] is None and any("正在导入" in (s or "") for s in ui.statuses)
    tables = [(a["sheet_position"], a["values"][0][0]) for a in actions(book, "setValues")]
    # one write per changed table — 实施, 预备, 单位, 变更 — and the 汇总 derived from them
    assert len(tables) == len(set(tables)) == 6
    assert excel_cell(SUMMARY.titles[0]) in [header for _, header in tables]
    assert excel_cell(UNITS.titles[0]) in [header for _, header in tables]
    cancelled = FakeUi(files=[])
    assert dispatch("zdxmImportPlan", open_book(xw, path), cancelled) is None
    assert cancelled.alerts == []


def test_export_plan_into_the_output_folder(xw: Any, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    message = dispatch("zdxmExportPlan", open_book(xw, path))
    out = tmp_path / "输出" / "2022年重大项目计划附表.xlsx"
    assert message is not None and str(out) in message
    assert openpyxl.load_workbook(out).sheetnames == ["附表1", "附表2"]


def test_settings_and_help(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    book = open_book(xw, path)
    message = dispatch("zdxmSettings", book)
    assert message is not None and f"收件目录：{tmp_path / '收件'}" in message
    assert [a["args"] for a in actions(book, "activateSheet")] == [[0]]
    plain = tmp_path / "别的.xlsx"
    openpyxl.Workbook().save(plain)
    help_text = dispatch("zdxmHelp", open_book(xw, plain))  # no master needed
    assert help_text is not None
    for button in BUTTONS:
        if button.id != "zdxmHelp":
            assert f"【{button.label}】" in help_text


# ---- failures are Chinese message boxes ---------------------------------------------------------

def test_a_missing_period_is_explained(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"), None)
    book = open_book(xw, path)
    message = dispatch("zdxmTemplates", book)
    assert message == "还没有填写当前报告期。\n请在“设置”工作表填写“当前报告期”（如 2022-03），再点此按钮。"
    assert alerts(book) == [(message, "critical")]
    assert actions(book, "setValues") == []


def test_a_workbook_that_is_not_a_master_is_refused(xw: Any, tmp_path: Path) -> None:
    path = build_master(tmp_path / "台账.xlsx")
    template = make_forms(path, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25)).files[0]
    book = open_book(xw, template)
    message = dispatch("zdxmRefreshSummary", book)
    assert message is not None and message.startswith(f"当前工作簿“{template.name}”不是台账")
    assert alerts(book) == [(message, "critical")]


def test_a_missing_inbox_is_explained(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    message = dispatch("zdxmMerge", open_book(xw, path))
    assert message == (f"收件目录“{tmp_path / '收件'}”不存在。请把各单位报送的文件放进这个文件夹，"
                       "或在“设置”工作表修改“收件目录”。\n请检查所选文件，或“设置”工作表中的“收件目录”。")


def test_an_unexpected_error_is_a_message_not_a_traceback(xw: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())

    def broken(ctx: addin.Context) -> str:
        raise RuntimeError("出故障了")

    monkeypatch.setitem(addin.HANDLERS, "zdxmRefreshSummary", broken)
    book = open_book(xw, path)
    message = dispatch("zdxmRefreshSummary", book)
    assert message is not None and message.startswith("程序内部错误：RuntimeError：出故障了")
    assert "Traceback" not in message
    assert "RuntimeError" in (tmp_path / "zdxm-addin.log").read_text(encoding="utf-8")
    assert alerts(book) == [(message, "critical")]
    unknown = dispatch("zdxmNoSuchButton", open_book(xw, path))
    assert unknown is not None and unknown.startswith("未知的按钮“zdxmNoSuchButton”")


def test_a_read_only_book_is_not_written() -> None:
    book = SimpleNamespace(name="台账.xlsx", api=SimpleNamespace(ReadOnly=True))
    with pytest.raises(MasterBusyError, match="以只读方式打开"):
        BookStore(book).session()
    assert BookStore(SimpleNamespace(name="台账.xlsx", api={})).session() is not None


# ---- the gateway over a live book ----------------------------------------------------------------

def test_a_shrinking_table_clears_its_old_rows_in_the_same_write(xw: Any, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    payload = book_payload(path)
    book = xw.Book(json=payload)
    store = BookStore(book)
    master = store.load()
    master.units = master.units[:3]
    store.save(master)
    writes = actions(book, "setValues")
    assert [w["values"][0][0] for w in writes] == [excel_cell(UNITS.titles[0])]  # only 责任单位
    assert len(writes[0]["values"]) == 1 + 5 and writes[0]["values"][-1] == [""] * len(UNITS.columns)
    assert actions(book, "resizeTable")[0]["args"][1] == "$A$1:$" + \
        openpyxl.utils.get_column_letter(len(UNITS.columns)) + "$4"
    again = BookStore(xw.Book(json=apply_actions(payload, actions(book)))).load()
    assert [u.name for u in again.units] == [u.name for u in master.units]


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("2022-03", "'2022-03"), ("001", "'001"),
    ("柳州市", "柳州市"), ("TRUE", "'TRUE"), ("", ""), (None, None),
])
def test_strings_stay_text_in_excel(value: Any, cell: Any) -> None:
    assert excel_cell(value) == cell


def test_money_goes_to_excel_as_the_number_it_is() -> None:
    from decimal import Decimal

    assert excel_cell(Decimal("10000.50")) == 10000.5
    assert excel_cell(Decimal("5000")) == 5000 and isinstance(excel_cell(Decimal("5000")), int)


def test_build_leaves_only_the_addin_in_the_folder(tmp_path: Path) -> None:
    build_addin(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["zdxm.xlam"]


def test_bulletin_writes_both_files_and_takes_the_next_issue(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    template = make_forms(path, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25)).files[0]
    merge_files(path, [fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path],
                "2022-03")
    book = open_book(xw, path)
    message = dispatch("zdxmBulletin", book)
    out = tmp_path / "输出" / "简报" / "2022-03"
    assert message is not None and message.startswith("已生成第 1 期简报和 2022-03 通报：")
    assert (out / "重大项目建设简报_2022年第1期.docx").is_file()
    assert (out / "重大项目推进情况通报_2022-03.xlsx").is_file()
    assert alerts(book) == [(message, "info")]
    assert load_master(path).settings.bulletin_issue == 0  # the book is written, not the file


def test_assessment_into_the_output_folder(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    book = open_book(xw, path)
    message = dispatch("zdxmAssess", book)
    out = tmp_path / "输出" / "考核" / "2022年重大项目考核_2022-01至2022-03.xlsx"
    assert out.is_file()
    assert message is not None and "2 个牵头单位 2022-01 至 2022-03" in message
    assert actions(book, "setValues") == []


def test_sending_without_a_mail_server_is_explained(xw: Any, tmp_path: Path) -> None:
    path = with_period(build_master(tmp_path / "台账.xlsx"))
    book = open_book(xw, path)
    message = dispatch("zdxmSendTemplates", book)
    assert message is not None
    assert alerts(book) == [(message, "critical")]
    assert "邮" in message and "Traceback" not in message


def test_the_summary_in_the_book_matches_the_file_after_the_same_change(xw: Any,
                                                                        tmp_path: Path) -> None:
    """The same plan change, saved through the open book or through the file, leaves the
    same 汇总: table and words."""
    from zdxm_xl.books.gateway import table_from_grid
    from zdxm_xl.plan import exit_project

    path, twin = tmp_path / "台账.xlsx", tmp_path / "twin" / "台账.xlsx"
    create_master(path, 2022, small_master())
    twin.parent.mkdir()
    shutil.copy(path, twin)
    payload = book_payload(path)
    book = xw.Book(json=payload)
    exit_project(BookStore(book), "ZD2022-0002", "2022-05-20", "产业政策调整")
    exit_project(twin, "ZD2022-0002", "2022-05-20", "产业政策调整")
    after = xw.Book(json=apply_actions(payload, actions(book)))
    grid = after.sheets[SUMMARY.sheet].used_range.value
    shown = table_from_grid(grid)
    note_column = len(SUMMARY.columns) + 1
    ws = openpyxl.load_workbook(twin)[SUMMARY.sheet]
    filed = [[c.value for c in row][:len(SUMMARY.columns)] for row in ws.iter_rows(min_row=2)
             if any(c.value is not None for c in row[:len(SUMMARY.columns)])]
    assert [[None if v == "" else v for v in row] for row in shown.rows] == filed
    assert grid[0][note_column] == ws.cell(1, note_column + 1).value
    assert "ZD2022-0002" in grid[0][note_column]


def test_an_error_names_the_place_in_excel_and_the_option_on_the_command_line(
        xw: Any, tmp_path: Path) -> None:
    """The same error, worded by each front end: the add-in points at 设置, the command line
    at its option; neither uses the other's words."""
    path = with_period(build_master(tmp_path / "台账.xlsx"), "2023-03")
    message = dispatch("zdxmStatus", open_book(xw, path))
    assert message == ("报告期 2023-03 不在台账的计划年度 2022 年内。\n"
                       "请在“设置”工作表填写“当前报告期”（如 2022-03），再点此按钮。")
    assert "--" not in message
    command = run_zdxm("status", path, "--period", "2023-03")
    assert command.code == 2
    assert command.stderr.strip() == "报告期 2023-03 不在台账的计划年度 2022 年内。（--period）"
    assert "设置" not in command.stderr and "按钮" not in command.stderr


def test_a_master_from_before_the_rule_table_gets_it_at_the_next_save(xw: Any,
                                                                      tmp_path: Path) -> None:
    from zdxm_xl.core.registry import RULE_COLUMN, RULE_TABLE

    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    payload = book_payload(path)
    settings = next(s for s in payload["sheets"] if s["name"] == "设置")
    for row in settings["values"]:  # no 校验规则, as before it existed
        row[RULE_COLUMN - 1:] = [None] * len(row[RULE_COLUMN - 1:])
    book = xw.Book(json=payload)
    dispatch("zdxmRefreshSummary", book)
    header = [excel_cell(title) for title in RULE_TABLE.titles]
    assert header in written_tables(book)


def _problem_master(tmp_path: Path) -> Path:
    """The checking master with March merged: the unit reported a land problem."""
    from zdxm_xl.core.registry import FORM_HEADER_ROW

    path = with_period(build_master(tmp_path / "台账.xlsx"))
    template = make_forms(path, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25)).files[0]
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    book = openpyxl.load_workbook(filled)
    ws = book["实施项目月报"]
    titles = [c.value for c in ws[FORM_HEADER_ROW]]
    ws.cell(row=FORM_HEADER_ROW + 1, column=titles.index("存在问题") + 1).value = "用地指标尚未落实"
    book.save(filled)
    merge_files(path, [filled], "2022-03", now=datetime(2022, 4, 3, 10))
    return path


def test_the_problem_button_keeps_what_was_typed_into_the_sheet(xw: Any, tmp_path: Path) -> None:
    from zdxm_xl.core.registry import PROBLEM_LOG, PROBLEMS

    path = _problem_master(tmp_path)
    payload = book_payload(path)
    sheet = next(s for s in payload["sheets"] if s["name"] == PROBLEMS.sheet)
    titles = list(PROBLEMS.titles)
    sheet["values"][1][titles.index("协调责任单位")] = "柳南区人民政府"  # chosen from the dropdown
    sheet["values"][1][titles.index("办理时限")] = "2022-03-31T00:00:00.000Z"
    book = xw.Book(json=payload)
    message = dispatch("zdxmProblems", book)
    assert message is not None and message.startswith("问题台帐共 1 个问题：办理中 1 个")
    assert "已把表中直接改动的内容记入“问题办理记录”（3 处）" in message
    assert "已超过办理时限 1 个：WT2022-0001（柳南区人民政府，2022-03-31）" in message
    assert message.endswith(addin.SAVE_REMINDER) and alerts(book) == [(message, "info")]
    written = written_tables(book)
    assert [excel_cell(t) for t in PROBLEMS.titles] in written
    assert [excel_cell(t) for t in PROBLEM_LOG.titles] in written
    after = BookStore(xw.Book(json=apply_actions(payload, actions(book)))).load()
    assert after.problems[0].status == "办理中"
    assert [(c.event, c.field) for c in after.problem_log[-3:]] == [
        ("修改", "协调责任单位"), ("修改", "办理时限"), ("交办", "状态")]
    assert load_master(path).problems[0].status == "待交办"  # the file itself is not written
    again = dispatch("zdxmProblems", xw.Book(json=apply_actions(payload, actions(book))))
    assert again is not None and "记入" not in again and addin.SAVE_REMINDER not in again


def test_the_notice_button_writes_notices_into_the_output_folder(xw: Any, tmp_path: Path) -> None:
    from zdxm_xl.problems import assign_problem

    path = _problem_master(tmp_path)
    assign_problem(path, "WT2022-0001", "柳南区人民政府", "2022-03-31", now=datetime(2022, 4, 4))
    book = open_book(xw, path)
    message = dispatch("zdxmNotices", book)
    out = tmp_path / "输出" / "督办通知" / "2022-03"
    assert message is not None and message.startswith("已生成 2022-03 督办通知单")
    assert "柳南区人民政府" in message and addin.SAVE_REMINDER in message
    notices = sorted(p.name for p in out.glob("*.docx"))
    assert any("柳南区人民政府" in name for name in notices)
    assert alerts(book) == [(message, "info")]
