"""Many returns at once: readers beside this process vet and read them, long-lived, one per
core beyond the first — the same reports as one file after another, and a reader that dies
costs only the file it was reading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from checking_office import UNIT, build_master
from zdxm_xl.books.masterio import load_master
from zdxm_xl.checks.batch import examine_all, forget_examined, remembered, settle
from zdxm_xl.checks.limits import RETURN
from zdxm_xl.checks.readers import PARALLEL_FROM, START_FROM, reader_count, shared
from zdxm_xl.core.results import to_json
from zdxm_xl.demo.fill import MISTAKES, fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name
from zdxm_xl.validate import validate_files


def _settled() -> None:
    """Every examination's reader thread ended (one whose batch was done before its reader
    was ready gets it ready, and keeps it, after the batch) and every kept reader gone."""
    settle()
    shared().close()


@pytest.fixture
def fresh_readers() -> Iterator[None]:
    """Readers started by this test (they take the environment it sets), gone after it."""
    _settled()
    yield
    _settled()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A master and 30 returns of one unit: plausible ones, ones with each usual mistake,
    and files that are not returns at all."""
    folder = tmp_path_factory.mktemp("readers")
    master = build_master(folder / "台账.xlsx")
    make_forms(master, "2022-03", folder / "模板", issued=datetime(2022, 3, 25))
    template = folder / "模板" / form_name("2022-03", UNIT)
    files: list[Path] = []
    mistakes = [m for m in MISTAKES if m != "other_unit"]
    for number in range(24):
        chosen = (mistakes[number % len(mistakes)],) if number % 3 else ()
        files.append(fill_form(template, folder / "收件" / f"{number:02d}.xlsx", seed=number,
                               mistakes=chosen).path)
    (folder / "收件" / "文本.xlsx").write_text("不是工作簿", encoding="utf-8")
    files.append(folder / "收件" / "文本.xlsx")
    files.append(Path(shutil.copy(files[0], folder / "收件" / "同一份.xlsm")))
    formula = folder / "收件" / "公式.xlsx"
    book = openpyxl.load_workbook(files[1])
    book["实施项目月报"]["AZ60"] = "=1+1"
    book.save(formula)
    files.append(formula)
    for number in range(3):
        files.append(fill_form(template, folder / "收件" / f"再报{number}.xlsx",
                               seed=100 + number).path)
    return master, files


def test_readers_give_the_same_reports_as_one_file_after_another(inbox, monkeypatch,
                                                                 fresh_readers) -> None:
    master, files = inbox
    monkeypatch.setenv("ZDXM_READERS", "0")
    alone = to_json(validate_files(master, files, "2022-03"))
    monkeypatch.setenv("ZDXM_READERS", "2")
    forget_examined()  # vetted and read again, by readers
    started = shared().started
    together = to_json(validate_files(master, files, "2022-03"))
    assert together == alone
    codes = {f["code"] for report in alone["files"] for f in report["findings"]}
    assert {"F03", "F13", "V01", "R01"} <= codes  # findings of every kind
    assert shared().started - started <= 3  # no process per file: two readers (and a spare)


def test_a_merge_with_readers_merges_as_one_without(inbox, tmp_path: Path, monkeypatch,
                                                    fresh_readers) -> None:
    master, files = inbox
    results = []
    for readers in ("0", "2"):
        copy = tmp_path / readers / "台账.xlsx"
        copy.parent.mkdir()
        shutil.copy(master, copy)
        monkeypatch.setenv("ZDXM_READERS", readers)
        forget_examined()
        result = merge_files(copy, files, "2022-03", received=datetime(2022, 4, 3),
                             now=datetime(2022, 4, 4))
        book = load_master(copy)
        results.append((json.dumps(to_json(result), ensure_ascii=False).replace(
                            str(tmp_path / readers), ""),
                        [e.model_dump() for e in book.ledger],
                        [(s.file_name, s.result, s.errors) for s in book.submissions]))
    assert results[0] == results[1]


def test_a_reader_that_dies_costs_only_its_file(inbox, monkeypatch, fresh_readers) -> None:
    """A reader's whole share of a batch, one file of which kills it: that file is refused
    (F16), the files it had queued go to a fresh reader, and every other report is as ever."""
    from zdxm_xl.checks import batch
    from zdxm_xl.checks.limits import RETURN
    from zdxm_xl.checks.vetting import examine

    _master, files = inbox
    monkeypatch.setenv("ZDXM_CRASH_AT", f"reader:{files[5].name}")
    pending = batch._Pending(files)
    started = shared().started
    batch._work(pending, shared(), RETURN)  # a reader takes every file, in turn
    assert sorted(pending.done) == list(range(len(files)))
    for position, path in enumerate(files):
        found = pending.done[position]
        assert not isinstance(found, BaseException)
        if position == 5:
            (problem,) = found.vetted.findings
            assert problem.code == "F16" and "读取进程异常退出" in problem.message
            assert found.values == {} and found.sha256
        else:
            here = examine(path)
            assert (found.sha256, found.vetted.kind, found.vetted.findings, found.values) == (
                here.sha256, here.vetted.kind, here.vetted.findings, here.values)
    # the one that died and the one after it (and at most a spare): not a process per file
    assert 2 <= shared().started - started <= 3


