"""Vetting a returned file before anything parses it (报送文件安全检查).

Every file that comes back by email is untrusted. ``vet_workbook`` decides, without
handing the file to any spreadsheet library, whether it is safe to read and what it is:
a ``.xlsx`` (zip of XML parts, checked part by part) or a ``.xls`` (BIFF in an OLE
container, checked for size, encryption and macros only). Problems are findings ``F01``–``F18``
(see ``RULES``); vetting never raises for anything in the file, never runs or copies
macros, and reads a bounded number of bytes whatever the file declares.

Why so careful: python-calamine, which reads the values, aborts the whole process (no
exception) when a sheet has a cell at XFD1048576 or the shared-string table declares
billions of entries, so such files must be refused here. ``safe_read_sheets`` then reads a
vetted file's values, in a reader process with memory and time limits (``readers``) unless
vetting found nothing at all; ``examine`` does both (``examine_plain`` in a reader process).

Limits (``limits.RETURN`` for returns): file ≤ 20 MiB, ≤ 10 000 zip entries, ≤ 200 MiB
unpacked, no entry over 4 MiB unpacking more than 200:1, sheets within 10 000 rows × 200
columns, all sheets together no more cells than one such sheet, a hidden sheet ≤ 10 000
cells (a .xls is measured after it is read, in the child process).
"""

from __future__ import annotations

import functools
import hashlib
import io
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..core.rules import RULES, Severity, rule
from .limits import RETURN, Limits
from .readers import Outcome
from .seenparts import SeenParts
from .sniff import OLE_MAGIC, ZIP_MAGICS, describe

if TYPE_CHECKING:
    from ..core.findings import Finding

__all__ = [
    "Vetted",
    "Examined",
    "vet_workbook",
    "safe_read_sheets",
    "examine",
    "examine_plain",
    "check_request",
    "examined_from",
    "file_sha256",
    "MAX_BYTES",
    "EXCEL_TEXT_LIMIT",
]

# The bounds of this vetting (``limits.RETURN`` unless the caller says otherwise).
_LIMITS: ContextVar[Limits] = ContextVar("vetting_limits", default=RETURN)


def finding(code: str, **params: Any) -> Finding:
    """``core.findings.finding``, its module imported with the first finding: a reader
    process (``examine_plain``) that vets only clean files never loads pydantic, which
    would be half of its start (the files then wait for it)."""
    from ..core.findings import finding as made

    return made(code, **params)


MAX_BYTES = RETURN.max_bytes
EXCEL_TEXT_LIMIT = 32_767  # characters in one cell
PROLOG_SCAN = 64 * 1024  # bytes of each XML part searched for DTD/ENTITY
MAX_CELL_FINDINGS = 20  # per rule and file; the rest are summed up in one finding

_CHUNK = 64 * 1024
_RESAVE = "用 Excel 或 WPS 打开后另存为 .xlsx（Excel 工作簿）再报送"

E, W = Severity.ERROR, Severity.WARNING
rule("F01", E, "文件缺失或为空",
     "没有收到可读的文件：{detail}。请在 Excel 或 WPS 中重新保存为 .xlsx 后再报送")
rule("F02", E, "文件过大",
     "文件过大：{size} MB，超过上限 {limit} MB（填报文件通常不足 1 MB）。请删除多余的图片、"
     "工作表和空白行列，另存为 .xlsx 后再报送")
rule("F03", E, "不是 Excel 工作簿",
     "文件内容不是 Excel 工作簿，而是{detail}，可能只是改了扩展名。请" + _RESAVE)
rule("F04", E, "文件已损坏",
     "文件已损坏或不完整：{detail}。可能是邮件附件不完整。请重新发送，或" + _RESAVE)
rule("F05", E, "文件设置了打开密码",
     "文件设置了打开密码，系统无法读取。请取消密码后重新报送（Excel：文件 → 信息 → 保护工作簿"
     " → 用密码进行加密，清空密码；WPS：文件 → 文档加密 → 密码加密，清空密码）")
rule("F06", E, "文件格式不支持",
     "文件是{detail}，系统只读取 Excel 工作簿（.xlsx、.xls）。请" + _RESAVE)
rule("F07", E, "文件结构异常",
     "文件内部结构异常：{detail}。文件可能已损坏或被恶意构造，系统拒绝读取。请" + _RESAVE
     + "；如仍有问题请联系市重点办")
rule("F08", E, "缺少工作簿组成部分",
     "文件缺少 Excel 工作簿必需的组成部分（{detail}），不是完整的工作簿。请" + _RESAVE)
rule("F09", E, "文件包含不安全的内容",
     "文件包含不安全的内容（{part} 中有 DTD/实体声明），系统拒绝读取。请把数据复制到新的填报"
     "模板中，另存为 .xlsx 再报送")
rule("F10", E, "工作表范围异常",
     "工作表范围异常：工作表「{sheet_name}」{detail}，超出填报表的合理范围（最多 {max_rows} 行、"
     "{max_cols} 列）。请删除多余的行和列（选中空白行列 → 右键 → 删除），另存为 .xlsx 后再报送")
rule("F11", W, "文件含宏",
     "文件含宏，宏已忽略，不会运行，也不会带入台账。今后请用不含宏的 .xlsx 格式报送")
rule("F12", W, "含外部链接",
     "文件含指向其他文件的外部链接：{detail}。系统不会更新这些链接，相关单元格按保存时的"
     "值读取。建议在 Excel「数据 → 编辑链接 → 断开链接」后再报送")
rule("F13", W, "公式没有计算结果",
     "{where}是公式，但文件里没有保存计算结果，系统将按空值读取。请在 Excel 或 WPS 中打开、"
     "确认公式已算出结果后保存再报送，或直接填写数值")
rule("F14", W, "文字超长",
     "{where}的文字超过 Excel 单元格上限 32767 个字符，在 Excel 和 WPS 中会被截断。请精简内容"
     "后再报送")
rule("F15", W, "含不可见的控制字符",
     "{where}的文字含有不可见的控制字符（常见于从网页或其他系统复制粘贴），可能导致显示或汇总"
     "异常。请检查该单元格，删除后重新输入")
rule("F16", E, "工作表读取失败",
     "读取工作表内容失败：{detail}。请" + _RESAVE + "；如仍失败请联系市重点办")
rule("F17", E, "隐藏的工作表过大",
     "隐藏的工作表「{sheet_name}」中的单元格超过 {limit} 个。填报文件不需要隐藏的大表，它可能来自"
     "别的文件，也可能是被恶意构造的。请取消隐藏（右键工作表标签 → 取消隐藏）后删除该工作表，"
     "另存为 .xlsx 后再报送")
rule("F18", E, "单元格过多",
     "文件中的单元格超过 {limit} 个（填报文件通常只有几千个）。请删除多余的工作表和空白行列，"
     "另存为 .xlsx 后再报送")
del E, W


class _TakenAsItIs:
    """What vetting made, held by a result (``FileReport.vetted``, a fetched mail's
    ``examined``): pydantic takes it as it is, without looking into its fields — one is a
    list of findings, whose type this module loads only with the first finding."""

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)


@dataclass
class Vetted(_TakenAsItIs):
    """What vetting found out about one returned file.

    ``kind`` is what the file really is (by content, not by extension) when it is a
    workbook container we can read; ``sheets`` are its worksheet names in workbook order
    (hidden ones included), ``hidden`` those of them that are hidden or very hidden;
    ``has_macros`` says VBA or Excel 4.0 macro sheets are present (they are never run or
    copied).
    """

    path: Path
    kind: Literal["xlsx", "xls"] | None = None
    findings: list[Finding] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    has_macros: bool = False
    limits: Limits = RETURN
    hidden: list[str] = field(default_factory=list)
    # The bytes that were vetted, read once: the values are read from these very bytes (not
    # from the file again, which may have changed since), then let go (``release``).
    content: bytes | None = field(default=None, repr=False, compare=False)
    # An .xlsx laid out again from what vetting saw of ``content`` (``_as_vetted``): what
    # its values are read from.
    package: bytes | None = field(default=None, repr=False, compare=False)

    def release(self) -> None:
        """Let go of the file's bytes once its values are read."""
        self.content = self.package = None

    def digest(self) -> str:
        """The content hash (SHA-256) of the bytes vetted — those its values are read from —
        or of the file, when they were not kept (a file too large, or already let go)."""
        if self.content is not None:
            return hashlib.sha256(self.content).hexdigest()
        return file_sha256(self.path)

    @property
    def to_read(self) -> bytes | None:
        """The bytes its values are read from: the package as vetted, or the file's."""
        return self.package if self.package is not None else self.content

    @property
    def ok(self) -> bool:
        """Safe to read: no error finding (warnings allowed)."""
        return not any(f.is_error for f in self.findings)


class _Stop(Exception):
    """Vetting of the file (or of one sheet, for F10) ends with this finding."""

    def __init__(self, result: Finding) -> None:
        super().__init__(result.message)
        self.finding = result


