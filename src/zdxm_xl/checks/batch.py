"""Vetting and reading many returned files at once (批量安检与读取).

A run of ``zdxm validate`` or ``zdxm merge`` over a folder vets and reads every file
before checking it against the master. Files do not depend on each other, so readers
(``checks.readers``, one per core beyond the first) each take the next file not yet taken,
vet it and read it in their own process, while this process takes files too when the next
one it needs is not ready — and checks them against the master in order. The result is the
same as one file after another (``vetting.examine``); only the time differs. A reader that
dies on a file costs that file an F16 finding, nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from .limits import RETURN, Limits
from .readers import reader_count, shared
from .vetting import Examined, examine, examine_in_reader

__all__ = ["examine_all"]


class _Pending:
    """The files of one batch: which is taken next, and what has been found so far."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.next = 0
        self.done: dict[int, Examined | BaseException] = {}
        self.stopped = False
        self.changed = threading.Condition()

    def take(self) -> int | None:
        with self.changed:
            if self.stopped or self.next >= len(self.paths):
                return None
            self.next += 1
            return self.next - 1

    def put(self, position: int, result: Examined | BaseException) -> None:
        with self.changed:
            self.done[position] = result
            self.changed.notify_all()


def examine_all(paths: Sequence[Path], limits: Limits = RETURN,
                readers: int | None = None) -> Iterator[Examined]:
    """``examine`` each of ``paths``, yielding in their order; ``readers`` reader
    processes help (default ``reader_count``). Stopping early stops the readers' work."""
    count = reader_count(len(paths)) if readers is None else readers
    if count == 0:
        for path in paths:
            yield examine(path, limits)
        return
    pending = _Pending(paths)
    pool = shared()

    def work() -> None:
        while (position := pending.take()) is not None:
            path = pending.paths[position]
            try:
                try:
                    result: Examined | BaseException = examine_in_reader(path, pool, limits)
                except OSError:  # no reader could be started: this thread does it here
                    result = examine(path, limits)
            except BaseException as exc:  # a bug here: raised in the caller
                result = exc
            pending.put(position, result)

    threads = [threading.Thread(target=work, name=f"zdxm-examine-{n}", daemon=True)
               for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        for position in range(len(pending.paths)):
            yield _result(pending, position, limits)
    finally:
        with pending.changed:
            pending.stopped = True
        for thread in threads:  # each finishes the file it has (a return takes milliseconds)
            thread.join(timeout=5)


def _result(pending: _Pending, position: int, limits: Limits) -> Examined:
    """File ``position``'s result: ready, or — while it is not — taking the next file
    nobody has taken, here, or else waiting for the reader that took it."""
    while True:
        with pending.changed:
            if position in pending.done:
                result = pending.done.pop(position)
                break
        mine = pending.take()
        if mine is not None:
            try:
                pending.put(mine, examine(pending.paths[mine], limits))
            except BaseException as exc:
                pending.put(mine, exc)
            continue
        with pending.changed:
            pending.changed.wait_for(lambda: position in pending.done)
    if isinstance(result, BaseException):
        raise result
    return result
