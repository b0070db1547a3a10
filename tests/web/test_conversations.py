"""The Conversations pages: the organisation's conversations, newest first and paginated, and one
conversation's messages with its Amazon order beside them (OrderContext rendered), in a fixed
number of queries however many rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon.models import OrderProblem, OrderSnapshot, SellerAccount
from deskbridge.amazon.orders import INCLUDED_DATA
from deskbridge.core.models import Role
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.enrich import UNAVAILABLE
from deskbridge.pipeline.models import (
    Conversation,
    ConversationMessage,
    Direction,
    InboundMessage,
    OrderShown,
    OutboundReply,
    ReplyOutcome,
)
from deskbridge.pipeline.workrows import WorkState
from deskbridge.sandbox.amazon.app import SANDBOX_APP_ID
from deskbridge.sandbox.amazon.models import SandboxOrder
from deskbridge.sandbox.amazon.orders import render_order
from deskbridge.sandbox.amazon.orders_seed import order_id_for
from deskbridge.sandbox.amazon.roles import roles_of
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

EU = "A2SNDBXEU00001"
DE = "A1PA6795UKMFR9"
LIST = reverse("conversations")
COMPANY = "<the buyer's company>"


@pytest.fixture
def account(tenant: Tenant) -> SellerAccount:
    seed_sandbox_amazon()
    return SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id=EU,
        region="EU",
        store_name="Harbour Lights DE",
        refresh_token="Atzr|test",
        authorized_at=timezone.now(),
    )


def amazon_order(kind: str) -> dict:
    """The order as getOrder answers deskbridge (the sandbox application's roles, our includedData)."""
    order = SandboxOrder.objects.get(order_id=order_id_for(EU, kind))
    return render_order(order, set(INCLUDED_DATA), roles_of(SANDBOX_APP_ID), timezone.now())


def conversation(
    account: SellerAccount,
    n: int,
    *,
    order_id: str = "",
    data: dict | None = None,
    problem: str = "",
    problem_detail: str = "",
    unavailable: str = "",
    messages: int = 1,
    flags: tuple[str, ...] = (),
    at=None,
) -> Conversation:
    at = at or timezone.now() - timedelta(minutes=n)
    snapshot = None
    if order_id:
        snapshot = OrderSnapshot.objects.create(
            organisation=account.organisation,
            account=account,
            order_id=order_id,
            marketplace_id=DE,
            data=data,
            fetched_at=timezone.now() if data else None,
            version=1,
            problem=problem,
            problem_detail=problem_detail,
        )
    made = Conversation.objects.create(
        organisation=account.organisation,
        account=account,
        marketplace_id=DE,
        buyer_alias=f"buyer{n}@marketplace.amazon.de",
        buyer_name=f"Buyer Number{n}",
        order_id=order_id,
        last_message_at=at,
        order_snapshot=snapshot,
        order_unavailable=unavailable,
    )
    for m in range(messages):
        inbound = InboundMessage.objects.create(
            organisation=account.organisation,
            rcpt_to="amz-de@deskbridge.localhost",
            raw=b"x" * 2000,
            size=2000,
            flags=list(flags),
        )
        ConversationMessage.objects.create(
            organisation=account.organisation,
            conversation=made,
            inbound=inbound,
            direction=Direction.BUYER,
            fingerprint=f"{n}-{m}",
            text=f"Message {m} of buyer {n}: wo ist mein Paket?",
            sent_at=at - timedelta(seconds=messages - m),
        )
    return made


def without_details(account: SellerAccount, n: int, problem: str, reason: str) -> Conversation:
    """A conversation whose order's details could not be fetched, as the enrich step leaves it."""
    order_id = f"302-0000000-{n:07d}"
    return conversation(
        account,
        n,
        order_id=order_id,
        problem=problem,
        problem_detail=reason,
        unavailable=UNAVAILABLE.format(reason),
    )


def queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


# --- the list -------------------------------------------------------------------------------------


def test_the_list_shows_each_conversation_newest_first_with_its_order_status(tenant, account):
    shipped = order_id_for(EU, "shipped")
    shown = conversation(account, 1, order_id=shipped, data=amazon_order("shipped"), messages=3)
    reason = "the Amazon account Harbour Lights DE needs re-authorization"
    unavailable = without_details(account, 2, OrderProblem.AUTHORIZATION, reason)
    waiting = conversation(account, 3, order_id="302-0000000-0000003")
    presale = conversation(account, 4)

    response = tenant.client(Role.AGENT).get(LIST)  # agents see their organisation's buyers

    assert response.status_code == 200
    html = response.content.decode()
    rows = list(response.context["page"])
    assert rows == [shown, unavailable, waiting, presale]
    assert [r.order_shown for r in rows] == [
        OrderShown.SHOWN,
        OrderShown.UNAVAILABLE,
        OrderShown.WAITING,
        OrderShown.NO_ORDER,
    ]
    assert rows[0].message_count == 3 and rows[1].message_count == 1
    assert "Buyer Number1" in html and "buyer1@marketplace.amazon.de" in html
    assert shipped in html and "DE · amazon.de" in html
    assert reverse("conversation_detail", args=[shown.pk]) in html
    assert f"Unavailable: {reason}" in html
    assert 'data-order-shown="shown"' in html and 'data-order-shown="waiting"' in html
    assert 'data-order-shown="no_order"' in html
    assert '<a href="/conversations/" aria-current="page">Conversations</a>' in html


def test_a_conversation_linked_to_the_buyers_order_shows_that_order(tenant, account):
    """No order number in the message: the buyer search linked the conversation to an order."""
    data = amazon_order("unshipped")
    made = conversation(account, 1, order_id=data["orderId"], data=data)
    Conversation.objects.filter(pk=made.pk).update(order_id="")

    html = tenant.client().get(LIST).content.decode()

    assert data["orderId"] in html and 'data-order-shown="shown"' in html


def test_the_list_is_paginated(tenant, account):
    made = [conversation(account, n) for n in range(30)]
    client = tenant.client()

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert list(first.context["page"]) == made[:25]
    assert list(second.context["page"]) == made[25:]
    assert 'href="?page=2" rel="next"' in first.content.decode()
    assert 'href="?page=1" rel="prev"' in second.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    assert client.get(LIST, {"page": "999"}).context["page"].number == 2  # out of range: the last


def test_the_list_costs_the_same_queries_for_3_or_25_conversations(tenant, account):
    client = tenant.client()
    for n in range(3):
        conversation(account, n, order_id=f"302-0000000-{n:07d}", data=amazon_order("shipped"), messages=2)
    few, _ = queries(client, LIST)
    for n in range(3, 40):
        conversation(account, n, order_id=f"302-0000000-{n:07d}", messages=3)

    many, html = queries(client, LIST)

    assert html.count('data-order-shown="') == 25
    assert many == few


def test_an_empty_list_says_how_conversations_arrive(tenant, account):
    html = tenant.client().get(LIST).content.decode()
    assert "No conversation yet" in html
    assert reverse("amazon_accounts") in html


def test_the_pages_need_a_login(client: Client, tenant, account):
    made = conversation(account, 1)
    for url in (LIST, reverse("conversation_detail", args=[made.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- one conversation -----------------------------------------------------------------------------


def test_a_conversation_shows_its_messages_and_the_order_beside_them(tenant, account, settings):
    order_id = order_id_for(EU, "shipped")
    data = amazon_order("shipped")
    made = conversation(account, 1, order_id=order_id, data=data, messages=2, flags=("unparsed",))

    response = tenant.client(Role.AGENT).get(reverse("conversation_detail", args=[made.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Message 0 of buyer 1") < html.index("Message 1 of buyer 1")
    assert html.count('data-flag="unparsed"') == 2
    order = response.context["order"]
    assert order.order_id == order_id and order.status == "SHIPPED"
    url = f"{settings.PUBLIC_URL}/sandbox/amazon/sellercentral/orders-v3/order/{order_id}"
    assert f'href="{url}"' in html
    (item,) = order.items
    for text in (item.title, item.asin, item.sku, order.shipments[0].tracking_number, "DHL"):
        assert text in html
    assert "Shipped" in html and "FBM" in html and "delivered" in html
    assert f"{order.total.amount} {order.total.currency}" in html
    assert f"{item.unit_price.amount} {item.unit_price.currency}" in html
    assert order.ship_to.city in html and order.ship_to.country_code in html
    assert "Ship by" in html and "Deliver by" in html and "Purchased" in html
    assert "Buyer Number1" in html and "buyer1@marketplace.amazon.de" in html
    assert "Order details unavailable" not in html


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("unshipped", ["Prime", "Unshipped"]),
        ("business", ["Business", COMPANY]),
        ("replacement", ["Replacement", "Replaces"]),
        ("cancelled", ["Cancelled", "The buyer asked to cancel", "Ordered by mistake"]),
        ("fba", ["FBA", "Prime"]),
    ],
)
def test_the_order_card_shows_programs_replacements_and_cancellations(tenant, account, kind, expected):
    data = amazon_order(kind)
    made = conversation(account, 1, order_id=data["orderId"], data=data)
    html = tenant.client().get(reverse("conversation_detail", args=[made.pk])).content.decode()
    for text in expected:
        if text == COMPANY:
            text = data["buyer"]["buyerCompanyName"]
        assert text in html, (kind, text)
    if kind == "replacement":
        assert data["associatedOrders"][0]["orderId"] in html


def test_without_details_the_page_says_why_and_links_to_reauthorization(tenant, account):
    account.authorization_error = "invalid_grant"
    account.save()
    reason = "the Amazon account Harbour Lights DE needs re-authorization: https://x.example/amazon/1/"
    made = without_details(account, 1, OrderProblem.AUTHORIZATION, reason)

    url = reverse("conversation_detail", args=[made.pk])
    html = tenant.client(Role.ADMIN).get(url).content.decode()
    agent_html = tenant.client(Role.AGENT).get(url).content.decode()

    assert "Order details unavailable:" in html and reason in html
    assert f'href="{reverse("amazon_account", args=[account.pk])}"' in html
    assert "Re-authorize the Amazon account" in html
    assert "302-0000000-0000001" in html  # the Seller Central link still works
    # An agent cannot re-authorize, and is told who can.
    assert "Re-authorize the Amazon account" not in agent_html
    assert "An owner or admin of your organisation can re-authorize it" in agent_html
    assert f'href="{reverse("amazon_account", args=[account.pk])}"' in agent_html


def test_an_order_amazon_does_not_know_offers_no_reauthorization(tenant, account):
    reason = "Amazon does not know order 302-0000000-0000001 for the account Harbour Lights DE"
    made = without_details(account, 1, OrderProblem.NOT_FOUND, reason)
    html = tenant.client().get(reverse("conversation_detail", args=[made.pk])).content.decode()
    assert reason in html and "Re-authorize the Amazon account" not in html


def test_a_presale_conversation_has_no_order_card_details(tenant, account):
    made = conversation(account, 1)
    response = tenant.client().get(reverse("conversation_detail", args=[made.pk]))
    assert response.context["order"] is None
    assert "not about an order" in response.content.decode()


def test_a_conversation_costs_the_same_queries_for_1_or_20_messages(tenant, account):
    client = tenant.client()
    data = amazon_order("multi-item")
    one = conversation(account, 1, order_id=data["orderId"], data=data, messages=1, flags=("unparsed",))
    many = conversation(account, 2, order_id="302-0000000-0000002", data=data, messages=20, flags=("x",))

    few_queries, _ = queries(client, reverse("conversation_detail", args=[one.pk]))
    many_queries, html = queries(client, reverse("conversation_detail", args=[many.pk]))

    assert html.count('class="card message') == 20
    assert many_queries == few_queries


# --- the agents' replies in the thread ------------------------------------------------------------


def agent_reply(
    made: Conversation, n: int, text: str, outcome: str, *, sent: bool, **fields
) -> OutboundReply:
    """An agent's reply as deskbridge.pipeline.replies leaves it: a reply that went out is also a
    message of the conversation, under the reply's Message-ID."""
    connection = HelpdeskConnection.objects.get_or_create(organisation=made.organisation, kind="zendesk")[0]
    message_id = f"<deskbridge.{made.pk}x{n}@deskbridge.localhost>" if sent else ""
    row = OutboundReply.objects.create(
        organisation=made.organisation,
        connection=connection,
        conversation=made,
        ticket_id="42",
        helpdesk_message_id=f"{made.pk}-{n}",
        author="Agnes Agent",
        text=text,
        written_at=made.last_message_at + timedelta(minutes=n),
        outcome=outcome,
        state=WorkState.DONE if outcome else WorkState.PENDING,
        message_id=message_id,
        **fields,
    )
    if sent:
        ConversationMessage.objects.create(
            organisation=made.organisation,
            conversation=made,
            direction=Direction.AGENT,
            message_id=message_id,
            fingerprint=message_id[:64],
            text=text,
            sent_at=made.last_message_at + timedelta(minutes=n, seconds=5),
        )
    return row


def article(html: str, outcome: str) -> str:
    found = re.findall(rf'<article [^>]*data-reply-outcome="{outcome}">.*?</article>', html, re.S)
    assert len(found) == 1, (outcome, len(found))
    return re.sub(r"\s+", " ", found[0])


PHONE_FINDING = {
    "rule": "phone_number",
    "severity": "block",
    "excerpt": "+49 30 12345678",
    "explanation": "Amazon allows telephone numbers only for warranty, shipping or manufacturer purposes.",
}
EMOJI_FINDING = {"rule": "emoji", "severity": "warn", "excerpt": "🙂", "explanation": "No emoji."}


def test_a_refused_reply_shows_in_the_thread_with_amazon_s_reason(tenant, account):
    made = conversation(account, 1, messages=1)
    agent_reply(
        made,
        1,
        "Your parcel left our warehouse today.",
        ReplyOutcome.REFUSED,
        sent=True,
        refusal="opted_out: The buyer has opted out of unsolicited messages",
    )

    html = tenant.client(Role.AGENT).get(reverse("conversation_detail", args=[made.pk])).content.decode()

    refused = article(html, "refused")
    assert "Reply from an agent · Agnes Agent" in refused
    assert '<span class="badge badge-refused">Refused by Amazon</span>' in refused
    assert "Your parcel left our warehouse today." in refused
    assert "The buyer opted out of messages that are not needed to complete the order" in refused
    assert "Details: The buyer has opted out of unsolicited messages" in refused
    # Shown once, after the buyer's message it answers.
    assert html.count("Your parcel left our warehouse today.") == 1
    assert html.index("Message 0 of buyer 1") < html.index("Your parcel left")


def test_blocked_failed_sent_and_waiting_replies_show_their_outcome_and_why(tenant, account):
    made = conversation(account, 1, messages=1)
    agent_reply(
        made,
        1,
        "Call us on +49 30 12345678 🙂",
        ReplyOutcome.BLOCKED,
        sent=False,
        findings=[PHONE_FINDING, EMOJI_FINDING],
        refusal="phone_number",
    )
    agent_reply(made, 2, "Second try, without the number.", ReplyOutcome.SENT, sent=True)
    agent_reply(
        made,
        3,
        "A reply the relay refused at SMTP.",
        ReplyOutcome.FAILED,
        sent=False,
        refusal="550 5.7.1 Sender not authorized",
    )
    agent_reply(made, 4, "Still on its way.", "", sent=False)
    agent_reply(made, 5, "Maybe it went.", ReplyOutcome.UNKNOWN, sent=False)

    html = tenant.client().get(reverse("conversation_detail", args=[made.pk])).content.decode()

    blocked = article(html, "blocked")
    assert "Not sent: against Amazon&#x27;s rules" in blocked and "message-unsent" in blocked
    assert "edit the reply in the helpdesk and send it again" in blocked
    assert '<li data-rule="phone_number">Phone numbers: “+49 30 12345678”</li>' in blocked
    assert '<li data-rule="emoji">Emoji: “🙂”</li>' in blocked
    sent = article(html, "sent")
    assert '<span class="badge badge-sent">Sent to the buyer</span>' in sent
    assert "reply-reason" not in sent
    failed = article(html, "failed")
    assert "Could not be sent" in failed and "Details: 550 5.7.1 Sender not authorized" in failed
    assert "Waiting to be sent" in article(html, "waiting")
    assert "check Buyer-Seller Messages in Seller Central" in article(html, "unknown")
    order = ["Call us on", "Second try", "A reply the relay refused", "Still on its way", "Maybe it went"]
    assert [html.index(text) for text in order] == sorted(html.index(text) for text in order)


def test_a_seller_central_copy_shows_in_the_thread(tenant, account):
    made = conversation(account, 1, messages=1)
    ConversationMessage.objects.create(
        organisation=made.organisation,
        conversation=made,
        direction=Direction.SELLER_CENTRAL,
        fingerprint="sc",
        text="Answered from Seller Central directly.",
        sent_at=made.last_message_at + timedelta(minutes=1),
    )
    html = tenant.client().get(reverse("conversation_detail", args=[made.pk])).content.decode()
    copy = re.search(r'<article class="card message message-seller_central">.*?</article>', html, re.S)
    assert copy is not None
    assert "Sent in Seller Central" in copy.group(0) and "Not through the helpdesk" in copy.group(0)
    assert "Answered from Seller Central directly." in copy.group(0)


def test_a_conversation_costs_the_same_queries_for_1_or_20_replies(tenant, account):
    client = tenant.client()
    one = conversation(account, 1, messages=1)
    agent_reply(one, 1, "Only reply.", ReplyOutcome.REFUSED, sent=True, refusal="unknown: ")
    many = conversation(account, 2, messages=1)
    outcomes = [ReplyOutcome.SENT, ReplyOutcome.REFUSED, ReplyOutcome.BLOCKED, ReplyOutcome.FAILED, ""]
    for n in range(20):
        outcome = outcomes[n % len(outcomes)]
        agent_reply(
            many, n, f"Reply {n}.", outcome, sent=outcome in ("sent", "refused"), findings=[PHONE_FINDING]
        )

    few_queries, _ = queries(client, reverse("conversation_detail", args=[one.pk]))
    many_queries, html = queries(client, reverse("conversation_detail", args=[many.pk]))

    assert html.count("data-reply-outcome=") == 20
    assert many_queries == few_queries


def test_another_organisations_conversation_is_not_found(tenant, other_tenant, account):
    made = conversation(account, 1)
    response = other_tenant.client().get(reverse("conversation_detail", args=[made.pk]))
    assert response.status_code == 404
    assert "Buyer Number1" not in other_tenant.client().get(LIST).content.decode()


def test_the_pages_speak_chinese(tenant, account):
    data = amazon_order("shipped")
    made = conversation(account, 1, order_id=data["orderId"], data=data)
    client = tenant.client()
    client.cookies["django_language"] = "zh-hans"

    listing = client.get(LIST).content.decode()
    detail = client.get(reverse("conversation_detail", args=[made.pk])).content.decode()

    assert "<h1>会话</h1>" in listing and "已显示" in listing
    assert "亚马逊订单" in detail and "已发货" in detail and "商品" in detail