def _stop(code: str, **params: Any) -> _Stop:
    return _Stop(finding(code, **params))


def vet_workbook(path: Path | str, *, limits: Limits = RETURN) -> Vetted:
    """Decide whether a file from outside is safe to read and what it is, within
    ``limits``; never raises."""
    path = Path(path)
    vetted = Vetted(path, limits=limits)
    token = _LIMITS.set(limits)
    try:
        _vet(path, vetted, limits.max_bytes)
    except _Stop as stop:
        vetted.findings.append(stop.finding)
    except Exception as exc:  # whatever else goes wrong, the file is unreadable, not us
        vetted.findings.append(finding("F04", detail="无法解析文件结构",
                                       value=type(exc).__name__))
    finally:
        _LIMITS.reset(token)
    return vetted


def _vet(path: Path, vetted: Vetted, max_bytes: int) -> None:
    try:
        info = path.stat()
    except OSError:
        raise _stop("F01", detail="找不到文件", value=path.name) from None
    if not stat.S_ISREG(info.st_mode):
        raise _stop("F01", detail="不是普通文件", value=path.name)
    size = info.st_size
    if size == 0:
        raise _stop("F01", detail="文件是空的（0 字节）", value=path.name)
    if size > max_bytes:
        raise _stop("F02", size=f"{size / 2**20:.1f}", limit=f"{max_bytes / 2**20:.0f}",
                    value=size)
    if path.suffix.lower() in (".et", ".ett"):
        # WPS's own format: whatever is inside, only WPS reads it reliably
        raise _stop("F06", detail="WPS 表格文件（.et）", value=path.suffix)
    try:
        with path.open("rb") as fh:
            # the whole file, once (its size is within the limit): vetting, reading and the
            # content hash all see the same bytes, however the file changes meanwhile. Asked
            # for by its size (a buffer of the limit would be made for each file), then for
            # what it may have grown by since, up to the limit.
            data = fh.read(size + 1)
            if len(data) > size:
                data += fh.read(max_bytes + 1 - len(data))
    except OSError:
        raise _stop("F01", detail="文件无法打开（可能正被其他程序占用）", value=path.name) from None
    if len(data) > max_bytes:  # grew since it was measured
        raise _stop("F02", size=f"{len(data) / 2**20:.1f}", limit=f"{max_bytes / 2**20:.0f}",
                    value=len(data))
    if not data:
        raise _stop("F01", detail="文件是空的（0 字节）", value=path.name)
    head = data[:4096]
    if head.startswith(OLE_MAGIC):
        vetted.content = data
        _vet_ole(path, len(data), vetted)
    elif head.startswith(ZIP_MAGICS):
        vetted.content = data
        _vet_zip(data, vetted)
    else:
        _not_a_workbook(head)


# ---------------------------------------------------------------------------------------
# Not a container: say what it looks like, so the 信息员 understands what happened


def _not_a_workbook(head: bytes) -> None:
    text = head
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as Excel's "Unicode text"
        text = head.decode("utf-16", errors="ignore").encode("utf-8")
    lowered = text.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head[:2] in (b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08") and len(head) > 8:
        raise _stop("F06", detail="Excel 4.0 或更早版本的工作表", value="BIFF")
    if lowered.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        raise _stop("F06", detail="XML 表格（Excel 2003 XML）", value="SpreadsheetML")
    described = describe(head)
    raise _stop("F03", detail=described, value=described)


# ---------------------------------------------------------------------------------------
# OLE: encrypted OOXML, .xls (BIFF8), or some other Office file


def _vet_ole(path: Path, size: int, vetted: Vetted) -> None:
    import olefile

    try:
        ole = olefile.OleFileIO(str(path))
    except Exception:
        raise _stop("F04", detail="复合文档结构损坏", value="OLE") from None
    with ole:
        if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
            raise _stop("F05", value="EncryptionInfo")
        stream = "Workbook" if ole.exists("Workbook") else "Book" if ole.exists("Book") else None
        if stream is None:
            if ole.exists("WordDocument"):
                detail = "Word 文档（.doc）"
            elif ole.exists("PowerPoint Document"):
                detail = "PowerPoint 演示文稿（.ppt）"
            else:
                detail = "其他类型的 Office 文件"
            raise _stop("F03", detail=detail, value="OLE")
        if ole.get_size(stream) > size:  # a stream cannot be larger than its file
            raise _stop("F04", detail="工作簿数据流的长度不对", value=stream)
        if _msoffcrypto_says_encrypted(path):
            raise _stop("F05", value="FilePass")
        names: list[str] = []
        hidden: list[str] = []
        if stream == "Workbook":
            data = ole.openstream(stream).read(size)
            names, encrypted, macro_sheets, hidden = _biff8_globals(data)
            if encrypted:
                raise _stop("F05", value="FilePass")
            vetted.has_macros = macro_sheets
        if ole.exists("_VBA_PROJECT_CUR") or ole.exists("_VBA_PROJECT"):
            vetted.has_macros = True
    vetted.kind = "xls"
    vetted.sheets = names
    vetted.hidden = hidden
    if vetted.has_macros:
        vetted.findings.append(finding("F11", value="VBA"))


def _msoffcrypto_says_encrypted(path: Path) -> bool:
    import msoffcrypto

    try:
        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # not a format msoffcrypto knows (BIFF5, odd streams): not its call
        return False


def _biff8_globals(data: bytes) -> tuple[list[str], bool, bool, list[str]]:
    """Worksheet names, FilePass (encrypted), macro sheets and the hidden worksheets' names
    from the BIFF8 globals.

    Walks record headers only up to the globals' EOF; anything malformed just ends the
    walk (calamine decides later whether the file is readable)."""
    names: list[str] = []
    hidden: list[str] = []
    encrypted = macro_sheets = False
    pos, end = 0, len(data)
    while pos + 4 <= end:
        kind, length = struct.unpack_from("<HH", data, pos)
        body = data[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind == 0x000A:  # EOF of the globals substream
            break
        if kind == 0x002F:  # FilePass
            encrypted = True
            break
        if kind == 0x0085 and len(body) >= 8:  # BoundSheet8
            state, sheet_type, count, flags = body[4] & 0x03, body[5], body[6], body[7]
            raw = body[8:8 + count * (2 if flags & 1 else 1)]
            name = raw.decode("utf-16-le" if flags & 1 else "latin-1", errors="replace")
            if sheet_type == 0:
                names.append(name)
                if state:  # 1 hidden, 2 very hidden
                    hidden.append(name)
            elif sheet_type == 1:
                macro_sheets = True
    return names, encrypted, macro_sheets, hidden


# ---------------------------------------------------------------------------------------
# Zip: structure first (from the directory alone), then the XML parts, streamed


class _Budget:
    """Uncompressed bytes we still allow ourselves to read from this file, and XML
    elements we still allow ourselves to look at (each costs a Python callback)."""

    def __init__(self, limit: int, data: bytes) -> None:
        self.left = limit
        self.data = memoryview(data)  # the whole zip file: entries are inflated from here
        self.elements = _LIMITS.get().max_elements
        self.cells = _LIMITS.get().max_total_cells  # in all sheets together
        # Small parts are read whole by the prolog scan; keep them, so that parsing them
        # afterwards costs no second decompression (a return's parts are a few KB each).
        self.kept: dict[str, bytes] = {}
        self._packed: dict[str, memoryview] = {}  # each entry's compressed bytes, once found

    def packed(self, info: zipfile.ZipInfo) -> memoryview:
        """``_packed`` for this file's entry ``info``: its local header checked once, however
        often its bytes are wanted (looked up among parts met before, inflated, laid out
        again). Entry names are unique (``_check_entries``)."""
        found = self._packed.get(info.filename)
        if found is None:
            found = self._packed[info.filename] = _packed(self.data, info)
        return found


def _vet_zip(data: bytes, vetted: Vetted) -> None:
    _check_directory_record(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:
        raise _stop("F04", detail="压缩包目录损坏", value="zip") from None
    with archive:
        try:
            _vet_archive(archive, vetted, data)
        except _Stop:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError, ValueError, struct.error) as exc:
            raise _stop("F04", detail="压缩内容损坏", value=type(exc).__name__) from None


def _check_directory_record(data: bytes) -> None:
    """Read the end-of-central-directory record ourselves: refuse absurd entry counts or
    directory sizes before zipfile builds an object per entry."""
    size = len(data)
    window = min(size, 22 + 65535 + 20)
    tail = data[size - window:]
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        raise _stop("F04", detail="压缩包目录缺失，文件可能不完整", value="EOCD")
    # One directory, that every zip reader finds: on no other "disk", listing all its
    # entries, and no earlier end record whose comment reaches the end of the file just as
    # well (python-calamine's reader takes that one when it finds fault with the last:
    # other parts than the ones vetted would be read).
    disk, directory_disk, here, entries, directory, offset = struct.unpack_from(
        "<4H2I", tail, pos + 4)
    if disk or directory_disk or here != entries or any(
            other + 22 + struct.unpack_from("<H", tail, other + 20)[0] == len(tail)
            for other in _earlier(tail, b"PK\x05\x06", pos) if other + 22 <= len(tail)):
        raise _stop("F04", detail="压缩包目录前后不一致", value="EOCD")
    if (entries == 0xFFFF or directory == 0xFFFFFFFF or offset == 0xFFFFFFFF) and pos >= 20:
        locator = tail[pos - 20:pos]
        if locator[:4] == b"PK\x06\x07":
            record_at = struct.unpack_from("<Q", locator, 8)[0]
            if record_at + 56 <= size:
                record = data[record_at:record_at + 56]
                if record[:4] == b"PK\x06\x06":
                    entries, directory = struct.unpack_from("<QQ", record, 32)
    if entries > _LIMITS.get().max_entries:
        raise _stop("F07", detail=f"包含 {entries} 个部件，超过上限 {_LIMITS.get().max_entries}",
                    value=entries)
    if directory > _LIMITS.get().max_directory:
        raise _stop("F07", detail="压缩包目录过大", value=directory)
    if directory > size:
        raise _stop("F04", detail="压缩包目录长度不对", value=directory)


def _earlier(data: bytes, marker: bytes, end: int) -> Iterator[int]:
    """Where ``marker`` starts in ``data`` before ``end``, last first."""
    at = data.rfind(marker, 0, end)
    while at >= 0:
        yield at
        at = data.rfind(marker, 0, at)


def _vet_archive(archive: zipfile.ZipFile, vetted: Vetted, data: bytes) -> None:
    infos = archive.infolist()
    _check_entries(infos)
    parts = {info.filename: info for info in infos if not info.is_dir()}
    folded = {name.casefold(): info for name, info in parts.items()}

    def part(name: str) -> zipfile.ZipInfo | None:
        return parts.get(name) or folded.get(name.casefold())

    # each part is read at most twice (its prolog, then in full) and only up to its declared
    # size, whose total _check_entries capped
    budget = _Budget(2 * _LIMITS.get().max_unpacked, data)
    _identify(archive, parts, part, budget)
    if part("[Content_Types].xml") is None:
        raise _stop("F08", detail="[Content_Types].xml", value="[Content_Types].xml")
    for info in parts.values():  # every XML part, parsed by us or not, before parsing any
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            _scan_prolog(archive, info, budget)

    links = _all_relationships(archive, parts, budget)
    workbook = _workbook_part(links, part)
    missing = [name for name in (workbook, _rels_of(workbook)) if part(name) is None]
    if missing:
        raise _stop("F08", detail="、".join(missing), value=missing[0])
    vetted.kind = "xlsx"

    lowered = [name.lower() for name in parts]
    vetted.has_macros = any(name.endswith("vbaproject.bin") or "macrosheets/" in name
                            for name in lowered)
    if vetted.has_macros:
        vetted.findings.append(finding("F11", value="vbaProject.bin"))
    _external_links(parts, links, vetted)

    found = _Found(vetted)
    named, hidden = _workbook_sheets(archive, part, workbook, links, budget)
    vetted.sheets = list(named.values())
    vetted.hidden = [name for name in vetted.sheets if name in hidden]
    strings = _BadStrings()
    for info in _targets(links, "/sharedStrings", part, extra=(
            "xl/sharedStrings.xml", posixpath.join(posixpath.dirname(workbook),
                                                   "sharedStrings.xml"))):
        _scan_strings(archive, info, strings, budget)
    # Readers differ in how they resolve a relationship's target (python-calamine follows
    # absolute targets anywhere): scan every part any worksheet relationship may mean, and
    # anything else kept in a worksheets folder.
    sheets = _targets(links, "/worksheet", part)
    sheets += [info for name, info in parts.items()
               if name.lower().endswith(".xml") and "worksheets/" in name.lower()
               and info not in sheets]
    for info in sheets:
        label = named.get(info.filename, info.filename)
        _scan_sheet(archive, info, label, label in vetted.hidden, strings, budget, found)
    found.close()
    vetted.package = _as_vetted(infos, budget)


def _as_vetted(infos: list[zipfile.ZipInfo], budget: _Budget) -> bytes:
    """The package laid out again from what vetting saw: each part vetting inflated whole
    (and checked against its checksum) stored as those very bytes, every other part as its
    compressed bytes (``_packed``: where the directory says they are), each with a local
    header made from the directory. What reads its values then reads the parts vetted —
    not the file again through another zip reader's idea of where its parts are (which a
    crafted file may make differ) — and inflates only what vetting did not. (The master's
    own package writer, ``books.package``, lays out its entries alike: the gate and the
    books import nothing of each other, and core holds no file format.)"""
    out: list[bytes | memoryview] = []
    central: list[bytes] = []
    offset = 0
    for info in infos:
        if info.is_dir():
            continue
        kept = budget.kept.get(info.filename)
        data: bytes | memoryview
        if kept is not None and len(kept) == info.file_size:
            method, data = zipfile.ZIP_STORED, kept
        else:
            method, data = info.compress_type, budget.packed(info)
        name = info.filename.encode("utf-8")
        flags = 0x800 if not info.filename.isascii() else 0  # (none encrypted: F05)
        year, month, day, hour, minute, second = info.date_time
        moment = (max(year - 1980, 0) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2)
        fields = (method, moment[1], moment[0], info.CRC, len(data), info.file_size, len(name))
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, *fields, 0)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, *fields,
                                   0, 0, 0, 0, info.external_attr & 0xFFFFFFFF, offset) + name)
        out += (header, name, data)
        offset += len(header) + len(name) + len(data)
    directory = b"".join(central)
    out += (directory, struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central),
                                   len(directory), offset, 0))
    return b"".join(out)


