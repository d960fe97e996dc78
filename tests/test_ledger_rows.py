"""月报台帐's rows are decoded when first needed: a merge decodes the rows of its return's
projects, a report all of them; a row that cannot be read is named, sheet, row and column,
by whatever first needs it, and a row never decoded is kept as it is in the file."""

from __future__ import annotations

import pickle
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from checking_office import UNIT, build_master, checking_master
from conftest import run_zdxm
from zdxm_xl.books import filebook, masterio
from zdxm_xl.books.filebook import KeyedRows, _read_keys
from zdxm_xl.books.masterio import FileStore, create_master, load_master
from zdxm_xl.core.errors import MasterError
from zdxm_xl.core.ledger import KEY_TITLES, Ledger
from zdxm_xl.core.models import LedgerEntry
from zdxm_xl.core.returns import last_reported, previous_figures
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.forms import form_name

OTHER = "市工业和信息化局"  # leads ZD2022-0005, not in 市交通运输局's return


def _ledger_cell(path: Path, project_id: str, title: str, value: object) -> int:
    """Type ``value`` into the 月报台帐 cell of ``project_id``'s row under ``title``, as by
    hand in Excel; the row's number."""
    book = openpyxl.load_workbook(path)
    sheet = book["月报台帐"]
    titles = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[titles.index("项目编号")].value == project_id:
            row[titles.index(title)].value = value
            book.save(path)
            return row[0].row
    raise AssertionError(project_id)


def _add_row(path: Path, entry: LedgerEntry) -> None:
    store = FileStore(path)
    with store.session():
        master = store.load()
        master.ledger.append(entry)
        store.save(master)


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, Path]:
    """The checking office's master with a February row of another unit's project, and
    市交通运输局's March return."""
    master = build_master(tmp_path / "台账.xlsx")
    _add_row(master, LedgerEntry(period="2022-02", project_id="ZD2022-0005", unit=OTHER,
                                 month_completed=100, year_completed=100, total_completed=1100))
    make_forms(master, "2022-03", tmp_path / "模板", issued=datetime(2022, 3, 25))
    return master, fill_form(tmp_path / "模板" / form_name("2022-03", UNIT),
                             tmp_path / "收件" / "交通.xlsx", seed=1).path


def test_a_bad_row_of_another_units_project_does_not_stop_a_merge(office) -> None:
    """The merge decodes the rows of its return's projects only; the row it never read is
    kept as it was typed, and the first command that reads every row names it."""
    master, filled = office
    number = _ledger_cell(master, "ZD2022-0005", "本月完成投资（万元）", "约100")
    merged = run_zdxm("merge", master, filled, "--period", "2022-03")
    assert merged.code == 0, merged.stderr
    sheet = openpyxl.load_workbook(master)["月报台帐"]
    assert [c.value for c in sheet[number]].count("约100") == 1
    assert sum(1 for row in sheet.iter_rows(min_row=2, values_only=True)
               if row[1] and row[0] == "2022-03") == 4
    assess = run_zdxm("assess", master, "--from", "2022-01", "--to", "2022-03")
    assert assess.code != 0
    assert f"工作表“月报台帐”第{number}行“本月完成投资（万元）”" in assess.stderr + assess.stdout
    assert "Traceback" not in assess.stderr


def test_a_bad_row_of_the_returns_own_project_stops_the_merge_and_says_where(office) -> None:
    master, filled = office
    number = _ledger_cell(master, "ZD2022-0002", "本年累计完成投资（万元）", "两千五")
    before = master.read_bytes()
    merged = run_zdxm("merge", master, filled, "--period", "2022-03")
    assert merged.code != 0
    assert f"工作表“月报台帐”第{number}行“本年累计完成投资（万元）”" in merged.stderr + merged.stdout
    assert "Traceback" not in merged.stderr
    assert master.read_bytes() == before


def test_a_row_whose_key_cannot_be_read_is_refused_when_the_master_is_read(office) -> None:
    """A row's 报告期 and 项目编号 are read with the master, as every other table's cells."""
    master, _filled = office
    number = _ledger_cell(master, "ZD2022-0005", "报告期", "二月")
    with pytest.raises(MasterError, match=f"工作表“月报台帐”第{number}行“报告期”"):
        load_master(master)


def test_only_the_rows_asked_for_are_decoded(office) -> None:
    master, _filled = office
    ledger = load_master(master).ledger
    rows = ledger._items
    assert len(ledger) == 4 and all(row.entry is None for row in rows)  # type: ignore[union-attr]
    assert ledger.key(3) == ("2022-02", OTHER, "ZD2022-0005")
    book = load_master(master)
    two = [p for p in book.projects if p.id == "ZD2022-0002"]
    assert previous_figures(book, "2022-03", two) == {"ZD2022-0002": (2500, 32500)}
    assert set(last_reported(book, "2022-03", two)) == {"ZD2022-0002"}
    decoded = [row.entry is not None for row in book.ledger._items]  # type: ignore[union-attr]
    assert decoded == [False, True, False, False]
    # the same figures as from every row decoded
    assert previous_figures(book, "2022-03") == previous_figures(load_master(master),
                                                                 "2022-03")
    assert [e.project_id for e in ledger] == ["ZD2022-0001", "ZD2022-0002", "ZD2022-0003",
                                             "ZD2022-0005"]


