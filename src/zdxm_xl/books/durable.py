"""Copies made durable together (归档副本落盘), also in a helper process.

A merge keeps a copy of every file it merged in the archive, each written to a temporary
name, flushed, renamed, its folder flushed — for a thousand files at once, flushed together.
Most of that is the operating system's work (making folders and files), which a process
does without holding Python's interpreter: ``DurableCopies`` has a helper process (this
file run as a script, with nothing but the standard library) make the copies while the
merge goes on writing the master; ``wait`` then says how it went, as ``copy_files_durably``
would have. For a few files (the usual month of an office of a few hundred units) the
copies are made by a thread of this process instead, as the master is written: a process
costs more to start.

Each copy is of the bytes the caller checked: the source is read whole and its SHA-256
compared with the one given (``SourceChanged`` when it was changed meanwhile).
``remove_copies`` takes copies back, with the folders made for them, when what they were
made for did not happen (the master was not written).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["copy_files_durably", "remove_copies", "DurableCopies", "SourceChanged", "fsync_dir",
           "copy_mode", "HELPER_FROM"]

HELPER_FROM = 200  # copies: fewer are made by a thread of this process
_BINARY = getattr(os, "O_BINARY", 0)


class SourceChanged(Exception):
    """A file to be copied whose content is no longer what it was when it was checked."""

    def __init__(self, filename: str) -> None:
        super().__init__(filename)
        self.filename = filename


def fsync_dir(folder: Path) -> None:
    # Not every platform can open a directory (Windows cannot); there the rename is durable
    # enough once the file itself is synced.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def copy_mode(path: Path, temp: Path) -> None:
    # mkstemp makes the file private (0600); keep the old file's mode, or the usual one.
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(temp, mode)


def copy_files_durably(copies: Sequence[tuple[Path, Path]],
                       digests: Sequence[str] | None = None) -> None:
    """Copy each source to its target as ``atomic_write`` would — a temporary file in the
    target's folder (made if need be), on disk before it takes the target's name, the folder
    flushed after — but for many files at once: the copies are flushed to disk together,
    then renamed, then the folders flushed. Together: on Linux the file system is flushed
    once for all of them (``syncfs``: one commit where a flush of each file and folder
    costs one each, six times the time for a thousand returns); elsewhere each is flushed,
    in parallel, so the file system still commits them in a few journal writes. A failure
    leaves no temporary file behind and no target half-written."""
    if not copies:
        return
    temps: list[tuple[str, Path]] = []
    renamed = 0
    own = list(dict.fromkeys(target.parent for _source, target in copies))
    # each folder, and the folders above them that were made for them
    folders = own + list(dict.fromkeys(folder.parent for folder in own))
    try:
        for folder in own:
            folder.mkdir(parents=True, exist_ok=True)
        for number, (source, target) in enumerate(copies):
            digest = None if digests is None else digests[number]
            temps.append((_copy_beside(source, target, number, digest), target))
        systems = _file_systems(folders) if len(temps) >= _SYNC_WHOLE_FROM else None
        if systems is None:
            with ThreadPoolExecutor(max_workers=min(16, len(temps))) as pool:
                list(pool.map(_fsync_file, [temp for temp, _target in temps]))
        else:
            _sync_file_systems(systems)  # the copies on disk under their temporary names
        for temp, target in temps:
            os.replace(temp, target)
            renamed += 1
        if systems is None:
            with ThreadPoolExecutor(max_workers=min(16, len(folders))) as pool:
                list(pool.map(fsync_dir, folders))
        else:
            _sync_file_systems(systems)  # the new names too
    except BaseException:
        for temp, _target in temps[renamed:]:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise


def remove_copies(targets: Sequence[Path], within: Path) -> None:
    """Undo ``copy_files_durably``: remove ``targets`` and the folders left empty, up to
    ``within`` (not itself). What cannot be removed stays."""
    folders: set[Path] = set()
    for target in targets:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        folders.add(target.parent)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        while folder != within and folder.is_relative_to(within):
            try:
                folder.rmdir()
            except OSError:  # not empty: other copies
                break
            folder = folder.parent


def _copy_beside(source: Path, target: Path, number: int, digest: str | None = None) -> str:
    """A copy of ``source`` in ``target``'s folder under a temporary name (returned), with
    the mode of ``target`` if it exists, else the usual one; ``SourceChanged`` when
    ``digest`` is given and the source's content no longer has it. Made with a few system
    calls and no more (no mkstemp, no chmod for a new file): a merge archives a thousand
    files at once."""
    data = _read_whole(source)
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise SourceChanged(str(source))
    temp = os.path.join(target.parent, f".~zdxm-{os.getpid()}-{number}-{target.name}")
    private = False
    try:  # the mode the umask leaves
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    except FileExistsError:  # left by a process of the same number that was killed
        fd, temp = tempfile.mkstemp(prefix=".~zdxm-", suffix=target.suffix, dir=target.parent)
        private = True  # mkstemp makes it private
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        if private or os.path.exists(target):
            copy_mode(target, Path(temp))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _read_whole(path: Path) -> bytes:
    """The file's bytes, to its end (asked for by its size, then until nothing comes)."""
    fd = os.open(path, os.O_RDONLY | _BINARY)
    try:
        chunks = [os.read(fd, os.fstat(fd).st_size + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 20))
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 2 else b"".join(chunks)


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDWR | _BINARY)  # Windows flushes writable ones
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SYNC_WHOLE_FROM = 16  # files: fewer are flushed one by one (the file system may hold more)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """Linux's ``syncfs`` (glibc 2.14 and later): flush the file system holding an open
    file; ``None`` where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return None


