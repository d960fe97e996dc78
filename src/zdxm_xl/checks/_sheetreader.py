"""Reading a vetted workbook's cell values with python-calamine (读取工作表的值).

Free of package imports, so that a reader process (``_readerprocess``) that only reads
values imports python-calamine and nothing else of zdxm_xl or its dependencies.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["read_values", "limit_resources"]


def read_values(path: str, content: bytes | None = None) -> dict[str, list[list[Any]]]:
    """Every worksheet's values, row by row, anchored at A1 (``values[r-1][c-1]`` is the
    cell in row r, column c); hidden sheets included, chart sheets left out.

    The reader is chosen by the bytes, not by the name: a .xls saved as “….xlsx” (or the
    reverse) is read as what it is (``from_path`` would go by the extension). ``content``,
    when given, are the file's bytes as vetted: they are read instead of the file."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    if content is not None:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    else:
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
    """Cap this process's address space, and its CPU time at ``cpu_seconds`` more than it
    has used so far, where the OS lets us (not on Windows)."""
    try:
        import resource
    except ImportError:  # Windows: the parent's timeout is the only guard
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    for which, wanted in ((resource.RLIMIT_AS, memory_bytes),
                          (resource.RLIMIT_CPU, used + cpu_seconds)):
        try:
            _soft, hard = resource.getrlimit(which)
            value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass
