"""The enrich step against the sandbox Orders API over loopback: one call per order however many
messages ask, none for a cached order, postponed (never sleeping) on an empty bucket, no 429 in
steady state, every message done after a 429 storm, and degraded but never blocked without a token."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.db import connection as db_connection
from django.utils import timezone

from deskbridge.amazon import marketplaces, ratelimit
from deskbridge.amazon.models import AccountStatus, OrderProblem, OrderSnapshot, SellerAccount
from deskbridge.amazon.spapi import SpApi
from deskbridge.core import jobs
from deskbridge.pipeline import enrich
from deskbridge.pipeline.models import Conversation, InboundMessage
from deskbridge.pipeline.workrows import WorkState, run_work_row
from deskbridge.sandbox.amazon.mail import compose_buyer_message
from deskbridge.sandbox.amazon.models import SandboxSeller
from tests.amazon.orders_support import EU, GET_ORDER, authorize, connect, copy_orders, set_emulator_tokens

DE = "A1PA6795UKMFR9"
LABEL = InboundMessage.label()


@pytest.fixture(autouse=True)
def no_delivery(monkeypatch):
    """These tests end with the enrich step; delivery to the helpdesk has its own (tests/helpdesks)."""
    monkeypatch.setattr("deskbridge.pipeline.inbound.deliver", lambda message, recorded, mail: None)


@pytest.fixture
def connection(eu_account):
    return connect(eu_account, DE)


def arrive(connection, order_id: str, text: str = "Wo ist mein Paket?", marketplace_id: str = DE):
    marketplace = marketplaces.by_id(marketplace_id)
    raw = compose_buyer_message(
        to=connection.forwarding_address,
        marketplace=marketplace,
        seller_id=connection.account.selling_partner_id,
        order_id=order_id,
        text=text,
    ).as_bytes()
    return InboundMessage.objects.create(
        organisation=connection.organisation,
        connection=connection,
        rcpt_to=connection.forwarding_address,
        raw=raw,
        size=len(raw),
    )


def run_one(pk: int) -> str:
    try:
        return run_work_row(LABEL, pk)
    finally:
        db_connection.close()


def drain(pks: list[int], threads: int = 4, timeout: float = 60) -> None:
    """What the worker does, without Huey: run every due row, in threads, until all are done."""
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(threads) as pool:
        while True:
            rows = InboundMessage.objects.filter(pk__in=pks)
            if all(r.state in (WorkState.DONE, WorkState.FAILED) for r in rows):
                return
            assert time.monotonic() < deadline, [(r.pk, r.state, r.last_error) for r in rows]
            due = [
                r.pk
                for r in rows
                if r.state in (WorkState.PENDING, WorkState.RETRY) and r.next_attempt_at <= timezone.now()
            ]
            list(pool.map(run_one, due))
            if not due:
                time.sleep(0.05)


def conversation_of(message: InboundMessage) -> Conversation:
    return InboundMessage.objects.get(pk=message.pk).conversation_message.conversation


def test_one_call_for_a_new_order_and_none_for_a_cached_one(connection, sandbox_orders, wire):
    order_id = sandbox_orders[EU]["shipped"]
    first = arrive(connection, order_id)
    assert run_work_row(LABEL, first.pk) == WorkState.DONE
    assert len(wire.calls()) == 1
    conversation = conversation_of(first)
    assert conversation.order_snapshot.order_id == order_id
    assert (conversation.order_version, conversation.order_unavailable) == (1, "")
    assert conversation.order_updated_at is not None
    context = enrich.order_context(conversation)
    assert context.status == "SHIPPED" and context.shipments and context.shipments[0].tracking_number
    assert f"/orders-v3/order/{order_id}" in context.order_url
    assert "Tracking" not in context.as_note() and context.shipments[0].tracking_number in context.as_note()

    second = arrive(connection, order_id, text="Noch eine Frage zur Rechnung.")
    assert run_work_row(LABEL, second.pk) == WorkState.DONE
    assert len(wire.calls()) == 1  # cached
    assert conversation_of(second).pk == conversation.pk
    assert OrderSnapshot.objects.count() == 1


def test_twenty_messages_about_one_order_at_once_cost_one_call(connection, sandbox_orders, wire):
    order_id = sandbox_orders[EU]["unshipped"]
    rows = [arrive(connection, order_id, text=f"Frage {n}: wann kommt es?") for n in range(20)]
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(run_one, [r.pk for r in rows]))
    drain([r.pk for r in rows])
    assert len(wire.calls()) == 1
    assert wire.throttled() == 0
    (conversation,) = Conversation.objects.all()
    assert conversation.messages.count() == 20
    assert conversation.order_snapshot.data["orderId"] == order_id


def test_a_stale_order_is_fetched_again_once(connection, sandbox_orders, wire, settings):
    order_id = sandbox_orders[EU]["unshipped"]
    drain([arrive(connection, order_id).pk])
    assert len(wire.calls()) == 1
    # Older than ORDER_MAX_AGE_SECONDS: the next message fetches it again.
    OrderSnapshot.objects.update(
        fetched_at=timezone.now() - timedelta(seconds=settings.ORDER_MAX_AGE_SECONDS + 1)
    )
    drain([arrive(connection, order_id, text="Und jetzt?").pk])
    assert len(wire.calls()) == 2
    # A message well after the last fetch of an order that can still change: fetched again.
    OrderSnapshot.objects.update(
        fetched_at=timezone.now() - timedelta(seconds=settings.ORDER_REFRESH_AFTER_SECONDS + 5)
    )
    drain([arrive(connection, order_id, text="Immer noch nichts?").pk])
    assert len(wire.calls()) == 3
    # Unchanged data does not move the conversation's version.
    assert Conversation.objects.get().order_version == 1


def test_a_message_about_a_delivered_order_does_not_refetch_it(connection, sandbox_orders, wire, settings):
    order_id = sandbox_orders[EU]["shipped"]  # shipped, its one package delivered: final
    drain([arrive(connection, order_id).pk])
    OrderSnapshot.objects.update(
        fetched_at=timezone.now() - timedelta(seconds=settings.ORDER_REFRESH_AFTER_SECONDS + 5)
    )
    drain([arrive(connection, order_id, text="Danke!").pk])
    assert len(wire.calls()) == 1


def test_an_empty_bucket_postpones_the_message_until_its_token_is_due(connection, sandbox_orders, wire):
    key = SpApi(connection.account).bucket(GET_ORDER)
    ratelimit.throttled(key)  # our bucket: empty; the next token in two seconds
    message = arrive(connection, sandbox_orders[EU]["pending"])
    before = timezone.now()
    assert run_work_row(LABEL, message.pk) == "postponed"
    message.refresh_from_db()
    assert (message.state, message.attempts) == (WorkState.RETRY, 0)
    assert 1.5 <= (message.next_attempt_at - before).total_seconds() <= 2.1
    assert wire.calls() == []
    snapshot = OrderSnapshot.objects.get()
    assert snapshot.reserved_at is not None  # the token is this order's when it is due
    drain([message.pk])
    assert len(wire.calls()) == 1 and wire.throttled() == 0


def test_no_429_in_steady_state(connection, sandbox_orders, wire):
    """Both buckets start where a long burst leaves them: ours empty, Amazon's one token up."""
    ids = copy_orders(sandbox_orders[EU]["unshipped"], 6)
    ratelimit.throttled(SpApi(connection.account).bucket(GET_ORDER))
    set_emulator_tokens(EU, 1)
    rows = [arrive(connection, order_id) for order_id in ids]
    started = time.monotonic()
    drain([r.pk for r in rows], threads=6)
    elapsed = time.monotonic() - started
    assert len(wire.calls()) == 6 and wire.throttled() == 0
    assert 10 <= elapsed <= 16  # one call every two seconds: what the plan allows, not less
    assert all(r.attempts == 1 for r in InboundMessage.objects.all())


