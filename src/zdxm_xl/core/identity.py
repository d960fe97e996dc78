"""The signed identity a 填报模板 (form) carries: who it was issued to, for which 报告期 and
projects, and an HMAC over them keyed by the office's secret.

The form writer puts it on a hidden sheet; the checker reads it back and verifies it. A
file edited to claim another unit, period or project set no longer matches its signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

__all__ = ["FORM_VERSION", "IDENTITY_SHEET", "IDENTITY_KEYS", "Identity"]

FORM_VERSION = "1"
IDENTITY_SHEET = "系统信息"  # hidden in the form; read back by the checker
IDENTITY_KEYS = {"version": "模板版本", "unit": "单位", "period": "报告期", "projects": "项目编号",
                 "issued": "生成时间", "signature": "签名"}


@dataclass(frozen=True)
class Identity:
    """Who a form was issued to, for which 报告期 and projects, and its signature."""

    version: str
    unit: str
    period: str
    projects: tuple[str, ...]
    issued: str  # ISO time the form was made
    signature: str = ""

    def payload(self) -> bytes:
        # Canonical JSON: the same identity always gives the same bytes to sign.
        return json.dumps([self.version, self.unit, self.period, list(self.projects), self.issued],
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def signed(self, secret: str) -> Identity:
        digest = hmac.new(bytes.fromhex(secret), self.payload(), hashlib.sha256).hexdigest()
        return Identity(self.version, self.unit, self.period, self.projects, self.issued, digest)

    def verify(self, secret: str) -> bool:
        return hmac.compare_digest(self.signed(secret).signature, self.signature)

    def rows(self) -> list[tuple[str, str]]:
        return [(IDENTITY_KEYS["version"], self.version), (IDENTITY_KEYS["unit"], self.unit),
                (IDENTITY_KEYS["period"], self.period),
                (IDENTITY_KEYS["projects"], ",".join(self.projects)),
                (IDENTITY_KEYS["issued"], self.issued),
                (IDENTITY_KEYS["signature"], self.signature)]

    @classmethod
    def from_pairs(cls, pairs: dict[str, str]) -> Identity:
        def get(key: str) -> str:
            return str(pairs.get(IDENTITY_KEYS[key], "") or "").strip()

        projects = tuple(p for p in get("projects").split(",") if p)
        return cls(get("version"), get("unit"), get("period"), projects, get("issued"),
                   get("signature"))
