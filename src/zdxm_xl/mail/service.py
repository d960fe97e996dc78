"""Email: send each unit its form (填报模板), collect the returns, answer with the 回执.

Three core operations, called alike by ``zdxm mail …`` and the ribbon (发送模板, 收取报送):

- ``save_password(master, password)`` — checks the password against the servers in 设置
  and keeps it in the system keyring (``zdxm mail login``); it never enters the workbook.
- ``send_forms(master, period)`` — one message per 牵头单位: to its 信息员, 联络员 in
  copy, its form attached; ``dry_run`` writes ``.eml`` files instead of sending.
- ``fetch_returns(master, period)`` — reads new messages from the mailbox folder in 设置,
  saves every workbook attachment into 收件目录/报告期, logs sender, Message-ID and the
  server's received time (INTERNALDATE, which decides 按时/逾期), optionally answers each
  sender with the 回执 and the annotated copy, and merges.

Where the record lives — the master's sheet 邮件记录 (``registry.MAIL_LOG``), not a state
file: the master is the office's record, it is backed up and written atomically with
everything else, and "this message was already processed" must travel with it (a copy of
the master on another computer must not fetch the same mail again). A message is known by
its Message-ID, an attachment by its sha256; both are looked up in 邮件记录 (and 报送记录).

Crash safety: the master is written once, at the end. Until then every row is also
appended (and fsynced) to a journal beside the master, ``.{台账名}.zdxm-mail.jsonl``; the
next run folds a journal left by a run that died into the master first, so a message that
was processed, or a template that was sent, is never processed or sent unrecorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import field
from datetime import date, datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Literal

from pydantic.dataclasses import dataclass

from ..books.masterio import open_store
from ..books.safety import atomic_write
from ..checks.returns import CheckContext, FileReport, check_file
from ..core.cells import format_date
from ..core.errors import Field, MailError, UsageError
from ..core.master import Master, MasterStore
from ..core.models import MailDirection, MailRecord, MailResult, Project, Unit
from ..core.periods import deadline, period_month, plan_period
from ..core.results import RESULT, Hidden
from ..core.returns import expected_returns
from ..core.workspace import Workspace
from ..merge import MergeResult, merge_into
from ..reports.annotated import annotate, receipt_text
from ..reports.forms import form_name, write_form
from .messages import (
    BEIJING,
    OUT_POLICY,
    Candidate,
    OutgoingAttachment,
    Received,
    compose,
    iter_files,
    read_message,
    safe_file_name,
    split_addresses,
    workbook_candidates,
)
from .servers import (
    Envelope,
    ImapSession,
    MailConfig,
    SendFailed,
    SmtpSession,
    password_for,
    store_password,
)

__all__ = ["SentMail", "SendResult", "FetchedFile", "FetchedMail", "FetchResult", "LoginResult",
           "send_forms", "fetch_returns", "save_password", "MAX_MESSAGE", "journal_path"]

MAX_MESSAGE = 60 * 2**20  # a bigger message is not downloaded (attachments are ≤ 20 MiB)
Progress = Callable[[str], None]
FileResult = Literal["已保存", "重复", "已拒收", "已忽略"]


def _quiet(_text: str) -> None:
    pass


def _now() -> datetime:
    """北京时间, without a zone, as the master keeps times."""
    return datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)


def _writer(data: bytes) -> Callable[[Path], object]:
    return lambda temp: temp.write_bytes(data)


# ---- the journal --------------------------------------------------------------------------

def journal_path(store: MasterStore) -> Path:
    return store.folder / f".{store.name}.zdxm-mail.jsonl"


class _Journal:
    """邮件记录 rows not yet saved in the master (see the module docstring)."""

    def __init__(self, store: MasterStore) -> None:
        self.path = journal_path(store)

    def recover(self, master: Master) -> int:
        """Fold rows a run that died left behind into ``master``; how many were added."""
        if not self.path.exists():
            return 0
        present = {_row_key(r) for r in master.mail_log}
        added = 0
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = MailRecord.model_validate_json(line)
            except ValueError:  # the line being written when it died
                continue
            if _row_key(row) not in present:
                master.mail_log.append(row)
                present.add(_row_key(row))
                added += 1
        return added

    def add(self, rows: list[MailRecord]) -> None:
        if not rows:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(row.model_dump_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def _row_key(row: MailRecord) -> tuple[object, ...]:
    return (row.direction, row.message_id, row.attachment, row.sha256, row.result)


# ---- zdxm mail login ----------------------------------------------------------------------

@dataclass(config=RESULT)
class LoginResult:
    account: str
    checked: list[str] = field(default_factory=list)  # servers the password was tried on


def save_password(master_store: MasterStore | Path | str, password: str, *,
                  check: bool = True) -> LoginResult:
    """Try ``password`` on the servers in 设置 (unless ``check`` is False), then keep it in
    the system keyring under the 邮箱账号."""
    master = open_store(master_store).load()
    config = MailConfig.from_settings(master.settings)
    if not config.account:
        raise MailError("“设置”中没有填写邮箱账号，请先填写再保存密码。")
    if not password:
        raise UsageError("密码为空，未保存。")
    result = LoginResult(config.account)
    if check:
        if config.imap is not None:
            with ImapSession(config, password):
                result.checked.append(config.imap.label)
        if config.smtp is not None:
            with SmtpSession(config, password):
                result.checked.append(config.smtp.label)
    store_password(config.account, password)
    return result


# ---- zdxm mail send-templates ---------------------------------------------------------------

@dataclass(config=RESULT)
class SentMail:
    """One template mail: sent, written as .eml, or failed (``error``)."""

    unit: str
    to: list[str]
    cc: list[str]
    subject: str
    message_id: str
    template: Path
    eml: Path | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(config=RESULT)
class SendResult:
    period: str
    deadline: date
    dry_run: bool
    templates: Path  # where the attached templates were written
    mails: list[SentMail] = field(default_factory=list)  # sent, or written as .eml
    failed: list[SentMail] = field(default_factory=list)
    no_address: dict[str, list[str]] = field(default_factory=dict)  # unit → why

    @property
    def ok(self) -> bool:
        return not self.failed and not self.no_address


def form_mail_text(master: Master, unit: Unit, period: str,
                       projects: list[Project], today: date) -> tuple[str, str]:
    """The subject and body of a template mail, in the office's words."""
    settings = master.settings
    due = format_date(deadline(period, settings.deadline_day))
    implementation = sum(1 for p in projects if not p.is_preparatory)
    preparatory = len(projects) - implementation
    person = f"{unit.informant_name}同志" if unit.informant_name else f"{unit.name}信息员"
    contact = settings.mail_contact.strip() or settings.publisher
    subject = f"【{settings.city}重大项目月报】{unit.name} {period} 填报模板（请于{due}前报送）"
    body = "\n".join([
        f"{person}：",
        "",
        f"您好！现将{settings.city}{master.year}年重大项目月报（报告期 {period}）的填报模板发给"
        f"{unit.name}。本期贵单位作为牵头单位需报送实施项目 {implementation} 个、"
        f"预备项目 {preparatory} 个。",
        "",
        f"请于{due}前填报完毕，把填好的模板作为附件回复本邮件（直接点“回复”即可）。",
        "",
        "填报要点：",
        "1. 请直接在附件模板中填写，不要修改其中的单位、报告期和项目，也不要复制到其他文件；",
        "2. 只在白色单元格填写，金额单位为万元，只填数字；",
        "3. 保存为 .xlsx 格式发回，一个单位一个文件；",
        "4. 收到后我们会校验并回复回执；有错误的请按回执在原文件中修改后重新发送。",
        "",
        f"如有疑问，请联系：{contact}。",
        "",
        settings.publisher,
        format_date(today),
        "",
    ])
    return subject, body


