"""Contract: every sandbox Sellers API response validates against Amazon's model (tests/contracts).

The schemas are the model's own, made strict (tests/sandbox/contract.py): a misspelt or invented
field fails too.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from jsonschema.exceptions import ValidationError

from deskbridge.sandbox.amazon.models import SandboxAccessToken
from deskbridge.sandbox.amazon.sellers import USAGE_PLANS
from tests.sandbox.conftest import EU, FE, NA, REGION_OF, spapi, tokens_for
from tests.sandbox.contract import model

SELLERS = model("sellers.json")
OPERATIONS = ["getMarketplaceParticipations", "getAccount"]


def validator_for(operation: str, status: int):
    return SELLERS.validator(operation, status)


def assert_conforms(operation: str, response) -> None:
    SELLERS.assert_conforms(operation, response)


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
    rate, burst = SELLERS.usage_plan(operation)
    assert USAGE_PLANS[operation].rate == float(rate)
    assert USAGE_PLANS[operation].burst == burst
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
