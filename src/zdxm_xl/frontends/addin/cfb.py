"""A minimal writer of compound files (MS-CFB, version 3): the container of vbaProject.bin.

olefile reads compound files but cannot create one, so the add-in builder writes its own:
512-byte sectors, a FAT (and DIFAT sectors when it outgrows the header), a mini stream for
streams under 4096 bytes, and a directory whose siblings form a balanced, all-black
binary search tree — which satisfies the red-black rules of MS-CFB §2.6.4 (the root is
black, no two reds in a row, left < right by name length, then by upper-cased name).
Timestamps and CLSIDs are zero, so the same streams always give the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["compound_file"]

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
DIFSECT = 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF
_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_HEADER_DIFAT = 109  # FAT sector numbers the header itself holds
_PER_SECTOR = SECTOR // 4  # 32-bit entries per FAT / DIFAT / mini FAT sector
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_BLACK = 1


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    index: int = 0
    start: int = ENDOFCHAIN
    size: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM


def _sort_key(name: str) -> tuple[int, str]:
    return len(name), name.upper()


def _tree(entries: list[_Entry]) -> int:
    """Link ``entries`` (sorted) as a balanced search tree; the index of its root."""
    if not entries:
        return NOSTREAM
    middle = len(entries) // 2
    node = entries[middle]
    node.left = _tree(entries[:middle])
    node.right = _tree(entries[middle + 1:])
    return node.index


def _sectors(size: int, unit: int) -> int:
    return (size + unit - 1) // unit


def _chain(fat: list[int], first: int, count: int) -> None:
    for offset in range(count):
        fat[first + offset] = first + offset + 1 if offset < count - 1 else ENDOFCHAIN


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """The bytes of a compound file holding ``streams``, keyed by ``/``-separated paths
    (``"VBA/dir"``); storages are made for the folders."""
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Entry(part, _STORAGE))
        if parts[-1] in node.children:
            raise ValueError(f"duplicate stream {path!r}")
        node.children[parts[-1]] = _Entry(parts[-1], _STREAM, bytes(data))
    for name in (e.name for e in _walk(root)):
        if len(name) > 31 or not name:
            raise ValueError(f"compound file names are 1–31 characters: {name!r}")

    entries = list(_walk(root))
    for index, entry in enumerate(entries):
        entry.index = index
    for entry in entries:
        entry.child = _tree(sorted(entry.children.values(), key=lambda e: _sort_key(e.name)))

    # The mini stream holds the small streams, in 64-byte mini sectors.
    small = [e for e in entries if e.kind == _STREAM and len(e.data) < MINI_CUTOFF]
    large = [e for e in entries if e.kind == _STREAM and len(e.data) >= MINI_CUTOFF]
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for entry in small:
        entry.size = len(entry.data)
        if not entry.data:
            entry.start = ENDOFCHAIN
            continue
        count = _sectors(len(entry.data), MINI_SECTOR)
        entry.start = len(mini_fat)
        mini_fat.extend(range(entry.start + 1, entry.start + count))
        mini_fat.append(ENDOFCHAIN)
        mini_stream += entry.data.ljust(count * MINI_SECTOR, b"\0")

    n_dir = _sectors(len(entries) * 128, SECTOR)
    n_minifat = _sectors(len(mini_fat) * 4, SECTOR)
    n_mini = _sectors(len(mini_stream), SECTOR)
    n_large = sum(_sectors(len(e.data), SECTOR) for e in large)
    data_sectors = n_dir + n_minifat + n_mini + n_large
    n_fat, n_difat = 1, 0
    while True:  # the FAT must also map its own sectors and the DIFAT's
        n_difat = max(0, _sectors(n_fat - _HEADER_DIFAT, _PER_SECTOR - 1))
        needed = _sectors(data_sectors + n_fat + n_difat, _PER_SECTOR)
        if needed <= n_fat:
            break
        n_fat = needed
    total = n_fat + n_difat + data_sectors

    fat = [FREESECT] * (n_fat * _PER_SECTOR)
    for sector in range(n_fat):
        fat[sector] = FATSECT
    for sector in range(n_fat, n_fat + n_difat):
        fat[sector] = DIFSECT
    cursor = n_fat + n_difat
    first_dir = cursor
    _chain(fat, cursor, n_dir)
    cursor += n_dir
    first_minifat = cursor if n_minifat else ENDOFCHAIN
    _chain(fat, cursor, n_minifat)
    cursor += n_minifat
    root.start = cursor if n_mini else ENDOFCHAIN
    root.size = len(mini_stream)
    _chain(fat, cursor, n_mini)
    cursor += n_mini
    body = bytearray()
    for entry in large:
        count = _sectors(len(entry.data), SECTOR)
        entry.start, entry.size = cursor, len(entry.data)
        _chain(fat, cursor, count)
        cursor += count
        body += entry.data.ljust(count * SECTOR, b"\0")
    assert cursor == total

    fat_sectors = list(range(n_fat))
    header_difat = fat_sectors[:_HEADER_DIFAT] + [FREESECT] * (_HEADER_DIFAT - min(n_fat, _HEADER_DIFAT))
    difat = bytearray()
    rest = fat_sectors[_HEADER_DIFAT:]
    for number in range(n_difat):
        listed = rest[number * (_PER_SECTOR - 1):(number + 1) * (_PER_SECTOR - 1)]
        listed += [FREESECT] * (_PER_SECTOR - 1 - len(listed))
        following = n_fat + number + 1 if number < n_difat - 1 else ENDOFCHAIN
        difat += struct.pack(f"<{_PER_SECTOR}I", *listed, following)

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        _SIGNATURE, b"\0" * 16, 0x003E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0,  # number of directory sectors: always 0 in version 3
        n_fat, first_dir, 0, MINI_CUTOFF, first_minifat, n_minifat,
        n_fat if n_difat else ENDOFCHAIN, n_difat,
    ) + struct.pack(f"<{_HEADER_DIFAT}I", *header_difat)
    assert len(header) == SECTOR

    directory = bytearray()
    for entry in entries:
        directory += _directory_entry(entry)
    unused = _Entry("", 0)
    while len(directory) < n_dir * SECTOR:
        directory += _directory_entry(unused)
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    mini_fat_bytes = mini_fat_bytes.ljust(n_minifat * SECTOR, b"\xff")

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += difat
    out += directory
    out += mini_fat_bytes
    out += bytes(mini_stream).ljust(n_mini * SECTOR, b"\0")
    out += body
    assert len(out) == SECTOR * (total + 1)
    return bytes(out)


def _walk(entry: _Entry) -> list[_Entry]:
    """The root first, then every storage's children, breadth first."""
    found, queue = [entry], [entry]
    while queue:
        node = queue.pop(0)
        for child in sorted(node.children.values(), key=lambda e: _sort_key(e.name)):
            found.append(child)
            queue.append(child)
    return found


def _directory_entry(entry: _Entry) -> bytes:
    if entry.kind == 0:
        name, name_size = b"", 0
    else:
        name = entry.name.encode("utf-16-le") + b"\0\0"
        name_size = len(name)
    start = entry.start if entry.kind in (_STREAM, _ROOT) else 0
    size = entry.size if entry.kind in (_STREAM, _ROOT) else 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name, name_size, entry.kind, _BLACK if entry.kind else 0, entry.left, entry.right,
        entry.child, b"\0" * 16, 0, 0, 0, start, size,
    )
