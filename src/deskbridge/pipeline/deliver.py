"""The deliver step: a buyer's message onto its helpdesk ticket (DESIGN.md §2, after enrich).

A conversation is one ticket. Its first message opens the ticket (the buyer as customer and
author, the order as fields, subject and tags naming Amazon and the marketplace); every later
message is appended to it. The order goes on the ticket as fields and one internal note, again
whenever Amazon's answer changes (deskbridge.pipeline.enrich moves `order_updated_at`).

Nothing is made twice. The ledger is ours (Conversation.ticket_id, ConversationMessage.delivered_at)
and every write carries our external id, so a write whose answer was lost is found again by
`find_thread` / `append_inbound` rather than repeated. Opening a ticket is leased to one worker: two
messages of a new conversation never open two tickets.

Helpdesk errors become the work row's outcome: a rate limit postpones the row to when a request is
allowed (no attempt used), refused credentials mark the connection as needing attention and wait
for it to be fixed, 5xx and timeouts retry with backoff, other refusals fail after the retries and
show on the dashboard with their reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.amazon.mail import AmazonMail, attachment_payloads
from deskbridge.core import jobs
from deskbridge.core.logs import get_logger
from deskbridge.helpdesks.base import Attachment, Buyer, BuyerMessage, Connector, Ticket, TicketClosed
from deskbridge.helpdesks.http import AuthenticationFailed, HelpdeskError, RateLimited
from deskbridge.helpdesks.models import Health, HelpdeskConnection
from deskbridge.pipeline.enrich import order_context
from deskbridge.pipeline.models import Conversation, ConversationMessage, InboundMessage
from deskbridge.pipeline.workrows import NotNow, WorkState, wake_now

log = get_logger(__name__)

# How long a message waits before looking again for a helpdesk that is missing or refuses our
# credentials (connecting or fixing it wakes the messages at once).
WAIT_FOR_HELPDESK = timedelta(hours=1)
# How long one worker may take to open a ticket before another may try (it finds the ticket then).
OPENING_LEASE = timedelta(minutes=2)


@contextmanager
def helpdesk_errors(connection: HelpdeskConnection) -> Iterator[None]:
    """Turn the errors that mean "not now" into NotNow; let the others fail the attempt."""
    try:
        yield
    except RateLimited as exc:
        raise NotNow(timezone.now() + timedelta(seconds=exc.retry_after or 10), str(exc)) from exc
    except AuthenticationFailed as exc:
        connection.record_health(str(exc))
        log.warning("helpdesk refused our credentials", connection=connection.pk, kind=connection.kind)
        raise NotNow(
            timezone.now() + WAIT_FOR_HELPDESK, f"the helpdesk refused our credentials: {exc}"
        ) from exc
    if connection.health != Health.HEALTHY:
        connection.record_health(None)


def connection_for(conversation: Conversation) -> HelpdeskConnection | None:
    """The helpdesk the conversation's Amazon account delivers to: the kind chosen for the account,
    or the organisation's only helpdesk."""
    if conversation.helpdesk_id is not None:
        return HelpdeskConnection.objects.filter(pk=conversation.helpdesk_id).first()
    connections = HelpdeskConnection.objects.filter(organisation_id=conversation.organisation_id)
    if conversation.account.helpdesk_kind:
        connections = connections.filter(kind=conversation.account.helpdesk_kind)
    found = list(connections[:2])
    return found[0] if len(found) == 1 else None


def buyer_of(conversation: Conversation) -> Buyer:
    return Buyer(
        alias=conversation.buyer_alias,
        name=conversation.buyer_name,
        seller_id=conversation.account.selling_partner_id,
        marketplace_id=conversation.marketplace_id,
    )


def subject_of(conversation: Conversation, code: str) -> str:
    subject = conversation.subject.strip() or "Buyer message"
    order = conversation.order_id
    if order and order not in subject:
        subject = f"{subject} (order {order})"
    return f"[Amazon {code}] {subject}"