def test_a_row_changed_after_decoding_is_saved_one_decoded_alone_is_not(office) -> None:
    master, _filled = office
    store = FileStore(master)
    with store.session():
        book = store.load()
        assert book.ledger[1].project_id == "ZD2022-0002"  # decoded, not changed
        store.save(book)
    assert load_master(master).ledger[1].progress is None
    with store.session():
        book = store.load()
        book.ledger[1].progress = "主体结构施工"  # changed where it is
        store.save(book)
    again = load_master(master)
    assert [e.progress for e in again.ledger] == [None, "主体结构施工", None, None]


def test_a_master_read_travels_pickled_with_its_ledger(office) -> None:
    """Writers get the master pickled: its rows not yet decoded go with it, and decode."""
    master, _filled = office
    book = load_master(master)
    book.ledger[0]  # one decoded before it travels
    travelled = pickle.loads(pickle.dumps(book))
    assert travelled.ledger == load_master(master).ledger


def test_a_ledger_is_a_list_of_records_to_whoever_uses_it() -> None:
    entries = [LedgerEntry(period="2022-01", project_id=f"ZD2022-000{n}") for n in (1, 2, 3)]
    ledger = Ledger(entries)
    ledger.append(LedgerEntry(period="2022-02", project_id="ZD2022-0001"))
    assert ledger.positions("ZD2022-0001") == [0, 3]
    del ledger[1]
    assert ledger.positions("ZD2022-0001") == [0, 2]
    assert ledger == [entries[0], entries[2], ledger[-1]] and ledger.pop().period == "2022-02"
    ledger.drop([0])
    assert ledger == [entries[2]] and ledger[0:1] == [entries[2]]
    with pytest.raises(TypeError):
        ledger.append("2022-03")  # type: ignore[arg-type]


# ---- a ledger read for its keys first (a merge) ----------------------------------------

def _keyed(path: Path) -> KeyedRows | None:
    return _read_keys(path.read_bytes(), "月报台帐", KEY_TITLES)


def test_rows_read_whole_when_asked_are_the_rows_a_whole_reading_gives(office) -> None:
    """Numbers, dates, text, empty cells: row for row what python-calamine reads from the
    whole sheet, in whatever order they are asked for."""
    master, filled = office
    assert merge_files(master, [filled], "2022-03").merged
    keyed = _keyed(master)
    assert keyed is not None and keyed.numbers == list(range(2, 10))
    grid = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("月报台帐").to_python(
        skip_empty_area=False)
    assert keyed.header == grid[0]
    assert keyed.whole(keyed.numbers) == grid[1:]
    assert keyed.whole([9, 2]) == [grid[8], grid[1]]
    assert [k for k in keyed.keys] == [(row[0], row[1], row[3]) for row in grid[1:]]


def test_a_merge_reading_keys_first_leaves_the_master_a_whole_reading_would(
        office, tmp_path: Path, monkeypatch) -> None:
    master, filled = office
    twin = tmp_path / "twin.xlsx"
    shutil.copy(master, twin)
    merge_files(master, [filled], "2022-03", now=datetime(2022, 4, 3, 9))

    def not_by_keys(*args: object, **kwargs: object) -> None:
        raise AssertionError("the twin is to be read whole")

    monkeypatch.setattr(filebook, "_read_keys", not_by_keys)
    store = FileStore(twin)  # a store given is used as it is set up: read whole
    merge_files(store, [filled], "2022-03", now=datetime(2022, 4, 3, 9))
    monkeypatch.undo()
    one, other = load_master(master), load_master(twin)
    assert list(one.ledger) == list(other.ledger) and len(one.ledger) == 8
    assert one.submissions == other.submissions


@pytest.mark.parametrize(("change", "why"), [
    ((3, "A", 202203), "a 报告期 typed as a number"),
    ((3, "D", "  市交通运输局"), "text with kept spaces"),
    ((3, "B", "ZD2022_x0041_"), "an escaped character"),
])
def test_a_sheet_not_as_zdxm_writes_it_is_read_whole(office, change, why) -> None:
    master, _filled = office
    row, column, value = change
    book = openpyxl.load_workbook(master)
    book["月报台帐"][f"{column}{row}"] = value
    book.save(master)
    assert _keyed(master) is None, why


def test_keys_are_read_as_text_reads(office) -> None:
    master, _filled = office
    book = openpyxl.load_workbook(master)
    book["月报台帐"]["D3"] = "市住房&城乡建设局<一处>"
    book.save(master)
    keyed = _keyed(master)
    assert keyed is not None and keyed.keys[1][2] == "市住房&城乡建设局<一处>"