def send_forms(master_store: MasterStore | Path | str, period: str, *, dry_run: bool = False,
                   unit: str | None = None, now: datetime | None = None,
                   progress: Progress | None = None) -> SendResult:
    """Email each 牵头单位 its template for ``period`` (or only ``unit``); log every message.

    Units without a usable address are reported in ``no_address``, not a reason to stop.
    """
    say = progress or _quiet
    store = open_store(master_store)
    with contextlib.nullcontext() if dry_run else store.session():
        master = store.load()
        period = plan_period(period, master.year)
        config = MailConfig.from_settings(master.settings)
        journal = _Journal(store)
        if not dry_run:
            config.need_smtp()
            journal.recover(master)
        expected = expected_returns(master, period)
        if unit is not None:
            if unit not in expected:
                raise UsageError(f"“{unit}”在 {period} 没有需要报送的项目（不是任何在库项目的牵头单位）。",
                                 field=Field.UNIT, value=unit)
            expected = {unit: expected[unit]}
        workspace = Workspace(store.folder, master.settings)
        result = SendResult(period, deadline(period, master.settings.deadline_day), dry_run,
                            workspace.forms(period))
        issued = now or _now()
        sender = config.address or "office@zdxm.invalid"
        domain = sender.split("@", 1)[1]
        smtp: SmtpSession | None = None
        try:
            for name, projects in expected.items():
                record = master.unit(name) or Unit(name=name)
                to, bad_to = split_addresses(record.informant_email)
                cc, bad_cc = split_addresses(record.liaison_email)
                notes = [f"信息员邮箱“{a}”无效" for a in bad_to]
                notes += [f"联络员邮箱“{a}”无效" for a in bad_cc]
                if not to and cc:
                    to, cc = cc, []
                    notes.append("信息员没有有效邮箱，已发给联络员")
                cc = [a for a in cc if a not in to]
                if not to:
                    result.no_address[name] = notes or ["信息员、联络员都没有登记邮箱"]
                    continue
                result.templates.mkdir(parents=True, exist_ok=True)
                path = result.templates / form_name(period, name)
                write_form(master, name, projects, period, path, issued)
                data = path.read_bytes()
                subject, body = form_mail_text(master, record, period, projects, issued.date())
                sent = SentMail(name, to, cc, subject, make_msgid(domain=domain), path, notes=notes)
                message = compose(sender=sender, sender_name=config.sender_name, to=to, cc=cc,
                                  subject=subject, body=body,
                                  attachments=[OutgoingAttachment(path.name, data)],
                                  message_id=sent.message_id, date=issued.replace(tzinfo=BEIJING))
                raw = message.as_bytes(policy=OUT_POLICY)
                if dry_run:
                    folder = workspace.mail_previews(period)
                    folder.mkdir(parents=True, exist_ok=True)
                    sent.eml = folder / f"{path.stem}.eml"
                    atomic_write(sent.eml, _writer(raw))
                    result.mails.append(sent)
                    say(f"已写出 {sent.eml.name}")
                    continue
                if smtp is None:
                    smtp = SmtpSession(config, password_for(config.account)).__enter__()
                try:
                    refused = smtp.send(sender, to + cc, raw)
                except SendFailed as exc:
                    sent.error = str(exc)
                    result.failed.append(sent)
                else:
                    if refused:
                        sent.notes.append("被拒收的地址：" + "、".join(refused))
                    result.mails.append(sent)
                row = MailRecord(time=_now(), direction=MailDirection.SENT, period=period, unit=name,
                                 address="，".join(to), cc="，".join(cc) or None,
                                 subject=subject, message_id=sent.message_id,
                                 attachment=path.name, sha256=hashlib.sha256(data).hexdigest(),
                                 result=MailResult.SEND_FAILED if sent.error else MailResult.SENT,
                                 note="；".join([*sent.notes, *([sent.error] if sent.error else [])])
                                 or None, processed_at=_now())
                master.mail_log.append(row)
                journal.add([row])
                say(f"{'发送失败' if sent.error else '已发送'} {name}")
        finally:
            if smtp is not None:
                smtp.close()
        if dry_run:
            if master.ids_assigned:  # the templates carry ids the master must keep
                with store.session():
                    store.save(master)
        elif result.mails or result.failed or master.ids_assigned:
            store.save(master)
            journal.clear()
        return result


