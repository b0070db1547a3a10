"""The receiver on a free loopback port in a thread of this process, sellers with forwarding
addresses, and Amazon-looking messages (sandbox-signed, or not)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.core import jobs
from deskbridge.mail.smtpd import Receiver
from deskbridge.sandbox.amazon import mail as sandbox_mail
from tests.conftest import Tenant

DOMAIN = "deskbridge.localhost"
GERMANY = marketplaces.by_id("A1PA6795UKMFR9")
UNITED_STATES = marketplaces.by_id("ATVPDKIKX0DER")
_serial = itertools.count(1)


@contextlib.contextmanager
def running_receiver(**options) -> Iterator[Receiver]:
    """The receiver in a thread on 127.0.0.1:<free port>, on the test database.

    Its threads close their database connections after each message (CONN_MAX_AGE=0), so none is
    left open when the test ends (PostgreSQL would refuse to drop the test database).
    """
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    max_age, db["CONN_MAX_AGE"] = db["CONN_MAX_AGE"], 0
    sock = None if options.get("unix_path") else socket.create_server(("127.0.0.1", 0))
    receiver = Receiver(sock=sock, threads=8, **options)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
        db["CONN_MAX_AGE"] = max_age


@pytest.fixture
def receiver(transactional_db) -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def empty_queue() -> Iterator[None]:
    """The wake-ups these tests enqueue have no worker to run them; leave the queue as found."""
    yield
    jobs.HUEY.flush()


def connect(tenant: Tenant, marketplace=GERMANY, *, seller: str | None = None, address: str | None = None):
    """A connected seller account of `tenant` with one marketplace and its forwarding address."""
    n = next(_serial)
    account = SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id=seller or f"A2TEST{n:08d}",
        region=marketplace.region.value,
        store_name=f"Test store {n}",
        authorized_at=timezone.now(),
    )
    return MarketplaceConnection.objects.create(
        organisation=tenant.organisation,
        account=account,
        marketplace_id=marketplace.id,
        forwarding_address=address or f"amz-{marketplace.country_code.lower()}-{n}@{DOMAIN}",
    )


def buyer_message(
    connection: MarketplaceConnection, *, text: str = "Wo bleibt mein Paket?", **options
) -> bytes:
    """A realistic buyer message for `connection`, signed by the sandbox Amazon."""
    message = sandbox_mail.compose_buyer_message(
        to=connection.forwarding_address,
        marketplace=connection.marketplace,
        seller_id=connection.account.selling_partner_id,
        order_id=options.pop("order_id", "302-1234567-7654321"),
        text=text,
        **options,
    )
    return sandbox_mail.sign(message.as_bytes())


def unsigned_amazon_message(to: str, *, sender: str = "th6wqr1vf6dr43f@marketplace.amazon.de") -> bytes:
    return (
        f"From: Jonas - Amazon Marketplace <{sender}>\r\n"
        f"To: {to}\r\n"
        "Subject: Frage von Amazon-Kunde Jonas (Bestellung: 302-1234567-7654321)\r\n"
        "Message-ID: <spoof-1@marketplace.amazon.de>\r\n"
        "X-Space-Notification-Type: BBC_MESSAGE_SENT_TO_MERCHANT\r\n"
        "\r\n"
        "Bitte senden Sie mir Ihre Bankdaten.\r\n"
    ).encode()


def plain_message(to: str, body: str = "Hello, is this the shop?") -> bytes:
    return (
        f"From: Someone <someone@example.org>\r\nTo: {to}\r\nSubject: hello\r\n"
        f"Message-ID: <plain-{next(_serial)}@example.org>\r\n\r\n{body}\r\n"
    ).encode()


def smtp(receiver: Receiver) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", receiver.port, timeout=60)
    client.ehlo("mx.test.example")
    return client


def send(
    receiver: Receiver, raw: bytes, to: list[str] | str, mail_from: str = "bounces@marketplace.amazon.de"
):
    """MAIL, RCPT (each), DATA; returns (rcpt replies, data reply) as (code, text) pairs."""
    recipients = [to] if isinstance(to, str) else to
    with smtp(receiver) as client:
        assert client.mail(mail_from)[0] == 250
        rcpt = [(c, t.decode()) for c, t in (client.rcpt(r) for r in recipients)]
        if not any(code == 250 for code, _ in rcpt):
            return rcpt, None
        code, text = client.data(raw)
        return rcpt, (code, text.decode())


def as_data(raw: bytes) -> bytes:
    """`raw` as sent after DATA's 354: dot-stuffed, ended with CRLF.CRLF."""
    stuffed = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in raw.split(b"\r\n"))
    return stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def raw_session(
    port: int, commands: list[bytes], data: bytes | None = None, timeout: float = 60
) -> list[bytes]:
    """Speak SMTP over a bare socket (no line-ending fixes, unlike smtplib): each command's reply,
    and, when `data` is given, the reply to it (sent as is, dot-stuffed, ended with CRLF.CRLF)."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = sock.makefile("rb")
        replies.append(_read_reply(reader))
        for command in commands:
            sock.sendall(command + b"\r\n")
            replies.append(_read_reply(reader))
        if data is not None:
            sock.sendall(as_data(data))
            replies.append(_read_reply(reader))
        if not commands or commands[-1] != b"QUIT":
            sock.sendall(b"QUIT\r\n")
    return replies


def _read_reply(reader) -> bytes:
    lines = []
    while True:
        line = reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        lines.append(line)
        if line[3:4] != b"-":
            return b"".join(lines)


def data_dir_key() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / sandbox_mail.KEY_FILE


def new_private_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def sign_with_another_key(
    raw: bytes, domain: str = "marketplace.amazon.de", key: bytes | None = None, **options
) -> bytes:
    """Signed like the sandbox Amazon (same selector and domain), but with a key DNS does not publish."""
    import dkim

    signature = dkim.sign(
        raw,
        sandbox_mail.SELECTOR.encode(),
        domain.encode(),
        key or new_private_key(),
        include_headers=[b"from", b"to", b"subject", b"message-id"],
        **options,
    )
    return signature + raw


@pytest.fixture(autouse=True)
def fresh_recipient_cache() -> Iterator[None]:
    """Each test starts with no address remembered as live at RCPT."""
    from deskbridge.mail import intake

    intake.forget_all_live()
    yield
    intake.forget_all_live()


def meanwhile(action) -> None:
    """Do `action` (a database write) from a thread of its own, as another process would while a
    message arrives; the receiver may be checking that message on its event loop, where Django
    refuses database work."""

    def act() -> None:
        try:
            action()
        finally:
            connections.close_all()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(act).result()
