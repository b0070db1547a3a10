"""The Sellers API v1 (models/sellers-api-model/sellers.json): marketplace participations and account."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from deskbridge.sandbox.amazon.models import SandboxParticipation, SandboxSeller
from deskbridge.sandbox.amazon.ratelimit import UsagePlan
from deskbridge.sandbox.amazon.spapi import operation

# The "Usage Plan" tables in the operations' descriptions (a contract test compares them).
USAGE_PLANS = {
    "getMarketplaceParticipations": UsagePlan(rate=0.016, burst=15),
    "getAccount": UsagePlan(rate=0.016, burst=15),
}


def _marketplace(participation: SandboxParticipation) -> dict[str, str]:
    marketplace = participation.marketplace
    return {
        "id": marketplace.id,
        "name": "Amazon" + marketplace.domain.removeprefix("amazon"),  # Amazon.de, Amazon.co.uk
        "countryCode": marketplace.country_code,
        "defaultCurrencyCode": participation.default_currency_code,
        "defaultLanguageCode": participation.default_language_code,
        "domainName": f"www.{marketplace.domain}",
    }


def participation_list(seller: SandboxSeller) -> list[dict[str, Any]]:
    return [
        {
            "marketplace": _marketplace(participation),
            "participation": {
                "isParticipating": participation.is_participating,
                "hasSuspendedListings": participation.has_suspended_listings,
            },
            "storeName": seller.store_name,
        }
        for participation in seller.participations.all()
    ]


@operation("getMarketplaceParticipations", USAGE_PLANS["getMarketplaceParticipations"])
def marketplace_participations(request: HttpRequest, seller: SandboxSeller) -> list[dict[str, Any]]:
    return participation_list(seller)


def _address(seller: SandboxSeller) -> dict[str, str]:
    address = {
        "addressLine1": seller.address_line1,
        "city": seller.city,
        "stateOrProvinceCode": seller.state_or_province_code,
        "postalCode": seller.postal_code,
        "countryCode": seller.country_code,
    }
    return {key: value for key, value in address.items() if value}


@operation("getAccount", USAGE_PLANS["getAccount"])
def account(request: HttpRequest, seller: SandboxSeller) -> dict[str, Any]:
    business: dict[str, Any] = {"name": seller.business_name, "registeredBusinessAddress": _address(seller)}
    if seller.business_name_non_latin:
        business["nonLatinName"] = seller.business_name_non_latin
    if seller.company_registration_number:
        business["companyRegistrationNumber"] = seller.company_registration_number
    return {
        "businessType": seller.business_type,
        "sellingPlan": seller.selling_plan,
        "marketplaceParticipationList": participation_list(seller),
        "business": business,
        "primaryContact": {"name": seller.primary_contact_name, "address": _address(seller)},
    }
