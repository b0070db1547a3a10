"""The sandbox Orders and Tokens APIs over real HTTP: uvicorn on loopback, driven by httpx like
deskbridge's SP-API client (raw commas in lists, %2B in offsets, a JSON body, the latency setting)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxSeller
from deskbridge.sandbox.amazon.orders_seed import order_id_for
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from tests.conftest import uvicorn_in_thread
from tests.sandbox.conftest import CALLBACK, EU, code_for

pytestmark = pytest.mark.django_db(transaction=True)
SPAPI = app.SPAPI_PATH.format(region="eu")


@pytest.fixture
def server(sandbox_urls) -> Iterator[str]:
    seed_sandbox_amazon()
    with uvicorn_in_thread() as url:
        yield url


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10) as client:
        form = {
            "grant_type": "authorization_code",
            "code": code_for(SandboxSeller.objects.get(selling_partner_id=EU)),
            "redirect_uri": CALLBACK,
            "client_id": app.SANDBOX_LWA_CLIENT_ID,
            "client_secret": app.SANDBOX_LWA_CLIENT_SECRET,
        }
        tokens = client.post(app.LWA_TOKEN_PATH, data=form)
        assert tokens.status_code == 200, tokens.text
        client.headers["x-amz-access-token"] = tokens.json()["access_token"]
        client.headers["user-agent"] = "deskbridge-tests/1.0 (Language=Python)"
        yield client


def test_get_order_and_search_over_http(api: httpx.Client):
    shipped = order_id_for(EU, "shipped")
    response = api.get(
        f"{SPAPI}/orders/2026-01-01/orders/{shipped}?includedData=BUYER,RECIPIENT,FULFILLMENT,PACKAGES"
    )
    assert response.status_code == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5" and response.headers["x-amzn-RequestId"]
    order = response.json()["order"]
    assert order["orderId"] == shipped and order["packages"][0]["trackingNumber"]
    after = (
        (timezone.now() - timedelta(days=30))
        .astimezone(timezone.get_fixed_timezone(120))
        .replace(microsecond=0)
    )
    response = api.get(
        f"{SPAPI}/orders/2026-01-01/orders",
        params={"createdAfter": after.isoformat(), "maxResultsPerPage": 5},
    )
    assert response.status_code == 200 and len(response.json()["orders"]) == 5
    following = api.get(
        f"{SPAPI}/orders/2026-01-01/orders",
        params={
            "createdAfter": after.isoformat(),
            "paginationToken": response.json()["pagination"]["nextToken"],
        },
    )
    assert following.status_code == 200 and len(following.json()["orders"]) == 4


def test_a_restricted_data_token_over_http(api: httpx.Client):
    shipped = order_id_for(EU, "shipped")
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        response = api.post(
            f"{SPAPI}/tokens/2021-03-01/restrictedDataToken",
            json={"restrictedResources": [{"method": "GET", "path": f"/orders/v0/orders/{shipped}/address"}]},
        )
    assert response.status_code == 200, response.text
    rdt = response.json()["restrictedDataToken"]
    address = api.get(f"{SPAPI}/orders/v0/orders/{shipped}/address", headers={"x-amz-access-token": rdt})
    assert address.status_code == 200 and address.json()["payload"]["ShippingAddress"]["AddressLine1"]


def test_the_latency_does_not_queue_requests_behind_each_other(api: httpx.Client):
    shipped = order_id_for(EU, "shipped")
    path = f"{SPAPI}/orders/2026-01-01/orders/{shipped}"
    with override_settings(SANDBOX_SPAPI_LATENCY_MS=400):
        started = time.monotonic()
        assert api.get(path).status_code == 200
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda _: api.get(path).status_code, range(4)))
        elapsed = time.monotonic() - started
    assert statuses == [200] * 4
    # Four requests that each wait 0.4 s, answered side by side: well under 1.6 s.
    assert elapsed < 1.2, elapsed
