"""Defensive MIME reading: headers, text bodies and attachments out of any bytes, never an exception.

The stdlib parser (policy.default) is lenient about structure but its header objects and payload
accessors can raise on malformed input, so every access here is guarded and falls back to the raw
value. Charsets are tried strictly first; text that was decoded twice (UTF-8 read as Latin-1 or
Windows-1252) is repaired with an explicit byte-level mapping (see repair_mojibake).
"""

from __future__ import annotations

import codecs
import contextlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from deskbridge.amazon.mail.model import AttachmentInfo

MAX_TEXT = 2_000_000  # characters of body text we look at; the rest is kept out of regexes


def parse_bytes(raw: bytes) -> Message:
    """A message object for any bytes (the stdlib parser records defects rather than raising)."""
    try:
        return BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:
        # Only pathological input gets here; the compat32 parser is the most forgiving one.
        return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)


# --- charsets -------------------------------------------------------------------------------------

# Windows-1252 puts printable characters at 0x80-0x9F; a UTF-8 continuation byte read through it
# becomes one of these, so they count as continuation bytes when undoing double decoding.
_CP1252_TO_BYTE: dict[str, int] = {}
for _b in range(0x80, 0xA0):
    with contextlib.suppress(UnicodeDecodeError):
        _CP1252_TO_BYTE[bytes([_b]).decode("cp1252")] = _b
_CONT = "\x80-\xbf" + "".join(re.escape(c) for c in _CP1252_TO_BYTE)
_MOJIBAKE = re.compile(
    f"(?:[\xc2-\xdf][{_CONT}]|[\xe0-\xef][{_CONT}]{{2}}|[\xf0-\xf4][{_CONT}]{{3}})+",
)


def _as_byte(char: str) -> int:
    code = ord(char)
    return code if code < 0x100 else _CP1252_TO_BYTE[char]


def _undo_one(match: re.Match[str]) -> str:
    chunk = match.group(0)
    try:
        return bytes(_as_byte(c) for c in chunk).decode("utf-8")
    except (UnicodeDecodeError, KeyError):
        return chunk


def repair_mojibake(text: str) -> tuple[str, bool]:
    """Undo UTF-8 that was decoded as Latin-1/Windows-1252 (once or twice): "DÃ©but" -> "Début".

    Only runs of characters that form valid UTF-8 sequences when mapped back to bytes are touched,
    so ordinary accented text stays as it is.
    """
    repaired = text
    for _ in range(2):
        fixed = _MOJIBAKE.sub(_undo_one, repaired)
        if fixed == repaired:
            break
        repaired = fixed
    return repaired, repaired != text


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None


def decode_bytes(payload: bytes, charset: str | None) -> tuple[str, bool]:
    """Text of a payload, and whether the declared charset had to be abandoned."""
    declared = _codec(charset)
    tried: list[str] = []
    for candidate in (declared, "utf-8", "cp1252"):
        if candidate is None or candidate in tried:
            continue
        tried.append(candidate)
        try:
            text = payload.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        return text, declared is not None and candidate != declared
    return payload.decode("latin-1"), True


# --- headers --------------------------------------------------------------------------------------


