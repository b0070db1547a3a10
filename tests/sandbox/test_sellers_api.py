"""The sandbox Sellers API: what each seeded seller gets, and how tokens, regions and quotas are enforced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon.models import SandboxAccessToken, SandboxRateBucket
from deskbridge.sandbox.amazon.seed import seed_sandbox_sellers
from tests.sandbox.conftest import EU, FE, NA, REGION_OF, spapi, tokens_for

pytestmark = pytest.mark.usefixtures("sellers")

EXPECTED = {
    EU: {
        "DE": (True, False),
        "FR": (True, False),
        "IT": (True, True),
        "ES": (True, False),
        "UK": (True, False),
        "NL": (False, False),
    },
    NA: {"US": (True, False), "CA": (True, False), "MX": (True, False)},
    FE: {"JP": (True, False), "AU": (True, False)},
}
CURRENCY = {
    "DE": "EUR",
    "FR": "EUR",
    "IT": "EUR",
    "ES": "EUR",
    "NL": "EUR",
    "UK": "GBP",
    "US": "USD",
    "CA": "CAD",
    "MX": "MXN",
    "JP": "JPY",
    "AU": "AUD",
}


def assert_denied(response, details: str) -> None:
    assert response.status_code == 403
    assert response["x-amzn-ErrorType"] == "AccessDeniedException"
    assert response["x-amzn-RequestId"]
    assert "x-amzn-RateLimit-Limit" not in response
    assert response.json() == {
        "errors": [
            {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": details}
        ]
    }


@pytest.mark.parametrize("seller_id", [EU, NA, FE])
def test_each_seeded_seller_gets_its_marketplace_participations(client: Client, sellers, seller_id):
    token = tokens_for(client, sellers[seller_id])["access_token"]
    response = spapi(client, REGION_OF[seller_id], "getMarketplaceParticipations", token)
    assert response.status_code == 200
    assert response["x-amzn-RateLimit-Limit"] == "0.016"
    assert response["x-amzn-RequestId"]
    payload = response.json()["payload"]
    seen = {}
    for item in payload:
        market = item["marketplace"]
        catalog = marketplaces.by_id(market["id"])
        assert catalog is not None and catalog.region == sellers[seller_id].region
        assert market["countryCode"] == catalog.country_code
        assert market["domainName"] == "www." + catalog.domain
        assert market["name"].lower() == catalog.domain
        assert market["defaultCurrencyCode"] == CURRENCY[catalog.country_code]
        assert market["defaultLanguageCode"].endswith(
            "_" + ("GB" if catalog.country_code == "UK" else catalog.country_code)
        )
        assert item["storeName"] == sellers[seller_id].store_name
        seen[catalog.country_code] = (
            item["participation"]["isParticipating"],
            item["participation"]["hasSuspendedListings"],
        )
    assert seen == EXPECTED[seller_id]


@pytest.mark.parametrize("seller_id", [EU, NA, FE])
def test_each_seeded_seller_gets_its_account(client: Client, sellers, seller_id):
    token = tokens_for(client, sellers[seller_id])["access_token"]
    response = spapi(client, REGION_OF[seller_id], "getAccount", token)
    assert response.status_code == 200
    assert response["x-amzn-RateLimit-Limit"] == "0.016"
    account = response.json()["payload"]
    assert account["sellingPlan"] == "PROFESSIONAL" and account["businessType"] == "PRIVATE_LIMITED"
    assert account["business"]["name"] == sellers[seller_id].business_name
    assert {m["marketplace"]["countryCode"] for m in account["marketplaceParticipationList"]} == set(
        EXPECTED[seller_id]
    )


def test_seeding_twice_changes_nothing(sellers):
    before = {s: (sellers[s].participations.count(), sellers[s].users.count()) for s in sellers}
    seed_sandbox_sellers()
    assert len(sellers) == 3
    for seller in sellers.values():
        assert (seller.participations.count(), seller.users.count()) == before[seller.selling_partner_id]
        assert (
            seller.users.filter(is_owner=True).count() == 1
            and seller.users.filter(is_owner=False).count() == 1
        )
        assert len(seller.selling_partner_id) in (13, 14) and seller.selling_partner_id.startswith("A")
        assert seller.selling_partner_id.isalnum() and seller.selling_partner_id.isupper()


@pytest.mark.parametrize("operation", ["getMarketplaceParticipations", "getAccount"])
def test_a_missing_token_is_403(client: Client, operation):
    assert_denied(spapi(client, "eu", operation, None), "Access token is missing in the request header.")


@pytest.mark.parametrize("operation", ["getMarketplaceParticipations", "getAccount"])
def test_an_expired_token_is_403(client: Client, sellers, operation):
    token = tokens_for(client, sellers[EU])["access_token"]
    SandboxAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_denied(spapi(client, "eu", operation, token), "The access token you provided has expired.")


def test_an_unknown_or_revoked_token_is_403(client: Client, sellers):
    assert_denied(
        spapi(client, "eu", "getAccount", "Atza|made-up"),
        "The access token you provided is revoked, malformed or invalid.",
    )
    tokens = tokens_for(client, sellers[EU])
    assert_denied(
        spapi(client, "eu", "getAccount", tokens["refresh_token"]),
        "The access token you provided is revoked, malformed or invalid.",
    )
    sellers[EU].revoke_app_authorization()
    assert_denied(
        spapi(client, "eu", "getAccount", tokens["access_token"]),
        "The access token you provided is revoked, malformed or invalid.",
    )


@pytest.mark.parametrize(("seller_id", "region"), [(EU, "na"), (NA, "fe"), (FE, "eu")])
def test_a_token_from_another_region_is_403(client: Client, sellers, seller_id, region):
    token = tokens_for(client, sellers[seller_id])["access_token"]
    response = spapi(client, region, "getMarketplaceParticipations", token)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"
    assert "region" in response.json()["errors"][0]["details"]


def test_an_unknown_region_is_404(client: Client, sellers):
    token = tokens_for(client, sellers[EU])["access_token"]
    response = spapi(client, "EU", "getAccount", token)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NotFound"


def test_the_burst_is_spent_then_429_quota_exceeded(client: Client, sellers):
    token = tokens_for(client, sellers[EU])["access_token"]
    for _ in range(15):
        assert spapi(client, "eu", "getMarketplaceParticipations", token).status_code == 200
    throttled = spapi(client, "eu", "getMarketplaceParticipations", token)
    assert throttled.status_code == 429
    assert throttled["x-amzn-RequestId"]
    assert throttled.json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    # Buckets are per operation and per seller.
    assert spapi(client, "eu", "getAccount", token).status_code == 200
    other = tokens_for(client, sellers[NA])["access_token"]
    assert spapi(client, "na", "getMarketplaceParticipations", other).status_code == 200
    # A new access token of the same seller and application shares the bucket.
    again = tokens_for(client, sellers[EU])["access_token"]
    assert spapi(client, "eu", "getMarketplaceParticipations", again).status_code == 429


def test_the_bucket_refills_at_the_documented_rate(client: Client, sellers):
    token = tokens_for(client, sellers[EU])["access_token"]
    for _ in range(15):
        spapi(client, "eu", "getAccount", token)
    assert spapi(client, "eu", "getAccount", token).status_code == 429
    # 0.016 requests per second: one new token after 62.5 s, not after 55 s.
    SandboxRateBucket.objects.update(updated_at=timezone.now() - timedelta(seconds=55))
    assert spapi(client, "eu", "getAccount", token).status_code == 429
    SandboxRateBucket.objects.update(updated_at=timezone.now() - timedelta(seconds=63))
    assert spapi(client, "eu", "getAccount", token).status_code == 200
    assert spapi(client, "eu", "getAccount", token).status_code == 429


def test_parameters_or_a_body_are_refused(client: Client, sellers):
    token = tokens_for(client, sellers[EU])["access_token"]
    response = spapi(client, "eu", "getAccount", token, data={"marketplaceIds": "A1PA6795UKMFR9"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"
    response = client.generic(
        "GET",
        "/sandbox/amazon/spapi/eu/sellers/v1/account",
        b"{}",
        content_type="application/json",
        headers={"x-amz-access-token": token},
    )
    assert response.status_code == 400
    assert "Body" in response.json()["errors"][0]["details"]


def test_only_get_is_allowed(client: Client, sellers):
    token = tokens_for(client, sellers[EU])["access_token"]
    response = client.post(
        "/sandbox/amazon/spapi/eu/sellers/v1/account", headers={"x-amz-access-token": token}
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET"
