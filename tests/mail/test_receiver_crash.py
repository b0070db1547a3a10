"""`deskbridge smtpd` killed with SIGKILL in the middle of a message: nothing half-stored, no 250 seen,
and the sender's retry to the restarted receiver is stored once. Its committer process (which
stores what the receiver checked): ending it stops the receiver with nothing acknowledged and
lost; the SIGTERM that reaches the whole process group lets it finish what it was sent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from deskbridge.mail.smtpd import BIG_MESSAGE
from deskbridge.pipeline.models import InboundMessage
from tests.conftest import make_tenant
from tests.mail.conftest import as_data, buyer_message, connect, raw_session
from tests.processes import command_env, deskbridge, free_port


def start_smtpd(port: int, *options: str, **popen) -> subprocess.Popen:
    process = deskbridge(
        "smtpd",
        "--port",
        str(port),
        *options,
        env=command_env(DESKBRIDGE_SMTP_HOST="127.0.0.1"),
        stderr=subprocess.PIPE,
        **popen,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"smtpd exited with {process.returncode}: {process.stderr.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(100).startswith(b"220"):
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("smtpd did not start")


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def open_data(port: int, rcpt: str) -> tuple[socket.socket, object]:
    """A session left inside DATA (after 354): the caller sends the message, or part of it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    reader = sock.makefile("rb")
    assert reader.readline().startswith(b"220")
    for command in (
        b"EHLO mx.test.example",
        b"MAIL FROM:<bounces@marketplace.amazon.de>",
        f"RCPT TO:<{rcpt}>".encode(),
    ):
        sock.sendall(command + b"\r\n")
        line = reader.readline()
        while line[3:4] == b"-":
            line = reader.readline()
        assert line[:1] == b"2", line
    sock.sendall(b"DATA\r\n")
    assert reader.readline().startswith(b"354")
    return sock, reader


def deliver(port: int, rcpt: str, raw: bytes) -> list[bytes]:
    commands = [
        b"EHLO mx.test.example",
        b"MAIL FROM:<bounces@marketplace.amazon.de>",
        f"RCPT TO:<{rcpt}>".encode(),
    ]
    return raw_session(port, [*commands, b"DATA"], data=raw)


def reply_or_nothing(reader) -> bytes:
    try:
        return reader.readline()
    except OSError:
        return b""


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_data_stores_nothing_and_the_retry_is_stored_once(tmp_path):
    seller = connect(make_tenant())
    raw = buyer_message(seller)
    port = free_port()

    receiver = start_smtpd(port)
    try:
        sock, reader = open_data(port, seller.forwarding_address)
        sock.sendall(raw[: len(raw) // 2])  # half the message, no end-of-data
        time.sleep(0.3)
        kill(receiver)
        assert reply_or_nothing(reader) == b""  # the connection ended without a reply
        sock.close()
    finally:
        receiver.kill()
    assert not InboundMessage.objects.exists()

    # The sending MTA retries against the restarted receiver.
    receiver = start_smtpd(port)
    try:
        replies = deliver(port, seller.forwarding_address, raw)
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
    assert replies[-1].startswith(b"250 2.0.0 Stored")
    row = InboundMessage.objects.get()
    assert bytes(row.raw) == raw


@pytest.mark.django_db(transaction=True)
def test_sigkill_after_the_end_of_data_never_leaves_a_partial_row(tmp_path):
    """Killed while the message is being checked and stored: the client either saw 250 (then the
    row is there, whole) or saw nothing (then there is no row, or a whole one: a duplicate that the
    sender's retry makes and the pipeline's dedupe removes). Never a partial row, never a 250 for
    nothing."""
    seller = connect(make_tenant())
    attachment = tmp_path / "scan.pdf"
    attachment.write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 40_000)  # ~10 MB: seconds of checking
    raw = buyer_message(seller, attachments=[attachment])
    port = free_port()

    receiver = start_smtpd(port)
    try:
        sock, reader = open_data(port, seller.forwarding_address)
        sock.sendall(as_data(raw))
        time.sleep(0.2)
        kill(receiver)
        reply = reply_or_nothing(reader)
        sock.close()
    finally:
        receiver.kill()

    rows = list(InboundMessage.objects.all())
    if reply.startswith(b"250"):
        assert len(rows) == 1
    assert not reply or reply.startswith(b"250"), reply
    assert all(bytes(row.raw) == raw and row.size == len(raw) for row in rows)


@pytest.mark.django_db(transaction=True)
def test_sigkill_under_load_acknowledges_only_what_was_committed():
    """Many sessions at once, so that messages share transactions (group commit), and the receiver
    killed in the middle: every message answered 250 is stored whole under the id it was given;
    nothing unanswered was acknowledged."""
    seller = connect(make_tenant())
    raws = [buyer_message(seller, order_id=f"302-0000002-{n:07d}") for n in range(40)]
    port = free_port()
    acknowledged: dict[int, bytes] = {}
    lock = threading.Lock()

    def session(share: list[bytes]) -> None:
        try:
            for raw in share:
                sock, reader = open_data(port, seller.forwarding_address)
                with sock:
                    sock.sendall(as_data(raw))
                    reply = reply_or_nothing(reader)
                if reply.startswith(b"250"):
                    with lock:
                        acknowledged[int(reply.split()[-1])] = raw
        except (OSError, AssertionError):
            return  # the receiver went away

    receiver = start_smtpd(port)
    try:
        senders = [threading.Thread(target=session, args=(raws[i::8],)) for i in range(8)]
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        kill(receiver)
        for sender in senders:
            sender.join(30)
    finally:
        receiver.kill()

    assert acknowledged  # the kill came after some messages were answered
    rows = {row.pk: row for row in InboundMessage.objects.all()}
    for pk, raw in acknowledged.items():
        assert pk in rows and bytes(rows[pk].raw) == raw
    assert all(bytes(row.raw) in raws and row.size == len(row.raw) for row in rows.values())


def child_pids(pid: int) -> list[int]:
    return [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]


@pytest.mark.django_db(transaction=True)
def test_several_receiver_processes_share_the_port_and_stop_together():
    seller = connect(make_tenant())
    raws = [buyer_message(seller, order_id=f"302-0000003-{n:07d}") for n in range(12)]
    port = free_port()
    receiver = start_smtpd(port, "--processes", "2")
    try:
        children = child_pids(receiver.pid)
        assert len(children) == 2
        for raw in raws:
            replies = deliver(port, seller.forwarding_address, raw)
            assert replies[-1].startswith(b"250 2.0.0 Stored")
    finally:
        receiver.terminate()
        receiver.wait(timeout=60)
    assert receiver.returncode == 0
    assert sorted(bytes(r.raw) for r in InboundMessage.objects.all()) == sorted(raws)
    for pid in children:  # both children ended with the parent
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.django_db(transaction=True)
def test_a_receiver_process_that_dies_takes_the_others_down():
    port = free_port()
    receiver = start_smtpd(port, "--processes", "2")
    try:
        first, second = child_pids(receiver.pid)
        os.kill(first, signal.SIGKILL)
        assert receiver.wait(timeout=60) == 1
    finally:
        receiver.kill()
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)


