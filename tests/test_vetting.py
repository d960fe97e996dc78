"""Vetting returned files: every hostile file is built here, in tmp_path, and refused fast."""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import stat
import struct
import subprocess
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from zdxm_xl.checks.limits import RETURN, Limits
from zdxm_xl.checks.seenparts import SeenParts
from zdxm_xl.checks.vetting import (
    _SEEN,
    Vetted,
    _plain_sheet,
    _plain_strings,
    safe_read_sheets,
    vet_workbook,
)
from zdxm_xl.core.findings import RULES, Finding, Severity

FAST = 5.0  # seconds any single vetting may take

SHEET = "xl/worksheets/sheet1.xml"
SST = "xl/sharedStrings.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


# ---------------------------------------------------------------------------------------
# Building files


def write_good(path: Path, *, formula: bool = False) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "填报表"
    sheet.append(["项目编号", "项目名称", "本月完成投资"])
    sheet.append(["ZD2022-0001", "测试项目1", 120.5])
    sheet.append(["ZD2022-0002", "测试项目2", 80])
    if formula:  # openpyxl saves formulas without a cached value
        sheet["C4"] = "=SUM(C2:C3)"
    hidden = workbook.create_sheet("元数据")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "v1"
    workbook.save(path)
    return path


def rewrite(src: Path, dst: Path, *, edit: dict[str, Callable[[bytes], bytes]] | None = None,
            add: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> Path:
    """A copy of a zip with some parts edited, added or left out."""
    edit, add = edit or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename in edit:
                data = edit[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def with_shared_strings(src: Path, dst: Path, strings_xml: bytes, cells: str) -> Path:
    """The good workbook with a hand-written sharedStrings.xml and row 5 referencing it."""
    def types(data: bytes) -> bytes:
        return data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
                            b'ContentType="application/vnd.openxmlformats-officedocument.'
                            b'spreadsheetml.sharedStrings+xml"/></Types>')

    def rels(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", f'<Relationship Id="rIdSST" Type="{REL_NS}/'
                            'sharedStrings" Target="sharedStrings.xml"/></Relationships>'.encode())

    def sheet(data: bytes) -> bytes:
        return data.replace(b"</sheetData>", f'<row r="5">{cells}</row></sheetData>'.encode())

    return rewrite(src, dst, add={SST: strings_xml}, edit={
        "[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels, SHEET: sheet})


def sst(*items: str, unique: int | None = None) -> bytes:
    return sst_of(*(f"<t>{item}</t>" for item in items), unique=unique)


def sst_of(*strings: str, unique: int | None = None) -> bytes:
    """A shared-strings part of ``strings``, each the XML inside its <si>."""
    body = "".join(f"<si>{string}</si>" for string in strings)
    count = len(strings) if unique is None else unique
    return (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{len(strings)}" '
            f'uniqueCount="{count}">{body}</sst>').encode()


def encrypt(src: Path) -> bytes:
    out = io.BytesIO()
    with src.open("rb") as fh:
        OOXMLFile(fh).encrypt("1234", out)
    return out.getvalue()


def rename_ole_streams(data: bytes, renames: dict[str, str]) -> bytes:
    """Rename directory entries of an OLE file in place (names are UTF-16, 64-byte slots)."""
    buf = bytearray(data)
    for old, new in renames.items():
        at = buf.find(old.encode("utf-16-le") + b"\0\0")
        assert at >= 0 and at % 128 == 0
        name = new.encode("utf-16-le") + b"\0\0"
        buf[at:at + 64] = name.ljust(64, b"\0")
        struct.pack_into("<H", buf, at + 64, len(name))
    return bytes(buf)


def zip_of(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def zeros_entry(path: Path, name: str, megabytes: int, level: int) -> Path:
    """One entry of zeros written in 1 MiB chunks: tiny on disk, huge unpacked."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        with archive.open(name, "w", force_zip64=True) as entry:
            block = bytes(2**20)
            for _ in range(megabytes):
                entry.write(block)
    return path


def vet(path: Path, **options: Limits) -> Vetted:
    started = time.monotonic()
    vetted = vet_workbook(path, **options)
    assert time.monotonic() - started < FAST
    return vetted


def codes(vetted: Vetted) -> list[str]:
    return [f.code for f in vetted.findings]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_good(tmp_path / "good.xlsx")


# ---------------------------------------------------------------------------------------
# The catalogue


def test_rules_are_declared_with_chinese_messages() -> None:
    declared = sorted(code for code in RULES if code.startswith("F"))
    assert declared[:16] == [f"F{n:02d}" for n in range(1, 17)]
    warnings = {code for code in declared[:16] if RULES[code].severity is Severity.WARNING}
    assert warnings == {"F11", "F12", "F13", "F14", "F15"}
    for code in declared[:16]:
        assert "|" not in RULES[code].template and "\n" not in RULES[code].template
    assert "请取消密码后重新报送" in RULES["F05"].template
    assert "另存为 .xlsx" in RULES["F06"].template
    assert RULES["F09"].title == "文件包含不安全的内容"
    assert "宏已忽略，不会运行" in RULES["F11"].template


# ---------------------------------------------------------------------------------------
# Good files


def test_a_plain_xlsx_is_ok_and_read_in_process(good: Path) -> None:
    vetted = vet(good)
    assert (vetted.kind, vetted.ok, vetted.findings, vetted.has_macros) == ("xlsx", True, [],
                                                                              False)
    assert vetted.sheets == ["填报表", "元数据"]
    values = safe_read_sheets(vetted)
    assert isinstance(values, dict)
    assert values["填报表"][1] == ["ZD2022-0001", "测试项目1", 120.5]
    assert values["元数据"] == [["v1"]]


def test_the_child_process_reads_the_same_values(good: Path) -> None:
    vetted = vet(good)
    in_child = safe_read_sheets(vetted, isolate=True)
    assert isinstance(in_child, dict) and in_child == safe_read_sheets(vetted, isolate=False)
    assert vetted.findings == []


def test_values_are_read_from_the_parts_as_vetted(good: Path) -> None:
    """The values are read from the package laid out again from what vetting saw: every
    part the file's own bytes, each part vetting inflated stored as it was checked (its
    reader inflates no part a second time), and it reads as the file does."""
    vetted = vet(good)
    assert vetted.package is not None
    with zipfile.ZipFile(io.BytesIO(vetted.package)) as package, zipfile.ZipFile(good) as file:
        assert package.testzip() is None  # every part's checksum
        names = [info.filename for info in file.infolist() if not info.is_dir()]
        assert [info.filename for info in package.infolist()] == names
        for name in names:
            assert package.read(name) == file.read(name)
        stored = {info.filename for info in package.infolist()
                  if info.compress_type == zipfile.ZIP_STORED}
        assert SHEET in stored  # (a part met before in another file may not be inflated)
    values = safe_read_sheets(vetted)
    file_read = Vetted(good, kind="xlsx", content=good.read_bytes())
    assert isinstance(values, dict) and values == safe_read_sheets(file_read)
    vetted.release()
    assert vetted.package is None and vetted.content is None


@pytest.mark.parametrize("trick", ["disk", "count"])
def test_the_values_read_are_those_vetted_whatever_the_directory(tmp_path: Path, good: Path,
                                                                  monkeypatch, trick: str) -> None:
    """A file whose zip shows python-calamine other parts than it shows vetting is refused
    (F04, above); and were it not, the values read would still be those of the parts
    vetted, not the other workbook's."""
    from python_calamine import CalamineWorkbook

    from zdxm_xl.checks import vetting

    crafted = two_directories(tmp_path, good, trick)
    with open(crafted, "rb") as handle:  # what reading the file itself would give
        assert CalamineWorkbook.from_filelike(handle).get_sheet_by_name(
            "填报表").to_python()[1][0] == "其他单位的数"
    monkeypatch.setattr(vetting, "_check_directory_record", lambda data: None)
    vetted = vet(crafted)
    assert vetted.ok
    values = safe_read_sheets(vetted)
    assert isinstance(values, dict)
    assert values["填报表"][1] == ["ZD2022-0001", "测试项目1", 120.5]


def test_a_refused_file_is_not_laid_out_again(tmp_path: Path, good: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data.replace(b"<sheetData>", b"<!DOCTYPE x><sheetData>", 1)
                            if info.filename == SHEET else data)
    vetted = vet(bad)
    assert not vetted.ok and vetted.package is None


def test_names_met_before_vouch_for_nothing_but_the_names(tmp_path: Path, good: Path) -> None:
    """A return's entry names, once they passed, are not looked at again: every entry's
    flags, compression and sizes still are, and the names again under other limits."""
    assert codes(vet(good)) == []
    data = good.read_bytes()
    at = data.index(b"PK\x01\x02")  # the directory's first entry: its flags, its method
    flags = struct.unpack_from("<H", data, at + 8)[0]
    marked = tmp_path / "加密标记.xlsx"
    marked.write_bytes(data[:at + 8] + struct.pack("<H", flags | 0x1) + data[at + 10:])
    assert codes(vet(marked)) == ["F05"]
    bzip2 = tmp_path / "其他压缩方式.xlsx"
    bzip2.write_bytes(data[:at + 10] + struct.pack("<H", zipfile.ZIP_BZIP2) + data[at + 12:])
    assert codes(vet(bzip2)) == ["F04"]
    shallow = vet(good, limits=replace(RETURN, max_depth=1))
    assert codes(shallow) == ["F07"] and "目录层级过深" in shallow.findings[0].message


EXCEL_STRINGS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst xmlns="{MAIN_NS}" '
    'count="4" uniqueCount="3"><si><t>项目编号</t><phoneticPr fontId="1" type="noConversion"/>'
    '</si><si><r><rPr><b/><sz val="11"/><rFont val="宋体"/><charset val="134"/></rPr>'
    '<t>2022</t></r><r><rPr><sz val="11"/><rFont val="宋体"/></rPr><t xml:space="preserve">'
    '年 A&amp;B 项目_一期</t></r><phoneticPr fontId="1" type="noConversion"/></si>'
    '<si><t xml:space="preserve">  </t></si></sst>').encode()


def test_shared_strings_as_excel_saves_them_are_vetted_by_searches() -> None:
    """The way a return saved by Excel or WPS keeps its text (a phonetic property on each
    string, rich-text runs) is known plain from its bytes: no Python callback per element."""
    assert _plain_strings(EXCEL_STRINGS)
    assert not _plain_strings(EXCEL_STRINGS.replace(b"_", b"_x0007_"))


def test_formulas_saved_with_their_values_are_vetted_by_searches(tmp_path: Path,
                                                                 good: Path) -> None:
    """A sheet whose formulas each have their computed value after them, as Excel, WPS and
    LibreOffice save the form's 本年累计 and 开工以来累计, is known plain from its bytes."""
    computed = with_row(tmp_path, good, "算好.xlsx", COMPUTED)
    with zipfile.ZipFile(computed) as archive:
        assert _plain_sheet(archive.read(SHEET)) is not None
    assert vet(computed).findings == []
    values = safe_read_sheets(vet(computed))
    assert isinstance(values, dict) and values["填报表"][4] == [200.5, "200.5万元", 121.5, 81]


@pytest.mark.parametrize("cells", [
    '<c r="E5" t="inlineStr"><is><t>a\x01b</t></is></c>',  # a raw control character
    f'<x:c r="E5" xmlns:x="{MAIN_NS}"><x:v>1</x:v></x:c>',  # a prefixed cell
    f'<c r="E5"><x:f xmlns:x="{MAIN_NS}">SUM(C2:C3)</x:f><v>1</v></c>',  # a prefixed formula
    '<c r="E5"><f>SUM(C2:C3)</f></c>',  # a formula never computed
    '<c r="xfd1"><v>1</v></c>',  # a reference that is not plain
])
def test_what_the_quick_searches_do_not_know_goes_to_the_full_parse(
        tmp_path: Path, good: Path, cells: str) -> None:
    """A sheet the searches cannot show plain — a control character in its text (expat,
    which they end with, refuses it), a prefixed cell or formula, a formula without its
    value, a reference that is not plain — is not taken as plain: the full parse looks."""
    with zipfile.ZipFile(good) as archive:
        assert _plain_sheet(archive.read(SHEET)) is not None
    odd = with_row(tmp_path, good, "不一般.xlsx", cells)
    with zipfile.ZipFile(odd) as archive:
        assert _plain_sheet(archive.read(SHEET)) is None
    assert not _plain_strings(EXCEL_STRINGS.replace(b"</t>", b"\x0b</t>", 1))


EMPTY_TEXT = ('<c r="A5" s="1" t="str"><f aca="false">IF(C3="","",C2+C3)</f><v></v></c>'
              '<c r="B5" t="str"><f>IF(C3="","",C3)</f><v/></c>'
              '<c r="C5" t="str"><f t="shared" ref="C5:D5" si="0">IF(C3="","",C3)</f><v></v></c>'
              '<c r="D5" t="str"><f t="shared" si="0"/><v></v></c>')


def test_formulas_computed_as_empty_text_are_vetted_by_searches(tmp_path: Path,
                                                                good: Path) -> None:
    """Our form's 本年累计 while 本月完成 is blank gives "": Excel, WPS and LibreOffice save
    that as a text cell with an empty value. Known plain from the bytes too, and read as the
    full parse reads it: computed, no finding."""
    blank = with_row(tmp_path, good, "空文字.xlsx", COMPUTED.replace('"A5"', '"E5"').replace(
        '"B5"', '"F5"').replace('"C5"', '"G5"').replace('"D5"', '"H5"') + EMPTY_TEXT)
    with zipfile.ZipFile(blank) as archive:
        assert _plain_sheet(archive.read(SHEET)) is not None
    assert vet(blank).findings == []
    values = safe_read_sheets(vet(blank))
    assert isinstance(values, dict) and values["填报表"][4][:4] == ["", "", "", ""]


@pytest.mark.soffice
def test_a_return_saved_by_libreoffice_is_vetted_by_searches(tmp_path: Path, good: Path) -> None:
    """LibreOffice saves text as shared strings, in rich-text runs: vetted the quick way,
    without a finding, and read as the file it came from."""
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path / "saved"),
                    str(good)], check=True, capture_output=True, timeout=180)
    saved = tmp_path / "saved" / good.name
    with zipfile.ZipFile(saved) as archive:
        assert _plain_strings(archive.read(SST))
    vetted = vet(saved)
    assert (vetted.ok, vetted.findings) == (True, [])
    assert safe_read_sheets(vetted) == safe_read_sheets(vet(good))


