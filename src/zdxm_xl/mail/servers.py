"""The mail servers: settings from 设置, the password, and IMAP/SMTP sessions.

The password is never written into the workbook: it comes from the environment variable
``ZDXM_MAIL_PASSWORD`` (scheduled runs) or the system keyring (Windows 凭据管理器, macOS
钥匙串, Secret Service, KWallet), where ``zdxm mail login`` puts it. Only those keyrings are
used: a backend that keeps passwords in a file (keyrings.alt's plaintext or "encrypted"
files, and any other backend zdxm does not know) is refused with a message, since it would
leave the password on disk while the office believes it is in the system keyring.

Connections verify the server's certificate; an unencrypted connection ("无") is allowed
only to this computer, so a password never crosses a network in clear. Every network wait
is bounded by ``TIMEOUT``.

IMAP is used read-mostly: messages are fetched with ``BODY.PEEK`` (their 已读 state is
left alone), never deleted, and moved only when 设置 names a folder for processed mail —
with ``MOVE``, or ``UIDPLUS`` copy-and-expunge of exactly those messages; a server with
neither leaves them where they are rather than risk expunging anything else.
"""

from __future__ import annotations

import base64
import imaplib
import ipaddress
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from types import TracebackType

from ..core.errors import MailError, Remedy
from ..core.models import Settings
from .messages import valid_address

__all__ = ["TIMEOUT", "PASSWORD_ENV", "KEYRING_SERVICE", "TRUSTED_KEYRINGS", "Server",
           "MailConfig", "Envelope", "password_for", "store_password", "keyring_problem",
           "ImapSession", "SmtpSession", "SendFailed", "mailbox_name", "parse_internaldate"]

TIMEOUT = 30.0  # seconds for any one network wait
PASSWORD_ENV = "ZDXM_MAIL_PASSWORD"
KEYRING_SERVICE = "zdxm-xl 邮箱"
# The keyring backends that keep a password in the operating system's own protected store.
TRUSTED_KEYRINGS = ("keyring.backends.Windows", "keyring.backends.macOS",
                    "keyring.backends.SecretService", "keyring.backends.libsecret",
                    "keyring.backends.kwallet")
_FETCH_BATCH = 200
_HEADER_BYTES = 16384  # of the few header fields read before a message is downloaded
_DEFAULT_PORTS = {("imap", "SSL"): 993, ("imap", "STARTTLS"): 143, ("imap", "无"): 143,
                  ("smtp", "SSL"): 465, ("smtp", "STARTTLS"): 587, ("smtp", "无"): 25}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_INTERNALDATE = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) "
                           r"([+-])(\d{2})(\d{2})")


@dataclass(frozen=True)
class Server:
    kind: str  # "imap" or "smtp"
    host: str
    port: int
    security: str  # SSL, STARTTLS or 无

    @property
    def label(self) -> str:
        return f"{'收件' if self.kind == 'imap' else '发件'}服务器 {self.host}:{self.port}"


