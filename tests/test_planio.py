"""Importing the office's plan tables (附表1, 附表2) and exporting them again."""

from __future__ import annotations

import copy
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from conftest import run_zdxm
from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.core.errors import InputRejected, UsageError
from zdxm_xl.core.master import Master, MasterStore, MemoryStore, new_master
from zdxm_xl.core.models import Project
from zdxm_xl.core.results import to_json
from zdxm_xl.core.summary import summarize
from zdxm_xl.plan import export_plan, import_plan

TITLE_IMPL = "柳州市2022年市级层面统筹推进重大项目计划表（实施项目）"
TITLE_PREP = "柳州市2022年市级层面统筹推进重大项目计划表（预备项目）"

# The official two-row header: 投资情况 merged over three money columns (E:G).
IMPL_HEADER = [
    ("序号", None), ("项目名称", None), ("建设内容及规模", None), ("建设起止年限", None),
    ("投资情况", "总投资"), (None, "截至上年底累计完成投资"), (None, "本年计划投资"),
    ("年度建设内容", None), ("计划开工时间", None), ("计划竣工时间", None), ("县区", None),
    ("责任单位", None), ("项目业主", None),
]
# Excel rows 5… (title 1, 单位 2, header 3-4); 序号 restarts in every group.
IMPL_BODY = [
    ["总计（3项）", None, None, None, D("70000.50"), 20000, D("15000.25")],  # 5
    ["一、新开工项目（2项）", None, None, None, D("20000.50"), 0, D("5000.25")],  # 6
    ["（一）基础设施项目（1项）", None, None, None, D("12000.50"), 0, 3000],  # 7
    [1, "甲路", "修路10公里", "2022-2024", D("12000.50"), 0, 3000, "路基", "2022年3月",  # 8
     "2024年12月", "柳东新区", "市住建局、柳东新区管委会", "甲公司"],
    ["（二）产业发展（1项）", None, None, None, 8000, None, D("2000.25")],  # 9
    [1, "乙厂", "厂房", "2022年—2023年", 8000, "—", D("2000.25"), "主体", None, None,  # 10
     "柳南区", "市工信局", "乙公司"],
    ["二、续建项目（1项）", None, None, None, 50000, 20000, 10000],  # 11
    ["（一）基础设施项目（1项）", None, None, None, 50000, 20000, 10000],  # 12
    [1, "丙桥", "桥", "2021～2023", 50000, 20000, 10000, "桥面", "已开工", "2023-06",  # 13
     "柳北区", "市交通局", "丙公司"],
]
NOTES = [["注：本表所列项目以市人民政府公布为准。"], ["备注"]]

PREP_HEADER = [("序号", None), ("项目名称", None), ("建设规模及内容", None), ("建设年限", None),
               ("总投资（万元）", None), ("计划开工时间", None), ("所在县区", None),
               ("责任单位", None), ("业主单位", None)]
PREP_BODY = [
    ["合计（2项）", None, None, None, 30000],
    ["一、基础设施项目（1项）", None, None, None, 10000],
    [1, "丁站", "站房", "2023-2025", 10000, "2023年6月", "柳江区", "市发改委", "丁公司"],
    ["二、生态环保类（1项）", None, None, None, 20000],
    [1, "戊园", "湿地", "2023", 20000, None, "鹿寨县", "市林业局\n鹿寨县人民政府", "戊公司"],
]


def plan_sheet(header=IMPL_HEADER, body=IMPL_BODY, *, title: str | None = TITLE_IMPL,
               unit_line: str | None = "单位：万元", notes=NOTES):
    """Rows and merged ranges of a plan sheet laid out as offices publish it."""
    width = len(header)
    last = get_column_letter(width)
    rows: list[list] = []
    merges: list[str] = []
    if title is not None:
        rows.append([title])
        merges.append(f"A{len(rows)}:{last}{len(rows)}")
    if unit_line is not None:
        rows.append([None] * (width - 1) + [unit_line])
    top_row = len(rows) + 1
    two_rows = any(sub for _top, sub in header)
    rows.append([top for top, _sub in header])
    if two_rows:
        rows.append([sub for _top, sub in header])
        for index, (top, sub) in enumerate(header, start=1):
            letter = get_column_letter(index)
            if top and not sub:
                merges.append(f"{letter}{top_row}:{letter}{top_row + 1}")
            elif top and sub:  # a group: merged across the columns without a top of their own
                end = index
                while end < width and header[end][0] is None:
                    end += 1
                merges.append(f"{letter}{top_row}:{get_column_letter(end)}{top_row}")
    name_at = next(i for i, (top, _s) in enumerate(header, start=1) if top == "项目名称")
    for row in body:
        rows.append(list(row))
        if isinstance(row[0], str) and row[1] is None:  # a 总计/category label over 序号…名称
            merges.append(f"A{len(rows)}:{get_column_letter(name_at)}{len(rows)}")
    rows.extend(list(r) for r in notes)
    return rows, merges