def _cell_counts(hidden: list[str], counts: dict[str, int], limits: Limits) -> list[Finding]:
    """Hidden sheets stay small, and all sheets together within one sheet's worth: a file
    padded with millions of cells costs every reader time and memory for nothing."""
    found = [_too_many_hidden(name, counts[name], limits)
             for name in hidden if counts.get(name, 0) > limits.max_hidden_cells]
    total = sum(counts.values())
    if total > limits.max_total_cells:
        found.append(_too_many(total, limits))
    return found


def _too_many_hidden(sheet: str, cells: int, limits: Limits) -> Finding:
    return finding("F17", sheet=sheet, value=cells, sheet_name=sheet, limit=limits.max_hidden_cells)


def _too_many(cells: int, limits: Limits) -> Finding:
    return finding("F18", value=cells, limit=limits.max_total_cells)


_Links = dict[str, list[tuple[str, str, str]]]  # source part → [(Id, Type, Target)]


def _all_relationships(archive: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo],
                       budget: _Budget) -> _Links:
    """Every relationship in the package, by the part it belongs to ("" = the package)."""
    links: _Links = {}
    for name, info in parts.items():
        source = _relationships_of(name)
        if source is not None:
            links[source] = _listed(archive, info, _Relationships, budget)
    return links


# Part names and relationship targets are worked out as text alone, and a month's returns
# hold the same ones, return after return: the answers for short ones are kept (a few
# thousand, a few hundred characters each at most, whatever a file holds).
_KEPT_NAMES = 4096
_SHORT = 300
T = TypeVar("T")


def _kept_for_short(work: Callable[..., T]) -> Callable[..., T]:
    """``work`` (of texts alone), its answers kept for texts of ``_SHORT`` characters in
    all, at most."""
    kept = functools.lru_cache(maxsize=_KEPT_NAMES)(work)

    @functools.wraps(work)
    def answer(*texts: str) -> T:
        return kept(*texts) if sum(map(len, texts)) <= _SHORT else work(*texts)

    return answer


@_kept_for_short
def _relationships_of(name: str) -> str | None:
    """The part whose relationships the part ``name`` lists ("" = the package's), or
    ``None`` when it is no relationships part."""
    folder, base = posixpath.split(name)
    if base.lower().endswith(".rels") and posixpath.basename(folder) == "_rels":
        return posixpath.join(posixpath.dirname(folder), base[:-len(".rels")]).lstrip("/")
    return None


@_kept_for_short
def _candidates(target: str, source: str) -> tuple[str, ...]:
    """Part names a relationship target may mean: OPC's resolution against the source
    part's folder, and the ``xl/``-relative reading some readers use."""
    target = target.split("#")[0]
    if target.startswith("/"):
        names = [target.lstrip("/")]
    else:
        names = [posixpath.join(posixpath.dirname(source), target), posixpath.join("xl", target)]
    return tuple(dict.fromkeys(posixpath.normpath(name) for name in names))


def _rels_of(name: str) -> str:
    folder, base = posixpath.split(name)
    return posixpath.join(folder, "_rels", base + ".rels")


