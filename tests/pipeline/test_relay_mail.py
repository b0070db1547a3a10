"""Amazon's mail about the seller's own messages, read into the ticket (Kustomer's emulator over
loopback): Seller Central copies and refusals, matched or not, never a new ticket."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from deskbridge.helpdesks import registry
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.models import (
    Conversation,
    Direction,
    InboundMessage,
    OutboundReply,
    ReplyOutcome,
)
from deskbridge.pipeline.relay_mail import UNMATCHED_FLAG
from deskbridge.pipeline.workrows import WorkState, run_work_row
from deskbridge.sandbox.helpdesks.kustomer import seed as kustomer
from tests.amazon.orders_support import connect
from tests.pipeline.test_enrich import DE, arrive

CORPUS = Path(__file__).resolve().parent.parent / "data" / "eml"
LABEL = InboundMessage.label()
OPTED_OUT_ORDER = "305-3456789-4567890"  # in the corpus' opt-out notice (de/05)
OPTED_OUT_ALIAS = "stb6ssjkf7gpxz4@marketplace.amazon.de"
COPIED_ORDER = "114-2960162-5573021"  # in the corpus' Seller Central copy (us/06)


@pytest.fixture
def desk(tenant, eu_account, live_url):
    account = f"relaymail{tenant.organisation.pk}"
    secret_names = {f.name for f in registry.connector_class("kustomer").fields if f.secret}
    HelpdeskConnection.connect(
        tenant.organisation, "kustomer", kustomer.create_account(account), secret_names
    )
    return account, connect(eu_account, DE)


def ticket_for(forwarding, order_id: str) -> Conversation:
    """A buyer's message about the order, delivered: the conversation with its ticket."""
    row = arrive(forwarding, order_id)
    assert run_work_row(LABEL, row.pk) == WorkState.DONE
    return Conversation.objects.get(order_id=order_id)


def mail_from_amazon(forwarding, name: str, **replace: str) -> InboundMessage:
    raw = next(CORPUS.glob(f"*/{name}")).read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return InboundMessage.objects.create(
        organisation=forwarding.organisation,
        connection=forwarding,
        rcpt_to=forwarding.forwarding_address,
        raw=raw,
        size=len(raw),
    )


def notes(account: str) -> list[str]:
    (ticket,) = kustomer.tickets(account)
    return [m["text"] for m in ticket["messages"] if not m["public"]]


def test_a_seller_central_copy_joins_the_ticket_as_a_note_and_never_opens_one(desk):
    account, forwarding = desk
    conversation = ticket_for(forwarding, COPIED_ORDER)

    copy = mail_from_amazon(forwarding, "06-seller-copy-zh-locale-2020.eml")
    assert run_work_row(LABEL, copy.pk) == WorkState.DONE
    InboundMessage.objects.filter(pk=copy.pk).update(state=WorkState.PENDING, attempts=0)
    assert run_work_row(LABEL, copy.pk) == WorkState.DONE  # a second run adds nothing

    assert Conversation.objects.count() == 1
    sent = conversation.messages.get(direction=Direction.SELLER_CENTRAL)
    assert "arrange a replacemnet" in sent.text
    copies = [n for n in notes(account) if "Sent from Seller Central" in n]
    assert len(copies) == 1 and "arrange a replacemnet" in copies[0]


def test_a_refusal_without_our_message_id_is_matched_by_order_and_buyer(desk):
    account, forwarding = desk
    conversation = ticket_for(forwarding, OPTED_OUT_ORDER)
    reply = OutboundReply.objects.create(
        organisation=conversation.organisation,
        connection=HelpdeskConnection.objects.get(),
        conversation=conversation,
        ticket_id=conversation.ticket_id,
        helpdesk_message_id="agent-1",
        text="Wir haben Ihnen einen Gutschein geschickt.",
        message_id="<deskbridge.1@deskbridge.localhost>",
        outcome=ReplyOutcome.SENT,
        attempt_started_at=timezone.now() - timedelta(hours=2),
        state=WorkState.DONE,
    )

    notice = mail_from_amazon(
        forwarding, "05-opt-out-html-2026.eml", **{OPTED_OUT_ALIAS: conversation.buyer_alias}
    )
    assert run_work_row(LABEL, notice.pk) == WorkState.DONE

    reply.refresh_from_db()
    assert reply.outcome == ReplyOutcome.REFUSED and reply.refusal.startswith("opted_out")
    (note,) = [n for n in notes(account) if "did NOT reach the buyer" in n]
    assert "Gutschein" in note and "opted out" in note
    notice.refresh_from_db()
    assert UNMATCHED_FLAG not in notice.flags


def test_a_refusal_that_matches_no_reply_still_reaches_the_orders_ticket_flagged(desk):
    account, forwarding = desk
    ticket_for(forwarding, OPTED_OUT_ORDER)

    notice = mail_from_amazon(forwarding, "05-opt-out-html-2026.eml")
    assert run_work_row(LABEL, notice.pk) == WorkState.DONE

    notice.refresh_from_db()
    assert UNMATCHED_FLAG in notice.flags
    assert any("A reply to this buyer did NOT reach the buyer" in n for n in notes(account))
    assert Conversation.objects.count() == 1
