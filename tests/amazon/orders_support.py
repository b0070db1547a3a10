"""Helpers for tests of the Orders client and the enrich step against the sandbox over loopback:
seeded sellers and orders, accounts authorized at the sandbox, extra orders, and a transport that
counts (or breaks) the SP-API calls the client makes."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from django.utils import timezone

from deskbridge.amazon import marketplaces, spapi
from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxOrder, SandboxRateBucket, SandboxSeller
from deskbridge.sandbox.amazon.orders_seed import KINDS, order_id_for
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from deskbridge.sandbox.amazon.tokens import issue_authorization_code, redeem_authorization_code

EU, NA, FE = "A2SNDBXEU00001", "A2SNDBXNA00001", "A2SNDBXFE00001"
REGIONS = {EU: "EU", NA: "NA", FE: "FE"}
GET_ORDER = "orders_2026-01-01.getOrder"


def seed() -> dict[str, dict[str, str]]:
    """The sandbox's sellers and orders: selling partner id -> kind -> order id."""
    seed_sandbox_amazon()
    return {seller: {kind: order_id_for(seller, kind) for kind in KINDS} for seller in REGIONS}


def authorize(account: SellerAccount | None, *, organisation=None, seller_id: str = EU) -> SellerAccount:
    """Authorize (or re-authorize) an account at the sandbox as the consent round-trip would."""
    from django.conf import settings

    seller = SandboxSeller.objects.get(selling_partner_id=seller_id)
    redirect = f"{settings.PUBLIC_URL}/amazon/callback/"
    tokens = redeem_authorization_code(
        issue_authorization_code(seller, app.SANDBOX_APP_ID, redirect), app.SANDBOX_APP_ID, redirect
    )
    if account is None:
        account = SellerAccount(
            organisation=organisation, selling_partner_id=seller_id, region=REGIONS[seller_id]
        )
    account.store_authorization(tokens.refresh_token, tokens.access_token, tokens.expires_in)
    account.save()
    return account


def connect(account: SellerAccount, marketplace_id: str) -> MarketplaceConnection:
    marketplace = marketplaces.by_id(marketplace_id)
    assert marketplace is not None
    connection, _ = MarketplaceConnection.objects.get_or_create(
        account=account,
        marketplace_id=marketplace_id,
        defaults={
            "organisation": account.organisation,
            "forwarding_address": f"amz-{marketplace.country_code}-{account.selling_partner_id}-{account.pk}@deskbridge.localhost".lower(),
        },
    )
    return connection


def copy_orders(order_id: str, count: int, prefix: str = "999") -> list[str]:
    """`count` more orders like `order_id` (same seller, marketplace and buyer), with new ids."""
    template = SandboxOrder.objects.get(order_id=order_id)
    ids = []
    for n in range(count):
        new_id = f"{prefix}-{n:07d}-{template.pk:07d}"
        details = copy.deepcopy(template.details)
        SandboxOrder.objects.update_or_create(
            order_id=new_id,
            defaults={
                "seller": template.seller,
                "marketplace_id": template.marketplace_id,
                "created_time": template.created_time,
                "last_updated_time": template.last_updated_time,
                "fulfillment_status": template.fulfillment_status,
                "fulfilled_by": template.fulfilled_by,
                "buyer_email": template.buyer_email,
                "details": details,
            },
        )
        ids.append(new_id)
    return ids


def set_emulator_tokens(seller_id: str, tokens: float, operation: str = GET_ORDER) -> None:
    """Put the sandbox's own bucket for the operation at `tokens` now (0: a 429 storm begins)."""
    seller = SandboxSeller.objects.get(selling_partner_id=seller_id)
    SandboxRateBucket.objects.update_or_create(
        seller=seller,
        application_id=app.SANDBOX_APP_ID,
        operation=operation,
        defaults={"tokens": tokens, "updated_at": timezone.now()},
    )


@dataclass
class Wire:
    """What went over the wire to SP-API: every request and its status; `fail` can break some."""

    requests: list[httpx.Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    fail: Callable[[httpx.Request], httpx.Response | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, operation: str = "getOrder") -> list[httpx.Request]:
        with self.lock:
            found = list(self.requests)
        if operation == "getOrder":
            return [r for r in found if "/orders/2026-01-01/orders/" in r.url.path]
        if operation == "searchOrders":
            return [r for r in found if r.url.path.endswith("/orders/2026-01-01/orders")]
        return found

    def throttled(self) -> int:
        with self.lock:
            return self.statuses.count(429)


class CountingTransport(httpx.BaseTransport):
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.wire.lock:
            self.wire.requests.append(request)
        response = self.wire.fail(request) if self.wire.fail else None
        if response is None:
            response = self.inner.handle_request(request)
        with self.wire.lock:
            self.wire.statuses.append(response.status_code)
        return response


def watch_the_wire(monkeypatch) -> Wire:
    wire = Wire()
    monkeypatch.setattr(spapi, "transport", lambda: CountingTransport(wire))
    monkeypatch.setattr(spapi, "_local", threading.local())
    return wire
