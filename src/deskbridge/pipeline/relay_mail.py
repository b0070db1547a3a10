"""Amazon's mail about the seller's own messages: refusals of a reply, and copies of replies typed
in Seller Central. Neither ever opens a ticket.

A refusal (Amazon's delivery-failure notice, a buyer's opt-out, a mailer-daemon bounce) is matched
to the OutboundReply it answers: by our Message-ID where the notice quotes it (In-Reply-To,
References, the returned headers), else by order id and buyer within a few days. The reply is marked
refused and its ticket gets a note saying what happened and what to do. A notice that matches no
reply still goes, as a note flagged unmatched, to the ticket of that order's conversation.

A Seller Central copy becomes a message of the conversation and, unless it is the copy of a reply
deskbridge itself sent, a note on the ticket, so the helpdesk shows the whole conversation.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from deskbridge.amazon.mail import AmazonMail, FailureInfo, FailureReason
from deskbridge.amazon.mail.model import normalise_text
from deskbridge.core.logs import get_logger
from deskbridge.pipeline import notes
from deskbridge.pipeline.deliver import helpdesk_errors, ticket_of
from deskbridge.pipeline.models import (
    Conversation,
    ConversationMessage,
    Direction,
    InboundMessage,
    OutboundReply,
    ReplyOutcome,
)

log = get_logger(__name__)

# How far back a notice without our Message-ID is matched by order and buyer.
MATCH_WINDOW = timedelta(days=3)
UNMATCHED_FLAG = "unmatched-refusal"
NOTED_FLAG = "noted-on-ticket"


def record_refusal(message: InboundMessage, mail: AmazonMail) -> None:
    if message.connection is None:
        return
    failure = mail.failure or FailureInfo()
    reply = matching_reply(message, mail, failure)
    reason = failure.reason or FailureReason.UNKNOWN
    detail = failure.detail or failure.status or ""
    if reply is not None:
        OutboundReply.objects.filter(pk=reply.pk).exclude(outcome=ReplyOutcome.REFUSED).update(
            outcome=ReplyOutcome.REFUSED, refusal=f"{reason}: {detail}"[:1000]
        )
        conversation = reply.conversation
    else:
        conversation = conversation_of(message, mail, failure)
        flag(message, UNMATCHED_FLAG)
    log.info(
        "refusal of a reply recorded",
        inbound=message.pk,
        reply=reply.pk if reply else None,
        reason=str(reason),
    )
    if conversation is not None:
        note_once(message, conversation, notes.refused(reply, str(reason), detail))


def matching_reply(message: InboundMessage, mail: AmazonMail, failure: FailureInfo) -> OutboundReply | None:
    replies = OutboundReply.objects.filter(organisation_id=message.organisation_id).exclude(message_id="")
    ours = {i for i in (failure.message_id, mail.in_reply_to, *mail.references) if i}
    if ours:
        found = replies.filter(message_id__in=ours).first()
        if found is not None:
            return found
    order_id = failure.order_id or mail.order_id
    alias = (failure.recipient or mail.buyer_alias or "").lower()
    if not order_id and not alias:
        return None
    assert message.connection is not None
    nearby = replies.filter(
        conversation__account_id=message.connection.account_id,
        attempt_started_at__gte=message.received_at - MATCH_WINDOW,
        attempt_started_at__lte=message.received_at,
    )
    if order_id:
        nearby = nearby.filter(conversation__order_id=order_id)
    if alias:
        nearby = nearby.filter(conversation__buyer_alias=alias)
    return nearby.order_by("-attempt_started_at").first()


def conversation_of(
    message: InboundMessage, mail: AmazonMail, failure: FailureInfo | None = None
) -> Conversation | None:
    """The conversation a notice or copy is about: by buyer and order, else by order, else by buyer."""
    assert message.connection is not None
    order_id = (failure.order_id if failure else None) or mail.order_id or ""
    alias = ((failure.recipient if failure else None) or mail.buyer_alias or "").lower()
    conversations = Conversation.objects.filter(account_id=message.connection.account_id)
    if order_id and alias:
        both = conversations.filter(order_id=order_id, buyer_alias=alias).first()
        if both is not None:
            return both
    if order_id or alias:
        return conversations.filter(Q(order_id=order_id) if order_id else Q(buyer_alias=alias)).first()
    return None


def record_seller_copy(message: InboundMessage, mail: AmazonMail) -> None:
    if message.connection is None:
        return
    conversation = conversation_of(message, mail)
    if conversation is None:
        log.info("Seller Central copy for no known conversation: kept", inbound=message.pk)
        return
    ours = conversation.messages.filter(direction=Direction.AGENT)
    text = mail.text or ""
    if any(normalise_text(m.text) and normalise_text(m.text) in normalise_text(text) for m in ours):
        log.info("Seller Central copy of a reply deskbridge sent: linked", inbound=message.pk)
        return
    ConversationMessage.objects.get_or_create(
        organisation_id=message.organisation_id,
        conversation=conversation,
        inbound=message,
        defaults={
            "direction": Direction.SELLER_CENTRAL,
            "message_id": mail.message_id or "",
            "fingerprint": mail.fingerprint(),
            "text": text,
        },
    )
    note_once(message, conversation, notes.seller_central_copy(text))


def note_once(message: InboundMessage, conversation: Conversation, text: str) -> None:
    """A note on the conversation's ticket, once per inbound message (a retried row adds none)."""
    if NOTED_FLAG in message.flags or not conversation.ticket_id or conversation.helpdesk is None:
        return
    connection = conversation.helpdesk
    with helpdesk_errors(connection):
        connection.connector().add_note(ticket_of(conversation), text)
    flag(message, NOTED_FLAG)


def flag(message: InboundMessage, name: str) -> None:
    if name not in message.flags:
        message.flags = sorted({*message.flags, name})
        InboundMessage.objects.filter(pk=message.pk).update(flags=message.flags)