# ---- zdxm mail fetch ------------------------------------------------------------------------

@dataclass(config=RESULT)
class FetchedFile:
    """One attachment (or file from a zip attachment) and what became of it."""

    name: str
    result: FileResult
    reason: str = ""
    sha256: str | None = None
    saved: Path | None = None
    unit: str | None = None
    period: str | None = None
    valid: bool | None = None  # checking passed (for 已保存)
    errors: int = 0
    warnings: int = 0
    annotated: Path | None = None
    report: Hidden[FileReport | None] = field(default=None, repr=False)


@dataclass(config=RESULT)
class FetchedMail:
    """One new message and what was done with it."""

    message_id: str
    sender: str
    subject: str
    received: datetime  # INTERNALDATE, 北京时间
    files: list[FetchedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reply: str | None = None  # 已回复, 回复失败：…, or None when not answered


@dataclass(config=RESULT)
class FetchResult:
    mails: list[FetchedMail] = field(default_factory=list)  # new this run
    already: int = 0  # messages in the folder processed by an earlier run
    moved: int = 0
    notes: list[str] = field(default_factory=list)
    merge: MergeResult | None = None

    @property
    def files(self) -> list[FetchedFile]:
        return [f for m in self.mails for f in m.files]

    @property
    def ok(self) -> bool:
        """No attachment refused and every saved file passed checking (and merging)."""
        return (all(f.result != "已拒收" and f.valid is not False for f in self.files)
                and (self.merge is None or self.merge.ok))


class _Fetch:
    """One run of ``fetch_returns`` over a loaded master."""

    def __init__(self, store: MasterStore, master: Master, config: MailConfig, period: str | None,
                 journal: _Journal, say: Progress) -> None:
        self.store, self.master, self.config, self.period = store, master, config, period
        self.journal, self.say = journal, say
        self.workspace = Workspace(store.folder, master.settings)
        self.inbox = self.workspace.inbox
        self.staging = self.workspace.staging
        self.context = CheckContext(master)
        self.known = {r.message_id for r in master.mail_log}
        self.seen: dict[str, str] = {}  # sha256 → when it was first received (for the reply)
        for row in master.mail_log:
            if row.direction == "接收" and row.result == "已保存" and row.sha256:
                self.seen.setdefault(row.sha256, row.time.strftime("%Y-%m-%d %H:%M"))
        for sub in master.submissions:
            self.seen.setdefault(sub.sha256, sub.received_at.strftime("%Y-%m-%d %H:%M"))
        self.contacts: dict[str, set[str]] = {}
        for unit in master.units:
            addresses = split_addresses(unit.informant_email)[0]
            addresses += split_addresses(unit.liaison_email)[0]
            self.contacts[unit.name] = {a.lower() for a in addresses}
        self.registered = set().union(*self.contacts.values()) if self.contacts else set()

    # -- one message --------------------------------------------------------------------
    def take(self, received: Received, when: datetime) -> FetchedMail:
        mail = FetchedMail(received.message_id, received.sender, received.subject, when)
        candidates, notes = workbook_candidates(received.message)
        mail.warnings += notes
        for candidate in iter_files(candidates):
            if candidate.action == "save":
                mail.files.append(self._save(candidate, received, when))
            else:
                mail.files.append(FetchedFile(candidate.name, "已拒收" if candidate.action == "reject"
                                              else "已忽略", candidate.reason))
        for item in mail.files:
            if item.unit and received.sender and received.sender not in self.contacts.get(
                    item.unit, set()):
                warning = (f"发件人 {received.sender} 不是{item.unit}登记的信息员或联络员邮箱"
                           "（单位以模板为准）")
                if warning not in mail.warnings:
                    mail.warnings.append(warning)
        self._log(mail, received)
        return mail

    def _save(self, candidate: Candidate, received: Received, when: datetime) -> FetchedFile:
        sha = hashlib.sha256(candidate.data).hexdigest()
        item = FetchedFile(candidate.name, "已保存", sha256=sha)
        if sha in self.seen:
            item.result = "重复"
            item.reason = f"与 {self.seen[sha]} 已收到的文件内容相同，不再重复处理"
            return item
        self.staging.mkdir(parents=True, exist_ok=True)
        staged = self.staging / f"{sha}{candidate.suffix}"
        staged.write_bytes(candidate.data)
        report = check_file(self.master, staged, self.period, self.context)
        folder = self.workspace.inbox_for(report.period)
        folder.mkdir(parents=True, exist_ok=True)
        target = _unique(folder / safe_file_name(candidate.name.rsplit("/", 1)[-1],
                                                 candidate.suffix))
        os.replace(staged, target)
        report.path = target
        if report.vetted is not None:
            report.vetted.path = target
        self.seen[sha] = when.strftime("%Y-%m-%d %H:%M")
        item.saved, item.report = target, report
        item.unit, item.period = report.unit, report.period
        item.valid, item.errors, item.warnings = report.valid, report.errors, report.warnings
        return item

    def _log(self, mail: FetchedMail, received: Received) -> None:
        base: dict[str, Any] = dict(time=mail.received, direction=MailDirection.RECEIVED,
                    address=received.sender or None,
                    subject=mail.subject[:500] or None, message_id=mail.message_id,
                    processed_at=_now())
        sender_note = "；".join(w for w in mail.warnings if w.startswith("发件人"))
        rows = []
        for item in mail.files:
            if item.result == "已保存":
                verdict = "校验通过" if item.valid else f"校验未通过（错误 {item.errors} 处）"
                note = "；".join(p for p in (verdict, sender_note) if p)
            else:
                note = item.reason
            rows.append(MailRecord(
                **base, period=item.period, unit=item.unit, attachment=item.name[:250],
                sha256=item.sha256, result=MailResult(item.result), note=note or None,
                saved_as=item.saved.relative_to(self.inbox).as_posix() if item.saved else None))
        if not any(f.result in ("已保存", "重复", "已拒收") for f in mail.files):
            ignored = "、".join(f.name for f in mail.files)
            note = "；".join(mail.warnings + ([f"其他附件未处理：{ignored}"] if ignored else []))
            rows.insert(0, MailRecord(**base, result=MailResult.NO_ATTACHMENT, note=note or None))
        self.master.mail_log.extend(rows)
        self.journal.add(rows)
        self.known.add(mail.message_id)

    def oversize(self, envelope: Envelope, received: Received, when: datetime) -> FetchedMail:
        mail = FetchedMail(received.message_id, received.sender, received.subject, when)
        mail.files.append(FetchedFile("（整封邮件）", "已拒收",
                                      f"邮件过大（约 {envelope.size / 2**20:.0f} MB，上限 "
                                      f"{MAX_MESSAGE // 2**20} MB），未下载；请把附件压缩或分开发送"))
        self._log(mail, received)
        return mail

    def broken(self, message_id: str, when: datetime, exc: Exception) -> FetchedMail:
        mail = FetchedMail(message_id, "", "", when)
        mail.files.append(FetchedFile("（整封邮件）", "已拒收",
                                      f"邮件无法处理（{type(exc).__name__}），请查看邮箱中的原邮件"))
        row = MailRecord(time=when, direction=MailDirection.RECEIVED, message_id=message_id,
                         result=MailResult.REFUSED,
                         note=mail.files[0].reason, processed_at=_now())
        self.master.mail_log.append(row)
        self.journal.add([row])
        self.known.add(message_id)
        return mail

    # -- answering ----------------------------------------------------------------------
    def should_answer(self, mail: FetchedMail, received: Received) -> bool:
        if received.automatic or not received.sender:
            return False
        if received.sender == self.config.address.lower():
            return False
        if any(f.result in ("已保存", "重复", "已拒收") for f in mail.files):
            return True
        return received.sender in self.registered  # tell a known contact it had no workbook

    def answer(self, mail: FetchedMail, received: Received, smtp: SmtpSession | None,
               smtp_error: str | None) -> None:
        settings = self.master.settings
        attachments = []
        for item in mail.files:
            if item.report is not None and item.saved is not None:
                copy, _receipt = annotate(item.report, self.workspace.annotated(item.period),
                                          settings.publisher)
                item.annotated = copy
                attachments.append(OutgoingAttachment(copy.name, copy.read_bytes()))
        subject = f"回复：{mail.subject[:200]}" if mail.subject else "报送回执"
        sender = self.config.address
        message_id = make_msgid(domain=sender.split("@", 1)[1])
        references = " ".join([*received.references.split()[-10:], mail.message_id])
        message = compose(sender=sender, sender_name=self.config.sender_name,
                          to=[received.sender], cc=[], subject=subject,
                          body=reply_text(self.master, mail, self.config.contact),
                          attachments=attachments, message_id=message_id,
                          date=_now().replace(tzinfo=BEIJING),
                          headers={"In-Reply-To": mail.message_id, "References": references,
                                   "Auto-Submitted": "auto-replied"})
        error = smtp_error
        if smtp is not None:
            try:
                smtp.send(sender, [received.sender], message.as_bytes(policy=OUT_POLICY))
            except SendFailed as exc:
                error = str(exc)
        mail.reply = "已回复" if error is None else f"回复失败：{error}"
        row = MailRecord(time=_now(), direction=MailDirection.REPLY, period=next(
            (f.period for f in mail.files if f.period), None), unit=next(
            (f.unit for f in mail.files if f.unit), None), address=received.sender,
            subject=subject[:500], message_id=message_id,
            attachment="、".join(a.name for a in attachments) or None,
            result=MailResult.REPLIED if error is None else MailResult.REPLY_FAILED,
            note=f"回复 {mail.message_id}" + (f"；{error}" if error else ""), processed_at=_now())
        self.master.mail_log.append(row)
        self.journal.add([row])

    # -- merging ------------------------------------------------------------------------
    def pending(self) -> dict[Path, datetime]:
        """Saved attachments of identified units not yet in 报送记录 (this run's, and those
        an earlier ``fetch`` without ``--merge`` saved), with their received times."""
        submitted = {s.sha256 for s in self.master.submissions}
        files: dict[Path, datetime] = {}
        for row in self.master.mail_log:
            if (row.direction == "接收" and row.result == "已保存" and row.unit and row.saved_as
                    and row.sha256 not in submitted
                    and (self.period is None or row.period == self.period)):
                path = self.inbox / row.saved_as
                if path.is_file() and path not in files:
                    files[path] = row.time
        return files


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    for number in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}_{number}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise MailError(f"收件目录中同名文件过多：{path.name}")


