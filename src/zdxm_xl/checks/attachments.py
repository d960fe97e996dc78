"""Mail attachments, byte by byte: what each one is, what is inside a zip, what to save it as.

The MIME structure is ``mail.messages``' business; the bytes of an attachment come from
outside the office and pass this gate first — under the same limits as a returned file
(``limits.ATTACHMENT``), with the one content sniffer (``sniff``): a file named .xlsx that
holds a PDF is refused with a reason a 信息员 understands, zips are opened with care and
never nested, and a sender's file name is made safe before anything is saved.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from .limits import ATTACHMENT
from .sniff import container, describe, zip_kind

__all__ = ["WORKBOOK_SUFFIXES", "OTHER_ARCHIVES", "Candidate", "inspect_attachment", "unpack_zip",
           "iter_files", "safe_file_name", "too_big", "printable"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ett", ".xlt", ".xltx", ".ods", ".xlsb")
OTHER_ARCHIVES = (".rar", ".7z", ".gz", ".tar", ".tgz", ".bz2", ".xz", ".cab", ".arj")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
_MAX_NAME = 120  # characters of a saved file name


@dataclass
class Candidate:
    """One attachment (or one file inside a zip attachment) and what to do with it."""

    name: str  # as the sender named it, decoded; ``压缩包.zip/月报.xlsx`` for a zip member
    action: str  # "save", "reject" (looked like a workbook, refused), "ignore", or "zip"
    #              (a zip of files, which ``iter_files`` replaces by its members)
    data: bytes = b""
    reason: str = ""  # Chinese, for reject and ignore
    suffix: str = ".xlsx"  # what to save it as


def printable(text: str) -> str:
    """Text without control characters (a header or file name may carry any)."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") or c == " ")


def inspect_attachment(shown: str, data: bytes, suffix: str, *, is_zip: bool,
                       generic: bool) -> Candidate:
    """Decoded attachment bytes named ``shown`` → save it, refuse it, ignore it, or open it
    as a zip. ``is_zip``: named or typed as a zip; ``generic``: sent with a content type
    that says nothing (application/octet-stream)."""
    if len(data) > ATTACHMENT.max_bytes:
        return Candidate(shown, "reject", reason=too_big(len(data)))
    kind = _kind(data)
    if is_zip and kind == "zip-archive":
        return Candidate(shown, "zip", data=data)
    if kind is None or kind == "zip-archive":
        if generic and not suffix:
            return Candidate(shown, "ignore", reason="不是 Excel 工作簿，未处理")
        return Candidate(shown, "reject", reason=f"名为 Excel 文件，内容却是{describe(data[:4096])}，可能"
                                                 "只是改了扩展名；请用 Excel 或 WPS 另存为 .xlsx 后重新发送")
    return Candidate(shown, "save", data=data, suffix=_suffix_for(suffix, kind))


def too_big(size: int) -> str:
    return (f"附件过大（约 {size / 2**20:.1f} MB，上限 {ATTACHMENT.max_bytes // 2**20} MB），未接收；"
            "填报文件通常不足 1 MB，请删除多余内容后另存为 .xlsx 重新发送")


def _kind(data: bytes) -> str | None:
    """"ole" (.xls/.et, or an encrypted workbook), "ooxml" (a zip with the parts of an Office
    file), "zip-archive" (any other zip) or None."""
    found = container(data)
    if found == "zip":
        return zip_kind(data, ATTACHMENT.zip_entries)
    return found


def _suffix_for(suffix: str, kind: str) -> str:
    if suffix in WORKBOOK_SUFFIXES:
        return suffix
    return ".xls" if kind == "ole" else ".xlsx"


