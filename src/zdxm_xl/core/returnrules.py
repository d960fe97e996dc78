"""The rules a returned form is checked by (SPEC §3): template identity (F5x), rows (Rxx),
values (Vxx) and the 问题跟踪 sheet (Qxx).

They are declared here, in the core, because two places need them: the checker
(``checks.returns``) applies them, and the master's 设置 sheet lists the ones the office may
adjust (校验规则: 错误 / 警告 / 不检查) with their defaults. Rules that decide whether a file
or a value can be read at all stay errors whatever the office sets, so that nothing is ever
merged half-read; the file-safety rules (F0x–F1x) live with the vetting in ``checks.vetting``.

Messages speak to the unit's 信息员: what is wrong in plain words and what to write instead.
"""

from __future__ import annotations

from .models import RuleLevel
from .rules import RULES, Rule, Severity, rule

__all__ = ["ADJUSTABLE", "default_level", "level_of", "severity_for"]

E, W = Severity.ERROR, Severity.WARNING

# ---- the template ------------------------------------------------------------------------
rule("F50", E, "不是本系统的填报模板",
     "这份文件不是我办发出的填报模板。请用市重点办发送给本单位的模板填写后报送。")
rule("F51", E, "模板被改动",
     "这份文件不是我办发出的原模板，或被改动过，请用我办发送的模板重新填写。")
rule("F52", E, "模板已停用",
     "这份文件用的是已停用的旧模板（版本“{value}”）。请用我办本期发送的模板重新填写。")
rule("F53", E, "报告期不符",
     "这是{month}的模板，本次收取的是{expected_month}的月报。请用{expected_month}的模板填报。")
rule("F54", E, "单位不在报送名单",
     "“{value}”{month}没有需要报送月报的项目。请确认是否发错了文件。")
rule("F57", E, "不是本年度的模板",
     "这是{month}的模板，不在台账的计划年度 {year} 年内。请用我办本年度发送的模板填写。")
rule("F55", E, "缺少工作表",
     "文件中没有工作表“{value}”。请不要删除或重命名模板中的工作表。")
rule("F56", E, "缺少列",
     "工作表中找不到列“{value}”。请不要修改或删除模板的表头。")

# ---- rows --------------------------------------------------------------------------------
rule("R01", E, "非本单位项目",
     "项目编号“{value}”{name}不在本单位本期的项目清单中。请删除这一行，不要自行增加项目。")
rule("R02", E, "项目重复",
     "项目“{value}”出现了不止一次。每个项目只填一行，请删除重复行。")
rule("R03", E, "项目缺失",
     "本单位的项目“{value}”（{name}）没有填报。请恢复这一行并填写。")
rule("R04", W, "计划数据被改动（已忽略）",
     "“{column}”是计划数据，原为“{expected}”，表中改成了“{value}”。"
     "修改已忽略，以计划为准；如计划确有变化请联系市重点办。", adjustable=True)
rule("R05", E, "缺少项目编号",
     "这一行填了内容但没有项目编号。请不要修改项目编号列，也不要新增行。")

# ---- values that cannot be read: always errors -------------------------------------------
rule("V01", E, "数字无法识别",
     "“{column}”填的是“{value}”，不是数字。请只填数字（单位万元），如 500 或 500.5，不要写“约”“左右”或“/”。")
rule("V02", E, "金额为负数",
     "“{column}”为负数（{value}）。完成投资不能为负，请核实后填写不小于 0 的数。")
rule("V03", E, "小数超过两位",
     "“{column}”填的是“{value}”，小数超过两位。金额单位为万元，最多保留两位小数。")
rule("V04", E, "必填项为空",
     "“{column}”没有填写。没有发生投资请填 0。")
rule("V10", E, "应填“是”或“否”",
     "“{column}”填的是“{value}”。请从下拉列表中选择“是”或“否”。")
rule("V13", E, "日期无法识别",
     "“{column}”填的是“{value}”，不是日期。请写成 {example} 或 {example_words}。")
rule("V19", E, "前期工作状态无效",
     "“{column}”填的是“{value}”。请从下拉列表中选择：未启动、办理中、已办结、不涉及。")

# ---- figures that do not agree: the office decides how strictly ------------------------------
rule("V05", E, "本年累计与本月完成不符",
     "本年累计完成投资应为上月本年累计 {previous} + 本月完成 {month} = {expected} 万元，"
     "表中为 {value} 万元。请核对后改正。", adjustable=True)
rule("V06", E, "开工以来累计小于本年累计",
     "开工以来累计完成投资（{value}）小于本年累计（{year}）。开工以来累计包含本年，不应更小。",
     adjustable=True)
rule("V07", E, "开工以来累计小于上月",
     "开工以来累计完成投资（{value}）小于上月报送的 {previous} 万元。累计数只增不减，请核对。",
     adjustable=True)
rule("V08", E, "开工以来累计超过总投资",
     "开工以来累计完成投资 {value} 万元，超过项目总投资 {total} 万元，不可能成立。{hint}"
     "请核对金额（单位万元）；如总投资已调整，请联系市重点办。", adjustable=True)
