"""What a file from outside really is, by its first bytes — never by its name.

The one content sniffer of the gate: vetting (returns, plan tables) and mail attachments
both ask it whether bytes are a workbook container (OLE or zip) and, when they are not,
what they look like, in words a 信息员 understands (“PDF 文件”, “网页（HTML）”).
"""

from __future__ import annotations

import codecs
import io
import zipfile
from typing import Literal

__all__ = ["OLE_MAGIC", "ZIP_MAGICS", "container", "zip_kind", "describe"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, an encrypted workbook
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # .xlsx, or any zip
_TEXT_CODECS = ("utf-8", "gb18030")
_SIGNATURES = (
    (b"%PDF", "PDF 文件"),
    (b"{\\rtf", "RTF 文档"),
    (b"\x89PNG", "图片（PNG）"),
    (b"\xff\xd8\xff", "图片（JPEG）"),
    (b"GIF8", "图片（GIF）"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"MZ", "Windows 程序"),
    (b"\x7fELF", "程序"),
)


def container(head: bytes) -> Literal["ole", "zip"] | None:
    """The container the bytes start with: an OLE compound file, a zip, or neither."""
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    return None


def zip_kind(data: bytes, max_entries: int) -> Literal["ooxml", "zip-archive"]:
    """A zip held in memory: the parts of an Office file, or an archive of other files.
    A zip too broken to list counts as a workbook: vetting then says what is wrong."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {n.lower() for n in archive.namelist()[:max_entries + 1]}
    except Exception:
        return "ooxml"
    return "ooxml" if "[content_types].xml" in names or "mimetype" in names else "zip-archive"


def describe(head: bytes) -> str:
    """What bytes that are not a workbook look like, in plain Chinese."""
    text = head
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as Excel's "Unicode text"
        text = head.decode("utf-16", errors="ignore").encode("utf-8")
    lowered = text.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith(ZIP_MAGICS):
        return "普通压缩包（zip）"
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<table" in lowered:
        return "网页（HTML）"
    if b"mime-version" in lowered[:200]:
        return "网页存档（MHT）"
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<"):
        return "XML 文本"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _is_text(head):
        return "文本文件（如 CSV、TXT）"
    return "无法识别的内容"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for name in _TEXT_CODECS:
        try:
            codecs.getincrementaldecoder(name)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False
