"""What the office prints: the 简报 read in four pages with its 附件 after, tables whose
numbers never wrap, the 版记 at the foot of the last page; the 通报 and the 台账 laid out
for paper. Rendered with LibreOffice and read back with pdftotext, as a reader would."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from docx.text.run import Run

from conftest import run_zdxm, small_master
from rendering import (
    TYPE_AREA_BOTTOM_PT,
    body_pages,
    pages,
    render,
    split_numbers,
    table_numbers,
    words,
)
from scale import scaled_master
from zdxm_xl.books.masterio import create_master, load_master, save_master
from zdxm_xl.bulletin import make_bulletin
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.models import AttachmentPlacement
from zdxm_xl.core.registry import LEDGER, MASTER_TABLES, SUMMARY_SHEET
from zdxm_xl.reports.pdf import FONT_CHAINS, font_config
from zdxm_xl.reports.progress import compute_progress
from zdxm_xl.reports.tablefit import fit_tables, text_width
from zdxm_xl.reports.xltemplate import fill_workbook

BODY_PAGES = 4  # a leader reads two to four pages


@pytest.fixture(scope="module")
def march(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The sample's size (668 实施 projects, 56 units) with three months of returns: the
    March 简报 and 通报, and the 简报's PDF."""
    folder = tmp_path_factory.mktemp("march")
    master = scaled_master(projects=668, units=56)
    made = make_bulletin(MemoryStore(master, folder), "2022-03", folder, pdf=True,
                         issued=date(2022, 4, 8))
    if made.pdf is None:
        pytest.skip(made.pdf_problem or "no PDF")
    return made.docx, made.xlsx, made.pdf


def _closing(pdf: Path) -> list:
    return [w for w in words(pdf) if "印发" in w.text]


# ---- the 简报 ------------------------------------------------------------------------------

@pytest.mark.soffice
def test_the_march_bulletin_reads_in_four_pages_with_its_attachments_after(
        march: tuple[Path, Path, Path]) -> None:
    docx, _, pdf = march
    texts = pages(pdf)
    body = body_pages(texts)
    assert 2 <= body <= BODY_PAGES, f"简报正文 {body} 页"
    assert "附件：1.滞后项目名单" in "".join(texts[body - 1].split())
    labels = [n for n, text in enumerate(texts) if text.strip().startswith("附件")]
    assert labels[0] == body  # 附件1 starts the page after the body
    squeezed = ["".join(t.split()) for t in texts]
    for number, title in ((1, "滞后项目名单"), (2, "存在问题和需协调事项清单"),
                          (3, "各牵头单位投资完成情况排名")):
        page = next(n for n, t in enumerate(squeezed) if t.startswith(f"附件{number}"))
        assert title in squeezed[page], f"附件{number} 的标题"  # each on a page of its own


@pytest.mark.soffice
def test_no_number_in_a_table_is_split_across_lines(march: tuple[Path, Path, Path]) -> None:
    docx, _, pdf = march
    numbers = table_numbers(docx)
    assert len(numbers) > 200  # amounts, rates, changes, counts
    assert split_numbers(numbers, pdf) == []


@pytest.mark.soffice
def test_the_closing_block_is_at_the_foot_of_the_last_page(
        march: tuple[Path, Path, Path]) -> None:
    _, _, pdf = march
    closing = _closing(pdf)
    last = len(pages(pdf))
    assert [w.page for w in closing] == [last]
    assert TYPE_AREA_BOTTOM_PT - 15 < closing[0].bottom <= TYPE_AREA_BOTTOM_PT + 2
    below = [w for w in words(pdf) if w.page == last and w.top > closing[0].bottom
             and w.bottom < TYPE_AREA_BOTTOM_PT]  # the page number is in the footer, below
    assert below == []


