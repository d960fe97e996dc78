"""Email against real servers on loopback: Dovecot (IMAP) and aiosmtpd (SMTP), both started
by these tests on free high ports of 127.0.0.1 and stopped at the end.

Dovecot runs from a config written in tmp_path with a passwd-file user and a maildir in
tmp_path. Run by an ordinary user, every Dovecot process runs as that user. Run as root (as
CI is), Dovecot refuses to serve mail or logins as root, so its login processes run as the
packaged ``dovenull`` user and the mail process as ``nobody``, chrooted into the maildir
folder (which therefore need not be reachable through tmp_path's private parents). Its
sockets live in a short temporary folder: a Unix socket path must stay under 108 bytes.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import grp
import imaplib
import io
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from checking_office import UNIT, build_master, checking_master
from conftest import DOVECOT, project, run_zdxm
from zdxm_xl.books import filebook
from zdxm_xl.books.masterio import FileStore, load_master, save_master
from zdxm_xl.checks import vetting
from zdxm_xl.checks.attachments import safe_file_name, unpack_zip
from zdxm_xl.checks.limits import ATTACHMENT
from zdxm_xl.checks.returns import check_file
from zdxm_xl.core.master import Master, MasterStore, MemoryStore
from zdxm_xl.core.models import AllowedSender, Unit
from zdxm_xl.core.results import to_json
from zdxm_xl.demo.fill import fill_form
from zdxm_xl.forms import make_forms
from zdxm_xl.mail import messages as mailparts
from zdxm_xl.mail import servers as mailservers
from zdxm_xl.mail.messages import read_message, workbook_candidates
from zdxm_xl.mail.servers import KEYRING_SERVICE, PASSWORD_ENV, mailbox_name, parse_internaldate
from zdxm_xl.mail.service import fetch_returns, journal_path, send_forms
from zdxm_xl.reports.forms import form_name

needs_servers = pytest.mark.dovecot
BEIJING = timezone(timedelta(hours=8))
ACCOUNT = "zdb@zdb.example.cn"
PASSWORD = "Mail-Pass-2022"
INFORMANT = "liming@jtj.example.cn"
LIAISON = "huanghai@jtj.example.cn"
GXJ = "gxj@gxj.example.cn"
INDUSTRY = "市工业和信息化局"
WAIT = 15.0  # seconds: the longest any test waits for a server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- the servers --------------------------------------------------------------------------

@dataclass
class ImapBox:
    port: int
    user: str = ACCOUNT
    password: str = PASSWORD
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Kill Dovecot and every process of it, connections included (a server that goes
        away in the middle of a run)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=WAIT)

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=WAIT)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, when: datetime, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            kind, data = conn.append(folder, None, imaplib.Time2Internaldate(when), raw)
            assert kind == "OK", data
        finally:
            conn.logout()

    def count(self, folder: str = "INBOX") -> int:
        conn = self.client()
        try:
            kind, data = conn.select(mailbox_name(folder.replace("/", ".")), readonly=True)
            return int(data[0]) if kind == "OK" else -1
        finally:
            conn.logout()


def _dovecot_config(root: Path, sockets: Path, port: int) -> str:
    mail = root / "mail"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("dovenull")
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("Dovecot 以 root 运行时需要 dovenull、nobody 用户（由 Debian 软件包创建）")
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        users = f"""default_login_user = dovenull
default_internal_user = root
default_internal_group = root
mail_uid = nobody
mail_gid = {grp.getgrgid(nobody.pw_gid).gr_name}
mail_chroot = {mail}
valid_chroot_dirs = {mail}
mail_location = maildir:/%u
"""
        chroots = ""
    else:
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        users = f"""default_login_user = {me}
default_internal_user = {me}
default_internal_group = {group}
mail_uid = {me}
mail_gid = {group}
mail_location = maildir:{mail}/%u
"""
        chroots = "service anvil {\n  chroot =\n}\n"
    return f"""base_dir = {sockets}
state_dir = {root / "state"}
log_path = {root / "dovecot.log"}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
{users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root / "passwd"}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root / "passwd"}
}}
{chroots}service imap-login {{
{"  chroot =" if os.geteuid() != 0 else ""}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture
def imap_box(tmp_path: Path) -> Iterator[ImapBox]:
    assert DOVECOT is not None
    root = tmp_path / "dovecot"
    for name in ("state", "mail"):
        (root / name).mkdir(parents=True)
    (root / "passwd").write_text(f"{ACCOUNT}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    sockets = Path(tempfile.mkdtemp(prefix="dv"))
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, sockets, port), encoding="utf-8")
    output = open(root / "stdout.txt", "wb")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=output,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text(errors="replace") if (
                    root / "dovecot.log").exists() else ""
                pytest.fail(f"Dovecot 启动失败：{(root / 'stdout.txt').read_text()}{log}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", port), timeout=1) as probe:
                probe.settimeout(2)
                if probe.recv(100).startswith(b"* OK"):
                    break
            if time.monotonic() > deadline:
                pytest.fail("Dovecot 未在时限内就绪")
            time.sleep(0.1)
        yield ImapBox(port, process=process)
    finally:
        # Dovecot's own shutdown takes a second; its state lives in tmp_path, so end it at
        # once, with every process it started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)
        output.close()
        shutil.rmtree(sockets, ignore_errors=True)


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpBox:
    port: int
    messages: list[Captured] = field(default_factory=list)
    refuse: str | None = None  # the answer to DATA instead of 250 (a server in trouble)
    on_rcpt: Callable[[int], None] | None = None  # told the number of each RCPT
    rcpts: int = 0
    controller: Any = None

    def start(self) -> SmtpBox:
        from aiosmtpd.controller import Controller

        self.controller = Controller(_Capture(self), hostname="127.0.0.1", port=self.port,
                                     ready_timeout=WAIT)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def replies_to(self, message_id: str) -> list[Captured]:
        return [m for m in self.messages if m.message["In-Reply-To"] == message_id]


