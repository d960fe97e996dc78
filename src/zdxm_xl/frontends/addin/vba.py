"""A VBA project (``vbaProject.bin``) written from module source text (MS-OVBA).

The project is *source only*: ``_VBA_PROJECT`` is the seven bytes ``CC 61 FF FF 00 01 00``
(version 0xFFFF, no performance cache) and each module stream holds just its compressed
source at offset 0, so Excel compiles the project from source when it loads it — the way
xlwings' own shipped add-ins are stored. The ``dir`` stream names the project, references
stdole and the Office type library (for ``IRibbonControl``) and lists the modules; the
``PROJECT`` stream carries the same list as text with the obfuscated CMG/DPB/GC values of
an unprotected, visible project. Everything is deterministic: the same sources give the
same bytes.

Module kinds: standard modules (``.bas``), class modules (``.cls``) and document modules
(``ThisWorkbook``, ``Sheet1``: a ``.cls`` whose ``VB_Base`` is a host object). A ``.cls``
file as the VBA editor exports it starts with a ``VERSION 1.0 CLASS / BEGIN … END`` block;
that block is not part of the stored source and is dropped, and the attributes the editor
adds on import (``VB_Base``, ``VB_TemplateDerived``, ``VB_Customizable``) are supplied.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .cfb import compound_file

__all__ = ["ModuleKind", "Module", "parse_module", "compress", "encrypt", "vba_project",
           "CODE_PAGE", "WORKBOOK_BASE", "WORKSHEET_BASE", "CLASS_BASE"]

CODE_PAGE = 1252  # module text is ASCII here; Chinese reaches users only from Python
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"
_VBA_PROJECT = bytes.fromhex("CC61FFFF000100")
_SYSKIND_WIN64 = 3  # as in xlwings' own xlwings.xlam; Excel recompiles from source anyway
_LCID = 0x0409
_REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               "C:\\Windows\\System32\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
               "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL"
               "#Microsoft Office 16.0 Object Library"),
)
_VISIBLE = b"\xff"  # GC: the project is visible in the VBA editor
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"


class ModuleKind(StrEnum):
    STANDARD = "Module"
    CLASS = "Class"
    DOCUMENT = "Document"


@dataclass(frozen=True)
class Module:
    """One module as stored: its name, kind and source (``Attribute`` lines included,
    CRLF line ends)."""

    name: str
    kind: ModuleKind
    source: str
    base: str = ""  # VB_Base of a class or document module: which host object it extends


_ATTRIBUTE = re.compile(r'^Attribute\s+(VB_\w+)\s*=\s*(.*)$')
_CLASS_DEFAULTS = (  # the header attributes of a stored class module, in the editor's order
    ("VB_GlobalNameSpace", "False"), ("VB_Creatable", "False"), ("VB_PredeclaredId", "False"),
    ("VB_Exposed", "False"), ("VB_TemplateDerived", "False"), ("VB_Customizable", "False"),
)


def parse_module(text: str, suffix: str) -> Module:
    """A module from the text of a ``.bas`` or ``.cls`` file as the VBA editor exports it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's last line end; blank lines before it are the module's
    suffix = suffix.lower()
    if suffix == ".cls" and lines and lines[0].strip().upper().startswith("VERSION "):
        end = next((i for i, line in enumerate(lines) if line.strip().upper() == "END"), None)
        if end is None:
            raise ValueError("the VERSION … BEGIN block of the .cls file has no END")
        lines = lines[end + 1:]
    header: list[tuple[str, str]] = []
    while lines and (match := _ATTRIBUTE.match(lines[0])):
        header.append((match.group(1), match.group(2).strip()))
        lines.pop(0)
    attributes = dict(header)
    name = attributes.get("VB_Name", "").strip('"')
    if not re.fullmatch(r"[A-Za-z]\w{0,30}", name):
        raise ValueError(f"module without a valid Attribute VB_Name line: {name!r}")
    if suffix == ".bas":
        kind = ModuleKind.STANDARD
        ordered = header
    elif suffix == ".cls":
        base = attributes.get("VB_Base", f'"{CLASS_BASE}"').strip('"')
        kind = ModuleKind.CLASS if base == CLASS_BASE else ModuleKind.DOCUMENT
        known = {"VB_Name": f'"{name}"', "VB_Base": f'"{base}"'}
        defaults = dict(_CLASS_DEFAULTS)
        if kind is ModuleKind.DOCUMENT:
            defaults.update(VB_PredeclaredId="True", VB_Exposed="True", VB_Customizable="True")
        ordered = [("VB_Name", known["VB_Name"]), ("VB_Base", known["VB_Base"])]
        ordered += [(key, attributes.get(key, defaults[key])) for key, _ in _CLASS_DEFAULTS]
        ordered += [(key, value) for key, value in header if key not in dict(ordered)]
    else:
        raise ValueError(f"not a VBA module file: {suffix}")
    body = [f"Attribute {key} = {value}" for key, value in ordered] + lines
    base = dict(ordered).get("VB_Base", "").strip('"')
    return Module(name, kind, "\r\n".join(body) + "\r\n", base)