@pytest.mark.soffice
def test_an_empty_text_result_saved_by_libreoffice_is_vetted_by_searches(tmp_path: Path) -> None:
    """本年累计 as our form computes it, saved by LibreOffice while 本月完成 is blank (""),
    and while it is not: the shape the quick path knows, found by it, without a finding."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["上月累计", "本月完成", "本年累计"])
    sheet.append([100, None, '=IF(B2="","",A2+B2)'])
    sheet.append([100, 20, '=IF(B3="","",A3+B3)'])
    workbook.save(tmp_path / "累计.xlsx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path / "saved"),
                    str(tmp_path / "累计.xlsx")], check=True, capture_output=True, timeout=180)
    saved = tmp_path / "saved" / "累计.xlsx"
    with zipfile.ZipFile(saved) as archive:
        data = archive.read(SHEET)
    assert b't="str"><f aca="false">IF(B2' in data
    assert _plain_sheet(data) is not None
    vetted = vet(saved)
    assert (vetted.ok, vetted.findings) == (True, [])
    values = safe_read_sheets(vetted)
    assert isinstance(values, dict) and [row[2] for row in values["Sheet"][1:]] == ["", 120]


def test_extension_is_not_trusted(tmp_path: Path, good: Path) -> None:
    renamed = tmp_path / "填报.xls"
    shutil.copy(good, renamed)
    assert (vet(renamed).kind, vet(renamed).ok) == ("xlsx", True)


# ---------------------------------------------------------------------------------------
# Hostile or wrong files: one case per way of being wrong


def _random(tmp: Path, good: Path) -> Path:
    path = tmp / "随机.xlsx"
    path.write_bytes(random.Random(7).randbytes(50_000))
    return path


def _empty(tmp: Path, good: Path) -> Path:
    path = tmp / "空.xlsx"
    path.write_bytes(b"")
    return path


def _missing(tmp: Path, good: Path) -> Path:
    return tmp / "不存在.xlsx"


def _folder(tmp: Path, good: Path) -> Path:
    path = tmp / "目录.xlsx"
    path.mkdir()
    return path


def _truncated(tmp: Path, good: Path) -> Path:
    data = good.read_bytes()
    path = tmp / "半截.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def two_directories(tmp: Path, good: Path, trick: str) -> Path:
    """A zip with the parts of two workbooks and a directory for each: ``good``'s, with
    its end record last (what Python's zipfile reads), and another's (``其他单位的数`` in
    A2), whose end record's comment holds ``good``'s directory and end record. ``trick``
    spoils ``good``'s end record so that another zip reader (python-calamine's) finds
    fault with it and takes the other one: "disk" (on another disk), "count" (not all
    its entries on this disk); "" spoils nothing (two end records, each reaching the end)."""
    other = write_good(tmp / "另一个.xlsx")
    book = openpyxl.load_workbook(other)
    book.active["A2"] = "其他单位的数"
    book.save(other)

    def pieces(data: bytes) -> tuple[bytes, bytes, bytes]:  # entries, directory, end
        end = data.rindex(b"PK\x05\x06")
        size, at = struct.unpack_from("<II", data, end + 12)
        return data[:at], data[at:at + size], data[end:end + 22]

    def moved(directory: bytes, by: int) -> bytes:  # each entry's offset, ``by`` later
        out, at = bytearray(directory), 0
        while at < len(out):
            name, extra, comment = struct.unpack_from("<3H", out, at + 28)
            struct.pack_into("<I", out, at + 42, struct.unpack_from("<I", out, at + 42)[0] + by)
            at += 46 + name + extra + comment
        return bytes(out)

    mine, my_directory, my_end = pieces(good.read_bytes())
    theirs, their_directory, their_end = pieces(other.read_bytes())
    their_directory = moved(their_directory, len(mine))
    their_end_at = len(mine) + len(theirs)
    hidden_end = bytearray(their_end)
    struct.pack_into("<IH", hidden_end, 16, their_end_at, len(my_directory) + 22)
    last = bytearray(my_end)
    struct.pack_into("<I", last, 16, their_end_at + len(their_directory) + 22)
    if trick == "disk":
        struct.pack_into("<H", last, 4, 1)
    elif trick == "count":
        struct.pack_into("<H", last, 8, struct.unpack_from("<H", last, 8)[0] - 1)
    path = tmp / f"两个目录{trick}.xlsx"
    path.write_bytes(mine + theirs + their_directory + hidden_end + my_directory + last)
    return path


def _html(tmp: Path, good: Path) -> Path:
    path = tmp / "网页.xls"
    path.write_text("<html><body><table><tr><td>项目编号</td></tr></table></body></html>",
                    encoding="utf-8")
    return path


def _csv(tmp: Path, good: Path) -> Path:
    path = tmp / "表格.xlsx"
    path.write_bytes("项目编号,项目名称,本月完成投资\nZD2022-0001,测试项目1,120\n".encode("gbk"))
    return path


def _pdf(tmp: Path, good: Path) -> Path:
    path = tmp / "扫描件.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    return path


def _xml2003(tmp: Path, good: Path) -> Path:
    path = tmp / "旧格式.xls"
    path.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:'
                    'spreadsheet"><Worksheet ss:Name="Sheet1"/></Workbook>', encoding="utf-8")
    return path


def _encrypted(tmp: Path, good: Path) -> Path:
    path = tmp / "加密.xlsx"
    path.write_bytes(encrypt(good))
    return path


def _et_ole(tmp: Path, good: Path) -> Path:
    path = tmp / "WPS.et"
    path.write_bytes(rename_ole_streams(encrypt(good), {"EncryptionInfo": "Other",
                                                        "EncryptedPackage": "Workbook"}))
    return path


def _et_zip(tmp: Path, good: Path) -> Path:
    path = tmp / "WPS另存.et"
    shutil.copy(good, path)
    return path


def _word_ole(tmp: Path, good: Path) -> Path:
    path = tmp / "文档.xls"
    path.write_bytes(rename_ole_streams(encrypt(good), {"EncryptionInfo": "WordDocument",
                                                        "EncryptedPackage": "Data"}))
    return path


def _xlsb(tmp: Path, good: Path) -> Path:
    return zip_of(tmp / "二进制.xlsx", {"[Content_Types].xml": b"<Types/>",
                                        "xl/workbook.bin": b"\x83\x01\x00"})


def _numbers(tmp: Path, good: Path) -> Path:
    return zip_of(tmp / "苹果.xlsx", {"Index/Document.iwa": b"\0" * 10,
                                      "Metadata/Properties.plist": b"x"})


def _docx(tmp: Path, good: Path) -> Path:
    return zip_of(tmp / "文档.xlsx", {"[Content_Types].xml": b"<Types/>",
                                      "word/document.xml": b"<document/>"})


def _plain_zip(tmp: Path, good: Path) -> Path:
    return zip_of(tmp / "打包.xlsx", {"填报表.xlsx": good.read_bytes()})


def _bomb_total(tmp: Path, good: Path) -> Path:
    return zeros_entry(tmp / "炸弹.xlsx", "xl/media/image1.png", 300, level=1)


def _bomb_ratio(tmp: Path, good: Path) -> Path:
    return zeros_entry(tmp / "高压缩比.xlsx", SHEET, 60, level=9)


def _many_entries(tmp: Path, good: Path) -> Path:
    path = tmp / "部件太多.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(20_000):
            archive.writestr(f"xl/media/{i}.bin", b"")
    return path


def _parent_path(tmp: Path, good: Path) -> Path:
    return rewrite(good, tmp / "上级目录.xlsx", add={"../../evil.txt": b"x"})


def _absolute_path(tmp: Path, good: Path) -> Path:
    return rewrite(good, tmp / "绝对路径.xlsx", add={"/etc/cron.d/evil": b"x"})


def _no_workbook(tmp: Path, good: Path) -> Path:
    return rewrite(good, tmp / "缺部件.xlsx", drop=("xl/workbook.xml",))


def _no_content_types(tmp: Path, good: Path) -> Path:
    return rewrite(good, tmp / "缺类型.xlsx", drop=("[Content_Types].xml",))


def _billion_laughs(tmp: Path, good: Path) -> Path:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY lol0 "lol">{entities}]>'
           f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    return with_shared_strings(good, tmp / "实体炸弹.xlsx", xml.encode(),
                               '<c r="A5" t="s"><v>0</v></c>')


def _doctype_in_sheet(tmp: Path, good: Path) -> Path:
    def sheet(data: bytes) -> bytes:
        return b'<!DOCTYPE worksheet SYSTEM "http://example.com/x.dtd">' + data

    return rewrite(good, tmp / "DTD.xlsx", edit={SHEET: sheet})


def _huge_unique_count(tmp: Path, good: Path) -> Path:
    return with_shared_strings(good, tmp / "字符串表.xlsx", sst("x", unique=4_000_000_000),
                               '<c r="A5" t="s"><v>0</v></c>')


def _far_cell(tmp: Path, good: Path) -> Path:
    def sheet(data: bytes) -> bytes:
        return data.replace(b"</sheetData>",
                            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')

    return rewrite(good, tmp / "远端单元格.xlsx", edit={SHEET: sheet})


def _far_dimension(tmp: Path, good: Path) -> Path:
    def sheet(data: bytes) -> bytes:
        return data.replace(b'<dimension ref="A1:C3"/>', b'<dimension ref="A1:XFD1048576"/>')

    return rewrite(good, tmp / "范围.xlsx", edit={SHEET: sheet})


def _replaced(tmp: Path, good: Path, name: str, old: bytes, new: bytes) -> Path:
    """``good`` with ``old`` in its sheet's XML replaced by ``new``."""
    return rewrite(good, tmp / name, edit={SHEET: lambda data: data.replace(old, new)})