class _Capture:
    def __init__(self, box: SmtpBox) -> None:
        self.box = box

    async def handle_RCPT(self, server: object, session: object, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.box.rcpts += 1
        if self.box.on_rcpt is not None:
            self.box.on_rcpt(self.box.rcpts)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        if self.box.refuse:
            return self.box.refuse
        self.box.messages.append(Captured(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_box() -> Iterator[SmtpBox]:
    box = SmtpBox(free_port()).start()
    try:
        yield box
    finally:
        box.stop()


# ---- the office ---------------------------------------------------------------------------

def _with_mail(master: Master, imap_port: int, smtp_port: int, **settings: object) -> Master:
    """``master`` (test_checking's) plus 市教育局, which has no email, and the mailbox
    settings."""
    master.projects.append(project(6, "续建", "民生保障", "3000", "500", ("市教育局",),
                                   prior_completed=Decimal("100")))
    master.units.append(Unit(name="市教育局", informant_name="周红"))
    transport = master.unit(UNIT)
    assert transport is not None
    transport.informant_email, transport.liaison_email = INFORMANT, LIAISON
    industry = master.unit(INDUSTRY)
    assert industry is not None
    industry.informant_name, industry.informant_email = "陈静", GXJ
    values: dict[str, object] = dict(
        city="柳州市", mail_imap_host="127.0.0.1", mail_imap_port=imap_port,
        mail_imap_security="无", mail_smtp_host="127.0.0.1", mail_smtp_port=smtp_port,
        mail_smtp_security="无", mail_account=ACCOUNT, mail_sender_name="柳州市重点办",
        mail_contact="王五 0772-2801234")
    values.update(settings)
    for name, value in values.items():
        setattr(master.settings, name, value)
    return master


def mail_master(tmp_path: Path, imap_port: int = 1, smtp_port: int = 1, **settings: object) -> Path:
    """test_checking's master (市交通运输局 with a February ledger, 市工业和信息化局) plus
    市教育局, which has no email, and the mailbox settings: the master workbook, for the
    command line and the workbook itself."""
    path = build_master(tmp_path / "台账.xlsx")
    save_master(_with_mail(load_master(path), imap_port, smtp_port, **settings), path)
    return path


def mail_store(tmp_path: Path, imap_port: int = 1, smtp_port: int = 1,
               **settings: object) -> MemoryStore:
    """The same master kept in memory, its workspace folders in ``tmp_path``."""
    return MemoryStore(_with_mail(checking_master(), imap_port, smtp_port, **settings), tmp_path)


@pytest.fixture
def office(tmp_path: Path, imap_box: ImapBox, smtp_box: SmtpBox,
           monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ImapBox, SmtpBox]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return mail_master(tmp_path, imap_box.port, smtp_box.port), imap_box, smtp_box


@pytest.fixture
def office_store(tmp_path: Path, imap_box: ImapBox, smtp_box: SmtpBox,
                 monkeypatch: pytest.MonkeyPatch) -> tuple[MemoryStore, ImapBox, SmtpBox]:
    """The office with its master in memory (the operations themselves, not the command)."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return mail_store(tmp_path, imap_box.port, smtp_box.port), imap_box, smtp_box


def returned(master: MasterStore | Path, tmp_path: Path, unit: str, seed: int, period: str = "2022-03",
             mistakes: tuple[str, ...] = ()) -> Path:
    """A unit's template for ``period`` (March by default), filled in plausibly."""
    folder = tmp_path / "下发" / period
    if not (folder / form_name(period, unit)).exists():
        make_forms(master, period, folder, issued=datetime(2022, 3, 25, 9, 0))
    safe = unit.replace("/", "_")
    return fill_form(folder / form_name(period, unit),
                     tmp_path / "填好" / f"{safe}{period}{seed}{''.join(mistakes)}.xlsx",
                     seed=seed, mistakes=mistakes).path


def message(sender: str, subject: str, files: list[tuple[str, bytes]] | None = None,
            message_id: str | None = None, body: str = "见附件。") -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ACCOUNT
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or email.utils.make_msgid(domain="unit.example.cn")
    mail.set_content(body)
    for name, data in files or []:
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" \
            if name.endswith(".xlsx") else "application/octet-stream"
        main, sub = kind.split("/")
        mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return mail.as_bytes()


def allow(master: MasterStore | Path, address: str, *units: str) -> None:
    """Put ``address`` on the office's 允许发件人 list (for ``units``, or all), in the master
    workbook or the store."""
    book = load_master(master) if isinstance(master, Path) else master.load()
    book.settings.mail_allowed.append(AllowedSender(address=address, units=list(units)))
    if isinstance(master, Path):
        save_master(book, master)
    else:
        master.save(book)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 4, day, hour, minute, tzinfo=BEIJING)


# ---- sending ------------------------------------------------------------------------------

@needs_servers
def test_send_templates_on_the_command_line(office) -> None:
    master, _imap, smtp = office
    result = run_zdxm("mail", "send-templates", master, "--period", "2022-03")
    assert result.code == 1, result.stderr  # 市教育局 has no email: reported, not a crash
    assert "未发送 市教育局" in result.stdout
    assert "已发送 市交通运输局" in result.stdout and "已发送 市工业和信息化局" in result.stdout
    assert len(smtp.messages) == 2
    assert [r.unit for r in load_master(master).mail_log] == [UNIT, INDUSTRY]


@needs_servers
def test_send_templates_delivers_one_message_per_unit(office_store, tmp_path: Path) -> None:
    store, _imap, smtp = office_store
    result = send_forms(store, "2022-03")
    assert not result.ok  # 市教育局 has no email: reported, not a crash
    assert list(result.no_address) == ["市教育局"]
    assert len(smtp.messages) == 2
    by_to = {m.message["To"]: m for m in smtp.messages}
    assert set(by_to) == {INFORMANT, GXJ}
    transport = by_to[INFORMANT]
    assert transport.message["Cc"] == LIAISON
    assert sorted(transport.rcpt_tos) == sorted([INFORMANT, LIAISON])
    assert by_to[GXJ].message["Cc"] is None and by_to[GXJ].rcpt_tos == [GXJ]
    assert transport.mail_from == ACCOUNT
    subject = transport.message["Subject"]
    assert UNIT in subject and "2022-03" in subject and "2022年4月5日" in subject
    body = transport.message.get_body(("plain",)).get_content()
    assert "李明同志" in body and "2022年4月5日前" in body and "王五 0772-2801234" in body
    folder = tmp_path / "输出" / "模板" / "2022-03"
    for captured, unit in ((transport, UNIT), (by_to[GXJ], INDUSTRY)):
        (attachment,) = list(captured.message.iter_attachments())
        assert attachment.get_filename() == form_name("2022-03", unit)
        assert attachment.get_content_type() == mailparts.XLSX_TYPE
        assert attachment.get_content() == (folder / form_name("2022-03", unit)).read_bytes()
    # the Chinese name both ways: RFC 2231 for today's clients, RFC 2047 for older ones
    assert b"filename*0*=UTF-8''2022-03_" in transport.content
    assert b'name="=?UTF-8?B?' in transport.content
    # the attached template is a real one: filled in, it passes checking
    attached = tmp_path / "附件.xlsx"
    attached.write_bytes(list(transport.message.iter_attachments())[0].get_content())
    filled = fill_form(attached, tmp_path / "填好.xlsx", seed=1).path
    report = check_file(store.load(), filled, "2022-03")
    assert (report.valid, report.unit) == (True, UNIT)
    log = store.master.mail_log
    assert [(r.direction, r.unit, r.result, r.address, r.cc) for r in log] == [
        ("发送", UNIT, "已发送", INFORMANT, LIAISON), ("发送", INDUSTRY, "已发送", GXJ, None)]
    assert {r.message_id for r in log} == {m.message["Message-ID"] for m in smtp.messages}
    assert not journal_path(store).exists()


@needs_servers
def test_dry_run_on_the_command_line_prints_what_the_library_returns(office) -> None:
    master, _imap, smtp = office
    result = run_zdxm("mail", "send-templates", master, "--period", "2022-03", "--dry-run",
                      "--json")
    assert result.code == 1
    data = json.loads(result.stdout)
    library = to_json(send_forms(master, "2022-03", dry_run=True))
    for mail in (*data["mails"], *library["mails"]):
        mail.pop("message_id")
    assert data == library
    assert data["no_address"] == {"市教育局": ["信息员、联络员都没有登记邮箱"]}
    assert smtp.messages == []
    assert load_master(master).mail_log == []


@needs_servers
def test_dry_run_writes_eml_files_and_sends_nothing(office_store, tmp_path: Path) -> None:
    store, _imap, smtp = office_store
    before = deepcopy(store.master)
    result = send_forms(store, "2022-03", dry_run=True)
    assert not result.ok
    assert result.no_address == {"市教育局": ["信息员、联络员都没有登记邮箱"]}
    assert smtp.messages == []
    assert store.saves == 0 and store.master == before and store.master.mail_log == []
    emls = sorted((tmp_path / "输出" / "邮件预览" / "2022-03").glob("*.eml"))
    assert len(emls) == 2
    parsed = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == emls[0].stem + ".xlsx"


@needs_servers
def test_one_unit_only(office) -> None:
    master, _imap, smtp = office
    result = run_zdxm("mail", "send-templates", master, "--period", "2022-03", "--unit", INDUSTRY)
    assert result.code == 0, result.stdout + result.stderr
    assert [m.rcpt_tos for m in smtp.messages] == [[GXJ]]
    assert run_zdxm("mail", "send-templates", master, "--period", "2022-03",
                    "--unit", "不存在的单位").code == 2


# ---- fetching -----------------------------------------------------------------------------

def _two_returns(master: MasterStore | Path, tmp_path: Path, imap: ImapBox) -> Path:
    """市交通运输局's March return on time and 市工业和信息化局's late, in the mailbox; the
    first returned."""
    transport = returned(master, tmp_path, UNIT, seed=1)
    industry = returned(master, tmp_path, INDUSTRY, seed=1)
    # 23:30 on the 截止日 is on time; 00:10 the next day is late (in UTC both are the 5th)
    imap.append(message(INFORMANT, "回复：3月月报", [(form_name("2022-03", UNIT),
                                                 transport.read_bytes())]), at(5, 23, 30))
    imap.append(message(GXJ, "工信局3月月报", [(form_name("2022-03", INDUSTRY),
                                            industry.read_bytes())]), at(6, 0, 10))
    return transport


@needs_servers
def test_fetch_on_the_command_line_prints_json_and_leaves_the_master_alone_when_nothing_is_new(
        office, tmp_path: Path) -> None:
    master, imap, smtp = office
    _two_returns(master, tmp_path, imap)
    result = run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge",
                      "--json")
    assert result.code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert [m["received"] for m in data["mails"]] == ["2022-04-05T23:30:00", "2022-04-06T00:10:00"]
    assert [[(f["result"], f["unit"], f["valid"]) for f in m["files"]] for m in data["mails"]] == [
        [("已保存", UNIT, True)], [("已保存", INDUSTRY, True)]]
    assert [m["reply"] for m in data["mails"]] == ["已回复", "已回复"]
    assert len(data["merge"]["merged"]) == 2
    assert {e.unit for e in load_master(master).ledger if e.period == "2022-03"} == {UNIT, INDUSTRY}
    # again: nothing new, nothing answered twice, the master's bytes untouched
    before = master.read_bytes()
    again = run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge",
                     "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["mails"] == [] and json.loads(again.stdout)["already"] == 2
    assert len(smtp.messages) == 2 and master.read_bytes() == before


@needs_servers
def test_a_fetch_that_finds_no_mail_does_without_openpyxl(office) -> None:
    """A scheduled fetch mostly finds nothing new: it composes no 回执 and makes no
    annotated copy, so it does not import openpyxl, which only lays those copies out (some
    0.3 s of every run)."""
    master, _imap, _smtp = office
    script = ("import sys\nfrom zdxm_xl.__main__ import main\ncode = main(sys.argv[1:])\n"
              "print(code, 'openpyxl' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script, "mail", "fetch", str(master),
                           "--reply", "--merge"], capture_output=True, text=True,
                          encoding="utf-8", check=True)
    assert done.stdout.splitlines()[-1] == "0 False", done.stdout + done.stderr


