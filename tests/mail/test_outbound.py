"""Outbound mail: DKIM signatures a receiver can verify, and each SMTP answer mapped to what the
caller should do, against real SMTP servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dkim
import pytest
from aiosmtpd.controller import Controller

from deskbridge.mail import outbound
from tests.processes import free_port

MESSAGE = (
    b"From: amz-de-1@deskbridge.localhost\r\nTo: buyer@marketplace.amazon.de\r\n"
    b"Subject: Re: Wo ist mein Paket?\r\nMessage-ID: <deskbridge.1@deskbridge.localhost>\r\n"
    b"In-Reply-To: <buyer.1@marketplace.amazon.de>\r\n\r\nIhr Paket kommt morgen.\r\n"
)


class Answering:
    """An SMTP server that records what it got and answers DATA with `answer`."""

    def __init__(self, answer: str = "250 2.0.0 Ok: queued as 4XYZ") -> None:
        self.answer, self.received = answer, []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return self.answer


@contextmanager
def smtp_server(answer: str = "250 2.0.0 Ok: queued as 4XYZ") -> Iterator[tuple[Answering, int]]:
    handler, port = Answering(answer), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smart_host(settings):
    def point_at(port: int) -> None:
        settings.SMTP_RELAY_HOST, settings.SMTP_RELAY_PORT = "127.0.0.1", port

    return point_at


def test_a_signature_verifies_against_the_record_doctor_tells_us_to_publish(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    name, record = outbound.dkim_record()
    signed = outbound.sign(MESSAGE)
    assert name == "deskbridge._domainkey.deskbridge.localhost"
    assert (tmp_path / "dkim.pem").stat().st_mode & 0o777 == 0o600

    def dns(query: bytes, timeout: float = 5) -> bytes | None:
        return record.encode() if query.decode().rstrip(".") == name else None

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"morgen", b"heute"), dnsfunc=dns)
    assert b"in-reply-to" in signed.split(b"\r\n\r\n")[0].lower().split(b"h=")[1].split(b";")[0]


def test_the_server_taking_it_is_sent(smart_host):
    with smtp_server() as (handler, port):
        smart_host(port)
        sent = outbound.send(MESSAGE, "amz-de-1@deskbridge.localhost", "buyer@marketplace.amazon.de")
    assert sent.response.startswith("2.0.0 Ok: queued as 4XYZ")
    ((mail_from, rcpts, content),) = handler.received
    assert mail_from == "amz-de-1@deskbridge.localhost" and rcpts == ["buyer@marketplace.amazon.de"]
    assert content.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")


def test_a_5xx_is_permanent_and_a_4xx_transient(smart_host):
    with smtp_server("550 5.7.1 Sender not authorized") as (_, port):
        smart_host(port)
        with pytest.raises(outbound.PermanentSendError) as refused:
            outbound.send(MESSAGE, "a@deskbridge.localhost", "buyer@marketplace.amazon.de")
    assert refused.value.code == 550 and "Sender not authorized" in str(refused.value)
    with smtp_server("451 4.3.0 Try again later") as (_, port):
        smart_host(port)
        with pytest.raises(outbound.TransientSendError) as deferred:
            outbound.send(MESSAGE, "a@deskbridge.localhost", "buyer@marketplace.amazon.de")
    assert deferred.value.code == 451


def test_nobody_listening_is_transient(smart_host):
    smart_host(free_port())
    with pytest.raises(outbound.TransientSendError):
        outbound.send(MESSAGE, "a@deskbridge.localhost", "buyer@marketplace.amazon.de")


def test_without_a_smart_host_the_relay_domains_mx_hosts_are_tried_in_order(settings, monkeypatch):
    settings.SMTP_RELAY_HOST = ""
    asked = []

    def resolve(name: str, rdtype: str) -> list[str]:
        asked.append((name, rdtype))
        return ["mx1.marketplace.amazon.de", "mx2.marketplace.amazon.de"]

    monkeypatch.setattr(outbound, "dns_resolve", resolve)
    assert outbound.targets("buyer@marketplace.amazon.de") == [
        ("mx1.marketplace.amazon.de", 25),
        ("mx2.marketplace.amazon.de", 25),
    ]
    assert asked == [("marketplace.amazon.de", "MX")]
