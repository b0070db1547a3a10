"""Replies to Amazon, end to end over loopback: a buyer's mail by SMTP → a Zendesk ticket → an agent's
reply in the emulator → its signed webhook → one OutboundReply → composed, checked and sent to the
sandbox Amazon relay → the buyer's mailbox (the relay's outbox), or a note on the ticket saying why not."""

from __future__ import annotations

import smtplib
import socket
import time
from email import message_from_bytes, policy

import httpx
import pytest
from django.utils import timezone

from deskbridge.helpdesks import registry
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline import replies
from deskbridge.pipeline.models import (
    Conversation,
    ConversationMessage,
    Direction,
    InboundMessage,
    OutboundReply,
    ReplyOutcome,
    WebhookEvent,
)
from deskbridge.pipeline.workrows import WorkState, run_work_row
from deskbridge.sandbox.amazon.models import SandboxApprovedSender, SandboxSeller
from deskbridge.sandbox.amazon.relay import Relay
from deskbridge.sandbox.helpdesks.zendesk import seed as zendesk
from tests.amazon.orders_support import EU, connect
from tests.mail.conftest import buyer_message, running_receiver
from tests.processes import free_port

DE = "A1PA6795UKMFR9"
QUESTION = "Wo ist mein Paket? Die Sendungsverfolgung zeigt nichts."


@pytest.fixture
def relay(settings, live_url):
    running = Relay(sock=socket.create_server(("127.0.0.1", 0)))
    running.start()
    settings.SMTP_RELAY_HOST, settings.SMTP_RELAY_PORT = "127.0.0.1", running.port
    yield running
    running.stop()


@pytest.fixture
def receiver(settings, transactional_db):
    with running_receiver() as running:
        settings.SMTP_PORT = running.port  # where the relay sends its notices
        yield running


