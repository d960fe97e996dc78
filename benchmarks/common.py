"""What the benchmarks share: the baselines measured in the same run, and the files they run on.

Baselines (named, measured in the same run as what they are compared with):

* ``raw_read`` — python-calamine reading every sheet of every file, nothing else: the
  least any checker that reads the values must spend.
* ``naive_read`` — openpyxl in read-only mode reading every cell of every file: what a
  script written without care for speed does.

The files: a plan of ``units`` 牵头单位 with ``per_unit`` 实施 projects each, one form per
unit for January, filled plausibly (``demo.fill``). Preparing thousands of them takes
minutes, so they are kept in a cache folder and reused by later runs; a master for fewer
units is the same plan cut to its first units, signed with the same key, so the first N
returns of the cache are valid returns for it.

Those returns are the forms as openpyxl wrote them — text inline, every Chinese character a
character reference — with the inputs typed into them in place (``demo.fill``). A
信息员's return was saved by Excel or WPS, which keep text in a shared-strings part, as
UTF-8, often in rich-text runs, and the form's formulas with the values they computed.
``resaved`` gives the same returns in that shape: 本年累计 and 开工以来累计 left to the
formulas, opened and saved by LibreOffice (cached too).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from zdxm_xl.books.masterio import create_master
from zdxm_xl.core.identity import FORM_VERSION
from zdxm_xl.core.master import Master, new_master
from zdxm_xl.core.models import IMPLEMENTATION_STAGES, Project, Unit
from zdxm_xl.core.registry import SECTORS
from zdxm_xl.core.returns import expected_returns, last_reported, previous_figures
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.reports.forms import form_name, write_form

PERIOD = "2022-01"


def _layout() -> str:
    """What cached files depend on: the form version, every sheet's columns and how returns
    are filled (a master or a form made before a column or sheet was added, or a return
    filled otherwise, is made again)."""
    from zdxm_xl.core import registry

    specs = sorted((value.sheet, value.titles) for value in vars(registry).values()
                   if isinstance(value, registry.SheetSpec))
    return f"v{FORM_VERSION}-" + hashlib.sha256(repr((specs, _FILLED)).encode()).hexdigest()[:8]


_FILLED = "in place"  # how ``demo.fill`` fills a return (before: "openpyxl", laid out anew)
# How a master's long parts are stored: "pieces", deflated in pieces recorded with the part
# (a merge copies those it keeps). A cached master written before keeps none: its first
# merge would deflate its ledger whole, which is not what the office's monthly merge does.
_WRITTEN = "pieces"


LAYOUT = _layout()
ISSUED = datetime(2022, 1, 25, 9, 0)
CACHE = Path(os.environ.get("ZDXM_BENCH_CACHE", Path.home() / ".cache" / "zdxm-bench"))


def raw_read(files: list[Path]) -> float:
    """Seconds python-calamine takes to read every sheet of every file, nothing else: the
    least any checker that reads the values must spend."""
    start = time.perf_counter()
    for path in files:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return time.perf_counter() - start


def naive_read(files: list[Path]) -> float:
    """Seconds openpyxl's read-only mode takes to read every cell of every file."""
    import openpyxl

    start = time.perf_counter()
    for path in files:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for sheet in book.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                pass
        book.close()
    return time.perf_counter() - start


def unit_name(number: int) -> str:
    return f"单位{number:05d}"


def plan(units: int, per_unit: int, secret: str) -> Master:
    """A deterministic plan: ``units`` 牵头单位 with ``per_unit`` 实施 projects each."""
    master = new_master(2022)
    master.secret = secret
    master.units = [Unit(name=unit_name(u), informant_name="张三", informant_phone="13800000000")
                    for u in range(units)]
    number = 0
    for u in range(units):
        for _ in range(per_unit):
            number += 1
            stage = IMPLEMENTATION_STAGES[number % 3]
            master.projects.append(Project(
                id=f"ZD2022-{number:05d}", name=f"重大项目{number}", stage=stage,
                sector=SECTORS[number % 4], total_investment=Decimal(10000 + number),
                prior_completed=Decimal(0) if stage == "新开工" else Decimal(2000),
                annual_plan=Decimal(1200 + number % 500), units=[unit_name(u)]))
    return master


