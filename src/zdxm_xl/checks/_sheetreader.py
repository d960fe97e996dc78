"""Reading a vetted workbook's cell values with python-calamine (读取工作表的值).

Kept free of package imports so that ``vetting`` can run this file as a script in a child
process (``python _sheetreader.py PATH MEMORY SECONDS``) without importing zdxm_xl, its
dependencies or numpy under a memory limit. In-process callers import ``read_values``.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any

__all__ = ["read_values", "limit_resources", "main"]


def read_values(path: str) -> dict[str, list[list[Any]]]:
    """Every worksheet's values, row by row, anchored at A1 (``values[r-1][c-1]`` is the
    cell in row r, column c); hidden sheets included, chart sheets left out.

    The reader is chosen by the bytes, not by the name: a .xls saved as “….xlsx” (or the
    reverse) is read as what it is (``from_path`` would go by the extension)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    with open(path, "rb") as handle:
        workbook = CalamineWorkbook.from_filelike(handle)
    try:
        sheets: dict[str, list[list[Any]]] = {}
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            sheets[meta.name] = sheet.to_python(skip_empty_area=False)
        return sheets
    finally:
        workbook.close()


def limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time where the OS lets us (not on Windows)."""
    try:
        import resource
    except ImportError:  # Windows: the parent's timeout is the only guard
        return
    for which, wanted in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds)):
        try:
            _soft, hard = resource.getrlimit(which)
            value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass


def main(argv: list[str]) -> int:
    path, memory, seconds = argv[0], int(argv[1]), int(argv[2])
    limit_resources(memory, seconds)
    try:
        result: tuple[str, Any] = ("ok", read_values(path))
    except Exception as exc:  # reported to the parent as data, not a traceback
        result = ("error", f"{type(exc).__name__}: {exc}"[:300])
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
