"""The monthly merge, 报送情况, and never losing data."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from checking_office import SHEET, UNIT, build_master, checking_master, edit
from conftest import run_zdxm
from zdxm_xl.books import durable
from zdxm_xl.books.masterio import FileStore, load_master
from zdxm_xl.books.safety import MasterLock
from zdxm_xl.core.errors import MasterBusyError, MasterError
from zdxm_xl.core.master import Master, MemoryStore
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW
from zdxm_xl.core.results import to_json
from zdxm_xl.core.returns import submission_status
from zdxm_xl.core.workspace import Workspace
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import MergeResult, merge_files, merge_into
from zdxm_xl.reports.forms import form_name


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, Path]:
    """The master workbook, and 市交通运输局's March form made from it: for the command line
    and for what only a workbook shows (its bytes, locks, backups, a crash half-way)."""
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    return master, tmp_path / "模板" / form_name("2022-03", UNIT)


@pytest.fixture
def memory(tmp_path: Path) -> tuple[MemoryStore, Path]:
    """As ``office``, with the master kept in memory: for what the merge does to it."""
    store = MemoryStore(checking_master(), tmp_path)
    make_forms(store, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    return store, tmp_path / "模板" / form_name("2022-03", UNIT)


@pytest.fixture(params=["here", "helper"])
def archiving(request, monkeypatch) -> str:  # noqa: ANN001
    """The archive copies made in this process (as for a few files), or by the helper
    process (as for many)."""
    monkeypatch.setattr(durable, "HELPER_FROM", 10**6 if request.param == "here" else 1)
    return str(request.param)


def rows_for(book: Master, period: str) -> dict[str, object]:
    return {e.project_id: e for e in book.ledger if e.period == period}


def test_a_valid_file_is_archived_merged_and_logged(office, tmp_path: Path) -> None:
    master, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    result = run_zdxm("merge", master, filled, "--period", "2022-03", "--received", "2022-04-03",
                      "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["merged"] == [{"file": str(filled), "unit": UNIT, "period": "2022-03", "rows": 4,
                               "reapplied": False}]
    assert data["rejected"] == data["duplicates"] == data["replaced"] == []
    book = load_master(master)
    march = rows_for(load_master(master), "2022-03")
    assert sorted(march) == ["ZD2022-0001", "ZD2022-0002", "ZD2022-0003", "ZD2022-0004"]
    log = book.submissions[-1]
    assert (log.period, log.unit, log.file_name, log.result, log.on_time, log.errors) == (
        "2022-03", UNIT, "交通.xlsx", "已合并", "是", 0)
    archived = master.parent / "归档" / "2022-03" / UNIT / f"{log.sha256}.xlsx"
    assert archived.read_bytes() == filled.read_bytes()
    assert (master.parent / "备份").is_dir()


def test_the_merge_says_where_its_time_went(office, tmp_path: Path) -> None:
    """Of the write, how long the master, written and read back, waited for the archive's
    copies (what the benchmarks show beside the write); a merge with nothing new to archive
    waits for none."""
    master, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    result = merge_files(master, [filled], "2022-03")
    seconds = result.seconds
    assert set(seconds) == {"read", "check", "apply", "write", "archive_wait"}
    assert 0 < seconds["archive_wait"] <= seconds["write"]
    again = merge_files(master, [filled], "2022-03")
    assert again.duplicates and "archive_wait" not in again.seconds


def test_a_resubmission_replaces_the_units_rows(memory, tmp_path: Path) -> None:
    store, template = memory
    first = fill_form(template, tmp_path / "第一次.xlsx", seed=1).path
    second = fill_form(template, tmp_path / "第二次.xlsx", seed=9).path
    merge_files(store, [first], "2022-03")
    result = merge_files(store, [second], "2022-03")
    assert [r.file for r in result.replaced] == ["第一次.xlsx"]
    book = store.master
    assert [(s.file_name, s.result) for s in book.submissions] == [
        ("第一次.xlsx", "被替换"), ("第二次.xlsx", "已合并")]
    march = [e for e in book.ledger if e.period == "2022-03"]
    assert len(march) == 4
    assert {e.source_sha256 for e in march} == {book.submissions[-1].sha256}


def test_the_same_file_twice_changes_nothing(office, tmp_path: Path) -> None:
    master, template = office
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    merge_files(master, [filled], "2022-03")
    before = master.read_bytes()
    result = run_zdxm("merge", master, filled, "--json")
    assert result.code == 0
    assert json.loads(result.stdout)["duplicates"] == [
        {"file": str(filled), "unit": UNIT, "period": "2022-03", "earlier": "已合并"}]
    assert master.read_bytes() == before


def test_a_file_with_errors_is_logged_and_not_merged(office, tmp_path: Path) -> None:
    master, template = office
    bad = fill_form(template, tmp_path / "坏.xlsx", seed=1, mistakes=("text_amount",)).path
    result = run_zdxm("merge", master, bad, "--json")
    assert result.code == 1
    assert json.loads(result.stdout)["rejected"] == [
        {"file": str(bad), "unit": UNIT, "period": "2022-03", "errors": 1}]
    book = load_master(master)
    assert rows_for(load_master(master), "2022-03") == {}
    assert (book.submissions[-1].result, book.submissions[-1].errors) == ("未通过", 1)


def test_late_returns_are_marked(memory, tmp_path: Path) -> None:
    store, template = memory
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    merge_files(store, [filled], "2022-03", received=datetime(2022, 4, 6, 8, 0))
    status = submission_status(store.master, "2022-03")
    assert status.late == [UNIT]
    assert status.missing == ["市工业和信息化局"]


def test_text_from_units_never_becomes_a_formula(office, tmp_path: Path) -> None:
    master, template = office
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    edit(filled, {(1, "存在问题"): '=HYPERLINK("http://example.com","点此")',
                  (1, "需协调事项"): "+1", (2, "存在问题"): "@SUM(A1)"})
    assert merge_files(master, [filled], "2022-03").ok
    with zipfile.ZipFile(master) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(n) for n in sheets)
    march = rows_for(load_master(master), "2022-03")
    assert march["ZD2022-0002"].problems.startswith("=HYPERLINK")
    assert march["ZD2022-0002"].coordination == "+1"


@pytest.mark.slow
def test_a_second_merge_waits_then_says_who_holds_the_master(office, tmp_path: Path) -> None:
    master, template = office
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    with MasterLock(master), pytest.raises(MasterBusyError, match="正被 .* 使用"):
        merge_files(master, [filled], lock_wait=0.3)
    assert merge_files(master, [filled]).ok  # the lock is gone


def test_a_master_open_in_excel_is_not_written(office, tmp_path: Path) -> None:
    master, template = office
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    (master.parent / f"~${master.name}").write_text("owner")
    before = master.read_bytes()
    result = run_zdxm("merge", master, filled)
    assert result.code == 2 and "正在 Excel" in result.stderr
    assert master.read_bytes() == before


def zdxm_process(*args: object, crash_at: str | None = None,
                 capture: bool = False) -> subprocess.Popen[bytes]:
    """``zdxm ARGS`` as its own process (dying at ``crash_at``); ``capture`` keeps its output."""
    env = dict(os.environ)
    if crash_at:
        env["ZDXM_CRASH_AT"] = crash_at
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "zdxm_xl", *map(str, args)], env=env,
                            stdout=output, stderr=output)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-archive", "before-master-write",
                                   "after-temp-write:台账.xlsx", "before-replace:台账.xlsx"])
def test_a_merge_killed_at_any_step_leaves_the_master_whole(office, tmp_path: Path,
                                                             point: str) -> None:
    master, template = office
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    before = master.read_bytes()
    process = zdxm_process("merge", master, filled, crash_at=point)
    assert process.wait(timeout=120) == 137
    assert master.read_bytes() == before
    load_master(master)
    assert merge_files(master, [filled]).merged  # run again: merged exactly once
    assert len(rows_for(load_master(master), "2022-03")) == 4
    assert merge_files(master, [filled]).duplicates


@pytest.mark.slow
def test_kill_9_during_a_merge_leaves_old_or_new(office, tmp_path: Path) -> None:
    master, template = office
    files = [fill_form(template, tmp_path / f"f{i}.xlsx", seed=i).path for i in range(6)]
    for delay in (0.3, 0.8, 1.5):
        process = zdxm_process("merge", master, *files)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        # the lock file it leaves is free: the OS let go of the lock with the process
        book = load_master(master)  # openable, whichever state it is in
        assert len([e for e in book.ledger if e.period == "2022-03"]) in (0, 4)
    merge_files(master, files)
    book = load_master(master)
    assert len([e for e in book.ledger if e.period == "2022-03"]) == 4
    assert sum(1 for s in book.submissions if s.result == "已合并") == 1


def test_three_months_in_turn(tmp_path: Path) -> None:
    book = checking_master()
    book.ledger = []  # start the year afresh
    store = MemoryStore(book, tmp_path)
    for month in ("2022-01", "2022-02", "2022-03"):
        make_forms(store, month, tmp_path / month, unit=UNIT)
        template = tmp_path / month / form_name(month, UNIT)
        filled = fill_form(template, tmp_path / "收件" / f"{month}.xlsx", seed=7).path
        result = merge_files(store, [filled], month)
        assert result.ok, [f.message for r in result.reports for f in r.findings]
    ledger = store.master.ledger
    by = {(e.period, e.project_id): e for e in ledger}
    for before, now in (("2022-01", "2022-02"), ("2022-02", "2022-03")):
        for project in ("ZD2022-0002", "ZD2022-0003"):
            prev, cur = by[(before, project)], by[(now, project)]
            assert cur.year_completed == prev.year_completed + cur.month_completed
            assert cur.total_completed == prev.total_completed + cur.month_completed
    assert by[("2022-01", "ZD2022-0002")].total_completed == \
        Decimal(30000) + by[("2022-01", "ZD2022-0002")].month_completed
    make_forms(store, "2022-04", tmp_path / "四月", unit=UNIT)
    sheet = openpyxl.load_workbook(tmp_path / "四月" / form_name("2022-04", UNIT))[SHEET]
    titles = [c.value for c in sheet[HEADER_ROW]]
    ids = [sheet.cell(row=r, column=1).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)]
    row = HEADER_ROW + 1 + ids.index("ZD2022-0002")
    shown = sheet.cell(row=row, column=titles.index("上月本年累计（万元）") + 1).value
    assert Decimal(str(shown)) == by[("2022-03", "ZD2022-0002")].year_completed


def test_status_lists_missing_late_and_rejected(office, tmp_path: Path) -> None:
    master, template = office
    bad = fill_form(template, tmp_path / "坏.xlsx", seed=1, mistakes=("negative",)).path
    merge_files(master, [bad], "2022-03", received=datetime(2022, 4, 7))
    result = run_zdxm("status", master, "--period", "2022-03", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["period"] == "2022-03" and data["deadline"] == "2022-04-05"
    assert data["missing"] == ["市工业和信息化局"]
    # Its only file (late, too) failed the checks: 未通过 — one status, not also 逾期.
    assert data["late"] == [] and data["rejected"] == [UNIT]
    unit = next(u for u in data["units"] if u["unit"] == UNIT)
    assert {k: unit[k] for k in ("submitted", "on_time", "valid", "file", "status")} == {
        "submitted": True, "on_time": None, "valid": False, "file": "坏.xlsx",
        "status": "未通过"}
    assert data == to_json(submission_status(load_master(master), "2022-03"))
    text = run_zdxm("status", master, "--period", "2022-03")
    assert "未报送（1）：市工业和信息化局" in text.stdout


def test_backups_keep_the_newest_thirty(office, tmp_path: Path) -> None:
    from zdxm_xl.books.safety import backup

    master, _ = office
    for second in range(35):
        backup(master, now=datetime(2022, 4, 1, 9, 0, second))
    kept = sorted(p.name for p in (master.parent / "备份").iterdir())
    assert len(kept) == 30
    assert kept[0] == "台账_20220401-090005.xlsx" and kept[-1] == "台账_20220401-090034.xlsx"


def test_a_temp_file_left_by_a_dead_writer_is_swept(office, tmp_path: Path) -> None:
    master, template = office
    stale = master.parent / ".~zdxm-台账-k3j_x9q2.xlsx"  # mkstemp's eight characters
    stale.write_bytes(b"half a master")
    neighbour = master.parent / ".~zdxm-台账-2023-k3j_x9q2.xlsx"  # of 台账-2023.xlsx, being written
    neighbour.write_bytes(b"another master")
    filled = fill_form(template, tmp_path / "f.xlsx", seed=1).path
    assert merge_files(master, [filled]).ok
    assert not stale.exists()
    assert neighbour.exists()


def test_hostile_files_in_the_inbox_are_reported_not_fatal(office, tmp_path: Path) -> None:
    master, _ = office
    inbox = tmp_path / "收件"
    inbox.mkdir()
    (inbox / "random.xlsx").write_bytes(os.urandom(4096))
    (inbox / "empty.xlsx").write_bytes(b"")
    (inbox / "page.xls").write_text("<html><body>报表</body></html>", encoding="utf-8")
    (inbox / "data.et").write_bytes(b"\xd0\xcf\x11\xe0" + os.urandom(1000))
    before = master.read_bytes()
    result = run_zdxm("validate", master, inbox, "--json")
    assert result.code == 1, result.stderr
    files = json.loads(result.stdout)["files"]
    assert len(files) == 4
    assert all(f["unit"] is None and not f["valid"] and f["findings"] for f in files)
    assert master.read_bytes() == before
    merged = run_zdxm("merge", master, inbox, "--json")
    assert merged.code == 1
    assert len(json.loads(merged.stdout)["rejected"]) == 4
    assert len(load_master(master).ledger) == 3  # February's rows only


# ---- newest wins, by time ------------------------------------------------------------------

def two_versions(template: Path, inbox: Path, older: str, newer: str) -> tuple[Path, Path]:
    """A unit's first return and its correction, saved under ``older`` and ``newer`` names
    with modification times an hour apart."""
    first = fill_form(template, inbox / older, seed=1).path
    second = fill_form(template, inbox / newer, seed=9).path
    os.utime(first, (time.time(), datetime(2022, 4, 3, 9, 0).timestamp()))
    os.utime(second, (time.time(), datetime(2022, 4, 3, 10, 0).timestamp()))
    return first, second


def current_sha(master: Path) -> set[str]:
    return {e.source_sha256 for e in load_master(master).ledger if e.period == "2022-03"}


@pytest.mark.parametrize(("older", "newer"), [("交通月报 (1).xlsx", "交通月报.xlsx"),
                                              ("交通月报.xlsx", "交通月报 (1).xlsx")])
def test_a_units_newest_file_wins_whatever_its_name(office, tmp_path: Path, older: str,
                                                    newer: str) -> None:
    master, template = office
    first, second = two_versions(template, tmp_path / "收件", older, newer)
    result = run_zdxm("merge", master, tmp_path / "收件", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [Path(m["file"]).name for m in data["merged"]] == [older, newer]
    assert data["replaced"] == [{"file": older, "unit": UNIT, "period": "2022-03",
                                 "by": str(second)}]
    book = load_master(master)
    assert [(s.file_name, s.result, s.note) for s in book.submissions] == [
        (older, "被替换", f"由《{newer}》替换"), (newer, "已合并", None)]
    assert current_sha(master) == {book.submissions[-1].sha256}
    before = master.read_bytes()
    again = run_zdxm("merge", master, tmp_path / "收件", "--json")
    assert again.code == 0
    assert [d["earlier"] for d in json.loads(again.stdout)["duplicates"]] == ["被替换", "已合并"]
    assert master.read_bytes() == before  # nothing new: no write, no backup


def test_mail_arrival_decides_over_the_files_times(memory, tmp_path: Path) -> None:
    store, template = memory
    first, second = two_versions(template, tmp_path / "收件", "a.xlsx", "b.xlsx")
    # the mail with b came first: its file was only saved later
    arrived = {second: datetime(2022, 4, 2, 8, 0), first: datetime(2022, 4, 2, 9, 30)}
    merge_files(store, [first, second], "2022-03", received=arrived)
    book = store.master
    assert [(s.file_name, s.result, s.received_at) for s in book.submissions] == [
        ("b.xlsx", "被替换", datetime(2022, 4, 2, 8, 0)),
        ("a.xlsx", "已合并", datetime(2022, 4, 2, 9, 30))]


def test_a_replaced_file_is_taken_back_on_purpose(office, tmp_path: Path) -> None:
    master, template = office
    first, second = two_versions(template, tmp_path / "收件", "第一次.xlsx", "第二次.xlsx")
    merge_files(master, [first, second], "2022-03")
    plain = run_zdxm("merge", master, first)
    assert plain.code == 0 and "已被同单位较新的文件替换" in plain.stdout and "--reapply" in plain.stdout
    assert "台账未改动" in plain.stdout
    result = run_zdxm("merge", master, "--reapply", first, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["merged"] == [{"file": str(first), "unit": UNIT, "period": "2022-03", "rows": 4,
                               "reapplied": True}]
    assert data["replaced"] == [{"file": "第二次.xlsx", "unit": UNIT, "period": "2022-03",
                                 "by": str(first)}]
    book = load_master(master)
    rows = [(s.file_name, s.result, s.note) for s in book.submissions]
    assert len(rows) == 2  # one row per file received, whatever became of it since
    assert rows[0][:2] == ("第一次.xlsx", "已合并") and rows[0][2].endswith("重新采用")
    assert rows[1] == ("第二次.xlsx", "被替换", "由《第一次.xlsx》替换")
    assert current_sha(master) == {book.submissions[0].sha256}
    status = submission_status(book, "2022-03")
    assert next(u for u in status.units if u.unit == UNIT).file == "第一次.xlsx"
    text = run_zdxm("merge", master, "--reapply", first)  # it is current already
    assert text.code == 0 and "与已合并的文件内容相同" in text.stdout


def test_months_apply_in_order_whatever_the_files_times(memory, tmp_path: Path) -> None:
    """April's return compares with March's: in one run March is merged first even when
    April's file is older, and April is checked again against the March just merged."""
    store, template = memory
    march = fill_form(template, tmp_path / "收件" / "三月.xlsx", seed=3).path
    # April's form needs March in the ledger: a rehearsal on a copy of the master
    rehearsal = MemoryStore(store.master, tmp_path / "预演")
    assert merge_files(rehearsal, [march], "2022-03").ok
    make_forms(rehearsal, "2022-04", tmp_path / "四月", unit=UNIT)
    april = fill_form(tmp_path / "四月" / form_name("2022-04", UNIT),
                      tmp_path / "收件" / "四月.xlsx", seed=4).path
    os.utime(april, (time.time(), datetime(2022, 4, 1).timestamp()))
    os.utime(march, (time.time(), datetime(2022, 5, 2).timestamp()))
    result = merge_files(store, [tmp_path / "收件"])
    assert result.ok, [f.message for r in result.reports for f in r.findings]
    assert [(m.period, Path(m.file).name) for m in result.merged] == [("2022-03", "三月.xlsx"),
                                                                      ("2022-04", "四月.xlsx")]
    assert all(r.valid for r in result.reports)


