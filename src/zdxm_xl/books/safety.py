"""Writing files so that a crash never leaves one half-written.

A file is written to a temporary file in the same folder, flushed and fsynced, checked by
the caller's ``verify``, and only then moved over the old one with ``os.replace`` (atomic on
the same file system); the folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import glob
import io
import json
import os
import re
import shutil
import socket
import tempfile
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import BaseFileLock, FileLock, Timeout

from ..core.errors import MasterBusyError, MasterError
from ..core.workspace import BACKUP_FOLDER
from .durable import copy_files_durably, copy_mode, fsync_dir

__all__ = ["atomic_write", "copy_files_durably", "save_workbook", "refuse_if_open_elsewhere",
           "owner_lock_files", "backup", "MasterLock", "LOCK_WAIT", "BACKUP_FOLDER", "KEEP_BACKUPS",
           "checkpoint", "os_lock_holders", "locked_by_another_process"]


def owner_lock_files(path: Path) -> list[Path]:
    """The marker files Excel/WPS (``~$name``) and LibreOffice (``.~lock.name#``) leave
    beside a workbook they have open."""
    return [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]


def refuse_if_open_elsewhere(path: Path) -> None:
    """Refuse to write a workbook that Excel, WPS or LibreOffice has open: by the marker
    files they leave beside it, and by an OS lock another process holds on it."""
    for marker in owner_lock_files(path):
        if marker.exists():
            raise MasterBusyError(
                f"“{path.name}”正在 Excel、WPS 或 LibreOffice 中打开，为免覆盖您的修改，"
                "本次没有写入。请保存并关闭该文件后重试。"
            )
    if locked_by_another_process(path):
        holders = os_lock_holders(path, others_only=True)
        who = "、".join(f"{name}，进程 {pid}" if pid > 0 else name for pid, name in holders)
        raise MasterBusyError(
            f"“{path.name}”正被另一个程序{f'（{who}）' if who else ''}打开并锁定，为免覆盖它的修改，"
            "本次没有写入。请在该程序中保存并关闭文件后重试。"
        )


def checkpoint(name: str) -> None:
    """A named point in a write where a crash is simulated when ``ZDXM_CRASH_AT`` names it.

    The crash-consistency tests run real ``zdxm`` processes that die here (``os._exit``, as
    abrupt as a power cut for everything above the file system) and check what is left.
    """
    if os.environ.get("ZDXM_CRASH_AT") == name:
        os._exit(137)


def atomic_write(
    path: Path,
    write: Callable[[Path], object],
    verify: Callable[[Path], None] | None = None,
) -> None:
    """Write ``path`` through ``write(temp_path)``; replace the old file only after the new
    one is complete, on disk and (if given) ``verify``-ed. The old file is untouched on any
    failure."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".~zdxm-{path.stem}-", suffix=path.suffix,
                                     dir=folder)
    os.close(fd)
    temp = Path(temp_name)
    try:
        copy_mode(path, temp)
        write(temp)
        with open(temp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        checkpoint(f"after-temp-write:{path.name}")
        if verify is not None:
            verify(temp)
        checkpoint(f"before-replace:{path.name}")
        try:
            os.replace(temp, path)
        except PermissionError as exc:  # Windows: the file is open in another program
            raise MasterBusyError(f"无法写入“{path.name}”：文件正被其他程序（如 Excel、WPS）"
                                  "打开或没有写权限。请关闭该文件后重试，原文件未改动。") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(folder)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def save_workbook(book: Any, path: Path, stamp: datetime | None = None, *,
                  rewrite: Callable[[str, bytes], bytes] | None = None) -> None:
    """Save an openpyxl workbook atomically. With ``stamp`` (the time the document is of,
    such as a form's issue time) the file's bytes depend on its content only: the document
    properties and every zip entry carry ``stamp`` instead of the clock, so the same form
    written twice has the same sha256. ``rewrite`` (with ``stamp``) may change a zip
    entry's bytes on the way (entry name, bytes → bytes), for what openpyxl cannot write."""
    if stamp is None:
        atomic_write(path, lambda temp: book.save(temp))
        return
    book.properties.created = book.properties.modified = stamp
    book.properties.lastModifiedBy = book.properties.creator = "zdxm"

    def write(temp: Path) -> None:
        raw = io.BytesIO()
        book.save(raw)
        moment = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute,
                  stamp.second)
        with zipfile.ZipFile(raw) as source, \
                zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                entry = zipfile.ZipInfo(info.filename, date_time=moment)
                entry.compress_type = zipfile.ZIP_DEFLATED
                data = source.read(info.filename)
                if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" itself
                    data = _MODIFIED.sub(rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                                         + rb"\g<2>", data)
                if rewrite is not None:
                    data = rewrite(info.filename, data)
                target.writestr(entry, data)

    atomic_write(path, write)