def _targets(links: _Links, kind: str, part: Callable[[str], zipfile.ZipInfo | None],
             extra: tuple[str, ...] = ()) -> list[zipfile.ZipInfo]:
    """Existing parts that relationships of ``kind`` (a Type suffix) point at."""
    names = list(extra)
    for source, items in links.items():
        for _rid, rel_type, target in items:
            if rel_type.endswith(kind):
                names += _candidates(target, source)
    found: list[zipfile.ZipInfo] = []
    for name in names:
        info = part(name)
        if info is not None and info not in found:
            found.append(info)
    return found


def _workbook_part(links: _Links, part: Callable[[str], zipfile.ZipInfo | None]) -> str:
    for _rid, rel_type, target in links.get("", []):
        if rel_type.endswith("/officeDocument"):
            for name in _candidates(target, ""):
                info = part(name)
                if info is not None:
                    return info.filename
    return "xl/workbook.xml"


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    limits = _LIMITS.get()
    if len(infos) > limits.max_entries:
        raise _stop("F07", detail=f"包含 {len(infos)} 个部件，超过上限 {limits.max_entries}",
                    value=len(infos))
    names = tuple(info.filename for info in infos)
    bad = _kept_bad_name(names, limits) if sum(map(len, names)) <= _NAMES_SHORT \
        else _first_bad_name(names, limits)
    total = 0
    for number, info in enumerate(infos):
        name = info.filename
        if bad is not None and bad[0] == number:
            raise _stop("F07", detail=bad[1], value=name)
        if info.flag_bits & 0x1:
            raise _stop("F05", value=name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _stop("F04", detail="使用了 Excel 不用的压缩方式", value=info.compress_type)
        total += info.file_size
        if total > limits.max_unpacked:
            raise _stop("F07", detail=f"解压后超过 {limits.max_unpacked // 2**20} MB，疑似压缩炸弹",
                        value=total)
        if info.file_size > limits.ratio_from \
                and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _stop("F07", detail=f"部件 {name} 的压缩比达 {ratio}:1，疑似压缩炸弹",
                        value=name)


def _first_bad_name(names: tuple[str, ...], limits: Limits) -> tuple[int, str] | None:
    """The first entry name that is not sound, or the same as one before it (whatever the
    case): its place and what is wrong with it."""
    seen: set[str] = set()
    for number, name in enumerate(names):
        problem = _bad_name(name, limits)
        if problem:
            return number, f"部件名{problem}"
        if name.casefold() in seen:
            return number, "部件重名"
        seen.add(name.casefold())
    return None


# A month's returns are one form: their entry names are the same, return after return, and
# so is what is wrong with them. Kept for short lists of names (the sizes, flags and
# compression of the entries are checked every time).
_NAMES_SHORT = 16_384  # characters in all
_kept_bad_name = functools.lru_cache(maxsize=64)(_first_bad_name)


def _bad_name(name: str, limits: Limits) -> str | None:
    if not name or len(name) > limits.max_name:
        return "为空或过长"
    if "\x00" in name or "\\" in name:
        return "含非法字符"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "是绝对路径"
    steps = name.rstrip("/").split("/")
    if ".." in steps or "." in steps:
        return "含上级目录（..）"
    if len(steps) > limits.max_depth:
        return "目录层级过深"
    return None


def _identify(archive: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo],
              part: Callable[[str], zipfile.ZipInfo | None], budget: _Budget) -> None:
    """Other zip-based formats: say which, so the message can be specific."""
    mimetype = parts.get("mimetype")
    if mimetype is not None:
        declared = _entry(archive, mimetype, budget, limit=200)
        if declared.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            raise _stop("F06", detail="OpenDocument 表格（.ods）", value="ods")
        if declared.startswith(b"application/vnd.oasis.opendocument"):
            raise _stop("F03", detail="OpenDocument 文档", value=declared[:80].decode("ascii",
                                                                                      "replace"))
    if any(name.startswith("Index/") and name.endswith(".iwa") for name in parts):
        raise _stop("F06", detail="Apple Numbers 表格（.numbers）", value="numbers")
    if part("xl/workbook.bin") is not None:
        raise _stop("F06", detail="Excel 二进制工作簿（.xlsb）", value="xlsb")
    if part("xl/workbook.xml") is not None:
        return
    if part("word/document.xml") is not None:
        raise _stop("F03", detail="Word 文档（.docx）", value="docx")
    if part("ppt/presentation.xml") is not None:
        raise _stop("F03", detail="PowerPoint 演示文稿（.pptx）", value="pptx")
    if part("[Content_Types].xml") is None:
        raise _stop("F03", detail="普通压缩包（zip）", value="zip")


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget,
                limit: int | None = None) -> Iterator[bytes]:
    """The entry's bytes in chunks, never more than declared, budgeted or ``limit``."""
    kept = budget.kept.get(info.filename)
    if kept is not None:
        yield kept if limit is None else kept[:limit]
        return
    cap = min(info.file_size, budget.left)
    if limit is not None:
        cap = min(cap, limit)
    got = 0
    whole = cap == info.file_size and cap <= _KEEP
    pieces: list[bytes] = []
    crc = 0
    for chunk in _inflate(budget.packed(info), info, cap):
        got += len(chunk)
        budget.left -= len(chunk)
        crc = zlib.crc32(chunk, crc)
        if whole:
            pieces.append(chunk)
        yield chunk
    if got < cap or got == info.file_size:  # the whole entry (or it ended early): check it
        if crc != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        if got < cap:
            return
    if whole:
        budget.kept[info.filename] = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    if limit is None and got < info.file_size:
        raise _stop("F07", detail=f"解压后超过 {_LIMITS.get().max_unpacked // 2**20} MB，疑似压缩炸弹",
                    value=info.filename)


def _entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget,
           limit: int | None = None) -> bytes:
    """``b"".join(_read_entry(…))``: a part small enough to be kept is inflated in one go."""
    kept = budget.kept.get(info.filename)
    if kept is not None:
        return kept if limit is None else kept[:limit]
    cap = min(info.file_size, budget.left)
    if limit is not None:
        cap = min(cap, limit)
    if cap != info.file_size or cap > _KEEP:
        return b"".join(_read_entry(archive, info, budget, limit))
    packed = budget.packed(info)
    if info.compress_type == zipfile.ZIP_STORED:
        if cap > len(packed):
            raise EOFError("stored entry shorter than declared")
        data = bytes(packed[:cap])
    else:
        inflater = zlib.decompressobj(-15)
        data = inflater.decompress(packed, cap) if cap else b""
        if len(data) < cap and not inflater.eof:
            raise EOFError("compressed data ends early")
    budget.left -= len(data)
    if zlib.crc32(data) != info.CRC:  # the whole entry (or it ended early): check it
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    if len(data) == cap:
        budget.kept[info.filename] = data
    return data


def _packed(data: memoryview, info: zipfile.ZipInfo) -> memoryview:
    """The entry's compressed bytes, its local header checked as ``ZipFile.open`` checks it
    (against the directory; stored or deflated only)."""
    offset = info.header_offset
    header = bytes(data[offset:offset + 30])
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("Bad magic number for file header")
    flags, name_length, extra_length = (struct.unpack_from("<H", header, 6)[0],
                                        *struct.unpack_from("<HH", header, 26))
    raw_name = bytes(data[offset + 30:offset + 30 + name_length])
    name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
    if name != info.orig_filename:
        raise zipfile.BadZipFile(f"File name in directory {info.orig_filename!r} and header "
                                 f"{name!r} differ.")
    if info.flag_bits & 0x60:  # compressed patched data, strong encryption
        raise NotImplementedError("unsupported zip feature")
    start = offset + 30 + name_length + extra_length
    packed = data[start:start + info.compress_size]
    if len(packed) < info.compress_size:
        raise EOFError("entry runs past the end of the file")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise NotImplementedError("compression method")
    return packed


