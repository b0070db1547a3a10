"""The sandbox's seller accounts: one per region, each with an owner and an admin login (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.hashers import make_password
from django.db import transaction

from deskbridge.amazon import marketplaces

# Every sandbox login uses this password: the sign-in page shows it, as a sandbox should.
SANDBOX_PASSWORD = "amazon-sandbox"  # noqa: S105 (published on purpose)

# Currency and language the Sellers API reports per marketplace (not part of the catalog).
MARKETPLACE_LOCALES: dict[str, tuple[str, str]] = {
    "US": ("USD", "en_US"),
    "CA": ("CAD", "en_CA"),
    "MX": ("MXN", "es_MX"),
    "UK": ("GBP", "en_GB"),
    "DE": ("EUR", "de_DE"),
    "FR": ("EUR", "fr_FR"),
    "IT": ("EUR", "it_IT"),
    "ES": ("EUR", "es_ES"),
    "NL": ("EUR", "nl_NL"),
    "JP": ("JPY", "ja_JP"),
    "AU": ("AUD", "en_AU"),
}


@dataclass(frozen=True)
class SeedParticipation:
    country: str
    participating: bool = True
    suspended: bool = False


@dataclass(frozen=True)
class SeedUser:
    email: str
    name: str
    is_owner: bool
    phone_last_digits: str


@dataclass(frozen=True)
class SeedSeller:
    selling_partner_id: str
    region: marketplaces.Region
    store_name: str
    business_name: str
    address: dict[str, str]
    primary_contact_name: str
    participations: tuple[SeedParticipation, ...]
    users: tuple[SeedUser, ...]
    extra: dict[str, str] = field(default_factory=dict)


SELLERS: tuple[SeedSeller, ...] = (
    SeedSeller(
        selling_partner_id="A2SNDBXEU00001",
        region=marketplaces.Region.EU,
        store_name="Lindqvist Home",
        business_name="Lindqvist Home GmbH",
        address={
            "address_line1": "Torstraße 140",
            "city": "Berlin",
            "postal_code": "10119",
            "country_code": "DE",
        },
        primary_contact_name="Greta Lindqvist",
        participations=(
            SeedParticipation("DE"),
            SeedParticipation("FR"),
            SeedParticipation("IT", suspended=True),
            SeedParticipation("ES"),
            SeedParticipation("UK"),
            # Listed but not sold in: clients must read isParticipating, not just the list.
            SeedParticipation("NL", participating=False),
        ),
        users=(
            SeedUser("owner.eu@sandbox-seller.example", "Greta Lindqvist", True, "42"),
            SeedUser("admin.eu@sandbox-seller.example", "Jonas Weber", False, "17"),
        ),
        extra={"company_registration_number": "HRB 210987 B"},
    ),
    SeedSeller(
        selling_partner_id="A2SNDBXNA00001",
        region=marketplaces.Region.NA,
        store_name="Maple & Pine Goods",
        business_name="Maple and Pine Goods LLC",
        address={
            "address_line1": "1200 Western Ave",
            "city": "Seattle",
            "state_or_province_code": "WA",
            "postal_code": "98101",
            "country_code": "US",
        },
        primary_contact_name="Dana Whitfield",
        participations=(SeedParticipation("US"), SeedParticipation("CA"), SeedParticipation("MX")),
        users=(
            SeedUser("owner.na@sandbox-seller.example", "Dana Whitfield", True, "08"),
            SeedUser("admin.na@sandbox-seller.example", "Luis Ortega", False, "63"),
        ),
    ),
    SeedSeller(
        selling_partner_id="A2SNDBXFE00001",
        region=marketplaces.Region.FE,
        store_name="Sakura Trading",
        business_name="Sakura Trading K.K.",
        address={
            "address_line1": "2-11-3 Meguro",
            "city": "Tokyo",
            "state_or_province_code": "13",
            "postal_code": "153-0063",
            "country_code": "JP",
        },
        primary_contact_name="Haruto Sato",
        participations=(SeedParticipation("JP"), SeedParticipation("AU")),
        users=(
            SeedUser("owner.fe@sandbox-seller.example", "Haruto Sato", True, "31"),
            SeedUser("admin.fe@sandbox-seller.example", "Olivia Brown", False, "75"),
        ),
        extra={"business_name_non_latin": "さくら商事株式会社"},
    ),
)


@cache
def _password_hash() -> str:
    # Hashing is deliberately slow; the sandbox's one published password is hashed once per process.
    return make_password(SANDBOX_PASSWORD)


def seed_sandbox_sellers(apps: Any = None) -> list[str]:
    """Create or refresh the sandbox sellers; returns their selling partner ids.

    `apps` is a migration's app registry when a data migration calls this."""
    registry = apps or global_apps
    Seller = registry.get_model("sandbox", "SandboxSeller")
    User = registry.get_model("sandbox", "SandboxSellerUser")
    Participation = registry.get_model("sandbox", "SandboxParticipation")
    with transaction.atomic():
        for spec in SELLERS:
            seller, _ = Seller.objects.update_or_create(
                selling_partner_id=spec.selling_partner_id,
                defaults={
                    "region": spec.region.value,
                    "store_name": spec.store_name,
                    "business_name": spec.business_name,
                    "primary_contact_name": spec.primary_contact_name,
                    **spec.address,
                    **spec.extra,
                },
            )
            for user in spec.users:
                User.objects.update_or_create(
                    email=user.email,
                    defaults={
                        "seller": seller,
                        "name": user.name,
                        "is_owner": user.is_owner,
                        "phone_last_digits": user.phone_last_digits,
                    },
                    create_defaults={
                        "seller": seller,
                        "name": user.name,
                        "is_owner": user.is_owner,
                        "phone_last_digits": user.phone_last_digits,
                        "password": _password_hash(),
                    },
                )
            for participation in spec.participations:
                marketplace = marketplaces.by_country(participation.country)
                if marketplace is None or marketplace.region != spec.region:
                    raise LookupError(f"no {spec.region} marketplace {participation.country} in the catalog")
                currency, language = MARKETPLACE_LOCALES[marketplace.country_code]
                Participation.objects.update_or_create(
                    seller=seller,
                    marketplace_id=marketplace.id,
                    defaults={
                        "is_participating": participation.participating,
                        "has_suspended_listings": participation.suspended,
                        "default_currency_code": currency,
                        "default_language_code": language,
                    },
                )
    return [spec.selling_partner_id for spec in SELLERS]


def sandbox_logins() -> list[dict[str, str]]:
    """What the sign-in page and the sandbox's front page list."""
    return [
        {
            "selling_partner_id": spec.selling_partner_id,
            "store_name": spec.store_name,
            "region": spec.region.value,
            "region_label": spec.region.label,
            "email": user.email,
            "password": SANDBOX_PASSWORD,
            "role": "owner" if user.is_owner else "admin",
        }
        for spec in SELLERS
        for user in spec.users
    ]


def seed_sandbox_amazon(apps: Any = None) -> list[str]:
    """Everything the sandbox Amazon starts with: the sellers, then their orders (orders_seed).

    Idempotent, like its parts; returns the seeded order ids."""
    from deskbridge.sandbox.amazon.orders_seed import seed_sandbox_orders  # it builds on this module

    with transaction.atomic():
        seed_sandbox_sellers(apps)
        return seed_sandbox_orders(apps)
