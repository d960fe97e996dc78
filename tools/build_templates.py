"""Builds the office's two bulletin templates: ``templates/简报.docx`` and ``templates/通报.xlsx``.

The committed templates are what this builder makes (a test compares them part by part), so
their layout is reviewable as code; after that they belong to the office, who edit them in
Word and Excel (docs/简报与通报.md). Run ``python -m zdxm_xl.templatebuild templates``.

简报 follows the 公文 format (GB/T 9704): A4, margins 37/35/28/26 mm (top/bottom/left/right),
a red masthead with 第N期, 编印单位 on the left and the date on the right above a red rule,
the title in 小标宋 二号, body in 仿宋 三号 at an exact 28-point line pitch, headings in 黑体
and 楷体, page numbers "— 1 —" in 宋体 四号 (odd pages right, even pages left), and a closing
block (版记: 报送/抄送/印发 between rules). Every run names its East Asian font (w:eastAsia),
so Word and LibreOffice never set Chinese in a Western fallback font.

The Word template uses docxtpl's Jinja2 tags; the Excel template uses ``{{ 字段 }}``
placeholders in cells, a row with ``{{ 列表[].字段 }}`` repeating once per item
(see ``xltemplate``).
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, ParagraphProperties, RichTextProperties
from openpyxl.drawing.text import Paragraph as TextParagraph
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zdxm_xl.books.styles import print_ready
from zdxm_xl.reports.bulletins import EXCEL_TEMPLATE, WORD_TEMPLATE
from zdxm_xl.reports.charts import DONE_COLOR, LINE_COLOR
from zdxm_xl.reports.notices import NOTICE_TEMPLATE
from zdxm_xl.reports.progress import FLAG_COLORS

__all__ = ["WORD_TEMPLATE", "EXCEL_TEMPLATE", "NOTICE_TEMPLATE", "build_word_template",
           "build_excel_template", "build_notice_template", "build_all", "template_parts"]

RED = "FF0000"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
FIXED_TIME = datetime(2022, 1, 1)  # document properties carry no build time: rebuilds compare equal

# 公文 fonts, as the office's own documents name them. Where one is missing, Word looks for
# the font table's alternative name (the common Windows font) and LibreOffice for the
# fontconfig chain of ``reports.pdf`` (the Windows name, then Noto CJK SC).
FANGSONG, HEITI, KAITI, SONGTI = "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
XIAOBIAOSONG = "方正小标宋简体"
LATIN = "Times New Roman"  # Latin letters and digits; Liberation Serif stands in on Linux
FONT_TABLE = (  # name, alternative name (Word's substitute), pitch, panose
    (FANGSONG, "仿宋", "fixed", "02010609030101010101"),
    (KAITI, "楷体", "fixed", "02010609030101010101"),
    (HEITI, "SimHei", "fixed", "02010609060101010101"),
    (SONGTI, "SimSun", "fixed", "02010600030101010101"),
    (XIAOBIAOSONG, "宋体", "fixed", "02000000000000000000"),
)
BODY_SIZE = 16  # 三号
LINE_PITCH = 28  # exact line spacing: 22 lines on the 225 mm type area
TEXT_WIDTH = Mm(156)  # 210 − 28 − 26
TABLE_SIZE = 10.5  # 五号
TABLE_PITCH = 13.5  # points a line of a table
HEADER_SHADE = "D9E1F2"  # table headers, the same in the 通报
ROW_HEIGHT = Mm(5.2)  # at least: a wrapped name makes its row taller


# ---- Word --------------------------------------------------------------------------------

def _fonts(element: object, east_asia: str, latin: str = LATIN) -> None:
    """Set w:rFonts on a run or style rPr so every script has a named font."""
    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]  # no theme fonts: they name Japanese faces
    for attribute, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia),
                             ("w:cs", latin), ("w:hint", "eastAsia")):
        fonts.set(qn(attribute), value)


def _paragraph_style(document: object, name: str, font: str, size: float, *, bold: bool = False,
                     align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: int = 0,
                     exact: float | None = LINE_PITCH, before: float = 0, after: float = 0,
                     color: str | None = None, latin: str = LATIN,
                     keep_with_next: bool = False) -> ParagraphStyle:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)  # type: ignore[attr-defined]
    style.base_style = document.styles["Normal"]  # type: ignore[attr-defined]
    style.quick_style = True
    _style_format(style, font, size, bold=bold, align=align, indent_chars=indent_chars,
                  exact=exact, before=before, after=after, color=color, latin=latin)
    style.paragraph_format.keep_with_next = keep_with_next
    return style  # type: ignore[no-any-return]


def _style_format(style: ParagraphStyle, font: str, size: float, *, bold: bool = False,
                  align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: int = 0,
                  exact: float | None = LINE_PITCH, before: float = 0, after: float = 0,
                  color: str | None = None, latin: str = LATIN) -> None:
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.name = latin
    if color:
        style.font.color.rgb = RGBColor.from_string(color)
    _fonts(style.element, font, latin)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    if exact is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(exact)
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.first_line_indent = Pt(size * indent_chars) if indent_chars else Pt(0)
    fmt.widow_control = True
    ppr = style.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if indent_chars:
        # Character units, as Word writes "首行缩进 2 字符": right whatever the font size.
        ind.set(qn("w:firstLineChars"), str(indent_chars * 100))
    # 公文 lines snap to the document grid, which would override the exact pitch.
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    _insert_in_order(ppr, snap, ("w:spacing", "w:ind", "w:contextualSpacing", "w:jc", "w:rPr"))


def _character_style(document: object, name: str, font: str) -> None:
    style = document.styles.add_style(name, WD_STYLE_TYPE.CHARACTER)  # type: ignore[attr-defined]
    style.quick_style = True
    _fonts(style.element, font)


def _chinese(document: object) -> None:
    """Defaults for every run: the 公文 body font named outright (the template python-docx
    starts from takes its East Asian font from the theme, a Japanese face), and East Asian
    text marked Simplified Chinese (w:lang w:eastAsia), so renderers choose SC glyphs."""
    defaults = document.styles.element.find(qn("w:docDefaults"))  # type: ignore[attr-defined]
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for attribute, value in (("w:ascii", LATIN), ("w:hAnsi", LATIN), ("w:eastAsia", FANGSONG),
                             ("w:cs", LATIN)):
        fonts.set(qn(attribute), value)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


def _font_table(document: object) -> None:
    """The font table lists our fonts only, each with the common Windows font as its
    alternative name (w:altName) and the GB2312 character set: Word substitutes that
    font where the 公文 font is not installed."""
    part = next(p for p in document.part.package.iter_parts()  # type: ignore[attr-defined]
                if str(p.partname) == "/word/fontTable.xml")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    entries = [(LATIN, None, "variable", "02020603050405020304", "00", "roman")]
    entries += [(name, alt, pitch, panose, "86", "modern") for name, alt, pitch, panose
                in FONT_TABLE]
    fonts = []
    for name, alt, pitch, panose, charset, family in entries:
        alt_xml = f'<w:altName w:val="{alt}"/>' if alt else ""
        fonts.append(f'<w:font w:name="{name}">{alt_xml}<w:panose1 w:val="{panose}"/>'
                     f'<w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
                     f'<w:pitch w:val="{pitch}"/></w:font>')
    part._blob = (f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                  f'<w:fonts xmlns:w="{w}">{"".join(fonts)}</w:fonts>').encode()


def _insert_in_order(parent: object, element: object, successors: Sequence[str]) -> None:
    """Put ``element`` before the first of ``successors`` present: Word refuses a w:pPr whose
    children are out of the schema's order."""
    for tag in successors:
        found = parent.find(qn(tag))  # type: ignore[attr-defined]
        if found is not None:
            found.addprevious(element)
            return
    parent.append(element)  # type: ignore[attr-defined]


