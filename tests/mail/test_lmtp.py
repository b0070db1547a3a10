"""LMTP mode (behind Postfix): LHLO, and after DATA one reply for every accepted recipient, in order."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from deskbridge.mail import intake
from deskbridge.mail.smtpd import Receiver
from deskbridge.pipeline.models import InboundMessage
from tests.conftest import make_tenant
from tests.mail.conftest import (
    DOMAIN,
    buyer_message,
    connect,
    meanwhile,
    running_receiver,
    unsigned_amazon_message,
)


@pytest.fixture
def lmtp_receiver(transactional_db) -> Iterator[Receiver]:
    with running_receiver(lmtp=True) as running:
        yield running


def lmtp_data(client: smtplib.LMTP, raw: bytes, accepted: int) -> list[tuple[int, str]]:
    """DATA, then read one reply per accepted recipient (smtplib reads only the first)."""
    client.putcmd("data")
    assert client.getreply()[0] == 354
    payload = smtplib._quote_periods(raw)  # type: ignore[attr-defined]
    client.send(payload + (b"" if payload.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    return [(code, text.decode()) for code, text in (client.getreply() for _ in range(accepted))]


def lmtp(receiver: Receiver) -> smtplib.LMTP:
    client = smtplib.LMTP("127.0.0.1", receiver.port, timeout=60)
    code, _ = client.ehlo("postfix.test.example")  # smtplib's LMTP says LHLO
    assert code == 250
    return client


def test_one_reply_per_accepted_recipient_in_order(lmtp_receiver):
    first, second = connect(make_tenant()), connect(make_tenant())
    raw = buyer_message(first)
    with lmtp(lmtp_receiver) as client:
        client.mail("bounces@marketplace.amazon.de")
        assert client.rcpt(first.forwarding_address)[0] == 250
        assert client.rcpt(f"nobody@{DOMAIN}")[0] == 550
        assert client.rcpt(second.forwarding_address)[0] == 250
        assert client.rcpt(first.forwarding_address.upper())[0] == 250  # the same address again

        replies = lmtp_data(client, raw, accepted=3)

    rows = {row.rcpt_to: row for row in InboundMessage.objects.all()}
    assert set(rows) == {first.forwarding_address, second.forwarding_address}
    assert replies == [
        (250, f"2.0.0 Stored as inbound message {rows[first.forwarding_address].pk}"),
        (250, f"2.0.0 Stored as inbound message {rows[second.forwarding_address].pk}"),
        (250, f"2.0.0 Stored as inbound message {rows[first.forwarding_address].pk}"),
    ]
    assert rows[second.forwarding_address].organisation_id == second.organisation_id
    assert rows[first.forwarding_address].authentication["via"] == "lmtp"


def test_a_recipient_gone_during_data_is_refused_alone(lmtp_receiver, monkeypatch):
    staying, leaving = connect(make_tenant()), connect(make_tenant())
    real_authenticate = intake.authenticity.authenticate

    def disconnect_meanwhile(*args, **kwargs):
        meanwhile(leaving.account.disconnect)
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(intake.authenticity, "authenticate", disconnect_meanwhile)
    with lmtp(lmtp_receiver) as client:
        client.mail("bounces@marketplace.amazon.de")
        client.rcpt(leaving.forwarding_address)
        client.rcpt(staying.forwarding_address)

        replies = lmtp_data(client, buyer_message(staying), accepted=2)

    assert replies[0][0] == 550 and replies[0][1].startswith("5.1.1 ")
    assert replies[1][0] == 250
    assert InboundMessage.objects.get().rcpt_to == staying.forwarding_address


def test_refusals_after_data_come_once_per_recipient(lmtp_receiver, settings):
    first, second = connect(make_tenant()), connect(make_tenant())
    with lmtp(lmtp_receiver) as client:
        client.mail("bounces@marketplace.amazon.de")
        client.rcpt(first.forwarding_address)
        client.rcpt(second.forwarding_address)
        spoofed = lmtp_data(client, unsigned_amazon_message(first.forwarding_address), accepted=2)

        settings.SMTP_MAX_SIZE = 4096  # applies to sessions that start from now on
    with lmtp(lmtp_receiver) as client:
        client.mail("bounces@marketplace.amazon.de")
        client.rcpt(first.forwarding_address)
        client.rcpt(second.forwarding_address)
        oversize = lmtp_data(client, buyer_message(first, text="x" * 8000), accepted=2)

    assert [code for code, _ in spoofed] == [550, 550]
    assert all(text.startswith("5.7.1 ") for _, text in spoofed)
    assert [(code, text[:6]) for code, text in oversize] == [(552, "5.3.4 "), (552, "5.3.4 ")]
    assert not InboundMessage.objects.exists()


def test_lmtp_wants_lhlo_not_ehlo(lmtp_receiver):
    client = smtplib.SMTP("127.0.0.1", lmtp_receiver.port, timeout=30)
    try:
        code, _ = client.ehlo("postfix.test.example")
        assert code == 500
    finally:
        client.close()


def test_lmtp_over_a_unix_socket(transactional_db, tmp_path):
    seller = connect(make_tenant())
    with running_receiver(lmtp=True, unix_path=str(tmp_path / "lmtp.sock")) as receiver:
        client = smtplib.LMTP(receiver.address, timeout=60)
        client.ehlo("postfix.test.example")
        client.mail("bounces@marketplace.amazon.de")
        client.rcpt(seller.forwarding_address)
        replies = lmtp_data(client, buyer_message(seller), accepted=1)
        client.quit()
    assert replies[0][0] == 250
    row = InboundMessage.objects.get()
    assert row.peer == "" and row.authentication["spf"]["result"] == "none"
