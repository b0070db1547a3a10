"""The sandbox Orders API v2026-01-01: what each seeded order looks like, what includedData and the
application's roles show, how searchOrders filters and pages, and how tokens and quotas are enforced."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon import spapi as spapi_module
from deskbridge.sandbox.amazon.models import SandboxAccessToken, SandboxOrder
from deskbridge.sandbox.amazon.orders import INCLUDED_DATA
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.sandbox.conftest import EU, FE, NA, ORDERS, ORDERS_V0, REGION_OF, rdt_for, spapi_get, tokens_for

pytestmark = pytest.mark.usefixtures("orders")
ALL = ",".join(INCLUDED_DATA)
PREFIXES = {
    "US": "11",
    "CA": "702",
    "MX": "701",
    "DE": "30",
    "UK": "20",
    "FR": "405",
    "ES": "403",
    "IT": "406",
}
PREFIXES |= {"JP": "503", "AU": "250"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_of(client: Client, sellers, seller_id: str) -> str:
    return tokens_for(client, sellers[seller_id])["access_token"]


def get_order(client: Client, seller_id: str, token: str, order_id: str, included: str | None = ALL):
    params = {"includedData": included} if included else {}
    return spapi_get(client, REGION_OF[seller_id], f"{ORDERS}/{order_id}", token, params)


def order_of(client: Client, seller_id: str, token: str, order_id: str, included: str | None = ALL) -> dict:
    response = get_order(client, seller_id, token, order_id, included)
    assert response.status_code == 200, response.content
    assert response["x-amzn-RateLimit-Limit"] == "0.5"
    assert response["x-amzn-RequestId"]
    return response.json()["order"]


def search(client: Client, seller_id: str, token: str, **params):
    return spapi_get(client, REGION_OF[seller_id], ORDERS, token, params)


def a_month_ago() -> str:
    return iso(timezone.now() - timedelta(days=30))


def all_pages(client: Client, seller_id: str, token: str, **params) -> tuple[list[dict], int]:
    found, pages, token_param = [], 0, {}
    while True:
        response = search(client, seller_id, token, **params, **token_param)
        assert response.status_code == 200, response.content
        body = response.json()
        found += body["orders"]
        pages += 1
        if "pagination" not in body:
            return found, pages
        token_param = {"paginationToken": body["pagination"]["nextToken"]}


# Each seeded kind --------------------------------------------------------------------------------


@pytest.mark.parametrize("seller_id", [EU, NA, FE])
def test_each_seeded_order_kind_comes_back_as_expected(client: Client, sellers, orders, seller_id):
    token = token_of(client, sellers, seller_id)
    ids = orders[seller_id]
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY, Role.TAX_INVOICING):
        got = {kind: order_of(client, seller_id, token, order_id) for kind, order_id in ids.items()}
    for kind, order in got.items():
        assert order["orderId"] == ids[kind]
        assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", order["orderId"])
        market = marketplaces.by_id(order["salesChannel"]["marketplaceId"])
        assert market is not None and market.region == sellers[seller_id].region
        assert order["orderId"].startswith(PREFIXES[market.country_code]), (kind, order["orderId"])
        assert order["salesChannel"]["marketplaceName"].lower() == market.domain
        assert order["orderItems"] and all(i["product"]["asin"].startswith("B0") for i in order["orderItems"])
    status = {
        kind: (o["fulfillment"]["fulfillmentStatus"], o["fulfillment"]["fulfilledBy"])
        for kind, o in got.items()
    }
    assert status == {
        "shipped": ("SHIPPED", "MERCHANT"),
        "unshipped": ("UNSHIPPED", "MERCHANT"),
        "partially-shipped": ("PARTIALLY_SHIPPED", "MERCHANT"),
        "pending": ("PENDING", "MERCHANT"),
        "cancelled": ("CANCELLED", "MERCHANT"),
        "fba": ("SHIPPED", "AMAZON"),
        "business": ("SHIPPED", "MERCHANT"),
        "multi-item": ("SHIPPED", "MERCHANT"),
        "replacement": ("UNSHIPPED", "MERCHANT"),
    }

    shipped = got["shipped"]
    (package,) = shipped["packages"]
    assert package["carrier"] and package["trackingNumber"] and package["shippingService"]
    assert package["packageStatus"]["status"] == "DELIVERED"
    assert package["packageItems"] == [
        {"orderItemId": shipped["orderItems"][0]["orderItemId"], "quantity": 1}
    ]
    assert shipped["orderItems"][0]["promotion"]["breakdowns"][0]["promotionId"]
    assert shipped["orderItems"][0]["product"]["customization"]["customizedUrl"].startswith("https://")

    unshipped = got["unshipped"]
    assert unshipped["programs"] == ["PRIME"]
    assert unshipped["fulfillment"]["fulfillmentServiceLevel"] == "NEXT_DAY"
    assert unshipped["orderItems"][0]["fulfillment"]["packing"]["giftOption"]["giftMessage"]
    assert "packages" not in unshipped

    partial = got["partially-shipped"]
    first, second = partial["orderItems"]
    assert first["fulfillment"] == {"quantityFulfilled": 1, "quantityUnfulfilled": 0}
    assert second["fulfillment"] == {"quantityFulfilled": 0, "quantityUnfulfilled": 2}
    (package,) = partial["packages"]
    assert [i["orderItemId"] for i in package["packageItems"]] == [first["orderItemId"]]

    pending = got["pending"]
    assert "proceeds" not in pending and "price" not in pending["orderItems"][0]["product"]
    assert "recipient" not in pending and "buyer" not in pending  # nothing to show before it can ship

    cancelled = got["cancelled"]
    cancellation = cancelled["orderItems"][0]["cancellation"]
    assert cancellation["cancellationRequest"]["requester"] == "BUYER"
    assert cancellation["cancellationExecution"]["cancelledBy"] == "MERCHANT"

    fba = got["fba"]
    assert "packages" not in fba and "shipByWindow" not in fba["fulfillment"]
    assert "PRIME" in fba["programs"] and len(fba["orderItems"]) == 2

    business = got["business"]
    assert business["programs"] == ["AMAZON_BUSINESS"]
    assert business["buyer"]["buyerCompanyName"] and business["buyer"]["buyerPurchaseOrderNumber"]
    assert business["orderItems"][0]["product"]["price"]["priceDesignation"] == "BUSINESS_PRICE"
    assert business["orderItems"][0]["quantityOrdered"] == 10
    assert business["recipient"]["deliveryAddress"]["addressType"] == "COMMERCIAL"
    assert business["recipient"]["deliveryPreference"]["deliveryTime"]["businessHours"]

    multi = got["multi-item"]
    assert len(multi["orderItems"]) == 3 and len(multi["packages"]) == 2
    packed = [i["orderItemId"] for p in multi["packages"] for i in p["packageItems"]]
    assert sorted(packed) == sorted(i["orderItemId"] for i in multi["orderItems"])

    replacement = got["replacement"]
    assert replacement["associatedOrders"] == [
        {"orderId": ids["shipped"], "associationType": "REPLACEMENT_ORIGINAL_ID"}
    ]
    assert replacement["orderItems"][0]["product"]["asin"] == shipped["orderItems"][0]["product"]["asin"]
    assert replacement["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] in ("0.00", "0")
    assert replacement["buyer"]["buyerEmail"] == shipped["buyer"]["buyerEmail"]


@pytest.mark.parametrize("seller_id", [EU, NA, FE])
def test_proceeds_add_up(client: Client, sellers, orders, seller_id):
    from decimal import Decimal

    token = token_of(client, sellers, seller_id)
    for order_id in orders[seller_id].values():
        order = order_of(client, seller_id, token, order_id, "PROCEEDS")
        if "proceeds" not in order:
            continue
        items = sum(Decimal(i["proceeds"]["proceedsTotal"]["amount"]) for i in order["orderItems"])
        parts = sum(Decimal(b["subtotal"]["amount"]) for b in order["proceeds"]["breakdowns"])
        assert Decimal(order["proceeds"]["grandTotal"]["amount"]) == items == parts


# includedData ----------------------------------------------------------------------------------------

BASIC_ORDER = {"orderId", "orderAliases", "createdTime", "lastUpdatedTime", "programs", "associatedOrders"}
BASIC_ORDER |= {"salesChannel", "orderItems"}
BASIC_ITEM = {"orderItemId", "quantityOrdered", "measurement", "associatedOrderItems", "programs", "product"}


def test_without_included_data_only_the_basics_come_back(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    for order_id in orders[EU].values():
        order = order_of(client, EU, token, order_id, included=None)
        assert set(order) <= BASIC_ORDER
        assert {"orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems"} <= set(order)
        for item in order["orderItems"]:
            assert set(item) <= BASIC_ITEM


# includedData value -> (kind of an order that has the data, keys it adds to the order, to its items)
SECTIONS = {
    "BUYER": ("business", {"buyer"}, set()),
    "RECIPIENT": ("shipped", {"recipient"}, set()),
    "PROCEEDS": ("shipped", {"proceeds"}, {"proceeds"}),
    "EXPENSE": ("shipped", set(), {"expense"}),  # Amazon points: FE only
    "PROMOTION": ("shipped", set(), {"promotion"}),
    "CANCELLATION": ("cancelled", set(), {"cancellation"}),
    "FULFILLMENT": ("shipped", {"fulfillment"}, {"fulfillment"}),
    "PACKAGES": ("shipped", {"packages"}, set()),
    "TAX": ("shipped", set(), {"tax"}),  # marketplace facilitator: US
    "PAYMENT": ("pending", {"payment"}, set()),  # konbini payment: JP
    "FULFILLMENT_ORDERS": ("shipped", set(), set()),  # Easy Ship only: none seeded
}


@pytest.mark.parametrize("included", INCLUDED_DATA)
def test_each_included_data_value_adds_its_sections(client: Client, sellers, orders, included):
    kind, order_keys, item_keys = SECTIONS[included]
    seller_id = {"EXPENSE": FE, "PAYMENT": FE, "TAX": NA}.get(included, EU)
    token = token_of(client, sellers, seller_id)
    basic = order_of(client, seller_id, token, orders[seller_id][kind], included=None)
    more = order_of(client, seller_id, token, orders[seller_id][kind], included=included)
    assert set(more) - set(basic) == order_keys
    assert set(more["orderItems"][0]) - set(basic["orderItems"][0]) == item_keys
    # Every other value leaves those sections out.
    others = ",".join(v for v in INCLUDED_DATA if v != included)
    rest = order_of(client, seller_id, token, orders[seller_id][kind], included=others)
    assert not order_keys & set(rest)
    for key in item_keys:
        assert key not in rest["orderItems"][0]


@pytest.mark.parametrize(
    "value",
    ["buyer", "BUYER,SHIPPING", "BUYER,", ",BUYER", "BUYER, RECIPIENT", "ALL", "PII"],
)
def test_unknown_included_data_values_are_400(client: Client, sellers, orders, value):
    token = token_of(client, sellers, EU)
    response = get_order(client, EU, token, orders[EU]["shipped"], value)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput" and "includedData" in error["details"]
    assert response["x-amzn-RateLimit-Limit"] == "0.5"


def test_a_repeated_or_unknown_parameter_is_400(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    path = f"{ORDERS}/{orders[EU]['shipped']}?includedData=BUYER&includedData=RECIPIENT"
    response = spapi_get(client, "eu", path, token)
    assert response.status_code == 400 and "once" in response.json()["errors"][0]["details"]
    response = spapi_get(client, "eu", f"{ORDERS}/{orders[EU]['shipped']}", token, {"marketplaceIds": "X"})
    assert (
        response.status_code == 400
        and "unexpected: marketplaceIds" in response.json()["errors"][0]["details"]
    )
    response = spapi_get(client, "eu", f"{ORDERS}/{orders[EU]['shipped']}", token, {"includedData": ""})
    assert response.status_code == 400


# Personal data and roles ------------------------------------------------------------------------------


def test_by_default_no_personal_data_but_the_city_region_and_country(client: Client, sellers, orders):
    token = token_of(client, sellers, NA)
    for kind, order_id in orders[NA].items():
        order = order_of(client, NA, token, order_id)
        assert "buyerEmail" not in order.get("buyer", {}) and "buyerName" not in order.get("buyer", {})
        address = order.get("recipient", {}).get("deliveryAddress")
        if address is not None:
            assert {"city", "stateOrRegion", "countryCode", "addressType"} <= set(address)
            assert not {"name", "addressLine1", "addressLine2", "postalCode", "phone"} & set(address), kind
        for item in order["orderItems"]:
            assert "customization" not in item["product"]
            assert "giftMessage" not in item.get("fulfillment", {}).get("packing", {}).get("giftOption", {})
    assert order_of(client, NA, token, orders[NA]["unshipped"])["orderItems"][0]["fulfillment"][
        "packing"
    ] == {"giftOption": {"giftWrapLevel": "Classic"}}


def test_direct_to_consumer_delivery_shows_merchant_orders_that_can_ship(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        got = {kind: order_of(client, EU, token, order_id) for kind, order_id in orders[EU].items()}
    for kind in ("shipped", "unshipped", "partially-shipped", "business", "multi-item", "replacement"):
        buyer = got[kind]["buyer"]
        assert buyer["buyerEmail"].endswith(
            "@marketplace." + marketplaces.by_id(got[kind]["salesChannel"]["marketplaceId"]).domain
        )
        assert buyer["buyerName"]
        address = got[kind]["recipient"]["deliveryAddress"]
        assert {"name", "addressLine1", "postalCode", "city", "countryCode"} <= set(address), kind
    # Not for Amazon's own fulfilment, nor before or after the order can ship.
    assert "buyer" not in got["fba"] and "name" not in got["fba"]["recipient"]["deliveryAddress"]
    assert "buyer" not in got["pending"] and "recipient" not in got["pending"]
    assert "buyer" not in got["cancelled"] and "recipient" not in got["cancelled"]
    # The phone only until the latest delivery date of a shipped order has passed.
    assert got["unshipped"]["recipient"]["deliveryAddress"]["phone"]
    assert "phone" not in got["shipped"]["recipient"]["deliveryAddress"]
    assert got["unshipped"]["orderItems"][0]["fulfillment"]["packing"]["giftOption"]["giftMessage"]
    assert got["shipped"]["orderItems"][0]["product"]["customization"]["customizedUrl"]
    # Tax registrations need a tax role.
    assert "tax" not in got["business"]


def test_tax_roles_show_buyer_names_but_not_in_the_us_jp_or_sg(client: Client, sellers, orders):
    with granted_roles(Role.TAX_REMITTANCE):
        eu = token_of(client, sellers, EU)
        fba = order_of(client, EU, eu, orders[EU]["fba"])  # Amazon.co.uk
        assert fba["buyer"] == {"buyerName": fba["buyer"]["buyerName"]} and fba["buyer"]["buyerName"]
        shipped = order_of(client, EU, eu, orders[EU]["shipped"])
        assert "buyerName" in shipped["buyer"] and "buyerEmail" not in shipped["buyer"]
        assert "name" not in shipped["recipient"]["deliveryAddress"]
        business = order_of(client, EU, eu, orders[EU]["business"])
        assert business["tax"]["taxRegistrations"][0]["taxRegistrationType"] == "VAT"
        na = token_of(client, sellers, NA)
        us = order_of(client, NA, na, orders[NA]["shipped"])
        assert "buyer" not in us
        ca = order_of(client, NA, na, orders[NA]["fba"])  # Amazon.ca
        assert ca["buyer"]["buyerName"]
        fe = token_of(client, sellers, FE)
        assert "buyer" not in order_of(client, FE, fe, orders[FE]["shipped"])  # Amazon.co.jp


# searchOrders ---------------------------------------------------------------------------------------------


def test_search_pages_through_every_order_once(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    found, pages = all_pages(client, EU, token, createdAfter=a_month_ago(), maxResultsPerPage="2")
    assert pages == 5
    ids = [o["orderId"] for o in found]
    assert len(ids) == len(set(ids)) == 9 and set(ids) == set(orders[EU].values())
    created = [o["createdTime"] for o in found]
    assert created == sorted(created)
    first = search(client, EU, token, createdAfter=a_month_ago())
    body = first.json()
    assert first["x-amzn-RateLimit-Limit"] == "0.0056"
    assert "pagination" not in body and len(body["orders"]) == 9
    before = datetime.fromisoformat(body["createdBefore"].replace("Z", "+00:00"))
    assert timedelta(minutes=1) < timezone.now() - before < timedelta(minutes=3)


def test_search_by_date_status_fulfilment_and_marketplace(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    ids = orders[EU]
    now = timezone.now()

    def found(**params) -> set[str]:
        response = search(client, EU, token, **params)
        assert response.status_code == 200, response.content
        return {o["orderId"] for o in response.json()["orders"]}

    assert found(createdAfter=iso(now - timedelta(days=4))) == {
        ids[k] for k in ("unshipped", "partially-shipped", "pending", "cancelled", "replacement")
    }
    assert found(createdAfter=iso(now - timedelta(days=20)), createdBefore=iso(now - timedelta(days=10))) == {
        ids["business"],
        ids["multi-item"],
    }
    assert found(
        lastUpdatedAfter=iso(now - timedelta(days=8)), lastUpdatedBefore=iso(now - timedelta(days=5))
    ) == {ids["fba"]}
    month = a_month_ago()
    assert found(createdAfter=month, fulfillmentStatuses="UNSHIPPED") == {
        ids["unshipped"],
        ids["replacement"],
    }
    assert found(createdAfter=month, fulfillmentStatuses="PENDING,CANCELLED") == {
        ids["pending"],
        ids["cancelled"],
    }
    assert found(createdAfter=month, fulfilledBy="AMAZON") == {ids["fba"]}
    assert len(found(createdAfter=month, fulfilledBy="MERCHANT,AMAZON")) == 9
    assert found(createdAfter=month, marketplaceIds="A1F83G8C2ARO7P,A13V1IB3VIYZZH") == {
        ids["fba"],
        ids["business"],
    }
    assert found(createdAfter=month, marketplaceIds="A1805IZSGTT6HS") == set()  # NL: listed, not selling


def test_search_finds_the_orders_of_a_buyer_alias_with_the_delivery_role(client: Client, sellers, orders):
    token = token_of(client, sellers, NA)
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        alias = order_of(client, NA, token, orders[NA]["shipped"], "BUYER")["buyer"]["buyerEmail"]
        assert alias.endswith("@marketplace.amazon.com")
        found, _ = all_pages(
            client, NA, token, createdAfter=a_month_ago(), includedData="BUYER", maxResultsPerPage="3"
        )
    mine = {o["orderId"] for o in found if o.get("buyer", {}).get("buyerEmail") == alias}
    assert mine == {orders[NA]["shipped"], orders[NA]["replacement"]}
    # Without the role the alias is nowhere: the order id from the buyer's message is the key.
    found, _ = all_pages(client, NA, token, createdAfter=a_month_ago(), includedData="BUYER")
    assert not [o for o in found if "buyerEmail" in o.get("buyer", {})]


def test_a_pagination_token_belongs_to_its_search(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    month = a_month_ago()
    first = search(client, EU, token, createdAfter=month, maxResultsPerPage="4").json()
    next_token = first["pagination"]["nextToken"]
    # Page size and includedData may change between pages…
    second = search(
        client,
        EU,
        token,
        createdAfter=month,
        maxResultsPerPage="100",
        includedData="BUYER",
        paginationToken=next_token,
    )
    assert second.status_code == 200 and len(second.json()["orders"]) == 5
    assert second.json()["createdBefore"] == first["createdBefore"]
    # …the filters may not, nor the seller, nor the token itself.
    for params in (
        {"createdAfter": iso(timezone.now() - timedelta(days=29))},
        {"createdAfter": month, "fulfilledBy": "MERCHANT"},
        {"createdAfter": month, "createdBefore": first["createdBefore"]},
    ):
        response = search(client, EU, token, paginationToken=next_token, **params)
        assert response.status_code == 400, params
        assert "paginationToken" in response.json()["errors"][0]["details"]
    response = search(client, EU, token, createdAfter=month, paginationToken=next_token[:-2] + "xx")
    assert response.status_code == 400
    other = token_of(client, sellers, FE)
    response = search(client, FE, other, createdAfter=month, paginationToken=next_token)
    assert response.status_code == 400


def test_a_pagination_token_lasts_24_hours(client: Client, sellers, orders, monkeypatch):
    token = token_of(client, sellers, EU)
    month = a_month_ago()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 24 * 3600 - 5)
    stale = search(client, EU, token, createdAfter=month, maxResultsPerPage="1").json()["pagination"][
        "nextToken"
    ]
    monkeypatch.setattr(time, "time", real)
    response = search(client, EU, token, createdAfter=month, paginationToken=stale)
    assert response.status_code == 400 and "expired" in response.json()["errors"][0]["details"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "exactly one of createdAfter and lastUpdatedAfter"),
        ({"createdBefore": "2026-01-01T00:00:00Z"}, "exactly one"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"}, "exactly one"),
        (
            {"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": "2026-02-01T00:00:00Z"},
            "cannot be combined",
        ),
        (
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-02-01T00:00:00Z"},
            "cannot be combined",
        ),
        (
            {"createdAfter": "2026-02-01T00:00:00Z", "createdBefore": "2026-01-01T00:00:00Z"},
            "equal to or after",
        ),
        ({"createdAfter": "2026-01-01", "maxResultsPerPage": "10"}, "ISO 8601"),
        ({"createdAfter": "2026-01-01T00:00:00"}, "time zone"),
        ({"createdAfter": "2026-01-01T00:00:00 02:00"}, "%2B"),
        ({"createdAfter": "2026-02-30T00:00:00Z"}, "not a real date"),
        ({"createdAfter": "2099-01-01T00:00:00Z"}, "future"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "0"}, "between 1 and 100"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "101"}, "between 1 and 100"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "ten"}, "whole number"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "CANCELED"}, "CANCELED"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "fulfilledBy": "AFN"}, "AFN"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": "ATVPDKIKX0DER"}, "region"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": "A1RKKUPIHCS9HS,NOPE"}, "region"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": "A21TJRUUN4KGV"}, "not registered"),
        (
            {"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": ",".join(["A1PA6795UKMFR9"] * 51)},
            "at most 50",
        ),
        (
            {"createdAfter": "2026-01-01T00:00:00Z", "buyerEmail": "x@marketplace.amazon.de"},
            "unexpected: buyerEmail",
        ),
        (
            {"createdAfter": "2026-01-01T00:00:00Z", "paginationToken": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"},
            "paginationToken",
        ),
    ],
)
def test_search_refuses_what_the_model_does_not_allow(client: Client, sellers, params, says):
    token = token_of(client, sellers, EU)
    response = search(client, EU, token, **params)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == ("InvalidInput", "Invalid Input")
    assert says in error["details"]
    assert response["x-amzn-RateLimit-Limit"] == "0.0056"


def test_a_before_bound_less_than_two_minutes_ago_is_400(client: Client, sellers):
    token = token_of(client, sellers, EU)
    response = search(
        client,
        EU,
        token,
        createdAfter=a_month_ago(),
        createdBefore=iso(timezone.now() - timedelta(seconds=30)),
    )
    assert response.status_code == 400 and "two minutes" in response.json()["errors"][0]["details"]
    response = search(client, EU, token, lastUpdatedAfter=iso(timezone.now() - timedelta(seconds=30)))
    assert response.status_code == 400


def test_an_offset_in_the_date_is_understood(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    moment = (timezone.now() - timedelta(days=4)).astimezone(UTC).replace(microsecond=0)
    plus_two = moment.astimezone(timezone.get_fixed_timezone(120)).isoformat()
    assert plus_two.endswith("+02:00")
    response = search(client, EU, token, createdAfter=plus_two)
    assert response.status_code == 200
    assert len(response.json()["orders"]) == 5


# Not found, tokens, quotas, latency -------------------------------------------------------------------


def test_an_unknown_order_and_another_sellers_order_are_the_same_404(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    unknown = get_order(client, EU, token, "302-0000000-0000000")
    foreign = get_order(client, EU, token, orders[NA]["shipped"])
    for response, order_id in ((unknown, "302-0000000-0000000"), (foreign, orders[NA]["shipped"])):
        assert response.status_code == 404
        assert response["x-amzn-RateLimit-Limit"] == "0.5"
        assert response.json() == {
            "errors": [
                {
                    "code": "NotFound",
                    "message": "The resource specified does not exist.",
                    "details": f"Order {order_id} was not found.",
                }
            ]
        }
    # Another seller in the same region does not see it either.
    assert SandboxOrder.objects.filter(order_id=orders[NA]["shipped"]).exists()


@pytest.mark.parametrize(
    "order_id", ["TEST_CASE_400", "302-000000-0000000", "3020000000000000000", "302-0000000-00000001"]
)
def test_a_malformed_order_id_is_400(client: Client, sellers, order_id):
    token = token_of(client, sellers, EU)
    response = get_order(client, EU, token, order_id)
    assert response.status_code == 400
    assert "3-7-7" in response.json()["errors"][0]["details"]


def assert_denied(response, details: str) -> None:
    assert response.status_code == 403
    assert response["x-amzn-ErrorType"] == "AccessDeniedException"
    assert response["x-amzn-RequestId"] and "x-amzn-RateLimit-Limit" not in response
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == ("Unauthorized", "Access to requested resource is denied.")
    assert details in error["details"]


def test_tokens_missing_expired_or_of_another_region_are_403(client: Client, sellers, orders):
    shipped = orders[EU]["shipped"]
    assert_denied(get_order(client, EU, None, shipped), "missing")
    assert_denied(search(client, EU, None, createdAfter=a_month_ago()), "missing")
    assert_denied(get_order(client, EU, "Atza|made-up", shipped), "revoked, malformed or invalid")
    token = token_of(client, sellers, EU)
    assert_denied(spapi_get(client, "na", f"{ORDERS}/{shipped}", token), "region")
    assert_denied(spapi_get(client, "fe", ORDERS, token, {"createdAfter": a_month_ago()}), "region")
    SandboxAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_denied(get_order(client, EU, token, shipped), "expired")
    assert_denied(search(client, EU, token, createdAfter=a_month_ago()), "expired")


def test_a_restricted_data_token_is_refused_here(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    shipped = orders[EU]["shipped"]
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        rdt = rdt_for(client, "eu", token, {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}/address"})
    assert_denied(get_order(client, EU, rdt, shipped), "LWA access token")
    assert_denied(search(client, EU, rdt, createdAfter=a_month_ago()), "LWA access token")


def test_the_burst_is_spent_then_429(client: Client, sellers, orders):
    token = token_of(client, sellers, EU)
    shipped = orders[EU]["shipped"]
    for _ in range(30):
        assert get_order(client, EU, token, shipped, None).status_code == 200
    throttled = get_order(client, EU, token, shipped, None)
    assert throttled.status_code == 429 and throttled["x-amzn-RequestId"]
    assert "x-amzn-RateLimit-Limit" not in throttled
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    # A bucket per operation and API, and per seller.
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}", token).status_code == 200
    assert search(client, EU, token, createdAfter=a_month_ago()).status_code == 200
    assert (
        get_order(client, NA, token_of(client, sellers, NA), orders[NA]["shipped"], None).status_code == 200
    )
    for _ in range(19):
        assert search(client, EU, token, createdAfter=a_month_ago()).status_code == 200
    assert search(client, EU, token, createdAfter=a_month_ago()).status_code == 429
    # A bad request spends a token too: the quota is checked before the parameters.
    assert search(client, EU, token).status_code == 429


def test_the_configured_latency_is_slept_per_request(client: Client, sellers, orders, monkeypatch):
    token = token_of(client, sellers, EU)
    slept: list[float] = []
    monkeypatch.setattr(spapi_module.time, "sleep", slept.append)
    get_order(client, EU, token, orders[EU]["shipped"], None)
    assert slept == []
    with override_settings(SANDBOX_SPAPI_LATENCY_MS=250):
        get_order(client, EU, token, orders[EU]["shipped"], None)
        search(client, EU, token, createdAfter=a_month_ago())
        get_order(client, EU, None, orders[EU]["shipped"], None)  # refused requests wait too
    assert slept == [0.25, 0.25, 0.25]
    monkeypatch.undo()
    with override_settings(SANDBOX_SPAPI_LATENCY_MS=60):
        started = time.monotonic()
        assert get_order(client, EU, token, orders[EU]["shipped"], None).status_code == 200
        assert time.monotonic() - started >= 0.06
