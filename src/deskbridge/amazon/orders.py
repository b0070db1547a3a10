"""Amazon orders as deskbridge reads them (Orders API v2026-01-01, amazon.md §6), and `OrderContext`:
what an agent sees beside a buyer's message, as an internal note and as ticket fields.

The dataclasses hold the parts of Amazon's `Order` an agent needs; `parse_order` reads them from
the JSON (a contract test checks it against the vendored model on the emulator's answers). Personal
data is there only when the application's roles let Amazon return it: without the restricted
Direct-to-Consumer Delivery role an order has no buyer name or email and its address only city,
region and country.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from deskbridge.amazon import endpoints, marketplaces

# What one getOrder call asks for: everything an agent needs, in one call per order.
INCLUDED_DATA = ("BUYER", "RECIPIENT", "FULFILLMENT", "PACKAGES", "PROCEEDS", "CANCELLATION")
# Statuses after which an order does not change any more (a new message needs no new call).
FINAL_STATUSES = frozenset({"CANCELLED", "UNFULFILLABLE"})


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    @classmethod
    def parse(cls, data: Any) -> Money | None:
        if not isinstance(data, dict) or "amount" not in data or "currencyCode" not in data:
            return None
        try:
            return cls(Decimal(str(data["amount"])), str(data["currencyCode"]))
        except InvalidOperation:
            return None


@dataclass(frozen=True)
class Address:
    """A delivery address: name and street lines only with the restricted role."""

    city: str = ""
    state_or_region: str = ""
    postal_code: str = ""
    country_code: str = ""
    name: str = ""
    company_name: str = ""
    lines: tuple[str, ...] = ()
    phone: str = ""
    address_type: str = ""

    @property
    def is_full(self) -> bool:
        return bool(self.lines)

    @classmethod
    def parse(cls, data: Any) -> Address | None:
        if not isinstance(data, dict):
            return None
        return cls(
            city=str(data.get("city") or ""),
            state_or_region=str(data.get("stateOrRegion") or ""),
            postal_code=str(data.get("postalCode") or ""),
            country_code=str(data.get("countryCode") or ""),
            name=str(data.get("name") or ""),
            company_name=str(data.get("companyName") or ""),
            lines=tuple(
                str(data[k]) for k in ("addressLine1", "addressLine2", "addressLine3") if data.get(k)
            ),
            phone=str(data.get("phone") or ""),
            address_type=str(data.get("addressType") or ""),
        )


@dataclass(frozen=True)
class OrderItem:
    order_item_id: str
    quantity: int
    asin: str = ""
    title: str = ""
    sku: str = ""
    unit_price: Money | None = None
    quantity_shipped: int | None = None
    cancel_requested_by_buyer: bool = False
    cancel_reason: str = ""

    @property
    def line_total(self) -> Money | None:
        if self.unit_price is None:
            return None
        return Money(self.unit_price.amount * self.quantity, self.unit_price.currency)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> OrderItem:
        product = data.get("product") or {}
        fulfillment = data.get("fulfillment") or {}
        request = (data.get("cancellation") or {}).get("cancellationRequest") or {}
        return cls(
            order_item_id=str(data["orderItemId"]),
            quantity=int(data["quantityOrdered"]),
            asin=str(product.get("asin") or ""),
            title=str(product.get("title") or ""),
            sku=str(product.get("sellerSku") or ""),
            unit_price=Money.parse((product.get("price") or {}).get("unitPrice")),
            quantity_shipped=fulfillment.get("quantityFulfilled"),
            cancel_requested_by_buyer=request.get("requester") == "BUYER",
            cancel_reason=str(request.get("cancelReason") or ""),
        )


@dataclass(frozen=True)
class Package:
    reference: str
    carrier: str = ""
    tracking_number: str = ""
    service: str = ""
    status: str = ""
    detailed_status: str = ""
    shipped_at: datetime | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Package:
        status = data.get("packageStatus") or {}
        return cls(
            reference=str(data["packageReferenceId"]),
            carrier=str(data.get("carrier") or ""),
            tracking_number=str(data.get("trackingNumber") or ""),
            service=str(data.get("shippingService") or ""),
            status=str(status.get("status") or ""),
            detailed_status=str(status.get("detailedStatus") or ""),
            shipped_at=parse_time(data.get("shipTime")),
        )


@dataclass(frozen=True)
class Order:
    """An Orders API v2026-01-01 `Order`, the parts deskbridge uses."""

    order_id: str
    created: datetime
    last_updated: datetime
    marketplace_id: str
    status: str = ""  # fulfillmentStatus, e.g. SHIPPED
    fulfilled_by: str = ""  # MERCHANT | AMAZON
    service_level: str = ""
    programs: tuple[str, ...] = ()
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    buyer_name: str = ""
    buyer_email: str = ""
    buyer_company: str = ""
    purchase_order_number: str = ""
    ship_to: Address | None = None
    items: tuple[OrderItem, ...] = ()
    packages: tuple[Package, ...] = ()
    grand_total: Money | None = None
    replaces_order_id: str = ""
    seller_order_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_final(self) -> bool:
        """Nothing about the order will change: cancelled, or shipped and every package delivered."""
        if self.status in FINAL_STATUSES:
            return True
        delivered = self.packages and all(p.status == "DELIVERED" for p in self.packages)
        return self.status == "SHIPPED" and (self.fulfilled_by == "AMAZON" or bool(delivered))

    @property
    def total(self) -> Money | None:
        """What the buyer was charged as Amazon reports it (proceeds), else the items' prices."""
        if self.grand_total is not None:
            return self.grand_total
        lines = [i.line_total for i in self.items if i.line_total is not None]
        if not lines or len({m.currency for m in lines}) != 1:
            return None
        return Money(sum((m.amount for m in lines), Decimal(0)), lines[0].currency)


