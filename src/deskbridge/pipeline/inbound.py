"""What happens to an inbound message, step by step (DESIGN.md §2). Each step is idempotent."""

from __future__ import annotations

from collections.abc import Callable

from deskbridge.amazon.mail import AmazonMail, MailClass, read_amazon_mail
from deskbridge.core.logs import get_logger
from deskbridge.pipeline import relay_mail
from deskbridge.pipeline.conversations import record_buyer_message
from deskbridge.pipeline.deliver import deliver
from deskbridge.pipeline.enrich import enrich
from deskbridge.pipeline.models import InboundMessage

log = get_logger(__name__)


def process(message: InboundMessage) -> None:
    """Read the mail once (the result is kept on the row), then hand it to the step for its class."""
    mail = read(message)
    HANDLERS.get(MailClass(mail.mail_class), record_only)(message, mail)


def read(message: InboundMessage) -> AmazonMail:
    if message.parsed is not None:
        return AmazonMail.from_json(message.parsed)
    connection = message.connection
    mail = read_amazon_mail(
        bytes(message.raw),
        connection.forwarding_address if connection else message.rcpt_to,
        forwarding_marketplace_id=connection.marketplace_id if connection else None,
    )
    message.parsed = mail.to_json()
    message.mail_class = mail.mail_class
    message.flags = sorted({*message.flags, *mail.flags})
    message.save(update_fields=["parsed", "mail_class", "flags", "updated_at"])
    return mail


def thread_buyer_message(message: InboundMessage, mail: AmazonMail) -> None:
    """Thread the message into its conversation, enrich (the order beside it: may postpone the row
    while a rate-limit token or another message's fetch of the same order is due), then deliver it
    to the helpdesk ticket."""
    if message.connection is None:  # the address was deleted after the mail arrived
        log.warning("inbound message without a forwarding address", inbound=message.pk)
        return
    recorded, created = record_buyer_message(message, mail)
    log.info(
        "buyer message threaded" if created else "repeat of a recorded buyer message",
        inbound=message.pk,
        conversation=recorded.conversation_id,
        order_id=mail.order_id,
    )
    if recorded.inbound_id == message.pk:  # this row's own message (a repeat was delivered before)
        enrich(message, recorded.conversation)
        deliver(message, recorded, mail)


def record_only(message: InboundMessage, mail: AmazonMail) -> None:
    """Classes handled by later stages (replies, refusals, notices): classified and kept."""
    log.info("inbound message classified", inbound=message.pk, mail_class=mail.mail_class)


HANDLERS: dict[MailClass, Callable[[InboundMessage, AmazonMail], None]] = {
    MailClass.BUYER_MESSAGE: thread_buyer_message,
    MailClass.SELLER_COPY: relay_mail.record_seller_copy,
    MailClass.DELIVERY_FAILURE: relay_mail.record_refusal,
    MailClass.BUYER_OPT_OUT: relay_mail.record_refusal,
    MailClass.MAILER_DAEMON: relay_mail.record_refusal,
}