def _same_as_one_by_one(found: list[Any], files: list[Path]) -> None:
    from zdxm_xl.checks.vetting import examine

    assert len(found) == len(files)
    for one, path in zip(found, files, strict=True):
        here = examine(path)
        assert (one.sha256, one.vetted.kind, one.vetted.findings, one.values) == (
            here.sha256, here.vetted.kind, here.vetted.findings, here.values)


def test_files_are_handed_only_to_a_reader_that_can_vet(inbox, monkeypatch,
                                                       fresh_readers) -> None:
    """A reader that dies while it gets ready to vet (imports the vetting code) is given no
    file: this process vets and reads every one."""
    _master, files = inbox
    monkeypatch.setenv("ZDXM_READERS", "1")
    monkeypatch.setenv("ZDXM_CRASH_AT", "reader:ready")
    started = shared().started
    _same_as_one_by_one(list(examine_all(files[:6])), files[:6])
    assert shared().started - started >= 1 and shared().kept == 0  # it was let go


def test_a_batch_done_before_its_reader_is_ready_does_not_wait_for_it(
        inbox, monkeypatch, fresh_readers) -> None:
    """No reader can start while the pool is held: this process does every file, the batch
    ends without the reader, and the reader, started after, is kept ready for the next."""
    _master, files = inbox
    monkeypatch.setenv("ZDXM_READERS", "1")
    pool = shared()
    with pool._lock:  # the batch's reader waits here: not started, not ready
        found = list(examine_all(files[:4]))
        waiting = [t for t in threading.enumerate() if t.name.startswith("zdxm-examine")]
        assert waiting and all(t.is_alive() for t in waiting)  # closed without it
    _same_as_one_by_one(found, files[:4])
    for thread in waiting:  # it gets its reader ready, finds nothing left, and keeps it
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert pool.kept == 1
    started = pool.started
    _same_as_one_by_one(list(examine_all(files[4:10])), files[4:10])
    assert pool.kept == 1 and pool.started == started  # that reader served the next batch


def test_a_reader_is_started_for_a_large_batch_and_a_kept_one_serves_a_smaller(
        inbox, monkeypatch, fresh_readers) -> None:
    """A few dozen files are not worth starting a reader for — this process is done before
    it would be ready — but are worth handing to one kept ready from an earlier batch."""
    _master, files = inbox
    monkeypatch.delenv("ZDXM_READERS", raising=False)
    most = min((os.cpu_count() or 1) - 1, 4)
    assert reader_count(PARALLEL_FROM - 1) == 0
    assert reader_count(START_FROM - 1) == 0  # none kept: none started
    assert reader_count(START_FROM) == most
    if not most:
        return  # one core: no reader, ever
    monkeypatch.setenv("ZDXM_READERS", "1")  # a batch leaves its reader kept and ready
    list(examine_all(files[:4]))
    settle()
    monkeypatch.delenv("ZDXM_READERS")
    assert shared().kept == 1
    assert reader_count(PARALLEL_FROM - 1) == 0 and reader_count(START_FROM - 1) == 1


_AFTER_A_LARGE_JOB = """
import sys
from pathlib import Path
from zdxm_xl.checks.readers import PARALLEL_FROM, START_FROM, reader_count, shared
from zdxm_xl.checks.vetting import check_request

held = bytearray(b"x") * (700 * 2**20)  # a large merge's worth, given back before readers start
del held
pool = shared()
answers = [pool.ask(*check_request(Path(name))).status for name in sys.argv[1:]]
print(answers, pool.started)
"""


