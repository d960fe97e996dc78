"""How much of a file from outside zdxm will look at: one set of limits for every gate.

A returned form, an official plan table and a mail attachment each come from outside the
office, and each is read under these bounds — on the file, its zip container, its sheets,
and the child process that reads the values. A plan table of a province (30 000 projects)
is bigger than any unit's return, so plan tables get wider row limits; everything else is
the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["Limits", "RETURN", "PLAN", "ATTACHMENT"]

MIB = 2**20


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * MIB  # a unit's return is well under 1 MiB
    max_unpacked: int = 200 * MIB  # total declared uncompressed size; reads capped at twice
    max_entries: int = 10_000  # zip entries
    max_directory: int = 8 * MIB  # zip central directory: ~10 000 entries need < 1 MiB
    max_ratio: int = 200  # compression ratio allowed ...
    ratio_from: int = 4 * MIB  # ... for entries declaring more than this many bytes
    max_name: int = 512  # characters of a part name
    max_depth: int = 12  # folders in a part name
    max_rows: int = 10_000
    max_cols: int = 200
    max_elements: int = 8_000_000  # XML elements in all parts of one file
    max_hidden_cells: int = 10_000  # cells of one hidden sheet (a form's own holds 12)
    # Rows and columns around what our form holds that a unit may still use (notes, a sum);
    # anything further out is refused, and nothing beyond it is ever copied back.
    form_margin_rows: int = 50
    form_margin_cols: int = 10
    # The most of a file's sheet ever copied into an annotated copy, whatever it claims.
    copy_rows: int = 2_000
    copy_cols: int = 60
    read_timeout: float = 30.0  # seconds for the child reader
    read_memory: int = 2 * 2**30  # address-space limit of the child reader
    # a zip attachment of workbooks (mail)
    zip_entries: int = 200
    zip_workbooks: int = 100
    zip_total: int = 100 * MIB
    zip_ratio: int = 100  # compression ratio allowed for entries over 1 MiB

    @property
    def max_cells(self) -> int:
        return self.max_rows * self.max_cols

    @property
    def max_total_cells(self) -> int:
        """Cells in all sheets together: as many as one sheet may hold."""
        return self.max_cells

    @property
    def max_strings(self) -> int:
        """Shared strings declared or present."""
        return self.max_cells


RETURN = Limits()
PLAN = replace(RETURN, max_bytes=60 * MIB, max_unpacked=600 * MIB, max_rows=200_000,
               max_cols=200, max_elements=60_000_000, read_timeout=180.0,
               read_memory=6 * 2**30, max_hidden_cells=200_000)
ATTACHMENT = RETURN  # a mail attachment is a return until it is read
