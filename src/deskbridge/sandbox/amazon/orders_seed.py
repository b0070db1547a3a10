"""The sandbox sellers' orders: one of every kind a helpdesk meets, for each seller (idempotent).

Each seller gets nine orders (KINDS): shipped with tracking, unshipped Prime with a gift message,
partially shipped, pending, cancelled at the buyer's request, fulfilled by Amazon, Amazon Business,
multi-item in two packages, and a replacement for the shipped one. Order ids are Amazon's 3-7-7
with the prefixes seen per marketplace (111-114 US, 702 CA, 701 MX, 302-306 DE, 202-206 UK,
405 FR, 403 ES, 406 IT, 503 JP, 250 AU), the same on every installation. Each order's buyer has a
relay alias at the marketplace's relay domain, the one the sandbox's buyer messages about that order
come from (mail.buyer_alias); the replacement belongs to the buyer of the order it replaces.

Times are relative to the first seeding: seeding again keeps them (and rewrites everything else).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps as global_apps
from django.db import transaction
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.amazon.marketplaces import Marketplace
from deskbridge.sandbox.amazon import mail
from deskbridge.sandbox.amazon.seed import SELLERS, SeedSeller

# The order of KINDS is the order sandbox_order_ids lists them in.
KINDS: dict[str, tuple[str, ...]] = {
    "shipped": ("fbm", "shipped", "tracking", "promotion", "customization"),
    "unshipped": ("fbm", "unshipped", "prime", "gift"),
    "partially-shipped": ("fbm", "partially-shipped", "multi-item", "tracking"),
    "pending": ("fbm", "pending"),
    "cancelled": ("fbm", "cancelled", "buyer-requested-cancel"),
    "fba": ("fba", "shipped", "prime", "multi-item"),
    "business": ("fbm", "shipped", "business", "tracking"),
    "multi-item": ("fbm", "shipped", "multi-item", "tracking", "two-packages"),
    "replacement": ("fbm", "unshipped", "replacement"),
}

ORDER_PREFIXES = {
    "US": ("111", "112", "113", "114"),
    "CA": ("702",),
    "MX": ("701",),
    "DE": ("302", "303", "304", "305", "306"),
    "UK": ("202", "203", "204", "205", "206"),
    "FR": ("405",),
    "ES": ("403",),
    "IT": ("406",),
    "JP": ("503",),
    "AU": ("250",),
}
CURRENCIES = {
    "US": ("USD", "1"),
    "CA": ("CAD", "1.35"),
    "MX": ("MXN", "17.5"),
    "UK": ("GBP", "0.8"),
    "DE": ("EUR", "0.92"),
    "FR": ("EUR", "0.92"),
    "ES": ("EUR", "0.92"),
    "IT": ("EUR", "0.92"),
    "JP": ("JPY", "150"),
    "AU": ("AUD", "1.5"),
}
TAX_RATES = {
    "US": "0.08",
    "CA": "0.13",
    "MX": "0.16",
    "UK": "0.20",
    "DE": "0.19",
    "FR": "0.20",
    "ES": "0.21",
    "IT": "0.22",
    "JP": "0.10",
    "AU": "0.10",
}
# ISO 3166-1 for addresses: the marketplace code UK is GB there.
ADDRESS_COUNTRY = {"UK": "GB"}
SURNAMES = {
    "en": ["Carter", "Hughes", "Bennett", "Foster", "Reed", "Porter"],
    "de": ["Becker", "Hoffmann", "Schulz", "Wagner", "Krüger", "Vogel"],
    "fr": ["Martin", "Lefèvre", "Moreau", "Girard", "Roux", "Fontaine"],
    "it": ["Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Greco"],
    "es": ["García", "Martínez", "López", "Sánchez", "Romero", "Navarro"],
    "ja": ["Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto"],
    "pt": ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Costa"],
}
# (addressLine1, city, stateOrRegion, postalCode, phone prefix)
ADDRESSES = {
    "DE": [
        ("Schönhauser Allee 36", "Berlin", "Berlin", "10435", "+49 30 5550"),
        ("Leopoldstraße 72", "München", "Bayern", "80802", "+49 89 5550"),
        ("Venloer Straße 210", "Köln", "Nordrhein-Westfalen", "50823", "+49 221 5550"),
    ],
    "UK": [
        ("14 Canal Street", "Manchester", "Greater Manchester", "M1 3HE", "+44 161 496"),
        ("27 Victoria Road", "Bristol", "Bristol", "BS8 1AB", "+44 117 496"),
    ],
    "FR": [("18 Rue de la République", "Lyon", "Auvergne-Rhône-Alpes", "69002", "+33 4 72 55")],
    "ES": [("Calle de Alcalá 120", "Madrid", "Madrid", "28009", "+34 915 55")],
    "IT": [("Via Torino 45", "Milano", "Lombardia", "20123", "+39 02 5550")],
    "US": [
        ("1458 Maple Avenue", "Portland", "OR", "97205", "+1 503-555"),
        ("320 W Elm Street", "Austin", "TX", "78701", "+1 512-555"),
        ("77 Harbor View Drive", "Tacoma", "WA", "98402", "+1 253-555"),
    ],
    "CA": [("455 Rue Sainte-Catherine O", "Montréal", "QC", "H3B 1A6", "+1 514-555")],
    "MX": [("Av. Insurgentes Sur 1235", "Ciudad de México", "CDMX", "03100", "+52 55 5550")],
    "JP": [
        ("神宮前1-2-3", "渋谷区", "東京都", "150-0001", "+81 3-5550"),
        ("中之島2-3-18", "大阪市北区", "大阪府", "530-0005", "+81 6-5550"),
    ],
    "AU": [("25 Bourke Street", "Melbourne", "VIC", "3000", "+61 3 5550")],
}
BUSINESSES = {
    "FR": ("Atelier Morel SARL", "FR40123456789"),
    "US": ("Cascade Dental Group LLC", ""),
    "JP": ("株式会社ミドリ設計", ""),
}
# Base prices in USD; each marketplace's price follows from CURRENCIES.
MAIL_ITEM_CODES = {
    "Organic Cotton Tea Towels, Set of 4, Natural Linen Look": ("TEA-TOWEL-4", "18.99"),
    "Stainless Steel Insulated Water Bottle, 750 ml, Forest Green": ("BOTTLE-750", "24.99"),
    "Beeswax Food Wraps, Assorted Sizes, Pack of 6": ("WRAPS-6", "14.99"),
    "Bamboo Cutting Board with Juice Groove, Large": ("BOARD-L", "29.99"),
    "Wool Felt Laptop Sleeve, 13 inch, Charcoal": ("SLEEVE-13", "34.99"),
}
CATALOG = [
    ("Linen Table Runner, 180 cm, Sage", "RUNNER-SAGE", "27.99"),
    ("Ceramic Pour-Over Coffee Dripper, Size 02, White", "DRIPPER-02", "21.99"),
    ("Cast Iron Trivet, Round, 20 cm", "TRIVET-20", "16.99"),
    ("Cedar Wood Coat Hooks, Set of 3", "HOOKS-3", "22.99"),
    ("Enamel Camping Mug, 350 ml, Speckled Blue", "MUG-350", "12.99"),
]
PROMOTIONS = {"EU": "LH-WINTER-10", "NA": "MP-WELCOME-10", "FE": "ST-HATSUURI-10"}


@dataclass(frozen=True)
class SellerSetup:
    sku_prefix: str
    home: str  # the country the seller ships from
    warehouse: dict[str, str]  # a MerchantAddress
    # (carrier, domestic service, international service, tracking number style) x 2
    carriers: tuple[tuple[str, str, str, str], ...]
    placement: dict[str, str]  # kind -> marketplace country


SETUPS = {
    "A2SNDBXEU00001": SellerSetup(
        sku_prefix="LH",
        home="DE",
        warehouse={
            "name": "Lindqvist Home Lager",
            "addressLine1": "Am Borsigturm 100",
            "city": "Berlin",
            "stateOrRegion": "Berlin",
            "postalCode": "13507",
            "countryCode": "DE",
        },
        carriers=(
            ("DHL", "DHL Paket", "DHL Paket International", "dhl"),
            ("Hermes", "Hermes Paket", "Hermes International", "digits"),
        ),
        placement={
            "shipped": "DE",
            "unshipped": "DE",
            "partially-shipped": "DE",
            "pending": "DE",
            "cancelled": "IT",
            "fba": "UK",
            "business": "FR",
            "multi-item": "ES",
            "replacement": "DE",
        },
    ),
    "A2SNDBXNA00001": SellerSetup(
        sku_prefix="MP",
        home="US",
        warehouse={
            "name": "Maple & Pine Fulfillment",
            "addressLine1": "4400 E Marginal Way S",
            "city": "Seattle",
            "stateOrRegion": "WA",
            "postalCode": "98134",
            "countryCode": "US",
        },
        carriers=(
            ("UPS", "UPS Ground", "UPS Standard", "ups"),
            ("USPS", "USPS Ground Advantage", "USPS Priority Mail International", "usps"),
        ),
        placement={
            "shipped": "US",
            "unshipped": "US",
            "partially-shipped": "US",
            "pending": "US",
            "cancelled": "CA",
            "fba": "CA",
            "business": "US",
            "multi-item": "MX",
            "replacement": "US",
        },
    ),
    "A2SNDBXFE00001": SellerSetup(
        sku_prefix="ST",
        home="JP",
        warehouse={
            "name": "さくら商事 平和島倉庫",
            "addressLine1": "平和島3-5-1",
            "city": "大田区",
            "stateOrRegion": "東京都",
            "postalCode": "143-0006",
            "countryCode": "JP",
        },
        carriers=(
            ("Yamato Transport", "TA-Q-BIN", "International TA-Q-BIN", "digits"),
            ("Japan Post", "Yu-Pack", "EMS", "ems"),
        ),
        placement={
            "shipped": "JP",
            "unshipped": "JP",
            "partially-shipped": "JP",
            "pending": "JP",
            "cancelled": "JP",
            "fba": "AU",
            "business": "JP",
            "multi-item": "AU",
            "replacement": "JP",
        },
    ),
}

# How long ago each kind was ordered, and last updated.
AGES: dict[str, tuple[timedelta, timedelta]] = {
    "shipped": (timedelta(days=6), timedelta(days=3)),
    "unshipped": (timedelta(hours=20), timedelta(hours=19)),
    "partially-shipped": (timedelta(days=2), timedelta(days=1)),
    "pending": (timedelta(hours=3), timedelta(hours=3)),
    "cancelled": (timedelta(days=3), timedelta(days=3) - timedelta(hours=1)),
    "fba": (timedelta(days=9), timedelta(days=7)),
    "business": (timedelta(days=12), timedelta(days=9)),
    "multi-item": (timedelta(days=15), timedelta(days=11)),
    "replacement": (timedelta(days=1), timedelta(days=1)),
}


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(("sandbox-order", *parts)).encode()).digest()


def _digits(data: bytes, count: int) -> str:
    return str(int.from_bytes(data, "big")).zfill(count)[-count:]


def order_id_for(selling_partner_id: str, kind: str) -> str:
    """The seeded order id of a seller's order of one kind: the same on every installation."""
    country = SETUPS[selling_partner_id].placement[kind]
    digest = _digest(selling_partner_id, kind)
    prefixes = ORDER_PREFIXES[country]
    middle, last = _digits(digest[:12], 7), _digits(digest[12:24], 7)
    return f"{prefixes[digest[24] % len(prefixes)]}-{middle}-{last}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Order:
    """Builds one order's columns and details; every figure follows from the seller and kind."""

    def __init__(self, seller: SeedSeller, kind: str, anchor: datetime) -> None:
        self.seller_id = seller.selling_partner_id
        self.setup = SETUPS[self.seller_id]
        self.kind = kind
        self.region = seller.region.value
        self.country = self.setup.placement[kind]
        found = marketplaces.by_country(self.country)
        if found is None or found.region != seller.region:
            raise LookupError(f"no {seller.region} marketplace {self.country} in the catalog")
        self.marketplace: Marketplace = found
        self.order_id = order_id_for(self.seller_id, kind)
        self.currency, factor = CURRENCIES[self.country]
        self.factor = Decimal(factor)
        self.tax_rate = Decimal(TAX_RATES[self.country])
        age, updated = AGES[kind]
        self.created = anchor - age
        self.updated = anchor - updated
        self.international = self.country != self.setup.home
        # The replacement goes to the buyer of the order it replaces, for the same product.
        self.buyer_order = order_id_for(self.seller_id, "shipped") if kind == "replacement" else self.order_id
        self.language = mail.default_language(self.marketplace)
        self._items = 0

    # Money --------------------------------------------------------------------------------------
    def _quantum(self) -> Decimal:
        return Decimal("1") if self.currency == "JPY" else Decimal("0.01")

    def price(self, base: str) -> Decimal:
        converted = Decimal(base) * self.factor
        if self.currency == "JPY":
            return (converted / 10).quantize(Decimal("1"), ROUND_HALF_UP) * 10
        return converted.quantize(Decimal("1"), ROUND_HALF_UP) - Decimal("0.01")

    def money(self, amount: Decimal) -> dict[str, str]:
        return {"amount": str(amount.quantize(self._quantum(), ROUND_HALF_UP)), "currencyCode": self.currency}

    # People and places ----------------------------------------------------------------------------
    def buyer_name(self) -> str:
        first = mail.buyer_name(self.seller_id, self.buyer_order, self.language)
        surnames = SURNAMES[self.language]
        return f"{first} {surnames[_digest('surname', self.buyer_order)[0] % len(surnames)]}"

    def delivery_address(self, company: str = "") -> dict[str, str]:
        pool = ADDRESSES[self.country]
        line1, city, state, postal, phone = pool[_digest("address", self.buyer_order)[0] % len(pool)]
        address = {"name": self.buyer_name()}
        if company:
            address["companyName"] = company
        address |= {
            "addressLine1": line1,
            "city": city,
            "stateOrRegion": state,
            "postalCode": postal,
            "countryCode": ADDRESS_COUNTRY.get(self.country, self.country),
            "phone": f"{phone} {_digits(_digest('phone', self.buyer_order), 4)}",
            "addressType": "COMMERCIAL" if company else "RESIDENTIAL",
        }
        return address

    # Items --------------------------------------------------------------------------------------
    def item(
        self,
        product: tuple[str, str, str, str],
        quantity: int,
        *,
        shipped: int = 0,
        priced: bool = True,
        free: bool = False,
        discount: Decimal | None = None,
        business: bool = False,
        shipping: bool = True,
    ) -> dict[str, Any]:
        self._items += 1
        asin, title, code, base = product
        item: dict[str, Any] = {
            "orderItemId": _digits(_digest("item", self.order_id, str(self._items)), 14),
            "quantityOrdered": quantity,
            "product": {
                "asin": asin,
                "title": title,
                "sellerSku": f"{self.setup.sku_prefix}-{code}",
                "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
            },
            "fulfillment": {"quantityFulfilled": shipped, "quantityUnfulfilled": quantity - shipped},
        }
        if not priced:  # pending (and cancelled) orders carry no prices (ordersV0 getOrderItems)
            return item
        unit = Decimal(0) if free else self.price(base)
        if business:
            unit = (unit * Decimal("0.9")).quantize(self._quantum(), ROUND_HALF_UP)
        item["product"]["price"] = {"unitPrice": self.money(unit)}
        if business:
            item["product"]["price"]["priceDesignation"] = "BUSINESS_PRICE"
        subtotal = unit * quantity
        ship = Decimal(0) if free or not shipping else self.price("4.99")
        item_tax = (subtotal * self.tax_rate).quantize(self._quantum(), ROUND_HALF_UP)
        ship_tax = (ship * self.tax_rate).quantize(self._quantum(), ROUND_HALF_UP)
        breakdowns: list[dict[str, Any]] = [{"type": "ITEM", "subtotal": self.money(subtotal)}]
        if ship:
            breakdowns.append({"type": "SHIPPING", "subtotal": self.money(ship)})
        tax_details = [{"subtype": "ITEM", "value": self.money(item_tax)}]
        if ship:
            tax_details.append({"subtype": "SHIPPING", "value": self.money(ship_tax)})
        breakdowns.append(
            {"type": "TAX", "subtotal": self.money(item_tax + ship_tax), "detailedBreakdowns": tax_details}
        )
        total = subtotal + ship + item_tax + ship_tax
        if discount:
            breakdowns.append(
                {
                    "type": "DISCOUNT",
                    "subtotal": self.money(-discount),
                    "detailedBreakdowns": [{"subtype": "ITEM", "value": self.money(-discount)}],
                }
            )
            total -= discount
        item["proceeds"] = {"proceedsTotal": self.money(total), "breakdowns": breakdowns}
        if self.country == "US":
            item["tax"] = {
                "taxCollections": [
                    {"model": "MARKETPLACE_FACILITATOR", "responsibleParty": "Amazon Services, Inc."}
                ]
            }
        elif self.region == "EU" and self.international and self.country != "UK":
            item["tax"] = {"taxCalculationBreakdowns": [{"reportingScheme": "UOSS"}]}
        if self.currency == "JPY":
            points = int(subtotal / 100)
            item["expense"] = {
                "pointsCost": {
                    "pointsGranted": {
                        "pointsNumber": points,
                        "pointsMonetaryValue": self.money(Decimal(points)),
                    }
                }
            }
        return item

    def mail_product(self) -> tuple[str, str, str, str]:
        """The product the sandbox's buyer messages about this order name: ASIN, title, SKU code, price."""
        asin, title = mail.order_item(self.seller_id, self.buyer_order)
        return asin, title, *MAIL_ITEM_CODES[title]

    def catalog_product(self, index: int) -> tuple[str, str, str, str]:
        title, code, base = CATALOG[(_digest("catalog", self.order_id)[0] + index) % len(CATALOG)]
        return "B0" + _digits(_digest("asin", title), 8), title, code, base

    # Shipping ------------------------------------------------------------------------------------
    def package(
        self, number: int, carrier_index: int, items: list[dict[str, Any]], status: str
    ) -> dict[str, Any]:
        carrier, domestic, international, style = self.setup.carriers[carrier_index]
        ship_time = self.created + timedelta(days=1, hours=number)
        seed = _digest("tracking", self.order_id, str(number))
        tracking = {
            "dhl": "00340434" + _digits(seed, 12),
            "ups": "1Z" + _digits(seed[:8], 6) + "03" + _digits(seed[8:], 8),
            "usps": "9400" + _digits(seed, 18),
            "ems": "EN" + _digits(seed, 9) + "JP",
        }.get(style, _digits(seed, 12))
        detailed = {
            "DELIVERED": "DELIVERED",
            "IN_TRANSIT": "OUT_FOR_DELIVERY" if number == 1 else "PICKED_UP",
        }
        return {
            "packageReferenceId": str(number),
            "createdTime": _iso(ship_time - timedelta(hours=2)),
            "packageStatus": {"status": status, "detailedStatus": detailed[status]},
            "carrier": carrier,
            "shipTime": _iso(ship_time),
            "shippingService": international if self.international else domestic,
            "trackingNumber": tracking,
            "shipFromAddress": dict(self.setup.warehouse),
            "packageItems": [
                {"orderItemId": item["orderItemId"], "quantity": item["fulfillment"]["quantityFulfilled"]}
                for item in items
            ],
        }

    def windows(self, ship_days: int, deliver_days: tuple[int, int], merchant: bool) -> dict[str, Any]:
        fulfillment: dict[str, Any] = {}
        if merchant:
            fulfillment["shipByWindow"] = {
                "earliestDateTime": _iso(self.created),
                "latestDateTime": _iso(self.created + timedelta(days=ship_days)),
            }
        fulfillment["deliverByWindow"] = {
            "earliestDateTime": _iso(self.created + timedelta(days=deliver_days[0])),
            "latestDateTime": _iso(self.created + timedelta(days=deliver_days[1])),
        }
        return fulfillment

    # The order ----------------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        kind = self.kind
        status = {
            "shipped": "SHIPPED",
            "unshipped": "UNSHIPPED",
            "partially-shipped": "PARTIALLY_SHIPPED",
            "pending": "PENDING",
            "cancelled": "CANCELLED",
            "fba": "SHIPPED",
            "business": "SHIPPED",
            "multi-item": "SHIPPED",
            "replacement": "UNSHIPPED",
        }[kind]
        merchant = kind != "fba"
        level = {"unshipped": "NEXT_DAY", "fba": "EXPEDITED"}.get(kind, "STANDARD")
        programs: list[str] = []
        associated: list[dict[str, str]] = []
        buyer: dict[str, str] = {"buyerName": self.buyer_name()}
        company = ""
        packages: list[dict[str, Any]] = []
        extra: dict[str, Any] = {}
        preference: dict[str, Any] | None = None

        if kind == "shipped":
            first = self.item(self.mail_product(), 1, shipped=1, discount=self.price("3.00"))
            first["promotion"] = {"breakdowns": [{"promotionId": PROMOTIONS[self.region]}]}
            first["product"]["customization"] = {
                "customizedUrl": f"https://zme-caps.amazon.com/t/{_digits(_digest('custom', self.order_id), 10)}/customization.zip"
            }
            items = [first]
            packages = [self.package(1, 0, items, "DELIVERED")]
            fulfillment = self.windows(2, (3, 5), merchant)
        elif kind == "unshipped":
            first = self.item(self.mail_product(), 1, shipping=False)
            first["fulfillment"]["packing"] = {
                "giftOption": {
                    "giftMessage": "Happy birthday! Enjoy it. Love, Sam",
                    "giftWrapLevel": "Classic",
                }
            }
            items = [first]
            programs = ["PRIME"]
            fulfillment = self.windows(1, (1, 2), merchant)
        elif kind == "partially-shipped":
            items = [
                self.item(self.mail_product(), 1, shipped=1),
                self.item(self.catalog_product(0), 2, shipped=0, shipping=False),
            ]
            packages = [self.package(1, 0, items[:1], "IN_TRANSIT")]
            fulfillment = self.windows(2, (3, 6), merchant)
        elif kind == "pending":
            items = [self.item(self.mail_product(), 1, priced=False)]
            fulfillment = {}
            if self.currency == "JPY":
                # Konbini payment: the order waits in Pending until the buyer pays at the store.
                extra["payment"] = {
                    "paymentExecutions": [
                        {
                            "paymentMethod": "ConvenienceStore",
                            "paymentAmount": self.money(self.price(self.mail_product()[3])),
                        }
                    ]
                }
        elif kind == "cancelled":
            first = self.item(self.mail_product(), 1, priced=False)
            first["fulfillment"] = {"quantityFulfilled": 0, "quantityUnfulfilled": 0}
            first["cancellation"] = {
                "cancellationRequest": {"requester": "BUYER", "cancelReason": "Ordered by mistake"},
                "cancellationExecution": {
                    "cancelledBy": "MERCHANT",
                    "cancelReason": "Buyer requested cancellation",
                },
            }
            items = [first]
            fulfillment = {}
        elif kind == "fba":
            items = [
                self.item(self.mail_product(), 1, shipped=1, shipping=False),
                self.item(self.catalog_product(2), 1, shipped=1, shipping=False),
            ]
            programs = ["PRIME"]
            fulfillment = self.windows(0, (1, 2), merchant)
        elif kind == "business":
            company, vat = BUSINESSES[self.country]
            buyer |= {
                "buyerCompanyName": company,
                "buyerPurchaseOrderNumber": f"PO-{_digits(_digest('po', self.order_id), 5)}",
            }
            first = self.item(self.mail_product(), 10, shipped=10, business=True, shipping=False)
            first["fulfillment"]["shipping"] = {"shippingConstraints": {"signatureConfirmation": "MANDATORY"}}
            items = [first]
            programs = ["AMAZON_BUSINESS"]
            packages = [self.package(1, 0, items, "DELIVERED")]
            fulfillment = self.windows(2, (3, 5), merchant)
            hours = [
                {
                    "dayOfWeek": day,
                    "timeWindows": [
                        {"startTime": {"hour": 9, "minute": 0}, "endTime": {"hour": 17, "minute": 0}}
                    ],
                }
                for day in ("MON", "TUE", "WED", "THU", "FRI")
            ]
            preference = {
                "dropOffLocation": "Reception",
                "addressInstruction": "Deliveries at the front desk, ground floor.",
                "deliveryTime": {"businessHours": hours},
            }
            if vat:
                extra["tax"] = {
                    "taxRegistrations": [
                        {
                            "entityType": "BUYER",
                            "legalName": company,
                            "taxRegistrationType": "VAT",
                            "taxRegistrationNumber": vat,
                        }
                    ]
                }
        elif kind == "multi-item":
            items = [
                self.item(self.mail_product(), 1, shipped=1),
                self.item(self.catalog_product(0), 2, shipped=2, shipping=False),
                self.item(self.catalog_product(1), 1, shipped=1, shipping=False),
            ]
            packages = [
                self.package(1, 0, items[:2], "DELIVERED"),
                self.package(2, 1, items[2:], "IN_TRANSIT"),
            ]
            fulfillment = self.windows(2, (4, 9), merchant)
        else:  # replacement
            items = [self.item(self.mail_product(), 1, free=True)]
            associated = [
                {
                    "orderId": order_id_for(self.seller_id, "shipped"),
                    "associationType": "REPLACEMENT_ORIGINAL_ID",
                }
            ]
            fulfillment = self.windows(2, (3, 5), merchant)

        fulfillment["fulfillmentServiceLevel"] = level
        recipient: dict[str, Any] = {"deliveryAddress": self.delivery_address(company)}
        if preference:
            recipient["deliveryPreference"] = preference
        details: dict[str, Any] = {
            "programs": programs,
            "associatedOrders": associated,
            "buyer": buyer,
            "recipient": recipient,
            "fulfillment": fulfillment,
            "orderItems": items,
            **extra,
        }
        if merchant:
            details["orderAliases"] = [
                {
                    "aliasId": f"{self.setup.sku_prefix}-{_digits(_digest('alias', self.order_id), 6)}",
                    "aliasType": "SELLER_ORDER_ID",
                }
            ]
        if packages:
            details["packages"] = packages
        priced = [item["proceeds"] for item in items if "proceeds" in item]
        if priced:
            details["proceeds"] = self._order_proceeds(priced)
        details["v0"] = self._v0(level, merchant)
        return {
            "marketplace_id": self.marketplace.id,
            "created_time": self.created,
            "last_updated_time": self.updated,
            "fulfillment_status": status,
            "fulfilled_by": "MERCHANT" if merchant else "AMAZON",
            "buyer_email": mail.buyer_alias(self.seller_id, self.buyer_order, self.marketplace),
            "details": details,
        }

    def _order_proceeds(self, item_proceeds: list[dict[str, Any]]) -> dict[str, Any]:
        totals: dict[str, Decimal] = {}
        for proceeds in item_proceeds:
            for breakdown in proceeds["breakdowns"]:
                kind = breakdown["type"]
                totals[kind] = totals.get(kind, Decimal(0)) + Decimal(breakdown["subtotal"]["amount"])
        grand = sum(Decimal(p["proceedsTotal"]["amount"]) for p in item_proceeds)
        return {
            "grandTotal": self.money(Decimal(grand)),
            "breakdowns": [{"type": kind, "subtotal": self.money(amount)} for kind, amount in totals.items()],
        }

    def _v0(self, level: str, merchant: bool) -> dict[str, Any]:
        """What only Orders v0 reports: its service-level name, payment method and ship-from address."""
        code = ADDRESS_COUNTRY.get(self.country, self.country)
        if merchant:
            reach = "Intl" if self.international else "Dom"
            service = {"NEXT_DAY": f"NextDay {code} {reach}", "EXPEDITED": f"Exp {code} {reach}"}.get(
                level, f"Std {code} {reach}"
            )
        else:
            service = {"EXPEDITED": "Expedited"}.get(level, "Standard")
        convenience = self.kind == "pending" and self.currency == "JPY"
        return {
            "shipServiceLevel": service,
            "paymentMethod": "CVS" if convenience else "Other",
            "paymentMethodDetails": ["ConvenienceStore"] if convenience else ["Standard"],
        }


