"""The receiver's group commit: messages finished together share a transaction, none is answered
before its transaction committed, and a message that makes a batch fail fails alone; what a stored
row holds, and what storing leaves of the RCPT cache."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskbridge.core import jobs
from deskbridge.mail import authenticity, intake
from deskbridge.pipeline.models import InboundMessage
from tests.conftest import make_tenant
from tests.mail.conftest import buyer_message, connect, plain_message

pytestmark = pytest.mark.django_db(transaction=True)


def request(seller, n: int, raw: bytes | None = None) -> intake.StoreRequest:
    raw = raw or buyer_message(seller, order_id=f"302-0000000-{n:07d}")
    envelope = intake.Envelope(
        mail_from="bounces@marketplace.amazon.de", recipients=[seller.forwarding_address]
    )
    record = authenticity.authenticate(raw).as_json()
    return intake.StoreRequest(raw, envelope, [seller.forwarding_address], record, [], False)


@pytest.fixture
def committer():
    running = intake.GroupCommitter()
    yield running
    running.stop()


class FirstBatchHeld:
    """intake._store_batch, recording each batch's size and holding the first one (a slow commit)
    until `release()` or for `seconds`: the messages submitted meanwhile queue up behind it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, seconds: float = 10) -> None:
        self.sizes: list[int] = []
        self.started, self.released = threading.Event(), threading.Event()
        real = intake._store_batch

        def store(batch):
            if not self.started.is_set():
                self.started.set()
                self.released.wait(seconds)
            self.sizes.append(len(batch))
            return real(batch)

        monkeypatch.setattr(intake, "_store_batch", store)

    def release(self) -> None:
        self.released.set()


def store_all(committer: intake.GroupCommitter, requests: list[intake.StoreRequest]) -> list:
    def store(one):
        try:
            return committer.store(one)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(store, requests))


def test_messages_finished_together_share_one_transaction(committer, monkeypatch):
    seller = connect(make_tenant())
    requests = [request(seller, n) for n in range(12)]
    held = FirstBatchHeld(monkeypatch, seconds=0.5)
    jobs.HUEY.flush()  # wake-ups other tests of this worker left behind are not this test's

    results = store_all(committer, requests)

    assert sum(held.sizes) == 12 and max(held.sizes) > 1
    ids = [pk for stored, gone in results for pk in stored.values()]
    assert not any(gone for _, gone in results)
    assert sorted(ids) == sorted(InboundMessage.objects.values_list("pk", flat=True))
    rows = {row.pk: row for row in InboundMessage.objects.all()}
    for one, (stored, _) in zip(requests, results, strict=True):
        assert bytes(rows[stored[seller.forwarding_address]].raw) == one.raw  # each id is its own message
    # One wake-up a batch: a single message's own, or the batch's.
    woken = [task.args for task in jobs.HUEY.pending()]
    assert sum(len(args[2]) if args[0] == intake.RUN_INBOUND_BATCH else 1 for args in woken) == 12


def test_no_message_is_answered_before_its_transaction_commits(committer, monkeypatch):
    seller = connect(make_tenant())
    inside, release = threading.Event(), threading.Event()
    real = intake._touch_connections

    def held(*args):
        real(*args)
        inside.set()
        release.wait(10)  # rows inserted, not committed

    monkeypatch.setattr(intake, "_touch_connections", held)
    answered: list = []
    sender = threading.Thread(target=lambda: answered.append(committer.store(request(seller, 1))))
    sender.start()
    assert inside.wait(10)
    time.sleep(0.2)
    assert answered == [] and not InboundMessage.objects.exists()
    release.set()
    sender.join(10)
    assert answered and InboundMessage.objects.filter(pk=next(iter(answered[0][0].values()))).exists()


def test_a_message_that_breaks_its_batch_fails_alone(committer, monkeypatch):
    seller = connect(make_tenant())
    requests = [request(seller, n) for n in range(6)]
    poisoned = requests[3]
    real = intake._insert_rows

    def insert(connection, rows):
        if any(row["message_id"] == intake.message_id_of(poisoned.raw) for row in rows):
            raise RuntimeError("disk full")
        return real(connection, rows)

    monkeypatch.setattr(intake, "_insert_rows", insert)
    FirstBatchHeld(monkeypatch, seconds=0.3)

    def store(one):
        try:
            return committer.store(one)
        except RuntimeError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(store, requests))

    assert isinstance(results[3], RuntimeError)
    assert all(isinstance(r, tuple) and r[0] for i, r in enumerate(results) if i != 3)
    assert InboundMessage.objects.count() == 5


