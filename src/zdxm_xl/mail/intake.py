"""Taking in one received message: what it carries, whether it may be processed, and the
record and 回执 that make it done.

``Intake.take`` is the one path every received message goes through — new mail of ``zdxm
mail fetch``, a 待确认 message the office confirms, a message held for a later 报告期 when
that period is collected:

1. every attachment is classified (``messages.workbook_candidates``); each workbook is
   staged and checked on its own (``checks.check_file``), which also tells whose form and
   which 报告期 it claims to be; a file that makes checking fail is refused, never fatal;
2. the sender policy (``policy.SenderPolicy``) decides: processed, 待确认 (an unregistered
   sender, or a registered one sending another unit's form, or an automatic message), or
   暂存 (a return for a 报告期 after the one being collected);
3. processed: the workbooks are saved into 收件目录/报告期, one 邮件记录 row per attachment
   is made and the 回执 composed into the outbox — rows and receipt in one journal line
   (``outbox.Journal``), after which the message counts as done. Held (待确认, 暂存): the
   whole message is kept as an .eml in 收件目录/待确认 or /暂存 and recorded; nothing is saved
   for merging and nothing is answered.

Whatever goes wrong with one message or one file is recorded with a Chinese reason and the
run goes on; only the server, the journal or the master failing stops it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic.dataclasses import dataclass

from ..books.safety import atomic_write, checkpoint
from ..checks.attachments import safe_file_name
from ..checks.returns import CheckContext, FileReport, check_file
from ..checks.vetting import Examined, examine, file_sha256
from ..core.cells import format_date, format_month
from ..core.master import Master
from ..core.models import MailDirection, MailRecord, MailResult, OutboxEntry, OutboxKind
from ..core.periods import period_month
from ..core.results import RESULT, Hidden
from ..core.returns import on_time
from ..reports.receipts import office_of, receipt_text
from .messages import (
    BEIJING,
    Candidate,
    OutgoingAttachment,
    Received,
    body_notes,
    compose,
    iter_files,
    reply_subject,
    workbook_candidates,
)
from .outbox import Outbox, eml_name, now, raw_bytes
from .policy import SenderPolicy
from .servers import Envelope, MailConfig

__all__ = ["FileResult", "FetchedFile", "FetchedMail", "Intake", "Decision", "reply_text",
           "held_groups", "HeldGroup", "MAX_MESSAGE"]

FileResult = Literal["已保存", "重复", "已拒收", "已忽略", "待确认", "暂存"]
Decision = Literal["auto", "confirmed", "released"]
MAX_MESSAGE = 60 * 2**20  # a bigger message is not downloaded (attachments are ≤ 20 MiB)


@dataclass(config=RESULT)
class FetchedFile:
    """One attachment (or file from a zip attachment) and what became of it."""

    name: str
    result: FileResult
    reason: str = ""
    sha256: str | None = None
    saved: Path | None = None
    unit: str | None = None  # as its template says (for 待确认: as it claims)
    period: str | None = None
    valid: bool | None = None  # checking passed (for 已保存)
    errors: int = 0
    warnings: int = 0
    late: bool | None = None  # received after its 报告期's 截止日
    annotated: Path | None = None
    report: Hidden[FileReport | None] = field(default=None, repr=False)
    staged: Hidden[Path | None] = field(default=None, repr=False)
    examined: Hidden[Examined | None] = field(default=None, repr=False)  # for the merge


@dataclass(config=RESULT)
class FetchedMail:
    """One message and what was done with it."""

    message_id: str
    sender: str
    subject: str
    received: datetime  # INTERNALDATE, 北京时间
    files: list[FetchedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    state: Literal["已处理", "待确认", "暂存"] = "已处理"
    ticket: int | None = None  # 编号 of a 待确认 message
    held_for: str | None = None  # the 报告期 a 暂存 message waits for
    reason: str = ""  # why it is 待确认 or 暂存
    released: bool = False  # held before, processed now
    reply: str | None = None  # 回执待发送, 已回复, 回复失败：…, or None when not answered
    reply_id: Hidden[str | None] = None  # the 回执's Message-ID
    # of the warnings, those the 回执 repeats: why the body has no workbook, copies not made
    body_notes: Hidden[list[str]] = field(default_factory=list)
    copy_failures: Hidden[list[str]] = field(default_factory=list)


@dataclass
class HeldGroup:
    """The rows of one message whose latest state is 待确认 or 暂存."""

    rows: list[MailRecord]

    @property
    def first(self) -> MailRecord:
        return self.rows[0]

    @property
    def result(self) -> MailResult:
        return self.first.result


def held_groups(master: Master) -> list[HeldGroup]:
    """Received messages still waiting: 待确认 (for the office) or 暂存 (for a 报告期)."""
    latest: dict[tuple[str, str | None], list[MailRecord]] = {}
    for row in master.mail_log:
        if row.direction is not MailDirection.RECEIVED:
            continue
        key = (row.message_id, row.digest)
        current = latest.get(key)
        # the rows of one decision are appended together and share result and 编号
        if current and (current[-1].result, current[-1].ticket) == (row.result, row.ticket):
            current.append(row)
        else:
            latest[key] = [row]
    return [HeldGroup(rows) for rows in latest.values()
            if rows[0].result in (MailResult.PENDING, MailResult.HELD)]


class Intake:
    """One run's taking in of received mail, over a loaded master."""

    def __init__(self, master: Master, config: MailConfig, period: str | None,
                 outbox: Outbox) -> None:
        self.master, self.config, self.period, self.outbox = master, config, period, outbox
        self.journal, self.workspace = outbox.journal, outbox.workspace
        self.inbox = self.workspace.inbox
        self.staging = self.workspace.staging
        self.context = CheckContext(master)
        self.policy = SenderPolicy.of(master)
        self.can_answer = config.smtp is not None and bool(config.address)
        self.seen: dict[str, str] = {}  # sha256 → when it was first received (for the reply)
        self.times: dict[str, set[datetime]] = {}  # Message-ID → when those messages arrived
        self.digests: set[str] = set()
        self.undigested: set[str] = set()  # Message-IDs recorded before digests were kept
        self.ours: set[str] = set()  # Message-IDs of what zdxm sent
        for row in master.mail_log:
            if row.direction is MailDirection.RECEIVED:
                self._known(row.message_id, row.time, row.digest)
                if row.result is MailResult.SAVED and row.sha256:
                    self.seen.setdefault(row.sha256, row.time.strftime("%Y-%m-%d %H:%M"))
            else:
                self.ours.add(row.message_id)
        self.ours.update(e.message_id for e in master.outbox)
        for sub in master.submissions:
            self.seen.setdefault(sub.sha256, sub.received_at.strftime("%Y-%m-%d %H:%M"))
        self.tickets = max((r.ticket or 0 for r in master.mail_log), default=0)

    # -- which messages are new -------------------------------------------------------------
    def _known(self, key: str, when: datetime, digest: str | None) -> None:
        self.times.setdefault(key, set()).add(when)
        if digest:
            self.digests.add(digest)
        else:
            self.undigested.add(key)

    def known_header(self, key: str, when: datetime) -> bool:
        """Recognised from its header alone: zdxm's own mail, or a Message-ID that arrived
        at this very second before (a resubmission reusing an ID arrives later)."""
        return bool(key) and (key in self.ours or key in self.undigested
                              or when in self.times.get(key, ()))

    def known(self, received: Received) -> bool:
        """Recognised by its content (the same message moved, copied or uploaded again)."""
        return (received.digest in self.digests or received.message_id in self.ours
                or received.message_id in self.undigested)

    # -- one message ------------------------------------------------------------------------
    def take(self, received: Received, when: datetime, decision: Decision = "auto",
             ticket: int | None = None) -> FetchedMail:
        mail = FetchedMail(received.message_id, received.sender, received.subject, when,
                           ticket=ticket, released=decision == "released")
        try:
            candidates, notes = workbook_candidates(received.message)
            mail.warnings += notes
            for candidate in iter_files(candidates):
                mail.files.append(self._check(candidate) if candidate.action == "save" else
                                  FetchedFile(candidate.name, "已拒收" if candidate.action == "reject"
                                              else "已忽略", candidate.reason))
            if not self._workbooks(mail):
                mail.body_notes = body_notes(received.message)
                mail.warnings += mail.body_notes
            state, reason = self._decide(mail, received, decision)
            mail.reason = reason
            if state == "待确认":
                self._hold(mail, received, MailResult.PENDING)
            elif state == "暂存":
                self._hold(mail, received, MailResult.HELD)
            else:
                self._process(mail, received, decision)
        finally:
            for item in mail.files:
                if item.staged is not None:
                    with contextlib.suppress(OSError):
                        item.staged.unlink()
        return mail

    @staticmethod
    def _workbooks(mail: FetchedMail) -> list[FetchedFile]:
        return [f for f in mail.files if f.result != "已忽略"]

    def _check(self, candidate: Candidate) -> FetchedFile:
        sha = hashlib.sha256(candidate.data).hexdigest()
        item = FetchedFile(candidate.name, "已保存", sha256=sha)
        if sha in self.seen:
            item.result = "重复"
            item.reason = f"与 {self.seen[sha]} 已收到的文件内容相同，不再重复处理"
            return item
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            staged = self.staging / f"{sha}{candidate.suffix}"
            staged.write_bytes(candidate.data)
            item.staged = staged
            examined = examine(staged)
            report = check_file(self.master, staged, None, self.context, examined=examined)
        except Exception as exc:  # one file never stops the batch
            item.result, item.reason = "已拒收", (f"检查这个文件时出错（{type(exc).__name__}），"
                                                 "未接收；请办公室查看邮箱中的原邮件")
            return item
        item.report, item.examined = report, examined
        item.unit, item.period = report.unit, report.period
        item.valid, item.errors, item.warnings = report.valid, report.errors, report.warnings
        return item

    def _decide(self, mail: FetchedMail, received: Received,
                decision: Decision) -> tuple[str, str]:
        """(已处理 | 待确认 | 暂存, why)."""
        workbooks = self._workbooks(mail)
        if decision == "confirmed" or not workbooks:
            return "已处理", ""
        sender = received.sender
        if not sender:
            return "待确认", "发件人地址无法确定（发件人一栏不规范或有多个地址）"
        if received.automatic:
            return "待确认", "自动发送的邮件（自动回复、退信或群发），附件不自动处理"
        if not self.policy.registered(sender):
            return "待确认", f"发件人 {sender} 不是任何单位登记的邮箱"
        foreign = sorted({f.unit for f in workbooks if f.unit
                          and not self.policy.may_send_for(sender, f.unit)})
        if foreign:
            return "待确认", (f"{self.policy.describe(sender)}，附件却是{'、'.join(foreign)}"
                            "的填报模板")
        periods = {f.period for f in workbooks if f.period}
        if (decision == "auto" and self.period is not None and periods
                and all(p > self.period for p in periods)):
            mail.held_for = max(periods)
            return "暂存", (f"附件是 {mail.held_for} 报告期的填报模板（正在收取 {self.period}），"
                          f"暂存，收取 {mail.held_for} 时处理")
        return "已处理", ""

    def _hold(self, mail: FetchedMail, received: Received, result: MailResult) -> None:
        """Keep the whole message for later (待确认 or 暂存) and record it."""
        raw = received.raw
        if result is MailResult.PENDING:
            self.tickets += 1
            mail.ticket = self.tickets
            mail.state = "待确认"
            folder = self.workspace.mail_pending
            name = safe_file_name(f"{mail.ticket}_{received.sender or '发件人不明'}.eml", ".eml")
        else:
            mail.state = "暂存"
            folder = self.workspace.mail_held
            name = f"{mail.held_for}_{received.digest[:16]}.eml"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        atomic_write(target, lambda temp: temp.write_bytes(raw))
        saved_as = target.relative_to(self.inbox).as_posix()
        rows = []
        for item in self._workbooks(mail) or mail.files:
            claimed = f"附件为{item.unit} {item.period} 的模板" if item.unit else ""
            item.result = "待确认" if result is MailResult.PENDING else "暂存"
            item.valid = None
            rows.append(self._row(mail, received, item, result,
                                  "；".join(p for p in (mail.reason, claimed) if p),
                                  saved_as=saved_as))
        self.journal.commit(self.master, rows)
        self._known(mail.message_id, mail.received, received.digest)

    def _process(self, mail: FetchedMail, received: Received, decision: Decision) -> None:
        for item in mail.files:
            if item.staged is None or item.report is None:
                continue
            try:
                target = _place(self.workspace.inbox_for(item.period), item)
                if not target.exists():
                    os.replace(item.staged, target)
                item.staged = None
            except OSError as exc:
                item.result, item.reason = "已拒收", (f"无法保存到收件目录（{type(exc).__name__}），"
                                                     "请办公室检查收件目录后处理邮箱中的原邮件")
                item.valid = None
                continue
            item.saved = target
            item.report.path = target
            if item.report.vetted is not None:
                item.report.vetted.path = target
            self.seen[item.sha256 or ""] = mail.received.strftime("%Y-%m-%d %H:%M")
            if item.period is not None:
                item.late = not on_time(mail.received, item.period, self.master.settings.deadline_day)
        checkpoint("mail-after-save-file")
        rows = self._rows(mail, received, decision)
        entry: OutboxEntry | None = None
        raw = b""
        if self.can_answer and self.should_answer(mail, received):
            try:
                entry, raw = self._receipt(mail, received)
            except Exception as exc:  # the receipt of one message never stops the batch
                mail.warnings.append(f"回执未能生成（{type(exc).__name__}），请人工回复")
                rows[-1] = rows[-1].model_copy(update={"note": "；".join(
                    p for p in (rows[-1].note, mail.warnings[-1]) if p)})
        if entry is not None:
            self.outbox.queue(entry, raw, rows)
            mail.reply, mail.reply_id = "回执待发送", entry.message_id
        else:
            self.journal.commit(self.master, rows)
        checkpoint("mail-after-record")
        self._known(mail.message_id, mail.received, received.digest)

    def _row(self, mail: FetchedMail, received: Received, item: FetchedFile | None,
             result: MailResult, note: str, saved_as: str | None = None) -> MailRecord:
        return MailRecord(time=mail.received, direction=MailDirection.RECEIVED,
                          period=item.period if item else None, unit=item.unit if item else None,
                          address=received.sender or None, subject=mail.subject[:500] or None,
                          message_id=mail.message_id,
                          attachment=item.name[:250] if item else None,
                          sha256=item.sha256 if item else None, saved_as=saved_as,
                          result=result, note=note[:1000] or None, processed_at=now(),
                          digest=received.digest or None, ticket=mail.ticket)

    def _rows(self, mail: FetchedMail, received: Received, decision: Decision) -> list[MailRecord]:
        prefix = {"confirmed": f"经办公室确认（编号 {mail.ticket}）", "released": "此前暂存",
                  "auto": ""}[decision]
        rows = []
        for item in mail.files:
            if item.result == "已保存":
                verdict = "校验通过" if item.valid else f"校验未通过（错误 {item.errors} 处）"
                if item.late:
                    verdict += "，逾期"
                note = "；".join(p for p in (prefix, verdict) if p)
            else:
                note = "；".join(p for p in (prefix, item.reason) if p)
            rows.append(self._row(
                mail, received, item, MailResult(item.result), note,
                saved_as=item.saved.relative_to(self.inbox).as_posix() if item.saved else None))
        if not any(f.result in ("已保存", "重复", "已拒收") for f in mail.files):
            ignored = "、".join(f.name for f in mail.files)
            note = "；".join([prefix, *mail.warnings] + ([f"其他附件未处理：{ignored}"] if ignored
                                                        else []))
            rows.insert(0, self._row(mail, received, None, MailResult.NO_ATTACHMENT,
                                     note.strip("；")))
        return rows

    def oversize(self, envelope: Envelope, received: Received, when: datetime) -> FetchedMail:
        mail = FetchedMail(received.message_id, received.sender, received.subject, when)
        mail.files.append(FetchedFile("（整封邮件）", "已拒收",
                                      f"邮件过大（约 {envelope.size / 2**20:.0f} MB，上限 "
                                      f"{MAX_MESSAGE // 2**20} MB），未下载；请把附件压缩或分开发送"))
        self.journal.commit(self.master, self._rows(mail, received, "auto"))
        self._known(mail.message_id, when, None)
        return mail

    def broken(self, received: Received, when: datetime, exc: Exception) -> FetchedMail:
        """A message that made processing fail: recorded as refused, the run goes on."""
        mail = FetchedMail(received.message_id, received.sender, received.subject, when)
        mail.files.append(FetchedFile("（整封邮件）", "已拒收",
                                      f"邮件无法处理（{type(exc).__name__}），请查看邮箱中的原邮件"))
        self.journal.commit(self.master, [self._row(mail, received, mail.files[0],
                                                    MailResult.REFUSED, mail.files[0].reason)])
        self._known(mail.message_id, when, received.digest or None)
        return mail

    # -- answering ----------------------------------------------------------------------------
    def should_answer(self, mail: FetchedMail, received: Received) -> bool:
        if received.automatic or not received.sender:
            return False
        if received.sender == self.config.address.lower():
            return False
        if self._workbooks(mail):
            return True  # a trusted sender (or one the office confirmed)
        return self.policy.registered(received.sender)  # tell a known contact it had no workbook

    def _receipt(self, mail: FetchedMail, received: Received) -> tuple[OutboxEntry, bytes]:
        """The 回执 of ``mail``: composed, with the annotated copies, not yet recorded."""
        attachments = []
        for item in mail.files:
            if item.report is None or item.saved is None:
                continue
            # (openpyxl, which the copy is made with, is imported only for a return to copy:
            # a fetch that finds no new mail does without it)
            from ..reports.annotated import annotate

            try:
                # the 回执 kept beside the copy says what the mail does: 截止日, 逾期,
                # by when to correct it, whom to ask
                copy, _receipt = annotate(item.report, self.workspace.annotated(item.period),
                                          office_of(self.master, item.period or self.period),
                                          received=mail.received, unit=item.unit)
                attachments.append(OutgoingAttachment(copy.name, copy.read_bytes()))
                item.annotated = copy
            except Exception as exc:  # the copy of one file never stops the batch
                mail.copy_failures.append(f"{item.name} 的批注副本未能生成（{type(exc).__name__}），"
                                          "回执正文中已列出全部问题")
                mail.warnings.append(mail.copy_failures[-1])
        subject = reply_subject(mail.subject)
        sender = self.config.address
        message_id = _make_id(sender, mail.message_id, received.digest)
        references = [*received.references[-9:], *([received.thread_id] if received.thread_id
                                                   else [])]
        message = compose(sender=sender, sender_name=self.config.sender_name,
                          to=[received.sender], cc=[], subject=subject,
                          body=reply_text(self.master, mail, self.config.contact, self.period),
                          attachments=attachments, message_id=message_id,
                          date=now().replace(tzinfo=BEIJING),
                          headers={"Auto-Submitted": "auto-replied"},
                          in_reply_to=received.thread_id, references=references)
        units = [f.unit for f in mail.files if f.unit]
        periods = [f.period for f in mail.files if f.period]
        entry = OutboxEntry(message_id=message_id, kind=OutboxKind.RECEIPT, created=now(),
                            period=periods[0] if periods else None,
                            unit=units[0] if units else None, to=received.sender,
                            subject=subject[:500], replying_to=mail.message_id,
                            attachment="、".join(a.name for a in attachments)[:500] or None,
                            file=eml_name(message_id),
                            note="；".join(mail.copy_failures) or None)
        return entry, raw_bytes(message)


