"""Mail intake that is safe on a real mailbox: trusted senders only, exactly one receipt per
message, any client's encoding — against the real Dovecot and aiosmtpd that test_mail starts
on 127.0.0.1, as units and outsiders would write to the office."""

# ruff: noqa: F811  (the servers are test_mail's fixtures, imported by name for pytest)

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import coordinate_from_string

from checking_office import UNIT
from conftest import run_zdxm
from test_mail import (  # noqa: F401
    ACCOUNT,
    GXJ,
    INDUSTRY,
    INFORMANT,
    LIAISON,
    PASSWORD,
    ImapBox,
    SmtpBox,
    allow,
    at,
    imap_box,
    message,
    office,
    returned,
    smtp_box,
)
from zdxm_xl.books.masterio import FileStore, load_master, save_master
from zdxm_xl.checks.returns import check_file
from zdxm_xl.core.master import MemoryStore
from zdxm_xl.core.results import to_json
from zdxm_xl.forms import make_forms
from zdxm_xl.frontends.addin import handlers as addin
from zdxm_xl.mail import intake as mailintake
from zdxm_xl.mail.servers import PASSWORD_ENV
from zdxm_xl.mail.service import fetch_returns, journal_path, mail_status, pending_mail
from zdxm_xl.reports import annotated
from zdxm_xl.reports.forms import form_name

needs_servers = pytest.mark.dovecot
ROOT = Path(__file__).resolve().parents[1]


def in_memory(path: Path) -> MemoryStore:
    """The master built at ``path`` kept in memory instead, the file gone: the operation
    works on the store, with the workspace folders beside where the file was."""
    store = MemoryStore(load_master(path), path.parent, path.name)
    path.unlink()
    return store


@pytest.fixture
def office_in_memory(office) -> tuple[MemoryStore, ImapBox, SmtpBox]:
    """test_mail's office (its settings and real servers) with the master kept in memory."""
    master, imap, smtp = office
    return in_memory(master), imap, smtp


def received_rows(master: Path) -> list[tuple[str, str | None, str]]:
    return [(r.address or "", r.unit, r.result) for r in load_master(master).mail_log
            if r.direction == "接收"]


def body(captured: object) -> str:
    text = captured.message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


@dataclass
class AskingUi:
    """Excel's dialogs for the 待确认邮件 button: answers 是/否/取消 in turn."""

    answers: list[bool | None]
    asked: list[str] = field(default_factory=list)
    alerts: list[tuple[str, bool]] = field(default_factory=list)

    def alert(self, text: str, *, error: bool = False) -> None:
        self.alerts.append((text, error))

    def status(self, text: str | None) -> None:
        pass

    def choose_files(self, title: str) -> list[Path]:
        return []

    def ask(self, text: str) -> bool | None:
        self.asked.append(text)
        return self.answers.pop(0)


def ribbon(master: Path, ui: AskingUi | None = None) -> addin.Context:
    """A button press on ``master`` (through its file: the handlers take any store)."""
    return addin.Context(None, FileStore(master), ui or AskingUi([]))  # type: ignore[arg-type]


# ---- the sender policy ----------------------------------------------------------------------

@needs_servers
def test_a_strangers_valid_form_waits_and_is_never_merged_or_answered(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    own = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "3月月报", [(form_name("2022-03", UNIT), own.read_bytes())]),
                at(3, 9))
    assert run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge").code == 0
    ledger = load_master(master).ledger
    answered = len(smtp.messages)
    forged = returned(master, tmp_path, UNIT, seed=7)  # a valid form with other figures
    imap.append(message("attacker@evil.example", "市交通运输局3月月报（更正）",
                        [("更正.xlsx", forged.read_bytes())]), at(4, 9))
    result = run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge", "--json")
    assert result.code == 0, result.stdout + result.stderr
    (held,) = json.loads(result.stdout)["mails"]
    assert (held["state"], held["ticket"], held["reply"]) == ("待确认", 1, None)
    assert held["files"][0]["result"] == "待确认" and held["files"][0]["unit"] == UNIT
    assert "attacker@evil.example 不是任何单位登记的邮箱" in held["reason"]
    assert len(smtp.messages) == answered  # nobody was answered
    book = load_master(master)
    assert book.ledger == ledger and len(book.submissions) == 1  # nothing merged or replaced
    assert not (tmp_path / "收件" / "2022-03" / "更正.xlsx").exists()
    eml = tmp_path / "收件" / "待确认" / "1_attacker@evil.example.eml"
    assert eml.read_bytes().startswith(b"From: attacker@evil.example")
    # listed where the office looks, the same way for people and programs
    listed = run_zdxm("mail", "pending", master, "--json")
    assert listed.code == 0 and json.loads(listed.stdout) == to_json(pending_mail(master))
    (shown,) = json.loads(listed.stdout)["mails"]
    assert (shown["ticket"], shown["sender"], shown["files"]) == (
        1, "attacker@evil.example", [f"更正.xlsx（{UNIT} 2022-03）"])
    assert "#1" in run_zdxm("mail", "pending", master).stdout
    assert "待确认：1 封" in run_zdxm("mail", "status", master).stdout
    # fetching again changes nothing
    again = json.loads(run_zdxm("mail", "fetch", master, "--reply", "--merge", "--json").stdout)
    assert again["mails"] == [] and again["pending"] == 1 and len(smtp.messages) == answered
    # the office declines it: recorded, never answered, the message kept aside
    declined = run_zdxm("mail", "reject", master, "1", "--reason", "非登记邮箱，已电话核实")
    assert declined.code == 0 and "已不予受理 #1" in declined.stdout
    assert [r[2] for r in received_rows(master)][-1] == "不予受理"
    assert load_master(master).mail_log[-1].note == "非登记邮箱，已电话核实"
    assert (tmp_path / "收件" / "待确认" / "不予受理" / eml.name).is_file() and not eml.exists()
    assert json.loads(run_zdxm("mail", "pending", master, "--json").stdout)["mails"] == []
    late = run_zdxm("mail", "confirm", master, "1")
    assert late.code == 2 and "已处理过（不予受理）" in late.stderr and "编号参数" in late.stderr
    assert run_zdxm("mail", "confirm", master, "9").code == 2
    assert len(smtp.messages) == answered and load_master(master).ledger == ledger