def _file_systems(folders: Sequence[Path]) -> list[Path] | None:
    """A folder on each file system that holds ``folders``, when the whole file system can
    be flushed at once; ``None`` otherwise."""
    if _syncfs() is None:
        return None
    found: dict[int, Path] = {}
    for folder in folders:
        found.setdefault(folder.stat().st_dev, folder)
    return list(found.values())


def _sync_file_systems(folders: Sequence[Path]) -> None:
    """Flush the file system of each folder — all its files and folders — to the disk; an
    ``OSError`` when the disk says it could not write something."""
    import ctypes

    syncfs = _syncfs()
    assert syncfs is not None
    for folder in folders:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(fd) != 0:
                number = ctypes.get_errno()
                raise OSError(number, os.strerror(number), str(folder))
        finally:
            os.close(fd)


class DurableCopies:
    """``copy_files_durably(copies, digests)``, begun when made — in a helper process when
    there are ``HELPER_FROM`` copies or more, else in a thread of this process — and
    finished by ``wait``. (A thread does the copies while the caller goes on: most of
    their time is the operating system's, and the disk's, outside the interpreter — an
    office's disk, or an antivirus that reads each new file, can take far longer than
    this process's work for them.)"""

    def __init__(self, copies: Sequence[tuple[Path, Path]],
                 digests: Sequence[str] | None = None) -> None:
        self.copies, self.digests = list(copies), None if digests is None else list(digests)
        self.process: subprocess.Popen[bytes] | None = None
        self.sending: threading.Thread | None = None
        self.copying: Future[None] | None = None
        if not self.copies:
            return
        if len(self.copies) < HELPER_FROM:
            self.copying = Future()
            threading.Thread(target=self._copy_here, args=(self.copying,),
                             name="zdxm-archive-copies", daemon=True).start()
            return
        request = json.dumps({"copies": [[str(s), str(t)] for s, t in self.copies],
                              "digests": self.digests}).encode()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                # Windows: started from Excel, a python.exe child would flash a console window
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        except (OSError, ValueError):  # no helper here: the copies are made by ``wait``
            return
        # The request (a thousand pairs of paths: more than a pipe holds) is handed over
        # by a thread: written here, it would wait for the helper to start and read it.
        self.sending = threading.Thread(target=_send, args=(self.process, request),
                                        name="zdxm-archive-request", daemon=True)
        self.sending.start()

    def _copy_here(self, done: Future[None]) -> None:
        """The copies, made in this thread; ``done`` says how it went."""
        try:
            copy_files_durably(self.copies, self.digests)
        except BaseException as exc:  # raised by ``wait``, in the caller
            done.set_exception(exc)
        else:
            done.set_result(None)

    def wait(self) -> None:
        """The copies are made and on disk; raises as ``copy_files_durably`` does. Called
        again, it has nothing left to do (after a failure it tries again)."""
        copying, self.copying = self.copying, None
        if copying is not None:  # by the thread: raises what the copying raised
            copying.result()
        else:
            answer = self._answer()
            if answer is None:  # made here: no helper, or it ended without saying
                copy_files_durably(self.copies, self.digests)
            elif "changed" in answer:
                raise SourceChanged(str(answer["changed"]))
            elif "failed" in answer:
                number, text, name = answer["failed"]
                raise OSError(number, text, name)
        self.copies, self.digests = [], None if self.digests is None else []

    def close(self) -> None:
        """Let the helper, or the thread, finish (its copies are whole or gone), whatever the
        caller does."""
        copying, self.copying = self.copying, None
        if copying is not None:
            copying.exception()  # waits; what it raised is the caller's to have seen, or not
        self._answer()

    def _answer(self) -> dict[str, Any] | None:
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            assert process.stdout is not None
            with process.stdout:
                data = process.stdout.read()
            process.wait()
            answer = json.loads(data)
        except (OSError, ValueError):  # no answer to be had: a helper still there is ended,
            with contextlib.suppress(OSError):  # so that it cannot hold up the sending
                process.kill()
            process.wait()
            return None
        finally:  # the helper has read its request (or is gone): the sending is over
            sending, self.sending = self.sending, None
            if sending is not None:
                sending.join()
        return answer if isinstance(answer, dict) and answer.keys() & {"ok", "changed", "failed"} \
            else None


def _send(process: subprocess.Popen[bytes], request: bytes) -> None:
    """Hand ``request`` to the helper and close its input; a helper that is gone does not
    get it (it ends without an answer, and ``wait`` makes the copies itself)."""
    assert process.stdin is not None
    with contextlib.suppress(OSError, ValueError), process.stdin:
        process.stdin.write(request)


def _serve() -> int:
    """The helper: the copies asked for on the standard input, the outcome on the output."""
    request = json.loads(sys.stdin.buffer.read())
    copies = [(Path(source), Path(target)) for source, target in request["copies"]]
    answer: dict[str, Any]
    try:
        copy_files_durably(copies, request["digests"])
        answer = {"ok": True}
    except SourceChanged as exc:
        answer = {"changed": exc.filename}
    except OSError as exc:
        answer = {"failed": [exc.errno, exc.strerror or str(exc),
                             None if exc.filename is None else str(exc.filename)]}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--serve"]:
        print("用法：python durable.py --serve（由 zdxm 启动，不直接运行）", file=sys.stderr)
        sys.exit(2)
    sys.exit(_serve())
