"""Shared fixtures: small masters built in tmp_path, and running ``zdxm`` as a user does."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from zdxm_xl.books.masterio import create_master
from zdxm_xl.checks.batch import forget_examined
from zdxm_xl.core.master import Master, MemoryStore, new_master
from zdxm_xl.core.models import Project, Unit
from zdxm_xl.frontends.cli import main

# The real programs some tests use, by marker. Missing here, such a test is skipped; under
# CI (CI=1, set by .ci/run, which installs them) it fails instead, so it can never be
# skipped silently where it has to run.
DOVECOT = shutil.which("dovecot") or next(
    (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None)
REQUIREMENTS: dict[str, tuple[Callable[[], bool], str]] = {
    "soffice": (lambda: all(shutil.which(p) for p in ("soffice", "pdftotext", "pdftoppm")),
                "LibreOffice 和 poppler-utils（Debian 软件包 libreoffice-calc、libreoffice-writer、"
                "poppler-utils）"),
    "dovecot": (lambda: DOVECOT is not None, "Dovecot（Debian 软件包 dovecot-imapd）"),
}


@pytest.fixture(autouse=True)
def examined_afresh() -> None:
    """Each test's files are vetted and read by its own runs, not remembered from another
    test's (a module's files are shared by its tests)."""
    forget_examined()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, (present, what) in REQUIREMENTS.items():
        if item.get_closest_marker(marker) is not None and not present():
            if os.environ.get("CI"):
                pytest.fail(f"CI 中缺少 {what}：应由 .ci/run 安装", pytrace=False)
            pytest.skip(f"需要 {what}")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_zdxm(*args: object) -> Run:
    """Run the ``zdxm`` command in-process and capture what a user would see."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([str(a) for a in args])
    return Run(code, stdout.getvalue(), stderr.getvalue())


def project(number: int, stage: str = "新开工", sector: str = "基础设施", total: str = "1000",
            annual: str | None = "200", units: tuple[str, ...] = ("市发展改革委",),
            **fields: object) -> Project:
    """A plausible project with exact amounts (万元)."""
    return Project(
        id=f"ZD2022-{number:04d}", name=f"测试项目{number}", stage=stage, sector=sector,
        total_investment=Decimal(total),
        annual_plan=None if stage == "预备" or annual is None else Decimal(annual),
        units=list(units), **fields,
    )


def small_master() -> Master:
    master = new_master(2022)
    master.settings.city = "柳州市"
    master.projects = [
        project(1, "新开工", "基础设施", "10000.50", "2000.25", ("城中区人民政府", "市住房城乡建设局")),
        project(2, "续建", "产业发展", "5000", "1000", ("市工业和信息化局",),
                prior_completed=Decimal("1500")),
        project(3, "竣工", "民生保障", "800.10", "300.10", ("市教育局",),
                prior_completed=Decimal("500")),
        project(4, "预备", "生态环保", "12345.67", None, ("市生态环境局",)),
    ]
    master.units = [Unit(name=n, informant_name="张三", informant_phone="13800000000")
                    for n in ("城中区人民政府", "市住房城乡建设局", "市工业和信息化局", "市教育局",
                              "市生态环境局")]
    return master


@pytest.fixture
def store(tmp_path: Path) -> MemoryStore:
    """The small master kept in memory: operations run on it without writing a workbook."""
    return MemoryStore(small_master(), tmp_path)


@pytest.fixture
def master_path(tmp_path: Path) -> Path:
    path = tmp_path / "台账.xlsx"
    create_master(path, 2022, small_master())
    return path
