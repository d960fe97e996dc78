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
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from zdxm_xl.reports.bulletins import EXCEL_TEMPLATE, WORD_TEMPLATE

__all__ = ["WORD_TEMPLATE", "EXCEL_TEMPLATE", "build_word_template", "build_excel_template",
           "build_all", "template_parts"]

RED = "FF0000"
FIXED_TIME = datetime(2022, 1, 1)  # document properties carry no build time: rebuilds compare equal

# 公文 fonts. Offices have 仿宋/黑体/楷体 with Windows; 方正小标宋简体 is the usual 红头 and
# title font (Word substitutes a 宋体 where it is missing). The office may change any of them.
FANGSONG, HEITI, KAITI, SONGTI, XIAOBIAOSONG = "仿宋", "黑体", "楷体", "宋体", "方正小标宋简体"
LATIN = "Times New Roman"
BODY_SIZE = 16  # 三号
LINE_PITCH = 28  # exact line spacing: 22 lines on the 225 mm type area
TEXT_WIDTH = Mm(156)  # 210 − 28 − 26


# ---- Word --------------------------------------------------------------------------------

def _fonts(element: object, east_asia: str, latin: str = LATIN) -> None:
    """Set w:rFonts on a run or style rPr so every script has a named font."""
    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia),
                             ("w:cs", latin), ("w:hint", "eastAsia")):
        fonts.set(qn(attribute), value)


def _paragraph_style(document: object, name: str, font: str, size: float, *, bold: bool = False,
                     align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: int = 0,
                     exact: float | None = LINE_PITCH, before: float = 0, after: float = 0,
                     color: str | None = None, latin: str = LATIN) -> ParagraphStyle:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)  # type: ignore[attr-defined]
    style.base_style = document.styles["Normal"]  # type: ignore[attr-defined]
    style.quick_style = True
    _style_format(style, font, size, bold=bold, align=align, indent_chars=indent_chars,
                  exact=exact, before=before, after=after, color=color, latin=latin)
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


def _chinese(document: object) -> None:
    """Mark text as Simplified Chinese for East Asian scripts (w:lang w:eastAsia): Word
    proofs it as Chinese and renderers choose Simplified Chinese glyphs."""
    defaults = document.styles.element.find(qn("w:docDefaults"))  # type: ignore[attr-defined]
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


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
        paragraph.add_run(text)


def _repeat_header(table: Table) -> None:
    trpr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _table(document: object, headers: Sequence[str], cells: Sequence[str], loop: str,
           widths: Sequence[float], total: Sequence[str] | None = None,
           left: Sequence[int] = ()) -> Table:
    """A table whose middle row repeats once per item: header, ``{%tr for %}``, the item
    row, ``{%tr endfor %}`` and an optional total row (docxtpl removes the tag rows)."""
    rows = 4 + (1 if total else 0)
    table: Table = document.add_table(rows=rows, cols=len(headers))  # type: ignore[attr-defined]
    table.style = document.styles["Table Grid"]  # type: ignore[attr-defined]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for index, column in enumerate(table.columns):
        column.width = Mm(widths[index])
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            cell.width = Mm(widths[index])
    for index, header in enumerate(headers):
        _cell_text(table.cell(0, index), header, "表头")
    _cell_text(table.cell(1, 0), f"{{%tr for {loop} %}}", "表格文字")
    for index, text in enumerate(cells):
        _cell_text(table.cell(2, index), text, "表格文字左" if index in left else "表格文字")
    _cell_text(table.cell(3, 0), "{%tr endfor %}", "表格文字")
    if total:
        for index, text in enumerate(total):
            _cell_text(table.cell(4, index), text, "表格文字")
    for row in table.rows:
        row.height = Mm(6.5)  # at least: long names still wrap
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _repeat_header(table)
    return table


def _flag(item: str) -> str:
    return f"{{% cellbg {item}.flag_color %}}{{{{ {item}.flag }}}}"


def _group_cells(item: str, with_rank: bool = True) -> list[str]:
    cells = [f"{{{{ {item}.rank }}}}"] if with_rank else []
    # A ranked group whose figures are partly carried over says so beside its name.
    name = f"{{{{ {item}.name }}}}" + (
        f"{{% if {item}.data_note %}}（{{{{ {item}.data_note }}}}）{{% endif %}}" if with_rank else "")
    return cells + [name, f"{{{{ {item}.count }}}}",
                    f"{{{{ {item}.annual_plan_yi }}}}", f"{{{{ {item}.year_completed_yi }}}}",
                    f"{{{{ {item}.rate }}}}", f"{{{{ {item}.gap }}}}", _flag(item)]


