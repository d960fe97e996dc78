"""Findings are data: what checking a returned file found, each under a stable rule code.

A ``Rule`` is declared once, with its code, severity, a short Chinese title and a message
template; the rule catalogue in ``docs/`` is generated from ``RULES``. Checking code calls
``finding(code, …)`` and never raises for a problem in the file: exceptions are only for
"could not run at all".

Codes: ``F``xx file level (not readable, not our template, wrong period …), ``R``xx rows
(projects missing, duplicated, not the unit's …), ``V``xx values in cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import computed_field
from pydantic.dataclasses import dataclass as result

from .results import RESULT, Hidden

__all__ = ["Severity", "Rule", "Finding", "RULES", "rule", "finding"]


class Severity(StrEnum):
    ERROR = "error"  # 错误: the whole file is not merged
    WARNING = "warning"  # 警告: merged, but worth a look

    @property
    def label(self) -> str:
        return "错误" if self is Severity.ERROR else "警告"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str  # short Chinese name, for the catalogue
    template: str  # Chinese message; ``{value}`` and rule-specific fields are filled in

    def format(self, **params: Any) -> str:
        return self.template.format(**params)


RULES: dict[str, Rule] = {}


def rule(code: str, severity: Severity, title: str, template: str) -> Rule:
    """Declare a rule (once, at import time of the module that checks it)."""
    if code in RULES and RULES[code] != Rule(code, severity, title, template):
        raise ValueError(f"rule {code} declared twice")
    RULES[code] = Rule(code, severity, title, template)
    return RULES[code]


@result(frozen=True, config=RESULT)
class Finding:
    rule: Hidden[Rule]
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1 reference
    project_id: str | None = None
    value: str | None = None  # the value seen, as text

    @computed_field  # type: ignore[prop-decorator]
    @property
    def code(self) -> str:
        return self.rule.code

    @computed_field  # type: ignore[prop-decorator]
    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def is_error(self) -> bool:
        return self.rule.severity is Severity.ERROR


def finding(code: str, *, sheet: str | None = None, cell: str | None = None,
            project_id: str | None = None, value: object = None, **params: Any) -> Finding:
    """A finding of rule ``code``, its message built from the rule's template."""
    declared = RULES[code]
    shown = None if value is None else str(value)[:200]
    message = declared.format(value=shown if shown is not None else "", **params)
    return Finding(declared, message, sheet, cell, project_id, shown)
