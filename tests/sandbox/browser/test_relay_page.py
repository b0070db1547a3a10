"""The sandbox relay's mailbox page in Chromium at phone width: a delivered and a refused message."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from deskbridge.sandbox.amazon.models import SandboxRelayMessage
from tests.e2e.conftest import PHONE
from tests.sandbox.browser.test_phone import assert_fits

ALIAS = "th6wqr1vf6dr43fverylongalias+133a066e@marketplace.amazon.com"
SELLER = "customer-service.north-america@harbour-lights-trading-company.example.com"


def stored(status: str, text: str, **fields: str) -> SandboxRelayMessage:
    raw = (
        f"From: Shop <{SELLER}>\r\nTo: {ALIAS}\r\nSubject: Re: Shipping inquiry from Amazon customer Emily "
        f"(Order: 113-4567890-1234567)\r\nMessage-ID: <r-{status}@example.com>\r\n\r\n{text}\r\n"
    ).encode()
    return SandboxRelayMessage.objects.create(
        mail_from=SELLER,
        rcpt_to=ALIAS,
        raw=raw,
        subject="Re: Shipping inquiry from Amazon customer Emily (Order: 113-4567890-1234567)",
        selling_partner_id="A2SNDBXNA00001",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        **fields,
    )


@pytest.mark.browser
def test_the_buyers_mailbox_fits_a_phone(page: Page, sandbox_live: str) -> None:
    stored(
        "delivered",
        "Your parcel left our warehouse today; https://www.amazon.com/gp/your-account/order-history",
    )
    stored(
        "refused",
        "Call us on +1 206 555 0142.",
        reason="content_rejected",
        detail="It contains a telephone number.",
        notice_to=SELLER,
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{sandbox_live}/sandbox/amazon/relay/")

    expect(page.get_by_role("heading", name="Buyers' mailbox")).to_be_visible()
    expect(page.locator(".badge", has_text="Delivered")).to_be_visible()
    expect(page.get_by_text("The content is not allowed: It contains a telephone number.")).to_be_visible()
    expect(page.get_by_text("Your parcel left our warehouse today")).to_be_visible()
    assert_fits(page, "relay-mailbox")