@needs_servers
def test_fetch_reads_the_ledger_by_its_keys_as_a_merge_does(office, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Taking returns in needs the ledger rows of their projects only: the fetch reads the
    rows' keys with the master (the rest when first needed), as ``zdxm merge`` does, and
    leaves the ledger a whole reading would."""
    master, imap, _smtp = office
    _two_returns(master, tmp_path, imap)
    keyed: list[bool] = []
    real = filebook._read_keys

    def spied(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        keyed.append(found is not None)
        return found

    monkeypatch.setattr(filebook, "_read_keys", spied)
    result = run_zdxm("mail", "fetch", master, "--period", "2022-03", "--merge")
    assert result.code == 0, result.stdout + result.stderr
    assert keyed and all(keyed)
    before, book = checking_master(), load_master(master)
    assert book.ledger[:len(before.ledger)] == before.ledger  # February's rows, as they were
    assert {(e.period, e.unit) for e in book.ledger[len(before.ledger):]} == {
        ("2022-03", UNIT), ("2022-03", INDUSTRY)}


@needs_servers
def test_fetch_saves_takes_received_time_replies_merges_and_dedupes(office_store,
                                                                     tmp_path: Path) -> None:
    store, imap, smtp = office_store
    transport = _two_returns(store, tmp_path, imap)
    result = fetch_returns(store, "2022-03", reply=True, merge=True)
    assert result.ok and result.failure is None, result
    assert [m.received for m in result.mails] == [datetime(2022, 4, 5, 23, 30),
                                                  datetime(2022, 4, 6, 0, 10)]
    assert [[(f.result, f.unit, f.valid) for f in m.files] for m in result.mails] == [
        [("已保存", UNIT, True)], [("已保存", INDUSTRY, True)]]
    assert [m.reply for m in result.mails] == ["已回复", "已回复"]
    saved = tmp_path / "收件" / "2022-03" / form_name("2022-03", UNIT)
    assert saved.read_bytes() == transport.read_bytes()
    assert result.merge is not None and len(result.merge.merged) == 2
    book = store.master
    assert {(s.unit, s.on_time, s.result) for s in book.submissions} == {
        (UNIT, "是", "已合并"), (INDUSTRY, "否", "已合并")}
    assert {e.unit for e in book.ledger if e.period == "2022-03"} == {UNIT, INDUSTRY}
    received = [r for r in book.mail_log if r.direction == "接收"]
    assert [(r.address, r.result, r.time) for r in received] == [
        (INFORMANT, "已保存", datetime(2022, 4, 5, 23, 30)),
        (GXJ, "已保存", datetime(2022, 4, 6, 0, 10))]
    assert received[0].saved_as == f"2022-03/{form_name('2022-03', UNIT)}"
    # the answers: to each sender, in the thread, with the annotated copy
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted([INFORMANT, GXJ])
    answer = next(m for m in smtp.messages if m.rcpt_tos == [INFORMANT]).message
    assert answer["In-Reply-To"] == received[0].message_id
    assert answer["Auto-Submitted"] == "auto-replied"
    assert "校验通过" in answer.get_body(("plain",)).get_content()
    (copy,) = list(answer.iter_attachments())
    assert copy.get_filename().endswith("_校验结果.xlsx")
    book_copy = openpyxl.load_workbook(io.BytesIO(copy.get_content()))
    assert book_copy.sheetnames[0] == "校验结果"
    # the copy is kept where the 校验报表 button and zdxm demo keep theirs (one Workspace)
    kept = tmp_path / "输出" / "校验结果" / "2022-03" / copy.get_filename()
    assert kept.read_bytes() == copy.get_content()
    # and the 回执 kept beside each copy says what the mail does: 逾期 past the 截止日, and
    # whom to ask
    receipts = {unit: (kept.parent / f"{Path(form_name('2022-03', unit)).stem}_回执.txt")
                .read_text(encoding="utf-8") for unit in (UNIT, INDUSTRY)}
    assert "已于 2022年4月6日 00:10 收到" in receipts[INDUSTRY]
    assert "本期报送截止日为2022年4月5日，本次报送晚于截止日，按逾期报送统计" in receipts[INDUSTRY]
    assert "逾期" not in receipts[UNIT]
    assert all("如有疑问，请联系：" in text for text in receipts.values())

    # again: nothing new, nothing answered twice, the master untouched
    before, saves = deepcopy(store.master), store.saves
    again = fetch_returns(store, "2022-03", reply=True, merge=True)
    assert again.ok and again.failure is None, again
    assert again.mails == [] and again.already == 2
    assert len(smtp.messages) == 2 and store.saves == saves and store.master == before

    # the same file in a new message: a duplicate, not saved again
    imap.append(message(LIAISON, "重发", [("再发一次.xlsx", transport.read_bytes())]), at(7, 9))
    third = fetch_returns(store, "2022-03", reply=True)
    assert [(f.result, f.saved) for f in third.files] == [("重复", None)]
    assert not (tmp_path / "收件" / "2022-03" / "再发一次.xlsx").exists()
    assert "内容相同" in smtp.messages[-1].message.get_body(("plain",)).get_content()


@needs_servers
def test_fetch_with_merge_vets_each_workbook_once(office_store, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Merging reuses the vetting and reading done when the mail was taken in; a file an
    earlier run saved is vetted once, by the merge."""
    store, imap, _smtp = office_store
    earlier = returned(store, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "3月月报", [("交通.xlsx", earlier.read_bytes())]), at(4, 9))
    assert fetch_returns(store, "2022-03").ok
    now = returned(store, tmp_path, INDUSTRY, seed=1)
    imap.append(message(GXJ, "3月月报", [("工信.xlsx", now.read_bytes())]), at(4, 10))
    monkeypatch.setenv("ZDXM_READERS", "0")  # every file vetted in this process, to be counted
    names = {earlier.read_bytes(): "交通", now.read_bytes(): "工信"}
    vetted: list[str] = []
    real = vetting.vet_workbook

    def counting(path: Path, *args: Any, **kwargs: Any) -> Any:
        vetted.append(names.get(Path(path).read_bytes(), str(path)))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(vetting, "vet_workbook", counting)
    result = fetch_returns(store, "2022-03", merge=True)
    assert result.ok and result.merge is not None and len(result.merge.merged) == 2, result
    assert sorted(vetted) == ["交通", "工信"]


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _forwarded(inner: bytes) -> bytes:
    mail = EmailMessage()
    mail["From"] = "秘书 <mishu@jtj.example.cn>"
    mail["To"] = ACCOUNT
    mail["Subject"] = "转发：3月月报"
    mail["Message-ID"] = "<fwd-1@jtj.example.cn>"
    mail.set_content("请查收转发的月报。")
    inner_message = email.message_from_bytes(inner, policy=email.policy.default)
    mail.add_attachment(inner_message)
    return mail.as_bytes()


