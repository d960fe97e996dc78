"""A reader process (常驻读取进程, ``checks.readers``): run as a script by path,
``python _readerprocess.py --serve``, it answers requests on its standard input one after
another, each under its own limits: ``read`` — the values of a vetted file's bytes
(python-calamine only) — or ``check`` — vet a file and read it (this imports the vetting
code, which ``ready`` does ahead). A request is a length-prefixed pickle from zdxm; so is
the answer, which zdxm unpickles as plain data only.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).parent:
    # run by path: this file's folder is not a place to import top-level modules from
    del sys.path[0]

from zdxm_xl.checks._sheetreader import limit_resources, read_values  # noqa: E402

__all__ = ["serve", "main"]

_HEADER = struct.Struct(">I")
# A reader holding this much memory after an answer hands its next file to a fresh one:
# memory a large file took is not always given back.
_SPENT_KB = 512 * 1024


def _spent() -> bool:
    """Whether this reader holds more than ``_SPENT_KB`` now (Linux; elsewhere never).

    Not its peak (``ru_maxrss``): Linux counts into a new process's peak the peak of the
    process that started it, so a reader started by a zdxm that once held more (a large
    merge, the add-in after a long day) would be spent from its first answer on — and quit
    after every file."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return pages * (os.sysconf("SC_PAGE_SIZE") // 1024) > _SPENT_KB


def _answer(kind: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    if kind == "hello":  # started and able to read
        import python_calamine  # noqa: F401

        return "ok", None
    if kind == "ready":  # able to vet too: the vetting code imported (some 0.05 s, once)
        if os.environ.get("ZDXM_CRASH_AT") == "reader:ready":
            os.abort()  # the tests' stand-in for a reader that cannot vet
        import zdxm_xl.checks.vetting  # noqa: F401

        return "ok", None
    if kind == "read":
        path, content, memory, seconds = args
        limit_resources(memory, seconds)
        return "ok", read_values(path, content)
    if kind == "check":
        path, limits, seconds = args
        if os.environ.get("ZDXM_CRASH_AT") == f"reader:{Path(path).name}":
            os.abort()  # the tests' stand-in for a file that kills python-calamine
        limit_resources(limits.read_memory, seconds)
        from zdxm_xl.checks.vetting import examine_plain

        return "ok", examine_plain(path, limits)
    return "error", f"unknown request {kind!r}"


def serve() -> int:
    """Answer requests until the input ends: a length-prefixed pickle in, one out."""
    incoming, outgoing = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = incoming.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return 0
        kind, args = pickle.loads(incoming.read(_HEADER.unpack(head)[0]))
        restart = False
        try:
            result = _answer(kind, args)
        except MemoryError:
            result, restart = ("error", "MemoryError: 内存不足"), True
        except Exception as exc:  # reported to the parent as data, not a traceback
            result = ("error", f"{type(exc).__name__}: {exc}"[:300])
        restart = restart or _spent()
        reply: tuple[str, Any] = ("restart", result) if restart else result
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        outgoing.write(_HEADER.pack(len(data)) + data)
        outgoing.flush()
        if restart:
            return 0


def main(argv: list[str]) -> int:
    if argv[:1] != ["--serve"]:
        print("用法：python _readerprocess.py --serve（由 zdxm 启动，不直接运行）", file=sys.stderr)
        return 2
    return serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