def write_book(path: Path, sheets: dict[str, tuple[list[list], list[str]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (rows, merges) in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        for ref in merges:
            ws.merge_cells(ref)
    book.save(path)
    return path


def empty_master() -> Master:
    master = new_master(2022)
    master.settings.city = "柳州市"
    return master


@pytest.fixture
def store(tmp_path: Path) -> MemoryStore:
    """An empty 2022 master kept in memory: the plan tables are imported into it."""
    return MemoryStore(empty_master(), tmp_path)


@pytest.fixture
def master_path(tmp_path: Path) -> Path:
    """The same empty master as a workbook, for the tests that run ``zdxm``."""
    create_master(tmp_path / "台账.xlsx", 2022, empty_master())
    return tmp_path / "台账.xlsx"


def import_body(tmp_path: Path, master: MasterStore | Path, body=IMPL_BODY, **kwargs):
    plan = write_book(tmp_path / "计划表.xlsx", {"附表1": plan_sheet(body=body, **kwargs)})
    return import_plan(master, [plan])


def rejected(tmp_path: Path, master: MemoryStore | Path, body=None, *, files=None,
             **kwargs) -> str:
    """Import that must fail, leaving the master as it was (a workbook byte-identical, a
    store not saved); the message."""
    if isinstance(master, Path):
        before_bytes = master.read_bytes()
    else:
        before, saves = copy.deepcopy(master.master), master.saves
    with pytest.raises(InputRejected) as caught:
        if files is None:
            import_body(tmp_path, master, IMPL_BODY if body is None else body, **kwargs)
        else:
            import_plan(master, files)
    if isinstance(master, Path):
        assert master.read_bytes() == before_bytes
    else:
        assert master.saves == saves and master.master == before
    return str(caught.value)


def by_name(store: MemoryStore) -> dict[str, Project]:
    return {p.name: p for p in store.master.projects}


# ---- the official layout ----------------------------------------------------------------------

def test_import_official_layout(tmp_path, store):
    result = import_body(tmp_path, store)
    assert (result.implementation, result.preparatory) == (3, 0)
    assert result.new_units == ["市住建局", "柳东新区管委会", "市工信局", "市交通局"]
    master = store.master
    rows = [(p.id, p.name, p.stage, p.sector, p.total_investment, p.prior_completed,
             p.annual_plan, p.lead_unit) for p in master.projects]
    assert rows == [
        ("ZD2022-0001", "甲路", "新开工", "基础设施", D("12000.50"), D(0), D(3000), "市住建局"),
        ("ZD2022-0002", "乙厂", "新开工", "产业发展", D(8000), None, D("2000.25"), "市工信局"),
        ("ZD2022-0003", "丙桥", "续建", "基础设施", D(50000), D(20000), D(10000), "市交通局"),
    ]
    road = master.projects[0]
    assert road.units == ["市住建局", "柳东新区管委会"]
    assert (road.years, road.planned_start, road.planned_end) == (
        (2022, 2024), date(2022, 3, 1), date(2024, 12, 1))
    assert (road.content, road.annual_content, road.county, road.owner) == (
        "修路10公里", "路基", "柳东新区", "甲公司")
    assert master.projects[2].planned_start is None  # 已开工
    assert {(p.batch, p.status) for p in master.projects} == {("年初", "在库")}
    assert [(c.kind, c.project_id, c.batch) for c in master.changes] == [
        ("年初导入", f"ZD2022-000{i}", "年初") for i in (1, 2, 3)]
    assert [u.name for u in master.units] == result.new_units


def test_operator_recorded(tmp_path, store):
    plan = write_book(tmp_path / "p.xlsx", {"附表1": plan_sheet()})
    import_plan(store, [plan], operator="张三")
    assert {c.operator for c in store.master.changes} == {"张三"}


@pytest.mark.parametrize("layout", ["one book", "two books", "sheet names", "sheet words"])
def test_which_table_is_which(tmp_path, store, layout):
    titled = layout in ("one book", "two books")
    impl = plan_sheet(title=TITLE_IMPL if titled else None)
    prep = plan_sheet(PREP_HEADER, PREP_BODY, title=TITLE_PREP if titled else None, notes=[])
    if layout == "one book":
        files = [write_book(tmp_path / "计划.xlsx", {"Sheet1": impl, "Sheet2": prep})]
    elif layout == "two books":
        files = [write_book(tmp_path / "附表2.xlsx", {"Sheet1": prep}),
                 write_book(tmp_path / "附表1.xlsx", {"Sheet1": impl})]
    elif layout == "sheet names":
        files = [write_book(tmp_path / "计划.xlsx", {"附表2": prep, "附表1": impl})]
    else:
        files = [write_book(tmp_path / "计划.xlsx", {"实施项目": impl, "预备项目": prep})]
    result = import_plan(store, files)
    assert (result.implementation, result.preparatory) == (3, 2)
    projects = by_name(store)
    assert (projects["丁站"].stage, projects["丁站"].sector) == ("预备", "基础设施")
    assert (projects["戊园"].sector, projects["戊园"].years) == ("生态环保", (2023, 2023))
    assert projects["戊园"].units == ["市林业局", "鹿寨县人民政府"]
    assert projects["丁站"].planned_start == date(2023, 6, 1)


def test_year_in_title_must_match_master(tmp_path, store):
    message = rejected(tmp_path, store, title=TITLE_IMPL.replace("2022", "2023"))
    assert "2023" in message and "2022" in message and "附表1" in message


@pytest.mark.parametrize(("column", "header"), [
    (6, "年度计划投资"), (6, "2022年计划投资"), (2, "建设规模及内容"), (2, "主要建设内容"),
    (12, "业主单位"), (10, "所在县区"), (10, "建设地点"), (3, "建设年限"), (7, "年度建设目标"),
    (12, "项目业主\n单位"),
])
def test_header_synonyms(tmp_path, store, column, header):
    header_row = copy.deepcopy(IMPL_HEADER)
    top, sub = header_row[column]
    header_row[column] = (header, None) if sub is None else (top, header)
    plan = write_book(tmp_path / "p.xlsx", {"附表1": plan_sheet(header_row)})
    import_plan(store, [plan])
    road = by_name(store)["甲路"]
    assert (road.annual_plan, road.content, road.owner, road.county, road.years,
            road.annual_content) == (D(3000), "修路10公里", "甲公司", "柳东新区", (2022, 2024), "路基")


SINGLE_HEADER = [("序号", None), ("项目编号", None), ("项目代码", None), ("项目名称", None),
                 ("阶段", None), ("行业分类", None), ("县区", None), ("总投资（亿元）", None),
                 ("截至上年底累计完成投资(亿元)", None), ("2022年计划投资（亿元）", None),
                 ("责任单位", None), ("业主单位", None)]


def single_body():
    return [
        [1, "ZD2022-0101", "2201-450200-04-01-000001", "己园", "新开工项目", "产业发展类", "柳江区",
         D("1.5"), 0, D("0.25"), "市工信局", "己公司"],
        [2, None, "2201-450200-04-01-000002", "庚路", "续建", "基础设施项目", "柳北区",
         "2.123456", D("0.5"), D("0.3"), "市交通局、柳北区人民政府", "庚公司"],
        ["合计（2项）", None, None, None, None, None, None, D("3.62"), D("0.5"), D("0.55")],
    ]


def import_single(tmp_path, store, body=None, *, batch=None, batch_date=None):
    rows = plan_sheet(SINGLE_HEADER, single_body() if body is None else body, unit_line=None,
                      notes=[])
    plan = write_book(tmp_path / "single.xlsx", {"附表1": rows})
    if batch is not None and batch_date is None:
        batch_date = date(2022, 6, 15)
    return import_plan(store, [plan], batch=batch, batch_date=batch_date)


def test_single_row_header_with_stage_sector_columns_and_units_in_headers(tmp_path, store):
    import_single(tmp_path, store)
    projects = by_name(store)
    garden, road = projects["己园"], projects["庚路"]
    assert (garden.id, garden.stage, garden.sector) == ("ZD2022-0101", "新开工", "产业发展")
    assert (road.id, road.stage, road.sector) == ("ZD2022-0102", "续建", "基础设施")
    assert (garden.total_investment, garden.annual_plan) == (D(15000), D(2500))
    assert (road.total_investment, road.prior_completed) == (D("21234.56"), D(5000))
    assert road.code == "2201-450200-04-01-000002"


@pytest.mark.parametrize(("stage", "sector", "expected"), [
    ("在建", "基础设施", "阶段"), ("新开工", "交通", "行业分类"), ("预备", "基础设施", "阶段"),
])
def test_stage_and_sector_must_be_known(tmp_path, store, stage, sector, expected):
    body = single_body()
    body[0][4], body[0][5] = stage, sector
    before = copy.deepcopy(store.master)
    with pytest.raises(InputRejected, match=expected):
        import_single(tmp_path, store, body)
    assert store.saves == 0 and store.master == before


# ---- 单位 and exact money -------------------------------------------------------------------

def yi_body(total_road="1.2000", declared=("7.00", "2.00", "1.50")):
    """IMPL_BODY with every amount in 亿元."""
    body = copy.deepcopy(IMPL_BODY)
    for row in body:
        for col in (4, 5, 6):
            if isinstance(row[col], int | D):
                row[col] = D(row[col]) / 10000
    body[3][4] = total_road
    body[0][4:7] = [D(x) for x in declared]
    body[1][4:7] = [None, None, None]
    body[2][4:7] = [None, None, None]
    return body


@pytest.mark.parametrize("where", ["unit line", "group header", "column header"])
def test_yi_converted_exactly(tmp_path, store, where):
    header = copy.deepcopy(IMPL_HEADER)
    unit_line = "单位：亿元"
    if where == "group header":
        header[4] = ("投资情况（亿元）", "总投资")
        unit_line = None
    elif where == "column header":
        header[4:7] = [("投资情况", "总投资（亿元）"), (None, "截至上年底累计完成投资（亿元）"),
                       (None, "本年计划投资（亿元）")]
        unit_line = "单位：万元"  # a unit in the header wins over the line
    body = yi_body(total_road="1.234567", declared=("7.03", "2.00", "1.50"))
    plan = write_book(tmp_path / "p.xlsx",
                      {"附表1": plan_sheet(header, body, unit_line=unit_line)})
    import_plan(store, [plan])
    projects = by_name(store)
    assert projects["甲路"].total_investment == D("12345.67")
    assert projects["乙厂"].annual_plan == D("2000.25")
    assert projects["丙桥"].total_investment == D(50000)
    assert all(isinstance(p.total_investment, D) for p in projects.values())


def test_yi_with_more_than_two_places_in_wan_is_refused(tmp_path, store):
    message = rejected(tmp_path, store, yi_body(total_road="1.2345678"),
                       unit_line="单位：亿元")
    assert "第8行" in message and "小数超过两位" in message


@pytest.mark.parametrize(("declared", "ok"), [("2.01", True), ("2.00", False)])
def test_yi_subtotal_is_rounded_once_from_exact_sum(tmp_path, store, declared, ok):
    # 1.004 + 1.004 = 2.008 → 2.01 亿元; the rounded parts would add up to 2.00.
    body = yi_body(total_road="1.004")
    body[5][4] = "1.004"
    body[0][4:7] = [None, None, None]
    body[1][4:7] = [D(declared), None, None]
    body[4][4:7] = [None, None, None]
    if ok:
        import_body(tmp_path, store, body, unit_line="单位：亿元")
        assert by_name(store)["乙厂"].total_investment == D(10040)
    else:
        message = rejected(tmp_path, store, body, unit_line="单位：亿元")
        assert "第6行" in message and "2.01" in message


@pytest.mark.parametrize("text", ["12,000.50", "１２，０００．５０", " 12 000.50 ", "12000.5"])
def test_numbers_as_text(tmp_path, store, text):
    body = copy.deepcopy(IMPL_BODY)
    body[3][4] = text
    import_body(tmp_path, store, body)
    assert by_name(store)["甲路"].total_investment == D("12000.50")


@pytest.mark.parametrize("mark", ["—", "/", "-", "无", None, "——", "－"])
def test_none_marks(tmp_path, store, mark):
    body = copy.deepcopy(IMPL_BODY)
    body[5][5] = mark
    import_body(tmp_path, store, body)
    assert by_name(store)["乙厂"].prior_completed is None


@pytest.mark.parametrize(("col", "value", "words"), [
    (4, "—", ["第8行", "总投资", "不能为空"]),
    (4, "约12000", ["第8行", "总投资", "不是数字"]),
    (6, None, ["第8行", "本年计划投资", "不能为空"]),
    (4, -5, ["第8行", "负数"]),
    (4, "12000.505", ["第8行", "小数超过两位"]),
    (1, None, ["第8行", "项目名称"]),
    (11, "—", ["第8行", "责任单位"]),
    (3, "2022年起", ["第8行", "建设起止年限"]),
    (8, "2022年春", ["第8行", "计划开工时间"]),
    (8, "2022年", ["第8行", "只写了年份"]),
    (8, 2022, ["第8行", "只写了年份"]),
    (9, 2024.1, ["第8行", "可能是1月也可能是10月"]),
])
def test_unreadable_row_rejects_everything(tmp_path, store, col, value, words):
    body = copy.deepcopy(IMPL_BODY)
    body[3][col] = value
    message = rejected(tmp_path, store, body)
    assert "“计划表.xlsx”工作表“附表1”" in message
    assert all(word in message for word in words), message


# ---- 责任单位, 建设起止年限, notes, 序号 ----------------------------------------------------------

@pytest.mark.parametrize("units", ["市住建局、柳东新区管委会", "市住建局，柳东新区管委会",
                                   "市住建局,柳东新区管委会", "市住建局；柳东新区管委会",
                                   "市住建局/柳东新区管委会", "市住建局\n柳东新区管委会"])
def test_unit_separators(tmp_path, store, units):
    body = copy.deepcopy(IMPL_BODY)
    body[3][11] = units
    import_body(tmp_path, store, body)
    road = by_name(store)["甲路"]
    assert (road.units, road.lead_unit) == (["市住建局", "柳东新区管委会"], "市住建局")


@pytest.mark.parametrize("years", ["2022-2024", "2022—2024", "2022年-2024年", "2022～2024",
                                   "2022 - 2024"])
def test_year_spans(tmp_path, store, years):
    body = copy.deepcopy(IMPL_BODY)
    body[3][3] = years
    import_body(tmp_path, store, body)
    assert by_name(store)["甲路"].years == (2022, 2024)


@pytest.mark.parametrize("start", ["2022年3月", "2022-03", "2022.3", 2022.03, date(2022, 3, 15),
                                   "2022/3/15", "２０２２年３月"])
def test_planned_months(tmp_path, store, start):
    body = copy.deepcopy(IMPL_BODY)
    body[3][8] = start
    import_body(tmp_path, store, body)
    assert by_name(store)["甲路"].planned_start == date(2022, 3, 1)


def test_notes_at_the_end_are_ignored_but_not_projects_after_them(tmp_path, store):
    notes = [["注：1.本表金额单位为万元；"], ["2.项目以市政府公布为准。"]]
    import_body(tmp_path, store, notes=notes)
    assert len(store.master.projects) == 3
    later = [["注：说明"], [1, "辛路", None, None, 100, None, 10, None, None, None, None, "市交通局"]]
    (tmp_path / "计划表.xlsx").unlink()
    fresh = MemoryStore(new_master(2022), tmp_path)
    message = rejected(tmp_path, fresh, notes=later)
    assert "第15行" in message and "说明" in message


def test_sequence_numbers_restart_and_are_not_keys(tmp_path, store):
    body = copy.deepcopy(IMPL_BODY)
    body[8][0] = 1  # 序号 1 three times
    import_body(tmp_path, store, body)
    assert sorted(by_name(store)) == ["丙桥", "乙厂", "甲路"]


# ---- declared counts and subtotals ------------------------------------------------------------

@pytest.mark.parametrize(("row", "label", "excel_row"), [
    (0, "总计（4项）", 5), (1, "一、新开工项目（3项）", 6), (4, "（二）产业发展（2项）", 9),
])
def test_count_mismatch_leaves_master_untouched(tmp_path, store, row, label, excel_row):
    body = copy.deepcopy(IMPL_BODY)
    body[row][0] = label
    message = rejected(tmp_path, store, body)
    assert f"工作表“附表1”第{excel_row}行" in message and "实际有" in message


@pytest.mark.parametrize(("row", "col", "value", "excel_row"), [
    # beyond rounding: 3 rows shown to 0.1 万元 allow 0.15 万元; 1 whole-万元 row allows 0.5
    (0, 4, D("70000.70"), 5), (2, 6, 3001, 7), (7, 5, 19999, 12),
])
def test_subtotal_mismatch_leaves_master_untouched(tmp_path, store, row, col, value,
                                                   excel_row):
    body = copy.deepcopy(IMPL_BODY)
    body[row][col] = value
    message = rejected(tmp_path, store, body)
    assert f"工作表“附表1”第{excel_row}行" in message and "合计为" in message


def test_problems_are_listed_up_to_ten(tmp_path, store):
    body = copy.deepcopy(IMPL_BODY)
    for row in (3, 5, 8):
        body[row][4] = "约1亿"
        body[row][6] = "若干"
        body[row][3] = "不详"
        body[row][9] = "待定"
    message = rejected(tmp_path, store, body)
    assert "另有" in message and len(message.splitlines()) == 12


# ---- files that are not plan tables -------------------------------------------------------------

def _not_a_plan(tmp_path: Path, case: str) -> Path:
    if case == "text file":
        path = tmp_path / "计划.xlsx"
        path.write_text("not a workbook", encoding="utf-8")
    elif case == "wps":
        path = tmp_path / "计划.et"
        path.write_bytes(b"\xd0\xcf\x11\xe0")
    elif case == "missing":
        path = tmp_path / "没有.xlsx"
    elif case == "zip":
        path = tmp_path / "计划.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
    elif case == "old xls":
        path = tmp_path / "计划.xls"
        path.write_bytes(b"garbage")
    else:
        path = write_book(tmp_path / "计划.xlsx", {"Sheet1": ([["通知"], ["请于1月底前报送"]], [])})
    return path


@pytest.mark.parametrize(("case", "words"), [
    ("text file", "文件内容不是 Excel 工作簿，而是文本文件"), ("wps", "另存为 .xlsx"),
    ("missing", "找不到"), ("zip", "而是普通压缩包（zip）"), ("old xls", "不是 Excel 工作簿"),
    ("no table", "没有找到计划表"),
])
def test_files_that_are_not_plan_tables(tmp_path, store, case, words):
    message = rejected(tmp_path, store, files=[_not_a_plan(tmp_path, case)])
    assert words in message and "计划" in message


def test_no_files_is_a_usage_error(store):
    with pytest.raises(UsageError):
        import_plan(store, [])


# ---- batches, duplicates, 项目编号 ------------------------------------------------------------

def test_second_import_needs_a_batch(tmp_path, master_path):
    import_body(tmp_path, master_path)
    message = rejected(tmp_path, master_path)
    assert "年初计划已导入 3 个项目" in message and "增补请给出批次名" in message
    again = write_book(tmp_path / "计划表.xlsx", {"附表1": plan_sheet(body=IMPL_BODY)})
    command = run_zdxm("plan", "import", master_path, again)
    assert command.code == 1 and "增补请加 --batch 批次名" in command.stderr, command.stderr


def test_batch_adds_projects_and_refuses_existing_ones(tmp_path, store):
    import_body(tmp_path, store)
    body = single_body()
    body[0][1] = None
    result = import_single(tmp_path, store, body, batch="第一批增补",
                           batch_date="2022-06-15")
    assert result.project_ids == ["ZD2022-0004", "ZD2022-0005"]
    assert (result.batch, result.batch_date) == ("第一批增补", date(2022, 6, 15))
    assert to_json(result)["batch_date"] == "2022-06-15"
    master = store.master
    assert {(p.batch, p.batch_date) for p in master.projects[3:]} == {("第一批增补", date(2022, 6, 15))}
    assert {(p.batch, p.batch_date) for p in master.projects[:3]} == {("年初", None)}
    assert [(c.kind, c.batch, c.effective) for c in master.changes[3:]] == [
        ("增补", "第一批增补", date(2022, 6, 15))] * 2
    assert store.saves == 2
    before = copy.deepcopy(store.master)
    with pytest.raises(InputRejected) as caught:
        import_single(tmp_path, store, body, batch="第二批增补")
    message = str(caught.value)
    assert "计划表未导入（台账未改动）" in message
    assert "与台账中已有项目“己园”（ZD2022-0004，第一批增补）重复：项目代码相同" in message
    assert "项目“庚路”与台账中已有项目（ZD2022-0005，第一批增补）重复：项目名称和牵头单位（市交通局）都相同" \
        in message
    assert store.saves == 2 and store.master == before


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"batch": "年初"}, "留给年初计划"),
    ({"batch": " "}, "批次名不能为空"),
    ({"batch_date": "2022-06-15"}, "请同时指定增补批次名"),
    ({"batch": "增补一", "batch_date": "2023-01-10"}, "不在台账的计划年度 2022 年内"),
    ({"batch": "增补一", "batch_date": "6月15日"}, "批次日期“6月15日”无效"),
])
def test_batch_arguments_are_checked(tmp_path, store, kwargs, words):
    import_body(tmp_path, store)
    before = copy.deepcopy(store.master)
    plan = write_book(tmp_path / "增补.xlsx", {"附表1": plan_sheet(SINGLE_HEADER, single_body(),
                                                                    unit_line=None, notes=[])})
    with pytest.raises(UsageError, match=words):
        import_plan(store, [plan], **kwargs)
    assert store.saves == 1 and store.master == before