def _unescape_8bit(value: str) -> str:
    """Header text with raw 8-bit bytes (kept by the parser as surrogates) decoded as UTF-8 or 1252."""
    if not any("\udc80" <= c <= "\udcff" for c in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    text, _ = decode_bytes(data, "utf-8")
    return text


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; anything undecodable kept as written."""
    if "=?" not in value:
        return value
    try:
        parts = decode_header(value)
    except Exception:
        return value
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset or "ascii")[0])
    return "".join(out)


_FOLD = re.compile(r"\r?\n[ \t]*")


def header(msg: Message, name: str) -> str | None:
    """The first header of that name, unfolded and decoded, or None."""
    for key, raw in raw_headers(msg):
        if key.lower() == name.lower():
            return decode_header_value(raw)
    return None


def decode_header_value(raw: str) -> str:
    value = _FOLD.sub(" ", _unescape_8bit(str(raw)))
    value = _decode_words(value)
    return value.replace("\r", " ").replace("\n", " ").strip()


def raw_headers(msg: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        try:
            return [(str(k), str(v)) for k, v in msg._headers]  # type: ignore[attr-defined]
        except Exception:
            return []


_ANGLE_ADDR = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


def address(value: str | None) -> tuple[str | None, str | None]:
    """(display name, address lower-case) of the first address in a header value."""
    if not value:
        return None, None
    try:
        pairs = getaddresses([value])
    except Exception:
        pairs = []
    name: str | None
    addr: str | None
    name, addr = pairs[0] if pairs else ("", "")
    if not addr or "@" not in addr or any(c in addr for c in " <>"):
        # A display name that swallowed the address: "Alisa - Amazon Marketplace <x@y>" in quotes.
        found = _ANGLE_ADDR.search(value)
        if found:
            addr = found.group(1)
            name = value[: found.start()].strip().strip('"').strip()
        else:
            bare = re.search(r"(?<![^\s<>\"'@])[^\s<>\"'@]{1,200}@[^\s<>\"']{1,255}", value)
            addr = bare.group(0) if bare else ""
    name = (name or "").strip().strip('"').strip() or None
    addr = addr.strip().strip("<>").lower() or None
    return name, addr


_MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a header value, in order, with their angle brackets."""
    if not value:
        return []
    found = _MSGID.findall(value)
    if found:
        return found
    return [v for v in value.split() if v][:50]


def iso_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except Exception:
        return None


# --- body parts -----------------------------------------------------------------------------------


def content_type(part: Message) -> str:
    try:
        return str(part.get_content_type()).lower()
    except Exception:
        return "text/plain"


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
        try:
            return str(value[2])
        except Exception:
            return None
    return str(value) if value else None


def filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = _param(part, "name")
    if not name:
        return None
    return decode_header_value(str(name)) or None


def disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        raw = part.get_payload()
    except Exception:
        return b""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def children(part: Message) -> list[Message]:
    try:
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                return [p for p in payload if isinstance(p, Message)]
    except Exception:
        return []
    return []


@dataclass
class Body:
    """The readable parts of a message: texts, the raw HTML (for links), attachments, reports."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[tuple[AttachmentInfo, Message]] = field(default_factory=list)
    embedded: list[Message] = field(default_factory=list)  # message/rfc822 and text/rfc822-headers
    delivery_status: list[str] = field(default_factory=list)  # message/delivery-status as text
    charset_fallback: bool = False
    is_report: bool = False


def _text_of(part: Message, body: Body) -> str:
    text, fallback = decode_bytes(payload_bytes(part), _param(part, "charset"))
    body.charset_fallback = body.charset_fallback or fallback
    return text[:MAX_TEXT]


def _is_attachment(part: Message, ctype: str) -> bool:
    if disposition(part) == "attachment" or filename(part):
        return True
    return not ctype.startswith("text/")


def _content_id(part: Message) -> str | None:
    for key, raw in raw_headers(part):
        if key.lower() == "content-id":
            return decode_header_value(raw).strip().strip("<>") or None
    return None


def read_body(msg: Message, max_parts: int = 500) -> Body:
    body = Body()
    if content_type(msg) == "multipart/report":
        body.is_report = True
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < max_parts:
        part, depth = stack.pop(0)
        seen += 1
        ctype = content_type(part)
        if ctype == "multipart/report":
            body.is_report = True
        if _safe_is_multipart(part):
            if ctype == "message/rfc822" or ctype.startswith("message/"):
                body.embedded.extend(children(part)[:1])
                if ctype == "message/delivery-status":
                    body.delivery_status.append(_status_text(part))
                continue
            if depth < 50:
                stack[0:0] = [(c, depth + 1) for c in children(part)]
            continue
        if ctype == "message/delivery-status":
            body.delivery_status.append(_text_of(part, body))
            continue
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            data = payload_bytes(part)
            with contextlib.suppress(Exception):
                body.embedded.append(HeaderParser(policy=policy.default).parsestr(_text_of_bytes(data)))
            continue
        if ctype in ("text/plain", "text/html") and not _is_attachment(part, ctype):
            (body.plain if ctype == "text/plain" else body.html).append(_text_of(part, body))
            continue
        if ctype.startswith("multipart/"):
            continue
        data = payload_bytes(part)
        info = AttachmentInfo(
            filename=filename(part), content_type=ctype, size=len(data), content_id=_content_id(part)
        )
        body.attachments.append((info, part))
    return body


def _safe_is_multipart(part: Message) -> bool:
    try:
        return bool(part.is_multipart())
    except Exception:
        return False


def _text_of_bytes(data: bytes) -> str:
    return decode_bytes(data, "utf-8")[0][:MAX_TEXT]


def _status_text(part: Message) -> str:
    """message/delivery-status parsed by the stdlib into header blocks, back as text."""
    lines = []
    for block in children(part):
        for key, raw in raw_headers(block):
            lines.append(f"{key}: {decode_header_value(raw)}")
        lines.append("")
    return "\n".join(lines)


def iter_attachments(msg: Message) -> Iterator[tuple[AttachmentInfo, bytes]]:
    for info, part in read_body(msg).attachments:
        yield info, payload_bytes(part)


# --- HTML -----------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]{0,2000}>")
_BREAK = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|/h\d)\b[^>]{0,200}>", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body (inscriptis), with a plain tag-stripper as the fallback."""
    try:
        from inscriptis import get_text

        return str(get_text(markup))
    except Exception:
        text = _BREAK.sub("\n", markup)
        return html.unescape(_TAG.sub("", text))
