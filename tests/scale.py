"""A large master for tests at scale: the Liuzhou sample grown to N projects and M units,
with months of plausible returns written straight into the ledger (no forms: fast)."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

from zdxm_xl.core.master import Master
from zdxm_xl.core.models import LedgerEntry, Submission, SubmissionResult, Unit, YesNo
from zdxm_xl.core.registry import PERMITS
from zdxm_xl.demo.fill import PROBLEMS
from zdxm_xl.demo.sample import build_sample

CENT = Decimal("0.01")


def scaled_master(projects: int = 3000, units: int = 100, months: int = 3,
                  seed: int = 7) -> Master:
    """The sample with ``projects`` 实施 projects led by ``units`` units, and returns from
    every unit for months 1 to ``months`` (a few units late or silent in the last)."""
    rng = random.Random(seed)
    master = build_sample()
    originals = [u for u in master.units]
    while len(master.units) < units:
        base = originals[len(master.units) % len(originals)]
        master.units.append(Unit(name=f"{base.name}第{len(master.units)}分部", code=None,
                                 category=base.category))
    names = [u.name for u in master.units]
    implementation = [p for p in master.projects if not p.is_preparatory]
    preparatory = [p for p in master.projects if p.is_preparatory]
    grown = []
    for number in range(projects):
        source = implementation[number % len(implementation)]
        copy = source.model_copy(update={
            "id": f"ZD2022-{number + 1:05d}",
            "name": source.name if number < len(implementation)
            else f"{source.name}（第{number // len(implementation) + 1}批）",
            "units": [names[number % len(names)], *source.units[1:]]})
        grown.append(copy)
    master.projects = grown + preparatory
    master.ledger = []
    cumulative: dict[str, Decimal] = {}
    started: set[str] = set()
    for month in range(1, months + 1):
        period = f"2022-{month:02d}"
        for project in grown:
            annual = project.annual_plan or Decimal(0)
            share = Decimal(rng.randint(30, 150)) / Decimal(1200)
            done = (annual * share).quantize(CENT)
            cumulative[project.id] = cumulative.get(project.id, Decimal(0)) + done
            if project.stage == "新开工" and project.id not in started \
                    and rng.random() < month / 8:
                started.add(project.id)
            begun = project.stage != "新开工" or project.id in started
            master.ledger.append(LedgerEntry(
                period=period, project_id=project.id, project_name=project.name,
                unit=project.lead_unit, month_completed=done if begun else Decimal(0),
                year_completed=cumulative[project.id] if begun else Decimal(0),
                started=YesNo.YES if begun else YesNo.NO,
                start_date=date(2022, month, rng.randint(1, 28)) if begun else None,
                completed=YesNo.NO, progress="主体施工",
                problems=rng.choice(PROBLEMS) if rng.random() < 0.08 else None,
                coordination="请市级层面协调用地" if rng.random() < 0.04 else None,
                **{field: "已办结" for field, _, _ in PERMITS}))
        for index, unit in enumerate(names):
            last = month == months
            if last and index % 37 == 5:
                continue  # silent
            late = last and index % 41 == 3
            master.submissions.append(Submission(
                period=period, unit=unit, file_name=f"{period}_{unit}.xlsx",
                sha256=f"{month:02d}{index:062d}",
                received_at=datetime(2022, month + 1, 8 if late else 3, 9),
                processed_at=datetime(2022, month + 1, 8 if late else 3, 10),
                result=SubmissionResult.MERGED, on_time=YesNo.NO if late else YesNo.YES))
    return master
