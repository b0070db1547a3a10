"""The SMTP receiver over real SMTP on loopback: who it takes mail for, what it refuses, what it stores."""

from __future__ import annotations

import concurrent.futures
import smtplib
import socket

import pytest
from django.utils import timezone

from deskbridge.amazon.models import MarketplaceConnection
from deskbridge.core import jobs
from deskbridge.mail import intake
from deskbridge.pipeline.models import InboundMessage
from deskbridge.pipeline.workrows import RUN_WORK_ROW, WorkState
from tests.conftest import make_tenant
from tests.mail.conftest import (
    DOMAIN,
    UNITED_STATES,
    buyer_message,
    connect,
    meanwhile,
    plain_message,
    raw_session,
    send,
    sign_with_another_key,
    smtp,
    unsigned_amazon_message,
)


@pytest.fixture
def seller(receiver):
    return connect(make_tenant())


def test_a_sandbox_signed_buyer_message_is_stored_before_250(receiver, seller):
    raw = buyer_message(seller)

    rcpt, data = send(receiver, raw, seller.forwarding_address)

    assert rcpt == [(250, "2.1.5 Forwarding address OK")]
    assert data[0] == 250 and data[1].startswith("2.0.0 Stored as inbound message ")
    row = InboundMessage.objects.get()
    assert data[1].endswith(str(row.pk))
    assert bytes(row.raw) == raw and row.size == len(raw)
    assert row.organisation_id == seller.organisation_id and row.connection_id == seller.pk
    assert row.rcpt_to == seller.forwarding_address
    assert row.mail_from == "bounces@marketplace.amazon.de"
    assert row.helo == "mx.test.example" and row.peer == "127.0.0.1"
    assert row.message_id.startswith("<") and row.message_id.endswith("@marketplace.amazon.de>")
    assert row.state == WorkState.PENDING and row.flags == []
    auth = row.authentication
    assert auth["verdict"] == "pass" and auth["claims_amazon"] and auth["mode"] == "enforce"
    assert auth["from_domain"] == "marketplace.amazon.de"
    assert auth["dkim"][0]["result"] == "pass" and auth["dkim"][0]["aligned"]
    assert auth["spf"]["result"] == "pass" and auth["dmarc"]["result"] == "pass"
    assert "dkim=pass" in auth["authentication_results"]
    seller.refresh_from_db()
    assert timezone.now() - seller.last_message_at < timezone.timedelta(minutes=1)


def test_the_worker_is_woken_for_the_stored_row(receiver, seller):
    jobs.HUEY.flush()

    send(receiver, buyer_message(seller), seller.forwarding_address)

    row = InboundMessage.objects.get()
    woken = [task.args for task in jobs.HUEY.pending()]
    assert (RUN_WORK_ROW, InboundMessage.label(), row.pk) in woken


def test_a_lost_wake_up_still_answers_250_the_reconciler_runs_the_row(receiver, seller, monkeypatch):
    def queue_down(*args):
        raise ConnectionError("the queue does not answer")

    monkeypatch.setattr(jobs, "_run_job", queue_down)

    _, data = send(receiver, buyer_message(seller), seller.forwarding_address)

    assert data[0] == 250
    assert InboundMessage.objects.get().state == WorkState.PENDING


def test_unknown_recipient_gets_550_5_1_1_and_nothing_is_stored(receiver, seller):
    rcpt, data = send(receiver, buyer_message(seller), f"nobody@{DOMAIN}")

    assert rcpt[0][0] == 550 and rcpt[0][1].startswith("5.1.1 ")
    assert data is None
    assert not InboundMessage.objects.exists()


def test_a_disconnected_accounts_address_gets_550(receiver, seller):
    seller.account.disconnect()

    rcpt, _ = send(receiver, buyer_message(seller), seller.forwarding_address)

    assert rcpt[0][0] == 550 and rcpt[0][1].startswith("5.1.1 ")
    assert not InboundMessage.objects.exists()


def test_recipients_are_matched_without_regard_to_case(receiver, seller):
    _, data = send(receiver, buyer_message(seller), seller.forwarding_address.upper())

    assert data[0] == 250
    assert InboundMessage.objects.get().rcpt_to == seller.forwarding_address