def seed_sandbox_orders(apps: Any = None) -> list[str]:
    """Create or refresh every sandbox seller's orders (the sellers must be seeded: seed.py's
    seed_sandbox_amazon does both); returns their ids.

    `apps` is a migration's app registry when a data migration calls this."""
    registry = apps or global_apps
    Seller = registry.get_model("sandbox", "SandboxSeller")
    Order = registry.get_model("sandbox", "SandboxOrder")
    now = timezone.now().replace(microsecond=0)
    seeded: list[str] = []
    with transaction.atomic():
        for spec in SELLERS:
            seller = Seller.objects.filter(selling_partner_id=spec.selling_partner_id).first()
            if seller is None:
                raise LookupError(
                    f"sandbox seller {spec.selling_partner_id} is not seeded; seed the sellers first"
                )
            for kind in KINDS:
                order_id = order_id_for(spec.selling_partner_id, kind)
                existing = (
                    Order.objects.filter(order_id=order_id).values_list("created_time", flat=True).first()
                )
                anchor = existing + AGES[kind][0] if existing else now
                fields = _Order(spec, kind, anchor).build()
                Order.objects.update_or_create(order_id=order_id, defaults={"seller": seller, **fields})
                seeded.append(order_id)
    return seeded


def seeded_order_kinds(selling_partner_id: str) -> dict[str, tuple[str, ...]]:
    """Order id -> what it covers (KINDS), for a seeded seller."""
    return {order_id_for(selling_partner_id, kind): covers for kind, covers in KINDS.items()}


def sandbox_order_ids(selling_partner_id: str) -> list[str]:
    """The seller's seeded orders present in this installation, shipped one first (KINDS order)."""
    if selling_partner_id not in SETUPS:
        return []
    Order = global_apps.get_model("sandbox", "SandboxOrder")
    ids = [order_id_for(selling_partner_id, kind) for kind in KINDS]
    present = set(
        Order.objects.filter(seller__selling_partner_id=selling_partner_id, order_id__in=ids).values_list(
            "order_id", flat=True
        )
    )
    return [order_id for order_id in ids if order_id in present]
