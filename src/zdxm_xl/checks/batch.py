"""Vetting and reading many returned files at once (批量安检与读取).

A run of ``zdxm validate`` or ``zdxm merge`` over a folder vets and reads every file
before checking it against the master. Files do not depend on each other, so readers
(``checks.readers``, one per core beyond the first) each take the next file not yet taken,
vet it and read it in their own process, while this process takes files too when the next
one it needs is not ready — and checks them against the master in order. The result is the
same as one file after another (``vetting.examine``); only the time differs. A reader that
dies on a file costs that file an F16 finding, nothing else: the files it had queued go to
the next reader.

Each reader has the next files queued before it finishes the one in hand, so it does not
wait for this process, which is busy checking.

The latest examinations are remembered (``Examination`` remembers, ``remembered`` finds):
the add-in's 合并 after its 校验 takes the same files moments later in the same process,
and a file whose bytes are still those examined (its size, time and content hash) is not
vetted and read again. A file vetting refused, or that took its reader with it, is. The
command line starts afresh each time: ``forget_examined`` empties the memory.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..core.workspace import file_state
from .limits import RETURN, Limits
from .readers import Readers, _Reader, reader_count, shared
from .vetting import Examined, check_request, examine, examined_from

__all__ = ["Examination", "examine_all", "QUEUED", "remembered", "forget_examined", "settle"]

# Files a reader has in hand and queued. The thread here that feeds it waits its turn for
# the interpreter while this process checks (up to a switch interval, 5 ms, each time), and
# a return takes a reader under 2 ms: two in hand left it idle a fifth of the time.
QUEUED = 8
READY_SECONDS = 30.0  # for a reader to import the vetting code (as long as to start)


REMEMBERED = 1000  # files: the latest examinations kept (a return's values take tens of KB)
_Remembered = tuple[tuple[int, int, int], Limits, Examined]
_LATEST: OrderedDict[Path, _Remembered] = OrderedDict()
_LATEST_LOCK = threading.Lock()


def _state(path: Path) -> tuple[int, int, int] | None:
    try:
        return file_state(path)
    except OSError:
        return None


def _remember(path: Path, state: tuple[int, int, int] | None, limits: Limits,
              examined: Examined) -> None:
    """Keep what ``path`` (in ``state`` before it was examined) was found to be, if it
    passed vetting and was read."""
    if state is None or not examined.vetted.ok or not isinstance(examined.values, dict):
        return
    with _LATEST_LOCK:
        _LATEST[path] = (state, limits, examined)
        _LATEST.move_to_end(path)
        while len(_LATEST) > REMEMBERED:
            _LATEST.popitem(last=False)


def remembered(path: Path, limits: Limits = RETURN) -> Examined | None:
    """``path``'s latest examination, if its bytes are still those examined: the same size,
    modification time and file, and the same content hash (read again to be sure)."""
    with _LATEST_LOCK:
        kept = _LATEST.get(path)
    if kept is None:
        return None
    state, kept_limits, examined = kept
    if kept_limits != limits or _state(path) != state:
        return None
    try:
        content = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(content).hexdigest() != examined.sha256:
        return None
    return examined


def forget_examined() -> None:
    """Forget every examination (the next batch vets and reads every file)."""
    with _LATEST_LOCK:
        _LATEST.clear()


class _Pending:
    """The files of one batch: which is taken next, and what has been found so far."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.next = 0
        self.returned: list[int] = []  # taken, then given back (their reader died)
        self.done: dict[int, Examined | BaseException] = {}
        self.stopped = False
        self.changed = threading.Condition()
        # the threads still waiting for their reader to be ready: they hold no file
        self.starting: set[threading.Thread] = set()

    def take(self) -> int | None:
        with self.changed:
            if self.stopped:
                return None
            if self.returned:
                return heapq.heappop(self.returned)
            while self.next < len(self.paths) and self.next in self.done:
                self.next += 1  # remembered
            if self.next >= len(self.paths):
                return None
            self.next += 1
            return self.next - 1

    def give_back(self, position: int) -> None:
        with self.changed:
            heapq.heappush(self.returned, position)

    def put(self, position: int, result: Examined | BaseException) -> None:
        with self.changed:
            self.done[position] = result
            self.changed.notify_all()