def _border(paragraph: Paragraph, side: str, color: str = "000000", size: int = 8,
            space: int = 1) -> None:
    """A rule above or below a paragraph (w:pBdr); ``size`` in eighths of a point."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        _insert_in_order(ppr, borders, ("w:shd", "w:tabs", "w:snapToGrid", "w:spacing", "w:ind",
                                        "w:jc", "w:rPr"))
    line = OxmlElement(f"w:{side}")
    for attribute, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", str(space)),
                             ("w:color", color)):
        line.set(qn(attribute), value)
    borders.append(line)


CLOSING_HEIGHT = Mm(27)  # the 版记's box: three lines of 四号; it grows with more lines


def _at_page_foot(document: object, paragraphs: Sequence[Paragraph]) -> None:
    """Move ``paragraphs`` into a text box anchored at the foot of the type area, in an
    empty paragraph at the end of the document: the 版记 of GB/T 9704 sits at the bottom
    of the last page, whatever the length of the text above it, and body text never runs
    under it. (Framed paragraphs would do in Word, but LibreOffice leaves framed paragraphs
    with different borders in the text flow.)"""
    width, height = int(TEXT_WIDTH), int(CLOSING_HEIGHT)
    anchor = _add(document, "", "正文")
    anchor.paragraph_format.line_spacing = Pt(1)
    anchor.paragraph_format.first_line_indent = Pt(0)
    box = parse_xml(
        f'<w:r {nsdecls("w", "wp", "a")} xmlns:wps="{WPS}"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="2" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="0">'
        '<wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="margin"><wp:align>center</wp:align></wp:positionH>'
        '<wp:positionV relativeFrom="margin"><wp:align>bottom</wp:align></wp:positionV>'
        f'<wp:extent cx="{width}" cy="{height}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        '<wp:wrapTopAndBottom/><wp:docPr id="1" name="版记"/><wp:cNvGraphicFramePr/>'
        f'<a:graphic><a:graphicData uri="{WPS}"><wps:wsp><wps:cNvSpPr txBox="1"/>'
        f'<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{width}" cy="{height}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln>'
        '</wps:spPr><wps:txbx><w:txbxContent/></wps:txbx>'
        '<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" '
        'anchor="b" anchorCtr="0"><a:spAutoFit/></wps:bodyPr></wps:wsp></a:graphicData>'
        '</a:graphic></wp:anchor></w:drawing></w:r>')
    content = box.find(".//" + qn("w:txbxContent"))
    for paragraph in paragraphs:
        content.append(paragraph._p)  # moves it out of the body
    anchor._p.append(box)


def _add(document: object, text: str, style: str) -> Paragraph:
    paragraph: Paragraph = document.add_paragraph(style=style)  # type: ignore[attr-defined]
    if text:
        paragraph.add_run(text)
    return paragraph


def _page_number(paragraph: Paragraph) -> None:
    """"— N —": the PAGE field between two em dashes."""
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                       ("end", None)):
        run = paragraph.add_run()
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text or ""
    paragraph.add_run(" —")


def _cell_text(cell: object, text: str, style: str) -> None:
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    paragraph.style = style
    if text:
        paragraph.add_run(text)  # "\n" becomes a line break: headers break where we say


def _row_property(row: object, tag: str) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    element = OxmlElement(tag)
    element.set(qn("w:val"), "true")
    trpr.append(element)


def _shade(cell: object, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shading = OxmlElement("w:shd")
    for attribute, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shading.set(qn(attribute), value)
    tcpr.append(shading)


# Kinds of table cell: L text left, C text centred, N number right-aligned.
_CELL_STYLES = {"L": "表格文字左", "C": "表格文字", "N": "表格数字"}


def _table(document: object, headers: Sequence[str], cells: Sequence[str], kinds: str,
           loop: str | Sequence[str], widths: Sequence[float],
           totals: Sequence[Sequence[str]] = ()) -> Table:
    """A table whose middle row repeats once per item: header, ``{%tr for %}``, the item
    row, ``{%tr endfor %}`` (once per loop given) and optional total rows (docxtpl removes
    the tag rows).

    No row splits across pages and the header row repeats on every page. Column widths
    here are a start: after rendering, ``tablefit`` sets them from the content and keeps a
    short table on one page with its caption."""
    loops = [loop] if isinstance(loop, str) else list(loop)
    rows = 1 + 3 * len(loops) + len(totals)
    table: Table = document.add_table(rows=rows, cols=len(headers))  # type: ignore[attr-defined]
    table.style = document.styles["Table Grid"]  # type: ignore[attr-defined]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            cell.width = Mm(widths[index])
    for index, header in enumerate(headers):
        _cell_text(table.cell(0, index), header, "表头")
        _shade(table.cell(0, index), HEADER_SHADE)
    for number, each in enumerate(loops):
        first = 1 + 3 * number
        _cell_text(table.cell(first, 0), f"{{%tr for {each} %}}", "表格文字")
        for index, text in enumerate(cells):
            _cell_text(table.cell(first + 1, index), text, _CELL_STYLES[kinds[index]])
        _cell_text(table.cell(first + 2, 0), "{%tr endfor %}", "表格文字")
    for offset, total in enumerate(totals):
        for index, text in enumerate(total):
            _cell_text(table.cell(1 + 3 * len(loops) + offset, index), text,
                       "表格数字" if kinds[index] == "N" else "表格文字")
    for row in table.rows:
        row.height = ROW_HEIGHT
        _row_property(row, "w:cantSplit")
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _row_property(table.rows[0], "w:tblHeader")
    return table


def _flag(item: str) -> str:
    return f"{{% cellbg {item}.flag_color %}}{{{{ {item}.flag }}}}"


def _group_cells(item: str) -> list[str]:
    return [f"{{{{ {item}.count }}}}", f"{{{{ {item}.annual_plan_yi }}}}",
            f"{{{{ {item}.year_completed_yi }}}}", f"{{{{ {item}.rate|rate }}}}",
            f"{{{{ {item}.rate_change|signed }}}}", _flag(item)]


GROUP_HEADERS = ("项目数", "年度计划\n（亿元）", "累计完成\n（亿元）", "完成率\n（%）",
                 "较上月\n（百分点）", "预警")
GROUP_KINDS = "NNNNNC"
GROUP_WIDTHS = (14, 20, 20, 16, 18, 12)


def _page_numbers(document: Any, section: Any) -> None:
    """Page numbers "— N —": odd pages right, even pages left, one character in from the edge."""
    document.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = document.styles["页码"]
        paragraph.alignment = align
        paragraph.paragraph_format.left_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.LEFT \
            else Pt(0)
        paragraph.paragraph_format.right_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.RIGHT \
            else Pt(0)
        _page_number(paragraph)


def _caption(document: object, text: str) -> None:
    _add(document, text, "表题")


def _attachment(document: object, key: str, title: str) -> None:
    """附件N (黑体, top left of a new page) and its title (小标宋, centred, third line), as
    GB/T 9704 lays out an attachment; the block exists only when the list is attached."""
    _add(document, f"{{%p if attachments.{key} %}}", "正文")
    _add(document, f"附件{{{{ attachments.{key} }}}}", "附件标识")
    _add(document, title, "附件标题")


def _document(title: str) -> tuple[Any, Any]:
    """A new 公文 document (A4, GB/T 9704 margins, fonts, every style the 简报 and the
    督办通知单 use) and its section."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(24)
    properties = document.core_properties
    properties.title, properties.author = title, "zdxm-xl"
    properties.created = properties.modified = FIXED_TIME
    properties.last_modified_by, properties.revision = "zdxm-xl", 1
    _chinese(document)
    _font_table(document)
    _style_format(document.styles["Normal"], FANGSONG, BODY_SIZE,
                  align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _fonts(document.styles["Table Grid"].element, FANGSONG)
    _paragraph_style(document, "正文", FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                     indent_chars=2)
    _paragraph_style(document, "红头", XIAOBIAOSONG, 40, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=None, before=0, after=6, color=RED, latin=XIAOBIAOSONG)
    _paragraph_style(document, "期数", FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                     after=6)
    masthead_line = _paragraph_style(document, "编印单位行", KAITI, BODY_SIZE, after=20)
    masthead_line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _paragraph_style(document, "简报标题", XIAOBIAOSONG, 22, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=35, after=14, latin=XIAOBIAOSONG)
    for name, font in (("一级标题", HEITI), ("二级标题", KAITI)):
        _paragraph_style(document, name, font, BODY_SIZE, indent_chars=2, keep_with_next=True)
    _character_style(document, "小标题", KAITI)
    _paragraph_style(document, "图题", HEITI, 12, align=WD_ALIGN_PARAGRAPH.CENTER, exact=None,
                     before=2, after=6)
    _paragraph_style(document, "图片", FANGSONG, 12, align=WD_ALIGN_PARAGRAPH.CENTER, exact=None,
                     before=4, keep_with_next=True)
    _paragraph_style(document, "表题", HEITI, 12, align=WD_ALIGN_PARAGRAPH.CENTER, exact=None,
                     before=6, after=4, keep_with_next=True)
    # Table text at an exact pitch: the same row heights in Word and LibreOffice, whatever
    # the line height of the font standing in for 仿宋.
    for name, font, align in (("表头", HEITI, WD_ALIGN_PARAGRAPH.CENTER),
                              ("表格文字", FANGSONG, WD_ALIGN_PARAGRAPH.CENTER),
                              ("表格文字左", FANGSONG, WD_ALIGN_PARAGRAPH.LEFT),
                              ("表格数字", FANGSONG, WD_ALIGN_PARAGRAPH.RIGHT)):
        _paragraph_style(document, name, font, TABLE_SIZE, align=align, exact=TABLE_PITCH)
    _paragraph_style(document, "表注", FANGSONG, 12, align=WD_ALIGN_PARAGRAPH.RIGHT, exact=None,
                     before=2, after=2, keep_with_next=True)
    _paragraph_style(document, "表后注", FANGSONG, 12, align=WD_ALIGN_PARAGRAPH.LEFT, exact=None,
                     before=2, after=4)
    # 附件说明: 正文下空一行左空二字; a second item lines up with the first item's name.
    notes = _paragraph_style(document, "附件说明", FANGSONG, BODY_SIZE, before=LINE_PITCH)
    notes.paragraph_format.left_indent = Pt(BODY_SIZE * 2)
    more = _paragraph_style(document, "附件说明续", FANGSONG, BODY_SIZE)
    more.paragraph_format.left_indent = Pt(BODY_SIZE * 5)
    label = _paragraph_style(document, "附件标识", HEITI, BODY_SIZE, keep_with_next=True)
    label.paragraph_format.page_break_before = True
    _paragraph_style(document, "附件标题", XIAOBIAOSONG, 22, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=35, before=LINE_PITCH, after=14, latin=XIAOBIAOSONG,
                     keep_with_next=True)
    closing = _paragraph_style(document, "版记", FANGSONG, 14, exact=None, before=4, after=4)
    closing.paragraph_format.left_indent = Pt(14)
    closing.paragraph_format.right_indent = Pt(14)
    closing.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
    _paragraph_style(document, "页码", SONGTI, 14, exact=None, latin=SONGTI)

    return document, section


def build_word_template(path: Path) -> Path:
    """Write the 简报 template to ``path``."""
    document, section = _document("重大项目建设简报")

    # 红头: masthead, 期数, 编印单位 and date above a red rule.
    _add(document, "重大项目建设简报", "红头")
    _add(document, "第{{ issue }}期", "期数")
    rule = _add(document, "{{ publisher }}\t{{ issued_text }}", "编印单位行")
    _border(rule, "bottom", RED, size=18, space=4)

    _add(document, "{{ city }}{{ title_period }}重大项目建设推进情况", "简报标题")

    # 一、总体情况: the figures, 环比 and 同比, how fresh the data are.
    _add(document, "一、总体情况", "一级标题")
    _add(document, "{{ title_period }}，全市{{ total.count }}个实施项目累计完成投资"
                   "{{ total.year_completed_yi }}亿元，占年度计划投资{{ total.annual_plan_yi }}亿元的"
                   "{{ total.rate }}%，{{ total.gap_text }}（时序进度{{ benchmark }}%）"
                   "{% if total.rate_change is not none %}，完成率较上月{{ total.rate_change_text }}"
                   "{% endif %}；其中{{ month }}月完成投资{{ total.month_completed_yi }}亿元。"
                   "{% if year_ago %}与上年同期相比，累计完成投资{{ total.growth_text }}"
                   "（上年同期{{ total.year_ago_completed_yi }}亿元，完成率{{ total.year_ago_rate }}%）。"
                   "{% endif %}", "正文")
    _add(document, "预备项目{{ preparatory.count }}个，前期手续办结率"
                   "{{ preparatory.permit_rate }}%，{{ preparatory.ready }}个项目六项前期手续已全部"
                   "办结。本月{{ returns.expected }}个单位应报送，按时报送率{{ returns.on_time_rate }}%。"
                   "{{ freshness.text }}", "正文")

    # 二、分类推进情况: 阶段 and 行业 (预备 in 一).
    _add(document, "二、分类推进情况", "一级标题")
    _add(document, "分阶段看，{% for s in stages %}{{ s.name }}项目完成率{{ s.rate }}%"
                   "{% if not loop.last %}，{% endif %}{% endfor %}；分行业看，"
                   "{% for s in sectors %}{{ s.name }}{{ s.rate }}%{% if not loop.last %}，"
                   "{% endif %}{% endfor %}（见表1）。", "正文")
    _caption(document, "表1  分阶段、分行业投资完成情况")
    _table(document, ("类别", *GROUP_HEADERS), ["{{ s.name }}", *_group_cells("s")],
           "L" + GROUP_KINDS, ("s in stages", "s in sectors"), (24, *GROUP_WIDTHS),
           totals=[("合计", *_group_cells("total"))])
    _add(document, "注：预警规则为{{ flag_rule_text }}；逾期未开工、逾期未竣工的项目至少为黄灯。", "表后注")

    # 三、县区和单位: the ranking, the chart, the unit groups.
    _add(document, "三、县区和单位推进情况", "一级标题")
    counties = _add(document, "", "正文")
    counties.add_run("（一）各县区。", "小标题")
    counties.add_run("按投资完成率排名，{{ counties[0].name }}居首（{{ counties[0].rate }}%）"
                     "{% set red = counties|selectattr('flag', 'equalto', '红')|list %}"
                     "{% set yellow = counties|selectattr('flag', 'equalto', '黄')|list %}"
                     "{% if red %}，{{ red|map(attribute='name')|join('、') }}亮红灯{% endif %}"
                     "{% if yellow %}，{{ yellow|map(attribute='name')|join('、') }}亮黄灯"
                     "{% endif %}（见表2）。")
    _caption(document, "表2  各县区投资完成情况")
    _table(document, ("排名", "县区", "项目数", "年度计划\n（亿元）", "累计完成\n（亿元）",
                      "完成率\n（%）", "较上月\n（百分点）", "名次\n变化", "预警"),
           ["{{ c.rank }}", "{{ c.name }}", *_group_cells("c")[:5], "{{ c.rank_change_mark }}",
            _flag("c")], "CLNNNNNCC", "c in counties", (10, 30, 12, 18, 18, 15, 17, 12, 11))
    groups = _add(document, "", "正文")
    groups.add_run("（二）各类牵头单位。", "小标题")
    groups.add_run("{% for g in unit_ranking.groups %}{{ g.name }}类{{ g.count }}个单位完成率"
                   "{{ g.total.rate }}%{% if not loop.last %}，{% endif %}{% endfor %}（见表3）。"
                   "{% if unit_ranking.red_text %}亮红灯的有{{ unit_ranking.red_text }}。{% endif %}"
                   "{% if attachments.units %}各单位排名见附件{{ attachments.units }}。{% endif %}")
    _caption(document, "表3  各类牵头单位投资完成情况")
    _table(document, ("单位类别", "单位数", "项目数", "年度计划\n（亿元）", "累计完成\n（亿元）",
                      "完成率\n（%）", "绿灯", "黄灯", "红灯"),
           ["{{ g.name }}", "{{ g.count }}", "{{ g.total.count }}",
            "{{ g.total.annual_plan_yi }}", "{{ g.total.year_completed_yi }}",
            "{{ g.total.rate|rate }}", "{{ g.green }}", "{{ g.yellow }}", "{{ g.red }}"],
           "LNNNNNNNN", "g in unit_ranking.groups", (24, 14, 14, 20, 20, 16, 13, 13, 13))

    # 四、本月新开工和竣工项目, named.
    _add(document, "四、本月新开工和竣工项目", "一级标题")
    _add(document, "{% if month_starts %}本月新开工项目{{ month_starts|length }}个："
                   "{{ month_starts_text }}{% if attachments.milestones %}（名单见附件"
                   "{{ attachments.milestones }}）{% endif %}。{% else %}本月没有新开工的项目。"
                   "{% endif %}"
                   "{{ starts.planned }}个新开工项目已开工{{ starts.done }}个，开工率"
                   "{{ starts.rate }}%；计划已到开工时间的{{ starts.due }}个中，逾期未开工"
                   "{{ starts.overdue|length }}个。", "正文")
    _add(document, "{% if month_completions %}本月竣工项目{{ month_completions|length }}个："
                   "{{ month_completions_text }}{% if attachments.milestones %}（名单见附件"
                   "{{ attachments.milestones }}）{% endif %}。{% else %}本月没有竣工的项目。"
                   "{% endif %}{{ completions.planned }}个竣工项目已竣工{{ completions.done }}个，"
                   "竣工率{{ completions.rate }}%；计划已到竣工时间的{{ completions.due }}个中，"
                   "逾期未竣工{{ completions.overdue|length }}个。", "正文")

    # 五、存在问题: this month's by type, 问题台帐 by status and type, 问题办结率, 督办; 滞后项目
    # counted; the lists are in the 附件 (and the 通报).
    _add(document, "五、存在问题", "一级标题")
    _add(document, "{% if problem_ledger.total %}{% if problems.projects %}本月{{ problems.projects }}"
                   "个项目报送了存在问题{% if attachments.issues %}（清单见附件{{ attachments.issues }}）"
                   "{% endif %}。{% else %}本月各单位没有报送新的存在问题。{% endif %}"
                   "问题台帐共{{ problem_ledger.total }}个问题：{{ problem_ledger.by_status_text }}"
                   "{% if problem_ledger.open %}，未办结的以{{ problem_ledger.open_top_names }}为主"
                   "{% endif %}。{% if problem_ledger.closure_total.total %}交办问题办结率"
                   "{{ problem_ledger.closure_total.rate|rate }}%（按时"
                   "{{ problem_ledger.closure_total.on_time_rate|rate }}%）"
                   "{% if problem_ledger.overdue %}，逾期{{ problem_ledger.overdue }}个"
                   "{% endif %}{% if attachments.problems %}（各单位见附件{{ attachments.problems }}）"
                   "{% endif %}。{% endif %}"
                   "{% elif problems.projects %}本月{{ problems.projects }}个项目报送了存在问题，"
                   "按类型分：{{ problems.by_type_text }}；其中{{ problems.coordination }}个项目"
                   "提出需市级层面协调的事项{% if attachments.issues %}（清单见附件"
                   "{{ attachments.issues }}）{% endif %}。{% else %}本月各单位没有报送存在问题。"
                   "{% endif %}投资完成率为黄灯、红灯或逾期未开工、"
                   "未竣工的滞后项目共{{ lagging|length }}个{% if attachments.lagging %}（名单见附件"
                   "{{ attachments.lagging }}）{% endif %}。", "正文")

    # 六、下步工作, drawn from the month's facts.
    _add(document, "六、下步工作", "一级标题")
    _add(document, "{%p for s in next_steps %}", "正文")
    step = _add(document, "", "正文")
    step.add_run("{{ s.number }}{{ s.title }}。", "小标题")
    step.add_run("{{ s.text }}")
    _add(document, "{%p endfor %}", "正文")

    # 附件说明, or where the lists are instead.
    _add(document, "{%p if attachments.items %}", "正文")
    _add(document, "附件：{{ attachments.items[0].number }}. {{ attachments.items[0].title }}",
         "附件说明")
    _add(document, "{%p for a in attachments.items[1:] %}", "正文")
    _add(document, "{{ a.number }}. {{ a.title }}", "附件说明续")
    _add(document, "{%p endfor %}", "正文")
    _add(document, "{%p endif %}", "正文")
    _add(document, "{%p if not attachments.in_bulletin %}", "正文")
    _add(document, "滞后项目名单、存在问题清单、问题办结情况和各牵头单位排名见同期《重大项目推进情况通报》。",
         "正文")
    _add(document, "{%p endif %}", "正文")

    # 附件, each from a new page.
    _attachment(document, "lagging", "{{ title_period }}滞后项目名单")
    _add(document, "投资完成率为本年累计完成投资占年度计划投资的比例，时序进度{{ benchmark }}%", "表注")
    _table(document, ("序号", "项目名称", "牵头单位", "县区", "年度计划\n（万元）",
                      "完成率\n（%）", "逾期"),
           ("{{ loop.index }}", "{{ g.name }}", "{{ g.unit }}", "{{ g.county }}",
            "{{ g.annual_plan_wan|money }}", "{{ g.rate|rate }}", "{{ g.overdue_text }}"),
           "CLLLNNC", "g in lagging", (10, 50, 30, 18, 20, 14, 14))
    _add(document, "{%p endif %}", "正文")

    _attachment(document, "issues", "{{ title_period }}存在问题和需协调事项清单")
    _table(document, ("序号", "项目名称", "牵头单位", "存在问题和需协调事项", "问题\n类型", "办理情况"),
           ("{{ loop.index }}", "{{ i.project_name }}", "{{ i.unit }}", "{{ i.text }}",
            "{{ i.kind }}", "{{ i.handling_text }}"), "CLLLCL", "i in issues",
           (10, 34, 26, 50, 14, 22))
    _add(document, "{%p endif %}", "正文")

    _attachment(document, "problems", "{{ title_period }}各协调责任单位问题办结情况")
    _add(document, "截至{{ problem_ledger.as_of_text }}；办结率＝已办结÷交办，按时办结率＝办理时限内"
                   "办结÷交办", "表注")
    _table(document, ("序号", "协调责任单位", "交办", "已办结", "其中\n按时", "未办结", "其中\n逾期",
                      "办结率\n（%）", "按时办结\n率（%）"),
           ("{{ loop.index }}", "{{ c.unit }}", "{{ c.total }}", "{{ c.closed }}", "{{ c.on_time }}",
            "{{ c.open }}", "{{ c.overdue }}", "{{ c.rate|rate }}", "{{ c.on_time_rate|rate }}"),
           "CLNNNNNNN", "c in problem_ledger.closure", (10, 46, 12, 12, 12, 12, 12, 20, 20),
           totals=[("", "合计", "{{ problem_ledger.closure_total.total }}",
                    "{{ problem_ledger.closure_total.closed }}",
                    "{{ problem_ledger.closure_total.on_time }}",
                    "{{ problem_ledger.closure_total.open }}",
                    "{{ problem_ledger.closure_total.overdue }}",
                    "{{ problem_ledger.closure_total.rate|rate }}",
                    "{{ problem_ledger.closure_total.on_time_rate|rate }}")])
    _add(document, "{%p endif %}", "正文")

    _attachment(document, "units", "{{ title_period }}各牵头单位投资完成情况排名")
    _add(document, "{%p for g in unit_ranking.groups %}", "正文")
    _add(document, "{{ g.name }}（{{ g.count }}个单位）", "表题")
    _table(document, ("类内\n排名", "牵头单位", "项目数", "年度计划\n（亿元）", "累计完成\n（亿元）",
                      "完成率\n（%）", "较上月\n（百分点）", "预警"),
           ["{{ u.rank }}", "{{ u.name }}", *_group_cells("u")], "CLNNNNNC", "u in g.units",
           (12, 44, 12, 18, 18, 15, 17, 12),            totals=[("", "小计", *_group_cells("g.total"))])
    _add(document, "{%p endfor %}", "正文")
    _add(document, "{%p endif %}", "正文")

    _attachment(document, "milestones", "{{ year }}年{{ month }}月新开工、竣工项目名单")
    for title, items, when in (("本月新开工项目", "month_starts", "实际开工时间"),
                               ("本月竣工项目", "month_completions", "实际竣工时间")):
        _add(document, f"{{%p if {items} %}}", "正文")
        _add(document, title, "表题")
        _table(document, ("序号", "项目名称", "牵头单位", "县区", "年度计划\n（万元）", when),
               ("{{ loop.index }}", "{{ m.name }}", "{{ m.unit }}", "{{ m.county }}",
                "{{ m.annual_plan_wan|money }}", "{{ m.actual_date }}"), "CLLLNC",
               f"m in {items}", (10, 50, 30, 18, 22, 26))
        _add(document, "{%p endif %}", "正文")
    _add(document, "{%p endif %}", "正文")

    # 版记 (报送 / 抄送 / 印发, between rules) at the foot of the last page.
    closing_lines = []
    closing_lines.append(_add(document, "报送：市委、市人大常委会、市人民政府、市政协领导。", "版记"))
    closing_lines.append(_add(document, "抄送：各县（区）人民政府，各新区管委会，市直各有关单位。",
                              "版记"))
    closing_lines.append(_add(document, "{{ publisher }}\t{{ issued_text }}印发", "版记"))
    _border(closing_lines[0], "top", size=8)
    _border(closing_lines[1], "top", size=4)
    _border(closing_lines[2], "top", size=4)
    _border(closing_lines[2], "bottom", size=8)
    _at_page_foot(document, closing_lines)

    _page_numbers(document, section)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def build_notice_template(path: Path) -> Path:
    """Write the 督办通知单 template to ``path``: the 简报's page, fonts and styles, in the
    order of a 公文 notice (红头, 编号, 标题, 主送, 正文, the lists, 办理要求, 联系人, 落款, 版记)."""
    document, section = _document("重大项目督办通知单")
    _paragraph_style(document, "主送", FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    signature = _paragraph_style(document, "落款", FANGSONG, BODY_SIZE,
                                 align=WD_ALIGN_PARAGRAPH.RIGHT)
    signature.paragraph_format.right_indent = Pt(BODY_SIZE * 4)
    _paragraph_style(document, "落款首行", FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT,
                     before=LINE_PITCH).paragraph_format.right_indent = Pt(BODY_SIZE * 4)

    _add(document, "重大项目督办通知单", "红头")
    _add(document, "{{ notice.number }}", "期数")
    rule = _add(document, "{{ publisher }}\t{{ supervision.as_of_text }}", "编印单位行")
    _border(rule, "bottom", RED, size=18, space=4)
    _add(document, "关于督促办理重大项目推进事项的通知", "简报标题")
    _add(document, "{{ notice.unit }}：", "主送")
    _add(document, "根据《{{ city }}{{ year }}年市级层面统筹推进重大项目实施方案》关于对项目推进协调事项"
                   "落实情况开展督查、限期整改的要求，经梳理{{ title_period }}重大项目推进情况，"
                   "{{ notice.reason_text }}。现将有关事项列入督办，请你单位高度重视，逐项落实，于"
                   "{{ supervision.reply_by_text }}前将办理情况书面反馈{{ publisher }}。", "正文")

    _add(document, "{%p if notice.problems %}", "正文")
    _add(document, "一、督办问题", "一级标题")
    _table(document, ("问题编号", "项目名称", "问题及最新进展", "办理时限", "督办原因"),
           ("{{ i.problem_id }}", "{{ i.project_name }}",
            "{{ i.detail }}{% if i.progress %}（最新进展：{{ i.progress }}）{% endif %}",
            "{{ i.due_text }}", "{{ i.reason }}"), "CLLCL", "i in notice.problems",
           (24, 36, 50, 24, 22))
    _add(document, "{%p endif %}", "正文")
    _add(document, "{%p if notice.projects %}", "正文")
    _add(document, "{% if notice.problems %}二{% else %}一{% endif %}、督办项目", "一级标题")
    _table(document, ("项目编号", "项目名称", "投资完成情况", "督办原因"),
           ("{{ p.project_id }}", "{{ p.project_name }}",
            "{{ p.detail }}{% if p.due_text %}；{{ p.due_text }}{% endif %}", "{{ p.reason }}"),
           "CLLL", "p in notice.projects", (24, 40, 64, 28))
    _add(document, "{%p endif %}", "正文")

    _add(document, "{% if notice.problems and notice.projects %}三{% else %}二{% endif %}、办理要求",
         "一级标题")
    _add(document, "{%p if notice.problems %}", "正文")
    _add(document, "（一）对列入督办的问题，请主要负责同志亲自过问，明确专人，限期办结；确有困难、"
                   "不能按期办结的，请书面说明原因和拟办结时间。办理时限将至的问题，请抓紧办理。", "正文")
    _add(document, "{%p endif %}", "正文")
    _add(document, "{%p if notice.projects %}", "正文")
    _add(document, "（{% if notice.problems %}二{% else %}一{% endif %}）对红灯和逾期未开工、未竣工的"
                   "项目，请逐个分析滞后原因，制定赶超措施，倒排工期，力促尽快开工、竣工和达到时序进度。",
         "正文")
    _add(document, "{%p endif %}", "正文")
    _add(document, "（{% if notice.problems and notice.projects %}三{% else %}二{% endif %}）"
                   "请于{{ supervision.reply_by_text }}前将办理情况（已办结的附办结依据）报送"
                   "{{ publisher }}。办理情况纳入重大项目考核，并在下期简报、通报中通报。", "正文")
    _add(document, "{%p if contact %}", "正文")
    _add(document, "联系人：{{ contact }}", "正文")
    _add(document, "{%p endif %}", "正文")
    _add(document, "{{ publisher }}", "落款首行")
    _add(document, "{{ supervision.as_of_text }}", "落款")

    closing_lines = [_add(document, "抄送：市委市政府重点工作督查办公室。", "版记"),
                     _add(document, "{{ publisher }}\t{{ supervision.as_of_text }}印发", "版记")]
    _border(closing_lines[0], "top", size=8)
    _border(closing_lines[1], "top", size=4)
    _border(closing_lines[1], "bottom", size=8)
    _at_page_foot(document, closing_lines)
    _page_numbers(document, section)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# ---- Excel -------------------------------------------------------------------------------

THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor=HEADER_SHADE)  # as the 简报's table headers
BLOCK_FILL = PatternFill("solid", fgColor="F2F2F2")
TITLE_FONT = Font(name="黑体", size=16)
NOTE_FONT = Font(name="仿宋", size=11)
HEADER_FONT = Font(name="黑体", size=10)
CELL_FONT = Font(name="仿宋", size=11)
TOTAL_FONT = Font(name="黑体", size=11)
ALIGN = {"L": Alignment(horizontal="left", vertical="center", wrap_text=True),
         "C": Alignment(horizontal="center", vertical="center", wrap_text=True),
         "N": Alignment(horizontal="right", vertical="center")}
YI, RATE, WAN, SIGNED = "#,##0.00", "0.0", "#,##0.00", "+0.0;-0.0;0.0"
FLAG_FILLS = {flag: FLAG_COLORS[flag] for flag in ("红", "黄", "绿")}  # as in the 简报
FLAG_FONTS = {"红": "9C0006", "黄": "9C5700", "绿": "006100"}
FOOTER = ("{{ publisher }}", "第 &P 页 共 &N 页", "{{ issued_text }}印发")
NOTE = ("数据截至{{ period_end_text }}；时序进度{{ benchmark }}%（{{ benchmark_method }}）。"
        "预警：{{ flag_rule_text }}。较上月：完成率与{{ previous_period or '上月' }}相比的变化（百分点）；"
        "名次变化：↑上升、↓下降。{{ freshness.text }}")


@dataclass(frozen=True)
class _Col:
    header: str  # "\n" where the header breaks its line
    cell: str  # the item row's placeholder (or fixed text)
    width: float
    kind: str = "C"  # L text left, C centred, N number right-aligned
    number_format: str | None = None


def _sheet(book: Workbook, name: str, title: str, note: str, columns: Sequence[_Col]
           ) -> Worksheet:
    """A print-ready sheet: title (row 1), note (row 2), header (row 3), A4 landscape,
    one page wide, the header repeated on every page, 编印单位/page/印发日期 in the footer."""
    ws = book.create_sheet(name)
    last = len(columns)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws.cell(row=1, column=1, value=title).font = TITLE_FONT
    ws.cell(row=1, column=1).alignment = ALIGN["C"]
    ws.row_dimensions[1].height = 30
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    ws.cell(row=2, column=1, value=note).font = NOTE_FONT
    ws.cell(row=2, column=1).alignment = ALIGN["L"]
    for number, column in enumerate(columns, start=1):
        cell = ws.cell(row=3, column=number, value=column.header)
        cell.font, cell.fill, cell.border, cell.alignment = (HEADER_FONT, HEADER_FILL, GRID,
                                                             ALIGN["C"])
        ws.column_dimensions[get_column_letter(number)].width = column.width
    lines = max(c.header.count("\n") + 1 for c in columns)
    ws.row_dimensions[3].height = 14 * lines + 4
    ws.freeze_panes = "C4"
    print_ready(ws, paper=ws.PAPERSIZE_A4, title_rows="3:3", footer=FOOTER)
    return ws


def _row(ws: Worksheet, row: int, columns: Sequence[_Col], cells: Sequence[str | None],
         font: Font = CELL_FONT, fill: PatternFill | None = None) -> None:
    for number, (column, text) in enumerate(zip(columns, cells, strict=True), start=1):
        cell = ws.cell(row=row, column=number, value=text or None)
        cell.font, cell.border, cell.alignment = font, GRID, ALIGN[column.kind]
        if column.number_format:
            cell.number_format = column.number_format
        if fill is not None:
            cell.fill = fill


def _block(ws: Worksheet, row: int, columns: Sequence[_Col], text: str) -> None:
    """A row naming the group below it, across the table."""
    _row(ws, row, columns, [text] + [None] * (len(columns) - 1), TOTAL_FONT, BLOCK_FILL)
    ws.cell(row=row, column=1).alignment = ALIGN["L"]
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(columns))


