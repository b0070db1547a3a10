"""The sandbox Amazon relay over real SMTP on loopback: what it delivers (kept byte for byte in its
outbox), what it refuses at RCPT, and what it refuses afterwards with a signed delivery-failure
notice that deskbridge's running receiver accepts and its parser reads as a delivery failure."""

from __future__ import annotations

import contextlib
import email
import itertools
import json
import smtplib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connections

from deskbridge.amazon.mail import FailureReason, MailClass, read_amazon_mail
from deskbridge.core import jobs
from deskbridge.mail import intake
from deskbridge.pipeline.models import InboundMessage
from deskbridge.sandbox.amazon import mail as sandbox_mail
from deskbridge.sandbox.amazon.models import (
    SandboxApprovedSender,
    SandboxBuyerAlias,
    SandboxOrder,
    SandboxRelayMessage,
    SandboxSeller,
)
from deskbridge.sandbox.amazon.relay import Relay
from deskbridge.sandbox.amazon.relay_rules import content_problem, phone_numbers
from tests.conftest import make_tenant
from tests.mail.conftest import UNITED_STATES, connect, running_receiver

ORDER = "113-4567890-1234567"
_serial = itertools.count(1)


# --- fixtures -------------------------------------------------------------------------------------


@contextlib.contextmanager
def running_relay() -> Iterator[Relay]:
    """The relay in a thread on 127.0.0.1:<free port>, on the test database."""
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    max_age, db["CONN_MAX_AGE"] = db["CONN_MAX_AGE"], 0
    relay = Relay(sock=socket.create_server(("127.0.0.1", 0)))
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
        db["CONN_MAX_AGE"] = max_age


@pytest.fixture
def relay(transactional_db, settings) -> Iterator[Relay]:
    intake.forget_all_live()
    with running_receiver() as receiver, running_relay() as running:
        # Notices go to this installation's receiver, as `sandbox buyer-message` does.
        settings.SMTP_HOST, settings.SMTP_PORT = "127.0.0.1", receiver.port
        yield running
    jobs.HUEY.flush()  # the receiver's wake-ups: no worker runs them here
    intake.forget_all_live()


class Shop:
    """A seller known to the sandbox Amazon, connected to deskbridge, with one buyer who wrote."""

    def __init__(self, *, approve: bool = True) -> None:
        n = next(_serial)
        self.seller_id = f"A2RELAY{n:07d}"
        self.seller = SandboxSeller.objects.create(
            selling_partner_id=self.seller_id,
            region="NA",
            store_name=f"Relay shop {n}",
            business_name=f"Relay shop {n} LLC",
            address_line1="1 Example Way",
            city="Seattle",
            postal_code="98109",
            country_code="US",
            primary_contact_name="Sam Seller",
        )
        self.connection = connect(make_tenant(), UNITED_STATES, seller=self.seller_id)
        self.address = self.connection.forwarding_address
        if approve:
            SandboxApprovedSender.objects.create(seller=self.seller, email=self.address)
        # The buyer writes first, through the sandbox Amazon (which records the alias).
        out = StringIO()
        call_command(
            "sandbox", "buyer-message", "--to", self.address, "--order", ORDER, "--text", "Hi", stdout=out
        )
        self.buyer_message = InboundMessage.objects.get(rcpt_to=self.address)
        parsed = email.message_from_bytes(bytes(self.buyer_message.raw), policy=policy.default)
        self.alias = parsed["From"].addresses[0].addr_spec
        self.buyer_subject = str(parsed["Subject"])

    def reply(
        self, text: str = "Your parcel left our warehouse today.", *, in_thread: bool = True, **headers
    ) -> EmailMessage:
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = headers.pop("From", f"Relay shop <{self.address}>")
        message["To"] = self.alias
        message["Subject"] = headers.pop("Subject", f"Re: {self.buyer_subject}")
        message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
        message["Message-ID"] = f"<reply-{uuid.uuid4().hex[:12]}@deskbridge.localhost>"
        if in_thread:
            message["In-Reply-To"] = self.buyer_message.message_id
            message["References"] = self.buyer_message.message_id
        message.set_content(text)
        return message


