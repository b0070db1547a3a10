"""From an Amazon buyer's mail to a helpdesk ticket and from the agent's reply back, for each
helpdesk, over loopback: the real SMTP receiver, the pipeline, the helpdesk's emulator (its real
API, its real webhook and signature) and our webhook endpoint."""

from __future__ import annotations

import smtplib
import time
from importlib import import_module
from types import ModuleType

import httpx
import pytest

from deskbridge.helpdesks import registry
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.models import (
    Conversation,
    ConversationMessage,
    InboundMessage,
    OutboundReply,
    WebhookEvent,
)
from deskbridge.pipeline.workrows import WorkState, run_work_row
from tests.amazon.orders_support import connect
from tests.mail.conftest import buyer_message, running_receiver

DE = "A1PA6795UKMFR9"
KINDS = ("zendesk", "kustomer", "gorgias", "helpscout")
# Each scheme's signature header, with a value that is not the signature.
FORGED_HEADERS = {
    "X-Zendesk-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl",
    "X-Zendesk-Webhook-Signature-Timestamp": "2026-11-27T00:00:00Z",
    "X-Kustomer-Webhook-Signature": "0" * 64,
    "X-Deskbridge-Secret": "not-the-secret",
    "X-HelpScout-Signature": "bm90IGEgc2lnbmF0dXJl",
    "X-HelpScout-Event": "convo.agent.reply.created",
}


@pytest.fixture(params=KINDS)
def helpdesk(request, tenant, live_url) -> tuple[str, ModuleType, str, HelpdeskConnection]:
    kind = request.param
    emulator = import_module(f"deskbridge.sandbox.helpdesks.{kind}.seed")
    account = f"shop{tenant.organisation.pk}{kind}"
    config = emulator.create_account(account)
    secret_names = {f.name for f in registry.connector_class(kind).fields if f.secret}
    connection = HelpdeskConnection.connect(tenant.organisation, kind, config, secret_names)
    return kind, emulator, account, connection


def send(address: str, raw: bytes) -> None:
    with running_receiver() as receiver, smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
        smtp.sendmail("bounce@amazon.de", [address], raw)


def process_all() -> None:
    for row in InboundMessage.objects.exclude(state=WorkState.DONE):
        assert run_work_row(InboundMessage.label(), row.pk) == WorkState.DONE, row.last_error


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_buyer_message_becomes_a_ticket_and_the_agent_reply_comes_back(
    helpdesk, eu_account, sandbox_orders
):
    _kind, emulator, account, connection = helpdesk
    order_id = sandbox_orders["A2SNDBXEU00001"]["shipped"]
    forwarding = connect(eu_account, DE)

    send(
        forwarding.forwarding_address, buyer_message(forwarding, text="Wo ist mein Paket?", order_id=order_id)
    )
    process_all()

    (ticket,) = emulator.tickets(account)
    conversation = Conversation.objects.get()
    assert conversation.ticket_id == ticket["id"]
    assert "Amazon" in ticket["subject"] and "DE" in ticket["subject"]
    assert any("amazon" in tag.lower() for tag in ticket["tags"])
    assert ticket["customer"]["name"] == conversation.buyer_name
    assert "@marketplace.amazon" not in ticket["customer"]["email"]  # never the relay alias
    first = ticket["messages"][0]
    assert first["author"] == "customer" and first["public"] and "Wo ist mein Paket?" in first["text"]
    notes = [m for m in ticket["messages"] if not m["public"]]
    assert len(notes) == 1 and f"Amazon order {order_id}" in notes[0]["text"]
    if ticket["fields"]:  # Help Scout takes fields only where the mailbox has them (a manual step)
        assert ticket["fields"]["amazon_order_id"] == order_id
        assert ticket["fields"]["amazon_order_status"]

    # A follow-up goes to the same ticket.
    send(
        forwarding.forwarding_address,
        buyer_message(forwarding, text="Bitte um eine kurze Antwort.", order_id=order_id),
    )
    process_all()
    (ticket,) = emulator.tickets(account)
    from_buyer = [m["text"] for m in ticket["messages"] if m["author"] == "customer"]
    assert len(from_buyer) == 2 and "Bitte um eine kurze Antwort." in from_buyer[1]

    # Delivered again (the helpdesk's answer was lost before our commit): nothing new on the ticket.
    second = ConversationMessage.objects.order_by("pk").last()
    assert second is not None and second.delivered_at is not None
    ConversationMessage.objects.filter(pk=second.pk).update(delivered_at=None, helpdesk_message_id="")
    assert second.inbound_id is not None
    InboundMessage.objects.filter(pk=second.inbound_id).update(state=WorkState.PENDING, attempts=0)
    process_all()
    assert emulator.tickets(account) == [ticket]

    # The agent answers: the emulator's webhook, signed, reaches our endpoint; one OutboundReply.
    reply_id = emulator.agent_reply(account, ticket["id"], "Ihr Paket kommt morgen an.")
    wait_for(lambda: WebhookEvent.objects.exists())
    wait_for(lambda: _read_events() and OutboundReply.objects.exists())
    reply = OutboundReply.objects.get()
    assert reply.helpdesk_message_id == str(reply_id)
    assert "Ihr Paket kommt morgen an." in reply.text
    assert reply.conversation_id == conversation.pk

    # An internal note is not a reply; a delivery repeated adds nothing.
    emulator.agent_reply(account, ticket["id"], "Intern: Paket vorgestern versandt.", public=False)
    time.sleep(1.5)
    _read_events()
    assert OutboundReply.objects.count() == 1

    # A delivery without the connection's signature: 401, counted on the connection.
    response = httpx.post(connection.webhook_url, content=b'{"forged": true}', headers=FORGED_HEADERS)
    assert response.status_code == 401
    connection.refresh_from_db()
    assert connection.rejected_webhooks == 1 and connection.last_rejection


def _read_events() -> bool:
    for event in WebhookEvent.objects.exclude(state=WorkState.DONE):
        assert run_work_row(WebhookEvent.label(), event.pk) == WorkState.DONE, event.last_error
    return True