def buyer_message_of(
    conversation: Conversation, recorded: ConversationMessage, inbound: InboundMessage, mail: AmazonMail
) -> BuyerMessage:
    marketplace = marketplaces.by_id(conversation.marketplace_id)
    code = marketplace.country_code if marketplace else conversation.marketplace_id
    flags = tuple(sorted(set(inbound.flags)))
    return BuyerMessage(
        external_id=f"deskbridge-{conversation.organisation_id}-m{recorded.pk}",
        thread_external_id=thread_external_id(conversation),
        subject=subject_of(conversation, code),
        text=recorded.text or mail.text,
        sent_at=recorded.sent_at,
        marketplace_id=conversation.marketplace_id,
        marketplace_code=code,
        order_id=conversation.order_id,
        tags=("amazon", f"amazon-{code.lower()}", *(f"deskbridge-{flag}" for flag in flags)),
        attachments=tuple(
            Attachment(info.filename or "attachment", info.content_type, payload)
            for info, payload in attachment_payloads(bytes(inbound.raw))
        ),
        flags=flags,
    )


def thread_external_id(conversation: Conversation) -> str:
    suffix = f"-{conversation.ticket_round}" if conversation.ticket_round else ""
    return f"deskbridge-{conversation.organisation_id}-c{conversation.pk}{suffix}"


def ticket_of(conversation: Conversation) -> Ticket:
    return Ticket(
        id=conversation.ticket_id, url=conversation.ticket_url, customer_id=conversation.helpdesk_customer_id
    )


def deliver(inbound: InboundMessage, recorded: ConversationMessage, mail: AmazonMail) -> None:
    """Put the recorded buyer message on its ticket (opening it for a new conversation), then the
    order beside it. Raises NotNow to wait for a helpdesk, a rate limit or another worker."""
    conversation = Conversation.objects.select_related("account", "order_snapshot").get(
        pk=recorded.conversation_id
    )
    connection = connection_for(conversation)
    if connection is None:
        raise NotNow(timezone.now() + WAIT_FOR_HELPDESK, "no helpdesk connected for this Amazon account")
    connector = connection.connector()
    with helpdesk_errors(connection):
        if recorded.delivered_at is None:
            message = buyer_message_of(conversation, recorded, inbound, mail)
            try:
                if not conversation.ticket_id:
                    open_ticket(connection, connector, conversation, recorded, message)
                else:
                    append(connector, conversation, recorded, message)
            except TicketClosed:
                follow_up_ticket(conversation)
                message = buyer_message_of(conversation, recorded, inbound, mail)
                open_ticket(connection, connector, conversation, recorded, message)
        sync_order(connector, conversation)


def follow_up_ticket(conversation: Conversation) -> None:
    """The conversation's ticket is closed for good: the next message opens a follow-up ticket
    (a new thread id, the order written to it again)."""
    closed = conversation.ticket_id
    Conversation.objects.filter(pk=conversation.pk, ticket_id=closed).update(
        ticket_id="",
        ticket_url="",
        ticket_round=F("ticket_round") + 1,
        ticket_order_at=None,
        ticket_order_note="",
    )
    conversation.refresh_from_db()
    log.info("ticket closed: a follow-up ticket opens", conversation=conversation.pk, closed=closed)


def open_ticket(
    connection: HelpdeskConnection,
    connector: Connector,
    conversation: Conversation,
    recorded: ConversationMessage,
    message: BuyerMessage,
) -> None:
    now = timezone.now()
    leased = (
        Conversation.objects.filter(pk=conversation.pk, ticket_id="")
        .filter(Q(ticket_lease_until__isnull=True) | Q(ticket_lease_until__lt=now))
        .update(ticket_lease_until=now + OPENING_LEASE)
    )
    if not leased:
        conversation.refresh_from_db()
        if conversation.ticket_id:  # another worker opened it a moment ago
            append(connector, conversation, recorded, message)
            return
        raise NotNow(now + timedelta(seconds=5), "another message of the conversation is opening its ticket")
    buyer = buyer_of(conversation)
    try:
        customer_id = connector.upsert_customer(buyer)
        ticket = connector.find_thread(message.thread_external_id)
        found = ticket is not None
        if ticket is None:
            ticket = connector.open_thread(customer_id, buyer, message, order_context(conversation))
    except BaseException:
        # Let the next attempt (this message's or another's) open it; a ticket made before the
        # error is found again by its external id.
        Conversation.objects.filter(pk=conversation.pk).update(ticket_lease_until=None)
        raise
    Conversation.objects.filter(pk=conversation.pk).update(
        helpdesk=connection,
        ticket_id=ticket.id,
        ticket_url=ticket.url,
        helpdesk_customer_id=customer_id,
        ticket_lease_until=None,
    )
    conversation.helpdesk, conversation.ticket_id, conversation.ticket_url = connection, ticket.id, ticket.url
    conversation.helpdesk_customer_id = customer_id
    log.info("ticket opened", conversation=conversation.pk, ticket=ticket.id, found_again=found)
    if found:  # a lost answer: the ticket exists; the message is on it unless we crashed before
        append(connector, conversation, recorded, message)
    else:
        mark_delivered(recorded, "")


