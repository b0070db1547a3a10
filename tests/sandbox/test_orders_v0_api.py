"""The sandbox Orders API v0 fallback: getOrder and getOrderItems without and with a Restricted Data
Token, getOrderAddress and getOrderBuyerInfo only with one, and RDTs that open only what they list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from deskbridge.sandbox.amazon.models import SandboxRestrictedDataToken
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.sandbox.conftest import EU, FE, NA, ORDERS, ORDERS_V0, rdt_for, spapi, spapi_get, tokens_for

pytestmark = pytest.mark.usefixtures("orders")
EVERY_ROLE = (Role.DIRECT_TO_CONSUMER_DELIVERY, Role.TAX_INVOICING, Role.TAX_REMITTANCE)


def payload(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["x-amzn-RateLimit-Limit"] == "0.5" and response["x-amzn-RequestId"]
    return response.json()["payload"]


def rdt(client: Client, region: str, token: str, path: str, elements: list[str] | None = None) -> str:
    resource = {"method": "GET", "path": path}
    if elements is not None:
        resource["dataElements"] = elements
    with granted_roles(*EVERY_ROLE):
        return rdt_for(client, region, token, resource)


@pytest.fixture
def eu(client: Client, sellers) -> str:
    return tokens_for(client, sellers[EU])["access_token"]


def test_get_order_with_an_access_token_has_no_restricted_data(client: Client, orders, eu):
    ids = orders[EU]
    shipped = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['shipped']}", eu))
    assert shipped["AmazonOrderId"] == ids["shipped"]
    assert (shipped["OrderStatus"], shipped["FulfillmentChannel"], shipped["SalesChannel"]) == (
        "Shipped",
        "MFN",
        "Amazon.de",
    )
    assert shipped["BuyerInfo"] == {"BuyerEmail": shipped["BuyerInfo"]["BuyerEmail"]}
    assert shipped["BuyerInfo"]["BuyerEmail"].endswith("@marketplace.amazon.de")
    assert set(shipped["ShippingAddress"]) == {"City", "StateOrRegion", "PostalCode", "CountryCode"}
    assert shipped["OrderTotal"]["CurrencyCode"] == "EUR" and shipped["NumberOfItemsShipped"] == 1
    assert shipped["LatestDeliveryDate"] and shipped["DefaultShipFromLocationAddress"]["City"] == "Berlin"
    assert shipped["IsReplacementOrder"] is False and shipped["IsPrime"] is False

    fba = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['fba']}", eu))
    assert fba["FulfillmentChannel"] == "AFN" and fba["IsPrime"] is True and fba["BuyerInfo"] == {}
    assert "EarliestShipDate" not in fba and fba["ShippingAddress"]["CountryCode"] == "GB"

    pending = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['pending']}", eu))
    assert (
        pending["OrderStatus"] == "Pending"
        and "ShippingAddress" not in pending
        and "OrderTotal" not in pending
    )

    cancelled = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['cancelled']}", eu))
    assert cancelled["OrderStatus"] == "Canceled" and cancelled["SalesChannel"] == "Amazon.it"

    business = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['business']}", eu))
    assert business["IsBusinessOrder"] is True and "PurchaseOrderNumber" not in business["BuyerInfo"]

    replacement = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['replacement']}", eu))
    assert replacement["IsReplacementOrder"] is True and replacement["ReplacedOrderId"] == ids["shipped"]
    assert replacement["BuyerInfo"]["BuyerEmail"] == shipped["BuyerInfo"]["BuyerEmail"]

    unshipped = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['unshipped']}", eu))
    assert unshipped["IsPrime"] is True and unshipped["ShipmentServiceLevelCategory"] == "NextDay"


def test_get_order_items_without_and_with_buyer_info(client: Client, sellers, orders, eu):
    ids = orders[EU]
    items = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['unshipped']}/orderItems", eu))
    assert items["AmazonOrderId"] == ids["unshipped"]
    (item,) = items["OrderItems"]
    assert item["IsGift"] == "true" and item["BuyerInfo"] == {"GiftWrapLevel": "Classic"}
    assert item["ItemPrice"]["CurrencyCode"] == "EUR" and item["QuantityShipped"] == 0

    token = rdt(client, "eu", eu, f"{ORDERS_V0}/{ids['unshipped']}/orderItems", ["buyerInfo"])
    (item,) = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['unshipped']}/orderItems", token))[
        "OrderItems"
    ]
    assert item["BuyerInfo"]["GiftMessageText"]

    shipped = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['shipped']}/orderItems", eu))["OrderItems"][
        0
    ]
    assert "BuyerCustomizedInfo" not in shipped.get("BuyerInfo", {})
    assert shipped["PromotionIds"] and shipped["PromotionDiscount"]["Amount"] != "0.00"

    pending = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['pending']}/orderItems", eu))["OrderItems"][
        0
    ]
    assert not {"ItemPrice", "ItemTax", "IsGift", "PromotionDiscount"} & set(pending)

    cancelled = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['cancelled']}/orderItems", eu))[
        "OrderItems"
    ][0]
    assert cancelled["BuyerRequestedCancel"] == {
        "IsBuyerRequestedCancel": "true",
        "BuyerCancelReason": "Ordered by mistake",
    }
    business = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['business']}/orderItems", eu))[
        "OrderItems"
    ][0]
    assert business["PriceDesignation"] == "BUSINESS_PRICE" and business["QuantityOrdered"] == 10

    multi = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{ids['multi-item']}/orderItems", eu))["OrderItems"]
    assert len(multi) == 3

    na = tokens_for(client, sellers[NA])["access_token"]
    us = payload(spapi_get(client, "na", f"{ORDERS_V0}/{orders[NA]['shipped']}/orderItems", na))[
        "OrderItems"
    ][0]
    assert us["TaxCollection"] == {
        "Model": "MarketplaceFacilitator",
        "ResponsibleParty": "Amazon Services, Inc.",
    }


def test_get_order_items_refuses_a_next_token_it_never_gave(client: Client, orders, eu):
    response = spapi_get(
        client, "eu", f"{ORDERS_V0}/{orders[EU]['multi-item']}/orderItems", eu, {"NextToken": "x"}
    )
    assert response.status_code == 400 and "NextToken" in response.json()["errors"][0]["details"]


def test_an_rdt_with_data_elements_adds_exactly_them_to_get_order(client: Client, orders, eu):
    shipped = orders[EU]["shipped"]
    address_only = rdt(client, "eu", eu, f"{ORDERS_V0}/{shipped}", ["shippingAddress"])
    order = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}", address_only))
    assert {"Name", "AddressLine1", "PostalCode", "City", "CountryCode", "AddressType"} <= set(
        order["ShippingAddress"]
    )
    assert "Phone" not in order["ShippingAddress"]  # shipped and past its latest delivery date
    assert "BuyerName" not in order["BuyerInfo"]
    both = rdt(client, "eu", eu, f"{ORDERS_V0}/{{orderId}}", ["buyerInfo", "shippingAddress"])
    unshipped = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['unshipped']}", both))
    assert unshipped["BuyerInfo"]["BuyerName"] and unshipped["ShippingAddress"]["Phone"]
    business = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['business']}", both))
    assert business["BuyerInfo"]["PurchaseOrderNumber"] and business["ShippingAddress"]["CompanyName"]


def test_address_and_buyer_info_need_an_rdt(client: Client, orders, eu):
    shipped = orders[EU]["shipped"]
    for suffix, operation in (("address", "getOrderAddress"), ("buyerInfo", "getOrderBuyerInfo")):
        response = spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}/{suffix}", eu)
        assert response.status_code == 403
        error = response.json()["errors"][0]
        assert (
            error["code"] == "Unauthorized"
            and operation in error["details"]
            and "Restricted Data Token" in error["details"]
        )
    address = payload(
        spapi_get(
            client,
            "eu",
            f"{ORDERS_V0}/{shipped}/address",
            rdt(client, "eu", eu, f"{ORDERS_V0}/{shipped}/address"),
        )
    )
    assert address["AmazonOrderId"] == shipped
    assert {"Name", "AddressLine1", "PostalCode", "City", "CountryCode"} <= set(address["ShippingAddress"])
    buyer = payload(
        spapi_get(
            client,
            "eu",
            f"{ORDERS_V0}/{shipped}/buyerInfo",
            rdt(client, "eu", eu, f"{ORDERS_V0}/{shipped}/buyerInfo"),
        )
    )
    assert buyer["BuyerEmail"].endswith("@marketplace.amazon.de") and buyer["BuyerName"]
    business = orders[EU]["business"]
    generic = rdt(client, "eu", eu, f"{ORDERS_V0}/{{orderId}}/address")
    address = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{business}/address", generic))
    assert (
        address["BuyerCompanyName"]
        and address["DeliveryPreferences"]["PreferredDeliveryTime"]["BusinessHours"]
    )
    pending = payload(spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['pending']}/address", generic))
    assert pending == {"AmazonOrderId": orders[EU]["pending"]}


def test_an_rdt_opens_only_the_resources_it_lists(client: Client, orders, eu):
    ids = orders[EU]
    one = rdt(client, "eu", eu, f"{ORDERS_V0}/{ids['shipped']}/address")
    for path in (
        f"{ORDERS_V0}/{ids['unshipped']}/address",  # another order
        f"{ORDERS_V0}/{ids['shipped']}/buyerInfo",  # another operation
        f"{ORDERS_V0}/{ids['shipped']}",
        f"{ORDERS_V0}/{ids['shipped']}/orderItems",
    ):
        response = spapi_get(client, "eu", path, one)
        assert response.status_code == 403, path
        assert "does not list the resource" in response.json()["errors"][0]["details"]
    # Not the other APIs either, nor the Tokens API.
    assert spapi_get(client, "eu", f"{ORDERS}/{ids['shipped']}", one).status_code == 403
    assert spapi(client, "eu", "getAccount", one).status_code == 403


def test_an_rdt_is_for_its_seller_and_region(client: Client, sellers, orders, eu):
    generic = rdt(client, "eu", eu, f"{ORDERS_V0}/{{orderId}}/address")
    foreign = orders[NA]["shipped"]
    response = spapi_get(client, "eu", f"{ORDERS_V0}/{foreign}/address", generic)
    assert response.status_code == 404
    response = spapi_get(client, "na", f"{ORDERS_V0}/{foreign}/address", generic)
    assert response.status_code == 403 and "region" in response.json()["errors"][0]["details"]
    fe = tokens_for(client, sellers[FE])["access_token"]
    response = spapi_get(client, "fe", f"{ORDERS_V0}/{orders[FE]['shipped']}/address", generic)
    assert response.status_code == 403
    assert payload(
        spapi_get(
            client,
            "fe",
            f"{ORDERS_V0}/{orders[FE]['shipped']}/address",
            rdt(client, "fe", fe, f"{ORDERS_V0}/{{orderId}}/address"),
        )
    )


def test_an_rdt_lasts_an_hour_and_dies_with_the_authorization(client: Client, sellers, orders, eu):
    shipped = orders[EU]["shipped"]
    token = rdt(client, "eu", eu, f"{ORDERS_V0}/{shipped}/buyerInfo")
    row = SandboxRestrictedDataToken.objects.get()
    assert timedelta(minutes=59) < row.expires_at - row.issued_at <= timedelta(hours=1)
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}/buyerInfo", token).status_code == 200
    SandboxRestrictedDataToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}/buyerInfo", token)
    assert (
        response.status_code == 403
        and "Restricted Data Token you provided has expired" in response.json()["errors"][0]["details"]
    )
    fresh = rdt(client, "eu", eu, f"{ORDERS_V0}/{shipped}/buyerInfo")
    sellers[EU].revoke_app_authorization()
    response = spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}/buyerInfo", fresh)
    assert response.status_code == 403 and "revoked" in response.json()["errors"][0]["details"]
    response = spapi_get(client, "eu", f"{ORDERS_V0}/{shipped}/buyerInfo", "Atz.sprdt|forged")
    assert response.status_code == 403


def test_v0_errors(client: Client, orders, eu):
    response = spapi_get(client, "eu", f"{ORDERS_V0}/302-0000000-0000000", eu)
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "NotFound"
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{orders[NA]['shipped']}", eu).status_code == 404
    response = spapi_get(client, "eu", f"{ORDERS_V0}/TEST_CASE_400", eu)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "InvalidInput"
    response = spapi_get(
        client, "eu", f"{ORDERS_V0}/{orders[EU]['shipped']}", eu, {"MarketplaceIds": "A1PA6795UKMFR9"}
    )
    assert response.status_code == 400 and "unexpected" in response.json()["errors"][0]["details"]
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['shipped']}", None).status_code == 403
    for _ in range(30):
        spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['shipped']}/orderItems", eu)
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['shipped']}/orderItems", eu).status_code == 429
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['shipped']}", eu).status_code == 200
