"""The Orders API v2026-01-01 (models/orders-api-model/orders_2026-01-01.json): getOrder, searchOrders.

No `payload` envelope: `{"order": …}` and `{"orders": [...], "pagination": …, "createdBefore" |
"lastUpdatedBefore": …}`. Without `includedData` an order has its basic facts and items only; each
includedData value adds its sections (BUYER → buyer, RECIPIENT → recipient, PROCEEDS, EXPENSE,
PROMOTION, CANCELLATION, FULFILLMENT, PACKAGES, TAX, PAYMENT, FULFILLMENT_ORDERS on the order and its
items). A requested section the order has nothing in is left out: packages of an FBA order or of one
not shipped yet, proceeds of a pending or cancelled one, fulfillmentOrders (Easy Ship only, and no
seeded order is Easy Ship), a recipient before the order can ship.

Personal data follows the application's roles (roles.py), never an RDT, as the developer docs
"Access Orders PII" (and "Get order information") state; the sandbox application holds no
restricted role, so by default it sees none of it:
  * buyer.buyerEmail: Direct-to-Consumer Delivery; merchant-fulfilled; UNSHIPPED, PARTIALLY_SHIPPED
    or SHIPPED.
  * buyer.buyerName: those statuses, and Tax Invoicing or Tax Remittance (either order), or
    Direct-to-Consumer Delivery (merchant-fulfilled); the tax roles do not count in the US, JP and
    SG marketplaces.
  * recipient.deliveryAddress name, addressLine1-3, postalCode, phone, extendedFields:
    Direct-to-Consumer Delivery, merchant-fulfilled, those statuses; the phone also goes once a
    shipped order is past its latest delivery date (the model's note). companyName, city,
    districtOrCounty, stateOrRegion, municipality, countryCode and addressType are not personal
    data: with RECIPIENT they are always there, so a caller without the role still learns where the
    order goes (city, region, country) but not to whom or which street.
  * the gift message and the Amazon Custom customizedUrl: treated like the delivery address (the
    docs list them as PII without naming their role; the seller needs them to fulfil).
  * tax.taxRegistrations: Tax Invoicing or Tax Remittance ("Get tax information").
buyer.buyerCompanyName and buyerPurchaseOrderNumber are not on Amazon's PII list and are returned
with BUYER.

searchOrders has no buyer filter: orders of a buyer alias are found by searching a period with
includedData=BUYER and comparing buyer.buyerEmail, which needs the Direct-to-Consumer Delivery
role. Its pagination token is bound to the seller and to the filters (the model: all parameters
but maxResultsPerPage and includedData must stay the same) and lasts 24 hours; the default upper
bound of a search is two minutes before the request, fixed by the first page.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon.models import FulfilledBy, FulfillmentStatus, SandboxOrder
from deskbridge.sandbox.amazon.params import Param, ParamError, parse_query
from deskbridge.sandbox.amazon.ratelimit import UsagePlan
from deskbridge.sandbox.amazon.roles import TAX_ROLES, Role
from deskbridge.sandbox.amazon.spapi import (
    Caller,
    endpoint,
    invalid_input,
    refuse_body,
    sp_error,
    sp_response,
)

API = "orders_2026-01-01"
# The "Usage Plan" tables in the operations' descriptions (a contract test compares them).
USAGE_PLANS = {
    "searchOrders": UsagePlan(rate=0.0056, burst=20),
    "getOrder": UsagePlan(rate=0.5, burst=30),
}
INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)
FULFILLED_BY = ("MERCHANT", "AMAZON")  # the model's order
ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")
SHIPPING_STATUSES = {
    FulfillmentStatus.UNSHIPPED,
    FulfillmentStatus.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED,
}
# Marketplaces where the tax roles do not show the buyer's name ("Access Orders PII").
NO_NAME_FOR_TAX_ROLES = {"US", "JP", "SG"}
ADDRESS_PII = (
    "name",
    "addressLine1",
    "addressLine2",
    "addressLine3",
    "postalCode",
    "phone",
    "extendedFields",
)
SEARCH_DELAY = timedelta(minutes=2)  # createdBefore/lastUpdatedBefore: at least two minutes ago
PAGINATION_SALT = "deskbridge.sandbox.amazon.searchOrders"
PAGINATION_SECONDS = 24 * 3600
DEFAULT_PAGE = 100

GET_ORDER_PARAMS = (Param("includedData", "array", INCLUDED_DATA),)
SEARCH_ORDERS_PARAMS = (
    Param("createdAfter", "date-time"),
    Param("createdBefore", "date-time"),
    Param("lastUpdatedAfter", "date-time"),
    Param("lastUpdatedBefore", "date-time"),
    Param("fulfillmentStatuses", "array", tuple(FulfillmentStatus.values)),
    Param("marketplaceIds", "array", max_items=50),
    Param("fulfilledBy", "array", FULFILLED_BY),
    Param("maxResultsPerPage", "integer", minimum=1, maximum=100),
    Param("paginationToken"),
    Param("includedData", "array", INCLUDED_DATA),
)
# includedData value -> the item sections it adds.
ITEM_SECTIONS = {
    "PROCEEDS": "proceeds",
    "EXPENSE": "expense",
    "PROMOTION": "promotion",
    "CANCELLATION": "cancellation",
    "FULFILLMENT": "fulfillment",
    "TAX": "tax",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Visible:
    """Which personal data of one order the caller's roles show."""

    buyer_email: bool
    buyer_name: bool
    full_address: bool
    phone: bool
    tax_registrations: bool


