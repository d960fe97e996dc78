from __future__ import annotations

import os
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conftest import small_master
from zdxm_xl.books.masterio import create_master, load_master, save_master
from zdxm_xl.core.errors import MasterBusyError, MasterError
from zdxm_xl.core.registry import IMPLEMENTATION, LEDGER, MASTER_TABLES, PREPARATORY, SUMMARY
from zdxm_xl.plan import exit_project


def test_defusedxml_guards_openpyxl_against_xml_bombs() -> None:
    # openpyxl refuses entity expansion only when defusedxml is importable.
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_init_creates_every_sheet_as_a_real_table(master_path: Path) -> None:
    book = openpyxl.load_workbook(master_path)
    assert book.sheetnames == ["设置", "实施项目", "预备项目", "责任单位", "月报台帐", "报送记录",
                               "变更记录", "邮件记录", "发件箱", "问题台帐", "问题办理记录", "汇总",
                               "系统"]
    for spec in MASTER_TABLES:
        sheet = book[spec.sheet]
        assert spec.table in sheet.tables, spec.sheet
        assert [c.value for c in sheet[1]][: len(spec.columns)] == list(spec.titles)
        assert sheet.freeze_panes.endswith("2")  # the header row stays in view
    assert book["系统"].sheet_state == "veryHidden"
    assert set(book["设置"].tables) == {"Settings", "Counties", "AllowedSenders", "CheckRules"}


def test_money_columns_are_formatted_and_dropdowns_present(master_path: Path) -> None:
    sheet = openpyxl.load_workbook(master_path)["实施项目"]
    titles = [c.value for c in sheet[1]]
    total = titles.index("总投资（万元）") + 1
    assert sheet.cell(row=2, column=total).number_format == "#,##0.00"
    lists = {v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"}
    assert '"新开工,续建,竣工"' in lists
    assert '"基础设施,产业发展,民生保障,生态环保"' in lists
    assert '"在库,已退出"' in lists
    assert "CountyList" in lists
    book = openpyxl.load_workbook(master_path)
    assert "CountyList" in book.defined_names


def test_master_round_trips_every_record(master_path: Path) -> None:
    original = small_master()
    again = load_master(master_path)
    assert [p.model_dump() for p in again.projects] == [p.model_dump() for p in original.projects]
    assert [u.model_dump() for u in again.units] == [u.model_dump() for u in original.units]
    assert again.settings.model_dump() == original.settings.model_dump()
    assert again.implementation[0].total_investment == Decimal("10000.50")


def test_the_secret_key_stays_in_the_master_only(master_path: Path, tmp_path: Path) -> None:
    master = load_master(master_path)
    assert len(master.secret) == 64
    visible = openpyxl.load_workbook(master_path)
    for sheet in visible.worksheets:
        if sheet.sheet_state == "visible":
            assert all(master.secret not in str(c.value) for row in sheet.iter_rows() for c in row)


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    master = small_master()
    master.projects[0].name = '=HYPERLINK("http://evil","点我")'
    path = tmp_path / "m.xlsx"
    create_master(path, 2022, master)
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(n) for n in names)
    assert load_master(path).projects[0].name.startswith("=HYPERLINK")


def test_blank_ids_are_assigned_and_kept_after_saving(master_path: Path) -> None:
    book = openpyxl.load_workbook(master_path)
    book["实施项目"]["A3"] = None
    book["实施项目"]["A4"] = None
    book.save(master_path)
    master = load_master(master_path)
    assert master.ids_assigned
    assigned = [master.implementation[1].id, master.implementation[2].id]
    assert assigned == ["ZD2022-0005", "ZD2022-0006"]  # each its own, after the highest
    save_master(master, master_path)
    again = load_master(master_path)
    assert [again.implementation[1].id, again.implementation[2].id] == assigned


def test_a_project_id_typed_twice_is_refused_by_name(master_path: Path) -> None:
    book = openpyxl.load_workbook(master_path)
    book["实施项目"]["A3"] = book["实施项目"]["A2"].value
    book.save(master_path)
    with pytest.raises(MasterError, match="项目编号“ZD2022-0001”重复"):
        load_master(master_path)


def test_a_hand_typed_bad_value_is_named_by_sheet_row_and_column(master_path: Path) -> None:
    book = openpyxl.load_workbook(master_path)
    titles = [c.value for c in book["实施项目"][1]]
    book["实施项目"].cell(row=3, column=titles.index("总投资（万元）") + 1, value="约500")
    book.save(master_path)
    with pytest.raises(MasterError, match="工作表“实施项目”第3行“总投资（万元）”：不是数字"):
        load_master(master_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "不是 Excel 工作簿"), (b"not a workbook", "不是 Excel 工作簿")],
)
def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path, content: bytes,
                                                  message: str) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(MasterError, match=message):
        load_master(path)


def test_a_workbook_that_is_not_a_master_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "别的表.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(MasterError, match="不是 zdxm 台账"):
        load_master(path)


def test_init_never_overwrites(master_path: Path) -> None:
    before = master_path.read_bytes()
    with pytest.raises(MasterError, match="已存在"):
        create_master(master_path, 2022)
    assert master_path.read_bytes() == before


@pytest.mark.parametrize("marker", ["~${name}", ".~lock.{name}#"])
def test_a_master_open_in_excel_or_libreoffice_is_not_written(master_path: Path,
                                                              marker: str) -> None:
    (master_path.parent / marker.format(name=master_path.name)).write_text("someone")
    before = master_path.read_bytes()
    with pytest.raises(MasterBusyError, match="正在 Excel、WPS 或 LibreOffice 中打开"):
        save_master(load_master(master_path), master_path)
    assert master_path.read_bytes() == before


