"""check_reply: Amazon's content rules on an agent's reply (amazon.md §13.3), and ReplyPolicy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskbridge.amazon.models import ReplyPolicy
from deskbridge.amazon.relay import DEFAULT_POLICY, RULE_DESCRIPTIONS, attachment_findings, check_reply

HELPDESKS = Path(__file__).resolve().parents[1] / "data" / "helpdesks"


def found(text: str, policy=DEFAULT_POLICY) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, f.excerpt) for f in check_reply(text, policy)]


def rules(text: str) -> set[str]:
    return {f.rule for f in check_reply(text, DEFAULT_POLICY)}


def test_defaults_follow_amazons_rules():
    assert DEFAULT_POLICY == {
        "email_address": "block",
        "phone_number": "block",
        "external_link": "block",
        "tracking_link": "warn",
        "marketing": "block",
        "emoji": "warn",
    }
    assert set(DEFAULT_POLICY) <= set(RULE_DESCRIPTIONS)


@pytest.mark.parametrize(
    "text",
    [
        json.loads((HELPDESKS / "zendesk" / "webhook-agent-reply.json").read_text())["latest_public_comment"],
        json.loads((HELPDESKS / "kustomer" / "webhook-agent-reply.json").read_text())["data"]["attributes"][
            "preview"
        ],
        json.loads((HELPDESKS / "gorgias" / "internal-note.request.json").read_text())["body_text"],
        "Hi Jane,\n\nThank you for your message. We will review your case and refund you today.\n\nBest regards,\nAnna",
        "Sehr geehrte Frau Doe, Ihr Ersatz wurde heute verschickt. Mit freundlichen Grüßen",
    ],
)
def test_ordinary_replies_pass(text):
    assert found(text) == []


# --- email addresses ------------------------------------------------------------------------------


def test_email_addresses_block():
    assert found("Write to shop@example.com or shop [at] example [dot] com") == [
        ("email_address", "block", "shop@example.com"),
        ("email_address", "block", "shop [at] example [dot] com"),
    ]


def test_the_domain_of_an_address_is_not_also_a_link():
    assert rules("mail service@myshop.com") == {"email_address"}


# --- phone numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Call us at +49 30 1234567.", "+49 30 1234567"),
        ("Our hotline: (555) 123-4567", "(555) 123-4567"),
        ("Ruf an: 0171 1234567", "0171 1234567"),
        ("Tel. 01711234567", "01711234567"),
        ("電話 03-1234-5678", "03-1234-5678"),
        ("Appelez le 01 23 45 67 89", "01 23 45 67 89"),
        ("call 0049 30 1234567", "0049 30 1234567"),
    ],
)
def test_phone_numbers_are_found(text, number):
    assert found(text) == [("phone_number", "block", number)]


@pytest.mark.parametrize(
    "text",
    [
        "Your order 111-2222222-3333333 has shipped.",  # order id (3-7-7)
        "Bestellung 303-1234567-1234567",
        "ASIN B07KZMTTD2, book ASIN 3453435788",  # ASINs, also all-digit (ISBN-10) ones
        "Shipped on 2026-10-18, arrives 21.10.2026 or 10/21/2026, returns 2019-2023",  # dates
        "Total $1,299.00, or 1.299,00 €, or EUR 24.99, refund 1299,00 zł",  # prices
        "Tracking: 1Z999AA10123456784",  # UPS
        "Tracking number 9400 1000 0000 0000 0000 00",  # USPS
        "Sendungsnummer: 00340434161094042557",  # DHL parcel
        "DHL Express waybill JJD 0001 2345 6789",
        "FedEx 123456789012 and DHL 1234567890",
        "Invoice 2026 0001 2345",
        json.loads((HELPDESKS / "gorgias" / "internal-note.request.json").read_text())["body_text"],
    ],
)
def test_order_ids_asins_dates_prices_and_tracking_numbers_are_not_phone_numbers(text):
    assert "phone_number" not in rules(text)


# --- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://www.amazon.de/gp/css/order-history",
        "https://sellercentral-europe.amazon.com/messaging",
        "https://www.amazon.co.jp/gp/help",
        "https://www.amazon.com.tr/x",
        "http://www.amazon.com/gp/help/customer/display.html?nodeId=551434",
        "https://amzn.eu/d/abc",
        "amazon.fr",
    ],
)
def test_amazon_links_of_every_marketplace_pass(link):
    assert found(f"See {link} for details.") == []


@pytest.mark.parametrize(
    "link",
    ["https://myshop.com/help", "http://myshop.de", "www.myshop.com", "myshop.co.uk/returns", "https://amazon.de.evil.example/x",
     "https://evil.example/?u=https://www.amazon.de"],
)  # fmt: skip
def test_other_links_block(link):
    assert [f[0:2] for f in found(f"See {link} please")] == [("external_link", "block")]


def test_secure_carrier_tracking_links_are_their_own_warning():
    assert found(
        "Track it: https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=0034"
    ) == [
        (
            "tracking_link",
            "warn",
            "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=0034",
        )
    ]
    assert found("https://www.ups.com/track?tracknum=1Z999AA10123456784")[0][:2] == ("tracking_link", "warn")


def test_an_insecure_carrier_link_is_an_external_link():
    assert found("http://www.ups.com/track?tracknum=1Z9")[0][:2] == ("external_link", "block")


def test_link_after_html_conversion_is_caught():
    from deskbridge.mail.quotes import strip_quoted

    text = strip_quoted(html='<p>Please see <a href="https://myshop.example.com/faq">our FAQ</a>.</p>')
    assert rules(text) == {"external_link"}


# --- marketing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Please leave us a 5-star review!",
        "Would you leave positive feedback?",
        "Use coupon SAVE10 for 10% off your next order",
        "Bitte hinterlassen Sie eine positive Bewertung, wir schenken Ihnen einen Gutschein",
        "Pourriez-vous laisser un avis ? Code promo : MERCI",
        "Ci lasci una recensione positiva, 5 stelle",
        "¿Puede dejar una reseña? Cupón de 10 % de descuento",
        "Deixe uma avaliação positiva, cupom VOLTA",
        "Wilt u een positieve recensie achterlaten? Kortingscode: DANK",
        "Lämna gärna ett positivt omdöme, rabattkod TACK",
        "Prosimy, wystaw opinię – pięć gwiazdek",
        "Lütfen olumlu yorum bırakın, indirim kodu: TESEKKUR",
        "يرجى ترك تقييم إيجابي، كود خصم",
        "レビューをお願いします。星5つ",
        "请给我们好评，五星",
    ],
)
def test_marketing_blocks_in_the_marketplaces_languages(text):
    results = found(text)
    assert results and {r[:2] for r in results if r[0] == "marketing"} == {("marketing", "block")}


@pytest.mark.parametrize(
    "text",
    ["We will review your case today.", "For corporate use we ship to offices.", "The stars on the box are printed.",
     "Please rate the size as you like.", "Wir prüfen Ihre Anfrage."],
)  # fmt: skip
def test_ordinary_words_are_not_marketing(text):
    assert "marketing" not in rules(text)


# --- emoji ----------------------------------------------------------------------------------------


def test_emoji_warn():
    assert found("Thanks 😀 see you 👍🏽 :)") == [
        ("emoji", "warn", "😀"),
        ("emoji", "warn", "👍🏽"),
        ("emoji", "warn", ":)"),
    ]


# --- policy ---------------------------------------------------------------------------------------


def test_policy_changes_severity_and_unknown_values_fall_back():
    text = "Call +49 30 1234567 😀"
    assert found(text, {"phone_number": "warn", "emoji": "nonsense"}) == [
        ("phone_number", "warn", "+49 30 1234567"),
        ("emoji", "warn", "😀"),
    ]
    assert found(text, {}) == found(text)


def test_the_same_thing_twice_is_one_finding():
    assert found("a@b.com and a@b.com") == [("email_address", "block", "a@b.com")]


def test_dropped_attachments_become_warnings():
    (finding,) = attachment_findings(["clip.mp4: video cannot be sent through Amazon's relay"])
    assert (finding.rule, finding.severity) == ("attachment", "warn")


# --- ReplyPolicy ----------------------------------------------------------------------------------


def test_rules_for_falls_back_to_the_defaults(tenant):
    assert ReplyPolicy.rules_for(tenant.organisation) == DEFAULT_POLICY
    assert ReplyPolicy.rules_for(None) == DEFAULT_POLICY


def test_rules_for_reads_the_organisations_choices_only(tenant, other_tenant):
    ReplyPolicy.objects.create(
        organisation=tenant.organisation, rules={"phone_number": "warn", "emoji": "off", "made_up": "block"}
    )
    assert ReplyPolicy.rules_for(tenant.organisation) == {**DEFAULT_POLICY, "phone_number": "warn"}
    assert ReplyPolicy.rules_for(other_tenant.organisation) == DEFAULT_POLICY


def test_one_policy_per_organisation(tenant):
    from django.db import IntegrityError, transaction

    ReplyPolicy.objects.create(organisation=tenant.organisation)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplyPolicy.objects.create(organisation=tenant.organisation)


@pytest.mark.parametrize("rules", [{"made_up": "block"}, {"emoji": "off"}, ["emoji"]])
def test_clean_refuses_bad_rules(tenant, rules):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ReplyPolicy(organisation=tenant.organisation, rules=rules).clean()