GROUP_HEADERS = ("项目数", "年度计划（亿元）", "累计完成（亿元）", "完成率（%）",
                 "较时序进度（百分点）", "预警")
GROUP_WIDTHS = (22, 16, 24, 24, 20, 26, 14)  # name column first; sums to 146 mm


def build_word_template(path: Path) -> Path:
    """Write the 简报 template to ``path``."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(24)
    properties = document.core_properties
    properties.title, properties.author = "重大项目建设简报", "zdxm-xl"
    properties.created = properties.modified = FIXED_TIME
    properties.last_modified_by, properties.revision = "zdxm-xl", 1
    _style_format(document.styles["Normal"], FANGSONG, BODY_SIZE,
                  align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _chinese(document)
    _paragraph_style(document, "正文", FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                     indent_chars=2)
    _paragraph_style(document, "红头", XIAOBIAOSONG, 40, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=None, before=0, after=6, color=RED, latin=XIAOBIAOSONG)
    _paragraph_style(document, "期数", FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                     after=6)
    masthead_line = _paragraph_style(document, "编印单位行", KAITI, BODY_SIZE, after=20)
    masthead_line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _paragraph_style(document, "简报标题", XIAOBIAOSONG, 22, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=35, after=16, latin=XIAOBIAOSONG)
    for name, font in (("一级标题", HEITI), ("二级标题", KAITI)):
        heading = _paragraph_style(document, name, font, BODY_SIZE, indent_chars=2)
        heading.paragraph_format.keep_with_next = True
    _paragraph_style(document, "图题", HEITI, 12, align=WD_ALIGN_PARAGRAPH.CENTER, exact=None,
                     before=2, after=6)
    _paragraph_style(document, "图片", FANGSONG, 12, align=WD_ALIGN_PARAGRAPH.CENTER, exact=None,
                     before=8).paragraph_format.keep_with_next = True
    _paragraph_style(document, "表头", HEITI, 10.5, align=WD_ALIGN_PARAGRAPH.CENTER, exact=None)
    _paragraph_style(document, "表格文字", FANGSONG, 10.5, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=None)
    _paragraph_style(document, "表格文字左", FANGSONG, 10.5, align=WD_ALIGN_PARAGRAPH.LEFT,
                     exact=None)
    _paragraph_style(document, "表注", FANGSONG, 12, exact=None, before=2, after=8)
    closing = _paragraph_style(document, "版记", FANGSONG, 14, exact=None, before=4, after=4)
    closing.paragraph_format.left_indent = Pt(14)
    closing.paragraph_format.right_indent = Pt(14)
    closing.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
    _paragraph_style(document, "页码", SONGTI, 14, exact=None, latin=SONGTI)

    # 红头: masthead, 期数, 编印单位 and date above a red rule.
    _add(document, "重大项目建设简报", "红头")
    _add(document, "第{{ issue }}期", "期数")
    rule = _add(document, "{{ publisher }}\t{{ issued_text }}", "编印单位行")
    _border(rule, "bottom", RED, size=18, space=4)

    _add(document, "{{ city }}{{ title_period }}\n重大项目建设推进情况", "简报标题")

    _add(document, "一、总体情况", "一级标题")
    _add(document, "{{ title_period }}，全市{{ total.count }}个实施项目累计完成投资"
                   "{{ total.year_completed_yi }}亿元，占年度计划投资{{ total.annual_plan_yi }}亿元的"
                   "{{ total.rate }}%，{{ total.gap_text }}（时序进度{{ benchmark }}%）。"
                   "其中{{ month }}月完成投资{{ total.month_completed_yi }}亿元。"
                   "新开工项目{{ starts.planned }}个，已开工{{ starts.done }}个，开工率{{ starts.rate }}%；"
                   "竣工项目{{ completions.planned }}个，已竣工{{ completions.done }}个，"
                   "竣工率{{ completions.rate }}%。预备项目{{ preparatory.count }}个，"
                   "前期手续办结率{{ preparatory.permit_rate }}%。{{ freshness.text }}", "正文")
    _add(document, "{{ charts.counties }}", "图片")
    _add(document, "图1  各县区投资完成率与时序进度", "图题")

    _add(document, "二、分阶段推进情况", "一级标题")
    _add(document, "（一）实施项目", "二级标题")
    _add(document, "{% for s in stages %}{{ s.name }}项目{{ s.count }}个，累计完成投资"
                   "{{ s.year_completed_yi }}亿元，完成率{{ s.rate }}%"
                   "{% if loop.last %}。{% else %}；{% endif %}{% endfor %}", "正文")
    _table(document, ("阶段", *GROUP_HEADERS), _group_cells("s", with_rank=False), "s in stages",
           GROUP_WIDTHS, total=("合计", "{{ total.count }}", "{{ total.annual_plan_yi }}",
                                "{{ total.year_completed_yi }}", "{{ total.rate }}",
                                "{{ total.gap }}", _flag("total")))
    _add(document, "（二）预备项目前期工作", "二级标题")
    _add(document, "预备项目{{ preparatory.count }}个，总投资{{ preparatory.total_investment_yi }}"
                   "亿元。需办理前期手续{{ preparatory.permits_required }}件，已办结"
                   "{{ preparatory.permits_done }}件，办结率{{ preparatory.permit_rate }}%；"
                   "六项前期工作全部完成的项目{{ preparatory.ready }}个。", "正文")
    _table(document, ("前期工作", "已办结", "办理中", "未启动", "不涉及", "未报送"),
           ("{{ p.name }}", "{{ p.done }}", "{{ p.in_progress }}", "{{ p.not_started }}",
            "{{ p.not_applicable }}", "{{ p.unknown }}"), "p in preparatory.permits",
           (36, 22, 22, 22, 22, 22))

    _add(document, "三、分行业推进情况", "一级标题")
    _add(document, "{% for s in sectors %}{{ s.name }}项目{{ s.count }}个，累计完成投资"
                   "{{ s.year_completed_yi }}亿元，完成率{{ s.rate }}%"
                   "{% if loop.last %}。{% else %}；{% endif %}{% endfor %}", "正文")
    _table(document, ("行业分类", *GROUP_HEADERS), _group_cells("s", with_rank=False),
           "s in sectors", GROUP_WIDTHS)
    _add(document, "{{ charts.sectors }}", "图片")
    _add(document, "图2  分行业年度计划投资与累计完成投资", "图题")

    _add(document, "四、分县区推进情况", "一级标题")
    _add(document, "按投资完成率排名如下。预警规则：{{ flag_rule_text }}；逾期未开工、逾期未竣工的"
                   "项目至少为黄色。", "正文")
    _table(document, ("排名", "县区", *GROUP_HEADERS), _group_cells("c"), "c in counties",
           (11, 37, 13, 20, 20, 16, 18, 11), left=(1,))

    _add(document, "五、牵头单位排名", "一级标题")
    _add(document, "各牵头单位负责项目的投资完成率排名如下。", "正文")
    _table(document, ("排名", "牵头单位", *GROUP_HEADERS), _group_cells("u"), "u in units",
           (11, 43, 13, 18, 18, 15, 17, 11), left=(1,))
    _add(document, "{%p if freshness.carried_projects %}", "正文")
    _add(document, "注：名称后括号内为本月未报送或未通过校验、数据沿用以前月份的项目，"
                   "其完成率按最近一次报送的数据计算。", "表注")
    _add(document, "{%p endif %}", "正文")

    _add(document, "六、开工和竣工情况", "一级标题")
    _add(document, "新开工项目{{ starts.planned }}个，截至{{ period_end_text }}已开工"
                   "{{ starts.done }}个，开工率{{ starts.rate }}%；计划于本月底前开工的"
                   "{{ starts.due }}个中，已开工{{ starts.due_done }}个，逾期未开工"
                   "{{ starts.overdue|length }}个。竣工项目{{ completions.planned }}个，已竣工"
                   "{{ completions.done }}个，竣工率{{ completions.rate }}%；计划于本月底前竣工的"
                   "{{ completions.due }}个中，逾期未竣工{{ completions.overdue|length }}个。", "正文")
    _add(document, "{%p if starts.overdue %}", "正文")
    _add(document, "逾期未开工项目：", "表注")
    _table(document, ("序号", "项目名称", "牵头单位", "县区", "计划开工时间"),
           ("{{ loop.index }}", "{{ o.name }}", "{{ o.unit }}", "{{ o.county }}",
            "{{ o.planned_start }}"), "o in starts.overdue", (12, 60, 34, 20, 20), left=(1, 2))
    _add(document, "{%p endif %}", "正文")
    _add(document, "{%p if completions.overdue %}", "正文")
    _add(document, "逾期未竣工项目：", "表注")
    _table(document, ("序号", "项目名称", "牵头单位", "县区", "计划竣工时间"),
           ("{{ loop.index }}", "{{ o.name }}", "{{ o.unit }}", "{{ o.county }}",
            "{{ o.planned_end }}"), "o in completions.overdue", (12, 60, 34, 20, 20),
           left=(1, 2))
    _add(document, "{%p endif %}", "正文")

    _add(document, "七、滞后项目", "一级标题")
    _add(document, "投资完成率为黄色、红色预警或逾期未开工、未竣工的项目共"
                   "{{ lagging|length }}个，名单如下（金额单位：万元）。", "正文")
    _table(document, ("序号", "项目名称", "牵头单位", "县区", "年度计划", "累计完成", "完成率（%）",
                      "滞后原因"),
           ("{{ loop.index }}", "{{ g.name }}", "{{ g.unit }}", "{{ g.county }}",
            "{{ g.annual_plan_wan }}", "{{ g.year_completed_wan }}", "{{ g.rate }}",
            "{{ g.reasons_text }}"), "g in lagging", (10, 38, 24, 16, 16, 16, 12, 24),
           left=(1, 2, 7))

    _add(document, "八、存在问题和需协调事项", "一级标题")
    _add(document, "本月各单位报送存在问题或需协调事项的项目{{ issues|length }}个。", "正文")
    _table(document, ("序号", "项目名称", "牵头单位", "存在问题", "需协调事项"),
           ("{{ loop.index }}", "{{ i.project_name }}", "{{ i.unit }}", "{{ i.problems }}",
            "{{ i.coordination }}"), "i in issues", (10, 44, 30, 31, 31), left=(1, 2, 3, 4))

    _add(document, "九、报送情况", "一级标题")
    _add(document, "本月应报送单位{{ returns.expected }}个，已报送{{ returns.submitted }}个，"
                   "按时报送{{ returns.on_time }}个，按时报送率{{ returns.on_time_rate }}%"
                   "（截止日{{ returns.deadline }}）。未报送单位：{{ returns.missing_text }}。"
                   "逾期报送单位：{{ returns.late_text }}。未通过校验的单位：{{ returns.rejected_text }}。",
                   "正文")

    _add(document, "十、下步工作", "一级标题")
    _add(document, "（一）加快推进项目开工。对逾期未开工的项目逐个分析原因，明确开工时间节点，"
                   "力促早开工、早见效。", "正文")
    _add(document, "（二）强化要素保障。对各单位反映的用地、资金、审批等问题，及时协调解决，"
                   "需市级层面协调的事项提请市重大项目建设指挥部研究。", "正文")
    _add(document, "（三）严格督查通报。对投资完成率亮红灯、黄灯的县区和单位加强督导，"
                   "按时报送项目信息，确保数据真实准确。", "正文")

    # 版记: 报送 / 抄送 / 印发, between rules (the first and last thicker).
    _add(document, "", "正文")
    sent = _add(document, "报送：市委、市人大常委会、市人民政府、市政协领导。", "版记")
    _border(sent, "top", size=8)
    copied = _add(document, "抄送：各县（区）人民政府，各新区管委会，市直各有关单位。", "版记")
    _border(copied, "top", size=4)
    printed = _add(document, "{{ publisher }}\t{{ issued_text }}印发", "版记")
    _border(printed, "top", size=4)
    _border(printed, "bottom", size=8)

    # Page numbers: odd pages right, even pages left, one character in from the edge.
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
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# ---- Excel -------------------------------------------------------------------------------

THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TITLE_FONT = Font(name="黑体", size=16)
NOTE_FONT = Font(name="仿宋", size=11)
HEADER_FONT = Font(name="黑体", size=11)
CELL_FONT = Font(name="仿宋", size=11)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
YI, RATE, WAN = "#,##0.00", "0.0", "#,##0.00"
FLAG_FILLS = {"红": "FFC7CE", "黄": "FFEB9C", "绿": "C6EFCE"}
FLAG_FONTS = {"红": "9C0006", "黄": "9C5700", "绿": "006100"}


def _sheet_table(ws: Worksheet, title: str, note: str, headers: Sequence[str],
                 cells: Sequence[tuple[str, str | None]], widths: Sequence[float],
                 total: Sequence[str] | None = None) -> int:
    """Title, note, header row 3, the item row 4 (placeholders), optional total row 5.
    Returns the item row."""
    last = len(headers)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws.cell(row=1, column=1, value=title).font = TITLE_FONT
    ws.cell(row=1, column=1).alignment = CENTER
    ws.row_dimensions[1].height = 30
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    ws.cell(row=2, column=1, value=note).font = NOTE_FONT
    ws.cell(row=2, column=1).alignment = LEFT
    ws.row_dimensions[2].height = 30
    for column, header in enumerate(headers, start=1):
        cell = ws.cell(row=3, column=column, value=header)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, GRID, CENTER
    ws.row_dimensions[3].height = 32
    for column, (text, number_format) in enumerate(cells, start=1):
        cell = ws.cell(row=4, column=column, value=text)
        cell.font, cell.border = CELL_FONT, GRID
        cell.alignment = LEFT if column == 2 else CENTER
        if number_format:
            cell.number_format = number_format
    if total:
        for column, text in enumerate(total, start=1):
            cell = ws.cell(row=5, column=column, value=text or None)
            cell.font, cell.border, cell.alignment = HEADER_FONT, GRID, CENTER
            cell.number_format = cells[column - 1][1] or "General"
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    ws.freeze_panes = "A4"
    ws.print_title_rows = "1:3"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return 4


def _flag_rules(ws: Worksheet, cells: str) -> None:
    """红黄绿 fills as conditional formats: the office can recolour them in Excel, and they
    follow the rows as the table grows."""
    for flag, fill in FLAG_FILLS.items():
        ws.conditional_formatting.add(cells, CellIsRule(
            operator="equal", formula=[f'"{flag}"'], fill=PatternFill("solid", bgColor=fill),
            font=Font(color=FLAG_FONTS[flag])))


def _group_cells_xl(item: str, ranked: bool = True) -> list[tuple[str, str | None]]:
    cells: list[tuple[str, str | None]] = [(f"{{{{ {item}[].rank }}}}", None)] if ranked else []
    return cells + [(f"{{{{ {item}[].name }}}}", None), (f"{{{{ {item}[].count }}}}", "0"),
                    (f"{{{{ {item}[].annual_plan_yi }}}}", YI),
                    (f"{{{{ {item}[].year_completed_yi }}}}", YI),
                    (f"{{{{ {item}[].rate }}}}", RATE), ("{{ benchmark }}", RATE),
                    (f"{{{{ {item}[].gap }}}}", RATE), (f"{{{{ {item}[].flag }}}}", None),
                    (f"{{{{ {item}[].data_note }}}}", None)]


XL_GROUP_HEADERS = ("项目数", "年度计划投资（亿元）", "本年累计完成（亿元）", "投资完成率（%）",
                    "时序进度（%）", "较时序进度（百分点）", "预警", "数据说明")
NOTE = ("数据截至{{ period_end_text }}；时序进度{{ benchmark }}%（{{ benchmark_method }}）。"
        "预警：{{ flag_rule_text }}。{{ freshness.text }}")


def build_excel_template(path: Path) -> Path:
    """Write the 通报 template to ``path``."""
    book = Workbook()
    counties = book.active
    assert counties is not None
    counties.title = "县区排名"
    row = _sheet_table(counties, "{{ city }}重大项目推进情况通报（{{ title_period }}·按县区）", NOTE,
                       ("排名", "县区", *XL_GROUP_HEADERS), _group_cells_xl("counties"),
                       (7, 30, 9, 14, 14, 12, 11, 13, 8, 22),
                       total=("", "合计", "{{ total.count }}", "{{ total.annual_plan_yi }}",
                              "{{ total.year_completed_yi }}", "{{ total.rate }}",
                              "{{ benchmark }}", "{{ total.gap }}", "{{ total.flag }}",
                              "{{ total.data_note }}"))
    _flag_rules(counties, f"I{row}:I{row + 1}")
    chart = BarChart()
    chart.type = "col"
    chart.title = "各县区投资完成率与时序进度（%）"
    chart.y_axis.title = "%"
    chart.y_axis.majorGridlines = None
    chart.add_data(Reference(counties, min_col=6, min_row=3, max_row=row), titles_from_data=True)
    chart.set_categories(Reference(counties, min_col=2, min_row=row, max_row=row))
    line = LineChart()
    line.add_data(Reference(counties, min_col=7, min_row=3, max_row=row), titles_from_data=True)
    line.set_categories(Reference(counties, min_col=2, min_row=row, max_row=row))
    line.series[0].graphicalProperties.line.solidFill = "C00000"
    line.series[0].graphicalProperties.line.width = 28575
    line.series[0].smooth = False
    chart += line
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl hides axes in Excel otherwise
    chart.legend.position = "b"
    chart.height, chart.width = 11, 26
    counties.add_chart(chart, f"A{row + 3}")

    units = book.create_sheet("牵头单位排名")
    row = _sheet_table(units, "{{ city }}重大项目推进情况通报（{{ title_period }}·按牵头单位）", NOTE,
                       ("排名", "牵头单位", *XL_GROUP_HEADERS), _group_cells_xl("units"),
                       (7, 34, 9, 14, 14, 12, 11, 13, 8, 22))
    _flag_rules(units, f"I{row}:I{row}")

    lagging = book.create_sheet("滞后项目")
    row = _sheet_table(
        lagging, "{{ city }}重大项目滞后项目名单（{{ title_period }}）",
        "投资完成率为黄色、红色预警，或逾期未开工、逾期未竣工的项目，"
        "共{{ lagging|length }}个。金额单位：万元。",
        ("序号", "项目名称", "牵头单位", "县区", "阶段", "年度计划投资（万元）", "本年累计完成（万元）",
         "投资完成率（%）", "较时序进度（百分点）", "预警", "滞后原因", "数据说明"),
        [("{{ loop.index }}", None), ("{{ lagging[].name }}", None), ("{{ lagging[].unit }}", None),
         ("{{ lagging[].county }}", None), ("{{ lagging[].stage }}", None),
         ("{{ lagging[].annual_plan_wan }}", WAN), ("{{ lagging[].year_completed_wan }}", WAN),
         ("{{ lagging[].rate }}", RATE), ("{{ lagging[].gap }}", RATE),
         ("{{ lagging[].flag }}", None), ("{{ lagging[].reasons_text }}", None),
         ("{{ lagging[].data_note }}", None)],
        (6, 40, 26, 16, 8, 14, 14, 11, 13, 7, 34, 14))
    _flag_rules(lagging, f"J{row}:J{row}")

    returns = book.create_sheet("报送情况")
    row = _sheet_table(
        returns, "{{ city }}重大项目信息报送情况（{{ period }}）",
        "应报送{{ returns.expected }}个单位，已报送{{ returns.submitted }}个，按时报送"
        "{{ returns.on_time }}个，按时报送率{{ returns.on_time_rate }}%；截止日{{ returns.deadline }}。",
        ("序号", "牵头单位", "应报项目数", "是否报送", "是否按时", "是否通过校验", "接收日期",
         "报送状态"),
        [("{{ loop.index }}", None), ("{{ returns.units[].unit }}", None),
         ("{{ returns.units[].projects }}", "0"), ("{{ returns.units[].submitted }}", None),
         ("{{ returns.units[].on_time }}", None), ("{{ returns.units[].passed }}", None),
         ("{{ returns.units[].received }}", None), ("{{ returns.units[].status }}", None)],
        (6, 36, 11, 10, 10, 13, 18, 10))
    for cells, value, flag in ((f"D{row}:D{row}", "否", "红"), (f"E{row}:E{row}", "逾期", "黄"),
                               (f"F{row}:F{row}", "否", "红"), (f"H{row}:H{row}", "逾期", "黄"),
                               (f"H{row}:H{row}", "未通过", "红"), (f"H{row}:H{row}", "未报送", "红")):
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
    return [build_word_template(folder / WORD_TEMPLATE), build_excel_template(folder / EXCEL_TEMPLATE)]


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