def test_a_reader_started_by_a_process_that_once_held_much_memory_keeps_serving(inbox) -> None:
    """Linux counts into a new process's peak memory the peak of the one that started it.
    A zdxm that once held more than a reader may (a large merge, the add-in after a long
    day) still gets readers that each serve many files, not one process per file."""
    _master, files = inbox
    done = subprocess.run([sys.executable, "-c", _AFTER_A_LARGE_JOB, *map(str, files[:4])],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['ok',", "'ok',", "'ok',", "'ok']", "1"]


_LOADED_AS_IT_VETS = """
import sys
from zdxm_xl.checks._readerprocess import _answer
from zdxm_xl.checks.limits import RETURN

print(_answer("ready", ())[0], "pydantic" in sys.modules)
for name in sys.argv[1:]:
    status, answer = _answer("check", (name, RETURN, 60))
    print(status, len(answer[2]), "pydantic" in sys.modules)
"""


def test_a_reader_vets_clean_files_without_loading_pydantic(inbox) -> None:
    """A new reader is ready in some 0.1 s, under half of what it took while the vetting
    code brought pydantic in (the files wait for it meanwhile): the rule catalogue is the
    standard library's, and the finding type is loaded with the first finding — here the
    formula saved without its value (F13)."""
    _master, files = inbox
    clean, formula = files[0], files[26]
    assert formula.name == "公式.xlsx"
    done = subprocess.run([sys.executable, "-c", _LOADED_AS_IT_VETS, str(clean), str(clean),
                           str(formula)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["ok False", "ok 0 False", "ok 0 False", "ok 1 True"]


_HOLDING_THEN_NOT = """
from zdxm_xl.checks._readerprocess import _spent

before = _spent()
held = bytearray(b"x") * (700 * 2**20)  # a large file's worth, still held
holding = _spent()
del held
print(before, holding, _spent())
"""


def test_a_reader_is_spent_while_it_holds_much_memory_and_not_after() -> None:
    """A reader hands its next file to a fresh one while it holds more than it may (memory a
    large file took is not always given back); what it held once no longer counts."""
    done = subprocess.run([sys.executable, "-c", _HOLDING_THEN_NOT], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "False"]


def _vetting_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files vetted from now on (in this process: no readers)."""
    from zdxm_xl.checks import vetting

    monkeypatch.setenv("ZDXM_READERS", "0")
    vetted: list[str] = []
    real = vetting.vet_workbook

    def counting(path: Path, *args: Any, **kwargs: Any) -> Any:
        vetted.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(vetting, "vet_workbook", counting)
    return vetted


def test_a_merge_after_a_validation_takes_its_examinations(inbox, tmp_path: Path,
                                                           monkeypatch) -> None:
    """The add-in's 合并 after its 校验: the files that passed vetting are not vetted and
    read again, and the merge is the one it would be without."""
    master, files = inbox
    merged = []
    for remembering in (True, False):
        copy = tmp_path / str(remembering) / "台账.xlsx"
        copy.parent.mkdir()
        shutil.copy(master, copy)
        validate_files(copy, files, "2022-03")
        if not remembering:
            forget_examined()
        with monkeypatch.context() as patched:
            vetted = _vetting_counted(patched)
            result = merge_files(copy, files, "2022-03", received=datetime(2022, 4, 3),
                                 now=datetime(2022, 4, 4))
        merged.append((vetted, json.dumps(to_json(result), ensure_ascii=False).replace(
            str(copy.parent), ""), [e.model_dump() for e in load_master(copy).ledger]))
    (again, remembered_run, remembered_ledger), (every, fresh_run, fresh_ledger) = merged
    assert sorted(every) == sorted(p.name for p in files)
    assert again == ["文本.xlsx"]  # vetted again: only what vetting refused (not a workbook)
    assert remembered_run == fresh_run and remembered_ledger == fresh_ledger


def test_a_file_changed_since_it_was_examined_is_examined_again(inbox, tmp_path: Path,
                                                                monkeypatch) -> None:
    _master, files = inbox
    path = Path(shutil.copy(files[0], tmp_path / "改过.xlsx"))
    assert remembered(path) is None
    list(examine_all([path]))
    assert remembered(path) is not None
    # the same size, the same file, the same time: only the content hash tells
    before = path.stat()
    content = bytearray(path.read_bytes())
    content[-30] ^= 0xFF
    path.write_bytes(bytes(content))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert remembered(path) is None
    with monkeypatch.context() as patched:
        vetted = _vetting_counted(patched)
        list(examine_all([path]))
    assert vetted == ["改过.xlsx"]
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # touched
    assert remembered(path) is None


def test_a_file_that_took_its_reader_with_it_is_not_remembered(inbox) -> None:
    """Whether a reader survives a file is no property of its bytes: it is tried again."""
    from zdxm_xl.checks import batch
    from zdxm_xl.checks.readers import Outcome
    from zdxm_xl.checks.vetting import examined_from

    _master, files = inbox
    died = examined_from(files[4], Outcome("died", "exit -6"))
    assert died is not None and died.vetted.findings[0].code == "F16"
    batch._remember(files[4], batch._state(files[4]), RETURN, died)
    assert remembered(files[4]) is None
    list(examine_all([files[4]]))
    assert remembered(files[4]) is not None