def _flag_rules(ws: Worksheet, cells: str) -> None:
    """红黄绿 fills as conditional formats: the office can recolour them in Excel, and they
    follow the rows as the table grows."""
    for flag, fill in FLAG_FILLS.items():
        ws.conditional_formatting.add(cells, CellIsRule(
            operator="equal", formula=[f'"{flag}"'], fill=PatternFill("solid", bgColor=fill),
            font=Font(color=FLAG_FONTS[flag])))


def _group_columns(items: str, rank: str, name: str, name_width: float) -> list[_Col]:
    return [
        _Col(rank, f"{{{{ {items}[].rank }}}}", 6, "C", "0"),
        _Col(name, f"{{{{ {items}[].name }}}}", name_width, "L"),
        _Col("项目数", f"{{{{ {items}[].count }}}}", 7, "N", "0"),
        _Col("年度计划投资\n（亿元）", f"{{{{ {items}[].annual_plan_yi }}}}", 13, "N", YI),
        _Col("本年累计完成\n（亿元）", f"{{{{ {items}[].year_completed_yi }}}}", 13, "N", YI),
        _Col("投资完成率\n（%）", f"{{{{ {items}[].rate }}}}", 11, "N", RATE),
        _Col("较上月\n（百分点）", f"{{{{ {items}[].rate_change }}}}", 10, "N", SIGNED),
        _Col("名次\n变化", f"{{{{ {items}[].rank_change_mark }}}}", 6, "C"),
        _Col("较时序进度\n（百分点）", f"{{{{ {items}[].gap }}}}", 11, "N", SIGNED),
        _Col("预警", f"{{{{ {items}[].flag }}}}", 6, "C"),
        # partly carried over from an earlier month (未报送 or 未通过 this month): said here
        _Col("数据说明", f"{{{{ {items}[].data_note }}}}", 16, "L"),
    ]


