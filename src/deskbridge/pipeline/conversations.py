"""Threading: which conversation a buyer's message belongs to, and recording it exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from deskbridge.pipeline.models import Conversation, ConversationMessage, Direction, InboundMessage

if TYPE_CHECKING:
    from deskbridge.amazon.mail import AmazonMail


def thread_key(inbound: InboundMessage, mail: AmazonMail) -> dict[str, str]:
    """(marketplace, buyer alias, order id) within the account; pre-sale messages have no order id.

    A message whose sender could not be read gets a conversation of its own rather than being
    lumped with other unreadable ones.
    """
    assert inbound.connection is not None
    return {
        "marketplace_id": mail.marketplace_id or inbound.connection.marketplace_id,
        "buyer_alias": (mail.buyer_alias or f"unknown-sender:{inbound.pk}").lower(),
        "order_id": mail.order_id or "",
    }


def record_buyer_message(inbound: InboundMessage, mail: AmazonMail) -> tuple[ConversationMessage, bool]:
    """Add the buyer's message to its conversation. Returns (message, created); a repeat of a
    message already recorded (same Message-ID, or same text from the same buyer within the
    dedupe window) returns the earlier one and False."""
    assert inbound.connection is not None
    account = inbound.connection.account
    window = timedelta(seconds=settings.DEDUPE_WINDOW_SECONDS)
    with transaction.atomic():
        conversation, _ = Conversation.objects.get_or_create(
            organisation_id=inbound.organisation_id,
            account=account,
            **thread_key(inbound, mail),
            defaults={"buyer_name": mail.buyer_name or "", "subject": mail.subject or ""},
        )
        # Serialise the messages of one conversation (SQLite's write transactions already are).
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        earlier = conversation.messages.filter(direction=Direction.BUYER)
        repeat = (mail.message_id and earlier.filter(message_id=mail.message_id).first()) or earlier.filter(
            fingerprint=mail.fingerprint(), sent_at__gte=inbound.received_at - window
        ).first()
        if repeat is not None:
            return repeat, False
        message = ConversationMessage.objects.create(
            organisation_id=inbound.organisation_id,
            conversation=conversation,
            inbound=inbound,
            direction=Direction.BUYER,
            message_id=mail.message_id or "",
            fingerprint=mail.fingerprint(),
            text=mail.text or "",
            sent_at=inbound.received_at,
        )
        Conversation.objects.filter(pk=conversation.pk, last_message_at__lt=inbound.received_at).update(
            last_message_at=inbound.received_at
        )
    return message, True
