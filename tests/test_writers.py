"""Many documents at once: writer processes beside this one write some of a month's
templates, annotated copies and 督办通知单 — the same documents as one after another, and a document a
writer could not write is written here, its failure raised as it is."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest

from checking_office import UNIT, build_master
from zdxm_xl.checks import readers
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.notices import make_notices
from zdxm_xl.reports import writers
from zdxm_xl.reports.forms import form_name
from zdxm_xl.reports.writers import PARALLEL_FROM, write_each, writer_count
from zdxm_xl.validate import validate_files

HERE = os.getpid()


@pytest.fixture(autouse=True)
def no_kept_writers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts its own writers (a kept one has another test's environment)."""
    monkeypatch.setitem(readers._POOLS, writers.Writers, writers.Writers())
    yield
    writers.pool().close()


@pytest.fixture
def importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer imports the functions below by name, from this folder."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(Path(__file__).parent), *filter(None, [os.environ.get("PYTHONPATH")])]))


@pytest.fixture
def writers_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process writes no document itself while writers are at work — and every
    document of a batch with writers is found, at the end, to be one a writer wrote."""
    batches: list[writers._Batch] = []
    made = writers._Batch.__init__

    def recorded(batch: writers._Batch, size: int) -> None:
        made(batch, size)
        batches.append(batch)

    def wait_for_the_writers(batch: writers._Batch) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with batch.lock:
                if batch.front >= batch.back:
                    return None
            time.sleep(0.01)
        return None

    monkeypatch.setattr(writers._Batch, "__init__", recorded)
    monkeypatch.setattr(writers._Batch, "take_last", wait_for_the_writers)
    yield
    assert batches and all(batch.written == set(range(len(batch.results))) for batch in batches)


def _this_process_waits(monkeypatch: pytest.MonkeyPatch, taken: int) -> None:
    """This process takes its first document only once the writers have taken ``taken``."""
    taking = writers._Batch.take_last

    def after_the_writers_took_some(batch: writers._Batch) -> int | None:
        deadline = time.monotonic() + 60
        while batch.front < taken and time.monotonic() < deadline:
            time.sleep(0.01)
        return taking(batch)

    monkeypatch.setattr(writers._Batch, "take_last", after_the_writers_took_some)


@pytest.fixture
def a_writer_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of quick documents is not all written here before a writer has started."""
    _this_process_waits(monkeypatch, 1)


