"""Contract: every sandbox Sellers API response validates against Amazon's model (tests/contracts).

Schemas are taken from the operation's declared response for the status code, $refs resolved
inside the model. The model's objects allow extra properties; here they do not, so a misspelt
or invented field fails too.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from deskbridge.sandbox.amazon.models import SandboxAccessToken
from deskbridge.sandbox.amazon.sellers import USAGE_PLANS
from tests.sandbox.conftest import EU, FE, NA, REGION_OF, spapi, tokens_for

SPEC_PATH = Path(__file__).resolve().parent.parent / "contracts" / "amazon-sp-api" / "sellers.json"
SPEC = json.loads(SPEC_PATH.read_text())
PATHS = {
    "getMarketplaceParticipations": "/sellers/v1/marketplaceParticipations",
    "getAccount": "/sellers/v1/account",
}
OPERATIONS = list(PATHS)


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


STRICT = {**SPEC, "definitions": _strict(copy.deepcopy(SPEC["definitions"]))}
REGISTRY = Registry().with_resource("urn:sellers", Resource(contents=STRICT, specification=DRAFT4))


def declared(operation: str, status: int) -> dict[str, Any]:
    responses = SPEC["paths"][PATHS[operation]]["get"]["responses"]
    assert str(status) in responses, f"{operation} does not declare HTTP {status}"
    return responses[str(status)]


def validator_for(operation: str, status: int) -> Draft4Validator:
    ref = declared(operation, status)["schema"]["$ref"]
    return Draft4Validator({"$ref": "urn:sellers" + ref}, registry=REGISTRY)


def assert_conforms(operation: str, response) -> None:
    spec = declared(operation, response.status_code)
    validator_for(operation, response.status_code).validate(response.json())
    assert response["Content-Type"].startswith("application/json")
    for header, about in spec.get("headers", {}).items():
        if "no longer returned" in about.get("description", ""):
            assert header not in response, f"{header} is no longer returned with {response.status_code}"
        else:
            assert response.get(header), f"{operation} {response.status_code} lacks {header}"


def test_the_strict_schemas_can_fail():
    good = {
        "payload": [
            {
                "marketplace": {
                    "id": "ATVPDKIKX0DER",
                    "name": "Amazon.com",
                    "countryCode": "US",
                    "defaultCurrencyCode": "USD",
                    "defaultLanguageCode": "en_US",
                    "domainName": "www.amazon.com",
                },
                "participation": {"isParticipating": True, "hasSuspendedListings": False},
                "storeName": "S",
            }
        ]
    }
    validator = validator_for("getMarketplaceParticipations", 200)
    validator.validate(good)
    broken = copy.deepcopy(good)
    del broken["payload"][0]["marketplace"]["defaultCurrencyCode"]
    with pytest.raises(ValidationError):
        validator.validate(broken)
    extra = copy.deepcopy(good)
    extra["payload"][0]["storename"] = "S"
    with pytest.raises(ValidationError):
        validator.validate(extra)
    with pytest.raises(ValidationError):
        validator_for("getAccount", 200).validate(
            {
                "payload": {
                    "businessType": "LLC",
                    "sellingPlan": "PROFESSIONAL",
                    "marketplaceParticipationList": [],
                }
            }
        )


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_usage_plans_are_the_models(operation):
    description = SPEC["paths"][PATHS[operation]]["get"]["description"]
    rate, burst = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", description).groups()
    assert USAGE_PLANS[operation].rate == float(rate)
    assert USAGE_PLANS[operation].burst == int(burst)
    assert USAGE_PLANS[operation].header == rate


@pytest.mark.usefixtures("sellers")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_response_conforms(client: Client, sellers, operation):
    statuses = set()

    def check(response) -> None:
        assert_conforms(operation, response)
        statuses.add(response.status_code)

    for seller_id in (EU, NA, FE):
        token = tokens_for(client, sellers[seller_id])["access_token"]
        check(spapi(client, REGION_OF[seller_id], operation, token))
    token = tokens_for(client, sellers[EU])["access_token"]
    check(spapi(client, "eu", operation, None))  # missing token
    check(spapi(client, "eu", operation, "Atza|nope"))  # unknown token
    check(spapi(client, "na", operation, token))  # another region
    check(spapi(client, "xx", operation, token))  # no such endpoint
    check(spapi(client, "eu", operation, token, data={"unexpected": "1"}))  # a parameter it does not take
    for _ in range(15):
        spapi(client, "eu", operation, token)
    check(spapi(client, "eu", operation, token))  # throttled
    expired = tokens_for(client, sellers[NA])["access_token"]
    SandboxAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    check(spapi(client, "na", operation, expired))
    assert statuses == {200, 400, 403, 404, 429}
