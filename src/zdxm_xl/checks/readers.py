"""Long-lived reader processes (常驻读取进程): isolation without a process per file.

python-calamine aborts the whole process (no exception) on some files, and a file may ask
for more memory or time than any return needs. Whatever might do that runs in a reader
process (``_readerprocess.py``), under an address-space and a CPU-time limit, with a
wall-clock limit kept by this process: a reader that dies, or is killed for taking too
long, costs the one file it was reading — that file gets a finding — and is replaced by a
fresh one for the next file.

Starting a process costs more than reading a return, so readers are kept: a ``Readers``
pool starts them as they are needed, hands each request to an idle one, and lets them go
after a while without work (and when this process ends). ``shared()`` is the pool of this
process; ``checks.batch`` also has readers vet and read many files at once. The keeping
(``Helper``, ``Kept``, ``pool``) serves the writers of ``reports.writers`` too.

The reader's answers are data from a process that handled a hostile file: they are
unpickled with only plain containers, numbers, text and date/time values allowed.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeVar, cast

__all__ = ["Outcome", "Readers", "shared", "reader_count", "child_environment", "IDLE_SECONDS",
           "Helper", "Kept", "pool", "close_all", "PARALLEL_FROM", "START_FROM"]

IDLE_SECONDS = 60.0  # a reader without work this long is let go
_SCRIPT = Path(__file__).with_name("_readerprocess.py")
_HEADER = struct.Struct(">I")
_WATCH_EVERY = 0.02  # seconds between looks at the readers' deadlines
_START_SECONDS = 30.0  # for a new reader to start and answer its first request


@dataclass(frozen=True)
class Outcome:
    """What became of one request: ``ok`` (``payload`` is the answer), ``error`` (the
    reader said why, ``payload`` is its text), ``died`` (it ended without an answer:
    ``payload`` is its exit status and last words) or ``timeout``."""

    status: Literal["ok", "error", "died", "timeout"]
    payload: Any = None


class _Unpickler(pickle.Unpickler):
    """A reader's answer: plain containers, numbers, text and date/time values only."""

    _ALLOWED = {("datetime", cls.__name__): cls for cls in (date, datetime, clock_time, timedelta)}

    def find_class(self, module: str, name: str) -> Any:
        allowed = self._ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")
        return allowed


