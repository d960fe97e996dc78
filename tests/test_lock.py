"""The master's lock: one writer at a time, never stolen, free again when its holder dies.

Many merges started together — as threads of one process and as separate ``zdxm``
processes, after a lock left by a killed merge or released at once by a holder — must each
land: every unit's rows and every 报送记录 entry present. Lock files that are empty, garbled
or name a process that still runs are free when no process holds the OS lock; another
program's OS lock on the master itself is seen (Linux).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import project, run_zdxm
from test_ledger import zdxm_process
from zdxm_xl.books import safety
from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.books.safety import MasterLock, os_lock_holders
from zdxm_xl.core.errors import MasterBusyError, MasterError
from zdxm_xl.core.master import new_master
from zdxm_xl.core.models import Unit
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name

LINUX = sys.platform.startswith("linux")


def units_office(folder: Path, count: int) -> tuple[Path, list[Path]]:
    """A master of ``count`` units, one project each, and each unit's filled March return."""
    master = new_master(2022)
    master.settings.city = "柳州市"
    names = [f"第{n + 1:02d}单位" for n in range(count)]
    master.projects = [project(n + 1, "续建", "基础设施", "8000", "2000", (name,),
                               prior_completed=Decimal("1000")) for n, name in enumerate(names)]
    master.units = [Unit(name=name, informant_name="李明", informant_phone="13800000000")
                    for name in names]
    path = folder / "台账.xlsx"
    create_master(path, 2022, master)
    make_forms(path, "2022-03", folder / "模板", issued=datetime(2022, 3, 25))
    files = [fill_form(folder / "模板" / form_name("2022-03", name),
                       folder / "收件" / f"{name}.xlsx", seed=n).path
             for n, name in enumerate(names)]
    return path, files


def assert_every_batch_landed(master: Path, files: list[Path]) -> None:
    book = load_master(master)
    expected = {f.stem for f in files}
    assert {e.unit for e in book.ledger if e.period == "2022-03"} == expected
    assert len([e for e in book.ledger if e.period == "2022-03"]) == len(files)
    assert sorted(s.file_name for s in book.submissions if s.result == "已合并") == \
        sorted(f.name for f in files)
    assert len(book.submissions) == len(files)


def zdxm(*args: object, crash_at: str | None = None) -> subprocess.Popen[bytes]:
    return zdxm_process(*args, crash_at=crash_at, capture=True)


def finish(processes: list[subprocess.Popen[bytes]]) -> list[tuple[int, str]]:
    done = []
    for process in processes:
        _out, err = process.communicate(timeout=300)
        done.append((process.returncode, err.decode("utf-8", "replace")))
    return done


@contextlib.contextmanager
def holding(code: str) -> Iterator[int]:
    """Another process that takes a lock (``code`` prints "held" once it has it) and keeps
    it until the block ends; its pid."""
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        yield holder.pid
    finally:
        holder.kill()
        holder.communicate()


# ---- races --------------------------------------------------------------------------------

@pytest.mark.slow
def test_merges_released_at_once_as_threads_all_land(tmp_path: Path) -> None:
    master, files = units_office(tmp_path, 8)
    start = threading.Barrier(len(files) + 1)
    errors: list[BaseException] = []

    def merge(path: Path) -> None:
        start.wait()
        try:
            assert merge_files(master, [path], "2022-03").merged
        except BaseException as exc:  # reported below, with the thread's own traceback lost
            errors.append(exc)

    threads = [threading.Thread(target=merge, args=(path,)) for path in files]
    with MasterLock(master):  # all of them wait on the lock, then go when it is released
        for thread in threads:
            thread.start()
        start.wait()
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert_every_batch_landed(master, files)


@pytest.mark.slow
def test_merges_started_together_after_a_killed_one_all_land(tmp_path: Path) -> None:
    """The red team's race: a merge killed while holding the master leaves its lock file;
    the next merges start together. The old lock taken over by one while another took it
    lost a batch; an OS lock cannot be stolen."""
    master, files = units_office(tmp_path, 5)
    killed = zdxm("merge", master, files[0], crash_at="after-archive")
    assert finish([killed]) == [(137, "")]
    lock = master.with_name(f".{master.name}.zdxm-lock")
    assert lock.exists() and str(killed.pid) in lock.read_text(encoding="utf-8")
    results = finish([zdxm("merge", master, path) for path in files])
    assert results == [(0, "")] * len(files)
    assert_every_batch_landed(master, files)


