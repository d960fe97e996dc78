"""The 简报 and 通报 rendered from the sample with a generated ledger, read back."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from tools.build_templates import EXCEL_TEMPLATE, WORD_TEMPLATE, build_all, template_parts

from conftest import run_zdxm, small_master
from zdxm_xl.books.masterio import load_master
from zdxm_xl.bulletin import make_bulletin
from zdxm_xl.core.master import Master, MemoryStore
from zdxm_xl.core.registry import SECTORS
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.demo.sample import build_sample
from zdxm_xl.forms import make_forms
from zdxm_xl.merge import merge_files
from zdxm_xl.reports.bulletins import excel_name, template_fields, word_name
from zdxm_xl.reports.pdf import to_pdf
from zdxm_xl.reports.progress import Progress, compute_progress
from zdxm_xl.reports.xltemplate import _Shift, fill_workbook, shift_formula

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2022-01"  # January: the benchmark is 8.3 %, few projects lag by more than 10 points
ODD_UNIT = "市交通&<运输>局"  # what autoescape must carry through
ODD_PROJECT = "A&B<C>大道（一期）"


def _odd_names(master: Master) -> None:
    for unit in master.units:
        if unit.name == "市交通运输局":
            unit.name = ODD_UNIT
    for project in master.projects:
        if "市交通运输局" in project.units:
            project.units = [ODD_UNIT if u == "市交通运输局" else u for u in project.units]
    first = next(p for p in master.projects if p.stage == "新开工" and p.lead_unit == ODD_UNIT)
    first.name = ODD_PROJECT
    first.planned_start = date(2022, 1, 1)  # due: lagging unless it started


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> MemoryStore:
    """The Liuzhou sample with March returned: most units on time, four late, five missing,
    one project with a name full of XML's special characters."""
    folder = tmp_path_factory.mktemp("sample")
    master = build_sample()
    _odd_names(master)
    store = MemoryStore(master, folder)
    made = make_forms(store, PERIOD, folder / "模板", issued=datetime(2022, 1, 25))
    files = [fill_form(path, folder / "收件" / path.name, seed=index).path
             for index, path in enumerate(made.files) if index % 11 != 5]
    merge_files(store, files[:-4], PERIOD, received=datetime(2022, 2, 3))
    merge_files(store, files[-4:], PERIOD, received=datetime(2022, 2, 7))
    odd = next(p for p in store.master.projects if p.name == ODD_PROJECT)
    for entry in store.master.ledger:
        if entry.project_id == odd.id:  # not started: lagging whatever the dice said
            entry.started, entry.start_date = "否", None
            entry.month_completed = entry.year_completed = Decimal(0)
            entry.problems, entry.coordination = "拆迁补偿<未到位>&资金缺口", "请协调“用地&规划”"
    entry = next(e for e in store.master.ledger if e.period == PERIOD and e.project_id != odd.id)
    entry.problems, entry.coordination = "拆迁补偿<未到位>&资金缺口", "请协调“用地&规划”"
    return store


@pytest.fixture(scope="module")
def rendered(sample: MemoryStore, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Progress, Path, Path]:
    out = tmp_path_factory.mktemp("bulletin")
    result = make_bulletin(sample, PERIOD, out, issued=date(2022, 2, 8))
    return result.progress, result.docx, result.xlsx


def _text(path: Path) -> str:
    """Every piece of text in the document: body, tables, headers and footers."""
    with zipfile.ZipFile(path) as archive:
        parts = [n for n in archive.namelist() if n.startswith("word/") and n.endswith(".xml")]
        xml = "".join(archive.read(n).decode("utf-8") for n in parts)
    return xml


def _table(document: Any, first_header: str, second_header: str) -> Any:
    for table in document.tables:
        cells = [c.text for c in table.rows[0].cells]
        if cells[:2] == [first_header, second_header]:
            return table
    raise AssertionError(f"no table headed {first_header} {second_header}")