def _inflate(packed: memoryview, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """Up to ``cap`` uncompressed bytes of the entry whose compressed bytes are ``packed``
    (``_packed``), in chunks: what ``ZipFile.open`` does (local header checked against the
    directory, stored or deflated only, never more than declared) without its per-read
    overhead."""
    if info.compress_type == zipfile.ZIP_STORED:
        if cap > len(packed):
            raise EOFError("stored entry shorter than declared")
        for at in range(0, cap, _CHUNK):
            yield bytes(packed[at:min(at + _CHUNK, cap)])
        return
    inflater = zlib.decompressobj(-15)
    fed, produced = 0, 0
    pending: bytes | memoryview = b""
    while produced < cap:
        if not pending:
            if fed >= len(packed):
                raise EOFError("compressed data ends early")
            # a small entry goes in at once; a large one in pieces, so that the input
            # still to go is never copied again and again
            step = len(packed) if len(packed) <= 4 * _CHUNK else _CHUNK
            pending = packed[fed:fed + step]
            fed += step
        out = inflater.decompress(pending, cap - produced)
        pending = inflater.unconsumed_tail
        if out:
            produced += len(out)
            yield out
        if inflater.eof:
            return


_KEEP = PROLOG_SCAN  # parts this small are read whole once, then served from memory
_DTD_MARKERS = tuple(marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY")
                     for codec in ("ascii", "utf-16-le", "utf-16-be"))


def _scan_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> None:
    reads = min(info.file_size, PROLOG_SCAN)
    # A part met before is not inflated again. That takes the bytes the scan would read
    # being within the budget (as they were then), which then pays for them as the scan would.
    key = _seen_key("prolog", info, budget) if reads <= budget.left else None
    if key is not None and _SEEN.get(key) is not None:
        budget.left -= reads
        return
    head = _entry(archive, info, budget, limit=PROLOG_SCAN)
    # every marker holds the byte "!" (memchr finds it at once: most parts have none), then
    # "<!" (ASCII, UTF-8) or "<\0!" (UTF-16 either way): only a part with one of them is
    # worth the six searches
    if b"!" in head and (b"<!" in head or b"<\x00!" in head) \
            and any(marker in head for marker in _DTD_MARKERS):
        raise _stop("F09", part=info.filename, value=info.filename)
    if key is not None:
        _SEEN.put(key, True)


# Parts met before in this process, and what they passed (``seenparts``): a month's returns
# share most of their parts. Not a return's sheets and shared strings, which differ from
# return to return (looking them up would only cost time); a sheet's relationships are kept.
_SEEN = SeenParts()
_OWN_TO_EACH_RETURN = re.compile(r"worksheets/[^/]*\.xml$|sharedstrings", re.IGNORECASE)


@_kept_for_short
def _own_to_each_return(name: str) -> bool:
    return _OWN_TO_EACH_RETURN.search(name) is not None


def _seen_key(what: str, info: zipfile.ZipInfo, budget: _Budget) -> tuple[Any, ...] | None:
    """The key in ``_SEEN`` of what ``what`` finds in the part ``info``: all it can depend
    on — the part's name, how it is stored, the size and checksum its inflated bytes are
    checked against, its exact compressed bytes, and the one limit that shapes a list
    (the elements a parse takes are paid for apart); ``None`` for a part that differs in
    every return."""
    if _own_to_each_return(info.filename):
        return None
    return (what, info.filename, info.compress_type, info.file_size, info.CRC,
            _LIMITS.get().max_entries, budget.packed(info))


def _listed(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None,
            handler: type[_Relationships] | type[_Workbook],
            budget: _Budget) -> list[tuple[str, str, str]]:
    """What ``handler`` lists of the part ``info`` (its relationships, or a workbook's
    sheets): parsed, or as it was in the same part met before — when the elements it took
    to parse are within the budget (as they were then), which then pays for them."""
    assert info is not None  # required parts were checked before
    key = _seen_key(handler.__name__, info, budget)
    seen = _SEEN.get(key) if key is not None else None
    if isinstance(seen, tuple):
        items, elements = seen
        if elements <= budget.elements:
            budget.elements -= elements
            return list(items)
    found = handler()
    before = budget.elements
    _parse_part(archive, info, found, budget)
    if key is not None:
        _SEEN.put(key, (tuple(found.items), before - budget.elements))
    return found.items


def _external_links(parts: dict[str, zipfile.ZipInfo], links: _Links, vetted: Vetted) -> None:
    external = sorted(name for name in parts
                      if "externallinks/" in name.lower() and name.lower().endswith(".xml"))
    if not external:
        return
    targets = [target for name in external for _rid, _type, target in links.get(name, [])
               if target]
    shown = "、".join(list(dict.fromkeys(targets))[:3]) if targets else f"{len(external)} 个"
    vetted.findings.append(finding("F12", detail=shown, value=shown))


def _workbook_sheets(archive: zipfile.ZipFile, part: Callable[[str], zipfile.ZipInfo | None],
                     workbook: str, links: _Links,
                     budget: _Budget) -> tuple[dict[str, str], set[str]]:
    """Worksheet names listed in the workbook part, by the part holding each sheet; and the
    names of the hidden (or very hidden) ones."""
    listed = _listed(archive, part(workbook), _Workbook, budget)
    targets = {rid: (rel_type, target) for rid, rel_type, target in links.get(workbook, [])}
    sheets: dict[str, str] = {}
    for name, rid, _state in listed:
        if rid not in targets:
            raise _stop("F08", detail=f"工作表「{name}」的关系记录", value=rid)
        rel_type, target = targets[rid]
        if not rel_type.endswith("/worksheet"):
            continue  # chart sheets and the like hold no cells
        infos = [part(candidate) for candidate in _candidates(target, workbook)]
        info = next((i for i in infos if i is not None), None)
        if info is None:
            raise _stop("F08", detail=f"工作表「{name}」的内容", value=target)
        sheets[info.filename] = name
    if not sheets:
        raise _stop("F08", detail="工作表", value=workbook)
    return sheets, {name for name, _rid, state in listed if state in ("hidden", "veryHidden")}


# ---------------------------------------------------------------------------------------
# Streaming XML: defusedxml's expat parser (DTD, entities and external references
# forbidden), fed capped chunks; we only replace its element callbacks


_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_x00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])_")


class _Handler:
    """Callbacks for one XML part; ``local`` names have their namespace stripped."""

    def start(self, local: str, attrs: list[str]) -> None:
        pass

    def end(self, local: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


def _parse_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, handler: _Handler,
                budget: _Budget) -> None:
    assert info is not None  # required parts were checked before
    from xml.parsers.expat import ExpatError

    from defusedxml import DefusedXmlException

    expat = _defused_expat()
    local_names: dict[str, str] = {}  # "{namespace}c" → "c", whatever the namespace
    remaining = budget.elements
    on_start, on_end = handler.start, handler.end

    def local(name: str) -> str:
        short = local_names.get(name)
        if short is None:
            short = local_names[name] = name[name.rfind("}") + 1:]
        return short

    def start(name: str, attrs: list[str]) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining < 0:
            raise _stop("F07", detail=f"XML 元素超过 {_LIMITS.get().max_elements} 个", value=info.filename)
        on_start(local(name), attrs)

    expat.StartElementHandler = start
    expat.EndElementHandler = lambda name: on_end(local(name))
    expat.CharacterDataHandler = handler.data
    expat.DefaultHandlerExpand = None
    escape_controls: bool | None = None
    try:
        for chunk in _read_entry(archive, info, budget):
            if escape_controls is None:  # raw control bytes only make sense to escape in UTF-8
                escape_controls = not chunk.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00",
                                                        b"\x00<"))
            if escape_controls:
                # XML 1.0 forbids them; Excel writes _x0001_. Make them visible as such.
                chunk = _RAW_CONTROL.sub(lambda m: b"_x%04X_" % m[0][0], chunk)
            expat.Parse(chunk, False)
        expat.Parse(b"", True)
    except DefusedXmlException:
        raise _stop("F09", part=info.filename, value=info.filename) from None
    except ExpatError as exc:
        raise _stop("F04", detail=f"{info.filename} 的 XML 格式错误",
                    value=f"{info.filename}: {exc}") from None
    finally:
        budget.elements = remaining


def _forbid_dtd(name: str, sysid: str | None, pubid: str | None, internal: bool) -> None:
    from defusedxml import DTDForbidden

    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name: str, _parameter: bool, value: str | None, base: str | None,
                   sysid: str | None, pubid: str | None, notation: str | None) -> None:
    from defusedxml import EntitiesForbidden

    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _forbid_unparsed_entity(name: str, base: str | None, sysid: str | None, pubid: str | None,
                            notation: str | None) -> None:
    from defusedxml import EntitiesForbidden

    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _forbid_external(context: str, base: str | None, sysid: str | None,
                     pubid: str | None) -> int:
    from defusedxml import ExternalReferenceForbidden

    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _defused_expat() -> Any:
    """An expat parser set up as defusedxml's ``DefusedXMLParser(forbid_dtd=True,
    forbid_entities=True, forbid_external=True)`` sets up its own — DTD, entity declarations
    and external references raise defusedxml's errors — and as ElementTree configures it
    (``}`` between namespace and name, buffered text, attributes as a flat list), without
    building the tree-builder objects the vetting callbacks replace anyway."""
    from xml.parsers import expat

    parser = expat.ParserCreate(None, "}")
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    return parser


def _attr(attrs: list[str], key: str) -> str | None:
    """An attribute by local name from expat's flat [name, value, …] list."""
    for i in range(0, len(attrs) - 1, 2):
        name = attrs[i]
        if name == key or name.endswith("}" + key):
            return attrs[i + 1]
    return None