def child_environment() -> dict[str, str]:
    """The environment of a process of ours started by path — a reader (it imports zdxm_xl
    to vet files), a writer (``reports.writers``) — so that it imports zdxm_xl the way this
    process did."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


class Helper:
    """A process of ours run by path (``python script args``) and spoken to over its
    standard input and output — a reader, a writer (``reports.writers``); used by one
    thread at a time. ``OSError`` when it cannot be started."""

    def __init__(self, script: Path, *args: str, stderr: IO[bytes] | int = subprocess.DEVNULL
                 ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            env=child_environment(),
            # Windows: started from Excel, a python.exe child would flash a console window
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        self.last_used = time.monotonic()
        self.deadline: float | None = None  # monotonic time by which it must have answered
        self.timed_out = False  # killed at its deadline (by its pool's watcher)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @contextlib.contextmanager
    def due(self, seconds: float) -> Iterator[float]:
        """What is done inside must be done within ``seconds`` (the deadline, yielded):
        past it, the pool that holds this process as at work kills it, and its pipes fail."""
        self.timed_out = False
        deadline = self.deadline = time.monotonic() + seconds
        try:
            yield deadline
        finally:
            self.deadline = None
            self.last_used = time.monotonic()

    def send(self, message: Any) -> None:
        """Queue ``message`` (pickled, its length first): answers come in the order sent."""
        assert self.process.stdin is not None
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.write(_HEADER.pack(len(data)) + data)
        self.process.stdin.flush()

    def answer(self) -> bytes:
        """The next answer, still pickled; ``b""`` when the process ended without one."""
        assert self.process.stdout is not None
        head = self.process.stdout.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return b""
        return self.process.stdout.read(_HEADER.unpack(head)[0])

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()

    def close(self, wait: float = 10.0) -> None:
        """End the process (it ends by itself when its input closes), killing it if it has
        not within ``wait`` seconds, and free its pipes."""
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdout is not None:
                self.process.stdout.close()


H = TypeVar("H", bound=Helper)


class Kept(Generic[H]):
    """Helper processes kept for the next piece of work, and let go after ``idle`` seconds
    without any, or when this process ends (``pool``); one at work past its deadline
    (``Helper.due``) is killed. A watcher thread looks every ``watch_every`` seconds while
    any is kept or at work."""

    watch_every = 1.0

    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        self.idle = idle
        self._free: list[H] = []
        self._busy: set[H] = set()  # at work: killed past their deadline
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self.started = 0  # processes started so far

    @property
    def kept(self) -> int:
        """Processes kept, idle, for the next piece of work."""
        with self._lock:
            return len(self._free)

    def _keep(self, helper: H) -> None:
        """Keep ``helper`` (alive, nothing in hand); with the lock held."""
        helper.last_used = time.monotonic()
        self._free.append(helper)
        self._watching()

    def _watching(self) -> None:
        """The watcher runs; with the lock held."""
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._watch, daemon=True,
                                             name=f"zdxm-{type(self).__name__.lower()}")
            self._watcher.start()

    def _look(self, now: float) -> bool:
        """Kill a helper at work past its deadline; with the lock held. Whether any is at
        work."""
        for helper in self._busy:
            if helper.deadline is not None and now > helper.deadline:
                helper.timed_out = True
                helper.kill()
        return bool(self._busy)

    def _watch(self) -> None:
        while True:
            time.sleep(self.watch_every)
            now = time.monotonic()
            with self._lock:
                working = self._look(now)
                idle = [h for h in self._free if now - h.last_used > self.idle]
                self._free = [h for h in self._free if h not in idle]
                stop = not working and not self._free
                if stop:
                    self._watcher = None
            for helper in idle:
                helper.close()
            if stop:
                return

    def close(self) -> None:
        """Let every kept process go; the pool can be used again afterwards."""
        with self._lock:
            kept, self._free = self._free, []
        for helper in kept:
            helper.close()


K = TypeVar("K", bound=Kept[Any])
_POOLS: dict[type[Kept[Any]], Kept[Any]] = {}
_POOLS_LOCK = threading.Lock()


def pool(kind: type[K]) -> K:
    """This process's pool of ``kind`` (made on first use, emptied when it ends)."""
    with _POOLS_LOCK:
        found = _POOLS.get(kind)
        if found is None:
            found = _POOLS[kind] = kind()
        return cast(K, found)


@atexit.register
def close_all() -> None:
    """Let every helper process kept by this process go (each ends): when it ends, and for
    a benchmark that starts each run as a new ``zdxm`` process would, with none kept."""
    for kept in list(_POOLS.values()):
        kept.close()


