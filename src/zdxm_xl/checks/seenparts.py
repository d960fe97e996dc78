"""Parts met before (见过的部件): what vetting found in a part, kept by the part's bytes.

The returns of a month are one form, filled in by each unit and saved by a few programs,
so most of the parts of one return — its theme, styles, comments, relationships, the list
of its sheets — are, byte for byte, the parts of the last one. What vetting finds in a part
depends only on what the part is: its exact compressed bytes, how they are stored and what
the zip directory says they inflate to. A part met before, the same in all of that, is not
inflated and parsed again: what was found then is taken.

Only what a part passed is kept (a part that gave a finding is looked at again, as new),
under a key that holds the part's compressed bytes themselves — never a digest of them — so
a part is taken for one met before only when it is that part. The oldest entries are let
go past ``capacity`` bytes. Shared by the threads of a process.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

__all__ = ["SeenParts"]


class SeenParts:
    """What was found in parts met before, each by a key of everything it depends on (a
    tuple of numbers, text and the part's compressed bytes, as ``bytes`` or a read-only
    ``memoryview``); ``capacity``: the bytes in the keys kept at most."""

    def __init__(self, capacity: int = 8 * 2**20) -> None:
        self.capacity = capacity
        self.size = 0
        self.hits = 0  # parts found met before (roughly: threads count without a lock)
        self._found: dict[tuple[Hashable, ...], object] = {}
        self._lock = threading.Lock()  # for keeping; a lookup is one dict lookup, in C

    def get(self, key: tuple[Hashable, ...]) -> object | None:
        """What was found in the part of ``key``, or ``None`` if it was not met (or was let
        go)."""
        found = self._found.get(key)
        if found is not None:
            self.hits += 1
        return found

    def put(self, key: tuple[Hashable, ...], found: object) -> None:
        """Keep ``found`` (not ``None``) for the part of ``key``; a memoryview in the key is
        kept as a copy of its bytes, not of the file it is a view of."""
        kept = tuple(bytes(item) if isinstance(item, memoryview) else item for item in key)
        size = _size(kept)
        if size > self.capacity:
            return
        with self._lock:
            if kept in self._found:
                return
            self._found[kept] = found
            self.size += size
            while self.size > self.capacity:
                oldest = next(iter(self._found))
                del self._found[oldest]
                self.size -= _size(oldest)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()
            self.size = 0


def _size(key: tuple[Hashable, ...]) -> int:
    return sum(len(item) for item in key if isinstance(item, bytes))