@pytest.mark.skipif(date.today().year == 2022, reason="今天恰在计划年度内")
def test_a_batch_needs_a_date_when_today_is_outside_the_plan_year(tmp_path, store):
    import_body(tmp_path, store)
    plan = write_book(tmp_path / "增补.xlsx", {"附表1": plan_sheet(SINGLE_HEADER, single_body(),
                                                                    unit_line=None, notes=[])})
    with pytest.raises(UsageError, match="请指定增补批次“增补一”的日期"):
        import_plan(store, [plan], batch="增补一")


def test_one_batch_name_keeps_one_date(tmp_path, store):
    import_body(tmp_path, store)
    body = single_body()
    first, second = [body[0], ["合计（1项）", *body[2][1:7], D("1.5"), 0, D("0.25")]], \
        [body[1], ["合计（1项）", *body[2][1:7], "2.123456", D("0.5"), D("0.3")]]
    import_single(tmp_path, store, first, batch="第一批增补", batch_date="2022-06-15")
    with pytest.raises(UsageError, match="同一批次的附表请用同一日期"):
        import_single(tmp_path, store, second, batch="第一批增补", batch_date="2022-07-01")
    import_single(tmp_path, store, second, batch="第一批增补", batch_date="2022-06-15")
    assert [p.batch for p in store.master.projects[3:]] == ["第一批增补"] * 2


