"""The master's .xlsx package, part by part (台账文件的部件).

openpyxl lays out a master's sheets — formats, tables, dropdowns, print settings — but
writing a table of tens of thousands of rows through it, cell object by cell object, is
most of the time a save takes. Two things here make a save cost what changed:

* ``sheet_with_rows`` writes a table's rows straight into its sheet's XML, each cell in the
  style openpyxl gave the cells of the table's first row, as openpyxl itself would write
  them (inline strings, numbers and dates as numbers); ``sheet_with_new_rows`` keeps the
  rows before the first one that changed as they are in the old XML.
* ``Package`` reads a .xlsx file's parts, and writes a new one in which only the parts
  given are new: every other part is copied as it is, still compressed.

Only our own files go through here (books/: masters, and forms being filled in by the
demo); nothing from outside the office does.
"""

from __future__ import annotations

import functools
import io
import itertools
import operator
import os
import posixpath
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from ..core.cells import column_letter, column_number, excel_serial
from ..core.tables import each_once, header_index

__all__ = ["Package", "SheetParts", "NewRows", "Copied", "sheet_with_rows",
           "sheet_with_new_rows",
           "with_table_rows", "cell_xml", "unescape",
           "row_count", "row_pieces", "table_rows", "workbook_of_rows", "header_row",
           "key_cells", "rows_renumbered",
           "PackageLayoutError"]

_SHEET = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*?/?>")
_ATTRIBUTE = re.compile(rb'(\w+)="([^"]*)"')
_ROW_START = re.compile(rb"<row\b[^>]*>")
_CELL_STYLE = re.compile(rb'<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_TABLE_REF = re.compile(rb'(<table\b[^>]*?\bref=")([A-Z]+)1:([A-Z]+)\d+(")')
_FILTER_REF = re.compile(rb'(<autoFilter\b[^>]*?\bref=")([A-Z]+)1:([A-Z]+)\d+(")')


class PackageLayoutError(ValueError):
    """The package is not laid out as a master written by zdxm is: write it afresh."""


_ESCAPED = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|quot|apos|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "quot": '"', "apos": "'", "amp": "&"}


def _character(escaped: re.Match[str]) -> str:
    name = escaped[1]
    if name[0] != "#":
        return _ENTITIES[name]
    return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))


def unescape(text: bytes) -> str:
    """XML text or an attribute's value as it reads: character references and the five
    entities replaced, in one pass (``&#38;lt;`` is the text ``&lt;``)."""
    return _ESCAPED.sub(_character, text.decode("utf-8"))


@dataclass(frozen=True)
class _Written:
    """A part as ``Package.write`` wrote it: its bytes, compressed, and their checksum."""

    data: bytes
    packed: bytes
    crc: int


@dataclass(frozen=True)
class SheetParts:
    """Where a sheet lives in the package: its part and its table's part (if any)."""

    sheet: str
    table: str | None