def _body(table: Any, total: bool = False) -> list[list[str]]:
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    return rows[:-1] if total else rows


def _paragraphs(document: Any) -> str:
    """The text of every paragraph, the 版记's text box included."""
    return "\n".join("".join(t.text or "" for t in p.iter(qn("w:t")))
                     for p in document.element.body.iter(qn("w:p")))


def test_the_word_bulletin_says_what_was_computed(rendered: tuple[Progress, Path, Path]) -> None:
    progress, docx, _ = rendered
    assert docx.name == "重大项目建设简报_2022年第1期.docx"
    document = Document(str(docx))
    text = "\n".join(p.text for p in document.paragraphs)
    total = progress.total
    assert "重大项目建设简报" in text and "第1期" in text
    assert "柳州市2022年1月重大项目建设推进情况" in text
    assert (f"全市{total.count}个实施项目累计完成投资{total.year_completed_yi}亿元，占年度计划投资"
            f"{total.annual_plan_yi}亿元的{total.rate}%，{total.gap_text}（时序进度8.3%）") in text
    assert f"开工率{progress.starts.rate}%" in text
    assert f"按时报送率{progress.returns.on_time_rate}%" in text
    assert "柳州市重大项目建设推进办公室\t2022年2月8日" in text
    assert "2022年2月8日印发" in _paragraphs(document)  # the 版记, in its box at the foot
    raw = _text(docx)
    assert "{{" not in raw and "{%" not in raw and "}}" not in raw
    assert "PAGE" in raw  # the page number field is in the footers


def test_word_tables_have_one_row_per_item(rendered: tuple[Progress, Path, Path]) -> None:
    progress, docx, _ = rendered
    document = Document(str(docx))
    counties = _body(_table(document, "排名", "县区"))
    assert [r[1] for r in counties] == [c.name for c in progress.counties]
    assert [r[5] for r in counties] == [f"{c.rate:.1f}" for c in progress.counties]
    assert [r[8] for r in counties] == [c.flag for c in progress.counties]
    classes = _body(_table(document, "单位类别", "单位数"))
    assert [r[0] for r in classes] == [g.name for g in progress.unit_ranking.groups]
    units = [row for table in document.tables if table.rows[0].cells[0].text == "类内\n排名"
             for row in _body(table, total=True)]
    ranked = [u for g in progress.unit_ranking.groups for u in g.units]
    assert [(r[0], r[1], r[2]) for r in units] == [(str(u.rank), u.name, str(u.count))
                                                  for u in ranked]
    assert sorted(u.name for u in ranked) == sorted(u.name for u in progress.units)
    stages = _body(_table(document, "类别", "项目数"), total=True)
    assert [r[0] for r in stages] == ["新开工", "续建", "竣工", *SECTORS]
    lagging = _body(next(t for t in document.tables if t.rows[0].cells[-1].text == "逾期"))
    assert len(lagging) == len(progress.lagging) > 0
    assert [r[1] for r in lagging] == [g.name for g in progress.lagging]
    issues = next(t for t in document.tables if t.rows[0].cells[3].text == "存在问题和需协调事项")
    assert len(issues.rows) - 1 == len(progress.issues) > 0


def test_flags_colour_the_word_cells(rendered: tuple[Progress, Path, Path]) -> None:
    progress, docx, _ = rendered
    table = _table(Document(str(docx)), "排名", "县区")
    for row, county in zip(table.rows[1:], progress.counties, strict=True):
        shading = row.cells[8]._tc.tcPr.find(qn("w:shd"))
        assert shading.get(qn("w:fill")) == county.flag_color