class Examination:
    """Examining ``paths``, begun when made: readers start on the files at once, so that
    the caller can meanwhile do something else (read the master). Iterate for the results,
    in order (this process takes files too while the next one is not ready); ``close``
    stops the readers' work, also when the results are not all taken."""

    def __init__(self, paths: Sequence[Path], limits: Limits = RETURN) -> None:
        self.pending = _Pending(paths)
        self.limits = limits
        self.states = [_state(path) for path in self.pending.paths]  # before any is read
        for position, path in enumerate(self.pending.paths):
            found = remembered(path, limits)
            if found is not None:
                self.pending.done[position] = found
        count = reader_count(len(paths) - len(self.pending.done))
        self.threads = [threading.Thread(target=_work, args=(self.pending, shared(), limits),
                                         name=f"zdxm-examine-{n}", daemon=True)
                        for n in range(count)]
        for thread in self.threads:
            thread.start()
        with _STARTED_LOCK:
            _STARTED.update(self.threads)

    def __iter__(self) -> Iterator[Examined]:
        try:
            for position, path in enumerate(self.pending.paths):
                if self.threads or position in self.pending.done:
                    found = _result(self.pending, position, self.limits)
                else:
                    found = examine(path, self.limits)
                _remember(path, self.states[position], self.limits, found)
                yield found
        finally:
            self.close()

    def close(self) -> None:
        with self.pending.changed:
            self.pending.stopped = True
            starting = set(self.pending.starting)
        # Each finishes the files it has (a return takes ms). One whose reader is not ready
        # yet holds none, and takes none once it is: it is not waited for (a batch done
        # before a new reader has started does not wait for it to start).
        for thread in self.threads:
            if thread not in starting:
                thread.join(timeout=5)
        self.threads = []


# The threads of every batch, ended or not: one whose batch was done before its reader was
# ready gets the reader ready after the batch (and keeps it for the next).
_STARTED: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
_STARTED_LOCK = threading.Lock()


def settle(timeout: float = 60.0) -> None:
    """Wait until the threads of earlier batches have ended (each then has its reader, if
    it got one, kept in the pool): for a benchmark that counts the readers' CPU time, and
    tests that count readers."""
    with _STARTED_LOCK:
        threads = list(_STARTED)
    for thread in threads:
        thread.join(timeout)


def examine_all(paths: Sequence[Path], limits: Limits = RETURN) -> Iterator[Examined]:
    """``examine`` each of ``paths``, yielding in their order; reader processes help
    (``reader_count`` of them). Stopping early stops the readers' work."""
    return iter(Examination(paths, limits))


def _work(pending: _Pending, pool: Readers, limits: Limits) -> None:
    """One reader's share: files taken in turn, ``QUEUED`` of them in its hands at once."""
    try:
        reader: _Reader | None = _ready(pending, pool)
    except OSError:  # no reader can be started here: this process does the files
        return
    queued: deque[int] = deque()
    try:
        while reader is not None:
            while len(queued) < QUEUED and (position := pending.take()) is not None:
                try:
                    reader.send(check_request(pending.paths[position], limits)[0])
                except (OSError, ValueError):  # it died meanwhile: someone else takes it
                    pending.give_back(position)
                    break
                queued.append(position)
            if not queued:
                return
            position = queued.popleft()
            path = pending.paths[position]
            outcome = reader.receive(check_request(path, limits)[1])
            try:
                found = examined_from(path, outcome, limits)
                result: Examined | BaseException = found if found is not None \
                    else examine(path, limits)
            except BaseException as exc:  # a bug here: raised in the caller
                result = exc
            pending.put(position, result)
            if not reader.alive or outcome.status in ("died", "timeout"):
                # the file in hand took the reader with it; the queued ones were not read
                for other in queued:
                    pending.give_back(other)
                queued.clear()
                pool.release(reader)
                reader = None
                try:
                    reader = _ready(pending, pool)
                except OSError:
                    return
    finally:
        for other in queued:
            pending.give_back(other)
        if reader is not None:
            pool.release(reader)


def _ready(pending: _Pending, pool: Readers) -> _Reader:
    """A reader that has the vetting code imported: files are handed to it only then. A
    new one takes some 0.1 s to start and import it, and files queued to it meanwhile would
    wait — while this process, taking files itself, could have vetted dozens of them."""
    me = threading.current_thread()
    with pending.changed:
        pending.starting.add(me)
    try:
        reader = pool.acquire()
        outcome = reader.ask(("ready", ()), READY_SECONDS)
        if outcome.status != "ok":
            pool.release(reader)
            raise OSError(f"读取进程无法就绪：{outcome.payload}")
        return reader
    finally:
        with pending.changed:
            pending.starting.discard(me)


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
            pending.changed.wait_for(lambda: position in pending.done or bool(pending.returned))
    if isinstance(result, BaseException):
        raise result
    return result