# ---- compression (MS-OVBA 2.4.1) -------------------------------------------------------------

_CHUNK = 4096


def compress(data: bytes) -> bytes:
    """A CompressedContainer of ``data``: chunks of 4096 bytes, each LZ77-encoded with copy
    tokens whose offset/length split depends on the position in the chunk."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        chunk = data[start:start + _CHUNK]
        body = _compress_chunk(chunk)
        if len(body) <= _CHUNK:
            out += struct.pack("<H", 0xB000 | (len(body) - 1))  # flag 1, signature 0b011
            out += body
        else:  # incompressible: a raw chunk is always 4096 bytes (padded, as the spec says)
            out += struct.pack("<H", 0x3FFF)
            out += chunk.ljust(_CHUNK, b"\0")
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    position, end = 0, len(chunk)
    while position < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if position >= end:
                break
            offset, length, bit_count = _match(chunk, position)
            if length:
                token = ((offset - 1) << (16 - bit_count)) | (length - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                position += length
            else:
                out.append(chunk[position])
                position += 1
        out[flag_at] = flags
    return bytes(out)


def _match(chunk: bytes, position: int) -> tuple[int, int, int]:
    """The longest earlier match for ``chunk[position:]`` (offset, length, bit count), or a
    length of 0 when there is none of at least three bytes."""
    if position == 0:
        return 0, 0, 0
    bit_count = max((position - 1).bit_length(), 4)  # smallest n with 2**n >= position
    maximum = min((0xFFFF >> bit_count) + 3, len(chunk) - position)
    best_at, best_length = -1, 0
    want = 3
    while want <= maximum:
        # A match may start anywhere before ``position`` and run on into it (overlap).
        found = chunk.rfind(chunk[position:position + want], 0, position + want - 1)
        if found < 0:
            break
        length = want
        while length < maximum and chunk[found + length] == chunk[position + length]:
            length += 1
        best_at, best_length = found, length
        want = length + 1
    if best_length < 3:
        return 0, 0, 0
    return position - best_at, best_length, bit_count


# ---- PROJECT stream obfuscation (MS-OVBA 2.4.3) ----------------------------------------------

def encrypt(project_id: str, data: bytes, seed: int) -> str:
    """``data`` obfuscated as for CMG/DPB/GC, as upper-case hex."""
    version = 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    version_enc, key_enc = seed ^ version, seed ^ project_key
    out = bytearray([seed, version_enc, key_enc])
    unencrypted1, encrypted1, encrypted2 = project_key, key_enc, version_enc
    ignored = bytes((seed + i) & 0xFF for i in range((seed & 6) // 2))
    for byte in ignored + struct.pack("<I", len(data)) + data:
        byte_enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(byte_enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, byte_enc, byte
    return out.hex().upper()


# ---- the streams -----------------------------------------------------------------------------

def _record(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_record(record_id: int, text: str, unicode_id: int) -> bytes:
    """A record with an MBCS text and its UTF-16 twin under a second id."""
    mbcs, wide = text.encode(f"cp{CODE_PAGE}"), text.encode("utf-16-le")
    return _record(record_id, mbcs) + struct.pack("<HI", unicode_id, len(wide)) + wide


def _dir_stream(name: str, modules: Sequence[Module]) -> bytes:
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", _SYSKIND_WIN64))
    out += _record(0x0002, struct.pack("<I", _LCID))
    out += _record(0x0014, struct.pack("<I", _LCID))
    out += _record(0x0003, struct.pack("<H", CODE_PAGE))
    out += _record(0x0004, name.encode("ascii"))
    out += _text_record(0x0005, "", 0x0040)  # doc string
    out += _text_record(0x0006, "", 0x003D)  # help file (both paths empty)
    out += _record(0x0007, struct.pack("<I", 0))  # help context
    out += _record(0x0008, struct.pack("<I", 0))  # lib flags
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # version 1.0
    out += _text_record(0x000C, "", 0x003C)  # conditional compilation constants
    for ref_name, libid in _REFERENCES:
        out += _text_record(0x0016, ref_name, 0x003E)
        encoded = libid.encode("ascii")
        out += _record(0x000D, struct.pack("<I", len(encoded)) + encoded + struct.pack("<IH", 0, 0))
    out += _record(0x000F, struct.pack("<H", len(modules)))
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # project cookie
    for module in modules:
        out += _record(0x0019, module.name.encode("ascii"))
        out += _record(0x0047, module.name.encode("utf-16-le"))
        out += _text_record(0x001A, module.name, 0x0032)  # stream name
        out += _text_record(0x001C, "", 0x0048)  # doc string
        out += _record(0x0031, struct.pack("<I", 0))  # source at offset 0: no p-code
        out += _record(0x001E, struct.pack("<I", 0))  # help context
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # cookie
        out += _record(0x0021 if module.kind is ModuleKind.STANDARD else 0x0022, b"")
        out += _record(0x002B, b"")  # module terminator
    out += _record(0x0010, b"")  # dir terminator
    return bytes(out)


def _project_stream(name: str, project_id: str, modules: Sequence[Module]) -> bytes:
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind is ModuleKind.DOCUMENT:
            lines.append(f"Document={module.name}/&H00000000")
        else:
            lines.append(f"{module.kind.value}={module.name}")
    lines += [
        f'Name="{name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{encrypt(project_id, bytes(4), 0x35)}"',  # not protected
        f'DPB="{encrypt(project_id, bytes(1), 0x53)}"',  # no password
        f'GC="{encrypt(project_id, _VISIBLE, 0x71)}"',
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
        "",
        "[Workspace]",
    ]
    lines += [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    return ("\r\n".join(lines) + "\r\n").encode(f"cp{CODE_PAGE}")


def _name_map(modules: Sequence[Module]) -> bytes:
    out = bytearray()
    for module in modules:
        out += module.name.encode("ascii") + b"\0" + module.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


def vba_project(name: str, modules: Sequence[Module],
                project_id: str = "{6A3B0F0E-5D1C-4C2B-9E0A-7A5B3C2D1E0F}") -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules`` (names unique, ASCII)."""
    if not re.fullmatch(r"[A-Za-z]\w{0,30}", name):
        raise ValueError(f"invalid VBA project name {name!r}")
    seen: set[str] = set()
    for module in modules:
        if module.name.lower() in seen or module.name.lower() == name.lower():
            raise ValueError(f"module name {module.name!r} is used twice (or is the project's)")
        seen.add(module.name.lower())
    streams = {
        "PROJECT": _project_stream(name, project_id, modules),
        "PROJECTwm": _name_map(modules),
        "VBA/_VBA_PROJECT": _VBA_PROJECT,
        "VBA/dir": compress(_dir_stream(name, modules)),
    }
    for module in modules:
        try:
            source = module.source.encode(f"cp{CODE_PAGE}")
        except UnicodeEncodeError as exc:
            raise ValueError(f"module {module.name} holds text outside code page {CODE_PAGE}: "
                             f"{exc.object[exc.start:exc.end]!r}") from exc
        streams[f"VBA/{module.name}"] = compress(source)
    return compound_file(streams)