class _Relationships(_Handler):
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # (Id, Type, Target)

    def start(self, local: str, attrs: list[str]) -> None:
        if local == "Relationship" and len(self.items) < _LIMITS.get().max_entries:
            self.items.append((_attr(attrs, "Id") or "", _attr(attrs, "Type") or "",
                               _attr(attrs, "Target") or ""))


class _Workbook(_Handler):
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # its sheets: (name, r:id, state)

    def start(self, local: str, attrs: list[str]) -> None:
        if local == "sheet" and len(self.items) < _LIMITS.get().max_entries:
            self.items.append((_attr(attrs, "name") or "", _attr(attrs, "id") or "",
                                _attr(attrs, "state") or "visible"))


class _Text:
    """Length of a text and whether it holds control characters, without keeping it all."""

    __slots__ = ("length", "head", "control", "_tail")

    def __init__(self) -> None:
        self.length = 0
        self.head = ""
        self.control = False
        self._tail = ""

    def add(self, text: str) -> None:
        self.length += len(text)
        if len(self.head) < 200:
            self.head += text[:200]
        if not self.control:
            probe = self._tail + text  # an _x0001_ escape may be split between calls
            self.control = _CONTROL.search(probe) is not None
            self._tail = probe[-6:]


class _BadStrings:
    """Indexes of shared strings that are too long or hold control characters."""

    def __init__(self) -> None:
        self.long: dict[int, int] = {}
        self.control: set[int] = set()

    @property
    def empty(self) -> bool:
        return not self.long and not self.control


class _SharedStrings(_Handler):
    def __init__(self, bad: _BadStrings) -> None:
        self.bad = bad
        self.index = 0
        self.text: _Text | None = None
        self.sink: _Text | None = None
        self.phonetic = False

    def start(self, local: str, attrs: list[str]) -> None:
        if local == "sst":
            declared = _attr(attrs, "uniqueCount") or ""
            # calamine reserves memory for uniqueCount strings up front
            if declared.isdigit() and (len(declared) > 9 or int(declared) > _LIMITS.get().max_strings):
                raise _stop("F07", detail=f"共享字符串表声明了 {declared} 个字符串",
                            value=declared[:20])
        elif local == "si":
            self.text = _Text()
        elif local == "rPh":
            self.phonetic = True
        elif local == "t" and self.text is not None and not self.phonetic:
            self.sink = self.text

    def end(self, local: str) -> None:
        if local == "t":
            self.sink = None
        elif local == "rPh":
            self.phonetic = False
        elif local == "si" and self.text is not None:
            if self.text.length > EXCEL_TEXT_LIMIT and len(self.bad.long) < _LIMITS.get().max_entries:
                self.bad.long[self.index] = self.text.length
            if self.text.control and len(self.bad.control) < _LIMITS.get().max_entries:
                self.bad.control.add(self.index)
            self.text = None
            self.index += 1
            if self.index > _LIMITS.get().max_strings:
                raise _stop("F07", detail="共享字符串过多", value=self.index)

    def data(self, text: str) -> None:
        if self.sink is not None:
            self.sink.add(text)


class _Found:
    """Cell-level warnings, at most MAX_CELL_FINDINGS per rule; the rest summed up."""

    def __init__(self, vetted: Vetted) -> None:
        self.vetted = vetted
        self.counts: dict[str, int] = {}

    def cell(self, code: str, sheet: str, cell: str, value: object) -> None:
        seen = self.counts[code] = self.counts.get(code, 0) + 1
        if seen <= MAX_CELL_FINDINGS:
            self.vetted.findings.append(finding(code, sheet=sheet, cell=cell, value=value,
                                                where=f"工作表「{sheet}」{cell} 单元格"))

    def close(self) -> None:
        for code, seen in self.counts.items():
            if seen > MAX_CELL_FINDINGS:
                rest = seen - MAX_CELL_FINDINGS
                self.vetted.findings.append(finding(code, where=f"另有 {rest} 个单元格",
                                                    value=rest))


# The fast path: a plain sheet — UTF-8, every cell with a plain A1 reference near A1, no
# formula without its value, no control character, no long text — is vetted by a few
# searches over its bytes (in C) instead of a Python callback per element; anything else
# gets the full streaming parse. Each search errs on the side of the full parse: a byte
# pattern that merely might matter sends the sheet there.
_FAST_LIMIT = 8 * 2**20
_LEADING = re.compile(rb"\s*<")
# A formula: the full parse looks at it unless each formula has its computed value saved
# right after it (not blank, unless empty text, below: the full parse takes a formula
# without one as never computed, F13) — as Excel, WPS and LibreOffice save a return's 本年累计
# and 开工以来累计. No "<" stands in the text or attributes of a well-formed part, so each
# "<f" opens a formula element, and the count of those equals the count of those computed.
_FORMULA = re.compile(rb"<f[\s/>]")
_FORMULA_ELEMENT = rb"""<f(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(?:/>|>[^<]*</f>)"""
_COMPUTED_FORMULA = re.compile(_FORMULA_ELEMENT + rb"<v>[^<&\s]")
# A formula computed as empty text: our form's 本年累计 while 本月完成 is blank (its formula
# gives ""), which Excel, WPS and LibreOffice save as a text cell with an empty value, as
# ``<c r="J5" s="17" t="str"><f>IF(I5="","",G5+I5)</f><v></v></c>``. The full parse takes a
# text cell's value as computed, empty or not; only this plain shape (the cell's attributes
# r, s and t, and nothing else, which could hold another "t") is known from its bytes.
_EMPTY_TEXT_FORMULA = re.compile(rb'<c r="[A-Z]{1,3}[1-9][0-9]{0,6}"(?: s="[0-9]{1,6}")? t="str">'
                                 + _FORMULA_ELEMENT + rb"<v(?:\s*/>|></v>)")
# A cell or formula element with a namespace prefix: the full parse looks at it. (Only a
# part where ``_PREFIXED_END`` stands, a quicker search, is searched for one.)
_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.-]*:[cf][\s/>]")
_PREFIXED_END = re.compile(rb":[cf][\s/>]")
# A cell whose reference is not plain capitals and digits within FZ9999 (row not 0): it may
# lie beyond the limits, or be read differently by readers (python-calamine takes
# ``xfd1048576`` as XFD1048576 and aborts on it); the full parse measures it exactly.
# Any cell element but ``<c r="`` and a plain reference — spaced otherwise, without its
# reference first, or with a reference that is not plain: a sheet without one has exactly
# as many cells as ``<c r="`` occurs (no "<" stands unescaped in text or attributes of a
# well-formed part, which expat makes sure of below).
_UNPLAIN_CELL = re.compile(rb'<c(?:[\t\n\r\f\v/>]| (?!r="[A-F]?[A-Z][1-9][0-9]{0,3}"))')
_PLAIN_REACH = (9_999, 182)  # rows, columns a plain reference can reach (FZ = 182)
# Every dimension element's ref, in either quotes, and possibly more (the name is not
# anchored to its "<").
_DIMENSION = re.compile(rb"""dimension\s[^>]*?\bref=["']([^"']*)["']""")
_CELL = re.compile(rb"<c[\s/>]")
_ESCAPED_CONTROL = re.compile(rb"_x00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])_")
# A character reference to "_" (&#95;, &#x5F;, any zeros before), and to any ASCII
# character: Chinese text spelled as references, as openpyxl writes it, has neither.
_UNDERSCORE_REFERENCE = re.compile(rb"&#[0xX]*(?:95|5[fF]);")
_ASCII_REFERENCE = re.compile(rb"&#(?:0*(?:1[01][0-9]|12[0-7]|[0-9]{1,2})|[xX]0*[0-7]?[0-9a-fA-F]);")
_TAG = re.compile(rb"<[^>]*>")


def _plain_bytes(data: bytes, item: re.Pattern[bytes]) -> bool:
    """What both quick paths (sheets, shared strings) ask of a part's bytes first: not too
    large, UTF-8 XML, no "<!" (a DTD or entity; also a comment or CDATA, which the full
    parse handles), and no text the full parse could find too long or holding a control
    character. The full parse joins the runs of a rich text and reads character
    references, so: no raw control byte (none is, in well-formed XML: each quick path ends
    with expat, which refuses it, and leaves the part to the full parse, which turns it into
    an escape and finds it); where a "_" stands, as itself or as a reference
    (an escape, ``_x0001_``, needs two), no reference to an ASCII character (it could spell
    the rest) and no escape in the text with the tags taken out (text holds no "<", so no
    text is taken away; what is left of an odd tag only adds); and no stretch longer than a
    text may be between one ``item`` (the element a text belongs to) and the next, or the
    part's start or end — a text is never longer in characters than in bytes."""
    if len(data) > _FAST_LIMIT or not _LEADING.match(data):
        return False
    head = data[:200].lower()
    if b"encoding" in head and b"utf-8" not in head:
        return False
    if b"!" in data and b"<!" in data:
        return False
    if b"_" in data or (b"&#" in data and _UNDERSCORE_REFERENCE.search(data)):
        if _ASCII_REFERENCE.search(data) or _ESCAPED_CONTROL.search(_TAG.sub(b"", data)):
            return False
    if len(data) > EXCEL_TEXT_LIMIT:
        starts = [0, *(found.start() for found in item.finditer(data)), len(data)]
        if any(end - start > EXCEL_TEXT_LIMIT
               for start, end in zip(starts, starts[1:], strict=False)):
            return False
    return True