def test_a_later_month_checked_again_is_not_read_again(memory, tmp_path: Path,
                                                       monkeypatch) -> None:
    """April, checked again once March is merged in the same run, is checked as it was
    vetted and read the first time: not vetted, hashed and read from the disk again."""
    from zdxm_xl.checks import returns

    store, template = memory
    march = fill_form(template, tmp_path / "收件" / "三月.xlsx", seed=3).path
    rehearsal = MemoryStore(store.master, tmp_path / "预演")
    assert merge_files(rehearsal, [march], "2022-03").ok
    make_forms(rehearsal, "2022-04", tmp_path / "四月", unit=UNIT)
    fill_form(tmp_path / "四月" / form_name("2022-04", UNIT), tmp_path / "收件" / "四月.xlsx",
              seed=4)
    examined_again: list[Path] = []

    def examine(path, *args):
        examined_again.append(Path(path))
        return real(path, *args)

    real = returns.examine
    monkeypatch.setattr(returns, "examine", examine)
    result = merge_files(store, [tmp_path / "收件"])
    assert [(m.period, Path(m.file).name) for m in result.merged] == [("2022-03", "三月.xlsx"),
                                                                      ("2022-04", "四月.xlsx")]
    assert result.ok and all(r.valid for r in result.reports)
    assert examined_again == []


