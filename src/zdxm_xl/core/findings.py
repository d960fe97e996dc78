"""Findings are data: what checking a returned file found, each under a stable rule code.

A ``Rule`` is declared once, with its code, severity, a short Chinese title and a message
template (``core.rules``, the catalogue: its names are here too). Checking code calls
``finding(code, …)`` and never raises for a problem in the file: exceptions are only for
"could not run at all".

Codes: ``F``xx file level (not readable, not our template, wrong period …), ``R``xx rows
(projects missing, duplicated, not the unit's …), ``V``xx values in cells, ``Q``xx rows of
the 问题跟踪 sheet (problems not the unit's, already closed …).

The office may change how some rules apply (设置, 校验规则): an ``adjustable`` rule can be
made an error, a warning, or not checked; the others (a file that cannot be read, a value
that cannot be understood) always stop the merge. An ``explainable`` rule flags a figure that
is possible but unlikely: it is a warning when the row carries an explanation (情况说明) and
otherwise applies at its level. A finding carries the severity it was given (``level``),
which is the rule's unless the office or an explanation changed it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import computed_field
from pydantic.dataclasses import dataclass as result

from .results import RESULT, Hidden
from .rules import RULES, Rule, Severity, rule

__all__ = ["Severity", "Rule", "Finding", "RULES", "rule", "finding", "with_level"]


@result(frozen=True, config=RESULT)
class Finding:
    rule: Hidden[Rule]
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1 reference
    project_id: str | None = None
    value: str | None = None  # the value seen, as text
    project_name: str | None = None  # 项目名称 of the row, so a 信息员 finds it by name
    level: Hidden[Severity | None] = None  # set by the office's 校验规则 or an explanation

    @computed_field  # type: ignore[prop-decorator]
    @property
    def code(self) -> str:
        return self.rule.code

    @computed_field  # type: ignore[prop-decorator]
    @property
    def severity(self) -> Severity:
        return self.level or self.rule.severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def finding(code: str, *, sheet: str | None = None, cell: str | None = None,
            project_id: str | None = None, value: object = None, project_name: str | None = None,
            **params: Any) -> Finding:
    """A finding of rule ``code``, its message built from the rule's template."""
    declared = RULES[code]
    shown = None if value is None else str(value)[:200]
    message = declared.format(value=shown if shown is not None else "", **params)
    return Finding(declared, message, sheet, cell, project_id, shown, project_name)


def with_level(item: Finding, level: Severity) -> Finding:
    """The same finding at another severity (the office's 校验规则, or an explanation)."""
    return replace(item, level=level)