class Desk:
    """One tenant with a connected Amazon seller (DE) and Zendesk, and a buyer's question on a ticket."""

    def __init__(self, tenant, eu_account, order_id: str, receiver, approve: bool = True) -> None:
        self.tenant, self.receiver = tenant, receiver
        self.account = f"replies{tenant.organisation.pk}"
        config = zendesk.create_account(self.account)
        secret_names = {f.name for f in registry.connector_class("zendesk").fields if f.secret}
        self.connection = HelpdeskConnection.connect(tenant.organisation, "zendesk", config, secret_names)
        self.forwarding = connect(eu_account, DE)
        if approve:  # Messaging Permissions in Seller Central
            SandboxApprovedSender.objects.create(
                seller=SandboxSeller.objects.get(selling_partner_id=EU),
                email=self.forwarding.forwarding_address,
            )
        raw = buyer_message(self.forwarding, text=QUESTION, order_id=order_id)
        self.buyer_message_id = message_from_bytes(raw, policy=policy.default)["Message-ID"]
        self.smtp(raw)
        run_all(InboundMessage)
        (self.ticket,) = zendesk.tickets(self.account)

    def smtp(self, raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", self.receiver.port) as smtp:
            smtp.sendmail("bounce@amazon.de", [self.forwarding.forwarding_address], raw)

    def agent_says(self, text: str) -> OutboundReply:
        """The agent answers in Zendesk; the webhook brings it back as one OutboundReply, which is sent."""
        before = set(OutboundReply.objects.values_list("pk", flat=True))
        zendesk.agent_reply(self.account, self.ticket["id"], text)
        wait_for(lambda: WebhookEvent.objects.exclude(state=WorkState.DONE).exists())
        run_all(WebhookEvent)
        (reply,) = OutboundReply.objects.exclude(pk__in=before)
        run_work_row(OutboundReply.label(), reply.pk)
        reply.refresh_from_db()
        return reply

    def notes(self) -> list[str]:
        (ticket,) = zendesk.tickets(self.account)
        return [m["text"] for m in ticket["messages"] if not m["public"]]


def run_all(model) -> None:
    for row in model.objects.exclude(state=WorkState.DONE):
        assert run_work_row(model.label(), row.pk) == WorkState.DONE, row.last_error


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def outbox(live_url: str) -> list[dict[str, str]]:
    return httpx.get(f"{live_url}/sandbox/amazon/relay/messages.json").json()


@pytest.fixture
def desk(tenant, eu_account, sandbox_orders, relay, receiver):
    return Desk(tenant, eu_account, sandbox_orders[EU]["shipped"], receiver)


def test_the_agents_reply_reaches_the_buyers_mailbox_once_in_the_buyers_thread(desk, live_url):
    reply = desk.agent_says(
        "Guten Tag,\n\nIhr Paket kommt morgen an.\n\nAm 27.11.2026 schrieb Käufer:\n> " + QUESTION
    )

    assert reply.outcome == ReplyOutcome.SENT and reply.state == WorkState.DONE
    (delivered,) = outbox(live_url)
    assert delivered["mail_from"] == desk.forwarding.forwarding_address
    assert delivered["rcpt_to"] == Conversation.objects.get().buyer_alias
    message = message_from_bytes(delivered["raw"].encode(), policy=policy.default)
    assert message["From"].addresses[0].addr_spec == desk.forwarding.forwarding_address
    assert message["To"].addresses[0].addr_spec.endswith("@marketplace.amazon.de")
    assert message["In-Reply-To"] == desk.buyer_message_id
    assert message["Message-ID"] == reply.message_id
    assert message["Subject"].startswith("Re: ")
    assert "DKIM-Signature" in message
    body = message.get_body(("plain",)).get_content()
    assert "Ihr Paket kommt morgen an." in body and "Guten Tag," in body
    assert "Sendungsverfolgung" not in body and "schrieb" not in body  # the quoted history is gone
    assert (
        ConversationMessage.objects.filter(direction=Direction.AGENT, message_id=reply.message_id).count()
        == 1
    )

    run_work_row(OutboundReply.label(), reply.pk)  # run again: nothing more is sent
    assert len(outbox(live_url)) == 1


def test_a_reply_with_a_phone_number_is_blocked_with_a_note_and_the_edited_one_is_sent(desk, live_url):
    blocked = desk.agent_says("Rufen Sie uns an: +49 30 1234 5678, dann klären wir das.")
    assert blocked.outcome == ReplyOutcome.BLOCKED and blocked.state == WorkState.DONE
    assert outbox(live_url) == []
    (note,) = [n for n in desk.notes() if "NOT sent" in n]
    assert "+49 30 1234 5678" in note

    edited = desk.agent_says("Ihr Paket kommt morgen an.")
    assert edited.outcome == ReplyOutcome.SENT
    assert len(outbox(live_url)) == 1


def test_a_reply_from_a_sender_amazon_has_not_approved_is_refused_and_the_agent_told(
    tenant, eu_account, sandbox_orders, relay, receiver, live_url
):
    desk = Desk(tenant, eu_account, sandbox_orders[EU]["shipped"], receiver, approve=False)

    reply = desk.agent_says("Ihr Paket kommt morgen an.")
    assert reply.outcome == ReplyOutcome.SENT  # the relay took it at SMTP, as Amazon does

    # Amazon's delivery-failure notice comes back to the forwarding address, and is read.
    wait_for(lambda: InboundMessage.objects.count() == 2)
    run_all(InboundMessage)
    reply.refresh_from_db()
    assert reply.outcome == ReplyOutcome.REFUSED and "unauthorized_sender" in reply.refusal
    (note,) = [n for n in desk.notes() if "did NOT reach the buyer" in n]
    assert "Messaging Permissions" in note


def test_a_crash_between_the_relays_250_and_our_commit_sends_once(desk, live_url, monkeypatch):
    finish = replies.finish
    crashed = []

    def crash_once(reply, outcome, **kwargs):
        if outcome == ReplyOutcome.SENT and not crashed:
            crashed.append(reply.pk)
            raise SystemError("the worker died here")
        return finish(reply, outcome, **kwargs)

    monkeypatch.setattr(replies, "finish", crash_once)
    reply = desk.agent_says("Ihr Paket kommt morgen an.")
    assert crashed == [reply.pk] and reply.outcome == "" and reply.attempt_started_at is not None
    assert len(outbox(live_url)) == 1

    OutboundReply.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now())
    assert run_work_row(OutboundReply.label(), reply.pk) == WorkState.DONE
    reply.refresh_from_db()
    assert reply.outcome == ReplyOutcome.SENT
    assert len(outbox(live_url)) == 1  # found by its Message-ID, not sent again


def test_without_a_way_to_ask_the_relay_an_unclear_attempt_is_not_repeated(
    desk, live_url, monkeypatch, settings
):
    settings.SMTP_RELAY_LOOKUP_URL = ""
    monkeypatch.setattr(replies.outbound, "send", lambda *a: (_ for _ in ()).throw(SystemError("died")))
    reply = desk.agent_says("Ihr Paket kommt morgen an.")
    assert reply.outcome == "" and reply.attempt_started_at is not None  # the attempt died
    OutboundReply.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now())
    assert run_work_row(OutboundReply.label(), reply.pk) == WorkState.DONE
    reply.refresh_from_db()
    assert reply.outcome == ReplyOutcome.UNKNOWN
    assert any("Check Buyer-Seller Messages in Seller Central" in n for n in desk.notes())


def test_a_relay_that_cannot_be_reached_is_tried_again_later_and_the_reply_then_sent(
    desk, live_url, settings
):
    relay_port = settings.SMTP_RELAY_PORT
    settings.SMTP_RELAY_PORT = free_port()  # nobody listens: certainly not delivered
    reply = desk.agent_says("Ihr Paket kommt morgen an.")
    assert reply.state == WorkState.RETRY and reply.outcome == "" and reply.attempt_started_at is None
    assert "Connection" in reply.last_error or "refused" in reply.last_error.lower()

    settings.SMTP_RELAY_PORT = relay_port
    OutboundReply.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now())
    assert run_work_row(OutboundReply.label(), reply.pk) == WorkState.DONE
    reply.refresh_from_db()
    assert reply.outcome == ReplyOutcome.SENT and len(outbox(live_url)) == 1
