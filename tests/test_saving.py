"""Saving the master costs what changed: a merge rewrites the rows of 月报台帐, 报送记录 and 问题台帐
from the first row that changed and copies every other part of the file as it was — and
falls back to writing the whole master whenever the file is not as zdxm wrote it."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from checking_office import UNIT, build_master, checking_master
from zdxm_xl.books import durable, masterio, safety
from zdxm_xl.books.formbook import FormBook
from zdxm_xl.books.masterio import FileStore, create_master, load_master
from zdxm_xl.books.package import Package, _pieces_of
from zdxm_xl.bulletin import make_bulletin
from zdxm_xl.core.errors import MasterError
from zdxm_xl.core.master import Master
from zdxm_xl.core.models import LedgerEntry
from zdxm_xl.core.registry import LEDGER, UNITS
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, Path]:
    master = build_master(tmp_path / "台账.xlsx")
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    return master, fill_form(tmp_path / "模板" / form_name("2022-03", UNIT),
                             tmp_path / "收件" / "交通.xlsx", seed=1).path


def raw_parts(path: Path) -> dict[str, bytes]:
    """Each part of the file as it is stored (still compressed), by sheet name where it is
    a sheet."""
    package = Package(path.read_bytes())
    names = {parts.sheet: sheet for sheet, parts in package.sheets().items()}
    return {names.get(info.filename, info.filename): package._raw(info)
            for info in package.archive.infolist()}


def records(path: Path) -> dict[str, list[dict[str, object]]]:
    book = load_master(path)
    return {name: [r.model_dump() for r in getattr(book, name)]
            for name in ("projects", "units", "ledger", "submissions", "changes")}


def test_a_merge_rewrites_only_the_tables_it_changed(office) -> None:
    master, filled = office
    before, kept = raw_parts(master), records(master)
    result = merge_files(master, [filled], "2022-03")
    assert result.merged and result.written
    after = raw_parts(master)
    changed = {name for name in before if before[name] != after.get(name)}
    tables = {sheet: parts.table for sheet, parts in Package(master.read_bytes()).sheets().items()}
    assert {"月报台帐", tables["月报台帐"]} <= changed <= {"月报台帐", "报送记录", tables["月报台帐"],
                                                     tables["报送记录"]}
    assert after.keys() == before.keys()
    again = records(master)
    assert again["projects"] == kept["projects"] and again["units"] == kept["units"]
    assert again["ledger"][:3] == kept["ledger"]  # February's rows, untouched
    assert [e["period"] for e in again["ledger"][3:]] == ["2022-03"] * 4
    assert again["submissions"][-1]["result"] == "已合并"
    # the backup is the file as it was
    (backup,) = (master.parent / "备份").iterdir()
    assert raw_parts(backup) == before


def test_rows_after_a_changed_one_are_rewritten_the_rest_kept(office, tmp_path: Path) -> None:
    master, _filled = office
    store = FileStore(master)
    with store.session():
        book = store.load()
        book.ledger[1].progress = "已改"  # the second row changes; a row is added
        book.ledger.append(book.ledger[0].model_copy(update={"period": "2022-01"}))
        store.save(book)
        book.ledger.pop(0)  # a second save in the same session: the first row goes
        store.save(book)
    again = load_master(master).ledger
    assert [(e.period, e.project_id, e.progress) for e in again] == [
        ("2022-02", "ZD2022-0002", "已改"), ("2022-02", "ZD2022-0003", None),
        ("2022-01", "ZD2022-0001", None)]


def _whole_writes(monkeypatch) -> list[Path]:  # noqa: ANN001
    """The masters written whole from here on (``save_master``), counted."""
    written: list[Path] = []
    real = masterio.save_master

    def counted(master: object, path: Path, *args: object, **kwargs: object) -> Path:
        written.append(Path(path))
        return real(master, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(masterio, "save_master", counted)
    return written


@contextlib.contextmanager
def _session(master: Path) -> Iterator[tuple[FileStore, Master]]:
    """The master loaded for writing, in its store's session."""
    store = FileStore(master)
    with store.session():
        yield store, store.load()


def _changed_parts(before: dict[str, bytes], master: Path) -> set[str]:
    after = raw_parts(master)
    assert after.keys() == before.keys()
    return {name for name in before if before[name] != after[name]}


def test_a_bulletins_new_issue_rewrites_only_the_settings(office, tmp_path: Path,
                                                          monkeypatch) -> None:
    """A new 简报 records its 期数 in two settings: the save writes them in 设置's 值 cells
    and copies every other part of the master as it was (a province's master is not
    written whole for them)."""
    master, _filled = office
    before, kept = raw_parts(master), records(master)
    whole = _whole_writes(monkeypatch)
    made = make_bulletin(master, "2022-02", tmp_path / "简报", issued=date(2022, 3, 10))
    assert made.new_issue and made.issue == 1
    assert whole == []
    assert _changed_parts(before, master) == {"设置"}
    book = load_master(master)
    assert book.settings.bulletin_issue == 1 and "2022-02" in book.settings.bulletin_log
    assert records(master) == kept
    # the next 简报 of the month is the same issue: nothing to save
    again = make_bulletin(master, "2022-02", tmp_path / "简报", issued=date(2022, 3, 10))
    assert not again.new_issue and whole == []


def test_settings_and_rows_changed_together_are_saved_in_part(office) -> None:
    master, _filled = office
    before = raw_parts(master)
    with _session(master) as (store, book):
        book.settings.current_period = "2022-03"
        book.settings.deadline_day = 8
        book.ledger.append(LedgerEntry(period="2022-03", project_id=book.projects[0].id))
        store.save(book)
        book.settings.mail_contact = "项目科 王五，0772-2801234"  # a second save in the session
        store.save(book)
    tables = {sheet: parts.table for sheet, parts in Package(master.read_bytes()).sheets().items()}
    assert _changed_parts(before, master) <= {"设置", "月报台帐", tables["月报台帐"]}
    settings = load_master(master).settings
    assert (settings.current_period, settings.deadline_day, settings.mail_contact) == (
        "2022-03", 8, "项目科 王五，0772-2801234")
    assert len(load_master(master).ledger) == 4