def _group_total(group: str, label: str) -> list[str | None]:
    return [None, label, f"{{{{ {group}.count }}}}", f"{{{{ {group}.annual_plan_yi }}}}",
            f"{{{{ {group}.year_completed_yi }}}}", f"{{{{ {group}.rate }}}}",
            f"{{{{ {group}.rate_change }}}}", None, f"{{{{ {group}.gap }}}}",
            f"{{{{ {group}.flag }}}}", None]


def _counties_sheet(book: Workbook) -> None:
    columns = _group_columns("counties", "排名", "县区", 26)
    ws = _sheet(book, "县区排名", "{{ city }}重大项目推进情况通报（{{ title_period }}·按县区）",
                NOTE, columns)
    ws.row_dimensions[2].height = 30
    _row(ws, 4, columns, [c.cell for c in columns])
    _row(ws, 5, columns, _group_total("total", "合计"), TOTAL_FONT)
    _flag_rules(ws, "J4:J5")
    # The chart's labels: the short names (a name in brackets would crowd the axis), in a
    # hidden column the chart still reads.
    ws["L3"], ws["L4"] = "简称", "{{ counties[].short_name }}"
    ws.column_dimensions["L"].hidden = True
    chart = BarChart()
    chart.type = "col"
    chart.title = "各县区投资完成率与时序进度（%）"
    chart.y_axis.title = "%"
    chart.y_axis.majorGridlines = None
    chart.y_axis.number_format = "0"
    chart.add_data(Reference(ws, min_col=6, min_row=4, max_row=4))
    chart.series[0].tx = SeriesLabel(v="投资完成率（%）")
    chart.set_categories(Reference(ws, min_col=12, min_row=4, max_row=4))
    chart.series[0].graphicalProperties.solidFill = DONE_COLOR.lstrip("#")
    chart.series[0].graphicalProperties.line.solidFill = DONE_COLOR.lstrip("#")
    benchmark = LineChart()
    benchmark.add_data(Reference(ws, min_col=13, min_row=4, max_row=4))
    benchmark.series[0].tx = SeriesLabel(v="时序进度（%）")
    ws["M3"], ws["M4"] = "时序进度（%）", "{{ benchmark }}"
    ws.column_dimensions["M"].hidden = True
    benchmark.series[0].graphicalProperties.line.solidFill = LINE_COLOR.lstrip("#")
    benchmark.series[0].graphicalProperties.line.width = 28575
    benchmark.series[0].graphicalProperties.line.dashStyle = "dash"
    benchmark.series[0].smooth = False
    chart += benchmark
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl hides axes in Excel otherwise
    chart.x_axis.txPr = _axis_text(900)
    chart.y_axis.txPr = _axis_text(900)
    chart.legend.position = "b"
    chart.visible_cells_only = False  # the labels live in a hidden column
    chart.width = _sheet_width_cm(columns) - 0.5
    chart.height = 7.5
    ws.add_chart(chart, "A7")
    # The print area reaches below the chart, so it prints on the table's page; across every
    # column of the table (数据说明 last, which the note above it runs into).
    ws.print_area = f"A1:{get_column_letter(len(columns))}{7 + CHART_ROWS}"
    ws.page_setup.fitToHeight = 1