@pytest.mark.parametrize(
    "recipient", ["someone@example.com", f"amz-de-1@{DOMAIN}.example.com", "root@localhost"]
)
def test_relaying_to_another_domain_is_refused(receiver, seller, recipient):
    rcpt, data = send(receiver, plain_message(recipient), recipient)

    assert rcpt[0][0] == 550
    assert rcpt[0][1].startswith("5.7.1 Relaying denied")
    assert data is None and not InboundMessage.objects.exists()


def test_an_unknown_recipient_among_known_ones_is_refused_alone(receiver, seller):
    rcpt, data = send(receiver, buyer_message(seller), [f"nobody@{DOMAIN}", seller.forwarding_address])

    assert [code for code, _ in rcpt] == [550, 250]
    assert data[0] == 250
    assert InboundMessage.objects.get().rcpt_to == seller.forwarding_address


def test_size_is_advertised_and_an_oversize_message_gets_552_5_3_4(receiver, seller, settings):
    settings.SMTP_MAX_SIZE = 64 * 1024
    raw = buyer_message(seller, text="x" * 100_000)

    with smtp(receiver) as client:
        assert client.esmtp_features["size"] == str(64 * 1024)
        assert "enhancedstatuscodes" in client.esmtp_features
        client.mail("bounces@marketplace.amazon.de")
        client.rcpt(seller.forwarding_address)
        code, text = client.data(raw)
        assert (code, text.decode()[:6]) == (552, "5.3.4 ")
        # Declared up front, it is refused at MAIL FROM.
        code, text = client.mail("bounces@marketplace.amazon.de", [f"SIZE={len(raw)}"])
        assert (code, text.decode()[:6]) == (552, "5.3.4 ")
    assert not InboundMessage.objects.exists()


def test_an_unsigned_message_claiming_amazon_is_refused_in_enforce_mode(receiver, seller):
    _, data = send(receiver, unsigned_amazon_message(seller.forwarding_address), seller.forwarding_address)

    assert data[0] == 550
    assert data[1].startswith("5.7.1 Refused: this mail claims to be Amazon's but no DKIM signature")
    assert "marketplace.amazon.de" in data[1]
    assert not InboundMessage.objects.exists()


def test_a_message_signed_with_another_key_is_refused_in_enforce_mode(receiver, seller):
    forged = sign_with_another_key(unsigned_amazon_message(seller.forwarding_address))

    _, data = send(receiver, forged, seller.forwarding_address)

    assert data[0] == 550
    assert data[1].startswith("5.7.1 Refused: this mail claims to be Amazon's but the DKIM signature")
    assert "does not verify" in data[1]
    assert not InboundMessage.objects.exists()


def test_report_mode_accepts_a_spoofed_amazon_message_and_flags_it(receiver, seller, settings):
    settings.INBOUND_AUTH = "report"

    _, data = send(receiver, unsigned_amazon_message(seller.forwarding_address), seller.forwarding_address)

    assert data[0] == 250
    row = InboundMessage.objects.get()
    assert row.authentication["verdict"] == "fail" and row.authentication["mode"] == "report"
    assert row.authentication["claims_amazon"] is True
    assert row.flags == [intake.FLAG_AUTH_FAILED]


def test_mail_that_does_not_claim_amazon_is_accepted_as_such(receiver, seller):
    raw = plain_message(seller.forwarding_address)

    _, data = send(receiver, raw, seller.forwarding_address, mail_from="someone@example.org")

    assert data[0] == 250
    row = InboundMessage.objects.get()
    assert bytes(row.raw) == raw
    assert row.authentication["verdict"] == "not_amazon" and row.authentication["claims_amazon"] is False
    assert row.flags == []


MALFORMED = (
    b"Received: from nowhere\r\n"
    b"This line is no header field at all\r\n"
    b"From: broken <@@marketplace>\r\n"
    b"Subject: =?utf-8?q?unterminated encoded word\r\n"
    b'Content-Type: multipart/mixed; boundary="never-closed"\r\n'
    b"X-Latin-1: caf\xe9 cr\xe8me\r\n"
    b"\r\n"
    b"--never-closed\r\n"
    b"Content-Type: text/plain; charset=nonsense\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"!!! not base64 !!!\r\n"
    b".a line that starts with a dot\r\n"
    b"..and one with two\r\n"
    b"bare\nline feed and bare\rcarriage return and a NUL \x00 byte\r\n" + b"y" * 5000 + b"\r\n"
    b"--never-closed\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n" + bytes(range(256)).replace(b"\r\n", b"") + b"\r\n"
)