def parse_order(data: dict[str, Any]) -> Order:
    """Read an `Order` object (getOrder's `order`, an element of searchOrders' `orders`).

    Raises KeyError/ValueError/TypeError when a field the model requires is missing or malformed."""
    fulfillment = data.get("fulfillment") or {}
    buyer = data.get("buyer") or {}
    recipient = data.get("recipient") or {}
    created, updated = parse_time(data["createdTime"]), parse_time(data["lastUpdatedTime"])
    if created is None or updated is None:
        raise ValueError("createdTime and lastUpdatedTime must be ISO 8601 date-times")
    replaces = next(
        (
            str(a.get("orderId") or "")
            for a in data.get("associatedOrders") or []
            if a.get("associationType") in ("REPLACEMENT_ORIGINAL_ID", "EXCHANGE_ORIGINAL_ID")
        ),
        "",
    )
    return Order(
        order_id=str(data["orderId"]),
        created=created,
        last_updated=updated,
        marketplace_id=str(data["salesChannel"].get("marketplaceId") or ""),
        status=str(fulfillment.get("fulfillmentStatus") or ""),
        fulfilled_by=str(fulfillment.get("fulfilledBy") or ""),
        service_level=str(fulfillment.get("fulfillmentServiceLevel") or ""),
        programs=tuple(str(p) for p in data.get("programs") or []),
        ship_by=parse_time((fulfillment.get("shipByWindow") or {}).get("latestDateTime")),
        deliver_by=parse_time((fulfillment.get("deliverByWindow") or {}).get("latestDateTime")),
        buyer_name=str(buyer.get("buyerName") or ""),
        buyer_email=str(buyer.get("buyerEmail") or ""),
        buyer_company=str(buyer.get("buyerCompanyName") or ""),
        purchase_order_number=str(buyer.get("buyerPurchaseOrderNumber") or ""),
        ship_to=Address.parse(recipient.get("deliveryAddress")),
        items=tuple(OrderItem.parse(item) for item in data["orderItems"]),
        packages=tuple(Package.parse(p) for p in data.get("packages") or []),
        grand_total=Money.parse((data.get("proceeds") or {}).get("grandTotal")),
        replaces_order_id=replaces,
        seller_order_id=next(
            (
                str(a["aliasId"])
                for a in data.get("orderAliases") or []
                if a.get("aliasType") == "SELLER_ORDER_ID"
            ),
            "",
        ),
        raw=data,
    )


@dataclass(frozen=True)
class SearchPage:
    """One page of searchOrders: its orders, the token of the next page, the search's upper bound."""

    orders: tuple[Order, ...]
    next_token: str
    before: datetime | None


def parse_search(data: dict[str, Any]) -> SearchPage:
    return SearchPage(
        orders=tuple(parse_order(o) for o in data["orders"]),
        next_token=str((data.get("pagination") or {}).get("nextToken") or ""),
        before=parse_time(data.get("lastUpdatedBefore") or data.get("createdBefore")),
    )


# What the agent sees -----------------------------------------------------------------------------


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


STATUS_LABELS = {
    "PENDING_AVAILABILITY": "Pending availability",
    "PENDING": "Pending (payment not confirmed)",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "Partially shipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Cancelled",
    "UNFULFILLABLE": "Unfulfillable",
}