def _forget_in_child() -> None:
    """A forked child has helpers of its own: its parent's pipes are not its to use (nor
    to close when it ends)."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()  # another thread may have held it when the fork came


if hasattr(os, "register_at_fork"):  # not on Windows, where nothing forks
    os.register_at_fork(after_in_child=_forget_in_child)


class _Reader(Helper):
    """One reader process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        self.errors: IO[bytes] = tempfile.TemporaryFile()
        super().__init__(_SCRIPT, "--serve", stderr=self.errors)
        self.fresh = True  # not yet known to answer

    def receive(self, timeout: float) -> Outcome:
        """The answer to the oldest request not yet answered, within ``timeout`` seconds
        from now (the reader is killed at that deadline)."""
        with self.due(timeout) as deadline:
            try:
                answer = self.answer()
            except (OSError, ValueError):
                answer = b""
        if self.timed_out:  # killed at its deadline
            self.close()
            return Outcome("timeout")
        try:
            status, payload = _Unpickler(io.BytesIO(answer)).load()
        except Exception:  # no answer: the reader died (abort, memory limit, killed)
            return Outcome("died", self._last_words())
        if status == "restart":  # answered, but spent: a fresh reader takes the next file
            self.close()
            status, payload = payload
        if time.monotonic() > deadline:  # answered, but too late: a limit is a limit
            return Outcome("timeout")
        return Outcome("ok" if status == "ok" else "error", payload)

    def ask(self, request: tuple[Any, ...], timeout: float) -> Outcome:
        try:
            self.send(request)
        except (OSError, ValueError):  # it had died
            return Outcome("died", self._last_words())
        return self.receive(timeout)

    def _last_words(self) -> str:
        """Its exit status and the last line it wrote to its error output, once it has
        ended (it is closed, with its pipes and that output): for the office's technical
        staff (``Outcome.payload``), never shown to a unit."""
        super().close(2.0)  # ended: all it wrote is in its error output
        words = f"exit {self.process.returncode}"
        with contextlib.suppress(OSError, ValueError):
            self.errors.seek(0)
            lines = self.errors.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
            words += f": {lines[-1]}" if lines else ""
        self.close()
        return words

    def close(self, wait: float = 2.0) -> None:
        super().close(wait)
        with contextlib.suppress(OSError, ValueError):
            self.errors.close()


class Readers(Kept[_Reader]):
    """A pool of reader processes, started as needed and kept while there is work."""

    watch_every = _WATCH_EVERY

    def ask(self, request: tuple[Any, ...], timeout: float) -> Outcome:
        """Send ``request`` to an idle reader (a new one when none is idle) and wait for
        its answer at most ``timeout`` seconds; a reader that dies is replaced."""
        reader = self._acquire()
        try:
            return reader.ask(request, timeout)
        finally:
            self._release(reader)

    def acquire(self) -> _Reader:
        """A reader for one thread's own run of requests (``send``, then ``receive`` in
        turn), known to answer: ``OSError`` when no reader can be started. Give it back
        with ``release``."""
        reader = self._acquire()
        if reader.fresh:
            outcome = reader.ask(("hello", ()), _START_SECONDS)
            if outcome.status != "ok":
                self._release(reader)
                raise OSError(f"读取进程无法启动：{outcome.payload}")
            reader.fresh = False
        return reader

    def release(self, reader: _Reader) -> None:
        self._release(reader)

    def _acquire(self) -> _Reader:
        with self._lock:
            while self._free:
                reader = self._free.pop()
                if reader.alive:
                    break
                reader.close()
            else:
                reader = _Reader()
                self.started += 1
            self._busy.add(reader)
            self._watching()
            return reader

    def _release(self, reader: _Reader) -> None:
        with self._lock:
            self._busy.discard(reader)
            if reader.alive:
                self._keep(reader)
                return
        reader.close()


def shared() -> Readers:
    """This process's pool of readers."""
    return pool(Readers)


PARALLEL_FROM = 24  # files: fewer are vetted and read here, one after another
# Files that pay for starting a reader: it is ready to vet some 0.1 s after it is asked for
# (its vetting code loads no pydantic), when this process has vetted and read about forty
# returns alone. Measured: 40 returns took 0.13 s either way, 60 took 0.15 s with a new
# reader against 0.18 s without.
START_FROM = 50


def reader_count(files: int) -> int:
    """How many readers vet and read ``files`` files beside this process: one per core
    beyond the first (at most four), none for a few files or on one core; for fewer than
    ``START_FROM``, only readers kept ready from an earlier batch (the add-in's, the
    demo's), none started for them. The environment variable ``ZDXM_READERS`` sets the
    number (0: this process alone)."""
    wanted = os.environ.get("ZDXM_READERS", "").strip()
    if wanted.isdigit():
        return min(int(wanted), 16) if files > 1 else 0
    if files < PARALLEL_FROM:
        return 0
    most = max(0, min((os.cpu_count() or 1) - 1, 4))
    return most if files >= START_FROM else min(most, shared().kept)