def visible_pii(order: SandboxOrder, roles: frozenset[Role], now: datetime) -> Visible:
    merchant = order.fulfilled_by == FulfilledBy.MERCHANT
    shipping = order.fulfillment_status in SHIPPING_STATUSES
    delivery = Role.DIRECT_TO_CONSUMER_DELIVERY in roles
    tax = bool(roles & TAX_ROLES)
    marketplace = marketplaces.by_id(order.marketplace_id)
    tax_names = tax and (marketplace is None or marketplace.country_code not in NO_NAME_FOR_TAX_ROLES)
    address = shipping and merchant and delivery
    latest = order.details.get("fulfillment", {}).get("deliverByWindow", {}).get("latestDateTime")
    overdue = (
        order.fulfillment_status == FulfillmentStatus.SHIPPED
        and latest is not None
        and datetime.fromisoformat(latest.replace("Z", "+00:00")) < now
    )
    return Visible(
        buyer_email=address,
        buyer_name=shipping and (tax_names or (merchant and delivery)),
        full_address=address,
        phone=address and not overdue,
        tax_registrations=tax,
    )


def sales_channel(marketplace_id: str) -> dict[str, str]:
    channel = {"channelName": "AMAZON", "marketplaceId": marketplace_id}
    marketplace = marketplaces.by_id(marketplace_id)
    if marketplace is not None:
        channel["marketplaceName"] = "Amazon" + marketplace.domain.removeprefix("amazon")
    return channel


def _item(item: dict[str, Any], included: set[str], visible: Visible) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: copy.deepcopy(item[key])
        for key in (
            "orderItemId",
            "quantityOrdered",
            "measurement",
            "associatedOrderItems",
            "programs",
            "product",
        )
        if key in item
    }
    if not visible.full_address:
        out["product"].pop("customization", None)
    for data, key in ITEM_SECTIONS.items():
        if data in included and key in item:
            out[key] = copy.deepcopy(item[key])
    gift = out.get("fulfillment", {}).get("packing", {}).get("giftOption")
    if gift is not None and not visible.full_address:
        gift.pop("giftMessage", None)
    return out