@pytest.fixture
def a_writer_with_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer has two documents in hand (it is sent the second while on the first)."""
    _this_process_waits(monkeypatch, 2)


def slow_pid(shared: str, job: int) -> tuple[str, int, int]:
    """Who wrote job ``job``: slow enough for a writer to start and take some."""
    time.sleep(0.05)
    return shared, job, os.getpid()


def fails_in_a_writer(shared: str, job: int) -> int:
    if os.getpid() != int(shared):
        raise RuntimeError("only in a writer")
    return job


def first_fails(shared: str, job: int) -> int:
    if job == 0:  # a writer's first document, wherever it is written
        raise ValueError(f"文档 {job} 写不出")
    return job


def dies_in_a_writer(shared: str, job: int) -> int:
    if os.getpid() != int(shared):
        os._exit(3)  # as if the writer were killed
    return job * 2


def test_writers_take_documents_from_the_front_and_this_process_from_the_back(
        importable) -> None:
    written = write_each(slow_pid, "共用", list(range(60)), writers=1)
    assert [(shared, job) for shared, job, _pid in written] == [("共用", n) for n in range(60)]
    by = [pid for _shared, _job, pid in written]
    assert by[-1] == HERE and by[0] != HERE  # this process from the end, the writer from the start
    writer = by[0]
    assert set(by) == {HERE, writer}
    # each took a run: the writer's documents all come before this process's
    assert by == [writer] * by.count(writer) + [HERE] * by.count(HERE)


def test_of_two_documents_a_writer_leaves_one_for_this_process(importable, monkeypatch) -> None:
    """A writer takes a document ahead, while writing one, only if that leaves one for
    whoever is free next: of two (the 简报 and the 通报), it writes one, this process the
    other — however late this process comes to take its own."""
    taking = writers._Batch.take_last

    def once_the_writer_has_begun(batch: writers._Batch) -> int | None:
        deadline = time.monotonic() + 60
        while batch.front < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # time enough for the writer to take the other too, if it would
        return taking(batch)

    monkeypatch.setattr(writers._Batch, "take_last", once_the_writer_has_begun)
    written = write_each(slow_pid, "共用", [0, 1], writers=1)
    assert [(job, pid == HERE) for _shared, job, pid in written] == [(0, False), (1, True)]


def test_a_document_a_writer_fails_on_is_written_here(importable, a_writer_first) -> None:
    assert write_each(fails_in_a_writer, str(HERE), list(range(40)), writers=1) == list(range(40))


def test_a_document_that_cannot_be_written_raises_its_own_error_here(importable, a_writer_first) -> None:
    with pytest.raises(ValueError, match="文档 0 写不出"):
        write_each(first_fails, "", list(range(40)), writers=1)


def test_the_documents_of_a_writer_that_died_are_written_here(importable, a_writer_first) -> None:
    assert write_each(dies_in_a_writer, str(HERE), list(range(40)), writers=2) == \
        [n * 2 for n in range(40)]


def test_writers_only_for_many_documents_and_as_the_environment_says(monkeypatch) -> None:
    monkeypatch.delenv("ZDXM_WRITERS", raising=False)
    assert writer_count(PARALLEL_FROM - 1) == 0
    assert writer_count(PARALLEL_FROM) == min((os.cpu_count() or 1) - 1, 4)
    monkeypatch.setenv("ZDXM_WRITERS", "0")
    assert writer_count(1000) == 0
    monkeypatch.setenv("ZDXM_WRITERS", "3")
    assert writer_count(5) == 3


def test_templates_written_by_writers_are_the_same_bytes(master_path: Path, tmp_path: Path,
                                                         monkeypatch, writers_only) -> None:
    made = {}
    for count in ("0", "2"):
        monkeypatch.setenv("ZDXM_WRITERS", count)
        result = make_forms(master_path, "2022-03", tmp_path / count,
                            issued=datetime(2022, 3, 25, 9, 0))
        made[count] = {path.name: path.read_bytes() for path in result.files}
    assert len(made["0"]) == 4
    assert made["2"] == made["0"]


def _annotated(path: Path) -> list[tuple[str, list[tuple[object, ...]], list[str]]]:
    """Each sheet of an annotated copy: its values and the cells marked (filled)."""
    book = openpyxl.load_workbook(path)
    return [(ws.title, [tuple(row) for row in ws.iter_rows(values_only=True)],
             sorted(cell.coordinate for row in ws.iter_rows() for cell in row
                    if cell.fill is not None and cell.fill.fgColor.rgb in ("FFFFC7CE", "FFFFEB9C")
                    or cell.comment is not None)) for ws in book.worksheets]


def test_annotated_copies_written_by_writers_are_those_written_here(tmp_path: Path, monkeypatch,
                                                                    writers_only) -> None:
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    template = tmp_path / "模板" / form_name("2022-03", UNIT)
    files = [fill_form(template, tmp_path / "收件" / f"{n:02d}.xlsx", seed=n,
                       mistakes=(("text_amount",), ("year_mismatch",), ())[n % 3]).path
             for n in range(6)]
    found = {}
    for count in ("0", "2"):
        monkeypatch.setenv("ZDXM_WRITERS", count)
        run = validate_files(master, files, "2022-03", tmp_path / count, today=date(2022, 4, 4))
        assert [copy.parent for copy, _receipt in run.annotated] == [tmp_path / count] * 6
        found[count] = [(_annotated(copy), receipt.read_text(encoding="utf-8"))
                          for copy, receipt in run.annotated]
    assert found["2"] == found["0"]
    assert any(marked for sheets, _ in found["0"] for _title, _values, marked in sheets)


def _document(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    document = docx.Document(str(path))
    return ([p.text for p in document.paragraphs],
            [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables])


def test_notices_written_by_writers_say_what_those_written_here_say(tmp_path: Path, monkeypatch,
                                                                     writers_only) -> None:
    from test_problems import _supervised_master

    found = {}
    for count in ("0", "2"):
        monkeypatch.setenv("ZDXM_WRITERS", count)
        result = make_notices(MemoryStore(_supervised_master(), tmp_path), "2022-03",
                              tmp_path / count, issued=date(2022, 4, 8),
                              now=datetime(2022, 4, 8, 11))
        found[count] = [(notice.file.name, _document(notice.file)) for notice in result.notices]
    assert len(found["0"]) == 3
    assert found["2"] == found["0"]


def hangs_in_a_writer(shared: str, job: int) -> int:
    if os.getpid() != int(shared):
        time.sleep(600)  # as if stuck
        return -job  # had it not been stopped
    return job + 1


def hangs_on_a_large_job(shared: str, job: tuple[int, str]) -> int:
    return hangs_in_a_writer(shared, job[0])


def test_the_documents_of_a_writer_that_does_not_answer_are_written_here(importable, monkeypatch,
                                                                         a_writer_with_two) -> None:
    monkeypatch.setattr(writers, "ANSWER_SECONDS", 3.0)
    assert write_each(hangs_in_a_writer, str(HERE), list(range(40)), writers=1) == \
        [n + 1 for n in range(40)]
    # a writer stuck with a job in hand takes no more: sending it the next (larger than a
    # pipe holds) is given no longer than an answer
    large = [(n, "文" * 300_000) for n in range(40)]
    assert write_each(hangs_on_a_large_job, str(HERE), large, writers=1) == \
        [n + 1 for n in range(40)]
    assert writers.pool().kept == 0  # a writer stopped is not kept


def test_without_writers_that_can_start_every_document_is_written_here(importable,
                                                                       monkeypatch) -> None:
    failed: list[object] = []  # a writer's thread that failed (it would print a traceback)
    monkeypatch.setattr(threading, "excepthook", failed.append)
    monkeypatch.setattr(sys, "executable", str(Path(sys.executable).with_name("没有这个程序")))
    written = write_each(slow_pid, "共用", list(range(20)), writers=2)
    assert [(job, pid) for _shared, job, pid in written] == [(n, HERE) for n in range(20)]
    assert failed == []


def shared_call(shared: Callable[[int], int], job: int) -> int:
    return shared(job)


def test_what_cannot_travel_to_a_writer_is_written_here(importable, monkeypatch,
                                                        a_writer_first) -> None:
    failed: list[object] = []  # a writer's thread that failed (it would print a traceback)
    monkeypatch.setattr(threading, "excepthook", failed.append)
    # a function made on the spot cannot be pickled: the documents are written here
    assert write_each(shared_call, lambda job: job * 3, list(range(20)), writers=2) == \
        [n * 3 for n in range(20)]
    # nor can a job: its writer stops, without a word to the user
    jobs = [lambda n=n: n for n in range(20)]
    assert write_each(call_job, "", jobs, writers=1) == list(range(20))
    assert failed == []


def call_job(shared: str, job: Callable[[], int]) -> int:
    return job()


def _writer_of(written: list[tuple[str, int, int]]) -> int:
    pids = {pid for _shared, _job, pid in written} - {HERE}
    assert len(pids) == 1
    return pids.pop()


def test_a_writer_is_kept_for_the_next_batch(importable) -> None:
    first = _writer_of(write_each(slow_pid, "一", list(range(40)), writers=1))
    assert writers.pool().kept == 1
    again = write_each(slow_pid, "二", list(range(40)), writers=1)
    assert _writer_of(again) == first and writers.pool().started == 1
    assert {shared for shared, _job, _pid in again} == {"二"}  # each batch its own shared data


def test_a_writer_that_died_is_not_kept(importable, a_writer_first) -> None:
    write_each(dies_in_a_writer, str(HERE), list(range(40)), writers=1)
    assert writers.pool().kept == 0
    write_each(slow_pid, "", list(range(40)), writers=1)
    assert writers.pool().started == 2


def test_a_writer_without_work_is_let_go(importable, monkeypatch) -> None:
    monkeypatch.setitem(readers._POOLS, writers.Writers, writers.Writers(idle=0.2))
    monkeypatch.setattr(writers.Writers, "watch_every", 0.05)
    writer = _writer_of(write_each(slow_pid, "", list(range(40)), writers=1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(writer, 0)
        except ProcessLookupError:  # ended, and waited for
            break
        time.sleep(0.05)
    assert writers.pool().kept == 0
    with pytest.raises(ProcessLookupError):
        os.kill(writer, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_does_not_use_its_parents_writers(importable) -> None:
    write_each(slow_pid, "", list(range(40)), writers=1)
    assert writers.pool().kept == 1
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its own pool, empty
        os.write(writing, str(writers.pool().kept).encode())
        os._exit(0)
    os.close(writing)
    assert os.read(reading, 10) == b"0"
    os.waitpid(child, 0)
    os.close(reading)
    assert writers.pool().kept == 1


def _a_writer_kept() -> None:
    kept = writers.pool()
    writer = kept.take()
    assert writer is not None
    kept.give_back(writer, True)


def test_a_kept_writer_writes_the_bulletin_as_this_process_does(master_path: Path, tmp_path: Path,
                                                                writers_only) -> None:
    from zdxm_xl.bulletin import make_bulletin

    here = make_bulletin(master_path, "2022-03", tmp_path / "本进程", issued=date(2022, 4, 8))
    _a_writer_kept()
    there = make_bulletin(master_path, "2022-03", tmp_path / "写出进程", issued=date(2022, 4, 8))
    assert there.docx.name == here.docx.name
    assert _document(there.docx) == _document(here.docx)
    assert [[tuple(r) for r in ws.iter_rows(values_only=True)]
            for ws in openpyxl.load_workbook(there.xlsx).worksheets] == \
        [[tuple(r) for r in ws.iter_rows(values_only=True)]
         for ws in openpyxl.load_workbook(here.xlsx).worksheets]


def test_a_bulletin_a_kept_writer_cannot_write_fails_here_as_it_would(master_path: Path,
                                                                      tmp_path: Path,
                                                                      a_writer_first) -> None:
    from docx import Document

    from zdxm_xl.bulletin import make_bulletin
    from zdxm_xl.core.errors import UsageError

    template = tmp_path / "我的简报.docx"
    document = Document()
    document.add_paragraph("完成率{{ total.完成率 }}")
    document.save(str(template))
    _a_writer_kept()
    with pytest.raises(UsageError, match="不存在的字段"):
        make_bulletin(master_path, "2022-03", tmp_path, word_template=template)
    assert writers.pool().kept == 1  # it said it could not, and is kept