def _far_dimension_quoted(tmp: Path, good: Path) -> Path:
    """The same, in single quotes (as valid in XML as double ones)."""
    return _replaced(tmp, good, "范围（单引号）.xlsx", b'<dimension ref="A1:C3"/>',
                     b"<dimension ref='A1:XFD1048576'/>")


def _far_cell_spaced(tmp: Path, good: Path) -> Path:
    """A tab, not a space, between the cell's name and its reference: still a cell."""
    return _replaced(tmp, good, "远端单元格（制表符）.xlsx", b"</sheetData>",
                     b'<row r="1048576"><c\tr="XFD1048576"><v>1</v></c></row></sheetData>')


def _far_cell_lowercase(tmp: Path, good: Path) -> Path:
    """python-calamine reads "xfd1048576" as XFD1048576 (and aborts on it)."""
    return _replaced(tmp, good, "远端单元格（小写）.xlsx", b"</sheetData>",
                     b'<row r="1048576"><c r="xfd1048576"><v>1</v></c></row></sheetData>')


def _far_cell_elsewhere(tmp: Path, good: Path) -> Path:
    """The sheet lives outside xl/worksheets/, named by an absolute relationship target
    (python-calamine follows it there)."""
    with zipfile.ZipFile(_far_cell(tmp, good)) as far:
        sheet = far.read(SHEET)

    def rels(data: bytes) -> bytes:
        return data.replace(b'Target="/xl/worksheets/sheet1.xml"', b'Target="/other/s.xml"')

    return rewrite(good, tmp / "别处.xlsx", edit={"xl/_rels/workbook.xml.rels": rels},
                   add={"other/s.xml": sheet}, drop=(SHEET,))