rule("V24", E, "本年累计超过总投资",
     "本年累计完成投资 {value} 万元，超过项目总投资 {total} 万元，不可能成立。{hint}"
     "请核对金额（单位万元）。", adjustable=True)
rule("V25", E, "本月完成超过尚未完成的投资",
     "本月完成投资 {value} 万元，超过项目尚未完成的投资 {remaining} 万元（总投资 {total} 万元"
     "减去上月开工以来累计 {done} 万元），不可能成立。{hint}请核对金额（单位万元）。",
     adjustable=True)
rule("V09", E, "本月完成超过年度计划",
     "本月完成投资 {value} 万元，超过全年计划投资 {annual} 万元。{hint}{advice}",
     adjustable=True, explainable=True)
rule("V26", E, "本月完成远超以往",
     "本月完成投资 {value} 万元，是本年此前平均每月 {usual} 万元的 {times} 倍。{hint}{advice}",
     adjustable=True, explainable=True)
rule("V11", E, "已开工未填开工时间",
     "“是否开工”为“是”，但没有填写实际开工时间。请填写日期，如 {example}。", adjustable=True)
rule("V12", E, "已竣工未填竣工时间",
     "“是否竣工”为“是”，但没有填写实际竣工时间。请填写日期，如 {example}。", adjustable=True)
rule("V14", E, "实际日期晚于报告期",
     "“{column}”为 {value}，晚于本报告期末 {end}。实际开工、竣工时间不能在未来。",
     adjustable=True)
rule("V15", E, "新开工项目开工时间早于本年",
     "新开工项目的实际开工时间 {value} 早于 {year} 年。新开工项目应在本年开工；如情况特殊请联系市重点办。",
     adjustable=True)
rule("V16", E, "撤回已报开工",
     "上月已报“已开工”，本月却不是“是”。开工不能撤回，如上月报错请联系市重点办。",
     adjustable=True)
rule("V17", E, "撤回已报竣工",
     "上月已报“已竣工”，本月却不是“是”。竣工不能撤回，如上月报错请联系市重点办。",
     adjustable=True)
rule("V18", E, "未开工先竣工",
     "“是否竣工”为“是”，但“是否开工”不是“是”。竣工项目必然已开工，请一并填写开工情况。",
     adjustable=True)
rule("V20", E, "有投资无形象进度",
     "本月完成投资 {value} 万元，但没有填写形象进度。请简要写明本月工程进展。", adjustable=True)
rule("V21", E, "未填填报人或联系电话",
     "没有填写“{column}”。请在“{sheet_name}”工作表的 {place} 单元格填写，便于市重点办核对数据时联系。",
     adjustable=True)
rule("V22", E, "联系电话有误",
     "联系电话“{value}”不是有效的手机或座机号码。{hint}请填写 11 位手机号，或带区号的座机号，"
     "如 0772-2801234。", adjustable=True)
rule("V23", W, "含不可见字符（已清除）",
     "“{column}”中含有不可见的控制字符，已自动清除。", adjustable=True)

# ---- the 问题跟踪 sheet: the unit's word on its open problems (docs/问题督办.md) ----------------
rule("Q01", E, "非本单位项目的问题",
     "问题编号“{value}”不在本单位项目的问题清单中。请不要修改问题编号，也不要自行增加行；"
     "新的问题请填在月报的“存在问题”栏。")
rule("Q02", E, "缺少问题编号",
     "这一行填了内容但没有问题编号。请不要修改或删除“问题跟踪”表中的问题编号。")
rule("Q03", W, "问题已办结，未再更新",
     "问题“{value}”（{description}）在市重点办的问题台帐中的状态为“{status}”{when}，本次填写的内容不再更新。"
     "如问题实际尚未解决，请联系市重点办。", adjustable=True)
rule("Q04", E, "问题重复",
     "问题“{value}”出现了不止一次。每个问题只填一行，请删除重复行。")
rule("Q05", W, "已解决未写明情况",
     "问题“{value}”选了“已解决”，但没有填写最新进展。请简要写明问题是怎样解决的，"
     "如“用地指标已于3月20日下达”。", adjustable=True)

# The rules of this module the office may adjust, in catalogue order.
ADJUSTABLE: tuple[Rule, ...] = tuple(r for _, r in sorted(RULES.items()) if r.adjustable)


def default_level(declared: Rule) -> RuleLevel:
    return RuleLevel.ERROR if declared.severity is Severity.ERROR else RuleLevel.WARNING


def level_of(declared: Rule, levels: dict[str, RuleLevel]) -> RuleLevel:
    """How a rule applies under the office's 校验规则 (its default when not listed, and
    always its declared severity when it is not adjustable)."""
    if not declared.adjustable:
        return default_level(declared)
    return levels.get(declared.code, default_level(declared))


def severity_for(level: RuleLevel) -> Severity | None:
    """The severity a finding gets at ``level``; ``None``: not checked."""
    if level is RuleLevel.OFF:
        return None
    return Severity.ERROR if level is RuleLevel.ERROR else Severity.WARNING