CHART_ROWS = 16  # rows of 15 points the 7.5 cm chart covers, and a margin


def _axis_text(size: int) -> RichText:
    """Axis labels at ``size`` hundredths of a point, horizontal."""
    return RichText(bodyPr=RichTextProperties(rot=0, vert="horz"), p=[TextParagraph(
        pPr=ParagraphProperties(defRPr=CharacterProperties(sz=size)),
        endParaRPr=CharacterProperties(sz=size))])


def _sheet_width_cm(columns: Sequence[_Col]) -> float:
    """Approximate printed width of the columns: a width unit is about 0.19 cm."""
    return sum(c.width for c in columns) * 0.19


def _units_sheet(book: Workbook) -> None:
    """Rankings within each 单位类别, a 小计 under each, the 合计 at the foot."""
    columns = _group_columns("X", "类内\n排名", "牵头单位", 32)
    ws = _sheet(book, "牵头单位排名",
                "{{ city }}重大项目推进情况通报（{{ title_period }}·按牵头单位）",
                NOTE + "各类单位（县区、市直部门、国有企业）分别排名。", columns)
    ws.row_dimensions[2].height = 30
    row = 4
    for number, (slot, label) in enumerate((("county", "县区"), ("department", "市直部门"),
                                            ("enterprise", "国有企业"),
                                            ("unclassified", "未分类")), start=1):
        group = f"unit_ranking.{slot}"
        _block(ws, row, columns, f"{_NUMERALS[number - 1]}、{label}（{{{{ {group}.count }}}}个单位）")
        items = f"{group}.units"
        _row(ws, row + 1, columns, [c.cell.replace("X[]", f"{items}[]") for c in columns])
        _row(ws, row + 2, columns, _group_total(f"{group}.total", "小计"), TOTAL_FONT)
        row += 3
    _row(ws, row, columns, _group_total("total", "合计"), TOTAL_FONT)
    _flag_rules(ws, f"J4:J{row}")


