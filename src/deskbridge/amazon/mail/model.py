"""What the reader learned about one Amazon mail: plain, frozen, JSON round-trippable values."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class MailClass(StrEnum):
    """What a mail in the forwarding mailbox is (amazon.md §12.9)."""

    BUYER_MESSAGE = "buyer_message"  # open or append a ticket
    SELLER_COPY = "seller_copy"  # Amazon's copy of a reply typed in Seller Central: never a new ticket
    DELIVERY_FAILURE = "delivery_failure"  # Amazon did not deliver one of the seller's messages
    BUYER_OPT_OUT = "buyer_opt_out"  # the same, because the buyer opted out of unsolicited messages
    MAILER_DAEMON = "mailer_daemon"  # a DSN (bounce) for one of our own replies
    RETURN_REQUEST = "return_request"
    A_TO_Z_CLAIM = "a_to_z_claim"
    OTHER_NOTICE = "other_notice"  # any other mail from Amazon: kept, never a conversation
    NOT_AMAZON = "not_amazon"


class FailureReason(StrEnum):
    """Short machine codes for why a reply did not reach the buyer."""

    OPTED_OUT = "opted_out"
    UNAUTHORIZED_SENDER = "unauthorized_sender"
    CONTENT_REJECTED = "content_rejected"
    ACCOUNT_RESTRICTED = "account_restricted"
    AUTH_FAILED = "auth_failed"  # SPF / DKIM / DMARC of our outbound mail
    UNKNOWN_RECIPIENT = "unknown_recipient"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AttachmentInfo:
    """Metadata of one attached part; the bytes come from attachment_payloads(raw)."""

    filename: str | None
    content_type: str
    size: int
    content_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "content_id": self.content_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttachmentInfo:
        return cls(
            filename=data.get("filename"),
            content_type=str(data.get("content_type") or "application/octet-stream"),
            size=int(data.get("size") or 0),
            content_id=data.get("content_id"),
        )


@dataclass(frozen=True)
class FailureInfo:
    """Which of the seller's messages did not arrive, and why (delivery failures, opt-outs, DSNs)."""

    reason: str = FailureReason.UNKNOWN.value
    recipient: str | None = None  # the buyer alias the failed message was addressed to
    order_id: str | None = None
    message_id: str | None = None  # Message-ID of the failed message, when quoted
    subject: str | None = None  # its subject, when quoted
    status: str | None = None  # DSN status such as 5.7.1
    detail: str | None = None  # a short human-readable reason (first sentence or diagnostic code)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FailureInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """The text as a comparison key: NFKC, case-folded, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class AmazonMail:
    """Everything deskbridge reads out of one inbound mail. Fields are None when absent."""

    mail_class: MailClass
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    date: str | None = None  # ISO 8601 from the Date header
    sender: str | None = None  # the From address, lower-case
    notification_type: str | None = None  # X-Space-Notification-Type as sent
    topic: str | None = None
    order_id: str | None = None
    buyer_alias: str | None = None
    buyer_name: str | None = None
    case_id: str | None = None  # the "+<case>" of the alias or the ss=/cc= link parameter
    marketplace_id: str | None = None
    marketplace_source: str | None = None  # relay_domain | header | mp_param | forwarding_address
    language: str | None = None
    text: str = ""
    asin: str | None = None
    product_title: str | None = None
    sku: str | None = None
    quantity: int | None = None
    commmgr_token: str | None = None
    no_response_url: str | None = None  # Amazon's signed "no response needed" link, unmodified
    attachments: tuple[AttachmentInfo, ...] = ()
    failure: FailureInfo | None = None
    flags: tuple[str, ...] = field(default=())

    def fingerprint(self) -> str:
        """A stable key for spotting the same message delivered twice: alias, order and text."""
        key = json.dumps(
            [(self.buyer_alias or "").lower(), self.order_id or "", normalise_text(self.text)],
            ensure_ascii=False,
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "mail_class":
                value = str(value)
            elif f.name in ("references", "flags"):
                value = list(value)
            elif f.name == "attachments":
                value = [a.to_json() for a in value]
            elif f.name == "failure":
                value = value.to_json() if value is not None else None
            data[f.name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AmazonMail:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        values["mail_class"] = MailClass(values.get("mail_class", MailClass.OTHER_NOTICE))
        values["references"] = tuple(values.get("references") or ())
        values["flags"] = tuple(values.get("flags") or ())
        values["attachments"] = tuple(AttachmentInfo.from_json(a) for a in values.get("attachments") or ())
        failure = values.get("failure")
        values["failure"] = FailureInfo.from_json(failure) if failure else None
        return cls(**values)
