"""Agent replies coming out of the helpdesk: a verified webhook delivery becomes OutboundReply rows.

The webhook endpoint (deskbridge.web.webhooks) checks the signature and stores the delivery as a
WebhookEvent before it answers; here the worker asks the connector for the public, agent-authored
replies in it (the connector leaves out our own writes and internal notes) and records each once:
OutboundReply is unique per (connection, helpdesk message id), so a delivery that comes twice, or
two deliveries naming the same reply, add nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from deskbridge.amazon import relay
from deskbridge.core.logs import get_logger
from deskbridge.helpdesks.base import AgentReply, ReplyAttachment
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.mail import outbound
from deskbridge.mail.quotes import strip_quoted
from deskbridge.pipeline import notes
from deskbridge.pipeline.deliver import helpdesk_errors, ticket_of
from deskbridge.pipeline.models import (
    Conversation,
    ConversationMessage,
    Direction,
    OutboundReply,
    ReplyOutcome,
    WebhookEvent,
)

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


# --- sending (issue: replies to Amazon) ---------------------------------------------------------


def send(reply: OutboundReply) -> None:
    """Send one agent reply to the buyer through Amazon's relay, exactly once.

    Steps, each recorded before the next: compose and check (a rule set to "block" stops here, with
    a note on the ticket); record the attempt; hand it to the relay; record the outcome. A row found
    with an attempt but no outcome (a crash after the relay's 250 and before our commit) is first
    reconciled by its Message-ID (`outbound.was_accepted`): sent already → recorded as sent; not
    there → sent again, the same message; unknowable → not sent again, and the agent is asked to
    check Seller Central. Temporary failures raise (the row retries with backoff); a refusal at SMTP
    marks the reply failed with a note.
    """
    if reply.outcome:
        return
    conversation = reply.conversation
    if conversation is None:
        raise RuntimeError("the reply's ticket belongs to no conversation deskbridge knows")
    if reply.attempt_started_at is not None and reply.sent_at is None:
        accepted = outbound.was_accepted(reply.message_id)
        if accepted:
            finish(reply, ReplyOutcome.SENT, response="accepted before a restart (found by Message-ID)")
            return
        if accepted is None:
            finish(reply, ReplyOutcome.UNKNOWN)
            tell_agent(reply, notes.maybe_sent(reply))
            return
    if reply.raw is None and not compose(reply, conversation):
        return
    assert reply.raw is not None
    reply.attempt_started_at = timezone.now()
    OutboundReply.objects.filter(pk=reply.pk).update(attempt_started_at=reply.attempt_started_at)
    try:
        sent = outbound.send(bytes(reply.raw), reply_from(conversation), conversation.buyer_alias)
    except outbound.TransientSendError as exc:
        if not exc.maybe_delivered:  # certainly not taken: the next attempt starts afresh
            reply.attempt_started_at = None
            OutboundReply.objects.filter(pk=reply.pk).update(attempt_started_at=None)
        raise
    except outbound.PermanentSendError as exc:
        finish(reply, ReplyOutcome.FAILED, refusal=str(exc))
        tell_agent(reply, notes.failed(reply, str(exc)))
        return
    finish(reply, ReplyOutcome.SENT, response=sent.response)
    warnings = [f for f in reply.findings if f["severity"] == "warn"]
    if warnings:
        tell_agent(reply, notes.sent_with_warnings(reply, warnings))


def compose(reply: OutboundReply, conversation: Conversation) -> bool:
    """Compose and check the reply; store the message. False when a rule blocks it (noted)."""
    from deskbridge.amazon.models import ReplyPolicy

    buyer = conversation.messages.filter(direction=Direction.BUYER).exclude(message_id="").last()
    composed = relay.compose_reply(
        text=reply.text,
        html=reply.html,
        subject=conversation.subject,
        from_address=reply_from(conversation),
        to_alias=conversation.buyer_alias,
        in_reply_to=buyer.message_id if buyer else None,
        references=(),
        attachments=download_attachments(reply),
        message_id_domain=settings.INBOUND_DOMAIN,
    )
    policy = ReplyPolicy.rules_for(conversation.organisation)
    findings = relay.check_reply(composed.text, policy) + relay.attachment_findings(
        composed.dropped_attachments
    )
    reply.findings = [asdict(f) for f in findings]
    if any(f.severity == "block" for f in findings):
        finish(
            reply, ReplyOutcome.BLOCKED, refusal="; ".join(f.rule for f in findings if f.severity == "block")
        )
        tell_agent(reply, notes.blocked(reply, reply.findings))
        return False
    reply.raw = outbound.sign(composed.message.as_bytes())
    reply.message_id = composed.message_id
    OutboundReply.objects.filter(pk=reply.pk).update(
        raw=reply.raw, message_id=reply.message_id, findings=reply.findings
    )
    return True


def reply_from(conversation: Conversation) -> str:
    """The marketplace's forwarding address: the sender the seller approved at Amazon."""
    from deskbridge.amazon.models import MarketplaceConnection

    connection = MarketplaceConnection.objects.filter(
        account_id=conversation.account_id, marketplace_id=conversation.marketplace_id
    ).first()
    if connection is None:
        raise RuntimeError(
            "the marketplace's forwarding address was deleted: no approved sender to reply from"
        )
    return connection.forwarding_address


def download_attachments(reply: OutboundReply) -> list[tuple[str, str, bytes]]:
    if not reply.attachments:
        return []
    connector = reply.connection.connector()
    files = []
    with helpdesk_errors(reply.connection):
        for item in reply.attachments:
            attachment = ReplyAttachment(
                item["url"], item["filename"], item["content_type"], item.get("size")
            )
            files.append((attachment.filename, attachment.content_type, connector.download(attachment)))
    return files


def finish(reply: OutboundReply, outcome: str, response: str = "", refusal: str = "") -> None:
    now = timezone.now()
    reply.outcome, reply.relay_response, reply.refusal = outcome, response[:500], refusal[:1000]
    fields: dict[str, Any] = {
        "outcome": outcome,
        "relay_response": reply.relay_response,
        "refusal": reply.refusal,
    }
    if outcome == ReplyOutcome.SENT:
        reply.sent_at = fields["sent_at"] = now
    if outcome == ReplyOutcome.BLOCKED:
        fields["findings"] = reply.findings
    OutboundReply.objects.filter(pk=reply.pk).update(**fields)
    if outcome == ReplyOutcome.SENT and reply.conversation_id is not None:
        ConversationMessage.objects.get_or_create(
            organisation_id=reply.organisation_id,
            conversation_id=reply.conversation_id,
            message_id=reply.message_id,
            defaults={
                "direction": Direction.AGENT,
                "text": text_of(reply),
                "fingerprint": reply.message_id[:64],
            },
        )
    log.info("agent reply finished", reply=reply.pk, outcome=outcome)


def text_of(reply: OutboundReply) -> str:
    return strip_quoted(text=reply.text, html=reply.html)


def tell_agent(reply: OutboundReply, text: str) -> None:
    """An internal note on the reply's ticket. The note is best effort once the outcome is stored:
    a helpdesk that cannot take it now is retried by the row (the outcome is not redone)."""
    conversation = reply.conversation
    assert conversation is not None
    connector = reply.connection.connector()
    with helpdesk_errors(reply.connection):
        connector.add_note(ticket_of(conversation), text)
