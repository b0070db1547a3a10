"""Contract: what the client sends is what Amazon's vendored Orders v2026-01-01 model allows, what
the emulator answers it validates strictly against that model, and the client's typed parse reads
those answers faithfully (every seeded kind of order, with and without the restricted role)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deskbridge.amazon import orders
from deskbridge.amazon.orders import OrderContext, parse_order
from deskbridge.amazon.spapi import ORDERS, SpApi
from deskbridge.helpdesks.base import order_fields
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.amazon.orders_support import EU, FE, NA, authorize
from tests.conftest import make_tenant
from tests.sandbox.contract import model

V2026 = model("orders_2026-01-01.json")


def _parameter(operation: str, name: str) -> dict:
    (found,) = [p for p in V2026.operation(operation)["parameters"] if p["name"] == name]
    return found


def test_the_client_asks_only_for_what_the_model_allows():
    allowed = set(_parameter("getOrder", "includedData")["items"]["enum"])
    assert set(orders.INCLUDED_DATA) <= allowed
    assert V2026.path_of("getOrder") == ORDERS + "/{orderId}"
    assert V2026.path_of("searchOrders") == ORDERS
    search = {p["name"] for p in V2026.operation("searchOrders")["parameters"]}
    assert {
        "lastUpdatedAfter",
        "includedData",
        "maxResultsPerPage",
        "marketplaceIds",
        "paginationToken",
    } <= search


def _check_parse(raw: dict) -> None:
    order = parse_order(raw)
    assert order.order_id == raw["orderId"]
    assert order.created.isoformat().replace("+00:00", "Z") == raw["createdTime"]
    assert order.marketplace_id == raw["salesChannel"]["marketplaceId"]
    assert order.status == raw["fulfillment"]["fulfillmentStatus"]
    assert order.fulfilled_by == raw["fulfillment"]["fulfilledBy"]
    assert [i.order_item_id for i in order.items] == [i["orderItemId"] for i in raw["orderItems"]]
    for item, source in zip(order.items, raw["orderItems"], strict=True):
        assert (item.asin, item.title, item.sku) == (
            source["product"]["asin"],
            source["product"]["title"],
            source["product"]["sellerSku"],
        )
        assert item.quantity == source["quantityOrdered"]
        price = source["product"].get("price", {}).get("unitPrice")
        assert (item.unit_price and str(item.unit_price.amount)) == (price and price["amount"])
    assert [(p.carrier, p.tracking_number) for p in order.packages] == [
        (p.get("carrier", ""), p.get("trackingNumber", "")) for p in raw.get("packages", [])
    ]
    grand = raw.get("proceeds", {}).get("grandTotal")
    assert (order.grand_total and str(order.grand_total.amount)) == (grand and grand["amount"])
    address = raw.get("recipient", {}).get("deliveryAddress")
    if address:
        assert order.ship_to is not None
        assert (order.ship_to.city, order.ship_to.country_code) == (address["city"], address["countryCode"])
        assert order.ship_to.is_full == ("addressLine1" in address)
    assert order.buyer_name == raw.get("buyer", {}).get("buyerName", "")
    assert order.programs == tuple(raw.get("programs", ()))


@pytest.mark.parametrize("restricted", [False, True], ids=["no-pii-role", "direct-to-consumer-role"])
def test_every_emulator_answer_validates_and_parses(sandbox_orders, restricted):
    validator = V2026.validator("getOrder", 200)
    roles = (Role.DIRECT_TO_CONSUMER_DELIVERY, Role.TAX_INVOICING) if restricted else ()
    with granted_roles(*roles):
        for seller_id in (EU, NA, FE):
            api = SpApi(authorize(None, organisation=make_tenant().organisation, seller_id=seller_id))
            for kind, order_id in sandbox_orders[seller_id].items():
                body = api.call(
                    "orders_2026-01-01.getOrder",
                    f"{ORDERS}/{order_id}",
                    {"includedData": ",".join(orders.INCLUDED_DATA)},
                )
                validator.validate(body)
                _check_parse(body["order"])
                context = OrderContext.of(parse_order(body["order"]))
                assert context.as_note() and order_fields(context)["amazon_order_id"] == order_id, kind
            search = api.call(
                "orders_2026-01-01.searchOrders",
                ORDERS,
                {
                    "lastUpdatedAfter": (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "includedData": "BUYER,FULFILLMENT",
                },
            )
            V2026.validator("searchOrders", 200).validate(search)
            page = orders.parse_search(search)
            assert {o.order_id for o in page.orders} == set(sandbox_orders[seller_id].values())
            visible = {"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"}
            for o in page.orders:
                shown = restricted and o.fulfilled_by == "MERCHANT" and o.status in visible
                assert bool(o.buyer_email) == shown, (o.order_id, o.status, o.fulfilled_by, o.buyer_email)


def test_the_models_own_example_parses():
    example = V2026.operation("getOrder")["responses"]["200"]["examples"]["application/json"]
    order = parse_order(example["order"])
    assert order.order_id and order.items
    assert OrderContext.of(order).as_note().startswith(f"Amazon order {order.order_id}")


def test_money_survives_as_decimals(sandbox_orders, eu_account):
    order = SpApi(eu_account).get_order(sandbox_orders[EU]["multi-item"])
    assert order.total is not None and isinstance(order.total.amount, Decimal)
    assert order.total.currency == "EUR"