@dataclass(frozen=True)
class MailConfig:
    """The mail settings of 设置, checked and with defaults filled in."""

    imap: Server | None
    smtp: Server | None
    account: str
    address: str  # 发件地址
    sender_name: str
    folder: str
    done_folder: str
    contact: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MailConfig:
        def server(kind: str, host: str, port: int | None, security: str) -> Server | None:
            host = host.strip()
            if not host:
                return None
            if security == "无" and not _loopback(host):
                label = "收件" if kind == "imap" else "发件"
                raise MailError(f"{label}加密方式为“无”时密码会明文经过网络，只允许连接本机。"
                                f"请在“设置”中把{label}加密方式改为 SSL 或 STARTTLS。")
            return Server(kind, host, port or _DEFAULT_PORTS[(kind, security)], security)

        account = settings.mail_account.strip()
        address = settings.mail_address.strip() or (account if "@" in account else "")
        if address and not valid_address(address):
            raise MailError(f"“设置”中的发件地址“{address}”不是有效的邮箱地址。")
        return cls(
            server("imap", settings.mail_imap_host, settings.mail_imap_port,
                   settings.mail_imap_security),
            server("smtp", settings.mail_smtp_host, settings.mail_smtp_port,
                   settings.mail_smtp_security),
            account, address, settings.mail_sender_name.strip() or settings.publisher,
            settings.mail_folder.strip() or "INBOX", settings.mail_done_folder.strip(),
            settings.mail_contact.strip())

    def need_imap(self) -> Server:
        if self.imap is None:
            raise MailError("“设置”中没有填写收件服务器（IMAP），无法收取邮件。见 docs/邮件.md。")
        self._need_account()
        return self.imap

    def need_smtp(self) -> Server:
        if self.smtp is None:
            raise MailError("“设置”中没有填写发件服务器（SMTP），无法发送邮件。见 docs/邮件.md。")
        if not self.address:
            raise MailError("“设置”中没有填写发件地址（或邮箱账号不是邮箱地址），无法发送邮件。")
        return self.smtp

    def _need_account(self) -> None:
        if not self.account:
            raise MailError("“设置”中没有填写邮箱账号。")


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- the password ---------------------------------------------------------------------------

def _backends(backend: object) -> list[object]:
    inner = getattr(backend, "backends", None)  # keyring's chainer: every backend it tries
    return [b for part in inner for b in _backends(part)] if isinstance(inner, list | tuple) \
        else [backend]


def keyring_problem() -> str | None:
    """Why the keyring of this computer cannot keep the password (Chinese), or None."""
    try:
        import keyring

        backends = _backends(keyring.get_keyring())
    except Exception as exc:
        return f"本机没有可用的系统密码库（{type(exc).__name__}）"
    names = [type(b).__module__ for b in backends]
    usable = [n for n in names if not n.startswith(("keyring.backends.fail", "keyring.backends.null"))]
    if not usable:
        return "本机没有可用的系统密码库"
    unsafe = [n for n in usable if not n.startswith(TRUSTED_KEYRINGS)]
    if unsafe:
        shown = "、".join(f"{type(b).__module__}.{type(b).__name__}" for b in backends
                         if type(b).__module__ in unsafe)
        return (f"本机的密码库（{shown}）会把密码以明文或可还原的形式存成磁盘上的文件，"
                "不是系统密码库，zdxm 不把邮箱密码存进去，也不从中读取")
    return None