BROKEN_MIME = (b"From: x@broken.example.cn\r\nTo: zdb@zdb.example.cn\r\nSubject: broken\r\n"
               b"Message-ID: <broken-1@broken.example.cn>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\n"
               b"Content-Type: application/vnd.ms-excel; name=\"a.xlsx\"\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@\r\n--XX\r\n"
               b"Content-Type: text/plain\r\n\r\nno closing boundary\r\n")
NO_MESSAGE_ID = (b"From: nomid@unit.example.cn\r\nTo: zdb@zdb.example.cn\r\nSubject: no id\r\n"
                 b"\r\nhello\r\n")


@needs_servers
def test_fetch_on_the_command_line_exits_1_when_an_attachment_is_refused(office) -> None:
    master, imap, _smtp = office
    imap.append(message(INFORMANT, "月报", [("月报.xlsx", b"MZ\x90\0" + b"\0" * 500)]), at(3, 9))
    result = run_zdxm("mail", "fetch", master, "--reply", "--json")
    assert result.code == 1, result.stderr
    (mail,) = json.loads(result.stdout)["mails"]
    assert [(f["result"], f["unit"]) for f in mail["files"]] == [("已拒收", None)]
    assert "Windows 程序" in mail["files"][0]["reason"]


@needs_servers
def test_odd_and_hostile_mail_is_handled_without_crashing(office_store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store, imap, smtp = office_store
    allow(store, "office@qxj.example.cn")  # a 县区重点办 that forwards for every unit
    monkeypatch.setattr(mailparts, "MAX_ATTACHMENT", 256 * 1024)  # keeps "huge" small
    transport = returned(store, tmp_path, UNIT, seed=1)
    industry = returned(store, tmp_path, INDUSTRY, seed=1)
    forwarded = returned(store, tmp_path, INDUSTRY, seed=3)
    corrected = returned(store, tmp_path, UNIT, seed=2)
    bomb = _zip({"月报.xlsx": b"\0" * (5 * 2**20)})
    cases = {
        "no attachment, registered": message(INFORMANT, "忘了附件"),
        "no attachment, stranger": message("spam@ads.example.com", "推广"),
        "pdf only": message("someone@unit.example.cn", "通知", [("通知.pdf", b"%PDF-1.4 ...")]),
        "program as xlsx": message(INFORMANT, "月报", [("月报.xlsx", b"MZ\x90\0" + b"\0" * 500)]),
        "huge": message(INFORMANT, "大文件", [("大.xlsx", b"PK\x03\x04" + os.urandom(300 * 1024))]),
        "zip bomb": message(INFORMANT, "压缩包", [("月报.zip", bomb)]),
        "zip of two": message("office@qxj.example.cn", "两个单位的月报", [("月报.zip", _zip({
            "交通.xlsx": transport.read_bytes(), "工信.xlsx": industry.read_bytes(),
            "说明.txt": b"hello"}))]),
        "forwarded": _forwarded(message(GXJ, "工信局月报",
                                        [(form_name("2022-03", INDUSTRY), forwarded.read_bytes())])),
        "several": message(LIAISON, "月报和照片", [("照片.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 100),
                                              ("说明.docx", b"PK\x03\x04junk"),
                                              ("交通三月.xlsx", corrected.read_bytes())]),
        "broken": BROKEN_MIME,
        "no message id": NO_MESSAGE_ID,
        "auto reply": message(INFORMANT, "自动回复：外出", message_id="<auto@jtj.example.cn>")
        .replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1),
    }
    for number, raw in enumerate(cases.values()):
        imap.append(raw, at(3, 9, number))
    result = fetch_returns(store, reply=True)
    assert result.failure is None and not result.ok  # some attachments were refused
    outcome = {name: [(f.result, f.unit) for f in mail.files]
               for name, mail in zip(cases, result.mails, strict=True)}
    assert outcome == {
        "no attachment, registered": [],
        "no attachment, stranger": [],
        "pdf only": [("已忽略", None)],
        "program as xlsx": [("已拒收", None)],
        "huge": [("已拒收", None)],
        "zip bomb": [("已拒收", None)],
        "zip of two": [("已保存", UNIT), ("已保存", INDUSTRY), ("已忽略", None)],
        "forwarded": [("待确认", INDUSTRY)],  # forwarded by an unregistered secretary
        "several": [("已忽略", None), ("已忽略", None), ("已保存", UNIT)],
        "broken": [("待确认", None)],  # a stranger's (broken) workbook: held, not refused
        "no message id": [],
        "auto reply": [],
    }
    mails = dict(zip(cases, result.mails, strict=True))
    assert "Windows 程序" in mails["program as xlsx"].files[0].reason
    assert "过大" in mails["huge"].files[0].reason
    assert mails["forwarded"].state == "待确认" and mails["forwarded"].ticket == 1
    assert "mishu@jtj.example.cn 不是任何单位登记的邮箱" in mails["forwarded"].reason
    answered = {m.rcpt_tos[0] for m in smtp.messages}
    assert INFORMANT in answered and "office@qxj.example.cn" in answered
    assert not answered & {"spam@ads.example.com", "someone@unit.example.cn",
                           "mishu@jtj.example.cn", "x@broken.example.cn"}
    assert mails["auto reply"].reply is None and mails["no attachment, stranger"].reply is None
    no_attachment = next(m for m in smtp.messages if m.message["In-Reply-To"]
                         == mails["no attachment, registered"].message_id)
    assert "没有找到 Excel 填报文件" in no_attachment.message.get_body(("plain",)).get_content()
    saved = sorted(p.name for p in (tmp_path / "收件" / "2022-03").glob("*.xlsx"))
    assert saved == sorted(["交通.xlsx", "工信.xlsx", "交通三月.xlsx"])
    assert not (tmp_path / "收件" / "未识别").exists()
    # and again: every message, odd or not, was processed exactly once
    replies = len(smtp.messages)
    again = fetch_returns(store, reply=True)
    assert again.mails == [] and again.already == len(cases)
    assert len(smtp.messages) == replies


def a_return_and_a_stranger(master: MasterStore | Path, tmp_path: Path, imap: ImapBox) -> None:
    """In the mailbox: 市交通运输局's March return (as a.xlsx), then a mail from a stranger."""
    transport = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "月报", [("a.xlsx", transport.read_bytes())]), at(2, 9))
    imap.append(message("x@unit.example.cn", "无关"), at(2, 10))