@pytest.mark.slow
@pytest.mark.soffice
def test_without_attachments_the_lists_are_left_to_the_notice(tmp_path: Path) -> None:
    master = scaled_master(projects=668, units=56)
    master.settings.bulletin_attachments = AttachmentPlacement.NOTICE_ONLY
    made = make_bulletin(MemoryStore(master, tmp_path), "2022-03", tmp_path, pdf=True,
                         issued=date(2022, 4, 8))
    assert made.pdf is not None, made.pdf_problem
    texts = pages(made.pdf)
    assert body_pages(texts) == len(texts) <= BODY_PAGES
    whole = "".join("".join(t.split()) for t in texts)
    assert "见同期《重大项目推进情况通报》" in whole and "附件：" not in whole
    assert [w.page for w in _closing(made.pdf)] == [len(texts)]


@pytest.mark.slow
@pytest.mark.soffice
def test_three_thousand_projects_still_read_in_four_pages(tmp_path: Path) -> None:
    master = scaled_master(projects=3000, units=100)
    made = make_bulletin(MemoryStore(master, tmp_path), "2022-03", tmp_path, pdf=True,
                         issued=date(2022, 4, 8))
    assert made.pdf is not None, made.pdf_problem
    texts = pages(made.pdf)
    assert body_pages(texts) <= BODY_PAGES
    assert len(made.progress.lagging) > 200  # the lists went to the 附件
    assert split_numbers(table_numbers(made.docx), made.pdf) == []
    assert [w.page for w in _closing(made.pdf)] == [len(texts)]


def test_table_columns_follow_their_content(tmp_path: Path) -> None:
    """A number never shares its column with less room than it takes; the table spans the
    type area; a long name wraps instead."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.left_margin, section.right_margin = Mm(210), Mm(28), Mm(26)
    table = document.add_table(rows=3, cols=4)
    for row, values in enumerate((("序号", "项目名称", "年度计划\n（万元）", "完成率"),
                                  ("1", "柳州市某某大道（一期）改扩建及配套管网工程" * 2,
                                   "1,234,567.89", "+12.3"),
                                  ("2", "短名", "9.00", "—"))):
        for column, text in enumerate(values):
            table.cell(row, column).text = text
    for column in table.columns:
        for cell in column.cells:
            cell.width = Mm(10)  # far too narrow for the amount
    fit_tables(document)
    widths = [c.w.pt for c in table._tbl.tblGrid.gridCol_lst]
    assert sum(widths) == pytest.approx(156 / 25.4 * 72, abs=1)
    assert widths[2] > text_width("1,234,567.89", 10.5)
    assert widths[1] == max(widths)  # the long name takes the room left



def test_a_table_too_wide_for_its_numbers_is_set_smaller_to_fit(tmp_path: Path) -> None:
    """Eight amounts side by side do not fit the type area at the body size: the table's
    text is set half a point smaller at a time until they do — each number still on one
    line — and never below 8 pt."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.left_margin, section.right_margin = Mm(210), Mm(28), Mm(26)
    table = document.add_table(rows=2, cols=8)
    for column in range(8):
        table.cell(0, column).text = f"第{column + 1}列"
        table.cell(1, column).text = "1,234,567.89"
    room = 156 / 25.4 * 72

    def needs(size: float) -> float:  # eight numbers, each with its cell's margins and slack
        return 8 * (text_width("1,234,567.89", size) * 1.03 + 2 + 2 * 68 / 20)

    assert needs(10.5) > room  # too wide as it is
    fit_tables(document)
    sizes = {run.font.size.pt for row in table.rows for cell in row.cells
             for paragraph in cell.paragraphs for run in paragraph.runs}
    assert len(sizes) == 1
    size = sizes.pop()
    assert size == 8.5  # the largest half point that fits: 9 pt would not
    assert needs(size) <= room < needs(size + 0.5)
    widths = [c.w.pt for c in table._tbl.tblGrid.gridCol_lst]
    assert sum(widths) == pytest.approx(room, abs=1)
    assert all(width > text_width("1,234,567.89", size) for width in widths)


