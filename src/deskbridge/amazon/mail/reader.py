"""read_amazon_mail: classify one inbound mail and read what deskbridge needs out of it, never raising."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import Message

from deskbridge.amazon import marketplaces
from deskbridge.amazon.mail import extract as x
from deskbridge.amazon.mail import mime
from deskbridge.amazon.mail import templates as t
from deskbridge.amazon.mail.model import AmazonMail, AttachmentInfo, FailureInfo, FailureReason, MailClass

# X-Space-Notification-Type values (amazon.md §12.9, §15) -> class. The header wins over everything.
NOTIFICATION_TYPES: dict[str, MailClass] = {
    "BBC_MESSAGE_SENT_TO_MERCHANT": MailClass.BUYER_MESSAGE,
    "BBC_MESSAGE_CONFIRMATION_TO_MERCHANT": MailClass.SELLER_COPY,
    "RETURN_REQUEST": MailClass.RETURN_REQUEST,
    "A_Z_CLAIM_RESPONDENT_NOTIFY": MailClass.A_TO_Z_CLAIM,
    "A_Z_CLAIM_RESPONDENT_CLOSE": MailClass.A_TO_Z_CLAIM,
    "BUYER_OPTED_OUT_BSM_MESSAGES": MailClass.BUYER_OPT_OUT,
    "BRC_SELLER_NOTIFICATION": MailClass.OTHER_NOTICE,
    "REFUND_ISSUED": MailClass.OTHER_NOTICE,
}

FAILURE_CLASSES = frozenset({MailClass.DELIVERY_FAILURE, MailClass.BUYER_OPT_OUT, MailClass.MAILER_DAEMON})
CONVERSATION_CLASSES = frozenset({MailClass.BUYER_MESSAGE, MailClass.SELLER_COPY})

# amz-<country>-<marketplace id>-<seller id>[-n]@domain (amazon/models.py default_forwarding_address).
_FORWARDING = re.compile(r"^amz-([a-z]{2})-([a-z0-9]{6,20})-([a-z0-9]{6,30})(?:-\d+)?@", re.IGNORECASE)
_MP_PARAM = re.compile(r"[?&;]mp=([A-Z0-9]{6,20})\b")
_COMMMGR = re.compile(r"\[commMgrTok:\s*([A-Za-z0-9]{4,64})\s*\]")
_MSG_PARAM = re.compile(r"communication-manager/[a-z-]+\.html\?(?:[^\s\"'<>]*?&)?msg=([A-Za-z0-9]{4,64})")
_NO_RESPONSE = re.compile(r"https?://[^\s\"'<>]{0,300}no-response-needed[^\s\"'<>]{0,800}")
_CASE_PARAM = re.compile(r"[?&](?:ss|cc)=([A-Za-z0-9-]{4,64})")
_RELAY_DOMAIN = r"@marketplace\.amazon\.[a-z]{2,3}(?:\.[a-z]{2})?\b"
_RELAY = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,128}" + _RELAY_DOMAIN, re.IGNORECASE)
_MAILTO_RELAY = re.compile(
    r"mailto:\s*([A-Za-z0-9._%+-]{1,128}@marketplace\.amazon\.[a-z.]{2,10}[a-z])", re.I
)
_QUOTED_MSGID = re.compile(r"^[ \t>]*Message-ID[ \t]*:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_QUOTED_SUBJECT = re.compile(r"^[ \t>]*Subject[ \t]*:[ \t]*([^\n]{1,300})$", re.IGNORECASE | re.MULTILINE)
_DSN_FIELD = re.compile(r"^[ \t]*([A-Za-z-]+)[ \t]*:[ \t]*([^\n]*)$", re.MULTILINE)


def read_amazon_mail(
    raw: bytes,
    forwarding_address: str | None = None,
    *,
    forwarding_marketplace_id: str | None = None,
) -> AmazonMail:
    """Classify and parse one inbound mail. Never raises, whatever the bytes.

    `forwarding_address` is the envelope recipient (our address Amazon forwarded to); when it has the
    default form amz-<cc>-<marketplace id>-<seller id>@… it names the marketplace. A caller that
    knows the address's marketplace from the database passes `forwarding_marketplace_id` instead,
    which is used in its place (still only when neither the relay domain nor the mail names one).
    """
    try:
        data = _as_bytes(raw)
    except Exception:
        data = b""
    try:
        return _read(data, forwarding_address, forwarding_marketplace_id)
    except Exception:
        return _fallback(data)


def attachment_payloads(raw: bytes) -> list[tuple[AttachmentInfo, bytes]]:
    """The attachments of a mail with their decoded bytes, in the order of AmazonMail.attachments."""
    try:
        return list(mime.iter_attachments(mime.parse_bytes(_as_bytes(raw))))
    except Exception:
        return []


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _fallback(data: bytes) -> AmazonMail:
    """Something unforeseen broke the parser: keep the whole mail as text, flagged, so it is still seen."""
    text = mime.decode_bytes(data, "utf-8")[0][: mime.MAX_TEXT]
    sender = None
    match = re.search(
        rb"^From:[^\n]{0,300}?([A-Za-z0-9._%+-]{1,64}@marketplace\.amazon\.[a-z.]{2,10})", data, re.M | re.I
    )
    if match:
        sender = match.group(1).decode("ascii", "replace").lower()
    return AmazonMail(
        mail_class=MailClass.BUYER_MESSAGE if sender else MailClass.NOT_AMAZON,
        sender=sender,
        buyer_alias=sender,
        text=text.strip(),
        flags=("parser_error", "unparsed"),
    )


@dataclass
class _Parts:
    msg: Message
    body: mime.Body
    text: str  # the readable body: text/plain, else the HTML converted
    links: str  # every text part as written, HTML unescaped: where footer links live
    html_only: bool
    repaired: bool


def _normalise(text: str) -> tuple[str, bool]:
    text, repaired = mime.repair_mojibake(text[: mime.MAX_TEXT])
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " "), repaired


def _read_parts(msg: Message) -> _Parts:
    body = mime.read_body(msg)
    plain = "\n".join(p for p in body.plain if p.strip())
    html_only = False
    if plain.strip():
        text = plain
    elif body.html:
        text = "\n".join(mime.html_to_text(h) for h in body.html)
        html_only = True
    else:
        text = plain
    text, repaired = _normalise(text)
    links = html.unescape("\n".join(body.plain + body.html))[: mime.MAX_TEXT]
    return _Parts(msg, body, text, links, html_only, repaired)


def _html_instead(parts: _Parts, flags: list[str]) -> x.Extraction | None:
    """A text/plain part without Amazon's markers ("view this mail in HTML") beside an HTML part
    that has them: read the HTML."""
    if parts.html_only or not parts.body.html:
        return None
    text, repaired = _normalise("\n".join(mime.html_to_text(h) for h in parts.body.html))
    extraction = x.extract_message(text)
    if extraction.text is None:
        return None
    parts.text = text
    flags.append("html_used")
    if repaired:
        flags.append("mojibake_repaired")
    return extraction


def _read(data: bytes, forwarding_address: str | None, forwarding_marketplace_id: str | None) -> AmazonMail:
    msg = mime.parse_bytes(data)
    flags: list[str] = []

    subject_raw = mime.header(msg, "Subject") or ""
    subject, subject_fixed = mime.repair_mojibake(subject_raw)
    from_name, sender = mime.address(mime.header(msg, "From"))
    if from_name:
        from_name, name_fixed = mime.repair_mojibake(from_name)
        subject_fixed = subject_fixed or name_fixed
    notification_type = (mime.header(msg, "X-Space-Notification-Type") or "").strip() or None
    message_id = next(iter(mime.message_ids(mime.header(msg, "Message-ID"))), None)
    in_reply_to = next(iter(mime.message_ids(mime.header(msg, "In-Reply-To"))), None)
    references = tuple(mime.message_ids(mime.header(msg, "References")))

    parts = _read_parts(msg)
    if parts.html_only:
        flags.append("html_only")
    if parts.repaired or subject_fixed:
        flags.append("mojibake_repaired")
    if parts.body.charset_fallback:
        flags.append("charset_fallback")

    mail_class = classify(notification_type, sender, subject, parts.text, parts.body.is_report)
    subj = x.parse_subject(subject)

    # The buyer's words (or the notice's whole text).
    extraction = x.extract_message(parts.text)
    if extraction.text is None and mail_class in CONVERSATION_CLASSES:
        extraction = _html_instead(parts, flags) or extraction
    header_region = parts.text[: extraction.header_end] if extraction.header_end is not None else parts.text
    if mail_class in CONVERSATION_CLASSES or (mail_class == MailClass.NOT_AMAZON and extraction.text):
        if extraction.text is not None:
            text = extraction.text
            flags.extend(extraction.flags)
            if not text:
                flags.append("empty_text")
        else:
            text = x.clean_block(parts.text)
            flags.append("unparsed")
    else:
        text = x.clean_block(parts.text)
    # The template's language; only a message without any known template falls back to the subject's.
    language = extraction.language
    if extraction.text is None and mail_class in CONVERSATION_CLASSES:
        language = subj.language

    # Order id: Amazon's template lines, then the subject; buyer's own words are never searched.
    order_id: str | None
    if mail_class in CONVERSATION_CLASSES or mail_class == MailClass.NOT_AMAZON:
        order_id = x.template_order_id(header_region) or subj.order_id
        if order_id is None and extraction.text is None:
            order_id = x.any_order_id(parts.text)
    else:
        order_id = (
            x.bracket_order_id(parts.text)
            or x.template_order_id(parts.text)
            or subj.order_id
            or x.any_order_id(subject)
            or x.any_order_id(parts.text)
        )

    item = x.find_item(header_region) or x.find_item(parts.text)

    # The buyer: the relay alias, and a name from the display name, subject or copy line.
    buyer_alias = None
    relay_sender = bool(sender and marketplaces.by_relay_domain(sender.rpartition("@")[2]))
    if relay_sender and mail_class in (MailClass.BUYER_MESSAGE, MailClass.NOT_AMAZON):
        buyer_alias = sender
    buyer_name: str | None = None
    if mail_class == MailClass.BUYER_MESSAGE or (mail_class == MailClass.NOT_AMAZON and buyer_alias):
        buyer_name = x.display_name(from_name) or subj.name
    elif mail_class == MailClass.SELLER_COPY:
        named = t.SELLER_COPY_NAME.search(parts.text[:5000]) or t.SELLER_COPY_NAME.search(subject)
        buyer_name = named.group(1).strip() if named else None

    failure = None
    if mail_class in FAILURE_CLASSES:
        failure = _failure(mail_class, parts, subject, in_reply_to, order_id)
        recipient = failure.recipient or ""
        if buyer_alias is None and marketplaces.by_relay_domain(recipient.rpartition("@")[2]):
            buyer_alias = recipient  # the buyer the refused reply was for
        order_id = order_id or failure.order_id

    case_id = None
    if buyer_alias and "+" in buyer_alias.partition("@")[0]:
        case_id = buyer_alias.partition("@")[0].partition("+")[2] or None
    if case_id is None:
        case_match = _CASE_PARAM.search(parts.links)
        case_id = case_match.group(1) if case_match else None

    marketplace_id, source = _marketplace(
        buyer_alias, msg, parts.links, forwarding_address, forwarding_marketplace_id, flags
    )

    token_match = _COMMMGR.search(parts.links) or _MSG_PARAM.search(parts.links)
    no_response = None
    if mail_class == MailClass.BUYER_MESSAGE:
        links = _NO_RESPONSE.findall(parts.links)
        no_response = links[-1] if links else None  # the footer's, after anything a buyer could paste

    return AmazonMail(
        mail_class=mail_class,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        date=mime.iso_date(mime.header(msg, "Date")),
        sender=sender,
        notification_type=notification_type,
        topic=subj.topic,
        order_id=order_id,
        buyer_alias=buyer_alias,
        buyer_name=buyer_name,
        case_id=case_id,
        marketplace_id=marketplace_id,
        marketplace_source=source,
        language=language,
        text=text,
        asin=item.asin if item else None,
        product_title=item.title if item else None,
        sku=item.sku if item else None,
        quantity=item.quantity if item else None,
        commmgr_token=token_match.group(1) if token_match else None,
        no_response_url=no_response,
        attachments=tuple(info for info, _ in parts.body.attachments),
        failure=failure,
        flags=tuple(dict.fromkeys(flags)),
    )


def _is_amazon_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    for known in (*marketplaces.BY_DOMAIN, "amazon.com"):
        if domain == known or domain.endswith("." + known):
            return True
    return False


def classify(
    notification_type: str | None, sender: str | None, subject: str, body: str, is_report: bool
) -> MailClass:
    """X-Space-Notification-Type first, then the sender, then subject and body (amazon.md §12.9)."""
    kind = (notification_type or "").strip().upper()
    if kind in NOTIFICATION_TYPES:
        return NOTIFICATION_TYPES[kind]
    if kind.startswith("A_Z_CLAIM"):
        return MailClass.A_TO_Z_CLAIM
    local, _, domain = (sender or "").rpartition("@")
    if is_report or local in ("mailer-daemon", "postmaster") or local.startswith("mailer-daemon"):
        return MailClass.MAILER_DAEMON
    if domain and marketplaces.by_relay_domain(domain):
        return MailClass.BUYER_MESSAGE
    if kind or (domain and _is_amazon_domain(domain)):
        return _classify_notice(local, subject, body[:20000])
    if not sender and t.BOUNCE_SUBJECT.search(subject):
        return MailClass.MAILER_DAEMON
    return MailClass.NOT_AMAZON


def _classify_notice(local: str, subject: str, body: str) -> MailClass:
    """Mail from one of Amazon's own senders: subject first, then body; anything else is a notice."""
    if local.startswith("atoz-guarantee"):
        return MailClass.A_TO_Z_CLAIM
    for pattern, mail_class in ((t.SELLER_COPY, MailClass.SELLER_COPY), (t.OPT_OUT, MailClass.BUYER_OPT_OUT)):
        if pattern.search(subject) or pattern.search(body):
            return mail_class
    rules: list[tuple[re.Pattern[str], MailClass]] = [
        (t.DELIVERY_FAILURE, MailClass.DELIVERY_FAILURE),
        (t.A_TO_Z, MailClass.A_TO_Z_CLAIM),
        (t.RETURN_REQUEST, MailClass.RETURN_REQUEST),
    ]
    for text in (subject, body):
        for pattern, mail_class in rules:
            if pattern.search(text):
                return mail_class
    return MailClass.OTHER_NOTICE


