"""Reading rendered documents as a reader would: LibreOffice's PDF, page by page and word by
word (poppler's pdftotext), against the figures that went into the tables."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from docx import Document

from zdxm_xl.reports.pdf import to_pdf
from zdxm_xl.reports.tablefit import NUMBER

A4_HEIGHT_PT = 841.89
TYPE_AREA_BOTTOM_PT = A4_HEIGHT_PT - 35 / 25.4 * 72  # GB/T 9704: 35 mm bottom margin
_PAGE = re.compile(r"<page [^>]*>(.*?)</page>", re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


@dataclass(frozen=True)
class Word:
    page: int  # from 1
    text: str
    top: float  # points from the top of the page
    bottom: float


def render(path: Path, folder: Path) -> Path:
    """A copy of ``path`` converted to PDF by LibreOffice (the copy keeps the original)."""
    copy = folder / path.name
    if copy != path:
        shutil.copyfile(path, copy)
    pdf, problem = to_pdf(copy)
    assert problem is None and pdf is not None, problem
    return pdf


def pages(pdf: Path) -> list[str]:
    """The text of each page, laid out."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def words(pdf: Path) -> list[Word]:
    """Every word of the PDF with its page and vertical place."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for number, page in enumerate(_PAGE.findall(xml), start=1):
        for _, top, _, bottom, text in _WORD.findall(page):
            found.append(Word(number, html.unescape(text), float(top), float(bottom)))
    return found


def body_pages(texts: list[str]) -> int:
    """Pages before the first 附件 (an attachment starts a page with its label 附件N)."""
    for number, text in enumerate(texts):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if re.fullmatch(r"附件\s*\d+", first):
            return number
    return len(texts)


def table_numbers(docx: Path) -> set[str]:
    """Every number written in a table of the document (what must not wrap)."""
    document = Document(str(docx))
    numbers = set()
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                text = cell.text.strip()
                if len(text) > 1 and NUMBER.match(text):
                    numbers.add(text)
    return numbers


def split_numbers(numbers: set[str], pdf: Path) -> list[str]:
    """The numbers that do not appear whole as a word of the PDF: broken over two lines."""
    seen = {word.text for word in words(pdf)}
    return sorted(n for n in numbers if n not in seen)