@pytest.mark.parametrize("how", ["same code", "same name and lead unit"])
def test_duplicate_rows_in_the_file(tmp_path, store, how):
    body = single_body()
    if how == "same code":
        body[1][2] = body[0][2]
    else:
        body[1][3], body[1][10] = "己园", "市工信局、柳江区人民政府"
    before = copy.deepcopy(store.master)
    with pytest.raises(InputRejected, match="重复") as caught:
        import_single(tmp_path, store, body)
    assert "第4行" in str(caught.value) and "第3行" in str(caught.value)
    assert store.saves == 0 and store.master == before


def test_project_id_in_the_file_must_be_free(tmp_path, store):
    master = store.load()
    master.projects.append(Project(id="ZD2022-0101", name="旧项目", stage="续建", sector="基础设施",
                                   total_investment=D(1), annual_plan=D(1), units=["市交通局"]))
    master.ensure_units(["市交通局"])
    store.save(master)
    before = copy.deepcopy(store.master)
    with pytest.raises(InputRejected, match="ZD2022-0101"):
        import_single(tmp_path, store, batch="增补一")
    assert store.saves == 1 and store.master == before


# ---- export -----------------------------------------------------------------------------------

SECTOR_CYCLE = ("基础设施", "产业发展", "民生保障", "生态环保")
STAGE_CYCLE = ("新开工", "续建", "竣工", "预备")


