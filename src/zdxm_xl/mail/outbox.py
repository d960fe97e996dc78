"""The outbox (发件箱) and the journal: how every mail zdxm owes is sent exactly once.

A message zdxm has to send — a 回执, a 填报模板 — is first *composed*: written as an .eml
file into ``输出/发件箱`` and recorded as a row of the master's 发件箱 sheet. Only then does
the mail it answers count as processed. ``Outbox.drain`` sends what the outbox holds; a
message that went out leaves the outbox and becomes a row of 邮件记录, one that failed stays
there with the reason and is tried again by the next run that sends (``fetch --reply``,
``send-templates``, ``confirm``); ``zdxm mail status`` lists them.

The master is written once, at the end of a run. Until then every change of 邮件记录 and of
the outbox is also appended to a journal beside the master (``.{台账名}.zdxm-mail.jsonl``),
one fsynced line per step — all the rows of one received message and its receipt in one
line, so a message is either wholly recorded or not at all. The next run folds a journal a
dead run left behind into the master before anything else: whatever stops a run (power
cut, kill -9, a full disk), no processed message is processed again and no composed
receipt is forgotten.

What no mail program can promise: if a run dies in the instant between the SMTP server
accepting a message and the journal noting it, the next run sends that message again. It
goes with the same Message-ID, by which mail clients and servers recognise the copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from pydantic import ValidationError
from pydantic.dataclasses import dataclass

from ..books.safety import atomic_write, checkpoint
from ..core.errors import MailError
from ..core.master import Master, MasterStore
from ..core.models import (
    MailDirection,
    MailRecord,
    MailResult,
    OutboxEntry,
    OutboxKind,
    OutboxState,
)
from ..core.results import RESULT
from ..core.workspace import Workspace
from .messages import BEIJING, OUT_POLICY
from .servers import MailConfig, SendFailed, SmtpSession

__all__ = ["Journal", "journal_path", "Outbox", "OutboxMail", "DrainResult", "now", "eml_name",
           "raw_bytes"]

Progress = Callable[[str], None]
_DONE = (OutboxState.SENT, OutboxState.CANCELLED)


def now() -> datetime:
    """北京时间, without a zone, as the master keeps times."""
    return datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)


# ---- the journal --------------------------------------------------------------------------

def journal_path(store: MasterStore) -> Path:
    return store.folder / f".{store.name}.zdxm-mail.jsonl"


def _row_key(row: MailRecord) -> tuple[object, ...]:
    return (row.direction, row.message_id, row.digest, row.attachment, row.sha256, row.result,
            row.ticket)


def apply_entry(master: Master, entry: OutboxEntry) -> None:
    """Put ``entry`` into the master's outbox (replacing its earlier state), or take it out
    when it was sent or cancelled."""
    master.outbox = [e for e in master.outbox if e.message_id != entry.message_id]
    if entry.state not in _DONE:
        master.outbox.append(entry)


class Journal:
    """Changes of 邮件记录 and 发件箱 not yet saved in the master (see the module docstring)."""

    def __init__(self, store: MasterStore) -> None:
        self.path = journal_path(store)
        self.changed = False  # something was recovered or committed: the master must be saved

    def recover(self, master: Master) -> int:
        """Fold what a run that died left behind into ``master``; how many rows were added."""
        if not self.path.exists():
            return 0
        present = {_row_key(r) for r in master.mail_log}
        added = 0
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                data = json.loads(line)
                if "direction" in data:  # a line of the journal's first version: one row
                    data = {"rows": [data]}
                rows = [MailRecord.model_validate(r) for r in data.get("rows", [])]
                entries = [OutboxEntry.model_validate(e) for e in data.get("outbox", [])]
            except (ValueError, ValidationError, AttributeError):  # the line being written
                continue
            for row in rows:
                if _row_key(row) not in present:
                    master.mail_log.append(row)
                    present.add(_row_key(row))
                    added += 1
            for entry in entries:
                apply_entry(master, entry)
            self.changed = True
        return added

    def commit(self, master: Master, rows: Iterable[MailRecord] = (),
               entries: Iterable[OutboxEntry] = ()) -> None:
        """Apply ``rows`` and ``entries`` to ``master`` and journal them as one line."""
        rows, entries = list(rows), list(entries)
        if not rows and not entries:
            return
        line = json.dumps({"rows": [r.model_dump(mode="json") for r in rows],
                           "outbox": [e.model_dump(mode="json") for e in entries]},
                          ensure_ascii=False)
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise MailError(f"无法写入邮件记录日志“{self.path.name}”（{type(exc).__name__}：{exc}），"
                            "本次收发已停止。请检查台账所在的磁盘后重新运行。") from exc
        master.mail_log.extend(rows)
        for entry in entries:
            apply_entry(master, entry)
        self.changed = True

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


# ---- the outbox ---------------------------------------------------------------------------

@dataclass(config=RESULT)
class OutboxMail:
    """One message of the outbox, as a run reports it."""

    kind: OutboxKind
    unit: str | None
    to: str
    subject: str
    message_id: str
    state: OutboxState
    attempts: int = 0
    error: str | None = None
    created: datetime | None = None

    @classmethod
    def of(cls, entry: OutboxEntry) -> OutboxMail:
        return cls(entry.kind, entry.unit, entry.to, entry.subject, entry.message_id,
                   entry.state, entry.attempts, entry.error, entry.created)


@dataclass(config=RESULT)
class DrainResult:
    """What one drain of the outbox sent, and what is still waiting after it."""

    sent: list[OutboxMail] = field(default_factory=list)
    failed: list[OutboxMail] = field(default_factory=list)  # tried now, and failed

    @property
    def ok(self) -> bool:
        return not self.failed

    def outcome(self, message_id: str | None) -> OutboxMail | None:
        """What became of the message ``message_id`` in this drain: sent, failed, or
        ``None`` when it was not tried."""
        return next((m for m in (*self.sent, *self.failed) if m.message_id == message_id), None)


class Outbox:
    """The master's 发件箱 and its .eml files, for one run."""

    def __init__(self, master: Master, workspace: Workspace, journal: Journal) -> None:
        self.master, self.workspace, self.journal = master, workspace, journal
        self.folder = workspace.outbox

    def waiting(self, kind: OutboxKind | None = None) -> list[OutboxEntry]:
        return [e for e in self.master.outbox if kind is None or e.kind is kind]

    def queue(self, entry: OutboxEntry, raw: bytes, rows: Iterable[MailRecord] = ()) -> OutboxEntry:
        """Write the message ``raw`` as ``entry.file`` and record ``entry`` (with ``rows``,
        the record of what it answers) in one journal line."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / entry.file, lambda temp: temp.write_bytes(raw))
        checkpoint("mail-after-compose")
        self.journal.commit(self.master, rows, [entry])
        return entry

    def cancel(self, entry: OutboxEntry, why: str) -> None:
        done = entry.model_copy(update={"state": OutboxState.CANCELLED, "note": why})
        self.journal.commit(self.master, [], [done])
        with contextlib.suppress(OSError):
            (self.folder / entry.file).unlink()

    def drain(self, config: MailConfig, password: str | None, say: Progress) -> DrainResult:
        """Send every message of the outbox, oldest first; record each outcome at once."""
        result = DrainResult()
        entries = sorted(self.master.outbox, key=lambda e: e.created)
        if not entries:
            return result
        sender = config.address
        smtp: SmtpSession | None = None
        refused: str | None = None  # why the server could not be used at all
        try:
            for number, entry in enumerate(entries, start=1):
                say(f"正在发送第 {number}/{len(entries)} 封邮件：{entry.kind}，{entry.unit or entry.to}")
                path = self.folder / entry.file
                try:
                    raw = path.read_bytes()
                except OSError:
                    self._failed(entry, f"邮件文件“{entry.file}”不在发件箱文件夹中，无法发送", result)
                    continue
                if smtp is None and refused is None:
                    try:
                        smtp = SmtpSession(config, password).__enter__()
                    except MailError as exc:
                        refused = exc.message
                if refused is not None:
                    self._failed(entry, refused, result)
                    continue
                assert smtp is not None
                recipients = [a for a in (entry.to + "，" + (entry.cc or "")).split("，") if a]
                try:
                    bounced = smtp.send(sender, recipients, raw)
                except SendFailed as exc:
                    self._failed(entry, str(exc), result)
                    continue
                except MailError as exc:  # the connection could not be opened again
                    refused = exc.message
                    self._failed(entry, refused, result)
                    continue
                checkpoint("mail-after-send")
                self._sent(entry, bounced, result)
                checkpoint("mail-after-sent-record")
        finally:
            if smtp is not None:
                smtp.close()
        return result

    def _failed(self, entry: OutboxEntry, error: str, result: DrainResult) -> None:
        update = entry.model_copy(update={"state": OutboxState.FAILED, "attempts": entry.attempts + 1,
                                          "last_attempt": now(), "error": error[:500]})
        self.journal.commit(self.master, [], [update])
        result.failed.append(OutboxMail.of(update))

    def _sent(self, entry: OutboxEntry, bounced: list[str], result: DrainResult) -> None:
        notes = [n for n in (entry.note,) if n]
        if bounced:
            notes.append("被拒收的地址：" + "、".join(bounced))
        if entry.kind is OutboxKind.RECEIPT:
            notes.insert(0, f"回复 {entry.replying_to}")
        row = MailRecord(time=now(), direction=MailDirection.SENT if entry.kind is OutboxKind.FORM
                         else MailDirection.REPLY, period=entry.period, unit=entry.unit,
                         address=entry.to, cc=entry.cc, subject=entry.subject,
                         message_id=entry.message_id, attachment=entry.attachment,
                         sha256=entry.sha256,
                         result=MailResult.SENT if entry.kind is OutboxKind.FORM
                         else MailResult.REPLIED, note="；".join(notes) or None,
                         processed_at=now())
        done = entry.model_copy(update={"state": OutboxState.SENT, "attempts": entry.attempts + 1,
                                        "last_attempt": now(), "error": None})
        self.journal.commit(self.master, [row], [done])
        with contextlib.suppress(OSError):
            (self.folder / entry.file).unlink()
        result.sent.append(OutboxMail.of(done))


def eml_name(message_id: str) -> str:
    """The outbox file of a message: named by its Message-ID, so a name is never reused."""
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24] + ".eml"


def raw_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=OUT_POLICY)
