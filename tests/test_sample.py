"""The embedded sample reproduces the seed's 工作任务 figures and is plausible, fixed data."""

from __future__ import annotations

import random
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from zdxm_xl.books.masterio import create_master, load_master
from zdxm_xl.core.master import Master
from zdxm_xl.core.money import to_yi
from zdxm_xl.core.results import to_json
from zdxm_xl.core.summary import summarize
from zdxm_xl.demo.sample import allocate, build_sample, solve_sums

# The seed's 工作任务 section as printed (柳政办〔2022〕5号): 阶段 (None: 实施项目), 行业
# (None: the stage's total), 项目数, 总投资 and 年度计划投资 in 亿元.
SEED = [
    (None, None, 668, "5228.27", "776.92"),
    ("新开工", None, 183, "1407.74", "248.82"),
    ("新开工", "基础设施", 40, "707.89", "87.03"),
    ("新开工", "产业发展", 112, "634.22", "145.10"),
    ("新开工", "民生保障", 24, "48.47", "11.19"),
    ("新开工", "生态环保", 7, "17.16", "5.50"),
    ("续建", None, 345, "3182.43", "413.56"),
    ("续建", "基础设施", 128, "1382.35", "152.63"),
    ("续建", "产业发展", 134, "923.86", "139.28"),
    ("续建", "民生保障", 64, "771.70", "111.11"),
    ("续建", "生态环保", 19, "104.53", "10.54"),
    ("竣工", None, 140, "638.10", "114.54"),
    ("竣工", "基础设施", 49, "212.96", "41.89"),
    ("竣工", "产业发展", 48, "198.85", "39.17"),
    ("竣工", "民生保障", 37, "205.76", "30.42"),
    ("竣工", "生态环保", 6, "20.54", "3.07"),
    ("预备", None, 287, "4810.78", None),
    ("预备", "基础设施", 121, "3900.94", None),
    ("预备", "产业发展", 125, "736.79", None),
    ("预备", "民生保障", 36, "164.66", None),
    ("预备", "生态环保", 5, "8.40", None),
]
CODE = re.compile(r"^\d{4}-45\d{4}-\d{2}-0[123]-\d{6}$")  # YYYY-AAAAAA-BB-CC-DDDDDD
PHONE = re.compile(r"^(1[358]\d{9}|0772-\d{7})$")
EMAIL = re.compile(r"^[a-z0-9._]+@example\.cn$")
MONEY_FIELDS = ("total_investment", "prior_completed", "annual_plan")


@pytest.fixture(scope="module")
def sample() -> Master:
    return build_sample()


@pytest.fixture(scope="module")
def rows(sample: Master) -> dict[tuple[str | None, str | None], dict[str, object]]:
    """The sample's summary rows by (阶段, 行业), as ``zdxm plan summary --json`` gives them."""
    table = to_json(summarize(sample))["rows"]
    assert isinstance(table, list)
    return {(row["stage"], row["sector"]): row for row in table}


@pytest.mark.parametrize(("stage", "sector", "count", "total", "annual"), SEED)
def test_reproduces_every_figure_of_the_seed(rows: dict, stage: str | None, sector: str | None,
                                             count: int, total: str, annual: str | None) -> None:
    row = rows[(stage, sector)]
    assert (row["count"], row["total_investment"], row["annual_plan"]) == (count, total, annual)


def test_keeps_the_seeds_rounding_quirks(rows: dict) -> None:
    # Totals are rounded from exact sums, so they differ from the sum of the printed parts.
    for stage, column, parts, whole in [("续建", "total_investment", "3182.44", "3182.43"),
                                        ("竣工", "total_investment", "638.11", "638.10"),
                                        ("竣工", "annual_plan", "114.55", "114.54"),
                                        ("预备", "total_investment", "4810.79", "4810.78")]:
        printed = [Decimal(str(rows[(stage, s)][column]))
                   for s in ("基础设施", "产业发展", "民生保障", "生态环保")]
        assert (sum(printed), rows[(stage, None)][column]) == (Decimal(parts), whole)


def test_is_the_same_on_every_call(sample: Master) -> None:
    again = build_sample()
    assert [p.model_dump() for p in again.projects] == [p.model_dump() for p in sample.projects]
    assert [u.model_dump() for u in again.units] == [u.model_dump() for u in sample.units]
    assert (again.settings.city, again.settings.publisher, again.year) == (
        "柳州市", "柳州市重大项目建设推进办公室", 2022)


def test_counts_and_order(sample: Master) -> None:
    stages = Counter(p.stage for p in sample.projects)
    assert (len(sample.implementation), len(sample.preparatory)) == (668, 287)
    assert stages == {"新开工": 183, "续建": 345, "竣工": 140, "预备": 287}
    assert [p.id for p in sample.projects] == [f"ZD2022-{n:04d}" for n in range(1, 956)]
    assert all(not p.is_preparatory for p in sample.projects[:668])
    assert 50 <= len(sample.units) <= 70


def test_money_is_exact_whole_wan(sample: Master) -> None:
    for p in sample.projects:
        for field in MONEY_FIELDS:
            value = getattr(p, field)
            assert value is None or type(value) is Decimal, (p.id, field)
            assert value is None or (value > 0 or field == "prior_completed")
            assert value is None or value == value.to_integral_value()