def reply_text(master: Master, mail: FetchedMail, contact: str) -> str:
    """The answer to one message: a 回执 per workbook, what was refused, what was ignored."""
    publisher = master.settings.publisher
    lines = ["您好！", "",
             f"{publisher}已收到您于 {mail.received:%Y-%m-%d %H:%M} 发来的邮件"
             + (f"《{mail.subject}》" if mail.subject else "") + "。"]
    workbooks = [f for f in mail.files if f.result != "已忽略"]
    if not workbooks:
        lines += ["", "邮件中没有找到 Excel 填报文件。请把填好的模板（.xlsx）作为附件重新发送。"]
    for number, item in enumerate(workbooks, start=1):
        lines += ["", f"【附件{number}】{item.name}"]
        if item.report is not None:
            lines.append(receipt_text(item.report, publisher).rstrip())
        elif item.result == "重复":
            lines.append(f"{item.reason}。")
        else:
            lines.append(f"未接收：{item.reason}。")
    ignored = [f.name for f in mail.files if f.result == "已忽略"]
    if ignored:
        lines += ["", "以下附件不是 Excel 填报文件，未处理：" + "、".join(ignored)]
    lines += ["", f"如有疑问，请联系：{contact or publisher}。本邮件由系统自动发送。", ""]
    return "\n".join(lines)


