"""The enrich step: the Amazon order beside a buyer's conversation (DESIGN.md §2, after threading).

A conversation about an order gets the order's OrderSnapshot (one per account and order, shared by
every conversation and message about it). The step never blocks a worker:
  * the order is cached and fresh: nothing is called;
  * a rate-limit token is due later, or another message is fetching the same order: the message
    is postponed (NotNow) to then without using up an attempt, and woken as soon as the fetch ends;
  * Amazon fails (429, 5xx, timeouts): the message waits with backoff, ORDER_FETCH_ATTEMPTS times
    at most and ORDER_WAIT_SECONDS at most;
  * then, or at once when the account needs re-authorization or Amazon refuses: the message goes on
    without the order, the conversation says why ("order details unavailable: …"), and a periodic
    job keeps fetching it; when it arrives, the conversation's order_updated_at moves so that the
    helpdesk step updates the ticket.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from deskbridge.amazon import buyers, snapshots
from deskbridge.amazon.models import OrderProblem, OrderSearch, OrderSnapshot, SellerAccount
from deskbridge.amazon.orders import OrderContext
from deskbridge.core import jobs
from deskbridge.core.logs import get_logger
from deskbridge.pipeline.models import Conversation, InboundMessage
from deskbridge.pipeline.workrows import NotNow, WorkState, wake_now

log = get_logger(__name__)

UNAVAILABLE_FLAG = "order-unavailable"
REFRESH_JOB = "order-snapshot.refresh"
SEARCH_JOB = "buyer-orders.search"
# The periodic refresh gives up on an order no conversation has needed for this long.
WANTED_FOR = timedelta(days=7)
UNAVAILABLE = "order details unavailable: {}"


def enrich(message: InboundMessage, conversation: Conversation) -> None:
    """Give the conversation its order, or say why it has none; raise NotNow to wait for it."""
    order_id = conversation.order_id or order_of_buyer(conversation)
    if not order_id:
        return
    snapshot = link(conversation, order_id)
    if not snapshots.needs_fetch(snapshot, message.received_at):
        publish(snapshot)
        return
    outcome = snapshots.fetch(snapshot, message.received_at)
    waited_too_long = timezone.now() - message.received_at > timedelta(seconds=settings.ORDER_WAIT_SECONDS)
    if isinstance(outcome, snapshots.Fetched):
        publish(outcome.snapshot)
        return
    if isinstance(outcome, snapshots.Wait):
        if not waited_too_long:
            raise NotNow(outcome.until, outcome.reason)
        go_on_without(message, snapshot, f"Amazon's rate limit delayed them ({outcome.reason})")
        return
    publish(outcome.snapshot)
    retry = outcome.retry_at is not None and outcome.snapshot.failures < settings.ORDER_FETCH_ATTEMPTS
    if retry and not waited_too_long:
        assert outcome.retry_at is not None
        raise NotNow(outcome.retry_at, outcome.snapshot.problem_detail)
    go_on_without(message, outcome.snapshot, outcome.snapshot.problem_detail)


def order_of_buyer(conversation: Conversation) -> str:
    """A conversation without an order number: the order it is linked to already, else the
    buyer's latest order that searches found (deskbridge.amazon.buyers); "" when none is known
    yet (a search is asked for, and links the conversation when it finds one)."""
    if conversation.order_snapshot_id is not None:
        linked = OrderSnapshot.objects.filter(pk=conversation.order_snapshot_id).values_list(
            "order_id", flat=True
        )
        return str(linked.first() or "")
    if conversation.buyer_alias.startswith("unknown-sender:"):
        return ""
    found = buyers.orders_of(conversation.account, conversation.buyer_alias)
    if found:
        return found[0]
    buyers.want_search(conversation.account)
    return ""


def link(conversation: Conversation, order_id: str) -> OrderSnapshot:
    if conversation.order_snapshot_id is not None:
        snapshot = OrderSnapshot.objects.select_related("account").get(pk=conversation.order_snapshot_id)
        conversation.order_snapshot = snapshot
        return snapshot
    snapshot = snapshots.snapshot_for(conversation.account, order_id, conversation.marketplace_id)
    Conversation.objects.filter(pk=conversation.pk, order_snapshot__isnull=True).update(
        order_snapshot=snapshot
    )
    conversation.order_snapshot = snapshot
    return snapshot


def unavailable_text(snapshot: OrderSnapshot) -> str:
    if snapshot.data is not None:
        return ""
    return UNAVAILABLE.format(snapshot.problem_detail or "not fetched from Amazon yet")


def publish(snapshot: OrderSnapshot) -> int:
    """Bring every conversation of the order up to the snapshot's version, and wake the messages
    waiting for it. Returns how many conversations changed."""
    now = timezone.now()
    changed = (
        Conversation.objects.filter(order_snapshot=snapshot)
        .filter(Q(order_version__lt=snapshot.version) | Q(order_updated_at__isnull=True))
        .update(
            order_version=snapshot.version, order_unavailable=unavailable_text(snapshot), order_updated_at=now
        )
    )
    waiting = list(
        InboundMessage.objects.filter(
            state=WorkState.RETRY, conversation_message__conversation__order_snapshot=snapshot
        ).values_list("pk", flat=True)
    )
    wake_now(InboundMessage, waiting)
    return changed


def go_on_without(message: InboundMessage, snapshot: OrderSnapshot, reason: str) -> None:
    """The message goes on (to the helpdesk) without fresh order details; they are added later."""
    now = timezone.now()
    if snapshot.problem not in (OrderProblem.NOT_FOUND, OrderProblem.REFUSED):
        OrderSnapshot.objects.filter(pk=snapshot.pk, wanted_since__isnull=True).update(wanted_since=now)
    if snapshot.data is None:
        text = UNAVAILABLE.format(reason)
        Conversation.objects.filter(order_snapshot=snapshot).exclude(order_unavailable=text).update(
            order_unavailable=text, order_updated_at=now
        )
        if UNAVAILABLE_FLAG not in message.flags:
            message.flags = sorted({*message.flags, UNAVAILABLE_FLAG})
            InboundMessage.objects.filter(pk=message.pk).update(flags=message.flags)
    log.info("message goes on without its order", inbound=message.pk, order_id=snapshot.order_id)


def order_context(conversation: Conversation) -> OrderContext | None:
    """What the helpdesk connector renders for the conversation (None: no order to speak of)."""
    snapshot = conversation.order_snapshot
    if not conversation.order_id and snapshot is None:
        return None
    if snapshot is None:
        return OrderContext.without_details(
            conversation.order_id, conversation.marketplace_id, "not fetched from Amazon yet"
        )
    context = snapshots.context_of(snapshot)
    if context.unavailable and conversation.order_unavailable:
        reason = conversation.order_unavailable.removeprefix(UNAVAILABLE.format(""))
        return OrderContext.without_details(snapshot.order_id, conversation.marketplace_id, reason)
    return context


# Orders that conversations still wait for --------------------------------------------------------


def wanted_snapshots(now=None) -> list[int]:
    """Snapshots a conversation went on without, whose next fetch may happen now."""
    now = now or timezone.now()
    return list(
        OrderSnapshot.objects.filter(wanted_since__gte=now - WANTED_FOR)
        .filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now))
        .filter(Q(reserved_at__isnull=True) | Q(reserved_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(account__disconnected_at__isnull=True, account__authorization_error="")
        .values_list("pk", flat=True)[:1000]
    )


@jobs.every_minute
def refresh_wanted_orders() -> int:
    """Fetch the orders conversations went on without (after a re-authorization, after Amazon's
    errors); returns how many fetches were woken."""
    due = wanted_snapshots()
    for pk in due:
        jobs.enqueue(REFRESH_JOB, pk)
    if due:
        log.info("fetching orders conversations wait for", count=len(due))
    return len(due)


@jobs.job(REFRESH_JOB)
def refresh_snapshot(pk: int) -> str:
    snapshot = (
        OrderSnapshot.objects.select_related("account").filter(pk=pk, wanted_since__isnull=False).first()
    )
    if snapshot is None:
        return "not wanted"
    outcome = snapshots.fetch(snapshot, snapshot.wanted_since)
    if isinstance(outcome, snapshots.Wait):
        delay = max(0.0, (outcome.until - timezone.now()).total_seconds())
        jobs.enqueue(REFRESH_JOB, pk, delay=delay or None)
        return "waiting"
    if isinstance(outcome, snapshots.Fetched):
        OrderSnapshot.objects.filter(pk=pk).update(wanted_since=None)
    publish(outcome.snapshot)
    return "fetched" if isinstance(outcome, snapshots.Fetched) else "failed"


# Conversations without an order number that wait for a search of the buyer's orders -------------


@jobs.every_minute
def search_wanted_buyers() -> int:
    """Wake one search for each account a conversation waits for whose plan interval has passed."""
    now = timezone.now()
    due = [
        state.account_id
        for state in OrderSearch.objects.filter(
            wanted_since__isnull=False, account__disconnected_at__isnull=True, account__authorization_error=""
        )
        if buyers.search_due(state, now)
    ]
    for account_id in due:
        jobs.enqueue(SEARCH_JOB, account_id)
    return len(due)


@jobs.job(SEARCH_JOB)
def search_buyer_orders(account_id: int) -> int:
    """One search page; conversations of the buyers it found get their order (fetched in the
    background like any order a conversation waits for). Returns how many were linked."""
    account = SellerAccount.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    aliases = buyers.search_once(account)
    if not aliases:
        return 0
    linked = 0
    waiting = Conversation.objects.filter(
        account=account, order_id="", order_snapshot__isnull=True, buyer_alias__in=aliases
    )
    for conversation in waiting:
        found = buyers.orders_of(account, conversation.buyer_alias)
        if not found:
            continue
        snapshot = link(conversation, found[0])
        if snapshots.needs_fetch(snapshot):
            OrderSnapshot.objects.filter(pk=snapshot.pk, wanted_since__isnull=True).update(
                wanted_since=timezone.now()
            )
            jobs.enqueue(REFRESH_JOB, snapshot.pk)
        else:
            publish(snapshot)
        linked += 1
    return linked