KEEP_BACKUPS = 30


def backup(path: Path, keep: int = KEEP_BACKUPS, now: datetime | None = None) -> Path | None:
    """Copy ``path`` to ``备份/{name}_{YYYYmmdd-HHMMSS}{suffix}`` beside it, keeping the newest
    ``keep`` backups of that file; ``None`` if there is nothing to back up yet."""
    path = Path(path)
    if not path.exists():
        return None
    folder = path.parent / BACKUP_FOLDER
    folder.mkdir(exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}_{stamp}{path.suffix}"
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem}_{stamp}-{counter}{path.suffix}"
    atomic_write(target, lambda temp: shutil.copyfile(path, temp))
    pattern = re.compile(re.escape(path.stem) + r"_\d{8}-\d{6}(-\d+)?" + re.escape(path.suffix) + "$")
    olds = sorted((p for p in folder.iterdir() if pattern.match(p.name)),
                  key=lambda p: p.name)
    for old in olds[:-keep] if keep > 0 else []:
        with contextlib.suppress(OSError):
            old.unlink()
    return target


LOCK_WAIT = 60.0  # seconds a command waits for another one writing the same master


class MasterLock:
    """One writing command at a time per master: an OS lock on a file beside it.

    The lock is the operating system's (``filelock``: ``flock`` on Linux and macOS,
    ``LockFileEx`` on Windows), taken on ``.{master}.zdxm-lock`` for the whole
    read-modify-write of a session. The OS lets go of it when its process ends, however it
    ends, so a lock left by a killed command is free at once for the next one, and a lock
    that is held can never be taken over: nothing guesses from a pid, nothing deletes a lock
    file another command may hold. The file is left in place; what it holds (who took it:
    user, host, process, time) only words the message a waiting command shows, so an empty
    or unreadable lock file is simply free. A second command waits up to ``wait`` seconds,
    then says who holds the master.
    """

    def __init__(self, path: Path, wait: float = LOCK_WAIT) -> None:
        self.path = Path(path)
        self.lock = self.path.with_name(f".{self.path.name}.zdxm-lock")
        self.wait = wait
        self._held: BaseFileLock | None = None

    def _owner_text(self) -> bytes:
        owner = {"user": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid(),
                 "time": datetime.now().isoformat(timespec="seconds")}
        # Windows locks the first byte of the file: the owner starts after it, so a waiting
        # command can still read who holds the lock.
        return b"\n" + json.dumps(owner, ensure_ascii=False).encode("utf-8")

    def _sign(self, fd: int) -> None:
        # Who holds the lock, for a waiting command's message; never decides anything, so a
        # failure to write it must not fail the lock.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, self._owner_text())

    def describe_owner(self) -> str:
        """Who holds the lock, as far as can be told: the holder's own note, else (Linux)
        the process the OS names."""
        try:
            with open(self.lock, "rb") as handle:
                handle.seek(1)
                owner = json.loads(handle.read(4096).decode("utf-8"))
            return (f"{owner['user']}（{owner['host']}，进程 {owner['pid']}，"
                    f"{owner['time']} 开始）")
        except (OSError, ValueError, KeyError, TypeError):
            pass
        holders = os_lock_holders(self.lock)
        if holders:
            return "、".join(f"进程 {pid}（{name}）" for pid, name in holders)
        return "另一个 zdxm 命令"

    def _file_lock(self) -> BaseFileLock:
        # No soft fallback: on a file system without OS locks we say so rather than guess.
        return FileLock(self.lock, timeout=self.wait, fallback_to_soft=False,
                        on_acquired=self._sign)

    def __enter__(self) -> MasterLock:
        lock = self._file_lock()
        try:
            try:
                lock.acquire()
            except PermissionError:
                # A lock file this user cannot open (another account's): free unless the OS
                # says someone holds it; then it is replaced, once.
                if not _replace_unused(self.lock):
                    raise
                lock = self._file_lock()
                lock.acquire()
        except Timeout:
            raise MasterBusyError(
                f"台账“{self.path.name}”正被 {self.describe_owner()} 使用，"
                f"等了 {self.wait:g} 秒仍未结束。请等它完成后再试。") from None
        except OSError as exc:
            raise MasterError(
                f"无法为台账“{self.path.name}”加锁（锁文件“{self.lock.name}”：{exc.strerror or exc}）。"
                "请检查台账所在文件夹的权限；网络共享文件夹须支持文件锁。") from exc
        self._held = lock
        self._sweep()
        return self

    def _sweep(self) -> None:
        # Holding the lock, no one else is writing this master: a temp file of it left by a
        # writer that died (power cut, kill -9) is stale. Only this master's own temp names
        # (mkstemp's eight characters) are matched, not those of a master named "台账-2023".
        stale = re.compile(rf"{re.escape(f'.~zdxm-{self.path.stem}-')}[a-z0-9_]{{8}}"
                           rf"{re.escape(self.path.suffix)}")
        prefix = f".~zdxm-{self.path.stem}-"
        for temp in self.path.parent.glob(f"{glob.escape(prefix)}*{self.path.suffix}"):
            if stale.fullmatch(temp.name):
                with contextlib.suppress(OSError):
                    temp.unlink()

    def __exit__(self, *exc: object) -> None:
        if self._held is not None:
            self._held.release()
            self._held = None