@dataclass
class Prepared:
    """The cached plan and returns: ``returns[i]`` is unit i's filled January form."""

    folder: Path
    units: int
    per_unit: int
    secret: str
    returns: list[Path]

    def master(self, units: int) -> Master:
        """The plan cut to its first ``units`` units (same key: their returns are valid)."""
        return plan(units, self.per_unit, self.secret)

    def write_master(self, folder: Path, units: int) -> Path:
        path = folder / "台账.xlsx"
        create_master(path, 2022, self.master(units))
        return path


def fill_seed(unit: str) -> int:
    """How a unit's return is filled (the same figures every time it is made)."""
    return int(hashlib.sha256(unit.encode()).hexdigest()[:8], 16)


def _make_return(job: tuple[str, int, int, str, str, str]) -> str:
    secret, units, per_unit, unit, form, filled = job
    master = _plan_for_worker(units, per_unit, secret)
    projects = _WORKER_PLAN[1][unit]
    write_form(master, unit, projects, PERIOD, Path(form), ISSUED, _WORKER_PLAN[2], _WORKER_PLAN[3])
    return str(fill_form(Path(form), Path(filled), seed=fill_seed(unit)).path)


# (plan, its expected returns, previous figures, last reported), made once per worker
_WORKER_PLAN: tuple[Any, ...] = ()


def _plan_for_worker(units: int, per_unit: int, secret: str) -> Master:
    global _WORKER_PLAN
    if not _WORKER_PLAN or _WORKER_PLAN[0].secret != secret or len(_WORKER_PLAN[0].units) != units:
        master = plan(units, per_unit, secret)
        _WORKER_PLAN = (master, expected_returns(master, PERIOD), previous_figures(master, PERIOD),
                        last_reported(master, PERIOD))
    return _WORKER_PLAN[0]


def prepare(units: int, per_unit: int = 10, cache: Path = CACHE, quiet: bool = False) -> Prepared:
    """The plan and one filled return per unit, from the cache or made now (in parallel)."""
    # a cached set of at least as many units serves: its first units are a plan of their own
    for made in sorted(cache.glob(f"{LAYOUT}-*x{per_unit}"),
                       key=lambda f: int(f.name.rsplit("-", 1)[1].split("x")[0])):
        done = made / "done.json"
        size = int(made.name.rsplit("-", 1)[1].split("x")[0])
        if size < units or not done.exists():
            continue
        meta = json.loads(done.read_text(encoding="utf-8"))
        returns = [made / "收件" / name for name in meta["returns"]]
        if all(path.exists() for path in returns):
            return Prepared(made, size, per_unit, meta["secret"], returns)
    folder = cache / f"{LAYOUT}-{units}x{per_unit}"
    done = folder / "done.json"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "模板").mkdir(parents=True)
    (folder / "收件").mkdir()
    secret = hashlib.sha256(f"zdxm-bench-{units}-{per_unit}".encode()).hexdigest()
    started = time.perf_counter()
    names = [unit_name(u) for u in range(units)]
    jobs = [(secret, units, per_unit, name, str(folder / "模板" / form_name(PERIOD, name)),
             str(folder / "收件" / form_name(PERIOD, name))) for name in names]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        returns = [Path(p) for p in pool.map(_make_return, jobs, chunksize=16)]
    done.write_text(json.dumps({"secret": secret, "returns": [p.name for p in returns]},
                               ensure_ascii=False), encoding="utf-8")
    if not quiet:
        print(f"（准备 {units} 份报表用时 {time.perf_counter() - started:.0f} s，"
              f"已缓存在 {folder}）")
    return Prepared(folder, units, per_unit, secret, returns)


def resaved(prepared: Prepared, count: int, quiet: bool = False) -> list[Path]:
    """The first ``count`` returns as a 信息员's spreadsheet program saves them: filled as
    ``prepare`` fills them (in worker processes), except that 本年累计 and 开工以来累计 are
    left to the form's formulas (``fill_form(formulas=True)``), then opened and saved as
    .xlsx by LibreOffice (``soffice``, one per core, in batches), which computes the formulas
    and saves each with its value, and the text in shared strings. Kept in the cache beside
    the returns (``表格软件另存``); a return is only put there whole."""
    folder = prepared.folder / "表格软件另存"
    folder.mkdir(exist_ok=True)
    wanted = prepared.returns[:count]
    missing = [(number, path) for number, path in enumerate(wanted)
               if not (folder / path.name).exists()]
    if missing:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="zdxm-bench-resave-") as temp:
            filled = Path(temp) / "filled"
            jobs = [(str(prepared.folder / "模板" / path.name), str(filled / path.name),
                     unit_name(number)) for number, path in missing]
            with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                list(pool.map(_fill_with_formulas, jobs, chunksize=16))
            batches = [[filled / path.name for _number, path in missing[n:n + 100]]
                       for n in range(0, len(missing), 100)]
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as threads:
                list(threads.map(lambda batch: _resave(batch, folder), batches))
        if not quiet:
            print(f"（填写并用 LibreOffice 另存 {len(missing)} 份报表用时 "
                  f"{time.perf_counter() - started:.0f} s，已缓存在 {folder}）")
    return [folder / path.name for path in wanted]