def test_a_row_left_out_or_a_cell_beyond_the_table_means_a_whole_reading(office) -> None:
    master, _filled = office
    book = openpyxl.load_workbook(master)
    book["月报台帐"].insert_rows(3)
    book.save(master)
    assert _keyed(master) is None
    book = openpyxl.load_workbook(master)
    book["月报台帐"].delete_rows(3)
    book["月报台帐"]["AD2"] = "备注"
    book.save(master)
    assert _keyed(master) is None


def test_a_bad_key_found_by_a_merge_is_named(office) -> None:
    """A 报告期 typed as a number: the merge reads the sheet whole, which names the row."""
    master, filled = office
    number = _ledger_cell(master, "ZD2022-0005", "报告期", "2022年13月")
    merged = run_zdxm("merge", master, filled, "--period", "2022-03")
    assert merged.code != 0
    assert f"工作表“月报台帐”第{number}行“报告期”" in merged.stderr + merged.stdout
    assert "Traceback" not in merged.stderr


def test_a_merge_saves_from_the_file_as_its_load_read_it(office, monkeypatch) -> None:
    """The save starts from the package the keys were read from (its ledger inflated
    already), not from the file read and inflated again — unless the file changed."""
    master, filled = office
    made: list[int] = []

    class Counted(masterio.Package):
        def __init__(self, data: bytes, **kwargs: object) -> None:
            made.append(len(data))
            super().__init__(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(masterio, "Package", Counted)
    assert merge_files(master, [filled], "2022-03").merged
    assert made == []
    assert len(load_master(master).ledger) == 8


def test_a_master_without_ledger_rows_is_merged_into_in_part(tmp_path: Path,
                                                             monkeypatch) -> None:
    """The empty row an empty ledger keeps is not a row of the table: the first merge of
    the year writes only what changed, as a reading of the whole sheet would let it."""
    book = checking_master()
    book.ledger = []
    master = tmp_path / "台账.xlsx"
    create_master(master, 2022, book)
    assert _keyed(master) is not None
    make_forms(master, "2022-02", tmp_path / "模板", issued=datetime(2022, 2, 25))
    filled = fill_form(tmp_path / "模板" / form_name("2022-02", UNIT),
                       tmp_path / "收件" / "交通.xlsx", seed=1).path

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole master was written")

    monkeypatch.setattr(masterio, "save_master", whole)
    assert merge_files(master, [filled], "2022-02").merged
    assert [e.period for e in load_master(master).ledger] == ["2022-02"] * 4


def test_validation_reads_the_ledger_by_its_keys_and_names_no_other_units_bad_row(
        office, monkeypatch) -> None:
    """Checking a return needs the ledger rows of its projects only: ``zdxm validate``
    reads the rows' keys with the master, as a merge does, and another unit's bad row
    neither stops it nor is blamed on the return."""
    master, filled = office
    keyed: list[bool] = []

    def spied(*args: object, **kwargs: object) -> KeyedRows | None:
        found = _read_keys(*args, **kwargs)  # type: ignore[arg-type]
        keyed.append(found is not None)
        return found

    monkeypatch.setattr(filebook, "_read_keys", spied)
    checked = run_zdxm("validate", master, filled, "--period", "2022-03")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert keyed == [True]
    # a bad cell in another unit's row: the sheet is then read whole, decoded in part
    _ledger_cell(master, "ZD2022-0005", "本月完成投资（万元）", "约100")
    again = run_zdxm("validate", master, filled, "--period", "2022-03")
    assert again.code == 0, again.stdout + again.stderr
    assert "月报台帐" not in again.stdout + again.stderr


def test_a_ledger_rows_plan_columns_come_from_the_plan_and_stay_empty_without_it(
        tmp_path: Path) -> None:
    """月报台帐's 阶段, 行业分类, 县区 and 年度计划投资 are the plan's, written on every save
    (a column at a time); a row of a project no longer in the plan leaves them empty."""
    master = checking_master()
    master.ledger.append(LedgerEntry(period="2022-02", unit=UNIT, project_id="ZD2022-0099",
                                     month_completed=Decimal(1), source_sha256="0" * 64))
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, master)
    sheet = openpyxl.load_workbook(path, read_only=True)["月报台帐"]
    header, *rows = sheet.iter_rows(values_only=True)
    by_project = {row[header.index("项目编号")]: row for row in rows}
    plan_columns = [next(n for n, title in enumerate(header) if title.startswith(wanted))
                    for wanted in ("阶段", "行业分类", "县区", "年度计划投资")]
    planned = master.project("ZD2022-0002")
    assert [by_project["ZD2022-0002"][i] for i in plan_columns] == [
        planned.stage, planned.sector, planned.county, float(planned.annual_plan)]
    assert [by_project["ZD2022-0099"][i] for i in plan_columns] == [None] * 4