@pytest.mark.parametrize(("change", "why"), [
    ({"city": "桂林市"}, "汇总 shows the city"),
    ({"counties": ["城中区", "鱼峰区"]}, "the 县区 list is a table of its own"),
    ({"mail_contact": " 王五 "}, "a read trims the spaces at its ends"),
    ({"current_period": None}, "an emptied setting is written whole (it reads as its default)"),
])
def test_settings_that_cannot_change_in_place_mean_a_whole_write(office, monkeypatch,
                                                                   change, why) -> None:
    master, _filled = office
    whole = _whole_writes(monkeypatch)
    with _session(master) as (store, book):
        book.settings.current_period = "2022-02"
        store.save(book)
        assert whole == [], "a setting alone is written in place"
        for name, value in change.items():
            setattr(book.settings, name, value)
        store.save(book)
    assert whole == [master], why
    settings = load_master(master).settings
    for name, value in change.items():
        assert getattr(settings, name) == (value.strip() if isinstance(value, str) else value)


def _typed_twice(master: Path, _tmp_path: Path) -> None:
    """设置 edited in place (its text kept inline, as zdxm writes it): 当前报告期 typed
    again in a row below the table, so which 值 is meant is not clear."""
    book = FormBook(master)
    sheet = book.sheet("设置")
    row = sheet.last_row + 2
    sheet.set(row, 1, "当前报告期")
    sheet.set(row, 2, "2022-01")
    book.save(master)


def _saved_by_a_spreadsheet_program(master: Path, tmp_path: Path) -> None:
    """The master as LibreOffice (as Excel, WPS) saves it: its text in shared strings."""
    shutil.copy(saved_by_libreoffice(master, tmp_path), master)


@pytest.mark.parametrize("edit", [
    _typed_twice, pytest.param(_saved_by_a_spreadsheet_program, marks=pytest.mark.soffice)])
def test_a_settings_sheet_not_as_zdxm_writes_it_means_a_whole_write(office, tmp_path: Path,
                                                                      monkeypatch, edit) -> None:
    master, _filled = office
    edit(master, tmp_path)
    whole = _whole_writes(monkeypatch)
    with _session(master) as (store, loaded):
        loaded.settings.current_period = "2022-03"
        store.save(loaded)
    assert whole == [master]
    assert load_master(master).settings.current_period == "2022-03"


def test_settings_written_wrong_are_caught_and_the_old_file_kept(office, monkeypatch) -> None:
    master, _filled = office
    before = master.read_bytes()
    real = masterio._with_settings
    monkeypatch.setattr(masterio, "_with_settings",
                        lambda xml, settings: real(xml, {**settings, "deadline_day": 9}))
    with _session(master) as (store, book):
        book.settings.current_period = "2022-03"
        with pytest.raises(MasterError, match="复核不一致"):
            store.save(book)
    assert master.read_bytes() == before


TRICKY = ' =HYPERLINK("http://x") a&b<c>\r\n第二行\t\x01 '
TEXTS = [TRICKY, "主体结构施工，完成投资 30%", "　全角空格在前 ", "A&B <合同> 已签", "]]> &amp;"]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("whole", [False, True])
def test_text_is_written_as_text_whatever_it_holds(office, whole: bool, text: str) -> None:
    """Text that looks like a formula, markup, line breaks, a control character, spaces at
    its ends, or is just plain text: written into the rows as text, read back as the same
    text (less what XML cannot hold), whether only the changed rows are written or the
    whole master."""
    master, _filled = office
    store = FileStore(master)
    with store.session():
        book = store.load()
        book.ledger[-1].progress = text
        if whole:
            book.settings.city = "柳州"  # a change beyond the tables: the whole master
        store.save(book)
    expected = text.replace("\x01", "").strip()
    assert load_master(master).ledger[-1].progress == expected
    cell = openpyxl.load_workbook(master)["月报台帐"]["L4"]
    assert (cell.value, cell.data_type) == (text.replace("\x01", ""), "s")


def test_a_blank_row_typed_into_the_ledger_is_no_trouble(office) -> None:
    """The office inserts an empty row in 月报台帐 by hand: rows no longer match records one
    to one, so the merge writes the whole master — and loses nothing."""
    master, filled = office
    book = openpyxl.load_workbook(master)
    book["月报台帐"].insert_rows(3)
    book.save(master)
    assert len(load_master(master).ledger) == 3
    assert merge_files(master, [filled], "2022-03").merged
    ledger = load_master(master).ledger
    assert [e.period for e in ledger] == ["2022-02"] * 3 + ["2022-03"] * 4


def test_columns_moved_by_hand_are_no_trouble(office) -> None:
    master, filled = office
    book = openpyxl.load_workbook(master)
    sheet = book["月报台帐"]
    sheet.move_range("A1:A4", cols=40)  # 报告期 to the far right, then back in column B's place
    sheet.move_range("B1:B4", cols=-1)
    sheet.move_range("AO1:AO4", cols=-39)
    book.save(master)
    assert [e.project_id for e in load_master(master).ledger] == [
        "ZD2022-0001", "ZD2022-0002", "ZD2022-0003"]
    assert merge_files(master, [filled], "2022-03").merged
    ledger = load_master(master).ledger
    assert [e.period for e in ledger] == ["2022-02"] * 3 + ["2022-03"] * 4


def test_a_file_changed_since_it_was_loaded_is_written_whole(office) -> None:
    master, _filled = office
    store = FileStore(master)
    with store.session():
        book = store.load()
        book.ledger.append(LedgerEntry(period="2022-03", project_id="ZD2022-0001",
                                       month_completed=Decimal(5)))
        master.touch()  # as if something else wrote it meanwhile
        store.save(book)
    assert load_master(master).ledger[-1].month_completed == Decimal(5)


def test_a_file_replaced_while_it_was_loading_is_written_whole(office, tmp_path: Path,
                                                                monkeypatch) -> None:
    """Another copy of the master is saved over it while it loads (after it was opened):
    the save writes the whole master as loaded, not this load's rows into the other file."""
    from zdxm_xl.books import filebook

    master, _filled = office
    other = tmp_path / "另一份.xlsx"
    shutil.copy(master, other)
    book = openpyxl.load_workbook(other)
    book["月报台帐"]["L2"] = "另一份里改的"
    book.save(other)
    real = filebook.FileGateway.read_table

    def read_table(self, sheet: str, first_column: int = 1):  # noqa: ANN001, ANN202
        if sheet == UNITS.sheet and other.exists():  # halfway through the load
            other.replace(master)
        return real(self, sheet, first_column)

    monkeypatch.setattr(filebook.FileGateway, "read_table", read_table)
    store = FileStore(master)
    with store.session():
        book = store.load()
        monkeypatch.undo()
        book.ledger.append(LedgerEntry(period="2022-03", project_id="ZD2022-0001",
                                       month_completed=Decimal(5)))
        store.save(book)
    assert [(e.progress, e.month_completed) for e in load_master(master).ledger] == [
        (e.progress, e.month_completed) for e in book.ledger]