@pytest.fixture
def moving(imap_box: ImapBox, smtp_box: SmtpBox, monkeypatch: pytest.MonkeyPatch
           ) -> dict[str, Any]:
    """The mailbox settings of an office that moves processed mail to 已处理/月报."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return {"imap_port": imap_box.port, "smtp_port": smtp_box.port,
            "mail_done_folder": "已处理/月报"}


@needs_servers
def test_fetch_on_the_command_line_says_what_it_did(tmp_path: Path, imap_box: ImapBox,
                                                    moving: dict[str, Any]) -> None:
    master = mail_master(tmp_path, **moving)
    a_return_and_a_stranger(master, tmp_path, imap_box)
    shown = run_zdxm("mail", "fetch", master)
    assert shown.code == 0, shown.stderr
    assert f"已保存 a.xlsx（{UNIT} 2022-03）通过" in shown.stdout
    assert "新邮件 2 封：保存附件 1 个（通过 1 个），重复 0 个，拒收 0 个；此前已处理 0 封。" in shown.stdout


@needs_servers
def test_processed_mail_is_moved_never_deleted(tmp_path: Path, imap_box: ImapBox,
                                               moving: dict[str, Any]) -> None:
    store = mail_store(tmp_path, **moving)
    a_return_and_a_stranger(store, tmp_path, imap_box)
    shown = fetch_returns(store)
    assert shown.ok and shown.failure is None, shown
    assert [(f.saved.name if f.saved else None, f.result, f.unit, f.period, f.valid)
            for f in shown.files] == [("a.xlsx", "已保存", UNIT, "2022-03", True)]
    assert (len(shown.mails), shown.already, shown.moved) == (2, 0, 2)
    assert (imap_box.count("INBOX"), imap_box.count("已处理/月报")) == (0, 2)
    imap_box.append(message("y@unit.example.cn", "又一封"), at(2, 11))
    result = fetch_returns(store)
    assert (len(result.mails), result.moved, result.notes) == (1, 1, [])
    assert (imap_box.count("INBOX"), imap_box.count("已处理/月报")) == (0, 3)


@needs_servers
def test_a_run_that_dies_before_saving_loses_nothing(office, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    master, imap, smtp = office
    transport = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "月报", [("a.xlsx", transport.read_bytes())]), at(4, 9))
    before = master.read_bytes()

    def disk_full(self: FileStore, book: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(FileStore, "save", disk_full)
        assert run_zdxm("mail", "fetch", master, "--reply").code == 2
    assert master.read_bytes() == before and journal_path(FileStore(master)).exists()
    assert len(smtp.messages) == 1
    result = fetch_returns(master, reply=True)
    assert result.mails == [] and result.already == 1
    assert result.notes == ["已补记上次中断时的 2 条邮件记录"]
    assert [(r.direction, r.result) for r in load_master(master).mail_log] == [
        ("接收", "已保存"), ("回复", "已回复")]
    assert len(smtp.messages) == 1 and not journal_path(FileStore(master)).exists()


# ---- the password -------------------------------------------------------------------------

@pytest.fixture
def keyring_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], str]]:
    """A keyring backend in memory (a test machine has no desktop keyring)."""
    import keyring
    from keyring.backend import KeyringBackend

    saved: dict[tuple[str, str], str] = {}

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return saved.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            saved[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            saved.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    # an office's real keyring is the system's; this test one stands in for it
    monkeypatch.setattr(mailservers, "TRUSTED_KEYRINGS", (*mailservers.TRUSTED_KEYRINGS, __name__))
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    yield saved
    keyring.set_keyring(previous)


@needs_servers
@pytest.mark.slow
def test_login_keeps_the_password_in_the_keyring_not_the_workbook(
        tmp_path: Path, imap_box: ImapBox, smtp_box: SmtpBox, keyring_memory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    master = mail_master(tmp_path, imap_box.port, smtp_box.port)
    monkeypatch.setattr(sys, "stdin", io.StringIO("wrong-password\n"))
    refused = run_zdxm("mail", "login", master, "--password-stdin")
    assert refused.code == 2 and "登录" in refused.stderr and keyring_memory == {}
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    accepted = run_zdxm("mail", "login", master, "--password-stdin")
    assert accepted.code == 0, accepted.stderr
    assert keyring_memory == {(KEYRING_SERVICE, ACCOUNT): PASSWORD}
    with zipfile.ZipFile(master) as book:
        assert not any(PASSWORD.encode() in book.read(n) for n in book.namelist())
    # fetching now needs nothing but the keyring
    assert fetch_returns(master).mails == []


@needs_servers
def test_no_password_is_a_clear_message(tmp_path: Path, imap_box: ImapBox, smtp_box: SmtpBox,
                                        keyring_memory) -> None:
    master = mail_master(tmp_path, imap_box.port, smtp_box.port)
    result = run_zdxm("mail", "fetch", master)
    assert result.code == 2 and "zdxm mail login" in result.stderr


def test_plaintext_to_another_computer_is_refused(tmp_path: Path) -> None:
    master = mail_master(tmp_path, mail_imap_host="imap.example.gov.cn")
    result = run_zdxm("mail", "fetch", master)
    assert result.code == 2 and "只允许连接本机" in result.stderr


def test_unreachable_server_is_one_chinese_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    master = mail_master(tmp_path, free_port(), free_port())
    result = run_zdxm("mail", "fetch", master)
    assert result.code == 2 and "无法连接收件服务器 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


# ---- pieces, without servers ----------------------------------------------------------------

def test_internaldate_and_folder_names() -> None:
    assert parse_internaldate("05-Apr-2022 15:30:00 +0000") == datetime(
        2022, 4, 5, 15, 30, tzinfo=timezone.utc)
    assert parse_internaldate(" 5-Apr-2022 23:30:00 +0800") == at(5, 23, 30)
    assert parse_internaldate("garbage") is None
    assert mailbox_name("INBOX") == '"INBOX"'
    assert mailbox_name("~peter/mail/台北/日本語") == '"~peter/mail/&U,BTFw-/&ZeVnLIqe-"'  # RFC 3501
    assert mailbox_name('a "b" & c') == '"a \\"b\\" &- c"'


@pytest.mark.parametrize(("header", "expected"), [
    ("=?gb2312?B?" + base64.b64encode("3月喆报.xlsx".encode("gb18030")).decode()
     + "?=", "3月喆报.xlsx"),  # labelled GB2312, written in GBK (喆 is not in GB2312)
    ("=?utf-8?Q?=E6=9C=88=E6=8A=A5.xlsx?=", "月报.xlsx"),
])
def test_filenames_in_rfc2047_words_are_decoded(header: str, expected: str) -> None:
    raw = (b"From: a@b.cn\r\nMessage-ID: <x@b.cn>\r\nContent-Type: multipart/mixed; boundary=B\r\n"
           b"\r\n--B\r\nContent-Type: application/vnd.ms-excel; name=\"" + header.encode()
           + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.b64encode(_zip({"[Content_Types].xml": b"<x/>"})) + b"\r\n--B--\r\n")
    (candidate,), _notes = workbook_candidates(read_message(raw).message)
    assert (candidate.name, candidate.action) == (expected, "save")


def test_zip_members_named_in_gbk_and_hostile_zips() -> None:
    gbk = "月报.xlsx".encode("gb18030")
    archive = _zip({"XXXX.xlsx": _zip({"[Content_Types].xml": b"<x/>"})}).replace(b"XXXX.xlsx", gbk)
    (member,) = unpack_zip(mailparts.Candidate("a.zip", "zip", archive))
    assert (member.name, member.action) == ("a.zip/月报.xlsx", "save")
    bomb = _zip({"炸弹.xlsx": b"\0" * (8 * 2**20)})
    (refused,) = unpack_zip(mailparts.Candidate("b.zip", "zip", bomb))
    assert refused.action == "reject" and "压缩炸弹" in refused.reason
    many = _zip({f"{i}.xlsx": b"x" for i in range(ATTACHMENT.zip_entries + 1)})
    assert unpack_zip(mailparts.Candidate("c.zip", "zip", many))[0].action == "reject"
    broken = mailparts.Candidate("d.zip", "zip", b"PK\x03\x04 not really")
    assert unpack_zip(broken)[0].action == "reject"


def test_saved_names_are_safe() -> None:
    assert safe_file_name("../../etc/passwd.xlsx", ".xlsx") == "passwd.xlsx"
    assert safe_file_name("C:\\Windows\\月报.XLSX", ".xlsx") == "月报.xlsx"
    assert safe_file_name("CON.xlsx", ".xlsx") == "_CON.xlsx"
    assert safe_file_name("a\u202eslx.exe", ".xlsx") == "aslx.xlsx"  # no RTL override
    assert safe_file_name("", ".xls") == "附件.xls"
    assert len(safe_file_name("长" * 500 + ".xlsx", ".xlsx")) == 125


def test_a_master_from_before_mail_gets_the_sheet_when_saved(tmp_path: Path) -> None:
    path = mail_master(tmp_path)
    book = openpyxl.load_workbook(path)
    del book["邮件记录"]
    book.save(path)
    del book["发件箱"]
    book.save(path)
    old = load_master(path)
    assert old.mail_log == [] and old.outbox == []
    save_master(old, path)
    names = openpyxl.load_workbook(path).sheetnames
    assert names.index("邮件记录") == names.index("发件箱") - 1 < names.index("汇总")


def test_a_forwarded_message_sent_base64_encoded_is_opened() -> None:
    inner = message(GXJ, "月报", [("月报.xlsx", _zip({"[Content_Types].xml": b"<x/>"}))])
    raw = (b"From: fwd@unit.example.cn\r\nMessage-ID: <f@u.cn>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
           b"fw\r\n--B\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(inner) + b"\r\n--B--\r\n")
    (candidate,), notes = workbook_candidates(read_message(raw).message)
    assert (candidate.name, candidate.action, notes) == ("月报.xlsx", "save", [])