def the_committer(receiver: subprocess.Popen) -> int:
    """The pid of the receiver's committer process: its one child."""
    (pid,) = child_pids(receiver.pid)
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == Path(f"/proc/{receiver.pid}/cmdline").read_bytes()
    return pid


@pytest.mark.django_db(transaction=True)
def test_a_message_waiting_for_a_committer_that_dies_gets_451_and_the_receiver_stops():
    seller = connect(make_tenant())
    port = free_port()
    receiver = start_smtpd(port)
    try:
        committer = the_committer(receiver)
        os.kill(committer, signal.SIGSTOP)  # the message will wait for it
        sock, reader = open_data(port, seller.forwarding_address)
        with sock:
            sock.sendall(as_data(buyer_message(seller)))
            time.sleep(0.5)
            os.kill(committer, signal.SIGKILL)
            reply = reader.readline()
        assert reply.startswith(b"451 4.3.0"), reply  # the sender keeps it and retries
        assert receiver.wait(timeout=60) == 1  # for the supervisor to restart
        assert b"smtp committer process ended" in receiver.stderr.read()
    finally:
        receiver.kill()
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sigterm_to_the_process_group_lets_the_committer_finish_what_it_was_sent():
    """systemd (and a terminal's Ctrl-C) signal every process of the group: the committer must not
    stop in the middle of a transaction that a 250 waits for. Here it is held (SIGSTOP) with a
    message sent to it, the group gets SIGTERM, then the committer goes on: the message is stored,
    its session answered 250, and both processes end with status 0."""
    seller = connect(make_tenant())
    raw = buyer_message(seller)
    port = free_port()
    receiver = start_smtpd(port, start_new_session=True)
    try:
        committer = the_committer(receiver)
        os.kill(committer, signal.SIGSTOP)
        sock, reader = open_data(port, seller.forwarding_address)
        with sock:
            sock.sendall(as_data(raw))
            time.sleep(0.5)
            os.killpg(receiver.pid, signal.SIGTERM)
            time.sleep(0.5)
            os.kill(committer, signal.SIGCONT)
            reply = reader.readline()
        assert reply.startswith(b"250 2.0.0 Stored as inbound message"), reply
        assert receiver.wait(timeout=60) == 0
    finally:
        receiver.kill()
    row = InboundMessage.objects.get()
    assert row.pk == int(reply.split()[-1]) and bytes(row.raw) == raw
    with pytest.raises(ProcessLookupError):
        os.kill(committer, 0)


@pytest.mark.django_db(transaction=True)
def test_messages_of_every_size_are_stored_whole(tmp_path):
    """One bigger than the socket's buffers (sent to the committer process in pieces) and one
    past smtpd.BIG_MESSAGE (committed by a thread of the receiver's own process)."""
    seller = connect(make_tenant())
    sizes = [160 * 1024, 3 * 1024 * 1024]
    raws = []
    for n, size in enumerate(sizes):
        attachment = tmp_path / f"photos-{n}.zip"
        attachment.write_bytes(os.urandom(size))
        raws.append(buyer_message(seller, order_id=f"302-0000004-{n:07d}", attachments=[attachment]))
    assert 212_992 < len(raws[0]) <= BIG_MESSAGE < len(raws[1])  # Linux's default socket buffer
    port = free_port()
    receiver = start_smtpd(port)
    try:
        replies = [deliver(port, seller.forwarding_address, raw)[-1] for raw in raws]
    finally:
        receiver.terminate()
        receiver.wait(timeout=60)
    assert all(reply.startswith(b"250 2.0.0 Stored") for reply in replies), replies
    stored = {row.pk: bytes(row.raw) for row in InboundMessage.objects.all()}
    assert {int(reply.split()[-1]): raw for reply, raw in zip(replies, raws, strict=True)} == stored