def sample_master(folder: Path, name: str = "台账.xlsx") -> MemoryStore:
    master = new_master(2022)
    master.settings.city = "柳州市"
    units = ["市住建局", "市交通局", "柳东新区管委会", "鱼峰区人民政府"]
    for i in range(1, 22):
        stage = STAGE_CYCLE[i % 4]
        preparatory = stage == "预备"
        master.projects.append(Project(
            id=f"ZD2022-{i:04d}",
            code=f"2201-450200-04-01-{i:06d}" if i % 3 else None,
            name=f"重大项目{i}号",
            stage=stage,
            sector=SECTOR_CYCLE[(i // 3) % 4],
            county=master.settings.counties[i % 12],
            content=f"建设内容{i}，规模{i * 10}亩" if i % 5 else None,
            years=(2021 + i % 2, 2023 + i % 3) if i % 7 else (2022, 2022),
            total_investment=D(f"{i * 12345}.{i:02d}"),
            prior_completed=None if preparatory or stage == "新开工" and i % 2 else D(i * 100),
            annual_plan=None if preparatory else D(f"{i * 1000}.5"),
            annual_content=None if preparatory else f"年度目标{i}",
            planned_start=date(2022, i % 12 + 1, 1) if i % 4 != 2 else None,
            planned_end=None if preparatory else date(2023 + i % 2, 12, 1),
            units=[units[i % 4], units[(i + 1) % 4]] if i % 2 else [units[i % 4]],
            owner=f"业主公司{i}",
            agent="代建公司" if i % 6 == 0 else None,
            status="已退出" if i == 21 else "在库",
            exit_date=date(2022, 5, 1) if i == 21 else None,
            exit_reason="无法实施" if i == 21 else None,
        ))
    master.ensure_units(units)
    return MemoryStore(master, folder, name)


PLAN_FIELDS = ("id", "code", "name", "stage", "sector", "county", "content", "years",
               "total_investment", "prior_completed", "annual_plan", "annual_content",
               "planned_start", "planned_end", "units", "owner", "agent")


def test_export_then_import_gives_the_same_plan(tmp_path):
    source = sample_master(tmp_path, "原台账.xlsx")
    original = source.master
    out = export_plan(source, tmp_path / "附表.xlsx")
    assert source.saves == 0
    fresh = new_master(2022)
    fresh.settings.city = original.settings.city
    target = MemoryStore(fresh, tmp_path, "新台账.xlsx")
    result = import_plan(target, [out])
    assert (result.implementation, result.preparatory) == (15, 5)
    again = target.master

    def plan(master):
        return {p.id: {f: getattr(p, f) for f in PLAN_FIELDS} for p in master.projects if p.active}

    assert plan(again) == plan(original)
    # The export holds the projects 在库: the same 调整后 summary. (The original's 年初计划
    # also counts its project exited since, which the export rightly leaves out.)
    assert to_json(summarize(again))["rows"] == to_json(summarize(original))["rows"]


def test_export_is_print_ready(tmp_path):
    out = export_plan(sample_master(tmp_path), tmp_path / "附表.xlsx")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["附表1", "附表2"]
    ws = book["附表1"]
    assert ws["A2"].value == "柳州市2022年重大项目计划表（实施项目）"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A3
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$4:$5"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A2:P2", "A4:A5", "D4:D5", "G4:I4", "A6:D6"} <= merged
    assert [ws.cell(5, c).value for c in (7, 8, 9)] == ["总投资", "截至上年底累计完成投资",
                                                        "年度计划投资"]
    assert ws["A6"].value == "总计（15项）"
    assert ws["A7"].value == "一、新开工项目（5项）"
    assert str(ws["A8"].value).startswith("（一）")
    assert ws["A9"].value == 1 and ws["G9"].number_format == "#,##0.00"
    assert isinstance(ws["G6"].value, int | float) and ws["G9"].border.left.style == "thin"
    prep = book["附表2"]
    assert prep["A2"].value == "柳州市2022年重大项目计划表（预备项目）"
    assert prep["A6"].value == "总计（5项）" and prep.print_title_rows == "$4:$5"


def test_export_needs_xlsx(tmp_path):
    with pytest.raises(UsageError):
        export_plan(sample_master(tmp_path), tmp_path / "附表.xls")


def test_a_plan_file_built_to_crash_the_reader_is_a_finding(tmp_path, master_path):
    """A cell at XFD1048576 makes python-calamine abort the process; the plan reader now
    goes through the gate (vetting, then the child reader) like any return."""
    good = write_book(tmp_path / "计划表.xlsx", {"附表1": plan_sheet()})
    far = tmp_path / "远端单元格.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(far, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576">'
                                                     b"<v>1</v></c></row></sheetData>")
            zout.writestr(info, data)
    before = master_path.read_bytes()
    result = run_zdxm("plan", "import", master_path, far)
    assert result.code == 1, result.stderr
    assert "文件“远端单元格.xlsx”不能导入：工作表范围异常" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout and "再导入" in result.stderr
    assert master_path.read_bytes() == before