def test_malformed_mime_is_accepted_and_stored_byte_for_byte(receiver, seller):
    replies = raw_session(
        receiver.port,
        [
            b"EHLO mx.test.example",
            b"MAIL FROM:<>",
            f"RCPT TO:<{seller.forwarding_address}>".encode(),
            b"DATA",
        ],
        data=MALFORMED,
    )

    assert replies[-2].startswith(b"354")
    assert replies[-1].startswith(b"250 2.0.0 Stored")
    row = InboundMessage.objects.get()
    assert bytes(row.raw) == MALFORMED
    assert row.mail_from == ""
    assert row.authentication["verdict"] == "not_amazon"


def test_smtputf8_and_8bit_headers_are_stored_byte_for_byte(receiver, seller):
    raw = (
        "From: Jürgen Müller <jürgen@bücher.example>\r\n"
        f"To: {seller.forwarding_address}\r\n"
        "Subject: Größe passt nicht — 尺码不合适\r\n"
        "Message-ID: <ünicode-1@bücher.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Können Sie die Größe tauschen? 谢谢\r\n"
    ).encode()
    with smtp(receiver) as client:
        assert "smtputf8" in client.esmtp_features and "8bitmime" in client.esmtp_features
        client.sendmail("jürgen@bücher.example", [seller.forwarding_address], raw, mail_options=["SMTPUTF8"])

    row = InboundMessage.objects.get()
    assert bytes(row.raw) == raw
    assert row.mail_from == "jürgen@bücher.example"
    assert row.message_id == "<ünicode-1@bücher.example>"


