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
process; ``checks.batch`` also has readers vet and read many files at once.

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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import IO, Any, Literal

__all__ = ["Outcome", "Readers", "shared", "reader_count", "child_environment", "IDLE_SECONDS"]

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


class _Reader:
    """One reader process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        self.errors: IO[bytes] = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, str(_SCRIPT), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
            env=child_environment(),
            # Windows: started from Excel, a python.exe child would flash a console window
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        self.deadline: float | None = None  # monotonic time by which the answer is due
        self.timed_out = False
        self.last_used = time.monotonic()
        self.fresh = True  # not yet known to answer

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, request: tuple[Any, ...]) -> None:
        """Queue a request: the reader answers requests in the order sent."""
        assert self.process.stdin is not None
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.write(_HEADER.pack(len(data)) + data)
        self.process.stdin.flush()

    def receive(self, timeout: float) -> Outcome:
        """The answer to the oldest request not yet answered, within ``timeout`` seconds
        from now (the reader is killed at that deadline)."""
        assert self.process.stdout is not None
        self.timed_out = False
        deadline = self.deadline = time.monotonic() + timeout
        try:
            try:
                head = self.process.stdout.read(_HEADER.size)
                answer = self.process.stdout.read(_HEADER.unpack(head)[0]) \
                    if len(head) == _HEADER.size else b""
            except (OSError, ValueError):
                answer = b""
        finally:
            self.deadline = None
            self.last_used = time.monotonic()
        if self.timed_out:  # killed at its deadline
            self.close()
            return Outcome("timeout")
        try:
            status, payload = _Unpickler(io.BytesIO(answer)).load()
        except Exception:  # no answer: the reader died (abort, memory limit, killed)
            self.close()
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
            self.close()
            return Outcome("died", self._last_words())
        return self.receive(timeout)

    def _last_words(self) -> str:
        code = self.process.returncode
        with contextlib.suppress(OSError, ValueError):
            self.errors.seek(0)
            lines = self.errors.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
            return f"exit {code}: {lines[-1] if lines else ''}"
        return f"exit {code}"

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()

    def close(self) -> None:
        """End the reader (it ends by itself when its input closes) and free its pipes."""
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        for pipe in (self.process.stdout, self.errors):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()


class Readers:
    """A pool of reader processes, started as needed and kept while there is work."""

    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        self.idle = idle
        self._free: list[_Reader] = []
        self._busy: set[_Reader] = set()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self.started = 0  # reader processes started so far

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
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(target=self._watch, name="zdxm-readers",
                                                 daemon=True)
                self._watcher.start()
            return reader

    def _release(self, reader: _Reader) -> None:
        with self._lock:
            self._busy.discard(reader)
            if reader.alive:
                self._free.append(reader)
            else:
                reader.close()

    def _watch(self) -> None:
        """Kill a reader past its deadline; let go of readers idle too long."""
        while True:
            time.sleep(_WATCH_EVERY)
            now = time.monotonic()
            with self._lock:
                for reader in self._busy:
                    if reader.deadline is not None and now > reader.deadline:
                        reader.timed_out = True
                        reader.kill()
                idle = [r for r in self._free if now - r.last_used > self.idle]
                for reader in idle:
                    self._free.remove(reader)
                if not self._busy and not self._free:
                    self._watcher = None
                    stop = True
                else:
                    stop = False
            for reader in idle:
                reader.close()
            if stop:
                return

    def close(self) -> None:
        """Let every idle reader go; the pool can be used again afterwards."""
        with self._lock:
            readers, self._free = self._free, []
        for reader in readers:
            reader.close()


_SHARED: Readers | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> Readers:
    """This process's pool of readers."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Readers()
            atexit.register(_SHARED.close)
        return _SHARED


PARALLEL_FROM = 24  # files: fewer are vetted and read here, one after another


def reader_count(files: int) -> int:
    """How many readers vet and read ``files`` files beside this process: one per core
    beyond the first (at most four), none for a few files or on one core. The environment
    variable ``ZDXM_READERS`` sets the number (0: this process alone)."""
    wanted = os.environ.get("ZDXM_READERS", "").strip()
    if wanted.isdigit():
        return min(int(wanted), 16) if files > 1 else 0
    if files < PARALLEL_FROM:
        return 0
    return max(0, min((os.cpu_count() or 1) - 1, 4))