def test_every_message_completes_after_a_429_storm(connection, sandbox_orders, wire):
    ids = copy_orders(sandbox_orders[EU]["fba"], 4)
    set_emulator_tokens(EU, 0)  # Amazon's bucket empty, ours full: every first try meets a 429
    rows = [arrive(connection, order_id) for order_id in ids]
    drain([r.pk for r in rows], timeout=90)
    assert wire.throttled() >= 1
    assert {r.state for r in InboundMessage.objects.all()} == {WorkState.DONE}
    for conversation in Conversation.objects.all():
        assert conversation.order_unavailable == "" and conversation.order_snapshot.data is not None
    assert OrderSnapshot.objects.filter(problem="").count() == 4


def test_amazons_failures_are_retried_then_the_message_goes_on_and_the_order_follows(
    connection, sandbox_orders, wire, settings
):
    settings.ORDER_FETCH_ATTEMPTS = 2
    wire.fail = lambda request: httpx.Response(
        503, json={"errors": [{"code": "ServiceUnavailable", "message": "busy"}]}
    )
    order_id = sandbox_orders[EU]["business"]
    message = arrive(connection, order_id)
    drain([message.pk], timeout=30)
    message.refresh_from_db()
    assert message.state == WorkState.DONE and enrich.UNAVAILABLE_FLAG in message.flags
    assert len(wire.calls()) == 2
    conversation = conversation_of(message)
    assert conversation.order_unavailable.startswith("order details unavailable: Amazon did not answer (503")
    context = enrich.order_context(conversation)
    assert context.unavailable and "Order details unavailable" in context.as_note()
    before = conversation.order_updated_at

    wire.fail = None
    OrderSnapshot.objects.update(next_fetch_at=timezone.now())
    assert enrich.wanted_snapshots() == [conversation.order_snapshot_id]
    assert enrich.refresh_snapshot(conversation.order_snapshot_id) == "fetched"
    conversation.refresh_from_db()
    assert conversation.order_unavailable == "" and conversation.order_updated_at > before
    assert enrich.order_context(conversation).is_business
    assert enrich.wanted_snapshots() == []