@needs_servers
def test_a_confirmed_message_is_processed_answered_once_and_merged(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    home = "liming1980@163.example.com"  # the 信息员's own mailbox, not registered
    filled = returned(master, tmp_path, UNIT, seed=2)
    imap.append(message(f"李明 <{home}>", "3月月报", [("交通局3月.xlsx", filled.read_bytes())],
                        message_id="<home-1@163.example.com>"), at(4, 20))
    assert run_zdxm("mail", "fetch", master, "--reply").code == 0
    assert smtp.messages == []
    confirmed = run_zdxm("mail", "confirm", master, "1")
    assert confirmed.code == 0, confirmed.stdout + confirmed.stderr
    assert "已确认 #1" in confirmed.stdout and "已保存 交通局3月.xlsx" in confirmed.stdout
    (answer,) = smtp.replies_to("<home-1@163.example.com>")
    assert answer.rcpt_tos == [home] and "校验通过" in body(answer)
    assert (tmp_path / "收件" / "2022-03" / "交通局3月.xlsx").read_bytes() == filled.read_bytes()
    rows = [r for r in load_master(master).mail_log if r.direction == "接收"]
    assert [(r.result, r.ticket) for r in rows] == [("待确认", 1), ("已保存", 1)]
    assert rows[-1].note is not None and rows[-1].note.startswith("经办公室确认（编号 1）")
    assert rows[-1].time == datetime(2022, 4, 4, 20, 0)  # still the time it arrived
    merged = run_zdxm("mail", "fetch", master, "--merge", "--json")
    assert merged.code == 0 and len(json.loads(merged.stdout)["merge"]["merged"]) == 1
    assert [(s.unit, s.on_time) for s in load_master(master).submissions] == [(UNIT, "是")]
    assert run_zdxm("mail", "confirm", master, "1").code == 2
    assert len(smtp.messages) == 1


@needs_servers
def test_confirm_reports_the_receipt_it_sent(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    filled = returned(master, tmp_path, UNIT, seed=2)
    imap.append(message("someone@outside.example", "3月月报", [("交通局.xlsx", filled.read_bytes())],
                        message_id="<outside-9@outside.example>"), at(4, 20))
    assert run_zdxm("mail", "fetch", master).code == 0
    confirmed = run_zdxm("mail", "confirm", master, "1", "--json")
    assert confirmed.code == 0, confirmed.stdout + confirmed.stderr
    shown = json.loads(confirmed.stdout)
    assert shown["mail"]["reply"] == "已回复"
    assert [m["state"] for m in shown["outbox"]["sent"]] == ["已发送"]
    assert len(smtp.replies_to("<outside-9@outside.example>")) == 1


def _b64(text: str, charset: str = "utf-8") -> str:
    data = text.encode("gb18030" if charset in ("gb2312", "gbk") else charset)
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


@needs_servers
def test_the_sender_is_the_raw_address_whatever_the_display_name_says(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    froms = {
        "encoded victim": f"{_b64('victim@other.example')} <attacker@evil.example>",
        "unquoted victim": "victim@other.example <attacker@evil.example>",
        "two senders": f"{INFORMANT}, attacker@evil.example",
        "name with a comma": f"{_b64('李明, 交通局')} <{INFORMANT}>",
        "quoted encoded word": f'"{_b64("李明", "gb2312")}" <{INFORMANT}>',
        "named by the address": f"{INFORMANT} <{INFORMANT}>",
    }
    raw_froms = [sender.encode() for sender in froms.values()]
    # raw 8-bit GBK in the display name, as an old Windows client writes it
    raw_froms.append("李明 <".encode("gb18030") + INFORMANT.encode() + b">")
    for number, sender in enumerate(raw_froms, start=1):
        filled = returned(master, tmp_path, UNIT, seed=10 + number)
        raw = message("X <x@x.cn>", f"月报{number}", [(f"交通{number}.xlsx", filled.read_bytes())],
                      message_id=f"<from-{number}@jtj.example.cn>")
        # the header exactly as the client wrote it (the email package would rewrite it)
        imap.append(raw.replace(b"From: X <x@x.cn>", b"From: " + sender), at(3, 9, number))
    data = json.loads(run_zdxm("mail", "fetch", master, "--reply", "--json").stdout)
    states = [(m["sender"], m["state"]) for m in data["mails"]]
    assert states == [("attacker@evil.example", "待确认"), ("", "待确认"), ("", "待确认"),
                      (INFORMANT, "已处理"), (INFORMANT, "已处理"), (INFORMANT, "已处理"),
                      (INFORMANT, "已处理")]
    assert {tuple(m.rcpt_tos) for m in smtp.messages} == {(INFORMANT,)}
    assert len(smtp.messages) == 4
    assert "发件人地址无法确定" in data["mails"][1]["reason"]
    log = load_master(master).mail_log
    assert not any("victim" in (r.address or "") for r in log)


@needs_servers
def test_registered_senders_only_for_their_own_units(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    book = load_master(master)
    transport = book.unit(UNIT)
    assert transport is not None
    transport.commissioner_name, transport.commissioner_email = "王强", "wangqiang@jtj.example.cn"
    save_master(book, master)
    allow(master, "zdb@lnq.example.cn", INDUSTRY)  # a 县区 office forwarding for one unit
    transport_form = returned(master, tmp_path, UNIT, seed=1)
    industry_form = returned(master, tmp_path, INDUSTRY, seed=1)
    other_transport = returned(master, tmp_path, UNIT, seed=2)
    auto = message(INFORMANT, "自动回复", [("交通.xlsx", returned(master, tmp_path, UNIT, 3)
                                          .read_bytes())])
    cases = [
        message(GXJ, "代交通局报送", [("交通.xlsx", transport_form.read_bytes())]),
        message("wangqiang@jtj.example.cn", "3月月报", [("交通.xlsx", other_transport.read_bytes())]),
        message("zdb@lnq.example.cn", "工信局月报", [("工信.xlsx", industry_form.read_bytes())]),
        message("zdb@lnq.example.cn", "交通局月报", [("交通2.xlsx", transport_form.read_bytes())]),
        auto.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1),
    ]
    for number, raw in enumerate(cases):
        imap.append(raw, at(3, 10, number))
    data = json.loads(run_zdxm("mail", "fetch", master, "--reply", "--json").stdout)
    assert [(m["state"], m["ticket"]) for m in data["mails"]] == [
        ("待确认", 1), ("已处理", None), ("已处理", None), ("待确认", 2), ("待确认", 3)]
    reasons = [m["reason"] for m in data["mails"]]
    assert reasons[0] == f"{GXJ} 登记为{INDUSTRY}的信息员，附件却是{UNIT}的填报模板"
    assert reasons[3] == f"zdb@lnq.example.cn 登记为允许发件人（{INDUSTRY}），附件却是{UNIT}的填报模板"
    assert "自动发送" in reasons[4]
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["wangqiang@jtj.example.cn",
                                                           "zdb@lnq.example.cn"]


@needs_servers
def test_the_ribbon_button_confirms_and_declines_one_by_one(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    for number, seed in enumerate((4, 5, 6), start=1):
        filled = returned(master, tmp_path, UNIT, seed=seed)
        imap.append(message(f"someone{number}@outside.example", f"月报{number}",
                            [(f"交通{number}.xlsx", filled.read_bytes())],
                            message_id=f"<outside-{number}@outside.example>"), at(3, 9, number))
    fetched = addin.fetch_button(ribbon(master))
    assert fetched is not None and "待确认的邮件 3 封" in fetched and "待确认邮件" in fetched
    ui = AskingUi([True, False, None])
    text = addin.mail_pending_button(ribbon(master, ui))
    assert text is not None
    assert text.startswith("待确认邮件 3 封：确认 1 封，不予受理 1 封，暂不处理 1 封。")
    assert "编号 1：保存报表 1 个，市交通运输局通过" in text and addin.SAVE_REMINDER in text
    assert "编号 1" in ui.asked[0] and "someone1@outside.example" in ui.asked[0]
    assert "选“否”：不予受理" in ui.asked[0]
    assert [m.rcpt_tos for m in smtp.messages] == [["someone1@outside.example"]]
    assert [m.ticket for m in pending_mail(master).mails] == [3]
    assert [r[2] for r in received_rows(master)] == ["待确认", "待确认", "待确认", "已保存", "不予受理"]


# ---- exactly one receipt per message ----------------------------------------------------------

@needs_servers
def test_receipts_wait_in_the_outbox_until_the_smtp_server_is_back(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    smtp.stop()
    for sender, unit in ((INFORMANT, UNIT), (GXJ, INDUSTRY)):
        filled = returned(master, tmp_path, unit, seed=1)
        imap.append(message(sender, "3月月报", [(form_name("2022-03", unit), filled.read_bytes())],
                            message_id=f"<ret-{sender}>"), at(4, 9))
    down = run_zdxm("mail", "fetch", master, "--reply")
    assert down.code == 1, down.stdout + down.stderr
    assert "回复失败：无法连接发件服务器 127.0.0.1" in down.stdout
    assert "发件箱中还有 2 封邮件未发出（发送失败 2 封）" in down.stdout
    outbox = load_master(master).outbox
    assert [(e.kind, e.state, e.attempts) for e in outbox] == [("回执", "发送失败", 1)] * 2
    assert all((tmp_path / "输出" / "发件箱" / e.file).is_file() for e in outbox)
    status = run_zdxm("mail", "status", master)
    assert status.code == 1 and "发件箱：2 封未发出（发送失败 2 封）" in status.stdout
    assert "连接被拒绝" in status.stdout
    assert json.loads(run_zdxm("mail", "status", master, "--json").stdout) == to_json(
        mail_status(master))
    smtp.start()
    smtp.refuse = "451 4.3.0 Try again later"  # up, but refusing for now
    busy = run_zdxm("mail", "fetch", master, "--reply")
    assert busy.code == 1 and "发件服务器拒绝发送（451）" in busy.stdout
    assert [e.attempts for e in load_master(master).outbox] == [2, 2]
    smtp.refuse = None
    back = run_zdxm("mail", "fetch", master, "--reply")
    assert back.code == 0, back.stdout + back.stderr
    assert "已发送 发件箱中的回执" in back.stdout
    for sender in (INFORMANT, GXJ):
        (answer,) = smtp.replies_to(f"<ret-{sender}>")
        assert "校验通过" in body(answer)
    assert load_master(master).outbox == [] and not list((tmp_path / "输出" / "发件箱").iterdir())
    replies = [r for r in load_master(master).mail_log if r.direction == "回复"]
    assert [r.result for r in replies] == ["已回复", "已回复"]
    assert run_zdxm("mail", "status", master).code == 0
    assert run_zdxm("mail", "fetch", master, "--reply").code == 0 and len(smtp.messages) == 2


@needs_servers
def test_fetch_without_reply_queues_the_receipts_for_the_next_run(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    filled = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "3月月报", [("a.xlsx", filled.read_bytes())],
                        message_id="<queued-1@jtj.example.cn>"), at(4, 9))
    imap.append(message(LIAISON, "忘了附件", message_id="<queued-2@jtj.example.cn>"), at(4, 10))
    plain = run_zdxm("mail", "fetch", master)
    assert plain.code == 0 and "发件箱中还有 2 封邮件未发出" in plain.stdout
    assert smtp.messages == []
    assert [e.state for e in load_master(master).outbox] == ["待发送", "待发送"]
    sent = run_zdxm("mail", "fetch", master, "--reply")
    assert sent.code == 0, sent.stdout + sent.stderr
    assert [len(smtp.replies_to(f"<queued-{n}@jtj.example.cn>")) for n in (1, 2)] == [1, 1]
    assert run_zdxm("mail", "fetch", master, "--reply").code == 0 and len(smtp.messages) == 2


@needs_servers
def test_the_ribbons_fetch_answers_each_registered_sender(office, tmp_path: Path) -> None:
    """An office that works in Excel only gets its 回执 sent by 收取报送 itself."""
    master, imap, smtp = office
    filled = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "3月月报", [("a.xlsx", filled.read_bytes())],
                        message_id="<ribbon-1@jtj.example.cn>"), at(4, 9))
    text = addin.fetch_button(ribbon(master))
    assert text is not None and "收到新邮件 1 封，保存报表 1 个" in text
    (answer,) = smtp.replies_to("<ribbon-1@jtj.example.cn>")
    assert "校验通过" in body(answer)
    assert load_master(master).outbox == []
    smtp.stop()
    imap.append(message(LIAISON, "忘了附件", message_id="<ribbon-2@jtj.example.cn>"), at(4, 10))
    late = addin.fetch_button(ribbon(master))
    assert late is not None and "回执等邮件 1 封未能发出" in late and "下次点“收取报送”时重发" in late


def _zdxm(*args: object, env: dict[str, str] | None = None,
          stderr: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    """``zdxm`` as a real process, as a scheduled task runs it."""
    environment = {**os.environ, PASSWORD_ENV: PASSWORD, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "zdxm_xl", *map(str, args)], cwd=ROOT,
                            env=environment, stdout=subprocess.PIPE, stderr=stderr, text=True)


def _returns(master: Path, imap: ImapBox, tmp_path: Path) -> list[str]:
    """Six messages from registered contacts, each owed one receipt; their Message-IDs."""
    cases = [
        (INFORMANT, [("交通1.xlsx", returned(master, tmp_path, UNIT, 1).read_bytes())]),
        (GXJ, [("工信1.xlsx", returned(master, tmp_path, INDUSTRY, 1).read_bytes())]),
        (LIAISON, [("交通2.xlsx", returned(master, tmp_path, UNIT, 2).read_bytes())]),
        (INFORMANT, []),  # forgot the attachment
        (GXJ, [("月报.rar", b"Rar!\x1a\x07\x00" + b"\0" * 64)]),
        (LIAISON, [("交通3.xlsx", returned(master, tmp_path, UNIT, 3).read_bytes())]),
    ]
    ids = []
    for number, (sender, files) in enumerate(cases, start=1):
        ids.append(f"<kill-{number}@unit.example.cn>")
        imap.append(message(sender, f"月报{number}", files, message_id=ids[-1]), at(4, 9, number))
    return ids


def _exactly_once(master: Path, smtp: SmtpBox, ids: list[str]) -> None:
    assert [len(smtp.replies_to(i)) for i in ids] == [1] * len(ids)
    book = load_master(master)
    received = {(r.message_id, r.attachment) for r in book.mail_log if r.direction == "接收"}
    rows = [r for r in book.mail_log if r.direction == "接收"]
    assert len(rows) == len(received)  # no message recorded twice
    assert sorted({r.message_id for r in rows}) == sorted(ids)
    assert [r.direction for r in book.mail_log].count("回复") == len(ids)
    assert book.outbox == [] and not journal_path(FileStore(master)).exists()


@needs_servers
@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["mail-after-save-file", "mail-after-compose",
                                      "mail-after-record", "mail-after-sent-record",
                                      "before-master-write"])
def test_a_crash_at_any_step_loses_and_repeats_no_receipt(office, tmp_path: Path,
                                                          crash_at: str) -> None:
    master, imap, smtp = office
    ids = _returns(master, imap, tmp_path)
    crashed = _zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge",
                    env={"ZDXM_CRASH_AT": crash_at})
    crashed.communicate(timeout=300)
    assert crashed.returncode == 137
    finished = _zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge")
    out, err = finished.communicate(timeout=300)
    assert finished.returncode == 0, out + err
    _exactly_once(master, smtp, ids)
    assert {(s.unit, s.result) for s in load_master(master).submissions} == {
        (UNIT, "被替换"), (UNIT, "已合并"), (INDUSTRY, "已合并")}