class Package:
    """A .xlsx file's bytes, read part by part."""

    def __init__(self, data: bytes, *, written: Mapping[str, _Written] | None = None) -> None:
        self.data = data
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            self.infos = {info.filename: info for info in self.archive.infolist()}
            self._parts: dict[str, bytes] = {}
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise PackageLayoutError(str(exc)) from exc
        self._known = dict(written or {})
        self.written: dict[str, _Written] = {}  # the new parts of the last ``write``

    def read_back(self, data: bytes) -> Package:
        """The package ``write`` wrote, read from ``data`` (the file's bytes as read back):
        a part it made new is taken back without inflating it again when the file holds
        exactly the compressed bytes it was written as (same size, same checksum); any
        other part, or one that differs, is read from ``data`` as in any package."""
        return Package(data, written=self.written)

    def part(self, name: str) -> bytes:
        """A part's bytes, inflated once however often they are asked for."""
        found = self._parts.get(name)
        if found is None:
            known = self._known.get(name)
            info = self.infos.get(name)
            if known is not None and info is not None and info.CRC == known.crc \
                    and info.file_size == len(known.data) and not info.flag_bits & 0x1 \
                    and info.compress_type == zipfile.ZIP_DEFLATED \
                    and self._raw(info) == known.packed:
                found = self._parts[name] = known.data
                return found
            try:
                found = self._parts[name] = self.archive.read(name)
            except (KeyError, zipfile.BadZipFile, zlib.error, ValueError, OSError) as exc:
                raise PackageLayoutError(f"{name}: {exc}") from exc
        return found

    def _links(self, source: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, part name) of ``source`` (a part name)."""
        folder, base = posixpath.split(source)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        if rels not in self.infos:
            return {}
        found: dict[str, tuple[str, str]] = {}
        for element in _RELATIONSHIP.findall(self.part(rels)):
            attrs = {k.decode(): unescape(v) for k, v in _ATTRIBUTE.findall(element)}
            target = attrs.get("Target", "")
            name = target.lstrip("/") if target.startswith("/") \
                else posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), name)
        return found

    def styles(self) -> bytes:
        """The workbook's styles part."""
        workbook = self._links("")
        main = next((name for kind, name in workbook.values()
                     if kind.endswith("/officeDocument")), "xl/workbook.xml")
        name = next((name for kind, name in self._links(main).values()
                     if kind.endswith("/styles")), None)
        if name is None:
            raise PackageLayoutError("no styles")
        return self.part(name)

    def sheets(self) -> dict[str, SheetParts]:
        """Sheet name → its parts, for every worksheet of the workbook."""
        workbook = self._links("")
        main = next((name for kind, name in workbook.values()
                     if kind.endswith("/officeDocument")), "xl/workbook.xml")
        links = self._links(main)
        found: dict[str, SheetParts] = {}
        for raw_name, rid in _SHEET.findall(self.part(main)):
            kind, part = links.get(rid.decode(), ("", ""))
            if not kind.endswith("/worksheet") or part not in self.infos:
                continue
            tables = [name for kind, name in self._links(part).values()
                      if kind.endswith("/table") and name in self.infos]
            found[unescape(raw_name)] = SheetParts(part, tables[0] if len(tables) == 1 else None)
        return found

    def write(self, target: IO[bytes], replaced: dict[str, bytes], *,
              keep_times: bool = False, copied: Mapping[str, Copied] | None = None) -> None:
        """The package with the parts in ``replaced`` new (by name, each already there)
        and every other part copied as it is, in the same order. A new part is dated now,
        or — ``keep_times`` — as the part it replaces was (the same content, the same
        bytes). ``copied``: where a new part holds a run of the old one's bytes (the rows a
        save kept): the old part's pieces within it are copied still compressed
        (``_deflate``)."""
        missing = set(replaced) - set(self.infos)
        if missing:
            raise PackageLayoutError(f"no part {sorted(missing)[0]}")
        self.written = {}
        central: list[bytes] = []
        offset = 0
        stamp = _dos_time(time.localtime())
        for info in self.archive.infolist():
            if info.filename in replaced:
                data = replaced[info.filename]
                crc = zlib.crc32(data)
                run = (copied or {}).get(info.filename)
                packed, pieces = _deflate(data, self._old_pieces(info, run, data, crc))
                extra = _pieces_field(pieces)
                method, size = zipfile.ZIP_DEFLATED, len(data)
                moment = _dos_time(info.date_time) if keep_times else stamp
                self.written[info.filename] = _Written(data, packed, crc)
            else:
                packed = self._raw(info)
                crc, size = info.CRC, info.file_size
                method, moment = info.compress_type, _dos_time(info.date_time)
                extra = _pieces_field(_pieces_of(info))  # still true of the same bytes
            header, listed = _entry(info.filename, method, moment, crc, len(packed), size,
                                    offset, info.external_attr, extra)
            target.write(header)
            target.write(packed)
            central.append(listed)
            offset += len(header) + len(packed)
        target.write(_directory(central, offset))

    def _old_pieces(self, info: zipfile.ZipInfo, run: Copied | None, data: bytes, crc: int
                    ) -> _Reused | None:
        """The pieces of the old part ``info`` that the new one (``data``, its checksum
        ``crc``) holds unchanged, by ``run``: those wholly within the run's old bytes,
        but the last (it ends the stream); ``None`` when there are none. Each piece must
        end as a piece ends (a sync flush), and the new part's checksum, worked out from
        the old bytes in place of those pieces, must be ``crc``: what the copied pieces
        inflate to is then the new part's bytes there."""
        pieces = _pieces_of(info)
        if run is None or not pieces or info.compress_type != zipfile.ZIP_DEFLATED:
            return None
        old_start, old_end, new_start = run
        kept: list[tuple[int, int]] = []
        first = packed_first = -1
        at = packed_at = 0
        for size, packed in pieces[:-1]:
            if at >= old_start and at + size <= old_end:
                if not kept:
                    first, packed_first = at, packed_at
                kept.append((size, packed))
            at, packed_at = at + size, packed_at + packed
        if not kept:
            return None
        old_size, packed_size = sum(s for s, _c in kept), sum(c for _s, c in kept)
        start = first - old_start + new_start
        if start + old_size > len(data):
            return None
        try:
            raw = self._raw(info)
            old = self.part(info.filename)
        except PackageLayoutError:
            return None
        reach = packed_first
        for _size, packed in kept:
            reach += packed
            if raw[reach - 4:reach] != _SYNC_END:
                return None
        view = memoryview(data)
        check = zlib.crc32(view[:start])
        check = zlib.crc32(memoryview(old)[first:first + old_size], check)
        if zlib.crc32(view[start + old_size:], check) != crc:
            return None
        return _Reused(start, old_size, raw[packed_first:packed_first + packed_size], kept)

    def _raw(self, info: zipfile.ZipInfo) -> bytes:
        """A part's compressed bytes, as they are in the file."""
        at = info.header_offset
        header = self.data[at:at + 30]
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise PackageLayoutError(f"{info.filename}: bad local header")
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        start = at + 30 + name_length + extra_length
        packed = self.data[start:start + info.compress_size]
        if len(packed) != info.compress_size or info.flag_bits & 0x1:
            raise PackageLayoutError(f"{info.filename}: cannot be copied")
        return packed


