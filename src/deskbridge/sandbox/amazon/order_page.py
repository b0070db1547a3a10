"""Seller Central's order page (/orders-v3/order/<id>): where deskbridge's "open in Seller Central"
link lands. The signed-in seller sees one of its own orders, personal data included (Seller Central
shows the seller everything; only the APIs hold it back by role)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon.models import SandboxOrder, SandboxSellerUser
from deskbridge.sandbox.amazon.orders import INCLUDED_DATA, render_order
from deskbridge.sandbox.amazon.roles import Role
from deskbridge.sandbox.amazon.sellercentral import page, require_signin

EVERYTHING = frozenset(Role)


def _time(value: Any) -> datetime | None:
    """The sandbox's own timestamps (orders.iso), as datetimes for the template."""
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def order_view(order: SandboxOrder) -> dict[str, Any]:
    """The order as its Orders API JSON (every section), plus the dates parsed for the template."""
    data = render_order(order, set(INCLUDED_DATA), EVERYTHING, timezone.now())
    fulfillment = data.get("fulfillment", {})
    return {
        "data": data,
        "marketplace": marketplaces.by_id(order.marketplace_id),
        "created": _time(data.get("createdTime")),
        "ship_by": _time(fulfillment.get("shipByWindow", {}).get("latestDateTime")),
        "deliver_by": _time(fulfillment.get("deliverByWindow", {}).get("latestDateTime")),
        "address": data.get("recipient", {}).get("deliveryAddress", {}),
        "total": data.get("proceeds", {}).get("grandTotal"),
        "packages": [
            {**package, "shipped": _time(package.get("shipTime"))} for package in data.get("packages", [])
        ],
    }


@require_signin
def order_details(request: HttpRequest, user: SandboxSellerUser, order_id: str) -> HttpResponse:
    order = SandboxOrder.objects.filter(seller=user.seller, order_id=order_id).first()
    if order is None:  # another seller's order looks like one that does not exist
        return page(request, "order_missing.html", {"order_id": order_id, "seller": user.seller}, status=404)
    return page(request, "order.html", {"order": order, "seller": user.seller, **order_view(order)})