def append(
    connector: Connector, conversation: Conversation, recorded: ConversationMessage, message: BuyerMessage
) -> None:
    buyer = buyer_of(conversation)
    posted = connector.append_inbound(
        ticket_of(conversation), conversation.helpdesk_customer_id, buyer, message
    )
    mark_delivered(recorded, posted)
    log.info("message appended to ticket", conversation=conversation.pk, ticket=conversation.ticket_id)


def mark_delivered(recorded: ConversationMessage, helpdesk_message_id: str) -> None:
    recorded.delivered_at = timezone.now()
    recorded.helpdesk_message_id = helpdesk_message_id
    ConversationMessage.objects.filter(pk=recorded.pk).update(
        delivered_at=recorded.delivered_at, helpdesk_message_id=helpdesk_message_id
    )


def sync_order(connector: Connector, conversation: Conversation) -> bool:
    """Bring the ticket's order fields and note up to the conversation's order; True if it wrote."""
    if not conversation.ticket_id or conversation.order_updated_at is None:
        return False
    if conversation.ticket_order_at == conversation.order_updated_at:
        return False
    order = order_context(conversation)
    if order is None:
        return False
    ticket = ticket_of(conversation)
    if connector.capabilities.custom_fields:
        connector.set_order_context(ticket, order)
    note = order.as_note()
    digest = hashlib.sha256(note.encode()).hexdigest()
    if connector.capabilities.internal_notes and digest != conversation.ticket_order_note:
        connector.add_note(ticket, note)
    Conversation.objects.filter(pk=conversation.pk).update(
        ticket_order_at=conversation.order_updated_at, ticket_order_note=digest
    )
    conversation.ticket_order_at, conversation.ticket_order_note = conversation.order_updated_at, digest
    return True


@jobs.every_minute
def sync_orders() -> int:
    """Tickets whose order changed after their last message (an order that arrived late, a
    refresh): their fields and note are brought up to date. Returns how many were."""
    stale = (
        Conversation.objects.exclude(ticket_id="")
        .filter(order_updated_at__isnull=False, helpdesk__isnull=False)
        .filter(Q(ticket_order_at__isnull=True) | ~Q(ticket_order_at=F("order_updated_at")))
        .select_related("account", "order_snapshot", "helpdesk")[:200]
    )
    synced = 0
    connectors: dict[int, Connector] = {}
    for conversation in stale:
        connection = conversation.helpdesk
        assert connection is not None
        if connection.health == Health.FAILING:
            continue
        connector = connectors.setdefault(connection.pk, connection.connector())
        try:
            with helpdesk_errors(connection):
                synced += sync_order(connector, conversation)
        except (NotNow, HelpdeskError) as exc:
            log.info("order not synced to ticket yet", conversation=conversation.pk, reason=str(exc)[:200])
    return synced


def wake_waiting(organisation_id: int) -> int:
    """A helpdesk was connected or fixed: the organisation's messages waiting for one go now."""
    waiting = list(
        InboundMessage.objects.filter(organisation_id=organisation_id, state=WorkState.RETRY).values_list(
            "pk", flat=True
        )
    )
    return wake_now(InboundMessage, waiting)