def test_a_merged_cell_is_set_smaller_once_like_the_rest(tmp_path: Path) -> None:
    """A heading over two columns (one cell spanning both) is shrunk with its table, to the
    same size as every other cell: once, not once for each column it spans."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.left_margin, section.right_margin = Mm(210), Mm(28), Mm(26)
    table = document.add_table(rows=3, cols=8)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "本年累计"
    for column in range(2, 8):
        table.cell(0, column).text = f"第{column + 1}列"
    for column in range(8):
        table.cell(1, column).text = f"第{column + 1}列"
        table.cell(2, column).text = "1,234,567.89"
    fit_tables(document)
    runs = [Run(r, None) for r in table._tbl.iter(qn("w:r"))]  # each cell's once
    assert len(runs) == 23 and {run.font.size.pt for run in runs} == {8.5}


def test_a_table_that_fits_not_even_at_eight_points_is_left_as_its_author_made_it(
        tmp_path: Path) -> None:
    document = Document()
    section = document.sections[0]
    section.page_width, section.left_margin, section.right_margin = Mm(210), Mm(28), Mm(26)
    table = document.add_table(rows=1, cols=12)
    for column in range(12):
        table.cell(0, column).text = "1,234,567.89"
    before = [c.w for c in table._tbl.tblGrid.gridCol_lst]
    fit_tables(document)
    assert [c.w for c in table._tbl.tblGrid.gridCol_lst] == before
    assert {run.font.size for cell in table.rows[0].cells for paragraph in cell.paragraphs
            for run in paragraph.runs} == {None}


# ---- the 通报 ------------------------------------------------------------------------------

@pytest.mark.soffice
def test_the_notice_prints_each_ranking_with_its_chart_and_footer(
        march: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, xlsx, _ = march
    pdf = render(xlsx, tmp_path)
    texts = ["".join(t.split()) for t in pages(pdf)]
    first = texts[0]  # 县区排名: table, 合计 and chart on one page
    assert "按县区" in first and "合计" in first and "各县区投资完成率与时序进度" in first
    assert "按牵头单位" in texts[1]
    for text in texts:
        assert "柳州市重大项目建设推进办公室" in text and "2022年4月8日印发" in text
    book = openpyxl.load_workbook(xlsx)
    # every column of the table prints, 数据说明 last, and the whole note above it (which
    # runs into that column): none of it cut off at the page's edge
    note = book["县区排名"]["A2"].value
    assert "数据说明" in first and "".join(note.split()) in first
    numbers = {_shown(c) for ws in book.worksheets for r in ws.iter_rows(min_row=4)
               for c in r if isinstance(c.value, int | float) and not isinstance(c.value, bool)}
    assert len(numbers) > 200
    assert split_numbers({n for n in numbers if len(n) > 1}, pdf) == []


def _shown(cell: openpyxl.cell.cell.Cell) -> str:
    """A number as the 通报's formats show it."""
    value = Decimal(str(cell.value))
    if cell.number_format == "#,##0.00":
        return f"{value:,.2f}"
    if cell.number_format == "0.0":
        return f"{value:.1f}"
    if cell.number_format.startswith("+0.0"):
        return f"+{value:.1f}" if value > 0 else f"{value:.1f}"
    return f"{value:.0f}"


