"""Writing many documents at once (多份文件同时写出).

A month's 填报模板 are one workbook per 牵头单位, each tens of milliseconds of openpyxl's
time, all of it CPU; so are a validation's annotated copies and the 督办通知单 (docxtpl). On
a machine of several cores, writer processes (one per core beyond the first, at most four)
write some of them beside this process. Each is given what the documents share (the
master) once, then takes the next document from the front of the list, while this process
writes from its end — so nothing waits for a writer to start (importing takes it about a
second; a late one just takes fewer, and for a few documents none is started). The
documents are the same whoever wrote them (a template byte for byte).

A writer is ``python _writerprocess.py`` (run by path, as a reader is: it imports nothing
of the program that started it — Excel, a script — only zdxm_xl), fed pickles of our own
data on its input. A document a writer could not write — it failed, or the writer could
not start, died or did not answer within ``ANSWER_SECONDS`` — is written here, where a
failure is raised as it would be without writers. The environment variable
``ZDXM_WRITERS`` sets their number (0: this process alone).

Writers are kept between batches, as readers are (``Writers``, ``pool()``): the add-in's
next button and the demo's next month find them started, with what they write imported.
One without work for ``IDLE_SECONDS`` is let go, and so is every one when this process
ends.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..checks.readers import IDLE_SECONDS, Helper, Kept
from ..checks.readers import pool as kept_pool

__all__ = ["write_each", "writer_count", "kept_writers", "pool", "Writers", "PARALLEL_FROM",
           "IDLE_SECONDS"]

S = TypeVar("S")
J = TypeVar("J")
R = TypeVar("R")

PARALLEL_FROM = 16  # documents: fewer are written here, one after another
_MOST = 4
_IN_HAND = 2  # documents a writer has in hand at once: it never waits for this process
ANSWER_SECONDS = 120.0  # for a writer to take what it is sent and answer (once started)
_SCRIPT = Path(__file__).with_name("_writerprocess.py")


def writer_count(documents: int) -> int:
    """How many writer processes write ``documents`` documents beside this process: one
    per core beyond the first (at most four), none for a few documents or on one core."""
    wanted = os.environ.get("ZDXM_WRITERS", "").strip()
    if wanted.isdigit():
        return min(int(wanted), 16) if documents > 1 else 0
    if documents < PARALLEL_FROM:
        return 0
    return max(0, min((os.cpu_count() or 1) - 1, _MOST))


def kept_writers() -> int:
    """Writers kept from an earlier batch, ready at once: a few documents (a 简报 and its
    通报) are worth handing to one of them, though not worth starting one for."""
    return pool().kept


def write_each(write: Callable[[S, J], R], shared: S, jobs: Sequence[J],
               writers: int | None = None) -> list[R]:
    """``write(shared, job)`` for each of ``jobs``, the results in their order; writer
    processes (``writer_count``, or ``writers``) help. ``write`` is a function of a module
    (a writer imports it by name); ``shared``, the jobs and the results travel pickled."""
    count = min(writer_count(len(jobs)) if writers is None else writers, len(jobs) - 1)
    if count <= 0:
        return [write(shared, job) for job in jobs]
    try:
        shared_data = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # what cannot travel is written here
        return [write(shared, job) for job in jobs]
    batch, kept = _Batch(len(jobs)), pool()
    threads = [threading.Thread(target=_serve, args=(kept, batch, write, shared_data, jobs),
                                name=f"zdxm-writer-{n}", daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        while (position := batch.take_last()) is not None:
            batch.results[position] = write(shared, jobs[position])
    finally:
        batch.stop()
        for thread in threads:
            thread.join()
    # what the writers took and did not write (it failed, a writer died or never started),
    # here, where a failure is raised as it is
    for position in range(batch.front):
        if position not in batch.written:
            batch.results[position] = write(shared, jobs[position])
    return batch.results


class _Batch:
    """Which documents are taken: writers from the front, this process from the back."""

    def __init__(self, size: int) -> None:
        self.front, self.back = 0, size
        self.results: list[Any] = [None] * size
        self.written: set[int] = set()  # by a writer
        self.lock = threading.Lock()

    def take_first(self, leave: int = 0) -> int | None:
        """The first document not taken, unless no more than ``leave`` are left."""
        with self.lock:
            if self.back - self.front <= leave:
                return None
            self.front += 1
            return self.front - 1

    def take_last(self) -> int | None:
        with self.lock:
            if self.front >= self.back:
                return None
            self.back -= 1
            return self.back

    def stop(self) -> None:
        """Nothing more is taken (this process failed): writers finish what they have."""
        with self.lock:
            self.back = self.front


class _Writer(Helper):
    """One writer process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        super().__init__(_SCRIPT)


class Writers(Kept[_Writer]):
    """Writer processes kept between batches, and let go after ``idle`` seconds without
    work; a writer that failed to take or answer is not kept."""

    def take(self) -> _Writer | None:
        """A kept writer, or a new one, at work: ``None`` when none can be started."""
        with self._lock:
            while self._free:
                writer = self._free.pop(0)  # the longest kept: the likeliest to be ready
                if writer.alive:
                    break
                writer.close()
            else:
                try:
                    writer = _Writer()
                except OSError:
                    return None
                self.started += 1
            self._busy.add(writer)
            self._watching()
            return writer

    def give_back(self, writer: _Writer, done: bool) -> None:
        """Keep ``writer`` for the next batch if it is ``done`` with its own (took and
        answered everything), else let it go."""
        with self._lock:
            self._busy.discard(writer)
            if done and writer.alive:
                self._keep(writer)
                return
        writer.close()


def pool() -> Writers:
    """This process's kept writers."""
    return kept_pool(Writers)


def _serve(kept: Writers, batch: _Batch, write: Callable[..., Any], shared_data: bytes,
           jobs: Sequence[Any]) -> None:
    """One writer's share: a kept or new writer, given ``shared_data``, then documents in
    turn; kept afterwards if it took and answered everything."""
    writer = kept.take()
    if writer is None:  # no writer here: this process writes them all
        return
    in_hand, done = deque[int](), False
    try:
        with writer.due(ANSWER_SECONDS):
            writer.send(("shared", shared_data))
        while True:
            with writer.due(ANSWER_SECONDS):
                # one more in hand while it writes, if that leaves one for whoever is
                # free next (two documents: the writer writes one, this process the other)
                while len(in_hand) < _IN_HAND and (
                        position := batch.take_first(leave=1 if in_hand else 0)) is not None:
                    writer.send(("write", pickle.dumps(
                        (write, jobs[position]), protocol=pickle.HIGHEST_PROTOCOL)))
                    in_hand.append(position)
                if not in_hand:
                    done = True
                    return
                answer = writer.answer()
            if not answer:
                raise EOFError  # it died, or was stopped at its deadline
            # a writer is this program's own process, answering about its own data
            status, result = pickle.loads(answer)
            position = in_hand.popleft()
            if status == "ok":
                batch.results[position] = result
                batch.written.add(position)
    except Exception:  # it died, or a document cannot travel: what it had is written here
        pass
    finally:
        kept.give_back(writer, done)