def password_for(account: str) -> str | None:
    """``ZDXM_MAIL_PASSWORD`` if set, else the system keyring's entry for ``account`` (never a
    keyring that keeps passwords in files), else None."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not account or keyring_problem() is not None:
        return None
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, account)
    except Exception:  # no keyring on this computer (e.g. a server without a desktop)
        return None


def store_password(account: str, password: str) -> None:
    """Put the password in the system keyring (never in the workbook, never in a file)."""
    problem = keyring_problem()
    if problem is not None:
        raise MailError(f"{problem}。密码未保存。请在运行 zdxm 前设置环境变量 {PASSWORD_ENV}"
                        "（计划任务也用它），或在有系统密码库（Windows 凭据管理器、macOS 钥匙串、"
                        "Linux 的 Secret Service）的电脑上保存。")
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, account, password)
    except Exception as exc:
        raise MailError(f"本机没有可用的系统密码库，密码未保存（{type(exc).__name__}）。"
                        f"请改为在运行 zdxm 前设置环境变量 {PASSWORD_ENV}。") from exc


def _need_password(config: MailConfig, password: str | None) -> str:
    if not password:
        problem = keyring_problem()
        if problem is not None:
            raise MailError(f"没有邮箱“{config.account}”的密码：{problem}。请设置环境变量 "
                            f"{PASSWORD_ENV}，或在有系统密码库的电脑上保存邮箱密码。")
        raise MailError(f"没有邮箱“{config.account}”的密码。请先保存邮箱密码，"
                        f"或设置环境变量 {PASSWORD_ENV}。", remedy=Remedy.MAIL_LOGIN)
    return password


def _unreachable(server: Server, exc: BaseException) -> MailError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = "服务器证书无法验证（请核对服务器地址，或请邮箱管理员更换有效证书）"
    elif isinstance(exc, ssl.SSLError):
        why = "加密连接失败（请核对加密方式和端口）"
    elif isinstance(exc, socket.timeout | TimeoutError):
        why = f"{TIMEOUT:.0f} 秒内没有响应"
    elif isinstance(exc, socket.gaierror):
        why = "找不到这个服务器（请核对地址和网络）"
    elif isinstance(exc, ConnectionRefusedError):
        why = "连接被拒绝（请核对端口）"
    else:
        why = f"{type(exc).__name__}：{exc}"
    return MailError(f"无法连接{server.label}：{why}。")


# ---- IMAP -----------------------------------------------------------------------------------

@dataclass
class Envelope:
    """What is known of a message before downloading it."""

    uid: str
    received: datetime | None  # INTERNALDATE, time-zone aware
    size: int
    header: bytes  # Message-ID, From, Subject


def mailbox_name(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 §5.1.3), quoted."""
    out, run = [], ""

    def flush() -> None:
        nonlocal run
        if run:
            encoded = base64.b64encode(run.encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode("ascii") + "-")
            run = ""

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run += char
    flush()
    text = "".join(out)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_internaldate(text: str) -> datetime | None:
    """``05-Apr-2022 15:30:00 +0000`` → an aware datetime (month names are always English)."""
    match = _INTERNALDATE.match(text)
    if match is None or match.group(2).title() not in _MONTHS:
        return None
    day, month, year, hour, minute, second = (int(match.group(1)),
                                              _MONTHS.index(match.group(2).title()) + 1,
                                              int(match.group(3)), int(match.group(4)),
                                              int(match.group(5)), int(match.group(6)))
    offset = timedelta(hours=int(match.group(8)), minutes=int(match.group(9)))
    try:
        return datetime(year, month, day, hour, minute, second,
                        tzinfo=timezone(-offset if match.group(7) == "-" else offset))
    except ValueError:
        return None