_NUMERALS = "一二三四五六七八九十"


def _list_sheet(book: Workbook, name: str, title: str, note: str, columns: Sequence[_Col],
                flags: str | None = None) -> Worksheet:
    ws = _sheet(book, name, title, note, columns)
    _row(ws, 4, columns, [c.cell for c in columns])
    if flags:
        _flag_rules(ws, f"{flags}4:{flags}4")
    return ws


def build_excel_template(path: Path) -> Path:
    """Write the 通报 template to ``path``."""
    book = Workbook()
    book.remove(book.active)
    _counties_sheet(book)
    _units_sheet(book)
    _list_sheet(
        book, "滞后项目", "{{ city }}重大项目滞后项目名单（{{ title_period }}）",
        "投资完成率为黄色、红色预警，或逾期未开工、逾期未竣工的项目，"
        "共{{ lagging|length }}个。金额单位：万元。",
        [_Col("序号", "{{ loop.index }}", 6, "C", "0"),
         _Col("项目名称", "{{ lagging[].name }}", 32, "L"),
         _Col("牵头单位", "{{ lagging[].unit }}", 22, "L"),
         _Col("县区", "{{ lagging[].county }}", 12, "L"),
         _Col("阶段", "{{ lagging[].stage }}", 7, "C"),
         _Col("年度计划投资\n（万元）", "{{ lagging[].annual_plan_wan }}", 13, "N", WAN),
         _Col("本年累计完成\n（万元）", "{{ lagging[].year_completed_wan }}", 13, "N", WAN),
         _Col("投资完成率\n（%）", "{{ lagging[].rate }}", 10, "N", RATE),
         _Col("较时序进度\n（百分点）", "{{ lagging[].gap }}", 11, "N", SIGNED),
         _Col("预警", "{{ lagging[].flag }}", 6, "C"),
         _Col("滞后原因", "{{ lagging[].reasons_text }}", 30, "L")], flags="J")
    _list_sheet(
        book, "存在问题", "{{ city }}重大项目存在问题和需协调事项（{{ title_period }}）",
        "本月{{ problems.projects }}个项目报送了存在问题，其中{{ problems.coordination }}个提出需"
        "协调事项。按类型：{{ problems.by_type_text or '无' }}。问题台帐累计{{ problem_ledger.total }}个"
        "问题：{{ problem_ledger.by_status_text or '无' }}。",
        [_Col("序号", "{{ loop.index }}", 6, "C", "0"),
         _Col("项目名称", "{{ issues[].project_name }}", 26, "L"),
         _Col("牵头单位", "{{ issues[].unit }}", 18, "L"),
         _Col("县区", "{{ issues[].county }}", 10, "L"),
         _Col("问题类型", "{{ issues[].kind }}", 9, "C"),
         _Col("存在问题", "{{ issues[].problems }}", 30, "L"),
         _Col("需协调事项", "{{ issues[].coordination }}", 24, "L"),
         _Col("问题编号", "{{ issues[].problem_id }}", 12, "C"),
         _Col("状态", "{{ issues[].status }}", 8, "C"),
         _Col("协调责任单位", "{{ issues[].handler }}", 18, "L"),
         _Col("办理时限", "{{ issues[].due_text }}", 15, "C")])
    closure = [
        _Col("序号", "{{ loop.index }}", 6, "C", "0"),
        _Col("协调责任单位", "{{ problem_ledger.closure[].unit }}", 32, "L"),
        _Col("交办\n（个）", "{{ problem_ledger.closure[].total }}", 9, "N", "0"),
        _Col("已办结\n（个）", "{{ problem_ledger.closure[].closed }}", 9, "N", "0"),
        _Col("其中按时\n（个）", "{{ problem_ledger.closure[].on_time }}", 10, "N", "0"),
        _Col("未办结\n（个）", "{{ problem_ledger.closure[].open }}", 9, "N", "0"),
        _Col("其中逾期\n（个）", "{{ problem_ledger.closure[].overdue }}", 10, "N", "0"),
        _Col("办结率\n（%）", "{{ problem_ledger.closure[].rate }}", 10, "N", RATE),
        _Col("按时办结率\n（%）", "{{ problem_ledger.closure[].on_time_rate }}", 12, "N", RATE)]
    closed = _list_sheet(
        book, "问题办结", "{{ city }}重大项目问题办结情况（截至{{ problem_ledger.as_of_text }}）",
        "问题台帐累计{{ problem_ledger.total }}个问题（本月新增{{ problem_ledger.raised }}个、办结"
        "{{ problem_ledger.closed_in_month }}个）：{{ problem_ledger.by_status_text or '无' }}；"
        "超过办理时限未办结{{ problem_ledger.overdue }}个。办结率＝已办结÷交办，按时办结率＝办理时限内"
        "办结÷交办，按办结率从低到高排列。", closure)
    total = "problem_ledger.closure_total"
    _row(closed, 5, closure, [None, "合计"] + [f"{{{{ {total}.{name} }}}}" for name in (
        "total", "closed", "on_time", "open", "overdue", "rate", "on_time_rate")], TOTAL_FONT)
    _list_sheet(
        book, "督办", "{{ city }}重大项目督办事项（截至{{ supervision.as_of_text }}）",
        "列入督办：问题{{ supervision.overdue_problems }}个超过办理时限、{{ supervision.stale_problems }}个"
        "提出已满{{ supervision.problem_months }}个月未办结，项目红灯{{ supervision.red_projects }}个、"
        "逾期未开工{{ supervision.late_starts }}个、逾期未竣工{{ supervision.late_ends }}个，涉及"
        "{{ supervision.unit_count }}个单位，每个单位一份督办通知单（请于{{ supervision.reply_by_text }}前"
        "反馈）；办理时限将至的问题{{ supervision.warning_problems }}个（黄色，提醒）"
        "{% if supervision.waiting_problems %}；另有{{ supervision.waiting_problems }}个问题提出已久、"
        "尚未交办{% endif %}。",
        [_Col("序号", "{{ loop.index }}", 6, "C", "0"),
         _Col("督办对象", "{{ supervision.rows[].unit }}", 20, "L"),
         _Col("通知单编号", "{{ supervision.rows[].number }}", 17, "C"),
         _Col("类别", "{{ supervision.rows[].kind }}", 6, "C"),
         _Col("项目名称", "{{ supervision.rows[].project_name }}", 26, "L"),
         _Col("问题编号", "{{ supervision.rows[].problem_id }}", 12, "C"),
         _Col("督办事项", "{{ supervision.rows[].detail }}", 36, "L"),
         _Col("时限", "{{ supervision.rows[].due_text }}", 15, "C"),
         _Col("督办原因", "{{ supervision.rows[].reason }}", 22, "L"),
         _Col("预警", "{{ supervision.rows[].flag }}", 6, "C")], flags="J")
    milestones = [
        _Col("类别", "", 8, "C"),
        _Col("序号", "{{ loop.index }}", 6, "C", "0"),
        _Col("项目名称", "X.name", 34, "L"),
        _Col("牵头单位", "X.unit", 24, "L"),
        _Col("县区", "X.county", 12, "L"),
        _Col("行业分类", "X.sector", 9, "C"),
        _Col("年度计划投资\n（万元）", "X.annual_plan_wan", 13, "N", WAN),
        _Col("实际开工（竣工）\n时间", "X.actual_date", 16, "C")]
    ws = _sheet(book, "本月开竣工", "{{ city }}{{ year }}年{{ month }}月新开工、竣工项目",
                "本月新开工项目{{ month_starts|length }}个、竣工项目{{ month_completions|length }}个"
                "（本报告期首次报送已开工、已竣工的项目）。金额单位：万元。", milestones)
    for row, (label, items) in enumerate((("新开工", "month_starts"),
                                          ("竣工", "month_completions")), start=4):
        cells = [label] + [c.cell if not c.cell.startswith("X.")
                           else f"{{{{ {items}[].{c.cell[2:]} }}}}" for c in milestones[1:]]
        _row(ws, row, milestones, cells)
    returns = _list_sheet(
        book, "报送情况", "{{ city }}重大项目信息报送情况（{{ period }}）",
        "应报送{{ returns.expected }}个单位，已报送{{ returns.submitted }}个，按时报送"
        "{{ returns.on_time }}个，按时报送率{{ returns.on_time_rate }}%；截止日{{ returns.deadline }}。",
        [_Col("序号", "{{ loop.index }}", 6, "C", "0"),
         _Col("牵头单位", "{{ returns.units[].unit }}", 36, "L"),
         _Col("应报项目数", "{{ returns.units[].projects }}", 10, "N", "0"),
         _Col("是否报送", "{{ returns.units[].submitted }}", 10, "C"),
         _Col("是否按时", "{{ returns.units[].on_time }}", 10, "C"),
         _Col("是否通过校验", "{{ returns.units[].passed }}", 13, "C"),
         _Col("接收日期", "{{ returns.units[].received }}", 18, "C")])
    for cells, value, flag in (("D4:D4", "否", "红"), ("E4:E4", "逾期", "黄"),
                               ("F4:F4", "否", "红")):
        returns.conditional_formatting.add(cells, CellIsRule(
            operator="equal", formula=[f'"{value}"'],
            fill=PatternFill("solid", bgColor=FLAG_FILLS[flag]),
            font=Font(color=FLAG_FONTS[flag])))

    book.properties.creator = "zdxm-xl"
    book.properties.created = book.properties.modified = FIXED_TIME
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path


# ---- building and comparing ----------------------------------------------------------------

def build_all(folder: Path) -> list[Path]:
    return [build_word_template(folder / WORD_TEMPLATE), build_excel_template(folder / EXCEL_TEMPLATE),
            build_notice_template(folder / NOTICE_TEMPLATE)]


def template_parts(data: bytes | Path) -> dict[str, bytes]:
    """A template's zip parts, without the one whose bytes carry a save time (docProps/core)."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with zipfile.ZipFile(source) as archive:
        return {name: archive.read(name) for name in sorted(archive.namelist())
                if name != "docProps/core.xml"}


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("templates")
    for built in build_all(target):
        print(built)
