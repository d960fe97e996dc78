"""The office's folders for one master: where everything zdxm reads and writes lands.

One ``Workspace`` decides every folder — for the command line, the ribbon, mail, merge and
the demo alike — so a file lands in the same place whichever way it was made. Relative
directories in 设置 (收件目录, 输出目录, 归档目录) are relative to the master's folder.

    台账所在文件夹/
      收件/2022-03/…            各单位报送的原文件（邮件附件也存这里）
      收件/未识别/…             认不出是哪份模板的工作簿
      收件/待确认/…             未登记发件人的邮件（.eml），等办公室确认或不予受理
      收件/暂存/…               以后报告期的报送邮件（.eml），收取该期时处理
      输出/模板/2022-03/…       填报模板
      输出/校验结果/2022-03/…   批注副本和回执
      输出/简报/2022-03/…       简报、通报和 PDF
      输出/考核/…               考核表
      输出/邮件预览/2022-03/…   试发（--dry-run）时写出的邮件和模板
      输出/发件箱/…             已生成、尚未发出的邮件（.eml），发出后删除
      归档/2022-03/单位/sha256.xlsx   已处理文件，按内容指纹归档
      备份/…                    每次写台账前的自动备份
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .models import Settings

__all__ = ["Workspace", "BACKUP_FOLDER", "safe_name", "file_state"]

BACKUP_FOLDER = "备份"
FORMS = "模板"
ANNOTATED = "校验结果"
BULLETINS = "简报"
ASSESSMENTS = "考核"
NOTICES = "督办通知"
MAIL_PREVIEWS = "邮件预览"
OUTBOX = "发件箱"
MAIL_PENDING = "待确认"
MAIL_HELD = "暂存"
UNIDENTIFIED = "未识别"
NO_PERIOD = "未指定报告期"
_STAGING = ".收取中"
_UNSAFE = '\\/:*?"<>|'


def safe_name(text: str) -> str:
    """A unit's name as one folder or file name part, safe on every system."""
    return "".join("_" if c in _UNSAFE or ord(c) < 32 else c for c in text).strip(" .") or "_"


@dataclass(frozen=True)
class Workspace:
    """Folders of the master kept in ``folder``, as its 设置 name them."""

    folder: Path  # the master's folder
    settings: Settings

    def _setting(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.folder / path

    @property
    def inbox(self) -> Path:
        """收件目录: what units send, by 报告期."""
        return self._setting(self.settings.inbox_dir)

    def inbox_for(self, period: str | None) -> Path:
        return self.inbox / period if period else self.inbox / UNIDENTIFIED

    @property
    def staging(self) -> Path:
        """Where fetched attachments wait until they are recorded (hidden, in 收件目录)."""
        return self.inbox / _STAGING

    @property
    def output(self) -> Path:
        """输出目录."""
        return self._setting(self.settings.output_dir)

    def forms(self, period: str) -> Path:
        """The 填报模板 of a 报告期 (also those sent by mail)."""
        return self.output / FORMS / period

    def annotated(self, period: str | None) -> Path:
        """批注副本 and 回执 of the returns of a 报告期."""
        return self.output / ANNOTATED / (period or NO_PERIOD)

    def bulletins(self, period: str) -> Path:
        return self.output / BULLETINS / period

    def assessments(self) -> Path:
        return self.output / ASSESSMENTS

    def notices(self, period: str) -> Path:
        return self.output / NOTICES / period

    def mail_previews(self, period: str) -> Path:
        """What ``send-templates --dry-run`` writes: never the forms of ``forms``."""
        return self.output / MAIL_PREVIEWS / period

    @property
    def outbox(self) -> Path:
        """The .eml files of the 发件箱: composed, not yet sent."""
        return self.output / OUTBOX

    @property
    def mail_pending(self) -> Path:
        """Messages of unregistered senders (.eml), until the office decides (待确认)."""
        return self.inbox / MAIL_PENDING

    @property
    def mail_held(self) -> Path:
        """Messages carrying a later 报告期's return (.eml), until it is collected (暂存)."""
        return self.inbox / MAIL_HELD

    @property
    def archive(self) -> Path:
        """归档目录."""
        return self._setting(self.settings.archive_dir)

    def archived(self, period: str, unit: str, sha256: str, suffix: str) -> Path:
        """归档目录/报告期/单位/sha256.xlsx — named by content, so a file is stored once."""
        return self.archived_period(period) / safe_name(unit) / f"{sha256}{suffix.lower()}"

    def archived_period(self, period: str) -> Path:
        """归档目录/报告期: the files of that 报告期, each unit's in a folder of its own."""
        return self.archive / period

    @property
    def backups(self) -> Path:
        return self.folder / BACKUP_FOLDER

    @property
    def previous_master(self) -> Path | None:
        """上年台账 (for 同比), if 设置 names one."""
        value = self.settings.previous_master.strip()
        return self._setting(value) if value else None


def file_state(path: Path) -> tuple[int, int, int]:
    """Which file is at ``path``, as it is: its size, modification time (ns) and inode.
    Another state means the file was written or replaced since (``OSError`` if there is
    none)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns, info.st_ino