# ---- a refused file, sent again unchanged ----------------------------------------------------

def test_a_refused_file_sent_again_is_recognised_not_logged_again(office, tmp_path: Path) -> None:
    master, template = office
    bad = fill_form(template, tmp_path / "坏.xlsx", seed=1, mistakes=("text_amount",)).path
    assert run_zdxm("merge", master, bad).code == 1
    before = master.read_bytes()
    backups = sorted((master.parent / "备份").iterdir())
    for _ in range(3):
        again = run_zdxm("merge", master, bad, "--json")
        assert again.code == 1  # still refused
        assert json.loads(again.stdout)["duplicates"] == [
            {"file": str(bad), "unit": UNIT, "period": "2022-03", "earlier": "未通过"}]
    text = run_zdxm("merge", master, bad)
    assert "重复" in text.stdout and "此前未通过" in text.stdout
    assert master.read_bytes() == before
    assert sorted((master.parent / "备份").iterdir()) == backups
    assert [s.result for s in load_master(master).submissions] == ["未通过"]


def test_a_refused_file_that_passes_now_is_merged_on_its_own_row(memory, tmp_path: Path) -> None:
    """Refused because February's figure in the ledger was wrong; the office corrects
    February, and the same file, merged again, passes."""
    store, template = memory
    filled = fill_form(template, tmp_path / "三月.xlsx", seed=1).path
    book = store.load()
    wrong = next(e for e in book.ledger if e.project_id == "ZD2022-0002")
    wrong.total_completed = Decimal("99999")  # makes March's 开工以来累计 smaller (V07)
    store.save(book)
    first = merge_files(store, [filled], "2022-03")
    assert [f.code for f in first.reports[0].findings if f.is_error] == ["V07"]
    book = store.load()
    next(e for e in book.ledger if e.project_id == "ZD2022-0002").total_completed = \
        Decimal("32500")
    store.save(book)
    second = merge_files(store, [filled], "2022-03")
    assert second.ok and second.merged and not second.duplicates
    rows = store.master.submissions
    assert [(s.file_name, s.result, s.errors) for s in rows] == [("三月.xlsx", "已合并", 0)]
    assert rows[0].note.endswith("重新校验后通过")
    assert len(rows_for(store.master, "2022-03")) == 4


