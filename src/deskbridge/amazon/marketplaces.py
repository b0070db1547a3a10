"""Amazon's marketplaces and regions: the one source of truth (reference: amazon.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"

    @property
    def label(self) -> str:
        return str(REGION_LABELS[self])

    @property
    def spapi_endpoint(self) -> str:
        return f"https://sellingpartnerapi-{self.value.lower()}.amazon.com"

    @property
    def aws_region(self) -> str:
        return {"NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}[self.value]


REGION_LABELS = {Region.NA: _("North America"), Region.EU: _("Europe"), Region.FE: _("Far East")}


@dataclass(frozen=True)
class Marketplace:
    id: str
    region: Region
    country_code: str  # as SP-API spells it today (UK, not GB)
    country: str
    domain: str  # amazon.de
    seller_central: str  # https://sellercentral-europe.amazon.com

    @property
    def relay_domain(self) -> str:
        """Where buyers' anonymised aliases live: marketplace.amazon.de."""
        return f"marketplace.{self.domain}"

    @property
    def spapi_endpoint(self) -> str:
        return self.region.spapi_endpoint

    @property
    def aws_region(self) -> str:
        return self.region.aws_region

    @property
    def messaging_permissions_help_url(self) -> str:
        """Amazon's help on approving a sender (Messaging Permissions), so that replies are accepted."""
        return f"{self.seller_central}/gp/help/external/help.html?itemID=201054220"

    def order_url(self, order_id: str) -> str:
        return f"{self.seller_central}/orders-v3/order/{order_id}"

    @property
    def name(self) -> str:
        return str(COUNTRY_NAMES.get(self.country_code, self.country))


_EUROPE = "https://sellercentral-europe.amazon.com"

MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("A2EUQ1WTGCTBG2", Region.NA, "CA", "Canada", "amazon.ca", "https://sellercentral.amazon.ca"),
    Marketplace(
        "ATVPDKIKX0DER", Region.NA, "US", "United States", "amazon.com", "https://sellercentral.amazon.com"
    ),
    Marketplace(
        "A1AM78C64UM0Y8", Region.NA, "MX", "Mexico", "amazon.com.mx", "https://sellercentral.amazon.com.mx"
    ),
    Marketplace(
        "A2Q3Y263D00KWC", Region.NA, "BR", "Brazil", "amazon.com.br", "https://sellercentral.amazon.com.br"
    ),
    Marketplace("A28R8C7NBKEWEA", Region.EU, "IE", "Ireland", "amazon.ie", _EUROPE),
    Marketplace("A1RKKUPIHCS9HS", Region.EU, "ES", "Spain", "amazon.es", _EUROPE),
    Marketplace("A1F83G8C2ARO7P", Region.EU, "UK", "United Kingdom", "amazon.co.uk", _EUROPE),
    Marketplace("A13V1IB3VIYZZH", Region.EU, "FR", "France", "amazon.fr", _EUROPE),
    Marketplace(
        "AMEN7PMS3EDWL", Region.EU, "BE", "Belgium", "amazon.com.be", "https://sellercentral.amazon.com.be"
    ),
    Marketplace(
        "A1805IZSGTT6HS", Region.EU, "NL", "Netherlands", "amazon.nl", "https://sellercentral.amazon.nl"
    ),
    Marketplace("A1PA6795UKMFR9", Region.EU, "DE", "Germany", "amazon.de", _EUROPE),
    Marketplace("APJ6JRA9NG5V4", Region.EU, "IT", "Italy", "amazon.it", _EUROPE),
    Marketplace("A2NODRKZP88ZB9", Region.EU, "SE", "Sweden", "amazon.se", "https://sellercentral.amazon.se"),
    Marketplace(
        "AE08WJ6YKNBMC", Region.EU, "ZA", "South Africa", "amazon.co.za", "https://sellercentral.amazon.co.za"
    ),
    Marketplace("A1C3SOZRARQ6R3", Region.EU, "PL", "Poland", "amazon.pl", "https://sellercentral.amazon.pl"),
    Marketplace("ARBP9OOSHTCHU", Region.EU, "EG", "Egypt", "amazon.eg", "https://sellercentral.amazon.eg"),
    Marketplace(
        "A33AVAJ2PDY3EV", Region.EU, "TR", "Turkey", "amazon.com.tr", "https://sellercentral.amazon.com.tr"
    ),
    Marketplace(
        "A17E79C6D8DWNP", Region.EU, "SA", "Saudi Arabia", "amazon.sa", "https://sellercentral.amazon.sa"
    ),
    Marketplace(
        "A2VIGQ35RCS4UG",
        Region.EU,
        "AE",
        "United Arab Emirates",
        "amazon.ae",
        "https://sellercentral.amazon.ae",
    ),
    Marketplace("A21TJRUUN4KGV", Region.EU, "IN", "India", "amazon.in", "https://sellercentral.amazon.in"),
    Marketplace(
        "A19VAU5U5O7RUS", Region.FE, "SG", "Singapore", "amazon.sg", "https://sellercentral.amazon.sg"
    ),
    Marketplace(
        "A39IBJ37TRP1C6", Region.FE, "AU", "Australia", "amazon.com.au", "https://sellercentral.amazon.com.au"
    ),
    Marketplace(
        "A1VC38T7YXB528", Region.FE, "JP", "Japan", "amazon.co.jp", "https://sellercentral.amazon.co.jp"
    ),
)

COUNTRY_NAMES = {
    "CA": _("Canada"), "US": _("United States"), "MX": _("Mexico"), "BR": _("Brazil"),
    "IE": _("Ireland"), "ES": _("Spain"), "UK": _("United Kingdom"), "FR": _("France"),
    "BE": _("Belgium"), "NL": _("Netherlands"), "DE": _("Germany"), "IT": _("Italy"),
    "SE": _("Sweden"), "ZA": _("South Africa"), "PL": _("Poland"), "EG": _("Egypt"),
    "TR": _("Turkey"), "SA": _("Saudi Arabia"), "AE": _("United Arab Emirates"), "IN": _("India"),
    "SG": _("Singapore"), "AU": _("Australia"), "JP": _("Japan"),
}  # fmt: skip

BY_ID = {m.id: m for m in MARKETPLACES}
BY_COUNTRY = {m.country_code: m for m in MARKETPLACES} | {"GB": BY_ID["A1F83G8C2ARO7P"]}
BY_RELAY_DOMAIN = {m.relay_domain: m for m in MARKETPLACES}
BY_DOMAIN = {m.domain: m for m in MARKETPLACES}


def in_region(region: Region | str) -> list[Marketplace]:
    return [m for m in MARKETPLACES if m.region == Region(region)]


def by_id(marketplace_id: str) -> Marketplace | None:
    """None for ids we do not know (non-retail channels such as "Non-Amazon" exist)."""
    return BY_ID.get(marketplace_id)


def by_country(code: str) -> Marketplace | None:
    return BY_COUNTRY.get(code.upper())


def by_relay_domain(domain: str) -> Marketplace | None:
    """The marketplace a buyer alias belongs to, from the part after the @."""
    return BY_RELAY_DOMAIN.get(domain.lower().rstrip("."))