def test_special_characters_come_through(rendered: tuple[Progress, Path, Path]) -> None:
    progress, docx, xlsx = rendered
    document = Document(str(docx))
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert ODD_UNIT in cells
    assert ODD_PROJECT in {g.name for g in progress.lagging}
    assert ODD_PROJECT in cells
    assert "拆迁补偿<未到位>&资金缺口；需协调：请协调“用地&规划”" in cells
    book = openpyxl.load_workbook(xlsx)
    values = {c.value for ws in book.worksheets for r in ws.iter_rows() for c in r}
    assert {ODD_UNIT, ODD_PROJECT} <= values


def test_the_excel_notice_grows_with_the_data(rendered: tuple[Progress, Path, Path]) -> None:
    progress, _, xlsx = rendered
    assert xlsx.name == "重大项目推进情况通报_2022-01.xlsx"
    book = openpyxl.load_workbook(xlsx)
    ws = book["县区排名"]
    n = len(progress.counties)
    rows = list(ws.iter_rows(min_row=4, max_row=3 + n, values_only=True))
    assert [(r[0], r[1], r[2]) for r in rows] == [(c.rank, c.name, c.count) for c in progress.counties]
    assert [Decimal(str(r[5])) for r in rows] == [c.rate for c in progress.counties]
    assert [r[9] for r in rows] == [c.flag for c in progress.counties]
    total = [c.value for c in ws[4 + n]]
    assert total[1:3] == ["合计", progress.total.count]
    assert Decimal(str(total[4])) == progress.total.year_completed_yi
    # the item row's formatting, the flags' conditional fills and the chart follow the rows
    assert {ws.cell(row=r, column=4).number_format for r in range(4, 4 + n)} == {"#,##0.00"}
    assert [str(c.sqref) for c in ws.conditional_formatting] == [f"J4:J{4 + n}"]
    chart = ws._charts[0]
    refs = {s.val.numRef.f for part in [chart, *chart._charts] for s in part.series}
    assert refs == {f"'县区排名'!$F$4:$F${3 + n}", f"'县区排名'!$M$4:$M${3 + n}"}
    assert chart.anchor._from.row + 1 == 7 + n - 1  # below the table, moved down with it
    assert "{{" not in "".join(str(c.value) for r in ws.iter_rows() for c in r)
    units = book["牵头单位排名"]
    listed = [r[1] for r in units.iter_rows(min_row=4, values_only=True)]
    ranking = progress.unit_ranking
    for group in ranking.groups:  # each class ranked on its own, with its 小计
        at = next(i for i, name in enumerate(listed) if name is None
                  and str(units.cell(row=4 + i, column=1).value).endswith(
                      f"{group.name}（{group.count}个单位）"))
        assert listed[at + 1:at + 1 + group.count] == [u.name for u in group.units]
        assert listed[at + 1 + group.count] == "小计"
    assert listed[-1] == "合计"
    lagging = book["滞后项目"]
    assert [r[1] for r in lagging.iter_rows(min_row=4, values_only=True)] == [
        g.name for g in progress.lagging]
    assert lagging["A4"].value == 1 and lagging.cell(row=3 + len(progress.lagging), column=1).value \
        == len(progress.lagging)
    issues = book["存在问题"]
    assert [r[1] for r in issues.iter_rows(min_row=4, values_only=True)] == [
        i.project_name for i in progress.issues]
    returns = book["报送情况"]
    listed_returns = [r for r in returns.iter_rows(min_row=4, values_only=True)]
    assert [(r[1], r[3], r[4]) for r in listed_returns] == [
        (u.unit, u.submitted, u.on_time) for u in progress.returns.units]
    assert progress.returns.missing and progress.returns.late
    assert returns["A2"].value.startswith(f"应报送{progress.returns.expected}个单位")
    for sheet in book.worksheets:  # every sheet prints with the office's footer
        assert sheet.oddFooter.left.text == "柳州市重大项目建设推进办公室", sheet.title
        assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
        assert sheet.oddFooter.right.text == "2022年2月8日印发"


