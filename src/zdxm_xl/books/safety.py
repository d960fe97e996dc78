"""Writing files so that a crash never leaves one half-written.

A file is written to a temporary file in the same folder, flushed and fsynced, checked by
the caller's ``verify``, and only then moved over the old one with ``os.replace`` (atomic on
the same file system); the folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import io
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.errors import MasterBusyError
from ..core.workspace import BACKUP_FOLDER

__all__ = ["atomic_write", "save_workbook", "refuse_if_open_elsewhere", "owner_lock_files",
           "backup", "MasterLock", "BACKUP_FOLDER", "KEEP_BACKUPS", "checkpoint"]


def owner_lock_files(path: Path) -> list[Path]:
    """The marker files Excel/WPS (``~$name``) and LibreOffice (``.~lock.name#``) leave
    beside a workbook they have open."""
    return [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]


def refuse_if_open_elsewhere(path: Path) -> None:
    """Refuse to write a workbook that Excel, WPS or LibreOffice has open."""
    for marker in owner_lock_files(path):
        if marker.exists():
            raise MasterBusyError(
                f"“{path.name}”正在 Excel、WPS 或 LibreOffice 中打开，为免覆盖您的修改，"
                "本次没有写入。请保存并关闭该文件后重试。"
            )


def checkpoint(name: str) -> None:
    """A named point in a write where a crash is simulated when ``ZDXM_CRASH_AT`` names it.

    The crash-consistency tests run real ``zdxm`` processes that die here (``os._exit``, as
    abrupt as a power cut for everything above the file system) and check what is left.
    """
    if os.environ.get("ZDXM_CRASH_AT") == name:
        os._exit(137)


def _fsync_dir(folder: Path) -> None:
    # Not every platform can open a directory (Windows cannot); there the rename is durable
    # enough once the file itself is synced.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_mode(path: Path, temp: Path) -> None:
    # mkstemp makes the file private (0600); keep the old file's mode, or the usual one.
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(temp, mode)


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
        _copy_mode(path, temp)
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
    _fsync_dir(folder)


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


class MasterLock:
    """One writing command at a time per master: a lock file beside it.

    The lock file holds who took it (user, host, process, time); a second command waits up
    to ``wait`` seconds, then says who holds it. A lock left by a process that no longer
    runs on this machine is taken over.
    """

    def __init__(self, path: Path, wait: float = 10.0) -> None:
        self.path = Path(path)
        self.lock = self.path.with_name(f".{self.path.name}.zdxm-lock")
        self.wait = wait
        self._held = False

    def _owner_text(self) -> str:
        return json.dumps({"user": getpass.getuser(), "host": socket.gethostname(),
                           "pid": os.getpid(), "time": datetime.now().isoformat(timespec="seconds")},
                          ensure_ascii=False)

    def _stale(self) -> bool:
        try:
            owner = json.loads(self.lock.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if owner.get("host") != socket.gethostname():
            return False
        try:
            os.kill(int(owner.get("pid", 0)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError, OSError):
            return False
        return False

    def describe_owner(self) -> str:
        try:
            owner = json.loads(self.lock.read_text(encoding="utf-8"))
            return (f"{owner.get('user')}（{owner.get('host')}，进程 {owner.get('pid')}，"
                    f"{owner.get('time')} 开始）")
        except (OSError, ValueError):
            return "另一个 zdxm 命令"

    def __enter__(self) -> MasterLock:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    with contextlib.suppress(OSError):
                        self.lock.unlink()
                    continue
                if time.monotonic() >= deadline:
                    raise MasterBusyError(
                        f"台账“{self.path.name}”正被 {self.describe_owner()} 使用，请等它完成后再试。"
                        f"如确认没有程序在运行，可删除锁文件“{self.lock.name}”。") from None
                time.sleep(0.2)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self._owner_text())
            self._held = True
            self._sweep()
            return self

    def _sweep(self) -> None:
        # Holding the lock, no one else is writing this master: a temp file of it left by a
        # writer that died (power cut, kill -9) is stale.
        prefix = f".~zdxm-{self.path.stem}-"
        for stale in self.path.parent.glob(f"{glob.escape(prefix)}*{self.path.suffix}"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def __exit__(self, *exc: object) -> None:
        if self._held:
            with contextlib.suppress(OSError):
                self.lock.unlink()
            self._held = False