def test_plan_fields_are_consistent_with_the_stage(sample: Master) -> None:
    for p in sample.projects:
        assert p.years is not None and p.planned_start is not None, p.id
        start, end = p.years
        assert p.planned_start.day == 1 and p.planned_start.year == start, p.id
        if p.stage == "预备":
            assert (p.annual_plan, p.prior_completed, p.annual_content) == (None, None, None)
            assert start in (2023, 2024) and end > start and p.planned_end is None, p.id
            continue
        assert p.annual_plan is not None and p.prior_completed is not None
        assert p.annual_plan <= p.total_investment and p.annual_content, p.id
        assert p.planned_end is not None and p.planned_end.day == 1 and p.planned_end.year == end
        if p.stage == "新开工":
            assert p.prior_completed == 0 and start == 2022 and end >= 2023, p.id
        elif p.stage == "续建":
            assert 0 < p.prior_completed <= p.total_investment - p.annual_plan, p.id
            assert 2018 <= start <= 2021 and 2023 <= end <= 2026, p.id
        else:
            assert p.prior_completed == p.total_investment - p.annual_plan > 0, p.id
            assert 2018 <= start <= 2021 and end == 2022, p.id


def test_new_starts_lean_to_the_first_half_year(sample: Master) -> None:
    months = Counter(p.planned_start.month for p in sample.projects
                     if p.stage == "新开工" and p.planned_start)
    assert sum(months[m] for m in range(1, 7)) > 2 * sum(months[m] for m in range(7, 13))
    assert set(months) == set(range(1, 13))
    prepared = Counter(p.planned_start.year for p in sample.preparatory if p.planned_start)
    assert prepared[2023] > 2 * prepared[2024]
    assert all(p.planned_end and p.planned_end.year == 2022 for p in sample.projects
               if p.stage == "竣工")


def test_sizes_look_real(sample: Master) -> None:
    totals = sorted(p.total_investment for p in sample.projects)
    assert totals[0] >= 1000  # 万元: nothing below 1000 万元 is a 市级重大项目
    assert sum(1 for t in totals if t >= 100_000) >= 50  # tens of 亿元 infrastructure
    industry = [p.total_investment for p in sample.projects if p.sector == "产业发展"]
    assert sum(1 for t in industry if 10_000 <= t <= 100_000) > len(industry) // 2


def test_names_and_texts(sample: Master) -> None:
    names = [p.name for p in sample.projects]
    assert len(set(names)) == len(names)
    counties = set(sample.settings.counties)
    for p in sample.projects:
        assert p.county in counties and p.content and p.owner, p.id
        assert re.search(r"\d", p.content), p.id  # sizes: 公里, 平方米, 张, 套 …
    assert {"城中区", "柳东新区", "三江侗族自治县"} <= {p.county for p in sample.projects}
    assert any("螺蛳粉" in n for n in names) and any("新能源汽车" in n for n in names)


def test_codes_follow_the_national_format(sample: Master) -> None:
    codes = [p.code for p in sample.projects if p.code]
    assert len(codes) > len(sample.projects) * 2 // 3
    assert all(CODE.match(code) for code in codes), [c for c in codes if not CODE.match(c)]
    assert len(set(codes)) == len(codes)


def test_units_and_contacts(sample: Master) -> None:
    units = {u.name: u for u in sample.units}
    assert len(units) == len(sample.units)
    assert {"城中区人民政府", "柳东新区管委会", "阳和工业新区（北部生态新区）管委会",
            "市发展改革委", "市住房城乡建设局"} <= set(units)
    for p in sample.projects:
        assert 1 <= len(p.units) <= 3 and len(set(p.units)) == len(p.units), p.id
        assert all(name in units for name in p.units), p.id
    leads = {p.lead_unit for p in sample.projects}
    assert leads == set(units)  # every unit reports at least one project
    people = []
    for u in sample.units:
        assert u.code and u.informant_name and u.informant_title, u.name
        for role in ("commissioner", "liaison", "informant"):
            people.append(getattr(u, f"{role}_name"))
            assert PHONE.match(getattr(u, f"{role}_phone") or ""), (u.name, role)
        assert EMAIL.match(u.liaison_email or "") and EMAIL.match(u.informant_email or "")
    assert len(set(people)) == len(people)


def test_solving_sums_rounds_every_figure_once() -> None:
    sums = solve_sums(random.Random(7))
    for stage, sector, _count, total, annual in SEED:
        keys = [k for k in sums if (stage is None and k[0] != "预备") or
                (k[0] == stage and (sector is None or k[1] == sector))]
        assert to_yi(Decimal(sum(sums[k][0] for k in keys))) == Decimal(total)
        if annual is not None:
            assert to_yi(Decimal(sum(sums[k][1] or 0 for k in keys))) == Decimal(annual)


def test_allocate_is_exact_and_respects_caps() -> None:
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(100, [1, 1, 8], caps=[100, 100, 50]) == [25, 25, 50]
    with pytest.raises(ValueError):
        allocate(100, [1, 1], caps=[10, 10])


def test_round_trip_through_the_master_file(tmp_path: Path, sample: Master) -> None:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, build_sample())
    again = load_master(path)
    assert to_json(summarize(again)) == to_json(summarize(sample))
    assert [p.model_dump() for p in again.projects] == [p.model_dump() for p in sample.projects]
    assert [u.model_dump() for u in again.units] == [u.model_dump() for u in sample.units]