def test_issue_numbers_continue_and_reruns_reuse_them(sample: MemoryStore, tmp_path: Path) -> None:
    store = MemoryStore(sample.master, tmp_path)
    store.master.settings.bulletin_issue, store.master.settings.bulletin_log = 6, None
    before = store.saves
    first = make_bulletin(store, "2022-02", tmp_path, issued=date(2022, 3, 8))
    assert (first.issue, first.new_issue, store.saves - before) == (7, True, 1)
    settings = store.master.settings
    assert (settings.bulletin_issue, settings.bulletin_log) == (7, "2022-02=7")
    again = make_bulletin(store, "2022-02", tmp_path, issued=date(2022, 3, 9))
    assert (again.issue, again.new_issue, store.saves - before) == (7, False, 1)
    assert again.docx == first.docx == tmp_path / word_name(2022, 7)
    earlier = make_bulletin(store, "2022-01", tmp_path, issued=date(2022, 2, 8))
    assert (earlier.issue, store.master.settings.bulletin_log) == (8, "2022-01=8,2022-02=7")


def test_the_command_writes_both_files_and_advances_the_number(master_path: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "输出"
    result = run_zdxm("bulletin", master_path, "--period", "2022-03", "-o", out, "--date",
                      "2022-04-08")
    assert result.code == 0, result.stderr
    assert "第1期（简报期数已记入台账“设置”）" in result.stdout
    assert (out / word_name(2022, 1)).is_file() and (out / excel_name("2022-03")).is_file()
    settings = load_master(master_path).settings
    assert (settings.bulletin_issue, settings.bulletin_log) == (1, "2022-03=1")
    again = run_zdxm("bulletin", master_path, "--period", "2022-03", "-o", out, "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["issue"] == 1
    assert load_master(master_path).settings.bulletin_issue == 1


def test_default_output_folder_is_the_workspaces(store: MemoryStore) -> None:
    result = make_bulletin(store, "2022-01", issued=date(2022, 2, 8))
    assert result.docx.parent == store.folder / "输出" / "简报" / "2022-01"


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2022-13"], "报告期"),
    (["--period", "2023-01"], "不在台账的计划年度 2022 年内。（--period）"),
    (["--period", "2022-03", "--word", "无此模板.docx"], "不存在"),
    (["--period", "2022-03", "--excel", "通报.docx"], ".xlsx"),
    (["--period", "2022-03", "--date", "四月八日"], "印发日期"),
])
def test_bad_arguments_are_refused_in_chinese(master_path: Path, tmp_path: Path,
                                              args: list[str], message: str) -> None:
    result = run_zdxm("bulletin", master_path, "-o", tmp_path, *args)
    assert result.code == 2
    assert message in result.stderr


def test_an_unknown_field_in_the_office_template_is_named(master_path: Path,
                                                          tmp_path: Path) -> None:
    template = tmp_path / "我的简报.docx"
    document = Document()
    document.add_paragraph("完成率{{ total.完成率 }}")
    document.save(str(template))
    result = run_zdxm("bulletin", master_path, "--period", "2022-03", "-o", tmp_path,
                      "--word", template)
    assert result.code == 2
    assert "不存在的字段" in result.stderr and "--list-fields" in result.stderr


def test_a_custom_template_with_an_odd_city_name(tmp_path: Path) -> None:
    """Without autoescape docxtpl would write a bare & into the XML and Word refuses it."""
    master = small_master()
    master.settings.city = "柳州&<市>"
    store = MemoryStore(master, tmp_path)
    template = tmp_path / "我的简报.docx"
    document = Document()
    document.add_paragraph("{{ city }}第{{ issue }}期")
    document.save(str(template))
    result = make_bulletin(store, "2022-03", tmp_path, word_template=template)
    assert Document(str(result.docx)).paragraphs[0].text == "柳州&<市>第1期"


