"""Who may send a unit's return: the sender policy of ``zdxm mail fetch`` (docs/邮件.md).

An office mailbox receives mail from anyone. A message is processed automatically only when
its sender (the address of the raw ``From`` header, ``messages.sender_address``) is
registered for every unit whose form it carries: the unit's 信息员, 联络员 or 责任专员 email
in 责任单位, or an address of the office's 允许发件人 table in 设置 (for the units listed
there, or for all when none is). Anything else with a workbook in it waits as 待确认 until
the office confirms or declines it; it is never merged and never answered before that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.master import Master
from .messages import split_addresses

__all__ = ["SenderPolicy", "ROLES"]

ROLES = (("informant_email", "信息员"), ("liaison_email", "联络员"),
         ("commissioner_email", "责任专员"))


@dataclass
class SenderPolicy:
    """The addresses of 责任单位 and 允许发件人, and what each may send."""

    roles: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # address → (unit, role)
    allowed: dict[str, set[str] | None] = field(default_factory=dict)  # address → units (None: all)

    @classmethod
    def of(cls, master: Master) -> SenderPolicy:
        policy = cls()
        for unit in master.units:
            for attribute, role in ROLES:
                for address in split_addresses(getattr(unit, attribute))[0]:
                    policy.roles.setdefault(address.lower(), []).append((unit.name, role))
        for row in master.settings.mail_allowed:
            for address in split_addresses(row.address)[0]:
                key = address.lower()
                if not row.units:
                    policy.allowed[key] = None
                elif policy.allowed.get(key, set()) is not None:
                    policy.allowed[key] = (policy.allowed.get(key) or set()) | set(row.units)
        return policy

    def registered(self, address: str) -> bool:
        """A known contact (of any unit, or of the 允许发件人 table)."""
        return bool(address) and (address in self.roles or address in self.allowed)

    def may_send_for(self, address: str, unit: str) -> bool:
        if not address:
            return False
        if any(name == unit for name, _role in self.roles.get(address, [])):
            return True
        if address in self.allowed:
            units = self.allowed[address]
            return units is None or unit in units
        return False

    def describe(self, address: str) -> str:
        """Who ``address`` is, in the office's words (for 待确认 notes)."""
        if not address:
            return "发件人地址无法确定"
        parts = [f"{unit}的{role}" for unit, role in self.roles.get(address, [])]
        if address in self.allowed:
            units = self.allowed[address]
            parts.append("允许发件人（全部单位）" if units is None
                         else f"允许发件人（{'、'.join(sorted(units))}）")
        return f"{address} 登记为" + "、".join(parts) if parts else f"{address} 未登记"