@pytest.mark.slow
def test_merges_waiting_on_a_held_lock_all_land_when_it_is_released(tmp_path: Path) -> None:
    master, files = units_office(tmp_path, 5)
    with MasterLock(master):
        processes = [zdxm("merge", master, path) for path in files]
        time.sleep(3)  # they start up and wait; none may get in while the lock is held
        assert all(p.poll() is None for p in processes)
        assert load_master(master).submissions == []
    assert finish(processes) == [(0, "")] * len(files)
    assert_every_batch_landed(master, files)


# ---- lock files that hold nothing ------------------------------------------------------------

@pytest.mark.parametrize("content", [
    b"",
    b"\xff\xfe\x00garbage",
    b'{"user": "\xe5\xbc\xa0',  # cut off mid-write
    json.dumps({"user": "张三", "host": socket.gethostname(), "pid": os.getpid(),
                "time": "2022-04-03T09:00:00"}, ensure_ascii=False).encode(),  # a live pid
    json.dumps({"user": "李四", "host": "另一台电脑", "pid": 4242,
                "time": "2022-04-03T09:00:00"}, ensure_ascii=False).encode(),
], ids=["empty", "garbage", "half-written", "names-a-live-process", "other-computer"])
def test_a_lock_file_no_process_holds_is_free(tmp_path: Path, content: bytes) -> None:
    master, files = units_office(tmp_path, 1)
    master.with_name(f".{master.name}.zdxm-lock").write_bytes(content)
    started = time.monotonic()
    result = merge_files(master, files, "2022-03", lock_wait=30)
    assert result.merged
    assert time.monotonic() - started < 20  # it did not wait for the lock  (30 s would fail)


def test_a_held_lock_says_who_holds_it(tmp_path: Path) -> None:
    master, files = units_office(tmp_path, 1)
    with holding("import time; from zdxm_xl.books.safety import MasterLock\n"
                 f"with MasterLock({str(master)!r}):\n print('held', flush=True); time.sleep(60)"
                 ) as pid:
        with pytest.raises(MasterBusyError) as caught:
            merge_files(master, files, "2022-03", lock_wait=0.3)
        assert f"进程 {pid}" in caught.value.message
        assert "等了 0.3 秒仍未结束" in caught.value.message
        if LINUX:
            assert os_lock_holders(master.with_name(f".{master.name}.zdxm-lock")) == [
                (pid, "python")]
    assert merge_files(master, files, "2022-03").merged  # the OS let go of it


@pytest.mark.skipif(not LINUX, reason="/proc/locks is Linux's")
def test_an_unopenable_lock_file_is_replaced_only_when_no_process_holds_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master, files = units_office(tmp_path, 1)
    lock = master.with_name(f".{master.name}.zdxm-lock")
    lock.write_text("another account's", encoding="utf-8")
    real = safety.FileLock
    refused: list[str] = []

    class OtherAccounts(real):  # type: ignore[misc, valid-type]
        """As if the lock file belonged to another account: not for us to open."""

        def acquire(self, *args: object, **kwargs: object) -> object:
            if Path(self.lock_file).exists() and Path(self.lock_file).read_text(
                    encoding="utf-8", errors="replace") == "another account's":
                refused.append(self.lock_file)
                raise PermissionError(13, "Permission denied", self.lock_file)
            return super().acquire(*args, **kwargs)

    monkeypatch.setattr(safety, "FileLock", OtherAccounts)
    with holding("import fcntl, time\n"
                 f"f = open({str(lock)!r}, 'rb'); fcntl.flock(f, fcntl.LOCK_EX)\n"
                 "print('held', flush=True); time.sleep(60)"):
        with pytest.raises(MasterError, match="无法为台账"):
            merge_files(master, files, "2022-03", lock_wait=0.3)
        assert lock.exists()  # held: never removed
    assert merge_files(master, files, "2022-03").merged  # no one holds it: replaced
    assert refused and "another account's" not in lock.read_text(encoding="utf-8",
                                                                  errors="replace")


# ---- another program holding the master itself --------------------------------------------

@pytest.mark.skipif(not LINUX, reason="OS record locks as LibreOffice takes them on Linux")
def test_a_master_another_program_has_locked_is_not_written(tmp_path: Path) -> None:
    master, files = units_office(tmp_path, 1)
    before = master.read_bytes()
    with holding("import fcntl, time\n"
                 f"f = open({str(master)!r}, 'r+b'); fcntl.lockf(f, fcntl.LOCK_EX)\n"
                 "print('held', flush=True); time.sleep(60)") as pid:
        result = run_zdxm("merge", master, files[0])
        assert result.code == 2
        assert f"正被另一个程序（python，进程 {pid}）打开并锁定" in result.stderr
        assert master.read_bytes() == before
    assert run_zdxm("merge", master, files[0]).code == 0
