"""Contract: the sandbox Orders (v2026-01-01 and v0) and Tokens APIs against Amazon's models.

Every response the emulators give, success or error, validates against the model's declared schema
for its status (made strict: tests/sandbox/contract.py), with the declared headers. The emulators'
own request checks are the models' parameter definitions: a test walks each operation's parameters
and checks that every one is known, that a bad enum value, type or count is refused, and that the
models' own sandbox examples get the status and error code the model gives them.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from jsonschema.exceptions import ValidationError

from deskbridge.sandbox.amazon import orders as orders_api
from deskbridge.sandbox.amazon import orders_v0, rdt, tokens_api
from deskbridge.sandbox.amazon.models import SandboxAccessToken, SandboxRateBucket
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.sandbox.conftest import EU, FE, NA, REGION_OF, rdt_request, spapi_get, tokens_for
from tests.sandbox.contract import model

V2026 = model("orders_2026-01-01.json")
V0 = model("ordersV0.json")
TOKENS = model("tokens_2021-03-01.json")
EVERY_ROLE = (Role.DIRECT_TO_CONSUMER_DELIVERY, Role.TAX_INVOICING, Role.TAX_REMITTANCE)
EMULATED = [
    (V2026, "getOrder", orders_api.USAGE_PLANS),
    (V2026, "searchOrders", orders_api.USAGE_PLANS),
    (V0, "getOrder", orders_v0.USAGE_PLANS),
    (V0, "getOrderItems", orders_v0.USAGE_PLANS),
    (V0, "getOrderAddress", orders_v0.USAGE_PLANS),
    (V0, "getOrderBuyerInfo", orders_v0.USAGE_PLANS),
    (TOKENS, "createRestrictedDataToken", tokens_api.USAGE_PLANS),
]
QUERY_PARAMS = {
    (V2026.filename, "getOrder"): orders_api.GET_ORDER_PARAMS,
    (V2026.filename, "searchOrders"): orders_api.SEARCH_ORDERS_PARAMS,
    (V0.filename, "getOrder"): (),
    (V0.filename, "getOrderItems"): orders_v0.ITEMS_PARAMS,
    (V0.filename, "getOrderAddress"): (),
    (V0.filename, "getOrderBuyerInfo"): (),
}
ids = pytest.mark.parametrize(
    ("api", "operation"),
    [(m, op) for m, op, _ in EMULATED if op != "createRestrictedDataToken"],
    ids=lambda value: getattr(value, "filename", value),
)


def fill(path: str, order_id: str) -> str:
    return path.replace("{orderId}", order_id)


def fresh_quota() -> None:
    SandboxRateBucket.objects.all().delete()


def a_month_ago() -> str:
    return (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("api", "operation", "plans"), EMULATED, ids=lambda v: getattr(v, "filename", None))
def test_the_usage_plans_are_the_models(api, operation, plans):
    rate, burst = api.usage_plan(operation)
    assert plans[operation].rate == float(rate)
    assert plans[operation].burst == burst
    assert plans[operation].header == rate


def test_the_strict_schemas_can_fail():
    order = {
        "orderId": "302-1234567-1234567",
        "createdTime": "2026-01-01T00:00:00Z",
        "lastUpdatedTime": "2026-01-01T00:00:00Z",
        "salesChannel": {"channelName": "AMAZON"},
        "orderItems": [{"orderItemId": "1", "quantityOrdered": 1, "product": {"asin": "B0"}}],
    }
    V2026.validator("getOrder", 200).validate({"order": order})
    for broken in (
        {**order, "buyerEmail": "x@marketplace.amazon.de"},  # not where the model has it
        {**order, "createdTime": "yesterday"},
        {key: value for key, value in order.items() if key != "salesChannel"},
        {**order, "fulfillment": {"fulfilledBy": "AMAZON"}},  # fulfillmentStatus is required
    ):
        with pytest.raises(ValidationError):
            V2026.validator("getOrder", 200).validate({"order": broken})
    with pytest.raises(ValidationError):
        V2026.validator("searchOrders", 200).validate({"orders": [order], "nextToken": "x"})
    with pytest.raises(ValidationError):
        V0.validator("getOrder", 200).validate({"payload": {"AmazonOrderId": "x", "OrderStatus": "Shipped"}})
    with pytest.raises(ValidationError):
        TOKENS.validator("createRestrictedDataToken", 200).validate(
            {"restrictedDataToken": "x", "expiresIn": "3600"}
        )


def _examples(api, operation: str):
    for status, response in api.operation(operation)["responses"].items():
        for example in response.get("x-amzn-api-sandbox", {}).get("static", []):
            yield int(status), example
    for status, response in api.operation(operation)["responses"].items():
        for body in response.get("examples", {}).values():
            yield int(status), {"response": body}


@pytest.mark.parametrize(("api", "operation", "plans"), EMULATED, ids=lambda v: getattr(v, "filename", None))
def test_the_models_own_examples_pass_the_strict_schemas(api, operation, plans):
    """The strict schemas are not stricter than Amazon: its own examples pass them."""
    seen = 0
    for status, example in _examples(api, operation):
        api.validator(operation, status).validate(example["response"])
        seen += 1
    assert seen


# Every response conforms ---------------------------------------------------------------------------


class Recorder:
    def __init__(self, api, operation: str) -> None:
        self.api, self.operation, self.statuses = api, operation, set()

    def __call__(self, response):
        self.api.assert_conforms(self.operation, response)
        self.statuses.add(response.status_code)
        return response


@pytest.mark.usefixtures("orders")
@pytest.mark.parametrize("seller_id", [EU, NA, FE])
def test_every_v2026_get_order_response_conforms(client: Client, sellers, orders, seller_id):
    check = Recorder(V2026, "getOrder")
    region = REGION_OF[seller_id]
    token = tokens_for(client, sellers[seller_id])["access_token"]
    path = V2026.path_of("getOrder")
    everything = ",".join(orders_api.INCLUDED_DATA)
    for roles in ((), EVERY_ROLE, (Role.DIRECT_TO_CONSUMER_DELIVERY,), (Role.TAX_REMITTANCE,)):
        with granted_roles(*roles):
            for order_id in orders[seller_id].values():
                fresh_quota()
                for included in (None, everything, "BUYER", "RECIPIENT,PACKAGES"):
                    params = {"includedData": included} if included else {}
                    assert (
                        check(spapi_get(client, region, fill(path, order_id), token, params)).status_code
                        == 200
                    )
    fresh_quota()
    check(spapi_get(client, region, fill(path, "TEST_CASE_400"), token))
    check(
        spapi_get(client, region, fill(path, orders[seller_id]["shipped"]), token, {"includedData": "NOPE"})
    )
    check(spapi_get(client, region, fill(path, "302-0000000-0000000"), token))
    check(spapi_get(client, region, fill(path, orders[EU if seller_id != EU else NA]["shipped"]), token))
    check(spapi_get(client, region, fill(path, orders[seller_id]["shipped"]), None))
    check(spapi_get(client, "xx", fill(path, orders[seller_id]["shipped"]), token))
    for _ in range(31):
        last = spapi_get(client, region, fill(path, orders[seller_id]["shipped"]), token)
    check(last)
    SandboxAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    check(spapi_get(client, region, fill(path, orders[seller_id]["shipped"]), token))
    assert check.statuses == {200, 400, 403, 404, 429}


@pytest.mark.usefixtures("orders")
def test_every_search_orders_response_conforms(client: Client, sellers, orders):
    check = Recorder(V2026, "searchOrders")
    path = V2026.path_of("searchOrders")
    for seller_id in (EU, NA, FE):
        region = REGION_OF[seller_id]
        token = tokens_for(client, sellers[seller_id])["access_token"]
        with granted_roles(*EVERY_ROLE):
            params: dict[str, Any] = {
                "createdAfter": a_month_ago(),
                "maxResultsPerPage": "4",
                "includedData": ",".join(orders_api.INCLUDED_DATA),
            }
            while True:
                body = check(spapi_get(client, region, path, token, params)).json()
                if "pagination" not in body:
                    break
                params["paginationToken"] = body["pagination"]["nextToken"]
        check(spapi_get(client, region, path, token, {"lastUpdatedAfter": a_month_ago()}))
    token = tokens_for(client, sellers[EU])["access_token"]
    fresh_quota()
    check(spapi_get(client, "eu", path, token, {}))
    check(spapi_get(client, "eu", path, token, {"createdAfter": "TEST_CASE_400"}))
    check(spapi_get(client, "eu", path, None, {"createdAfter": a_month_ago()}))
    check(spapi_get(client, "zz", path, token, {"createdAfter": a_month_ago()}))
    for _ in range(20):
        last = spapi_get(client, "eu", path, token, {"createdAfter": a_month_ago()})
    check(last)
    assert check.statuses == {200, 400, 403, 404, 429}


@pytest.mark.usefixtures("orders")
@pytest.mark.parametrize("operation", ["getOrder", "getOrderItems", "getOrderAddress", "getOrderBuyerInfo"])
def test_every_v0_response_conforms(client: Client, sellers, orders, operation):
    check = Recorder(V0, operation)
    path = V0.path_of(operation)
    restricted_only = operation in ("getOrderAddress", "getOrderBuyerInfo")
    elements = {
        "getOrder": ["buyerInfo", "shippingAddress", "buyerTaxInformation"],
        "getOrderItems": ["buyerInfo"],
    }
    for seller_id in (EU, NA, FE):
        region = REGION_OF[seller_id]
        token = tokens_for(client, sellers[seller_id])["access_token"]
        resource = {"method": "GET", "path": path}
        if operation in elements:
            resource["dataElements"] = elements[operation]
        with granted_roles(*EVERY_ROLE):
            restricted = rdt_request(client, region, token, {"restrictedResources": [resource]})
        restricted_token = restricted.json()["restrictedDataToken"]
        fresh_quota()
        for order_id in orders[seller_id].values():
            if not restricted_only:
                assert check(spapi_get(client, region, fill(path, order_id), token)).status_code == 200
            assert check(spapi_get(client, region, fill(path, order_id), restricted_token)).status_code == 200
        check(spapi_get(client, region, fill(path, "TEST_CASE_400"), restricted_token))
        check(spapi_get(client, region, fill(path, "302-0000000-0000000"), restricted_token))
        check(spapi_get(client, region, fill(path, orders[seller_id]["shipped"]), None))
        check(
            spapi_get(
                client,
                region,
                fill(path, orders[seller_id]["shipped"]),
                token if restricted_only else "Atz.sprdt|x",
            )
        )
        for _ in range(30):
            last = spapi_get(client, region, fill(path, orders[seller_id]["shipped"]), restricted_token)
        check(last)
    assert check.statuses == {200, 400, 403, 404, 429}


@pytest.mark.usefixtures("orders")
def test_every_tokens_response_conforms(client: Client, sellers):
    check = Recorder(TOKENS, "createRestrictedDataToken")
    token = tokens_for(client, sellers[EU])["access_token"]
    address = {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        check(rdt_request(client, "eu", token, {"restrictedResources": [address]}))
    check(rdt_request(client, "eu", token, {"restrictedResources": [address]}))  # no role
    check(rdt_request(client, "eu", token, {"restrictedResources": []}))
    check(rdt_request(client, "eu", token, "nope", content_type="text/plain"))
    check(rdt_request(client, "eu", None, {"restrictedResources": [address]}))
    check(rdt_request(client, "mars", token, {"restrictedResources": [address]}))
    for _ in range(10):
        last = rdt_request(client, "eu", token, {"restrictedResources": [address]})
    check(last)
    assert check.statuses == {200, 400, 403, 404, 415, 429}


# Requests are checked as the models define their parameters ------------------------------------------


def _emulator_type(spec: dict[str, Any]) -> str:
    if spec["type"] == "string" and spec.get("format") == "date-time":
        return "date-time"
    return spec["type"]


@ids
def test_the_emulator_takes_exactly_the_models_parameters(api, operation):
    spec = [p for p in api.operation(operation)["parameters"] if p["in"] == "query"]
    mine = {p.name: p for p in QUERY_PARAMS[(api.filename, operation)]}
    assert set(mine) == {p["name"] for p in spec}
    for parameter in spec:
        param = mine[parameter["name"]]
        assert param.type == _emulator_type(parameter), parameter["name"]
        assert param.required == parameter.get("required", False)
        if parameter["type"] == "array":
            assert param.enum == tuple(parameter["items"].get("enum", ())), parameter["name"]
            assert param.max_items == parameter.get("maxItems")
    path_params = [p for p in api.operation(operation)["parameters"] if p["in"] == "path"]
    assert [p["name"] for p in path_params] == ([] if operation == "searchOrders" else ["orderId"])
    assert all(p["required"] for p in path_params)


class Probe:
    """Requests to one emulated operation, each with a fresh quota."""

    def __init__(self, client: Client, sellers, orders, api, operation: str) -> None:
        self.client, self.api, self.operation = client, api, operation
        self.seller_id = NA  # the models' examples name NA marketplaces
        self.token = tokens_for(client, sellers[NA])["access_token"]
        self.order_id = orders[NA]["shipped"]
        path = api.path_of(operation)
        if api is V0:
            with granted_roles(*EVERY_ROLE):
                resource: dict[str, Any] = {"method": "GET", "path": path}
                if operation in ("getOrder", "getOrderItems"):
                    resource["dataElements"] = ["buyerInfo"]
                self.token = rdt_request(
                    client, "na", self.token, {"restrictedResources": [resource]}
                ).json()["restrictedDataToken"]
        self.path = path

    def get(self, params: dict[str, Any], order_id: str | None = None):
        fresh_quota()
        return spapi_get(self.client, "na", fill(self.path, order_id or self.order_id), self.token, params)

    def baseline(self, name: str) -> dict[str, str]:
        """What searchOrders needs besides `name` (its description: exactly one of the two Afters)."""
        if self.operation != "searchOrders" or name in ("createdAfter", "lastUpdatedAfter"):
            return {}
        if name.startswith("lastUpdated"):
            return {"lastUpdatedAfter": "2025-01-01T00:00:00Z"}
        return {"createdAfter": "2025-01-01T00:00:00Z"}


def _csv(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def _valid(parameter: dict[str, Any]) -> str:
    if "x-example" in parameter:
        return _csv(parameter["x-example"])
    if parameter["type"] == "array" and parameter["items"].get("enum"):
        return parameter["items"]["enum"][0]
    return "x"


@pytest.mark.usefixtures("orders")
@ids
def test_every_parameter_of_the_model_is_known_and_checked(client: Client, sellers, orders, api, operation):
    probe = Probe(client, sellers, orders, api, operation)
    assert probe.get(probe.baseline("")).status_code == 200
    for parameter in api.operation(operation)["parameters"]:
        name = parameter["name"]
        if parameter["in"] != "query":
            continue
        base = probe.baseline(name)
        # A valid value is taken (a made-up pagination token is refused as a token, not as a parameter).
        response = probe.get({**base, name: _valid(parameter)})
        details = response.json().get("errors", [{}])[0].get("details", "")
        assert "unexpected" not in details, (name, details)
        if name not in ("paginationToken", "NextToken"):
            assert response.status_code == 200, (name, response.content)
        # A bad one is refused, naming the parameter.
        bad = {"array": "NOT_A_VALUE", "integer": "1.5"}.get(parameter["type"])
        if parameter.get("format") == "date-time":
            bad = "yesterday"
        if parameter["type"] == "array" and not parameter["items"].get("enum"):
            bad = None
        if bad is not None:
            response = probe.get({**base, name: bad})
            assert response.status_code == 400, (name, bad)
            assert name in response.json()["errors"][0]["details"]
        if parameter.get("maxItems"):
            response = probe.get({**base, name: ",".join(["ATVPDKIKX0DER"] * (parameter["maxItems"] + 1))})
            assert response.status_code == 400 and "at most" in response.json()["errors"][0]["details"]
        if "between 1 and 100" in parameter.get("description", ""):
            for outside in ("0", "101"):
                assert probe.get({**base, name: outside}).status_code == 400
            assert probe.get({**base, name: "100"}).status_code == 200
    # A parameter the model does not define is refused, as is the required path parameter gone bad.
    response = probe.get({**probe.baseline("x"), "notInTheModel": "1"})
    assert (
        response.status_code == 400 and "unexpected: notInTheModel" in response.json()["errors"][0]["details"]
    )
    if "{orderId}" in probe.path:
        assert probe.get(probe.baseline("x"), order_id="not-an-order").status_code == 400


@pytest.mark.usefixtures("orders")
def test_search_orders_needs_one_of_the_afters_as_its_description_says(client: Client, sellers, orders):
    description = next(
        p["description"] for p in V2026.operation("searchOrders")["parameters"] if p["name"] == "createdAfter"
    )
    assert "You must provide exactly one of `createdAfter` and `lastUpdatedAfter`" in description
    probe = Probe(client, sellers, orders, V2026, "searchOrders")
    assert probe.get({}).status_code == 400
    both = {"createdAfter": "2025-01-01T00:00:00Z", "lastUpdatedAfter": "2025-01-01T00:00:00Z"}
    assert probe.get(both).status_code == 400
    assert probe.get({"createdAfter": "2025-01-01T00:00:00Z"}).status_code == 200
    assert probe.get({"lastUpdatedAfter": "2025-01-01T00:00:00Z"}).status_code == 200


@pytest.mark.usefixtures("orders")
@ids
def test_the_models_sandbox_400_examples_get_their_400(client: Client, sellers, orders, api, operation):
    probe = Probe(client, sellers, orders, api, operation)
    examples = [e for status, e in _examples(api, operation) if status == 400 and "request" in e]
    assert examples
    for example in examples:
        params = {name: value["value"] for name, value in example["request"]["parameters"].items()}
        order_id = params.pop("orderId", None)
        response = probe.get(params, order_id=order_id)
        assert response.status_code == 400, (example, response.content)
        expected, got = example["response"]["errors"][0], response.json()["errors"][0]
        assert (got["code"], got["message"]) == (expected["code"], expected["message"])


def _schema(name: str) -> dict[str, Any]:
    return TOKENS.spec["definitions"][name]


@pytest.mark.usefixtures("orders")
def test_the_tokens_body_is_checked_as_the_model_defines_it(client: Client, sellers):
    token = tokens_for(client, sellers[NA])["access_token"]
    good = {"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["buyerInfo"]}

    def ask(body: Any):
        fresh_quota()
        with granted_roles(*EVERY_ROLE):
            return rdt_request(client, "na", token, body)

    assert ask({"restrictedResources": [good]}).status_code == 200
    request, resource = _schema("CreateRestrictedDataTokenRequest"), _schema("RestrictedResource")
    for required in request["required"]:
        response = ask({})
        assert response.status_code == 400 and required in response.json()["errors"][0]["details"]
    for required in resource["required"]:
        partial = {key: value for key, value in good.items() if key != required}
        response = ask({"restrictedResources": [partial]})
        assert response.status_code == 400 and required in response.json()["errors"][0]["details"]
    for method in resource["properties"]["method"]["enum"]:
        status = ask({"restrictedResources": [{**good, "method": method}]}).status_code
        assert status == (200 if method == "GET" else 400)  # the Orders resources are GETs
    assert ask({"restrictedResources": [{**good, "method": "PATCH"}]}).status_code == 400
    maximum = int(
        re.search(r"Maximum: (\d+)", request["properties"]["restrictedResources"]["description"])[1]
    )
    assert maximum == rdt.MAX_RESOURCES
    assert ask({"restrictedResources": [good] * maximum}).status_code == 200
    assert ask({"restrictedResources": [good] * (maximum + 1)}).status_code == 400
    documented = re.findall(r"\*\*(\w+)\*\*", resource["properties"]["dataElements"]["description"])
    assert tuple(documented) == rdt.DATA_ELEMENTS
    for element in documented:
        assert ask({"restrictedResources": [{**good, "dataElements": [element]}]}).status_code == 200
    assert ask({"restrictedResources": [{**good, "dataElements": ["buyerinfo"]}]}).status_code == 400


@pytest.mark.usefixtures("orders")
def test_the_tokens_models_sandbox_examples(client: Client, sellers):
    token = tokens_for(client, sellers[NA])["access_token"]
    seen = []
    for status, example in _examples(TOKENS, "createRestrictedDataToken"):
        if "request" not in example:
            continue
        body = copy.deepcopy(example["request"]["parameters"]["body"]["value"])
        fresh_quota()
        with granted_roles(*EVERY_ROLE):
            response = rdt_request(client, "na", token, json.dumps(body))
        if "targetApplication" in body:
            # Delegation: the sandbox application is no delegator, so it is refused whatever the example.
            assert response.status_code == 400 and "delegator" in response.json()["errors"][0]["details"]
            assert response.json()["errors"][0]["code"] == "InvalidRequest"
            seen.append("delegation")
            continue
        assert response.status_code == status, (example, response.content)
        if status == 200:
            assert response.json()["expiresIn"] == example["response"]["expiresIn"]
            assert response.json()["restrictedDataToken"].startswith("Atz.sprdt|")
        else:
            assert response.json()["errors"][0]["code"] == example["response"]["errors"][0]["code"]
        seen.append(status)
    assert 200 in seen and "delegation" in seen