def _plain_sheet(data: bytes) -> int | None:
    """The number of cells when the bytes show a sheet that cannot give any finding (see
    above); ``None`` when the sheet needs the full parse."""
    limits = _LIMITS.get()
    if limits.max_rows < _PLAIN_REACH[0] or limits.max_cols < _PLAIN_REACH[1] \
            or not _plain_bytes(data, _CELL):
        return None
    if _PREFIXED_END.search(data) and _PREFIXED_CELL.search(data):
        return None
    formulas = len(_FORMULA.findall(data))
    if formulas:
        computed = len(_COMPUTED_FORMULA.findall(data))
        if formulas != computed and formulas != computed + len(_EMPTY_TEXT_FORMULA.findall(data)):
            return None
    cells = data.count(b'<c r="')
    if cells > limits.max_cells or _UNPLAIN_CELL.search(data):
        return None
    for ref in _DIMENSION.findall(data):
        far = _position(ref.decode("ascii", "replace").split(":")[-1])
        if far is None or far[0] > limits.max_rows or far[1] > limits.max_cols:
            return None
    return cells if _well_formed(data) else None


def _well_formed(data: bytes) -> bool:
    """Whether the part is well-formed XML, namespaces included, as the full parse takes
    it: expat with no handlers runs entirely in C. Only for bytes without "<!": with no DTD,
    no entity can be declared or expanded."""
    from xml.parsers import expat

    try:
        expat.ParserCreate(None, "}").Parse(data, True)
    except expat.ExpatError:
        return False
    return True


# The fast path for shared strings: a part whose bytes show that no string in it is too
# long or holds a control character, and that it declares no more strings than allowed,
# is vetted by a few searches (in C) instead of a Python callback per element — a return
# saved by Excel, WPS or LibreOffice keeps its text there, often in rich-text runs, three
# to ten elements a string. Each search errs on the side of the full parse.
_STRING_ITEM = re.compile(rb"<si[\s/>]")
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _plain_strings(data: bytes) -> bool:
    """Whether the bytes show a shared-strings part that cannot give any finding (see
    above); ``False`` when it needs the full parse."""
    limits = _LIMITS.get()
    if not _plain_bytes(data, _STRING_ITEM):
        return False
    at = data.find(b"uniqueCount")
    while at >= 0:  # any element's, not only <sst>'s
        declared = _UNIQUE_COUNT.match(data, at)
        if declared is not None:
            count = declared[1] if declared[1] is not None else declared[2]
            if not count.isdigit() or len(count) > 9 or int(count) > limits.max_strings:
                return False
        at = data.find(b"uniqueCount", at + 1)
    # The full parse knows a string by its local name, whatever its prefix: no more strings
    # than "<"s (and a prefixed string's text lies between two "<si" as well).
    if data.count(b"<") > limits.max_strings:
        return False
    return _well_formed(data)


def _scan_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo, strings: _BadStrings,
                  budget: _Budget) -> None:
    """Vet one shared-strings part: the strings too long or holding control characters go
    into ``strings``."""
    if info.file_size <= _FAST_LIMIT and _plain_strings(_entry(archive, info, budget)):
        return
    _parse_part(archive, info, _SharedStrings(strings), budget)


def _scan_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str, hidden: bool,
                strings: _BadStrings, budget: _Budget, found: _Found) -> None:
    """Vet one worksheet part. Its cells count against the file's budget, and a hidden
    sheet's against the (small) limit of hidden sheets: vetting stops at the first cell
    too many, however many more the sheet holds."""
    if strings.empty and info.file_size <= _FAST_LIMIT:
        cells = _plain_sheet(_entry(archive, info, budget))
        if cells is not None:
            limits = _LIMITS.get()
            if hidden and cells > limits.max_hidden_cells:
                raise _Stop(_too_many_hidden(sheet, cells, limits))
            budget.cells -= cells
            if budget.cells < 0:
                raise _Stop(_too_many(limits.max_total_cells - budget.cells, limits))
            return
    handler = _Sheet(sheet, strings, found, hidden, budget)
    try:
        _parse_part(archive, info, handler, budget)
    except _Stop as stop:
        if stop.finding.code != "F10":
            raise
        found.vetted.findings.append(stop.finding)  # the other sheets still get looked at


_DIGITS = "0123456789"
_COLUMNS: dict[str, int] = {}  # column letters → number, filled as met (≤ 18 278 keys)


