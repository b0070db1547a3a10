"""Our copy of Amazon's token buckets, in the database and in Redis: burst, refill, reservations
that queue waiting callers one token apart, a 429 that empties the bucket, a rate from Amazon."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from deskbridge.amazon import ratelimit
from deskbridge.amazon.ratelimit import BucketKey, DatabaseStore, RedisStore, UsagePlan

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_store() -> RedisStore:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return RedisStore(REDIS_URL)


@pytest.fixture(params=["database", "redis"])
def store(request, transactional_db):
    if request.param == "database":
        return DatabaseStore()
    return _redis_store()


def key() -> str:
    return f"spapi:test:{uuid.uuid4().hex}"


def test_the_burst_goes_at_once_then_one_token_per_interval(store):
    k = key()
    assert [store.take(k, 0.5, 3, False) for _ in range(3)] == [0, 0, 0]
    wait = store.take(k, 0.5, 3, False)
    assert 1.9 < wait <= 2.0  # without a reservation nothing is taken...
    assert 1.9 < store.take(k, 0.5, 3, False) <= 2.0  # ...so the next caller hears the same


def test_reservations_give_each_waiting_caller_its_own_token(store):
    k = key()
    for _ in range(2):
        store.take(k, 0.5, 2, True)
    waits = [store.take(k, 0.5, 2, True) for _ in range(4)]
    assert [round(w) for w in waits] == [2, 4, 6, 8]
    tokens, rate = store.peek(k, 0.5, 2)
    assert -4.01 < tokens < -3.9 and rate == 0.5


def test_the_bucket_refills_up_to_its_capacity(store):
    k = key()
    store.take(k, 10, 2, True)
    store.take(k, 10, 2, True)
    time.sleep(0.35)
    tokens, _ = store.peek(k, 10, 2)
    assert tokens == pytest.approx(2, abs=0.01)


def test_a_429_drains_what_we_thought_was_left_but_keeps_reservations(store):
    k = key()
    store.take(k, 0.01, 5, True)
    store.drain(k, 0.01, 5)
    assert store.peek(k, 0.01, 5)[0] == pytest.approx(0, abs=0.01)
    store.take(k, 0.01, 5, True)
    store.drain(k, 0.01, 5)
    assert store.peek(k, 0.01, 5)[0] == pytest.approx(-1, abs=0.01)


def test_a_rate_from_amazon_is_kept_for_every_later_call(store):
    k = key()
    store.set_rate(k, 4.0, 1)
    store.take(k, 0.5, 1, True)
    assert 0.2 < store.take(k, 0.5, 1, True) <= 0.25  # 4 per second, whatever the caller's default
    assert store.peek(k, 0.5, 1)[1] == 4.0


def test_concurrent_callers_never_share_a_token(store):
    k = key()
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        from django.db import connection

        try:
            for _ in range(5):
                wait = store.take(k, 1.0, 10, True)
                with lock:
                    waits.append(wait)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for w in waits if w == 0) == 10
    later = sorted(round(w) for w in waits if w > 0)
    assert later == list(range(1, 21))  # twenty different seconds, one token each


def test_the_plan_keeps_one_token_of_headroom_at_amazon():
    assert UsagePlan(0.5, 30).capacity == 29
    assert UsagePlan(1, 1).capacity == 1
    assert ratelimit.PLANS["orders_2026-01-01.getOrder"] == UsagePlan(0.5, 30)
    assert ratelimit.PLANS["orders_2026-01-01.searchOrders"] == UsagePlan(0.0056, 20)
    assert str(BucketKey("A1", "EU", "app", "op")) == "spapi:app:EU:A1:op"


def test_the_store_follows_the_queue(settings):
    ratelimit._store.cache_clear()
    try:
        settings.QUEUE_URL = ""
        assert isinstance(ratelimit.store(), DatabaseStore)
        settings.QUEUE_URL = REDIS_URL
        assert isinstance(ratelimit.store(), RedisStore)
    finally:
        ratelimit._store.cache_clear()
