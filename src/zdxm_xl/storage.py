"""Writing files so that a crash never leaves one half-written.

A file is written to a temporary file in the same folder, flushed and fsynced, checked by
the caller's ``verify``, and only then moved over the old one with ``os.replace`` (atomic on
the same file system); the folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import MasterBusyError

__all__ = ["atomic_write", "refuse_if_open_elsewhere", "owner_lock_files"]


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


def _fsync_dir(folder: Path) -> None:
    # Not every platform can open a directory (Windows cannot); there the rename is durable
    # enough once the file itself is synced.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(
    path: Path,
    write: Callable[[Path], None],
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
        write(temp)
        with open(temp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            verify(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(folder)
