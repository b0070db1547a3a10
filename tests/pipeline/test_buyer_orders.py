"""Messages without an order number: the buyer's alias finds the order through searchOrders, at most
one search per plan interval, and only where Amazon shows buyer emails (the restricted role)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deskbridge.amazon import buyers, marketplaces
from deskbridge.amazon.models import OrderSearch
from deskbridge.pipeline import enrich
from deskbridge.pipeline.models import Conversation, InboundMessage
from deskbridge.sandbox.amazon.mail import buyer_alias
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.amazon.orders_support import EU, connect

DE = "A1PA6795UKMFR9"


def presale(account, alias: str) -> tuple[InboundMessage, Conversation]:
    connection = connect(account, DE)
    conversation = Conversation.objects.create(
        organisation=account.organisation, account=account, marketplace_id=DE, buyer_alias=alias
    )
    message = InboundMessage.objects.create(
        organisation=account.organisation,
        connection=connection,
        rcpt_to=connection.forwarding_address,
        raw=b"x",
        size=1,
    )
    return message, conversation


def alias_of(order_id: str) -> str:
    return buyer_alias(EU, order_id, marketplaces.by_id(DE))


def test_with_the_role_a_search_finds_the_buyers_order_and_the_conversation_gets_it(
    eu_account, sandbox_orders, wire
):
    order_id = sandbox_orders[EU]["unshipped"]
    message, conversation = presale(eu_account, alias_of(order_id))
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        enrich.enrich(message, conversation)  # nothing known yet: the message goes on, a search is wanted
        assert wire.calls() == [] and wire.calls("searchOrders") == []
        assert enrich.search_wanted_buyers() == 1
        assert enrich.search_buyer_orders(eu_account.pk) == 1
        assert len(wire.calls("searchOrders")) == 1
        conversation.refresh_from_db()
        assert conversation.order_snapshot.order_id == order_id
        assert enrich.refresh_snapshot(conversation.order_snapshot_id) == "fetched"
        conversation.refresh_from_db()
        context = enrich.order_context(conversation)
        assert context.order_id == order_id and context.buyer_name  # the role shows the name too
        assert context.ship_to.is_full
        # Once found, the buyer's order is known without another search (a new conversation of
        # the same buyer, here the same one unlinked, gets it at once).
        Conversation.objects.filter(pk=conversation.pk).update(order_snapshot=None)
        conversation.refresh_from_db()
        enrich.enrich(message, conversation)
        conversation.refresh_from_db()
        assert conversation.order_snapshot.order_id == order_id
    assert len(wire.calls("searchOrders")) == 1 and len(wire.calls()) == 1
    state = OrderSearch.objects.get()
    assert state.emails_visible is True and state.covered_until is not None and state.wanted_since is None


def test_at_most_one_search_per_plan_interval(eu_account, sandbox_orders, wire):
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        buyers.search_once(eu_account)
        assert buyers.search_once(eu_account) == []
        assert len(wire.calls("searchOrders")) == 1
        OrderSearch.objects.update(searched_at=timezone.now() - buyers.plan_interval() - timedelta(seconds=1))
        buyers.search_once(eu_account)
        (_, second) = wire.calls("searchOrders")
    # The second search starts where the first one ended.
    assert second.url.params["lastUpdatedAfter"] != ""
    assert buyers.plan_interval() == timedelta(seconds=1 / 0.0056)


def test_without_the_role_no_order_is_guessed_and_searching_stops(eu_account, sandbox_orders, wire):
    order_id = sandbox_orders[EU]["shipped"]
    message, conversation = presale(eu_account, alias_of(order_id))
    enrich.enrich(message, conversation)
    assert enrich.search_buyer_orders(eu_account.pk) == 0
    state = OrderSearch.objects.get()
    assert state.emails_visible is False
    assert not buyers.want_search(eu_account)  # no more searches for a day
    OrderSearch.objects.update(searched_at=timezone.now() - buyers.plan_interval() * 2)
    assert enrich.search_wanted_buyers() == 0
    conversation.refresh_from_db()
    assert conversation.order_snapshot is None and enrich.order_context(conversation) is None
    assert len(wire.calls("searchOrders")) == 1 and wire.calls() == []
