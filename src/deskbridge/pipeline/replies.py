"""Agent replies coming out of the helpdesk: a verified webhook delivery becomes OutboundReply rows.

The webhook endpoint (deskbridge.web.webhooks) checks the signature and stores the delivery as a
WebhookEvent before it answers; here the worker asks the connector for the public, agent-authored
replies in it (the connector leaves out our own writes and internal notes) and records each once:
OutboundReply is unique per (connection, helpdesk message id), so a delivery that comes twice, or
two deliveries naming the same reply, add nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from deskbridge.core.logs import get_logger
from deskbridge.helpdesks.base import AgentReply
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.deliver import helpdesk_errors
from deskbridge.pipeline.models import Conversation, OutboundReply, WebhookEvent
from deskbridge.pipeline.workrows import NotNow

log = get_logger(__name__)


def read_webhook_event(event: WebhookEvent) -> None:
    connection = event.connection
    connector = connection.connector()
    with helpdesk_errors(connection):
        replies = connector.read_webhook(bytes(event.body))
    for reply in replies:
        record_reply(connection, reply)


def record_reply(connection: HelpdeskConnection, reply: AgentReply) -> OutboundReply | None:
    """One OutboundReply for a reply on one of our tickets; None for tickets that are not ours."""
    conversation = Conversation.objects.filter(
        organisation_id=connection.organisation_id, helpdesk=connection, ticket_id=reply.ticket_id
    ).first()
    if conversation is None:
        log.info("agent reply on a ticket deskbridge did not open: ignored", connection=connection.pk)
        return None
    existing = OutboundReply.objects.filter(
        connection=connection, helpdesk_message_id=reply.message_id
    ).first()
    if existing is not None:
        return existing
    row = OutboundReply(
        organisation_id=connection.organisation_id,
        connection=connection,
        conversation=conversation,
        ticket_id=reply.ticket_id,
        helpdesk_message_id=reply.message_id,
        author=reply.author[:300],
        text=reply.text,
        html=reply.html,
        attachments=[
            {"url": a.url, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in reply.attachments
        ],
        written_at=reply.created_at,
    )
    try:
        with transaction.atomic():
            row.submit()
    except IntegrityError:  # recorded by a concurrent delivery of the same reply
        return OutboundReply.objects.get(connection=connection, helpdesk_message_id=reply.message_id)
    log.info("agent reply recorded", reply=row.pk, conversation=conversation.pk)
    return row


def send(reply: OutboundReply) -> None:
    """Sending through Amazon's relay is the reply step's (not built yet): the row waits, visible
    on the dashboard, and is sent once that step exists."""
    raise NotNow(timezone.now() + timedelta(hours=6), "waiting for the reply step (sending to Amazon)")
