"""SP-API usage plans on our side: a token bucket per (seller, application, operation), shared by
every process (amazon.md §7).

Amazon refills each bucket at the operation's rate (requests per second) up to its burst and answers
429 when it is empty. We keep the same bucket, one token short of Amazon's (HEADROOM), so that a
request we let go finds a token at Amazon even when requests reach it a few milliseconds out of the
order we sent them in; a 429 all the same empties ours (`throttled`).

A caller that finds the bucket empty does not sleep: `acquire` reserves the next free token and
says when it is due, the caller's work row is postponed to then and spends that reservation
without taking again. Tokens below zero are such reservations, so that a thousand waiting jobs get
a thousand different times instead of all waking for the same token.

The state lives in Redis when the queue does (distributed installs: `QUEUE_URL=redis://…`, one Lua
script per call, Redis's clock) and otherwise in a small table of the database (RateBucket). Neither
pyrate-limiter's sliding-window buckets nor its "delay" answer model a refilling bucket with burst
and reservations, so this is the few lines it takes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

from deskbridge.core.logs import get_logger

log = get_logger(__name__)

# Tokens we leave in Amazon's bucket: what keeps jitter between our clock and its from costing a 429.
HEADROOM = 1.0


@dataclass(frozen=True)
class UsagePlan:
    """An operation's documented rate (requests per second) and burst."""

    rate: float
    burst: int

    @property
    def capacity(self) -> float:
        return max(1.0, self.burst - HEADROOM)


# "api.operation" -> the Usage Plan table of the operation's description in Amazon's model.
PLANS: dict[str, UsagePlan] = {
    "sellers.getMarketplaceParticipations": UsagePlan(0.016, 15),
    "orders_2026-01-01.getOrder": UsagePlan(0.5, 30),
    "orders_2026-01-01.searchOrders": UsagePlan(0.0056, 20),
}


@dataclass(frozen=True)
class BucketKey:
    """Amazon's buckets are per selling partner and application (and region: one endpoint each)."""

    selling_partner_id: str
    region: str
    application_id: str
    operation: str

    def __str__(self) -> str:
        return f"spapi:{self.application_id}:{self.region}:{self.selling_partner_id}:{self.operation}"


class Store(Protocol):
    def take(self, key: str, rate: float, capacity: float, reserve: bool) -> float: ...

    def drain(self, key: str, rate: float, capacity: float) -> None: ...

    def set_rate(self, key: str, rate: float, capacity: float) -> None: ...

    def peek(self, key: str, rate: float, capacity: float) -> tuple[float, float]: ...


def _refill(tokens: float, stamp: float, rate: float, capacity: float, now: float) -> float:
    return min(capacity, tokens + max(0.0, now - stamp) * rate)


def _take(tokens: float, rate: float, reserve: bool) -> tuple[float, float]:
    """(tokens after, seconds until the caller's token is due)."""
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    if reserve:
        tokens -= 1.0
        return tokens, -tokens / rate
    return tokens, (1.0 - tokens) / rate


class DatabaseStore:
    """Buckets in the database (RateBucket rows), for installs without Redis."""

    def _locked(self, key: str, rate: float, capacity: float) -> Any:
        from deskbridge.amazon.models import RateBucket

        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"tokens": capacity, "stamp": time.time()}
        )
        return bucket

    def take(self, key: str, rate: float, capacity: float, reserve: bool) -> float:
        with transaction.atomic():
            bucket = self._locked(key, rate, capacity)
            now = time.time()
            rate = bucket.rate or rate
            tokens = _refill(bucket.tokens, bucket.stamp, rate, capacity, now)
            bucket.tokens, wait = _take(tokens, rate, reserve)
            bucket.stamp = now
            bucket.save(update_fields=["tokens", "stamp"])
        return wait

    def drain(self, key: str, rate: float, capacity: float) -> None:
        with transaction.atomic():
            bucket = self._locked(key, rate, capacity)
            now = time.time()
            tokens = _refill(bucket.tokens, bucket.stamp, bucket.rate or rate, capacity, now)
            bucket.tokens, bucket.stamp = min(tokens, 0.0), now
            bucket.save(update_fields=["tokens", "stamp"])

    def set_rate(self, key: str, rate: float, capacity: float) -> None:
        with transaction.atomic():
            bucket = self._locked(key, rate, capacity)
            now = time.time()
            bucket.tokens = _refill(bucket.tokens, bucket.stamp, bucket.rate or rate, capacity, now)
            bucket.stamp, bucket.rate = now, rate
            bucket.save(update_fields=["tokens", "stamp", "rate"])

    def peek(self, key: str, rate: float, capacity: float) -> tuple[float, float]:
        from deskbridge.amazon.models import RateBucket

        bucket = RateBucket.objects.filter(key=key).first()
        if bucket is None:
            return capacity, rate
        rate = bucket.rate or rate
        return _refill(bucket.tokens, bucket.stamp, rate, capacity, time.time()), rate