def written_wrong(monkeypatch, edit: Callable[[bytes], bytes]) -> None:  # noqa: ANN001
    """The rows of a partial save come out of the writer changed by ``edit``, as a bug
    would change them."""
    from zdxm_xl.books import filebook

    real = filebook.sheet_with_new_rows

    def wrong(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        xml, reading, copied = real(*args, **kwargs)
        return edit(xml), reading, copied

    monkeypatch.setattr(filebook, "sheet_with_new_rows", wrong)


def test_a_lost_row_is_caught_and_the_old_file_kept(office, monkeypatch) -> None:
    """Reading the new file back, before it replaces the old one, finds the row missing."""
    master, filled = office
    before = master.read_bytes()

    def lose_the_last_row(xml: bytes) -> bytes:
        last = xml.rindex(b"<row ")
        return xml[:last] + xml[xml.index(b"</row>", last) + len(b"</row>"):]

    written_wrong(monkeypatch, lose_the_last_row)
    with pytest.raises(MasterError, match="复核不一致"):
        merge_files(master, [filled], "2022-03")
    assert master.read_bytes() == before
    assert not [p for p in master.parent.iterdir() if p.name.startswith(".~zdxm")]


def test_a_new_row_that_does_not_read_back_is_caught(office, monkeypatch) -> None:
    master, filled = office
    before = master.read_bytes()

    def garble_the_last_period(xml: bytes) -> bytes:  # its 报告期 is no 报告期
        last = xml.rindex(b'<row r="')
        return xml[:last] + xml[last:].replace(b"2022-03", "三月".encode(), 1)

    written_wrong(monkeypatch, garble_the_last_period)
    with pytest.raises(MasterError, match="复核不一致"):
        merge_files(master, [filled], "2022-03")
    assert master.read_bytes() == before


def test_a_figure_written_as_another_is_caught(office, monkeypatch) -> None:
    """A row that still reads as a good record, but not the one meant — an amount written
    as another — is caught: the rows read back are compared with what was meant, cell by
    cell, not only decoded."""
    master, filled = office
    before = master.read_bytes()

    def change_the_last_figure(xml: bytes) -> bytes:  # an amount, a date: one more
        last = xml.rindex(b'<row r="')
        if b"<v>" not in xml[last:]:
            return xml
        at = xml.index(b"<v>", last) + len(b"<v>")
        end = xml.index(b"</v>", at)
        return xml[:at] + b"%.16g" % (float(xml[at:end]) + 1) + xml[end:]

    written_wrong(monkeypatch, change_the_last_figure)
    with pytest.raises(MasterError, match="复核不一致"):
        merge_files(master, [filled], "2022-03")
    assert master.read_bytes() == before
    # found before the file was archived: no copy the ledger does not list
    assert not [p for p in master.parent.glob("归档/**/*") if p.is_file()]


@pytest.fixture
def in_pieces(monkeypatch) -> list[tuple[int, int]]:  # noqa: ANN001
    """A save reads its new rows back a row a piece, four pieces at a time (as on four
    cores); each piece read: (its first row's record number, its rows)."""
    from zdxm_xl.books import masterio

    monkeypatch.setattr(masterio, "_PIECE_ROWS", 1)
    monkeypatch.setattr(masterio.os, "cpu_count", lambda: 4)
    pieces: list[tuple[int, int]] = []
    real = masterio._read_back

    def read_back(meant, first, book, settled):  # noqa: ANN001, ANN202
        pieces.append((first, len(meant)))
        return real(meant, first, book, settled)

    monkeypatch.setattr(masterio, "_read_back", read_back)
    return pieces


def test_the_new_rows_are_read_back_in_pieces(office, in_pieces) -> None:
    """The 4 new ledger rows (records 3 to 6) are read back in four pieces, each compared
    with its own rows: the save passes and loads as merged."""
    master, filled = office
    merge_files(master, [filled], "2022-03")
    assert {(3, 1), (4, 1), (5, 1), (6, 1)} <= set(in_pieces)
    assert [e.period for e in load_master(master).ledger] == ["2022-02"] * 3 + ["2022-03"] * 4


@pytest.mark.parametrize("row", ["first", "last"])
def test_a_cell_written_wrong_in_any_piece_is_caught(office, in_pieces, monkeypatch,
                                                     row: str) -> None:
    """The ledger's first new row, or its last, written a month later than meant: a
    good 报告期, but not the one meant, in the first piece read back or in the last."""
    master, filled = office
    before = master.read_bytes()

    def a_month_later(xml: bytes) -> bytes:
        if f'<dimension ref="A1:{get_column_letter(len(LEDGER.columns))}'.encode() not in xml:
            return xml  # another table's sheet
        at = xml.index(b"<t>2022-03</t>") if row == "first" else xml.rindex(b'<row r="')
        return xml[:at] + xml[at:].replace(b"<t>2022-03</t>", b"<t>2022-04</t>", 1)

    written_wrong(monkeypatch, a_month_later)
    with pytest.raises(MasterError, match="复核不一致"):
        merge_files(master, [filled], "2022-03")
    assert master.read_bytes() == before
    assert {(3, 1), (6, 1)} <= set(in_pieces)


def as_on_disk(monkeypatch, edit: Callable[[bytes], bytes] = lambda xml: xml) -> None:  # noqa: ANN001
    """A save's new file is read back as if the rewritten parts on disk were not the bytes
    written — the ledger's sheet changed by ``edit`` there — so they are read from it."""
    import io

    def read_back(self: Package, data: bytes) -> Package:  # noqa: ARG001
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as old, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
            for info in old.infolist():
                part = old.read(info)
                marker = f'<dimension ref="A1:{get_column_letter(len(LEDGER.columns))}'
                new.writestr(info, edit(part) if marker.encode() in part else part)
        return Package(out.getvalue())

    monkeypatch.setattr(Package, "read_back", read_back)


def test_rows_not_on_disk_as_written_are_read_from_the_file_in_pieces(office, in_pieces,
                                                                       monkeypatch) -> None:
    master, filled = office
    as_on_disk(monkeypatch)
    merge_files(master, [filled], "2022-03")
    # each new row read twice: as made, then from the file
    assert [first for first, _rows in in_pieces].count(6) == 2
    assert [e.period for e in load_master(master).ledger][-4:] == ["2022-03"] * 4


def test_rows_changed_on_disk_are_caught(office, in_pieces, monkeypatch) -> None:
    """The file on disk holds another 报告期 in the ledger's last row than the one written:
    the rows read from the file are compared with what was meant, and the old file kept."""
    master, filled = office
    before = master.read_bytes()

    def a_month_later(xml: bytes) -> bytes:
        at = xml.rindex(b'<row r="')
        return xml[:at] + xml[at:].replace(b"<t>2022-03</t>", b"<t>2022-04</t>", 1)

    as_on_disk(monkeypatch, a_month_later)
    with pytest.raises(MasterError, match="复核不一致"):
        merge_files(master, [filled], "2022-03")
    assert master.read_bytes() == before


def test_a_workbook_of_rows_is_a_workbook_others_read() -> None:
    """The workbook a save reads its new rows back from, made by hand, is a zip whose every
    part checks, and python-calamine reads the rows in it where they stand."""
    import io

    from python_calamine import CalamineWorkbook

    from zdxm_xl.books.package import workbook_of_rows

    xml = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>\xe7\xac\xac%d</t></is></c>'
                   b'<c r="B%d"><v>%d.5</v></c></row>' % (n, n, n, n, n) for n in range(7, 10))
    styles = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    book = workbook_of_rows(memoryview(xml), styles)
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        assert archive.testzip() is None
        assert archive.read("xl/worksheets/sheet1.xml").count(b"<row ") == 3
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(book)).get_sheet_by_index(0)
    assert sheet.start == (6, 0)
    assert sheet.to_python() == [["第7", 7.5], ["第8", 8.5], ["第9", 9.5]]


