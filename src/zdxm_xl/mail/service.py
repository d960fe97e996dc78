"""Email: send each unit its form (填报模板), collect the returns, answer with the 回执.

The operations, called alike by ``zdxm mail …`` and the ribbon (发送模板, 收取报送, 待确认邮件):

- ``save_password(master, password)`` — checks the password against the servers in 设置
  and keeps it in the system keyring (``zdxm mail login``); it never enters the workbook.
- ``send_forms(master, period)`` — one message per 牵头单位: to its 信息员, 联络员 in copy,
  its form attached; each unit's form once per 报告期 (``resend`` on purpose); ``dry_run``
  writes previews into 输出/邮件预览 and touches nothing else.
- ``fetch_returns(master, period)`` — reads new messages from the mailbox folder in 设置,
  takes each in (``intake.Intake``: sender policy, saving, checking, the 回执 composed into
  the outbox), optionally sends the outbox (``reply``) and merges (``merge``).
- ``pending_mail``, ``confirm_mail``, ``decline_mail`` — the 待确认 messages of senders the
  sender policy does not trust, and the office's decision on each.
- ``mail_status`` — what waits: the outbox (unsent and failed mail), 待确认 and 暂存 messages.

Where the record lives — the master's sheets 邮件记录 (``registry.MAIL_LOG``) and 发件箱
(``registry.OUTBOX``), not a state file: the master is the office's record, it is backed up
and written atomically with everything else, and "this message was already processed" must
travel with it. Between the start of a run and its one save, the journal (``outbox.Journal``)
keeps every step, so a run that dies loses nothing and repeats nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import field
from datetime import date, datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Literal

from pydantic.dataclasses import dataclass

from ..books.masterio import open_store
from ..books.safety import atomic_write, checkpoint
from ..checks.batch import examine_all
from ..checks.vetting import Examined
from ..core.cells import format_date
from ..core.errors import Field, MailError, UsageError
from ..core.master import Master, MasterStore
from ..core.models import (
    MailDirection,
    MailResult,
    OutboxEntry,
    OutboxKind,
    OutboxState,
    Project,
    Unit,
)
from ..core.periods import deadline, period_month, plan_period
from ..core.problems import reconcile
from ..core.results import RESULT, Hidden
from ..core.returns import expected_returns
from ..core.workspace import Workspace
from ..merge import MergeResult, merge_into
from .intake import MAX_MESSAGE, FetchedFile, FetchedMail, HeldGroup, Intake, held_groups
from .messages import BEIJING, OutgoingAttachment, compose, read_message, split_addresses
from .outbox import DrainResult, Journal, Outbox, OutboxMail, eml_name, journal_path, raw_bytes
from .outbox import now as _now
from .servers import ImapSession, MailConfig, SmtpSession, password_for, store_password

__all__ = ["SentMail", "SendResult", "FetchedFile", "FetchedMail", "FetchResult", "LoginResult",
           "PendingMail", "PendingList", "MailStatus", "DecisionResult", "DrainResult",
           "OutboxMail", "send_forms", "fetch_returns", "save_password", "pending_mail",
           "confirm_mail", "decline_mail", "mail_status", "MAX_MESSAGE", "journal_path"]

Progress = Callable[[str], None]


def _quiet(_text: str) -> None:
    pass


def _writer(data: bytes) -> Callable[[Path], object]:
    return lambda temp: temp.write_bytes(data)


# ---- zdxm mail login ----------------------------------------------------------------------

@dataclass(config=RESULT)
class LoginResult:
    account: str
    checked: list[str] = field(default_factory=list)  # servers the password was tried on


def save_password(master_store: MasterStore | Path | str, password: str, *,
                  check: bool = True) -> LoginResult:
    """Try ``password`` on the servers in 设置 (unless ``check`` is False), then keep it in
    the system keyring under the 邮箱账号 (never in a keyring that writes it to a file)."""
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

SendState = Literal["已发送", "待发送", "发送失败", "已写出"]


@dataclass(config=RESULT)
class SentMail:
    """One template mail: sent, waiting in the outbox, failed (``error``), or a preview."""

    unit: str
    to: list[str]
    cc: list[str]
    subject: str
    message_id: str
    template: Path
    state: SendState = "待发送"
    eml: Path | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(config=RESULT)
class SendResult:
    period: str
    deadline: date
    dry_run: bool
    templates: Path  # where the attached templates were written
    mails: list[SentMail] = field(default_factory=list)  # composed this run
    failed: list[SentMail] = field(default_factory=list)  # composed this run, not sent
    already: dict[str, datetime] = field(default_factory=dict)  # unit → when its form went out
    no_address: dict[str, list[str]] = field(default_factory=dict)  # unit → why
    outbox: DrainResult | None = None  # everything the outbox sent or failed this run

    @property
    def ok(self) -> bool:
        return (not self.failed and not self.no_address
                and (self.outbox is None or self.outbox.ok))


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
        f"请于{due}前填报完毕，把填好的模板作为附件回复本邮件（直接点“回复”即可）。"
        "请从本单位登记的信息员、联络员或责任专员邮箱发送，其他邮箱发来的报表须经办公室确认后才处理。",
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


def sent_forms(master: Master, period: str) -> dict[str, datetime]:
    """Unit → when its form for ``period`` went out (the first time)."""
    sent: dict[str, datetime] = {}
    for row in master.mail_log:
        if (row.direction is MailDirection.SENT and row.result is MailResult.SENT
                and row.period == period and row.unit):
            sent.setdefault(row.unit, row.time)
    return sent


def send_forms(master_store: MasterStore | Path | str, period: str, *, dry_run: bool = False,
               unit: str | None = None, resend: Sequence[str] = (), now: datetime | None = None,
               progress: Progress | None = None) -> SendResult:
    """Email each 牵头单位 its template for ``period`` — once: a unit whose form went out (or
    waits in the outbox) is skipped unless named in ``resend``. ``unit`` sends to that unit
    only. Each message is composed into the outbox, then the outbox is sent (with anything
    an earlier run left in it). Units without a usable address are reported in
    ``no_address``, not a reason to stop.
    """
    # (openpyxl, which the forms are laid out with, is imported by sending alone: fetching
    # does without it)
    from ..reports.forms import form_name, write_form

    say = progress or _quiet
    store = open_store(master_store)
    with contextlib.nullcontext() if dry_run else store.session():
        master = store.load()
        period = plan_period(period, master.year)
        config = MailConfig.from_settings(master.settings)
        journal = Journal(store)
        if not dry_run:
            config.need_smtp()
            journal.recover(master)
        wanted = [unit] if unit is not None else []
        wanted += [name for name in resend if name not in wanted]
        expected = expected_returns(master, period, wanted)
        workspace = Workspace(store.folder, master.settings)
        outbox = Outbox(master, workspace, journal)
        folder = workspace.mail_previews(period) if dry_run else workspace.forms(period)
        result = SendResult(period, deadline(period, master.settings.deadline_day), dry_run, folder)
        issued = now or _now()
        sender = config.address or "office@zdxm.invalid"
        domain = sender.split("@", 1)[1]
        already = sent_forms(master, period)
        waiting = {e.unit: e for e in outbox.waiting(OutboxKind.FORM) if e.period == period}
        for name, projects in expected.items():
            again = name in resend
            if not again and name in already:
                result.already[name] = already[name]
                continue
            if not again and name in waiting:
                continue  # composed by an earlier run: the outbox below sends it
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
            if again and name in waiting and not dry_run:
                outbox.cancel(waiting[name], "已按要求重新生成")
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / form_name(period, name)
            write_form(master, name, projects, period, path, issued)
            data = path.read_bytes()
            subject, body = form_mail_text(master, record, period, projects, issued.date())
            sent = SentMail(name, to, cc, subject, make_msgid(domain=domain), path, notes=notes)
            message = compose(sender=sender, sender_name=config.sender_name, to=to, cc=cc,
                              subject=subject, body=body,
                              attachments=[OutgoingAttachment(path.name, data)],
                              message_id=sent.message_id, date=issued.replace(tzinfo=BEIJING))
            raw = raw_bytes(message)
            if dry_run:
                sent.eml = folder / f"{path.stem}.eml"
                atomic_write(sent.eml, _writer(raw))
                sent.state = "已写出"
                result.mails.append(sent)
                say(f"已写出 {sent.eml.name}")
                continue
            outbox.queue(OutboxEntry(
                message_id=sent.message_id, kind=OutboxKind.FORM, created=_now(), period=period,
                unit=name, to="，".join(to), cc="，".join(cc) or None, subject=subject,
                attachment=path.name, sha256=hashlib.sha256(data).hexdigest(),
                file=eml_name(sent.message_id), note="；".join(notes) or None), raw)
            result.mails.append(sent)
            say(f"已生成 {name} 的模板邮件")
        if dry_run:
            if master.ids_assigned:  # the templates carry ids the master must keep
                with store.session():
                    store.save(master)
            return result
        result.outbox = outbox.drain(config, password_for(config.account), say)
        for sent in result.mails:
            done = result.outbox.outcome(sent.message_id)
            if done is not None and done.state is OutboxState.SENT:
                sent.state = "已发送"
            elif done is not None:
                sent.state, sent.error = "发送失败", done.error
                result.failed.append(sent)
        if journal.changed or master.ids_assigned:
            store.save(master)
        journal.clear()
        return result


# ---- zdxm mail fetch ------------------------------------------------------------------------

@dataclass(config=RESULT)
class FetchResult:
    mails: list[FetchedMail] = field(default_factory=list)  # new this run (and released)
    already: int = 0  # messages in the folder processed by an earlier run
    moved: int = 0
    notes: list[str] = field(default_factory=list)
    merge: MergeResult | None = None
    outbox: DrainResult | None = None  # what was sent (with ``reply``)
    waiting: list[OutboxMail] = field(default_factory=list)  # still in the outbox after the run
    pending: int = 0  # 待确认 messages waiting for the office (all of them)
    error: str | None = None  # the server failed part-way: what was done is recorded
    failure: Hidden[MailError | None] = None

    @property
    def files(self) -> list[FetchedFile]:
        return [f for m in self.mails for f in m.files]

    @property
    def failed(self) -> list[OutboxMail]:
        """Mail of the outbox whose sending failed and has not succeeded since."""
        return [m for m in self.waiting if m.state is OutboxState.FAILED]

    @property
    def ok(self) -> bool:
        """No attachment refused, every saved file passed checking (and merging), no mail
        of the outbox failed, the server answered throughout."""
        return (all(f.result != "已拒收" and f.valid is not False for f in self.files)
                and (self.merge is None or self.merge.ok) and not self.failed
                and self.error is None)


def _received_time(envelope_time: datetime | None) -> datetime:
    return (envelope_time.astimezone(BEIJING).replace(tzinfo=None) if envelope_time
            else _now())


def fetch_returns(master_store: MasterStore | Path | str, period: str | None = None, *,
                  reply: bool = False, merge: bool = False,
                  progress: Progress | None = None) -> FetchResult:
    """Read new messages from the mailbox folder in 设置 and take in their workbooks.

    With ``period`` only messages received since that month began are read; a return for a
    later 报告期 is kept (暂存) until that period is collected, one for an earlier period is
    taken for its own period. Every message is recorded, and its 回执 composed into the
    outbox, before it counts as done — with or without ``reply``, which then sends the
    outbox (this run's receipts and whatever earlier runs left). ``merge`` merges the saved
    files of identified units (those that pass checking go into the ledger, the others are
    logged as 未通过), each with its message's received time. Messages are never deleted;
    with 已处理文件夹 set they are moved there.
    """
    say = progress or _quiet
    # the ledger rows of the mailed returns' projects are what it reads, as a merge
    store = open_store(master_store, ledger_on_demand=True)
    with store.session():
        master = store.load()
        # 问题台帐 as the office left it: the 回执 say what a merge would
        reconcile(master, datetime.now())
        period = plan_period(period, master.year) if period is not None else None
        config = MailConfig.from_settings(master.settings)
        if reply:
            config.need_smtp()
        journal = Journal(store)
        recovered = journal.recover(master)
        workspace = Workspace(store.folder, master.settings)
        outbox = Outbox(master, workspace, journal)
        intake = Intake(master, config, period, outbox)
        result = FetchResult()
        if recovered:
            result.notes.append(f"已补记上次中断时的 {recovered} 条邮件记录")
        if not intake.can_answer:
            result.notes.append("“设置”中没有发件服务器或发件地址，本次没有生成回执")
        password = password_for(config.account)
        failure: MailError | None = None
        try:
            result.mails += _release(intake, period, say)
            _read_mailbox(intake, config, password, period, result, say)
        except MailError as exc:  # the server failed: keep what was done, send what is owed
            failure = exc
            result.error, result.failure = exc.message, exc
        finally:
            shutil.rmtree(intake.staging, ignore_errors=True)
        if failure is not None and not journal.changed and not master.outbox:
            raise failure  # nothing was done: the run simply could not start
        if reply:
            result.outbox = outbox.drain(config, password, say)
            _replies(result.mails, result.outbox)
        changed = journal.changed or master.ids_assigned
        if merge:
            files = _unmerged(master, workspace, period)
            if files:
                result.merge = MergeResult()
                changed = merge_into(master, workspace, list(files), period, files,
                                     result=result.merge,
                                     examined=_examined(result.mails, list(files))) or changed
        result.waiting = [OutboxMail.of(e) for e in master.outbox]
        result.pending = sum(1 for g in held_groups(master) if g.result is MailResult.PENDING)
        if changed:
            say("正在写入台账……")
            checkpoint("before-master-write")
            # the merged files archived while the master is written
            if result.merge is None:
                store.save(master)
            else:
                with result.merge.archiving() as ready:
                    store.save(master, ready)
        journal.clear()
        return result


def _release(intake: Intake, period: str | None, say: Progress) -> list[FetchedMail]:
    """Messages held (暂存) for ``period`` (every period when None), taken in now."""
    released = []
    for group in held_groups(intake.master):
        row = group.first
        if row.result is not MailResult.HELD or (period is not None and (row.period or "") > period):
            continue
        path = intake.inbox / (row.saved_as or "")
        try:
            received = read_message(path.read_bytes())
        except OSError:
            continue  # the file was moved away: the 邮件记录 row still tells the office
        say(f"正在处理暂存的邮件：{received.sender or '（无发件人）'}《{received.subject[:40]}》")
        released.append(intake.take(received, row.time, "released"))
        with contextlib.suppress(OSError):
            path.unlink()
    return released


def _read_mailbox(intake: Intake, config: MailConfig, password: str | None,
                  period: str | None, result: FetchResult, say: Progress) -> None:
    say("正在连接收件服务器……")
    with ImapSession(config, password) as imap:
        imap.select(config.folder, readonly=not config.done_folder)
        uids = imap.search(period_month(period) if period else None)
        envelopes = imap.envelopes(uids)
        done: list[str] = []
        fresh = []
        for envelope in envelopes:
            head = read_message(envelope.header, header_only=True)
            if intake.known_header(head.message_id, _received_time(envelope.received)):
                result.already += 1
                done.append(envelope.uid)
            else:
                fresh.append((envelope, head))
        say(f"文件夹“{config.folder}”中有 {len(envelopes)} 封邮件，需要处理 {len(fresh)} 封")
        try:
            for number, (envelope, head) in enumerate(fresh, start=1):
                when = _received_time(envelope.received)
                say(f"正在处理第 {number}/{len(fresh)} 封：{head.sender or '（无发件人）'}"
                    f"《{head.subject[:40]}》")
                if envelope.size > MAX_MESSAGE:
                    result.mails.append(intake.oversize(envelope, head, when))
                    done.append(envelope.uid)
                    continue
                try:
                    raw = imap.fetch(envelope.uid)
                except MailError as exc:
                    if not imap.alive():
                        raise
                    result.notes.append(f"第 {number} 封邮件下载失败（{exc.message}），下次收取时再试")
                    continue
                try:
                    received = read_message(raw)
                    if intake.known(received):
                        result.already += 1
                        done.append(envelope.uid)
                        continue
                    mail = intake.take(received, when)
                except MailError:
                    raise
                except Exception as exc:  # whatever one message does, the run goes on
                    mail = intake.broken(head, when, exc)
                done.append(envelope.uid)
                result.mails.append(mail)
        finally:
            if config.done_folder and done:
                try:
                    note = imap.move(done, config.done_folder)
                except MailError as exc:
                    note = exc.message
                if note:
                    result.notes.append(note)
                else:
                    result.moved = len(done)


def _replies(mails: Sequence[FetchedMail], drained: DrainResult) -> None:
    """Each answered mail's state after the outbox was sent."""
    for mail in mails:
        sent = drained.outcome(mail.reply_id) if mail.reply_id else None
        if sent is not None:
            mail.reply = ("已回复" if sent.state is OutboxState.SENT
                          else f"回复失败：{sent.error}（已留在发件箱，下次自动重试）")


def _examined(mails: Sequence[FetchedMail], paths: Sequence[Path]) -> Iterator[Examined]:
    """The vetting and reading of ``paths``, in order: kept from taking in this run's mail,
    done now (as ``merge`` does) for the files an earlier run saved."""
    known = {f.saved: f.examined for m in mails for f in m.files if f.saved and f.examined}
    earlier = examine_all([p for p in paths if p not in known])
    return (known[p] if p in known else next(earlier) for p in paths)


def _unmerged(master: Master, workspace: Workspace, period: str | None) -> dict[Path, datetime]:
    """Saved attachments of identified units not yet in 报送记录 (this run's, and those an
    earlier run saved), with their received times."""
    submitted = {s.sha256 for s in master.submissions}
    files: dict[Path, datetime] = {}
    for row in master.mail_log:
        if (row.direction is MailDirection.RECEIVED and row.result is MailResult.SAVED
                and row.unit and row.saved_as and row.sha256 not in submitted
                and (period is None or row.period == period)):
            path = workspace.inbox / row.saved_as
            if path.is_file() and path not in files:
                files[path] = row.time
    return files


# ---- 待确认: zdxm mail pending / confirm / reject -------------------------------------------

@dataclass(config=RESULT)
class PendingMail:
    """A message held for the office: 待确认 (``ticket``) or 暂存 (for ``period``)."""

    ticket: int | None
    received: datetime
    sender: str | None
    subject: str | None
    reason: str
    files: list[str]  # attachment (and what it claims to be)
    eml: Path  # the whole message, to open in a mail program
    period: str | None = None


@dataclass(config=RESULT)
class PendingList:
    mails: list[PendingMail] = field(default_factory=list)


def _pending(group: HeldGroup, workspace: Workspace) -> PendingMail:
    row = group.first
    files = []
    for r in group.rows:
        if r.attachment:
            files.append(r.attachment + (f"（{r.unit} {r.period}）" if r.unit else ""))
    reason = (row.note or "").split("；", 1)[0]
    return PendingMail(row.ticket, row.time, row.address, row.subject, reason, files,
                       workspace.inbox / (row.saved_as or ""), row.period)


def pending_mail(master_store: MasterStore | Path | str) -> PendingList:
    """The 待确认 messages, oldest first."""
    store = open_store(master_store)
    master = store.load()
    Journal(store).recover(master)  # what a dead run recorded counts too (not saved here)
    workspace = Workspace(store.folder, master.settings)
    return PendingList([_pending(g, workspace) for g in held_groups(master)
                        if g.result is MailResult.PENDING])


@dataclass(config=RESULT)
class DecisionResult:
    """The office's decision on one 待确认 message."""

    ticket: int
    decision: Literal["确认", "不予受理"]
    mail: FetchedMail | None = None  # confirmed: what was taken in
    outbox: DrainResult | None = None
    waiting: list[OutboxMail] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outbox is None or self.outbox.ok


def _find(master: Master, ticket: int) -> HeldGroup:
    for group in held_groups(master):
        if group.result is MailResult.PENDING and group.first.ticket == ticket:
            return group
    decided = [r for r in master.mail_log if r.ticket == ticket]
    if decided:
        raise UsageError(f"编号 {ticket} 的邮件已处理过（{decided[-1].result}），不是待确认邮件。",
                         field=Field.MESSAGE, value=ticket)
    raise UsageError(f"没有编号为 {ticket} 的待确认邮件。", field=Field.MESSAGE, value=ticket)


def _open_pending(store: MasterStore, ticket: int) -> tuple[Master, Journal, HeldGroup, Workspace]:
    """The master (with what a dead run left in the journal) and the 待确认 message ``ticket``."""
    master = store.load()
    journal = Journal(store)
    journal.recover(master)
    return master, journal, _find(master, ticket), Workspace(store.folder, master.settings)


def confirm_mail(master_store: MasterStore | Path | str, ticket: int, *, reply: bool = True,
                 progress: Progress | None = None) -> DecisionResult:
    """Process the 待确认 message ``ticket`` as if a registered contact had sent it: save and
    check its workbooks, compose its 回执 and (``reply``) send the outbox. Merging follows as
    for any received file (``fetch --merge`` or ``merge``)."""
    say = progress or _quiet
    # the ledger rows of the mailed returns' projects are what it reads, as a merge
    store = open_store(master_store, ledger_on_demand=True)
    with store.session():
        master, journal, group, workspace = _open_pending(store, ticket)
        config = MailConfig.from_settings(master.settings)
        outbox = Outbox(master, workspace, journal)
        path = workspace.inbox / (group.first.saved_as or "")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise MailError(f"编号 {ticket} 的原邮件文件“{path}”不见了，无法处理。"
                            "请从邮箱中找到这封邮件，转发给本邮箱后重新收取。") from exc
        intake = Intake(master, config, None, outbox)
        try:
            mail = intake.take(read_message(raw), group.first.time, "confirmed", ticket)
        finally:
            shutil.rmtree(intake.staging, ignore_errors=True)
        result = DecisionResult(ticket, "确认", mail)
        if reply and intake.can_answer:
            result.outbox = outbox.drain(config, password_for(config.account), say)
            _replies([mail], result.outbox)
        result.waiting = [OutboxMail.of(e) for e in master.outbox]
        store.save(master)
        journal.clear()
        with contextlib.suppress(OSError):
            path.unlink()
        return result


def decline_mail(master_store: MasterStore | Path | str, ticket: int,
                 reason: str | None = None) -> DecisionResult:
    """Decline the 待确认 message ``ticket``: recorded as 不予受理, never processed or answered;
    the message is kept in 收件目录/待确认/不予受理."""
    store = open_store(master_store)
    with store.session():
        master, journal, group, workspace = _open_pending(store, ticket)
        source = workspace.inbox / (group.first.saved_as or "")
        target = workspace.mail_pending / "不予受理" / source.name
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
        why = reason.strip() if reason and reason.strip() else "办公室决定不予受理"
        rows = [r.model_copy(update={"result": MailResult.DECLINED, "note": why,
                                     "processed_at": _now(),
                                     "saved_as": target.relative_to(workspace.inbox).as_posix()})
                for r in group.rows]
        journal.commit(master, rows)
        store.save(master)
        journal.clear()
        return DecisionResult(ticket, "不予受理")


# ---- zdxm mail status -------------------------------------------------------------------------

@dataclass(config=RESULT)
class MailStatus:
    """What mail waits: the outbox, the 待确认 messages, the 暂存 ones."""

    outbox: list[OutboxMail] = field(default_factory=list)
    pending: list[PendingMail] = field(default_factory=list)
    held: list[PendingMail] = field(default_factory=list)

    @property
    def failed(self) -> list[OutboxMail]:
        return [m for m in self.outbox if m.state is OutboxState.FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed


def mail_status(master_store: MasterStore | Path | str) -> MailStatus:
    """The outbox (failed first), 待确认 and 暂存 messages, as recorded (read only)."""
    store = open_store(master_store)
    master = store.load()
    Journal(store).recover(master)
    workspace = Workspace(store.folder, master.settings)
    groups = held_groups(master)
    outbox = sorted(master.outbox, key=lambda e: (e.state is not OutboxState.FAILED, e.created))
    return MailStatus([OutboxMail.of(e) for e in outbox],
                      [_pending(g, workspace) for g in groups if g.result is MailResult.PENDING],
                      [_pending(g, workspace) for g in groups if g.result is MailResult.HELD])
