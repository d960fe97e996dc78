"""The office that the checking, merge, mail and problem tests share: 市交通运输局 leading
a 新开工, a 续建, a 竣工 and a 预备 project, with February's ledger, and a return's cells
edited as a unit would edit them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl

from conftest import project
from zdxm_xl.books.masterio import create_master
from zdxm_xl.books.styles import write_text
from zdxm_xl.core.master import Master, new_master
from zdxm_xl.core.models import LedgerEntry, Unit
from zdxm_xl.core.registry import FORM_HEADER_ROW as HEADER_ROW

UNIT = "市交通运输局"
SHEET = "实施项目月报"


def checking_master() -> Master:
    """A unit leading a 新开工, a 续建 and a 竣工 project and a 预备 one, with February's
    ledger, so month-over-month rules have something to compare with."""
    master = new_master(2022)
    master.settings.city = "柳州市"
    master.projects = [
        project(1, "新开工", "基础设施", "50000", "12000", (UNIT, "柳南区人民政府")),
        project(2, "续建", "基础设施", "80000", "20000", (UNIT,), prior_completed=Decimal("30000")),
        project(3, "竣工", "民生保障", "9000", "3000", (UNIT,), prior_completed=Decimal("6000")),
        project(4, "预备", "生态环保", "20000", None, (UNIT,)),
        project(5, "续建", "产业发展", "7000", "1000", ("市工业和信息化局",),
                prior_completed=Decimal("1000")),
    ]
    master.units = [Unit(name=UNIT, informant_name="李明", informant_phone="0772-2801234",
                         liaison_name="黄海"),
                    Unit(name="柳南区人民政府"), Unit(name="市工业和信息化局")]
    feb = dict(period="2022-02", unit=UNIT, source_sha256="0" * 64)
    master.ledger = [
        LedgerEntry(project_id="ZD2022-0001", month_completed=Decimal(300),
                    year_completed=Decimal(300), total_completed=Decimal(300), started="是",
                    start_date=date(2022, 2, 10), completed="否", **feb),
        LedgerEntry(project_id="ZD2022-0002", month_completed=Decimal(1000),
                    year_completed=Decimal(2500), total_completed=Decimal(32500), started="是",
                    start_date=date(2020, 5, 1), completed="否", **feb),
        LedgerEntry(project_id="ZD2022-0003", month_completed=Decimal(500),
                    year_completed=Decimal(900), total_completed=Decimal(8900), started="是",
                    start_date=date(2020, 3, 1), completed="是", end_date=date(2022, 2, 20),
                    **feb),
    ]
    return master


def build_master(path: Path) -> Path:
    """``checking_master`` as a master workbook at ``path``."""
    create_master(path, 2022, checking_master())
    return path


def edit(path: Path, changes: dict[tuple[int, str], object], sheet: str = SHEET) -> Path:
    """Change cells of the return sheet by (project row 0-based, header text)."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    titles = [c.value for c in ws[HEADER_ROW]]
    for (row, header), value in changes.items():
        # Text stays text, as when a unit types it (a leading = typed in Excel is a formula,
        # whose cached result is what a reader sees).
        write_text(ws.cell(row=HEADER_ROW + 1 + row, column=titles.index(header) + 1), value)
    book.save(path)
    return path