@needs_servers
@pytest.mark.slow
def test_kill_9_during_fetch_loses_and_duplicates_no_receipt(office, tmp_path: Path) -> None:
    """Real processes killed with SIGKILL while taking messages in, and while sending."""
    master, imap, smtp = office
    ids = _returns(master, imap, tmp_path)
    # while taking in: killed as it starts on the 2nd message still to do, three times over
    for _round in range(3):
        run = _zdxm("mail", "fetch", master)
        assert run.stderr is not None
        for line in run.stderr:
            if "正在处理第 2/" in line:
                run.send_signal(signal.SIGKILL)
                break
        run.communicate(timeout=300)
        assert run.returncode == -signal.SIGKILL
    assert smtp.messages == []
    # while sending: killed when the server is told the 2nd recipient, before that message
    victim: list[subprocess.Popen[str]] = []
    smtp.on_rcpt = lambda number: victim[0].send_signal(signal.SIGKILL) if number == 2 else None
    victim.append(_zdxm("mail", "fetch", master, "--reply", stderr=subprocess.DEVNULL))
    victim[0].communicate(timeout=300)
    assert victim[0].returncode == -signal.SIGKILL
    assert len(smtp.messages) == 1
    smtp.on_rcpt = None
    last = _zdxm("mail", "fetch", master, "--reply")
    out, err = last.communicate(timeout=300)
    assert last.returncode == 0, out + err
    _exactly_once(master, smtp, ids)