def test_a_message_with_a_25_mb_attachment_is_accepted(receiver, seller, tmp_path):
    attachment = tmp_path / "photos.zip"
    attachment.write_bytes(bytes(range(256)) * (25 * 1024 * 1024 // 256))
    raw = buyer_message(seller, attachments=[attachment])
    assert len(raw) > 25 * 1024 * 1024

    _, data = send(receiver, raw, seller.forwarding_address)

    assert data[0] == 250
    row = InboundMessage.objects.get()
    assert row.size == len(raw) and row.authentication["verdict"] == "pass"
    assert bytes(row.raw) == raw  # on PostgreSQL, written apart in binary


def test_fifty_concurrent_clients_all_get_250(receiver, seller):
    messages = [buyer_message(seller, order_id=f"302-0000000-{n:07d}") for n in range(50)]

    def deliver(raw: bytes) -> int:
        _, data = send(receiver, raw, seller.forwarding_address)
        return data[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(deliver, messages))

    assert codes == [250] * 50
    assert InboundMessage.objects.count() == 50
    assert {bytes(r) for r in InboundMessage.objects.values_list("raw", flat=True)} == set(messages)


def test_a_slow_client_does_not_hold_up_another(receiver, seller):
    slow = smtplib.SMTP("127.0.0.1", receiver.port, timeout=30)
    slow.ehlo("slow.example")
    slow.mail("bounces@marketplace.amazon.de")
    slow.rcpt(seller.forwarding_address)
    slow.putcmd("data")
    assert slow.getreply()[0] == 354
    slow.send(b"Subject: half a message\r\n")  # ... and then nothing for a while

    _, data = send(receiver, buyer_message(seller), seller.forwarding_address)

    assert data[0] == 250
    slow.close()


def test_a_message_for_two_organisations_becomes_two_rows(receiver):
    first, second = connect(make_tenant()), connect(make_tenant(), UNITED_STATES)
    raw = plain_message(f"{first.forwarding_address}, {second.forwarding_address}")

    _, data = send(
        receiver, raw, [first.forwarding_address, second.forwarding_address, first.forwarding_address]
    )

    assert data[0] == 250
    rows = {row.rcpt_to: row for row in InboundMessage.objects.all()}
    assert set(rows) == {first.forwarding_address, second.forwarding_address}
    assert rows[first.forwarding_address].organisation_id == first.organisation_id
    assert rows[second.forwarding_address].organisation_id == second.organisation_id
    assert rows[second.forwarding_address].connection_id == second.pk
    assert bytes(rows[first.forwarding_address].raw) == bytes(rows[second.forwarding_address].raw) == raw
    assert MarketplaceConnection.objects.filter(last_message_at__isnull=False).count() == 2


def test_a_storage_failure_answers_451_and_stores_nothing(receiver, seller, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(intake, "_insert_rows", broken)

    _, data = send(receiver, buyer_message(seller), seller.forwarding_address)

    assert data[0] == 451 and data[1].startswith("4.3.0 ")
    assert not InboundMessage.objects.exists()


def test_a_recipient_disconnected_during_data_defers_the_whole_message(receiver, seller, monkeypatch):
    other = connect(make_tenant())
    real_authenticate = intake.authenticity.authenticate

    def disconnect_meanwhile(*args, **kwargs):
        meanwhile(other.account.disconnect)
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(intake.authenticity, "authenticate", disconnect_meanwhile)

    rcpt, data = send(receiver, buyer_message(seller), [seller.forwarding_address, other.forwarding_address])

    assert [code for code, _ in rcpt] == [250, 250]
    assert data[0] == 451 and "recipient changed" in data[1]
    assert not InboundMessage.objects.exists()


def test_a_line_longer_than_256_kb_is_refused_and_nothing_is_stored(receiver, seller):
    raw = plain_message(seller.forwarding_address, "z" * (300 * 1024))

    _, data = send(receiver, raw, seller.forwarding_address, mail_from="someone@example.org")

    assert data == (500, "5.5.2 Line too long")
    assert not InboundMessage.objects.exists()
    # The session goes on: the next message is taken.
    _, data = send(receiver, plain_message(seller.forwarding_address), seller.forwarding_address)
    assert data[0] == 250


def test_the_receivers_logs_name_no_address(receiver, seller, caplog):
    send(receiver, buyer_message(seller), seller.forwarding_address)
    send(
        receiver,
        unsigned_amazon_message(seller.forwarding_address),
        [f"nobody@{DOMAIN}", seller.forwarding_address],
    )
    send(receiver, plain_message("x@example.com"), "x@example.com", mail_from="someone@example.org")

    logged = caplog.text
    assert "inbound message stored" in logged and "smtp recipient refused" in logged
    assert "inbound message refused as not Amazon's" in logged
    assert "@" not in logged.replace("[email]", "")  # nothing to redact either: no address was logged
    assert "[email]" not in logged


def test_replies_carry_enhanced_status_codes_as_advertised(receiver):
    replies = raw_session(
        receiver.port,
        [b"HELO mx.test.example", b"MAIL FROM:<a@example.org>", b"RSET", b"FROB", b"DATA", b"NOOP", b"QUIT"],
    )

    assert replies[0].startswith(b"220 deskbridge.localhost")
    assert replies[1] == b"250 deskbridge.localhost\r\n"  # HELO's reply has none (RFC 2034)
    assert replies[2] == b"250 2.1.0 Sender OK\r\n"
    assert replies[3] == b"250 2.0.0 OK\r\n"
    assert replies[4].startswith(b"500 5.5.2 ")
    assert replies[5].startswith(b"503 5.5.1 ")
    assert replies[6] == b"250 2.0.0 OK\r\n"
    assert replies[7].startswith(b"221 2.0.0 ")


def test_replies_are_not_held_back_by_nagles_algorithm(receiver):
    """Every connection has TCP_NODELAY: with Nagle's algorithm on, a reply written while the one
    before was still unacknowledged waited for the client's delayed ACK (~40 ms a message)."""
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:
        client.ehlo("mx.test.example")
        (session,) = [s for s in receiver.sessions if s.transport is not None]
        sock = session.transport.get_extra_info("socket")

        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_replies_to_pipelined_commands_go_out_together(receiver, seller):
    """RFC 2920: the replies to a group of pipelined commands are sent as a unit (one write)."""
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=30) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO mx.test.example\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        (session,) = [s for s in receiver.sessions if s.transport is not None]
        writes: list[bytes] = []
        real_write = session._writer.write
        session._writer.write = lambda data: writes.append(data) or real_write(data)

        sock.sendall(
            f"MAIL FROM:<bounces@marketplace.amazon.de>\r\nRCPT TO:<{seller.forwarding_address}>\r\n"
            "DATA\r\n".encode()
        )
        replies = [reader.readline() for _ in range(3)]

        assert [r[:4] for r in replies] == [b"250 ", b"250 ", b"354 "]
        assert writes == [b"".join(replies)]
        sock.sendall(b".\r\nQUIT\r\n")