def test_rows_are_split_into_runs_about_as_long_as_each_other() -> None:
    from zdxm_xl.books.package import row_pieces

    xml = b"<worksheet><sheetData>" + b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 12)
    ) + b"</sheetData></worksheet>"
    runs = row_pieces(xml, 5, 7, 3)
    assert [(start, size) for start, size, _rows in runs] == [(5, 2), (7, 2), (9, 3)]
    assert all(bytes(rows).startswith(b'<row r="%d"' % start) for start, _size, rows in runs)
    assert b"".join(rows for _start, _size, rows in runs) == xml[xml.index(b'<row r="5"'):
                                                                 xml.index(b"</sheetData>")]
    assert row_pieces(xml, 12, 0, 2) == []
    assert [(start, size) for start, size, _rows in row_pieces(xml, 10, 2, 4)] == [(10, 1),
                                                                                   (11, 1)]
    assert [(start, size) for start, size, _rows in row_pieces(xml, 2, 10, 1)] == [(2, 10)]


def test_exact_figures_dates_and_times_are_saved_in_part_as_they_are(office) -> None:
    """Amounts with places no float holds exactly, a date and a time to the second pass the
    read-back as written, and load as they were."""
    master, filled = office
    merge_files(master, [filled], "2022-03")
    store = FileStore(master)
    amounts = [Decimal("0.1"), Decimal("12345678.99"), Decimal("0.07")]
    with store.session():
        book = store.load()
        for entry, amount in zip(book.ledger, amounts, strict=False):
            entry.month_completed = amount
        book.ledger[-1].start_date = date(2021, 2, 28)
        book.submissions[-1].received_at = datetime(2022, 3, 31, 23, 59, 59)
        store.save(book)
    again = load_master(master)
    assert [e.month_completed for e in again.ledger[:3]] == amounts
    assert again.ledger[-1].start_date == date(2021, 2, 28)
    assert again.submissions[-1].received_at == datetime(2022, 3, 31, 23, 59, 59)


def saved_by_libreoffice(master: Path, tmp_path: Path, timeout: float = 180) -> Path:
    """The master as LibreOffice reads it and saves it again (.xlsx)."""
    profile = (tmp_path / "profile").as_uri()
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(master)],
                   check=True, capture_output=True, timeout=timeout)
    return out / master.name


@pytest.mark.soffice
def test_libreoffice_reads_a_master_saved_in_part(office, tmp_path: Path) -> None:
    master, filled = office
    merge_files(master, [filled], "2022-03")
    book = openpyxl.load_workbook(saved_by_libreoffice(master, tmp_path), read_only=True)
    rows = list(book["月报台帐"].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["2022-02"] * 3 + ["2022-03"] * 4
    header = list(rows[0])
    march = [dict(zip(header, row, strict=False)) for row in rows[4:]]
    ours = [e for e in load_master(master).ledger if e.period == "2022-03"]
    assert [row["项目编号"] for row in march] == [e.project_id for e in ours]
    assert [None if row["本月完成投资（万元）"] is None else Decimal(str(row["本月完成投资（万元）"]))
            for row in march] == [e.month_completed for e in ours]
    log = list(book["报送记录"].iter_rows(values_only=True))
    assert log[-1][:3] == ("2022-03", UNIT, "交通.xlsx")
    assert zipfile.is_zipfile(master)


@pytest.mark.soffice
def test_libreoffice_reads_settings_written_in_place(office, tmp_path: Path) -> None:
    master, _filled = office
    make_bulletin(master, "2022-02", tmp_path / "简报", issued=date(2022, 3, 10))
    sheet = openpyxl.load_workbook(saved_by_libreoffice(master, tmp_path), read_only=True)["设置"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, max_col=2, values_only=True)}
    assert values["简报期数"] == 1 and values["已出简报"] == "2022-02=1"
    assert values["年度"] == 2022