def _entry(filename: str, method: int, moment: tuple[int, int], crc: int, packed: int,
           size: int, offset: int, external: int = 0, extra: bytes = b""
           ) -> tuple[bytes, bytes]:
    """A part's local header (its name included), to go before its ``packed`` bytes at
    ``offset``, and its entry in the central directory; both with ``extra``."""
    if size >= 0xFFFFFFFF or packed >= 0xFFFFFFFF or offset >= 0xFFFFFFFF:
        raise PackageLayoutError("part too large for a plain zip")
    name = filename.encode("utf-8")
    flags = 0x800 if not filename.isascii() else 0
    header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, moment[1], moment[0],
                         crc, packed, size, len(name), len(extra))
    listed = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, moment[1],
                         moment[0], crc, packed, size, len(name), len(extra), 0, 0, 0,
                         external & 0xFFFFFFFF, offset)
    return header + name + extra, listed + name + extra


def _directory(central: Sequence[bytes], offset: int) -> bytes:
    """The central directory of these entries, starting at ``offset``, and its end."""
    directory = b"".join(central)
    return directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central),
                                   len(central), len(directory), offset, 0)


def _dos_time(moment: Sequence[int]) -> tuple[int, int]:
    """(date, time) words of a zip entry for (year, month, day, hour, minute, second)."""
    year, month, day, hour, minute, second = moment[:6]
    year = max(year, 1980)
    return ((year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2)


_LARGE = 2**20  # a part this large is deflated fast, in pieces of this size side by side
_SYNC_END = b"\x00\x00\xff\xff"  # how a piece deflated with a sync flush ends
# An extra field of ours in a large part's zip entries: the pieces it was deflated in,
# each (bytes, compressed bytes) as two little-endian 32-bit numbers. Other programs skip
# it (and drop it when they save the file).
_PIECES_FIELD = 0x647A  # "zd"

Copied = tuple[int, int, int]  # a run of the old part's bytes: old start, old end, new start


@dataclass(frozen=True)
class _Reused:
    """The old part's pieces a new part holds: where in the new part (start, size), their
    compressed bytes, and each piece's (size, compressed size)."""

    start: int
    size: int
    packed: bytes
    pieces: list[tuple[int, int]]


def _pieces_of(info: zipfile.ZipInfo) -> list[tuple[int, int]]:
    """The pieces a part was deflated in, from its extra field; none when it has none or
    they do not add up to the part."""
    extra, at = info.extra, 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + length]
        at += 4 + length
        if kind != _PIECES_FIELD or len(body) != length or length % 8:
            continue
        pieces = list(struct.iter_unpack("<LL", body))
        if sum(size for size, _c in pieces) == info.file_size \
                and sum(packed for _s, packed in pieces) == info.compress_size:
            return pieces
    return []


def _pieces_field(pieces: Sequence[tuple[int, int]]) -> bytes:
    if len(pieces) < 2 or len(pieces) * 8 > 0xFFF0:
        return b""
    body = b"".join(struct.pack("<LL", size, packed) for size, packed in pieces)
    return struct.pack("<HH", _PIECES_FIELD, len(body)) + body


