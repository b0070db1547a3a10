"""The sandbox Tokens API: createRestrictedDataToken checks its body against the model, the resources
the sandbox serves and the application's roles, and issues one-hour tokens."""

from __future__ import annotations

import pytest
from django.test import Client

from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.sandbox.conftest import EU, ORDERS_V0, RDT_PATH, rdt_request, spapi_get, tokens_for

pytestmark = pytest.mark.usefixtures("orders")
ADDRESS = {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}/address"}
EVERY_ROLE = (Role.DIRECT_TO_CONSUMER_DELIVERY, Role.TAX_INVOICING, Role.TAX_REMITTANCE)


@pytest.fixture
def eu(client: Client, sellers) -> str:
    return tokens_for(client, sellers[EU])["access_token"]


def test_a_token_for_the_listed_resources(client: Client, eu):
    with granted_roles(*EVERY_ROLE):
        response = rdt_request(
            client,
            "eu",
            eu,
            {
                "restrictedResources": [
                    ADDRESS,
                    {
                        "method": "GET",
                        "path": f"{ORDERS_V0}/302-1234567-1234567",
                        "dataElements": ["buyerInfo"],
                    },
                    {
                        "method": "GET",
                        "path": f"{ORDERS_V0}/{{orderId}}/orderItems",
                        "dataElements": ["buyerInfo"],
                    },
                    {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}/buyerInfo"},
                ]
            },
        )
    assert response.status_code == 200
    assert response["x-amzn-RateLimit-Limit"] == "1" and response["x-amzn-RequestId"]
    body = response.json()
    assert set(body) == {"restrictedDataToken", "expiresIn"}
    assert body["restrictedDataToken"].startswith("Atz.sprdt|") and body["expiresIn"] == 3600


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "restrictedResources is required"),
        ({"restrictedResources": []}, "non-empty"),
        ({"restrictedResources": ADDRESS}, "non-empty list"),
        ({"restrictedResources": [ADDRESS] * 51}, "at most 50"),
        ({"restrictedResources": [ADDRESS], "targetApplication": "amzn1.sellerapps.app.x"}, "delegator"),
        ({"restrictedResources": [ADDRESS], "restrictedResource": []}, "does not define"),
        ([ADDRESS], "JSON object"),
        ({"restrictedResources": [{"path": ADDRESS["path"]}]}, "method is required"),
        ({"restrictedResources": [{"method": "GET"}]}, "path is required"),
        ({"restrictedResources": [{"method": "get", "path": ADDRESS["path"]}]}, "GET, PUT, POST, DELETE"),
        ({"restrictedResources": [{"method": "POST", "path": ADDRESS["path"]}]}, "called with GET"),
        ({"restrictedResources": [{"method": "GET", "path": ""}]}, "resource path"),
        (
            {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders"}]},
            "not a restricted resource",
        ),
        (
            {"restrictedResources": [{"method": "GET", "path": "/mfn/v0/shipments/FBA1234"}]},
            "not a restricted",
        ),
        (
            {"restrictedResources": [{"method": "GET", "path": "/orders/2026-01-01/orders/{orderId}"}]},
            "not a restricted",
        ),
        (
            {"restrictedResources": [{"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}/address/"}]},
            "not a restricted",
        ),
        (
            {"restrictedResources": [{"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}"}]},
            "dataElements is required",
        ),
        (
            {
                "restrictedResources": [
                    {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}", "dataElements": []}
                ]
            },
            "non-empty list",
        ),
        (
            {
                "restrictedResources": [
                    {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}", "dataElements": ["pii"]}
                ]
            },
            "pii not valid",
        ),
        (
            {
                "restrictedResources": [
                    {
                        "method": "GET",
                        "path": f"{ORDERS_V0}/{{orderId}}/orderItems",
                        "dataElements": ["shippingAddress"],
                    }
                ]
            },
            "not valid for getOrderItems",
        ),
        (
            {"restrictedResources": [{**ADDRESS, "dataElements": ["shippingAddress"]}]},
            "only to getOrder and getOrderItems",
        ),
        ({"restrictedResources": [{**ADDRESS, "query": "x"}]}, "does not define: query"),
    ],
)
def test_the_body_is_checked(client: Client, eu, body, says):
    with granted_roles(*EVERY_ROLE):
        response = rdt_request(client, "eu", eu, body)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == (
        "InvalidRequest",
        "Request is missing or has invalid parameters",
    )
    assert says in error["details"]
    assert response["x-amzn-RateLimit-Limit"] == "1"


def test_not_json_is_refused(client: Client, eu):
    response = rdt_request(client, "eu", eu, "{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["errors"][0]["details"]
    response = rdt_request(client, "eu", eu, "")
    assert response.status_code == 400 and "required" in response.json()["errors"][0]["details"]
    response = rdt_request(
        client, "eu", eu, "restrictedResources=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415 and "x-amzn-RateLimit-Limit" not in response
    assert response.json()["errors"][0]["code"] == "UnsupportedMediaType"
    response = client.get("/sandbox/amazon/spapi/eu" + RDT_PATH, headers={"x-amz-access-token": eu})
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_the_data_needs_the_roles(client: Client, eu):
    def ask(*resources):
        return rdt_request(client, "eu", eu, {"restrictedResources": list(resources)})

    buyer_info = {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}", "dataElements": ["buyerInfo"]}
    shipping = {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}", "dataElements": ["shippingAddress"]}
    buyer_op = {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}/buyerInfo"}
    tax_info = {"method": "GET", "path": f"{ORDERS_V0}/{{orderId}}", "dataElements": ["buyerTaxInformation"]}
    for resource in (ADDRESS, buyer_info, shipping, buyer_op, tax_info):
        response = ask(resource)
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["code"] == "InvalidInput"
        assert error["message"] == "Application do not have access to some or all requested resource"
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        assert ask(ADDRESS, shipping).status_code == 200
        assert ask(ADDRESS, buyer_info).status_code == 400
    with granted_roles(Role.TAX_REMITTANCE):
        assert ask(buyer_info, buyer_op).status_code == 200
        assert ask(tax_info).status_code == 400
    with granted_roles(Role.TAX_INVOICING):
        assert ask(tax_info).status_code == 200


def test_who_may_ask(client: Client, sellers, eu):
    response = rdt_request(client, "eu", None, {"restrictedResources": [ADDRESS]})
    assert response.status_code == 403 and "missing" in response.json()["errors"][0]["details"]
    response = rdt_request(client, "na", eu, {"restrictedResources": [ADDRESS]})
    assert response.status_code == 403 and "region" in response.json()["errors"][0]["details"]
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        rdt = rdt_request(client, "eu", eu, {"restrictedResources": [ADDRESS]}).json()["restrictedDataToken"]
        response = rdt_request(client, "eu", rdt, {"restrictedResources": [ADDRESS]})
    assert response.status_code == 403 and "LWA access token" in response.json()["errors"][0]["details"]


def test_the_burst_is_ten(client: Client, orders, eu):
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        for _ in range(10):
            issued = rdt_request(client, "eu", eu, {"restrictedResources": [ADDRESS]})
            assert issued.status_code == 200
        response = rdt_request(client, "eu", eu, {"restrictedResources": [ADDRESS]})
    assert response.status_code == 429 and "x-amzn-RateLimit-Limit" not in response
    assert response.json()["errors"][0]["code"] == "QuotaExceeded"
    # The quota is the Tokens API's: issued tokens still open the Orders API.
    rdt = issued.json()["restrictedDataToken"]
    assert spapi_get(client, "eu", f"{ORDERS_V0}/{orders[EU]['shipped']}/address", rdt).status_code == 200