def unpack_zip(candidate: Candidate) -> list[Candidate]:
    """The workbooks inside a zip attachment, read with the checker's caution: limits on
    entries, sizes, ratios and names; nested zips are not opened."""
    found: list[Candidate] = []
    outer = candidate.name

    def refuse(reason: str) -> list[Candidate]:
        return [Candidate(outer, "reject", reason=reason)]

    try:
        archive = zipfile.ZipFile(io.BytesIO(candidate.data))
    except Exception:
        return refuse("压缩包已损坏，无法打开；请重新压缩后发送，或直接附上 .xlsx 文件")
    with archive:
        infos = archive.infolist()
        if len(infos) > ATTACHMENT.zip_entries:
            return refuse(f"压缩包内文件过多（{len(infos)} 个，上限 {ATTACHMENT.zip_entries}），未解压")
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            name = _member_name(info)
            shown = f"{outer}/{name}"
            suffix = PurePosixPath(name.lower()).suffix
            if name.startswith("._") or "__MACOSX" in info.filename:
                continue
            if suffix not in WORKBOOK_SUFFIXES:
                nested = suffix in (".zip", *OTHER_ARCHIVES)
                why = "压缩包内的压缩包不解压" if nested else "不是 Excel 工作簿，未处理"
                found.append(Candidate(shown, "ignore", reason=why))
                continue
            if len([c for c in found if c.action == "save"]) >= ATTACHMENT.zip_workbooks:
                found.append(Candidate(shown, "reject", reason="压缩包内工作簿过多，其余未解压"))
                continue
            if info.flag_bits & 0x1:
                found.append(Candidate(shown, "reject", reason="压缩包设有密码，无法解压，请去掉密码"))
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                found.append(Candidate(shown, "reject", reason="压缩方式不支持，请用常见的 zip 格式压缩"))
                continue
            if info.file_size > ATTACHMENT.max_bytes:
                found.append(Candidate(shown, "reject", reason=too_big(info.file_size)))
                continue
            if info.file_size > 2**20 and info.file_size > ATTACHMENT.zip_ratio * max(info.compress_size, 1):
                found.append(Candidate(shown, "reject", reason="压缩比异常（疑似压缩炸弹），未解压"))
                continue
            if total + info.file_size > ATTACHMENT.zip_total:
                found.append(Candidate(shown, "reject", reason="压缩包解压后总量过大，其余未解压"))
                continue
            try:
                with archive.open(info) as stream:
                    data = stream.read(ATTACHMENT.max_bytes + 1)
            except Exception:
                found.append(Candidate(shown, "reject", reason="压缩包内的文件已损坏，无法解压"))
                continue
            total += len(data)
            if len(data) > ATTACHMENT.max_bytes or len(data) != info.file_size:
                found.append(Candidate(shown, "reject", reason="压缩包内文件的大小与声明不符，未接收"))
                continue
            kind = _kind(data)
            if kind not in ("ole", "ooxml"):
                found.append(Candidate(shown, "reject",
                                       reason=f"名为 Excel 文件，内容却是{describe(data[:4096])}"))
                continue
            found.append(Candidate(shown, "save", data=data, suffix=_suffix_for(suffix, kind)))
    if not found:
        return [Candidate(outer, "ignore", reason="压缩包内没有 Excel 工作簿")]
    return found


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not marked UTF-8: Chinese Windows writes GBK names
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return PureWindowsPath(name.replace("/", "\\")).name or "未命名"


def iter_files(candidates: list[Candidate]) -> Iterator[Candidate]:
    """Candidates with zips replaced by what is inside them."""
    for candidate in candidates:
        if candidate.action == "zip":
            yield from unpack_zip(candidate)
        else:
            yield candidate


def safe_file_name(name: str, suffix: str) -> str:
    """A sender's file name made safe to save on Windows and Linux: no folders, no
    reserved or control characters, not too long, ending in ``suffix``."""
    base = PureWindowsPath(name.replace("/", "\\")).name
    base = _UNSAFE_NAME.sub("_", printable(unicodedata.normalize("NFC", base))).strip(" .")
    stem = base[:-len(suffix)] if base.lower().endswith(suffix) else PurePosixPath(base).stem
    stem = stem.strip(" .") or "附件"
    if _RESERVED.match(stem):
        stem = f"_{stem}"
    return stem[:_MAX_NAME] + suffix