def render_order(
    order: SandboxOrder, included: set[str], roles: frozenset[Role], now: datetime
) -> dict[str, Any]:
    """The order as this caller may see it, with the sections `included` asks for."""
    details = order.details
    visible = visible_pii(order, roles, now)
    out: dict[str, Any] = {"orderId": order.order_id}
    if details.get("orderAliases"):
        out["orderAliases"] = copy.deepcopy(details["orderAliases"])
    out["createdTime"] = iso(order.created_time)
    out["lastUpdatedTime"] = iso(order.last_updated_time)
    for key in ("programs", "associatedOrders"):
        if details.get(key):
            out[key] = copy.deepcopy(details[key])
    out["salesChannel"] = sales_channel(order.marketplace_id)
    if "BUYER" in included:
        buyer = {
            key: value
            for key, value in details.get("buyer", {}).items()
            if key in ("buyerCompanyName", "buyerPurchaseOrderNumber")
            or (key == "buyerName" and visible.buyer_name)
        }
        if visible.buyer_email:
            buyer["buyerEmail"] = order.buyer_email
        if buyer:
            out["buyer"] = buyer
    if "RECIPIENT" in included and order.fulfillment_status in SHIPPING_STATUSES and details.get("recipient"):
        recipient = copy.deepcopy(details["recipient"])
        address = recipient.get("deliveryAddress", {})
        for key in ADDRESS_PII:
            if not visible.full_address or (key == "phone" and not visible.phone):
                address.pop(key, None)
        out["recipient"] = recipient
    if "PROCEEDS" in included and details.get("proceeds"):
        out["proceeds"] = copy.deepcopy(details["proceeds"])
    if "PAYMENT" in included and details.get("payment"):
        out["payment"] = copy.deepcopy(details["payment"])
    if "TAX" in included and details.get("tax"):
        tax = copy.deepcopy(details["tax"])
        if not visible.tax_registrations:
            tax.pop("taxRegistrations", None)
        if tax:
            out["tax"] = tax
    if "FULFILLMENT" in included:
        out["fulfillment"] = {
            "fulfillmentStatus": order.fulfillment_status,
            "fulfilledBy": order.fulfilled_by,
            **copy.deepcopy(details.get("fulfillment", {})),
        }
    out["orderItems"] = [_item(item, included, visible) for item in details.get("orderItems", [])]
    merchant = order.fulfilled_by == FulfilledBy.MERCHANT
    if "PACKAGES" in included and merchant and details.get("packages"):
        out["packages"] = copy.deepcopy(details["packages"])
    if "FULFILLMENT_ORDERS" in included and details.get("fulfillmentOrders"):
        out["fulfillmentOrders"] = copy.deepcopy(details["fulfillmentOrders"])
    return out


def not_found(order_id: str, plan: UsagePlan) -> JsonResponse:
    """The same answer for an order that does not exist and one of another seller: nothing leaks."""
    return sp_error(
        404,
        "NotFound",
        "The resource specified does not exist.",
        f"Order {order_id} was not found.",
        rate_limit=plan.header,
    )


def check_order_id(order_id: str, plan: UsagePlan) -> JsonResponse | None:
    if ORDER_ID.fullmatch(order_id):
        return None
    return invalid_input(f"orderId must be an Amazon order id in 3-7-7 format, not {order_id!r}.", plan)


@endpoint("getOrder", USAGE_PLANS["getOrder"], api=API)
def get_order(request: HttpRequest, caller: Caller, order_id: str) -> JsonResponse:
    plan = USAGE_PLANS["getOrder"]
    refused = refuse_body(request, plan) or check_order_id(order_id, plan)
    if refused is not None:
        return refused
    try:
        query = parse_query(request.GET, "getOrder", GET_ORDER_PARAMS)
    except ParamError as problem:
        return invalid_input(str(problem), plan)
    order = SandboxOrder.objects.filter(seller=caller.seller, order_id=order_id).first()
    if order is None:
        return not_found(order_id, plan)
    body = {"order": render_order(order, set(query.get("includedData", [])), caller.roles, timezone.now())}
    return sp_response(body, rate_limit=plan.header)


class SearchError(ValueError):
    """searchOrders cannot run with these parameters; the message says why."""