def fetch_returns(master_store: MasterStore | Path | str, period: str | None = None, *,
                  reply: bool = False, merge: bool = False,
                  progress: Progress | None = None) -> FetchResult:
    """Read new messages from the mailbox folder in 设置 and take in their workbooks.

    With ``period`` only messages received since that month began are read and files of
    other periods are reported (F53). ``reply`` answers each sender with the 回执 and the
    annotated copy; ``merge`` merges the saved files of identified units (those that pass
    checking go into the ledger, the others are logged as 未通过), each with its message's
    received time. Messages are never deleted; with 已处理文件夹 set they are moved there.
    """
    say = progress or _quiet
    store = open_store(master_store)
    with store.session():
        master = store.load()
        period = plan_period(period, master.year) if period is not None else None
        config = MailConfig.from_settings(master.settings)
        if reply:
            config.need_smtp()
        journal = _Journal(store)
        recovered = journal.recover(master)
        run = _Fetch(store, master, config, period, journal, say)
        result = FetchResult()
        if recovered:
            result.notes.append(f"已补记上次中断时的 {recovered} 条邮件记录")
        password = password_for(config.account)
        smtp: SmtpSession | None = None
        smtp_error: str | None = None
        try:
            with ImapSession(config, password) as imap:
                imap.select(config.folder, readonly=not config.done_folder)
                uids = imap.search(period_month(period) if period else None)
                say(f"文件夹“{config.folder}”中有 {len(uids)} 封邮件")
                done: list[str] = []
                for envelope in imap.envelopes(uids):
                    head = read_message(envelope.header)
                    has_id = bool(head.message.get("Message-ID"))
                    if has_id and head.message_id in run.known:
                        result.already += 1
                        done.append(envelope.uid)
                        continue
                    when = (envelope.received.astimezone(BEIJING).replace(tzinfo=None)
                            if envelope.received else _now())
                    if envelope.size > MAX_MESSAGE:
                        mail = run.oversize(envelope, head, when)
                        received = head
                    else:
                        raw = imap.fetch(envelope.uid)
                        try:
                            received = read_message(raw)
                            if received.message_id in run.known:  # no Message-ID, seen before
                                result.already += 1
                                done.append(envelope.uid)
                                continue
                            mail = run.take(received, when)
                        except (MailError, OSError):
                            raise
                        except Exception as exc:  # whatever a message does, the run goes on
                            mail = run.broken(head.message_id, when, exc)
                            received = head
                    done.append(envelope.uid)
                    result.mails.append(mail)
                    say(f"已处理 {mail.sender or '（无发件人）'}：{mail.subject[:40]}")
                    if reply and run.should_answer(mail, received):
                        if smtp is None and smtp_error is None:
                            try:
                                smtp = SmtpSession(config, password).__enter__()
                            except MailError as exc:
                                smtp_error = exc.message
                        run.answer(mail, received, smtp, smtp_error)
                if config.done_folder and done:
                    try:
                        note = imap.move(done, config.done_folder)
                    except MailError as exc:
                        note = exc.message
                    if note:
                        result.notes.append(note)
                    else:
                        result.moved = len(done)
        finally:
            if smtp is not None:
                smtp.close()
            shutil.rmtree(run.staging, ignore_errors=True)
        changed = bool(result.mails) or recovered > 0
        if merge:
            files = run.pending()
            if files:
                result.merge = MergeResult()
                changed = merge_into(master, run.workspace, list(files), period, files,
                                     result=result.merge) or changed
        if changed:
            store.save(master)
        journal.clear()
        return result