def test_an_unknown_order_goes_on_at_once(connection, wire):
    message = arrive(connection, "302-0000000-0000001")
    assert run_work_row(LABEL, message.pk) == WorkState.DONE
    assert len(wire.calls()) == 1
    conversation = conversation_of(message)
    assert "Amazon does not know order 302-0000000-0000001" in conversation.order_unavailable
    assert OrderSnapshot.objects.get().problem == OrderProblem.NOT_FOUND
    assert enrich.wanted_snapshots() == []  # asking again will not help


def test_invalid_grant_degrades_and_recovers_after_reauthorization(connection, sandbox_orders, wire):
    SandboxSeller.objects.get(selling_partner_id=EU).revoke_app_authorization()
    order_id = sandbox_orders[EU]["partially-shipped"]
    message = arrive(connection, order_id)
    assert run_work_row(LABEL, message.pk) == WorkState.DONE  # never blocked
    account = SellerAccount.objects.get(pk=connection.account_id)
    assert account.status == AccountStatus.NEEDS_REAUTHORIZATION
    conversation = conversation_of(message)
    assert "needs re-authorization" in conversation.order_unavailable
    assert f"/amazon/{account.pk}/" in conversation.order_unavailable
    # More messages meanwhile: no call, no wait.
    later = arrive(connection, order_id, text="Hallo?")
    assert run_work_row(LABEL, later.pk) == WorkState.DONE
    assert enrich.wanted_snapshots() == []  # nothing to try before the seller re-authorizes
    calls = len(wire.calls())
    version = conversation.order_version

    authorize(account)
    (pk,) = enrich.wanted_snapshots()
    assert enrich.refresh_wanted_orders() == 1
    assert enrich.refresh_snapshot(pk) == "fetched"
    conversation.refresh_from_db()
    assert conversation.order_unavailable == "" and conversation.order_version > version
    assert enrich.order_context(conversation).status == "PARTIALLY_SHIPPED"
    assert len(wire.calls()) == calls + 1


def test_a_real_worker_runs_postponed_messages_when_their_tokens_are_due(connection, sandbox_orders, wire):
    """Through Huey: the wake-ups of postponed messages are delayed jobs, not sleeping threads."""
    ids = copy_orders(sandbox_orders[EU]["partially-shipped"], 3)
    ratelimit.throttled(SpApi(connection.account).bucket(GET_ORDER))  # tokens due in 2, 4 and 6 s
    worker = jobs.Worker(threads=2)
    worker.start_in_background()
    try:
        rows = [arrive(connection, order_id) for order_id in ids]
        for row in rows:
            row.wake()
        deadline = time.monotonic() + 30
        while InboundMessage.objects.exclude(state=WorkState.DONE).exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        worker.stop()
    assert len(wire.calls()) == 3 and wire.throttled() == 0
    assert all(r.attempts == 1 for r in InboundMessage.objects.all())
    assert Conversation.objects.filter(order_unavailable="").count() == 3