@needs_servers
@pytest.mark.slow
def test_the_one_window_smtp_leaves_resends_the_same_message(office, tmp_path: Path) -> None:
    """Dying between the server's "250 OK" and the journal is the one moment no mail program
    can close: the receipt goes again, with the same Message-ID (docs/邮件.md)."""
    master, imap, smtp = office
    filled = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "月报", [("a.xlsx", filled.read_bytes())],
                        message_id="<window@jtj.example.cn>"), at(4, 9))
    crashed = _zdxm("mail", "fetch", master, "--reply", env={"ZDXM_CRASH_AT": "mail-after-send"})
    crashed.communicate(timeout=300)
    assert crashed.returncode == 137
    again = _zdxm("mail", "fetch", master, "--reply")
    again.communicate(timeout=300)
    assert again.returncode == 0
    copies = smtp.replies_to("<window@jtj.example.cn>")
    assert len(copies) == 2 and copies[0].message["Message-ID"] == copies[1].message["Message-ID"]
    assert [r.direction for r in load_master(master).mail_log] == ["接收", "回复"]


# ---- one bad message never stops a batch -----------------------------------------------------

def _merged_over_a_finding(master: Path, tmp_path: Path) -> Path:
    """A return whose unit merged a finding's cell with the header above it."""
    filled = returned(master, tmp_path, UNIT, seed=1, mistakes=("text_amount",))
    (finding,) = [f for f in check_file(load_master(master), filled, "2022-03").findings
                  if f.cell]
    column, row = coordinate_from_string(finding.cell or "")
    book = openpyxl.load_workbook(filled)
    book[finding.sheet or ""].merge_cells(f"{column}{row - 1}:{column}{row}")
    out = tmp_path / "合并单元格.xlsx"
    book.save(out)
    return out