class ImapSession:
    """One logged-in IMAP connection; a context manager."""

    def __init__(self, config: MailConfig, password: str | None, timeout: float = TIMEOUT) -> None:
        self.server = config.need_imap()
        self.account = config.account
        self.password = _need_password(config, password)
        self.timeout = timeout
        self.capabilities: set[str] = set()
        self.delimiter = "/"
        self._conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapSession:
        server = self.server
        context = ssl.create_default_context()
        try:
            if server.security == "SSL":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(server.host, server.port,
                                                        ssl_context=context, timeout=self.timeout)
            else:
                conn = imaplib.IMAP4(server.host, server.port, timeout=self.timeout)
                if server.security == "STARTTLS":
                    conn.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise _unreachable(server, exc) from exc
        self._conn = conn
        try:
            if self.password.isascii():
                conn.login(self.account, self.password)
            else:  # LOGIN is ASCII only; SASL PLAIN carries UTF-8
                secret = f"\0{self.account}\0{self.password}".encode()
                conn.authenticate("PLAIN", lambda _challenge: secret)
        except imaplib.IMAP4.error as exc:
            self.close()
            raise MailError(f"登录{server.label}失败：账号或密码不正确，或邮箱未开启 IMAP 服务"
                            f"（服务器答复：{_text(exc)}）。请重新保存邮箱密码。",
                            remedy=Remedy.MAIL_LOGIN) from exc
        except OSError as exc:
            self.close()
            raise _unreachable(server, exc) from exc
        self.capabilities = self._capabilities()
        self.delimiter = self._delimiter()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.state == "SELECTED":
                conn.close()
            conn.logout()
        except Exception:  # already gone: nothing to tidy
            try:
                conn.shutdown()
            except Exception:
                pass

    @property
    def conn(self) -> imaplib.IMAP4:
        if self._conn is None:
            raise MailError("与收件服务器的连接已断开。")
        return self._conn

    def _call(self, what: str, *args: object) -> list[object]:
        """Run an IMAP command; a refusal or a broken connection becomes a MailError."""
        try:
            kind, data = getattr(self.conn, what)(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(f"{self.server.label} 处理 {what} 命令时出错：{_text(exc)}。"
                            "已处理的邮件都已记录，可稍后重新运行。") from exc
        if kind != "OK":
            raise MailError(f"{self.server.label} 拒绝了 {what} 命令：{_text(data)}。")
        return list(data or [])

    def _capabilities(self) -> set[str]:
        try:
            kind, data = self.conn.capability()
        except (OSError, imaplib.IMAP4.error):
            return set()
        if kind != "OK" or not data or not isinstance(data[0], bytes):
            return set()
        return {c.upper() for c in data[0].decode("ascii", "replace").split()}

    def _delimiter(self) -> str:
        """The server's hierarchy separator ("." on Dovecot's default, "/" on many others)."""
        try:
            kind, data = self.conn.list('""', '""')
        except (OSError, imaplib.IMAP4.error):
            return "/"
        found = re.search(rb'\) "(.)"', data[0]) if kind == "OK" and data and isinstance(
            data[0], bytes) else None
        return found.group(1).decode("ascii") if found else "/"

    def alive(self) -> bool:
        """Whether the connection still answers (after one command failed)."""
        try:
            kind, _data = self.conn.noop()
        except (OSError, imaplib.IMAP4.error, MailError):
            return False
        return kind == "OK"

    def name(self, folder: str) -> str:
        """A folder of 设置 as the server names it: subfolders are written with "/" there."""
        return mailbox_name(folder.replace("/", self.delimiter))

    def select(self, folder: str, readonly: bool) -> None:
        try:
            kind, data = self.conn.select(self.name(folder), readonly=readonly)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(f"无法打开邮箱文件夹“{folder}”：{_text(exc)}。") from exc
        if kind != "OK":
            raise MailError(f"邮箱中没有文件夹“{folder}”（服务器答复：{_text(data)}）。"
                            "请核对“设置”中的收件文件夹。")

    def search(self, since: date | None = None) -> list[str]:
        criteria = ["ALL"] if since is None else [
            "SINCE", f"{since.day:02d}-{_MONTHS[since.month - 1]}-{since.year}"]
        data = self._call("uid", "SEARCH", None, *criteria)
        raw = data[0] if data and isinstance(data[0], bytes) else b""
        return [uid.decode("ascii") for uid in raw.split() if uid.isdigit()]

    def envelopes(self, uids: list[str]) -> list[Envelope]:
        found: list[Envelope] = []
        for start in range(0, len(uids), _FETCH_BATCH):
            batch = ",".join(uids[start:start + _FETCH_BATCH])
            data = self._call("uid", "FETCH", batch,
                              "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS "
                              f"(MESSAGE-ID FROM SUBJECT)]<0.{_HEADER_BYTES}>)")
            for meta, literal in _fetch_items(data):
                uid = re.search(rb"UID (\d+)", meta)
                if uid is None:
                    continue
                when = re.search(rb'INTERNALDATE "([^"]+)"', meta)
                size = re.search(rb"RFC822\.SIZE (\d+)", meta)
                found.append(Envelope(
                    uid.group(1).decode("ascii"),
                    parse_internaldate(when.group(1).decode("ascii", "replace")) if when else None,
                    int(size.group(1)) if size else 0, literal or b""))
        return found

    def fetch(self, uid: str) -> bytes:
        data = self._call("uid", "FETCH", uid, "(BODY.PEEK[])")
        for _meta, literal in _fetch_items(data):
            if literal is not None:
                return literal
        raise MailError(f"{self.server.label} 没有返回邮件内容（UID {uid}）。")

    def move(self, uids: list[str], folder: str) -> str | None:
        """Move ``uids`` to ``folder`` (created if missing); a Chinese note if it cannot."""
        if not uids:
            return None
        target = self.name(folder)
        try:
            self.conn.create(target)  # "already exists" is an answer too, not a failure
        except (OSError, imaplib.IMAP4.error):
            pass
        uidset = ",".join(uids)
        if "MOVE" in self.capabilities:
            self._call("uid", "MOVE", uidset, target)
        elif "UIDPLUS" in self.capabilities:
            self._call("uid", "COPY", uidset, target)
            self._call("uid", "STORE", uidset, "+FLAGS.SILENT", r"(\Deleted)")
            self._call("uid", "EXPUNGE", uidset)
        else:
            return (f"收件服务器不支持移动邮件（MOVE/UIDPLUS），处理过的邮件留在原文件夹，"
                    f"未移到“{folder}”")
        return None


def _fetch_items(data: list[object]) -> list[tuple[bytes, bytes | None]]:
    """imaplib's FETCH answer → (the response text, its literal) per message."""
    items: list[list[bytes | None]] = []
    for piece in data:
        if isinstance(piece, tuple) and len(piece) == 2:
            items.append([bytes(piece[0]), bytes(piece[1])])
        elif isinstance(piece, bytes):
            if re.match(rb"^\d+ \(", piece) or not items:
                items.append([piece, None])
            else:
                items[-1][0] = (items[-1][0] or b"") + piece
    return [(meta or b"", literal) for meta, literal in items]


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes)) if value else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, BaseException) and value.args:
        return _text(value.args[0])
    return str(value)[:200]