def _implied_far_cell(tmp: Path, good: Path) -> Path:
    def sheet(data: bytes) -> bytes:  # no r attribute: the position follows the row
        return data.replace(b"</sheetData>", b'<row r="20000"><c><v>1</v></c></row></sheetData>')

    return rewrite(good, tmp / "隐含位置.xlsx", edit={SHEET: sheet})


def _macros(tmp: Path, good: Path) -> Path:
    return rewrite(good, tmp / "宏.xlsm", add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake"})


def _external_link(tmp: Path, good: Path) -> Path:
    link = f'<externalLink xmlns="{MAIN_NS}"><externalBook r:id="rId1" xmlns:r="{REL_NS}"/>' \
           "</externalLink>"
    rels = (f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/externalLinkPath" Target="file:///D:/台账/2022年汇总.xlsx" '
            'TargetMode="External"/></Relationships>')
    return rewrite(good, tmp / "外部链接.xlsx", add={
        "xl/externalLinks/externalLink1.xml": link.encode(),
        "xl/externalLinks/_rels/externalLink1.xml.rels": rels.encode()})


def _formula(tmp: Path, good: Path) -> Path:
    return write_good(tmp / "公式.xlsx", formula=True)


def _long_and_control(tmp: Path, good: Path) -> Path:
    strings = sst("正常", "x" * 40_000, "形象进度\x07完成", "复制_x0001_来的")
    return with_shared_strings(good, tmp / "文字.xlsx", strings,
                               '<c r="A5" t="s"><v>0</v></c><c r="B5" t="s"><v>1</v></c>'
                               '<c r="C5" t="s"><v>2</v></c><c r="D5" t="s"><v>3</v></c>')


def _inline_control(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "内联.xlsx", '<c r="E5" t="inlineStr"><is><t>a\x01b</t></is></c>')


def _long_text_in_runs(tmp: Path, good: Path) -> Path:
    """A string of 40 000 characters in two rich-text runs, each within the limit."""
    runs = "".join(f"<r><t>{letter * 20_000}</t></r>" for letter in "xy")
    return with_shared_strings(good, tmp / "长文字.xlsx", sst_of("<t>正常</t>", runs),
                               '<c r="A5" t="s"><v>0</v></c><c r="B5" t="s"><v>1</v></c>')


def _long_text_in_a_prefixed_string(tmp: Path, good: Path) -> Path:
    """A string of 40 000 characters under a prefixed name, before the unprefixed ones."""
    strings = sst("正常").replace(b"<si>", f'<x:si xmlns:x="{MAIN_NS}"><x:t>{"x" * 40_000}'
                                           "</x:t></x:si><si>".encode(), 1)
    return with_shared_strings(good, tmp / "前缀长文字.xlsx", strings,
                               '<c r="A5" t="s"><v>0</v></c><c r="B5" t="s"><v>1</v></c>')


def _control_split_between_runs(tmp: Path, good: Path) -> Path:
    strings = sst_of("<r><t>复制_x00</t></r><r><rPr><b/></rPr><t>01_来的</t></r>")
    return with_shared_strings(good, tmp / "分段.xlsx", strings, '<c r="A5" t="s"><v>0</v></c>')


def _control_by_reference(tmp: Path, good: Path) -> Path:
    return with_shared_strings(good, tmp / "引用.xlsx", sst("复制&#95;x0001_来的"),
                               '<c r="A5" t="s"><v>0</v></c>')


def _unique_count_after_a_bracket(tmp: Path, good: Path) -> Path:
    strings = sst("x", unique=4_000_000_000).replace(b" count=", b' note="a>b" count=')
    return with_shared_strings(good, tmp / "字符串表2.xlsx", strings,
                               '<c r="A5" t="s"><v>0</v></c>')


def _unique_count_by_reference(tmp: Path, good: Path) -> Path:
    strings = sst("x", unique=4_000_000_000).replace(b'"4000000000"', b'"&#52;000000000"')
    return with_shared_strings(good, tmp / "字符串表3.xlsx", strings,
                               '<c r="A5" t="s"><v>0</v></c>')


def _unbound_prefix_in_strings(tmp: Path, good: Path) -> Path:
    return with_shared_strings(good, tmp / "前缀.xlsx", sst_of('<t x:lang="zh">a</t>'),
                               '<c r="A5" t="s"><v>0</v></c>')


def _unbound_prefix_in_sheet(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "前缀表.xlsx", '<c r="A5" x:note="1"><v>1</v></c>')


def with_row(tmp: Path, good: Path, name: str, cells: str) -> Path:
    """The good workbook with a row 5 of ``cells`` (XML) in its first sheet."""
    def sheet(data: bytes) -> bytes:
        return data.replace(b"</sheetData>", f'<row r="5">{cells}</row></sheetData>'.encode())

    return rewrite(good, tmp / name, edit={SHEET: sheet})


COMPUTED = ('<c r="A5"><f>SUM(C2:C3)</f><v>200.5</v></c>'
            '<c r="B5" t="str"><f aca="false">A5&amp;"万元"</f><v>200.5万元</v></c>'
            '<c r="C5"><f t="shared" ref="C5:D5" si="0">C2+1</f><v>121.5</v></c>'
            '<c r="D5"><f t="shared" si="0"/><v>81</v></c>')


def _inline_control_split_between_runs(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "内联分段.xlsx", '<c r="E5" t="inlineStr"><is><r><t>复制_x00</t></r>'
                                              "<r><t>01_来的</t></r></is></c>")


def _inline_control_by_reference(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "内联引用.xlsx",
                    '<c r="E5" t="inlineStr"><is><t>复制&#95;x0001&#x5F;来的</t></is></c>')


def _inline_long_text_in_runs(tmp: Path, good: Path) -> Path:
    runs = "".join(f"<r><t>{letter * 20_000}</t></r>" for letter in "xy")
    return with_row(tmp, good, "内联长文字.xlsx", f'<c r="E5" t="inlineStr"><is>{runs}</is></c>')


def _formula_blank_value(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "空值.xlsx", '<c r="C4"><f>SUM(C2:C3)</f><v></v></c>')


def _formula_blank_value_with_text_type_in_another_attribute(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "空值冒充文字.xlsx",
                    EMPTY_TEXT + '<c r="E5" t="n" x=\'t="str"\'><f>SUM(C2:C3)</f><v></v></c>')


def _text_formula_without_value(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "文字公式无值.xlsx", EMPTY_TEXT + '<c r="E5" t="str"><f>C2&amp;"万元"</f></c>')


def _formula_value_by_reference(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "空格.xlsx", '<c r="C4"><f>SUM(C2:C3)</f><v>&#32;</v></c>')


def _shared_formula_without_value(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "共享.xlsx", COMPUTED + '<c r="E5"><f t="shared" si="0"/></c>')


def _formula_with_a_bracket_without_value(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "括号.xlsx", COMPUTED + '<c r="E5"><f ref="E5>" t="shared" si="1">'
                                            "C2+2</f></c>")


def _prefixed_formula_without_value(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "前缀公式.xlsx", COMPUTED + f'<c r="E5"><x:f xmlns:x="{MAIN_NS}">'
                                              "SUM(C2:C3)</x:f></c>")


def _formula_with_bare_text_after_it(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "裸文字.xlsx", '<c r="C4"><f>SUM(C2:C3)</f>200.5</c>')


def _value_before_formula(tmp: Path, good: Path) -> Path:
    return with_row(tmp, good, "倒序.xlsx", '<c r="C4"><v>1</v><f>SUM(C2:C3)</f></c>')


def sheet_xml(rows: int, cols: int, seed: int = 0) -> bytes:
    """A worksheet part of ``rows`` × ``cols`` numbers (varied, so it does not look like a
    zip bomb)."""
    numbers = random.Random(seed)
    letters = [openpyxl.utils.get_column_letter(c) for c in range(1, cols + 1)]
    body = "".join(f'<row r="{r}">' + "".join(f'<c r="{letter}{r}"><v>{numbers.randrange(10**6)}</v></c>'
                                              for letter in letters) + "</row>"
                   for r in range(1, rows + 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
            f"{body}</sheetData></worksheet>").encode()


def _big_hidden_sheet(tmp: Path, good: Path) -> Path:
    """The good file's hidden sheet grown to 12 000 cells (a form's own holds 12)."""
    return rewrite(good, tmp / "隐藏大表.xlsx", edit={"xl/worksheets/sheet2.xml":
                                                      lambda _data: sheet_xml(60, 200)})


def _bad_xml(tmp: Path, good: Path) -> Path:
    return rewrite(good, tmp / "坏XML.xlsx", edit={SHEET: lambda data: data[: len(data) // 2]})


CASES: list[tuple[str, Callable[[Path, Path], Path], list[str], str | None]] = [
    # (id, build, finding codes, kind)
    ("random-bytes", _random, ["F03"], None),
    ("empty", _empty, ["F01"], None),
    ("missing", _missing, ["F01"], None),
    ("a-folder", _folder, ["F01"], None),
    ("truncated-zip", _truncated, ["F04"], None),
    ("two-end-records", lambda tmp, good: two_directories(tmp, good, ""), ["F04"], None),
    ("end-record-of-another-disk", lambda tmp, good: two_directories(tmp, good, "disk"),
     ["F04"], None),
    ("end-record-short-of-entries", lambda tmp, good: two_directories(tmp, good, "count"),
     ["F04"], None),
    ("html-as-xls", _html, ["F03"], None),
    ("csv-as-xlsx", _csv, ["F03"], None),
    ("pdf-as-xlsx", _pdf, ["F03"], None),
    ("excel-2003-xml", _xml2003, ["F06"], None),
    ("encrypted", _encrypted, ["F05"], None),
    ("wps-et-ole", _et_ole, ["F06"], None),
    ("wps-et-zip", _et_zip, ["F06"], None),
    ("word-ole", _word_ole, ["F03"], None),
    ("xlsb", _xlsb, ["F06"], None),
    ("numbers", _numbers, ["F06"], None),
    ("docx", _docx, ["F03"], None),
    ("plain-zip", _plain_zip, ["F03"], None),
    ("zip-bomb-300mb", _bomb_total, ["F07"], None),
    ("zip-bomb-ratio", _bomb_ratio, ["F07"], None),
    ("20000-entries", _many_entries, ["F07"], None),
    ("parent-path", _parent_path, ["F07"], None),
    ("absolute-path", _absolute_path, ["F07"], None),
    ("no-workbook-xml", _no_workbook, ["F08"], None),
    ("no-content-types", _no_content_types, ["F08"], None),
    ("billion-laughs", _billion_laughs, ["F09"], None),
    ("doctype-in-sheet", _doctype_in_sheet, ["F09"], None),
    ("sst-unique-count", _huge_unique_count, ["F07"], "xlsx"),
    ("cell-at-XFD1048576", _far_cell, ["F10"], "xlsx"),
    ("cell-at-XFD1048576-after-a-tab", _far_cell_spaced, ["F10"], "xlsx"),
    ("cell-at-xfd1048576-in-lowercase", _far_cell_lowercase, ["F10"], "xlsx"),
    ("dimension-XFD1048576", _far_dimension, ["F10"], "xlsx"),
    ("dimension-XFD1048576-in-single-quotes", _far_dimension_quoted, ["F10"], "xlsx"),
    ("implied-far-cell", _implied_far_cell, ["F10"], "xlsx"),
    ("far-cell-outside-worksheets", _far_cell_elsewhere, ["F10"], "xlsx"),
    ("macros", _macros, ["F11"], "xlsx"),
    ("external-link", _external_link, ["F12"], "xlsx"),
    ("formula-without-value", _formula, ["F13"], "xlsx"),
    ("formula-with-a-blank-value", _formula_blank_value, ["F13"], "xlsx"),
    ("formula-with-a-space-by-reference", _formula_value_by_reference, ["F13"], "xlsx"),
    ("formula-with-a-blank-value-and-text-type-in-another-attribute",
     _formula_blank_value_with_text_type_in_another_attribute, ["F13"], "xlsx"),
    ("text-formula-without-value", _text_formula_without_value, ["F13"], "xlsx"),
    ("shared-formula-without-value", _shared_formula_without_value, ["F13"], "xlsx"),
    ("formula-with-a-bracket-without-value", _formula_with_a_bracket_without_value, ["F13"],
     "xlsx"),
    ("value-before-formula", _value_before_formula, ["F13"], "xlsx"),
    ("formula-with-bare-text-after-it", _formula_with_bare_text_after_it, ["F13"], "xlsx"),
    ("prefixed-formula-without-value", _prefixed_formula_without_value, ["F13"], "xlsx"),
    ("long-and-control-text", _long_and_control, ["F14", "F15", "F15"], "xlsx"),
    ("inline-control-text", _inline_control, ["F15"], "xlsx"),
    ("inline-control-escape-split-between-runs", _inline_control_split_between_runs, ["F15"],
     "xlsx"),
    ("inline-control-escape-by-character-reference", _inline_control_by_reference, ["F15"],
     "xlsx"),
    ("inline-long-text-in-two-runs", _inline_long_text_in_runs, ["F14"], "xlsx"),
    ("long-text-in-two-runs", _long_text_in_runs, ["F14"], "xlsx"),
    ("long-text-in-a-prefixed-string", _long_text_in_a_prefixed_string, ["F14"], "xlsx"),
    ("control-escape-split-between-runs", _control_split_between_runs, ["F15"], "xlsx"),
    ("control-escape-by-character-reference", _control_by_reference, ["F15"], "xlsx"),
    ("sst-unique-count-after-a-bracket", _unique_count_after_a_bracket, ["F07"], "xlsx"),
    ("sst-unique-count-by-character-reference", _unique_count_by_reference, ["F07"], "xlsx"),
    ("unbound-prefix-in-shared-strings", _unbound_prefix_in_strings, ["F04"], "xlsx"),
    ("unbound-prefix-in-sheet", _unbound_prefix_in_sheet, ["F04"], "xlsx"),
    ("malformed-xml", _bad_xml, ["F04"], "xlsx"),
    ("hidden-sheet-12000-cells", _big_hidden_sheet, ["F17"], "xlsx"),
]


@pytest.mark.parametrize(("build", "expected", "kind"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_vetting_finds(tmp_path: Path, good: Path, build: Callable[[Path, Path], Path],
                       expected: list[str], kind: str | None) -> None:
    vetted = vet(build(tmp_path, good))
    assert codes(vetted) == expected
    assert vetted.kind == kind
    assert vetted.ok == all(RULES[code].severity is Severity.WARNING for code in expected)
    for found in vetted.findings:
        assert re.search("[\u4e00-\u9fff]", found.message)  # a Chinese sentence


def outcome(vetted: Vetted) -> tuple[object, ...]:
    """All that vetting says of a file."""
    return (vetted.kind, [(f.code, f.message, f.sheet, f.cell, f.value) for f in vetted.findings],
            vetted.sheets, vetted.hidden, vetted.has_macros)


def test_parts_met_before_are_vetted_alike(tmp_path: Path, good: Path) -> None:
    """What vetting found in a part met before is taken from then: every hostile file is
    vetted as it is with nothing met before, after the good file and every other hostile
    file (which share most of their parts with it) have been."""
    built = []
    for name, build, _expected, _kind in CASES:
        folder = tmp_path / name
        folder.mkdir()
        built.append((name, build(folder, good)))
    fresh = {}
    for name, path in built:
        _SEEN.clear()
        fresh[name] = outcome(vet(path))
    _SEEN.clear()
    assert outcome(vet(good)) == outcome(vet(good))
    hits = _SEEN.hits
    assert hits > 0  # the second time, its parts were met before
    assert {name: outcome(vet(path)) for name, path in built} == fresh
    assert _SEEN.hits > hits


def declaring(path: Path, part: str, crc: int, size: int) -> Path:
    """``path`` with the zip's local header and directory entry of ``part`` declaring the
    checksum ``crc`` and ``size`` bytes inflated, whatever its bytes are."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        at = archive.getinfo(part).header_offset
    struct.pack_into("<I", data, at + 14, crc)
    struct.pack_into("<I", data, at + 22, size)
    entries = 0
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_length] == part.encode():
            struct.pack_into("<I", data, at + 16, crc)
            struct.pack_into("<I", data, at + 24, size)
            entries += 1
        at = data.find(b"PK\x01\x02", at + 4)
    assert entries == 1
    path.write_bytes(bytes(data))
    return path


def test_a_part_met_before_is_that_part_in_every_byte(tmp_path: Path, good: Path) -> None:
    """A part is taken for one met before only when it is stored in the same bytes, said
    to inflate to as many bytes with the same checksum: a workbook part declaring the
    checksum and size of the good one met before, but holding other bytes (with a DTD), or
    another checksum, is inflated and checked — and found damaged."""
    assert vet(good).ok and vet(good).ok
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("xl/workbook.xml")
    other = rewrite(good, tmp_path / "换了内容.xlsx", edit={"xl/workbook.xml": lambda data: (
        b'<!DOCTYPE x [<!ENTITY a "b">]>' + data.split(b"?>", 1)[-1])})
    assert codes(vet(declaring(other, "xl/workbook.xml", info.CRC, info.file_size))) == ["F04"]
    checksum = shutil.copy(good, tmp_path / "校验和不符.xlsx")
    assert codes(vet(declaring(checksum, "xl/workbook.xml", info.CRC ^ 1,
                               info.file_size))) == ["F04"]


@pytest.mark.parametrize("elements", [0, 1, 3, 5, 8, 12, 16, 20, 30])
def test_a_part_met_before_costs_the_elements_it_took(good: Path, elements: int) -> None:
    """Taken from a part met before, a list of relationships or sheets costs the elements
    parsing it took: under a budget of elements that a file runs out of, it runs out at the
    same part."""
    limits = replace(RETURN, max_elements=elements)
    _SEEN.clear()
    fresh = outcome(vet(good, limits=limits))
    vet(good)  # every part met, under the usual limits
    assert outcome(vet(good, limits=limits)) == fresh


def test_parts_met_before_are_kept_within_their_capacity() -> None:
    seen = SeenParts(capacity=10)
    data = memoryview(b"0123456789abcdef")
    seen.put(("a", 1, data[:4]), "A")
    seen.put(("b", 1, data[4:8]), "B")
    assert seen.get(("a", 1, b"0123")) == "A" and seen.get(("b", 1, data[4:8])) == "B"
    assert seen.get(("a", 2, b"0123")) is None and seen.get(("a", 1, b"0124")) is None
    seen.put(("c", 1, data[8:12]), "C")  # 12 bytes: the oldest is let go
    assert seen.get(("a", 1, b"0123")) is None and seen.get(("c", 1, b"89ab")) == "C"
    assert seen.size == 8
    seen.put(("d", 1, b"x" * 11), "D")  # more than the whole capacity: not kept
    assert seen.get(("d", 1, b"x" * 11)) is None and seen.size == 8
    seen.clear()
    assert seen.get(("c", 1, b"89ab")) is None and seen.size == 0


def test_refused_files_are_never_read(tmp_path: Path, good: Path) -> None:
    vetted = vet(_far_cell(tmp_path, good))
    assert safe_read_sheets(vetted) == {} and safe_read_sheets(vetted, isolate=False) == {}
    assert codes(vetted) == ["F10"]


def test_oversize_file(good: Path) -> None:
    vetted = vet(good, limits=replace(RETURN, max_bytes=1000))
    assert codes(vetted) == ["F02"]
    assert "文件过大" in vetted.findings[0].message


@pytest.mark.parametrize("limit", [None, "between"])
def test_a_file_that_grew_after_it_was_measured(good: Path, monkeypatch, limit) -> None:
    """The file is read whole whatever its size said a moment before — or refused as too
    big when it grew past the limit."""
    size = good.stat().st_size
    real = Path.stat

    def measured_before_it_grew(self: Path, **kwargs: object) -> os.stat_result:
        found = real(self, **kwargs)
        if self != good:
            return found
        fields = list(found)
        fields[stat.ST_SIZE] = size // 3
        return os.stat_result(fields)

    monkeypatch.setattr(Path, "stat", measured_before_it_grew)
    limits = RETURN if limit is None else replace(RETURN, max_bytes=size // 2)
    vetted = vet(good, limits=limits)
    if limit is None:
        assert vetted.ok and codes(vetted) == [] and safe_read_sheets(vetted)
    else:
        assert codes(vetted) == ["F02"]


def test_findings_say_where(tmp_path: Path, good: Path) -> None:
    formula = vet(_formula(tmp_path, good)).findings[0]
    assert (formula.sheet, formula.cell, formula.value) == ("填报表", "C4", "=SUM(C2:C3)")
    assert "按空值读取" in formula.message
    far = vet(_far_cell(tmp_path, good)).findings[0]
    assert (far.sheet, far.cell) == ("填报表", "XFD1048576")
    assert "工作表范围异常" in far.message
    texts = vet(_long_and_control(tmp_path, good)).findings
    assert [(f.code, f.cell) for f in texts] == [("F14", "B5"), ("F15", "C5"), ("F15", "D5")]
    assert texts[0].value == "40000"
    encrypted = vet(_encrypted(tmp_path, good)).findings[0]
    assert "文件设置了打开密码" in encrypted.message and "取消密码后重新报送" in encrypted.message
    assert "另存为 .xlsx" in vet(_et_ole(tmp_path, good)).findings[0].message
    assert "不安全" in vet(_billion_laughs(tmp_path, good)).findings[0].message


def test_hidden_sheets_are_known_and_a_big_one_is_refused(tmp_path: Path, good: Path) -> None:
    assert vet(good).hidden == ["元数据"]
    [big] = vet(_big_hidden_sheet(tmp_path, good)).findings
    assert (big.code, big.sheet) == ("F17", "元数据")
    assert "隐藏的工作表「元数据」中的单元格超过 10000 个" in big.message
    assert "取消隐藏" in big.message


@pytest.mark.slow
def test_a_hidden_sheet_of_millions_of_cells_is_refused_at_once(tmp_path: Path,
                                                                 good: Path) -> None:
    """The red team's file: two million cells in a hidden sheet, well under every other
    limit. Vetting stops at the first cell over the hidden sheets' limit."""
    path = tmp_path / "百万.xlsx"
    letters = [openpyxl.utils.get_column_letter(c) for c in range(1, 201)]
    numbers = random.Random(1)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                          compresslevel=1) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet2.xml":
                target.writestr(info.filename, source.read(info.filename))
        with target.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
                       "<sheetData>".encode())
            for row in range(1, 10_001):  # 10 000 rows × 200 columns: two million cells
                part.write((f'<row r="{row}">' + "".join(
                    f'<c r="{letter}{row}"><v>{numbers.randrange(10**6)}</v></c>'
                    for letter in letters) + "</row>").encode())
            part.write(b"</sheetData></worksheet>")
    assert path.stat().st_size < RETURN.max_bytes
    vetted = vet(path)
    assert codes(vetted) == ["F17"]
    assert safe_read_sheets(vetted) == {}


def test_all_sheets_together_hold_no_more_than_one_sheet_may(tmp_path: Path,
                                                             good: Path) -> None:
    small = replace(RETURN, max_rows=100, max_cols=10)  # 1000 cells in all
    three = rewrite(good, tmp_path / "三张表.xlsx", edit={
        SHEET: lambda _data: sheet_xml(60, 10), "xl/worksheets/sheet2.xml":
        lambda _data: sheet_xml(5, 2)}, add={})
    assert codes(vet(three, limits=small)) == []
    four = rewrite(three, tmp_path / "再多一张.xlsx", edit={
        "xl/worksheets/sheet2.xml": lambda _data: sheet_xml(50, 10)})
    assert codes(vet(four, limits=replace(small, max_hidden_cells=1000))) == ["F18"]
    assert "文件中的单元格超过 1000 个" in vet(four, limits=replace(
        small, max_hidden_cells=1000)).findings[0].message


def test_macros_are_a_warning_and_flagged(tmp_path: Path, good: Path) -> None:
    vetted = vet(_macros(tmp_path, good))
    assert (vetted.ok, vetted.has_macros) == (True, True)
    assert "宏已忽略，不会运行" in vetted.findings[0].message
    values = safe_read_sheets(vetted)  # in a child process: there is a finding
    assert isinstance(values, dict)
    assert values["填报表"][0] == ["项目编号", "项目名称", "本月完成投资"]


def test_external_link_names_its_target(tmp_path: Path, good: Path) -> None:
    [link] = vet(_external_link(tmp_path, good)).findings
    assert "2022年汇总.xlsx" in link.message


def test_many_cell_warnings_are_summed_up(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in range(1, 31):
        sheet.cell(row, 1, f"=ROW()*{row}")
    workbook.save(tmp_path / "公式多.xlsx")
    found = vet(tmp_path / "公式多.xlsx").findings
    assert [f.code for f in found] == ["F13"] * 21
    assert found[-1].cell is None and "另有 10 个单元格" in found[-1].message


# ---------------------------------------------------------------------------------------
# Reading in a child process


def test_a_child_that_dies_becomes_a_finding(tmp_path: Path, good: Path) -> None:
    hostile = _far_cell(tmp_path, good)  # python-calamine aborts the process on this file
    pretend = Vetted(hostile, "xlsx", [], ["填报表"], False)
    started = time.monotonic()
    result = safe_read_sheets(pretend, isolate=True)
    assert time.monotonic() - started < 30
    assert isinstance(result, Finding) and result.code == "F16" and result.is_error
    assert "读取工作表内容失败" in result.message and "异常退出" in result.message
    assert result.value is None  # what the reader said is no value of the unit's file


def test_a_reader_that_dies_leaves_its_last_words_for_the_office(tmp_path: Path,
                                                                 good: Path) -> None:
    """Its exit status and the last line it wrote before it died, for technical staff."""
    from zdxm_xl.checks.limits import RETURN
    from zdxm_xl.checks.readers import shared

    hostile = _far_cell(tmp_path, good)
    outcome = shared().ask(("read", (str(hostile), hostile.read_bytes(), RETURN.read_memory, 31)),
                           30)
    assert outcome.status == "died", outcome.payload
    status, _, words = str(outcome.payload).partition(": ")
    assert status.startswith("exit ") and status != "exit 0" and words.strip()


def _many_numbers(path: Path, good: Path, rows: int = 5000, columns: int = 20) -> Path:
    """A plain, harmless sheet that takes python-calamine some tens of milliseconds."""
    letters = [openpyxl.utils.get_column_letter(c) for c in range(1, columns + 1)]
    cells = "".join(f'<row r="{r}">' + "".join(f'<c r="{letter}{r}"><v>{r * c}</v></c>'
                                               for c, letter in enumerate(letters, start=1))
                    + "</row>" for r in range(1, rows + 1)).encode()

    def sheet(data: bytes) -> bytes:
        start, end = data.index(b"<sheetData>"), data.index(b"</sheetData>")
        return data[:start] + b"<sheetData>" + cells + data[end:]

    return rewrite(good, path, edit={"xl/worksheets/sheet1.xml": sheet})


def test_a_slow_reader_is_stopped_and_the_next_file_read(tmp_path: Path, good: Path) -> None:
    slow = vet(_many_numbers(tmp_path / "大.xlsx", good))
    assert slow.ok and slow.findings == []
    result = safe_read_sheets(slow, isolate=True, timeout=0.005)
    assert isinstance(result, Finding) and result.code == "F16" and "超时" in result.message
    # the reader that took too long is gone; a fresh one reads the next file
    again = safe_read_sheets(vet(good), isolate=True)
    assert isinstance(again, dict) and again["填报表"][1] == ["ZD2022-0001", "测试项目1", 120.5]


def test_readers_are_kept_from_file_to_file(good: Path) -> None:
    from zdxm_xl.checks.readers import shared

    safe_read_sheets(vet(good), isolate=True)
    pids = {reader.process.pid for reader in shared()._free}
    for _ in range(3):
        assert isinstance(safe_read_sheets(vet(good), isolate=True), dict)
    assert {reader.process.pid for reader in shared()._free} == pids  # no process per file


def test_garbage_in_an_xls_container_is_a_finding_not_a_crash(tmp_path: Path,
                                                              good: Path) -> None:
    path = tmp_path / "坏.xls"
    path.write_bytes(rename_ole_streams(encrypt(good), {"EncryptionInfo": "Other",
                                                        "EncryptedPackage": "Workbook"}))
    vetted = vet(path)
    assert (vetted.kind, vetted.ok, vetted.findings) == ("xls", True, [])  # size only
    for isolate in (None, False):
        result = safe_read_sheets(vetted, isolate=isolate)
        assert isinstance(result, Finding) and result.code == "F16"


# ---------------------------------------------------------------------------------------
# Formats LibreOffice can write


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    soffice = shutil.which("soffice")
    assert soffice is not None, "LibreOffice 未安装（tests that use this fixture are marked soffice）"
    folder = tmp_path_factory.mktemp("libreoffice")
    source = write_good(folder / "good.xlsx")
    profile = (folder / "profile").as_uri()
    out: dict[str, Path] = {}
    for fmt in ("xls", "ods"):
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless",
                        "--convert-to", fmt, "--outdir", str(folder / fmt), str(source)],
                       check=True, capture_output=True, timeout=180)
        out[fmt] = folder / fmt / f"good.{fmt}"
        assert out[fmt].exists()
    return out


@pytest.mark.soffice
def test_an_ods_is_refused_with_save_as_xlsx(converted: dict[str, Path]) -> None:
    vetted = vet(converted["ods"])
    assert codes(vetted) == ["F06"]
    assert "OpenDocument" in vetted.findings[0].message
    assert "另存为 .xlsx" in vetted.findings[0].message


@pytest.mark.soffice
def test_a_big_hidden_sheet_in_an_xls_is_refused_once_read(tmp_path: Path) -> None:
    source = write_good(tmp_path / "hidden.xlsx")
    book = openpyxl.load_workbook(source)
    for row in range(1, 61):
        for column in range(1, 201):
            book["元数据"].cell(row, column, row * column)
    book.save(source)
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--headless", "--convert-to", "xls", "--outdir", str(tmp_path / "xls"),
                    str(source)], check=True, capture_output=True, timeout=180)
    vetted = vet(tmp_path / "xls" / "hidden.xls")
    assert (vetted.kind, vetted.hidden, vetted.ok) == ("xls", ["元数据"], True)  # size only
    result = safe_read_sheets(vetted)
    assert isinstance(result, Finding) and result.code == "F17" and result.sheet == "元数据"


@pytest.mark.soffice
def test_an_xls_is_accepted_and_read_in_a_child(converted: dict[str, Path]) -> None:
    vetted = vet(converted["xls"])
    assert (vetted.kind, vetted.ok, vetted.findings) == ("xls", True, [])
    assert vetted.sheets == ["填报表", "元数据"]
    values = safe_read_sheets(vetted)  # in a child process: .xls is vetted for size only
    assert isinstance(values, dict)
    assert values["填报表"][2] == ["ZD2022-0002", "测试项目2", 80.0]