@needs_servers
def test_one_bad_message_never_stops_the_batch(office, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    master, imap, smtp = office
    merged = _merged_over_a_finding(master, tmp_path)
    breaks_checking = returned(master, tmp_path, UNIT, seed=2)
    breaks_copy = returned(master, tmp_path, UNIT, seed=3, mistakes=("negative",))
    fine = returned(master, tmp_path, INDUSTRY, seed=1)
    cases = [(INFORMANT, "合并了单元格", merged), (LIAISON, "查不了", breaks_checking),
             (INFORMANT, "批注不了", breaks_copy), (GXJ, "工信局月报", fine)]
    for number, (sender, subject, path) in enumerate(cases, start=1):
        imap.append(message(sender, subject, [(path.name, path.read_bytes())],
                            message_id=f"<bad-{number}@unit.example.cn>"), at(4, 9, number))
    # (the fetch imports the copies' maker when it has a return to copy: from its module)
    real_check, real_annotate = mailintake.check_file, annotated.annotate
    poison = {breaks_checking.read_bytes(): "check", breaks_copy.read_bytes(): "annotate"}

    def check(master_: object, path: Path, *args: object, **kwargs: object) -> object:
        if poison.get(path.read_bytes()) == "check":
            raise RecursionError("maximum recursion depth exceeded")
        return real_check(master_, path, *args, **kwargs)  # type: ignore[arg-type]

    def annotate(report: object, *args: object, **kwargs: object) -> object:
        if poison.get(report.path.read_bytes()) == "annotate":  # type: ignore[attr-defined]
            raise KeyError("xl/styles.xml")
        return real_annotate(report, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mailintake, "check_file", check)
    monkeypatch.setattr(annotated, "annotate", annotate)
    result = run_zdxm("mail", "fetch", master, "--reply", "--merge", "--json")
    assert result.code == 1, result.stdout + result.stderr  # refused and invalid files
    data = json.loads(result.stdout)
    assert [[(f["result"], f["valid"]) for f in m["files"]] for m in data["mails"]] == [
        [("已保存", False)], [("已拒收", None)], [("已保存", False)], [("已保存", True)]]
    assert "检查这个文件时出错（RecursionError）" in data["mails"][1]["files"][0]["reason"]
    assert len(smtp.messages) == 4  # every sender answered, the good one included
    for number in (1, 3):
        (answer,) = smtp.replies_to(f"<bad-{number}@unit.example.cn>")
        text = body(answer)
        assert "校验未通过" in text
        if not list(answer.message.iter_attachments()):  # the copy could not be made
            assert "批注副本未能生成" in text and "回执正文中已列出全部问题" in text
    (third,) = smtp.replies_to("<bad-3@unit.example.cn>")
    assert "批注副本未能生成（KeyError）" in body(third)
    assert "未接收：检查这个文件时出错" in body(smtp.replies_to("<bad-2@unit.example.cn>")[0])
    assert [m["unit"] for m in data["merge"]["merged"]] == [INDUSTRY]
    notes = [r.note or "" for r in load_master(master).mail_log if r.direction == "接收"]
    assert "检查这个文件时出错（RecursionError）" in notes[1]


# ---- what Chinese clients really send --------------------------------------------------------

def _raw(sender: str, subject: bytes, part_head: bytes, data: bytes, message_id: str) -> bytes:
    return (b"From: " + sender.encode() + b"\r\nTo: " + ACCOUNT.encode() + b"\r\nSubject: "
            + subject + b"\r\nMessage-ID: " + message_id.encode() + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n--BB\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nfile\r\n--BB\r\n" + part_head
            + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data)
            + b"\r\n--BB--\r\n")


def _rfc2231(text: str, charset: str) -> bytes:
    encoded = "".join(f"%{b:02X}" for b in text.encode(charset))
    half = len(encoded) // 2 // 3 * 3
    return (f"Content-Disposition: attachment; filename*0*={charset}''{encoded[:half]};"
            f"\r\n filename*1*={encoded[half:]}").encode()


