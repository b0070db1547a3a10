"""Fetching an order once for every message about it: OrderSnapshot freshness, coalescing, backoff.

`fetch` never sleeps and never waits for another worker: it returns `Fetched`, `Wait(until)` (a
rate-limit token is due then, or another worker holds the order's lease), or `Failed` (with the
problem the agent should read, and whether trying later can help).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon.lwa import LwaError
from deskbridge.amazon.models import AccountStatus, OrderProblem, OrderSnapshot, SellerAccount
from deskbridge.amazon.orders import Order, OrderContext, parse_order
from deskbridge.amazon.spapi import SpApi, SpApiError, Throttled
from deskbridge.core.logs import get_logger

log = get_logger(__name__)

# How long one fetch may hold an order's lease (the request's timeout, and some).
LEASE = timedelta(seconds=60)
# When another worker holds the lease, look again this soon (it wakes the waiting messages itself).
BUSY_RECHECK = timedelta(seconds=5)
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 600.0


@dataclass(frozen=True)
class Fetched:
    snapshot: OrderSnapshot
    called: bool  # False when another worker had just fetched it


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Failed:
    snapshot: OrderSnapshot
    retry_at: datetime | None  # None: trying again will not help (until the seller acts)


Outcome = Fetched | Wait | Failed


def snapshot_for(account: SellerAccount, order_id: str, marketplace_id: str = "") -> OrderSnapshot:
    snapshot, _ = OrderSnapshot.objects.get_or_create(
        account=account,
        order_id=order_id,
        defaults={"organisation_id": account.organisation_id, "marketplace_id": marketplace_id},
    )
    return snapshot


def order_of(snapshot: OrderSnapshot) -> Order | None:
    if snapshot.data is None:
        return None
    try:
        return parse_order(snapshot.data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def needs_fetch(
    snapshot: OrderSnapshot, message_at: datetime | None = None, now: datetime | None = None
) -> bool:
    """True when the cached order is missing, older than ORDER_MAX_AGE_SECONDS, or a message came
    in well after the last fetch (ORDER_REFRESH_AFTER_SECONDS) while the order could still change."""
    now = now or timezone.now()
    order = order_of(snapshot)
    if order is None or snapshot.fetched_at is None:
        return True
    if now - snapshot.fetched_at > timedelta(seconds=settings.ORDER_MAX_AGE_SECONDS):
        return True
    refresh_after = snapshot.fetched_at + timedelta(seconds=settings.ORDER_REFRESH_AFTER_SECONDS)
    return message_at is not None and message_at > refresh_after and not order.is_final


def account_problem(account: SellerAccount) -> str:
    """Why no call can be made for the account now ("" when it can)."""
    if account.disconnected_at:
        return f"the Amazon account {account} is disconnected"
    if account.status == AccountStatus.NEEDS_REAUTHORIZATION:
        link = settings.PUBLIC_URL + reverse("amazon_account", args=[account.pk])
        return f"the Amazon account {account} needs re-authorization: {link}"
    return ""


def backoff(failures: int) -> float:
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, failures - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _release(snapshot: OrderSnapshot, **fields: object) -> None:
    """Store the outcome and let go of the lease (only ours: a row taken over is left alone)."""
    for name, value in fields.items():
        setattr(snapshot, name, value)
    OrderSnapshot.objects.filter(pk=snapshot.pk, lease_until=snapshot.lease_until).update(
        lease_until=None, updated_at=timezone.now(), **fields
    )
    snapshot.lease_until = None


def _problem(snapshot: OrderSnapshot, problem: str, detail: str, **fields: object) -> None:
    changed = (snapshot.problem, snapshot.problem_detail) != (problem, detail)
    _release(
        snapshot,
        problem=problem,
        problem_detail=detail[:500],
        version=snapshot.version + 1 if changed else snapshot.version,
        **fields,
    )


def fetch(snapshot: OrderSnapshot, message_at: datetime | None = None) -> Outcome:
    """Bring the snapshot up to date with one getOrder call, unless another worker is doing it, the
    account cannot call, or the rate limit says "later"."""
    now = timezone.now()
    problem = account_problem(snapshot.account)
    if problem:
        _problem(snapshot, OrderProblem.AUTHORIZATION, problem, reserved_at=None)
        return Failed(snapshot, None)
    if snapshot.next_fetch_at and snapshot.next_fetch_at > now:
        return Wait(snapshot.next_fetch_at, "waiting to ask Amazon again after a failure")
    if snapshot.reserved_at and snapshot.reserved_at > now:
        return Wait(snapshot.reserved_at, "rate limit: a token is reserved for this order")
    lease = now + LEASE
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not OrderSnapshot.objects.filter(free, pk=snapshot.pk).update(lease_until=lease):
        held = OrderSnapshot.objects.filter(pk=snapshot.pk).values_list("lease_until", flat=True).first()
        return Wait(min(held or now, now + BUSY_RECHECK), "another message is fetching this order")
    snapshot.refresh_from_db()
    if not needs_fetch(snapshot, message_at, now):  # fetched by another worker just now
        _release(snapshot)
        return Fetched(snapshot, called=False)
    reserved = snapshot.reserved_at is not None and snapshot.reserved_at <= now
    try:
        order = SpApi(snapshot.account).get_order(snapshot.order_id, reserved=reserved)
    except Throttled as throttled:
        # From now, not from when this fetch began: waiting for the lease or the database must
        # not move the reserved token earlier than the bucket gave it (Amazon would answer 429).
        until = timezone.now() + timedelta(seconds=throttled.wait)
        _release(snapshot, reserved_at=until)
        return Wait(until, "rate limit: waiting for a token")
    except LwaError as exc:
        detail = account_problem(snapshot.account) or f"Login with Amazon refused the token ({exc.error})"
        if exc.needs_reauthorization:
            _problem(snapshot, OrderProblem.AUTHORIZATION, detail, reserved_at=None)
            return Failed(snapshot, None)
        return _transient(snapshot, f"Login with Amazon did not answer ({exc.error})", now)
    except SpApiError as exc:
        if exc.transient:
            what = "Amazon's rate limit" if exc.throttled else "Amazon did not answer"
            return _transient(snapshot, f"{what} ({exc.status} {exc.code})", now)
        if exc.status == 404:
            detail = f"Amazon does not know order {snapshot.order_id} for the account {snapshot.account}"
            _problem(snapshot, OrderProblem.NOT_FOUND, detail, reserved_at=None, failures=0)
        else:
            detail = f"Amazon refused the request ({exc.status} {exc.code}: {exc.message})"
            _problem(snapshot, OrderProblem.REFUSED, detail, reserved_at=None, failures=0)
        log.warning("order not fetched", order_id=snapshot.order_id, status=exc.status, code=exc.code)
        return Failed(snapshot, None)
    changed = order.raw != snapshot.data or snapshot.problem != OrderProblem.NONE
    _release(
        snapshot,
        data=order.raw,
        marketplace_id=order.marketplace_id or snapshot.marketplace_id,
        fetched_at=now,
        version=snapshot.version + 1 if changed else snapshot.version,
        problem=OrderProblem.NONE,
        problem_detail="",
        failures=0,
        next_fetch_at=None,
        reserved_at=None,
        wanted_since=None,
    )
    return Fetched(snapshot, called=True)


def _transient(snapshot: OrderSnapshot, detail: str, now: datetime) -> Failed:
    failures = snapshot.failures + 1
    retry_at = now + timedelta(seconds=backoff(failures))
    log.info("order fetch will be retried", order_id=snapshot.order_id, failures=failures, detail=detail)
    _problem(
        snapshot,
        OrderProblem.TRANSIENT,
        f"{detail}; deskbridge keeps trying",
        failures=failures,
        next_fetch_at=retry_at,
        reserved_at=None,
    )
    return Failed(snapshot, retry_at)


def context_of(snapshot: OrderSnapshot) -> OrderContext:
    """What the agent sees: the cached order (even if a refresh failed since), or why there is none."""
    order = order_of(snapshot)
    if order is not None:
        return OrderContext.of(order, snapshot.fetched_at)
    reason = snapshot.problem_detail or "not fetched from Amazon yet"
    return OrderContext.without_details(snapshot.order_id, snapshot.marketplace_id, reason)