def test_the_receiver_stores_concurrent_messages_each_once(receiver):
    from tests.mail.conftest import send

    seller = connect(make_tenant())
    raws = [buyer_message(seller, order_id=f"302-0000001-{n:07d}") for n in range(10)]

    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda raw: send(receiver, raw, seller.forwarding_address)[1], raws))

    assert all(code == 250 for code, _ in replies)
    ids = [int(text.rsplit(" ", 1)[1]) for _, text in replies]
    assert len(set(ids)) == 10
    for pk, raw in zip(ids, raws, strict=True):
        assert bytes(InboundMessage.objects.get(pk=pk).raw) == raw


def test_the_committer_commits_durably_and_the_other_connections_do_not_wait(committer, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's commits always wait for the disk")
    seller = connect(make_tenant())
    seen: list[int] = []
    real = intake._store_batch

    def recording(batch):
        with connections["default"].cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            seen.append(cursor.fetchone()[0])
        result = real(batch)
        connections["default"].close()  # the next batch opens a new connection
        return result

    monkeypatch.setattr(intake, "_store_batch", recording)
    committer.store(request(seller, 1))
    committer.store(request(seller, 2))

    assert seen == [2, 2]  # FULL, on the new connection too
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL elsewhere


def test_a_stored_row_is_the_one_the_orm_makes():
    seller = connect(make_tenant())
    one = request(seller, 1)
    one.envelope.peer, one.envelope.helo = "192.0.2.7", "mx.example"
    one.flags.append(intake.FLAG_AUTH_UNCHECKED)

    [(stored, _)] = intake._store_batch([one])

    row = InboundMessage.objects.get(pk=stored[seller.forwarding_address])
    made = InboundMessage.objects.create(
        organisation_id=seller.organisation_id,
        connection=seller,
        mail_from=one.envelope.mail_from,
        rcpt_to=seller.forwarding_address,
        peer="192.0.2.7",
        helo="mx.example",
        raw=one.raw,
        size=len(one.raw),
        message_id=intake.message_id_of(one.raw),
        authentication=one.record,
        flags=[intake.FLAG_AUTH_UNCHECKED],
    )
    dates = {"received_at", "next_attempt_at", "created_at", "updated_at"}
    columns = [f.attname for f in InboundMessage._meta.concrete_fields if f.attname not in {"id", *dates}]
    stored_values, made_values = (
        InboundMessage.objects.filter(pk=pk).values(*columns).get() for pk in (row.pk, made.pk)
    )
    assert stored_values == made_values
    assert {getattr(row, name) for name in dates} == {row.received_at}
    assert row.message_id and row.flags == [intake.FLAG_AUTH_UNCHECKED]
    seller.refresh_from_db()
    assert seller.last_message_at == row.received_at


def test_storing_forgets_only_the_recipients_that_are_gone():
    staying, leaving = connect(make_tenant()), connect(make_tenant())
    for address in (staying.forwarding_address, leaving.forwarding_address):
        assert intake.check_recipient(address) == intake.RECIPIENT_OK  # remembered as live

    def store(*wanted: str) -> intake.Outcome:
        # Checked at RCPT already, as the receiver's messages are; stored, then finished: the
        # forgetting happens in finish(), in the process that answers RCPT (the rows may have been
        # stored in the committer's process).
        return intake.accept(plain_message(wanted[0]), intake.Envelope(recipients=list(wanted)), checked=True)

    assert list(store(staying.forwarding_address).stored) == [staying.forwarding_address]
    assert intake.recipient_without_database(leaving.forwarding_address) == intake.RECIPIENT_OK
    leaving.account.disconnect()
    outcome = store(staying.forwarding_address, leaving.forwarding_address)

    assert list(outcome.stored) == [staying.forwarding_address]
    assert outcome.replies[leaving.forwarding_address].status == "5.1.1"
    # The next RCPT for the live address needs no query; the gone one is looked up again.
    assert intake.recipient_without_database(staying.forwarding_address) == intake.RECIPIENT_OK
    assert intake.recipient_without_database(leaving.forwarding_address) is None


def header_values_message_id(raw: bytes) -> str:
    """message_id_of as it was written first, on authenticity's own header reading."""
    head, _ = authenticity.header_section(raw)
    found = authenticity.header_values(head, "Message-ID")
    return intake._text(" ".join(found[0].split()), 998) if found else ""


HEADER_LINE = st.one_of(
    st.sampled_from(
        [
            b"Message-ID: <a@example.org>",
            b"message-id:<b@example.org>",
            b"MESSAGE-ID \t: <c@example.org> (comment)",
            b"\x0cMessage-Id\x0b: <d@example.org>",
            b"Message-ID:",
            b" <folded@example.org>",
            b"\t<more>",
            b"X-Message-ID: <not-this@example.org>",
            b"Message-IDs: <nor-this@example.org>",
            b"Resent-Message-ID: <nor-that@example.org>",
            b"Subject: Message-ID: <in-a-value@example.org>",
            b"no colon on this line",
            b"From: <buyer@marketplace.amazon.de>",
            b"Message-ID: <caf\xc3\xa9@example.org> \xff\x00",
            b"",
        ]
    ),
    st.binary(max_size=40),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(HEADER_LINE, max_size=12),
    st.lists(st.sampled_from([b"\r\n", b"\n", b"\r"]), min_size=12, max_size=12),
    st.binary(max_size=60),
)
def test_message_id_of_reads_the_header_as_authenticity_does(lines, ends, body):
    raw = b"".join(line + end for line, end in zip(lines, ends, strict=False)) + body

    assert intake.message_id_of(raw) == header_values_message_id(raw)


def test_message_id_of_a_folded_field_and_of_none():
    assert intake.message_id_of(b"Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\nbody") == "<a@b>"
    assert intake.message_id_of(b"Subject: x\r\n\r\nMessage-ID: <in-the-body@b>\r\n") == ""


def test_under_load_the_committer_waits_for_more_messages_to_join(committer, monkeypatch):
    seller = connect(make_tenant())
    a, b, c, d, e, f, g = (request(seller, n) for n in range(7))
    held = FirstBatchHeld(monkeypatch)
    batches = held.sizes
    monkeypatch.setattr(committer, "GATHER_SECONDS", 0.5)
    futures = [committer.submit(a)]
    assert held.started.wait(10)
    futures += [committer.submit(b), committer.submit(c)]  # behind a: the next transaction holds both
    held.release()
    for future in futures:
        future.result(10)
    assert batches == [1, 2]

    later = committer.submit(d)  # under load now: the committer waits for company
    time.sleep(0.1)
    together = committer.submit(e)
    later.result(10), together.result(10)
    assert batches == [1, 2, 2]

    committer.store(f)  # waited for, but alone: the load is over
    started = time.monotonic()
    committer.store(g)  # committed at once
    assert time.monotonic() - started < 0.4
    assert batches == [1, 2, 2, 1, 1]
    assert InboundMessage.objects.count() == 7


def test_a_message_whose_session_ended_while_it_waited_is_dropped_and_the_committer_goes_on(
    committer, monkeypatch
):
    """A client that goes away while its message waits for a transaction cancels its future; the
    committer must not store it (it had no 250: the sender retries) nor die setting its result."""
    seller = connect(make_tenant())
    held = FirstBatchHeld(monkeypatch)
    one, two, three = (request(seller, n) for n in (1, 2, 3))
    running = committer.submit(one)
    assert held.started.wait(10)
    abandoned = committer.submit(two)
    assert abandoned.cancel()  # what asyncio.wrap_future does when the session's task is cancelled
    assert not running.cancel()  # taken by the committer: too late to cancel
    held.release()
    running.result(10)

    after = committer.store(three)

    assert len(after[0]) == 1
    assert sorted(bytes(raw) for raw in InboundMessage.objects.values_list("raw", flat=True)) == sorted(
        [one.raw, three.raw]
    )