def _deflate(data: bytes, reused: _Reused | None = None
             ) -> tuple[bytes, list[tuple[int, int]]]:
    """Raw deflate, and the pieces it is made of (size, compressed size). A large part (the
    ledger's sheet) at a faster level (a table of ten thousand rows compresses well either
    way, and the time is what the office waits for), in pieces of at most ``_LARGE``
    deflated side by side as pigz does: each piece but the last ends on a byte boundary (a
    sync flush, no final block) and refers to nothing before it, so the pieces are one
    valid stream — and a later save that keeps most of the part keeps those pieces
    (``reused``: copied, still compressed, in place of the bytes they hold)."""
    if len(data) < _LARGE and reused is None:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = packer.compress(data) + packer.flush()
        return packed, [(len(data), len(packed))]
    view = memoryview(data)
    middle = (reused.start, reused.start + reused.size) if reused is not None else (0, 0)
    # the bytes deflated here: before the pieces kept, and after them
    head, tail = ([(start + n * _LARGE, min(start + (n + 1) * _LARGE, end))
                   for n in range(-(-(end - start) // _LARGE))]
                  for start, end in ((0, middle[0]), (middle[1], len(data))))
    cuts = head + tail
    final = tail[-1] if tail else None  # (an empty last block ends the stream otherwise)

    def deflate(cut: tuple[int, int]) -> bytes:
        packer = zlib.compressobj(1, zlib.DEFLATED, -15)
        return packer.compress(view[cut[0]:cut[1]]) + packer.flush(
            zlib.Z_FINISH if cut == final else zlib.Z_SYNC_FLUSH)

    workers = min(os.cpu_count() or 1, 8, len(cuts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zdxm-deflate") as pool:
            made = list(pool.map(deflate, cuts))  # zlib works outside the GIL
    else:
        made = [deflate(cut) for cut in cuts]
    before = list(zip(head, made[:len(head)], strict=True))
    after = list(zip(tail, made[len(head):], strict=True))
    pieces = [(cut[1] - cut[0], len(packed)) for cut, packed in before]
    parts = [packed for _cut, packed in before]
    if reused is not None:
        pieces += reused.pieces
        parts.append(reused.packed)
    if not after:  # the kept pieces end the part: an empty last block ends the stream
        ending = zlib.compressobj(1, zlib.DEFLATED, -15).flush()
        after = [((len(data), len(data)), ending)]
    pieces += [(cut[1] - cut[0], len(packed)) for cut, packed in after]
    parts += [packed for _cut, packed in after]
    return b"".join(parts), pieces


# ---- rows -----------------------------------------------------------------------------

def row_count(sheet_xml: bytes) -> int:
    """How many ``<row>`` elements the sheet has."""
    return sheet_xml.count(b"<row ")


def _row_at(sheet_xml: bytes, number: int, start: int = 0, *, from_end: bool = False) -> int:
    """Where ``<row r="number"`` begins (-1: not there); looked for from the end of the
    sheet when the row is likely near it (rows appended to a long table)."""
    needle = b'<row r="%d"' % number
    if from_end:
        at = sheet_xml.rfind(needle, start)
        while at >= 0 and sheet_xml[at + len(needle):at + len(needle) + 1] not in _ROW_END:
            at = sheet_xml.rfind(needle, start, at)
        return at
    at = sheet_xml.find(needle, start)
    while at >= 0 and sheet_xml[at + len(needle):at + len(needle) + 1] not in _ROW_END:
        at = sheet_xml.find(needle, at + 1)
    return at


_ROW_END = (b" ", b">", b"/")  # what follows a row's number in its start tag


def _styles_of_row(sheet_xml: bytes, number: int, width: int) -> list[str]:
    """The style id of each of the first ``width`` cells of row ``number`` (as openpyxl
    wrote them); ``PackageLayoutError`` when the row does not have them all."""
    at = _row_at(sheet_xml, number)
    end = sheet_xml.find(b"</row>", at)
    if at < 0 or end < 0:
        raise PackageLayoutError(f"no row {number}")
    styles: dict[str, str] = {}
    for letters, row, style in _CELL_STYLE.findall(sheet_xml[at:end]):
        if int(row) == number:
            styles[letters.decode()] = (style or b"0").decode()
    letters = [column_letter(c) for c in range(1, width + 1)]
    if any(letter not in styles for letter in letters):
        raise PackageLayoutError(f"row {number} does not hold every column")
    return [styles[letter] for letter in letters]


# The control characters XML cannot hold (all but tab, line feed and carriage return): a
# text loses them as openpyxl's writer drops them.
_NOT_IN_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _plain(text: str) -> bool:
    """Whether a text goes between the tags as it is: nearly every one — printable (a
    printable text holds no whitespace but the space), no space at either end, nothing to
    escape."""
    return text.isprintable() and text[:1] != " " and text[-1:] != " " \
        and "&" not in text and "<" not in text and ">" not in text


def _text(value: str) -> tuple[str, str]:
    """Text as it goes between tags — without the characters XML cannot hold (as openpyxl's
    ``write_text`` drops them), escaped — and the attribute that keeps its spaces at either
    end, if it has any (as openpyxl's writer adds it)."""
    if _plain(value):
        return value, ""
    printable = value.isprintable()
    if not printable:  # control characters, but also tabs and line breaks
        value = _NOT_IN_XML.sub("", value)
    space = ' xml:space="preserve"' if value and (value[0].isspace() or value[-1].isspace()) \
        else ""
    if printable and "&" not in value and "<" not in value and ">" not in value:
        return value, space  # spaces at either end, nothing to escape
    return value.translate(_ESCAPE), space


# Stands for the row number in a row's cells while they are made (one replace puts it in
# for the whole row): no cell's text holds it, as XML cannot (``_text`` drops it).
_ROW = "\x00"
_ROW_BYTE = _ROW.encode()  # the same, in a row made in UTF-8


def _rows(rows: Sequence[Sequence[Any]], first: int, starts: Sequence[tuple[str, str]]
          ) -> list[bytes]:
    """The XML of ``rows`` (numbered from ``first``), each value as openpyxl's
    ``write_text`` and writer would put it; ``starts`` are each column's ``<c r="X`` and
    style, around the row number. Made a column at a time (``_body``)."""
    width = len(starts)
    if not rows or any(len(row) != width for row in rows):
        return [_row(number, row, starts) for number, row in enumerate(rows, start=first)]
    return _body(list(zip(*rows, strict=True)), first, starts)[0]


def _body(columns: Sequence[Sequence[Any]], first: int, starts: Sequence[tuple[str, str]], *,
          reading: bool = False) -> tuple[list[bytes], list[tuple[Any, ...]]]:
    """The XML of the rows given a column at a time (numbered from ``first``), as ``_rows``
    makes it: a column of texts or of amounts in one go (``_text_cells``, each distinct
    text once; ``_number_cells``, each distinct amount spelled once by ``_spellings``),
    each recurring date or choice made once (``each_once``), then each row's cells joined
    and its number put in — in UTF-8, as the part holds it: each cell made is encoded once,
    not each row (a row of Chinese text is held as two bytes a character, and its number
    put in there would copy every one of them). With ``reading``, also each row as
    python-calamine reads it back (``_as_read``), made alongside: a number's digits are
    spelled once for both."""
    cells: list[list[bytes]] = []
    read: list[list[Any]] = []
    for (start, style), values in zip(starts, columns, strict=True):
        kinds = set(map(type, values))
        if kinds <= _NUMBER_OR_NONE:  # amounts: made a column at a time
            digits = _spellings(values)
            cells.append(_number_cells(start, style, digits))
            if reading:  # the float python-calamine reads back from those digits, each once
                floats = {spelled: float(spelled) for spelled in set(digits) if spelled}
                read.append(["" if spelled is None else floats[spelled] for spelled in digits])
            continue
        if kinds <= _TEXT_OR_NONE:  # texts: each distinct one made once, a column at a time
            distinct = list(set(values))
            xml_of = dict(zip(distinct, map(str.encode, _text_cells(start, style, distinct)),
                              strict=True))
            cells.append(list(map(xml_of.__getitem__, values)))
            if reading:  # each distinct text as it reads back, once (a printable one as it is)
                as_read = {text: text if text and text.isprintable() else _as_read(text)
                           for text in distinct}
                read.append(list(map(as_read.__getitem__, values)))
            continue
        if not reading:
            cells.append(each_once(values, functools.partial(_encoded_cell, start, style)))
            continue
        made = each_once(values, functools.partial(_cell_and_reading, start, style))
        cells.append(list(map(_FIRST, made)))
        read.append(list(map(_SECOND, made)))
    xml = [b'<row r="%d">%s</row>' % (number, b"".join(row).replace(_ROW_BYTE, b"%d" % number))
           for number, row in enumerate(zip(*cells, strict=True), start=first)]
    return xml, list(zip(*read, strict=True)) if reading else []


_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)
_NUMBER_OR_NONE = {Decimal, int, float, type(None)}  # exactly these (not bool)
_TEXT_OR_NONE = {str, type(None)}


def _text_cells(start: str, style: str, texts: Sequence[str | None]) -> list[str]:
    """``_cell`` for a column of texts (``None``: an empty cell), a column at a time: a
    ``_plain`` text is put between the tags as it is, with no other work for it (a ledger's
    项目编号 and 项目名称, a 报送记录's file names and hashes differ row by row: some 22,000
    texts a month of 1,000 returns); any other through ``_cell``."""
    head = f'{start}{_ROW}{style} t="inlineStr"><is><t>'
    return [head + text + "</t></is></c>" if text and _plain(text)
            else _cell(start, style, text) for text in texts]


def _spellings(values: Sequence[Any]) -> list[bytes | None]:
    """Each number's digits as ``_cell`` spells them ("%.16g"; ``None`` for an empty cell),
    a column at a time: each distinct number spelled once — equal numbers spell alike,
    whatever their type, as each is the float nearest the same value — but a zero each time
    (-0 and 0 are equal, and spell differently). A ledger's amounts recur: its 10,000 new
    rows a month of 1,000 returns hold some 40,000 amounts, a few hundred of them distinct."""
    try:
        once = {value: b"%.16g" % value for value in set(values) if value}
    except TypeError:  # unhashable: a signalling NaN
        return [None if value is None else b"%.16g" % value for value in values]
    return [once[value] if value else None if value is None else b"%.16g" % value
            for value in values]


def _number_cells(start: str, style: str, digits: Sequence[bytes | None]) -> list[bytes]:
    """``_cell`` for a column of numbers, each spelled (``None``: an empty cell), a column
    at a time — not a call for each cell: a ledger's new rows are mostly amounts, some
    75,000 cells for a month of 1,000 returns. (The digits are ``_spellings``'s.)"""
    number = f'{start}{_ROW}{style} t="n"><v>'.encode()
    empty = f"{start}{_ROW}{style}/>".encode()
    return [empty if spelled is None else number + spelled + b"</v></c>" for spelled in digits]


def _row(number: int, row: Sequence[Any], starts: Sequence[tuple[str, str]]) -> bytes:
    """One row's XML, as ``_rows`` makes it (for a row not as wide as the table)."""
    cells = "".join(_cell(start, style, value)
                    for (start, style), value in zip(starts, row, strict=False))
    return f'<row r="{number}">{cells.replace(_ROW, str(number))}</row>'.encode()


def _cell(start: str, style: str, value: Any) -> str:
    """One cell's XML, ``_ROW`` for its row number."""
    kind = type(value)  # the usual types first, by identity; anything else below
    if value is None or (kind is str and not value):
        return f"{start}{_ROW}{style}/>"
    if kind is str:
        text, space = _text(value)
        return f'{start}{_ROW}{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if kind is Decimal or kind is int or kind is float:
        return f'{start}{_ROW}{style} t="n"><v>{"%.16g" % value}</v></c>'
    if isinstance(value, bool):
        return f'{start}{_ROW}{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'{start}{_ROW}{style} t="n"><v>{"%.16g" % value}</v></c>'
    if isinstance(value, datetime | date):
        return f'{start}{_ROW}{style} t="n"><v>{"%.16g" % excel_serial(value)}</v></c>'
    if isinstance(value, str) and not value:
        return f"{start}{_ROW}{style}/>"
    text, space = _text(str(value))
    return f'{start}{_ROW}{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def cell_xml(reference: str, style: str | None, value: Any) -> str:
    """One cell's XML at ``reference`` (such as ``B5``), in style ``style`` (``None``: the
    default), as ``sheet_with_rows`` writes a cell."""
    column = reference.rstrip("0123456789")
    start_style = f'" s="{style}"' if style is not None else '"'
    return _cell(f'<c r="{column}', start_style, value).replace(_ROW, reference[len(column):])


def _encoded_cell(start: str, style: str, value: Any) -> bytes:
    """``_cell``'s XML for the value, in UTF-8: for the cells of a column of mixed kinds,
    dates and choices (``_body`` makes columns of texts and of amounts in one go)."""
    return _cell(start, style, value).encode()


def _cell_and_reading(start: str, style: str, value: Any) -> tuple[bytes, Any]:
    """``_encoded_cell`` and what python-calamine reads back from it (``_as_read``)."""
    return _encoded_cell(start, style, value), _as_read(value)


def _as_read(value: Any) -> Any:
    """What python-calamine reads back from the cell ``_cell`` writes for ``value``: text
    without the characters XML cannot hold, a number as the float its written digits spell,
    a date or a time as it is (in a date style), ``""`` for an empty cell."""
    kind = type(value)
    if value is None:
        return ""
    if kind is str:
        return value if value.isprintable() else _NOT_IN_XML.sub("", value)
    if isinstance(value, bool | datetime | date):
        return value
    if isinstance(value, int | float | Decimal):
        return float("%.16g" % value)
    text = value if isinstance(value, str) else str(value)
    return text if text.isprintable() else _NOT_IN_XML.sub("", text)


@dataclass(frozen=True)
class NewRows:
    """A table's rows from the first that changed: the ``kept`` rows before it stay as they
    are in the sheet; the new ones are given a column at a time, each column one cell per
    row (as ``core.tables.encode_columns`` makes them)."""

    kept: int
    columns: Sequence[Sequence[Any]]

    @property
    def count(self) -> int:
        """The table's rows: kept and new."""
        return self.kept + (len(self.columns[0]) if self.columns else 0)


def sheet_with_rows(sheet_xml: bytes, rows: Sequence[Sequence[Any]], width: int) -> bytes:
    """The sheet with its table's body (rows 2 …) replaced by ``rows``, written in the
    styles of row 2's cells; the header row and everything outside the sheet's data stay as
    they are. An empty table keeps one empty row, in those styles, as an Excel table needs a
    body row."""
    starts = _starts(sheet_xml, width)
    return _with_body(sheet_xml, starts, 0, len(rows), _rows(rows, 2, starts))[0]


def sheet_with_new_rows(sheet_xml: bytes, rows: NewRows, width: int
                        ) -> tuple[bytes, list[tuple[Any, ...]], Copied]:
    """``sheet_with_rows`` for rows given as ``NewRows``: the kept rows are taken as they
    are in ``sheet_xml`` (they have not changed). And each new row as python-calamine reads
    it back — made with the XML, to compare with what a reading of the XML gives; and where
    the new sheet holds the old one's kept rows (for ``Package.write``)."""
    starts = _starts(sheet_xml, width)
    body, reading = _body(rows.columns, rows.kept + 2, starts, reading=True) \
        if rows.count > rows.kept else ([], [])
    made, copied = _with_body(sheet_xml, starts, rows.kept, rows.count, body)
    return made, reading, copied


def _starts(sheet_xml: bytes, width: int) -> list[tuple[str, str]]:
    """Each of the table's ``width`` columns' ``<c r="X`` and style (row 2's cells')."""
    styles = _styles_of_row(sheet_xml, 2, width)
    return [(f'<c r="{column_letter(c)}', f'" s="{style}"')
            for c, style in enumerate(styles, start=1)]


def _with_body(sheet_xml: bytes, starts: Sequence[tuple[str, str]], keep: int, count: int,
               body: list[bytes]) -> tuple[bytes, Copied]:
    """The sheet with its table's ``count`` body rows: the first ``keep`` as they are,
    then ``body`` (the XML of the others); and where it holds the old sheet's bytes from
    its rows' start to the last row kept."""
    start = sheet_xml.find(b"<sheetData>")
    end = sheet_xml.rfind(b"</sheetData>")
    if start < 0 or end < start:
        raise PackageLayoutError("no sheetData")
    if keep:
        cut = _row_at(sheet_xml, keep + 2, start, from_end=True)
        if cut < 0 or cut > end:
            cut = end  # the kept rows were the last ones
    else:
        header_end = sheet_xml.find(b"</row>", start)
        if header_end < 0 or _row_at(sheet_xml, 1) != start + len(b"<sheetData>"):
            raise PackageLayoutError("no header row")
        cut = header_end + len(b"</row>")
    if not count:
        body = _rows([[None] * len(starts)], 2, starts)
    # the dimension element comes before the rows: it is looked for there only; the kept
    # rows are copied once, into the result, and so is each new row
    dimension = f'<dimension ref="A1:{column_letter(len(starts))}{max(count + 1, 2)}"/>'
    view = memoryview(sheet_xml)
    before = _DIMENSION.sub(dimension.encode(), sheet_xml[:start], count=1)
    parts: list[bytes | memoryview] = [before, view[start:cut]]
    parts += body
    parts.append(view[end:])
    return b"".join(parts), (start, cut, len(before))


def with_table_rows(table_xml: bytes, rows: int) -> bytes:
    """The table part with its range (and its filter's) ending after ``rows`` body rows."""
    last = max(rows + 1, 2)

    def fix(match: re.Match[bytes]) -> bytes:
        return match[1] + match[2] + b"1:" + match[3] + str(last).encode() + match[4]

    found = _TABLE_REF.search(table_xml)
    if found is None:
        raise PackageLayoutError("table without a range")
    return _FILTER_REF.sub(fix, _TABLE_REF.sub(fix, table_xml, count=1), count=1)


def row_pieces(sheet_xml: bytes, first: int, count: int, pieces: int
               ) -> list[tuple[int, int, memoryview]]:
    """The XML of the sheet's ``count`` rows from row ``first`` on (the last ones), in up to
    ``pieces`` runs of rows about as long as each other: each run's first row number, how
    many rows it has, and their XML (a view of ``sheet_xml``: not copied)."""
    at = _row_at(sheet_xml, first, from_end=True)
    end = sheet_xml.rfind(b"</sheetData>")
    if end < 0:
        raise PackageLayoutError("no sheetData")
    if not count or at < 0 or at > end:
        return []
    view = memoryview(sheet_xml)
    pieces = max(1, min(pieces, count))
    ends = [count * piece // pieces for piece in range(pieces + 1)]
    runs: list[tuple[int, int, memoryview]] = []
    for start, stop in zip(ends, ends[1:], strict=False):
        cut = end if stop == count else _row_at(sheet_xml, first + stop, at)
        if cut < 0 or cut > end:
            raise PackageLayoutError(f"no row {first + stop}")
        runs.append((first + start, stop - start, view[at:cut]))
        at = cut
    return runs


def table_rows(package: Package, sheet: str) -> int | None:
    """How many body rows the range of ``sheet``'s table says it has."""
    parts = package.sheets().get(sheet)
    if parts is None or parts.table is None:
        return None
    found = _TABLE_REF.search(package.part(parts.table))
    return None if found is None else int(found.group(0).rsplit(b":", 1)[1].strip(b'"')
                                          .lstrip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")) - 1


_MINI_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
               b'.org/package/2006/content-types"><Default Extension="rels" ContentType="applicat'
               b'ion/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conte'
               b'ntType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="appl'
               b'ication/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
               b' PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
               b'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" C'
               b'ontentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xm'
               b'l"/></Types>')
_MINI_ROOT = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
              b'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://sche'
              b'mas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl'
              b'/workbook.xml"/></Relationships>')
_MINI_BOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlforma'
              b'ts.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeD'
              b'ocument/2006/relationships"><sheets><sheet name="rows" sheetId="1" r:id="rId1"/>'
              b'</sheets></workbook>')
_MINI_LINKS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxm'
               b'lformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://sch'
               b'emas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="work'
               b'sheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.o'
               b'rg/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>')


def workbook_of_rows(rows_xml: bytes | memoryview, styles_xml: bytes) -> bytes:
    """A workbook holding just these rows (as they are, row numbers and all) and the styles
    they refer to: for reading back the rows a save wrote, without the rest of the sheet.
    Its parts are stored, not compressed, and the rows copied once, into it."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlfor'
             b'mats.org/spreadsheetml/2006/main"><sheetData>', rows_xml,
             b"</sheetData></worksheet>")
    moment = _dos_time(time.localtime())
    out: list[bytes | memoryview] = []
    central: list[bytes] = []
    offset = 0
    for name, data in (("[Content_Types].xml", (_MINI_TYPES,)), ("_rels/.rels", (_MINI_ROOT,)),
                       ("xl/workbook.xml", (_MINI_BOOK,)),
                       ("xl/_rels/workbook.xml.rels", (_MINI_LINKS,)),
                       ("xl/styles.xml", (styles_xml,)), ("xl/worksheets/sheet1.xml", sheet)):
        crc = 0
        for piece in data:
            crc = zlib.crc32(piece, crc)
        size = sum(map(len, data))
        header, listed = _entry(name, zipfile.ZIP_STORED, moment, crc, size, size, offset)
        out += (header, *data)
        central.append(listed)
        offset += len(header) + size
    out.append(_directory(central, offset))
    return b"".join(out)


def key_cells(sheet_xml: bytes, titles: Sequence[str]
              ) -> tuple[list[str | None], list[int], list[tuple[str, ...]]] | None:
    """A table sheet as zdxm writes it, read for a few columns only (a ledger's keys):
    the header's texts; each body row's number; and the text of its cells under the header
    ``titles`` ("" where none). ``None`` when the sheet is not laid out so — a title
    missing, those cells not inline text, a row left out or out of order, characters
    escaped (``_xHHHH_``), cells beyond the header: read the sheet whole then. For a sheet of a
    package without shared strings (its other cells are read by ``rows_renumbered`` and
    ``workbook_of_rows``, which has none). Several times faster than reading every cell of
    a long table."""
    start = sheet_xml.find(b"<sheetData>")
    header_at = _row_at(sheet_xml, 1, start) if start >= 0 else -1
    header_end = sheet_xml.find(b"</row>", header_at)
    if header_at < 0 or header_end < 0:
        return None
    header: list[str | None] = []
    for letters, inner in _HEADER_CELL.findall(sheet_xml, header_at, header_end):
        position = column_number(letters.decode())
        header += [None] * (position - len(header))
        text = _INLINE_TEXT.fullmatch(inner)
        header[position - 1] = unescape(text[1]) if text else None
    index = header_index(header)
    keys = [index.get(title, -1) + 1 for title in titles]
    dimension = _DIMENSION_REF.search(sheet_xml, 0, start)
    if not all(keys) or keys != sorted(keys) or dimension is None \
            or column_number(dimension[1].decode()) != len(header):
        return None
    found = _key_pattern(tuple(keys)).findall(sheet_xml, header_end)
    if len(found) != row_count(sheet_xml) - 1:  # a row not as zdxm writes it
        return None
    # every text decoded at once, not a cell at a time: tens of thousands of rows
    joined = b"\0".join(itertools.chain.from_iterable(found)).decode()
    if "_x" in joined:
        return None
    texts = joined.split("\0")
    if "&" in joined:
        texts = [unescape(text.encode()) if "&" in text else text for text in texts]
    numbers = list(map(int, texts[::len(keys) + 1]))
    if numbers != list(range(2, len(numbers) + 2)) or int(dimension[2]) != len(numbers) + 1:
        return None  # a row left out, or rows out of order
    del texts[::len(keys) + 1]
    return header, numbers, list(zip(*[iter(texts)] * len(keys), strict=True))


_DIMENSION_REF = re.compile(rb'<dimension ref="A1:([A-Z]+)(\d+)"/>')


@functools.cache
def _key_pattern(keys: tuple[int, ...]) -> re.Pattern[bytes]:
    """A row's start and its first cells up to the last of ``keys`` (1 = A, in order),
    those as text."""
    cells = []
    for column in range(1, max(keys) + 1):
        letter = column_letter(column).encode()
        if column in keys:
            cells.append(rb'<c r="%s\1"(?: s="\d+")?(?:/>| t="inlineStr"><is><t>([^<]*)</t></is></c>)'
                         % letter)
        else:
            cells.append(rb'<c r="%s\1"[^>]*?(?:/>|>.*?</c>)' % letter)
    return re.compile(rb'<row r="(\d+)"[^>]*>' + b"".join(cells), re.S)


_HEADER_CELL = re.compile(rb'<c r="([A-Z]+)1"[^>]*?(?:/>|>(.*?)</c>)', re.S)
_INLINE_TEXT = re.compile(rb"<is><t>([^<]*)</t></is>")
_REFERENCE = re.compile(rb'(<row|<c) r="([A-Z]*)\d+"')  # in tags only: text has no "<"


def rows_renumbered(sheet_xml: bytes, numbers: Sequence[int]) -> bytes:
    """Rows ``numbers`` of the sheet, one after another as rows 1, 2 …: for reading some
    rows of a long sheet (``workbook_of_rows``) into a grid of just them."""
    found: dict[int, bytes] = {}
    at = 0
    for wanted in sorted(set(numbers)):  # rows are in order: one pass over the sheet
        at = _row_at(sheet_xml, wanted, at)
        end = sheet_xml.find(b"</row>", at)
        if at < 0 or end < 0:
            raise PackageLayoutError(f"no row {wanted}")
        found[wanted] = sheet_xml[at:end + 6]
        at = end
    return b"".join(_REFERENCE.sub(b'\\g<1> r="\\g<2>%d"' % number, found[wanted])
                    for number, wanted in enumerate(numbers, start=1))


def header_row(sheet_xml: bytes) -> bytes:
    """The XML of the sheet's first row."""
    at = _row_at(sheet_xml, 1)
    end = sheet_xml.find(b"</row>", at)
    if at < 0 or end < 0:
        raise PackageLayoutError("no header row")
    return sheet_xml[at:end + len(b"</row>")]
