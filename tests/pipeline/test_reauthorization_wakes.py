"""A re-authorization wakes what waited for a usable token at once: the orders conversations went on
without are fetched, and messages postponed by Login with Amazon run, without waiting for the
periodic pass or their backoff. Against the sandbox over loopback, through onboarding.complete."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from deskbridge.amazon import onboarding
from deskbridge.amazon.models import AuthorizationRequest, OrderProblem, OrderSnapshot, SellerAccount
from deskbridge.core import jobs
from deskbridge.pipeline import enrich
from deskbridge.pipeline.models import Conversation, InboundMessage
from deskbridge.pipeline.workrows import WorkState, run_work_row
from deskbridge.sandbox.amazon.app import SANDBOX_APP_ID
from deskbridge.sandbox.amazon.models import SandboxSeller
from deskbridge.sandbox.amazon.tokens import issue_authorization_code
from tests.amazon.orders_support import EU, connect
from tests.pipeline.test_enrich import DE, LABEL, arrive, conversation_of


@pytest.fixture
def connection(eu_account):
    return connect(eu_account, DE)


def reauthorize(account: SellerAccount, user) -> onboarding.Connected:
    """The consent round-trip's last step, as the callback view runs it: a fresh code, exchanged."""
    request = AuthorizationRequest.start(
        organisation=account.organisation,
        user=user,
        session={},
        region=account.region,
        marketplace_ids=[DE],
        account=account,
    )
    seller = SandboxSeller.objects.get(selling_partner_id=account.selling_partner_id)
    code = issue_authorization_code(seller, SANDBOX_APP_ID, f"{settings.PUBLIC_URL}/amazon/callback/")
    return onboarding.complete(request, code, account.selling_partner_id)


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_reauthorizing_fetches_the_orders_that_went_on_without_a_token_at_once(
    connection, sandbox_orders, wire, tenant
):
    SandboxSeller.objects.get(selling_partner_id=EU).revoke_app_authorization()
    order_id = sandbox_orders[EU]["partially-shipped"]
    message = arrive(connection, order_id)
    run_work_row(LABEL, message.pk)
    assert enrich.UNAVAILABLE_FLAG in InboundMessage.objects.get(pk=message.pk).flags  # went on without it
    conversation = conversation_of(message)
    assert "needs re-authorization" in conversation.order_unavailable
    snapshot = OrderSnapshot.objects.get()
    assert snapshot.problem == OrderProblem.AUTHORIZATION and snapshot.wanted_since is not None
    calls = len(wire.calls())

    # A worker without the periodic tasks: only a wake-up can fetch the order now.
    worker = jobs.Worker(threads=2, periodic=False)
    worker.start_in_background()
    try:
        reauthorize(connection.account, tenant.owner)
        wait_for(lambda: Conversation.objects.get(pk=conversation.pk).order_unavailable == "")
    finally:
        worker.stop()

    conversation.refresh_from_db()
    assert enrich.order_context(conversation).status == "PARTIALLY_SHIPPED"
    assert len(wire.calls()) == calls + 1
    assert OrderSnapshot.objects.get().wanted_since is None


def test_reauthorizing_wakes_messages_postponed_because_login_with_amazon_did_not_answer(
    connection, sandbox_orders, wire, tenant, settings
):
    lwa_url = settings.AMAZON_LWA_TOKEN_URL
    settings.AMAZON_LWA_TOKEN_URL = "http://127.0.0.1:9/auth/o2/token"  # nothing listens there
    SellerAccount.objects.filter(pk=connection.account_id).update(
        access_token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    order_id = sandbox_orders[EU]["unshipped"]
    message = arrive(connection, order_id)
    assert run_work_row(LABEL, message.pk) == "postponed"  # with backoff, its attempt given back
    snapshot = OrderSnapshot.objects.get()
    assert snapshot.problem == OrderProblem.TRANSIENT
    assert snapshot.problem_detail.startswith(onboarding.LWA_UNANSWERED)
    # As after several failed attempts: both wait ten minutes.
    later = timezone.now() + timedelta(minutes=10)
    InboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=later)
    OrderSnapshot.objects.filter(pk=snapshot.pk).update(next_fetch_at=later)
    assert run_work_row(LABEL, message.pk) == "skipped"  # not due
    settings.AMAZON_LWA_TOKEN_URL = lwa_url

    reauthorize(connection.account, tenant.owner)

    woken = InboundMessage.objects.get(pk=message.pk)
    assert woken.state == WorkState.RETRY and woken.next_attempt_at <= timezone.now()
    assert OrderSnapshot.objects.get().next_fetch_at is None
    run_work_row(LABEL, message.pk)  # (the helpdesk step after enrich may postpone it again)
    conversation = conversation_of(message)
    assert conversation.order_unavailable == ""
    assert enrich.order_context(conversation).status == "UNSHIPPED"
    assert len(wire.calls()) == 1


def test_a_first_connection_wakes_nothing(connection, sandbox_orders, tenant):
    message = arrive(connection, sandbox_orders[EU]["shipped"])
    run_work_row(LABEL, message.pk)
    assert conversation_of(message).order_snapshot.data is not None
    assert onboarding.wake_orders_waiting_for_a_token(connection.account) == (0, 0)