# One script for every operation on a bucket: a hash {tokens, stamp, rate}, Redis's own clock.
_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate, capacity, op = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'rate')
if saved[3] and op ~= 'rate' then rate = tonumber(saved[3]) end
local tokens = tonumber(saved[1]) or capacity
local stamp = tonumber(saved[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if op == 'peek' then
  return {tostring(tokens), tostring(rate)}
elseif op == 'take' or op == 'reserve' then
  if tokens >= 1 then
    tokens = tokens - 1
  elseif op == 'reserve' then
    tokens = tokens - 1
    wait = -tokens / rate
  else
    wait = (1 - tokens) / rate
  end
elseif op == 'drain' then
  tokens = math.min(tokens, 0)
elseif op == 'rate' then
  redis.call('HSET', KEYS[1], 'rate', tostring(rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 86400)
return {tostring(wait), tostring(rate)}
"""


class RedisStore:
    """Buckets in Redis (the queue's server), for installs with several machines."""

    def __init__(self, url: str, namespace: str = "") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_SCRIPT)
        # The installation's queue name: installations sharing one Redis keep their own buckets.
        self.namespace = namespace

    def _run(self, key: str, rate: float, capacity: float, op: str) -> tuple[float, float]:
        key = f"{self.namespace}:{key}" if self.namespace else key
        first, second = self.script(keys=[key], args=[repr(rate), repr(capacity), op])
        return float(first), float(second)

    def take(self, key: str, rate: float, capacity: float, reserve: bool) -> float:
        return self._run(key, rate, capacity, "reserve" if reserve else "take")[0]

    def drain(self, key: str, rate: float, capacity: float) -> None:
        self._run(key, rate, capacity, "drain")

    def set_rate(self, key: str, rate: float, capacity: float) -> None:
        self._run(key, rate, capacity, "rate")

    def peek(self, key: str, rate: float, capacity: float) -> tuple[float, float]:
        return self._run(key, rate, capacity, "peek")


@cache
def _store(queue_url: str, namespace: str) -> Store:
    if queue_url.startswith(("redis://", "rediss://")):
        return RedisStore(queue_url, namespace)
    return DatabaseStore()


def store() -> Store:
    return _store(settings.QUEUE_URL, settings.QUEUE_NAME)


def plan_of(key: BucketKey) -> UsagePlan:
    return PLANS[key.operation]


def acquire(key: BucketKey, reserve: bool = True) -> float:
    """Take a token: 0.0 means go now; otherwise the seconds until one is due. With `reserve`
    the token due then is the caller's (it must not acquire again for it)."""
    plan = plan_of(key)
    return store().take(str(key), plan.rate, plan.capacity, reserve)


def throttled(key: BucketKey) -> None:
    """Amazon answered 429: its bucket is empty, so ours is too (reservations stay queued)."""
    plan = plan_of(key)
    store().drain(str(key), plan.rate, plan.capacity)


def observed_rate(key: BucketKey, header: str | None) -> None:
    """x-amzn-RateLimit-Limit: this seller's rate for the operation, when Amazon sends it."""
    if not header:
        return
    try:
        rate = float(header)
    except ValueError:
        return
    if rate <= 0:
        return
    plan = plan_of(key)
    _, current = store().peek(str(key), plan.rate, plan.capacity)
    if abs(current - rate) > 1e-9:
        log.info("SP-API rate limit changed", operation=key.operation, rate=rate, was=current)
        store().set_rate(str(key), rate, plan.capacity)


def level(key: BucketKey) -> tuple[float, float]:
    """(tokens now, rate): negative tokens are reservations not yet spent."""
    plan = plan_of(key)
    return store().peek(str(key), plan.rate, plan.capacity)
