"""Mail as bytes: the messages zdxm writes, and what it takes out of the messages it reads.

Writing: ``compose`` builds a message whose Chinese subject and names are RFC 2047 encoded
words and whose attachments carry the file name twice, the way Thunderbird does for the
widest reach: ``filename*=`` (RFC 2231) in Content-Disposition for current clients, and
``name="=?UTF-8?B?…?="`` (RFC 2047) in Content-Type for older Outlook, Foxmail and webmail.

Reading: ``read_message`` parses a received message leniently (every message comes from
outside the office and may be broken or hostile) and ``workbook_candidates`` lists what
each attachment is: a workbook to save (decided by content type *and* magic bytes), a zip
of workbooks (unpacked with zip-bomb limits), or something to ignore — each with a reason in
Chinese. Nothing here raises for a problem in a message.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, parseaddr
from pathlib import PurePosixPath

from ..checks.attachments import (
    OTHER_ARCHIVES,
    WORKBOOK_SUFFIXES,
    Candidate,
    inspect_attachment,
    iter_files,
    printable,
    safe_file_name,
    too_big,
    unpack_zip,
)
from ..checks.limits import ATTACHMENT

__all__ = [
    "BEIJING",
    "XLSX_TYPE",
    "MAX_ATTACHMENT",
    "OUT_POLICY",
    "OutgoingAttachment",
    "Received",
    "Candidate",
    "compose",
    "read_message",
    "workbook_candidates",
    "unpack_zip",
    "iter_files",
    "decode_words",
    "safe_file_name",
    "valid_address",
    "split_addresses",
]

# China keeps one time zone and no summer time: INTERNALDATE is turned into 北京时间, the
# clock the 截止日 is set by, whatever zone the computer running zdxm is in.
BEIJING = timezone(timedelta(hours=8), "北京时间")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ATTACHMENT = ATTACHMENT.max_bytes  # the same limit the checker applies to a returned file
MAX_DEPTH = 5  # forwarded messages inside forwarded messages
MAX_PARTS = 500  # MIME parts looked at in one message
# Generated headers are folded by the modern policy; the attachment part's own headers
# are written here by hand and kept as written (``refold_source="none"``).
OUT_POLICY = email.policy.SMTP.clone(refold_source="none")

WORKBOOK_TYPES = frozenset({
    XLSX_TYPE,
    "application/vnd.ms-excel",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/x-excel", "application/x-msexcel", "application/excel", "application/x-xls",
    "application/kset", "application/wps-office.xlsx", "application/wps-office.xls",
    "application/wps-office.et",
})
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})
GENERIC_TYPES = frozenset({"application/octet-stream", "application/binary",
                           "application/x-download", "application/force-download", ""})
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SEPARATORS = re.compile(r"[\s,;，；、]+")


# ---- addresses ------------------------------------------------------------------------------

def valid_address(address: str) -> bool:
    """A plain ASCII ``user@domain``: what every 政务邮箱 server accepts."""
    return bool(_ADDRESS.match(address)) and len(address) <= 254


def split_addresses(text: str | None) -> tuple[list[str], list[str]]:
    """A cell of 责任单位 (``a@x.cn；b@y.cn``) → (valid addresses, what was not one)."""
    good: list[str] = []
    bad: list[str] = []
    for piece in _SEPARATORS.split(text or ""):
        piece = piece.strip().strip("<>")
        if not piece:
            continue
        (good if valid_address(piece) else bad).append(piece)
    return list(dict.fromkeys(good)), bad


# ---- writing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutgoingAttachment:
    name: str
    data: bytes
    content_type: str = XLSX_TYPE


def compose(*, sender: str, sender_name: str, to: list[str], cc: list[str], subject: str,
            body: str, attachments: list[OutgoingAttachment], message_id: str, date: datetime,
            headers: dict[str, str] | None = None) -> EmailMessage:
    """A message ready to send or to save as ``.eml`` (``bytes(...)`` with ``OUT_POLICY``)."""
    message = EmailMessage(policy=OUT_POLICY)
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body, cte="base64")
    if attachments:
        message.make_mixed()
        for attachment in attachments:
            message.attach(_attachment_part(attachment))
    return message


def _attachment_part(attachment: OutgoingAttachment) -> EmailMessage:
    name = attachment.name
    # RFC 2047 words of at most 75 characters: 45 bytes of UTF-8 each, cut between characters
    words, chunk = [], b""
    for char in name:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 45:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    rfc2047 = "\r\n ".join(f"=?UTF-8?B?{base64.b64encode(w).decode('ascii')}?=" for w in words)
    # RFC 2231: percent-encoded UTF-8 in numbered pieces, each ending between characters
    pieces, piece = [], ""
    for char in name:
        quoted = "".join(chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in "-._~")
                         else f"%{b:02X}" for b in char.encode("utf-8"))
        if len(piece) + len(quoted) > 60:
            pieces.append(piece)
            piece = ""
        piece += quoted
    pieces.append(piece)
    if len(pieces) == 1:
        disposition = f" filename*=UTF-8''{pieces[0]}"
    else:
        disposition = ";\r\n".join(f" filename*{i}*={'UTF-8' + chr(39) * 2 if i == 0 else ''}{p}"
                                   for i, p in enumerate(pieces))
    head = (f"Content-Type: {attachment.content_type};\r\n name=\"{rfc2047}\"\r\n"
            f"Content-Disposition: attachment;\r\n{disposition}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    body = base64.encodebytes(attachment.data).replace(b"\n", b"\r\n")
    part = email.message_from_bytes(head.encode("ascii") + body, policy=OUT_POLICY)
    assert isinstance(part, EmailMessage)  # the policy's message class
    return part


# ---- reading --------------------------------------------------------------------------------

def decode_words(value: object) -> str:
    """A header as text: RFC 2047 words decoded, GB2312/GBK read as GB18030 (their superset,
    which Chinese mail often needs), anything undecodable replaced rather than raised."""
    if value is None:
        return ""
    text = str(value)
    try:
        parts = decode_header(text)
    except Exception:
        return printable(text)
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        out.append(_decode_bytes(chunk, charset))
    return printable("".join(out))


def _decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "utf-8").lower()
    if name in ("gb2312", "gbk", "x-gbk", "euc-cn", "cp936", "gb_2312-80", "x-mac-chinesesimp"):
        name = "gb18030"
    for candidate in (name, "utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


@dataclass
class Received:
    """The facts of a received message that zdxm keeps and answers by."""

    message: Message
    message_id: str
    sender: str  # the address alone, lower case; "" when there is none
    sender_name: str
    subject: str
    references: str
    automatic: bool  # an auto-reply, a bounce or list mail: never answered


def read_message(raw: bytes) -> Received:
    """Parse ``raw`` leniently (``compat32``: headers are only decoded when asked for)."""
    message = email.message_from_bytes(raw)
    message_id = " ".join(str(message.get("Message-ID", "") or "").split())
    if not message_id or len(message_id) > 500:
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@zdxm.invalid>"
    name, address = parseaddr(decode_words(message.get("From", "")))
    sender = address.strip().lower() if valid_address(address.strip()) else ""
    auto = str(message.get("Auto-Submitted", "no") or "no").strip().lower()
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    automatic = (auto != "no" or precedence in ("bulk", "junk", "list", "auto_reply")
                 or any(message.get(h) for h in ("X-Autoreply", "X-Autorespond", "List-Id"))
                 or sender.split("@")[0] in ("mailer-daemon", "postmaster", "noreply",
                                             "no-reply", "")
                 or message.get_content_type() == "multipart/report")
    references = " ".join(str(message.get("References", "") or "").split())
    return Received(message, message_id, sender, name, decode_words(message.get("Subject", "")),
                    references, automatic)


@dataclass
class _Walk:
    parts: int = 0
    found: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def workbook_candidates(message: Message) -> tuple[list[Candidate], list[str]]:
    """Every attachment of ``message`` (forwarded messages included) and what it is; plus
    notes about the message itself (too deep, too many parts)."""
    walk = _Walk()
    try:
        _walk(message, 0, walk)
    except Exception as exc:  # a structure the parser itself chokes on: keep what was found
        walk.notes.append(f"邮件结构异常，部分内容无法读取（{type(exc).__name__}）")
    return walk.found, walk.notes


def _walk(part: Message, depth: int, walk: _Walk) -> None:
    walk.parts += 1
    if walk.parts > MAX_PARTS:
        if walk.parts == MAX_PARTS + 1:
            walk.notes.append(f"邮件包含的部分超过 {MAX_PARTS} 个，其余部分未读取")
        return
    if part.is_multipart():
        inner = part.get_content_type() == "message/rfc822"
        if inner and depth >= MAX_DEPTH:
            walk.notes.append(f"转发层数超过 {MAX_DEPTH} 层，更深的邮件未读取")
            return
        payload = part.get_payload()
        encoding = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
        for sub in payload if isinstance(payload, list) else []:
            if not isinstance(sub, Message):
                continue
            if inner and encoding in ("base64", "quoted-printable"):
                # RFC 2046 forbids encoding a forwarded message, yet some clients do: the
                # parser saw only encoded text, so decode it and read the message inside
                text = sub.get_payload()
                if isinstance(text, str):
                    data = text.encode("ascii", "ignore")
                    decoded = (binascii.a2b_base64(data) if encoding == "base64"
                               else quopri.decodestring(data))
                    _walk(email.message_from_bytes(decoded), depth + 1, walk)
                continue
            _walk(sub, depth + 1 if inner else depth, walk)
        return
    if part.get_content_type() == "message/rfc822":  # a forwarded message sent encoded
        encoded = part.get_payload(decode=True)
        if isinstance(encoded, bytes) and depth < MAX_DEPTH:
            _walk(email.message_from_bytes(encoded), depth + 1, walk)
        return
    candidate = _classify(part)
    if candidate is not None:
        walk.found.append(candidate)


def _file_name(part: Message) -> str:
    raw = None
    try:
        raw = part.get_filename()
    except Exception:
        raw = None
    if raw is None:
        try:
            raw = part.get_param("name")  # type: ignore[assignment]
        except Exception:
            raw = None
        if isinstance(raw, tuple):
            raw = email.utils.collapse_rfc2231_value(raw)
    if not raw:
        return ""
    text = str(raw)
    if "=?" in text:
        return decode_words(text)
    if any("\udc80" <= c <= "\udcff" for c in text):  # 8-bit bytes in the header
        return _decode_bytes(text.encode("utf-8", "surrogateescape"), "gb18030")
    return printable(text)


def _classify(part: Message) -> Candidate | None:
    ctype = part.get_content_type().lower()
    name = _file_name(part)
    disposition = str(part.get("Content-Disposition", "") or "").split(";")[0].strip().lower()
    if not name and disposition != "attachment" and (
            ctype.startswith(("text/", "multipart/")) or ctype not in WORKBOOK_TYPES | ZIP_TYPES):
        return None  # the message body, an inline picture
    shown = name or f"（未命名的 {ctype} 附件）"
    suffix = PurePosixPath(name.lower()).suffix if name else ""
    if ctype == "application/ms-tnef" or name.lower() == "winmail.dat":
        return Candidate(shown, "ignore", reason="附件被 Outlook 打包为 winmail.dat，无法读取；"
                                                 "请把邮件格式改为 HTML 或纯文本后重新发送")
    is_zip = suffix == ".zip" or ctype in ZIP_TYPES
    looks_workbook = (suffix in WORKBOOK_SUFFIXES or ctype in WORKBOOK_TYPES
                      or (ctype in GENERIC_TYPES and suffix in ("", ".bin", ".dat")))
    if not (is_zip or looks_workbook):
        if suffix in OTHER_ARCHIVES:
            return Candidate(shown, "ignore", reason="压缩包格式不支持，请直接附上 .xlsx 文件或用 zip 压缩")
        return Candidate(shown, "ignore", reason="不是 Excel 工作簿，未处理")
    encoded = part.get_payload()
    if isinstance(encoded, str) and len(encoded) > MAX_ATTACHMENT * 4 // 3 + 2**16:
        return Candidate(shown, "reject", reason=too_big(len(encoded) * 3 // 4))
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes) or not data:
        return Candidate(shown, "reject", reason="附件是空的或已损坏，请重新发送")
    if len(data) > MAX_ATTACHMENT:
        return Candidate(shown, "reject", reason=too_big(len(data)))
    return inspect_attachment(shown, data, suffix, is_zip=is_zip, generic=ctype in GENERIC_TYPES)