def test_list_fields_comes_from_the_model() -> None:
    result = run_zdxm("bulletin", "--list-fields")
    assert result.code == 0, result.stderr
    for field_path, _, meaning in template_fields():
        assert f"  {field_path}  〔" in result.stdout
        assert meaning in result.stdout
    data = json.loads(run_zdxm("bulletin", "--list-fields", "--json").stdout)
    assert [d["field"] for d in data] == [f for f, _, _ in template_fields()]


def test_fields_page_is_the_same_list() -> None:
    page = (ROOT / "docs" / "fields.md").read_text(encoding="utf-8")
    for field_path, _, _ in template_fields():
        assert f"`{field_path}`" in page


def test_committed_templates_are_what_the_builder_makes(tmp_path: Path) -> None:
    build_all(tmp_path)
    for name in (WORD_TEMPLATE, EXCEL_TEMPLATE):
        committed = template_parts(ROOT / "templates" / name)
        built = template_parts(tmp_path / name)
        assert committed.keys() == built.keys(), name
        changed = [part for part in built if committed[part] != built[part]]
        assert not changed, f"运行 python tools/build_templates.py templates 更新 {name}：{changed}"


def test_the_installed_package_finds_its_templates() -> None:
    from importlib.resources import files

    shipped = files("zdxm_xl.templates")
    assert (shipped / WORD_TEMPLATE).read_bytes() == (ROOT / "templates" / WORD_TEMPLATE).read_bytes()


# ---- the Excel engine --------------------------------------------------------------------

@pytest.mark.parametrize(("formula", "expected"), [
    ("=SUM(E4:E4)", "=SUM(E4:E7)"),  # a range over the item row grows
    ("=SUM(E3:E5)", "=SUM(E3:E8)"),
    ("=E5*2", "=E8*2"),  # below: moves
    ("=E4", "=E4"),  # the item row itself: the first item
    ("=$E$9+A1", "=$E$12+A1"),
    ("=SUM(A:A)", "=SUM(A:A)"),
    ("='其他表'!E9", "='其他表'!E9"),
    ("='县区'!E9", "='县区'!E12"),
    ("=SUM(5:6)", "=SUM(8:9)"),
])
def test_formulas_move_like_excel(formula: str, expected: str) -> None:
    assert shift_formula(formula, "县区", _Shift("县区", 4, 3)) == expected