def test_a_file_refused_for_another_period_is_checked_again(memory, tmp_path: Path) -> None:
    store, template = memory
    filled = fill_form(template, tmp_path / "三月.xlsx", seed=1).path
    assert not merge_files(store, [filled], "2022-04").ok  # F53: not April's form
    assert merge_files(store, [filled], "2022-03").merged
    assert [(s.period, s.result) for s in store.master.submissions] == [
        ("2022-04", "未通过"), ("2022-03", "已合并")]


def test_a_file_gone_before_it_is_archived_leaves_the_master_as_it_was(memory, tmp_path: Path,
                                                                        archiving: str) -> None:
    """The archive is made while the master is written, before it is kept: a file taken out
    of 收件 in between stops the merge with a Chinese message, and nothing is kept."""
    store, template = memory
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    master = store.load()
    result = MergeResult()
    assert merge_into(master, Workspace(tmp_path, master.settings), [filled], "2022-03",
                      result=result)
    filled.unlink()
    with pytest.raises(MasterError, match="无法把合并的文件存入归档目录.*台账没有改动"):
        store.save(master, result.archive)
    assert store.saves == 0
    assert not [p for p in tmp_path.glob("归档/**/*") if p.is_file()]  # nor a half copy


def test_an_archive_folder_that_cannot_be_made_stops_the_merge_and_says_why(
        office, tmp_path: Path, archiving: str) -> None:
    """归档 is a file, not a folder: the merge stops with the archive's message, the
    master as it was."""
    master_path, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    (master_path.parent / "归档").write_text("不是文件夹", encoding="utf-8")
    before = master_path.read_bytes()
    with pytest.raises(MasterError, match="无法把合并的文件存入归档目录.*台账没有改动"):
        merge_files(master_path, [filled])
    assert master_path.read_bytes() == before
    result = run_zdxm("merge", master_path, filled)
    assert result.code != 0 and "无法把合并的文件存入归档目录" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_the_archive_holds_the_bytes_checked_however_it_is_made(office, tmp_path: Path,
                                                                 archiving: str) -> None:
    master_path, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    assert merge_files(master_path, [filled], "2022-03").merged
    log = load_master(master_path).submissions[-1]
    archived = master_path.parent / "归档" / "2022-03" / UNIT / f"{log.sha256}.xlsx"
    assert archived.read_bytes() == filled.read_bytes()
    assert not list(tmp_path.rglob(".~zdxm*"))