@needs_servers
def test_filenames_and_subjects_in_every_encoding_chinese_clients_use(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    utf8_q = "".join(f"={b:02X}" for b in "交通局三月".encode())
    cases = [
        # raw 8-bit UTF-8 (mobile clients, some webmail)
        ("三月月报（UTF-8）".encode(), f'Content-Type: {sheet}; name="'.encode()
         + "交通局月报.xlsx".encode() + b'"', UNIT, INFORMANT, "交通局月报.xlsx", "三月月报（UTF-8）"),
        # raw 8-bit GBK with 喆, which GB2312 lacks (old Outlook/Foxmail on Chinese Windows)
        ("工信局喆报".encode("gb18030"), b'Content-Type: application/octet-stream; name="'
         + "工信喆报.xlsx".encode("gb18030") + b'"', INDUSTRY, GXJ, "工信喆报.xlsx", "工信局喆报"),
        # RFC 2047 in the parameter, labelled GB2312 but GBK; subject in Big5
        (_b64("交通局月報", "big5").encode(), f'Content-Type: {sheet}; name="{_b64("喆交通.xlsx", "gb2312")}"'
         .encode(), UNIT, LIAISON, "喆交通.xlsx", "交通局月報"),
        # RFC 2231 in GBK in two pieces; subject split inside a character across two words
        (f"=?utf-8?Q?{utf8_q[:12]}?= =?utf-8?Q?{utf8_q[12:]}?=".encode(),
         b"Content-Type: application/octet-stream\r\n" + _rfc2231("交通局更正.xlsx", "gbk"),
         UNIT, INFORMANT, "交通局更正.xlsx", "交通局三月"),
    ]
    for number, (subject, head, unit, sender, _name, _shown) in enumerate(cases, start=1):
        data = returned(master, tmp_path, unit, seed=40 + number).read_bytes()
        imap.append(_raw(sender, subject, head, data, f"<enc-{number}@unit.example.cn>"),
                    at(3, 9, number))
    result = run_zdxm("mail", "fetch", master, "--reply", "--json")
    assert result.code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert [(m["subject"], m["files"][0]["name"], m["files"][0]["unit"]) for m in data["mails"]] == [
        (shown, name, unit) for _s, _h, unit, _f, name, shown in cases]
    saved = {p.name for p in (tmp_path / "收件" / "2022-03").glob("*.xlsx")}
    assert saved == {name for *_rest, name, _shown in cases}
    log = load_master(master).mail_log
    assert not any("\ufffd" in f"{r.subject}{r.attachment}{r.note}" for r in log)
    assert sorted(m.message["Subject"] for m in smtp.messages) == sorted(
        f"回复：{shown}" for *_rest, shown in cases)


@needs_servers
def test_message_ids_are_recognised_on_every_run_and_reused_ones_still_seen(
        office, tmp_path: Path) -> None:
    master, imap, smtp = office
    first = returned(master, tmp_path, UNIT, seed=1)
    correction = returned(master, tmp_path, UNIT, seed=2)
    control = message(GXJ, "工信局月报", [("工信.xlsx", returned(master, tmp_path, INDUSTRY, 1)
                                          .read_bytes())], message_id="<ctl-1@gxj.example.cn>")
    imap.append(control.replace(b"<ctl-1@gxj", b"<ctl\x01\x7f-1@gxj"), at(3, 9))
    eight_bit = message(LIAISON, "说明", message_id="<ctl-2@jtj.example.cn>")
    imap.append(eight_bit.replace(b"<ctl-2@", "<报表-2@".encode("gb18030")), at(3, 10))
    imap.append(message(INFORMANT, "3月月报", [("3月.xlsx", first.read_bytes())],
                        message_id="<reused@jtj.example.cn>"), at(3, 11))
    assert run_zdxm("mail", "fetch", master, "--reply", "--merge").code == 0
    # a resubmission whose client reused the Message-ID: a new message all the same
    resubmitted = message(INFORMANT, "3月月报（更正）", [("3月更正.xlsx", correction.read_bytes())],
                          message_id="<reused@jtj.example.cn>")
    imap.append(resubmitted, at(4, 16))
    second = json.loads(run_zdxm("mail", "fetch", master, "--reply", "--merge", "--json").stdout)
    assert [(m["subject"], m["files"][0]["result"]) for m in second["mails"]] == [
        ("3月月报（更正）", "已保存")]
    assert second["already"] == 3 and len(second["merge"]["merged"]) == 1
    ids = [r.message_id for r in load_master(master).mail_log if r.direction == "接收"]
    assert ids[0].startswith("sha256:") and ids[1].startswith("sha256:")
    assert ids[2:] == ["<reused@jtj.example.cn>"] * 2
    assert len(smtp.replies_to("<reused@jtj.example.cn>")) == 2
    assert {s.file_name: s.result for s in load_master(master).submissions}["3月更正.xlsx"] == "已合并"
    # and on every later run, nothing is processed or answered again
    for _run in range(2):
        again = json.loads(run_zdxm("mail", "fetch", master, "--reply", "--json").stdout)
        assert again["mails"] == [] and again["already"] == 4
    # the same message put back into the folder (a copy, arriving anew) is recognised
    imap.append(resubmitted, at(5, 9))
    copied = json.loads(run_zdxm("mail", "fetch", master, "--reply", "--json").stdout)
    assert copied["mails"] == [] and copied["already"] == 5
    assert len(smtp.messages) == 4


@needs_servers
def test_receipts_thread_in_outlook_with_exchange_length_ids(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    long_id = ("<SEZPR06MB6958A1B2C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5A6@SEZPR06MB6958"
               ".apcprd06.prod.outlook.com>")
    earlier = "<TYZPR03MB7000111122223333444455556666777788889999AAAA@TYZPR03MB7000" \
              ".apcprd03.prod.outlook.com>"
    filled = returned(master, tmp_path, UNIT, seed=1)
    raw = message(INFORMANT, "回复：回复：RE: 3月月报", [("a.xlsx", filled.read_bytes())],
                  message_id=long_id)
    raw = raw.replace(b"Subject:", f"References: {earlier}\r\nIn-Reply-To: {earlier}\r\n"
                      .encode() + b"Subject:", 1)
    imap.append(raw, at(3, 9))
    assert run_zdxm("mail", "fetch", master, "--reply").code == 0
    (answer,) = smtp.messages
    head = answer.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f"\r\nIn-Reply-To: {long_id}\r\n" in head
    assert f"\r\nReferences: {earlier}\r\n {long_id}\r\n" in head
    assert "=?" not in "".join(line for line in head.split("\r\n")
                               if line.startswith(("In-Reply-To", "References", " <")))
    assert answer.message["Subject"] == "回复：3月月报"


# ---- right answers -------------------------------------------------------------------------

@needs_servers
def test_a_return_for_another_period_is_held_for_that_period(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    april = returned(master, tmp_path, UNIT, seed=1, period="2022-04")
    imap.append(message(INFORMANT, "4月月报", [(form_name("2022-04", UNIT), april.read_bytes())],
                        message_id="<april@jtj.example.cn>"), at(28, 9))
    collecting = run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply", "--merge",
                          "--json")
    assert collecting.code == 0, collecting.stdout + collecting.stderr
    (held,) = json.loads(collecting.stdout)["mails"]
    assert (held["state"], held["held_for"]) == ("暂存", "2022-04")
    assert "附件是 2022-04 报告期的填报模板（正在收取 2022-03）" in held["reason"]
    assert smtp.messages == [] and load_master(master).submissions == []
    assert "暂存：1 封" in run_zdxm("mail", "status", master).stdout
    assert (tmp_path / "收件" / "暂存").is_dir()
    again = json.loads(run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply",
                                "--json").stdout)
    assert again["mails"] == [] and smtp.messages == []
    # collecting April: the held message is taken in and answered, once
    taken = run_zdxm("mail", "fetch", master, "--period", "2022-04", "--reply", "--json")
    assert taken.code in (0, 1), taken.stdout + taken.stderr
    (released,) = json.loads(taken.stdout)["mails"]
    assert released["released"] and released["files"][0]["period"] == "2022-04"
    assert (tmp_path / "收件" / "2022-04" / form_name("2022-04", UNIT)).is_file()
    (answer,) = smtp.replies_to("<april@jtj.example.cn>")
    assert "2022-04" in body(answer)
    assert not list((tmp_path / "收件" / "暂存").glob("*.eml"))
    assert run_zdxm("mail", "fetch", master, "--period", "2022-04", "--reply").code in (0, 1)
    assert len(smtp.messages) == 1
    # a March form while collecting April: taken for March, and the receipt says so
    march = returned(master, tmp_path, INDUSTRY, seed=1)
    imap.append(message(GXJ, "月报", [("工信.xlsx", march.read_bytes())],
                        message_id="<march-late@gxj.example.cn>"), at(29, 9))
    run_zdxm("mail", "fetch", master, "--period", "2022-04", "--reply")
    (late,) = smtp.replies_to("<march-late@gxj.example.cn>")
    assert ("这是2022年3月报告期的填报模板（本次收取的是2022年4月报告期的月报），已按2022年3月报告期"
            "接收。如果您要报送的是2022年4月报告期的月报，请使用2022年4月报告期的填报模板。") \
        in body(late)
    # late for March, and said once, with by when a correction would be taken
    assert body(late).count("晚于截止日") == 1


@needs_servers
def test_receipts_say_late_and_why_an_attachment_was_ignored(office, tmp_path: Path) -> None:
    master, imap, smtp = office
    filled = returned(master, tmp_path, UNIT, seed=1)
    imap.append(message(INFORMANT, "回复：回复：3月月报", [("交通.xlsx", filled.read_bytes())],
                        message_id="<late@jtj.example.cn>"), at(6, 8, 30))
    imap.append(message(LIAISON, "月报", [("月报.rar", b"Rar!\x1a\x07\x00" + b"\0" * 64),
                                        ("winmail.dat", b"\x78\x9f\x3e\x22" + b"\0" * 64)],
                        message_id="<odd@jtj.example.cn>"), at(4, 9))
    html = (f"From: {GXJ}\r\nTo: {ACCOUNT}\r\nSubject: =?utf-8?B?5pyI5oql?=\r\n"
            "Message-ID: <html@gxj.example.cn>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "<p>月报如下：</p><table><tr><td>本月完成</td><td>500</td></tr></table>\r\n")
    imap.append(html.encode(), at(4, 10))
    shown = run_zdxm("mail", "fetch", master, "--period", "2022-03", "--reply")
    assert "逾期" in shown.stdout
    late = body(smtp.replies_to("<late@jtj.example.cn>")[0])
    assert "已收到您于2022年4月6日 08:30发来的邮件" in late
    assert "（2022年3月月报）已于 2022年4月6日 08:30 收到，校验通过" in late
    assert "本期报送截止日为2022年4月5日，本次报送晚于截止日，按逾期报送统计" in late
    assert late.count("如有疑问，请联系") == 1
    assert smtp.replies_to("<late@jtj.example.cn>")[0].message["Subject"] == "回复：3月月报"
    odd = body(smtp.replies_to("<odd@jtj.example.cn>")[0])
    assert "- 月报.rar：rar 压缩包不能自动解压；请直接附上 .xlsx 文件，或改用 zip 压缩" in odd
    assert "winmail.dat" in odd and "把邮件格式改为 HTML 或纯文本后重新发送" in odd
    pasted = body(smtp.replies_to("<html@gxj.example.cn>")[0])
    assert "表格粘贴在了邮件正文中，系统无法读取；请把填好的 Excel 模板作为附件发送" in pasted
    note = next(r.note for r in load_master(master).mail_log if r.address == INFORMANT)
    assert note is not None and "逾期" in note


# ---- progress, server errors, password -------------------------------------------------------

@needs_servers
def test_progress_lines_and_a_server_that_goes_away(office_in_memory, tmp_path: Path) -> None:
    store, imap, smtp = office_in_memory
    for number in (1, 2, 3):
        filled = returned(store, tmp_path, UNIT, seed=number)
        imap.append(message(INFORMANT, f"月报{number}", [(f"交通{number}.xlsx", filled.read_bytes())],
                            message_id=f"<gone-{number}@jtj.example.cn>"), at(3, 9, number))
    lines: list[str] = []

    def progress(text: str) -> None:
        lines.append(text)
        if text.startswith("正在处理第 2/3 封"):
            imap.stop()

    result = fetch_returns(store, reply=True, progress=progress)
    assert "文件夹“INBOX”中有 3 封邮件，需要处理 3 封" in lines
    assert [m.message_id for m in result.mails] == ["<gone-1@jtj.example.cn>"]
    assert result.error is not None and result.error.startswith("收件服务器 127.0.0.1:")
    assert "已处理的邮件都已记录，可稍后重新运行" in result.error and not result.ok
    assert len(smtp.replies_to("<gone-1@jtj.example.cn>")) == 1  # what was owed was sent
    assert [r.result for r in store.master.mail_log] == ["已保存", "已回复"]


@needs_servers
def test_progress_is_shown_on_the_command_line(office, tmp_path: Path) -> None:
    master, imap, _smtp = office
    imap.append(message(INFORMANT, "忘了附件"), at(3, 9))
    shown = run_zdxm("mail", "fetch", master)
    assert shown.code == 0
    assert "正在连接收件服务器" in shown.stderr and "正在处理第 1/1 封" in shown.stderr
    assert "正在处理" not in shown.stdout


@needs_servers
def test_a_plaintext_keyring_is_refused(tmp_path: Path, imap_box: ImapBox, smtp_box: SmtpBox,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from test_mail import mail_master

    master = mail_master(tmp_path, imap_box.port, smtp_box.port)
    plaintext = PlaintextKeyring()
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    previous = keyring.get_keyring()
    keyring.set_keyring(plaintext)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    try:
        monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(PASSWORD + "\n"))
        refused = run_zdxm("mail", "login", master, "--password-stdin")
        assert refused.code == 2
        assert "keyrings.alt.file.PlaintextKeyring" in refused.stderr and "明文" in refused.stderr
        assert "密码未保存" in refused.stderr and PASSWORD_ENV in refused.stderr
        assert not (tmp_path / "keyring_pass.cfg").exists()
        fetch = run_zdxm("mail", "fetch", master)
        assert fetch.code == 2 and "明文" in fetch.stderr and PASSWORD_ENV in fetch.stderr
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)  # scheduled runs: the environment variable
        assert run_zdxm("mail", "fetch", master).code == 0
    finally:
        keyring.set_keyring(previous)


# ---- idempotent sending -------------------------------------------------------------------

@needs_servers
def test_send_templates_sends_each_form_once_per_period(office, tmp_path: Path) -> None:
    master, _imap, smtp = office
    assert run_zdxm("mail", "send-templates", master, "--period", "2022-03").code == 1  # 市教育局
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted([INFORMANT, GXJ])
    archive = tmp_path / "输出" / "模板" / "2022-03"
    kept = {p.name: p.read_bytes() for p in archive.iterdir()}
    again = run_zdxm("mail", "send-templates", master, "--period", "2022-03")
    assert len(smtp.messages) == 2
    assert f"已发送过 {UNIT}" in again.stdout and f"--resend {UNIT}" in again.stdout
    assert run_zdxm("mail", "send-templates", master, "--period", "2022-03", "--unit",
                    INDUSTRY).code == 0 and len(smtp.messages) == 2
    # a preview of a resend touches neither the archive nor the record
    log = load_master(master).mail_log
    preview = run_zdxm("mail", "send-templates", master, "--period", "2022-03", "--dry-run",
                       "--resend", UNIT)
    assert preview.code == 0, preview.stdout + preview.stderr
    assert {p.name: p.read_bytes() for p in archive.iterdir()} == kept
    previews = tmp_path / "输出" / "邮件预览" / "2022-03"
    assert sorted(p.name for p in previews.iterdir()) == [
        form_name("2022-03", UNIT).replace(".xlsx", ".eml"), form_name("2022-03", UNIT)]
    assert len(smtp.messages) == 2 and load_master(master).mail_log == log
    # a resend on purpose
    resent = run_zdxm("mail", "send-templates", master, "--period", "2022-03", "--resend", UNIT)
    assert resent.code == 0, resent.stdout + resent.stderr
    assert [m.rcpt_tos[0] for m in smtp.messages[2:]] == [INFORMANT]
    sent = [(r.unit, r.result) for r in load_master(master).mail_log if r.direction == "发送"]
    assert sent == [(UNIT, "已发送"), (INDUSTRY, "已发送"), (UNIT, "已发送")]


@needs_servers
def test_template_mail_that_failed_is_retried_not_composed_again(office, tmp_path: Path) -> None:
    master, _imap, smtp = office
    smtp.stop()
    failed = run_zdxm("mail", "send-templates", master, "--period", "2022-03")
    assert failed.code == 1 and "发送失败" in failed.stdout
    status = run_zdxm("mail", "status", master)
    assert status.code == 1 and status.stdout.count("发送失败 填报模板") == 2
    smtp.start()
    retried = run_zdxm("mail", "send-templates", master, "--period", "2022-03")
    assert "已发送 发件箱中的填报模板" in retried.stdout
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted([INFORMANT, GXJ])
    assert load_master(master).outbox == []
    assert run_zdxm("mail", "send-templates", master, "--period", "2022-03").stdout.count(
        "已发送过 市") == 2
    assert len(smtp.messages) == 2


def test_an_april_form_can_be_made_before_march_is_merged(tmp_path: Path) -> None:
    """The 暂存 test relies on it: a later period's form needs no earlier ledger."""
    from checking_office import build_master

    store = in_memory(build_master(tmp_path / "台账.xlsx"))
    made = make_forms(store, "2022-04", tmp_path / "四月", issued=datetime(2022, 4, 25))
    assert {p.name for p in made.files} >= {form_name("2022-04", UNIT)}


# ---- pieces, without servers ----------------------------------------------------------------

@pytest.mark.parametrize(("header", "address"), [
    (f"{_b64('victim@other.example')} <attacker@evil.example>", "attacker@evil.example"),
    (f"{_b64('李明, 交通局')} <LiMing@JTJ.example.cn>", "liming@jtj.example.cn"),
    (f'"{_b64("李明", "gb2312")}" <liming@jtj.example.cn>', "liming@jtj.example.cn"),
    ("liming@jtj.example.cn <liming@jtj.example.cn>", "liming@jtj.example.cn"),
    ("<liming@jtj.example.cn> (李明)", "liming@jtj.example.cn"),
    ("victim@other.example <attacker@evil.example>", ""),
    ("'victim@other.example' <attacker@evil.example>", ""),
    ("a@x.cn, b@y.cn", ""),
    ("undisclosed-recipients:;", ""),
    ("<attacker@evil.example", ""),
    ("李明 <李明@交通局.cn>", ""),  # not a plain ASCII address: never trusted, never answered
])
def test_the_sender_address_is_read_before_any_name_is_decoded(header: str, address: str) -> None:
    from zdxm_xl.mail.messages import sender_address

    assert sender_address(header)[0] == address


def test_headers_in_any_charset_and_message_keys() -> None:
    from zdxm_xl.mail.messages import decode_words, message_key, reply_subject

    gbk = "月报喆".encode("gb18030")
    assert decode_words(gbk.decode("ascii", "surrogateescape")) == "月报喆"
    assert decode_words("=?utf-8?B?5pyI?= =?utf-8?B?5oql?= 附 =?iso-2022-jp?B?GyRCRnxLXDhsGyhC?=") \
        == "月报 附 日本語"
    half = base64.b64encode("喆".encode("gb18030")[:1]).decode()
    rest = base64.b64encode("喆".encode("gb18030")[1:] + "报".encode("gbk")).decode()
    assert decode_words(f"=?gbk?B?{half}?= =?gbk?B?{rest}?=") == "喆报"  # split inside 喆
    assert decode_words("=?utf-8?B?not base64!?=") == "=?utf-8?B?not base64!?="
    assert message_key("<a.b@x.cn>") == "<a.b@x.cn>" == message_key(" <a.b@x.cn>\r\n")
    assert message_key("<a\x01b@x.cn>").startswith("sha256:")
    assert message_key("<a\x01b@x.cn>") == message_key("<a\x01b@x.cn>") != message_key("<a\x02b@x.cn>")
    assert message_key(None) == ""
    assert [reply_subject(s) for s in ("回复：回复：RE: 月报", "Re[2]：月报", "答复: 月报", "", "月报")] \
        == ["回复：月报"] * 3 + ["报送回执", "回复：月报"]
