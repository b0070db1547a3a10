"""Which order a message without an order number is about: the buyer's relay alias → their orders.

Amazon has no API that answers "the orders of this buyer": searchOrders (Orders v2026-01-01) has no
buyer filter and allows about one call per three minutes (rate 0.0056, burst 20), so it is never
called per message. Instead each account's recent orders are searched by update time, at most once
per plan interval and only while a conversation waits for it, each search starting where the last
one ended; every order's `buyer.buyerEmail` (the buyer's relay alias) is kept as a BuyerOrder row,
and conversations look their alias up there.

What is possible without the Direct-to-Consumer Delivery (Restricted) role: nothing here. Amazon
returns buyer.buyerEmail only to applications holding that role, and even then only for
merchant-fulfilled orders that are unshipped, partially shipped or shipped (not FBA, pending or
cancelled ones). The first search that returns such an order without an email records
`emails_visible=False`, and no more searches are made for the account (for a day, in case the role
is granted). A message without an order number then goes to the helpdesk without an order; the
agent can ask the buyer for it, and a later message that names it gets the order as usual.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from deskbridge.amazon import ratelimit
from deskbridge.amazon.lwa import LwaError
from deskbridge.amazon.models import BuyerOrder, OrderSearch, SellerAccount
from deskbridge.amazon.orders import Order
from deskbridge.amazon.spapi import SpApi, SpApiError, Throttled
from deskbridge.core.logs import get_logger

log = get_logger(__name__)

SEARCH = "orders_2026-01-01.searchOrders"
SHOWS_EMAIL = frozenset({"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"})
# Without the role, look again this seldom (roles are granted with a re-authorization).
RECHECK_WITHOUT_ROLE = timedelta(days=1)


def plan_interval() -> timedelta:
    """One searchOrders call per this interval, the plan's sustained rate."""
    return timedelta(seconds=1 / ratelimit.PLANS[SEARCH].rate)


def orders_of(account: SellerAccount, buyer_alias: str) -> list[str]:
    """The buyer's orders with the account that searches found, newest first."""
    return list(
        BuyerOrder.objects.filter(account=account, buyer_alias=buyer_alias.lower())
        .order_by("-created_time")
        .values_list("order_id", flat=True)
    )


def state_of(account: SellerAccount) -> OrderSearch:
    state, _ = OrderSearch.objects.get_or_create(
        account=account, defaults={"organisation_id": account.organisation_id}
    )
    return state


def want_search(account: SellerAccount) -> bool:
    """A conversation waits for the buyer's orders; False when searching cannot find them."""
    state = state_of(account)
    if not searchable(state):
        return False
    OrderSearch.objects.filter(pk=state.pk, wanted_since__isnull=True).update(wanted_since=timezone.now())
    return True


def searchable(state: OrderSearch, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if state.emails_visible is False:
        return bool(state.searched_at and now - state.searched_at > RECHECK_WITHOUT_ROLE)
    return True


def search_due(state: OrderSearch, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return searchable(state, now) and (
        state.searched_at is None or now - state.searched_at >= plan_interval()
    )


def _shows_email(order: Order) -> bool:
    return order.fulfilled_by == "MERCHANT" and order.status in SHOWS_EMAIL


def search_once(account: SellerAccount) -> list[str]:
    """One searchOrders page for the account, if its plan interval has passed; returns the buyer
    aliases it found orders of ([] when nothing was searched)."""
    state = state_of(account)
    now = timezone.now()
    if not search_due(state, now):
        return []
    since = state.covered_until or now - timedelta(days=settings.ORDER_SEARCH_DAYS)
    try:
        page = SpApi(account).search_orders(last_updated_after=since, page_token=state.page_token)
    except Throttled:
        return []
    except (SpApiError, LwaError) as exc:
        log.warning("order search failed", account=account.pk, error=str(exc))
        OrderSearch.objects.filter(pk=state.pk).update(searched_at=now)
        return []
    aliases: set[str] = set()
    for order in page.orders:
        if order.buyer_email:
            alias = order.buyer_email.lower()
            aliases.add(alias)
            BuyerOrder.objects.update_or_create(
                account=account,
                order_id=order.order_id,
                defaults={
                    "organisation_id": account.organisation_id,
                    "buyer_alias": alias,
                    "created_time": order.created,
                },
            )
    could_show = [o for o in page.orders if _shows_email(o)]
    visible = state.emails_visible
    if could_show:
        visible = any(o.buyer_email for o in could_show)
    finished = not page.next_token
    OrderSearch.objects.filter(pk=state.pk).update(
        searched_at=now,
        page_token=page.next_token,
        covered_until=(page.before or now) if finished else state.covered_until,
        emails_visible=visible,
        wanted_since=None if finished else state.wanted_since,
    )
    if visible is False:
        log.info(
            "searchOrders shows no buyer emails: no Direct-to-Consumer Delivery role", account=account.pk
        )
    return sorted(aliases)