def _place(folder: Path, item: FetchedFile) -> Path:
    """Where a received file goes: its own name in the 报告期's folder; a file of the same
    content already there (saved by a run that died) is reused, another one gets ``_2``."""
    assert item.report is not None
    suffix = item.report.path.suffix or ".xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_file_name(item.name.rsplit("/", 1)[-1], suffix)
    for number in range(1, 10_000):
        candidate = path if number == 1 else path.with_name(f"{path.stem}_{number}{path.suffix}")
        if not candidate.exists():
            return candidate
        if file_sha256(candidate) == item.sha256:
            return candidate
    raise OSError(f"收件目录中同名文件过多：{path.name}")


def _make_id(sender: str, answered: str, digest: str) -> str:
    """The 回执's Message-ID: fixed by what it answers, so a receipt composed again after a
    crash is the same message to every mail program."""
    domain = sender.split("@", 1)[1] if "@" in sender else "zdxm.invalid"
    token = hashlib.sha256(f"{answered}\n{digest}".encode("utf-8", "surrogateescape")).hexdigest()
    return f"<zdxm-receipt-{token[:32]}@{domain}>"


def reply_text(master: Master, mail: FetchedMail, contact: str,
               collecting: str | None = None) -> str:
    """The answer to one message: a 回执 per workbook (with 逾期, the 报告期 it was taken for
    and by when to correct it), what was refused and ignored and what to send instead."""
    publisher = master.settings.publisher
    lines = ["您好！", "",
             f"{publisher}已收到您于{_moment(mail.received)}发来的邮件"
             + (f"《{mail.subject}》" if mail.subject else "") + "。"]
    workbooks = [f for f in mail.files if f.result != "已忽略"]
    if not workbooks:
        lines += ["", "邮件中没有找到 Excel 填报文件。"]
        lines += [f"- {note}。" for note in mail.body_notes]
        lines.append("请把填好的模板（.xlsx）作为附件重新发送。")
    for number, item in enumerate(workbooks, start=1):
        lines += ["", f"【附件{number}】{item.name}"]
        if item.period and collecting and item.period != collecting:
            taken, wanted = _month_words(item.period), _month_words(collecting)
            lines.append(f"这是{taken}的填报模板（本次收取的是{wanted}的月报），已按{taken}接收。"
                         f"如果您要报送的是{wanted}的月报，请使用{wanted}的填报模板。")
        if item.report is not None and item.saved is not None:
            office = office_of(master, item.period or collecting)
            lines.append(receipt_text(item.report, office, received=mail.received,
                                      unit=item.unit, signed=False).rstrip())
        elif item.result == "重复":
            lines.append(f"{item.reason}。")
        else:
            lines.append(f"未接收：{item.reason}。")
    lines += [f"（{w}）" for w in mail.copy_failures]
    ignored = [f for f in mail.files if f.result == "已忽略"]
    if ignored:
        lines += ["", "以下附件未处理："]
        lines += [f"- {f.name}：{f.reason}" for f in ignored]
    lines += ["", f"如有疑问，请联系：{contact or publisher}。本邮件由系统自动发送。", ""]
    return "\n".join(lines)


def _moment(when: datetime) -> str:
    return f"{format_date(when.date())} {when:%H:%M}"  # as the 回执 says it


def _month_words(period: str) -> str:
    return f"{format_month(period_month(period))}报告期"
