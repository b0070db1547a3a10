"""Fixtures for the Orders client tests: the sandbox over loopback, seeded, and an authorized account."""

from __future__ import annotations

import pytest

from deskbridge.amazon import ratelimit
from deskbridge.amazon.models import SellerAccount
from tests.amazon.orders_support import EU, Wire, authorize, seed, watch_the_wire


@pytest.fixture
def fresh_buckets():
    """Our side's buckets start full in every test (Redis keeps them across tests otherwise)."""
    store = ratelimit.store()
    if isinstance(store, ratelimit.RedisStore):
        for key in store.client.scan_iter(f"{store.namespace}:spapi:*"):
            store.client.delete(key)
    yield


@pytest.fixture
def sandbox_orders(live_url, fresh_buckets) -> dict[str, dict[str, str]]:
    return seed()


@pytest.fixture
def eu_account(sandbox_orders, tenant) -> SellerAccount:
    return authorize(None, organisation=tenant.organisation, seller_id=EU)


@pytest.fixture
def wire(monkeypatch) -> Wire:
    return watch_the_wire(monkeypatch)