def test_a_second_merge_appends_without_rewriting_the_first(office, tmp_path: Path) -> None:
    master, filled = office
    merge_files(master, [filled], "2022-03")
    first = Package(master.read_bytes())
    sheet = first.sheets()["月报台帐"].sheet
    old_rows = first.part(sheet)
    other = shutil.copy(filled, tmp_path / "收件" / "交通-更正.xlsx")
    book = openpyxl.load_workbook(other)
    book.properties.title = "更正"  # a different file, same content: replaces the unit's rows
    book.save(other)
    result = merge_files(master, [Path(other)], "2022-03")
    assert result.merged and result.replaced
    ledger = load_master(master).ledger
    assert [e.period for e in ledger] == ["2022-02"] * 3 + ["2022-03"] * 4
    new_rows = Package(master.read_bytes()).part(sheet)
    # February's rows are the very bytes they were
    cut = old_rows.index(b'<row r="5"')
    assert new_rows[:cut] == old_rows[:cut]


def test_problems_a_return_raises_are_saved_in_part_and_read_back(tmp_path: Path) -> None:
    from test_problems import LAND, _return

    master = build_master(tmp_path / "台账.xlsx")
    filled = _return(master, "2022-03", tmp_path, problems={0: LAND})
    before = raw_parts(master)
    result = merge_files(master, [filled], "2022-03")
    assert result.merged and result.problems.raised
    after = raw_parts(master)
    changed = {name for name in before if before[name] != after.get(name)}
    rewritten = ("月报台帐", "报送记录", "问题台帐", "问题办理记录")
    tables = {sheet: parts.table for sheet, parts in Package(master.read_bytes()).sheets().items()}
    assert {"问题台帐", "问题办理记录"} <= changed <= {*rewritten, *(tables[s] for s in rewritten)}
    book = load_master(master)
    assert [p.description for p in book.problems] == [LAND]
    assert {c.problem_id for c in book.problem_log} == {book.problems[0].id}


@pytest.mark.soffice
def test_a_master_last_saved_by_another_program_takes_a_merge(office, tmp_path: Path) -> None:
    """The office edits the master in Excel or WPS between merges: the file then has shared
    strings and that program's XML. A merge still lands every row, readable by both."""
    master, filled = office
    profile = (tmp_path / "profile").as_uri()
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(master)],
                   check=True, capture_output=True, timeout=180)
    shutil.copy(out / master.name, master)
    kept = records(master)
    result = merge_files(master, [filled], "2022-03")
    assert result.merged and result.written
    again = records(master)
    assert again["projects"] == kept["projects"] and again["units"] == kept["units"]
    assert again["ledger"][:3] == kept["ledger"]
    assert [e["period"] for e in again["ledger"][3:]] == ["2022-03"] * 4
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,"
                    "false,false,false,-1", "--outdir", str(tmp_path / "csv"), str(master)],
                   check=True, capture_output=True, timeout=180)
    ledger_csv = next((tmp_path / "csv").glob("*月报台帐*.csv")).read_text(encoding="utf-8")
    assert ledger_csv.count("2022-03") >= 4