@dataclass(frozen=True)
class OrderContext:
    """An order beside a buyer's message: what a helpdesk connector renders on the ticket.

    `unavailable` is set (and the order's facts are empty) when Amazon could not be asked or
    would not answer; the link to Seller Central still works then."""

    order_id: str
    marketplace_id: str
    order_url: str
    unavailable: str = ""
    purchase_date: datetime | None = None
    status: str = ""
    fulfillment_channel: str = ""  # FBA | FBM
    is_prime: bool = False
    is_business: bool = False
    items: tuple[OrderItem, ...] = ()
    total: Money | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    shipments: tuple[Package, ...] = ()
    buyer_name: str = ""
    buyer_company: str = ""
    ship_to: Address | None = None
    is_replacement: bool = False
    replaces_order_id: str = ""
    is_cancelled: bool = False
    buyer_requested_cancellation: bool = False
    cancel_reason: str = ""
    updated_at: datetime | None = None  # when deskbridge last heard from Amazon about it

    @classmethod
    def of(cls, order: Order, fetched_at: datetime | None = None) -> OrderContext:
        requested = [i for i in order.items if i.cancel_requested_by_buyer]
        return cls(
            order_id=order.order_id,
            marketplace_id=order.marketplace_id,
            order_url=order_url(order.marketplace_id, order.order_id),
            purchase_date=order.created,
            status=order.status,
            fulfillment_channel={"AMAZON": "FBA", "MERCHANT": "FBM"}.get(order.fulfilled_by, ""),
            is_prime="PRIME" in order.programs,
            is_business="AMAZON_BUSINESS" in order.programs,
            items=order.items,
            total=order.total,
            ship_by=order.ship_by,
            deliver_by=order.deliver_by,
            shipments=order.packages,
            buyer_name=order.buyer_name,
            buyer_company=order.buyer_company,
            ship_to=order.ship_to,
            is_replacement=bool(order.replaces_order_id),
            replaces_order_id=order.replaces_order_id,
            is_cancelled=order.status == "CANCELLED",
            buyer_requested_cancellation=bool(requested),
            cancel_reason=requested[0].cancel_reason if requested else "",
            updated_at=fetched_at,
        )

    @classmethod
    def without_details(cls, order_id: str, marketplace_id: str, reason: str) -> OrderContext:
        return cls(
            order_id=order_id,
            marketplace_id=marketplace_id,
            order_url=order_url(marketplace_id, order_id),
            unavailable=reason,
        )

    def as_note(self) -> str:
        """Plain text for an internal note on the ticket."""
        lines = [f"Amazon order {self.order_id}", self.order_url]
        if self.unavailable:
            lines.append(f"Order details unavailable: {self.unavailable}")
            return "\n".join(lines)
        marketplace = marketplaces.by_id(self.marketplace_id)
        flags = [f for f, on in (("Prime", self.is_prime), ("Business", self.is_business)) if on] + (
            [f"replacement for {self.replaces_order_id}"] if self.is_replacement else []
        )
        status = STATUS_LABELS.get(self.status, self.status.title())
        lines.append(
            f"Status: {status}"
            + (f" ({self.fulfillment_channel})" if self.fulfillment_channel else "")
            + (f" · {', '.join(flags)}" if flags else "")
        )
        lines.append(
            f"Ordered: {_stamp(self.purchase_date)}" + (f" on {marketplace.domain}" if marketplace else "")
        )
        if self.is_cancelled or self.buyer_requested_cancellation:
            why = f": {self.cancel_reason}" if self.cancel_reason else ""
            who = "the buyer asked to cancel" if self.buyer_requested_cancellation else "cancelled"
            lines.append(f"Cancellation: {who}{why}")
        if self.ship_by or self.deliver_by:
            lines.append(
                "  ".join(
                    part
                    for part in (
                        f"Ship by: {_day(self.ship_by)}" if self.ship_by else "",
                        f"Deliver by: {_day(self.deliver_by)}" if self.deliver_by else "",
                    )
                    if part
                )
            )
        if self.buyer_name or self.buyer_company:
            lines.append("Buyer: " + ", ".join(p for p in (self.buyer_name, self.buyer_company) if p))
        if self.ship_to:
            lines.append("Ship to: " + _address_text(self.ship_to))
        lines.append("Items:")
        for item in self.items:
            price = f" @ {item.unit_price}" if item.unit_price else ""
            lines.append(
                f"  {item.quantity} × {item.title or item.asin} (ASIN {item.asin}, SKU {item.sku}){price}"
            )
        if self.total:
            lines.append(f"Order total: {self.total}")
        for package in self.shipments:
            state = (package.detailed_status or package.status).replace("_", " ").lower()
            lines.append(
                f"Shipment {package.reference}: {package.carrier} {package.tracking_number}".rstrip()
                + (f" ({state})" if state else "")
            )
        return "\n".join(lines)


def _address_text(address: Address) -> str:
    if not address.is_full:
        return ", ".join(p for p in (address.city, address.state_or_region, address.country_code) if p)
    parts = [address.name, address.company_name, *address.lines]
    parts.append(" ".join(p for p in (address.postal_code, address.city) if p))
    parts += [address.state_or_region, address.country_code]
    return ", ".join(p for p in parts if p)


def order_url(marketplace_id: str, order_id: str) -> str:
    """The order's page in the Seller Central of its marketplace (the sandbox's when configured)."""
    marketplace = marketplaces.by_id(marketplace_id)
    if marketplace is None:
        return f"https://sellercentral.amazon.com/orders-v3/order/{order_id}"
    return endpoints.order_url(marketplace, order_id)