def _marketplace(
    alias: str | None,
    msg: Message,
    links: str,
    forwarding_address: str | None,
    forwarding_marketplace_id: str | None,
    flags: list[str],
) -> tuple[str | None, str | None]:
    """Relay domain, else X-Marketplace-ID, else the mp= link parameter, else the forwarding address."""
    found: list[tuple[str, str]] = []
    if alias:
        market = marketplaces.by_relay_domain(alias.rpartition("@")[2])
        if market:
            found.append((market.id, "relay_domain"))
    header_id = (mime.header(msg, "X-Marketplace-ID") or "").strip().upper()
    if header_id and marketplaces.by_id(header_id):
        found.append((header_id, "header"))
    for mp in _MP_PARAM.findall(links):
        if marketplaces.by_id(mp):
            found.append((mp, "mp_param"))
            break
    if forwarding_marketplace_id and marketplaces.by_id(forwarding_marketplace_id):
        found.append((forwarding_marketplace_id, "forwarding_address"))
    elif forwarding_address:
        parsed = _forwarding_marketplace(forwarding_address)
        if parsed:
            found.append((parsed, "forwarding_address"))
    if not found:
        return None, None
    if len({mp for mp, _ in found}) > 1:
        flags.append("marketplace_mismatch")
    return found[0]