# ---- an official table in 亿元 with four decimals, rounded row by row --------------------------

def rounded_yi_table(rows: int = 40, seed: int = 7) -> tuple[list[list], list[D]]:
    """A 续建 table as offices publish it: each figure rounded from raw 万元 to 0.0001 亿元,
    the 小计 and 总计 rounded from the raw sums — so they need not equal their rows' sum.
    Units lead several projects each. Returns the body and the raw totals (万元)."""
    import random

    rng = random.Random(seed)
    units = ["市交通运输局", "市住房城乡建设局", "城中区人民政府", "柳东新区管委会", "市水务集团"]
    raw = [D(rng.randint(100000, 9999999)) / 100 for _ in range(rows)]  # 万元, two places
    annual = [(r * D("0.3")).quantize(D("0.01")) for r in raw]

    def yi(amount: D) -> D:
        return (amount / 10000).quantize(D("0.0001"))

    label_total = [yi(sum(raw)), None, yi(sum(annual))]
    body = [[f"总计（{rows}项）", None, None, None, *label_total],
            [f"一、续建项目（{rows}项）", None, None, None, *label_total],
            [f"（一）基础设施项目（{rows}项）", None, None, None, *label_total]]
    for number, (amount, plan) in enumerate(zip(raw, annual, strict=True), start=1):
        body.append([number, f"道路{number}", "改造", "2021-2023", yi(amount), None, yi(plan),
                     "路面", "已开工", "2023-06", "城中区", units[number % len(units)], "某公司"])
    return body, raw