# ---- SMTP -----------------------------------------------------------------------------------

class SendFailed(Exception):
    """One message could not be sent; ``str`` is the Chinese reason. Not a ZdxmError: the
    run goes on with the next message and reports this one."""


class SmtpSession:
    """One SMTP connection (re-opened once if the server drops it); a context manager."""

    def __init__(self, config: MailConfig, password: str | None, timeout: float = TIMEOUT) -> None:
        self.server = config.need_smtp()
        self.account = config.account
        self.password = password
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        self._open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _open(self) -> None:
        server = self.server
        context = ssl.create_default_context()
        try:
            if server.security == "SSL":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port,
                                                      timeout=self.timeout, context=context)
            else:
                conn = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
                conn.ehlo()
                if server.security == "STARTTLS":
                    conn.starttls(context=context)
                    conn.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            raise _unreachable(server, exc) from exc
        self._conn = conn
        if conn.has_extn("auth"):
            if not self.password:
                self.close()
                raise MailError(f"{server.label} 要求登录，但没有邮箱密码。请先保存邮箱密码，"
                                f"或设置环境变量 {PASSWORD_ENV}。", remedy=Remedy.MAIL_LOGIN)
            try:
                conn.login(self.account, self.password)
            except smtplib.SMTPAuthenticationError as exc:
                self.close()
                raise MailError(f"登录{server.label}失败：账号或密码不正确，或邮箱未开启 SMTP 服务"
                                f"（服务器答复：{_text(exc.smtp_error)}）。") from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise _unreachable(server, exc) from exc

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                conn.close()

    def send(self, sender: str, recipients: list[str], raw: bytes) -> list[str]:
        """Send one message; the recipients the server refused (the others got it), or
        ``SendFailed`` (with the reason) when nobody did."""
        for attempt in (1, 2):
            if self._conn is None:
                self._open()
            assert self._conn is not None
            try:
                refused = self._conn.sendmail(sender, recipients, raw)
            except smtplib.SMTPServerDisconnected as exc:
                self._conn = None
                if attempt == 2:
                    raise SendFailed(f"发件服务器断开了连接：{_text(exc)}") from exc
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                raise SendFailed("收件地址全部被拒收：" + "、".join(exc.recipients)) from exc
            except smtplib.SMTPResponseException as exc:
                raise SendFailed(f"发件服务器拒绝发送（{exc.smtp_code}）：{_text(exc.smtp_error)}") \
                    from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._conn = None
                raise SendFailed(f"发送失败：{type(exc).__name__}：{_text(exc)}") from exc
            return sorted(refused)
        return []  # not reached: the second attempt returns or raises