@pytest.mark.parametrize("size", [1_000, 6_000_000, 21_000_000])
def test_a_part_deflated_in_pieces_is_one_stream(size: int) -> None:
    import io
    import random
    import zlib

    from zdxm_xl.books.package import _deflate

    words = [f'<row r="{n}"><c r="A{n}" s="3" t="inlineStr"><is><t>{n * 7919 % 10007}</t>'
             f"</is></c></row>".encode() for n in range(1, 2000)]
    rng = random.Random(size)
    data = b"".join(rng.choice(words) for _ in range(size // 60))[:size]
    packed, _pieces = _deflate(data)
    assert zlib.decompress(packed, -15) == data
    # and as a part of a zip, read back with its CRC checked
    written = _one_part(data)
    assert zipfile.ZipFile(io.BytesIO(written.data)).read("xl/worksheets/sheet1.xml") == data


def _rows_xml(first: int, count: int) -> bytes:
    return b"".join(b'<row r="%d"><c r="A%d" s="3" t="inlineStr"><is><t>%d</t></is></c></row>'
                    % (n, n, n * 7919 % 10007) for n in range(first, first + count))


def _sheet_xml(rows: int) -> tuple[bytes, int, int]:
    """A long sheet part, where its rows begin, and where they end."""
    head = b'<worksheet><dimension ref="A1:A%d"/><sheetData>' % (rows + 1)
    xml = head + _rows_xml(1, rows + 1) + b"</sheetData><pageMargins/></worksheet>"
    return xml, len(head), xml.rfind(b"</sheetData>")


def _one_part(data: bytes) -> Package:
    """A package of one part, ``data``, as ``Package.write`` writes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"")
    package = Package(buffer.getvalue())
    out = io.BytesIO()
    package.write(out, {"xl/worksheets/sheet1.xml": data})
    return Package(out.getvalue())


def test_rows_appended_to_a_long_part_keep_its_pieces_still_compressed() -> None:
    """The pieces a long part was deflated in are recorded with it; a save that keeps its
    rows and adds some copies the pieces within the rows kept, compressed as they were,
    and deflates only the rest — one stream, with the right checksum."""
    old, start, end = _sheet_xml(300_000)
    package = _one_part(old)
    info = package.infos["xl/worksheets/sheet1.xml"]
    pieces = _pieces_of(info)
    assert len(pieces) >= 3 and sum(size for size, _c in pieces) == len(old)
    assert package.part("xl/worksheets/sheet1.xml") == old
    head = b'<worksheet xml:space="default"><dimension ref="A1:A%d"/><sheetData>' % 300_012
    new = head + old[start:end] + _rows_xml(300_002, 10) + old[end:]
    out = io.BytesIO()
    package.write(out, {"xl/worksheets/sheet1.xml": new},
                  copied={"xl/worksheets/sheet1.xml": (start, end, len(head))})
    again = Package(out.getvalue())
    assert zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml") == new  # checksum checked
    kept = _pieces_of(again.infos["xl/worksheets/sheet1.xml"])
    middle_pieces = pieces[1:-1]  # the first holds the sheet's start, the last its end
    assert any(kept[n:n + len(middle_pieces)] == middle_pieces for n in range(len(kept)))
    raw_old, raw_new = (p._raw(p.infos["xl/worksheets/sheet1.xml"]) for p in (package, again))
    middle = sum(c for _s, c in pieces[:1]), sum(c for _s, c in pieces[:-1])
    assert raw_old[middle[0]:middle[1]] in raw_new


def test_pieces_said_to_be_kept_but_changed_are_deflated_anew() -> None:
    """A wrong account of what was kept (a bug) costs time, never the part: the checksum
    of what the kept pieces hold does not match, and the part is deflated whole."""
    old, start, end = _sheet_xml(300_000)
    package = _one_part(old)
    at = 2 * 2**20 + 5  # within the third piece: within the run said kept
    new = old[:at] + b"X" + old[at + 1:]
    out = io.BytesIO()
    package.write(out, {"xl/worksheets/sheet1.xml": new},
                  copied={"xl/worksheets/sheet1.xml": (start, end, start)})
    assert zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml") == new
    made = Package(out.getvalue())
    assert package._raw(package.infos["xl/worksheets/sheet1.xml"])[
        :sum(c for _s, c in _pieces_of(package.infos["xl/worksheets/sheet1.xml"])[:3])] \
        not in made._raw(made.infos["xl/worksheets/sheet1.xml"])


def test_reading_a_master_leaves_the_collector_as_it_was(office) -> None:
    import gc

    master, _filled = office
    assert gc.isenabled()
    load_master(master)
    store = FileStore(master)
    with store.session():
        store.save(store.load())
    assert gc.isenabled()
    gc.disable()
    try:
        load_master(master)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_rows_are_written_a_column_at_a_time_as_a_cell_at_a_time() -> None:
    """The rows' XML made a column at a time (each recurring text or date once) is the XML
    made cell by cell, whatever the columns hold: texts to escape, amounts, -0, a yes/no
    beside a 1, a date beside the same day's midnight, columns of mixed kinds, columns of
    numbers and empty cells only (spelled a column at a time), of empty cells only, and of
    texts and empty cells only (made a column at a time): plain, with spaces at either end
    (an ideographic one too), with characters to escape or to drop."""
    from zdxm_xl.books.package import _as_read, _body, _row, _rows

    rows = [
        ["文字", Decimal("0.1"), 3, 2.5, True, date(2022, 3, 1), datetime(2022, 3, 1, 8, 30, 15),
         None, " 前后空格 ", "a&b<c>\x01", None, None, 10**17, "项目 A", "\u3000全角空格"],
        ["文字", Decimal("12345678.99"), -0.0, 0.0, False, date(2022, 3, 1),
         datetime(2022, 3, 31, 23, 59, 59), "", "第二行\n", None, Decimal("-0"), None, -1e-7,
         None, "尾空格 "],
        ["混", 1, True, Decimal("1"), None, datetime(2022, 3, 1), date(2022, 3, 1), 7, "x", 1.5,
         Decimal("1E+3"), None, Decimal("123456789.123456789"), "", "<b>&\x02\r"],
    ]
    starts = [(f'<c r="{letter}', f'" s="{number}"')
              for number, letter in enumerate("ABCDEFGHIJKLMNO")]
    one_by_one = [_row(number, row, starts) for number, row in enumerate(rows, start=5)]
    assert _rows(rows, 5, starts) == one_by_one
    assert b"\x00" not in b"".join(one_by_one) and b'<c r="C6" s="2" t="n"><v>-0</v></c>' in one_by_one[1]
    assert _rows([*rows, rows[0][:4]], 5, starts)[:3] == one_by_one  # a short row: cell by cell
    # and each cell as python-calamine reads it back, made alongside, is as made alone
    xml, reading = _body(list(zip(*rows, strict=True)), 5, starts, reading=True)
    assert xml == one_by_one
    assert reading == [tuple(map(_as_read, row)) for row in rows]
    assert reading[0][1] == 0.1 and reading[1][2] == 0.0 and reading[0][4] is True
    assert b'<c r="K6" s="10" t="n"><v>-0</v></c>' in xml[1] and reading[1][10] == 0.0
    assert b'<c r="L7" s="11"/>' in xml[2] and reading[2][11] == ""
    assert '<c r="N5" s="13" t="inlineStr"><is><t>项目 A</t></is></c>'.encode() in xml[0]
    assert b'<c r="N7" s="13"/>' in xml[2] and reading[1][13] == "" and reading[2][13] == ""
    assert '<t xml:space="preserve">\u3000全角空格</t>'.encode() in xml[0]
    assert b'<t xml:space="preserve">&lt;b&gt;&amp;&#13;</t>' in xml[2] and reading[2][14] == "<b>&\r"
    # a column of amounts that recur, each distinct one spelled once: equal amounts of
    # other types alike, but each zero as its sign says
    amounts = [Decimal("2.50"), 2.5, Decimal("2.5"), Decimal("0"), Decimal("-0"), 0.0, -0.0,
               None, 3, Decimal("2.50"), -0.0]
    xml, reading = _body([amounts], 5, starts[:1], reading=True)
    assert xml == [_row(number, [value], starts[:1]) for number, value in enumerate(amounts, 5)]
    assert [row[0] for row in reading] == [_as_read(value) for value in amounts]
    assert [b"<v>-0</v>" in row for row in xml] == [False] * 4 + [True, False, True] + [False] * 3 + [True]


def test_a_tables_own_values_are_taken_a_column_at_a_time() -> None:
    """Each column of a table's records, their fields taken a record at a time: in the
    order asked for, one field alone as well, and ``None`` where a record lacks a field
    (then each is looked up alone)."""
    from zdxm_xl.core.tables import _own_columns

    rows = [{"a": 1, "b": "x", "c": None}, {"a": 2, "b": "y", "c": 3}]
    assert _own_columns(rows, ["b", "a"]) == {"b": ["x", "y"], "a": [1, 2]}
    assert _own_columns(rows, ["c"]) == {"c": [None, 3]}
    assert _own_columns([*rows, {"a": 3}], ["a", "b"]) == {"a": [1, 2, 3], "b": ["x", "y", None]}
    assert _own_columns([], ["a"]) == {"a": []} and _own_columns(rows, []) == {}


def test_garbage_made_in_pauses_is_collected_once_enough_was_set_aside() -> None:
    """What a pause leaves alive is set aside, not walked at its end. A later pause
    collects it first — but only once a quarter as much again as the last collection left
    has been set aside since: a pause after a small step walks nothing (each full walk of a
    long-lived process takes about 0.1 s), and the garbage kept meanwhile is bounded."""
    import gc
    import weakref

    from zdxm_xl.core import pauses
    from zdxm_xl.core.pauses import no_collection_pauses

    class Node:
        me: object = None

    def cycle() -> weakref.ref[Node]:
        node = Node()
        node.me = node
        return weakref.ref(node)

    kept: list[list[object]] = []

    def grown() -> None:
        """Inside a pause: enough new objects, alive when it ends, that the next pause
        collects (whatever this process set aside and collected before)."""
        enough = pauses._after_collection + pauses._after_collection // pauses.GROWTH
        kept.append([[] for _ in range(max(0, enough - gc.get_freeze_count()) + 100)])

    full: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    with no_collection_pauses():
        first = cycle()
        grown()
    with no_collection_pauses():  # collected first
        assert first() is None
        second = cycle()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.collect()
    assert second() is not None  # set aside, out of the collector's sight
    gc.callbacks.append(count)
    try:
        with no_collection_pauses():  # little set aside since: no full walk
            assert second() is not None
        assert not full
        with no_collection_pauses():
            grown()
        with no_collection_pauses():  # a quarter more set aside: collected when it begins
            assert second() is None
        assert full
    finally:
        gc.callbacks.remove(count)
    kept.clear()
    assert gc.isenabled()


def test_a_part_read_back_is_trusted_only_as_the_bytes_it_was_written_as() -> None:
    """Verifying a partial save takes a rewritten part back without inflating it again —
    but only when the file holds exactly the compressed bytes written; a part that differs
    on disk is read from the file, and its damage shows."""
    import io

    name = "xl/worksheets/sheet1.xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"<old/>")
        archive.writestr("xl/other.xml", b"<kept/>")
    package = Package(buffer.getvalue())
    xml = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 500))
    out = io.BytesIO()
    package.write(out, {name: xml})
    written = out.getvalue()

    again = package.read_back(written)
    assert again.part(name) is xml  # the very bytes written: not inflated again
    assert again.part("xl/other.xml") == b"<kept/>"

    packed = package.written[name].packed
    at = written.index(packed)
    damaged = bytearray(written)
    damaged[at + len(packed) // 2] ^= 0x55  # one byte of the stored part changed on disk
    from zdxm_xl.books.package import PackageLayoutError
    with pytest.raises(PackageLayoutError):
        package.read_back(bytes(damaged)).part(name)


@pytest.mark.parametrize("count", [3, 40])  # flushed one by one; the file system at once
def test_many_archive_copies_are_made_whole_and_leave_nothing_behind(tmp_path: Path,
                                                                     count: int) -> None:
    if count >= 16 and sys.platform.startswith("linux"):
        assert durable._syncfs() is not None  # the many are flushed together here
    sources, copies = tmp_path / "收件", []
    sources.mkdir()
    for number in range(count):
        source = sources / f"{number}.xlsx"
        source.write_bytes(bytes([number]) * (1000 + number))
        target = tmp_path / "归档" / "2022-03" / f"单位{number % 7}" / f"{number}.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        copies.append((source, target))
    safety.copy_files_durably(copies)
    assert all(target.read_bytes() == source.read_bytes() for source, target in copies)
    assert sorted(p.name for p in (tmp_path / "归档").rglob("*") if p.is_file()) == sorted(
        f"{number}.xlsx" for number in range(count))


def test_archive_copies_that_fail_leave_no_file_behind(tmp_path: Path) -> None:
    folder = tmp_path / "归档"
    folder.mkdir()
    copies = [(tmp_path / f"{n}.xlsx", folder / f"{n}.xlsx") for n in range(40)]
    for source, _target in copies[:-1]:
        source.write_bytes(b"PK")
    with pytest.raises(FileNotFoundError):  # the last one is missing
        safety.copy_files_durably(copies)
    assert list(folder.iterdir()) == []


def test_a_copy_whose_source_changed_is_not_made(tmp_path: Path) -> None:
    """Each copy is of the bytes checked: a source whose SHA-256 is no longer the one given
    stops them all, and leaves no file behind."""
    folder = tmp_path / "归档"
    folder.mkdir()
    copies, digests = [], []
    for number in range(3):
        source = tmp_path / f"{number}.xlsx"
        source.write_bytes(b"PK" * (number + 1))
        copies.append((source, folder / source.name))
        digests.append(hashlib.sha256(source.read_bytes()).hexdigest())
    copies[1][0].write_bytes(b"changed")
    with pytest.raises(durable.SourceChanged) as raised:
        durable.copy_files_durably(copies, digests)
    assert raised.value.filename == str(copies[1][0])
    assert list(folder.iterdir()) == []


def files_to_archive(folder: Path, count: int) -> list[tuple[Path, Path]]:
    """``count`` small files in ``folder``/收件, each with where its archive copy goes (a
    folder of its own in ``folder``/归档)."""
    sources = folder / "收件"
    sources.mkdir()
    copies = []
    for number in range(count):
        source = sources / f"{number}.xlsx"
        source.write_bytes(bytes([number]) * 100)
        copies.append((source, folder / "归档" / f"单位{number}" / f"{number}.xlsx"))
    return copies


@pytest.mark.parametrize("helper", [sys.executable, "/nonexistent/python", "/bin/true"])
def test_copies_begun_in_a_helper_are_made_whatever_becomes_of_it(
        tmp_path: Path, monkeypatch, helper: str) -> None:  # noqa: ANN001
    """Many copies are made by a helper process; when none can be started, or it ends
    without a word, they are made here — the same copies either way."""
    monkeypatch.setattr(durable, "HELPER_FROM", 1)
    monkeypatch.setattr(sys, "executable", helper)
    copies = files_to_archive(tmp_path, 5)
    digests = [hashlib.sha256(source.read_bytes()).hexdigest() for source, _ in copies]
    copying = durable.DurableCopies(copies, digests)
    copying.wait()
    assert all(target.read_bytes() == source.read_bytes() for source, target in copies)
    assert not list(tmp_path.rglob(".~zdxm*"))
    copying.wait()  # nothing left to do


@pytest.mark.parametrize("helper", ["python", "/bin/true"])
def test_a_request_more_than_a_pipe_holds_reaches_the_helper(
        tmp_path: Path, monkeypatch, helper: str) -> None:  # noqa: ANN001
    """A thousand returns' copies are asked for in more bytes than a pipe holds: they are
    handed to the helper without waiting for it to read them all, and it gets all of them
    (one that ends without reading them holds nothing up: they are made here)."""
    monkeypatch.setattr(durable, "HELPER_FROM", 1)
    sources = tmp_path / "收件"
    sources.mkdir()
    copies = []
    for number in range(300):
        source = sources / f"{number:04d}-{'某单位重大项目月报表' * 4}.xlsx"
        source.write_bytes(number.to_bytes(2, "big"))
        copies.append((source, tmp_path / "归档" / "2022-03" / f"{'某单位' * 10}{number % 9}"
                       / source.name))
    assert len(json.dumps([[str(s), str(t)] for s, t in copies]).encode()) > 2 * 65_536
    go, gave_up = tmp_path / "go", tmp_path / "gave-up"
    if helper == "python":  # a helper that reads nothing before it is told to go
        helper = str(tmp_path / "waiting-python")
        Path(helper).write_text(f"#!/bin/sh\nfor i in $(seq 1000); do [ -e '{go}' ] && exec "
                                f"'{sys.executable}' \"$@\"; sleep 0.01; done\n"
                                f"touch '{gave_up}'\n")
        Path(helper).chmod(0o755)
    monkeypatch.setattr(sys, "executable", helper)
    copying = durable.DurableCopies(copies)  # told to go only once this is done
    go.touch()
    copying.wait()
    assert not gave_up.exists()
    assert all(target.read_bytes() == source.read_bytes() for source, target in copies)
    assert not list(tmp_path.rglob(".~zdxm*"))


def test_a_few_copies_are_made_while_the_caller_goes_on_and_fail_as_here(
        tmp_path: Path) -> None:
    """Fewer copies than a helper is started for are made by a thread, begun when asked
    for: they are there before ``wait`` is called (a merge writes its master meanwhile). A
    copy that fails there fails ``wait`` as it would here, and a second ``wait`` makes the
    copies again."""
    import time

    copies = files_to_archive(tmp_path, 3)
    assert len(copies) < durable.HELPER_FROM
    copying = durable.DurableCopies(copies)
    deadline = time.monotonic() + 30
    while not all(target.exists() for _source, target in copies) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(target.read_bytes() == source.read_bytes() for source, target in copies)
    copying.wait()
    assert not list(tmp_path.rglob(".~zdxm*"))

    gone = [(tmp_path / "收件" / "不在了.xlsx", tmp_path / "归档" / "单位9" / "9.xlsx")]
    failing = durable.DurableCopies(gone)
    with pytest.raises(FileNotFoundError) as raised:
        failing.wait()
    assert raised.value.filename == str(gone[0][0])
    assert not (tmp_path / "归档" / "单位9" / "9.xlsx").exists()
    gone[0][0].write_bytes(b"back")
    failing.wait()
    assert gone[0][1].read_bytes() == b"back"
    failing.close()  # nothing left to wait for


def test_a_helper_s_failure_is_said_as_here(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(durable, "HELPER_FROM", 1)
    copies = [(tmp_path / "不在了.xlsx", tmp_path / "归档" / "a.xlsx")]
    copying = durable.DurableCopies(copies)
    with pytest.raises(FileNotFoundError) as raised:
        copying.wait()
    assert raised.value.filename == str(copies[0][0])


@pytest.mark.parametrize("in_part", [True, False])
def test_a_master_is_kept_only_once_what_it_waits_for_is_done(office, in_part: bool) -> None:
    """``save``'s ``ready`` (a merge's archive copies) is done while the new master is
    written: once, before the new master is kept — and when it fails, the old one stays."""
    master, _filled = office
    before, rows = master.read_bytes(), len(load_master(master).ledger)
    calls: list[str] = []

    def save(ready: Callable[[], object]) -> None:
        store = FileStore(master)
        with store.session() if in_part else contextlib.nullcontext():
            book = store.load()
            book.ledger.append(LedgerEntry(period="2022-03", project_id=book.projects[0].id))
            store.save(book, ready)

    def fail() -> None:
        calls.append("failed")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        save(fail)
    assert calls == ["failed"]
    assert master.read_bytes() == before
    assert not [p for p in master.parent.iterdir() if p.name.startswith(".~zdxm")]
    save(lambda: calls.append("done"))
    assert calls == ["failed", "done"]
    assert len(load_master(master).ledger) == rows + 1


def test_a_copy_over_a_file_keeps_its_mode_and_a_killed_run_s_temporary_file_is_no_bar(
        tmp_path: Path) -> None:
    source, target = tmp_path / "新.xlsx", tmp_path / "归档" / "旧.xlsx"
    source.write_bytes(b"new")
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o640)
    # what a run with this process's number, killed while copying, would have left
    stale = target.parent / f".~zdxm-{os.getpid()}-0-{target.name}"
    stale.write_bytes(b"half")
    safety.copy_files_durably([(source, target)])
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([stale.name, target.name])


@pytest.mark.slow
@pytest.mark.soffice
def test_a_ledger_kept_in_pieces_reads_in_libreoffice_after_merges(tmp_path: Path) -> None:
    """A ledger long enough to be deflated in pieces, merged into twice — the second time
    copying its pieces still compressed — is read whole by LibreOffice and by a load."""
    book = checking_master()
    earlier = book.ledger[0]
    book.ledger.extend(earlier.model_copy(update={"period": "2022-01", "progress": f"第{n}段"})
                       for n in range(12_000))
    master = tmp_path / "台账.xlsx"
    create_master(master, 2022, book)
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    form = tmp_path / "模板" / form_name("2022-03", UNIT)
    first = fill_form(form, tmp_path / "收件" / "交通.xlsx", seed=1).path
    assert merge_files(master, [first], "2022-03").merged
    part = Package(master.read_bytes())
    ledger_part = part.sheets()["月报台帐"].sheet
    before = _pieces_of(part.infos[ledger_part])
    assert len(before) >= 3
    again = fill_form(form, tmp_path / "收件" / "交通更正.xlsx", seed=2).path
    assert merge_files(master, [again], "2022-03").replaced
    after = Package(master.read_bytes())
    assert before[1:-2] == _pieces_of(after.infos[ledger_part])[1:len(before) - 2]
    ours = load_master(master).ledger
    assert len(ours) == 12_003 + 4
    read = openpyxl.load_workbook(saved_by_libreoffice(master, tmp_path, 300), read_only=True)
    rows = list(read["月报台帐"].iter_rows(values_only=True))
    read.close()
    assert len(rows) == 1 + len(ours)
    assert [row[11] for row in rows[1:12_004]] == [e.progress for e in ours][:12_003]
    assert [row[1] for row in rows[-4:]] == [e.project_id for e in ours][-4:]
