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

What Chinese mail clients really send is read as they meant it: raw 8-bit UTF-8 or GBK in
headers and file names (tried as UTF-8, then as GB18030, GBK's superset), RFC 2047 words
in any charset (a GB2312 label is read as GB18030; words split inside a character are
joined first), RFC 2231 parameters with a charset, a wrong one or none.

The sender is the address of the raw ``From`` header, parsed by the standard library's RFC
5322 parser (``email.headerregistry``, the one behind ``email.policy.default``) *before*
any display name is decoded: it splits the header into tokens first and decodes encoded
words only inside the display name, so ``=?utf-8?b?<victim@x>?= <attacker@y>`` is
attacker@y and an encoded "李明, 交通局" stays one name. Where the parser reports the
header as invalid (two addresses, an address-like unquoted name, a missing ``>``), the
sender counts as unknown: such mail is never trusted and never answered. The encoded-word
slips of Chinese clients (a quoted encoded word) are only cosmetic and are tolerated.

A Message-ID is kept verbatim when it is a plain ``<…>`` of printable ASCII; anything else
(control characters, 8-bit bytes, absurd length) is kept as ``sha256:`` of its raw bytes, so
the same message is recognised on every run whatever a workbook cell can hold.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.errors
import email.policy
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, Message
from email.utils import format_datetime
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
    "raw_header",
    "message_key",
    "sender_address",
    "reply_subject",
    "body_notes",
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
            headers: dict[str, str] | None = None, in_reply_to: str | None = None,
            references: list[str] | None = None) -> EmailMessage:
    """A message ready to send or to save as ``.eml`` (``bytes(...)`` with ``OUT_POLICY``).

    ``in_reply_to`` and ``references`` are Message-IDs written as they are: the modern
    policy would turn an Exchange-length ID into RFC 2047 words, which no client threads.
    """
    message = EmailMessage(policy=OUT_POLICY)
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if in_reply_to:
        message.set_raw("In-Reply-To", in_reply_to)
    if references:
        message.set_raw("References", "\r\n ".join(references))
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

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_MESSAGE_ID = re.compile(r"<[\x21-\x3d\x3f-\x7e]{1,250}>")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:回复|答复|回覆|re|aw|sv|antw|vs)\s*(?:\[\d+\])?\s*[:：]\s*)+",
                           re.IGNORECASE)
_GB = ("gb2312", "gbk", "x-gbk", "euc-cn", "cp936", "gb_2312-80", "x-mac-chinesesimp", "csgb2312",
       "gb2312-80", "chinese")
# Defects of the address parser that concern only how a display name was encoded: Chinese
# clients often quote an encoded word or omit the space after it. Any other invalid-header
# defect makes the sender unknown.
_COSMETIC = ("encoded word inside quoted string", "missing trailing whitespace after encoded-word",
             "missing whitespace before encoded word")
_SELF_NAMED = re.compile(r"^\s*([^\s<>\"]+@[^\s<>\"]+)\s*<([^<>\s]+)>\s*$")
_REGISTRY = HeaderRegistry()