def _position(ref: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of an A1 reference; absurd lengths give absurd numbers."""
    ref = ref.replace("$", "")
    letters = ref.rstrip(_DIGITS)
    digits = ref[len(letters):]
    if not digits or not letters.isascii() or not letters.isalpha() or not digits.isdigit():
        return None
    if len(letters) > 3 or len(digits) > 9:
        return (10**9, 10**9)
    col = _COLUMNS.get(letters)
    if col is None:
        col = 0
        for letter in letters.upper():
            col = col * 26 + ord(letter) - 64
        _COLUMNS[letters] = col
    return int(digits), col


def _a1(row: int, col: int) -> str:
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


# The form's own 本年累计 / 开工以来累计 formula (``reports.forms``: 上月 + 本月, blank while
# 本月 is), saved by a program that does not compute formulas, is no problem of the unit's:
# the checker works its value out. So it is not F13 — exactly that shape, within one row.
_FORM_FORMULA = re.compile(r'IF\(([A-Z]+)([1-9][0-9]*)="","",[A-Z]+\2\+\1\2\)')


class _Sheet(_Handler):
    """One worksheet part: its extent, and per cell formulas and texts.

    Called once per XML element of what may be a large sheet, so it does as little as it
    can for a plain number: position check only."""

    def __init__(self, sheet: str, strings: _BadStrings, found: _Found, hidden: bool,
                 budget: _Budget) -> None:
        self.sheet, self.strings, self.found, self.budget = sheet, strings, found, budget
        limits = _LIMITS.get()
        # the cell count at which to stop: one past the sheet's or the file's allowance
        self.stop_at = min(limits.max_cells, limits.max_hidden_cells if hidden else limits.max_cells,
                           budget.cells) + 1
        self.hidden = hidden
        self.row = self.col = self.cells = 0
        self.in_cell = self.in_inline = self.phonetic = False
        self.sink: _Text | None = None
        self.ref: str | None = None
        self.type: str | None = None
        self.formula: _Text | None = None
        self.value: _Text | None = None
        self.has_value = False
        self.inline: _Text | None = None

    def _too_big(self, detail: str, cell: str | None, value: str) -> _Stop:
        return _stop("F10", sheet=self.sheet, cell=cell, value=value, sheet_name=self.sheet,
                     detail=detail, max_rows=_LIMITS.get().max_rows, max_cols=_LIMITS.get().max_cols)

    def start(self, local: str, attrs: list[str]) -> None:
        if local == "c":
            self._start_cell(attrs)
        elif local == "v":
            self.has_value = True
            if self.formula is not None or self.type in ("s", "str"):
                self.value = self.sink = _Text()
        elif local == "row":
            r = dict(zip(attrs[::2], attrs[1::2], strict=True)).get("r", "")
            self.row = int(r) if r.isdigit() and len(r) <= 9 else self.row + 1
            self.col = 0
        elif not self.in_cell:
            if local == "dimension":
                ref = _attr(attrs, "ref") or ""
                far = _position(ref.split(":")[-1]) if ref else None
                if far is not None and (far[0] > _LIMITS.get().max_rows or far[1] > _LIMITS.get().max_cols):
                    raise self._too_big(f"声明的使用范围为 {ref[:40]}", None, ref[:40])
        elif local == "f":
            self.formula = self.sink = _Text()
        elif local == "is":
            self.in_inline = True
            self.inline = _Text()
        elif local == "rPh":
            self.phonetic = True
        elif local == "t" and self.in_inline and not self.phonetic:
            self.sink = self.inline

    def _start_cell(self, attrs: list[str]) -> None:
        self.cells += 1
        if self.cells >= self.stop_at:
            self._too_many()
        named = dict(zip(attrs[::2], attrs[1::2], strict=True)) if attrs else {}
        ref = named.get("r")
        where = _position(ref) if ref else None
        if where is None:  # no (usable) reference: the cell follows the previous one
            where = (self.row, self.col + 1)
            ref = None
        self.row, self.col = where
        if where[0] > _LIMITS.get().max_rows or where[1] > _LIMITS.get().max_cols:
            shown = (ref or _a1(*where))[:20]
            raise self._too_big(f"在 {shown} 处还有单元格", shown, shown)
        self.in_cell = True
        self.ref = ref
        self.type = named.get("t")
        self.formula = self.value = self.inline = None
        self.has_value = False

    def _too_many(self) -> None:
        limits = _LIMITS.get()
        if self.hidden and self.cells > limits.max_hidden_cells:
            raise _Stop(_too_many_hidden(self.sheet, self.cells, limits))
        if self.cells > self.budget.cells:
            raise _Stop(_too_many(limits.max_total_cells - self.budget.cells + self.cells, limits))
        raise self._too_big(f"有超过 {limits.max_cells} 个单元格", None, str(self.cells))

    def end(self, local: str) -> None:
        if local == "sheetData" or local == "worksheet":
            self.budget.cells -= self.cells
            self.cells = 0  # counted once
            return
        if local == "c":
            if self.in_cell:
                self.in_cell = False
                if self.formula is not None or self.value is not None or self.inline is not None:
                    self._end_cell()
        elif local in ("v", "f", "t"):
            self.sink = None
        elif local == "rPh":
            self.phonetic = False
        elif local == "is":
            self.in_inline = False

    def _end_cell(self) -> None:
        formula, value, kind = self.formula, self.value, self.type
        cell = self.ref or _a1(self.row, self.col)
        cached = self.has_value and (kind == "str" or (value is not None
                                                        and value.head.strip() != ""))
        if formula is not None and not cached and not _FORM_FORMULA.fullmatch(formula.head):
            self.found.cell("F13", self.sheet, cell,
                            "=" + formula.head if formula.head else "（共享公式）")
        texts: list[_Text] = []
        if kind == "s" and value is not None and value.head.strip().isdigit():
            index = int(value.head.strip()[:12])
            if index in self.strings.long:
                self.found.cell("F14", self.sheet, cell, self.strings.long[index])
            if index in self.strings.control:
                self.found.cell("F15", self.sheet, cell, "控制字符")
        elif kind == "inlineStr" and self.inline is not None:
            texts.append(self.inline)
        elif kind == "str" and value is not None:
            texts.append(value)
        for text in texts:
            if text.length > EXCEL_TEXT_LIMIT:
                self.found.cell("F14", self.sheet, cell, text.length)
            if text.control:
                self.found.cell("F15", self.sheet, cell, "控制字符")

    def data(self, text: str) -> None:
        if self.sink is not None:
            self.sink.add(text)


# ---------------------------------------------------------------------------------------
# Reading the values of a vetted file


def safe_read_sheets(vetted: Vetted, *, isolate: bool | None = None,
                     timeout: float | None = None,
                     memory_limit: int | None = None) -> dict[str, list[list[Any]]] | Finding:
    """Every worksheet's values (``values[r-1][c-1]``, anchored at A1) of a vetted file,
    or an F16 finding (not an exception) when reading fails.

    Reads nothing (``{}``) unless ``vetted.ok``. By default reads in this process only
    when the file is an ``.xlsx`` on which vetting found nothing at all; otherwise
    (``.xls``, vetted for size only, or any warning) in a reader process
    (``readers.shared()``: long-lived, reused from file to file) limited to ``memory_limit``
    bytes of address space (where the OS supports it; not Windows) and ``timeout`` seconds.
    ``isolate=True``/``False`` forces either way. The bytes read are the ones vetted
    (``vetted.to_read``: an .xlsx laid out again from the parts as vetted, else the file's
    bytes as vetted) when vetting kept them.
    """
    if not vetted.ok or vetted.kind is None:
        return {}
    if isolate is None:
        isolate = vetted.kind != "xlsx" or bool(vetted.findings)
    if isolate:
        values = _read_isolated(vetted, timeout or vetted.limits.read_timeout,
                                memory_limit or vetted.limits.read_memory)
    else:
        from ._sheetreader import read_values

        try:
            values = read_values(str(vetted.path), vetted.to_read)
        except Exception as exc:
            return finding("F16", detail="文件内容无法解析", value=f"{type(exc).__name__}: {exc}")
    if not isinstance(values, dict) or vetted.kind != "xls":  # a finding, or an .xlsx read
        return values
    # A .xls is vetted for size only: its sheets are measured now, as read under the limits.
    counts = {name: sum(1 for row in rows for value in row if value not in (None, ""))
              for name, rows in values.items()}
    too_many = _cell_counts(vetted.hidden, counts, vetted.limits)
    return too_many[0] if too_many else values


def _read_isolated(vetted: Vetted, timeout: float,
                   memory_limit: int) -> dict[str, list[list[Any]]] | Finding:
    from .readers import shared

    outcome = shared().ask(("read", (str(vetted.path), vetted.to_read, memory_limit,
                                     int(timeout) + 1)), timeout)
    return _values_of(outcome, timeout)


def _values_of(outcome: Outcome, timeout: float) -> dict[str, list[list[Any]]] | Finding:
    """The values a reader read, or the F16 finding that says, in words a 信息员 reads, why
    there are none. What the reader itself said (an exit status, a library's English error)
    stays in ``outcome``: it is no value of the unit's file, and a finding's value is shown
    to the unit (the annotated copy's 值 column)."""
    if outcome.status == "timeout":
        return finding("F16", detail=f"读取超时（超过 {timeout:g} 秒）")
    if outcome.status == "died":
        return finding("F16", detail="读取进程异常退出，文件可能过大或已损坏")
    if outcome.status != "ok" or not isinstance(outcome.payload, dict):
        return finding("F16", detail="文件内容无法解析")
    return outcome.payload


# ---------------------------------------------------------------------------------------
# Vetting and reading a file at once, here or in a reader process


@dataclass
class Examined(_TakenAsItIs):
    """A file vetted and (if safe) read: what checking it starts from. ``values`` is ``{}``
    when vetting refused the file, an F16 finding when reading failed."""

    vetted: Vetted
    sha256: str
    values: dict[str, list[list[Any]]] | Finding


def examine(path: Path | str, limits: Limits = RETURN) -> Examined:
    """Vet ``path`` and read its values (``safe_read_sheets``: here when vetting found
    nothing, else in a reader process); the content hash is of the bytes vetted."""
    path = Path(path)
    vetted = vet_workbook(path, limits=limits)
    sha = vetted.digest()
    values = safe_read_sheets(vetted)
    vetted.release()
    return Examined(vetted, sha, values)


def check_request(path: Path, limits: Limits = RETURN) -> tuple[tuple[Any, ...], float]:
    """The request that has a reader process ``examine`` ``path``, and its time limit."""
    timeout = limits.read_timeout * 2  # vetting, then reading
    return ("check", (str(path), limits, int(timeout) + 1)), timeout


def examined_from(path: Path, outcome: Outcome, limits: Limits = RETURN) -> Examined | None:
    """What a reader's answer to ``check_request`` says of the file: an F16 finding when the
    reader died or ran too long on it; ``None`` when the reader failed in a way that says
    nothing about the file (it is then examined here)."""
    if outcome.status == "ok":
        try:
            return _from_plain(path, limits, outcome.payload)
        except Exception:  # not the shape a reader answers with
            return None
    if outcome.status == "error":  # a Python error in the reader: not the file's doing
        return None
    problem = _values_of(outcome, check_request(path, limits)[1])
    assert not isinstance(problem, dict)  # a finding
    return Examined(Vetted(path, limits=limits, findings=[problem]), file_sha256(path), {})


def examine_plain(path: str, limits: Limits) -> tuple[Any, ...]:
    """``examine`` in a reader process, as plain data for the answer (``_from_plain``)."""
    examined = examine(path, limits)
    vetted = examined.vetted
    values = examined.values
    return (examined.sha256, vetted.kind, [_plain_finding(f) for f in vetted.findings],
            vetted.sheets, vetted.hidden, vetted.has_macros,
            values if isinstance(values, dict) else _plain_finding(values))


def _plain_finding(item: Finding) -> tuple[Any, ...]:
    return (item.code, item.message, item.sheet, item.cell, item.project_id, item.value,
            item.project_name, None if item.level is None else item.level.value)


def _from_plain_finding(plain: Any) -> Finding:
    from ..core.findings import Finding

    code, message, sheet, cell, project_id, value, project_name, level = plain
    return Finding(RULES[code], message, sheet, cell, project_id, value, project_name,
                   None if level is None else Severity(level))


def _from_plain(path: Path, limits: Limits, plain: Any) -> Examined:
    sha, kind, findings, sheets, hidden, has_macros, values = plain
    if kind not in (None, "xlsx", "xls") or not isinstance(sha, str):
        raise ValueError(kind)
    vetted = Vetted(path, kind, [_from_plain_finding(f) for f in findings], list(sheets),
                    bool(has_macros), limits, list(hidden))
    if not isinstance(values, dict):
        values = _from_plain_finding(values)
    return Examined(vetted, sha, values)


def file_sha256(path: Path) -> str:
    """The content hash of a file ("" when it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()
