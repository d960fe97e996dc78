"""The baseline both benchmarks measure against, in the same run."""

from __future__ import annotations

import time
from pathlib import Path

from python_calamine import CalamineWorkbook


def raw_read(files: list[Path]) -> float:
    """Seconds python-calamine takes to read every sheet of every file, nothing else: the
    least any checker that reads the values must spend."""
    start = time.perf_counter()
    for path in files:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return time.perf_counter() - start
