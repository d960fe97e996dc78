"""The rule catalogue: every rule a returned file is checked by, under a stable code.

A ``Rule`` is declared once, with its code, severity, a short Chinese title and a message
template (``rule``); the rule catalogue in ``docs/`` is generated from ``RULES``, and a
``core.findings.Finding`` is what applying one found.

Only the standard library: the vetting code declares its rules here, and a reader process
(``checks.readers``) that vets and reads clean files imports it without pydantic — which
would take half of the reader's start — until a file gives a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Severity", "Rule", "RULES", "rule"]


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
    adjustable: bool = False  # the office may set it to 错误 / 警告 / 不检查 (设置, 校验规则)
    explainable: bool = False  # a warning when the row carries a 情况说明

    def format(self, **params: Any) -> str:
        return self.template.format(**params)


RULES: dict[str, Rule] = {}


def rule(code: str, severity: Severity, title: str, template: str, *, adjustable: bool = False,
         explainable: bool = False) -> Rule:
    """Declare a rule (once, at import time of the module that declares it)."""
    declared = Rule(code, severity, title, template, adjustable, explainable)
    if code in RULES and RULES[code] != declared:
        raise ValueError(f"rule {code} declared twice")
    RULES[code] = declared
    return declared