def test_a_file_changed_after_its_check_is_neither_archived_nor_merged(
        office, tmp_path: Path, archiving: str, monkeypatch) -> None:  # noqa: ANN001
    """A 信息员 saves the file in 收件 again while the merge runs: what would be archived is
    not what was checked, so the merge stops with a Chinese message and keeps nothing."""
    master_path, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    before = master_path.read_bytes()
    begin = MergeResult.begin_archive

    def saved_again_meanwhile(result: MergeResult) -> None:
        fill_form(template, filled, seed=2)
        begin(result)

    monkeypatch.setattr(MergeResult, "begin_archive", saved_again_meanwhile)
    with pytest.raises(MasterError, match="“交通.xlsx”在检查之后又被改动过.*台账没有改动"):
        merge_files(master_path, [filled], "2022-03")
    assert master_path.read_bytes() == before
    assert not [p for p in tmp_path.glob("归档/**/*") if p.is_file()]
    assert not list(tmp_path.rglob(".~zdxm*"))


def opened_in_excel_once_archiving(master_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The master is opened in Excel just after the merge begins its archive copies."""
    begin = MergeResult.begin_archive

    def opened_in_excel_meanwhile(result: MergeResult) -> None:
        begin(result)
        (master_path.parent / f"~${master_path.name}").write_text("owner")

    monkeypatch.setattr(MergeResult, "begin_archive", opened_in_excel_meanwhile)


def test_a_save_that_fails_takes_its_archive_copies_back(office, tmp_path: Path,
                                                        archiving: str,
                                                        monkeypatch) -> None:  # noqa: ANN001
    """The master is opened in Excel while the merge checks (the copies for a big merge are
    then already being made): the merge stops, and the archive holds no copy the ledger does
    not list, nor a folder made for one. A file archived before stays."""
    master_path, template = office
    earlier = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    assert merge_files(master_path, [earlier], "2022-03").merged
    kept = sorted(p for p in tmp_path.glob("归档/**/*"))
    filled = fill_form(template, tmp_path / "收件" / "交通-改.xlsx", seed=2).path
    before = master_path.read_bytes()
    opened_in_excel_once_archiving(master_path, monkeypatch)
    with pytest.raises(MasterError, match="正在 Excel"):
        merge_files(master_path, [filled], "2022-03")
    assert master_path.read_bytes() == before
    assert sorted(p for p in tmp_path.glob("归档/**/*")) == kept
    assert not list(tmp_path.rglob(".~zdxm*"))


def test_a_month_first_archived_by_a_failed_save_leaves_no_folder(office, tmp_path: Path,
                                                                  archiving: str,
                                                                  monkeypatch) -> None:  # noqa: ANN001
    """As above, the first file of the month: its month's and unit's folders go too."""
    master_path, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    (master_path.parent / "归档").mkdir()
    opened_in_excel_once_archiving(master_path, monkeypatch)
    with pytest.raises(MasterError, match="正在 Excel"):
        merge_files(master_path, [filled], "2022-03")
    assert list((master_path.parent / "归档").iterdir()) == []


def test_a_file_gone_before_it_is_archived_leaves_the_master_file_as_it_was(
        office, tmp_path: Path) -> None:
    """The same, writing the master's file (only the ledger's changed rows, read back meanwhile):
    the failure ends the write at once, and the file is the bytes it was."""
    master_path, template = office
    filled = fill_form(template, tmp_path / "收件" / "交通.xlsx", seed=1).path
    before = master_path.read_bytes()
    store = FileStore(master_path)
    with store.session():
        master = store.load()
        result = MergeResult()
        assert merge_into(master, Workspace(store.folder, master.settings), [filled],
                          "2022-03", result=result)
        filled.unlink()
        failed: list[BaseException] = []

        def save() -> None:
            try:
                store.save(master, result.archive)
            except BaseException as exc:
                failed.append(exc)

        saving = threading.Thread(target=save, daemon=True)
        saving.start()
        saving.join(timeout=60)
        assert not saving.is_alive(), "the write did not end"
    [error] = failed
    assert isinstance(error, MasterError)
    assert re.search("无法把合并的文件存入归档目录.*台账没有改动", str(error))
    assert master_path.read_bytes() == before


def test_a_file_kept_in_the_archive_before_is_not_copied_again(tmp_path: Path) -> None:
    """The archive is named by content: a file already kept for its 报告期 and unit is not
    copied again; one new to a 报告期 already begun is, and so is each file of a 报告期
    whose folder is not there yet."""
    from zdxm_xl.checks.returns import FileReport
    from zdxm_xl.core.models import Settings
    from zdxm_xl.merge import _archive

    workspace = Workspace(tmp_path, Settings(year=2022))
    kept, new, later = (FileReport(path=tmp_path / "收件" / f"{name}.xlsx", sha256=name * 64,
                                   unit=UNIT, period=period)
                        for name, period in (("a", "2022-03"), ("b", "2022-03"), ("c", "2022-04")))
    there = workspace.archived("2022-03", UNIT, kept.sha256, ".xlsx")
    there.parent.mkdir(parents=True)
    there.write_bytes(b"kept before")
    planned = _archive(workspace, [kept, new, later])
    assert planned == [(report.path, workspace.archived(report.period, UNIT, report.sha256, ".xlsx"),
                        report.sha256) for report in (new, later)]
    assert not workspace.archived_period("2022-04").exists()