def send(relay: Relay, raw: bytes, to: str, mail_from: str) -> tuple[tuple[int, str], tuple[int, str] | None]:
    """MAIL, RCPT, DATA over loopback: (RCPT reply, DATA reply or None when RCPT was refused)."""
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=60) as client:
        client.ehlo("mail.deskbridge.localhost")
        assert client.mail(mail_from)[0] == 250
        code, text = client.rcpt(to)
        if code != 250:
            return (code, text.decode()), None
        data_code, data_text = client.data(raw)
        return (code, text.decode()), (data_code, data_text.decode())


def wait_for_notice(shop: Shop, timeout: float = 30) -> InboundMessage:
    """The delivery-failure notice the relay sent to the shop's forwarding address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notice = InboundMessage.objects.filter(rcpt_to=shop.address).exclude(pk=shop.buyer_message.pk).first()
        if notice is not None:
            return notice
        time.sleep(0.1)
    rows = list(SandboxRelayMessage.objects.values("status", "reason", "notice_error"))
    raise AssertionError(f"no notice reached {shop.address}; relay rows: {rows}")


def refused(relay: Relay, shop: Shop, message: EmailMessage, reason: str, mail_from: str | None = None):
    """Send `message`, which the relay must accept at SMTP and then refuse; returns what deskbridge
    read out of the notice that reached its receiver."""
    raw = message.as_bytes()
    rcpt, data = send(relay, raw, shop.alias, mail_from or shop.address)
    assert rcpt[0] == 250 and data is not None and data[0] == 250, (rcpt, data)
    row = SandboxRelayMessage.objects.filter(rcpt_to=shop.alias).latest("id")
    assert (row.status, row.reason) == ("refused", reason)
    notice = wait_for_notice(shop)
    assert notice.authentication["mode"] == "enforce" and notice.authentication["verdict"] == "pass"
    read = read_amazon_mail(bytes(notice.raw))
    assert read.failure is not None
    assert read.failure.order_id == ORDER and read.order_id == ORDER
    assert read.failure.recipient == shop.alias
    deadline = time.monotonic() + 10
    while row.notice_sent_at is None and not row.notice_error and time.monotonic() < deadline:
        time.sleep(0.05)  # the relay records the notice once the receiver's 250 came back
        row.refresh_from_db()
    assert row.notice_sent_at is not None and row.notice_to == shop.address and not row.notice_error
    return read


# --- delivered --------------------------------------------------------------------------------------


def test_an_approved_sender_reaches_the_buyer_and_the_outbox_has_the_message_byte_for_byte(
    sandbox_urls, relay, live_url
):
    shop = Shop()
    raw = shop.reply("Grüße aus dem Lager: your parcel left today.").as_bytes()
    assert raw.endswith(b"\r\n") and b"\r\n" in raw  # smtplib sends CRLF messages as they are

    rcpt, data = send(relay, raw, shop.alias, shop.address)

    assert rcpt == (250, "2.1.5 Recipient OK") and data == (250, "2.0.0 Message accepted for delivery")
    outbox = httpx.get(f"{live_url}/sandbox/amazon/relay/messages.json").json()
    assert [(m["mail_from"], m["rcpt_to"], m["status"]) for m in outbox] == [
        (shop.address, shop.alias, "delivered")
    ]
    assert outbox[0]["raw"].encode("utf-8") == raw and "raw_base64" not in outbox[0]
    time.sleep(0.5)
    assert InboundMessage.objects.filter(rcpt_to=shop.address).count() == 1  # no notice

    page = httpx.get(f"{live_url}/sandbox/amazon/relay/")
    assert page.status_code == 200
    assert shop.alias in page.text and "Delivered" in page.text and "your parcel left today" in page.text


def test_a_plus_case_alias_and_a_sandbox_orders_buyer_are_known(relay):
    shop = Shop()
    local, _, domain = shop.alias.partition("@")
    raw = shop.reply().as_bytes()
    assert send(relay, raw, f"{local}+133a066e@{domain}", shop.address)[1][0] == 250
    SandboxOrder.objects.create(
        seller=shop.seller,
        order_id="114-0000000-0000001",
        marketplace_id=UNITED_STATES.id,
        created_time="2026-11-01T10:00:00Z",
        last_updated_time="2026-11-01T10:00:00Z",
        fulfillment_status="SHIPPED",
        fulfilled_by="MERCHANT",
        buyer_email="zz9orderbuyer01@marketplace.amazon.com",
    )
    rcpt, data = send(relay, raw, "zz9orderbuyer01@marketplace.amazon.com", shop.address)
    assert rcpt[0] == 250 and data[0] == 250
    assert SandboxBuyerAlias.objects.get(
        alias="zz9orderbuyer01@marketplace.amazon.com"
    ).selling_partner_id == (shop.seller_id)
    assert set(SandboxRelayMessage.objects.values_list("status", flat=True)) == {"delivered"}


# --- refused at RCPT --------------------------------------------------------------------------------


def test_another_domain_is_relaying_denied_and_an_unknown_alias_does_not_exist(relay):
    shop = Shop()
    raw = shop.reply().as_bytes()

    rcpt, data = send(relay, raw, "someone@example.org", shop.address)
    assert rcpt[0] == 550 and rcpt[1].startswith("5.7.1 Relaying denied") and data is None

    rcpt, data = send(relay, raw, "nobody00000000x@marketplace.amazon.com", shop.address)
    assert rcpt == (550, "5.1.1 The buyer alias does not exist") and data is None

    rcpt, data = send(relay, raw, shop.alias.replace(".com", ".de"), shop.address)  # another marketplace
    assert rcpt[0] == 550 and rcpt[1].startswith("5.1.1")
    assert not SandboxRelayMessage.objects.exists()


# --- refused afterwards, with a notice -------------------------------------------------------------------


def test_an_unapproved_sender_is_accepted_then_refused_with_a_notice_deskbridge_reads(relay):
    shop = Shop(approve=False)
    message = shop.reply()

    read = refused(relay, shop, message, "unauthorized_sender")

    assert read.mail_class == MailClass.DELIVERY_FAILURE
    assert read.failure.reason == FailureReason.UNAUTHORIZED_SENDER
    assert read.failure.message_id == message["Message-ID"] and read.in_reply_to == message["Message-ID"]
    assert read.failure.subject == message["Subject"]
    assert read.sender == "donotreply@amazon.com" and read.notification_type is None
    assert shop.address in (read.failure.detail or "")


def test_an_approved_from_with_an_envelope_sender_of_another_domain_is_refused(relay):
    shop = Shop()
    read = refused(relay, shop, shop.reply(), "unauthorized_sender", mail_from="bounces@elsewhere.example")
    assert read.failure.reason == FailureReason.UNAUTHORIZED_SENDER


def test_a_phone_number_is_refused_as_content(relay):
    shop = Shop()
    message = shop.reply("Call our hotline on +1 206 555 0142 if the parcel does not arrive.")

    read = refused(relay, shop, message, "content_rejected")

    assert read.mail_class == MailClass.DELIVERY_FAILURE
    assert read.failure.reason == FailureReason.CONTENT_REJECTED
    assert "Buyer-Seller Messaging communication guidelines" in read.text
    assert "telephone number" in read.text
    assert read.failure.message_id == message["Message-ID"]
    assert SandboxRelayMessage.objects.get().detail == "It contains a telephone number."


def test_an_opted_out_buyer_gets_no_unsolicited_message_but_a_reply_on_the_thread(relay):
    shop = Shop()
    out = StringIO()
    call_command("sandbox", "buyer-opt-out", shop.alias, stdout=out)
    assert "opted out of" in out.getvalue()

    read = refused(relay, shop, shop.reply("A new offer for you.", in_thread=False), "opted_out")

    assert read.mail_class == MailClass.BUYER_OPT_OUT
    assert read.notification_type == "BUYER_OPTED_OUT_BSM_MESSAGES"
    assert read.failure.reason == FailureReason.OPTED_OUT
    assert read.failure.message_id is None  # the opt-out notice quotes none (amazon.md §12.12)
    assert read.sender == "auto-communication@amazon.com"

    # The exception: a reply on the buyer's own thread, or a message marked [Important].
    assert send(relay, shop.reply().as_bytes(), shop.alias, shop.address)[1][0] == 250
    important = shop.reply(in_thread=False, Subject=f"[Important] Your order {ORDER}")
    send(relay, important.as_bytes(), shop.alias, shop.address)
    assert list(SandboxRelayMessage.objects.values_list("status", flat=True)) == [
        "refused",
        "delivered",
        "delivered",
    ]

    call_command("sandbox", "buyer-opt-out", "--undo", shop.alias, stdout=out)
    assert not SandboxBuyerAlias.objects.get(alias=shop.alias).opted_out
    with pytest.raises(CommandError, match="not a buyer alias"):
        call_command("sandbox", "buyer-opt-out", "nobody@marketplace.amazon.com", stdout=out)


@pytest.mark.parametrize(
    ("filename", "content_type", "size", "detail"),
    [
        (
            "unboxing.mp4",
            "video/mp4",
            2048,
            "It has a video attachment (unboxing.mp4); videos cannot be sent.",
        ),
        ("manual.pdf", "application/pdf", 10 * 1024 * 1024 + 1, "at most 10 MB"),
    ],
)
def test_video_and_oversized_attachments_are_refused(relay, filename, content_type, size, detail):
    shop = Shop()
    message = shop.reply("The manual is attached.")
    maintype, subtype = content_type.split("/")
    message.add_attachment(b"\x00" * size, maintype=maintype, subtype=subtype, filename=filename)

    read = refused(relay, shop, message, "content_rejected")

    assert read.failure.reason == FailureReason.CONTENT_REJECTED
    assert detail in SandboxRelayMessage.objects.get().detail


def test_attachments_up_to_10_mb_in_all_are_delivered(relay):
    shop = Shop()
    message = shop.reply("Two photos of the packed parcel.")
    for n in range(2):
        message.add_attachment(
            b"\xff" * (5 * 1024 * 1024), maintype="image", subtype="jpeg", filename=f"p{n}.jpg"
        )
    assert send(relay, message.as_bytes(), shop.alias, shop.address)[1][0] == 250
    assert SandboxRelayMessage.objects.get().status == "delivered"


def test_the_mailbox_page_shows_a_refusal_with_its_reason(sandbox_urls, relay, live_url):
    shop = Shop(approve=False)
    refused(relay, shop, shop.reply(), "unauthorized_sender")
    page = httpx.get(f"{live_url}/sandbox/amazon/relay/", headers={"Accept-Language": "en"})
    assert "Refused" in page.text and "The sender is not approved" in page.text
    assert f"Delivery-failure notice sent to {shop.address}." in page.text
    outbox = httpx.get(f"{live_url}/sandbox/amazon/relay/messages.json").json()
    assert [(m["status"], m["reason"]) for m in outbox] == [("refused", "unauthorized_sender")]
    json.dumps(outbox)


# --- the content rules, unit by unit ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Call me at +49 30 1234567", ["+49 30 1234567"]),
        ("or on 555-123-4567 today", ["555-123-4567"]),
        ("Tel. 01 23 45 67 89", ["01 23 45 67 89"]),
        ("Tel. 01.23.45.67.89", ["01.23.45.67.89"]),
        ("Ruf an: 030123456789", ["030123456789"]),
        ("Order 111-1234567-1234567 shipped", []),
        ("On 01.12.2026 10:30 you wrote", []),
        ("Delivered 2026-05-01", []),
        ("Tracking number 123456789012", []),
        ("https://www.amazon.com/gp/x?d=1767225600&t=123456789", []),
        ("We ship in 2-3 days, 1.234,56 EUR", []),
        ("between 2026 and 2027 1000 units", []),
        ("On Mon, 1 Dec 2026 10:00:00 +0000, Emily wrote:", []),
    ],
)
def test_phone_numbers(text, found):
    assert phone_numbers(text) == found


@pytest.mark.parametrize(
    ("body", "html", "problem"),
    [
        ("Write to help@shop.example", False, "email address"),
        ('<p>Write <a href="mailto:help@shop.example">to us</a></p>', True, "email address"),
        ("See https://shop.example/returns", False, "other than Amazon (shop.example)"),
        ('<a href="http://tracking.example/1Z">track</a>', True, "other than Amazon (tracking.example)"),
        ("Review it at https://www.amazon.de/review and mail x@marketplace.amazon.de", False, None),
        ("Your order: https://amzn.to/3abc", False, None),
    ],
)
def test_content_rules(body, html, problem):
    message = EmailMessage()
    message.set_content(body, subtype="html" if html else "plain")
    found = content_problem(message)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_the_relay_says_which_port_is_taken():
    from deskbridge.errors import SettingsError

    with (
        socket.create_server(("127.0.0.1", 0)) as taken,
        pytest.raises(SettingsError, match="DESKBRIDGE_SANDBOX_RELAY_PORT"),
    ):
        Relay(host="127.0.0.1", port=taken.getsockname()[1])


def test_the_relay_notice_composer_quotes_subject_order_and_message_id():
    refused_message = sandbox_mail.RefusedMessage(
        reason="content_rejected",
        detail="It contains a telephone number.",
        alias="abc@marketplace.amazon.de",
        marketplace=UNITED_STATES,
        subject="Re: Frage (Bestellung: 302-1234567-7654321)",
        order_id="302-1234567-7654321",
        message_id="<r1@deskbridge.localhost>",
        date=None,
        sender="amz@deskbridge.localhost",
    )
    notice = sandbox_mail.compose_refusal_notice(refused_message, "amz@deskbridge.localhost")
    read = read_amazon_mail(notice.as_bytes())
    assert read.mail_class == MailClass.DELIVERY_FAILURE
    assert read.failure.to_json() | {"detail": None} == {
        "reason": "content_rejected",
        "recipient": "abc@marketplace.amazon.de",
        "order_id": "302-1234567-7654321",
        "message_id": "<r1@deskbridge.localhost>",
        "subject": "Re: Frage (Bestellung: 302-1234567-7654321)",
        "status": None,
        "detail": None,
    }


# --- running it -----------------------------------------------------------------------------------------


def test_sandbox_serve_runs_the_relay_on_its_port(tmp_path):
    from tests.processes import bare_env, deskbridge, free_port, stop, wait_for_http

    relay_port = free_port()
    env = bare_env(tmp_path, DESKBRIDGE_SANDBOX_RELAY_PORT=str(relay_port))
    process = deskbridge(
        "sandbox", "serve", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        web = f"http://127.0.0.1:{env['DESKBRIDGE_WEB_PORT']}"
        response = wait_for_http(f"{web}/sandbox/amazon/relay/messages.json", process)
        assert response.status_code == 200 and response.json() == []
        with smtplib.SMTP("127.0.0.1", relay_port, timeout=30) as client:
            assert client.ehlo("mail.example.org")[0] == 250
            assert client.mail("seller@example.org")[0] == 250
            assert client.rcpt("someone@example.org")[0] == 550
    finally:
        stop(process)
    assert f"its Amazon relay takes SMTP at 127.0.0.1:{relay_port}" in process.stdout.read()


def test_demo_json_names_the_relay_outbox(db, settings):
    from deskbridge.sandbox.demo import write_demo_json

    login = {"email": "e", "password": "p", "seller_id": "S", "addresses": {}, "orders": []}
    path = write_demo_json(login, "http://127.0.0.1:8000")
    assert (
        json.loads(path.read_text())["relay_outbox"]
        == "http://127.0.0.1:8000/sandbox/amazon/relay/messages.json"
    )


def test_the_smart_host_in_sandbox_mode_is_the_sandbox_relay(settings):
    from deskbridge.sandbox.amazon.relay import relay_smtp

    assert settings.SANDBOX_ENABLED
    assert (settings.SMTP_RELAY_HOST, settings.SMTP_RELAY_PORT) == ("127.0.0.1", settings.SANDBOX_RELAY_PORT)
    assert relay_smtp() == {"host": "127.0.0.1", "port": settings.SANDBOX_RELAY_PORT}