def test_item_rows_keep_merges_formulas_and_formats(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "表"
    ws["A1"] = "{{ city }}（{{ period }}）"
    ws["A3"], ws["B3"], ws["D3"] = "{{ loop.index }}", "{{ counties[].name }}", "=C3*2"
    ws["C3"] = "{{ counties[].count }}"
    ws["C3"].number_format = "0.0"
    ws.merge_cells("E3:F3")
    ws["A4"], ws["C4"] = "合计", "=SUM(C3:C3)"
    ws.merge_cells("A6:B6")
    ws["A6"] = "注：{{ counties|length }}个县区"
    ws.row_dimensions[3].height = 21
    template = tmp_path / "t.xlsx"
    book.save(template)
    counties = [{"name": "城中区", "count": 3}, {"name": "A&B<C>", "count": 4}]
    fill_workbook(template, {"city": "柳州市", "period": "2022-03", "counties": counties},
                  tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["表"]
    assert ws["A1"].value == "柳州市（2022-03）"
    assert [(ws[f"A{r}"].value, ws[f"B{r}"].value, ws[f"C{r}"].value, ws[f"D{r}"].value)
            for r in (3, 4)] == [(1, "城中区", 3, "=C3*2"), (2, "A&B<C>", 4, "=C4*2")]
    assert ws["C4"].number_format == "0.0" and ws.row_dimensions[4].height == 21
    assert ws["C5"].value == "=SUM(C3:C4)"
    assert {str(r) for r in ws.merged_cells.ranges} == {"E3:F3", "E4:F4", "A7:B7"}
    assert ws["A7"].value == "注：2个县区"


def test_an_empty_list_leaves_one_row_saying_none(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws["A2"], ws["B2"] = "{{ lagging[].name }}", "{{ lagging[].unit }}"
    ws["A3"] = "完"
    book.save(tmp_path / "t.xlsx")
    fill_workbook(tmp_path / "t.xlsx", {"lagging": []}, tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    assert [ws["A2"].value, ws["B2"].value, ws["A3"].value] == ["无", None, "完"]


# ---- PDF -----------------------------------------------------------------------------------

def test_no_converter_gives_a_clear_message(master_path: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import zdxm_xl.reports.pdf as pdf

    monkeypatch.setattr(pdf, "_soffice", lambda: None)
    monkeypatch.setattr(pdf.sys, "platform", "linux")
    result = run_zdxm("bulletin", master_path, "--period", "2022-03", "-o", tmp_path, "--pdf")
    assert result.code == 1
    assert "未找到 LibreOffice" in result.stderr and "另存为 PDF" in result.stderr
    assert (tmp_path / word_name(2022, 1)).is_file()


@pytest.mark.soffice
def test_the_pdf_carries_the_key_figures(rendered: tuple[Progress, Path, Path],
                                         tmp_path: Path) -> None:
    progress, docx, _ = rendered
    copy = tmp_path / docx.name
    shutil.copyfile(docx, copy)
    pdf, problem = to_pdf(copy)
    assert problem is None and pdf is not None and pdf.is_file()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    squeezed = "".join(text.split())
    total = progress.total
    for figure in ("重大项目建设简报", "第1期", f"{total.year_completed_yi}亿元",
                   f"{total.annual_plan_yi}亿元", f"{total.rate}%", "—1—", "2022年2月8日印发",
                   progress.counties[0].name, ODD_UNIT):
        assert figure in squeezed, figure
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


def test_progress_of_the_sample_matches_the_ledger(sample: MemoryStore) -> None:
    """The headline figure is the exact sum of the ledger, rounded once."""
    master = sample.master
    progress = compute_progress(master, PERIOD)
    done = sum((e.year_completed or Decimal(0) for e in master.ledger
                if e.period == PERIOD and not master.project(e.project_id).is_preparatory),
               Decimal(0))
    carried = [p for p in master.implementation
               if not any(e.project_id == p.id and e.period == PERIOD for e in master.ledger)]
    assert progress.unreported >= len(carried) > 0
    assert progress.total.year_completed_yi == (done / 10000).quantize(Decimal("0.01"))


def test_a_word_template_is_compiled_once_however_often_it_is_rendered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of 督办通知单 renders one template for tens of units: its text is compiled
    the first time only, and each document still says what its own context says."""
    import io

    from jinja2.sandbox import SandboxedEnvironment

    from zdxm_xl.reports import bulletins

    word = Document()
    word.add_paragraph("致{{ unit }}：请于{{ due }}前回复。")
    source = io.BytesIO()
    word.save(source)
    compiled: list[str] = []
    compile_text = SandboxedEnvironment.from_string

    def counted(self: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(text)
        return compile_text(self, text, *args, **kwargs)

    monkeypatch.setattr(SandboxedEnvironment, "from_string", counted)
    bulletins._environment.cache_clear()
    for unit in ("市交通运输局", "市水利局", "柳南区人民政府"):
        document = bulletins.open_docx_template(source.getvalue(), "测试.docx", "督办通知单")
        bulletins.render_docx(document, {"unit": unit, "due": "4月18日"}, "测试.docx",
                              "督办通知单", tmp_path / f"{unit}.docx")
        if unit == "市交通运输局":
            first = len(compiled)
    assert first > 0 and len(compiled) == first
    for unit in ("市交通运输局", "市水利局", "柳南区人民政府"):
        text = "".join(p.text for p in Document(str(tmp_path / f"{unit}.docx")).paragraphs)
        assert text == f"致{unit}：请于4月18日前回复。"
    bulletins._environment.cache_clear()