def test_rows_are_as_tall_as_their_wrapped_text(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.column_dimensions["A"].width = 10
    ws["A1"], ws["A4"] = "标题", "{{ issues[].problems }}"
    ws["A4"].alignment = openpyxl.styles.Alignment(wrap_text=True)
    book.save(tmp_path / "t.xlsx")
    long = "征地拆迁进度滞后，" * 6
    fill_workbook(tmp_path / "t.xlsx", {"issues": [{"problems": long}, {"problems": "无"}]},
                  tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    assert ws.row_dimensions[4].height > 3 * ws.row_dimensions[5].height >= 45


def test_footer_fields_are_filled_and_an_ampersand_is_kept(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = "x"
    ws.oddFooter.left.text = "{{ publisher }}"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    book.save(tmp_path / "t.xlsx")
    fill_workbook(tmp_path / "t.xlsx", {"publisher": "市发展&改革委"}, tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    assert ws.oddFooter.left.text == "市发展&&改革委"  # "&" alone would start a code
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"


# ---- fonts ---------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("fc-match") is None, reason="需要 fontconfig 的 fc-match")
def test_missing_office_fonts_fall_back_to_simplified_chinese_faces(tmp_path: Path) -> None:
    env = {**os.environ, **font_config(tmp_path)}
    installed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                               env=env).stdout
    for font, chain in FONT_CHAINS.items():
        wanted = next((name for name in (font, *chain) if name in installed), None)
        if wanted is None:
            continue  # none of the chain on this machine
        found = subprocess.run(["fc-match", "-f", "%{family}", f"{font}:lang=zh-cn"],
                               capture_output=True, text=True, env=env).stdout
        assert wanted in found.split(","), (font, found)
        assert "JP" not in found


# ---- the 台账 ------------------------------------------------------------------------------

@pytest.fixture
def master_file(tmp_path: Path) -> Path:
    path = tmp_path / "台账.xlsx"
    master = small_master()
    from zdxm_xl.core.models import LedgerEntry

    master.projects[0].county = "城中区"
    master.ledger = [LedgerEntry(period="2022-01", project_id=p.id, project_name=p.name,
                                 unit=p.lead_unit, year_completed=Decimal("10"),
                                 source_sha256="ab" * 32)
                     for p in master.projects]
    create_master(path, 2022, master)
    return path


def test_every_sheet_of_the_master_is_set_up_for_paper(master_file: Path) -> None:
    book = openpyxl.load_workbook(master_file)
    for name in [spec.sheet for spec in MASTER_TABLES] + ["设置", SUMMARY_SHEET]:
        ws = book[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, name
        assert ws.page_setup.fitToWidth == 1, name
        assert ws.print_title_rows == "$1:$1", name
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页", name
        assert "&A" in ws.oddFooter.left.text, name
    assert book[SUMMARY_SHEET].page_setup.fitToHeight == 1  # 汇总 on one page
    assert str(book["实施项目"].page_setup.paperSize) == book["实施项目"].PAPERSIZE_A3


@pytest.mark.parametrize(("sheet", "frozen"), [("实施项目", "D2"), ("预备项目", "D2"),
                                               ("月报台帐", "D2"), ("责任单位", "B2")])
def test_frozen_panes_keep_the_names_in_view(master_file: Path, sheet: str, frozen: str) -> None:
    ws = openpyxl.load_workbook(master_file)[sheet]
    assert ws.freeze_panes == frozen
    titles = [c.value for c in ws[1]]
    kept = titles[:openpyxl.utils.column_index_from_string(frozen[0]) - 1]
    assert "项目名称" in kept or "单位名称" in kept


def test_technical_columns_are_grouped_and_collapsed(master_file: Path) -> None:
    book = openpyxl.load_workbook(master_file)
    for spec in MASTER_TABLES:
        ws = book[spec.sheet]
        for offset, column in enumerate(spec.columns, start=1):
            dimension = ws.column_dimensions[openpyxl.utils.get_column_letter(offset)]
            assert dimension.hidden is column.technical, (spec.sheet, column.header)
            assert dimension.outline_level == (1 if column.technical else 0)


def test_the_ledger_carries_the_plan_for_a_pivot_table(master_file: Path) -> None:
    ws = openpyxl.load_workbook(master_file)["月报台帐"]
    titles = [c.value for c in ws[1]]
    rows = [dict(zip(titles, (c.value for c in row), strict=False))
            for row in ws.iter_rows(min_row=2)]
    for wanted in ("项目名称", "阶段", "县区", "牵头单位", "年度计划投资（万元）"):
        assert wanted in titles
    first = rows[0]
    assert (first["项目名称"], first["阶段"], first["行业分类"], first["县区"], first["牵头单位"]) == (
        "测试项目1", "新开工", "基础设施", "城中区", "城中区人民政府")
    assert Decimal(str(first["年度计划投资（万元）"])) == Decimal("2000.25")
    master = load_master(master_file)
    master.projects[0].county = "鱼峰区"  # the plan changes: the ledger follows on save
    save_master(master, master_file)
    ws = openpyxl.load_workbook(master_file)["月报台帐"]
    assert ws.cell(row=2, column=titles.index("县区") + 1).value == "鱼峰区"


def test_a_master_written_before_the_plan_columns_reads_the_same(master_file: Path) -> None:
    before = load_master(master_file)
    book = openpyxl.load_workbook(master_file)
    ws = book["月报台帐"]
    derived = [c for c in LEDGER.columns if c.derived]
    first = len(LEDGER.columns) - len(derived) + 1
    ws.delete_cols(first, len(derived))
    table = ws.tables["Ledger"]
    table.ref = f"A1:{openpyxl.utils.get_column_letter(first - 1)}{ws.max_row}"
    table.tableColumns = table.tableColumns[:first - 1]
    book.save(master_file)
    old = load_master(master_file)
    assert old.ledger == before.ledger
    save_master(old, master_file)
    assert [c.value for c in openpyxl.load_workbook(master_file)["月报台帐"][1]][-1] == \
        LEDGER.columns[-1].title


@pytest.mark.slow
@pytest.mark.soffice
def test_the_master_prints_in_a_few_pages_with_footers(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, scaled_master(projects=668, units=56, months=1))
    pdf = render(path, tmp_path)
    texts = pages(pdf)
    assert len(texts) < 60  # it was 664 portrait pages
    assert all("重大项目台账" in t and "页" in t for t in texts)
    squeezed = "".join("".join(t.split()) for t in texts)
    assert "sha256" not in squeezed  # collapsed: not printed
    summary = [t for t in texts if "重大项目台账·汇总" in "".join(t.split())]
    assert len(summary) == 1


# ---- the 考核 sheet's headers --------------------------------------------------------------

def test_assessment_headers_break_before_their_unit(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    out = tmp_path / "考核.xlsx"
    assert run_zdxm("assess", path, "--from", "2022-01", "--to", "2022-03", "-o", out).code == 0
    ws = openpyxl.load_workbook(out).active
    header_row = next(r for r in range(1, 10)
                      if str(ws.cell(r, 1).value).replace("\n", "") == "组内排名")
    from zdxm_xl.books.styles import text_units

    for cell in ws[header_row]:
        lines = str(cell.value).split("\n")
        assert all("（" not in line[1:] for line in lines), cell.value  # never "…（ ⏎ 项）"
        width = ws.column_dimensions[cell.column_letter].width
        assert all(text_units(line, 10) < width for line in lines), cell.value


@pytest.mark.parametrize(("text", "width", "size", "lines"), [
    ("", 10, 11, 1),
    ("一" * 43, 90, 11, 1),  # 43 CJK characters fill a 填报说明 rule's line
    ("一" * 44, 90, 11, 2),
    ("a" * 80, 90, 11, 1),  # Latin letters are half as wide
    ("第一行\n第二行", 90, 11, 2),
    ("不参评", 7, 10, 1),  # a 考核 rank column
])
def test_wrapped_lines(text: str, width: float, size: float, lines: int) -> None:
    from zdxm_xl.books.styles import wrapped_lines

    assert wrapped_lines(text, width, size) == lines


def test_progress_is_the_same_through_the_plan_columns(master_file: Path) -> None:
    """The plan columns are written, never read: figures come from the plan itself."""
    master = load_master(master_file)
    assert compute_progress(master, "2022-01").total.count == 3


def test_a_template_that_shows_a_chart_gets_it_drawn(tmp_path: Path) -> None:
    import zipfile

    template = tmp_path / "带图简报.docx"
    document = Document()
    document.add_paragraph("{{ city }}")
    document.add_paragraph("{{ charts.counties }}")
    document.save(str(template))
    master = scaled_master(projects=100, units=10, months=1)
    made = make_bulletin(MemoryStore(master, tmp_path), "2022-01", tmp_path / "out",
                         word_template=template, issued=date(2022, 2, 8))
    with zipfile.ZipFile(made.docx) as archive:
        images = [n for n in archive.namelist() if n.startswith("word/media/")]
    assert len(images) == 1  # the county chart only: the sectors' was not asked for
