"""The inbound pipeline: read once, thread buyer messages into conversations, record repeats once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.pipeline.models import Conversation, ConversationMessage, InboundMessage
from deskbridge.pipeline.workrows import WorkState, run_work_row

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parent.parent / "data" / "eml"
DE = "A1PA6795UKMFR9"


def corpus(name: str) -> bytes:
    return next(CORPUS.glob(f"*/{name}")).read_bytes()


@pytest.fixture(autouse=True)
def no_enrichment(monkeypatch):
    """These tests are about reading and threading; the enrich and deliver steps have their own
    (test_enrich.py, tests/helpdesks)."""
    monkeypatch.setattr("deskbridge.pipeline.inbound.enrich", lambda message, conversation: None)
    monkeypatch.setattr("deskbridge.pipeline.inbound.deliver", lambda message, recorded, mail: None)


@pytest.fixture
def connection(tenant) -> MarketplaceConnection:
    account = SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id="A2SNDBXEU00001",
        region="EU",
        refresh_token="Atzr|x",
        authorized_at=timezone.now(),
    )
    return MarketplaceConnection.objects.create(
        organisation=tenant.organisation,
        account=account,
        marketplace_id=DE,
        forwarding_address="amz-de-a1pa6795ukmfr9-a2sndbxeu00001@deskbridge.localhost",
    )


def arrive(connection: MarketplaceConnection, raw: bytes, when=None) -> InboundMessage:
    row = InboundMessage.objects.create(
        organisation=connection.organisation,
        connection=connection,
        rcpt_to=connection.forwarding_address,
        raw=raw,
        size=len(raw),
        received_at=when or timezone.now(),
    )
    assert run_work_row(InboundMessage.label(), row.pk) == WorkState.DONE
    row.refresh_from_db()
    return row


def with_message_id(raw: bytes, message_id: str) -> bytes:
    return re.sub(rb"(?im)^Message-ID:.*$", f"Message-ID: <{message_id}>".encode(), raw, count=1)


def test_a_buyer_message_opens_a_conversation(connection):
    row = arrive(connection, corpus("02-paket-nicht-angekommen.eml"))
    assert row.mail_class == "buyer_message"
    assert row.parsed["order_id"]
    conversation = Conversation.objects.get()
    assert conversation.organisation == connection.organisation
    assert (conversation.marketplace_id, conversation.order_id) == (DE, row.parsed["order_id"])
    assert conversation.buyer_alias == row.parsed["buyer_alias"]
    (message,) = conversation.messages.all()
    assert message.inbound == row and message.text == row.parsed["text"] and message.text


def test_the_same_message_twice_is_recorded_once(connection):
    raw = corpus("02-paket-nicht-angekommen.eml")
    arrive(connection, raw)
    arrive(connection, raw)  # same Message-ID
    arrive(connection, with_message_id(raw, "resent-1@amazon.de"))  # same text, soon after
    assert InboundMessage.objects.count() == 3
    assert ConversationMessage.objects.count() == 1


def test_the_same_text_days_later_is_a_new_message(connection):
    raw = corpus("02-paket-nicht-angekommen.eml")
    arrive(connection, raw, when=timezone.now() - timedelta(days=3))
    arrive(connection, with_message_id(raw, "again@amazon.de"))
    assert Conversation.objects.count() == 1
    assert ConversationMessage.objects.count() == 2


def test_a_seller_central_copy_never_opens_a_conversation(connection):
    raw = next(p for p in CORPUS.glob("*/*.eml") if b"BBC_MESSAGE_CONFIRMATION_TO_MERCHANT" in p.read_bytes())
    row = arrive(connection, raw.read_bytes())
    assert row.mail_class == "seller_copy"
    assert not Conversation.objects.exists()


def test_mail_that_cannot_be_read_is_still_recorded_with_its_text(connection):
    raw = (
        b'From: "Jane" <q8x1abc9zz@marketplace.amazon.de>\r\nTo: x@deskbridge.localhost\r\n'
        b"Subject: something odd\r\nMessage-ID: <odd-1@amazon.de>\r\n"
        b"X-Space-Notification-Type: BBC_MESSAGE_SENT_TO_MERCHANT\r\n\r\nHallo, wo ist mein Paket?\r\n"
    )
    row = arrive(connection, raw)
    assert "unparsed" in row.flags
    (message,) = ConversationMessage.objects.all()
    assert "wo ist mein Paket" in message.text


def test_reading_is_done_once_and_kept(connection):
    row = arrive(connection, corpus("02-paket-nicht-angekommen.eml"))
    InboundMessage.objects.filter(pk=row.pk).update(raw=b"garbage", state=WorkState.PENDING, attempts=0)
    ConversationMessage.objects.all().delete()
    again = arrive_existing(row)
    assert again.parsed == row.parsed  # the kept reading, not a new one of the garbage


def arrive_existing(row: InboundMessage) -> InboundMessage:
    assert run_work_row(InboundMessage.label(), row.pk) == WorkState.DONE
    row.refresh_from_db()
    return row