def _forwarding_marketplace(address: str) -> str | None:
    match = _FORWARDING.match(address.strip().strip("<>"))
    if not match:
        return None
    market = marketplaces.by_id(match.group(2).upper())
    if market is None:
        return None
    country = match.group(1).upper()
    if country != market.country_code and not (country == "GB" and market.country_code == "UK"):
        return None
    return market.id


def _failure(
    mail_class: MailClass, parts: _Parts, subject: str, in_reply_to: str | None, order_id: str | None
) -> FailureInfo:
    text = parts.text
    status_text = "\n".join(parts.body.delivery_status)
    dsn = {k.lower(): v.strip() for k, v in _DSN_FIELD.findall(status_text)}

    recipient = None
    mailto = _MAILTO_RELAY.search(parts.links)
    if mailto:
        recipient = mailto.group(1).lower()
    for key in ("final-recipient", "original-recipient"):
        if recipient is None and dsn.get(key):
            recipient = dsn[key].rpartition(";")[2].strip().strip("<>").lower() or None
    original_id = original_subject = None
    for embedded in parts.body.embedded:
        original_id = original_id or next(iter(mime.message_ids(mime.header(embedded, "Message-ID"))), None)
        original_subject = original_subject or mime.header(embedded, "Subject")
        if recipient is None:
            recipient = mime.address(mime.header(embedded, "To"))[1]
    if recipient is None:
        relay = _RELAY.search(text) or _RELAY.search(parts.links)
        recipient = relay.group(0).lower() if relay else None
    if original_id is None:
        quoted = _QUOTED_MSGID.search(text)
        original_id = quoted.group(1) if quoted else in_reply_to
    if original_subject is None:
        quoted_subject = _QUOTED_SUBJECT.search(text)
        original_subject = quoted_subject.group(1).strip() if quoted_subject else None

    failed_order = (
        x.bracket_order_id(text)
        or (x.any_order_id(original_subject) if original_subject else None)
        or order_id
    )
    status = None
    if dsn.get("status"):
        status_match = re.search(r"\d\.\d{1,3}\.\d{1,3}", dsn["status"])
        status = status_match.group(0) if status_match else None
    detail = dsn.get("diagnostic-code") or _first_sentence(text)
    if detail:
        detail = " ".join(detail.split())[:240]

    if mail_class == MailClass.BUYER_OPT_OUT:
        reason = FailureReason.OPTED_OUT.value
    else:
        reason = FailureReason.UNKNOWN.value
        haystack = "\n".join(filter(None, [dsn.get("diagnostic-code"), status, subject, text[:20000]]))
        for code, pattern in t.FAILURE_REASONS:
            if pattern.search(haystack):
                reason = code
                break
    return FailureInfo(
        reason=reason,
        recipient=recipient,
        order_id=failed_order,
        message_id=original_id,
        subject=original_subject,
        status=status,
        detail=detail or None,
    )


def _first_sentence(text: str) -> str | None:
    for pattern in (t.OPT_OUT, t.DELIVERY_FAILURE):
        match = pattern.search(text)
        if match:
            start = max(text.rfind("\n", 0, match.start()), text.rfind(". ", 0, match.start()) + 1, 0)
            end_candidates = [
                p for p in (text.find(". ", match.end()), text.find("\n", match.end())) if p >= 0
            ]
            end = min(end_candidates) + 1 if end_candidates else len(text)
            return text[start:end].strip() or None
    return None


__all__ = ["attachment_payloads", "classify", "read_amazon_mail"]