@dataclass(frozen=True)
class Search:
    field: str  # created_time | last_updated_time
    name: str  # created | lastUpdated
    after: datetime
    before: datetime | None
    filters: dict[str, Any]

    def digest(self, seller_id: str) -> str:
        """What a pagination token is bound to: the seller and every filter but the page size."""
        key = {
            "seller": seller_id,
            "field": self.name,
            "after": self.after.isoformat(),
            "before": self.before.isoformat() if self.before else None,
            **self.filters,
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def _search(query: dict[str, Any], caller: Caller, now: datetime) -> Search:
    created = [name for name in ("createdAfter", "createdBefore") if name in query]
    updated = [name for name in ("lastUpdatedAfter", "lastUpdatedBefore") if name in query]
    if ("createdAfter" in query) == ("lastUpdatedAfter" in query):
        raise SearchError("Give exactly one of createdAfter and lastUpdatedAfter.")
    if created and updated:
        raise SearchError(
            f"{', '.join(created)} cannot be combined with {', '.join(updated)}: "
            "search by creation time or by update time."
        )
    name = "created" if "createdAfter" in query else "lastUpdated"
    after, before = query[f"{name}After"], query.get(f"{name}Before")
    if after > now:
        raise SearchError(f"{name}After must not be in the future.")
    if before is not None:
        if before < after:
            raise SearchError(f"{name}Before must be equal to or after {name}After.")
        if before > now - SEARCH_DELAY:
            raise SearchError(f"{name}Before must be at least two minutes before the time of the request.")
    filters: dict[str, Any] = {
        key: sorted(query[key])
        for key in ("fulfillmentStatuses", "marketplaceIds", "fulfilledBy")
        if key in query
    }
    selling = set(caller.seller.participations.values_list("marketplace_id", flat=True))
    for marketplace_id in filters.get("marketplaceIds", []):
        marketplace = marketplaces.by_id(marketplace_id)
        if marketplace is None or marketplace.region != caller.seller.region:
            raise SearchError(
                f"marketplaceIds: {marketplace_id} is not a marketplace of this endpoint's region."
            )
        if marketplace_id not in selling:
            raise SearchError(f"marketplaceIds: the selling partner is not registered in {marketplace_id}.")
    return Search(
        field="created_time" if name == "created" else "last_updated_time",
        name=name,
        after=after,
        before=before,
        filters=filters,
    )


def _page_token(seller_id: str, search: Search, offset: int, bound: datetime) -> str:
    return signing.dumps(
        {"d": search.digest(seller_id), "o": offset, "b": bound.isoformat()},
        salt=PAGINATION_SALT,
        compress=True,
    )


def _read_page_token(token: str, seller_id: str, search: Search) -> tuple[int, datetime]:
    try:
        data = signing.loads(token, salt=PAGINATION_SALT, max_age=PAGINATION_SECONDS)
    except signing.SignatureExpired:
        raise SearchError("paginationToken has expired (tokens last 24 hours); search again.") from None
    except signing.BadSignature:
        raise SearchError("paginationToken is not a token that searchOrders returned.") from None
    if data.get("d") != search.digest(seller_id):
        raise SearchError(
            "paginationToken belongs to another search: send the other parameters with the values "
            "of the request that returned it (only maxResultsPerPage and includedData may change)."
        )
    return int(data["o"]), datetime.fromisoformat(data["b"])


@endpoint("searchOrders", USAGE_PLANS["searchOrders"], api=API)
def search_orders(request: HttpRequest, caller: Caller) -> JsonResponse:
    plan = USAGE_PLANS["searchOrders"]
    refused = refuse_body(request, plan)
    if refused is not None:
        return refused
    now = timezone.now()
    try:
        query = parse_query(request.GET, "searchOrders", SEARCH_ORDERS_PARAMS)
        search = _search(query, caller, now)
        if "paginationToken" in query:
            offset, bound = _read_page_token(
                query["paginationToken"], caller.seller.selling_partner_id, search
            )
        else:
            offset, bound = 0, search.before or (now - SEARCH_DELAY).replace(microsecond=0)
        if search.after > bound:
            raise SearchError(
                f"{search.name}After must be before {search.name}Before (by default two minutes before the request)."
            )
    except (ParamError, SearchError) as problem:
        return invalid_input(str(problem), plan)
    orders = SandboxOrder.objects.filter(
        seller=caller.seller, **{f"{search.field}__gte": search.after, f"{search.field}__lte": bound}
    )
    if "fulfillmentStatuses" in search.filters:
        orders = orders.filter(fulfillment_status__in=search.filters["fulfillmentStatuses"])
    if "marketplaceIds" in search.filters:
        orders = orders.filter(marketplace_id__in=search.filters["marketplaceIds"])
    if "fulfilledBy" in search.filters:
        orders = orders.filter(fulfilled_by__in=search.filters["fulfilledBy"])
    size = query.get("maxResultsPerPage", DEFAULT_PAGE)
    page = list(orders.order_by(search.field, "order_id")[offset : offset + size + 1])
    included = set(query.get("includedData", []))
    body: dict[str, Any] = {"orders": [render_order(o, included, caller.roles, now) for o in page[:size]]}
    if len(page) > size:
        body["pagination"] = {
            "nextToken": _page_token(caller.seller.selling_partner_id, search, offset + size, bound)
        }
    body[f"{search.name}Before"] = iso(bound)
    return sp_response(body, rate_limit=plan.header)