def test_rounded_subtotals_are_accepted_with_a_warning(tmp_path, master_path):
    body, raw = rounded_yi_table()
    shown = sum((row[4] for row in body[3:]), D(0))
    assert shown != body[0][4]  # the table's own total is not the sum of its rounded rows
    plan = write_book(tmp_path / "计划表.xlsx", {"附表1": plan_sheet(body=body,
                                                                   unit_line="单位：亿元")})
    result = run_zdxm("plan", "import", master_path, plan)
    assert result.code == 0, result.stderr
    assert "已导入实施项目 40 个" in result.stdout
    assert "提示：" in result.stdout and "四舍五入" in result.stdout
    assert "40个项目×0.5万元" in result.stdout  # half a unit of the last digit (0.0001 亿), per row
    projects = load_master(master_path).projects
    assert sum((p.total_investment for p in projects), D(0)) == shown * 10000


def test_a_subtotal_off_by_more_than_rounding_is_still_refused(tmp_path, store):
    body, _ = rounded_yi_table()
    body[0][4] += D("0.0030")  # 30 万元 off across 40 rows shown to 0.0001 亿元 (at most 20)
    message = rejected(tmp_path, store, body, unit_line="单位：亿元")
    assert "工作表“附表1”第5行" in message and "总计" in message


def test_units_leading_several_projects_are_listed_once(tmp_path, store):
    body, _ = rounded_yi_table()
    plan = write_book(tmp_path / "计划表.xlsx", {"附表1": plan_sheet(body=body,
                                                                   unit_line="单位：亿元")})
    result = import_plan(store, [plan])
    assert len(result.new_units) == 5
    assert [u.name for u in store.master.units] == result.new_units
    more, _ = rounded_yi_table(rows=6, seed=8)
    for row in more[3:]:
        row[1] = f"增补{row[1]}"
    batch = write_book(tmp_path / "增补.xlsx", {"附表1": plan_sheet(body=more,
                                                                   unit_line="单位：亿元")})
    assert import_plan(store, [batch], batch="第一批增补", batch_date="2022-05-10"
                       ).new_units == []
    assert len(store.master.units) == 5