def test_a_failed_write_leaves_the_old_master_and_no_temp_file(master_path: Path,
                                                               monkeypatch) -> None:
    before = master_path.read_bytes()
    master = load_master(master_path)
    master.projects.pop()

    def broken_save(self, filename):  # noqa: ANN001 - the signature of Workbook.save
        if hasattr(filename, "write"):  # the sheets are laid out in memory first
            filename.write(b"half a file")
        else:
            Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError):
        save_master(master, master_path)
    assert master_path.read_bytes() == before
    assert sorted(os.listdir(master_path.parent)) == [master_path.name, "备份"]
    assert not any(name.startswith(".~zdxm") for name in os.listdir(master_path.parent / "备份"))


def test_registry_sheets_have_unique_headers_and_fields() -> None:
    for spec in (*MASTER_TABLES, IMPLEMENTATION, PREPARATORY, LEDGER):
        assert len(set(spec.titles)) == len(spec.titles), spec.sheet
        assert len(set(spec.fields)) == len(spec.fields), spec.sheet


def test_a_sheet_the_office_added_survives_a_write(master_path: Path) -> None:
    book = openpyxl.load_workbook(master_path)
    book.create_sheet("领导批示")["A1"] = "请各单位抓紧推进"
    book.save(master_path)
    master = load_master(master_path)
    master.projects.pop()
    save_master(master, master_path)
    again = openpyxl.load_workbook(master_path)
    assert again["领导批示"]["A1"].value == "请各单位抓紧推进"
    assert len(load_master(master_path).projects) == 3


def test_a_rewritten_master_has_a_current_summary(master_path: Path) -> None:
    master = load_master(master_path)
    master.projects.pop(0)
    save_master(master, master_path)
    sheet = openpyxl.load_workbook(master_path)["汇总"]
    assert [c.value for c in sheet[2]][:3] == ["实施项目合计", "合计", 2]


def summary_sheet_of(path: Path) -> tuple[list[list[object]], str]:
    """The 汇总 table's rows and the words beside them, as a reader of the file sees them."""
    ws = openpyxl.load_workbook(path)["汇总"]
    rows = [[c.value for c in row][:len(SUMMARY.columns)] for row in ws.iter_rows(min_row=2)]
    return [r for r in rows if any(v is not None for v in r)], ws.cell(1, len(SUMMARY.columns) + 2).value


def test_the_summary_is_the_same_through_any_path(tmp_path: Path) -> None:
    """汇总 is derived in one place: a plan change saved through a plain file, a file with a
    sheet the office added, or an operation, gives the same table and words, with the
    年初/调整后 comparison."""
    plain, theirs = tmp_path / "甲" / "台账.xlsx", tmp_path / "乙" / "台账.xlsx"
    for path in (plain, theirs):
        path.parent.mkdir()
        create_master(path, 2022, small_master())
    book = openpyxl.load_workbook(theirs)
    book.create_sheet("办公室备注")["A1"] = "我们自己的表"
    book.save(theirs)
    for path in (plain, theirs):
        exit_project(path, "ZD2022-0002", "2022-05-20", "产业政策调整")
    by_hand = tmp_path / "丙" / "台账.xlsx"
    by_hand.parent.mkdir()
    create_master(by_hand, 2022, small_master())
    master = load_master(plain)
    save_master(master, by_hand)  # a save of the same master, not through the operation
    expected = summary_sheet_of(plain)
    assert summary_sheet_of(theirs) == expected == summary_sheet_of(by_hand)
    rows, words = expected
    assert rows[0][:3] == ["实施项目合计", "合计", 2] and rows[0][5] == 3  # 调整后 2, 年初 3
    assert "年初计划与调整后对比" in words and "ZD2022-0002" in words
    assert openpyxl.load_workbook(theirs).sheetnames[-3:] == ["办公室备注", "汇总", "系统"]


def test_sheets_read_ahead_are_the_sheets_read_in_turn(tmp_path: Path) -> None:
    from checking_office import build_master
    from zdxm_xl.books.filebook import FileGateway

    path = build_master(tmp_path / "台账.xlsx")  # February in its ledger
    ahead, plain = FileGateway(path), FileGateway(path)
    ahead.read_ahead([LEDGER.sheet, "报送记录", "没有这张表"])
    for sheet in (IMPLEMENTATION.sheet, LEDGER.sheet, "报送记录"):
        assert ahead.read_table(sheet) == plain.read_table(sheet)
    assert ahead.shapes == plain.shapes and len(ahead.read_table(LEDGER.sheet).rows) == 3


def test_a_master_replaced_while_it_is_read_is_read_as_it_was(tmp_path: Path) -> None:
    from checking_office import build_master
    from zdxm_xl.books.filebook import FileGateway

    path = build_master(tmp_path / "台账.xlsx")  # February in its ledger
    before = FileGateway(path).read_table(LEDGER.sheet)
    gateway = FileGateway(path)
    gateway.sheet_names()  # opened
    other = tmp_path / "另一本.xlsx"
    create_master(other, 2022, small_master())  # no ledger rows
    os.replace(other, path)  # as a save by another command would
    gateway.read_ahead([LEDGER.sheet])
    assert gateway.read_table(LEDGER.sheet) == before and len(before.rows) == 3


def test_a_sheet_that_cannot_be_read_ahead_is_read_in_turn(tmp_path: Path) -> None:
    from zdxm_xl.books.filebook import FileGateway

    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    expected = FileGateway(path).read_table(LEDGER.sheet)
    gateway = FileGateway(path)
    gateway.sheet_names()  # the workbook is open
    path.unlink()  # the thread's own reader finds nothing
    gateway.read_ahead([LEDGER.sheet])
    assert gateway.read_table(LEDGER.sheet) == expected