def unescape_8bit(text: str) -> str:
    """Raw 8-bit bytes in a header (kept by the parser as surrogate escapes) as text: UTF-8
    when they are valid UTF-8, else GB18030 (what Chinese Windows clients write)."""
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def raw_header(message: Message, name: str) -> str | None:
    """The first ``name`` header exactly as received (folding and 8-bit bytes included)."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return value if isinstance(value, str) else str(value)
    return None


def decode_words(value: object) -> str:
    """A header as text: raw 8-bit bytes and RFC 2047 words in any charset decoded (GB2312
    and GBK labels read as GB18030, their superset, which Chinese mail often needs; words of
    one charset joined before decoding, since some clients split a character between two);
    anything undecodable replaced rather than raised."""
    if value is None:
        return ""
    text = unescape_8bit(str(value)).replace("\r", "").replace("\n", "")
    out: list[str] = []
    data, charset = b"", ""
    position = 0

    def flush() -> None:
        nonlocal data, charset
        if charset:
            out.append(_decode_bytes(data, charset))
        data, charset = b"", ""

    for match in _ENCODED_WORD.finditer(text):
        gap = text[position:match.start()]
        position = match.end()
        word = _word_bytes(match.group(2), match.group(3))
        if word is None:  # not really an encoded word: keep it as written
            flush()
            out.append(gap + match.group(0))
            continue
        label = match.group(1).split("*", 1)[0].lower()  # RFC 2231 adds *language
        if gap and not (charset and gap.isspace()):  # space between two words is dropped
            flush()
            out.append(gap)
        elif charset and label != charset:
            flush()
        charset = label
        data += word
    flush()
    out.append(text[position:])
    return printable("".join(out))


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            return binascii.a2b_base64(payload + "=" * (-len(payload) % 4))
        return binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def _decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "utf-8").lower()
    if name in _GB:
        name = "gb18030"
    elif name in ("big5", "x-big5", "cn-big5"):
        name = "big5hkscs"  # Big5 with the characters Hong Kong and Taiwan clients add
    elif name in ("unknown-8bit", "x-unknown", "unknown", "us-ascii", "ascii", "default"):
        name = "utf-8"
    for candidate in (name, "utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def message_key(raw_id: str | None) -> str:
    """How zdxm knows a message: its Message-ID verbatim when it is a plain ``<…>`` of
    printable ASCII, else ``sha256:`` of its raw bytes ("" when there is none)."""
    if raw_id is None or not raw_id.strip():
        return ""
    compact = "".join(raw_id.split())
    if _MESSAGE_ID.fullmatch(compact):
        return compact
    data = raw_id.strip().encode("utf-8", "surrogateescape")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sender_address(raw_from: str | None) -> tuple[str, str]:
    """(address in lower case, display name) of a raw ``From`` header; the address is ""
    when the header does not name exactly one valid mailbox unambiguously."""
    if not raw_from:
        return "", ""
    text = unescape_8bit(raw_from).replace("\r", "").replace("\n", "")
    try:
        header = _REGISTRY("From", text)
        addresses = list(getattr(header, "addresses", ()))
        defects = list(header.defects)
    except Exception:  # the parser choked: nobody can be sure who sent it
        return "", ""
    invalid = [d for d in defects if isinstance(d, email.errors.InvalidHeaderDefect)
               and str(d) not in _COSMETIC]
    if invalid:
        # "a@b.cn <a@b.cn>": some clients name a sender by the address itself
        same = _SELF_NAMED.match(text)
        if same is None or same.group(1).lower() != same.group(2).lower():
            return "", ""
        address, name = same.group(2), ""
    elif len(addresses) != 1:
        return "", ""
    else:
        address, name = addresses[0].addr_spec, printable(addresses[0].display_name)
    address = address.strip()
    return (address.lower(), name) if valid_address(address) else ("", name)


def reply_subject(subject: str) -> str:
    """``回复：`` and the subject without the reply prefixes it already has (no 回复：回复：)."""
    rest = _REPLY_PREFIX.sub("", subject).strip()
    return f"回复：{rest[:200]}" if rest else "报送回执"


@dataclass
class Received:
    """The facts of a received message that zdxm keeps and answers by."""

    message: Message
    message_id: str  # the key (``message_key``); a hash of the message when it has none
    sender: str  # the address alone, lower case; "" when there is none or it is ambiguous
    sender_name: str
    subject: str
    references: list[str]  # the thread's Message-IDs, usable verbatim (the last ten)
    automatic: bool  # an auto-reply, a bounce or list mail: never answered
    digest: str = ""  # sha256 of the whole message ("" when only its header was read)
    thread_id: str | None = None  # the Message-ID as an answer's In-Reply-To may carry it
    raw: bytes = b""  # the message as received (empty when only its header was read)


def read_message(raw: bytes, *, header_only: bool = False) -> Received:
    """Parse ``raw`` leniently (``compat32``: headers are only decoded when asked for)."""
    message = email.message_from_bytes(raw)
    digest = "" if header_only else hashlib.sha256(raw).hexdigest()
    key = message_key(raw_header(message, "Message-ID"))
    thread_id = key if key.startswith("<") else None
    if not key and digest:
        key = f"<sha256-{digest[:40]}@zdxm.invalid>"
    sender, name = sender_address(raw_header(message, "From"))
    auto = str(raw_header(message, "Auto-Submitted") or "no").strip().lower()
    precedence = str(raw_header(message, "Precedence") or "").strip().lower()
    automatic = (auto != "no" or precedence in ("bulk", "junk", "list", "auto_reply")
                 or any(raw_header(message, h) for h in ("X-Autoreply", "X-Autorespond", "List-Id"))
                 or sender.split("@")[0] in ("mailer-daemon", "postmaster", "noreply",
                                             "no-reply", "")
                 or message.get_content_type() == "multipart/report")
    thread = " ".join(str(raw_header(message, h) or "") for h in ("References", "In-Reply-To"))
    references = list(dict.fromkeys(_MESSAGE_ID.findall(unescape_8bit(thread))))[-10:]
    return Received(message, key, sender, name, decode_words(raw_header(message, "Subject")),
                    references, automatic, digest, thread_id, b"" if header_only else raw)


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
    """The attachment's name as the sender meant it: ``filename`` of Content-Disposition,
    else ``name`` of Content-Type — raw 8-bit, RFC 2231 (any charset, or none) or RFC 2047
    words inside the quotes, as clients write it."""
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        raw = raw_header(part, header)
        if raw is None:
            continue
        try:
            holder = Message()
            holder[header] = unescape_8bit(raw).replace("\r", "").replace("\n", "")
            value = holder.get_param(param, header=header)
        except Exception:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
            charset, _language, text = value
            try:
                data = text.encode("latin-1")
            except UnicodeEncodeError:  # 8-bit text already decoded above
                name = text
            else:
                name = _decode_bytes(data, charset or "utf-8")
        elif isinstance(value, str):
            name = email.utils.unquote(value)
        else:
            continue
        name = decode_words(name) if "=?" in name else printable(name)
        if name.strip():
            return name.strip()
    return ""


def body_notes(message: Message) -> list[str]:
    """Why a message without a workbook has none, when its body shows it: a table pasted
    into an HTML body, or a "超大附件"/"云附件" download link instead of an attachment."""
    notes: list[str] = []
    for part in message.walk():
        if part.get_content_type() not in ("text/html", "text/plain") or part.get_filename():
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:
            continue
        if not isinstance(payload, bytes):
            continue
        text = _decode_bytes(payload[:2_000_000], part.get_content_charset())
        lowered = text.lower()
        if _CLOUD.search(lowered):
            note = ("附件是“超大附件”或“云附件”的下载链接，系统不能自动下载；请把填好的 Excel 文件"
                    "直接添加为附件（填报文件通常不足 1 MB）后重新发送")
            if note not in notes:
                notes.append(note)
        if part.get_content_type() == "text/html" and "<table" in lowered:
            note = "表格粘贴在了邮件正文中，系统无法读取；请把填好的 Excel 模板作为附件发送"
            if note not in notes:
                notes.append(note)
    return notes


_CLOUD = re.compile(r"超大附件|云附件|文件中转站|ftn_handler|ftnexs_download|/large[-_]?attach"
                    r"|largefile|bigattach|mail\.163\.com/.*?(?:dl|download)")
_KINDS = (
    ((".jpg", ".jpeg", ".png", ".gif", ".bmp", ".heic", ".webp", ".tif", ".tiff"), "image/",
     "这是图片（截图或照片），无法读取其中的数据；请发送填好的 Excel 模板"),
    ((".pdf",), "application/pdf", "这是 PDF 文件，无法读取其中的数据；请发送填好的 Excel 模板"),
    ((".doc", ".docx", ".wps", ".rtf"), "application/msword",
     "这是 Word 文档，不是填报模板；请把数据填进 Excel 模板后发送"),
)


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
        return Candidate(shown, "ignore", reason="附件被 Outlook 打包成了 winmail.dat，无法读取；请在"
                                                 "Outlook 中把邮件格式改为 HTML 或纯文本后重新发送")
    is_zip = suffix == ".zip" or ctype in ZIP_TYPES
    looks_workbook = (suffix in WORKBOOK_SUFFIXES or ctype in WORKBOOK_TYPES
                      or (ctype in GENERIC_TYPES and suffix in ("", ".bin", ".dat")))
    if not (is_zip or looks_workbook):
        if suffix in OTHER_ARCHIVES:
            return Candidate(shown, "ignore", reason=f"{suffix[1:]} 压缩包不能自动解压；请直接附上 .xlsx "
                                                     "文件，或改用 zip 压缩")
        for suffixes, prefix, reason in _KINDS:
            if suffix in suffixes or ctype.startswith(prefix):
                return Candidate(shown, "ignore", reason=reason)
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