def _fill_with_formulas(job: tuple[str, str, str]) -> None:
    form, filled, unit = job
    fill_form(Path(form), Path(filled), seed=fill_seed(unit), formulas=True)


def _resave(paths: list[Path], folder: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="zdxm-bench-resave-") as temp:
        out = Path(temp) / "out"
        subprocess.run(["soffice", f"-env:UserInstallation={(Path(temp) / 'profile').as_uri()}",
                        "--headless", "--calc", "--convert-to", "xlsx", "--outdir", str(out),
                        *map(str, paths)], check=True, capture_output=True, timeout=3600)
        for path in paths:
            os.replace(out / path.name, folder / path.name)


def with_history(master: Master, months: int) -> Master:
    """``master`` with every project reported for its first ``months`` months, as a merge
    would have left the ledger and 报送记录 (plausible, steady figures)."""
    from zdxm_xl.core.models import LedgerEntry, Submission, SubmissionResult, YesNo

    for month in range(1, months + 1):
        period = f"2022-{month:02d}"
        for project in master.projects:
            step = Decimal(project.annual_plan or 0) / 12
            step = step.quantize(Decimal("0.01"))
            prior = project.prior_completed or Decimal(0)
            new = project.stage == "新开工"
            started = not new or month > 1
            began = datetime(2022, 2, 10).date() if new else datetime(2021, 6, 1).date()
            master.ledger.append(LedgerEntry(
                period=period, project_id=project.id, project_name=project.name,
                unit=project.lead_unit, month_completed=step, year_completed=step * month,
                total_completed=prior + step * month, started=YesNo.YES if started else YesNo.NO,
                start_date=began if started else None,
                completed=YesNo.NO, progress="主体结构施工中", source_sha256="0" * 64))
        for unit in master.units:
            master.submissions.append(Submission(
                period=period, unit=unit.name, file_name=form_name(period, unit.name),
                sha256=hashlib.sha256(f"{period}{unit.name}".encode()).hexdigest(),
                received_at=datetime(2022, month + 1, 3, 10), processed_at=datetime(2022, month + 1, 4, 9),
                result=SubmissionResult.MERGED, on_time=YesNo.YES))
    return master


def prepare_history(projects: int, per_unit: int = 10, months: int = 2, cache: Path = CACHE,
                    quiet: bool = False) -> tuple[Path, Path]:
    """A master of ``projects`` projects with ``months`` months in its ledger, and the first
    unit's filled return for the month after: (master, return), cached."""
    folder = cache / f"{LAYOUT}-{_WRITTEN}-history-{projects}x{per_unit}-{months}"
    master_path, filled = folder / "台账.xlsx", folder / "收件" / "return.xlsx"
    if (folder / "done").exists() and master_path.exists() and filled.exists():
        return master_path, filled
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "收件").mkdir(parents=True)
    started = time.perf_counter()
    secret = hashlib.sha256(f"zdxm-bench-history-{projects}".encode()).hexdigest()
    master = with_history(plan(projects // per_unit, per_unit, secret), months)
    create_master(master_path, 2022, master)
    period = f"2022-{months + 1:02d}"
    unit = unit_name(0)
    form = folder / form_name(period, unit)
    write_form(master, unit, expected_returns(master, period)[unit], period, form,
               datetime(2022, months + 1, 25), previous_figures(master, period),
               last_reported(master, period))
    fill_form(form, filled, seed=1)
    (folder / "done").write_text("", encoding="utf-8")
    if not quiet:
        print(f"（准备 {projects} 个项目的台账用时 {time.perf_counter() - started:.0f} s，"
              f"已缓存在 {folder}）")
    return master_path, filled