def _replace_unused(lock: Path) -> bool:
    """Remove a lock file no process holds (Linux, where the OS tells); ``False`` when that
    cannot be told or it is held."""
    if not _PROC_LOCKS.exists() or os_lock_holders(lock, others_only=False):
        return False
    try:
        lock.unlink()
    except OSError:
        return False
    return True


# ---- other programs holding a file through OS locks (Linux) --------------------------------

_PROC_LOCKS = Path("/proc/locks")


def os_lock_holders(path: Path, others_only: bool = False) -> list[tuple[int, str]]:
    """Processes holding an OS lock (flock, POSIX, OFD, lease) on ``path``: (pid, program).

    Linux only, from ``/proc/locks``; empty elsewhere, or when the file does not exist.
    Only locks taken on this machine are listed (see docs/台账安全.md)."""
    try:
        info = os.stat(path)
        text = _PROC_LOCKS.read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    holders: list[tuple[int, str]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->":  # "->": a waiter, not a holder
            continue
        if fields[5] != wanted:
            continue
        pid = int(fields[4]) if fields[4].lstrip("-").isdigit() else -1
        if others_only and pid == os.getpid():
            continue
        name = ""
        if pid > 0:
            with contextlib.suppress(OSError):
                name = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip()
        if (pid, name) not in holders:
            holders.append((pid, name or "未知程序"))
    return holders


def locked_by_another_process(path: Path) -> bool:
    """Whether another process holds an OS lock on ``path`` that a reader would meet: a
    POSIX record lock (LibreOffice, and most programs on Linux and macOS) or a ``flock``.
    Asked of the OS by trying a shared lock and letting go at once; ``False`` where the OS
    has no such locks (Windows: Excel's own lock stops the replace instead)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        for take, free in ((lambda: fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB),
                            lambda: fcntl.lockf(fd, fcntl.LOCK_UN)),
                           (lambda: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB),
                            lambda: fcntl.flock(fd, fcntl.LOCK_UN))):
            try:
                take()
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    return True
                continue  # this kind of lock is not supported here: nothing to learn
            free()
        return False
    finally:
        os.close(fd)
